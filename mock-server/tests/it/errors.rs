//! Graph's error envelope for every failure (reference/graph-wire.md §2).

use serde_json::json;

use crate::support::env;

#[tokio::test]
async fn every_error_kind_has_graphs_envelope_and_headers() {
    let env = env().await;
    let huge = "x".repeat(5 * 1024 * 1024);
    let cases: Vec<(&str, reqwest::RequestBuilder)> = vec![
        ("no_token", env.http.get(env.url("/users"))),
        ("garbage_token", env.http.get(env.url("/users")).bearer_auth("not-a-jwt")),
        ("unknown_segment", env.http.get(env.url("/nosuchthing")).bearer_auth(&env.token)),
        ("unknown_navigation", env.http.get(env.url("/users/someone@x.test/nosuchnav")).bearer_auth(&env.token)),
        ("unknown_user", env.http.get(env.url("/users/9f0d3c1e-aaaa-4bbb-8ccc-123456789abc")).bearer_auth(&env.token)),
        ("wrong_method", env.http.put(env.url("/users")).bearer_auth(&env.token).json(&json!({}))),
        (
            "malformed_json",
            env.http
                .post(env.url("/users"))
                .bearer_auth(&env.token)
                .header("content-type", "application/json")
                .body("{\"displayName\": "),
        ),
        (
            "wrong_content_type",
            env.http.post(env.url("/users")).bearer_auth(&env.token).header("content-type", "text/plain").body("{}"),
        ),
        (
            "body_too_large",
            env.http
                .post(env.url("/users"))
                .bearer_auth(&env.token)
                .header("content-type", "application/json")
                .body(huge),
        ),
    ];
    let mut seen = serde_json::Map::new();
    for (name, req) in cases {
        let r = env.send(req.header("client-request-id", "7a1c-test")).await;
        assert!(r.header("content-type").unwrap().starts_with("application/json"), "{name}");
        assert!(r.header("request-id").is_some(), "{name}");
        assert_eq!(r.header("client-request-id"), Some("7a1c-test"), "{name}");
        let body = r.json();
        assert_eq!(body["error"]["innerError"]["client-request-id"], "7a1c-test", "{name}");
        assert_eq!(body["error"]["innerError"]["request-id"].as_str(), r.header("request-id"), "{name}");
        let date = body["error"]["innerError"]["date"].as_str().unwrap();
        assert_eq!(date.len(), 19, "innerError.date has no zone and no fraction: {date}");
        let mut entry = json!({"status": r.status, "error": body["error"]});
        entry["error"]["innerError"] = json!("[inner]");
        if r.status == 401 {
            entry["www-authenticate"] = json!(r.header("www-authenticate"));
        }
        seen.insert(name.to_owned(), entry);
    }
    insta::assert_json_snapshot!(serde_json::Value::Object(seen));
}

#[tokio::test]
async fn a_token_past_its_expiry_on_the_tenant_clock_is_refused() {
    let env = env().await;
    assert_eq!(env.get("/users").await.status, 200);
    let advance = env
        .http
        .post(format!("{}/tenants/{}/clock/advance", env.mock.control_url(), env.mock.tenant_id()))
        .json(&json!({"seconds": 3600}))
        .send()
        .await
        .unwrap();
    assert_eq!(advance.status(), 200);
    let r = env.get("/users").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.error_code(), "InvalidAuthenticationToken");
    assert_eq!(r.error_message(), "Access token has expired or is not yet valid.");
}

#[tokio::test]
async fn a_token_for_another_resource_is_refused_with_invalid_audience() {
    let env = env().await;
    let res = env
        .http
        .post(env.mock.token_url())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &env.mock.client_id().to_string()),
            ("client_secret", env.mock.client_secret()),
            ("scope", "https://graph.windows.net/.default"),
        ])
        .send()
        .await
        .unwrap();
    let token = res.json::<serde_json::Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();
    let r = env.send(env.http.get(env.url("/users")).bearer_auth(token)).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.error_message(), "Access token validation failure. Invalid audience.");
}

#[tokio::test]
async fn a_token_with_a_forged_signature_is_refused() {
    let env = env().await;
    let mut parts: Vec<String> = env.token.split('.').map(str::to_owned).collect();
    let sig = parts[2].clone();
    parts[2] = format!("{}{}", if sig.starts_with('A') { "B" } else { "A" }, &sig[1..]);
    let r = env.send(env.http.get(env.url("/users")).bearer_auth(parts.join("."))).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.error_code(), "InvalidAuthenticationToken");
}

#[tokio::test]
async fn odata_type_annotation_in_a_body_is_accepted_and_ignored() {
    let env = env().await;
    let id = env.create_user("typed", "Typed").await;
    let r = env.patch(&format!("/users/{id}"), &json!({"@odata.type": "#microsoft.graph.user", "jobTitle": "X"})).await;
    assert_eq!(r.status, 204, "{}", r.text);
}
