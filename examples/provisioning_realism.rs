//! Benchmark: provision 10 000 users into a mock whose tenant behaves like Entra (realism
//! `entra`, small-tenant budget: 3 500 resource units per 10 s, 3 000 writes per 150 s per app,
//! 18 000 per 5 min per tenant). The SDK paces itself to the throttling headers and waits on the
//! tenant's virtual clock, so the run takes minutes of tenant time and seconds of real time.
//! Prints the 429s received (goal: 0 — every one would have been avoidable by slowing down),
//! what the SDK waited and why, the tenant's report, and the wall time on the virtual clock.
//!
//! ```sh
//! cargo run --release --example provisioning_realism   # BENCH_USERS=10000 BENCH_CONCURRENCY=16 BENCH_SEED=7
//! ```
//!
//! Latency is the profile's (p50 40 ms, p99 250 ms, real time); random 503/504s are the
//! profile's too, and are retried, not counted as throttling.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context as _};
use graphbox::mock::{Graphbox, RealismConfig, RealismProfile};
use graphbox::sdk::auth::ClientSecretCredential;
use graphbox::sdk::provisioning::{Attribute, ProgressMode, Provisioner, SourceUser};
use graphbox::sdk::{GraphClient, RetryPolicy};
use graphbox::virtual_time::VirtualTime;

// A benchmark measures real elapsed time; nothing else in the repository reads this clock.
#[allow(clippy::disallowed_methods)]
fn now() -> Instant {
    Instant::now()
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let n = env_u64("BENCH_USERS", 10_000) as usize;
    let concurrency = env_u64("BENCH_CONCURRENCY", 16) as usize;
    let seed = env_u64("BENCH_SEED", 7);
    let mut config = RealismConfig::new(RealismProfile::Entra, seed);
    config.overrides.insert("tenantSize".into(), "small".into());
    let mock = Arc::new(
        Graphbox::builder().plain_http().seed(seed).realism(config).start().await.context("starting the mock")?,
    );
    let time = VirtualTime::new(mock.clone());
    let graph = GraphClient::builder()
        .authority_host(mock.authority())
        .graph_url(mock.graph_url())
        .tenant(mock.tenant_id())
        .credential(ClientSecretCredential::new(mock.client_id(), mock.client_secret()))
        .clock(time.clone())
        .sleeper(time.clone())
        .retry_policy(RetryPolicy::default().max_retries(8))
        .build()?;
    let p = Provisioner::new(graph.clone()).concurrency(concurrency).progress(ProgressMode::Never);
    let users: Vec<SourceUser> = (0..n)
        .map(|i| {
            let mut u = SourceUser::new(&format!("user{i:05}@{}", mock.tenant_domain()))
                .with(Attribute::DisplayName, &format!("User {i:05}"))
                .with(Attribute::UsageLocation, "SE");
            u.row = i + 1;
            u
        })
        .collect();
    println!("provisioning {n} users under realism entra (seed {seed}, small-tenant budget), {concurrency} requests in flight");
    let (virtual_start, real_start) = (mock.now(), now());
    let plan = p.plan(&users).await?;
    let report = p.apply(&plan).await;
    let (virtual_took, real_took) = (mock.now() - virtual_start, real_start.elapsed());
    if report.created != n {
        bail!(
            "created {} of {n} users:\n{}",
            report.created,
            report.refusals().take(5).map(|e| format!("{e:?}")).collect::<Vec<_>>().join("\n")
        );
    }
    let waits = graph.waits();
    let tenant = mock.realism_report();
    let me = tenant["clients"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["clientId"] == mock.client_id().to_string()).cloned())
        .unwrap_or_default();
    println!("created {} users; 429s received: {} (goal 0)", report.created, waits.throttled);
    println!("SDK waits: {waits}");
    println!(
        "tenant report: {} requests, {} answered 429, {} early retries, {} answered 503/504, largest burst {}/s",
        me["requests"], me["throttled"], me["earlyRetries"], me["unavailable"], me["largestBurst"]
    );
    println!(
        "wall time on the virtual clock: {:.1} s ({:.1} writes/s; Graph's write quota allows 20/s after the first 3 000); real time {:.1} s",
        virtual_took.as_seconds_f64(),
        n as f64 / virtual_took.as_seconds_f64().max(1e-9),
        real_took.as_secs_f64()
    );
    Ok(())
}
