//! `/organization` and `/directory/onPremisesSynchronization`
//! (§5.2): each a collection of exactly one object whose id is the tenant id.

use http::Method;
use serde_json::{Map, Value};

use super::{annotated, json_body, key_of, reject_collection_options, segment_text, Ctx, Reply};
use crate::directory::organization::{ON_PREMISES_SYNCHRONIZATION, ORGANIZATION};
use crate::directory::query::projection_for;
use crate::directory::schema::EntitySchema;
use crate::directory::Directory;
use crate::error::ApiError;
use crate::odata::{QueryOptions, Segment, SelectList};

/// Which of the two singletons-in-a-collection a request is about.
#[derive(Debug, Clone, Copy)]
enum Which {
    Organization,
    Sync,
}

impl Which {
    fn schema(self) -> &'static EntitySchema {
        match self {
            Which::Organization => &ORGANIZATION,
            Which::Sync => &ON_PREMISES_SYNCHRONIZATION,
        }
    }
    fn set(self) -> &'static str {
        match self {
            Which::Organization => "organization",
            Which::Sync => "directory/onPremisesSynchronization",
        }
    }
    fn operation(self, verb: &str) -> String {
        match self {
            Which::Organization => format!("organization.{verb}"),
            // The reference names one operation for both reads.
            Which::Sync if verb == "update" => "onPremisesSynchronization.update".to_owned(),
            Which::Sync => "onPremisesSynchronization.get".to_owned(),
        }
    }
    fn project(self, dir: &Directory, projection: &crate::directory::record::Projection) -> Map<String, Value> {
        match self {
            Which::Organization => dir.project_organization(projection),
            Which::Sync => dir.organization.sync.project(&ON_PREMISES_SYNCHRONIZATION, projection),
        }
    }
}

pub(super) fn organization(
    ctx: &Ctx<'_>,
    segs: &[Segment],
    opts: &QueryOptions,
    method: &Method,
) -> Result<Reply, ApiError> {
    singleton_set(ctx, Which::Organization, segs, opts, method)
}

pub(super) fn on_premises_synchronization(
    ctx: &Ctx<'_>,
    segs: &[Segment],
    opts: &QueryOptions,
    method: &Method,
) -> Result<Reply, ApiError> {
    singleton_set(ctx, Which::Sync, segs, opts, method)
}

fn singleton_set(
    ctx: &Ctx<'_>,
    which: Which,
    segs: &[Segment],
    opts: &QueryOptions,
    method: &Method,
) -> Result<Reply, ApiError> {
    if segs.is_empty() {
        if *method != Method::GET {
            return Err(ApiError::method_not_allowed());
        }
        crate::authz::check(&ctx.principal, &which.operation("list"))?;
        let (projection, selected) = projection_for(which.schema(), opts.select.as_ref().map(SelectList::iter))?;
        let item = which.project(&ctx.tenant.read(), &projection);
        let context = super::context::ContextUrl {
            graph_url: &ctx.graph_url,
            set: which.set(),
            selected: selected.as_deref(),
            entity: false,
        }
        .spell();
        let mut body = annotated(&[("@odata.context", context)], Map::new());
        body.insert("value".into(), Value::Array(vec![Value::Object(item)]));
        return Ok(Reply::Json { status: 200, body: Value::Object(body), location: None });
    }
    let Some((key, rest)) = key_of(segs) else {
        return Err(ApiError::unknown_segment(&segs.first().map(segment_text).unwrap_or_default()));
    };
    if let Some(s) = rest.first() {
        return Err(ApiError::unknown_segment(&segment_text(s)));
    }
    // The one object's id is the tenant id.
    if !key.eq_ignore_ascii_case(&ctx.tenant.id.to_string()) {
        return Err(ApiError::not_found(&key));
    }
    match *method {
        Method::GET => {
            crate::authz::check(&ctx.principal, &which.operation("get"))?;
            reject_collection_options(opts)?;
            let (projection, selected) = projection_for(which.schema(), opts.select.as_ref().map(SelectList::iter))?;
            let item = which.project(&ctx.tenant.read(), &projection);
            let context = super::context::ContextUrl {
                graph_url: &ctx.graph_url,
                set: which.set(),
                selected: selected.as_deref(),
                entity: true,
            }
            .spell();
            let body = annotated(&[("@odata.context", context)], item);
            Ok(Reply::Json { status: 200, body: Value::Object(body), location: None })
        }
        Method::PATCH => {
            authorize_update(ctx, which)?;
            let body = json_body(ctx.req)?;
            let now = ctx.tenant.clock.now();
            let mut dir = ctx.tenant.write();
            match which {
                Which::Organization => dir.update_organization(&body, now)?,
                Which::Sync => dir.update_on_premises_sync(&body)?,
            }
            Ok(Reply::NoContent)
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}

/// v1.0 documents the sync configuration's PATCH as delegated only; the tenant
/// setting `appOnlySyncUpdate` (default on) lets app-only tokens through with
/// `OnPremDirectorySynchronization.ReadWrite.All` (README, fidelity notes).
fn authorize_update(ctx: &Ctx<'_>, which: Which) -> Result<(), ApiError> {
    match which {
        Which::Sync if ctx.principal.app_only => {
            let allowed = ctx.tenant.read().organization.dirsync.settings.app_only_sync_update;
            let op = if allowed { "onPremisesSynchronization.update.app" } else { "onPremisesSynchronization.update" };
            crate::authz::check(&ctx.principal, op)
        }
        _ => crate::authz::check(&ctx.principal, &which.operation("update")),
    }
}
