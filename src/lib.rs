//! graphbox: build and test against Microsoft Entra ID and Microsoft Graph without a tenant.
#[cfg(feature = "mock")]
pub use graphbox_mock as mock;
pub use graphbox_sdk as sdk;
#[cfg(feature = "mock")]
pub mod virtual_time;

/// The README's Rust snippets, compiled and run as doctests so they cannot rot.
#[cfg(all(doctest, feature = "mock"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
