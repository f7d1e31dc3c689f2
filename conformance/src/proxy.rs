//! A recording proxy between a scenario's clients and the target.
//!
//! The SDK decodes bodies into typed models and exposes no raw response, yet every body a
//! scenario receives must be checked against Microsoft's CSDL — including properties no
//! assertion reads. So each scenario's SDK client (and its raw HTTP calls) talks to a
//! loopback proxy that forwards to the target, validates each response against
//! [`Spec`], and keeps a log that failure messages quote ("the request").
//!
//! Paths under `/v1.0` go to the Graph upstream, everything else to the identity platform.
//! Absolute links in bodies (`@odata.nextLink`, `deltaLink`) are rewritten from the upstream
//! to the proxy so the SDK keeps following them through it; `@odata.context` is rewritten too,
//! which is why scenarios compare its fragment, never its host.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::spec::{Checked, Spec};

/// One request that went through the proxy and what came back.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// `GET`, `POST`, …
    pub method: String,
    /// Path and query as sent, e.g. `/v1.0/users?$top=2`.
    pub target: String,
    /// Response status (502 when the upstream could not be reached).
    pub status: u16,
    /// The JSON body, if the response had one that parsed.
    pub body: Option<Value>,
    /// The response's `Content-Type`.
    pub content_type: Option<String>,
    /// The bearer token the request carried (Graph requests), kept so scenarios can read claims.
    pub bearer: Option<String>,
    /// Schema check of the body.
    pub checked: Checked,
}

impl Exchange {
    /// `POST /v1.0/users → 400`, the form failure messages use.
    pub fn summary(&self) -> String {
        format!("{} {} → {}", self.method, self.target, self.status)
    }
}

/// Shared between the accept loop and the handle.
#[derive(Debug)]
struct State {
    graph_upstream: String,
    authority_upstream: String,
    own_origin: String,
    client: reqwest::Client,
    spec: Arc<Spec>,
    log: Mutex<Vec<Exchange>>,
}

/// A running proxy; dropping it stops accepting connections.
#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
    state: Arc<State>,
    accept: JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl Proxy {
    /// Starts a proxy on `127.0.0.1:0`. `graph_origin` and `authority_origin` are
    /// `scheme://host[:port]` with no path.
    ///
    /// # Errors
    ///
    /// If the loopback listener cannot be bound or the upstream client cannot be built.
    pub async fn start(
        graph_origin: &str,
        authority_origin: &str,
        ca_pem: Option<&str>,
        spec: Arc<Spec>,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(120));
        if let Some(pem) = ca_pem {
            let cert = reqwest::Certificate::from_pem(pem.as_bytes()).map_err(std::io::Error::other)?;
            builder = builder.add_root_certificate(cert);
        }
        let client = builder.build().map_err(std::io::Error::other)?;
        let state = Arc::new(State {
            graph_upstream: graph_origin.trim_end_matches('/').to_owned(),
            authority_upstream: authority_origin.trim_end_matches('/').to_owned(),
            own_origin: format!("http://{addr}"),
            client,
            spec,
            log: Mutex::new(Vec::new()),
        });
        let loop_state = state.clone();
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = loop_state.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(forward(&state, req).await) }
                    });
                    // A client hanging up mid-request is not the target's fault; nothing to log.
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
        Ok(Self { addr, state, accept })
    }

    /// `http://127.0.0.1:PORT`: the authority host to give the SDK.
    pub fn origin(&self) -> &str {
        &self.state.own_origin
    }

    /// `http://127.0.0.1:PORT/v1.0`: the Graph base URL to give the SDK.
    pub fn graph_url(&self) -> String {
        format!("{}/v1.0", self.state.own_origin)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every exchange so far, oldest first.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.state.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// The most recent exchange.
    pub fn last(&self) -> Option<Exchange> {
        self.state.log.lock().ok().and_then(|l| l.last().cloned())
    }

    /// How many exchanges so far (to find the ones a step made).
    pub fn len(&self) -> usize {
        self.state.log.lock().map(|l| l.len()).unwrap_or(0)
    }

    /// Whether nothing went through yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

async fn forward(state: &State, req: Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    let target = req.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "/".into());
    let path = req.uri().path().to_owned();
    let upstream = if path == "/v1.0" || path.starts_with("/v1.0/") || path.starts_with("/$batch") {
        &state.graph_upstream
    } else {
        &state.authority_upstream
    };
    let headers = req.headers().clone();
    let bearer = headers
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return plain(400, &format!("proxy could not read the request body: {e}")),
    };
    let mut outbound = state.client.request(method.clone(), format!("{upstream}{target}"));
    for (name, value) in &headers {
        if !matches!(name.as_str(), "host" | "content-length" | "connection" | "transfer-encoding") {
            outbound = outbound.header(name, value);
        }
    }
    let response = match outbound.body(body).send().await {
        Ok(r) => r,
        Err(e) => {
            let message = format!("proxy could not reach {upstream}: {e}");
            record(state, method.as_str(), &target, 502, None, None, bearer, Checked::Unchecked);
            return plain(502, &message);
        }
    };
    let status = response.status().as_u16();
    let mut builder = Response::builder().status(status);
    for (name, value) in response.headers() {
        if !matches!(name.as_str(), "content-length" | "connection" | "transfer-encoding") {
            builder = builder.header(name, value);
        }
    }
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let bytes = response.bytes().await.unwrap_or_default();
    let is_json = content_type.as_deref().is_some_and(|c| c.starts_with("application/json"));
    let (bytes, json) = if is_json && !bytes.is_empty() {
        let text = String::from_utf8_lossy(&bytes)
            .replace(&state.graph_upstream, &state.own_origin)
            .replace(&state.authority_upstream, &state.own_origin);
        let json = serde_json::from_str::<Value>(&text).ok();
        (Bytes::from(text), json)
    } else {
        (bytes, None)
    };
    let checked = match &json {
        Some(body) => state.spec.check(method.as_str(), &path, status, body),
        None if is_json && status != 204 && !bytes.is_empty() => Checked::Invalid {
            operation: format!("{method} {path}"),
            violations: vec![crate::schema::Violation {
                path: "$".into(),
                message: "Content-Type says JSON but the body does not parse".into(),
            }],
        },
        None => Checked::Unchecked,
    };
    record(state, method.as_str(), &target, status, json, content_type, bearer, checked);
    builder.body(Full::new(bytes)).unwrap_or_else(|e| plain(502, &format!("proxy could not relay: {e}")))
}

#[allow(clippy::too_many_arguments)] // one log entry's fields; a struct literal at the two call sites would repeat them
fn record(
    state: &State,
    method: &str,
    target: &str,
    status: u16,
    body: Option<Value>,
    content_type: Option<String>,
    bearer: Option<String>,
    checked: Checked,
) {
    if let Ok(mut log) = state.log.lock() {
        log.push(Exchange {
            method: method.to_owned(),
            target: target.to_owned(),
            status,
            body,
            content_type,
            bearer,
            checked,
        });
    }
}

fn plain(status: u16, message: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(message.to_owned())));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::BAD_GATEWAY);
    response
}
