//! Realism at the token endpoint and in the claims of the tokens it issues:
//! inside a replication window a just-created application is unknown
//! (AADSTS700016), a just-added secret is wrong (AADSTS7000215) and a
//! just-added certificate's key is not found (AADSTS700027); inside a
//! propagation window new tokens still carry the roles, `wids` and `scp` from
//! before a change of consent or role assignments.

use serde_json::Value;
use uuid::Uuid;

use crate::directory::applications::APPLICATION;
use crate::identity::token::{TokenError, TokenRequest};
use crate::identity::AccessClaims;
use crate::tenant::Tenant;

/// The answer a replica that has not seen the client's application or
/// credential gives, if realism says so; `None` lets the request through.
pub(crate) fn refusal(req: &TokenRequest<'_>, tenant: &Tenant) -> Option<TokenError> {
    if !tenant.realism.is_on() {
        return None;
    }
    let now = tenant.clock.now();
    let client_id = req.field("client_id")?;
    let app_id = Uuid::parse_str(client_id).ok()?;
    let dir = tenant.read();
    let inner = tenant.realism.lock();
    let fail = Some;
    if inner.windows.fresh_app_id(&app_id, now).is_some() {
        return fail(TokenError::new(
            400,
            "unauthorized_client",
            700016,
            format!("Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", dir.display_name),
        ));
    }
    if let Some(secret) = req.field("client_secret") {
        let matching: Vec<_> = dir.secrets_of(app_id).into_iter().filter(|s| s.hash.matches(secret)).collect();
        if !matching.is_empty() && matching.iter().all(|s| inner.windows.credential_fresh(&s.key_id, now)) {
            return fail(TokenError::new(
                401,
                "invalid_client",
                7000215,
                format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{app_id}'."),
            ));
        }
    }
    if let Some(assertion) = req.field("client_assertion") {
        let keys = dir
            .application_by_app_id(app_id)
            .and_then(|a| a.get(&APPLICATION, "keyCredentials"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if let Ok((_, signer)) = crate::certificates::verify(assertion, &keys, now) {
            let key_id = signer.get("keyId").and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok());
            if key_id.is_some_and(|k| inner.windows.credential_fresh(&k, now)) {
                let thumbprint = signer.get("customKeyIdentifier").and_then(Value::as_str).unwrap_or_default();
                return fail(TokenError::new(
                    401,
                    "invalid_client",
                    700027,
                    format!("Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '{thumbprint}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{app_id}'.]"),
                ));
            }
        }
    }
    None
}

/// Lag a token's claims behind recent changes for its subject: `principal` is
/// the service principal (app-only) or the user (delegated), `client` the
/// client's service principal.
pub(crate) fn lag_claims(tenant: &Tenant, claims: &mut AccessClaims, principal: Uuid, client: Uuid) {
    if !tenant.realism.is_on() {
        return;
    }
    let now = tenant.clock.now();
    let inner = tenant.realism.lock();
    if let Some(stale) = inner.windows.stale_claims(&principal, now) {
        if claims.scp.is_none() {
            claims.roles = stale.roles.clone();
        }
        claims.wids = stale.wids.clone();
    }
    if let Some(scp) = &claims.scp {
        claims.scp = Some(inner.windows.lag_scopes(client, principal, scp, now));
    }
}
