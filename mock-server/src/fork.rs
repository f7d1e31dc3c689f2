//! Forks and named snapshots of a tenant: both copy-on-write. The directory's
//! big collections are persistent maps (`directory::Map`), so a copy shares
//! every node with its origin and pays only for what either side writes later.
//!
//! A fork is a new tenant with the origin's objects — same object ids, UPNs,
//! settings and domains — and its own tenant id, id sequence and bootstrap
//! credentials (a new client secret on the same bootstrap application, a new
//! admin password; the origin's bootstrap secret is removed from the fork).
//! Sign-in state that grants access (refresh tokens, codes, browser sessions)
//! is not copied, so nothing issued by one tenant works at the other.
//!
//! Domains: a verified name belongs to one tenant of the server (as in Entra,
//! see `directory/domains.rs`). The fork keeps every domain the origin has, so
//! its users' UPNs and new users on those names keep working, but the names
//! the origin holds verified stay the origin's in the server's registry: they
//! are `borrowed` in the fork (shown verified, never resolved to the fork,
//! never released by it). The fork is addressed by its tenant id. A name the
//! origin later gives up can be verified by the fork like any free name.

use std::sync::Arc;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::clock::TenantClock;
use crate::directory::Directory;
use crate::ids::IdGen;
use crate::tenant::{BootstrapCredentials, Tenant, TenantOptions, Tenants};

/// A named point a tenant can return to.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    /// On the tenant's clock.
    pub taken_at: OffsetDateTime,
    directory: Directory,
}

impl Snapshot {
    pub(crate) fn new(taken_at: OffsetDateTime, directory: Directory) -> Snapshot {
        Snapshot { taken_at, directory }
    }

    /// After loading: the derived indexes are not saved.
    pub(crate) fn rebuild_indexes(&mut self) {
        self.directory.rebuild_indexes();
    }
}

/// The tenant's snapshots for the state file, each as the effects that turn
/// the live directory into it: the diff skips what both still share, so a
/// snapshot costs the file what changed since it was taken.
pub(crate) fn saved_snapshots(tenant: &Tenant) -> Vec<crate::state::SavedSnapshot> {
    let all: Vec<(String, Snapshot)> = {
        let all = tenant.snapshots.lock().unwrap_or_else(|e| e.into_inner());
        all.iter().map(|(n, s)| (n.clone(), s.clone())).collect()
    };
    if all.is_empty() {
        return Vec::new();
    }
    let live = tenant.read().clone();
    all.into_iter()
        .map(|(name, s)| {
            let mut view = live.journal_view();
            let effects = s.directory.changes_since(&mut view);
            crate::state::SavedSnapshot { name, taken_at: s.taken_at, effects }
        })
        .collect()
}

/// Longest snapshot name accepted.
pub(crate) const MAX_SNAPSHOT_NAME: usize = 128;

/// A new tenant holding `base`, a copy of `origin`'s directory (see the
/// module docs).
pub(crate) fn fork(origin: &Tenant, mut dir: Directory, options: &TenantOptions) -> Tenant {
    let mut ids = IdGen::seeded(options.seed);
    let id = ids.uuid();
    let now = origin.clock.now();
    let old_id = dir.tenant_id;
    dir.tenant_id = id;
    dir.reseed_ids(ids);
    if dir.organization.record.id == old_id {
        dir.organization.record.id = id;
    }
    for d in dir.domains.iter_mut().filter(|d| d.is_verified) {
        d.borrowed = true;
    }
    dir.refresh_tokens = Default::default();
    dir.signin.codes.clear();
    dir.signin.device_codes.clear();
    dir.signin.user_codes.clear();
    dir.signin.sessions.clear();

    let bootstrap = &origin.bootstrap;
    let mut client_secret = String::new();
    let app = dir.application_by_app_id(bootstrap.client_id).map(|r| r.id);
    if let Some(app) = app {
        // The origin's bootstrap secret stops working in the fork.
        let old: Vec<Uuid> = dir
            .secrets_of(bootstrap.client_id)
            .iter()
            .filter(|s| s.hash.matches(&bootstrap.client_secret))
            .map(|s| s.key_id)
            .collect();
        for key_id in old {
            let body = serde_json::json!({"keyId": key_id});
            let _ = dir.remove_password(
                crate::directory::applications::Owner::Application,
                app,
                body.as_object().expect("a JSON object literal"),
            );
        }
        let body = serde_json::json!({"passwordCredential": {"displayName": "bootstrap"}});
        if let Ok(secret) = dir.add_password(app, body.as_object().expect("a JSON object literal"), now) {
            client_secret = secret.text;
        }
    }
    let admin_password = crate::ids::password_text();
    if let Some(admin) = dir.user_by_upn(&bootstrap.admin_username) {
        let hash = dir.hash_secret(&admin_password);
        dir.passwords.insert(admin, hash);
    }
    let clock = TenantClock::with_offset(origin.clock.frozen_at(), origin.clock.offset())
        .expect("the origin's clock is representable");
    let bootstrap = BootstrapCredentials {
        client_id: bootstrap.client_id,
        client_secret,
        admin_username: bootstrap.admin_username.clone(),
        admin_password,
    };
    Tenant::assemble(id, clock, dir, bootstrap, options.clone())
}

/// Why a snapshot call was refused: status and message for the control API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refused(pub u16, pub String);

/// Why a snapshot call on the Rust handle was refused: the status the control
/// API answers the same call with (400 a bad name, 404 no such tenant or
/// snapshot, 409 a name taken, or a verified domain another tenant now holds)
/// and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SnapshotError {
    status: u16,
    message: String,
}

impl SnapshotError {
    /// The HTTP status `…/snapshots` answers the same call with.
    pub fn status(&self) -> u16 {
        self.status
    }

    pub(crate) fn no_tenant(tenant: Uuid) -> SnapshotError {
        SnapshotError { status: 404, message: format!("no tenant {tenant} on this server") }
    }
}

impl From<Refused> for SnapshotError {
    fn from(Refused(status, message): Refused) -> SnapshotError {
        SnapshotError { status, message }
    }
}

/// A named snapshot, as `GET …/snapshots` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SnapshotInfo {
    pub name: String,
    /// On the tenant's clock.
    pub taken_at: OffsetDateTime,
}

/// `POST …/snapshots {"name"}`.
pub(crate) fn take(tenant: &Tenant, name: &str) -> Result<OffsetDateTime, Refused> {
    if name.is_empty() || name.len() > MAX_SNAPSHOT_NAME || name.contains('/') || name.chars().any(char::is_control) {
        return Err(Refused(
            400,
            format!("send {{\"name\": \"...\"}}: 1 to {MAX_SNAPSHOT_NAME} characters, no '/' or control characters"),
        ));
    }
    // Under the write lock: the journal record says "the directory as of
    // here", which holds only if no write slips between the copy and it.
    let dir = tenant.write();
    let mut all = tenant.snapshots.lock().unwrap_or_else(|e| e.into_inner());
    if all.contains_key(name) {
        return Err(Refused(409, format!("the tenant already has a snapshot '{name}'; pick another name")));
    }
    let taken_at = tenant.clock.now();
    all.insert(name.to_owned(), Snapshot { taken_at, directory: (*dir).clone() });
    tenant.journal_locked(&dir, crate::journal::Change::SnapshotTaken { name: name.to_owned(), taken_at });
    Ok(taken_at)
}

/// `DELETE …/snapshots/{name}`.
pub(crate) fn delete(tenant: &Tenant, name: &str) -> Result<(), Refused> {
    let dir = tenant.write();
    let removed = tenant.snapshots.lock().unwrap_or_else(|e| e.into_inner()).remove(name);
    if removed.is_none() {
        return Err(Refused(404, format!("the tenant has no snapshot '{name}' (GET …/snapshots lists them)")));
    }
    tenant.journal_locked(&dir, crate::journal::Change::SnapshotDeleted { name: name.to_owned() });
    Ok(())
}

/// `GET …/snapshots`: names and times, by name.
pub(crate) fn list(tenant: &Tenant) -> Vec<(String, OffsetDateTime)> {
    let all = tenant.snapshots.lock().unwrap_or_else(|e| e.into_inner());
    all.iter().map(|(n, s)| (n.clone(), s.taken_at)).collect()
}

/// `POST …/snapshots/{name}/restore`: the directory returns to the snapshot
/// (the clock does not go back, so tokens already issued stay valid). Refused
/// when the snapshot holds a domain verified that another tenant now holds.
pub(crate) fn restore(tenant: &Tenant, name: &str) -> Result<(), Refused> {
    let snapshot = tenant
        .snapshots
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(name)
        .cloned()
        .ok_or_else(|| Refused(404, format!("the tenant has no snapshot '{name}' (GET …/snapshots lists them)")))?;
    let claims = tenant.domain_claims();
    let mut dir = tenant.write();
    if let Some(taken) =
        snapshot.directory.verified_domain_names().find(|n| claims.owner(n).is_some_and(|owner| owner != tenant.id))
    {
        return Err(Refused(
            409,
            format!("domain '{taken}' is verified in the snapshot but another tenant now holds it verified"),
        ));
    }
    claims.release_all(tenant.id);
    dir.replace_recorded(snapshot.directory);
    for name in dir.verified_domain_names() {
        let _ = claims.claim(name, tenant.id);
    }
    Ok(())
}

/// Fork `origin` into a new tenant of `tenants`. With a journal the fork is
/// recorded as the origin's id plus what differs from the origin (credentials,
/// ids, borrowed domains), not whole: the record stays small whatever the size
/// of the tenant. That holds only if replay finds the origin exactly as it was
/// copied, so the origin's write lock is held from the copy until the record
/// is appended.
pub(crate) fn fork_into(tenants: &Tenants, origin: &Tenant, options: &TenantOptions) -> Arc<Tenant> {
    let held = origin.write();
    let base = (*held).clone();
    let fork = fork(origin, base.clone(), options);
    let effects = tenants.journal().map(|_| {
        let mut view = base.journal_view();
        fork.read().changes_since(&mut view)
    });
    let fork = match effects {
        Some(effects) => tenants.insert_fork(fork, origin.id, effects),
        None => tenants.insert(fork),
    };
    drop(held);
    fork
}
