//! `/directoryObjects` (get, `getByIds`) and the member checks every principal
//! type shares: `checkMemberGroups`, `getMemberGroups`, `checkMemberObjects`,
//! `getMemberObjects`, `transitiveMemberOf`, and a group's `transitiveMembers`
//! — on `/directoryObjects/{id}`, `/users/{id}`, `/groups/{id}` and
//! `/servicePrincipals/{id}`. Shapes and limits as Microsoft's Graph reference
//! pages give them (`directoryobject-getbyids`, `user-checkmembergroups`, …):
//! ids come back as `Collection(Edm.String)`; at most 20 ids to check,
//! 1 000 to resolve.

use http::Method;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{annotated, directory_object, json_body, objects, segment_text, Ctx, Reply};
use crate::directory::applications::APPLICATION;
use crate::directory::record::Projection;
use crate::directory::Directory;
use crate::error::ApiError;
use crate::odata::Segment;

/// Which collection a member route hangs off (its operation names' prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Family {
    DirectoryObjects,
    Users,
    Groups,
    ServicePrincipals,
}

impl Family {
    fn prefix(self) -> &'static str {
        match self {
            Family::DirectoryObjects => "directoryObjects",
            Family::Users => "users",
            Family::Groups => "groups",
            Family::ServicePrincipals => "servicePrincipals",
        }
    }

    fn resolve(self, dir: &Directory, key: &str) -> Option<Uuid> {
        let id = Uuid::parse_str(key).ok();
        match self {
            Family::Users => dir.find_user(key),
            Family::Groups => id.filter(|id| dir.groups.contains_key(id)),
            Family::ServicePrincipals => dir.find_service_principal(key, false),
            Family::DirectoryObjects => id.filter(|id| object_of(dir, *id).is_some()),
        }
    }
}

/// Checks with at most this many ids (`checkMemberGroups`, `checkMemberObjects`).
const MAX_CHECKED: usize = 20;
/// `getByIds` resolves at most this many ids.
const MAX_BY_IDS: usize = 1000;

/// Whether `name` is one of the member routes under an object.
pub(super) fn is_member_route(family: Family, name: &str) -> bool {
    matches!(
        name,
        "checkMemberGroups" | "getMemberGroups" | "checkMemberObjects" | "getMemberObjects" | "transitiveMemberOf"
    ) || (family == Family::Groups && name == "transitiveMembers")
}

/// `/directoryObjects…`.
pub(super) fn directory_objects(ctx: &Ctx<'_>, segs: &[Segment], method: &Method) -> Result<Reply, ApiError> {
    match (segs, method) {
        ([Segment::Identifier(action)], &Method::POST) if action == "getByIds" => get_by_ids(ctx),
        ([Segment::Identifier(key)], &Method::GET) => {
            crate::authz::check(&ctx.principal, "directoryObjects.get")?;
            let dir = ctx.tenant.read();
            let body =
                Uuid::parse_str(key).ok().and_then(|id| object_of(&dir, id)).ok_or_else(|| ApiError::not_found(key))?;
            let context = format!("{}/$metadata#directoryObjects/$entity", ctx.graph_url);
            Ok(Reply::Json {
                status: 200,
                body: Value::Object(annotated(&[("@odata.context", context)], body)),
                location: None,
            })
        }
        ([Segment::Identifier(key)], &Method::DELETE) => delete(ctx, key),
        ([Segment::Identifier(key), rest @ ..], _) if !rest.is_empty() => {
            member_route(ctx, Family::DirectoryObjects, key, rest, method)
        }
        ([] | [_], _) => Err(ApiError::method_not_allowed()),
        ([s, ..], _) => Err(ApiError::unknown_segment(&segment_text(s))),
    }
}

/// The operations `DELETE /directoryObjects/{id}` stands for, by the type of
/// the object it finds (`directoryobject-delete`: each type's own permission).
const DELETES: [&str; 4] = ["users.delete", "groups.delete", "applications.delete", "servicePrincipals.delete"];

/// `DELETE /directoryObjects/{id}`: the type-specific delete of whatever the id
/// names, with that type's permission and, for a user, the sensitive-action
/// check — so going through `directoryObjects` never allows more.
fn delete(ctx: &Ctx<'_>, key: &str) -> Result<Reply, ApiError> {
    // A caller that may delete nothing learns nothing about which ids exist.
    if let Err(refused) = crate::authz::check(&ctx.principal, DELETES[0]) {
        if DELETES[1..].iter().all(|op| crate::authz::check(&ctx.principal, op).is_err()) {
            return Err(refused);
        }
    }
    let now = ctx.tenant.clock.now();
    let mut dir = ctx.tenant.write();
    let id = Uuid::parse_str(key).map_err(|_| ApiError::not_found(key))?;
    if dir.users.contains_key(&id) {
        crate::authz::check(&ctx.principal, "users.delete")?;
        let target_roles = dir.role_template_ids_of(id);
        crate::authz::check_sensitive(&ctx.principal, crate::authz::SensitiveAction::Delete, &[], &target_roles)?;
        dir.delete_user(id, now)?;
    } else if dir.groups.contains_key(&id) {
        crate::authz::check(&ctx.principal, "groups.delete")?;
        dir.delete_group(id, now)?;
    } else if dir.applications.contains_key(&id) {
        crate::authz::check(&ctx.principal, "applications.delete")?;
        dir.delete_application(id, now)?;
    } else if dir.service_principals.contains_key(&id) {
        crate::authz::check(&ctx.principal, "servicePrincipals.delete")?;
        dir.delete_service_principal(id, now)?;
    } else if dir.directory_roles.contains_key(&id) {
        // Graph's page lists four deletable types; an activated directory role
        // is not one of them (the exact refusal is a guess: Graph's generic
        // 400 for an operation the object's type does not support).
        return Err(ApiError::request_bad_request(
            "Delete is not supported for objects of type 'microsoft.graph.directoryRole'.",
        ));
    } else {
        return Err(ApiError::not_found(key));
    }
    Ok(Reply::NoContent)
}

/// A directory object with its `@odata.type`: what `directory_object` shows,
/// and applications, which `getByIds` also resolves.
pub(super) fn object_of(dir: &Directory, id: Uuid) -> Option<Map<String, Value>> {
    if let Some(obj) = directory_object(dir, id) {
        return Some(obj);
    }
    dir.applications.get(&id).map(|r| {
        r.project_annotated(
            &APPLICATION,
            &Projection::default_set(&APPLICATION),
            &[("@odata.type", "#microsoft.graph.application".into())],
        )
    })
}

/// `POST /directoryObjects/getByIds` `{"ids": [...], "types": [...]}`.
fn get_by_ids(ctx: &Ctx<'_>) -> Result<Reply, ApiError> {
    crate::authz::check(&ctx.principal, "directoryObjects.getByIds")?;
    let body = json_body(ctx.req)?;
    let ids = string_list(&body, "ids")?.ok_or_else(|| ApiError::value_required("ids", "directoryObject"))?;
    if ids.len() > MAX_BY_IDS {
        return Err(ApiError::request_bad_request(format!(
            "Too many ids: getByIds resolves at most {MAX_BY_IDS} per request."
        )));
    }
    let ids = ids
        .iter()
        .map(|s| {
            Uuid::parse_str(s).map_err(|_| ApiError::request_bad_request(format!("Invalid object identifier '{s}'.")))
        })
        .collect::<Result<Vec<Uuid>, ApiError>>()?;
    // `types` names resource collections, with or without the namespace.
    let types = match string_list(&body, "types")? {
        None => None,
        Some(types) => Some(
            types
                .iter()
                .map(|t| {
                    let bare = t.strip_prefix("microsoft.graph.").unwrap_or(t);
                    KNOWN_TYPES.iter().find(|k| k.eq_ignore_ascii_case(bare)).copied().ok_or_else(|| {
                        ApiError::request_bad_request(format!("Invalid value '{t}' for parameter 'types'."))
                    })
                })
                .collect::<Result<Vec<&str>, ApiError>>()?,
        ),
    };
    let dir = ctx.tenant.read();
    let mut value = Vec::new();
    for id in ids {
        let Some(obj) = object_of(&dir, id) else { continue };
        let ty = obj.get("@odata.type").and_then(Value::as_str).unwrap_or("").trim_start_matches("#microsoft.graph.");
        if types.as_ref().is_none_or(|t| t.iter().any(|k| k.eq_ignore_ascii_case(ty))) {
            value.push(Value::Object(obj));
        }
    }
    let mut out = Map::new();
    out.insert("@odata.context".into(), Value::String(format!("{}/$metadata#directoryObjects", ctx.graph_url)));
    out.insert("value".into(), Value::Array(value));
    Ok(Reply::Json { status: 200, body: Value::Object(out), location: None })
}

/// The directory object types `getByIds` accepts in `types` (the ones a
/// tenant here can hold, and the others Graph knows, which match nothing).
const KNOWN_TYPES: &[&str] = &[
    "user",
    "group",
    "servicePrincipal",
    "application",
    "directoryRole",
    "device",
    "orgContact",
    "administrativeUnit",
    "directoryObjectPartnerReference",
];

/// `…/{id}/{member route}`.
pub(super) fn member_route(
    ctx: &Ctx<'_>,
    family: Family,
    key: &str,
    rest: &[Segment],
    method: &Method,
) -> Result<Reply, ApiError> {
    let action = match rest {
        [Segment::Identifier(a)] if is_member_route(family, a) => &**a,
        [Segment::Identifier(a), s, ..] if is_member_route(family, a) => {
            return Err(ApiError::unknown_segment(&segment_text(s)))
        }
        [s, ..] => return Err(ApiError::unknown_segment(&segment_text(s))),
        [] => return Err(ApiError::method_not_allowed()),
    };
    let listing = matches!(action, "transitiveMemberOf" | "transitiveMembers");
    match (listing, method) {
        (true, &Method::GET) | (false, &Method::POST) => {}
        _ => return Err(ApiError::method_not_allowed()),
    }
    let operation = match action {
        "transitiveMemberOf" | "transitiveMembers" => format!("{}.{action}.list", family.prefix()),
        _ => format!("{}.{action}", family.prefix()),
    };
    crate::authz::check(&ctx.principal, &operation)?;
    let body = if listing { Map::new() } else { json_body(ctx.req)? };
    let dir = ctx.tenant.read();
    let id = family.resolve(&dir, key).ok_or_else(|| ApiError::not_found(key))?;
    match action {
        "transitiveMemberOf" => Ok(objects(ctx, &dir, dir.transitive_member_of(id))),
        "transitiveMembers" => Ok(objects(ctx, &dir, dir.transitive_members(id))),
        "checkMemberGroups" => {
            let asked = checked_ids(&body, "groupIds")?;
            let groups = dir.transitive_groups_of(id);
            Ok(strings(ctx, asked.into_iter().filter(|g| groups.contains(g)).collect()))
        }
        "checkMemberObjects" => {
            let asked = checked_ids(&body, "ids")?;
            let objects = dir.transitive_member_of(id);
            Ok(strings(ctx, asked.into_iter().filter(|o| objects.contains(o)).collect()))
        }
        "getMemberGroups" => {
            let security_only = security_enabled_only(&body)?;
            let groups = dir.transitive_groups_of(id);
            Ok(strings(ctx, groups.into_iter().filter(|g| !security_only || dir.is_security_group(*g)).collect()))
        }
        "getMemberObjects" => {
            let security_only = security_enabled_only(&body)?;
            let objects = dir.transitive_member_of(id);
            // Directory roles are security principals; only groups are filtered.
            let kept = objects
                .into_iter()
                .filter(|o| !security_only || !dir.groups.contains_key(o) || dir.is_security_group(*o))
                .collect();
            Ok(strings(ctx, kept))
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}

/// A string collection member of a body; `None` when absent or null.
fn string_list(body: &Map<String, Value>, name: &str) -> Result<Option<Vec<String>>, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or_else(ApiError::invalid_values))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(ApiError::invalid_values()),
    }
}

/// The ids a check asks about: required, at most [`MAX_CHECKED`], GUIDs.
fn checked_ids(body: &Map<String, Value>, name: &str) -> Result<Vec<Uuid>, ApiError> {
    let ids = string_list(body, name)?.ok_or_else(|| ApiError::value_required(name, "directoryObject"))?;
    if ids.len() > MAX_CHECKED {
        return Err(ApiError::request_bad_request(format!(
            "The request asks about {} ids; '{name}' may hold at most {MAX_CHECKED}.",
            ids.len()
        )));
    }
    ids.iter()
        .map(|s| {
            Uuid::parse_str(s).map_err(|_| ApiError::request_bad_request(format!("Invalid object identifier '{s}'.")))
        })
        .collect()
}

/// `securityEnabledOnly`: required, a Boolean.
fn security_enabled_only(body: &Map<String, Value>) -> Result<bool, ApiError> {
    match body.get("securityEnabledOnly") {
        Some(Value::Bool(b)) => Ok(*b),
        None | Some(Value::Null) => Err(ApiError::value_required("securityEnabledOnly", "directoryObject")),
        Some(_) => Err(ApiError::invalid_values()),
    }
}

/// `{"@odata.context": "…#Collection(Edm.String)", "value": [ids]}`.
fn strings(ctx: &Ctx<'_>, ids: Vec<Uuid>) -> Reply {
    let mut out = Map::new();
    out.insert("@odata.context".into(), Value::String(format!("{}/$metadata#Collection(Edm.String)", ctx.graph_url)));
    out.insert("value".into(), Value::Array(ids.into_iter().map(|id| Value::String(id.to_string())).collect()));
    Reply::Json { status: 200, body: Value::Object(out), location: None }
}
