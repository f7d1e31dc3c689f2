//! Values the directory implies instead of storing (a user's `id`, `userType`
//! Member, the UPN's identity, the password change at creation) must behave on
//! the wire, in writes and in state files exactly as stored values did; and
//! seeding many users must create the same users and refuse the same bodies as
//! `POST /users` one at a time.

use graphbox_mock::{Graphbox, StartError};
use serde_json::{json, Map, Value};

use crate::dirsync::{cycle, enable};
use crate::support::{env, env_with, new_user, Env};

const IMPLIED: &str = "id,userType,identities,lastPasswordChangeDateTime,createdDateTime,userPrincipalName";

fn state_url(env: &Env) -> String {
    format!("{}/tenants/{}/state", env.mock.control_url(), env.mock.tenant_id())
}

async fn user(env: &Env, id: &str) -> Value {
    let r = env.get(&format!("/users/{id}?$select={IMPLIED}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()
}

#[tokio::test]
async fn a_new_user_shows_its_implied_values() {
    let env = env().await;
    let id = env.create_user("ivy", "Ivy").await;
    let u = user(&env, &id).await;
    assert_eq!(u["id"], id.as_str());
    assert_eq!(u["userType"], "Member");
    assert_eq!(u["lastPasswordChangeDateTime"], u["createdDateTime"]);
    let upn = env.upn("ivy");
    let identities =
        json!([{"signInType": "userPrincipalName", "issuer": env.mock.tenant_domain(), "issuerAssignedId": upn}]);
    assert_eq!(u["identities"], identities);
    assert_eq!(
        serde_json::to_string(&u["identities"]).unwrap(),
        serde_json::to_string(&identities).unwrap(),
        "members in Graph's order"
    );
}

#[tokio::test]
async fn patched_user_type_and_identities_stick_and_a_cleared_user_type_stays_null() {
    let env = env().await;
    let guest = env.create_user("gus", "Gus").await;
    let cleared = env.create_user("cly", "Cly").await;
    let custom = env.create_user("cus", "Cus").await;
    assert_eq!(env.patch(&format!("/users/{guest}"), &json!({"userType": "Guest"})).await.status, 204);
    assert_eq!(env.patch(&format!("/users/{cleared}"), &json!({"userType": null})).await.status, 204);
    // Members in another order than Graph's: shown as written, not re-derived.
    let identities =
        json!([{"issuerAssignedId": "cus@example.com", "signInType": "emailAddress", "issuer": "example.com"}]);
    let r = env.patch(&format!("/users/{custom}"), &json!({"identities": identities})).await;
    assert_eq!(r.status, 204, "{}", r.text);

    assert_eq!(user(&env, &guest).await["userType"], "Guest");
    assert_eq!(user(&env, &cleared).await["userType"], Value::Null);
    let shown = user(&env, &custom).await["identities"].clone();
    assert_eq!(serde_json::to_string(&shown).unwrap(), serde_json::to_string(&identities).unwrap());

    // A later write to another property keeps each of them.
    for id in [&guest, &cleared, &custom] {
        assert_eq!(env.patch(&format!("/users/{id}"), &json!({"jobTitle": "Tester"})).await.status, 204);
    }
    assert_eq!(user(&env, &guest).await["userType"], "Guest");
    assert_eq!(user(&env, &cleared).await["userType"], Value::Null);
    assert_eq!(user(&env, &custom).await["identities"], identities);
}

#[tokio::test]
async fn a_patched_upn_moves_the_identity_and_a_new_password_moves_its_change_time() {
    let mut env = env().await;
    let id = env.create_user("mo", "Mo").await;
    crate::dirsync::advance(&mut env, 3600).await;
    let upn = env.upn("moved");
    let r = env
        .patch(
            &format!("/users/{id}"),
            &json!({"userPrincipalName": upn, "passwordProfile": {"password": "Zq8!mN3#rT5w"}}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let u = user(&env, &id).await;
    assert_eq!(u["identities"][0]["issuerAssignedId"], upn.as_str());
    assert_eq!(u["createdDateTime"], "2026-03-02T10:00:00Z");
    assert_eq!(u["lastPasswordChangeDateTime"], "2026-03-02T11:00:00Z");
}

#[tokio::test]
async fn filters_and_search_see_implied_values() {
    let env = env().await;
    let member = env.create_user("flo", "Flo").await;
    let guest = env.create_user("gil", "Gil").await;
    assert_eq!(env.patch(&format!("/users/{guest}"), &json!({"userType": "Guest"})).await.status, 204);

    let ids = |r: crate::support::Reply| -> Vec<String> {
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()["value"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_owned()).collect()
    };
    let members = ids(env.get("/users?$filter=userType%20eq%20'Member'&$select=id").await);
    assert!(members.contains(&member) && !members.contains(&guest), "{members:?}");
    let guests = ids(env.get("/users?$filter=userType%20eq%20'Guest'&$select=id").await);
    assert_eq!(guests, vec![guest.clone()]);

    let upn = env.upn("flo");
    let by_identity = format!("/users?$filter=identities/any(c:c/issuerAssignedId%20eq%20'{upn}')&$select=id");
    assert_eq!(ids(env.get(&by_identity).await), vec![member.clone()]);
    let by_id = format!("/users?$filter=id%20eq%20'{member}'&$select=id");
    assert_eq!(ids(env.get(&by_id).await), vec![member]);
}

#[tokio::test]
async fn a_sync_cycle_renaming_a_cloud_user_keeps_the_identity_it_was_created_with() {
    let mut env = env().await;
    let old_upn = env.upn("cloud");
    let mut body = new_user(&old_upn, "Cloud");
    body["mail"] = json!(old_upn);
    let r = env.post("/users", &body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json()["id"].as_str().unwrap().to_owned();
    enable(&mut env).await;

    // Soft-matched by its proxy address; the sync engine renames it.
    let new_upn = env.upn("renamed");
    let export = json!({
        "onPremisesImmutableId": "DDDDDDDDDDDDDDDDDDDDDD==",
        "userPrincipalName": new_upn,
        "displayName": "Cloud (synced)",
        "proxyAddresses": [format!("SMTP:{old_upn}")],
    });
    let r = cycle(&env, json!([export])).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["users"][0]["result"], "updated", "{}", r.text);

    let u = user(&env, &id).await;
    assert_eq!(u["userPrincipalName"], new_upn.as_str());
    assert_eq!(u["identities"][0]["issuerAssignedId"], old_upn.as_str(), "a sync write does not touch identities");
}

#[tokio::test]
async fn the_state_dump_holds_every_value_and_loads_back_to_the_same_users() {
    let env = env().await;
    let plain = env.create_user("sam", "Sam").await;
    let guest = env.create_user("sue", "Sue").await;
    assert_eq!(env.patch(&format!("/users/{guest}"), &json!({"userType": "Guest"})).await.status, 204);
    let before = env.get("/users?$select=*").await.json();

    let saved: Value = env.http.get(state_url(&env)).send().await.unwrap().json().await.unwrap();
    // As builds that stored every value wrote it: the four implied values are
    // in the file, so either build reads the other's files.
    let props = |id: &str| saved["directory"]["users"][id]["props"].as_array().cloned().unwrap_or_default();
    let values = |id: &str| props(id).into_iter().map(|p| p[1].clone()).collect::<Vec<Value>>();
    let shown = before["value"].as_array().unwrap().iter().find(|u| u["id"] == plain.as_str()).unwrap().clone();
    let plain_values = values(&plain);
    assert!(props(&plain).contains(&json!([0, plain])), "{plain_values:?}");
    assert!(plain_values.contains(&json!("Member")), "{plain_values:?}");
    assert!(plain_values.contains(&shown["identities"]), "{plain_values:?}");
    let created = &shown["createdDateTime"];
    assert_eq!(plain_values.iter().filter(|v| *v == created).count(), 2, "created and password changed");

    let put = env.http.put(state_url(&env)).json(&saved).send().await.unwrap();
    assert_eq!(put.status(), 200);
    assert_eq!(env.get("/users?$select=*").await.json(), before);
}

#[tokio::test]
async fn a_state_file_with_values_that_do_not_derive_keeps_them() {
    let env = env().await;
    let id = env.create_user("old", "Old").await;
    let mut saved: Value = env.http.get(state_url(&env)).send().await.unwrap().json().await.unwrap();
    // An older file's user: no userType at all, and an identity whose members
    // are in another order than the UPN's.
    let identities = json!([{"issuer": env.mock.tenant_domain(), "issuerAssignedId": env.upn("old"), "signInType": "userPrincipalName"}]);
    let props = saved["directory"]["users"][&id]["props"].as_array_mut().unwrap();
    props.retain(|p| p[1] != json!("Member"));
    for p in props.iter_mut() {
        if p[1].is_array() && p[1][0].get("signInType").is_some() {
            p[1] = identities.clone();
        }
    }
    let put = env.http.put(state_url(&env)).json(&saved).send().await.unwrap();
    assert_eq!(put.status(), 200);

    let u = user(&env, &id).await;
    assert_eq!(u["userType"], Value::Null);
    assert_eq!(serde_json::to_string(&u["identities"]).unwrap(), serde_json::to_string(&identities).unwrap());
    let again: Value = env.http.get(state_url(&env)).send().await.unwrap().json().await.unwrap();
    assert_eq!(again["directory"]["users"][&id], saved["directory"]["users"][&id], "saved as loaded");
}

fn body(upn: &str, name: &str) -> Map<String, Value> {
    new_user(upn, name).as_object().cloned().unwrap_or_default()
}

/// Every user but the ids (which depend on what else drew from the tenant's
/// id generator first), in UPN order.
async fn users_without_ids(env: &Env) -> Vec<Value> {
    let mut users: Vec<Value> = env.normalize(env.get("/users?$select=*").await.json())["value"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|mut u| {
            u.as_object_mut().map(|o| o.remove("id"));
            u
        })
        .collect();
    users.sort_by_key(|u| u["userPrincipalName"].as_str().unwrap_or_default().to_owned());
    users
}

#[tokio::test]
async fn seeded_users_are_the_users_post_creates() {
    let seeded = env_with(Graphbox::builder().seed_users(vec![body("a@{domain}", "A"), body("b@{domain}", "B")])).await;
    let posted = env().await;
    posted.create_user("a", "A").await;
    posted.create_user("b", "B").await;
    assert_eq!(users_without_ids(&seeded).await, users_without_ids(&posted).await);
}

#[tokio::test]
async fn generated_seed_users_get_the_tenant_domain() {
    let env = env_with(Graphbox::builder().seed_users_with(|domain| {
        let upn = format!("gen@{domain}");
        vec![body(&upn, "Generated"), body("placeholder@{domain}", "Placeholder")]
    }))
    .await;
    for local in ["gen", "placeholder"] {
        let r = env.get(&format!("/users/{}?$select=userPrincipalName", env.upn(local))).await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
}

#[tokio::test]
async fn a_refused_seed_user_stops_the_start_with_its_index() {
    let users = move |_: &str| {
        vec![
            body("one@{domain}", "One"),
            body("two@{domain}", "Two"),
            body("ONE@{domain}", "Again"),
            body("bad", "Bad"),
        ]
    };
    let err = Graphbox::builder().plain_http().seed(7).seed_users_with(users).start().await.expect_err("refused");
    match err {
        StartError::Seed { index, message } => {
            assert_eq!(index, 2, "{message}");
            assert!(message.contains("userPrincipalName already exists"), "{message}");
        }
        other => panic!("expected a seed error, got {other:?}"),
    }
}
