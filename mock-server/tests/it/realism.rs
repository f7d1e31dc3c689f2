//! Realism (README: Realism): replication delay, propagation into tokens,
//! resource-unit throttling, random faults and adversarial shapes — each
//! behaviour's wire shape pinned, `off` unchanged, and the seed replaying.

use base64::Engine;
use serde_json::{json, Value};

use crate::support::{env, env_with, new_user, token_for, Env, Reply};

const USER_READ_ALL: &str = "df021288-bdef-4463-88db-98f22de89214";
const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

fn control(env: &Env, rest: &str) -> String {
    format!("{}/tenants/{}/{rest}", env.mock.control_url(), env.mock.tenant_id())
}

async fn put_realism(env: &Env, body: Value) -> Reply {
    env.send(env.http.put(control(env, "realism")).json(&body)).await
}

/// `entra` with nothing random in the way of the behaviour a test pins.
async fn entra(env: &Env, extra: Value) {
    let mut body = json!({"profile": "entra", "seed": 7, "latencyP50Ms": 0, "latencyP99Ms": 0, "randomFaults": {}});
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        body[k] = v;
    }
    let r = put_realism(env, body).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

async fn advance(env: &Env, seconds: u64) {
    let r = env.send(env.http.post(control(env, "clock/advance")).json(&json!({"seconds": seconds}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

async fn token_request(env: &Env, client_id: &str, secret: &str) -> Reply {
    env.send(env.http.post(env.mock.token_url()).form(&[
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("client_secret", secret),
        ("scope", "https://graph.microsoft.com/.default"),
    ]))
    .await
}

/// An AADSTS error with its per-request fields masked.
fn ests(r: &Reply) -> Value {
    let mut v = r.json();
    for k in ["trace_id", "correlation_id", "timestamp"] {
        v[k] = json!(format!("[{k}]"));
    }
    let d = v["error_description"].as_str().unwrap_or_default();
    let d = d.split("\r\nTrace ID").next().unwrap_or(d).split(" Trace ID").next().unwrap_or(d).to_owned();
    v["error_description"] = json!(d);
    json!({"status": r.status, "body": v})
}

/// A Graph error with its per-request fields masked.
fn graph_error(r: &Reply, ids: &[&str]) -> Value {
    let mut v = r.json();
    v["error"]["innerError"] = json!("[inner]");
    let mut text = serde_json::to_string(&v).expect("serializes");
    for id in ids {
        text = text.replace(id, "[id]");
    }
    json!({"status": r.status, "retryAfter": r.header("retry-after"), "body": serde_json::from_str::<Value>(&text).expect("json")})
}

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("base64url"))
        .expect("JSON claims")
}

#[tokio::test]
async fn off_is_the_default_and_answers_without_realism_headers() {
    let env = env().await;
    let view = env.send(env.http.get(control(&env, "realism"))).await.json();
    assert_eq!((view["profile"].as_str(), view["effective"]["throttling"].as_bool()), (Some("off"), Some(false)));
    let r = env.get("/users").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-ms-resource-unit"), Some("1"), "today's constant");
    assert!(r.header("x-ms-throttle-limit-percentage").is_none());
    let state = env.send(env.http.get(control(&env, "state"))).await.json();
    assert!(state.get("realism").is_none(), "an off tenant saves as it always did");
}

#[tokio::test]
async fn the_control_api_shows_effective_settings_and_refuses_bad_ones() {
    let env = env().await;
    let r = put_realism(&env, json!({"profile": "entra", "seed": 42, "tenantSize": "large"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    insta::assert_json_snapshot!("realism_view_entra", r.json());
    let bad = put_realism(&env, json!({"profile": "entra", "notFoundProbability": 3})).await;
    assert_eq!(
        (bad.status, bad.json()["error"]["message"].as_str()),
        (400, Some("\"notFoundProbability\" must be a number between 0 and 1"))
    );
    let state = env.send(env.http.get(control(&env, "state"))).await.json();
    assert_eq!(state["realism"], json!({"profile": "entra", "seed": 42, "overrides": {"tenantSize": "large"}}));
}

#[tokio::test]
async fn a_just_created_application_and_secret_are_refused_at_the_token_endpoint_until_replicated() {
    let env = env().await;
    entra(&env, json!({"notFoundProbability": 1.0})).await;
    let app = env.post("/applications", &json!({"displayName": "fresh"})).await.json();
    let (id, app_id) = (app["id"].as_str().unwrap().to_owned(), app["appId"].as_str().unwrap().to_owned());
    let unknown = token_request(&env, &app_id, "anything").await;
    let sp_early = env.post("/servicePrincipals", &json!({"appId": app_id})).await;
    let secret_early = env.post(&format!("/applications/{id}/addPassword"), &json!({})).await;
    advance(&env, 11).await;
    let sp = env.post("/servicePrincipals", &json!({"appId": app_id})).await;
    assert_eq!(sp.status, 201, "replicated: {}", sp.text);
    let secret = env.post(&format!("/applications/{id}/addPassword"), &json!({})).await;
    assert_eq!(secret.status, 200, "{}", secret.text);
    let text = secret.json()["secretText"].as_str().unwrap().to_owned();
    let wrong_for_now = token_request(&env, &app_id, &text).await;
    let snapshot = json!({
        "newApplication": ests(&unknown),
        "servicePrincipalForNewApplication": graph_error(&sp_early, &[]),
        "addPasswordOnNewApplication": graph_error(&secret_early, &[]),
        "newSecret": ests(&wrong_for_now),
    });
    let masked = serde_json::to_string(&snapshot).unwrap().replace(&app_id, "[appId]").replace(&id, "[id]");
    insta::assert_json_snapshot!("replication_token_endpoint", serde_json::from_str::<Value>(&masked).unwrap());
    advance(&env, 11).await;
    let replicated = token_request(&env, &app_id, &text).await;
    assert_eq!(replicated.status, 200, "the secret has replicated: {}", replicated.text);
}

#[tokio::test]
async fn a_fresh_object_can_404_by_id_is_left_out_of_lists_and_cannot_be_referenced_yet() {
    let env = env().await;
    entra(&env, json!({"notFoundProbability": 1.0, "listOmitProbability": 1.0})).await;
    let created = env.post("/users", &new_user(&env.upn("fresh"), "Fresh User")).await;
    assert_eq!(created.status, 201, "the write is accepted at once");
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let by_id = env.get(&format!("/users/{id}")).await;
    let patch = env.patch(&format!("/users/{id}"), &json!({"jobTitle": "x"})).await;
    let listed = env.get("/users?$filter=startswith(displayName,'Fresh')").await.json();
    let group = env.post("/groups", &crate::support::new_group("g")).await.json();
    let gid = group["id"].as_str().unwrap().to_owned();
    advance(&env, 11).await;
    let member = env
        .post(
            &format!("/groups/{gid}/members/$ref"),
            &json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{id}")}),
        )
        .await;
    insta::assert_json_snapshot!(
        "replication_reads_and_references",
        json!({
            "getById": graph_error(&by_id, &[&id]),
            "patchById": graph_error(&patch, &[&id]),
            "listed": listed["value"].as_array().map(Vec::len),
        })
    );
    // The user's window (≤ 10 s) ended with the group's advance; a fresh one is refused.
    assert_eq!(member.status, 204, "{}", member.text);
    let other = env.post("/users", &new_user(&env.upn("fresher"), "Fresher")).await.json();
    let oid = other["id"].as_str().unwrap().to_owned();
    let refused = env
        .post(
            &format!("/groups/{gid}/members/$ref"),
            &json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{oid}")}),
        )
        .await;
    insta::assert_json_snapshot!("replication_reference", graph_error(&refused, &[&oid]));
    advance(&env, 11).await;
    // The create was never lost; the PATCH that met a replica without the
    // user was refused whole (a 404 applies nothing), so it is sent again.
    let now = env.get(&format!("/users/{id}?$select=jobTitle")).await;
    assert_eq!((now.status, now.json()["jobTitle"].as_str()), (200, None));
    assert_eq!(env.patch(&format!("/users/{id}"), &json!({"jobTitle": "x"})).await.status, 204);
    assert_eq!(
        env.get("/users?$filter=startswith(displayName,'Fresh')").await.json()["value"].as_array().map(Vec::len),
        Some(2)
    );
}

#[tokio::test]
async fn a_delegated_session_reads_its_own_writes_under_entra() {
    let env = env().await;
    entra(&env, json!({"notFoundProbability": 1.0})).await;
    let form = [
        ("grant_type", "password"),
        ("client_id", &env.mock.client_id().to_string()),
        ("username", env.mock.admin_username()),
        ("password", env.mock.admin_password()),
        ("scope", "https://graph.microsoft.com/.default"),
    ];
    let token = env.send(env.http.post(env.mock.token_url()).form(&form)).await;
    assert_eq!(token.status, 200, "{}", token.text);
    let user_token = token.json()["access_token"].as_str().unwrap().to_owned();
    let created = env
        .send(env.http.post(env.url("/users")).bearer_auth(&user_token).json(&new_user(&env.upn("mine"), "Mine")))
        .await;
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let mine = env.send(env.http.get(env.url(&format!("/users/{id}"))).bearer_auth(&user_token)).await;
    assert_eq!(mine.status, 200, "the session that wrote it sees it");
    assert_eq!(env.get(&format!("/users/{id}")).await.status, 404, "an app-only client does not yet");
}

#[tokio::test]
async fn new_tokens_lack_an_app_role_granted_inside_the_propagation_window() {
    let env = env().await;
    entra(&env, json!({})).await;
    let app = env.post("/applications", &json!({"displayName": "late roles"})).await.json();
    let app_id = app["appId"].as_str().unwrap().to_owned();
    advance(&env, 11).await;
    let sp = env.post("/servicePrincipals", &json!({"appId": app_id})).await.json();
    let secret =
        env.post(&format!("/applications/{}/addPassword", app["id"].as_str().unwrap()), &json!({})).await.json();
    advance(&env, 11).await;
    let graph = env.get(&format!("/servicePrincipals(appId='{GRAPH_APP_ID}')?$select=id")).await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let granted = env
        .post(
            &format!("/servicePrincipals/{graph}/appRoleAssignedTo"),
            &json!({"principalId": sp["id"], "resourceId": graph, "appRoleId": USER_READ_ALL}),
        )
        .await;
    assert_eq!(granted.status, 201, "{}", granted.text);
    let secret = secret["secretText"].as_str().unwrap();
    let early = token_for(&env.http, &env.mock.token_url(), &app_id, secret).await;
    assert!(claims(&early).get("roles").is_none_or(|r| r.as_array().is_some_and(Vec::is_empty)), "{}", claims(&early));
    advance(&env, 31).await;
    let later = token_for(&env.http, &env.mock.token_url(), &app_id, secret).await;
    assert_eq!(claims(&later)["roles"], json!(["User.Read.All"]));
}

#[tokio::test]
async fn throttling_charges_resource_units_warns_past_80_percent_then_answers_429() {
    let env = env().await;
    entra(&env, json!({"readUnitsPer10s": 10})).await;
    let mut seen = Vec::new();
    for _ in 0..6 {
        let r = env.get("/users").await;
        seen.push(json!({
            "status": r.status,
            "x-ms-resource-unit": r.header("x-ms-resource-unit"),
            "x-ms-throttle-limit-percentage": r.header("x-ms-throttle-limit-percentage"),
        }));
        if r.status == 429 {
            let headers: Value = ["retry-after", "x-ms-throttle-scope", "x-ms-throttle-information", "content-type"]
                .iter()
                .map(|h| (h.to_string(), json!(r.header(h))))
                .collect::<serde_json::Map<_, _>>()
                .into();
            let text = serde_json::to_string(&json!({"headers": headers, "error": graph_error(&r, &[])}))
                .unwrap()
                .replace(&env.mock.client_id().to_string(), "[appId]")
                .replace(&env.mock.tenant_id().to_string(), "[tenantId]");
            seen.push(serde_json::from_str(&text).unwrap());
        }
    }
    insta::assert_json_snapshot!("throttling_sequence", seen);
    // Back before Retry-After is over: non-compliant.
    let _ = env.get("/users").await;
    advance(&env, 10).await;
    assert_eq!(env.get("/users").await.status, 200, "refilled");
    let report = env.send(env.http.get(control(&env, "realism/report"))).await.json();
    let me = &report["clients"][0];
    assert_eq!(me["clientId"].as_str(), Some(env.mock.client_id().to_string().as_str()));
    assert_eq!(
        (me["requests"].as_u64(), me["throttled"].as_u64(), me["earlyRetries"].as_u64()),
        (Some(8), Some(2), Some(1))
    );
    assert_eq!(me["largestBurst"].as_u64(), Some(7), "the frozen clock puts seven requests in one second");
}

#[tokio::test]
async fn each_batch_item_is_throttled_on_its_own_inside_a_200() {
    let env = env().await;
    entra(&env, json!({"readUnitsPer10s": 3})).await;
    let requests: Vec<Value> =
        (0..5).map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/organization"})).collect();
    let r = env.post("/$batch", &json!({"requests": requests})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let items: Vec<Value> = r.json()["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| json!({"id": i["id"], "status": i["status"], "retryAfter": i["headers"].get("Retry-After"), "code": i["body"]["error"]["code"]}))
        .collect();
    insta::assert_json_snapshot!("throttling_batch_items", items);
}

#[tokio::test]
async fn writes_past_the_write_quota_are_refused_with_the_write_scope() {
    let env = env().await;
    entra(&env, json!({"writeQuotaPer150s": 2})).await;
    for i in 0..2 {
        assert_eq!(env.post("/users", &new_user(&env.upn(&format!("w{i}")), "W")).await.status, 201);
    }
    let r = env.post("/users", &new_user(&env.upn("w2"), "W")).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("75"), "one write per 75 s at 2 per 150 s");
    assert_eq!(r.header("x-ms-throttle-information"), Some("WriteLimitExceeded"));
    assert!(r.header("x-ms-throttle-scope").is_some_and(|s| s.starts_with("Tenant_Application/Write/")));
    assert_eq!(env.get("/users").await.status, 200, "reads are not writes");
}

#[tokio::test]
async fn random_faults_answer_with_graphs_bodies_and_scripted_faults_come_first() {
    let env = env().await;
    let r = put_realism(
        &env,
        json!({"profile": "entra", "seed": 7, "latencyP50Ms": 0, "latencyP99Ms": 0, "throttling": false,
                                      "randomFaults": {"GET": {"503": 1.0}}}),
    )
    .await;
    assert_eq!(r.status, 200);
    let unavailable = env.get("/organization").await;
    let rule = json!({"rules": [{"path": "/v1.0/organization", "status": 504, "times": 1}]});
    assert_eq!(env.send(env.http.put(control(&env, "faults")).json(&rule)).await.status, 200);
    let scripted = env.get("/organization").await;
    insta::assert_json_snapshot!(
        "random_faults",
        json!({"random": graph_error(&unavailable, &[]), "scripted": graph_error(&scripted, &[])})
    );
}

#[tokio::test]
async fn latency_is_real_time_on_the_timer() {
    let env = env().await;
    let r = put_realism(
        &env,
        json!({"profile": "entra", "seed": 1, "latencyP50Ms": 150, "latencyP99Ms": 151, "randomFaults": {}}),
    )
    .await;
    assert_eq!(r.status, 200);
    let started = tokio::time::Instant::now();
    assert_eq!(env.get("/organization").await.status, 200);
    assert!(started.elapsed() >= std::time::Duration::from_millis(100), "{:?}", started.elapsed());
}

/// The statuses and realism headers of a fixed request sequence.
async fn run_sequence(seed: u64) -> Vec<Value> {
    let env = env().await;
    let r = put_realism(&env, json!({"profile": "adversarial", "seed": seed, "latencyP50Ms": 0, "latencyP99Ms": 0,
                                      "readUnitsPer10s": 40, "randomFaults": {"*": {"429": 0.1, "503": 0.1, "504": 0.1}}}))
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut out = Vec::new();
    for i in 0..30 {
        let r = if i % 3 == 0 {
            env.post("/users", &new_user(&env.upn(&format!("r{i}")), "Replay")).await
        } else {
            env.get("/users?$top=3").await
        };
        let h = |n: &str| r.header(n).map(str::to_owned);
        out.push(json!([
            r.status,
            h("retry-after"),
            h("x-ms-resource-unit"),
            h("x-ms-throttle-limit-percentage"),
            h("x-ms-throttle-scope").map(|s| s.split('/').take(2).collect::<Vec<_>>().join("/"))
        ]));
    }
    out
}

#[tokio::test]
async fn the_same_seed_replays_the_same_answers_and_another_seed_does_not() {
    let (a, b, c) = (run_sequence(11).await, run_sequence(11).await, run_sequence(12).await);
    assert_eq!(a, b, "same seed, same requests, same answers");
    assert_ne!(a, c, "another seed decides otherwise");
}

#[tokio::test]
async fn adversarial_pages_are_short_sometimes_empty_change_token_format_and_lose_nothing() {
    let env = env().await;
    for i in 0..23 {
        env.create_user(&format!("page{i:02}"), &format!("Pager {i:02}")).await;
    }
    let r = put_realism(
        &env,
        json!({"profile": "adversarial", "seed": 5, "latencyP50Ms": 0, "latencyP99Ms": 0,
                                      "randomFaults": {}, "throttling": false}),
    )
    .await;
    assert_eq!(r.status, 200);
    let mut url = env.url("/users?$top=5&$filter=startswith(displayName,'Pager')&$select=id,displayName");
    let (mut names, mut sizes, mut formats, mut extra) = (Vec::new(), Vec::new(), Vec::new(), false);
    for _ in 0..100 {
        let page = env.send(env.http.get(&url).bearer_auth(&env.token)).await;
        assert_eq!(page.status, 200, "{}", page.text);
        let body = page.json();
        let items = body["value"].as_array().cloned().unwrap_or_default();
        sizes.push(items.len());
        for item in &items {
            names.push(item["displayName"].as_str().unwrap().to_owned());
            extra |= item.get("resilienceSettings").is_some();
        }
        match body["@odata.nextLink"].as_str() {
            Some(next) => {
                let token = next.split("$skiptoken=").nth(1).unwrap_or_default();
                formats.push(token.starts_with("X%27"));
                url = next.to_owned();
            }
            None => break,
        }
    }
    let expected: Vec<String> = (0..23).map(|i| format!("Pager {i:02}")).collect();
    names.sort();
    assert_eq!(names, expected, "every user exactly once");
    assert!(sizes.contains(&0), "an empty page that still links on: {sizes:?}");
    assert!(sizes.iter().any(|s| (1..5).contains(s)), "a page shorter than $top: {sizes:?}");
    assert!(formats.windows(2).any(|w| w[0] != w[1]), "skip token formats change: {formats:?}");
    assert!(extra, "unknown properties appear");
}

#[tokio::test]
async fn a_builder_realism_setting_applies_to_the_default_tenant_and_reset_keeps_it() {
    let builder = graphbox_mock::Graphbox::builder()
        .realism(graphbox_mock::RealismConfig::new(graphbox_mock::RealismProfile::Adversarial, 99));
    let env = env_with(builder).await;
    let view = env.send(env.http.get(control(&env, "realism"))).await.json();
    assert_eq!((view["profile"].as_str(), view["seed"].as_u64()), (Some("adversarial"), Some(99)));
    assert_eq!(env.send(env.http.post(control(&env, "reset"))).await.status, 200);
    let view = env.send(env.http.get(control(&env, "realism"))).await.json();
    assert_eq!(view["profile"].as_str(), Some("adversarial"), "a reset tenant keeps its realism");
}

#[tokio::test]
async fn a_saved_tenant_keeps_its_realism_and_loads_it_back() {
    let env = env().await;
    entra(&env, json!({})).await;
    let state = env.send(env.http.get(control(&env, "state"))).await.json();
    assert_eq!(put_realism(&env, json!({"profile": "off"})).await.status, 200);
    let loaded = env.send(env.http.put(control(&env, "state")).json(&state)).await;
    assert_eq!(loaded.status, 200, "{}", loaded.text);
    let view = env.send(env.http.get(control(&env, "realism"))).await.json();
    assert_eq!((view["profile"].as_str(), view["seed"].as_u64()), (Some("entra"), Some(7)));
    let mut old = state.clone();
    old.as_object_mut().unwrap().remove("realism");
    assert_eq!(
        env.send(env.http.put(control(&env, "state")).json(&old)).await.status,
        200,
        "a file from before realism loads"
    );
    let view = env.send(env.http.get(control(&env, "realism"))).await.json();
    assert_eq!(view["profile"].as_str(), Some("off"));
}

#[test]
fn the_binary_takes_realism_flags_logs_the_seed_and_refuses_an_unknown_profile() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let dir = std::env::temp_dir().join(format!("graphbox-it-{}-realism", std::process::id()));
    let bin = env!("CARGO_BIN_EXE_graphbox-mock");
    let bad = Command::new(bin)
        .args(["serve", "--port", "0", "--plain-http", "--realism", "kind", "--data-dir"])
        .arg(&dir)
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown profile 'kind'; use off, entra or adversarial"));
    let mut child = Command::new(bin)
        .args(["serve", "--port", "0", "--plain-http", "--realism", "adversarial", "--realism-seed", "9", "--data-dir"])
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let line = crate::support::first_line(&mut child, "the server's ready line");
    let ready: Value = serde_json::from_str(&line).expect("ready JSON");
    let url =
        format!("{}/tenants/{}/realism", ready["control_url"].as_str().unwrap(), ready["tenant_id"].as_str().unwrap());
    let view: Value = tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(async { reqwest::get(&url).await.expect("answers").json().await.expect("JSON") });
    assert_eq!((view["profile"].as_str(), view["seed"].as_u64()), (Some("adversarial"), Some(9)));
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill runs");
    crate::support::wait_within(&mut child, "the server after SIGTERM");
    let mut logs = String::new();
    child.stderr.take().expect("piped").read_to_string(&mut logs).expect("stderr");
    // Colours off: drop the escape sequences a terminal would read.
    let mut plain = String::new();
    let mut chars = logs.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().take_while(|c| *c != 'm').for_each(drop);
        } else {
            plain.push(c);
        }
    }
    assert!(plain.contains("realism in force") && plain.contains("seed=9"), "{plain}");
    let _ = std::fs::remove_dir_all(&dir);
}
