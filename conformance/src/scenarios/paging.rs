//! Collections: nextLink paging, `$count`, `$top` bounds and `$select` (graph-wire.md §3.1,
//! §3.2, §3.4).

use futures::TryStreamExt;
use graphbox_sdk::models::User;
use graphbox_sdk::odata::Filter;
use reqwest::Method;

use super::support::{self, enc, expect_error};
use crate::context::Ctx;
use crate::scenario;
use crate::scenario::{ensure, eq, Failure, Scenario};

pub(crate) const SCENARIOS: &[Scenario] = &[
    scenario!(
        "paging::next_link_is_absolute_and_keeps_the_query",
        "graph-wire.md §3.1: directory collections page with an opaque $skiptoken in an absolute @odata.nextLink that already contains every original query option",
        [],
        next_link
    ),
    scenario!(
        "paging::top_above_999_is_rejected",
        "graph-wire.md §3.1: users $top is 1–999; above the maximum is rejected with 400",
        [],
        top_too_big
    ),
    scenario!(
        "paging::count_segment_without_header_is_400",
        "graph-wire.md §2.2 / §3.4: GET /users/$count without ConsistencyLevel: eventual → 400 Request_BadRequest \"$count is not currently supported.\"",
        [],
        count_without_header
    ),
    scenario!(
        "paging::count_segment_is_plain_text",
        "graph-wire.md §3.1: GET /users/$count with ConsistencyLevel: eventual returns the number as text/plain",
        [],
        count_plain_text
    ),
    scenario!(
        "paging::count_option_without_header_is_silently_ignored",
        "graph-wire.md §3.3 / §3.4: $count=true without ConsistencyLevel is ignored, no @odata.count and no error",
        [],
        count_ignored
    ),
    scenario!(
        "paging::odata_count_is_on_the_first_page_only",
        "graph-wire.md §3.1: @odata.count appears only on the first page; ConsistencyLevel must be resent on every page",
        [],
        count_first_page_only
    ),
    scenario!(
        "paging::select_is_reflected_in_the_context",
        "graph-wire.md §3.1: @odata.context is …/$metadata#users(p1,p2) when $select is used",
        [],
        select_context
    ),
];

/// Three users sharing a fresh prefix; returns the prefix.
async fn three_users(cx: &Ctx) -> Result<String, Failure> {
    let tag = cx.name("page");
    for i in 0..3 {
        support::user_exact(cx, &format!("{tag}x{i}"), |_| {}).await?;
    }
    Ok(tag)
}

async fn next_link(cx: Ctx) -> Result<(), Failure> {
    let tag = three_users(&cx).await?;
    let list = || {
        cx.graph().users().list().filter(Filter::starts_with("displayName", &tag)).select(["id", "displayName"]).top(2)
    };
    cx.eventually("three new users listed", || async {
        let page = list().send().await?;
        Ok((page.value.len() == 2 && page.next_link.is_some()).then_some(()))
    })
    .await?;
    let page = list().send().await?;
    let link = page.next_link.clone().unwrap_or_default();
    ensure(link.starts_with("http"), format!("@odata.nextLink: expected an absolute URL, got {link:?}"))?;
    let decoded = link.replace("%24", "$").replace("%2C", ",");
    ensure(decoded.contains("$skiptoken="), format!("@odata.nextLink: expected a $skiptoken, got {link:?}"))?;
    ensure(
        decoded.contains("$select=id,displayName"),
        format!("@odata.nextLink: expected the original $select, got {link:?}"),
    )?;
    ensure(decoded.contains("$top=2"), format!("@odata.nextLink: expected the original $top, got {link:?}"))?;
    let all: Vec<User> = page.into_stream(cx.graph()).try_collect().await?;
    eq("users across pages", all.len(), 3)
}

async fn top_too_big(cx: Ctx) -> Result<(), Failure> {
    let r = cx.graph().users().list().top(1000).send().await;
    match r {
        Err(e) if e.as_graph_error().is_some_and(|g| g.status == 400) => Ok(()),
        Err(e) => Err(e.into()),
        Ok(p) => Err(Failure::new(format!("$top=1000: expected 400, got 200 with {} users", p.value.len()))),
    }
}

async fn count_without_header(cx: Ctx) -> Result<(), Failure> {
    let token = cx.token().await?;
    let r = support::raw(&cx, Method::GET, "/users/$count", &token).await?;
    expect_error(&r, 400, "Request_BadRequest", Some("$count is not currently supported."))
}

async fn count_plain_text(cx: Ctx) -> Result<(), Failure> {
    let n = cx.graph().users().count().send().await?;
    ensure(n >= 1, format!("$count: expected at least the tenant's admin, got {n}"))?;
    let ct = cx.last().and_then(|e| e.content_type).unwrap_or_default();
    ensure(ct.starts_with("text/plain"), format!("Content-Type of $count: expected text/plain, got {ct:?}"))
}

async fn count_ignored(cx: Ctx) -> Result<(), Failure> {
    let token = cx.token().await?;
    let r = support::raw(&cx, Method::GET, "/users?$count=true&$top=1", &token).await?;
    eq("status", r.status, 200)?;
    ensure(
        r.json.get("@odata.count").is_none(),
        format!("@odata.count: expected absent without ConsistencyLevel, got {}", r.json["@odata.count"]),
    )
}

async fn count_first_page_only(cx: Ctx) -> Result<(), Failure> {
    let tag = three_users(&cx).await?;
    let token = cx.token().await?;
    let filter = enc(&format!("startswith(displayName,'{tag}')"));
    let path = format!("/users?$filter={filter}&$count=true&$top=2");
    let first = cx
        .eventually("three new users counted", || async {
            let r = support::raw_eventual(&cx, &path, &token).await?;
            Ok((r.json["@odata.count"].as_u64() == Some(3)).then_some(r))
        })
        .await?;
    let link = first.json["@odata.nextLink"].as_str().unwrap_or_default().to_owned();
    ensure(!link.is_empty(), "page 1: expected an @odata.nextLink with $top=2 and 3 matches, got none")?;
    let second =
        cx.send(reqwest::Client::new().get(&link).bearer_auth(&token).header("ConsistencyLevel", "eventual")).await?;
    eq("status of page 2", second.status, 200)?;
    ensure(
        second.json.get("@odata.count").is_none(),
        format!("page 2: expected no @odata.count, got {}", second.json["@odata.count"]),
    )
}

async fn select_context(cx: Ctx) -> Result<(), Failure> {
    let page = cx.graph().users().list().select(["id", "displayName"]).top(1).send().await?;
    let context = page.context.unwrap_or_default();
    ensure(
        context.ends_with("$metadata#users(id,displayName)"),
        format!("@odata.context: expected …$metadata#users(id,displayName), got {context:?}"),
    )
}
