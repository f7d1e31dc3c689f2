//! Every insta snapshot in the repository (`**/snapshots/*.snap`) is the largest body of wire
//! shapes the project has; each JSON body carrying `@odata.context` is checked against
//! Microsoft's CSDL for the type that context names. Everything else is skipped with a counted
//! reason, and a difference the real service is known to share is listed in the ledger's
//! `snapshots` section with its evidence.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use graphbox_conformance::csdl;
use graphbox_conformance::ledger::Ledger;
use graphbox_conformance::scenarios;
use graphbox_conformance::spec::{Checked, Spec};
use serde_json::Value;

fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("conformance/ sits in the workspace").to_owned()
}

fn snapshots(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !matches!(name.as_str(), "target" | ".git" | "node_modules") {
                snapshots(&path, out);
            }
        } else if name.ends_with(".snap") && dir.file_name().is_some_and(|d| d == "snapshots") {
            out.push(path);
        }
    }
}

/// The body below insta's header (`---` metadata `---`).
fn body(text: &str) -> &str {
    match text.strip_prefix("---\n").and_then(|rest| rest.split_once("\n---\n")) {
        Some((_, body)) => body,
        None => text,
    }
}

#[derive(Default)]
struct Findings {
    checked: usize,
    /// Bodies that are Graph's error envelope, checked against it.
    errors: usize,
    skipped: BTreeMap<&'static str, usize>,
    violations: Vec<String>,
    /// Ledger entries (snapshot, path) that matched a violation.
    listed: Vec<(String, String)>,
}

fn check(path: &Path, root: &Path, ledger: &Ledger, found: &mut Findings) {
    let text = std::fs::read_to_string(path).expect("a snapshot is text");
    let name = path.strip_prefix(root).unwrap_or(path).display().to_string();
    let Ok(json) = serde_json::from_str::<Value>(body(&text)) else {
        *found.skipped.entry("not JSON (SOAP or text bodies)").or_default() += 1;
        return;
    };
    if let Some(error) = json.get("error").filter(|_| json.as_object().is_some_and(|o| o.len() == 1)) {
        // A Graph error body: Graph's envelope (graph-wire.md §2.1), not a CSDL type. Tests
        // redact innerError's volatile values as one placeholder string.
        let mut body = json.clone();
        if error.get("innerError").is_some_and(Value::is_string) {
            body["error"]["innerError"] = serde_json::json!({});
        }
        found.errors += 1;
        if let Checked::Invalid { violations, .. } = Spec::bundled().check_graph("GET", "/", 400, &body) {
            for v in violations {
                found.violations.push(format!("{name} (error envelope): {v}"));
            }
        }
        return;
    }
    let Some(context) = json.get("@odata.context").and_then(Value::as_str) else {
        *found.skipped.entry("no @odata.context (token answers, maps a test assembled)").or_default() += 1;
        return;
    };
    let model = csdl::model();
    let Some(ty) = model.context_type(context) else {
        let reason = if context.starts_with('[') {
            "@odata.context redacted by the test"
        } else {
            "@odata.context names nothing in the CSDL"
        };
        *found.skipped.entry(reason).or_default() += 1;
        if !context.starts_with('[') {
            found.violations.push(format!("{name}: @odata.context {context:?} names nothing in the CSDL"));
        }
        return;
    };
    found.checked += 1;
    for v in model.validate_redacted_body(&ty, &json) {
        match ledger.snapshot_difference(&name, &v.path) {
            Some(_) => found.listed.push((name.clone(), v.path.clone())),
            None => found.violations.push(format!("{name} ({}): {v}", ty.display())),
        }
    }
}

#[test]
fn every_snapshot_with_an_odata_context_matches_the_csdl() {
    let root = repository_root();
    let mut files = Vec::new();
    snapshots(&root, &mut files);
    files.sort();
    assert!(!files.is_empty(), "no snapshots found under {}", root.display());
    let ledger = Ledger::bundled(&scenarios::all()).expect("the ledger is valid");
    let mut found = Findings::default();
    for path in &files {
        check(path, &root, &ledger, &mut found);
    }
    let skipped: usize = found.skipped.values().sum();
    eprintln!(
        "{} snapshots: {} checked against the CSDL, {} against the error envelope, {skipped} skipped",
        files.len(),
        found.checked,
        found.errors
    );
    for (reason, n) in &found.skipped {
        eprintln!("  skipped {n}: {reason}");
    }
    assert!(found.checked > 0, "at least one snapshot carries @odata.context");
    assert!(found.violations.is_empty(), "snapshots that differ from the CSDL:\n{}", found.violations.join("\n"));
    for entry in ledger.snapshot_entries() {
        // An entry that no longer matches a violation must go, so the ledger cannot rot.
        assert!(
            found.listed.iter().any(|(s, p)| *s == entry.snapshot && *p == entry.path),
            "ledger entry for {} at {} matches no violation any more: remove it",
            entry.snapshot,
            entry.path
        );
    }
}
