//! Steps many scenarios share: create a user or an application (registered for cleanup), a
//! client application holding given Graph app roles, raw Graph calls with a token.

use graphbox_sdk::auth::ClientSecretCredential;
use graphbox_sdk::ids::ServicePrincipalId;
use graphbox_sdk::models::{AppRoleAssignment, Application, PasswordCredential, ServicePrincipal, User};
use graphbox_sdk::{GraphClient, RetryPolicy};
use reqwest::Method;

use crate::context::{Cleanup, Ctx, RawResponse};
use crate::scenario::{some, Failure};

/// Microsoft Graph's `appId` (graph-wire.md §6).
pub(crate) const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
/// Application permission (app role) ids, graph-wire.md §6.
pub(crate) const USER_READ_ALL: &str = "df021288-bdef-4463-88db-98f22de89214";
pub(crate) const USER_READWRITE_ALL: &str = "741f803b-c850-494e-b5df-cde7c675a1ca";
pub(crate) const APPLICATION_READWRITE_ALL: &str = "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9";
pub(crate) const APPLICATION_READWRITE_OWNEDBY: &str = "18a4783c-866b-4cc7-a460-3d5e5662c884";
pub(crate) const APP_ROLE_ASSIGNMENT_READWRITE_ALL: &str = "06b708a9-e830-4db3-a914-8e69da51d44f";
/// Role templates, graph-wire.md §6.
pub(crate) const GLOBAL_ADMINISTRATOR: &str = "62e90394-69f5-4237-9190-012177145e10";
pub(crate) const USER_ADMINISTRATOR: &str = "fe930be7-5e62-47db-91af-98c3a49a38b1";
pub(crate) const DIRECTORY_READERS: &str = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b";
/// A password that satisfies the complexity rules.
pub(crate) const PASSWORD: &str = "Vk3#pL9!wQz2-gbx";
/// A GUID no tenant uses for anything.
pub(crate) const NO_SUCH_ID: &str = "9f0d3c1e-0bad-4bad-8bad-123456789abc";

/// A created user: id and UPN.
#[derive(Debug, Clone)]
pub(crate) struct NewUser {
    pub id: String,
    pub upn: String,
    pub nick: String,
}

/// Creates a user named after `alias` (run-prefixed), registered for cleanup.
pub(crate) async fn user(cx: &Ctx, alias: &str) -> Result<NewUser, Failure> {
    user_with(cx, alias, |_| {}).await
}

/// As [`user`], with extra properties set by `edit` before the POST.
pub(crate) async fn user_with(cx: &Ctx, alias: &str, edit: impl FnOnce(&mut User)) -> Result<NewUser, Failure> {
    user_exact(cx, &cx.name(alias), edit).await
}

/// As [`user_with`] with `nick` (already run-prefixed) as display name and mail nickname.
pub(crate) async fn user_exact(cx: &Ctx, nick: &str, edit: impl FnOnce(&mut User)) -> Result<NewUser, Failure> {
    let upn = format!("{nick}@{}", cx.domain().await?);
    let nick = nick.to_owned();
    let mut body = User::new(&nick, &nick, &upn, PASSWORD);
    edit(&mut body);
    let created = cx.graph().users().create(body).send().await?;
    let id = some(created.id, "id of the created user")?.to_string();
    cx.cleanup(Cleanup::User(id.clone()));
    Ok(NewUser { id, upn, nick })
}

/// A created application with its service principal and a secret.
#[derive(Debug, Clone)]
pub(crate) struct NewApp {
    pub object_id: String,
    pub app_id: String,
    pub sp_id: String,
    pub secret: String,
}

/// Creates an application (registered for cleanup), without a service principal.
pub(crate) async fn application(cx: &Ctx) -> Result<Application, Failure> {
    let mut app = Application::new(&cx.name("app"));
    app.sign_in_audience = Some("AzureADMyOrg".into());
    let created = cx.graph().applications().create(app).send().await?;
    let id = some(created.id.clone(), "id of the created application")?;
    cx.cleanup(Cleanup::Application(id.to_string()));
    Ok(created)
}

/// An application with a service principal and a secret, holding `app_roles` of Microsoft
/// Graph (granted by the main application).
pub(crate) async fn app_with_roles(cx: &Ctx, app_roles: &[&str]) -> Result<NewApp, Failure> {
    let app = application(cx).await?;
    let object_id = some(app.id, "application id")?.to_string();
    let app_id = some(app.app_id, "application appId")?.to_string();
    let sp = cx.graph().service_principals().create(ServicePrincipal::for_app(app_id.as_str())).send().await?;
    let sp_id = some(sp.id, "service principal id")?.to_string();
    cx.cleanup(Cleanup::ServicePrincipal(sp_id.clone()));
    let credential = PasswordCredential { display_name: Some(cx.name("secret")), ..Default::default() };
    let secret = cx.graph().applications().add_password(object_id.as_str(), credential).send().await?;
    let secret = some(secret.secret_text, "secretText of addPassword")?;
    for role in app_roles {
        grant(cx, &sp_id, role).await?;
    }
    Ok(NewApp { object_id, app_id, sp_id, secret })
}

/// Grants one Microsoft Graph app role to a service principal; returns the assignment id.
pub(crate) async fn grant(cx: &Ctx, sp_id: &str, role: &str) -> Result<String, Failure> {
    let graph_sp = graph_sp_id(cx).await?;
    let assignment = AppRoleAssignment::new(&ServicePrincipalId::new(sp_id), &graph_sp, role);
    let created = cx.graph().service_principals().grant_app_role(&graph_sp, assignment).send().await?;
    let id = some(created.id, "id of the app role assignment")?.to_string();
    cx.cleanup(Cleanup::AppRoleAssignment { resource: graph_sp.to_string(), id: id.clone() });
    Ok(id)
}

/// Microsoft Graph's service principal id in this tenant.
pub(crate) async fn graph_sp_id(cx: &Ctx) -> Result<ServicePrincipalId, Failure> {
    let sp = cx.graph().service_principals().get_by_app_id(GRAPH_APP_ID).send().await?;
    some(sp.id, "id of Microsoft Graph's service principal")
}

/// A fresh client-credentials token for `app` (polling: a new secret replicates slowly on a
/// real tenant, graph-wire.md §1.1 "Replication").
pub(crate) async fn token_for(cx: &Ctx, app: &NewApp) -> Result<String, Failure> {
    cx.eventually("a token for the new application", || async {
        let r = cx
            .token_request(&[
                ("grant_type", "client_credentials"),
                ("client_id", &app.app_id),
                ("client_secret", &app.secret),
                ("scope", "https://graph.microsoft.com/.default"),
            ])
            .await?;
        Ok(r.json["access_token"].as_str().map(str::to_owned))
    })
    .await
}

/// An SDK client signed in as `app`, without retries (a scenario wants the first answer).
pub(crate) fn client_for(cx: &Ctx, app: &NewApp) -> Result<GraphClient, Failure> {
    Ok(cx
        .builder()
        .credential(ClientSecretCredential::new(&app.app_id, app.secret.clone()))
        .retry_policy(RetryPolicy::none())
        .build()?)
}

/// A raw Graph call with `token`; `path` relative to `/v1.0`.
pub(crate) async fn raw(cx: &Ctx, method: Method, path: &str, token: &str) -> Result<RawResponse, Failure> {
    cx.send(cx.graph_request(method, path).bearer_auth(token)).await
}

/// A raw Graph call with `ConsistencyLevel: eventual`.
pub(crate) async fn raw_eventual(cx: &Ctx, path: &str, token: &str) -> Result<RawResponse, Failure> {
    cx.send(cx.graph_request(Method::GET, path).bearer_auth(token).header("ConsistencyLevel", "eventual")).await
}

/// Percent-encodes a query value (OData literals carry quotes, spaces and `$`).
pub(crate) fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Fails unless a raw response is `status` with Graph error `code` (and, when given, exactly
/// `message`).
pub(crate) fn expect_error(r: &RawResponse, status: u16, code: &str, message: Option<&str>) -> Result<(), Failure> {
    let got_code = r.json.pointer("/error/code").and_then(|v| v.as_str()).unwrap_or("<none>");
    let got_message = r.json.pointer("/error/message").and_then(|v| v.as_str()).unwrap_or("<none>");
    if r.status != status || got_code != code || message.is_some_and(|m| m != got_message) {
        let want = message.map(|m| format!(" \"{m}\"")).unwrap_or_default();
        return Err(Failure::new(format!(
            "expected {status} {code}{want}, got {} {got_code} \"{got_message}\"",
            r.status
        )));
    }
    Ok(())
}
