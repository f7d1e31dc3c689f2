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
    ("deletedItems.listApplication", APP_READ, APP_READ),
    ("deletedItems.getApplication", APP_READ, APP_READ),
    ("deletedItems.restoreApplication", APP_WRITE, APP_WRITE_DELEGATED),
    ("deletedItems.deleteApplication", APP_WRITE, APP_WRITE_DELEGATED),
    ("deletedItems.listServicePrincipal", APP_READ, APP_READ),
    ("deletedItems.getServicePrincipal", APP_READ, APP_READ),
    ("deletedItems.restoreServicePrincipal", APP_WRITE, APP_WRITE_DELEGATED),
    ("deletedItems.deleteServicePrincipal", APP_WRITE, APP_WRITE_DELEGATED),
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
const GRANT_READ: &[&str] = &[
    "DelegatedPermissionGrant.Read.All",
    "DelegatedPermissionGrant.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
const GRANT_WRITE: &[&str] = &["DelegatedPermissionGrant.ReadWrite.All", "Directory.ReadWrite.All"];

fn satisfied(entry: &str, held: &[String]) -> bool {
    entry.split('+').map(str::trim).all(|needed| held.iter().any(|h| h == needed))
}

fn allowed_by(sets: Option<&PermissionSets>, held: &[String]) -> bool {
    sets.is_some_and(|s| s.least_privileged.iter().chain(&s.higher_privileged).any(|e| satisfied(e, held)))
}

/// Whether `principal` may perform `operation`; `Err(403)` if not.
pub(crate) fn check(principal: &Principal, operation: &str) -> Result<(), ApiError> {
    let ok = match Catalog::get().operation(operation) {
        Some(op) if principal.app_only => allowed_by(op.application.as_ref(), &principal.roles),
        Some(op) => allowed_by(op.delegated_work_or_school.as_ref(), &principal.scopes),
        None => match EXTRA_OPERATIONS.iter().find(|(name, _, _)| *name == operation) {
            Some((_, app, delegated)) if principal.app_only => app.iter().any(|e| satisfied(e, &principal.roles)),
            Some((_, _, delegated)) => delegated.iter().any(|e| satisfied(e, &principal.scopes)),
            // An operation missing from both tables is a bug in the mock, and
            // refusing is the safe failure.
            None => false,
        },
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::forbidden())
    }
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

    #[test]
    fn a_token_without_roles_is_refused() {
        assert!(check(&app_with(&[]), "users.get").is_err());
    }
}
