//! `/groups` with members and owners, and the user's relations: `manager`,
//! `directReports`, `memberOf`, `licenseDetails`, `assignLicense`.

use http::Method;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{
    annotated, collection, directory_object, entity, is_eventual, json_body, key_of, objects, reference_target,
    reject_collection_options, segment_text, shape, Ctx, Reply,
};
use crate::directory::csdl;
use crate::directory::groups::{Link, GROUP};
use crate::directory::query::{check_expand, projection_for, ListPlan, DIRECTORY_PAGING};
use crate::directory::record::Projection;
use crate::directory::users::USER;
use crate::directory::Directory;
use crate::error::ApiError;
use crate::odata::{QueryOptions, Segment, SelectList};

pub(super) fn groups(ctx: &Ctx<'_>, segs: &[Segment], opts: &QueryOptions, method: &Method) -> Result<Reply, ApiError> {
    let authz = |op: &str| crate::authz::check(&ctx.principal, op);
    if let [Segment::Identifier(name)] | [Segment::Identifier(name), Segment::Parens(_)] = segs {
        if name == "delta" {
            return super::delta::delta(ctx, super::delta::Tracked::Groups, opts, method);
        }
    }
    let Some((key, rest)) = key_of(segs) else {
        return match (segs, method) {
            ([], &Method::GET) => {
                authz("groups.list")?;
                let plan = ListPlan::new(&GROUP, opts, is_eventual(ctx.req), DIRECTORY_PAGING)?;
                let dir = ctx.tenant.read();
                let page = plan.run(&dir.groups);
                if opts.expand.is_empty() {
                    return Ok(super::serialized_page(ctx, "groups", &plan, &page));
                }
                Ok(collection(ctx, "groups", &plan, page, |r| {
                    let mut item = r.project(&GROUP, &plan.projection);
                    expand(&dir, r.id, &mut item, &opts.expand);
                    item
                }))
            }
            ([], &Method::POST) => {
                authz("groups.create")?;
                let body = json_body(ctx.req)?;
                let now = ctx.tenant.clock.now();
                let mut dir = ctx.tenant.write();
                let id = dir.create_group(&body, now)?;
                let out = dir.groups[&id].project(&GROUP, &Projection::default_set(&GROUP));
                let location = format!("{}/groups/{id}", ctx.graph_url);
                Ok(Reply::Json { status: 201, body: entity(ctx, "groups", out), location: Some(location) })
            }
            ([], _) => Err(ApiError::method_not_allowed()),
            ([s, ..], _) => Err(ApiError::unknown_segment(&segment_text(s))),
        };
    };
    let find = |dir: &Directory| {
        Uuid::parse_str(&key).ok().filter(|id| dir.groups.contains_key(id)).ok_or_else(|| ApiError::not_found(&key))
    };
    let link_of = |name: &str| match name {
        "members" => Some(Link::Members),
        "owners" => Some(Link::Owners),
        _ => None,
    };
    match (rest, method) {
        ([], &Method::GET) => {
            authz("groups.get")?;
            reject_collection_options(opts)?;
            let (projection, selected) = projection_for(&GROUP, opts.select.as_ref().map(SelectList::iter))?;
            check_expand(&GROUP, &opts.expand)?;
            let dir = ctx.tenant.read();
            let id = find(&dir)?;
            let mut item = dir.groups[&id].project(&GROUP, &projection);
            // As on the list: `$expand=members` / `owners` (at most 20 each).
            expand(&dir, id, &mut item, &opts.expand);
            // As for users: `$select` shows in the context URL.
            let set = match &selected {
                Some(names) => format!("groups({})", names.join(",")),
                None => "groups".to_owned(),
            };
            Ok(Reply::Json { status: 200, body: entity(ctx, &set, item), location: None })
        }
        ([], &Method::PATCH) => {
            authz("groups.update")?;
            let body = json_body(ctx.req)?;
            let mut dir = ctx.tenant.write();
            let id = find(&dir)?;
            dir.update_group(id, &body)?;
            Ok(Reply::NoContent)
        }
        ([], &Method::DELETE) => {
            authz("groups.delete")?;
            let now = ctx.tenant.clock.now();
            let mut dir = ctx.tenant.write();
            let id = find(&dir)?;
            dir.delete_group(id, now)?;
            Ok(Reply::NoContent)
        }
        ([Segment::Identifier(nav)], &Method::GET) if link_of(nav).is_some() => {
            authz("groups.get")?;
            let dir = ctx.tenant.read();
            let id = find(&dir)?;
            let ids = dir.group_link(id, link_of(nav).expect("checked by the guard"));
            Ok(objects(ctx, &dir, ids))
        }
        ([Segment::Identifier(nav), Segment::Ref], &Method::POST) if link_of(nav).is_some() => {
            authz("groups.members.add")?;
            let target = reference_target(&json_body(ctx.req)?)?;
            let mut dir = ctx.tenant.write();
            let id = find(&dir)?;
            dir.add_group_link(id, link_of(nav).expect("checked by the guard"), target)?;
            Ok(Reply::NoContent)
        }
        ([Segment::Identifier(nav), Segment::Identifier(member), Segment::Ref], &Method::DELETE)
            if link_of(nav).is_some() =>
        {
            authz("groups.members.remove")?;
            let member = Uuid::parse_str(member).map_err(|_| ApiError::not_found(member))?;
            let mut dir = ctx.tenant.write();
            let id = find(&dir)?;
            dir.remove_group_link(id, link_of(nav).expect("checked by the guard"), member)?;
            Ok(Reply::NoContent)
        }
        ([Segment::Identifier(nav), ..], _)
            if super::directory_objects::is_member_route(super::directory_objects::Family::Groups, nav) =>
        {
            super::directory_objects::member_route(ctx, super::directory_objects::Family::Groups, &key, rest, method)
        }
        ([], _) => Err(ApiError::method_not_allowed()),
        ([Segment::Identifier(nav), ..], _) if link_of(nav).is_some() => Err(ApiError::method_not_allowed()),
        ([s, ..], _) => Err(ApiError::unknown_segment(&segment_text(s))),
    }
}

/// `/users/{id}/{relation}…` for the relations a user has.
pub(super) fn user_relation(
    ctx: &Ctx<'_>,
    user_key: &str,
    rest: &[Segment],
    method: &Method,
) -> Result<Reply, ApiError> {
    let authz = |op: &str| crate::authz::check(&ctx.principal, op);
    let find = |dir: &Directory| dir.find_user(user_key).ok_or_else(|| ApiError::not_found(user_key));
    match (rest, method) {
        ([Segment::Identifier(n)], &Method::GET) if n == "manager" => {
            authz("users.manager.get")?;
            let dir = ctx.tenant.read();
            let id = find(&dir)?;
            let manager = dir.managers.get(&id).copied().filter(|m| dir.users.contains_key(m));
            let manager = manager.ok_or_else(|| ApiError::not_found(&format!("{id}/manager")))?;
            let body = directory_object(&dir, manager).ok_or_else(|| ApiError::not_found(&manager.to_string()))?;
            let body =
                annotated(&[("@odata.context", format!("{}/$metadata#directoryObjects/$entity", ctx.graph_url))], body);
            Ok(Reply::Json { status: 200, body: Value::Object(body), location: None })
        }
        ([Segment::Identifier(n), Segment::Ref], &Method::PUT) if n == "manager" => {
            authz("users.manager.set")?;
            let manager = reference_target(&json_body(ctx.req)?)?;
            let mut dir = ctx.tenant.write();
            let id = find(&dir)?;
            if !dir.users.contains_key(&manager) {
                return Err(ApiError::not_found(&manager.to_string()));
            }
            if manager == id {
                return Err(ApiError::request_bad_request("A user cannot be their own manager."));
            }
            dir.managers.insert(id, manager);
            Ok(Reply::NoContent)
        }
        ([Segment::Identifier(n), Segment::Ref], &Method::DELETE) if n == "manager" => {
            authz("users.manager.remove")?;
            let mut dir = ctx.tenant.write();
            let id = find(&dir)?;
            dir.managers.remove(&id).ok_or_else(|| ApiError::not_found(&format!("{id}/manager")))?;
            Ok(Reply::NoContent)
        }
        ([Segment::Identifier(n)], &Method::GET) if n == "directReports" => {
            authz("users.manager.get")?;
            let dir = ctx.tenant.read();
            let id = find(&dir)?;
            let reports: Vec<Uuid> = dir.managers.iter().filter(|(_, m)| **m == id).map(|(u, _)| *u).collect();
            Ok(objects(ctx, &dir, reports))
        }
        ([Segment::Identifier(n)], &Method::GET) if n == "memberOf" => {
            authz("users.memberOf.list")?;
            let dir = ctx.tenant.read();
            let id = find(&dir)?;
            let mut ids = dir.groups_of(id);
            ids.extend(dir.directory_roles_of(id));
            Ok(objects(ctx, &dir, ids))
        }
        ([Segment::Identifier(n)], &Method::GET) if n == "licenseDetails" => {
            authz("users.licenseDetails.list")?;
            let dir = ctx.tenant.read();
            let id = find(&dir)?;
            let mut body = Map::new();
            body.insert(
                "@odata.context".into(),
                Value::String(format!("{}/$metadata#users('{id}')/licenseDetails", ctx.graph_url)),
            );
            body.insert("value".into(), Value::Array(dir.license_details_json(id)));
            Ok(Reply::Json { status: 200, body: Value::Object(body), location: None })
        }
        ([Segment::Identifier(n), Segment::Identifier(detail)], &Method::GET) if n == "licenseDetails" => {
            authz("users.licenseDetails.list")?;
            let dir = ctx.tenant.read();
            let id = find(&dir)?;
            let found = dir
                .license_details_json(id)
                .into_iter()
                .find(|d| d.get("id").and_then(Value::as_str).is_some_and(|x| x.eq_ignore_ascii_case(detail)));
            let Some(Value::Object(found)) = found else { return Err(ApiError::not_found(detail)) };
            let context = format!("{}/$metadata#users('{id}')/licenseDetails/$entity", ctx.graph_url);
            Ok(Reply::Json {
                status: 200,
                body: Value::Object(annotated(&[("@odata.context", context)], found)),
                location: None,
            })
        }
        ([Segment::Identifier(n)], &Method::POST) if n == "assignLicense" => {
            authz("users.assignLicense")?;
            let body = json_body(ctx.req)?;
            let now = ctx.tenant.clock.now();
            let mut dir = ctx.tenant.write();
            let id = find(&dir)?;
            dir.assign_license(id, &body, now)?;
            let out = dir.users[&id].project(&USER, &Projection::default_set(&USER));
            Ok(Reply::Json { status: 200, body: entity(ctx, "users", out), location: None })
        }
        ([Segment::Identifier(n), ..], _)
            if matches!(&**n, "manager" | "directReports" | "memberOf" | "licenseDetails" | "assignLicense") =>
        {
            Err(ApiError::method_not_allowed())
        }
        ([s, ..], _) => Err(ApiError::unknown_segment(&segment_text(s))),
        ([], _) => Err(ApiError::method_not_allowed()),
    }
}

/// `/domains` and `/subscribedSkus`.
pub(super) fn domains(
    ctx: &Ctx<'_>,
    segs: &[Segment],
    opts: &QueryOptions,
    method: &Method,
) -> Result<Reply, ApiError> {
    let authz = |op: &str| crate::authz::check(&ctx.principal, op);
    let selected = shape::selection(csdl::DOMAIN, "microsoft.graph.domain", opts.select.as_ref())?;
    let selected = selected.as_deref();
    let list = |dir: &Directory| -> Value {
        let mut body = Map::new();
        body.insert("@odata.context".into(), Value::String(shape::context(&ctx.graph_url, "domains", selected, false)));
        body.insert(
            "value".into(),
            Value::Array(
                dir.domains.iter().map(|d| Value::Object(shape::apply(dir.domain_json(d), selected))).collect(),
            ),
        );
        Value::Object(body)
    };
    match (segs, method) {
        ([], &Method::GET) => {
            authz("domains.list")?;
            Ok(Reply::Json { status: 200, body: list(&ctx.tenant.read()), location: None })
        }
        ([], &Method::POST) => {
            authz("domains.create")?;
            let body = json_body(ctx.req)?;
            let mut dir = ctx.tenant.write();
            let name = dir.add_domain(&body)?;
            let out = dir.domain_json(dir.domains.iter().find(|d| d.name == name).expect("just added"));
            Ok(Reply::Json { status: 201, body: entity(ctx, "domains", out), location: None })
        }
        ([Segment::Identifier(name)], &Method::GET) => {
            authz("domains.list")?;
            let dir = ctx.tenant.read();
            let d = dir.domain(name).ok_or_else(|| ApiError::not_found(name))?;
            let body = annotated(
                &[("@odata.context", shape::context(&ctx.graph_url, "domains", selected, true))],
                shape::apply(dir.domain_json(d), selected),
            );
            Ok(Reply::Json { status: 200, body: Value::Object(body), location: None })
        }
        ([Segment::Identifier(name)], &Method::DELETE) => {
            authz("domains.delete")?;
            ctx.tenant.write().delete_domain(name, ctx.tenant.domain_claims())?;
            Ok(Reply::NoContent)
        }
        ([Segment::Identifier(name), Segment::Identifier(action)], &Method::POST) if action == "verify" => {
            authz("domains.verify")?;
            let mut dir = ctx.tenant.write();
            dir.verify_domain(name, ctx.tenant.domain_claims())?;
            let d = dir.domain(name).expect("verified above");
            Ok(Reply::Json { status: 200, body: entity(ctx, "domains", dir.domain_json(d)), location: None })
        }
        ([Segment::Identifier(name), Segment::Identifier(nav)], &Method::GET) if nav == "verificationDnsRecords" => {
            authz("domains.list")?;
            let dir = ctx.tenant.read();
            let d = dir.domain(name).ok_or_else(|| ApiError::not_found(name))?;
            let mut body = Map::new();
            body.insert(
                "@odata.context".into(),
                Value::String(format!("{}/$metadata#domains('{}')/verificationDnsRecords", ctx.graph_url, d.name)),
            );
            body.insert("value".into(), Value::Array(vec![dir.verification_record(d)]));
            Ok(Reply::Json { status: 200, body: Value::Object(body), location: None })
        }
        ([Segment::Identifier(name), Segment::Identifier(nav), rest @ ..], _) if nav == "federationConfiguration" => {
            federation_configuration(ctx, name, rest, method)
        }
        ([Segment::Identifier(name), Segment::Identifier(nav)], &Method::GET)
            if nav == "serviceConfigurationRecords" =>
        {
            authz("domains.list")?;
            let dir = ctx.tenant.read();
            let d = dir.domain(name).ok_or_else(|| ApiError::not_found(name))?;
            let mut body = Map::new();
            body.insert(
                "@odata.context".into(),
                Value::String(format!("{}/$metadata#domains('{}')/serviceConfigurationRecords", ctx.graph_url, d.name)),
            );
            body.insert("value".into(), Value::Array(service_configuration_records(&d.name)));
            Ok(Reply::Json { status: 200, body: Value::Object(body), location: None })
        }
        ([] | [Segment::Identifier(_)] | [Segment::Identifier(_), Segment::Identifier(_)], _) => {
            Err(ApiError::method_not_allowed())
        }
        ([s, ..], _) => Err(ApiError::unknown_segment(&segment_text(s))),
    }
}

/// `/domains/{id}/federationConfiguration[/{fid}]`: the domain's
/// `internalDomainFederation` (directory/federation.rs has the rules).
fn federation_configuration(ctx: &Ctx<'_>, domain: &str, rest: &[Segment], method: &Method) -> Result<Reply, ApiError> {
    let authz = |op: &str| crate::authz::check(&ctx.principal, op);
    let context = |dir: &Directory, suffix: &str| {
        let name = dir.domain(domain).map_or(domain, |d| d.name.as_str()).to_owned();
        format!("{}/$metadata#domains('{name}')/federationConfiguration{suffix}", ctx.graph_url)
    };
    let one = |context: String, body: Map<String, Value>, status: u16| {
        let mut out = Map::new();
        out.insert("@odata.context".into(), Value::String(context));
        out.extend(body);
        Reply::Json { status, body: Value::Object(out), location: None }
    };
    match (rest, method) {
        ([], &Method::GET) => {
            authz("domains.federationConfiguration.list")?;
            let dir = ctx.tenant.read();
            dir.domain(domain).ok_or_else(|| ApiError::not_found(domain))?;
            let items: Vec<Value> = dir.federation(domain).map(|f| Value::Object(f.to_json())).into_iter().collect();
            let mut body = Map::new();
            body.insert("@odata.context".into(), Value::String(context(&dir, "")));
            body.insert("value".into(), Value::Array(items));
            Ok(Reply::Json { status: 200, body: Value::Object(body), location: None })
        }
        ([], &Method::POST) => {
            authz("domains.federationConfiguration.write")?;
            let body = json_body(ctx.req)?;
            let now = ctx.tenant.clock.now();
            let mut dir = ctx.tenant.write();
            let out = dir.create_federation(domain, &body, now)?.to_json();
            Ok(one(context(&dir, "/$entity"), out, 201))
        }
        ([Segment::Identifier(id)], &Method::GET) => {
            authz("domains.federationConfiguration.list")?;
            let dir = ctx.tenant.read();
            let out = dir.federation_by_id(domain, id)?.to_json();
            Ok(one(context(&dir, "/$entity"), out, 200))
        }
        ([Segment::Identifier(id)], &Method::PATCH) => {
            authz("domains.federationConfiguration.write")?;
            let body = json_body(ctx.req)?;
            let now = ctx.tenant.clock.now();
            let mut dir = ctx.tenant.write();
            let out = dir.update_federation(domain, id, &body, now)?.to_json();
            Ok(one(context(&dir, "/$entity"), out, 200))
        }
        ([Segment::Identifier(id)], &Method::DELETE) => {
            authz("domains.federationConfiguration.write")?;
            ctx.tenant.write().delete_federation(domain, id)?;
            Ok(Reply::NoContent)
        }
        ([] | [Segment::Identifier(_)], _) => Err(ApiError::method_not_allowed()),
        ([s, ..], _) => Err(ApiError::unknown_segment(&segment_text(s))),
    }
}

pub(super) fn subscribed_skus(
    ctx: &Ctx<'_>,
    segs: &[Segment],
    opts: &QueryOptions,
    method: &Method,
) -> Result<Reply, ApiError> {
    if *method != Method::GET {
        return Err(ApiError::method_not_allowed());
    }
    crate::authz::check(&ctx.principal, "subscribedSkus.list")?;
    let selected = shape::selection(csdl::SUBSCRIBED_SKU, "microsoft.graph.subscribedSku", opts.select.as_ref())?;
    let selected = selected.as_deref();
    let dir = ctx.tenant.read();
    let skus = dir.subscribed_skus_json();
    let cut = |sku: Value| match sku {
        Value::Object(sku) => Value::Object(shape::apply(sku, selected)),
        other => other,
    };
    match segs {
        [] => {
            let mut body = Map::new();
            body.insert(
                "@odata.context".into(),
                Value::String(shape::context(&ctx.graph_url, "subscribedSkus", selected, false)),
            );
            body.insert("value".into(), Value::Array(skus.into_iter().map(cut).collect()));
            Ok(Reply::Json { status: 200, body: Value::Object(body), location: None })
        }
        [Segment::Identifier(id)] => {
            let sku = skus.into_iter().find(|s| s["id"] == **id).ok_or_else(|| ApiError::not_found(id))?;
            let Value::Object(sku) = cut(sku) else { return Err(ApiError::not_found(id)) };
            let body =
                annotated(&[("@odata.context", shape::context(&ctx.graph_url, "subscribedSkus", selected, true))], sku);
            Ok(Reply::Json { status: 200, body: Value::Object(body), location: None })
        }
        [s, ..] => Err(ApiError::unknown_segment(&segment_text(s))),
    }
}

/// Graph returns at most this many objects in an expanded collection, with no
/// next link.
const EXPAND_LIMIT: usize = 20;

/// Add `$expand`ed navigation properties to an already projected object.
pub(super) fn expand(dir: &Directory, id: Uuid, item: &mut Map<String, Value>, expand: &[crate::odata::ExpandItem]) {
    let shown = |target: Uuid, select: &Option<Vec<String>>| -> Option<Value> {
        let mut obj = directory_object(dir, target)?;
        if let Some(names) = select {
            obj.retain(|k, _| k.starts_with('@') || names.iter().any(|n| n.eq_ignore_ascii_case(k)));
        }
        Some(Value::Object(obj))
    };
    for e in expand {
        match e.property.as_str() {
            "manager" => {
                if let Some(m) = dir.managers.get(&id).and_then(|m| shown(*m, &e.select)) {
                    item.insert("manager".into(), m);
                }
            }
            nav => {
                let ids: Vec<Uuid> = match nav {
                    "directReports" => dir.managers.iter().filter(|(_, m)| **m == id).map(|(u, _)| *u).collect(),
                    "memberOf" => {
                        let mut ids = dir.groups_of(id);
                        ids.extend(dir.directory_roles_of(id));
                        ids
                    }
                    "members" => dir.group_link(id, Link::Members),
                    "owners" => dir.group_link(id, Link::Owners),
                    _ => continue,
                };
                let list = ids.into_iter().filter_map(|t| shown(t, &e.select)).take(EXPAND_LIMIT).collect();
                item.insert(nav.into(), Value::Array(list));
            }
        }
    }
}

/// The DNS records Microsoft 365's services want for a domain (Graph
/// reference, `domain-list-serviceconfigurationrecords`): Exchange Online's
/// MX, SPF and Autodiscover. Ids are derived from the name so reads repeat.
fn service_configuration_records(domain: &str) -> Vec<Value> {
    let digest = ring::digest::digest(&ring::digest::SHA256, domain.as_bytes());
    let hex: String = digest.as_ref()[..6].iter().map(|b| format!("{b:02x}")).collect();
    let id = |n: u8| format!("{}-{}-4{}-8{}-{}{n:02x}", &hex[..8], &hex[8..12], &hex[..3], &hex[3..6], &hex[..10]);
    let host = domain.replace('.', "-");
    vec![
        serde_json::json!({
            "@odata.type": "#microsoft.graph.domainDnsMxRecord", "id": id(1), "isOptional": false,
            "label": domain, "recordType": "Mx", "supportedService": "Email", "ttl": 3600,
            "mailExchange": format!("{host}.mail.protection.outlook.com"), "preference": 0,
        }),
        serde_json::json!({
            "@odata.type": "#microsoft.graph.domainDnsTxtRecord", "id": id(2), "isOptional": false,
            "label": domain, "recordType": "Txt", "supportedService": "Email", "ttl": 3600,
            "text": "v=spf1 include:spf.protection.outlook.com -all",
        }),
        serde_json::json!({
            "@odata.type": "#microsoft.graph.domainDnsCnameRecord", "id": id(3), "isOptional": false,
            "label": format!("autodiscover.{domain}"), "recordType": "CName", "supportedService": "Email",
            "ttl": 3600, "canonicalName": "autodiscover.outlook.com",
        }),
    ]
}
