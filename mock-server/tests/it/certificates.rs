//! Certificate credentials: a client assertion signed with a key whose
//! certificate is on the application.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as B64};
use base64::Engine;
use serde_json::{json, Value};

use crate::consent::new_app;
use crate::support::{env, Env};

struct Cert {
    der: Vec<u8>,
    key: ring::signature::RsaKeyPair,
}

fn make_cert() -> Cert {
    use rsa::pkcs8::EncodePrivateKey;
    let private = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap();
    let pkcs8 = private.to_pkcs8_der().unwrap().as_bytes().to_vec();
    let key_der = rustls_pki_types::PrivatePkcs8KeyDer::from(pkcs8.clone());
    let signer = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&key_der, &rcgen::PKCS_RSA_SHA256).unwrap();
    let params = rcgen::CertificateParams::new(vec!["graphbox-client".to_owned()]).unwrap();
    let cert = params.self_signed(&signer).unwrap();
    Cert { der: cert.der().to_vec(), key: ring::signature::RsaKeyPair::from_pkcs8(&pkcs8).unwrap() }
}

fn assertion(cert: &Cert, client_id: &str, aud: &str, iat: i64, exp: i64) -> String {
    let thumb = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &cert.der);
    let header = json!({"alg": "RS256", "typ": "JWT", "x5t": B64.encode(thumb.as_ref())});
    let claims = json!({"aud": aud, "iss": client_id, "sub": client_id, "jti": "b7c3b0a4-1a3d-4c3b-9b1e-6d1f2a3c4e5f", "nbf": iat, "iat": iat, "exp": exp});
    let signing_input = format!("{}.{}", B64.encode(header.to_string()), B64.encode(claims.to_string()));
    let mut sig = vec![0u8; cert.key.public().modulus_len()];
    cert.key
        .sign(&ring::signature::RSA_PKCS1_SHA256, &ring::rand::SystemRandom::new(), signing_input.as_bytes(), &mut sig)
        .unwrap();
    format!("{signing_input}.{}", B64.encode(sig))
}

async fn assertion_token(env: &Env, client_id: &str, assertion: &str) -> crate::support::Reply {
    env.send(env.http.post(env.mock.token_url()).form(&[
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
        ("client_assertion", assertion),
        ("scope", "https://graph.microsoft.com/.default"),
    ]))
    .await
}

#[tokio::test]
async fn a_certificate_assertion_gets_a_token_and_bad_ones_get_their_aadsts_codes() {
    let env = env().await;
    let app = new_app(&env, "cert-app").await;
    let cert = make_cert();
    let app_object = env.get(&format!("/applications(appId='{}')", app.app_id)).await.json();
    let id = app_object["id"].as_str().unwrap();
    let patched = env
        .patch(&format!("/applications/{id}"), &json!({"keyCredentials": [{"type": "AsymmetricX509Cert", "usage": "Verify", "key": STANDARD.encode(&cert.der), "displayName": "CN=graphbox-client"}]}))
        .await;
    assert_eq!(patched.status, 204, "{}", patched.text);
    let shown = env.get(&format!("/applications/{id}?$select=keyCredentials")).await.json();
    assert_eq!(shown["keyCredentials"][0]["type"], "AsymmetricX509Cert");

    let now = crate::support::frozen_instant().unix_timestamp();
    let aud = env.mock.token_url();
    let good = assertion_token(&env, &app.app_id, &assertion(&cert, &app.app_id, &aud, now, now + 600)).await;
    assert_eq!(good.status, 200, "{}", good.text);
    let payload = good.json()["access_token"].as_str().unwrap().split('.').nth(1).unwrap().to_owned();
    let claims: Value = serde_json::from_slice(&B64.decode(payload).unwrap()).unwrap();
    assert_eq!(claims["appidacr"], "2", "certificate credentials");

    let other = make_cert();
    let cases = [
        ("expired", assertion(&cert, &app.app_id, &aud, now - 7200, now - 3600)),
        ("unknown_key", assertion(&other, &app.app_id, &aud, now, now + 600)),
        (
            "wrong_audience",
            assertion(&cert, &app.app_id, "https://login.microsoftonline.com/common/oauth2/v2.0/token", now, now + 600),
        ),
        ("tampered", {
            let a = assertion(&cert, &app.app_id, &aud, now, now + 600);
            let mut parts: Vec<String> = a.split('.').map(str::to_owned).collect();
            parts[1] =
                B64.encode(json!({"aud": aud, "iss": app.app_id, "sub": app.app_id, "exp": now + 99999}).to_string());
            parts.join(".")
        }),
        ("garbage", "not.a.jwt".to_owned()),
    ];
    let mut seen = serde_json::Map::new();
    for (name, a) in cases {
        let r = assertion_token(&env, &app.app_id, &a).await;
        let body = r.json();
        seen.insert(
            name.to_owned(),
            json!({"status": r.status, "error": body["error"], "error_codes": body["error_codes"]}),
        );
    }
    insta::assert_json_snapshot!(Value::Object(seen));
}

#[tokio::test]
async fn a_key_credential_that_is_not_a_certificate_is_refused() {
    let env = env().await;
    let app = new_app(&env, "bad-cert").await;
    let r = env
        .patch(&format!("/applications(appId='{}')", app.app_id), &json!({"keyCredentials": [{"type": "AsymmetricX509Cert", "usage": "Verify", "key": STANDARD.encode(b"not a certificate")}]}))
        .await;
    assert_eq!(r.status, 400);
}

fn proof(cert: &Cert, app_object_id: &str, nbf: i64) -> String {
    let thumb = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &cert.der);
    let header = json!({"alg": "RS256", "typ": "JWT", "x5t": B64.encode(thumb.as_ref())});
    let claims =
        json!({"aud": "00000002-0000-0000-c000-000000000000", "iss": app_object_id, "nbf": nbf, "exp": nbf + 600});
    let signing_input = format!("{}.{}", B64.encode(header.to_string()), B64.encode(claims.to_string()));
    let mut sig = vec![0u8; cert.key.public().modulus_len()];
    cert.key
        .sign(&ring::signature::RSA_PKCS1_SHA256, &ring::rand::SystemRandom::new(), signing_input.as_bytes(), &mut sig)
        .unwrap();
    format!("{signing_input}.{}", B64.encode(sig))
}

#[tokio::test]
async fn add_key_needs_proof_of_possession_of_a_current_certificate() {
    let env = env().await;
    let app = new_app(&env, "rolling-certs").await;
    let id = env.get(&format!("/applications(appId='{}')", app.app_id)).await.json()["id"].as_str().unwrap().to_owned();
    let (first, second) = (make_cert(), make_cert());
    let new_key = json!({"type": "AsymmetricX509Cert", "usage": "Verify", "key": STANDARD.encode(&second.der)});
    let now = crate::support::frozen_instant().unix_timestamp();

    let without_any = env
        .post(
            &format!("/applications/{id}/addKey"),
            &json!({"keyCredential": new_key, "proof": proof(&second, &id, now)}),
        )
        .await;
    assert_eq!(without_any.status, 400, "the first certificate goes in with PATCH");
    env.patch(&format!("/applications/{id}"), &json!({"keyCredentials": [{"type": "AsymmetricX509Cert", "usage": "Verify", "key": STANDARD.encode(&first.der)}]})).await;

    let wrong_signer = env
        .post(
            &format!("/applications/{id}/addKey"),
            &json!({"keyCredential": new_key, "proof": proof(&second, &id, now)}),
        )
        .await;
    assert_eq!(wrong_signer.status, 400);
    let added = env
        .post(
            &format!("/applications/{id}/addKey"),
            &json!({"keyCredential": new_key, "passwordCredential": null, "proof": proof(&first, &id, now)}),
        )
        .await;
    assert_eq!(added.status, 200, "{}", added.text);
    assert_eq!(added.json()["key"], Value::Null, "the key is not echoed");
    let keys = env.get(&format!("/applications/{id}?$select=keyCredentials")).await.json();
    assert_eq!(keys["keyCredentials"].as_array().unwrap().len(), 2);
    let first_key_id = keys["keyCredentials"][0]["keyId"].as_str().unwrap().to_owned();
    let removed = env
        .post(
            &format!("/applications/{id}/removeKey"),
            &json!({"keyId": first_key_id, "proof": proof(&second, &id, now)}),
        )
        .await;
    assert_eq!(removed.status, 204, "{}", removed.text);
}
