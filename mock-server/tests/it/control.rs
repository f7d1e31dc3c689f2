//! The `/_graphbox` control API.

use serde_json::{json, Value};

use crate::support::env;

#[tokio::test]
async fn post_tenants_creates_an_isolated_tenant_with_the_ready_line_fields() {
    let env = env().await;
    let r = env.send(env.http.post(format!("{}/tenants", env.mock.control_url()))).await;
    assert_eq!(r.status, 201);
    let info = r.json();
    for field in [
        "authority",
        "graph_url",
        "tenant_id",
        "tenant_domain",
        "client_id",
        "client_secret",
        "admin_username",
        "admin_password",
        "ca_file",
        "control_url",
    ] {
        assert!(info.get(field).is_some(), "{field} missing");
    }
    assert_ne!(info["tenant_id"], env.mock.tenant_id().to_string());
    let token = crate::support::token_for(
        &env.http,
        &format!("{}/{}/oauth2/v2.0/token", info["authority"].as_str().unwrap(), info["tenant_id"].as_str().unwrap()),
        info["client_id"].as_str().unwrap(),
        info["client_secret"].as_str().unwrap(),
    )
    .await;
    let users = env.send(env.http.get(env.url("/users")).bearer_auth(token)).await.json();
    assert_eq!(users["value"].as_array().unwrap().len(), 1, "only its own admin");
}

#[tokio::test]
async fn state_round_trips_through_get_and_put() {
    let env = env().await;
    let id = env.create_user("keep", "Kept").await;
    let state_url = format!("{}/tenants/{}/state", env.mock.control_url(), env.mock.tenant_id());
    let saved: Value = env.http.get(&state_url).send().await.unwrap().json().await.unwrap();
    assert!(!saved.to_string().contains("Vk3#pL9!wQz2"), "passwords are stored hashed");
    assert!(
        !saved.to_string().contains(env.mock.client_secret())
            || saved["bootstrap"]["client_secret"] == env.mock.client_secret()
    );
    assert_eq!(env.delete(&format!("/users/{id}")).await.status, 204);
    let put = env.http.put(&state_url).json(&saved).send().await.unwrap();
    assert_eq!(put.status(), 200);
    assert_eq!(env.get(&format!("/users/{id}")).await.status, 200, "the saved user is back");
}

#[tokio::test]
async fn reset_empties_the_tenant_but_keeps_its_id_and_credentials() {
    let env = env().await;
    let id = env.create_user("temp", "Temporary").await;
    let r = env.send(env.http.post(format!("{}/tenants/{}/reset", env.mock.control_url(), env.mock.tenant_id()))).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["tenant_id"], env.mock.tenant_id().to_string());
    assert_eq!(env.get(&format!("/users/{id}")).await.status, 404);
    let token = crate::support::token_for(
        &env.http,
        &env.mock.token_url(),
        &env.mock.client_id().to_string(),
        env.mock.client_secret(),
    )
    .await;
    assert_eq!(env.send(env.http.get(env.url("/users")).bearer_auth(token)).await.status, 200);
}

#[tokio::test]
async fn the_request_log_records_graph_calls_and_stays_bounded() {
    let env = env().await;
    for _ in 0..3 {
        env.get("/users").await;
    }
    env.get("/nosuch").await;
    let log: Value = env
        .http
        .get(format!("{}/tenants/{}/requests", env.mock.control_url(), env.mock.tenant_id()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entries = log["requests"].as_array().unwrap();
    let graph: Vec<&Value> = entries.iter().filter(|e| e["path"].as_str().unwrap().starts_with("/v1.0")).collect();
    assert_eq!(graph.len(), 4);
    assert_eq!(graph[3]["status"], 400);
}

#[tokio::test]
async fn clock_advance_validates_its_body() {
    let env = env().await;
    let url = format!("{}/tenants/{}/clock/advance", env.mock.control_url(), env.mock.tenant_id());
    let bad = env.http.post(&url).json(&json!({"seconds": -5})).send().await.unwrap();
    assert_eq!(bad.status(), 400);
    let ok: Value = env.http.post(&url).json(&json!({"seconds": 86400})).send().await.unwrap().json().await.unwrap();
    assert_eq!(ok["now"], "2026-03-03T10:00:00Z");
}

#[tokio::test]
async fn an_unknown_tenant_is_not_created_by_accident() {
    let env = env().await;
    let r = env
        .send(
            env.http
                .post(format!("{}/tenants/9f0d3c1e-aaaa-4bbb-8ccc-123456789abc/clock/advance", env.mock.control_url()))
                .json(&json!({"seconds": 1})),
        )
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn servers_started_in_parallel_each_point_at_the_ca_file_that_signed_them() {
    let starts: Vec<_> = (0..8).map(|_| tokio::spawn(graphbox_mock::Graphbox::start())).collect();
    for s in starts {
        let mock = s.await.expect("task").expect("mock starts");
        let on_disk = std::fs::read_to_string(mock.ca_file().expect("HTTPS has a CA file")).expect("CA file readable");
        assert_eq!(on_disk, mock.ca_pem(), "the CA file must be the CA that signed this server's certificate");
    }
}

#[tokio::test]
async fn injected_faults_throttle_then_let_requests_through_untouched() {
    let env = env().await;
    let url = format!("{}/tenants/{}/faults", env.mock.control_url(), env.mock.tenant_id());
    let bad =
        env.http.put(&url).json(&json!({"rules": [{"path": "/v1.0/users", "status": 418}]})).send().await.unwrap();
    assert_eq!(bad.status(), 400);
    let set = env
        .http
        .put(&url)
        .json(&json!({"rules": [{"method": "POST", "path": "/v1.0/users", "status": 429, "retryAfterSeconds": 2, "times": 2}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200);
    let body = crate::support::new_user(&env.upn("throttled"), "Throttled");
    let first = env.post("/users", &body).await;
    assert_eq!(first.status, 429);
    assert_eq!(first.header("retry-after"), Some("2"));
    insta::assert_json_snapshot!(first.json(), { ".error.innerError" => "[inner]" });
    assert_eq!(env.post("/users", &body).await.status, 429);
    assert_eq!(
        env.get("/users?$filter=startswith(displayName,'Throttled')").await.json()["value"].as_array().unwrap().len(),
        0,
        "a throttled write applies nothing"
    );
    assert_eq!(env.post("/users", &body).await.status, 201, "the rule is used up");
    let left: Value = env.http.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(left["rules"].as_array().unwrap().len(), 0);
}
