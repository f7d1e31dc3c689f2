//! What an application permission alone cannot do: sensitive actions on users.
//!
//! `User.ReadWrite.All` lets an app call `PATCH` and `DELETE /users/{id}`; it does not let it
//! touch every user. A **sensitive action** — a password reset (`passwordProfile`), the
//! sensitive properties (`businessPhones`, `mobilePhone`, `otherMails`,
//! `onPremisesImmutableId`, `userPrincipalName`), enabling or disabling (`accountEnabled`),
//! delete, restore and permanent delete — also needs the caller to hold a directory role that
//! outranks the target's, per Graph's "who can perform sensitive actions" tables. Graph refuses
//! with `403 Authorization_RequestDenied` otherwise. An app-only caller's roles are its service
//! principal's, as the token's `wids` carried them when it was issued (so a role assigned later
//! takes effect with the next token); a delegated caller's are the signed-in user's.
//!
//! An app-only caller needs no role for a target without an administrator role, except to
//! reset a password. This is why the vendor's guide makes its provisioning app a Global
//! Administrator: without a role it cannot reset any password, nor change the UPN or Immutable
//! ID of an administrator.
//!
//! The tables below are Graph's, every row and column, except the row for a user who holds no
//! administrator role but is a member or owner of a role-assignable group (only Privileged
//! Authentication and Global Administrators may act on such a user): group membership is not
//! part of what these functions are given.
//!
//! ```
//! use graphbox_sdk::permissions::sensitive::{roles_allowing, SensitiveAction};
//! use graphbox_sdk::permissions::DirectoryRole;
//! let plain = roles_allowing(SensitiveAction::ResetPassword, &[]);
//! assert_eq!(plain.first(), Some(&DirectoryRole::PasswordAdministrator));
//! let admin = roles_allowing(SensitiveAction::Delete, &[DirectoryRole::GlobalAdministrator]);
//! assert_eq!(admin, [DirectoryRole::PrivilegedAuthenticationAdministrator, DirectoryRole::GlobalAdministrator]);
//! ```

use std::collections::BTreeMap;
use std::fmt;

use super::DirectoryRole;

/// A sensitive action on a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum SensitiveAction {
    /// `passwordProfile`: a password reset.
    ResetPassword,
    /// `businessPhones`, `mobilePhone`, `otherMails`: part of a password reset's reach.
    UpdateContactDetails,
    /// `userPrincipalName`, `onPremisesImmutableId`: the anchor and sign-in name.
    UpdateIdentifiers,
    /// `accountEnabled`.
    EnableOrDisable,
    /// `DELETE /users/{id}`.
    Delete,
    /// `POST /directory/deletedItems/{id}/restore`.
    Restore,
    /// `DELETE /directory/deletedItems/{id}`.
    PermanentDelete,
}

/// The sensitive user properties and the action each is part of.
pub const SENSITIVE_PROPERTIES: &[(&str, SensitiveAction)] = &[
    ("passwordProfile", SensitiveAction::ResetPassword),
    ("businessPhones", SensitiveAction::UpdateContactDetails),
    ("mobilePhone", SensitiveAction::UpdateContactDetails),
    ("otherMails", SensitiveAction::UpdateContactDetails),
    ("userPrincipalName", SensitiveAction::UpdateIdentifiers),
    ("onPremisesImmutableId", SensitiveAction::UpdateIdentifiers),
    ("accountEnabled", SensitiveAction::EnableOrDisable),
];

impl SensitiveAction {
    /// Every action.
    pub const ALL: &'static [SensitiveAction] = &[
        SensitiveAction::ResetPassword,
        SensitiveAction::UpdateContactDetails,
        SensitiveAction::UpdateIdentifiers,
        SensitiveAction::EnableOrDisable,
        SensitiveAction::Delete,
        SensitiveAction::Restore,
        SensitiveAction::PermanentDelete,
    ];

    /// The sensitive actions a `PATCH /users/{id}` body with these property names performs,
    /// each once, in [`SensitiveAction::ALL`] order.
    ///
    /// ```
    /// use graphbox_sdk::permissions::sensitive::SensitiveAction;
    /// let acts = SensitiveAction::of_update(["displayName", "userPrincipalName", "passwordProfile"]);
    /// assert_eq!(acts, [SensitiveAction::ResetPassword, SensitiveAction::UpdateIdentifiers]);
    /// ```
    pub fn of_update<'a>(properties: impl IntoIterator<Item = &'a str>) -> Vec<SensitiveAction> {
        let mut acts: Vec<SensitiveAction> = properties
            .into_iter()
            .filter_map(|p| SENSITIVE_PROPERTIES.iter().find(|(name, _)| *name == p).map(|(_, a)| *a))
            .collect();
        acts.sort();
        acts.dedup();
        acts
    }

    /// Whether an app-only caller needs a role even for a target holding no administrator role.
    pub fn always_needs_a_role(self) -> bool {
        self == SensitiveAction::ResetPassword
    }

    /// A plural noun phrase for reports: "password resets", "deletions".
    pub fn plural(self) -> &'static str {
        match self {
            SensitiveAction::ResetPassword => "password resets",
            SensitiveAction::UpdateContactDetails => "phone or other e-mail changes",
            SensitiveAction::UpdateIdentifiers => "UPN or Immutable ID changes",
            SensitiveAction::EnableOrDisable => "enables or disables",
            SensitiveAction::Delete => "deletions",
            SensitiveAction::Restore => "restores",
            SensitiveAction::PermanentDelete => "permanent deletions",
        }
    }

    fn verb(self) -> &'static str {
        match self {
            SensitiveAction::ResetPassword => "resetting the password of",
            SensitiveAction::UpdateContactDetails => "changing the phone numbers or other e-mails of",
            SensitiveAction::UpdateIdentifiers => "changing the UPN or Immutable ID of",
            SensitiveAction::EnableOrDisable => "enabling or disabling",
            SensitiveAction::Delete => "deleting",
            SensitiveAction::Restore => "restoring",
            SensitiveAction::PermanentDelete => "permanently deleting",
        }
    }
}

impl fmt::Display for SensitiveAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.plural())
    }
}

use DirectoryRole as R;

/// One row: the target roles it covers (empty: no administrator role) and the caller roles
/// that may act on such a target, least privileged first.
type Row = (&'static [DirectoryRole], &'static [DirectoryRole]);

/// Every caller role either table names, least privileged first: the order of
/// [`roles_allowing`]'s answer.
const LEAST_PRIVILEGED_FIRST: &[DirectoryRole] = &[
    R::PasswordAdministrator,
    R::HelpdeskAdministrator,
    R::AuthenticationAdministrator,
    R::UserAdministrator,
    R::PrivilegedAuthenticationAdministrator,
    R::GlobalAdministrator,
];
const HA_AA_UA_PAA_GA: &[DirectoryRole] = &[
    R::HelpdeskAdministrator,
    R::AuthenticationAdministrator,
    R::UserAdministrator,
    R::PrivilegedAuthenticationAdministrator,
    R::GlobalAdministrator,
];
const HA_UA_PAA_GA: &[DirectoryRole] =
    &[R::HelpdeskAdministrator, R::UserAdministrator, R::PrivilegedAuthenticationAdministrator, R::GlobalAdministrator];
const AA_UA_PAA_GA: &[DirectoryRole] = &[
    R::AuthenticationAdministrator,
    R::UserAdministrator,
    R::PrivilegedAuthenticationAdministrator,
    R::GlobalAdministrator,
];
const AA_PAA_GA: &[DirectoryRole] =
    &[R::AuthenticationAdministrator, R::PrivilegedAuthenticationAdministrator, R::GlobalAdministrator];
const UA_PAA_GA: &[DirectoryRole] =
    &[R::UserAdministrator, R::PrivilegedAuthenticationAdministrator, R::GlobalAdministrator];
const PAA_GA: &[DirectoryRole] = &[R::PrivilegedAuthenticationAdministrator, R::GlobalAdministrator];
const TOP: &[DirectoryRole] =
    &[R::PrivilegedAuthenticationAdministrator, R::PrivilegedRoleAdministrator, R::GlobalAdministrator];

/// Who may reset a password.
const PASSWORD_TABLE: &[Row] = &[
    (&[], LEAST_PRIVILEGED_FIRST),
    (&[R::DirectoryReaders, R::GuestInviter, R::PasswordAdministrator], LEAST_PRIVILEGED_FIRST),
    (&[R::MessageCenterReader, R::ReportsReader, R::UsageSummaryReportsReader], HA_AA_UA_PAA_GA),
    (&[R::HelpdeskAdministrator], HA_UA_PAA_GA),
    (&[R::AuthenticationAdministrator], AA_PAA_GA),
    (&[R::GroupsAdministrator, R::UserAdministrator], UA_PAA_GA),
    (TOP, PAA_GA),
];

/// Who may change the other sensitive attributes, delete, restore or permanently delete.
const ATTRIBUTE_TABLE: &[Row] = &[
    (&[], AA_UA_PAA_GA),
    (
        &[
            R::DirectoryReaders,
            R::GuestInviter,
            R::MessageCenterReader,
            R::PasswordAdministrator,
            R::ReportsReader,
            R::UsageSummaryReportsReader,
        ],
        AA_UA_PAA_GA,
    ),
    (&[R::AuthenticationAdministrator], AA_PAA_GA),
    (&[R::GroupsAdministrator, R::HelpdeskAdministrator, R::UserAdministrator], UA_PAA_GA),
    (TOP, PAA_GA),
];

/// For a target holding an administrator role neither table names: Graph does not say; the
/// two roles that may act on every administrator (the mock makes the same guess).
const UNLISTED_ADMIN_CALLERS: &[DirectoryRole] = PAA_GA;

/// Whether a role is an administrator role (not one of the implicit member or guest roles).
pub fn is_administrator(role: DirectoryRole) -> bool {
    !matches!(role, R::User | R::GuestUser | R::RestrictedGuestUser)
}

fn tables(action: SensitiveAction) -> &'static [&'static [Row]] {
    match action {
        SensitiveAction::ResetPassword => &[PASSWORD_TABLE],
        // A password reset includes the phones and other e-mails: either table allows them.
        SensitiveAction::UpdateContactDetails => &[PASSWORD_TABLE, ATTRIBUTE_TABLE],
        _ => &[ATTRIBUTE_TABLE],
    }
}

fn callers_in(table: &[Row], target_roles: &[DirectoryRole]) -> Vec<DirectoryRole> {
    let allowed_for = |role: Option<DirectoryRole>| -> &'static [DirectoryRole] {
        table
            .iter()
            .find(|(targets, _)| match role {
                None => targets.is_empty(),
                Some(r) => targets.contains(&r),
            })
            .map_or(UNLISTED_ADMIN_CALLERS, |(_, callers)| callers)
    };
    let mut callers = allowed_for(None).to_vec();
    for role in target_roles.iter().copied().filter(|r| is_administrator(*r)) {
        let allowed = allowed_for(Some(role));
        callers.retain(|c| allowed.contains(c));
    }
    callers
}

/// The directory roles that each alone allow `action` on a target holding `target_roles`,
/// least privileged first.
pub fn roles_allowing(action: SensitiveAction, target_roles: &[DirectoryRole]) -> Vec<DirectoryRole> {
    let mut out: Vec<DirectoryRole> = Vec::new();
    for table in tables(action) {
        for c in callers_in(table, target_roles) {
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    out.sort_by_key(|c| rank(*c));
    out
}

/// Where a role stands among the tables' callers, least privileged first (others after).
fn rank(role: DirectoryRole) -> usize {
    LEAST_PRIVILEGED_FIRST.iter().position(|r| *r == role).unwrap_or(usize::MAX)
}

/// Whether a caller holding `held` may perform `action` on a target holding `target_roles`
/// (`app_only`: the caller is an application acting as itself).
///
/// ```
/// use graphbox_sdk::permissions::sensitive::{allows, SensitiveAction};
/// use graphbox_sdk::permissions::DirectoryRole;
/// assert!(allows(&[], SensitiveAction::Delete, &[], true), "no role needed for a non-administrator");
/// assert!(!allows(&[], SensitiveAction::ResetPassword, &[], true), "but always for a password reset");
/// ```
pub fn allows(held: &[DirectoryRole], action: SensitiveAction, target_roles: &[DirectoryRole], app_only: bool) -> bool {
    let target_is_admin = target_roles.iter().any(|r| is_administrator(*r));
    if app_only && !target_is_admin && !action.always_needs_a_role() {
        return true;
    }
    let allowed = roles_allowing(action, target_roles);
    held.iter().any(|h| allowed.contains(h))
}

/// Why Graph refused a sensitive action for want of a role, and which roles would have allowed
/// it: what provisioning reports and onboarding explains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRefusal {
    /// The refused action.
    pub action: SensitiveAction,
    /// The target's administrator roles (empty: none).
    pub target_roles: Vec<DirectoryRole>,
    /// Roles that would each have allowed it, least privileged first.
    pub allowed_by: Vec<DirectoryRole>,
}

impl RoleRefusal {
    /// The refusal of `action` on a target holding `target_roles`.
    pub fn new(action: SensitiveAction, target_roles: &[DirectoryRole]) -> Self {
        let target_roles: Vec<DirectoryRole> = target_roles.iter().copied().filter(|r| is_administrator(*r)).collect();
        Self { action, allowed_by: roles_allowing(action, &target_roles), target_roles }
    }

    /// The least privileged role that would have allowed it.
    pub fn least_role(&self) -> Option<DirectoryRole> {
        self.allowed_by.first().copied()
    }
}

fn names(roles: &[DirectoryRole], join: &str) -> String {
    let names: Vec<&str> = roles.iter().map(|r| r.display_name()).collect();
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} {join} {last}", rest.join(", ")),
    }
}

impl fmt::Display for RoleRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let target = if self.target_roles.is_empty() {
            "a user without an administrator role".to_owned()
        } else {
            format!("a {}", names(&self.target_roles, "and"))
        };
        write!(
            f,
            "{} {target} needs a directory role on the caller: {} (least privileged first)",
            self.action.verb(),
            names(&self.allowed_by, "or")
        )
    }
}

/// A tally of the sensitive actions an app performed, for a least-privilege report: which role
/// each needed, and how that compares with the roles the app holds.
///
/// ```
/// use graphbox_sdk::permissions::sensitive::{RoleUsage, SensitiveAction};
/// use graphbox_sdk::permissions::DirectoryRole;
/// let mut usage = RoleUsage::default();
/// for _ in 0..3 {
///     usage.record(SensitiveAction::ResetPassword, &[]);
/// }
/// usage.record(SensitiveAction::UpdateIdentifiers, &[DirectoryRole::UserAdministrator]);
/// usage.record(SensitiveAction::UpdateIdentifiers, &[]); // needs no role for an app
/// assert_eq!(usage.least_role(), Some(DirectoryRole::UserAdministrator));
/// assert_eq!(
///     usage.summary(&[DirectoryRole::GlobalAdministrator]),
///     "this app needed Password Administrator for 3 password resets; User Administrator for 1 UPN or \
///      Immutable ID changes, and holds Global Administrator"
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleUsage {
    /// Per action and target roles (sorted by template id), how many times.
    counts: Vec<(SensitiveAction, Vec<DirectoryRole>, usize)>,
}

impl RoleUsage {
    /// Count one `action` on a target holding `target_roles`. Actions an app-only caller needs
    /// no role for (a non-administrator's phone, say) are counted but need no role.
    pub fn record(&mut self, action: SensitiveAction, target_roles: &[DirectoryRole]) {
        let mut key: Vec<DirectoryRole> = target_roles.iter().copied().filter(|r| is_administrator(*r)).collect();
        key.sort_by_key(|r| r.template_id());
        key.dedup();
        match self.counts.iter_mut().find(|(a, t, _)| *a == action && *t == key) {
            Some((_, _, n)) => *n += 1,
            None => self.counts.push((action, key, 1)),
        }
    }

    /// The recorded actions that needed a role, with the least privileged role for each and
    /// how many times.
    pub fn needs(&self) -> Vec<(DirectoryRole, SensitiveAction, usize)> {
        let mut out: BTreeMap<(usize, SensitiveAction), (DirectoryRole, usize)> = BTreeMap::new();
        for (action, targets, n) in &self.counts {
            if targets.is_empty() && !action.always_needs_a_role() {
                continue;
            }
            let Some(role) = roles_allowing(*action, targets).first().copied() else { continue };
            out.entry((rank(role), *action)).or_insert((role, 0)).1 += n;
        }
        out.into_iter().map(|((_, action), (role, n))| (role, action, n)).collect()
    }

    /// The least privileged single role that allows every recorded action, if any is needed.
    pub fn least_role(&self) -> Option<DirectoryRole> {
        let mut candidates: Option<Vec<DirectoryRole>> = None;
        for (action, targets, _) in &self.counts {
            if targets.is_empty() && !action.always_needs_a_role() {
                continue;
            }
            let allowed = roles_allowing(*action, targets);
            candidates = Some(match candidates {
                None => allowed,
                Some(mut c) => {
                    c.retain(|r| allowed.contains(r));
                    c
                }
            });
        }
        candidates.and_then(|c| c.first().copied())
    }

    /// One sentence: what the app needed, and what it holds.
    pub fn summary(&self, held: &[DirectoryRole]) -> String {
        let holds = if held.is_empty() { "no directory role".to_owned() } else { names(held, "and") };
        let needs = self.needs();
        if needs.is_empty() {
            return format!("this app needed no directory role, and holds {holds}");
        }
        let mut by_role: Vec<(DirectoryRole, Vec<String>)> = Vec::new();
        for (role, action, n) in needs {
            let phrase = format!("{n} {}", action.plural());
            match by_role.iter_mut().find(|(r, _)| *r == role) {
                Some((_, phrases)) => phrases.push(phrase),
                None => by_role.push((role, vec![phrase])),
            }
        }
        let parts: Vec<String> = by_role
            .into_iter()
            .map(|(role, phrases)| {
                let (last, rest) = phrases.split_last().expect("at least one phrase per role");
                let what = if rest.is_empty() { last.clone() } else { format!("{} and {last}", rest.join(", ")) };
                format!("{} for {what}", role.display_name())
            })
            .collect();
        format!("this app needed {}, and holds {holds}", parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sdk_table_matches_the_rows_graph_documents() {
        use SensitiveAction::*;
        // Row "no admin role": every column of each table.
        assert_eq!(roles_allowing(ResetPassword, &[]), LEAST_PRIVILEGED_FIRST);
        assert_eq!(roles_allowing(UpdateIdentifiers, &[]), AA_UA_PAA_GA);
        // Row "Groups Admin, User Admin".
        assert_eq!(roles_allowing(Delete, &[R::UserAdministrator]), UA_PAA_GA);
        // Row "Privileged Auth Admin, Privileged Role Admin, Global Admin".
        for top in TOP {
            assert_eq!(roles_allowing(ResetPassword, &[*top]), PAA_GA);
            assert_eq!(roles_allowing(UpdateIdentifiers, &[*top]), PAA_GA);
        }
        // A role neither table names: the strictest.
        assert_eq!(roles_allowing(Restore, &[R::ApplicationAdministrator]), PAA_GA);
    }

    #[test]
    fn app_only_callers_need_a_role_for_administrators_and_every_password_reset() {
        use SensitiveAction::*;
        assert!(!allows(&[], ResetPassword, &[], true));
        assert!(allows(&[], UpdateIdentifiers, &[], true));
        assert!(!allows(&[], UpdateIdentifiers, &[R::UserAdministrator], true));
        assert!(allows(&[R::UserAdministrator], ResetPassword, &[R::UserAdministrator], true));
        assert!(!allows(&[R::UserAdministrator], ResetPassword, &[R::GlobalAdministrator], true));
        assert!(allows(&[R::GlobalAdministrator], PermanentDelete, &[R::GlobalAdministrator], true));
        assert!(!allows(&[], Delete, &[], false), "a delegated caller always needs a role");
    }

    #[test]
    fn a_refusal_names_the_roles_that_would_have_allowed_it() {
        let r = RoleRefusal::new(SensitiveAction::ResetPassword, &[R::GlobalAdministrator, R::User]);
        assert_eq!(r.least_role(), Some(R::PrivilegedAuthenticationAdministrator));
        assert_eq!(
            r.to_string(),
            "resetting the password of a Global Administrator needs a directory role on the caller: \
             Privileged Authentication Administrator or Global Administrator (least privileged first)"
        );
    }

    #[test]
    fn usage_names_the_least_role_covering_everything() {
        let mut usage = RoleUsage::default();
        usage.record(SensitiveAction::ResetPassword, &[]);
        usage.record(SensitiveAction::Delete, &[R::GlobalAdministrator]);
        usage.record(SensitiveAction::UpdateContactDetails, &[]);
        assert_eq!(usage.least_role(), Some(R::PrivilegedAuthenticationAdministrator));
        assert_eq!(
            usage.summary(&[]),
            "this app needed Password Administrator for 1 password resets; \
             Privileged Authentication Administrator for 1 deletions, and holds no directory role"
        );
        assert_eq!(RoleUsage::default().least_role(), None);
    }

    /// Each target role alone and its row in Graph's password table: ✓ (`y`) or blank (`.`)
    /// for Password, Helpdesk, Authentication, User, Privileged Authentication and Global
    /// Administrator.
    const PASSWORD_GRID: &[(DirectoryRole, &str)] = &[
        (R::DirectoryReaders, "yyyyyy"),
        (R::GuestInviter, "yyyyyy"),
        (R::PasswordAdministrator, "yyyyyy"),
        (R::MessageCenterReader, ".yyyyy"),
        (R::ReportsReader, ".yyyyy"),
        (R::UsageSummaryReportsReader, ".yyyyy"),
        (R::HelpdeskAdministrator, ".y.yyy"),
        (R::AuthenticationAdministrator, "..y.yy"),
        (R::GroupsAdministrator, "...yyy"),
        (R::UserAdministrator, "...yyy"),
        (R::PrivilegedAuthenticationAdministrator, "....yy"),
        (R::PrivilegedRoleAdministrator, "....yy"),
        (R::GlobalAdministrator, "....yy"),
    ];

    /// The same for the attribute table, in the same six columns (Password and Helpdesk
    /// Administrator have none there).
    const ATTRIBUTE_GRID: &[(DirectoryRole, &str)] = &[
        (R::DirectoryReaders, "..yyyy"),
        (R::GuestInviter, "..yyyy"),
        (R::MessageCenterReader, "..yyyy"),
        (R::PasswordAdministrator, "..yyyy"),
        (R::ReportsReader, "..yyyy"),
        (R::UsageSummaryReportsReader, "..yyyy"),
        (R::AuthenticationAdministrator, "..y.yy"),
        (R::GroupsAdministrator, "...yyy"),
        (R::HelpdeskAdministrator, "...yyy"),
        (R::UserAdministrator, "...yyy"),
        (R::PrivilegedAuthenticationAdministrator, "....yy"),
        (R::PrivilegedRoleAdministrator, "....yy"),
        (R::GlobalAdministrator, "....yy"),
    ];

    const COLUMNS: [DirectoryRole; 6] = [
        R::PasswordAdministrator,
        R::HelpdeskAdministrator,
        R::AuthenticationAdministrator,
        R::UserAdministrator,
        R::PrivilegedAuthenticationAdministrator,
        R::GlobalAdministrator,
    ];

    #[test]
    fn both_tables_match_graphs_cell_by_cell() {
        use SensitiveAction::*;
        for (target, row) in PASSWORD_GRID {
            for (caller, cell) in COLUMNS.iter().zip(row.chars()) {
                assert_eq!(
                    allows(&[*caller], ResetPassword, &[*target], true),
                    cell == 'y',
                    "{caller:?} on {target:?}"
                );
            }
        }
        for (target, row) in ATTRIBUTE_GRID {
            for (caller, cell) in COLUMNS.iter().zip(row.chars()) {
                for action in [UpdateIdentifiers, EnableOrDisable, Delete, Restore, PermanentDelete] {
                    let allowed = allows(&[*caller], action, &[*target], false);
                    assert_eq!(allowed, cell == 'y', "{caller:?}: {action:?} on {target:?}");
                }
            }
        }
    }

    #[test]
    fn helpdesk_administrator_may_reset_a_non_administrator_and_another_helpdesk_administrator() {
        use SensitiveAction::*;
        let held = [R::HelpdeskAdministrator];
        assert!(allows(&held, ResetPassword, &[], false));
        assert!(allows(&held, ResetPassword, &[R::HelpdeskAdministrator], true));
        assert!(allows(&held, UpdateContactDetails, &[R::ReportsReader], true), "part of a reset");
        assert!(!allows(&held, ResetPassword, &[R::UserAdministrator], true));
        assert!(!allows(&held, Delete, &[R::HelpdeskAdministrator], true));
    }

    #[test]
    fn password_administrator_may_not_reset_a_helpdesk_administrator() {
        use SensitiveAction::*;
        let held = [R::PasswordAdministrator];
        assert!(allows(&held, ResetPassword, &[R::PasswordAdministrator], false));
        assert!(!allows(&held, ResetPassword, &[R::HelpdeskAdministrator], false));
        assert!(!allows(&held, ResetPassword, &[R::MessageCenterReader], true));
    }

    #[test]
    fn authentication_administrator_may_change_a_reports_readers_sensitive_attributes() {
        use SensitiveAction::*;
        let held = [R::AuthenticationAdministrator];
        for action in [UpdateIdentifiers, EnableOrDisable, UpdateContactDetails, Delete, Restore] {
            assert!(allows(&held, action, &[R::ReportsReader], true), "{action:?}");
        }
        assert!(!allows(&held, UpdateIdentifiers, &[R::HelpdeskAdministrator], true));
        assert!(!allows(&[R::UserAdministrator], ResetPassword, &[R::AuthenticationAdministrator], true));
    }
}
