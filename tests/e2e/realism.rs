//! The SDK against a tenant that behaves like Entra (README: Realism): onboarding's replication
//! retries and `Retry-After` handling really fire, provisioning completes, and a run that paces
//! itself to the throttling headers gets no 429 it could have avoided. Fixed seeds; waits run on
//! the tenant's virtual clock.

use std::sync::Arc;

use graphbox::mock::{Graphbox, RealismConfig, RealismProfile};
use graphbox::sdk::auth::{ClientSecretCredential, Credential};
use graphbox::sdk::onboarding::{Onboarding, OnboardingEvent};
use graphbox::sdk::permissions::GraphPermission;
use graphbox::sdk::provisioning::{Attribute, ProgressMode, Provisioner, SourceUser};
use graphbox::sdk::{GraphClient, RetryPolicy};
use graphbox::virtual_time::VirtualTime;
use serde_json::{json, Map, Value};

use crate::support::{events, recorded, Events};

struct Realistic {
    mock: Arc<Graphbox>,
    time: VirtualTime,
}

/// A mock whose default tenant runs `profile` with `seed` and `overrides`.
async fn realistic(profile: RealismProfile, seed: u64, overrides: Value) -> Realistic {
    let mut config = RealismConfig::new(profile, seed);
    config.overrides = overrides.as_object().cloned().unwrap_or_else(Map::new);
    let mock = Graphbox::builder().plain_http().seed(seed).realism(config).start().await.expect("mock starts");
    let mock = Arc::new(mock);
    Realistic { time: VirtualTime::new(mock.clone()), mock }
}

impl Realistic {
    fn client(&self, credential: Credential) -> Result<GraphClient, graphbox::sdk::Error> {
        GraphClient::builder()
            .authority_host(self.mock.authority())
            .graph_url(self.mock.graph_url())
            .tenant(self.mock.tenant_id())
            .credential(credential)
            .clock(self.time.clone())
            .sleeper(self.time.clone())
            // Random 503/504s may come in a row under `adversarial`.
            .retry_policy(RetryPolicy::default().max_retries(8))
            .build()
    }

    fn admin(&self) -> GraphClient {
        let m = &self.mock;
        self.client(ClientSecretCredential::new(m.client_id(), m.client_secret()).into()).expect("client builds")
    }

    fn onboarding(&self, log: Events) -> Onboarding {
        let (mock, time) = (self.mock.clone(), self.time.clone());
        let connect = move |c: Credential| {
            GraphClient::builder()
                .authority_host(mock.authority())
                .graph_url(mock.graph_url())
                .tenant(mock.tenant_id())
                .credential(c)
                .clock(time.clone())
                .sleeper(time.clone())
                .retry_policy(RetryPolicy::default().max_retries(8))
                .build()
        };
        Onboarding::new(self.admin(), connect)
            .display_name("realism e2e")
            .application_permissions([GraphPermission::UserReadWriteAll, GraphPermission::DirectoryReadWriteAll])
            .delegated_permissions([GraphPermission::UserRead])
            .waiter(self.time.clone())
            .on_event(move |e| log.lock().expect("events lock").push(e.clone()))
    }

    /// The mock's report for `client_id`.
    fn report_for(&self, client_id: &str) -> Value {
        let report = self.mock.realism_report();
        report["clients"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["clientId"] == client_id).cloned())
            .unwrap_or(Value::Null)
    }
}

fn users(domain: &str, n: usize) -> Vec<SourceUser> {
    (0..n)
        .map(|i| {
            SourceUser::new(&format!("person{i:04}@{domain}"))
                .with(Attribute::DisplayName, &format!("Person {i:04}"))
                .with(Attribute::UsageLocation, "SE")
        })
        .collect()
}

fn waited_for_replication(log: &Events) -> usize {
    recorded(log).iter().filter(|e| matches!(e, OnboardingEvent::Waiting { .. })).count()
}

#[tokio::test]
async fn onboarding_and_provisioning_complete_against_entra_and_replication_retries_fire() {
    // Reads by id of a fresh object always miss: the SDK's replication retries must carry it.
    let r = realistic(RealismProfile::Entra, 7, json!({"notFoundProbability": 1.0})).await;
    let log = events();
    let done = r.onboarding(log.clone()).run().await.expect("onboarding completes under entra");
    assert!(waited_for_replication(&log) > 0, "replication delay was met and waited out: {:#?}", recorded(&log));

    let graph = r
        .client(ClientSecretCredential::new(done.client_id.as_str(), done.client_secret.clone()).into())
        .expect("client");
    let p = Provisioner::new(graph.clone()).progress(ProgressMode::Never).concurrency(8);
    let source = users(r.mock.tenant_domain(), 60);
    let report = p.apply(&p.plan(&source).await.expect("plan")).await;
    assert_eq!((report.created, report.refused), (60, 0), "{report}");
    let mine = r.report_for(done.client_id.as_str());
    assert_eq!(mine["earlyRetries"], 0, "the SDK never came back before Retry-After: {mine}");
}

#[tokio::test]
async fn onboarding_and_provisioning_complete_against_adversarial() {
    // Latency down to keep the test short; every other magnitude is the profile's.
    let r = realistic(RealismProfile::Adversarial, 11, json!({"latencyP50Ms": 2, "latencyP99Ms": 20})).await;
    let log = events();
    let done = r.onboarding(log.clone()).run().await.expect("onboarding completes under adversarial");
    assert!(waited_for_replication(&log) > 0, "{:#?}", recorded(&log));
    let graph = r
        .client(ClientSecretCredential::new(done.client_id.as_str(), done.client_secret.clone()).into())
        .expect("client");
    let p = Provisioner::new(graph.clone()).progress(ProgressMode::Never).concurrency(8);
    let source = users(r.mock.tenant_domain(), 40);
    let report = p.apply(&p.plan(&source).await.expect("plan")).await;
    assert_eq!((report.created, report.refused), (40, 0), "{report}");
    // Short pages, empty pages with a next link and changing skip tokens: the plan still sees
    // every user once, so nothing is created twice.
    r.mock.advance_clock(std::time::Duration::from_secs(60)).expect("clock moves");
    let again = p.plan(&source).await.expect("second plan");
    assert_eq!(again.counts().unchanged, 40, "{again}");
    let mine = r.report_for(done.client_id.as_str());
    assert_eq!(mine["earlyRetries"], 0, "{mine}");
}

#[tokio::test]
async fn a_paced_provisioning_run_meets_no_429_under_a_tight_write_quota() {
    // 100 writes per 150 s: 300 users cannot go through without slowing down.
    let r = realistic(
        RealismProfile::Entra,
        3,
        json!({"writeQuotaPer150s": 100, "latencyP50Ms": 0, "latencyP99Ms": 0, "randomFaults": {}}),
    )
    .await;
    let admin = r.admin();
    let p = Provisioner::new(admin.clone()).progress(ProgressMode::Never).concurrency(8);
    let source = users(r.mock.tenant_domain(), 300);
    let started = r.mock.now();
    let report = p.apply(&p.plan(&source).await.expect("plan")).await;
    assert_eq!(report.created, 300, "{report}");
    let waits = admin.waits();
    assert_eq!(waits.throttled, 0, "no 429 reached the client: {waits}");
    assert!(waits.paced > 0, "it slowed down near the limit: {waits}");
    let mine = r.report_for(&r.mock.client_id().to_string());
    assert_eq!((mine["throttled"].as_u64(), mine["earlyRetries"].as_u64()), (Some(0), Some(0)), "{mine}");
    let took = (r.mock.now() - started).whole_seconds();
    assert!(took >= 290, "≥ 200 writes past the first 100 at 2 every 3 s: {took}s");
}
