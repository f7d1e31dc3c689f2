//! Client authentication at the token endpoint: a client secret (in the body
//! or as HTTP Basic), a certificate-signed `client_assertion`, or nothing for a
//! public client. Every failure is the AADSTS error the real endpoint gives.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use super::token::{ests_timestamp, TokenError, TokenRequest};
use crate::certificates::CertJwsError;
use crate::directory::applications::APPLICATION;
use crate::directory::Directory;
use crate::tenant::Tenant;

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// An authenticated (or public) client.
#[derive(Debug, Clone)]
pub(crate) struct ClientAuth {
    pub app_id: Uuid,
    pub sp_id: Uuid,
    pub app_name: String,
    /// `appidacr`: "0" public client, "1" secret, "2" certificate.
    pub acr: &'static str,
}

fn basic_credentials(req: &TokenRequest<'_>) -> Option<(String, String)> {
    let (scheme, rest) = req.authorization?.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(rest.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
    Some((decode(id), decode(secret)))
}

/// The client id of an HTTP Basic `Authorization` header.
pub(crate) fn basic_client_id(req: &TokenRequest<'_>) -> Option<String> {
    basic_credentials(req).map(|(id, _)| id)
}

/// Authenticate the client of a token request. `confidential_only` is true for
/// grants only confidential clients may use (client credentials).
pub(crate) fn authenticate_client(
    req: &TokenRequest<'_>,
    tenant: &Tenant,
    dir: &Directory,
    now: OffsetDateTime,
    confidential_only: bool,
) -> Result<ClientAuth, TokenError> {
    let basic = basic_credentials(req);
    let client_id = req
        .field("client_id")
        .map(str::to_owned)
        .or_else(|| basic.as_ref().map(|b| b.0.clone()))
        .ok_or_else(|| TokenError::missing("client_id"))?;
    let unknown_client = || {
        TokenError::new(
            400,
            "unauthorized_client",
            700016,
            format!("Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", dir.display_name),
        )
    };
    let app_id = Uuid::parse_str(&client_id).map_err(|_| unknown_client())?;
    if dir.application_by_app_id(app_id).is_none() {
        if let Some(first_party) = crate::directory::first_party::public_client(app_id) {
            return first_party_client(req, tenant, dir, first_party, confidential_only, basic.is_some());
        }
    }
    // Another tenant's multi-tenant application, instantiated here.
    let home = req.home_app.as_ref().filter(|h| h.app_id == app_id);
    let app = dir.application_by_app_id(app_id).or(home.map(|h| &h.record)).ok_or_else(unknown_client)?;
    let sp_id = dir.service_principal_id_by_app_id(app_id).ok_or_else(|| {
        TokenError::new(
            400,
            "invalid_client",
            7000229,
            format!("The client application {app_id} is missing service principal in the tenant {}. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119", tenant.id),
        )
    })?;
    let app_name = app.get_str(&APPLICATION, "displayName").unwrap_or_default().to_owned();
    let public = app.get(&APPLICATION, "isFallbackPublicClient") == Some(&Value::Bool(true));
    let secret = req.field("client_secret").map(str::to_owned).or_else(|| basic.map(|b| b.1));
    let assertion = req.field("client_assertion");

    let acr =
        match (secret, assertion) {
            (Some(_), Some(_)) => {
                return Err(TokenError::new(
                    400,
                    "invalid_request",
                    50027,
                    "Only one of 'client_secret' and 'client_assertion' may be sent.",
                ))
            }
            (Some(secret), None) => {
                let home_secrets = home.map(|h| h.secrets.as_slice()).unwrap_or_default();
                check_secret(dir, home_secrets, app_id, &secret, now)?;
                "1"
            }
            // Workload identity federation: another issuer's token.
            (None, Some(assertion)) if super::federation::is_external(assertion, app_id) => {
                if req.field("client_assertion_type") != Some(JWT_BEARER) {
                    return Err(TokenError::new(
                        400,
                        "invalid_request",
                        7000219,
                        format!("'client_assertion_type' must be '{JWT_BEARER}'."),
                    ));
                }
                super::federation::check(dir, app_id, home, assertion, now)?;
                "2"
            }
            (None, Some(assertion)) => {
                check_assertion(req, tenant, app, app_id, assertion, now)?;
                "2"
            }
            (None, None) if public && !confidential_only => "0",
            (None, None) if confidential_only => return Err(TokenError::new(
                400,
                "invalid_request",
                7000216,
                "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
            )),
            (None, None) => {
                return Err(TokenError::new(
                    401,
                    "invalid_client",
                    7000218,
                    "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
                ))
            }
        };
    Ok(ClientAuth { app_id, sp_id, app_name, acr })
}

/// One of Microsoft's public clients (Azure CLI, …), known in every tenant:
/// it signs in users without a secret; a secret or assertion is refused as for
/// any public client, and so is the client-credentials grant.
fn first_party_client(
    req: &TokenRequest<'_>,
    tenant: &Tenant,
    dir: &Directory,
    client: &crate::directory::first_party::FirstPartyClient,
    confidential_only: bool,
    basic: bool,
) -> Result<ClientAuth, TokenError> {
    if basic || req.field("client_secret").is_some() || req.field("client_assertion").is_some() {
        return Err(TokenError::new(
            401,
            "invalid_client",
            700025,
            "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
        ));
    }
    if confidential_only {
        return Err(TokenError::new(
            400,
            "invalid_request",
            7000216,
            "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
        ));
    }
    let sp_id = dir
        .service_principal_id_by_app_id(client.app_id)
        .unwrap_or_else(|| crate::directory::first_party::implicit_service_principal_id(tenant.id, client.app_id));
    Ok(ClientAuth { app_id: client.app_id, sp_id, app_name: client.display_name.to_owned(), acr: "0" })
}

/// `home_secrets`: the home tenant's application secrets when the client is a
/// multi-tenant application registered elsewhere (with this tenant's own
/// service principal secrets, from `dir`).
fn check_secret(
    dir: &Directory,
    home_secrets: &[crate::directory::applications::StoredSecret],
    app_id: Uuid,
    secret: &str,
    now: OffsetDateTime,
) -> Result<(), TokenError> {
    let matching: Vec<_> =
        dir.secrets_of(app_id).into_iter().chain(home_secrets).filter(|s| s.hash.matches(secret)).collect();
    if matching.is_empty() {
        return Err(TokenError::new(
            401,
            "invalid_client",
            7000215,
            format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{app_id}'."),
        ));
    }
    if !matching.iter().any(|s| s.start <= now && now < s.end) {
        return Err(TokenError::new(
            401,
            "invalid_client",
            7000222,
            format!("The provided client secret keys for app '{app_id}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds."),
        ));
    }
    Ok(())
}

fn bad_assertion(reason: &str) -> TokenError {
    TokenError::new(
        401,
        "invalid_client",
        700027,
        format!("Client assertion contains an invalid signature. [Reason - {reason}]"),
    )
}

/// Verify a certificate-signed client assertion:
/// RS256 with `x5t`, or PS256 with `x5t#S256`, signed by a certificate in the
/// application's `keyCredentials`; `aud` the token endpoint; `iss` = `sub` = the
/// client id; within its lifetime on the tenant clock.
fn check_assertion(
    req: &TokenRequest<'_>,
    tenant: &Tenant,
    app: &crate::directory::record::Record,
    app_id: Uuid,
    assertion: &str,
    now: OffsetDateTime,
) -> Result<(), TokenError> {
    if req.field("client_assertion_type") != Some(JWT_BEARER) {
        return Err(TokenError::new(
            400,
            "invalid_request",
            7000219,
            format!("'client_assertion_type' must be '{JWT_BEARER}'."),
        ));
    }
    let malformed = || TokenError::new(400, "invalid_request", 50027, "JWT token is invalid or malformed.");
    let keys = app.get(&APPLICATION, "keyCredentials").and_then(Value::as_array).cloned().unwrap_or_default();
    let (claims, _) = crate::certificates::verify(assertion, &keys, now).map_err(|e| match e {
        CertJwsError::Malformed => malformed(),
        CertJwsError::UnsupportedAlgorithm(alg) => {
            bad_assertion(&format!("The token's signing algorithm '{alg}' is not supported."))
        }
        CertJwsError::KeyNotFound(thumbprint) => bad_assertion(&format!(
            "The key was not found., Thumbprint of key used by client: '{thumbprint}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{app_id}'."
        )),
        CertJwsError::NotACertificate => bad_assertion("The key is not a usable certificate."),
        CertJwsError::BadSignature => {
            bad_assertion("The provided signature value did not match the expected signature value.")
        }
        CertJwsError::KeyOutsideValidity => bad_assertion("The key used is expired or not yet valid."),
    })?;

    let client_id = app_id.to_string();
    let iss = claims.get("iss").and_then(Value::as_str);
    let sub = claims.get("sub").and_then(Value::as_str);
    if iss != Some(client_id.as_str()) || sub != Some(client_id.as_str()) {
        return Err(TokenError::new(
            400,
            "invalid_request",
            700021,
            "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
        ));
    }
    let aud = claims.get("aud").and_then(Value::as_str).unwrap_or_default();
    let accepted = [
        format!("{}/{}/oauth2/v2.0/token", req.authority, req.tenant),
        format!("{}/{}/oauth2/v2.0/token", req.authority, tenant.id),
        format!("{}/{}/oauth2/token", req.authority, tenant.id),
        format!("{}/{}/v2.0", req.authority, tenant.id),
    ];
    if !accepted.iter().any(|a| a.eq_ignore_ascii_case(aud)) {
        return Err(TokenError::new(
            401,
            "invalid_client",
            50013,
            format!("Assertion failed signature validation. [Reason - The assertion audience '{aud}' does not match the token endpoint '{}'.]", accepted[1]),
        ));
    }
    let time = |name: &str| claims.get(name).and_then(Value::as_i64);
    let (nbf, exp) = (time("nbf").unwrap_or(i64::MIN), time("exp").ok_or_else(malformed)?);
    let t = now.unix_timestamp();
    // Entra allows a few minutes of clock skew on assertions.
    const SKEW: i64 = 300;
    if t + SKEW < nbf || t >= exp + SKEW {
        let show = |secs: i64| {
            OffsetDateTime::from_unix_timestamp(secs).map(ests_timestamp).unwrap_or_else(|_| secs.to_string())
        };
        return Err(TokenError::new(
            401,
            "invalid_client",
            700024,
            format!(
                "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
                ests_timestamp(now),
                if nbf == i64::MIN { "unset".to_owned() } else { show(nbf) },
                show(exp)
            ),
        ));
    }
    Ok(())
}
