//! The identity platform's token endpoint: `POST {authority}/{tenant}/oauth2/v2.0/token`.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::{AccessToken, CredentialKind};
use crate::error::{AuthError, RequestSummary};
use crate::runtime::{Clock, RandomSource};

#[derive(Debug, Clone)]
pub(crate) struct TokenEndpoint {
    pub(crate) http: reqwest::Client,
    /// `{authority}/{tenant}/oauth2/v2.0/token`; also the `aud` of client assertions.
    pub(crate) url: String,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) random: Arc<dyn RandomSource>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: ExpiresIn,
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
                form.push(("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into()));
                form.push(("client_assertion", assertion));
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
        }
        let span = tracing::debug_span!("graphbox.token", url = %self.url);
        let _enter = span.enter();
        let requested_at = self.clock.now();
        let response = self
            .http
            .post(&self.url)
            .form(&form)
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
        Ok(AccessToken { token: ok.access_token, expires_on: requested_at + Duration::from_secs(seconds) })
    }
}
