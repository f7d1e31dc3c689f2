//! Sensitive actions on users: an application permission says which operation
//! an app may call, its directory role which users it may touch with a password
//! reset, a sensitive property, enable/disable, delete, restore or permanent
//! delete. One test per row of Graph's tables the mock models, app-only and
//! delegated, allowed and refused.

use serde_json::{json, Value};

use crate::consent::{grant, new_app, App};
use crate::support::{env, Env, Reply};

const USER_READ_WRITE_ALL: &str = "741f803b-c850-494e-b5df-cde7c675a1ca";
const GLOBAL_ADMINISTRATOR: &str = "62e90394-69f5-4237-9190-012177145e10";
const USER_ADMINISTRATOR: &str = "fe930be7-5e62-47db-91af-98c3a49a38b1";
const PRIVILEGED_AUTHENTICATION_ADMINISTRATOR: &str = "7be44c8a-adaf-4e2a-84d6-ab2649e08a13";
const PASSWORD_ADMINISTRATOR: &str = "966707d0-3269-4727-9be2-8c3a10f19b9d";
const HELPDESK_ADMINISTRATOR: &str = "729827e3-9c14-49f7-bb1b-9608f156bbb8";
const AUTHENTICATION_ADMINISTRATOR: &str = "c4e39bd9-1100-46d3-8c65-fb160da0071f";
const REPORTS_READER: &str = "4a5d8f65-41da-4de4-8968-e035b65339cf";
const NEW_PASSWORD: &str = "Qz8!nR4#vLp2";

/// Give `principal` a directory role tenant-wide; returns the assignment id.
async fn assign(env: &Env, principal: &str, role: &str) -> String {
    let r = env
        .post(
            "/roleManagement/directory/roleAssignments",
            &json!({"principalId": principal, "roleDefinitionId": role, "directoryScopeId": "/"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()["id"].as_str().unwrap().to_owned()
}

/// An app consented `User.ReadWrite.All` whose service principal holds `roles`.
async fn app_holding(env: &Env, name: &str, roles: &[&str]) -> App {
    let app = new_app(env, name).await;
    assert_eq!(grant(env, &app, USER_READ_WRITE_ALL).await.status, 201);
    for role in roles {
        assign(env, &app.sp_id, role).await;
    }
    app
}

async fn token(env: &Env, app: &App) -> String {
    crate::support::token_for(&env.http, &env.mock.token_url(), &app.app_id, &app.secret).await
}

/// A user holding `roles`, with the password of `support::new_user`.
async fn user_holding(env: &Env, local: &str, roles: &[&str]) -> String {
    let id = env.create_user(local, local).await;
    for role in roles {
        assign(env, &id, role).await;
    }
    id
}

async fn admin_id(env: &Env) -> String {
    env.get(&format!("/users/{}", env.mock.admin_username())).await.json()["id"].as_str().unwrap().to_owned()
}

fn reset(password: &str) -> Value {
    json!({"passwordProfile": {"password": password, "forceChangePasswordNextSignIn": false}})
}

async fn patch_as(env: &Env, token: &str, user: &str, body: &Value) -> Reply {
    env.send(env.http.patch(env.url(&format!("/users/{user}"))).bearer_auth(token).json(body)).await
}

async fn delete_as(env: &Env, token: &str, path: &str) -> Reply {
    env.send(env.http.delete(env.url(path)).bearer_auth(token)).await
}

async fn restore_as(env: &Env, token: &str, user: &str) -> Reply {
    env.send(env.http.post(env.url(&format!("/directory/deletedItems/{user}/restore"))).bearer_auth(token)).await
}

/// A delegated token for `username` through the bootstrap client.
async fn signed_in(env: &Env, username: &str, password: &str) -> String {
    let client_id = env.mock.client_id().to_string();
    let r = env
        .send(env.http.post(env.mock.token_url()).form(&[
            ("grant_type", "password"),
            ("client_id", client_id.as_str()),
            ("username", username),
            ("password", password),
            ("scope", "https://graph.microsoft.com/User.ReadWrite.All"),
        ]))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["access_token"].as_str().unwrap().to_owned()
}

fn assert_refused(r: &Reply) {
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(r.error_code(), "Authorization_RequestDenied");
    assert_eq!(r.error_message(), "Insufficient privileges to complete the operation.");
}

/// The 403 on the wire, with its per-request ids and date redacted.
fn wire(r: &Reply) -> Value {
    assert_refused(r);
    let mut body = r.json();
    for key in ["date", "request-id", "client-request-id"] {
        if body["error"]["innerError"].get(key).is_some() {
            body["error"]["innerError"][key] = json!(format!("[{key}]"));
        }
    }
    body
}

// ---- app-only, no role -------------------------------------------------------

#[tokio::test]
async fn app_only_without_a_role_cannot_reset_the_global_administrators_password() {
    let env = env().await;
    let app = app_holding(&env, "no-role", &[]).await;
    let t = token(&env, &app).await;
    let admin = admin_id(&env).await;
    let r = patch_as(&env, &t, &admin, &reset(NEW_PASSWORD)).await;
    insta::assert_json_snapshot!(wire(&r));
    // Nothing changed: the administrator still signs in with the old password.
    signed_in(&env, env.mock.admin_username(), env.mock.admin_password()).await;
}

#[tokio::test]
async fn app_only_without_a_role_cannot_delete_the_global_administrator() {
    let env = env().await;
    let app = app_holding(&env, "no-role", &[]).await;
    let t = token(&env, &app).await;
    let admin = admin_id(&env).await;
    let r = delete_as(&env, &t, &format!("/users/{admin}")).await;
    insta::assert_json_snapshot!(wire(&r));
    assert_eq!(env.get(&format!("/users/{admin}")).await.status, 200, "still there");
}

#[tokio::test]
async fn app_only_without_a_role_cannot_reset_a_non_administrators_password() {
    let env = env().await;
    let app = app_holding(&env, "no-role", &[]).await;
    let t = token(&env, &app).await;
    let member = user_holding(&env, "plain.member", &[]).await;
    let r = patch_as(&env, &t, &member, &reset(NEW_PASSWORD)).await;
    insta::assert_json_snapshot!(wire(&r));
}

#[tokio::test]
async fn app_only_without_a_role_may_change_a_non_administrators_sensitive_attributes_and_delete_them() {
    let env = env().await;
    let app = app_holding(&env, "no-role", &[]).await;
    let t = token(&env, &app).await;
    let member = user_holding(&env, "plain.member", &[]).await;
    let body = json!({
        "accountEnabled": false, "mobilePhone": "+61 2 5550 1234", "businessPhones": ["+61 2 5550 9876"],
        "otherMails": ["pm@example.org"], "onPremisesImmutableId": "cGxhaW4tbWVtYmVy",
        "userPrincipalName": env.upn("plain.member2"),
    });
    let r = patch_as(&env, &t, &member, &body).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = delete_as(&env, &t, &format!("/users/{member}")).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(restore_as(&env, &t, &member).await.status, 200);
}

#[tokio::test]
async fn app_only_without_a_role_cannot_change_an_administrators_sensitive_attributes() {
    let env = env().await;
    let app = app_holding(&env, "no-role", &[]).await;
    let t = token(&env, &app).await;
    let user_admin = user_holding(&env, "helpful.admin", &[USER_ADMINISTRATOR]).await;
    for body in [
        json!({"accountEnabled": false}),
        json!({"mobilePhone": "+61 2 5550 1234"}),
        json!({"onPremisesImmutableId": "aGVscGZ1bC1hZG1pbg=="}),
        json!({"userPrincipalName": env.upn("helpful.admin2")}),
    ] {
        assert_refused(&patch_as(&env, &t, &user_admin, &body).await);
    }
    let r = patch_as(&env, &t, &user_admin, &json!({"accountEnabled": false})).await;
    insta::assert_json_snapshot!(wire(&r));
    // What is not sensitive needs no role.
    let r = patch_as(&env, &t, &user_admin, &json!({"jobTitle": "Administrator"})).await;
    assert_eq!(r.status, 204, "{}", r.text);
}

#[tokio::test]
async fn app_only_without_a_role_cannot_restore_or_permanently_delete_an_administrator() {
    let env = env().await;
    let app = app_holding(&env, "no-role", &[]).await;
    let t = token(&env, &app).await;
    let admin2 = user_holding(&env, "second.global", &[GLOBAL_ADMINISTRATOR]).await;
    assert_eq!(
        env.delete(&format!("/users/{admin2}")).await.status,
        204,
        "the bootstrap app is a Global Administrator"
    );
    let restore = restore_as(&env, &t, &admin2).await;
    let purge = delete_as(&env, &t, &format!("/directory/deletedItems/{admin2}")).await;
    insta::assert_json_snapshot!(json!({"restore": wire(&restore), "permanentDelete": wire(&purge)}));
    assert_eq!(env.get(&format!("/directory/deletedItems/{admin2}")).await.status, 200, "still restorable");
}

#[tokio::test]
async fn a_refusal_for_the_target_comes_after_the_body_and_the_lookup() {
    let env = env().await;
    let app = app_holding(&env, "no-role", &[]).await;
    let t = token(&env, &app).await;
    let admin = admin_id(&env).await;
    let unknown = "00000000-0000-4000-8000-000000000001";
    assert_eq!(patch_as(&env, &t, unknown, &reset(NEW_PASSWORD)).await.status, 404);
    assert_eq!(patch_as(&env, &t, &admin, &reset("short")).await.status, 400, "password complexity first");
    assert_eq!(patch_as(&env, &t, &admin, &json!({"notAProperty": 1})).await.status, 400);
    assert_eq!(delete_as(&env, &t, &format!("/users/{unknown}")).await.status, 404);
}

// ---- app-only, User Administrator ------------------------------------------------

#[tokio::test]
async fn app_only_user_administrator_may_reset_a_non_administrators_password() {
    let env = env().await;
    let app = app_holding(&env, "user-admin", &[USER_ADMINISTRATOR]).await;
    let t = token(&env, &app).await;
    let member = user_holding(&env, "plain.member", &[]).await;
    assert_eq!(patch_as(&env, &t, &member, &reset(NEW_PASSWORD)).await.status, 204);
    signed_in(&env, &env.upn("plain.member"), NEW_PASSWORD).await;
}

#[tokio::test]
async fn app_only_user_administrator_may_act_on_another_user_administrator() {
    let env = env().await;
    let app = app_holding(&env, "user-admin", &[USER_ADMINISTRATOR]).await;
    let t = token(&env, &app).await;
    let other = user_holding(&env, "other.useradmin", &[USER_ADMINISTRATOR]).await;
    assert_eq!(patch_as(&env, &t, &other, &reset(NEW_PASSWORD)).await.status, 204);
    assert_eq!(patch_as(&env, &t, &other, &json!({"accountEnabled": false})).await.status, 204);
    assert_eq!(delete_as(&env, &t, &format!("/users/{other}")).await.status, 204);
    assert_eq!(restore_as(&env, &t, &other).await.status, 200);
}

#[tokio::test]
async fn app_only_user_administrator_cannot_reset_or_delete_a_global_administrator() {
    let env = env().await;
    let app = app_holding(&env, "user-admin", &[USER_ADMINISTRATOR]).await;
    let t = token(&env, &app).await;
    let admin = admin_id(&env).await;
    let r = patch_as(&env, &t, &admin, &reset(NEW_PASSWORD)).await;
    insta::assert_json_snapshot!(wire(&r));
    assert_refused(&delete_as(&env, &t, &format!("/users/{admin}")).await);
    assert_refused(&patch_as(&env, &t, &admin, &json!({"userPrincipalName": env.upn("renamed")})).await);
    let paa = user_holding(&env, "auth.admin", &[PRIVILEGED_AUTHENTICATION_ADMINISTRATOR]).await;
    assert_refused(&patch_as(&env, &t, &paa, &reset(NEW_PASSWORD)).await);
}

// ---- app-only, Global Administrator and Privileged Authentication Administrator --

#[tokio::test]
async fn app_only_global_administrator_may_reset_delete_restore_and_purge_a_global_administrator() {
    let env = env().await;
    let app = app_holding(&env, "global-admin", &[GLOBAL_ADMINISTRATOR]).await;
    let t = token(&env, &app).await;
    let admin2 = user_holding(&env, "second.global", &[GLOBAL_ADMINISTRATOR]).await;
    assert_eq!(patch_as(&env, &t, &admin2, &reset(NEW_PASSWORD)).await.status, 204);
    assert_eq!(patch_as(&env, &t, &admin2, &json!({"accountEnabled": false})).await.status, 204);
    assert_eq!(delete_as(&env, &t, &format!("/users/{admin2}")).await.status, 204);
    assert_eq!(restore_as(&env, &t, &admin2).await.status, 200);
    assert_eq!(delete_as(&env, &t, &format!("/users/{admin2}")).await.status, 204);
    assert_eq!(delete_as(&env, &t, &format!("/directory/deletedItems/{admin2}")).await.status, 204);
    let left = env.get(&format!("/roleManagement/directory/roleAssignments?$filter=principalId eq '{admin2}'")).await;
    assert_eq!(left.json()["value"], json!([]), "a purged user's role assignments go with it");
}

#[tokio::test]
async fn app_only_privileged_authentication_administrator_may_reset_a_global_administrators_password() {
    let env = env().await;
    let app = app_holding(&env, "auth-admin", &[PRIVILEGED_AUTHENTICATION_ADMINISTRATOR]).await;
    let t = token(&env, &app).await;
    let admin2 = user_holding(&env, "second.global", &[GLOBAL_ADMINISTRATOR]).await;
    assert_eq!(patch_as(&env, &t, &admin2, &reset(NEW_PASSWORD)).await.status, 204);
    signed_in(&env, &env.upn("second.global"), NEW_PASSWORD).await;
}

// ---- roles travel in tokens ------------------------------------------------------

#[tokio::test]
async fn a_role_assigned_after_the_token_was_issued_needs_a_new_token() {
    let env = env().await;
    let app = app_holding(&env, "late-role", &[]).await;
    let before = token(&env, &app).await;
    let admin2 = user_holding(&env, "second.global", &[GLOBAL_ADMINISTRATOR]).await;
    assert_refused(&patch_as(&env, &before, &admin2, &reset(NEW_PASSWORD)).await);
    assign(&env, &app.sp_id, GLOBAL_ADMINISTRATOR).await;
    assert_refused(&patch_as(&env, &before, &admin2, &reset(NEW_PASSWORD)).await);
    let after = token(&env, &app).await;
    assert_eq!(patch_as(&env, &after, &admin2, &reset(NEW_PASSWORD)).await.status, 204);
}

#[tokio::test]
async fn a_removed_role_stays_in_tokens_already_issued_until_they_expire() {
    let env = env().await;
    let app = app_holding(&env, "removed-role", &[]).await;
    let assignment = assign(&env, &app.sp_id, USER_ADMINISTRATOR).await;
    let before = token(&env, &app).await;
    let r = env.delete(&format!("/roleManagement/directory/roleAssignments/{assignment}")).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let member = user_holding(&env, "plain.member", &[]).await;
    assert_eq!(patch_as(&env, &before, &member, &reset(NEW_PASSWORD)).await.status, 204);
    let after = token(&env, &app).await;
    assert_refused(&patch_as(&env, &after, &member, &reset(NEW_PASSWORD)).await);
}

// ---- delegated: the signed-in user's roles -----------------------------------------

#[tokio::test]
async fn delegated_user_administrator_may_reset_a_non_administrator_but_not_a_global_administrator() {
    let env = env().await;
    user_holding(&env, "helpdesk.lead", &[USER_ADMINISTRATOR]).await;
    let t = signed_in(&env, &env.upn("helpdesk.lead"), "Vk3#pL9!wQz2").await;
    let member = user_holding(&env, "plain.member", &[]).await;
    assert_eq!(patch_as(&env, &t, &member, &reset(NEW_PASSWORD)).await.status, 204);
    let admin = admin_id(&env).await;
    let r = patch_as(&env, &t, &admin, &reset(NEW_PASSWORD)).await;
    insta::assert_json_snapshot!(wire(&r));
    assert_refused(&delete_as(&env, &t, &format!("/users/{admin}")).await);
}

#[tokio::test]
async fn delegated_global_administrator_may_reset_and_delete_another_global_administrator() {
    let env = env().await;
    let t = signed_in(&env, env.mock.admin_username(), env.mock.admin_password()).await;
    let admin2 = user_holding(&env, "second.global", &[GLOBAL_ADMINISTRATOR]).await;
    assert_eq!(patch_as(&env, &t, &admin2, &reset(NEW_PASSWORD)).await.status, 204);
    assert_eq!(delete_as(&env, &t, &format!("/users/{admin2}")).await.status, 204);
}

#[tokio::test]
async fn delegated_user_without_a_role_cannot_reset_anyones_password() {
    let env = env().await;
    user_holding(&env, "no.role", &[]).await;
    let t = signed_in(&env, &env.upn("no.role"), "Vk3#pL9!wQz2").await;
    let member = user_holding(&env, "plain.member", &[]).await;
    assert_refused(&patch_as(&env, &t, &member, &reset(NEW_PASSWORD)).await);
    assert_refused(&patch_as(&env, &t, &admin_id(&env).await, &reset(NEW_PASSWORD)).await);
}

// ---- Password, Helpdesk and Authentication Administrators --------------------------

#[tokio::test]
async fn app_only_helpdesk_administrator_may_reset_a_non_administrator_and_another_helpdesk_administrator() {
    let env = env().await;
    let app = app_holding(&env, "helpdesk", &[HELPDESK_ADMINISTRATOR]).await;
    let t = token(&env, &app).await;
    let member = user_holding(&env, "plain.member", &[]).await;
    let colleague = user_holding(&env, "other.helpdesk", &[HELPDESK_ADMINISTRATOR]).await;
    assert_eq!(patch_as(&env, &t, &member, &reset(NEW_PASSWORD)).await.status, 204);
    assert_eq!(patch_as(&env, &t, &colleague, &reset(NEW_PASSWORD)).await.status, 204);
    signed_in(&env, &env.upn("other.helpdesk"), NEW_PASSWORD).await;
}

#[tokio::test]
async fn app_only_helpdesk_administrator_may_not_reset_a_user_administrator() {
    let env = env().await;
    let app = app_holding(&env, "helpdesk", &[HELPDESK_ADMINISTRATOR]).await;
    let t = token(&env, &app).await;
    let user_admin = user_holding(&env, "helpful.admin", &[USER_ADMINISTRATOR]).await;
    assert_refused(&patch_as(&env, &t, &user_admin, &reset(NEW_PASSWORD)).await);
    let auth_admin = user_holding(&env, "auth.admin", &[AUTHENTICATION_ADMINISTRATOR]).await;
    assert_refused(&patch_as(&env, &t, &auth_admin, &reset(NEW_PASSWORD)).await);
}

#[tokio::test]
async fn delegated_password_administrator_may_not_reset_a_helpdesk_administrator() {
    let env = env().await;
    user_holding(&env, "password.admin", &[PASSWORD_ADMINISTRATOR]).await;
    let t = signed_in(&env, &env.upn("password.admin"), "Vk3#pL9!wQz2").await;
    let member = user_holding(&env, "plain.member", &[]).await;
    assert_eq!(patch_as(&env, &t, &member, &reset(NEW_PASSWORD)).await.status, 204, "a non-administrator");
    let helpdesk = user_holding(&env, "helpdesk.admin", &[HELPDESK_ADMINISTRATOR]).await;
    let r = patch_as(&env, &t, &helpdesk, &reset(NEW_PASSWORD)).await;
    insta::assert_json_snapshot!(wire(&r));
    let reader = user_holding(&env, "reports.reader", &[REPORTS_READER]).await;
    assert_refused(&patch_as(&env, &t, &reader, &reset(NEW_PASSWORD)).await);
}

#[tokio::test]
async fn delegated_helpdesk_administrator_may_reset_but_make_no_other_user_write() {
    let env = env().await;
    user_holding(&env, "helpdesk.lead", &[HELPDESK_ADMINISTRATOR]).await;
    let t = signed_in(&env, &env.upn("helpdesk.lead"), "Vk3#pL9!wQz2").await;
    let member = user_holding(&env, "plain.member", &[]).await;
    let body = json!({"passwordProfile": {"password": NEW_PASSWORD, "forceChangePasswordNextSignIn": false},
                      "mobilePhone": "+61 2 5550 1234", "otherMails": ["pm@example.org"]});
    assert_eq!(patch_as(&env, &t, &member, &body).await.status, 204);
    signed_in(&env, &env.upn("plain.member"), NEW_PASSWORD).await;
    let with_name = json!({"passwordProfile": {"password": "Zx7!kQ2#mPw9"}, "displayName": "Renamed"});
    assert_refused(&patch_as(&env, &t, &member, &with_name).await);
    assert_refused(&patch_as(&env, &t, &member, &json!({"jobTitle": "Clerk"})).await);
    assert_refused(&patch_as(&env, &t, &member, &json!({"accountEnabled": false})).await);
    assert_refused(&delete_as(&env, &t, &format!("/users/{member}")).await);
    let created = env
        .send(
            env.http.post(env.url("/users")).bearer_auth(&t).json(&crate::support::new_user(&env.upn("nope"), "Nope")),
        )
        .await;
    assert_refused(&created);
    assert_eq!(env.get(&format!("/users/{member}")).await.json()["displayName"], "plain.member", "nothing changed");
}

#[tokio::test]
async fn delegated_authentication_administrator_may_change_a_reports_readers_sensitive_attributes() {
    let env = env().await;
    user_holding(&env, "auth.admin", &[AUTHENTICATION_ADMINISTRATOR]).await;
    let t = signed_in(&env, &env.upn("auth.admin"), "Vk3#pL9!wQz2").await;
    let reader = user_holding(&env, "reports.reader", &[REPORTS_READER]).await;
    let body = json!({"accountEnabled": false, "userPrincipalName": env.upn("reports.reader2"), "businessPhones": ["+61 2 5550 9876"]});
    assert_eq!(patch_as(&env, &t, &reader, &body).await.status, 204);
    assert_eq!(delete_as(&env, &t, &format!("/users/{reader}")).await.status, 204);
    assert_eq!(restore_as(&env, &t, &reader).await.status, 200);
    // Not a Helpdesk Administrator's: that row is User Administrator's and up.
    let helpdesk = user_holding(&env, "helpdesk.admin", &[HELPDESK_ADMINISTRATOR]).await;
    assert_refused(&patch_as(&env, &t, &helpdesk, &json!({"accountEnabled": false})).await);
    assert_refused(&delete_as(&env, &t, &format!("/users/{helpdesk}")).await);
}

#[tokio::test]
async fn the_new_roles_activate_and_appear_among_the_templates() {
    let env = env().await;
    let templates = env.get("/directoryRoleTemplates").await.json();
    let names: Vec<&str> =
        templates["value"].as_array().unwrap().iter().filter_map(|t| t["displayName"].as_str()).collect();
    for name in [
        "Password Administrator",
        "Helpdesk Administrator",
        "Authentication Administrator",
        "Guest Inviter",
        "Message Center Reader",
        "Reports Reader",
        "Usage Summary Reports Reader",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    let r = env.post("/directoryRoles", &json!({"roleTemplateId": HELPDESK_ADMINISTRATOR})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json()["description"], "Can reset passwords for non-administrators and Helpdesk Administrators.");
    let definition = env.get(&format!("/roleManagement/directory/roleDefinitions/{REPORTS_READER}")).await;
    assert_eq!(definition.json()["displayName"], "Reports Reader");
}
