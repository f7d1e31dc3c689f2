//! Start-up: the snapshot with the journal replayed onto it.
//!
//! A journal of a million writes is a gigabyte of JSON, and parsing it is most
//! of replay's work, so that is spread over threads: one reads the segments a
//! piece at a time, checks each record's frame and hands runs of records
//! ([`Chunk`]s) round the parsing threads in turn; each parses its records —
//! a directory write straight into typed values (`directory::replay::Staged`)
//! — and the calling thread takes the results back in the same turn, so in
//! record order, and applies them. Directory writes are staged per tenant and
//! applied in bulk (see `directory/replay.rs` for why that gives the same
//! directory); any other record first settles what is staged, then applies as
//! it always did.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use uuid::Uuid;

use super::{load, SavedState, SavedTenant, StateError, TenantHead, STATE_VERSION};
use crate::directory::replay::Staged;
use crate::journal::{Change, Piece, ReadError, SegmentReader};

/// Bytes of records in one chunk handed to a parsing thread: a few hundred
/// records, so handing over costs little beside parsing them.
const CHUNK_BYTES: usize = 256 << 10;
/// Chunks waiting for each parsing thread, and results waiting for the
/// applying one: enough that nobody waits on the others for long, few enough
/// that what is in flight stays a few MiB.
const IN_FLIGHT: usize = 4;
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

/// Records of one segment, copied out of the reader's buffer for a parsing
/// thread.
struct Chunk {
    segment: usize,
    /// The number of the first record in its segment.
    first: usize,
    bytes: Vec<u8>,
    /// Where each record ends in `bytes`.
    ends: Vec<usize>,
}

/// A chunk parsed: its records as batches in order, and the highest sequence
/// number among them; or the error that stopped it.
type Parsed = Result<(Vec<Batch>, u64), StateError>;

/// What a parsing thread hands over.
enum Batch {
    /// Consecutive directory writes to one tenant, staged; `first` is where
    /// the first of them is.
    Directory { tenant: Uuid, staged: Box<Staged>, first: RecordAt },
    /// Any other record.
    Other { tenant: Uuid, change: Change, at: RecordAt },
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
    let parsers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4);
    let segments = &segments;
    let (applied, read) = std::thread::scope(|scope| {
        let spawn = |name: &str| std::thread::Builder::new().name(name.into());
        // Each sender moves into the thread that sends, so every channel
        // closes when its sender returns, however it returns.
        let (mut to_parsers, mut parsed) = (Vec::new(), Vec::new());
        for _ in 0..parsers {
            let (chunks_in, chunks) = sync_channel::<Chunk>(IN_FLIGHT);
            let (results, results_out) = sync_channel::<Parsed>(IN_FLIGHT);
            let parser =
                spawn("graphbox-replay-parse").spawn_scoped(scope, move || parse_chunks(segments, chunks, results));
            if parser.is_err() {
                break;
            }
            to_parsers.push(chunks_in);
            parsed.push(results_out);
        }
        if to_parsers.is_empty() {
            return (Ok(0), Err(read_err(std::io::Error::other("cannot start a thread to replay the journal"))));
        }
        let reader = spawn("graphbox-replay-read").spawn_scoped(scope, move || read_segments(segments, to_parsers));
        let applied = apply_chunks(&mut state.tenants, &parsed, segments);
        // Whatever stopped the applying thread, nobody receives any more.
        drop(parsed);
        let read = match reader {
            Ok(reader) => reader.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(e) => Err(read_err(e)),
        };
        (applied, read)
    });
    // The applying thread sees only records before any the reader refused,
    // and sees the parsers' errors in record order, so its error, if any,
    // comes first in the journal.
    let last_seq = applied?;
    let torn = read?;
    Ok(Recovered { state: Some(state), torn, next_segment, last_seq })
}

/// The reading thread: every record of every segment, framing checked, in
/// chunks handed to the parsing threads in turn. Returns whether a torn tail
/// was dropped; returns early, without an error, when nobody receives (the
/// applying thread stopped, and its error is the one to report).
fn read_segments(segments: &[(u64, PathBuf)], parsers: Vec<SyncSender<Chunk>>) -> Result<bool, StateError> {
    let mut torn = false;
    let last_segment = segments.last().map(|(n, _)| *n);
    let mut turn = (0..parsers.len()).cycle();
    let mut hand_over = |chunk: &mut Chunk| {
        let next = Chunk {
            segment: chunk.segment,
            first: chunk.first + chunk.ends.len(),
            bytes: Vec::with_capacity(CHUNK_BYTES + (CHUNK_BYTES >> 2)),
            ends: Vec::new(),
        };
        let full = std::mem::replace(chunk, next);
        full.ends.is_empty() || parsers[turn.next().expect("endless")].send(full).is_ok()
    };
    for (segment, (n, file)) in segments.iter().enumerate() {
        let corrupt = |detail: String| StateError::Corrupt { path: file.clone(), detail };
        let opened = fs::File::open(file).map_err(|source| StateError::Read { path: file.clone(), source })?;
        let mut reader = SegmentReader::new(opened);
        let mut chunk = Chunk { segment, first: 0, bytes: Vec::new(), ends: Vec::new() };
        loop {
            match reader.next() {
                Ok(Piece::Record(payload)) => {
                    chunk.bytes.extend_from_slice(payload);
                    chunk.ends.push(chunk.bytes.len());
                    if chunk.bytes.len() >= CHUNK_BYTES && !hand_over(&mut chunk) {
                        return Ok(torn);
                    }
                }
                Ok(Piece::End(None)) => break,
                Ok(Piece::End(Some(cut))) => {
                    torn = true;
                    if Some(*n) != last_segment {
                        return Err(corrupt(format!(
                            "journal: a record cut short at byte {} of a segment that later segments follow",
                            cut.offset
                        )));
                    }
                    tracing::warn!(
                        journal = %file.display(),
                        offset = cut.offset,
                        bytes = cut.bytes,
                        lost = %cut.preview,
                        "the last journal record was cut short by a crash while it was written; its write was never \
                         acknowledged and is dropped"
                    );
                    break;
                }
                Err(ReadError::Io(source)) => return Err(StateError::Read { path: file.clone(), source }),
                Err(ReadError::Scan(e)) => return Err(corrupt(format!("journal: {e}"))),
            }
        }
        if !hand_over(&mut chunk) {
            return Ok(torn);
        }
    }
    Ok(torn)
}

/// A parsing thread: each chunk it is handed, parsed into batches, in the
/// order they came. Stops at the first record that does not parse (having
/// handed over its error) or when nobody receives.
fn parse_chunks(segments: &[(u64, PathBuf)], chunks: Receiver<Chunk>, results: SyncSender<Parsed>) {
    for chunk in chunks {
        let parsed = parse_chunk(segments, &chunk);
        let failed = parsed.is_err();
        if results.send(parsed).is_err() || failed {
            return;
        }
    }
}

fn parse_chunk(segments: &[(u64, PathBuf)], chunk: &Chunk) -> Parsed {
    let mut batches = Batcher { done: Vec::new(), filling: None, at: RecordAt { segment: chunk.segment, record: 0 } };
    let mut last_seq = 0;
    let mut start = 0;
    for (i, end) in chunk.ends.iter().enumerate() {
        let record = chunk.first + i;
        batches.at = RecordAt { segment: chunk.segment, record };
        let entry = crate::journal::read_for_replay(&chunk.bytes[start..*end], &mut batches).map_err(|e| {
            StateError::Corrupt {
                path: segments[chunk.segment].1.clone(),
                detail: format!("journal record {record}: {e}"),
            }
        })?;
        start = *end;
        last_seq = last_seq.max(entry.seq);
        if let Some(change) = entry.other {
            batches.finish();
            batches.done.push(Batch::Other { tenant: entry.tenant, change, at: batches.at });
        }
    }
    batches.finish();
    Ok((batches.done, last_seq))
}

/// A parsing thread's batches for one chunk: directory writes staged as they
/// are read, a batch closed when the next write is another tenant's or
/// another kind of record comes.
struct Batcher {
    done: Vec<Batch>,
    /// The batch being filled: its tenant, what is staged, where its first
    /// record is.
    filling: Option<(Uuid, Box<Staged>, RecordAt)>,
    /// Where the record being read is.
    at: RecordAt,
}

impl Batcher {
    fn finish(&mut self) {
        if let Some((tenant, staged, first)) = self.filling.take() {
            self.done.push(Batch::Directory { tenant, staged, first });
        }
    }
}

impl crate::journal::Staging for Batcher {
    fn directory(&mut self, tenant: Uuid) -> &mut Staged {
        if self.filling.as_ref().is_some_and(|(t, _, _)| *t != tenant) {
            self.finish();
        }
        let at = self.at;
        &mut self.filling.get_or_insert_with(|| (tenant, Box::default(), at)).1
    }
}

/// The applying thread: the parsers' results taken in the turn the chunks
/// were handed out, so in record order, applied onto the tenants. Returns
/// the highest sequence number seen.
fn apply_chunks(
    tenants: &mut Vec<SavedTenant>,
    parsed: &[Receiver<Parsed>],
    segments: &[(u64, PathBuf)],
) -> Result<u64, StateError> {
    let corrupt = |at: RecordAt, detail: String| StateError::Corrupt {
        path: segments[at.segment].1.clone(),
        detail: format!("journal record {}: {detail}", at.record),
    };
    let mut pending: Vec<(Uuid, Staged)> = Vec::new();
    let mut last_seq = 0;
    // A parser with nothing more to hand over closes its channel: the
    // chunks went round in turn, so every chunk has been taken then.
    for results in parsed.iter().cycle() {
        let Ok(result) = results.recv() else { break };
        let (batches, seq) = result?;
        last_seq = last_seq.max(seq);
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
    }
    settle_all(tenants, &mut pending);
    Ok(last_seq)
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

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("graphbox-recover-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    /// A state file in a fresh temp dir named `name`, snapshotted with one
    /// tenant from `seed`, and its journal open and attached. Returns the
    /// dir, the state file, the tenants, that tenant and the journal.
    fn journaled(
        name: &str,
        seed: u64,
    ) -> (PathBuf, PathBuf, Tenants, std::sync::Arc<Tenant>, std::sync::Arc<crate::journal::Journal>) {
        let dir = temp(name);
        let path = dir.join("state.json");
        let tenants = Tenants::default();
        let tenant = tenants.insert(Tenant::seeded(seed));
        super::super::checkpoint(&tenants.all(), &path, 1).expect("first snapshot");
        let journal = crate::journal::Journal::open(&path, 1, 0).expect("journal");
        tenants.attach_journal(journal.clone());
        (dir, path, tenants, tenant, journal)
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
        let (dir, path, tenants, a, journal) = journaled("bulk", 21);
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
        let b = crate::fork::fork_into(&tenants, &a, &TenantOptions::seeded(22));
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

    /// A journal written by the build before replay went in bulk
    /// (`tests/fixtures/journal-v1`, made by `serve --state --id-seed 4242`:
    /// three users created, one renamed, a snapshot taken, one deleted, a
    /// group given a member, an application given a secret, the clock
    /// advanced an hour, then kill -9). Later builds must keep replaying it to
    /// what those writes made.
    #[test]
    fn a_journal_written_before_replay_went_in_bulk_keeps_replaying() {
        use crate::directory::users::USER;
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/journal-v1/state.json");
        let (one_by_one, _) = replayed_one_by_one(&path);
        let recovered = recover(&path).expect("replays");
        assert_eq!((recovered.last_seq, recovered.torn, recovered.next_segment), (11, false, 2));
        let mut tenants = recovered.state.expect("state").tenants;
        assert_eq!(tenants.len(), 1);
        let tenant = Tenant::restore(tenants.remove(0)).expect("a clock");
        assert_eq!(tenant.clock.offset(), std::time::Duration::from_secs(3600));
        let ids = [
            "4a0c5269-b472-4df9-aac7-4bee0cacab55",
            "ccbc2447-d0bf-4848-ade6-a9c47ee3cf6f",
            "e21bbf60-d2e4-468c-bbee-fd5ea75925bc",
        ];
        let user = |n: usize| uuid::Uuid::parse_str(ids[n - 1]).expect("an id");
        let domain = "graphbox20b164.onmicrosoft.com";
        {
            let dir = tenant.read();
            assert_eq!(dir.user_by_upn(&format!("jx1@{domain}")), Some(user(1)));
            assert_eq!(dir.users[&user(1)].get_str(&USER, "displayName"), Some("Journal User 1 renamed"));
            assert!(dir.passwords[&user(1)].matches("Journal!Pass1"), "its password still signs in");
            assert_eq!(dir.user_by_upn(&format!("jx2@{domain}")), None, "deleted");
            assert!(dir.deleted.contains_key(&user(2)), "soft-deleted, restorable");
            let group = uuid::Uuid::parse_str("a3287eaa-0811-4e84-a855-1dba41999b67").expect("an id");
            assert_eq!(dir.group_link(group, crate::directory::groups::Link::Members), vec![user(3)]);
            let app = uuid::Uuid::parse_str("089f64f4-a582-4006-9688-3cf0c559ab1b").expect("an id");
            let secrets = &dir.secrets[&app];
            assert_eq!(secrets.len(), 1);
            assert!(
                secrets[0].hash.matches("gxi4Q~7E6YWXlfXTF8sjQDKQ.Yl2erDXM-wf1CZr"),
                "the secret still authenticates"
            );
        }
        crate::fork::restore(&tenant, "before-delete").expect("the snapshot came back");
        let dir = tenant.read();
        assert_eq!(dir.user_by_upn(&format!("jx2@{domain}")), Some(user(2)), "the snapshot holds it");
        assert_eq!(dir.users[&user(1)].get_str(&USER, "displayName"), Some("Journal User 1 renamed"));
        drop(dir);
        // And one by one, the way it was replayed when it was written, to the same state file.
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/journal-v1/state.json");
        let bulk = recover(&path).expect("replays").state.expect("state").tenants;
        assert_eq!(saved(bulk), saved(one_by_one));
    }

    /// A record for a tenant nothing created stops the start at that record,
    /// even with good records before it; so does a record that does not
    /// parse, after good ones were handed over.
    #[test]
    fn a_bad_record_names_itself_whichever_thread_finds_it() {
        let (dir, path, _tenants, a, journal) = journaled("bad", 23);
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
