//! The whole flow, offline: a fake tenant with DirSync on and synced users, onboarding (DirSync
//! off and through `PendingDisabled` on the virtual clock, application, consent, role, secret,
//! token), then outbound provisioning of `examples/data/source.csv` with the vendor guide's
//! script. Exits non-zero on any failure.
//!
//! ```sh
//! cargo run --example full_flow                                  # an embedded mock
//! GRAPHBOX_TARGET=ready.json cargo run --example full_flow       # a running `graphbox-mock serve`
//! cargo run --example full_flow -- --realism entra [--realism-seed 7]   # a tenant that lags and throttles
//! ```
//!
//! `GRAPHBOX_TARGET` names a file holding the mock's ready line (`graphbox-mock serve > ready.json`).

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _};
use graphbox::mock::{Graphbox, ReadyInfo};
use graphbox::sdk::auth::{ClientSecretCredential, Credential};
use graphbox::sdk::models::{Organization, User};
use graphbox::sdk::onboarding::{Onboarding, OnboardingEvent};
use graphbox::sdk::permissions::GraphPermission;
use graphbox::sdk::provisioning::{parse_csv, Provisioner, Script};
use graphbox::sdk::{GraphClient, SleepFuture, Sleeper};
use serde_json::json;

/// Waits by moving the tenant's virtual clock forward instead of sleeping.
#[derive(Debug, Clone)]
struct AdvanceClock {
    http: reqwest::Client,
    url: String,
}

impl Sleeper for AdvanceClock {
    fn sleep(&self, duration: Duration) -> SleepFuture {
        let (http, url) = (self.http.clone(), self.url.clone());
        Box::pin(async move {
            let sent = http.post(&url).json(&json!({ "seconds": duration.as_secs() })).send().await;
            if let Err(e) = sent.and_then(|r| r.error_for_status()) {
                eprintln!("      (could not advance the clock: {e})");
            }
        })
    }
}

struct Target {
    info: ReadyInfo,
    ca_pem: Option<String>,
    http: reqwest::Client,
    _embedded: Option<Graphbox>,
}

impl Target {
    async fn open() -> anyhow::Result<Self> {
        let (info, embedded) = match std::env::var("GRAPHBOX_TARGET") {
            Ok(path) => {
                let text = std::fs::read_to_string(&path).with_context(|| format!("reading GRAPHBOX_TARGET={path}"))?;
                let line = text.lines().next().unwrap_or_default();
                (serde_json::from_str::<ReadyInfo>(line).context("GRAPHBOX_TARGET is not a ready line")?, None)
            }
            Err(_) => {
                let mock = Graphbox::builder().plain_http().start().await.context("starting the embedded mock")?;
                (mock.ready_info().clone(), Some(mock))
            }
        };
        let ca_pem = match &info.ca_file {
            Some(path) => Some(std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?),
            None => None,
        };
        let mut http = reqwest::Client::builder();
        if let Some(pem) = &ca_pem {
            http = http.add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes())?);
        }
        Ok(Self { info, ca_pem, http: http.build()?, _embedded: embedded })
    }

    fn client(&self, credential: Credential) -> Result<GraphClient, graphbox::sdk::Error> {
        let mut b = GraphClient::builder()
            .authority_host(&self.info.authority)
            .graph_url(&self.info.graph_url)
            .tenant(self.info.tenant_id)
            .credential(credential);
        if let Some(pem) = &self.ca_pem {
            b = b.add_root_certificate_pem(pem.as_bytes().to_vec());
        }
        b.build()
    }

    fn control(&self, path: &str) -> String {
        format!("{}/tenants/{}{path}", self.info.control_url, self.info.tenant_id)
    }

    fn waiter(&self) -> AdvanceClock {
        AdvanceClock { http: self.http.clone(), url: self.control("/clock/advance") }
    }
}

/// `--realism PROFILE [--realism-seed N]`: the body for the tenant's `…/realism` (README:
/// Realism), or `None` without the flag. The seed defaults to 1 so a run can be repeated.
fn realism_args() -> anyhow::Result<Option<serde_json::Value>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).cloned();
    let Some(profile) = value("--realism") else { return Ok(None) };
    let seed: u64 = value("--realism-seed").map(|s| s.parse()).transpose().context("--realism-seed")?.unwrap_or(1);
    Ok(Some(json!({"profile": profile, "seed": seed})))
}

/// Put realism in force on the target tenant, say what it is, and return its magnitudes.
async fn apply_realism(target: &Target, body: &serde_json::Value) -> anyhow::Result<serde_json::Value> {
    let r = target.http.put(target.control("/realism")).json(body).send().await?;
    let status = r.status();
    let view: serde_json::Value = r.json().await?;
    if !status.is_success() {
        bail!("realism refused: {}", view["error"]["message"]);
    }
    let e = &view["effective"];
    println!(
        "   realism {} (seed {}): replication {}–{} s, tokens lag {}–{} s, throttling {}, latency p50 {} ms / p99 {} ms",
        view["profile"], view["seed"], e["replicationMinSeconds"], e["replicationMaxSeconds"],
        e["tokenPropagationMinSeconds"], e["tokenPropagationMaxSeconds"], e["throttling"], e["latencyP50Ms"], e["latencyP99Ms"]
    );
    Ok(e.clone())
}

/// What the clients waited for and why, and what the tenant saw of them.
async fn report_realism(target: &Target, clients: &[(&str, &GraphClient)]) -> anyhow::Result<()> {
    step(7, "realism: what was waited for, and why");
    println!("   onboarding's replication waits are the \"waiting\" lines of step 3");
    for (name, client) in clients {
        println!("   {name}: {}", client.waits());
    }
    let report: serde_json::Value = target.http.get(target.control("/realism/report")).send().await?.json().await?;
    for c in report["clients"].as_array().into_iter().flatten() {
        println!(
            "   the tenant saw client {}: {} requests, {} answered 429, {} early retries, largest burst {}/s",
            c["clientId"].as_str().unwrap_or_default(),
            c["requests"],
            c["throttled"],
            c["earlyRetries"],
            c["largestBurst"]
        );
    }
    Ok(())
}

fn step(n: u32, title: &str) {
    println!("\n== {n}. {title}");
}

/// DirSync on and a sync cycle with two on-premises users, through the documented Graph call and
/// the mock's control API; a target that does not model DirSync yet answers 501 and is skipped.
async fn seed_dirsync(target: &Target, admin: &GraphClient) -> anyhow::Result<()> {
    let enable = Organization { on_premises_sync_enabled: Some(true), ..Default::default() };
    match admin.organization().update(target.info.tenant_id, enable).send().await {
        Ok(()) => println!("   DirSync switched on (PATCH /organization)"),
        Err(e) if e.as_graph_error().is_some_and(|g| g.status == 501) => {
            println!("   skipped: this mock does not model /organization yet (501); no synced users seeded");
            return Ok(());
        }
        Err(e) => return Err(e).context("switching DirSync on"),
    }
    // PendingEnabled lasts seconds; move past it.
    target.waiter().sleep(Duration::from_secs(60)).await;
    let domain = &target.info.tenant_domain;
    let users = json!({ "users": [
        { "onPremisesImmutableId": "bWlyYS1va2Fmb3I=", "userPrincipalName": format!("mira.okafor@{domain}"),
          "displayName": "Mira Okafor (on-prem)", "mailNickname": "mira.okafor", "jobTitle": "Engineer" },
        { "onPremisesImmutableId": "cGF0LW9ucHJlbQ==", "userPrincipalName": format!("pat.onprem@{domain}"),
          "displayName": "Pat Onprem", "mailNickname": "pat.onprem" },
    ]});
    let response = target.http.post(target.control("/dirsync/cycle")).json(&users).send().await?;
    match response.status().as_u16() {
        501 => println!("   skipped: this mock does not model sync cycles yet (501)"),
        s if (200..300).contains(&s) => {
            let summary: serde_json::Value = response.json().await?;
            println!("   sync cycle: {} created, {} refused", summary["created"], summary["refused"]);
        }
        s => bail!("sync cycle answered {s}: {}", response.text().await.unwrap_or_default()),
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    step(1, "a fake tenant");
    let target = Arc::new(Target::open().await?);
    println!("   tenant {} ({}) at {}", target.info.tenant_id, target.info.tenant_domain, target.info.authority);
    let realism = match realism_args()? {
        Some(body) => Some(apply_realism(&target, &body).await?),
        None => None,
    };
    let admin = target.client(ClientSecretCredential::new(target.info.client_id, &target.info.client_secret).into())?;

    step(2, "seed: a cloud user, DirSync on, synced users");
    // A user created in the cloud earlier: provisioning matches it by UPN, overwrites what the
    // source owns (display name) and leaves what Microsoft 365 owns (job title) alone.
    let mut lena = User::new(
        "Lena Novak (old name)",
        "lena.novak",
        &format!("lena.novak@{}", target.info.tenant_domain),
        "Vk3#pL9!wQz2",
    );
    lena.job_title = Some("Set in the Microsoft 365 admin centre".into());
    admin.users().create(lena).send().await.context("seeding a cloud user")?;
    println!("   created cloud user lena.novak");
    seed_dirsync(&target, &admin).await?;

    step(3, "onboarding: DirSync off, application, consent, role, secret, token");
    let for_connect = target.clone();
    let waited = Arc::new(std::sync::Mutex::new(Duration::ZERO));
    let onboarded = Onboarding::new(admin.clone(), move |credential| for_connect.client(credential))
        .display_name("graphbox full_flow provisioning")
        .application_permissions([
            GraphPermission::UserReadWriteAll,
            GraphPermission::DirectoryReadWriteAll,
            GraphPermission::OrganizationReadWriteAll,
        ])
        .delegated_permissions([GraphPermission::UserRead, GraphPermission::DirectoryAccessAsUserAll])
        .secret_lifetime(Duration::from_secs(90 * 86_400))
        .waiter(target.waiter())
        .on_event(move |event| match event {
            OnboardingEvent::Started(_) => {}
            // DirSync's pending window is polled dozens of times: show the first wait and then
            // one line per virtual day.
            // Replication waits (only under --realism) are few: each is shown.
            OnboardingEvent::Waiting { step, .. } if *step != graphbox::sdk::onboarding::Step::DirSync => {
                println!("   {event}")
            }
            OnboardingEvent::Waiting { delay, .. } => {
                let mut total = waited.lock().unwrap_or_else(|p| p.into_inner());
                let before = total.as_secs() / 86_400;
                *total += *delay;
                if before != total.as_secs() / 86_400 || *total == *delay {
                    println!("   {event} (waited {} h of virtual time so far)", total.as_secs() / 3600);
                }
            }
            _ => println!("   {event}"),
        })
        .run()
        .await
        .context("onboarding")?;
    println!(
        "   tenant id {}, client id {}, secret {}…",
        onboarded.tenant_id,
        onboarded.client_id,
        &onboarded.client_secret[..3]
    );

    step(4, "provisioning: plan (dry run) with the guide's script");
    let graph = target.client(ClientSecretCredential::new(&onboarded.client_id, &onboarded.client_secret).into())?;
    let csv = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/source.csv"))?;
    let source = parse_csv(&csv.replace("{domain}", &target.info.tenant_domain))?;
    let script_text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/provisioning.js"))?;
    let script = Script::new(script_text).map_err(|e| anyhow::anyhow!("{e}"))?;
    let provisioner = Provisioner::new(graph.clone()).script(script).concurrency(8);
    let plan = provisioner.plan(&source).await?;
    println!("{plan}");

    step(5, "provisioning: apply");
    let report = provisioner.apply(&plan).await;
    println!("{report}");
    if report.refused > 0 {
        bail!("{} user(s) refused", report.refused);
    }

    step(6, "provisioning again: nothing left to do");
    if let Some(view) = &realism {
        // Lists lag behind writes until they replicate: a check made at once would plan the
        // new users again. Wait out the longest window first, as a careful client would.
        let longest = view.get("replicationMaxSeconds").and_then(|v| v.as_f64()).unwrap_or(10.0);
        println!("   waiting {longest} s (virtual) for the new users to replicate before listing them");
        target.waiter().sleep(Duration::from_secs_f64(longest.ceil())).await;
    }
    let again = provisioner.plan(&source).await?;
    let counts = again.counts();
    println!("   {} unchanged, {} to create, {} to update", counts.unchanged, counts.create, counts.update);
    if counts.create + counts.update + counts.refused > 0 {
        bail!("a second run should change nothing:\n{again}");
    }

    if realism.is_some() {
        report_realism(&target, &[("admin client", &admin), ("provisioning client", &graph)]).await?;
    }
    println!(
        "\nsummary: onboarded client {} in tenant {}; provisioned {} created, {} updated, {} unchanged; {} script evaluations",
        onboarded.client_id, onboarded.tenant_id, report.created, report.updated, report.unchanged, plan.script_evaluations
    );
    Ok(())
}
