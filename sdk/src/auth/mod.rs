//! Credentials and the token cache.
//!
//! | credential | grant |
//! |---|---|
//! | [`ClientSecretCredential`] | client credentials with a secret |
//! | [`ClientCertificateCredential`] | client credentials with an RS256 `client_assertion` |
//! | [`UsernamePasswordCredential`] | resource owner password (test tenants only) |
//! | [`AuthorizationCodeFlow`] → [`AuthorizationCodeCredential`] | authorization code with PKCE, then refresh tokens |
//! | [`DeviceCodeCredential`] | device code (a callback shows the user code), then refresh tokens |
//! | [`ClientAssertionCredential`] | client credentials with another issuer's token (workload identity federation) |
//! | [`StaticTokenCredential`] | a token you already have |
//! | your own [`TokenCredential`] | anything else (managed identity, a broker, …) |
//!
//! The built-in credentials get the authority host, tenant and HTTP client from the
//! [`GraphClientBuilder`](crate::GraphClientBuilder). Tokens are cached per credential and scope,
//! refreshed 5 minutes before expiry (by the injected [`Clock`](crate::Clock)), and fetched once
//! however many calls wait for them.

mod cache;
mod certificate;
mod endpoint;
mod interactive;

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use futures::future::BoxFuture;

use crate::error::{AuthError, BuildError};

pub(crate) use cache::TokenCache;
pub(crate) use endpoint::TokenEndpoint;
pub use interactive::{
    AuthorizationCodeCredential, AuthorizationCodeFlow, ClientAssertionCredential, DeviceCodeCredential, DeviceCodeInfo,
};

/// An access token and when it expires.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken {
    /// The bearer token.
    pub token: String,
    /// When it stops being valid.
    pub expires_on: SystemTime,
}

impl AccessToken {
    /// A token valid until `expires_on`.
    pub fn new(token: impl Into<String>, expires_on: SystemTime) -> Self {
        Self { token: token.into(), expires_on }
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the token itself: Debug output ends up in logs.
        f.debug_struct("AccessToken").field("token", &"<redacted>").field("expires_on", &self.expires_on).finish()
    }
}

/// A source of access tokens you implement yourself.
///
/// ```
/// use futures::future::BoxFuture;
/// use graphbox_sdk::auth::{AccessToken, TokenCredential};
/// use graphbox_sdk::AuthError;
///
/// #[derive(Debug)]
/// struct FromEnv;
///
/// impl TokenCredential for FromEnv {
///     fn get_token<'a>(&'a self, _scopes: &'a [&'a str]) -> BoxFuture<'a, Result<AccessToken, AuthError>> {
///         Box::pin(async {
///             let token = std::env::var("GRAPH_TOKEN").map_err(|e| AuthError::with_source("GRAPH_TOKEN not set", e))?;
///             Ok(AccessToken::new(token, std::time::UNIX_EPOCH + std::time::Duration::from_secs(u32::MAX.into())))
///         })
///     }
/// }
/// ```
pub trait TokenCredential: Send + Sync + fmt::Debug {
    /// A token for `scopes` (e.g. `["https://graph.microsoft.com/.default"]`).
    fn get_token<'a>(&'a self, scopes: &'a [&'a str]) -> BoxFuture<'a, Result<AccessToken, AuthError>>;
}

/// Client credentials with a client secret.
#[derive(Clone)]
pub struct ClientSecretCredential {
    pub(crate) client_id: String,
    pub(crate) secret: String,
}

impl ClientSecretCredential {
    /// The application's client id (`appId`) and a secret's text.
    pub fn new(client_id: impl ToString, secret: impl Into<String>) -> Self {
        Self { client_id: client_id.to_string(), secret: secret.into() }
    }
}

impl fmt::Debug for ClientSecretCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSecretCredential").field("client_id", &self.client_id).finish_non_exhaustive()
    }
}

pub use certificate::ClientCertificateCredential;

/// Resource-owner password credentials (ROPC). Microsoft discourages ROPC; use it only for test
/// tenants and accounts without MFA.
#[derive(Clone)]
pub struct UsernamePasswordCredential {
    pub(crate) client_id: String,
    pub(crate) username: String,
    pub(crate) password: String,
    pub(crate) client_secret: Option<String>,
}

impl UsernamePasswordCredential {
    /// A public client's id with a user's name and password.
    pub fn new(client_id: impl ToString, username: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            client_id: client_id.to_string(),
            username: username.into(),
            password: password.into(),
            client_secret: None,
        }
    }

    /// Also authenticate the (confidential) client with a secret.
    pub fn client_secret(mut self, secret: impl Into<String>) -> Self {
        self.client_secret = Some(secret.into());
        self
    }
}

impl fmt::Debug for UsernamePasswordCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UsernamePasswordCredential")
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// A token obtained elsewhere, used as is until it expires.
#[derive(Clone, Debug)]
pub struct StaticTokenCredential {
    token: AccessToken,
}

impl StaticTokenCredential {
    /// Uses `token` for every request.
    pub fn new(token: AccessToken) -> Self {
        Self { token }
    }
}

impl TokenCredential for StaticTokenCredential {
    fn get_token<'a>(&'a self, _scopes: &'a [&'a str]) -> BoxFuture<'a, Result<AccessToken, AuthError>> {
        Box::pin(async move { Ok(self.token.clone()) })
    }
}

/// Any credential the [`GraphClientBuilder`](crate::GraphClientBuilder) accepts.
#[derive(Clone, Debug)]
pub struct Credential(pub(crate) CredentialKind);

#[derive(Clone, Debug)]
pub(crate) enum CredentialKind {
    Secret(ClientSecretCredential),
    Certificate(ClientCertificateCredential),
    Password(UsernamePasswordCredential),
    AuthCode(AuthorizationCodeCredential),
    DeviceCode(DeviceCodeCredential),
    Assertion(ClientAssertionCredential),
    Custom(Arc<dyn TokenCredential>),
}

impl Credential {
    /// Wraps your own [`TokenCredential`].
    pub fn custom(credential: impl TokenCredential + 'static) -> Self {
        Self(CredentialKind::Custom(Arc::new(credential)))
    }
}

impl From<ClientSecretCredential> for Credential {
    fn from(c: ClientSecretCredential) -> Self {
        Self(CredentialKind::Secret(c))
    }
}

impl From<ClientCertificateCredential> for Credential {
    fn from(c: ClientCertificateCredential) -> Self {
        Self(CredentialKind::Certificate(c))
    }
}

impl From<UsernamePasswordCredential> for Credential {
    fn from(c: UsernamePasswordCredential) -> Self {
        Self(CredentialKind::Password(c))
    }
}

impl From<AuthorizationCodeCredential> for Credential {
    fn from(c: AuthorizationCodeCredential) -> Self {
        Self(CredentialKind::AuthCode(c))
    }
}

impl From<DeviceCodeCredential> for Credential {
    fn from(c: DeviceCodeCredential) -> Self {
        Self(CredentialKind::DeviceCode(c))
    }
}

impl From<ClientAssertionCredential> for Credential {
    fn from(c: ClientAssertionCredential) -> Self {
        Self(CredentialKind::Assertion(c))
    }
}

impl From<StaticTokenCredential> for Credential {
    fn from(c: StaticTokenCredential) -> Self {
        Self(CredentialKind::Custom(Arc::new(c)))
    }
}

impl From<Arc<dyn TokenCredential>> for Credential {
    fn from(c: Arc<dyn TokenCredential>) -> Self {
        Self(CredentialKind::Custom(c))
    }
}

pub(crate) fn missing_credential() -> BuildError {
    BuildError::new("no credential configured: call GraphClientBuilder::credential")
}
