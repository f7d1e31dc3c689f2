//! Graph's error envelope, the 401 family and the headers Graph sets (graph-wire.md §2).

use reqwest::Method;

use super::support::{self, expect_error, NO_SUCH_ID};
use crate::context::Ctx;
use crate::scenario;
use crate::scenario::{ensure, eq, graph_error, some, Failure, Need, Scenario};

pub(crate) const SCENARIOS: &[Scenario] = &[
    scenario!(
        "errors::unknown_id_is_404_request_resource_not_found",
        "graph-wire.md §2.2: unknown object id → 404 Request_ResourceNotFound \"Resource '{id}' does not exist or one of its queried reference-property objects are not present.\"",
        [],
        not_found
    ),
    scenario!(
        "errors::inner_error_is_camel_case_with_a_date_without_z",
        "graph-wire.md §2.1: the envelope's innerError (camel case) has date 'yyyy-MM-ddTHH:mm:ss' (no Z, no fraction), request-id, and echoes client-request-id",
        [],
        inner_error
    ),
    scenario!(
        "errors::missing_token_is_401_access_token_is_empty",
        "graph-wire.md §2.2: no Authorization header → 401 InvalidAuthenticationToken \"Access token is empty.\", with WWW-Authenticate: Bearer …",
        [],
        missing_token
    ),
    scenario!(
        "errors::garbage_token_is_401_compact_token_parsing_failed",
        "graph-wire.md §2.2: not a JWT → 401 InvalidAuthenticationToken \"CompactToken parsing failed with error code: 80049217\"",
        [],
        garbage_token
    ),
    scenario!(
        "errors::unknown_segment_is_400_bad_request_not_404",
        "graph-wire.md §2.2: a path segment Graph does not know → 400 BadRequest \"Resource not found for the segment '{segment}'.\"",
        [],
        unknown_segment
    ),
    scenario!(
        "errors::success_carries_graph_headers",
        "graph-wire.md §2.3: 200 answers carry Content-Type application/json;odata.metadata=minimal…, request-id, client-request-id and OData-Version 4.0",
        [],
        success_headers
    ),
    scenario!(
        "errors::throttled_request_is_429_too_many_requests_with_retry_after",
        "graph-wire.md §2.2: throttled → 429 TooManyRequests \"Please retry again later.\" with a Retry-After header in seconds (scripted through the mock's faults)",
        [Need::Mock],
        throttled
    ),
];

async fn throttled(cx: Ctx) -> Result<(), Failure> {
    let rules = serde_json::json!({"rules": [{"method": "GET", "path": "/v1.0/users", "status": 429, "retryAfterSeconds": 3, "times": 1}]});
    let set = cx.control(Method::PUT, "faults", Some(rules)).await?;
    ensure(set.status == 200, format!("control API faults answered {}: {}", set.status, set.text))?;
    let token = cx.token().await?;
    let r = cx.send(cx.graph_request(Method::GET, "/users").bearer_auth(&token)).await?;
    eq("status", r.status, 429)?;
    eq("Retry-After", r.header("retry-after").unwrap_or_default(), "3")?;
    let body: serde_json::Value =
        serde_json::from_str(&r.text).map_err(|e| Failure::new(format!("body is not JSON: {e}")))?;
    eq("error.code", body["error"]["code"].as_str().unwrap_or_default(), "TooManyRequests")?;
    let after = cx.send(cx.graph_request(Method::GET, "/users").bearer_auth(&token)).await?;
    eq("status after the throttled request", after.status, 200)
}

async fn not_found(cx: Ctx) -> Result<(), Failure> {
    let e = graph_error(cx.graph().users().get(NO_SUCH_ID).send().await, 404, "Request_ResourceNotFound")?;
    let expected = format!(
        "Resource '{NO_SUCH_ID}' does not exist or one of its queried reference-property objects are not present."
    );
    eq("message", e.message.as_str(), expected.as_str())
}

async fn inner_error(cx: Ctx) -> Result<(), Failure> {
    let token = cx.token().await?;
    let request = cx
        .graph_request(Method::GET, &format!("/users/{NO_SUCH_ID}"))
        .bearer_auth(&token)
        .header("client-request-id", "4f2d8a61-3b7c-49e0-a5d6-1c8e7b2f9a43");
    let r = cx.send(request).await?;
    eq("status", r.status, 404)?;
    let error = &r.json["error"];
    ensure(error.get("innererror").is_none(), "envelope: expected innerError (camel case), got innererror")?;
    let inner = some(error.get("innerError"), "error.innerError")?;
    let date = inner["date"].as_str().unwrap_or_default();
    let shape = date.len() == 19 && date.as_bytes()[10] == b'T' && !date.ends_with('Z');
    ensure(shape, format!("innerError.date: expected yyyy-MM-ddTHH:mm:ss without Z, got {date:?}"))?;
    ensure(
        inner["request-id"].is_string(),
        format!("innerError.request-id: expected a string, got {}", inner["request-id"]),
    )?;
    eq(
        "innerError.client-request-id",
        inner["client-request-id"].as_str(),
        Some("4f2d8a61-3b7c-49e0-a5d6-1c8e7b2f9a43"),
    )
}

async fn missing_token(cx: Ctx) -> Result<(), Failure> {
    let r = cx.send(cx.graph_request(Method::GET, "/users")).await?;
    expect_error(&r, 401, "InvalidAuthenticationToken", Some("Access token is empty."))?;
    let challenge = r.header("www-authenticate").unwrap_or_default();
    ensure(challenge.starts_with("Bearer"), format!("WWW-Authenticate: expected a Bearer challenge, got {challenge:?}"))
}

async fn garbage_token(cx: Ctx) -> Result<(), Failure> {
    let r = support::raw(&cx, Method::GET, "/users", "not-a-jwt").await?;
    expect_error(&r, 401, "InvalidAuthenticationToken", Some("CompactToken parsing failed with error code: 80049217"))
}

async fn unknown_segment(cx: Ctx) -> Result<(), Failure> {
    let token = cx.token().await?;
    let r = support::raw(&cx, Method::GET, "/nosuchthing", &token).await?;
    expect_error(&r, 400, "BadRequest", Some("Resource not found for the segment 'nosuchthing'."))
}

async fn success_headers(cx: Ctx) -> Result<(), Failure> {
    let token = cx.token().await?;
    let r = support::raw(&cx, Method::GET, "/users?$top=1", &token).await?;
    eq("status", r.status, 200)?;
    let ct = r.header("content-type").unwrap_or_default();
    ensure(
        ct.starts_with("application/json") && ct.contains("odata.metadata=minimal"),
        format!("Content-Type: expected application/json;odata.metadata=minimal…, got {ct:?}"),
    )?;
    eq("OData-Version", r.header("odata-version"), Some("4.0"))?;
    ensure(r.header("request-id").is_some(), "request-id header: expected present, got none")?;
    ensure(r.header("client-request-id").is_some(), "client-request-id header: expected present, got none")
}
