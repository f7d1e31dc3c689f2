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

mod recover;
pub(crate) use recover::recover;

/// The state format this build writes and reads. Version 2 added the journal
/// (`journal_from`): a build that reads only version 1 would ignore the
/// journal's writes, so it must refuse the file instead.
pub(crate) const STATE_VERSION: u32 = 2;

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
    /// Absent from files written before the setting was saved, or written
    /// while it was `enforce`: enforce.
    #[serde(default)]
    pub authz: crate::tenant::AuthzSetting,
    /// Scripted fault rules still in force; written only when there are some.
    #[serde(default)]
    pub faults: Vec<crate::faults::FaultRule>,
    /// Named snapshots as written in the file: each as the effects that turn
    /// this tenant's directory into the snapshot's (`SavedTenant::open_snapshots`
    /// turns them into directories). Written only when there are some.
    #[serde(default)]
    pub snapshots: Vec<SavedSnapshot>,
    /// Named snapshots as directories: opened from `snapshots`, or taken
    /// while the journal was replayed.
    #[serde(skip)]
    pub snapshot_dirs: std::collections::BTreeMap<String, crate::fork::Snapshot>,
}

/// A named snapshot in the state file. Stored as a difference from the
/// tenant's live directory, not whole: a snapshot shares everything unchanged
/// with the tenant in memory, and the file keeps it that small too.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct SavedSnapshot {
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub taken_at: OffsetDateTime,
    pub effects: Vec<crate::journal::Effect>,
}

impl SavedTenant {
    /// Turn the snapshots as written in the file into directories. Runs
    /// before the journal is replayed: their effects are relative to the
    /// directory the file holds.
    pub(crate) fn open_snapshots(&mut self) -> Result<(), String> {
        for saved in std::mem::take(&mut self.snapshots) {
            let mut directory = self.directory.clone();
            for effect in &saved.effects {
                directory.apply_effect(effect).map_err(|e| format!("snapshot '{}': {e}", saved.name))?;
            }
            self.snapshot_dirs.insert(saved.name, crate::fork::Snapshot::new(saved.taken_at, directory));
        }
        Ok(())
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct SavedState {
    pub format: String,
    pub version: u32,
    pub tenants: Vec<SavedTenant>,
    /// The first journal segment (`<file>.journal.<n>`) not contained in this
    /// snapshot; older segments are leftovers of a compaction and are ignored.
    #[serde(default)]
    pub journal_from: u64,
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

/// A tenant's settings without its directory (a fork's journal record).
pub(crate) fn tenant_head(tenant: &Tenant) -> serde_json::Value {
    let mut head = serde_json::json!({
        "id": tenant.id,
        "seed": tenant.options().seed,
        "frozen_at": tenant.clock.frozen_at().map(|t| t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()),
        "clock_offset": tenant.clock.offset(),
        "bootstrap": tenant.bootstrap,
    });
    let realism = tenant.realism.config();
    if realism != crate::realism::RealismConfig::default() {
        head["realism"] = serde_json::json!(realism);
    }
    if tenant.report_only() {
        head["authz"] = serde_json::json!(tenant.authz());
    }
    head
}

/// What [`tenant_head`] wrote.
#[derive(Deserialize)]
struct TenantHead {
    id: Uuid,
    seed: u64,
    #[serde(default, with = "time::serde::rfc3339::option")]
    frozen_at: Option<OffsetDateTime>,
    clock_offset: Duration,
    bootstrap: BootstrapCredentials,
    #[serde(default)]
    realism: crate::realism::RealismConfig,
    #[serde(default)]
    authz: crate::tenant::AuthzSetting,
}

/// Serialize one tenant (under its read lock).
pub(crate) fn snapshot_tenant(tenant: &Tenant) -> serde_json::Value {
    // A copy-on-write copy: serializing a large tenant never holds its lock.
    let dir = tenant.read().clone();
    let mut saved = serde_json::json!({
        "id": tenant.id,
        "seed": tenant.options().seed,
        "frozen_at": tenant.clock.frozen_at().map(|t| t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()),
        "clock_offset": tenant.clock.offset(),
        "bootstrap": tenant.bootstrap,
        "directory": &dir,
    });
    // Written only when set, so a tenant with realism off saves as it always did.
    let realism = tenant.realism.config();
    if realism != crate::realism::RealismConfig::default() {
        saved["realism"] = serde_json::json!(realism);
    }
    if tenant.report_only() {
        saved["authz"] = serde_json::json!(tenant.authz());
    }
    saved
}

/// One tenant as the state file holds it: [`snapshot_tenant`]'s fields plus
/// what only the file keeps (fault rules in force, named snapshots), written
/// straight from a copy-on-write copy of the directory. A `serde_json::Value`
/// of a large tenant would cost several times the tenant's own memory while
/// a save runs (and a save runs in the background after every start).
#[derive(Serialize)]
pub(crate) struct TenantOut {
    id: Uuid,
    seed: u64,
    #[serde(with = "time::serde::rfc3339::option")]
    frozen_at: Option<OffsetDateTime>,
    clock_offset: Duration,
    bootstrap: BootstrapCredentials,
    directory: Directory,
    #[serde(skip_serializing_if = "Option::is_none")]
    realism: Option<crate::realism::RealismConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    authz: Option<crate::tenant::AuthzSetting>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    faults: Vec<crate::faults::FaultRule>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    snapshots: Vec<SavedSnapshot>,
}

/// Everything the state file holds.
#[derive(Serialize)]
pub(crate) struct StateOut {
    format: &'static str,
    version: u32,
    tenants: Vec<TenantOut>,
    journal_from: u64,
}

pub(crate) fn saved_tenant(tenant: &Tenant) -> TenantOut {
    let realism = tenant.realism.config();
    TenantOut {
        id: tenant.id,
        seed: tenant.options().seed,
        frozen_at: tenant.clock.frozen_at(),
        clock_offset: tenant.clock.offset(),
        bootstrap: tenant.bootstrap.clone(),
        directory: tenant.read().clone(),
        realism: (realism != crate::realism::RealismConfig::default()).then_some(realism),
        authz: tenant.report_only().then(|| tenant.authz()),
        faults: tenant.faults.rules(),
        snapshots: crate::fork::saved_snapshots(tenant),
    }
}

/// The state file's contents, naming `journal_from` as the first journal
/// segment it does not contain.
pub(crate) fn snapshot(tenants: &[std::sync::Arc<Tenant>], journal_from: u64) -> StateOut {
    StateOut {
        format: "graphbox-state",
        version: STATE_VERSION,
        tenants: tenants.iter().map(|t| saved_tenant(t)).collect(),
        journal_from,
    }
}

/// Save every tenant to `path`. With a journal this is a compaction: later
/// writes go to a new segment first, the snapshot is taken after that (so it
/// holds everything in the older segments, and perhaps some of the new one,
/// whose effects are absolute and replay to the same state), then the older
/// segments are deleted once the snapshot is on disk.
pub(crate) fn save_all(tenants: &crate::tenant::Tenants, path: &Path) -> Result<(), StateError> {
    // One save at a time: two would share the temporary file and race on
    // which segments to delete.
    static SAVING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = SAVING.lock().unwrap_or_else(|e| e.into_inner());
    let Some(journal) = tenants.journal() else {
        return save(path, &snapshot(&tenants.all(), 0));
    };
    let from = journal.rotate();
    checkpoint(&tenants.all(), path, from)
}

/// Write the snapshot naming `from` as the first segment to replay, then drop
/// the segments before it.
pub(crate) fn checkpoint(tenants: &[std::sync::Arc<Tenant>], path: &Path, from: u64) -> Result<(), StateError> {
    save(path, &snapshot(tenants, from))?;
    let old = crate::journal::segments(path).map_err(|source| StateError::Write { path: path.to_owned(), source })?;
    for (n, file) in old.into_iter().filter(|(n, _)| *n < from) {
        if let Err(e) = fs::remove_file(&file) {
            tracing::warn!(segment = n, error = %e, "cannot delete a compacted journal segment; it is ignored on start");
        }
    }
    Ok(())
}

/// Journal bytes past which the server compacts in the background.
pub(crate) const COMPACT_AFTER_BYTES: u64 = 64 << 20;

/// Compact whenever the current segment passes `after` bytes (by default
/// [`COMPACT_AFTER_BYTES`]), off the request path, until `stop` turns true.
pub(crate) async fn compact_in_background(
    server: std::sync::Arc<crate::service::Server>,
    path: PathBuf,
    after: u64,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = stop.changed() => return,
        }
        let due = server.tenants.journal().is_some_and(|j| j.segment_bytes() > after);
        if !due {
            continue;
        }
        let (s, p) = (server.clone(), path.clone());
        match tokio::task::spawn_blocking(move || save_all(&s.tenants, &p)).await {
            Ok(Ok(())) => tracing::info!(state = %path.display(), "journal compacted into the state file"),
            Ok(Err(e)) => tracing::error!(error = %e, "background compaction failed; the journal keeps growing"),
            Err(e) => tracing::error!(error = %e, "background compaction panicked"),
        }
    }
}

/// Parse saved state, refusing other formats and newer versions.
pub(crate) fn parse(bytes: &[u8], path: &Path) -> Result<SavedState, StateError> {
    let corrupt = |detail: String| StateError::Corrupt { path: path.to_owned(), detail };
    // The marker and version first, every other field skipped unparsed: a
    // newer file must be refused as newer, not as a shape this build does not
    // know; then the whole file straight into typed values (a document tree of
    // a large tenant would cost several times the tenant's memory and time).
    #[derive(Deserialize)]
    struct Head {
        format: Option<serde_json::Value>,
        version: Option<serde_json::Value>,
    }
    let head: Head = serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string()))?;
    if head.format.as_ref().and_then(|f| f.as_str()) != Some("graphbox-state") {
        return Err(corrupt("no \"format\": \"graphbox-state\" marker".into()));
    }
    let version = head.version.as_ref().and_then(|v| v.as_u64()).ok_or_else(|| corrupt("no version".into()))?;
    if version > u64::from(STATE_VERSION) {
        return Err(StateError::TooNew { path: path.to_owned(), found: version as u32 });
    }
    serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string()))
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
pub(crate) fn save(path: &Path, state: &impl Serialize) -> Result<(), StateError> {
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
        // Buffered: serde_json writes token by token, a system call each unbuffered.
        let mut w = std::io::BufWriter::with_capacity(1 << 20, &mut f);
        serde_json::to_writer(&mut w, state).map_err(std::io::Error::other)?;
        w.write_all(b"\n")?;
        w.flush()?;
        drop(w);
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

#[cfg(test)]
mod format_fixture {
    use super::*;
    use crate::directory::users::USER;

    /// A state file written by the release before the journal (format version 1,
    /// made by `serve --state` with three users, a group, an application and the
    /// clock advanced by an hour). Later builds must keep loading it.
    const V1: &[u8] = include_bytes!("../tests/fixtures/state-v1.json");

    #[test]
    fn a_version_1_state_file_keeps_loading() {
        let saved = parse(V1, Path::new("state-v1.json")).expect("today's format loads");
        assert_eq!(saved.version, 1);
        let saved = saved.tenants.into_iter().next().expect("one tenant");
        let tenant = Tenant::restore(saved).expect("a representable clock");
        assert_eq!(tenant.clock.offset(), Duration::from_secs(3600));
        assert!(!tenant.report_only(), "a file from before the authz setting was saved: enforce");
        let dir = tenant.read();
        let domain = dir.initial_domain().to_owned();
        for i in 1..=3 {
            let id = dir.user_by_upn(&format!("fx{i}@{domain}")).expect("a fixture user by its UPN");
            assert_eq!(dir.users[&id].get_str(&USER, "displayName"), Some(format!("Fixture User {i}").as_str()));
            assert!(dir.passwords[&id].matches(&format!("Fixture!Pass{i}")), "its password still signs in");
        }
        assert_eq!(dir.groups.len(), 1);
        assert_eq!(dir.applications.len(), 2, "the bootstrap application and the fixture's");
        assert!(dir.domain("fixture.example").is_none(), "the fixture's domain write was refused");
    }
}

#[cfg(test)]
mod compaction {
    use super::*;
    use crate::tenant::{TenantOptions, Tenants};

    fn add(t: &Tenant, name: &str) {
        let body = serde_json::json!({"id": name});
        t.write().add_domain(body.as_object().expect("an object")).expect("a new domain");
    }

    #[test]
    fn writes_made_while_compacting_survive_it() {
        let dir = std::env::temp_dir().join(format!("graphbox-compaction-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("state.json");
        let tenants = Tenants::default();
        let t = tenants.insert(Tenant::seeded(1));
        checkpoint(&tenants.all(), &path, 1).expect("first snapshot");
        let journal = crate::journal::Journal::open(&path, 1, 0).expect("journal");
        tenants.attach_journal(journal.clone());
        add(&t, "before.example");
        // Compaction: rotate, then take the snapshot. A write lands between the
        // two (in the new segment, and perhaps in the snapshot) and another after
        // the snapshot was taken but before it is on disk.
        let from = journal.rotate();
        add(&t, "during.example");
        let snap = snapshot(&tenants.all(), from);
        add(&t, "after.example");
        save(&path, &snap).expect("snapshot written");
        journal.sync().expect("durable");
        journal.stop();
        assert_eq!(crate::journal::segments(&path).expect("listed").len(), 2, "old segment not yet dropped");

        let recovered = recover(&path).expect("recovers");
        let saved = recovered.state.expect("state").tenants.into_iter().next().expect("the tenant");
        for name in ["before.example", "during.example", "after.example"] {
            assert!(saved.directory.domain(name).is_some(), "{name} lost");
        }
        assert_eq!(recovered.next_segment, from + 1);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_fork_is_journaled_as_its_difference_from_the_origin_and_replays_to_the_same_tenant() {
        let dir = std::env::temp_dir().join(format!("graphbox-fork-record-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("state.json");
        let tenants = Tenants::default();
        let origin = tenants.insert(Tenant::seeded(5));
        {
            let mut d = origin.write();
            for i in 0..200 {
                let body = serde_json::json!({"accountEnabled": true, "displayName": format!("U{i}"),
                    "mailNickname": format!("u{i}"), "userPrincipalName": format!("u{i}@{}", d.initial_domain()),
                    "passwordProfile": {"password": "Gb!x12345678a"}});
                d.create_user(body.as_object().expect("an object"), time::OffsetDateTime::UNIX_EPOCH).expect("valid");
            }
        }
        checkpoint(&tenants.all(), &path, 1).expect("first snapshot");
        let journal = crate::journal::Journal::open(&path, 1, 0).expect("journal");
        tenants.attach_journal(journal.clone());
        add(&origin, "origin-before.example");
        let fork = crate::fork::fork_into(&tenants, &origin, &TenantOptions::seeded(6));
        add(&fork, "fork-after.example");
        add(&origin, "origin-after.example");
        journal.sync().expect("durable");
        journal.stop();
        let bytes = fs::read(crate::journal::segment_path(&path, 1)).expect("segment");
        let largest = crate::journal::scan(&bytes).expect("valid").records.iter().map(|r| r.len()).max();
        assert!(largest < Some(16 << 10), "no record holds the 200 users again: {largest:?} bytes");

        let saved = recover(&path).expect("recovers").state.expect("state");
        for live in [&origin, &fork] {
            let t = saved.tenants.iter().find(|t| t.id == live.id).expect("both tenants");
            let mut replayed = t.directory.clone();
            replayed.rebuild_indexes();
            assert_eq!(
                serde_json::to_value(&replayed).expect("json"),
                serde_json::to_value(&*live.read()).expect("json"),
                "tenant {} replays to what it is",
                live.id
            );
            assert_eq!(serde_json::json!(t.bootstrap), serde_json::json!(live.bootstrap));
        }
        let _ = fs::remove_dir_all(&dir);
    }
}
