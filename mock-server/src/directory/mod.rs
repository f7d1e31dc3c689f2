//! The tenant's directory: every object, the indexes that keep its invariants
//! cheap to check, and soft-deleted objects. One `RwLock` guards the whole
//! directory (see `tenant.rs`), so an invariant that spans collections is checked
//! and applied atomically.

pub(crate) mod applications;
pub(crate) mod catalog;
pub(crate) mod changes;
pub(crate) mod consent;
pub(crate) mod csdl;
pub(crate) mod dates;
pub(crate) mod delta;
pub(crate) mod domains;
pub(crate) mod federated_credentials;
pub(crate) mod federation;
pub(crate) mod first_party;
pub(crate) mod groups;
pub(crate) mod implied;
pub(crate) mod keyed;
pub(crate) mod licenses;
pub(crate) mod organization;
mod owners;
pub(crate) mod query;
pub(crate) mod record;
pub(crate) mod replay;
pub(crate) mod roles;
pub(crate) mod schema;
pub(crate) mod service_principals;
pub(crate) mod sessions;
pub(crate) mod signin;
pub(crate) mod transitive;
pub(crate) mod users;

use std::collections::HashMap;

/// The directory's collections that grow with the tenant: persistent maps, so a
/// copy (a fork, a snapshot) shares every unchanged node and `diff` skips
/// shared subtrees (see `changes.rs`). The directory holds them as [`Keyed`],
/// which also names the keys a write changed, for the journal.
pub(crate) type Map<K, V> = imbl::OrdMap<K, V>;
pub(crate) use keyed::Keyed;

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
    /// Set while the domain is federated (`authenticationType` `Federated`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub federation: Option<federation::Federation>,
    /// A fork's copy of a name its origin holds verified: verified inside the
    /// fork (its UPNs keep working), but the server's registry keeps the name
    /// with the origin, so it is not this tenant's to resolve or release.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub borrowed: bool,
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
/// Salts need to be unique, not secret, so they come from the tenant's id
/// generator (the OS generator costs a system call per seeded user).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PasswordHash {
    salt: u64,
    #[serde(with = "base64_bytes")]
    hash: [u8; 32],
}

impl PasswordHash {
    pub(crate) fn new(salt: u64, text: &str) -> Self {
        PasswordHash { salt, hash: Self::digest(salt, text) }
    }

    fn digest(salt: u64, text: &str) -> [u8; 32] {
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        ctx.update(&salt.to_le_bytes());
        ctx.update(text.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.finish().as_ref());
        out
    }

    /// Constant-time comparison, so a fake never teaches a timing oracle.
    pub(crate) fn matches(&self, text: &str) -> bool {
        crate::ids::constant_time_eq(&Self::digest(self.salt, text), &self.hash)
    }
}

mod base64_bytes {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        let bytes = STANDARD.decode(text).map_err(serde::de::Error::custom)?;
        bytes.try_into().map_err(|_| serde::de::Error::custom("a password hash is 32 bytes"))
    }
}

/// Put `items`, sorted by key and with distinct keys, into a persistent
/// ordered collection through `put`, leaving its leaves full. imbl splits a
/// full leaf in half, so keys that only ever arrive past the last one leave
/// every leaf half empty: twice the memory of a collection filled in random
/// order. Every other item goes in first and the rest after, each into the
/// half-full leaf that spans it, filling it without a split. Distinct keys
/// give the same collection in any order, and consecutive inserts still land
/// side by side.
pub(crate) fn put_in_key_order<T>(items: Vec<T>, mut put: impl FnMut(T)) {
    let mut second = Vec::with_capacity(items.len() / 2);
    for (i, item) in items.into_iter().enumerate() {
        if i % 2 == 0 {
            put(item);
        } else {
            second.push(item);
        }
    }
    second.into_iter().for_each(put);
}

impl Directory {
    /// Hash a password or secret with a fresh salt.
    pub(crate) fn hash_secret(&mut self, text: &str) -> PasswordHash {
        PasswordHash::new(self.ids.next_u64(), text)
    }
}

/// Users past which [`Directory::rebuild_indexes`] builds on two threads.
const PARALLEL_REBUILD: usize = 20_000;

/// A user's entry in the name index: the lower-cased display name.
fn name_key(record: &Record) -> Option<(Box<str>, Uuid)> {
    Some((record.get_str(&USER, "displayName")?.to_lowercase().into_boxed_str(), record.id))
}

fn index_unique_into(
    upns: &mut imbl::HashMap<Box<str>, Uuid>,
    proxies: &mut imbl::HashMap<String, Uuid>,
    record: &Record,
) {
    let id = record.id;
    if let Some(upn) = record.get_str(&USER, "userPrincipalName") {
        upns.insert(upn.to_lowercase().into_boxed_str(), id);
    }
    if let Some(addresses) = record.get(&USER, "proxyAddresses").and_then(Value::as_array) {
        for p in addresses.iter().filter_map(Value::as_str) {
            proxies.insert(p.to_lowercase(), id);
        }
    }
}

/// The name index of `users`, filled in order. Sorted by each name's first
/// eight bytes before the whole name: most comparisons then read no string.
fn name_index_of(users: &Map<Uuid, Record>) -> imbl::OrdSet<(Box<str>, Uuid)> {
    let prefix = |name: &str| {
        let mut head = [0u8; 8];
        let n = name.len().min(8);
        head[..n].copy_from_slice(&name.as_bytes()[..n]);
        u64::from_be_bytes(head)
    };
    let mut keys: Vec<(u64, (Box<str>, Uuid))> =
        users.values().filter_map(name_key).map(|key| (prefix(&key.0), key)).collect();
    keys.sort_unstable();
    let mut index = imbl::OrdSet::new();
    put_in_key_order(keys, |(_, key)| {
        index.insert(key);
    });
    index
}

/// Everything in one tenant's directory. A clone shares every persistent map
/// with the original (forks and snapshots, see `fork.rs`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Directory {
    pub tenant_id: Uuid,
    pub display_name: String,
    pub domains: Vec<Domain>,
    pub users: Keyed<Uuid, Record>,
    /// Ordered rather than hashed: a million-user tenant's hash table at half
    /// load cost twice the bytes of full B-tree nodes, and sign-ins are rare.
    pub passwords: Keyed<Uuid, PasswordHash>,
    pub deleted: Keyed<Uuid, DeletedObject>,
    pub applications: Keyed<Uuid, Record>,
    pub service_principals: Keyed<Uuid, Record>,
    /// Client secrets by application object id, hashed.
    pub secrets: applications::SecretStore,
    /// Keyed internally by a GUID; the wire id is an opaque string property.
    pub app_role_assignments: Keyed<Uuid, Record>,
    pub oauth2_grants: Keyed<Uuid, Record>,
    /// Unified role assignments (wire id opaque), the source of both role views.
    pub role_assignments: Keyed<Uuid, Record>,
    /// Activated directory roles by object id.
    pub directory_roles: Keyed<Uuid, Record>,
    pub groups: Keyed<Uuid, Record>,
    pub group_links: Keyed<Uuid, groups::GroupLinks>,
    /// Change tracking for `/users/delta` and `/groups/delta`.
    #[serde(default)]
    pub user_changes: delta::ChangeLog,
    #[serde(default)]
    pub group_changes: delta::ChangeLog,
    /// `user → manager`.
    pub managers: Keyed<Uuid, Uuid>,
    /// Subscribed SKUs: one catalogue shared by every new tenant (a loaded state
    /// file gets its own copy).
    pub skus: std::borrow::Cow<'static, [licenses::Sku]>,
    /// Refresh tokens by the hash of their text.
    pub refresh_tokens: sessions::RefreshTokens,
    /// The organization, its sync configuration and its DirSync machine.
    #[serde(default)]
    pub organization: organization::Organization,
    /// Federated identity credentials by application object id.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub federated_credentials: Keyed<Uuid, Vec<Record>>,
    /// Owners (users, service principals) by application or service principal
    /// object id.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub owners: Keyed<Uuid, std::collections::BTreeSet<Uuid>>,
    /// Sign-in state between requests: codes, device codes, browser sessions,
    /// trusted external issuers.
    #[serde(default, skip_serializing_if = "signin::SignIn::is_default")]
    pub signin: signin::SignIn,
    ids: IdGen,
    /// Lower-cased UPNs; boxed, as they never grow (8 bytes a user less).
    #[serde(skip)]
    /// Persistent, like the collections, so a fork or snapshot shares it.
    upn_index: imbl::HashMap<Box<str>, Uuid>,
    #[serde(skip)]
    proxy_index: imbl::HashMap<String, Uuid>,
    /// Lower-cased display names, for `startswith(displayName, …)` without a scan.
    #[serde(skip)]
    name_index: imbl::OrdSet<(Box<str>, Uuid)>,
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
            domains: vec![Domain {
                name: initial_domain,
                is_verified: true,
                is_initial: true,
                is_default: true,
                federation: None,
                borrowed: false,
            }],
            users: Keyed::new(),
            passwords: Keyed::new(),
            deleted: Keyed::new(),
            applications: Keyed::new(),
            service_principals: Keyed::new(),
            secrets: Keyed::new(),
            app_role_assignments: Keyed::new(),
            oauth2_grants: Keyed::new(),
            role_assignments: Keyed::new(),
            directory_roles: Keyed::new(),
            groups: Keyed::new(),
            group_links: Keyed::new(),
            managers: Keyed::new(),
            user_changes: delta::ChangeLog::default(),
            group_changes: delta::ChangeLog::default(),
            skus: std::borrow::Cow::Borrowed(licenses::default_skus()),
            refresh_tokens: sessions::RefreshTokens::default(),
            organization: organization::Organization::default(),
            federated_credentials: Keyed::new(),
            owners: Keyed::new(),
            signin: signin::SignIn::default(),
            ids,
            upn_index: imbl::HashMap::new(),
            proxy_index: imbl::HashMap::new(),
            name_index: imbl::OrdSet::new(),
            app_ids: HashMap::new(),
            sp_by_app_id: HashMap::new(),
        }
    }

    /// Rebuild the derived indexes after loading saved state. At a million
    /// users this is seconds of work, so past [`PARALLEL_REBUILD`] users the
    /// unique keys are indexed on a second thread while this one builds the
    /// others, and the ordered indexes are filled in key order (a random-order
    /// insert walks to a different leaf each time).
    pub(crate) fn rebuild_indexes(&mut self) {
        // Files hold every value (see `Record`'s `Serialize`), including those
        // this build implies instead of storing. Replay parses users compacted
        // already, so usually there is nothing to do here but look.
        let stored_in_full: Vec<Uuid> =
            self.users.iter().filter(|(_, r)| !implied::is_compact(r)).map(|(id, _)| *id).collect();
        for id in stored_in_full {
            if let Some(record) = self.users.get_mut(&id) {
                implied::compact(record);
            }
        }
        let users = &self.users;
        let unique = || {
            let (mut upns, mut proxies) = (imbl::HashMap::new(), imbl::HashMap::new());
            for record in users.values() {
                index_unique_into(&mut upns, &mut proxies, record);
            }
            (upns, proxies)
        };
        let (user_changes, group_changes) = (&mut self.user_changes, &mut self.group_changes);
        let mut the_rest = || {
            user_changes.reindex();
            group_changes.reindex();
            name_index_of(users)
        };
        let ((upns, proxies), names) = if users.len() < PARALLEL_REBUILD {
            (unique(), the_rest())
        } else {
            std::thread::scope(|s| {
                match std::thread::Builder::new().name("graphbox-index".into()).spawn_scoped(s, unique) {
                    Ok(thread) => {
                        let names = the_rest();
                        (thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)), names)
                    }
                    Err(_) => (unique(), the_rest()),
                }
            })
        };
        (self.upn_index, self.proxy_index, self.name_index) = (upns, proxies, names);
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

    /// A fork draws its ids from its own seed, not its origin's sequence.
    pub(crate) fn reseed_ids(&mut self, ids: IdGen) {
        self.ids = ids;
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
        self.upn_index.get(upn.to_lowercase().as_str()).copied()
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

    /// Put a user (new or changed) into the map and every index, and record the
    /// change for delta queries.
    pub(crate) fn insert_user(&mut self, mut record: Record) {
        implied::compact(&mut record);
        self.index_user(&record);
        self.user_changes.touch(record.id);
        self.users.insert(record.id, record);
    }

    fn index_user(&mut self, record: &Record) {
        if let Some(key) = name_key(record) {
            self.name_index.insert(key);
        }
        self.index_unique(record);
    }

    /// Index what must be unique across the tenant (UPN, proxy addresses).
    fn index_unique(&mut self, record: &Record) {
        index_unique_into(&mut self.upn_index, &mut self.proxy_index, record);
    }

    /// Take a user out of the map and every index (to change or delete it).
    pub(crate) fn remove_user_indexes(&mut self, id: Uuid) -> Option<Record> {
        let record = self.users.remove(&id)?;
        if let Some(name) = record.get_str(&USER, "displayName") {
            self.name_index.remove(&(name.to_lowercase().into_boxed_str(), id));
        }
        if let Some(upn) = record.get_str(&USER, "userPrincipalName") {
            self.upn_index.remove(upn.to_lowercase().as_str());
        }
        if let Some(proxies) = record.get(&USER, "proxyAddresses").and_then(Value::as_array) {
            for p in proxies.iter().filter_map(Value::as_str) {
                self.proxy_index.remove(&p.to_lowercase());
            }
        }
        Some(record)
    }
}

impl Directory {
    /// A domain of the tenant by name (case-insensitive).
    pub(crate) fn domain(&self, name: &str) -> Option<&Domain> {
        self.domains.iter().find(|d| d.name.eq_ignore_ascii_case(name))
    }

    /// A domain as Graph shows it.
    pub(crate) fn domain_json(&self, d: &Domain) -> serde_json::Map<String, Value> {
        serde_json::json!({
            "authenticationType": if d.federation.is_some() { "Federated" } else { "Managed" }, "availabilityStatus": null, "id": d.name, "isAdminManaged": true,
            "isDefault": d.is_default, "isInitial": d.is_initial, "isRoot": true, "isVerified": d.is_verified,
            "passwordNotificationWindowInDays": 14, "passwordValidityPeriodInDays": 2147483647,
            "supportedServices": if d.is_verified { serde_json::json!(["Email", "OfficeCommunicationsOnline"]) } else { serde_json::json!([]) },
            "state": null,
        })
        .as_object()
        .expect("a JSON object literal")
        .clone()
    }

    /// The TXT record that would prove ownership of a domain.
    pub(crate) fn verification_record(&self, d: &Domain) -> Value {
        let digest = ring::digest::digest(&ring::digest::SHA256, format!("{}:{}", self.tenant_id, d.name).as_bytes());
        let code: String = digest.as_ref()[..4].iter().map(|b| format!("{b:02x}")).collect();
        serde_json::json!({
            "@odata.type": "#microsoft.graph.domainDnsTxtRecord", "id": format!("aceff52c-06a5-447f-ac5f-{code}0000"),
            "isOptional": false, "label": d.name, "recordType": "Txt", "supportedService": "Email", "ttl": 3600,
            "text": format!("MS=ms{}", u32::from_str_radix(&code, 16).unwrap_or(0)),
        })
    }

    /// `POST /domains` with `{"id": "contoso.example"}`: added unverified.
    pub(crate) fn add_domain(
        &mut self,
        body: &serde_json::Map<String, Value>,
    ) -> Result<String, crate::error::ApiError> {
        use crate::error::ApiError;
        // The generic check: known names only, each of its JSON type.
        schema::validate_write(&domains::DOMAIN_CREATE, body)?;
        let name = body.get("id").and_then(Value::as_str).ok_or_else(|| ApiError::value_required("id", "Domain"))?;
        let labels: Vec<&str> = name.split('.').collect();
        let valid = labels.len() >= 2
            && name.len() <= 253
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !valid {
            return Err(ApiError::invalid_values());
        }
        if name.to_ascii_lowercase().ends_with(".onmicrosoft.com") {
            return Err(ApiError::request_bad_request(
                "Domains ending in onmicrosoft.com are reserved for initial domains.",
            ));
        }
        if self.domain(name).is_some() {
            return Err(ApiError::request_bad_request(
                "A conflicting object with one or more of the specified property values is present in the directory.",
            ));
        }
        let name = name.to_ascii_lowercase();
        self.domains.push(Domain {
            name: name.clone(),
            is_verified: false,
            is_initial: false,
            is_default: false,
            federation: None,
            borrowed: false,
        });
        Ok(name)
    }

    /// `POST /domains/{id}/verify`. The mock has no DNS to look at, so
    /// verification succeeds (see the fidelity notes) unless another tenant of
    /// the server holds the name verified: `claims` is the server's registry,
    /// and the claim is taken before the domain is marked, atomically.
    pub(crate) fn verify_domain(
        &mut self,
        name: &str,
        claims: &domains::DomainClaims,
    ) -> Result<(), crate::error::ApiError> {
        let tenant = self.tenant_id;
        let d = self
            .domains
            .iter_mut()
            .find(|d| d.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| crate::error::ApiError::not_found(name))?;
        claims.claim(&d.name, tenant).map_err(|_| domains::verified_elsewhere(&d.name))?;
        d.is_verified = true;
        d.borrowed = false;
        Ok(())
    }

    /// The names this tenant holds verified, for the server's registry.
    pub(crate) fn verified_domain_names(&self) -> impl Iterator<Item = &str> {
        self.domains.iter().filter(|d| d.is_verified && !d.borrowed).map(|d| d.name.as_str())
    }

    /// `DELETE /domains/{id}`: refused for the initial domain and while users
    /// use it; a verified name is given back to the server's registry.
    pub(crate) fn delete_domain(
        &mut self,
        name: &str,
        claims: &domains::DomainClaims,
    ) -> Result<(), crate::error::ApiError> {
        use crate::error::ApiError;
        let d = self.domain(name).ok_or_else(|| ApiError::not_found(name))?;
        if d.is_initial {
            return Err(ApiError::request_bad_request("The initial domain of a tenant cannot be deleted."));
        }
        if d.federation.is_some() {
            // Entra keeps a federated domain until it is managed again.
            return Err(ApiError::request_bad_request(format!(
                "Domain '{}' is federated. Delete its federation configuration before deleting the domain.",
                d.name
            )));
        }
        let suffix = format!("@{}", d.name);
        if self.upn_index.keys().any(|upn| upn.ends_with(&suffix)) {
            return Err(ApiError::request_bad_request(format!(
                "Domain '{}' cannot be deleted because it is referenced by one or more objects.",
                d.name
            )));
        }
        if d.is_verified && !d.borrowed {
            claims.release(&d.name, self.tenant_id);
        }
        self.domains.retain(|x| !x.name.eq_ignore_ascii_case(name));
        Ok(())
    }
}

impl Directory {
    /// Users whose display name starts with `prefix`, ignoring case: the
    /// candidates for `startswith(displayName, prefix)`.
    pub(crate) fn users_with_name_prefix(&self, prefix: &str) -> Vec<Uuid> {
        let prefix = prefix.to_lowercase();
        self.name_index
            .range((Box::from(prefix.as_str()), Uuid::nil())..)
            .take_while(|(name, _)| name.starts_with(&prefix))
            .map(|(_, id)| *id)
            .collect()
    }
}
