//! Delta queries.

use serde_json::{json, Value};

use crate::support::{env, Env};

/// Follow next links to the end of a round; returns the items and the delta link.
async fn round(env: &Env, first: &str, page_size: usize) -> (Vec<Value>, String, usize) {
    let mut items = Vec::new();
    let mut url = first.to_owned();
    let mut pages = 0;
    loop {
        let r = env
            .send(env.http.get(&url).bearer_auth(&env.token).header("Prefer", format!("odata.maxpagesize={page_size}")))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        pages += 1;
        let body = r.json();
        items.extend(body["value"].as_array().unwrap().iter().cloned());
        if let Some(next) = body.get("@odata.nextLink").and_then(Value::as_str) {
            assert!(body.get("@odata.deltaLink").is_none());
            url = next.to_owned();
            continue;
        }
        let delta = body["@odata.deltaLink"].as_str().expect("the last page has a delta link").to_owned();
        return (items, delta, pages);
    }
}

#[tokio::test]
async fn delta_rounds_return_everything_then_only_changes_with_deletions_removed() {
    let env = env().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(env.create_user(&format!("d{i}"), &format!("Delta {i}")).await);
    }
    let (initial, link, pages) = round(&env, &env.url("/users/delta?$select=displayName"), 2).await;
    assert_eq!(initial.len(), 6, "five users and the admin");
    assert_eq!(pages, 3);
    assert!(link.starts_with(&env.url("/users/delta?$deltatoken=")));

    let (nothing, link, _) = round(&env, &link, 2).await;
    assert!(nothing.is_empty(), "no changes, no items: {nothing:?}");

    env.patch(&format!("/users/{}", ids[0]), &json!({"displayName": "Delta Zero"})).await;
    env.delete(&format!("/users/{}", ids[1])).await;
    env.delete(&format!("/users/{}", ids[2])).await;
    env.delete(&format!("/directory/deletedItems/{}", ids[2])).await;
    let added = env.create_user("d5", "Delta 5").await;
    let (changes, _, _) = round(&env, &link, 10).await;
    let mut shown = env.normalize(json!({"value": changes}));
    for item in shown["value"].as_array_mut().unwrap() {
        item["id"] = json!("[id]");
    }
    insta::assert_json_snapshot!(shown);
    assert_eq!(changes.iter().filter(|c| c["id"] == added.as_str()).count(), 1);
}

#[tokio::test]
async fn deltatoken_latest_starts_from_now_and_bad_tokens_are_refused() {
    let env = env().await;
    env.create_user("old", "Old").await;
    let latest = env.get("/users/delta?$deltatoken=latest").await.json();
    assert!(latest["value"].as_array().unwrap().is_empty());
    let link = latest["@odata.deltaLink"].as_str().unwrap().to_owned();
    env.create_user("new", "New").await;
    let (changes, _, _) = round(&env, &link, 100).await;
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0]["displayName"], "New");
    let bad = env.get("/users/delta?$deltatoken=garbage").await;
    assert_eq!(bad.status, 400);
    let filtered = env.get("/users/delta?$filter=startswith(displayName,'x')").await;
    assert_eq!(filtered.status, 400, "delta filters on id only");
    let new_id = changes[0]["id"].as_str().unwrap().to_owned();
    let by_id = env.get(&format!("/users/delta?$filter=id eq '{new_id}'")).await.json();
    assert_eq!(by_id["value"].as_array().unwrap().len(), 1, "an id filter narrows the round");
}

#[tokio::test]
async fn groups_have_delta_too() {
    let env = env().await;
    let created = env
        .post(
            "/groups",
            &json!({"displayName": "Ops", "mailEnabled": false, "mailNickname": "ops", "securityEnabled": true}),
        )
        .await;
    assert_eq!(created.status, 201);
    let (initial, link, _) = round(&env, &env.url("/groups/delta()"), 100).await;
    assert_eq!(initial.len(), 1);
    env.patch(&format!("/groups/{}", created.json()["id"].as_str().unwrap()), &json!({"description": "on call"})).await;
    let (changes, _, _) = round(&env, &link, 100).await;
    assert_eq!(changes[0]["description"], "on call");
}
