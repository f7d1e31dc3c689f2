//! Nothing here: the crate is its tests (`tests/scenarios.rs`), which use graphbox-sdk and
//! graphbox-mock as a consumer does, through their public API only.
