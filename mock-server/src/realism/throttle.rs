//! Graph's identity-and-access throttling: token buckets of resource units per
//! application and tenant (the budget by tenant size), a write quota per
//! application and tenant, and a write quota per tenant. A request is charged
//! its cost if every bucket it draws on has it; otherwise it is refused with
//! the time until the emptiest bucket refills enough, and charged nothing.

use std::collections::HashMap;

use time::OffsetDateTime;
use uuid::Uuid;

use super::settings::{Settings, TenantSize};

/// A token bucket on the tenant clock.
#[derive(Debug, Clone)]
pub(crate) struct Bucket {
    capacity: f64,
    per_second: f64,
    tokens: f64,
    at: OffsetDateTime,
}

impl Bucket {
    pub(crate) fn new(capacity: u32, window_seconds: f64, now: OffsetDateTime) -> Self {
        let capacity = f64::from(capacity);
        Bucket { capacity, per_second: capacity / window_seconds, tokens: capacity, at: now }
    }

    fn refill(&mut self, now: OffsetDateTime) {
        let elapsed = (now - self.at).as_seconds_f64();
        if elapsed > 0.0 {
            self.tokens = (self.tokens + elapsed * self.per_second).min(self.capacity);
            self.at = now;
        }
    }

    /// Seconds until `cost` is available (0 when it is now).
    fn wait_for(&self, cost: f64) -> f64 {
        if self.tokens >= cost {
            0.0
        } else {
            (cost.min(self.capacity) - self.tokens) / self.per_second
        }
    }

    /// The share of the budget in use, 0 to 1.
    fn used(&self) -> f64 {
        1.0 - self.tokens / self.capacity
    }

    fn resize(&mut self, capacity: u32, window_seconds: f64) {
        let capacity = f64::from(capacity);
        if capacity != self.capacity {
            self.tokens = (self.tokens / self.capacity * capacity).min(capacity);
            self.capacity = capacity;
            self.per_second = capacity / window_seconds;
        }
    }
}

/// What a request costs: resource units, and whether it is a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cost {
    pub units: u32,
    pub write: bool,
}

/// The cost of a Graph request, from Graph's table of base costs per path
/// (anything not listed is 1), adjusted by its query options: `$select` −1,
/// `$expand` +1, `$top` under 20 −1, never below 1. `segments` are the
/// decoded path after the version, without empty ones.
pub(crate) fn cost(method: &str, segments: &[&str], query: &[(String, String)]) -> Cost {
    let write = !matches!(method, "GET" | "HEAD");
    let key = |i: usize| segments.get(i).copied().unwrap_or("");
    let base: i64 = if method == "GET" {
        match (segments.len(), key(0), key(2)) {
            (1, "applications", _) | (1, "users", _) | (1, "oauth2PermissionGrants", _) => 2,
            (2, "oauth2PermissionGrants", _) => 2,
            (3, "applications", "extensionProperties") => 2,
            (3, "servicePrincipals", "appRoleAssignments") => 2,
            (3, "groups", "members") => 3,
            (3, "groups", "transitiveMembers") => 5,
            (1, "subscribedSkus", _) => 3,
            (3, "users", "licenseDetails" | "memberOf" | "ownedObjects" | "transitiveMemberOf") => 2,
            _ => 1,
        }
    } else {
        1
    };
    let has = |name: &str| query.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
    let mut units = base;
    if has("$select") {
        units -= 1;
    }
    if has("$expand") {
        units += 1;
    }
    let small_top = query
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("$top"))
        .and_then(|(_, v)| v.trim().parse::<u32>().ok())
        .is_some_and(|top| top < 20);
    if small_top {
        units -= 1;
    }
    Cost { units: units.max(1) as u32, write }
}

/// Which limit refused a request: `x-ms-throttle-scope`'s first two parts and
/// `x-ms-throttle-information`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limit {
    ResourceUnits,
    AppWrites,
    TenantWrites,
}

impl Limit {
    pub(crate) fn scope(self) -> &'static str {
        match self {
            Limit::ResourceUnits => "Tenant_Application/ReadWrite",
            Limit::AppWrites => "Tenant_Application/Write",
            Limit::TenantWrites => "Tenant/Write",
        }
    }

    pub(crate) fn information(self) -> &'static str {
        match self {
            Limit::ResourceUnits => "ResourceUnitLimitExceeded",
            Limit::AppWrites | Limit::TenantWrites => "WriteLimitExceeded",
        }
    }
}

/// The outcome for one request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Decision {
    /// Charged; `used` is the largest share in use of any bucket it drew on.
    Allowed { units: u32, used: f64 },
    /// Refused: the limit, and seconds until the request would fit.
    Throttled { limit: Limit, retry_after: f64 },
}

/// The resource-unit budget per 10 s for a tenant of `users` users.
pub(crate) fn read_budget(settings: &Settings, users: usize) -> u32 {
    if let Some(units) = settings.read_units_per10s {
        return units;
    }
    let size = match settings.tenant_size {
        TenantSize::Auto if users < 50 => TenantSize::Small,
        TenantSize::Auto if users <= 500 => TenantSize::Medium,
        TenantSize::Auto => TenantSize::Large,
        s => s,
    };
    match size {
        TenantSize::Small => 3500,
        TenantSize::Medium => 5000,
        _ => 8000,
    }
}

#[derive(Debug, Clone)]
struct AppBuckets {
    units: Bucket,
    writes: Bucket,
}

/// A tenant's buckets.
#[derive(Debug, Default)]
pub(crate) struct Throttle {
    apps: HashMap<Uuid, AppBuckets>,
    tenant_writes: Option<Bucket>,
}

impl Throttle {
    /// Charge `cost` to `app`, or refuse it.
    pub(crate) fn charge(
        &mut self,
        settings: &Settings,
        app: Uuid,
        cost: Cost,
        users: usize,
        now: OffsetDateTime,
    ) -> Decision {
        let budget = read_budget(settings, users);
        let app_buckets = self.apps.entry(app).or_insert_with(|| AppBuckets {
            units: Bucket::new(budget, 10.0, now),
            writes: Bucket::new(settings.write_quota_per150s, 150.0, now),
        });
        app_buckets.units.resize(budget, 10.0);
        app_buckets.writes.resize(settings.write_quota_per150s, 150.0);
        let tenant =
            self.tenant_writes.get_or_insert_with(|| Bucket::new(settings.tenant_write_quota_per300s, 300.0, now));
        tenant.resize(settings.tenant_write_quota_per300s, 300.0);
        app_buckets.units.refill(now);
        app_buckets.writes.refill(now);
        tenant.refill(now);
        let units = f64::from(cost.units);
        let mut refusals = vec![(Limit::ResourceUnits, app_buckets.units.wait_for(units))];
        if cost.write {
            refusals.push((Limit::AppWrites, app_buckets.writes.wait_for(1.0)));
            refusals.push((Limit::TenantWrites, tenant.wait_for(1.0)));
        }
        let worst = refusals.into_iter().fold((Limit::ResourceUnits, 0.0f64), |a, b| if b.1 > a.1 { b } else { a });
        if worst.1 > 0.0 {
            return Decision::Throttled { limit: worst.0, retry_after: worst.1 };
        }
        app_buckets.units.tokens -= units;
        let mut used = app_buckets.units.used();
        if cost.write {
            app_buckets.writes.tokens -= 1.0;
            tenant.tokens -= 1.0;
            used = used.max(app_buckets.writes.used()).max(tenant.used());
        }
        Decision::Allowed { units: cost.units, used }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realism::settings::Profile;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn costs_follow_graphs_table_and_query_adjustments() {
        assert_eq!(cost("GET", &["users"], &[]), Cost { units: 2, write: false });
        assert_eq!(cost("GET", &["users"], &q(&[("$select", "id")])), Cost { units: 1, write: false });
        assert_eq!(cost("GET", &["users", "x"], &[]), Cost { units: 1, write: false });
        assert_eq!(cost("GET", &["groups", "g", "members"], &q(&[("$top", "5")])), Cost { units: 2, write: false });
        assert_eq!(cost("GET", &["applications"], &q(&[("$expand", "owners")])), Cost { units: 3, write: false });
        assert_eq!(cost("GET", &["users"], &q(&[("$select", "id"), ("$top", "5")])), Cost { units: 1, write: false });
        assert_eq!(cost("POST", &["users"], &[]), Cost { units: 1, write: true });
        assert_eq!(cost("GET", &["subscribedSkus"], &[]), Cost { units: 3, write: false });
    }

    #[test]
    fn budgets_follow_tenant_size_unless_overridden() {
        let mut s = Settings::of(Profile::Entra, 1);
        assert_eq!([read_budget(&s, 10), read_budget(&s, 50), read_budget(&s, 501)], [3500, 5000, 8000]);
        s.read_units_per10s = Some(100);
        assert_eq!(read_budget(&s, 10_000), 100);
    }

    #[test]
    fn writes_past_the_quota_are_refused_until_the_bucket_refills() {
        let mut s = Settings::of(Profile::Entra, 1);
        s.write_quota_per150s = 3;
        let (mut t, app, at) = (Throttle::default(), Uuid::nil(), time::macros::datetime!(2026-03-02 10:00 UTC));
        let w = Cost { units: 1, write: true };
        for _ in 0..3 {
            assert!(matches!(t.charge(&s, app, w, 10, at), Decision::Allowed { .. }));
        }
        match t.charge(&s, app, w, 10, at) {
            Decision::Throttled { limit, retry_after } => {
                assert_eq!(limit, Limit::AppWrites);
                assert!((retry_after - 50.0).abs() < 1e-9, "one write refills in 150/3 s: {retry_after}");
            }
            d => panic!("expected a refusal, got {d:?}"),
        }
        assert!(
            matches!(t.charge(&s, app, Cost { units: 1, write: false }, 10, at), Decision::Allowed { .. }),
            "reads still fit"
        );
        let later = at + time::Duration::seconds(50);
        assert!(matches!(t.charge(&s, app, w, 10, later), Decision::Allowed { .. }));
    }

    #[test]
    fn the_share_in_use_rises_as_units_are_spent() {
        let mut s = Settings::of(Profile::Entra, 1);
        s.read_units_per10s = Some(10);
        let (mut t, at) = (Throttle::default(), time::macros::datetime!(2026-03-02 10:00 UTC));
        let r = Cost { units: 1, write: false };
        let used: Vec<f64> = (0..9)
            .map(|_| match t.charge(&s, Uuid::nil(), r, 10, at) {
                Decision::Allowed { used, .. } => used,
                d => panic!("{d:?}"),
            })
            .collect();
        assert!((used[8] - 0.9).abs() < 1e-9, "{used:?}");
        assert!(used.windows(2).all(|w| w[1] > w[0]));
    }
}
