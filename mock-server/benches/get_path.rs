//! What one request costs the server, counted rather than sampled: heap
//! allocations and bytes allocated per request on the server's own threads,
//! for the requests `bench/http.sh` times, next to a bare hyper server doing
//! the least a hyper server can do. Counts are deterministic (the same build
//! gives the same figures on a busy machine), so they show a change on the GET
//! path even where a throughput run is lost in the noise. Wall times are
//! printed too, but they are single-connection and unpinned: read them as a
//! rough guide only.
//!
//! ```text
//! cargo bench -p graphbox-mock --bench get_path
//! GB_REQS=50000 cargo bench -p graphbox-mock --bench get_path
//! ```
//!
//! How: a counting wrapper around the global allocator; the server runs on a
//! runtime of its own (one worker), the client on the main thread. The client
//! reuses its buffers and keeps no response body, so what it allocates per
//! request is close to nothing, and it is the same client for the bare hyper
//! row: that row is the floor every other row is read against.

// clippy.toml bans Instant::now so server code reads time from the tenant clock;
// a benchmark measures wall-clock time by definition.
#![allow(clippy::disallowed_methods)]

use std::alloc::System;
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use graphbox_mock::Graphbox;
use http_body_util::Full;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Map, Value};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

// The workspace forbids `unsafe`, so the counting wrapper is stats_alloc's
// around the system allocator: counts do not depend on the allocator, only
// the wall times below would (the binary uses mimalloc).
#[global_allocator]
static ALLOCATOR: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn env_usize(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(v) => v.replace('_', "").parse().unwrap_or_else(|_| panic!("{name} must be a number, got {v:?}")),
        Err(_) => default,
    }
}

/// One keep-alive HTTP/1.1 connection with just enough of a client to read
/// `Content-Length` responses.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    body: Vec<u8>,
}

impl Conn {
    async fn open(addr: SocketAddr) -> io::Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Conn { stream, buf: Vec::with_capacity(1 << 20), body: Vec::with_capacity(1 << 20) })
    }

    /// Send `request` and read one whole response: its status, and its body
    /// kept in `self.body` until the next call (no allocation per response).
    async fn send(&mut self, request: &[u8]) -> io::Result<u16> {
        self.stream.write_all(request).await?;
        let head_end = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            self.fill().await?;
        };
        let head = std::str::from_utf8(&self.buf[..head_end]).map_err(|_| bad("response head is not UTF-8"))?;
        let status: u16 = head.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| bad("no status"))?;
        let len: usize = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length").then(|| v.trim().parse().ok())?
            })
            .ok_or_else(|| bad("no content-length"))?;
        while self.buf.len() < head_end + len {
            self.fill().await?;
        }
        self.body.clear();
        self.body.extend_from_slice(&self.buf[head_end..head_end + len]);
        self.buf.drain(..head_end + len);
        Ok(status)
    }

    async fn fill(&mut self) -> io::Result<()> {
        let n = self.stream.read_buf(&mut self.buf).await?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "server closed the connection"));
        }
        Ok(())
    }
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

fn get(path: &str, token: Option<&str>) -> Vec<u8> {
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}\r\n").into_bytes()
}

fn token_request(mock: &Graphbox) -> Vec<u8> {
    let secret: String = mock
        .client_secret()
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let body = format!(
        "grant_type=client_credentials&client_id={}&client_secret={secret}&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default",
        mock.client_id(),
    );
    format!(
        "POST /{}/oauth2/v2.0/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        mock.tenant_id(),
        body.len()
    )
    .into_bytes()
}

fn user_body(domain: &str, i: usize) -> Map<String, Value> {
    let v = json!({
        "accountEnabled": true,
        "displayName": format!("User {i:07}"),
        "mailNickname": format!("user{i:07}"),
        "userPrincipalName": format!("user{i:07}@{domain}"),
        "passwordProfile": {"password": "Gb!x12345678a", "forceChangePasswordNextSignIn": false},
    });
    match v {
        Value::Object(m) => m,
        _ => unreachable!("a JSON object literal"),
    }
}

/// What `n` requests cost the server: allocations and bytes per request, and
/// the client's wall time per request.
struct Cost {
    allocs: f64,
    bytes: f64,
    wall: Duration,
}

/// Sends `requests` round-robin on one connection, `warm` times unmeasured,
/// then `n` times counted; every answer must have status `expect`.
async fn measure(addr: SocketAddr, requests: &[Vec<u8>], expect: u16, warm: usize, n: usize) -> Cost {
    let mut c = Conn::open(addr).await.expect("connect");
    for i in 0..warm {
        let status = c.send(&requests[i % requests.len()]).await.expect("request");
        assert_eq!(status, expect, "{}", String::from_utf8_lossy(&c.body));
    }
    let region = Region::new(ALLOCATOR);
    let t0 = Instant::now();
    for i in 0..n {
        let status = c.send(&requests[i % requests.len()]).await.expect("request");
        assert_eq!(status, expect);
    }
    let wall = t0.elapsed() / n as u32;
    let change = region.change();
    Cost {
        allocs: (change.allocations + change.reallocations) as f64 / n as f64,
        bytes: (change.bytes_allocated as f64 + change.bytes_reallocated.max(0) as f64) / n as f64,
        wall,
    }
}

fn report(name: &str, cost: &Cost) {
    println!(
        "{name:<28} allocs/req={:>8.1}  bytes/req={:>9.0}  wall/req={:>7.1} µs",
        cost.allocs,
        cost.bytes,
        cost.wall.as_secs_f64() * 1e6
    );
}

/// The bench/http.sh yardstick in-process: every request answered with the
/// same 1 KB JSON body.
async fn bare_hyper() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let head = r#"{"@odata.context":"http://127.0.0.1/v1.0/$metadata#users/$entity","id":"00000000-0000-4000-8000-000000000000","padding":""#;
    let body = Bytes::from(format!("{head}{}\"}}", "x".repeat(1024 - head.len() - 2)));
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            let body = body.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |_req: Request<hyper::body::Incoming>| {
                    let body = body.clone();
                    async move {
                        Ok::<_, Infallible>(
                            Response::builder()
                                .header("content-type", "application/json")
                                .body(Full::new(body))
                                .expect("static response parts are valid"),
                        )
                    }
                });
                let _ =
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
    addr
}

fn main() {
    let n = env_usize("GB_REQS", 20_000).max(1);
    let users = env_usize("GB_USERS", 1_000).max(100);
    // One worker, as under bench/http.sh's `taskset -c 1`.
    let server_rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("server runtime");
    let client_rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("client runtime");
    println!("# per-request cost on the server's threads ({n} requests each, {users} users, 1 connection)");

    let bare = server_rt.block_on(async { tokio::spawn(bare_hyper()).await.expect("bare server") });
    let bare_get = vec![get("/v1.0/users/x", None)];
    report("bare hyper (1 KB body)", &client_rt.block_on(measure(bare, &bare_get, 200, 2_000, n)));

    let mock = server_rt.block_on(async {
        let probe = Graphbox::builder().plain_http().seed(7).start().await.expect("start");
        let domain = probe.tenant_domain().to_owned();
        let _ = probe.shutdown().await;
        let seed: Vec<_> = (0..users).map(|i| user_body(&domain, i)).collect();
        Graphbox::builder().plain_http().seed(7).seed_users(seed).start().await.expect("start")
    });
    let addr = mock.local_addr();
    let (token, ids) = client_rt.block_on(async {
        let mut c = Conn::open(addr).await.expect("connect");
        let status = c.send(&token_request(&mock)).await.expect("token");
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&c.body));
        let v: Value = serde_json::from_slice(&c.body).expect("token JSON");
        let token = v["access_token"].as_str().expect("access_token").to_owned();
        let status = c.send(&get("/v1.0/users?$top=100&$select=id", Some(&token))).await.expect("list");
        assert_eq!(status, 200);
        let v: Value = serde_json::from_slice(&c.body).expect("list JSON");
        let ids: Vec<String> =
            v["value"].as_array().expect("value").iter().map(|u| u["id"].as_str().expect("id").to_owned()).collect();
        (token, ids)
    });
    let by_id: Vec<_> = ids.iter().map(|id| get(&format!("/v1.0/users/{id}"), Some(&token))).collect();
    let selected: Vec<_> =
        ids.iter().map(|id| get(&format!("/v1.0/users/{id}?$select=id,displayName,mail"), Some(&token))).collect();
    let no_token: Vec<_> = ids.iter().map(|id| get(&format!("/v1.0/users/{id}"), None)).collect();
    let page = vec![get("/v1.0/users?$top=999", Some(&token))];
    let tokens = vec![token_request(&mock)];

    report("GET /users/{id}", &client_rt.block_on(measure(addr, &by_id, 200, 2_000, n)));
    report("GET /users/{id}?$select=3", &client_rt.block_on(measure(addr, &selected, 200, 2_000, n)));
    report("GET /users/{id} no token", &client_rt.block_on(measure(addr, &no_token, 401, 2_000, n)));
    report("GET /users?$top=999", &client_rt.block_on(measure(addr, &page, 200, 20, (n / 100).max(10))));
    report("POST token (secret)", &client_rt.block_on(measure(addr, &tokens, 200, 20, (n / 50).max(10))));
    server_rt.block_on(async {
        let _ = mock.shutdown().await;
    });
}
