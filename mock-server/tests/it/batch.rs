//! JSON `$batch`.

use serde_json::{json, Value};

use crate::support::env;

#[tokio::test]
async fn a_batch_runs_each_request_and_a_failed_dependency_gets_424() {
    let env = env().await;
    let upn = env.upn("batchuser");
    let body = json!({"requests": [
        {"id": "a", "method": "POST", "url": "/users", "headers": {"Content-Type": "application/json"},
         "body": {"accountEnabled": true, "displayName": "Batch User", "mailNickname": "batchuser", "userPrincipalName": upn,
                  "passwordProfile": {"forceChangePasswordNextSignIn": true, "password": "Qw!9r-Tz7m#Lp2"}}},
        {"id": "b", "method": "GET", "url": "/users?$filter=startswith(displayName,'Batch')&$select=displayName"},
        {"id": "c", "dependsOn": ["a"], "method": "PATCH", "url": format!("/users/{upn}"),
         "headers": {"Content-Type": "application/json"}, "body": {"usageLocation": "SE"}},
        {"id": "d", "method": "POST", "url": "/users", "headers": {"Content-Type": "application/json"},
         "body": {"displayName": "missing everything"}},
        {"id": "e", "dependsOn": ["d"], "method": "GET", "url": "/users"}
    ]});
    let r = env.post("/$batch", &body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut out = env.normalize(r.json());
    for resp in out["responses"].as_array_mut().unwrap() {
        if let Some(id) = resp["body"].get_mut("id") {
            *id = json!("[id]");
        }
        if let Some(inner) = resp["body"].get_mut("error").and_then(|e| e.get_mut("innerError")) {
            *inner = json!("[inner]");
        }
        if let Some(loc) = resp.get_mut("headers").and_then(|h| h.get_mut("Location")) {
            *loc = json!("[location]");
        }
    }
    insta::assert_json_snapshot!(out);
    let user = env.get(&format!("/users/{upn}?$select=usageLocation")).await.json();
    assert_eq!(user["usageLocation"], "SE", "the dependent PATCH ran after the create");
}

#[tokio::test]
async fn malformed_batches_are_refused_whole() {
    let env = env().await;
    let too_many: Vec<Value> =
        (0..21).map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/users"})).collect();
    let cases = [
        ("too_many", json!({"requests": too_many})),
        (
            "duplicate_ids",
            json!({"requests": [{"id": "1", "method": "GET", "url": "/users"}, {"id": "1", "method": "GET", "url": "/users"}]}),
        ),
        (
            "absolute_url",
            json!({"requests": [{"id": "1", "method": "GET", "url": "https://graph.microsoft.com/v1.0/users"}]}),
        ),
        (
            "nested",
            json!({"requests": [{"id": "1", "method": "POST", "url": "/$batch", "headers": {"Content-Type": "application/json"}, "body": {}}]}),
        ),
        (
            "body_without_content_type",
            json!({"requests": [{"id": "1", "method": "POST", "url": "/users", "body": {}}]}),
        ),
        (
            "unknown_dependency",
            json!({"requests": [{"id": "1", "method": "GET", "url": "/users", "dependsOn": ["9"]}]}),
        ),
        (
            "cycle",
            json!({"requests": [{"id": "1", "method": "GET", "url": "/users", "dependsOn": ["2"]}, {"id": "2", "method": "GET", "url": "/users", "dependsOn": ["1"]}]}),
        ),
    ];
    let mut seen = serde_json::Map::new();
    for (name, body) in cases {
        let r = env.post("/$batch", &body).await;
        assert_eq!(r.status, 400, "{name}: {}", r.text);
        seen.insert(name.to_owned(), json!({"code": r.error_code(), "message": r.error_message()}));
    }
    insta::assert_json_snapshot!(Value::Object(seen));
}
