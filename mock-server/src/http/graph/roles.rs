//! `/directoryRoles`, `/directoryRoleTemplates` and
//! `/roleManagement/directory/{roleDefinitions,roleAssignments}`.

use http::Method;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{
    collection, directory_object, entity, is_eventual, json_body, objects, reference_target, segment_text,
    serialized_page, Ctx, Reply,
};
use crate::directory::query::{check_expand, projection_for, ListPlan, PageBounds, DIRECTORY_PAGING};
use crate::directory::record::{Projection, Record};
use crate::directory::roles::{role_definitions_json, templates_json, DIRECTORY_ROLE, ROLE_ASSIGNMENT};
use crate::error::ApiError;
use crate::odata::{KeyArg, Literal, QueryOptions, Segment, SelectList};

/// `directoryRoles` and their members are not paged.
const UNPAGED: PageBounds = PageBounds { default_size: 100_000, max_size: 999 };

/// A fixed list (templates, definitions) takes `$select` only.
fn fixed_list(
    ctx: &Ctx<'_>,
    set: &str,
    items: Vec<Map<String, Value>>,
    opts: &QueryOptions,
) -> Result<Reply, ApiError> {
    if opts.filter.is_some() || opts.search.is_some() || !opts.orderby.is_empty() || opts.top.is_some() {
        return Err(ApiError::bad_request(format!("Only $select is supported on /{set}.")));
    }
    let items: Vec<Value> = items
        .into_iter()
        .map(|item| match &opts.select {
            Some(names) => Value::Object(
                item.into_iter().filter(|(k, _)| names.iter().any(|n| n.eq_ignore_ascii_case(k))).collect(),
            ),
            None => Value::Object(item),
        })
        .collect();
    let mut body = Map::new();
    body.insert("@odata.context".into(), Value::String(format!("{}/$metadata#{set}", ctx.graph_url)));
    body.insert("value".into(), Value::Array(items));
    Ok(Reply::Json { status: 200, body: Value::Object(body), location: None })
}

fn find_in(items: Vec<Map<String, Value>>, id: &str) -> Option<Map<String, Value>> {
    items.into_iter().find(|t| t.get("id").and_then(Value::as_str).is_some_and(|x| x.eq_ignore_ascii_case(id)))
}

pub(super) fn directory_role_templates(
    ctx: &Ctx<'_>,
    segs: &[Segment],
    opts: &QueryOptions,
    method: &Method,
) -> Result<Reply, ApiError> {
    if *method != Method::GET {
        return Err(ApiError::method_not_allowed());
    }
    crate::authz::check(&ctx.principal, "directoryRoleTemplates.list")?;
    match segs {
        [] => fixed_list(ctx, "directoryRoleTemplates", templates_json(), opts),
        [Segment::Identifier(id)] => {
            let t = find_in(templates_json(), id).ok_or_else(|| ApiError::not_found(id))?;
            Ok(Reply::Json { status: 200, body: entity(ctx, "directoryRoleTemplates", t), location: None })
        }
        [s, ..] => Err(ApiError::unknown_segment(&segment_text(s))),
    }
}

pub(super) fn directory_roles(
    ctx: &Ctx<'_>,
    segs: &[Segment],
    opts: &QueryOptions,
    method: &Method,
) -> Result<Reply, ApiError> {
    let authz = |op: &str| crate::authz::check(&ctx.principal, op);
    let (key, by_template, rest) = match segs {
        [] => {
            return match *method {
                Method::GET => {
                    authz("directoryRoles.list")?;
                    let plan = ListPlan::new(&DIRECTORY_ROLE, opts, is_eventual(ctx.req), UNPAGED)?;
                    let dir = ctx.tenant.read();
                    let page = plan.run(&dir.directory_roles);
                    Ok(serialized_page(ctx, "directoryRoles", &plan, &page))
                }
                Method::POST => {
                    authz("directoryRoles.activate")?;
                    let body = json_body(ctx.req)?;
                    let mut dir = ctx.tenant.write();
                    let id = dir.activate_directory_role(&body)?;
                    let out =
                        dir.directory_roles[&id].project(&DIRECTORY_ROLE, &Projection::default_set(&DIRECTORY_ROLE));
                    Ok(Reply::Json { status: 201, body: entity(ctx, "directoryRoles", out), location: None })
                }
                _ => Err(ApiError::method_not_allowed()),
            }
        }
        [Segment::Parens(args), rest @ ..] => match args.as_slice() {
            [KeyArg { name: Some(n), value: Literal::String(s) }] if n == "roleTemplateId" => (s.clone(), true, rest),
            [KeyArg { name: Some(n), value: Literal::Guid(g) }] if n == "roleTemplateId" => (g.to_string(), true, rest),
            [KeyArg { name: None, value: Literal::String(s) }] => (s.clone(), false, rest),
            [KeyArg { name: None, value: Literal::Guid(g) }] => (g.to_string(), false, rest),
            _ => return Err(ApiError::bad_request("The key in parentheses is not valid; use (roleTemplateId='…').")),
        },
        // `roleTemplateId={id}` as a path segment is how the reference writes it.
        [Segment::Identifier(k), rest @ ..] => match k.strip_prefix("roleTemplateId=") {
            Some(t) => (t.trim_matches('\'').to_owned(), true, rest),
            None => (k.to_string(), false, rest),
        },
        [s, ..] => return Err(ApiError::unknown_segment(&segment_text(s))),
    };
    let find = |dir: &crate::directory::Directory| {
        dir.find_directory_role(&key, by_template).ok_or_else(|| ApiError::not_found(&key))
    };
    match (rest, method) {
        ([], &Method::GET) => {
            authz("directoryRoles.get")?;
            let dir = ctx.tenant.read();
            let id = find(&dir)?;
            let out = dir.directory_roles[&id].project(&DIRECTORY_ROLE, &Projection::default_set(&DIRECTORY_ROLE));
            Ok(Reply::Json { status: 200, body: entity(ctx, "directoryRoles", out), location: None })
        }
        ([Segment::Identifier(m)], &Method::GET) if m == "members" => {
            authz("directoryRoles.members.list")?;
            let dir = ctx.tenant.read();
            let id = find(&dir)?;
            Ok(objects(ctx, &dir, dir.directory_role_members(id)))
        }
        ([Segment::Identifier(m), Segment::Ref], &Method::POST) if m == "members" => {
            authz("directoryRoles.members.add")?;
            let target = reference_target(&json_body(ctx.req)?)?;
            let mut dir = ctx.tenant.write();
            let id = find(&dir)?;
            dir.add_directory_role_member(id, target)?;
            Ok(Reply::NoContent)
        }
        ([Segment::Identifier(m), Segment::Identifier(member), Segment::Ref], &Method::DELETE) if m == "members" => {
            authz("directoryRoles.members.remove")?;
            let member = Uuid::parse_str(member).map_err(|_| ApiError::not_found(member))?;
            let mut dir = ctx.tenant.write();
            let id = find(&dir)?;
            dir.remove_directory_role_member(id, member)?;
            Ok(Reply::NoContent)
        }
        ([], _) => Err(ApiError::method_not_allowed()),
        ([Segment::Identifier(m), ..], _) if m == "members" => Err(ApiError::method_not_allowed()),
        ([s, ..], _) => Err(ApiError::unknown_segment(&segment_text(s))),
    }
}

pub(super) fn role_management(
    ctx: &Ctx<'_>,
    segs: &[Segment],
    opts: &QueryOptions,
    method: &Method,
) -> Result<Reply, ApiError> {
    let authz = |op: &str| crate::authz::check(&ctx.principal, op);
    let (Some(Segment::Identifier(provider)), Some(Segment::Identifier(set))) = (segs.first(), segs.get(1)) else {
        return Err(ApiError::unknown_segment(
            &segs.first().map(segment_text).unwrap_or_else(|| "roleManagement".into()),
        ));
    };
    if provider != "directory" {
        return Err(ApiError::unknown_segment(provider));
    }
    let rest = &segs[2..];
    match (&**set, rest, method) {
        ("roleDefinitions", [], &Method::GET) => {
            authz("roleManagement.directory.roleDefinitions.list")?;
            fixed_list(ctx, "roleManagement/directory/roleDefinitions", role_definitions_json(), opts)
        }
        ("roleDefinitions", [Segment::Identifier(id)], &Method::GET) => {
            authz("roleManagement.directory.roleDefinitions.list")?;
            let d = find_in(role_definitions_json(), id).ok_or_else(|| ApiError::not_found(id))?;
            Ok(Reply::Json {
                status: 200,
                body: entity(ctx, "roleManagement/directory/roleDefinitions", d),
                location: None,
            })
        }
        ("roleAssignments", [], &Method::GET) => {
            authz("roleManagement.directory.roleAssignments.list")?;
            let plan = ListPlan::new(&ROLE_ASSIGNMENT, opts, is_eventual(ctx.req), DIRECTORY_PAGING)?;
            let dir = ctx.tenant.read();
            let page = plan.run(&dir.role_assignments);
            if opts.expand.is_empty() {
                return Ok(serialized_page(ctx, "roleManagement/directory/roleAssignments", &plan, &page));
            }
            Ok(collection(ctx, "roleManagement/directory/roleAssignments", &plan, page, |r| {
                let mut item = r.project(&ROLE_ASSIGNMENT, &plan.projection);
                expand_assignment(&dir, r, &mut item, &opts.expand);
                item
            }))
        }
        ("roleAssignments", [], &Method::POST) => {
            authz("roleManagement.directory.roleAssignments.create")?;
            let body = json_body(ctx.req)?;
            let mut dir = ctx.tenant.write();
            let key = dir.create_role_assignment(&body)?;
            let out = dir.role_assignments[&key].project(&ROLE_ASSIGNMENT, &Projection::default_set(&ROLE_ASSIGNMENT));
            Ok(Reply::Json {
                status: 201,
                body: entity(ctx, "roleManagement/directory/roleAssignments", out),
                location: None,
            })
        }
        ("roleAssignments", [Segment::Identifier(id)], &Method::GET) => {
            authz("roleManagement.directory.roleAssignments.get")?;
            let dir = ctx.tenant.read();
            let (projection, _) = projection_for(&ROLE_ASSIGNMENT, opts.select.as_ref().map(SelectList::iter))?;
            check_expand(&ROLE_ASSIGNMENT, &opts.expand)?;
            let key = dir.find_role_assignment(id).ok_or_else(|| ApiError::not_found(id))?;
            let record = &dir.role_assignments[&key];
            let mut out = record.project(&ROLE_ASSIGNMENT, &projection);
            expand_assignment(&dir, record, &mut out, &opts.expand);
            Ok(Reply::Json {
                status: 200,
                body: entity(ctx, "roleManagement/directory/roleAssignments", out),
                location: None,
            })
        }
        ("roleAssignments", [Segment::Identifier(id)], &Method::DELETE) => {
            authz("roleManagement.directory.roleAssignments.delete")?;
            let mut dir = ctx.tenant.write();
            let key = dir.find_role_assignment(id).ok_or_else(|| ApiError::not_found(id))?;
            dir.role_assignments.remove(&key);
            Ok(Reply::NoContent)
        }
        ("roleDefinitions" | "roleAssignments", [] | [Segment::Identifier(_)], _) => {
            Err(ApiError::method_not_allowed())
        }
        ("roleDefinitions" | "roleAssignments", [s, ..], _) => Err(ApiError::unknown_segment(&segment_text(s))),
        (other, _, _) => Err(ApiError::unknown_segment(other)),
    }
}

/// A role assignment's `$expand`: `roleDefinition` (the built-in definition
/// it names) and `principal` (the directory object it is assigned to), each
/// with its own `$select` if one was given.
fn expand_assignment(
    dir: &crate::directory::Directory,
    record: &Record,
    item: &mut Map<String, Value>,
    expand: &[crate::odata::ExpandItem],
) {
    let text = |name: &str| record.get(&ROLE_ASSIGNMENT, name).and_then(Value::as_str).map(str::to_owned);
    for e in expand {
        let found = match e.property.as_str() {
            "roleDefinition" => text("roleDefinitionId").and_then(|id| find_in(role_definitions_json(), &id)),
            "principal" => {
                text("principalId").and_then(|id| Uuid::parse_str(&id).ok()).and_then(|id| directory_object(dir, id))
            }
            _ => continue,
        };
        let value = match found {
            Some(mut obj) => {
                if let Some(names) = &e.select {
                    obj.retain(|k, _| k.starts_with('@') || names.iter().any(|n| n.eq_ignore_ascii_case(k)));
                }
                Value::Object(obj)
            }
            None => Value::Null,
        };
        item.insert(e.property.clone(), value);
    }
}
