//! Sensitive actions on users (sensitive-actions.md, graph-wire.md §5.3): an application
//! permission says which operation an app may call, its directory role which users it may touch
//! with a password reset, a sensitive property, enable/disable, delete, restore or permanent
//! delete. Each scenario is one kind of refusal a real tenant gives an app whose role is missing
//! or too low: `403 Authorization_RequestDenied`, "Insufficient privileges to complete the
//! operation.".
//!
//! Safe on a real tenant: targets are the run's own users, except the Global Administrator in
//! `user_administrator_cannot_change_a_global_administrator`, which is sent only
//! `accountEnabled: true` (its current value), so a wrongly accepted request changes nothing.

use graphbox_sdk::models::UnifiedRoleAssignment;
use reqwest::Method;
use serde_json::{json, Value};

use super::support::{self, NewApp, GLOBAL_ADMINISTRATOR, USER_ADMINISTRATOR, USER_READWRITE_ALL};
use crate::context::{Cleanup, Ctx, RawResponse};
use crate::scenario;
use crate::scenario::{some, Failure, Need, Scenario};

const DENIED: &str = "Insufficient privileges to complete the operation.";

pub(crate) const SCENARIOS: &[Scenario] = &[
    scenario!(
        "sensitive::app_without_a_role_cannot_reset_any_password",
        "sensitive-actions.md §App-only (real tenant): app-only, User.ReadWrite.All alone — resetting another user's password (PATCH passwordProfile) also needs at least User Administrator, even for a user without an administrator role → 403 Authorization_RequestDenied",
        [],
        reset_without_role
    ),
    scenario!(
        "sensitive::app_without_a_role_cannot_change_an_administrators_sensitive_attributes",
        "sensitive-actions.md §App-only / §The tables (real tenant): the sensitive attributes (accountEnabled, phones, otherMails, onPremisesImmutableId, userPrincipalName) of a user holding an administrator role need a role that outranks it; User.ReadWrite.All alone → 403 Authorization_RequestDenied",
        [],
        attribute_without_role
    ),
    scenario!(
        "sensitive::app_without_a_role_cannot_delete_an_administrator",
        "graph-wire.md §5.3 / sensitive-actions.md §App-only (real tenant): a user with a privileged administrator role cannot be deleted by an app with only User.ReadWrite.All → 403 Authorization_RequestDenied",
        [],
        delete_without_role
    ),
    scenario!(
        "sensitive::app_without_a_role_cannot_restore_or_purge_an_administrator",
        "sensitive-actions.md §App-only (real tenant): restoring or permanently deleting a deleted administrator follows the delete rule; User.ReadWrite.All alone → 403 Authorization_RequestDenied for both",
        [],
        restore_without_role
    ),
    scenario!(
        "sensitive::user_administrator_cannot_change_a_global_administrator",
        "sensitive-actions.md §The tables (real tenant): table row 'Privileged Auth Admin, Privileged Role Admin, Global Admin' — only Privileged Authentication Administrator or Global Administrator may; an app holding User Administrator → 403 Authorization_RequestDenied",
        [Need::AdminUser],
        user_admin_on_global_admin
    ),
    scenario!(
        "sensitive::a_role_reaches_only_tokens_issued_after_it",
        "sensitive-actions.md §Roles reach the token (real tenant): roles reach the token (wids) when it is issued — a token issued before User Administrator was assigned still cannot reset a password; a later token can",
        [],
        role_needs_new_token
    ),
];

/// An app holding User.ReadWrite.All and, when given, a directory role.
async fn app(cx: &Ctx, role: Option<&str>) -> Result<NewApp, Failure> {
    let app = support::app_with_roles(cx, &[USER_READWRITE_ALL]).await?;
    if let Some(role) = role {
        assign(cx, &app.sp_id, role).await?;
    }
    Ok(app)
}

async fn assign(cx: &Ctx, principal: &str, role: &str) -> Result<String, Failure> {
    let created =
        cx.graph().role_management().assign(UnifiedRoleAssignment::tenant_wide(principal, role)).send().await?;
    let id = some(created.id, "role assignment id")?.to_string();
    cx.cleanup(Cleanup::RoleAssignment(id.clone()));
    Ok(id)
}

/// A run user holding User Administrator: an administrator the main app may still delete.
async fn administrator(cx: &Ctx, alias: &str) -> Result<String, Failure> {
    let u = support::user(cx, alias).await?;
    assign(cx, &u.id, USER_ADMINISTRATOR).await?;
    Ok(u.id)
}

async fn send(cx: &Ctx, method: Method, path: &str, token: &str, body: Option<Value>) -> Result<RawResponse, Failure> {
    let mut request = cx.graph_request(method, path).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    cx.send(request).await
}

fn denied(r: &RawResponse) -> Result<(), Failure> {
    support::expect_error(r, 403, "Authorization_RequestDenied", Some(DENIED))
}

fn reset() -> Value {
    json!({"passwordProfile": {"password": "Qz8!nR4#vLp2-gbx", "forceChangePasswordNextSignIn": true}})
}

async fn reset_without_role(cx: Ctx) -> Result<(), Failure> {
    let app = app(&cx, None).await?;
    let token = support::token_for(&cx, &app).await?;
    let target = support::user(&cx, "reset").await?;
    denied(&send(&cx, Method::PATCH, &format!("/users/{}", target.id), &token, Some(reset())).await?)
}

async fn attribute_without_role(cx: Ctx) -> Result<(), Failure> {
    let app = app(&cx, None).await?;
    let token = support::token_for(&cx, &app).await?;
    let target = administrator(&cx, "attr").await?;
    let body = json!({"accountEnabled": false});
    denied(&send(&cx, Method::PATCH, &format!("/users/{target}"), &token, Some(body)).await?)
}

async fn delete_without_role(cx: Ctx) -> Result<(), Failure> {
    let app = app(&cx, None).await?;
    let token = support::token_for(&cx, &app).await?;
    let target = administrator(&cx, "del").await?;
    denied(&send(&cx, Method::DELETE, &format!("/users/{target}"), &token, None).await?)
}

async fn restore_without_role(cx: Ctx) -> Result<(), Failure> {
    let app = app(&cx, None).await?;
    let token = support::token_for(&cx, &app).await?;
    let target = administrator(&cx, "restore").await?;
    cx.graph().users().delete(target.as_str()).send().await?;
    let deleted = format!("/directory/deletedItems/{target}");
    // A deleted user reaches deleted items eventually on a real tenant.
    cx.eventually("the deleted administrator in deleted items", || async {
        let r = support::raw(&cx, Method::GET, &deleted, &cx.token().await?).await?;
        Ok((r.status == 200).then_some(()))
    })
    .await?;
    denied(&send(&cx, Method::POST, &format!("{deleted}/restore"), &token, None).await?)?;
    denied(&send(&cx, Method::DELETE, &deleted, &token, None).await?)
}

async fn user_admin_on_global_admin(cx: Ctx) -> Result<(), Failure> {
    let (admin, _) = cx.session().admin.clone().ok_or_else(|| Failure::skip("no admin user"))?;
    let main = cx.token().await?;
    let found = support::raw(&cx, Method::GET, &format!("/users/{}", support::enc(&admin)), &main).await?;
    let admin_id = some(found.json["id"].as_str().map(str::to_owned), "the administrator's id")?;
    let roles = support::raw(&cx, Method::GET, &format!("/users/{admin_id}/memberOf"), &main).await?;
    let is_global = roles.json["value"]
        .as_array()
        .is_some_and(|v| v.iter().any(|o| o["roleTemplateId"].as_str() == Some(GLOBAL_ADMINISTRATOR)));
    if !is_global {
        return Err(Failure::skip("the admin user is not a Global Administrator"));
    }
    let app = app(&cx, Some(USER_ADMINISTRATOR)).await?;
    let token = support::token_for(&cx, &app).await?;
    // Its current value: a wrongly accepted request changes nothing.
    let body = json!({"accountEnabled": true});
    denied(&send(&cx, Method::PATCH, &format!("/users/{admin_id}"), &token, Some(body)).await?)
}

async fn role_needs_new_token(cx: Ctx) -> Result<(), Failure> {
    let app = app(&cx, None).await?;
    let before = support::token_for(&cx, &app).await?;
    let target = support::user(&cx, "late").await?;
    let path = format!("/users/{}", target.id);
    assign(&cx, &app.sp_id, USER_ADMINISTRATOR).await?;
    denied(&send(&cx, Method::PATCH, &path, &before, Some(reset())).await?)?;
    // A later token carries the role (on a real tenant once the assignment has replicated).
    cx.eventually("a token whose password reset is accepted", || async {
        let after = support::token_for(&cx, &app).await?;
        let r = send(&cx, Method::PATCH, &path, &after, Some(reset())).await?;
        Ok((r.status == 204).then_some(()))
    })
    .await
}
