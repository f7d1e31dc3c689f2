//! The user lifecycle: create, read, update, delete/restore, manager, memberOf, and the
//! validation errors (graph-wire.md §5.3, §2.2, §3.2, §5.8).

use graphbox_sdk::models::{Group, User};

use super::support::{self, PASSWORD};
use crate::context::{Cleanup, Ctx};
use crate::scenario;
use crate::scenario::{ensure, eq, graph_error, some, Failure, Scenario};

/// The default property set (graph-wire.md §3.2).
const DEFAULT_SET: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "id",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
];

pub(crate) const SCENARIOS: &[Scenario] = &[
    scenario!(
        "users::create_is_201_with_the_default_property_set_only",
        "graph-wire.md §5.3 / §9.4: POST /users → 201 with @odata.context …#users/$entity and the default property set only (not everything posted)",
        [],
        create_default_set
    ),
    scenario!(
        "users::get_without_select_returns_the_default_set",
        "graph-wire.md §3.2: users return only the default set unless $select is given; accountEnabled, usageLocation … only on $select",
        [],
        get_default_set
    ),
    scenario!(
        "users::upn_and_id_address_the_same_user",
        "graph-wire.md §5.3: users can be addressed by id or by UPN",
        [],
        by_upn
    ),
    scenario!(
        "users::patch_is_204_without_body_and_takes_effect",
        "graph-wire.md §5 general rules / §9.4: PATCH → 204 with no body",
        [],
        patch
    ),
    scenario!(
        "users::duplicate_upn_is_400_with_object_conflict",
        "graph-wire.md §2.2: duplicate UPN → 400 Request_BadRequest \"Another object with the same value for property userPrincipalName already exists.\" + details ObjectConflict",
        [],
        duplicate_upn
    ),
    scenario!(
        "users::weak_password_is_400_complexity",
        "graph-wire.md §2.2: weak passwordProfile.password → 400 Request_BadRequest \"The specified password does not comply with password complexity requirements. Please provide a different password.\"",
        [],
        weak_password
    ),
    scenario!(
        "users::unverified_domain_in_upn_is_400",
        "graph-wire.md §5.3: the UPN's domain must be a verified domain of the tenant → 400",
        [],
        unverified_domain
    ),
    scenario!(
        "users::missing_required_property_is_400",
        "graph-wire.md §5.3: accountEnabled, displayName, mailNickname, userPrincipalName, passwordProfile are required → 400",
        [],
        missing_required
    ),
    scenario!(
        "users::delete_is_soft_and_restore_brings_the_user_back",
        "graph-wire.md §5.3 / §9.8: DELETE → 204; the user leaves /users, appears in deletedItems/microsoft.graph.user with deletedDateTime, and restore → 200",
        [],
        delete_restore
    ),
    scenario!(
        "users::permanent_delete_empties_deleted_items",
        "graph-wire.md §5.3: DELETE /directory/deletedItems/{id} → 204 permanently deletes",
        [],
        permanent_delete
    ),
    scenario!(
        "users::manager_ref_round_trip",
        "graph-wire.md §5.3: PUT manager/$ref → 204; GET manager → the manager; DELETE manager/$ref → 204; then GET manager → 404 Request_ResourceNotFound",
        [],
        manager
    ),
    scenario!(
        "users::member_of_lists_groups_as_directory_objects",
        "graph-wire.md §5.3 / §3.1: memberOf → a directoryObjects collection whose items carry @odata.type",
        [],
        member_of
    ),
    scenario!(
        "users::adding_an_existing_group_member_is_400",
        "graph-wire.md §2.2 / §5.8: POST members/$ref for an existing member → 400 Request_BadRequest \"One or more added object references already exist for the following modified properties: 'members'.\"",
        [],
        duplicate_member
    ),
];

async fn create_default_set(cx: Ctx) -> Result<(), Failure> {
    let u = support::user_with(&cx, "u", |u| u.usage_location = Some("SE".into())).await?;
    let exchange = some(cx.exchanges().into_iter().rev().find(|e| e.method == "POST"), "the POST /users exchange")?;
    eq("status", exchange.status, 201)?;
    let body = exchange.body.unwrap_or_default();
    let context = body["@odata.context"].as_str().unwrap_or_default();
    ensure(
        context.ends_with("$metadata#users/$entity"),
        format!("@odata.context: expected …#users/$entity, got {context:?}"),
    )?;
    let extra: Vec<&String> = body
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
        .filter(|k| !k.starts_with('@') && !DEFAULT_SET.contains(&k.as_str()))
        .collect();
    ensure(extra.is_empty(), format!("create response: expected the default property set only, got also {extra:?}"))?;
    eq("userPrincipalName", body["userPrincipalName"].as_str(), Some(u.upn.as_str()))
}

async fn get_default_set(cx: Ctx) -> Result<(), Failure> {
    let u = support::user(&cx, "u").await?;
    let got = cx.graph().users().get(u.id.as_str()).send().await?;
    ensure(got.account_enabled.is_none(), "accountEnabled: expected absent without $select, got a value")?;
    let selected = cx.graph().users().get(u.id.as_str()).select(["accountEnabled", "usageLocation"]).send().await?;
    eq("accountEnabled with $select", selected.account_enabled, Some(true))?;
    let body = cx.last().and_then(|e| e.body).unwrap_or_default();
    ensure(
        body.get("usageLocation").is_some_and(|v| v.is_null()),
        format!("usageLocation with $select: expected null when unset, got {:?}", body.get("usageLocation")),
    )
}

async fn by_upn(cx: Ctx) -> Result<(), Failure> {
    let u = support::user(&cx, "u").await?;
    let got = cx
        .eventually("the new user", || async {
            match cx.graph().users().get(u.upn.as_str()).send().await {
                Ok(user) => Ok(Some(user)),
                Err(e) if e.is_not_found() && !cx.caps().is_mock => Ok(None),
                Err(e) => Err(e.into()),
            }
        })
        .await?;
    eq("id", got.id.map(|i| i.to_string()), Some(u.id))
}

async fn patch(cx: Ctx) -> Result<(), Failure> {
    let u = support::user(&cx, "u").await?;
    let change = User { usage_location: Some("SE".into()), job_title: Some("Tester".into()), ..Default::default() };
    cx.graph().users().update(u.id.as_str(), change).send().await?;
    let exchange = some(cx.last(), "the PATCH exchange")?;
    eq("status", exchange.status, 204)?;
    ensure(exchange.body.is_none(), "PATCH: expected no body")?;
    let got = cx.graph().users().get(u.id.as_str()).select(["usageLocation", "jobTitle"]).send().await?;
    eq("usageLocation", got.usage_location.as_deref(), Some("SE"))?;
    eq("jobTitle", got.job_title.as_deref(), Some("Tester"))
}

async fn duplicate_upn(cx: Ctx) -> Result<(), Failure> {
    let u = support::user(&cx, "u").await?;
    let again = cx.graph().users().create(User::new("dup", &format!("{}x", u.nick), &u.upn, PASSWORD)).send().await;
    if let Ok(created) = &again {
        if let Some(id) = &created.id {
            cx.cleanup(Cleanup::User(id.to_string()))
        }
    }
    let e = graph_error(again, 400, "Request_BadRequest")?;
    eq(
        "message",
        e.message.as_str(),
        "Another object with the same value for property userPrincipalName already exists.",
    )?;
    let conflict =
        e.details.iter().any(|d| d.code == "ObjectConflict" && d.target.as_deref() == Some("userPrincipalName"));
    ensure(conflict, format!("details: expected ObjectConflict on userPrincipalName, got {:?}", e.details))
}

async fn weak_password(cx: Ctx) -> Result<(), Failure> {
    let (upn, nick) = cx.upn("weak").await?;
    let r = cx.graph().users().create(User::new(&nick, &nick, &upn, "password")).send().await;
    let e = graph_error(r, 400, "Request_BadRequest")?;
    eq("message", e.message.as_str(), "The specified password does not comply with password complexity requirements. Please provide a different password.")
}

async fn unverified_domain(cx: Ctx) -> Result<(), Failure> {
    let nick = cx.name("dom");
    let r = cx
        .graph()
        .users()
        .create(User::new(&nick, &nick, &format!("{nick}@not-verified.example"), PASSWORD))
        .send()
        .await;
    graph_error(r, 400, "Request_BadRequest").map(|_| ())
}

async fn missing_required(cx: Ctx) -> Result<(), Failure> {
    let (upn, nick) = cx.upn("req").await?;
    let mut body = User::new(&nick, &nick, &upn, PASSWORD);
    body.mail_nickname = None;
    graph_error(cx.graph().users().create(body).send().await, 400, "Request_BadRequest").map(|_| ())
}

async fn delete_restore(cx: Ctx) -> Result<(), Failure> {
    let u = support::user(&cx, "u").await?;
    cx.graph().users().delete(u.id.as_str()).send().await?;
    eq("DELETE status", cx.last().map(|e| e.status), Some(204))?;
    graph_error(cx.graph().users().get(u.id.as_str()).send().await, 404, "Request_ResourceNotFound")?;
    let deleted = cx
        .eventually("the user in deletedItems", || async {
            let page = cx.graph().deleted_items().users().send().await?;
            Ok(page.value.into_iter().find(|d| d.id.as_ref().map(|i| i.as_str()) == Some(u.id.as_str())))
        })
        .await?;
    ensure(deleted.deleted_date_time.is_some(), "deletedDateTime: expected a value on a deleted user, got none")?;
    cx.graph().deleted_items().restore(u.id.as_str()).send().await?;
    eq("restore status", cx.last().map(|e| e.status), Some(200))?;
    cx.graph().users().get(u.id.as_str()).send().await?;
    Ok(())
}

async fn permanent_delete(cx: Ctx) -> Result<(), Failure> {
    let u = support::user(&cx, "u").await?;
    cx.graph().users().delete(u.id.as_str()).send().await?;
    cx.graph().deleted_items().permanently_delete(u.id.as_str()).send().await?;
    eq("status", cx.last().map(|e| e.status), Some(204))?;
    let r = cx.graph().deleted_items().get(u.id.as_str()).send().await;
    graph_error(r, 404, "Request_ResourceNotFound").map(|_| ())
}

async fn manager(cx: Ctx) -> Result<(), Failure> {
    let boss = support::user(&cx, "boss").await?;
    let u = support::user(&cx, "u").await?;
    cx.graph().users().set_manager(u.id.as_str(), boss.id.as_str()).send().await?;
    eq("PUT manager/$ref status", cx.last().map(|e| e.status), Some(204))?;
    let m = cx.graph().users().manager(u.id.as_str()).send().await?;
    eq("manager id", m.id.map(|i| i.to_string()), Some(boss.id))?;
    cx.graph().users().remove_manager(u.id.as_str()).send().await?;
    eq("DELETE manager/$ref status", cx.last().map(|e| e.status), Some(204))?;
    graph_error(cx.graph().users().manager(u.id.as_str()).send().await, 404, "Request_ResourceNotFound").map(|_| ())
}

async fn new_group(cx: &Ctx) -> Result<String, Failure> {
    let name = cx.name("grp");
    let g = cx.graph().groups().create(Group::security(&name, &name)).send().await?;
    let id = some(g.id, "group id")?.to_string();
    cx.cleanup(Cleanup::Group(id.clone()));
    Ok(id)
}

async fn member_of(cx: Ctx) -> Result<(), Failure> {
    let u = support::user(&cx, "u").await?;
    let g = new_group(&cx).await?;
    cx.graph().groups().add_member(g.as_str(), u.id.as_str()).send().await?;
    eq("POST members/$ref status", cx.last().map(|e| e.status), Some(204))?;
    let members = cx.graph().groups().members(g.as_str()).send().await?;
    let listed = members.value.iter().any(|m| m.id.as_ref().map(|i| i.as_str()) == Some(u.id.as_str()));
    ensure(listed, "group members after POST members/$ref: expected the user")?;
    cx.graph().users().member_of(u.id.as_str()).send().await?;
    let body = cx.last().and_then(|e| e.body).unwrap_or_default();
    let context = body["@odata.context"].as_str().unwrap_or_default();
    ensure(
        context.ends_with("$metadata#directoryObjects"),
        format!("@odata.context: expected …#directoryObjects, got {context:?}"),
    )?;
    let item = body["value"].as_array().and_then(|v| v.iter().find(|i| i["id"] == g.as_str())).cloned();
    let item = item.ok_or_else(|| Failure::new(format!("memberOf: expected the group {g}, got {}", body["value"])))?;
    eq("@odata.type", item["@odata.type"].as_str(), Some("#microsoft.graph.group"))
}

async fn duplicate_member(cx: Ctx) -> Result<(), Failure> {
    let u = support::user(&cx, "u").await?;
    let g = new_group(&cx).await?;
    cx.graph().groups().add_member(g.as_str(), u.id.as_str()).send().await?;
    let e =
        graph_error(cx.graph().groups().add_member(g.as_str(), u.id.as_str()).send().await, 400, "Request_BadRequest")?;
    eq(
        "message",
        e.message.as_str(),
        "One or more added object references already exist for the following modified properties: 'members'.",
    )?;
    Ok(())
}
