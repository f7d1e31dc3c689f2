//! Benchmark: provision 10 000 source users into the in-process mock (create), then an update
//! round where 10 % changed at the source, with the vendor guide's script. Prints users/s per
//! round and script evaluations/s; asserts nothing about time (the machine is shared).
//!
//! ```sh
//! cargo run --release --example provisioning_bench            # BENCH_USERS=10000 BENCH_CONCURRENCY=32
//! ```

use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use graphbox::mock::Graphbox;
use graphbox::sdk::auth::ClientSecretCredential;
use graphbox::sdk::provisioning::{Attribute, ProgressMode, Provisioner, Script, SourceUser, GUIDE_SCRIPT};
use graphbox::sdk::GraphClient;

// A benchmark measures real elapsed time; nothing else in the repository reads this clock.
#[allow(clippy::disallowed_methods)]
fn now() -> Instant {
    Instant::now()
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-9)
}

fn source(domain: &str, n: usize) -> Vec<SourceUser> {
    (0..n)
        .map(|i| {
            let mut u = SourceUser::new(&format!("user{i:05}@{domain}"))
                .with(Attribute::ImmutableId, &format!("anchor-{i:05}"))
                .with(Attribute::DisplayName, &format!("User {i:05}"))
                .with(Attribute::GivenName, "User")
                .with(Attribute::Surname, &format!("{i:05}"));
            u.row = i + 1;
            u
        })
        .collect()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let n = env_usize("BENCH_USERS", 10_000);
    let concurrency = env_usize("BENCH_CONCURRENCY", 32);
    let mock = Graphbox::builder().plain_http().start().await.context("starting the mock")?;
    let graph = GraphClient::builder()
        .authority_host(mock.authority())
        .graph_url(mock.graph_url())
        .tenant(mock.tenant_id())
        .credential(ClientSecretCredential::new(mock.client_id(), mock.client_secret()))
        .build()?;
    let script = Script::new(GUIDE_SCRIPT).map_err(|e| anyhow::anyhow!("{e}"))?;
    let p = Provisioner::new(graph).script(script.clone()).concurrency(concurrency).progress(ProgressMode::Never);
    let mut users = source(mock.tenant_domain(), n);
    println!("provisioning {n} users, {concurrency} requests in flight, guide script");

    // Script evaluations alone, on one engine, as planning runs them.
    let mut engine = script.engine().map_err(|e| anyhow::anyhow!("{e}"))?;
    let started = now();
    for u in &users {
        engine.run(u, &Default::default()).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let script_time = started.elapsed();
    println!(
        "script:  {n} evaluations in {:.3} s = {:.0} evaluations/s",
        script_time.as_secs_f64(),
        rate(n, script_time)
    );

    for (round, changed) in [("create", n), ("update", n / 10)] {
        if round == "update" {
            for u in users.iter_mut().step_by(10) {
                let name = format!("{} (renamed)", u.text(Attribute::DisplayName).unwrap_or_default());
                u.set(Attribute::DisplayName, &name);
            }
        }
        let started = now();
        let plan = p.plan(&users).await?;
        let planned = started.elapsed();
        let report = p.apply(&plan).await;
        let total = started.elapsed();
        if report.refused > 0 {
            bail!("{} refused in the {round} round:\n{report}", report.refused);
        }
        let written = report.created + report.updated;
        if written != changed {
            bail!("{round} round wrote {written} users, expected {changed}");
        }
        println!(
            "{round}: {written} written ({} unchanged) in {:.3} s (plan {:.3} s incl. reading {} tenant users, apply {:.3} s) = {:.0} users/s written, {:.0} source users/s",
            report.unchanged,
            total.as_secs_f64(),
            planned.as_secs_f64(),
            n,
            (total - planned).as_secs_f64(),
            rate(written, total),
            rate(n, total)
        );
    }
    Ok(())
}
