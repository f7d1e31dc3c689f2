//! Forks and named snapshots: a fork holds its origin's objects (same ids and
//! UPNs) under its own tenant id and credentials, and from then on neither
//! sees the other's writes; a snapshot is a point a tenant returns to.

use serde_json::{json, Value};

use crate::support::{env, token_for, Env};

/// A tenant reached through its own token.
struct Other {
    info: Value,
    token: String,
}

impl Other {
    async fn get(&self, env: &Env, path: &str) -> crate::support::Reply {
        env.send(env.http.get(env.url(path)).bearer_auth(&self.token)).await
    }
    async fn post(&self, env: &Env, path: &str, body: &Value) -> crate::support::Reply {
        env.send(env.http.post(env.url(path)).bearer_auth(&self.token).json(body)).await
    }
    async fn patch(&self, env: &Env, path: &str, body: &Value) -> crate::support::Reply {
        env.send(env.http.patch(env.url(path)).bearer_auth(&self.token).json(body)).await
    }
}

fn token_url(info: &Value) -> String {
    format!("{}/{}/oauth2/v2.0/token", info["authority"].as_str().unwrap(), info["tenant_id"].as_str().unwrap())
}

async fn fork(env: &Env, tenant: &str) -> Other {
    let r = env.send(env.http.post(format!("{}/tenants/{tenant}/fork", env.mock.control_url()))).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let info = r.json();
    let token = token_for(
        &env.http,
        &token_url(&info),
        info["client_id"].as_str().unwrap(),
        info["client_secret"].as_str().unwrap(),
    )
    .await;
    Other { info, token }
}

#[tokio::test]
async fn writes_to_a_fork_never_show_in_its_origin_or_siblings_and_the_reverse() {
    let env = env().await;
    let origin = env.mock.tenant_id().to_string();
    let shared = env.create_user("shared", "Before the fork").await;
    let a = fork(&env, &origin).await;
    let b = fork(&env, &origin).await;
    assert_ne!(a.info["tenant_id"], json!(origin));
    assert_ne!(a.info["tenant_id"], b.info["tenant_id"]);
    assert_eq!(a.info["tenant_domain"], json!(env.mock.tenant_domain()), "same domain, same UPNs");
    assert_ne!(a.info["client_secret"], json!(env.mock.client_secret()), "its own bootstrap secret");

    // Same object, same id and UPN, in every copy.
    for t in [&a, &b] {
        let r = t.get(&env, &format!("/users/{}", env.upn("shared"))).await;
        assert_eq!((r.status, r.json()["id"].as_str()), (200, Some(shared.as_str())), "{}", r.text);
    }
    // A write in fork a shows nowhere else.
    assert_eq!(a.patch(&env, &format!("/users/{shared}"), &json!({"displayName": "Changed in a"})).await.status, 204);
    let only_a = a.post(&env, "/users", &crate::support::new_user(&env.upn("only-a"), "Only in a")).await;
    assert_eq!(only_a.status, 201, "{}", only_a.text);
    assert_eq!(env.get(&format!("/users/{shared}")).await.json()["displayName"], "Before the fork");
    assert_eq!(b.get(&env, &format!("/users/{shared}")).await.json()["displayName"], "Before the fork");
    assert_eq!(env.get(&format!("/users/{}", env.upn("only-a"))).await.status, 404);
    assert_eq!(b.get(&env, &format!("/users/{}", env.upn("only-a"))).await.status, 404);
    // And a write in the origin shows in no fork.
    env.create_user("only-origin", "Only in the origin").await;
    assert_eq!(a.get(&env, &format!("/users/{}", env.upn("only-origin"))).await.status, 404);
    assert_eq!(b.get(&env, &format!("/users/{}", env.upn("only-origin"))).await.status, 404);
    assert_eq!(a.get(&env, &format!("/users/{shared}")).await.json()["displayName"], "Changed in a");
}

#[tokio::test]
async fn one_tenants_credentials_and_tokens_are_refused_by_its_fork() {
    let env = env().await;
    let origin = env.mock.tenant_id().to_string();
    let a = fork(&env, &origin).await;
    // The origin's bootstrap secret does not get a token from the fork.
    let r = env
        .send(env.http.post(token_url(&a.info)).form(&[
            ("grant_type", "client_credentials"),
            ("client_id", a.info["client_id"].as_str().unwrap()),
            ("client_secret", env.mock.client_secret()),
            ("scope", "https://graph.microsoft.com/.default"),
        ]))
        .await;
    assert_eq!((r.status, r.json()["error"].as_str()), (401, Some("invalid_client")), "{}", r.text);
    // Nor does the fork's secret from the origin.
    let r = env
        .send(env.http.post(env.mock.token_url()).form(&[
            ("grant_type", "client_credentials"),
            ("client_id", a.info["client_id"].as_str().unwrap()),
            ("client_secret", a.info["client_secret"].as_str().unwrap()),
            ("scope", "https://graph.microsoft.com/.default"),
        ]))
        .await;
    assert_eq!(r.status, 401, "{}", r.text);
    // The fork's admin signs in to the fork with its own password only.
    let password = |tenant: &Value, pw: &str| {
        env.http.post(token_url(tenant)).form(&[
            ("grant_type", "password"),
            ("client_id", tenant["client_id"].as_str().unwrap()),
            ("username", tenant["admin_username"].as_str().unwrap()),
            ("password", pw),
            ("scope", "https://graph.microsoft.com/User.Read"),
        ])
    };
    assert_eq!(env.send(password(&a.info, a.info["admin_password"].as_str().unwrap())).await.status, 200);
    assert_eq!(env.send(password(&a.info, env.mock.admin_password())).await.status, 400);
    // A token names its tenant: the fork's token reads the fork, whose
    // admin sign-in went to the fork's tenant id.
    env.create_user("origin-only", "Origin").await;
    assert_eq!(a.get(&env, &format!("/users/{}", env.upn("origin-only"))).await.status, 404);
}

#[tokio::test]
async fn a_fork_keeps_the_origins_verified_names_with_the_origin() {
    let env = env().await;
    assert_eq!(env.post("/domains", &json!({"id": "kept.example"})).await.status, 201);
    assert_eq!(env.post("/domains/kept.example/verify", &json!({})).await.status, 200);
    let a = fork(&env, &env.mock.tenant_id().to_string()).await;
    let theirs = a.get(&env, "/domains/kept.example").await;
    assert_eq!(theirs.json()["isVerified"], true, "usable for the fork's UPNs: {}", theirs.text);
    let user = a.post(&env, "/users", &crate::support::new_user("new@kept.example", "On a borrowed name")).await;
    assert_eq!(user.status, 201, "{}", user.text);
    // Resolving the name still reaches the origin.
    let discovery = env
        .send(env.http.get(format!("{}/kept.example/v2.0/.well-known/openid-configuration", env.mock.authority())))
        .await;
    assert!(discovery.json()["issuer"].as_str().unwrap().contains(&env.mock.tenant_id().to_string()));
}

#[tokio::test]
async fn a_snapshot_is_a_point_the_tenant_returns_to() {
    let env = env().await;
    let control = format!("{}/tenants/{}", env.mock.control_url(), env.mock.tenant_id());
    let kept = env.create_user("kept", "Kept").await;
    let r = env.send(env.http.post(format!("{control}/snapshots")).json(&json!({"name": "seeded"}))).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let again = env.send(env.http.post(format!("{control}/snapshots")).json(&json!({"name": "seeded"}))).await;
    assert_eq!(again.status, 409, "{}", again.text);
    let bad = env.send(env.http.post(format!("{control}/snapshots")).json(&json!({"name": ""}))).await;
    assert_eq!(bad.status, 400, "{}", bad.text);

    env.create_user("later", "Made after the snapshot").await;
    assert_eq!(env.patch(&format!("/users/{kept}"), &json!({"displayName": "Changed"})).await.status, 204);
    let r = env.send(env.http.post(format!("{control}/snapshots/seeded/restore"))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(env.get(&format!("/users/{}", env.upn("later"))).await.status, 404);
    assert_eq!(env.get(&format!("/users/{kept}")).await.json()["displayName"], "Kept");
    // The snapshot stays: restoring twice gives the same point.
    env.create_user("later", "Made again").await;
    assert_eq!(env.send(env.http.post(format!("{control}/snapshots/seeded/restore"))).await.status, 200);
    assert_eq!(env.get(&format!("/users/{}", env.upn("later"))).await.status, 404);

    let list = env.send(env.http.get(format!("{control}/snapshots"))).await.json();
    assert_eq!(list["snapshots"][0]["name"], "seeded");
    let missing = env.send(env.http.post(format!("{control}/snapshots/nope/restore"))).await;
    assert_eq!(missing.status, 404, "{}", missing.text);
}

#[tokio::test]
async fn graphbox_fork_tenant_forks_from_rust() {
    let env = env().await;
    env.create_user("rusty", "From Rust").await;
    let info = env.mock.fork_tenant(env.mock.tenant_id()).expect("the default tenant exists");
    assert_ne!(info.tenant_id, env.mock.tenant_id());
    assert!(env.mock.fork_tenant(uuid::Uuid::nil()).is_none());
    let value = serde_json::to_value(&info).unwrap();
    let token = token_for(&env.http, &token_url(&value), &info.client_id.to_string(), &info.client_secret).await;
    let r = env.send(env.http.get(env.url(&format!("/users/{}", env.upn("rusty")))).bearer_auth(&token)).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn a_fork_and_its_writes_survive_a_restart_from_the_journal() {
    let dir = std::env::temp_dir().join(format!("graphbox-it-{}-fork-journal", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("state.json");
    let env = crate::support::env_with(graphbox_mock::Graphbox::builder().state_file(&state)).await;
    assert_eq!(env.post("/domains", &json!({"id": "held.example"})).await.status, 201);
    assert_eq!(env.post("/domains/held.example/verify", &json!({})).await.status, 200);
    let a = fork(&env, &env.mock.tenant_id().to_string()).await;
    let made = a.post(&env, "/users", &crate::support::new_user(&env.upn("forked"), "In the fork")).await;
    assert_eq!(made.status, 201, "{}", made.text);
    // No save: what was acknowledged is in the journal only.
    let Env { mock, .. } = env;
    drop(mock);

    let env = crate::support::env_with(graphbox_mock::Graphbox::builder().state_file(&state)).await;
    let token = token_for(
        &env.http,
        &token_url(&json!({"authority": env.mock.authority(), "tenant_id": a.info["tenant_id"]})),
        a.info["client_id"].as_str().unwrap(),
        a.info["client_secret"].as_str().unwrap(),
    )
    .await;
    let again = Other { info: a.info.clone(), token };
    assert_eq!(again.get(&env, &format!("/users/{}", env.upn("forked"))).await.status, 200);
    assert_eq!(env.get(&format!("/users/{}", env.upn("forked"))).await.status, 404);
    let discovery = env
        .send(env.http.get(format!("{}/held.example/v2.0/.well-known/openid-configuration", env.mock.authority())))
        .await;
    assert!(discovery.json()["issuer"].as_str().unwrap().contains(&env.mock.tenant_id().to_string()));
    let _ = std::fs::remove_dir_all(&dir);
}
