//! Sign-in through a federated domain's IdP, end to end: the authorize page
//! sends the user to the IdP, a test IdP (`graphbox_mock::test_idp`) signs the
//! answer, the browser posts it to `/login.srf`, and the authorize flow goes on
//! as after a password — a code for the app, redeemed for the right user's
//! tokens. Every refusal is Entra's AADSTS code on the page.

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use graphbox_mock::test_idp::{Claims, SignInRequest, TestIdp};
use serde_json::{json, Value};

use crate::support::{env, frozen_instant, new_user, Env, Reply};

const DOMAIN: &str = "fed.example";
const ISSUER: &str = "https://idp.fed.example/adfs/services/trust";
const REDIRECT: &str = "http://localhost/federated-cb";
const ADA_IMMUTABLE_ID: &str = "AAECAwQFBgcICQoLDA0ODw==";
const BOB_IMMUTABLE_ID: &str = "Qm9iLWltbXV0YWJsZS0wMQ==";

struct Federated {
    env: Env,
    idp: TestIdp,
    app_id: String,
    ada: String,
    http: reqwest::Client,
}

/// A tenant whose `fed.example` is federated to a fresh test IdP over
/// `protocol`, with two users of that domain and a public client app.
async fn federated(protocol: &str) -> Federated {
    let env = env().await;
    let idp = TestIdp::generate(ISSUER).unwrap();
    assert_eq!(env.post("/domains", &json!({"id": DOMAIN})).await.status, 201);
    assert_eq!(env.post(&format!("/domains/{DOMAIN}/verify"), &json!({})).await.status, 200);
    let r = env
        .post(
            &format!("/domains/{DOMAIN}/federationConfiguration"),
            &json!({
                "displayName": "Fabrikam IdP",
                "issuerUri": idp.issuer(),
                "passiveSignInUri": "https://idp.fed.example/adfs/ls/",
                "signingCertificate": idp.signing_certificate(),
                "preferredAuthenticationProtocol": protocol,
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let mut ada = new_user(&format!("ada@{DOMAIN}"), "Ada");
    ada["onPremisesImmutableId"] = json!(ADA_IMMUTABLE_ID);
    let r = env.post("/users", &ada).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let ada = r.json()["id"].as_str().unwrap().to_owned();
    let mut bob = new_user(&format!("bob@{DOMAIN}"), "Bob");
    bob["onPremisesImmutableId"] = json!(BOB_IMMUTABLE_ID);
    assert_eq!(env.post("/users", &bob).await.status, 201);
    let r = env
        .post(
            "/applications",
            &json!({"displayName": "federated-signin", "publicClient": {"redirectUris": [REDIRECT]}, "isFallbackPublicClient": true}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let app_id = r.json()["appId"].as_str().unwrap().to_owned();
    assert_eq!(env.post("/servicePrincipals", &json!({"appId": app_id})).await.status, 201);
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    Federated { env, idp, app_id, ada, http }
}

impl Federated {
    /// The sign-in form for Ada; returns what the redirect asks of the IdP
    /// (the context to hand back, the request to answer).
    async fn start(&self) -> SignInRequest {
        self.start_at(&self.env.mock.tenant_id().to_string()).await
    }

    /// The same, through the authorize endpoint of `tenant` (an id, or
    /// `organizations`).
    async fn start_at(&self, tenant: &str) -> SignInRequest {
        let url = format!("{}/{tenant}/oauth2/v2.0/authorize", self.env.mock.authority());
        let r = self
            .env
            .send(self.http.post(url).form(&[
                ("client_id", self.app_id.as_str()),
                ("response_type", "code"),
                ("redirect_uri", REDIRECT),
                ("scope", "openid profile User.Read"),
                ("state", "s1"),
                ("graphbox_step", "signin"),
                ("login", &format!("ada@{DOMAIN}")),
            ]))
            .await;
        assert_eq!(r.status, 302, "{}", r.text);
        let location = r.header("location").unwrap();
        SignInRequest::from_redirect(location, self.env.mock.authority()).expect("a WS-Fed or SAML request")
    }

    async fn post_back(&self, fields: &[(&str, &str)]) -> Reply {
        self.env.send(self.http.post(format!("{}/login.srf", self.env.mock.authority())).form(fields)).await
    }

    async fn ws_fed(&self, wresult: &str) -> Reply {
        let request = self.start().await;
        self.post_back(&[("wa", "wsignin1.0"), ("wresult", wresult), ("wctx", &request.context)]).await
    }

    /// Past consent (first sign-in of a user to the app), to the code.
    async fn to_code(&self, r: Reply) -> String {
        let r = if r.status == 200 && r.text.contains("name=\"consent\"") {
            let cookie = r.header("set-cookie").expect("a session").split(';').next().unwrap().to_owned();
            let mut fields = hidden_fields(&r.text);
            fields.push(("consent".into(), "accept".into()));
            let url = format!("{}/{}/oauth2/v2.0/authorize", self.env.mock.authority(), self.env.mock.tenant_id());
            self.env.send(self.http.post(url).header("cookie", cookie).form(&fields)).await
        } else {
            r
        };
        assert_eq!(r.status, 302, "{}", r.text);
        let url = reqwest::Url::parse(r.header("location").unwrap()).unwrap();
        assert!(url.as_str().starts_with(REDIRECT), "{url}");
        let q: HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q.get("state").map(String::as_str), Some("s1"));
        q.get("code").unwrap_or_else(|| panic!("no code: {url}")).clone()
    }

    /// Redeem `code`; the access token's claims.
    async fn redeem(&self, code: &str) -> Value {
        let r = self
            .env
            .send(self.http.post(self.env.mock.token_url()).form(&[
                ("grant_type", "authorization_code"),
                ("client_id", self.app_id.as_str()),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("scope", "openid profile User.Read"),
            ]))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let token = r.json()["access_token"].as_str().unwrap().to_owned();
        let payload = token.split('.').nth(1).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
    }
}

fn hidden_fields(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for part in html.split("<input type=\"hidden\" ").skip(1) {
        let attr = |name: &str| {
            part.split(&format!("{name}=\"")).nth(1).and_then(|v| v.split('"').next()).map(|v| {
                v.replace("&amp;", "&")
                    .replace("&quot;", "\"")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&#39;", "'")
            })
        };
        if let (Some(n), Some(v)) = (attr("name"), attr("value")) {
            out.push((n, v));
        }
    }
    out
}

fn claims(immutable_id: &str) -> Claims {
    Claims::new(immutable_id, &format!("ada@{DOMAIN}"), frozen_instant().into())
}

/// The AADSTS message the error page shows.
fn page_error(r: &Reply) -> String {
    r.text
        .split("<p class=\"error\" role=\"alert\">")
        .nth(1)
        .and_then(|t| t.split("</p>").next())
        .unwrap_or_else(|| panic!("no error on the page ({}): {}", r.status, r.text))
        .to_owned()
}

#[tokio::test]
async fn a_ws_federation_answer_with_a_saml11_assertion_signs_the_user_in_and_the_code_is_theirs() {
    let f = federated("wsFed").await;
    let r = f.ws_fed(&f.idp.ws_federation_response(&claims(ADA_IMMUTABLE_ID))).await;
    let code = f.to_code(r).await;
    let token = f.redeem(&code).await;
    assert_eq!(token["oid"], json!(f.ada));
    assert_eq!(token["upn"], json!(format!("ada@{DOMAIN}")));
}

#[tokio::test]
async fn a_ws_federation_answer_with_a_saml2_assertion_signs_the_user_in() {
    let f = federated("wsFed").await;
    let r = f.ws_fed(&f.idp.ws_federation_saml2_response(&claims(ADA_IMMUTABLE_ID))).await;
    let code = f.to_code(r).await;
    assert_eq!(f.redeem(&code).await["oid"], json!(f.ada));
}

#[tokio::test]
async fn a_saml_response_posted_with_its_relay_state_signs_the_user_in() {
    let f = federated("saml").await;
    let request = f.start().await;
    assert!(request.request_id.is_some(), "{request:?}");
    let answer = f.idp.saml_response(&claims(ADA_IMMUTABLE_ID).answering(&request));
    let r = f.post_back(&[("SAMLResponse", &answer), ("RelayState", &request.context)]).await;
    let code = f.to_code(r).await;
    assert_eq!(f.redeem(&code).await["oid"], json!(f.ada));
}

#[tokio::test]
async fn the_idp_answer_is_refused_with_entras_aadsts_codes_on_the_page() {
    let f = federated("wsFed").await;
    let tenant = f.env.mock.tenant_id().to_string();
    let mut seen = serde_json::Map::new();
    let mut record = |case: &str, r: &Reply| {
        let message = page_error(r).replace(&tenant, "[tenant]");
        seen.insert(case.into(), json!({"status": r.status, "message": message}));
    };

    // Tampered: Bob's immutable id put in the signed assertion after signing.
    let signed = f.idp.ws_federation_response(&claims(ADA_IMMUTABLE_ID));
    let tampered = signed.replace(ADA_IMMUTABLE_ID, BOB_IMMUTABLE_ID);
    assert_ne!(signed, tampered);
    record("tampered_name_id", &f.ws_fed(&tampered).await);

    // Signed by a key the domain does not have (same issuer name).
    let impostor = TestIdp::generate(ISSUER).unwrap();
    record("wrong_certificate", &f.ws_fed(&impostor.ws_federation_response(&claims(ADA_IMMUTABLE_ID))).await);

    // Expired: issued two hours before the tenant's now, valid for one.
    let mut old = claims(ADA_IMMUTABLE_ID);
    old.issued_at = (frozen_instant() - time::Duration::hours(2)).into();
    record("expired", &f.ws_fed(&f.idp.ws_federation_response(&old)).await);

    // Within the clock skew Entra allows, still accepted.
    let mut skewed = claims(ADA_IMMUTABLE_ID);
    skewed.issued_at = (frozen_instant() + time::Duration::minutes(3)).into();
    let r = f.ws_fed(&f.idp.ws_federation_response(&skewed)).await;
    assert!(!r.text.contains("class=\"error\""), "{}", r.text);

    record("unknown_immutable_id", &f.ws_fed(&f.idp.ws_federation_response(&claims("bm8tc3VjaC11c2Vy"))).await);

    let mut elsewhere = claims(ADA_IMMUTABLE_ID);
    elsewhere.audience = "https://some-other-rp.example/".into();
    record("wrong_audience", &f.ws_fed(&f.idp.ws_federation_response(&elsewhere)).await);

    let stranger = TestIdp::generate("https://idp.unknown.example/issuer").unwrap();
    record("unknown_issuer", &f.ws_fed(&stranger.ws_federation_response(&claims(ADA_IMMUTABLE_ID))).await);

    let wctx = f.start().await.context;
    record("not_xml", &f.post_back(&[("wa", "wsignin1.0"), ("wresult", "<t:RSTR"), ("wctx", &wctx)]).await);
    record("no_context", &f.post_back(&[("wa", "wsignin1.0"), ("wresult", &signed)]).await);

    insta::assert_json_snapshot!(Value::Object(seen));
}

#[tokio::test]
async fn an_answer_signed_with_the_next_signing_certificate_is_accepted_during_a_rollover() {
    let f = federated("wsFed").await;
    let next = TestIdp::generate(ISSUER).unwrap();
    let list = f.env.get(&format!("/domains/{DOMAIN}/federationConfiguration")).await;
    let id = list.json()["value"][0]["id"].as_str().unwrap().to_owned();
    let r = f
        .env
        .patch(
            &format!("/domains/{DOMAIN}/federationConfiguration/{id}"),
            &json!({"nextSigningCertificate": next.signing_certificate()}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = f.ws_fed(&next.ws_federation_response(&claims(ADA_IMMUTABLE_ID))).await;
    let code = f.to_code(r).await;
    assert_eq!(f.redeem(&code).await["oid"], json!(f.ada));
}

#[tokio::test]
async fn a_disabled_federated_user_is_refused_after_the_idp_answers() {
    let f = federated("wsFed").await;
    assert_eq!(f.env.patch(&format!("/users/{}", f.ada), &json!({"accountEnabled": false})).await.status, 204);
    let r = f.ws_fed(&f.idp.ws_federation_response(&claims(ADA_IMMUTABLE_ID))).await;
    assert!(page_error(&r).starts_with("AADSTS50057"), "{}", r.text);
}

#[tokio::test]
async fn a_federated_user_approves_a_device_code_through_the_idp() {
    let f = federated("wsFed").await;
    let authority = f.env.mock.authority().to_owned();
    let devicecode = format!("{authority}/{}/oauth2/v2.0/devicecode", f.env.mock.tenant_id());
    let r =
        f.env.send(f.http.post(&devicecode).form(&[("client_id", f.app_id.as_str()), ("scope", "User.Read")])).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let flow = r.json();
    let page = format!("{authority}/devicelogin");
    let r = f
        .env
        .send(f.http.post(&page).form(&[
            ("otc", flow["user_code"].as_str().unwrap()),
            ("graphbox_step", "signin"),
            ("login", &format!("ada@{DOMAIN}")),
        ]))
        .await;
    assert_eq!(r.status, 302, "{}", r.text);
    let url = reqwest::Url::parse(r.header("location").unwrap()).unwrap();
    let wctx = url.query_pairs().find(|(k, _)| k == "wctx").unwrap().1.into_owned();
    let wresult = f.idp.ws_federation_response(&claims(ADA_IMMUTABLE_ID));
    let r = f.post_back(&[("wa", "wsignin1.0"), ("wresult", &wresult), ("wctx", &wctx)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    if r.text.contains("name=\"consent\"") {
        let cookie = r.header("set-cookie").unwrap().split(';').next().unwrap().to_owned();
        let mut fields = hidden_fields(&r.text);
        fields.push(("consent".into(), "accept".into()));
        let r = f.env.send(f.http.post(&page).header("cookie", cookie).form(&fields)).await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let r = f
        .env
        .send(f.http.post(f.env.mock.token_url()).form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("client_id", f.app_id.as_str()),
            ("device_code", flow["device_code"].as_str().unwrap()),
        ]))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let token = r.json()["access_token"].as_str().unwrap().to_owned();
    let payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').nth(1).unwrap()).unwrap()).unwrap();
    assert_eq!(payload["oid"], json!(f.ada));
}

/// The AADSTS code at the start of the page's error.
fn code_of(r: &Reply) -> String {
    page_error(r).split(':').next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_saml_answer_is_bound_to_the_request_that_sent_the_user_each_mismatch_refused() {
    let f = federated("saml").await;
    let mut seen = serde_json::Map::new();
    let authority = f.env.mock.authority().to_owned();
    let mut record = |case: &str, r: &Reply| {
        let message = page_error(r).replace(&authority, "[authority]");
        // Request ids are random: `_` and 32 hex digits.
        let message = regex_lite_redact(&message);
        seen.insert(case.into(), json!({"status": r.status, "message": message}));
    };
    let fr = &f;
    let post = move |answer: String, relay: String| async move {
        fr.post_back(&[("SAMLResponse", &answer), ("RelayState", &relay)]).await
    };

    // Addressed to Entra's own login.srf, not this server's.
    let request = f.start().await;
    let mut c = claims(ADA_IMMUTABLE_ID).answering(&request);
    c.recipient = Some("https://login.microsoftonline.com/login.srf".into());
    record("destination_elsewhere", &post(f.idp.saml_response(&c), request.context.clone()).await);

    // In response to another sign-in's request.
    let request = f.start().await;
    let other = f.start().await;
    let c = claims(ADA_IMMUTABLE_ID).answering(&other);
    record("in_response_to_another_request", &post(f.idp.saml_response(&c), request.context.clone()).await);

    // A context this server never sent (an IdP-initiated answer, or a forged one).
    let forged = request.context.replace("graphbox_request=_", "graphbox_request=_0");
    assert_ne!(forged, request.context);
    let c = claims(ADA_IMMUTABLE_ID).answering(&request);
    record("context_names_no_request", &post(f.idp.saml_response(&c), forged).await);

    // The right answer signs Ada in; the same request cannot be answered twice,
    // and the same assertion cannot be posted into a new sign-in.
    let answer = f.idp.saml_response(&claims(ADA_IMMUTABLE_ID).answering(&request));
    let first = post(answer.clone(), request.context.clone()).await;
    assert!(!first.text.contains("class=\"error\""), "{}", first.text);
    record("request_answered_twice", &post(answer.clone(), request.context.clone()).await);
    insta::assert_json_snapshot!(Value::Object(seen));
}

/// Random request ids out of a message.
fn regex_lite_redact(message: &str) -> String {
    let mut out = String::new();
    let mut rest = message;
    // The page escapes the quotes around them.
    while let Some(at) = rest.find("&#39;_") {
        out.push_str(&rest[..at + 5]);
        let tail = &rest[at + 5..];
        let end = tail.find("&#39;").unwrap_or(tail.len());
        out.push_str("[request]");
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn a_replayed_assertion_is_refused_while_valid_as_entra_refuses_token_replay() {
    let f = federated("wsFed").await;
    let wresult = f.idp.ws_federation_response(&claims(ADA_IMMUTABLE_ID));
    let first = f.ws_fed(&wresult).await;
    let code = f.to_code(first).await;
    assert_eq!(f.redeem(&code).await["oid"], json!(f.ada));
    // Captured and posted again, into a fresh sign-in of the attacker's own.
    let again = f.ws_fed(&wresult).await;
    assert_eq!(again.status, 400, "{}", again.text);
    assert_eq!(code_of(&again), "AADSTS50013");
    insta::assert_snapshot!(page_error(&again).replace(&wresult_id(&wresult), "[assertion]"));
    // A new assertion for the same user is fine.
    let fresh = f.ws_fed(&f.idp.ws_federation_response(&claims(ADA_IMMUTABLE_ID))).await;
    assert!(!fresh.text.contains("class=\"error\""), "{}", fresh.text);
}

fn wresult_id(wresult: &str) -> String {
    wresult.split("AssertionID=\"").nth(1).and_then(|v| v.split('"').next()).unwrap().to_owned()
}

#[tokio::test]
async fn a_ws_federation_answer_needs_the_wctx_this_server_sent() {
    let f = federated("wsFed").await;
    let wresult = f.idp.ws_federation_response(&claims(ADA_IMMUTABLE_ID));
    let request = f.start().await;
    let forged: String =
        request.context.split('&').filter(|p| !p.starts_with("graphbox_request=")).collect::<Vec<_>>().join("&");
    let r = f.post_back(&[("wa", "wsignin1.0"), ("wresult", &wresult), ("wctx", &forged)]).await;
    assert_eq!(code_of(&r), "AADSTS90081", "{}", r.text);
    insta::assert_snapshot!(page_error(&r));
    // The untouched context still works (the failed post used nothing up).
    let r = f.post_back(&[("wa", "wsignin1.0"), ("wresult", &wresult), ("wctx", &request.context)]).await;
    assert_eq!(f.redeem(&f.to_code(r).await).await["oid"], json!(f.ada));
}

#[tokio::test]
async fn a_saml2_recipient_other_than_this_servers_login_srf_is_refused_in_a_ws_federation_answer() {
    let f = federated("wsFed").await;
    let request = f.start().await;
    let mut c = claims(ADA_IMMUTABLE_ID).answering(&request);
    assert_eq!(request.reply_to, format!("{}/login.srf", f.env.mock.authority()));
    c.recipient = Some("https://sp.elsewhere.example/acs".into());
    let wresult = f.idp.ws_federation_saml2_response(&c);
    let r = f.post_back(&[("wa", "wsignin1.0"), ("wresult", &wresult), ("wctx", &request.context)]).await;
    assert_eq!(code_of(&r), "AADSTS50008", "{}", r.text);
    // Addressed to this server's own login.srf, it signs Ada in.
    let request = f.start().await;
    let c = claims(ADA_IMMUTABLE_ID).answering(&request);
    let wresult = f.idp.ws_federation_saml2_response(&c);
    let r = f.post_back(&[("wa", "wsignin1.0"), ("wresult", &wresult), ("wctx", &request.context)]).await;
    assert_eq!(f.redeem(&f.to_code(r).await).await["oid"], json!(f.ada));
}

#[tokio::test]
async fn a_federated_sign_in_started_at_organizations_continues_in_the_users_tenant() {
    let f = federated("wsFed").await;
    let request = f.start_at("organizations").await;
    let back = format!("graphbox_return=%2F{}%2Foauth2", f.env.mock.tenant_id());
    assert!(request.context.contains(&back), "{}", request.context);
    let wresult = f.idp.ws_federation_response(&claims(ADA_IMMUTABLE_ID).answering(&request));
    let r = f.post_back(&[("wa", "wsignin1.0"), ("wresult", &wresult), ("wctx", &request.context)]).await;
    assert_eq!(f.redeem(&f.to_code(r).await).await["oid"], json!(f.ada));
}
