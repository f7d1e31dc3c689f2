//! Users: the schema and the writes,
//! with every invariant checked under the directory's write lock: unique UPN,
//! UPN domain verified, proxy addresses unique across the tenant, password
//! complexity, write access per property.

use serde_json::{Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use super::csdl::{self, merge, merged_len};
use super::implied::Implied;
use super::record::Record;
use super::schema::{prop, EntitySchema, FilterProfile as F, PropType as T, PropertyDef};
use super::Directory;
use crate::clock::format_datetime;
use crate::error::ApiError;
use crate::odata::Support;

const fn text(name: &'static str) -> PropertyDef {
    prop(name, T::String).filter(F::Text).orderby(Support::Advanced)
}

const fn advanced_text(name: &'static str) -> PropertyDef {
    prop(name, T::String).filter(F::AdvancedOnly).orderby(Support::Advanced)
}

/// The user type's properties, a constant so `implied.rs` can resolve positions
/// at compile time. `id` is first in every schema (records rely on it).
pub(crate) const USER_PROPS: &[PropertyDef] = &[
    prop("id", T::Guid).read_only().default_set().filter(F::Key),
    // Lengths: the user resource's documented limits; strings without one get
    // schema::UNDOCUMENTED_MAX_LEN.
    prop("aboutMe", T::String),
    prop("accountEnabled", T::Bool).filter(F::Key),
    prop("ageGroup", T::String),
    prop("assignedLicenses", T::ComplexList("microsoft.graph.assignedLicense")).read_only().filter(F::AnyEq),
    prop("assignedPlans", T::ComplexList("microsoft.graph.assignedPlan")).read_only(),
    prop("businessPhones", T::StringList).default_set(),
    text("city").max_len(128),
    advanced_text("companyName").max_len(64),
    prop("consentProvidedForMinor", T::String),
    text("country").max_len(128),
    prop("createdDateTime", T::DateTime).read_only().filter(F::Created).orderby(Support::Advanced),
    prop("creationType", T::String).read_only().filter(F::Enumish),
    text("department").max_len(64),
    text("displayName").max_len(256).default_set().orderby(Support::Default).searchable(),
    prop("employeeHireDate", T::DateTime).filter(F::AdvancedOnly),
    text("employeeId").max_len(16),
    advanced_text("employeeType"),
    prop("externalUserState", T::String).read_only(),
    advanced_text("faxNumber"),
    text("givenName").max_len(64).default_set().searchable(),
    prop("identities", T::ComplexList("microsoft.graph.objectIdentity")).filter(F::AnyEq),
    prop("imAddresses", T::StringList).read_only().filter(F::AnyText),
    text("jobTitle").max_len(128).default_set(),
    prop("lastPasswordChangeDateTime", T::DateTime).read_only(),
    prop("mail", T::String).default_set().filter(F::TextEndsWith).orderby(Support::Advanced).searchable(),
    text("mailNickname").max_len(64).searchable(),
    advanced_text("mobilePhone").max_len(64).default_set(),
    advanced_text("officeLocation").max_len(128).default_set(),
    prop("onPremisesDistinguishedName", T::String).read_only(),
    prop("onPremisesDomainName", T::String).read_only(),
    prop("onPremisesImmutableId", T::String).filter(F::TextNotNull),
    prop("onPremisesLastSyncDateTime", T::DateTime).read_only().filter(F::DateTime),
    advanced_text("onPremisesSamAccountName").read_only(),
    prop("onPremisesSecurityIdentifier", T::String).read_only(),
    prop("onPremisesSyncEnabled", T::Bool).read_only().filter(F::Key),
    prop("onPremisesUserPrincipalName", T::String).read_only(),
    prop("otherMails", T::StringList).filter(F::AnyText),
    prop("passwordPolicies", T::String),
    prop("passwordProfile", T::Complex("microsoft.graph.passwordProfile")),
    advanced_text("postalCode").max_len(40),
    advanced_text("preferredLanguage").default_set(),
    prop("proxyAddresses", T::StringList).read_only().filter(F::AnyText),
    prop("securityIdentifier", T::String).read_only(),
    prop("showInAddressList", T::Bool).filter(F::AdvancedOnly),
    text("state").max_len(128),
    advanced_text("streetAddress").max_len(1024),
    text("surname").max_len(64).default_set().searchable(),
    text("usageLocation"),
    prop("userPrincipalName", T::String).default_set().filter(F::Upn).orderby(Support::Default).searchable(),
    prop("userType", T::String).filter(F::Enumish),
    // Properties the service maintains, among those only the CSDL lists
    // (csdl.rs adds the rest as stored-as-given). Graph refuses a write to them.
    prop("deletedDateTime", T::DateTime).read_only(),
    prop("externalUserStateChangeDateTime", T::DateTime).default_only(),
    prop("identityParentId", T::String).default_only(),
    prop("isManagementRestricted", T::Bool).default_only(),
    prop("legalAgeGroupClassification", T::String).default_only(),
    prop("licenseAssignmentStates", T::ComplexList("microsoft.graph.licenseAssignmentState")).default_only(),
    prop("onPremisesProvisioningErrors", T::ComplexList("microsoft.graph.onPremisesProvisioningError")).default_only(),
    prop("print", T::Complex("microsoft.graph.userPrint")).default_only(),
    prop("provisionedPlans", T::ComplexList("microsoft.graph.provisionedPlan")).default_only(),
    prop("serviceProvisioningErrors", T::ComplexList("microsoft.graph.serviceProvisioningError")).default_only(),
    prop("signInActivity", T::Complex("microsoft.graph.signInActivity")).default_only(),
    prop("signInSessionsValidFromDateTime", T::DateTime).default_only(),
];

/// The hand-written rows, then every other property of Microsoft's user type.
const USER_ALL: [PropertyDef; merged_len(USER_PROPS, csdl::USER)] = merge(USER_PROPS, csdl::USER);

/// The user type.
pub(crate) static USER: EntitySchema = EntitySchema::new(
    "microsoft.graph.user",
    "User",
    &USER_ALL,
    &[
        ("microsoft.graph.assignedLicense", "skuId", T::Guid),
        ("microsoft.graph.objectIdentity", "issuer", T::String),
        ("microsoft.graph.objectIdentity", "issuerAssignedId", T::String),
        ("microsoft.graph.objectIdentity", "signInType", T::String),
    ],
);

/// Properties a directory-synced user's source owns; only the sync engine may
/// change them while DirSync is on.
pub(crate) const SOURCE_MASTERED: &[&str] = &[
    "accountEnabled",
    "city",
    "companyName",
    "country",
    "department",
    "displayName",
    "employeeId",
    "faxNumber",
    "givenName",
    "jobTitle",
    "mail",
    "mailNickname",
    "mobilePhone",
    "officeLocation",
    "onPremisesImmutableId",
    "otherMails",
    "passwordProfile",
    "postalCode",
    "state",
    "streetAddress",
    "surname",
    "userPrincipalName",
];

/// Required on create besides `passwordProfile`, whose password is checked apart.
const REQUIRED_ON_CREATE: &[&str] = &["accountEnabled", "displayName", "mailNickname", "userPrincipalName"];

/// A validated write: property positions and values, plus the password if one
/// was given (never stored as a property).
struct Changes {
    values: Vec<(usize, Value)>,
    password: Option<String>,
}

/// Check a POST/PATCH body: the generic schema checks, then the password, which
/// is never stored as a property.
fn validate_body(body: &Map<String, Value>, creating: bool) -> Result<Changes, ApiError> {
    let mut values = super::schema::validate_write(&USER, body)?;
    let mut password = None;
    if let Some(i) = values.iter().position(|(pos, _)| USER.props[*pos].name == "passwordProfile") {
        // Graph never shows a password profile back (documented:
        // it comes back null), so only the password's hash is kept.
        let (_, value) = values.remove(i);
        match value {
            Value::Object(mut profile) => {
                for key in profile.keys() {
                    if !matches!(
                        key.as_str(),
                        "password"
                            | "forceChangePasswordNextSignIn"
                            | "forceChangePasswordNextSignInWithMfa"
                            | "@odata.type"
                    ) {
                        return Err(ApiError::request_bad_request(format!("Invalid property '{key}'.")));
                    }
                }
                match profile.remove("password") {
                    Some(Value::String(p)) => {
                        check_password_complexity(&p)?;
                        password = Some(p);
                    }
                    Some(Value::Null) | None if creating => {
                        return Err(ApiError::value_required("passwordProfile.password", USER.resource_name))
                    }
                    Some(Value::Null) | None => {}
                    Some(_) => return Err(ApiError::invalid_values()),
                }
            }
            _ if creating => return Err(ApiError::value_required("passwordProfile", USER.resource_name)),
            _ => {}
        }
    }
    Ok(Changes { values, password })
}

/// Entra's rule: 8–256 characters with three of lower case, upper case,
/// digits and symbols.
fn check_password_complexity(p: &str) -> Result<(), ApiError> {
    let classes = [
        p.chars().any(|c| c.is_lowercase()),
        p.chars().any(|c| c.is_uppercase()),
        p.chars().any(|c| c.is_ascii_digit()),
        p.chars().any(|c| !c.is_alphanumeric()),
    ];
    let len = p.chars().count();
    if !(8..=256).contains(&len) || classes.iter().filter(|b| **b).count() < 3 {
        return Err(ApiError::request_bad_request(
            "The specified password does not comply with password complexity requirements. Please provide a different password.",
        ));
    }
    Ok(())
}

/// Validate individual values that have a format beyond their JSON type.
fn check_formats(dir: &Directory, changes: &Changes) -> Result<(), ApiError> {
    for (pos, value) in &changes.values {
        let name = USER.props[*pos].name;
        let Some(s) = value.as_str() else { continue };
        match name {
            "userPrincipalName" => check_upn(dir, s)?,
            "mailNickname" => {
                let ok = !s.is_empty()
                    && s.len() <= 64
                    && s.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
                if !ok {
                    return Err(ApiError::invalid_values());
                }
            }
            "usageLocation" if !(s.len() == 2 && s.chars().all(|c| c.is_ascii_uppercase())) => {
                return Err(ApiError::invalid_values());
            }
            "mail" if !is_address(s) => return Err(ApiError::invalid_values()),
            "onPremisesImmutableId" if s.contains('$') || s.contains('_') || s.is_empty() => {
                return Err(ApiError::invalid_values());
            }
            "displayName" if s.trim().is_empty() => {
                return Err(ApiError::value_required("displayName", USER.resource_name));
            }
            _ => {}
        }
    }
    Ok(())
}

fn is_address(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

fn check_upn(dir: &Directory, upn: &str) -> Result<(), ApiError> {
    if !is_address(upn) || upn.len() > 113 || upn.starts_with('.') {
        return Err(ApiError::invalid_values());
    }
    let domain = upn.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
    if !dir.is_verified_domain(domain) {
        return Err(ApiError::request_bad_request(
            "The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.",
        ));
    }
    Ok(())
}

fn upn_conflict() -> ApiError {
    ApiError::request_bad_request("Another object with the same value for property userPrincipalName already exists.")
        .with_detail("userPrincipalName", "ObjectConflict")
}

fn proxy_conflict() -> ApiError {
    ApiError::request_bad_request("Another object with the same value for property proxyAddresses already exists.")
        .with_detail("proxyAddresses", "ObjectConflict")
}

impl Directory {
    /// `POST /users`. Returns the new user's id.
    pub(crate) fn create_user(&mut self, body: &Map<String, Value>, now: OffsetDateTime) -> Result<Uuid, ApiError> {
        let (record, password) = self.new_user(body, &Value::String(format_datetime(now)))?;
        let id = record.id;
        self.passwords.insert(id, password);
        self.insert_user(record);
        Ok(id)
    }

    /// `POST /users` for each of `users` in turn, as a start-up seed does: the
    /// same checks, ids and users as [`Directory::create_user`] for each, with
    /// the ordered maps built once at the end instead of one insertion at a
    /// time (half the time of a million-user seed, and full B-tree nodes).
    ///
    /// Each body is dropped once its user is built, so a lazy `users` never has
    /// more than one in memory.
    ///
    /// # Errors
    /// The index and error of the first body refused; the users before it exist.
    pub(crate) fn create_users(
        &mut self,
        users: impl Iterator<Item = Map<String, Value>>,
        now: OffsetDateTime,
    ) -> Result<usize, (usize, ApiError)> {
        let expected = users.size_hint().0;
        let created = Value::String(format_datetime(now));
        let mut batch: Vec<(Uuid, Record)> = Vec::with_capacity(expected);
        let mut names: Vec<(Box<str>, Uuid)> = Vec::with_capacity(expected);
        let mut passwords: Vec<(Uuid, super::PasswordHash)> = Vec::with_capacity(expected);
        let mut refused = None;
        for (index, body) in users.enumerate() {
            match self.new_user(&body, &created) {
                Ok((record, password)) => {
                    self.index_unique(&record);
                    if let Some(name) = record.get_str(&USER, "displayName") {
                        names.push((name.to_lowercase().into_boxed_str(), record.id));
                    }
                    passwords.push((record.id, password));
                    batch.push((record.id, record));
                }
                Err(e) => {
                    refused = Some((index, e));
                    break;
                }
            }
        }
        let created_count = batch.len();
        self.user_changes.touch_new(batch.iter().map(|(id, _)| *id));
        self.users.extend(batch);
        self.name_index.extend(names);
        self.passwords.extend(passwords);
        match refused {
            Some(r) => Err(r),
            None => Ok(created_count),
        }
    }

    /// Check a `POST /users` body and build the user it creates, with its id and
    /// password hash; storing and indexing them is the caller's.
    fn new_user(
        &mut self,
        body: &Map<String, Value>,
        created: &Value,
    ) -> Result<(Record, super::PasswordHash), ApiError> {
        if self.organization.dirsync.refuses_user_writes() {
            return Err(super::organization::strict_pending_refusal());
        }
        let mut changes = validate_body(body, true)?;
        for required in REQUIRED_ON_CREATE {
            let present = changes.values.iter().any(|(pos, v)| USER.props[*pos].name == *required && !v.is_null());
            if !present {
                return Err(ApiError::value_required(required, USER.resource_name));
            }
        }
        let Some(password) = changes.password.take() else {
            return Err(ApiError::value_required("passwordProfile", USER.resource_name));
        };
        check_formats(self, &changes)?;
        let upn = changes
            .values
            .iter()
            .find(|(pos, _)| USER.props[*pos].name == "userPrincipalName")
            .and_then(|(_, v)| v.as_str())
            .expect("userPrincipalName is required and a string (checked above)");
        if self.user_by_upn(upn).is_some() {
            return Err(upn_conflict());
        }
        if self.federation_for_upn(upn).is_some() {
            let anchored =
                changes.values.iter().any(|(pos, v)| USER.props[*pos].name == "onPremisesImmutableId" && !v.is_null());
            if !anchored {
                return Err(super::federation::source_anchor_required());
            }
        }
        let mail = changes.values.iter().find(|(pos, _)| USER.props[*pos].name == "mail").and_then(|(_, v)| v.as_str());
        let proxies: Vec<String> = mail.iter().map(|m| format!("SMTP:{m}")).collect();
        if proxies.iter().any(|p| self.proxy_owner(p).is_some()) {
            return Err(proxy_conflict());
        }

        let id = self.new_id();
        let identities = USER.position("identities").expect("a user property");
        let user_type = USER.position("userType").expect("a user property");
        // A body's identities are replaced by the UPN's (implied below), and a
        // null is no value: neither is stored.
        let stored = |(pos, v): &(usize, Value)| *pos != identities && !v.is_null();
        // Exactly the capacity kept: a spare 88-byte slot a user is 88 MB at a million.
        let capacity = changes.values.iter().filter(|pv| stored(pv)).count() + 1 + usize::from(!proxies.is_empty());
        let mut props: Vec<(u16, Value)> = Vec::with_capacity(capacity);
        props.extend(changes.values.into_iter().filter(stored).map(|(p, v)| (p as u16, v)));
        let typed = props.iter().any(|(pos, _)| usize::from(*pos) == user_type);
        props.push((USER.position("createdDateTime").expect("a user property") as u16, created.clone()));
        if !proxies.is_empty() {
            props.push((USER.position("proxyAddresses").expect("a user property") as u16, Value::from(proxies)));
        }
        props.sort_unstable_by_key(|(pos, _)| *pos);
        // The id, the UPN's identity, the password change at creation and (unless
        // the body names one) userType Member are implied, not stored.
        let implied = if typed { Implied::NEW_USER_WITH_TYPE } else { Implied::NEW_MEMBER };
        let mut record = Record::from_sorted(id, props, implied);
        super::implied::compact(&mut record);
        Ok((record, self.hash_secret(&password)))
    }

    /// `PATCH /users/{id|upn}`. `authorize` sees the properties the body
    /// touches and the target's directory roles once the body is known to be
    /// well formed, and before any state is checked or changed: whether the
    /// caller may touch this user's sensitive properties is authz's to say.
    pub(crate) fn update_user(
        &mut self,
        id: Uuid,
        body: &Map<String, Value>,
        now: OffsetDateTime,
        authorize: impl FnOnce(&[&str], &[Uuid]) -> Result<(), ApiError>,
    ) -> Result<(), ApiError> {
        let changes = validate_body(body, false)?;
        check_formats(self, &changes)?;
        let current = self.users.get(&id).ok_or_else(|| ApiError::not_found(&id.to_string()))?;
        let mut touched: Vec<&str> = changes.values.iter().map(|(pos, _)| USER.props[*pos].name).collect();
        if body.contains_key("passwordProfile") {
            touched.push("passwordProfile");
        }
        authorize(&touched, &self.role_template_ids_of(id))?;
        if self.organization.dirsync.refuses_user_writes() {
            return Err(super::organization::strict_pending_refusal());
        }
        // Still synced until DirSync reaches Disabled, which converts the user.
        let still_synced = self.organization.dirsync.state != crate::dirsync::State::Disabled;
        if still_synced && current.get(&USER, "onPremisesSyncEnabled") == Some(&Value::Bool(true)) {
            let touches_mastered =
                changes.values.iter().any(|(pos, _)| SOURCE_MASTERED.contains(&USER.props[*pos].name))
                    || changes.password.is_some();
            if touches_mastered {
                return Err(ApiError::request_bad_request(
                    "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.",
                ));
            }
        }
        let mut new_upn = None;
        let mut new_mail = None;
        for (pos, v) in &changes.values {
            match USER.props[*pos].name {
                "userPrincipalName" => new_upn = v.as_str().map(str::to_owned),
                "mail" => new_mail = Some(v.as_str().map(str::to_owned)),
                _ => {}
            }
        }
        if let Some(upn) = &new_upn {
            if self.user_by_upn(upn).is_some_and(|other| other != id) {
                return Err(upn_conflict());
            }
        }
        if changes.values.iter().any(|(pos, v)| USER.props[*pos].name == "userPrincipalName" && v.is_null()) {
            return Err(ApiError::value_required("userPrincipalName", USER.resource_name));
        }
        self.check_federated_user_write(current, &changes.values, changes.password.is_some())?;
        if let Some(Some(mail)) = &new_mail {
            let key = format!("SMTP:{mail}");
            if self.proxy_owner(&key).is_some_and(|owner| owner != id) {
                return Err(proxy_conflict());
            }
        }

        // Every check passed: apply all of it.
        let mut record = self.remove_user_indexes(id).expect("the user exists (looked up above)");
        for (pos, value) in changes.values {
            record.set_at(pos, value);
        }
        if let Some(mail) = new_mail {
            let mut proxies: Vec<Value> = record
                .get(&USER, "proxyAddresses")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter(|p| !p.as_str().is_some_and(|s| s.starts_with("SMTP:"))).cloned().collect())
                .unwrap_or_default();
            if let Some(m) = mail {
                proxies.insert(0, Value::String(format!("SMTP:{m}")));
            }
            record.set(&USER, "proxyAddresses", if proxies.is_empty() { Value::Null } else { Value::Array(proxies) });
        }
        if let Some(upn) = new_upn {
            record.set(&USER, "identities", super::implied::identities_for(&upn));
        }
        if let Some(p) = changes.password {
            let hash = self.hash_secret(&p);
            self.passwords.insert(id, hash);
            record.set(&USER, "lastPasswordChangeDateTime", Value::String(format_datetime(now)));
        }
        self.insert_user(record);
        Ok(())
    }

    /// `DELETE /users/{id|upn}`: a soft delete into `/directory/deletedItems`.
    /// The user keeps its role assignments while deleted, so a restore or a
    /// permanent delete is authorized against the roles it held.
    pub(crate) fn delete_user(&mut self, id: Uuid, now: OffsetDateTime) -> Result<(), ApiError> {
        let record = self.remove_user_indexes(id).ok_or_else(|| ApiError::not_found(&id.to_string()))?;
        self.user_changes.touch(id);
        self.deleted.insert(id, super::DeletedObject { kind: super::ObjectKind::User, deleted_at: now, record });
        Ok(())
    }

    /// `POST /directory/deletedItems/{id}/restore` for a user.
    pub(crate) fn restore_user(&mut self, id: Uuid) -> Result<(), ApiError> {
        let deleted = self.deleted.get(&id).ok_or_else(|| ApiError::not_found(&id.to_string()))?;
        let record = &deleted.record;
        if let Some(upn) = record.get_str(&USER, "userPrincipalName") {
            if self.user_by_upn(upn).is_some() {
                return Err(upn_conflict());
            }
        }
        let proxies = record.get(&USER, "proxyAddresses").and_then(Value::as_array).cloned().unwrap_or_default();
        if proxies.iter().filter_map(Value::as_str).any(|p| self.proxy_owner(p).is_some()) {
            return Err(proxy_conflict());
        }
        let deleted = self.deleted.remove(&id).expect("present (looked up above)");
        self.insert_user(deleted.record);
        Ok(())
    }
}
