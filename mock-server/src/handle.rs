//! The control plane on the handle: what `/_graphbox` offers over HTTP, as typed Rust calls on
//! a [`Graphbox`](crate::Graphbox). Each call runs the same function the control API's handler
//! runs (no HTTP to itself), so the two cannot drift: the clock is journaled and reaches the
//! DirSync machine, faults are validated by the same rules, a reset keeps the bootstrap
//! credentials. Each call that changes the tenant returns once its change is on disk
//! (with `--state`/[`GraphboxBuilder::state_file`](crate::GraphboxBuilder::state_file)).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use graphbox_mock::{Fault, Graphbox};
//!
//! let mock = Graphbox::start().await?;
//! mock.clock().advance(Duration::from_secs(3600))?;
//! mock.faults().set([Fault::new(429, "/v1.0/users").retry_after(Duration::from_secs(2)).times(1)])?;
//! let other = mock.tenants().create();
//! let forked = mock.tenants().get(other.tenant_id).fork()?;
//! for entry in mock.requests() {
//!     println!("{} {} {} -> {}", entry.time, entry.method, entry.path, entry.status);
//! }
//! # let _ = forked; Ok(()) }
//! ```

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::control::ops;
use crate::realism::RealismConfig;
use crate::server::{Graphbox, ReadyInfo};
#[cfg(feature = "sdk")]
use crate::service::Server;
use crate::tenant::{LoggedRequest, Tenant};

/// A control operation the mock refused: the status and message the control API would answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
#[non_exhaustive]
pub struct ControlError {
    /// The HTTP status `/_graphbox` answers for the same call (400, 404, 409).
    pub status: u16,
    /// What to fix.
    pub message: String,
}

impl ControlError {
    pub(crate) fn new(status: u16, message: impl Into<String>) -> Self {
        ControlError { status, message: message.into() }
    }
}

/// One entry of a tenant's request log (`GET /_graphbox/tenants/{tid}/requests`), oldest first;
/// the log keeps the last 1 000.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestLogEntry {
    /// Position in the log, from 1 (the control API's `?after=SEQ` resumes after one).
    pub seq: u64,
    /// The `request-id` the response carried.
    pub request_id: Uuid,
    /// When it arrived, on the tenant's clock.
    pub time: OffsetDateTime,
    /// HTTP method.
    pub method: String,
    /// Path as sent (no query string).
    pub path: String,
    /// The status answered.
    pub status: u16,
    /// Which service answered: `graph`, `identity`, `msol` or `control`.
    pub api: &'static str,
    /// The calling application, when the request carried a valid token (or, at the token
    /// endpoint, the client its form named).
    pub client_id: Option<Uuid>,
    /// The signed-in user of a delegated token.
    pub user_id: Option<Uuid>,
    /// The permission check's decision: the first refusal, else the last operation allowed.
    pub authz: Option<AuthzDecision>,
    /// Refused by the permission check but let through, because the tenant's `authz`
    /// setting is `report-only`.
    pub would_be_forbidden: bool,
}

/// What the permission check decided for one operation of a logged request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthzDecision {
    /// The operation, as the permission catalogue names it (e.g. `users.get`).
    pub operation: &'static str,
    /// The permission that allowed it, or the least-privileged one the caller lacked.
    pub permission: Option<&'static str>,
    /// Whether the caller's token allowed it.
    pub allowed: bool,
}

impl From<&LoggedRequest> for RequestLogEntry {
    /// The one place a log entry becomes public: a field added to the log is added here.
    fn from(r: &LoggedRequest) -> Self {
        RequestLogEntry {
            seq: r.seq,
            request_id: r.request_id,
            time: r.time,
            method: r.method.to_string(),
            path: r.path.to_string(),
            status: r.status,
            api: r.api.name(),
            client_id: r.client_id,
            user_id: r.user_id,
            authz: r.authz.map(|d| AuthzDecision {
                operation: d.operation,
                permission: d.permission,
                allowed: d.allowed,
            }),
            would_be_forbidden: r.would_be_forbidden,
        }
    }
}

/// A scripted failure (`PUT /_graphbox/tenants/{tid}/faults`): requests whose path starts with
/// `path` (and whose method is `method`, when given) are answered `status` in Graph's error
/// envelope, `times` times or until the rules are replaced. 429 and 503 carry `Retry-After`
/// (1 second unless [`Fault::retry_after`] says otherwise).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Fault {
    /// 429, 500, 502, 503 or 504.
    pub status: u16,
    /// Path prefix, e.g. `/v1.0/users`.
    pub path: String,
    /// Method to match; any when `None`.
    pub method: Option<String>,
    /// The `Retry-After` to send.
    pub retry_after: Option<Duration>,
    /// How many matching requests fail; every one when `None`.
    pub times: Option<u32>,
}

impl Fault {
    /// Fail every request under `path` with `status`.
    pub fn new(status: u16, path: impl Into<String>) -> Self {
        Fault { status, path: path.into(), method: None, retry_after: None, times: None }
    }
    /// Only requests with this method.
    #[must_use]
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into());
        self
    }
    /// Send this `Retry-After` (whole seconds on the wire, rounded up by clients).
    #[must_use]
    pub fn retry_after(mut self, wait: Duration) -> Self {
        self.retry_after = Some(wait);
        self
    }
    /// Fail only the first `n` matching requests.
    #[must_use]
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    fn into_rule(self) -> crate::faults::FaultRule {
        crate::faults::FaultRule {
            method: self.method,
            path: self.path,
            status: self.status,
            retry_after_seconds: self.retry_after.map(|d| d.as_secs_f64()),
            times: self.times,
        }
    }

    fn from_rule(rule: crate::faults::FaultRule) -> Self {
        Fault {
            status: rule.status,
            path: rule.path,
            method: rule.method,
            retry_after: rule.retry_after_seconds.and_then(|s| Duration::try_from_secs_f64(s).ok()),
            times: rule.times,
        }
    }
}

/// One tenant's control plane. Every call looks the tenant up again, so a reset or a loaded
/// state is seen by a `TenantControl` made before it.
#[derive(Debug, Clone, Copy)]
pub struct TenantControl<'a> {
    mock: &'a Graphbox,
    id: Uuid,
}

impl<'a> TenantControl<'a> {
    pub(crate) fn new(mock: &'a Graphbox, id: Uuid) -> Self {
        TenantControl { mock, id }
    }

    fn tenant(&self) -> Result<Arc<Tenant>, ControlError> {
        ops::tenant(self.mock.server(), self.id)
    }

    /// The tenant id.
    pub fn id(&self) -> Uuid {
        self.id
    }

    /// The tenant's ready-line facts (`GET …/tenants/{tid}`).
    ///
    /// # Errors
    /// 404 when the server has no such tenant.
    pub fn info(&self) -> Result<ReadyInfo, ControlError> {
        let tenant = self.tenant()?;
        Ok(self.mock.ready_for(&tenant))
    }

    /// The tenant's clock.
    pub fn clock(&self) -> ClockControl<'a> {
        ClockControl(*self)
    }

    /// The tenant's scripted faults.
    pub fn faults(&self) -> FaultControl<'a> {
        FaultControl(*self)
    }

    /// The tenant's DirSync machine.
    pub fn dirsync(&self) -> DirSyncControl<'a> {
        DirSyncControl(*self)
    }

    /// The tenant's request log, oldest first (empty for an unknown tenant).
    pub fn requests(&self) -> Vec<RequestLogEntry> {
        self.tenant().map(|t| t.requests_since(0).iter().map(RequestLogEntry::from).collect()).unwrap_or_default()
    }

    /// The whole tenant as the state file stores it (`GET …/state`), for [`Self::load_state`].
    ///
    /// # Errors
    /// 404 when the server has no such tenant.
    pub fn state(&self) -> Result<serde_json::Value, ControlError> {
        Ok(ops::state(&*self.tenant()?))
    }

    /// Replace the tenant with a saved one (`PUT …/state`).
    ///
    /// # Errors
    /// 400 when `saved` is not this tenant's saved state, 409 when one of its verified domains
    /// belongs to another tenant now.
    pub fn load_state(&self, saved: serde_json::Value) -> Result<(), ControlError> {
        self.mock.durably(|| {
            let tenant = self.tenant()?;
            let saved: crate::state::SavedTenant = serde_json::from_value(saved).map_err(|e| {
                ControlError::new(400, format!("the body is not a saved tenant (TenantControl::state gives one): {e}"))
            })?;
            ops::load_state(self.mock.server(), &tenant, saved)
        })
    }

    /// Start the tenant over (`POST …/reset`): a fresh directory with the same id and bootstrap
    /// credentials.
    ///
    /// # Errors
    /// 404 when the server has no such tenant.
    pub fn reset(&self) -> Result<ReadyInfo, ControlError> {
        self.mock.durably(|| {
            let tenant = self.tenant()?;
            Ok(self.mock.ready_for(&ops::reset(self.mock.server(), &tenant)))
        })
    }

    /// Fork the tenant (`POST …/fork`): the same objects, ids and settings under a new tenant
    /// id with its own bootstrap credentials.
    ///
    /// # Errors
    /// 404 when the server has no such tenant.
    pub fn fork(&self) -> Result<ReadyInfo, ControlError> {
        self.mock.durably(|| {
            let origin = self.tenant()?;
            Ok(self.mock.ready_for(&ops::fork(self.mock.server(), &origin)))
        })
    }

    /// The realism setting in force (`GET …/realism`'s profile, seed and overrides).
    ///
    /// # Errors
    /// 404 when the server has no such tenant.
    pub fn realism(&self) -> Result<RealismConfig, ControlError> {
        Ok(self.tenant()?.realism.config())
    }

    /// Put a realism setting in force (`PUT …/realism`); windows, buckets and the report start
    /// over.
    ///
    /// # Errors
    /// 404 when the server has no such tenant.
    pub fn set_realism(&self, config: RealismConfig) -> Result<(), ControlError> {
        self.mock.durably(|| {
            ops::set_realism(&*self.tenant()?, config);
            Ok(())
        })
    }

    /// Whether the tenant's `authz` setting is `report-only` (`GET …/authz`): calls the
    /// permission check refuses go through and are logged as would-be 403s.
    ///
    /// # Errors
    /// 404 when the server has no such tenant.
    pub fn authz_report_only(&self) -> Result<bool, ControlError> {
        Ok(self.tenant()?.report_only())
    }

    /// Set the tenant's `authz` setting (`PUT …/authz`): `true` for `report-only`, `false` for
    /// `enforce`. Saved with the tenant, like the realism setting.
    ///
    /// # Errors
    /// 404 when the server has no such tenant.
    pub fn set_authz_report_only(&self, report_only: bool) -> Result<(), ControlError> {
        self.mock.durably(|| {
            ops::set_authz(&*self.tenant()?, crate::tenant::AuthzSetting::from_report_only(report_only));
            Ok(())
        })
    }

    /// The realism report (`GET …/realism/report`): per client, requests, 429s, early retries,
    /// the largest burst.
    ///
    /// # Errors
    /// 404 when the server has no such tenant.
    pub fn realism_report(&self) -> Result<serde_json::Value, ControlError> {
        Ok(self.tenant()?.realism.report())
    }
}

/// A tenant's clock (`…/clock`). It only moves forward.
#[derive(Debug, Clone, Copy)]
pub struct ClockControl<'a>(TenantControl<'a>);

impl ClockControl<'_> {
    /// The tenant's current time (OS time plus what it was advanced, or frozen plus that).
    pub fn now(&self) -> OffsetDateTime {
        self.0.tenant().map_or_else(|_| crate::clock::system_now(), |t| t.clock.now())
    }

    /// Move the clock forward by `by` (`POST …/clock/advance`): token lifetimes, replication
    /// windows, throttling buckets and DirSync deadlines see the new time. Returns the new time.
    ///
    /// # Errors
    /// 400 when the clock would pass 9000-01-01 (it was not moved); 404 for an unknown tenant.
    pub fn advance(&self, by: Duration) -> Result<OffsetDateTime, ControlError> {
        self.0.mock.durably(|| ops::advance_clock(&*self.0.tenant()?, by))
    }

    /// Move the clock forward to `at`.
    ///
    /// # Errors
    /// 400 when `at` is before the tenant's current time (the clock never goes back: tokens
    /// and replication windows already issued rely on it) or past 9000-01-01.
    pub fn set(&self, at: OffsetDateTime) -> Result<OffsetDateTime, ControlError> {
        self.0.mock.durably(|| ops::set_clock(&*self.0.tenant()?, at))
    }
}

/// A tenant's scripted faults (`…/faults`).
#[derive(Debug, Clone, Copy)]
pub struct FaultControl<'a>(TenantControl<'a>);

impl FaultControl<'_> {
    /// Replace the rules (`PUT …/faults`).
    ///
    /// # Errors
    /// 400 for a status graphbox does not inject, a path not starting with `/`, or a negative
    /// `Retry-After`; the rules in force are unchanged.
    pub fn set(&self, rules: impl IntoIterator<Item = Fault>) -> Result<(), ControlError> {
        self.0.mock.durably(|| {
            let tenant = self.0.tenant()?;
            ops::set_faults(&tenant, rules.into_iter().map(Fault::into_rule).collect()).map(drop)
        })
    }

    /// The rules in force, with what is left of each `times`.
    pub fn rules(&self) -> Vec<Fault> {
        self.0.tenant().map(|t| t.faults.rules().into_iter().map(Fault::from_rule).collect()).unwrap_or_default()
    }

    /// Remove every rule.
    pub fn clear(&self) {
        self.0.mock.durably(|| {
            if let Ok(t) = self.0.tenant() {
                // An empty set always validates.
                let _ = ops::set_faults(&t, Vec::new());
            }
        })
    }
}

/// A tenant's DirSync machine (`…/dirsync`).
#[derive(Debug, Clone, Copy)]
pub struct DirSyncControl<'a>(TenantControl<'a>);

impl DirSyncControl<'_> {
    /// Run one sync cycle (`POST …/dirsync/cycle`) exporting `users` (Graph property names,
    /// e.g. `onPremisesImmutableId`, `userPrincipalName`, `displayName`). Returns the cycle's
    /// per-user results.
    ///
    /// # Errors
    /// 409 unless DirSync is `Enabled`; 400 for a malformed user.
    pub fn cycle(&self, users: impl IntoIterator<Item = serde_json::Value>) -> Result<serde_json::Value, ControlError> {
        self.0.mock.durably(|| {
            let tenant = self.0.tenant()?;
            let body = serde_json::json!({ "users": users.into_iter().collect::<Vec<_>>() });
            ops::dirsync_cycle(&tenant, &body)
        })
    }

    /// The machine's state and settings (`GET …/dirsync`).
    ///
    /// # Errors
    /// 404 for an unknown tenant.
    pub fn state(&self) -> Result<serde_json::Value, ControlError> {
        Ok(ops::dirsync_state(&*self.0.tenant()?))
    }

    /// Change settings (`PUT …/dirsync/settings`), e.g. `{"blockSoftMatchEnabled": true}`.
    ///
    /// # Errors
    /// 400 for an unknown setting or a wrong type.
    pub fn set_settings(&self, settings: serde_json::Value) -> Result<serde_json::Value, ControlError> {
        self.0.mock.durably(|| ops::dirsync_settings(&*self.0.tenant()?, &settings))
    }
}

/// The server's tenants (`/_graphbox/tenants`).
#[derive(Debug, Clone, Copy)]
pub struct Tenants<'a>(pub(crate) &'a Graphbox);

impl<'a> Tenants<'a> {
    /// Create another isolated tenant (`POST /tenants`).
    pub fn create(&self) -> ReadyInfo {
        self.0.durably(|| self.0.ready_for(&ops::create_tenant(self.0.server())))
    }

    /// The control plane of tenant `id` (calls answer 404 when there is none).
    pub fn get(&self, id: Uuid) -> TenantControl<'a> {
        TenantControl::new(self.0, id)
    }

    /// Every tenant's id.
    pub fn ids(&self) -> Vec<Uuid> {
        self.0.server().tenants.all().iter().map(|t| t.id).collect()
    }
}

/// A [`Sleeper`](graphbox_sdk::Sleeper) that waits by moving a tenant's clock forward instead of
/// sleeping, so a client's back-off and the onboarding workflow's waits for replication run in
/// virtual time: `Graphbox::sleeper`.
#[cfg(feature = "sdk")]
#[derive(Debug, Clone)]
pub struct ClockSleeper {
    server: Arc<Server>,
    tenant: Uuid,
}

#[cfg(feature = "sdk")]
impl ClockSleeper {
    pub(crate) fn new(server: Arc<Server>, tenant: Uuid) -> Self {
        ClockSleeper { server, tenant }
    }
}

/// Also the SDK's clock: token expiry and back-off read the tenant's time, so a client that
/// waits on this sleeper never holds a token the tenant considers expired.
#[cfg(feature = "sdk")]
impl graphbox_sdk::Clock for ClockSleeper {
    fn now(&self) -> std::time::SystemTime {
        let now = self.server.tenants.get(self.tenant).map_or_else(crate::clock::system_now, |t| t.clock.now());
        std::time::SystemTime::from(now)
    }
}

#[cfg(feature = "sdk")]
impl graphbox_sdk::Sleeper for ClockSleeper {
    fn sleep(&self, duration: Duration) -> graphbox_sdk::SleepFuture {
        if let Some(tenant) = self.server.tenants.get(self.tenant) {
            if let Err(e) = ops::advance_clock(&tenant, duration) {
                tracing::warn!("could not advance tenant {}'s clock: {}", self.tenant, e.message);
            }
        }
        // Yield once so a loop of zero-length waits still lets other tasks run.
        Box::pin(tokio::task::yield_now())
    }
}
