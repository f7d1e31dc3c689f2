//! `POST /{tenant}/oauth2/v2.0/token`: the client-credentials grant with a client
//! secret (in the body or as HTTP Basic). Failures use the identity platform's
//! own envelope and AADSTS codes (reference/graph-wire.md §1.1), not Graph's.

use base64::Engine;
use serde_json::{json, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{jwt, AccessClaims, AAD_GRAPH_AUDIENCE, GRAPH_AUDIENCE};
use crate::directory::applications::APPLICATION;
use crate::directory::catalog::MICROSOFT_GRAPH_APP_ID;
use crate::keys::SigningKey;
use std::sync::Arc;

use crate::tenant::{Tenant, Tenants};

/// Access tokens live this long: Entra's typical ~1 h, well over the five
/// minutes MSAL treats as already expired.
pub(crate) const TOKEN_LIFETIME_SECS: i64 = 3599;

/// A token request as the HTTP layer hands it over.
#[derive(Debug)]
pub(crate) struct TokenRequest<'a> {
    /// The `{tenant}` path segment, as sent.
    pub tenant: &'a str,
    pub form: Vec<(String, String)>,
    pub authorization: Option<&'a str>,
    /// `scheme://host:port` the client used, for `https://<host>/.default`.
    pub authority: &'a str,
}

/// An AADSTS failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenError {
    pub status: u16,
    pub error: &'static str,
    pub code: u32,
    pub description: String,
}

impl TokenError {
    fn new(status: u16, error: &'static str, code: u32, description: impl Into<String>) -> Self {
        TokenError { status, error, code, description: description.into() }
    }

    /// The identity platform's error body, with its trace trailer.
    pub(crate) fn body(&self, now: OffsetDateTime, trace_id: Uuid, correlation_id: &str) -> Value {
        let t = now.to_offset(time::UtcOffset::UTC);
        let timestamp = format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        );
        json!({
            "error": self.error,
            "error_description": format!(
                "AADSTS{}: {}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}",
                self.code, self.description
            ),
            "error_codes": [self.code],
            "timestamp": timestamp,
            "trace_id": trace_id.to_string(),
            "correlation_id": correlation_id,
            "error_uri": format!("https://login.microsoftonline.com/error?code={}", self.code),
        })
    }
}

/// AADSTS90002, also used by discovery for an unknown tenant.
pub(crate) fn tenant_not_found(tenant: &str) -> TokenError {
    if tenant == "00000000-0000-0000-0000-000000000000" {
        return TokenError::new(
            400,
            "invalid_request",
            90002,
            format!(
                "Requested tenant identifier '{tenant}' is not valid. Tenant identifiers may not be an empty GUID."
            ),
        );
    }
    TokenError::new(
        400,
        "invalid_tenant",
        90002,
        format!("Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."),
    )
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Which resource a client-credentials `scope` names, as the audience to issue.
fn audience_for_scope(scope: &str, authority: &str) -> Result<&'static str, TokenError> {
    let scope = scope.trim();
    let invalid = || {
        TokenError::new(
            400,
            "invalid_scope",
            1002012,
            format!("The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."),
        )
    };
    if scope.contains(' ') {
        return Err(invalid());
    }
    let Some(resource) = scope.strip_suffix("/.default") else {
        return Err(invalid());
    };
    let resource = resource.trim_end_matches('/');
    if resource.eq_ignore_ascii_case(GRAPH_AUDIENCE)
        || resource.eq_ignore_ascii_case(&MICROSOFT_GRAPH_APP_ID.to_string())
        // msgraph-sdk asks for https://<host>/.default when a caller forgets
        // scopes (reference/clients.md, item 12).
        || resource.eq_ignore_ascii_case(authority)
    {
        return Ok(GRAPH_AUDIENCE);
    }
    if resource.eq_ignore_ascii_case(AAD_GRAPH_AUDIENCE) || resource == "00000002-0000-0000-c000-000000000000" {
        return Ok(AAD_GRAPH_AUDIENCE);
    }
    Err(TokenError::new(
        400,
        "invalid_resource",
        500011,
        format!("The resource principal named {resource} was not found in the tenant. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant."),
    ))
}

/// A refusal, with the tenant when it was known (its clock dates the error and
/// its log records the attempt).
pub(crate) type TokenFailure = (TokenError, Option<Arc<Tenant>>);

/// Handle a token request: the token response body and the tenant it is for.
pub(crate) fn issue(
    req: &TokenRequest<'_>,
    tenants: &Tenants,
    key: &SigningKey,
) -> Result<(Value, Arc<Tenant>), TokenFailure> {
    let tenant = tenants.resolve(req.tenant).ok_or_else(|| (tenant_not_found(req.tenant), None))?;
    let fail = |e: TokenError| (e, Some(tenant.clone()));

    let grant = field(&req.form, "grant_type").ok_or_else(|| {
        fail(TokenError::new(
            400,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'grant_type'.",
        ))
    })?;
    if grant != "client_credentials" {
        return Err(fail(TokenError::new(
            400,
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{grant}'."),
        )));
    }

    // The secret may come in the body or as HTTP Basic (client_secret_basic).
    let basic = req.authorization.and_then(|h| {
        let (scheme, rest) = h.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = base64::engine::general_purpose::STANDARD.decode(rest.trim()).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (id, secret) = text.split_once(':')?;
        let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
        Some((decode(id), decode(secret)))
    });
    let client_id = field(&req.form, "client_id").map(str::to_owned).or_else(|| basic.as_ref().map(|b| b.0.clone()));
    let Some(client_id) = client_id else {
        return Err(fail(TokenError::new(
            400,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        )));
    };
    let scope = field(&req.form, "scope").ok_or_else(|| {
        fail(TokenError::new(
            400,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'scope'.",
        ))
    })?;

    let now = tenant.clock.now();
    let dir = tenant.read();
    let unknown_client = || {
        TokenError::new(
            400,
            "unauthorized_client",
            700016,
            format!("Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", dir.display_name),
        )
    };
    let app_id = Uuid::parse_str(&client_id).map_err(|_| fail(unknown_client()))?;
    let app = dir.application_by_app_id(app_id).ok_or_else(|| fail(unknown_client()))?;
    let app_name = app.get_str(&APPLICATION, "displayName").unwrap_or_default().to_owned();
    let sp = dir.service_principal_id_by_app_id(app_id).ok_or_else(|| fail(unknown_client()))?;

    let secret = field(&req.form, "client_secret").map(str::to_owned).or_else(|| basic.map(|b| b.1));
    let Some(secret) = secret else {
        if field(&req.form, "client_assertion").is_some() {
            return Err(fail(TokenError::new(
                401,
                "invalid_client",
                700027,
                "Client assertion contains an invalid signature. [Reason - The key was not found.]",
            )));
        }
        return Err(fail(TokenError::new(
            400,
            "invalid_request",
            7000216,
            "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
        )));
    };
    let matching: Vec<_> = dir.secrets_of(app_id).iter().filter(|s| s.hash.matches(&secret)).collect();
    if matching.is_empty() {
        return Err(fail(TokenError::new(
            401,
            "invalid_client",
            7000215,
            format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{app_id}'."),
        )));
    }
    if !matching.iter().any(|s| s.start <= now && now < s.end) {
        return Err(fail(TokenError::new(
            401,
            "invalid_client",
            7000222,
            format!("The provided client secret keys for app '{app_id}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds."),
        )));
    }
    let audience = audience_for_scope(scope, req.authority).map_err(fail)?;

    let iat = now.unix_timestamp();
    let claims = AccessClaims {
        aud: audience.to_owned(),
        iss: format!("https://sts.windows.net/{}/", tenant.id),
        iat,
        nbf: iat,
        exp: iat + TOKEN_LIFETIME_SECS,
        aio: "E2RgYGhpZ2Jib3gtbW9jaw==".to_owned(),
        app_displayname: app_name,
        appid: app_id,
        appidacr: "1".to_owned(),
        idp: format!("https://sts.windows.net/{}/", tenant.id),
        idtyp: "app".to_owned(),
        oid: sp,
        rh: "0.graphbox".to_owned(),
        // Roles are fixed at issue time: a grant made later reaches only tokens
        // issued after it (graph-wire.md §9.1).
        roles: if audience == GRAPH_AUDIENCE { dir.graph_roles_of(sp) } else { Vec::new() },
        scp: None,
        sub: sp,
        tid: tenant.id,
        uti: {
            use base64::engine::general_purpose::URL_SAFE_NO_PAD;
            URL_SAFE_NO_PAD.encode(crate::ids::secure_bytes::<16>())
        },
        ver: "1.0".to_owned(),
        wids: dir.role_template_ids_of(sp),
        upn: None,
    };
    drop(dir);
    let token = jwt::sign(key, &claims);
    Ok((
        json!({
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME_SECS,
            "ext_expires_in": TOKEN_LIFETIME_SECS,
            "access_token": token,
        }),
        tenant,
    ))
}
