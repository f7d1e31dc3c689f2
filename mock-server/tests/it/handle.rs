//! The control plane on the handle (`Graphbox::clock`, `faults`, `requests`, `dirsync`,
//! `tenants`, realism): the same operations as `/_graphbox`, typed, without HTTP.

use std::time::Duration;

use graphbox_mock::{Fault, RealismConfig, RealismProfile};
use serde_json::json;
use time::format_description::well_known::Rfc3339;

use crate::support::env;

#[tokio::test]
async fn clock_advance_and_set_move_the_tenant_clock_and_it_never_goes_back() {
    let env = env().await;
    let start = env.mock.clock().now();
    let after = env.mock.clock().advance(Duration::from_secs(3600)).expect("advance");
    assert_eq!(after - start, time::Duration::hours(1));
    // The control API's clock and the handle's are the same clock.
    let over_http =
        env.send(env.http.get(format!("{}/tenants/{}/clock", env.mock.control_url(), env.mock.tenant_id()))).await;
    let shown = over_http.json()["now"].as_str().map(|t| time::OffsetDateTime::parse(t, &Rfc3339).expect("RFC 3339"));
    assert_eq!(shown, Some(after));
    let later = after + time::Duration::days(1);
    assert_eq!(env.mock.clock().set(later).expect("set forward"), later);
    let refused = env.mock.clock().set(start).expect_err("backwards");
    assert_eq!(refused.status, 400);
    assert!(refused.message.contains("only moves forward"), "{}", refused.message);
    assert_eq!(env.mock.clock().now(), later, "a refused set leaves the clock alone");
    let too_far = env.mock.clock().advance(Duration::from_secs(u64::MAX / 2)).expect_err("past 9000");
    assert_eq!(too_far.status, 400);
}

#[tokio::test]
async fn a_fault_set_on_the_handle_answers_429_with_retry_after_then_runs_out() {
    let env = env().await;
    env.mock
        .faults()
        .set([Fault::new(429, "/v1.0/users").method("GET").retry_after(Duration::from_secs(7)).times(1)])
        .expect("valid rule");
    assert_eq!(env.mock.faults().rules()[0].times, Some(1));
    let throttled = env.get("/users").await;
    assert_eq!((throttled.status, throttled.header("retry-after")), (429, Some("7")));
    assert_eq!(throttled.error_code(), "TooManyRequests");
    assert_eq!(env.get("/users").await.status, 200, "times: 1 is used up");
    let bad = env.mock.faults().set([Fault::new(418, "/v1.0/users")]).expect_err("418 is not a fault");
    assert_eq!(bad.status, 400);
    env.mock.faults().set([Fault::new(503, "/v1.0/groups")]).expect("valid");
    env.mock.faults().clear();
    assert!(env.mock.faults().rules().is_empty());
}

#[tokio::test]
async fn the_request_log_on_the_handle_lists_graph_requests_with_status_and_client() {
    let env = env().await;
    assert_eq!(env.get("/users/00000000-0000-0000-0000-000000000001").await.status, 404);
    let log = env.mock.requests();
    let entry = log.iter().find(|e| e.path.ends_with("/users/00000000-0000-0000-0000-000000000001")).expect("logged");
    assert_eq!((entry.method.as_str(), entry.status, entry.client_id), ("GET", 404, Some(env.mock.client_id())));
    let over_http =
        env.send(env.http.get(format!("{}/tenants/{}/requests", env.mock.control_url(), env.mock.tenant_id()))).await;
    let ids: Vec<String> = over_http.json()["requests"]
        .as_array()
        .expect("list")
        .iter()
        .map(|r| r["request_id"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(ids.contains(&entry.request_id.to_string()), "the handle reads the log the control API serves");
}

#[tokio::test]
async fn a_dirsync_cycle_on_the_handle_is_refused_409_until_dirsync_is_enabled() {
    let env = env().await;
    let refused = env
        .mock
        .dirsync()
        .cycle([json!({"onPremisesImmutableId": "a1", "userPrincipalName": env.upn("a1"), "displayName": "A"})])
        .expect_err("not enabled");
    assert_eq!(refused.status, 409);
    assert_eq!(env.mock.dirsync().state().expect("view")["status"], "Disabled");
    let r =
        env.patch(&format!("/organization/{}", env.mock.tenant_id()), &json!({"onPremisesSyncEnabled": true})).await;
    assert_eq!(r.status, 204);
    env.mock.clock().advance(Duration::from_secs(120)).expect("advance");
    assert_eq!(
        env.mock.dirsync().state().expect("view")["status"],
        "Enabled",
        "the handle's clock reaches the DirSync machine"
    );
    let summary = env.mock.dirsync().cycle([json!({"onPremisesImmutableId": "a1", "userPrincipalName": env.upn("a1"), "displayName": "A", "mailNickname": "a1"})]).expect("cycle");
    assert_eq!(summary["users"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn tenants_on_the_handle_create_fork_save_load_and_reset() {
    let env = env().await;
    let other = env.mock.tenants().create();
    assert!(env.mock.tenants().ids().contains(&other.tenant_id));
    let control = env.mock.tenants().get(other.tenant_id);
    assert_eq!(control.info().expect("info"), other);
    // A user in the default tenant, then the default tenant's state saved, reset and loaded.
    let id = env.create_user("kept", "Kept").await;
    let saved = env.mock.default_tenant().state().expect("state");
    let fork = env.mock.default_tenant().fork().expect("fork");
    assert_ne!(fork.tenant_id, env.mock.tenant_id());
    let reset = env.mock.default_tenant().reset().expect("reset");
    assert_eq!((reset.client_id, reset.client_secret.as_str()), (env.mock.client_id(), env.mock.client_secret()));
    assert_eq!(env.get(&format!("/users/{id}")).await.status, 404, "reset empties the directory");
    env.mock.default_tenant().load_state(saved.clone()).expect("load");
    assert_eq!(env.get(&format!("/users/{id}")).await.status, 200, "the saved state is back");
    let wrong = env.mock.tenants().get(other.tenant_id).load_state(saved).expect_err("another tenant's state");
    assert_eq!(wrong.status, 400);
    let missing = env.mock.tenants().get(uuid::Uuid::nil()).reset().expect_err("no such tenant");
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn realism_set_on_the_handle_is_what_the_control_api_reports() {
    let env = env().await;
    assert_eq!(env.mock.realism().profile, RealismProfile::Off);
    env.mock.set_realism(RealismConfig::new(RealismProfile::Entra, 9)).expect("set");
    let view = env
        .send(env.http.get(format!("{}/tenants/{}/realism", env.mock.control_url(), env.mock.tenant_id())))
        .await
        .json();
    assert_eq!((view["profile"].clone(), view["seed"].clone()), (json!("entra"), json!(9)));
    assert_eq!(env.mock.realism().seed, 9);
}
