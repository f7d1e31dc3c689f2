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

/// Grant `role` of Microsoft Graph to the service principal `principal` in
/// the other tenant, as its administrator (admin consent to an app role).
async fn grant_graph_role(env: &Env, other: &Other, principal: &Value, role: &str) -> Reply {
    let graph = as_other(
        env,
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
    as_other(
        env,
        &other.token,
        reqwest::Method::POST,
        &format!("/servicePrincipals/{graph}/appRoleAssignedTo"),
        Some(&json!({"principalId": principal, "resourceId": graph, "appRoleId": role})),
    )
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
        let r = grant_graph_role(&env, &other, &sp["id"], APPLICATION_READ_WRITE_OWNED_BY).await;
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
    let granted = grant_graph_role(&env, &other, &sp["id"], USER_READ_ALL).await;
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

const VENDOR_REDIRECT: &str = "https://vendor.example/signin-oidc";
const GRAPH_USER_READ: &str = "e1fe6dd8-ba31-4d61-89e7-88639da4683d";

/// The vendor's application in the default tenant (A): multi-tenant (or
/// `audience`), a web redirect URI, Graph's `User.Read` (delegated) and
/// `User.Read.All` (application) required, and a secret.
async fn vendor_app(env: &Env, audience: &str) -> (String, String) {
    let graph = "00000003-0000-0000-c000-000000000000";
    let app = env
        .post(
            "/applications",
            &json!({
                "displayName": "vendor-portal",
                "signInAudience": audience,
                "web": {"redirectUris": [VENDOR_REDIRECT]},
                "requiredResourceAccess": [{"resourceAppId": graph, "resourceAccess": [
                    {"id": GRAPH_USER_READ, "type": "Scope"},
                    {"id": USER_READ_ALL, "type": "Role"}
                ]}]
            }),
        )
        .await;
    assert_eq!(app.status, 201, "{}", app.text);
    let app = app.json();
    let secret = env.post(&format!("/applications/{}/addPassword", app["id"].as_str().unwrap()), &json!({})).await;
    (app["appId"].as_str().unwrap().to_owned(), secret.json()["secretText"].as_str().unwrap().to_owned())
}

/// Another tenant (B) as the control API describes it: ids, bootstrap
/// credentials and its Global Administrator.
async fn customer_tenant(env: &Env) -> (Other, Value) {
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
    (Other { tenant_id, token }, info)
}

/// The hidden fields of the page's form, unescaped.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for part in html.split("<input type=\"hidden\" ").skip(1) {
        let attr = |name: &str| {
            part.split(&format!("{name}=\"")).nth(1).and_then(|v| v.split('"').next()).map(|v| {
                v.replace("&quot;", "\"")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&#39;", "'")
                    .replace("&amp;", "&")
            })
        };
        if let (Some(n), Some(v)) = (attr("name"), attr("value")) {
            out.push((n, v));
        }
    }
    out
}

fn cookie_of(r: &Reply) -> Option<String> {
    r.header("set-cookie").and_then(|c| c.split(';').next()).map(str::to_owned)
}

fn query_of(location: &str) -> std::collections::HashMap<String, String> {
    reqwest::Url::parse(location).unwrap().query_pairs().into_owned().collect()
}

/// Sign in on the page at `url` (its query is the request) as `login`, accept
/// consent if asked (for the organization when offered): the final redirect.
async fn sign_in_through_pages(env: &Env, url: &str, login: &str, password: &str) -> String {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = env.send(http.get(url)).await;
    assert_eq!(r.status, 200, "the sign-in page: {}", r.text);
    let r = env.send(http.post(url).form(&[("graphbox_step", "signin"), ("login", login), ("passwd", password)])).await;
    let r = if r.status == 200 && r.text.contains("name=\"consent\"") {
        let cookie = cookie_of(&r).expect("a session");
        let mut fields = hidden_fields(&r.text);
        fields.push(("consent".into(), "accept".into()));
        if r.text.contains("name=\"organization\"") {
            fields.push(("organization".into(), "true".into()));
        }
        let action = url.split('?').next().unwrap();
        env.send(http.post(action).header("cookie", cookie).form(&fields)).await
    } else {
        r
    };
    assert_eq!(r.status, 302, "{}", r.text);
    r.header("location").unwrap().to_owned()
}

fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

async fn sp_in(env: &Env, other: &Other, app_id: &str) -> Value {
    let r = as_other(
        env,
        &other.token,
        reqwest::Method::GET,
        &format!("/servicePrincipals?$filter=appId eq '{app_id}'&$select=appId,appOwnerOrganizationId"),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["value"].clone()
}

#[tokio::test]
async fn a_customer_admin_consents_to_a_vendors_multi_tenant_app_and_its_users_sign_in_with_pkce_as_in_entra() {
    let env = env().await;
    let (app_id, secret) = vendor_app(&env, "AzureADMultipleOrgs").await;
    let (b, info) = customer_tenant(&env).await;
    assert_eq!(sp_in(&env, &b, &app_id).await, json!([]), "not instantiated in B yet");

    // B's administrator consents through /adminconsent: the redirect URI is the
    // vendor's (registered in A), and consent creates the service principal in B.
    let url = format!(
        "{}/{}/v2.0/adminconsent?client_id={app_id}&redirect_uri={}&state=s1&scope={}",
        env.mock.authority(),
        b.tenant_id,
        urlencode(VENDOR_REDIRECT),
        urlencode("https://graph.microsoft.com/.default")
    );
    let admin = info["admin_username"].as_str().unwrap();
    let location = sign_in_through_pages(&env, &url, admin, info["admin_password"].as_str().unwrap()).await;
    assert!(location.starts_with(VENDOR_REDIRECT), "{location}");
    let consent = query_of(&location);
    assert_eq!(consent["tenant"], b.tenant_id);
    let sps = sp_in(&env, &b, &app_id).await;
    assert_eq!(sps[0]["appOwnerOrganizationId"], json!(env.mock.tenant_id().to_string()), "{sps}");

    // The application permission is granted in B: the vendor's secret gets B's roles.
    let r = client_credentials(&env, &b.token_url(&env), &app_id, &secret).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let app_only = claims(r.json()["access_token"].as_str().unwrap());
    assert_eq!(app_only["roles"], json!(["User.Read.All"]));

    // A user of B signs in at /organizations: the sign-in lands in B.
    let domain = info["tenant_domain"].as_str().unwrap();
    let upn = format!("carol@{domain}");
    let r =
        as_other(&env, &b.token, reqwest::Method::POST, "/users", Some(&crate::support::new_user(&upn, "Carol"))).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let carol = r.json()["id"].as_str().unwrap().to_owned();
    let verifier = "a-verifier-of-at-least-forty-three-characters-0123456789";
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()));
    let url = format!(
        "{}/organizations/oauth2/v2.0/authorize?client_id={app_id}&response_type=code&redirect_uri={}&scope={}&state=s2&code_challenge={challenge}&code_challenge_method=S256",
        env.mock.authority(),
        urlencode(VENDOR_REDIRECT),
        urlencode("openid profile User.Read"),
    );
    let location = sign_in_through_pages(&env, &url, &upn, "Vk3#pL9!wQz2").await;
    assert!(location.starts_with(VENDOR_REDIRECT), "{location}");
    let code = query_of(&location)["code"].clone();
    let r = env
        .send(env.http.post(format!("{}/organizations/oauth2/v2.0/token", env.mock.authority())).form(&[
            ("grant_type", "authorization_code"),
            ("client_id", app_id.as_str()),
            ("client_secret", secret.as_str()),
            ("code", code.as_str()),
            ("redirect_uri", VENDOR_REDIRECT),
            ("code_verifier", verifier),
            ("scope", "openid profile User.Read"),
        ]))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let body = r.json();
    let access = claims(body["access_token"].as_str().unwrap());
    let id_token = claims(body["id_token"].as_str().unwrap());
    let (a, bt) = (env.mock.tenant_id().to_string(), b.tenant_id.clone());
    let redact = |v: &Value| {
        let text = v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string());
        json!(text
            .replace(env.mock.authority(), "[authority]")
            .replace(&bt, "[tenant B]")
            .replace(&a, "[tenant A]")
            .replace(&app_id, "[vendor app]")
            .replace(&carol, "[carol]"))
    };
    let shape = json!({
        "admin_consent": consent.get("admin_consent"),
        "access": {"tid": redact(&access["tid"]), "aud": redact(&access["aud"]), "oid": redact(&access["oid"]),
                   "appid": redact(&access["appid"]), "scp": access["scp"], "iss": redact(&access["iss"])},
        "id_token": {"tid": redact(&id_token["tid"]), "aud": redact(&id_token["aud"]), "iss": redact(&id_token["iss"])},
    });
    insta::assert_json_snapshot!(shape);
}

#[tokio::test]
async fn a_customer_admin_instantiates_the_vendors_app_with_prompt_consent_on_the_authorize_page() {
    let env = env().await;
    let (app_id, secret) = vendor_app(&env, "AzureADMultipleOrgs").await;
    let (b, info) = customer_tenant(&env).await;
    let url = format!(
        "{}/{}/oauth2/v2.0/authorize?client_id={app_id}&response_type=code&redirect_uri={}&scope={}&prompt=consent",
        env.mock.authority(),
        b.tenant_id,
        urlencode(VENDOR_REDIRECT),
        urlencode("openid User.Read"),
    );
    let admin = info["admin_username"].as_str().unwrap();
    let location = sign_in_through_pages(&env, &url, admin, info["admin_password"].as_str().unwrap()).await;
    let code = query_of(&location)["code"].clone();
    assert_eq!(sp_in(&env, &b, &app_id).await[0]["appOwnerOrganizationId"], json!(env.mock.tenant_id().to_string()));
    let r = env
        .send(env.http.post(b.token_url(&env)).form(&[
            ("grant_type", "authorization_code"),
            ("client_id", app_id.as_str()),
            ("client_secret", secret.as_str()),
            ("code", code.as_str()),
            ("redirect_uri", VENDOR_REDIRECT),
        ]))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(claims(r.json()["access_token"].as_str().unwrap())["tid"], json!(b.tenant_id));
}

#[tokio::test]
async fn another_tenants_single_tenant_app_is_unknown_on_the_consent_page_as_in_entra() {
    let env = env().await;
    let (app_id, _) = vendor_app(&env, "AzureADMyOrg").await;
    let (b, _) = customer_tenant(&env).await;
    let url = format!(
        "{}/{}/v2.0/adminconsent?client_id={app_id}&redirect_uri={}",
        env.mock.authority(),
        b.tenant_id,
        urlencode(VENDOR_REDIRECT)
    );
    let r = env.send(env.http.get(url)).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("AADSTS700016"), "{}", r.text);
    assert!(!r.text.contains(VENDOR_REDIRECT), "never sent to the app's redirect URI");
    assert_eq!(sp_in(&env, &b, &app_id).await, json!([]));
}

/// An external OIDC issuer (a CI provider): an RSA key, its JWKS, and tokens
/// signed with it.
struct Issuer {
    key: ring::signature::RsaKeyPair,
    jwks: Value,
}

impl Issuer {
    fn new() -> Self {
        use rsa::pkcs8::EncodePrivateKey;
        use rsa::traits::PublicKeyParts;
        let private = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap();
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let jwks = json!({"keys": [{"kty": "RSA", "kid": "ci-1", "use": "sig",
            "n": b64(&private.n().to_bytes_be()), "e": b64(&private.e().to_bytes_be())}]});
        let der = private.to_pkcs8_der().unwrap();
        Issuer { key: ring::signature::RsaKeyPair::from_pkcs8(der.as_bytes()).unwrap(), jwks }
    }

    fn token(&self, iss: &str, sub: &str) -> String {
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        // The tenants' clocks stand still at the suite's frozen instant.
        let now = crate::support::frozen_instant().unix_timestamp();
        let header = b64(br#"{"alg":"RS256","kid":"ci-1","typ":"JWT"}"#);
        let claims = json!({"iss": iss, "sub": sub, "aud": "api://AzureADTokenExchange", "iat": now, "nbf": now, "exp": now + 600});
        let signed = format!("{header}.{}", b64(claims.to_string().as_bytes()));
        let mut sig = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(&ring::signature::RSA_PKCS1_SHA256, &ring::rand::SystemRandom::new(), signed.as_bytes(), &mut sig)
            .unwrap();
        format!("{signed}.{}", b64(&sig))
    }
}

#[tokio::test]
async fn a_vendors_federated_credential_gets_a_token_in_the_customer_tenant_as_in_entra() {
    const CI: &str = "https://ci.vendor.example";
    let env = env().await;
    let (app_id, _) = vendor_app(&env, "AzureADMultipleOrgs").await;
    let object_id =
        env.get(&format!("/applications(appId='{app_id}')")).await.json()["id"].as_str().unwrap().to_owned();
    let fic = json!({"name": "deploy", "issuer": CI, "subject": "repo:vendor/portal:environment:prod", "audiences": ["api://AzureADTokenExchange"]});
    let r = env.post(&format!("/applications/{object_id}/federatedIdentityCredentials"), &fic).await;
    assert_eq!(r.status, 201, "{}", r.text);
    // The vendor's tenant trusts its CI's keys (Entra would fetch them from the issuer).
    let issuer = Issuer::new();
    let url = format!("{}/tenants/{}/federation/issuers", env.mock.control_url(), env.mock.tenant_id());
    let r = env.send(env.http.put(url).json(&json!({"issuer": CI, "jwks": issuer.jwks}))).await;
    assert_eq!(r.status, 200, "{}", r.text);

    let (b, _) = customer_tenant(&env).await;
    let r =
        as_other(&env, &b.token, reqwest::Method::POST, "/servicePrincipals", Some(&json!({"appId": app_id}))).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let exchange = |assertion: String| {
        let (env, b, app_id) = (&env, &b, &app_id);
        async move {
            env.send(env.http.post(b.token_url(env)).form(&[
                ("grant_type", "client_credentials"),
                ("client_id", app_id.as_str()),
                ("scope", "https://graph.microsoft.com/.default"),
                ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                ("client_assertion", assertion.as_str()),
            ]))
            .await
        }
    };
    let r = exchange(issuer.token(CI, "repo:vendor/portal:environment:prod")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let token = claims(r.json()["access_token"].as_str().unwrap());
    assert_eq!((token["tid"].as_str(), token["appid"].as_str()), (Some(b.tenant_id.as_str()), Some(app_id.as_str())));

    // The home application's credentials decide: another subject is refused.
    let r = exchange(issuer.token(CI, "repo:someone/else:ref:refs/heads/main")).await;
    assert_eq!(r.status, 400, "{}", r.text);
    let body = r.json();
    let first_line = body["error_description"].as_str().unwrap().split("\r\n").next().unwrap().to_owned();
    insta::assert_json_snapshot!(
        json!({"error": body["error"], "error_codes": body["error_codes"], "error_description": first_line})
    );
}
