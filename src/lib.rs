//! graphbox: build and test against Microsoft Entra ID and Microsoft Graph without a tenant.
pub use graphbox_sdk as sdk;
#[cfg(feature = "mock")]
pub use graphbox_mock as mock;
