//! Applications and service principals beyond their creation: lists, updates, alternate keys,
//! grants seen from a service principal (graph-wire.md §5.4, §5.5, §5.6, §3.1).

use serde_json::json;

use super::support::{self, GRAPH_APP_ID, NO_SUCH_ID};
use super::wire::{context, id_of, ids, status, values, Api};
use crate::context::{Cleanup, Ctx};
use crate::scenario;
use crate::scenario::{ensure, eq, Failure, Scenario};

pub(crate) const SCENARIOS: &[Scenario] = &[
    scenario!(
        "app_registry::applications_list_contains_the_new_application",
        "graph-wire.md §5.4 / §3.1: GET /applications → a collection (…#applications) holding the created application",
        [],
        list_applications
    ),
    scenario!(
        "app_registry::application_patch_is_204_and_takes_effect",
        "graph-wire.md §5 general rules: PATCH → 204 with no body; the change is read back",
        [],
        patch_application
    ),
    scenario!(
        "app_registry::application_patch_by_app_id_is_204",
        "graph-wire.md §5.4: applications are addressed by id or by the alternate key (appId='{appId}'), also for PATCH",
        [],
        patch_by_app_id
    ),
    scenario!(
        "app_registry::application_patch_of_an_unknown_id_is_404",
        "graph-wire.md §2.2: an unknown object id → 404 Request_ResourceNotFound",
        [],
        patch_unknown
    ),
    scenario!(
        "app_registry::service_principals_list_holds_microsoft_graph",
        "graph-wire.md §6 / §3.1: every tenant holds Microsoft Graph's service principal (appId 00000003-0000-0000-c000-000000000000) in GET /servicePrincipals",
        [],
        list_service_principals
    ),
    scenario!(
        "app_registry::service_principal_filter_by_app_id",
        "graph-wire.md §5.5 / §3.3: $filter=appId eq '…' finds a service principal",
        [],
        filter_sp_by_app_id
    ),
    scenario!(
        "app_registry::service_principal_patch_is_204_and_takes_effect",
        "graph-wire.md §5 general rules: PATCH /servicePrincipals/{id} → 204; the change is read back",
        [],
        patch_service_principal
    ),
    scenario!(
        "app_registry::service_principal_for_an_unknown_app_is_refused",
        "graph-wire.md §5.5: POST /servicePrincipals needs the appId of an application the tenant knows → 400",
        [],
        sp_unknown_app
    ),
    scenario!(
        "app_registry::grants_of_a_client_are_listed_from_its_service_principal",
        "graph-wire.md §5.6: an oauth2PermissionGrant links clientId and resourceId; GET /servicePrincipals/{id}/oauth2PermissionGrants lists the client's grants",
        [],
        grants_from_sp
    ),
    scenario!(
        "app_registry::grants_list_contains_the_new_grant",
        "graph-wire.md §5.6 / §3.1: GET /oauth2PermissionGrants → a collection holding the created grant",
        [],
        list_grants
    ),
    scenario!(
        "app_registry::app_role_assignment_can_be_read_by_id",
        "graph-wire.md §5.6: GET /servicePrincipals/{resource}/appRoleAssignedTo/{id} → the assignment (appRoleId, principalId, resourceId)",
        [],
        assignment_by_id
    ),
];

async fn new_app(api: &Api) -> Result<(String, String), Failure> {
    let r =
        api.post("/applications", json!({"displayName": api.cx.name("app"), "signInAudience": "AzureADMyOrg"})).await?;
    status(&r, 201)?;
    let id = id_of(&r)?;
    api.cx.cleanup(Cleanup::Application(id.clone()));
    Ok((id, r.json["appId"].as_str().unwrap_or_default().to_owned()))
}

async fn new_sp(api: &Api, app_id: &str) -> Result<String, Failure> {
    let r = api.post("/servicePrincipals", json!({"appId": app_id})).await?;
    status(&r, 201)?;
    let id = id_of(&r)?;
    api.cx.cleanup(Cleanup::ServicePrincipal(id.clone()));
    Ok(id)
}

async fn list_applications(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let (id, _) = new_app(&api).await?;
    cx.eventually("the application in GET /applications", || async {
        let r = api.get("/applications?$top=999").await?;
        status(&r, 200)?;
        eq("@odata.context", context(&r).as_str(), "applications")?;
        Ok(ids(&r)?.contains(&id).then_some(()))
    })
    .await
}

async fn patch_application(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let (id, _) = new_app(&api).await?;
    let r = api.patch(&format!("/applications/{id}"), json!({"notes": "patched by conformance"})).await?;
    status(&r, 204)?;
    ensure(r.text.is_empty(), format!("PATCH body: expected none, got {}", r.text))?;
    let r = api.get(&format!("/applications/{id}?$select=notes")).await?;
    eq("notes", r.json["notes"].as_str(), Some("patched by conformance"))
}

async fn patch_by_app_id(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let (id, app_id) = new_app(&api).await?;
    let name = cx.name("renamed");
    status(&api.patch(&format!("/applications(appId='{app_id}')"), json!({"displayName": name})).await?, 204)?;
    let r = api.get(&format!("/applications/{id}")).await?;
    eq("displayName", r.json["displayName"].as_str(), Some(name.as_str()))
}

async fn patch_unknown(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let r = api.patch(&format!("/applications/{NO_SUCH_ID}"), json!({"notes": "x"})).await?;
    support::expect_error(&r, 404, "Request_ResourceNotFound", None)
}

async fn list_service_principals(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let r = api.get("/servicePrincipals?$top=999").await?;
    status(&r, 200)?;
    eq("@odata.context", context(&r).as_str(), "servicePrincipals")?;
    ensure(
        values(&r)?.iter().any(|sp| sp["appId"] == GRAPH_APP_ID),
        "GET /servicePrincipals: expected Microsoft Graph's service principal",
    )
}

async fn filter_sp_by_app_id(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let (_, app_id) = new_app(&api).await?;
    let sp = new_sp(&api, &app_id).await?;
    cx.eventually("the service principal by $filter", || async {
        let r =
            api.get(&format!("/servicePrincipals?$filter={}", support::enc(&format!("appId eq '{app_id}'")))).await?;
        status(&r, 200)?;
        Ok((ids(&r)? == vec![sp.clone()]).then_some(()))
    })
    .await
}

async fn patch_service_principal(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let (_, app_id) = new_app(&api).await?;
    let sp = new_sp(&api, &app_id).await?;
    let r = api.patch(&format!("/servicePrincipals/{sp}"), json!({"notes": "patched by conformance"})).await?;
    status(&r, 204)?;
    let r = api.get(&format!("/servicePrincipals/{sp}?$select=notes")).await?;
    eq("notes", r.json["notes"].as_str(), Some("patched by conformance"))
}

async fn sp_unknown_app(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let r = api.post("/servicePrincipals", json!({"appId": NO_SUCH_ID})).await?;
    if r.status == 201 {
        cx.cleanup(Cleanup::ServicePrincipal(id_of(&r)?));
    }
    ensure(r.status == 400 || r.status == 404, format!("expected 400 (or 404), got {} {}", r.status, r.text))
}

async fn grant(api: &Api) -> Result<(String, String), Failure> {
    let (_, app_id) = new_app(api).await?;
    let client = new_sp(api, &app_id).await?;
    let graph = support::graph_sp_id(&api.cx).await?.to_string();
    let r = api
        .post(
            "/oauth2PermissionGrants",
            json!({"clientId": client, "consentType": "AllPrincipals", "resourceId": graph, "scope": "User.Read"}),
        )
        .await?;
    status(&r, 201)?;
    let id = id_of(&r)?;
    api.cx.cleanup(Cleanup::PermissionGrant(id.clone()));
    Ok((client, id))
}

async fn grants_from_sp(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let (client, id) = grant(&api).await?;
    let r = api.get(&format!("/servicePrincipals/{client}/oauth2PermissionGrants")).await?;
    status(&r, 200)?;
    eq("grants", ids(&r)?, vec![id])
}

async fn list_grants(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let (_, id) = grant(&api).await?;
    cx.eventually("the grant in GET /oauth2PermissionGrants", || async {
        let r = api.get("/oauth2PermissionGrants").await?;
        status(&r, 200)?;
        Ok(ids(&r)?.contains(&id).then_some(()))
    })
    .await
}

async fn assignment_by_id(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let app = support::app_with_roles(&cx, &[support::USER_READ_ALL]).await?;
    let graph = support::graph_sp_id(&cx).await?.to_string();
    let listed = api.get(&format!("/servicePrincipals/{graph}/appRoleAssignedTo")).await?;
    let item = values(&listed)?.iter().find(|a| a["principalId"] == app.sp_id.as_str()).cloned();
    let item = item.ok_or_else(|| Failure::new(format!("no assignment to {} listed", app.sp_id)))?;
    let id = item["id"].as_str().unwrap_or_default();
    let r = api.get(&format!("/servicePrincipals/{graph}/appRoleAssignedTo/{id}")).await?;
    status(&r, 200)?;
    eq("appRoleId", r.json["appRoleId"].as_str(), Some(support::USER_READ_ALL))?;
    eq("resourceId", r.json["resourceId"].as_str(), Some(graph.as_str()))
}
