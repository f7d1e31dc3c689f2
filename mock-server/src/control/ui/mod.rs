//! The dashboard at `<control_url>/ui`: pages for a person at a browser over
//! the same tenant state the control API serves.
//!
//! Access: the control API's rule (a loopback peer addressing the server by
//! one of its names, or the admin key). A browser cannot send the key as a
//! header, so when the server has one, `/ui/login` takes it once in a form and
//! sets a session cookie (`HttpOnly; SameSite=Strict`, path `/_graphbox/ui`)
//! derived from the key with a per-process secret; the cookie opens the
//! dashboard only, never the JSON control API (which has no anti-forgery token).
//!
//! Every state-changing request (`POST`) must carry the anti-forgery value the
//! pages embed (a per-process random value), and is refused when `Origin` names
//! another origin or `Sec-Fetch-Site` is not `same-origin`. Pages are templates
//! filled by the crate's `html.rs`, which escapes every value; a Content-Security-Policy
//! allows scripts from the server only. Nothing here shows a secret's value:
//! applications show their secrets' hints and expiry, as Graph does.

use std::sync::OnceLock;

use bytes::Bytes;
use http::{Method, Response};
use http_body_util::Full;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::directory::applications::APPLICATION;
use crate::directory::consent::OAUTH2_PERMISSION_GRANT;
use crate::directory::groups::GROUP;
use crate::directory::record::Projection;
use crate::directory::service_principals::SERVICE_PRINCIPAL;
use crate::directory::users::USER;
use crate::directory::Directory;
use crate::service::response::Body;
use crate::service::{Inbound, Server};
use crate::tenant::Tenant;

use crate::html::{render, Html, Slot};

const BASE: &str = "/_graphbox";
const COOKIE: &str = "graphbox_ui";

/// How many objects of each kind a page lists: a seeded tenant can hold a million users, and
/// the page is for a person (the control API and Graph serve the rest).
const LIST_LIMIT: usize = 500;

/// How long the live log's browser waits before asking for newer entries.
const LOG_RETRY_MS: u32 = 1000;

/// A per-process secret: the anti-forgery value and session cookies derive from it.
fn secret() -> &'static ring::hmac::Key {
    static KEY: OnceLock<ring::hmac::Key> = OnceLock::new();
    KEY.get_or_init(|| ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &crate::ids::secure_bytes::<32>()))
}

fn derive(label: &[u8]) -> String {
    let tag = ring::hmac::sign(secret(), label);
    tag.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn csrf_token() -> String {
    derive(b"graphbox-ui-csrf")
}

fn session_value(admin_key: &str) -> String {
    derive(format!("graphbox-ui-session\0{admin_key}").as_bytes())
}

/// Whether the browser holds the session cookie for this server's admin key.
pub(crate) fn has_session(server: &Server, req: &Inbound) -> bool {
    let Some(key) = server.admin_key.as_deref().filter(|k| !k.is_empty()) else { return false };
    let expected = session_value(key);
    req.headers.get_all(http::header::COOKIE).iter().filter_map(|v| v.to_str().ok()).any(|cookies| {
        cookies
            .split(';')
            .filter_map(|c| c.trim().split_once('='))
            .any(|(name, value)| name == COOKIE && crate::ids::constant_time_eq(value.as_bytes(), expected.as_bytes()))
    })
}

/// Whether `segments` (after `_graphbox`) is the login page, which a browser
/// reaches before it has a session.
pub(crate) fn is_login(segments: &[&str]) -> bool {
    segments == ["ui", "login"]
}

pub(crate) fn handle(server: &Server, req: &Inbound, rest: &[&str]) -> Response<Body> {
    if req.method == Method::POST {
        if let Err(refusal) = same_origin(req) {
            return page_response(403, &error_page(refusal));
        }
        if rest != ["login"] && !csrf_ok(req) {
            return page_response(
                403,
                &error_page("the form's anti-forgery value is missing or wrong; reload the page"),
            );
        }
    }
    match (req.method.clone(), rest) {
        (Method::GET, []) => page_response(200, &tenants_page(server, req)),
        (Method::GET, ["login"]) => page_response(200, &login_page(None)),
        (Method::POST, ["login"]) => login(server, req),
        (Method::GET, ["static", "log.js"]) => {
            static_response("text/javascript; charset=utf-8", include_str!("log.js"))
        }
        (method, ["tenants", tid, rest @ ..]) => {
            let Some(tenant) = Uuid::parse_str(tid).ok().and_then(|id| server.tenants.get(id)) else {
                return page_response(404, &error_page(&format!("no tenant '{tid}' on this server")));
            };
            tenant_route(server, req, &tenant, method, rest)
        }
        _ => page_response(404, &error_page("no such dashboard page")),
    }
}

fn tenant_route(server: &Server, req: &Inbound, tenant: &Tenant, method: Method, rest: &[&str]) -> Response<Body> {
    match (method, rest) {
        (Method::GET, []) => page_response(200, &objects_page(tenant)),
        (Method::GET, ["objects", kind, id]) => match object_page(tenant, kind, id) {
            Some(page) => page_response(200, &page),
            None => page_response(404, &error_page(&format!("no {kind} '{id}' in this tenant"))),
        },
        (Method::GET, ["dirsync"]) => {
            tenant.settle_dirsync();
            page_response(200, &dirsync_page(tenant))
        }
        (Method::POST, ["clock"]) => {
            let form = form(req);
            let seconds = field(&form, "seconds").and_then(|s| s.trim().parse::<f64>().ok());
            let Some(by) = seconds.and_then(|s| std::time::Duration::try_from_secs_f64(s).ok()) else {
                return page_response(400, &error_page("the number of seconds must be a non-negative number"));
            };
            if let Err(e) = tenant.clock.advance(by) {
                return page_response(400, &error_page(&format!("{e}; the clock was not moved")));
            }
            tenant.journal_clock();
            tenant.settle_dirsync();
            redirect(&format!("{BASE}/ui/tenants/{}/dirsync", tenant.id))
        }
        (Method::GET, ["settings"]) => page_response(200, &settings_page(tenant, None)),
        (Method::POST, [which @ ("realism" | "faults" | "authz")]) => {
            let form = form(req);
            let result = match *which {
                "realism" => super::put_realism(tenant, field(&form, "json").unwrap_or_default().as_bytes()),
                "faults" => super::put_faults(tenant, field(&form, "json").unwrap_or_default().as_bytes()),
                _ => super::put_authz(tenant, &json!({"authz": field(&form, "authz")}).to_string().into_bytes()),
            };
            match result {
                Ok(_) => redirect(&format!("{BASE}/ui/tenants/{}/settings", tenant.id)),
                Err(message) => page_response(400, &settings_page(tenant, Some(&message))),
            }
        }
        (Method::GET, ["log"]) => page_response(200, &log_page(tenant)),
        (Method::GET, ["log", "events"]) => log_events(req, tenant),
        (Method::GET, ["report"]) => page_response(200, &report_page(tenant)),
        _ => {
            let _ = server;
            page_response(404, &error_page("no such dashboard page"))
        }
    }
}

// ---- requests and responses ------------------------------------------------

/// `Origin` (when sent) must be this server as the browser addressed it, and
/// `Sec-Fetch-Site` (when sent) `same-origin`.
fn same_origin(req: &Inbound) -> Result<(), &'static str> {
    if let Some(origin) = req.header("origin") {
        if !origin.eq_ignore_ascii_case(&req.authority) {
            return Err("cross-origin request refused: the dashboard changes state only for its own pages");
        }
    }
    match req.header("sec-fetch-site") {
        Some(site) if site != "same-origin" => {
            Err("cross-site request refused: the dashboard changes state only for its own pages")
        }
        _ => Ok(()),
    }
}

fn csrf_ok(req: &Inbound) -> bool {
    let form = form(req);
    field(&form, "csrf").is_some_and(|sent| crate::ids::constant_time_eq(sent.as_bytes(), csrf_token().as_bytes()))
}

fn form(req: &Inbound) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(&req.body);
    text.split('&').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (decode(k), decode(v))).collect()
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned()
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn with_security_headers(b: http::response::Builder) -> http::response::Builder {
    b.header(
        "content-security-policy",
        "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; \
         img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    )
    .header("x-content-type-options", "nosniff")
    .header("x-frame-options", "DENY")
    // Not `no-referrer`: with it Chromium sends `Origin: null` on form posts.
    .header("referrer-policy", "same-origin")
    .header("cache-control", "no-store")
}

fn page_response(status: u16, page: &Html) -> Response<Body> {
    with_security_headers(Response::builder().status(status))
        .header("content-type", "text/html; charset=utf-8")
        .body(Full::new(Bytes::from(page.clone().into_string())))
        .expect("static headers are valid")
}

fn static_response(content_type: &'static str, text: &'static str) -> Response<Body> {
    with_security_headers(Response::builder().status(200))
        .header("content-type", content_type)
        .body(Full::new(Bytes::from_static(text.as_bytes())))
        .expect("static headers are valid")
}

/// After a form: back to a page with a GET (a reload does not repeat the POST).
fn redirect(location: &str) -> Response<Body> {
    with_security_headers(Response::builder().status(303))
        .header("location", location)
        .body(Full::new(Bytes::new()))
        .expect("a path is a valid header value")
}

fn login(server: &Server, req: &Inbound) -> Response<Body> {
    let Some(key) = server.admin_key.as_deref().filter(|k| !k.is_empty()) else {
        return page_response(
            409,
            &error_page("this server has no admin key: open the dashboard from the same machine"),
        );
    };
    let form = form(req);
    let sent = field(&form, "key").unwrap_or_default();
    if !crate::ids::constant_time_eq(sent.as_bytes(), key.as_bytes()) {
        return page_response(403, &login_page(Some("that is not this server's admin key")));
    }
    let cookie = format!("{COOKIE}={}; Path={BASE}/ui; HttpOnly; SameSite=Strict", session_value(key));
    let cookie = if req.authority.starts_with("https:") { format!("{cookie}; Secure") } else { cookie };
    let mut response = redirect(&format!("{BASE}/ui"));
    if let Ok(value) = http::HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(http::header::SET_COOKIE, value);
    }
    response
}

/// Server-sent events: the entries after `Last-Event-ID` (or `?after=`), then
/// the end of the response with a `retry`, after which the browser's
/// EventSource asks again with the last id it saw. Each entry is one event.
fn log_events(req: &Inbound, tenant: &Tenant) -> Response<Body> {
    let after = req
        .header("last-event-id")
        .and_then(|v| v.trim().parse().ok())
        .or_else(|| super::query_u64(req, "after"))
        .unwrap_or(0);
    let entries = tenant.requests_since(after);
    let dir = tenant.read();
    let mut out = format!("retry: {LOG_RETRY_MS}\n\n");
    for e in &entries {
        out.push_str(&format!("id: {}\nevent: request\ndata: {}\n\n", e.seq, e.view(Some(&dir))));
    }
    drop(dir);
    with_security_headers(Response::builder().status(200))
        .header("content-type", "text/event-stream")
        .body(Full::new(Bytes::from(out)))
        .expect("static headers are valid")
}

// ---- pages -----------------------------------------------------------------

fn layout(title: &str, nav: &Html, body: &Html) -> Html {
    render(
        include_str!("templates/layout.html"),
        &[
            ("title", Slot::Text(title)),
            ("base", Slot::Text(BASE)),
            ("nav", Slot::Markup(nav)),
            ("body", Slot::Markup(body)),
        ],
    )
}

fn tenant_nav(tenant: &Tenant) -> Html {
    let mut nav = Html::new();
    let base = format!("{BASE}/ui/tenants/{}", tenant.id);
    for (path, label) in [
        ("", "Objects"),
        ("/dirsync", "DirSync"),
        ("/settings", "Settings"),
        ("/log", "Requests"),
        ("/report", "Least privilege"),
    ] {
        nav.link(&format!("{base}{path}"), label).raw(" ");
    }
    nav
}

fn error_page(message: &str) -> Html {
    let mut body = Html::new();
    body.raw("<p class=\"error\" role=\"alert\">").text(message).raw("</p>");
    layout("Error", &Html::new(), &body)
}

fn login_page(message: Option<&str>) -> Html {
    let mut m = Html::new();
    if let Some(message) = message {
        m.raw("<p class=\"error\" role=\"alert\">").text(message).raw("</p>");
    }
    let body =
        render(include_str!("templates/login.html"), &[("message", Slot::Markup(&m)), ("base", Slot::Text(BASE))]);
    layout("Sign in", &Html::new(), &body)
}

fn tenants_page(server: &Server, req: &Inbound) -> Html {
    let mut t = Html::new();
    t.raw("<table><thead><tr><th>Tenant</th><th>Domain</th><th>Bootstrap credentials</th></tr></thead><tbody>");
    for tenant in server.tenants.all() {
        let info = crate::ReadyInfo::for_tenant(&req.authority, server.keys.tls.ca_file.as_path(), server.tls, &tenant);
        t.raw("<tr><td>").link(&format!("{BASE}/ui/tenants/{}", tenant.id), &tenant.id.to_string());
        t.raw("</td><td>").text(&tenant.domain()).raw("</td><td><details><summary>Show</summary><pre>");
        t.text(&serde_json::to_string_pretty(&info).unwrap_or_default());
        t.raw("</pre></details></td></tr>");
    }
    t.raw("</tbody></table>");
    let body = render(include_str!("templates/tenants.html"), &[("tenants", Slot::Markup(&t))]);
    layout("Tenants", &Html::new(), &body)
}

fn s(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn object_link(h: &mut Html, tenant: &Tenant, kind: &str, id: Uuid, text: &str) {
    h.link(&format!("{BASE}/ui/tenants/{}/objects/{kind}/{id}", tenant.id), text);
}

fn objects_page(tenant: &Tenant) -> Html {
    let dir = tenant.read();
    let mut users = Html::new();
    users.raw("<table id=\"users\"><thead><tr><th>Display name</th><th>UPN</th><th>Enabled</th><th>Synced</th><th>Groups</th><th>Roles</th></tr></thead><tbody>");
    for (id, u) in dir.users.iter().take(LIST_LIMIT) {
        users.raw("<tr><td>");
        object_link(&mut users, tenant, "users", *id, u.get_str(&USER, "displayName").unwrap_or("(no name)"));
        users.raw("</td><td>").text(u.get_str(&USER, "userPrincipalName").unwrap_or_default());
        users.raw("</td><td>").text(&s(u.get(&USER, "accountEnabled")));
        users.raw("</td><td>").text(&s(u.get(&USER, "onPremisesSyncEnabled")));
        users.raw("</td><td>").text(&dir.groups_of(*id).len().to_string());
        users.raw("</td><td>").text(&role_names(&dir, *id).join(", ")).raw("</td></tr>");
    }
    users.raw("</tbody></table>");
    more(&mut users, dir.users.len());
    let mut groups = Html::new();
    groups.raw("<table><thead><tr><th>Display name</th><th>Mail nickname</th><th>Members</th></tr></thead><tbody>");
    for (id, g) in dir.groups.iter().take(LIST_LIMIT) {
        groups.raw("<tr><td>");
        object_link(&mut groups, tenant, "groups", *id, g.get_str(&GROUP, "displayName").unwrap_or("(no name)"));
        groups.raw("</td><td>").text(g.get_str(&GROUP, "mailNickname").unwrap_or_default());
        let members = dir.group_link(*id, crate::directory::groups::Link::Members).len();
        groups.raw("</td><td>").text(&members.to_string()).raw("</td></tr>");
    }
    groups.raw("</tbody></table>");
    more(&mut groups, dir.groups.len());
    let mut apps = Html::new();
    apps.raw(
        "<table><thead><tr><th>Display name</th><th>App id</th><th>Secrets (hint, expires)</th></tr></thead><tbody>",
    );
    for (id, a) in dir.applications.iter().take(LIST_LIMIT) {
        apps.raw("<tr><td>");
        object_link(
            &mut apps,
            tenant,
            "applications",
            *id,
            a.get_str(&APPLICATION, "displayName").unwrap_or("(no name)"),
        );
        apps.raw("</td><td>").text(a.get_str(&APPLICATION, "appId").unwrap_or_default());
        apps.raw("</td><td>").text(&secret_hints(a.get(&APPLICATION, "passwordCredentials"))).raw("</td></tr>");
    }
    apps.raw("</tbody></table>");
    more(&mut apps, dir.applications.len());
    let mut sps = Html::new();
    sps.raw("<table><thead><tr><th>Display name</th><th>App id</th><th>Application permissions</th><th>Roles</th></tr></thead><tbody>");
    for (id, sp) in dir.service_principals.iter().take(LIST_LIMIT) {
        sps.raw("<tr><td>");
        object_link(
            &mut sps,
            tenant,
            "servicePrincipals",
            *id,
            sp.get_str(&SERVICE_PRINCIPAL, "displayName").unwrap_or("(no name)"),
        );
        sps.raw("</td><td>").text(sp.get_str(&SERVICE_PRINCIPAL, "appId").unwrap_or_default());
        sps.raw("</td><td>").text(&dir.graph_roles_of(*id).join(", "));
        sps.raw("</td><td>").text(&role_names(&dir, *id).join(", ")).raw("</td></tr>");
    }
    sps.raw("</tbody></table>");
    more(&mut sps, dir.service_principals.len());
    let mut domains = Html::new();
    domains
        .raw("<table><thead><tr><th>Name</th><th>Verified</th><th>Default</th><th>Federated</th></tr></thead><tbody>");
    for d in &dir.domains {
        domains.row([
            d.name.as_str(),
            if d.is_verified { "yes" } else { "no" },
            if d.is_default { "yes" } else { "no" },
            if d.federation.is_some() { "yes" } else { "no" },
        ]);
    }
    domains.raw("</tbody></table>");
    let mut licences = Html::new();
    licences.raw("<table><thead><tr><th>SKU</th><th>Units</th><th>Plans</th></tr></thead><tbody>");
    for sku in dir.skus.iter() {
        let plans: Vec<&str> = sku.service_plans.iter().map(|(_, name, _)| name.as_str()).collect();
        licences.row([sku.part_number.as_str(), &sku.enabled_units.to_string(), &plans.join(", ")]);
    }
    licences.raw("</tbody></table>");
    let domain = dir.initial_domain().to_owned();
    drop(dir);
    let now = crate::clock::format_datetime(tenant.clock.now());
    let tid = tenant.id.to_string();
    let body = render(
        include_str!("templates/objects.html"),
        &[
            ("domain", Slot::Text(&domain)),
            ("tid", Slot::Text(&tid)),
            ("now", Slot::Text(&now)),
            ("users", Slot::Markup(&users)),
            ("groups", Slot::Markup(&groups)),
            ("applications", Slot::Markup(&apps)),
            ("service_principals", Slot::Markup(&sps)),
            ("domains", Slot::Markup(&domains)),
            ("licences", Slot::Markup(&licences)),
        ],
    );
    layout(&domain, &tenant_nav(tenant), &body)
}

/// A note when a list was cut at [`LIST_LIMIT`].
fn more(h: &mut Html, total: usize) {
    if total > LIST_LIMIT {
        h.raw("<p class=\"muted\">").text(&format!("The first {LIST_LIMIT} of {total}.")).raw("</p>");
    }
}

/// Each secret's hint (its first characters, as Graph returns them) and end.
fn secret_hints(credentials: Option<&Value>) -> String {
    let list = credentials.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let hints: Vec<String> =
        list.iter().map(|c| format!("{}… until {}", s(c.get("hint")), s(c.get("endDateTime")))).collect();
    hints.join("; ")
}

/// The delegated grants a client service principal holds, each as "scopes on resource (for
/// whom)": every user's when an administrator consented, else the one user's.
fn delegated_consent(dir: &Directory, client: Uuid) -> Vec<String> {
    let field = |g: &crate::directory::record::Record, name: &str| {
        g.get_str(&OAUTH2_PERMISSION_GRANT, name).unwrap_or_default().to_owned()
    };
    let mut grants: Vec<String> = dir
        .oauth2_grants
        .values()
        .filter(|g| Uuid::parse_str(&field(g, "clientId")).ok() == Some(client))
        .map(|g| {
            let resource = Uuid::parse_str(&field(g, "resourceId"))
                .ok()
                .and_then(|r| dir.service_principals.get(&r))
                .and_then(|r| r.get_str(&SERVICE_PRINCIPAL, "displayName"))
                .map_or_else(|| field(g, "resourceId"), str::to_owned);
            let whom = match field(g, "consentType").as_str() {
                "AllPrincipals" => "all users".to_owned(),
                _ => Uuid::parse_str(&field(g, "principalId"))
                    .ok()
                    .and_then(|u| dir.users.get(&u))
                    .and_then(|u| u.get_str(&USER, "userPrincipalName"))
                    .map_or_else(|| field(g, "principalId"), str::to_owned),
            };
            format!("{} on {resource} ({whom})", field(g, "scope").trim())
        })
        .collect();
    grants.sort();
    grants
}

fn role_names(dir: &Directory, principal: Uuid) -> Vec<String> {
    let templates = crate::directory::catalog::Catalog::get();
    dir.role_template_ids_of(principal)
        .into_iter()
        .map(|t| {
            templates
                .role_templates
                .iter()
                .find(|r| r.role_template_id == t)
                .map(|r| r.display_name.clone())
                .unwrap_or_else(|| t.to_string())
        })
        .collect()
}

fn object_page(tenant: &Tenant, kind: &str, id: &str) -> Option<Html> {
    let id = Uuid::parse_str(id).ok()?;
    let dir = tenant.read();
    let mut rel = Html::new();
    let (name, json) = match kind {
        "users" => {
            let u = dir.users.get(&id)?;
            let json = u.project(&USER, &Projection::default_set(&USER));
            rel.raw("<h2>Relations</h2><table>");
            let groups: Vec<String> = dir
                .groups_of(id)
                .into_iter()
                .filter_map(|g| dir.groups.get(&g).and_then(|g| g.get_str(&GROUP, "displayName")).map(str::to_owned))
                .collect();
            rel.raw("<tr><th>Groups</th><td>").text(&groups.join(", ")).raw("</td></tr>");
            rel.raw("<tr><th>Directory roles</th><td>").text(&role_names(&dir, id).join(", ")).raw("</td></tr>");
            let licences: Vec<String> =
                dir.license_details_json(id).iter().map(|l| s(l.get("skuPartNumber"))).collect();
            rel.raw("<tr><th>Licences</th><td>").text(&licences.join(", ")).raw("</td></tr>");
            let manager = dir
                .managers
                .get(&id)
                .and_then(|m| dir.users.get(m))
                .and_then(|m| m.get_str(&USER, "userPrincipalName"));
            rel.raw("<tr><th>Manager</th><td>").text(manager.unwrap_or_default()).raw("</td></tr>");
            let synced = format!(
                "onPremisesSyncEnabled {} · immutable id {}",
                s(u.get(&USER, "onPremisesSyncEnabled")),
                s(u.get(&USER, "onPremisesImmutableId"))
            );
            rel.raw("<tr><th>Sync</th><td>").text(&synced).raw("</td></tr></table>");
            (u.get_str(&USER, "displayName").unwrap_or("(no name)").to_owned(), json)
        }
        "groups" => {
            let g = dir.groups.get(&id)?;
            let members: Vec<String> = dir
                .group_link(id, crate::directory::groups::Link::Members)
                .into_iter()
                .map(|m| {
                    dir.users
                        .get(&m)
                        .and_then(|u| u.get_str(&USER, "userPrincipalName"))
                        .map_or_else(|| m.to_string(), str::to_owned)
                })
                .collect();
            rel.raw("<h2>Relations</h2><table><tr><th>Members</th><td>")
                .text(&members.join(", "))
                .raw("</td></tr></table>");
            (
                g.get_str(&GROUP, "displayName").unwrap_or("(no name)").to_owned(),
                g.project(&GROUP, &Projection::default_set(&GROUP)),
            )
        }
        "applications" => {
            let a = dir.applications.get(&id)?;
            let app_id = a.get_str(&APPLICATION, "appId").and_then(|s| Uuid::parse_str(s).ok());
            let sp = app_id.and_then(|a| dir.service_principal_id_by_app_id(a));
            rel.raw("<h2>Relations</h2><table><tr><th>Secrets (hint, expires)</th><td>");
            rel.text(&secret_hints(a.get(&APPLICATION, "passwordCredentials"))).raw("</td></tr>");
            rel.raw("<tr><th>Service principal</th><td>");
            if let Some(sp) = sp {
                object_link(&mut rel, tenant, "servicePrincipals", sp, &sp.to_string());
                rel.raw("</td></tr><tr><th>Application permissions consented</th><td>")
                    .text(&dir.graph_roles_of(sp).join(", "));
                rel.raw("</td></tr><tr><th>Delegated permissions consented</th><td>")
                    .text(&delegated_consent(&dir, sp).join("; "));
                rel.raw("</td></tr><tr><th>Directory roles</th><td>").text(&role_names(&dir, sp).join(", "));
            } else {
                rel.raw("none");
            }
            rel.raw("</td></tr></table>");
            (
                a.get_str(&APPLICATION, "displayName").unwrap_or("(no name)").to_owned(),
                a.project(&APPLICATION, &Projection::default_set(&APPLICATION)),
            )
        }
        "servicePrincipals" => {
            let sp = dir.service_principals.get(&id)?;
            rel.raw("<h2>Relations</h2><table><tr><th>Application permissions consented</th><td>")
                .text(&dir.graph_roles_of(id).join(", "));
            rel.raw("</td></tr><tr><th>Delegated permissions consented</th><td>")
                .text(&delegated_consent(&dir, id).join("; "));
            rel.raw("</td></tr><tr><th>Directory roles</th><td>")
                .text(&role_names(&dir, id).join(", "))
                .raw("</td></tr></table>");
            let json = crate::directory::service_principals::project_service_principal(
                &dir,
                sp,
                &Projection::default_set(&SERVICE_PRINCIPAL),
            );
            (sp.get_str(&SERVICE_PRINCIPAL, "displayName").unwrap_or("(no name)").to_owned(), json)
        }
        _ => return None,
    };
    drop(dir);
    let json = serde_json::to_string_pretty(&Value::Object(json)).unwrap_or_default();
    let id = id.to_string();
    let body = render(
        include_str!("templates/object.html"),
        &[
            ("name", Slot::Text(&name)),
            ("kind", Slot::Text(kind)),
            ("id", Slot::Text(&id)),
            ("relations", Slot::Markup(&rel)),
            ("json", Slot::Text(&json)),
        ],
    );
    Some(layout(&name, &tenant_nav(tenant), &body))
}

fn dirsync_page(tenant: &Tenant) -> Html {
    use crate::dirsync::State;
    let (state, deadline) = {
        let dir = tenant.read();
        let state = dir.organization.dirsync.state;
        (state, state.deadline())
    };
    let current = match state {
        State::NeverSynced => "NeverSynced",
        State::PendingEnabled { .. } => "PendingEnabled",
        State::Enabled => "Enabled",
        State::PendingDisabled { .. } => "PendingDisabled",
        State::Disabled => "Disabled",
    };
    let mut machine = Html::new();
    let states = ["NeverSynced", "PendingEnabled", "Enabled", "PendingDisabled", "Disabled"];
    for (i, name) in states.iter().enumerate() {
        if i > 0 {
            machine.raw("<span class=\"arrow\">→</span>");
        }
        if *name == current {
            machine.raw("<span class=\"state current\" aria-current=\"step\" data-state=\"").text(name).raw("\">");
        } else {
            machine.raw("<span class=\"state\" data-state=\"").text(name).raw("\">");
        }
        machine.text(name).raw("</span>");
    }
    machine.raw("<p class=\"muted\">Disabled → PendingEnabled when sync is turned on again.</p>");
    let deadline = deadline.map(crate::clock::format_datetime).unwrap_or_else(|| "none".to_owned());
    let now = crate::clock::format_datetime(tenant.clock.now());
    let advance = match deadline.as_str() {
        "none" => "3600".to_owned(),
        _ => state
            .deadline()
            .map(|d| ((d - tenant.clock.now()).whole_seconds().max(0) + 1).to_string())
            .unwrap_or_else(|| "3600".to_owned()),
    };
    let (tid, csrf) = (tenant.id.to_string(), csrf_token());
    let body = render(
        include_str!("templates/dirsync.html"),
        &[
            ("machine", Slot::Markup(&machine)),
            ("status", Slot::Text(current)),
            ("deadline", Slot::Text(&deadline)),
            ("now", Slot::Text(&now)),
            ("base", Slot::Text(BASE)),
            ("tid", Slot::Text(&tid)),
            ("csrf", Slot::Text(&csrf)),
            ("advance", Slot::Text(&advance)),
        ],
    );
    layout("DirSync", &tenant_nav(tenant), &body)
}

fn settings_page(tenant: &Tenant, message: Option<&str>) -> Html {
    let mut m = Html::new();
    if let Some(message) = message {
        m.raw("<p class=\"error\" role=\"alert\">").text(message).raw("</p>");
    }
    let realism = tenant.realism.view();
    let realism = json!({"profile": realism.get("profile"), "seed": realism.get("seed")});
    let realism = serde_json::to_string_pretty(&realism).unwrap_or_default();
    let faults = serde_json::to_string_pretty(&json!({"rules": tenant.faults.rules()})).unwrap_or_default();
    let authz = if tenant.report_only() { "report-only" } else { "enforce" };
    let (tid, csrf) = (tenant.id.to_string(), csrf_token());
    let body = render(
        include_str!("templates/settings.html"),
        &[
            ("message", Slot::Markup(&m)),
            ("base", Slot::Text(BASE)),
            ("tid", Slot::Text(&tid)),
            ("csrf", Slot::Text(&csrf)),
            ("authz", Slot::Text(authz)),
            ("realism", Slot::Text(&realism)),
            ("faults", Slot::Text(&faults)),
        ],
    );
    layout("Settings", &tenant_nav(tenant), &body)
}

fn log_page(tenant: &Tenant) -> Html {
    let tid = tenant.id.to_string();
    let body = render(include_str!("templates/log.html"), &[("base", Slot::Text(BASE)), ("tid", Slot::Text(&tid))]);
    layout("Requests", &tenant_nav(tenant), &body)
}

fn report_page(tenant: &Tenant) -> Html {
    let usage = tenant.usage.snapshot();
    let report = {
        let dir = tenant.read();
        super::report::report(&usage, &dir, tenant.report_only())
    };
    let list = |v: &Value| {
        v.as_array().map(|a| a.iter().map(|x| s(Some(x))).collect::<Vec<_>>().join(", ")).unwrap_or_default()
    };
    let mut callers = Html::new();
    let all = report["callers"].as_array().map(Vec::as_slice).unwrap_or_default();
    if all.is_empty() {
        callers.raw("<p class=\"muted\">No Graph calls yet.</p>");
    }
    for c in all {
        let who = match c["user"].as_object() {
            Some(u) => format!("{} for {}", s(c.get("clientName")), s(u.get("userPrincipalName"))),
            None => s(c.get("clientName")),
        };
        callers
            .raw("<h2>")
            .text(&who)
            .raw("</h2><p class=\"muted\">")
            .text(&s(c.get("clientId")))
            .raw(" · ")
            .text(&s(c.get("kind")))
            .raw("</p>");
        callers.raw("<table class=\"caller\">");
        for (label, key) in [
            ("Least privileged", "leastPrivileged"),
            ("Held", "held"),
            ("Held beyond needs", "beyondNeeds"),
            ("Missing", "missing"),
        ] {
            callers.raw("<tr><th>").text(label).raw("</th><td>").text(&list(&c[key])).raw("</td></tr>");
        }
        callers.raw("</table><table><thead><tr><th>Operation</th><th>Calls</th><th>Refused</th><th>Would be refused</th></tr></thead><tbody>");
        for op in c["operations"].as_array().map(Vec::as_slice).unwrap_or_default() {
            callers.row([
                s(op.get("operation")).as_str(),
                &s(op.get("calls")),
                &s(op.get("refused")),
                &s(op.get("wouldBeRefused")),
            ]);
        }
        callers.raw("</tbody></table>");
    }
    let authz = s(report.get("authz"));
    let body = render(
        include_str!("templates/report.html"),
        &[("authz", Slot::Text(&authz)), ("callers", Slot::Markup(&callers))],
    );
    layout("Least privilege", &tenant_nav(tenant), &body)
}
