//! Tenants: each one a clock, a directory behind one lock, a bounded request log
//! and the bootstrap credentials it was created with. The registry maps tenant ids
//! and domain names to tenants; the map guard is never held past a lookup.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use dashmap::DashMap;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::clock::TenantClock;
use crate::directory::applications::APPLICATION;
use crate::directory::catalog::GLOBAL_ADMINISTRATOR_TEMPLATE;
use crate::directory::users::USER;
use crate::directory::Directory;
use crate::ids::IdGen;

/// How many requests a tenant's log keeps; older ones fall off.
pub(crate) const REQUEST_LOG_CAPACITY: usize = 1000;

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

/// One entry of the request log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct LoggedRequest {
    pub request_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub client_id: Option<Uuid>,
}

#[derive(Debug)]
pub(crate) struct Tenant {
    pub id: Uuid,
    pub clock: TenantClock,
    pub directory: RwLock<Directory>,
    pub bootstrap: BootstrapCredentials,
    options: TenantOptions,
    requests: Mutex<VecDeque<LoggedRequest>>,
    /// Scripted failures (`PUT /_graphbox/tenants/{tid}/faults`).
    pub(crate) faults: crate::faults::Faults,
}

/// Options for a new tenant.
#[derive(Debug, Clone, Default)]
pub(crate) struct TenantOptions {
    pub seed: u64,
    pub frozen_at: Option<OffsetDateTime>,
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

        Tenant {
            id,
            clock,
            directory: RwLock::new(dir),
            bootstrap: BootstrapCredentials { client_id, client_secret, admin_username, admin_password },
            options: options.clone(),
            requests: Mutex::new(VecDeque::new()),
            faults: Default::default(),
        }
    }

    /// Rebuild a tenant from saved state; refused when its clock is past what
    /// the server can represent (a tenant that would fail every request).
    pub(crate) fn restore(saved: crate::state::SavedTenant) -> Result<Tenant, crate::clock::ClockOutOfRange> {
        let clock = TenantClock::with_offset(saved.frozen_at, saved.clock_offset)?;
        let mut dir = saved.directory;
        dir.rebuild_indexes();
        Ok(Tenant {
            id: saved.id,
            clock,
            directory: RwLock::new(dir),
            bootstrap: saved.bootstrap,
            options: TenantOptions { seed: saved.seed, frozen_at: saved.frozen_at },
            requests: Mutex::new(VecDeque::new()),
            faults: Default::default(),
        })
    }

    pub(crate) fn read(&self) -> std::sync::RwLockReadGuard<'_, Directory> {
        // A panic while holding the lock would be a bug; the data itself is
        // still consistent (writes validate before applying), so keep serving.
        self.directory.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn write(&self) -> std::sync::RwLockWriteGuard<'_, Directory> {
        self.directory.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Deliver the tenant clock to the DirSync machine: fire a deadline that has
    /// passed (`dirsync.rs` says why this happens at request intake). Takes the
    /// write lock only when a deadline is due.
    pub(crate) fn settle_dirsync(&self) {
        let now = self.clock.now();
        if self.read().organization.dirsync.state.is_due(now) {
            self.write().settle_dirsync(now);
        }
    }

    /// What the tenant was created from (a reset recreates it from these).
    pub(crate) fn options(&self) -> TenantOptions {
        self.options.clone()
    }

    pub(crate) fn domain(&self) -> String {
        self.read().initial_domain().to_owned()
    }

    pub(crate) fn log_request(&self, entry: LoggedRequest) {
        let mut log = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        if log.len() == REQUEST_LOG_CAPACITY {
            log.pop_front();
        }
        log.push_back(entry);
    }

    pub(crate) fn requests(&self) -> Vec<LoggedRequest> {
        self.requests.lock().unwrap_or_else(|e| e.into_inner()).iter().cloned().collect()
    }
}

/// All tenants of one server, by id and by domain name.
#[derive(Debug, Default)]
pub(crate) struct Tenants {
    by_id: DashMap<Uuid, Arc<Tenant>>,
    by_domain: DashMap<String, Uuid>,
}

impl Tenants {
    pub(crate) fn insert(&self, tenant: Tenant) -> Arc<Tenant> {
        let tenant = Arc::new(tenant);
        let domains: Vec<String> = tenant.read().domains.iter().map(|d| d.name.to_lowercase()).collect();
        for d in domains {
            self.by_domain.insert(d, tenant.id);
        }
        self.by_id.insert(tenant.id, tenant.clone());
        tenant
    }

    /// Replace a tenant in place (reset, state load), keeping its id.
    pub(crate) fn replace(&self, tenant: Tenant) -> Arc<Tenant> {
        self.by_domain.retain(|_, id| *id != tenant.id);
        self.insert(tenant)
    }

    pub(crate) fn get(&self, id: Uuid) -> Option<Arc<Tenant>> {
        self.by_id.get(&id).map(|t| t.value().clone())
    }

    /// Look a tenant up the way the identity platform does: by GUID or by any of
    /// its domain names.
    pub(crate) fn resolve(&self, tenant: &str) -> Option<Arc<Tenant>> {
        match Uuid::parse_str(tenant) {
            Ok(id) => self.get(id),
            Err(_) => {
                let found = self.by_domain.get(&tenant.to_lowercase()).map(|id| *id.value());
                match found {
                    Some(id) => self.get(id),
                    // Domains verified after the tenant was created are not in the
                    // index; tenants are few, so look through them.
                    None => self.all().into_iter().find(|t| t.read().is_verified_domain(tenant)),
                }
            }
        }
    }

    pub(crate) fn all(&self) -> Vec<Arc<Tenant>> {
        let mut v: Vec<Arc<Tenant>> = self.by_id.iter().map(|t| t.value().clone()).collect();
        v.sort_by_key(|t| t.id);
        v
    }
}
