//! Replication windows on the tenant clock. A write is accepted at once (the
//! object exists, the write is never lost) but other replicas learn of it only
//! when its window ends; until then reads served elsewhere may not see it. The
//! window's length is a keyed draw on the object, so it does not depend on the
//! order of requests. Windows are in memory only: a saved tenant restarts with
//! every write replicated.

use std::collections::HashMap;

use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::rng::{self, purpose};
use super::settings::Settings;

/// A recent write others may not see yet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Fresh {
    pub visible_at: OffsetDateTime,
    /// Who wrote it: a delegated session sees its own writes.
    pub writer: Uuid,
}

/// Claims a principal's new tokens keep until `until`: what they were before
/// a change of consent or roles reached every replica.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StaleClaims {
    pub roles: Vec<String>,
    pub wids: Vec<Uuid>,
    pub until: OffsetDateTime,
}

/// A change of delegated consent not yet in new tokens.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ScopeChange {
    pub client: Uuid,
    /// The user it is for; `None` for consent on behalf of all users.
    pub user: Option<Uuid>,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub until: OffsetDateTime,
}

/// Beyond this many entries, expired ones are swept on the next insert.
const SWEEP_AT: usize = 4096;

#[derive(Debug, Default)]
pub(crate) struct Windows {
    /// Directory objects by id.
    objects: HashMap<Uuid, Fresh>,
    /// Applications by `appId` (the token endpoint and `POST /servicePrincipals`
    /// look them up that way).
    app_ids: HashMap<Uuid, (OffsetDateTime, Uuid)>,
    /// Secrets and certificates by `keyId`.
    credentials: HashMap<Uuid, OffsetDateTime>,
    claims: HashMap<Uuid, StaleClaims>,
    scopes: Vec<ScopeChange>,
}

/// The window length for `key` under `settings`.
pub(crate) fn window(settings: &Settings, purpose: u64, key: &Uuid, lo: f64, hi: f64) -> Duration {
    let u = rng::unit(rng::keyed(settings.seed, purpose, key.as_bytes()));
    Duration::seconds_f64(rng::between(lo, hi, u))
}

fn sweep<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, V>, now: OffsetDateTime, end: impl Fn(&V) -> OffsetDateTime) {
    if map.len() >= SWEEP_AT {
        map.retain(|_, v| end(v) > now);
    }
}

impl Windows {
    pub(crate) fn replication(settings: &Settings, key: &Uuid) -> Duration {
        window(settings, purpose::REPLICATION, key, settings.replication_min_seconds, settings.replication_max_seconds)
    }

    pub(crate) fn created(&mut self, settings: &Settings, id: Uuid, writer: Uuid, now: OffsetDateTime) {
        sweep(&mut self.objects, now, |f| f.visible_at);
        let visible_at = now + Self::replication(settings, &id);
        if visible_at > now {
            self.objects.insert(id, Fresh { visible_at, writer });
        }
    }

    pub(crate) fn application_created(
        &mut self,
        settings: &Settings,
        id: Uuid,
        app_id: Uuid,
        writer: Uuid,
        now: OffsetDateTime,
    ) {
        self.created(settings, id, writer, now);
        sweep(&mut self.app_ids, now, |t| t.0);
        // The appId replicates with its object: one window for both.
        let visible_at = now + Self::replication(settings, &id);
        if visible_at > now {
            self.app_ids.insert(app_id, (visible_at, id));
        }
    }

    pub(crate) fn credential_added(&mut self, settings: &Settings, key_id: Uuid, now: OffsetDateTime) {
        sweep(&mut self.credentials, now, |t| *t);
        let visible_at = now + Self::replication(settings, &key_id);
        if visible_at > now {
            self.credentials.insert(key_id, visible_at);
        }
    }

    /// The object's window, if it is still open.
    pub(crate) fn fresh(&self, id: &Uuid, now: OffsetDateTime) -> Option<Fresh> {
        self.objects.get(id).copied().filter(|f| f.visible_at > now)
    }

    /// The object id of an application whose `appId` has not replicated yet.
    pub(crate) fn fresh_app_id(&self, app_id: &Uuid, now: OffsetDateTime) -> Option<Uuid> {
        self.app_ids.get(app_id).filter(|t| t.0 > now).map(|t| t.1)
    }

    pub(crate) fn credential_fresh(&self, key_id: &Uuid, now: OffsetDateTime) -> bool {
        self.credentials.get(key_id).is_some_and(|t| *t > now)
    }

    /// A change to `principal`'s roles: its tokens keep `before` for the
    /// propagation window. A change inside an open window extends it and keeps
    /// the older claims (nothing newer has propagated yet).
    pub(crate) fn claims_changed(
        &mut self,
        settings: &Settings,
        principal: Uuid,
        before: (Vec<String>, Vec<Uuid>),
        now: OffsetDateTime,
    ) {
        sweep(&mut self.claims, now, |c| c.until);
        let lo = settings.token_propagation_min_seconds;
        let hi = settings.token_propagation_max_seconds;
        let until = now + window(settings, purpose::TOKEN_PROPAGATION, &principal, lo, hi);
        if until <= now {
            return;
        }
        match self.claims.get_mut(&principal) {
            Some(open) if open.until > now => open.until = open.until.max(until),
            _ => {
                self.claims.insert(principal, StaleClaims { roles: before.0, wids: before.1, until });
            }
        }
    }

    pub(crate) fn scopes_changed(&mut self, settings: &Settings, change: ScopeChange, now: OffsetDateTime) {
        self.scopes.retain(|c| c.until > now);
        let lo = settings.token_propagation_min_seconds;
        let hi = settings.token_propagation_max_seconds;
        let until = now + window(settings, purpose::TOKEN_PROPAGATION, &change.client, lo, hi);
        if until > now && (!change.added.is_empty() || !change.removed.is_empty()) {
            self.scopes.push(ScopeChange { until, ..change });
        }
    }

    pub(crate) fn stale_claims(&self, principal: &Uuid, now: OffsetDateTime) -> Option<&StaleClaims> {
        self.claims.get(principal).filter(|c| c.until > now)
    }

    /// `scp` as a token issued now carries it: consent given inside the window
    /// not yet there, consent withdrawn inside it still there.
    pub(crate) fn lag_scopes(&self, client: Uuid, user: Uuid, scp: &str, now: OffsetDateTime) -> String {
        let mut scopes: Vec<String> = scp.split_whitespace().map(str::to_owned).collect();
        for c in self.scopes.iter().filter(|c| c.until > now && c.client == client && c.user.is_none_or(|u| u == user))
        {
            scopes.retain(|s| !c.added.iter().any(|a| a.eq_ignore_ascii_case(s)));
            for r in &c.removed {
                if !scopes.iter().any(|s| s.eq_ignore_ascii_case(r)) {
                    scopes.push(r.clone());
                }
            }
        }
        scopes.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realism::settings::Profile;
    use time::macros::datetime;

    const AT: OffsetDateTime = datetime!(2026-03-02 10:00 UTC);

    #[test]
    fn a_created_object_is_fresh_inside_its_window_only() {
        let s = Settings::of(Profile::Entra, 7);
        let mut w = Windows::default();
        let id = Uuid::from_u128(1);
        w.created(&s, id, Uuid::nil(), AT);
        let len = Windows::replication(&s, &id);
        assert!(len >= Duration::seconds(1) && len <= Duration::seconds(10), "{len}");
        assert!(w.fresh(&id, AT).is_some());
        assert!(w.fresh(&id, AT + len - Duration::milliseconds(1)).is_some());
        assert!(w.fresh(&id, AT + len).is_none(), "visible once the window ends");
    }

    #[test]
    fn window_lengths_are_decided_by_seed_and_object_not_by_order() {
        let s = Settings::of(Profile::Entra, 7);
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        assert_eq!(Windows::replication(&s, &a), Windows::replication(&s, &a));
        assert_ne!(Windows::replication(&s, &a), Windows::replication(&s, &b));
        let other = Settings::of(Profile::Entra, 8);
        assert_ne!(Windows::replication(&s, &a), Windows::replication(&other, &a));
    }

    #[test]
    fn off_opens_no_window() {
        let s = Settings::of(Profile::Off, 7);
        let mut w = Windows::default();
        w.created(&s, Uuid::from_u128(1), Uuid::nil(), AT);
        w.claims_changed(&s, Uuid::from_u128(1), (vec![], vec![]), AT);
        assert!(w.fresh(&Uuid::from_u128(1), AT).is_none());
        assert!(w.stale_claims(&Uuid::from_u128(1), AT).is_none());
    }

    #[test]
    fn stale_claims_keep_the_oldest_snapshot_while_the_window_is_open() {
        let s = Settings::of(Profile::Entra, 7);
        let mut w = Windows::default();
        let p = Uuid::from_u128(9);
        w.claims_changed(&s, p, (vec!["A".into()], vec![]), AT);
        w.claims_changed(&s, p, (vec!["A".into(), "B".into()], vec![]), AT + Duration::seconds(1));
        assert_eq!(w.stale_claims(&p, AT + Duration::seconds(2)).map(|c| c.roles.clone()), Some(vec!["A".to_owned()]));
        assert!(w.stale_claims(&p, AT + Duration::seconds(200)).is_none());
    }

    #[test]
    fn scope_changes_hide_new_consent_and_keep_withdrawn_consent() {
        let s = Settings::of(Profile::Entra, 7);
        let mut w = Windows::default();
        let (client, user) = (Uuid::from_u128(1), Uuid::from_u128(2));
        w.scopes_changed(
            &s,
            ScopeChange {
                client,
                user: None,
                added: vec!["Mail.Read".into()],
                removed: vec!["Files.Read".into()],
                until: AT,
            },
            AT,
        );
        assert_eq!(w.lag_scopes(client, user, "User.Read Mail.Read", AT), "User.Read Files.Read");
        assert_eq!(w.lag_scopes(Uuid::from_u128(3), user, "Mail.Read", AT), "Mail.Read", "another client");
        assert_eq!(w.lag_scopes(client, user, "Mail.Read", AT + Duration::seconds(300)), "Mail.Read");
    }
}
