//! Throttling and server-fault shapes, scripted through the mock's control API
//! (graph-wire.md §2.1, §2.2 and its notes).

use reqwest::Method;
use serde_json::{json, Value};

use super::support;
use super::wire::{status, Api};
use crate::context::{Ctx, RawResponse};
use crate::scenario;
use crate::scenario::{ensure, eq, Failure, Need, Scenario};

pub(crate) const SCENARIOS: &[Scenario] = &[
    scenario!(
        "faults::throttled_body_is_too_many_requests_with_inner_error",
        "graph-wire.md §2.2 notes: throttling body {\"error\":{\"code\":\"TooManyRequests\",\"message\":\"Please retry again later.\",\"innerError\":{…}}}",
        [Need::Mock],
        throttled_body
    ),
    scenario!(
        "faults::fractional_retry_after_is_kept",
        "graph-wire.md §2.2 notes: Retry-After may be fractional (2.128) — parse as float seconds",
        [Need::Mock],
        fractional_retry_after
    ),
    scenario!(
        "faults::a_throttled_write_applies_nothing",
        "graph-wire.md §2.2: a throttled request (429) is refused, so a throttled POST /users creates no user",
        [Need::Mock],
        throttled_write
    ),
    scenario!(
        "faults::fault_clears_after_its_count",
        "graph-wire.md §2.2: throttled → 429 with Retry-After; the request succeeds when retried after it",
        [Need::Mock],
        clears
    ),
    scenario!(
        "faults::a_fault_on_one_method_leaves_others_alone",
        "graph-wire.md §2.2 notes: throttling is per scope (Read/Write): a write fault leaves reads answering",
        [Need::Mock],
        per_method
    ),
    scenario!(
        "faults::service_unavailable_is_503_with_the_graph_envelope",
        "graph-wire.md §2.1 / §2.2 notes: every failure carries the error envelope; gateway errors use bare codes",
        [Need::Mock],
        unavailable
    ),
    scenario!(
        "faults::internal_error_is_500_unknown_error",
        "graph-wire.md §2.2 notes: generic gateway/OData errors use bare names (UnknownError)",
        [Need::Mock],
        internal
    ),
    scenario!(
        "faults::gateway_timeout_is_504_unknown_error",
        "graph-wire.md §2.2 notes: generic gateway errors use bare names (UnknownError), in the §2.1 envelope",
        [Need::Mock],
        gateway_timeout
    ),
    scenario!(
        "faults::sdk_retries_a_throttled_read",
        "graph-wire.md §2.2: throttled → 429 with Retry-After in seconds; a client honouring it gets the answer",
        [Need::Mock],
        sdk_retries
    ),
];

async fn script(cx: &Ctx, rules: Value) -> Result<(), Failure> {
    let r = cx.control(Method::PUT, "faults", Some(json!({"rules": rules}))).await?;
    ensure(r.status == 200, format!("control API faults answered {}: {}", r.status, r.text))
}

fn envelope(r: &RawResponse, status: u16, code: &str) -> Result<(), Failure> {
    eq("status", r.status, status)?;
    eq("error.code", r.json.pointer("/error/code").and_then(Value::as_str), Some(code))?;
    ensure(
        r.json.pointer("/error/message").is_some_and(Value::is_string),
        format!("error.message: expected a string, got {}", r.text),
    )
}

async fn throttled_body(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    script(&cx, json!([{"method": "GET", "path": "/v1.0/users", "status": 429, "times": 1}])).await?;
    let r = api.get("/users").await?;
    support::expect_error(&r, 429, "TooManyRequests", Some("Please retry again later."))?;
    ensure(r.json.pointer("/error/innerError").is_some_and(Value::is_object), format!("innerError: got {}", r.text))
}

async fn fractional_retry_after(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    script(&cx, json!([{"method": "GET", "path": "/v1.0/users", "status": 429, "retryAfterSeconds": 2.5, "times": 1}]))
        .await?;
    let r = api.get("/users").await?;
    eq("status", r.status, 429)?;
    let seconds: Option<f64> = r.header("retry-after").and_then(|v| v.trim().parse().ok());
    ensure(
        seconds.is_some_and(|s| s >= 2.0),
        format!("Retry-After: expected about 2.5 s, got {:?}", r.header("retry-after")),
    )
}

async fn throttled_write(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let nick = cx.name("thr");
    let upn = format!("{nick}@{}", cx.domain().await?);
    script(&cx, json!([{"method": "POST", "path": "/v1.0/users", "status": 429, "times": 1}])).await?;
    let body = json!({"accountEnabled": true, "displayName": nick, "mailNickname": nick, "userPrincipalName": upn,
        "passwordProfile": {"forceChangePasswordNextSignIn": true, "password": support::PASSWORD}});
    let r = api.post("/users", body).await?;
    eq("status", r.status, 429)?;
    let r = api.get(&format!("/users/{upn}")).await?;
    support::expect_error(&r, 404, "Request_ResourceNotFound", None)
}

async fn clears(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    script(&cx, json!([{"method": "GET", "path": "/v1.0/organization", "status": 429, "times": 2}])).await?;
    eq("first", api.get("/organization").await?.status, 429)?;
    eq("second", api.get("/organization").await?.status, 429)?;
    status(&api.get("/organization").await?, 200)
}

async fn per_method(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    script(&cx, json!([{"method": "POST", "path": "/v1.0/groups", "status": 429}])).await?;
    status(&api.get("/groups").await?, 200)?;
    let nick = cx.name("g");
    let r = api
        .post(
            "/groups",
            json!({"displayName": nick, "mailEnabled": false, "mailNickname": nick, "securityEnabled": true}),
        )
        .await?;
    eq("POST status", r.status, 429)
}

async fn unavailable(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    script(&cx, json!([{"path": "/v1.0/applications", "status": 503, "times": 1}])).await?;
    let r = api.get("/applications").await?;
    envelope(&r, 503, "serviceNotAvailable")?;
    ensure(r.header("retry-after").is_some(), "503: expected a Retry-After header")
}

async fn internal(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    script(&cx, json!([{"path": "/v1.0/servicePrincipals", "status": 500, "times": 1}])).await?;
    envelope(&api.get("/servicePrincipals").await?, 500, "UnknownError")
}

async fn gateway_timeout(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    script(&cx, json!([{"path": "/v1.0/domains", "status": 504, "times": 1}])).await?;
    envelope(&api.get("/domains").await?, 504, "UnknownError")
}

async fn sdk_retries(cx: Ctx) -> Result<(), Failure> {
    script(
        &cx,
        json!([{"method": "GET", "path": "/v1.0/organization", "status": 429, "retryAfterSeconds": 0.01, "times": 1}]),
    )
    .await?;
    let org = cx.graph().organization().list().send().await?;
    ensure(!org.value.is_empty(), "organization: expected one object after the retry")
}
