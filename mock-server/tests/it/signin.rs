//! Interactive sign-in over real sockets: the authorization code flow with its
//! sign-in and consent pages, SSO, PKCE, one-time codes, admin consent, the
//! device code flow and federated identity credentials. Raw HTTP, as a browser
//! or an OAuth library would send it.

use base64::Engine;
use serde_json::{json, Value};

use crate::support::{env, Env};

const REDIRECT: &str = "http://localhost/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mJ92K9ZIZ9xBw0AbC1aZq7PhLqP0mTz1wE";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn s256(verifier: &str) -> String {
    b64(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()).as_ref())
}

/// A browser: keeps the session cookie, never follows redirects.
struct Browser {
    http: reqwest::Client,
    cookie: std::sync::Mutex<Option<String>>,
}

fn browser() -> Browser {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client builds");
    Browser { http, cookie: std::sync::Mutex::new(None) }
}

impl Browser {
    async fn send(&self, req: reqwest::RequestBuilder) -> reqwest::Response {
        let cookie = self.cookie.lock().unwrap().clone();
        let req = match cookie {
            Some(c) => req.header("cookie", c),
            None => req,
        };
        let r = req.send().await.expect("request sent");
        if let Some(set) = r.headers().get("set-cookie").and_then(|v| v.to_str().ok()) {
            assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax"), "{set}");
            *self.cookie.lock().unwrap() = set.split(';').next().map(str::to_owned);
        }
        r
    }
    async fn get(&self, url: impl reqwest::IntoUrl) -> reqwest::Response {
        self.send(self.http.get(url)).await
    }
}

/// A public client application with a loopback redirect; returns its appId.
async fn public_app(env: &Env, name: &str) -> String {
    let r = env
        .post(
            "/applications",
            &json!({"displayName": name, "publicClient": {"redirectUris": [REDIRECT]}, "isFallbackPublicClient": true}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let app_id = r.json()["appId"].as_str().unwrap().to_owned();
    let r = env.post("/servicePrincipals", &json!({"appId": app_id})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    app_id
}

fn authorize_url(env: &Env, client_id: &str, extra: &str) -> String {
    format!(
        "{}/{}/oauth2/v2.0/authorize?client_id={client_id}&response_type=code&redirect_uri={}&scope=openid%20offline_access%20User.Read&state=st-1&nonce=n-1&code_challenge={}&code_challenge_method=S256{extra}",
        env.mock.authority(),
        env.mock.tenant_id(),
        urlencode(REDIRECT),
        s256(VERIFIER)
    )
}

fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The hidden fields and action of the first form in a page.
fn form_of(html: &str, id: &str) -> (String, Vec<(String, String)>) {
    let start = html.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no form {id} in {html}"));
    let form_start = html[..start].rfind("<form").expect("form tag");
    let end = form_start + html[form_start..].find("</form>").expect("form end");
    let form = &html[form_start..end];
    let attr = |tag: &str, name: &str| -> Option<String> {
        let at = tag.find(&format!("{name}=\""))? + name.len() + 2;
        Some(unescape(&tag[at..at + tag[at..].find('"')?]))
    };
    let action = attr(form, "action").expect("action");
    let mut fields = Vec::new();
    for input in form.split("<input").skip(1) {
        if input.contains("type=\"hidden\"") {
            fields.push((attr(input, "name").unwrap(), attr(input, "value").unwrap()));
        }
    }
    (action, fields)
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

async fn post_form(b: &Browser, action: &str, fields: &[(String, String)], more: &[(&str, &str)]) -> reqwest::Response {
    let mut all: Vec<(String, String)> = fields.to_vec();
    all.extend(more.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    b.send(b.http.post(action).form(&all)).await
}

fn query_of(location: &str) -> std::collections::HashMap<String, String> {
    let q = location.split_once('?').map(|(_, q)| q).unwrap_or_default();
    q.split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_owned(), percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned()))
        .collect()
}

/// Sign in as the admin through the page and accept consent: the redirect.
async fn sign_in_and_consent(env: &Env, b: &Browser, url: &str) -> String {
    let page = b.get(url).await;
    if page.status() == 302 {
        // Already signed in and consented: SSO.
        return page.headers()["location"].to_str().unwrap().to_owned();
    }
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let (action, fields) = form_of(&html, "signin");
    let r =
        post_form(b, &action, &fields, &[("login", env.mock.admin_username()), ("passwd", env.mock.admin_password())])
            .await;
    let r = if r.status() == 200 {
        let html = r.text().await.unwrap();
        let (action, fields) = form_of(&html, "consent");
        post_form(b, &action, &fields, &[("consent", "accept")]).await
    } else {
        r
    };
    assert_eq!(r.status(), 302, "{:?}", r.text().await);
    r.headers()["location"].to_str().unwrap().to_owned()
}

async fn redeem(env: &Env, client_id: &str, code: &str, verifier: &str) -> (u16, Value) {
    let r = env
        .http
        .post(env.mock.token_url())
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", client_id),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
            ("client_info", "1"),
        ])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

#[tokio::test]
async fn the_authorization_code_flow_signs_in_consents_and_redeems_a_pkce_code_once() {
    let env = env().await;
    let client_id = public_app(&env, "web-signin").await;
    let b = browser();
    let location = sign_in_and_consent(&env, &b, &authorize_url(&env, &client_id, "")).await;
    assert!(location.starts_with(&format!("{REDIRECT}?code=")), "{location}");
    let q = query_of(&location);
    assert_eq!(q["state"], "st-1");
    let (status, body) = redeem(&env, &client_id, &q["code"], VERIFIER).await;
    assert_eq!(status, 200, "{body}");
    let id = claims(body["id_token"].as_str().unwrap());
    assert_eq!(id["nonce"], "n-1", "the id_token carries the request's nonce");
    assert_eq!(id["aud"], client_id);
    assert_eq!(claims(body["access_token"].as_str().unwrap())["scp"], "User.Read");
    insta::assert_json_snapshot!(body, {
        ".access_token" => "[jwt]", ".id_token" => "[jwt]", ".refresh_token" => "[opaque]", ".client_info" => "[b64]"
    });

    let (status, again) = redeem(&env, &client_id, &q["code"], VERIFIER).await;
    assert_eq!((status, again["error_codes"][0].as_u64()), (400, Some(54005)), "{again}");
    assert_eq!(again["error"], "invalid_grant");
}

#[tokio::test]
async fn a_verifier_that_does_not_match_the_challenge_is_refused_with_aadsts50148() {
    let env = env().await;
    let client_id = public_app(&env, "pkce").await;
    let b = browser();
    let location = sign_in_and_consent(&env, &b, &authorize_url(&env, &client_id, "")).await;
    let (status, body) =
        redeem(&env, &client_id, &query_of(&location)["code"], "another-verifier-of-43-characters-at-least-x").await;
    assert_eq!((status, body["error_codes"][0].as_u64()), (400, Some(50148)), "{body}");
}

#[tokio::test]
async fn a_second_authorize_in_the_same_browser_signs_in_without_a_form() {
    let env = env().await;
    let client_id = public_app(&env, "sso").await;
    let b = browser();
    sign_in_and_consent(&env, &b, &authorize_url(&env, &client_id, "")).await;
    let r = b.get(authorize_url(&env, &client_id, "&prompt=none")).await;
    assert_eq!(r.status(), 302, "SSO: straight back with a code");
    assert!(r.headers()["location"].to_str().unwrap().contains("code="));
}

#[tokio::test]
async fn prompt_none_without_a_session_redirects_login_required() {
    let env = env().await;
    let client_id = public_app(&env, "silent").await;
    let r = browser().get(authorize_url(&env, &client_id, "&prompt=none")).await;
    assert_eq!(r.status(), 302);
    let q = query_of(r.headers()["location"].to_str().unwrap());
    assert_eq!(q["error"], "login_required");
    assert!(q["error_description"].starts_with("AADSTS50058:"), "{}", q["error_description"]);
    assert_eq!(q["state"], "st-1");
}

#[tokio::test]
async fn an_unregistered_redirect_uri_is_shown_on_the_page_and_never_redirected() {
    let env = env().await;
    let client_id = public_app(&env, "mismatch").await;
    let url = authorize_url(&env, &client_id, "").replace(&urlencode(REDIRECT), &urlencode("https://evil.example/<x>"));
    let r = browser().get(url).await;
    assert_eq!(r.status(), 400);
    assert!(r.headers().get("location").is_none());
    let html = r.text().await.unwrap();
    assert!(html.contains("AADSTS50011"), "{html}");
    assert!(html.contains("https://evil.example/&lt;x&gt;"), "escaped: {html}");
    assert!(!html.contains("<x>"));
}

#[tokio::test]
async fn a_consent_post_without_the_session_anti_forgery_value_is_refused() {
    let env = env().await;
    let client_id = public_app(&env, "csrf").await;
    let b = browser();
    let html = b.get(authorize_url(&env, &client_id, "")).await.text().await.unwrap();
    let (action, fields) = form_of(&html, "signin");
    let r =
        post_form(&b, &action, &fields, &[("login", env.mock.admin_username()), ("passwd", env.mock.admin_password())])
            .await;
    let (action, fields) = form_of(&r.text().await.unwrap(), "consent");
    let forged: Vec<(String, String)> =
        fields.into_iter().map(|(k, v)| if k == "form_token" { (k, "forged".to_owned()) } else { (k, v) }).collect();
    let r = post_form(&b, &action, &forged, &[("consent", "accept")]).await;
    assert_eq!(r.status(), 302);
    let q = query_of(r.headers()["location"].to_str().unwrap());
    assert_eq!(q["error"], "invalid_request", "{q:?}");
    assert!(!q.contains_key("code"));
}

#[tokio::test]
async fn a_wrong_password_is_shown_on_the_sign_in_page() {
    let env = env().await;
    let client_id = public_app(&env, "wrong").await;
    let b = browser();
    let html = b.get(authorize_url(&env, &client_id, "")).await.text().await.unwrap();
    let (action, fields) = form_of(&html, "signin");
    let r = post_form(&b, &action, &fields, &[("login", env.mock.admin_username()), ("passwd", "nope")]).await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("AADSTS50126"));
}

#[tokio::test]
async fn the_admin_consent_endpoint_changes_the_next_app_only_tokens_roles() {
    let env = env().await;
    let graph = "00000003-0000-0000-c000-000000000000";
    let user_read_all = "df021288-bdef-4463-88db-98f22de89214";
    let r = env
        .post(
            "/applications",
            &json!({"displayName": "daemon", "web": {"redirectUris": [REDIRECT]},
                    "requiredResourceAccess": [{"resourceAppId": graph, "resourceAccess": [{"id": user_read_all, "type": "Role"}]}]}),
        )
        .await;
    let app = r.json();
    let (app_id, object_id) = (app["appId"].as_str().unwrap().to_owned(), app["id"].as_str().unwrap().to_owned());
    env.post("/servicePrincipals", &json!({"appId": app_id})).await;
    let secret = env.post(&format!("/applications/{object_id}/addPassword"), &json!({})).await.json()["secretText"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = crate::support::token_for(&env.http, &env.mock.token_url(), &app_id, &secret).await;
    assert!(claims(&token).get("roles").is_none(), "no roles before consent");

    let b = browser();
    let url = format!(
        "{}/{}/v2.0/adminconsent?client_id={app_id}&scope={}&redirect_uri={}&state=s9",
        env.mock.authority(),
        env.mock.tenant_id(),
        urlencode("https://graph.microsoft.com/.default"),
        urlencode(REDIRECT)
    );
    let location = sign_in_and_consent(&env, &b, &url).await;
    let q = query_of(&location);
    assert_eq!((q["admin_consent"].as_str(), q["state"].as_str()), ("True", "s9"));
    assert_eq!(q["tenant"], env.mock.tenant_id().to_string());
    let token = crate::support::token_for(&env.http, &env.mock.token_url(), &app_id, &secret).await;
    assert_eq!(claims(&token)["roles"], json!(["User.Read.All"]));
}

#[tokio::test]
async fn the_device_code_flow_polls_pending_until_the_control_api_approves() {
    let env = env().await;
    let client_id = public_app(&env, "cli").await;
    let devicecode = format!("{}/{}/oauth2/v2.0/devicecode", env.mock.authority(), env.mock.tenant_id());
    let r = env
        .http
        .post(&devicecode)
        .form(&[("client_id", client_id.as_str()), ("scope", "User.Read offline_access")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let flow: Value = r.json().await.unwrap();
    assert_eq!(flow["interval"], 5);
    assert_eq!(flow["expires_in"], 900);
    assert!(flow["message"].as_str().unwrap().contains(flow["user_code"].as_str().unwrap()));
    let poll = || {
        env.http.post(env.mock.token_url()).form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("client_id", client_id.as_str()),
            ("device_code", flow["device_code"].as_str().unwrap()),
        ])
    };
    let pending: Value = poll().send().await.unwrap().json().await.unwrap();
    assert_eq!(
        (pending["error"].as_str(), pending["error_codes"][0].as_u64()),
        (Some("authorization_pending"), Some(70016))
    );
    let slow: Value = poll().send().await.unwrap().json().await.unwrap();
    assert_eq!(slow["error"], "slow_down", "polled again within the interval");

    // The user consents through the bootstrap grant's absence: grant User.Read first.
    let sp =
        env.get(&format!("/servicePrincipals(appId='{client_id}')")).await.json()["id"].as_str().unwrap().to_owned();
    let graph_sp = env.get("/servicePrincipals(appId='00000003-0000-0000-c000-000000000000')").await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    env.post(
        "/oauth2PermissionGrants",
        &json!({"clientId": sp, "consentType": "AllPrincipals", "resourceId": graph_sp, "scope": "User.Read"}),
    )
    .await;
    let approve = format!("{}/tenants/{}/devicecode/approve", env.mock.control_url(), env.mock.tenant_id());
    let r = env
        .http
        .post(approve)
        .json(&json!({"userCode": flow["user_code"], "user": env.mock.admin_username()}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    let advance = format!("{}/tenants/{}/clock/advance", env.mock.control_url(), env.mock.tenant_id());
    env.http.post(advance).json(&json!({"seconds": 6})).send().await.unwrap();
    let r = poll().send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(claims(body["access_token"].as_str().unwrap())["scp"], "User.Read");
    assert!(body["refresh_token"].is_string());
    let again: Value = poll().send().await.unwrap().json().await.unwrap();
    assert_eq!(again["error"], "bad_verification_code", "a device code is redeemed once");
}

#[tokio::test]
async fn federated_identity_credentials_are_created_listed_patched_and_deleted_with_their_validations() {
    let env = env().await;
    let app = env.post("/applications", &json!({"displayName": "wif"})).await.json();
    let base = format!("/applications/{}/federatedIdentityCredentials", app["id"].as_str().unwrap());
    let body = json!({"name": "ci-main", "issuer": "https://token.actions.githubusercontent.com",
                      "subject": "repo:contoso/app:ref:refs/heads/main", "audiences": ["api://AzureADTokenExchange"]});
    let r = env.post(&base, &body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let shown = r.text.replace(app["id"].as_str().unwrap(), "{app}");
    insta::assert_json_snapshot!(env.normalize(serde_json::from_str(&shown).unwrap()), { ".id" => "[id]" });
    assert_eq!(env.post(&base, &body).await.status, 409, "the name is unique in the application");
    let r = env.get(&base).await;
    assert_eq!(r.json()["value"].as_array().unwrap().len(), 1);
    assert_eq!(
        env.patch(&format!("{base}/ci-main"), &json!({"subject": "repo:contoso/app:environment:prod"})).await.status,
        204
    );
    assert_eq!(env.get(&format!("{base}/ci-main")).await.json()["subject"], "repo:contoso/app:environment:prod");
    let r = env.patch(&format!("{base}/ci-main"), &json!({"name": "renamed"})).await;
    assert_eq!((r.status, r.error_code().as_str()), (400, "Request_BadRequest"));
    let r = env
        .post(&base, &json!({"name": "two", "issuer": "https://i.example", "subject": "s", "audiences": ["a", "b"]}))
        .await;
    assert_eq!(r.status, 400, "one audience only");
    assert_eq!(env.delete(&format!("{base}/ci-main")).await.status, 204);
    assert_eq!(env.get(&format!("{base}/ci-main")).await.status, 404);
}

#[tokio::test]
async fn the_discovery_document_advertises_only_endpoints_the_mock_serves() {
    let env = env().await;
    let doc: Value = env
        .http
        .get(format!("{}/{}/v2.0/.well-known/openid-configuration", env.mock.authority(), env.mock.tenant_id()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for field in [
        "authorization_endpoint",
        "token_endpoint",
        "device_authorization_endpoint",
        "end_session_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
    ] {
        let url = doc[field].as_str().unwrap_or_else(|| panic!("{field}"));
        let r = if field == "jwks_uri" {
            env.http.get(url).send().await.unwrap()
        } else {
            env.http.post(url).form(&[("x", "y")]).send().await.unwrap()
        };
        assert_ne!(r.status(), 404, "{field} {url} is served");
        assert!(r.status().as_u16() < 500, "{field} {url} answers without a server error");
    }
    assert!(doc.get("kerberos_endpoint").is_none());
    assert_eq!(doc["response_types_supported"], json!(["code"]));
}

/// A middle-tier API: exposes `access_as_user` under `api://{appId}`, has a
/// secret, and is consented tenant-wide for Graph's User.Read.
async fn middle_tier(env: &Env) -> (String, String) {
    let scope_id = "8f1d3a62-5c7e-4b9a-9d2f-1e6c4b8a7d35";
    let app = env
        .post(
            "/applications",
            &json!({"displayName": "middle-tier", "api": {"oauth2PermissionScopes": [{
                "id": scope_id, "value": "access_as_user", "type": "User", "isEnabled": true,
                "adminConsentDisplayName": "Access the API", "adminConsentDescription": "Access the API as the user"}]}}),
        )
        .await
        .json();
    let (app_id, object_id) = (app["appId"].as_str().unwrap().to_owned(), app["id"].as_str().unwrap().to_owned());
    let r =
        env.patch(&format!("/applications/{object_id}"), &json!({"identifierUris": [format!("api://{app_id}")]})).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let sp = env.post("/servicePrincipals", &json!({"appId": app_id})).await.json()["id"].as_str().unwrap().to_owned();
    let graph_sp = env.get("/servicePrincipals(appId='00000003-0000-0000-c000-000000000000')").await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = env
        .post(
            "/oauth2PermissionGrants",
            &json!({"clientId": sp, "consentType": "AllPrincipals", "resourceId": graph_sp, "scope": "User.Read"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let secret = env.post(&format!("/applications/{object_id}/addPassword"), &json!({})).await.json()["secretText"]
        .as_str()
        .unwrap()
        .to_owned();
    (app_id, secret)
}

async fn obo(env: &Env, middle: &str, secret: &str, assertion: &str) -> (u16, Value) {
    let r = env
        .http
        .post(env.mock.token_url())
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("requested_token_use", "on_behalf_of"),
            ("client_id", middle),
            ("client_secret", secret),
            ("assertion", assertion),
            ("scope", "https://graph.microsoft.com/User.Read"),
        ])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn on_behalf_of_trades_a_users_token_for_the_middle_tier_for_a_graph_token() {
    let env = env().await;
    let (middle, secret) = middle_tier(&env).await;
    let client_id = public_app(&env, "front-end").await;
    let b = browser();
    let url = authorize_url(&env, &client_id, "").replace(
        "scope=openid%20offline_access%20User.Read",
        &format!("scope=openid%20api%3A%2F%2F{middle}%2Faccess_as_user"),
    );
    let location = sign_in_and_consent(&env, &b, &url).await;
    let (status, body) = redeem(&env, &client_id, &query_of(&location)["code"], VERIFIER).await;
    assert_eq!(status, 200, "{body}");
    let api_token = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(claims(&api_token)["aud"], format!("api://{middle}"));
    assert_eq!(claims(&api_token)["scp"], "access_as_user");

    let (status, body) = obo(&env, &middle, &secret, &api_token).await;
    assert_eq!(status, 200, "{body}");
    let graph = claims(body["access_token"].as_str().unwrap());
    assert_eq!(
        (graph["aud"].as_str(), graph["scp"].as_str()),
        (Some("https://graph.microsoft.com"), Some("User.Read"))
    );
    assert_eq!(graph["appid"], middle);
    assert_eq!(graph["upn"], env.mock.admin_username());

    // The front end's own token is not for the middle tier: AADSTS50013.
    let (status, body) = obo(&env, &middle, &secret, &env.token).await;
    assert_eq!((status, body["error_codes"][0].as_u64()), (400, Some(50013)), "{body}");
}

async fn token_error(env: &Env, form: &[(&str, &str)]) -> (u16, String, u64) {
    let r = env.http.post(env.mock.token_url()).form(form).send().await.unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    (status, body["error"].as_str().unwrap_or_default().to_owned(), body["error_codes"][0].as_u64().unwrap_or_default())
}

#[tokio::test]
async fn malformed_code_redemptions_get_entras_errors() {
    let env = env().await;
    let client_id = public_app(&env, "redeem-errors").await;
    let other = public_app(&env, "other-client").await;
    let b = browser();
    let code = query_of(&sign_in_and_consent(&env, &b, &authorize_url(&env, &client_id, "")).await)["code"].clone();
    let base = |client: &str, code: &str, redirect: &str| {
        vec![
            ("grant_type".to_owned(), "authorization_code".to_owned()),
            ("client_id".to_owned(), client.to_owned()),
            ("code".to_owned(), code.to_owned()),
            ("redirect_uri".to_owned(), redirect.to_owned()),
            ("code_verifier".to_owned(), VERIFIER.to_owned()),
        ]
    };
    let send = |form: Vec<(String, String)>| {
        let env = &env;
        async move {
            let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            token_error(env, &pairs).await
        }
    };
    assert_eq!(send(base(&client_id, "garbage", REDIRECT)).await, (400, "invalid_grant".into(), 9002313));
    assert_eq!(
        send(base(&other, &code, REDIRECT)).await,
        (400, "invalid_grant".into(), 70000),
        "another client's code"
    );
    assert_eq!(send(base(&client_id, &code, "http://localhost/other")).await, (400, "invalid_grant".into(), 500112));
    let mut no_verifier = base(&client_id, &code, REDIRECT);
    no_verifier.pop();
    assert_eq!(send(no_verifier).await, (400, "invalid_request".into(), 900144));
    let mut no_code = base(&client_id, &code, REDIRECT);
    no_code.remove(2);
    assert_eq!(send(no_code).await, (400, "invalid_request".into(), 900144));

    // A code from another tenant of the same server.
    let created: Value =
        env.http.post(format!("{}/tenants", env.mock.control_url())).send().await.unwrap().json().await.unwrap();
    let other_token_url =
        format!("{}/{}/oauth2/v2.0/token", env.mock.authority(), created["tenant_id"].as_str().unwrap());
    let r = env.http.post(other_token_url).form(&base(&client_id, &code, REDIRECT)).send().await.unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error_codes"][0], 700005, "{body}");

    // Codes live ten minutes on the tenant clock.
    let later = query_of(&sign_in_and_consent(&env, &b, &authorize_url(&env, &client_id, "")).await)["code"].clone();
    let advance = format!("{}/tenants/{}/clock/advance", env.mock.control_url(), env.mock.tenant_id());
    env.http.post(advance).json(&json!({"seconds": 601})).send().await.unwrap();
    assert_eq!(send(base(&client_id, &later, REDIRECT)).await, (400, "invalid_grant".into(), 70008));
}

#[tokio::test]
async fn malformed_authorize_requests_get_entras_errors_on_the_page_or_at_the_redirect() {
    let env = env().await;
    let client_id = public_app(&env, "authorize-errors").await;
    let b = browser();
    let page = |url: String| {
        let b = &b;
        async move {
            let r = b.get(url).await;
            let status = r.status().as_u16();
            let location = r.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
            (status, location, r.text().await.unwrap())
        }
    };
    let base = format!("{}/{}/oauth2/v2.0/authorize", env.mock.authority(), env.mock.tenant_id());
    let (status, location, html) = page(format!("{base}?response_type=code&scope=openid")).await;
    assert_eq!((status, location), (400, None));
    assert!(html.contains("AADSTS900144"), "missing client_id: {html}");
    let (status, _, html) =
        page(format!("{base}?client_id=0d0c7bd8-3a4f-4a61-9f2e-61e0c6a0f8b1&response_type=code&scope=openid")).await;
    assert_eq!(status, 400);
    assert!(html.contains("AADSTS700016"), "{html}");
    let (status, _, html) =
        page(authorize_url(&env, &client_id, "").replace(&env.mock.tenant_id().to_string(), "nosuchtenant.example"))
            .await;
    assert_eq!(status, 400);
    assert!(html.contains("AADSTS90002"), "{html}");

    let redirected = |extra: &str, drop: &str| authorize_url(&env, &client_id, extra).replace(drop, "");
    let (status, location, _) = page(redirected("", "response_type=code&")).await;
    let q = query_of(&location.expect("redirected"));
    assert_eq!((status, q["error"].as_str()), (302, "invalid_request"));
    assert!(q["error_description"].starts_with("AADSTS900144:"));
    let (_, location, _) = page(redirected("&response_type=token", "response_type=code&")).await;
    assert_eq!(query_of(&location.unwrap())["error"], "unsupported_response_type");
    let (_, location, _) = page(redirected("&prompt=sometimes", "")).await;
    assert_eq!(query_of(&location.unwrap())["error"], "invalid_request");
    let (_, location, _) = page(redirected("&response_mode=fragment&prompt=none", "")).await;
    let location = location.unwrap();
    assert!(location.starts_with(&format!("{REDIRECT}#error=login_required")), "{location}");
    let (status, _, html) = page(redirected("&response_mode=form_post&prompt=none", "")).await;
    assert_eq!(status, 200);
    assert!(html.contains("name=\"error\" value=\"login_required\""), "{html}");
}

#[tokio::test]
async fn a_federated_assertion_from_an_untrusted_issuer_or_subject_is_refused() {
    let env = env().await;
    let app = env.post("/applications", &json!({"displayName": "wif-errors"})).await.json();
    let app_id = app["appId"].as_str().unwrap();
    env.post("/servicePrincipals", &json!({"appId": app_id})).await;
    let fic = json!({"name": "ci", "issuer": "https://issuer.example", "subject": "repo:a/b", "audiences": ["api://AzureADTokenExchange"]});
    env.post(&format!("/applications/{}/federatedIdentityCredentials", app["id"].as_str().unwrap()), &fic).await;
    let unsigned = |claims: Value| {
        format!("{}.{}.{}", b64(br#"{"alg":"RS256","kid":"k"}"#), b64(claims.to_string().as_bytes()), b64(b"sig"))
    };
    let send = |assertion: String| {
        let env = &env;
        async move {
            token_error(
                env,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", app_id),
                    ("scope", "https://graph.microsoft.com/.default"),
                    ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                    ("client_assertion", &assertion),
                ],
            )
            .await
        }
    };
    let claims = |iss: &str, sub: &str, aud: &str| json!({"iss": iss, "sub": sub, "aud": aud, "exp": 4102444800i64});
    assert_eq!(
        send(unsigned(claims("https://other.example", "repo:a/b", "api://AzureADTokenExchange"))).await.2,
        700211
    );
    assert_eq!(
        send(unsigned(claims("https://issuer.example", "repo:x/y", "api://AzureADTokenExchange"))).await.2,
        700213
    );
    assert_eq!(send(unsigned(claims("https://issuer.example", "repo:a/b", "api://Other"))).await.2, 700212);
    let (status, _, code) =
        send(unsigned(claims("https://issuer.example", "repo:a/b", "api://AzureADTokenExchange"))).await;
    assert_eq!((status, code), (400, 50166), "no keys registered for the issuer");
}

#[tokio::test]
async fn prompt_login_asks_again_and_select_account_offers_the_signed_in_account() {
    let env = env().await;
    let client_id = public_app(&env, "prompts").await;
    let b = browser();
    sign_in_and_consent(&env, &b, &authorize_url(&env, &client_id, "")).await;
    let r = b.get(authorize_url(&env, &client_id, "&prompt=login")).await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("id=\"signin\""), "prompt=login shows the form despite the session");
    let html = b.get(authorize_url(&env, &client_id, "&prompt=select_account")).await.text().await.unwrap();
    assert!(html.contains(env.mock.admin_username()), "{html}");
    let (action, fields) = form_of(&html, "pick");
    let r = post_form(&b, &action, &fields, &[]).await;
    assert_eq!(r.status(), 302);
    assert!(r.headers()["location"].to_str().unwrap().contains("code="));
}

#[tokio::test]
async fn the_sign_in_page_escapes_what_the_request_put_in_it() {
    let env = env().await;
    let client_id = public_app(&env, "escape").await;
    let hint = urlencode("\"><script>alert(1)</script>");
    let html = browser().get(authorize_url(&env, &client_id, &format!("&login_hint={hint}&extra=%3Cimg%3E"))).await;
    let headers = html.headers().clone();
    let html = html.text().await.unwrap();
    assert!(!html.contains("<script>alert(1)"), "{html}");
    assert!(html.contains("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
    assert!(!html.contains("<img>"));
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
}

#[tokio::test]
async fn with_user_consent_off_a_user_who_is_not_an_admin_is_told_to_ask_one() {
    let env = env().await;
    let client_id = public_app(&env, "no-user-consent").await;
    env.create_user("plain", "Plain User").await;
    let settings = format!("{}/tenants/{}/signin/settings", env.mock.control_url(), env.mock.tenant_id());
    let r = env.http.put(settings).json(&json!({"userConsent": false})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let b = browser();
    let html = b.get(authorize_url(&env, &client_id, "")).await.text().await.unwrap();
    let (action, fields) = form_of(&html, "signin");
    let upn = env.upn("plain");
    let r = post_form(&b, &action, &fields, &[("login", upn.as_str()), ("passwd", "Vk3#pL9!wQz2")]).await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("AADSTS90094"));
}

#[tokio::test]
async fn userinfo_answers_for_the_signed_in_user_and_logout_ends_the_session() {
    let env = env().await;
    let client_id = public_app(&env, "userinfo").await;
    let b = browser();
    let location = sign_in_and_consent(&env, &b, &authorize_url(&env, &client_id, "")).await;
    let (_, body) = redeem(&env, &client_id, &query_of(&location)["code"], VERIFIER).await;
    let r = env
        .http
        .get(format!("{}/oidc/userinfo", env.mock.authority()))
        .bearer_auth(body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let info: Value = r.json().await.unwrap();
    assert_eq!(info["sub"], claims(body["id_token"].as_str().unwrap())["sub"], "userinfo's sub is the id_token's");
    let r =
        env.http.get(format!("{}/oidc/userinfo", env.mock.authority())).bearer_auth(&env.token).send().await.unwrap();
    assert_eq!(r.status(), 401, "an app-only token has no user");

    let logout = format!(
        "{}/{}/oauth2/v2.0/logout?client_id={client_id}&post_logout_redirect_uri={}&state=bye",
        env.mock.authority(),
        env.mock.tenant_id(),
        urlencode(REDIRECT)
    );
    let r = b.get(logout).await;
    assert_eq!(r.status(), 302);
    assert_eq!(r.headers()["location"], format!("{REDIRECT}?state=bye").as_str());
    let r = b.get(authorize_url(&env, &client_id, "&prompt=none")).await;
    assert_eq!(query_of(r.headers()["location"].to_str().unwrap())["error"], "login_required", "signed out");
}

#[tokio::test]
async fn a_code_for_a_user_deleted_since_signing_in_is_refused_not_a_server_error() {
    let env = env().await;
    let client_id = public_app(&env, "deleted-user").await;
    let id = env.create_user("gone", "Gone User").await;
    let b = browser();
    let html = b.get(authorize_url(&env, &client_id, "")).await.text().await.unwrap();
    let (action, fields) = form_of(&html, "signin");
    let upn = env.upn("gone");
    let r = post_form(&b, &action, &fields, &[("login", upn.as_str()), ("passwd", "Vk3#pL9!wQz2")]).await;
    let (action, fields) = form_of(&r.text().await.unwrap(), "consent");
    let r = post_form(&b, &action, &fields, &[("consent", "accept")]).await;
    let code = query_of(r.headers()["location"].to_str().unwrap())["code"].clone();
    assert_eq!(env.delete(&format!("/users/{id}")).await.status, 204);
    let (status, body) = redeem(&env, &client_id, &code, VERIFIER).await;
    assert_eq!((status, body["error_codes"][0].as_u64()), (400, Some(50034)), "{body}");
}
