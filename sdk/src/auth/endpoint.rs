//! The identity platform's token endpoint: `POST {authority}/{tenant}/oauth2/v2.0/token`.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::{AccessToken, CredentialKind, DeviceCodeCredential, DeviceCodeInfo};

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Ask for a refresh token with every user sign-in, as MSAL does.
fn with_offline_access(scope: &str) -> String {
    if scope.split(' ').any(|s| s == "offline_access") {
        scope.to_owned()
    } else {
        format!("{scope} offline_access")
    }
}
use crate::error::{AuthError, RequestSummary};
use crate::runtime::{Clock, RandomSource, Sleeper};

#[derive(Debug, Clone)]
pub(crate) struct TokenEndpoint {
    pub(crate) http: reqwest::Client,
    /// `{authority}/{tenant}/oauth2/v2.0/token`; also the `aud` of client assertions.
    pub(crate) url: String,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) random: Arc<dyn RandomSource>,
    /// Waits between device code polls.
    pub(crate) sleeper: Arc<dyn Sleeper>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: ExpiresIn,
    #[serde(default)]
    refresh_token: Option<String>,
}

/// `POST …/devicecode`'s answer.
#[derive(Deserialize)]
struct DeviceCodeResponse {
    device_code: String,
    user_code: String,
    verification_uri: String,
    message: String,
    expires_in: u64,
    #[serde(default = "default_interval")]
    interval: u64,
}

fn default_interval() -> u64 {
    5
}

/// `expires_in` is a number on the v2 endpoint; the v1 endpoint sent a string.
#[derive(Deserialize)]
#[serde(untagged)]
enum ExpiresIn {
    Number(u64),
    Text(String),
}

#[derive(Deserialize, Default)]
struct TokenErrorResponse {
    error: Option<String>,
    error_description: Option<String>,
    #[serde(default)]
    error_codes: Vec<u32>,
    correlation_id: Option<String>,
}

impl TokenEndpoint {
    pub(crate) async fn acquire(&self, credential: &CredentialKind, scope: &str) -> Result<AccessToken, AuthError> {
        if let CredentialKind::Custom(custom) = credential {
            return custom.get_token(&[scope]).await;
        }
        let path = reqwest::Url::parse(&self.url).map(|u| u.path().to_owned()).unwrap_or_else(|_| self.url.clone());
        let request = RequestSummary { method: "POST".into(), path };
        self.request_token(credential, scope).await.map_err(|e| e.for_request(request))
    }

    async fn request_token(&self, credential: &CredentialKind, scope: &str) -> Result<AccessToken, AuthError> {
        let mut form: Vec<(&str, String)> = vec![("scope", scope.to_owned())];
        match credential {
            CredentialKind::Custom(_) => {
                return Err(AuthError::custom("custom credentials are not sent to the token endpoint"))
            }
            CredentialKind::Secret(c) => {
                form.push(("grant_type", "client_credentials".into()));
                form.push(("client_id", c.client_id.clone()));
                form.push(("client_secret", c.secret.clone()));
            }
            CredentialKind::Certificate(c) => {
                let assertion = c.assertion(&self.url, self.clock.now(), &*self.random)?;
                form.push(("grant_type", "client_credentials".into()));
                form.push(("client_id", c.client_id.clone()));
                form.push(("client_assertion_type", JWT_BEARER.into()));
                form.push(("client_assertion", assertion));
            }
            CredentialKind::Assertion(c) => {
                form.push(("grant_type", "client_credentials".into()));
                form.push(("client_id", c.client_id.clone()));
                form.push(("client_assertion_type", JWT_BEARER.into()));
                form.push(("client_assertion", (c.assertion)()?));
            }
            CredentialKind::Password(c) => {
                form.push(("grant_type", "password".into()));
                form.push(("client_id", c.client_id.clone()));
                form.push(("username", c.username.clone()));
                form.push(("password", c.password.clone()));
                if let Some(secret) = &c.client_secret {
                    form.push(("client_secret", secret.clone()));
                }
            }
            CredentialKind::AuthCode(c) => {
                form[0].1 = with_offline_access(scope);
                form.push(("client_id", c.client_id.clone()));
                if let Some(secret) = &c.client_secret {
                    form.push(("client_secret", secret.clone()));
                }
                let (code, refresh) = {
                    let state = c.state.lock().unwrap_or_else(|p| p.into_inner());
                    (state.code.clone(), state.refresh.clone())
                };
                match (refresh, code) {
                    (Some(refresh), _) => {
                        form.push(("grant_type", "refresh_token".into()));
                        form.push(("refresh_token", refresh));
                    }
                    (None, Some(code)) => {
                        form.push(("grant_type", "authorization_code".into()));
                        form.push(("code", code));
                        form.push(("redirect_uri", c.redirect_uri.clone()));
                        form.push(("code_verifier", c.verifier.clone()));
                    }
                    (None, None) => {
                        return Err(AuthError::custom(
                            "the authorization code was already redeemed and no refresh token came back: sign in again",
                        ))
                    }
                }
                let (token, refresh) = self.post_form(&form).await?;
                let mut state = c.state.lock().unwrap_or_else(|p| p.into_inner());
                state.code = None;
                if refresh.is_some() {
                    state.refresh = refresh;
                }
                return Ok(token);
            }
            CredentialKind::DeviceCode(c) => return self.device_code(c, scope).await,
        }
        self.post_form(&form).await.map(|(token, _)| token)
    }

    /// The device code flow: a refresh token if there is one, else a user code shown through the
    /// callback and polling until the user has signed in (or the code expires).
    async fn device_code(&self, c: &DeviceCodeCredential, scope: &str) -> Result<AccessToken, AuthError> {
        let scope = with_offline_access(scope);
        let refresh = c.state.lock().unwrap_or_else(|p| p.into_inner()).refresh.clone();
        if let Some(refresh) = refresh {
            let form = vec![
                ("grant_type", "refresh_token".to_owned()),
                ("client_id", c.client_id.clone()),
                ("refresh_token", refresh),
                ("scope", scope.clone()),
            ];
            let (token, refresh) = self.post_form(&form).await?;
            if refresh.is_some() {
                c.state.lock().unwrap_or_else(|p| p.into_inner()).refresh = refresh;
            }
            return Ok(token);
        }
        let url = self.url.strip_suffix("/token").map(|base| format!("{base}/devicecode")).unwrap_or_default();
        let response = self
            .http
            .post(&url)
            .form(&[("client_id", c.client_id.as_str()), ("scope", scope.as_str())])
            .send()
            .await
            .map_err(|e| AuthError::with_source("device code endpoint could not be reached", e))?;
        let status = response.status().as_u16();
        let body =
            response.bytes().await.map_err(|e| AuthError::with_source("device code response could not be read", e))?;
        if !(200..300).contains(&status) {
            let err: TokenErrorResponse = serde_json::from_slice(&body).unwrap_or_default();
            return Err(AuthError::endpoint(
                status,
                err.error,
                &err.error_codes,
                err.error_description,
                err.correlation_id,
            ));
        }
        let flow: DeviceCodeResponse = serde_json::from_slice(&body)
            .map_err(|e| AuthError::with_source("device code response was not understood", e))?;
        (c.callback)(&DeviceCodeInfo {
            user_code: flow.user_code.clone(),
            verification_uri: flow.verification_uri.clone(),
            message: flow.message.clone(),
        });
        let deadline = self.clock.now() + Duration::from_secs(flow.expires_in);
        let mut interval = flow.interval.max(1);
        let form = vec![
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code".to_owned()),
            ("client_id", c.client_id.clone()),
            ("device_code", flow.device_code.clone()),
        ];
        loop {
            self.sleeper.sleep(Duration::from_secs(interval)).await;
            match self.post_form(&form).await {
                Ok((token, refresh)) => {
                    c.state.lock().unwrap_or_else(|p| p.into_inner()).refresh = refresh;
                    return Ok(token);
                }
                Err(e) if e.error() == Some("authorization_pending") && self.clock.now() < deadline => {}
                // RFC 8628: slow down by five seconds.
                Err(e) if e.error() == Some("slow_down") && self.clock.now() < deadline => interval += 5,
                Err(e) => return Err(e),
            }
        }
    }

    /// Send a token request; the access token and any refresh token.
    async fn post_form(&self, form: &[(&str, String)]) -> Result<(AccessToken, Option<String>), AuthError> {
        let span = tracing::debug_span!("graphbox.token", url = %self.url);
        let _enter = span.enter();
        let requested_at = self.clock.now();
        let response = self
            .http
            .post(&self.url)
            .form(form)
            .send()
            .await
            .map_err(|e| AuthError::with_source("token endpoint could not be reached", e))?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(|e| AuthError::with_source("token response could not be read", e))?;
        if !(200..300).contains(&status) {
            let err: TokenErrorResponse = serde_json::from_slice(&body).unwrap_or_default();
            tracing::debug!(status, error = ?err.error, "token request refused");
            return Err(AuthError::endpoint(
                status,
                err.error,
                &err.error_codes,
                err.error_description,
                err.correlation_id,
            ));
        }
        let ok: TokenResponse = serde_json::from_slice(&body)
            .map_err(|e| AuthError::with_source("token response was not understood", e))?;
        let seconds = match ok.expires_in {
            ExpiresIn::Number(n) => n,
            ExpiresIn::Text(s) => {
                s.trim().parse().map_err(|e| AuthError::with_source("expires_in is not a number", e))?
            }
        };
        Ok((
            AccessToken { token: ok.access_token, expires_on: requested_at + Duration::from_secs(seconds) },
            ok.refresh_token,
        ))
    }
}
