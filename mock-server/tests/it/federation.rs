//! Federated domains (`domains/{id}/federationConfiguration`,
//! `internalDomainFederation`) and what federation changes for users and
//! sign-in: immutable ids, the federated UPN rule, realm discovery, the
//! redirect to the IdP and the refused password grant.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};

use crate::support::{env, new_user, Env};

const DOMAIN: &str = "fed.example";

/// The IdP's token-signing certificate, base64 DER (a fresh ECDSA key: quick).
fn idp_certificate() -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["idp.fed.example".to_owned()]).unwrap().self_signed(&key).unwrap();
    STANDARD.encode(cert.der())
}

fn settings(protocol: &str) -> Value {
    json!({
        "displayName": "Fabrikam IdP",
        "issuerUri": "https://idp.fed.example/issuer",
        "passiveSignInUri": "https://idp.fed.example/passive",
        "activeSignInUri": "https://idp.fed.example/trust/2005/usernamemixed",
        "metadataExchangeUri": "https://idp.fed.example/trust/mex",
        "signOutUri": "https://idp.fed.example/signout",
        "signingCertificate": idp_certificate(),
        "preferredAuthenticationProtocol": protocol,
        "federatedIdpMfaBehavior": "acceptIfMfaDoneByFederatedIdp",
        "promptLoginBehavior": "nativeSupport"
    })
}

async fn verified_domain(env: &Env, name: &str) {
    assert_eq!(env.post("/domains", &json!({"id": name})).await.status, 201);
    assert_eq!(env.post(&format!("/domains/{name}/verify"), &json!({})).await.status, 200);
}

/// A verified, federated domain; returns the configuration's id.
async fn federated(env: &Env, protocol: &str) -> String {
    verified_domain(env, DOMAIN).await;
    let r = env.post(&format!("/domains/{DOMAIN}/federationConfiguration"), &settings(protocol)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()["id"].as_str().unwrap().to_owned()
}

fn redacted(env: &Env, mut v: Value) -> Value {
    for key in ["signingCertificate", "nextSigningCertificate"] {
        if v.get(key).is_some_and(Value::is_string) {
            v[key] = json!("[certificate]");
        }
    }
    env.normalize(v)
}

#[tokio::test]
async fn creating_a_federation_configuration_answers_201_with_the_internal_domain_federation() {
    let env = env().await;
    verified_domain(&env, DOMAIN).await;
    let r = env.post(&format!("/domains/{DOMAIN}/federationConfiguration"), &settings("wsFed")).await;
    assert_eq!(r.status, 201, "{}", r.text);
    insta::assert_json_snapshot!(redacted(&env, r.json()), {
        ".id" => "[id]", ".signingCertificateUpdateStatus.lastRunDateTime" => "[time]"
    });
}

#[tokio::test]
async fn a_federated_domain_shows_authentication_type_federated_until_its_configuration_is_deleted() {
    let env = env().await;
    let id = federated(&env, "wsFed").await;
    assert_eq!(env.get(&format!("/domains/{DOMAIN}")).await.json()["authenticationType"], "Federated");

    let list = env.get(&format!("/domains/{DOMAIN}/federationConfiguration")).await;
    assert_eq!(list.status, 200, "{}", list.text);
    insta::assert_json_snapshot!(redacted(&env, list.json()), {
        ".value[].id" => "[id]",
        ".value[].signingCertificate" => "[certificate]",
        ".value[].signingCertificateUpdateStatus.lastRunDateTime" => "[time]"
    });
    let one = env.get(&format!("/domains/{DOMAIN}/federationConfiguration/{id}")).await;
    assert_eq!((one.status, one.json()["id"].as_str()), (200, Some(id.as_str())), "{}", one.text);

    let deleting_domain = env.delete(&format!("/domains/{DOMAIN}")).await;
    assert_eq!(deleting_domain.status, 400, "a federated domain is kept: {}", deleting_domain.text);

    assert_eq!(env.delete(&format!("/domains/{DOMAIN}/federationConfiguration/{id}")).await.status, 204);
    assert_eq!(env.get(&format!("/domains/{DOMAIN}")).await.json()["authenticationType"], "Managed");
    let list = env.get(&format!("/domains/{DOMAIN}/federationConfiguration")).await;
    assert_eq!(list.json()["value"], json!([]));
    assert_eq!(env.get(&format!("/domains/{DOMAIN}/federationConfiguration/{id}")).await.status, 404);
}

#[tokio::test]
async fn patching_a_federation_configuration_answers_200_with_the_updated_object() {
    let env = env().await;
    let id = federated(&env, "wsFed").await;
    let path = format!("/domains/{DOMAIN}/federationConfiguration/{id}");
    let r = env
        .patch(&path, &json!({"displayName": "Renamed", "federatedIdpMfaBehavior": "rejectMfaByFederatedIdp"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (r.json()["displayName"].as_str(), r.json()["federatedIdpMfaBehavior"].as_str()),
        (Some("Renamed"), Some("rejectMfaByFederatedIdp"))
    );
    assert_eq!(r.json()["issuerUri"], "https://idp.fed.example/issuer", "untouched properties stay");
    let bad = env.patch(&path, &json!({"preferredAuthenticationProtocol": "oidc"})).await;
    assert_eq!((bad.status, bad.error_code().as_str()), (400, "BadRequest"), "{}", bad.text);
}

#[tokio::test]
async fn only_a_verified_non_initial_domain_can_be_federated_and_only_once() {
    let env = env().await;
    let initial = env.mock.tenant_domain().to_owned();
    let r = env.post(&format!("/domains/{initial}/federationConfiguration"), &settings("wsFed")).await;
    assert_eq!((r.status, r.error_code().as_str()), (400, "Request_BadRequest"), "{}", r.text);
    assert!(r.error_message().contains("initial domain"), "{}", r.text);

    assert_eq!(env.post("/domains", &json!({"id": "pending.example"})).await.status, 201);
    let r = env.post("/domains/pending.example/federationConfiguration", &settings("wsFed")).await;
    assert_eq!((r.status, r.error_code().as_str()), (400, "Request_BadRequest"), "{}", r.text);
    assert!(r.error_message().contains("not verified"), "{}", r.text);

    let r = env.post("/domains/missing.example/federationConfiguration", &settings("wsFed")).await;
    assert_eq!((r.status, r.error_code().as_str()), (404, "Request_ResourceNotFound"), "{}", r.text);

    federated(&env, "wsFed").await;
    let again = env.post(&format!("/domains/{DOMAIN}/federationConfiguration"), &settings("saml")).await;
    assert_eq!(again.status, 409, "{}", again.text);
    insta::assert_json_snapshot!(again.json()["error"]["code"], @r#""Request_MultipleObjectsWithSameKeyValue""#);
}

#[tokio::test]
async fn a_signing_certificate_that_is_not_a_base64_certificate_is_refused() {
    let env = env().await;
    verified_domain(&env, DOMAIN).await;
    let path = format!("/domains/{DOMAIN}/federationConfiguration");
    for bad in ["not base64!", "aGVsbG8gd29ybGQ="] {
        let mut body = settings("wsFed");
        body["signingCertificate"] = json!(bad);
        let r = env.post(&path, &body).await;
        assert_eq!((r.status, r.error_code().as_str()), (400, "Request_BadRequest"), "{bad}: {}", r.text);
        assert!(r.error_message().contains("signingCertificate"), "{}", r.text);
    }
    let mut body = settings("wsFed");
    body.as_object_mut().unwrap().remove("issuerUri");
    let r = env.post(&path, &body).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.error_message().contains("issuerUri"), "{}", r.text);
    assert_eq!(env.get(&format!("/domains/{DOMAIN}")).await.json()["authenticationType"], "Managed");
}

#[tokio::test]
async fn creating_a_user_in_a_federated_domain_needs_an_immutable_id() {
    let env = env().await;
    federated(&env, "wsFed").await;
    let upn = format!("ada@{DOMAIN}");
    let r = env.post("/users", &new_user(&upn, "Ada")).await;
    assert_eq!(r.status, 400, "{}", r.text);
    insta::assert_json_snapshot!(r.json()["error"], {".innerError" => "[inner]"});

    let mut body = new_user(&upn, "Ada");
    body["onPremisesImmutableId"] = json!("QWRhLTAwMQ==");
    let r = env.post("/users", &body).await;
    assert_eq!(r.status, 201, "{}", r.text);
}

#[tokio::test]
async fn moving_a_user_into_a_federated_domain_needs_an_immutable_id_and_never_from_one_federation_to_another() {
    let env = env().await;
    federated(&env, "wsFed").await;
    let id = env.create_user("mover", "Mover").await;
    let path = format!("/users/{id}");
    let r = env.patch(&path, &json!({"userPrincipalName": format!("mover@{DOMAIN}")})).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.error_message().contains("SourceAnchor"), "{}", r.text);
    let r = env
        .patch(&path, &json!({"userPrincipalName": format!("mover@{DOMAIN}"), "onPremisesImmutableId": "TW92ZXI="}))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);

    // A second federated domain: the move must go through a managed domain.
    verified_domain(&env, "fed2.example").await;
    let mut other = settings("saml");
    other["issuerUri"] = json!("https://idp2.example/issuer");
    assert_eq!(env.post("/domains/fed2.example/federationConfiguration", &other).await.status, 201);
    let r = env.patch(&path, &json!({"userPrincipalName": "mover@fed2.example"})).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.error_message().contains("FederatedUser.UserPrincipalName"), "{}", r.text);
    assert_eq!(env.patch(&path, &json!({"userPrincipalName": env.upn("mover")})).await.status, 204);
    assert_eq!(env.patch(&path, &json!({"userPrincipalName": "mover@fed2.example"})).await.status, 204);

    let r = env.patch(&path, &json!({"onPremisesImmutableId": null})).await;
    assert_eq!(r.status, 400, "a federated user keeps its anchor: {}", r.text);
    let r = env.patch(&path, &json!({"passwordProfile": {"password": "Vk3#pL9!wQz2-new"}})).await;
    assert_eq!(r.status, 400, "the IdP owns the password: {}", r.text);
    assert!(r.error_message().contains("on-premises mastered"), "{}", r.text);
}

#[tokio::test]
async fn two_domains_of_a_tenant_cannot_share_an_issuer() {
    let env = env().await;
    federated(&env, "wsFed").await;
    verified_domain(&env, "fed2.example").await;
    let r = env.post("/domains/fed2.example/federationConfiguration", &settings("wsFed")).await;
    assert_eq!((r.status, r.error_code().as_str()), (400, "Request_BadRequest"), "{}", r.text);
    assert!(r.error_message().contains("issuerUri"), "{}", r.text);
}

#[tokio::test]
async fn user_realm_discovery_says_federated_with_the_ws_trust_endpoints() {
    let env = env().await;
    federated(&env, "wsFed").await;
    let r =
        env.send(env.http.get(format!("{}/common/userrealm/ada@{DOMAIN}?api-version=1.0", env.mock.authority()))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    insta::assert_json_snapshot!(r.json());
    let managed = env
        .send(env.http.get(format!("{}/common/userrealm/{}?api-version=1.0", env.mock.authority(), env.upn("x"))))
        .await;
    assert_eq!(managed.json()["account_type"], "Managed");
}

#[tokio::test]
async fn the_password_grant_is_refused_for_a_federated_user_as_entra_refuses_it_without_ws_trust() {
    let env = env().await;
    federated(&env, "wsFed").await;
    let mut body = new_user(&format!("ropc@{DOMAIN}"), "Ropc");
    body["onPremisesImmutableId"] = json!("Um9wYw==");
    assert_eq!(env.post("/users", &body).await.status, 201);
    let r = env
        .send(env.http.post(env.mock.token_url()).form(&[
            ("grant_type", "password"),
            ("client_id", env.mock.client_id().to_string().as_str()),
            ("client_secret", env.mock.client_secret()),
            ("scope", "https://graph.microsoft.com/.default"),
            ("username", &format!("ropc@{DOMAIN}")),
            ("password", "Vk3#pL9!wQz2"),
        ]))
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.json()["error_description"].as_str().unwrap().starts_with("AADSTS50126"), "{}", r.text);
}

/// Post the sign-in form for `login` to the authorize endpoint.
async fn sign_in(env: &Env, login: &str) -> crate::support::Reply {
    const REDIRECT: &str = "http://localhost/federated-cb";
    let r = env
        .post(
            "/applications",
            &json!({"displayName": "federated-signin", "publicClient": {"redirectUris": [REDIRECT]}, "isFallbackPublicClient": true}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let app_id = r.json()["appId"].as_str().unwrap().to_owned();
    assert_eq!(env.post("/servicePrincipals", &json!({"appId": app_id})).await.status, 201);
    let url = format!("{}/{}/oauth2/v2.0/authorize", env.mock.authority(), env.mock.tenant_id());
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    env.send(http.post(url).form(&[
        ("client_id", app_id.as_str()),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("scope", "openid"),
        ("state", "s1"),
        ("graphbox_step", "signin"),
        ("login", login),
        ("passwd", "ignored"),
    ]))
    .await
}

#[tokio::test]
async fn the_authorize_page_sends_a_federated_user_to_the_idp_with_a_ws_federation_request() {
    let env = env().await;
    federated(&env, "wsFed").await;
    let r = sign_in(&env, &format!("ada@{DOMAIN}")).await;
    assert_eq!(r.status, 302, "{}", r.text);
    let location = r.header("location").unwrap().to_owned();
    let url = reqwest::Url::parse(&location).unwrap();
    assert_eq!(url.as_str().split('?').next(), Some("https://idp.fed.example/passive"));
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["wa"], "wsignin1.0");
    assert_eq!(q["wtrealm"], "urn:federation:MicrosoftOnline");
    assert_eq!(q["username"], format!("ada@{DOMAIN}"));
    assert!(q["wctx"].contains("state=s1") && !q["wctx"].contains("passwd"), "{}", q["wctx"]);
}

#[tokio::test]
async fn the_authorize_page_sends_a_saml_federated_user_an_authn_request() {
    let env = env().await;
    federated(&env, "saml").await;
    let r = sign_in(&env, &format!("ada@{DOMAIN}")).await;
    assert_eq!(r.status, 302, "{}", r.text);
    let url = reqwest::Url::parse(r.header("location").unwrap()).unwrap();
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    let deflated = STANDARD.decode(&q["SAMLRequest"]).unwrap();
    // Stored DEFLATE blocks: a 5-byte header, then the XML as is.
    let xml = String::from_utf8_lossy(&deflated[5..]).into_owned();
    assert!(xml.starts_with("<samlp:AuthnRequest"), "{xml}");
    assert!(
        xml.contains("<Issuer xmlns=\"urn:oasis:names:tc:SAML:2.0:assertion\">urn:federation:MicrosoftOnline</Issuer>"),
        "{xml}"
    );
    assert!(q["RelayState"].contains("state=s1"), "{}", q["RelayState"]);
}
