//! The HTTP side: accept loop (plain or TLS), request intake (body limit,
//! request id, tracing span) and the top-level split between Graph, the
//! identity platform and the control API.

mod arm;
mod conn;
pub(crate) mod graph;
pub(crate) mod identity;
pub(crate) mod limits;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

// http's own children (graph/, identity.rs) reach the shared types as their
// parent's; the services outside http import them from `service`.
pub(crate) use crate::service::{response, Inbound, Server};
pub use limits::Limits;
use response::Body;

/// What intake decides with: the bounds on requests and connections, and the
/// names the server answers to.
#[derive(Debug)]
pub(crate) struct Intake {
    pub limits: Limits,
    pub names: Names,
}

/// hyper's cap on header lines. hyper parses up to 100 on the stack; any
/// higher cap makes it allocate two arrays of that many entries for every
/// request (at 1 024: 64 KiB of the 76 KiB a GET by id allocated, measured
/// with `benches/get_path.rs`). A request with more lines than this gets a 431
/// in its endpoint's envelope (`answer_unparseable`); no client of Graph sends
/// a hundred headers.
const MAX_HEADER_COUNT: usize = 100;

/// The names a server answers to. Its links, issuers and discovery documents are
/// built on one of these, never on whatever a request's `Host` says.
#[derive(Debug, Clone)]
pub(crate) struct Names {
    /// `scheme://host:port` of the ready line (or the configured public URL).
    pub authority: Arc<str>,
    scheme: &'static str,
    port: u16,
    /// Host names (lowercase, without port) that may appear in `Host`.
    hosts: Vec<String>,
    /// `host[:port]` of the public URL, when one was configured.
    public: Option<String>,
}

impl Names {
    /// Names for a server listening on `local`, configured with `host`; a
    /// public URL (behind a reverse proxy) becomes the default authority.
    pub(crate) fn new(tls: bool, configured_host: &str, local: SocketAddr, public_url: Option<&str>) -> Self {
        let scheme = if tls { "https" } else { "http" };
        let ip = if local.ip().is_ipv6() { format!("[{}]", local.ip()) } else { local.ip().to_string() };
        let mut hosts: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "[::1]".into(), ip.clone()];
        let configured = configured_host.trim().to_ascii_lowercase();
        if !configured.is_empty() {
            hosts.push(if configured.contains(':') && !configured.starts_with('[') {
                format!("[{configured}]")
            } else {
                configured
            });
        }
        let public = public_url.map(|u| {
            let rest = u.split_once("://").map_or(u, |(_, r)| r);
            rest.split('/').next().unwrap_or(rest).to_ascii_lowercase()
        });
        let authority = match public_url {
            Some(u) => u.trim_end_matches('/').to_owned(),
            None => format!("{scheme}://{ip}:{}", local.port()),
        };
        Names { authority: authority.into(), scheme, port: local.port(), hosts, public }
    }

    /// Whether `host` (a `Host` header: name and optional port) names this server.
    pub(crate) fn knows(&self, host: &str) -> bool {
        let host = host.trim();
        if self.public.as_deref().is_some_and(|p| p.eq_ignore_ascii_case(host)) {
            return true;
        }
        let (name, port) = match host.rsplit_once(':') {
            Some((name, port)) if !name.is_empty() && !port.contains(']') => (name, port.parse::<u16>().ok()),
            _ => (host, None),
        };
        let default_port = if self.scheme == "https" { 443 } else { 80 };
        let port_ok = match port {
            Some(p) => p == self.port,
            None => !host.ends_with(':') && self.port == default_port,
        };
        port_ok && self.hosts.iter().any(|h| h.eq_ignore_ascii_case(name))
    }

    /// The authority for a `Host` that [`Names::knows`].
    pub(crate) fn authority_for(&self, host: &str) -> Arc<str> {
        if self.public.as_deref().is_some_and(|p| p.eq_ignore_ascii_case(host.trim())) {
            return self.authority.clone();
        }
        let mut authority = String::with_capacity(self.scheme.len() + 3 + host.len());
        authority.push_str(self.scheme);
        authority.push_str("://");
        authority.push_str(&host.trim().to_ascii_lowercase());
        authority.into()
    }
}

/// The authority the last request on a connection was answered under: a
/// client sends the same `Host` on every request of a connection, so the
/// name is checked and spelled once, not per request.
#[derive(Default)]
struct HostCache(std::sync::Mutex<Option<(http::HeaderValue, Arc<str>)>>);

impl HostCache {
    /// `(authority, host_is_ours)` for a request with these `parts`.
    fn authority(&self, names: &Names, parts: &http::request::Parts) -> (Arc<str>, bool) {
        let header = parts.headers.get(http::header::HOST);
        let mut cached = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let (Some(h), Some((seen, authority))) = (header, cached.as_ref()) {
            if h == seen {
                return (authority.clone(), true);
            }
        }
        let host = header.and_then(|h| h.to_str().ok());
        let host = host.or_else(|| parts.uri.authority().map(|a| a.as_str()));
        // Links and issuers name the server the way the client addressed it
        // only when that is one of the server's own names; anything else in
        // `Host` (a typo, a DNS-rebinding page) gets the configured authority.
        match host.filter(|h| names.knows(h)) {
            Some(h) => {
                let authority = names.authority_for(h);
                if let Some(header) = header {
                    *cached = Some((header.clone(), authority.clone()));
                }
                (authority, true)
            }
            None => (names.authority.clone(), false),
        }
    }
}

/// Serve connections from `listener` until `shutdown` flips to true.
pub(crate) async fn serve(
    server: Arc<Server>,
    intake: Arc<Intake>,
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    mut shutdown: watch::Receiver<bool>,
) {
    let (conn_done_tx, mut conn_done_rx) = watch::channel(());
    let slots = Arc::new(Semaphore::new(intake.limits.max_connections.max(1)));
    loop {
        // Past the bound, wait for a connection to close before accepting: the
        // newcomers queue in the listen backlog instead of starving those served.
        let slot = tokio::select! {
            s = slots.clone().acquire_owned() => s,
            _ = shutdown.changed() => break,
        };
        let Ok(slot) = slot else { break };
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = shutdown.changed() => break,
        };
        let Ok((stream, peer)) = accepted else { continue };
        let _ = stream.set_nodelay(true);
        let server = server.clone();
        let intake = intake.clone();
        let tls = tls.clone();
        let shutdown = shutdown.clone();
        let done = conn_done_tx.clone();
        tokio::spawn(async move {
            match tls {
                Some(acceptor) => {
                    let handshake = acceptor.accept(stream);
                    match tokio::time::timeout(intake.limits.tls_handshake_timeout, handshake).await {
                        Ok(Ok(stream)) => serve_connection(server, intake, stream, peer, shutdown).await,
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
                None => serve_connection(server, intake, stream, peer, shutdown).await,
            }
            drop(slot);
            drop(done);
        });
    }
    drop(conn_done_tx);
    // Wait for in-flight connections to finish their current request.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), conn_done_rx.changed()).await;
}

/// One connection, until it closes, outstays its header or idle deadline, or
/// the server shuts down.
async fn serve_connection<S>(
    server: Arc<Server>,
    intake: Arc<Intake>,
    stream: S,
    peer: SocketAddr,
    mut shutdown: watch::Receiver<bool>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let activity = Arc::new(conn::Activity::new());
    let rewrite: conn::Rewrite = {
        let (server, intake) = (server.clone(), intake.clone());
        Arc::new(move |prefix: &[u8], status: u16| answer_unparseable(&server, &intake, peer, prefix, status))
    };
    let io = TokioIo::new(conn::Watched::new(stream, activity.clone(), rewrite));
    let service = {
        let (server, intake) = (server.clone(), intake.clone());
        let activity = activity.clone();
        let hosts = Arc::new(HostCache::default());
        hyper::service::service_fn(move |req| {
            let (server, intake) = (server.clone(), intake.clone());
            let (activity, hosts) = (activity.clone(), hosts.clone());
            async move {
                activity.request_started();
                let response = handle(server, intake, &hosts, req, peer).await;
                activity.request_finished(activity.now());
                response
            }
        })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    // Our own head limits answer with a body (Limits::check_head); hyper's
    // wider ones are only a backstop, and its header timer is replaced by the
    // watchdog below, which can tell a slow request from an idle connection.
    builder
        .keep_alive(true)
        .max_headers(MAX_HEADER_COUNT)
        .max_buf_size(intake.limits.max_uri_bytes.max(intake.limits.max_header_bytes) * 2 + 8192);
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let shortest = intake.limits.header_timeout.min(intake.limits.idle_timeout);
    let mut wake = activity.instant(activity.now()) + shortest;
    loop {
        tokio::select! {
            // The connection first: it is what wakes this task nearly every
            // time, and a fixed order spares a random draw per wake-up.
            biased;
            _ = conn.as_mut() => return,
            _ = shutdown.changed() => {
                conn.as_mut().graceful_shutdown();
                let _ = conn.await;
                return;
            }
            _ = tokio::time::sleep_until(wake) => {
                let now = activity.now();
                match activity.check(now, &intake.limits) {
                    conn::Watch::Until(at) => wake = activity.instant(at),
                    conn::Watch::Busy => wake = activity.instant(now) + shortest,
                    conn::Watch::HeadersTooSlow => {
                        tracing::debug!(%peer, "closing a connection whose request headers did not finish in time");
                        return;
                    }
                    conn::Watch::Idle => {
                        tracing::debug!(%peer, "closing an idle connection");
                        return;
                    }
                }
            }
        }
    }
}

async fn handle(
    server: Arc<Server>,
    intake: Arc<Intake>,
    hosts: &HostCache,
    req: Request<Incoming>,
    peer: SocketAddr,
) -> Result<Response<Body>, Infallible> {
    let request_id = server.next_request_id();
    let (parts, body) = req.into_parts();
    let (authority, host_is_ours) = hosts.authority(&intake.names, &parts);
    let path: std::sync::Arc<str> = parts.uri.path().into();
    let query = parts.uri.query().unwrap_or("").to_owned();
    let family = Family::of(&path);
    let span = tracing::debug_span!("request", id = %request_id, method = %parts.method, path = %path);
    let _enter = span.enter();

    let refused = |refusal: limits::Refusal, parts: http::request::Parts| {
        let req = Inbound {
            method: parts.method,
            path: path.clone(),
            query: query.clone(),
            headers: parts.headers,
            body: Bytes::new(),
            authority: authority.clone(),
            host_is_ours,
            peer,
            request_id,
        };
        Ok(refusal_response(family, &refusal, &req))
    };
    if let Err(refusal) = intake.limits.check_head(&parts) {
        return refused(refusal, parts);
    }
    // The whole body arrives, within its size and time, before anything runs:
    // a body that breaks off or is malformed fails the request, never reaches
    // a handler as an empty one.
    // A request that announced no body (most reads) has nothing to wait for:
    // no timer is armed for it.
    let collected = if hyper::body::Body::is_end_stream(&body) {
        Ok(Ok(http_body_util::Collected::default()))
    } else {
        tokio::time::timeout(intake.limits.body_timeout, Limited::new(body, intake.limits.max_body_bytes).collect())
            .await
    };
    let body = match collected {
        Ok(Ok(b)) => b.to_bytes(),
        Ok(Err(e)) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => {
            return refused(intake.limits.body_too_large(), parts)
        }
        Ok(Err(e)) => return refused(limits::body_unreadable(&e.to_string()), parts),
        Err(_) => {
            let mut response = refused(intake.limits.body_too_slow(), parts);
            if let Ok(r) = &mut response {
                r.headers_mut().insert(http::header::CONNECTION, http::HeaderValue::from_static("close"));
            }
            return response;
        }
    };
    let req = Inbound {
        method: parts.method,
        path,
        query,
        headers: parts.headers,
        body,
        authority,
        host_is_ours,
        peer,
        request_id,
    };
    // A panic is a bug in the mock; the caller still gets Graph's envelope (a
    // 500, as Graph answers its own internal errors) instead of a dropped
    // connection, and the tenant locks recover (see `Tenant::read`).
    crate::journal::clear_appended_here();
    let routed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| route(&server, &req, family)));
    // `route` is synchronous: what it journaled was appended on this thread.
    // The answer waits until those records are on disk (with `--state`).
    let appended = crate::journal::appended_here();
    if let (Some(journal), true) = (server.tenants.journal(), appended > 0) {
        if let Err(e) = journal.wait_durable(appended).await {
            return Ok(refusal_response(
                family,
                &limits::Refusal { status: 503, code: "ServiceUnavailable", message: e.to_string() },
                &req,
            ));
        }
    }
    let routed = match routed {
        // Realism's latency: waited on the timer, never on a worker thread.
        Ok(mut response) => match response.extensions_mut().remove::<crate::realism::Delay>() {
            Some(delay) => {
                tokio::time::sleep(delay.0).await;
                Ok(response)
            }
            None => Ok(response),
        },
        Err(panic) => Err(panic),
    };
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

/// The answer to a request hyper could not parse (bytes HTTP forbids in the
/// target or a header, an unknown method or version), in the envelope of the
/// endpoint its first line names, as the bytes of a whole response that
/// closes the connection.
fn answer_unparseable(server: &Server, intake: &Intake, peer: SocketAddr, prefix: &[u8], status: u16) -> Vec<u8> {
    let line = prefix.split(|b| *b == b'\n').next().unwrap_or_default();
    let mut words = line.split(|b| *b == b' ').filter(|w| !w.is_empty());
    let method = words.next().and_then(|m| Method::from_bytes(m).ok()).unwrap_or(Method::GET);
    let target = String::from_utf8_lossy(words.next().unwrap_or(b"/")).into_owned();
    // An absolute-form target (`http://host/v1.0/…`) names its path after the authority.
    let target = match target.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or_else(|| "/".to_owned(), |i| rest[i..].to_owned()),
        None => target,
    };
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let refusal = match status {
        414 => limits::Refusal {
            status,
            code: "RequestUriTooLong",
            message: "The request URL is longer than this server reads.".into(),
        },
        431 => limits::Refusal {
            status,
            code: "RequestHeaderFieldsTooLarge",
            message: "The request has more header lines, or longer ones, than this server reads.".into(),
        },
        _ => limits::Refusal {
            status: 400,
            code: "BadRequest",
            message: "The request is not valid HTTP/1.1: its URL or a header holds characters HTTP does not allow \
                      (percent-encode them in the URL; send header values as visible ASCII), or its method or \
                      version is not one HTTP/1.1 knows."
                .into(),
        },
    };
    let req = Inbound {
        method,
        path: path.into(),
        query: query.to_owned(),
        headers: HeaderMap::new(),
        body: Bytes::new(),
        authority: intake.names.authority.clone(),
        host_is_ours: false,
        peer,
        request_id: server.next_request_id(),
    };
    let response = refusal_response(Family::of(path), &refusal, &req);
    let (parts, body) = response.into_parts();
    let body = response::body_bytes(body);
    let mut out = Vec::with_capacity(256 + body.len());
    out.extend_from_slice(
        format!("HTTP/1.1 {} {}\r\n", parts.status.as_u16(), parts.status.canonical_reason().unwrap_or("")).as_bytes(),
    );
    for (name, value) in &parts.headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("content-length: {}\r\nconnection: close\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(&body);
    out
}

/// A request refused at intake, in the envelope of the endpoint it was sent to.
fn refusal_response(family: Family, refusal: &limits::Refusal, req: &Inbound) -> Response<Body> {
    let now = crate::clock::system_now();
    match family {
        Family::Graph => {
            let e = crate::error::ApiError::new(refusal.status, refusal.code, refusal.message.clone());
            response::graph_error(&e, &req.correlation(now))
        }
        Family::Identity => identity::intake_error(refusal, req, now),
        Family::Soap => crate::msol::intake_fault(refusal.status, &refusal.message, req.request_id),
        Family::Control => response::control_error(refusal.status, &refusal.message),
        Family::Arm => arm::intake_error(refusal.status, &refusal.message),
    }
}

/// The top-level split by path.
pub(crate) fn route(server: &Server, req: &Inbound, family: Family) -> Response<Body> {
    match family {
        Family::Graph => {
            // After the version segment, whatever its spelling (`/v1%2E0/…`).
            let versioned = req.path.trim_start_matches('/');
            let rest = versioned.find('/').map_or("", |slash| &versioned[slash..]);
            graph::handle(server, req, if rest == "/" { "" } else { rest })
        }
        Family::Soap => crate::msol::handle(server, req),
        Family::Control => {
            let rest = req.path.trim_start_matches('/').split_once('/').map_or("", |(_, rest)| rest);
            crate::control::handle(server, req, rest)
        }
        Family::Identity => identity::handle(server, req),
        Family::Arm => arm::handle(server, req),
    }
}

/// Which service a path belongs to, decided on its first segment after
/// percent-decoding, so no spelling of a path reaches another service's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    Graph,
    Identity,
    Soap,
    Control,
    /// Azure Resource Manager's `subscriptions` and `tenants` (`arm.rs`).
    Arm,
}

impl Family {
    pub(crate) fn of(path: &str) -> Family {
        let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
        let first = percent_encoding::percent_decode_str(first).decode_utf8_lossy();
        if first.eq_ignore_ascii_case("v1.0") {
            Family::Graph
        } else if first.eq_ignore_ascii_case("provisioningwebservice.svc") {
            Family::Soap
        } else if first == "_graphbox" {
            Family::Control
        } else if first.eq_ignore_ascii_case("subscriptions") || first.eq_ignore_ascii_case("tenants") {
            Family::Arm
        } else {
            Family::Identity
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(tls: bool, port: u16, public: Option<&str>) -> Names {
        Names::new(tls, "127.0.0.1", SocketAddr::from(([127, 0, 0, 1], port)), public)
    }

    #[test]
    fn only_the_servers_own_names_and_port_are_known() {
        let n = names(true, 5443, None);
        assert!(n.knows("127.0.0.1:5443"));
        assert!(n.knows("LOCALHOST:5443"));
        assert!(n.knows("[::1]:5443"));
        assert!(!n.knows("localhost:5444"));
        assert!(!n.knows("evil.example:5443"));
        assert!(!n.knows("localhost"), "no port means 443, which is not ours");
        assert!(!n.knows("localhost:"));
        assert!(names(true, 443, None).knows("localhost"));
        assert_eq!(&*n.authority, "https://127.0.0.1:5443");
        assert_eq!(&*n.authority_for("LocalHost:5443"), "https://localhost:5443");
    }

    /// The per-connection cache answers only for the `Host` it saw: a later
    /// request on the same connection naming someone else (a DNS-rebinding
    /// page reusing the socket) still gets the configured authority.
    #[test]
    fn a_connections_cached_authority_holds_only_for_the_same_host() {
        let n = names(false, 5080, None);
        let hosts = HostCache::default();
        let parts = |host: &str| {
            http::Request::get("/v1.0/users").header("host", host).body(()).expect("a request").into_parts().0
        };
        assert_eq!(hosts.authority(&n, &parts("LocalHost:5080")), ("http://localhost:5080".into(), true));
        assert_eq!(hosts.authority(&n, &parts("LocalHost:5080")), ("http://localhost:5080".into(), true));
        assert_eq!(hosts.authority(&n, &parts("evil.example:5080")), ("http://127.0.0.1:5080".into(), false));
        assert_eq!(hosts.authority(&n, &parts("127.0.0.1:5080")), ("http://127.0.0.1:5080".into(), true));
    }

    #[test]
    fn a_public_url_is_known_and_is_the_default_authority() {
        let n = names(true, 5443, Some("https://graph.test.example/"));
        assert!(n.knows("graph.test.example"));
        assert_eq!(&*n.authority, "https://graph.test.example");
        assert_eq!(&*n.authority_for("graph.test.example"), "https://graph.test.example");
    }

    #[test]
    fn families_are_decided_after_percent_decoding() {
        assert_eq!(Family::of("/v1.0/users"), Family::Graph);
        assert_eq!(Family::of("/v1%2E0/users"), Family::Graph);
        assert_eq!(Family::of("/V1.0"), Family::Graph);
        assert_eq!(Family::of("/%5Fgraphbox/tenants"), Family::Control);
        assert_eq!(Family::of("/ProvisioningWebService.svc"), Family::Soap);
        assert_eq!(Family::of("/v1.00/users"), Family::Identity);
        assert_eq!(Family::of("/common/oauth2/v2.0/token"), Family::Identity);
    }
}
