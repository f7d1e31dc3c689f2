//! The two Azure Resource Manager reads `az login` makes after it has a
//! token: `GET /subscriptions` and `GET /tenants`. graphbox serves no ARM API
//! beyond them; they answer what a tenant with no Azure subscription answers
//! (no subscriptions, the one tenant), so `az login --allow-no-subscriptions`
//! completes. ARM's error envelope is `{"error": {"code", "message"}}`.

use http::{Method, Response};
use serde_json::{json, Value};

use super::{Inbound, Server};
use crate::service::response::{self, Body};

fn error(status: u16, code: &str, message: &str) -> Response<Body> {
    response::control_json(status, &json!({"error": {"code": code, "message": message}}))
}

/// Refusals made before routing (limits), in ARM's envelope.
pub(crate) fn intake_error(status: u16, message: &str) -> Response<Body> {
    error(status, "BadRequest", message)
}

pub(crate) fn handle(server: &Server, req: &Inbound) -> Response<Body> {
    let token = match req.header("authorization").map(str::trim).and_then(|h| h.split_once(' ')) {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") && !rest.trim().is_empty() => rest.trim(),
        _ => {
            return error(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
        }
    };
    let (_, tenant) = match server.validator.authenticate_arm(token, &server.tenants) {
        Ok(found) => found,
        Err(_) => return error(401, "InvalidAuthenticationToken", "The access token is invalid."),
    };
    let has_version = req
        .query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .any(|(k, v)| k.eq_ignore_ascii_case("api-version") && !v.is_empty());
    if !has_version {
        return error(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        );
    }
    if req.method != Method::GET {
        return error(405, "MethodNotAllowed", "The requested resource does not support this HTTP method.");
    }
    let path = req.path.trim_matches('/');
    let count = |n: usize| json!({"type": "Total", "value": n});
    if path.eq_ignore_ascii_case("subscriptions") {
        return response::control_json(200, &json!({"value": [], "count": count(0)}));
    }
    if path.eq_ignore_ascii_case("tenants") {
        let dir = tenant.read();
        let domains: Vec<Value> =
            dir.domains.iter().filter(|d| d.is_verified).map(|d| Value::String(d.name.clone())).collect();
        let default_domain = dir.domains.iter().find(|d| d.is_default).map(|d| d.name.clone());
        let item = json!({
            "id": format!("/tenants/{}", tenant.id),
            "tenantId": tenant.id,
            "tenantCategory": "Home",
            "displayName": dir.display_name,
            "defaultDomain": default_domain,
            "domains": domains,
            "tenantType": "AAD",
        });
        return response::control_json(200, &json!({"value": [item], "count": count(1)}));
    }
    error(404, "NotFound", "graphbox serves only GET /subscriptions and GET /tenants of Azure Resource Manager.")
}
