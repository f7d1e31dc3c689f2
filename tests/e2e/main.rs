//! End-to-end: graphbox-sdk's onboarding and provisioning against graphbox-mock in-process, one
//! server (and tenant) per test so they run in parallel.

mod dirsync;
mod onboarding;
mod provisioning;
mod realism;
mod report;
mod support;
