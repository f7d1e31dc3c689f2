//! The request log and the permission usage behind the least-privilege report.
//!
//! Every request that names a tenant is logged there: Graph calls (401s
//! included: an unauthenticated call is logged to the tenant its token's `tid`
//! claims, unverified, with no client or user; a call with no readable token
//! goes to the server's log), the identity platform's, MSOnline's, and the
//! control API's calls under `/_graphbox/tenants/{tid}/…` (except reading the
//! log and the report themselves, so watching the log does not fill it).
//! Control calls that name no tenant (`POST /tenants`, `POST /state/save`) go
//! to the server's log (`GET /_graphbox/requests`).
//!
//! An entry holds ids and static names only; the caller's display name and
//! the user's UPN are looked up when the log is read, so recording a request
//! costs its path and nothing else. Both logs keep the last
//! [`REQUEST_LOG_CAPACITY`] entries, in memory (never saved or journaled).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Mutex;

use serde_json::{json, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::authz::Decision;
use crate::directory::Directory;
use crate::identity::Principal;

/// How many requests a log keeps; older ones fall off.
pub(crate) const REQUEST_LOG_CAPACITY: usize = 1000;

/// Which of the server's services answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    Graph,
    Identity,
    Msol,
    Control,
}

impl Api {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Api::Graph => "graph",
            Api::Identity => "identity",
            Api::Msol => "msol",
            Api::Control => "control",
        }
    }
}

/// One entry of a request log.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LoggedRequest {
    /// Position in its log, from 1; the live view resumes after one.
    pub seq: u64,
    pub request_id: Uuid,
    pub time: OffsetDateTime,
    pub method: http::Method,
    /// The request's own path, shared rather than copied.
    pub path: std::sync::Arc<str>,
    pub status: u16,
    pub api: Api,
    /// The calling application (`appid` of a verified token).
    pub client_id: Option<Uuid>,
    /// The signed-in user of a delegated token.
    pub user_id: Option<Uuid>,
    /// The permission decision: the first refusal, else the last operation
    /// allowed (see [`summary`]).
    pub authz: Option<Decision>,
    /// Refused by the permission check but let through: the tenant's
    /// `authz` setting is `report-only`.
    pub would_be_forbidden: bool,
}

impl LoggedRequest {
    /// An entry for `req` answered with `status`; the caller fills in what it
    /// knows about the client and the decision.
    pub(crate) fn new(req: &crate::service::Inbound, api: Api, time: OffsetDateTime, status: u16) -> LoggedRequest {
        LoggedRequest {
            seq: 0,
            request_id: req.request_id,
            time,
            method: req.method.clone(),
            path: req.path.clone(),
            status,
            api,
            client_id: None,
            user_id: None,
            authz: None,
            would_be_forbidden: false,
        }
    }

    /// The caller a verified token names.
    pub(crate) fn by(mut self, principal: &Principal) -> LoggedRequest {
        self.client_id = Some(principal.app_id);
        self.user_id = (!principal.app_only).then_some(principal.object_id);
        self
    }

    /// The wire form (`GET …/requests`, the live view): names resolved in
    /// `dir` as it is now. Fields are only ever added to this shape.
    pub(crate) fn view(&self, dir: Option<&Directory>) -> Value {
        let client_name = match (dir, self.client_id) {
            (Some(dir), Some(app)) => client_name(dir, app),
            _ => None,
        };
        let user = self.user_id.map(|id| {
            let upn = dir.and_then(|d| user_principal_name(d, id));
            json!({"id": id, "userPrincipalName": upn})
        });
        json!({
            "seq": self.seq,
            "request_id": self.request_id,
            // RFC 3339 with the clock's full precision, as this field always was.
            "time": self.time.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            "method": self.method.as_str(),
            "path": &*self.path,
            "status": self.status,
            "api": self.api.name(),
            "client_id": self.client_id,
            "client_name": client_name,
            "user": user,
            "authz": self.authz.map(|d| json!({
                "operation": d.operation, "permission": d.permission, "allowed": d.allowed,
            })),
            "forbidden": self.status == 403,
            "would_be_forbidden": self.would_be_forbidden,
        })
    }
}

/// An application's display name: its application object, else its service
/// principal (applications from other tenants), else Microsoft's first-party
/// client list.
pub(crate) fn client_name(dir: &Directory, app_id: Uuid) -> Option<String> {
    use crate::directory::applications::APPLICATION;
    use crate::directory::service_principals::SERVICE_PRINCIPAL;
    if let Some(app) = dir.application_by_app_id(app_id) {
        return app.get_str(&APPLICATION, "displayName").map(str::to_owned);
    }
    if let Some(sp) = dir.service_principal_id_by_app_id(app_id).and_then(|id| dir.service_principals.get(&id)) {
        return sp.get_str(&SERVICE_PRINCIPAL, "displayName").map(str::to_owned);
    }
    crate::directory::first_party::public_client(app_id).map(|c| c.display_name.to_owned())
}

/// A user's UPN as it is now.
pub(crate) fn user_principal_name(dir: &Directory, id: Uuid) -> Option<String> {
    use crate::directory::users::USER;
    dir.users.get(&id).and_then(|u| u.get_str(&USER, "userPrincipalName")).map(str::to_owned)
}

/// The decision a log entry shows: the first refusal (what the call lacked),
/// else the last decision (what it used).
pub(crate) fn summary(decisions: &[Option<Decision>]) -> Option<Decision> {
    let made = decisions.iter().flatten();
    made.clone().find(|d| !d.allowed).or_else(|| made.last()).copied()
}

/// A bounded log with sequence numbers.
#[derive(Debug, Default)]
pub(crate) struct Log {
    inner: Mutex<LogInner>,
}

#[derive(Debug, Default)]
struct LogInner {
    entries: VecDeque<LoggedRequest>,
    next: u64,
}

impl Log {
    pub(crate) fn push(&self, mut entry: LoggedRequest) {
        let mut log = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        log.next += 1;
        entry.seq = log.next;
        if log.entries.len() == REQUEST_LOG_CAPACITY {
            log.entries.pop_front();
        }
        log.entries.push_back(entry);
    }

    /// The entries after `seq` (all with 0), oldest first.
    pub(crate) fn since(&self, seq: u64) -> Vec<LoggedRequest> {
        let log = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let skip = log.entries.partition_point(|e| e.seq <= seq);
        log.entries.range(skip..).cloned().collect()
    }
}

/// The tenant a bearer token claims (`tid`), read without verifying it: only
/// to say which log an unauthenticated call belongs in.
pub(crate) fn claimed_tenant(authorization: Option<&str>) -> Option<Uuid> {
    use base64::Engine;
    #[derive(serde::Deserialize)]
    struct Claims {
        tid: Uuid,
    }
    let token = authorization?.trim().split_once(' ')?.1.trim();
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice::<Claims>(&bytes).ok().map(|c| c.tid)
}

/// The `client_id` field of a form body (the token and device-code endpoints').
pub(crate) fn form_client_id(body: &[u8]) -> Option<Uuid> {
    body.split(|b| *b == b'&')
        .find_map(|kv| kv.strip_prefix(b"client_id="))
        .and_then(|v| std::str::from_utf8(v).ok())
        .and_then(|v| Uuid::parse_str(v).ok())
}

/// Who called: an application, alone or for a signed-in user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Caller {
    pub client_id: Uuid,
    pub user_id: Option<Uuid>,
}

/// What one caller's tokens carried and which operations it performed.
#[derive(Debug, Default, Clone)]
pub(crate) struct CallerUsage {
    /// Application permissions (app-only) or delegated scopes its tokens held.
    pub held: BTreeSet<String>,
    /// Operation → (calls, refused, would-be refused).
    pub operations: BTreeMap<&'static str, OperationUsage>,
    /// The permissions last merged into `held`, as the token listed them.
    last_held: Vec<String>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OperationUsage {
    pub calls: u64,
    pub refused: u64,
    pub would_be_refused: u64,
}

/// Permission usage per caller since the tenant was created (memory only).
#[derive(Debug, Default)]
pub(crate) struct Usage {
    by_caller: Mutex<BTreeMap<Caller, CallerUsage>>,
}

impl Usage {
    /// Record one request's decisions. Allocates only the first time a caller,
    /// permission or operation is seen.
    pub(crate) fn record(&self, principal: &Principal, decisions: &[Option<Decision>], report_only: bool) {
        if decisions.iter().all(Option::is_none) {
            return;
        }
        let caller =
            Caller { client_id: principal.app_id, user_id: (!principal.app_only).then_some(principal.object_id) };
        let mut all = self.by_caller.lock().unwrap_or_else(|e| e.into_inner());
        let usage = all.entry(caller).or_default();
        let held = if principal.app_only { &principal.roles } else { &principal.scopes };
        // A caller's calls nearly always come with the permissions its last
        // call had: one comparison instead of a set lookup per permission.
        if usage.last_held != *held {
            for p in held {
                if !usage.held.contains(p) {
                    usage.held.insert(p.clone());
                }
            }
            usage.last_held.clone_from(held);
        }
        for d in decisions.iter().flatten() {
            let op = usage.operations.entry(d.operation).or_default();
            op.calls += 1;
            if !d.allowed {
                if report_only {
                    op.would_be_refused += 1;
                } else {
                    op.refused += 1;
                }
            }
        }
    }

    pub(crate) fn snapshot(&self) -> BTreeMap<Caller, CallerUsage> {
        self.by_caller.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
