//! Listing a collection: Graph's query rules applied generically over a schema.
//! Validation (which options need `ConsistencyLevel: eventual`, which properties
//! allow which operator), filtering, searching, ordering, projection and paging
//! with an opaque, stateless `$skiptoken`.

use std::cmp::Ordering;

use std::ops::Bound;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use smallvec::{smallvec, SmallVec};

use super::record::{Positions, Projection, Record};
use super::schema::EntitySchema;
use crate::error::ApiError;
use crate::odata::{canonicalize, check_filter, eval, Expr, QueryClass, QueryOptions, SelectList, Support};

/// Paging bounds of one collection (users: 100 by default, 999 at most).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageBounds {
    pub default_size: usize,
    pub max_size: usize,
}

pub(crate) const DIRECTORY_PAGING: PageBounds = PageBounds { default_size: 100, max_size: 999 };

/// A validated list request, ready to run against records.
#[derive(Debug)]
pub(crate) struct ListPlan<'q> {
    pub schema: &'static EntitySchema,
    pub opts: &'q QueryOptions<'q>,
    pub projection: Projection,
    /// The `$select` names for `@odata.context`.
    pub selected: Option<Selected>,
    /// The filter with property names in their schema spelling (Graph matches
    /// them case-insensitively; the evaluator looks them up exactly).
    filter: Option<Expr>,
    order: Vec<(usize, bool)>,
    page_size: usize,
    with_count: bool,
    after: Option<Cursor>,
}

/// One page of results, not yet projected (the caller knows how to show them).
#[derive(Debug)]
pub(crate) struct ListPage<'r> {
    pub(crate) items: Vec<&'r Record>,
    pub(crate) count: Option<usize>,
    pub(crate) next_skiptoken: Option<String>,
}

/// Where the previous page stopped: its last item's sort values and id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Cursor {
    #[serde(rename = "k")]
    keys: Vec<Value>,
    #[serde(rename = "i")]
    id: Uuid,
}

fn unsupported_query() -> ApiError {
    ApiError::unsupported_query("Unsupported Query.")
}

fn unknown_property(schema: &EntitySchema, name: &str) -> ApiError {
    ApiError::bad_request(format!("Could not find a property named '{name}' on type '{}'.", schema.type_name))
}

/// The navigation properties `$expand` may name, by entity type.
fn expandable(schema: &EntitySchema) -> &'static [&'static str] {
    match schema.type_name {
        "microsoft.graph.user" => &["manager", "memberOf", "directReports"],
        "microsoft.graph.group" => &["members", "owners"],
        "microsoft.graph.unifiedRoleAssignment" => &["roleDefinition", "principal"],
        _ => &[],
    }
}

/// Check `$expand` against the entity's navigation properties: one level, as
/// Graph allows on directory objects.
pub(crate) fn check_expand(schema: &EntitySchema, expand: &[crate::odata::ExpandItem]) -> Result<(), ApiError> {
    for item in expand {
        if expandable(schema).contains(&item.property.as_str()) {
            continue;
        }
        return Err(match schema.position_ignore_case(&item.property) {
            Some(_) => ApiError::bad_request(format!(
                "Property '{}' on type '{}' is not a navigation property or complex property. Only navigation properties can be expanded.",
                item.property, schema.type_name
            )),
            None => unknown_property(schema, &item.property),
        });
    }
    Ok(())
}

/// The `$select` names `@odata.context` shows: canonical spelling, request
/// order, each once (`*` alone when everything was selected).
pub(crate) type Selected = SmallVec<[&'static str; 8]>;

/// Resolve `$select` names (case-insensitively) into a projection.
pub(crate) fn projection_for<'n>(
    schema: &'static EntitySchema,
    select: Option<impl IntoIterator<Item = &'n str>>,
) -> Result<(Projection, Option<Selected>), ApiError> {
    let Some(names) = select else {
        return Ok((Projection::default_set(schema), None));
    };
    let mut positions = SmallVec::<[usize; 8]>::new();
    for name in names {
        if name == "*" {
            return Ok((Projection::all(schema), Some(smallvec!["*"])));
        }
        let pos = schema.position_ignore_case(name).ok_or_else(|| unknown_property(schema, name))?;
        if !positions.contains(&pos) {
            positions.push(pos);
        }
    }
    let canonical = positions.iter().map(|&p| schema.props[p].name).collect();
    positions.sort_unstable();
    Ok((Projection { positions: Positions::Chosen(positions) }, Some(canonical)))
}

impl<'q> ListPlan<'q> {
    /// Check every option against Graph's rules for this collection.
    ///
    /// `eventual` is whether the request carried `ConsistencyLevel: eventual`.
    pub(crate) fn new(
        schema: &'static EntitySchema,
        opts: &'q QueryOptions<'q>,
        eventual: bool,
        bounds: PageBounds,
    ) -> Result<Self, ApiError> {
        if opts.skip.is_some() {
            return Err(ApiError::request_bad_request(
                "'$skip' is not supported by the service. Use the @odata.nextLink of the previous page instead.",
            ));
        }
        let page_size = match opts.top {
            None => bounds.default_size,
            Some(n) if n >= 1 && n <= bounds.max_size as u64 => n as usize,
            Some(n) => {
                return Err(ApiError::request_bad_request(format!(
                    "Invalid page size specified: '{n}'. Must be between 1 and {} inclusive.",
                    bounds.max_size
                )))
            }
        };
        check_expand(schema, &opts.expand)?;
        let (projection, selected) = projection_for(schema, opts.select.as_ref().map(SelectList::iter))?;
        // Advanced queries need both the header and $count=true;
        // $search needs only the header.
        let advanced_allowed = eventual && opts.count == Some(true);
        let mut needs_advanced = false;
        let mut filter = None;
        if let Some(f) = &opts.filter {
            if check_filter(f, schema)? == QueryClass::Advanced {
                needs_advanced = true;
            }
            filter = Some(canonicalize(f, schema));
        }
        let mut order = Vec::with_capacity(opts.orderby.len());
        for o in &opts.orderby {
            let name = o.property.0.join("/");
            let pos = schema.position_ignore_case(&name).ok_or_else(|| unknown_property(schema, &name))?;
            match schema.props[pos].orderby {
                Support::Default => {}
                Support::Advanced => needs_advanced = true,
                Support::Unsupported => return Err(unsupported_query()),
            }
            order.push((pos, o.descending));
        }
        if !order.is_empty() && opts.filter.is_some() {
            needs_advanced = true;
        }
        if needs_advanced && !advanced_allowed {
            return Err(unsupported_query());
        }
        if let Some(search) = &opts.search {
            if !eventual {
                return Err(ApiError::unsupported_query(
                    "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
                ));
            }
            for p in search.properties() {
                let searchable = schema.position_ignore_case(p).is_some_and(|i| schema.props[i].searchable);
                if !searchable {
                    return Err(ApiError::unsupported_query(format!(
                        "Unsupported or invalid query search clause specified for property '{p}' of resource '{}'.",
                        schema.resource_name
                    )));
                }
            }
        }
        let after = match &opts.skiptoken {
            None => None,
            Some(t) => Some(decode_cursor(t, order.len())?),
        };
        Ok(ListPlan {
            schema,
            opts,
            projection,
            selected,
            filter,
            order,
            page_size,
            // $count=true without the header is silently ignored, as Graph does.
            with_count: eventual && opts.count == Some(true) && opts.skiptoken.is_none(),
            after,
        })
    }

    fn matches(&self, record: &Record) -> bool {
        let view = record.resolver(self.schema);
        if let Some(f) = &self.filter {
            if !eval(f, &view) {
                return false;
            }
        }
        if let Some(s) = &self.opts.search {
            let searchable: Vec<&str> = self.schema.props.iter().filter(|p| p.searchable).map(|p| p.name).collect();
            if !s.matches(&view, &searchable) {
                return false;
            }
        }
        true
    }

    /// How many records match (for `/$count`).
    pub(crate) fn count(&self, records: &super::Map<Uuid, Record>) -> usize {
        ReadAhead::new(records.values()).filter(|r| self.matches(r)).count()
    }

    /// The prefix of a top-level `startswith(property, '…')` in the filter (alone
    /// or under `and`), which an index on `property` can answer without a scan.
    pub(crate) fn prefix_on(&self, property: &str) -> Option<&str> {
        use crate::odata::{Literal, Operand, StringFunction};
        fn find<'e>(expr: &'e Expr, property: &str) -> Option<&'e str> {
            match expr {
                Expr::And(a, b) => find(a, property).or_else(|| find(b, property)),
                Expr::Function {
                    function: StringFunction::StartsWith,
                    target: Operand::Property(path),
                    argument: Operand::Literal(Literal::String(prefix)),
                } if path.0.len() == 1 && path.0[0] == property => Some(prefix),
                _ => None,
            }
        }
        find(self.filter.as_ref()?, property)
    }

    /// Run the plan over only `candidates` (ids an index picked, a superset of
    /// the matches); paging stays in id order, as over the whole collection.
    pub(crate) fn run_candidates<'r>(
        &self,
        records: &'r super::Map<Uuid, Record>,
        mut candidates: Vec<Uuid>,
    ) -> ListPage<'r> {
        if !self.order.is_empty() {
            return self.run(records);
        }
        candidates.sort_unstable();
        candidates.dedup();
        let matching = || candidates.iter().filter_map(|id| records.get(id)).filter(|r| self.matches(r));
        let count = self.with_count.then(|| matching().count());
        let after = self.after.as_ref().map(|c| c.id);
        let mut page: Vec<&Record> =
            matching().filter(|r| after.is_none_or(|a| r.id > a)).take(self.page_size + 1).collect();
        let more = page.len() > self.page_size;
        page.truncate(self.page_size);
        let next_skiptoken =
            if more { page.last().map(|last| encode_cursor(&Cursor { keys: Vec::new(), id: last.id })) } else { None };
        ListPage { items: page, count, next_skiptoken }
    }

    /// Run the plan over a collection kept in id order.
    pub(crate) fn run<'r>(&self, records: &'r super::Map<Uuid, Record>) -> ListPage<'r> {
        let count = self.with_count.then(|| self.count(records));
        let mut page: Vec<&Record> = Vec::with_capacity(self.page_size.min(1000) + 1);
        if self.order.is_empty() {
            let start = match &self.after {
                Some(c) => Bound::Excluded(c.id),
                None => Bound::Unbounded,
            };
            for r in ReadAhead::new(records.range((start, Bound::Unbounded)).map(|(_, r)| r)) {
                if self.matches(r) {
                    page.push(r);
                    if page.len() > self.page_size {
                        break;
                    }
                }
            }
        } else {
            let mut all: Vec<(Vec<Value>, &Record)> =
                ReadAhead::new(records.values()).filter(|r| self.matches(r)).map(|r| (self.sort_keys(r), r)).collect();
            all.sort_by(|a, b| self.compare(&a.0, a.1.id, &b.0, b.1.id));
            let start = match &self.after {
                Some(c) => all.partition_point(|(k, r)| self.compare(k, r.id, &c.keys, c.id) != Ordering::Greater),
                None => 0,
            };
            page.extend(all.into_iter().skip(start).take(self.page_size + 1).map(|(_, r)| r));
        }
        let more = page.len() > self.page_size;
        page.truncate(self.page_size);
        let next_skiptoken = if more {
            page.last().map(|last| encode_cursor(&Cursor { keys: self.sort_keys(last), id: last.id }))
        } else {
            None
        };
        ListPage { items: page, count, next_skiptoken }
    }

    fn sort_keys(&self, r: &Record) -> Vec<Value> {
        self.order.iter().map(|(pos, _)| r.value_at(*pos).map_or(Value::Null, std::borrow::Cow::into_owned)).collect()
    }

    fn compare(&self, a: &[Value], a_id: Uuid, b: &[Value], b_id: Uuid) -> Ordering {
        for (i, (_, desc)) in self.order.iter().enumerate() {
            let o = compare_values(a.get(i).unwrap_or(&Value::Null), b.get(i).unwrap_or(&Value::Null));
            let o = if *desc { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        a_id.cmp(&b_id)
    }
}

/// Records in their order, read a batch ahead. A scan over a large tenant waits
/// on the first read of each record's properties (its own allocation, in no
/// order relative to ids): about 90 % of a million-user scan. Reading a batch's
/// properties together lets those cache misses overlap instead of queueing.
struct ReadAhead<'r, I> {
    inner: I,
    batch: [Option<&'r Record>; READ_AHEAD],
    next: usize,
}

const READ_AHEAD: usize = 8;

impl<'r, I: Iterator<Item = &'r Record>> ReadAhead<'r, I> {
    fn new(inner: I) -> Self {
        ReadAhead { inner, batch: [None; READ_AHEAD], next: READ_AHEAD }
    }
}

impl<'r, I: Iterator<Item = &'r Record>> Iterator for ReadAhead<'r, I> {
    type Item = &'r Record;

    fn next(&mut self) -> Option<&'r Record> {
        if self.next == READ_AHEAD {
            self.next = 0;
            let mut touched = 0;
            for slot in &mut self.batch {
                *slot = self.inner.next();
                touched ^= slot.map_or(0, Record::touch);
            }
            // Keeps the reads from being optimized away; the value is meaningless.
            std::hint::black_box(touched);
        }
        let r = self.batch[self.next].take();
        self.next += 1;
        r
    }
}

/// Nulls first; strings without regard to case; numbers and booleans by value.
fn compare_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (Value::String(x), Value::String(y)) => {
            let o = x.to_lowercase().cmp(&y.to_lowercase());
            if o == Ordering::Equal {
                x.cmp(y)
            } else {
                o
            }
        }
        (Value::Number(x), Value::Number(y)) => {
            x.as_f64().unwrap_or(0.0).partial_cmp(&y.as_f64().unwrap_or(0.0)).unwrap_or(Ordering::Equal)
        }
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => a.to_string().cmp(&b.to_string()),
    }
}

fn encode_cursor(c: &Cursor) -> String {
    let mut s = String::from("RFNwdA");
    B64.encode_string(serde_json::to_vec(c).expect("a cursor serializes"), &mut s);
    s
}

fn decode_cursor(token: &str, order_len: usize) -> Result<Cursor, ApiError> {
    let bad = || {
        ApiError::request_bad_request(
            "The $skiptoken is not valid. Follow the @odata.nextLink of the previous page unchanged.",
        )
    };
    let body = token.strip_prefix("RFNwdA").ok_or_else(bad)?;
    let bytes = B64.decode(body).map_err(|_| bad())?;
    let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if cursor.keys.len() != order_len {
        return Err(bad());
    }
    Ok(cursor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_ahead_yields_every_record_once_in_order_at_any_length() {
        for n in [0, 1, READ_AHEAD - 1, READ_AHEAD, READ_AHEAD + 1, 2 * READ_AHEAD + 3] {
            let records: Vec<Record> = (0..n as u128).map(|i| Record::new(Uuid::from_u128(i))).collect();
            let seen: Vec<Uuid> = ReadAhead::new(records.iter()).map(|r| r.id).collect();
            let expected: Vec<Uuid> = records.iter().map(|r| r.id).collect();
            assert_eq!(seen, expected, "{n} records");
        }
    }
}
