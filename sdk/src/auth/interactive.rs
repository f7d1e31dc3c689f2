//! Credentials for a signed-in user or a federated workload: the authorization code flow with
//! PKCE, the device code flow, and a client assertion from another issuer's token. The first two
//! keep the refresh token they are given and redeem it when the cache needs a new access token.

use std::fmt;
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;

use crate::error::AuthError;

fn random_text(bytes: usize) -> String {
    use ring::rand::SecureRandom;
    let mut buf = vec![0u8; bytes];
    // PKCE verifiers and states must be unguessable: no fallback if the OS has no entropy.
    ring::rand::SystemRandom::new().fill(&mut buf).expect("the operating system's random generator is available");
    B64.encode(buf)
}

fn form_encode(value: &str) -> String {
    const SET: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
    percent_encoding::utf8_percent_encode(value, SET).to_string()
}

/// The browser half of the authorization code flow with PKCE: the URL to send the user to, and
/// the check of what comes back to the redirect URI.
///
/// ```
/// use graphbox_sdk::auth::AuthorizationCodeFlow;
///
/// let flow = AuthorizationCodeFlow::new("11111111-2222-3333-4444-555555555555", "http://localhost:8400/callback",
///                                       &["https://graph.microsoft.com/User.Read"]);
/// let url = flow.authorize_url("https://login.microsoftonline.com", "contoso.onmicrosoft.com");
/// assert!(url.contains("code_challenge_method=S256"));
/// // … the user signs in; the browser lands on the redirect URI with `?code=…&state=…` …
/// let back = format!("code=abc&state={}", flow.state());
/// let credential = flow.credential(&back).expect("state matches");
/// # let _ = credential;
/// ```
#[derive(Clone)]
pub struct AuthorizationCodeFlow {
    client_id: String,
    redirect_uri: String,
    scopes: Vec<String>,
    verifier: String,
    state: String,
}

impl AuthorizationCodeFlow {
    /// A new flow with a fresh PKCE verifier and `state`.
    pub fn new(client_id: impl ToString, redirect_uri: impl Into<String>, scopes: &[&str]) -> Self {
        Self {
            client_id: client_id.to_string(),
            redirect_uri: redirect_uri.into(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            verifier: random_text(48),
            state: random_text(16),
        }
    }

    /// The value the redirect must carry back.
    pub fn state(&self) -> &str {
        &self.state
    }

    /// `{authority}/{tenant}/oauth2/v2.0/authorize?…` with `S256` PKCE, `state`, and the scopes plus
    /// `openid offline_access` (so a refresh token comes back).
    pub fn authorize_url(&self, authority: &str, tenant: &str) -> String {
        let challenge = B64.encode(ring::digest::digest(&ring::digest::SHA256, self.verifier.as_bytes()));
        let mut scopes = self.scopes.clone();
        for extra in ["openid", "offline_access"] {
            if !scopes.iter().any(|s| s == extra) {
                scopes.push(extra.to_owned());
            }
        }
        format!(
            "{}/{tenant}/oauth2/v2.0/authorize?client_id={}&response_type=code&redirect_uri={}&response_mode=query&scope={}&state={}&code_challenge={challenge}&code_challenge_method=S256",
            authority.trim_end_matches('/'),
            form_encode(&self.client_id),
            form_encode(&self.redirect_uri),
            form_encode(&scopes.join(" ")),
            form_encode(&self.state),
        )
    }

    /// Check the query the redirect URI received (`code=…&state=…`, with or without the leading
    /// `?`) and make the credential that redeems the code. An `error` in the query, a missing
    /// code or a `state` that is not this flow's is an [`AuthError`].
    pub fn credential(self, redirect_query: &str) -> Result<AuthorizationCodeCredential, AuthError> {
        let pairs: Vec<(String, String)> = redirect_query
            .trim_start_matches('?')
            .split('&')
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| {
                let decode = |s: &str| {
                    percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned()
                };
                (decode(k), decode(v))
            })
            .collect();
        let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        if get("state").as_deref() != Some(self.state.as_str()) {
            return Err(AuthError::custom("the redirect's state is not this flow's (a forged or stale redirect)"));
        }
        if let Some(error) = get("error") {
            return Err(AuthError::custom(format!("{error}: {}", get("error_description").unwrap_or_default())));
        }
        let code = get("code").ok_or_else(|| AuthError::custom("the redirect carries no code"))?;
        Ok(AuthorizationCodeCredential {
            client_id: self.client_id,
            redirect_uri: self.redirect_uri,
            verifier: self.verifier,
            client_secret: None,
            state: Arc::new(Mutex::new(Redeemable { code: Some(code), refresh: None })),
        })
    }
}

impl fmt::Debug for AuthorizationCodeFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationCodeFlow")
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// What a user credential can still redeem: the code once, then the latest refresh token.
#[derive(Default)]
pub(crate) struct Redeemable {
    pub(crate) code: Option<String>,
    pub(crate) refresh: Option<String>,
}

/// A signed-in user's tokens from the authorization code flow (made by
/// [`AuthorizationCodeFlow::credential`]): the code is redeemed for the first token, the refresh
/// token for later ones.
#[derive(Clone)]
pub struct AuthorizationCodeCredential {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) verifier: String,
    pub(crate) client_secret: Option<String>,
    pub(crate) state: Arc<Mutex<Redeemable>>,
}

impl AuthorizationCodeCredential {
    /// Also authenticate a confidential client (a code sent to a `web` redirect URI needs it).
    pub fn client_secret(mut self, secret: impl Into<String>) -> Self {
        self.client_secret = Some(secret.into());
        self
    }
}

impl fmt::Debug for AuthorizationCodeCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationCodeCredential").field("client_id", &self.client_id).finish_non_exhaustive()
    }
}

/// What the device code flow asks the user to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCodeInfo {
    /// The code to enter.
    pub user_code: String,
    /// Where to enter it.
    pub verification_uri: String,
    /// The identity platform's sentence saying both, to show as is.
    pub message: String,
}

type DeviceCallback = Arc<dyn Fn(&DeviceCodeInfo) + Send + Sync>;

/// The device code flow, for programs without a browser: the first token request asks for a user
/// code, hands it to your callback (print the message), and polls until the user has signed in
/// elsewhere; later tokens come from the refresh token.
///
/// ```no_run
/// # async fn demo() -> Result<(), graphbox_sdk::Error> {
/// use graphbox_sdk::auth::DeviceCodeCredential;
///
/// let credential = DeviceCodeCredential::new("11111111-2222-3333-4444-555555555555", |info| {
///     eprintln!("{}", info.message);
/// });
/// let graph = graphbox_sdk::GraphClient::builder()
///     .tenant("contoso.onmicrosoft.com")
///     .credential(credential)
///     .build()?;
/// # let _ = graph;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct DeviceCodeCredential {
    pub(crate) client_id: String,
    pub(crate) callback: DeviceCallback,
    pub(crate) state: Arc<Mutex<Redeemable>>,
}

impl DeviceCodeCredential {
    /// A public client's id and what to do with the user code.
    pub fn new(client_id: impl ToString, callback: impl Fn(&DeviceCodeInfo) + Send + Sync + 'static) -> Self {
        Self { client_id: client_id.to_string(), callback: Arc::new(callback), state: Arc::default() }
    }
}

impl fmt::Debug for DeviceCodeCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceCodeCredential").field("client_id", &self.client_id).finish_non_exhaustive()
    }
}

type AssertionSource = Arc<dyn Fn() -> Result<String, AuthError> + Send + Sync>;

/// Client credentials with a client assertion another issuer signed: workload identity
/// federation (a CI job's OIDC token, a Kubernetes service account token). The callback is asked
/// for a fresh token every time one is needed, so a token file that the platform rotates is
/// re-read.
///
/// ```no_run
/// use graphbox_sdk::auth::ClientAssertionCredential;
///
/// let credential = ClientAssertionCredential::new("11111111-2222-3333-4444-555555555555", || {
///     std::fs::read_to_string("/var/run/secrets/tokens/azure-identity-token")
///         .map_err(|e| graphbox_sdk::AuthError::with_source("federated token file", e))
/// });
/// # let _ = credential;
/// ```
#[derive(Clone)]
pub struct ClientAssertionCredential {
    pub(crate) client_id: String,
    pub(crate) assertion: AssertionSource,
}

impl ClientAssertionCredential {
    /// The application's client id and where its federated token comes from.
    pub fn new(
        client_id: impl ToString,
        assertion: impl Fn() -> Result<String, AuthError> + Send + Sync + 'static,
    ) -> Self {
        Self { client_id: client_id.to_string(), assertion: Arc::new(assertion) }
    }
}

impl fmt::Debug for ClientAssertionCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientAssertionCredential").field("client_id", &self.client_id).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redirect_with_another_state_is_refused() {
        let flow = AuthorizationCodeFlow::new("c", "http://localhost/cb", &["User.Read"]);
        assert!(flow.clone().credential("?code=x&state=forged").is_err());
        let back = format!("code=x&state={}", form_encode(flow.state()));
        assert!(flow.credential(&back).is_ok());
    }

    #[test]
    fn an_error_redirect_becomes_an_auth_error() {
        let flow = AuthorizationCodeFlow::new("c", "http://localhost/cb", &["User.Read"]);
        let back = format!("error=access_denied&error_description=AADSTS65004&state={}", flow.state());
        let e = flow.credential(&back).unwrap_err();
        assert!(e.to_string().contains("access_denied"), "{e}");
    }
}
