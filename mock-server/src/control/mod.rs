//! The test-control API under `/_graphbox`: create tenants, move their clocks,
//! dump, load and reset their state, read their request logs, save the server.
//! Loopback callers only, unless the server has an admin key and the caller
//! sends it as `x-graphbox-admin-key`.

use http::{Method, Response};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::service::response::{self, Body};
use crate::service::{Inbound, Server};
use crate::tenant::Tenant;
use crate::ReadyInfo;

pub(crate) mod ops;
pub(crate) mod report;
pub(crate) mod ui;

pub(crate) fn handle(server: &Server, req: &Inbound, rest: &str) -> Response<Body> {
    let decoded = crate::service::decoded_segments(rest);
    let segments: Vec<&str> = decoded.iter().map(|s| s.as_ref()).filter(|s| !s.is_empty()).collect();
    let is_ui = segments.first() == Some(&"ui");
    // The dashboard's session cookie opens the dashboard only (see ui/mod.rs).
    let allowed = authorized(server, req)
        || (is_ui && (ui::has_session(server, req) || (ui::is_login(&segments) && server.admin_key.is_some())));
    let response = if allowed && is_ui {
        ui::handle(server, req, &segments[1..])
    } else if allowed {
        route(server, req, rest, &segments)
    } else {
        response::control_error(
            403,
            "the control API answers loopback callers that address the server by one of its own names \
             (localhost, 127.0.0.1, [::1], the --host or --public-url name, with its port), or callers that send \
             the server's admin key as x-graphbox-admin-key",
        )
    };
    // A refused caller learns nothing of the tenant and writes nothing to its log.
    log(server, req, if allowed { &segments } else { &[] }, response.status().as_u16());
    response
}

/// Log a control call to the tenant it names, else to the server's log;
/// reading a log or the report (or any dashboard page) is not logged, so
/// watching does not fill it.
fn log(server: &Server, req: &Inbound, segments: &[&str], status: u16) {
    use crate::request_log::{Api, LoggedRequest};
    let observing = req.method == Method::GET && matches!(segments.last(), Some(&"requests" | &"permissions-report"));
    // Dashboard pages are reads; its forms (POST) are logged like the calls they make.
    let (segments, ui) = match segments {
        ["ui", rest @ ..] => (rest, true),
        _ => (segments, false),
    };
    if observing || (ui && req.method == Method::GET) {
        return;
    }
    let tenant = match segments {
        ["tenants", tid, ..] => Uuid::parse_str(tid).ok().and_then(|id| server.tenants.get(id)),
        _ => None,
    };
    match tenant {
        Some(t) => t.log_request(LoggedRequest::new(req, Api::Control, t.clock.now(), status)),
        None => server.requests.push(LoggedRequest::new(req, Api::Control, crate::clock::system_now(), status)),
    }
}

fn route(server: &Server, req: &Inbound, rest: &str, segments: &[&str]) -> Response<Body> {
    match (req.method.clone(), segments) {
        (Method::GET, ["requests"]) => {
            let entries: Vec<Value> = server.requests.since(0).iter().map(|e| e.view(None)).collect();
            response::control_json(200, &json!({"requests": entries}))
        }
        (Method::GET, []) => response::control_json(
            200,
            &json!({"tenants": server.tenants.all().iter().map(|t| t.id).collect::<Vec<_>>()}),
        ),
        (Method::POST, ["tenants"]) => {
            let tenant = ops::create_tenant(server);
            response::control_json(
                201,
                &json!(ReadyInfo::for_tenant(&req.authority, server.keys.tls.ca_file.as_path(), server.tls, &tenant)),
            )
        }
        (Method::GET, ["tenants"]) => response::control_json(
            200,
            &json!({"tenants": server.tenants.all().iter().map(|t| t.id).collect::<Vec<_>>()}),
        ),
        (Method::POST, ["state", "save"]) => match &server.state_file {
            Some(path) => match crate::state::save_all(&server.tenants, path) {
                Ok(()) => response::control_json(200, &json!({"saved": path})),
                Err(e) => response::control_error(
                    500,
                    &format!("{e}: {}", std::error::Error::source(&e).map(|s| s.to_string()).unwrap_or_default()),
                ),
            },
            None => {
                response::control_error(409, "the server was started without --state, so there is no file to save to")
            }
        },
        (method, ["tenants", tid, rest @ ..]) => {
            let Some(tenant) = Uuid::parse_str(tid).ok().and_then(|id| server.tenants.get(id)) else {
                return response::control_error(404, &format!("no tenant '{tid}' on this server"));
            };
            tenant_route(server, req, &tenant, method, rest)
        }
        _ => response::control_error(404, &format!("no control endpoint {} /_graphbox{rest}", req.method)),
    }
}

/// The gate: the server's admin key when the caller sends one, else a loopback
/// peer that addressed the server by one of its own names. The peer is the TCP
/// peer: behind a reverse proxy on the same host every caller is loopback, so
/// such a set-up needs an admin key and a proxy that strips the header.
fn authorized(server: &Server, req: &Inbound) -> bool {
    if let Some(key) = server.admin_key.as_deref().filter(|k| !k.is_empty()) {
        if let Some(sent) = req.header("x-graphbox-admin-key") {
            return crate::ids::constant_time_eq(sent.as_bytes(), key.as_bytes());
        }
    }
    req.peer.ip().is_loopback() && req.host_is_ours
}

/// `PUT …/realism` (also the dashboard's form).
pub(crate) fn put_realism(tenant: &Tenant, body: &[u8]) -> Result<Value, String> {
    let body: Value = serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let config = crate::realism::RealismConfig::from_body(&body, &tenant.realism.config())?;
    ops::set_realism(tenant, config);
    Ok(tenant.realism.view())
}

/// `PUT …/faults` (also the dashboard's form).
pub(crate) fn put_faults(tenant: &Tenant, body: &[u8]) -> Result<Value, String> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        rules: Vec<crate::faults::FaultRule>,
    }
    let body: Body = serde_json::from_slice(body).map_err(|e| {
        format!("send {{\"rules\": [{{\"path\": \"/v1.0/users\", \"status\": 429, \"method\": \"GET\", \"retryAfterSeconds\": 2, \"times\": 3}}]}}: {e}")
    })?;
    let rules = ops::set_faults(tenant, body.rules).map_err(|e| e.message)?;
    Ok(json!({"rules": rules}))
}

/// `PUT …/authz` (also the dashboard's form): `enforce` or `report-only`.
pub(crate) fn put_authz(tenant: &Tenant, body: &[u8]) -> Result<Value, String> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Setting {
        authz: crate::tenant::AuthzSetting,
    }
    let setting: Setting = serde_json::from_slice(body)
        .map_err(|_| "send {\"authz\": \"enforce\"} or {\"authz\": \"report-only\"}".to_owned())?;
    ops::set_authz(tenant, setting.authz);
    Ok(authz_view(tenant))
}

fn authz_view(tenant: &Tenant) -> Value {
    json!({"authz": tenant.authz()})
}

/// A refusal of a shared operation, as the control API answers it.
fn refused(e: &crate::handle::ControlError) -> Response<Body> {
    response::control_error(e.status, &e.message)
}

/// A non-negative integer query parameter.
fn query_u64(req: &Inbound, name: &str) -> Option<u64> {
    req.query.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == name).and_then(|(_, v)| v.parse().ok())
}

fn body_json(req: &Inbound) -> Result<Value, Box<Response<Body>>> {
    serde_json::from_slice(&req.body)
        .map_err(|e| Box::new(response::control_error(400, &format!("the body is not JSON: {e}"))))
}

fn tenant_route(
    server: &Server,
    req: &Inbound,
    tenant: &std::sync::Arc<Tenant>,
    method: Method,
    rest: &[&str],
) -> Response<Body> {
    match (method, rest) {
        (Method::GET, []) => response::control_json(
            200,
            &json!(ReadyInfo::for_tenant(&req.authority, server.keys.tls.ca_file.as_path(), server.tls, tenant)),
        ),
        (Method::POST, ["clock", "advance"]) => {
            let body = match body_json(req) {
                Ok(b) => b,
                Err(r) => return *r,
            };
            let Some(by) = body
                .get("seconds")
                .and_then(Value::as_f64)
                .and_then(|s| std::time::Duration::try_from_secs_f64(s).ok())
            else {
                return response::control_error(400, "send {\"seconds\": N} with N a non-negative number");
            };
            match ops::advance_clock(tenant, by) {
                Ok(now) => response::control_json(200, &json!({"now": crate::clock::format_datetime(now)})),
                Err(e) => refused(&e),
            }
        }
        (Method::GET, ["clock"]) => {
            response::control_json(200, &json!({"now": crate::clock::format_datetime(tenant.clock.now())}))
        }
        (Method::GET, ["state"]) => response::control_json(200, &ops::state(tenant)),
        (Method::POST, ["dirsync", "cycle"]) => {
            let body = match body_json(req) {
                Ok(b) => b,
                Err(r) => return *r,
            };
            match ops::dirsync_cycle(tenant, &body) {
                Ok(summary) => response::control_json(200, &summary),
                Err(e) => refused(&e),
            }
        }
        (Method::GET, ["dirsync"]) => response::control_json(200, &ops::dirsync_state(tenant)),
        (Method::PUT, ["dirsync", "settings"]) => {
            let body = match body_json(req) {
                Ok(b) => b,
                Err(r) => return *r,
            };
            match ops::dirsync_settings(tenant, &body) {
                Ok(view) => response::control_json(200, &view),
                Err(e) => refused(&e),
            }
        }
        (Method::PUT, ["state"]) => {
            let saved: crate::state::SavedTenant = match serde_json::from_slice(&req.body) {
                Ok(s) => s,
                Err(e) => {
                    return response::control_error(
                        400,
                        &format!("the body is not a saved tenant (GET …/state gives one): {e}"),
                    )
                }
            };
            match ops::load_state(server, tenant, saved) {
                Ok(()) => response::control_json(200, &json!({"loaded": tenant.id})),
                Err(e) => refused(&e),
            }
        }
        (Method::POST, ["fork"]) => {
            let fork = ops::fork(server, tenant);
            response::control_json(
                201,
                &json!(ReadyInfo::for_tenant(&req.authority, server.keys.tls.ca_file.as_path(), server.tls, &fork)),
            )
        }
        (Method::POST, ["snapshots"]) => {
            let body = match body_json(req) {
                Ok(b) => b,
                Err(r) => return *r,
            };
            let name = body.get("name").and_then(Value::as_str).unwrap_or_default();
            match crate::fork::take(tenant, name) {
                Ok(at) => {
                    response::control_json(201, &json!({"name": name, "takenAt": crate::clock::format_datetime(at)}))
                }
                Err(crate::fork::Refused(status, message)) => response::control_error(status, &message),
            }
        }
        (Method::GET, ["snapshots"]) => {
            let all: Vec<Value> = crate::fork::list(tenant)
                .into_iter()
                .map(|(name, at)| json!({"name": name, "takenAt": crate::clock::format_datetime(at)}))
                .collect();
            response::control_json(200, &json!({"snapshots": all}))
        }
        (Method::DELETE, ["snapshots", name]) => match crate::fork::delete(tenant, name) {
            Ok(()) => response::control_json(200, &json!({"deleted": name})),
            Err(crate::fork::Refused(status, message)) => response::control_error(status, &message),
        },
        (Method::POST, ["snapshots", name, "restore"]) => match crate::fork::restore(tenant, name) {
            Ok(()) => response::control_json(200, &json!({"restored": name})),
            Err(crate::fork::Refused(status, message)) => response::control_error(status, &message),
        },
        (Method::POST, ["reset"]) => {
            let fresh = ops::reset(server, tenant);
            response::control_json(
                200,
                &json!(ReadyInfo::for_tenant(&req.authority, server.keys.tls.ca_file.as_path(), server.tls, &fresh)),
            )
        }
        (Method::POST, ["devicecode", "approve"]) => {
            #[derive(serde::Deserialize)]
            #[serde(deny_unknown_fields, rename_all = "camelCase")]
            struct Approve {
                user_code: String,
                user: String,
            }
            let body: Approve = match serde_json::from_slice(&req.body) {
                Ok(b) => b,
                Err(e) => {
                    return response::control_error(
                        400,
                        &format!("send {{\"userCode\": \"ABCD2345E\", \"user\": \"<UPN or object id>\"}}: {e}"),
                    )
                }
            };
            match crate::identity::device_code::approve_as(tenant, &body.user_code, &body.user) {
                Ok(user) => response::control_json(200, &json!({"approved": body.user_code, "user": user})),
                Err(message) => response::control_error(404, &message),
            }
        }
        (Method::GET, ["federation", "issuers"]) => {
            let dir = tenant.read();
            let issuers: Vec<&String> = dir.signin.issuers.keys().collect();
            response::control_json(200, &json!({"issuers": issuers}))
        }
        (Method::PUT, ["federation", "issuers"]) => {
            #[derive(serde::Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Issuer {
                issuer: String,
                jwks: Value,
            }
            let body: Issuer = match serde_json::from_slice(&req.body) {
                Ok(b) => b,
                Err(e) => {
                    return response::control_error(
                        400,
                        &format!("send {{\"issuer\": \"https://issuer.example\", \"jwks\": {{\"keys\": [RSA JWKs with kid, n, e]}}}}: {e}"),
                    )
                }
            };
            if let Err(message) = crate::identity::federation::check_jwks(&body.issuer, &body.jwks) {
                return response::control_error(400, &message);
            }
            let mut dir = tenant.write();
            dir.signin
                .issuers
                .insert(body.issuer.clone(), crate::directory::signin::ExternalIssuer { jwks: body.jwks });
            response::control_json(200, &json!({"issuer": body.issuer}))
        }
        (Method::PUT, ["signin", "settings"]) => {
            #[derive(serde::Deserialize)]
            #[serde(deny_unknown_fields, rename_all = "camelCase")]
            struct Settings {
                user_consent: bool,
            }
            let body: Settings = match serde_json::from_slice(&req.body) {
                Ok(b) => b,
                Err(e) => return response::control_error(400, &format!("send {{\"userConsent\": true|false}}: {e}")),
            };
            tenant.write().signin.user_consent_disabled = !body.user_consent;
            response::control_json(200, &json!({"userConsent": body.user_consent}))
        }
        (Method::GET, ["realism"]) => response::control_json(200, &tenant.realism.view()),
        (Method::PUT, ["realism"]) => match put_realism(tenant, &req.body) {
            Ok(view) => response::control_json(200, &view),
            Err(message) => response::control_error(400, &message),
        },
        (Method::GET, ["realism", "report"]) => response::control_json(200, &tenant.realism.report()),
        (Method::GET, ["requests"]) => {
            let after = query_u64(req, "after").unwrap_or(0);
            let entries = tenant.requests_since(after);
            let dir = tenant.read();
            let views: Vec<Value> = entries.iter().map(|e| e.view(Some(&dir))).collect();
            response::control_json(200, &json!({"requests": views}))
        }
        (Method::GET, ["permissions-report"]) => {
            let usage = tenant.usage.snapshot();
            let dir = tenant.read();
            response::control_json(200, &report::report(&usage, &dir, tenant.report_only()))
        }
        (Method::GET, ["authz"]) => response::control_json(200, &authz_view(tenant)),
        (Method::PUT, ["authz"]) => match put_authz(tenant, &req.body) {
            Ok(view) => response::control_json(200, &view),
            Err(message) => response::control_error(400, &message),
        },
        (Method::GET, ["faults"]) => response::control_json(200, &json!({"rules": tenant.faults.rules()})),
        (Method::PUT, ["faults"]) => match put_faults(tenant, &req.body) {
            Ok(view) => response::control_json(200, &view),
            Err(message) => response::control_error(400, &message),
        },
        (m, r) => {
            response::control_error(404, &format!("no control endpoint {m} /_graphbox/tenants/{{tid}}/{}", r.join("/")))
        }
    }
}
