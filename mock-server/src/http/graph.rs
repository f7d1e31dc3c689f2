//! Microsoft Graph v1.0: authenticate, parse the OData path and query, route to
//! an operation, authorize it, run it against the tenant, shape the answer.

use std::sync::Arc;

use http::{Method, Response};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::response::{self, Body};
use super::{Inbound, Server};
use crate::directory::query::{projection_for, ListPlan, DIRECTORY_PAGING};
use crate::directory::record::Projection;
use crate::directory::users::USER;
use crate::directory::ObjectKind;
use crate::error::ApiError;
use crate::identity::Principal;
use crate::odata::{parse_path, parse_query, KeyArg, Literal, QueryOptions, Segment};
use crate::tenant::{LoggedRequest, Tenant};

/// Entity sets of Graph v1.0 that graphbox does not serve yet: they answer
/// 501 rather than pretending the segment does not exist.
const NOT_YET_MODELLED: &[&str] = &[
    "organization",
    "applications",
    "servicePrincipals",
    "groups",
    "domains",
    "directoryRoles",
    "directoryRoleTemplates",
    "roleManagement",
    "oauth2PermissionGrants",
    "subscribedSkus",
    "directoryObjects",
    "me",
    "$batch",
];

/// What a Graph operation produced.
#[derive(Debug)]
enum Reply {
    Json { status: u16, body: Value, location: Option<String> },
    Text(String),
    NoContent,
}

/// Facts about the request the handlers need.
struct Ctx<'a> {
    req: &'a Inbound,
    graph_url: String,
    principal: Arc<Principal>,
    tenant: Arc<Tenant>,
}

pub(crate) fn handle(server: &Server, req: &Inbound, rest: &str) -> Response<Body> {
    let auth = server.validator.authenticate(req.header("authorization"), &server.tenants);
    let (principal, tenant) = match auth {
        Ok(pt) => pt,
        Err(e) => return response::graph_error(&e, &req.correlation(crate::clock::system_now())),
    };
    let now = tenant.clock.now();
    let c = req.correlation(now);
    let ctx = Ctx { req, graph_url: format!("{}/v1.0", req.authority), principal, tenant };
    let result = dispatch(&ctx, rest);
    let (status, response) = match result {
        Ok(Reply::Json { status, body, location }) => {
            (status, response::graph_json(status, &body, &c, location.as_deref()))
        }
        Ok(Reply::Text(t)) => (200, response::graph_text(200, t, &c)),
        Ok(Reply::NoContent) => (204, response::no_content(&c)),
        Err(e) => (e.status, response::graph_error(&e, &c)),
    };
    ctx.tenant.log_request(LoggedRequest {
        request_id: req.request_id,
        time: now,
        method: req.method.to_string(),
        path: req.path.clone(),
        status,
        client_id: Some(ctx.principal.app_id),
    });
    response
}

fn dispatch(ctx: &Ctx<'_>, rest: &str) -> Result<Reply, ApiError> {
    let path = parse_path(if rest.is_empty() { "/" } else { rest })?;
    let opts = parse_query(&ctx.req.query)?;
    let segs = path.segments.as_slice();
    let method = &ctx.req.method;
    let Some(Segment::Identifier(first)) = segs.first() else {
        return match segs.first() {
            None => Err(ApiError::bad_request("The request URI must name a resource, e.g. /v1.0/users.")),
            Some(s) => Err(ApiError::unknown_segment(&segment_text(s))),
        };
    };
    match first.as_str() {
        "users" => users(ctx, &segs[1..], &opts, method),
        "directory" => directory(ctx, &segs[1..], &opts, method),
        other if NOT_YET_MODELLED.contains(&other) => Err(ApiError::new(
            501,
            "NotImplemented",
            format!("graphbox does not model '/{other}' yet; see the fidelity notes in the README."),
        )),
        other => Err(ApiError::unknown_segment(other)),
    }
}

fn segment_text(s: &Segment) -> String {
    match s {
        Segment::Identifier(s) | Segment::Cast(s) => s.clone(),
        Segment::Parens(_) => "(…)".to_owned(),
        Segment::Count => "$count".to_owned(),
        Segment::Ref => "$ref".to_owned(),
        Segment::Value => "$value".to_owned(),
        Segment::Batch => "$batch".to_owned(),
        Segment::Metadata => "$metadata".to_owned(),
    }
}

fn is_eventual(req: &Inbound) -> bool {
    req.header("consistencylevel").is_some_and(|v| v.trim().eq_ignore_ascii_case("eventual"))
}

/// Parse a JSON object body; Graph answers one message for every way this fails.
fn json_body(req: &Inbound) -> Result<Map<String, Value>, ApiError> {
    let is_json = req
        .header("content-type")
        .map(|ct| ct.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/json"))
        .unwrap_or(false);
    if !is_json {
        return Err(ApiError::unreadable_json());
    }
    match serde_json::from_slice::<Value>(&req.body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(ApiError::unreadable_json()),
    }
}

/// Options that make no sense on a single-entity read.
fn reject_collection_options(opts: &QueryOptions) -> Result<(), ApiError> {
    if opts.filter.is_some() || opts.top.is_some() || !opts.orderby.is_empty() || opts.search.is_some() {
        return Err(ApiError::bad_request(
            "The query specified in the URI is not valid. Query options $filter, $top, $orderby and $search apply to collections only.",
        ));
    }
    Ok(())
}

/// The key of `users/{key}` or `users('{key}')`.
fn key_of(segs: &[Segment]) -> Option<(String, &[Segment])> {
    match segs {
        [Segment::Parens(args), rest @ ..] => match args.as_slice() {
            [KeyArg { name: None, value: Literal::String(s) }] => Some((s.clone(), rest)),
            [KeyArg { name: None, value: Literal::Guid(g) }] => Some((g.to_string(), rest)),
            _ => None,
        },
        [Segment::Identifier(k), rest @ ..] => Some((k.clone(), rest)),
        _ => None,
    }
}

fn users(ctx: &Ctx<'_>, segs: &[Segment], opts: &QueryOptions, method: &Method) -> Result<Reply, ApiError> {
    match segs {
        [] => match *method {
            Method::GET => {
                crate::authz::check(&ctx.principal, "users.list")?;
                list_users(ctx, opts)
            }
            Method::POST => {
                crate::authz::check(&ctx.principal, "users.create")?;
                create_user(ctx)
            }
            _ => Err(ApiError::method_not_allowed()),
        },
        [Segment::Count] => {
            if *method != Method::GET {
                return Err(ApiError::method_not_allowed());
            }
            crate::authz::check(&ctx.principal, "users.count")?;
            if !is_eventual(ctx.req) {
                return Err(ApiError::request_bad_request("$count is not currently supported."));
            }
            let mut count_opts = opts.clone();
            count_opts.count = Some(true);
            let plan = ListPlan::new(&USER, &count_opts, true, DIRECTORY_PAGING)?;
            let dir = ctx.tenant.read();
            Ok(Reply::Text(plan.count(&dir.users).to_string()))
        }
        [Segment::Identifier(name), Segment::Parens(args)] if name == "delta" && args.is_empty() => Err(ApiError::new(
            501,
            "NotImplemented",
            "graphbox does not model /users/delta yet; see the fidelity notes in the README.",
        )),
        _ => {
            let Some((key, rest)) = key_of(segs) else {
                return Err(ApiError::unknown_segment(&segs.first().map(segment_text).unwrap_or_default()));
            };
            match rest {
                [] => user_item(ctx, &key, opts, method),
                [Segment::Identifier(nav), ..]
                    if matches!(
                        nav.as_str(),
                        "manager" | "memberOf" | "directReports" | "licenseDetails" | "assignLicense"
                    ) =>
                {
                    Err(ApiError::new(
                        501,
                        "NotImplemented",
                        format!(
                            "graphbox does not model /users/{{id}}/{nav} yet; see the fidelity notes in the README."
                        ),
                    ))
                }
                [s, ..] => Err(ApiError::unknown_segment(&segment_text(s))),
            }
        }
    }
}

fn list_users(ctx: &Ctx<'_>, opts: &QueryOptions) -> Result<Reply, ApiError> {
    let plan = ListPlan::new(&USER, opts, is_eventual(ctx.req), DIRECTORY_PAGING)?;
    let page = {
        let dir = ctx.tenant.read();
        plan.run(&dir.users)
    };
    let mut body = Map::new();
    body.insert("@odata.context".into(), Value::String(context_for(&ctx.graph_url, "users", plan.selected.as_deref())));
    if let Some(n) = page.count {
        body.insert("@odata.count".into(), Value::from(n));
    }
    if let Some(token) = page.next_skiptoken {
        body.insert("@odata.nextLink".into(), Value::String(next_link(&ctx.graph_url, "users", opts, &token)));
    }
    body.insert("value".into(), Value::Array(page.items.into_iter().map(Value::Object).collect()));
    Ok(Reply::Json { status: 200, body: Value::Object(body), location: None })
}

fn context_for(graph_url: &str, set: &str, selected: Option<&[&str]>) -> String {
    match selected {
        Some(names) => format!("{graph_url}/$metadata#{set}({})", names.join(",")),
        None => format!("{graph_url}/$metadata#{set}"),
    }
}

/// The next page's absolute URL: the original query options, percent-encoded
/// (`%20`, never `+`), with the new `$skiptoken` (reference/clients.md item 24).
fn next_link(graph_url: &str, set: &str, opts: &QueryOptions, skiptoken: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b'$');
    let mut q = String::new();
    for (k, v) in &opts.raw {
        if k.eq_ignore_ascii_case("$skiptoken") {
            continue;
        }
        if !q.is_empty() {
            q.push('&');
        }
        q.push_str(&utf8_percent_encode(k, QUERY_VALUE).to_string());
        q.push('=');
        q.push_str(&utf8_percent_encode(v, QUERY_VALUE).to_string());
    }
    if !q.is_empty() {
        q.push('&');
    }
    q.push_str("$skiptoken=");
    q.push_str(&utf8_percent_encode(skiptoken, QUERY_VALUE).to_string());
    format!("{graph_url}/{set}?{q}")
}

fn create_user(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    let body = json_body(ctx.req)?;
    let now = ctx.tenant.clock.now();
    let mut dir = ctx.tenant.write();
    let id = dir.create_user(&body, now)?;
    let out = dir.users[&id].project(&USER, &Projection::default_set(&USER));
    drop(dir);
    let out = annotated(&[("@odata.context", format!("{}/$metadata#users/$entity", ctx.graph_url))], out);
    let location = format!("{}/directoryObjects/{id}/Microsoft.DirectoryServices.User", ctx.graph_url);
    Ok(Reply::Json { status: 201, body: Value::Object(out), location: Some(location) })
}

fn user_item(ctx: &Ctx<'_>, key: &str, opts: &QueryOptions, method: &Method) -> Result<Reply, ApiError> {
    match *method {
        Method::GET => {
            crate::authz::check(&ctx.principal, "users.get")?;
            reject_collection_options(opts)?;
            let (projection, selected) = projection_for(&USER, opts.select.as_ref())?;
            let dir = ctx.tenant.read();
            let id = dir.find_user(key).ok_or_else(|| ApiError::not_found(key))?;
            let out = dir.users[&id].project(&USER, &projection);
            drop(dir);
            let context = match &selected {
                Some(names) => format!("{}/$metadata#users({})/$entity", ctx.graph_url, names.join(",")),
                None => format!("{}/$metadata#users/$entity", ctx.graph_url),
            };
            let out = annotated(&[("@odata.context", context)], out);
            Ok(Reply::Json { status: 200, body: Value::Object(out), location: None })
        }
        Method::PATCH => {
            crate::authz::check(&ctx.principal, "users.update")?;
            let body = json_body(ctx.req)?;
            let now = ctx.tenant.clock.now();
            let mut dir = ctx.tenant.write();
            let id = dir.find_user(key).ok_or_else(|| ApiError::not_found(key))?;
            dir.update_user(id, &body, now)?;
            Ok(Reply::NoContent)
        }
        Method::DELETE => {
            crate::authz::check(&ctx.principal, "users.delete")?;
            let now = ctx.tenant.clock.now();
            let mut dir = ctx.tenant.write();
            let id = dir.find_user(key).ok_or_else(|| ApiError::not_found(key))?;
            dir.delete_user(id, now)?;
            Ok(Reply::NoContent)
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}

fn directory(ctx: &Ctx<'_>, segs: &[Segment], opts: &QueryOptions, method: &Method) -> Result<Reply, ApiError> {
    match segs {
        [Segment::Identifier(n), rest @ ..] if n == "deletedItems" => deleted_items(ctx, rest, opts, method),
        [Segment::Identifier(n), ..] if n == "onPremisesSynchronization" => Err(ApiError::new(
            501,
            "NotImplemented",
            "graphbox does not model /directory/onPremisesSynchronization yet; see the fidelity notes in the README.",
        )),
        [] => Err(ApiError::method_not_allowed()),
        [s, ..] => Err(ApiError::unknown_segment(&segment_text(s))),
    }
}

fn deleted_items(ctx: &Ctx<'_>, segs: &[Segment], opts: &QueryOptions, method: &Method) -> Result<Reply, ApiError> {
    match segs {
        [] => Err(ApiError::request_bad_request(
            "Listing deleted items needs a type cast: /directory/deletedItems/microsoft.graph.user (or .group, .application, .servicePrincipal).",
        )),
        [Segment::Cast(cast)] => {
            if *method != Method::GET {
                return Err(ApiError::method_not_allowed());
            }
            match cast.as_str() {
                "microsoft.graph.user" => {
                    crate::authz::check(&ctx.principal, "deletedItems.listUsers")?;
                    let plan = ListPlan::new(&USER, opts, is_eventual(ctx.req), DIRECTORY_PAGING)?;
                    let dir = ctx.tenant.read();
                    let deleted_users: std::collections::BTreeMap<Uuid, crate::directory::record::Record> = dir
                        .deleted
                        .iter()
                        .filter(|(_, d)| d.kind == ObjectKind::User)
                        .map(|(id, d)| (*id, d.record.clone()))
                        .collect();
                    let page = plan.run(&deleted_users);
                    let mut items = Vec::with_capacity(page.items.len());
                    for mut item in page.items {
                        let deleted_at = item
                            .get("id")
                            .and_then(Value::as_str)
                            .and_then(|s| Uuid::parse_str(s).ok())
                            .and_then(|id| dir.deleted.get(&id))
                            .map(|d| crate::clock::format_datetime(d.deleted_at));
                        item.insert("deletedDateTime".into(), deleted_at.map(Value::String).unwrap_or(Value::Null));
                        items.push(Value::Object(item));
                    }
                    drop(dir);
                    let mut body = Map::new();
                    body.insert(
                        "@odata.context".into(),
                        Value::String(context_for(&ctx.graph_url, "directory/deletedItems/microsoft.graph.user", plan.selected.as_deref())),
                    );
                    if let Some(n) = page.count {
                        body.insert("@odata.count".into(), Value::from(n));
                    }
                    if let Some(token) = page.next_skiptoken {
                        body.insert(
                            "@odata.nextLink".into(),
                            Value::String(next_link(&ctx.graph_url, "directory/deletedItems/microsoft.graph.user", opts, &token)),
                        );
                    }
                    body.insert("value".into(), Value::Array(items));
                    Ok(Reply::Json { status: 200, body: Value::Object(body), location: None })
                }
                "microsoft.graph.group" | "microsoft.graph.application" | "microsoft.graph.servicePrincipal" => {
                    Err(ApiError::new(501, "NotImplemented", format!("graphbox does not model deleted {cast} objects yet.")))
                }
                other => Err(ApiError::unknown_segment(other)),
            }
        }
        _ => {
            let Some((key, rest)) = key_of(segs) else {
                return Err(ApiError::unknown_segment(&segs.first().map(segment_text).unwrap_or_default()));
            };
            let id = Uuid::parse_str(&key).map_err(|_| ApiError::not_found(&key))?;
            match (rest, method) {
                ([], &Method::GET) => {
                    crate::authz::check(&ctx.principal, "deletedItems.getUser")?;
                    let dir = ctx.tenant.read();
                    let d = dir.deleted.get(&id).ok_or_else(|| ApiError::not_found(&key))?;
                    Ok(Reply::Json { status: 200, body: deleted_object_body(ctx, d, opts)?, location: None })
                }
                ([], &Method::DELETE) => {
                    crate::authz::check(&ctx.principal, "deletedItems.deleteUser")?;
                    let mut dir = ctx.tenant.write();
                    if dir.deleted.remove(&id).is_none() {
                        return Err(ApiError::not_found(&key));
                    }
                    dir.passwords.remove(&id);
                    Ok(Reply::NoContent)
                }
                ([Segment::Identifier(action)], &Method::POST) if action == "restore" => {
                    crate::authz::check(&ctx.principal, "deletedItems.restoreUser")?;
                    let mut dir = ctx.tenant.write();
                    dir.restore_user(id)?;
                    let out = dir.users[&id].project(&USER, &Projection::default_set(&USER));
                    drop(dir);
                    let out = annotated(
                        &[
                            ("@odata.context", format!("{}/$metadata#directoryObjects/$entity", ctx.graph_url)),
                            ("@odata.type", "#microsoft.graph.user".to_owned()),
                        ],
                        out,
                    );
                    Ok(Reply::Json { status: 200, body: Value::Object(out), location: None })
                }
                ([], _) => Err(ApiError::method_not_allowed()),
                ([Segment::Identifier(action)], _) if action == "restore" => Err(ApiError::method_not_allowed()),
                ([s, ..], _) => Err(ApiError::unknown_segment(&segment_text(s))),
            }
        }
    }
}

fn deleted_object_body(
    ctx: &Ctx<'_>,
    d: &crate::directory::DeletedObject,
    opts: &QueryOptions,
) -> Result<Value, ApiError> {
    let (projection, _) = projection_for(&USER, opts.select.as_ref())?;
    let mut out = d.record.project(&USER, &projection);
    out.insert("deletedDateTime".into(), Value::String(crate::clock::format_datetime(d.deleted_at)));
    let out = annotated(
        &[
            ("@odata.context", format!("{}/$metadata#directoryObjects/$entity", ctx.graph_url)),
            ("@odata.type", format!("#{}", d.kind.type_name())),
        ],
        out,
    );
    Ok(Value::Object(out))
}

/// `annotations` first, then the entity's properties, as Graph orders them.
fn annotated(annotations: &[(&str, String)], properties: Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::with_capacity(annotations.len() + properties.len());
    for (k, v) in annotations {
        out.insert((*k).to_owned(), Value::String(v.clone()));
    }
    out.extend(properties);
    out
}
