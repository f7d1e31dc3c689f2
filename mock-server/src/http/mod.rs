//! The HTTP side: accept loop (plain or TLS), request intake (body limit,
//! request id, tracing span) and the top-level split between Graph, the
//! identity platform and the control API.

pub(crate) mod graph;
pub(crate) mod identity;
pub(crate) mod response;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio::sync::watch;
use uuid::Uuid;

use crate::identity::TokenValidator;
use crate::keys::KeyMaterial;
use crate::tenant::{TenantOptions, Tenants};
use response::{Body, Correlation};

/// Graph refuses request bodies past this size.
pub(crate) const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Everything one running server shares between its connections.
#[derive(Debug)]
pub(crate) struct Server {
    pub tenants: Tenants,
    pub validator: TokenValidator,
    pub keys: Arc<KeyMaterial>,
    pub tls: bool,
    pub admin_key: Option<String>,
    pub state_file: Option<PathBuf>,
    pub frozen_at: Option<OffsetDateTime>,
    seed: u64,
    tenants_created: AtomicU64,
    requests_seen: AtomicU64,
}

impl Server {
    pub(crate) fn new(
        keys: Arc<KeyMaterial>,
        tls: bool,
        seed: u64,
        admin_key: Option<String>,
        state_file: Option<PathBuf>,
        frozen_at: Option<OffsetDateTime>,
    ) -> Self {
        Server {
            tenants: Tenants::default(),
            validator: TokenValidator::new(keys.clone()),
            keys,
            tls,
            admin_key,
            state_file,
            frozen_at,
            seed,
            tenants_created: AtomicU64::new(0),
            requests_seen: AtomicU64::new(0),
        }
    }

    /// Options for the next tenant: seeded from the server seed and a counter, so
    /// a seeded server creates the same tenants in the same order.
    pub(crate) fn next_tenant_options(&self) -> TenantOptions {
        let n = self.tenants_created.fetch_add(1, Ordering::Relaxed);
        TenantOptions { seed: self.seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15), frozen_at: self.frozen_at }
    }

    /// A request id: unique per server, cheap, no lock.
    pub(crate) fn next_request_id(&self) -> Uuid {
        let n = self.requests_seen.fetch_add(1, Ordering::Relaxed);
        crate::ids::IdGen::seeded(self.seed.rotate_left(17) ^ n).uuid()
    }

    fn scheme(&self) -> &'static str {
        if self.tls {
            "https"
        } else {
            "http"
        }
    }
}

/// The request as handlers see it: method, path, query, headers, whole body.
#[derive(Debug)]
pub(crate) struct Inbound {
    pub method: Method,
    pub path: String,
    pub query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// `scheme://host[:port]` as the client addressed us.
    pub authority: String,
    pub peer: SocketAddr,
    pub request_id: Uuid,
}

impl Inbound {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub(crate) fn correlation(&self, now: OffsetDateTime) -> Correlation {
        const CLIENT_REQUEST_ID: http::HeaderName = http::HeaderName::from_static("client-request-id");
        let sent = self
            .headers
            .get(CLIENT_REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .filter(|s| !s.is_empty() && s.len() <= 200);
        Correlation { request_id: self.request_id, client_sent: sent.map(str::to_owned), now }
    }
}

/// Serve connections from `listener` until `shutdown` flips to true.
pub(crate) async fn serve(
    server: Arc<Server>,
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    mut shutdown: watch::Receiver<bool>,
) {
    let (conn_done_tx, mut conn_done_rx) = watch::channel(());
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = shutdown.changed() => break,
        };
        let Ok((stream, peer)) = accepted else { continue };
        let _ = stream.set_nodelay(true);
        let server = server.clone();
        let tls = tls.clone();
        let mut shutdown = shutdown.clone();
        let done = conn_done_tx.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| handle(server.clone(), req, peer));
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.keep_alive(true);
            match tls {
                Some(acceptor) => {
                    let Ok(stream) = acceptor.accept(stream).await else { return };
                    let conn = builder.serve_connection(TokioIo::new(stream), service);
                    tokio::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        _ = shutdown.changed() => {
                            conn.as_mut().graceful_shutdown();
                            let _ = conn.await;
                        }
                    }
                }
                None => {
                    let conn = builder.serve_connection(TokioIo::new(stream), service);
                    tokio::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        _ = shutdown.changed() => {
                            conn.as_mut().graceful_shutdown();
                            let _ = conn.await;
                        }
                    }
                }
            }
            drop(done);
        });
    }
    drop(conn_done_tx);
    // Wait for in-flight connections to finish their current request.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), conn_done_rx.changed()).await;
}

async fn handle(server: Arc<Server>, req: Request<Incoming>, peer: SocketAddr) -> Result<Response<Body>, Infallible> {
    let request_id = server.next_request_id();
    let (parts, body) = req.into_parts();
    let host = parts.headers.get(http::header::HOST).and_then(|h| h.to_str().ok());
    let host = host.or_else(|| parts.uri.authority().map(|a| a.as_str())).unwrap_or("127.0.0.1");
    let mut authority = String::with_capacity(server.scheme().len() + 3 + host.len());
    authority.push_str(server.scheme());
    authority.push_str("://");
    authority.push_str(host);
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().unwrap_or("").to_owned();
    let span = tracing::debug_span!("request", id = %request_id, method = %parts.method, path = %path);
    let _enter = span.enter();

    // A body that breaks off mid-way gets no useful answer either way; only the
    // size limit deserves Graph's 413.
    let (body, too_large) = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(b) => (b.to_bytes(), false),
        Err(e) => (Bytes::new(), e.downcast_ref::<http_body_util::LengthLimitError>().is_some()),
    };
    let req = Inbound { method: parts.method, path, query, headers: parts.headers, body, authority, peer, request_id };
    if too_large {
        let c = req.correlation(crate::clock::system_now());
        return Ok(response::graph_error(&crate::error::ApiError::payload_too_large(MAX_BODY_BYTES), &c));
    }
    // A panic is a bug in the mock; the caller still gets Graph's envelope (a
    // 500, as Graph answers its own internal errors) instead of a dropped
    // connection, and the tenant locks recover (see `Tenant::read`).
    let routed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| route(&server, &req)));
    Ok(routed.unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".to_owned());
        tracing::error!(request = %req.request_id, panic = %what, "handler panicked");
        let e = crate::error::ApiError::new(
            500,
            "UnknownError",
            format!("graphbox hit an internal error ({what}); please report it with request-id {}.", req.request_id),
        );
        response::graph_error(&e, &req.correlation(crate::clock::system_now()))
    }))
}

/// The top-level split by path.
pub(crate) fn route(server: &Server, req: &Inbound) -> Response<Body> {
    let path = req.path.as_str();
    if path == "/v1.0" || path.starts_with("/v1.0/") {
        return graph::handle(server, req, &path[5..]);
    }
    if path.eq_ignore_ascii_case("/provisioningwebservice.svc") {
        return crate::msol::handle(server, req);
    }
    if let Some(rest) = path.strip_prefix("/_graphbox") {
        return crate::control::handle(server, req, rest);
    }
    identity::handle(server, req)
}
