//! Seeing inside a tenant: the request log's entries (caller, user, the
//! permission a call used or lacked, 401s and control calls), the
//! least-privilege report, and `authz: "report-only"`.

use serde_json::{json, Value};

use crate::consent::{grant, new_app, App};
use crate::support::{env, Env};

const USER_READ_ALL: &str = "df021288-bdef-4463-88db-98f22de89214";

async fn log(env: &Env) -> Vec<Value> {
    let url = format!("{}/tenants/{}/requests", env.mock.control_url(), env.mock.tenant_id());
    let body: Value = env.http.get(url).send().await.unwrap().json().await.unwrap();
    body["requests"].as_array().expect("a list").clone()
}

async fn report(env: &Env) -> Value {
    let url = format!("{}/tenants/{}/permissions-report", env.mock.control_url(), env.mock.tenant_id());
    let r = env.http.get(url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn set_authz(env: &Env, mode: &str) -> reqwest::Response {
    let url = format!("{}/tenants/{}/authz", env.mock.control_url(), env.mock.tenant_id());
    env.http.put(url).json(&json!({"authz": mode})).send().await.unwrap()
}

/// An entry with its per-request values redacted, for snapshots.
fn redacted(env: &Env, mut e: Value, app: Option<&App>) -> Value {
    for key in ["seq", "request_id", "time"] {
        e[key] = json!(format!("[{key}]"));
    }
    if let Some(app) = app {
        if e["client_id"] == app.app_id {
            e["client_id"] = json!("[app]");
        }
    }
    if e["client_id"] == env.mock.client_id().to_string() {
        e["client_id"] = json!("[bootstrap]");
    }
    if e["user"].is_object() {
        e["user"]["id"] = json!("[user]");
    }
    let text = e.to_string().replace(&env.mock.tenant_id().to_string(), "[tid]");
    env.normalize(serde_json::from_str(&text).unwrap())
}

async fn app_reading_users(env: &Env) -> (App, String) {
    let app = new_app(env, "reader").await;
    assert_eq!(grant(env, &app, USER_READ_ALL).await.status, 201);
    let token = crate::support::token_for(&env.http, &env.mock.token_url(), &app.app_id, &app.secret).await;
    (app, token)
}

#[tokio::test]
async fn the_request_log_names_the_caller_and_the_permission_a_call_used_or_lacked() {
    let env = env().await;
    let (app, token) = app_reading_users(&env).await;
    assert_eq!(env.send(env.http.get(env.url("/users")).bearer_auth(&token)).await.status, 200);
    let refused = env
        .send(env.http.post(env.url("/users")).bearer_auth(&token).json(&crate::support::new_user(&env.upn("x"), "X")))
        .await;
    assert_eq!(refused.status, 403);
    let entries = log(&env).await;
    let graph: Vec<Value> = entries
        .into_iter()
        .filter(|e| e["client_id"] == app.app_id.as_str() && e["api"] == "graph")
        .map(|e| redacted(&env, e, Some(&app)))
        .collect();
    insta::assert_json_snapshot!(graph);
}

#[tokio::test]
async fn a_request_without_a_valid_token_is_logged_to_the_tenant_it_claims_or_the_servers_log() {
    let env = env().await;
    // The bootstrap token with its signature broken: the tenant it claims logs it.
    let mut forged = env.token.clone();
    forged.truncate(forged.len() - 4);
    forged.push_str("AAAA");
    assert_eq!(env.send(env.http.get(env.url("/users")).bearer_auth(&forged)).await.status, 401);
    assert_eq!(env.send(env.http.get(env.url("/groups"))).await.status, 401);
    let entries = log(&env).await;
    let last = entries.last().expect("logged").clone();
    insta::assert_json_snapshot!("unauthenticated_in_tenant", redacted(&env, last, None));
    let server: Value =
        env.http.get(format!("{}/requests", env.mock.control_url())).send().await.unwrap().json().await.unwrap();
    let groups = server["requests"].as_array().unwrap().iter().find(|e| e["path"] == "/v1.0/groups").cloned();
    let groups = groups.expect("a call naming no tenant is in the server's log");
    assert_eq!((groups["status"].as_u64(), groups["api"].as_str()), (Some(401), Some("graph")));
}

#[tokio::test]
async fn control_calls_are_logged_to_their_tenant_but_reading_the_log_is_not() {
    let env = env().await;
    let advance = format!("{}/tenants/{}/clock/advance", env.mock.control_url(), env.mock.tenant_id());
    assert_eq!(env.http.post(advance).json(&json!({"seconds": 60})).send().await.unwrap().status(), 200);
    let first = log(&env).await;
    let second = log(&env).await;
    assert_eq!(first.len(), second.len(), "reading the log adds nothing to it");
    // RFC 3339 on the tenant clock, as the field has always been.
    assert_eq!(second.last().unwrap()["time"], "2026-03-02T10:01:00Z");
    let last = redacted(&env, second.last().unwrap().clone(), None);
    insta::assert_json_snapshot!("control_call", last);
    let after = second[second.len() - 2]["seq"].as_u64().unwrap();
    let url = format!("{}/tenants/{}/requests?after={after}", env.mock.control_url(), env.mock.tenant_id());
    let tail: Value = env.http.get(url).send().await.unwrap().json().await.unwrap();
    assert_eq!(tail["requests"].as_array().unwrap().len(), 1, "?after= gives only newer entries");
    let token_call = first.iter().find(|e| e["api"] == "identity").expect("the token request is logged");
    assert_eq!(token_call["client_id"], env.mock.client_id().to_string(), "the client the form named");
    assert_eq!(token_call["client_name"], "graphbox-bootstrap");
    let created = env.http.post(format!("{}/tenants", env.mock.control_url())).send().await.unwrap();
    assert_eq!(created.status(), 201);
    let server: Value =
        env.http.get(format!("{}/requests", env.mock.control_url())).send().await.unwrap().json().await.unwrap();
    let entry = &server["requests"].as_array().unwrap()[0];
    assert_eq!((entry["path"].as_str(), entry["api"].as_str()), (Some("/_graphbox/tenants"), Some("control")));
}

#[tokio::test]
async fn the_report_gives_an_app_the_smallest_set_of_permissions_for_what_it_did() {
    let env = env().await;
    let (app, token) = app_reading_users(&env).await;
    env.send(env.http.get(env.url("/users")).bearer_auth(&token)).await;
    let body = crate::support::new_user(&env.upn("y"), "Y");
    env.send(env.http.post(env.url("/users")).bearer_auth(&token).json(&body)).await;
    let report = report(&env).await;
    let mine = report["callers"].as_array().unwrap().iter().find(|c| c["clientId"] == app.app_id.as_str()).cloned();
    let mut mine = mine.expect("the app is in the report");
    mine["clientId"] = json!("[app]");
    insta::assert_json_snapshot!(mine);
}

#[tokio::test]
async fn the_report_lists_a_delegated_client_per_signed_in_user_with_scopes() {
    let env = env().await;
    let client_id = env.mock.client_id().to_string();
    let r = env
        .send(env.http.post(env.mock.token_url()).form(&[
            ("grant_type", "password"),
            ("client_id", client_id.as_str()),
            ("username", env.mock.admin_username()),
            ("password", env.mock.admin_password()),
            ("scope", "https://graph.microsoft.com/User.Read"),
        ]))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let token = r.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(env.send(env.http.get(env.url("/me")).bearer_auth(&token)).await.status, 200);
    let report = report(&env).await;
    let delegated: Vec<&Value> =
        report["callers"].as_array().unwrap().iter().filter(|c| c["kind"] == "delegated").collect();
    assert_eq!(delegated.len(), 1, "{report}");
    let d = delegated[0];
    assert_eq!(d["user"]["userPrincipalName"], env.mock.admin_username());
    assert_eq!(d["clientName"], "graphbox-bootstrap");
    assert_eq!(d["operations"][0]["operation"], "users.get");
    assert_eq!(d["leastPrivileged"], json!(["User.Read"]));
    let entries = log(&env).await;
    let me = entries.iter().rev().find(|e| e["path"] == "/v1.0/me").unwrap();
    assert_eq!(me["user"]["userPrincipalName"], env.mock.admin_username());
}

#[tokio::test]
async fn report_only_lets_a_refused_call_through_and_marks_it_a_would_be_403() {
    let env = env().await;
    let (app, token) = app_reading_users(&env).await;
    assert_eq!(set_authz(&env, "report-only").await.status(), 200);
    let body = crate::support::new_user(&env.upn("z"), "Z");
    let r = env.send(env.http.post(env.url("/users")).bearer_auth(&token).json(&body)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let entries = log(&env).await;
    let created = entries.iter().rev().find(|e| e["client_id"] == app.app_id.as_str()).unwrap();
    assert_eq!(created["would_be_forbidden"], true);
    assert_eq!(created["forbidden"], false);
    assert_eq!(
        created["authz"],
        json!({"operation": "users.create", "permission": "User.ReadWrite.All", "allowed": false})
    );
    let report = report(&env).await;
    assert_eq!(report["authz"], "report-only");
    let mine = report["callers"].as_array().unwrap().iter().find(|c| c["clientId"] == app.app_id.as_str()).unwrap();
    assert_eq!(mine["missing"], json!(["User.ReadWrite.All"]));
    assert_eq!(mine["operations"][0]["wouldBeRefused"], 1);
    assert_eq!(set_authz(&env, "enforce").await.status(), 200);
    let r = env.send(env.http.post(env.url("/users")).bearer_auth(&token).json(&body)).await;
    assert_eq!(r.status, 403);
    let bad = set_authz(&env, "off").await;
    assert_eq!(bad.status(), 400);
}
