//! The well-known catalogue: Microsoft Graph's permissions (app roles and
//! delegated scopes), the directory role templates, and the operation →
//! permission table. Parsed once from `data/well-known-ids.json`, a copy of
//! `reference/well-known-ids.json`; immutable, so every tenant shares it.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;
use uuid::Uuid;

pub(crate) const MICROSOFT_GRAPH_APP_ID: Uuid = uuid::uuid!("00000003-0000-0000-c000-000000000000");
pub(crate) const GLOBAL_ADMINISTRATOR_TEMPLATE: Uuid = uuid::uuid!("62e90394-69f5-4237-9190-012177145e10");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub(crate) enum PermissionKind {
    Application,
    Delegated,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Permission {
    pub value: String,
    #[serde(rename = "type")]
    pub kind: PermissionKind,
    pub id: Uuid,
    pub display_name: String,
    #[serde(default)]
    pub admin_consent_required: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RoleTemplate {
    pub(crate) display_name: String,
    pub(crate) role_template_id: Uuid,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PermissionSets {
    #[serde(default)]
    pub least_privileged: Vec<String>,
    #[serde(default)]
    pub higher_privileged: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OperationPermissions {
    pub operation: String,
    #[serde(default)]
    pub application: Option<PermissionSets>,
    #[serde(default)]
    pub delegated_work_or_school: Option<PermissionSets>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCatalog {
    graph_permissions: Vec<Permission>,
    directory_role_templates: Vec<RoleTemplate>,
    operations: Vec<OperationPermissions>,
}

#[derive(Debug)]
pub(crate) struct Catalog {
    pub permissions: Vec<Permission>,
    pub role_templates: Vec<RoleTemplate>,
    operations: HashMap<String, OperationPermissions>,
    /// Indexes into `permissions`: every new tenant's consent looks up two dozen.
    app_roles_by_value: HashMap<String, usize>,
    scopes_by_value: HashMap<String, usize>,
    app_roles_by_id: HashMap<Uuid, usize>,
}

impl Catalog {
    pub(crate) fn get() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(|| {
            let raw: RawCatalog = serde_json::from_str(include_str!("../../data/well-known-ids.json"))
                .expect("the embedded well-known-ids.json is valid (checked by a unit test)");
            let permissions = raw.graph_permissions;
            let by_value = |kind| {
                permissions
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.kind == kind)
                    .map(|(i, p)| (p.value.clone(), i))
                    .collect()
            };
            let (app_roles_by_value, scopes_by_value) =
                (by_value(PermissionKind::Application), by_value(PermissionKind::Delegated));
            let app_roles_by_id = permissions
                .iter()
                .enumerate()
                .filter(|(_, p)| p.kind == PermissionKind::Application)
                .map(|(i, p)| (p.id, i))
                .collect();
            Catalog {
                permissions,
                role_templates: raw.directory_role_templates,
                operations: raw.operations.into_iter().map(|o| (o.operation.clone(), o)).collect(),
                app_roles_by_value,
                scopes_by_value,
                app_roles_by_id,
            }
        })
    }

    pub(crate) fn app_role(&self, value: &str) -> Option<&Permission> {
        self.permission(PermissionKind::Application, value)
    }

    /// A delegated permission (scope) by its value.
    pub(crate) fn scope(&self, value: &str) -> Option<&Permission> {
        self.permission(PermissionKind::Delegated, value)
    }

    fn permission(&self, kind: PermissionKind, value: &str) -> Option<&Permission> {
        let index = match kind {
            PermissionKind::Application => &self.app_roles_by_value,
            PermissionKind::Delegated => &self.scopes_by_value,
        };
        index.get(value).map(|&i| &self.permissions[i])
    }

    pub(crate) fn app_role_by_id(&self, id: Uuid) -> Option<&Permission> {
        self.app_roles_by_id.get(&id).map(|&i| &self.permissions[i])
    }

    pub(crate) fn operation(&self, name: &str) -> Option<&OperationPermissions> {
        self.operations.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_catalogue_parses_and_has_user_read_write_all() {
        let c = Catalog::get();
        let p = c.app_role("User.ReadWrite.All").expect("present");
        assert_eq!(p.id, uuid::uuid!("741f803b-c850-494e-b5df-cde7c675a1ca"));
        assert!(c.operation("users.create").is_some());
    }
}
