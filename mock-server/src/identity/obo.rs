//! The on-behalf-of flow: a middle tier that received a user's token for its
//! own API (`aud` = its appId or one of its `identifierUris`) trades it, with
//! its own credential, for a Microsoft Graph token for the same user
//! (`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`,
//! `requested_token_use=on_behalf_of`). The middle tier needs the user's (or
//! the tenant's) consent to the Graph scopes it asks for.

use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use super::client_auth::authenticate_client;
use super::delegated::{self, parse_scope};
use super::token::{TokenError, TokenRequest};
use crate::directory::applications::APPLICATION;
use crate::directory::users::USER;
use crate::directory::Directory;
use crate::keys::SigningKey;
use crate::tenant::Tenant;

pub(crate) const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

fn assertion_failed(reason: &str) -> TokenError {
    TokenError::new(400, "invalid_grant", 50013, format!("Assertion failed signature validation. [Reason - {reason}]"))
}

/// `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`.
pub(crate) fn obo_grant(
    req: &TokenRequest<'_>,
    tenant: &Tenant,
    dir: &mut Directory,
    key: &SigningKey,
    now: OffsetDateTime,
) -> Result<Value, TokenError> {
    match req.field("requested_token_use") {
        Some("on_behalf_of") => {}
        None => return Err(TokenError::missing("requested_token_use")),
        Some(other) => {
            return Err(TokenError::new(
                400,
                "invalid_request",
                900144,
                format!("The 'requested_token_use' value '{other}' is not supported; the jwt-bearer grant serves 'on_behalf_of'."),
            ))
        }
    }
    let client = authenticate_client(req, tenant, dir, now, false)?;
    if client.acr == "0" {
        return Err(TokenError::new(
            401,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        ));
    }
    let assertion = req.field("assertion").ok_or_else(|| TokenError::missing("assertion"))?;
    let scope = req.field("scope").ok_or_else(|| TokenError::missing("scope"))?;
    let claims: Value = super::jwt::verify(key, assertion).map_err(|e| match e {
        super::jwt::JwsError::Malformed => {
            TokenError::new(400, "invalid_request", 50027, "JWT token is invalid or malformed.")
        }
        _ => assertion_failed("The key was not found or the signature did not verify."),
    })?;
    let text = |n: &str| claims.get(n).and_then(Value::as_str).unwrap_or_default().to_owned();
    if text("tid") != tenant.id.to_string() {
        return Err(assertion_failed("The assertion was issued by another tenant."));
    }
    let t = now.unix_timestamp();
    let time = |n: &str| claims.get(n).and_then(Value::as_i64).unwrap_or_default();
    if t >= time("exp") || t < time("nbf") {
        return Err(TokenError::new(
            400,
            "invalid_grant",
            500133,
            "Assertion is not within its valid time range. Ensure that the access token is not expired before using it for user assertion, or request a new token.",
        ));
    }
    let aud = text("aud");
    let app = dir.application_by_app_id(client.app_id);
    let identifiers: Vec<String> = app
        .and_then(|a| a.get(&APPLICATION, "identifierUris"))
        .and_then(Value::as_array)
        .map(|u| u.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    if aud != client.app_id.to_string() && !identifiers.iter().any(|i| i.eq_ignore_ascii_case(&aud)) {
        return Err(TokenError::new(
            400,
            "invalid_grant",
            50013,
            format!("Assertion audience does not match the Client app presenting the assertion. The audience in the assertion was '{aud}' and the expected audience is '{}' or one of the Application Id URIs of this application.", client.app_id),
        ));
    }
    if text("idtyp") == "app" || claims.get("scp").is_none() {
        return Err(assertion_failed("The assertion is an app-only token; on-behalf-of needs a user's token."));
    }
    let user = Uuid::parse_str(&text("oid")).map_err(|_| assertion_failed("The assertion names no user."))?;
    let Some(record) = dir.users.get(&user) else {
        return Err(delegated::user_failure(50034, "The user account {EUII Hidden} does not exist in the directory."));
    };
    if record.get(&USER, "accountEnabled") == Some(&Value::Bool(false)) {
        return Err(delegated::user_failure(50057, "The user account is disabled."));
    }
    let request = parse_scope(scope, req.authority)?;
    let scopes = delegated::granted_scopes(dir, &client, user, &request)?;
    delegated::respond(req, tenant, dir, key, now, &client, user, request.resource, scopes, &request.oidc, None)
}
