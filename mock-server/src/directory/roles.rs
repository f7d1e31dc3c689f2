//! Directory roles: the role templates and
//! built-in role definitions, activated `directoryRoles` with members, and
//! `roleManagement/directory/roleAssignments`. The two APIs are two views of
//! one set of assignments: a member added to a directory role is a tenant-wide
//! role assignment, and an assignment activates its directory role. They feed
//! `wids` and the delegated authorization of signed-in users.

use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::catalog::Catalog;
use super::csdl::{self, merge, merged_len};
use super::record::Record;
use super::schema::{prop, EntitySchema, FilterProfile as F, PropType as T, PropertyDef};
use super::Directory;
use crate::error::ApiError;

pub(crate) static DIRECTORY_ROLE: EntitySchema = EntitySchema::new(
    "microsoft.graph.directoryRole",
    "DirectoryRole",
    &[
        prop("id", T::Guid).read_only().default_set().filter(F::Key),
        prop("deletedDateTime", T::DateTime).read_only().default_set(),
        prop("description", T::String).read_only().default_set(),
        prop("displayName", T::String).read_only().default_set().filter(F::Text),
        prop("roleTemplateId", T::String).read_only().default_set().filter(F::Key),
    ],
    &[],
);

/// The hand-written rows (behaviour); csdl.rs appends the CSDL's other properties.
const ROLE_ASSIGNMENT_PROPS: &[PropertyDef] = &[
    prop("id", T::String).read_only().default_set().filter(F::Key),
    prop("appScopeId", T::String).default_set().filter(F::Key),
    prop("condition", T::String).default_set(),
    prop("directoryScopeId", T::String).default_set().filter(F::Key),
    prop("principalId", T::Guid).default_set().filter(F::Key),
    prop("roleDefinitionId", T::String).default_set().filter(F::Key),
];

const ROLE_ASSIGNMENT_ALL: [PropertyDef; merged_len(ROLE_ASSIGNMENT_PROPS, csdl::UNIFIED_ROLE_ASSIGNMENT)] =
    merge(ROLE_ASSIGNMENT_PROPS, csdl::UNIFIED_ROLE_ASSIGNMENT);

pub(crate) static ROLE_ASSIGNMENT: EntitySchema =
    EntitySchema::new("microsoft.graph.unifiedRoleAssignment", "UnifiedRoleAssignment", &ROLE_ASSIGNMENT_ALL, &[]);

/// Each built-in role's description, as Microsoft documents it.
fn description(template: Uuid) -> Option<&'static str> {
    Some(match template.to_string().as_str() {
        "62e90394-69f5-4237-9190-012177145e10" => "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.",
        "fe930be7-5e62-47db-91af-98c3a49a38b1" => "Can manage all aspects of users and groups, including resetting passwords for limited admins.",
        "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3" => "Can create and manage all aspects of app registrations and enterprise apps.",
        "158c047a-c907-4556-b7ef-446551a6b5f7" => "Can create and manage all aspects of app registrations and enterprise apps except App Proxy.",
        "e8611ab8-c189-46e8-94e1-60213ab1f814" => "Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management.",
        "7be44c8a-adaf-4e2a-84d6-ab2649e08a13" => "Can access to view, set and reset authentication method information for any user (admin or non-admin).",
        "88d8e3e3-8f55-4a1e-953a-9b9898b8876b" => "Can read basic directory information. Commonly used to grant directory read access to applications and guests.",
        "9360feb5-f418-4baa-8175-e2a00bac4301" => "Can read and write basic directory information. For granting access to applications, not intended for users.",
        "f2ef992c-3afb-46b9-b7cf-a126ee74c451" => "Can read everything that a Global Administrator can, but not update anything.",
        "fdd7a751-b60b-444a-984c-02652fe8fa1c" => "Members of this role can create/manage groups, create/manage groups settings like naming and expiration policies, and view groups activity and audit reports.",
        "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2" => "Can manage Active Directory to Microsoft Entra cloud provisioning, Microsoft Entra Connect, pass-through authentication (PTA), password hash synchronization (PHS), seamless single sign-on (seamless SSO), and federation settings.",
        "d29b2b05-8046-44ba-8758-1e26182fcf32" => "Only used by Microsoft Entra Connect service.",
        "8329153b-31d0-4727-b945-745eb3bc5f31" => "Can manage domain names in cloud and on-premises.",
        "cf1c38e5-3621-4004-a7cb-879624dced7c" => "Can create application registrations independent of the 'Users can register applications' setting.",
        "966707d0-3269-4727-9be2-8c3a10f19b9d" => "Can reset passwords for non-administrators and Password Administrators.",
        "729827e3-9c14-49f7-bb1b-9608f156bbb8" => "Can reset passwords for non-administrators and Helpdesk Administrators.",
        "c4e39bd9-1100-46d3-8c65-fb160da0071f" => "Can access to view, set and reset authentication method information for any non-admin user.",
        "95e79109-95c0-4d8e-aee3-d01accf2d47b" => "Can invite guest users independent of the 'members can invite guests' setting.",
        "790c1fb9-7f7d-4f88-86a1-ef1f95c05c1b" => "Can read messages and updates for their organization in Office 365 Message Center only.",
        "4a5d8f65-41da-4de4-8968-e035b65339cf" => "Can read sign-in and audit reports.",
        "75934031-6c7e-415a-99d7-48dbd49e875e" => "Read Usage reports and Adoption Score, but can't access user details.",
        "a0b1b346-4d3e-4e8b-98f8-753987be4970" => "Default role for member users. Can read all and write a limited set of directory information.",
        "10dae51f-b6af-4016-8d66-8c2a99b929b3" => "Default role for guest users. Can read a limited set of directory information.",
        "2af84b1e-32c8-42b7-82bc-daa82404023b" => "Restricted role for guest users. Can read a limited set of directory information.",
        _ => return None,
    })
}

/// The role name: the catalogue's, without its "(implicit …)" annotation.
fn role_name(display_name: &str) -> &str {
    display_name.split(" (").next().unwrap_or(display_name)
}

/// `directoryRoleTemplates` as Graph lists them.
pub(crate) fn templates_json() -> Vec<Map<String, Value>> {
    Catalog::get()
        .role_templates
        .iter()
        .map(|t| {
            json!({"id": t.role_template_id, "deletedDateTime": null, "description": description(t.role_template_id),
                   "displayName": role_name(&t.display_name)})
            .as_object()
            .expect("a JSON object literal")
            .clone()
        })
        .collect()
}

/// Built-in `unifiedRoleDefinition`s: one per template, with the template id as
/// their id (reference/well-known-ids.json `_roleNote`).
pub(crate) fn role_definitions_json() -> Vec<Map<String, Value>> {
    Catalog::get()
        .role_templates
        .iter()
        .map(|t| {
            json!({"id": t.role_template_id, "description": description(t.role_template_id),
                   "displayName": role_name(&t.display_name), "isBuiltIn": true, "isEnabled": true,
                   "resourceScopes": ["/"], "templateId": t.role_template_id, "version": "1",
                   "rolePermissions": [{"allowedResourceActions": [], "condition": null}],
                   "inheritsPermissionsFrom": []})
            .as_object()
            .expect("a JSON object literal")
            .clone()
        })
        .collect()
}

fn known_template(template: Uuid) -> Option<&'static str> {
    Catalog::get().role_templates.iter().find(|t| t.role_template_id == template).map(|t| role_name(&t.display_name))
}

fn uuid_of(r: &Record, schema: &EntitySchema, name: &str) -> Option<Uuid> {
    r.get_str(schema, name).and_then(|s| Uuid::parse_str(s).ok())
}

impl Directory {
    /// Activate a directory role from its template (idempotent inside the
    /// mock; the API refuses a second activation). Returns the role's object id.
    fn activate_role(&mut self, template: Uuid) -> Uuid {
        if let Some((id, _)) =
            self.directory_roles.iter().find(|(_, r)| uuid_of(r, &DIRECTORY_ROLE, "roleTemplateId") == Some(template))
        {
            return *id;
        }
        let id = self.new_id();
        let mut record = Record::new(id);
        record.set(
            &DIRECTORY_ROLE,
            "description",
            description(template).map_or(Value::Null, |d| Value::String(d.into())),
        );
        record.set(
            &DIRECTORY_ROLE,
            "displayName",
            Value::String(known_template(template).unwrap_or_default().to_owned()),
        );
        record.set(&DIRECTORY_ROLE, "roleTemplateId", Value::String(template.to_string()));
        self.directory_roles.insert(id, record);
        id
    }

    /// `POST /directoryRoles` with `{"roleTemplateId": …}`.
    pub(crate) fn activate_directory_role(&mut self, body: &Map<String, Value>) -> Result<Uuid, ApiError> {
        for key in body.keys() {
            if key != "roleTemplateId" && key != "@odata.type" {
                return Err(ApiError::request_bad_request(format!("Invalid property '{key}'.")));
            }
        }
        let template = match body.get("roleTemplateId") {
            Some(Value::String(s)) => Uuid::parse_str(s).map_err(|_| ApiError::invalid_values())?,
            Some(Value::Null) | None => {
                return Err(ApiError::value_required("roleTemplateId", DIRECTORY_ROLE.resource_name))
            }
            Some(_) => return Err(ApiError::invalid_values()),
        };
        if known_template(template).is_none() {
            return Err(ApiError::invalid_values());
        }
        if self.directory_roles.values().any(|r| uuid_of(r, &DIRECTORY_ROLE, "roleTemplateId") == Some(template)) {
            return Err(ApiError::request_bad_request(
                "A conflicting object with one or more of the specified property values is present in the directory.",
            ));
        }
        Ok(self.activate_role(template))
    }

    /// A directory role by object id, or by template id when `by_template`.
    pub(crate) fn find_directory_role(&self, key: &str, by_template: bool) -> Option<Uuid> {
        let key = Uuid::parse_str(key).ok()?;
        if by_template {
            self.directory_roles
                .iter()
                .find(|(_, r)| uuid_of(r, &DIRECTORY_ROLE, "roleTemplateId") == Some(key))
                .map(|(id, _)| *id)
        } else {
            self.directory_roles.contains_key(&key).then_some(key)
        }
    }

    fn template_of_role(&self, role: Uuid) -> Option<Uuid> {
        self.directory_roles.get(&role).and_then(|r| uuid_of(r, &DIRECTORY_ROLE, "roleTemplateId"))
    }

    /// Members of an activated role: principals assigned its template tenant-wide.
    pub(crate) fn directory_role_members(&self, role: Uuid) -> Vec<Uuid> {
        let Some(template) = self.template_of_role(role) else { return Vec::new() };
        let mut members: Vec<Uuid> = self
            .role_assignments
            .values()
            .filter(|a| {
                uuid_of(a, &ROLE_ASSIGNMENT, "roleDefinitionId") == Some(template)
                    && a.get_str(&ROLE_ASSIGNMENT, "directoryScopeId") == Some("/")
            })
            .filter_map(|a| uuid_of(a, &ROLE_ASSIGNMENT, "principalId"))
            .collect();
        members.dedup();
        members
    }

    /// `POST /directoryRoles/{id}/members/$ref`.
    pub(crate) fn add_directory_role_member(&mut self, role: Uuid, principal: Uuid) -> Result<(), ApiError> {
        let template = self.template_of_role(role).ok_or_else(|| ApiError::not_found(&role.to_string()))?;
        if !self.is_user_or_service_principal(principal) {
            return Err(ApiError::not_found(&principal.to_string()));
        }
        if self.directory_role_members(role).contains(&principal) {
            return Err(ApiError::request_bad_request(
                "One or more added object references already exist for the following modified properties: 'members'.",
            ));
        }
        self.insert_role_assignment(principal, template, "/");
        Ok(())
    }

    /// `DELETE /directoryRoles/{id}/members/{principal}/$ref`.
    pub(crate) fn remove_directory_role_member(&mut self, role: Uuid, principal: Uuid) -> Result<(), ApiError> {
        let template = self.template_of_role(role).ok_or_else(|| ApiError::not_found(&role.to_string()))?;
        let before = self.role_assignments.len();
        self.role_assignments.retain(|_, a| {
            !(uuid_of(a, &ROLE_ASSIGNMENT, "roleDefinitionId") == Some(template)
                && uuid_of(a, &ROLE_ASSIGNMENT, "principalId") == Some(principal)
                && a.get_str(&ROLE_ASSIGNMENT, "directoryScopeId") == Some("/"))
        });
        if self.role_assignments.len() == before {
            return Err(ApiError::not_found(&principal.to_string()));
        }
        Ok(())
    }

    pub(crate) fn is_user_or_service_principal(&self, id: Uuid) -> bool {
        self.users.contains_key(&id) || self.service_principals.contains_key(&id)
    }

    fn insert_role_assignment(&mut self, principal: Uuid, template: Uuid, scope: &str) -> Uuid {
        self.activate_role(template);
        let key = self.new_id();
        let mut record = Record::with_wire_id(key, self.new_opaque_id());
        record.set(&ROLE_ASSIGNMENT, "directoryScopeId", Value::String(scope.to_owned()));
        record.set(&ROLE_ASSIGNMENT, "principalId", Value::String(principal.to_string()));
        record.set(&ROLE_ASSIGNMENT, "roleDefinitionId", Value::String(template.to_string()));
        self.role_assignments.insert(key, record);
        key
    }

    /// Give `principal` a built-in role tenant-wide (bootstrap, sync account).
    pub(crate) fn assign_directory_role(&mut self, principal: Uuid, template: Uuid) {
        self.insert_role_assignment(principal, template, "/");
    }

    /// `POST /roleManagement/directory/roleAssignments`.
    pub(crate) fn create_role_assignment(&mut self, body: &Map<String, Value>) -> Result<Uuid, ApiError> {
        for key in body.keys() {
            if !matches!(
                key.as_str(),
                "principalId" | "roleDefinitionId" | "directoryScopeId" | "appScopeId" | "@odata.type"
            ) {
                return Err(ApiError::request_bad_request(format!("Invalid property '{key}'.")));
            }
        }
        let resource = ROLE_ASSIGNMENT.resource_name;
        let guid = |name: &str| -> Result<Uuid, ApiError> {
            match body.get(name) {
                Some(Value::String(s)) => Uuid::parse_str(s).map_err(|_| ApiError::invalid_values()),
                Some(Value::Null) | None => Err(ApiError::value_required(name, resource)),
                Some(_) => Err(ApiError::invalid_values()),
            }
        };
        let principal = guid("principalId")?;
        let definition = guid("roleDefinitionId")?;
        let scope = match (body.get("directoryScopeId"), body.get("appScopeId")) {
            (Some(Value::String(s)), _) => s.clone(),
            (_, Some(Value::String(_))) => {
                return Err(ApiError::request_bad_request(
                    "graphbox models directoryScopeId assignments only; appScopeId is not supported.",
                ))
            }
            _ => return Err(ApiError::value_required("directoryScopeId", resource)),
        };
        let scope_ok = scope == "/"
            || scope
                .strip_prefix('/')
                .and_then(|s| Uuid::parse_str(s).ok())
                .is_some_and(|app| self.applications.contains_key(&app));
        if !scope_ok {
            return Err(ApiError::invalid_values());
        }
        if known_template(definition).is_none() {
            return Err(ApiError::not_found(&definition.to_string()));
        }
        if !self.is_user_or_service_principal(principal) {
            return Err(ApiError::not_found(&principal.to_string()));
        }
        let exists = self.role_assignments.values().any(|a| {
            uuid_of(a, &ROLE_ASSIGNMENT, "principalId") == Some(principal)
                && uuid_of(a, &ROLE_ASSIGNMENT, "roleDefinitionId") == Some(definition)
                && a.get_str(&ROLE_ASSIGNMENT, "directoryScopeId") == Some(scope.as_str())
        });
        if exists {
            return Err(ApiError::request_bad_request(
                "A conflicting object with one or more of the specified property values is present in the directory.",
            ));
        }
        Ok(self.insert_role_assignment(principal, definition, &scope))
    }

    pub(crate) fn find_role_assignment(&self, wire_id: &str) -> Option<Uuid> {
        self.role_assignments.iter().find(|(_, a)| a.get_str(&ROLE_ASSIGNMENT, "id") == Some(wire_id)).map(|(k, _)| *k)
    }

    /// Directory role template ids held tenant-wide by `principal`, for `wids`.
    pub(crate) fn role_template_ids_of(&self, principal: Uuid) -> Vec<Uuid> {
        let mut ids: Vec<Uuid> = self
            .role_assignments
            .values()
            .filter(|a| {
                uuid_of(a, &ROLE_ASSIGNMENT, "principalId") == Some(principal)
                    && a.get_str(&ROLE_ASSIGNMENT, "directoryScopeId") == Some("/")
            })
            .filter_map(|a| uuid_of(a, &ROLE_ASSIGNMENT, "roleDefinitionId"))
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// Drop every role assignment of a removed principal.
    pub(crate) fn remove_role_assignments_of(&mut self, principal: Uuid) {
        self.role_assignments.retain(|_, a| uuid_of(a, &ROLE_ASSIGNMENT, "principalId") != Some(principal));
    }

    /// Directory roles a principal is a member of (for `memberOf`).
    pub(crate) fn directory_roles_of(&self, principal: Uuid) -> Vec<Uuid> {
        let templates = self.role_template_ids_of(principal);
        self.directory_roles
            .iter()
            .filter(|(_, r)| uuid_of(r, &DIRECTORY_ROLE, "roleTemplateId").is_some_and(|t| templates.contains(&t)))
            .map(|(id, _)| *id)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_in_the_catalogue_has_microsofts_description() {
        for t in &Catalog::get().role_templates {
            assert!(description(t.role_template_id).is_some(), "{} has no description", t.display_name);
        }
        let helpdesk = uuid::uuid!("729827e3-9c14-49f7-bb1b-9608f156bbb8");
        assert_eq!(known_template(helpdesk), Some("Helpdesk Administrator"));
    }
}
