//! `docs/schema-coverage.md` is what the generator prints today: a schema change that moves a
//! property between "modelled with behaviour", "stored as given" and "default only" (or leaves
//! a CSDL property unserved) must come with the regenerated document.

use graphbox_conformance::coverage::{schema_coverage_markdown, SCHEMA_COVERAGE_DOC};

#[test]
fn the_schema_coverage_document_is_current() {
    let path = format!("{}/../{SCHEMA_COVERAGE_DOC}", env!("CARGO_MANIFEST_DIR"));
    let kept = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(
        kept == schema_coverage_markdown(),
        "{SCHEMA_COVERAGE_DOC} is stale: rerun `cargo run -q -p graphbox-conformance -- --schema-coverage-markdown > {SCHEMA_COVERAGE_DOC}`"
    );
}

#[test]
fn every_csdl_property_of_a_stored_entity_is_served() {
    let doc = schema_coverage_markdown();
    assert!(!doc.contains("- **not served**"), "CSDL properties the mock's schema lacks:\n{doc}");
}
