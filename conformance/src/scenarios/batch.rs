//! JSON batching (graph-wire.md §4).

use graphbox_sdk::batch::BatchItem;
use reqwest::Method;
use serde_json::json;

use super::support::{self, NO_SUCH_ID};
use crate::context::Ctx;
use crate::scenario;
use crate::scenario::{ensure, eq, some, Failure, Scenario};

pub(crate) const SCENARIOS: &[Scenario] = &[
    scenario!(
        "batch::responses_are_correlated_by_id",
        "graph-wire.md §4: POST /$batch → 200 with one response per request id (any order), each with its own status and body",
        [],
        correlated
    ),
    scenario!(
        "batch::inner_failure_carries_the_graph_envelope",
        "graph-wire.md §4: the outer status is 200 even when an inner request fails; inner failures carry the normal Graph error envelope in body",
        [],
        inner_failure
    ),
    scenario!(
        "batch::failed_dependency_is_424",
        "graph-wire.md §4: if a dependency fails, dependants get status 424 (Failed Dependency)",
        [],
        dependency
    ),
    scenario!(
        "batch::more_than_20_requests_is_400",
        "graph-wire.md §4: max 20 requests per batch; a malformed batch → 400",
        [],
        too_many
    ),
];

async fn correlated(cx: Ctx) -> Result<(), Failure> {
    let u = support::user(&cx, "b").await?;
    let r = cx
        .graph()
        .batch()
        .request(BatchItem::get("one", format!("/users/{}", u.id)))
        .request(BatchItem::get("two", "/users?$top=1&$select=id"))
        .send()
        .await?;
    eq("outer status", cx.last().map(|e| e.status), Some(200))?;
    let one = some(r.get("one"), "response 'one'")?;
    eq("status of 'one'", one.status, 200)?;
    eq("id in 'one'", one.body.as_ref().and_then(|b| b["id"].as_str()), Some(u.id.as_str()))?;
    eq("status of 'two'", some(r.get("two"), "response 'two'")?.status, 200)
}

async fn inner_failure(cx: Ctx) -> Result<(), Failure> {
    let r = cx.graph().batch().request(BatchItem::get("missing", format!("/users/{NO_SUCH_ID}"))).send().await?;
    eq("outer status", cx.last().map(|e| e.status), Some(200))?;
    let item = some(r.get("missing"), "response 'missing'")?;
    eq("inner status", item.status, 404)?;
    let code = item.body.as_ref().and_then(|b| b.pointer("/error/code")).and_then(|c| c.as_str());
    eq("inner error.code", code, Some("Request_ResourceNotFound"))
}

async fn dependency(cx: Ctx) -> Result<(), Failure> {
    let r = cx
        .graph()
        .batch()
        .request(BatchItem::get("a", format!("/users/{NO_SUCH_ID}")))
        .request(BatchItem::get("b", "/users?$top=1").depends_on(["a"]))
        .send()
        .await?;
    eq("status of the dependant", some(r.get("b"), "response 'b'")?.status, 424)
}

async fn too_many(cx: Ctx) -> Result<(), Failure> {
    // The SDK refuses to build such a batch, so this one goes raw.
    let requests: Vec<_> =
        (0..21).map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/users?$top=1"})).collect();
    let token = cx.token().await?;
    let r = cx
        .send(cx.graph_request(Method::POST, "/$batch").bearer_auth(token).json(&json!({"requests": requests})))
        .await?;
    eq("status", r.status, 400)?;
    ensure(
        r.json.pointer("/error/code").is_some(),
        format!("body: expected a Graph error envelope, got {}", r.text.chars().take(200).collect::<String>()),
    )
}
