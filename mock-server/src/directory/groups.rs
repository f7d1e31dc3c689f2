//! Groups: security and Microsoft 365 groups,
//! members and owners by `$ref` or `@odata.bind` at creation, soft delete.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use super::csdl::{self, merge, merged_len};
use super::record::Record;
use super::schema::{prop, validate_write, EntitySchema, FilterProfile as F, PropType as T, PropertyDef};
use super::Directory;
use crate::clock::format_datetime;
use crate::error::ApiError;
use crate::odata::Support;

/// The group type's hand-written rows (behaviour); csdl.rs appends the rest.
const GROUP_PROPS: &[PropertyDef] = &[
    prop("id", T::Guid).read_only().default_set().filter(F::Key),
    prop("deletedDateTime", T::DateTime).read_only().default_set(),
    prop("classification", T::String).default_set(),
    prop("createdDateTime", T::DateTime).read_only().default_set().filter(F::Created).orderby(Support::Advanced),
    // 1 024: widely reproduced, not on the group resource page (a guess).
    prop("description", T::String).default_set().filter(F::Text).searchable().max_len(1024),
    prop("displayName", T::String).default_set().filter(F::Text).orderby(Support::Default).searchable().max_len(256),
    prop("expirationDateTime", T::DateTime).read_only().default_set(),
    prop("groupTypes", T::StringList).default_set().filter(F::AnyEq),
    prop("isAssignableToRole", T::Bool).default_set(),
    prop("mail", T::String).read_only().default_set().filter(F::TextEndsWith).searchable(),
    prop("mailEnabled", T::Bool).default_set().filter(F::Key),
    prop("mailNickname", T::String).default_set().filter(F::Text).searchable().max_len(64),
    prop("membershipRule", T::String).default_set(),
    prop("membershipRuleProcessingState", T::String).default_set(),
    prop("onPremisesDomainName", T::String).read_only().default_set(),
    prop("onPremisesLastSyncDateTime", T::DateTime).read_only().default_set(),
    prop("onPremisesNetBiosName", T::String).read_only().default_set(),
    prop("onPremisesSamAccountName", T::String).read_only().default_set(),
    prop("onPremisesSecurityIdentifier", T::String).read_only().default_set(),
    prop("onPremisesSyncEnabled", T::Bool).read_only().default_set().filter(F::Key),
    prop("preferredDataLocation", T::String).default_set(),
    prop("preferredLanguage", T::String).default_set(),
    prop("proxyAddresses", T::StringList).read_only().default_set().filter(F::AnyText),
    prop("renewedDateTime", T::DateTime).read_only().default_set(),
    prop("resourceBehaviorOptions", T::StringList).default_set(),
    prop("resourceProvisioningOptions", T::StringList).default_set(),
    prop("securityEnabled", T::Bool).default_set().filter(F::Key),
    prop("securityIdentifier", T::String).read_only().default_set(),
    prop("theme", T::String).default_set(),
    prop("visibility", T::String).default_set(),
    // Maintained by the service (Graph refuses a write).
    prop("accessType", T::Enum("microsoft.graph.groupAccessType")).default_only(),
    prop("assignedLicenses", T::ComplexList("microsoft.graph.assignedLicense")).default_only(),
    prop("hasMembersWithLicenseErrors", T::Bool).default_only(),
    prop("isArchived", T::Bool).default_only(),
    prop("isFavorite", T::Bool).default_only(),
    prop("isManagementRestricted", T::Bool).default_only(),
    prop("isSubscribedByMail", T::Bool).default_only(),
    prop("licenseProcessingState", T::Complex("microsoft.graph.licenseProcessingState")).default_only(),
    prop("onPremisesExtensionAttributes", T::Complex("microsoft.graph.onPremisesExtensionAttributes")).default_only(),
    prop("onPremisesProvisioningErrors", T::ComplexList("microsoft.graph.onPremisesProvisioningError")).default_only(),
    prop("organizationId", T::String).default_only(),
    prop("serviceProvisioningErrors", T::ComplexList("microsoft.graph.serviceProvisioningError")).default_only(),
    prop("unseenConversationsCount", T::Int("Edm.Int32")).default_only(),
    prop("unseenCount", T::Int("Edm.Int32")).default_only(),
    prop("unseenMessagesCount", T::Int("Edm.Int32")).default_only(),
];

const GROUP_ALL: [PropertyDef; merged_len(GROUP_PROPS, csdl::GROUP)] = merge(GROUP_PROPS, csdl::GROUP);

pub(crate) static GROUP: EntitySchema = EntitySchema::new("microsoft.graph.group", "Group", &GROUP_ALL, &[]);

const REQUIRED: &[&str] = &["displayName", "mailEnabled", "mailNickname", "securityEnabled"];

/// Members and owners of a group.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct GroupLinks {
    pub members: BTreeSet<Uuid>,
    pub owners: BTreeSet<Uuid>,
}

/// Which link of a group a `$ref` changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Link {
    Members,
    Owners,
}

impl Link {
    fn name(self) -> &'static str {
        match self {
            Link::Members => "members",
            Link::Owners => "owners",
        }
    }
}

/// The ids in `members@odata.bind` / `owners@odata.bind`.
fn binds(body: &mut Map<String, Value>, name: &str) -> Result<Vec<Uuid>, ApiError> {
    let Some(value) = body.remove(name) else { return Ok(Vec::new()) };
    let urls = value.as_array().ok_or_else(ApiError::invalid_values)?;
    urls.iter()
        .map(|u| {
            u.as_str()
                .and_then(|s| s.trim_end_matches('/').rsplit('/').next())
                .and_then(|id| Uuid::parse_str(id).ok())
                .ok_or_else(|| {
                    ApiError::bad_request(format!("The URL in '{name}' does not name a directory object by id."))
                })
        })
        .collect()
}

impl Directory {
    /// `POST /groups`. Returns the new group's id.
    pub(crate) fn create_group(&mut self, body: &Map<String, Value>, now: OffsetDateTime) -> Result<Uuid, ApiError> {
        let mut body = body.clone();
        let members = binds(&mut body, "members@odata.bind")?;
        let owners = binds(&mut body, "owners@odata.bind")?;
        // Graph accepts at most 20 members and owners together at creation.
        if members.len() + owners.len() > 20 {
            return Err(ApiError::request_bad_request(
                "A maximum of 20 members and owners together can be added when a group is created.",
            ));
        }
        let values = validate_write(&GROUP, &body)?;
        for required in REQUIRED {
            if !values.iter().any(|(pos, v)| GROUP.props[*pos].name == *required && !v.is_null()) {
                return Err(ApiError::value_required(required, GROUP.resource_name));
            }
        }
        let get = |name: &str| values.iter().find(|(pos, _)| GROUP.props[*pos].name == name).map(|(_, v)| v);
        let unified = get("groupTypes")
            .and_then(Value::as_array)
            .is_some_and(|t| t.iter().any(|g| g.as_str().is_some_and(|s| s.eq_ignore_ascii_case("Unified"))));
        let mail_enabled = get("mailEnabled") == Some(&Value::Bool(true));
        if unified != mail_enabled {
            // Graph creates mail-enabled groups only as Microsoft 365 groups.
            return Err(ApiError::invalid_values());
        }
        let nickname = get("mailNickname").and_then(Value::as_str).unwrap_or_default().to_owned();
        if nickname.is_empty() || nickname.len() > 64 || nickname.chars().any(|c| c.is_whitespace() || c == '@') {
            return Err(ApiError::invalid_values());
        }
        for id in members.iter().chain(&owners) {
            if !self.is_directory_object(*id) {
                return Err(ApiError::not_found(&id.to_string()));
            }
        }
        let mail = mail_enabled.then(|| format!("{nickname}@{}", self.initial_domain()));
        if let Some(m) = &mail {
            if self.proxy_owner(&format!("SMTP:{m}")).is_some()
                || self.groups.values().any(|g| g.get_str(&GROUP, "mail") == Some(m.as_str()))
            {
                return Err(ApiError::request_bad_request(
                    "Another object with the same value for property proxyAddresses already exists.",
                )
                .with_detail("proxyAddresses", "ObjectConflict"));
            }
        }
        let id = self.new_id();
        let mut record = Record::new(id);
        for (name, value) in [
            ("createdDateTime", Value::String(format_datetime(now))),
            ("renewedDateTime", Value::String(format_datetime(now))),
            ("groupTypes", json!([])),
            ("proxyAddresses", json!([])),
            ("resourceBehaviorOptions", json!([])),
            ("resourceProvisioningOptions", json!([])),
            ("securityIdentifier", Value::String(format!("S-1-12-1-{}", id.as_u64_pair().0 % 4_000_000_000))),
        ] {
            record.set(&GROUP, name, value);
        }
        for (pos, value) in values {
            record.set_at(pos, value);
        }
        if let Some(m) = mail {
            record.set(&GROUP, "mail", Value::String(m.clone()));
            record.set(&GROUP, "proxyAddresses", json!([format!("SMTP:{m}")]));
        }
        if unified && record.get(&GROUP, "visibility").is_none() {
            record.set(&GROUP, "visibility", Value::String("Public".into()));
        }
        self.groups.insert(id, record);
        self.group_changes.touch(id);
        self.group_links
            .insert(id, GroupLinks { members: members.into_iter().collect(), owners: owners.into_iter().collect() });
        Ok(id)
    }

    /// `PATCH /groups/{id}`.
    pub(crate) fn update_group(&mut self, id: Uuid, body: &Map<String, Value>) -> Result<(), ApiError> {
        let values = validate_write(&GROUP, body)?;
        let record = self.groups.get_mut(&id).ok_or_else(|| ApiError::not_found(&id.to_string()))?;
        for (pos, value) in values {
            if GROUP.props[pos].name == "displayName" && value.as_str().is_none_or(|s| s.trim().is_empty()) {
                return Err(ApiError::value_required("displayName", GROUP.resource_name));
            }
            record.set_at(pos, value);
        }
        self.group_changes.touch(id);
        Ok(())
    }

    /// `DELETE /groups/{id}`: soft delete; membership is kept for a restore.
    pub(crate) fn delete_group(&mut self, id: Uuid, now: OffsetDateTime) -> Result<(), ApiError> {
        let record = self.groups.remove(&id).ok_or_else(|| ApiError::not_found(&id.to_string()))?;
        self.deleted.insert(id, super::DeletedObject { kind: super::ObjectKind::Group, deleted_at: now, record });
        self.group_changes.touch(id);
        Ok(())
    }

    /// `POST /directory/deletedItems/{id}/restore` for a group.
    pub(crate) fn restore_group(&mut self, id: Uuid) -> Result<(), ApiError> {
        let d = self.deleted.remove(&id).ok_or_else(|| ApiError::not_found(&id.to_string()))?;
        self.groups.insert(id, d.record);
        self.group_changes.touch(id);
        Ok(())
    }

    pub(crate) fn is_directory_object(&self, id: Uuid) -> bool {
        self.users.contains_key(&id) || self.groups.contains_key(&id) || self.service_principals.contains_key(&id)
    }

    /// `POST /groups/{id}/members/$ref` (or owners).
    pub(crate) fn add_group_link(&mut self, group: Uuid, link: Link, target: Uuid) -> Result<(), ApiError> {
        if !self.groups.contains_key(&group) {
            return Err(ApiError::not_found(&group.to_string()));
        }
        let valid = match link {
            Link::Members => self.is_directory_object(target) && target != group,
            Link::Owners => self.users.contains_key(&target) || self.service_principals.contains_key(&target),
        };
        if !valid {
            return Err(ApiError::not_found(&target.to_string()));
        }
        let links = self.group_links.get_or_default(group);
        let set = match link {
            Link::Members => &mut links.members,
            Link::Owners => &mut links.owners,
        };
        if !set.insert(target) {
            return Err(ApiError::request_bad_request(format!(
                "One or more added object references already exist for the following modified properties: '{}'.",
                link.name()
            )));
        }
        Ok(())
    }

    /// `DELETE /groups/{id}/members/{member}/$ref` (or owners).
    pub(crate) fn remove_group_link(&mut self, group: Uuid, link: Link, target: Uuid) -> Result<(), ApiError> {
        if !self.groups.contains_key(&group) {
            return Err(ApiError::not_found(&group.to_string()));
        }
        let links = self.group_links.get_or_default(group);
        let set = match link {
            Link::Members => &mut links.members,
            Link::Owners => &mut links.owners,
        };
        if !set.remove(&target) {
            return Err(ApiError::not_found(&target.to_string()));
        }
        Ok(())
    }

    pub(crate) fn group_link(&self, group: Uuid, link: Link) -> Vec<Uuid> {
        let Some(links) = self.group_links.get(&group) else { return Vec::new() };
        let set = match link {
            Link::Members => &links.members,
            Link::Owners => &links.owners,
        };
        set.iter().copied().filter(|id| self.is_directory_object(*id)).collect()
    }

    /// Groups that list `member` directly (for `memberOf`).
    pub(crate) fn groups_of(&self, member: Uuid) -> Vec<Uuid> {
        self.group_links
            .iter()
            .filter(|(g, l)| l.members.contains(&member) && self.groups.contains_key(*g))
            .map(|(g, _)| *g)
            .collect()
    }
}
