//! Authorization: the one place that says 403.
//!
//! Each Graph operation the mock serves has a name from the reference's
//! operation table (`data/well-known-ids.json` → `operations`, a copy of
//! `reference/well-known-ids.json`). That table lists, per operation, the
//! application permissions and delegated scopes that allow it; an entry such as
//! `AppRoleAssignment.ReadWrite.All + Application.Read.All` needs all its parts.
//! App-only tokens are checked against `roles`, delegated ones against `scp`.

use crate::directory::catalog::{Catalog, PermissionSets};
use crate::error::ApiError;
use uuid::Uuid;

use crate::identity::Principal;

/// Operations the mock serves that the reference table does not list, with
/// the permissions Graph's documentation gives for them.
const EXTRA_OPERATIONS: &[(&str, &[&str], &[&str])] = &[
    ("users.count", USER_READ, USER_READ_DELEGATED),
    ("deletedItems.getUser", USER_READ, USER_READ_DELEGATED),
    ("applications.list", APP_READ, APP_READ),
    ("applications.addKey", APP_WRITE, APP_WRITE_DELEGATED),
    ("servicePrincipals.list", APP_READ, APP_READ),
    ("servicePrincipals.update", APP_WRITE, APP_WRITE_DELEGATED),
    ("servicePrincipals.delete", APP_WRITE, APP_WRITE_DELEGATED),
    ("servicePrincipals.appRoleAssignments.list", APP_READ, APP_READ),
    ("servicePrincipals.appRoleAssignedTo.delete", ASSIGN, ASSIGN),
    // Granting Microsoft Graph's own app roles: Application.ReadWrite.All is
    // not enough (reference/graph-wire.md §5.6).
    ("servicePrincipals.appRoleAssignedTo.create.graph", ASSIGN_GRAPH, ASSIGN_GRAPH),
    ("oauth2PermissionGrants.list", GRANT_READ, GRANT_READ),
    ("oauth2PermissionGrants.get", GRANT_READ, GRANT_READ),
    ("oauth2PermissionGrants.update", GRANT_WRITE, GRANT_WRITE),
    ("oauth2PermissionGrants.delete", GRANT_WRITE, GRANT_WRITE),
    ("directoryRoleTemplates.list", ROLE_READ, ROLE_READ),
    ("directoryRoles.get", ROLE_READ, ROLE_READ),
    ("directoryRoles.members.list", ROLE_READ, ROLE_READ),
    ("directoryRoles.members.remove", ROLE_WRITE, ROLE_WRITE),
    ("roleManagement.directory.roleDefinitions.list", ROLE_READ, ROLE_READ),
    ("roleManagement.directory.roleAssignments.get", ROLE_READ, ROLE_READ),
    ("roleManagement.directory.roleAssignments.delete", ROLE_WRITE, ROLE_WRITE),
    ("users.memberOf.list", USER_READ, USER_READ_DELEGATED),
    ("users.licenseDetails.list", USER_READ, USER_READ_DELEGATED),
    (
        "users.assignLicense",
        &["User.ReadWrite.All", "Directory.ReadWrite.All"],
        &["User.ReadWrite.All", "Directory.ReadWrite.All"],
    ),
    ("groups.list", GROUP_READ, GROUP_READ),
    ("groups.delta", GROUP_READ, GROUP_READ),
    (
        "groups.members.remove",
        &["GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"],
        &["GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"],
    ),
    ("domains.delete", &["Domain.ReadWrite.All"], &["Domain.ReadWrite.All"]),
    ("subscribedSkus.list", SKU_READ, SKU_READ),
    ("deletedItems.listGroup", GROUP_READ, GROUP_READ),
    ("deletedItems.getGroup", GROUP_READ, GROUP_READ),
    (
        "deletedItems.restoreGroup",
        &["Group.ReadWrite.All", "Directory.ReadWrite.All"],
        &["Group.ReadWrite.All", "Directory.ReadWrite.All"],
    ),
    ("deletedItems.deleteGroup", &["Group.ReadWrite.All"], &["Group.ReadWrite.All"]),
    ("deletedItems.listApplication", APP_READ, APP_READ),
    ("deletedItems.getApplication", APP_READ, APP_READ),
    ("deletedItems.restoreApplication", APP_WRITE, APP_WRITE_DELEGATED),
    ("deletedItems.deleteApplication", APP_WRITE, APP_WRITE_DELEGATED),
    ("deletedItems.listServicePrincipal", APP_READ, APP_READ),
    ("deletedItems.getServicePrincipal", APP_READ, APP_READ),
    ("deletedItems.restoreServicePrincipal", APP_WRITE, APP_WRITE_DELEGATED),
    ("deletedItems.deleteServicePrincipal", APP_WRITE, APP_WRITE_DELEGATED),
    // App-only PATCH of the sync configuration, which v1.0's docs do not
    // support; used only when the tenant's `appOnlySyncUpdate` setting is on.
    ("onPremisesSynchronization.update.app", SYNC_WRITE, SYNC_WRITE),
];

const USER_READ: &[&str] = &["User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"];
const USER_READ_DELEGATED: &[&str] =
    &["User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"];
const APP_READ: &[&str] = &[
    "Application.Read.All",
    "Application.ReadWrite.OwnedBy",
    "Application.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
const APP_WRITE: &[&str] = &["Application.ReadWrite.OwnedBy", "Application.ReadWrite.All", "Directory.ReadWrite.All"];
const APP_WRITE_DELEGATED: &[&str] = &["Application.ReadWrite.All", "Directory.ReadWrite.All"];
const ASSIGN: &[&str] = &[
    "AppRoleAssignment.ReadWrite.All + Application.Read.All",
    "AppRoleAssignment.ReadWrite.All + Directory.Read.All",
    "Application.ReadWrite.All",
    "Directory.ReadWrite.All",
];
const ASSIGN_GRAPH: &[&str] = &[
    "AppRoleAssignment.ReadWrite.All + Application.Read.All",
    "AppRoleAssignment.ReadWrite.All + Application.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All + Directory.Read.All",
    "AppRoleAssignment.ReadWrite.All + Directory.ReadWrite.All",
];
const GROUP_READ: &[&str] =
    &["GroupMember.Read.All", "Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"];
const SKU_READ: &[&str] = &[
    "LicenseAssignment.Read.All",
    "Organization.Read.All",
    "Directory.Read.All",
    "Organization.ReadWrite.All",
    "Directory.ReadWrite.All",
];
const ROLE_READ: &[&str] = &[
    "RoleManagement.Read.Directory",
    "RoleManagement.Read.All",
    "RoleManagement.ReadWrite.Directory",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
const ROLE_WRITE: &[&str] = &["RoleManagement.ReadWrite.Directory"];
const GRANT_READ: &[&str] = &[
    "DelegatedPermissionGrant.Read.All",
    "DelegatedPermissionGrant.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
const SYNC_WRITE: &[&str] = &["OnPremDirectorySynchronization.ReadWrite.All"];
const GRANT_WRITE: &[&str] = &["DelegatedPermissionGrant.ReadWrite.All", "Directory.ReadWrite.All"];

fn satisfied(entry: &str, held: &[String]) -> bool {
    entry.split('+').map(str::trim).all(|needed| held.iter().any(|h| h == needed))
}

fn allowed_by(sets: Option<&PermissionSets>, held: &[String]) -> bool {
    sets.is_some_and(|s| s.least_privileged.iter().chain(&s.higher_privileged).any(|e| satisfied(e, held)))
}

/// Whether `principal` may perform `operation`; `Err(403)` if not.
pub(crate) fn check(principal: &Principal, operation: &str) -> Result<(), ApiError> {
    let permitted = match Catalog::get().operation(operation) {
        Some(op) if principal.app_only => allowed_by(op.application.as_ref(), &principal.roles),
        Some(op) => {
            delegated_catch_all(principal) || allowed_by(op.delegated_work_or_school.as_ref(), &principal.scopes)
        }
        None => match EXTRA_OPERATIONS.iter().find(|(name, _, _)| *name == operation) {
            Some((_, app, _)) if principal.app_only => app.iter().any(|e| satisfied(e, &principal.roles)),
            Some((_, _, delegated)) => {
                delegated_catch_all(principal) || delegated.iter().any(|e| satisfied(e, &principal.scopes))
            }
            // An operation missing from both tables is a bug in the mock, and
            // refusing is the safe failure.
            None => false,
        },
    };
    // A delegated token acts for a user: the app's scopes are not enough, the
    // user must also hold a role that allows the write.
    let user_may = principal.app_only || user_role_allows(&principal.wids, operation);
    if permitted && user_may {
        Ok(())
    } else {
        Err(ApiError::forbidden())
    }
}

/// `Directory.AccessAsUser.All` lets the app do whatever the signed-in user can.
fn delegated_catch_all(principal: &Principal) -> bool {
    principal.scopes.iter().any(|s| s == "Directory.AccessAsUser.All")
}

const GLOBAL_ADMINISTRATOR: Uuid = uuid::uuid!("62e90394-69f5-4237-9190-012177145e10");
const USER_ADMINISTRATOR: Uuid = uuid::uuid!("fe930be7-5e62-47db-91af-98c3a49a38b1");
const APPLICATION_ADMINISTRATOR: Uuid = uuid::uuid!("9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3");
const CLOUD_APPLICATION_ADMINISTRATOR: Uuid = uuid::uuid!("158c047a-c907-4556-b7ef-446551a6b5f7");
const PRIVILEGED_ROLE_ADMINISTRATOR: Uuid = uuid::uuid!("e8611ab8-c189-46e8-94e1-60213ab1f814");
const HYBRID_IDENTITY_ADMINISTRATOR: Uuid = uuid::uuid!("8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2");
const GROUPS_ADMINISTRATOR: Uuid = uuid::uuid!("fdd7a751-b60b-444a-984c-02652fe8fa1c");
const DOMAIN_NAME_ADMINISTRATOR: Uuid = uuid::uuid!("8329153b-31d0-4727-b945-745eb3bc5f31");

/// Which directory roles let a signed-in user make a change, by operation
/// family. Reads need no role: member users read the directory by default.
const WRITE_ROLES: &[(&str, &[Uuid])] = &[
    (
        "servicePrincipals.appRoleAssigned",
        &[
            GLOBAL_ADMINISTRATOR,
            PRIVILEGED_ROLE_ADMINISTRATOR,
            APPLICATION_ADMINISTRATOR,
            CLOUD_APPLICATION_ADMINISTRATOR,
        ],
    ),
    (
        "oauth2PermissionGrants.",
        &[
            GLOBAL_ADMINISTRATOR,
            PRIVILEGED_ROLE_ADMINISTRATOR,
            APPLICATION_ADMINISTRATOR,
            CLOUD_APPLICATION_ADMINISTRATOR,
        ],
    ),
    ("users.", &[GLOBAL_ADMINISTRATOR, USER_ADMINISTRATOR]),
    (
        "deletedItems.",
        &[GLOBAL_ADMINISTRATOR, USER_ADMINISTRATOR, APPLICATION_ADMINISTRATOR, CLOUD_APPLICATION_ADMINISTRATOR],
    ),
    ("applications.", &[GLOBAL_ADMINISTRATOR, APPLICATION_ADMINISTRATOR, CLOUD_APPLICATION_ADMINISTRATOR]),
    ("servicePrincipals.", &[GLOBAL_ADMINISTRATOR, APPLICATION_ADMINISTRATOR, CLOUD_APPLICATION_ADMINISTRATOR]),
    ("directoryRoles.", &[GLOBAL_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR]),
    ("roleManagement.", &[GLOBAL_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR]),
    ("organization.", &[GLOBAL_ADMINISTRATOR, HYBRID_IDENTITY_ADMINISTRATOR]),
    ("onPremisesSynchronization.", &[GLOBAL_ADMINISTRATOR, HYBRID_IDENTITY_ADMINISTRATOR]),
    ("groups.", &[GLOBAL_ADMINISTRATOR, GROUPS_ADMINISTRATOR, USER_ADMINISTRATOR]),
    ("domains.", &[GLOBAL_ADMINISTRATOR, DOMAIN_NAME_ADMINISTRATOR]),
];

fn is_read(operation: &str) -> bool {
    let verb = operation.rsplit('.').next().unwrap_or(operation);
    ["list", "get", "count"].iter().any(|r| verb.starts_with(r))
}

fn user_role_allows(wids: &[Uuid], operation: &str) -> bool {
    if is_read(operation) {
        return true;
    }
    WRITE_ROLES
        .iter()
        .find(|(prefix, _)| operation.starts_with(prefix))
        .is_some_and(|(_, roles)| roles.iter().any(|r| wids.contains(r)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn app_with(roles: &[&str]) -> Principal {
        Principal {
            tenant_id: Uuid::nil(),
            app_id: Uuid::nil(),
            object_id: Uuid::nil(),
            app_only: true,
            roles: roles.iter().map(|r| r.to_string()).collect(),
            scopes: Vec::new(),
            wids: Vec::new(),
        }
    }

    #[test]
    fn user_read_all_allows_listing_but_not_creating_users() {
        let p = app_with(&["User.Read.All"]);
        assert!(check(&p, "users.list").is_ok());
        assert_eq!(check(&p, "users.create").unwrap_err().status, 403);
    }

    #[test]
    fn directory_read_write_all_cannot_delete_users_as_the_reference_says() {
        let p = app_with(&["Directory.ReadWrite.All"]);
        assert!(check(&p, "users.update").is_ok());
        assert!(check(&p, "users.delete").is_err());
    }

    #[test]
    fn combined_entries_need_every_part() {
        let only_one = app_with(&["AppRoleAssignment.ReadWrite.All"]);
        assert!(check(&only_one, "servicePrincipals.appRoleAssignedTo.create").is_err());
        let both = app_with(&["AppRoleAssignment.ReadWrite.All", "Application.Read.All"]);
        assert!(check(&both, "servicePrincipals.appRoleAssignedTo.create").is_ok());
    }

    fn user_with(scopes: &[&str], wids: &[Uuid]) -> Principal {
        Principal {
            app_only: false,
            scopes: scopes.iter().map(|r| r.to_string()).collect(),
            wids: wids.to_vec(),
            ..app_with(&[])
        }
    }

    #[test]
    fn delegated_writes_need_the_scope_and_a_user_role() {
        let plain_user = user_with(&["User.ReadWrite.All"], &[]);
        assert!(check(&plain_user, "users.list").is_ok(), "reads need no role");
        assert!(check(&plain_user, "users.create").is_err(), "writes need a role");
        let user_admin = user_with(&["User.ReadWrite.All"], &[USER_ADMINISTRATOR]);
        assert!(check(&user_admin, "users.create").is_ok());
        assert!(check(&user_admin, "applications.create").is_err(), "neither scope nor role");
    }

    #[test]
    fn directory_access_as_user_acts_with_the_users_own_roles() {
        let admin = user_with(&["Directory.AccessAsUser.All"], &[GLOBAL_ADMINISTRATOR]);
        assert!(check(&admin, "applications.create").is_ok());
        let nobody = user_with(&["Directory.AccessAsUser.All"], &[]);
        assert!(check(&nobody, "applications.create").is_err());
    }

    #[test]
    fn application_read_write_all_cannot_grant_microsoft_graph_app_roles() {
        let p = app_with(&["Application.ReadWrite.All"]);
        assert!(check(&p, "servicePrincipals.appRoleAssignedTo.create").is_ok());
        assert!(check(&p, "servicePrincipals.appRoleAssignedTo.create.graph").is_err());
    }

    #[test]
    fn a_token_without_roles_is_refused() {
        assert!(check(&app_with(&[]), "users.get").is_err());
    }
}
