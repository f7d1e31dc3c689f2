//! Deleted items and restore for every kind the directory soft-deletes (graph-wire.md §5.3,
//! §5.8).

use serde_json::json;

use super::support::{self, NO_SUCH_ID};
use super::wire::{context, id_of, ids, status, Api};
use crate::context::{Cleanup, Ctx};
use crate::scenario;
use crate::scenario::{ensure, eq, Failure, Scenario};

pub(crate) const SCENARIOS: &[Scenario] = &[
    scenario!(
        "deleted::listing_needs_a_type_cast",
        "graph-wire.md §5.3: listing deleted items requires the type-cast segment (microsoft.graph.user, .group, .application …) → 400 without it",
        [],
        needs_cast
    ),
    scenario!(
        "deleted::deleted_group_is_listed_with_deleted_date_time",
        "graph-wire.md §5.8 / §5.3: DELETE /groups/{id} → 204 soft delete; the group appears in deletedItems/microsoft.graph.group with deletedDateTime",
        [],
        group_listed
    ),
    scenario!(
        "deleted::deleted_group_is_restored_with_its_id",
        "graph-wire.md §5.8 / §5.3: a deleted group is restorable: POST /directory/deletedItems/{id}/restore → 200 with the restored object",
        [],
        group_restore
    ),
    scenario!(
        "deleted::deleted_group_can_be_read_by_id",
        "graph-wire.md §5.3: GET /directory/deletedItems/{id} → the deleted object with deletedDateTime",
        [],
        group_get
    ),
    scenario!(
        "deleted::permanently_deleted_group_is_gone",
        "graph-wire.md §5.3: DELETE /directory/deletedItems/{id} → 204 permanently deletes; restore then → 404",
        [],
        group_purge
    ),
    scenario!(
        "deleted::deleted_application_is_listed_and_restored",
        "graph-wire.md §5.3: deleted items hold applications too (deletedItems/microsoft.graph.application); restore → 200",
        [],
        application_restore
    ),
    scenario!(
        "deleted::deleted_users_list_context_names_the_cast",
        "graph-wire.md §5.3 / §3.1: GET /directory/deletedItems/microsoft.graph.user → a collection whose context names the cast",
        [],
        users_context
    ),
    scenario!(
        "deleted::restored_user_is_back_in_users",
        "graph-wire.md §5.3: restore → 200 with the restored object; the user is listed in /users again",
        [],
        user_back
    ),
    scenario!(
        "deleted::restore_of_an_unknown_id_is_404",
        "graph-wire.md §2.2: an unknown object id → 404 Request_ResourceNotFound",
        [],
        restore_unknown
    ),
    scenario!(
        "deleted::restore_of_a_live_object_is_404",
        "graph-wire.md §5.3: only soft-deleted objects are in deletedItems; a live user's id there → 404 Request_ResourceNotFound",
        [],
        restore_live
    ),
];

async fn needs_cast(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let r = api.get("/directory/deletedItems").await?;
    status(&r, 400)
}

async fn deleted_group(api: &Api) -> Result<String, Failure> {
    let g = api.group("del").await?;
    status(&api.delete(&format!("/groups/{g}")).await?, 204)?;
    Ok(g)
}

async fn group_listed(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let g = deleted_group(&api).await?;
    let r = api.get("/directory/deletedItems/microsoft.graph.group").await?;
    status(&r, 200)?;
    let item = r.json["value"].as_array().into_iter().flatten().find(|v| v["id"] == g.as_str()).cloned();
    let item = item.ok_or_else(|| Failure::new(format!("deleted group {g} not listed: {}", r.text)))?;
    ensure(
        item["deletedDateTime"].is_string(),
        format!("deletedDateTime: expected a date, got {}", item["deletedDateTime"]),
    )
}

async fn group_restore(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let g = deleted_group(&api).await?;
    let r = api.post(&format!("/directory/deletedItems/{g}/restore"), json!({})).await?;
    status(&r, 200)?;
    eq("id", r.json["id"].as_str(), Some(g.as_str()))?;
    status(&api.get(&format!("/groups/{g}")).await?, 200)
}

async fn group_get(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let g = deleted_group(&api).await?;
    let r = api.get(&format!("/directory/deletedItems/{g}")).await?;
    status(&r, 200)?;
    eq("id", r.json["id"].as_str(), Some(g.as_str()))?;
    ensure(r.json["deletedDateTime"].is_string(), format!("deletedDateTime: expected a date, got {}", r.text))
}

async fn group_purge(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let g = deleted_group(&api).await?;
    status(&api.delete(&format!("/directory/deletedItems/{g}")).await?, 204)?;
    let r = api.post(&format!("/directory/deletedItems/{g}/restore"), json!({})).await?;
    support::expect_error(&r, 404, "Request_ResourceNotFound", None)
}

async fn application_restore(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let r = api.post("/applications", json!({"displayName": cx.name("app")})).await?;
    status(&r, 201)?;
    let id = id_of(&r)?;
    cx.cleanup(Cleanup::Application(id.clone()));
    status(&api.delete(&format!("/applications/{id}")).await?, 204)?;
    let listed = api.get("/directory/deletedItems/microsoft.graph.application").await?;
    status(&listed, 200)?;
    ensure(ids(&listed)?.contains(&id), format!("deleted application {id} not listed: {}", listed.text))?;
    let r = api.post(&format!("/directory/deletedItems/{id}/restore"), json!({})).await?;
    status(&r, 200)?;
    status(&api.get(&format!("/applications/{id}")).await?, 200)
}

async fn users_context(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let u = support::user(&cx, "u").await?;
    status(&api.delete(&format!("/users/{}", u.id)).await?, 204)?;
    let r = api.get("/directory/deletedItems/microsoft.graph.user").await?;
    status(&r, 200)?;
    eq("@odata.context", context(&r).as_str(), "directory/deletedItems/microsoft.graph.user")
}

async fn user_back(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let u = support::user(&cx, "u").await?;
    status(&api.delete(&format!("/users/{}", u.id)).await?, 204)?;
    status(&api.post(&format!("/directory/deletedItems/{}/restore", u.id), json!({})).await?, 200)?;
    let filter = support::enc(&format!("id eq '{}'", u.id));
    cx.eventually("the restored user in /users", || async {
        Ok((ids(&api.get(&format!("/users?$filter={filter}")).await?)? == vec![u.id.clone()]).then_some(()))
    })
    .await
}

async fn restore_unknown(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let r = api.post(&format!("/directory/deletedItems/{NO_SUCH_ID}/restore"), json!({})).await?;
    support::expect_error(&r, 404, "Request_ResourceNotFound", None)
}

async fn restore_live(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let u = support::user(&cx, "u").await?;
    let r = api.post(&format!("/directory/deletedItems/{}/restore", u.id), json!({})).await?;
    support::expect_error(&r, 404, "Request_ResourceNotFound", None)
}
