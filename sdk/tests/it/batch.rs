//! JSON `$batch`.

use graphbox_sdk::batch::BatchItem;
use graphbox_sdk::models::User;
use graphbox_sdk::Error;
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::{fixture, Harness};

#[tokio::test]
async fn batch_sends_the_requests_and_answers_are_extracted_by_id() {
    let h = Harness::new().await;
    Mock::given(method("POST"))
        .and(path("/v1.0/$batch"))
        .and(body_partial_json(serde_json::json!({"requests": [
            {"id": "a", "method": "POST", "url": "/users", "headers": {"Content-Type": "application/json"}},
            {"id": "b", "method": "GET", "url": "/users?$filter=startswith(displayName,'Batch')&$select=id"},
            {"id": "c", "method": "PATCH", "dependsOn": ["a"]},
            {"id": "d", "method": "DELETE"}
        ]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture("batch_response.json")))
        .expect(1)
        .mount(&h.server)
        .await;
    let new = User::new("Batch User", "batchuser", "batchuser@fabrikamlab.onmicrosoft.com", "Qw!9r-Tz7m#Lp2");
    let patch = User { usage_location: Some("SE".into()), ..Default::default() };

    let answers = h
        .client()
        .batch()
        .request(BatchItem::post("a", "/users", &new).expect("body"))
        .request(BatchItem::get("b", "/users?$filter=startswith(displayName,'Batch')&$select=id"))
        .request(
            BatchItem::patch("c", "/users/batchuser@fabrikamlab.onmicrosoft.com", &patch)
                .expect("body")
                .depends_on(["a"]),
        )
        .request(BatchItem::delete("d", "/users/someone"))
        .send()
        .await
        .expect("batch");

    let created: User = answers.get("a").expect("a").json().expect("user");
    assert_eq!(created.display_name.as_deref(), Some("Batch User"));
    let page: graphbox_sdk::paging::Page<User> = answers.get("b").expect("b").json().expect("page");
    assert_eq!(page.value.len(), 1);
    answers.get("c").expect("c").json::<()>().expect("204");
    let throttled = answers.get("d").expect("d").json::<()>().expect_err("429");
    assert!(throttled.as_graph_error().is_some_and(|e| e.is_throttled() && e.code == "TooManyRequests"));
    assert_eq!(answers.get("d").and_then(|d| d.header("retry-after")), Some("3"));
}

#[tokio::test]
async fn a_batch_of_more_than_twenty_is_refused_before_sending() {
    let h = Harness::new().await;
    let mut batch = h.client().batch();
    for i in 0..21 {
        batch = batch.request(BatchItem::get(i.to_string(), "/users"));
    }

    let err = batch.send().await.expect_err("too many");

    assert!(matches!(err, Error::Build(_)));
    assert!(h.server.received_requests().await.expect("recorded").is_empty());
}

#[tokio::test]
async fn duplicate_ids_and_unknown_dependencies_are_build_errors() {
    let h = Harness::new().await;
    let dup =
        h.client().batch().request(BatchItem::get("a", "/users")).request(BatchItem::get("a", "/groups")).send().await;
    let unknown = h.client().batch().request(BatchItem::get("a", "/users").depends_on(["z"])).send().await;
    assert!(matches!(dup, Err(Error::Build(_))));
    assert!(matches!(unknown, Err(Error::Build(_))));
}
