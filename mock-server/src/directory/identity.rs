//! Applications, service principals, their credentials and what they have been
//! granted: the part of the directory the token endpoint reads.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::catalog::{Catalog, MICROSOFT_GRAPH_APP_ID};
use super::{Directory, PasswordHash};

/// A client secret as stored: hashed, with the metadata Graph shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredSecret {
    pub key_id: Uuid,
    pub display_name: Option<String>,
    pub hint: String,
    #[serde(with = "time::serde::rfc3339")]
    pub start: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub end: OffsetDateTime,
    pub hash: PasswordHash,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Application {
    pub id: Uuid,
    pub app_id: Uuid,
    pub display_name: String,
    pub sign_in_audience: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    pub secrets: Vec<StoredSecret>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ServicePrincipal {
    pub id: Uuid,
    pub app_id: Uuid,
    pub display_name: String,
}

/// An application permission granted to a service principal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct AppRoleAssignment {
    pub id: String,
    pub principal_id: Uuid,
    pub resource_id: Uuid,
    pub app_role_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
}

/// A directory role given to a user or service principal, tenant-wide.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RoleAssignment {
    pub id: String,
    pub principal_id: Uuid,
    pub role_definition_id: Uuid,
    pub directory_scope_id: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct IdentityStore {
    pub applications: Vec<Application>,
    pub service_principals: Vec<ServicePrincipal>,
    pub app_role_assignments: Vec<AppRoleAssignment>,
    pub role_assignments: Vec<RoleAssignment>,
}

impl IdentityStore {
    pub(crate) fn application_by_app_id(&self, app_id: Uuid) -> Option<&Application> {
        self.applications.iter().find(|a| a.app_id == app_id)
    }

    pub(crate) fn service_principal_by_app_id(&self, app_id: Uuid) -> Option<&ServicePrincipal> {
        self.service_principals.iter().find(|s| s.app_id == app_id)
    }

    /// The values of the Microsoft Graph app roles granted to `sp`, for `roles`.
    pub(crate) fn graph_roles_of(&self, sp: Uuid) -> Vec<String> {
        let Some(graph) = self.service_principal_by_app_id(MICROSOFT_GRAPH_APP_ID) else {
            return Vec::new();
        };
        let catalog = Catalog::get();
        let mut roles: Vec<String> = self
            .app_role_assignments
            .iter()
            .filter(|a| a.principal_id == sp && a.resource_id == graph.id)
            .filter_map(|a| catalog.app_role_by_id(a.app_role_id).map(|p| p.value.clone()))
            .collect();
        roles.sort();
        roles.dedup();
        roles
    }

    /// Directory role template ids held by `principal`, for `wids`.
    pub(crate) fn role_template_ids_of(&self, principal: Uuid) -> Vec<Uuid> {
        let mut ids: Vec<Uuid> = self
            .role_assignments
            .iter()
            .filter(|r| r.principal_id == principal && r.directory_scope_id == "/")
            .map(|r| r.role_definition_id)
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

impl Directory {
    /// Register an application with its service principal, as the portal does.
    pub(crate) fn register_application(&mut self, display_name: &str, now: OffsetDateTime) -> (Uuid, Uuid) {
        let id = self.new_id();
        let app_id = self.new_id();
        let sp_id = self.new_id();
        self.identity.applications.push(Application {
            id,
            app_id,
            display_name: display_name.to_owned(),
            sign_in_audience: "AzureADMyOrg".to_owned(),
            created: now,
            secrets: Vec::new(),
        });
        self.identity.service_principals.push(ServicePrincipal {
            id: sp_id,
            app_id,
            display_name: display_name.to_owned(),
        });
        (app_id, sp_id)
    }

    /// Add a client secret to an application; returns the secret text, the only
    /// time it exists outside a hash.
    pub(crate) fn add_secret(
        &mut self,
        app_id: Uuid,
        display_name: Option<String>,
        now: OffsetDateTime,
    ) -> Option<String> {
        let text = crate::ids::client_secret_text();
        self.add_known_secret(app_id, display_name, &text, now).then_some(text)
    }

    /// Add a secret whose text the caller already has (a reset tenant keeps its
    /// bootstrap secret).
    pub(crate) fn add_known_secret(
        &mut self,
        app_id: Uuid,
        display_name: Option<String>,
        text: &str,
        now: OffsetDateTime,
    ) -> bool {
        let key_id = self.new_id();
        let Some(app) = self.identity.applications.iter_mut().find(|a| a.app_id == app_id) else {
            return false;
        };
        app.secrets.push(StoredSecret {
            key_id,
            display_name,
            hint: text.chars().take(3).collect(),
            start: now,
            end: now + time::Duration::days(730),
            hash: PasswordHash::new(text),
        });
        true
    }

    /// Grant a Microsoft Graph application permission to `sp`.
    pub(crate) fn grant_graph_app_role(&mut self, sp: Uuid, value: &str, now: OffsetDateTime) -> bool {
        let Some(role) = Catalog::get().app_role(value) else { return false };
        let Some(graph) = self.identity.service_principal_by_app_id(MICROSOFT_GRAPH_APP_ID) else {
            return false;
        };
        let resource_id = graph.id;
        let id = self.new_opaque_id();
        self.identity.app_role_assignments.push(AppRoleAssignment {
            id,
            principal_id: sp,
            resource_id,
            app_role_id: role.id,
            created: now,
        });
        true
    }

    pub(crate) fn assign_directory_role(&mut self, principal: Uuid, template: Uuid) {
        let id = self.new_opaque_id();
        self.identity.role_assignments.push(RoleAssignment {
            id,
            principal_id: principal,
            role_definition_id: template,
            directory_scope_id: "/".to_owned(),
        });
    }
}
