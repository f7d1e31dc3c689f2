//! Paging: opaque `$skiptoken` next links that carry every original option and
//! stay on the same host.

use std::collections::HashSet;

use graphbox_mock::Graphbox;
use serde_json::{json, Map, Value};

use crate::support::env_with;

fn many_users(n: usize) -> Vec<Map<String, Value>> {
    (0..n)
        .map(|i| {
            json!({
                "accountEnabled": true,
                "displayName": format!("User {i:05}"),
                "mailNickname": format!("user{i:05}"),
                "userPrincipalName": format!("user{i:05}@{{domain}}"),
                "passwordProfile": {"password": "Vk3#pL9!wQz2", "forceChangePasswordNextSignIn": false},
            })
            .as_object()
            .expect("object")
            .clone()
        })
        .collect()
}

#[tokio::test]
async fn a_2500_user_tenant_paged_with_top_999_returns_every_user_once() {
    let env = env_with(Graphbox::builder().seed_users(many_users(2500))).await;
    let mut seen = HashSet::new();
    let mut next = Some(env.url("/users?$top=999&$select=id,displayName"));
    let mut pages = 0;
    while let Some(url) = next {
        let r = env.send(env.http.get(&url).bearer_auth(&env.token)).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let body = r.json();
        for u in body["value"].as_array().expect("value") {
            assert!(seen.insert(u["id"].as_str().unwrap().to_owned()), "a user came back twice");
        }
        next = body.get("@odata.nextLink").and_then(Value::as_str).map(str::to_owned);
        if let Some(link) = &next {
            assert!(link.starts_with(env.mock.graph_url()), "next link stays on the same host and base: {link}");
            assert!(link.contains("$select=id%2CdisplayName") && link.contains("$top=999"), "{link}");
            assert!(!link.contains('+') && !link.contains(' '));
        }
        pages += 1;
    }
    assert_eq!(seen.len(), 2501, "2500 seeded users and the admin");
    assert_eq!(pages, 3);
}

#[tokio::test]
async fn first_page_snapshot_with_next_link() {
    let env = env_with(Graphbox::builder().seed_users(many_users(5))).await;
    // Ordered, so the snapshot does not depend on how ids happen to sort.
    let r = env.get("/users?$top=2&$select=displayName&$orderby=displayName").await;
    let mut body = env.normalize(r.json());
    let link = body["@odata.nextLink"].as_str().expect("a next link").to_owned();
    assert!(
        link.starts_with("http://graphbox.test/v1.0/users?$top=2&$select=displayName&$orderby=displayName&$skiptoken="),
        "{link}"
    );
    body["@odata.nextLink"] = Value::String("[next link with $skiptoken]".into());
    insta::assert_json_snapshot!(body);
}

#[tokio::test]
async fn paging_with_orderby_continues_in_order_across_pages() {
    let env = env_with(Graphbox::builder().seed_users(many_users(30))).await;
    let mut got = Vec::new();
    let mut next = Some(env.url("/users?$orderby=displayName desc&$top=7&$select=displayName"));
    while let Some(url) = next {
        let body = env.send(env.http.get(&url).bearer_auth(&env.token)).await.json();
        got.extend(body["value"].as_array().unwrap().iter().map(|u| u["displayName"].as_str().unwrap().to_owned()));
        next = body.get("@odata.nextLink").and_then(Value::as_str).map(str::to_owned);
    }
    let mut sorted = got.clone();
    sorted.sort_by_key(|s| std::cmp::Reverse(s.to_lowercase()));
    assert_eq!(got, sorted);
    assert_eq!(got.len(), 31);
}

#[tokio::test]
async fn count_appears_only_on_the_first_page() {
    let env = env_with(Graphbox::builder().seed_users(many_users(5))).await;
    let first = env.get_eventual("/users?$top=2&$count=true").await.json();
    assert_eq!(first["@odata.count"], 6);
    let link = first["@odata.nextLink"].as_str().unwrap().to_owned();
    let second =
        env.send(env.http.get(&link).bearer_auth(&env.token).header("ConsistencyLevel", "eventual")).await.json();
    assert!(second.get("@odata.count").is_none());
}

#[tokio::test]
async fn startswith_pages_through_every_match_once_in_any_case() {
    let env = env_with(Graphbox::builder().seed_users(many_users(40))).await;
    let mut seen = HashSet::new();
    let mut next = Some(env.url(
        "/users?$filter=startswith(displayName,'uSER 0001') and accountEnabled eq true&$top=3&$select=id,displayName",
    ));
    while let Some(url) = next {
        let body = env.send(env.http.get(&url).bearer_auth(&env.token)).await.json();
        for u in body["value"].as_array().unwrap() {
            assert!(u["displayName"].as_str().unwrap().starts_with("User 0001"));
            assert!(seen.insert(u["id"].as_str().unwrap().to_owned()));
        }
        next = body.get("@odata.nextLink").and_then(Value::as_str).map(str::to_owned);
    }
    assert_eq!(seen.len(), 10, "User 00010 … User 00019");
    let renamed = env.get("/users?$filter=startswith(displayName,'User 00015')").await.json()["value"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    env.patch(&format!("/users/{renamed}"), &json!({"displayName": "Zed"})).await;
    let after = env.get("/users?$filter=startswith(displayName,'zed')").await.json();
    assert_eq!(after["value"][0]["id"], renamed.as_str(), "the index follows renames");
    assert!(env.get("/users?$filter=startswith(displayName,'User 00015')").await.json()["value"]
        .as_array()
        .unwrap()
        .is_empty());
}
