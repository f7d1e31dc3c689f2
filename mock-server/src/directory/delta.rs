//! Change tracking for delta queries.
//!
//! Each tracked collection keeps, per object, the version of its last change;
//! a delta round walks versions in order from the round's starting point, so a
//! round after a thousand changes costs a thousand steps, whatever the size of
//! the tenant. An object changed again mid-round moves past the round's end
//! and is delivered by the next round.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub(crate) struct ChangeLog {
    /// The last version handed out.
    pub(crate) current: u64,
    by_version: super::Keyed<u64, Uuid>,
    /// Ordered rather than hashed: at a million objects a hash table at half
    /// load takes twice the bytes of full B-tree nodes.
    #[serde(skip)]
    version_of: super::Map<Uuid, u64>,
}

impl ChangeLog {
    /// Record that `id` changed (created, updated, deleted or restored).
    pub(crate) fn touch(&mut self, id: Uuid) {
        if self.version_of.is_empty() && !self.by_version.is_empty() {
            self.reindex();
        }
        if let Some(old) = self.version_of.remove(&id) {
            self.by_version.remove(&old);
        }
        self.current += 1;
        self.by_version.insert(self.current, id);
        self.version_of.insert(id, self.current);
    }

    /// Record the creation of objects never seen before, in order: what `touch`
    /// does for each, with the version maps built in one pass.
    pub(crate) fn touch_new(&mut self, ids: impl Iterator<Item = Uuid>) {
        if self.version_of.is_empty() && !self.by_version.is_empty() {
            self.reindex();
        }
        let first = self.current + 1;
        let added: Vec<(u64, Uuid)> = ids.zip(first..).map(|(id, v)| (v, id)).collect();
        self.version_of.extend(added.iter().map(|(v, id)| (*id, *v)));
        debug_assert_eq!(self.version_of.len(), self.by_version.len() + added.len(), "the ids were new");
        self.current += added.len() as u64;
        self.by_version.extend(added);
    }

    /// The versions in order (the journal diffs and replays these).
    pub(crate) fn versions(&self) -> &super::Map<u64, Uuid> {
        &self.by_version
    }

    /// For replay only; `reindex` must follow.
    pub(crate) fn versions_mut(&mut self) -> &mut super::Keyed<u64, Uuid> {
        self.version_of.clear();
        &mut self.by_version
    }

    /// The versions, for the journal to start and drain the record of their
    /// changes (`changes.rs`); every change itself goes through `touch`.
    pub(crate) fn versions_recorded(&mut self) -> &mut super::Keyed<u64, Uuid> {
        &mut self.by_version
    }

    /// After loading saved state, rebuild the reverse index: filled in key
    /// order (versions come in the order objects changed, which is random in
    /// their ids, and a random-order insert walks to a different leaf each
    /// time). Sorted with its version, an id listed twice keeps its latest.
    pub(crate) fn reindex(&mut self) {
        let mut pairs: Vec<(Uuid, u64)> = self.by_version.iter().map(|(v, id)| (*id, *v)).collect();
        pairs.sort_unstable();
        pairs.dedup_by(|later, earlier| {
            let same = later.0 == earlier.0;
            if same {
                std::mem::swap(later, earlier);
            }
            same
        });
        let mut version_of = super::Map::new();
        super::put_in_key_order(pairs, |(id, v)| {
            version_of.insert(id, v);
        });
        self.version_of = version_of;
    }

    /// Objects whose last change is in `(after, up_to]`, oldest first.
    pub(crate) fn since(&self, after: u64, up_to: u64) -> impl Iterator<Item = (u64, Uuid)> + '_ {
        // An empty window (a round that starts at its end) must not build an
        // inverted range: BTreeMap panics on those.
        let start = after.saturating_add(1).min(up_to.saturating_add(1));
        self.by_version.range(start..).take_while(move |(v, _)| **v <= up_to).map(|(v, id)| (*v, *id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_object_appears_once_at_its_latest_version() {
        let mut log = ChangeLog::default();
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        log.touch(a);
        log.touch(b);
        log.touch(a);
        let seen: Vec<(u64, Uuid)> = log.since(0, log.current).collect();
        assert_eq!(seen, vec![(2, b), (3, a)]);
        assert_eq!(log.since(2, log.current).count(), 1, "only what changed after version 2");
        assert_eq!(log.since(3, 3).count(), 0, "an empty window is empty, not a panic");
    }
}
