//! The write-ahead journal beside the state file: what makes `--state` keep
//! every acknowledged write across `kill -9`.
//!
//! A journal record is an **effect**, never a request: after a write commits
//! under the tenant's write lock, the record holds the new serialized state of
//! every object the write changed (or its removal), per collection, plus the
//! directory's small fields that changed (domains, organization, sign-in state,
//! the id generator's position). Replay therefore never runs a handler again and
//! never draws randomness again (secrets, salts, ids come back as they were
//! stored). Control-plane changes that live outside the directory (the clock,
//! a tenant created, reset or replaced) are records of their own.
//! What changed is named by the directory's keyed collections, which note the
//! keys their mutators touch (`directory::keyed`, `directory::changes`), so a
//! write costs what it changed, whatever the size of the tenant.
//!
//! The file: an 12-byte header (`MAGIC`, then the journal version, little
//! endian), then records, each `length: u32 LE`, `crc32(payload): u32 LE`,
//! `payload` (one JSON [`Entry`]), then zeros: the room the file grew by
//! ahead of its records ([`Segment`]). `next_frame` is the pure core start-up
//! relies on (through [`SegmentReader`], which reads a file a piece at a
//! time): a record cut short at the end of the file (a crash mid-append) is a
//! torn tail, dropped with a warning that names it; a bad record anywhere
//! before the end is corruption and stops the start, leaving every file
//! untouched.
//!
//! Group commit: callers frame their record into a shared buffer under a
//! mutex; a request that must wait for its records (`wait_durable`, before the
//! HTTP response is sent) first tries to become the flusher — whoever holds
//! the file takes everything buffered, writes it with one `write` and one
//! `fdatasync`, and publishes the highest sequence number now on disk. The
//! others wait for that publication and try again, so every record buffered
//! during one flush goes out with the next. While flushes are fast (tmpfs),
//! the flush runs on the thread of the request that leads it: handing each
//! batch to a thread of its own cost two context switches and a wake-up per
//! batch, which on a 2-core machine halved the write rate. While they are
//! slow (a disk, see [`HAND_OFF_ABOVE`]), requests ask the writer thread
//! instead, so no runtime worker sits in `fdatasync`. The writer thread also
//! does what no request waits on (rotation for compaction, shutdown, a record
//! nobody flushed within `SWEEP`).

use std::cell::Cell;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use uuid::Uuid;

/// First bytes of every journal file.
pub(crate) const MAGIC: &[u8; 8] = b"GBXJRNL\n";
/// The journal format this build writes and reads.
pub(crate) const JOURNAL_VERSION: u32 = 1;
const HEADER_LEN: usize = 12;
const FRAME_LEN: usize = 8;
/// No record is this large (a whole tenant replaced through `PUT …/state` is
/// the largest); a longer length field is damage, not a record.
const MAX_RECORD: usize = 1 << 30;

/// One journal record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Entry {
    /// Increasing across the whole server; a snapshot remembers, per tenant,
    /// the last one it contains, so replay skips what the snapshot holds.
    pub seq: u64,
    pub tenant: Uuid,
    pub change: Change,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Change {
    /// What one directory write changed.
    Directory(Vec<Effect>),
    /// The tenant clock after `clock/advance` (absolute, so replay is idempotent).
    Clock {
        #[serde(default, with = "time::serde::rfc3339::option")]
        frozen_at: Option<time::OffsetDateTime>,
        offset: Duration,
    },
    /// The tenant's realism setting after `PUT …/realism` (absolute).
    Realism(crate::realism::RealismConfig),
    /// The tenant's `authz` setting after `PUT …/authz` (absolute).
    Authz(crate::tenant::AuthzSetting),
    /// A tenant created, reset or replaced, whole (a fresh tenant is small; a
    /// replaced one is what the caller uploaded).
    Tenant(Box<serde_json::Value>),
    /// A tenant forked from `origin`: its own settings (`head`: what
    /// `GET …/state` gives, without the directory) and the effects that turn
    /// the origin's directory, as replay has it at this record, into its own.
    Forked { origin: Uuid, head: Box<serde_json::Value>, effects: Vec<Effect> },
    /// The tenant's scripted fault rules after `PUT …/faults` or after a
    /// request used one up (absolute: the whole remaining set).
    Faults(Vec<crate::faults::FaultRule>),
    /// A named snapshot of the tenant's directory as replay has rebuilt it up
    /// to this record (nothing more is needed: replay holds the same state).
    SnapshotTaken {
        name: String,
        #[serde(with = "time::serde::rfc3339")]
        taken_at: time::OffsetDateTime,
    },
    /// A named snapshot deleted. (A restore needs no record of its own: it is
    /// a directory write, journaled as its effects.)
    SnapshotDeleted { name: String },
}

/// One changed piece of a directory. Read back, keys and values are the JSON
/// text they were written as (`V` = `Box<RawValue>`): no document tree is
/// built when a record is replayed, each is parsed once, straight into its
/// typed value. Written, they are the values themselves ([`Deferred`]) until
/// the flusher serializes them, outside the tenant's lock.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Effect<V = Box<RawValue>> {
    /// An entry of a keyed collection, in its new state.
    Put { collection: Name, key: V, value: V },
    /// An entry of a keyed collection, removed.
    Remove { collection: Name, key: V },
    /// One of the directory's small fields, whole.
    Field { name: Name, value: V },
}

/// A collection's or field's name: the directory's own names when written
/// (no copy a write), owned when read back.
pub(crate) type Name = std::borrow::Cow<'static, str>;

impl Effect<Deferred> {
    /// The same effect as text (what a record read back holds).
    pub(crate) fn into_text(self) -> Effect {
        match self {
            Effect::Put { collection, key, value } => Effect::Put { collection, key: key.text(), value: value.text() },
            Effect::Remove { collection, key } => Effect::Remove { collection, key: key.text() },
            Effect::Field { name, value } => Effect::Field { name, value: value.text() },
        }
    }
}

/// A value of the directory kept for the journal: a write captures it under
/// the tenant's lock (a clone, cheap for the directory's shared records) and
/// the flusher turns it into JSON after the lock is released, so concurrent
/// writers of a tenant do not wait on each other's serialization.
#[derive(Clone)]
pub(crate) struct Deferred(Arc<dyn ToJson>);

trait ToJson: Send + Sync {
    fn to_json(&self) -> Box<RawValue>;
    /// The same text, written onto `out` (the flusher's batch).
    fn write_json(&self, out: &mut Vec<u8>);
}

impl<T: Serialize + Send + Sync> ToJson for T {
    fn to_json(&self) -> Box<RawValue> {
        serde_json::value::to_raw_value(self).expect("directory data serializes to JSON")
    }

    fn write_json(&self, out: &mut Vec<u8>) {
        serde_json::to_writer(out, self).expect("directory data serializes to JSON");
    }
}

impl Deferred {
    pub(crate) fn new<T: Serialize + Send + Sync + 'static>(value: T) -> Self {
        Deferred(Arc::new(value))
    }

    pub(crate) fn text(&self) -> Box<RawValue> {
        self.0.to_json()
    }
}

impl std::fmt::Debug for Deferred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.to_json().get())
    }
}

impl Serialize for Deferred {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.to_json().serialize(s)
    }
}

/// A record waiting for the flusher, in sequence order.
#[derive(Debug)]
enum Queued {
    Entry(Entry),
    /// A directory write, its values not yet serialized.
    Directory {
        seq: u64,
        tenant: Uuid,
        effects: Vec<Effect<Deferred>>,
    },
}

impl Queued {
    /// Frame the record onto `out`: the same bytes as the [`Entry`] replay
    /// reads back. A directory write is spelled here, each value written
    /// straight onto `out`: through serde, every value would first become
    /// text of its own.
    fn frame_onto(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&[0; FRAME_LEN]);
        match self {
            Queued::Entry(entry) => serde_json::to_writer(&mut *out, entry).expect("journal entries are plain JSON"),
            Queued::Directory { seq, tenant, effects } => {
                use std::io::Write as _;
                let _ = write!(out, r#"{{"seq":{seq},"tenant":"{tenant}","change":{{"directory":["#);
                for (i, effect) in effects.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    // Each variant's fields, in the order serde writes them.
                    let (kind, label, name, values): (_, _, _, &[(&str, &Deferred)]) = match effect {
                        Effect::Put { collection, key, value } => {
                            ("put", "collection", collection, &[("key", key), ("value", value)])
                        }
                        Effect::Remove { collection, key } => ("remove", "collection", collection, &[("key", key)]),
                        Effect::Field { name, value } => ("field", "name", name, &[("value", value)]),
                    };
                    let _ = write!(out, r#"{{"{kind}":{{"{label}":"#);
                    serde_json::to_writer(&mut *out, name.as_ref()).expect("a name is a string");
                    for (field, value) in values {
                        let _ = write!(out, r#","{field}":"#);
                        value.0.write_json(out);
                    }
                    out.extend_from_slice(b"}}");
                }
                out.extend_from_slice(b"]}}");
            }
        }
        let payload = &out[start + FRAME_LEN..];
        let (len, sum) = ((payload.len() as u32).to_le_bytes(), crc32(payload).to_le_bytes());
        out[start..start + 4].copy_from_slice(&len);
        out[start + 4..start + FRAME_LEN].copy_from_slice(&sum);
    }
}

/// Where replay stages the directory writes of the records it reads.
pub(crate) trait Staging {
    /// The staging a directory write of `tenant`'s goes to (the caller may
    /// first hand over what it staged for another tenant).
    fn directory(&mut self, tenant: Uuid) -> &mut crate::directory::replay::Staged;
}

/// A record as start-up replays it.
#[derive(Debug)]
pub(crate) struct ReadRecord {
    pub seq: u64,
    pub tenant: Uuid,
    /// Anything but a directory write (rare), parsed whole; `None` for a
    /// directory write, whose effects are staged already.
    pub other: Option<Change>,
}

/// Read a record for replay (the same JSON as [`Entry`]) in one pass, a
/// directory write's effects straight into `staging`
/// (`directory::replay::StageEffects`).
pub(crate) fn read_for_replay(payload: &[u8], staging: &mut dyn Staging) -> Result<ReadRecord, serde_json::Error> {
    use serde::de::{DeserializeSeed, Error};
    // Checked as UTF-8 once, whole: read from a slice, every string and every
    // value kept as text would be checked again on its own.
    let text = std::str::from_utf8(payload).map_err(serde_json::Error::custom)?;
    let mut d = serde_json::Deserializer::from_str(text);
    let record = RecordSeed(staging).deserialize(&mut d)?;
    d.end()?;
    Ok(record)
}

struct RecordSeed<'s>(&'s mut dyn Staging);

impl<'de> serde::de::DeserializeSeed<'de> for RecordSeed<'_> {
    type Value = ReadRecord;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<ReadRecord, D::Error> {
        d.deserialize_struct("Entry", &["seq", "tenant", "change"], self)
    }
}

impl<'de> serde::de::Visitor<'de> for RecordSeed<'_> {
    type Value = ReadRecord;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a journal record")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<ReadRecord, A::Error> {
        use serde::de::Error;
        #[derive(Deserialize)]
        #[serde(field_identifier, rename_all = "snake_case")]
        enum Field {
            Seq,
            Tenant,
            Change,
            #[serde(other)]
            Unknown,
        }
        let (mut seq, mut tenant, mut change, mut change_text) = (None, None, None, None);
        while let Some(field) = map.next_key()? {
            match field {
                Field::Seq => seq = Some(map.next_value()?),
                Field::Tenant => tenant = Some(map.next_value()?),
                // The journal writes the tenant first; a change read before
                // it is kept as text until the tenant is known.
                Field::Change => match tenant {
                    Some(tenant) => change = Some(map.next_value_seed(ChangeSeed { staging: &mut *self.0, tenant })?),
                    None => change_text = Some(map.next_value::<&'de RawValue>()?),
                },
                Field::Unknown => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        let seq = seq.ok_or_else(|| A::Error::missing_field("seq"))?;
        let tenant = tenant.ok_or_else(|| A::Error::missing_field("tenant"))?;
        let other = match (change, change_text) {
            (Some(other), _) => other,
            (None, Some(text)) => {
                use serde::de::DeserializeSeed;
                let mut d = serde_json::Deserializer::from_str(text.get());
                ChangeSeed { staging: self.0, tenant }.deserialize(&mut d).map_err(A::Error::custom)?
            }
            (None, None) => return Err(A::Error::missing_field("change")),
        };
        Ok(ReadRecord { seq, tenant, other })
    }
}

/// A record's `change`: a directory write staged as it is read, any other
/// kind parsed whole.
struct ChangeSeed<'s> {
    staging: &'s mut dyn Staging,
    tenant: Uuid,
}

/// A [`Change`]'s variant name, kept only when it is not the common one.
enum ChangeTag {
    Directory,
    Other(String),
}

impl<'de> Deserialize<'de> for ChangeTag {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = ChangeTag;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a change's kind")
            }
            fn visit_str<E: serde::de::Error>(self, tag: &str) -> Result<ChangeTag, E> {
                Ok(if tag == "directory" { ChangeTag::Directory } else { ChangeTag::Other(tag.to_owned()) })
            }
        }
        d.deserialize_identifier(Visit)
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for ChangeSeed<'_> {
    type Value = Option<Change>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Option<Change>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for ChangeSeed<'_> {
    type Value = Option<Change>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a change")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Option<Change>, A::Error> {
        use serde::de::Error;
        let change = match map.next_key::<ChangeTag>()? {
            Some(ChangeTag::Directory) => {
                let staged = self.staging.directory(self.tenant);
                map.next_value_seed(crate::directory::replay::StageEffects(staged))?;
                None
            }
            // Rare: the variant parsed whole, as `Change` reads it.
            Some(ChangeTag::Other(tag)) => {
                let value: &RawValue = map.next_value()?;
                let whole = format!("{{{}:{}}}", serde_json::Value::String(tag), value.get());
                Some(serde_json::from_str(&whole).map_err(A::Error::custom)?)
            }
            None => return Err(A::Error::invalid_length(0, &"one kind of change")),
        };
        if map.next_key::<serde::de::IgnoredAny>()?.is_some() {
            return Err(A::Error::invalid_length(2, &"one kind of change"));
        }
        Ok(change)
    }
}

/// The 12-byte file header.
pub(crate) fn header() -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..8].copy_from_slice(MAGIC);
    h[8..].copy_from_slice(&JOURNAL_VERSION.to_le_bytes());
    h
}

/// Append one framed record to `out` (the flusher frames in place:
/// `Queued::frame_onto`).
#[cfg(test)]
pub(crate) fn frame(payload: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// A record cut short at the end of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TornTail {
    /// Where the torn record starts; the file's valid part ends here.
    pub offset: usize,
    /// How many bytes of it were there.
    pub bytes: usize,
    /// The start of what was written, for the warning (the payload is JSON,
    /// so this names the tenant and the kind of change when enough of it landed).
    pub preview: String,
}

/// The records of a journal file.
#[cfg(test)]
#[derive(Debug, Default)]
pub(crate) struct Scanned<'a> {
    pub records: Vec<&'a [u8]>,
    pub torn: Option<TornTail>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ScanError {
    #[error("it does not start with a graphbox journal header")]
    NotAJournal,
    #[error("it was written by a newer graphbox (journal version {0}, this build reads {JOURNAL_VERSION})")]
    TooNew(u32),
    #[error("record {index} at byte {offset} is damaged ({detail}) and records follow it")]
    Corrupt { index: usize, offset: usize, detail: String },
}

/// Split a journal file into records. Only the last record may be incomplete
/// (what a crash mid-append leaves: a short length field, a short payload, or
/// a full-length payload whose bytes did not all land, zeros included); zeros
/// after the last record are room the segment had to grow, not a record;
/// damage anywhere before the last record is an error. The whole file in memory: what tests
/// judge; start-up reads with [`SegmentReader`], which finds the same.
#[cfg(test)]
pub(crate) fn scan(bytes: &[u8]) -> Result<Scanned<'_>, ScanError> {
    let mut out = Scanned::default();
    if let Some(end) = check_header(bytes)? {
        out.torn = end;
        return Ok(out);
    }
    let mut at = HEADER_LEN;
    loop {
        let rest = &bytes[at..];
        match next_frame(rest) {
            Frame::Record(len) => {
                out.records.push(&rest[FRAME_LEN..FRAME_LEN + len]);
                at += FRAME_LEN + len;
            }
            Frame::Incomplete if rest.is_empty() => break,
            Frame::Padding => match rest.iter().position(|b| *b != 0) {
                Some(i) => return Err(stray_after_padding(out.records.len(), at + i)),
                None => break,
            },
            // Nothing follows: what is there is all the record will ever have.
            Frame::Incomplete => {
                out.torn = torn_tail(at, rest);
                break;
            }
            Frame::Corrupt(detail) => return Err(ScanError::Corrupt { index: out.records.len(), offset: at, detail }),
        }
    }
    Ok(out)
}

/// Check the header. `Some` when the file ends inside it (a crash while a new
/// segment's header was written: nothing to replay, and a torn tail unless
/// the file is empty).
fn check_header(bytes: &[u8]) -> Result<Option<Option<TornTail>>, ScanError> {
    if bytes.len() < HEADER_LEN {
        if header().starts_with(bytes) {
            let torn = (!bytes.is_empty()).then(|| TornTail { offset: 0, bytes: bytes.len(), preview: String::new() });
            return Ok(Some(torn));
        }
        return Err(ScanError::NotAJournal);
    }
    if &bytes[..8] != MAGIC {
        return Err(ScanError::NotAJournal);
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if version > JOURNAL_VERSION {
        return Err(ScanError::TooNew(version));
    }
    Ok(None)
}

/// What starts at a record boundary, judged from `rest`, the bytes from there
/// on that are at hand.
#[derive(Debug, PartialEq, Eq)]
enum Frame {
    /// A whole record with a good checksum: its payload's length.
    Record(usize),
    /// Not a whole good record, but it may yet be one if more bytes follow;
    /// if the file ends here, a torn tail (or nothing, when `rest` is empty).
    Incomplete,
    /// Damage that more bytes cannot make good, and which bytes follow.
    Corrupt(String),
    /// Zeros where a frame would start: the records ended before them, and
    /// every byte after must be zero too (see [`stray_after_padding`]).
    Padding,
}

/// [`scan`] and [`SegmentReader`] judge every record here, so the whole file
/// in memory and a file read a piece at a time tell torn from corrupt alike.
fn next_frame(rest: &[u8]) -> Frame {
    // No record has a length and a checksum both zero: zeros where a record
    // would start are the segment's room to grow (see `Segment`), or what
    // the file system extended the file by before a record's bytes landed.
    if rest.len() < FRAME_LEN {
        return Frame::Incomplete;
    }
    if rest[..FRAME_LEN].iter().all(|b| *b == 0) {
        return Frame::Padding;
    }
    let len = u32::from_le_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
    let sum = u32::from_le_bytes(rest[4..8].try_into().expect("4 bytes"));
    if len == 0 || len > MAX_RECORD {
        return Frame::Corrupt(format!("a record length of {len}"));
    }
    if rest.len() < FRAME_LEN + len {
        return Frame::Incomplete;
    }
    if crc32(&rest[FRAME_LEN..FRAME_LEN + len]) != sum {
        // Bad bytes in the last record are a torn tail (zeros after it are
        // the segment's room); with anything written after them, corruption.
        if rest[FRAME_LEN + len..].iter().any(|b| *b != 0) {
            return Frame::Corrupt("checksum mismatch".into());
        }
        return Frame::Incomplete;
    }
    Frame::Record(len)
}

/// A byte that is not zero after the zeros that ended the records: written
/// there, so those zeros were not the end, and the records in between are lost.
fn stray_after_padding(index: usize, offset: usize) -> ScanError {
    ScanError::Corrupt {
        index,
        offset,
        detail: format!("bytes after zeros where a record should start, at byte {offset}"),
    }
}

/// What the file's last, incomplete `rest` was: nothing, or fewer zeros than
/// a frame (room to grow: see [`Frame::Padding`]), or a torn record.
fn torn_tail(offset: usize, rest: &[u8]) -> Option<TornTail> {
    if rest.iter().all(|b| *b == 0) {
        return None;
    }
    // A torn record in a segment's room is followed by zeros: not its bytes.
    let extent = match rest.get(..4) {
        Some(len) => FRAME_LEN.saturating_add(u32::from_le_bytes(len.try_into().expect("4 bytes")) as usize),
        None => rest.len(),
    };
    let rest = &rest[..rest.len().min(extent)];
    let payload = rest.get(FRAME_LEN..).unwrap_or_default();
    let preview: String = String::from_utf8_lossy(&payload[..payload.len().min(160)]).into_owned();
    Some(TornTail { offset, bytes: rest.len(), preview })
}

/// What [`SegmentReader::next`] found.
#[derive(Debug)]
pub(crate) enum Piece<'a> {
    /// A record's payload.
    Record(&'a [u8]),
    /// The end of the file, after a torn tail or not.
    End(Option<TornTail>),
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Scan(#[from] ScanError),
}

/// A journal file's records as [`scan`] finds them, read a piece at a time:
/// start-up replays a segment of a gigabyte through one small buffer instead
/// of a copy of the file, whose fresh pages the kernel would zero first.
#[derive(Debug)]
pub(crate) struct SegmentReader<R> {
    source: R,
    buf: Vec<u8>,
    /// The next record boundary in `buf`, and the end of what `buf` holds.
    at: usize,
    filled: usize,
    /// Where `buf[0]` is in the file.
    base: usize,
    /// Records handed out so far.
    index: usize,
    header_checked: bool,
    /// Past the last record, in the zeros that follow it.
    in_padding: bool,
    ended: bool,
}

impl<R: std::io::Read> SegmentReader<R> {
    pub(crate) fn new(source: R) -> Self {
        Self::with_buffer(source, 1 << 20)
    }

    /// `capacity`: the initial buffer (it grows to hold a larger record).
    fn with_buffer(source: R, capacity: usize) -> Self {
        SegmentReader {
            source,
            buf: vec![0; capacity.max(HEADER_LEN)],
            at: 0,
            filled: 0,
            base: 0,
            index: 0,
            header_checked: false,
            in_padding: false,
            ended: false,
        }
    }

    /// The next record, or the end of the file (after which it stays ended).
    pub(crate) fn next(&mut self) -> Result<Piece<'_>, ReadError> {
        if self.ended {
            return Ok(Piece::End(None));
        }
        if !self.header_checked {
            while self.filled < HEADER_LEN && self.fill()? {}
            if let Some(torn) = check_header(&self.buf[..self.filled])? {
                self.ended = true;
                return Ok(Piece::End(torn));
            }
            self.header_checked = true;
            self.at = HEADER_LEN;
        }
        loop {
            if self.in_padding {
                // Read through the zeros a piece at a time, keeping none.
                let rest = &self.buf[self.at..self.filled];
                if let Some(i) = rest.iter().position(|b| *b != 0) {
                    return Err(stray_after_padding(self.index, self.base + self.at + i).into());
                }
                self.at = self.filled;
                if !self.fill()? {
                    self.ended = true;
                    return Ok(Piece::End(None));
                }
                continue;
            }
            match next_frame(&self.buf[self.at..self.filled]) {
                Frame::Padding => self.in_padding = true,
                Frame::Record(len) => {
                    let payload = self.at + FRAME_LEN..self.at + FRAME_LEN + len;
                    self.at = payload.end;
                    self.index += 1;
                    return Ok(Piece::Record(&self.buf[payload]));
                }
                Frame::Corrupt(detail) => {
                    let offset = self.base + self.at;
                    return Err(ScanError::Corrupt { index: self.index, offset, detail }.into());
                }
                Frame::Incomplete => {
                    if !self.fill()? {
                        self.ended = true;
                        return Ok(Piece::End(torn_tail(self.base + self.at, &self.buf[self.at..self.filled])));
                    }
                }
            }
        }
    }

    /// Read more after what is buffered, keeping the unfinished record;
    /// `false` at the end of the file.
    fn fill(&mut self) -> std::io::Result<bool> {
        if self.at > 0 {
            self.buf.copy_within(self.at..self.filled, 0);
            self.base += self.at;
            self.filled -= self.at;
            self.at = 0;
        }
        if self.filled == self.buf.len() {
            // A record larger than the buffer.
            self.buf.resize(self.buf.len() * 2, 0);
        }
        loop {
            match self.source.read(&mut self.buf[self.filled..]) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.filled += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// CRC-32 (IEEE 802.3, the zlib one). Start-up checks every byte of the
/// journal with it, so it uses the processor's carry-less multiply where
/// there is one: a byte-at-a-time table ran at ~0.4 GB/s, seconds for a
/// large journal.
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

/// The journal files of a state file, oldest first: `<state>.journal.<n>`.
pub(crate) fn segments(state: &Path) -> std::io::Result<Vec<(u64, PathBuf)>> {
    let dir = state.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let prefix = format!("{}.journal.", state.file_name().and_then(|n| n.to_str()).unwrap_or("state"));
    let mut found = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(n) = name.to_str().and_then(|n| n.strip_prefix(&prefix)).and_then(|n| n.parse::<u64>().ok()) else {
            continue;
        };
        found.push((n, entry.path()));
    }
    found.sort();
    Ok(found)
}

pub(crate) fn segment_path(state: &Path, n: u64) -> PathBuf {
    let name = format!("{}.journal.{n}", state.file_name().and_then(|n| n.to_str()).unwrap_or("state"));
    state.with_file_name(name)
}

thread_local! {
    /// The highest sequence number appended by the request running on this
    /// thread: `http::route` is synchronous, so everything it appends happens
    /// on the thread that asks afterwards.
    static APPENDED_HERE: Cell<u64> = const { Cell::new(0) };
}

#[cfg(test)]
thread_local! {
    /// Flushes this thread ran (which thread flushes is the design).
    static FLUSHED_HERE: Cell<u64> = const { Cell::new(0) };
}

/// Forget what this thread appended (before a request runs).
pub(crate) fn clear_appended_here() {
    APPENDED_HERE.with(|c| c.set(0));
}

/// The highest sequence number this thread appended since the last clear.
pub(crate) fn appended_here() -> u64 {
    APPENDED_HERE.with(|c| c.get())
}

#[derive(Debug)]
struct Pending {
    /// Records not yet written, in sequence order.
    buf: Vec<Queued>,
    /// The sequence number of the last record in `buf` (or handed out).
    last_seq: u64,
    /// Open a new segment before writing what is buffered (compaction).
    rotate_to: Option<u64>,
    /// The writer failed; every later wait reports it.
    failed: Option<String>,
    stopping: bool,
    /// The writer thread has returned: nothing will serve a rotation again.
    exited: bool,
    /// The writer thread sleeps until told: the next record must wake it (it
    /// sweeps on a timer only while records come in).
    writer_idle: bool,
    /// A request waits for what is buffered and has left the flush to the
    /// writer thread (flushes are slow: see [`HAND_OFF_ABOVE`]).
    asked: bool,
    /// The writer thread waits on `wake` (idle or sweeping), so asking it
    /// takes a notification; while it flushes, it looks at `asked` after.
    writer_waiting: bool,
}

/// The segment being appended to. The file grows ahead of the records in
/// steps of [`GROW_BY`], its new room sparse zeros: an `fdatasync` after an
/// append that grew the file must also commit the file's new size, one more
/// journal write in the file system. On this project's ext4 VM, a 1.2 KB
/// append + `fdatasync` took 112-120 µs (51 µs of CPU) to a growing file and
/// 78 µs (39 µs of CPU) inside room made ahead. Readers take zeros where a
/// record would start as the end of the records; a stopped journal trims its
/// room off.
#[derive(Debug)]
struct Segment {
    file: File,
    /// Bytes of header and records.
    written: u64,
    /// The file's length: `written` plus the room ahead.
    len: u64,
}

/// How far a segment's file grows ahead of its records at a time.
const GROW_BY: u64 = 8 << 20;

impl Segment {
    fn append(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let end = self.written + bytes.len() as u64;
        if end > self.len {
            let len = end + GROW_BY;
            self.file.set_len(len)?;
            self.len = len;
        }
        self.file.write_all(bytes)?;
        self.written = end;
        Ok(())
    }

    /// Cut the room ahead off (the segment is done with).
    fn trim(&mut self) -> std::io::Result<()> {
        if self.len > self.written {
            self.file.set_len(self.written)?;
            self.len = self.written;
            self.file.sync_all()?;
        }
        Ok(())
    }
}

/// Above this `fdatasync` time, a request that waits for its records asks the
/// writer thread to flush them instead of flushing on its own thread. A
/// flushing request blocks a runtime worker for the whole `fdatasync`: on
/// tmpfs (about 1 µs) that is cheaper than waking another thread, on a disk
/// (80-150 µs here) it leaves one of this machine's two workers idle while
/// requests queue behind it.
const HAND_OFF_ABOVE: Duration = Duration::from_micros(30);

#[derive(Debug)]
struct Shared {
    pending: Mutex<Pending>,
    /// The open segment. Whoever holds it is the one flusher; it is released
    /// before the flush is published, so a waiter that finds it held always
    /// sees a publication after.
    file: Mutex<Segment>,
    /// How long the last flushes' `fdatasync` took (nanoseconds, a moving
    /// average): above [`HAND_OFF_ABOVE`], requests leave flushing to the
    /// writer thread.
    sync_nanos: std::sync::atomic::AtomicU64,
    /// [`HAND_OFF_ABOVE`] in nanoseconds (tests set it to either extreme).
    hand_off_above: std::sync::atomic::AtomicU64,
    wake: Condvar,
    durable: tokio::sync::watch::Sender<u64>,
    /// Signalled after each rotation the writer performed.
    rotated: Condvar,
    rotated_to: Mutex<u64>,
    /// Bytes written to the current segment (what compaction would fold in).
    segment_bytes: std::sync::atomic::AtomicU64,
}

impl Shared {
    /// Whether flushes are slow enough to hand to the writer thread.
    fn hands_off(&self) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        self.sync_nanos.load(Relaxed) > self.hand_off_above.load(Relaxed)
    }

    /// Have the writer thread flush what is buffered now (once per batch:
    /// the requests that ask while it flushes are served by its next flush).
    fn ask_writer(&self) {
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if p.asked {
            return;
        }
        p.asked = true;
        let waiting = p.writer_waiting;
        drop(p);
        if waiting {
            self.wake.notify_one();
        }
    }

    /// Whether records can still reach the disk: not after a failed write,
    /// nor once the journal was stopped (the server is going down).
    fn check_open(&self) -> Result<(), NotDurable> {
        let p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        match (&p.failed, p.exited) {
            (Some(e), _) => Err(NotDurable(e.clone())),
            (None, true) => Err(NotDurable("the journal was closed: the server is stopping".into())),
            (None, false) => Ok(()),
        }
    }
}

/// The running journal: appends from any thread, one writer thread.
#[derive(Debug)]
pub(crate) struct Journal {
    shared: Arc<Shared>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// The journal could not be written: the change is applied in memory but is
/// not on disk.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the change was applied but could not be written to the journal beside the state file ({0}); it may be lost if the server stops")]
pub(crate) struct NotDurable(pub String);

impl Journal {
    /// Start appending to a new segment `<state>.journal.<segment>`, after
    /// sequence number `last_seq`.
    pub(crate) fn open(state: &Path, segment: u64, last_seq: u64) -> std::io::Result<Arc<Journal>> {
        let file = create_segment(state, segment)?;
        let (durable, _) = tokio::sync::watch::channel(last_seq);
        let shared = Arc::new(Shared {
            pending: Mutex::new(Pending {
                buf: Vec::new(),
                last_seq,
                rotate_to: None,
                failed: None,
                stopping: false,
                exited: false,
                writer_idle: true,
                asked: false,
                writer_waiting: false,
            }),
            file: Mutex::new(file),
            sync_nanos: Default::default(),
            hand_off_above: (HAND_OFF_ABOVE.as_nanos() as u64).into(),
            wake: Condvar::new(),
            durable,
            rotated: Condvar::new(),
            rotated_to: Mutex::new(segment),
            segment_bytes: Default::default(),
        });
        let writer = {
            let shared = shared.clone();
            let state = state.to_owned();
            std::thread::Builder::new().name("graphbox-journal".into()).spawn(move || write_loop(&shared, &state))?
        };
        Ok(Arc::new(Journal { shared, writer: Mutex::new(Some(writer)) }))
    }

    /// Append one record; returns its sequence number. Called under the
    /// tenant's write lock, so a tenant's records are in commit order.
    pub(crate) fn append(&self, tenant: Uuid, change: Change) -> u64 {
        self.queue(|seq| Queued::Entry(Entry { seq, tenant, change }))
    }

    /// Append what a directory write changed (see [`Deferred`]).
    pub(crate) fn append_directory(&self, tenant: Uuid, effects: Vec<Effect<Deferred>>) -> u64 {
        self.queue(|seq| Queued::Directory { seq, tenant, effects })
    }

    fn queue(&self, record: impl FnOnce(u64) -> Queued) -> u64 {
        let mut p = self.shared.pending.lock().unwrap_or_else(|e| e.into_inner());
        p.last_seq += 1;
        let seq = p.last_seq;
        p.buf.push(record(seq));
        let wake_writer = std::mem::take(&mut p.writer_idle);
        drop(p);
        if wake_writer {
            self.shared.wake.notify_one();
        }
        APPENDED_HERE.with(|c| c.set(c.get().max(seq)));
        seq
    }

    /// The last sequence number handed out.
    #[cfg(test)]
    pub(crate) fn last_seq(&self) -> u64 {
        self.shared.pending.lock().unwrap_or_else(|e| e.into_inner()).last_seq
    }

    /// Wait until every record up to `seq` is on disk, flushing them on this
    /// thread when no flush is under way (see the module's account).
    pub(crate) async fn wait_durable(&self, seq: u64) -> Result<(), NotDurable> {
        let mut rx = self.shared.durable.subscribe();
        loop {
            if *rx.borrow_and_update() >= seq {
                return Ok(());
            }
            self.shared.check_open()?;
            if self.shared.hands_off() {
                self.shared.ask_writer();
            } else if let Ok(file) = self.shared.file.try_lock() {
                // Blocks this worker for one `write` + `fdatasync` (a fast
                // one): every request waiting here is answered by it.
                flush(&self.shared, file, None);
                continue;
            }
            if rx.changed().await.is_err() {
                return Err(NotDurable("the journal writer stopped".into()));
            }
        }
    }

    /// Block the calling thread until every record up to `seq` is on disk
    /// (the Rust handle's calls, which answer without going through HTTP).
    pub(crate) fn wait_durable_blocking(&self, seq: u64) -> Result<(), NotDurable> {
        loop {
            if *self.shared.durable.borrow() >= seq {
                return Ok(());
            }
            self.shared.check_open()?;
            flush(&self.shared, self.shared.file.lock().unwrap_or_else(|e| e.into_inner()), None);
        }
    }

    /// Block until every record appended so far is on disk.
    #[cfg(test)]
    pub(crate) fn sync(&self) -> Result<(), NotDurable> {
        self.wait_durable_blocking(self.last_seq())
    }

    /// Make later appends go to a new segment; returns once the writer has
    /// switched, with the number of the new segment. Every record appended
    /// before this call is in an older segment.
    pub(crate) fn rotate(&self) -> u64 {
        let target = {
            let mut p = self.shared.pending.lock().unwrap_or_else(|e| e.into_inner());
            let current = *self.shared.rotated_to.lock().unwrap_or_else(|e| e.into_inner());
            let target = p.rotate_to.unwrap_or(current) + 1;
            p.rotate_to = Some(target);
            target
        };
        self.shared.wake.notify_one();
        let mut at = self.shared.rotated_to.lock().unwrap_or_else(|e| e.into_inner());
        while *at < target {
            // A stopped writer flushed everything before it returned, so no
            // record can land after the snapshot the caller takes next; waiting
            // for a switch nobody will make would hang that caller (a
            // background compaction racing a shutdown) with the save lock held.
            let p = self.shared.pending.lock().unwrap_or_else(|e| e.into_inner());
            if p.failed.is_some() || p.exited {
                break;
            }
            drop(p);
            at = self.shared.rotated.wait_timeout(at, Duration::from_millis(50)).unwrap_or_else(|e| e.into_inner()).0;
        }
        target
    }

    /// Bytes in the current segment: the server compacts past a threshold.
    pub(crate) fn segment_bytes(&self) -> u64 {
        self.shared.segment_bytes.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Write what is buffered and stop the writer.
    pub(crate) fn stop(&self) {
        self.shared.pending.lock().unwrap_or_else(|e| e.into_inner()).stopping = true;
        self.shared.wake.notify_one();
        if let Some(w) = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = w.join();
        }
        // Zeros after the records read as their end, so a segment left with
        // its room (a crash) loads the same; trimmed, it is what it holds.
        if let Err(e) = self.shared.file.lock().unwrap_or_else(|e| e.into_inner()).trim() {
            tracing::warn!(error = %e, "cannot trim the journal segment's room ahead");
        }
    }
}

fn create_segment(state: &Path, n: u64) -> std::io::Result<Segment> {
    let path = segment_path(state, n);
    let mut f = OpenOptions::new().create(true).truncate(true).write(true).open(&path)?;
    f.write_all(&header())?;
    f.sync_all()?;
    // The new name must survive a crash too.
    let dir = state.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(Segment { file: f, written: HEADER_LEN as u64, len: HEADER_LEN as u64 })
}

/// How long a record may wait in the buffer for a request to flush it
/// before the writer thread does (records nobody waits on).
const SWEEP: Duration = Duration::from_millis(5);

/// Write and flush what is buffered, then make the new segment `rotate` asks
/// for (the writer thread; requests never rotate), then publish. `file` is
/// the flusher's right to the segment: released before the publication.
fn flush(shared: &Shared, mut file: std::sync::MutexGuard<'_, Segment>, state: Option<&Path>) {
    let (batch, last, rotate) = {
        let mut p = shared.pending.lock().unwrap_or_else(|e| e.into_inner());
        if p.exited || p.failed.is_some() {
            return;
        }
        let rotate = if state.is_some() { p.rotate_to.take() } else { None };
        (std::mem::take(&mut p.buf), p.last_seq, rotate)
    };
    #[cfg(test)]
    FLUSHED_HERE.with(|n| n.set(n.get() + 1));
    let mut bytes = Vec::new();
    for record in &batch {
        record.frame_onto(&mut bytes);
    }
    let written = (|| -> std::io::Result<()> {
        if !bytes.is_empty() {
            file.append(&bytes)?;
            // The disk's real speed, not a tenant's time.
            #[allow(clippy::disallowed_methods)]
            let synced = std::time::Instant::now();
            file.file.sync_data()?;
            let took = synced.elapsed().as_nanos().min(u64::MAX as u128) as u64;
            // A moving average over about eight flushes: one slow flush does
            // not flip where flushes run, a disk that stays slow does.
            let average = shared.sync_nanos.load(std::sync::atomic::Ordering::Relaxed);
            let average = average - average / 8 + took / 8;
            shared.sync_nanos.store(average, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(())
    })();
    if let Err(e) = written {
        drop(file);
        tracing::error!(error = %e, "cannot write the journal; writes are no longer durable");
        shared.pending.lock().unwrap_or_else(|e| e.into_inner()).failed = Some(e.to_string());
        shared.durable.send_modify(|_| {});
        shared.rotated.notify_all();
        return;
    }
    shared.segment_bytes.fetch_add(bytes.len() as u64, std::sync::atomic::Ordering::Relaxed);
    if let (Some(n), Some(state)) = (rotate, state) {
        shared.segment_bytes.store(0, std::sync::atomic::Ordering::Relaxed);
        if let Err(e) = file.trim() {
            tracing::warn!(error = %e, "cannot trim the finished journal segment's room ahead");
        }
        match create_segment(state, n) {
            Ok(f) => *file = f,
            Err(e) => {
                tracing::error!(error = %e, "cannot start a new journal segment");
                shared.pending.lock().unwrap_or_else(|e| e.into_inner()).failed = Some(e.to_string());
            }
        }
        *shared.rotated_to.lock().unwrap_or_else(|e| e.into_inner()) = n;
        shared.rotated.notify_all();
    }
    drop(file);
    // Flushes publish in any order once the file is released; what is
    // durable only grows.
    shared.durable.send_if_modified(|durable| {
        let grew = last > *durable;
        *durable = (*durable).max(last);
        grew
    });
}

fn write_loop(shared: &Shared, state: &Path) {
    loop {
        let stopping = {
            let mut p = shared.pending.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                if p.rotate_to.is_some() || p.stopping {
                    break;
                }
                if std::mem::take(&mut p.asked) && !p.buf.is_empty() {
                    // A request waits and left the flush to this thread.
                    break;
                }
                p.writer_waiting = true;
                if p.buf.is_empty() {
                    // Nothing buffered: sleep until the next record says so.
                    p.writer_idle = true;
                    while p.writer_idle && !p.asked && p.rotate_to.is_none() && !p.stopping {
                        p = shared.wake.wait(p).unwrap_or_else(|e| e.into_inner());
                    }
                    p.writer_idle = false;
                    p.writer_waiting = false;
                    continue;
                }
                // Records came in: give the requests that wait for them
                // `SWEEP` to flush them or ask for it, then flush whatever is
                // still buffered from before.
                let seen = p.last_seq;
                let timed_out;
                (p, timed_out) = match shared.wake.wait_timeout(p, SWEEP) {
                    Ok((p, t)) => (p, t.timed_out()),
                    Err(e) => (e.into_inner().0, true),
                };
                p.writer_waiting = false;
                if timed_out && !p.buf.is_empty() && *shared.durable.borrow() < seen {
                    break;
                }
            }
            p.stopping
        };
        flush(shared, shared.file.lock().unwrap_or_else(|e| e.into_inner()), Some(state));
        let mut p = shared.pending.lock().unwrap_or_else(|e| e.into_inner());
        if p.failed.is_some() {
            // Every waiter now reports the failure; nothing more is written.
            p.exited = true;
            drop(p);
            shared.rotated.notify_all();
            return;
        }
        if stopping && p.buf.is_empty() && p.rotate_to.is_none() {
            p.exited = true;
            drop(p);
            shared.rotated.notify_all();
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal_of(payloads: &[&[u8]]) -> Vec<u8> {
        let mut out = header().to_vec();
        for p in payloads {
            frame(p, &mut out);
        }
        out
    }

    /// A compaction that asks for a new segment after the writer stopped (a
    /// background save racing a shutdown) returns instead of waiting forever
    /// with the process-wide save lock held.
    #[test]
    fn a_rotation_asked_of_a_stopped_journal_returns() {
        let (dir, _, journal) = journal_in("stopped");
        journal.stop();
        let (tx, rx) = std::sync::mpsc::channel();
        let j = journal.clone();
        std::thread::spawn(move || tx.send(j.rotate()).expect("the test waits"));
        let rotated = rx.recv_timeout(Duration::from_secs(10)).expect("rotate returned");
        assert_eq!(rotated, 2);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A directory write is serialized by the flusher from the values it
    /// captured; replay must read exactly what an entry of text effects is.
    #[test]
    fn a_deferred_directory_record_is_the_bytes_of_its_text_entry() {
        let tenant = Uuid::from_u128(9);
        let deferred = vec![
            Effect::Put {
                collection: "users".into(),
                key: Deferred::new(Uuid::from_u128(1)),
                value: Deferred::new(serde_json::json!({"id": "x", "props": [[1, "a\"b"]]})),
            },
            Effect::Remove { collection: "passwords".into(), key: Deferred::new(Uuid::from_u128(2)) },
            Effect::Field { name: "ids".into(), value: Deferred::new([1u64, 2, 3, 4]) },
        ];
        let text: Vec<Effect> = deferred.iter().cloned().map(Effect::into_text).collect();
        let (mut written, mut expected) = (Vec::new(), Vec::new());
        Queued::Directory { seq: 5, tenant, effects: deferred }.frame_onto(&mut written);
        Queued::Entry(Entry { seq: 5, tenant, change: Change::Directory(text) }).frame_onto(&mut expected);
        assert_eq!(String::from_utf8_lossy(&written), String::from_utf8_lossy(&expected));
        let mut file = header().to_vec();
        file.extend_from_slice(&written);
        let entry: Entry = serde_json::from_slice(scan(&file).expect("valid").records[0]).expect("an entry");
        assert!(matches!(entry.change, Change::Directory(ref e) if e.len() == 3), "{entry:?}");
    }

    #[test]
    fn crc32_is_the_zlib_one() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn records_come_back_in_order() {
        let bytes = journal_of(&[b"{\"a\":1}", b"{\"b\":2}"]);
        let s = scan(&bytes).expect("valid");
        assert_eq!(s.records, vec![&b"{\"a\":1}"[..], &b"{\"b\":2}"[..]]);
        assert_eq!(s.torn, None);
        assert!(scan(&[]).expect("an empty file").records.is_empty());
    }

    #[test]
    fn every_cut_inside_the_last_record_is_a_torn_tail() {
        let whole = journal_of(&[b"{\"first\":true}", b"{\"tenant\":\"t\",\"second\":true}"]);
        let second_at = HEADER_LEN + FRAME_LEN + b"{\"first\":true}".len();
        for cut in second_at + 1..whole.len() {
            let s = scan(&whole[..cut]).expect("a torn tail is not an error");
            assert_eq!(s.records.len(), 1, "cut at {cut}");
            let torn = s.torn.expect("the cut record is reported");
            assert_eq!((torn.offset, torn.bytes), (second_at, cut - second_at));
        }
        // Cut inside the header of a new file.
        assert_eq!(scan(&whole[..5]).expect("torn header").torn.map(|t| t.bytes), Some(5));
    }

    #[test]
    fn a_full_length_last_record_with_bad_bytes_is_torn_and_its_start_is_named() {
        let mut bytes = journal_of(&[b"{\"ok\":1}", b"{\"tenant\":\"abc\",\"change\":1}"]);
        let n = bytes.len();
        bytes[n - 3] = 0;
        bytes[n - 2] = 0;
        let s = scan(&bytes).expect("torn, not corrupt");
        assert_eq!(s.records.len(), 1);
        assert!(s.torn.expect("reported").preview.starts_with("{\"tenant\":\"abc\""));
        // The same record with the segment's room after it.
        let record_bytes = n - (HEADER_LEN + FRAME_LEN + b"{\"ok\":1}".len());
        bytes.resize(n + 4096, 0);
        let s = scan(&bytes).expect("torn, not corrupt");
        assert_eq!((s.records.len(), s.torn.map(|t| t.bytes)), (1, Some(record_bytes)));
        for (capacity, step) in [(16, 7), (1 << 20, usize::MAX)] {
            assert_eq!(read_through(&bytes, capacity, step), scanned(&bytes), "{capacity}/{step}");
        }
        let last = bytes.len() - 1;
        bytes[last] = 1;
        assert!(matches!(scan(&bytes), Err(ScanError::Corrupt { index: 1, .. })), "written after it");
    }

    #[test]
    fn zeros_after_the_last_record_are_room_to_grow_not_a_torn_record() {
        // A segment's file grows ahead of its records (`Segment`); the file
        // system may also extend a file before a record's bytes land. Both
        // leave zeros where the next record would start.
        let mut bytes = journal_of(&[b"{\"ok\":1}", b"{\"ok\":2}"]);
        let records_end = bytes.len();
        bytes.resize(records_end + 3 * 4096 + 5, 0);
        let s = scan(&bytes).expect("zeros end the records");
        assert_eq!((s.records.len(), s.torn), (2, None));
        for (capacity, step) in [(16, 7), (64, 4096), (1 << 20, usize::MAX)] {
            let (records, torn) = read_through(&bytes, capacity, step).expect("zeros end the records");
            assert_eq!((records.len(), torn), (2, None), "{capacity}/{step}");
        }
        // Fewer zeros than a record's frame are no record either.
        let short = [&bytes[..records_end], &[0u8; 3]].concat();
        assert_eq!(scan(&short).expect("ends").torn, None);
        // Anything after the zeros is not room: those bytes were written, and
        // the records before them are not the end.
        let mut after = bytes.clone();
        let stray = records_end + 2 * 4096 + 1;
        after[stray] = b'{';
        assert!(matches!(scan(&after), Err(ScanError::Corrupt { index: 2, .. })), "{:?}", scan(&after));
        for (capacity, step) in [(16, 7), (64, 4096), (1 << 20, usize::MAX)] {
            let error = read_through(&after, capacity, step).expect_err("corrupt").to_string();
            assert!(error.contains(&format!("at byte {stray}")), "{capacity}/{step}: {error}");
        }
    }

    #[test]
    fn damage_before_the_last_record_is_corruption() {
        let mut bytes = journal_of(&[b"{\"one\":1}", b"{\"two\":2}", b"{\"three\":3}"]);
        let second_payload = HEADER_LEN + FRAME_LEN + b"{\"one\":1}".len() + FRAME_LEN;
        bytes[second_payload + 2] ^= 0x20;
        let err = scan(&bytes).expect_err("a damaged middle record");
        assert!(matches!(err, ScanError::Corrupt { index: 1, .. }), "{err:?}");
        // A length field that runs past any plausible record.
        let mut bytes = journal_of(&[b"{\"one\":1}", b"{\"two\":2}"]);
        bytes[HEADER_LEN..HEADER_LEN + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(scan(&bytes), Err(ScanError::Corrupt { index: 0, .. })));
    }

    /// A source that hands out at most `step` bytes a read, as a pipe or a
    /// slow disk may.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(out.len()).min(self.bytes.len());
            out[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    type Read = Result<(Vec<Vec<u8>>, Option<TornTail>), ScanError>;

    fn read_through(bytes: &[u8], capacity: usize, step: usize) -> Read {
        let mut reader = SegmentReader::with_buffer(Trickle { bytes, step }, capacity);
        let mut records = Vec::new();
        loop {
            match reader.next() {
                Ok(Piece::Record(r)) => records.push(r.to_vec()),
                Ok(Piece::End(torn)) => return Ok((records, torn)),
                Err(ReadError::Scan(e)) => return Err(e),
                Err(ReadError::Io(e)) => panic!("reading a slice: {e}"),
            }
        }
    }

    fn scanned(bytes: &[u8]) -> Read {
        scan(bytes).map(|s| (s.records.iter().map(|r| r.to_vec()).collect(), s.torn))
    }

    /// The reader start-up uses finds what `scan` finds, whatever its buffer
    /// and however the file arrives: at every cut of a file (torn tails),
    /// with every byte damaged (corruption, or a torn tail when the damage
    /// is in the last record), and with zeros appended.
    #[test]
    fn a_file_read_a_piece_at_a_time_gives_what_scan_gives() {
        let whole = journal_of(&[b"{\"one\":1}", b"{\"tenant\":\"t\",\"second\":[2,2]}", b"{\"three\":3}"]);
        let mut cases: Vec<Vec<u8>> = (0..=whole.len()).map(|cut| whole[..cut].to_vec()).collect();
        for i in 0..whole.len() {
            for flip in [0x01, 0x80] {
                let mut damaged = whole.clone();
                damaged[i] ^= flip;
                cases.push(damaged);
            }
        }
        let mut zeros = whole.clone();
        zeros.extend_from_slice(&[0; 40]);
        cases.push(zeros.clone());
        for stray in [whole.len() + 3, whole.len() + 8, whole.len() + 39] {
            let mut written_after = zeros.clone();
            written_after[stray] = b'{';
            cases.push(written_after);
        }
        let mut long = header().to_vec();
        let big = vec![b'x'; 5000];
        frame(&big, &mut long);
        frame(b"{}", &mut long);
        cases.push(long);
        for (i, bytes) in cases.iter().enumerate() {
            let expected = scanned(bytes);
            for (capacity, step) in [(1, 1), (5, 3), (16, 64), (64, 7), (1 << 20, usize::MAX)] {
                assert_eq!(
                    read_through(bytes, capacity, step),
                    expected,
                    "case {i}, buffer {capacity}, reads of {step}"
                );
            }
        }
        assert!(matches!(scanned(&cases[whole.len()]), Ok((ref r, None)) if r.len() == 3), "the whole file");
    }

    /// A test's staging: a new one each time a directory write asks.
    #[derive(Default)]
    struct Kept(Vec<(Uuid, crate::directory::replay::Staged)>);

    impl Staging for Kept {
        fn directory(&mut self, tenant: Uuid) -> &mut crate::directory::replay::Staged {
            self.0.push((tenant, Default::default()));
            &mut self.0.last_mut().expect("just pushed").1
        }
    }

    fn read(text: &str) -> Result<(ReadRecord, Vec<(Uuid, String)>), serde_json::Error> {
        let mut kept = Kept::default();
        let record = read_for_replay(text.as_bytes(), &mut kept)?;
        Ok((record, kept.0.into_iter().map(|(t, s)| (t, format!("{s:?}"))).collect()))
    }

    /// Replay's one-pass reading of a record finds what `Entry` finds, for
    /// every kind of change, however the JSON is spaced or ordered, with
    /// fields it does not know; and refuses what `Entry` or one-by-one replay
    /// refuses.
    #[test]
    fn a_record_read_for_replay_is_the_record_written() {
        let raw = |text: &str| RawValue::from_string(text.to_owned()).expect("JSON");
        let at = time::OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("a time");
        let user = r#"{"id":"00000000-0000-0000-0000-00000000000a","props":[[0,"00000000-0000-0000-0000-00000000000a"],[14,"N"],[49,"a@t.example"]]}"#;
        let key = r#""00000000-0000-0000-0000-00000000000a""#;
        let effects = vec![
            Effect::Put { collection: "users".into(), key: raw(key), value: raw(user) },
            Effect::Put {
                collection: "passwords".into(),
                key: raw(key),
                value: raw(r#"{"salt":5,"hash":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}"#),
            },
            Effect::Remove { collection: "groups".into(), key: raw(key) },
            Effect::Put { collection: "user_changes".into(), key: raw("3"), value: raw(key) },
            Effect::Field { name: "ids".into(), value: raw(r#"{"s":[1,2,3,4]}"#) },
            Effect::Field { name: "user_changes.current".into(), value: raw("3") },
        ];
        let changes = vec![
            Change::Directory(effects.clone()),
            Change::Directory(Vec::new()),
            Change::Clock { frozen_at: Some(at), offset: Duration::from_secs(60) },
            Change::Realism(Default::default()),
            Change::Authz(crate::tenant::AuthzSetting::ReportOnly),
            Change::Tenant(Box::new(serde_json::json!({"id": "x"}))),
            Change::Forked { origin: Uuid::from_u128(3), head: Box::new(serde_json::json!({"h": 1})), effects },
            Change::Faults(Vec::new()),
            Change::SnapshotTaken { name: "s".into(), taken_at: at },
            Change::SnapshotDeleted { name: "s".into() },
        ];
        for change in changes {
            let entry = Entry { seq: 9, tenant: Uuid::from_u128(5), change };
            let compact = serde_json::to_string(&entry).expect("json");
            let mut spellings = vec![serde_json::to_string_pretty(&entry).expect("json")];
            let mut extended: serde_json::Value = serde_json::from_str(&compact).expect("json");
            extended["written_by"] = "a later build".into();
            spellings.push(extended.to_string());
            let mut reordered = serde_json::Map::new();
            for field in ["change", "written_by", "tenant", "seq"] {
                reordered.insert(field.into(), extended[field].clone());
            }
            if let Some(list) = reordered["change"].get_mut("directory").and_then(|l| l.as_array_mut()) {
                // Each body's fields in reverse, a field nobody knows among them.
                for effect in list.iter_mut() {
                    let body = effect.as_object_mut().and_then(|e| e.values_mut().next()).expect("a body");
                    let mut fields: Vec<(String, serde_json::Value)> =
                        body.as_object().expect("fields").clone().into_iter().collect();
                    fields.reverse();
                    fields.insert(1, ("note".into(), serde_json::json!([1])));
                    *body = serde_json::Value::Object(fields.into_iter().collect());
                }
            }
            spellings.push(serde_json::Value::Object(reordered).to_string());
            let (first, staged) = read(&compact).expect("reads");
            assert_eq!((first.seq, first.tenant), (entry.seq, entry.tenant));
            match (&first.other, &entry.change) {
                (None, Change::Directory(effects)) => {
                    assert_eq!(staged.len(), 1, "one staging asked for, the record's tenant's");
                    assert_eq!(staged[0].0, entry.tenant);
                    assert!(staged[0].1.contains(&format!("changes: {}", effects.len())), "{}", staged[0].1);
                }
                (Some(read), written) if !matches!(written, Change::Directory(_)) => {
                    assert!(staged.is_empty());
                    assert_eq!(serde_json::to_value(read).ok(), serde_json::to_value(written).ok());
                }
                (read, written) => panic!("{read:?} read for {written:?}"),
            }
            for text in spellings {
                let (again, staged_again) = read(&text).expect("reads");
                assert_eq!((again.seq, again.tenant), (first.seq, first.tenant), "{text}");
                assert_eq!(format!("{:?}", again.other), format!("{:?}", first.other), "{text}");
                assert_eq!(staged_again, staged, "{text}");
            }
        }
        let record = |directory: &str| {
            format!(
                r#"{{"seq":1,"tenant":"00000000-0000-0000-0000-000000000001","change":{{"directory":[{directory}]}}}}"#
            )
        };
        for refused in [
            r#"{"seq":1,"tenant":"00000000-0000-0000-0000-000000000001"}"#.to_owned(),
            r#"{"seq":1,"tenant":"00000000-0000-0000-0000-000000000001","change":{}}"#.to_owned(),
            r#"{"seq":1,"tenant":"00000000-0000-0000-0000-000000000001","change":{"directory":[],"clock":1}}"#
                .to_owned(),
            r#"{"seq":1,"tenant":"00000000-0000-0000-0000-000000000001","change":{"nonsense":1}}"#.to_owned(),
            r#"{"seq":1,"tenant":"not a tenant","change":{"directory":[]}}"#.to_owned(),
            record(r#"{"put":{}}"#),
            record(&format!(r#"{{"put":{{"collection":"nonsense","key":{key},"value":1}}}}"#)),
            record(&format!(r#"{{"put":{{"collection":"groups","key":{key}}}}}"#)),
            record(&format!(r#"{{"remove":{{"collection":"groups","key":{key},"key":{key}}}}}"#)),
            record(&format!(r#"{{"put":{{"key":{key},"collection":"passwords","value":{{"salt":1}}}}}}"#)),
            record(r#"{"field":{"name":"nonsense","value":1}}"#),
            record(r#"{"field":{"value":1,"name":"ids"}}"#),
            record(r#"{"field":{"name":"ids"}}"#),
            record(r#"{"put":{"collection":"users","key":"x","value":1},"remove":{}}"#),
            record(r#"{"delete":{}}"#),
        ] {
            assert!(read(&refused).is_err(), "replay refuses {refused}");
        }
    }

    #[test]
    fn foreign_and_newer_files_are_refused() {
        assert_eq!(scan(b"{\"format\":\"graphbox-state\"}").unwrap_err(), ScanError::NotAJournal);
        let mut newer = header().to_vec();
        newer[8..12].copy_from_slice(&(JOURNAL_VERSION + 1).to_le_bytes());
        assert_eq!(scan(&newer).unwrap_err(), ScanError::TooNew(JOURNAL_VERSION + 1));
    }

    /// A journal on segment 1 of a state file in a fresh temp dir named
    /// `name`: the dir, the state file and the journal.
    fn journal_in(name: &str) -> (PathBuf, PathBuf, Arc<Journal>) {
        let dir = std::env::temp_dir().join(format!("graphbox-journal-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("temp dir");
        let state = dir.join("state.json");
        let journal = Journal::open(&state, 1, 0).expect("open");
        (dir, state, journal)
    }

    /// Requests that append and wait, as `http::handle` does, on a runtime
    /// of one thread (this one), so `FLUSHED_HERE` counts what they flushed.
    /// Returns that count; every record is checked on disk.
    async fn requests_wait_with_hand_off_above(above: u64, name: &str) -> u64 {
        let (dir, state, journal) = journal_in(name);
        journal.shared.hand_off_above.store(above, std::sync::atomic::Ordering::Relaxed);
        // Flushes measured slower than any threshold but `u64::MAX`.
        journal.shared.sync_nanos.store(u64::MAX / 2, std::sync::atomic::Ordering::Relaxed);
        let before = FLUSHED_HERE.with(Cell::get);
        let tenant = Uuid::from_u128(9);
        let requests: Vec<_> = (0..8u64)
            .map(|r| {
                let journal = journal.clone();
                tokio::spawn(async move {
                    for i in 0..25 {
                        let offset = Duration::from_secs(r * 100 + i);
                        let seq = journal.append(tenant, Change::Clock { frozen_at: None, offset });
                        journal.wait_durable(seq).await.expect("durable");
                    }
                })
            })
            .collect();
        for r in requests {
            r.await.expect("a request");
        }
        let flushed_here = FLUSHED_HERE.with(Cell::get) - before;
        journal.stop();
        let bytes = fs::read(segment_path(&state, 1)).expect("segment");
        assert_eq!(scan(&bytes).expect("valid").records.len(), 200);
        let _ = fs::remove_dir_all(&dir);
        flushed_here
    }

    #[tokio::test]
    async fn on_a_slow_disk_the_writer_thread_flushes_for_waiting_requests() {
        assert_eq!(requests_wait_with_hand_off_above(0, "slow").await, 0);
    }

    #[tokio::test]
    async fn on_a_fast_disk_a_waiting_request_flushes_on_its_own_thread() {
        assert!(requests_wait_with_hand_off_above(u64::MAX, "fast").await > 0);
    }

    #[test]
    fn a_stopped_journal_trims_the_room_its_segment_grew_by() {
        let (dir, state, journal) = journal_in("trim");
        journal.append(Uuid::from_u128(3), Change::Clock { frozen_at: None, offset: Duration::from_secs(1) });
        journal.sync().expect("durable");
        let path = segment_path(&state, 1);
        let grown = fs::metadata(&path).expect("segment").len();
        let records = scan(&fs::read(&path).expect("segment")).expect("valid").records.len();
        assert_eq!(records, 1);
        assert!(grown > GROW_BY, "room made ahead: {grown} bytes");
        journal.stop();
        let bytes = fs::read(&path).expect("segment");
        assert!(bytes.len() < 200 && *bytes.last().expect("bytes") == b'}', "{} bytes", bytes.len());
        assert_eq!(scan(&bytes).expect("valid").records.len(), 1);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn concurrent_appends_are_all_durable_and_share_flushes() {
        let (dir, state, journal) = journal_in("test");
        let tenant = Uuid::from_u128(7);
        std::thread::scope(|s| {
            for t in 0..4 {
                let journal = &journal;
                s.spawn(move || {
                    for i in 0..50 {
                        journal.append(
                            tenant,
                            Change::Clock { frozen_at: None, offset: Duration::from_secs(t * 1000 + i) },
                        );
                    }
                });
            }
        });
        journal.sync().expect("durable");
        let rotated = journal.rotate();
        assert_eq!(rotated, 2);
        journal.append(tenant, Change::Clock { frozen_at: None, offset: Duration::ZERO });
        journal.stop();
        let first = fs::read(segment_path(&state, 1)).expect("segment 1");
        let entries: Vec<Entry> =
            scan(&first).expect("valid").records.iter().map(|r| serde_json::from_slice(r).expect("an entry")).collect();
        assert_eq!(entries.iter().map(|e| e.seq).collect::<Vec<_>>(), (1..=200).collect::<Vec<_>>());
        let second = fs::read(segment_path(&state, 2)).expect("segment 2");
        assert_eq!(scan(&second).expect("valid").records.len(), 1);
        assert_eq!(segments(&state).expect("listed").iter().map(|(n, _)| *n).collect::<Vec<_>>(), vec![1, 2]);
        let _ = fs::remove_dir_all(&dir);
    }
}
