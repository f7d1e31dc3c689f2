//! A keyed collection of the directory that remembers which of its keys a
//! write changed, so the journal records exactly those (see `changes.rs`).
//!
//! Finding them by diffing the whole collection against a copy kept from the
//! last record cost more than the rest of the journal together: the copy
//! made every write copy the tree path it touched (the copy still shared the
//! old nodes), and the diff ran under the tenant's write lock, so the other
//! runtime worker blocked on that lock. Asked of the map's own mutators
//! instead, the answer is a short list of keys, whatever the tenant's size.
//!
//! Reads go through `Deref` to the persistent map. Every mutation goes
//! through a method here: there is no `DerefMut`, so a change that bypasses
//! the record does not compile. In debug builds the journal still diffs each
//! write and checks that every changed key was named (`changes.rs`).

use imbl::ordmap::DiffItem;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use smallvec::SmallVec;

use super::Map;

/// A persistent map plus, while a journal records its directory, what
/// changed since the last record.
pub(crate) struct Keyed<K: Ord + Clone, V: Clone> {
    map: Map<K, V>,
    /// `None` while nothing records this directory (no `--state`, a
    /// snapshot, a directory being replayed): no key is kept.
    changes: Option<Box<Changes<K, V>>>,
}

/// What changed in one collection since the journal's last record.
struct Changes<K: Ord + Clone, V: Clone> {
    /// Keys inserted, removed or handed out mutably, in any order, possibly
    /// repeated.
    keys: SmallVec<[K; 4]>,
    /// The whole collection as of the last record, kept when it was replaced
    /// or changed in bulk: what changed is then found by a diff.
    before: Option<Map<K, V>>,
}

/// One key the collection changed: its value now, or `None` when removed.
pub(crate) type Changed<'a, K, V> = (&'a K, Option<&'a V>);

impl<K: Ord + Clone, V: Clone> Keyed<K, V> {
    pub(crate) fn new() -> Self {
        Keyed { map: Map::new(), changes: None }
    }

    fn note(&mut self, key: &K) {
        if let Some(changes) = &mut self.changes {
            changes.keys.push(key.clone());
        }
    }

    pub(crate) fn insert(&mut self, key: K, value: V) -> Option<V> {
        self.note(&key);
        self.map.insert(key, value)
    }

    pub(crate) fn remove(&mut self, key: &K) -> Option<V> {
        let removed = self.map.remove(key);
        if removed.is_some() {
            self.note(key);
        }
        removed
    }

    /// The value under `key` to change in place; the key counts as changed.
    pub(crate) fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        let value = self.map.get_mut(key)?;
        // The two fields are borrowed apart: one lookup, not two.
        if let Some(changes) = &mut self.changes {
            changes.keys.push(key.clone());
        }
        Some(value)
    }

    /// The value under `key`, inserted as `V::default()` if absent, to change
    /// in place; the key counts as changed.
    pub(crate) fn get_or_default(&mut self, key: K) -> &mut V
    where
        V: Default,
    {
        self.note(&key);
        self.map.entry(key).or_default()
    }

    pub(crate) fn extend(&mut self, items: impl IntoIterator<Item = (K, V)>) {
        for (k, v) in items {
            self.insert(k, v);
        }
    }

    /// `BTreeMap::retain` (the persistent map has none): removes the entries
    /// `keep` refuses, copying only the nodes on their paths.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&K, &V) -> bool) {
        let gone: Vec<K> = self.map.iter().filter(|(k, v)| !keep(k, v)).map(|(k, _)| k.clone()).collect();
        for k in gone {
            self.remove(&k);
        }
    }

    /// Take over the record of `old`, which this collection replaces whole
    /// in its directory (a snapshot restored).
    pub(crate) fn succeed(&mut self, old: Keyed<K, V>) {
        if let Some(mut changes) = old.changes {
            changes.before.get_or_insert(old.map);
            self.changes = Some(changes);
        }
    }

    /// Start remembering changed keys: from now on, what
    /// [`Keyed::drain_changes`] reports is relative to this moment.
    pub(crate) fn record_changes(&mut self) {
        self.changes = Some(Box::new(Changes { keys: SmallVec::new(), before: None }));
    }

    /// Hand every key changed since the last call (or since recording
    /// started) to `each`, once and in key order, with its value now; then
    /// start over.
    pub(crate) fn drain_changes(&mut self, mut each: impl FnMut(Changed<'_, K, V>))
    where
        V: PartialEq,
    {
        let Some(changes) = &mut self.changes else { return };
        if changes.keys.is_empty() && changes.before.is_none() {
            return;
        }
        let mut keys = std::mem::take(&mut changes.keys);
        if let Some(before) = changes.before.take() {
            // The persistent maps' diff skips the subtrees both still share.
            // A key changed before the collection was replaced is kept too:
            // its value as last recorded is gone with the old map.
            keys.extend(before.diff(&self.map).map(|item| match item {
                DiffItem::Add(k, _) | DiffItem::Update { new: (k, _), .. } | DiffItem::Remove(k, _) => k.clone(),
            }));
        }
        keys.sort_unstable();
        keys.dedup();
        for key in &keys {
            each((key, self.map.get(key)));
        }
        if keys.spilled() && keys.capacity() <= 64 {
            // Keep a small spilled buffer for the next write.
            keys.clear();
            changes.keys = keys;
        }
    }
}

impl<K: Ord + Clone, V: Clone> Default for Keyed<K, V> {
    fn default() -> Self {
        Keyed::new()
    }
}

impl<K: Ord + Clone, V: Clone> From<Map<K, V>> for Keyed<K, V> {
    fn from(map: Map<K, V>) -> Self {
        Keyed { map, changes: None }
    }
}

impl<K: Ord + Clone, V: Clone> FromIterator<(K, V)> for Keyed<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(items: I) -> Self {
        Keyed::from(items.into_iter().collect::<Map<K, V>>())
    }
}

impl<K: Ord + Clone, V: Clone> std::ops::Deref for Keyed<K, V> {
    type Target = Map<K, V>;
    fn deref(&self) -> &Map<K, V> {
        &self.map
    }
}

/// A copy (a fork, a snapshot) shares every node and records nothing until a
/// journal asks it to.
impl<K: Ord + Clone, V: Clone> Clone for Keyed<K, V> {
    fn clone(&self) -> Self {
        Keyed { map: self.map.clone(), changes: None }
    }
}

impl<K: Ord + Clone + std::fmt::Debug, V: Clone + std::fmt::Debug> std::fmt::Debug for Keyed<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.map.fmt(f)
    }
}

impl<K: Ord + Clone, V: Clone + PartialEq> PartialEq for Keyed<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.map == other.map
    }
}

impl<K: Ord + Clone + Serialize, V: Clone + Serialize> Serialize for Keyed<K, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.map.serialize(s)
    }
}

impl<'de, K: Ord + Clone + Deserialize<'de>, V: Clone + Deserialize<'de>> Deserialize<'de> for Keyed<K, V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Map::deserialize(d).map(Keyed::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drained(k: &mut Keyed<u32, u32>) -> Vec<(u32, Option<u32>)> {
        let mut out = Vec::new();
        k.drain_changes(|(key, value)| out.push((*key, value.copied())));
        out
    }

    #[test]
    fn nothing_is_kept_until_recording_starts() {
        let mut k: Keyed<u32, u32> = (0..4).map(|i| (i, i)).collect();
        k.insert(9, 9);
        k.record_changes();
        assert_eq!(drained(&mut k), []);
        assert!(k.changes.as_ref().is_some_and(|c| c.keys.is_empty()));
    }

    #[test]
    fn every_mutator_names_its_key_once_with_its_value_now() {
        let mut k: Keyed<u32, u32> = (0..10).map(|i| (i, i)).collect();
        k.record_changes();
        k.insert(20, 20);
        k.insert(3, 30);
        *k.get_mut(&4).expect("there") += 40;
        k.get_mut(&4);
        assert!(k.get_mut(&99).is_none());
        k.remove(&5);
        k.remove(&98);
        k.retain(|key, _| *key != 6);
        k.extend([(7, 70), (21, 21)]);
        k.insert(20, 200);
        *k.get_or_default(8) += 80;
        *k.get_or_default(30) += 3;
        assert_eq!(
            drained(&mut k),
            [
                (3, Some(30)),
                (4, Some(44)),
                (5, None),
                (6, None),
                (7, Some(70)),
                (8, Some(88)),
                (20, Some(200)),
                (21, Some(21)),
                (30, Some(3))
            ]
        );
        assert_eq!(drained(&mut k), [], "drained once");
    }

    #[test]
    fn a_collection_replaced_whole_reports_what_differs_from_its_last_record() {
        let mut k: Keyed<u32, u32> = (0..10).map(|i| (i, i)).collect();
        k.record_changes();
        k.insert(2, 22);
        k.insert(50, 50);
        let mut replacement: Keyed<u32, u32> = (0..10).map(|i| (i, i)).collect();
        replacement.remove(&1);
        replacement.insert(3, 33);
        let old = std::mem::replace(&mut k, replacement);
        k.succeed(old);
        // 2 and 50 changed before the replacement, so they count as changed
        // though the replacement put 2 back and holds no 50.
        assert_eq!(drained(&mut k), [(1, None), (2, Some(2)), (3, Some(33)), (50, None)]);
    }

    #[test]
    fn a_copy_records_nothing() {
        let mut k: Keyed<u32, u32> = Keyed::new();
        k.record_changes();
        k.insert(1, 1);
        let mut copy = k.clone();
        copy.insert(2, 2);
        assert_eq!(drained(&mut copy), []);
        assert_eq!(drained(&mut k), [(1, Some(1))]);
    }
}
