//! `GET /users/delta` and `/groups/delta`: an
//! initial round of pages ending in an `@odata.deltaLink`, then rounds of only
//! what changed, deletions as `@removed`. All state is in the opaque tokens.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::{Ctx, Reply};
use crate::directory::delta::ChangeLog;
use crate::directory::groups::GROUP;
use crate::directory::query::projection_for;
use crate::directory::record::Record;
use crate::directory::schema::EntitySchema;
use crate::directory::users::USER;
use crate::directory::Directory;
use crate::error::ApiError;
use crate::odata::QueryOptions;

/// Which collection a delta query tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tracked {
    Users,
    Groups,
}

impl Tracked {
    fn set(self) -> &'static str {
        match self {
            Tracked::Users => "users",
            Tracked::Groups => "groups",
        }
    }
    fn schema(self) -> &'static EntitySchema {
        match self {
            Tracked::Users => &USER,
            Tracked::Groups => &GROUP,
        }
    }
    fn log(self, dir: &Directory) -> &ChangeLog {
        match self {
            Tracked::Users => &dir.user_changes,
            Tracked::Groups => &dir.group_changes,
        }
    }
    fn live<'d>(self, dir: &'d Directory, id: &uuid::Uuid) -> Option<&'d Record> {
        match self {
            Tracked::Users => dir.users.get(id),
            Tracked::Groups => dir.groups.get(id),
        }
    }
}

/// Where a round is: changes after `from`, up to `to` (the log's version when the
/// round began); `initial` rounds leave out deletions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Cursor {
    #[serde(rename = "t")]
    set: String,
    from: u64,
    to: u64,
    #[serde(default)]
    initial: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    select: Option<Vec<String>>,
    /// `$filter=id eq '…' or id eq '…'`: the only filter delta takes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ids: Option<Vec<uuid::Uuid>>,
}

/// The `$select` names a cursor carries to the next round.
fn selected_names(opts: &QueryOptions<'_>) -> Option<Vec<String>> {
    opts.select.as_ref().map(|names| names.iter().map(str::to_owned).collect())
}

/// The ids of `id eq '…' (or id eq '…')*`; anything else is refused.
fn id_filter(expr: &crate::odata::Expr) -> Option<Vec<uuid::Uuid>> {
    use crate::odata::{CompareOp, Expr, Literal, Operand};
    match expr {
        Expr::Or(a, b) => {
            let mut ids = id_filter(a)?;
            ids.extend(id_filter(b)?);
            Some(ids)
        }
        Expr::Compare { op: CompareOp::Eq, left: Operand::Property(p), right: Operand::Literal(lit) }
            if p.0.len() == 1 && p.0[0].eq_ignore_ascii_case("id") =>
        {
            match lit {
                Literal::Guid(g) => Some(vec![*g]),
                Literal::String(s) => uuid::Uuid::parse_str(s).ok().map(|g| vec![g]),
                _ => None,
            }
        }
        _ => None,
    }
}

const DEFAULT_PAGE: usize = 100;

fn encode(c: &Cursor) -> String {
    B64.encode(serde_json::to_vec(c).expect("a cursor serializes"))
}

fn decode(token: &str, set: &str) -> Result<Cursor, ApiError> {
    let bad = || {
        ApiError::bad_request(
            "The delta token is not valid. Start a new delta round without a $deltatoken or $skiptoken.",
        )
    };
    let c: Cursor = B64.decode(token).ok().and_then(|b| serde_json::from_slice(&b).ok()).ok_or_else(bad)?;
    if c.set != set {
        return Err(bad());
    }
    Ok(c)
}

/// `Prefer: odata.maxpagesize=N` sets a delta page's size.
fn page_size(ctx: &Ctx<'_>) -> usize {
    ctx.req
        .header("prefer")
        .and_then(|p| p.split(',').find_map(|part| part.trim().strip_prefix("odata.maxpagesize=")))
        .and_then(|n| n.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
        .map_or(DEFAULT_PAGE, |n| n.min(999))
}

pub(super) fn delta(ctx: &Ctx<'_>, tracked: Tracked, opts: &QueryOptions, method: &Method) -> Result<Reply, ApiError> {
    if *method != Method::GET {
        return Err(ApiError::method_not_allowed());
    }
    crate::authz::check(&ctx.principal, &format!("{}.delta", tracked.set()))?;
    if !opts.orderby.is_empty() || opts.search.is_some() || opts.top.is_some() {
        return Err(ApiError::unsupported_query("Delta queries take $select, $filter on id, and their tokens only."));
    }
    let ids = match &opts.filter {
        None => None,
        Some(f) => Some(id_filter(f).filter(|ids| ids.len() <= 50).ok_or_else(|| {
            ApiError::unsupported_query("Delta queries filter only on id: $filter=id eq '…' or id eq '…' (at most 50).")
        })?),
    };
    let dir = ctx.tenant.read();
    let log = tracked.log(&dir);
    let set = tracked.set();
    let cursor = match (&opts.skiptoken, &opts.deltatoken) {
        (Some(t), _) => decode(t, set)?,
        (None, Some(t)) if t == "latest" => Cursor {
            set: set.into(),
            from: log.current,
            to: log.current,
            initial: false,
            select: selected_names(opts),
            ids,
        },
        (None, Some(t)) => {
            let c = decode(t, set)?;
            // A delta link starts the next round from where the last one ended.
            Cursor { from: c.from, to: log.current, initial: false, ..c }
        }
        (None, None) => {
            Cursor { set: set.into(), from: 0, to: log.current, initial: true, select: selected_names(opts), ids }
        }
    };
    let (projection, selected) =
        projection_for(tracked.schema(), cursor.select.as_ref().map(|names| names.iter().map(String::as_str)))?;
    let size = page_size(ctx);
    let mut value = Vec::with_capacity(size.min(1000));
    let mut last = cursor.from;
    let mut more = false;
    for (version, id) in log.since(cursor.from, cursor.to) {
        if cursor.ids.as_ref().is_some_and(|ids| !ids.contains(&id)) {
            last = version;
            continue;
        }
        if value.len() == size {
            more = true;
            break;
        }
        last = version;
        if let Some(record) = tracked.live(&dir, &id) {
            let mut item = record.project(tracked.schema(), &projection);
            // Delta items always carry their id, selected or not.
            if !item.contains_key("id") {
                let mut with_id = Map::with_capacity(item.len() + 1);
                with_id.insert("id".into(), Value::String(id.to_string()));
                with_id.extend(item);
                item = with_id;
            }
            value.push(Value::Object(item));
        } else if !cursor.initial {
            let reason = if dir.deleted.contains_key(&id) { "changed" } else { "deleted" };
            value.push(json!({"@odata.type": format!("#microsoft.graph.{}", &set[..set.len() - 1]), "id": id, "@removed": {"reason": reason}}));
        }
    }
    let context = match &selected {
        Some(names) => format!("{}/$metadata#{set}({})", ctx.graph_url, names.join(",")),
        None => format!("{}/$metadata#{set}", ctx.graph_url),
    };
    let mut body = Map::new();
    body.insert("@odata.context".into(), Value::String(context));
    if more {
        let next = Cursor { from: last, ..cursor };
        body.insert(
            "@odata.nextLink".into(),
            Value::String(format!("{}/{set}/delta?$skiptoken={}", ctx.graph_url, encode(&next))),
        );
    } else {
        let next = Cursor { from: cursor.to, to: cursor.to, initial: false, ..cursor };
        body.insert(
            "@odata.deltaLink".into(),
            Value::String(format!("{}/{set}/delta?$deltatoken={}", ctx.graph_url, encode(&next))),
        );
    }
    body.insert("value".into(), Value::Array(value));
    Ok(Reply::Json { status: 200, body: Value::Object(body), location: None })
}
