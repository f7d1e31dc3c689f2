//! DirSync end to end through Graph and the control API: the state machine on
//! the tenant clock, refusals while pending, sync cycles and synced users.

use serde_json::{json, Value};

use crate::support::{env, new_user, token_for, Env, Reply};

const REFUSED: &str = "You cannot turn off Active Directory synchronization.";
const MASTERED: &str = "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.";
const SEVENTY_TWO_HOURS: u64 = 72 * 3600;

fn control_url(env: &Env, path: &str) -> String {
    format!("{}/tenants/{}{path}", env.mock.control_url(), env.mock.tenant_id())
}

/// Move the tenant clock, then take a fresh token (the old one may have expired).
pub(crate) async fn advance(env: &mut Env, seconds: u64) {
    let r = env.send(env.http.post(control_url(env, "/clock/advance")).json(&json!({"seconds": seconds}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    env.token =
        token_for(&env.http, &env.mock.token_url(), &env.mock.client_id().to_string(), env.mock.client_secret()).await;
}

/// The control API's view of the machine.
pub(crate) async fn status(env: &Env) -> Value {
    env.send(env.http.get(control_url(env, "/dirsync"))).await.json()
}

pub(crate) async fn settings(env: &Env, body: Value) {
    let r = env.send(env.http.put(control_url(env, "/dirsync/settings")).json(&body)).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

pub(crate) async fn cycle(env: &Env, users: Value) -> Reply {
    env.send(env.http.post(control_url(env, "/dirsync/cycle")).json(&json!({"users": users}))).await
}

async fn set_sync(env: &Env, enabled: bool) -> Reply {
    env.patch(&format!("/organization/{}", env.mock.tenant_id()), &json!({"onPremisesSyncEnabled": enabled})).await
}

async fn org_flag(env: &Env) -> Value {
    env.get("/organization").await.json()["value"][0]["onPremisesSyncEnabled"].clone()
}

/// Enable through Graph and let `PendingEnabled` pass.
pub(crate) async fn enable(env: &mut Env) {
    assert_eq!(set_sync(env, true).await.status, 204);
    advance(env, 60).await;
    assert_eq!(status(env).await["status"], "Enabled");
}

fn synced_user(anchor: &str, local: &str, env: &Env) -> Value {
    json!({
        "onPremisesImmutableId": anchor,
        "userPrincipalName": env.upn(local),
        "displayName": format!("{local} (synced)"),
        "mail": env.upn(local),
        "onPremisesSamAccountName": local,
        "onPremisesDistinguishedName": format!("CN={local},OU=Staff,DC=corp,DC=example"),
        "proxyAddresses": [format!("SMTP:{}", env.upn(local)), format!("smtp:{local}@corp.example")],
    })
}

#[tokio::test]
async fn dirsync_walks_its_states_through_graph_with_the_clock_advanced_by_the_control_api() {
    let mut env = env().await;
    assert_eq!(org_flag(&env).await, Value::Null);
    assert_eq!(status(&env).await["status"], "Disabled");

    assert_eq!(set_sync(&env, true).await.status, 204);
    assert_eq!(org_flag(&env).await, true);
    assert_eq!(status(&env).await["status"], "PendingEnabled");
    advance(&mut env, 10).await;
    assert_eq!(status(&env).await["status"], "Enabled");
    let sp = env.get("/servicePrincipals(appId='6bf85cfa-ac8a-4be5-b5de-425a0d0dc016')").await;
    assert_eq!(sp.status, 200, "enabling brings the sync service principal: {}", sp.text);
    assert_eq!(sp.json()["displayName"], "Microsoft Entra AD Synchronization Service");

    assert_eq!(set_sync(&env, false).await.status, 204);
    assert_eq!(org_flag(&env).await, false, "the flag flips at once");
    let pending = status(&env).await;
    assert_eq!(pending["status"], "PendingDisabled");
    let window = pending["settings"]["pendingDisabledSeconds"].as_u64().unwrap();
    assert!((24 * 3600..SEVENTY_TWO_HOURS).contains(&window), "default window {window}s inside 24–72 h");

    advance(&mut env, window - 1).await;
    assert_eq!(status(&env).await["status"], "PendingDisabled");
    advance(&mut env, 1).await;
    assert_eq!(status(&env).await["status"], "Disabled");
    assert_eq!(org_flag(&env).await, false, "was synced, no longer is");

    assert_eq!(set_sync(&env, true).await.status, 204, "re-enabling after Disabled is allowed");
    assert_eq!(status(&env).await["status"], "PendingEnabled");
}

#[tokio::test]
async fn every_change_while_pending_disabled_is_refused_in_both_directions_with_msonlines_message() {
    let mut env = env().await;
    enable(&mut env).await;
    assert_eq!(set_sync(&env, false).await.status, 204);
    for direction in [true, false] {
        let r = set_sync(&env, direction).await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert_eq!(r.error_code(), "Request_BadRequest");
        assert_eq!(r.error_message(), REFUSED);
    }
    let r = env
        .patch(
            &format!("/organization/{}", env.mock.tenant_id()),
            &json!({"onPremisesSyncEnabled": true, "technicalNotificationMails": ["x@example.com"]}),
        )
        .await;
    assert_eq!(r.status, 400);
    let org = env.get("/organization").await.json();
    assert_ne!(
        org["value"][0]["technicalNotificationMails"],
        json!(["x@example.com"]),
        "a refused PATCH applies nothing"
    );
}

#[tokio::test]
async fn a_change_while_pending_enabled_is_refused_as_the_lab_guide_reports() {
    let mut env = env().await;
    settings(&env, json!({"pendingEnabledSeconds": 12 * 3600})).await;
    assert_eq!(set_sync(&env, true).await.status, 204);
    let r = set_sync(&env, false).await;
    assert_eq!((r.status, r.error_message().as_str()), (400, REFUSED));
    advance(&mut env, 12 * 3600).await;
    assert_eq!(set_sync(&env, false).await.status, 204);
}

#[tokio::test]
async fn a_sync_cycle_creates_updates_or_leaves_users_matched_by_immutable_id_and_reports_each() {
    let mut env = env().await;
    enable(&mut env).await;
    let ada = synced_user("AAAAAAAAAAAAAAAAAAAAAA==", "ada", &env);
    let bob = synced_user("BBBBBBBBBBBBBBBBBBBBBB==", "bob", &env);
    let first = cycle(&env, json!([ada, bob])).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let id = first.json()["users"][0]["id"].as_str().unwrap().to_owned();

    advance(&mut env, 1800).await;
    let mut renamed = ada.clone();
    renamed["displayName"] = json!("Ada Lovelace");
    let carol = synced_user("CCCCCCCCCCCCCCCCCCCCCC==", "carol", &env);
    let second = cycle(&env, json!([renamed, bob, carol, {"userPrincipalName": env.upn("x")}])).await;
    assert_eq!(second.status, 200, "{}", second.text);
    insta::assert_json_snapshot!(env.normalize(second.json()), {".users[].id" => "[id]"});

    let select = "displayName,onPremisesSyncEnabled,onPremisesImmutableId,onPremisesLastSyncDateTime,proxyAddresses";
    let user = env.get(&format!("/users/{id}?$select={select}")).await.json();
    assert_eq!(user["displayName"], "Ada Lovelace");
    assert_eq!(user["onPremisesSyncEnabled"], true);
    assert_eq!(user["onPremisesLastSyncDateTime"], "2026-03-02T10:31:00Z");
    let org = env.get("/organization").await.json();
    assert_eq!(org["value"][0]["onPremisesLastSyncDateTime"], "2026-03-02T10:31:00Z");
}

#[tokio::test]
async fn a_sync_cycle_is_refused_unless_dirsync_is_enabled() {
    let mut env = env().await;
    let user = json!([synced_user("BBBBBBBBBBBBBBBBBBBBBB==", "bob", &env)]);
    let r = cycle(&env, user.clone()).await;
    assert_eq!(r.status, 409, "never enabled: {}", r.text);
    assert!(r.error_message().contains("only while it is Enabled"), "{}", r.text);
    enable(&mut env).await;
    assert_eq!(set_sync(&env, false).await.status, 204);
    let r = cycle(&env, user).await;
    assert_eq!(r.status, 409);
    assert!(r.error_message().starts_with("DirSync is PendingDisabled"), "{}", r.text);
}

#[tokio::test]
async fn synced_users_refuse_source_mastered_writes_until_disabled_then_become_cloud_users() {
    let mut env = env().await;
    enable(&mut env).await;
    let r = cycle(&env, json!([synced_user("CCCCCCCCCCCCCCCCCCCCCC==", "cy", &env)])).await;
    let id = r.json()["users"][0]["id"].as_str().unwrap().to_owned();
    let user = format!("/users/{id}");

    let r = env.patch(&user, &json!({"displayName": "Cloud edit"})).await;
    assert_eq!((r.status, r.error_code().as_str(), r.error_message().as_str()), (400, "Request_BadRequest", MASTERED));
    assert_eq!(env.patch(&user, &json!({"usageLocation": "SE"})).await.status, 204, "the cloud owns usageLocation");

    assert_eq!(set_sync(&env, false).await.status, 204);
    let r = env.patch(&user, &json!({"displayName": "Cloud edit"})).await;
    assert_eq!((r.status, r.error_message().as_str()), (400, MASTERED), "still synced while PendingDisabled");
    let cloud = env.create_user("cloudonly", "Cloud Only").await;
    assert_eq!(env.patch(&format!("/users/{cloud}"), &json!({"jobTitle": "x"})).await.status, 204, "not strict");

    advance(&mut env, SEVENTY_TWO_HOURS).await;
    let after = env
        .get(&format!("{user}?$select=onPremisesSyncEnabled,onPremisesImmutableId,onPremisesSamAccountName,onPremisesDistinguishedName,usageLocation"))
        .await
        .json();
    assert_eq!(after["onPremisesSyncEnabled"], false);
    assert_eq!(after["onPremisesImmutableId"], "CCCCCCCCCCCCCCCCCCCCCC==", "the immutable id is kept");
    assert_eq!(after["onPremisesSamAccountName"], Value::Null, "on-premises attributes are cleared");
    assert_eq!(after["onPremisesDistinguishedName"], Value::Null);
    assert_eq!(after["usageLocation"], "SE");
    assert_eq!(env.patch(&user, &json!({"displayName": "Cloud edit"})).await.status, 204);
    assert_eq!(env.patch(&user, &json!({"onPremisesImmutableId": null})).await.status, 204);
}

#[tokio::test]
async fn strict_pending_refuses_every_user_create_and_update_until_disabled() {
    let mut env = env().await;
    settings(&env, json!({"strictPending": true})).await;
    let cloud = env.create_user("early", "Early").await;
    enable(&mut env).await;
    assert_eq!(set_sync(&env, false).await.status, 204);

    let r = env.post("/users", &new_user(&env.upn("late"), "Late")).await;
    assert_eq!((r.status, r.error_message().as_str()), (400, MASTERED));
    let r = env.patch(&format!("/users/{cloud}"), &json!({"jobTitle": "x"})).await;
    assert_eq!((r.status, r.error_message().as_str()), (400, MASTERED));

    advance(&mut env, SEVENTY_TWO_HOURS).await;
    assert_eq!(env.post("/users", &new_user(&env.upn("late"), "Late")).await.status, 201);
}

#[tokio::test]
async fn a_cloud_user_is_soft_matched_by_upn_and_becomes_synced() {
    let mut env = env().await;
    let cloud = env.create_user("dee", "Dee").await;
    enable(&mut env).await;
    let mut export = synced_user("DDDDDDDDDDDDDDDDDDDDDD==", "dee", &env);
    export.as_object_mut().unwrap().remove("mail");
    export.as_object_mut().unwrap().remove("proxyAddresses");
    let r = cycle(&env, json!([export])).await.json();
    assert_eq!(r["users"][0]["result"], "updated", "{r}");
    assert_eq!(r["users"][0]["matchedBy"], "userPrincipalName");
    assert_eq!(r["users"][0]["id"], cloud);
    let r = env.patch(&format!("/users/{cloud}"), &json!({"displayName": "x"})).await;
    assert_eq!(r.status, 400, "now source-mastered");
}

#[tokio::test]
async fn dirsync_state_and_settings_round_trip_through_the_state_dump() {
    let mut env = env().await;
    settings(&env, json!({"pendingDisabledSeconds": 3600, "strictPending": true})).await;
    enable(&mut env).await;
    assert_eq!(set_sync(&env, false).await.status, 204);
    let state_url = control_url(&env, "/state");
    let saved: Value = env.http.get(&state_url).send().await.unwrap().json().await.unwrap();
    assert_eq!(env.send(env.http.post(control_url(&env, "/reset"))).await.status, 200);
    assert_eq!(status(&env).await["status"], "Disabled", "a reset tenant never synced");
    let r = env.send(env.http.put(&state_url).json(&saved)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let back = status(&env).await;
    assert_eq!(back["status"], "PendingDisabled");
    assert_eq!(back["settings"]["pendingDisabledSeconds"], 3600);
    assert_eq!(back["settings"]["strictPending"], true);
    let r = env.send(env.http.put(control_url(&env, "/dirsync/settings")).json(&json!({"nope": 1}))).await;
    assert_eq!(r.status, 400);
}
