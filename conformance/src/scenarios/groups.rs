//! Groups, their members and owners (graph-wire.md §5.8, §2.2, §3.1).

use serde_json::json;

use super::support::{self, NO_SUCH_ID};
use super::wire::{context, id_of, ids, status, values, Api};
use crate::context::{Cleanup, Ctx};
use crate::scenario;
use crate::scenario::{ensure, eq, Failure, Scenario};

pub(crate) const SCENARIOS: &[Scenario] = &[
    scenario!(
        "groups::create_security_group_is_201_with_the_entity_context",
        "graph-wire.md §5.8: POST /groups with displayName, mailEnabled, mailNickname, securityEnabled and groupTypes [] → 201 (a security group)",
        [],
        create
    ),
    scenario!(
        "groups::create_without_mail_nickname_is_400",
        "graph-wire.md §5.8: displayName, mailEnabled, mailNickname and securityEnabled are required on POST /groups → 400 without one",
        [],
        missing_nickname
    ),
    scenario!(
        "groups::create_without_display_name_is_400",
        "graph-wire.md §5.8: displayName is required on POST /groups → 400 Request_BadRequest without it",
        [],
        missing_display_name
    ),
    scenario!(
        "groups::mail_enabled_security_group_is_refused",
        "graph-wire.md §5.8: groupTypes [\"Unified\"] is a Microsoft 365 group and needs mailEnabled true; a mail-enabled group must be one → 400",
        [],
        mail_enabled_security
    ),
    scenario!(
        "groups::unified_group_is_mail_enabled",
        "graph-wire.md §5.8: groupTypes [\"Unified\"] with mailEnabled true → 201, a Microsoft 365 group",
        [],
        unified
    ),
    scenario!(
        "groups::get_by_id_returns_the_group",
        "graph-wire.md §5.8 / §3.1: GET /groups/{id} → 200 with …#groups/$entity",
        [],
        get_by_id
    ),
    scenario!(
        "groups::unknown_group_is_404_request_resource_not_found",
        "graph-wire.md §2.2: unknown object id → 404 Request_ResourceNotFound",
        [],
        unknown
    ),
    scenario!(
        "groups::list_contains_the_new_group",
        "graph-wire.md §3.1 / §5.8: GET /groups → a collection with @odata.context …#groups and the created group in value",
        [],
        list
    ),
    scenario!(
        "groups::filter_by_display_name_finds_the_group",
        "graph-wire.md §3.3: $filter=displayName eq '…' works by default on directory objects",
        [],
        filter
    ),
    scenario!(
        "groups::patch_is_204_and_takes_effect",
        "graph-wire.md §5.8: PATCH /groups/{id} → 204 with no body; the change is read back",
        [],
        patch
    ),
    scenario!(
        "groups::select_projects_the_group",
        "graph-wire.md §3.2 / §3.1: $select returns the selected properties and …#groups(p1,p2)/$entity",
        [],
        select
    ),
    scenario!(
        "groups::add_member_is_204_and_members_lists_it_with_odata_type",
        "graph-wire.md §5.8: POST /groups/{id}/members/$ref → 204; GET /groups/{id}/members → directoryObjects with @odata.type",
        [],
        add_member
    ),
    scenario!(
        "groups::remove_member_is_204",
        "graph-wire.md §5.8: DELETE /groups/{id}/members/{memberId}/$ref → 204 and the member is gone",
        [],
        remove_member
    ),
    scenario!(
        "groups::removing_a_non_member_is_404",
        "graph-wire.md §2.2: an unknown $ref target → 404 Request_ResourceNotFound",
        [],
        remove_non_member
    ),
    scenario!(
        "groups::adding_an_unknown_member_is_404",
        "graph-wire.md §2.2: 404 Request_ResourceNotFound \"also for $ref targets\"",
        [],
        add_unknown_member
    ),
    scenario!(
        "groups::group_can_be_a_member_of_a_group",
        "graph-wire.md §5.8 / §3.1: members is a directoryObjects collection; a nested group carries @odata.type #microsoft.graph.group",
        [],
        nested
    ),
    scenario!(
        "groups::add_owner_is_204_and_owners_lists_it",
        "graph-wire.md §5.8: owners are linked like members: POST /groups/{id}/owners/$ref → 204, GET owners lists them",
        [],
        add_owner
    ),
    scenario!(
        "groups::adding_an_existing_owner_is_400",
        "graph-wire.md §2.2: an existing reference → 400 \"One or more added object references already exist for the following modified properties: 'owners'.\"",
        [],
        duplicate_owner
    ),
    scenario!(
        "groups::remove_owner_is_204",
        "graph-wire.md §5.8: DELETE /groups/{id}/owners/{id}/$ref → 204 and the owner is gone",
        [],
        remove_owner
    ),
    scenario!(
        "groups::members_bound_at_creation_are_members",
        "graph-wire.md §5.8: \"members@odata.bind\" and \"owners@odata.bind\" at create time link them",
        [],
        bind_at_create
    ),
    scenario!(
        "groups::more_than_20_bound_at_creation_is_400",
        "graph-wire.md §5.8: members and owners bound at create time: max 20 combined → 400 beyond",
        [],
        bind_too_many
    ),
    scenario!(
        "groups::binding_an_unknown_object_at_creation_is_404",
        "graph-wire.md §2.2: 404 Request_ResourceNotFound for unknown objects, also for references",
        [],
        bind_unknown
    ),
    scenario!(
        "groups::delete_is_204_and_the_group_leaves_the_list",
        "graph-wire.md §5.8: DELETE /groups/{id} → 204 (soft delete); GET /groups/{id} → 404",
        [],
        delete
    ),
    scenario!(
        "groups::user_member_of_shows_the_group",
        "graph-wire.md §5.3: GET /users/{id}/memberOf → directoryObjects of groups with @odata.type",
        [],
        member_of
    ),
];

async fn create(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let nick = cx.name("g");
    let r = api
        .post(
            "/groups",
            json!({"displayName": nick, "mailEnabled": false, "mailNickname": nick, "securityEnabled": true, "groupTypes": []}),
        )
        .await?;
    status(&r, 201)?;
    cx.cleanup(Cleanup::Group(id_of(&r)?));
    eq("@odata.context", context(&r).as_str(), "groups/$entity")?;
    eq("securityEnabled", r.json["securityEnabled"].as_bool(), Some(true))?;
    eq("displayName", r.json["displayName"].as_str(), Some(nick.as_str()))
}

async fn missing_nickname(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let r = api
        .post("/groups", json!({"displayName": cx.name("g"), "mailEnabled": false, "securityEnabled": true}))
        .await?;
    status(&r, 400)
}

async fn missing_display_name(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let nick = cx.name("g");
    let r = api.post("/groups", json!({"mailNickname": nick, "mailEnabled": false, "securityEnabled": true})).await?;
    support::expect_error(&r, 400, "Request_BadRequest", None)
}

async fn mail_enabled_security(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let nick = cx.name("g");
    let r = api
        .post(
            "/groups",
            json!({"displayName": nick, "mailEnabled": true, "mailNickname": nick, "securityEnabled": true, "groupTypes": []}),
        )
        .await?;
    if r.status == 201 {
        cx.cleanup(Cleanup::Group(id_of(&r)?));
    }
    status(&r, 400)
}

async fn unified(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let id = api
        .group_with("m365", json!({"mailEnabled": true, "securityEnabled": false, "groupTypes": ["Unified"]}))
        .await?;
    let r = api.get(&format!("/groups/{id}?$select=groupTypes,mailEnabled,mail")).await?;
    status(&r, 200)?;
    eq("mailEnabled", r.json["mailEnabled"].as_bool(), Some(true))?;
    eq("groupTypes", r.json["groupTypes"].clone(), json!(["Unified"]))
}

async fn get_by_id(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let id = api.group("g").await?;
    let r = api.get(&format!("/groups/{id}")).await?;
    status(&r, 200)?;
    eq("@odata.context", context(&r).as_str(), "groups/$entity")?;
    eq("id", r.json["id"].as_str(), Some(id.as_str()))
}

async fn unknown(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let r = api.get(&format!("/groups/{NO_SUCH_ID}")).await?;
    support::expect_error(&r, 404, "Request_ResourceNotFound", None)
}

async fn list(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let id = api.group("g").await?;
    let found = cx
        .eventually("the new group in GET /groups", || async {
            let r = api.get("/groups?$top=999").await?;
            status(&r, 200)?;
            eq("@odata.context", context(&r).as_str(), "groups")?;
            Ok(ids(&r)?.contains(&id).then_some(()))
        })
        .await;
    found
}

async fn filter(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let id = api.group("flt").await?;
    let name = api.get(&format!("/groups/{id}?$select=displayName")).await?.json["displayName"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    cx.eventually("the group by $filter", || async {
        let r = api.get(&format!("/groups?$filter={}", support::enc(&format!("displayName eq '{name}'")))).await?;
        status(&r, 200)?;
        Ok((ids(&r)? == vec![id.clone()]).then_some(()))
    })
    .await
}

async fn patch(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let id = api.group("g").await?;
    let r = api.patch(&format!("/groups/{id}"), json!({"description": "patched by conformance"})).await?;
    status(&r, 204)?;
    ensure(r.text.is_empty(), format!("PATCH body: expected none, got {}", r.text))?;
    let r = api.get(&format!("/groups/{id}?$select=description")).await?;
    eq("description", r.json["description"].as_str(), Some("patched by conformance"))
}

async fn select(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let id = api.group("g").await?;
    let r = api.get(&format!("/groups/{id}?$select=id,displayName")).await?;
    status(&r, 200)?;
    eq("@odata.context", context(&r).as_str(), "groups(id,displayName)/$entity")?;
    let keys: Vec<&String> =
        r.json.as_object().into_iter().flatten().map(|(k, _)| k).filter(|k| !k.starts_with('@')).collect();
    eq("properties", keys.len(), 2)
}

async fn add_member(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let g = api.group("g").await?;
    let u = support::user(&cx, "m").await?;
    let r = api.post(&format!("/groups/{g}/members/$ref"), api.reference(&u.id)).await?;
    status(&r, 204)?;
    let r = api.get(&format!("/groups/{g}/members")).await?;
    status(&r, 200)?;
    let items = values(&r)?;
    eq("members", items.len(), 1)?;
    eq("@odata.type", items[0]["@odata.type"].as_str(), Some("#microsoft.graph.user"))?;
    eq("id", items[0]["id"].as_str(), Some(u.id.as_str()))
}

async fn remove_member(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let g = api.group("g").await?;
    let u = support::user(&cx, "m").await?;
    status(&api.post(&format!("/groups/{g}/members/$ref"), api.reference(&u.id)).await?, 204)?;
    status(&api.delete(&format!("/groups/{g}/members/{}/$ref", u.id)).await?, 204)?;
    let r = api.get(&format!("/groups/{g}/members")).await?;
    eq("members after removal", ids(&r)?.len(), 0)
}

async fn remove_non_member(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let g = api.group("g").await?;
    let u = support::user(&cx, "m").await?;
    let r = api.delete(&format!("/groups/{g}/members/{}/$ref", u.id)).await?;
    support::expect_error(&r, 404, "Request_ResourceNotFound", None)
}

async fn add_unknown_member(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let g = api.group("g").await?;
    let r = api.post(&format!("/groups/{g}/members/$ref"), api.reference(NO_SUCH_ID)).await?;
    support::expect_error(&r, 404, "Request_ResourceNotFound", None)
}

async fn nested(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let outer = api.group("outer").await?;
    let inner = api.group("inner").await?;
    status(&api.post(&format!("/groups/{outer}/members/$ref"), api.reference(&inner)).await?, 204)?;
    let r = api.get(&format!("/groups/{outer}/members")).await?;
    let items = values(&r)?;
    eq("members", items.len(), 1)?;
    eq("@odata.type", items[0]["@odata.type"].as_str(), Some("#microsoft.graph.group"))
}

async fn add_owner(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let g = api.group("g").await?;
    let u = support::user(&cx, "o").await?;
    status(&api.post(&format!("/groups/{g}/owners/$ref"), api.reference(&u.id)).await?, 204)?;
    let r = api.get(&format!("/groups/{g}/owners")).await?;
    status(&r, 200)?;
    eq("owners", ids(&r)?, vec![u.id.clone()])?;
    eq("@odata.type", values(&r)?[0]["@odata.type"].as_str(), Some("#microsoft.graph.user"))
}

async fn duplicate_owner(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let g = api.group("g").await?;
    let u = support::user(&cx, "o").await?;
    status(&api.post(&format!("/groups/{g}/owners/$ref"), api.reference(&u.id)).await?, 204)?;
    let r = api.post(&format!("/groups/{g}/owners/$ref"), api.reference(&u.id)).await?;
    support::expect_error(
        &r,
        400,
        "Request_BadRequest",
        Some("One or more added object references already exist for the following modified properties: 'owners'."),
    )
}

async fn remove_owner(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let g = api.group("g").await?;
    let u = support::user(&cx, "o").await?;
    status(&api.post(&format!("/groups/{g}/owners/$ref"), api.reference(&u.id)).await?, 204)?;
    status(&api.delete(&format!("/groups/{g}/owners/{}/$ref", u.id)).await?, 204)?;
    eq("owners after removal", ids(&api.get(&format!("/groups/{g}/owners")).await?)?.len(), 0)
}

fn bind(ids: &[&str]) -> serde_json::Value {
    json!(ids.iter().map(|id| format!("https://graph.microsoft.com/v1.0/users/{id}")).collect::<Vec<_>>())
}

async fn bind_at_create(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let m = support::user(&cx, "m").await?;
    let o = support::user(&cx, "o").await?;
    let g = api
        .group_with("bound", json!({"members@odata.bind": bind(&[&m.id]), "owners@odata.bind": bind(&[&o.id])}))
        .await?;
    eq("members", ids(&api.get(&format!("/groups/{g}/members")).await?)?, vec![m.id.clone()])?;
    eq("owners", ids(&api.get(&format!("/groups/{g}/owners")).await?)?, vec![o.id.clone()])
}

async fn bind_too_many(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let u = support::user(&cx, "m").await?;
    // 21 references to one user: the limit counts references, and no object need be created.
    let refs: Vec<&str> = std::iter::repeat_n(u.id.as_str(), 21).collect();
    let nick = cx.name("g");
    let r = api
        .post(
            "/groups",
            json!({"displayName": nick, "mailEnabled": false, "mailNickname": nick, "securityEnabled": true,
                "groupTypes": [], "members@odata.bind": bind(&refs)}),
        )
        .await?;
    if r.status == 201 {
        cx.cleanup(Cleanup::Group(id_of(&r)?));
    }
    status(&r, 400)
}

async fn bind_unknown(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let nick = cx.name("g");
    let r = api
        .post(
            "/groups",
            json!({"displayName": nick, "mailEnabled": false, "mailNickname": nick, "securityEnabled": true,
                "groupTypes": [], "members@odata.bind": bind(&[NO_SUCH_ID])}),
        )
        .await?;
    if r.status == 201 {
        cx.cleanup(Cleanup::Group(id_of(&r)?));
    }
    support::expect_error(&r, 404, "Request_ResourceNotFound", None)
}

async fn delete(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let g = api.group("g").await?;
    status(&api.delete(&format!("/groups/{g}")).await?, 204)?;
    cx.eventually("the deleted group to be gone", || async {
        Ok((api.get(&format!("/groups/{g}")).await?.status == 404).then_some(()))
    })
    .await
}

async fn member_of(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let g = api.group("g").await?;
    let u = support::user(&cx, "m").await?;
    status(&api.post(&format!("/groups/{g}/members/$ref"), api.reference(&u.id)).await?, 204)?;
    let r = api.get(&format!("/users/{}/memberOf", u.id)).await?;
    status(&r, 200)?;
    let items = values(&r)?;
    ensure(
        items.iter().any(|i| i["id"].as_str() == Some(g.as_str()) && i["@odata.type"] == "#microsoft.graph.group"),
        format!("memberOf: expected the group {g} with @odata.type #microsoft.graph.group, got {}", r.text),
    )
}
