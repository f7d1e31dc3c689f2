//! Token acquisition: caching, refresh, single flight, 401 recovery, credential wire formats.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use graphbox_sdk::auth::{ClientCertificateCredential, UsernamePasswordCredential};
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, Request, Respond, ResponseTemplate};

use crate::support::{fixture, Harness, TENANT};

fn users_ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(serde_json::json!({"value": []}))
}

/// Hands out `token-1`, `token-2`, … so tests can tell fetches apart.
struct NumberedTokens(Arc<AtomicUsize>);

impl Respond for NumberedTokens {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": format!("token-{n}")
        }))
    }
}

async fn mount_numbered_tokens(h: &Harness) -> Arc<AtomicUsize> {
    let count = Arc::new(AtomicUsize::new(0));
    Mock::given(method("POST"))
        .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
        .respond_with(NumberedTokens(count.clone()))
        .mount(&h.server)
        .await;
    count
}

#[tokio::test]
async fn a_hundred_concurrent_calls_fetch_exactly_one_token() {
    let h = Harness::new().await;
    h.mount_token("shared-token", 3599, 1).await;
    Mock::given(method("GET"))
        .and(path("/v1.0/users"))
        .and(header("Authorization", "Bearer shared-token"))
        .respond_with(users_ok())
        .expect(100)
        .mount(&h.server)
        .await;
    let graph = h.secret_client();

    let calls = (0..100).map(|_| {
        let graph = graph.clone();
        tokio::spawn(async move { graph.users().list().send().await })
    });
    for call in futures::future::join_all(calls).await {
        call.expect("task").expect("call");
    }
}

#[tokio::test]
async fn client_secret_is_sent_as_client_credentials_form() {
    let h = Harness::new().await;
    Mock::given(method("POST"))
        .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
        .and(body_string_contains("grant_type=client_credentials"))
        .and(body_string_contains("client_id=client-id"))
        .and(body_string_contains("client_secret=s3cret"))
        .and(body_string_contains("scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"access_token": "t", "expires_in": "3599"})),
        )
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(method("GET")).and(path("/v1.0/users")).respond_with(users_ok()).mount(&h.server).await;

    h.secret_client().users().list().send().await.expect("ok");
}

#[tokio::test]
async fn tokens_are_reused_until_five_minutes_before_expiry() {
    let h = Harness::new().await;
    let fetched = mount_numbered_tokens(&h).await;
    Mock::given(method("GET")).and(path("/v1.0/users")).respond_with(users_ok()).mount(&h.server).await;
    let graph = h.secret_client();

    graph.users().list().send().await.expect("first");
    h.clock.advance(Duration::from_secs(3599 - 301));
    graph.users().list().send().await.expect("still cached");
    assert_eq!(fetched.load(Ordering::SeqCst), 1);

    h.clock.advance(Duration::from_secs(2));
    graph.users().list().send().await.expect("refreshed");
    assert_eq!(fetched.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn an_expired_token_401_refreshes_the_token_and_retries_once() {
    let h = Harness::new().await;
    let fetched = mount_numbered_tokens(&h).await;
    Mock::given(method("GET"))
        .and(path("/v1.0/users"))
        .and(header("Authorization", "Bearer token-1"))
        .respond_with(ResponseTemplate::new(401).set_body_json(fixture("error_token_expired.json")))
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.0/users"))
        .and(header("Authorization", "Bearer token-2"))
        .respond_with(users_ok())
        .expect(1)
        .mount(&h.server)
        .await;

    h.secret_client().users().list().send().await.expect("retried with a fresh token");

    assert_eq!(fetched.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_second_401_is_returned_as_unauthorized() {
    let h = Harness::new().await;
    mount_numbered_tokens(&h).await;
    Mock::given(method("GET"))
        .and(path("/v1.0/users"))
        .respond_with(ResponseTemplate::new(401).set_body_json(fixture("error_token_expired.json")))
        .expect(2)
        .mount(&h.server)
        .await;

    let err = h.secret_client().users().list().send().await.expect_err("still 401");

    let graph = err.as_graph_error().expect("api error");
    assert!(graph.is_unauthorized());
    assert_eq!(graph.code, "InvalidAuthenticationToken");
}

#[tokio::test]
async fn token_endpoint_refusal_is_an_auth_error_with_aadsts_details() {
    let h = Harness::new().await;
    Mock::given(method("POST"))
        .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
        .respond_with(ResponseTemplate::new(401).set_body_json(fixture("token_error_invalid_client.json")))
        .mount(&h.server)
        .await;

    let err = h.secret_client().users().list().send().await.expect_err("refused");

    assert_eq!(err.to_string(), "token acquisition failed");
    let auth = err.as_auth_error().expect("auth");
    assert_eq!(auth.error(), Some("invalid_client"));
    assert_eq!(auth.aadsts(), Some(7000215));
    assert_eq!(auth.correlation_id(), Some("4f2d8a61-3b7c-49e0-a5d6-1c8e7b2f9a43"));
    assert!(auth.description().is_some_and(|d| d.starts_with("AADSTS7000215: Invalid client secret")));
    assert_eq!(
        auth.to_string(),
        format!("POST /{TENANT}/oauth2/v2.0/token answered 401 invalid_client (AADSTS7000215)")
    );
}

#[tokio::test]
async fn certificate_credential_sends_an_rs256_assertion_with_x5t() {
    let h = Harness::new().await;
    h.mount_token("cert-token", 3599, 1).await;
    Mock::given(method("GET")).and(path("/v1.0/users")).respond_with(users_ok()).mount(&h.server).await;
    // A throwaway key and self-signed certificate made for these tests only.
    let cert = include_bytes!("../fixtures/test_cert.pem");
    let key = include_bytes!("../fixtures/test_key.pem");
    let credential = ClientCertificateCredential::from_pem("client-id", cert, key).expect("credential");
    assert_eq!(credential.thumbprint(), "x71or2_5L0M3DsmWH1EoSBHdipU");
    let graph = h.builder().credential(credential).build().expect("client");

    graph.users().list().send().await.expect("ok");

    let requests = h.server.received_requests().await.expect("recorded");
    let form = String::from_utf8(requests[0].body.clone()).expect("utf8");
    let fields: std::collections::HashMap<String, String> = form
        .split('&')
        .map(|kv| kv.split_once('=').expect("pair"))
        .map(|(k, v)| (k.to_owned(), urldecode(v)))
        .collect();
    assert_eq!(fields["client_assertion_type"], "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    let parts: Vec<&str> = fields["client_assertion"].split('.').collect();
    assert_eq!(parts.len(), 3);
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).expect("b64")).expect("json");
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("json");
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["x5t"], "x71or2_5L0M3DsmWH1EoSBHdipU");
    assert_eq!(claims["aud"], format!("{}/{TENANT}/oauth2/v2.0/token", h.server.uri()));
    assert_eq!(claims["iss"], "client-id");
    assert_eq!(claims["sub"], "client-id");
    assert_eq!(claims["exp"].as_u64().expect("exp") - claims["nbf"].as_u64().expect("nbf"), 600);
    assert!(uuid::Uuid::parse_str(claims["jti"].as_str().expect("jti")).is_ok());
}

#[tokio::test]
async fn username_password_credential_uses_the_password_grant() {
    let h = Harness::new().await;
    Mock::given(method("POST"))
        .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
        .and(body_string_contains("grant_type=password"))
        .and(body_string_contains("username=admin%40contoso.onmicrosoft.com"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"access_token": "t", "expires_in": 3599})),
        )
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(method("GET")).and(path("/v1.0/users")).respond_with(users_ok()).mount(&h.server).await;
    let credential = UsernamePasswordCredential::new("client-id", "admin@contoso.onmicrosoft.com", "pw");

    h.builder().credential(credential).build().expect("client").users().list().send().await.expect("ok");
}

fn urldecode(s: &str) -> String {
    let s = s.replace('+', " ");
    percent_encoding::percent_decode_str(&s).decode_utf8_lossy().into_owned()
}
