//! Microsoft Graph v1.0: authenticate, parse the OData path and query, route to
//! an operation, authorize it, run it against the tenant, shape the answer.

use std::borrow::Cow;
use std::sync::Arc;

use http::{Method, Response};
use serde_json::{Map, Value};
use uuid::Uuid;

mod applications;
pub(crate) mod batch;
mod context;
mod delta;
mod directory;
mod directory_objects;
mod groups;
mod organization;
mod roles;
mod shape;
mod users;
mod wire;

use super::response::{self, Body};
use super::{Inbound, Server};
use crate::error::ApiError;
use crate::identity::Principal;
use crate::odata::{parse_path, parse_query, KeyArg, Literal, QueryOptions, Segment};
use crate::request_log::{Api, LoggedRequest};
use crate::tenant::Tenant;

/// Entity sets of Graph v1.0 that graphbox does not serve yet: they answer
/// 501 rather than pretending the segment does not exist.
const NOT_YET_MODELLED: &[&str] = &[];

/// What a Graph operation produced.
#[derive(Debug)]
pub(crate) enum Reply {
    Json {
        status: u16,
        body: Value,
        location: Option<String>,
    },
    /// A JSON body already serialized (see `wire.rs`).
    Serialized {
        status: u16,
        json: Vec<u8>,
    },
    Text(String),
    NoContent,
}

/// Facts about the request the handlers need.
pub(super) struct Ctx<'a> {
    pub(super) req: &'a Inbound,
    pub(super) graph_url: std::sync::Arc<str>,
    pub(super) principal: Arc<Principal>,
    pub(super) tenant: Arc<Tenant>,
    /// Every tenant of the server: only for the few operations that look past
    /// their own (a multi-tenant application of another tenant).
    pub(super) tenants: &'a crate::tenant::Tenants,
}

pub(crate) fn handle(server: &Server, req: &Inbound, rest: &str) -> Response<Body> {
    let authorization = req.headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let auth = server.validator.authenticate(authorization, &server.tenants);
    let (principal, tenant) = match auth {
        Ok(pt) => pt,
        Err(e) => {
            log_unauthenticated(server, req, authorization, e.status);
            return response::graph_error(&e, &req.correlation(crate::clock::system_now()));
        }
    };
    // A DirSync deadline the clock has passed fires before the request looks.
    let now = tenant.clock.now();
    tenant.settle_dirsync_at(now);
    let c = req.correlation(now);
    // Realism (off unless a tenant asks): one atomic load when off.
    let mut realism = crate::realism::graph::Exchange::begin(&tenant, req, &principal, rest);
    let rewritten = realism.as_mut().and_then(|x| x.take_rewritten());
    let inbound = rewritten.as_ref().unwrap_or(req);
    let ctx = Ctx { req: inbound, graph_url: graph_url(&req.authority), principal, tenant, tenants: &server.tenants };
    // Where the permission check records its decision for the log; a
    // report-only tenant's refusals are recorded and let through.
    let report_only = ctx.tenant.report_only();
    let authz = crate::authz::Scope::enter(report_only);
    // An injected fault answers instead of the operation, as a throttled or
    // unavailable service does: nothing is applied. Scripted faults come
    // before realism's.
    let result = match ctx.tenant.take_fault(req.method.as_str(), &req.path) {
        Some(fault) => Err(fault),
        None => match realism.as_mut().and_then(|x| x.refuse(inbound)) {
            Some(refused) => Err(refused),
            None => dispatch(server, &ctx, rest),
        },
    };
    let result = match realism.as_mut() {
        Some(x) => x.settle(result, inbound),
        None => result,
    };
    let retry_after = result.as_ref().err().and_then(|e| e.retry_after);
    let (status, response) = match result {
        Ok(Reply::Json { status, body, location }) => {
            (status, response::graph_json(status, &body, &c, location.as_deref()))
        }
        Ok(Reply::Serialized { status, json }) => (status, response::graph_json_bytes(status, json, &c)),
        Ok(Reply::Text(t)) => (200, response::graph_text(200, t, &c)),
        Ok(Reply::NoContent) => (204, response::no_content(&c)),
        Err(e) => (e.status, response::graph_error(&e, &c)),
    };
    let mut response = response;
    if let Some(x) = realism {
        x.finish(&mut response, retry_after);
    }
    let decisions = authz.decisions();
    drop(authz);
    ctx.tenant.usage.record(&ctx.principal, &decisions, report_only);
    let mut entry = LoggedRequest::new(req, Api::Graph, now, status).by(&ctx.principal);
    entry.authz = crate::request_log::summary(&decisions);
    entry.would_be_forbidden = report_only && entry.authz.is_some_and(|d| !d.allowed);
    ctx.tenant.log_request(entry);
    response
}

/// `{authority}/v1.0`, spelled once per authority and worker thread: a
/// connection's requests all come under the same one.
fn graph_url(authority: &std::sync::Arc<str>) -> std::sync::Arc<str> {
    use std::sync::Arc;
    thread_local! {
        static LAST: std::cell::RefCell<Option<(Arc<str>, Arc<str>)>> = const { std::cell::RefCell::new(None) };
    }
    LAST.with_borrow_mut(|last| match last {
        Some((seen, url)) if Arc::ptr_eq(seen, authority) || **seen == **authority => url.clone(),
        _ => {
            let url: Arc<str> = format!("{authority}/v1.0").into();
            *last = Some((authority.clone(), url.clone()));
            url
        }
    })
}

/// A call refused before it had a principal: logged to the tenant its token
/// claims when there is one, else to the server's log.
fn log_unauthenticated(server: &Server, req: &Inbound, authorization: Option<&str>, status: u16) {
    let tenant = crate::request_log::claimed_tenant(authorization).and_then(|id| server.tenants.get(id));
    match tenant {
        Some(t) => t.log_request(LoggedRequest::new(req, Api::Graph, t.clock.now(), status)),
        None => server.requests.push(LoggedRequest::new(req, Api::Graph, crate::clock::system_now(), status)),
    }
}

fn dispatch(server: &Server, ctx: &Ctx<'_>, rest: &str) -> Result<Reply, ApiError> {
    let path = parse_path(if rest.is_empty() { "/" } else { rest })?;
    let opts = parse_query(&ctx.req.query)?;
    let segs = path.segments();
    let method = &ctx.req.method;
    if let [Segment::Batch] = segs {
        return match *method {
            Method::POST => batch::batch(server, ctx),
            _ => Err(ApiError::method_not_allowed()),
        };
    }
    let Some(Segment::Identifier(first)) = segs.first() else {
        return match segs.first() {
            None => Err(ApiError::bad_request("The request URI must name a resource, e.g. /v1.0/users.")),
            Some(s) => Err(ApiError::unknown_segment(&segment_text(s))),
        };
    };
    match first.as_ref() {
        "users" => users::users(ctx, &segs[1..], &opts, method),
        "directory" => directory::directory(ctx, &segs[1..], &opts, method),
        "applications" => applications::applications(ctx, &segs[1..], &opts, method),
        "servicePrincipals" => applications::service_principals(ctx, &segs[1..], &opts, method),
        "oauth2PermissionGrants" => applications::oauth2_permission_grants(ctx, &segs[1..], &opts, method),
        "directoryRoles" => roles::directory_roles(ctx, &segs[1..], &opts, method),
        "directoryRoleTemplates" => roles::directory_role_templates(ctx, &segs[1..], &opts, method),
        "roleManagement" => roles::role_management(ctx, &segs[1..], &opts, method),
        "groups" => groups::groups(ctx, &segs[1..], &opts, method),
        "directoryObjects" => directory_objects::directory_objects(ctx, &segs[1..], method),
        // `/me…` is `/users/{signed-in user}…`; an app-only token has no user.
        "me" if ctx.principal.app_only => {
            Err(ApiError::bad_request("/me request is only valid with delegated authentication flow."))
        }
        "me" => {
            let mut as_user = vec![Segment::Identifier(ctx.principal.object_id.to_string().into())];
            as_user.extend_from_slice(&segs[1..]);
            users::users(ctx, &as_user, &opts, method)
        }
        "domains" => groups::domains(ctx, &segs[1..], &opts, method),
        "subscribedSkus" => groups::subscribed_skus(ctx, &segs[1..], &opts, method),
        "organization" => organization::organization(ctx, &segs[1..], &opts, method),
        other if NOT_YET_MODELLED.contains(&other) => Err(ApiError::new(
            501,
            "NotImplemented",
            format!("graphbox does not model '/{other}' yet; see the fidelity notes in the README."),
        )),
        other => Err(ApiError::unknown_segment(other)),
    }
}

pub(super) fn segment_text(s: &Segment<'_>) -> String {
    match s {
        Segment::Identifier(s) | Segment::Cast(s) => s.to_string(),
        Segment::Parens(_) => "(…)".to_owned(),
        Segment::Count => "$count".to_owned(),
        Segment::Ref => "$ref".to_owned(),
        Segment::Value => "$value".to_owned(),
        Segment::Batch => "$batch".to_owned(),
        Segment::Metadata => "$metadata".to_owned(),
    }
}

pub(super) fn is_eventual(req: &Inbound) -> bool {
    req.header("consistencylevel").is_some_and(|v| v.trim().eq_ignore_ascii_case("eventual"))
}

/// Parse a JSON object body; Graph answers one message for every way this fails.
pub(super) fn json_body(req: &Inbound) -> Result<Map<String, Value>, ApiError> {
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
pub(super) fn reject_collection_options(opts: &QueryOptions) -> Result<(), ApiError> {
    if opts.filter.is_some() || opts.top.is_some() || !opts.orderby.is_empty() || opts.search.is_some() {
        return Err(ApiError::bad_request(
            "The query specified in the URI is not valid. Query options $filter, $top, $orderby and $search apply to collections only.",
        ));
    }
    Ok(())
}

/// The key of `users/{key}` or `users('{key}')`, borrowed from the path where
/// the path spells it.
pub(super) fn key_of<'s, 'p>(segs: &'s [Segment<'p>]) -> Option<(Cow<'s, str>, &'s [Segment<'p>])> {
    match segs {
        [Segment::Parens(args), rest @ ..] => match args.as_slice() {
            [KeyArg { name: None, value: Literal::String(s) }] => Some((Cow::Borrowed(s), rest)),
            [KeyArg { name: None, value: Literal::Guid(g) }] => Some((Cow::Owned(g.to_string()), rest)),
            _ => None,
        },
        [Segment::Identifier(k), rest @ ..] => Some((Cow::Borrowed(k), rest)),
        _ => None,
    }
}

/// The next page's absolute URL: the original query options, percent-encoded
/// (`%20`, never `+`), with the new `$skiptoken`.
pub(super) fn next_link(graph_url: &str, set: &str, opts: &QueryOptions, skiptoken: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b'$');
    let mut q = String::new();
    for (k, v) in opts.params() {
        if k.eq_ignore_ascii_case("$skiptoken") {
            continue;
        }
        if !q.is_empty() {
            q.push('&');
        }
        q.push_str(&utf8_percent_encode(&k, QUERY_VALUE).to_string());
        q.push('=');
        q.push_str(&utf8_percent_encode(&v, QUERY_VALUE).to_string());
    }
    if !q.is_empty() {
        q.push('&');
    }
    q.push_str("$skiptoken=");
    q.push_str(&utf8_percent_encode(skiptoken, QUERY_VALUE).to_string());
    format!("{graph_url}/{set}?{q}")
}

/// `annotations` first, then the entity's properties, as Graph orders them.
pub(super) fn annotated(annotations: &[(&str, String)], properties: Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::with_capacity(annotations.len() + properties.len());
    for (k, v) in annotations {
        out.insert((*k).to_owned(), Value::String(v.clone()));
    }
    out.extend(properties);
    out
}

/// A collection response: context, count, next link and the projected page.
pub(super) fn collection(
    ctx: &Ctx<'_>,
    set_path: &str,
    plan: &crate::directory::query::ListPlan<'_>,
    page: crate::directory::query::ListPage<'_>,
    project: impl Fn(&crate::directory::record::Record) -> Map<String, Value>,
) -> Reply {
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        Value::String(
            context::ContextUrl {
                graph_url: &ctx.graph_url,
                set: set_path,
                selected: plan.selected.as_deref(),
                entity: false,
            }
            .spell(),
        ),
    );
    if let Some(n) = page.count {
        body.insert("@odata.count".into(), Value::from(n));
    }
    if let Some(token) = &page.next_skiptoken {
        body.insert("@odata.nextLink".into(), Value::String(next_link(&ctx.graph_url, set_path, plan.opts, token)));
    }
    body.insert("value".into(), Value::Array(page.items.iter().map(|r| Value::Object(project(r))).collect()));
    Reply::Json { status: 200, body: Value::Object(body), location: None }
}

/// A directory object as mixed collections show it (`members`, `memberOf`,
/// `manager`): `@odata.type` first, then the type's default properties.
pub(super) fn directory_object(dir: &crate::directory::Directory, id: Uuid) -> Option<Map<String, Value>> {
    use crate::directory::record::Projection;
    use crate::directory::roles::DIRECTORY_ROLE;
    use crate::directory::service_principals::{project_service_principal, SERVICE_PRINCIPAL};
    use crate::directory::users::USER;
    if let Some(r) = dir.users.get(&id) {
        return Some(r.project_annotated(
            &USER,
            &Projection::default_set(&USER),
            &[("@odata.type", "#microsoft.graph.user".into())],
        ));
    }
    if let Some(r) = dir.service_principals.get(&id) {
        let body = project_service_principal(dir, r, &Projection::default_set(&SERVICE_PRINCIPAL));
        return Some(annotated(&[("@odata.type", "#microsoft.graph.servicePrincipal".into())], body));
    }
    if let Some(r) = dir.groups.get(&id) {
        use crate::directory::groups::GROUP;
        return Some(r.project_annotated(
            &GROUP,
            &Projection::default_set(&GROUP),
            &[("@odata.type", "#microsoft.graph.group".into())],
        ));
    }
    if let Some(r) = dir.directory_roles.get(&id) {
        return Some(r.project_annotated(
            &DIRECTORY_ROLE,
            &Projection::default_set(&DIRECTORY_ROLE),
            &[("@odata.type", "#microsoft.graph.directoryRole".into())],
        ));
    }
    None
}

/// The object a `$ref` body points at: `{"@odata.id": ".../directoryObjects/{id}"}`
/// (any Graph URL whose last segment is the object id).
pub(super) fn reference_target(body: &Map<String, Value>) -> Result<Uuid, ApiError> {
    let url = match body.get("@odata.id") {
        Some(Value::String(s)) => s,
        _ => {
            return Err(ApiError::bad_request(
                "A $ref request body needs \"@odata.id\": the URL of the object to reference.",
            ))
        }
    };
    url.trim_end_matches('/')
        .rsplit('/')
        .next()
        .and_then(|last| Uuid::parse_str(last.trim_start_matches("directoryObjects('").trim_end_matches("')")).ok())
        .ok_or_else(|| ApiError::bad_request(format!("The @odata.id '{url}' does not name a directory object by id.")))
}

/// [`collection`] for items shown exactly as their projection (no `$expand`,
/// nothing added per item), written straight from the records.
pub(super) fn serialized_page(
    ctx: &Ctx<'_>,
    set_path: &str,
    plan: &crate::directory::query::ListPlan<'_>,
    page: &crate::directory::query::ListPage<'_>,
) -> Reply {
    let context = context::ContextUrl {
        graph_url: &ctx.graph_url,
        set: set_path,
        selected: plan.selected.as_deref(),
        entity: false,
    }
    .shared();
    let next_link = page.next_skiptoken.as_ref().map(|token| next_link(&ctx.graph_url, set_path, plan.opts, token));
    let body = wire::Page {
        context: &context,
        count: page.count,
        next_link: next_link.as_deref(),
        items: &page.items,
        schema: plan.schema,
        fields: &plan.projection,
    };
    Reply::Serialized { status: 200, json: wire::to_bytes(&body, page.items.len()) }
}

/// A single entity with its `@odata.context` (`…/$metadata#{set}/$entity`) first.
pub(super) fn entity(ctx: &Ctx<'_>, set: &str, body: Map<String, Value>) -> Value {
    Value::Object(annotated(&[("@odata.context", format!("{}/$metadata#{set}/$entity", ctx.graph_url))], body))
}

/// A mixed collection of directory objects (`members`, `memberOf`, `ownedObjects`, …),
/// unpaged: these links are small in the tenants a mock holds.
pub(super) fn objects(ctx: &Ctx<'_>, dir: &crate::directory::Directory, ids: Vec<Uuid>) -> Reply {
    let value: Vec<Value> =
        ids.into_iter().filter_map(|id| directory_objects::object_of(dir, id)).map(Value::Object).collect();
    let mut body = Map::new();
    body.insert("@odata.context".into(), Value::String(format!("{}/$metadata#directoryObjects", ctx.graph_url)));
    body.insert("value".into(), Value::Array(value));
    Reply::Json { status: 200, body: Value::Object(body), location: None }
}
