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
//!
//! A signed-in user also needs a role that allows the write at all
//! ([`WRITE_ROLES`]), except for the application writes an owner makes on what
//! they own ([`OWNER_WRITES`], decided by [`check_as`] once the handler knows the
//! object). Password, Helpdesk and Authentication Administrators
//! may make only part of the user writes ([`LIMITED_WRITES`]): a `PATCH` that
//! touches nothing but the properties their role may change, which
//! [`check_sensitive`] checks once the body is read.
//!
//! An app whose only grant for an operation is `Application.ReadWrite.OwnedBy`
//! may use it only on applications and service principals it owns
//! ([`only_as_owner`]); the handlers apply that to the object they found.

use crate::directory::catalog::Catalog;
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
    ("applications.owners.list", APP_READ, APP_READ),
    ("applications.owners.add", OWNER_ADD, OWNER_ADD),
    ("applications.owners.remove", APP_WRITE, APP_WRITE_DELEGATED),
    ("servicePrincipals.owners.list", APP_READ, APP_READ),
    ("servicePrincipals.owners.add", OWNER_ADD, OWNER_ADD),
    ("servicePrincipals.owners.remove", APP_WRITE, APP_WRITE_DELEGATED),
    ("servicePrincipals.ownedObjects.list", APP_READ, APP_READ),
    ("servicePrincipals.appRoleAssignedTo.delete", ASSIGN, ASSIGN),
    // Granting Microsoft Graph's own app roles: Application.ReadWrite.All is
    // not enough.
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
    // internalDomainFederation (domains/{id}/federationConfiguration).
    ("domains.federationConfiguration.list", FEDERATION_READ, FEDERATION_READ),
    ("domains.federationConfiguration.write", FEDERATION_WRITE, FEDERATION_WRITE),
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
    // Directory objects and the member checks (Graph reference pages
    // `directoryobject-get`, `directoryobject-getbyids`, `user-checkmembergroups`,
    // `group-checkmembergroups`, `serviceprincipal-checkmembergroups` and their
    // siblings): reading memberships needs the principal type's read
    // permission and a group read permission, or Directory.Read.All.
    // A service principal's credentials (`serviceprincipal-addpassword`,
    // `-removepassword`, `-addkey`, `-removekey`): as an application's.
    ("servicePrincipals.addPassword", APP_WRITE, APP_WRITE_DELEGATED),
    ("servicePrincipals.removePassword", APP_WRITE, APP_WRITE_DELEGATED),
    ("servicePrincipals.addKey", APP_WRITE, APP_WRITE_DELEGATED),
    ("servicePrincipals.removeKey", APP_WRITE, APP_WRITE_DELEGATED),
    // `user-list-approleassignments`.
    ("users.appRoleAssignments.list", USER_ASSIGNMENTS_READ, USER_ASSIGNMENTS_READ),
    ("directoryObjects.get", DIRECTORY_READ, DIRECTORY_READ),
    ("directoryObjects.getByIds", DIRECTORY_READ, DIRECTORY_READ),
    ("directoryObjects.checkMemberGroups", MEMBERSHIP_READ, MEMBERSHIP_READ),
    ("directoryObjects.getMemberGroups", MEMBERSHIP_READ, MEMBERSHIP_READ),
    ("directoryObjects.checkMemberObjects", MEMBERSHIP_READ, MEMBERSHIP_READ),
    ("directoryObjects.getMemberObjects", MEMBERSHIP_READ, MEMBERSHIP_READ),
    ("directoryObjects.transitiveMemberOf.list", MEMBERSHIP_READ, MEMBERSHIP_READ),
    ("users.checkMemberGroups", USER_MEMBERSHIP_READ, USER_MEMBERSHIP_READ_DELEGATED),
    ("users.getMemberGroups", USER_MEMBERSHIP_READ, USER_MEMBERSHIP_READ_DELEGATED),
    ("users.checkMemberObjects", USER_MEMBERSHIP_READ, USER_MEMBERSHIP_READ_DELEGATED),
    ("users.getMemberObjects", USER_MEMBERSHIP_READ, USER_MEMBERSHIP_READ_DELEGATED),
    ("users.transitiveMemberOf.list", USER_MEMBERSHIP_READ, USER_MEMBERSHIP_READ_DELEGATED),
    ("groups.checkMemberGroups", GROUP_MEMBERSHIP_READ, GROUP_MEMBERSHIP_READ),
    ("groups.getMemberGroups", GROUP_MEMBERSHIP_READ, GROUP_MEMBERSHIP_READ),
    ("groups.checkMemberObjects", GROUP_MEMBERSHIP_READ, GROUP_MEMBERSHIP_READ),
    ("groups.getMemberObjects", GROUP_MEMBERSHIP_READ, GROUP_MEMBERSHIP_READ),
    ("groups.transitiveMemberOf.list", GROUP_MEMBERSHIP_READ, GROUP_MEMBERSHIP_READ),
    ("servicePrincipals.checkMemberGroups", SP_MEMBERSHIP_READ, SP_MEMBERSHIP_READ),
    ("servicePrincipals.getMemberGroups", SP_MEMBERSHIP_READ, SP_MEMBERSHIP_READ),
    ("servicePrincipals.checkMemberObjects", SP_MEMBERSHIP_READ, SP_MEMBERSHIP_READ),
    ("servicePrincipals.getMemberObjects", SP_MEMBERSHIP_READ, SP_MEMBERSHIP_READ),
    ("servicePrincipals.transitiveMemberOf.list", SP_MEMBERSHIP_READ, SP_MEMBERSHIP_READ),
    ("groups.transitiveMembers.list", GROUP_MEMBERSHIP_READ, GROUP_MEMBERSHIP_READ),
    // App-only PATCH of the sync configuration, which v1.0's docs do not
    // support; used only when the tenant's `appOnlySyncUpdate` setting is on.
    ("onPremisesSynchronization.update.app", SYNC_WRITE, SYNC_WRITE),
];

const FEDERATION_READ: &[&str] = &[
    "Domain-InternalFederation.Read.All",
    "Domain-InternalFederation.ReadWrite.All",
    "Domain.Read.All",
    "Domain.ReadWrite.All",
];
const FEDERATION_WRITE: &[&str] = &["Domain-InternalFederation.ReadWrite.All", "Domain.ReadWrite.All"];
const USER_ASSIGNMENTS_READ: &[&str] = &[
    "User.Read.All",
    "User.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
const DIRECTORY_READ: &[&str] = &["Directory.Read.All", "Directory.ReadWrite.All"];
/// `/directoryObjects/{id}/…` checks: the reference names no principal type, so
/// a group read permission or the directory-wide ones (a guess between the
/// per-type pages, which all accept these).
const MEMBERSHIP_READ: &[&str] =
    &["GroupMember.Read.All", "Group.Read.All", "Directory.Read.All", "Directory.ReadWrite.All"];
const USER_MEMBERSHIP_READ: &[&str] = &[
    "User.Read.All + GroupMember.Read.All",
    "User.Read.All + Group.Read.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
const USER_MEMBERSHIP_READ_DELEGATED: &[&str] = &[
    "User.ReadBasic.All + GroupMember.Read.All",
    "User.Read.All + GroupMember.Read.All",
    "User.ReadBasic.All + Group.Read.All",
    "User.Read.All + Group.Read.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
const GROUP_MEMBERSHIP_READ: &[&str] =
    &["GroupMember.Read.All", "Group.Read.All", "Directory.Read.All", "Directory.ReadWrite.All"];
const SP_MEMBERSHIP_READ: &[&str] = &[
    "Application.Read.All + GroupMember.Read.All",
    "Application.Read.All + Group.Read.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
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
/// Adding an owner. Graph's table lists `Application.ReadWrite.OwnedBy` (with
/// `Directory.Read.All`) too, but a note on the same page says OwnedBy is not
/// enough to add an owner; the note is what callers meet.
const OWNER_ADD: &[&str] = &["Application.ReadWrite.All + Directory.Read.All", "Directory.ReadWrite.All"];
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

/// The permission entries that allow an operation, least privileged first:
/// `(entry, least_privileged)`. An entry such as `A + B` needs all its parts.
/// `None` for an operation in neither table.
pub(crate) fn options(operation: &str, app_only: bool) -> Option<(&'static str, Vec<(&'static str, bool)>)> {
    if let Some(op) = Catalog::get().operation(operation) {
        let sets = if app_only { op.application.as_ref() } else { op.delegated_work_or_school.as_ref() };
        let entries = sets
            .map(|s| {
                let least = s.least_privileged.iter().map(|e| (e.as_str(), true));
                least.chain(s.higher_privileged.iter().map(|e| (e.as_str(), false))).collect()
            })
            .unwrap_or_default();
        return Some((op.operation.as_str(), entries));
    }
    let (name, app, delegated) = EXTRA_OPERATIONS.iter().find(|(name, _, _)| *name == operation)?;
    // The extra table lists its entries least privileged first; only the
    // first counts as least privileged.
    let entries = if app_only { app } else { delegated };
    Some((name, entries.iter().enumerate().map(|(i, e)| (*e, i == 0)).collect()))
}

/// What the permission check decided for one request: the operation, the
/// permission entry that allowed it (or, when refused, the least-privileged
/// one that would have), and whether it was allowed. Every field is static
/// (names from the catalogue), so recording a decision allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decision {
    pub operation: &'static str,
    pub permission: Option<&'static str>,
    pub allowed: bool,
}

/// Application writes Entra lets a signed-in user make with no administrator
/// role: on an application they own (an owner manages what they own), and
/// creating one, which makes them its owner (by default any member may
/// register applications).
const OWNER_WRITES: &[&str] = &[
    "applications.create",
    "applications.update",
    "applications.delete",
    "applications.addPassword",
    "applications.removePassword",
    "applications.addKey",
    "applications.owners.add",
    "applications.owners.remove",
];

/// The pure decision behind [`check_as`]: may `principal` perform `operation`,
/// on an object the signed-in user owns when `owner` (or, for
/// `applications.create`, will own)?
pub(crate) fn decide_as(principal: &Principal, operation: &str, owner: bool) -> Decision {
    const CATCH_ALL: &str = "Directory.AccessAsUser.All";
    let (name, permission, permitted) = match Catalog::get().operation(operation) {
        Some(op) => {
            let sets = if principal.app_only { op.application.as_ref() } else { op.delegated_work_or_school.as_ref() };
            let held = if principal.app_only { &principal.roles } else { &principal.scopes };
            let allowing =
                sets.and_then(|s| s.least_privileged.iter().chain(&s.higher_privileged).find(|e| satisfied(e, held)));
            match allowing {
                Some(entry) => (op.operation.as_str(), Some(entry.as_str()), true),
                None if !principal.app_only && delegated_catch_all(principal) => {
                    (op.operation.as_str(), Some(CATCH_ALL), true)
                }
                None => {
                    let wanted = sets.and_then(|s| s.least_privileged.first().or(s.higher_privileged.first()));
                    (op.operation.as_str(), wanted.map(String::as_str), false)
                }
            }
        }
        None => match EXTRA_OPERATIONS.iter().find(|(name, _, _)| *name == operation) {
            Some((name, app, delegated)) => {
                let (entries, held) =
                    if principal.app_only { (app, &principal.roles) } else { (delegated, &principal.scopes) };
                match entries.iter().find(|e| satisfied(e, held)) {
                    Some(entry) => (*name, Some(*entry), true),
                    None if !principal.app_only && delegated_catch_all(principal) => (*name, Some(CATCH_ALL), true),
                    None => (*name, entries.first().copied(), false),
                }
            }
            // An operation missing from both tables is a bug in the mock, and
            // refusing is the safe failure.
            None => ("unknown", None, false),
        },
    };
    // A delegated token acts for a user: the app's scopes are not enough, the
    // user must also hold a role that allows the write (or part of it: the
    // properties are checked with the body, in `check_sensitive`).
    let user_may = principal.app_only
        || user_role_allows(&principal.wids, operation)
        || limited_writes_of(&principal.wids, operation).next().is_some()
        || (owner && OWNER_WRITES.contains(&operation));
    Decision { operation: name, permission, allowed: permitted && user_may }
}

/// Whether `principal` may perform `operation`; `Err(403)` if not. The
/// decision is recorded for the request log when a [`Scope`] is open; under a
/// report-only scope a refusal is recorded and the call goes through.
pub(crate) fn check(principal: &Principal, operation: &str) -> Result<(), ApiError> {
    check_as(principal, operation, false)
}

/// [`check`] for a write on an object the signed-in user owns when `owner`.
pub(crate) fn check_as(principal: &Principal, operation: &str, owner: bool) -> Result<(), ApiError> {
    let decision = decide_as(principal, operation, owner);
    let report_only = SCOPE.with(|s| {
        let mut s = s.borrow_mut();
        if let Some(slot) = s.decisions.iter_mut().find(|d| d.is_none_or(|d| d == decision)) {
            *slot = Some(decision);
        }
        s.report_only
    });
    if decision.allowed || report_only {
        Ok(())
    } else {
        Err(ApiError::forbidden())
    }
}

const OWNED_BY: &str = "Application.ReadWrite.OwnedBy";

/// Whether an app-only caller holds `operation` only through
/// `Application.ReadWrite.OwnedBy`: Graph then allows it only on the
/// applications and service principals the caller owns, and lists only those.
/// A caller that also holds a permission allowing it outright (say
/// `Application.Read.All` for a read) is not limited.
pub(crate) fn only_as_owner(principal: &Principal, operation: &str) -> bool {
    if !principal.app_only || !principal.roles.iter().any(|r| r == OWNED_BY) {
        return false;
    }
    let Some((_, entries)) = options(operation, true) else { return false };
    let mut allowing = entries.iter().map(|(e, _)| *e).filter(|e| satisfied(e, &principal.roles)).peekable();
    allowing.peek().is_some() && allowing.all(|e| e.contains(OWNED_BY))
}

/// How many distinct decisions one request keeps (a handler checks one or
/// two operations; a fixed array keeps recording free of allocation).
const DECISIONS_PER_REQUEST: usize = 4;

#[derive(Debug, Default)]
struct ScopeState {
    report_only: bool,
    decisions: [Option<Decision>; DECISIONS_PER_REQUEST],
}

thread_local! {
    static SCOPE: std::cell::RefCell<ScopeState> = std::cell::RefCell::default();
}

/// One request's authorization scope on this thread (handlers are
/// synchronous): opened by the Graph intake, which reads the decision back
/// when it logs the request. Nested scopes (`$batch` items) restore the outer
/// one when dropped.
#[must_use = "the scope ends when dropped"]
pub(crate) struct Scope {
    outer: ScopeState,
}

impl Scope {
    pub(crate) fn enter(report_only: bool) -> Scope {
        let outer = SCOPE.with(|s| {
            std::mem::replace(
                &mut *s.borrow_mut(),
                ScopeState { report_only, decisions: [None; DECISIONS_PER_REQUEST] },
            )
        });
        Scope { outer }
    }

    /// Every distinct permission decision made in this scope, in order.
    pub(crate) fn decisions(&self) -> [Option<Decision>; DECISIONS_PER_REQUEST] {
        SCOPE.with(|s| s.borrow().decisions)
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        let outer = std::mem::take(&mut self.outer);
        SCOPE.with(|s| *s.borrow_mut() = outer);
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
pub(crate) const PASSWORD_ADMINISTRATOR: Uuid = uuid::uuid!("966707d0-3269-4727-9be2-8c3a10f19b9d");
pub(crate) const HELPDESK_ADMINISTRATOR: Uuid = uuid::uuid!("729827e3-9c14-49f7-bb1b-9608f156bbb8");
pub(crate) const AUTHENTICATION_ADMINISTRATOR: Uuid = uuid::uuid!("c4e39bd9-1100-46d3-8c65-fb160da0071f");
const GUEST_INVITER: Uuid = uuid::uuid!("95e79109-95c0-4d8e-aee3-d01accf2d47b");
const MESSAGE_CENTER_READER: Uuid = uuid::uuid!("790c1fb9-7f7d-4f88-86a1-ef1f95c05c1b");
const REPORTS_READER: Uuid = uuid::uuid!("4a5d8f65-41da-4de4-8968-e035b65339cf");
const USAGE_SUMMARY_REPORTS_READER: Uuid = uuid::uuid!("75934031-6c7e-415a-99d7-48dbd49e875e");
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

/// The properties a password reset may touch: the password, and the phones and
/// other e-mail addresses Graph's table says a reset includes.
const PASSWORD_RESET_PROPERTIES: &[&str] = &["passwordProfile", "businessPhones", "mobilePhone", "otherMails"];

/// What a (Privileged) Authentication Administrator may change on a user:
/// every sensitive property, as both tables give them a column. Their role
/// definitions name the password, enable/disable and the UPN; that
/// `onPremisesImmutableId` is among what they may write is inferred from the
/// tables. Their `users/basic/update` (the non-sensitive properties) is not
/// modelled: the mock keeps the roles to the tables' reach.
const AUTHENTICATION_ADMINISTRATOR_PROPERTIES: &[&str] = &[
    "passwordProfile",
    "businessPhones",
    "mobilePhone",
    "otherMails",
    "accountEnabled",
    "onPremisesImmutableId",
    "userPrincipalName",
];

/// A role that lets a signed-in user make one operation of a family whose
/// other writes [`WRITE_ROLES`] keeps from it: (role, operation, for a `PATCH`
/// the only properties it may touch — `None` for the whole operation). Which
/// *targets* each may touch is [`check_sensitive`]'s tables.
pub(crate) const LIMITED_WRITES: &[(Uuid, &str, Option<&[&str]>)] = &[
    // Their role definitions grant `users/password/update` and no other user write.
    (PASSWORD_ADMINISTRATOR, "users.update", Some(PASSWORD_RESET_PROPERTIES)),
    (HELPDESK_ADMINISTRATOR, "users.update", Some(PASSWORD_RESET_PROPERTIES)),
    (AUTHENTICATION_ADMINISTRATOR, "users.update", Some(AUTHENTICATION_ADMINISTRATOR_PROPERTIES)),
    // `users/delete`, `users/restore` and `deletedItems.users/restore`; not
    // the permanent delete.
    (AUTHENTICATION_ADMINISTRATOR, "users.delete", None),
    (AUTHENTICATION_ADMINISTRATOR, "deletedItems.restoreUser", None),
    // The same user permissions as an Authentication Administrator, on every
    // user: the tables decide which targets.
    (PRIVILEGED_AUTHENTICATION_ADMINISTRATOR, "users.update", Some(AUTHENTICATION_ADMINISTRATOR_PROPERTIES)),
    (PRIVILEGED_AUTHENTICATION_ADMINISTRATOR, "users.delete", None),
    (PRIVILEGED_AUTHENTICATION_ADMINISTRATOR, "deletedItems.restoreUser", None),
];

/// The property limits of the limited writes `wids` allow for `operation`.
fn limited_writes_of<'a>(
    wids: &'a [Uuid],
    operation: &'a str,
) -> impl Iterator<Item = Option<&'static [&'static str]>> + 'a {
    LIMITED_WRITES
        .iter()
        .filter(move |(role, op, _)| *op == operation && wids.contains(role))
        .map(|(_, _, props)| *props)
}

/// Whether a signed-in user who may start a `PATCH /users/{id}` only through
/// [`LIMITED_WRITES`] touches a property none of their roles may change (a
/// full user writer touches anything; several limited roles add up).
fn beyond_limited_update(wids: &[Uuid], touched: &[&str]) -> bool {
    if user_role_allows(wids, "users.update") {
        return false;
    }
    let mut may: Vec<&str> = Vec::new();
    let mut limited = false;
    for props in limited_writes_of(wids, "users.update") {
        limited = true;
        match props {
            None => return false,
            Some(props) => may.extend_from_slice(props),
        }
    }
    limited && !touched.iter().all(|p| may.contains(p))
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

/// Every caller role either table names, least privileged first: the order
/// [`roles_allowing`] answers in.
const LEAST_PRIVILEGED_FIRST: &[Uuid] = &[
    PASSWORD_ADMINISTRATOR,
    HELPDESK_ADMINISTRATOR,
    AUTHENTICATION_ADMINISTRATOR,
    USER_ADMINISTRATOR,
    PRIVILEGED_AUTHENTICATION_ADMINISTRATOR,
    GLOBAL_ADMINISTRATOR,
];
const PA_HA_AA_UA_PAA_GA: &[Uuid] = LEAST_PRIVILEGED_FIRST;
const HA_AA_UA_PAA_GA: &[Uuid] = &[
    HELPDESK_ADMINISTRATOR,
    AUTHENTICATION_ADMINISTRATOR,
    USER_ADMINISTRATOR,
    PRIVILEGED_AUTHENTICATION_ADMINISTRATOR,
    GLOBAL_ADMINISTRATOR,
];
const HA_UA_PAA_GA: &[Uuid] =
    &[HELPDESK_ADMINISTRATOR, USER_ADMINISTRATOR, PRIVILEGED_AUTHENTICATION_ADMINISTRATOR, GLOBAL_ADMINISTRATOR];
const AA_UA_PAA_GA: &[Uuid] =
    &[AUTHENTICATION_ADMINISTRATOR, USER_ADMINISTRATOR, PRIVILEGED_AUTHENTICATION_ADMINISTRATOR, GLOBAL_ADMINISTRATOR];
const AA_PAA_GA: &[Uuid] =
    &[AUTHENTICATION_ADMINISTRATOR, PRIVILEGED_AUTHENTICATION_ADMINISTRATOR, GLOBAL_ADMINISTRATOR];
const UA_PAA_GA: &[Uuid] = &[USER_ADMINISTRATOR, PRIVILEGED_AUTHENTICATION_ADMINISTRATOR, GLOBAL_ADMINISTRATOR];
const PAA_GA: &[Uuid] = &[PRIVILEGED_AUTHENTICATION_ADMINISTRATOR, GLOBAL_ADMINISTRATOR];
const TOP_ADMINS: &[Uuid] =
    &[PRIVILEGED_AUTHENTICATION_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR, GLOBAL_ADMINISTRATOR];

/// Who may reset a password (Graph's first table), row by row. Not modelled:
/// the row "no administrator role, but member or owner of a role-assignable
/// group" (groups are not role-assignable here).
pub(crate) const PASSWORD_TABLE: &[Row] = &[
    (&[], PA_HA_AA_UA_PAA_GA),
    (&[DIRECTORY_READERS, GUEST_INVITER, PASSWORD_ADMINISTRATOR], PA_HA_AA_UA_PAA_GA),
    (&[MESSAGE_CENTER_READER, REPORTS_READER, USAGE_SUMMARY_REPORTS_READER], HA_AA_UA_PAA_GA),
    (&[HELPDESK_ADMINISTRATOR], HA_UA_PAA_GA),
    (&[AUTHENTICATION_ADMINISTRATOR], AA_PAA_GA),
    (&[GROUPS_ADMINISTRATOR, USER_ADMINISTRATOR], UA_PAA_GA),
    (TOP_ADMINS, PAA_GA),
];

/// Who may change the other sensitive attributes, enable or disable, delete,
/// restore or permanently delete a user (Graph's second table), row by row;
/// the role-assignable-group row is left out as in [`PASSWORD_TABLE`].
pub(crate) const ATTRIBUTE_TABLE: &[Row] = &[
    (&[], AA_UA_PAA_GA),
    (
        &[
            DIRECTORY_READERS,
            GUEST_INVITER,
            MESSAGE_CENTER_READER,
            PASSWORD_ADMINISTRATOR,
            REPORTS_READER,
            USAGE_SUMMARY_REPORTS_READER,
        ],
        AA_UA_PAA_GA,
    ),
    (&[AUTHENTICATION_ADMINISTRATOR], AA_PAA_GA),
    (&[GROUPS_ADMINISTRATOR, HELPDESK_ADMINISTRATOR, USER_ADMINISTRATOR], UA_PAA_GA),
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
    callers.sort_by_key(|c| LEAST_PRIVILEGED_FIRST.iter().position(|r| r == c).unwrap_or(usize::MAX));
    Some(callers)
}

/// Whether `principal`, already allowed the operation, may perform the
/// sensitive `action` touching `touched` on a target holding `target_roles`;
/// `Err(403)` if not.
///
/// An app-only caller needs a role only where the target holds an
/// administrator role, or for a password reset on anyone; a delegated caller
/// acts with the signed-in user's roles, which must always be in the table.
/// A signed-in user whose only user-writing roles are [`LIMITED_WRITES`]
/// must also touch nothing but their properties.
pub(crate) fn check_sensitive(
    principal: &Principal,
    action: SensitiveAction,
    touched: &[&str],
    target_roles: &[Uuid],
) -> Result<(), ApiError> {
    if action == SensitiveAction::Update && !principal.app_only && beyond_limited_update(&principal.wids, touched) {
        return Err(ApiError::forbidden());
    }
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

    #[test]
    fn owned_by_limits_to_owned_objects_only_where_no_other_permission_allows_as_graph_documents() {
        let owned_by = app_with(&["Application.ReadWrite.OwnedBy"]);
        for op in ["applications.list", "applications.get", "applications.update", "servicePrincipals.delete"] {
            assert!(check(&owned_by, op).is_ok(), "{op}");
            assert!(only_as_owner(&owned_by, op), "{op}");
        }
        let and_read_all = app_with(&["Application.ReadWrite.OwnedBy", "Application.Read.All"]);
        assert!(!only_as_owner(&and_read_all, "applications.get"), "Read.All reads every application");
        assert!(only_as_owner(&and_read_all, "applications.update"), "but writes stay limited");
        let and_all = app_with(&["Application.ReadWrite.OwnedBy", "Application.ReadWrite.All"]);
        assert!(!only_as_owner(&and_all, "applications.update"));
        assert!(!only_as_owner(&app_with(&["Application.ReadWrite.All"]), "applications.update"));
    }

    #[test]
    fn owned_by_is_not_enough_to_add_an_owner_as_graphs_note_says() {
        let owned_by = app_with(&["Application.ReadWrite.OwnedBy", "Directory.Read.All"]);
        assert_eq!(check(&owned_by, "applications.owners.add").unwrap_err().status, 403);
        assert!(check(&owned_by, "applications.owners.remove").is_ok());
        let all = app_with(&["Application.ReadWrite.All", "Directory.Read.All"]);
        assert!(check(&all, "servicePrincipals.owners.add").is_ok());
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
    fn a_member_without_a_role_may_register_applications_and_write_only_those_they_own() {
        let member = user_with(&["Application.ReadWrite.All"], &[]);
        assert!(check_as(&member, "applications.create", true).is_ok());
        assert!(check_as(&member, "applications.update", true).is_ok(), "an owner");
        assert!(check_as(&member, "applications.update", false).is_err(), "not an owner");
        assert!(check_as(&member, "servicePrincipals.update", true).is_err(), "owners of applications only");
        let no_scope = user_with(&["User.Read"], &[]);
        assert!(check_as(&no_scope, "applications.update", true).is_err(), "ownership does not replace the scope");
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
        let reset = roles_allowing(Update, PASSWORD, NO_ROLE).expect("sensitive");
        assert_eq!(reset, LEAST_PRIVILEGED_FIRST);
        assert_eq!(reset.first(), Some(&PASSWORD_ADMINISTRATOR));
        let upn = roles_allowing(Update, &["userPrincipalName"], NO_ROLE).expect("sensitive");
        assert_eq!(upn.first(), Some(&AUTHENTICATION_ADMINISTRATOR));
        // Either table allows the phones: the union, least privileged first.
        let phone = roles_allowing(Update, &["mobilePhone"], &[REPORTS_READER]).expect("sensitive");
        assert_eq!(phone, HA_AA_UA_PAA_GA);
        let top = roles_allowing(Delete, &[], &[GLOBAL_ADMINISTRATOR]).expect("sensitive");
        assert_eq!(top, vec![PRIVILEGED_AUTHENTICATION_ADMINISTRATOR, GLOBAL_ADMINISTRATOR]);
        assert_eq!(roles_allowing(Update, &["displayName"], &[GLOBAL_ADMINISTRATOR]), None);
    }

    // ---- The tables as the reference draws them, cell by cell -------------------

    /// The caller columns of Graph's password table, in its order.
    const PASSWORD_COLUMNS: &[Uuid] = LEAST_PRIVILEGED_FIRST;
    /// The caller columns of Graph's attribute table, in its order.
    const ATTRIBUTE_COLUMNS: &[Uuid] = &[
        AUTHENTICATION_ADMINISTRATOR,
        USER_ADMINISTRATOR,
        PRIVILEGED_AUTHENTICATION_ADMINISTRATOR,
        GLOBAL_ADMINISTRATOR,
    ];

    /// Each target role alone, and its row of ✓ (`y`) and blanks (`.`) in the
    /// reference's password table (Password, Helpdesk, Authentication, User,
    /// Privileged Authentication, Global Administrator).
    const PASSWORD_GRID: &[(Uuid, &str)] = &[
        (DIRECTORY_READERS, "yyyyyy"),
        (GUEST_INVITER, "yyyyyy"),
        (PASSWORD_ADMINISTRATOR, "yyyyyy"),
        (MESSAGE_CENTER_READER, ".yyyyy"),
        (REPORTS_READER, ".yyyyy"),
        (USAGE_SUMMARY_REPORTS_READER, ".yyyyy"),
        (HELPDESK_ADMINISTRATOR, ".y.yyy"),
        (AUTHENTICATION_ADMINISTRATOR, "..y.yy"),
        (GROUPS_ADMINISTRATOR, "...yyy"),
        (USER_ADMINISTRATOR, "...yyy"),
        (PRIVILEGED_AUTHENTICATION_ADMINISTRATOR, "....yy"),
        (PRIVILEGED_ROLE_ADMINISTRATOR, "....yy"),
        (GLOBAL_ADMINISTRATOR, "....yy"),
    ];

    /// The same for the attribute table (Authentication, User, Privileged
    /// Authentication, Global Administrator).
    const ATTRIBUTE_GRID: &[(Uuid, &str)] = &[
        (DIRECTORY_READERS, "yyyy"),
        (GUEST_INVITER, "yyyy"),
        (MESSAGE_CENTER_READER, "yyyy"),
        (PASSWORD_ADMINISTRATOR, "yyyy"),
        (REPORTS_READER, "yyyy"),
        (USAGE_SUMMARY_REPORTS_READER, "yyyy"),
        (AUTHENTICATION_ADMINISTRATOR, "y.yy"),
        (GROUPS_ADMINISTRATOR, ".yyy"),
        (HELPDESK_ADMINISTRATOR, ".yyy"),
        (USER_ADMINISTRATOR, ".yyy"),
        (PRIVILEGED_AUTHENTICATION_ADMINISTRATOR, "..yy"),
        (PRIVILEGED_ROLE_ADMINISTRATOR, "..yy"),
        (GLOBAL_ADMINISTRATOR, "..yy"),
    ];

    /// The sensitive actions of the attribute table that the three limited
    /// roles' users may also reach through [`LIMITED_WRITES`]: checked
    /// app-only, where only the table decides.
    const ATTRIBUTE_ACTIONS: &[(SensitiveAction, &[&str])] = &[
        (Update, &["accountEnabled"]),
        (Update, &["onPremisesImmutableId"]),
        (Update, &["userPrincipalName"]),
        (Delete, &[]),
        (Restore, &[]),
        (PermanentDelete, &[]),
    ];

    #[test]
    fn the_password_table_is_graphs_cell_by_cell() {
        for (target, row) in PASSWORD_GRID {
            for (caller, cell) in PASSWORD_COLUMNS.iter().zip(row.chars()) {
                let app = app_holding(&[*caller]);
                assert_eq!(may(&app, Update, PASSWORD, &[*target]), cell == 'y', "{caller} resetting {target}");
            }
        }
        // Row "no admin role": every column.
        for caller in PASSWORD_COLUMNS {
            assert!(may(&app_holding(&[*caller]), Update, PASSWORD, MEMBER), "{caller}");
            assert!(may(&delegated_holding(&[*caller]), Update, PASSWORD, NO_ROLE), "{caller}");
        }
    }

    #[test]
    fn the_attribute_table_is_graphs_cell_by_cell() {
        for (target, row) in ATTRIBUTE_GRID {
            for (caller, cell) in ATTRIBUTE_COLUMNS.iter().zip(row.chars()) {
                let app = app_holding(&[*caller]);
                for (action, touched) in ATTRIBUTE_ACTIONS {
                    let allowed = may(&app, *action, touched, &[*target]);
                    assert_eq!(allowed, cell == 'y', "{caller}: {action:?} {touched:?} on {target}");
                }
            }
            // The password-only columns are in no row of this table.
            for caller in [PASSWORD_ADMINISTRATOR, HELPDESK_ADMINISTRATOR] {
                for (action, touched) in ATTRIBUTE_ACTIONS {
                    assert!(!may(&app_holding(&[caller]), *action, touched, &[*target]), "{caller} {action:?}");
                }
            }
        }
    }

    #[test]
    fn app_only_without_a_role_may_not_touch_the_new_reader_and_inviter_targets() {
        let p = app_holding(NO_ROLE);
        for target in [GUEST_INVITER, MESSAGE_CENTER_READER, REPORTS_READER, USAGE_SUMMARY_REPORTS_READER] {
            assert!(!may(&p, Update, PASSWORD, &[target]), "{target}");
            assert!(!may(&p, Update, &["accountEnabled"], &[target]), "{target}");
            assert!(!may(&p, Delete, &[], &[target]), "{target}");
        }
    }

    // ---- Helpdesk, Password and Authentication Administrators as callers -------

    #[test]
    fn helpdesk_administrator_may_reset_a_non_administrator_and_another_helpdesk_administrator() {
        for p in [app_holding(&[HELPDESK_ADMINISTRATOR]), delegated_holding(&[HELPDESK_ADMINISTRATOR])] {
            assert!(may(&p, Update, PASSWORD, NO_ROLE));
            assert!(may(&p, Update, PASSWORD, MEMBER));
            assert!(may(&p, Update, PASSWORD, &[HELPDESK_ADMINISTRATOR]));
            assert!(may(&p, Update, PASSWORD, &[REPORTS_READER]), "report readers are below a Helpdesk Administrator");
            assert!(may(&p, Update, &["passwordProfile", "mobilePhone", "otherMails"], &[HELPDESK_ADMINISTRATOR]));
        }
    }

    #[test]
    fn helpdesk_administrator_may_not_reset_a_user_administrator() {
        for p in [app_holding(&[HELPDESK_ADMINISTRATOR]), delegated_holding(&[HELPDESK_ADMINISTRATOR])] {
            assert!(!may(&p, Update, PASSWORD, &[USER_ADMINISTRATOR]));
            assert!(!may(&p, Update, PASSWORD, &[GROUPS_ADMINISTRATOR]));
            assert!(!may(&p, Update, PASSWORD, &[AUTHENTICATION_ADMINISTRATOR]));
            assert!(!may(&p, Update, PASSWORD, &[GLOBAL_ADMINISTRATOR]));
        }
    }

    #[test]
    fn password_administrator_may_reset_a_non_administrator_and_another_password_administrator() {
        for p in [app_holding(&[PASSWORD_ADMINISTRATOR]), delegated_holding(&[PASSWORD_ADMINISTRATOR])] {
            for target in [NO_ROLE, MEMBER, &[PASSWORD_ADMINISTRATOR], &[DIRECTORY_READERS], &[GUEST_INVITER]] {
                assert!(may(&p, Update, PASSWORD, target), "{target:?}");
            }
        }
    }

    #[test]
    fn password_administrator_may_not_reset_a_helpdesk_administrator() {
        for p in [app_holding(&[PASSWORD_ADMINISTRATOR]), delegated_holding(&[PASSWORD_ADMINISTRATOR])] {
            for target in [HELPDESK_ADMINISTRATOR, MESSAGE_CENTER_READER, REPORTS_READER, USAGE_SUMMARY_REPORTS_READER]
            {
                assert!(!may(&p, Update, PASSWORD, &[target]), "{target}");
            }
        }
    }

    #[test]
    fn authentication_administrator_may_reset_another_authentication_administrator_but_a_user_administrator_may_not() {
        for p in [app_holding(&[AUTHENTICATION_ADMINISTRATOR]), delegated_holding(&[AUTHENTICATION_ADMINISTRATOR])] {
            assert!(may(&p, Update, PASSWORD, &[AUTHENTICATION_ADMINISTRATOR]));
            assert!(!may(&p, Update, PASSWORD, &[HELPDESK_ADMINISTRATOR]));
        }
        let ua = app_holding(&[USER_ADMINISTRATOR]);
        assert!(!may(&ua, Update, PASSWORD, &[AUTHENTICATION_ADMINISTRATOR]));
        assert!(!may(&ua, Update, &["userPrincipalName"], &[AUTHENTICATION_ADMINISTRATOR]));
        assert!(may(&ua, Update, PASSWORD, &[HELPDESK_ADMINISTRATOR]));
    }

    #[test]
    fn authentication_administrator_may_change_a_reports_readers_sensitive_attributes() {
        for p in [app_holding(&[AUTHENTICATION_ADMINISTRATOR]), delegated_holding(&[AUTHENTICATION_ADMINISTRATOR])] {
            for touched in [&["accountEnabled"][..], &["userPrincipalName"], &["mobilePhone", "businessPhones"]] {
                assert!(may(&p, Update, touched, &[REPORTS_READER]), "{touched:?}");
            }
            assert!(may(&p, Delete, &[], &[REPORTS_READER]));
            assert!(may(&p, Restore, &[], &[REPORTS_READER]));
        }
    }

    #[test]
    fn authentication_administrator_may_not_change_a_helpdesk_administrators_sensitive_attributes() {
        let p = app_holding(&[AUTHENTICATION_ADMINISTRATOR]);
        assert!(!may(&p, Update, &["accountEnabled"], &[HELPDESK_ADMINISTRATOR]));
        assert!(!may(&p, Delete, &[], &[USER_ADMINISTRATOR]));
        // The phones go with a password reset, which the password table does not
        // give an Authentication Administrator over a Helpdesk Administrator either.
        assert!(!may(&p, Update, &["mobilePhone"], &[HELPDESK_ADMINISTRATOR]));
    }

    #[test]
    fn password_and_helpdesk_administrators_may_change_phones_only_where_they_may_reset() {
        let pa = app_holding(&[PASSWORD_ADMINISTRATOR]);
        assert!(may(&pa, Update, &["mobilePhone"], &[PASSWORD_ADMINISTRATOR]));
        assert!(!may(&pa, Update, &["mobilePhone"], &[HELPDESK_ADMINISTRATOR]));
        assert!(!may(&pa, Update, &["accountEnabled"], &[PASSWORD_ADMINISTRATOR]), "not in the attribute table");
        let ha = app_holding(&[HELPDESK_ADMINISTRATOR]);
        assert!(may(&ha, Update, &["otherMails"], &[HELPDESK_ADMINISTRATOR]));
        assert!(!may(&ha, Delete, &[], &[HELPDESK_ADMINISTRATOR]));
    }

    // ---- What a signed-in limited administrator may write at all ----------------

    #[test]
    fn delegated_password_and_helpdesk_administrators_may_patch_only_the_password_reset_properties() {
        for role in [PASSWORD_ADMINISTRATOR, HELPDESK_ADMINISTRATOR] {
            let p = delegated_holding(&[role]);
            assert!(check(&p, "users.update").is_ok(), "{role}: the PATCH may start");
            for op in ["users.create", "users.delete", "deletedItems.restoreUser", "deletedItems.deleteUser"] {
                assert!(check(&p, op).is_err(), "{role}: {op}");
            }
            assert!(may(&p, Update, &["passwordProfile", "businessPhones", "mobilePhone", "otherMails"], NO_ROLE));
            assert!(!may(&p, Update, &["passwordProfile", "displayName"], NO_ROLE), "{role}: displayName");
            assert!(!may(&p, Update, &["jobTitle"], NO_ROLE), "{role}: nothing sensitive, but not theirs");
            assert!(!may(&p, Update, &["accountEnabled"], NO_ROLE), "{role}: accountEnabled");
            assert!(!may(&p, Update, &["userPrincipalName"], NO_ROLE), "{role}: userPrincipalName");
        }
    }

    #[test]
    fn delegated_authentication_administrator_may_enable_rename_delete_and_restore_but_not_purge() {
        let p = delegated_holding(&[AUTHENTICATION_ADMINISTRATOR]);
        for op in ["users.update", "users.delete", "deletedItems.restoreUser"] {
            assert!(check(&p, op).is_ok(), "{op}");
        }
        for op in ["users.create", "deletedItems.deleteUser", "groups.create"] {
            assert!(check(&p, op).is_err(), "{op}");
        }
        for touched in EVERY_OTHER_SENSITIVE.iter().chain(&[PASSWORD]) {
            assert!(may(&p, Update, touched, NO_ROLE), "{touched:?}");
        }
        assert!(!may(&p, Update, &["displayName"], NO_ROLE), "its basic/update is not modelled");
        assert!(!may(&p, Update, &["accountEnabled", "jobTitle"], NO_ROLE));
    }

    #[test]
    fn a_user_or_global_administrator_is_not_limited_by_also_holding_a_limited_role() {
        let p = delegated_holding(&[HELPDESK_ADMINISTRATOR, USER_ADMINISTRATOR]);
        assert!(may(&p, Update, &["displayName", "onPremisesImmutableId"], NO_ROLE));
        assert!(check(&p, "users.create").is_ok());
        // Two limited roles add up.
        let both = delegated_holding(&[HELPDESK_ADMINISTRATOR, AUTHENTICATION_ADMINISTRATOR]);
        assert!(!may(&both, Update, &["accountEnabled", "passwordProfile"], &[HELPDESK_ADMINISTRATOR]));
        assert!(may(&both, Update, &["accountEnabled", "passwordProfile"], NO_ROLE));
    }

    #[test]
    fn app_only_limited_roles_are_limited_by_the_tables_not_by_their_role_definitions() {
        // An app's operations come from its application permissions; the role
        // decides only which targets a sensitive action may touch.
        let p = app_holding(&[HELPDESK_ADMINISTRATOR]);
        assert!(check(&p, "users.delete").is_ok());
        assert!(may(&p, Update, &["displayName", "accountEnabled"], NO_ROLE));
        assert!(!may(&p, Update, &["accountEnabled"], &[HELPDESK_ADMINISTRATOR]));
    }
}
