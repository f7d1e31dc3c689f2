//! Admin consent by API and its effect on new tokens (graph-wire.md §5.6, §1.1, §1.5, §9.1).

use graphbox_sdk::models::{ConsentType, OAuth2PermissionGrant};
use reqwest::Method;

use super::support::{self, expect_error, USER_READ_ALL};
use crate::context::{claims, Cleanup, Ctx};
use crate::scenario;
use crate::scenario::{ensure, eq, some, Failure, Scenario};

pub(crate) const SCENARIOS: &[Scenario] = &[
    scenario!(
        "consent::token_without_grants_has_no_roles_and_graph_says_403",
        "graph-wire.md §1.1 / §9.1: missing consent is not a token error — the token has no roles claim, and Graph answers 403 Authorization_RequestDenied \"Insufficient privileges to complete the operation.\"",
        [],
        no_grants
    ),
    scenario!(
        "consent::app_role_grant_reaches_new_tokens_only",
        "graph-wire.md §5.6 / §1.1: appRoleAssignedTo → 201 (principalType ServicePrincipal, resourceDisplayName Microsoft Graph); the next token carries the role's value in roles; a token issued before keeps its old roles",
        [],
        grant_reaches_new_tokens
    ),
    scenario!(
        "consent::assignments_are_listed_from_both_sides_with_opaque_ids",
        "graph-wire.md §5.6 / §5 general rules: the assignment is listed under the resource's appRoleAssignedTo and the client's appRoleAssignments; its id is an opaque string, not a GUID",
        [],
        both_sides
    ),
    scenario!(
        "consent::duplicate_app_role_assignment_is_400",
        "graph-wire.md §5.6: a duplicate app role assignment → 400",
        [],
        duplicate
    ),
    scenario!(
        "consent::revoking_removes_the_role_from_new_tokens",
        "graph-wire.md §5.6: DELETE appRoleAssignedTo/{id} → 204; the next token no longer carries the role",
        [],
        revoke
    ),
    scenario!(
        "consent::delegated_grant_round_trip",
        "graph-wire.md §5.6: POST /oauth2PermissionGrants (AllPrincipals, principalId null, space-separated scope) → 201; PATCH scope → 204; DELETE → 204",
        [],
        delegated_grant
    ),
];

async fn no_grants(cx: Ctx) -> Result<(), Failure> {
    let app = support::app_with_roles(&cx, &[]).await?;
    let token = support::token_for(&cx, &app).await?;
    let c = claims(&token)?;
    ensure(c.get("roles").is_none(), format!("roles: expected absent without grants, got {}", c["roles"]))?;
    let r = support::raw(&cx, Method::GET, "/users?$top=1", &token).await?;
    expect_error(&r, 403, "Authorization_RequestDenied", Some("Insufficient privileges to complete the operation."))
}

fn roles(token: &str) -> Result<Vec<String>, Failure> {
    let c = claims(token)?;
    Ok(c["roles"].as_array().into_iter().flatten().filter_map(|r| r.as_str().map(str::to_owned)).collect())
}

async fn grant_reaches_new_tokens(cx: Ctx) -> Result<(), Failure> {
    let app = support::app_with_roles(&cx, &[]).await?;
    let before = support::token_for(&cx, &app).await?;
    support::grant(&cx, &app.sp_id, USER_READ_ALL).await?;
    let created = some(cx.last(), "the grant exchange")?;
    eq("status", created.status, 201)?;
    let body = created.body.unwrap_or_default();
    eq("principalType", body["principalType"].as_str(), Some("ServicePrincipal"))?;
    eq("resourceDisplayName", body["resourceDisplayName"].as_str(), Some("Microsoft Graph"))?;
    let old = support::raw(&cx, Method::GET, "/users?$top=1", &before).await?;
    expect_error(&old, 403, "Authorization_RequestDenied", None)?;
    let after = cx
        .eventually("User.Read.All in a new token", || async {
            let t = support::token_for(&cx, &app).await?;
            Ok(roles(&t)?.iter().any(|r| r == "User.Read.All").then_some(t))
        })
        .await?;
    let r = support::raw(&cx, Method::GET, "/users?$top=1", &after).await?;
    eq("status with the new token", r.status, 200)
}

async fn both_sides(cx: Ctx) -> Result<(), Failure> {
    let app = support::app_with_roles(&cx, &[]).await?;
    let id = support::grant(&cx, &app.sp_id, USER_READ_ALL).await?;
    ensure(
        uuid::Uuid::parse_str(&id).is_err(),
        format!("assignment id: expected an opaque string, got the GUID {id}"),
    )?;
    let graph_sp = support::graph_sp_id(&cx).await?;
    let resource_side = cx.graph().service_principals().app_role_assigned_to(&graph_sp).send().await?;
    ensure(
        resource_side.value.iter().any(|a| a.id.as_ref().map(|i| i.as_str()) == Some(id.as_str())),
        "appRoleAssignedTo of Microsoft Graph: expected the new assignment",
    )?;
    let client_side = cx.graph().service_principals().app_role_assignments(app.sp_id.as_str()).send().await?;
    ensure(
        client_side.value.iter().any(|a| a.id.as_ref().map(|i| i.as_str()) == Some(id.as_str())),
        "appRoleAssignments of the client: expected the new assignment",
    )
}

async fn duplicate(cx: Ctx) -> Result<(), Failure> {
    let app = support::app_with_roles(&cx, &[USER_READ_ALL]).await?;
    match support::grant(&cx, &app.sp_id, USER_READ_ALL).await {
        Err(f) if f.message.contains("400") => Ok(()),
        Err(f) => Err(f),
        Ok(_) => Err(Failure::new("second identical assignment: expected 400, got 201")),
    }
}

async fn revoke(cx: Ctx) -> Result<(), Failure> {
    let app = support::app_with_roles(&cx, &[]).await?;
    let id = support::grant(&cx, &app.sp_id, USER_READ_ALL).await?;
    let graph_sp = support::graph_sp_id(&cx).await?;
    cx.graph().service_principals().revoke_app_role(&graph_sp, id.as_str()).send().await?;
    eq("status", cx.last().map(|e| e.status), Some(204))?;
    cx.eventually("User.Read.All gone from a new token", || async {
        let t = support::token_for(&cx, &app).await?;
        Ok((!roles(&t)?.iter().any(|r| r == "User.Read.All")).then_some(()))
    })
    .await
}

async fn delegated_grant(cx: Ctx) -> Result<(), Failure> {
    let app = support::app_with_roles(&cx, &[]).await?;
    let graph_sp = support::graph_sp_id(&cx).await?;
    let grant = OAuth2PermissionGrant {
        client_id: Some(app.sp_id.as_str().into()),
        consent_type: Some(ConsentType::AllPrincipals),
        resource_id: Some(graph_sp),
        scope: Some("User.Read".into()),
        ..Default::default()
    };
    let created = cx.graph().oauth2_permission_grants().create(grant).send().await?;
    let id = some(created.id, "grant id")?;
    cx.cleanup(Cleanup::PermissionGrant(id.to_string()));
    let exchange = some(cx.last(), "the POST exchange")?;
    eq("status", exchange.status, 201)?;
    ensure(exchange.body.is_some_and(|b| b["principalId"].is_null()), "principalId: expected null for AllPrincipals")?;
    cx.graph().oauth2_permission_grants().update_scope(id.as_str(), "User.Read User.ReadBasic.All").send().await?;
    eq("PATCH status", cx.last().map(|e| e.status), Some(204))?;
    let read = cx.graph().oauth2_permission_grants().get(id.as_str()).send().await?;
    eq("scope", read.scope.as_deref(), Some("User.Read User.ReadBasic.All"))?;
    cx.graph().oauth2_permission_grants().delete(id.as_str()).send().await?;
    eq("DELETE status", cx.last().map(|e| e.status), Some(204))
}
