//! Each error kind, and what a reporter can print from it.

use graphbox_sdk::Error;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::{fixture, Harness};

fn chain(err: &dyn std::error::Error) -> Vec<String> {
    let mut out = vec![err.to_string()];
    let mut next = err.source();
    while let Some(e) = next {
        out.push(e.to_string());
        next = e.source();
    }
    out
}

#[tokio::test]
async fn not_found_is_an_api_error_with_the_envelope_and_the_request() {
    let h = Harness::new().await;
    Mock::given(method("GET"))
        .and(path("/v1.0/users/9f0d3c1e-aaaa-bbbb-cccc-123456789abc"))
        .respond_with(ResponseTemplate::new(404).set_body_json(fixture("error_not_found.json")))
        .mount(&h.server)
        .await;

    let err = h.client().users().get("9f0d3c1e-aaaa-bbbb-cccc-123456789abc").send().await.expect_err("404");

    assert!(err.is_not_found());
    let graph = err.as_graph_error().expect("api");
    assert_eq!(graph.code, "Request_ResourceNotFound");
    assert_eq!(graph.inner_error.request_id.as_deref(), Some("c1a7e3d4-52f8-4b09-9a6e-0d2c8b7f1e55"));
    assert_eq!(graph.inner_error.date.as_deref(), Some("2026-03-02T10:21:07"));
    let lines = chain(&err);
    // One line carries it all, so `error!(%e)` loses nothing.
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0]
        .starts_with("GET /v1.0/users/9f0d3c1e-aaaa-bbbb-cccc-123456789abc: 404 Request_ResourceNotFound: Resource"));
    assert!(lines[0].ends_with("(request-id c1a7e3d4-52f8-4b09-9a6e-0d2c8b7f1e55)"), "{}", lines[0]);
    assert!(matches!(err.code(), Some(graphbox_sdk::ErrorCode::RequestResourceNotFound)));
    assert!(!lines.join(" ").contains("static-token"), "never prints the token");
}

#[tokio::test]
async fn duplicate_upn_keeps_the_details() {
    let h = Harness::new().await;
    Mock::given(method("POST"))
        .and(path("/v1.0/users"))
        .respond_with(ResponseTemplate::new(400).set_body_json(fixture("error_duplicate_upn.json")))
        .mount(&h.server)
        .await;

    let err = h.client().users().create(Default::default()).send().await.expect_err("400");

    let graph = err.as_graph_error().expect("api");
    assert_eq!(graph.details[0].code, "ObjectConflict");
    assert_eq!(graph.details[0].target.as_deref(), Some("userPrincipalName"));
}

#[tokio::test]
async fn forbidden_is_recognised_and_keeps_the_response_request_id_header() {
    let h = Harness::new().await;
    let body = serde_json::json!({"error": {"code": "Authorization_RequestDenied", "message": "Insufficient privileges to complete the operation."}});
    Mock::given(method("GET"))
        .and(path("/v1.0/users"))
        .respond_with(ResponseTemplate::new(403).insert_header("request-id", "hdr-request-id").set_body_json(body))
        .mount(&h.server)
        .await;

    let err = h.client().users().list().send().await.expect_err("403");

    let graph = err.as_graph_error().expect("api");
    assert!(graph.is_forbidden());
    assert_eq!(graph.inner_error.request_id.as_deref(), Some("hdr-request-id"));
    assert!(graph.inner_error.client_request_id.is_some(), "the id this client sent");
}

#[tokio::test]
async fn a_non_json_error_body_still_becomes_an_api_error() {
    let h = Harness::new().await;
    Mock::given(method("GET"))
        .and(path("/v1.0/users"))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>Bad Gateway</html>"))
        .mount(&h.server)
        .await;

    let err = h.client().users().list().send().await.expect_err("502");

    let graph = err.as_graph_error().expect("api");
    assert_eq!(graph.status, 502);
    assert_eq!(graph.code, "");
    assert_eq!(graph.message, "<html>Bad Gateway</html>");
}

#[tokio::test]
async fn a_malformed_body_is_a_decode_error_with_the_json_path() {
    let h = Harness::new().await;
    Mock::given(method("GET"))
        .and(path("/v1.0/users"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("users_malformed.json")))
        .mount(&h.server)
        .await;

    let err = h.client().users().list().send().await.expect_err("bad body");

    let Error::Decode(decode) = &err else { panic!("expected decode error, got {err:?}") };
    assert_eq!(decode.json_path(), "value[1].accountEnabled");
    assert_eq!(err.to_string(), "response did not match model");
    assert!(chain(&err)[1].starts_with("GET /v1.0/users: at `value[1].accountEnabled`: invalid type"));
}

#[tokio::test]
async fn an_unreachable_graph_is_a_transport_error() {
    let h = Harness::new().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let client = h
        .builder()
        .graph_url(format!("http://127.0.0.1:{port}/v1.0"))
        .retry_policy(graphbox_sdk::RetryPolicy::none())
        .credential(graphbox_sdk::auth::StaticTokenCredential::new(graphbox_sdk::auth::AccessToken::new(
            "t",
            std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(u32::MAX.into()),
        )))
        .build()
        .expect("client");

    let err = client.users().list().send().await.expect_err("refused");

    let Error::Transport(t) = &err else { panic!("expected transport error, got {err:?}") };
    assert!(t.is_connect());
    assert_eq!(t.to_string(), "GET /v1.0/users could not connect");
    assert_eq!(err.to_string(), "request may have been sent");
}

#[tokio::test]
async fn a_next_link_on_another_host_is_refused_before_sending_the_token() {
    let h = Harness::new().await;

    let err = h
        .client()
        .get_page::<serde_json::Value>("https://evil.example/v1.0/users?$skiptoken=x")
        .await
        .expect_err("refused");

    assert!(matches!(err, Error::Build(_)));
    assert_eq!(err.to_string(), "request could not be built");
}

#[tokio::test]
async fn a_builder_without_tenant_for_a_secret_credential_is_a_build_error() {
    let err = graphbox_sdk::GraphClient::builder()
        .credential(graphbox_sdk::auth::ClientSecretCredential::new("id", "secret"))
        .build()
        .expect_err("no tenant");
    assert!(matches!(err, Error::Build(_)));
    assert!(chain(&err)[1].contains("tenant"));
}
