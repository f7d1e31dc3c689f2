//! `/{tenant}/oauth2/v2.0/authorize`: the sign-in page, the consent page and
//! the redirect back with a code (or an error), as Entra's authorization code
//! flow does; and the `authorization_code` grant that redeems the code.
//!
//! The pages carry the original request in hidden fields and post back to
//! the same endpoint, so every step re-validates the client and redirect URI
//! from scratch. Errors before the redirect URI is known to be registered are
//! shown on a page, never redirected (an open redirect would let anyone send a
//! user anywhere with the mock's name on it). Pure: the HTTP layer hands over
//! a [`BrowserRequest`] and writes the [`PageResponse`].

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use super::api_scopes::Wanted;
use super::client_auth::{authenticate_client, ClientAuth};
use super::delegated;
use super::session;
use super::token::{ests_timestamp, tenant_not_found, TokenError, TokenRequest};
use crate::directory::applications::APPLICATION;
use crate::directory::catalog::{Catalog, GLOBAL_ADMINISTRATOR_TEMPLATE};
use crate::directory::service_principals::ForeignApp;
use crate::directory::signin::{AuthCode, BrowserSession};
use crate::directory::users::USER;
use crate::directory::Directory;
use crate::html::{self, Html, Slot};
use crate::keys::SigningKey;
use crate::tenant::{Tenant, Tenants};

/// Authorization codes live about ten minutes, as Entra documents.
pub(crate) const CODE_LIFETIME: time::Duration = time::Duration::minutes(10);

const LAYOUT: &str = include_str!("templates/layout.html");
const SIGNIN: &str = include_str!("templates/signin.html");
const ACCOUNT: &str = include_str!("templates/account.html");
const CONSENT: &str = include_str!("templates/consent.html");
const ERROR: &str = include_str!("templates/error.html");
const FORM_POST: &str = include_str!("templates/form_post.html");
pub(crate) const MESSAGE: &str = include_str!("templates/message.html");

/// Parameters the pages add; never carried forward as part of the request.
const PAGE_FIELDS: &[&str] = &[
    "graphbox_step",
    "login",
    "passwd",
    "consent",
    "organization",
    "form_token",
    // A federated IdP's answer and the context it hands back.
    "graphbox_return",
    "graphbox_request",
    "wa",
    "wresult",
    "wctx",
    "SAMLResponse",
    "RelayState",
];

/// One browser request to a sign-in endpoint.
#[derive(Debug)]
pub(crate) struct BrowserRequest<'a> {
    /// The `{tenant}` path segment, as sent.
    pub tenant: &'a str,
    /// Query parameters, then form fields (a POST may carry either).
    pub params: Vec<(String, String)>,
    /// The value of our session cookie, if the browser sent one.
    pub cookie: Option<&'a str>,
    /// `scheme://host:port` the browser used.
    pub authority: &'a str,
    /// Whether the connection is TLS (cookies get `Secure`).
    pub secure: bool,
    pub request_id: Uuid,
    pub correlation_id: String,
}

impl BrowserRequest<'_> {
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// What the browser gets back.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PageBody {
    Html(String),
    /// `302 Found` to this location.
    Redirect(String),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PageResponse {
    pub status: u16,
    pub body: PageBody,
    pub set_cookie: Option<String>,
}

impl PageResponse {
    pub(crate) fn html(status: u16, body: Html) -> Self {
        PageResponse { status, body: PageBody::Html(body.into_string()), set_cookie: None }
    }

    fn with_cookie(mut self, cookie: Option<String>) -> Self {
        if self.set_cookie.is_none() {
            self.set_cookie = cookie;
        }
        self
    }
}

/// A whole page: `body` inside the layout.
pub(crate) fn page(tenant_label: &str, title: &str, body: &Html) -> Html {
    html::render(
        LAYOUT,
        &[("title", Slot::Text(title)), ("tenant", Slot::Text(tenant_label)), ("body", Slot::Markup(body))],
    )
}

/// An AADSTS error shown on a page (never redirected).
pub(crate) fn error_page(e: &TokenError, req: &BrowserRequest<'_>, now: OffsetDateTime) -> PageResponse {
    let code = e.code.to_string();
    let request_id = req.request_id.to_string();
    let timestamp = ests_timestamp(now);
    let body = html::render(
        ERROR,
        &[
            ("heading", Slot::Text("Sorry, but we're having trouble signing you in.")),
            ("message", Slot::Text(&format!("AADSTS{}: {}", e.code, e.description))),
            ("request_id", Slot::Text(&request_id)),
            ("correlation_id", Slot::Text(&req.correlation_id)),
            ("timestamp", Slot::Text(&timestamp)),
            ("code", Slot::Text(&code)),
        ],
    );
    PageResponse::html(e.status, page(req.tenant, "Sign in to your account", &body))
}

/// The registered application a sign-in is for.
#[derive(Debug, Clone)]
pub(crate) struct ClientApp {
    pub app_id: Uuid,
    pub name: String,
    pub sp_id: Option<Uuid>,
    /// `(platform, uri)`: `web`, `spa` or `publicClient`.
    pub redirects: Vec<(&'static str, String)>,
    /// Another tenant's multi-tenant application, copied from its home (this
    /// tenant has at most its service principal).
    pub foreign: Option<ForeignApp>,
}

impl ClientApp {
    /// The Microsoft Graph (application, delegated) permissions its
    /// `requiredResourceAccess` lists: the home application's for another
    /// tenant's application, as Entra's consent shows the publisher's list.
    pub(crate) fn required_graph_permissions(&self, dir: &Directory) -> (Vec<String>, Vec<String>) {
        match &self.foreign {
            Some(f) => crate::directory::signin::required_graph_permissions_of(&f.record),
            None => dir.required_graph_permissions(self.app_id),
        }
    }
}

/// The multi-tenant application `client_id` names when `tenant` does not
/// register it: another tenant's of this server, found through the service
/// principal's `appOwnerOrganizationId` when `tenant` has one, else (first
/// consent, which instantiates it) by its `appId` among the other tenants,
/// lowest tenant id first. Copied under the home tenant's read lock, taken
/// only after `tenant`'s is released: a request never holds two tenants'
/// locks. `None` for a single-tenant application, which Entra shows to no
/// other tenant.
pub(crate) fn foreign_client(tenants: &Tenants, tenant: &Tenant, client_id: Option<&str>) -> Option<ForeignApp> {
    use crate::directory::service_principals::SERVICE_PRINCIPAL;
    let app_id = Uuid::parse_str(client_id?).ok()?;
    let owner = {
        let dir = tenant.read();
        if dir.application_by_app_id(app_id).is_some() {
            return None;
        }
        dir.service_principal_id_by_app_id(app_id).and_then(|sp| {
            dir.service_principals[&sp]
                .get_str(&SERVICE_PRINCIPAL, "appOwnerOrganizationId")
                .and_then(|o| Uuid::parse_str(o).ok())
        })
    };
    let homes: Vec<std::sync::Arc<Tenant>> = match owner {
        Some(owner) => tenants.get(owner).into_iter().collect(),
        None => tenants.all(),
    };
    let found = homes.iter().filter(|t| t.id != tenant.id).find_map(|t| {
        let record = t.read().application_by_app_id(app_id)?.clone();
        Some(ForeignApp { app_id, home_tenant: t.id, record })
    })?;
    found.is_multi_tenant().then_some(found)
}

pub(crate) fn unknown_client(client_id: &str, dir: &Directory) -> TokenError {
    TokenError::new(
        400,
        "unauthorized_client",
        700016,
        format!("Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", dir.display_name),
    )
}

pub(crate) fn load_client(dir: &Directory, client_id: Option<&str>) -> Result<ClientApp, TokenError> {
    load_client_from(dir, client_id, None)
}

/// [`load_client`], or `foreign` (see [`foreign_client`]) when this
/// directory does not register the application.
pub(crate) fn load_client_from(
    dir: &Directory,
    client_id: Option<&str>,
    foreign: Option<ForeignApp>,
) -> Result<ClientApp, TokenError> {
    let client_id = client_id.ok_or_else(|| TokenError::missing("client_id"))?;
    let app_id = Uuid::parse_str(client_id).map_err(|_| unknown_client(client_id, dir))?;
    let foreign = foreign.filter(|f| f.app_id == app_id && dir.application_by_app_id(app_id).is_none());
    let app = dir
        .application_by_app_id(app_id)
        .or(foreign.as_ref().map(|f| &f.record))
        .ok_or_else(|| unknown_client(client_id, dir))?;
    let mut redirects = Vec::new();
    for platform in ["web", "spa", "publicClient"] {
        let uris = app.get(&APPLICATION, platform).and_then(|p| p.get("redirectUris")).and_then(Value::as_array);
        for uri in uris.into_iter().flatten().filter_map(Value::as_str) {
            redirects.push((platform, uri.to_owned()));
        }
    }
    Ok(ClientApp {
        app_id,
        name: app.get_str(&APPLICATION, "displayName").unwrap_or_default().to_owned(),
        sp_id: dir.service_principal_id_by_app_id(app_id),
        redirects,
        foreign,
    })
}

/// Whether `sent` is the registered `registered`. Loopback redirect URIs
/// match on any port, as Entra documents for `http://localhost` (native apps
/// pick a free port at run time); everything else must match exactly.
fn redirect_matches(registered: &str, sent: &str) -> bool {
    if registered == sent {
        return true;
    }
    let loopback = |u: &str| -> Option<(String, String)> {
        let rest = u.strip_prefix("http://")?;
        let (hostport, path) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
        let host = hostport.rsplit_once(':').map_or(hostport, |(h, _)| h);
        matches!(host, "localhost" | "127.0.0.1" | "[::1]").then(|| (host.to_owned(), path.to_owned()))
    };
    matches!((loopback(registered), loopback(sent)), (Some(a), Some(b)) if a == b)
}

fn redirect_mismatch(uri: &str, app: &ClientApp) -> TokenError {
    TokenError::new(
        400,
        "invalid_request",
        50011,
        format!("The redirect URI '{uri}' specified in the request does not match the redirect URIs configured for the application '{}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.", app.app_id),
    )
}

/// The redirect URI a request may be sent back to, and its platform.
pub(crate) fn checked_redirect(app: &ClientApp, sent: Option<&str>) -> Result<(String, &'static str), TokenError> {
    match sent {
        Some(uri) => app
            .redirects
            .iter()
            .find(|(_, r)| redirect_matches(r, uri))
            .map(|(kind, _)| (uri.to_owned(), *kind))
            .ok_or_else(|| redirect_mismatch(uri, app)),
        // Without one, Entra uses the only registered URI, if there is one.
        None => match app.redirects.as_slice() {
            [(kind, only)] => Ok((only.clone(), *kind)),
            [] => Err(TokenError::new(
                400,
                "invalid_request",
                500113,
                "No reply address is registered for the application.",
            )),
            _ => Err(TokenError::missing("redirect_uri")),
        },
    }
}

/// How the answer goes back to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResponseMode {
    Query,
    Fragment,
    FormPost,
}

/// Where and how a flow that started at `/authorize` ends.
#[derive(Debug, Clone)]
pub(crate) struct ReturnTo {
    pub uri: String,
    pub mode: ResponseMode,
    pub state: Option<String>,
}

/// The redirect (or auto-posting page) carrying `pairs` back to the client.
pub(crate) fn send_back(to: &ReturnTo, mut pairs: Vec<(&str, String)>) -> PageResponse {
    if let Some(state) = &to.state {
        pairs.push(("state", state.clone()));
    }
    match to.mode {
        ResponseMode::FormPost => {
            let hidden = html::hidden_fields(pairs.iter().map(|(k, v)| (*k, v.as_str())));
            let body = html::render(FORM_POST, &[("action", Slot::Text(&to.uri)), ("hidden", Slot::Markup(&hidden))]);
            PageResponse::html(200, body)
        }
        mode => {
            let encoded: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={}", form_encode(v))).collect();
            let sep = match mode {
                ResponseMode::Fragment => '#',
                _ if to.uri.contains('?') => '&',
                _ => '?',
            };
            let location = format!("{}{sep}{}", to.uri, encoded.join("&"));
            PageResponse { status: 302, body: PageBody::Redirect(location), set_cookie: None }
        }
    }
}

fn form_encode(v: &str) -> String {
    const SET: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
    percent_encoding::utf8_percent_encode(v, SET).to_string()
}

/// An error sent back to the client's redirect URI, as Entra does once the
/// redirect URI is known to be registered.
pub(crate) fn redirect_error(
    to: &ReturnTo,
    e: &TokenError,
    req: &BrowserRequest<'_>,
    now: OffsetDateTime,
) -> PageResponse {
    let description = format!(
        "AADSTS{}: {}\r\nTrace ID: {}\r\nCorrelation ID: {}\r\nTimestamp: {}",
        e.code,
        e.description,
        req.request_id,
        req.correlation_id,
        ests_timestamp(now)
    );
    send_back(
        to,
        vec![
            ("error", e.error.to_owned()),
            ("error_description", description),
            ("error_uri", format!("https://login.microsoftonline.com/error?code={}", e.code)),
        ],
    )
}

/// The tenant a browser request is for: the path's tenant, or for `common`
/// and `organizations` the tenant that registered the client.
pub(crate) fn browser_tenant(
    tenants: &Tenants,
    segment: &str,
    client_id: Option<&str>,
) -> Result<std::sync::Arc<Tenant>, TokenError> {
    if let Some(t) = tenants.resolve(segment) {
        return Ok(t);
    }
    if super::discovery::MULTI_TENANT_SEGMENTS.contains(&segment) {
        let app_id = client_id.and_then(|c| Uuid::parse_str(c).ok());
        if let Some(t) =
            app_id.and_then(|a| tenants.all().into_iter().find(|t| t.read().application_by_app_id(a).is_some()))
        {
            return Ok(t);
        }
        return Err(TokenError::new(
            400,
            "unauthorized_client",
            700016,
            format!("Application with identifier '{}' was not found in the directory. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", client_id.unwrap_or_default()),
        ));
    }
    Err(tenant_not_found(segment))
}

/// The tenant a sign-in page is for. At `organizations` and `common` that is
/// the signing-in user's, as in Entra: the tenant of the name typed (or
/// hinted), else of the browser's session, else — before anyone is known —
/// the client's home tenant, whose page only asks who signs in.
pub(crate) fn page_tenant(tenants: &Tenants, req: &BrowserRequest<'_>) -> Result<std::sync::Arc<Tenant>, TokenError> {
    if !super::discovery::MULTI_TENANT_SEGMENTS.contains(&req.tenant) || tenants.resolve(req.tenant).is_some() {
        return browser_tenant(tenants, req.tenant, req.param("client_id"));
    }
    let named = [req.param("login"), req.param("login_hint")]
        .into_iter()
        .flatten()
        .filter_map(|name| name.trim().rsplit_once('@').map(|(_, domain)| domain.to_ascii_lowercase()))
        .find_map(|domain| tenants.resolve(&domain));
    if let Some(t) = named {
        return Ok(t);
    }
    if let Some(cookie) = req.cookie {
        // One tenant's lock at a time.
        let signed_in =
            tenants.all().into_iter().find(|t| session_user(&t.read(), Some(cookie), t.clock.now()).is_some());
        if let Some(t) = signed_in {
            return Ok(t);
        }
    }
    browser_tenant(tenants, req.tenant, req.param("client_id"))
}

/// `prompt` values Entra accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Prompt {
    Default,
    Login,
    None,
    Consent,
    SelectAccount,
}

fn parse_prompt(p: Option<&str>) -> Result<Prompt, TokenError> {
    Ok(match p {
        None | Some("") => Prompt::Default,
        Some("login") => Prompt::Login,
        Some("none") => Prompt::None,
        Some("consent") => Prompt::Consent,
        Some("select_account") => Prompt::SelectAccount,
        Some(other) => {
            return Err(TokenError::new(
                400,
                "invalid_request",
                90023,
                format!("Invalid request. The 'prompt' parameter value '{other}' is not supported. Supported values are 'login', 'none', 'consent' and 'select_account'."),
            ))
        }
    })
}

/// The permissions a request needs consent for: for Microsoft Graph what it
/// names, the app's configured permissions for `.default`, and `User.Read`
/// when it names only OpenID Connect scopes (signing in reads the user's
/// profile); for one of the tenant's APIs, the scopes it names.
pub(crate) fn wanted_permissions(dir: &Directory, app: &ClientApp, wanted: &Wanted) -> Vec<String> {
    let request = match wanted {
        Wanted::Api(api) => return api.permissions.clone(),
        Wanted::Graph(r) => r,
    };
    let mut out = if request.default {
        app.required_graph_permissions(dir).1
    } else if request.resource == super::token::Resource::AadGraph {
        Vec::new()
    } else {
        request.permissions.clone()
    };
    if out.is_empty() {
        out.push("User.Read".to_owned());
    }
    out
}

/// The permissions `user` has not yet granted `app` (user or admin grants).
pub(crate) fn missing_consent(dir: &Directory, app: &ClientApp, user: Uuid, wanted: &Wanted) -> Vec<String> {
    let granted = match (app.sp_id, wanted) {
        (None, _) => Vec::new(),
        (Some(sp), Wanted::Graph(_)) => dir.granted_graph_scopes(sp, user),
        (Some(sp), Wanted::Api(api)) => api.sp.map(|r| dir.granted_scopes_on(sp, r, user)).unwrap_or_default(),
    };
    wanted_permissions(dir, app, wanted)
        .into_iter()
        .filter(|w| !granted.iter().any(|g| g.eq_ignore_ascii_case(w)))
        .collect()
}

pub(crate) fn is_global_admin(dir: &Directory, user: Uuid) -> bool {
    dir.role_template_ids_of(user).contains(&GLOBAL_ADMINISTRATOR_TEMPLATE)
}

/// Record consent: the user's own grant, or with `organization` (an
/// administrator's choice) a tenant-wide one. Creates the application's
/// service principal first if the tenant has none, as consent does in Entra.
pub(crate) fn record_consent(
    dir: &mut Directory,
    app: &mut ClientApp,
    user: Uuid,
    permissions: &[String],
    organization: bool,
    resource: Option<Uuid>,
) -> Result<(), TokenError> {
    // The directory refuses a grant only for a permission the resource does
    // not expose (a stale requiredResourceAccess entry): the request's fault.
    let failed = |e: crate::error::ApiError| TokenError::new(400, "invalid_scope", 70011, e.message);
    let sp = match app.sp_id {
        Some(sp) => sp,
        None => {
            // Another tenant's multi-tenant application is instantiated here
            // by this first consent, as Entra creates its service principal.
            let body = serde_json::json!({"appId": app.app_id.to_string()});
            let body = body.as_object().expect("an object literal");
            let sp = dir.instantiate_service_principal(body, app.foreign.as_ref()).map_err(failed)?;
            app.sp_id = Some(sp);
            sp
        }
    };
    let resource = match resource {
        Some(r) => r,
        None => dir
            .graph_service_principal_id()
            .ok_or_else(|| failed(crate::error::ApiError::not_found("Microsoft Graph")))?,
    };
    dir.add_delegated_consent(sp, resource, (!organization).then_some(user), permissions).map_err(failed)
}

/// Why a user cannot consent for themselves (AADSTS90094, Entra's "Need admin
/// approval"): the tenant turned user consent off, or a permission needs an
/// administrator.
pub(crate) fn needs_admin(dir: &Directory, permissions: &[String]) -> bool {
    dir.signin.user_consent_disabled
        || permissions.iter().any(|p| Catalog::get().scope(p).is_some_and(|s| s.admin_consent_required))
}

pub(crate) fn admin_approval_required(app: &ClientApp) -> TokenError {
    TokenError::new(
        403,
        "access_denied",
        90094,
        format!("{} needs permission to access resources in your organization that only an admin can grant. Please ask an admin to grant permission to this app before you can use it.", app.name),
    )
}

/// Check a user name and password from the sign-in form.
pub(crate) fn check_password(
    dir: &Directory,
    tenant: &Tenant,
    login: &str,
    password: &str,
) -> Result<Uuid, TokenError> {
    let user = dir.user_by_upn(login.trim()).ok_or_else(|| {
        delegated::user_failure(
            50034,
            &format!("The user account {{EUII Hidden}} does not exist in the {} directory. To sign into this application, the account must be added to the directory.", tenant.id),
        )
    })?;
    if !dir.passwords.get(&user).is_some_and(|h| h.matches(password)) {
        return Err(delegated::user_failure(
            50126,
            "Error validating credentials due to invalid username or password.",
        ));
    }
    if dir.users[&user].get(&USER, "accountEnabled") == Some(&Value::Bool(false)) {
        return Err(delegated::user_failure(50057, "The user account is disabled."));
    }
    Ok(user)
}

pub(crate) fn upn_of(dir: &Directory, user: Uuid) -> String {
    dir.users.get(&user).and_then(|u| u.get_str(&USER, "userPrincipalName")).unwrap_or_default().to_owned()
}

/// A new browser session for `user`: the cookie value to set.
pub(crate) fn start_session(dir: &mut Directory, user: Uuid, now: OffsetDateTime) -> String {
    let value = session::new_cookie_value();
    let expires = now.checked_add(session::SESSION_LIFETIME).unwrap_or(now);
    dir.signin.insert_session(
        session::hash(&value),
        BrowserSession { user, auth_time: now.unix_timestamp(), expires },
        now,
    );
    value
}

/// The signed-in user behind a cookie, if the session is live.
pub(crate) fn session_user(dir: &Directory, cookie: Option<&str>, now: OffsetDateTime) -> Option<(Uuid, i64)> {
    let s = dir.signin.session(&session::hash(cookie?), now)?;
    dir.users.contains_key(&s.user).then_some((s.user, s.auth_time))
}

/// What the sign-in and consent pages need to render.
pub(crate) struct Form<'a> {
    pub action: &'a str,
    pub carried: &'a [(String, String)],
    pub app_name: &'a str,
}

impl Form<'_> {
    fn hidden(&self, extra: &[(&str, &str)]) -> Html {
        html::hidden_fields(self.carried.iter().map(|(k, v)| (k.as_str(), v.as_str())).chain(extra.iter().copied()))
    }

    /// The sign-in form, with an error from a failed attempt and, for
    /// `select_account`, the signed-in account to continue as.
    pub(crate) fn signin(&self, tenant: &str, login_hint: &str, error: Option<&str>, account: Option<&str>) -> Html {
        let hidden = self.hidden(&[("graphbox_step", "signin")]);
        let account = match account {
            Some(upn) => {
                let pick = self.hidden(&[("graphbox_step", "continue")]);
                html::render(
                    ACCOUNT,
                    &[("action", Slot::Text(self.action)), ("hidden", Slot::Markup(&pick)), ("upn", Slot::Text(upn))],
                )
            }
            None => Html::default(),
        };
        let error = html::paragraph("error", error);
        let body = html::render(
            SIGNIN,
            &[
                ("app", Slot::Text(self.app_name)),
                ("error", Slot::Markup(&error)),
                ("account", Slot::Markup(&account)),
                ("action", Slot::Text(self.action)),
                ("hidden", Slot::Markup(&hidden)),
                ("login_hint", Slot::Text(login_hint)),
            ],
        );
        page(tenant, "Sign in to your account", &body)
    }

    /// The consent form, bound to the session by its anti-forgery value.
    pub(crate) fn consent(&self, tenant: &str, upn: &str, permissions: &[String], cookie: &str, admin: bool) -> Html {
        let token = session::form_token(cookie);
        let hidden = self.hidden(&[("graphbox_step", "consent"), ("form_token", &token)]);
        let shown: Vec<String> = permissions
            .iter()
            .map(|p| match Catalog::get().scope(p) {
                Some(s) => format!("{} ({p})", s.display_name),
                None => p.clone(),
            })
            .collect();
        let list = html::list(shown.iter().map(String::as_str));
        let organization = if admin {
            html::trusted(
                "<p><label><input type=\"checkbox\" name=\"organization\" value=\"true\" id=\"organization\" checked> Consent on behalf of your organization</label></p>",
            )
        } else {
            Html::default()
        };
        let body = html::render(
            CONSENT,
            &[
                ("app", Slot::Text(self.app_name)),
                ("permissions", Slot::Markup(&list)),
                ("upn", Slot::Text(upn)),
                ("action", Slot::Text(self.action)),
                ("hidden", Slot::Markup(&hidden)),
                ("organization", Slot::Markup(&organization)),
            ],
        );
        page(tenant, "Permissions requested", &body)
    }
}

/// The parameters a page carries forward: the request's own, not the page's.
pub(crate) fn carried(params: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, v) in params {
        if !PAGE_FIELDS.contains(&k.as_str()) && !out.iter().any(|(seen, _)| seen == k) {
            out.push((k.clone(), v.clone()));
        }
    }
    out
}

/// Who signs in at this step, or the page to show instead.
pub(crate) enum Identified {
    User {
        user: Uuid,
        auth_time: i64,
        cookie: String,
        set_cookie: Option<String>,
    },
    Show(PageResponse),
    /// Signed in is required but `prompt=none` forbids asking.
    Refuse(TokenError),
}

/// The sign-in part shared by `/authorize` and the device verification page.
pub(crate) fn identify(
    req: &BrowserRequest<'_>,
    tenant: &Tenant,
    dir: &mut Directory,
    form: &Form<'_>,
    prompt: Prompt,
    now: OffsetDateTime,
) -> Identified {
    let step = req.param("graphbox_step");
    let login_hint = req.param("login_hint").unwrap_or_default();
    let current = session_user(dir, req.cookie, now);
    if step == Some("federated") {
        // The IdP's signed answer stands in for the password.
        return match super::idp_response::accept(dir, tenant.id, &req.params, req.authority, now) {
            Ok(user) => {
                let cookie = start_session(dir, user, now);
                let set = session::set_cookie(&cookie, req.secure);
                Identified::User { user, auth_time: now.unix_timestamp(), cookie, set_cookie: Some(set) }
            }
            Err(e) => Identified::Show(error_page(&e, req, now)),
        };
    }
    if step == Some("signin") {
        let login = req.param("login").unwrap_or_default();
        let password = req.param("passwd").unwrap_or_default();
        // A federated domain's users sign in at their IdP, not here.
        if let Some(fed) = dir.federation_for_upn(login.trim()) {
            // Where the IdP's answer continues: this very page (authorize, admin consent or
            // the device code page), named by its path.
            // The request's id goes in the context too (and is the SAML
            // AuthnRequest's ID): the answer must name a sign-in this tenant
            // sent, once.
            let back = form.action.strip_prefix(req.authority).unwrap_or(form.action);
            // At `organizations`/`common` the answer continues in the tenant
            // the user was found in: it holds the open request.
            let back = match back.strip_prefix(&format!("/{}/", req.tenant)) {
                Some(rest) if super::discovery::MULTI_TENANT_SEGMENTS.contains(&req.tenant) => {
                    format!("/{}/{rest}", tenant.id)
                }
                _ => back.to_owned(),
            };
            let request_id = format!("_{}", req.request_id.simple());
            let mut context =
                vec![("graphbox_return".to_owned(), back), ("graphbox_request".to_owned(), request_id.clone())];
            context.extend(carried(&req.params));
            let page =
                super::domain_federation::redirect_to_idp(fed, req.authority, login.trim(), &context, &request_id, now);
            let pending = crate::directory::signin::PendingFederated {
                reply_to: super::domain_federation::login_srf(req.authority),
                expires: now.checked_add(super::idp_response::REQUEST_LIFETIME).unwrap_or(now),
            };
            dir.signin.federated.send(request_id, pending, now);
            return Identified::Show(page);
        }
        return match check_password(dir, tenant, login, password) {
            Ok(user) => {
                let cookie = start_session(dir, user, now);
                let set = session::set_cookie(&cookie, req.secure);
                Identified::User { user, auth_time: now.unix_timestamp(), cookie, set_cookie: Some(set) }
            }
            Err(e) => {
                let shown = match e.code {
                    50126 => "Your account or password is incorrect. If you don't remember your password, reset it now.",
                    50057 => "Your account has been locked. Contact your support person to unlock it, then try again.",
                    _ => "This username may be incorrect. Make sure you typed it correctly. Otherwise, contact your admin.",
                };
                let text = format!("{shown} (AADSTS{})", e.code);
                Identified::Show(PageResponse::html(200, form.signin(req.tenant, login, Some(&text), None)))
            }
        };
    }
    let Some(cookie) = req.cookie.filter(|_| current.is_some()) else {
        if prompt == Prompt::None {
            return Identified::Refuse(TokenError::new(
                400,
                "login_required",
                50058,
                "A silent sign-in request was sent but no user is signed in.",
            ));
        }
        return Identified::Show(PageResponse::html(200, form.signin(req.tenant, login_hint, None, None)));
    };
    let (user, auth_time) = current.expect("checked above");
    let continuing = matches!(step, Some("continue") | Some("consent"));
    match prompt {
        Prompt::Login if !continuing => {
            return Identified::Show(PageResponse::html(200, form.signin(req.tenant, login_hint, None, None)))
        }
        Prompt::SelectAccount if !continuing => {
            let upn = upn_of(dir, user);
            return Identified::Show(PageResponse::html(200, form.signin(req.tenant, login_hint, None, Some(&upn))));
        }
        Prompt::None if !login_hint.is_empty() && !upn_of(dir, user).eq_ignore_ascii_case(login_hint) => {
            return Identified::Refuse(TokenError::new(
                400,
                "interaction_required",
                16000,
                "Either multiple user identities are available for the current request or selected account is not supported for the scenario.",
            ))
        }
        _ => {}
    }
    Identified::User { user, auth_time, cookie: cookie.to_owned(), set_cookie: None }
}

/// Outcome of the consent step.
pub(crate) enum Consent {
    Granted,
    Show(PageResponse),
    Refuse(TokenError),
}

/// The consent part shared by `/authorize` and the device verification page.
#[allow(clippy::too_many_arguments)]
pub(crate) fn consent_step(
    req: &BrowserRequest<'_>,
    dir: &mut Directory,
    form: &Form<'_>,
    app: &mut ClientApp,
    user: Uuid,
    cookie: &str,
    request: &Wanted,
    prompt: Prompt,
    now: OffsetDateTime,
) -> Consent {
    let admin = is_global_admin(dir, user);
    if req.param("graphbox_step") == Some("consent") {
        let sent = req.param("form_token").unwrap_or_default();
        if !session::form_token_ok(cookie, sent) {
            // A post without the session's anti-forgery value: not the form
            // we showed. Entra refuses a replayed or forged consent post.
            return Consent::Refuse(TokenError::new(
                400,
                "invalid_request",
                90015,
                "The consent request is not valid: the form's anti-forgery value does not belong to this session.",
            ));
        }
        if req.param("consent") != Some("accept") {
            return Consent::Refuse(TokenError::new(
                400,
                "access_denied",
                65004,
                "User declined to consent to access the app.",
            ));
        }
        let organization = admin && req.param("organization") == Some("true");
        let wanted = wanted_permissions(dir, app, request);
        if !organization && !admin && needs_admin(dir, &wanted) {
            return Consent::Show(error_page(&admin_approval_required(app), req, now));
        }
        let resource = match request {
            Wanted::Api(api) if api.sp.is_none() => {
                return Consent::Refuse(super::token::unknown_resource(&api.identifier));
            }
            Wanted::Api(api) => api.sp,
            Wanted::Graph(_) => None,
        };
        return match record_consent(dir, app, user, &wanted, organization, resource) {
            Ok(()) => Consent::Granted,
            Err(e) => Consent::Refuse(e),
        };
    }
    let missing = missing_consent(dir, app, user, request);
    let ask = prompt == Prompt::Consent || !missing.is_empty();
    if !ask {
        return Consent::Granted;
    }
    if prompt == Prompt::None {
        return Consent::Refuse(TokenError::new(
            400,
            "consent_required",
            65001,
            format!("The user or administrator has not consented to use the application with ID '{}' named '{}'. Send an interactive authorization request for this user and resource.", app.app_id, app.name),
        ));
    }
    let shown = if missing.is_empty() { wanted_permissions(dir, app, request) } else { missing };
    if !admin && needs_admin(dir, &shown) {
        return Consent::Show(error_page(&admin_approval_required(app), req, now));
    }
    let upn = upn_of(dir, user);
    // The organization box is offered to administrators who asked for it
    // with prompt=consent, as Entra's consent page does.
    let offer_org = admin && prompt == Prompt::Consent;
    Consent::Show(PageResponse::html(200, form.consent(req.tenant, &upn, &shown, cookie, offer_org)))
}

/// Everything `/authorize` checks before it may redirect an error.
struct Checked {
    to: ReturnTo,
    kind: &'static str,
}

/// `GET|POST /{tenant}/oauth2/v2.0/authorize`.
pub(crate) fn authorize(req: &BrowserRequest<'_>, tenants: &Tenants) -> PageResponse {
    let fallback_now = crate::clock::system_now();
    let tenant = match page_tenant(tenants, req) {
        Ok(t) => t,
        Err(e) => return error_page(&e, req, fallback_now),
    };
    let now = tenant.clock.now();
    let foreign = foreign_client(tenants, &tenant, req.param("client_id"));
    let mut dir = tenant.write();
    let mut app = match load_client_from(&dir, req.param("client_id"), foreign) {
        Ok(a) => a,
        Err(e) => return error_page(&e, req, now),
    };
    let checked = match checked_redirect(&app, req.param("redirect_uri")) {
        Ok((uri, kind)) => {
            let mode = match req.param("response_mode") {
                None | Some("query") => Some(ResponseMode::Query),
                Some("fragment") => Some(ResponseMode::Fragment),
                Some("form_post") => Some(ResponseMode::FormPost),
                Some(_) => None,
            };
            let to = ReturnTo {
                uri,
                mode: mode.unwrap_or(ResponseMode::Query),
                state: req.param("state").map(str::to_owned),
            };
            if mode.is_none() {
                let e = TokenError::new(
                    400,
                    "invalid_request",
                    900144,
                    format!("The 'response_mode' parameter value '{}' is not supported. Use 'query', 'fragment' or 'form_post'.", req.param("response_mode").unwrap_or_default()),
                );
                return redirect_error(&to, &e, req, now);
            }
            Checked { to, kind }
        }
        Err(e) => return error_page(&e, req, now),
    };
    let to = &checked.to;
    let fail = |e: TokenError| redirect_error(to, &e, req, now);
    match req.param("response_type") {
        Some("code") => {}
        None => return fail(TokenError::missing("response_type")),
        Some(other) if other.split(' ').all(|t| matches!(t, "code" | "id_token" | "token")) => {
            return fail(TokenError::new(
                400,
                "unsupported_response_type",
                700054,
                format!("response_type '{other}' is not enabled for the application."),
            ))
        }
        Some(other) => {
            return fail(TokenError::new(
                400,
                "unsupported_response_type",
                700054,
                format!("response_type '{other}' is not supported. graphbox serves the authorization code flow: response_type=code."),
            ))
        }
    }
    let Some(scope) = req.param("scope") else { return fail(TokenError::missing("scope")) };
    let request = match Wanted::parse(&dir, scope, req.authority) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let method = req.param("code_challenge_method");
    if req.param("code_challenge").is_some() && !matches!(method, None | Some("S256") | Some("plain")) {
        return fail(TokenError::new(
            400,
            "invalid_request",
            50148,
            format!(
                "The code_challenge_method '{}' is not supported. Use 'S256' or 'plain'.",
                method.unwrap_or_default()
            ),
        ));
    }
    if req.param("code_challenge").is_none() && method.is_some() {
        return fail(TokenError::missing("code_challenge"));
    }
    let prompt = match parse_prompt(req.param("prompt")) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let action = format!("{}/{}/oauth2/v2.0/authorize", req.authority, req.tenant);
    let carried = carried(&req.params);
    let app_name = app.name.clone();
    let form = Form { action: &action, carried: &carried, app_name: &app_name };
    let (user, auth_time, cookie, set_cookie) = match identify(req, &tenant, &mut dir, &form, prompt, now) {
        Identified::User { user, auth_time, cookie, set_cookie } => (user, auth_time, cookie, set_cookie),
        Identified::Show(page) => return page,
        Identified::Refuse(e) => return fail(e),
    };
    match consent_step(req, &mut dir, &form, &mut app, user, &cookie, &request, prompt, now) {
        Consent::Granted => {}
        Consent::Show(page) => return page.with_cookie(set_cookie),
        Consent::Refuse(e) => return fail(e).with_cookie(set_cookie),
    }
    let code = new_code(tenant.id);
    let record = AuthCode {
        client: app.app_id,
        user,
        redirect_uri: to.uri.clone(),
        redirect_kind: checked.kind.to_owned(),
        scope: scope.to_owned(),
        nonce: req.param("nonce").map(str::to_owned),
        code_challenge: req.param("code_challenge").map(str::to_owned),
        code_challenge_method: req.param("code_challenge").map(|_| method.unwrap_or("plain").to_owned()),
        auth_time,
        expires: now.checked_add(CODE_LIFETIME).unwrap_or(now),
        redeemed: false,
    };
    dir.signin.insert_code(session::hash(&code), record, now);
    let session_state = Uuid::from_bytes(
        ring::digest::digest(&ring::digest::SHA256, cookie.as_bytes()).as_ref()[..16].try_into().expect("16 bytes"),
    );
    send_back(to, vec![("code", code), ("session_state", session_state.to_string())]).with_cookie(set_cookie)
}

/// A code names its tenant (so a code taken to another tenant is refused with
/// the right error) and carries 32 random bytes.
fn new_code(tenant: Uuid) -> String {
    let mut bytes = Vec::with_capacity(48);
    bytes.extend_from_slice(tenant.as_bytes());
    bytes.extend_from_slice(&crate::ids::secure_bytes::<32>());
    format!("1.{}", B64.encode(bytes))
}

pub(crate) fn code_tenant(code: &str) -> Option<Uuid> {
    let bytes = B64.decode(code.strip_prefix("1.")?).ok()?;
    (bytes.len() == 48).then(|| Uuid::from_slice(&bytes[..16]).ok()).flatten()
}

fn invalid_grant(code: u32, description: &str) -> TokenError {
    TokenError::new(400, "invalid_grant", code, description.to_owned())
}

/// The client of a code redemption: a public client (a code sent to a `spa`
/// or `publicClient` redirect URI) may come without a credential; a `web`
/// redirect URI's code needs the confidential client's secret or assertion.
fn redeeming_client(
    req: &TokenRequest<'_>,
    tenant: &Tenant,
    dir: &Directory,
    now: OffsetDateTime,
    kind: &str,
) -> Result<ClientAuth, TokenError> {
    let has_credential = req.field("client_secret").is_some()
        || req.field("client_assertion").is_some()
        || req.authorization.is_some_and(|a| a.trim_start().to_ascii_lowercase().starts_with("basic "));
    if kind == "web" || has_credential {
        return authenticate_client(req, tenant, dir, now, false);
    }
    // Another tenant's multi-tenant application: the copy `token::issue` took.
    let home = req.home_app.as_ref().map(|h| ForeignApp {
        app_id: h.app_id,
        home_tenant: h.home_tenant,
        record: h.record.clone(),
    });
    let app = load_client_from(dir, req.field("client_id"), home)?;
    let sp_id = app.sp_id.ok_or_else(|| {
        TokenError::new(
            400,
            "invalid_client",
            7000229,
            format!("The client application {} is missing service principal in the tenant {}. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119", app.app_id, tenant.id),
        )
    })?;
    Ok(ClientAuth { app_id: app.app_id, sp_id, app_name: app.name, acr: "0" })
}

/// `grant_type=authorization_code`.
pub(crate) fn code_grant(
    req: &TokenRequest<'_>,
    tenant: &Tenant,
    dir: &mut Directory,
    key: &SigningKey,
    now: OffsetDateTime,
) -> Result<Value, TokenError> {
    let code = req.field("code").ok_or_else(|| TokenError::missing("code"))?;
    if req.field("client_id").is_none() && req.authorization.is_none() {
        return Err(TokenError::missing("client_id"));
    }
    match code_tenant(code) {
        Some(t) if t != tenant.id => {
            return Err(invalid_grant(
                700005,
                "Provided Authorization Code is intended to use against other tenant, thus rejected.",
            ))
        }
        Some(_) => {}
        None => return Err(invalid_grant(9002313, "Invalid request. Request is malformed or invalid.")),
    }
    let hash = session::hash(code);
    let stored = dir
        .signin
        .codes
        .get(&hash)
        .cloned()
        .ok_or_else(|| invalid_grant(9002313, "Invalid request. Request is malformed or invalid."))?;
    let client = redeeming_client(req, tenant, dir, now, &stored.redirect_kind)?;
    if stored.client != client.app_id {
        return Err(invalid_grant(70000, "Provided grant is invalid or malformed."));
    }
    if stored.redeemed {
        return Err(invalid_grant(
            54005,
            "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
        ));
    }
    if now >= stored.expires {
        return Err(invalid_grant(
            70008,
            "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
        ));
    }
    let redirect = req.field("redirect_uri").ok_or_else(|| TokenError::missing("redirect_uri"))?;
    if redirect != stored.redirect_uri {
        return Err(invalid_grant(
            500112,
            &format!("The reply address '{redirect}' does not match the reply address '{}' provided when requesting Authorization code.", stored.redirect_uri),
        ));
    }
    match (&stored.code_challenge, req.field("code_verifier")) {
        (Some(challenge), Some(verifier)) => {
            let derived = match stored.code_challenge_method.as_deref() {
                Some("S256") => B64.encode(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes())),
                _ => verifier.to_owned(),
            };
            if !crate::ids::constant_time_eq(derived.as_bytes(), challenge.as_bytes()) {
                return Err(invalid_grant(
                    50148,
                    "The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.",
                ));
            }
        }
        (Some(_), None) => return Err(TokenError::missing("code_verifier")),
        (None, _) if stored.redirect_kind == "spa" => {
            return Err(invalid_grant(
                9002325,
                "Proof Key for Code Exchange is required for cross-origin authorization code redemption.",
            ))
        }
        (None, _) => {}
    }
    // One use only, whatever happens next.
    if let Some(c) = dir.signin.codes.get_mut(&hash) {
        c.redeemed = true;
    }
    issue_delegated(req, tenant, dir, key, now, &client, stored.user, &stored.scope, stored.nonce.as_deref())
}

/// The tokens of a delegated sign-in that has been approved (a redeemed code
/// or device code): Graph's through the password grant's path, an API's here.
#[allow(clippy::too_many_arguments)]
pub(crate) fn issue_delegated(
    req: &TokenRequest<'_>,
    tenant: &Tenant,
    dir: &mut Directory,
    key: &SigningKey,
    now: OffsetDateTime,
    client: &ClientAuth,
    user: Uuid,
    scope: &str,
    nonce: Option<&str>,
) -> Result<Value, TokenError> {
    // The user may have been deleted or disabled since signing in.
    match dir.users.get(&user) {
        None => {
            return Err(delegated::user_failure(
                50034,
                "The user account {EUII Hidden} does not exist in the directory. To sign into this application, the account must be added to the directory.",
            ))
        }
        Some(u) if u.get(&USER, "accountEnabled") == Some(&Value::Bool(false)) => {
            return Err(delegated::user_failure(50057, "The user account is disabled."))
        }
        Some(_) => {}
    }
    let mut request = match Wanted::parse(dir, scope, req.authority)? {
        Wanted::Api(api) => {
            return super::api_scopes::respond_api(req, tenant, dir, key, now, client, user, &api, nonce)
        }
        Wanted::Graph(r) => r,
    };
    if request.permissions.is_empty() && !request.default && request.resource != super::token::Resource::AadGraph {
        request.permissions.push("User.Read".to_owned());
    }
    let scopes = delegated::granted_scopes(dir, client, user, &request)?;
    delegated::respond(req, tenant, dir, key, now, client, user, request.resource, scopes, &request.oidc, nonce)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_redirects_match_on_any_port_and_others_exactly() {
        assert!(redirect_matches("http://localhost", "http://localhost:8400"));
        assert!(redirect_matches("http://localhost:1/cb", "http://localhost:8400/cb"));
        assert!(!redirect_matches("http://localhost/cb", "http://localhost:8400/other"));
        assert!(!redirect_matches("https://app.example/cb", "https://app.example/cb/"));
        assert!(!redirect_matches("https://app.example/cb", "https://evil.example/cb"));
    }

    #[test]
    fn a_code_names_its_tenant() {
        let t = Uuid::from_u128(7);
        assert_eq!(code_tenant(&new_code(t)), Some(t));
        assert_eq!(code_tenant("garbage"), None);
    }

    #[test]
    fn query_redirects_encode_values_and_keep_state() {
        let to = ReturnTo { uri: "https://app/cb?x=1".into(), mode: ResponseMode::Query, state: Some("a b&c".into()) };
        let r = send_back(&to, vec![("code", "c/d".into())]);
        assert_eq!(r.body, PageBody::Redirect("https://app/cb?x=1&code=c%2Fd&state=a%20b%26c".into()));
    }

    #[test]
    fn form_post_answers_with_an_escaped_auto_posting_page() {
        let to = ReturnTo { uri: "https://app/cb\"><script>".into(), mode: ResponseMode::FormPost, state: None };
        let r = send_back(&to, vec![("code", "<x>".into())]);
        let PageBody::Html(html) = r.body else { panic!("a page") };
        assert!(html.contains("action=\"https://app/cb&quot;&gt;&lt;script&gt;\""), "{html}");
        assert!(html.contains("value=\"&lt;x&gt;\""), "{html}");
    }

    #[test]
    fn page_fields_are_not_carried_forward() {
        let params = vec![
            ("client_id".to_owned(), "a".to_owned()),
            ("passwd".to_owned(), "secret".to_owned()),
            ("graphbox_step".to_owned(), "signin".to_owned()),
        ];
        assert_eq!(carried(&params), vec![("client_id".to_owned(), "a".to_owned())]);
    }
}
