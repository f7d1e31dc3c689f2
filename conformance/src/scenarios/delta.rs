//! Delta query for users (graph-wire.md §3.5). Filtered to the run's own user
//! (`$filter=id eq '…'`, the only filter delta allows) so a real tenant's size does not matter.

use futures::StreamExt;
use graphbox_sdk::delta::DeltaItem;
use graphbox_sdk::models::User;
use graphbox_sdk::odata::Filter;

use super::support;
use crate::context::Ctx;
use crate::scenario;
use crate::scenario::{ensure, eq, some, Failure, Scenario};

pub(crate) const SCENARIOS: &[Scenario] = &[
    scenario!(
        "delta::initial_round_ends_with_a_delta_link",
        "graph-wire.md §3.5: follow nextLinks until a page returns @odata.deltaLink (…/users/delta?$deltatoken=…) instead",
        [],
        initial_round
    ),
    scenario!(
        "delta::changes_after_the_delta_link_are_returned",
        "graph-wire.md §3.5: GET on the deltaLink returns objects changed since, then a new deltaLink",
        [],
        changes
    ),
    scenario!(
        "delta::soft_deleted_user_is_removed_with_reason_changed",
        "graph-wire.md §3.5 / §9.8: soft-deleted users appear as {\"id\", \"@removed\": {\"reason\": \"changed\"}}",
        [],
        removed
    ),
];

/// Runs a delta round to its end; returns the items and the delta link.
async fn round(
    cx: &Ctx,
    request: graphbox_sdk::api::users::UsersDelta,
) -> Result<(Vec<DeltaItem<User>>, String), Failure> {
    let mut stream = request.into_stream();
    let mut items = Vec::new();
    while let Some(item) = stream.next().await {
        items.push(item?);
    }
    let link = some(stream.delta_link(), "@odata.deltaLink at the end of the round")?;
    let _ = cx;
    Ok((items, link))
}

async fn tracked_user(cx: &Ctx) -> Result<(support::NewUser, String), Failure> {
    let u = support::user(cx, "delta").await?;
    let start =
        || cx.graph().users().delta().select(["id", "displayName", "jobTitle"]).filter(Filter::eq("id", u.id.as_str()));
    let (_, link) = cx
        .eventually("the user in the initial round", || async {
            let (items, link) = round(cx, start()).await?;
            Ok((!items.is_empty()).then_some((items, link)))
        })
        .await?;
    Ok((u, link))
}

async fn initial_round(cx: Ctx) -> Result<(), Failure> {
    let (_, link) = tracked_user(&cx).await?;
    let decoded = link.replace("%24", "$");
    ensure(
        decoded.contains("/users/delta") && decoded.contains("$deltatoken="),
        format!("@odata.deltaLink: expected …/users/delta?$deltatoken=…, got {link:?}"),
    )
}

async fn changes(cx: Ctx) -> Result<(), Failure> {
    let (u, link) = tracked_user(&cx).await?;
    cx.graph()
        .users()
        .update(u.id.as_str(), User { job_title: Some("Changed".into()), ..Default::default() })
        .send()
        .await?;
    let (items, _) = cx
        .eventually("the change", || async {
            let (items, next) = round(&cx, cx.graph().users().delta_from(link.clone())).await?;
            Ok((!items.is_empty()).then_some((items, next)))
        })
        .await?;
    let changed = items
        .iter()
        .any(|i| matches!(i, DeltaItem::Changed(user) if user.id.as_ref().map(|x| x.as_str()) == Some(u.id.as_str())));
    ensure(changed, format!("delta after PATCH: expected the user as changed, got {items:?}"))
}

async fn removed(cx: Ctx) -> Result<(), Failure> {
    let (u, link) = tracked_user(&cx).await?;
    cx.graph().users().delete(u.id.as_str()).send().await?;
    let (items, _) = cx
        .eventually("the removal", || async {
            let (items, next) = round(&cx, cx.graph().users().delta_from(link.clone())).await?;
            Ok((!items.is_empty()).then_some((items, next)))
        })
        .await?;
    let reason = items.iter().find_map(|i| match i {
        DeltaItem::Removed { id, reason } if id == &u.id => Some(reason.clone()),
        _ => None,
    });
    eq("@removed.reason", reason.as_deref(), Some("changed"))
}
