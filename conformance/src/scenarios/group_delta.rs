//! Delta query over groups (graph-wire.md §3.5, which groups follow as users do).

use serde_json::{json, Value};

use super::wire::{status, Api};
use crate::context::{Ctx, RawResponse};
use crate::scenario;
use crate::scenario::{ensure, Failure, Scenario};

pub(crate) const SCENARIOS: &[Scenario] = &[
    scenario!(
        "group_delta::initial_round_ends_with_a_delta_link",
        "graph-wire.md §3.5: follow nextLinks until a page returns @odata.deltaLink (…/delta?$deltatoken=…) instead",
        [],
        initial
    ),
    scenario!(
        "group_delta::a_change_after_the_link_is_returned",
        "graph-wire.md §3.5: GET the deltaLink later → objects changed since, then a new deltaLink",
        [],
        changed
    ),
    scenario!(
        "group_delta::nothing_changed_is_an_empty_page",
        "graph-wire.md §3.5: a deltaLink with no change since → empty value and a new deltaLink",
        [],
        unchanged
    ),
    scenario!(
        "group_delta::deleted_group_is_removed_with_reason_changed",
        "graph-wire.md §3.5: soft-deleted objects appear as {\"id\":…,\"@removed\":{\"reason\":\"changed\"}}",
        [],
        deleted
    ),
];

/// The path (from `/v1.0` on) of an absolute link the proxy handed out.
fn relative(link: &str) -> Result<String, Failure> {
    link.split_once("/v1.0").map(|(_, p)| p.to_owned()).ok_or_else(|| Failure::new(format!("not a Graph link: {link}")))
}

/// Walks a delta round from `start`; returns every item and the deltaLink's path.
async fn round(api: &Api, start: &str) -> Result<(Vec<Value>, String), Failure> {
    let mut items = Vec::new();
    let mut next = start.to_owned();
    for _ in 0..50 {
        let r: RawResponse = api.get(&next).await?;
        status(&r, 200)?;
        items.extend(r.json["value"].as_array().cloned().unwrap_or_default());
        if let Some(link) = r.json["@odata.deltaLink"].as_str() {
            return Ok((items, relative(link)?));
        }
        let link = r.json["@odata.nextLink"].as_str().ok_or_else(|| {
            Failure::new(format!("a delta page must carry @odata.nextLink or @odata.deltaLink, got {}", r.text))
        })?;
        next = relative(link)?;
    }
    Err(Failure::new("delta round did not end within 50 pages"))
}

async fn initial(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let g = api.group("d").await?;
    let (items, link) = round(&api, "/groups/delta").await?;
    ensure(items.iter().any(|i| i["id"] == g.as_str()), format!("initial round: expected group {g}"))?;
    ensure(
        link.contains("deltatoken") || link.contains("$deltatoken"),
        format!("deltaLink: expected a $deltatoken, got {link}"),
    )
}

async fn changed(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let g = api.group("d").await?;
    let (_, link) = round(&api, "/groups/delta").await?;
    status(&api.patch(&format!("/groups/{g}"), json!({"description": "changed for delta"})).await?, 204)?;
    let (items, _) = round(&api, &link).await?;
    ensure(items.iter().any(|i| i["id"] == g.as_str()), format!("delta after PATCH: expected group {g}, got {items:?}"))
}

async fn unchanged(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    api.group("d").await?;
    let (_, link) = round(&api, "/groups/delta").await?;
    let (items, again) = round(&api, &link).await?;
    ensure(items.is_empty(), format!("delta without change: expected no items, got {items:?}"))?;
    ensure(!again.is_empty(), "a new deltaLink")
}

async fn deleted(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let g = api.group("d").await?;
    let (_, link) = round(&api, "/groups/delta").await?;
    status(&api.delete(&format!("/groups/{g}")).await?, 204)?;
    let (items, _) = round(&api, &link).await?;
    let item = items.iter().find(|i| i["id"] == g.as_str());
    ensure(
        item.is_some_and(|i| i["@removed"]["reason"] == "changed"),
        format!("delta after DELETE: expected {g} with @removed reason changed, got {item:?}"),
    )
}
