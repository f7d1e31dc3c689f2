//! Workload identity federation: a client assertion that another issuer
//! signed (a CI provider's OIDC token, a Kubernetes service account token)
//! stands in for the application's secret when one of the application's
//! federated identity credentials names that issuer, the token's subject and
//! one of its audiences. The issuer's keys come from the control API
//! (`PUT …/federation/issuers`), as Entra would fetch them from the issuer's
//! OpenID configuration.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use super::token::{ests_timestamp, HomeApp, TokenError};
use crate::directory::Directory;

/// The payload of a compact JWS, unverified: to route it by its `iss`.
pub(crate) fn peek_claims(token: &str) -> Option<Value> {
    let mut parts = token.split('.');
    let (_, payload) = (parts.next()?, parts.next()?);
    serde_json::from_slice(&B64.decode(payload).ok()?).ok()
}

/// Whether an assertion was issued by someone other than the client itself
/// (certificate assertions have `iss` = the client id).
pub(crate) fn is_external(assertion: &str, client_id: Uuid) -> bool {
    peek_claims(assertion)
        .and_then(|c| c.get("iss").and_then(Value::as_str).map(str::to_owned))
        .is_some_and(|iss| iss != client_id.to_string())
}

/// A JWKS the control API may register: RSA keys with `kid`, `n` and `e`.
pub(crate) fn check_jwks(issuer: &str, jwks: &Value) -> Result<(), String> {
    if !issuer.starts_with("https://") {
        return Err(format!("the issuer '{issuer}' is not an https URL"));
    }
    let keys = jwks.get("keys").and_then(Value::as_array).ok_or("the JWKS has no \"keys\" array")?;
    if keys.is_empty() {
        return Err("the JWKS has no keys".to_owned());
    }
    for k in keys {
        let text = |n: &str| k.get(n).and_then(Value::as_str);
        if text("kty") != Some("RSA") || text("kid").is_none() {
            return Err("every key needs \"kty\": \"RSA\" and a \"kid\"".to_owned());
        }
        for part in ["n", "e"] {
            if text(part).and_then(|v| B64.decode(v).ok()).is_none() {
                return Err(format!("key '{}' has no base64url \"{part}\"", text("kid").unwrap_or_default()));
            }
        }
    }
    Ok(())
}

fn no_match(what: &str, value: &str) -> TokenError {
    let code = match what {
        "issuer" => 700211,
        "audience" => 700212,
        _ => 700213,
    };
    TokenError::new(
        400,
        "invalid_request",
        code,
        format!("No matching federated identity record found for presented assertion {what} '{value}'. Please note that the matching is done using a case-sensitive comparison. Check your federated identity credential Subject, Audience and Issuer against the presented assertion."),
    )
}

fn bad(reason: &str) -> TokenError {
    TokenError::new(
        401,
        "invalid_client",
        700027,
        format!("Client assertion failed signature validation. [Reason - {reason}]"),
    )
}

/// Verify a federated client assertion for the application `app_id`: its
/// credentials are the application's, so for another tenant's multi-tenant
/// application (`home`, copied from its home tenant) they are the home
/// application's, with the issuer keys either tenant registered.
pub(crate) fn check(
    dir: &Directory,
    app_id: Uuid,
    home: Option<&HomeApp>,
    assertion: &str,
    now: OffsetDateTime,
) -> Result<(), TokenError> {
    let home = home.filter(|h| h.app_id == app_id && dir.application_by_app_id(app_id).is_none());
    let malformed = || TokenError::new(400, "invalid_request", 50027, "JWT token is invalid or malformed.");
    let mut parts = assertion.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(malformed());
    };
    let header: Value = B64.decode(h).ok().and_then(|b| serde_json::from_slice(&b).ok()).ok_or_else(malformed)?;
    let claims: Value = B64.decode(p).ok().and_then(|b| serde_json::from_slice(&b).ok()).ok_or_else(malformed)?;
    let signature = B64.decode(s).map_err(|_| malformed())?;
    let text = |v: &Value, n: &str| v.get(n).and_then(Value::as_str).map(str::to_owned);
    let issuer = text(&claims, "iss").ok_or_else(malformed)?;
    let subject = text(&claims, "sub").unwrap_or_default();
    let audiences: Vec<String> = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.clone()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    };
    // Matching first, as Entra reports which of issuer, subject, audience
    // found no credential.
    let creds: &[crate::directory::record::Record] = match home {
        Some(h) => &h.federated,
        None => {
            dir.find_application(&app_id.to_string(), true).map(|a| dir.federated_credentials_of(a)).unwrap_or_default()
        }
    };
    let fic = &crate::directory::federated_credentials::FEDERATED_CREDENTIAL;
    let by_issuer: Vec<_> = creds.iter().filter(|r| r.get_str(fic, "issuer") == Some(issuer.as_str())).collect();
    if by_issuer.is_empty() {
        return Err(no_match("issuer", &issuer));
    }
    let by_subject: Vec<_> =
        by_issuer.into_iter().filter(|r| r.get_str(fic, "subject") == Some(subject.as_str())).collect();
    if by_subject.is_empty() {
        return Err(no_match("subject", &subject));
    }
    let audience_ok = by_subject.iter().any(|r| {
        r.get(fic, "audiences")
            .and_then(Value::as_array)
            .is_some_and(|listed| listed.iter().any(|v| v.as_str().is_some_and(|v| audiences.iter().any(|a| a == v))))
    });
    if !audience_ok {
        return Err(no_match("audience", &audiences.join(",")));
    }
    let Some(registered) = dir.signin.issuers.get(&issuer).or_else(|| home.and_then(|h| h.issuers.get(&issuer))) else {
        return Err(TokenError::new(
            400,
            "invalid_request",
            50166,
            format!("Request to External OIDC endpoint failed: graphbox has no keys for issuer '{issuer}' (register them with the control API's federation/issuers)."),
        ));
    };
    if text(&header, "alg").as_deref() != Some("RS256") {
        return Err(bad("The token's signing algorithm is not supported; use RS256."));
    }
    let kid = text(&header, "kid");
    let keys = registered.jwks.get("keys").and_then(Value::as_array).cloned().unwrap_or_default();
    let key = keys.iter().find(|k| kid.is_none() || text(k, "kid") == kid).ok_or_else(|| {
        bad(&format!("The key was not found. Key id used by the issuer: '{}'.", kid.clone().unwrap_or_default()))
    })?;
    let part = |n: &str| text(key, n).and_then(|v| B64.decode(v).ok()).unwrap_or_default();
    let public = ring::signature::RsaPublicKeyComponents { n: part("n"), e: part("e") };
    let signed = &assertion.as_bytes()[..h.len() + 1 + p.len()];
    public
        .verify(&ring::signature::RSA_PKCS1_2048_8192_SHA256, signed, &signature)
        .map_err(|_| bad("The provided signature value did not match the expected signature value."))?;
    let time = |n: &str| claims.get(n).and_then(Value::as_i64);
    let exp = time("exp").ok_or_else(malformed)?;
    let nbf = time("nbf").unwrap_or(i64::MIN);
    let t = now.unix_timestamp();
    const SKEW: i64 = 300;
    if t + SKEW < nbf || t >= exp + SKEW {
        let show = |secs: i64| OffsetDateTime::from_unix_timestamp(secs).map(ests_timestamp).unwrap_or_default();
        return Err(TokenError::new(
            401,
            "invalid_client",
            700024,
            format!(
                "Client assertion is not within its valid time range. Current time: {}, expiry time of assertion {}.",
                ests_timestamp(now),
                show(exp)
            ),
        ));
    }
    Ok(())
}
