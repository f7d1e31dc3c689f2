//! Tenants: each one a clock, a directory behind one lock, a bounded request log
//! and the bootstrap credentials it was created with. The registry maps tenant ids
//! and domain names to tenants; the map guard is never held past a lookup.

use std::sync::{Arc, Mutex, OnceLock, RwLock};

use dashmap::DashMap;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::clock::TenantClock;
use crate::directory::applications::APPLICATION;
use crate::directory::catalog::GLOBAL_ADMINISTRATOR_TEMPLATE;
use crate::directory::domains::DomainClaims;
use crate::directory::users::USER;
use crate::directory::Directory;
use crate::ids::IdGen;

/// The Graph application permissions the bootstrap application holds: what the
/// onboarding flow needs, consented at tenant creation.
pub(crate) const BOOTSTRAP_APP_ROLES: &[&str] = &[
    "Application.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All",
    "DelegatedPermissionGrant.ReadWrite.All",
    "Directory.ReadWrite.All",
    "Domain.ReadWrite.All",
    "Group.ReadWrite.All",
    "OnPremDirectorySynchronization.ReadWrite.All",
    "Organization.ReadWrite.All",
    "RoleManagement.ReadWrite.Directory",
    "User.DeleteRestore.All",
    "User.ReadWrite.All",
];

/// The delegated permissions consented tenant-wide for the bootstrap
/// application, so an administrator can sign in through it.
pub(crate) const BOOTSTRAP_DELEGATED_SCOPES: &str = "User.Read User.ReadWrite.All Directory.AccessAsUser.All \
Directory.ReadWrite.All Application.ReadWrite.All AppRoleAssignment.ReadWrite.All DelegatedPermissionGrant.ReadWrite.All \
RoleManagement.ReadWrite.Directory Organization.ReadWrite.All OnPremDirectorySynchronization.ReadWrite.All \
Domain.ReadWrite.All Group.ReadWrite.All User.DeleteRestore.All";

/// The credentials a tenant was created with (the ready line's fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct BootstrapCredentials {
    pub client_id: Uuid,
    pub client_secret: String,
    pub admin_username: String,
    pub admin_password: String,
}

pub(crate) use crate::request_log::LoggedRequest;

#[derive(Debug)]
pub(crate) struct Tenant {
    pub id: Uuid,
    pub clock: TenantClock,
    pub directory: RwLock<Directory>,
    pub bootstrap: BootstrapCredentials,
    options: TenantOptions,
    requests: crate::request_log::Log,
    /// Which permissions callers used, for the least-privilege report.
    pub(crate) usage: crate::request_log::Usage,
    /// `authz: "report-only"` (`PUT …/authz`): a call the permission check
    /// refuses goes through and is logged as a would-be 403. A tenant setting
    /// like realism: saved, journaled, kept by a reset. Changed only through
    /// `control::ops::set_authz`, which journals it.
    authz_report_only: std::sync::atomic::AtomicBool,
    /// Scripted failures (`PUT /_graphbox/tenants/{tid}/faults`).
    pub(crate) faults: crate::faults::Faults,
    /// Replication delay, throttling, latency and shapes (`…/realism`); off by default.
    pub(crate) realism: crate::realism::Realism,
    /// The server's registry of verified domain names (a tenant's own until
    /// [`Tenants::insert`] joins it to the server's).
    domain_claims: Arc<DomainClaims>,
    /// With `--state`: the journal every write is recorded in (see
    /// `journal.rs`).
    journal: OnceLock<Arc<crate::journal::Journal>>,
    /// What the journal keeps between records (see `directory::changes`):
    /// set when the journal attaches; in debug builds from the start, so the
    /// write of every test, journaled or not, checks that the collections
    /// named every key it changed.
    recorder: Mutex<Option<crate::directory::changes::Recorder>>,
    /// Replaced (reset, state loaded): a request still holding this tenant
    /// must not record into the journal what would replay onto its successor.
    retired: std::sync::atomic::AtomicBool,
    /// When the DirSync machine's next deadline falls, in whole Unix seconds
    /// rounded down (`i64::MAX`: none), refreshed as each write ends. Every
    /// request asks whether a deadline passed (`settle_dirsync`); reading this
    /// instead of taking the directory's read lock keeps requests from
    /// queueing behind a writer that holds it.
    dirsync_due: std::sync::atomic::AtomicI64,
    /// Named snapshots (`POST …/snapshots`), in memory: see `fork.rs`.
    pub(crate) snapshots: Mutex<std::collections::BTreeMap<String, crate::fork::Snapshot>>,
}

/// The tenant's write lock. Dropping it records what the write changed in the
/// journal (when there is one), still under the lock, so a tenant's records
/// are in the order its writes committed.
pub(crate) struct DirWrite<'a> {
    guard: std::sync::RwLockWriteGuard<'a, Directory>,
    tenant: &'a Tenant,
}

impl std::ops::Deref for DirWrite<'_> {
    type Target = Directory;
    fn deref(&self) -> &Directory {
        &self.guard
    }
}

impl std::ops::DerefMut for DirWrite<'_> {
    fn deref_mut(&mut self) -> &mut Directory {
        &mut self.guard
    }
}

impl Drop for DirWrite<'_> {
    fn drop(&mut self) {
        self.tenant.dirsync_due.store(dirsync_due(&self.guard), std::sync::atomic::Ordering::Relaxed);
        let journal = self.tenant.journal.get();
        if journal.is_none() && !cfg!(debug_assertions) {
            return;
        }
        if self.tenant.retired.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        let mut recorder = self.tenant.recorder.lock().unwrap_or_else(|e| e.into_inner());
        let Some(recorder) = recorder.as_mut() else { return };
        let effects = self.guard.recorded_changes(recorder);
        if let Some(journal) = journal.filter(|_| !effects.is_empty()) {
            journal.append_directory(self.tenant.id, effects);
        }
    }
}

/// Debug builds record every tenant's writes, journal or not (see
/// `Tenant::recorder`).
fn recorder_from_start(dir: &mut Directory) -> Option<crate::directory::changes::Recorder> {
    cfg!(debug_assertions).then(|| dir.start_recording())
}

fn dirsync_due(dir: &Directory) -> i64 {
    dir.organization.dirsync.state.deadline().map_or(i64::MAX, |at| at.unix_timestamp())
}

/// Options for a new tenant.
#[derive(Debug, Clone, Default)]
pub(crate) struct TenantOptions {
    pub seed: u64,
    pub frozen_at: Option<OffsetDateTime>,
    pub realism: crate::realism::RealismConfig,
    pub authz: AuthzSetting,
}

/// The tenant's `authz` setting (`GET|PUT …/authz`), as the control API and the
/// state file spell it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum AuthzSetting {
    /// A call the permission check refuses is a 403, as in Graph.
    #[default]
    Enforce,
    /// A call the permission check refuses goes through, logged as a would-be 403.
    ReportOnly,
}

#[cfg(test)]
impl TenantOptions {
    /// A tenant's options in tests: its seed, every setting at its default.
    pub(crate) fn seeded(seed: u64) -> Self {
        TenantOptions { seed, ..Default::default() }
    }
}

#[cfg(test)]
impl Tenant {
    /// A fresh tenant in tests, from `seed` with every setting at its default.
    pub(crate) fn seeded(seed: u64) -> Tenant {
        Tenant::create(&TenantOptions::seeded(seed), None)
    }
}

impl AuthzSetting {
    pub(crate) fn from_report_only(report_only: bool) -> Self {
        if report_only {
            AuthzSetting::ReportOnly
        } else {
            AuthzSetting::Enforce
        }
    }

    pub(crate) fn is_report_only(self) -> bool {
        self == AuthzSetting::ReportOnly
    }
}

impl Tenant {
    /// A fresh tenant: initial domain, Microsoft Graph's service principal, a
    /// bootstrap application (Global Administrator, onboarding permissions
    /// consented, one secret) and a Global Administrator user.
    ///
    /// `reuse` keeps an earlier tenant's bootstrap secret and admin password, so a
    /// reset tenant accepts the credentials its clients already hold.
    pub(crate) fn create(options: &TenantOptions, reuse: Option<&BootstrapCredentials>) -> Tenant {
        let mut ids = IdGen::seeded(options.seed);
        let id = ids.uuid();
        let label = format!("graphbox{:06x}", ids.next_u64() & 0xff_ffff);
        let clock = match options.frozen_at {
            Some(at) => TenantClock::frozen(at),
            None => TenantClock::system(),
        };
        let now = clock.now();
        let domain = format!("{label}.onmicrosoft.com");
        let mut dir = Directory::new(id, "Graphbox Lab".to_owned(), domain.clone(), ids);

        dir.seed_graph_service_principal();
        // Request bodies that are the same for every tenant, built once.
        static APP_BODY: OnceLock<serde_json::Map<String, serde_json::Value>> = OnceLock::new();
        static SECRET_BODY: OnceLock<serde_json::Map<String, serde_json::Value>> = OnceLock::new();
        let object = |v: serde_json::Value| v.as_object().cloned().expect("a JSON object literal");
        let app_body = APP_BODY.get_or_init(|| {
            object(serde_json::json!({"displayName": "graphbox-bootstrap", "signInAudience": "AzureADMyOrg",
                                      "isFallbackPublicClient": true}))
        });
        let app = dir.create_application(app_body, now).expect("the bootstrap application is valid");
        let client_id = dir.applications[&app]
            .get_str(&APPLICATION, "appId")
            .and_then(|s| Uuid::parse_str(s).ok())
            .expect("a new application has an appId");
        let sp = dir
            .create_service_principal(
                serde_json::json!({"appId": client_id}).as_object().expect("a JSON object literal"),
            )
            .expect("the bootstrap application has no service principal yet");
        let client_secret = match reuse {
            Some(old) => {
                dir.add_known_secret(app, "bootstrap", &old.client_secret, now);
                old.client_secret.clone()
            }
            None => {
                let body = SECRET_BODY
                    .get_or_init(|| object(serde_json::json!({"passwordCredential": {"displayName": "bootstrap"}})));
                dir.add_password(app, body, now).expect("a fresh application takes a secret").text
            }
        };
        dir.grant_graph_app_roles(sp, BOOTSTRAP_APP_ROLES, now)
            .expect("the bootstrap roles are in the catalogue and the service principals exist");
        let graph = dir.graph_service_principal_id().expect("seeded above");
        let consent = serde_json::json!({"clientId": sp, "resourceId": graph, "consentType": "AllPrincipals",
                                         "principalId": null, "scope": BOOTSTRAP_DELEGATED_SCOPES});
        dir.create_oauth2_grant(consent.as_object().expect("a JSON object literal"))
            .expect("the bootstrap scopes are in the catalogue");
        dir.assign_directory_role(sp, GLOBAL_ADMINISTRATOR_TEMPLATE);

        let admin_username = format!("admin@{domain}");
        let admin_password = reuse.map(|old| old.admin_password.clone()).unwrap_or_else(crate::ids::password_text);
        let body = serde_json::json!({
            "accountEnabled": true,
            "displayName": "Graphbox Admin",
            "mailNickname": "admin",
            "userPrincipalName": admin_username,
            "passwordProfile": {"password": admin_password, "forceChangePasswordNextSignIn": false},
        });
        let admin = dir
            .create_user(body.as_object().expect("a JSON object literal"), now)
            .expect("the bootstrap admin is valid in a fresh tenant");
        debug_assert!(dir.users[&admin].get_str(&USER, "userPrincipalName").is_some());
        dir.assign_directory_role(admin, GLOBAL_ADMINISTRATOR_TEMPLATE);
        dir.seed_organization(now, options.seed);
        let recorder = recorder_from_start(&mut dir);

        Tenant {
            id,
            clock,
            dirsync_due: dirsync_due(&dir).into(),
            directory: RwLock::new(dir),
            bootstrap: BootstrapCredentials { client_id, client_secret, admin_username, admin_password },
            options: options.clone(),
            requests: Default::default(),
            usage: Default::default(),
            authz_report_only: options.authz.is_report_only().into(),
            faults: Default::default(),
            realism: realism_of(id, &options.realism),
            domain_claims: Arc::default(),
            journal: OnceLock::new(),
            recorder: Mutex::new(recorder),
            retired: Default::default(),
            snapshots: Default::default(),
        }
    }

    /// A tenant from its parts (forks).
    pub(crate) fn assemble(
        id: Uuid,
        clock: TenantClock,
        dir: Directory,
        bootstrap: BootstrapCredentials,
        options: TenantOptions,
    ) -> Tenant {
        let mut dir = dir;
        let recorder = recorder_from_start(&mut dir);
        Tenant {
            id,
            clock,
            dirsync_due: dirsync_due(&dir).into(),
            directory: RwLock::new(dir),
            bootstrap,
            realism: realism_of(id, &options.realism),
            authz_report_only: options.authz.is_report_only().into(),
            options,
            requests: Default::default(),
            usage: Default::default(),
            faults: Default::default(),
            domain_claims: Arc::default(),
            journal: OnceLock::new(),
            recorder: Mutex::new(recorder),
            retired: Default::default(),
            snapshots: Default::default(),
        }
    }

    /// Rebuild a tenant from saved state; refused when its clock is past what
    /// the server can represent (a tenant that would fail every request).
    pub(crate) fn restore(saved: crate::state::SavedTenant) -> Result<Tenant, crate::clock::ClockOutOfRange> {
        let clock = TenantClock::with_offset(saved.frozen_at, saved.clock_offset)?;
        let mut dir = saved.directory;
        dir.rebuild_indexes();
        let mut snapshots = saved.snapshot_dirs;
        for s in snapshots.values_mut() {
            s.rebuild_indexes();
        }
        let faults = crate::faults::Faults::default();
        faults.replace(saved.faults);
        let recorder = recorder_from_start(&mut dir);
        Ok(Tenant {
            id: saved.id,
            clock,
            dirsync_due: dirsync_due(&dir).into(),
            directory: RwLock::new(dir),
            bootstrap: saved.bootstrap,
            realism: realism_of(saved.id, &saved.realism),
            authz_report_only: saved.authz.is_report_only().into(),
            options: TenantOptions {
                seed: saved.seed,
                frozen_at: saved.frozen_at,
                realism: saved.realism,
                authz: saved.authz,
            },
            requests: Default::default(),
            usage: Default::default(),
            faults,
            domain_claims: Arc::default(),
            journal: OnceLock::new(),
            recorder: Mutex::new(recorder),
            retired: Default::default(),
            snapshots: Mutex::new(snapshots),
        })
    }

    pub(crate) fn read(&self) -> std::sync::RwLockReadGuard<'_, Directory> {
        // A panic while holding the lock would be a bug; the data itself is
        // still consistent (writes validate before applying), so keep serving.
        self.directory.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn write(&self) -> DirWrite<'_> {
        DirWrite { guard: self.directory.write().unwrap_or_else(|e| e.into_inner()), tenant: self }
    }

    /// Start recording this tenant's writes in `journal`.
    fn attach_journal(&self, journal: &Arc<crate::journal::Journal>) {
        // Under the lock, so that no write falls between the two.
        let mut dir = self.directory.write().unwrap_or_else(|e| e.into_inner());
        *self.recorder.lock().unwrap_or_else(|e| e.into_inner()) = Some(dir.start_recording());
        let _ = self.journal.set(journal.clone());
    }

    /// Record a change made outside the directory (the clock), under the
    /// write lock so it is ordered with the tenant's directory writes.
    pub(crate) fn journal_change(&self, change: impl FnOnce(&Tenant) -> crate::journal::Change) {
        if self.journal.get().is_some() {
            let lock = self.write();
            self.journal_locked(&lock, change(self));
        }
    }

    /// Record a change while the caller holds the write lock (`_held`), so it
    /// is ordered with the directory writes around it.
    pub(crate) fn journal_locked(&self, _held: &DirWrite<'_>, change: crate::journal::Change) {
        if let Some(journal) = self.journal.get() {
            if !self.retired.load(std::sync::atomic::Ordering::Relaxed) {
                journal.append(self.id, change);
            }
        }
    }

    /// Record the tenant's clock as it is now.
    pub(crate) fn journal_clock(&self) {
        self.journal_change(|t| crate::journal::Change::Clock {
            frozen_at: t.clock.frozen_at(),
            offset: t.clock.offset(),
        });
    }

    /// Record the tenant's realism setting as it is now.
    pub(crate) fn journal_realism(&self) {
        self.journal_change(|t| crate::journal::Change::Realism(t.realism.config()));
    }

    /// Put the `authz` setting in force and record it, under the write lock so
    /// the record is ordered with the directory writes around it.
    pub(crate) fn set_authz(&self, setting: AuthzSetting) {
        let lock = self.write();
        self.authz_report_only.store(setting.is_report_only(), std::sync::atomic::Ordering::Relaxed);
        self.journal_locked(&lock, crate::journal::Change::Authz(setting));
    }

    /// Deliver the tenant clock to the DirSync machine: fire a deadline that has
    /// passed (`dirsync.rs` says why this happens at request intake). Takes the
    /// write lock only when a deadline is due.
    pub(crate) fn settle_dirsync(&self) {
        self.settle_dirsync_at(self.clock.now());
    }

    /// [`Tenant::settle_dirsync`] at a time the caller already read.
    pub(crate) fn settle_dirsync_at(&self, now: OffsetDateTime) {
        if now.unix_timestamp() < self.dirsync_due.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        if self.read().organization.dirsync.state.is_due(now) {
            self.write().settle_dirsync(now);
        }
    }

    /// What the tenant was created from (a reset recreates it from these),
    /// with the realism and `authz` settings now in force.
    pub(crate) fn options(&self) -> TenantOptions {
        TenantOptions { realism: self.realism.config(), authz: self.authz(), ..self.options.clone() }
    }

    /// The server's registry of verified domain names, which
    /// `Directory::verify_domain` and `delete_domain` take.
    pub(crate) fn domain_claims(&self) -> &DomainClaims {
        &self.domain_claims
    }

    pub(crate) fn domain(&self) -> String {
        self.read().initial_domain().to_owned()
    }

    pub(crate) fn log_request(&self, entry: LoggedRequest) {
        self.requests.push(entry);
    }

    /// The logged requests after `seq` (0: all), oldest first.
    pub(crate) fn requests_since(&self, seq: u64) -> Vec<LoggedRequest> {
        self.requests.since(seq)
    }

    /// Whether the permission check only reports (see `authz_report_only`).
    pub(crate) fn report_only(&self) -> bool {
        self.authz_report_only.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The `authz` setting in force.
    pub(crate) fn authz(&self) -> AuthzSetting {
        AuthzSetting::from_report_only(self.report_only())
    }
}

/// A tenant's realism; a setting other than `off` is logged with its seed.
fn realism_of(tenant: Uuid, config: &crate::realism::RealismConfig) -> crate::realism::Realism {
    let realism = crate::realism::Realism::default();
    if config.settings().is_active() {
        realism.set(config.clone(), tenant);
    }
    realism
}

/// Two tenants holding the same domain name verified: refused, as Entra lets
/// one tenant only hold a verified name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "domain '{domain}' is verified in both tenant {first} and tenant {second}, but a verified domain \
     belongs to one tenant; remove it from one of them (or mark it unverified there)"
)]
pub(crate) struct DomainClaimConflict {
    pub domain: String,
    pub first: Uuid,
    pub second: Uuid,
}

/// Check saved tenants before any is restored: no verified domain name may be
/// held by two of them. State loading calls this and refuses the file on error.
pub(crate) fn check_domain_claims(tenants: &[crate::state::SavedTenant]) -> Result<(), DomainClaimConflict> {
    let mut seen: std::collections::HashMap<String, Uuid> = std::collections::HashMap::new();
    for t in tenants {
        for name in t.directory.verified_domain_names() {
            match seen.insert(name.to_ascii_lowercase(), t.id) {
                Some(first) if first != t.id => {
                    return Err(DomainClaimConflict { domain: name.to_ascii_lowercase(), first, second: t.id })
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// All tenants of one server, by id, and the server's registry of verified
/// domain names (which also resolves a domain to its tenant).
#[derive(Debug, Default)]
pub(crate) struct Tenants {
    by_id: DashMap<Uuid, Arc<Tenant>>,
    claims: Arc<DomainClaims>,
    /// With `--state`: tenants added from now on are recorded whole, and
    /// record their writes (see `journal.rs`).
    journal: OnceLock<Arc<crate::journal::Journal>>,
}

impl Tenants {
    /// Add a tenant and claim its verified domains in the server's registry.
    /// A name another tenant already holds stays with that tenant (callers that
    /// load foreign state check first: [`check_domain_claims`],
    /// [`Tenants::try_replace`]).
    pub(crate) fn insert(&self, mut tenant: Tenant) -> Arc<Tenant> {
        tenant.domain_claims = self.claims.clone();
        for name in tenant.read().verified_domain_names() {
            if let Err(owner) = self.claims.claim(name, tenant.id) {
                tracing::warn!(domain = name, tenant = %tenant.id, %owner, "verified domain already held by another tenant; left with it");
            }
        }
        let tenant = Arc::new(tenant);
        if let Some(journal) = self.journal.get() {
            // Whole, before any write of it can be recorded: a new tenant is
            // small, a replaced one is what its caller sent.
            journal.append(tenant.id, crate::journal::Change::Tenant(Box::new(crate::state::snapshot_tenant(&tenant))));
            tenant.attach_journal(journal);
        }
        self.by_id.insert(tenant.id, tenant.clone());
        tenant
    }

    /// Add a fork of `origin` (see `fork::fork_into`, which holds the origin's
    /// write lock): journaled as the difference from the origin, before any
    /// request can reach it.
    pub(crate) fn insert_fork(
        &self,
        mut tenant: Tenant,
        origin: Uuid,
        effects: Vec<crate::journal::Effect>,
    ) -> Arc<Tenant> {
        let Some(journal) = self.journal.get() else { return self.insert(tenant) };
        tenant.domain_claims = self.claims.clone();
        for name in tenant.read().verified_domain_names() {
            let _ = self.claims.claim(name, tenant.id);
        }
        let head = crate::state::tenant_head(&tenant);
        let tenant = Arc::new(tenant);
        journal.append(tenant.id, crate::journal::Change::Forked { origin, head: Box::new(head), effects });
        tenant.attach_journal(journal);
        self.by_id.insert(tenant.id, tenant.clone());
        tenant
    }

    /// Record every write from now on in `journal`; the tenants already here
    /// are on disk (loaded, replayed and saved) before this is called.
    pub(crate) fn attach_journal(&self, journal: Arc<crate::journal::Journal>) {
        for t in self.all() {
            t.attach_journal(&journal);
        }
        let _ = self.journal.set(journal);
    }

    pub(crate) fn journal(&self) -> Option<&Arc<crate::journal::Journal>> {
        self.journal.get()
    }

    /// Replace a tenant in place (reset, state load), keeping its id; the names
    /// the old one held are free again first.
    pub(crate) fn replace(&self, tenant: Tenant) -> Arc<Tenant> {
        if let Some(old) = self.get(tenant.id) {
            // Under its lock: a write under way finishes (and is recorded) first.
            let _lock = old.directory.write().unwrap_or_else(|e| e.into_inner());
            old.retired.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        self.claims.release_all(tenant.id);
        self.insert(tenant)
    }

    /// [`Tenants::replace`], refused when the new tenant holds a verified domain
    /// another tenant of this server holds (loading one tenant's saved state).
    pub(crate) fn try_replace(&self, tenant: Tenant) -> Result<Arc<Tenant>, DomainClaimConflict> {
        let conflict = tenant.read().verified_domain_names().find_map(|name| {
            let owner = self.claims.owner(name)?;
            (owner != tenant.id).then(|| DomainClaimConflict {
                domain: name.to_ascii_lowercase(),
                first: owner,
                second: tenant.id,
            })
        });
        match conflict {
            Some(c) => Err(c),
            None => Ok(self.replace(tenant)),
        }
    }

    pub(crate) fn get(&self, id: Uuid) -> Option<Arc<Tenant>> {
        self.by_id.get(&id).map(|t| t.value().clone())
    }

    /// Look a tenant up the way the identity platform does: by GUID or by any of
    /// its verified domain names.
    pub(crate) fn resolve(&self, tenant: &str) -> Option<Arc<Tenant>> {
        match Uuid::parse_str(tenant) {
            Ok(id) => self.get(id),
            Err(_) => self.get(self.claims.owner(tenant)?),
        }
    }

    pub(crate) fn all(&self) -> Vec<Arc<Tenant>> {
        let mut v: Vec<Arc<Tenant>> = self.by_id.iter().map(|t| t.value().clone()).collect();
        v.sort_by_key(|t| t.id);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(t: &Tenant, name: &str) {
        let body = serde_json::json!({"id": name});
        t.write().add_domain(body.as_object().expect("an object")).expect("a valid new domain");
    }

    fn verify(t: &Tenant, name: &str) -> Result<(), crate::error::ApiError> {
        t.write().verify_domain(name, t.domain_claims())
    }

    fn saved(t: &Tenant) -> crate::state::SavedTenant {
        serde_json::from_value(crate::state::snapshot_tenant(t)).expect("a snapshot loads back")
    }

    #[test]
    fn a_domain_verified_in_one_tenant_cannot_be_verified_in_another() {
        let tenants = Tenants::default();
        let a = tenants.insert(Tenant::seeded(1));
        let b = tenants.insert(Tenant::seeded(2));
        add(&a, "contoso.example");
        verify(&a, "contoso.example").expect("free name");
        add(&b, "Contoso.example");
        let err = verify(&b, "contoso.example").expect_err("held by a");
        assert_eq!((err.status, err.code.as_ref()), (400, "Request_BadRequest"));
        assert!(err.message.contains("already verified in a different organization"), "{}", err.message);
        assert!(!b.read().is_verified_domain("contoso.example"));
        assert_eq!(tenants.resolve("CONTOSO.example").map(|t| t.id), Some(a.id));
    }

    #[test]
    fn deleting_a_verified_domain_frees_the_name() {
        let tenants = Tenants::default();
        let a = tenants.insert(Tenant::seeded(1));
        let b = tenants.insert(Tenant::seeded(2));
        add(&a, "contoso.example");
        verify(&a, "contoso.example").expect("free name");
        a.write().delete_domain("contoso.example", a.domain_claims()).expect("unused domain");
        add(&b, "contoso.example");
        verify(&b, "contoso.example").expect("freed by a");
        assert_eq!(tenants.resolve("contoso.example").map(|t| t.id), Some(b.id));
    }

    #[test]
    fn resetting_a_tenant_frees_its_verified_names() {
        let tenants = Tenants::default();
        let a = tenants.insert(Tenant::seeded(1));
        let b = tenants.insert(Tenant::seeded(2));
        add(&a, "contoso.example");
        verify(&a, "contoso.example").expect("free name");
        tenants.replace(Tenant::create(&a.options(), Some(&a.bootstrap)));
        add(&b, "contoso.example");
        verify(&b, "contoso.example").expect("freed by the reset");
    }

    #[test]
    fn an_unverified_domain_does_not_resolve_to_its_tenant() {
        let tenants = Tenants::default();
        let a = tenants.insert(Tenant::seeded(1));
        add(&a, "contoso.example");
        assert!(tenants.resolve("contoso.example").is_none());
        assert_eq!(tenants.resolve(&a.domain()).map(|t| t.id), Some(a.id));
    }

    #[test]
    fn saved_tenants_claiming_the_same_verified_domain_are_refused() {
        let (a, b) = (Tenant::seeded(1), Tenant::seeded(2));
        for t in [&a, &b] {
            add(t, "contoso.example");
            t.write().verify_domain("contoso.example", &DomainClaims::default()).expect("own registry");
        }
        let err = check_domain_claims(&[saved(&a), saved(&b)]).expect_err("both claim it");
        assert_eq!(err, DomainClaimConflict { domain: "contoso.example".into(), first: a.id, second: b.id });
        assert!(err.to_string().contains("remove it from one of them"));
        assert_eq!(check_domain_claims(&[saved(&a)]), Ok(()));
    }

    #[test]
    fn loading_one_tenant_that_claims_a_name_held_by_another_is_refused() {
        let tenants = Tenants::default();
        let a = tenants.insert(Tenant::seeded(1));
        add(&a, "contoso.example");
        verify(&a, "contoso.example").expect("free name");
        let b = tenants.insert(Tenant::seeded(2));
        let foreign = Tenant::seeded(2);
        add(&foreign, "contoso.example");
        foreign.write().verify_domain("contoso.example", &DomainClaims::default()).expect("own registry");
        let err = tenants.try_replace(Tenant::restore(saved(&foreign)).expect("a valid clock")).expect_err("held by a");
        assert_eq!((err.first, err.second), (a.id, b.id));
        assert_eq!(tenants.resolve("contoso.example").map(|t| t.id), Some(a.id));
    }
}
