//! Owners of applications and service principals, and what they mean for an app
//! that holds only `Application.ReadWrite.OwnedBy`: Graph lets it create
//! applications and fully manage those it owns, and nothing else (graph-wire.md
//! §4 as the README carries it: "only covers apps/SPs the caller owns, and
//! `GET /applications` with it lists only owned ones").

use serde_json::{json, Value};

use crate::support::{env, new_group, token_for, Env, Reply};

const APPLICATION_READ_WRITE_OWNED_BY: &str = "18a4783c-866b-4cc7-a460-3d5e5662c884";
const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

async fn as_token(env: &Env, token: &str, method: reqwest::Method, path: &str, body: Option<&Value>) -> Reply {
    let mut req = env.http.request(method, env.url(path)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(b);
    }
    env.send(req).await
}

/// An app registered by the bootstrap app, with its service principal, a secret
/// and admin consent to `Application.ReadWrite.OwnedBy` alone; returns the
/// service principal's id and a token of the app.
async fn owned_by_app(env: &Env) -> (String, String) {
    let app = env.post("/applications", &json!({"displayName": "provisioner"})).await.json();
    let app_id = app["appId"].as_str().unwrap().to_owned();
    let sp = env.post("/servicePrincipals", &json!({"appId": app_id})).await.json();
    let sp_id = sp["id"].as_str().unwrap().to_owned();
    let secret = env.post(&format!("/applications/{}/addPassword", app["id"].as_str().unwrap()), &json!({})).await;
    let secret = secret.json()["secretText"].as_str().unwrap().to_owned();
    let graph = env.get(&format!("/servicePrincipals(appId='{GRAPH_APP_ID}')")).await.json();
    let graph = graph["id"].as_str().unwrap();
    let consent = env
        .post(
            &format!("/servicePrincipals/{graph}/appRoleAssignedTo"),
            &json!({"principalId": sp_id, "resourceId": graph, "appRoleId": APPLICATION_READ_WRITE_OWNED_BY}),
        )
        .await;
    assert_eq!(consent.status, 201, "{}", consent.text);
    let token = token_for(&env.http, &env.mock.token_url(), &app_id, &secret).await;
    (sp_id, token)
}

fn ids(list: &Value) -> Vec<&str> {
    list["value"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn an_owned_by_app_owns_what_it_creates_and_reaches_nothing_else_as_graph_documents() {
    use reqwest::Method;
    let env = env().await;
    let (provisioner, token) = owned_by_app(&env).await;
    let stranger = env.post("/applications", &json!({"displayName": "not yours"})).await.json();
    let stranger_id = stranger["id"].as_str().unwrap();

    let made = as_token(&env, &token, Method::POST, "/applications", Some(&json!({"displayName": "made"}))).await;
    assert_eq!(made.status, 201, "{}", made.text);
    let made = made.json();
    let made_id = made["id"].as_str().unwrap();
    let owners = as_token(&env, &token, Method::GET, &format!("/applications/{made_id}/owners"), None).await;
    assert_eq!(owners.status, 200, "{}", owners.text);
    let owners = owners.json();
    assert_eq!(ids(&owners), [provisioner.as_str()], "the creating app's service principal owns what it made");
    let shape = json!({
        "@odata.context": owners["@odata.context"],
        "value": owners["value"].as_array().unwrap().iter()
            .map(|o| json!({"@odata.type": o["@odata.type"], "appDisplayName": o["appDisplayName"]}))
            .collect::<Vec<_>>(),
    });
    insta::assert_json_snapshot!(env.normalize(shape));

    // Lists hold only what it owns; reads and writes of anything else are 403.
    let listed = as_token(&env, &token, Method::GET, "/applications", None).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(ids(&listed.json()), [made_id]);
    for (method, path, body) in [
        (Method::GET, format!("/applications/{stranger_id}"), None),
        (Method::PATCH, format!("/applications/{stranger_id}"), Some(json!({"displayName": "mine now"}))),
        (Method::POST, format!("/applications/{stranger_id}/addPassword"), Some(json!({}))),
        (Method::GET, format!("/applications/{stranger_id}/federatedIdentityCredentials"), None),
        (Method::DELETE, format!("/applications/{stranger_id}"), None),
    ] {
        let r = as_token(&env, &token, method.clone(), &path, body.as_ref()).await;
        assert_eq!((r.status, r.error_code()), (403, "Authorization_RequestDenied".into()), "{method} {path}");
    }
    let refused = as_token(&env, &token, Method::GET, &format!("/applications/{stranger_id}"), None).await;
    insta::assert_json_snapshot!("owned_by_refusal", refused.json(), { ".error.innerError" => "[inner]" });
    assert_eq!(env.get(&format!("/applications/{stranger_id}")).await.json()["displayName"], "not yours");
    let own =
        as_token(&env, &token, Method::PATCH, &format!("/applications/{made_id}"), Some(&json!({"notes": "n"}))).await;
    assert_eq!(own.status, 204);
    let secret =
        as_token(&env, &token, Method::POST, &format!("/applications/{made_id}/addPassword"), Some(&json!({}))).await;
    assert_eq!(secret.status, 200);

    // A service principal only for an application it owns; it owns that one too.
    let denied =
        as_token(&env, &token, Method::POST, "/servicePrincipals", Some(&json!({"appId": stranger["appId"]}))).await;
    assert_eq!(denied.status, 403);
    let sp = as_token(&env, &token, Method::POST, "/servicePrincipals", Some(&json!({"appId": made["appId"]}))).await;
    assert_eq!(sp.status, 201, "{}", sp.text);
    let sp_id = sp.json()["id"].as_str().unwrap().to_owned();
    let sps = as_token(&env, &token, Method::GET, "/servicePrincipals", None).await.json();
    assert_eq!(ids(&sps), [sp_id.as_str()]);
    let owned = as_token(&env, &token, Method::GET, &format!("/servicePrincipals/{provisioner}/ownedObjects"), None)
        .await
        .json();
    let mut owned = ids(&owned);
    owned.sort_unstable();
    let mut expected = vec![made_id, sp_id.as_str()];
    expected.sort_unstable();
    assert_eq!(owned, expected, "ownedObjects is how Graph tells an OwnedBy app to find its objects");
}

#[tokio::test]
async fn owned_by_is_not_sufficient_to_add_another_owner_as_graphs_note_says() {
    use reqwest::Method;
    let env = env().await;
    let (_, token) = owned_by_app(&env).await;
    let made = as_token(&env, &token, Method::POST, "/applications", Some(&json!({"displayName": "made"}))).await;
    let made_id = made.json()["id"].as_str().unwrap().to_owned();
    let user = env.create_user("owner", "An Owner").await;
    let add = json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{user}")});
    let r = as_token(&env, &token, Method::POST, &format!("/applications/{made_id}/owners/$ref"), Some(&add)).await;
    assert_eq!(r.status, 403, "{}", r.text);
    // An administrator's app (Application.ReadWrite.All and Directory.ReadWrite.All) may.
    assert_eq!(env.post(&format!("/applications/{made_id}/owners/$ref"), &add).await.status, 204);
}

#[tokio::test]
async fn owners_are_added_once_listed_as_directory_objects_and_removed_by_ref() {
    let env = env().await;
    let app = env.post("/applications", &json!({"displayName": "owned"})).await.json();
    let app_id = app["id"].as_str().unwrap();
    let user = env.create_user("owner", "An Owner").await;
    let add = json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{user}")});
    let path = format!("/applications/{app_id}/owners");
    assert_eq!(env.post(&format!("{path}/$ref"), &add).await.status, 204);
    let again = env.post(&format!("{path}/$ref"), &add).await;
    assert_eq!(again.status, 400);
    let listed = env.get(&path).await.json();
    assert!(ids(&listed).contains(&user.as_str()));
    let group = env.post("/groups", &new_group("g")).await.json();
    let group = group["id"].as_str().unwrap();
    let by_group = json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{group}")});
    let not_an_owner_kind = env.post(&format!("{path}/$ref"), &by_group).await;
    assert_eq!(not_an_owner_kind.status, 404, "owners are users or service principals");
    assert_eq!(env.delete(&format!("{path}/{user}/$ref")).await.status, 204);
    let gone = env.delete(&format!("{path}/{user}/$ref")).await;
    assert_eq!(gone.status, 404);
    insta::assert_json_snapshot!(again.json(), { ".error.innerError" => "[inner]" });
}

/// A signed-in member without an administrator role, through the bootstrap
/// public client with `Application.ReadWrite.All` delegated.
async fn member_token(env: &Env, local: &str) -> (String, String) {
    let user = env.create_user(local, "A Developer").await;
    let r = env
        .send(env.http.post(env.mock.token_url()).form(&[
            ("grant_type", "password"),
            ("client_id", &env.mock.client_id().to_string()),
            ("username", &env.upn(local)),
            ("password", "Vk3#pL9!wQz2"),
            ("scope", "https://graph.microsoft.com/Application.ReadWrite.All"),
        ]))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let token = r.json()["access_token"].as_str().unwrap().to_owned();
    use base64::Engine;
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.split('.').nth(1).unwrap()).unwrap(),
    )
    .unwrap();
    assert!(claims["scp"].as_str().unwrap().split(' ').any(|s| s == "Application.ReadWrite.All"), "{claims}");
    assert!(claims.get("wids").is_none_or(|w| w.as_array().is_some_and(Vec::is_empty)), "no role: {claims}");
    (user, token)
}

#[tokio::test]
async fn a_signed_in_member_registers_applications_and_manages_only_those_they_own_as_in_entra() {
    use reqwest::Method;
    let env = env().await;
    let (user, token) = member_token(&env, "dev").await;
    let stranger = env.post("/applications", &json!({"displayName": "not yours"})).await.json();
    let stranger = stranger["id"].as_str().unwrap();

    let made = as_token(&env, &token, Method::POST, "/applications", Some(&json!({"displayName": "mine"}))).await;
    assert_eq!(made.status, 201, "any member may register an application: {}", made.text);
    let made = made.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(ids(&env.get(&format!("/applications/{made}/owners")).await.json()), [user.as_str()]);
    let notes = json!({"notes": "n"});
    let own = as_token(&env, &token, Method::PATCH, &format!("/applications/{made}"), Some(&notes)).await;
    assert_eq!(own.status, 204, "{}", own.text);
    let path = format!("/applications/{made}/addPassword");
    assert_eq!(as_token(&env, &token, Method::POST, &path, Some(&json!({}))).await.status, 200);

    let other = as_token(&env, &token, Method::PATCH, &format!("/applications/{stranger}"), Some(&notes)).await;
    assert_eq!((other.status, other.error_code()), (403, "Authorization_RequestDenied".into()));
    let gone = as_token(&env, &token, Method::DELETE, &format!("/applications/{stranger}"), None).await;
    assert_eq!(gone.status, 403);
    assert_eq!(as_token(&env, &token, Method::DELETE, &format!("/applications/{made}"), None).await.status, 204);
}
