//! Writing responses: Graph's headers, Graph's error envelope, the identity
//! platform's error envelope. The only place the mock produces bytes.

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use http_body_util::Full;
use serde_json::{json, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::clock::{format_http_date, format_inner_error_date};
use crate::error::ApiError;

pub(crate) type Body = Full<Bytes>;

/// Graph's content type for successful JSON bodies (reference/clients.md item 17).
pub(crate) const GRAPH_JSON: &str =
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/// Per-request facts every Graph response carries.
#[derive(Debug, Clone)]
pub(crate) struct Correlation {
    pub request_id: Uuid,
    /// The caller's `client-request-id`, echoed; else the request id.
    pub client_request_id: String,
    pub now: OffsetDateTime,
}

fn base(status: u16, c: &Correlation) -> http::response::Builder {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("request-id", c.request_id.to_string())
        .header("client-request-id", header_safe(&c.client_request_id))
        .header(header::DATE, format_http_date(c.now))
        .header(header::CACHE_CONTROL, "no-cache")
        .header(header::STRICT_TRANSPORT_SECURITY, "max-age=31536000")
        .header("OData-Version", "4.0")
        .header(
            "x-ms-ags-diagnostic",
            r#"{"ServerInfo":{"DataCenter":"graphbox","Slice":"E","Ring":"0","ScaleUnit":"000","RoleInstance":"graphbox"}}"#,
        )
        .header("x-ms-resource-unit", "1")
}

fn header_safe(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

fn finish(builder: http::response::Builder, body: Bytes) -> Response<Body> {
    builder.body(Full::new(body)).unwrap_or_else(|_| {
        let mut r = Response::new(Full::new(Bytes::new()));
        *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}

pub(crate) fn graph_json(status: u16, body: &Value, c: &Correlation, location: Option<&str>) -> Response<Body> {
    let mut b = base(status, c).header(header::CONTENT_TYPE, GRAPH_JSON);
    if let Some(loc) = location {
        b = b.header(header::LOCATION, header_safe(loc));
    }
    finish(b, Bytes::from(serde_json::to_vec(body).expect("JSON values serialize")))
}

pub(crate) fn graph_text(status: u16, text: String, c: &Correlation) -> Response<Body> {
    finish(base(status, c).header(header::CONTENT_TYPE, "text/plain"), Bytes::from(text))
}

pub(crate) fn no_content(c: &Correlation) -> Response<Body> {
    finish(base(204, c), Bytes::new())
}

/// Graph's error envelope (reference/graph-wire.md §2.1).
pub(crate) fn graph_error(e: &ApiError, c: &Correlation) -> Response<Body> {
    let mut error = serde_json::Map::new();
    error.insert("code".into(), Value::String(e.code.to_string()));
    error.insert("message".into(), Value::String(e.message.clone()));
    if !e.details.is_empty() {
        error.insert(
            "details".into(),
            Value::Array(e.details.iter().map(|d| json!({"target": d.target, "code": d.code})).collect()),
        );
    }
    error.insert(
        "innerError".into(),
        json!({
            "date": format_inner_error_date(c.now),
            "request-id": c.request_id.to_string(),
            "client-request-id": c.client_request_id,
        }),
    );
    let body = json!({ "error": Value::Object(error) });
    let mut b = base(e.status, c).header(header::CONTENT_TYPE, "application/json");
    if e.status == 401 {
        b = b.header(
            header::WWW_AUTHENTICATE,
            r#"Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000""#,
        );
    }
    if let Some(seconds) = e.retry_after {
        // Graph sends whole seconds in most answers and a fraction in some
        // (reference/graph-wire.md §2.2); keep what the fault asked for.
        let value = if seconds.fract() == 0.0 { format!("{}", seconds as u64) } else { format!("{seconds}") };
        b = b.header(header::RETRY_AFTER, value);
    }
    finish(b, Bytes::from(serde_json::to_vec(&body).expect("JSON values serialize")))
}

/// A response from the identity platform's side (token, discovery, keys).
pub(crate) fn identity_json(status: u16, body: &Value, c: &Correlation, cache: &'static str) -> Response<Body> {
    let b = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST))
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .header(header::CACHE_CONTROL, cache)
        .header(header::PRAGMA, "no-cache")
        .header(header::EXPIRES, "-1")
        .header("x-ms-request-id", c.request_id.to_string())
        .header("client-request-id", header_safe(&c.client_request_id))
        .header("x-ms-ests-server", "graphbox")
        .header(header::DATE, format_http_date(c.now));
    finish(b, Bytes::from(serde_json::to_vec(body).expect("JSON values serialize")))
}

/// A plain JSON answer from the control API.
pub(crate) fn control_json(status: u16, body: &Value) -> Response<Body> {
    let b = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST))
        .header(header::CONTENT_TYPE, "application/json");
    finish(b, Bytes::from(serde_json::to_vec(body).expect("JSON values serialize")))
}

pub(crate) fn control_error(status: u16, message: &str) -> Response<Body> {
    control_json(status, &json!({"error": {"code": "graphbox", "message": message}}))
}
