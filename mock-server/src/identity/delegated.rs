//! Delegated sign-in: the resource-owner password grant (for test tenants and
//! admin tooling) and the refresh-token grant. Scopes are what the tenant has
//! consented to for the client (OAuth2 permission grants); the token carries
//! them as `scp` and the user's directory roles as `wids`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde_json::{json, Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use super::client_auth::{authenticate_client, ClientAuth};
use super::token::{token_response, unknown_resource, Resource, TokenError, TokenRequest, TOKEN_LIFETIME_SECS};
use super::{jwt, AccessClaims};
use crate::directory::sessions::{RefreshGrant, REFRESH_LIFETIME};
use crate::directory::users::USER;
use crate::directory::Directory;
use crate::keys::SigningKey;
use crate::tenant::Tenant;

const OIDC_SCOPES: &[&str] = &["openid", "profile", "email", "offline_access"];

pub(crate) fn refresh_key(token: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    B64.encode(digest.as_ref())
}

/// What a delegated `scope` parameter asks for.
pub(crate) struct ScopeRequest {
    pub(crate) resource: Resource,
    /// Permission values (`User.Read`), or empty for `.default`.
    pub(crate) permissions: Vec<String>,
    pub(crate) default: bool,
    pub(crate) oidc: Vec<String>,
}

pub(crate) fn parse_scope(scope: &str, authority: &str) -> Result<ScopeRequest, TokenError> {
    let mut resource = None;
    let mut permissions = Vec::new();
    let mut default = false;
    let mut oidc = Vec::new();
    for item in scope.split(' ').filter(|s| !s.is_empty()) {
        if OIDC_SCOPES.contains(&item) {
            oidc.push(item.to_owned());
            continue;
        }
        // `https://graph.microsoft.com/User.Read`, or a bare `User.Read` for Graph.
        let (res, perm) = match item.rsplit_once('/') {
            Some((r, p)) if r.contains("://") || uuid::Uuid::parse_str(r).is_ok() => {
                (Resource::parse(r, authority).ok_or_else(|| unknown_resource(r))?, p)
            }
            _ => (Resource::Graph, item),
        };
        if resource.is_some_and(|r| r != res) {
            return Err(TokenError::new(
                400,
                "invalid_scope",
                28000,
                format!("Provided value for the input parameter scope is not valid because it contains more than one resource. Scope {scope} is not valid."),
            ));
        }
        resource = Some(res);
        if perm == ".default" {
            default = true;
        } else {
            permissions.push(perm.to_owned());
        }
    }
    Ok(ScopeRequest { resource: resource.unwrap_or(Resource::Graph), permissions, default, oidc })
}

pub(crate) fn consent_missing(client: &ClientAuth) -> TokenError {
    TokenError::new(
        400,
        "invalid_grant",
        65001,
        format!("The user or administrator has not consented to use the application with ID '{}' named '{}'. Send an interactive authorization request for this user and resource.", client.app_id, client.app_name),
    )
}

/// Decide the `scp` a token gets: what was asked and consented.
pub(crate) fn granted_scopes(
    dir: &Directory,
    client: &ClientAuth,
    user: Uuid,
    request: &ScopeRequest,
) -> Result<Vec<String>, TokenError> {
    if let Some(first_party) = crate::directory::first_party::public_client(client.app_id) {
        if let Some(scopes) = first_party_scopes(first_party, request) {
            return scopes;
        }
    }
    if matches!(request.resource, Resource::Arm | Resource::ExchangeOnline) {
        // Only Microsoft's own clients are pre-authorized for these; a tenant
        // application would need consent to them, which graphbox does not model.
        return Err(consent_missing(client));
    }
    if request.resource == Resource::AadGraph {
        // MSOnline clients ask AAD Graph for user_impersonation; the grant to
        // Microsoft Graph stands in for it.
        return if dir.granted_graph_scopes(client.sp_id, user).is_empty() {
            Err(consent_missing(client))
        } else {
            Ok(vec!["user_impersonation".to_owned()])
        };
    }
    let granted = dir.granted_graph_scopes(client.sp_id, user);
    if request.default {
        if granted.is_empty() {
            return Err(consent_missing(client));
        }
        return Ok(granted);
    }
    if request.permissions.is_empty() {
        return Err(TokenError::new(
            400,
            "invalid_scope",
            70011,
            "The provided value for the input parameter 'scope' is not valid. The scope must name a permission of a resource, not only OpenID Connect scopes.",
        ));
    }
    for p in &request.permissions {
        if !granted.iter().any(|g| g.eq_ignore_ascii_case(p)) {
            return Err(consent_missing(client));
        }
    }
    Ok(request.permissions.clone())
}

/// What Microsoft pre-authorizes for its own public clients, with no consent
/// in the tenant: `user_impersonation` on ARM, Exchange Online and AAD Graph,
/// and on Microsoft Graph the client's own scope set (`.default`) or any of it
/// by name. `None` leaves the decision to the tenant's consent (a client with
/// no pre-authorized Graph scopes, such as Microsoft Graph PowerShell).
fn first_party_scopes(
    client: &crate::directory::first_party::FirstPartyClient,
    request: &ScopeRequest,
) -> Option<Result<Vec<String>, TokenError>> {
    if request.resource != Resource::Graph {
        if client.graph_scopes.is_empty() && request.resource == Resource::AadGraph {
            return None;
        }
        return Some(Ok(vec!["user_impersonation".to_owned()]));
    }
    if client.graph_scopes.is_empty() {
        return None;
    }
    let known = |p: &String| client.graph_scopes.iter().any(|g| g.eq_ignore_ascii_case(p));
    if request.default || request.permissions.iter().all(known) {
        return Some(Ok(client.graph_scopes.iter().map(|s| (*s).to_owned()).collect()));
    }
    None
}

pub(crate) fn user_failure(code: u32, description: &str) -> TokenError {
    TokenError::new(400, "invalid_grant", code, description.to_owned())
}

/// `grant_type=password`.
pub(crate) fn password_grant(
    req: &TokenRequest<'_>,
    tenant: &Tenant,
    dir: &mut Directory,
    key: &SigningKey,
    now: OffsetDateTime,
) -> Result<Value, TokenError> {
    let client = authenticate_client(req, tenant, dir, now, false)?;
    let username = req.field("username").ok_or_else(|| TokenError::missing("username"))?;
    let password = req.field("password").ok_or_else(|| TokenError::missing("password"))?;
    let scope = req.field("scope").ok_or_else(|| TokenError::missing("scope"))?;
    let request = parse_scope(scope, req.authority)?;
    let user = dir.user_by_upn(username).ok_or_else(|| {
        user_failure(
            50034,
            &format!("The user account {{EUII Hidden}} does not exist in the {} directory. To sign into this application, the account must be added to the directory.", tenant.id),
        )
    })?;
    // A federated user's password lives at its IdP. Entra would try the
    // federation's WS-Trust endpoint (`activeSignInUri`); the mock has none to
    // call, so the password is never valid here, with the answer Entra gives
    // when the federated check fails.
    let federated = dir.federation_for_upn(username).is_some();
    let password_ok = !federated && dir.passwords.get(&user).is_some_and(|h| h.matches(password));
    if !password_ok {
        return Err(user_failure(50126, "Error validating credentials due to invalid username or password."));
    }
    if dir.users[&user].get(&USER, "accountEnabled") == Some(&Value::Bool(false)) {
        return Err(user_failure(50057, "The user account is disabled."));
    }
    let scopes = granted_scopes(dir, &client, user, &request)?;
    respond(req, tenant, dir, key, now, &client, user, request.resource, scopes, &request.oidc, None)
}

/// `grant_type=refresh_token`.
pub(crate) fn refresh_grant(
    req: &TokenRequest<'_>,
    tenant: &Tenant,
    dir: &mut Directory,
    key: &SigningKey,
    now: OffsetDateTime,
) -> Result<Value, TokenError> {
    let client = authenticate_client(req, tenant, dir, now, false)?;
    let token = req.field("refresh_token").ok_or_else(|| TokenError::missing("refresh_token"))?;
    let stored = dir
        .refresh_tokens
        .get(&refresh_key(token))
        .cloned()
        .ok_or_else(|| user_failure(9002313, "Invalid request. Request is malformed or invalid."))?;
    if stored.client != client.app_id {
        return Err(user_failure(70000, "Provided grant is invalid or malformed."));
    }
    if now >= stored.expires {
        return Err(user_failure(
            700082,
            "The refresh token has expired due to inactivity. The token was issued on a date before the inactivity window.",
        ));
    }
    let Some(user_record) = dir.users.get(&stored.user) else {
        return Err(user_failure(50034, "The user account {EUII Hidden} does not exist in the directory."));
    };
    if user_record.get(&USER, "accountEnabled") == Some(&Value::Bool(false)) {
        return Err(user_failure(50057, "The user account is disabled."));
    }
    let request = match req.field("scope") {
        Some(scope) => parse_scope(scope, req.authority)?,
        None => ScopeRequest {
            resource: Resource::from_audience(&stored.resource).unwrap_or(Resource::Graph),
            permissions: stored.scopes.clone(),
            default: false,
            oidc: vec!["offline_access".to_owned()],
        },
    };
    // Consent is checked again: a revoked grant stops refreshes too.
    let scopes = granted_scopes(dir, &client, stored.user, &request)?;
    let mut oidc = request.oidc.clone();
    if !oidc.iter().any(|s| s == "offline_access") {
        oidc.push("offline_access".to_owned());
    }
    respond(req, tenant, dir, key, now, &client, stored.user, request.resource, scopes, &oidc, None)
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn respond(
    req: &TokenRequest<'_>,
    tenant: &Tenant,
    dir: &mut Directory,
    key: &SigningKey,
    now: OffsetDateTime,
    client: &ClientAuth,
    user: Uuid,
    resource: Resource,
    scopes: Vec<String>,
    oidc: &[String],
    nonce: Option<&str>,
) -> Result<Value, TokenError> {
    let record = &dir.users[&user];
    let upn = record.get_str(&USER, "userPrincipalName").unwrap_or_default().to_owned();
    let name = record.get_str(&USER, "displayName").unwrap_or_default().to_owned();
    let iat = now.unix_timestamp();
    // `sub` is pairwise per application, as in real tokens.
    let sub = B64.encode(
        &ring::digest::digest(&ring::digest::SHA256, format!("{user}:{}", client.app_id).as_bytes()).as_ref()[..20],
    );
    let mut claims = AccessClaims {
        scp: Some(scopes.join(" ")),
        wids: dir.role_template_ids_of(user),
        upn: Some(upn.clone()),
        name: Some(name.clone()),
        unique_name: Some(upn.clone()),
        ..super::token::base_claims(tenant, client, resource, now, "user", user, sub)
    };
    crate::realism::identity::lag_claims(tenant, &mut claims, user, client.sp_id);
    let access_token = jwt::sign(key, &claims);
    let mut extra = Map::new();
    let mut shown: Vec<String> = scopes.clone();
    shown.extend(oidc.iter().cloned());
    extra.insert("scope".into(), Value::String(shown.join(" ")));
    if oidc.iter().any(|s| s == "offline_access") {
        let text = B64.encode(crate::ids::secure_bytes::<48>());
        // A clock advanced to the end of time has no window left to give.
        let expires = now.checked_add(REFRESH_LIFETIME).unwrap_or(time::PrimitiveDateTime::MAX.assume_utc());
        let grant = RefreshGrant {
            user,
            client: client.app_id,
            resource: resource.audience().to_owned(),
            scopes: scopes.clone(),
            expires,
        };
        dir.refresh_tokens.insert(refresh_key(&text), grant, now);
        extra.insert("refresh_token".into(), Value::String(text));
    }
    if oidc.iter().any(|s| s == "openid") {
        let id_claims = json!({
            "aud": client.app_id, "iss": format!("{}/{}/v2.0", req.authority, tenant.id), "iat": iat, "nbf": iat,
            "exp": iat + TOKEN_LIFETIME_SECS, "name": name, "oid": user, "preferred_username": upn,
            "sub": claims.sub, "tid": tenant.id, "ver": "2.0",
        });
        let mut id_claims = id_claims;
        if let Some(nonce) = nonce {
            id_claims["nonce"] = Value::String(nonce.to_owned());
        }
        extra.insert("id_token".into(), Value::String(jwt::sign(key, &id_claims)));
    }
    if req.field("client_info") == Some("1") {
        let info = json!({"uid": user, "utid": tenant.id});
        extra.insert("client_info".into(), Value::String(B64.encode(info.to_string())));
    }
    Ok(token_response(access_token, Some(extra)))
}
