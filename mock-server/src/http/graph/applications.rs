//! `/applications` and `/servicePrincipals`, addressed by object id or by the
//! `(appId='…')` alternate key, with secrets, owners, app role assignments and
//! the `/oauth2PermissionGrants` collection.

use http::Method;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{
    annotated, collection, entity, is_eventual, json_body, reject_collection_options, segment_text, serialized_page,
    Ctx, Reply,
};
use crate::directory::applications::{Owner, APPLICATION};
use crate::directory::consent::{AssignmentPath, APP_ROLE_ASSIGNMENT, OAUTH2_PERMISSION_GRANT};
use crate::directory::query::{projection_for, ListPlan, DIRECTORY_PAGING};
use crate::directory::record::{Projection, Record};
use crate::directory::service_principals::{
    no_backing_application, project_service_principal, ForeignApp, SERVICE_PRINCIPAL,
};
use crate::directory::{Directory, Map as PersistentMap};
use crate::error::ApiError;
use crate::odata::{KeyArg, Literal, QueryOptions, Segment, SelectList};

/// How a path names an application or service principal.
enum Key {
    ObjectId(String),
    AppId(String),
}

impl Key {
    fn text(&self) -> &str {
        match self {
            Key::ObjectId(s) | Key::AppId(s) => s,
        }
    }
}

fn key_of<'s, 'p>(segs: &'s [Segment<'p>]) -> Result<Option<(Key, &'s [Segment<'p>])>, ApiError> {
    Ok(match segs {
        [Segment::Parens(args), rest @ ..] => match args.as_slice() {
            [KeyArg { name: Some(n), value: Literal::String(s) }] if n == "appId" => {
                Some((Key::AppId(s.clone()), rest))
            }
            [KeyArg { name: Some(n), value: Literal::Guid(g) }] if n == "appId" => {
                Some((Key::AppId(g.to_string()), rest))
            }
            [KeyArg { name: None, value: Literal::String(s) }] => Some((Key::ObjectId(s.clone()), rest)),
            [KeyArg { name: None, value: Literal::Guid(g) }] => Some((Key::ObjectId(g.to_string()), rest)),
            [KeyArg { name: Some(n), .. }] if n == "appId" => {
                return Err(ApiError::bad_request("The alternate key appId takes a GUID in quotes: (appId='…')."))
            }
            [KeyArg { name: Some(n), .. }] => {
                return Err(ApiError::bad_request(format!(
                "The key property '{n}' is not an alternate key of this entity set; use (appId='…') or the object id."
            )))
            }
            _ => return Err(ApiError::bad_request("The key in parentheses is not valid.")),
        },
        [Segment::Identifier(k), rest @ ..] => Some((Key::ObjectId(k.to_string()), rest)),
        _ => None,
    })
}

// ------------------------------------------------------------------ applications

pub(super) fn applications(
    ctx: &Ctx<'_>,
    segs: &[Segment],
    opts: &QueryOptions,
    method: &Method,
) -> Result<Reply, ApiError> {
    let authz = |op: &str| crate::authz::check(&ctx.principal, op);
    let Some((key, rest)) = key_of(segs)? else {
        return match (segs, method) {
            ([], &Method::GET) => {
                authz("applications.list")?;
                let plan = ListPlan::new(&APPLICATION, opts, is_eventual(ctx.req), DIRECTORY_PAGING)?;
                let dir = ctx.tenant.read();
                let listed = visible(ctx, "applications.list", &dir, &dir.applications);
                let page = plan.run(&listed);
                Ok(serialized_page(ctx, "applications", &plan, &page))
            }
            ([], &Method::POST) => {
                // Any member may register an application by default, and owns it.
                crate::authz::check_as(&ctx.principal, "applications.create", true)?;
                let body = json_body(ctx.req)?;
                let now = ctx.tenant.clock.now();
                let mut dir = ctx.tenant.write();
                let id = dir.create_application(&body, now)?;
                dir.set_creator_as_owner(id, ctx.principal.object_id);
                let out = dir.applications[&id].project(&APPLICATION, &Projection::default_set(&APPLICATION));
                let location = format!("{}/applications/{id}", ctx.graph_url);
                Ok(Reply::Json { status: 201, body: entity(ctx, "applications", out), location: Some(location) })
            }
            ([], _) => Err(ApiError::method_not_allowed()),
            ([s, ..], _) => Err(ApiError::unknown_segment(&segment_text(s))),
        };
    };
    let find = |dir: &crate::directory::Directory| {
        dir.find_application(key.text(), matches!(key, Key::AppId(_))).ok_or_else(|| ApiError::not_found(key.text()))
    };
    match (rest, method) {
        ([], &Method::GET) => {
            authz("applications.get")?;
            reject_collection_options(opts)?;
            let (projection, _) = projection_for(&APPLICATION, opts.select.as_ref().map(SelectList::iter))?;
            crate::directory::query::check_expand(&APPLICATION, &opts.expand)?;
            let dir = ctx.tenant.read();
            let id = find(&dir)?;
            check_owner(ctx, "applications.get", &dir, id)?;
            let out = dir.applications[&id].project(&APPLICATION, &projection);
            Ok(Reply::Json { status: 200, body: entity(ctx, "applications", out), location: None })
        }
        ([], &Method::PATCH) => {
            may_write_some(ctx, "applications.update")?;
            let body = json_body(ctx.req)?;
            let now = ctx.tenant.clock.now();
            let mut dir = ctx.tenant.write();
            let id = find(&dir)?;
            check_on(ctx, "applications.update", &dir, id)?;
            dir.update_application(id, &body, now)?;
            Ok(Reply::NoContent)
        }
        ([], &Method::DELETE) => {
            may_write_some(ctx, "applications.delete")?;
            let now = ctx.tenant.clock.now();
            let mut dir = ctx.tenant.write();
            let id = find(&dir)?;
            check_on(ctx, "applications.delete", &dir, id)?;
            dir.delete_application(id, now)?;
            Ok(Reply::NoContent)
        }
        ([Segment::Identifier(action)], &Method::POST) if action == "addPassword" => {
            may_write_some(ctx, "applications.addPassword")?;
            let body = optional_json_body(ctx)?;
            let now = ctx.tenant.clock.now();
            let mut dir = ctx.tenant.write();
            let id = find(&dir)?;
            check_on(ctx, "applications.addPassword", &dir, id)?;
            let secret = dir.add_password(id, &body, now)?;
            let out = annotated(
                &[("@odata.context", format!("{}/$metadata#microsoft.graph.passwordCredential", ctx.graph_url))],
                secret.credential,
            );
            Ok(Reply::Json { status: 200, body: Value::Object(out), location: None })
        }
        ([Segment::Identifier(action)], &Method::POST) if action == "removePassword" => {
            may_write_some(ctx, "applications.removePassword")?;
            let body = json_body(ctx.req)?;
            let mut dir = ctx.tenant.write();
            let id = find(&dir)?;
            check_on(ctx, "applications.removePassword", &dir, id)?;
            dir.remove_password(Owner::Application, id, &body)?;
            Ok(Reply::NoContent)
        }
        ([Segment::Identifier(action)], &Method::POST) if action == "addKey" => {
            may_write_some(ctx, "applications.addKey")?;
            let body = json_body(ctx.req)?;
            let now = ctx.tenant.clock.now();
            let mut dir = ctx.tenant.write();
            let id = find(&dir)?;
            check_on(ctx, "applications.addKey", &dir, id)?;
            let credential = dir.add_key(Owner::Application, id, &body, now)?;
            let out = annotated(
                &[("@odata.context", format!("{}/$metadata#microsoft.graph.keyCredential", ctx.graph_url))],
                credential,
            );
            Ok(Reply::Json { status: 200, body: Value::Object(out), location: None })
        }
        ([Segment::Identifier(action)], &Method::POST) if action == "removeKey" => {
            may_write_some(ctx, "applications.addKey")?;
            let body = json_body(ctx.req)?;
            let now = ctx.tenant.clock.now();
            let mut dir = ctx.tenant.write();
            let id = find(&dir)?;
            check_on(ctx, "applications.addKey", &dir, id)?;
            dir.remove_key(Owner::Application, id, &body, now)?;
            Ok(Reply::NoContent)
        }
        ([Segment::Identifier(nav), tail @ ..], _) if nav == "federatedIdentityCredentials" => {
            let id = find(&ctx.tenant.read())?;
            federated_credentials(ctx, id, tail, opts, method)
        }
        ([Segment::Identifier(nav), tail @ ..], _) if nav == "owners" => {
            let id = find(&ctx.tenant.read())?;
            owners(ctx, "applications", id, tail, method)
        }
        ([Segment::Identifier(a)], _) if matches!(&**a, "addPassword" | "removePassword" | "addKey" | "removeKey") => {
            Err(ApiError::method_not_allowed())
        }
        ([], _) => Err(ApiError::method_not_allowed()),
        ([s, ..], _) => Err(ApiError::unknown_segment(&segment_text(s))),
    }
}

/// `/applications/{id}/federatedIdentityCredentials[/{id or name}]`: the
/// application's permissions guard them (Graph documents
/// Application.ReadWrite.All for writes, Application.Read.All for reads).
fn federated_credentials(
    ctx: &Ctx<'_>,
    app: Uuid,
    segs: &[Segment],
    opts: &QueryOptions,
    method: &Method,
) -> Result<Reply, ApiError> {
    use crate::directory::federated_credentials::FEDERATED_CREDENTIAL as FIC;
    let authz = |op: &str| crate::authz::check(&ctx.principal, op);
    let set = format!("applications('{app}')/federatedIdentityCredentials");
    let context = |suffix: &str| format!("{}/$metadata#{set}{suffix}", ctx.graph_url);
    match (segs, method) {
        ([], &Method::GET) => {
            authz("applications.get")?;
            let (projection, _) = projection_for(&FIC, opts.select.as_ref().map(SelectList::iter))?;
            let dir = ctx.tenant.read();
            check_owner(ctx, "applications.get", &dir, app)?;
            let value: Vec<Value> =
                dir.federated_credentials_of(app).iter().map(|r| Value::Object(r.project(&FIC, &projection))).collect();
            let body = serde_json::json!({"@odata.context": context(""), "value": value});
            Ok(Reply::Json { status: 200, body, location: None })
        }
        ([], &Method::POST) => {
            may_write_some(ctx, "applications.update")?;
            let body = json_body(ctx.req)?;
            let mut dir = ctx.tenant.write();
            check_on(ctx, "applications.update", &dir, app)?;
            let out = dir.create_federated_credential(app, &body)?;
            let id = out.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
            let location = format!("{}/{set}/{id}", ctx.graph_url);
            let body = annotated(&[("@odata.context", context("/$entity"))], out);
            Ok(Reply::Json { status: 201, body: Value::Object(body), location: Some(location) })
        }
        ([Segment::Identifier(key)], m) => {
            let key = key.clone();
            let missing = || ApiError::not_found(&key);
            match *m {
                Method::GET => {
                    authz("applications.get")?;
                    let (projection, _) = projection_for(&FIC, opts.select.as_ref().map(SelectList::iter))?;
                    let dir = ctx.tenant.read();
                    check_owner(ctx, "applications.get", &dir, app)?;
                    let i = dir.find_federated_credential(app, &key).ok_or_else(missing)?;
                    let out = dir.federated_credentials_of(app)[i].project(&FIC, &projection);
                    let body = annotated(&[("@odata.context", context("/$entity"))], out);
                    Ok(Reply::Json { status: 200, body: Value::Object(body), location: None })
                }
                Method::PATCH => {
                    may_write_some(ctx, "applications.update")?;
                    let body = json_body(ctx.req)?;
                    let mut dir = ctx.tenant.write();
                    check_on(ctx, "applications.update", &dir, app)?;
                    let i = dir.find_federated_credential(app, &key).ok_or_else(missing)?;
                    dir.update_federated_credential(app, i, &body)?;
                    Ok(Reply::NoContent)
                }
                Method::DELETE => {
                    may_write_some(ctx, "applications.update")?;
                    let mut dir = ctx.tenant.write();
                    check_on(ctx, "applications.update", &dir, app)?;
                    let i = dir.find_federated_credential(app, &key).ok_or_else(missing)?;
                    dir.delete_federated_credential(app, i);
                    Ok(Reply::NoContent)
                }
                _ => Err(ApiError::method_not_allowed()),
            }
        }
        ([], _) => Err(ApiError::method_not_allowed()),
        ([s, ..], _) => Err(ApiError::unknown_segment(&segment_text(s))),
    }
}

/// Before a write's object is looked up: refuses only what even the object's
/// owner could not do, recording nothing when it passes ([`check_on`] records
/// the decision for the object).
fn may_write_some(ctx: &Ctx<'_>, operation: &str) -> Result<(), ApiError> {
    if crate::authz::decide_as(&ctx.principal, operation, true).allowed {
        return Ok(());
    }
    crate::authz::check(&ctx.principal, operation)
}

/// The permission check of a write on the application or service principal
/// `object`: a signed-in user may make the writes Entra lets an owner make on
/// what they own, and an app holding only `Application.ReadWrite.OwnedBy` may
/// act only on what it owns.
fn check_on(ctx: &Ctx<'_>, operation: &str, dir: &Directory, object: Uuid) -> Result<(), ApiError> {
    crate::authz::check_as(&ctx.principal, operation, dir.owns(ctx.principal.object_id, object))?;
    check_owner(ctx, operation, dir, object)
}

/// Refuses `operation` on the application or service principal `object` when
/// the caller holds it only through `Application.ReadWrite.OwnedBy` and does
/// not own `object`.
fn check_owner(ctx: &Ctx<'_>, operation: &str, dir: &Directory, object: Uuid) -> Result<(), ApiError> {
    if crate::authz::only_as_owner(&ctx.principal, operation) && !dir.owns(ctx.principal.object_id, object) {
        return Err(ApiError::forbidden());
    }
    Ok(())
}

/// What a list of `all` (applications or service principals) shows the caller:
/// everything, or, to a caller holding `operation` only through
/// `Application.ReadWrite.OwnedBy`, what it owns.
fn visible<'d>(
    ctx: &Ctx<'_>,
    operation: &str,
    dir: &Directory,
    all: &'d PersistentMap<Uuid, Record>,
) -> std::borrow::Cow<'d, PersistentMap<Uuid, Record>> {
    if !crate::authz::only_as_owner(&ctx.principal, operation) {
        return std::borrow::Cow::Borrowed(all);
    }
    let owner = ctx.principal.object_id;
    std::borrow::Cow::Owned(
        all.iter().filter(|(id, _)| dir.owns(owner, **id)).map(|(id, r)| (*id, r.clone())).collect(),
    )
}

/// `/applications/{id}/owners` and `/servicePrincipals/{id}/owners`: list,
/// `POST …/owners/$ref`, `DELETE …/owners/{owner}/$ref`.
fn owners(ctx: &Ctx<'_>, family: &str, object: Uuid, tail: &[Segment], method: &Method) -> Result<Reply, ApiError> {
    let operation = |verb: &str| format!("{family}.owners.{verb}");
    match (tail, method) {
        ([], &Method::GET) => {
            crate::authz::check(&ctx.principal, &operation("list"))?;
            let dir = ctx.tenant.read();
            check_owner(ctx, &operation("list"), &dir, object)?;
            Ok(super::objects(ctx, &dir, dir.owners_of(object)))
        }
        ([Segment::Ref], &Method::POST) => {
            may_write_some(ctx, &operation("add"))?;
            let owner = super::reference_target(&json_body(ctx.req)?)?;
            let mut dir = ctx.tenant.write();
            check_on(ctx, &operation("add"), &dir, object)?;
            dir.add_owner(object, owner)?;
            Ok(Reply::NoContent)
        }
        ([Segment::Identifier(owner), Segment::Ref], &Method::DELETE) => {
            may_write_some(ctx, &operation("remove"))?;
            let owner = Uuid::parse_str(owner).map_err(|_| ApiError::not_found(owner))?;
            let mut dir = ctx.tenant.write();
            check_on(ctx, &operation("remove"), &dir, object)?;
            dir.remove_owner(object, owner)?;
            Ok(Reply::NoContent)
        }
        ([] | [Segment::Ref] | [Segment::Identifier(_), Segment::Ref], _) => Err(ApiError::method_not_allowed()),
        ([s, ..], _) => Err(ApiError::unknown_segment(&segment_text(s))),
    }
}

/// The multi-tenant application of another tenant of this server that a
/// `POST /servicePrincipals` body's `appId` names, when this tenant has no
/// application of its own with it. Looked up before this tenant's write lock
/// is taken, each home tenant under its own read lock, one at a time.
fn foreign_application(ctx: &Ctx<'_>, body: &Map<String, Value>) -> Result<Option<ForeignApp>, ApiError> {
    let Some(app_id) = body.get("appId").and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok()) else {
        return Ok(None);
    };
    if ctx.tenant.read().application_by_app_id(app_id).is_some()
        || crate::directory::first_party::public_client(app_id).is_some()
    {
        return Ok(None);
    }
    // A fork holds its origin's applications too; the lowest tenant id wins
    // so the answer does not depend on the registry's order.
    let mut homes: Vec<_> = ctx.tenants.all().into_iter().filter(|t| t.id != ctx.tenant.id).collect();
    homes.sort_by_key(|t| t.id);
    let found = homes.iter().find_map(|t| {
        let record = t.read().application_by_app_id(app_id)?.clone();
        Some(ForeignApp { app_id, home_tenant: t.id, record })
    });
    match found {
        // Entra shows a single-tenant application to no other tenant.
        Some(app) if !app.is_multi_tenant() => Err(no_backing_application(app_id)),
        Some(_) if crate::authz::only_as_owner(&ctx.principal, "servicePrincipals.create") => Err(ApiError::new(
            403,
            "Authorization_RequestDenied",
            "When using this permission, the backing application of the service principal being created must in the local tenant",
        )),
        found => Ok(found),
    }
}

/// Actions whose body is optional (`addPassword` with no body is valid).
fn optional_json_body(ctx: &Ctx<'_>) -> Result<Map<String, Value>, ApiError> {
    if ctx.req.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    json_body(ctx.req)
}

// ------------------------------------------------------------------ service principals

pub(super) fn service_principals(
    ctx: &Ctx<'_>,
    segs: &[Segment],
    opts: &QueryOptions,
    method: &Method,
) -> Result<Reply, ApiError> {
    let authz = |op: &str| crate::authz::check(&ctx.principal, op);
    let Some((key, rest)) = key_of(segs)? else {
        return match (segs, method) {
            ([], &Method::GET) => {
                authz("servicePrincipals.list")?;
                let plan = ListPlan::new(&SERVICE_PRINCIPAL, opts, is_eventual(ctx.req), DIRECTORY_PAGING)?;
                let dir = ctx.tenant.read();
                let listed = visible(ctx, "servicePrincipals.list", &dir, &dir.service_principals);
                let page = plan.run(&listed);
                Ok(collection(ctx, "servicePrincipals", &plan, page, |r| {
                    project_service_principal(&dir, r, &plan.projection)
                }))
            }
            ([], &Method::POST) => {
                authz("servicePrincipals.create")?;
                let body = json_body(ctx.req)?;
                let foreign = foreign_application(ctx, &body)?;
                let mut dir = ctx.tenant.write();
                // With OwnedBy alone, only for an application the caller owns.
                let app_id = body.get("appId").and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok());
                if let Some(app) = app_id.and_then(|a| dir.find_application(&a.to_string(), true)) {
                    check_owner(ctx, "servicePrincipals.create", &dir, app)?;
                }
                let id = dir.instantiate_service_principal(&body, foreign.as_ref())?;
                dir.set_creator_as_owner(id, ctx.principal.object_id);
                let out = project_service_principal(
                    &dir,
                    &dir.service_principals[&id],
                    &Projection::default_set(&SERVICE_PRINCIPAL),
                );
                let location = format!("{}/servicePrincipals/{id}", ctx.graph_url);
                Ok(Reply::Json { status: 201, body: entity(ctx, "servicePrincipals", out), location: Some(location) })
            }
            ([], _) => Err(ApiError::method_not_allowed()),
            ([s, ..], _) => Err(ApiError::unknown_segment(&segment_text(s))),
        };
    };
    let find = |dir: &crate::directory::Directory| {
        dir.find_service_principal(key.text(), matches!(key, Key::AppId(_)))
            .ok_or_else(|| ApiError::not_found(key.text()))
    };
    match (rest, method) {
        ([], &Method::GET) => {
            authz("servicePrincipals.get")?;
            reject_collection_options(opts)?;
            let (projection, _) = projection_for(&SERVICE_PRINCIPAL, opts.select.as_ref().map(SelectList::iter))?;
            crate::directory::query::check_expand(&SERVICE_PRINCIPAL, &opts.expand)?;
            let dir = ctx.tenant.read();
            let id = find(&dir)?;
            check_owner(ctx, "servicePrincipals.get", &dir, id)?;
            let out = project_service_principal(&dir, &dir.service_principals[&id], &projection);
            Ok(Reply::Json { status: 200, body: entity(ctx, "servicePrincipals", out), location: None })
        }
        ([], &Method::PATCH) => {
            authz("servicePrincipals.update")?;
            let body = json_body(ctx.req)?;
            let mut dir = ctx.tenant.write();
            let id = find(&dir)?;
            check_owner(ctx, "servicePrincipals.update", &dir, id)?;
            dir.update_service_principal(id, &body)?;
            Ok(Reply::NoContent)
        }
        ([], &Method::DELETE) => {
            authz("servicePrincipals.delete")?;
            let now = ctx.tenant.clock.now();
            let mut dir = ctx.tenant.write();
            let id = find(&dir)?;
            check_owner(ctx, "servicePrincipals.delete", &dir, id)?;
            dir.delete_service_principal(id, now)?;
            Ok(Reply::NoContent)
        }
        ([Segment::Identifier(nav), tail @ ..], _) if nav == "owners" => {
            let id = find(&ctx.tenant.read())?;
            owners(ctx, "servicePrincipals", id, tail, method)
        }
        ([Segment::Identifier(nav)], &Method::GET) if nav == "ownedObjects" => {
            authz("servicePrincipals.ownedObjects.list")?;
            let dir = ctx.tenant.read();
            let id = find(&dir)?;
            Ok(super::objects(ctx, &dir, dir.owned_objects(id)))
        }
        ([Segment::Identifier(nav), tail @ ..], _) if nav == "appRoleAssignedTo" || nav == "appRoleAssignments" => {
            let id = find(&ctx.tenant.read())?;
            let path = if nav == "appRoleAssignedTo" {
                AssignmentPath::AssignedTo(id)
            } else {
                AssignmentPath::AssignmentsOf(id)
            };
            assignments(ctx, id, nav, path, tail, opts, method)
        }
        ([Segment::Identifier(nav)], &Method::GET) if nav == "oauth2PermissionGrants" => {
            authz("oauth2PermissionGrants.list")?;
            let dir = ctx.tenant.read();
            let id = find(&dir)?;
            let plan = ListPlan::new(&OAUTH2_PERMISSION_GRANT, opts, is_eventual(ctx.req), DIRECTORY_PAGING)?;
            let mine: crate::directory::Map<Uuid, crate::directory::record::Record> = dir
                .oauth2_grants
                .iter()
                .filter(|(_, g)| g.get_str(&OAUTH2_PERMISSION_GRANT, "clientId") == Some(id.to_string().as_str()))
                .map(|(k, g)| (*k, g.clone()))
                .collect();
            let page = plan.run(&mine);
            let set = format!("servicePrincipals('{id}')/oauth2PermissionGrants");
            Ok(serialized_page(ctx, &set, &plan, &page))
        }
        ([Segment::Identifier(action)], &Method::POST)
            if matches!(&**action, "addPassword" | "removePassword" | "addKey" | "removeKey") =>
        {
            sp_credential(ctx, action, find)
        }
        ([Segment::Identifier(a)], _) if matches!(&**a, "addPassword" | "removePassword" | "addKey" | "removeKey") => {
            Err(ApiError::method_not_allowed())
        }
        ([Segment::Identifier(nav), ..], _)
            if super::directory_objects::is_member_route(super::directory_objects::Family::ServicePrincipals, nav) =>
        {
            let family = super::directory_objects::Family::ServicePrincipals;
            super::directory_objects::member_route(ctx, family, key.text(), rest, method)
        }
        ([], _) => Err(ApiError::method_not_allowed()),
        ([s, ..], _) => Err(ApiError::unknown_segment(&segment_text(s))),
    }
}

fn assignments(
    ctx: &Ctx<'_>,
    sp: Uuid,
    nav: &str,
    path: AssignmentPath,
    tail: &[Segment],
    opts: &QueryOptions,
    method: &Method,
) -> Result<Reply, ApiError> {
    let set = format!("servicePrincipals('{sp}')/{nav}");
    match (tail, method) {
        ([], &Method::GET) => {
            crate::authz::check(&ctx.principal, "servicePrincipals.appRoleAssignedTo.list")?;
            let plan = ListPlan::new(&APP_ROLE_ASSIGNMENT, opts, is_eventual(ctx.req), DIRECTORY_PAGING)?;
            let dir = ctx.tenant.read();
            let matching = dir.app_role_assignments_at(path);
            let page = plan.run(&matching);
            Ok(serialized_page(ctx, &set, &plan, &page))
        }
        ([], &Method::POST) => {
            let body = json_body(ctx.req)?;
            let resource = body.get("resourceId").and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok());
            let graph = ctx.tenant.read().graph_service_principal_id();
            let operation = if resource.is_some() && resource == graph {
                "servicePrincipals.appRoleAssignedTo.create.graph"
            } else {
                "servicePrincipals.appRoleAssignedTo.create"
            };
            crate::authz::check(&ctx.principal, operation)?;
            let now = ctx.tenant.clock.now();
            let mut dir = ctx.tenant.write();
            let key = dir.create_app_role_assignment(path, &body, now)?;
            let out = dir.app_role_assignments[&key]
                .project(&APP_ROLE_ASSIGNMENT, &Projection::default_set(&APP_ROLE_ASSIGNMENT));
            Ok(Reply::Json { status: 201, body: entity(ctx, &set, out), location: None })
        }
        ([Segment::Identifier(aid)], &Method::GET) => {
            crate::authz::check(&ctx.principal, "servicePrincipals.appRoleAssignedTo.list")?;
            let dir = ctx.tenant.read();
            let key = dir.find_app_role_assignment(aid, path).ok_or_else(|| ApiError::not_found(aid))?;
            let out = dir.app_role_assignments[&key]
                .project(&APP_ROLE_ASSIGNMENT, &Projection::default_set(&APP_ROLE_ASSIGNMENT));
            Ok(Reply::Json { status: 200, body: entity(ctx, &set, out), location: None })
        }
        ([Segment::Identifier(aid)], &Method::DELETE) => {
            crate::authz::check(&ctx.principal, "servicePrincipals.appRoleAssignedTo.delete")?;
            let mut dir = ctx.tenant.write();
            let key = dir.find_app_role_assignment(aid, path).ok_or_else(|| ApiError::not_found(aid))?;
            dir.app_role_assignments.remove(&key);
            Ok(Reply::NoContent)
        }
        ([] | [Segment::Identifier(_)], _) => Err(ApiError::method_not_allowed()),
        ([s, ..], _) => Err(ApiError::unknown_segment(&segment_text(s))),
    }
}

// ------------------------------------------------------------------ oauth2PermissionGrants

pub(super) fn oauth2_permission_grants(
    ctx: &Ctx<'_>,
    segs: &[Segment],
    opts: &QueryOptions,
    method: &Method,
) -> Result<Reply, ApiError> {
    let authz = |op: &str| crate::authz::check(&ctx.principal, op);
    match (segs, method) {
        ([], &Method::GET) => {
            authz("oauth2PermissionGrants.list")?;
            let plan = ListPlan::new(&OAUTH2_PERMISSION_GRANT, opts, is_eventual(ctx.req), DIRECTORY_PAGING)?;
            let dir = ctx.tenant.read();
            let page = plan.run(&dir.oauth2_grants);
            Ok(serialized_page(ctx, "oauth2PermissionGrants", &plan, &page))
        }
        ([], &Method::POST) => {
            authz("oauth2PermissionGrants.create")?;
            let body = json_body(ctx.req)?;
            let mut dir = ctx.tenant.write();
            let key = dir.create_oauth2_grant(&body)?;
            let out = dir.oauth2_grants[&key]
                .project(&OAUTH2_PERMISSION_GRANT, &Projection::default_set(&OAUTH2_PERMISSION_GRANT));
            Ok(Reply::Json { status: 201, body: entity(ctx, "oauth2PermissionGrants", out), location: None })
        }
        ([Segment::Identifier(id)], &Method::GET) => {
            authz("oauth2PermissionGrants.get")?;
            let dir = ctx.tenant.read();
            let key = dir.find_oauth2_grant(id).ok_or_else(|| ApiError::not_found(id))?;
            let out = dir.oauth2_grants[&key]
                .project(&OAUTH2_PERMISSION_GRANT, &Projection::default_set(&OAUTH2_PERMISSION_GRANT));
            Ok(Reply::Json { status: 200, body: entity(ctx, "oauth2PermissionGrants", out), location: None })
        }
        ([Segment::Identifier(id)], &Method::PATCH) => {
            authz("oauth2PermissionGrants.update")?;
            let body = json_body(ctx.req)?;
            let mut dir = ctx.tenant.write();
            let key = dir.find_oauth2_grant(id).ok_or_else(|| ApiError::not_found(id))?;
            dir.update_oauth2_grant(key, &body)?;
            Ok(Reply::NoContent)
        }
        ([Segment::Identifier(id)], &Method::DELETE) => {
            authz("oauth2PermissionGrants.delete")?;
            let mut dir = ctx.tenant.write();
            let key = dir.find_oauth2_grant(id).ok_or_else(|| ApiError::not_found(id))?;
            dir.oauth2_grants.remove(&key);
            Ok(Reply::NoContent)
        }
        ([] | [Segment::Identifier(_)], _) => Err(ApiError::method_not_allowed()),
        ([s, ..], _) => Err(ApiError::unknown_segment(&segment_text(s))),
    }
}

/// A service principal's `addPassword`, `removePassword`, `addKey` and
/// `removeKey`: the same rules and answers as an application's (Graph
/// reference, `serviceprincipal-addpassword` and siblings); a secret added
/// here signs in at the token endpoint as the application does.
fn sp_credential(
    ctx: &Ctx<'_>,
    action: &str,
    find: impl Fn(&crate::directory::Directory) -> Result<Uuid, ApiError>,
) -> Result<Reply, ApiError> {
    let operation = format!("servicePrincipals.{action}");
    crate::authz::check(&ctx.principal, &operation)?;
    let body = if action == "addPassword" { optional_json_body(ctx)? } else { json_body(ctx.req)? };
    let now = ctx.tenant.clock.now();
    let mut dir = ctx.tenant.write();
    let id = find(&dir)?;
    check_owner(ctx, &operation, &dir, id)?;
    let sp = Owner::ServicePrincipal;
    let (shown, ty) = match action {
        "addPassword" => (dir.add_password_for(sp, id, &body, now)?.credential, "passwordCredential"),
        "addKey" => (dir.add_key(sp, id, &body, now)?, "keyCredential"),
        "removePassword" => {
            dir.remove_password(sp, id, &body)?;
            return Ok(Reply::NoContent);
        }
        _ => {
            dir.remove_key(sp, id, &body, now)?;
            return Ok(Reply::NoContent);
        }
    };
    let context = format!("{}/$metadata#microsoft.graph.{ty}", ctx.graph_url);
    Ok(Reply::Json {
        status: 200,
        body: Value::Object(annotated(&[("@odata.context", context)], shown)),
        location: None,
    })
}

/// `GET /users/{id}/appRoleAssignments`: the app roles granted to a user
/// (Graph reference, `user-list-approleassignments`).
pub(super) fn user_app_role_assignments(
    ctx: &Ctx<'_>,
    key: &str,
    opts: &QueryOptions,
    method: &Method,
) -> Result<Reply, ApiError> {
    if *method != Method::GET {
        return Err(ApiError::method_not_allowed());
    }
    crate::authz::check(&ctx.principal, "users.appRoleAssignments.list")?;
    let plan = ListPlan::new(&APP_ROLE_ASSIGNMENT, opts, is_eventual(ctx.req), DIRECTORY_PAGING)?;
    let dir = ctx.tenant.read();
    let id = dir.find_user(key).ok_or_else(|| ApiError::not_found(key))?;
    let matching = dir.app_role_assignments_at(AssignmentPath::AssignmentsOf(id));
    let page = plan.run(&matching);
    Ok(serialized_page(ctx, &format!("users('{id}')/appRoleAssignments"), &plan, &page))
}
