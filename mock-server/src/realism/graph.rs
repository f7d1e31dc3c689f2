//! Realism at Graph's intake: one [`Exchange`] per request while realism is on.
//! `begin` (the skip token, the report), `refuse` (random faults, throttling,
//! replication: a fresh object by id, a fresh `appId`, a reference to a fresh
//! object), `settle` (remember writes; lists leave out what has not
//! replicated; shapes) and `finish` (headers, latency). Scripted faults are
//! applied before `refuse` and win.

use std::sync::Arc;

use http::{HeaderName, HeaderValue, Response};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use super::shapes::{self, Resume};
use super::throttle::{self, Cost, Decision, Limit};
use super::{Delay, Settings};
use crate::directory::applications::APPLICATION;
use crate::directory::consent::{AssignmentPath, APP_ROLE_ASSIGNMENT, OAUTH2_PERMISSION_GRANT};
use crate::directory::roles::ROLE_ASSIGNMENT;
use crate::directory::Directory;
use crate::error::ApiError;
use crate::http::graph::Reply;
use crate::http::response::Body;
use crate::http::Inbound;
use crate::identity::Principal;
use crate::tenant::Tenant;

const THROTTLE_SCOPE: HeaderName = HeaderName::from_static("x-ms-throttle-scope");
const THROTTLE_INFORMATION: HeaderName = HeaderName::from_static("x-ms-throttle-information");
const THROTTLE_PERCENTAGE: HeaderName = HeaderName::from_static("x-ms-throttle-limit-percentage");
const RESOURCE_UNIT: HeaderName = HeaderName::from_static("x-ms-resource-unit");

/// Object sets whose members replicate (and can be addressed by id).
const OBJECT_SETS: &[&str] = &["users", "groups", "applications", "servicePrincipals", "directoryObjects"];

/// What a write changes in tokens, captured before it runs.
#[derive(Debug)]
enum TokenChange {
    Claims { principal: Uuid, before: (Vec<String>, Vec<Uuid>) },
    Scopes { client: Uuid, user: Option<Uuid>, before: String, deleted: bool },
}

/// One Graph request under realism.
#[derive(Debug)]
pub(crate) struct Exchange {
    tenant: Arc<Tenant>,
    principal: Arc<Principal>,
    settings: Arc<Settings>,
    now: OffsetDateTime,
    /// What makes a retry the same request (report.rs).
    retry_key: String,
    method: String,
    segments: Vec<String>,
    /// The request with realism's skip token replaced by the directory's.
    rewritten: Option<Inbound>,
    /// The request's own URL, as the client sent it.
    here: String,
    resume: Option<Resume>,
    units: Option<u32>,
    used: f64,
    throttled_by: Option<Limit>,
    token_change: Option<TokenChange>,
    /// keyIds of an application's credentials before a PATCH that sets them.
    credentials_before: Option<(Uuid, Vec<Uuid>)>,
}

fn key_ids(dir: &Directory, app: Uuid) -> Vec<Uuid> {
    let Some(record) = dir.applications.get(&app) else { return Vec::new() };
    let mut ids = Vec::new();
    for name in ["keyCredentials", "passwordCredentials"] {
        for k in record.get(&APPLICATION, name).and_then(Value::as_array).into_iter().flatten() {
            if let Some(id) = k.get("keyId").and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok()) {
                ids.push(id);
            }
        }
    }
    ids
}

fn body_of(req: &Inbound) -> Option<Map<String, Value>> {
    serde_json::from_slice::<Value>(&req.body).ok().and_then(|v| match v {
        Value::Object(m) => Some(m),
        _ => None,
    })
}

fn uuid_at(body: &Map<String, Value>, name: &str) -> Option<Uuid> {
    body.get(name).and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok())
}

/// The object id at the end of an `@odata.id` / `@odata.bind` URL.
fn target_of(url: &str) -> Option<Uuid> {
    let last = url.trim_end_matches('/').rsplit('/').next()?;
    Uuid::parse_str(last.trim_start_matches("directoryObjects('").trim_end_matches("')")).ok()
}

impl Exchange {
    /// Start realism's part of a request; `None` (one atomic load) when off.
    pub(crate) fn begin(
        tenant: &Arc<Tenant>,
        req: &Inbound,
        principal: &Arc<Principal>,
        rest: &str,
    ) -> Option<Exchange> {
        if !tenant.realism.is_on() {
            return None;
        }
        let tenant = tenant.clone();
        let now = tenant.clock.now();
        let retry_key = match req.header("client-request-id") {
            Some(id) => id.to_owned(),
            None => format!("{} {}?{}", req.method, req.path, req.query),
        };
        let settings = {
            let mut inner = tenant.realism.lock();
            inner.report.arrived(principal.app_id, &retry_key, now);
            inner.settings.clone()
        };
        let segments: Vec<String> = crate::service::decoded_segments(rest)
            .into_iter()
            .filter(|s| !s.is_empty())
            .map(|s| s.into_owned())
            .collect();
        let here = if req.query.is_empty() {
            format!("{}{}", req.authority, req.path)
        } else {
            format!("{}{}?{}", req.authority, req.path, req.query)
        };
        let mut x = Exchange {
            tenant: tenant.clone(),
            principal: principal.clone(),
            settings,
            now,
            retry_key,
            method: req.method.as_str().to_owned(),
            segments,
            rewritten: None,
            here,
            resume: None,
            units: None,
            used: 0.0,
            throttled_by: None,
            token_change: None,
            credentials_before: None,
        };
        if x.method == "GET" {
            x.unwrap_skiptoken(req);
        }
        Some(x)
    }

    /// The request the operation should see when it differs from the one
    /// that came in (realism's skip token unwrapped).
    pub(crate) fn take_rewritten(&mut self) -> Option<Inbound> {
        self.rewritten.take()
    }

    fn unwrap_skiptoken(&mut self, req: &Inbound) {
        let Some(token) = shapes::skiptoken_of(&format!("?{}", req.query)) else { return };
        let Some(resume) = Resume::decode(&token) else { return };
        let query = if resume.inner.is_empty() {
            let kept: Vec<&str> = req
                .query
                .split('&')
                .filter(|p| {
                    let k = p.split('=').next().unwrap_or("");
                    !percent_encoding::percent_decode_str(k).decode_utf8_lossy().eq_ignore_ascii_case("$skiptoken")
                })
                .collect();
            kept.join("&")
        } else {
            shapes::with_skiptoken(&format!("?{}", req.query), &resume.inner).trim_start_matches('?').to_owned()
        };
        self.rewritten = Some(Inbound {
            method: req.method.clone(),
            path: req.path.clone(),
            query,
            headers: req.headers.clone(),
            body: req.body.clone(),
            authority: req.authority.clone(),
            host_is_ours: req.host_is_ours,
            peer: req.peer,
            request_id: req.request_id,
        });
        self.resume = Some(resume);
    }

    fn seg(&self, i: usize) -> &str {
        self.segments.get(i).map_or("", String::as_str)
    }

    fn is_batch(&self) -> bool {
        self.segments.len() == 1 && self.segments[0].eq_ignore_ascii_case("$batch")
    }

    /// Whether this caller may see `id` yet; `false` only inside its window.
    fn sees(&self, windows: &super::windows::Windows, id: &Uuid) -> bool {
        match windows.fresh(id, self.now) {
            None => true,
            Some(f) => {
                self.settings.delegated_read_your_writes
                    && !self.principal.app_only
                    && f.writer == self.principal.object_id
            }
        }
    }

    /// The answer realism gives instead of running the operation, if any.
    pub(crate) fn refuse(&mut self, req: &Inbound) -> Option<ApiError> {
        if self.is_batch() {
            // Each request inside the batch is charged and judged on its own.
            return None;
        }
        let users = if self.settings.throttling { self.tenant.read().users.len() } else { 0 };
        if let Some(e) = self.gateway_refusal(req, users) {
            return Some(e);
        }
        if let Some(e) = self.replication_refusal(req) {
            return Some(e);
        }
        self.capture_before(req);
        None
    }

    /// Random faults and throttling: what the gateway answers before the directory looks.
    fn gateway_refusal(&mut self, req: &Inbound, users: usize) -> Option<ApiError> {
        let tenant = self.tenant.clone();
        let mut inner = tenant.realism.lock();
        let inner = &mut *inner;
        let rates = self.settings.faults_for(&self.method);
        if inner.stream.chance(rates.throttled) {
            let after = 1 + inner.stream.next_u64() % 5;
            return Some(crate::faults::answer(429, Some(after as f64)));
        }
        if inner.stream.chance(rates.unavailable) {
            let after = 1 + inner.stream.next_u64() % 3;
            return Some(crate::faults::answer(503, Some(after as f64)));
        }
        if inner.stream.chance(rates.gateway_timeout) {
            return Some(crate::faults::answer(504, None));
        }
        if self.settings.throttling {
            let segs: Vec<&str> = self.segments.iter().map(String::as_str).collect();
            let query = crate::http::identity::form_pairs(&req.query);
            let cost: Cost = throttle::cost(&self.method, &segs, &query);
            match inner.throttle.charge(&self.settings, self.principal.app_id, cost, users, self.now) {
                Decision::Allowed { units, used } => {
                    self.units = Some(units);
                    self.used = used;
                }
                Decision::Throttled { limit, retry_after } => {
                    // What the request would have cost: the header is always positive.
                    self.units = Some(cost.units);
                    self.throttled_by = Some(limit);
                    return Some(crate::faults::answer(429, Some(retry_after.ceil().max(1.0))));
                }
            }
        }
        None
    }

    fn replication_refusal(&self, req: &Inbound) -> Option<ApiError> {
        let max = self.settings.replication_max_seconds;
        if max <= 0.0 {
            return None;
        }
        let dir = self.tenant.read();
        let mut inner = self.tenant.realism.lock();
        let inner = &mut *inner;
        // An object addressed by id (or by appId) that this replica has not seen.
        if let Some(id) = self.addressed_object(&dir, &inner.windows) {
            if !self.sees(&inner.windows, &id) && inner.stream.chance(self.settings.not_found_probability) {
                return Some(ApiError::not_found(&self.addressed_text()));
            }
        }
        if self.method != "POST" && self.method != "PATCH" {
            return None;
        }
        let body = body_of(req)?;
        let s0 = self.seg(0);
        if self.method == "POST" && self.segments.len() == 1 && s0 == "servicePrincipals" {
            if let Some(app_id) = uuid_at(&body, "appId") {
                let fresh = inner.windows.fresh_app_id(&app_id, self.now);
                if fresh.is_some_and(|object| !self.sees(&inner.windows, &object)) {
                    return Some(ApiError::request_bad_request(format!(
                        "The appId '{app_id}' of the service principal does not reference a valid application object."
                    )));
                }
            }
        }
        // References to objects other replicas may not have yet.
        let mut targets: Vec<Uuid> = Vec::new();
        let last = self.segments.last().map_or("", String::as_str);
        if matches!(last, "appRoleAssignedTo" | "appRoleAssignments" | "roleAssignments") {
            targets.extend(["principalId", "resourceId"].iter().filter_map(|n| uuid_at(&body, n)));
        }
        if last == "$ref" {
            targets.extend(body.get("@odata.id").and_then(Value::as_str).and_then(target_of));
        }
        for name in ["members@odata.bind", "owners@odata.bind"] {
            for url in body.get(name).and_then(Value::as_array).into_iter().flatten() {
                targets.extend(url.as_str().and_then(target_of));
            }
        }
        targets.into_iter().find(|t| !self.sees(&inner.windows, t)).map(|t| ApiError::not_found(&t.to_string()))
    }

    /// The object the path names by id, for `/{set}/{id}…` and `/{set}(appId='…')…`.
    fn addressed_object(&self, dir: &Directory, windows: &super::windows::Windows) -> Option<Uuid> {
        let s0 = self.seg(0);
        if let Some((set, key)) = s0.split_once("(appId='") {
            let app_id = Uuid::parse_str(key.trim_end_matches("')")).ok()?;
            return match set {
                "servicePrincipals" => dir.service_principal_id_by_app_id(app_id),
                "applications" => windows.fresh_app_id(&app_id, self.now),
                _ => None,
            };
        }
        if !OBJECT_SETS.contains(&s0) {
            return None;
        }
        Uuid::parse_str(self.seg(1)).ok()
    }

    fn addressed_text(&self) -> String {
        let s0 = self.seg(0);
        match s0.split_once("(appId='") {
            Some((_, key)) => key.trim_end_matches("')").to_owned(),
            None => self.seg(1).to_owned(),
        }
    }

    /// Before a write that changes tokens or credentials, note how things were.
    fn capture_before(&mut self, req: &Inbound) {
        if self.method == "GET" {
            return;
        }
        let dir = self.tenant.read();
        let segs: Vec<&str> = self.segments.iter().map(String::as_str).collect();
        let body = body_of(req).unwrap_or_default();
        let principal: Option<Uuid> = match (self.method.as_str(), segs.as_slice()) {
            ("POST", ["servicePrincipals", _, "appRoleAssignedTo"]) => uuid_at(&body, "principalId"),
            ("POST", [_, p, "appRoleAssignments"]) => Uuid::parse_str(p).ok(),
            ("DELETE", ["servicePrincipals", r, "appRoleAssignedTo", a]) => Uuid::parse_str(r)
                .ok()
                .and_then(|r| dir.find_app_role_assignment(a, AssignmentPath::AssignedTo(r)))
                .and_then(|k| dir.app_role_assignments.get(&k))
                .and_then(|rec| rec.get_str(&APP_ROLE_ASSIGNMENT, "principalId"))
                .and_then(|s| Uuid::parse_str(s).ok()),
            ("DELETE", [_, p, "appRoleAssignments", _]) => Uuid::parse_str(p).ok(),
            ("POST", ["roleManagement", "directory", "roleAssignments"]) => uuid_at(&body, "principalId"),
            ("DELETE", ["roleManagement", "directory", "roleAssignments", a]) => dir
                .find_role_assignment(a)
                .and_then(|k| dir.role_assignments.get(&k))
                .and_then(|rec| rec.get_str(&ROLE_ASSIGNMENT, "principalId"))
                .and_then(|s| Uuid::parse_str(s).ok()),
            ("POST", ["directoryRoles", _, "members", "$ref"]) => {
                body.get("@odata.id").and_then(Value::as_str).and_then(target_of)
            }
            ("DELETE", ["directoryRoles", _, "members", p, "$ref"]) => Uuid::parse_str(p).ok(),
            _ => None,
        };
        if let Some(p) = principal {
            let before = (dir.graph_roles_of(p), dir.role_template_ids_of(p));
            self.token_change = Some(TokenChange::Claims { principal: p, before });
        }
        let grant = |key: &str| {
            dir.find_oauth2_grant(key).and_then(|k| dir.oauth2_grants.get(&k)).map(|rec| {
                let s = |n: &str| rec.get_str(&OAUTH2_PERMISSION_GRANT, n).map(str::to_owned);
                (s("clientId"), s("principalId"), s("scope").unwrap_or_default())
            })
        };
        let scopes = match (self.method.as_str(), segs.as_slice()) {
            ("POST", ["oauth2PermissionGrants"]) => Some((
                body.get("clientId").and_then(Value::as_str).map(str::to_owned),
                body.get("principalId").and_then(Value::as_str).map(str::to_owned),
                String::new(),
                false,
            )),
            ("PATCH", ["oauth2PermissionGrants", k]) => grant(k).map(|(c, p, s)| (c, p, s, false)),
            ("DELETE", ["oauth2PermissionGrants", k]) => grant(k).map(|(c, p, s)| (c, p, s, true)),
            _ => None,
        };
        if let Some((Some(client), user, before, deleted)) = scopes {
            if let Ok(client) = Uuid::parse_str(&client) {
                let user = user.and_then(|u| Uuid::parse_str(&u).ok());
                self.token_change = Some(TokenChange::Scopes { client, user, before, deleted });
            }
        }
        if let ("PATCH", ["applications", id]) = (self.method.as_str(), segs.as_slice()) {
            if body.contains_key("keyCredentials") || body.contains_key("passwordCredentials") {
                if let Ok(app) = Uuid::parse_str(id) {
                    self.credentials_before = Some((app, key_ids(&dir, app)));
                }
            }
        }
    }

    /// After the operation: remember what it wrote, and reshape what it read.
    pub(crate) fn settle(&mut self, result: Result<Reply, ApiError>, req: &Inbound) -> Result<Reply, ApiError> {
        let reply = result?;
        let (status, mut body, location) = match reply {
            Reply::Json { status, body, location } => (status, body, location),
            Reply::Serialized { status, json } => match serde_json::from_slice::<Value>(&json) {
                Ok(body) => (status, body, None),
                Err(_) => return Ok(Reply::Serialized { status, json }),
            },
            other => {
                if (200..300).contains(&reply_status(&other)) {
                    self.remember(None, req);
                }
                return Ok(other);
            }
        };
        if (200..300).contains(&status) && self.method != "GET" {
            self.remember(Some(&body), req);
        }
        if self.method == "GET" && status == 200 {
            if let Value::Object(o) = &mut body {
                self.reshape(o);
            }
        } else if let Value::Object(o) = &mut body {
            if o.contains_key("@odata.context") {
                let mut inner = self.tenant.realism.lock();
                shapes::entity(&self.settings, &mut inner.stream, o);
            }
        }
        Ok(Reply::Json { status, body, location })
    }

    fn reshape(&self, o: &mut Map<String, Value>) {
        let mut inner = self.tenant.realism.lock();
        let inner = &mut *inner;
        let is_list = o.get("value").is_some_and(Value::is_array) && o.contains_key("@odata.context");
        if !is_list {
            if o.contains_key("@odata.context") {
                shapes::entity(&self.settings, &mut inner.stream, o);
            }
            return;
        }
        let resume = self.resume.clone().unwrap_or_default();
        if resume.skip > 0 {
            shapes::skip_items(o, resume.skip);
        }
        if self.settings.list_omit_probability > 0.0 {
            if let Some(items) = o.get_mut("value").and_then(Value::as_array_mut) {
                let stream = &mut inner.stream;
                let windows = &inner.windows;
                items.retain(|item| {
                    let id = item.get("id").and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok());
                    match id {
                        Some(id) if !self.sees(windows, &id) => !stream.chance(self.settings.list_omit_probability),
                        _ => true,
                    }
                });
            }
        }
        if self.settings.reshapes() {
            shapes::page(&self.settings, &mut inner.stream, o, &self.here, &resume);
        }
    }

    /// Open windows for what a successful write created or changed.
    fn remember(&mut self, body: Option<&Value>, _req: &Inbound) {
        let segs: Vec<&str> = self.segments.iter().map(String::as_str).collect();
        let id_in =
            |name: &str| body.and_then(|b| b.get(name)).and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok());
        let writer = self.principal.object_id;
        let (now, settings) = (self.now, self.settings.clone());
        let after_keys = match &self.credentials_before {
            Some((app, _)) => Some(key_ids(&self.tenant.read(), *app)),
            None => None,
        };
        let after_claims = match &self.token_change {
            Some(TokenChange::Scopes { .. }) | None => None,
            Some(TokenChange::Claims { principal, .. }) => Some(self.tenant.read().role_template_ids_of(*principal)),
        };
        let new_scope = match (&self.token_change, segs.as_slice()) {
            (Some(TokenChange::Scopes { deleted: false, .. }), ["oauth2PermissionGrants", ..]) => {
                body.and_then(|b| b.get("scope")).and_then(Value::as_str).map(str::to_owned).or_else(|| {
                    let dir = self.tenant.read();
                    segs.get(1)
                        .and_then(|k| dir.find_oauth2_grant(k))
                        .and_then(|k| dir.oauth2_grants.get(&k))
                        .and_then(|r| r.get_str(&OAUTH2_PERMISSION_GRANT, "scope"))
                        .map(str::to_owned)
                })
            }
            _ => None,
        };
        let mut inner = self.tenant.realism.lock();
        let w = &mut inner.windows;
        match (self.method.as_str(), segs.as_slice()) {
            ("POST", ["applications"]) => {
                if let (Some(id), Some(app_id)) = (id_in("id"), id_in("appId")) {
                    w.application_created(&settings, id, app_id, writer, now);
                }
            }
            ("POST", ["users" | "groups" | "servicePrincipals"]) => {
                if let Some(id) = id_in("id") {
                    w.created(&settings, id, writer, now);
                }
            }
            ("POST", ["applications", _, "addPassword" | "addKey"]) => {
                if let Some(key) = id_in("keyId") {
                    w.credential_added(&settings, key, now);
                }
            }
            _ => {}
        }
        if let (Some((_, before)), Some(after)) = (&self.credentials_before, after_keys) {
            for key in after.into_iter().filter(|k| !before.contains(k)) {
                w.credential_added(&settings, key, now);
            }
        }
        match self.token_change.take() {
            Some(TokenChange::Claims { principal, before }) => {
                let _ = after_claims;
                w.claims_changed(&settings, principal, before, now);
            }
            Some(TokenChange::Scopes { client, user, before, deleted }) => {
                let after = if deleted { String::new() } else { new_scope.unwrap_or_default() };
                let words = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
                let (b, a) = (words(&before), words(&after));
                let added = a.iter().filter(|s| !b.contains(s)).cloned().collect();
                let removed = b.iter().filter(|s| !a.contains(s)).cloned().collect();
                let change = super::windows::ScopeChange { client, user, added, removed, until: now };
                w.scopes_changed(&settings, change, now);
            }
            None => {}
        }
    }

    /// Throttling headers, the report, and latency.
    pub(crate) fn finish(self, response: &mut Response<Body>, retry_after: Option<f64>) {
        let status = response.status().as_u16();
        let h = response.headers_mut();
        if let Some(units) = self.units {
            h.insert(RESOURCE_UNIT, HeaderValue::from(units));
            if self.used > 0.8 {
                // Sent only past 80 % of a limit, as a fraction 0.8–1.8.
                if let Ok(v) = HeaderValue::from_str(&format!("{:.2}", self.used.min(1.8))) {
                    h.insert(THROTTLE_PERCENTAGE, v);
                }
            }
        }
        if let Some(limit) = self.throttled_by {
            let scope = format!("{}/{}/{}", limit.scope(), self.principal.app_id, self.tenant.id);
            if let Ok(v) = HeaderValue::from_str(&scope) {
                h.insert(THROTTLE_SCOPE, v);
            }
            h.insert(THROTTLE_INFORMATION, HeaderValue::from_static(limit.information()));
        }
        let mut inner = self.tenant.realism.lock();
        inner.report.answered(self.principal.app_id, &self.retry_key, status, retry_after, self.now);
        let (p50, p99) = (self.settings.latency_p50_ms, self.settings.latency_p99_ms);
        if p99 > 0.0 {
            let ms = latency_ms(p50, p99, inner.stream.unit(), inner.stream.unit());
            response.extensions_mut().insert(Delay(std::time::Duration::from_secs_f64(ms / 1000.0)));
        }
    }
}

fn reply_status(r: &Reply) -> u16 {
    match r {
        Reply::Json { status, .. } | Reply::Serialized { status, .. } => *status,
        Reply::Text(_) => 200,
        Reply::NoContent => 204,
    }
}

/// A log-normal latency with median `p50` and 99th percentile `p99`
/// (milliseconds), from two uniforms (Box–Muller), capped at ten times `p99`.
pub(crate) fn latency_ms(p50: f64, p99: f64, u1: f64, u2: f64) -> f64 {
    if p50 <= 0.0 {
        return (p99 * u1).max(0.0);
    }
    let sigma = (p99 / p50).ln().max(0.0) / 2.326_347_874;
    let z = (-2.0 * (1.0 - u1).ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    (p50 * (sigma * z).exp()).min(p99 * 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_has_the_profiles_median_and_tail() {
        let mut s = super::super::rng::Stream::new(4);
        let mut v: Vec<f64> = (0..20_000).map(|_| latency_ms(40.0, 250.0, s.unit(), s.unit())).collect();
        v.sort_by(f64::total_cmp);
        let (p50, p99) = (v[10_000], v[19_800]);
        assert!((35.0..45.0).contains(&p50), "median {p50}");
        assert!((200.0..310.0).contains(&p99), "99th percentile {p99}");
        assert_eq!(latency_ms(0.0, 0.0, 0.5, 0.5), 0.0);
    }

    #[test]
    fn reference_targets_are_read_from_odata_urls() {
        let id = Uuid::from_u128(5);
        assert_eq!(target_of(&format!("https://graph.microsoft.com/v1.0/directoryObjects/{id}")), Some(id));
        assert_eq!(target_of(&format!("https://h/v1.0/directoryObjects('{id}')")), Some(id));
        assert_eq!(target_of("https://h/v1.0/users/alice@x"), None);
    }
}
