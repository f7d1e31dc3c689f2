//! `/directory/deletedItems`: soft-deleted objects, restore, permanent delete.

use http::Method;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{annotated, context_for, is_eventual, key_of, next_link, segment_text, Ctx, Reply};
use crate::directory::query::{projection_for, ListPlan, DIRECTORY_PAGING};
use crate::directory::record::Projection;
use crate::directory::users::USER;
use crate::directory::ObjectKind;
use crate::error::ApiError;
use crate::odata::{QueryOptions, Segment};

pub(super) fn directory(
    ctx: &Ctx<'_>,
    segs: &[Segment],
    opts: &QueryOptions,
    method: &Method,
) -> Result<Reply, ApiError> {
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
