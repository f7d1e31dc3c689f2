//! A multi-tenant application of one tenant used in another tenant of the same
//! server: `POST /servicePrincipals {"appId"}` instantiates it (Microsoft's
//! "Create an enterprise application from a multitenant application"), its
//! home tenant's credentials then get tokens for the other tenant, with the
//! roles granted there. A single-tenant application stays invisible outside
//! its home, as in Entra.

use base64::Engine;
use serde_json::{json, Value};

use crate::support::{env, Env, Reply};

const USER_READ_ALL: &str = "df021288-bdef-4463-88db-98f22de89214";
const APPLICATION_READ_WRITE_OWNED_BY: &str = "18a4783c-866b-4cc7-a460-3d5e5662c884";

/// Another tenant on the same server, with a token of its bootstrap app.
struct Other {
    tenant_id: String,
    token: String,
}

impl Other {
    fn token_url(&self, env: &Env) -> String {
        format!("{}/{}/oauth2/v2.0/token", env.mock.authority(), self.tenant_id)
    }
}

async fn other_tenant(env: &Env) -> Other {
    let r = env.send(env.http.post(format!("{}/tenants", env.mock.control_url()))).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let info = r.json();
    let tenant_id = info["tenant_id"].as_str().unwrap().to_owned();
    let url = format!("{}/{tenant_id}/oauth2/v2.0/token", env.mock.authority());
    let token = crate::support::token_for(
        &env.http,
        &url,
        info["client_id"].as_str().unwrap(),
        info["client_secret"].as_str().unwrap(),
    )
    .await;
    Other { tenant_id, token }
}

/// An application of the default tenant with `audience` and a secret.
async fn home_app(env: &Env, name: &str, audience: &str) -> (String, String) {
    let app = env.post("/applications", &json!({"displayName": name, "signInAudience": audience})).await;
    assert_eq!(app.status, 201, "{}", app.text);
    let app = app.json();
    let secret = env.post(&format!("/applications/{}/addPassword", app["id"].as_str().unwrap()), &json!({})).await;
    assert_eq!(secret.status, 200, "{}", secret.text);
    (app["appId"].as_str().unwrap().to_owned(), secret.json()["secretText"].as_str().unwrap().to_owned())
}

async fn as_other(env: &Env, token: &str, method: reqwest::Method, path: &str, body: Option<&Value>) -> Reply {
    let mut req = env.http.request(method, env.url(path)).bearer_auth(token);
    if let Some(body) = body {
        req = req.json(body);
    }
    env.send(req).await
}

async fn client_credentials(env: &Env, url: &str, app_id: &str, secret: &str) -> Reply {
    env.send(env.http.post(url).form(&[
        ("grant_type", "client_credentials"),
        ("client_id", app_id),
        ("client_secret", secret),
        ("scope", "https://graph.microsoft.com/.default"),
    ]))
    .await
}

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// The error envelope with its per-request ids and date redacted.
fn wire(r: &Reply) -> Value {
    let mut body = r.json();
    for key in ["date", "request-id", "client-request-id"] {
        if body["error"]["innerError"].get(key).is_some() {
            body["error"]["innerError"][key] = json!(format!("[{key}]"));
        }
    }
    body
}

#[tokio::test]
async fn a_multi_tenant_application_of_another_tenant_is_instantiated_with_its_home_tenant_as_owner() {
    let env = env().await;
    let other = other_tenant(&env).await;
    for (name, audience) in [("vendor", "AzureADMultipleOrgs"), ("vendor-msa", "AzureADandPersonalMicrosoftAccount")] {
        let (app_id, _) = home_app(&env, name, audience).await;
        let r =
            as_other(&env, &other.token, reqwest::Method::POST, "/servicePrincipals", Some(&json!({"appId": app_id})))
                .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let sp = r.json();
        assert_eq!(sp["appId"], app_id.as_str());
        assert_eq!(sp["appOwnerOrganizationId"], env.mock.tenant_id().to_string(), "owned by its home tenant");
        assert_eq!(sp["signInAudience"], audience);
        if name == "vendor" {
            insta::assert_json_snapshot!(env.normalize(sp), {
                ".id" => "[sp id]", ".appId" => "[app id]", ".appOwnerOrganizationId" => "[home tenant]",
                ".servicePrincipalNames[0]" => "[app id]", ".createdDateTime" => "[date]",
            });
        }
        // Still one application, in its home tenant only.
        let apps = as_other(&env, &other.token, reqwest::Method::GET, "/applications", None).await.json();
        assert!(apps["value"].as_array().unwrap().iter().all(|a| a["appId"] != app_id.as_str()));
    }
}

#[tokio::test]
async fn a_single_tenant_application_of_another_tenant_does_not_reference_a_valid_application_as_in_entra() {
    let env = env().await;
    let other = other_tenant(&env).await;
    let (app_id, _) = home_app(&env, "internal", "AzureADMyOrg").await;
    let r = as_other(&env, &other.token, reqwest::Method::POST, "/servicePrincipals", Some(&json!({"appId": app_id})))
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.error_code(), "Request_BadRequest");
    let body = wire(&r).to_string().replace(&app_id, "[app id]");
    insta::assert_json_snapshot!(serde_json::from_str::<Value>(&body).unwrap());
}

#[tokio::test]
async fn application_readwrite_ownedby_cannot_instantiate_another_tenants_application_as_in_entra() {
    let env = env().await;
    let other = other_tenant(&env).await;
    let (app_id, _) = home_app(&env, "vendor", "AzureADMultipleOrgs").await;
    // In the other tenant: an app whose only write permission is OwnedBy.
    let (owned_by_app, owned_by_secret) = {
        let app =
            as_other(&env, &other.token, reqwest::Method::POST, "/applications", Some(&json!({"displayName": "ob"})))
                .await
                .json();
        let app_id = app["appId"].as_str().unwrap().to_owned();
        let sp =
            as_other(&env, &other.token, reqwest::Method::POST, "/servicePrincipals", Some(&json!({"appId": app_id})))
                .await
                .json();
        let path = format!("/applications/{}/addPassword", app["id"].as_str().unwrap());
        let secret = as_other(&env, &other.token, reqwest::Method::POST, &path, Some(&json!({}))).await.json();
        let graph = as_other(
            &env,
            &other.token,
            reqwest::Method::GET,
            "/servicePrincipals?$filter=appId eq '00000003-0000-0000-c000-000000000000'",
            None,
        )
        .await
        .json()["value"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = as_other(
            &env,
            &other.token,
            reqwest::Method::POST,
            &format!("/servicePrincipals/{graph}/appRoleAssignedTo"),
            Some(&json!({"principalId": sp["id"], "resourceId": graph, "appRoleId": APPLICATION_READ_WRITE_OWNED_BY})),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text);
        (app_id, secret["secretText"].as_str().unwrap().to_owned())
    };
    let token = client_credentials(&env, &other.token_url(&env), &owned_by_app, &owned_by_secret).await;
    let token = token.json()["access_token"].as_str().unwrap().to_owned();
    let r = as_other(&env, &token, reqwest::Method::POST, "/servicePrincipals", Some(&json!({"appId": app_id}))).await;
    assert_eq!(r.status, 403, "{}", r.text);
    insta::assert_json_snapshot!(wire(&r));
}

#[tokio::test]
async fn the_home_tenants_secret_gets_a_token_for_the_other_tenant_with_the_roles_granted_there() {
    let env = env().await;
    let other = other_tenant(&env).await;
    let (app_id, secret) = home_app(&env, "vendor", "AzureADMultipleOrgs").await;

    // Not instantiated there yet: Entra does not know the client in that tenant.
    let before = client_credentials(&env, &other.token_url(&env), &app_id, &secret).await;
    assert_eq!(before.status, 400, "{}", before.text);
    assert_eq!(before.json()["error_codes"], json!([700016]));

    let sp = as_other(&env, &other.token, reqwest::Method::POST, "/servicePrincipals", Some(&json!({"appId": app_id})))
        .await
        .json();
    let r = client_credentials(&env, &other.token_url(&env), &app_id, &secret).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let token = r.json()["access_token"].as_str().unwrap().to_owned();
    let c = claims(&token);
    assert_eq!(c["tid"], other.tenant_id.as_str(), "a token of the tenant it was asked for");
    assert_eq!(c["oid"], sp["id"], "acting as its service principal there");
    assert_eq!(c["appid"], app_id.as_str());
    assert!(c.get("roles").is_none(), "no consent in the other tenant yet: {c}");
    let denied = as_other(&env, &token, reqwest::Method::GET, "/users", None).await;
    assert_eq!(denied.status, 403, "{}", denied.text);

    // Admin consent in the other tenant: an app role assignment made there.
    let graph = as_other(
        &env,
        &other.token,
        reqwest::Method::GET,
        "/servicePrincipals?$filter=appId eq '00000003-0000-0000-c000-000000000000'",
        None,
    )
    .await
    .json()["value"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let granted = as_other(
        &env,
        &other.token,
        reqwest::Method::POST,
        &format!("/servicePrincipals/{graph}/appRoleAssignedTo"),
        Some(&json!({"principalId": sp["id"], "resourceId": graph, "appRoleId": USER_READ_ALL})),
    )
    .await;
    assert_eq!(granted.status, 201, "{}", granted.text);
    let token = client_credentials(&env, &other.token_url(&env), &app_id, &secret).await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(claims(&token)["roles"], json!(["User.Read.All"]));
    let users = as_other(&env, &token, reqwest::Method::GET, "/users", None).await;
    assert_eq!(users.status, 200, "{}", users.text);
    let users = users.json();
    let upns: Vec<&str> =
        users["value"].as_array().unwrap().iter().map(|u| u["userPrincipalName"].as_str().unwrap()).collect();
    assert!(upns.iter().all(|u| !u.ends_with(env.mock.tenant_domain())), "the other tenant's users only: {upns:?}");

    // A wrong secret is still refused, and the home tenant's roles never leak.
    let wrong = client_credentials(&env, &other.token_url(&env), &app_id, "not-the-secret").await;
    assert_eq!(wrong.status, 401, "{}", wrong.text);
    assert_eq!(wrong.json()["error_codes"], json!([7000215]));
    let home = client_credentials(&env, &env.mock.token_url(), &app_id, &secret).await;
    assert_eq!(home.status, 400, "no service principal at home: {}", home.text);
}

#[tokio::test]
async fn an_application_made_single_tenant_after_instantiation_signs_in_only_at_home() {
    let env = env().await;
    let other = other_tenant(&env).await;
    let (app_id, secret) = home_app(&env, "vendor", "AzureADMultipleOrgs").await;
    let r = as_other(&env, &other.token, reqwest::Method::POST, "/servicePrincipals", Some(&json!({"appId": app_id})))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let app = env.get(&format!("/applications(appId='{app_id}')")).await.json();
    let patched = env
        .patch(&format!("/applications/{}", app["id"].as_str().unwrap()), &json!({"signInAudience": "AzureADMyOrg"}))
        .await;
    assert_eq!(patched.status, 204, "{}", patched.text);
    let r = client_credentials(&env, &other.token_url(&env), &app_id, &secret).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.json()["error_codes"], json!([700016]));
}
