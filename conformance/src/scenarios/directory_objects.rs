//! `/directoryObjects` and the membership checks every principal type shares, checked on the
//! wire: Microsoft's Graph reference pages `directoryobject-get`, `directoryobject-getbyids`,
//! `directoryobject-checkmembergroups`, `directoryobject-getmembergroups`,
//! `group-list-transitivememberof`, `group-list-transitivemembers` and
//! `directoryobject-delete`.

use serde_json::json;

use super::support::NO_SUCH_ID;
use super::wire::{context, ids, status, values, Api};
use crate::context::Ctx;
use crate::scenario;
use crate::scenario::{ensure, eq, Failure, Scenario};

pub(crate) const SCENARIOS: &[Scenario] = &[
    scenario!(
        "directory_objects::get_answers_the_object_with_its_type",
        "graph-wire.md §3.1 (mixed objects carry @odata.type) and Graph reference directoryobject-get: GET /directoryObjects/{id} → 200, the object with @odata.type, context directoryObjects/$entity",
        [],
        get
    ),
    scenario!(
        "directory_objects::get_by_ids_keeps_only_the_types_asked_for",
        "graph-wire.md §3.1 and Graph reference directoryobject-getbyids: POST /directoryObjects/getByIds {ids, types} → 200, a directoryObjects collection of the named types only",
        [],
        get_by_ids
    ),
    scenario!(
        "directory_objects::membership_checks_see_nested_groups",
        "graph-wire.md §5.8 (members may be groups) and Graph reference directoryobject-checkmembergroups / -getmembergroups: POST …/checkMemberGroups {groupIds} → the ids among them the object is a member of, transitively; getMemberGroups {securityEnabledOnly} → every such group id",
        [],
        member_checks
    ),
    scenario!(
        "directory_objects::transitive_lists_walk_nested_groups",
        "graph-wire.md §3.1 / §5.8 and Graph reference group-list-transitivemembers / -transitivememberof: members and memberships through nested groups, as directoryObjects with @odata.type",
        [],
        transitive
    ),
    scenario!(
        "directory_objects::delete_removes_a_group_like_its_own_delete",
        "graph-wire.md §5.8 (DELETE is a soft delete) and Graph reference directoryobject-delete: DELETE /directoryObjects/{id} → 204 for a group (Group.ReadWrite.All); the group is then 404 and in deletedItems",
        [],
        delete
    ),
    scenario!(
        "directory_objects::csdl_properties_nothing_set_are_selectable",
        "graph-wire.md §3.2 ($select) and the user / group resource pages: every property of the type can be $select-ed; one nothing set answers null, [] or its type's default (GET /users/{id}?$select=employeeOrgData,preferredDataLocation → 200, both null)",
        [],
        select_unset
    ),
    scenario!(
        "directory_objects::delete_of_an_unknown_id_is_404",
        "directoryobject-delete / graph-wire.md §2: an id no object has → 404 Request_ResourceNotFound",
        [],
        delete_unknown
    ),
];

async fn get(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let g = api.group("dobj").await?;
    let r = api.get(&format!("/directoryObjects/{g}")).await?;
    status(&r, 200)?;
    eq("@odata.type", r.json["@odata.type"].as_str(), Some("#microsoft.graph.group"))?;
    eq("id", r.json["id"].as_str(), Some(g.as_str()))?;
    eq("@odata.context", context(&r).as_str(), "directoryObjects/$entity")
}

async fn get_by_ids(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let g = api.group("byids").await?;
    let user = super::support::user(&cx, "byids").await?;
    let r = api.post("/directoryObjects/getByIds", json!({"ids": [g, user.id.to_string()]})).await?;
    status(&r, 200)?;
    let mut found = ids(&r)?;
    found.sort();
    let mut want = vec![g.clone(), user.id.to_string()];
    want.sort();
    eq("ids", found, want)?;
    let r =
        api.post("/directoryObjects/getByIds", json!({"ids": [g, user.id.to_string()], "types": ["group"]})).await?;
    status(&r, 200)?;
    eq("ids of type group", ids(&r)?, vec![g.clone()])?;
    eq("@odata.type", values(&r)?[0]["@odata.type"].as_str(), Some("#microsoft.graph.group"))
}

/// `outer` ⊃ `inner` ⊃ `leaf` (groups), for the transitive checks.
async fn nested(api: &Api) -> Result<(String, String, String), Failure> {
    let outer = api.group("outer").await?;
    let inner = api.group("inner").await?;
    let leaf = api.group("leaf").await?;
    status(&api.post(&format!("/groups/{outer}/members/$ref"), api.reference(&inner)).await?, 204)?;
    status(&api.post(&format!("/groups/{inner}/members/$ref"), api.reference(&leaf)).await?, 204)?;
    Ok((outer, inner, leaf))
}

async fn member_checks(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let (outer, inner, leaf) = nested(&api).await?;
    let other = api.group("other").await?;
    let r =
        api.post(&format!("/directoryObjects/{leaf}/checkMemberGroups"), json!({"groupIds": [outer, other]})).await?;
    status(&r, 200)?;
    let checked: Vec<&str> = values(&r)?.iter().filter_map(|v| v.as_str()).collect();
    eq("checkMemberGroups", checked, vec![outer.as_str()])?;
    let r = api.post(&format!("/groups/{leaf}/getMemberGroups"), json!({"securityEnabledOnly": false})).await?;
    status(&r, 200)?;
    let mut groups: Vec<&str> = values(&r)?.iter().filter_map(|v| v.as_str()).collect();
    groups.sort_unstable();
    let mut want = vec![outer.as_str(), inner.as_str()];
    want.sort_unstable();
    eq("getMemberGroups", groups, want)
}

async fn transitive(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let (outer, inner, leaf) = nested(&api).await?;
    let r = api.get(&format!("/groups/{outer}/transitiveMembers")).await?;
    status(&r, 200)?;
    let mut members = ids(&r)?;
    members.sort();
    let mut want = vec![inner.clone(), leaf.clone()];
    want.sort();
    eq("transitiveMembers", members, want)?;
    ensure(
        values(&r)?.iter().all(|v| v["@odata.type"] == "#microsoft.graph.group"),
        format!("every item carries @odata.type: {}", r.text),
    )?;
    let r = api.get(&format!("/groups/{leaf}/transitiveMemberOf")).await?;
    status(&r, 200)?;
    let mut of = ids(&r)?;
    of.sort();
    let mut want = vec![outer, inner];
    want.sort();
    eq("transitiveMemberOf", of, want)
}

async fn delete(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let g = api.group("deleted").await?;
    status(&api.delete(&format!("/directoryObjects/{g}")).await?, 204)?;
    status(&api.get(&format!("/groups/{g}")).await?, 404)?;
    status(&api.get(&format!("/directory/deletedItems/{g}")).await?, 200)?;
    // Soft-deleted objects sit in deletedItems for 30 days on a real tenant: purge it.
    status(&api.delete(&format!("/directory/deletedItems/{g}")).await?, 204)
}

async fn delete_unknown(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let r = api.delete(&format!("/directoryObjects/{NO_SUCH_ID}")).await?;
    status(&r, 404)?;
    eq("code", r.json["error"]["code"].as_str(), Some("Request_ResourceNotFound"))
}

async fn select_unset(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let user = super::support::user(&cx, "unset").await?;
    let r = api.get(&format!("/users/{}?$select=id,employeeOrgData,preferredDataLocation", user.id)).await?;
    status(&r, 200)?;
    for name in ["employeeOrgData", "preferredDataLocation"] {
        ensure(r.json.get(name) == Some(&serde_json::Value::Null), format!("{name}: expected null, got {}", r.text))?;
    }
    let g = api.group("unset").await?;
    let r = api.get(&format!("/groups/{g}?$select=id,uniqueName,assignedLicenses")).await?;
    status(&r, 200)?;
    ensure(
        r.json.get("uniqueName") == Some(&serde_json::Value::Null),
        format!("uniqueName: expected null, got {}", r.text),
    )?;
    eq("assignedLicenses", &r.json["assignedLicenses"], &json!([]))
}
