//! Behaviours of a real tenant that a default mock does not show: replication delay after a
//! write (graph-wire.md §1.1, §2.4) and resource-unit throttling (§2.2). On a real tenant these
//! scenarios accept either answer a replica may give and wait for the write to arrive; on the
//! mock they first switch the tenant's realism to `entra` (README: Realism) with the lag made
//! certain, so the lagging answer must appear, in Graph's and ESTS's exact shape.

use reqwest::Method;
use serde_json::{json, Value};

use super::support::NO_SUCH_ID;
use crate::context::{Cleanup, Ctx, RawResponse};
use crate::scenario;
use crate::scenario::{ensure, eq, Failure, Scenario};

pub(crate) const SCENARIOS: &[Scenario] = &[
    scenario!(
        "realism::a_new_object_may_404_by_id_until_it_has_replicated",
        "real-tenant behaviour, graph-wire.md §2.4: a read served by a replica the create has not reached → 404 Request_ResourceNotFound; the object is there once it has replicated (the write is not lost)",
        [],
        new_object_by_id
    ),
    scenario!(
        "realism::a_service_principal_for_a_new_application_may_be_refused_until_it_has_replicated",
        "real-tenant behaviour, graph-wire.md §2.4: POST /servicePrincipals right after creating the application → 400 \"The appId '…' of the service principal does not reference a valid application object.\"; 201 once replicated",
        [],
        new_app_service_principal
    ),
    scenario!(
        "realism::a_new_application_may_be_unknown_at_the_token_endpoint_until_it_has_replicated",
        "real-tenant behaviour, graph-wire.md §1.1: a just-created application fails for a short while with AADSTS700016 (400 unauthorized_client)",
        [],
        new_app_token
    ),
    scenario!(
        "realism::directory_reads_report_their_resource_unit_cost",
        "real-tenant behaviour, graph-wire.md §2.2: directory responses carry x-ms-resource-unit; GET users costs 2, $select takes 1 off",
        [],
        resource_units
    ),
    scenario!(
        "realism::past_the_resource_unit_budget_graph_answers_429_with_retry_after_and_scope",
        "real-tenant behaviour, graph-wire.md §2.2: past the bucket → 429 TooManyRequests with Retry-After, x-ms-throttle-scope <Scope>/<Limit>/<appId>/<tenantId> and x-ms-throttle-information",
        [scenario::Need::Mock],
        throttled
    ),
];

/// On the mock: `entra` with every lag certain and nothing random in the way.
async fn lagging(cx: &Ctx, extra: Value) -> Result<(), Failure> {
    if !cx.caps().is_mock {
        return Ok(());
    }
    let mut body = json!({"profile": "entra", "seed": 7, "notFoundProbability": 1.0, "listOmitProbability": 1.0,
                          "latencyP50Ms": 0, "latencyP99Ms": 0, "randomFaults": {}});
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        body[k] = v;
    }
    let r = cx.control(Method::PUT, "realism", Some(body)).await?;
    ensure(r.status == 200, format!("control API realism answered {}: {}", r.status, r.text))
}

/// On the mock: realism off again, so the cleanup after the scenario is not lagged or throttled.
async fn calm(cx: &Ctx) -> Result<(), Failure> {
    if !cx.caps().is_mock {
        return Ok(());
    }
    cx.advance_clock(11).await?;
    let r = cx.control(Method::PUT, "realism", Some(json!({"profile": "off"}))).await?;
    ensure(r.status == 200, format!("control API realism answered {}: {}", r.status, r.text))
}

/// Past every window: the mock's clock moves; a real tenant is polled.
async fn replicated<T, F, Fut>(cx: &Ctx, what: &str, attempt: F) -> Result<T, Failure>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, Failure>>,
{
    if cx.caps().is_mock {
        cx.advance_clock(11).await?;
    }
    cx.eventually(what, attempt).await
}

async fn raw(cx: &Ctx, method: Method, path: &str, body: Option<Value>) -> Result<RawResponse, Failure> {
    let token = cx.token().await?;
    let mut request = cx.graph_request(method, path).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    cx.send(request).await
}

async fn new_object_by_id(cx: Ctx) -> Result<(), Failure> {
    lagging(&cx, json!({})).await?;
    let nick = cx.name("lag");
    let upn = format!("{nick}@{}", cx.domain().await?);
    let body = json!({"accountEnabled": true, "displayName": nick, "mailNickname": nick, "userPrincipalName": upn,
                      "passwordProfile": {"password": super::support::PASSWORD, "forceChangePasswordNextSignIn": true}});
    let created = raw(&cx, Method::POST, "/users", Some(body)).await?;
    eq("status of the create", created.status, 201)?;
    let id = created.json["id"].as_str().unwrap_or(NO_SUCH_ID).to_owned();
    cx.cleanup(Cleanup::User(id.clone()));
    let first = raw(&cx, Method::GET, &format!("/users/{id}"), None).await?;
    ensure(
        first.status == 200 || (first.status == 404 && first.error_code() == Some("Request_ResourceNotFound")),
        format!(
            "a read right after the create: expected 200 or 404 Request_ResourceNotFound, got {} {}",
            first.status, first.text
        ),
    )?;
    if cx.caps().is_mock {
        eq("status inside the window (realism entra, lag certain)", first.status, 404)?;
        let message = first.json.pointer("/error/message").and_then(Value::as_str).unwrap_or_default();
        ensure(
            message
                == format!(
                    "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
                ),
            format!("message: {message}"),
        )?;
    }
    replicated(&cx, "the new user readable by id", || async {
        Ok(Some(raw(&cx, Method::GET, &format!("/users/{id}"), None).await?).filter(|r| r.status == 200).map(|_| ()))
    })
    .await?;
    calm(&cx).await
}

async fn create_app(cx: &Ctx) -> Result<(String, String), Failure> {
    let created = raw(cx, Method::POST, "/applications", Some(json!({"displayName": cx.name("lag-app")}))).await?;
    eq("status of the application create", created.status, 201)?;
    let id = created.json["id"].as_str().unwrap_or(NO_SUCH_ID).to_owned();
    let app_id = created.json["appId"].as_str().unwrap_or(NO_SUCH_ID).to_owned();
    cx.cleanup(Cleanup::Application(id.clone()));
    Ok((id, app_id))
}

async fn new_app_service_principal(cx: Ctx) -> Result<(), Failure> {
    lagging(&cx, json!({})).await?;
    let (_, app_id) = create_app(&cx).await?;
    let first = raw(&cx, Method::POST, "/servicePrincipals", Some(json!({"appId": app_id}))).await?;
    let refused = first.status == 400
        && first.json.pointer("/error/message").and_then(Value::as_str)
            == Some(
                format!("The appId '{app_id}' of the service principal does not reference a valid application object.")
                    .as_str(),
            );
    ensure(
        first.status == 201 || refused,
        format!("expected 201, or 400 naming the appId, got {} {}", first.status, first.text),
    )?;
    if cx.caps().is_mock {
        ensure(refused, "inside the window the mock under realism must refuse")?;
        eq("error.code", first.error_code(), Some("Request_BadRequest"))?;
    }
    if first.status != 201 {
        replicated(&cx, "the service principal created", || async {
            let r = raw(&cx, Method::POST, "/servicePrincipals", Some(json!({"appId": app_id}))).await?;
            Ok((r.status == 201).then_some(()))
        })
        .await?;
    }
    calm(&cx).await
}

async fn new_app_token(cx: Ctx) -> Result<(), Failure> {
    lagging(&cx, json!({"notFoundProbability": 0.0})).await?;
    let (id, app_id) = create_app(&cx).await?;
    let secret = raw(&cx, Method::POST, &format!("/applications/{id}/addPassword"), Some(json!({}))).await?;
    eq("status of addPassword", secret.status, 200)?;
    let text = secret.json["secretText"].as_str().unwrap_or_default().to_owned();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", app_id.as_str()),
        ("client_secret", text.as_str()),
        ("scope", "https://graph.microsoft.com/.default"),
    ];
    let first = cx.token_request(&form).await?;
    let code = first.json["error_codes"][0].as_u64();
    // A real tenant may already know the app but not yet its secret, or have neither a service
    // principal (AADSTS7000229) — every one of those is the tenant still catching up.
    ensure(
        matches!(code, Some(700016 | 7000215 | 7000229)) || first.status == 200,
        format!("expected 200 or AADSTS700016/7000215/7000229, got {} {}", first.status, first.text),
    )?;
    if cx.caps().is_mock {
        eq("status inside the window", first.status, 400)?;
        eq("error", first.json["error"].as_str(), Some("unauthorized_client"))?;
        eq("error_codes", code, Some(700016))?;
    }
    calm(&cx).await
}

async fn resource_units(cx: Ctx) -> Result<(), Failure> {
    lagging(&cx, json!({})).await?;
    let all = raw(&cx, Method::GET, "/users", None).await?;
    eq("status", all.status, 200)?;
    eq("x-ms-resource-unit of GET /users", all.header("x-ms-resource-unit"), Some("2"))?;
    let selected = raw(&cx, Method::GET, "/users?$select=id", None).await?;
    eq("x-ms-resource-unit of GET /users?$select=id", selected.header("x-ms-resource-unit"), Some("1"))?;
    calm(&cx).await
}

async fn throttled(cx: Ctx) -> Result<(), Failure> {
    lagging(&cx, json!({"readUnitsPer10s": 6})).await?;
    let mut last = None;
    for _ in 0..5 {
        let r = raw(&cx, Method::GET, "/users", None).await?;
        if r.status == 429 {
            last = Some(r);
            break;
        }
    }
    let r = last
        .ok_or_else(|| Failure::new("no 429 after spending the budget of 6 resource units on GET /users (2 each)"))?;
    eq("error.code", r.error_code(), Some("TooManyRequests"))?;
    ensure(
        r.header("retry-after").and_then(|v| v.parse::<f64>().ok()).is_some_and(|s| s > 0.0),
        "a positive Retry-After",
    )?;
    let scope = r.header("x-ms-throttle-scope").unwrap_or_default().to_owned();
    let parts: Vec<&str> = scope.split('/').collect();
    ensure(
        parts.len() == 4 && parts[0] == "Tenant_Application" && parts[3] == cx.session().tenant,
        format!("x-ms-throttle-scope: expected Tenant_Application/<Limit>/<appId>/<tenantId>, got {scope:?}"),
    )?;
    eq("x-ms-throttle-information", r.header("x-ms-throttle-information"), Some("ResourceUnitLimitExceeded"))?;
    calm(&cx).await
}
