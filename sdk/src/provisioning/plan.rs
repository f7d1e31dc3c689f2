//! From source users and a snapshot of the tenant to a [`Plan`]: map (policy, then script),
//! match (immutable id, then UPN), diff (per attribute), or refuse with a reason.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use super::policy::{Attribute, OwnershipPolicy};
use super::source::{AttrValue, SourceUser};
use crate::ids::UserId;

/// DirSync as planning saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DirSyncStatus {
    /// Never synced, or switched off and finished: provisioning may write.
    Off,
    /// On: the sync client owns the users; provisioning is refused.
    On,
    /// Switched off but users are still synced (Graph's view of `PendingDisabled`): refused.
    PendingDisable,
}

impl fmt::Display for DirSyncStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DirSyncStatus::Off => "off",
            DirSyncStatus::On => "on",
            DirSyncStatus::PendingDisable => "pending disable",
        })
    }
}

/// One attribute change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The attribute.
    pub attribute: Attribute,
    /// The tenant's value now.
    pub from: Option<AttrValue>,
    /// The value to write (`None` clears it).
    pub to: Option<AttrValue>,
}

/// What to do with one source user.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Create the user (one `POST /users`) with these values.
    Create {
        /// Values written on create.
        values: BTreeMap<Attribute, AttrValue>,
    },
    /// Update the user (one `PATCH /users/{id}` with every change).
    Update {
        /// The tenant user.
        id: UserId,
        /// The changes.
        changes: Vec<Change>,
    },
    /// The tenant already matches.
    Unchanged {
        /// The tenant user.
        id: UserId,
    },
    /// Not provisioned.
    Refused {
        /// Why.
        reason: String,
    },
}

/// The plan for one source user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanEntry {
    /// The source record number.
    pub row: usize,
    /// The UPN it will have (after the script).
    pub user_principal_name: String,
    /// What to do.
    pub action: Action,
    /// Notes: script traces, values the policy ignored.
    pub notes: Vec<String>,
}

/// What provisioning would do: print it for a dry run, then apply it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// One entry per source user, in source order.
    pub entries: Vec<PlanEntry>,
    /// DirSync at planning time.
    pub dirsync: DirSyncStatus,
    /// How many times the mapping script ran.
    pub script_evaluations: u64,
}

/// Counts by action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlanCounts {
    /// Creates.
    pub create: usize,
    /// Updates.
    pub update: usize,
    /// Unchanged.
    pub unchanged: usize,
    /// Refused.
    pub refused: usize,
}

impl Plan {
    /// How many entries of each action.
    pub fn counts(&self) -> PlanCounts {
        let mut c = PlanCounts::default();
        for e in &self.entries {
            match e.action {
                Action::Create { .. } => c.create += 1,
                Action::Update { .. } => c.update += 1,
                Action::Unchanged { .. } => c.unchanged += 1,
                Action::Refused { .. } => c.refused += 1,
            }
        }
        c
    }
}

fn show(v: &Option<AttrValue>) -> String {
    v.as_ref().map_or_else(|| "(none)".to_owned(), ToString::to_string)
}

impl fmt::Display for Plan {
    /// The dry run: one line per user, then the counts.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.entries {
            match &e.action {
                Action::Create { values } => {
                    // The UPN already leads the line.
                    let v: Vec<String> = values
                        .iter()
                        .filter(|(a, _)| **a != Attribute::UserPrincipalName)
                        .map(|(a, v)| format!("{a}={v}"))
                        .collect();
                    writeln!(f, "+ create    {}: {}", e.user_principal_name, v.join(", "))?;
                }
                Action::Update { changes, .. } => {
                    let c: Vec<String> = changes
                        .iter()
                        .map(|c| format!("{} {} -> {}", c.attribute, show(&c.from), show(&c.to)))
                        .collect();
                    writeln!(f, "~ update    {}: {}", e.user_principal_name, c.join("; "))?;
                }
                Action::Unchanged { .. } => writeln!(f, "= unchanged {}", e.user_principal_name)?,
                Action::Refused { reason } => {
                    writeln!(f, "! refused   {} (row {}): {reason}", e.user_principal_name, e.row)?
                }
            }
            for note in &e.notes {
                writeln!(f, "      note: {note}")?;
            }
        }
        let c = self.counts();
        write!(
            f,
            "plan: {} to create, {} to update, {} unchanged, {} refused (DirSync {})",
            c.create, c.update, c.unchanged, c.refused, self.dirsync
        )
    }
}

/// A tenant user as planning needs it.
#[derive(Debug, Clone)]
pub(crate) struct TenantUser {
    pub(crate) id: UserId,
    pub(crate) values: BTreeMap<Attribute, AttrValue>,
    pub(crate) synced: bool,
}

/// The tenant's users, indexed for matching.
#[derive(Debug, Default)]
pub(crate) struct Tenant {
    pub(crate) users: Vec<TenantUser>,
    by_immutable_id: HashMap<String, usize>,
    by_upn: HashMap<String, usize>,
    /// Names (lower case) of the tenant's federated domains: their users need an immutable id.
    pub(crate) federated_domains: HashSet<String>,
}

impl Tenant {
    pub(crate) fn new(users: Vec<TenantUser>) -> Self {
        let mut t = Tenant { users, ..Default::default() };
        for (i, u) in t.users.iter().enumerate() {
            if let Some(AttrValue::Text(id)) = u.values.get(&Attribute::ImmutableId) {
                t.by_immutable_id.insert(id.clone(), i);
            }
            if let Some(AttrValue::Text(upn)) = u.values.get(&Attribute::UserPrincipalName) {
                t.by_upn.insert(upn.to_ascii_lowercase(), i);
            }
        }
        t
    }
}

/// A source user after the policy's default mapping and the script: `Some(None)` is an explicit
/// clear from the script.
#[derive(Debug, Clone)]
pub(crate) struct Mapped {
    pub(crate) row: usize,
    pub(crate) desired: BTreeMap<Attribute, Option<AttrValue>>,
    pub(crate) notes: Vec<String>,
    pub(crate) refusal: Option<String>,
}

impl Mapped {
    fn text(&self, a: Attribute) -> Option<&str> {
        match self.desired.get(&a) {
            Some(Some(AttrValue::Text(s))) => Some(s),
            _ => None,
        }
    }
}

/// The policy's default: every attribute the source has that the policy lets it write.
pub(crate) fn default_destination(source: &SourceUser, policy: &OwnershipPolicy) -> BTreeMap<Attribute, AttrValue> {
    policy.written_on_create().filter_map(|a| source.values.get(&a).map(|v| (a, v.clone()))).collect()
}

pub(crate) fn diff(
    mapped: Vec<Mapped>,
    tenant: &Tenant,
    policy: &OwnershipPolicy,
    dirsync: DirSyncStatus,
) -> Vec<PlanEntry> {
    let mut seen_upn: HashMap<String, usize> = HashMap::new();
    let mut seen_anchor: HashMap<String, usize> = HashMap::new();
    let on_create: Vec<Attribute> = policy.written_on_create().collect();
    let on_update: Vec<Attribute> = policy.written_on_update().collect();
    mapped
        .into_iter()
        .map(|m| {
            let upn = m.text(Attribute::UserPrincipalName).unwrap_or_default().to_owned();
            let refuse = |reason: String| Action::Refused { reason };
            let action = (|| {
                if let Some(reason) = &m.refusal {
                    return refuse(reason.clone());
                }
                if upn.is_empty() {
                    return refuse("no userPrincipalName".into());
                }
                if let Some(first) = seen_upn.insert(upn.to_ascii_lowercase(), m.row) {
                    return refuse(format!("duplicate UPN: row {first} has the same one"));
                }
                let anchor = m.text(Attribute::ImmutableId).map(str::to_owned);
                if let Some(a) = &anchor {
                    if let Some(first) = seen_anchor.insert(a.clone(), m.row) {
                        return refuse(format!("duplicate immutable id '{a}': row {first} has the same one"));
                    }
                }
                match dirsync {
                    DirSyncStatus::On => {
                        return refuse("DirSync is on: the sync client owns the users; switch it off first (onboarding)".into())
                    }
                    DirSyncStatus::PendingDisable => {
                        return refuse(
                            "DirSync is pending disable: users cannot be created or changed until it completes (up to 72 h)".into(),
                        )
                    }
                    DirSyncStatus::Off => {}
                }
                // Entra refuses a user of a federated domain without an immutable id: its IdP
                // signs users in by it. Refused here, with the reason, rather than at apply.
                let federated = upn
                    .rsplit_once('@')
                    .map(|(_, d)| d.to_ascii_lowercase())
                    .filter(|d| tenant.federated_domains.contains(d));
                let unanchored = |writes: &[Attribute]| anchor.is_none() || !writes.contains(&Attribute::ImmutableId);
                let federated_refusal = |d: &str| {
                    format!(
                        "{d} is a federated domain: Entra accepts its users only with an Immutable ID \
                         (onPremisesImmutableId), which this row does not provide; map one from the source"
                    )
                };
                let by_anchor = anchor.as_ref().and_then(|a| tenant.by_immutable_id.get(a)).copied();
                let by_upn = tenant.by_upn.get(&upn.to_ascii_lowercase()).copied();
                let index = match (by_anchor, by_upn) {
                    (Some(a), Some(u)) if a != u => {
                        return refuse(format!("UPN {upn} already belongs to another user (object {})", tenant.users[u].id))
                    }
                    (Some(a), _) => Some(a),
                    (None, Some(u)) => {
                        let theirs = tenant.users[u].values.get(&Attribute::ImmutableId);
                        if let (Some(AttrValue::Text(theirs)), Some(ours)) = (theirs, &anchor) {
                            return refuse(format!(
                                "UPN {upn} belongs to a user anchored to immutable id '{theirs}', not '{ours}'"
                            ));
                        }
                        Some(u)
                    }
                    (None, None) => None,
                };
                let Some(index) = index else {
                    if let Some(d) = federated.as_deref().filter(|_| unanchored(&on_create)) {
                        return refuse(federated_refusal(d));
                    }
                    let values = on_create
                        .iter()
                        .filter_map(|a| match m.desired.get(a) {
                            Some(Some(v)) => Some((*a, v.clone())),
                            _ => None,
                        })
                        .collect();
                    return Action::Create { values };
                };
                let current = &tenant.users[index];
                if current.synced {
                    return refuse("the user is synchronised from on-premises; Graph refuses changes to it".into());
                }
                let has_anchor = current.values.contains_key(&Attribute::ImmutableId);
                if let Some(d) = federated.as_deref().filter(|_| !has_anchor && unanchored(&on_update)) {
                    return refuse(federated_refusal(d));
                }
                let changes: Vec<Change> = on_update
                    .iter()
                    .filter_map(|a| {
                        let from = current.values.get(a);
                        match (m.desired.get(a), from) {
                            (Some(Some(to)), Some(from)) if to.same_as(from, *a) => None,
                            (Some(Some(to)), from) => Some(Change { attribute: *a, from: from.cloned(), to: Some(to.clone()) }),
                            (Some(None), Some(from)) => Some(Change { attribute: *a, from: Some(from.clone()), to: None }),
                            _ => None,
                        }
                    })
                    .collect();
                if changes.is_empty() {
                    Action::Unchanged { id: current.id.clone() }
                } else {
                    Action::Update { id: current.id.clone(), changes }
                }
            })();
            PlanEntry { row: m.row, user_principal_name: upn, action, notes: m.notes }
        })
        .collect()
}
