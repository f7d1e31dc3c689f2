//! The whole suite against the in-process mock: every operation the mock serves is reached by
//! at least one scenario, every Graph request a scenario sends maps to an operation (or is a
//! deliberate refusal), and the README's generated sections are current.

use std::time::Duration;

use graphbox_conformance::coverage::{self, operation_of};
use graphbox_conformance::ledger::Ledger;
use graphbox_conformance::runner::{self, RunOptions};
use graphbox_conformance::scenarios;
use graphbox_conformance::target::Target;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_the_mock_serves_has_a_scenario_and_the_readme_is_current() {
    let all = scenarios::all();
    let ledger = Ledger::bundled(&all).expect("the ledger is valid");
    let target = Target::in_process().await.expect("mock starts");
    let options = RunOptions { jobs: 8, timeout: Duration::from_secs(30), prefix: "gbx-coverage-".into() };
    let outcomes = runner::run(&target, &all, &ledger, &options).await;
    let uncovered: Vec<String> =
        coverage::exercised(&outcomes).into_iter().filter(|(_, s)| s.is_empty()).map(|(op, _)| op).collect();
    assert!(uncovered.is_empty(), "operations no scenario reaches: {uncovered:?}");

    // A Graph request that maps to no operation is either a scenario's deliberate refusal
    // (unknown segment, wrong method) answered 4xx, or a gap in the operation table.
    let mut unmapped = Vec::new();
    for o in &outcomes {
        for (method, target) in &o.calls {
            if target.starts_with("/v1.0") && operation_of(method, target).is_none() {
                unmapped.push(format!("{} {method} {target}", o.scenario.name));
            }
        }
    }
    let known_refusals = ["nosuchthing", "nosuchnav", "$batch", "/me"];
    unmapped.retain(|u| !known_refusals.iter().any(|k| u.contains(k)));
    assert!(unmapped.len() < 10, "Graph requests no operation describes: {unmapped:#?}");

    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let table_rows: Vec<String> = coverage::OPERATIONS
        .iter()
        .map(|op| format!("| `{} {}` ({})", op.method, op.template.replace('|', "\\|"), op.family))
        .collect();
    for row in table_rows {
        assert!(readme.contains(&row), "README's operation table lacks {row}: rerun --coverage-markdown");
    }
    assert!(
        readme.contains(&coverage::properties_markdown()),
        "README's property coverage is stale: rerun `cargo run -p graphbox-conformance -- --coverage-markdown`"
    );
}
