//! Consent: application permissions as app role assignments and delegated
//! permissions as OAuth2 permission grants, with
//! the validations the real service makes. Tokens read these at issue time.

use serde_json::{Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use super::catalog::Catalog;
use super::record::Record;
use super::schema::{prop, EntitySchema, FilterProfile as F, PropType as T};
use super::service_principals::SERVICE_PRINCIPAL;
use super::users::USER;
use super::Directory;
use crate::clock::format_datetime;
use crate::error::ApiError;

pub(crate) static APP_ROLE_ASSIGNMENT: EntitySchema = EntitySchema::new(
    "microsoft.graph.appRoleAssignment",
    "AppRoleAssignment",
    &[
        prop("id", T::String).read_only().default_set().filter(F::Key),
        prop("deletedDateTime", T::DateTime).read_only().default_set(),
        prop("appRoleId", T::Guid).default_set().filter(F::Key),
        prop("createdDateTime", T::DateTime).read_only().default_set(),
        prop("principalDisplayName", T::String).read_only().default_set(),
        prop("principalId", T::Guid).default_set().filter(F::Key),
        prop("principalType", T::String).read_only().default_set(),
        prop("resourceDisplayName", T::String).read_only().default_set(),
        prop("resourceId", T::Guid).default_set().filter(F::Key),
    ],
    &[],
);

pub(crate) static OAUTH2_PERMISSION_GRANT: EntitySchema = EntitySchema::new(
    "microsoft.graph.oAuth2PermissionGrant",
    "OAuth2PermissionGrant",
    &[
        prop("id", T::String).read_only().default_set().filter(F::Key),
        prop("clientId", T::Guid).default_set().filter(F::Key),
        prop("consentType", T::String).default_set().filter(F::Key),
        prop("principalId", T::Guid).default_set().filter(F::Key),
        prop("resourceId", T::Guid).default_set().filter(F::Key),
        prop("scope", T::String).default_set(),
    ],
    &[],
);

/// Where an assignment is created from: the resource's `appRoleAssignedTo` or
/// the principal's `appRoleAssignments`; the path id must match the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AssignmentPath {
    AssignedTo(Uuid),
    AssignmentsOf(Uuid),
}

fn guid_field(body: &Map<String, Value>, name: &str, resource: &str) -> Result<Uuid, ApiError> {
    match body.get(name) {
        Some(Value::String(s)) => Uuid::parse_str(s).map_err(|_| ApiError::invalid_values()),
        Some(Value::Null) | None => Err(ApiError::value_required(name, resource)),
        Some(_) => Err(ApiError::invalid_values()),
    }
}

fn only_known(body: &Map<String, Value>, known: &[&str]) -> Result<(), ApiError> {
    for key in body.keys() {
        if key != "@odata.type" && !known.contains(&key.as_str()) {
            return Err(ApiError::request_bad_request(format!("Invalid property '{key}'.")));
        }
    }
    Ok(())
}

/// Whether a stored GUID string names `canonical` (lower case, hyphenated).
/// Stored ids are almost always canonical already; comparing text first keeps
/// consent checks (run at every grant, eleven times per new tenant) from
/// parsing every GUID they pass.
fn guid_eq(stored: &str, canonical: &str) -> bool {
    if stored.len() == 36 {
        stored.eq_ignore_ascii_case(canonical)
    } else {
        Uuid::parse_str(stored).is_ok_and(|u| u.to_string() == canonical)
    }
}

fn uuid_of(record: &Record, schema: &EntitySchema, name: &str) -> Option<Uuid> {
    record.get_str(schema, name).and_then(|s| Uuid::parse_str(s).ok())
}

/// The schema positions of what [`NewAssignment`] holds, in its field order
/// (which is schema order); looked up once, as every grant checks them all.
fn assignment_positions() -> &'static [usize; 7] {
    static POSITIONS: std::sync::OnceLock<[usize; 7]> = std::sync::OnceLock::new();
    POSITIONS.get_or_init(|| {
        [
            "appRoleId",
            "createdDateTime",
            "principalDisplayName",
            "principalId",
            "principalType",
            "resourceDisplayName",
            "resourceId",
        ]
        .map(|name| APP_ROLE_ASSIGNMENT.position(name).expect("in the schema"))
    })
}

/// An app role assignment's checked parts, as the text the record stores.
struct NewAssignment {
    app_role: String,
    created: String,
    principal_name: String,
    principal: String,
    principal_type: &'static str,
    resource_name: String,
    resource: String,
}

impl Directory {
    /// Create an app role assignment. Returns the internal key of the record.
    pub(crate) fn create_app_role_assignment(
        &mut self,
        path: AssignmentPath,
        body: &Map<String, Value>,
        now: OffsetDateTime,
    ) -> Result<Uuid, ApiError> {
        only_known(body, &["principalId", "resourceId", "appRoleId"])?;
        let resource = APP_ROLE_ASSIGNMENT.resource_name;
        let principal_id = guid_field(body, "principalId", resource)?;
        let resource_id = guid_field(body, "resourceId", resource)?;
        let app_role_id = guid_field(body, "appRoleId", resource)?;
        match path {
            AssignmentPath::AssignedTo(r) if r != resource_id => {
                return Err(ApiError::request_bad_request(format!(
                    "The resourceId '{resource_id}' in the request body does not match the service principal '{r}' in the request URI."
                )))
            }
            AssignmentPath::AssignmentsOf(p) if p != principal_id => {
                return Err(ApiError::request_bad_request(format!(
                    "The principalId '{principal_id}' in the request body does not match the service principal '{p}' in the request URI."
                )))
            }
            _ => {}
        }
        let (principal_type, principal_name, member_type) = if let Some(sp) = self.service_principals.get(&principal_id)
        {
            (
                "ServicePrincipal",
                sp.get_str(&SERVICE_PRINCIPAL, "displayName").unwrap_or_default().to_owned(),
                "Application",
            )
        } else if let Some(user) = self.users.get(&principal_id) {
            ("User", user.get_str(&USER, "displayName").unwrap_or_default().to_owned(), "User")
        } else {
            return Err(ApiError::not_found(&principal_id.to_string()));
        };
        let resource_sp =
            self.service_principals.get(&resource_id).ok_or_else(|| ApiError::not_found(&resource_id.to_string()))?;
        let resource_name = resource_sp.get_str(&SERVICE_PRINCIPAL, "displayName").unwrap_or_default().to_owned();
        let resource_app_id = resource_sp.get_str(&SERVICE_PRINCIPAL, "appId").unwrap_or_default().to_owned();
        let role_text = app_role_id.to_string();
        let role_ok = if self.graph_service_principal_id() == Some(resource_id) {
            // Graph's app roles are the catalogue's application permissions, all
            // assignable to applications only; a lookup beats scanning their JSON.
            member_type == "Application" && Catalog::get().app_role_by_id(app_role_id).is_some()
        } else {
            self.app_roles_of(resource_id).and_then(Value::as_array).into_iter().flatten().any(|r| {
                r.get("id").and_then(Value::as_str).is_some_and(|s| guid_eq(s, &role_text))
                    && r.get("allowedMemberTypes")
                        .and_then(Value::as_array)
                        .is_some_and(|t| t.iter().any(|m| m.as_str() == Some(member_type)))
            })
        };
        if !role_ok {
            return Err(ApiError::request_bad_request(format!(
                "Permission being assigned was not found on application '{resource_app_id}'."
            )));
        }
        let (principal_text, resource_text) = (principal_id.to_string(), resource_id.to_string());
        if self.has_app_role_assignment(&principal_text, &resource_text, &role_text) {
            return Err(ApiError::request_bad_request("Permission being assigned already exists on the object."));
        }
        let assignment = NewAssignment {
            app_role: role_text,
            created: format_datetime(now),
            principal_name,
            principal: principal_text,
            principal_type,
            resource_name,
            resource: resource_text,
        };
        Ok(self.insert_app_role_assignment(assignment))
    }

    fn has_app_role_assignment(&self, principal: &str, resource: &str, app_role: &str) -> bool {
        let [app_role_at, _, _, principal_at, _, _, resource_at] = *assignment_positions();
        let fields = [(principal_at, principal), (resource_at, resource), (app_role_at, app_role)];
        self.app_role_assignments.values().any(|a| {
            fields
                .iter()
                .all(|(pos, canonical)| a.get_at(*pos).and_then(Value::as_str).is_some_and(|s| guid_eq(s, canonical)))
        })
    }

    /// Store an assignment whose parts have been checked. Its properties are
    /// written in schema order straight into the record.
    fn insert_app_role_assignment(&mut self, a: NewAssignment) -> Uuid {
        let key = self.new_id();
        let values = [
            a.app_role,
            a.created,
            a.principal_name,
            a.principal,
            a.principal_type.to_owned(),
            a.resource_name,
            a.resource,
        ];
        let record = Record::with_wire_id_and(
            key,
            self.new_opaque_id(),
            assignment_positions().iter().zip(values).map(|(&pos, v)| (pos, Value::String(v))),
        );
        self.app_role_assignments.insert(key, record);
        key
    }

    /// Find an assignment by its wire id under a resource or principal.
    pub(crate) fn find_app_role_assignment(&self, wire_id: &str, path: AssignmentPath) -> Option<Uuid> {
        self.app_role_assignments
            .iter()
            .find(|(_, a)| {
                a.get_str(&APP_ROLE_ASSIGNMENT, "id") == Some(wire_id)
                    && match path {
                        AssignmentPath::AssignedTo(r) => uuid_of(a, &APP_ROLE_ASSIGNMENT, "resourceId") == Some(r),
                        AssignmentPath::AssignmentsOf(p) => uuid_of(a, &APP_ROLE_ASSIGNMENT, "principalId") == Some(p),
                    }
            })
            .map(|(k, _)| *k)
    }

    /// The assignments seen from a resource or a principal.
    pub(crate) fn app_role_assignments_at(&self, path: AssignmentPath) -> super::Map<Uuid, Record> {
        self.app_role_assignments
            .iter()
            .filter(|(_, a)| match path {
                AssignmentPath::AssignedTo(r) => uuid_of(a, &APP_ROLE_ASSIGNMENT, "resourceId") == Some(r),
                AssignmentPath::AssignmentsOf(p) => uuid_of(a, &APP_ROLE_ASSIGNMENT, "principalId") == Some(p),
            })
            .map(|(k, a)| (*k, a.clone()))
            .collect()
    }

    /// Grant Microsoft Graph application permissions to `sp` (tenant bootstrap).
    /// The same checks as [`Directory::create_app_role_assignment`] but without
    /// a request body: names, times and Graph's id are looked up once for all.
    pub(crate) fn grant_graph_app_roles(
        &mut self,
        sp: Uuid,
        values: &[&str],
        now: OffsetDateTime,
    ) -> Result<(), ApiError> {
        let catalog = Catalog::get();
        let graph = self.graph_service_principal_id().ok_or_else(|| ApiError::not_found("Microsoft Graph"))?;
        let name_of = |id: Uuid| {
            self.service_principals.get(&id).map(|r| r.get_str(&SERVICE_PRINCIPAL, "displayName").unwrap_or_default())
        };
        let principal_name = name_of(sp).ok_or_else(|| ApiError::not_found(&sp.to_string()))?.to_owned();
        let resource_name = name_of(graph).unwrap_or_default().to_owned();
        let (principal, resource, created) = (sp.to_string(), graph.to_string(), format_datetime(now));
        for value in values {
            let role = catalog.app_role(value).ok_or_else(ApiError::invalid_values)?.id.to_string();
            if self.has_app_role_assignment(&principal, &resource, &role) {
                continue;
            }
            self.insert_app_role_assignment(NewAssignment {
                app_role: role,
                created: created.clone(),
                principal_name: principal_name.clone(),
                principal: principal.clone(),
                principal_type: "ServicePrincipal",
                resource_name: resource_name.clone(),
                resource: resource.clone(),
            });
        }
        Ok(())
    }

    /// The values of Microsoft Graph's app roles granted to `sp`: a token's `roles`.
    pub(crate) fn graph_roles_of(&self, sp: Uuid) -> Vec<String> {
        let Some(graph) = self.graph_service_principal_id() else { return Vec::new() };
        let catalog = Catalog::get();
        let mut roles: Vec<String> = self
            .app_role_assignments
            .values()
            .filter(|a| {
                uuid_of(a, &APP_ROLE_ASSIGNMENT, "principalId") == Some(sp)
                    && uuid_of(a, &APP_ROLE_ASSIGNMENT, "resourceId") == Some(graph)
            })
            .filter_map(|a| uuid_of(a, &APP_ROLE_ASSIGNMENT, "appRoleId"))
            .filter_map(|id| catalog.app_role_by_id(id).map(|p| p.value.clone()))
            .collect();
        roles.sort();
        roles.dedup();
        roles
    }

    /// `POST /oauth2PermissionGrants`. Returns the internal key.
    pub(crate) fn create_oauth2_grant(&mut self, body: &Map<String, Value>) -> Result<Uuid, ApiError> {
        only_known(
            body,
            &["clientId", "consentType", "principalId", "resourceId", "scope", "startTime", "expiryTime"],
        )?;
        let resource = OAUTH2_PERMISSION_GRANT.resource_name;
        let client_id = guid_field(body, "clientId", resource)?;
        let resource_id = guid_field(body, "resourceId", resource)?;
        let consent_type = match body.get("consentType") {
            Some(Value::String(s)) if s == "AllPrincipals" || s == "Principal" => s.clone(),
            Some(Value::Null) | None => return Err(ApiError::value_required("consentType", resource)),
            Some(_) => return Err(ApiError::invalid_values()),
        };
        let principal_id = match body.get("principalId") {
            Some(Value::String(s)) => Some(Uuid::parse_str(s).map_err(|_| ApiError::invalid_values())?),
            Some(Value::Null) | None => None,
            Some(_) => return Err(ApiError::invalid_values()),
        };
        match (consent_type.as_str(), principal_id) {
            ("AllPrincipals", Some(_)) | ("Principal", None) => return Err(ApiError::invalid_values()),
            ("Principal", Some(p)) if !self.users.contains_key(&p) => return Err(ApiError::not_found(&p.to_string())),
            _ => {}
        }
        if !self.service_principals.contains_key(&client_id) {
            return Err(ApiError::not_found(&client_id.to_string()));
        }
        let scope = match body.get("scope") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(_) => return Err(ApiError::invalid_values()),
        };
        self.check_scopes(resource_id, &scope)?;
        let duplicate = self.oauth2_grants.values().any(|g| {
            uuid_of(g, &OAUTH2_PERMISSION_GRANT, "clientId") == Some(client_id)
                && uuid_of(g, &OAUTH2_PERMISSION_GRANT, "resourceId") == Some(resource_id)
                && g.get_str(&OAUTH2_PERMISSION_GRANT, "consentType") == Some(consent_type.as_str())
                && uuid_of(g, &OAUTH2_PERMISSION_GRANT, "principalId") == principal_id
        });
        if duplicate {
            return Err(ApiError::new(
                409,
                "Request_MultipleObjectsWithSameKeyValue",
                "Permission entry already exists.",
            ));
        }
        let key = self.new_id();
        let mut record = Record::with_wire_id(key, self.new_opaque_id());
        record.set(&OAUTH2_PERMISSION_GRANT, "clientId", Value::String(client_id.to_string()));
        record.set(&OAUTH2_PERMISSION_GRANT, "consentType", Value::String(consent_type));
        record.set(
            &OAUTH2_PERMISSION_GRANT,
            "principalId",
            principal_id.map_or(Value::Null, |p| Value::String(p.to_string())),
        );
        record.set(&OAUTH2_PERMISSION_GRANT, "resourceId", Value::String(resource_id.to_string()));
        record.set(&OAUTH2_PERMISSION_GRANT, "scope", Value::String(scope));
        self.oauth2_grants.insert(key, record);
        Ok(key)
    }

    /// Every scope value must be one the resource exposes.
    fn check_scopes(&self, resource_id: Uuid, scope: &str) -> Result<(), ApiError> {
        let scopes = self.scopes_of(resource_id).ok_or_else(|| ApiError::not_found(&resource_id.to_string()))?;
        // Graph's scopes are the catalogue's delegated permissions: look them up
        // there rather than in their JSON (every tenant's bootstrap grant checks 13).
        let is_graph = self.graph_service_principal_id() == Some(resource_id);
        let known: Vec<&str> = if is_graph {
            Vec::new()
        } else {
            scopes.as_array().into_iter().flatten().filter_map(|s| s.get("value").and_then(Value::as_str)).collect()
        };
        let exposed = |value: &str| {
            if is_graph {
                Catalog::get().scope(value).is_some()
            } else {
                known.contains(&value)
            }
        };
        // Graph itself also accepts the OpenID Connect scopes in a grant.
        let oidc = ["openid", "profile", "email", "offline_access"];
        for value in scope.split(' ').filter(|s| !s.is_empty()) {
            if !exposed(value) && !oidc.contains(&value) {
                return Err(ApiError::request_bad_request(format!(
                    "Invalid value specified for property 'scope' of resource 'OAuth2PermissionGrant': '{value}' is not a scope of the resource."
                )));
            }
        }
        Ok(())
    }

    pub(crate) fn find_oauth2_grant(&self, wire_id: &str) -> Option<Uuid> {
        self.oauth2_grants
            .iter()
            .find(|(_, g)| g.get_str(&OAUTH2_PERMISSION_GRANT, "id") == Some(wire_id))
            .map(|(k, _)| *k)
    }

    /// `PATCH /oauth2PermissionGrants/{id}`: only `scope` may change.
    pub(crate) fn update_oauth2_grant(&mut self, key: Uuid, body: &Map<String, Value>) -> Result<(), ApiError> {
        only_known(body, &["scope"])?;
        let resource_id = self
            .oauth2_grants
            .get(&key)
            .and_then(|g| uuid_of(g, &OAUTH2_PERMISSION_GRANT, "resourceId"))
            .ok_or_else(|| ApiError::not_found(&key.to_string()))?;
        if let Some(scope) = body.get("scope") {
            let scope = scope.as_str().ok_or_else(ApiError::invalid_values)?.to_owned();
            self.check_scopes(resource_id, &scope)?;
            let grant = self.oauth2_grants.get_mut(&key).expect("present (looked up above)");
            grant.set(&OAUTH2_PERMISSION_GRANT, "scope", Value::String(scope));
        }
        Ok(())
    }

    /// The delegated scopes `client` holds on Microsoft Graph for `user`: tenant-wide
    /// grants plus that user's own.
    pub(crate) fn granted_graph_scopes(&self, client: Uuid, user: Uuid) -> Vec<String> {
        let Some(graph) = self.graph_service_principal_id() else { return Vec::new() };
        let mut scopes: Vec<String> = self
            .oauth2_grants
            .values()
            .filter(|g| {
                uuid_of(g, &OAUTH2_PERMISSION_GRANT, "clientId") == Some(client)
                    && uuid_of(g, &OAUTH2_PERMISSION_GRANT, "resourceId") == Some(graph)
                    && match g.get_str(&OAUTH2_PERMISSION_GRANT, "consentType") {
                        Some("AllPrincipals") => true,
                        _ => uuid_of(g, &OAUTH2_PERMISSION_GRANT, "principalId") == Some(user),
                    }
            })
            .flat_map(|g| {
                g.get_str(&OAUTH2_PERMISSION_GRANT, "scope")
                    .unwrap_or_default()
                    .split(' ')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .filter(|s| Catalog::get().scope(s).is_some())
            .collect();
        scopes.sort();
        scopes.dedup();
        scopes
    }

    /// Drop everything granted to or by a deleted service principal.
    pub(crate) fn remove_grants_involving(&mut self, sp: Uuid) {
        self.app_role_assignments.retain(|_, a| {
            uuid_of(a, &APP_ROLE_ASSIGNMENT, "principalId") != Some(sp)
                && uuid_of(a, &APP_ROLE_ASSIGNMENT, "resourceId") != Some(sp)
        });
        self.oauth2_grants.retain(|_, g| {
            uuid_of(g, &OAUTH2_PERMISSION_GRANT, "clientId") != Some(sp)
                && uuid_of(g, &OAUTH2_PERMISSION_GRANT, "resourceId") != Some(sp)
        });
        self.remove_role_assignments_of(sp);
    }
}
