//! In-process measurements of graphbox-mock. Prints figures; asserts nothing
//! about timings (a bench that fails on a slow shared machine teaches nothing).
//!
//! ```text
//! cargo bench -p graphbox-mock --bench inprocess
//! GB_USERS=200000 GB_REQUESTS=200000 cargo bench -p graphbox-mock --bench inprocess
//! GB_ONLY=start,tenant cargo bench -p graphbox-mock --bench inprocess
//! ```
//!
//! Sections (all on in the default run; `GB_ONLY` takes a comma list):
//!
//! - `start`  — `Graphbox::builder().plain_http().start()` to the first answered
//!   request (`GET /v1.0/users` without a token: a 401 is an answer), measured from
//!   before `start()` to the last byte of the response, `GB_STARTS` times (200), on
//!   a multi-thread and on a current-thread runtime (what `#[tokio::test]` uses).
//! - `tenant` — `Graphbox::create_tenant()` on a running server, `GB_TENANTS` (1 000).
//! - `memory` — VmRSS growth across `GB_REQUESTS` (1 000 000) authenticated
//!   `GET /v1.0/users/{id}` on `GB_CONNS` (8) keep-alive connections.
//! - `tokens` — client-credentials tokens per second over keep-alive connections
//!   (`GB_TOKEN_SECS`, 3 s, on 1 and on 4 connections), then authenticated
//!   `GET /v1.0/users/{id}` per second the same way (`GB_GET_SECS`, 3 s).
//! - `users`  — `GB_USERS` (1 000 000) users seeded through `seed_users_with` (a
//!   generator; `GB_SEED_VEC=1`: `seed_users` with a `Vec` built first): start
//!   time and VmRSS, then p50 of `GB_FILTER_REQS` (50) `$filter=startswith(...)`
//!   with `$top=100`, for a prefix nobody has and for `'User 0999'`.
//!
//! The client is a few lines of HTTP/1.1 over a tokio `TcpStream` (no client
//! library between the clock and the socket). Run under `taskset -c 1` for
//! steadier figures; unpinned, both vCPUs are shared by client and server.

// clippy.toml bans Instant::now so server code reads time from the tenant clock;
// a benchmark measures wall-clock time by definition.
#![allow(clippy::disallowed_methods)]

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use graphbox_mock::Graphbox;
use serde_json::{json, Map, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

// The graphbox-mock binary's allocator, so these figures describe the server
// users run; glibc's malloc costs tenant creation and seeding about a third more.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const FROZEN_AT: &str = "2026-01-01T00:00:00Z";

fn env_usize(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(v) => v.replace('_', "").parse().unwrap_or_else(|_| panic!("{name} must be a number, got {v:?}")),
        Err(_) => default,
    }
}

fn enabled(section: &str) -> bool {
    match std::env::var("GB_ONLY") {
        Ok(list) if !list.trim().is_empty() => list.split(',').any(|s| s.trim() == section),
        _ => true,
    }
}

fn frozen_at() -> time::OffsetDateTime {
    time::OffsetDateTime::parse(FROZEN_AT, &time::format_description::well_known::Rfc3339)
        .expect("a valid RFC 3339 time")
}

/// VmRSS of this process in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// `q`-quantile (0..=1) of `v`, which gets sorted.
fn quantile(v: &mut [Duration], q: f64) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    v.sort_unstable();
    let idx = ((v.len() - 1) as f64 * q).round() as usize;
    v[idx]
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

// ---------------------------------------------------------------------------
// A minimal HTTP/1.1 client: one keep-alive connection, one request at a time.
// ---------------------------------------------------------------------------

struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

struct Answer {
    status: u16,
    body: Vec<u8>,
}

impl Conn {
    async fn open(addr: SocketAddr) -> io::Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Conn { stream, buf: Vec::with_capacity(16 * 1024) })
    }

    /// Send `request` (complete bytes) and read one whole response.
    async fn send(&mut self, request: &[u8]) -> io::Result<Answer> {
        self.stream.write_all(request).await?;
        self.read_response().await
    }

    async fn read_response(&mut self) -> io::Result<Answer> {
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            self.fill().await?;
        };
        let head = std::str::from_utf8(&self.buf[..head_end]).map_err(|_| bad("response head is not UTF-8"))?;
        let status: u16 = head.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| bad("no status code"))?;
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
        let body = self.buf[head_end..head_end + len].to_vec();
        self.buf.drain(..head_end + len);
        Ok(Answer { status, body })
    }

    async fn fill(&mut self) -> io::Result<()> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "server closed the connection"));
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

fn get(path: &str, token: Option<&str>) -> Vec<u8> {
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}\r\n").into_bytes()
}

fn token_request(mock: &Graphbox) -> Vec<u8> {
    let body = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default",
        mock.client_id(),
        percent_encode(mock.client_secret())
    );
    format!(
        "POST /{}/oauth2/v2.0/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        mock.tenant_id(),
        body.len()
    )
    .into_bytes()
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn fetch_token(mock: &Graphbox) -> String {
    let mut c = Conn::open(mock.local_addr()).await.expect("connect");
    let a = c.send(&token_request(mock)).await.expect("token request");
    assert_eq!(a.status, 200, "token endpoint: {}", String::from_utf8_lossy(&a.body));
    let v: Value = serde_json::from_slice(&a.body).expect("token JSON");
    v["access_token"].as_str().expect("access_token").to_owned()
}

/// Ids of the first `n` users in id order (`$top` ≤ 999).
async fn some_user_ids(mock: &Graphbox, token: &str, n: usize) -> Vec<String> {
    let mut c = Conn::open(mock.local_addr()).await.expect("connect");
    let a = c.send(&get(&format!("/v1.0/users?$top={n}&$select=id"), Some(token))).await.expect("list users");
    assert_eq!(a.status, 200, "list users: {}", String::from_utf8_lossy(&a.body));
    let v: Value = serde_json::from_slice(&a.body).expect("list JSON");
    v["value"].as_array().expect("value").iter().map(|u| u["id"].as_str().expect("id").to_owned()).collect()
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

// ---------------------------------------------------------------------------
// Sections
// ---------------------------------------------------------------------------

/// (start to first answer, of which `start()` itself, and a second fresh
/// connection's first answer on the now-running server)
async fn start_and_first_answer(seed: u64) -> (Duration, Duration, Duration) {
    let t0 = Instant::now();
    let mock = Graphbox::builder().plain_http().port(0).seed(seed).start().await.expect("start");
    let started = t0.elapsed();
    let mut c = Conn::open(mock.local_addr()).await.expect("connect");
    let a = c.send(&get("/v1.0/users", None)).await.expect("first request");
    let elapsed = t0.elapsed();
    assert_eq!(a.status, 401, "an unauthenticated request answers 401");
    drop(c);
    let t1 = Instant::now();
    let mut c = Conn::open(mock.local_addr()).await.expect("connect");
    let a = c.send(&get("/v1.0/users", None)).await.expect("second request");
    let second = t1.elapsed();
    assert_eq!(a.status, 401);
    drop(c);
    let _ = mock.shutdown().await;
    (elapsed, started, second)
}

/// The floor for section (a): bind a listener and spawn the smallest hyper 1
/// accept loop (as `benches/bare_hyper.rs` does), then the same first request.
async fn bare_start_and_first_answer() -> Duration {
    use http_body_util::Full;
    let t0 = Instant::now();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local address");
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(|_req| async {
                    Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(bytes::Bytes::from_static(b"{}"))))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    let mut c = Conn::open(addr).await.expect("connect");
    let a = c.send(&get("/v1.0/users", None)).await.expect("first request");
    let elapsed = t0.elapsed();
    assert_eq!(a.status, 200);
    drop(c);
    task.abort();
    elapsed
}

fn section_start(starts: usize) {
    println!("\n## (a) start() to first answer (plain HTTP, in-process), {starts} starts");
    for flavor in ["multi_thread", "current_thread"] {
        let rt = match flavor {
            "multi_thread" => tokio::runtime::Builder::new_multi_thread().enable_all().build(),
            _ => tokio::runtime::Builder::new_current_thread().enable_all().build(),
        }
        .expect("runtime");
        rt.block_on(async {
            // The first start in a process generates the shared ephemeral key
            // material (RSA-2048 + CA); later starts reuse it.
            let (first, _, _) = start_and_first_answer(0).await;
            let mut v = Vec::with_capacity(starts);
            let mut only_start = Vec::with_capacity(starts);
            let mut warm = Vec::with_capacity(starts);
            for i in 0..starts {
                let (total, start, second) = start_and_first_answer(i as u64 + 1).await;
                v.push(total);
                only_start.push(start);
                warm.push(second);
            }
            let mut bare = Vec::with_capacity(starts);
            for _ in 0..starts {
                bare.push(bare_start_and_first_answer().await);
            }
            let bare_p50 = quantile(&mut bare, 0.5);
            let start_p50 = quantile(&mut only_start, 0.5);
            let warm_p50 = quantile(&mut warm, 0.5);
            let p50 = quantile(&mut v, 0.5);
            let p90 = quantile(&mut v, 0.9);
            let min = v[0];
            let max = v[v.len() - 1];
            if flavor == "multi_thread" {
                println!(
                    "first start in this process (incl. ephemeral key generation): {}",
                    ms(first)
                );
            }
            println!(
                "start_to_first_answer runtime={flavor:<14} median={} p90={} min={} max={}  (start() alone: median {}; a new connection's first answer once running: median {}; bare hyper bind+spawn to first answer: median {})",
                us(p50),
                us(p90),
                us(min),
                us(max),
                us(start_p50),
                us(warm_p50),
                us(bare_p50)
            );
        });
    }
}

fn section_tenant(rt: &tokio::runtime::Runtime, n: usize) {
    println!("\n## (b) create_tenant() on a running server, {n} tenants");
    rt.block_on(async {
        let mock = Graphbox::builder().plain_http().seed(1).frozen_clock(frozen_at()).start().await.expect("start");
        let rss0 = rss_kib();
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            let t0 = Instant::now();
            let info = mock.create_tenant();
            v.push(t0.elapsed());
            std::hint::black_box(info);
        }
        let rss1 = rss_kib();
        let p50 = quantile(&mut v, 0.5);
        let p90 = quantile(&mut v, 0.9);
        println!(
            "create_tenant median={} p90={} max={}  (RSS +{:.1} MiB for {n} tenants, {:.1} KiB each)",
            us(p50),
            us(p90),
            us(v[v.len() - 1]),
            mib(rss1.saturating_sub(rss0)),
            rss1.saturating_sub(rss0) as f64 / n as f64
        );
        let _ = mock.shutdown().await;
    });
}

fn section_memory(rt: &tokio::runtime::Runtime, total: usize, conns: usize) {
    println!("\n## (c) RSS across {total} authenticated GET /v1.0/users/{{id}} on {conns} keep-alive connections");
    rt.block_on(async {
        let domain = learn_domain(2).await;
        let users: Vec<_> = (0..1000).map(|i| user_body(&domain, i)).collect();
        let mock = Graphbox::builder()
            .plain_http()
            .seed(2)
            .frozen_clock(frozen_at())
            .seed_users(users)
            .start()
            .await
            .expect("start");
        let token = fetch_token(&mock).await;
        let ids = some_user_ids(&mock, &token, 100).await;
        let requests: Vec<Vec<u8>> = ids.iter().map(|id| get(&format!("/v1.0/users/{id}"), Some(&token))).collect();
        let run = |n: usize| {
            let addr = mock.local_addr();
            let requests = requests.clone();
            async move {
                let per = n / conns;
                let mut tasks = Vec::new();
                for k in 0..conns {
                    let requests = requests.clone();
                    tasks.push(tokio::spawn(async move {
                        let mut c = Conn::open(addr).await.expect("connect");
                        for i in 0..per {
                            let a = c.send(&requests[(i + k) % requests.len()]).await.expect("request");
                            assert_eq!(a.status, 200);
                        }
                    }));
                }
                for t in tasks {
                    t.await.expect("client task");
                }
                per * conns
            }
        };
        let rss_start = rss_kib();
        let warm = run(20_000.min(total)).await;
        let rss_warm = rss_kib();
        let mut done = 0;
        let t0 = Instant::now();
        let mut checkpoints = Vec::new();
        let step = (total / 4).max(1);
        while done < total {
            done += run(step.min(total - done)).await;
            checkpoints.push((done, rss_kib()));
        }
        let secs = t0.elapsed().as_secs_f64();
        let rss_end = rss_kib();
        println!(
            "rss before={:.1} MiB after {warm} warm-up requests={:.1} MiB after {done} more={:.1} MiB",
            mib(rss_start),
            mib(rss_warm),
            mib(rss_end)
        );
        let marks: Vec<String> = checkpoints.iter().map(|(n, r)| format!("{n}:{:.1}", mib(*r))).collect();
        println!("rss checkpoints (requests:MiB) {}", marks.join(" "));
        println!(
            "rss_growth_after_warmup={:.2} MiB over {done} requests ({:.0} req/s with client in the same process)",
            mib(rss_end.saturating_sub(rss_warm)),
            done as f64 / secs
        );
        let _ = mock.shutdown().await;
    });
}

/// The default tenant's domain for a server started with `.seed(seed)`: the same
/// seed makes the same first tenant, so a throwaway start tells it.
async fn learn_domain(seed: u64) -> String {
    let probe = Graphbox::builder().plain_http().seed(seed).start().await.expect("start");
    let domain = probe.tenant_domain().to_owned();
    let _ = probe.shutdown().await;
    domain
}

async fn rate<F, Fut>(conns: usize, make: F) -> (f64, Duration)
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = (usize, Vec<Duration>)> + Send + 'static,
{
    let t0 = Instant::now();
    let tasks: Vec<_> = (0..conns).map(|k| tokio::spawn(make(k))).collect();
    let mut n = 0;
    let mut lat = Vec::new();
    for t in tasks {
        let (k, l) = t.await.expect("client task");
        n += k;
        lat.extend(l);
    }
    (n as f64 / t0.elapsed().as_secs_f64(), quantile(&mut lat, 0.5))
}

fn section_tokens(rt: &tokio::runtime::Runtime, token_secs: f64, get_secs: f64) {
    println!("\n## (e) tokens per second and authenticated GET /users/{{id}} per second (keep-alive)");
    rt.block_on(async {
        let domain = learn_domain(3).await;
        let users: Vec<_> = (0..1000).map(|i| user_body(&domain, i)).collect();
        let mock = Graphbox::builder()
            .plain_http()
            .seed(3)
            .frozen_clock(frozen_at())
            .seed_users(users)
            .start()
            .await
            .expect("start");
        let addr = mock.local_addr();
        let token_req = token_request(&mock);
        for conns in [1usize, 4] {
            let token_req = token_req.clone();
            let (rps, p50) = rate(conns, move |_| {
                let req = token_req.clone();
                async move {
                    let mut c = Conn::open(addr).await.expect("connect");
                    let mut lat = Vec::new();
                    let end = Instant::now() + Duration::from_secs_f64(token_secs);
                    while Instant::now() < end {
                        let t = Instant::now();
                        let a = c.send(&req).await.expect("token request");
                        lat.push(t.elapsed());
                        assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
                    }
                    (lat.len(), lat)
                }
            })
            .await;
            println!("tokens_per_sec conns={conns} rate={rps:.0}/s p50={}", us(p50));
        }
        let token = fetch_token(&mock).await;
        let ids = some_user_ids(&mock, &token, 100).await;
        let requests: Vec<Vec<u8>> = ids.iter().map(|id| get(&format!("/v1.0/users/{id}"), Some(&token))).collect();
        for conns in [1usize, 4] {
            let requests = requests.clone();
            let (rps, p50) = rate(conns, move |k| {
                let requests = requests.clone();
                async move {
                    let mut c = Conn::open(addr).await.expect("connect");
                    let mut lat = Vec::new();
                    let end = Instant::now() + Duration::from_secs_f64(get_secs);
                    let mut i = k;
                    while Instant::now() < end {
                        let t = Instant::now();
                        let a = c.send(&requests[i % requests.len()]).await.expect("request");
                        lat.push(t.elapsed());
                        assert_eq!(a.status, 200);
                        i += 1;
                    }
                    (lat.len(), lat)
                }
            })
            .await;
            println!("get_user_by_id_per_sec conns={conns} rate={rps:.0}/s p50={}", us(p50));
        }
        let _ = mock.shutdown().await;
    });
}

/// VmHWM (peak RSS) of this process in KiB.
fn hwm_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn section_users(rt: &tokio::runtime::Runtime, n: usize, filter_reqs: usize) {
    // GB_SEED_VEC=1 measures the older path: every body built first as a map.
    let from_vec = std::env::var("GB_SEED_VEC").is_ok_and(|v| v == "1");
    let how = if from_vec { "seed_users(Vec)" } else { "seed_users_with(generator)" };
    println!("\n## (d) {n} users seeded with {how}, then $filter=startswith(displayName,..)&$top=100");
    rt.block_on(async {
        // A throwaway start first, so the process-wide key material and runtime
        // are in the baseline rather than in the directory's figure.
        let domain = learn_domain(4).await;
        let rss0 = rss_kib();
        let builder = Graphbox::builder().plain_http().seed(4).frozen_clock(frozen_at());
        let (builder, rss_input) = if from_vec {
            let t_build = Instant::now();
            let users: Vec<_> = (0..n).map(|i| user_body(&domain, i)).collect();
            let build = t_build.elapsed();
            let rss_input = rss_kib();
            println!(
                "input built in {} (client side, not counted); RSS before input={:.0} MiB with input={:.0} MiB",
                ms(build),
                mib(rss0),
                mib(rss_input)
            );
            (builder.seed_users(users), rss_input)
        } else {
            let builder = builder.seed_users_with(move |domain| {
                let domain = domain.to_owned();
                (0..n).map(move |i| user_body(&domain, i))
            });
            (builder, rss0)
        };
        let t0 = Instant::now();
        let mock = builder.start().await.expect("start with seed users");
        let seeded = t0.elapsed();
        let rss1 = rss_kib();
        println!(
            "seed n={n} start_time={} process_rss_after_start={:.0} MiB peak_rss_so_far={:.0} MiB",
            ms(seeded),
            mib(rss1),
            mib(hwm_kib())
        );
        println!(
            "directory_estimate={:.0} MiB ({:.0} B/user) = RSS after start - RSS before start{}",
            mib(rss1.saturating_sub(rss_input)),
            rss1.saturating_sub(rss_input) as f64 * 1024.0 / n as f64,
            if from_vec {
                " with the input built (glibc reuses the input's freed pages: an underestimate)"
            } else {
                ""
            }
        );
        let token = fetch_token(&mock).await;
        let mut c = Conn::open(mock.local_addr()).await.expect("connect");
        // Full scans, for what filtering on a stored value (accountEnabled) and on
        // implied ones (userType, id) costs per user.
        let ids = some_user_ids(&mock, &token, 100).await;
        let filters = [
            ("no match (full scan)", "startswith(displayName,'x')".to_owned()),
            ("'User 0999'", "startswith(displayName,'User 0999')".to_owned()),
            ("scan accountEnabled", "accountEnabled eq false".to_owned()),
            ("scan userType", "userType eq 'Guest'".to_owned()),
            ("scan id", format!("id eq '{}'", ids[0])),
        ];
        for (label, filter) in &filters {
            let req = get(&format!("/v1.0/users?$filter={}&$top=100", percent_encode(filter)), Some(&token));
            let mut lat = Vec::with_capacity(filter_reqs);
            let mut items = 0;
            for _ in 0..filter_reqs {
                let t = Instant::now();
                let a = c.send(&req).await.expect("filter request");
                lat.push(t.elapsed());
                if a.status != 200 {
                    println!("filter {label}: status {} {}", a.status, String::from_utf8_lossy(&a.body));
                    break;
                }
                items = serde_json::from_slice::<Value>(&a.body)
                    .ok()
                    .and_then(|v| v["value"].as_array().map(Vec::len))
                    .unwrap_or(0);
            }
            let p50 = quantile(&mut lat, 0.5);
            let p90 = quantile(&mut lat, 0.9);
            println!("filter {label:<22} items={items:<3} p50={} p90={}", ms(p50), ms(p90));
        }
        // GET by id in the big tenant, for comparison with the 1 000-user one.
        let mut lat = Vec::new();
        for i in 0..5000 {
            let t = Instant::now();
            let a = c.send(&get(&format!("/v1.0/users/{}", ids[i % ids.len()]), Some(&token))).await.expect("get");
            lat.push(t.elapsed());
            assert_eq!(a.status, 200);
        }
        println!("get_user_by_id in the {n}-user tenant, 1 connection: p50={}", us(quantile(&mut lat, 0.5)));
        drop(c);
        let t = Instant::now();
        let _ = mock.shutdown().await;
        println!("shutdown() of the {n}-user server took {}", ms(t.elapsed()));
    });
}

fn main() {
    // `cargo bench` passes `--bench`; filters are not supported, sections are
    // chosen with GB_ONLY.
    let starts = env_usize("GB_STARTS", 200);
    let tenants = env_usize("GB_TENANTS", 1000);
    let requests = env_usize("GB_REQUESTS", 1_000_000);
    let conns = env_usize("GB_CONNS", 8).max(1);
    let users = env_usize("GB_USERS", 1_000_000);
    let filter_reqs = env_usize("GB_FILTER_REQS", 50).max(1);
    let token_secs = env_usize("GB_TOKEN_SECS", 3) as f64;
    let get_secs = env_usize("GB_GET_SECS", 3) as f64;
    println!(
        "# graphbox-mock in-process bench (pid {}, {} CPUs visible)",
        std::process::id(),
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );
    if enabled("start") {
        section_start(starts);
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    if enabled("tenant") {
        section_tenant(&rt, tenants);
    }
    if enabled("memory") {
        section_memory(&rt, requests, conns);
    }
    if enabled("tokens") {
        section_tokens(&rt, token_secs, get_secs);
    }
    // Last: the big tenant's memory stays with the process (the allocator keeps it).
    if enabled("users") {
        section_users(&rt, users, filter_reqs);
    }
}
