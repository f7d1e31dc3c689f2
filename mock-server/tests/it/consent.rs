//! Admin consent and its effect on tokens.

use serde_json::{json, Value};

use crate::applications::{add_password, create_app, create_sp};
use crate::support::{env, Env};

const USER_READ_WRITE_ALL: &str = "741f803b-c850-494e-b5df-cde7c675a1ca";
const USER_READ_ALL: &str = "df021288-bdef-4463-88db-98f22de89214";
const APPLICATION_READ_WRITE_ALL: &str = "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9";

async fn graph_sp_id(env: &Env) -> String {
    env.get("/servicePrincipals(appId='00000003-0000-0000-c000-000000000000')?$select=id").await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A registered app with a service principal and a secret, and nothing granted.
pub(crate) struct App {
    pub(crate) app_id: String,
    pub(crate) sp_id: String,
    pub(crate) secret: String,
}

pub(crate) async fn new_app(env: &Env, name: &str) -> App {
    let app = create_app(env, name).await;
    let sp = create_sp(env, app["appId"].as_str().unwrap()).await;
    let secret = add_password(env, app["id"].as_str().unwrap()).await;
    App { app_id: app["appId"].as_str().unwrap().to_owned(), sp_id: sp["id"].as_str().unwrap().to_owned(), secret }
}

pub(crate) async fn grant(env: &Env, app: &App, app_role_id: &str) -> crate::support::Reply {
    let graph = graph_sp_id(env).await;
    env.post(
        &format!("/servicePrincipals/{graph}/appRoleAssignedTo"),
        &json!({"principalId": app.sp_id, "resourceId": graph, "appRoleId": app_role_id}),
    )
    .await
}

async fn token(env: &Env, app: &App) -> String {
    crate::support::token_for(&env.http, &env.mock.token_url(), &app.app_id, &app.secret).await
}

#[tokio::test]
async fn a_token_without_consent_is_issued_without_roles_and_graph_answers_403() {
    let env = env().await;
    let app = new_app(&env, "unconsented").await;
    let token = token(&env, &app).await;
    let payload = token.split('.').nth(1).unwrap();
    use base64::Engine;
    let claims: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert!(claims.get("roles").is_none(), "no consent, no roles claim: {claims}");
    let r = env.send(env.http.get(env.url("/users")).bearer_auth(&token)).await;
    assert_eq!(r.status, 403);
    insta::assert_json_snapshot!(r.json(), { ".error.innerError" => "[inner]" });
}

#[tokio::test]
async fn consent_reaches_only_tokens_issued_after_it() {
    let env = env().await;
    let app = new_app(&env, "consent-later").await;
    let before = token(&env, &app).await;
    let r = grant(&env, &app, USER_READ_WRITE_ALL).await;
    assert_eq!(r.status, 201, "{}", r.text);
    insta::assert_json_snapshot!(env.normalize(r.json()), {
        ".id" => "[opaque id]", ".principalId" => "[sp]", ".resourceId" => "[graph sp]", ".createdDateTime" => "[time]",
        "[\"@odata.context\"]" => "[context]"
    });
    let old = env.send(env.http.get(env.url("/users")).bearer_auth(&before)).await;
    assert_eq!(old.status, 403, "a token issued before consent keeps its old roles");
    let after = token(&env, &app).await;
    let new = env.send(env.http.get(env.url("/users")).bearer_auth(&after)).await;
    assert_eq!(new.status, 200);
}

#[tokio::test]
async fn app_role_assignment_validations_match_the_real_service() {
    let env = env().await;
    let app = new_app(&env, "validations").await;
    let graph = graph_sp_id(&env).await;
    assert_eq!(grant(&env, &app, USER_READ_ALL).await.status, 201);
    let duplicate = grant(&env, &app, USER_READ_ALL).await;
    let unknown_role = grant(&env, &app, "9f0d3c1e-aaaa-4bbb-8ccc-123456789abc").await;
    let missing_principal = env
        .post(&format!("/servicePrincipals/{graph}/appRoleAssignedTo"), &json!({"principalId": "9f0d3c1e-aaaa-4bbb-8ccc-123456789abc", "resourceId": graph, "appRoleId": USER_READ_ALL}))
        .await;
    let mismatched = env
        .post(
            &format!("/servicePrincipals/{}/appRoleAssignedTo", app.sp_id),
            &json!({"principalId": app.sp_id, "resourceId": graph, "appRoleId": USER_READ_ALL}),
        )
        .await;
    let mut seen = serde_json::Map::new();
    for (name, r) in [
        ("duplicate", duplicate),
        ("unknown_app_role", unknown_role),
        ("missing_principal", missing_principal),
        ("resource_mismatch", mismatched),
    ] {
        let mut body = r.json();
        body["error"]["innerError"] = json!("[inner]");
        seen.insert(name.to_owned(), json!({"status": r.status, "error": body["error"]}));
    }
    insta::assert_json_snapshot!(env.normalize(Value::Object(seen)), {
        ".missing_principal.error.message" => "[names the principal]", ".resource_mismatch.error.message" => "[names both ids]"
    });
}

#[tokio::test]
async fn application_read_write_all_alone_cannot_grant_microsoft_graph_app_roles() {
    let env = env().await;
    let granter = new_app(&env, "granter").await;
    assert_eq!(grant(&env, &granter, APPLICATION_READ_WRITE_ALL).await.status, 201);
    let granter_token = token(&env, &granter).await;
    let target = new_app(&env, "target").await;
    let graph = graph_sp_id(&env).await;
    let r = env
        .send(
            env.http
                .post(env.url(&format!("/servicePrincipals/{graph}/appRoleAssignedTo")))
                .bearer_auth(&granter_token)
                .json(&json!({"principalId": target.sp_id, "resourceId": graph, "appRoleId": USER_READ_ALL})),
        )
        .await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn revoking_an_assignment_removes_the_role_from_new_tokens() {
    let env = env().await;
    let app = new_app(&env, "revoked").await;
    let created = grant(&env, &app, USER_READ_ALL).await.json();
    let graph = graph_sp_id(&env).await;
    let listed = env.get(&format!("/servicePrincipals/{}/appRoleAssignments", app.sp_id)).await.json();
    assert_eq!(listed["value"].as_array().unwrap().len(), 1);
    let id = created["id"].as_str().unwrap();
    assert_eq!(env.delete(&format!("/servicePrincipals/{graph}/appRoleAssignedTo/{id}")).await.status, 204);
    let t = token(&env, &app).await;
    assert_eq!(env.send(env.http.get(env.url("/users")).bearer_auth(&t)).await.status, 403);
}

#[tokio::test]
async fn a_403_for_every_permission_family_without_its_permission() {
    let env = env().await;
    let app = new_app(&env, "reader").await;
    assert_eq!(grant(&env, &app, USER_READ_ALL).await.status, 201);
    let t = token(&env, &app).await;
    let graph = graph_sp_id(&env).await;
    let checks: Vec<(&str, reqwest::RequestBuilder)> = vec![
        ("users.create", env.http.post(env.url("/users")).json(&crate::support::new_user(&env.upn("x"), "X"))),
        ("users.delete", env.http.delete(env.url(&format!("/users/{}", env.mock.admin_username())))),
        ("applications.list", env.http.get(env.url("/applications"))),
        ("applications.create", env.http.post(env.url("/applications")).json(&json!({"displayName": "x"}))),
        ("servicePrincipals.get", env.http.get(env.url(&format!("/servicePrincipals/{graph}")))),
        (
            "appRoleAssignedTo.create",
            env.http
                .post(env.url(&format!("/servicePrincipals/{graph}/appRoleAssignedTo")))
                .json(&json!({"principalId": app.sp_id, "resourceId": graph, "appRoleId": USER_READ_WRITE_ALL})),
        ),
        ("oauth2PermissionGrants.list", env.http.get(env.url("/oauth2PermissionGrants"))),
        (
            "deletedItems.restore",
            env.http.post(env.url(&format!("/directory/deletedItems/{}/restore", app.sp_id))).json(&json!({})),
        ),
    ];
    for (name, req) in checks {
        let r = env.send(req.bearer_auth(&t)).await;
        assert!(
            r.status == 403 || (name == "deletedItems.restore" && r.status == 404),
            "{name}: {} {}",
            r.status,
            r.text
        );
    }
    assert_eq!(
        env.send(env.http.get(env.url("/users")).bearer_auth(&t)).await.status,
        200,
        "User.Read.All still reads users"
    );
}

#[tokio::test]
async fn delegated_consent_is_an_oauth2_permission_grant() {
    let env = env().await;
    let app = new_app(&env, "delegated-client").await;
    let graph = graph_sp_id(&env).await;
    let r = env
        .post("/oauth2PermissionGrants", &json!({"clientId": app.sp_id, "consentType": "AllPrincipals", "principalId": null, "resourceId": graph, "scope": "User.Read Directory.AccessAsUser.All"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    insta::assert_json_snapshot!(env.normalize(r.json()), { ".id" => "[opaque id]", ".clientId" => "[sp]", ".resourceId" => "[graph sp]" });
    let dup = env
        .post("/oauth2PermissionGrants", &json!({"clientId": app.sp_id, "consentType": "AllPrincipals", "principalId": null, "resourceId": graph, "scope": "User.Read"}))
        .await;
    assert_eq!(dup.status, 409);
    let bad_scope = env
        .post("/oauth2PermissionGrants", &json!({"clientId": app.sp_id, "consentType": "Principal", "principalId": env.get(&format!("/users/{}", env.mock.admin_username())).await.json()["id"], "resourceId": graph, "scope": "Not.A.Scope"}))
        .await;
    assert_eq!(bad_scope.status, 400);
    let filtered = env.get(&format!("/oauth2PermissionGrants?$filter=clientId eq '{}'", app.sp_id)).await.json();
    assert_eq!(filtered["value"].as_array().unwrap().len(), 1);
}
