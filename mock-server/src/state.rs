//! Saving and loading tenants. The state file is JSON with a format version; it
//! is written atomically (temp file, fsync, rename, fsync of the directory) so a
//! crash mid-save leaves the previous file intact, and a file that is corrupt or
//! from a newer graphbox stops the start instead of being overwritten.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::directory::Directory;
use crate::tenant::{BootstrapCredentials, Tenant};

/// The state format this build writes and reads.
pub(crate) const STATE_VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct SavedTenant {
    pub id: Uuid,
    pub seed: u64,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub frozen_at: Option<OffsetDateTime>,
    pub clock_offset: Duration,
    pub bootstrap: BootstrapCredentials,
    pub directory: Directory,
    /// Absent from files written before realism existed: off.
    #[serde(default)]
    pub realism: crate::realism::RealismConfig,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct SavedState {
    pub format: String,
    pub version: u32,
    pub tenants: Vec<SavedTenant>,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot read state file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write state file {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("state file {path} is not valid graphbox state ({detail}); it was left untouched — fix or move it, then start again")]
    Corrupt { path: PathBuf, detail: String },
    #[error("state file {path} was written by a newer graphbox (state version {found}, this build reads {STATE_VERSION}); it was left untouched — upgrade graphbox or start with another --state file")]
    TooNew { path: PathBuf, found: u32 },
}

/// Serialize one tenant (under its read lock).
pub(crate) fn snapshot_tenant(tenant: &Tenant) -> serde_json::Value {
    let dir = tenant.read();
    let mut saved = serde_json::json!({
        "id": tenant.id,
        "seed": tenant.options().seed,
        "frozen_at": tenant.clock.frozen_at().map(|t| t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()),
        "clock_offset": tenant.clock.offset(),
        "bootstrap": tenant.bootstrap,
        "directory": &*dir,
    });
    // Written only when set, so a tenant with realism off saves as it always did.
    let realism = tenant.realism.config();
    if realism != crate::realism::RealismConfig::default() {
        saved["realism"] = serde_json::json!(realism);
    }
    saved
}

pub(crate) fn snapshot(tenants: &[std::sync::Arc<Tenant>]) -> serde_json::Value {
    serde_json::json!({
        "format": "graphbox-state",
        "version": STATE_VERSION,
        "tenants": tenants.iter().map(|t| snapshot_tenant(t)).collect::<Vec<_>>(),
    })
}

/// Parse saved state, refusing other formats and newer versions.
pub(crate) fn parse(bytes: &[u8], path: &Path) -> Result<SavedState, StateError> {
    let corrupt = |detail: String| StateError::Corrupt { path: path.to_owned(), detail };
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string()))?;
    if value.get("format").and_then(|f| f.as_str()) != Some("graphbox-state") {
        return Err(corrupt("no \"format\": \"graphbox-state\" marker".into()));
    }
    let version = value.get("version").and_then(|v| v.as_u64()).ok_or_else(|| corrupt("no version".into()))?;
    if version > u64::from(STATE_VERSION) {
        return Err(StateError::TooNew { path: path.to_owned(), found: version as u32 });
    }
    serde_json::from_value(value).map_err(|e| corrupt(e.to_string()))
}

/// Load the state file if it exists.
pub(crate) fn load(path: &Path) -> Result<Option<SavedState>, StateError> {
    match fs::read(path) {
        Ok(bytes) => parse(&bytes, path).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(StateError::Read { path: path.to_owned(), source }),
    }
}

/// Write atomically: a crash at any point leaves either the old or the new file.
pub(crate) fn save(path: &Path, state: &serde_json::Value) -> Result<(), StateError> {
    let err = |source| StateError::Write { path: path.to_owned(), source };
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(err)?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("state"),
        std::process::id()
    ));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        serde_json::to_writer(&mut f, state).map_err(std::io::Error::other)?;
        f.write_all(b"\n")?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(err)
}
