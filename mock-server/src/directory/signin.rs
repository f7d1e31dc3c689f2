//! What interactive sign-in leaves behind between requests, as plain data:
//! authorization codes, device codes, browser sessions, the issuers a tenant
//! trusts for workload identity federation, and the tenant's consent setting.
//! The identity layer decides what each record means; the directory keeps them,
//! bounded, and hands them out. Secrets (codes, session cookies) are stored only
//! as hashes of their text, as the refresh tokens are.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

/// Past this many live records of one kind, expired ones are swept on insert.
const SWEEP_AT: usize = 1024;

/// An authorization code as issued by `/authorize`, until it is redeemed or
/// expires. Kept (marked redeemed) after redemption so a second use gets the
/// real "already redeemed" error rather than "unknown code".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct AuthCode {
    pub client: Uuid,
    pub user: Uuid,
    pub redirect_uri: String,
    /// `web`, `spa` or `publicClient`: which platform registered the redirect.
    pub redirect_kind: String,
    /// The `scope` parameter as sent, re-read at redemption.
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub auth_time: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub expires: OffsetDateTime,
    pub redeemed: bool,
}

/// A device authorization request, from `/devicecode` until it is redeemed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct DeviceCode {
    pub client: Uuid,
    pub scope: String,
    pub user_code: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires: OffsetDateTime,
    pub interval: i64,
    /// When the client last polled (unix seconds), for `slow_down`.
    pub last_poll: Option<i64>,
    pub state: DeviceState,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum DeviceState {
    Pending,
    Approved { user: Uuid, auth_time: i64 },
    Declined,
    Redeemed,
}

/// A browser's signed-in session (the SSO cookie), by the hash of its value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct BrowserSession {
    pub user: Uuid,
    pub auth_time: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub expires: OffsetDateTime,
}

/// An external OpenID issuer registered through the control API, with the
/// keys its tokens are signed with (a JWKS document).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ExternalIssuer {
    pub jwks: Value,
}

/// Everything above, for one tenant.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct SignIn {
    pub codes: HashMap<String, AuthCode>,
    pub device_codes: HashMap<String, DeviceCode>,
    /// user code → device code key.
    pub user_codes: HashMap<String, String>,
    pub sessions: HashMap<String, BrowserSession>,
    pub issuers: BTreeMap<String, ExternalIssuer>,
    /// Whether users may consent for themselves (Entra's "Allow user consent
    /// for apps"); when false only an administrator can consent.
    pub user_consent_disabled: bool,
    /// Sign-ins sent to a federated IdP and the assertions it answered with:
    /// in memory only (never saved or journaled, so a restart forgets them).
    #[serde(skip)]
    pub federated: FederatedSignIns,
}

impl SignIn {
    /// A copy of what is saved and journaled: everything but the in-memory
    /// federated sign-ins, which can hold tens of thousands of entries.
    pub(crate) fn saved_copy(&self) -> SignIn {
        SignIn {
            codes: self.codes.clone(),
            device_codes: self.device_codes.clone(),
            user_codes: self.user_codes.clone(),
            sessions: self.sessions.clone(),
            issuers: self.issuers.clone(),
            user_consent_disabled: self.user_consent_disabled,
            federated: FederatedSignIns::default(),
        }
    }
}

/// At most this many sign-ins may wait for their IdP's answer, and at most
/// this many answered assertions are remembered; past that the one closest
/// to expiring goes first.
pub(crate) const MAX_PENDING_FEDERATED: usize = 10_000;
pub(crate) const MAX_SEEN_ASSERTIONS: usize = 50_000;

/// A request sent to a federated IdP (the SAML AuthnRequest's `ID`, also
/// carried in the WS-Federation `wctx`), until answered or expired.
#[derive(Debug, Clone)]
pub(crate) struct PendingFederated {
    /// The `login.srf` the request named as where the answer goes.
    pub reply_to: String,
    pub expires: OffsetDateTime,
}

/// The federated sign-ins in flight and the replay cache of assertions
/// already accepted (by assertion id, until its `NotOnOrAfter`).
#[derive(Debug, Clone, Default)]
pub(crate) struct FederatedSignIns {
    pending: HashMap<String, PendingFederated>,
    seen: HashMap<String, OffsetDateTime>,
}

/// A cache, not state: two directories that differ only in it are equal
/// (saving, diffing and `is_default` never look at it).
impl PartialEq for FederatedSignIns {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// Make room for one more entry: drop expired ones, then, at `cap`, the one
/// expiring first.
fn make_room<V>(map: &mut HashMap<String, V>, cap: usize, now: OffsetDateTime, expiry: impl Fn(&V) -> OffsetDateTime) {
    if map.len() < cap {
        return;
    }
    map.retain(|_, v| expiry(v) > now);
    while map.len() >= cap {
        let Some(first) = map.iter().min_by_key(|(_, v)| expiry(v)).map(|(k, _)| k.clone()) else { break };
        map.remove(&first);
    }
}

impl FederatedSignIns {
    pub(crate) fn send(&mut self, id: String, request: PendingFederated, now: OffsetDateTime) {
        make_room(&mut self.pending, MAX_PENDING_FEDERATED, now, |p| p.expires);
        self.pending.insert(id, request);
    }

    /// The live request `id`, if this tenant sent it.
    pub(crate) fn pending(&self, id: &str, now: OffsetDateTime) -> Option<&PendingFederated> {
        self.pending.get(id).filter(|p| p.expires > now)
    }

    /// The request is answered: it cannot be answered again.
    pub(crate) fn answered(&mut self, id: &str) {
        self.pending.remove(id);
    }

    /// Whether assertion `id` was already accepted and is still within its
    /// validity window.
    pub(crate) fn seen(&self, id: &str, now: OffsetDateTime) -> bool {
        self.seen.get(id).is_some_and(|until| *until > now)
    }

    /// Remember assertion `id` until `until` (its `NotOnOrAfter`, plus skew).
    pub(crate) fn remember(&mut self, id: String, until: OffsetDateTime, now: OffsetDateTime) {
        make_room(&mut self.seen, MAX_SEEN_ASSERTIONS, now, |u| *u);
        self.seen.insert(id, until);
    }

    #[cfg(test)]
    fn len(&self) -> (usize, usize) {
        (self.pending.len(), self.seen.len())
    }
}

impl SignIn {
    pub(crate) fn is_default(&self) -> bool {
        self == &SignIn::default()
    }

    pub(crate) fn insert_code(&mut self, key: String, code: AuthCode, now: OffsetDateTime) {
        if self.codes.len() >= SWEEP_AT {
            self.codes.retain(|_, c| c.expires > now);
        }
        self.codes.insert(key, code);
    }

    pub(crate) fn insert_device_code(&mut self, key: String, code: DeviceCode, now: OffsetDateTime) {
        if self.device_codes.len() >= SWEEP_AT {
            self.device_codes.retain(|_, c| c.expires > now);
            let live = &self.device_codes;
            self.user_codes.retain(|_, k| live.contains_key(k));
        }
        self.user_codes.insert(code.user_code.clone(), key.clone());
        self.device_codes.insert(key, code);
    }

    pub(crate) fn insert_session(&mut self, key: String, session: BrowserSession, now: OffsetDateTime) {
        if self.sessions.len() >= SWEEP_AT {
            self.sessions.retain(|_, s| s.expires > now);
        }
        self.sessions.insert(key, session);
    }

    /// The live session behind a cookie's hash.
    pub(crate) fn session(&self, key: &str, now: OffsetDateTime) -> Option<&BrowserSession> {
        self.sessions.get(key).filter(|s| s.expires > now)
    }
}

/// Consent as data: the grants sign-in records when a user or an
/// administrator accepts.
impl super::Directory {
    /// Add `scopes` to the delegated grant of `client_sp` on `resource_sp`, for
    /// one user (`Some`) or tenant-wide (`None`), creating the grant if needed.
    pub(crate) fn add_delegated_consent(
        &mut self,
        client_sp: Uuid,
        resource_sp: Uuid,
        user: Option<Uuid>,
        scopes: &[String],
    ) -> Result<(), crate::error::ApiError> {
        use super::consent::OAUTH2_PERMISSION_GRANT as G;
        let consent_type = if user.is_some() { "Principal" } else { "AllPrincipals" };
        let existing = self.oauth2_grants.iter().find_map(|(key, g)| {
            let guid = |n: &str| g.get_str(&G, n).and_then(|s| Uuid::parse_str(s).ok());
            (guid("clientId") == Some(client_sp)
                && guid("resourceId") == Some(resource_sp)
                && g.get_str(&G, "consentType") == Some(consent_type)
                && guid("principalId") == user)
                .then(|| (*key, g.get_str(&G, "scope").unwrap_or_default().to_owned()))
        });
        match existing {
            Some((key, had)) => {
                let mut all: Vec<&str> = had.split(' ').filter(|s| !s.is_empty()).collect();
                for s in scopes {
                    if !all.iter().any(|h| h.eq_ignore_ascii_case(s)) {
                        all.push(s);
                    }
                }
                let body = serde_json::json!({"scope": all.join(" ")});
                self.update_oauth2_grant(key, body.as_object().expect("an object literal"))
            }
            None => {
                let body = serde_json::json!({
                    "clientId": client_sp, "consentType": consent_type, "principalId": user,
                    "resourceId": resource_sp, "scope": scopes.join(" "),
                });
                self.create_oauth2_grant(body.as_object().expect("an object literal")).map(|_| ())
            }
        }
    }

    /// The delegated scopes `client_sp` holds on `resource_sp` for `user`:
    /// tenant-wide grants plus the user's own, as granted (any resource).
    pub(crate) fn granted_scopes_on(&self, client_sp: Uuid, resource_sp: Uuid, user: Uuid) -> Vec<String> {
        use super::consent::OAUTH2_PERMISSION_GRANT as G;
        let mut out: Vec<String> = Vec::new();
        for g in self.oauth2_grants.values() {
            let guid = |n: &str| g.get_str(&G, n).and_then(|s| Uuid::parse_str(s).ok());
            let applies = match g.get_str(&G, "consentType") {
                Some("AllPrincipals") => true,
                _ => guid("principalId") == Some(user),
            };
            if guid("clientId") == Some(client_sp) && guid("resourceId") == Some(resource_sp) && applies {
                out.extend(
                    g.get_str(&G, "scope").unwrap_or_default().split(' ').filter(|s| !s.is_empty()).map(str::to_owned),
                );
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// What an application's `requiredResourceAccess` asks of Microsoft Graph:
    /// (application permission values, delegated permission values).
    pub(crate) fn required_graph_permissions(&self, app_id: Uuid) -> (Vec<String>, Vec<String>) {
        match self.application_by_app_id(app_id) {
            Some(app) => required_graph_permissions_of(app),
            None => (Vec::new(), Vec::new()),
        }
    }
}

/// [`super::Directory::required_graph_permissions`] of an application record,
/// also one copied from another tenant (a multi-tenant application consented
/// to outside its home).
pub(crate) fn required_graph_permissions_of(app: &super::record::Record) -> (Vec<String>, Vec<String>) {
    use super::applications::APPLICATION;
    let catalog = super::catalog::Catalog::get();
    let graph = super::catalog::MICROSOFT_GRAPH_APP_ID.to_string();
    let (mut roles, mut scopes) = (Vec::new(), Vec::new());
    let required = app.get(&APPLICATION, "requiredResourceAccess").and_then(Value::as_array);
    for entry in required.into_iter().flatten() {
        if entry.get("resourceAppId").and_then(Value::as_str) != Some(graph.as_str()) {
            continue;
        }
        for access in entry.get("resourceAccess").and_then(Value::as_array).into_iter().flatten() {
            let id = access.get("id").and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok());
            let Some(id) = id else { continue };
            match access.get("type").and_then(Value::as_str) {
                Some("Role") => roles.extend(catalog.app_role_by_id(id).map(|p| p.value.clone())),
                Some("Scope") => scopes.extend(
                    catalog
                        .permissions
                        .iter()
                        .find(|p| p.id == id && p.kind == super::catalog::PermissionKind::Delegated)
                        .map(|p| p.value.clone()),
                ),
                _ => {}
            }
        }
    }
    (roles, scopes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(expires: OffsetDateTime) -> AuthCode {
        AuthCode {
            client: Uuid::nil(),
            user: Uuid::nil(),
            redirect_uri: "http://localhost".into(),
            redirect_kind: "publicClient".into(),
            scope: "openid".into(),
            nonce: None,
            code_challenge: None,
            code_challenge_method: None,
            auth_time: 0,
            expires,
            redeemed: false,
        }
    }

    #[test]
    fn expired_codes_are_swept_once_the_map_is_large() {
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let mut s = SignIn::default();
        for i in 0..SWEEP_AT {
            s.insert_code(format!("k{i}"), code(t0 + time::Duration::minutes(10)), t0);
        }
        let later = t0 + time::Duration::hours(1);
        s.insert_code("fresh".into(), code(later + time::Duration::minutes(10)), later);
        assert_eq!(s.codes.len(), 1);
    }

    #[test]
    fn an_expired_session_is_not_found() {
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let mut s = SignIn::default();
        s.insert_session("k".into(), BrowserSession { user: Uuid::nil(), auth_time: 0, expires: t0 }, t0);
        assert!(s.session("k", t0).is_none());
    }
}

#[cfg(test)]
mod federated_tests {
    use super::*;

    #[test]
    fn the_replay_cache_forgets_at_not_on_or_after_and_never_grows_past_its_cap() {
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let mut f = FederatedSignIns::default();
        f.remember("a".into(), t0 + time::Duration::hours(1), t0);
        assert!(f.seen("a", t0 + time::Duration::minutes(59)));
        assert!(!f.seen("a", t0 + time::Duration::hours(1)), "expired with its NotOnOrAfter");
        for i in 0..MAX_SEEN_ASSERTIONS + 10 {
            let until = t0 + time::Duration::seconds(10 + i as i64);
            f.remember(format!("id{i}"), until, t0);
        }
        assert_eq!(f.len().1, MAX_SEEN_ASSERTIONS);
        // The newest survive; the ones closest to expiring went first.
        assert!(f.seen(&format!("id{}", MAX_SEEN_ASSERTIONS + 9), t0));
        assert!(!f.seen("id0", t0));
    }

    #[test]
    fn a_pending_sign_in_is_answered_once_and_expires() {
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let mut f = FederatedSignIns::default();
        let p = PendingFederated { reply_to: "https://h/login.srf".into(), expires: t0 + time::Duration::hours(1) };
        f.send("_r".into(), p, t0);
        assert!(f.pending("_r", t0).is_some());
        assert!(f.pending("_r", t0 + time::Duration::hours(1)).is_none());
        f.answered("_r");
        assert!(f.pending("_r", t0).is_none());
        assert_eq!(f.len().0, 0);
    }
}
