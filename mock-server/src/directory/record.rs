//! `Record`: one directory object's properties, stored sparsely in schema order.
//!
//! A user has ~70 properties of which a handful are set; storing only those keeps
//! a million-user tenant well under the memory budget, and keeping them in schema
//! order makes projection a merge rather than a lookup per property.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::sync::Arc;

use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};
use smallvec::SmallVec;
use uuid::Uuid;

use super::implied::{self, Implied};
use super::schema::EntitySchema;
use crate::odata::Resolve;

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Record {
    pub id: Uuid,
    /// `(position in schema, value)`, sorted by position; never holds JSON null.
    /// Shared, because the directory's maps are persistent: a write copies the
    /// map node it lands in, and with it every record of that node, whenever
    /// another copy of the map exists (the journal's view of the last record,
    /// a fork, a snapshot). With shared values that copy is a reference count
    /// each instead of every value of ~60 users. A record that changes is
    /// rebuilt, which a write pays once.
    #[serde(deserialize_with = "shared_props")]
    props: Arc<[(u16, Value)]>,
    /// Values left out of `props` because they follow from it (users only, see
    /// `implied.rs`). Not saved: state files hold every value, and loading
    /// compacts again.
    #[serde(skip)]
    implied: Implied,
}

/// Records whose values are shared are equal without a look at them: the
/// journal's diff compares every record of a node a write touched.
impl PartialEq for Record {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.implied == other.implied
            && (Arc::ptr_eq(&self.props, &other.props) || self.props == other.props)
    }
}

fn shared_props<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Arc<[(u16, Value)]>, D::Error> {
    Vec::<(u16, Value)>::deserialize(d).map(Arc::from)
}

/// State files show a record with its implied values, so they read the same as
/// those of builds that stored every value (and those builds can read them).
impl Serialize for Record {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Stored<'a> {
            id: &'a Uuid,
            props: &'a [(u16, Value)],
        }
        if self.implied.is_empty() {
            return Stored { id: &self.id, props: &self.props }.serialize(s);
        }
        let mut full = self.clone();
        full.materialize();
        Stored { id: &full.id, props: &full.props }.serialize(s)
    }
}

impl Record {
    /// A record whose `id` property (schema position 0 in every schema) is set.
    pub(crate) fn new(id: Uuid) -> Self {
        Record { id, props: Arc::new([(0, Value::String(id.to_string()))]), implied: Implied::NONE }
    }

    /// A record from `(position, value)` pairs already sorted by position and
    /// free of nulls, built in one allocation (seeding a million users one
    /// `set_at` at a time regrows each vector four times).
    pub(crate) fn from_sorted(id: Uuid, props: Vec<(u16, Value)>, implied: Implied) -> Self {
        debug_assert!(props.windows(2).all(|w| w[0].0 < w[1].0) && props.iter().all(|(_, v)| !v.is_null()));
        Record { id, props: props.into(), implied }
    }

    /// A record as stored (by `Deserialize`'s rules: positions as given),
    /// with `implied` values left out of `props` by the caller.
    pub(crate) fn stored(id: Uuid, props: Vec<(u16, Value)>, implied: Implied) -> Self {
        Record { id, props: props.into(), implied }
    }

    pub(crate) fn implied(&self) -> Implied {
        self.implied
    }

    /// Mark `implied` and drop the stored values at `positions`, which the
    /// caller has checked equal what they are derived as.
    pub(crate) fn imply(&mut self, implied: Implied, positions: &[usize]) {
        if self.props.iter().any(|(p, _)| positions.contains(&usize::from(*p))) {
            self.props = self.props.iter().filter(|(p, _)| !positions.contains(&usize::from(*p))).cloned().collect();
        }
        self.implied = implied;
    }

    /// Store every implied value, so a write cannot change what one shows.
    fn materialize(&mut self) {
        let mut values: Vec<(u16, Value)> = self
            .implied
            .positions()
            .filter_map(|pos| Some((pos as u16, implied::value(self, pos)?)))
            .filter(|(_, v)| !v.is_null())
            .collect();
        self.implied = Implied::NONE;
        if values.is_empty() {
            return;
        }
        // Implied values are never stored as well, so the merge has no ties.
        values.extend(self.props.iter().cloned());
        values.sort_by_key(|(pos, _)| *pos);
        debug_assert!(values.windows(2).all(|w| w[0].0 < w[1].0));
        self.props = values.into();
    }

    /// The value at `pos`, stored or implied: what the wire shows.
    pub(crate) fn value_at(&self, pos: usize) -> Option<Cow<'_, Value>> {
        match self.get_at(pos) {
            Some(v) => Some(Cow::Borrowed(v)),
            None if self.implied.is_empty() => None,
            None => implied::value(self, pos).map(Cow::Owned),
        }
    }

    /// Read every stored position, so the cache lines a property lookup will
    /// need are loaded (see `query::ReadAhead`); the result means nothing.
    pub(crate) fn touch(&self) -> u16 {
        self.props.iter().fold(0, |acc, (pos, _)| acc ^ pos)
    }

    /// The stored value at `pos` (see [`Record::value_at`] for what the wire shows).
    pub(crate) fn get_at(&self, pos: usize) -> Option<&Value> {
        let pos = pos as u16;
        self.props.binary_search_by_key(&pos, |(p, _)| *p).ok().map(|i| &self.props[i].1)
    }

    /// A record whose wire `id` is an opaque string (app role assignments and
    /// grants), ordered and found internally by `key`.
    pub(crate) fn with_wire_id(key: Uuid, wire_id: String) -> Self {
        Record { id: key, props: Arc::new([(0, Value::String(wire_id))]), implied: Implied::NONE }
    }

    /// A record with `id` set and `values` (positions in any order; a later
    /// value for a position wins, nulls are dropped). Building the sorted list
    /// once beats inserting defaults and then the caller's values one by one.
    pub(crate) fn from_values(id: Uuid, mut values: Vec<(usize, Value)>) -> Self {
        values.push((0, Value::String(id.to_string())));
        values.reverse();
        values.sort_by_key(|(pos, _)| *pos);
        values.dedup_by_key(|(pos, _)| *pos);
        let props = values.into_iter().filter(|(_, v)| !v.is_null()).map(|(p, v)| (p as u16, v)).collect();
        Record::from_sorted(id, props, Implied::NONE)
    }

    /// [`Record::with_wire_id`] plus properties given in schema order, for
    /// records built from parts already validated.
    pub(crate) fn with_wire_id_and(
        key: Uuid,
        wire_id: String,
        props: impl ExactSizeIterator<Item = (usize, Value)>,
    ) -> Self {
        let mut all = Vec::with_capacity(1 + props.len());
        all.push((0, Value::String(wire_id)));
        all.extend(props.filter(|(_, v)| !v.is_null()).map(|(p, v)| (p as u16, v)));
        Record::from_sorted(key, all, Implied::NONE)
    }

    /// Set (or, with `Value::Null`, clear) the property at `pos`.
    pub(crate) fn set_at(&mut self, pos: usize, value: Value) {
        if !self.implied.is_empty() {
            self.materialize();
        }
        let pos = pos as u16;
        match self.props.binary_search_by_key(&pos, |(p, _)| *p) {
            Ok(i) if value.is_null() => {
                let mut props = self.props.to_vec();
                props.remove(i);
                self.props = props.into();
            }
            Ok(i) => Arc::make_mut(&mut self.props)[i].1 = value,
            Err(_) if value.is_null() => {}
            Err(i) => {
                let mut props = Vec::with_capacity(self.props.len() + 1);
                props.extend_from_slice(&self.props[..i]);
                props.push((pos, value));
                props.extend_from_slice(&self.props[i..]);
                self.props = props.into();
            }
        }
    }

    /// The stored value of `name`; implied values are not stored (see
    /// [`Record::value_at`]).
    pub(crate) fn get<'a>(&'a self, schema: &EntitySchema, name: &str) -> Option<&'a Value> {
        self.get_at(schema.position(name)?)
    }

    pub(crate) fn get_str<'a>(&'a self, schema: &EntitySchema, name: &str) -> Option<&'a str> {
        self.get(schema, name).and_then(Value::as_str)
    }

    pub(crate) fn set(&mut self, schema: &EntitySchema, name: &str, value: Value) {
        let pos = schema.position(name).expect("property names used in code exist in the schema");
        self.set_at(pos, value);
    }

    /// The object as Graph shows it: `fields` in schema order, unset scalars as
    /// null and unset collections as `[]`.
    pub(crate) fn project(&self, schema: &EntitySchema, fields: &Projection) -> Map<String, Value> {
        self.project_annotated(schema, fields, &[])
    }

    /// [`Record::project`] with OData annotations (`@odata.context`, …) first, as
    /// Graph orders them, built in one pass.
    pub(crate) fn project_annotated(
        &self,
        schema: &EntitySchema,
        fields: &Projection,
        annotations: &[(&str, String)],
    ) -> Map<String, Value> {
        let mut out = Map::with_capacity(annotations.len() + fields.positions.len());
        for (k, v) in annotations {
            out.insert((*k).to_owned(), Value::String(v.clone()));
        }
        for &pos in fields.positions.iter() {
            let def = &schema.props[pos];
            let v = match self.value_at(pos) {
                Some(v) => v.into_owned(),
                None => def.unset_value(),
            };
            out.insert(def.name.to_owned(), v);
        }
        out
    }

    pub(crate) fn resolver<'a>(&'a self, schema: &'a EntitySchema) -> RecordView<'a> {
        RecordView { record: self, schema, implied: Default::default() }
    }
}

/// Which properties a response carries, as schema positions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Projection {
    pub positions: Positions,
}

/// Schema positions, ascending, without repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Positions {
    /// The schema's own list (the default set, which most reads use).
    Schema(&'static [usize]),
    /// A `$select`ion: a few properties stay inline, so choosing them does not
    /// allocate.
    Chosen(SmallVec<[usize; 8]>),
}

impl std::ops::Deref for Positions {
    type Target = [usize];
    fn deref(&self) -> &[usize] {
        match self {
            Positions::Schema(positions) => positions,
            Positions::Chosen(positions) => positions,
        }
    }
}

impl Projection {
    /// The default property set (what Graph returns without `$select`).
    pub(crate) fn default_set(schema: &'static EntitySchema) -> Self {
        Projection { positions: Positions::Schema(schema.default_positions()) }
    }

    /// Every property.
    pub(crate) fn all(schema: &EntitySchema) -> Self {
        Projection { positions: Positions::Chosen((0..schema.props.len()).collect()) }
    }
}

/// A record seen through its schema, for the filter evaluator.
#[derive(Debug, Clone)]
pub(crate) struct RecordView<'a> {
    record: &'a Record,
    schema: &'a EntitySchema,
    /// Implied values the filter asked for, derived once per record and only
    /// when asked (the evaluator borrows what it resolves).
    implied: [OnceCell<Option<Value>>; 4],
}

impl Resolve for RecordView<'_> {
    fn property(&self, name: &str) -> Option<&Value> {
        let pos = self.schema.position(name)?;
        if let Some(v) = self.record.get_at(pos) {
            return Some(v);
        }
        let slot = self.record.implied.positions().position(|p| p == pos)?;
        self.implied[slot].get_or_init(|| implied::value(self.record, pos)).as_ref()
    }
}
