//! Sending a Graph request: token, `client-request-id`, retries, and turning the answer into a
//! model or an [`Error`].
//!
//! Retries (429/503/504, honouring `Retry-After`; transport errors only when the request cannot
//! have been applied) are decided by a pure function of [`RetryPolicy`] so they are unit-tested
//! without sockets. Waiting goes through the injected [`Sleeper`] and elapsed
//! time comes from the injected [`Clock`].

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use tracing::Instrument;

use crate::auth::TokenCache;
use crate::error::{
    BuildError, DecodeError, Error, ErrorCode, ErrorDetail, GraphError, InnerError, RequestSummary, TransportError,
};
use crate::runtime::{random_u64, random_uuid, Clock, RandomSource, Sleeper};

/// How throttled and failed requests are retried.
///
/// The default retries up to 3 times, backing off exponentially from 1 s (capped at 30 s per
/// wait, with jitter) unless Graph sends `Retry-After`, and gives up once 2 minutes have passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_retries: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_elapsed: Duration,
    jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            max_elapsed: Duration::from_secs(120),
            jitter: true,
        }
    }
}

/// What happened to one attempt, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Graph answered with `status`.
    Status { status: u16, retry_after: Option<Duration> },
    /// The request failed in transit. `may_be_applied` is false only when no connection was made.
    Transport { may_be_applied: bool, idempotent: bool },
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        Self { max_retries: 0, ..Self::default() }
    }

    /// Retries after the first attempt (default 3).
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// First back-off when Graph gives no `Retry-After` (default 1 s), doubled each retry.
    pub fn initial_backoff(mut self, d: Duration) -> Self {
        self.initial_backoff = d;
        self
    }

    /// Longest single back-off (default 30 s).
    pub fn max_backoff(mut self, d: Duration) -> Self {
        self.max_backoff = d;
        self
    }

    /// Give up rather than wait past this much time since the first attempt (default 120 s).
    pub fn max_elapsed(mut self, d: Duration) -> Self {
        self.max_elapsed = d;
        self
    }

    /// Randomise back-off between half and all of the computed value (default on).
    pub fn jitter(mut self, on: bool) -> Self {
        self.jitter = on;
        self
    }

    /// The wait before retry number `retries_done + 1`, or `None` to give up.
    pub(crate) fn delay(
        &self,
        retries_done: u32,
        outcome: Outcome,
        elapsed: Duration,
        jitter_sample: u64,
    ) -> Option<Duration> {
        if retries_done >= self.max_retries {
            return None;
        }
        let retry_after = match outcome {
            // 429: throttled; 503/504: gateway or service busy. Graph did not apply the request,
            // so even a POST is safe to repeat.
            Outcome::Status { status: 429 | 503 | 504, retry_after } => retry_after,
            Outcome::Status { .. } => return None,
            // A request that may have reached Graph is repeated only if repeating is harmless.
            Outcome::Transport { may_be_applied: true, idempotent: false } => return None,
            Outcome::Transport { .. } => None,
        };
        let delay = retry_after.unwrap_or_else(|| self.backoff(retries_done, jitter_sample));
        if elapsed + delay > self.max_elapsed {
            return None;
        }
        Some(delay)
    }

    fn backoff(&self, retries_done: u32, jitter_sample: u64) -> Duration {
        let factor = 2u32.saturating_pow(retries_done);
        let full = self.initial_backoff.saturating_mul(factor).min(self.max_backoff);
        if !self.jitter {
            return full;
        }
        let half = full / 2;
        let spread = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        half + Duration::from_millis(jitter_sample % spread.saturating_add(1))
    }
}

/// Parses `Retry-After`: whole or fractional seconds, or an HTTP date (relative to `now`).
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let at = time::PrimitiveDateTime::parse(value, &format).ok()?.assume_utc();
    Some(SystemTime::from(at).duration_since(now).unwrap_or(Duration::ZERO))
}

/// A Graph request about to be sent.
#[derive(Debug, Clone)]
pub(crate) struct GraphRequest {
    pub(crate) method: Method,
    /// Absolute URL.
    pub(crate) url: String,
    pub(crate) body: Option<serde_json::Value>,
    /// Send `ConsistencyLevel: eventual`.
    pub(crate) eventual: bool,
    /// Send `Prefer: odata.maxpagesize=N` (delta queries take their page size this way).
    pub(crate) max_page_size: Option<u32>,
}

/// A Graph answer with a 2xx status.
#[derive(Debug)]
pub(crate) struct GraphResponse {
    pub(crate) body: Vec<u8>,
    pub(crate) request: RequestSummary,
}

#[derive(Debug)]
pub(crate) struct Transport {
    pub(crate) http: reqwest::Client,
    pub(crate) graph_url: String,
    pub(crate) scope: String,
    pub(crate) tokens: Arc<TokenCache>,
    pub(crate) retry: RetryPolicy,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) sleeper: Arc<dyn Sleeper>,
    pub(crate) random: Arc<dyn RandomSource>,
    /// Pacing to Graph's throttling headers, shared by every request of this client.
    pub(crate) pacer: crate::pacing::Pacer,
}

fn idempotent(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS)
}

impl Transport {
    /// `true` when `url` is under the configured Graph base URL's origin; only those get a token.
    fn same_origin(&self, url: &str) -> bool {
        let origin_end =
            |u: &str| u.find("://").and_then(|i| u[i + 3..].find('/').map(|j| i + 3 + j)).unwrap_or(u.len());
        let base = &self.graph_url[..origin_end(&self.graph_url)];
        url.len() >= base.len() && url[..base.len()].eq_ignore_ascii_case(base) && url[base.len()..].starts_with('/')
    }

    pub(crate) async fn execute(&self, req: GraphRequest) -> Result<GraphResponse, Error> {
        let parsed = reqwest::Url::parse(&req.url)
            .map_err(|e| BuildError::with_source(format!("invalid URL {}", req.url), e))?;
        let summary = RequestSummary { method: req.method.to_string(), path: parsed.path().to_owned() };
        if !self.same_origin(&req.url) {
            return Err(
                BuildError::new(format!("{summary}: URL is not under the Graph base URL {}", self.graph_url)).into()
            );
        }
        let client_request_id = random_uuid(&*self.random).to_string();
        let started = self.clock.now();
        let mut retries = 0u32;
        let mut refreshed_token = false;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            self.pacer.before_request(&*self.clock, &*self.sleeper).await;
            let token = self.tokens.token(&self.scope).await.map_err(Error::Auth)?;
            let mut builder = self
                .http
                .request(req.method.clone(), parsed.clone())
                .header("client-request-id", &client_request_id)
                .bearer_auth(&token.token);
            if req.eventual {
                // Graph rejects $count, $search and advanced filters on directory objects
                // without this header; nextLinks do not carry it, so every page resends it.
                builder = builder.header("ConsistencyLevel", "eventual");
            }
            if let Some(n) = req.max_page_size {
                builder = builder.header("Prefer", format!("odata.maxpagesize={n}"));
            }
            if let Some(body) = &req.body {
                builder = builder.json(body);
            }
            let span = tracing::info_span!(
                "graph_request",
                method = %summary.method,
                path = %summary.path,
                attempt,
                status = tracing::field::Empty
            );
            let sent = async {
                let response = builder.send().await?;
                let status = response.status().as_u16();
                let headers = response.headers().clone();
                let body = response.bytes().await?;
                Ok::<_, reqwest::Error>((status, headers, body.to_vec()))
            }
            .instrument(span.clone())
            .await;
            let elapsed = self.clock.now().duration_since(started).unwrap_or_default();
            let (status, headers, body) = match sent {
                Ok(ok) => ok,
                Err(e) => {
                    let outcome =
                        Outcome::Transport { may_be_applied: !e.is_connect(), idempotent: idempotent(&req.method) };
                    if let Some(delay) = self.retry.delay(retries, outcome, elapsed, random_u64(&*self.random)) {
                        tracing::debug!(parent: &span, error = %e, ?delay, "retrying after transport error");
                        self.pacer.retry_wait(delay, false);
                        retries += 1;
                        self.sleeper.sleep(delay).await;
                        continue;
                    }
                    return Err(Error::Transport(TransportError::new(summary, e)));
                }
            };
            span.record("status", status);
            let retry_after = headers
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, self.clock.now()));
            let percentage = headers
                .get("x-ms-throttle-limit-percentage")
                .and_then(|v| v.to_str().ok())
                .and_then(crate::pacing::parse_percentage);
            self.pacer.observe(status, percentage, retry_after, self.clock.now());
            if (200..300).contains(&status) {
                return Ok(GraphResponse { body, request: summary });
            }
            let error = graph_error(status, &headers, &body, retry_after, &summary, &client_request_id);
            if status == 401 && !refreshed_token && error.code == "InvalidAuthenticationToken" {
                // The token expired or was revoked between cache check and use: fetch a fresh
                // one once; a second 401 is the caller's problem.
                tracing::debug!(parent: &span, "token rejected; refreshing once");
                self.tokens.invalidate(&self.scope, &token.token).await;
                refreshed_token = true;
                continue;
            }
            let outcome = Outcome::Status { status, retry_after };
            if let Some(delay) = self.retry.delay(retries, outcome, elapsed, random_u64(&*self.random)) {
                tracing::debug!(parent: &span, status, ?delay, "retrying");
                self.pacer.retry_wait(delay, retry_after.is_some());
                retries += 1;
                self.sleeper.sleep(delay).await;
                continue;
            }
            return Err(Error::Api(Box::new(error)));
        }
    }
}

#[derive(Deserialize)]
struct Envelope {
    error: EnvelopeError,
}

#[derive(Deserialize)]
struct EnvelopeError {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default, rename = "innerError", alias = "innererror")]
    inner_error: Option<EnvelopeInner>,
    #[serde(default)]
    details: Vec<ErrorDetail>,
}

#[derive(Deserialize)]
struct EnvelopeInner {
    date: Option<String>,
    #[serde(rename = "request-id")]
    request_id: Option<String>,
    #[serde(rename = "client-request-id")]
    client_request_id: Option<String>,
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v: &HeaderValue| v.to_str().ok()).map(str::to_owned)
}

pub(crate) fn graph_error_from_body(
    status: u16,
    body: &[u8],
    retry_after: Option<Duration>,
    request: &RequestSummary,
) -> GraphError {
    let (code, message, inner, details) = match serde_json::from_slice::<Envelope>(body) {
        Ok(env) => {
            let inner = env.error.inner_error.map(|i| InnerError {
                request_id: i.request_id,
                client_request_id: i.client_request_id,
                date: i.date,
            });
            (env.error.code.into(), env.error.message, inner.unwrap_or_default(), env.error.details)
        }
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let snippet: String = text.chars().take(200).collect();
            (ErrorCode::Other(String::new()), snippet, InnerError::default(), Vec::new())
        }
    };
    GraphError { status, code, message, inner_error: inner, details, retry_after, request: request.clone() }
}

fn graph_error(
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    retry_after: Option<Duration>,
    request: &RequestSummary,
    client_request_id: &str,
) -> GraphError {
    let mut error = graph_error_from_body(status, body, retry_after, request);
    if error.inner_error.request_id.is_none() {
        error.inner_error.request_id = header(headers, "request-id");
    }
    if error.inner_error.client_request_id.is_none() {
        error.inner_error.client_request_id =
            header(headers, "client-request-id").or_else(|| Some(client_request_id.to_owned()));
    }
    error
}

/// Decodes a body with the JSON path of the first mismatch; an empty body decodes as `null`.
pub(crate) fn decode<T: DeserializeOwned>(body: &[u8], request: &RequestSummary) -> Result<T, Error> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) { b"null" } else { body };
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        Error::Decode(DecodeError::new(request.clone(), path, e.into_inner().to_string()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_jitter() -> RetryPolicy {
        RetryPolicy::default().jitter(false)
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_then_gives_up_after_max_retries() {
        let p = no_jitter().max_backoff(Duration::from_secs(3));
        let busy = Outcome::Status { status: 503, retry_after: None };
        let delays: Vec<_> = (0..4).map(|n| p.delay(n, busy, Duration::ZERO, 0)).collect();
        assert_eq!(
            delays,
            [Some(Duration::from_secs(1)), Some(Duration::from_secs(2)), Some(Duration::from_secs(3)), None]
        );
    }

    #[test]
    fn retry_after_wins_over_backoff_but_not_over_the_time_budget() {
        let p = no_jitter().max_elapsed(Duration::from_secs(10));
        let throttled = Outcome::Status { status: 429, retry_after: Some(Duration::from_millis(2500)) };
        assert_eq!(p.delay(0, throttled, Duration::ZERO, 0), Some(Duration::from_millis(2500)));
        assert_eq!(p.delay(0, throttled, Duration::from_secs(8), 0), None);
    }

    #[test]
    fn only_throttling_and_gateway_statuses_are_retried() {
        let p = no_jitter();
        for (status, retried) in
            [(429, true), (503, true), (504, true), (500, false), (502, false), (400, false), (404, false)]
        {
            let outcome = Outcome::Status { status, retry_after: None };
            assert_eq!(p.delay(0, outcome, Duration::ZERO, 0).is_some(), retried, "status {status}");
        }
    }

    #[test]
    fn a_post_that_may_have_been_applied_is_never_retried() {
        let p = no_jitter();
        let maybe_applied_post = Outcome::Transport { may_be_applied: true, idempotent: false };
        let unsent_post = Outcome::Transport { may_be_applied: false, idempotent: false };
        let maybe_applied_get = Outcome::Transport { may_be_applied: true, idempotent: true };
        assert_eq!(p.delay(0, maybe_applied_post, Duration::ZERO, 0), None);
        assert!(p.delay(0, unsent_post, Duration::ZERO, 0).is_some());
        assert!(p.delay(0, maybe_applied_get, Duration::ZERO, 0).is_some());
    }

    #[test]
    fn jitter_stays_between_half_and_full_backoff() {
        let p = RetryPolicy::default();
        let busy = Outcome::Status { status: 503, retry_after: None };
        for sample in [0, 1, 499, 500, 501, u64::MAX] {
            let d = p.delay(1, busy, Duration::ZERO, sample).expect("retry");
            assert!(d >= Duration::from_secs(1) && d <= Duration::from_secs(2), "{d:?}");
        }
    }

    #[test]
    fn retry_after_parses_seconds_fractions_and_http_dates() {
        let now = SystemTime::from(time::macros::datetime!(2026-03-02 10:30:00 UTC));
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("2.128", now), Some(Duration::from_secs_f64(2.128)));
        assert_eq!(parse_retry_after("Mon, 02 Mar 2026 10:30:30 GMT", now), Some(Duration::from_secs(30)));
        assert_eq!(parse_retry_after("Mon, 02 Mar 2026 10:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }

    #[test]
    fn error_envelope_is_parsed_with_inner_error_and_details() {
        let body = br#"{"error":{"code":"Request_BadRequest","message":"dup","details":[{"target":"userPrincipalName","code":"ObjectConflict"}],
            "innerError":{"date":"2026-03-02T10:21:07","request-id":"r1","client-request-id":"c1"}}}"#;
        let req = RequestSummary { method: "POST".into(), path: "/v1.0/users".into() };
        let e = graph_error_from_body(400, body, None, &req);
        assert_eq!(e.code, "Request_BadRequest");
        assert_eq!(e.inner_error.request_id.as_deref(), Some("r1"));
        assert_eq!(e.inner_error.date.as_deref(), Some("2026-03-02T10:21:07"));
        assert_eq!(e.details[0].target.as_deref(), Some("userPrincipalName"));
    }

    #[test]
    fn decode_errors_carry_the_json_path() {
        #[derive(Debug, Deserialize)]
        struct Page {
            #[allow(dead_code)]
            value: Vec<Item>,
        }
        #[derive(Debug, Deserialize)]
        struct Item {
            #[allow(dead_code)]
            n: u32,
        }
        let req = RequestSummary { method: "GET".into(), path: "/v1.0/x".into() };
        let err = decode::<Page>(br#"{"value":[{"n":1},{"n":"two"}]}"#, &req).expect_err("mismatch");
        let Error::Decode(d) = err else { panic!("not a decode error") };
        assert_eq!(d.json_path(), "value[1].n");
    }
}
