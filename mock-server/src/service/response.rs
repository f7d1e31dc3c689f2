//! Writing responses: Graph's headers, Graph's error envelope, the identity
//! platform's error envelope. The only place the mock produces bytes.

use bytes::Bytes;
use http::{header, HeaderName, HeaderValue, Response, StatusCode};
use http_body_util::Full;
use serde_json::{json, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::clock::{format_http_date, format_inner_error_date};
use crate::error::ApiError;

pub(crate) type Body = Full<Bytes>;

/// Graph's content type for successful JSON bodies.
pub(crate) const GRAPH_JSON: &str =
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/// Per-request facts every Graph response carries.
#[derive(Debug, Clone)]
pub(crate) struct Correlation {
    pub request_id: Uuid,
    /// The caller's `client-request-id`, if it sent one.
    pub client_sent: Option<String>,
    pub now: OffsetDateTime,
}

impl Correlation {
    /// What Graph echoes as `client-request-id`: the caller's, else the request id.
    pub(crate) fn client_request_id(&self) -> std::borrow::Cow<'_, str> {
        match &self.client_sent {
            Some(sent) => std::borrow::Cow::Borrowed(sent),
            None => std::borrow::Cow::Owned(self.request_id.to_string()),
        }
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("request-id");
const CLIENT_REQUEST_ID: HeaderName = HeaderName::from_static("client-request-id");
const ODATA_VERSION: HeaderName = HeaderName::from_static("odata-version");
const AGS_DIAGNOSTIC: HeaderName = HeaderName::from_static("x-ms-ags-diagnostic");
const RESOURCE_UNIT: HeaderName = HeaderName::from_static("x-ms-resource-unit");
const X_MS_REQUEST_ID: HeaderName = HeaderName::from_static("x-ms-request-id");
const ESTS_SERVER: HeaderName = HeaderName::from_static("x-ms-ests-server");

/// Graph's headers on a response with `body`. Every Graph answer goes through
/// here, so the headers go straight into a map sized for them, with constant
/// names and values; only the ids and the date are made per request.
fn graph_response(status: u16, c: &Correlation, content_type: Option<HeaderValue>, body: Bytes) -> Response<Body> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = response.headers_mut();
    h.reserve(12);
    let request_id = uuid_value(c.request_id);
    let client_request_id = match &c.client_sent {
        Some(sent) => header_safe(sent),
        None => request_id.clone(),
    };
    h.insert(REQUEST_ID, request_id);
    h.insert(CLIENT_REQUEST_ID, client_request_id);
    h.insert(header::DATE, http_date(c.now));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    h.insert(ODATA_VERSION, HeaderValue::from_static("4.0"));
    h.insert(
        AGS_DIAGNOSTIC,
        HeaderValue::from_static(
            r#"{"ServerInfo":{"DataCenter":"graphbox","Slice":"E","Ring":"0","ScaleUnit":"000","RoleInstance":"graphbox"}}"#,
        ),
    );
    h.insert(RESOURCE_UNIT, HeaderValue::from_static("1"));
    if let Some(ct) = content_type {
        h.insert(header::CONTENT_TYPE, ct);
    }
    response
}

fn uuid_value(id: Uuid) -> HeaderValue {
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    id.hyphenated().encode_lower(&mut buf);
    // Owned by the value rather than copied into it: a response without a
    // client-request-id clones this one into that header too, and a clone of
    // a copied slice allocated again where this one shares.
    HeaderValue::from_maybe_shared(Bytes::from_owner(buf)).expect("a hyphenated GUID is a valid header value")
}

/// The `Date` header for `now`, formatted once per second per thread: every
/// response carries one and most land in the same second as the last.
fn http_date(now: OffsetDateTime) -> HeaderValue {
    thread_local! {
        static LAST: std::cell::RefCell<Option<(i64, HeaderValue)>> = const { std::cell::RefCell::new(None) };
    }
    let second = now.unix_timestamp();
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        match &*last {
            Some((s, v)) if *s == second => v.clone(),
            _ => {
                let v = HeaderValue::from_str(&format_http_date(now)).expect("an HTTP date is a valid header value");
                *last = Some((second, v.clone()));
                v
            }
        }
    })
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

/// A JSON body's bytes; most Graph bodies are a few hundred bytes, so start
/// there rather than growing from serde_json's default.
fn json_bytes(body: &Value) -> Bytes {
    let mut out = Vec::with_capacity(512);
    serde_json::to_writer(&mut out, body).expect("JSON values serialize");
    Bytes::from(out)
}

pub(crate) fn graph_json(status: u16, body: &Value, c: &Correlation, location: Option<&str>) -> Response<Body> {
    let mut r = graph_response(status, c, Some(HeaderValue::from_static(GRAPH_JSON)), json_bytes(body));
    if let Some(loc) = location {
        r.headers_mut().insert(header::LOCATION, header_safe(loc));
    }
    r
}

/// [`graph_json`] for a body serialized by the caller.
pub(crate) fn graph_json_bytes(status: u16, json: Vec<u8>, c: &Correlation) -> Response<Body> {
    graph_response(status, c, Some(HeaderValue::from_static(GRAPH_JSON)), Bytes::from(json))
}

pub(crate) fn graph_text(status: u16, text: String, c: &Correlation) -> Response<Body> {
    graph_response(status, c, Some(HeaderValue::from_static("text/plain")), Bytes::from(text))
}

pub(crate) fn no_content(c: &Correlation) -> Response<Body> {
    graph_response(204, c, None, Bytes::new())
}

/// Graph's error envelope.
pub(crate) fn graph_error(e: &ApiError, c: &Correlation) -> Response<Body> {
    let body = graph_error_body(e, c);
    graph_error_response(e, c, &body)
}

/// The JSON of Graph's error envelope, `innerError` included: every error
/// Graph answers carries it, inside a `$batch` response too.
pub(crate) fn graph_error_body(e: &ApiError, c: &Correlation) -> Value {
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
            "client-request-id": c.client_request_id(),
        }),
    );
    json!({ "error": Value::Object(error) })
}

fn graph_error_response(e: &ApiError, c: &Correlation, body: &Value) -> Response<Body> {
    let mut r = graph_response(e.status, c, Some(HeaderValue::from_static("application/json")), json_bytes(body));
    let h = r.headers_mut();
    if e.status == 401 {
        h.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(
                r#"Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000""#,
            ),
        );
    }
    if let Some(seconds) = e.retry_after {
        // Graph sends whole seconds in most answers and a fraction in some;
        // keep what the fault asked for.
        let value = if seconds.fract() == 0.0 { format!("{}", seconds as u64) } else { format!("{seconds}") };
        h.insert(header::RETRY_AFTER, header_safe(&value));
    }
    r
}

/// A response from the identity platform's side (token, discovery, keys).
pub(crate) fn identity_json(status: u16, body: &Value, c: &Correlation, cache: &'static str) -> Response<Body> {
    let b = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST))
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .header(header::CACHE_CONTROL, cache)
        .header(header::PRAGMA, "no-cache")
        .header(header::EXPIRES, "-1")
        .header(X_MS_REQUEST_ID, uuid_value(c.request_id))
        .header(CLIENT_REQUEST_ID, header_safe(&c.client_request_id()))
        .header(ESTS_SERVER, HeaderValue::from_static("graphbox"))
        .header(header::DATE, http_date(c.now));
    finish(b, json_bytes(body))
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

/// A finished response's body as bytes. Every body here is a `Full`, which is
/// ready at once, so one poll without a waker takes it.
pub(crate) fn body_bytes(body: Body) -> Bytes {
    use http_body_util::BodyExt;
    use std::task::{Context, Poll, Waker};
    let mut collect = std::pin::pin!(body.collect());
    match std::future::Future::poll(collect.as_mut(), &mut Context::from_waker(Waker::noop())) {
        Poll::Ready(Ok(c)) => c.to_bytes(),
        _ => Bytes::new(),
    }
}

/// A sign-in page or redirect from the identity platform: HTML or `302`,
/// never cached, with the session cookie when one is set. Pages may not be
/// framed (clickjacking a consent page would defeat its anti-forgery value).
pub(crate) fn identity_page(
    status: u16,
    html: Option<String>,
    location: Option<&str>,
    set_cookie: Option<&str>,
    c: &Correlation,
) -> Response<Body> {
    let mut b = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST))
        .header(header::CACHE_CONTROL, "no-store, no-cache")
        .header(header::PRAGMA, "no-cache")
        .header(header::EXPIRES, "-1")
        .header(header::X_FRAME_OPTIONS, "DENY")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(header::REFERRER_POLICY, "no-referrer")
        .header(X_MS_REQUEST_ID, uuid_value(c.request_id))
        .header(CLIENT_REQUEST_ID, header_safe(&c.client_request_id()))
        .header(ESTS_SERVER, HeaderValue::from_static("graphbox"))
        .header(header::DATE, http_date(c.now));
    if let Some(location) = location {
        b = b.header(header::LOCATION, header_safe(location));
    }
    if let Some(cookie) = set_cookie {
        b = b.header(header::SET_COOKIE, header_safe(cookie));
    }
    let body = match html {
        Some(html) => {
            b = b.header(header::CONTENT_TYPE, "text/html; charset=utf-8");
            Bytes::from(html)
        }
        None => Bytes::new(),
    };
    finish(b, body)
}
