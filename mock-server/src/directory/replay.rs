//! Start-up replay of journaled directory writes, in bulk.
//!
//! `Directory::apply_effect` (changes.rs) applies one effect as it comes: a
//! random-order insert into a persistent map for every object a write
//! touched. Replaying a journal of a million writes that way spends most of
//! its time walking the maps' trees in random order. Here each record's
//! effects are parsed straight into their types and [`Staged`] per
//! collection instead; [`Directory::settle`] later applies each collection's
//! changes sorted by key, so consecutive inserts walk the same path.
//!
//! Why that gives the same directory: every effect is absolute (an entry's
//! whole new value, its removal, or a small field's whole value), and a
//! keyed collection's entries do not depend on each other or on other
//! collections. So the map after a sequence of changes is, for each key, the
//! last change to that key; sorting stably by key keeps each key's changes in
//! record order and the last one wins. Small fields are kept last-wins as
//! they come. What must not see a half-applied directory (a fork or snapshot
//! taken, a tenant replaced, the end of the journal) settles first
//! (`state::recover`).
//!
//! Every value is still parsed when its record is read, so a record that
//! does not parse stops the start at that record, as it always did.

use std::borrow::Cow;

use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use uuid::Uuid;

use super::record::Record;
use super::{Directory, Map};
use crate::journal::EffectRef;

fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    serde_json::from_str(text)
}

/// Declares [`SmallFields`] from `"journal name" => slot: Type => directory.field;`.
macro_rules! small_fields {
    ($($name:literal => $slot:ident: $ty:ty => $($place:ident).+;)*) => {
        /// The last value staged for each of the directory's small fields.
        #[derive(Debug, Default)]
        pub(crate) struct SmallFields {
            $($slot: Option<$ty>,)*
        }

        impl SmallFields {
            fn parse(&mut self, name: &str, value: &str) -> Result<(), String> {
                match name {
                    $($name => self.$slot = Some(from_json(value).map_err(|e| format!("{name}: {e}"))?),)*
                    other => return Err(format!("unknown field {other:?}")),
                }
                Ok(())
            }

            /// Take `later`'s values over these.
            fn merge(&mut self, later: SmallFields) {
                $(if later.$slot.is_some() {
                    self.$slot = later.$slot;
                })*
            }

            #[cfg(test)]
            fn names() -> Vec<&'static str> {
                vec![$($name),*]
            }
        }

        impl Directory {
            fn apply_small_fields(&mut self, fields: SmallFields) {
                $(if let Some(value) = fields.$slot {
                    self.$($place).+ = value;
                })*
            }
        }
    };
}

small_fields! {
    "display_name" => display_name: String => display_name;
    "domains" => domains: Vec<super::Domain> => domains;
    "skus" => skus: Cow<'static, [super::licenses::Sku]> => skus;
    "refresh_tokens" => refresh_tokens: super::sessions::RefreshTokens => refresh_tokens;
    "organization" => organization: super::organization::Organization => organization;
    "signin" => signin: super::signin::SignIn => signin;
    "ids" => ids: crate::ids::IdGen => ids;
    "user_changes.current" => user_changes_current: u64 => user_changes.current;
    "group_changes.current" => group_changes_current: u64 => group_changes.current;
}

/// Declares [`Staged`] from `collection: Key => Value, parser;`, each
/// collection being the `Directory` field of that name.
macro_rules! staged_maps {
    ($($name:ident: $k:ty => $v:ty, $parse:path;)*) => {
        /// Directory effects parsed and waiting to be applied: each keyed
        /// collection's changes in record order, and the small fields.
        #[derive(Debug, Default)]
        pub(crate) struct Staged {
            $($name: Vec<($k, Option<$v>)>,)*
            /// The change logs' version maps, journaled as `user_changes` and
            /// `group_changes` (their `current` is a small field).
            user_changes: Vec<(u64, Option<Uuid>)>,
            group_changes: Vec<(u64, Option<Uuid>)>,
            fields: SmallFields,
            changes: usize,
        }

        impl Staged {
            fn stage_entry(&mut self, collection: &str, key: &RawValue, value: Option<&RawValue>) -> Result<(), String> {
                let failed = |e: serde_json::Error| format!("{collection}: {e}");
                match collection {
                    $(stringify!($name) => self.$name.push((
                        from_json(key.get()).map_err(failed)?,
                        value.map(|v| $parse(v.get())).transpose().map_err(failed)?,
                    )),)*
                    "user_changes" => self.user_changes.push((
                        from_json(key.get()).map_err(failed)?,
                        value.map(|v| from_json(v.get())).transpose().map_err(failed)?,
                    )),
                    "group_changes" => self.group_changes.push((
                        from_json(key.get()).map_err(failed)?,
                        value.map(|v| from_json(v.get())).transpose().map_err(failed)?,
                    )),
                    other => return Err(format!("unknown collection {other:?}")),
                }
                self.changes += 1;
                Ok(())
            }

            /// Stage `later`'s changes after these.
            pub(crate) fn append(&mut self, later: Staged) {
                $(join(&mut self.$name, later.$name);)*
                join(&mut self.user_changes, later.user_changes);
                join(&mut self.group_changes, later.group_changes);
                self.fields.merge(later.fields);
                self.changes += later.changes;
            }
        }

        impl Directory {
            /// Apply everything `staged` holds, leaving it empty.
            pub(crate) fn settle(&mut self, staged: &mut Staged) {
                $(settle_map(&mut self.$name, std::mem::take(&mut staged.$name));)*
                // `versions_mut` drops the reverse index, rebuilt after
                // loading; only when there is something to change.
                if !staged.user_changes.is_empty() {
                    settle_map(self.user_changes.versions_mut(), std::mem::take(&mut staged.user_changes));
                }
                if !staged.group_changes.is_empty() {
                    settle_map(self.group_changes.versions_mut(), std::mem::take(&mut staged.group_changes));
                }
                self.apply_small_fields(std::mem::take(&mut staged.fields));
                staged.changes = 0;
            }
        }
    };
}

staged_maps! {
    users: Uuid => Record, super::implied::parse_stored_user;
    passwords: Uuid => super::PasswordHash, from_json;
    deleted: Uuid => super::DeletedObject, from_json;
    applications: Uuid => Record, from_json;
    service_principals: Uuid => Record, from_json;
    secrets: Uuid => Vec<super::applications::StoredSecret>, from_json;
    app_role_assignments: Uuid => Record, from_json;
    oauth2_grants: Uuid => Record, from_json;
    role_assignments: Uuid => Record, from_json;
    directory_roles: Uuid => Record, from_json;
    groups: Uuid => Record, from_json;
    group_links: Uuid => super::groups::GroupLinks, from_json;
    managers: Uuid => Uuid, from_json;
    federated_credentials: Uuid => Vec<Record>, from_json;
}

impl Staged {
    /// Parse one journaled effect into its collection or small field.
    pub(crate) fn stage(&mut self, effect: &EffectRef<'_>) -> Result<(), String> {
        match effect {
            EffectRef::Put { collection, key, value } => self.stage_entry(collection, key, Some(value)),
            EffectRef::Remove { collection, key } => self.stage_entry(collection, key, None),
            EffectRef::Field { name, value } => {
                self.changes += 1;
                self.fields.parse(name, value.get())
            }
        }
    }

    /// Effects staged: what the caller bounds the memory held by.
    pub(crate) fn changes(&self) -> usize {
        self.changes
    }
}

fn join<T>(into: &mut Vec<T>, mut later: Vec<T>) {
    if into.is_empty() {
        *into = later;
    } else {
        into.append(&mut later);
    }
}

/// Apply one collection's changes, in record order per key, in key order
/// overall: sorted (stably, so a key's changes keep their order), each key's
/// last change applied, consecutive keys landing next to each other.
fn settle_map<K: Ord + Clone, V: Clone>(map: &mut Map<K, V>, mut changes: Vec<(K, Option<V>)>) {
    changes.sort_by(|a, b| a.0.cmp(&b.0));
    let mut changes = changes.into_iter().peekable();
    while let Some((key, value)) = changes.next() {
        if changes.peek().is_some_and(|(next, _)| *next == key) {
            continue;
        }
        match value {
            Some(value) => {
                map.insert(key, value);
            }
            None => {
                map.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::journal::{Change, Effect, Entry, ReplayChange};
    use crate::tenant::{Tenant, TenantOptions};

    fn tenant(seed: u64) -> Tenant {
        Tenant::create(
            &TenantOptions { seed, frozen_at: None, realism: Default::default(), authz: Default::default() },
            None,
        )
    }

    fn object(v: Value) -> serde_json::Map<String, Value> {
        v.as_object().cloned().expect("an object")
    }

    /// Every sequence of up to four changes to two keys, onto every map of
    /// those keys: settling gives what applying one by one gives. Among them
    /// a removal after a put of the same key, a put after a removal, two puts,
    /// and a removal of a key the map never held.
    #[test]
    fn settling_gives_what_applying_the_changes_in_order_gives() {
        let choices: Vec<(u8, Option<u8>)> =
            [0, 1].into_iter().flat_map(|k| [(k, None), (k, Some(10 + k)), (k, Some(20 + k))]).collect();
        let mut sequences: Vec<Vec<(u8, Option<u8>)>> = vec![Vec::new()];
        for _ in 0..4 {
            let longer: Vec<_> = sequences
                .iter()
                .filter(|s| s.len() == sequences.last().map_or(0, Vec::len))
                .flat_map(|s| choices.iter().map(move |c| [s.clone(), vec![*c]].concat()))
                .collect();
            sequences.extend(longer);
        }
        assert_eq!(sequences.len(), 1 + 6 + 36 + 216 + 1296);
        let starts: [&[(u8, u8)]; 4] = [&[], &[(0, 1)], &[(1, 2)], &[(0, 3), (1, 4)]];
        for start in starts {
            let start: Map<u8, u8> = start.iter().copied().collect();
            for changes in &sequences {
                let mut one_by_one = start.clone();
                for (k, v) in changes {
                    match v {
                        Some(v) => one_by_one.insert(*k, *v),
                        None => one_by_one.remove(k),
                    };
                }
                let mut settled = start.clone();
                settle_map(&mut settled, changes.clone());
                assert_eq!(settled, one_by_one, "{changes:?} onto {start:?}");
            }
        }
    }

    /// One record's effects as replay reads them: written as the journal
    /// writes them, parsed back borrowed, staged.
    fn stage_record(staged: &mut Staged, tenant: uuid::Uuid, effects: &[Effect]) {
        let entry = Entry { seq: 1, tenant, change: Change::Directory(effects.to_vec()) };
        let payload = serde_json::to_vec(&entry).expect("json");
        let ReplayChange::Directory(effects) = crate::journal::parse_for_replay(&payload).expect("parses").change
        else {
            panic!("a directory change is read in bulk");
        };
        for effect in &effects {
            staged.stage(effect).expect("stages");
        }
    }

    fn shown(mut d: Directory) -> Value {
        d.rebuild_indexes();
        serde_json::to_value(&d).expect("json")
    }

    /// Writes of every kind, several to the same objects (a user created,
    /// changed, deleted and restored; one created and deleted; a group's
    /// links), replayed in bulk in batches — settled at the end, or after
    /// every batch — give the directory replaying them one by one gives,
    /// which is the live one.
    #[test]
    fn writes_replayed_in_bulk_give_the_directory_replayed_one_by_one() {
        let t = tenant(11);
        let before = t.read().clone();
        let mut view = before.journal_view();
        let now = time::OffsetDateTime::UNIX_EPOCH;
        let mut records: Vec<Vec<Effect>> = Vec::new();
        let mut write = |change: &dyn Fn(&mut Directory)| {
            change(&mut t.write());
            records.push(t.read().changes_since(&mut view));
        };
        let user = |d: &mut Directory, name: &str| {
            let upn = format!("{name}@{}", d.initial_domain());
            let body = json!({"accountEnabled": true, "displayName": name, "mailNickname": name,
                "userPrincipalName": upn, "passwordProfile": {"password": "Gb!x12345678a"}});
            d.create_user(&object(body), now).expect("valid")
        };
        let ids = std::cell::RefCell::new(Vec::new());
        for name in ["a", "b", "c"] {
            write(&|d| ids.borrow_mut().push(user(d, name)));
        }
        let [a, b, c] = ids.borrow()[..] else { panic!("three users") };
        let rename = |id, name: &'static str| {
            move |d: &mut Directory| {
                d.update_user(id, &object(json!({"displayName": name})), now, |_, _| Ok(())).expect("valid");
            }
        };
        write(&rename(a, "a renamed"));
        write(&|d| d.delete_user(b, now).expect("exists"));
        write(&|d| d.restore_user(b).expect("deleted"));
        write(&|d| d.delete_user(c, now).expect("exists"));
        write(&|d| {
            d.add_domain(&object(json!({"id": "bulk.example"}))).expect("new");
        });
        write(&|d| {
            let g = d
                .create_group(
                    &object(
                        json!({"displayName": "G", "mailEnabled": false, "mailNickname": "g", "securityEnabled": true}),
                    ),
                    now,
                )
                .expect("valid");
            d.add_group_link(g, super::super::groups::Link::Members, a).expect("a member");
        });
        write(&|d| {
            let app = d.create_application(&object(json!({"displayName": "App"})), now).expect("valid");
            d.add_password(app, &object(json!({"passwordCredential": {"displayName": "s"}})), now).expect("added");
        });
        write(&rename(a, "a renamed again"));
        assert!(records.iter().all(|r| !r.is_empty()), "every write is a record");
        let live = serde_json::to_value(&*t.read()).expect("json");

        let mut one_by_one = before.clone();
        for effect in records.iter().flatten() {
            one_by_one.apply_effect(effect).expect("applies");
        }
        assert_eq!(shown(one_by_one), live);

        for settle_every_batch in [false, true] {
            let mut bulk = before.clone();
            let mut staged = Staged::default();
            for batch in records.chunks(3) {
                let mut next = Staged::default();
                for record in batch {
                    stage_record(&mut next, t.id, record);
                }
                staged.append(next);
                if settle_every_batch {
                    bulk.settle(&mut staged);
                }
            }
            bulk.settle(&mut staged);
            assert_eq!(staged.changes(), 0);
            assert_eq!(shown(bulk), live, "settled after every batch: {settle_every_batch}");
        }
    }

    /// A directory field saved in state files and journaled must be staged
    /// too: each keyed collection, and each small field into the field it
    /// names (values taken from another tenant, so a field landing in the
    /// wrong place shows).
    #[test]
    fn every_journaled_collection_and_small_field_is_staged() {
        let dir = tenant(12).read().clone();
        let other_dir = tenant(13).read().clone();
        let mut other = serde_json::to_value(&other_dir).expect("json");
        // Left out of state files while it is the default.
        other["signin"] = serde_json::to_value(&other_dir.signin).expect("json");
        let saved = serde_json::to_value(&dir).expect("json");
        let stageable = |collection: &str| {
            ["\"00000000-0000-0000-0000-000000000001\"", "1"].into_iter().any(|key| {
                let key: &RawValue = serde_json::from_str(key).expect("raw");
                Staged::default().stage(&EffectRef::Remove { collection: collection.into(), key }).is_ok()
            })
        };
        for key in saved.as_object().expect("an object").keys() {
            // Fixed for a tenant's life (a fork is recorded whole).
            if key == "tenant_id" {
                continue;
            }
            assert!(
                SmallFields::names().contains(&key.as_str()) || stageable(key),
                "Directory field {key:?} is saved but replay in bulk does not stage it (directory/replay.rs)"
            );
        }
        for name in SmallFields::names() {
            let value = match name.split_once('.') {
                Some((log, field)) => &other[log][field],
                None => &other[name],
            };
            let effect =
                Effect::Field { name: name.into(), value: serde_json::value::to_raw_value(value).expect("raw") };
            let mut one = dir.clone();
            one.apply_effect(&effect).expect("a small field apply_effect knows");
            let mut bulk = dir.clone();
            let mut staged = Staged::default();
            stage_record(&mut staged, dir.tenant_id, &[effect]);
            bulk.settle(&mut staged);
            assert_eq!(shown(bulk), shown(one), "{name}");
        }
    }
}
