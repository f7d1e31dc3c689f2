//! Directory roles, unified role assignments and the `wids` claim (graph-wire.md §5.7, §1.5).

use graphbox_sdk::models::UnifiedRoleAssignment;
use graphbox_sdk::RetryPolicy;

use super::support::{self, DIRECTORY_READERS, GLOBAL_ADMINISTRATOR, USER_ADMINISTRATOR};
use crate::context::{claims, Cleanup, Ctx};
use crate::scenario;
use crate::scenario::{ensure, eq, some, Failure, Need, Scenario};

pub(crate) const SCENARIOS: &[Scenario] = &[
    scenario!(
        "roles::directory_roles_lists_activated_roles_without_paging",
        "graph-wire.md §5.7 / §3.1: GET /directoryRoles lists activated roles (Global Administrator, template 62e90394-…, in every tenant) and does not page",
        [],
        activated
    ),
    scenario!(
        "roles::templates_list_every_built_in_role",
        "graph-wire.md §5.7 / §6: GET /directoryRoleTemplates lists all templates, User Administrator fe930be7-… among them",
        [],
        templates
    ),
    scenario!(
        "roles::built_in_definitions_use_the_template_id",
        "graph-wire.md §5.7: for built-in roles roleDefinitionId = role template id; definitions carry isBuiltIn",
        [],
        definitions
    ),
    scenario!(
        "roles::role_assignment_shows_in_the_legacy_directory_role",
        "graph-wire.md §5.7: POST roleManagement/directory/roleAssignments → 201 with an opaque id; the legacy directoryRoles entry appears activated with the member",
        [],
        assignment_visible
    ),
    scenario!(
        "roles::adding_an_existing_role_member_is_400",
        "graph-wire.md §5.7: adding an existing member → 400 \"One or more added object references already exist for the following modified properties: 'members'.\"",
        [],
        duplicate_member
    ),
    scenario!(
        "roles::app_only_token_wids_carry_the_sp_roles",
        "graph-wire.md §1.5: wids in app-only tokens are the role template ids of roles assigned to the service principal",
        [],
        app_wids
    ),
    scenario!(
        "roles::delegated_token_wids_carry_the_users_roles",
        "graph-wire.md §1.5 (README: delegated tokens carry the user's directory roles in wids): the Global Administrator's token has 62e90394-… in wids",
        [Need::AdminUser],
        user_wids
    ),
];

async fn activated(cx: Ctx) -> Result<(), Failure> {
    let page = cx.graph().directory_roles().list().send().await?;
    ensure(page.next_link.is_none(), "@odata.nextLink: expected none, directoryRoles does not page")?;
    ensure(
        page.value.iter().any(|r| r.role_template_id.as_ref().map(|t| t.as_str()) == Some(GLOBAL_ADMINISTRATOR)),
        "directoryRoles: expected Global Administrator (62e90394-…) to be activated",
    )
}

async fn templates(cx: Ctx) -> Result<(), Failure> {
    let page = cx.graph().directory_role_templates().list().send().await?;
    ensure(
        page.value.iter().any(|t| t.id.as_ref().map(|i| i.as_str()) == Some(USER_ADMINISTRATOR)),
        "directoryRoleTemplates: expected User Administrator (fe930be7-…)",
    )
}

async fn definitions(cx: Ctx) -> Result<(), Failure> {
    let page = cx.graph().role_management().role_definitions().send().await?;
    let ga = page.value.iter().find(|d| d.id.as_ref().map(|i| i.as_str()) == Some(GLOBAL_ADMINISTRATOR));
    let ga = some(ga, "role definition 62e90394-… (Global Administrator)")?;
    eq("isBuiltIn", ga.is_built_in, Some(true))
}

async fn assign(cx: &Ctx, principal: &str, role: &str) -> Result<String, Failure> {
    let created =
        cx.graph().role_management().assign(UnifiedRoleAssignment::tenant_wide(principal, role)).send().await?;
    let id = some(created.id, "role assignment id")?.to_string();
    cx.cleanup(Cleanup::RoleAssignment(id.clone()));
    Ok(id)
}

async fn assignment_visible(cx: Ctx) -> Result<(), Failure> {
    let u = support::user(&cx, "r").await?;
    let id = assign(&cx, &u.id, DIRECTORY_READERS).await?;
    let exchange = some(cx.last(), "the POST exchange")?;
    eq("status", exchange.status, 201)?;
    let context = exchange.body.as_ref().and_then(|b| b["@odata.context"].as_str()).unwrap_or_default().to_owned();
    ensure(
        context.ends_with("roleManagement/directory/roleAssignments/$entity"),
        format!("@odata.context: expected …roleAssignments/$entity, got {context:?}"),
    )?;
    ensure(
        uuid::Uuid::parse_str(&id).is_err(),
        format!("assignment id: expected an opaque string, got the GUID {id}"),
    )?;
    let roles = cx.graph().directory_roles().list().send().await?;
    let role = roles.value.iter().find(|r| r.role_template_id.as_ref().map(|t| t.as_str()) == Some(DIRECTORY_READERS));
    let role_id = some(role.and_then(|r| r.id.clone()), "activated Directory Readers role")?;
    let members = cx.graph().directory_roles().members(role_id).send().await?;
    ensure(
        members.value.iter().any(|m| m.id.as_ref().map(|i| i.as_str()) == Some(u.id.as_str())),
        "Directory Readers members: expected the user",
    )
}

async fn duplicate_member(cx: Ctx) -> Result<(), Failure> {
    let u = support::user(&cx, "r").await?;
    assign(&cx, &u.id, DIRECTORY_READERS).await?;
    let roles = cx.graph().directory_roles().list().send().await?;
    let role = roles.value.iter().find(|r| r.role_template_id.as_ref().map(|t| t.as_str()) == Some(DIRECTORY_READERS));
    let role_id = some(role.and_then(|r| r.id.clone()), "activated Directory Readers role")?;
    let r = cx.graph().directory_roles().add_member(role_id, u.id.as_str()).send().await;
    let e = crate::scenario::graph_error(r, 400, "Request_BadRequest")?;
    eq(
        "message",
        e.message.as_str(),
        "One or more added object references already exist for the following modified properties: 'members'.",
    )
}

async fn app_wids(cx: Ctx) -> Result<(), Failure> {
    let app = support::app_with_roles(&cx, &[]).await?;
    assign(&cx, &app.sp_id, DIRECTORY_READERS).await?;
    cx.eventually("Directory Readers in wids", || async {
        let c = claims(&support::token_for(&cx, &app).await?)?;
        Ok(c["wids"].as_array().is_some_and(|w| w.iter().any(|v| v == DIRECTORY_READERS)).then_some(()))
    })
    .await
}

async fn user_wids(cx: Ctx) -> Result<(), Failure> {
    let (user, password) = cx.session().admin.clone().ok_or_else(|| Failure::skip("no admin user"))?;
    let graph = cx
        .builder()
        .credential(graphbox_sdk::auth::UsernamePasswordCredential::new(&cx.session().client_id, user, password))
        .retry_policy(RetryPolicy::none())
        .build()?;
    graph.users().list().top(1).send().await?;
    let token = cx.last().and_then(|e| e.bearer).ok_or_else(|| Failure::new("no bearer token was sent"))?;
    let c = claims(&token)?;
    ensure(
        c["wids"].as_array().is_some_and(|w| w.iter().any(|v| v == GLOBAL_ADMINISTRATOR)),
        format!("wids: expected 62e90394-… (Global Administrator), got {}", c["wids"]),
    )
}
