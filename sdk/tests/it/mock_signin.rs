//! The sign-in credentials against the in-process mock: authorization code with PKCE (the test
//! plays the browser), device code (approved through the control API) and a federated client
//! assertion.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use graphbox_sdk::auth::{AuthorizationCodeFlow, ClientAssertionCredential, DeviceCodeCredential};
use graphbox_sdk::{GraphClient, SleepFuture, Sleeper};
use serde_json::{json, Value};

async fn mock() -> graphbox_mock::Graphbox {
    graphbox_mock::Graphbox::builder().plain_http().start().await.expect("mock starts")
}

async fn bootstrap_token(mock: &graphbox_mock::Graphbox) -> String {
    let body: Value = reqwest::Client::new()
        .post(mock.token_url())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &mock.client_id().to_string()),
            ("client_secret", mock.client_secret()),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

async fn graph_post(mock: &graphbox_mock::Graphbox, token: &str, path: &str, body: Value) -> Value {
    reqwest::Client::new()
        .post(format!("{}{path}", mock.graph_url()))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// A public client with a loopback redirect and tenant-wide consent for User.Read.
async fn public_app(mock: &graphbox_mock::Graphbox, token: &str) -> String {
    let app = graph_post(
        mock,
        token,
        "/applications",
        json!({"displayName": "sdk-signin", "isFallbackPublicClient": true,
        "publicClient": {"redirectUris": ["http://localhost/callback"]}}),
    )
    .await;
    let app_id = app["appId"].as_str().unwrap().to_owned();
    let sp = graph_post(mock, token, "/servicePrincipals", json!({"appId": app_id})).await;
    let graph: Value = reqwest::Client::new()
        .get(format!("{}/servicePrincipals(appId='00000003-0000-0000-c000-000000000000')", mock.graph_url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    graph_post(
        mock,
        token,
        "/oauth2PermissionGrants",
        json!({"clientId": sp["id"], "consentType": "AllPrincipals",
        "resourceId": graph["id"], "scope": "User.Read"}),
    )
    .await;
    app_id
}

/// Whether the client's token is one Graph accepts: a listing either works or is refused for
/// permissions (403), never for the token (401) or at the token endpoint.
async fn token_accepted(graph: &GraphClient) -> Result<(), String> {
    match graph.get_page::<Value>(&format!("{}/users?$top=1", graph.graph_url())).await {
        Ok(_) => Ok(()),
        Err(e) if e.as_graph_error().is_some_and(|g| g.is_forbidden()) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

fn hidden_fields(html: &str) -> Vec<(String, String)> {
    html.split("<input type=\"hidden\" ")
        .skip(1)
        .map(|tail| {
            let attr = |name: &str| {
                let at = tail.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                tail[at..at + tail[at..].find('"').unwrap()].replace("&amp;", "&").replace("&quot;", "\"")
            };
            (attr("name"), attr("value"))
        })
        .collect()
}

#[tokio::test]
async fn an_authorization_code_credential_redeems_the_code_then_refreshes() {
    let mock = mock().await;
    let token = bootstrap_token(&mock).await;
    let client_id = public_app(&mock, &token).await;
    let flow = AuthorizationCodeFlow::new(
        &client_id,
        "http://localhost:8400/callback",
        &["https://graph.microsoft.com/User.Read"],
    );
    let url = flow.authorize_url(mock.authority(), &mock.tenant_id().to_string());

    // The browser: the sign-in form, filled and posted.
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = browser.get(&url).send().await.unwrap().text().await.unwrap();
    let mut form = hidden_fields(&page);
    form.push(("login".into(), mock.admin_username().into()));
    form.push(("passwd".into(), mock.admin_password().into()));
    let action = format!("{}/{}/oauth2/v2.0/authorize", mock.authority(), mock.tenant_id());
    let r = browser.post(action).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 302, "{:?}", r.text().await);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let query = location.split_once('?').unwrap().1.to_owned();

    let credential = flow.credential(&query).expect("the redirect is this flow's");
    let graph = GraphClient::builder()
        .authority_host(mock.authority())
        .graph_url(mock.graph_url())
        .tenant(mock.tenant_id().to_string())
        .scope("https://graph.microsoft.com/User.Read")
        .credential(credential.clone())
        .build()
        .unwrap();
    token_accepted(&graph).await.expect("the code is redeemed");
    // A second credential sharing the state has no code left: it must use the refresh token.
    let again = GraphClient::builder()
        .authority_host(mock.authority())
        .graph_url(mock.graph_url())
        .tenant(mock.tenant_id().to_string())
        .scope("https://graph.microsoft.com/User.Read")
        .credential(credential)
        .build()
        .unwrap();
    token_accepted(&again).await.expect("refreshed with the stored refresh token");
}

/// Sleeps by moving the mock tenant's clock, so polling takes no wall time.
#[derive(Debug, Clone)]
struct TenantClockSleeper {
    url: String,
}

impl Sleeper for TenantClockSleeper {
    fn sleep(&self, d: Duration) -> SleepFuture {
        let url = self.url.clone();
        Box::pin(async move {
            reqwest::Client::new().post(url).json(&json!({"seconds": d.as_secs()})).send().await.unwrap();
        })
    }
}

#[tokio::test]
async fn a_device_code_credential_shows_the_message_and_polls_until_approved() {
    let mock = mock().await;
    let token = bootstrap_token(&mock).await;
    let client_id = public_app(&mock, &token).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let shown = Arc::new(std::sync::Mutex::new(String::new()));
    let seen = shown.clone();
    let credential = DeviceCodeCredential::new(&client_id, move |info| {
        *seen.lock().unwrap() = info.message.clone();
        tx.send(info.user_code.clone()).unwrap();
    });
    let approve = format!("{}/tenants/{}/devicecode/approve", mock.control_url(), mock.tenant_id());
    let admin = mock.admin_username().to_owned();
    tokio::spawn(async move {
        let code = rx.recv().await.unwrap();
        let r =
            reqwest::Client::new().post(approve).json(&json!({"userCode": code, "user": admin})).send().await.unwrap();
        assert_eq!(r.status(), 200);
    });
    let graph = GraphClient::builder()
        .authority_host(mock.authority())
        .graph_url(mock.graph_url())
        .tenant(mock.tenant_id().to_string())
        .scope("https://graph.microsoft.com/User.Read")
        .sleeper(TenantClockSleeper {
            url: format!("{}/tenants/{}/clock/advance", mock.control_url(), mock.tenant_id()),
        })
        .credential(credential)
        .build()
        .unwrap();
    token_accepted(&graph).await.expect("approved");
    assert!(shown.lock().unwrap().contains("/devicelogin"), "the callback got the message");
}

#[tokio::test]
async fn a_client_assertion_credential_uses_a_federated_token() {
    let mock = mock().await;
    let token = bootstrap_token(&mock).await;
    let app = graph_post(&mock, &token, "/applications", json!({"displayName": "sdk-workload"})).await;
    let app_id = app["appId"].as_str().unwrap().to_owned();
    graph_post(&mock, &token, "/servicePrincipals", json!({"appId": app_id})).await;
    let issuer = "https://ci.graphbox.test";
    let subject = "repo:graphbox/sdk:ref:refs/heads/main";
    graph_post(
        &mock,
        &token,
        &format!("/applications/{}/federatedIdentityCredentials", app["id"].as_str().unwrap()),
        json!({"name": "ci", "issuer": issuer, "subject": subject, "audiences": ["api://AzureADTokenExchange"]}),
    )
    .await;

    // The CI provider: an RSA key, its JWKS registered with the mock, a signed token.
    let pem = include_str!("../fixtures/test_key.pem");
    let der = base64::engine::general_purpose::STANDARD
        .decode(pem.lines().filter(|l| !l.starts_with("-----")).collect::<String>())
        .unwrap();
    let key = ring::signature::RsaKeyPair::from_pkcs8(&der).unwrap();
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let public = key.public();
    let parts = ring::rsa::PublicKeyComponents::<Vec<u8>>::from(public);
    let jwks = json!({"keys": [{"kty": "RSA", "kid": "ci-1", "n": b64(&parts.n), "e": b64(&parts.e)}]});
    let r = reqwest::Client::new()
        .put(format!("{}/tenants/{}/federation/issuers", mock.control_url(), mock.tenant_id()))
        .json(&json!({"issuer": issuer, "jwks": jwks}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let head = b64(br#"{"alg":"RS256","typ":"JWT","kid":"ci-1"}"#);
    let claims = b64(json!({"iss": issuer, "sub": subject, "aud": "api://AzureADTokenExchange",
                            "iat": now, "nbf": now, "exp": now + 600})
    .to_string()
    .as_bytes());
    let signed = format!("{head}.{claims}");
    let mut sig = vec![0; public.modulus_len()];
    key.sign(&ring::signature::RSA_PKCS1_SHA256, &ring::rand::SystemRandom::new(), signed.as_bytes(), &mut sig)
        .unwrap();
    let assertion = format!("{signed}.{}", b64(&sig));

    let graph = GraphClient::builder()
        .authority_host(mock.authority())
        .graph_url(mock.graph_url())
        .tenant(mock.tenant_id().to_string())
        .credential(ClientAssertionCredential::new(&app_id, move || Ok(assertion.clone())))
        .build()
        .unwrap();
    token_accepted(&graph).await.expect("the federated token is accepted");
}
