//! Where scenarios run: the in-process mock (default), a running mock given by its ready line,
//! or a real tenant given by environment variables.
//!
//! On a mock every scenario gets a fresh tenant (control API `POST /tenants`), so scenarios are
//! independent and run in parallel. On a real tenant they share the tenant and are careful:
//! objects carry the run prefix, the cleanup registry deletes them, and tenant-wide settings
//! are only changed with `--allow-tenant-changes`.

use std::path::PathBuf;

use graphbox_mock::{Graphbox, ReadyInfo};

/// Why a target could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// The in-process mock did not start.
    #[error("the in-process mock did not start")]
    Start(#[source] graphbox_mock::StartError),
    /// A ready line that does not parse.
    #[error("the ready line is not the mock's JSON")]
    ReadyLine(#[source] serde_json::Error),
    /// A file that could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A required environment variable is missing.
    #[error("{0} is not set (see conformance/README.md, \"Against a real tenant\")")]
    MissingEnv(&'static str),
}

/// What a target can do; scenarios declare what they need and are skipped elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// graphbox-mock, in-process or by URL: the known-differences ledger applies.
    pub is_mock: bool,
    /// The control API's `clock/advance` is reachable (DirSync, token expiry).
    pub can_advance_clock: bool,
    /// Tenant-wide settings (DirSync, organization) may be changed: always on a fresh mock
    /// tenant, on a real tenant only with `--allow-tenant-changes`.
    pub tenant_changes_allowed: bool,
    /// A user name and password for delegated (ROPC) flows is known.
    pub has_admin_user: bool,
}

/// How the run signs in to a real tenant.
#[derive(Clone)]
pub enum TenantCredential {
    /// A client secret's text.
    Secret(String),
    /// A certificate and its PKCS#8 private key, both PEM.
    Certificate {
        /// Certificate PEM.
        cert_pem: Vec<u8>,
        /// Private key PEM.
        key_pem: Vec<u8>,
    },
}

impl std::fmt::Debug for TenantCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print secrets: this ends up in logs.
        f.write_str(match self {
            Self::Secret(_) => "Secret(<redacted>)",
            Self::Certificate { .. } => "Certificate(<redacted>)",
        })
    }
}

/// A real tenant.
#[derive(Debug, Clone)]
pub struct TenantConfig {
    /// Tenant id or verified domain.
    pub tenant: String,
    /// The application's client id.
    pub client_id: String,
    /// Secret or certificate.
    pub credential: TenantCredential,
    /// `https://login.microsoftonline.com` unless `GRAPHBOX_AUTHORITY` says otherwise.
    pub authority: String,
    /// `https://graph.microsoft.com/v1.0` unless `GRAPHBOX_GRAPH_URL` says otherwise.
    pub graph_url: String,
    /// `--allow-tenant-changes`.
    pub allow_tenant_changes: bool,
}

/// Where the suite runs.
#[derive(Debug)]
pub enum Target {
    /// graphbox-mock started in this process.
    InProcess(Box<Graphbox>),
    /// A running graphbox-mock, from its ready line.
    MockUrl {
        /// The ready line.
        ready: ReadyInfo,
        /// The CA to trust when the mock serves HTTPS.
        ca_pem: Option<String>,
    },
    /// A real tenant.
    Tenant(TenantConfig),
}

/// The tenant one scenario runs against.
#[derive(Debug, Clone)]
pub struct Session {
    /// Tenant id (or domain on a real tenant, as configured).
    pub tenant: String,
    /// Initial domain when known up front (mocks); real tenants look it up.
    pub tenant_domain: Option<String>,
    /// `scheme://host[:port]` of the identity platform.
    pub authority: String,
    /// Graph base URL ending in `/v1.0`.
    pub graph_url: String,
    /// The main application's client id.
    pub client_id: String,
    /// Its credential.
    pub credential: TenantCredential,
    /// Admin user name and password for delegated flows (mocks only).
    pub admin: Option<(String, String)>,
    /// The mock's control API for this tenant (`…/_graphbox/tenants/{tid}`).
    pub control: Option<String>,
    /// CA PEM for an HTTPS mock.
    pub ca_pem: Option<String>,
}

impl Target {
    /// Starts graphbox-mock in this process (plain HTTP, port 0).
    ///
    /// # Errors
    ///
    /// [`TargetError::Start`] if it does not start.
    pub async fn in_process() -> Result<Self, TargetError> {
        let mock = Graphbox::builder().plain_http().start().await.map_err(TargetError::Start)?;
        Ok(Self::InProcess(Box::new(mock)))
    }

    /// A running mock from its ready-line JSON.
    ///
    /// # Errors
    ///
    /// If the JSON does not parse or its `ca_file` cannot be read.
    pub fn mock_url(ready_json: &str) -> Result<Self, TargetError> {
        let ready: ReadyInfo = serde_json::from_str(ready_json.trim()).map_err(TargetError::ReadyLine)?;
        let ca_pem = match &ready.ca_file {
            Some(path) => {
                Some(std::fs::read_to_string(path).map_err(|source| TargetError::Read { path: path.clone(), source })?)
            }
            None => None,
        };
        Ok(Self::MockUrl { ready, ca_pem })
    }

    /// A real tenant from `GRAPHBOX_TENANT_ID`, `GRAPHBOX_CLIENT_ID`, and either
    /// `GRAPHBOX_CLIENT_SECRET` or `GRAPHBOX_CLIENT_CERT_PEM` + `GRAPHBOX_CLIENT_KEY_PEM`
    /// (paths); optional `GRAPHBOX_AUTHORITY`, `GRAPHBOX_GRAPH_URL`.
    ///
    /// # Errors
    ///
    /// [`TargetError::MissingEnv`] naming the first missing variable; a PEM file that cannot
    /// be read.
    pub fn tenant_from_env(allow_tenant_changes: bool) -> Result<Self, TargetError> {
        let var = |name: &'static str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let tenant = var("GRAPHBOX_TENANT_ID").ok_or(TargetError::MissingEnv("GRAPHBOX_TENANT_ID"))?;
        let client_id = var("GRAPHBOX_CLIENT_ID").ok_or(TargetError::MissingEnv("GRAPHBOX_CLIENT_ID"))?;
        let read =
            |path: String| std::fs::read(&path).map_err(|source| TargetError::Read { path: path.into(), source });
        let credential = match (var("GRAPHBOX_CLIENT_SECRET"), var("GRAPHBOX_CLIENT_CERT_PEM")) {
            (Some(secret), _) => TenantCredential::Secret(secret),
            (None, Some(cert)) => TenantCredential::Certificate {
                cert_pem: read(cert)?,
                key_pem: read(
                    var("GRAPHBOX_CLIENT_KEY_PEM").ok_or(TargetError::MissingEnv("GRAPHBOX_CLIENT_KEY_PEM"))?,
                )?,
            },
            (None, None) => return Err(TargetError::MissingEnv("GRAPHBOX_CLIENT_SECRET")),
        };
        Ok(Self::Tenant(TenantConfig {
            tenant,
            client_id,
            credential,
            authority: var("GRAPHBOX_AUTHORITY").unwrap_or_else(|| "https://login.microsoftonline.com".into()),
            graph_url: var("GRAPHBOX_GRAPH_URL").unwrap_or_else(|| "https://graph.microsoft.com/v1.0".into()),
            allow_tenant_changes,
        }))
    }

    /// What this target can do.
    pub fn capabilities(&self) -> Capabilities {
        match self {
            Self::InProcess(_) | Self::MockUrl { .. } => Capabilities {
                is_mock: true,
                can_advance_clock: true,
                tenant_changes_allowed: true,
                has_admin_user: true,
            },
            Self::Tenant(config) => Capabilities {
                is_mock: false,
                can_advance_clock: false,
                tenant_changes_allowed: config.allow_tenant_changes,
                has_admin_user: false,
            },
        }
    }

    /// One line for the report header.
    pub fn describe(&self) -> String {
        match self {
            Self::InProcess(mock) => format!("in-process graphbox-mock at {}", mock.authority()),
            Self::MockUrl { ready, .. } => format!("graphbox-mock at {}", ready.authority),
            Self::Tenant(c) => format!("real tenant {} via {}", c.tenant, c.graph_url),
        }
    }

    /// The tenant a scenario runs in: a fresh one on a mock (falling back to the ready line's
    /// tenant when the control API refuses), the configured one on a real tenant.
    pub(crate) async fn session(&self) -> Session {
        match self {
            Self::InProcess(mock) => mock_session(&mock.create_tenant(), None),
            Self::MockUrl { ready, ca_pem } => {
                let fresh = fresh_tenant(ready, ca_pem.as_deref()).await;
                mock_session(fresh.as_ref().unwrap_or(ready), ca_pem.clone())
            }
            Self::Tenant(c) => Session {
                tenant: c.tenant.clone(),
                tenant_domain: None,
                authority: c.authority.trim_end_matches('/').to_owned(),
                graph_url: c.graph_url.trim_end_matches('/').to_owned(),
                client_id: c.client_id.clone(),
                credential: c.credential.clone(),
                admin: None,
                control: None,
                ca_pem: None,
            },
        }
    }
}

fn mock_session(ready: &ReadyInfo, ca_pem: Option<String>) -> Session {
    Session {
        tenant: ready.tenant_id.to_string(),
        tenant_domain: Some(ready.tenant_domain.clone()),
        authority: ready.authority.trim_end_matches('/').to_owned(),
        graph_url: ready.graph_url.trim_end_matches('/').to_owned(),
        client_id: ready.client_id.to_string(),
        credential: TenantCredential::Secret(ready.client_secret.clone()),
        admin: Some((ready.admin_username.clone(), ready.admin_password.clone())),
        control: Some(format!("{}/tenants/{}", ready.control_url.trim_end_matches('/'), ready.tenant_id)),
        ca_pem,
    }
}

async fn fresh_tenant(ready: &ReadyInfo, ca_pem: Option<&str>) -> Option<ReadyInfo> {
    let mut builder = reqwest::Client::builder();
    if let Some(cert) = ca_pem.and_then(|pem| reqwest::Certificate::from_pem(pem.as_bytes()).ok()) {
        builder = builder.add_root_certificate(cert);
    }
    let client = builder.build().ok()?;
    let response = client.post(format!("{}/tenants", ready.control_url)).send().await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    response.json().await.ok()
}
