//! The tenant's directory: every object, the indexes that keep its invariants
//! cheap to check, and soft-deleted objects. One `RwLock` guards the whole
//! directory (see `tenant.rs`), so an invariant that spans collections is checked
//! and applied atomically.

pub(crate) mod applications;
pub(crate) mod catalog;
pub(crate) mod consent;
pub(crate) mod organization;
pub(crate) mod query;
pub(crate) mod record;
pub(crate) mod roles;
pub(crate) mod schema;
pub(crate) mod service_principals;
pub(crate) mod users;

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::ids::IdGen;
use record::Record;
use users::USER;

/// A verified (or pending) domain of the tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Domain {
    pub name: String,
    pub is_verified: bool,
    pub is_initial: bool,
    pub is_default: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum ObjectKind {
    User,
    Group,
    Application,
    ServicePrincipal,
}

impl ObjectKind {
    pub(crate) fn type_name(self) -> &'static str {
        match self {
            ObjectKind::User => "microsoft.graph.user",
            ObjectKind::Group => "microsoft.graph.group",
            ObjectKind::Application => "microsoft.graph.application",
            ObjectKind::ServicePrincipal => "microsoft.graph.servicePrincipal",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct DeletedObject {
    pub kind: ObjectKind,
    #[serde(with = "time::serde::rfc3339")]
    pub deleted_at: OffsetDateTime,
    pub record: Record,
}

/// A salted SHA-256 of a password or secret: what is stored instead of the text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PasswordHash {
    salt: String,
    hash: String,
}

impl PasswordHash {
    pub(crate) fn new(text: &str) -> Self {
        use base64::Engine;
        let salt = base64::engine::general_purpose::STANDARD_NO_PAD.encode(crate::ids::secure_bytes::<12>());
        let hash = Self::digest(&salt, text);
        PasswordHash { salt, hash }
    }

    fn digest(salt: &str, text: &str) -> String {
        use base64::Engine;
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        ctx.update(salt.as_bytes());
        ctx.update(b":");
        ctx.update(text.as_bytes());
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(ctx.finish().as_ref())
    }

    /// Constant-time comparison, so a fake never teaches a timing oracle.
    pub(crate) fn matches(&self, text: &str) -> bool {
        let candidate = Self::digest(&self.salt, text);
        crate::ids::constant_time_eq(candidate.as_bytes(), self.hash.as_bytes())
    }
}

/// Everything in one tenant's directory.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Directory {
    pub tenant_id: Uuid,
    pub display_name: String,
    pub domains: Vec<Domain>,
    pub users: BTreeMap<Uuid, Record>,
    pub passwords: HashMap<Uuid, PasswordHash>,
    pub deleted: BTreeMap<Uuid, DeletedObject>,
    pub applications: BTreeMap<Uuid, Record>,
    pub service_principals: BTreeMap<Uuid, Record>,
    /// Client secrets by application object id, hashed.
    pub secrets: applications::SecretStore,
    /// Keyed internally by a GUID; the wire id is an opaque string property.
    pub app_role_assignments: BTreeMap<Uuid, Record>,
    pub oauth2_grants: BTreeMap<Uuid, Record>,
    pub role_assignments: Vec<roles::RoleAssignment>,
    /// Refresh tokens by the hash of their text.
    pub refresh_tokens: HashMap<String, crate::identity::delegated::RefreshGrant>,
    /// The organization, its sync configuration and its DirSync machine.
    #[serde(default)]
    pub organization: organization::Organization,
    ids: IdGen,
    #[serde(skip)]
    upn_index: HashMap<String, Uuid>,
    #[serde(skip)]
    proxy_index: HashMap<String, Uuid>,
    #[serde(skip)]
    app_ids: HashMap<Uuid, Uuid>,
    #[serde(skip)]
    sp_by_app_id: HashMap<Uuid, Uuid>,
}

impl Directory {
    pub(crate) fn new(tenant_id: Uuid, display_name: String, initial_domain: String, ids: IdGen) -> Self {
        Directory {
            tenant_id,
            display_name,
            domains: vec![Domain { name: initial_domain, is_verified: true, is_initial: true, is_default: true }],
            users: BTreeMap::new(),
            passwords: HashMap::new(),
            deleted: BTreeMap::new(),
            applications: BTreeMap::new(),
            service_principals: BTreeMap::new(),
            secrets: HashMap::new(),
            app_role_assignments: BTreeMap::new(),
            oauth2_grants: BTreeMap::new(),
            role_assignments: Vec::new(),
            refresh_tokens: HashMap::new(),
            organization: organization::Organization::default(),
            ids,
            upn_index: HashMap::new(),
            proxy_index: HashMap::new(),
            app_ids: HashMap::new(),
            sp_by_app_id: HashMap::new(),
        }
    }

    /// Rebuild the derived indexes after loading saved state.
    pub(crate) fn rebuild_indexes(&mut self) {
        self.upn_index.clear();
        self.proxy_index.clear();
        let users: Vec<Uuid> = self.users.keys().copied().collect();
        for id in users {
            let record = self.users.remove(&id).expect("key taken from the map");
            self.insert_user(record);
        }
        let guid = |r: &Record, schema: &schema::EntitySchema| {
            r.get_str(schema, "appId").and_then(|s| Uuid::parse_str(s).ok())
        };
        self.app_ids =
            self.applications.iter().filter_map(|(id, r)| Some((guid(r, &applications::APPLICATION)?, *id))).collect();
        self.sp_by_app_id = self
            .service_principals
            .iter()
            .filter_map(|(id, r)| Some((guid(r, &service_principals::SERVICE_PRINCIPAL)?, *id)))
            .collect();
        // State saved before the organization existed: give it one.
        if self.organization.record.id.is_nil() {
            self.seed_organization(OffsetDateTime::UNIX_EPOCH, 0);
        }
    }

    pub(crate) fn new_id(&mut self) -> Uuid {
        self.ids.uuid()
    }

    pub(crate) fn new_opaque_id(&mut self) -> String {
        self.ids.opaque_id()
    }

    pub(crate) fn initial_domain(&self) -> &str {
        self.domains.iter().find(|d| d.is_initial).map(|d| d.name.as_str()).unwrap_or_default()
    }

    pub(crate) fn is_verified_domain(&self, name: &str) -> bool {
        self.domains.iter().any(|d| d.is_verified && d.name.eq_ignore_ascii_case(name))
    }

    pub(crate) fn user_by_upn(&self, upn: &str) -> Option<Uuid> {
        self.upn_index.get(&upn.to_lowercase()).copied()
    }

    /// Who owns a proxy address; `SMTP:` and `smtp:` name the same address.
    pub(crate) fn proxy_owner(&self, address: &str) -> Option<Uuid> {
        self.proxy_index.get(&address.to_lowercase()).copied()
    }

    /// Find a user by object id or by UPN, as `/users/{id|upn}` does.
    pub(crate) fn find_user(&self, key: &str) -> Option<Uuid> {
        match Uuid::parse_str(key) {
            Ok(id) if self.users.contains_key(&id) => Some(id),
            _ => self.user_by_upn(key),
        }
    }

    pub(crate) fn insert_user(&mut self, record: Record) {
        let id = record.id;
        if let Some(upn) = record.get_str(&USER, "userPrincipalName") {
            self.upn_index.insert(upn.to_lowercase(), id);
        }
        if let Some(proxies) = record.get(&USER, "proxyAddresses").and_then(Value::as_array) {
            for p in proxies.iter().filter_map(Value::as_str) {
                self.proxy_index.insert(p.to_lowercase(), id);
            }
        }
        self.users.insert(id, record);
    }

    /// Take a user out of the map and every index (to change or delete it).
    pub(crate) fn remove_user_indexes(&mut self, id: Uuid) -> Option<Record> {
        let record = self.users.remove(&id)?;
        if let Some(upn) = record.get_str(&USER, "userPrincipalName") {
            self.upn_index.remove(&upn.to_lowercase());
        }
        if let Some(proxies) = record.get(&USER, "proxyAddresses").and_then(Value::as_array) {
            for p in proxies.iter().filter_map(Value::as_str) {
                self.proxy_index.remove(&p.to_lowercase());
            }
        }
        Some(record)
    }
}
