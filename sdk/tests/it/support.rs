//! Test helpers: a manual clock, a sleeper that records instead of waiting, fixtures.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use graphbox_sdk::auth::{AccessToken, ClientSecretCredential, StaticTokenCredential};
use graphbox_sdk::{Clock, GraphClient, GraphClientBuilder, RandomSource, RetryPolicy, SleepFuture, Sleeper};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub(crate) const TENANT: &str = "5a1f0c3e-8d27-4b6a-9e41-0c7d2b9f6a18";

/// A clock tests move by hand; the recording sleeper advances it.
#[derive(Debug, Clone)]
pub(crate) struct ManualClock(Arc<Mutex<SystemTime>>);

impl ManualClock {
    pub(crate) fn new() -> Self {
        Self(Arc::new(Mutex::new(UNIX_EPOCH + Duration::from_secs(1_772_445_344))))
    }

    pub(crate) fn advance(&self, d: Duration) {
        *self.0.lock().unwrap() += d;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

/// Records every requested sleep and advances the clock instead of waiting.
#[derive(Debug, Clone)]
pub(crate) struct RecordingSleeper {
    pub(crate) sleeps: Arc<Mutex<Vec<Duration>>>,
    clock: ManualClock,
}

impl RecordingSleeper {
    pub(crate) fn new(clock: &ManualClock) -> Self {
        Self { sleeps: Arc::default(), clock: clock.clone() }
    }

    pub(crate) fn recorded(&self) -> Vec<Duration> {
        self.sleeps.lock().unwrap().clone()
    }
}

impl Sleeper for RecordingSleeper {
    fn sleep(&self, d: Duration) -> SleepFuture {
        self.sleeps.lock().unwrap().push(d);
        self.clock.advance(d);
        Box::pin(async {})
    }
}

/// Always the same bytes: jitter picks a fixed point, request ids repeat.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FixedRandom(pub(crate) u8);

impl RandomSource for FixedRandom {
    fn fill(&self, buf: &mut [u8]) {
        buf.fill(self.0);
    }
}

pub(crate) struct Harness {
    pub(crate) server: MockServer,
    pub(crate) clock: ManualClock,
    pub(crate) sleeper: RecordingSleeper,
}

impl Harness {
    pub(crate) async fn new() -> Self {
        let server = MockServer::start().await;
        let clock = ManualClock::new();
        let sleeper = RecordingSleeper::new(&clock);
        Self { server, clock, sleeper }
    }

    pub(crate) fn builder(&self) -> GraphClientBuilder {
        GraphClient::builder()
            .authority_host(self.server.uri())
            .graph_url(format!("{}/v1.0", self.server.uri()))
            .tenant(TENANT)
            .clock(self.clock.clone())
            .sleeper(self.sleeper.clone())
            .random(FixedRandom(0))
            .retry_policy(RetryPolicy::default().jitter(false))
    }

    /// A client with a fixed token (no token endpoint involved).
    pub(crate) fn client(&self) -> GraphClient {
        let token = AccessToken::new("static-token", self.clock.now() + Duration::from_secs(3600));
        self.builder().credential(StaticTokenCredential::new(token)).build().expect("client")
    }

    /// A client that gets tokens from the wiremock token endpoint with a client secret.
    pub(crate) fn secret_client(&self) -> GraphClient {
        self.builder().credential(ClientSecretCredential::new("client-id", "s3cret")).build().expect("client")
    }

    pub(crate) async fn mount_token(&self, token: &str, expires_in: u64, expect: u64) {
        Mock::given(method("POST"))
            .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "token_type": "Bearer", "expires_in": expires_in, "ext_expires_in": expires_in, "access_token": token
            })))
            .expect(expect)
            .mount(&self.server)
            .await;
    }
}

pub(crate) fn fixture(name: &str) -> serde_json::Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A fixture with `{base}` replaced by the wiremock server's URL.
pub(crate) fn fixture_at(name: &str, base: &str) -> serde_json::Value {
    let text = fixture(name).to_string().replace("{base}", base);
    serde_json::from_str(&text).expect("fixture")
}
