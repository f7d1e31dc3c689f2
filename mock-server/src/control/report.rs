//! The least-privilege report (`GET /_graphbox/tenants/{tid}/permissions-report`):
//! per caller, what its tokens carried, what it did, and the smallest set of
//! permissions from the catalogue (`authz::options`) that allows all of it.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use crate::directory::Directory;
use crate::request_log::{Caller, CallerUsage};

/// The least-privileged set of permissions that satisfies one entry of every
/// requirement. A requirement is the list of entries that allow one operation
/// (`(entry, least_privileged)`; `A + B` needs both). Least privilege comes
/// first: the fewest operations allowed only through a higher-privileged entry
/// (`Directory.ReadWrite.All` for a user create is one), then the fewest
/// permissions, then the alphabetically first set, so the answer is
/// deterministic; no permission in the answer is redundant. Exact (branch and
/// bound): a report covers tens of operations with a handful of entries each.
pub(crate) fn minimal_set<'a>(requirements: &[Vec<(&'a str, bool)>]) -> BTreeSet<&'a str> {
    let mut reqs: Vec<Requirement<'a>> = requirements
        .iter()
        .filter(|r| !r.is_empty())
        .map(|r| r.iter().map(|(entry, least)| (entry.split('+').map(str::trim).collect(), *least)).collect())
        .collect();
    // Fewest choices first: forced picks prune the rest early.
    reqs.sort_by_key(Vec::len);
    let mut best: Best<'a> = None;
    let mut chosen = BTreeSet::new();
    search(&reqs, 0, &mut chosen, 0, &mut best);
    best.map(|(_, _, set)| set.into_iter().collect()).unwrap_or_default()
}

type Requirement<'a> = Vec<(BTreeSet<&'a str>, bool)>;
/// (operations needing a higher-privileged entry, size, the set).
type Best<'a> = Option<(usize, usize, Vec<&'a str>)>;

fn search<'a>(reqs: &[Requirement<'a>], at: usize, chosen: &mut BTreeSet<&'a str>, higher: usize, best: &mut Best<'a>) {
    // A pick made through a higher-privileged entry stays one unless a later
    // pick covers that operation with a least-privileged entry, and the branch
    // that picked that entry directly reaches the same set: the bound holds.
    if let Some((h, size, _)) = best {
        if (higher, chosen.len()) > (*h, *size) {
            return;
        }
    }
    let Some(options) = reqs.get(at) else {
        let set = without_redundant(reqs, chosen);
        let candidate = (needing_higher(reqs, &set), set.len(), set.into_iter().collect::<Vec<_>>());
        if best.as_ref().is_none_or(|b| candidate < *b) {
            *best = Some(candidate);
        }
        return;
    };
    // Already allowed by what is chosen: adding anything cannot do better.
    if options.iter().any(|(parts, _)| parts.is_subset(chosen)) {
        return search(reqs, at + 1, chosen, higher, best);
    }
    for (parts, least) in options {
        let added: Vec<&str> = parts.iter().copied().filter(|p| chosen.insert(p)).collect();
        search(reqs, at + 1, chosen, higher + usize::from(!least), best);
        for p in added {
            chosen.remove(p);
        }
    }
}

fn allows(req: &Requirement<'_>, set: &BTreeSet<&str>, least_only: bool) -> bool {
    req.iter().any(|(parts, least)| (*least || !least_only) && parts.is_subset(set))
}

/// How many requirements `set` allows only through a higher-privileged entry.
fn needing_higher(reqs: &[Requirement<'_>], set: &BTreeSet<&str>) -> usize {
    reqs.iter().filter(|r| !allows(r, set, true)).count()
}

/// `set` with every permission dropped whose absence still allows every
/// requirement as least-privileged as before (alphabetical order decides).
fn without_redundant<'a>(reqs: &[Requirement<'a>], set: &BTreeSet<&'a str>) -> BTreeSet<&'a str> {
    let mut set = set.clone();
    let higher = needing_higher(reqs, &set);
    for p in set.clone() {
        set.remove(p);
        let still = reqs.iter().all(|r| allows(r, &set, false)) && needing_higher(reqs, &set) <= higher;
        if !still {
            set.insert(p);
        }
    }
    set
}

/// The report for every caller, names resolved in `dir`.
pub(crate) fn report(usage: &BTreeMap<Caller, CallerUsage>, dir: &Directory, report_only: bool) -> Value {
    let callers: Vec<Value> = usage.iter().map(|(caller, u)| caller_report(caller, u, dir)).collect();
    json!({"authz": if report_only { "report-only" } else { "enforce" }, "callers": callers})
}

fn caller_report(caller: &Caller, usage: &CallerUsage, dir: &Directory) -> Value {
    let app_only = caller.user_id.is_none();
    let mut requirements = Vec::new();
    let mut unsatisfiable = Vec::new();
    let operations: Vec<Value> = usage
        .operations
        .iter()
        .map(|(op, n)| {
            match crate::authz::options(op, app_only) {
                Some((_, entries)) if !entries.is_empty() => requirements.push(entries),
                _ => unsatisfiable.push(*op),
            }
            json!({"operation": op, "calls": n.calls, "refused": n.refused, "wouldBeRefused": n.would_be_refused})
        })
        .collect();
    let needed = minimal_set(&requirements);
    let held: BTreeSet<&str> = usage.held.iter().map(String::as_str).collect();
    let beyond: Vec<&str> = held.difference(&needed).copied().collect();
    // What it lacked: for the operations what it held does not allow, the least-privileged
    // permissions to add (a broad permission held already covers a narrower one it lacks).
    let lacking: Vec<Vec<(&str, bool)>> = requirements
        .iter()
        .filter(|entries| !entries.iter().any(|(e, _)| e.split('+').map(str::trim).all(|p| held.contains(p))))
        .cloned()
        .collect();
    let missing: Vec<&str> = minimal_set(&lacking).difference(&held).copied().collect();
    let user = caller
        .user_id
        .map(|id| json!({"id": id, "userPrincipalName": crate::request_log::user_principal_name(dir, id)}));
    json!({
        "clientId": caller.client_id,
        "clientName": crate::request_log::client_name(dir, caller.client_id),
        "user": user,
        "kind": if app_only { "application" } else { "delegated" },
        "held": held,
        "operations": operations,
        "leastPrivileged": needed,
        "beyondNeeds": beyond,
        "missing": missing,
        "unsatisfiable": unsatisfiable,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set<'a>(names: &[&'a str]) -> BTreeSet<&'a str> {
        names.iter().copied().collect()
    }

    #[test]
    fn two_least_privileged_permissions_beat_one_broader_one() {
        let reqs = vec![
            vec![("User.Read.All", true), ("Directory.Read.All", false)],
            vec![("Group.Read.All", true), ("Directory.Read.All", false)],
        ];
        assert_eq!(minimal_set(&reqs), set(&["Group.Read.All", "User.Read.All"]));
    }

    #[test]
    fn a_write_permission_that_also_allows_the_read_makes_the_read_permission_redundant() {
        // Whichever operation is looked at first, User.Read.All is not kept.
        let list = vec![("User.Read.All", true), ("User.ReadWrite.All", false), ("Directory.ReadWrite.All", false)];
        let create = vec![("User.ReadWrite.All", true), ("Directory.ReadWrite.All", false)];
        assert_eq!(minimal_set(&[list.clone(), create.clone()]), set(&["User.ReadWrite.All"]));
        assert_eq!(minimal_set(&[create, list]), set(&["User.ReadWrite.All"]));
    }

    #[test]
    fn with_equal_privilege_fewer_permissions_win() {
        let reqs = vec![vec![("A.Read", true), ("Shared.Read", true)], vec![("B.Read", true), ("Shared.Read", true)]];
        assert_eq!(minimal_set(&reqs), set(&["Shared.Read"]));
    }

    #[test]
    fn ties_go_to_the_least_privileged_entries() {
        let reqs =
            vec![vec![("User.Read.All", true), ("User.ReadWrite.All", false)], vec![("User.ReadWrite.All", true)]];
        assert_eq!(minimal_set(&reqs), set(&["User.ReadWrite.All"]));
        let reqs = vec![vec![("User.Read.All", true), ("Directory.Read.All", false)]];
        assert_eq!(minimal_set(&reqs), set(&["User.Read.All"]));
    }

    #[test]
    fn an_entry_with_two_parts_needs_both() {
        let reqs = vec![vec![
            ("AppRoleAssignment.ReadWrite.All + Application.Read.All", true),
            ("Directory.ReadWrite.All", false),
        ]];
        assert_eq!(minimal_set(&reqs), set(&["AppRoleAssignment.ReadWrite.All", "Application.Read.All"]));
        let reqs = vec![vec![("Application.Read.All + User.Read.All", false), ("Directory.Read.All", false)]];
        assert_eq!(minimal_set(&reqs), set(&["Directory.Read.All"]));
        let reqs = vec![
            vec![("AppRoleAssignment.ReadWrite.All + Application.Read.All", true), ("Directory.ReadWrite.All", false)],
            vec![("Application.Read.All", true)],
            vec![("AppRoleAssignment.ReadWrite.All", true)],
        ];
        assert_eq!(minimal_set(&reqs), set(&["AppRoleAssignment.ReadWrite.All", "Application.Read.All"]));
    }

    #[test]
    fn nothing_performed_needs_nothing() {
        assert!(minimal_set(&[]).is_empty());
        assert!(minimal_set(&[vec![]]).is_empty());
    }

    #[test]
    fn the_catalogue_answers_for_the_operations_the_mock_checks() {
        let (name, entries) = crate::authz::options("users.list", true).expect("in the catalogue");
        assert_eq!(name, "users.list");
        assert!(entries.contains(&("User.Read.All", true)), "{entries:?}");
        let (_, delegated) = crate::authz::options("users.list", false).expect("in the catalogue");
        assert!(delegated.iter().any(|(e, _)| *e == "User.ReadBasic.All"), "{delegated:?}");
        assert!(crate::authz::options("no.such.operation", true).is_none());
    }
}
