//! `/directory/deletedItems`: soft-deleted users, applications and service
//! principals; restore and permanent delete.

use http::Method;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{annotated, collection, is_eventual, key_of, segment_text, Ctx, Reply};
use crate::authz::{check_sensitive, SensitiveAction};
use crate::directory::applications::APPLICATION;
use crate::directory::query::{projection_for, ListPlan, DIRECTORY_PAGING};
use crate::directory::record::{Projection, Record};
use crate::directory::schema::EntitySchema;
use crate::directory::service_principals::SERVICE_PRINCIPAL;
use crate::directory::users::USER;
use crate::directory::{DeletedObject, Directory, ObjectKind};
use crate::error::ApiError;
use crate::odata::{QueryOptions, Segment, SelectList};

pub(super) fn directory(
    ctx: &Ctx<'_>,
    segs: &[Segment],
    opts: &QueryOptions,
    method: &Method,
) -> Result<Reply, ApiError> {
    match segs {
        [Segment::Identifier(n), rest @ ..] if n == "deletedItems" => deleted_items(ctx, rest, opts, method),
        [Segment::Identifier(n), rest @ ..] if n == "onPremisesSynchronization" => {
            super::organization::on_premises_synchronization(ctx, rest, opts, method)
        }
        [] => Err(ApiError::method_not_allowed()),
        [s, ..] => Err(ApiError::unknown_segment(&segment_text(s))),
    }
}

fn schema_of(kind: ObjectKind) -> Option<&'static EntitySchema> {
    match kind {
        ObjectKind::User => Some(&USER),
        ObjectKind::Application => Some(&APPLICATION),
        ObjectKind::ServicePrincipal => Some(&SERVICE_PRINCIPAL),
        ObjectKind::Group => Some(&crate::directory::groups::GROUP),
    }
}

/// The authorization operation for an action on a deleted object of `kind`.
fn operation(kind: ObjectKind, action: &str) -> String {
    let noun = match kind {
        ObjectKind::User => "User",
        ObjectKind::Application => "Application",
        ObjectKind::ServicePrincipal => "ServicePrincipal",
        ObjectKind::Group => "Group",
    };
    // The reference's table names the user list in the plural.
    match (kind, action) {
        (ObjectKind::User, "list") => "deletedItems.listUsers".to_owned(),
        _ => format!("deletedItems.{action}{noun}"),
    }
}

fn kind_of_cast(cast: &str) -> Option<ObjectKind> {
    match cast {
        "microsoft.graph.user" => Some(ObjectKind::User),
        "microsoft.graph.application" => Some(ObjectKind::Application),
        "microsoft.graph.servicePrincipal" => Some(ObjectKind::ServicePrincipal),
        "microsoft.graph.group" => Some(ObjectKind::Group),
        _ => None,
    }
}

fn show(d: &DeletedObject, schema: &EntitySchema, projection: &Projection) -> Map<String, Value> {
    let mut out = d.record.project(schema, projection);
    out.insert("deletedDateTime".into(), Value::String(crate::clock::format_datetime(d.deleted_at)));
    out
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
            let kind = kind_of_cast(cast).ok_or_else(|| ApiError::unknown_segment(cast))?;
            let schema = schema_of(kind).ok_or_else(|| {
                ApiError::new(501, "NotImplemented", format!("graphbox does not model deleted {cast} objects yet."))
            })?;
            crate::authz::check(&ctx.principal, &operation(kind, "list"))?;
            let plan = ListPlan::new(schema, opts, is_eventual(ctx.req), DIRECTORY_PAGING)?;
            let dir = ctx.tenant.read();
            let of_kind: crate::directory::Map<Uuid, Record> =
                dir.deleted.iter().filter(|(_, d)| d.kind == kind).map(|(id, d)| (*id, d.record.clone())).collect();
            let page = plan.run(&of_kind);
            let set = format!("directory/deletedItems/{cast}");
            Ok(collection(ctx, &set, &plan, page, |r| match dir.deleted.get(&r.id) {
                Some(d) => show(d, schema, &plan.projection),
                None => r.project(schema, &plan.projection),
            }))
        }
        _ => {
            let Some((key, rest)) = key_of(segs) else {
                return Err(ApiError::unknown_segment(&segs.first().map(segment_text).unwrap_or_default()));
            };
            let id = Uuid::parse_str(&key).map_err(|_| ApiError::not_found(&key))?;
            let kind = ctx.tenant.read().deleted.get(&id).map(|d| d.kind).ok_or_else(|| ApiError::not_found(&key))?;
            let schema = schema_of(kind).ok_or_else(|| ApiError::not_found(&key))?;
            match (rest, method) {
                ([], &Method::GET) => {
                    crate::authz::check(&ctx.principal, &operation(kind, "get"))?;
                    let (projection, _) = projection_for(schema, opts.select.as_ref().map(SelectList::iter))?;
                    let dir = ctx.tenant.read();
                    let d = dir.deleted.get(&id).ok_or_else(|| ApiError::not_found(&key))?;
                    let body = annotated(
                        &[
                            ("@odata.context", format!("{}/$metadata#directoryObjects/$entity", ctx.graph_url)),
                            ("@odata.type", format!("#{}", kind.type_name())),
                        ],
                        show(d, schema, &projection),
                    );
                    Ok(Reply::Json { status: 200, body: Value::Object(body), location: None })
                }
                ([], &Method::DELETE) => {
                    crate::authz::check(&ctx.principal, &operation(kind, "delete"))?;
                    let mut dir = ctx.tenant.write();
                    if !dir.deleted.contains_key(&id) {
                        return Err(ApiError::not_found(&key));
                    }
                    if kind == ObjectKind::User {
                        let target_roles = dir.role_template_ids_of(id);
                        check_sensitive(&ctx.principal, SensitiveAction::PermanentDelete, &[], &target_roles)?;
                        // Gone for good: so are the roles it held.
                        dir.remove_role_assignments_of(id);
                    }
                    dir.deleted.remove(&id);
                    dir.passwords.remove(&id);
                    dir.secrets.remove(&id);
                    dir.owners.remove(&id);
                    // Delta reports a permanent deletion as `reason: deleted`.
                    match kind {
                        ObjectKind::User => dir.user_changes.touch(id),
                        ObjectKind::Group => dir.group_changes.touch(id),
                        _ => {}
                    }
                    Ok(Reply::NoContent)
                }
                ([Segment::Identifier(action)], &Method::POST) if action == "restore" => {
                    crate::authz::check(&ctx.principal, &operation(kind, "restore"))?;
                    let mut dir = ctx.tenant.write();
                    if kind == ObjectKind::User {
                        let target_roles = dir.role_template_ids_of(id);
                        check_sensitive(&ctx.principal, SensitiveAction::Restore, &[], &target_roles)?;
                    }
                    let body = restore(&mut dir, id, kind, schema)?;
                    drop(dir);
                    let body = annotated(
                        &[
                            ("@odata.context", format!("{}/$metadata#directoryObjects/$entity", ctx.graph_url)),
                            ("@odata.type", format!("#{}", kind.type_name())),
                        ],
                        body,
                    );
                    Ok(Reply::Json { status: 200, body: Value::Object(body), location: None })
                }
                ([], _) => Err(ApiError::method_not_allowed()),
                ([Segment::Identifier(action)], _) if action == "restore" => Err(ApiError::method_not_allowed()),
                ([s, ..], _) => Err(ApiError::unknown_segment(&segment_text(s))),
            }
        }
    }
}

fn restore(
    dir: &mut Directory,
    id: Uuid,
    kind: ObjectKind,
    schema: &'static EntitySchema,
) -> Result<Map<String, Value>, ApiError> {
    match kind {
        ObjectKind::User => {
            dir.restore_user(id)?;
            Ok(dir.users[&id].project(schema, &Projection::default_set(schema)))
        }
        ObjectKind::Application => {
            dir.restore_application(id)?;
            Ok(dir.applications[&id].project(schema, &Projection::default_set(schema)))
        }
        ObjectKind::ServicePrincipal => {
            dir.restore_service_principal(id)?;
            Ok(dir.service_principals[&id].project(schema, &Projection::default_set(schema)))
        }
        ObjectKind::Group => {
            dir.restore_group(id)?;
            Ok(dir.groups[&id].project(schema, &Projection::default_set(schema)))
        }
    }
}
