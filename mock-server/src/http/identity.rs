//! Routes of the identity platform: `/{tenant}/oauth2/v2.0/token`,
//! `/{tenant}/v2.0/.well-known/openid-configuration`,
//! `/{tenant}/discovery/v2.0/keys` and `/common/discovery/instance`.

use http::{Method, Response};

use super::response::{self, Body};
use super::{Inbound, Server};
use crate::identity::authorize::{self, BrowserRequest, PageBody, PageResponse};
use crate::identity::{admin_consent, device_code, discovery, session, token, userinfo};

const NO_STORE: &str = "no-store, no-cache";
const CACHEABLE: &str = "max-age=86400, private";

pub(crate) fn handle(server: &Server, req: &Inbound) -> Response<Body> {
    let decoded = crate::service::decoded_segments(&req.path);
    let segments: Vec<&str> = decoded.iter().map(|s| s.as_ref()).collect();
    let now = crate::clock::system_now();
    let c = req.correlation(now);
    match (segments.as_slice(), &req.method) {
        (["common", "discovery", "instance"], &Method::GET) => {
            let authorize =
                form_pairs(&req.query).into_iter().find(|(k, _)| k == "authorization_endpoint").map(|(_, v)| v);
            let tenant = authorize.as_deref().and_then(|a| a.split('/').nth(3)).map(str::to_owned);
            response::identity_json(
                200,
                &discovery::instance_discovery(&req.authority, tenant.as_deref()),
                &c,
                CACHEABLE,
            )
        }
        (["common", "userrealm", username], &Method::GET) => {
            // User realm discovery (MSAL's password flow asks it first): a
            // federated domain's users are sent to its IdP's WS-Trust endpoint.
            let domain = username.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
            let tenant = server.tenants.resolve(domain);
            let mut body = serde_json::json!({
                "ver": "1.0",
                "account_type": if tenant.is_some() { "Managed" } else { "Unknown" },
                "domain_name": domain,
                "cloud_instance_name": "microsoftonline.com",
                "cloud_audience_urn": "urn:federation:MicrosoftOnline",
            });
            if let Some(realm) = tenant.and_then(|t| crate::identity::domain_federation::user_realm(&t.read(), domain))
            {
                body.as_object_mut().expect("an object literal").extend(realm);
            }
            response::identity_json(200, &body, &c, NO_STORE)
        }
        ([tenant, "v2.0", ".well-known", "openid-configuration"], &Method::GET)
            if discovery::MULTI_TENANT_SEGMENTS.contains(tenant) =>
        {
            response::identity_json(200, &discovery::multi_tenant_configuration(&req.authority, tenant), &c, CACHEABLE)
        }
        ([tenant, "discovery", "v2.0", "keys"], &Method::GET) if discovery::MULTI_TENANT_SEGMENTS.contains(tenant) => {
            let issuer = format!("{}/{{tenantid}}/v2.0", req.authority);
            response::identity_json(200, &discovery::jwks(&server.keys.signing, &issuer), &c, CACHEABLE)
        }
        ([tenant, "v2.0", ".well-known", "openid-configuration"], &Method::GET) => {
            match server.tenants.resolve(tenant) {
                Some(t) => {
                    response::identity_json(200, &discovery::openid_configuration(&req.authority, t.id), &c, CACHEABLE)
                }
                None => token_error(&token::tenant_not_found(tenant), req, now),
            }
        }
        ([tenant, "discovery", "v2.0", "keys"], &Method::GET) => match server.tenants.resolve(tenant) {
            Some(t) => {
                let issuer = format!("{}/{}/v2.0", req.authority, t.id);
                response::identity_json(200, &discovery::jwks(&server.keys.signing, &issuer), &c, CACHEABLE)
            }
            None => token_error(&token::tenant_not_found(tenant), req, now),
        },
        ([tenant, "oauth2", "v2.0", "authorize"], &Method::GET | &Method::POST) => {
            page(&authorize::authorize(&browser(server, req, tenant), &server.tenants), req)
        }
        ([tenant, "v2.0", "adminconsent"], &Method::GET | &Method::POST) => {
            page(&admin_consent::admin_consent(&browser(server, req, tenant), &server.tenants), req)
        }
        ([tenant, "oauth2", "v2.0", "logout"], &Method::GET | &Method::POST) => {
            page(&userinfo::logout(&browser(server, req, tenant), &server.tenants), req)
        }
        (["login.srf"], &Method::POST) => {
            page(&crate::identity::domain_federation::idp_return(&browser(server, req, "common"), &server.tenants), req)
        }
        (["devicelogin"], &Method::GET | &Method::POST) => {
            page(&device_code::verification_page(&browser(server, req, "common"), &server.tenants), req)
        }
        (["oidc", "userinfo"], &Method::GET | &Method::POST) => {
            let c = req.correlation(now);
            match server.validator.authenticate(req.header("authorization"), &server.tenants) {
                Ok((principal, tenant)) => match userinfo::userinfo(&principal, &tenant.read()) {
                    Some(body) => response::identity_json(200, &body, &c, NO_STORE),
                    None => response::graph_error(
                        &crate::error::ApiError::new(
                            401,
                            "InvalidAuthenticationToken",
                            "Access token validation failure: userinfo needs a delegated token (one signed in user).",
                        ),
                        &c,
                    ),
                },
                Err(e) => response::graph_error(&e, &c),
            }
        }
        ([tenant, "oauth2", "v2.0", "devicecode"], method) => {
            if method != Method::POST {
                let e = token::TokenError::new(
                    405,
                    "invalid_request",
                    900561,
                    "The endpoint only accepts POST requests. Received a GET request.",
                );
                return token_error(&e, req, now);
            }
            let form = form_pairs(std::str::from_utf8(&req.body).unwrap_or(""));
            let token_req = token::TokenRequest {
                tenant,
                form,
                authorization: req.header("authorization"),
                authority: &req.authority,
                home_app: None,
            };
            let found = authorize::browser_tenant(&server.tenants, tenant, token_req.field("client_id"));
            match found {
                Ok(t) => {
                    let now = t.clock.now();
                    let result = device_code::device_authorization(&token_req, &mut t.write(), now);
                    log(&t, req, if result.is_ok() { 200 } else { 400 }, now);
                    match result {
                        Ok(body) => response::identity_json(200, &body, &req.correlation(now), NO_STORE),
                        Err(e) => token_error(&e, req, now),
                    }
                }
                Err(e) => token_error(&e, req, now),
            }
        }
        ([tenant, "oauth2", "v2.0", "token"], method) => {
            if method != Method::POST {
                let e = token::TokenError {
                    status: 405,
                    error: "invalid_request",
                    code: 900561,
                    description: "The endpoint only accepts POST requests. Received a GET request.".to_owned(),
                };
                return token_error(&e, req, now);
            }
            let content_type = req.header("content-type").unwrap_or("");
            if !content_type.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded") {
                let e = token::TokenError {
                    status: 400,
                    error: "invalid_request",
                    code: 900144,
                    description: "The request body must contain the following parameter: 'grant_type'.".to_owned(),
                };
                return token_error(&e, req, now);
            }
            let form = form_pairs(std::str::from_utf8(&req.body).unwrap_or(""));
            let token_req = token::TokenRequest {
                tenant,
                form,
                authorization: req.header("authorization"),
                authority: &req.authority,
                home_app: None,
            };
            match token::issue(&token_req, &server.tenants, &server.keys.signing) {
                Ok((body, tenant)) => {
                    let c = req.correlation(tenant.clock.now());
                    log(&tenant, req, 200, now);
                    response::identity_json(200, &body, &c, NO_STORE)
                }
                Err((e, tenant)) => {
                    let now = tenant.as_ref().map(|t| t.clock.now()).unwrap_or(now);
                    if let Some(t) = &tenant {
                        log(t, req, e.status, now);
                    }
                    token_error(&e, req, now)
                }
            }
        }
        (route, method) if serves(route) => {
            // A route of the identity platform asked with the wrong method: its
            // own envelope, as the token endpoint answers a GET (AADSTS900561).
            let allowed = if matches!(route, [_, "oauth2", "v2.0", "token"]) { "POST" } else { "GET" };
            let e = token::TokenError {
                status: 405,
                error: "invalid_request",
                code: 900561,
                description: format!("The endpoint only accepts {allowed} requests. Received a {method} request."),
            };
            token_error(&e, req, now)
        }
        _ => {
            let c = req.correlation(now);
            response::graph_error(
                &crate::error::ApiError::new(
                    404,
                    "NotFound",
                    format!("graphbox serves no resource at '{}'.", req.path),
                ),
                &c,
            )
        }
    }
}

/// A browser request: query parameters, then form fields of a form POST.
fn browser<'a>(server: &Server, req: &'a Inbound, tenant: &'a str) -> BrowserRequest<'a> {
    let mut params = form_pairs(&req.query);
    let form = req
        .header("content-type")
        .is_some_and(|c| c.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
    if req.method == Method::POST && form {
        // Fields of the posted form win over the query's.
        let mut posted = form_pairs(std::str::from_utf8(&req.body).unwrap_or(""));
        posted.append(&mut params);
        params = posted;
    }
    let now = crate::clock::system_now();
    BrowserRequest {
        tenant,
        params,
        cookie: session::cookie_from_header(req.header("cookie")),
        authority: &req.authority,
        secure: server.tls,
        request_id: req.request_id,
        correlation_id: req.correlation(now).client_request_id().into_owned(),
    }
}

fn page(p: &PageResponse, req: &Inbound) -> Response<Body> {
    let c = req.correlation(crate::clock::system_now());
    match &p.body {
        PageBody::Html(html) => {
            response::identity_page(p.status, Some(html.clone()), None, p.set_cookie.as_deref(), &c)
        }
        PageBody::Redirect(location) => {
            response::identity_page(p.status, None, Some(location), p.set_cookie.as_deref(), &c)
        }
    }
}

fn log(tenant: &crate::tenant::Tenant, req: &Inbound, status: u16, now: time::OffsetDateTime) {
    let mut entry = crate::request_log::LoggedRequest::new(req, crate::request_log::Api::Identity, now, status);
    // The client a token or device-code request names (unverified on a refusal).
    entry.client_id = crate::request_log::form_client_id(&req.body);
    tenant.log_request(entry);
}

/// Whether `segments` name a route of the identity platform, whatever the method.
fn serves(segments: &[&str]) -> bool {
    matches!(
        segments,
        ["common", "discovery", "instance"]
            | ["common", "userrealm", _]
            | [_, "v2.0", ".well-known", "openid-configuration"]
            | [_, "discovery", "v2.0", "keys"]
            | [_, "oauth2", "v2.0", "token"]
    )
}

/// A request refused at intake (size, time, a broken body), in the identity
/// platform's envelope. ESTS has no code of its own for these; AADSTS90013
/// ("invalid input received from the user") is the nearest it documents.
pub(crate) fn intake_error(
    refusal: &super::limits::Refusal,
    req: &Inbound,
    now: time::OffsetDateTime,
) -> Response<Body> {
    let e = token::TokenError::new(refusal.status, "invalid_request", 90013, refusal.message.clone());
    token_error(&e, req, now)
}

fn token_error(e: &token::TokenError, req: &Inbound, now: time::OffsetDateTime) -> Response<Body> {
    let c = req.correlation(now);
    // ESTS uses the caller's client-request-id as the correlation id.
    let body = e.body(now, req.request_id, &c.client_request_id());
    response::identity_json(e.status, &body, &c, NO_STORE)
}

/// `application/x-www-form-urlencoded` pairs, decoded (`+` is a space).
pub(crate) fn form_pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode =
                |s: &str| percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned();
            (decode(k), decode(v))
        })
        .collect()
}
