//! Service principals, Microsoft Graph's included (graph-wire.md §5.5).

use graphbox_sdk::models::ServicePrincipal;

use super::support::{self, GRAPH_APP_ID, USER_READWRITE_ALL};
use crate::context::{Cleanup, Ctx};
use crate::scenario;
use crate::scenario::{ensure, eq, some, Failure, Scenario};

pub(crate) const SCENARIOS: &[Scenario] = &[
    scenario!(
        "service_principals::graph_has_its_well_known_app_roles_and_scopes",
        "graph-wire.md §5.5: Microsoft Graph's SP exists in every tenant; appRoles include 741f803b-… User.ReadWrite.All (allowedMemberTypes Application), oauth2PermissionScopes include e1fe6dd8-… User.Read",
        [],
        graph_sp
    ),
    scenario!(
        "service_principals::create_from_an_app_copies_its_identity",
        "graph-wire.md §5.5: POST /servicePrincipals {appId} → 201 with appId, displayName = the app's, accountEnabled true, servicePrincipalType Application, servicePrincipalNames containing the appId",
        [],
        create
    ),
    scenario!(
        "service_principals::a_second_sp_for_the_same_app_is_400",
        "graph-wire.md §5.5: a second SP for the same appId → 400 conflict",
        [],
        duplicate
    ),
];

async fn graph_sp(cx: Ctx) -> Result<(), Failure> {
    let sp = cx.graph().service_principals().get_by_app_id(GRAPH_APP_ID).send().await?;
    let role = sp
        .app_roles
        .unwrap_or_default()
        .into_iter()
        .find(|r| r.id.as_ref().map(|i| i.as_str()) == Some(USER_READWRITE_ALL));
    let role = some(role, "app role 741f803b-c850-494e-b5df-cde7c675a1ca")?;
    eq("its value", role.value.as_deref(), Some("User.ReadWrite.All"))?;
    ensure(
        role.allowed_member_types.unwrap_or_default().iter().any(|t| t == "Application"),
        "allowedMemberTypes: expected Application",
    )?;
    let scope = sp
        .oauth2_permission_scopes
        .unwrap_or_default()
        .into_iter()
        .find(|s| s.id.as_deref() == Some("e1fe6dd8-ba31-4d61-89e7-88639da4683d"));
    eq(
        "scope e1fe6dd8-… value",
        some(scope, "scope e1fe6dd8-ba31-4d61-89e7-88639da4683d")?.value.as_deref(),
        Some("User.Read"),
    )
}

async fn create(cx: Ctx) -> Result<(), Failure> {
    let app = support::application(&cx).await?;
    let app_id = some(app.app_id, "appId")?;
    let sp = cx.graph().service_principals().create(ServicePrincipal::for_app(app_id.as_str())).send().await?;
    if let Some(id) = &sp.id {
        cx.cleanup(Cleanup::ServicePrincipal(id.to_string()))
    }
    eq("status", cx.last().map(|e| e.status), Some(201))?;
    eq("appId", sp.app_id.as_ref().map(|a| a.as_str()), Some(app_id.as_str()))?;
    eq("displayName", sp.display_name, app.display_name)?;
    eq("accountEnabled", sp.account_enabled, Some(true))?;
    eq("servicePrincipalType", sp.service_principal_type.as_deref(), Some("Application"))?;
    ensure(
        sp.service_principal_names.unwrap_or_default().iter().any(|n| n == app_id.as_str()),
        "servicePrincipalNames: expected to contain the appId",
    )
}

async fn duplicate(cx: Ctx) -> Result<(), Failure> {
    let app = support::app_with_roles(&cx, &[]).await?;
    let again = cx.graph().service_principals().create(ServicePrincipal::for_app(app.app_id.as_str())).send().await;
    if let Ok(sp) = &again {
        if let Some(id) = &sp.id {
            cx.cleanup(Cleanup::ServicePrincipal(id.to_string()))
        }
    }
    match again {
        Err(e) if e.as_graph_error().is_some_and(|g| g.status == 400) => Ok(()),
        Err(e) => Err(e.into()),
        Ok(_) => Err(Failure::new("second service principal: expected 400, got 201")),
    }
}
