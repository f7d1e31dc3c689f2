//! The token endpoint and discovery.

use base64::Engine;
use serde_json::{json, Value};

use crate::support::env;

async fn token_request(env: &crate::support::Env, tenant: &str, form: &[(&str, &str)]) -> crate::support::Reply {
    let url = format!("{}/{tenant}/oauth2/v2.0/token", env.mock.authority());
    env.send(env.http.post(url).form(form)).await
}

#[tokio::test]
async fn client_credentials_token_has_graphs_claims_and_the_consented_roles() {
    let env = env().await;
    let client_id = env.mock.client_id().to_string();
    let r = token_request(
        &env,
        env.mock.tenant_domain(),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &client_id),
            ("client_secret", env.mock.client_secret()),
            ("scope", "https://graph.microsoft.com/.default"),
            ("client_info", "1"),
            ("claims", "{\"access_token\":{\"xms_cc\":{\"values\":[\"cp1\"]}}}"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.header("content-type").unwrap().starts_with("application/json"));
    let body = r.json();
    insta::assert_json_snapshot!(body, { ".access_token" => "[jwt]" });
    let token = body["access_token"].as_str().unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let header: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    let claims: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(header["alg"], "RS256");
    assert_eq!(claims["aud"], "https://graph.microsoft.com");
    assert_eq!(claims["iss"], format!("https://sts.windows.net/{}/", env.mock.tenant_id()));
    assert_eq!(claims["ver"], "1.0");
    assert_eq!(claims["idtyp"], "app");
    assert_eq!(claims["appid"], client_id);
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 3599);
    assert!(claims["roles"].as_array().unwrap().iter().any(|r| r == "User.ReadWrite.All"));
    assert!(claims["wids"].as_array().unwrap().iter().any(|w| w == "62e90394-69f5-4237-9190-012177145e10"));
}

#[tokio::test]
async fn token_endpoint_errors_use_the_identity_platforms_envelope() {
    let env = env().await;
    let client_id = env.mock.client_id().to_string();
    let tid = env.mock.tenant_id().to_string();
    let graph = "https://graph.microsoft.com/.default";
    type Case<'a> = (&'a str, String, Vec<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        (
            "unknown_tenant",
            "nosuch.onmicrosoft.com".into(),
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", &client_id),
                ("client_secret", "x"),
                ("scope", graph),
            ],
        ),
        (
            "empty_guid_tenant",
            "00000000-0000-0000-0000-000000000000".into(),
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", &client_id),
                ("client_secret", "x"),
                ("scope", graph),
            ],
        ),
        (
            "unknown_client",
            tid.clone(),
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", "3c9e8a71-2b4d-4f60-a8e5-7d1c0b9e2f34"),
                ("client_secret", "x"),
                ("scope", graph),
            ],
        ),
        (
            "wrong_secret",
            tid.clone(),
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", &client_id),
                ("client_secret", "wrong"),
                ("scope", graph),
            ],
        ),
        (
            "no_secret",
            tid.clone(),
            vec![("grant_type", "client_credentials"), ("client_id", &client_id), ("scope", graph)],
        ),
        (
            "delegated_scope",
            tid.clone(),
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", &client_id),
                ("client_secret", env.mock.client_secret()),
                ("scope", "User.Read"),
            ],
        ),
        (
            "missing_scope",
            tid.clone(),
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", &client_id),
                ("client_secret", env.mock.client_secret()),
            ],
        ),
        (
            "unknown_resource",
            tid.clone(),
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", &client_id),
                ("client_secret", env.mock.client_secret()),
                ("scope", "https://graph.microsoft.co/.default"),
            ],
        ),
        (
            "unsupported_grant",
            tid.clone(),
            vec![("grant_type", "implicit"), ("client_id", &client_id), ("scope", graph)],
        ),
    ];
    let mut seen = serde_json::Map::new();
    for (name, tenant, form) in cases {
        let r = token_request(&env, &tenant, &form).await;
        let body = r.json();
        let description = body["error_description"].as_str().unwrap();
        assert!(description.starts_with(&format!("AADSTS{}: ", body["error_codes"][0])), "{name}: {description}");
        assert!(description.contains("\r\nTrace ID: ") && description.contains("\r\nCorrelation ID: "), "{name}");
        let timestamp = body["timestamp"].as_str().unwrap();
        assert!(description.ends_with(&format!("\r\nTimestamp: {timestamp}")), "{name}");
        if !name.contains("tenant") {
            // Known tenants answer on their own (frozen) clock.
            assert_eq!(timestamp, "2026-03-02 10:00:00Z", "{name}");
        }
        let first_line = description.split("\r\n").next().unwrap().to_owned();
        seen.insert(
            name.to_owned(),
            json!({"status": r.status, "error": body["error"], "first_line": first_line, "error_codes": body["error_codes"], "error_uri": body["error_uri"]}),
        );
    }
    insta::assert_json_snapshot!(Value::Object(seen));
}

#[tokio::test]
async fn the_secret_may_also_come_as_http_basic() {
    let env = env().await;
    let url = env.mock.token_url();
    let r = env
        .send(
            env.http
                .post(url)
                .basic_auth(env.mock.client_id().to_string(), Some(env.mock.client_secret()))
                .form(&[("grant_type", "client_credentials"), ("scope", "https://graph.microsoft.com/.default")]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn discovery_builds_every_url_on_the_authority_the_client_used() {
    let env = env().await;
    let url = format!("{}/{}/v2.0/.well-known/openid-configuration", env.mock.authority(), env.mock.tenant_domain());
    let r = env.send(env.http.get(url)).await;
    assert_eq!(r.status, 200);
    let doc = r.json();
    let tid = env.mock.tenant_id();
    assert_eq!(doc["token_endpoint"], format!("{}/{tid}/oauth2/v2.0/token", env.mock.authority()));
    assert_eq!(doc["issuer"], format!("{}/{tid}/v2.0", env.mock.authority()));
    let keys = env.send(env.http.get(doc["jwks_uri"].as_str().unwrap())).await.json();
    assert_eq!(keys["keys"][0]["kty"], "RSA");
    let unknown = env
        .send(env.http.get(format!("{}/nosuch.example/v2.0/.well-known/openid-configuration", env.mock.authority())))
        .await;
    assert_eq!(unknown.status, 400);
    assert_eq!(unknown.json()["error_codes"][0], 90002);
}

/// graph-wire.md §1.3 (carried into the README): each key of Entra's set has `x5c`, a
/// certificate of the key, and `kid` = `x5t` = base64url SHA-1 of that certificate.
/// Clients that build the key from `x5c` (Microsoft.IdentityModel, Node's `jwks-rsa`) must
/// verify the mock's tokens with it.
#[tokio::test]
async fn the_jwks_key_comes_with_its_certificate_and_is_named_by_its_thumbprint_as_in_entra() {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    let env = env().await;
    let tid = env.mock.tenant_id();
    let jwks = env.send(env.http.get(format!("{}/{tid}/discovery/v2.0/keys", env.mock.authority()))).await;
    assert_eq!(jwks.status, 200, "{}", jwks.text);
    let jwks = jwks.json();
    let key = &jwks["keys"][0];
    insta::assert_json_snapshot!(key, {
        ".kid" => "[thumbprint]", ".x5t" => "[thumbprint]", ".n" => "[modulus]", ".x5c[]" => "[certificate]",
        ".issuer" => "[issuer]",
    });
    let chain = key["x5c"].as_array().expect("x5c is an array");
    assert_eq!(chain.len(), 1, "one self-signed certificate, as Entra publishes");
    let der = STANDARD.decode(chain[0].as_str().expect("a string")).expect("x5c is standard base64, padded");
    let thumbprint = URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &der));
    assert_eq!(key["x5t"], thumbprint.as_str(), "x5t is the certificate's SHA-1 thumbprint");
    assert_eq!(key["kid"], key["x5t"]);
    let subject = b"accounts.accesscontrol.windows.net";
    assert!(der.windows(subject.len()).any(|w| w == subject), "subject and issuer are Entra's signing subject");

    // The bootstrap token verifies with the certificate's key, and names it.
    let parts: Vec<&str> = env.token.split('.').collect();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["kid"], key["kid"]);
    assert_eq!(header["x5t"], key["kid"]);
    let der = rustls_pki_types::CertificateDer::from(der);
    let cert = webpki::EndEntityCert::try_from(&der).expect("x5c[0] is an X.509 certificate");
    let signed = &env.token[..parts[0].len() + 1 + parts[1].len()];
    let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    cert.verify_signature(webpki::ring::RSA_PKCS1_2048_8192_SHA256, signed.as_bytes(), &signature)
        .expect("the token verifies with the key in x5c");
}

#[tokio::test]
async fn a_tenants_token_never_reaches_another_tenants_objects() {
    let env = env().await;
    let other = env.mock.create_tenant();
    let other_token = crate::support::token_for(
        &env.http,
        &format!("{}/{}/oauth2/v2.0/token", other.authority, other.tenant_id),
        &other.client_id.to_string(),
        &other.client_secret,
    )
    .await;
    let mine = env.create_user("mine", "Only Mine").await;
    let r = env.send(env.http.get(env.url(&format!("/users/{mine}"))).bearer_auth(&other_token)).await;
    assert_eq!(r.status, 404);
    let listed = env.send(env.http.get(env.url("/users")).bearer_auth(&other_token)).await.json();
    assert!(listed["value"].as_array().unwrap().iter().all(|u| u["displayName"] != "Only Mine"));
    // The other tenant's secret does not work at this tenant's token endpoint.
    let cross = token_request(
        &env,
        &env.mock.tenant_id().to_string(),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &other.client_id.to_string()),
            ("client_secret", &other.client_secret),
            ("scope", "https://graph.microsoft.com/.default"),
        ],
    )
    .await;
    assert_eq!(cross.status, 400);
    assert_eq!(cross.json()["error_codes"][0], 700016);
}

/// A client-credentials token request for `app_id` with `secret`.
pub(crate) async fn token_reply(env: &crate::support::Env, app_id: &str, secret: &str) -> crate::support::Reply {
    token_request(
        env,
        &env.mock.tenant_id().to_string(),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", app_id),
            ("client_secret", secret),
            ("scope", "https://graph.microsoft.com/.default"),
        ],
    )
    .await
}

pub(crate) async fn token_status(env: &crate::support::Env, app_id: &str, secret: &str) -> u16 {
    token_reply(env, app_id, secret).await.status
}

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

async fn password_token(
    env: &crate::support::Env,
    username: &str,
    password: &str,
    scope: &str,
) -> crate::support::Reply {
    let client_id = env.mock.client_id().to_string();
    token_request(
        env,
        &env.mock.tenant_id().to_string(),
        &[
            ("grant_type", "password"),
            ("client_id", &client_id),
            ("username", username),
            ("password", password),
            ("scope", scope),
            ("client_info", "1"),
        ],
    )
    .await
}

#[tokio::test]
async fn the_admin_signs_in_with_the_password_grant_and_gets_a_delegated_token() {
    let env = env().await;
    let r = password_token(
        &env,
        env.mock.admin_username(),
        env.mock.admin_password(),
        "https://graph.microsoft.com/User.ReadWrite.All openid profile offline_access",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let body = r.json();
    assert_eq!(body["scope"], "User.ReadWrite.All openid profile offline_access");
    assert!(body["refresh_token"].is_string() && body["id_token"].is_string() && body["client_info"].is_string());
    let claims = claims_of(body["access_token"].as_str().unwrap());
    assert_eq!(claims["idtyp"], "user");
    assert_eq!(claims["scp"], "User.ReadWrite.All");
    assert_eq!(claims["upn"], env.mock.admin_username());
    assert_eq!(claims["appidacr"], "0", "the bootstrap app signs in as a public client here");
    assert!(claims.get("roles").is_none());
    let token = body["access_token"].as_str().unwrap();
    let created = env
        .send(
            env.http
                .post(env.url("/users"))
                .bearer_auth(token)
                .json(&crate::support::new_user(&env.upn("delegated"), "Delegated")),
        )
        .await;
    assert_eq!(created.status, 201, "a Global Administrator with User.ReadWrite.All may create users");
}

#[tokio::test]
async fn delegated_writes_need_a_directory_role_even_with_the_scope() {
    let env = env().await;
    let upn = env.upn("plain");
    env.create_user("plain", "Plain Member").await;
    let r = password_token(&env, &upn, "Vk3#pL9!wQz2", "https://graph.microsoft.com/User.ReadWrite.All").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let token = r.json()["access_token"].as_str().unwrap().to_owned();
    let list = env.send(env.http.get(env.url("/users")).bearer_auth(&token)).await;
    assert_eq!(list.status, 200, "members read the directory");
    let create = env
        .send(
            env.http
                .post(env.url("/users"))
                .bearer_auth(&token)
                .json(&crate::support::new_user(&env.upn("nope"), "Nope")),
        )
        .await;
    assert_eq!(create.status, 403);
    assert_eq!(create.error_code(), "Authorization_RequestDenied");
}

#[tokio::test]
async fn password_grant_failures_have_their_aadsts_codes() {
    let env = env().await;
    let wrong = password_token(&env, env.mock.admin_username(), "wrong-password", "User.Read").await;
    let missing = password_token(&env, &env.upn("ghost"), "x", "User.Read").await;
    let id = env.create_user("disabled", "Disabled").await;
    env.patch(&format!("/users/{id}"), &json!({"accountEnabled": false})).await;
    let disabled = password_token(&env, &env.upn("disabled"), "Vk3#pL9!wQz2", "User.Read").await;
    let unconsented = password_token(
        &env,
        env.mock.admin_username(),
        env.mock.admin_password(),
        "https://graph.microsoft.com/Group.Read.All",
    )
    .await;
    let two_resources = password_token(
        &env,
        env.mock.admin_username(),
        env.mock.admin_password(),
        "https://graph.microsoft.com/User.Read https://graph.windows.net/.default",
    )
    .await;
    let mut seen = serde_json::Map::new();
    for (name, r) in [
        ("wrong_password", wrong),
        ("unknown_user", missing),
        ("disabled_account", disabled),
        ("consent_missing", unconsented),
        ("two_resources", two_resources),
    ] {
        let body = r.json();
        seen.insert(
            name.to_owned(),
            json!({"status": r.status, "error": body["error"], "error_codes": body["error_codes"],
                   "first_line": body["error_description"].as_str().unwrap().split("\r\n").next().unwrap()}),
        );
    }
    insta::assert_json_snapshot!(env.normalize(Value::Object(seen)), {
        ".consent_missing.first_line" => "[mentions the client id]", ".unknown_user.first_line" => "[mentions the tenant id]"
    });
}

#[tokio::test]
async fn refresh_tokens_give_new_access_tokens_and_fail_once_consent_is_gone() {
    let env = env().await;
    let r =
        password_token(&env, env.mock.admin_username(), env.mock.admin_password(), "User.Read offline_access").await;
    let refresh = r.json()["refresh_token"].as_str().unwrap().to_owned();
    let client_id = env.mock.client_id().to_string();
    let tid = env.mock.tenant_id().to_string();
    let again = token_request(
        &env,
        &tid,
        &[("grant_type", "refresh_token"), ("client_id", &client_id), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(claims_of(again.json()["access_token"].as_str().unwrap())["scp"], "User.Read");
    let bogus = token_request(
        &env,
        &tid,
        &[("grant_type", "refresh_token"), ("client_id", &client_id), ("refresh_token", "nope")],
    )
    .await;
    assert_eq!(bogus.status, 400);
    assert_eq!(bogus.json()["error"], "invalid_grant");
    // Revoke the tenant-wide grant: the refresh token stops working.
    let grants = env.get("/oauth2PermissionGrants").await.json();
    let grant_id = grants["value"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(env.delete(&format!("/oauth2PermissionGrants/{grant_id}")).await.status, 204);
    let revoked = token_request(
        &env,
        &tid,
        &[("grant_type", "refresh_token"), ("client_id", &client_id), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(revoked.json()["error_codes"][0], 65001);
}

#[tokio::test]
async fn user_realm_discovery_says_every_tenant_is_managed() {
    let env = env().await;
    let url = format!("{}/common/userrealm/{}?api-version=1.0", env.mock.authority(), env.mock.admin_username());
    let body = env.send(env.http.get(url)).await.json();
    assert_eq!(body["account_type"], "Managed");
    let other = env
        .send(env.http.get(format!("{}/common/userrealm/x@elsewhere.example?api-version=1.0", env.mock.authority())))
        .await
        .json();
    assert_eq!(other["account_type"], "Unknown");
}

#[tokio::test]
async fn discovery_documents_for_a_tenant_and_for_common_have_entras_shape() {
    let env = env().await;
    let tenant_doc = env
        .send(env.http.get(format!(
            "{}/{}/v2.0/.well-known/openid-configuration",
            env.mock.authority(),
            env.mock.tenant_id()
        )))
        .await;
    let common_doc =
        env.send(env.http.get(format!("{}/common/v2.0/.well-known/openid-configuration", env.mock.authority()))).await;
    assert_eq!(common_doc.status, 200);
    assert!(common_doc.header("cache-control").unwrap().contains("max-age=86400"));
    let mut both = json!({"tenant": tenant_doc.json(), "common": common_doc.json()});
    let text = both.to_string().replace(&env.mock.tenant_id().to_string(), "[tenant id]");
    both = env.normalize(serde_json::from_str(&text).unwrap());
    insta::assert_json_snapshot!(both);
}

#[tokio::test]
async fn common_endpoints_find_the_users_tenant_and_refuse_single_tenant_apps_for_client_credentials() {
    let env = env().await;
    let client_id = env.mock.client_id().to_string();
    let ropc = token_request(
        &env,
        "organizations",
        &[
            ("grant_type", "password"),
            ("client_id", &client_id),
            ("username", env.mock.admin_username()),
            ("password", env.mock.admin_password()),
            ("scope", "User.Read"),
        ],
    )
    .await;
    assert_eq!(ropc.status, 200, "{}", ropc.text);
    let app_only = token_request(
        &env,
        "common",
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &client_id),
            ("client_secret", env.mock.client_secret()),
            ("scope", "https://graph.microsoft.com/.default"),
        ],
    )
    .await;
    assert_eq!(app_only.status, 400);
    assert_eq!(app_only.json()["error_codes"][0], 50194);
}
