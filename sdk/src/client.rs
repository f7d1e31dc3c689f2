//! [`GraphClient`] and its builder.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde::de::DeserializeOwned;

use crate::auth::{missing_credential, Credential, CredentialKind, TokenCache, TokenEndpoint};
use crate::error::{BuildError, Error};
use crate::paging::Page;
use crate::runtime::{Clock, RandomSource, Sleeper, SystemClock, SystemRandom, TokioSleeper};
use crate::transport::{decode, GraphRequest, RetryPolicy, Transport};

/// A Microsoft cloud: where tokens come from and where Graph lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Cloud {
    /// The worldwide cloud: `login.microsoftonline.com`, `graph.microsoft.com`.
    #[default]
    Public,
    /// Azure US Government: `login.microsoftonline.us`, `graph.microsoft.us`.
    UsGov,
    /// Azure China (21Vianet): `login.chinacloudapi.cn`, `microsoftgraph.chinacloudapi.cn`.
    China,
}

impl Cloud {
    /// The authority host, e.g. `https://login.microsoftonline.com`.
    pub fn authority_host(self) -> &'static str {
        match self {
            Cloud::Public => "https://login.microsoftonline.com",
            Cloud::UsGov => "https://login.microsoftonline.us",
            Cloud::China => "https://login.chinacloudapi.cn",
        }
    }

    /// The Graph v1.0 base URL, e.g. `https://graph.microsoft.com/v1.0`.
    pub fn graph_url(self) -> &'static str {
        match self {
            Cloud::Public => "https://graph.microsoft.com/v1.0",
            Cloud::UsGov => "https://graph.microsoft.us/v1.0",
            Cloud::China => "https://microsoftgraph.chinacloudapi.cn/v1.0",
        }
    }

    /// The client-credentials scope for Graph in this cloud.
    pub fn graph_scope(self) -> &'static str {
        match self {
            Cloud::Public => "https://graph.microsoft.com/.default",
            Cloud::UsGov => "https://graph.microsoft.us/.default",
            Cloud::China => "https://microsoftgraph.chinacloudapi.cn/.default",
        }
    }
}

/// A Microsoft Graph v1.0 client. Cheap to clone: clones share the connection pool, the token
/// cache and the configuration.
///
/// ```no_run
/// # async fn run() -> Result<(), graphbox_sdk::Error> {
/// use graphbox_sdk::{auth::ClientSecretCredential, GraphClient};
/// let graph = GraphClient::builder()
///     .tenant("contoso.onmicrosoft.com")
///     .credential(ClientSecretCredential::new("3c9e8a71-2b4d-4f60-a8e5-7d1c0b9e2f34", "secret"))
///     .build()?;
/// let me = graph.users().get("mira@contoso.onmicrosoft.com").send().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct GraphClient {
    pub(crate) transport: Arc<Transport>,
}

/// Configures a [`GraphClient`]; see [`GraphClient::builder`].
#[derive(Debug)]
#[must_use = "a builder does nothing until .build()"]
pub struct GraphClientBuilder {
    cloud: Cloud,
    authority_host: Option<String>,
    graph_url: Option<String>,
    scope: Option<String>,
    tenant: Option<String>,
    credential: Option<Credential>,
    ca_pems: Vec<Vec<u8>>,
    timeout: Duration,
    connect_timeout: Duration,
    user_agent: String,
    retry: RetryPolicy,
    clock: Arc<dyn Clock>,
    sleeper: Arc<dyn Sleeper>,
    random: Arc<dyn RandomSource>,
}

impl GraphClient {
    /// A builder with public-cloud defaults, a 60 s request timeout and the default
    /// [`RetryPolicy`].
    pub fn builder() -> GraphClientBuilder {
        GraphClientBuilder {
            cloud: Cloud::Public,
            authority_host: None,
            graph_url: None,
            scope: None,
            tenant: None,
            credential: None,
            ca_pems: Vec::new(),
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            user_agent: concat!("graphbox-sdk/", env!("CARGO_PKG_VERSION")).to_owned(),
            retry: RetryPolicy::default(),
            clock: Arc::new(SystemClock),
            sleeper: Arc::new(TokioSleeper),
            random: Arc::new(SystemRandom::new()),
        }
    }

    /// What this client (and its clones) waited so far, by reason: pacing near a throttling
    /// limit, `Retry-After`, back-off. See [`crate::pacing`].
    pub fn waits(&self) -> crate::pacing::WaitReport {
        self.transport.pacer.report()
    }

    /// The Graph base URL this client talks to, e.g. `https://graph.microsoft.com/v1.0`.
    pub fn graph_url(&self) -> &str {
        &self.transport.graph_url
    }

    /// The access token this client sends to Graph (from its cache, fetched if needed), e.g. to
    /// read its `roles` or `wids` claims.
    ///
    /// # Errors
    ///
    /// [`Error::Auth`] when no token could be acquired.
    pub async fn access_token(&self) -> Result<crate::auth::AccessToken, Error> {
        self.transport.tokens.token(&self.transport.scope).await.map_err(Error::Auth)
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.transport.graph_url)
    }

    pub(crate) async fn send_raw(
        &self,
        method: Method,
        url: String,
        body: Option<serde_json::Value>,
        eventual: bool,
    ) -> Result<crate::transport::GraphResponse, Error> {
        self.transport.execute(GraphRequest { method, url, body, eventual, max_page_size: None }).await
    }

    pub(crate) async fn send_request(&self, request: GraphRequest) -> Result<crate::transport::GraphResponse, Error> {
        self.transport.execute(request).await
    }

    pub(crate) async fn send_json<T: DeserializeOwned>(
        &self,
        method: Method,
        url: String,
        body: Option<serde_json::Value>,
        eventual: bool,
    ) -> Result<T, Error> {
        let response = self.send_raw(method, url, body, eventual).await?;
        decode(&response.body, &response.request)
    }

    /// Fetches the page at `next_link` (an `@odata.nextLink`, followed verbatim).
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// let first = graph.users().list().top(100).send().await?;
    /// if let Some(link) = &first.next_link {
    ///     let second = graph.get_page::<graphbox_sdk::models::User>(link).await?;
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Build`] if the link is not under the Graph base URL; otherwise as any call.
    ///
    /// Graph does not carry request headers in a `nextLink`, so when the link continues an
    /// advanced query (it holds `$search` or `$count=true`, which this SDK adds to every advanced
    /// query) `ConsistencyLevel: eventual` is sent again, as the first page needed it.
    pub async fn get_page<T: DeserializeOwned>(&self, next_link: &str) -> Result<Page<T>, Error> {
        let eventual = crate::paging::link_needs_eventual(next_link);
        let mut page: Page<T> = self.send_json(Method::GET, next_link.to_owned(), None, eventual).await?;
        page.eventual = eventual;
        Ok(page)
    }
}

fn trim_url(url: &str) -> String {
    url.trim_end_matches('/').to_owned()
}

impl GraphClientBuilder {
    /// A national cloud's authority host, Graph URL and scope.
    pub fn cloud(mut self, cloud: Cloud) -> Self {
        self.cloud = cloud;
        self
    }

    /// The authority host (scheme, host, port), e.g. `https://127.0.0.1:5443` for the mock.
    pub fn authority_host(mut self, url: impl Into<String>) -> Self {
        self.authority_host = Some(url.into());
        self
    }

    /// The Graph base URL including the version, e.g. `http://127.0.0.1:39017/v1.0`.
    pub fn graph_url(mut self, url: impl Into<String>) -> Self {
        self.graph_url = Some(url.into());
        self
    }

    /// The token scope (default: the cloud's `…/.default`, which the mock accepts too).
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// The tenant id or a verified domain (needed by the built-in credentials).
    pub fn tenant(mut self, tenant: impl ToString) -> Self {
        self.tenant = Some(tenant.to_string());
        self
    }

    /// How to get tokens.
    pub fn credential(mut self, credential: impl Into<Credential>) -> Self {
        self.credential = Some(credential.into());
        self
    }

    /// Also trust this CA (PEM), e.g. the mock's `ca_pem()`.
    pub fn add_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca_pems.push(pem.into());
        self
    }

    /// Timeout for one attempt of a request, body included (default 60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Timeout for establishing a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The `User-Agent` header (default `graphbox-sdk/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// How throttled and failed requests are retried.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The clock for token expiry and the retry time budget.
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// What waits between retries.
    pub fn sleeper(mut self, sleeper: impl Sleeper + 'static) -> Self {
        self.sleeper = Arc::new(sleeper);
        self
    }

    /// Randomness for jitter, `client-request-id`s and assertion `jti`s.
    pub fn random(mut self, random: impl RandomSource + 'static) -> Self {
        self.random = Arc::new(random);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// [`Error::Build`] if a CA PEM does not parse, the HTTP client cannot be created, or a
    /// built-in credential has no tenant.
    pub fn build(self) -> Result<GraphClient, Error> {
        let mut http = reqwest::Client::builder()
            .user_agent(self.user_agent)
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout);
        for pem in &self.ca_pems {
            let cert = reqwest::Certificate::from_pem(pem)
                .map_err(|e| BuildError::with_source("CA PEM could not be parsed", e))?;
            http = http.add_root_certificate(cert);
        }
        let http = http.build().map_err(|e| BuildError::with_source("HTTP client could not be created", e))?;
        let authority = trim_url(self.authority_host.as_deref().unwrap_or(self.cloud.authority_host()));
        let graph_url = trim_url(self.graph_url.as_deref().unwrap_or(self.cloud.graph_url()));
        let credential = self.credential.ok_or_else(missing_credential)?;
        let tenant = match (&credential.0, self.tenant) {
            (CredentialKind::Custom(_), tenant) => tenant.unwrap_or_default(),
            (_, Some(tenant)) => tenant,
            (_, None) => {
                return Err(BuildError::new("a tenant is required for this credential: call .tenant(..)").into())
            }
        };
        let endpoint = TokenEndpoint {
            http: http.clone(),
            url: format!("{authority}/{tenant}/oauth2/v2.0/token"),
            clock: self.clock.clone(),
            random: self.random.clone(),
            sleeper: self.sleeper.clone(),
        };
        let transport = Transport {
            http,
            graph_url,
            scope: self.scope.unwrap_or_else(|| self.cloud.graph_scope().to_owned()),
            tokens: Arc::new(TokenCache::new(credential.0, endpoint)),
            retry: self.retry,
            clock: self.clock,
            sleeper: self.sleeper,
            random: self.random,
            pacer: Default::default(),
        };
        Ok(GraphClient { transport: Arc::new(transport) })
    }
}
