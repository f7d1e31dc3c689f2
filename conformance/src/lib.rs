//! graphbox-conformance: one scenario suite for graphbox-mock and for real tenants.
//!
//! # Map
//!
//! | module | owns |
//! |---|---|
//! | [`target`] | where scenarios run: in-process mock, a mock by its ready line, a real tenant; capabilities |
//! | [`mod@scenario`] | [`scenario::Scenario`] (name, reference fact, needs, steps), [`scenario::Failure`], assertion helpers |
//! | [`context`] | [`context::Ctx`]: SDK client, raw HTTP, run-prefixed names, cleanup registry, polling, control API |
//! | [`scenarios`] | the scenarios, one module per behaviour family |
//! | [`proxy`] | the recording proxy every request goes through, so every response body is schema-checked |
//! | [`csdl`], [`spec`], [`schema`] | Microsoft's CSDL as a model and validator; which shape each response must have; a small JSON-schema validator for the envelopes the CSDL lacks |
//! | [`coverage`] | the generated operation × scenario table and the mock's CSDL property coverage |
//! | [`ledger`] | known differences of the mock, and the README's generated Fidelity section |
//! | [`runner`], [`report`] | running (a fresh mock tenant per scenario, in parallel) and reporting (table, JUnit, summary) |
//!
//! # Invariants
//!
//! - Scenarios use the SDK's public API; raw HTTP only where the SDK has no call or where the
//!   scenario is about the wire itself (headers, token endpoint bodies, requests the SDK would
//!   refuse to build). Both go through the proxy.
//! - Against a real tenant a scenario only touches objects it created (named with the run
//!   prefix), registers them for cleanup before asserting, and changes tenant-wide settings only
//!   when the target allows it.
//! - A failure message names the fact, the request and the difference.

pub mod context;
pub mod coverage;
pub mod csdl;
pub mod ledger;
pub mod proxy;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod scenarios;
pub mod schema;
pub mod spec;
pub mod target;

pub use scenario::{Failure, Need, Scenario};
