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

/// A self-signed test certificate (the SDK's test fixture, CN=graphbox-test).
const CERT_PEM: &str = include_str!("../../../sdk/tests/fixtures/test_cert.pem");

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
        "keys::remove_key_needs_a_proof_too",
        "graph-wire.md §2.2 / §5.4: removeKey takes keyId and proof like addKey → 400 without the proof",
        [],
        remove_without_proof
    ),
];

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

async fn remove_without_proof(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let id = app_with_certificate(&api).await?;
    let r = api.get(&format!("/applications/{id}?$select=keyCredentials")).await?;
    let key_id = r.json["keyCredentials"][0]["keyId"].as_str().unwrap_or_default().to_owned();
    let r = api.post(&format!("/applications/{id}/removeKey"), json!({"keyId": key_id})).await?;
    support::expect_error(&r, 400, "Request_BadRequest", None)
}
