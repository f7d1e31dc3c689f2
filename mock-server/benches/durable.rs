//! Figures for `--state`'s journal, forks and snapshots. Prints figures and
//! asserts nothing about timings (see bench/README.md).
//!
//! ```text
//! cargo bench -p graphbox-mock --bench durable
//! GB_USERS=100000 GB_WRITE_SECS=5 GB_REPLAY_WRITES=1000000 cargo bench -p graphbox-mock --bench durable
//! ```
//!
//! - `fork`   — a tenant seeded with `GB_USERS` (100 000) users: `Graphbox::fork_tenant`,
//!   `POST …/snapshots` and `POST …/snapshots/{name}/restore` (over loopback HTTP,
//!   so those two include a round trip), median of 20, and VmRSS growth over the 20.
//! - `writes` — `POST /v1.0/users` from 8 concurrent keep-alive clients for
//!   `GB_WRITE_SECS` (5 s), without `--state` and with it (journaled, fsynced),
//!   the state file in `GB_STATE_DIR` (default: the temp dir); then the same on
//!   `/dev/shm` (tmpfs: a flush costs nothing, so what is left is the journal's
//!   own cost), the three servers taking turns in half-second slices;
//!   `GB_WRITE_ROUNDS` (3) rounds, each with new servers, then every round's
//!   ratio and their median; and the disk's
//!   floor: one `write` + `fdatasync` timed in `GB_STATE_DIR`.
//! - `replay` — `GB_REPLAY_WRITES` (1 000 000) journaled user creations (made
//!   with the state in `GB_REPLAY_DIR`, default `/dev/shm`, so making them does
//!   not wait on the disk), then start-up of a server on that state (snapshot
//!   and journal replay) timed to its first answer, with the CPU time and RSS
//!   growth of `start()`. `GB_REPLAY_KEEP=DIR` makes the journal in `DIR` once
//!   and keeps it, and later runs only time start-ups on it; `GB_REPLAY_RUNS`
//!   (1) start-ups are timed, each in the same process on a fresh copy.

#![allow(clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use graphbox_mock::Graphbox;
use serde_json::{json, Value};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(default)
}

fn enabled(section: &str) -> bool {
    match std::env::var("GB_ONLY") {
        Ok(list) if !list.trim().is_empty() => list.split(',').any(|s| s.trim() == section),
        _ => true,
    }
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// CPU time this process has used (user + system), from `/proc/self/stat`:
/// on a shared machine, what a start-up cost apart from waiting for a CPU.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15 of the line; what follows the
    // name starts at field 3.
    let hz = 100; // USER_HZ on Linux
    Duration::from_millis((ticks(11) + ticks(12)) * 1000 / hz)
}

fn median<T: Copy + PartialOrd>(mut v: Vec<T>) -> T {
    v.sort_by(|a, b| a.partial_cmp(b).expect("timings and rates are numbers"));
    v[v.len() / 2]
}

fn user(i: usize, domain: &str) -> serde_json::Map<String, Value> {
    json!({"accountEnabled": true, "displayName": format!("User {i:07}"), "mailNickname": format!("user{i:07}"),
           "userPrincipalName": format!("user{i:07}@{domain}"), "passwordProfile": {"password": "Gb!x12345678a"}})
    .as_object()
    .cloned()
    .unwrap_or_default()
}

async fn token(http: &reqwest::Client, mock: &Graphbox) -> String {
    let r: Value = http
        .post(mock.token_url())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &mock.client_id().to_string()),
            ("client_secret", mock.client_secret()),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token JSON");
    r["access_token"].as_str().expect("a token").to_owned()
}

async fn fork_section() {
    let users = env_usize("GB_USERS", 100_000);
    let mock = Graphbox::builder()
        .plain_http()
        .seed_users_with(move |domain| {
            let domain = domain.to_owned();
            (0..users).map(move |i| user(i, &domain))
        })
        .start()
        .await
        .expect("start");
    let http = reqwest::Client::new();
    let tenant = mock.tenant_id();
    let control = format!("{}/tenants/{tenant}", mock.control_url());
    let before = rss_kib();
    let mut forks = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        mock.fork_tenant(tenant).expect("fork");
        forks.push(t.elapsed());
    }
    let fork_kib = (rss_kib().saturating_sub(before)) / 20;
    let before = rss_kib();
    let mut snaps = Vec::new();
    for i in 0..20 {
        let t = Instant::now();
        let r = http.post(format!("{control}/snapshots")).json(&json!({"name": format!("s{i}")})).send().await.unwrap();
        snaps.push(t.elapsed());
        assert_eq!(r.status(), 201);
    }
    let snap_kib = (rss_kib().saturating_sub(before)) / 20;
    let mut restores = Vec::new();
    for i in 0..20 {
        let t = Instant::now();
        let r = http.post(format!("{control}/snapshots/s{i}/restore")).send().await.unwrap();
        restores.push(t.elapsed());
        assert_eq!(r.status(), 200);
    }
    println!("fork    {users} users: fork_tenant median {:?}, ~{fork_kib} KiB RSS each", median(forks));
    println!(
        "fork    {users} users: POST snapshots median {:?} (HTTP round trip included), ~{snap_kib} KiB RSS each",
        median(snaps)
    );
    println!("fork    {users} users: POST restore median {:?} (HTTP round trip included)", median(restores));
}

/// What 8 clients writing for `secs` reached: writes a second, and the
/// process's CPU time a write (clients and server together: they share the
/// runtime, as they share the machine).
struct WriteRate {
    per_sec: f64,
    cpu_us: f64,
}

impl std::fmt::Display for WriteRate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.0}/s ({:.1} µs CPU a write)", self.per_sec, self.cpu_us)
    }
}

/// When each of the 8 writing clients stops.
#[derive(Clone, Copy)]
enum Until {
    Deadline(Instant),
    Writes(usize),
}

/// `POST /users` from 8 concurrent keep-alive clients, each naming its users
/// `{tag}{client}x{n}`, until told; returns how many were made.
async fn post_users(mock: &Graphbox, tag: &str, until: Until) -> usize {
    let http = reqwest::Client::new();
    let token = token(&http, mock).await;
    let graph = mock.graph_url().to_owned();
    let domain = mock.tenant_domain().to_owned();
    let mut tasks = Vec::new();
    for c in 0..8 {
        let (http, token, graph, domain, tag) =
            (http.clone(), token.clone(), graph.clone(), domain.clone(), tag.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut n = 0usize;
            while match until {
                Until::Deadline(at) => Instant::now() < at,
                Until::Writes(per) => n < per,
            } {
                let body = json!({"accountEnabled": true, "displayName": format!("W {tag} {c} {n}"),
                                  "mailNickname": format!("w{tag}{c}x{n}"),
                                  "userPrincipalName": format!("w{tag}{c}x{n}@{domain}"),
                                  "passwordProfile": {"password": "Gb!x12345678a"}});
                let r = http.post(format!("{graph}/users")).bearer_auth(&token).json(&body).send().await.unwrap();
                assert_eq!(r.status(), 201);
                r.bytes().await.unwrap();
                n += 1;
            }
            n
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total
}

/// Median of `write` + `fdatasync` of a 600-byte record appended to a file
/// in `dir`: what one group commit costs at least on that disk.
fn flush_latency(dir: &std::path::Path) -> Duration {
    use std::io::Write;
    let path = dir.join("flush-probe");
    let mut f = std::fs::File::create(&path).expect("probe file");
    let record = [b'x'; 600];
    let mut times = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        f.write_all(&record).expect("write");
        f.sync_data().expect("fdatasync");
        times.push(t.elapsed());
    }
    let _ = std::fs::remove_file(&path);
    median(times)
}

/// A server with `--state` in a new directory under `base` (removed when
/// the returned guard drops).
async fn journaled_server(base: &std::path::Path, tag: &str) -> (Graphbox, RemoveOnDrop) {
    let dir = base.join(format!("graphbox-bench-durable-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let journaled = Graphbox::builder().plain_http().state_file(dir.join("state.json")).start().await.expect("start");
    (journaled, RemoveOnDrop(dir))
}

struct RemoveOnDrop(std::path::PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// How long each server writes before the next one takes over.
const SLICE: Duration = Duration::from_millis(500);

/// `secs` of writes on each of `servers`, taken in turns of [`SLICE`], so
/// that a machine that slows down or speeds up for a few seconds does so
/// for every server alike.
async fn interleaved(servers: &[&Graphbox], secs: u64, tag: &str) -> Vec<WriteRate> {
    let slices = (Duration::from_secs(secs).as_millis() / SLICE.as_millis()).max(1) as usize;
    let mut totals = vec![(0usize, Duration::ZERO, Duration::ZERO); servers.len()];
    for slice in 0..slices {
        for (i, server) in servers.iter().enumerate() {
            let cpu_before = cpu_time();
            let started = Instant::now();
            let made = post_users(server, &format!("{tag}s{slice}"), Until::Deadline(started + SLICE)).await;
            let total = &mut totals[i];
            total.0 += made;
            total.1 += started.elapsed();
            total.2 += cpu_time().saturating_sub(cpu_before);
        }
    }
    totals
        .into_iter()
        .map(|(made, wall, cpu)| WriteRate {
            per_sec: made as f64 / wall.as_secs_f64(),
            cpu_us: cpu.as_secs_f64() * 1e6 / made.max(1) as f64,
        })
        .collect()
}

async fn writes_section() {
    let secs = env_usize("GB_WRITE_SECS", 5) as u64;
    let rounds = env_usize("GB_WRITE_ROUNDS", 3).max(1);
    let state_dir = std::env::var_os("GB_STATE_DIR").map_or_else(std::env::temp_dir, Into::into);
    let shm = std::path::Path::new("/dev/shm");
    let shm = shm.is_dir().then_some(shm);
    // On a shared machine the rate without `--state` moves by 10-25 % from
    // one minute to the next, so the three servers of a round take turns in
    // half-second slices rather than one run after another.
    let (mut on_disk, mut on_tmpfs) = (Vec::new(), Vec::new());
    let (mut plain_rates, mut tmpfs_rates) = (Vec::new(), Vec::new());
    for round in 1..=rounds {
        let plain = Graphbox::builder().plain_http().start().await.expect("start");
        let (disk, _disk_dir) = journaled_server(&state_dir, &format!("j{round}")).await;
        let shm = match shm {
            Some(shm) => Some(journaled_server(shm, &format!("m{round}")).await),
            None => None,
        };
        let mut servers = vec![&plain, &disk];
        servers.extend(shm.as_ref().map(|(s, _)| s));
        let rates = interleaved(&servers, secs, &format!("r{round}")).await;
        let without = rates[0].per_sec;
        println!(
            "writes  round {round}: POST /users, 8 clients, {secs} s each in turns of {SLICE:?}: {} without --state, \
             {} journaled in {} ({:.2}x)",
            rates[0],
            rates[1],
            state_dir.display(),
            rates[1].per_sec / without
        );
        on_disk.push(rates[1].per_sec / without);
        plain_rates.push(without);
        if let Some(with) = rates.get(2) {
            on_tmpfs.push(with.per_sec / without);
            tmpfs_rates.push(with.per_sec);
            println!(
                "writes  round {round}: journaled on tmpfs (/dev/shm, flushes cost nothing): {with} ({:.2}x)",
                with.per_sec / without
            );
        }
    }
    let listed = |v: &[f64]| v.iter().map(|r| format!("{r:.2}")).collect::<Vec<_>>().join(" / ");
    println!(
        "writes  journaled/without in {}: {} — median {:.2}x (goal 0.8x)",
        state_dir.display(),
        listed(&on_disk),
        median(on_disk.clone())
    );
    if !on_tmpfs.is_empty() {
        println!("writes  journaled on tmpfs/without: {} — median {:.2}x", listed(&on_tmpfs), median(on_tmpfs.clone()));
    }
    let flush = flush_latency(&state_dir);
    println!(
        "writes  the disk under {}: write+fdatasync of 600 bytes, median {flush:?} (8 clients that each waited \
         for one such flush would reach {:.0}/s)",
        state_dir.display(),
        8.0 / flush.as_secs_f64()
    );
    if !tmpfs_rates.is_empty() {
        // Little's law for 8 clients, as an estimate rather than a bound: a
        // journaled write on the disk takes the cycle it takes on tmpfs
        // (CPU and queueing, the flush free) plus its wait for the disk: the
        // flush under way when its record came in, half of one on average,
        // then its own. (Clients that wait leave the CPU to fewer others,
        // which can shorten the cycle; flushes slower under load lengthen
        // the wait.)
        let cycle = 8.0 / median(tmpfs_rates);
        let wait = 1.5 * flush.as_secs_f64();
        let estimate = 8.0 / (cycle + wait);
        println!(
            "writes  an estimate for the disk run: a write's cycle on tmpfs ({:.0} µs) plus a wait of one and a \
             half flushes ({:.0} µs) gives 8 clients {estimate:.0}/s, {:.2}x the median rate without --state",
            cycle * 1e6,
            wait * 1e6,
            estimate / median(plain_rates)
        );
    }
}

/// Make `writes` journaled user creations in a new state in `dir` (8 clients
/// over HTTP), never compacted, and drop the server without saving: the
/// journal is all there is.
async fn make_journal(dir: &std::path::Path, writes: usize) {
    let state = dir.join("state.json");
    // Never compacted while they are made: every one of them is replayed.
    let mock =
        Graphbox::builder().plain_http().state_file(&state).compact_after_bytes(u64::MAX).start().await.expect("start");
    let t = Instant::now();
    let made = post_users(&mock, "r", Until::Writes(writes.div_ceil(8))).await;
    println!("replay  {made} journaled writes made in {:?}", t.elapsed());
    drop(mock);
    // The dropped server winds down on the runtime's threads (its tasks stop,
    // its million users are freed): timed alongside, that would be counted as
    // the next start's time and CPU.
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(60) {
        let before = cpu_time();
        tokio::time::sleep(Duration::from_millis(250)).await;
        if cpu_time().saturating_sub(before) < Duration::from_millis(20) {
            break;
        }
    }
    println!("replay  the writing server wound down in {:?}", t.elapsed());
}

/// A copy of the state in `from` that a start may rewrite: hard links (a
/// start only reads the old segments, writes new files and replaces or
/// deletes names), so the kept journal survives every run.
fn scratch_copy(from: &std::path::Path, to: &std::path::Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().filter_map(|e| e.ok()) {
        let target = to.join(entry.file_name());
        if std::fs::hard_link(entry.path(), &target).is_err() {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

async fn replay_section() {
    let writes = env_usize("GB_REPLAY_WRITES", 1_000_000);
    let runs = env_usize("GB_REPLAY_RUNS", 1).max(1);
    let base = std::env::var_os("GB_REPLAY_DIR").map_or_else(|| "/dev/shm".into(), std::path::PathBuf::from);
    // `GB_REPLAY_KEEP=DIR`: the journal is made there once and kept, and
    // later runs only time the start-up on it (making it is the slow part).
    let kept = std::env::var_os("GB_REPLAY_KEEP").map(std::path::PathBuf::from);
    let source = kept.clone().unwrap_or_else(|| base.join(format!("graphbox-bench-replay-{}", std::process::id())));
    let has_journal = |dir: &std::path::Path| {
        std::fs::read_dir(dir)
            .map(|mut d| d.any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().contains(".journal."))))
            .unwrap_or(false)
    };
    if kept.is_none() || !has_journal(&source) {
        let _ = std::fs::remove_dir_all(&source);
        std::fs::create_dir_all(&source).unwrap();
        make_journal(&source, writes).await;
    } else {
        println!("replay  reusing the journal kept in {}", source.display());
    }
    let journal_bytes: u64 = std::fs::read_dir(&source)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".journal."))
        // Blocks in use, not the length: a segment left by a crash keeps the
        // sparse room it grew by ahead of its records.
        .map(|e| e.metadata().map(|m| std::os::unix::fs::MetadataExt::blocks(&m) * 512).unwrap_or(0))
        .sum();
    let run_dir = source.with_file_name(format!("graphbox-bench-replay-run-{}", std::process::id()));
    for run in 1..=runs {
        scratch_copy(&source, &run_dir);
        let state = run_dir.join("state.json");
        let (cpu, rss) = (cpu_time(), rss_kib());
        let t = Instant::now();
        let mock = Graphbox::builder().plain_http().state_file(&state).start().await.expect("restart");
        let started = t.elapsed();
        let start_cpu = cpu_time().saturating_sub(cpu);
        let grown_mib = rss_kib().saturating_sub(rss) / 1024;
        let http = reqwest::Client::new();
        let token = token(&http, &mock).await;
        let r = http.get(format!("{}/users?$top=1", mock.graph_url())).bearer_auth(&token).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let answered = t.elapsed();
        println!(
            "replay  run {run}/{runs}: start-up on {} MiB of journal in {}: start() {started:?} ({start_cpu:?} of \
             CPU, RSS +{grown_mib} MiB), first Graph answer {answered:?} (the replayed journal is folded into the \
             state file in the background after that)",
            journal_bytes / (1 << 20),
            source.parent().unwrap_or(&source).display()
        );
        // Shut down, not dropped: the fold still running in the background would
        // write the state file again after the directory is gone.
        mock.shutdown().await.expect("saved");
        let _ = std::fs::remove_dir_all(&run_dir);
    }
    if kept.is_none() {
        let _ = std::fs::remove_dir_all(&source);
    }
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    if enabled("fork") {
        fork_section().await;
    }
    if enabled("writes") {
        writes_section().await;
    }
    if enabled("replay") {
        replay_section().await;
    }
}
