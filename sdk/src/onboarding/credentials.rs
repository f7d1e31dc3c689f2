//! Steps 7–8: a client secret, and the proof that it works: a client-credentials token whose
//! `roles` carry every consented application permission.
//!
//! The token's payload is decoded, never verified. Graph tokens are meant for Graph only; their
//! format may change without notice, and checking their signature is Graph's job.

use std::time::Duration;

use base64::Engine as _;

use super::app::App;
use super::retry::{is_credential_replication_delay, retry};
use super::{Onboarding, OnboardingError, OnboardingEvent, Step};
use crate::auth::{AccessToken, ClientSecretCredential};
use crate::error::Error;
use crate::ids::AppId;
use crate::models::PasswordCredential;

pub(super) struct Secret {
    pub(super) text: String,
    pub(super) created: bool,
}

pub(super) struct VerifiedToken {
    pub(super) tenant_id: String,
    pub(super) roles: Vec<String>,
}

/// A client-credentials token for `app_id` + `secret`, through a fresh client (so no cached
/// token from an earlier attempt is reused).
async fn acquire(w: &Onboarding, app_id: &AppId, secret: &str) -> Result<AccessToken, Error> {
    let client = (w.connect)(ClientSecretCredential::new(app_id, secret).into())?;
    client.transport.tokens.token(&client.transport.scope).await.map_err(Error::Auth)
}

pub(super) async fn ensure_secret(w: &Onboarding, app: &App) -> Result<Secret, OnboardingError> {
    let step = Step::CreateSecret;
    w.emit(OnboardingEvent::Started(step));
    if let Some(existing) = &w.existing_secret {
        // A secret from an earlier run is not subject to replication delay: one try decides.
        match acquire(w, &app.app_id, existing).await {
            Ok(_) => {
                w.emit(OnboardingEvent::AlreadyDone { step, detail: "the stored secret still works".into() });
                return Ok(Secret { text: existing.clone(), created: false });
            }
            Err(e) if e.as_auth_error().is_some() => {
                w.emit(OnboardingEvent::Waiting {
                    step,
                    attempt: 1,
                    delay: Duration::ZERO,
                    reason: format!("the stored secret no longer works ({}); adding a new one", auth_summary(&e)),
                });
            }
            Err(e) => return Err(OnboardingError::Graph { step, source: e }),
        }
    }
    let now = time::OffsetDateTime::from(w.admin.transport.clock.now());
    let lifetime = time::Duration::try_from(w.secret_lifetime).unwrap_or(time::Duration::days(180));
    let request = PasswordCredential {
        display_name: Some(w.secret_display_name.clone()),
        end_date_time: Some(now + lifetime),
        ..Default::default()
    };
    let created = w
        .admin
        .applications()
        .add_password(&app.id, request)
        .send()
        .await
        .map_err(|source| OnboardingError::Graph { step, source })?;
    let text = created.secret_text.ok_or(OnboardingError::MissingField { step, field: "secretText" })?;
    let earlier = app.secret_names.iter().filter(|n| **n == w.secret_display_name).count();
    let note = if earlier > 0 {
        format!(" ({earlier} earlier secret(s) with this name are left in place)")
    } else {
        String::new()
    };
    w.emit(OnboardingEvent::Done {
        step,
        detail: format!("created a secret valid for {} days{note}", w.secret_lifetime.as_secs() / 86_400),
    });
    Ok(Secret { text, created: true })
}

fn auth_summary(e: &Error) -> String {
    match e.as_auth_error() {
        Some(a) => match a.aadsts() {
            Some(code) => format!("AADSTS{code}"),
            None => a.to_string(),
        },
        None => e.to_string(),
    }
}

pub(super) async fn verify(w: &Onboarding, app_id: &AppId, secret: &str) -> Result<VerifiedToken, OnboardingError> {
    let step = Step::VerifyToken;
    w.emit(OnboardingEvent::Started(step));
    let wanted: Vec<String> = w.application_permissions.iter().map(|p| p.value().to_owned()).collect();
    let mut waited = Duration::ZERO;
    let mut attempt = 0u32;
    loop {
        // A secret added a moment ago is refused (AADSTS7000215, or 700016 for a new app) until
        // it has replicated; retried inside.
        let on_wait = |a, delay, e: &Error| {
            let reason = format!("replication delay? token endpoint said {}", auth_summary(e));
            w.emit(OnboardingEvent::Waiting { step, attempt: a, delay, reason });
        };
        let token =
            retry(w.replication, &*w.waiter, is_credential_replication_delay, on_wait, || acquire(w, app_id, secret))
                .await
                .map_err(|source| OnboardingError::Graph { step, source })?;
        let claims = decode_claims(&token.token)?;
        let roles: Vec<String> = claims
            .get("roles")
            .and_then(|r| r.as_array())
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        let missing: Vec<String> = wanted.iter().filter(|p| !roles.contains(p)).cloned().collect();
        if missing.is_empty() {
            let tenant_id = claims.get("tid").and_then(|t| t.as_str()).unwrap_or_default().to_owned();
            w.emit(OnboardingEvent::Done {
                step,
                detail: format!("token for tenant {tenant_id} has roles {}", roles.join(", ")),
            });
            return Ok(VerifiedToken { tenant_id, roles });
        }
        // Consent also replicates: a token issued a moment after the grant can lack the role.
        let delay = w.replication.delay(attempt);
        if waited + delay > w.replication.budget {
            return Err(OnboardingError::MissingRoles { missing });
        }
        attempt += 1;
        w.emit(OnboardingEvent::Waiting {
            step,
            attempt,
            delay,
            reason: format!("token lacks roles {missing:?}; consent may not have replicated"),
        });
        w.waiter.sleep(delay).await;
        waited += delay;
    }
}

/// The JSON payload of a compact JWT, without checking the signature.
///
/// ```
/// let payload = r#"{"tid":"t","roles":["User.Read.All"]}"#;
/// use base64::Engine as _;
/// let token = format!("e30.{}.sig", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload));
/// let claims = graphbox_sdk::onboarding::decode_claims(&token)?;
/// assert_eq!(claims["roles"][0], "User.Read.All");
/// # Ok::<(), graphbox_sdk::onboarding::OnboardingError>(())
/// ```
///
/// # Errors
///
/// [`OnboardingError::UndecodableToken`] if the token has no second segment, it is not
/// base64url, or it is not a JSON object.
pub fn decode_claims(token: &str) -> Result<serde_json::Map<String, serde_json::Value>, OnboardingError> {
    let payload =
        token.split('.').nth(1).ok_or_else(|| OnboardingError::UndecodableToken("no payload segment".into()))?;
    // Tokens use unpadded base64url; tolerate padding from other issuers.
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| OnboardingError::UndecodableToken(e.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|e| OnboardingError::UndecodableToken(e.to_string()))
}
