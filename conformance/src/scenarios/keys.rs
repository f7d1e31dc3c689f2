//! Certificates on applications: the first one by PATCH, later ones by addKey with a proof of
//! possession (graph-wire.md §5.4; addKey's parameters keyCredential, passwordCredential and
//! proof are the CSDL's).

use base64::Engine as _;
use serde_json::json;

use super::support;
use super::wire::{id_of, status, Api};
use crate::context::{Cleanup, Ctx};
use crate::scenario;
use crate::scenario::{ensure, eq, Failure, Scenario};

/// A self-signed test certificate and its PKCS#8 key (the SDK's test fixtures).
const CERT_PEM: &str = include_str!("../../../sdk/tests/fixtures/test_cert.pem");
const KEY_PEM: &str = include_str!("../../../sdk/tests/fixtures/test_key.pem");

pub(crate) const SCENARIOS: &[Scenario] = &[
    scenario!(
        "keys::first_certificate_is_set_with_patch_key_credentials",
        "graph-wire.md §5.4: PATCH /applications/{id} → 204 (e.g. keyCredentials); the certificate is listed with type AsymmetricX509Cert and a keyId",
        [],
        patch_first
    ),
    scenario!(
        "keys::add_key_without_a_current_certificate_is_400",
        "graph-wire.md §5.4: certificates start with PATCH keyCredentials; addKey proves possession of a current one, so an application without one → 400",
        [],
        add_without_certificate
    ),
    scenario!(
        "keys::add_key_without_proof_is_400",
        "graph-wire.md §2.2 / §5.4: addKey needs its proof parameter → 400 Request_BadRequest naming it",
        [],
        add_without_proof
    ),
    scenario!(
        "keys::add_key_with_a_forged_proof_is_400",
        "graph-wire.md §2.2 / §5.4: a proof not signed by a current certificate of the application → 400 Request_BadRequest",
        [],
        add_forged_proof
    ),
    scenario!(
        "keys::add_key_with_a_proof_adds_the_certificate",
        "graph-wire.md §5.4 / §1.1: addKey with a proof JWT (RS256, x5t of a current certificate, aud 00000002-0000-0000-c000-000000000000, iss the application's object id) → 200 with the new keyCredential",
        [],
        add_with_proof
    ),
    scenario!(
        "keys::remove_key_with_a_proof_removes_the_certificate",
        "graph-wire.md §5.4 / §1.1: removeKey with keyId and a proof signed by a current certificate → 204; the certificate is gone",
        [],
        remove_with_proof
    ),
    scenario!(
        "keys::remove_key_needs_a_proof_too",
        "graph-wire.md §2.2 / §5.4: removeKey takes keyId and proof like addKey → 400 without the proof",
        [],
        remove_without_proof
    ),
];

fn pem_der(pem: &str) -> Result<Vec<u8>, Failure> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD.decode(body.trim()).map_err(|e| Failure::new(format!("PEM: {e}")))
}

/// A proof of possession as addKey and removeKey take it: a JWT signed with the certificate's
/// key, naming it by `x5t`, for AAD Graph's app id, issued by the application, ten minutes long.
fn proof(application_id: &str) -> Result<String, Failure> {
    use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let cert = pem_der(CERT_PEM)?;
    let thumbprint = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &cert);
    let header = json!({"alg": "RS256", "typ": "JWT", "x5t": b64.encode(thumbprint.as_ref())});
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = json!({"aud": "00000002-0000-0000-c000-000000000000", "iss": application_id,
        "nbf": now - 60, "exp": now + 480});
    let input = format!("{}.{}", b64.encode(header.to_string()), b64.encode(claims.to_string()));
    let key = RsaKeyPair::from_pkcs8(&pem_der(KEY_PEM)?).map_err(|e| Failure::new(format!("test key: {e}")))?;
    let mut signature = vec![0; key.public().modulus_len()];
    key.sign(&RSA_PKCS1_SHA256, &ring::rand::SystemRandom::new(), input.as_bytes(), &mut signature)
        .map_err(|e| Failure::new(format!("signing the proof: {e}")))?;
    Ok(format!("{input}.{}", b64.encode(signature)))
}

fn certificate_base64() -> String {
    let body: String = CERT_PEM.lines().filter(|l| !l.starts_with("-----")).collect();
    body.trim().to_owned()
}

async fn app(api: &Api) -> Result<String, Failure> {
    let r = api.post("/applications", json!({"displayName": api.cx.name("keys")})).await?;
    status(&r, 201)?;
    let id = id_of(&r)?;
    api.cx.cleanup(Cleanup::Application(id.clone()));
    Ok(id)
}

fn key_credential() -> serde_json::Value {
    json!({"type": "AsymmetricX509Cert", "usage": "Verify", "key": certificate_base64(), "displayName": "CN=graphbox-test"})
}

async fn app_with_certificate(api: &Api) -> Result<String, Failure> {
    let id = app(api).await?;
    status(&api.patch(&format!("/applications/{id}"), json!({"keyCredentials": [key_credential()]})).await?, 204)?;
    Ok(id)
}

async fn patch_first(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let id = app_with_certificate(&api).await?;
    let r = api.get(&format!("/applications/{id}?$select=keyCredentials")).await?;
    status(&r, 200)?;
    let keys = r.json["keyCredentials"].as_array().cloned().unwrap_or_default();
    eq("keyCredentials", keys.len(), 1)?;
    eq("type", keys[0]["type"].as_str(), Some("AsymmetricX509Cert"))?;
    ensure(keys[0]["keyId"].is_string(), format!("keyId: expected a GUID, got {}", keys[0]["keyId"]))
}

async fn add_without_certificate(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let id = app(&api).await?;
    let r = api
        .post(&format!("/applications/{id}/addKey"), json!({"keyCredential": key_credential(), "proof": "x.y.z"}))
        .await?;
    support::expect_error(&r, 400, "Request_BadRequest", None)
}

async fn add_without_proof(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let id = app_with_certificate(&api).await?;
    let r = api.post(&format!("/applications/{id}/addKey"), json!({"keyCredential": key_credential()})).await?;
    support::expect_error(&r, 400, "Request_BadRequest", None)?;
    let message = r.json.pointer("/error/message").and_then(|m| m.as_str()).unwrap_or_default();
    ensure(message.contains("proof"), format!("message: expected it to name 'proof', got {message:?}"))
}

async fn add_forged_proof(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let id = app_with_certificate(&api).await?;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let forged = format!(
        "{}.{}.{}",
        b64.encode(r#"{"alg":"RS256","typ":"JWT"}"#),
        b64.encode(format!(r#"{{"aud":"00000002-0000-0000-c000-000000000000","iss":"{id}"}}"#)),
        b64.encode("not a signature")
    );
    let r = api
        .post(&format!("/applications/{id}/addKey"), json!({"keyCredential": key_credential(), "proof": forged}))
        .await?;
    support::expect_error(&r, 400, "Request_BadRequest", None)
}

async fn add_with_proof(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let id = app_with_certificate(&api).await?;
    let mut second = key_credential();
    second["displayName"] = json!("CN=graphbox-test (second)");
    let r =
        api.post(&format!("/applications/{id}/addKey"), json!({"keyCredential": second, "proof": proof(&id)?})).await?;
    status(&r, 200)?;
    ensure(r.json["keyId"].is_string(), format!("keyId: expected a GUID, got {}", r.text))?;
    let r = api.get(&format!("/applications/{id}?$select=keyCredentials")).await?;
    eq("keyCredentials", r.json["keyCredentials"].as_array().map(Vec::len), Some(2))
}

async fn remove_with_proof(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let id = app_with_certificate(&api).await?;
    let mut second = key_credential();
    second["displayName"] = json!("CN=graphbox-test (second)");
    let added =
        api.post(&format!("/applications/{id}/addKey"), json!({"keyCredential": second, "proof": proof(&id)?})).await?;
    status(&added, 200)?;
    let key_id = added.json["keyId"].as_str().unwrap_or_default().to_owned();
    let r = api.post(&format!("/applications/{id}/removeKey"), json!({"keyId": key_id, "proof": proof(&id)?})).await?;
    status(&r, 204)?;
    let r = api.get(&format!("/applications/{id}?$select=keyCredentials")).await?;
    let left: Vec<&str> =
        r.json["keyCredentials"].as_array().into_iter().flatten().filter_map(|k| k["keyId"].as_str()).collect();
    ensure(!left.contains(&key_id.as_str()), format!("keyCredentials still hold {key_id}: {left:?}"))
}

async fn remove_without_proof(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let id = app_with_certificate(&api).await?;
    let r = api.get(&format!("/applications/{id}?$select=keyCredentials")).await?;
    let key_id = r.json["keyCredentials"][0]["keyId"].as_str().unwrap_or_default().to_owned();
    let r = api.post(&format!("/applications/{id}/removeKey"), json!({"keyId": key_id})).await?;
    support::expect_error(&r, 400, "Request_BadRequest", None)
}
