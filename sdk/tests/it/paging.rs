//! Paging over `@odata.nextLink`, and delta.

use futures::TryStreamExt;
use graphbox_sdk::delta::DeltaItem;
use graphbox_sdk::models::User;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use crate::support::{fixture_at, Harness};

#[tokio::test]
async fn list_follows_next_link_across_an_empty_page_and_resends_consistency_level() {
    let h = Harness::new().await;
    let base = h.server.uri();
    Mock::given(method("GET"))
        .and(path("/v1.0/users"))
        .and(query_param("$skiptoken", "RFNwdAIAAQAAAC87"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture_at("users_page3.json", &base)))
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.0/users"))
        .and(query_param("$skiptoken", "RFNwdAIAAQAAAC86"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture_at("users_page2_empty.json", &base)))
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.0/users"))
        .and(query_param("$count", "true"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture_at("users_page1.json", &base)))
        .with_priority(10)
        .expect(1)
        .mount(&h.server)
        .await;

    let users: Vec<User> = h
        .client()
        .users()
        .list()
        .select(["id", "displayName", "userPrincipalName"])
        .count(true)
        .top(2)
        .into_stream()
        .try_collect()
        .await
        .expect("all");

    let names: Vec<_> = users.iter().filter_map(|u| u.display_name.clone()).collect();
    assert_eq!(names, ["Mira Okafor", "Tomas Lind", "Ana Ruiz"]);
    let requests = h.server.received_requests().await.expect("recorded");
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[0].url.query(), Some("$select=id,displayName,userPrincipalName&$top=2&$count=true"));
    for r in &requests {
        assert_eq!(r.headers.get("ConsistencyLevel").map(|v| v.as_bytes()), Some(&b"eventual"[..]), "{}", r.url);
    }
}

#[tokio::test]
async fn first_page_reports_count_and_next_link() {
    let h = Harness::new().await;
    Mock::given(method("GET"))
        .and(path("/v1.0/users"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture_at("users_page1.json", &h.server.uri())))
        .mount(&h.server)
        .await;

    let page = h.client().users().list().count(true).send().await.expect("page");

    assert_eq!(page.count, Some(3));
    assert_eq!(page.value.len(), 2);
    assert!(page.next_link.as_deref().is_some_and(|l| l.ends_with("$skiptoken=RFNwdAIAAQAAAC86")));
}

#[tokio::test]
async fn paging_stops_when_the_same_next_link_comes_back() {
    let h = Harness::new().await;
    let link = format!("{}/v1.0/users?$skiptoken=loop", h.server.uri());
    Mock::given(method("GET"))
        .and(path("/v1.0/users"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"value": [{"id": "u"}], "@odata.nextLink": link})),
        )
        .expect(2)
        .mount(&h.server)
        .await;

    let users: Vec<User> = h.client().users().list().into_stream().try_collect().await.expect("ends");

    assert_eq!(users.len(), 2);
}

#[tokio::test]
async fn delta_yields_changes_and_removals_and_hands_back_the_delta_link() {
    let h = Harness::new().await;
    let base = h.server.uri();
    Mock::given(method("GET"))
        .and(path("/v1.0/users/delta"))
        .and(query_param("$skiptoken", "pqwSUjGYvb3jQpbwVAwEL7yuI3dU1LecfkkfLPtnIjsXoYQp"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture_at("users_delta_page2.json", &base)))
        .mount(&h.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.0/users/delta"))
        .and(query_param("$select", "displayName"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture_at("users_delta_page1.json", &base)))
        .mount(&h.server)
        .await;

    let round = h.client().users().delta().select(["displayName"]).send().await.expect("delta");

    assert_eq!(round.changes.len(), 3);
    assert!(matches!(&round.changes[0], DeltaItem::Changed(u) if u.display_name.as_deref() == Some("Mira Okafor")));
    assert_eq!(
        round.changes[1],
        DeltaItem::Removed { id: "6c0b8e25-1f94-4d7a-b3e2-8a5f9c1d4e67".into(), reason: "changed".into() }
    );
    assert_eq!(
        round.changes[2],
        DeltaItem::Removed { id: "8b2f6d40-91ce-4a37-b5d8-2e0f7c6a1b95".into(), reason: "deleted".into() }
    );
    assert!(round.delta_link.as_deref().is_some_and(|l| l.contains("$deltatoken=")));
}

/// Graph's delta rules: the only filter delta takes is `id eq '…'` clauses joined by `or`.
#[tokio::test]
async fn delta_sends_an_id_filter_on_the_initial_round() {
    let h = Harness::new().await;
    let base = h.server.uri();
    Mock::given(method("GET"))
        .and(path("/v1.0/users/delta"))
        .and(query_param(
            "$filter",
            "id eq '2d7e9c14-a3b8-4f51-8c06-9e2b4d7a1f30' or id eq '6c0b8e25-1f94-4d7a-b3e2-8a5f9c1d4e67'",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "@odata.context": format!("{base}/v1.0/$metadata#users"),
            "@odata.deltaLink": format!("{base}/v1.0/users/delta?$deltatoken=abc"),
            "value": [{"id": "2d7e9c14-a3b8-4f51-8c06-9e2b4d7a1f30", "displayName": "Mira Okafor"}]
        })))
        .expect(1)
        .mount(&h.server)
        .await;

    let filter = graphbox_sdk::odata::Filter::eq("id", "2d7e9c14-a3b8-4f51-8c06-9e2b4d7a1f30")
        .or(graphbox_sdk::odata::Filter::eq("id", "6c0b8e25-1f94-4d7a-b3e2-8a5f9c1d4e67"));
    let round = h.client().users().delta().filter(filter).send().await.expect("delta");

    assert_eq!(round.changes.len(), 1);
    assert_eq!(round.delta_link, Some(format!("{base}/v1.0/users/delta?$deltatoken=abc")));
}
