//! Applications, secrets and service principals.

use serde_json::{json, Value};

use crate::support::{env, Env};

pub(crate) async fn create_app(env: &Env, name: &str) -> Value {
    let r = env
        .post(
            "/applications",
            &json!({
                "displayName": name,
                "signInAudience": "AzureADMyOrg",
                "requiredResourceAccess": [{
                    "resourceAppId": "00000003-0000-0000-c000-000000000000",
                    "resourceAccess": [
                        {"id": "741f803b-c850-494e-b5df-cde7c675a1ca", "type": "Role"},
                        {"id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Scope"}
                    ]
                }]
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()
}

pub(crate) async fn create_sp(env: &Env, app_id: &str) -> Value {
    let r = env.post("/servicePrincipals", &json!({"appId": app_id})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()
}

pub(crate) async fn add_password(env: &Env, app_object_id: &str) -> String {
    let r = env
        .post(
            &format!("/applications/{app_object_id}/addPassword"),
            &json!({"passwordCredential": {"displayName": "ci"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["secretText"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn create_application_echoes_what_was_sent_with_graphs_defaults() {
    let env = env().await;
    let app = create_app(&env, "fake-automation").await;
    insta::assert_json_snapshot!(env.normalize(app), {
        ".id" => "[id]", ".appId" => "[appId]", ".createdDateTime" => "[time]"
    });
}

#[tokio::test]
async fn get_by_app_id_alternate_key_and_not_by_app_id_in_the_id_slot() {
    let env = env().await;
    let app = create_app(&env, "alt-key").await;
    let (id, app_id) = (app["id"].as_str().unwrap(), app["appId"].as_str().unwrap());
    let by_key = env.get(&format!("/applications(appId='{app_id}')")).await;
    assert_eq!(by_key.status, 200);
    assert_eq!(by_key.json()["id"], id);
    let wrong_slot = env.get(&format!("/applications/{app_id}")).await;
    assert_eq!(wrong_slot.status, 404, "Graph answers 404 when the appId is used as the object id");
    let patched = env.patch(&format!("/applications(appId='{app_id}')"), &json!({"notes": "via alternate key"})).await;
    assert_eq!(patched.status, 204);
}

#[tokio::test]
async fn create_without_display_name_and_with_a_bad_audience_are_refused() {
    let env = env().await;
    let r = env.post("/applications", &json!({"signInAudience": "AzureADMyOrg"})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_message(), "A value is required for property 'displayName' of resource 'Application'.");
    let r = env.post("/applications", &json!({"displayName": "x", "signInAudience": "Everyone"})).await;
    assert_eq!(r.status, 400);
    let r = env.post("/applications", &json!({"displayName": "x", "passwordCredentials": []})).await;
    assert_eq!(r.error_message(), "Property 'passwordCredentials' is read-only and cannot be set.");
}

#[tokio::test]
async fn add_password_returns_the_secret_text_once_and_never_again() {
    let env = env().await;
    let app = create_app(&env, "secretive").await;
    let id = app["id"].as_str().unwrap();
    let r = env
        .post(
            &format!("/applications/{id}/addPassword"),
            &json!({"passwordCredential": {"displayName": "ci", "endDateTime": "2027-03-01T00:00:00Z"}}),
        )
        .await;
    assert_eq!(r.status, 200, "addPassword answers 200, not 201");
    let credential = r.json();
    let secret = credential["secretText"].as_str().unwrap().to_owned();
    assert_eq!(&secret[..3], credential["hint"].as_str().unwrap());
    insta::assert_json_snapshot!(env.normalize(credential), {
        ".keyId" => "[keyId]", ".secretText" => "[secret]", ".hint" => "[hint]"
    });
    let after = env.get(&format!("/applications/{id}")).await;
    assert!(!after.text.contains(&secret), "the secret text is never readable again");
    assert_eq!(after.json()["passwordCredentials"][0]["secretText"], Value::Null);
    let state = env
        .http
        .get(format!("{}/tenants/{}/state", env.mock.control_url(), env.mock.tenant_id()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!state.contains(&secret), "not even the state dump holds it");
}

#[tokio::test]
async fn remove_password_makes_the_secret_stop_working() {
    let env = env().await;
    let app = create_app(&env, "rotating").await;
    let (id, app_id) = (app["id"].as_str().unwrap(), app["appId"].as_str().unwrap());
    create_sp(&env, app_id).await;
    let secret = add_password(&env, id).await;
    let key_id = env.get(&format!("/applications/{id}")).await.json()["passwordCredentials"][0]["keyId"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = crate::identity::token_status(&env, app_id, &secret).await;
    assert_eq!(token, 200, "a new secret works at once");
    assert_eq!(env.post(&format!("/applications/{id}/removePassword"), &json!({"keyId": key_id})).await.status, 204);
    assert_eq!(crate::identity::token_status(&env, app_id, &secret).await, 401);
    let again = env.post(&format!("/applications/{id}/removePassword"), &json!({"keyId": key_id})).await;
    assert_eq!(again.status, 400);
}

#[tokio::test]
async fn a_secret_past_its_end_date_is_refused_with_aadsts7000222() {
    let env = env().await;
    let app = create_app(&env, "expiring").await;
    let (id, app_id) = (app["id"].as_str().unwrap(), app["appId"].as_str().unwrap());
    create_sp(&env, app_id).await;
    let r = env
        .post(
            &format!("/applications/{id}/addPassword"),
            &json!({"passwordCredential": {"endDateTime": "2026-03-03T10:00:00Z"}}),
        )
        .await;
    let secret = r.json()["secretText"].as_str().unwrap().to_owned();
    assert_eq!(crate::identity::token_status(&env, app_id, &secret).await, 200);
    env.http
        .post(format!("{}/tenants/{}/clock/advance", env.mock.control_url(), env.mock.tenant_id()))
        .json(&json!({"seconds": 2 * 86400}))
        .send()
        .await
        .unwrap();
    let r = crate::identity::token_reply(&env, app_id, &secret).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error_codes"][0], 7000222);
}

#[tokio::test]
async fn deleted_application_goes_to_deleted_items_and_can_be_restored() {
    let env = env().await;
    let app = create_app(&env, "phoenix").await;
    let id = app["id"].as_str().unwrap();
    assert_eq!(env.delete(&format!("/applications/{id}")).await.status, 204);
    assert_eq!(env.get(&format!("/applications/{id}")).await.status, 404);
    let deleted = env.get("/directory/deletedItems/microsoft.graph.application").await.json();
    assert_eq!(deleted["value"].as_array().unwrap().len(), 1);
    let restored = env.post(&format!("/directory/deletedItems/{id}/restore"), &json!({})).await;
    assert_eq!(restored.status, 200, "{}", restored.text);
    assert_eq!(restored.json()["@odata.type"], "#microsoft.graph.application");
    assert_eq!(env.get(&format!("/applications/{id}")).await.status, 200);
}

#[tokio::test]
async fn service_principal_is_created_from_an_app_of_the_tenant_and_only_once() {
    let env = env().await;
    let app = create_app(&env, "with-sp").await;
    let app_id = app["appId"].as_str().unwrap();
    let sp = create_sp(&env, app_id).await;
    insta::assert_json_snapshot!(env.normalize(sp), {
        ".id" => "[id]", ".appId" => "[appId]", ".appOwnerOrganizationId" => "[tenant]", ".servicePrincipalNames[0]" => "[appId]"
    });
    let again = env.post("/servicePrincipals", &json!({"appId": app_id})).await;
    assert_eq!(again.status, 400);
    assert_eq!(again.json()["error"]["details"][0]["code"], "ObjectConflict");
    let unknown = env.post("/servicePrincipals", &json!({"appId": "3c9e8a71-2b4d-4f60-a8e5-7d1c0b9e2f34"})).await;
    assert_eq!(unknown.status, 400);
    let by_key = env.get(&format!("/servicePrincipals(appId='{app_id}')")).await;
    assert_eq!(by_key.status, 200);
}

#[tokio::test]
async fn microsoft_graphs_service_principal_exists_once_with_its_real_permission_ids() {
    let env = env().await;
    let r = env.get("/servicePrincipals?$filter=appId eq '00000003-0000-0000-c000-000000000000'&$select=id,appId,displayName,appRoles,oauth2PermissionScopes").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let body = r.json();
    let list = body["value"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    let graph = &list[0];
    assert_eq!(graph["displayName"], "Microsoft Graph");
    let role = graph["appRoles"].as_array().unwrap().iter().find(|r| r["value"] == "User.ReadWrite.All").unwrap();
    assert_eq!(role["id"], "741f803b-c850-494e-b5df-cde7c675a1ca");
    assert_eq!(role["allowedMemberTypes"], json!(["Application"]));
    let scope = graph["oauth2PermissionScopes"].as_array().unwrap().iter().find(|s| s["value"] == "User.Read").unwrap();
    assert_eq!(scope["id"], "e1fe6dd8-ba31-4d61-89e7-88639da4683d");
    let by_key = env.get("/servicePrincipals(appId='00000003-0000-0000-c000-000000000000')?$select=id").await;
    assert_eq!(by_key.json()["id"], graph["id"]);
}
