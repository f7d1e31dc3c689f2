//! The workspace README's Fidelity section is the generator's output, word for word: it
//! once went on listing a known difference after the mock had caught up, and missed a family.

use graphbox_conformance::ledger::{fidelity_markdown, Ledger};
use graphbox_conformance::scenarios;

#[test]
fn the_readmes_fidelity_section_is_what_the_ledger_and_scenarios_generate() {
    let all = scenarios::all();
    let ledger = Ledger::bundled(&all).expect("the ledger is valid");
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).expect("README");
    assert!(
        readme.contains(&fidelity_markdown(&all, &ledger)),
        "README.md's Fidelity section is stale: replace it with `cargo run -q -p graphbox-conformance -- --fidelity-markdown`"
    );
}
