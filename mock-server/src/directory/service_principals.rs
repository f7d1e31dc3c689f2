//! Service principals: created from an
//! application of the tenant; Microsoft Graph's own service principal is present
//! in every tenant with its real app roles and delegated scopes.

use std::sync::OnceLock;

use serde_json::{json, Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use super::applications::APPLICATION;
use super::catalog::{Catalog, PermissionKind, MICROSOFT_GRAPH_APP_ID};
use super::csdl::{self, merge, merged_len};
use super::record::Record;
use super::schema::{prop, validate_write, EntitySchema, FilterProfile as F, PropType as T, PropertyDef};
use super::Directory;
use crate::error::ApiError;
use crate::odata::Support;

/// Microsoft's own tenant, which owns first-party applications such as Graph.
pub(crate) const MICROSOFT_TENANT_ID: &str = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";

/// The hand-written rows (behaviour); csdl.rs appends the CSDL's other properties.
const SERVICE_PRINCIPAL_PROPS: &[PropertyDef] = &[
    prop("id", T::Guid).read_only().default_set().filter(F::Key),
    prop("deletedDateTime", T::DateTime).read_only().default_set(),
    prop("accountEnabled", T::Bool).default_set().filter(F::Key),
    prop("addIns", T::ComplexList("microsoft.graph.addIn")).default_set(),
    prop("alternativeNames", T::StringList).default_set().filter(F::AnyText),
    prop("appDescription", T::String).read_only().default_set(),
    prop("appDisplayName", T::String).read_only().default_set().filter(F::Text),
    // `Edm.String` in Graph's schema though every value is a GUID: an unquoted GUID beside it
    // is a type mismatch (400), as Graph answers.
    prop("appId", T::String).read_only().default_set().filter(F::Key),
    prop("applicationTemplateId", T::String).read_only().default_set(),
    prop("appOwnerOrganizationId", T::Guid).read_only().default_set().filter(F::Key),
    prop("appRoleAssignmentRequired", T::Bool).default_set(),
    prop("appRoles", T::ComplexList("microsoft.graph.appRole")).read_only().default_set(),
    prop("description", T::String).default_set().max_len(1024),
    prop("disabledByMicrosoftStatus", T::String).read_only().default_set(),
    prop("displayName", T::String).default_set().filter(F::Text).orderby(Support::Default).searchable(),
    prop("homepage", T::String).default_set(),
    prop("info", T::Complex("microsoft.graph.informationalUrl")).read_only().default_set(),
    prop("keyCredentials", T::ComplexList("microsoft.graph.keyCredential")).default_set(),
    prop("loginUrl", T::String).default_set(),
    prop("logoutUrl", T::String).default_set(),
    prop("notes", T::String).default_set(),
    prop("notificationEmailAddresses", T::StringList).default_set(),
    prop("oauth2PermissionScopes", T::ComplexList("microsoft.graph.permissionScope")).read_only().default_set(),
    prop("passwordCredentials", T::ComplexList("microsoft.graph.passwordCredential")).read_only().default_set(),
    prop("preferredSingleSignOnMode", T::String).default_set(),
    prop("preferredTokenSigningKeyThumbprint", T::String).default_set(),
    prop("replyUrls", T::StringList).default_set(),
    prop("resourceSpecificApplicationPermissions", T::ComplexList("microsoft.graph.resourceSpecificPermission"))
        .read_only()
        .default_set(),
    prop("samlSingleSignOnSettings", T::Complex("microsoft.graph.samlSingleSignOnSettings")).default_set(),
    prop("servicePrincipalNames", T::StringList).default_set().filter(F::AnyText),
    prop("servicePrincipalType", T::String).read_only().default_set().filter(F::Key),
    prop("signInAudience", T::String).read_only().default_set(),
    prop("tags", T::StringList).default_set().filter(F::AnyText),
    prop("tokenEncryptionKeyId", T::Guid).default_set(),
    prop("verifiedPublisher", T::Complex("microsoft.graph.verifiedPublisher")).read_only().default_set(),
    // Maintained by the service (Graph refuses a write).
    prop("createdByAppId", T::String).default_only(),
    prop("isDisabled", T::Bool).default_only(),
];

const SERVICE_PRINCIPAL_ALL: [PropertyDef; merged_len(SERVICE_PRINCIPAL_PROPS, csdl::SERVICE_PRINCIPAL)] =
    merge(SERVICE_PRINCIPAL_PROPS, csdl::SERVICE_PRINCIPAL);

pub(crate) static SERVICE_PRINCIPAL: EntitySchema =
    EntitySchema::new("microsoft.graph.servicePrincipal", "ServicePrincipal", &SERVICE_PRINCIPAL_ALL, &[]);

/// What every service principal starts with: its own names and ids, then the
/// empty collections and complex values (built once per process).
fn base_values(app_id: Uuid, name: &str, owner: &str, audience: &str) -> Vec<(usize, Value)> {
    static FIXED: OnceLock<Vec<(usize, Value)>> = OnceLock::new();
    let fixed = FIXED.get_or_init(|| {
        [
            ("accountEnabled", Value::Bool(true)),
            ("addIns", json!([])),
            ("alternativeNames", json!([])),
            ("appRoleAssignmentRequired", Value::Bool(false)),
            (
                "info",
                json!({"logoUrl": null, "marketingUrl": null, "privacyStatementUrl": null, "supportUrl": null, "termsOfServiceUrl": null}),
            ),
            ("keyCredentials", json!([])),
            ("notificationEmailAddresses", json!([])),
            ("passwordCredentials", json!([])),
            ("replyUrls", json!([])),
            ("resourceSpecificApplicationPermissions", json!([])),
            ("servicePrincipalType", Value::String("Application".into())),
            ("tags", json!([])),
            ("verifiedPublisher", json!({"displayName": null, "verifiedPublisherId": null, "addedDateTime": null})),
        ]
        .into_iter()
        .map(|(n, v)| (position(n), v))
        .collect()
    });
    let mut values = Vec::with_capacity(fixed.len() + 12);
    values.extend(fixed.iter().cloned());
    for (n, v) in [
        ("appDisplayName", Value::String(name.to_owned())),
        ("appId", Value::String(app_id.to_string())),
        ("appOwnerOrganizationId", Value::String(owner.to_owned())),
        ("displayName", Value::String(name.to_owned())),
        ("signInAudience", Value::String(audience.to_owned())),
    ] {
        values.push((position(n), v));
    }
    values
}

fn position(name: &str) -> usize {
    SERVICE_PRINCIPAL.position(name).expect("property names used in code exist in the schema")
}

/// Microsoft Graph's app roles and delegated scopes from the catalogue, built
/// once: they are the same in every tenant.
pub(crate) fn graph_permissions_json() -> &'static (Value, Value) {
    static JSON: OnceLock<(Value, Value)> = OnceLock::new();
    JSON.get_or_init(|| {
        let catalog = Catalog::get();
        let roles = catalog
            .permissions
            .iter()
            .filter(|p| p.kind == PermissionKind::Application)
            .map(|p| {
                json!({"allowedMemberTypes": ["Application"], "description": p.display_name, "displayName": p.display_name,
                       "id": p.id, "isEnabled": true, "origin": "Application", "value": p.value})
            })
            .collect();
        let scopes = catalog
            .permissions
            .iter()
            .filter(|p| p.kind == PermissionKind::Delegated)
            .map(|p| {
                json!({"adminConsentDescription": p.display_name, "adminConsentDisplayName": p.display_name,
                       "id": p.id, "isEnabled": true, "type": if p.admin_consent_required { "Admin" } else { "User" },
                       "userConsentDescription": p.display_name, "userConsentDisplayName": p.display_name,
                       "value": p.value})
            })
            .collect();
        (Value::Array(roles), Value::Array(scopes))
    })
}

impl Directory {
    /// Microsoft Graph's service principal, created with every tenant. Its app
    /// roles and scopes are not stored: projection adds them from the catalogue.
    pub(crate) fn seed_graph_service_principal(&mut self) -> Uuid {
        let id = self.new_id();
        // The same in every tenant but for its object id: built once, cloned.
        static TEMPLATE: OnceLock<Record> = OnceLock::new();
        let template = TEMPLATE.get_or_init(|| {
            let mut values =
                base_values(MICROSOFT_GRAPH_APP_ID, "Microsoft Graph", MICROSOFT_TENANT_ID, "AzureADMultipleOrgs");
            values.push((
                position("servicePrincipalNames"),
                json!([
                    MICROSOFT_GRAPH_APP_ID.to_string(),
                    "https://graph.microsoft.com",
                    "https://graph.microsoft.com/",
                    "https://canary.graph.microsoft.com"
                ]),
            ));
            Record::from_values(Uuid::nil(), values)
        });
        let mut record = template.clone();
        record.id = id;
        record.set_at(0, Value::String(id.to_string()));
        self.sp_by_app_id.insert(MICROSOFT_GRAPH_APP_ID, id);
        self.service_principals.insert(id, record);
        id
    }

    /// `POST /servicePrincipals` for an application of this tenant or a
    /// first-party one. Returns the new object id.
    pub(crate) fn create_service_principal(&mut self, body: &Map<String, Value>) -> Result<Uuid, ApiError> {
        self.instantiate_service_principal(body, None)
    }

    /// `POST /servicePrincipals`; `foreign` is the multi-tenant application of
    /// another tenant of the server the `appId` names, looked up by the caller
    /// before this tenant's lock was taken (see [`ForeignApp`]).
    pub(crate) fn instantiate_service_principal(
        &mut self,
        body: &Map<String, Value>,
        foreign: Option<&ForeignApp>,
    ) -> Result<Uuid, ApiError> {
        let mut body = body.clone();
        let app_id = match body.remove("appId") {
            Some(Value::String(s)) => Uuid::parse_str(&s).map_err(|_| ApiError::invalid_values())?,
            Some(Value::Null) | None => return Err(ApiError::value_required("appId", SERVICE_PRINCIPAL.resource_name)),
            Some(_) => return Err(ApiError::invalid_values()),
        };
        let values = validate_write(&SERVICE_PRINCIPAL, &body)?;
        if self.sp_by_app_id.contains_key(&app_id) {
            return Err(ApiError::request_bad_request(
                "Another object with the same value for property servicePrincipalNames already exists.",
            )
            .with_detail("servicePrincipalNames", "ObjectConflict"));
        }
        if self.application_by_app_id(app_id).is_none() {
            if let Some(first_party) = super::first_party::public_client(app_id) {
                // Instantiating one of Microsoft's applications: it is owned by
                // Microsoft's tenant and is multi-tenant.
                let id = self.new_id();
                let mut all = base_values(app_id, first_party.display_name, MICROSOFT_TENANT_ID, "AzureADMultipleOrgs");
                all.push((position("servicePrincipalNames"), json!([app_id.to_string()])));
                all.extend(values);
                self.sp_by_app_id.insert(app_id, id);
                self.service_principals.insert(id, Record::from_values(id, all));
                return Ok(id);
            }
        }
        let local = self.application_by_app_id(app_id);
        let (app, owner) = match (local, foreign) {
            (Some(app), _) => (app, self.tenant_id),
            (None, Some(f)) if f.app_id == app_id => (&f.record, f.home_tenant),
            (None, _) => return Err(no_backing_application(app_id)),
        };
        let name = app.get_str(&APPLICATION, "displayName").unwrap_or_default().to_owned();
        let audience = app.get_str(&APPLICATION, "signInAudience").unwrap_or_default().to_owned();
        let mut names = vec![Value::String(app_id.to_string())];
        names.extend(app.get(&APPLICATION, "identifierUris").and_then(Value::as_array).cloned().unwrap_or_default());
        let app_roles = app.get(&APPLICATION, "appRoles").cloned().unwrap_or(json!([]));
        let scopes = app
            .get(&APPLICATION, "api")
            .and_then(|api| api.get("oauth2PermissionScopes"))
            .cloned()
            .unwrap_or(json!([]));
        let reply_urls = app.get(&APPLICATION, "web").and_then(|w| w.get("redirectUris")).cloned().unwrap_or(json!([]));
        let tenant = owner.to_string();

        let id = self.new_id();
        let mut all = base_values(app_id, &name, &tenant, &audience);
        all.extend([
            (position("servicePrincipalNames"), Value::Array(names)),
            (position("appRoles"), app_roles),
            (position("oauth2PermissionScopes"), scopes),
            (position("replyUrls"), reply_urls),
        ]);
        all.extend(values);
        let record = Record::from_values(id, all);
        self.sp_by_app_id.insert(app_id, id);
        self.service_principals.insert(id, record);
        Ok(id)
    }

    /// `PATCH /servicePrincipals/{id}`.
    pub(crate) fn update_service_principal(&mut self, id: Uuid, body: &Map<String, Value>) -> Result<(), ApiError> {
        let values = validate_write(&SERVICE_PRINCIPAL, body)?;
        let record = self.service_principals.get_mut(&id).ok_or_else(|| ApiError::not_found(&id.to_string()))?;
        for (pos, value) in values {
            record.set_at(pos, value);
        }
        Ok(())
    }

    /// `DELETE /servicePrincipals/{id}`: its grants and assignments go with it.
    pub(crate) fn delete_service_principal(&mut self, id: Uuid, now: OffsetDateTime) -> Result<(), ApiError> {
        let record = self.service_principals.remove(&id).ok_or_else(|| ApiError::not_found(&id.to_string()))?;
        if let Some(app_id) = record.get_str(&SERVICE_PRINCIPAL, "appId").and_then(|s| Uuid::parse_str(s).ok()) {
            self.sp_by_app_id.remove(&app_id);
        }
        self.remove_grants_involving(id);
        self.deleted
            .insert(id, super::DeletedObject { kind: super::ObjectKind::ServicePrincipal, deleted_at: now, record });
        Ok(())
    }

    /// `POST /directory/deletedItems/{id}/restore` for a service principal.
    pub(crate) fn restore_service_principal(&mut self, id: Uuid) -> Result<(), ApiError> {
        let d = self.deleted.get(&id).ok_or_else(|| ApiError::not_found(&id.to_string()))?;
        let app_id = d.record.get_str(&SERVICE_PRINCIPAL, "appId").and_then(|s| Uuid::parse_str(s).ok());
        if app_id.is_some_and(|a| self.sp_by_app_id.contains_key(&a)) {
            return Err(ApiError::request_bad_request(
                "Another object with the same value for property servicePrincipalNames already exists.",
            )
            .with_detail("servicePrincipalNames", "ObjectConflict"));
        }
        let d = self.deleted.remove(&id).expect("present (looked up above)");
        if let Some(a) = app_id {
            self.sp_by_app_id.insert(a, id);
        }
        self.service_principals.insert(id, d.record);
        Ok(())
    }

    pub(crate) fn find_service_principal(&self, key: &str, by_app_id: bool) -> Option<Uuid> {
        let key = Uuid::parse_str(key).ok()?;
        if by_app_id {
            self.sp_by_app_id.get(&key).copied()
        } else {
            self.service_principals.contains_key(&key).then_some(key)
        }
    }

    pub(crate) fn service_principal_id_by_app_id(&self, app_id: Uuid) -> Option<Uuid> {
        self.sp_by_app_id.get(&app_id).copied()
    }

    pub(crate) fn graph_service_principal_id(&self) -> Option<Uuid> {
        self.service_principal_id_by_app_id(MICROSOFT_GRAPH_APP_ID)
    }

    /// The app roles a service principal exposes (Graph's come from the
    /// catalogue). Borrowed: consent checks run at every grant, and cloning
    /// Graph's role list there made tenant creation ten times slower.
    pub(crate) fn app_roles_of(&self, sp: Uuid) -> Option<&Value> {
        let record = self.service_principals.get(&sp)?;
        if self.graph_service_principal_id() == Some(sp) {
            return Some(&graph_permissions_json().0);
        }
        Some(record.get(&SERVICE_PRINCIPAL, "appRoles").unwrap_or(&EMPTY_LIST))
    }

    /// The delegated scopes a service principal exposes.
    pub(crate) fn scopes_of(&self, sp: Uuid) -> Option<&Value> {
        let record = self.service_principals.get(&sp)?;
        if self.graph_service_principal_id() == Some(sp) {
            return Some(&graph_permissions_json().1);
        }
        Some(record.get(&SERVICE_PRINCIPAL, "oauth2PermissionScopes").unwrap_or(&EMPTY_LIST))
    }
}

static EMPTY_LIST: Value = Value::Array(Vec::new());

/// An application registered in another tenant of the same server, as
/// `POST /servicePrincipals` sees it when its `appId` is not this tenant's
/// (first-party.md's multi-tenant case: how a vendor's application enters a
/// customer's tenant). A copy taken under the home tenant's read lock, so no
/// two tenants' locks are ever held together.
#[derive(Debug, Clone)]
pub(crate) struct ForeignApp {
    pub app_id: Uuid,
    pub home_tenant: Uuid,
    pub record: Record,
}

/// The `signInAudience` values that make an application usable in tenants
/// other than its own (Microsoft-account-only apps are not: they never sign
/// in to an organization).
pub(crate) const MULTI_TENANT_AUDIENCES: &[&str] = &["AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount"];

impl ForeignApp {
    /// Whether tenants other than its home may instantiate it.
    pub(crate) fn is_multi_tenant(&self) -> bool {
        self.record.get_str(&APPLICATION, "signInAudience").is_some_and(|a| MULTI_TENANT_AUDIENCES.contains(&a))
    }
}

/// Graph's answer for an `appId` no visible application has — also for a
/// single-tenant application of another tenant, which Entra does not show
/// outside its home tenant.
pub(crate) fn no_backing_application(app_id: Uuid) -> ApiError {
    ApiError::request_bad_request(format!(
        "The appId '{app_id}' of the service principal does not reference a valid application object."
    ))
}

/// Project a service principal, filling Graph's catalogue-backed properties.
pub(crate) fn project_service_principal(
    dir: &Directory,
    record: &Record,
    projection: &super::record::Projection,
) -> Map<String, Value> {
    let mut out = record.project(&SERVICE_PRINCIPAL, projection);
    if dir.graph_service_principal_id() == Some(record.id) {
        let (roles, scopes) = graph_permissions_json();
        if out.contains_key("appRoles") {
            out.insert("appRoles".into(), roles.clone());
        }
        if out.contains_key("oauth2PermissionScopes") {
            out.insert("oauth2PermissionScopes".into(), scopes.clone());
        }
    }
    out
}
