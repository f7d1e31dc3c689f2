//! What a directory write changed, as journal effects (see `journal.rs`), and
//! applying those effects on replay.
//!
//! A journaled tenant's writes are recorded from the keys its collections
//! name ([`Keyed`]): [`Directory::recorded_changes`] turns each into the
//! entry's value now or its removal, and compares the small fields with the
//! copies in the [`Recorder`] (by value; the refresh tokens by their
//! generation). What changed comes out as the values themselves (records
//! share their contents, so this is a reference count each), not as text: the
//! write still holds the tenant's lock here, and the journal serializes them
//! after it is released (see `journal::Deferred`).
//!
//! A fork's or a snapshot's record compares two whole directories instead:
//! [`View`] is a directory as of some moment, an O(1) copy of every
//! persistent map (they share all their nodes), and
//! [`Directory::changes_since`] diffs against it — `imbl`'s diff skips the
//! subtrees both still share, so the cost follows what differs, not the size
//! of the tenant. Debug builds run that diff after every recorded write too,
//! and check that it found no key the collections did not name.

use imbl::ordmap::DiffItem;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::value::RawValue;
use uuid::Uuid;

use super::record::Record;
use super::{Directory, Keyed, Map};
use crate::journal::{Deferred, Effect};

/// What the journal keeps between a tenant's records (see
/// [`Directory::recorded_changes`]).
#[derive(Debug)]
pub(crate) struct Recorder {
    small: SmallView,
    /// Debug builds also keep the collections as last recorded, to check each
    /// record against their diff.
    #[cfg(debug_assertions)]
    maps: MapsView,
}

/// The directory as of the last journal record.
#[derive(Debug, Clone)]
pub(crate) struct View {
    maps: MapsView,
    small: SmallView,
}

/// The small fields as last recorded. Each is rewritten whole when it changes.
#[derive(Debug, Clone)]
struct SmallView {
    display_name: String,
    domains: Vec<super::Domain>,
    skus: std::borrow::Cow<'static, [super::licenses::Sku]>,
    refresh_tokens: u64,
    organization: super::organization::Organization,
    signin: super::signin::SignIn,
    ids: crate::ids::IdGen,
    user_changes: u64,
    group_changes: u64,
}

/// Runs `$body` once per keyed collection, with `$name` its journal name and
/// `$field` the field on both `Directory` and `MapsView`.
macro_rules! each_map {
    ($m:ident) => {
        $m!(
            users,
            passwords,
            deleted,
            applications,
            service_principals,
            secrets,
            app_role_assignments,
            oauth2_grants,
            role_assignments,
            directory_roles,
            groups,
            group_links,
            managers,
            federated_credentials,
            owners
        )
    };
}

#[derive(Debug, Clone, Default)]
struct MapsView {
    users: Map<Uuid, Record>,
    passwords: Map<Uuid, super::PasswordHash>,
    deleted: Map<Uuid, super::DeletedObject>,
    applications: Map<Uuid, Record>,
    service_principals: Map<Uuid, Record>,
    secrets: Map<Uuid, Vec<super::applications::StoredSecret>>,
    app_role_assignments: Map<Uuid, Record>,
    oauth2_grants: Map<Uuid, Record>,
    role_assignments: Map<Uuid, Record>,
    directory_roles: Map<Uuid, Record>,
    groups: Map<Uuid, Record>,
    group_links: Map<Uuid, super::groups::GroupLinks>,
    managers: Map<Uuid, Uuid>,
    federated_credentials: Map<Uuid, Vec<Record>>,
    owners: Map<Uuid, std::collections::BTreeSet<Uuid>>,
    user_versions: Map<u64, Uuid>,
    group_versions: Map<u64, Uuid>,
}

/// Keep `value` for the journal, which serializes it once the write's lock is
/// released.
fn deferred<T>(value: &T) -> Deferred
where
    T: Serialize + Clone + std::fmt::Debug + Send + Sync + 'static,
{
    Deferred::new(value.clone())
}

fn diff_map<K, V>(name: &'static str, old: &Map<K, V>, new: &Map<K, V>, out: &mut Vec<Effect<Deferred>>)
where
    K: Ord + Clone + Serialize + std::fmt::Debug + Send + Sync + 'static,
    V: Clone + PartialEq + Serialize + std::fmt::Debug + Send + Sync + 'static,
{
    if old.ptr_eq(new) {
        return;
    }
    for item in old.diff(new) {
        out.push(match item {
            DiffItem::Add(k, v) | DiffItem::Update { new: (k, v), .. } => {
                Effect::Put { collection: name.into(), key: deferred(k), value: deferred(v) }
            }
            DiffItem::Remove(k, _) => Effect::Remove { collection: name.into(), key: deferred(k) },
        });
    }
}

/// A collection's recorded changes as effects.
fn drain_recorded<K, V>(name: &'static str, map: &mut Keyed<K, V>, out: &mut Vec<Effect<Deferred>>)
where
    K: Ord + Clone + Serialize + std::fmt::Debug + Send + Sync + 'static,
    V: Clone + PartialEq + Serialize + std::fmt::Debug + Send + Sync + 'static,
{
    map.drain_changes(|(key, value)| {
        out.push(match value {
            Some(value) => Effect::Put { collection: name.into(), key: deferred(key), value: deferred(value) },
            None => Effect::Remove { collection: name.into(), key: deferred(key) },
        })
    });
}

fn apply_map<K, V>(map: &mut Keyed<K, V>, key: &RawValue, value: Option<&RawValue>) -> Result<(), serde_json::Error>
where
    K: Ord + Clone + DeserializeOwned,
    V: Clone + DeserializeOwned,
{
    let key: K = serde_json::from_str(key.get())?;
    match value {
        Some(v) => {
            map.insert(key, serde_json::from_str(v.get())?);
        }
        None => {
            map.remove(&key);
        }
    }
    Ok(())
}

impl Directory {
    fn small_view(&self) -> SmallView {
        SmallView {
            display_name: self.display_name.clone(),
            domains: self.domains.clone(),
            skus: self.skus.clone(),
            refresh_tokens: self.refresh_tokens.generation(),
            organization: self.organization.clone(),
            signin: self.signin.saved_copy(),
            ids: self.ids.clone(),
            user_changes: self.user_changes.current,
            group_changes: self.group_changes.current,
        }
    }

    /// The small fields that differ from `view`, which moves to now. A field
    /// is compared by value and copied only when it changed.
    fn small_changes(&self, view: &mut SmallView, out: &mut Vec<Effect<Deferred>>) {
        let mut field = |name: &'static str, value: Deferred| out.push(Effect::Field { name: name.into(), value });
        macro_rules! compare {
            ($($name:literal: $live:expr => $seen:ident),* $(,)?) => {$(
                if $live != view.$seen {
                    field($name, deferred(&$live));
                    view.$seen.clone_from(&$live);
                }
            )*};
        }
        if self.signin != view.signin {
            view.signin = self.signin.saved_copy();
            field("signin", deferred(&view.signin));
        }
        compare!(
            "display_name": self.display_name => display_name,
            "domains": self.domains => domains,
            "organization": self.organization => organization,
            "ids": self.ids => ids,
            "user_changes.current": self.user_changes.current => user_changes,
            "group_changes.current": self.group_changes.current => group_changes,
        );
        // A shared catalogue is the same catalogue: no element-wise look.
        let same_skus = match (&self.skus, &view.skus) {
            (std::borrow::Cow::Borrowed(a), std::borrow::Cow::Borrowed(b)) => std::ptr::eq(*a, *b),
            (a, b) => a == b,
        };
        if !same_skus {
            field("skus", deferred(&self.skus));
            view.skus = self.skus.clone();
        }
        if self.refresh_tokens.generation() != view.refresh_tokens {
            field("refresh_tokens", deferred(&self.refresh_tokens));
            view.refresh_tokens = self.refresh_tokens.generation();
        }
    }

    /// The names the journal writes small fields under (the replay side is
    /// `apply_field`).
    #[cfg(test)]
    fn small_field_names() -> [&'static str; 9] {
        [
            "display_name",
            "domains",
            "skus",
            "refresh_tokens",
            "organization",
            "signin",
            "ids",
            "user_changes.current",
            "group_changes.current",
        ]
    }

    /// The view the journal starts from (after loading or creating the tenant).
    pub(crate) fn journal_view(&self) -> View {
        macro_rules! take {
            ($($f:ident),*) => {
                MapsView {
                    $($f: (*self.$f).clone(),)*
                    user_versions: self.user_changes.versions().clone(),
                    group_versions: self.group_changes.versions().clone(),
                }
            };
        }
        View { maps: each_map!(take), small: self.small_view() }
    }

    /// Everything that changed since `view`, which moves to now, as text (a
    /// fork's or a snapshot's record, written whole).
    pub(crate) fn changes_since(&self, view: &mut View) -> Vec<Effect> {
        self.changes_since_deferred(view).into_iter().map(Effect::into_text).collect()
    }

    /// [`Directory::changes_since`], the values kept for the journal to
    /// serialize after the write's lock is released.
    fn changes_since_deferred(&self, view: &mut View) -> Vec<Effect<Deferred>> {
        let mut out = Vec::new();
        self.map_changes_since(&mut view.maps, &mut out);
        self.small_changes(&mut view.small, &mut out);
        out
    }

    /// What differs in the keyed collections from `seen`, which moves to now.
    fn map_changes_since(&self, seen: &mut MapsView, out: &mut Vec<Effect<Deferred>>) {
        macro_rules! diff {
            ($($f:ident),*) => {
                $(
                    diff_map(stringify!($f), &seen.$f, &self.$f, out);
                    seen.$f = (*self.$f).clone();
                )*
            };
        }
        each_map!(diff);
        diff_map("user_changes", &seen.user_versions, self.user_changes.versions(), out);
        seen.user_versions = self.user_changes.versions().clone();
        diff_map("group_changes", &seen.group_versions, self.group_changes.versions(), out);
        seen.group_versions = self.group_changes.versions().clone();
    }

    /// Start recording this directory's writes for the journal: from now on
    /// every keyed collection remembers the keys it changed, and the returned
    /// [`Recorder`] holds the small fields as of now.
    pub(crate) fn start_recording(&mut self) -> Recorder {
        macro_rules! start {
            ($($f:ident),*) => { $(self.$f.record_changes();)* };
        }
        each_map!(start);
        self.user_changes.versions_recorded().record_changes();
        self.group_changes.versions_recorded().record_changes();
        Recorder {
            small: self.small_view(),
            #[cfg(debug_assertions)]
            maps: self.journal_view().maps,
        }
    }

    /// What the writes since the last call changed (the journal's record of
    /// them), the values kept for the journal to serialize after the write's
    /// lock is released. The collections name the keys they changed, so this
    /// costs what the writes touched and copies nothing of the tenant.
    pub(crate) fn recorded_changes(&mut self, recorder: &mut Recorder) -> Vec<Effect<Deferred>> {
        let mut out = Vec::new();
        macro_rules! drain {
            ($($f:ident),*) => { $(drain_recorded(stringify!($f), &mut self.$f, &mut out);)* };
        }
        each_map!(drain);
        drain_recorded("user_changes", self.user_changes.versions_recorded(), &mut out);
        drain_recorded("group_changes", self.group_changes.versions_recorded(), &mut out);
        #[cfg(debug_assertions)]
        self.check_recorded(&mut recorder.maps, &out);
        self.small_changes(&mut recorder.small, &mut out);
        out
    }

    /// Debug builds: every key the diff against the last record finds changed
    /// must be one the collections named. One they name without a change is
    /// harmless (its value now is written again).
    #[cfg(debug_assertions)]
    fn check_recorded(&self, seen: &mut MapsView, recorded: &[Effect<Deferred>]) {
        fn named(e: &Effect<Deferred>) -> Option<(String, String)> {
            match e {
                Effect::Put { collection, key, .. } | Effect::Remove { collection, key } => {
                    Some((collection.to_string(), key.text().get().to_owned()))
                }
                Effect::Field { .. } => None,
            }
        }
        let mut diffed = Vec::new();
        self.map_changes_since(seen, &mut diffed);
        let recorded: std::collections::HashSet<_> = recorded.iter().filter_map(named).collect();
        for (collection, key) in diffed.iter().filter_map(named) {
            assert!(
                recorded.contains(&(collection.clone(), key.clone())),
                "{collection} {key} changed but its collection did not name it: a mutation bypassed `Keyed`"
            );
        }
    }

    /// Become `other` (a snapshot restored) while the journal records this
    /// directory: each collection then reports what differs from its last
    /// record, and the small fields are compared as always.
    pub(crate) fn replace_recorded(&mut self, other: Directory) {
        let mut old = std::mem::replace(self, other);
        macro_rules! carry {
            ($($f:ident),*) => { $(self.$f.succeed(std::mem::take(&mut old.$f));)* };
        }
        each_map!(carry);
        self.user_changes.versions_recorded().succeed(std::mem::take(old.user_changes.versions_recorded()));
        self.group_changes.versions_recorded().succeed(std::mem::take(old.group_changes.versions_recorded()));
    }

    /// Apply one journaled effect (replay). Indexes are rebuilt once after the
    /// whole journal (`rebuild_indexes`).
    pub(crate) fn apply_effect(&mut self, effect: &Effect) -> Result<(), String> {
        let (collection, key, value) = match effect {
            Effect::Put { collection, key, value } => (collection, &**key, Some(&**value)),
            Effect::Remove { collection, key } => (collection, &**key, None),
            Effect::Field { name, value } => return self.apply_field(name, value).map_err(|e| format!("{name}: {e}")),
        };
        macro_rules! apply {
            ($($f:ident),*) => {
                match collection.as_ref() {
                    $(stringify!($f) => apply_map(&mut self.$f, key, value),)*
                    "user_changes" => apply_map(self.user_changes.versions_mut(), key, value),
                    "group_changes" => apply_map(self.group_changes.versions_mut(), key, value),
                    other => return Err(format!("unknown collection {other:?}")),
                }
            };
        }
        each_map!(apply).map_err(|e| format!("{collection}: {e}"))
    }

    fn apply_field(&mut self, name: &str, value: &RawValue) -> Result<(), serde_json::Error> {
        use serde::de::Error;
        let value = value.get();
        match name {
            "display_name" => self.display_name = serde_json::from_str(value)?,
            "domains" => self.domains = serde_json::from_str(value)?,
            "skus" => self.skus = serde_json::from_str(value)?,
            "refresh_tokens" => self.refresh_tokens = serde_json::from_str(value)?,
            "organization" => self.organization = serde_json::from_str(value)?,
            "signin" => self.signin = serde_json::from_str(value)?,
            "ids" => self.ids = serde_json::from_str(value)?,
            "user_changes.current" => self.user_changes.current = serde_json::from_str(value)?,
            "group_changes.current" => self.group_changes.current = serde_json::from_str(value)?,
            other => return Err(serde_json::Error::custom(format!("unknown field {other:?}"))),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::tenant::Tenant;

    /// A field added to `Directory` and saved in state files must be journaled
    /// too (a keyed collection in `each_map!`, or a small field): otherwise its
    /// changes would survive a save but not a crash.
    #[test]
    fn every_saved_directory_field_is_journaled() {
        let t = Tenant::seeded(3);
        let saved = serde_json::to_value(&*t.read()).expect("a directory serializes");
        let mut covered: Vec<&str> = crate::directory::Directory::small_field_names().to_vec();
        macro_rules! names {
            ($($f:ident),*) => { covered.extend([$(stringify!($f)),*]); };
        }
        each_map!(names);
        // Fixed for a tenant's life (a fork is recorded whole); delta versions
        // are diffed as maps plus their `current` small fields.
        covered.extend(["tenant_id", "user_changes", "group_changes"]);
        for key in saved.as_object().expect("an object").keys() {
            assert!(covered.contains(&key.as_str()), "Directory field {key:?} is saved but not journaled (changes.rs)");
        }
    }

    #[test]
    fn effects_replayed_onto_the_old_state_give_the_new_one() {
        let t = Tenant::seeded(4);
        let before = t.read().clone();
        let mut view = before.journal_view();
        {
            let mut dir = t.write();
            let body = serde_json::json!({"accountEnabled": true, "displayName": "Journaled", "mailNickname": "j",
                "userPrincipalName": format!("j@{}", dir.initial_domain()),
                "passwordProfile": {"password": "Gb!x12345678a"}});
            dir.create_user(body.as_object().expect("an object"), time::OffsetDateTime::UNIX_EPOCH).expect("valid");
            dir.add_domain(serde_json::json!({"id": "j.example"}).as_object().expect("an object")).expect("new");
        }
        let effects = t.read().changes_since(&mut view);
        assert!(!effects.is_empty());
        assert!(t.read().changes_since(&mut view).is_empty(), "the view moved forward");
        let mut replayed = before;
        for e in effects {
            replayed.apply_effect(&e).expect("applies");
        }
        replayed.rebuild_indexes();
        let (a, b) = (serde_json::to_value(&replayed).expect("json"), serde_json::to_value(&*t.read()).expect("json"));
        assert_eq!(a, b);
    }

    /// The journal's own path: the keys the collections named, through a
    /// create, a deletion, a restore of an older copy (the directory
    /// replaced whole) and a write after it, each record replayed in order.
    #[test]
    fn recorded_effects_replayed_in_order_give_every_state_in_turn() {
        let t = Tenant::seeded(4);
        let mut replayed = t.read().clone();
        let mut recorder = t.directory.write().expect("lock").start_recording();
        let domain = t.read().initial_domain().to_owned();
        use crate::directory::{record::Record, Directory};
        let create = |dir: &mut Directory, nick: &str| {
            let body = serde_json::json!({"accountEnabled": true, "displayName": nick, "mailNickname": nick,
                "userPrincipalName": format!("{nick}@{domain}"), "passwordProfile": {"password": "Gb!x12345678a"}});
            dir.create_user(body.as_object().expect("an object"), time::OffsetDateTime::UNIX_EPOCH).expect("valid")
        };
        let older = t.read().clone();
        type Step<'a> = &'a dyn Fn(&mut Directory);
        let steps: [(&str, Step); 4] = [
            ("create", &|d| {
                create(d, "a");
            }),
            ("delete", &|d| {
                let nick = |r: &Record| r.get_str(&crate::directory::users::USER, "mailNickname") == Some("a");
                let id = d.users.iter().find(|(_, r)| nick(r)).map(|(id, _)| *id).expect("created");
                d.delete_user(id, time::OffsetDateTime::UNIX_EPOCH).expect("deleted");
            }),
            ("restore", &|d| d.replace_recorded(older.clone())),
            ("create after the restore", &|d| {
                create(d, "b");
            }),
        ];
        for (name, step) in steps {
            let effects = {
                let mut dir = t.directory.write().expect("lock");
                step(&mut dir);
                dir.recorded_changes(&mut recorder)
            };
            assert!(!effects.is_empty(), "{name} changed something");
            for e in effects {
                replayed.apply_effect(&e.into_text()).expect("applies");
            }
            replayed.rebuild_indexes();
            let (a, b) =
                (serde_json::to_value(&replayed).expect("json"), serde_json::to_value(&*t.read()).expect("json"));
            assert_eq!(a, b, "after {name}");
        }
    }

    /// Small fields are compared by value, not written out on every write:
    /// each one that changes must still come out as its effect, under the name
    /// replay reads, and one that did not change must not.
    #[test]
    fn a_change_to_each_small_field_is_an_effect_of_its_own() {
        use crate::directory::sessions::RefreshGrant;
        use crate::directory::Directory;
        use crate::journal::Effect;
        let t = Tenant::seeded(5);
        let mut view = t.read().journal_view();
        let now = time::OffsetDateTime::UNIX_EPOCH;
        type Change<'a> = (&'a str, &'a dyn Fn(&mut Directory));
        let changes: [Change; 9] = [
            ("display_name", &|d| d.display_name.push_str(" renamed")),
            ("domains", &|d| {
                d.add_domain(serde_json::json!({"id": "small.example"}).as_object().expect("an object")).expect("new");
            }),
            ("skus", &|d| d.skus.to_mut().truncate(1)),
            ("refresh_tokens", &|d| {
                let grant = RefreshGrant {
                    user: uuid::Uuid::from_u128(1),
                    client: uuid::Uuid::from_u128(2),
                    resource: "https://graph.microsoft.com".into(),
                    scopes: vec!["User.Read".into()],
                    expires: now + time::Duration::days(90),
                };
                d.refresh_tokens.insert("k".into(), grant, now);
            }),
            ("organization", &|d| d.organization.dirsync.state = crate::dirsync::State::PendingEnabled { until: now }),
            ("signin", &|d| d.signin.user_consent_disabled = !d.signin.user_consent_disabled),
            ("ids", &|d| {
                d.ids.uuid();
            }),
            ("user_changes.current", &|d| d.user_changes.current += 1),
            ("group_changes.current", &|d| d.group_changes.current += 1),
        ];
        assert_eq!(changes.map(|(n, _)| n), Directory::small_field_names());
        for (name, change) in changes {
            let mut replayed = t.read().clone();
            change(&mut t.write());
            let effects = t.read().changes_since(&mut view);
            let names: Vec<&str> = effects
                .iter()
                .map(|e| match e {
                    Effect::Field { name, .. } => name.as_ref(),
                    Effect::Put { collection, .. } | Effect::Remove { collection, .. } => collection.as_ref(),
                })
                .collect();
            assert_eq!(names, [name], "changing {name}");
            replayed.apply_effect(&effects[0]).expect("replays");
            replayed.rebuild_indexes();
            let live = serde_json::to_value(&*t.read()).expect("json");
            assert_eq!(serde_json::to_value(&replayed).expect("json"), live, "replaying {name}");
        }
    }

    /// The journal trusts the persistent map's diff to name exactly what a
    /// write changed. imbl 6.1 skipped the first entry after a shared leaf
    /// without comparing it, so removing one key was recorded as removing its
    /// neighbour (a deleted user came back after a crash, another vanished).
    #[test]
    fn the_diff_of_a_one_key_change_names_that_key_wherever_it_sits() {
        use crate::journal::Effect;
        let full: super::Map<u64, u64> = (0..8_000u64).map(|k| (k, k)).collect();
        for k in 0..8_000u64 {
            for changed in [full.without(&k), full.update(k, k + 1)] {
                let mut out = Vec::new();
                super::diff_map("m", &full, &changed, &mut out);
                let keys: Vec<String> = out
                    .into_iter()
                    .map(|e| match e.into_text() {
                        Effect::Put { key, .. } | Effect::Remove { key, .. } => key.get().to_owned(),
                        Effect::Field { name, .. } => name.into_owned(),
                    })
                    .collect();
                assert_eq!(keys, [k.to_string()], "changing key {k}");
            }
        }
    }
}
