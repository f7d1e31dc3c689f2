//! `POST /{tenant}/oauth2/v2.0/token`: client credentials (secret or
//! certificate assertion), resource-owner password and refresh token grants.
//! Failures use the identity platform's own envelope and AADSTS codes,
//! never Graph's.

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde_json::{json, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use super::client_auth::{authenticate_client, ClientAuth};
use super::{jwt, AccessClaims, AAD_GRAPH_AUDIENCE, GRAPH_AUDIENCE};
use crate::directory::catalog::MICROSOFT_GRAPH_APP_ID;
use crate::directory::Directory;
use crate::keys::SigningKey;
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
    /// `scheme://host:port` the client used.
    pub authority: &'a str,
    /// The client's application when another tenant of the server registered
    /// it (a multi-tenant app instantiated here): filled in by [`issue`].
    pub home_app: Option<HomeApp>,
}

/// A multi-tenant application registered in another tenant of the server,
/// copied under that tenant's read lock before this tenant's lock is taken
/// (no request ever holds two tenants' locks): what client authentication
/// needs from it — its record (certificates, public-client setting) and
/// secrets.
#[derive(Debug, Clone)]
pub(crate) struct HomeApp {
    pub app_id: Uuid,
    pub home_tenant: Uuid,
    pub record: crate::directory::record::Record,
    pub secrets: Vec<crate::directory::applications::StoredSecret>,
    /// Its workload-identity federated credentials, and the keys the home
    /// tenant registered for their issuers.
    pub federated: Vec<crate::directory::record::Record>,
    pub issuers: std::collections::BTreeMap<String, crate::directory::signin::ExternalIssuer>,
}

impl TokenRequest<'_> {
    pub(crate) fn field(&self, name: &str) -> Option<&str> {
        self.form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
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
    pub(crate) fn new(status: u16, error: &'static str, code: u32, description: impl Into<String>) -> Self {
        TokenError { status, error, code, description: description.into() }
    }

    pub(crate) fn missing(parameter: &str) -> Self {
        TokenError::new(
            400,
            "invalid_request",
            900144,
            format!("The request body must contain the following parameter: '{parameter}'."),
        )
    }

    /// The identity platform's error body, with its trace trailer.
    pub(crate) fn body(&self, now: OffsetDateTime, trace_id: Uuid, correlation_id: &str) -> Value {
        let timestamp = ests_timestamp(now);
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

/// `2026-03-02 10:15:44Z`: the identity platform's timestamp format.
pub(crate) fn ests_timestamp(t: OffsetDateTime) -> String {
    crate::clock::format_datetime(t).replacen('T', " ", 1)
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

/// The resource a scope names: Microsoft Graph or the retired AAD Graph that
/// MSOnline clients still ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resource {
    Graph,
    AadGraph,
    /// Azure Resource Manager (Windows Azure Service Management API), which
    /// `az login` asks for first. graphbox issues its tokens; it serves no ARM API.
    Arm,
    /// Office 365 Exchange Online: tokens only, as for ARM.
    ExchangeOnline,
}

/// ARM's app id and its two resource URIs.
const ARM_APP_ID: &str = "797f4846-ba00-4fd7-ba43-dac1f8f63013";
const ARM_AUDIENCE: &str = "https://management.core.windows.net/";
const ARM_ALTERNATIVE: &str = "https://management.azure.com";
const EXCHANGE_APP_ID: &str = "00000002-0000-0ff1-ce00-000000000000";
const EXCHANGE_AUDIENCE: &str = "https://outlook.office365.com";

/// A resource URI as Entra compares it: no trailing slashes, and an `https`
/// URI's default port `:443` dropped (`https://host:443` is `https://host`).
fn normalised(uri: &str) -> std::borrow::Cow<'_, str> {
    let uri = uri.trim_end_matches('/');
    let Some(rest) = uri.get(..8).filter(|s| s.eq_ignore_ascii_case("https://")).map(|_| &uri[8..]) else {
        return uri.into();
    };
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match host.strip_suffix(":443") {
        Some(bare) => format!("https://{bare}{path}").into(),
        None => uri.into(),
    }
}

impl Resource {
    pub(crate) fn audience(self) -> &'static str {
        match self {
            Resource::Graph => GRAPH_AUDIENCE,
            Resource::AadGraph => AAD_GRAPH_AUDIENCE,
            // v1 tokens for ARM carry the classic URI, whichever was asked for
            // (a guess: both are ARM's identifiers and ARM accepts either).
            Resource::Arm => ARM_AUDIENCE,
            Resource::ExchangeOnline => EXCHANGE_AUDIENCE,
        }
    }

    /// The resource a token's (or a stored grant's) audience names.
    pub(crate) fn from_audience(audience: &str) -> Option<Resource> {
        [Resource::Graph, Resource::AadGraph, Resource::Arm, Resource::ExchangeOnline]
            .into_iter()
            .find(|r| r.audience() == audience)
    }

    /// Parse a resource identifier (the part of a scope before the permission).
    pub(crate) fn parse(resource: &str, authority: &str) -> Option<Resource> {
        let resource = &*normalised(resource);
        let authority = &*normalised(authority);
        if resource.eq_ignore_ascii_case(normalised(ARM_AUDIENCE).as_ref())
            || resource.eq_ignore_ascii_case(ARM_ALTERNATIVE)
            || resource == ARM_APP_ID
        {
            return Some(Resource::Arm);
        }
        if resource.eq_ignore_ascii_case(EXCHANGE_AUDIENCE) || resource == EXCHANGE_APP_ID {
            return Some(Resource::ExchangeOnline);
        }
        if resource.eq_ignore_ascii_case(GRAPH_AUDIENCE)
            || resource.eq_ignore_ascii_case(&MICROSOFT_GRAPH_APP_ID.to_string())
            // msgraph-sdk asks for https://<host>/.default when a caller forgets
            // scopes.
            || resource.eq_ignore_ascii_case(authority)
        {
            Some(Resource::Graph)
        } else if resource.eq_ignore_ascii_case(AAD_GRAPH_AUDIENCE)
            || resource == "00000002-0000-0000-c000-000000000000"
        {
            Some(Resource::AadGraph)
        } else {
            None
        }
    }
}

pub(crate) fn unknown_resource(resource: &str) -> TokenError {
    TokenError::new(
        400,
        "invalid_resource",
        500011,
        format!("The resource principal named {resource} was not found in the tenant. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant."),
    )
}

/// Which resource a client-credentials `scope` names.
fn resource_for_client_credentials(scope: &str, authority: &str) -> Result<Resource, TokenError> {
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
    let resource = scope.strip_suffix("/.default").ok_or_else(invalid)?;
    Resource::parse(resource, authority).ok_or_else(|| unknown_resource(resource))
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
    let tenant = match tenants.resolve(req.tenant) {
        Some(t) => t,
        None if super::discovery::MULTI_TENANT_SEGMENTS.contains(&req.tenant) => home_tenant(req, tenants)?,
        None => return Err((tenant_not_found(req.tenant), None)),
    };
    let with_home;
    let req = match home_app(req, &tenant, tenants) {
        Some(home) => {
            with_home = TokenRequest {
                tenant: req.tenant,
                form: req.form.clone(),
                authorization: req.authorization,
                authority: req.authority,
                home_app: Some(home),
            };
            &with_home
        }
        None => req,
    };
    let result = issue_for(req, &tenant, key);
    result.map(|body| (body, tenant.clone())).map_err(|e| (e, Some(tenant)))
}

/// The client's application in its home tenant when `tenant` has only its
/// service principal: the app is multi-tenant and was instantiated here
/// (`appOwnerOrganizationId` names another tenant of this server). Credentials
/// live on the application, so they are checked against the home copy; roles
/// and consent come from this tenant, as in Entra.
fn home_app(req: &TokenRequest<'_>, tenant: &Tenant, tenants: &Tenants) -> Option<HomeApp> {
    use crate::directory::applications::APPLICATION;
    use crate::directory::service_principals::{MULTI_TENANT_AUDIENCES, SERVICE_PRINCIPAL};
    let client_id = req.field("client_id").map(str::to_owned).or_else(|| super::client_auth::basic_client_id(req))?;
    let app_id = Uuid::parse_str(&client_id).ok()?;
    let owner = {
        let dir = tenant.read();
        if dir.application_by_app_id(app_id).is_some() {
            return None;
        }
        let sp = dir.service_principal_id_by_app_id(app_id)?;
        let owner = dir.service_principals[&sp].get_str(&SERVICE_PRINCIPAL, "appOwnerOrganizationId")?;
        Uuid::parse_str(owner).ok().filter(|o| *o != tenant.id)?
    };
    let home = tenants.get(owner)?;
    let dir = home.read();
    let record = dir.application_by_app_id(app_id)?;
    // An application made single-tenant after it was instantiated elsewhere
    // signs in nowhere but home.
    if !record.get_str(&APPLICATION, "signInAudience").is_some_and(|a| MULTI_TENANT_AUDIENCES.contains(&a)) {
        return None;
    }
    // The application's own secrets: its home service principal's stay home.
    let secrets = dir.application_secrets(app_id).to_vec();
    let federated = dir
        .find_application(&app_id.to_string(), true)
        .map(|a| dir.federated_credentials_of(a).to_vec())
        .unwrap_or_default();
    let fic = &crate::directory::federated_credentials::FEDERATED_CREDENTIAL;
    let issuers = dir
        .signin
        .issuers
        .iter()
        .filter(|(issuer, _)| federated.iter().any(|r| r.get_str(fic, "issuer") == Some(issuer.as_str())))
        .map(|(issuer, keys)| (issuer.clone(), keys.clone()))
        .collect();
    Some(HomeApp { app_id, home_tenant: owner, record: record.clone(), secrets, federated, issuers })
}

/// The tenant a `common`/`organizations` request is for: the signing-in user's
/// domain for the password grant, else the tenant that registered the client,
/// which must then be multi-tenant (Entra refuses single-tenant apps there).
fn home_tenant(req: &TokenRequest<'_>, tenants: &Tenants) -> Result<Arc<Tenant>, TokenFailure> {
    if let Some(username) = req.field("username") {
        let domain = username.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
        return tenants.resolve(domain).ok_or_else(|| {
            (
                TokenError::new(
                    400,
                    "invalid_grant",
                    50034,
                    "The user account {EUII Hidden} does not exist in the directory. To sign into this application, the account must be added to the directory.",
                ),
                None,
            )
        });
    }
    // A refresh token names its tenant (Entra's are bound to the tenant that
    // issued them): Azure CLI redeems the one its password sign-in got at
    // `organizations` again.
    if req.field("grant_type") == Some("refresh_token") {
        let key = super::delegated::refresh_key(req.field("refresh_token").unwrap_or_default());
        return tenants.all().into_iter().find(|t| t.read().refresh_tokens.get(&key).is_some()).ok_or_else(|| {
            (super::delegated::user_failure(9002313, "Invalid request. Request is malformed or invalid."), None)
        });
    }
    // A code names the tenant it was issued in: the signed-in user's, which
    // for another tenant's multi-tenant application is not the app's home.
    if req.field("grant_type") == Some("authorization_code") {
        if let Some(t) = req.field("code").and_then(super::authorize::code_tenant).and_then(|id| tenants.get(id)) {
            return Ok(t);
        }
    }
    let client_id = req.field("client_id").and_then(|c| Uuid::parse_str(c).ok());
    let home = client_id.and_then(|app_id| {
        tenants.all().into_iter().find(|t| t.read().application_by_app_id(app_id).is_some()).map(|t| (app_id, t))
    });
    let Some((app_id, tenant)) = home else {
        return Err((
            TokenError::new(
                400,
                "unauthorized_client",
                700016,
                format!("Application with identifier '{}' was not found in the directory. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", req.field("client_id").unwrap_or_default()),
            ),
            None,
        ));
    };
    let (name, single) = {
        let dir = tenant.read();
        let app = dir.application_by_app_id(app_id).expect("found above");
        let name =
            app.get_str(&crate::directory::applications::APPLICATION, "displayName").unwrap_or_default().to_owned();
        let audience =
            app.get_str(&crate::directory::applications::APPLICATION, "signInAudience").unwrap_or_default().to_owned();
        (name, audience == "AzureADMyOrg")
    };
    if single {
        return Err((
            TokenError::new(
                400,
                "invalid_request",
                50194,
                format!("Application '{app_id}'({name}) is not configured as a multi-tenant application. Usage of the /common endpoint is not supported for such applications created after '10/15/2018'. Use a tenant-specific endpoint or configure the application to be multi-tenant."),
            ),
            Some(tenant),
        ));
    }
    Ok(tenant)
}

fn issue_for(req: &TokenRequest<'_>, tenant: &Tenant, key: &SigningKey) -> Result<Value, TokenError> {
    let grant = req.field("grant_type").ok_or_else(|| TokenError::missing("grant_type"))?;
    if !matches!(grant, "client_credentials" | "password" | "refresh_token" | "authorization_code")
        && grant != super::device_code::GRANT_TYPE
        && grant != super::obo::GRANT_TYPE
    {
        return Err(TokenError::new(
            400,
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{grant}'."),
        ));
    }
    // A replica that has not seen the client's new application or credential
    // answers first (realism; off by default: one atomic load).
    if let Some(refused) = crate::realism::identity::refusal(req, tenant) {
        return Err(refused);
    }
    let now = tenant.clock.now();
    match grant {
        "client_credentials" => {
            let dir = tenant.read();
            let client = authenticate_client(req, tenant, &dir, now, true)?;
            let scope = req.field("scope").ok_or_else(|| TokenError::missing("scope"))?;
            let resource = resource_for_client_credentials(scope, req.authority)?;
            let mut claims = app_claims(tenant, &dir, &client, resource, now);
            drop(dir);
            crate::realism::identity::lag_claims(tenant, &mut claims, client.sp_id, client.sp_id);
            Ok(token_response(jwt::sign(key, &claims), None))
        }
        "password" => {
            let mut dir = tenant.write();
            super::delegated::password_grant(req, tenant, &mut dir, key, now)
        }
        // Sign-in flows (identity/authorize.rs and neighbours).
        "authorization_code" => super::authorize::code_grant(req, tenant, &mut tenant.write(), key, now),
        super::device_code::GRANT_TYPE => {
            super::device_code::device_code_grant(req, tenant, &mut tenant.write(), key, now)
        }
        super::obo::GRANT_TYPE => super::obo::obo_grant(req, tenant, &mut tenant.write(), key, now),
        _ => {
            let mut dir = tenant.write();
            super::delegated::refresh_grant(req, tenant, &mut dir, key, now)
        }
    }
}

/// The claims of an app-only token: roles fixed at issue time, so a grant made
/// later reaches only tokens issued after it.
fn app_claims(
    tenant: &Tenant,
    dir: &Directory,
    client: &ClientAuth,
    resource: Resource,
    now: OffsetDateTime,
) -> AccessClaims {
    AccessClaims {
        roles: if resource == Resource::Graph { dir.graph_roles_of(client.sp_id) } else { Vec::new() },
        wids: dir.role_template_ids_of(client.sp_id),
        ..base_claims(tenant, client, resource, now, "app", client.sp_id, client.sp_id.to_string())
    }
}

/// What every token the mock issues carries: v1-shaped Graph claims
/// for `oid` acting through `client`.
pub(crate) fn base_claims(
    tenant: &Tenant,
    client: &ClientAuth,
    resource: Resource,
    now: OffsetDateTime,
    idtyp: &str,
    oid: Uuid,
    sub: String,
) -> AccessClaims {
    let iat = now.unix_timestamp();
    let issuer = format!("https://sts.windows.net/{}/", tenant.id);
    AccessClaims {
        aud: resource.audience().to_owned(),
        iss: issuer.clone(),
        iat,
        nbf: iat,
        exp: iat + TOKEN_LIFETIME_SECS,
        aio: "E2RgYGhpZ2Jib3gtbW9jaw==".to_owned(),
        app_displayname: client.app_name.clone(),
        appid: client.app_id,
        appidacr: client.acr.to_owned(),
        idp: issuer,
        idtyp: idtyp.to_owned(),
        oid,
        rh: "0.graphbox".to_owned(),
        roles: Vec::new(),
        scp: None,
        sub,
        tid: tenant.id,
        uti: token_id(),
        ver: "1.0".to_owned(),
        wids: Vec::new(),
        upn: None,
        name: None,
        unique_name: None,
    }
}

/// `uti`: a unique token id, not guessable.
pub(crate) fn token_id() -> String {
    B64.encode(crate::ids::secure_bytes::<16>())
}

pub(crate) fn token_response(access_token: String, extra: Option<serde_json::Map<String, Value>>) -> Value {
    let mut body = serde_json::Map::new();
    body.insert("token_type".into(), json!("Bearer"));
    if let Some(extra) = &extra {
        if let Some(scope) = extra.get("scope") {
            body.insert("scope".into(), scope.clone());
        }
    }
    body.insert("expires_in".into(), json!(TOKEN_LIFETIME_SECS));
    body.insert("ext_expires_in".into(), json!(TOKEN_LIFETIME_SECS));
    body.insert("access_token".into(), Value::String(access_token));
    if let Some(extra) = extra {
        for (k, v) in extra {
            if k != "scope" {
                body.insert(k, v);
            }
        }
    }
    Value::Object(body)
}

#[cfg(test)]
mod resource_tests {
    use super::*;

    #[test]
    fn a_resource_with_its_default_port_is_the_same_resource() {
        let authority = "https://127.0.0.1:5443";
        assert_eq!(Resource::parse("https://graph.microsoft.com:443", authority), Some(Resource::Graph));
        assert_eq!(Resource::parse("https://graph.microsoft.com:443/", authority), Some(Resource::Graph));
        assert_eq!(Resource::parse("https://127.0.0.1:5443/", authority), Some(Resource::Graph));
        assert_eq!(Resource::parse("https://graph.microsoft.com:8443", authority), None, "another port is another URI");
        assert_eq!(normalised("https://host:443/path"), "https://host/path");
        assert_eq!(normalised("http://host:443"), "http://host:443", "443 is only https's default");
    }

    #[test]
    fn arm_and_exchange_are_known_by_every_identifier() {
        let authority = "https://127.0.0.1:5443";
        for uri in ["https://management.core.windows.net/", "https://management.azure.com/", ARM_APP_ID] {
            assert_eq!(Resource::parse(uri, authority), Some(Resource::Arm), "{uri}");
        }
        assert_eq!(Resource::parse("https://outlook.office365.com", authority), Some(Resource::ExchangeOnline));
        assert_eq!(Resource::from_audience(Resource::Arm.audience()), Some(Resource::Arm));
    }
}
