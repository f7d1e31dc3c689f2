//! Directory roles (legacy and unified), subscribed SKUs by id and the sync configuration by id
//! (graph-wire.md §5.7, §5.2, dirsync.md §4).

use serde_json::json;

use super::support::{self, DIRECTORY_READERS, GLOBAL_ADMINISTRATOR, USER_ADMINISTRATOR};
use super::wire::{context, id_of, ids, status, values, Api};
use crate::context::{Cleanup, Ctx};
use crate::scenario;
use crate::scenario::{ensure, eq, Failure, Need, Scenario};

pub(crate) const SCENARIOS: &[Scenario] = &[
    scenario!(
        "role_catalog::activate_is_201_with_the_template_id",
        "graph-wire.md §5.7: POST /directoryRoles with only {\"roleTemplateId\": …} → 201 …#directoryRoles/$entity with a new tenant-specific id and the roleTemplateId",
        [Need::TenantChanges],
        activate
    ),
    scenario!(
        "role_catalog::activating_an_active_role_is_400",
        "graph-wire.md §2.2: activating an already active directory role → 400 Request_BadRequest (conflict)",
        [Need::TenantChanges],
        activate_twice
    ),
    scenario!(
        "role_catalog::directory_role_by_id_and_by_template_id",
        "graph-wire.md §5.7: GET /directoryRoles/{id} and the alternate key GET /directoryRoles(roleTemplateId='…') address one role",
        [],
        by_id_and_template
    ),
    scenario!(
        "role_catalog::removing_a_role_member_is_204",
        "graph-wire.md §5.7: Remove: DELETE /directoryRoles/{id}/members/{principalId}/$ref → 204",
        [],
        remove_member
    ),
    scenario!(
        "role_catalog::role_definition_by_template_id",
        "graph-wire.md §5.7: for built-in roles roleDefinitionId = role template id; GET …/roleDefinitions/{id} → the definition (isBuiltIn true)",
        [],
        definition_by_id
    ),
    scenario!(
        "role_catalog::role_assignments_list_and_get",
        "graph-wire.md §5.7: a created unifiedRoleAssignment (opaque id) is listed by GET …/roleAssignments and read by GET …/roleAssignments/{id}",
        [],
        assignments_list_and_get
    ),
    scenario!(
        "role_catalog::role_assignment_without_a_scope_is_400",
        "graph-wire.md §5.7: one of directoryScopeId/appScopeId is required → 400 without",
        [],
        assignment_without_scope
    ),
    scenario!(
        "role_catalog::subscribed_sku_by_id",
        "dirsync.md §4: licences come from the tenant's subscribed SKUs; GET /subscribedSkus/{id} → the SKU (skuId, skuPartNumber, servicePlans)",
        [],
        sku_by_id
    ),
    scenario!(
        "role_catalog::sync_configuration_by_id_is_the_tenant_id",
        "graph-wire.md §5.2: GET /directory/onPremisesSynchronization/{id} (id = tenant id) → the one configuration object",
        [],
        sync_by_id
    ),
    scenario!(
        "role_catalog::sync_configuration_patch_is_204",
        "graph-wire.md §5.2: PATCH /directory/onPremisesSynchronization/{id} → 204 (the mock lets app-only tokens with OnPremDirectorySynchronization.ReadWrite.All through)",
        [Need::Mock],
        sync_patch
    ),
];

async fn activate(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let r = api.post("/directoryRoles", json!({"roleTemplateId": USER_ADMINISTRATOR})).await?;
    status(&r, 201)?;
    eq("@odata.context", context(&r).as_str(), "directoryRoles/$entity")?;
    eq("roleTemplateId", r.json["roleTemplateId"].as_str(), Some(USER_ADMINISTRATOR))?;
    ensure(r.json["id"].as_str() != Some(USER_ADMINISTRATOR), "id: expected a tenant-specific id, got the template id")
}

async fn activate_twice(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let r = api.post("/directoryRoles", json!({"roleTemplateId": GLOBAL_ADMINISTRATOR})).await?;
    support::expect_error(&r, 400, "Request_BadRequest", None)
}

async fn by_id_and_template(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let by_template = api.get(&format!("/directoryRoles(roleTemplateId='{GLOBAL_ADMINISTRATOR}')")).await?;
    status(&by_template, 200)?;
    let id = id_of(&by_template)?;
    let by_id = api.get(&format!("/directoryRoles/{id}")).await?;
    status(&by_id, 200)?;
    eq("roleTemplateId", by_id.json["roleTemplateId"].as_str(), Some(GLOBAL_ADMINISTRATOR))
}

async fn remove_member(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let u = support::user(&cx, "r").await?;
    let role = api.get(&format!("/directoryRoles(roleTemplateId='{GLOBAL_ADMINISTRATOR}')")).await?;
    let role = id_of(&role)?;
    // Directory Readers may not be active in a new tenant: assign through unified RBAC, which
    // activates it, then remove through the legacy view.
    let r = api
        .post(
            "/roleManagement/directory/roleAssignments",
            json!({"principalId": u.id, "roleDefinitionId": DIRECTORY_READERS, "directoryScopeId": "/"}),
        )
        .await?;
    status(&r, 201)?;
    cx.cleanup(Cleanup::RoleAssignment(id_of(&r)?));
    let readers = api.get(&format!("/directoryRoles(roleTemplateId='{DIRECTORY_READERS}')")).await?;
    let readers = id_of(&readers)?;
    ensure(readers != role, "Directory Readers and Global Administrator: expected two roles")?;
    status(&api.delete(&format!("/directoryRoles/{readers}/members/{}/$ref", u.id)).await?, 204)?;
    let members = api.get(&format!("/directoryRoles/{readers}/members")).await?;
    ensure(!ids(&members)?.contains(&u.id), format!("members still list {}", u.id))
}

async fn definition_by_id(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let r = api.get(&format!("/roleManagement/directory/roleDefinitions/{USER_ADMINISTRATOR}")).await?;
    status(&r, 200)?;
    eq("id", r.json["id"].as_str(), Some(USER_ADMINISTRATOR))?;
    eq("isBuiltIn", r.json["isBuiltIn"].as_bool(), Some(true))
}

async fn assignments_list_and_get(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let u = support::user(&cx, "r").await?;
    let r = api
        .post(
            "/roleManagement/directory/roleAssignments",
            json!({"principalId": u.id, "roleDefinitionId": DIRECTORY_READERS, "directoryScopeId": "/"}),
        )
        .await?;
    status(&r, 201)?;
    let id = id_of(&r)?;
    cx.cleanup(Cleanup::RoleAssignment(id.clone()));
    let filter = support::enc(&format!("principalId eq '{}'", u.id));
    let listed = api.get(&format!("/roleManagement/directory/roleAssignments?$filter={filter}")).await?;
    status(&listed, 200)?;
    ensure(ids(&listed)?.contains(&id), format!("roleAssignments: expected {id}, got {}", listed.text))?;
    let one = api.get(&format!("/roleManagement/directory/roleAssignments/{id}")).await?;
    status(&one, 200)?;
    eq("principalId", one.json["principalId"].as_str(), Some(u.id.as_str()))
}

async fn assignment_without_scope(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let u = support::user(&cx, "r").await?;
    let r = api
        .post(
            "/roleManagement/directory/roleAssignments",
            json!({"principalId": u.id, "roleDefinitionId": DIRECTORY_READERS}),
        )
        .await?;
    if r.status == 201 {
        cx.cleanup(Cleanup::RoleAssignment(id_of(&r)?));
    }
    status(&r, 400)
}

async fn sku_by_id(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let list = api.get("/subscribedSkus").await?;
    status(&list, 200)?;
    let Some(first) = values(&list)?.first().cloned() else { return Err(Failure::skip("the tenant has no SKUs")) };
    let id = first["id"].as_str().unwrap_or_default();
    let r = api.get(&format!("/subscribedSkus/{id}")).await?;
    status(&r, 200)?;
    eq("skuId", r.json["skuId"].clone(), first["skuId"].clone())?;
    ensure(
        r.json["servicePlans"].is_array(),
        format!("servicePlans: expected an array, got {}", r.json["servicePlans"]),
    )
}

/// The tenant id, as the organization object carries it (the session may name a domain).
async fn tenant_id(api: &Api) -> Result<String, Failure> {
    let r = api.get("/organization").await?;
    status(&r, 200)?;
    r.json["value"][0]["id"].as_str().map(str::to_owned).ok_or_else(|| Failure::new("organization has no id"))
}

async fn sync_by_id(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let tenant = tenant_id(&api).await?;
    let r = api.get(&format!("/directory/onPremisesSynchronization/{tenant}")).await?;
    status(&r, 200)?;
    eq("id", r.json["id"].as_str(), Some(tenant.as_str()))
}

async fn sync_patch(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let tenant = tenant_id(&api).await?;
    let r = api
        .patch(
            &format!("/directory/onPremisesSynchronization/{tenant}"),
            json!({"features": {"passwordSyncEnabled": true}}),
        )
        .await?;
    status(&r, 204)?;
    let r = api.get(&format!("/directory/onPremisesSynchronization/{tenant}")).await?;
    eq("features.passwordSyncEnabled", r.json["features"]["passwordSyncEnabled"].as_bool(), Some(true))
}
