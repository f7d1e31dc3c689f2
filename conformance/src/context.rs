//! [`Ctx`]: what a scenario works with — the SDK client (through the recording proxy), raw
//! HTTP for what the SDK does not expose, run-prefixed names, the cleanup registry, polling
//! with deadlines, and the mock's control API.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use graphbox_sdk::auth::{ClientCertificateCredential, ClientSecretCredential, Credential};
use graphbox_sdk::{GraphClient, GraphClientBuilder};
use reqwest::Method;
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::proxy::{Exchange, Proxy};
use crate::scenario::{ensure, Failure};
use crate::target::{Capabilities, Session, TenantCredential};

/// Something the run created and must delete, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cleanup {
    /// `DELETE /users/{id}` then purge from deleted items.
    User(String),
    /// `DELETE /applications/{id}` then purge.
    Application(String),
    /// `DELETE /servicePrincipals/{id}`.
    ServicePrincipal(String),
    /// `DELETE /groups/{id}` then purge.
    Group(String),
    /// `DELETE /roleManagement/directory/roleAssignments/{id}`.
    RoleAssignment(String),
    /// `DELETE /oauth2PermissionGrants/{id}`.
    PermissionGrant(String),
    /// `DELETE /servicePrincipals/{resource}/appRoleAssignedTo/{id}`.
    AppRoleAssignment {
        /// Resource service principal id.
        resource: String,
        /// Assignment id.
        id: String,
    },
}

/// A raw HTTP answer.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// Status code.
    pub status: u16,
    /// Response headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body parsed as JSON (`Null` when empty or not JSON).
    pub json: Value,
    /// The body as text.
    pub text: String,
}

impl RawResponse {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `error.code` of a Graph error envelope, or `error` of an identity-platform error.
    pub fn error_code(&self) -> Option<&str> {
        self.json.pointer("/error/code").or_else(|| self.json.get("error")).and_then(Value::as_str)
    }
}

struct Inner {
    session: Session,
    caps: Capabilities,
    proxy: Proxy,
    graph: GraphClient,
    http: reqwest::Client,
    prefix: String,
    counter: AtomicUsize,
    cleanup: Mutex<Vec<Cleanup>>,
    domain: OnceCell<String>,
}

/// A scenario's context; cheap to clone.
#[derive(Clone)]
pub struct Ctx(Arc<Inner>);

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx").field("tenant", &self.0.session.tenant).field("prefix", &self.0.prefix).finish()
    }
}

impl Ctx {
    pub(crate) fn new(session: Session, caps: Capabilities, proxy: Proxy, prefix: String) -> Result<Self, Failure> {
        let credential = main_credential(&session)?;
        let graph = builder_for(&session, &proxy).credential(credential).build()?;
        Ok(Self(Arc::new(Inner {
            session,
            caps,
            proxy,
            graph,
            http: reqwest::Client::new(),
            prefix,
            counter: AtomicUsize::new(0),
            cleanup: Mutex::new(Vec::new()),
            domain: OnceCell::new(),
        })))
    }

    /// The SDK client of the main application (the mock's bootstrap app, or yours).
    pub fn graph(&self) -> &GraphClient {
        &self.0.graph
    }

    /// A builder pointed at the target through the proxy (authority, Graph URL, tenant set);
    /// add a credential, or a scope, and build.
    pub fn builder(&self) -> GraphClientBuilder {
        builder_for(&self.0.session, &self.0.proxy)
    }

    /// What the target can do.
    pub fn caps(&self) -> Capabilities {
        self.0.caps
    }

    /// The tenant this scenario runs in.
    pub fn session(&self) -> &Session {
        &self.0.session
    }

    /// A unique, run-prefixed name: `gbx-1a2b3c-<what>-<n>`.
    pub fn name(&self, what: &str) -> String {
        let n = self.0.counter.fetch_add(1, Ordering::Relaxed);
        format!("{}{what}-{n}", self.0.prefix)
    }

    /// The run prefix, e.g. `gbx-1a2b3c-`.
    pub fn prefix(&self) -> &str {
        &self.0.prefix
    }

    /// The tenant's initial domain (from the ready line, or `GET /domains` on a real tenant).
    pub async fn domain(&self) -> Result<String, Failure> {
        if let Some(d) = &self.0.session.tenant_domain {
            return Ok(d.clone());
        }
        let domain = self
            .0
            .domain
            .get_or_try_init(|| async {
                let domains = self.graph().domains().list().send().await?;
                let initial = domains.value.iter().find(|d| d.is_initial == Some(true)).or(domains.value.first());
                initial.and_then(|d| d.id.as_ref()).map(|id| id.to_string()).ok_or_else(|| Failure::new("no domains"))
            })
            .await?;
        Ok(domain.clone())
    }

    /// A fresh `(userPrincipalName, mailNickname)` in the tenant's initial domain.
    pub async fn upn(&self, alias: &str) -> Result<(String, String), Failure> {
        let nick = self.name(alias);
        Ok((format!("{nick}@{}", self.domain().await?), nick))
    }

    /// Registers something to delete when the scenario ends, whatever the outcome.
    pub fn cleanup(&self, item: Cleanup) {
        if let Ok(mut list) = self.0.cleanup.lock() {
            list.push(item);
        }
    }

    /// The last request that went through the proxy.
    pub fn last(&self) -> Option<Exchange> {
        self.0.proxy.last()
    }

    /// Every request so far.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.0.proxy.exchanges()
    }

    /// A raw Graph request: `path` is relative to `/v1.0` (e.g. `/users?$top=1`).
    pub fn graph_request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.0.http.request(method, format!("{}{path}", self.0.proxy.graph_url()))
    }

    /// A raw request to the identity platform: `path` like `/{tenant}/oauth2/v2.0/token`.
    pub fn identity_request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.0.http.request(method, format!("{}{path}", self.0.proxy.origin()))
    }

    /// `POST /{tenant}/oauth2/v2.0/token` with a form, answered raw.
    pub async fn token_request(&self, form: &[(&str, &str)]) -> Result<RawResponse, Failure> {
        let path = format!("/{}/oauth2/v2.0/token", self.0.session.tenant);
        send(self.identity_request(Method::POST, &path).form(form)).await
    }

    /// A fresh access token for the main application (not the SDK's cached one).
    pub async fn token(&self) -> Result<String, Failure> {
        if let TenantCredential::Secret(secret) = &self.0.session.credential {
            let r = self
                .token_request(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", &self.0.session.client_id),
                    ("client_secret", secret),
                    ("scope", "https://graph.microsoft.com/.default"),
                ])
                .await?;
            return r.json["access_token"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| Failure::new(format!("token request: expected access_token, got status {}", r.status)));
        }
        // A certificate: let a fresh SDK client sign the assertion, and read the bearer it sent.
        let graph = self.builder().credential(main_credential(&self.0.session)?).build()?;
        graph.users().list().top(1).send().await?;
        self.last().and_then(|e| e.bearer).ok_or_else(|| Failure::new("no bearer token was sent"))
    }

    /// Sends a raw request and reads the answer.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Result<RawResponse, Failure> {
        send(request).await
    }

    /// Polls `attempt` until it yields `Some`, for what a real tenant makes eventually
    /// consistent (replication after a write). On a mock the first answer counts.
    pub async fn eventually<T, F, Fut>(&self, what: &str, mut attempt: F) -> Result<T, Failure>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Option<T>, Failure>>,
    {
        let deadline = if self.0.caps.is_mock { Duration::ZERO } else { Duration::from_secs(90) };
        let start = tokio::time::Instant::now();
        let mut delay = Duration::from_millis(500);
        loop {
            if let Some(value) = attempt().await? {
                return Ok(value);
            }
            if start.elapsed() + delay > deadline {
                return Err(Failure::new(format!("{what}: not observed within {} s", deadline.as_secs())));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(8));
        }
    }

    /// `POST` to this tenant's control API (`…/_graphbox/tenants/{tid}/{path}`).
    pub async fn control(&self, method: Method, path: &str, body: Option<Value>) -> Result<RawResponse, Failure> {
        let base = self.0.session.control.as_ref().ok_or_else(|| Failure::new("target has no control API"))?;
        let mut request = self.0.http.request(method, format!("{base}/{path}"));
        if let Some(body) = body {
            request = request.json(&body);
        }
        send(request).await
    }

    /// Moves the mock tenant's clock forward.
    pub async fn advance_clock(&self, seconds: u64) -> Result<(), Failure> {
        let r = self.control(Method::POST, "clock/advance", Some(serde_json::json!({"seconds": seconds}))).await?;
        ensure(r.status == 200, format!("control API clock/advance answered {}: {}", r.status, r.text))
    }

    /// Deletes what the scenario registered, newest first; returns what could not be deleted.
    pub(crate) async fn drain_cleanup(&self) -> Vec<String> {
        let items: Vec<Cleanup> = self.0.cleanup.lock().map(|mut l| std::mem::take(&mut *l)).unwrap_or_default();
        let mut problems = Vec::new();
        for item in items.into_iter().rev() {
            if let Err(e) = self.delete(&item).await {
                problems.push(format!("{item:?}: {e}"));
            }
        }
        problems
    }

    async fn delete(&self, item: &Cleanup) -> Result<(), Failure> {
        let g = self.graph();
        let (result, purge) = match item {
            Cleanup::User(id) => (g.users().delete(id.as_str()).send().await, Some(id)),
            Cleanup::Application(id) => (g.applications().delete(id.as_str()).send().await, Some(id)),
            Cleanup::Group(id) => (g.groups().delete(id.as_str()).send().await, Some(id)),
            Cleanup::ServicePrincipal(id) => (g.service_principals().delete(id.as_str()).send().await, None),
            Cleanup::RoleAssignment(id) => (g.role_management().unassign(id.as_str()).send().await, None),
            Cleanup::PermissionGrant(id) => (g.oauth2_permission_grants().delete(id.as_str()).send().await, None),
            Cleanup::AppRoleAssignment { resource, id } => {
                (g.service_principals().revoke_app_role(resource.as_str(), id.as_str()).send().await, None)
            }
        };
        match result {
            Ok(()) => {}
            // Already gone (the scenario deleted it itself): nothing left to clean.
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        if let Some(id) = purge {
            // Soft-deleted objects would sit in deletedItems for 30 days on a real tenant.
            match g.deleted_items().permanently_delete(id.as_str()).send().await {
                Ok(()) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

fn builder_for(session: &Session, proxy: &Proxy) -> GraphClientBuilder {
    GraphClient::builder()
        .authority_host(proxy.origin())
        .graph_url(proxy.graph_url())
        .tenant(&session.tenant)
        .timeout(Duration::from_secs(60))
}

fn main_credential(session: &Session) -> Result<Credential, Failure> {
    Ok(match &session.credential {
        TenantCredential::Secret(secret) => ClientSecretCredential::new(&session.client_id, secret.clone()).into(),
        TenantCredential::Certificate { cert_pem, key_pem } => {
            ClientCertificateCredential::from_pem(&session.client_id, cert_pem, key_pem)
                .map_err(|e| Failure::new(format!("certificate credential: {e}")))?
                .into()
        }
    })
}

async fn send(request: reqwest::RequestBuilder) -> Result<RawResponse, Failure> {
    let response = request.send().await?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await?;
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Ok(RawResponse { status, headers, json, text })
}

/// The payload of a JWT, decoded (no signature check: Graph tokens are not for clients to
/// verify, `graph-wire.md` §1.5; the claims are what scenarios compare).
pub fn claims(token: &str) -> Result<Value, Failure> {
    let payload = token.split('.').nth(1).ok_or_else(|| Failure::new("access token is not a JWT"))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| Failure::new(format!("JWT payload is not base64url: {e}")))?;
    serde_json::from_slice(&bytes).map_err(|e| Failure::new(format!("JWT payload is not JSON: {e}")))
}
