//! Applying a [`Plan`]: one `POST /users` per create and one `PATCH /users/{id}` per update
//! (so a user is changed entirely or not at all), with bounded concurrency, a progress bar on
//! a terminal, and a [`Report`]. A write Graph refuses for want of a directory role on the app
//! (a sensitive action on an administrator, any password reset) is reported with the role that
//! would have allowed it.

use std::fmt;
use std::io::{IsTerminal, Write};

use futures::stream::{self, StreamExt};

use super::plan::{Action, Plan, PlanEntry};
use super::policy::Attribute;
use super::source::AttrValue;
use crate::client::GraphClient;
use crate::error::Error;
use crate::ids::UserId;
use crate::models::User;
use crate::permissions::sensitive::{allows, RoleRefusal, SensitiveAction};
use crate::permissions::DirectoryRole;
use crate::runtime::RandomSource;

/// What happened to one source user.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Created.
    Created {
        /// The new user's id.
        id: UserId,
    },
    /// Updated.
    Updated {
        /// The user.
        id: UserId,
        /// The attributes written.
        attributes: Vec<Attribute>,
    },
    /// Nothing to do.
    Unchanged,
    /// Not provisioned: refused by the plan or by the tenant.
    Refused {
        /// Why (for the tenant: status, Graph code and message).
        reason: String,
    },
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportEntry {
    /// The source record number.
    pub row: usize,
    /// The UPN.
    pub user_principal_name: String,
    /// What happened.
    pub outcome: Outcome,
    /// For a refusal caused by a missing directory role on the app: the action and the roles
    /// that would have allowed it.
    pub missing_role: Option<RoleRefusal>,
}

/// What applying a plan did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Report {
    /// One entry per source user, in source order.
    pub entries: Vec<ReportEntry>,
    /// Users created.
    pub created: usize,
    /// Users updated.
    pub updated: usize,
    /// Users unchanged.
    pub unchanged: usize,
    /// Users refused (by the plan or the tenant).
    pub refused: usize,
}

impl Report {
    /// The refused entries.
    pub fn refusals(&self) -> impl Iterator<Item = &ReportEntry> {
        self.entries.iter().filter(|e| matches!(e.outcome, Outcome::Refused { .. }))
    }

    /// The refusals a directory role on the app would have prevented.
    pub fn missing_roles(&self) -> impl Iterator<Item = (&ReportEntry, &RoleRefusal)> {
        self.entries.iter().filter_map(|e| e.missing_role.as_ref().map(|m| (e, m)))
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in self.refusals() {
            if let Outcome::Refused { reason } = &e.outcome {
                writeln!(f, "! refused {} (row {}): {reason}", e.user_principal_name, e.row)?;
            }
        }
        write!(
            f,
            "report: {} created, {} updated, {} unchanged, {} refused",
            self.created, self.updated, self.unchanged, self.refused
        )
    }
}

/// Whether to draw a progress bar on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ProgressMode {
    /// When stderr is a terminal.
    #[default]
    Auto,
    /// Never.
    Never,
}

/// A one-line bar on stderr, redrawn in place at most 100 times.
struct ProgressBar {
    total: usize,
    done: usize,
    refused: usize,
    drawn: usize,
    enabled: bool,
}

impl ProgressBar {
    fn new(total: usize, mode: ProgressMode) -> Self {
        let enabled = mode == ProgressMode::Auto && total > 0 && std::io::stderr().is_terminal();
        Self { total, done: 0, refused: 0, drawn: usize::MAX, enabled }
    }

    fn tick(&mut self, refused: bool) {
        self.done += 1;
        self.refused += usize::from(refused);
        let percent = self.done * 100 / self.total.max(1);
        if !self.enabled || percent == self.drawn {
            return;
        }
        self.drawn = percent;
        let filled = percent * 30 / 100;
        let mut err = std::io::stderr().lock();
        // Progress is best effort: a closed stderr must not fail provisioning.
        let _ = write!(
            err,
            "\r[{}{}] {:>3}% {}/{} ({} refused)",
            "#".repeat(filled),
            "-".repeat(30 - filled),
            percent,
            self.done,
            self.total,
            self.refused
        );
        if self.done == self.total {
            let _ = writeln!(err);
        }
        let _ = err.flush();
    }
}

/// A random password that meets Entra's complexity rule (three of four character classes):
/// 20 characters with at least one of each class.
pub(crate) fn random_password(random: &dyn RandomSource) -> String {
    const CLASSES: [&[u8]; 4] =
        [b"ABCDEFGHJKLMNPQRSTUVWXYZ", b"abcdefghijkmnopqrstuvwxyz", b"23456789", b"!#%+-.:=?@^_~"];
    let mut bytes = [0u8; 20];
    random.fill(&mut bytes);
    bytes
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let class = CLASSES[if i < 4 { i } else { usize::from(*b) % 4 }];
            char::from(class[usize::from(*b) % class.len()])
        })
        .collect()
}

fn nickname(upn: &str) -> String {
    let local = upn.split('@').next().unwrap_or(upn);
    let cleaned: String =
        local.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')).take(64).collect();
    if cleaned.is_empty() {
        "user".into()
    } else {
        cleaned
    }
}

fn create_body(entry: &PlanEntry, values: &std::collections::BTreeMap<Attribute, AttrValue>, password: String) -> User {
    let mut user = User::default();
    for (a, v) in values {
        user.extra.insert(a.graph_name().to_owned(), v.to_json(*a));
    }
    user.extra.insert("accountEnabled".into(), true.into());
    user.extra.entry("mailNickname").or_insert_with(|| nickname(&entry.user_principal_name).into());
    user.extra.entry("displayName").or_insert_with(|| nickname(&entry.user_principal_name).into());
    user.extra.insert(
        "passwordProfile".into(),
        serde_json::json!({ "password": password, "forceChangePasswordNextSignIn": true }),
    );
    user
}

fn refusal(e: &Error) -> String {
    match e.as_graph_error() {
        Some(g) => format!("the tenant refused: {} {}: {}", g.status, g.code, g.message),
        None => format!("{e}: {}", std::error::Error::source(e).map(ToString::to_string).unwrap_or_default()),
    }
}

/// Whether Graph refused for want of privileges: the answer a missing directory role gets.
fn is_denied(e: &Error) -> bool {
    e.as_graph_error().is_some_and(|g| g.status == 403 && g.code == "Authorization_RequestDenied")
}

/// The target's directory roles, from `memberOf`; empty if they cannot be read.
async fn roles_of(graph: &GraphClient, id: &UserId) -> Vec<DirectoryRole> {
    let Ok(page) = graph.users().member_of(id.clone()).send().await else { return Vec::new() };
    page.value
        .iter()
        .filter(|o| o.odata_type.as_deref() == Some("#microsoft.graph.directoryRole"))
        .filter_map(|o| o.extra.get("roleTemplateId").and_then(|t| t.as_str()))
        .filter_map(DirectoryRole::from_template_id)
        .collect()
}

/// After a 403 on a write performing `actions` on `id`: the one a directory role on the app
/// would have allowed, with the roles that would, if any action needs a role at all.
async fn explain_denial(graph: &GraphClient, id: &UserId, actions: &[SensitiveAction]) -> Option<RoleRefusal> {
    if actions.is_empty() {
        return None;
    }
    let targets = roles_of(graph, id).await;
    // Prefer the action an app without a role may not perform; a delegated caller needs a
    // role for every one, so fall back to the first.
    let action = actions.iter().copied().find(|a| !allows(&[], *a, &targets, true)).unwrap_or(actions[0]);
    Some(RoleRefusal::new(action, &targets))
}

fn with_role(reason: String, missing: Option<&RoleRefusal>) -> String {
    match missing {
        Some(m) => format!("{reason}; {m}"),
        None => reason,
    }
}

async fn apply_one(graph: &GraphClient, entry: &PlanEntry, password: Option<String>) -> (Outcome, Option<RoleRefusal>) {
    let outcome = match &entry.action {
        Action::Refused { reason } => Outcome::Refused { reason: reason.clone() },
        Action::Unchanged { .. } => Outcome::Unchanged,
        Action::Create { values } => {
            let body = create_body(entry, values, password.unwrap_or_default());
            match graph.users().create(body).send().await {
                Ok(user) => Outcome::Created { id: user.id.unwrap_or_default() },
                Err(e) => Outcome::Refused { reason: refusal(&e) },
            }
        }
        Action::Update { id, changes } => {
            let mut patch = User::default();
            for c in changes {
                let value = c.to.as_ref().map_or(serde_json::Value::Null, |v| v.to_json(c.attribute));
                patch.extra.insert(c.attribute.graph_name().to_owned(), value);
            }
            match graph.users().update(id, patch).send().await {
                Ok(()) => {
                    Outcome::Updated { id: id.clone(), attributes: changes.iter().map(|c| c.attribute).collect() }
                }
                Err(e) if is_denied(&e) => {
                    let actions = SensitiveAction::of_update(changes.iter().map(|c| c.attribute.graph_name()));
                    let missing = explain_denial(graph, id, &actions).await;
                    let reason = with_role(refusal(&e), missing.as_ref());
                    return (Outcome::Refused { reason }, missing);
                }
                Err(e) => Outcome::Refused { reason: refusal(&e) },
            }
        }
    };
    (outcome, None)
}

/// A password reset the tenant refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct ResetRefused {
    /// Why (status, Graph code and message, and the missing role if that was the cause).
    pub reason: String,
    /// When a directory role on the app would have allowed it: which.
    pub missing_role: Option<RoleRefusal>,
}

pub(crate) async fn reset_password(
    graph: &GraphClient,
    id: &UserId,
    password: &str,
    force_change: bool,
) -> Result<(), ResetRefused> {
    let mut patch = User::default();
    patch.extra.insert(
        "passwordProfile".into(),
        serde_json::json!({ "password": password, "forceChangePasswordNextSignIn": force_change }),
    );
    match graph.users().update(id, patch).send().await {
        Ok(()) => Ok(()),
        Err(e) => {
            let missing =
                if is_denied(&e) { explain_denial(graph, id, &[SensitiveAction::ResetPassword]).await } else { None };
            Err(ResetRefused { reason: with_role(refusal(&e), missing.as_ref()), missing_role: missing })
        }
    }
}

pub(crate) async fn apply(graph: &GraphClient, plan: &Plan, concurrency: usize, mode: ProgressMode) -> Report {
    let random = graph.transport.random.clone();
    let mut bar = ProgressBar::new(plan.entries.len(), mode);
    let mut outcomes: Vec<Option<(Outcome, Option<RoleRefusal>)>> = vec![None; plan.entries.len()];
    let mut results = stream::iter(plan.entries.iter().enumerate())
        .map(|(i, entry)| {
            let password = matches!(entry.action, Action::Create { .. }).then(|| random_password(&*random));
            async move { (i, apply_one(graph, entry, password).await) }
        })
        .buffer_unordered(concurrency.max(1));
    while let Some((i, outcome)) = results.next().await {
        bar.tick(matches!(outcome.0, Outcome::Refused { .. }));
        outcomes[i] = Some(outcome);
    }
    let mut report = Report::default();
    for (entry, outcome) in plan.entries.iter().zip(outcomes) {
        let (outcome, missing_role) = outcome.unwrap_or((Outcome::Refused { reason: "not attempted".into() }, None));
        match outcome {
            Outcome::Created { .. } => report.created += 1,
            Outcome::Updated { .. } => report.updated += 1,
            Outcome::Unchanged => report.unchanged += 1,
            Outcome::Refused { .. } => report.refused += 1,
        }
        report.entries.push(ReportEntry {
            row: entry.row,
            user_principal_name: entry.user_principal_name.clone(),
            outcome,
            missing_role,
        });
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_passwords_have_every_character_class() {
        let p = random_password(&crate::runtime::SystemRandom::new());
        assert_eq!(p.len(), 20);
        assert!(p.chars().any(|c| c.is_ascii_uppercase()));
        assert!(p.chars().any(|c| c.is_ascii_lowercase()));
        assert!(p.chars().any(|c| c.is_ascii_digit()));
        assert!(p.chars().any(|c| !c.is_ascii_alphanumeric()));
    }

    #[test]
    fn nicknames_come_from_the_upn_local_part() {
        assert_eq!(nickname("mira.okafor+x@contoso.example"), "mira.okaforx");
        assert_eq!(nickname("@contoso.example"), "user");
    }
}
