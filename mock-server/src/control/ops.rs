//! The control operations themselves, one function each, called by both
//! surfaces: the control API's handlers (mod.rs, and the dashboard's forms)
//! parse the HTTP body into these functions' typed inputs and write their
//! answers as JSON; the Rust handle (handle.rs) calls them with its typed
//! arguments. Neither surface does the work itself, so the two cannot drift.
//!
//! These functions journal what they change but never wait for the journal:
//! the HTTP intake (`http::handle`) waits for what the request appended, the
//! handle wraps each call in `Graphbox::durably`. Waiting here as well would
//! block an async worker thread on the HTTP path.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::handle::ControlError;
use crate::service::Server;
use crate::tenant::{AuthzSetting, Tenant};

/// The tenant `id`, or the 404 both surfaces answer.
pub(crate) fn tenant(server: &Server, id: Uuid) -> Result<Arc<Tenant>, ControlError> {
    server.tenants.get(id).ok_or_else(|| ControlError::new(404, format!("no tenant '{id}' on this server")))
}

/// `POST /tenants`: another isolated tenant.
pub(crate) fn create_tenant(server: &Server) -> Arc<Tenant> {
    server.tenants.insert(Tenant::create(&server.next_tenant_options(), None))
}

/// `POST …/reset`: a fresh directory with the same id, bootstrap credentials
/// and settings.
pub(crate) fn reset(server: &Server, tenant: &Tenant) -> Arc<Tenant> {
    server.tenants.replace(Tenant::create(&tenant.options(), Some(&tenant.bootstrap)))
}

/// `POST …/fork`: the same objects and ids under a new tenant id.
pub(crate) fn fork(server: &Server, origin: &Tenant) -> Arc<Tenant> {
    crate::fork::fork_into(&server.tenants, origin, &server.next_tenant_options())
}

/// `GET …/state`: the whole tenant as the state file stores it.
pub(crate) fn state(tenant: &Tenant) -> serde_json::Value {
    tenant.settle_dirsync();
    crate::state::snapshot_tenant(tenant)
}

/// `PUT …/state`: replace `tenant` with `saved`, which must be the same tenant.
pub(crate) fn load_state(
    server: &Server,
    tenant: &Tenant,
    saved: crate::state::SavedTenant,
) -> Result<(), ControlError> {
    if saved.id != tenant.id {
        return Err(ControlError::new(400, format!("the saved tenant is {}, not {}", saved.id, tenant.id)));
    }
    let restored = Tenant::restore(saved)
        .map_err(|e| ControlError::new(400, format!("the saved tenant cannot be loaded: {e}")))?;
    server.tenants.try_replace(restored).map_err(|e| ControlError::new(409, e.to_string()))?;
    Ok(())
}

/// `POST …/clock/advance`, in its order: move, journal, let DirSync see the
/// time (dirsync.rs says why at this point). Returns the new time.
pub(crate) fn advance_clock(tenant: &Tenant, by: Duration) -> Result<OffsetDateTime, ControlError> {
    tenant.clock.advance(by).map_err(|e| ControlError::new(400, format!("{e}; the clock was not moved")))?;
    tenant.journal_clock();
    tenant.settle_dirsync();
    Ok(tenant.clock.now())
}

/// Move the clock forward to `at`: [`advance_clock`] by the difference.
pub(crate) fn set_clock(tenant: &Tenant, at: OffsetDateTime) -> Result<OffsetDateTime, ControlError> {
    let now = tenant.clock.now();
    let by = Duration::try_from(at - now).map_err(|_| {
        ControlError::new(
            400,
            format!(
                "the clock only moves forward: {} is before the tenant's time {}",
                crate::clock::format_datetime(at),
                crate::clock::format_datetime(now)
            ),
        )
    })?;
    advance_clock(tenant, by)
}

/// `PUT …/faults`: validated as a whole, so a refused set leaves the rules in
/// force unchanged. Returns the rules now in force.
pub(crate) fn set_faults(
    tenant: &Tenant,
    rules: Vec<crate::faults::FaultRule>,
) -> Result<Vec<crate::faults::FaultRule>, ControlError> {
    crate::faults::validate(&rules).map_err(|e| ControlError::new(400, e))?;
    tenant.put_faults(rules);
    Ok(tenant.faults.rules())
}

/// `POST …/dirsync/cycle` with the body `{"users": [...]}`.
pub(crate) fn dirsync_cycle(tenant: &Tenant, body: &serde_json::Value) -> Result<serde_json::Value, ControlError> {
    tenant.settle_dirsync();
    let now = tenant.clock.now();
    let result = crate::dirsync::cycle::run(&mut tenant.write(), body, now);
    result.map_err(|e| ControlError::new(e.status, e.message))
}

/// `GET …/dirsync`: the machine's state and settings, deadlines settled.
pub(crate) fn dirsync_state(tenant: &Tenant) -> serde_json::Value {
    tenant.settle_dirsync();
    crate::dirsync::control::view(&tenant.read())
}

/// `PUT …/dirsync/settings`.
pub(crate) fn dirsync_settings(
    tenant: &Tenant,
    settings: &serde_json::Value,
) -> Result<serde_json::Value, ControlError> {
    let result = crate::dirsync::control::put_settings(&mut tenant.write(), settings);
    result.map_err(|m| ControlError::new(400, m))
}

/// `PUT …/realism`: the setting in force and journaled; windows, buckets and
/// the report start over.
pub(crate) fn set_realism(tenant: &Tenant, config: crate::realism::RealismConfig) {
    tenant.realism.set(config, tenant.id);
    tenant.journal_realism();
}

/// `PUT …/authz`: the setting in force and journaled.
pub(crate) fn set_authz(tenant: &Tenant, setting: AuthzSetting) {
    tenant.set_authz(setting);
}
