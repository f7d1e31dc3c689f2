//! Applications and their secrets (graph-wire.md §5.4, §1.1, §9.9, §9.10).

use graphbox_sdk::models::PasswordCredential;
use reqwest::Method;

use super::support;
use crate::context::Ctx;
use crate::scenario;
use crate::scenario::{ensure, eq, graph_error, some, Failure, Scenario};

pub(crate) const SCENARIOS: &[Scenario] = &[
    scenario!(
        "applications::create_is_201_with_app_id_and_empty_credentials",
        "graph-wire.md §5.4: POST /applications → 201 with a server-assigned id and appId (different GUIDs), publisherDomain, and empty identifierUris, keyCredentials, passwordCredentials",
        [],
        create
    ),
    scenario!(
        "applications::creating_an_application_creates_no_service_principal",
        "graph-wire.md §5.4: creating an application does not create its service principal",
        [],
        no_sp
    ),
    scenario!(
        "applications::app_id_is_an_alternate_key_not_an_id",
        "graph-wire.md §5.4 / §9.9: GET /applications(appId='…') finds the app; the appId in the {id} slot → 404",
        [],
        alternate_key
    ),
    scenario!(
        "applications::add_password_is_200_and_shows_the_secret_once",
        "graph-wire.md §5.4 / §9.10: addPassword → 200 (not 201) with secretText whose first 3 characters are the hint; later reads show secretText null and the hint",
        [],
        add_password
    ),
    scenario!(
        "applications::new_secret_signs_in_with_client_credentials",
        "graph-wire.md §1.1: the new secret authenticates client credentials; the token's appid is the appId and oid the client's service principal (§1.5)",
        [],
        secret_signs_in
    ),
    scenario!(
        "applications::secret_key_id_is_not_a_secret",
        "graph-wire.md §5.4: the keyId is not a usable secret — sending it as client_secret gives AADSTS7000215",
        [],
        key_id_not_secret
    ),
    scenario!(
        "applications::remove_password_revokes_the_secret",
        "graph-wire.md §5.4: removePassword {keyId} → 204; the secret no longer authenticates (AADSTS7000215)",
        [],
        remove_password
    ),
    scenario!(
        "applications::delete_is_soft",
        "graph-wire.md §5.4 / §9.8: DELETE → 204, soft-deleted into deletedItems/microsoft.graph.application",
        [],
        delete_soft
    ),
];

async fn create(cx: Ctx) -> Result<(), Failure> {
    let app = support::application(&cx).await?;
    eq("status", cx.last().map(|e| e.status), Some(201))?;
    let (id, app_id) = (some(app.id, "id")?, some(app.app_id, "appId")?);
    ensure(id.as_str() != app_id.as_str(), "id and appId: expected different GUIDs, got the same")?;
    ensure(app.publisher_domain.is_some(), "publisherDomain: expected a value, got none")?;
    eq("identifierUris", app.identifier_uris, Some(vec![]))?;
    eq("keyCredentials", app.key_credentials.map(|k| k.len()), Some(0))?;
    eq("passwordCredentials", app.password_credentials.map(|k| k.len()), Some(0))
}

async fn no_sp(cx: Ctx) -> Result<(), Failure> {
    let app = support::application(&cx).await?;
    let app_id = some(app.app_id, "appId")?;
    let r = cx.graph().service_principals().get_by_app_id(app_id).send().await;
    graph_error(r, 404, "Request_ResourceNotFound").map(|_| ())
}

async fn alternate_key(cx: Ctx) -> Result<(), Failure> {
    let app = support::application(&cx).await?;
    let (id, app_id) = (some(app.id, "id")?, some(app.app_id, "appId")?);
    let by_key = cx
        .eventually("the new application", || async {
            match cx.graph().applications().get_by_app_id(app_id.as_str()).send().await {
                Ok(a) => Ok(Some(a)),
                Err(e) if e.is_not_found() && !cx.caps().is_mock => Ok(None),
                Err(e) => Err(e.into()),
            }
        })
        .await?;
    eq("id by alternate key", by_key.id, Some(id))?;
    let wrong_slot = cx.graph().applications().get(app_id.as_str()).send().await;
    graph_error(wrong_slot, 404, "Request_ResourceNotFound").map(|_| ())
}

async fn add_password(cx: Ctx) -> Result<(), Failure> {
    let app = support::application(&cx).await?;
    let id = some(app.id, "id")?;
    let credential = PasswordCredential { display_name: Some("ci".into()), ..Default::default() };
    let secret = cx.graph().applications().add_password(id.as_str(), credential).send().await?;
    eq("status", cx.last().map(|e| e.status), Some(200))?;
    let text = some(secret.secret_text.clone(), "secretText")?;
    let hint = some(secret.hint.clone(), "hint")?;
    ensure(
        text.starts_with(&hint) && hint.len() == 3,
        format!("hint: expected the secret's first 3 characters, got {hint:?}"),
    )?;
    let read = cx.graph().applications().get(id.as_str()).send().await?;
    let stored = read.password_credentials.unwrap_or_default();
    let stored = some(stored.iter().find(|p| p.key_id == secret.key_id), "the secret in passwordCredentials")?;
    eq("hint on read", stored.hint.as_deref(), Some(hint.as_str()))?;
    let raw = cx.last().and_then(|e| e.body).unwrap_or_default();
    let leaked = raw["passwordCredentials"].as_array().into_iter().flatten().any(|p| !p["secretText"].is_null());
    ensure(!leaked, "passwordCredentials[].secretText on read: expected null, got the secret")
}

async fn secret_signs_in(cx: Ctx) -> Result<(), Failure> {
    let app = support::app_with_roles(&cx, &[]).await?;
    let token = support::token_for(&cx, &app).await?;
    let c = crate::context::claims(&token)?;
    eq("appid", c["appid"].as_str(), Some(app.app_id.as_str()))?;
    eq("oid", c["oid"].as_str(), Some(app.sp_id.as_str()))
}

async fn key_id_not_secret(cx: Ctx) -> Result<(), Failure> {
    // With a service principal: without one the platform refuses the client for that reason.
    let app = support::app_with_roles(&cx, &[]).await?;
    let read = cx.graph().applications().get(app.object_id.as_str()).send().await?;
    let key_id = some(read.password_credentials.and_then(|p| p.into_iter().next()).and_then(|p| p.key_id), "keyId")?;
    let app_id = app.app_id;
    let r = cx
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", app_id.as_str()),
            ("client_secret", key_id.as_str()),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .await?;
    expect_7000215(&r)
}

fn expect_7000215(r: &crate::context::RawResponse) -> Result<(), Failure> {
    let codes = r.json["error_codes"].clone();
    ensure(
        r.status == 401 && codes.as_array().is_some_and(|c| c.iter().any(|v| v.as_i64() == Some(7000215))),
        format!("expected 401 invalid_client AADSTS7000215, got {} {} {codes}", r.status, r.json["error"]),
    )
}

async fn remove_password(cx: Ctx) -> Result<(), Failure> {
    let app = support::app_with_roles(&cx, &[]).await?;
    support::token_for(&cx, &app).await?;
    let read = cx.graph().applications().get(app.object_id.as_str()).send().await?;
    let key_id = some(read.password_credentials.and_then(|p| p.into_iter().next()).and_then(|p| p.key_id), "keyId")?;
    cx.graph().applications().remove_password(app.object_id.as_str(), key_id).send().await?;
    eq("status", cx.last().map(|e| e.status), Some(204))?;
    let r = cx
        .eventually("the removed secret refused", || async {
            let r = cx
                .token_request(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", &app.app_id),
                    ("client_secret", &app.secret),
                    ("scope", "https://graph.microsoft.com/.default"),
                ])
                .await?;
            Ok((r.status != 200 || cx.caps().is_mock).then_some(r))
        })
        .await?;
    expect_7000215(&r)
}

async fn delete_soft(cx: Ctx) -> Result<(), Failure> {
    let app = support::application(&cx).await?;
    let id = some(app.id, "id")?;
    cx.graph().applications().delete(id.as_str()).send().await?;
    eq("status", cx.last().map(|e| e.status), Some(204))?;
    let token = cx.token().await?;
    let found = cx
        .eventually("the application in deletedItems", || async {
            let r =
                support::raw(&cx, Method::GET, "/directory/deletedItems/microsoft.graph.application", &token).await?;
            Ok(r.json["value"].as_array().and_then(|v| v.iter().find(|a| a["id"] == id.as_str()).cloned()))
        })
        .await?;
    ensure(!found["deletedDateTime"].is_null(), "deletedDateTime: expected a value, got null")
}
