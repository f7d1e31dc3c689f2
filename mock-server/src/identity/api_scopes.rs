//! Delegated scopes of the tenant's own APIs (`api://{appId}/access_as_user`):
//! an application that exposes `api.oauth2PermissionScopes` and an
//! `identifierUris` entry can be signed in to like Microsoft Graph, and the
//! token it gets (`aud` = the identifier the client asked for) is what a
//! middle tier trades for a Graph token on behalf of its user (identity/obo.rs).
//! Tokens are v1-shaped, as for any API that leaves
//! `accessTokenAcceptedVersion` unset.

use serde_json::{json, Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use super::client_auth::ClientAuth;
use super::delegated::{consent_missing, parse_scope, ScopeRequest};
use super::token::{token_response, TokenError, TokenRequest, TOKEN_LIFETIME_SECS};
use super::{jwt, AccessClaims};
use crate::directory::applications::APPLICATION;
use crate::directory::users::USER;
use crate::directory::Directory;
use crate::keys::SigningKey;
use crate::tenant::Tenant;

const OIDC: &[&str] = &["openid", "profile", "email", "offline_access"];

/// A scope request for one of the tenant's APIs.
#[derive(Debug, Clone)]
pub(crate) struct ApiRequest {
    pub app_id: Uuid,
    pub sp: Option<Uuid>,
    /// The identifier the client used (`api://…`), the token's `aud`.
    pub identifier: String,
    pub permissions: Vec<String>,
    pub oidc: Vec<String>,
}

/// What a `scope` parameter asks for: Microsoft Graph (or AAD Graph), or one of
/// the tenant's APIs.
pub(crate) enum Wanted {
    Graph(ScopeRequest),
    Api(ApiRequest),
}

impl Wanted {
    pub(crate) fn parse(dir: &Directory, scope: &str, authority: &str) -> Result<Wanted, TokenError> {
        let mut api: Option<ApiRequest> = None;
        let mut other = false;
        let mut oidc = Vec::new();
        for item in scope.split(' ').filter(|s| !s.is_empty()) {
            if OIDC.contains(&item) {
                oidc.push(item.to_owned());
                continue;
            }
            let found = item.rsplit_once('/').and_then(|(resource, perm)| Some((find_api(dir, resource)?, perm)));
            match found {
                Some(((app_id, identifier), perm)) => {
                    if api.as_ref().is_some_and(|a| a.app_id != app_id) || other {
                        return Err(more_than_one(scope));
                    }
                    let a = api.get_or_insert_with(|| ApiRequest {
                        app_id,
                        sp: dir.service_principal_id_by_app_id(app_id),
                        identifier,
                        permissions: Vec::new(),
                        oidc: Vec::new(),
                    });
                    if perm == ".default" {
                        a.permissions.extend(exposed(dir, app_id));
                    } else if !exposed(dir, app_id).iter().any(|e| e == perm) {
                        return Err(TokenError::new(
                            400,
                            "invalid_scope",
                            65005,
                            format!("The application asked for scope '{perm}' that doesn't exist on the resource '{app_id}'. Contact the app vendor."),
                        ));
                    } else {
                        a.permissions.push(perm.to_owned());
                    }
                }
                None if api.is_some() => return Err(more_than_one(scope)),
                None => other = true,
            }
        }
        match api {
            Some(mut a) => {
                a.oidc = oidc;
                a.permissions.dedup();
                Ok(Wanted::Api(a))
            }
            None => parse_scope(scope, authority).map(Wanted::Graph),
        }
    }
}

fn more_than_one(scope: &str) -> TokenError {
    TokenError::new(
        400,
        "invalid_scope",
        28000,
        format!("Provided value for the input parameter scope is not valid because it contains more than one resource. Scope {scope} is not valid."),
    )
}

/// The tenant application a resource identifier names: one of its
/// `identifierUris`, or its appId.
pub(crate) fn find_api(dir: &Directory, resource: &str) -> Option<(Uuid, String)> {
    if let Ok(app_id) = Uuid::parse_str(resource) {
        return dir.application_by_app_id(app_id).map(|_| (app_id, resource.to_owned()));
    }
    dir.applications.values().find_map(|app| {
        let uris = app.get(&APPLICATION, "identifierUris").and_then(Value::as_array)?;
        uris.iter().filter_map(Value::as_str).any(|u| u.eq_ignore_ascii_case(resource)).then(|| {
            let app_id = app.get_str(&APPLICATION, "appId").and_then(|s| Uuid::parse_str(s).ok())?;
            Some((app_id, resource.to_owned()))
        })?
    })
}

/// The scope values an application's API exposes.
pub(crate) fn exposed(dir: &Directory, app_id: Uuid) -> Vec<String> {
    let Some(app) = dir.application_by_app_id(app_id) else { return Vec::new() };
    app.get(&APPLICATION, "api")
        .and_then(|a| a.get("oauth2PermissionScopes"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|s| s.get("isEnabled").and_then(Value::as_bool) != Some(false))
        .filter_map(|s| s.get("value").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

/// Issue a token for an API after checking consent again.
#[allow(clippy::too_many_arguments)]
pub(crate) fn respond_api(
    req: &TokenRequest<'_>,
    tenant: &Tenant,
    dir: &Directory,
    key: &SigningKey,
    now: OffsetDateTime,
    client: &ClientAuth,
    user: Uuid,
    api: &ApiRequest,
    nonce: Option<&str>,
) -> Result<Value, TokenError> {
    let granted = api.sp.map(|sp| dir.granted_scopes_on(client.sp_id, sp, user)).unwrap_or_default();
    if api.permissions.is_empty() || !api.permissions.iter().all(|p| granted.iter().any(|g| g == p)) {
        return Err(consent_missing(client));
    }
    let record = &dir.users[&user];
    let upn = record.get_str(&USER, "userPrincipalName").unwrap_or_default().to_owned();
    let name = record.get_str(&USER, "displayName").unwrap_or_default().to_owned();
    let sub = super::userinfo::pairwise_sub(user, client.app_id);
    let claims = AccessClaims {
        aud: api.identifier.clone(),
        scp: Some(api.permissions.join(" ")),
        upn: Some(upn.clone()),
        name: Some(name.clone()),
        unique_name: Some(upn.clone()),
        ..super::token::base_claims(tenant, client, super::token::Resource::Graph, now, "user", user, sub.clone())
    };
    let mut extra = Map::new();
    let mut shown = api.permissions.iter().map(|p| format!("{}/{p}", api.identifier)).collect::<Vec<_>>();
    shown.extend(api.oidc.iter().cloned());
    extra.insert("scope".into(), Value::String(shown.join(" ")));
    if api.oidc.iter().any(|s| s == "openid") {
        let iat = now.unix_timestamp();
        let mut id_claims = json!({
            "aud": client.app_id, "iss": format!("{}/{}/v2.0", req.authority, tenant.id), "iat": iat, "nbf": iat,
            "exp": iat + TOKEN_LIFETIME_SECS, "name": name, "oid": user, "preferred_username": upn,
            "sub": sub, "tid": tenant.id, "ver": "2.0",
        });
        if let Some(nonce) = nonce {
            id_claims["nonce"] = Value::String(nonce.to_owned());
        }
        extra.insert("id_token".into(), Value::String(jwt::sign(key, &id_claims)));
    }
    if req.field("client_info") == Some("1") {
        use base64::Engine;
        let info = json!({"uid": user, "utid": tenant.id});
        extra.insert(
            "client_info".into(),
            Value::String(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(info.to_string())),
        );
    }
    Ok(token_response(jwt::sign(key, &claims), Some(extra)))
}
