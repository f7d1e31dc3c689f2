//! JSON batching, `POST /v1.0/$batch`: up to 20
//! requests, run one by one in an order that honours `dependsOn`; a request
//! whose dependency failed gets 424. No transactions: earlier writes stay.
//!
//! The body is untrusted and up to the 4 MiB body limit: every bound Graph
//! states (20 requests, no nesting) is checked on what the router will see,
//! and the rest of the reading is linear in the body (id and dependency
//! lookups through hash maps, dependencies deduplicated, a topological order).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde_json::{json, Map, Value};

use super::{json_body, Ctx, Reply};
use crate::error::ApiError;
use crate::http::{Inbound, Server};
use crate::odata::{parse_path, Segment};

/// Graph's limit on requests per batch.
const MAX_REQUESTS: usize = 20;
/// Headers one inner request may carry: what hyper (and so this server) accepts
/// on a request of its own, so a batch cannot send what a direct call cannot.
/// Graph's own figure is not documented.
const MAX_HEADERS: usize = 100;

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
    let mut ids: HashSet<&str> = HashSet::with_capacity(requests.len());
    for r in requests {
        let r = r.as_object().ok_or_else(|| bad("Each batch request must be a JSON object."))?;
        let id = match r.get("id") {
            Some(Value::String(s)) if !s.is_empty() => s.as_str(),
            _ => return Err(bad("Each batch request needs a non-empty string \"id\".")),
        };
        if !ids.insert(id) {
            return Err(bad(format!("Batch request ids must be unique; '{id}' appears more than once.")));
        }
        let id = id.to_owned();
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
        if names_batch(&url) {
            return Err(bad(format!("Batch request '{id}': batches cannot be nested.")));
        }
        let headers = r.get("headers").and_then(Value::as_object).cloned().unwrap_or_default();
        if headers.len() > MAX_HEADERS {
            return Err(bad(format!(
                "Batch request '{id}' has {} headers; a request may carry at most {MAX_HEADERS}.",
                headers.len()
            )));
        }
        let body = r.get("body").filter(|b| !b.is_null()).cloned();
        if body.is_some() && !headers.keys().any(|k| k.eq_ignore_ascii_case("content-type")) {
            return Err(bad(format!("Write request id : {id} does not contain Content-Type header or body.")));
        }
        let not_ids = || bad(format!("Batch request '{id}': dependsOn must be an array of request ids."));
        let depends_on = match r.get("dependsOn") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => {
                // A repeated id adds nothing to the order; keeping one keeps the
                // ordering work proportional to the batch, not to the body.
                let mut seen = HashSet::new();
                let mut deps = Vec::new();
                for d in a {
                    let d = d.as_str().ok_or_else(not_ids)?;
                    if seen.insert(d) {
                        deps.push(d.to_owned());
                    }
                }
                deps
            }
            Some(_) => return Err(not_ids()),
        };
        items.push(Item { id, method, url, headers, body, depends_on });
    }
    let ids: HashSet<&str> = items.iter().map(|i| i.id.as_str()).collect();
    for item in &items {
        for dep in &item.depends_on {
            if !ids.contains(dep.as_str()) || dep == &item.id {
                return Err(bad(format!(
                    "Batch request '{}' depends on '{dep}', which is not a request of this batch.",
                    item.id
                )));
            }
        }
    }
    Ok(items)
}

/// Whether an inner request's path names `$batch`, decided on the path as the
/// router will read it: `parse_path` percent-decodes each segment and matches
/// `$batch` in any case, so `/%24batch` and `/%24BATCH` are `$batch` too.
fn names_batch(url: &str) -> bool {
    let path = url.split_once('?').map_or(url, |(p, _)| p);
    parse_path(path).is_ok_and(|p| p.segments().contains(&Segment::Batch))
}

/// An order in which every request runs after its dependencies; among the
/// requests that are ready, the earliest in the body runs first.
fn order(items: &[Item]) -> Result<Vec<usize>, ApiError> {
    let index: HashMap<&str, usize> = items.iter().enumerate().map(|(i, item)| (item.id.as_str(), i)).collect();
    let mut waiting: Vec<usize> = items.iter().map(|i| i.depends_on.len()).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); items.len()];
    for (i, item) in items.iter().enumerate() {
        for dep in &item.depends_on {
            if let Some(&d) = index.get(dep.as_str()) {
                dependents[d].push(i);
            }
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> = (0..items.len()).filter(|i| waiting[*i] == 0).map(Reverse).collect();
    let mut done: Vec<usize> = Vec::with_capacity(items.len());
    while let Some(Reverse(i)) = ready.pop() {
        done.push(i);
        for &next in &dependents[i] {
            waiting[next] -= 1;
            if waiting[next] == 0 {
                ready.push(Reverse(next));
            }
        }
    }
    if done.len() < items.len() {
        return Err(bad("The dependsOn references of this batch form a cycle."));
    }
    Ok(done)
}

/// What `batch` decides before it runs anything, for a body sent as
/// `application/json`: the requests' ids and dependencies in the order they
/// would run, or the error the caller gets. The fuzz target's entry point.
pub(crate) fn plan(body: Bytes) -> Result<Vec<(String, Vec<String>)>, ApiError> {
    let mut headers = HeaderMap::new();
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let req = Inbound {
        method: Method::POST,
        path: "/v1.0/$batch".into(),
        query: String::new(),
        headers,
        body,
        authority: "".into(),
        host_is_ours: true,
        peer: ([127, 0, 0, 1], 0).into(),
        request_id: uuid::Uuid::nil(),
    };
    let items = parse(&json_body(&req)?)?;
    let order = order(&items)?;
    Ok(order.into_iter().map(|i| (items[i].id.clone(), items[i].depends_on.clone())).collect())
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
            let e = ApiError::new(
                424,
                "FailedDependency",
                format!("The request depends on request '{dep}', which failed."),
            );
            let c = crate::service::response::Correlation {
                request_id: server.next_request_id(),
                client_sent: None,
                now: ctx.tenant.clock.now(),
            };
            responses.push(json!({
                "id": item.id, "status": 424,
                "body": crate::service::response::graph_error_body(&e, &c),
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
        path: format!("/v1.0{path}").into(),
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
    let bytes = crate::http::response::body_bytes(body);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn get(id: &str, url: &str) -> Value {
        json!({"id": id, "method": "GET", "url": url})
    }

    fn plan_of(requests: Vec<Value>) -> Result<Vec<(String, Vec<String>)>, ApiError> {
        plan(Bytes::from(serde_json::to_vec(&json!({ "requests": requests })).expect("JSON")))
    }

    fn ids(planned: &[(String, Vec<String>)]) -> Vec<&str> {
        planned.iter().map(|(id, _)| id.as_str()).collect()
    }

    fn assert_bad_request(result: Result<Vec<(String, Vec<String>)>, ApiError>, message: &str) {
        let e = result.expect_err("refused");
        assert_eq!((e.status, e.code.as_ref()), (400, "BadRequest"), "{}", e.message);
        assert!(e.message.contains(message), "{}", e.message);
    }

    #[test]
    fn a_nested_batch_is_refused_however_its_url_is_spelled() {
        let nested = |url: &str| json!({"id": "1", "method": "POST", "url": url, "headers": {"Content-Type": "application/json"}, "body": {"requests": []}});
        for url in
            ["/$batch", "$batch", "/$BATCH", "/%24batch", "%24batch", "/%24Batch", "/%24batch?x=1", "/v1.0/%24batch"]
        {
            assert_bad_request(plan_of(vec![nested(url)]), "batches cannot be nested");
        }
        // Decoded once, as the router decodes it: this names a segment "%24batch".
        assert!(plan_of(vec![nested("/users/%2524batch")]).is_ok());
    }

    #[test]
    fn more_than_twenty_requests_are_refused() {
        let twenty: Vec<Value> = (0..20).map(|i| get(&i.to_string(), "/users")).collect();
        assert_eq!(plan_of(twenty.clone()).map(|p| p.len()).ok(), Some(20));
        let mut twenty_one = twenty;
        twenty_one.push(get("20", "/users"));
        assert_bad_request(plan_of(twenty_one), "exceeds the limit of 20");
    }

    #[test]
    fn json_nested_past_serdes_recursion_limit_is_graphs_unreadable_payload_error() {
        for depth in [129, 100_000] {
            let body = format!("{{\"requests\":{}{}}}", "[".repeat(depth), "]".repeat(depth));
            // serde_json stops at depth 128 whatever the input; a tokio worker's
            // default 2 MiB stack holds that much recursion even unoptimised.
            let result = std::thread::Builder::new()
                .stack_size(2 * 1024 * 1024)
                .spawn(move || plan(Bytes::from(body)).map(|p| p.len()))
                .expect("spawn")
                .join()
                .expect("no stack overflow");
            let e = result.expect_err("too deep");
            assert_eq!((e.status, e.code.as_ref()), (400, "BadRequest"));
            assert!(e.message.starts_with("Unable to read JSON request payload."), "{}", e.message);
        }
    }

    #[test]
    fn requests_run_after_their_dependencies_earliest_ready_first() {
        let planned = plan_of(vec![
            json!({"id": "a", "method": "GET", "url": "/users", "dependsOn": ["b"]}),
            get("b", "/users"),
            get("c", "/users"),
            json!({"id": "d", "method": "GET", "url": "/users", "dependsOn": ["a", "c"]}),
        ])
        .expect("valid");
        assert_eq!(ids(&planned), ["b", "a", "c", "d"]);
    }

    #[test]
    fn a_dependency_repeated_half_a_million_times_counts_once() {
        let deps = vec!["b"; 500_000];
        let planned =
            plan_of(vec![json!({"id": "a", "method": "GET", "url": "/users", "dependsOn": deps}), get("b", "/users")])
                .expect("valid");
        assert_eq!(ids(&planned), ["b", "a"]);
        assert_eq!(planned[1].1, ["b"]);
    }

    #[test]
    fn cycles_self_references_and_unknown_dependencies_are_refused() {
        let dep = |id: &str, on: &str| json!({"id": id, "method": "GET", "url": "/users", "dependsOn": [on]});
        let chain: Vec<Value> = (0..20).map(|i| dep(&i.to_string(), &((i + 1) % 20).to_string())).collect();
        assert_bad_request(plan_of(chain), "form a cycle");
        assert_bad_request(plan_of(vec![dep("a", "a")]), "depends on 'a', which is not a request of this batch");
        assert_bad_request(plan_of(vec![dep("a", "z")]), "depends on 'z', which is not a request of this batch");
        assert_bad_request(
            plan_of(vec![json!({"id": "a", "method": "GET", "url": "/users", "dependsOn": [1]})]),
            "dependsOn must be an array of request ids",
        );
    }

    #[test]
    fn ids_must_be_unique_however_long() {
        let long = "x".repeat(100_000);
        let distinct: Vec<Value> = (0..20).map(|i| get(&format!("{long}{i}"), "/users")).collect();
        assert_eq!(plan_of(distinct).map(|p| p.len()).ok(), Some(20));
        assert_bad_request(plan_of(vec![get(&long, "/users"), get(&long, "/users")]), "must be unique");
        assert_bad_request(plan_of(vec![get("", "/users")]), "non-empty string \"id\"");
    }

    #[test]
    fn an_inner_request_carries_at_most_a_hundred_headers() {
        let with_headers = |n: usize| {
            let headers: Map<String, Value> = (0..n).map(|i| (format!("x-h{i}"), Value::from("v"))).collect();
            json!({"id": "1", "method": "GET", "url": "/users", "headers": headers})
        };
        assert!(plan_of(vec![with_headers(MAX_HEADERS)]).is_ok());
        assert_bad_request(plan_of(vec![with_headers(40_000)]), "has 40000 headers; a request may carry at most 100");
    }
}
