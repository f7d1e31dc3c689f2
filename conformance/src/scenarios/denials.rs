//! Permission denials: what each application permission does not allow (graph-wire.md §2.2,
//! §5.6, §6 "Permission semantics").

use graphbox_sdk::ids::ServicePrincipalId;
use graphbox_sdk::models::{AppRoleAssignment, User};

use super::support::{
    self, APPLICATION_READWRITE_ALL, APP_ROLE_ASSIGNMENT_READWRITE_ALL, USER_READWRITE_ALL, USER_READ_ALL,
};
use crate::context::{Cleanup, Ctx};
use crate::scenario;
use crate::scenario::{graph_error, Failure, Scenario};

pub(crate) const SCENARIOS: &[Scenario] = &[
    scenario!(
        "denials::read_permission_cannot_create_users",
        "graph-wire.md §2.2: a valid token lacking every permission the operation accepts → 403 Authorization_RequestDenied (User.Read.All cannot POST /users)",
        [],
        read_cannot_write
    ),
    scenario!(
        "denials::application_readwrite_all_cannot_grant_graph_app_roles",
        "graph-wire.md §5.6 / §6: Application.ReadWrite.All alone cannot grant Microsoft Graph's app roles → 403 Authorization_RequestDenied",
        [],
        app_rw_cannot_grant
    ),
    scenario!(
        "denials::app_role_assignment_readwrite_alone_is_denied",
        "graph-wire.md §5.6: with AppRoleAssignment.ReadWrite.All alone (no Application.Read.All / Directory.Read.All) the grant returns 403 Authorization_RequestDenied",
        [],
        assignment_rw_alone
    ),
];

async fn read_cannot_write(cx: Ctx) -> Result<(), Failure> {
    let app = support::app_with_roles(&cx, &[USER_READ_ALL]).await?;
    support::token_for(&cx, &app).await?;
    let client = support::client_for(&cx, &app)?;
    let (upn, nick) = cx.upn("denied").await?;
    let r = client.users().create(User::new(&nick, &nick, &upn, support::PASSWORD)).send().await;
    if let Ok(u) = &r {
        if let Some(id) = &u.id {
            cx.cleanup(Cleanup::User(id.to_string()))
        }
    }
    graph_error(r, 403, "Authorization_RequestDenied").map(|_| ())
}

/// `actor` tries to grant User.ReadWrite.All to a fresh service principal.
async fn try_grant(cx: &Ctx, actor_roles: &[&str]) -> Result<(), Failure> {
    let actor = support::app_with_roles(cx, actor_roles).await?;
    let target = support::app_with_roles(cx, &[]).await?;
    let client = support::client_for(cx, &actor)?;
    let graph_sp = support::graph_sp_id(cx).await?;
    let assignment = AppRoleAssignment::new(&ServicePrincipalId::new(&target.sp_id), &graph_sp, USER_READWRITE_ALL);
    support::token_for(cx, &actor).await?;
    let r = client.service_principals().grant_app_role(&graph_sp, assignment).send().await;
    if let Ok(a) = &r {
        if let Some(id) = &a.id {
            cx.cleanup(Cleanup::AppRoleAssignment { resource: graph_sp.to_string(), id: id.to_string() });
        }
    }
    graph_error(r, 403, "Authorization_RequestDenied").map(|_| ())
}

async fn app_rw_cannot_grant(cx: Ctx) -> Result<(), Failure> {
    try_grant(&cx, &[APPLICATION_READWRITE_ALL]).await
}

async fn assignment_rw_alone(cx: Ctx) -> Result<(), Failure> {
    try_grant(&cx, &[APP_ROLE_ASSIGNMENT_READWRITE_ALL]).await
}
