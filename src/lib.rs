//! graphbox: build and test against Microsoft Entra ID and Microsoft Graph without a tenant.
#[cfg(feature = "mock")]
pub use graphbox_mock as mock;
pub use graphbox_sdk as sdk;
#[cfg(feature = "mock")]
pub mod virtual_time;
