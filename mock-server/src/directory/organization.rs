//! The organization and the tenant's
//! `onPremisesSynchronization` object (§5.2), with the DirSync machine that both
//! Graph and MSOnline drive. Transitions and their effects (the sync service
//! principal, converting synced users) are applied here, under the directory's
//! write lock, in the same critical section as the state change.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use super::csdl::{self, merge, merged_len};
use super::record::{Projection, Record};
use super::schema::{prop, validate_write, EntitySchema, PropType as T, PropertyDef};
use super::service_principals::{MICROSOFT_TENANT_ID, SERVICE_PRINCIPAL};
use super::users::USER;
use super::Directory;
use crate::clock::format_datetime;
use crate::dirsync::{self, DirSync, Effect, State};
use crate::error::ApiError;

/// The organization type, in the reference sample's order. Only the
/// notification lists, `privacyProfile` and `onPremisesSyncEnabled` are
/// writable (§5.1); `verifiedDomains` and the two sync properties are derived
/// when projected, so they can never disagree with the domains or the machine.
/// The hand-written rows (behaviour); csdl.rs appends the CSDL's other properties.
const ORGANIZATION_PROPS: &[PropertyDef] = &[
    prop("id", T::Guid).read_only().default_set(),
    prop("displayName", T::String).read_only().default_set(),
    prop("tenantType", T::String).read_only().default_set(),
    prop("countryLetterCode", T::String).read_only().default_set(),
    prop("createdDateTime", T::DateTime).read_only().default_set(),
    prop("onPremisesSyncEnabled", T::Bool).default_set(),
    prop("onPremisesLastSyncDateTime", T::DateTime).read_only().default_set(),
    prop("technicalNotificationMails", T::StringList).default_set(),
    prop("marketingNotificationEmails", T::StringList).default_set(),
    prop("securityComplianceNotificationMails", T::StringList).default_set(),
    prop("securityComplianceNotificationPhones", T::StringList).default_set(),
    prop("privacyProfile", T::Complex("microsoft.graph.privacyProfile")).default_set(),
    prop("verifiedDomains", T::ComplexList("microsoft.graph.verifiedDomain")).read_only().default_set(),
    prop("assignedPlans", T::ComplexList("microsoft.graph.assignedPlan")).read_only().default_set(),
    prop("provisionedPlans", T::ComplexList("microsoft.graph.provisionedPlan")).read_only().default_set(),
    prop("businessPhones", T::StringList).read_only().default_set(),
    prop("city", T::String).read_only().default_set(),
    prop("country", T::String).read_only().default_set(),
    prop("postalCode", T::String).read_only().default_set(),
    prop("state", T::String).read_only().default_set(),
    prop("street", T::String).read_only().default_set(),
    prop("preferredLanguage", T::String).read_only().default_set(),
    // Maintained by the service (Graph refuses a write).
    prop("deletedDateTime", T::DateTime).default_only(),
    prop("defaultUsageLocation", T::String).default_only(),
    prop("mobileDeviceManagementAuthority", T::Enum("microsoft.graph.mdmAuthority")).default_only(),
    prop("partnerTenantType", T::Enum("microsoft.graph.partnerTenantType")).default_only(),
];

const ORGANIZATION_ALL: [PropertyDef; merged_len(ORGANIZATION_PROPS, csdl::ORGANIZATION)] =
    merge(ORGANIZATION_PROPS, csdl::ORGANIZATION);

pub(crate) static ORGANIZATION: EntitySchema =
    EntitySchema::new("microsoft.graph.organization", "Organization", &ORGANIZATION_ALL, &[]);

/// `onPremisesDirectorySynchronization` (§5.2): one per tenant, id = tenant id.
pub(crate) static ON_PREMISES_SYNCHRONIZATION: EntitySchema = EntitySchema::new(
    "microsoft.graph.onPremisesDirectorySynchronization",
    "OnPremisesDirectorySynchronization",
    &[
        prop("id", T::Guid).read_only().default_set(),
        prop("configuration", T::Complex("microsoft.graph.onPremisesDirectorySynchronizationConfiguration"))
            .default_set(),
        prop("features", T::Complex("microsoft.graph.onPremisesDirectorySynchronizationFeature")).default_set(),
    ],
    &[],
);

/// The feature flags and their defaults (values illustrative in the reference).
const FEATURES: &[(&str, bool)] = &[
    ("blockCloudObjectTakeoverThroughHardMatchEnabled", false),
    ("blockSoftMatchEnabled", false),
    ("bypassDirSyncOverridesEnabled", false),
    ("cloudPasswordPolicyForPasswordSyncedUsersEnabled", false),
    ("concurrentCredentialUpdateEnabled", false),
    ("concurrentOrgIdProvisioningEnabled", true),
    ("deviceWritebackEnabled", false),
    ("directoryExtensionsEnabled", false),
    ("fopeConflictResolutionEnabled", false),
    ("groupWriteBackEnabled", false),
    ("passwordSyncEnabled", false),
    ("passwordWritebackEnabled", false),
    ("quarantineUponProxyAddressesConflictEnabled", true),
    ("quarantineUponUpnConflictEnabled", true),
    ("softMatchOnUpnEnabled", true),
    ("synchronizeUpnForManagedUsersEnabled", true),
    ("unifiedGroupWritebackEnabled", false),
    ("userForcePasswordChangeOnLogonEnabled", false),
    ("userWritebackEnabled", false),
];

/// Whether a JSON value has the shape a member accepts.
type Accepts = fn(&Value) -> bool;

/// `configuration` members and the JSON shape each accepts.
/// Only what v1.0 defines (the OpenAPI slice); beta adds more.
const CONFIGURATION: &[(&str, Accepts)] = &[("accidentalDeletionPrevention", Value::is_object)];

/// The on-premises attributes a completed disable clears on converted users;
/// the immutable id and the SID are kept.
const CLEARED_ON_CONVERSION: &[&str] =
    &["onPremisesDistinguishedName", "onPremisesDomainName", "onPremisesSamAccountName", "onPremisesUserPrincipalName"];

/// The tenant-wide objects: organization, sync configuration, DirSync machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Organization {
    pub record: Record,
    pub sync: Record,
    pub dirsync: DirSync,
}

impl Default for Organization {
    /// A placeholder for state saved before the organization existed;
    /// `Directory::rebuild_indexes` replaces it with a seeded one.
    fn default() -> Self {
        Organization { record: Record::new(Uuid::nil()), sync: Record::new(Uuid::nil()), dirsync: DirSync::default() }
    }
}

/// Graph's refusal of a DirSync change while one is pending: the MSOnline text
/// (Graph's own answer is unrecorded; the documentation suggests this).
pub(crate) fn change_refused() -> ApiError {
    ApiError::request_bad_request(dirsync::CHANGE_REFUSED)
}

/// Strict pending (a tenant setting): every user create and update during
/// `PendingDisabled` is refused. The vendor guide gives no text; the synced-object
/// message's "objects currently undergoing migration" fits the window [inferred].
pub(crate) fn strict_pending_refusal() -> ApiError {
    ApiError::request_bad_request(
        "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.",
    )
}

impl Directory {
    /// Create the organization and sync objects of a fresh tenant.
    pub(crate) fn seed_organization(&mut self, now: OffsetDateTime, seed: u64) {
        let id = self.tenant_id;
        let mut record = Record::new(id);
        let admin = format!("admin@{}", self.initial_domain());
        for (name, value) in [
            ("displayName", Value::String(self.display_name.clone())),
            ("tenantType", json!("AAD")),
            ("countryLetterCode", json!("US")),
            ("createdDateTime", Value::String(format_datetime(now))),
            ("technicalNotificationMails", json!([admin])),
            ("preferredLanguage", json!("en")),
        ] {
            record.set(&ORGANIZATION, name, value);
        }
        // The same for every new tenant: built once, cloned per tenant.
        static SYNC_DEFAULTS: OnceLock<(Value, Value)> = OnceLock::new();
        let (features, configuration) = SYNC_DEFAULTS.get_or_init(|| {
            let features: Map<String, Value> =
                FEATURES.iter().map(|(n, v)| ((*n).to_owned(), Value::Bool(*v))).collect();
            let configuration = json!({
                "accidentalDeletionPrevention": {"synchronizationPreventionType": "enabledForCount", "alertThreshold": 500},
            });
            (Value::Object(features), configuration)
        });
        let mut sync = Record::new(id);
        sync.set(&ON_PREMISES_SYNCHRONIZATION, "features", features.clone());
        sync.set(&ON_PREMISES_SYNCHRONIZATION, "configuration", configuration.clone());
        self.organization = Organization { record, sync, dirsync: DirSync::for_seed(seed) };
    }

    /// The organization as Graph shows it.
    pub(crate) fn project_organization(&self, projection: &Projection) -> Map<String, Value> {
        let mut out = self.organization.record.project(&ORGANIZATION, projection);
        let dirsync = &self.organization.dirsync;
        if out.contains_key("verifiedDomains") {
            let domains = self
                .domains
                .iter()
                .filter(|d| d.is_verified)
                .map(|d| {
                    json!({"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": d.is_default,
                           "isInitial": d.is_initial, "name": d.name, "type": "Managed"})
                })
                .collect();
            out.insert("verifiedDomains".into(), Value::Array(domains));
        }
        if out.contains_key("onPremisesSyncEnabled") {
            out.insert("onPremisesSyncEnabled".into(), dirsync.state.flag().map_or(Value::Null, Value::Bool));
        }
        if out.contains_key("onPremisesLastSyncDateTime") {
            let last = dirsync.last_sync.map(|t| Value::String(format_datetime(t)));
            out.insert("onPremisesLastSyncDateTime".into(), last.unwrap_or(Value::Null));
        }
        out
    }

    /// `PATCH /organization/{id}`: validate everything (including whether a
    /// DirSync change is allowed now), then apply everything.
    pub(crate) fn update_organization(
        &mut self,
        body: &Map<String, Value>,
        now: OffsetDateTime,
    ) -> Result<(), ApiError> {
        let values = validate_write(&ORGANIZATION, body)?;
        let mut change = None;
        for (pos, value) in &values {
            match (ORGANIZATION.props[*pos].name, value) {
                ("onPremisesSyncEnabled", Value::Bool(b)) => change = Some(*b),
                ("onPremisesSyncEnabled", _) => return Err(ApiError::invalid_values()),
                ("privacyProfile", Value::Object(m)) => {
                    if let Some(k) = m.keys().find(|k| !matches!(k.as_str(), "contactEmail" | "statementUrl")) {
                        return Err(ApiError::request_bad_request(format!("Invalid property '{k}'.")));
                    }
                    if !m.values().all(|v| v.is_string() || v.is_null()) {
                        return Err(ApiError::invalid_values());
                    }
                }
                _ => {}
            }
        }
        let transition = match change {
            Some(enable) => {
                let d = &self.organization.dirsync;
                Some(dirsync::step(d.state, d.change(enable), now).map_err(|_| change_refused())?)
            }
            None => None,
        };
        for (pos, value) in values {
            if ORGANIZATION.props[pos].name != "onPremisesSyncEnabled" {
                self.organization.record.set_at(pos, value);
            }
        }
        if let Some((state, effects)) = transition {
            self.apply_transition(state, &effects, now);
        }
        Ok(())
    }

    /// MSOnline's `SetCompanyDirSyncEnabled` and Graph's flag, as one event.
    pub(crate) fn change_dirsync(&mut self, enable: bool, now: OffsetDateTime) -> Result<(), dirsync::Refused> {
        let d = &self.organization.dirsync;
        let (state, effects) = dirsync::step(d.state, d.change(enable), now)?;
        self.apply_transition(state, &effects, now);
        Ok(())
    }

    /// Deliver `ClockReached`: fire whatever deadline `now` has passed.
    pub(crate) fn settle_dirsync(&mut self, now: OffsetDateTime) {
        let state = self.organization.dirsync.state;
        if let Ok((next, effects)) = dirsync::step(state, dirsync::Event::ClockReached, now) {
            if next != state || !effects.is_empty() {
                self.apply_transition(next, &effects, now);
            }
        }
    }

    fn apply_transition(&mut self, state: State, effects: &[Effect], _now: OffsetDateTime) {
        for effect in effects {
            match effect {
                Effect::CreateSyncServicePrincipal => self.ensure_sync_service_principal(),
                Effect::ConvertSyncedUsers => self.convert_synced_users(),
            }
        }
        self.organization.dirsync.state = state;
    }

    /// The sync service principal: Microsoft's first-party
    /// application, so no application object in the tenant.
    fn ensure_sync_service_principal(&mut self) {
        if self.sp_by_app_id.contains_key(&dirsync::SYNC_SERVICE_APP_ID) {
            return;
        }
        let id = self.new_id();
        let app_id = dirsync::SYNC_SERVICE_APP_ID.to_string();
        let name = dirsync::SYNC_SERVICE_DISPLAY_NAME;
        let mut record = Record::new(id);
        for (prop, value) in [
            ("accountEnabled", json!(true)),
            ("appDisplayName", json!(name)),
            ("appId", json!(app_id)),
            ("appOwnerOrganizationId", json!(MICROSOFT_TENANT_ID)),
            ("appRoleAssignmentRequired", json!(false)),
            ("displayName", json!(name)),
            ("servicePrincipalNames", json!([app_id])),
            ("servicePrincipalType", json!("Application")),
            ("signInAudience", json!("AzureADMultipleOrgs")),
        ] {
            record.set(&SERVICE_PRINCIPAL, prop, value);
        }
        self.sp_by_app_id.insert(dirsync::SYNC_SERVICE_APP_ID, id);
        self.service_principals.insert(id, record);
    }

    /// Synced users become cloud users: flag false, the
    /// on-premises attributes of §2.2 cleared, immutable id and SID kept.
    fn convert_synced_users(&mut self) {
        let synced: Vec<Uuid> = self
            .users
            .iter()
            .filter(|(_, r)| r.get(&USER, "onPremisesSyncEnabled") == Some(&Value::Bool(true)))
            .map(|(id, _)| *id)
            .collect();
        for id in synced {
            let Some(mut record) = self.remove_user_indexes(id) else { continue };
            record.set(&USER, "onPremisesSyncEnabled", Value::Bool(false));
            for name in CLEARED_ON_CONVERSION {
                record.set(&USER, name, Value::Null);
            }
            self.insert_user(record);
        }
    }

    /// `PATCH /directory/onPremisesSynchronization/{id}`: `features` and
    /// `configuration` merge member by member; unknown members are refused.
    pub(crate) fn update_on_premises_sync(&mut self, body: &Map<String, Value>) -> Result<(), ApiError> {
        let values = validate_write(&ON_PREMISES_SYNCHRONIZATION, body)?;
        let mut merged = Vec::with_capacity(values.len());
        for (pos, value) in values {
            let name = ON_PREMISES_SYNCHRONIZATION.props[pos].name;
            let Value::Object(changes) = value else { return Err(ApiError::invalid_values()) };
            let mut current = match self.organization.sync.get_at(pos) {
                Some(Value::Object(m)) => m.clone(),
                _ => Map::new(),
            };
            for (member, v) in changes {
                if member == "@odata.type" {
                    continue;
                }
                let ok = if name == "features" {
                    FEATURES.iter().any(|(n, _)| *n == member).then(|| v.is_boolean())
                } else {
                    CONFIGURATION.iter().find(|(n, _)| *n == member).map(|(_, accepts)| v.is_null() || accepts(&v))
                };
                match ok {
                    None => return Err(ApiError::request_bad_request(format!("Invalid property '{member}'."))),
                    Some(false) => return Err(ApiError::invalid_values()),
                    Some(true) => {
                        current.insert(member, v);
                    }
                }
            }
            merged.push((pos, Value::Object(current)));
        }
        for (pos, value) in merged {
            self.organization.sync.set_at(pos, value);
        }
        Ok(())
    }

    /// A feature flag of the sync configuration.
    pub(crate) fn sync_feature(&self, name: &str) -> bool {
        self.organization
            .sync
            .get(&ON_PREMISES_SYNCHRONIZATION, "features")
            .and_then(|f| f.get(name))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }
}
