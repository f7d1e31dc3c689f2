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
///
/// Given to a [`GraphClientBuilder`](crate::GraphClientBuilder), the builder supplies the token
/// endpoint. On its own it is a [`TokenCredential`] once [`authority`](Self::authority) names
/// the endpoint, and [`token`](Self::token) hands out the access token itself:
///
/// ```no_run
/// # async fn run() -> Result<(), graphbox_sdk::AuthError> {
/// use graphbox_sdk::auth::ClientSecretCredential;
///
/// let credential = ClientSecretCredential::new("11111111-2222-3333-4444-555555555555", "secret")
///     .authority("https://login.microsoftonline.com", "contoso.onmicrosoft.com");
/// let token: String = credential.token().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ClientSecretCredential {
    pub(crate) client_id: String,
    pub(crate) secret: String,
    /// The token endpoint and HTTP client for use outside a `GraphClient`.
    standalone: Option<Arc<Standalone>>,
}

#[derive(Debug)]
struct Standalone {
    url: String,
    ca_pems: Vec<Vec<u8>>,
    http: std::sync::OnceLock<reqwest::Client>,
}

/// Graph's scope for app-only tokens (what [`ClientSecretCredential::token`] asks for).
pub const GRAPH_DEFAULT_SCOPE: &str = "https://graph.microsoft.com/.default";

impl ClientSecretCredential {
    /// The application's client id (`appId`) and a secret's text.
    pub fn new(client_id: impl ToString, secret: impl Into<String>) -> Self {
        Self { client_id: client_id.to_string(), secret: secret.into(), standalone: None }
    }

    /// The authority host (e.g. `https://login.microsoftonline.com`) and tenant (id or domain)
    /// whose token endpoint this credential uses on its own. A `GraphClientBuilder` ignores it
    /// and uses its own.
    pub fn authority(mut self, authority_host: impl AsRef<str>, tenant: impl ToString) -> Self {
        let host = authority_host.as_ref().trim_end_matches('/');
        let url = format!("{host}/{}/oauth2/v2.0/token", tenant.to_string());
        let ca_pems = self.standalone.map(|s| s.ca_pems.clone()).unwrap_or_default();
        self.standalone = Some(Arc::new(Standalone { url, ca_pems, http: Default::default() }));
        self
    }

    /// Also trust this CA (PEM) when calling the token endpoint on its own (a local test
    /// server's); call after [`authority`](Self::authority).
    pub fn add_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        if let Some(s) = &self.standalone {
            let mut ca_pems = s.ca_pems.clone();
            ca_pems.push(pem.into());
            self.standalone = Some(Arc::new(Standalone { url: s.url.clone(), ca_pems, http: Default::default() }));
        }
        self
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// An app-only access token for Microsoft Graph ([`GRAPH_DEFAULT_SCOPE`]), from the token
    /// endpoint set with [`authority`](Self::authority); not cached.
    ///
    /// # Errors
    ///
    /// The endpoint refused, could not be reached, or no authority was set.
    pub async fn token(&self) -> Result<String, AuthError> {
        self.get_token(&[GRAPH_DEFAULT_SCOPE]).await.map(|t| t.token)
    }
}

impl TokenCredential for ClientSecretCredential {
    fn get_token<'a>(&'a self, scopes: &'a [&'a str]) -> BoxFuture<'a, Result<AccessToken, AuthError>> {
        Box::pin(async move {
            let Some(standalone) = &self.standalone else {
                return Err(AuthError::custom(
                    "this ClientSecretCredential has no token endpoint: call .authority(host, tenant) to use it \
                     outside a GraphClient",
                ));
            };
            let http = match standalone.http.get() {
                Some(http) => http.clone(),
                None => {
                    let mut builder = reqwest::Client::builder();
                    for pem in &standalone.ca_pems {
                        let cert = reqwest::Certificate::from_pem(pem)
                            .map_err(|e| AuthError::with_source("CA PEM could not be parsed", e))?;
                        builder = builder.add_root_certificate(cert);
                    }
                    let http =
                        builder.build().map_err(|e| AuthError::with_source("HTTP client could not be created", e))?;
                    standalone.http.get_or_init(|| http).clone()
                }
            };
            let endpoint = TokenEndpoint {
                http,
                url: standalone.url.clone(),
                clock: Arc::new(crate::SystemClock),
                random: Arc::new(crate::SystemRandom::default()),
                sleeper: Arc::new(crate::TokioSleeper),
            };
            endpoint.acquire(&CredentialKind::Secret(self.clone()), &scopes.join(" ")).await
        })
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
