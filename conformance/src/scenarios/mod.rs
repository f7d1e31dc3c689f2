//! The scenarios, one module per behaviour family. Each scenario quotes the reference fact it
//! checks (`shared/reference/graph-wire.md`, `dirsync.md`, `msol-soap.md`).

use crate::scenario::Scenario;

mod app_registry;
mod applications;
mod batch;
mod consent;
mod deleted;
mod delta;
mod denials;
mod directory_objects;
mod dirsync;
mod discovery;
mod domains;
mod errors;
mod faults;
mod federation;
mod filters;
mod group_delta;
mod groups;
mod keys;
mod licence_details;
mod licences;
mod msonline;
mod owners;
mod paging;
mod realism;
mod relations;
mod role_catalog;
mod roles;
mod sensitive;
mod service_principals;
mod support;
mod token;
mod users;
mod wire;

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
        sensitive::SCENARIOS,
        groups::SCENARIOS,
        domains::SCENARIOS,
        federation::SCENARIOS,
        relations::SCENARIOS,
        deleted::SCENARIOS,
        app_registry::SCENARIOS,
        role_catalog::SCENARIOS,
        faults::SCENARIOS,
        discovery::SCENARIOS,
        group_delta::SCENARIOS,
        msonline::SCENARIOS,
        keys::SCENARIOS,
        licence_details::SCENARIOS,
        realism::SCENARIOS,
        directory_objects::SCENARIOS,
        owners::SCENARIOS,
    ]
    .concat()
}
