//! `/users`: list, create, `$count`, and one user by id or UPN.

use http::Method;
use serde_json::Value;

use super::context::ContextUrl;
use super::wire::{self, Projected};
use super::{
    annotated, collection, is_eventual, json_body, key_of, reject_collection_options, segment_text, Ctx, Reply,
};
use crate::authz::SensitiveAction;
use crate::directory::query::{projection_for, ListPlan, DIRECTORY_PAGING};
use crate::directory::record::Projection;
use crate::directory::users::USER;
use crate::error::ApiError;
use crate::odata::{QueryOptions, Segment, SelectList};

pub(super) fn users(ctx: &Ctx<'_>, segs: &[Segment], opts: &QueryOptions, method: &Method) -> Result<Reply, ApiError> {
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
        [Segment::Identifier(name), Segment::Parens(args)] if name == "delta" && args.is_empty() => {
            super::delta::delta(ctx, super::delta::Tracked::Users, opts, method)
        }
        // `/users/delta` without parentheses is what next and delta links use; a
        // UPN always has an `@`, so it cannot be a user key.
        [Segment::Identifier(name)] if name == "delta" => {
            super::delta::delta(ctx, super::delta::Tracked::Users, opts, method)
        }
        _ => {
            let Some((key, rest)) = key_of(segs) else {
                return Err(ApiError::unknown_segment(&segs.first().map(segment_text).unwrap_or_default()));
            };
            match rest {
                [] => user_item(ctx, &key, opts, method),
                [Segment::Identifier(nav), ..]
                    if matches!(
                        &**nav,
                        "manager" | "memberOf" | "directReports" | "licenseDetails" | "assignLicense"
                    ) =>
                {
                    super::groups::user_relation(ctx, &key, rest, method)
                }
                [Segment::Identifier(nav)] if nav == "appRoleAssignments" => {
                    super::applications::user_app_role_assignments(ctx, &key, opts, method)
                }
                [Segment::Identifier(nav), ..]
                    if super::directory_objects::is_member_route(super::directory_objects::Family::Users, nav) =>
                {
                    super::directory_objects::member_route(
                        ctx,
                        super::directory_objects::Family::Users,
                        &key,
                        rest,
                        method,
                    )
                }
                [s, ..] => Err(ApiError::unknown_segment(&segment_text(s))),
            }
        }
    }
}

fn list_users(ctx: &Ctx<'_>, opts: &QueryOptions) -> Result<Reply, ApiError> {
    let plan = ListPlan::new(&USER, opts, is_eventual(ctx.req), DIRECTORY_PAGING)?;
    let dir = ctx.tenant.read();
    // An indexed prefix answers the common `startswith(displayName, …)` without
    // walking every user.
    let page = match plan.prefix_on("displayName") {
        Some(prefix) => plan.run_candidates(&dir.users, dir.users_with_name_prefix(prefix)),
        None => plan.run(&dir.users),
    };
    if opts.expand.is_empty() {
        return Ok(super::serialized_page(ctx, "users", &plan, &page));
    }
    Ok(collection(ctx, "users", &plan, page, |r| {
        let mut item = r.project(&USER, &plan.projection);
        super::groups::expand(&dir, r.id, &mut item, &opts.expand);
        item
    }))
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
            let (projection, selected) = projection_for(&USER, opts.select.as_ref().map(SelectList::iter))?;
            crate::directory::query::check_expand(&USER, &opts.expand)?;
            let dir = ctx.tenant.read();
            let id = dir.find_user(key).ok_or_else(|| ApiError::not_found(key))?;
            let context =
                ContextUrl { graph_url: &ctx.graph_url, set: "users", selected: selected.as_deref(), entity: true }
                    .shared();
            let record = &dir.users[&id];
            if opts.expand.is_empty() {
                let annotations = [("@odata.context", &*context)];
                let view = Projected { record, schema: &USER, fields: &projection, annotations: &annotations };
                return Ok(Reply::Serialized { status: 200, json: wire::to_bytes(&view, 1) });
            }
            let mut out = record.project_annotated(&USER, &projection, &[("@odata.context", context.to_string())]);
            super::groups::expand(&dir, id, &mut out, &opts.expand);
            drop(dir);
            Ok(Reply::Json { status: 200, body: Value::Object(out), location: None })
        }
        Method::PATCH => {
            crate::authz::check(&ctx.principal, "users.update")?;
            let body = json_body(ctx.req)?;
            let now = ctx.tenant.clock.now();
            let mut dir = ctx.tenant.write();
            let id = dir.find_user(key).ok_or_else(|| ApiError::not_found(key))?;
            dir.update_user(id, &body, now, |touched, target_roles| {
                crate::authz::check_sensitive(&ctx.principal, SensitiveAction::Update, touched, target_roles)
            })?;
            Ok(Reply::NoContent)
        }
        Method::DELETE => {
            crate::authz::check(&ctx.principal, "users.delete")?;
            let now = ctx.tenant.clock.now();
            let mut dir = ctx.tenant.write();
            let id = dir.find_user(key).ok_or_else(|| ApiError::not_found(key))?;
            let target_roles = dir.role_template_ids_of(id);
            crate::authz::check_sensitive(&ctx.principal, SensitiveAction::Delete, &[], &target_roles)?;
            dir.delete_user(id, now)?;
            Ok(Reply::NoContent)
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}
