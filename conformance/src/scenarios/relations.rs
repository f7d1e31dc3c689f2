//! `manager`, `directReports`, `memberOf` and `$expand` on users (graph-wire.md §5.3, §3.4).

use serde_json::json;

use super::support::{self, NO_SUCH_ID};
use super::wire::{context, ids, status, values, Api};
use crate::context::Ctx;
use crate::scenario;
use crate::scenario::{ensure, eq, Failure, Scenario};

pub(crate) const SCENARIOS: &[Scenario] = &[
    scenario!(
        "relations::manager_by_directory_objects_url_is_accepted",
        "graph-wire.md §5.3: PUT manager/$ref takes …/users/{managerId} (a directoryObjects/{id} URL also works) → 204",
        [],
        manager_directory_objects_url
    ),
    scenario!(
        "relations::manager_answers_with_the_user_and_its_type",
        "graph-wire.md §5.3 / §3.1: GET /users/{id}/manager → the manager object, carrying @odata.type #microsoft.graph.user",
        [],
        manager_shape
    ),
    scenario!(
        "relations::no_manager_is_404",
        "graph-wire.md §5.3: GET /users/{id}/manager → 404 Request_ResourceNotFound if none",
        [],
        no_manager
    ),
    scenario!(
        "relations::unknown_manager_is_404",
        "graph-wire.md §2.2: 404 Request_ResourceNotFound for unknown ids, \"also for $ref targets\"",
        [],
        unknown_manager
    ),
    scenario!(
        "relations::direct_reports_is_the_inverse_of_manager",
        "graph-wire.md §5.3: GET /users/{id}/directReports is the inverse of manager",
        [],
        direct_reports
    ),
    scenario!(
        "relations::direct_reports_of_a_user_without_reports_is_empty",
        "graph-wire.md §5.3 / §3.1: directReports is a directoryObjects collection, empty when nobody reports",
        [],
        no_direct_reports
    ),
    scenario!(
        "relations::removing_the_manager_empties_direct_reports",
        "graph-wire.md §5.3: DELETE /users/{id}/manager/$ref → 204; directReports is the inverse",
        [],
        remove_manager
    ),
    scenario!(
        "relations::member_of_context_is_directory_objects",
        "graph-wire.md §3.1: …/$metadata#directoryObjects for mixed lists (memberOf, members)",
        [],
        member_of_context
    ),
    scenario!(
        "relations::member_of_a_user_in_no_group_is_empty",
        "graph-wire.md §5.3: GET /users/{id}/memberOf → a directoryObjects collection (empty for a user in no group)",
        [],
        member_of_empty
    ),
    scenario!(
        "relations::expand_manager_embeds_the_manager",
        "graph-wire.md §3.4: $expand=manager: \"Expanded manager appears as an embedded object … or is absent when the user has none\"",
        [],
        expand_manager
    ),
    scenario!(
        "relations::expand_manager_is_absent_without_one",
        "graph-wire.md §3.4: expanded manager \"is absent when the user has none\"",
        [],
        expand_manager_absent
    ),
    scenario!(
        "relations::expand_member_of_lists_groups",
        "graph-wire.md §3.4: $expand=memberOf is supported on users; expanded collections are embedded",
        [],
        expand_member_of
    ),
    scenario!(
        "relations::expand_direct_reports_lists_reports",
        "graph-wire.md §3.4: $expand=directReports is supported on users",
        [],
        expand_direct_reports
    ),
    scenario!(
        "relations::expand_on_a_list_embeds_per_item",
        "graph-wire.md §3.4: $expand=manager on GET /users embeds each user's manager",
        [],
        expand_on_list
    ),
    scenario!(
        "relations::expand_of_a_plain_property_is_400",
        "graph-wire.md §3.4: only navigation properties (manager, memberOf, directReports) can be expanded → 400 otherwise",
        [],
        expand_plain_property
    ),
];

async fn set_manager(api: &Api, user: &str, manager: &str) -> Result<(), Failure> {
    let body = json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/users/{manager}")});
    status(&api.call(reqwest::Method::PUT, &format!("/users/{user}/manager/$ref"), Some(body)).await?, 204)
}

async fn manager_directory_objects_url(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let (u, m) = (support::user(&cx, "u").await?, support::user(&cx, "m").await?);
    let r =
        api.call(reqwest::Method::PUT, &format!("/users/{}/manager/$ref", u.id), Some(api.reference(&m.id))).await?;
    status(&r, 204)?;
    let r = api.get(&format!("/users/{}/manager", u.id)).await?;
    eq("manager id", r.json["id"].as_str(), Some(m.id.as_str()))
}

async fn manager_shape(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let (u, m) = (support::user(&cx, "u").await?, support::user(&cx, "m").await?);
    set_manager(&api, &u.id, &m.id).await?;
    let r = api.get(&format!("/users/{}/manager", u.id)).await?;
    status(&r, 200)?;
    eq("@odata.type", r.json["@odata.type"].as_str(), Some("#microsoft.graph.user"))?;
    eq("userPrincipalName", r.json["userPrincipalName"].as_str(), Some(m.upn.as_str()))
}

async fn no_manager(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let u = support::user(&cx, "u").await?;
    let r = api.get(&format!("/users/{}/manager", u.id)).await?;
    support::expect_error(&r, 404, "Request_ResourceNotFound", None)
}

async fn unknown_manager(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let u = support::user(&cx, "u").await?;
    let body = json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/users/{NO_SUCH_ID}")});
    let r = api.call(reqwest::Method::PUT, &format!("/users/{}/manager/$ref", u.id), Some(body)).await?;
    support::expect_error(&r, 404, "Request_ResourceNotFound", None)
}

async fn direct_reports(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let m = support::user(&cx, "m").await?;
    let (a, b) = (support::user(&cx, "a").await?, support::user(&cx, "b").await?);
    set_manager(&api, &a.id, &m.id).await?;
    set_manager(&api, &b.id, &m.id).await?;
    let r = api.get(&format!("/users/{}/directReports", m.id)).await?;
    status(&r, 200)?;
    let mut got = ids(&r)?;
    got.sort();
    let mut want = vec![a.id.clone(), b.id.clone()];
    want.sort();
    eq("directReports", got, want)?;
    ensure(
        values(&r)?.iter().all(|v| v["@odata.type"] == "#microsoft.graph.user"),
        format!("directReports items: expected @odata.type #microsoft.graph.user, got {}", r.text),
    )
}

async fn no_direct_reports(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let u = support::user(&cx, "u").await?;
    let r = api.get(&format!("/users/{}/directReports", u.id)).await?;
    status(&r, 200)?;
    eq("directReports", ids(&r)?.len(), 0)
}

async fn remove_manager(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let (u, m) = (support::user(&cx, "u").await?, support::user(&cx, "m").await?);
    set_manager(&api, &u.id, &m.id).await?;
    status(&api.delete(&format!("/users/{}/manager/$ref", u.id)).await?, 204)?;
    let r = api.get(&format!("/users/{}/directReports", m.id)).await?;
    eq("directReports after removal", ids(&r)?.len(), 0)
}

async fn member_of_context(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let g = api.group("g").await?;
    let u = support::user(&cx, "u").await?;
    status(&api.post(&format!("/groups/{g}/members/$ref"), api.reference(&u.id)).await?, 204)?;
    let r = api.get(&format!("/users/{}/memberOf", u.id)).await?;
    eq("@odata.context", context(&r).as_str(), "directoryObjects")
}

async fn member_of_empty(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let u = support::user(&cx, "u").await?;
    let r = api.get(&format!("/users/{}/memberOf", u.id)).await?;
    status(&r, 200)?;
    eq("memberOf", ids(&r)?.len(), 0)
}

async fn expand_manager(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let (u, m) = (support::user(&cx, "u").await?, support::user(&cx, "m").await?);
    set_manager(&api, &u.id, &m.id).await?;
    let r = api.get(&format!("/users/{}?$expand=manager", u.id)).await?;
    status(&r, 200)?;
    eq("manager.id", r.json["manager"]["id"].as_str(), Some(m.id.as_str()))?;
    eq("manager.@odata.type", r.json["manager"]["@odata.type"].as_str(), Some("#microsoft.graph.user"))
}

async fn expand_manager_absent(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let u = support::user(&cx, "u").await?;
    let r = api.get(&format!("/users/{}?$expand=manager", u.id)).await?;
    status(&r, 200)?;
    ensure(r.json.get("manager").is_none(), format!("manager: expected absent, got {}", r.json["manager"]))
}

async fn expand_member_of(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let g = api.group("g").await?;
    let u = support::user(&cx, "u").await?;
    status(&api.post(&format!("/groups/{g}/members/$ref"), api.reference(&u.id)).await?, 204)?;
    let r = api.get(&format!("/users/{}?$expand=memberOf", u.id)).await?;
    status(&r, 200)?;
    let listed: Vec<&str> =
        r.json["memberOf"].as_array().into_iter().flatten().filter_map(|v| v["id"].as_str()).collect();
    eq("memberOf", listed, vec![g.as_str()])
}

async fn expand_direct_reports(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let (u, m) = (support::user(&cx, "u").await?, support::user(&cx, "m").await?);
    set_manager(&api, &u.id, &m.id).await?;
    let r = api.get(&format!("/users/{}?$expand=directReports", m.id)).await?;
    status(&r, 200)?;
    let listed: Vec<&str> =
        r.json["directReports"].as_array().into_iter().flatten().filter_map(|v| v["id"].as_str()).collect();
    eq("directReports", listed, vec![u.id.as_str()])
}

async fn expand_on_list(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let (u, m) = (support::user(&cx, "u").await?, support::user(&cx, "m").await?);
    set_manager(&api, &u.id, &m.id).await?;
    let filter = support::enc(&format!("id eq '{}'", u.id));
    let r = api.get(&format!("/users?$filter={filter}&$expand=manager")).await?;
    status(&r, 200)?;
    let items = values(&r)?;
    eq("users", items.len(), 1)?;
    eq("value[0].manager.id", items[0]["manager"]["id"].as_str(), Some(m.id.as_str()))
}

async fn expand_plain_property(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let u = support::user(&cx, "u").await?;
    let r = api.get(&format!("/users/{}?$expand=displayName", u.id)).await?;
    status(&r, 400)
}
