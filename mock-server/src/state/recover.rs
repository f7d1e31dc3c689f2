//! Start-up: the snapshot with the journal replayed onto it.
//!
//! A journal of a million writes is a gigabyte of JSON, so replay runs on two
//! threads (the two cores these machines have): one reads the segments a
//! piece at a time, checks each record's frame and parses it — a directory
//! write straight into typed values (`directory::replay::Staged`), which is
//! most of the work — and hands them over in batches; the calling thread
//! applies them in record order. Directory writes are staged per tenant and
//! applied in bulk (see `directory/replay.rs` for why that gives the same
//! directory); any other record first settles what is staged, then applies
//! as it always did.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use uuid::Uuid;

use super::{load, SavedState, SavedTenant, StateError, TenantHead, STATE_VERSION};
use crate::directory::replay::Staged;
use crate::journal::{Change, Piece, ReadError, SegmentReader};

/// Records in one batch handed between the threads.
const BATCH_RECORDS: usize = 256;
/// Batches in flight: enough that neither thread waits on the other for
/// long, few enough that the records in flight stay small.
const BATCHES_IN_FLIGHT: usize = 16;
/// Staged changes of a tenant past which they are applied before more are
/// staged: a bound on the memory staging holds beside the maps. Larger runs
/// apply with better locality; this keeps the staged copies to tens of MiB.
const SETTLE_AFTER: usize = 1 << 20;

/// What start-up found: the snapshot with the journal replayed onto it.
#[derive(Debug)]
pub(crate) struct Recovered {
    pub state: Option<SavedState>,
    /// A record cut short was dropped: the segment holding it must not be
    /// followed by another before a new snapshot supersedes it.
    pub torn: bool,
    /// The segment to append to next, and the last sequence number used.
    pub next_segment: u64,
    pub last_seq: u64,
}

/// Where a record is: which segment, which record of it.
#[derive(Debug, Clone, Copy)]
struct RecordAt {
    segment: usize,
    record: usize,
}

/// What the reading thread hands over.
enum Batch {
    /// Consecutive directory writes to one tenant, staged; `first` is where
    /// the first of them is.
    Directory { tenant: Uuid, staged: Box<Staged>, first: RecordAt },
    /// Any other record.
    Other { tenant: Uuid, change: Change, at: RecordAt },
}

/// What the reading thread found besides the records.
struct ReadAll {
    last_seq: u64,
    torn: bool,
}

/// Load the snapshot and replay the journal segments it does not contain. A
/// record cut short at the very end (a crash mid-append) is dropped with a
/// warning naming it; any other damage stops the start with every file left
/// as it was (nothing here writes).
pub(crate) fn recover(path: &Path) -> Result<Recovered, StateError> {
    let mut state = load(path)?;
    if let Some(state) = &mut state {
        for t in &mut state.tenants {
            let id = t.id;
            t.open_snapshots().map_err(|detail| StateError::Corrupt {
                path: path.to_owned(),
                detail: format!("tenant {id}: {detail}"),
            })?;
        }
    }
    let from = state.as_ref().map_or(0, |s| s.journal_from);
    let read_err = |source| StateError::Read { path: path.to_owned(), source };
    let segments: Vec<(u64, PathBuf)> =
        crate::journal::segments(path).map_err(read_err)?.into_iter().filter(|(n, _)| *n >= from).collect();
    let next_segment = segments.last().map_or(from.max(1), |(n, _)| n + 1);
    if segments.is_empty() {
        return Ok(Recovered { state, torn: false, next_segment, last_seq: 0 });
    }
    let mut state = state.unwrap_or_else(|| SavedState {
        format: "graphbox-state".into(),
        version: STATE_VERSION,
        tenants: Vec::new(),
        journal_from: 0,
    });
    let (batches, received) = sync_channel(BATCHES_IN_FLIGHT);
    let segments = &segments;
    let (applied, read) = std::thread::scope(|scope| {
        // The sender moves into the reader, so the channel closes when it
        // returns, however it returns.
        let reader = std::thread::Builder::new()
            .name("graphbox-replay".into())
            .spawn_scoped(scope, move || read_segments(segments, batches))
            .map_err(read_err);
        let applied = apply_batches(&mut state.tenants, received, segments);
        let read = match reader {
            Ok(reader) => reader.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(e) => Err(e),
        };
        (applied, read)
    });
    // The applying thread sees only records before any the reader refused,
    // so its error, if any, comes first in the journal.
    applied?;
    let read = read?;
    Ok(Recovered { state: Some(state), torn: read.torn, next_segment, last_seq: read.last_seq })
}

/// The reading thread: every record of every segment, parsed and batched in
/// order. Returns early, without an error, when the applying thread stopped
/// (its error is the one to report).
fn read_segments(segments: &[(u64, PathBuf)], out: SyncSender<Batch>) -> Result<ReadAll, StateError> {
    let mut read = ReadAll { last_seq: 0, torn: false };
    let last_segment = segments.last().map(|(n, _)| *n);
    let mut batches = Batcher { out, filling: None, at: RecordAt { segment: 0, record: 0 }, stopped: false };
    for (segment, (n, file)) in segments.iter().enumerate() {
        let corrupt = |detail: String| StateError::Corrupt { path: file.clone(), detail };
        let opened = fs::File::open(file).map_err(|source| StateError::Read { path: file.clone(), source })?;
        let mut reader = SegmentReader::new(opened);
        for record in 0.. {
            let payload = match reader.next() {
                Ok(Piece::Record(payload)) => payload,
                Ok(Piece::End(None)) => break,
                Ok(Piece::End(Some(torn))) => {
                    read.torn = true;
                    if Some(*n) != last_segment {
                        return Err(corrupt(format!(
                            "journal: a record cut short at byte {} of a segment that later segments follow",
                            torn.offset
                        )));
                    }
                    tracing::warn!(
                        journal = %file.display(),
                        offset = torn.offset,
                        bytes = torn.bytes,
                        lost = %torn.preview,
                        "the last journal record was cut short by a crash while it was written; its write was never \
                         acknowledged and is dropped"
                    );
                    break;
                }
                Err(ReadError::Io(source)) => return Err(StateError::Read { path: file.clone(), source }),
                Err(ReadError::Scan(e)) => return Err(corrupt(format!("journal: {e}"))),
            };
            batches.at = RecordAt { segment, record };
            let entry = crate::journal::read_for_replay(payload, &mut batches)
                .map_err(|e| corrupt(format!("journal record {record}: {e}")))?;
            read.last_seq = read.last_seq.max(entry.seq);
            if let Some(change) = entry.other {
                let other = Batch::Other { tenant: entry.tenant, change, at: batches.at };
                if batches.hand_over() {
                    batches.stopped |= batches.out.send(other).is_err();
                }
            }
            if batches.stopped {
                return Ok(read);
            }
        }
    }
    batches.hand_over();
    Ok(read)
}

/// The reader's batches: directory writes staged as they are read, a batch
/// handed over when it is full or the next write is another tenant's.
struct Batcher {
    out: SyncSender<Batch>,
    /// The batch being filled: its tenant, what is staged, where its first
    /// record is, how many records it holds.
    filling: Option<(Uuid, Box<Staged>, RecordAt, usize)>,
    /// Where the record being read is.
    at: RecordAt,
    /// Nobody receives any more (the applying thread stopped).
    stopped: bool,
}

impl Batcher {
    /// Send the batch being filled, if any; `false` when nobody receives.
    fn hand_over(&mut self) -> bool {
        if let Some((tenant, staged, first, _)) = self.filling.take() {
            self.stopped |= self.out.send(Batch::Directory { tenant, staged, first }).is_err();
        }
        !self.stopped
    }
}

impl crate::journal::Staging for Batcher {
    fn directory(&mut self, tenant: Uuid) -> &mut Staged {
        if self.filling.as_ref().is_some_and(|(t, _, _, records)| *t != tenant || *records == BATCH_RECORDS) {
            self.hand_over();
        }
        let at = self.at;
        let (_, staged, _, records) = self.filling.get_or_insert_with(|| (tenant, Box::default(), at, 0));
        *records += 1;
        staged
    }
}

/// The applying thread: batches in record order onto the tenants.
fn apply_batches(
    tenants: &mut Vec<SavedTenant>,
    batches: Receiver<Batch>,
    segments: &[(u64, PathBuf)],
) -> Result<(), StateError> {
    let corrupt = |at: RecordAt, detail: String| StateError::Corrupt {
        path: segments[at.segment].1.clone(),
        detail: format!("journal record {}: {detail}", at.record),
    };
    let mut pending: Vec<(Uuid, Staged)> = Vec::new();
    for batch in batches {
        match batch {
            Batch::Directory { tenant, staged, first } => {
                let Some(t) = tenants.iter_mut().find(|t| t.id == tenant) else {
                    return Err(corrupt(first, unknown_tenant(tenant)));
                };
                let staging = match pending.iter().position(|(id, _)| *id == tenant) {
                    Some(i) => &mut pending[i].1,
                    None => {
                        pending.push((tenant, Staged::default()));
                        &mut pending.last_mut().expect("just pushed").1
                    }
                };
                staging.append(*staged);
                if staging.changes() >= SETTLE_AFTER {
                    t.directory.settle(staging);
                }
            }
            Batch::Other { tenant, change, at } => {
                // It may read a directory (a fork, a snapshot) or replace
                // one: every directory must be whole first.
                settle_all(tenants, &mut pending);
                replay(tenants, tenant, change).map_err(|e| corrupt(at, e))?;
            }
        }
    }
    settle_all(tenants, &mut pending);
    Ok(())
}

fn settle_all(tenants: &mut [SavedTenant], pending: &mut Vec<(Uuid, Staged)>) {
    for (id, mut staged) in pending.drain(..) {
        // Staged only for a tenant that existed; a record that replaced it
        // settled this first.
        if let Some(t) = tenants.iter_mut().find(|t| t.id == id) {
            t.directory.settle(&mut staged);
        }
    }
}

fn unknown_tenant(id: Uuid) -> String {
    format!("a change to tenant {id}, which neither the snapshot nor the journal created")
}

/// Apply one journal record other than a directory write read in bulk to
/// saved tenants.
fn replay(tenants: &mut Vec<SavedTenant>, id: Uuid, change: Change) -> Result<(), String> {
    if let Change::Tenant(whole) = change {
        let saved: SavedTenant = serde_json::from_value(*whole).map_err(|e| format!("tenant {id}: {e}"))?;
        match tenants.iter_mut().find(|t| t.id == id) {
            Some(t) => *t = saved,
            None => tenants.push(saved),
        }
        return Ok(());
    }
    if let Change::Forked { origin, head, effects } = change {
        let mut directory = tenants
            .iter()
            .find(|t| t.id == origin)
            .ok_or_else(|| {
                format!("tenant {id} forked from {origin}, which neither the snapshot nor the journal created")
            })?
            .directory
            .clone();
        for effect in &effects {
            directory.apply_effect(effect)?;
        }
        directory.tenant_id = id;
        let head: TenantHead = serde_json::from_value(*head).map_err(|e| format!("fork {id}: {e}"))?;
        let saved = SavedTenant {
            id: head.id,
            seed: head.seed,
            frozen_at: head.frozen_at,
            clock_offset: head.clock_offset,
            bootstrap: head.bootstrap,
            directory,
            realism: head.realism,
            authz: head.authz,
            faults: Vec::new(),
            snapshots: Vec::new(),
            snapshot_dirs: Default::default(),
        };
        match tenants.iter_mut().find(|t| t.id == id) {
            Some(t) => *t = saved,
            None => tenants.push(saved),
        }
        return Ok(());
    }
    let t = tenants.iter_mut().find(|t| t.id == id).ok_or_else(|| unknown_tenant(id))?;
    match change {
        Change::Tenant(_) | Change::Forked { .. } => unreachable!("handled above"),
        // The reader stages every directory write; one handed over whole
        // would apply one effect at a time.
        Change::Directory(effects) => {
            for effect in &effects {
                t.directory.apply_effect(effect)?;
            }
        }
        Change::Faults(rules) => t.faults = rules,
        Change::SnapshotTaken { name, taken_at } => {
            let snapshot = crate::fork::Snapshot::new(taken_at, t.directory.clone());
            t.snapshot_dirs.insert(name, snapshot);
        }
        Change::SnapshotDeleted { name } => {
            t.snapshot_dirs.remove(&name);
        }
        Change::Clock { frozen_at, offset } => {
            t.frozen_at = frozen_at;
            t.clock_offset = offset;
        }
        Change::Realism(config) => t.realism = config,
        Change::Authz(setting) => t.authz = setting,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::tenant::{Tenant, TenantOptions, Tenants};

    fn options(seed: u64) -> TenantOptions {
        TenantOptions { seed, frozen_at: None, realism: Default::default(), authz: Default::default() }
    }

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("graphbox-recover-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    /// Replay as it was before it went in bulk: every record parsed whole,
    /// every effect applied as it comes. Replay in bulk must give what this
    /// gives from the same files, whatever the files say.
    fn replayed_one_by_one(path: &Path) -> (Vec<SavedTenant>, u64) {
        let mut state = load(path).expect("loads").expect("a snapshot");
        for t in &mut state.tenants {
            t.open_snapshots().expect("opens");
        }
        let mut last_seq = 0;
        for (_, file) in
            crate::journal::segments(path).expect("listed").into_iter().filter(|(n, _)| *n >= state.journal_from)
        {
            let bytes = fs::read(file).expect("reads");
            for record in crate::journal::scan(&bytes).expect("whole").records {
                let entry: crate::journal::Entry = serde_json::from_slice(record).expect("a record");
                last_seq = last_seq.max(entry.seq);
                replay(&mut state.tenants, entry.tenant, entry.change).expect("applies");
            }
        }
        (state.tenants, last_seq)
    }

    /// The state file these tenants would be saved as, named snapshots
    /// included.
    fn saved(tenants: Vec<SavedTenant>) -> Value {
        let tenants: Vec<std::sync::Arc<Tenant>> =
            tenants.into_iter().map(|t| std::sync::Arc::new(Tenant::restore(t).expect("a clock"))).collect();
        serde_json::to_value(super::super::snapshot(&tenants, 0)).expect("json")
    }

    fn create(t: &Tenant, name: &str) -> uuid::Uuid {
        let mut d = t.write();
        let body = json!({"accountEnabled": true, "displayName": name, "mailNickname": name,
            "userPrincipalName": format!("{name}@{}", d.initial_domain()), "passwordProfile": {"password": "Gb!x12345678a"}});
        d.create_user(body.as_object().expect("an object"), time::OffsetDateTime::UNIX_EPOCH).expect("valid")
    }

    /// Two tenants, two segments, batches that end where a record of another
    /// tenant or of another kind comes: the clock advanced between writes, a
    /// snapshot taken between a user's writes (it must hold the user as it
    /// was then), a fork, a snapshot deleted; users created, renamed and
    /// deleted, some of them again after a settle.
    #[test]
    fn replay_in_bulk_gives_what_replay_one_by_one_gives() {
        let dir = temp("bulk");
        let path = dir.join("state.json");
        let tenants = Tenants::default();
        let a = tenants.insert(Tenant::create(&options(21), None));
        super::super::checkpoint(&tenants.all(), &path, 1).expect("first snapshot");
        let journal = crate::journal::Journal::open(&path, 1, 0).expect("journal");
        tenants.attach_journal(journal.clone());
        let rename = |t: &Tenant, id, name: &str| {
            let body = json!({"displayName": name});
            t.write()
                .update_user(id, body.as_object().expect("an object"), time::OffsetDateTime::UNIX_EPOCH, |_, _| Ok(()))
                .expect("valid");
        };
        let mut ids = Vec::new();
        for i in 0..700 {
            ids.push(create(&a, &format!("u{i}")));
            if i % 97 == 0 {
                crate::control::ops::advance_clock(&a, std::time::Duration::from_secs(30)).expect("moves");
            }
        }
        rename(&a, ids[3], "before the snapshot");
        crate::fork::take(&a, "s1").expect("taken");
        rename(&a, ids[3], "after the snapshot");
        a.write().delete_user(ids[4], time::OffsetDateTime::UNIX_EPOCH).expect("exists");
        journal.rotate();
        let b = crate::fork::fork_into(&tenants, &a, &options(22));
        for i in 0..300 {
            let t = if i % 2 == 0 { &a } else { &b };
            create(t, &format!("v{i}"));
            rename(t, ids[5 + i % 7], &format!("renamed {i}"));
        }
        a.write().delete_user(ids[6], time::OffsetDateTime::UNIX_EPOCH).expect("exists");
        crate::fork::delete(&a, "s1").expect("deleted");
        crate::fork::take(&b, "s2").expect("taken");
        journal.sync().expect("durable");
        journal.stop();

        let (one_by_one, last_seq) = replayed_one_by_one(&path);
        let recovered = recover(&path).expect("recovers");
        assert_eq!(recovered.last_seq, last_seq);
        assert!(!recovered.torn);
        assert_eq!(recovered.next_segment, 3);
        let bulk = recovered.state.expect("state").tenants;
        assert_eq!(bulk.len(), 2);
        let expected = saved(one_by_one);
        assert_eq!(expected["tenants"][1]["snapshots"][0]["name"], "s2", "the snapshots are compared too");
        assert_eq!(saved(bulk), expected);
        let _ = fs::remove_dir_all(&dir);
    }

    /// A record for a tenant nothing created stops the start at that record,
    /// even with good records before it; so does a record that does not
    /// parse, after good ones were handed over.
    #[test]
    fn a_bad_record_names_itself_whichever_thread_finds_it() {
        let dir = temp("bad");
        let path = dir.join("state.json");
        let tenants = Tenants::default();
        let a = tenants.insert(Tenant::create(&options(23), None));
        super::super::checkpoint(&tenants.all(), &path, 1).expect("first snapshot");
        let journal = crate::journal::Journal::open(&path, 1, 0).expect("journal");
        tenants.attach_journal(journal.clone());
        for i in 0..3 {
            create(&a, &format!("w{i}"));
        }
        journal.sync().expect("durable");
        journal.stop();
        let segment = crate::journal::segment_path(&path, 1);
        let good = fs::read(&segment).expect("reads");
        let stranger = crate::journal::Entry {
            seq: 99,
            tenant: uuid::Uuid::from_u128(77),
            change: crate::journal::Change::Directory(Vec::new()),
        };
        for (bad, says) in [
            (serde_json::to_vec(&stranger).expect("json"), "neither the snapshot nor the journal created"),
            (b"{\"seq\":99,\"tenant\":\"not a uuid\"}".to_vec(), "journal record 3"),
        ] {
            let mut bytes = good.clone();
            crate::journal::frame(&bad, &mut bytes);
            fs::write(&segment, &bytes).expect("writes");
            let err = recover(&path).expect_err("refused");
            let text = err.to_string();
            assert!(matches!(err, StateError::Corrupt { .. }), "{text}");
            assert!(text.contains(says) || format!("{err:?}").contains(says), "{err:?}");
            assert!(format!("{err:?}").contains("journal record 3"), "{err:?}");
        }
        let _ = fs::remove_dir_all(&dir);
    }
}
