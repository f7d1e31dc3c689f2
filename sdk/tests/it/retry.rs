//! Retries: throttling, back-off, the attempt cap, non-idempotent requests.

use std::time::Duration;

use graphbox_sdk::{Error, RetryPolicy};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::{fixture, FixedRandom, Harness};

fn users_ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(serde_json::json!({"value": []}))
}

#[tokio::test]
async fn throttled_request_waits_for_retry_after_then_succeeds() {
    let h = Harness::new().await;
    Mock::given(method("GET"))
        .and(path("/v1.0/users"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "2.5")
                .set_body_json(fixture("error_throttled.json")),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(method("GET")).and(path("/v1.0/users")).respond_with(users_ok()).expect(1).mount(&h.server).await;

    h.client().users().list().send().await.expect("second attempt succeeds");

    assert_eq!(h.sleeper.recorded(), [Duration::from_millis(2500)]);
}

#[tokio::test]
async fn throttling_gives_up_after_the_retry_cap_with_the_graph_error() {
    let h = Harness::new().await;
    Mock::given(method("GET"))
        .and(path("/v1.0/users"))
        .respond_with(
            ResponseTemplate::new(429).insert_header("Retry-After", "1").set_body_json(fixture("error_throttled.json")),
        )
        .expect(4)
        .mount(&h.server)
        .await;

    let err = h.client().users().list().send().await.expect_err("still throttled");

    assert_eq!(h.sleeper.recorded(), [Duration::from_secs(1); 3]);
    let graph = err.as_graph_error().expect("api error");
    assert!(graph.is_throttled());
    assert_eq!(graph.code, "TooManyRequests");
    assert_eq!(graph.retry_after(), Some(Duration::from_secs(1)));
}

#[tokio::test]
async fn retry_stops_when_the_time_budget_would_be_exceeded() {
    let h = Harness::new().await;
    Mock::given(method("GET"))
        .and(path("/v1.0/users"))
        .respond_with(ResponseTemplate::new(503).insert_header("Retry-After", "40"))
        .expect(2)
        .mount(&h.server)
        .await;
    let graph = h.builder().retry_policy(RetryPolicy::default().max_elapsed(Duration::from_secs(60)).max_retries(5));
    let client = graph.credential(static_token(&h)).build().expect("client");

    let err = client.users().list().send().await.expect_err("budget exhausted");

    assert_eq!(h.sleeper.recorded(), [Duration::from_secs(40)]);
    assert_eq!(err.as_graph_error().map(|e| e.status), Some(503));
}

fn static_token(h: &Harness) -> graphbox_sdk::auth::StaticTokenCredential {
    use graphbox_sdk::Clock;
    graphbox_sdk::auth::StaticTokenCredential::new(graphbox_sdk::auth::AccessToken::new(
        "t",
        h.clock.now() + Duration::from_secs(3600),
    ))
}

#[tokio::test]
async fn service_unavailable_backs_off_exponentially_without_retry_after() {
    let h = Harness::new().await;
    Mock::given(method("GET"))
        .and(path("/v1.0/users"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&h.server)
        .await;
    Mock::given(method("GET")).and(path("/v1.0/users")).respond_with(users_ok()).mount(&h.server).await;

    h.client().users().list().send().await.expect("third attempt succeeds");

    assert_eq!(h.sleeper.recorded(), [Duration::from_secs(1), Duration::from_secs(2)]);
}

#[tokio::test]
async fn jitter_comes_from_the_injected_random_source() {
    let h = Harness::new().await;
    Mock::given(method("GET"))
        .and(path("/v1.0/users"))
        .respond_with(ResponseTemplate::new(504))
        .expect(3)
        .mount(&h.server)
        .await;
    let client = h
        .builder()
        .retry_policy(RetryPolicy::default().max_retries(2))
        .random(FixedRandom(0))
        .credential(static_token(&h))
        .build()
        .expect("client");

    client.users().list().send().await.expect_err("always 504");

    // A zero sample picks the low end of each jitter window: half the exponential delay.
    assert_eq!(h.sleeper.recorded(), [Duration::from_millis(500), Duration::from_secs(1)]);
}

#[tokio::test]
async fn a_throttled_post_is_retried_because_graph_did_not_apply_it() {
    let h = Harness::new().await;
    Mock::given(method("POST"))
        .and(path("/v1.0/users"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&h.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1.0/users"))
        .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({"id": "u1", "displayName": "A"})))
        .expect(1)
        .mount(&h.server)
        .await;

    let user = h
        .client()
        .users()
        .create(graphbox_sdk::models::User::new("A", "a", "a@x.test", "pw"))
        .send()
        .await
        .expect("created");

    assert_eq!(user.id.map(|i| i.into_string()), Some("u1".into()));
}

#[tokio::test]
async fn a_post_that_timed_out_is_not_retried() {
    let h = Harness::new().await;
    Mock::given(method("POST"))
        .and(path("/v1.0/users"))
        .respond_with(ResponseTemplate::new(201).set_delay(Duration::from_secs(2)))
        .expect(1)
        .mount(&h.server)
        .await;
    let client = h.builder().timeout(Duration::from_millis(200)).credential(static_token(&h)).build().expect("client");

    let err = client.users().create(Default::default()).send().await.expect_err("timeout");

    let Error::Transport(transport) = &err else { panic!("expected transport error, got {err:?}") };
    assert!(transport.is_timeout());
    assert_eq!(transport.to_string(), "POST /v1.0/users timed out");
    assert!(h.sleeper.recorded().is_empty());
}

#[tokio::test]
async fn a_get_that_timed_out_is_retried() {
    let h = Harness::new().await;
    Mock::given(method("GET"))
        .and(path("/v1.0/users"))
        .respond_with(users_ok().set_delay(Duration::from_secs(2)))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&h.server)
        .await;
    Mock::given(method("GET")).and(path("/v1.0/users")).respond_with(users_ok()).expect(1).mount(&h.server).await;
    let client = h.builder().timeout(Duration::from_millis(200)).credential(static_token(&h)).build().expect("client");

    client.users().list().send().await.expect("retried");

    assert_eq!(h.sleeper.recorded().len(), 1);
}

#[tokio::test]
async fn every_call_sends_one_client_request_id_kept_across_retries() {
    let h = Harness::new().await;
    Mock::given(method("GET"))
        .and(path("/v1.0/users"))
        .respond_with(ResponseTemplate::new(503).insert_header("Retry-After", "0"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&h.server)
        .await;
    Mock::given(method("GET")).and(path("/v1.0/users")).respond_with(users_ok()).mount(&h.server).await;

    h.client().users().list().send().await.expect("ok");

    let requests = h.server.received_requests().await.expect("recorded");
    let ids: Vec<String> = requests
        .iter()
        .map(|r| r.headers.get("client-request-id").expect("header").to_str().expect("ascii").to_owned())
        .collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], ids[1]);
    let id = uuid::Uuid::parse_str(&ids[0]).expect("a UUID");
    assert_eq!(id.get_version_num(), 4);
}
