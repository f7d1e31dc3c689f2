//! JSON batching, `POST /v1.0/$batch` (reference/graph-wire.md §4): up to 20
//! requests, run one by one in an order that honours `dependsOn`; a request
//! whose dependency failed gets 424. No transactions: earlier writes stay.

use std::collections::HashMap;
use std::future::Future;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use http_body_util::BodyExt;
use serde_json::{json, Map, Value};

use super::{json_body, Ctx, Reply};
use crate::error::ApiError;
use crate::http::{Inbound, Server};

/// Graph's limit on requests per batch.
const MAX_REQUESTS: usize = 20;

struct Item {
    id: String,
    method: Method,
    url: String,
    headers: Map<String, Value>,
    body: Option<Value>,
    depends_on: Vec<String>,
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::bad_request(message)
}

fn parse(body: &Map<String, Value>) -> Result<Vec<Item>, ApiError> {
    let requests = body
        .get("requests")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("A batch request body needs a \"requests\" array."))?;
    if requests.is_empty() {
        return Err(bad("A batch request must contain at least one request."));
    }
    if requests.len() > MAX_REQUESTS {
        return Err(bad(format!(
            "The number of batch requests ({}) exceeds the limit of {MAX_REQUESTS}.",
            requests.len()
        )));
    }
    let mut items: Vec<Item> = Vec::with_capacity(requests.len());
    for r in requests {
        let r = r.as_object().ok_or_else(|| bad("Each batch request must be a JSON object."))?;
        let id = match r.get("id") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => return Err(bad("Each batch request needs a non-empty string \"id\".")),
        };
        if items.iter().any(|i| i.id == id) {
            return Err(bad(format!("Batch request ids must be unique; '{id}' appears more than once.")));
        }
        let method = r
            .get("method")
            .and_then(Value::as_str)
            .and_then(|m| Method::from_bytes(m.to_ascii_uppercase().as_bytes()).ok())
            .ok_or_else(|| bad(format!("Batch request '{id}' needs a \"method\".")))?;
        let url = r
            .get("url")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(format!("Batch request '{id}' needs a \"url\".")))?;
        if url.contains("://") {
            return Err(bad(format!("Batch request '{id}': the url must be relative to the version, e.g. /users.")));
        }
        let url = if url.starts_with('/') { url.to_owned() } else { format!("/{url}") };
        if url.split(['?', '/']).any(|s| s.eq_ignore_ascii_case("$batch")) {
            return Err(bad(format!("Batch request '{id}': batches cannot be nested.")));
        }
        let headers = r.get("headers").and_then(Value::as_object).cloned().unwrap_or_default();
        let body = r.get("body").filter(|b| !b.is_null()).cloned();
        if body.is_some() && !headers.keys().any(|k| k.eq_ignore_ascii_case("content-type")) {
            return Err(bad(format!("Write request id : {id} does not contain Content-Type header or body.")));
        }
        let depends_on = match r.get("dependsOn") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|d| d.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| bad(format!("Batch request '{id}': dependsOn must be an array of request ids.")))?,
            Some(_) => return Err(bad(format!("Batch request '{id}': dependsOn must be an array of request ids."))),
        };
        items.push(Item { id, method, url, headers, body, depends_on });
    }
    for item in &items {
        for dep in &item.depends_on {
            if !items.iter().any(|i| &i.id == dep) || dep == &item.id {
                return Err(bad(format!(
                    "Batch request '{}' depends on '{dep}', which is not a request of this batch.",
                    item.id
                )));
            }
        }
    }
    Ok(items)
}

/// An order in which every request runs after its dependencies.
fn order(items: &[Item]) -> Result<Vec<usize>, ApiError> {
    let mut done: Vec<usize> = Vec::with_capacity(items.len());
    while done.len() < items.len() {
        let next = (0..items.len()).find(|i| {
            !done.contains(i) && items[*i].depends_on.iter().all(|d| done.iter().any(|j| &items[*j].id == d))
        });
        match next {
            Some(i) => done.push(i),
            None => return Err(bad("The dependsOn references of this batch form a cycle.")),
        }
    }
    Ok(done)
}

/// Read a response body built by this crate; it is already in memory.
fn body_bytes(body: crate::http::response::Body) -> Bytes {
    let mut collect = std::pin::pin!(body.collect());
    match collect.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(Ok(c)) => c.to_bytes(),
        _ => Bytes::new(),
    }
}

pub(super) fn batch(server: &Server, ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let body = json_body(ctx.req)?;
    let items = parse(&body)?;
    let order = order(&items)?;
    let mut statuses: HashMap<&str, u16> = HashMap::new();
    let mut responses = Vec::with_capacity(items.len());
    for i in order {
        let item = &items[i];
        let failed = item.depends_on.iter().find(|d| statuses.get(d.as_str()).is_some_and(|s| *s >= 400));
        if let Some(dep) = failed {
            statuses.insert(&item.id, 424);
            responses.push(json!({
                "id": item.id, "status": 424,
                "body": {"error": {"code": "FailedDependency", "message": format!("The request depends on request '{dep}', which failed.")}},
            }));
            continue;
        }
        let (status, headers, body) = run(server, ctx, item);
        statuses.insert(&item.id, status);
        let mut response = Map::new();
        response.insert("id".into(), Value::String(item.id.clone()));
        response.insert("status".into(), Value::from(status));
        if !headers.is_empty() {
            response.insert("headers".into(), Value::Object(headers));
        }
        response.insert("body".into(), body);
        responses.push(Value::Object(response));
    }
    Ok(Reply::Json { status: 200, body: json!({"responses": responses}), location: None })
}

/// Run one request of the batch through the ordinary Graph path, as the
/// caller, and reduce its response to the batch item shape.
fn run(server: &Server, ctx: &Ctx<'_>, item: &Item) -> (u16, Map<String, Value>, Value) {
    let (path, query) = match item.url.split_once('?') {
        Some((p, q)) => (p.to_owned(), q.to_owned()),
        None => (item.url.clone(), String::new()),
    };
    let mut headers = HeaderMap::new();
    for (k, v) in &item.headers {
        if let (Ok(name), Some(Ok(value))) =
            (HeaderName::from_bytes(k.as_bytes()), v.as_str().map(HeaderValue::from_str))
        {
            headers.insert(name, value);
        }
    }
    if let Some(auth) = ctx.req.headers.get(http::header::AUTHORIZATION) {
        headers.insert(http::header::AUTHORIZATION, auth.clone());
    }
    let body = match &item.body {
        None => Bytes::new(),
        Some(Value::String(s)) if !is_json(&headers) => {
            use base64::Engine;
            Bytes::from(base64::engine::general_purpose::STANDARD.decode(s).unwrap_or_else(|_| s.as_bytes().to_vec()))
        }
        Some(v) => Bytes::from(serde_json::to_vec(v).expect("JSON values serialize")),
    };
    let inner = Inbound {
        method: item.method.clone(),
        path: format!("/v1.0{path}"),
        query,
        headers,
        body,
        authority: ctx.req.authority.clone(),
        host_is_ours: ctx.req.host_is_ours,
        peer: ctx.req.peer,
        request_id: server.next_request_id(),
    };
    let response = super::handle(server, &inner, &path);
    let (parts, body) = response.into_parts();
    let bytes = body_bytes(body);
    let mut shown = Map::new();
    for name in [http::header::CONTENT_TYPE, http::header::LOCATION, http::header::RETRY_AFTER] {
        if let Some(v) = parts.headers.get(&name).and_then(|v| v.to_str().ok()) {
            let key = match name.as_str() {
                "content-type" => "Content-Type",
                "location" => "Location",
                _ => "Retry-After",
            };
            shown.insert(key.into(), Value::String(v.to_owned()));
        }
    }
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    (parts.status.as_u16(), shown, body)
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("application/json"))
}
