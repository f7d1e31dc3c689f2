//! `$filter` operators on users and the advanced-query rules (graph-wire.md §3.3, §3.4).
//!
//! Each scenario creates its own users with a fresh tag and filters on it, so on a real tenant
//! only the run's objects can match.

use reqwest::Method;

use super::support::{self, enc, expect_error};
use crate::context::{Ctx, RawResponse};
use crate::scenario;
use crate::scenario::{ensure, eq, Failure, Scenario};

pub(crate) const SCENARIOS: &[Scenario] = &[
    scenario!("filters::eq_on_user_principal_name", "graph-wire.md §3.3: userPrincipalName eq works by default", [], eq_upn),
    scenario!("filters::startswith_on_display_name", "graph-wire.md §3.3: displayName startsWith works by default", [], starts_with),
    scenario!("filters::in_on_id", "graph-wire.md §3.3: id in (…) works by default", [], in_ids),
    scenario!("filters::ge_and_le_on_display_name", "graph-wire.md §3.3: displayName ge/le work by default, combined with and", [], ge_le),
    scenario!("filters::and_or_combine_clauses", "graph-wire.md §3.3: and / or combine clauses", [], and_or),
    scenario!(
        "filters::ne_needs_advanced_query",
        "graph-wire.md §3.3 / §2.2: ne needs ConsistencyLevel: eventual + $count=true; without → 400 Request_UnsupportedQuery",
        [],
        ne_advanced
    ),
    scenario!("filters::not_needs_advanced_query", "graph-wire.md §3.3: NOT always needs advanced query", [], not_advanced),
    scenario!(
        "filters::endswith_needs_advanced_query",
        "graph-wire.md §3.3: endsWith only on mail/userPrincipalName and only as an advanced query",
        [],
        ends_with
    ),
    scenario!("filters::eq_null_needs_advanced_query", "graph-wire.md §3.3: jobTitle eq null needs advanced query", [], eq_null),
    scenario!(
        "filters::quoted_boolean_is_an_invalid_filter_clause",
        "graph-wire.md §2.2: $filter=accountEnabled eq 'true' (booleans must be unquoted) → 400 BadRequest \"Invalid filter clause…\"",
        [],
        quoted_boolean
    ),
    scenario!(
        "filters::unsupported_operator_is_refused_even_as_advanced_query",
        "graph-wire.md §3.3 / §2.2: an operator a property does not support (startsWith on userType) → 400 Request_UnsupportedQuery, also with the advanced headers",
        [],
        unsupported
    ),
    scenario!(
        "filters::any_lambda_on_proxy_addresses",
        "graph-wire.md §3.3: proxyAddresses/any(p:startswith(p,'smtp:…')) works by default; setting mail adds an SMTP proxy address (§5.3)",
        [],
        any_lambda
    ),
    scenario!("filters::all_lambda_is_refused", "graph-wire.md §3.3: `all` is not supported anywhere → 400", [], all_lambda),
    scenario!(
        "filters::filter_with_orderby_needs_advanced_query",
        "graph-wire.md §3.3 / §3.4: $filter together with $orderby needs advanced query",
        [],
        filter_orderby
    ),
    scenario!(
        "filters::search_needs_the_consistency_header",
        "graph-wire.md §2.2 / §3.4: $search without ConsistencyLevel → 400 Request_UnsupportedQuery \"Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'\"",
        [],
        search
    ),
];

/// Two users with a fresh tag: `{tag}a` (department Sales) and `{tag}b` (department Ops).
async fn pair(cx: &Ctx) -> Result<(String, support::NewUser, support::NewUser), Failure> {
    let tag = cx.name("f");
    let a = support::user_exact(cx, &format!("{tag}a"), |u| u.department = Some("Sales".into())).await?;
    let b = support::user_exact(cx, &format!("{tag}b"), |u| u.department = Some("Ops".into())).await?;
    Ok((tag, a, b))
}

/// `GET /users?$filter=…&$select=id,displayName` (+ `$count=true` and the header when
/// `advanced`), polled until `expect` users come back on a real tenant.
async fn query(cx: &Ctx, filter: &str, advanced: bool, expect: usize) -> Result<RawResponse, Failure> {
    let token = cx.token().await?;
    let count = if advanced { "&$count=true" } else { "" };
    let path = format!("/users?$filter={}&$select=id,displayName{count}", enc(filter));
    cx.eventually("the new users in the answer", || async {
        let r = if advanced {
            support::raw_eventual(cx, &path, &token).await?
        } else {
            support::raw(cx, Method::GET, &path, &token).await?
        };
        let n = r.json["value"].as_array().map_or(0, Vec::len);
        Ok((r.status != 200 || n >= expect).then_some(r))
    })
    .await
}

fn names(r: &RawResponse) -> Vec<String> {
    let mut v: Vec<String> = r.json["value"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| u["displayName"].as_str().map(str::to_owned))
        .collect();
    v.sort();
    v
}

fn expect_names(r: &RawResponse, expected: &[&str]) -> Result<(), Failure> {
    eq("status", r.status, 200)?;
    eq("displayNames", names(r), expected.iter().map(|s| s.to_string()).collect())
}

async fn eq_upn(cx: Ctx) -> Result<(), Failure> {
    let (_, a, _) = pair(&cx).await?;
    let r = query(&cx, &format!("userPrincipalName eq '{}'", a.upn), false, 1).await?;
    expect_names(&r, &[&a.nick])
}

async fn starts_with(cx: Ctx) -> Result<(), Failure> {
    let (tag, a, b) = pair(&cx).await?;
    let r = query(&cx, &format!("startswith(displayName,'{tag}')"), false, 2).await?;
    expect_names(&r, &[&a.nick, &b.nick])
}

async fn in_ids(cx: Ctx) -> Result<(), Failure> {
    let (_, a, b) = pair(&cx).await?;
    let r = query(&cx, &format!("id in ('{}','{}')", a.id, b.id), false, 2).await?;
    expect_names(&r, &[&a.nick, &b.nick])
}

async fn ge_le(cx: Ctx) -> Result<(), Failure> {
    let (tag, _, b) = pair(&cx).await?;
    let r = query(&cx, &format!("displayName ge '{tag}b' and displayName le '{tag}c'"), false, 1).await?;
    expect_names(&r, &[&b.nick])
}

async fn and_or(cx: Ctx) -> Result<(), Failure> {
    let (tag, a, b) = pair(&cx).await?;
    let f = format!("startswith(displayName,'{tag}') and (department eq 'Sales' or department eq 'Ops')");
    let r = query(&cx, &f, false, 2).await?;
    expect_names(&r, &[&a.nick, &b.nick])?;
    let r = query(&cx, &format!("startswith(displayName,'{tag}') and department eq 'Ops'"), false, 1).await?;
    expect_names(&r, &[&b.nick])
}

/// Without the headers: 400 Request_UnsupportedQuery; with them: the expected users.
async fn advanced_only(cx: &Ctx, filter: &str, expected: &[&str]) -> Result<(), Failure> {
    let plain = query(cx, filter, false, 0).await?;
    expect_error(&plain, 400, "Request_UnsupportedQuery", None)?;
    let r = query(cx, filter, true, expected.len()).await?;
    expect_names(&r, expected)
}

async fn ne_advanced(cx: Ctx) -> Result<(), Failure> {
    let (tag, a, _) = pair(&cx).await?;
    advanced_only(&cx, &format!("startswith(displayName,'{tag}') and department ne 'Ops'"), &[&a.nick]).await
}

async fn not_advanced(cx: Ctx) -> Result<(), Failure> {
    let (tag, a, _) = pair(&cx).await?;
    advanced_only(&cx, &format!("startswith(displayName,'{tag}') and NOT(department eq 'Ops')"), &[&a.nick]).await
}

async fn ends_with(cx: Ctx) -> Result<(), Failure> {
    let (_, a, _) = pair(&cx).await?;
    let suffix =
        a.upn.split_once('@').map(|(local, d)| format!("{}@{d}", &local[local.len() - 2..])).unwrap_or_default();
    advanced_only(&cx, &format!("endswith(userPrincipalName,'{suffix}')"), &[&a.nick]).await
}

async fn eq_null(cx: Ctx) -> Result<(), Failure> {
    let (tag, a, b) = pair(&cx).await?;
    advanced_only(&cx, &format!("startswith(displayName,'{tag}') and jobTitle eq null"), &[&a.nick, &b.nick]).await
}

async fn quoted_boolean(cx: Ctx) -> Result<(), Failure> {
    let r = query(&cx, "accountEnabled eq 'true'", false, 0).await?;
    expect_error(&r, 400, "BadRequest", None)?;
    let message = r.json.pointer("/error/message").and_then(|m| m.as_str()).unwrap_or_default();
    ensure(
        message.starts_with("Invalid filter clause"),
        format!("message: expected \"Invalid filter clause…\", got {message:?}"),
    )
}

async fn unsupported(cx: Ctx) -> Result<(), Failure> {
    let r = query(&cx, "startswith(userType,'M')", false, 0).await?;
    expect_error(&r, 400, "Request_UnsupportedQuery", None)?;
    let r = query(&cx, "startswith(userType,'M')", true, 0).await?;
    expect_error(&r, 400, "Request_UnsupportedQuery", None)
}

async fn any_lambda(cx: Ctx) -> Result<(), Failure> {
    let tag = cx.name("f");
    let domain = cx.domain().await?;
    let a = support::user_exact(&cx, &format!("{tag}m"), |u| u.mail = Some(format!("{tag}m@{domain}"))).await?;
    let r = query(&cx, &format!("proxyAddresses/any(p:startswith(p,'smtp:{tag}m@'))"), false, 1).await?;
    expect_names(&r, &[&a.nick])
}

async fn all_lambda(cx: Ctx) -> Result<(), Failure> {
    let r = query(&cx, "proxyAddresses/all(p:startswith(p,'smtp:'))", false, 0).await?;
    eq("status", r.status, 400)
}

async fn filter_orderby(cx: Ctx) -> Result<(), Failure> {
    let (tag, a, b) = pair(&cx).await?;
    let token = cx.token().await?;
    let path = format!(
        "/users?$filter={}&$orderby=displayName%20desc&$select=id,displayName",
        enc(&format!("startswith(displayName,'{tag}')"))
    );
    let plain = support::raw(&cx, Method::GET, &path, &token).await?;
    expect_error(&plain, 400, "Request_UnsupportedQuery", None)?;
    let advanced = format!("{path}&$count=true");
    let r = cx
        .eventually("both users", || async {
            let r = support::raw_eventual(&cx, &advanced, &token).await?;
            Ok((r.status != 200 || r.json["value"].as_array().map_or(0, Vec::len) >= 2).then_some(r))
        })
        .await?;
    eq("status", r.status, 200)?;
    let order: Vec<String> = r.json["value"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| u["displayName"].as_str().map(str::to_owned))
        .collect();
    eq("order", order, vec![b.nick, a.nick])
}

async fn search(cx: Ctx) -> Result<(), Failure> {
    let (tag, a, b) = pair(&cx).await?;
    let token = cx.token().await?;
    let path = format!("/users?$search={}&$select=id,displayName", enc(&format!("\"displayName:{tag}\"")));
    let plain = support::raw(&cx, Method::GET, &path, &token).await?;
    expect_error(&plain, 400, "Request_UnsupportedQuery", Some("Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'"))?;
    let r = cx
        .eventually("both users found", || async {
            let r = support::raw_eventual(&cx, &path, &token).await?;
            Ok((r.status != 200 || r.json["value"].as_array().map_or(0, Vec::len) >= 2).then_some(r))
        })
        .await?;
    expect_names(&r, &[&a.nick, &b.nick])
}
