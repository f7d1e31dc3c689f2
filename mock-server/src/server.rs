//! [`Graphbox`]: start a server, read its facts, stop it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio::sync::watch;
use uuid::Uuid;

use crate::handle::{
    ClockControl, ControlError, DirSyncControl, FaultControl, RequestLogEntry, TenantControl, Tenants,
};
use crate::keys::{KeyError, KeyMaterial};
use crate::realism::RealismConfig;
use crate::service::Server;
use crate::state::StateError;
use crate::tenant::Tenant;

/// The facts a client needs: the ready line's JSON, field for field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadyInfo {
    pub authority: String,
    pub graph_url: String,
    pub tenant_id: Uuid,
    pub tenant_domain: String,
    pub client_id: Uuid,
    pub client_secret: String,
    pub admin_username: String,
    pub admin_password: String,
    pub ca_file: Option<PathBuf>,
    pub control_url: String,
}

impl ReadyInfo {
    pub(crate) fn for_tenant(authority: &str, ca_file: &Path, tls: bool, tenant: &Tenant) -> Self {
        ReadyInfo {
            authority: authority.to_owned(),
            graph_url: format!("{authority}/v1.0"),
            tenant_id: tenant.id,
            tenant_domain: tenant.domain(),
            client_id: tenant.bootstrap.client_id,
            client_secret: tenant.bootstrap.client_secret.clone(),
            admin_username: tenant.bootstrap.admin_username.clone(),
            admin_password: tenant.bootstrap.admin_password.clone(),
            ca_file: tls.then(|| ca_file.to_owned()),
            control_url: format!("{authority}/_graphbox"),
        }
    }
}

/// Why a server did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    #[error("cannot listen on {addr}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("key material unavailable")]
    Keys(#[from] KeyError),
    #[error("state file unusable")]
    State(#[from] StateError),
    #[error("TLS configuration failed: {0}")]
    Tls(String),
    #[error("seed user {index} was refused: {message}")]
    Seed { index: usize, message: String },
    #[error("invalid setting: {0}")]
    Setting(String),
}

/// Configures and starts a [`Graphbox`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until .start().await"]
pub struct GraphboxBuilder {
    host: String,
    port: u16,
    tls: bool,
    data_dir: Option<PathBuf>,
    state_file: Option<PathBuf>,
    seed: Option<u64>,
    admin_key: Option<String>,
    frozen_at: Option<OffsetDateTime>,
    seed_users: SeedUsers,
    limits: crate::http::Limits,
    public_url: Option<String>,
    realism: Option<crate::realism::RealismConfig>,
    compact_after_bytes: u64,
}

type UserBody = serde_json::Map<String, serde_json::Value>;
type UserSource = dyn Fn(&str) -> Box<dyn Iterator<Item = UserBody>> + Send + Sync;

/// Where the default tenant's seed users come from.
#[derive(Clone)]
enum SeedUsers {
    List(Vec<UserBody>),
    /// Called with the tenant's initial domain each time a builder starts.
    Generated(Arc<UserSource>),
}

impl std::fmt::Debug for SeedUsers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SeedUsers::List(users) => write!(f, "{} users", users.len()),
            SeedUsers::Generated(_) => f.write_str("generated users"),
        }
    }
}

impl Default for GraphboxBuilder {
    fn default() -> Self {
        GraphboxBuilder {
            host: "127.0.0.1".to_owned(),
            port: 0,
            tls: true,
            data_dir: None,
            state_file: None,
            seed: None,
            admin_key: None,
            frozen_at: None,
            seed_users: SeedUsers::List(Vec::new()),
            limits: crate::http::Limits::default(),
            public_url: None,
            realism: None,
            compact_after_bytes: crate::state::COMPACT_AFTER_BYTES,
        }
    }
}

impl GraphboxBuilder {
    /// Address to listen on (default `127.0.0.1`).
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = host.into();
        self
    }
    /// Port to listen on; 0 (the default) takes any free port.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
    /// Serve plain HTTP instead of HTTPS.
    pub fn plain_http(mut self) -> Self {
        self.tls = false;
        self
    }
    /// Keep the CA, server certificate and signing key in `dir` (created if
    /// missing); without it, in-process servers share per-process ephemeral keys.
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }
    /// Load tenants from `file` on start (if it exists) and save them there on
    /// shutdown and on `POST /_graphbox/state/save`.
    pub fn state_file(mut self, file: impl Into<PathBuf>) -> Self {
        self.state_file = Some(file.into());
        self
    }
    /// With a state file: the journal segment size past which the server folds
    /// the journal into the state file in the background (default 64 MiB;
    /// `u64::MAX` never, until a save or the next start — benchmarks of replay).
    pub fn compact_after_bytes(mut self, bytes: u64) -> Self {
        self.compact_after_bytes = bytes;
        self
    }
    /// Seed for object ids: the same seed gives the same tenants and ids.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }
    /// Let non-loopback callers use the control API with this key. An empty
    /// key is refused at start: it would match a caller that sends no key.
    pub fn admin_key(mut self, key: impl Into<String>) -> Self {
        self.admin_key = Some(key.into());
        self
    }
    /// The URL clients reach this server at when it is not the listening
    /// address (behind a reverse proxy, in a container): links, issuers and
    /// the ready line use it, and requests whose `Host` names it are ours.
    pub fn public_url(mut self, url: impl Into<String>) -> Self {
        self.public_url = Some(url.into());
        self
    }
    /// All request and connection bounds at once (see [`crate::Limits`]).
    pub fn limits(mut self, limits: crate::Limits) -> Self {
        self.limits = limits;
        self
    }
    /// Largest request body (default 4 MiB, Graph's; larger is 413).
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.limits.max_body_bytes = bytes;
        self
    }
    /// Time a request has, from its first byte, to finish its line and headers
    /// (default 30 s); past it the connection is closed.
    pub fn header_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.limits.header_timeout = timeout;
        self
    }
    /// Time a request's body has to arrive after its headers (default 60 s);
    /// past it the answer is 408 and the connection is closed.
    pub fn body_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.limits.body_timeout = timeout;
        self
    }
    /// Time a connection may go with no request under way and no byte moved
    /// (default 120 s); past it the connection is closed.
    pub fn idle_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.limits.idle_timeout = timeout;
        self
    }
    /// Time a TLS handshake may take (default 10 s).
    pub fn tls_handshake_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.limits.tls_handshake_timeout = timeout;
        self
    }
    /// Connections served at once (default 1 024); more wait to be accepted.
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.limits.max_connections = connections;
        self
    }
    /// Realism for the default tenant: a profile (`off`, `entra`,
    /// `adversarial`), its seed and overrides, e.g.
    /// `RealismConfig::new(RealismProfile::Entra, 7)`. Replaces what a loaded
    /// state file says for that tenant; without this, a loaded tenant keeps
    /// its saved setting and a new one is `off`.
    pub fn realism(mut self, config: crate::realism::RealismConfig) -> Self {
        self.realism = Some(config);
        self
    }

    /// Freeze new tenants' clocks at `at` (they move only when advanced).
    pub fn frozen_clock(mut self, at: OffsetDateTime) -> Self {
        self.frozen_at = Some(at);
        self
    }

    /// Users to create (as `POST /users` bodies) in the default tenant when it
    /// is new rather than loaded from a state file. `{domain}` in any string
    /// value stands for the tenant's initial domain, which is only known once the
    /// tenant exists.
    ///
    /// Replaces users given earlier with this or [`GraphboxBuilder::seed_users_with`].
    pub fn seed_users(mut self, users: Vec<serde_json::Map<String, serde_json::Value>>) -> Self {
        self.seed_users = SeedUsers::List(users);
        self
    }

    /// Users to create in the default tenant as [`GraphboxBuilder::seed_users`]
    /// does, produced one at a time: `users` is called with the tenant's initial
    /// domain when the default tenant is new, and each body is dropped once its
    /// user exists. A million bodies as JSON maps take ~1.6 GB; produced this way
    /// they never exist at once. `{domain}` is replaced as in `seed_users`.
    ///
    /// Replaces users given earlier with this or `seed_users`.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), graphbox_mock::StartError> {
    /// let mock = graphbox_mock::Graphbox::builder()
    ///     .seed_users_with(|domain| {
    ///         let domain = domain.to_owned();
    ///         (0..1_000_000).map(move |i| {
    ///             let user = serde_json::json!({
    ///                 "accountEnabled": true,
    ///                 "displayName": format!("User {i:07}"),
    ///                 "mailNickname": format!("user{i:07}"),
    ///                 "userPrincipalName": format!("user{i:07}@{domain}"),
    ///                 "passwordProfile": {"password": "Gb!x12345678a"},
    ///             });
    ///             user.as_object().cloned().unwrap_or_default()
    ///         })
    ///     })
    ///     .start()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn seed_users_with<F, I>(mut self, users: F) -> Self
    where
        F: Fn(&str) -> I + Send + Sync + 'static,
        I: IntoIterator<Item = serde_json::Map<String, serde_json::Value>>,
        I::IntoIter: 'static,
    {
        let source: Arc<UserSource> =
            Arc::new(move |domain: &str| -> Box<dyn Iterator<Item = UserBody>> { Box::new(users(domain).into_iter()) });
        self.seed_users = SeedUsers::Generated(source);
        self
    }

    /// Bind, load or create the default tenant, and start serving.
    ///
    /// # Errors
    /// [`StartError`] when the port is taken, the key material cannot be read or
    /// made, or the state file is corrupt or from a newer graphbox.
    pub async fn start(self) -> Result<Graphbox, StartError> {
        self.check_settings()?;
        let keys = match &self.data_dir {
            Some(dir) => Arc::new(KeyMaterial::load_or_create(dir)?),
            None => KeyMaterial::ephemeral()?,
        };
        // The snapshot with the journal replayed onto it; nothing is written
        // until the server is about to serve.
        let (saved, journal_at) = match &self.state_file {
            Some(path) => {
                let recovered = crate::state::recover(path)?;
                (recovered.state, Some((recovered.next_segment, recovered.last_seq, recovered.torn)))
            }
            None => (None, None),
        };
        let addr = format!("{}:{}", self.host, self.port);
        let listener =
            TcpListener::bind(&addr).await.map_err(|source| StartError::Bind { addr: addr.clone(), source })?;
        let local = listener.local_addr().map_err(|source| StartError::Bind { addr, source })?;
        let tls = if self.tls {
            let config = rustls::ServerConfig::builder_with_provider(Arc::new(ring_provider()))
                .with_safe_default_protocol_versions()
                .map_err(|e| StartError::Tls(e.to_string()))?
                .with_no_client_auth()
                .with_single_cert(keys.tls.chain.clone(), keys.tls.private_key())
                .map_err(|e| StartError::Tls(e.to_string()))?;
            let mut config = config;
            // HTTP/1.1 only: advertising h2 without speaking it breaks clients.
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            Some(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
        } else {
            None
        };
        let seed = self.seed.unwrap_or_else(crate::ids::random_seed);
        let state_path = self.state_file.clone().unwrap_or_default();
        let names = crate::http::Names::new(self.tls, &self.host, local, self.public_url.as_deref());
        let intake = Arc::new(crate::http::Intake { limits: self.limits, names });
        let server = Arc::new(Server::new(keys, self.tls, seed, self.admin_key, self.state_file, self.frozen_at));
        let mut loaded = false;
        let default_tenant = match saved {
            Some(state) if !state.tenants.is_empty() => {
                loaded = true;
                let path = state_path;
                crate::tenant::check_domain_claims(&state.tenants)
                    .map_err(|e| StateError::Corrupt { path: path.clone(), detail: e.to_string() })?;
                let mut restored = Vec::with_capacity(state.tenants.len());
                // Every tenant is checked before any is served: a file with one
                // unusable tenant stops the start, it never half-loads.
                for t in state.tenants {
                    let id = t.id;
                    let tenant = Tenant::restore(t)
                        .map_err(|e| StateError::Corrupt { path: path.clone(), detail: format!("tenant {id}: {e}") })?;
                    restored.push(tenant);
                }
                let mut first = None;
                for t in restored {
                    let t = server.tenants.insert(t);
                    first.get_or_insert(t);
                }
                first.ok_or_else(|| StateError::Corrupt { path, detail: "no tenants".into() })?
            }
            _ => {
                let tenant = Tenant::create(&server.next_tenant_options(), None);
                {
                    let now = tenant.clock.now();
                    let mut dir = tenant.write();
                    let domain = dir.initial_domain().to_owned();
                    let users: Box<dyn Iterator<Item = UserBody>> = match self.seed_users {
                        SeedUsers::List(users) => Box::new(users.into_iter()),
                        SeedUsers::Generated(source) => source(&domain),
                    };
                    let users = users.map(|mut user| {
                        replace_domain(&mut user, &domain);
                        user
                    });
                    dir.create_users(users, now).map_err(|(index, e)| StartError::Seed {
                        index,
                        message: format!("{} {}", e.code, e.message),
                    })?;
                }
                server.tenants.insert(tenant)
            }
        };
        if let (Some(path), Some((segment, last_seq, torn))) = (&server.state_file, journal_at) {
            // What was replayed (or seeded) becomes the new snapshot, and every
            // write from here on is journaled before it is acknowledged. When
            // the files on disk already hold every tenant (loaded, nothing cut
            // short), that snapshot is taken in the background: the new segment
            // simply follows the old ones until it lands, so a large tenant
            // serves at once. A fresh or seeded tenant exists only in memory,
            // and a segment with a torn tail may not be followed by another, so
            // those are saved before serving.
            let in_background = loaded && !torn;
            if !in_background {
                crate::state::checkpoint(&server.tenants.all(), path, segment)?;
            }
            let journal = crate::journal::Journal::open(path, segment, last_seq)
                .map_err(|source| StateError::Write { path: path.clone(), source })?;
            server.tenants.attach_journal(journal);
            if in_background {
                let (s, p) = (server.clone(), path.clone());
                tokio::task::spawn_blocking(move || match crate::state::save_all(&s.tenants, &p) {
                    Ok(()) => {
                        tracing::info!(state = %p.display(), "journal replayed at start folded into the state file")
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "cannot fold the replayed journal into the state file; it is replayed again at the next start")
                    }
                });
            }
        }
        if let Some(config) = self.realism {
            default_tenant.realism.set(config, default_tenant.id);
            default_tenant.journal_realism();
        }
        let authority = intake.names.authority.clone();
        let ready = ReadyInfo::for_tenant(&authority, &server.keys.tls.ca_file, self.tls, &default_tenant);
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        if let (Some(path), Some(_)) = (&server.state_file, server.tenants.journal()) {
            tokio::spawn(crate::state::compact_in_background(
                server.clone(),
                path.clone(),
                self.compact_after_bytes,
                shutdown_rx.clone(),
            ));
        }
        let task = tokio::spawn(crate::http::serve(server.clone(), intake, listener, tls, shutdown_rx));
        Ok(Graphbox { ready, addr: local, server, shutdown: shutdown_tx, task: Some(task) })
    }
}

impl GraphboxBuilder {
    /// Settings that would make a server unsafe or unusable are refused before
    /// anything is bound or loaded.
    fn check_settings(&self) -> Result<(), StartError> {
        if self.admin_key.as_deref().is_some_and(|k| k.trim().is_empty()) {
            return Err(StartError::Setting(
                "the admin key is empty; an empty key would let any caller that sends an empty \
                 x-graphbox-admin-key use the control API. Give a non-empty key, or none for loopback-only access"
                    .into(),
            ));
        }
        if let Some(url) = &self.public_url {
            let ok = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")).is_some_and(|rest| {
                let host = rest.trim_end_matches('/');
                !host.is_empty() && !host.contains('/') && !host.contains(char::is_whitespace)
            });
            if !ok {
                return Err(StartError::Setting(format!(
                    "the public URL {url:?} must be scheme://host[:port], with no path"
                )));
            }
        }
        if self.frozen_at.is_some_and(|at| at > crate::clock::LATEST) {
            return Err(StartError::Setting(format!(
                "the frozen clock must be at or before {}",
                crate::clock::format_datetime(crate::clock::LATEST)
            )));
        }
        let l = &self.limits;
        let zero = [
            ("header timeout", l.header_timeout.is_zero()),
            ("body timeout", l.body_timeout.is_zero()),
            ("idle timeout", l.idle_timeout.is_zero()),
            ("TLS handshake timeout", l.tls_handshake_timeout.is_zero()),
            ("connection limit", l.max_connections == 0),
            ("body size limit", l.max_body_bytes == 0),
        ];
        if let Some((what, _)) = zero.iter().find(|(_, z)| *z) {
            return Err(StartError::Setting(format!("the {what} must be greater than zero")));
        }
        Ok(())
    }
}

/// A running mock server. Dropping it stops the server; [`Graphbox::shutdown`]
/// stops it and waits, saving state when a state file was configured.
#[derive(Debug)]
pub struct Graphbox {
    ready: ReadyInfo,
    addr: SocketAddr,
    server: Arc<Server>,
    shutdown: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Graphbox {
    /// Start on `127.0.0.1`, any free port, HTTPS, one fresh tenant.
    ///
    /// # Errors
    /// See [`GraphboxBuilder::start`].
    pub async fn start() -> Result<Graphbox, StartError> {
        GraphboxBuilder::default().start().await
    }

    pub fn builder() -> GraphboxBuilder {
        GraphboxBuilder::default()
    }

    /// Every fact of the ready line.
    pub fn ready_info(&self) -> &ReadyInfo {
        &self.ready
    }
    pub fn authority(&self) -> &str {
        &self.ready.authority
    }
    pub fn graph_url(&self) -> &str {
        &self.ready.graph_url
    }
    pub fn tenant_id(&self) -> Uuid {
        self.ready.tenant_id
    }
    pub fn tenant_domain(&self) -> &str {
        &self.ready.tenant_domain
    }
    pub fn client_id(&self) -> Uuid {
        self.ready.client_id
    }
    pub fn client_secret(&self) -> &str {
        &self.ready.client_secret
    }
    pub fn admin_username(&self) -> &str {
        &self.ready.admin_username
    }
    pub fn admin_password(&self) -> &str {
        &self.ready.admin_password
    }
    pub fn ca_file(&self) -> Option<&Path> {
        self.ready.ca_file.as_deref()
    }
    /// The CA certificate (PEM) to trust for HTTPS.
    pub fn ca_pem(&self) -> &str {
        &self.server.keys.tls.ca_pem
    }
    pub fn control_url(&self) -> &str {
        &self.ready.control_url
    }
    /// The token endpoint of the default tenant.
    pub fn token_url(&self) -> String {
        format!("{}/{}/oauth2/v2.0/token", self.ready.authority, self.ready.tenant_id)
    }
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The default tenant's clock (what [`Self::clock`]`().now()` answers).
    pub fn now(&self) -> OffsetDateTime {
        self.clock().now()
    }

    /// Move the default tenant's clock forward, as `POST …/clock/advance` does: replication
    /// windows, throttling buckets and DirSync deadlines see the new time. A test or benchmark
    /// that waits on this clock instead of sleeping runs in virtual time.
    ///
    /// # Errors
    /// The clock would pass what the server can represent; it was not moved.
    pub fn advance_clock(&self, by: std::time::Duration) -> Result<(), String> {
        self.clock().advance(by).map(drop).map_err(|e| e.message)
    }

    /// The default tenant's realism report (`GET …/realism/report`): per client, requests,
    /// 429s received, early retries, the largest burst.
    pub fn realism_report(&self) -> serde_json::Value {
        self.default_tenant().realism_report().unwrap_or(serde_json::Value::Null)
    }

    /// The default tenant's control plane; [`Self::tenants`] reaches the others.
    pub fn default_tenant(&self) -> TenantControl<'_> {
        TenantControl::new(self, self.ready.tenant_id)
    }

    /// The default tenant's clock: `now`, `advance`, `set`.
    pub fn clock(&self) -> ClockControl<'_> {
        self.default_tenant().clock()
    }

    /// The default tenant's scripted faults (429/5xx with `Retry-After`).
    pub fn faults(&self) -> FaultControl<'_> {
        self.default_tenant().faults()
    }

    /// The default tenant's request log, oldest first.
    pub fn requests(&self) -> Vec<RequestLogEntry> {
        self.default_tenant().requests()
    }

    /// The default tenant's DirSync machine: cycles, state, settings.
    pub fn dirsync(&self) -> DirSyncControl<'_> {
        self.default_tenant().dirsync()
    }

    /// The server's tenants: create, and each one's control plane (state, reset, fork, …).
    pub fn tenants(&self) -> Tenants<'_> {
        Tenants(self)
    }

    /// The default tenant's realism setting (`GET …/realism`).
    pub fn realism(&self) -> RealismConfig {
        self.default_tenant().realism().unwrap_or_default()
    }

    /// Put a realism setting in force on the default tenant (`PUT …/realism`).
    ///
    /// # Errors
    /// See [`TenantControl::set_realism`].
    pub fn set_realism(&self, config: RealismConfig) -> Result<(), ControlError> {
        self.default_tenant().set_realism(config)
    }

    pub(crate) fn server(&self) -> &Arc<Server> {
        &self.server
    }

    pub(crate) fn ready_for(&self, tenant: &Tenant) -> ReadyInfo {
        ReadyInfo::for_tenant(&self.ready.authority, &self.server.keys.tls.ca_file, self.server.tls, tenant)
    }

    /// Create another isolated tenant on this server (also `tenants().create()`).
    pub fn create_tenant(&self) -> ReadyInfo {
        self.tenants().create()
    }

    /// Fork a tenant of this server (see `POST /_graphbox/tenants/{tid}/fork`):
    /// a new tenant with the same objects, ids, UPNs and settings, its own
    /// tenant id and bootstrap credentials, sharing unchanged data with its
    /// origin. `None` when the server has no tenant `tenant`.
    pub fn fork_tenant(&self, tenant: Uuid) -> Option<ReadyInfo> {
        self.tenants().get(tenant).fork().ok()
    }

    /// Save all tenants to the state file now.
    ///
    /// # Errors
    /// [`StateError`] when the file cannot be written; `Ok(false)` when no state
    /// file was configured.
    pub fn save_state(&self) -> Result<bool, StateError> {
        match &self.server.state_file {
            Some(path) => crate::state::save_all(&self.server.tenants, path).map(|()| true),
            None => Ok(false),
        }
    }

    /// Stop accepting, finish in-flight requests, save state if configured.
    ///
    /// # Errors
    /// [`StateError`] when the final save fails.
    pub async fn shutdown(mut self) -> Result<(), StateError> {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        let saved = self.save_state().map(|_| ());
        if let Some(journal) = self.server.tenants.journal() {
            journal.stop();
        }
        saved
    }
}

/// A ready SDK client for the mock (feature `sdk`): the default tenant's bootstrap application,
/// its URLs and its CA.
#[cfg(feature = "sdk")]
impl Graphbox {
    /// The default tenant's bootstrap application as an SDK credential (client id and secret),
    /// usable on its own too: its token endpoint and this server's CA are set, so
    /// `mock.credential().token().await` is an access token.
    pub fn credential(&self) -> graphbox_sdk::auth::ClientSecretCredential {
        let credential =
            graphbox_sdk::auth::ClientSecretCredential::new(self.ready.client_id, self.ready.client_secret.clone())
                .authority(&self.ready.authority, self.ready.tenant_id);
        if self.server.tls {
            credential.add_root_certificate_pem(self.ca_pem().as_bytes().to_vec())
        } else {
            credential
        }
    }

    /// A [`graphbox_sdk::GraphClientBuilder`] for tenant `info` of this server (its authority,
    /// Graph URL and tenant, and this server's CA when it serves HTTPS), without a credential:
    /// add one, a retry policy, a sleeper, then `build()`.
    pub fn graph_client_builder_for(&self, info: &ReadyInfo) -> graphbox_sdk::GraphClientBuilder {
        let mut builder = graphbox_sdk::GraphClient::builder()
            .authority_host(&info.authority)
            .graph_url(&info.graph_url)
            .tenant(info.tenant_id);
        if self.server.tls {
            builder = builder.add_root_certificate_pem(self.ca_pem().as_bytes().to_vec());
        }
        builder
    }

    /// A builder for the default tenant with its bootstrap credential set; customise and
    /// `build()`.
    pub fn graph_client_builder(&self) -> graphbox_sdk::GraphClientBuilder {
        self.graph_client_builder_for(&self.ready).credential(self.credential())
    }

    /// A ready Graph client for the default tenant, as its bootstrap application (the
    /// permissions onboarding needs, consented).
    ///
    /// # Errors
    /// Only if the HTTP client cannot be built (the CA did not parse).
    pub fn graph_client(&self) -> Result<graphbox_sdk::GraphClient, graphbox_sdk::Error> {
        self.graph_client_builder().build()
    }

    /// Builds a client for the default tenant from any credential (what the onboarding workflow
    /// asks for to prove the credentials it made): owned, so it outlives this borrow.
    pub fn connector(
        &self,
    ) -> impl Fn(graphbox_sdk::auth::Credential) -> Result<graphbox_sdk::GraphClient, graphbox_sdk::Error>
           + Send
           + Sync
           + 'static {
        let (info, ca_pem) = (self.ready.clone(), self.server.tls.then(|| self.ca_pem().to_owned()));
        move |credential| {
            let mut builder = graphbox_sdk::GraphClient::builder()
                .authority_host(&info.authority)
                .graph_url(&info.graph_url)
                .tenant(info.tenant_id)
                .credential(credential);
            if let Some(pem) = &ca_pem {
                builder = builder.add_root_certificate_pem(pem.as_bytes().to_vec());
            }
            builder.build()
        }
    }

    /// Waits by advancing the default tenant's clock instead of sleeping: give it to
    /// `GraphClientBuilder::sleeper` or the onboarding workflow so back-off and replication
    /// waits take no wall time.
    pub fn sleeper(&self) -> crate::handle::ClockSleeper {
        crate::handle::ClockSleeper::new(self.server.clone(), self.ready.tenant_id)
    }
}

impl Drop for Graphbox {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

/// rustls's *ring* provider. rustls 0.23.48 deprecated `ring::default_provider` for lacking
/// post-quantum key exchange, pointing at aws-lc-rs, which needs cmake and a C toolchain to
/// build; a consumer resolving a fresh lockfile saw that warning on every build. A loopback test
/// server has no use for post-quantum key exchange, and *ring* is what the workspace already
/// builds, so the deprecation is acknowledged here, once.
#[allow(deprecated)]
fn ring_provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// Replace `{domain}` in a seed user's string values, in place (a copy of each
/// body cost a tenth of a million-user seed).
fn replace_domain(user: &mut UserBody, domain: &str) {
    fn walk(v: &mut serde_json::Value, domain: &str) {
        match v {
            serde_json::Value::String(s) if s.contains("{domain}") => *s = s.replace("{domain}", domain),
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| walk(x, domain)),
            serde_json::Value::Object(o) => o.values_mut().for_each(|x| walk(x, domain)),
            _ => {}
        }
    }
    user.values_mut().for_each(|v| walk(v, domain));
}

/// Named snapshots from Rust (the control API's `…/snapshots` calls). Like the
/// HTTP calls, each returns once its journal record is on disk (`--state`).
impl Graphbox {
    /// Take a named snapshot of `tenant` (`POST …/snapshots`); returns when it
    /// was taken, on the tenant's clock. Copy-on-write: its cost does not grow
    /// with the tenant.
    ///
    /// # Errors
    /// 404 no such tenant; 400 a name that is empty, longer than 128
    /// characters, or holds `/` or control characters; 409 a name taken.
    pub fn snapshot_tenant(&self, tenant: Uuid, name: &str) -> Result<OffsetDateTime, crate::SnapshotError> {
        let t = self.server.tenants.get(tenant).ok_or_else(|| crate::SnapshotError::no_tenant(tenant))?;
        Ok(self.durably(|| crate::fork::take(&t, name))?)
    }

    /// Return `tenant`'s directory to the snapshot `name` (`POST
    /// …/snapshots/{name}/restore`); the clock stays where it is.
    ///
    /// # Errors
    /// 404 no such tenant or snapshot; 409 the snapshot holds a domain
    /// verified that another tenant now holds.
    pub fn restore_snapshot(&self, tenant: Uuid, name: &str) -> Result<(), crate::SnapshotError> {
        let t = self.server.tenants.get(tenant).ok_or_else(|| crate::SnapshotError::no_tenant(tenant))?;
        Ok(self.durably(|| crate::fork::restore(&t, name))?)
    }

    /// `tenant`'s snapshots by name (`GET …/snapshots`).
    ///
    /// # Errors
    /// 404 no such tenant.
    pub fn list_snapshots(&self, tenant: Uuid) -> Result<Vec<crate::SnapshotInfo>, crate::SnapshotError> {
        let t = self.server.tenants.get(tenant).ok_or_else(|| crate::SnapshotError::no_tenant(tenant))?;
        Ok(crate::fork::list(&t).into_iter().map(|(name, taken_at)| crate::SnapshotInfo { name, taken_at }).collect())
    }

    /// Forget the snapshot `name` of `tenant` (`DELETE …/snapshots/{name}`).
    ///
    /// # Errors
    /// 404 no such tenant or snapshot.
    pub fn delete_snapshot(&self, tenant: Uuid, name: &str) -> Result<(), crate::SnapshotError> {
        let t = self.server.tenants.get(tenant).ok_or_else(|| crate::SnapshotError::no_tenant(tenant))?;
        Ok(self.durably(|| crate::fork::delete(&t, name))?)
    }

    /// Run `f`, then wait until what it journaled is on disk. A journal that
    /// cannot be written is logged by its writer; the change stays applied in
    /// memory, as over HTTP (where the caller also gets a 503).
    pub(crate) fn durably<T>(&self, f: impl FnOnce() -> T) -> T {
        crate::journal::clear_appended_here();
        let out = f();
        let seq = crate::journal::appended_here();
        if let (Some(journal), true) = (self.server.tenants.journal(), seq > 0) {
            if let Err(e) = journal.wait_durable_blocking(seq) {
                tracing::error!(error = %e, "a change made through the Rust handle is not durable");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn start_stays_spawnable_with_generated_seed_users() {
        // The generator's boxed iterator is not Send; it must not live across an
        // await, or `tokio::spawn(builder.start())` stops compiling for callers.
        let builder = GraphboxBuilder::default().seed_users_with(|_| Vec::new());
        let start = builder.clone().start();
        assert_send(&start);
        assert_send(&builder);
    }

    #[test]
    fn domain_placeholders_are_replaced_in_nested_values_only() {
        let mut user = serde_json::json!({"{domain}": "a@{domain}", "n": 1, "l": ["x@{domain}", {"k": "{domain}"}]})
            .as_object()
            .cloned()
            .unwrap_or_default();
        replace_domain(&mut user, "t.example");
        let expected = serde_json::json!({"{domain}": "a@t.example", "n": 1, "l": ["x@t.example", {"k": "t.example"}]});
        assert_eq!(serde_json::Value::Object(user), expected);
    }
}
