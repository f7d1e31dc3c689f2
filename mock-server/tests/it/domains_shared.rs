//! Verified domain names are one namespace across the server's tenants, as in
//! Entra: a second tenant may add a name another has verified, but not verify
//! it, and discovery keeps pointing at the tenant that holds it.

use serde_json::json;

use crate::support::{env, token_for, Env};

/// A second tenant from the control API, with a token for its bootstrap app.
async fn second_tenant(env: &Env) -> (String, String) {
    let r = env.send(env.http.post(format!("{}/tenants", env.mock.control_url()))).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let info = r.json();
    let token_url =
        format!("{}/{}/oauth2/v2.0/token", info["authority"].as_str().unwrap(), info["tenant_id"].as_str().unwrap());
    let token =
        token_for(&env.http, &token_url, info["client_id"].as_str().unwrap(), info["client_secret"].as_str().unwrap())
            .await;
    (info["tenant_id"].as_str().unwrap().to_owned(), token)
}

#[tokio::test]
async fn a_domain_verified_in_one_tenant_cannot_be_verified_in_another_and_discovery_stays_with_the_first() {
    let env = env().await;
    let (other_id, other_token) = second_tenant(&env).await;
    assert_eq!(env.post("/domains", &json!({"id": "shared.example"})).await.status, 201);
    assert_eq!(env.post("/domains/shared.example/verify", &json!({})).await.status, 200);

    let as_other = |req: reqwest::RequestBuilder| req.bearer_auth(&other_token);
    let added = env.send(as_other(env.http.post(env.url("/domains"))).json(&json!({"id": "shared.example"}))).await;
    assert_eq!(added.status, 201, "adding an unverified name is allowed: {}", added.text);
    let verify = env.send(as_other(env.http.post(env.url("/domains/shared.example/verify"))).json(&json!({}))).await;
    assert_eq!((verify.status, verify.error_code().as_str()), (400, "Request_BadRequest"), "{}", verify.text);
    assert!(verify.error_message().contains("already verified in a different organization"), "{}", verify.text);
    let theirs = env.send(as_other(env.http.get(env.url("/domains/shared.example")))).await;
    assert_eq!(theirs.json()["isVerified"], false);

    let discovery = env
        .send(env.http.get(format!("{}/shared.example/v2.0/.well-known/openid-configuration", env.mock.authority())))
        .await;
    assert_eq!(discovery.status, 200, "{}", discovery.text);
    let endpoint = discovery.json()["token_endpoint"].as_str().unwrap().to_owned();
    assert!(endpoint.contains(&env.mock.tenant_id().to_string()), "{endpoint}");
    assert!(!endpoint.contains(&other_id), "{endpoint}");
}

#[tokio::test]
async fn deleting_the_domain_lets_another_tenant_verify_it() {
    let env = env().await;
    let (_, other_token) = second_tenant(&env).await;
    env.post("/domains", &json!({"id": "moving.example"})).await;
    env.post("/domains/moving.example/verify", &json!({})).await;
    assert_eq!(env.delete("/domains/moving.example").await.status, 204);

    let as_other = |req: reqwest::RequestBuilder| req.bearer_auth(&other_token);
    env.send(as_other(env.http.post(env.url("/domains"))).json(&json!({"id": "moving.example"}))).await;
    let verify = env.send(as_other(env.http.post(env.url("/domains/moving.example/verify"))).json(&json!({}))).await;
    assert_eq!(verify.status, 200, "{}", verify.text);
}

#[tokio::test]
async fn a_domain_body_of_the_wrong_json_type_is_a_400_not_a_missing_value() {
    let env = env().await;
    let r = env.post("/domains", &json!({"id": 42})).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.error_message().contains("Edm.String"), "{}", r.text);
}
