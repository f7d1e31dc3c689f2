//! Authorization: the one place that says 403.
//!
//! Each Graph operation the mock serves has a name from the reference's
//! operation table (`data/well-known-ids.json` → `operations`, a copy of
//! `reference/well-known-ids.json`). That table lists, per operation, the
//! application permissions and delegated scopes that allow it; an entry such as
//! `AppRoleAssignment.ReadWrite.All + Application.Read.All` needs all its parts.
//! App-only tokens are checked against `roles`, delegated ones against `scp`.
//!
//! A permission says which operation an app may call; it does not say which
//! users it may touch with a *sensitive action* (a password reset, the
//! sensitive properties, enable/disable, delete, restore, permanent delete).
//! For those the caller's directory roles must also outrank the target's:
//! [`check_sensitive`] reads Graph's two tables, kept below as data
//! ([`PASSWORD_TABLE`], [`ATTRIBUTE_TABLE`]). The caller's roles are the
//! token's `wids`: the service principal's roles for an app-only token, the
//! signed-in user's for a delegated one, both fixed when the token was issued.

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

pub(crate) const GLOBAL_ADMINISTRATOR: Uuid = uuid::uuid!("62e90394-69f5-4237-9190-012177145e10");
pub(crate) const USER_ADMINISTRATOR: Uuid = uuid::uuid!("fe930be7-5e62-47db-91af-98c3a49a38b1");
const APPLICATION_ADMINISTRATOR: Uuid = uuid::uuid!("9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3");
const CLOUD_APPLICATION_ADMINISTRATOR: Uuid = uuid::uuid!("158c047a-c907-4556-b7ef-446551a6b5f7");
const PRIVILEGED_ROLE_ADMINISTRATOR: Uuid = uuid::uuid!("e8611ab8-c189-46e8-94e1-60213ab1f814");
const HYBRID_IDENTITY_ADMINISTRATOR: Uuid = uuid::uuid!("8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2");
const GROUPS_ADMINISTRATOR: Uuid = uuid::uuid!("fdd7a751-b60b-444a-984c-02652fe8fa1c");
const DOMAIN_NAME_ADMINISTRATOR: Uuid = uuid::uuid!("8329153b-31d0-4727-b945-745eb3bc5f31");
pub(crate) const PRIVILEGED_AUTHENTICATION_ADMINISTRATOR: Uuid = uuid::uuid!("7be44c8a-adaf-4e2a-84d6-ab2649e08a13");
const DIRECTORY_READERS: Uuid = uuid::uuid!("88d8e3e3-8f55-4a1e-953a-9b9898b8876b");
/// The implicit roles every member or guest holds: not administrator roles.
const IMPLICIT_ROLES: &[Uuid] = &[
    uuid::uuid!("a0b1b346-4d3e-4e8b-98f8-753987be4970"),
    uuid::uuid!("10dae51f-b6af-4016-8d66-8c2a99b929b3"),
    uuid::uuid!("2af84b1e-32c8-42b7-82bc-daa82404023b"),
];

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

/// A sensitive action on a user: what Graph's "who can perform sensitive
/// actions" tables govern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SensitiveAction {
    /// `PATCH /users/{id}`; which sensitive properties it touches decides the table.
    Update,
    /// `DELETE /users/{id}`.
    Delete,
    /// `POST /directory/deletedItems/{id}/restore` for a user.
    Restore,
    /// `DELETE /directory/deletedItems/{id}` for a user.
    PermanentDelete,
}

/// One row of a table: the target's roles it covers (empty: a target holding
/// no administrator role) and the caller roles that may act on such a target.
type Row = (&'static [Uuid], &'static [Uuid]);

const UA_PAA_GA: &[Uuid] = &[USER_ADMINISTRATOR, PRIVILEGED_AUTHENTICATION_ADMINISTRATOR, GLOBAL_ADMINISTRATOR];
const PAA_GA: &[Uuid] = &[PRIVILEGED_AUTHENTICATION_ADMINISTRATOR, GLOBAL_ADMINISTRATOR];
const TOP_ADMINS: &[Uuid] =
    &[PRIVILEGED_AUTHENTICATION_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR, GLOBAL_ADMINISTRATOR];

/// Who may reset a password (Graph's first table), over the roles the mock's
/// catalogue can assign. Not modelled: the Password, Helpdesk and
/// Authentication Administrator columns and the rows of roles the catalogue
/// lacks (Guest Inviter, the report readers, Helpdesk and Authentication
/// Administrator as targets), and the role-assignable-group row (groups are not
/// role-assignable here).
pub(crate) const PASSWORD_TABLE: &[Row] = &[
    (&[], UA_PAA_GA),
    (&[DIRECTORY_READERS], UA_PAA_GA),
    (&[GROUPS_ADMINISTRATOR, USER_ADMINISTRATOR], UA_PAA_GA),
    (TOP_ADMINS, PAA_GA),
];

/// Who may change the other sensitive attributes, enable or disable, delete,
/// restore or permanently delete a user (Graph's second table), with the same
/// limits as [`PASSWORD_TABLE`].
pub(crate) const ATTRIBUTE_TABLE: &[Row] = &[
    (&[], UA_PAA_GA),
    (&[DIRECTORY_READERS], UA_PAA_GA),
    (&[GROUPS_ADMINISTRATOR, USER_ADMINISTRATOR], UA_PAA_GA),
    (TOP_ADMINS, PAA_GA),
];

/// Who may act on a target holding an administrator role neither table names
/// (Application Administrator, Hybrid Identity Administrator, …). Graph's
/// tables do not say; this is a guess: only the two roles that may act on
/// every administrator.
pub(crate) const UNLISTED_ADMIN_CALLERS: &[Uuid] = PAA_GA;

/// The sensitive user properties (Graph's list), and the table each uses.
/// Resetting a password includes the phone numbers and other e-mail addresses,
/// so either table allows those three.
const SENSITIVE_PROPERTIES: &[(&str, &[&[Row]])] = &[
    ("passwordProfile", &[PASSWORD_TABLE]),
    ("businessPhones", &[PASSWORD_TABLE, ATTRIBUTE_TABLE]),
    ("mobilePhone", &[PASSWORD_TABLE, ATTRIBUTE_TABLE]),
    ("otherMails", &[PASSWORD_TABLE, ATTRIBUTE_TABLE]),
    ("accountEnabled", &[ATTRIBUTE_TABLE]),
    ("onPremisesImmutableId", &[ATTRIBUTE_TABLE]),
    ("userPrincipalName", &[ATTRIBUTE_TABLE]),
];

/// Properties an app-only caller may not touch on any user without a role,
/// even one holding no administrator role: an application permission alone
/// never resets a password.
const ROLE_ALWAYS_NEEDED: &[&str] = &["passwordProfile"];

fn is_admin_role(role: &Uuid) -> bool {
    !IMPLICIT_ROLES.contains(role)
}

/// The caller roles one table allows on a target holding `target_roles`: the
/// roles allowed on every administrator role the target holds.
fn callers_in(table: &[Row], target_roles: &[Uuid]) -> Vec<Uuid> {
    let allowed_for = |role: Option<&Uuid>| -> &'static [Uuid] {
        let row = table.iter().find(|(targets, _)| match role {
            None => targets.is_empty(),
            Some(r) => targets.contains(r),
        });
        row.map_or(UNLISTED_ADMIN_CALLERS, |(_, callers)| callers)
    };
    let mut admin = target_roles.iter().filter(|r| is_admin_role(r)).peekable();
    if admin.peek().is_none() {
        return allowed_for(None).to_vec();
    }
    let mut callers = allowed_for(None).to_vec();
    for role in admin {
        let allowed = allowed_for(Some(role));
        callers.retain(|c| allowed.contains(c));
    }
    callers
}

/// The caller roles that allow `action` touching `touched` on a target holding
/// `target_roles`: `None` when the action needs no role (nothing sensitive is
/// touched), otherwise each role that alone would allow it, most privileged
/// last. The dashboard's least-privilege report and refusals name the first.
pub(crate) fn roles_allowing(action: SensitiveAction, touched: &[&str], target_roles: &[Uuid]) -> Option<Vec<Uuid>> {
    let tables: Vec<&[&[Row]]> = match action {
        SensitiveAction::Update => {
            SENSITIVE_PROPERTIES.iter().filter(|(p, _)| touched.contains(p)).map(|(_, tables)| *tables).collect()
        }
        SensitiveAction::Delete | SensitiveAction::Restore | SensitiveAction::PermanentDelete => {
            vec![&[ATTRIBUTE_TABLE]]
        }
    };
    if tables.is_empty() {
        return None;
    }
    // Every touched property must be allowed; a property is allowed by any of its tables.
    let mut callers: Option<Vec<Uuid>> = None;
    for alternatives in tables {
        let mut either: Vec<Uuid> = Vec::new();
        for table in alternatives {
            for c in callers_in(table, target_roles) {
                if !either.contains(&c) {
                    either.push(c);
                }
            }
        }
        callers = Some(match callers {
            None => either,
            Some(mut so_far) => {
                so_far.retain(|c| either.contains(c));
                so_far
            }
        });
    }
    let mut callers = callers.unwrap_or_default();
    callers.sort_by_key(|c| UA_PAA_GA.iter().position(|r| r == c).unwrap_or(usize::MAX));
    Some(callers)
}

/// Whether `principal`, already allowed the operation, may perform the
/// sensitive `action` touching `touched` on a target holding `target_roles`;
/// `Err(403)` if not.
///
/// An app-only caller needs a role only where the target holds an
/// administrator role, or for a password reset on anyone; a delegated caller
/// acts with the signed-in user's roles, which must always be in the table.
pub(crate) fn check_sensitive(
    principal: &Principal,
    action: SensitiveAction,
    touched: &[&str],
    target_roles: &[Uuid],
) -> Result<(), ApiError> {
    let Some(callers) = roles_allowing(action, touched, target_roles) else { return Ok(()) };
    let target_is_admin = target_roles.iter().any(is_admin_role);
    let needs_role = !principal.app_only || target_is_admin || touched.iter().any(|p| ROLE_ALWAYS_NEEDED.contains(p));
    if !needs_role || principal.wids.iter().any(|w| callers.contains(w)) {
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
    // Graph's sensitive-action tables, row by row, app-only and delegated.

    use SensitiveAction::{Delete, PermanentDelete, Restore, Update};

    const APPLICATION_ADMIN: Uuid = APPLICATION_ADMINISTRATOR;
    const NO_ROLE: &[Uuid] = &[];
    /// A target holding only the implicit member role: not an administrator.
    const MEMBER: &[Uuid] = &[uuid::uuid!("a0b1b346-4d3e-4e8b-98f8-753987be4970")];

    fn app_holding(wids: &[Uuid]) -> Principal {
        Principal { wids: wids.to_vec(), ..app_with(&["User.ReadWrite.All"]) }
    }

    fn delegated_holding(wids: &[Uuid]) -> Principal {
        user_with(&["Directory.AccessAsUser.All"], wids)
    }

    fn may(p: &Principal, action: SensitiveAction, touched: &[&str], target: &[Uuid]) -> bool {
        match check_sensitive(p, action, touched, target) {
            Ok(()) => true,
            Err(e) => {
                assert_eq!((e.status, &*e.code), (403, "Authorization_RequestDenied"));
                false
            }
        }
    }

    const PASSWORD: &[&str] = &["passwordProfile"];
    const EVERY_OTHER_SENSITIVE: &[&[&str]] = &[
        &["accountEnabled"],
        &["businessPhones"],
        &["mobilePhone"],
        &["onPremisesImmutableId"],
        &["otherMails"],
        &["userPrincipalName"],
    ];
    const TOP_ADMIN_TARGETS: &[Uuid] =
        &[GLOBAL_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR, PRIVILEGED_AUTHENTICATION_ADMINISTRATOR];
    const LIMITED_ADMIN_TARGETS: &[Uuid] = &[USER_ADMINISTRATOR, GROUPS_ADMINISTRATOR, DIRECTORY_READERS];

    #[test]
    fn app_only_without_a_role_may_not_reset_any_password() {
        let p = app_holding(NO_ROLE);
        assert!(!may(&p, Update, PASSWORD, NO_ROLE));
        assert!(!may(&p, Update, PASSWORD, MEMBER));
        assert!(!may(&p, Update, &["displayName", "passwordProfile"], NO_ROLE));
        for target in TOP_ADMIN_TARGETS.iter().chain(LIMITED_ADMIN_TARGETS) {
            assert!(!may(&p, Update, PASSWORD, &[*target]), "{target}");
        }
    }

    #[test]
    fn app_only_without_a_role_may_change_a_non_administrators_other_sensitive_attributes() {
        let p = app_holding(NO_ROLE);
        for touched in EVERY_OTHER_SENSITIVE {
            assert!(may(&p, Update, touched, NO_ROLE), "{touched:?}");
            assert!(may(&p, Update, touched, MEMBER), "{touched:?}");
        }
        for action in [Delete, Restore, PermanentDelete] {
            assert!(may(&p, action, &[], NO_ROLE), "{action:?}");
        }
    }

    #[test]
    fn app_only_without_a_role_may_not_touch_an_administrator() {
        let p = app_holding(NO_ROLE);
        for target in TOP_ADMIN_TARGETS.iter().chain(LIMITED_ADMIN_TARGETS).chain(&[APPLICATION_ADMIN]) {
            for touched in EVERY_OTHER_SENSITIVE {
                assert!(!may(&p, Update, touched, &[*target]), "{touched:?} on {target}");
            }
            for action in [Delete, Restore, PermanentDelete] {
                assert!(!may(&p, action, &[], &[*target]), "{action:?} on {target}");
            }
        }
    }

    #[test]
    fn any_caller_may_change_what_is_not_sensitive() {
        for p in [app_holding(NO_ROLE), delegated_holding(NO_ROLE)] {
            assert!(may(&p, Update, &["displayName", "jobTitle"], &[GLOBAL_ADMINISTRATOR]));
        }
    }

    /// Rows "no admin role" and "Directory Readers" of both tables, and "Groups
    /// Admin, User Admin": a User Administrator may.
    #[test]
    fn user_administrator_may_act_on_non_administrators_and_limited_administrators() {
        for p in [app_holding(&[USER_ADMINISTRATOR]), delegated_holding(&[USER_ADMINISTRATOR])] {
            for target in [NO_ROLE, MEMBER, &[DIRECTORY_READERS], &[USER_ADMINISTRATOR], &[GROUPS_ADMINISTRATOR]] {
                assert!(may(&p, Update, PASSWORD, target), "password of {target:?}");
                for touched in EVERY_OTHER_SENSITIVE {
                    assert!(may(&p, Update, touched, target), "{touched:?} of {target:?}");
                }
                for action in [Delete, Restore, PermanentDelete] {
                    assert!(may(&p, action, &[], target), "{action:?} {target:?}");
                }
            }
        }
    }

    /// Row "Privileged Auth Admin, Privileged Role Admin, Global Admin": a User
    /// Administrator may not.
    #[test]
    fn user_administrator_may_not_act_on_a_global_administrator() {
        for p in [app_holding(&[USER_ADMINISTRATOR]), delegated_holding(&[USER_ADMINISTRATOR])] {
            for target in TOP_ADMIN_TARGETS {
                assert!(!may(&p, Update, PASSWORD, &[*target]), "password of {target}");
                for touched in EVERY_OTHER_SENSITIVE {
                    assert!(!may(&p, Update, touched, &[*target]), "{touched:?} of {target}");
                }
                for action in [Delete, Restore, PermanentDelete] {
                    assert!(!may(&p, action, &[], &[*target]), "{action:?} {target}");
                }
            }
        }
    }

    #[test]
    fn global_and_privileged_authentication_administrators_may_act_on_every_row() {
        for role in [GLOBAL_ADMINISTRATOR, PRIVILEGED_AUTHENTICATION_ADMINISTRATOR] {
            for p in [app_holding(&[role]), delegated_holding(&[role])] {
                for target in TOP_ADMIN_TARGETS.iter().chain(LIMITED_ADMIN_TARGETS).chain(&[APPLICATION_ADMIN]) {
                    assert!(may(&p, Update, PASSWORD, &[*target]));
                    for touched in EVERY_OTHER_SENSITIVE {
                        assert!(may(&p, Update, touched, &[*target]));
                    }
                    for action in [Delete, Restore, PermanentDelete] {
                        assert!(may(&p, action, &[], &[*target]));
                    }
                }
                assert!(may(&p, Update, PASSWORD, NO_ROLE));
            }
        }
    }

    #[test]
    fn delegated_user_without_a_role_may_not_perform_any_sensitive_action() {
        let p = delegated_holding(NO_ROLE);
        assert!(!may(&p, Update, PASSWORD, NO_ROLE));
        for touched in EVERY_OTHER_SENSITIVE {
            assert!(!may(&p, Update, touched, NO_ROLE), "{touched:?}");
        }
        for action in [Delete, Restore, PermanentDelete] {
            assert!(!may(&p, action, &[], NO_ROLE));
        }
    }

    #[test]
    fn roles_outside_both_tables_allow_no_sensitive_action() {
        // Application Administrator may manage apps, not users' credentials.
        for p in [app_holding(&[APPLICATION_ADMIN]), delegated_holding(&[APPLICATION_ADMIN])] {
            assert!(!may(&p, Update, PASSWORD, NO_ROLE));
            assert!(!may(&p, Delete, &[], &[USER_ADMINISTRATOR]));
        }
    }

    #[test]
    fn a_target_outside_both_tables_needs_the_strictest_callers() {
        let ua = app_holding(&[USER_ADMINISTRATOR]);
        assert!(!may(&ua, Update, PASSWORD, &[APPLICATION_ADMIN]));
        assert!(may(&app_holding(&[GLOBAL_ADMINISTRATOR]), Update, PASSWORD, &[APPLICATION_ADMIN]));
    }

    #[test]
    fn a_target_with_several_roles_needs_a_caller_allowed_for_each() {
        let ua = app_holding(&[USER_ADMINISTRATOR]);
        assert!(may(&ua, Update, PASSWORD, &[DIRECTORY_READERS, USER_ADMINISTRATOR]));
        assert!(!may(&ua, Update, PASSWORD, &[USER_ADMINISTRATOR, GLOBAL_ADMINISTRATOR]));
    }

    #[test]
    fn the_roles_allowing_an_action_name_the_least_privileged_first() {
        let ua_first = roles_allowing(Update, PASSWORD, NO_ROLE).expect("sensitive");
        assert_eq!(ua_first.first(), Some(&USER_ADMINISTRATOR));
        let top = roles_allowing(Delete, &[], &[GLOBAL_ADMINISTRATOR]).expect("sensitive");
        assert_eq!(top, vec![PRIVILEGED_AUTHENTICATION_ADMINISTRATOR, GLOBAL_ADMINISTRATOR]);
        assert_eq!(roles_allowing(Update, &["displayName"], &[GLOBAL_ADMINISTRATOR]), None);
    }
}
