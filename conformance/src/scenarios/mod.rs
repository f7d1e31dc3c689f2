//! The scenarios, one module per behaviour family. Each scenario quotes the reference fact it
//! checks (`shared/reference/graph-wire.md`, `dirsync.md`).

use crate::scenario::Scenario;

mod applications;
mod batch;
mod consent;
mod delta;
mod denials;
mod dirsync;
mod errors;
mod filters;
mod licences;
mod paging;
mod realism;
mod roles;
mod service_principals;
mod support;
mod token;
mod users;

/// Every scenario, grouped by family.
pub fn all() -> Vec<Scenario> {
    [
        token::SCENARIOS,
        errors::SCENARIOS,
        paging::SCENARIOS,
        filters::SCENARIOS,
        users::SCENARIOS,
        applications::SCENARIOS,
        service_principals::SCENARIOS,
        consent::SCENARIOS,
        roles::SCENARIOS,
        dirsync::SCENARIOS,
        licences::SCENARIOS,
        delta::SCENARIOS,
        batch::SCENARIOS,
        denials::SCENARIOS,
        realism::SCENARIOS,
    ]
    .concat()
}
