//! OData query options and a typed `$filter` builder.
//!
//! [`QueryOptions`] serialises to the query string (`$select=id,displayName&$top=50`), with
//! values percent-encoded (`%20` for a space, never `+`) and the `$` of option names left as
//! is. [`Filter`] renders OData expressions with values escaped (`'O''Brien'`) and remembers
//! whether Graph will treat the query as an *advanced query*, which needs the
//! `ConsistencyLevel: eventual` header and `$count=true`; the request builders add both.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Serialize;
use time::OffsetDateTime;

/// Characters left unencoded in query values: unreserved ones plus the OData punctuation that
/// Graph and its clients leave readable (`'`, `(`, `)`, `,`, `:`, `/`, `$`, `*`, `@`).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b',')
    .remove(b':')
    .remove(b'/')
    .remove(b'$')
    .remove(b'*')
    .remove(b'@');

/// Percent-encodes a query value the way Graph's own clients do.
pub(crate) fn encode_query_value(value: &str) -> String {
    utf8_percent_encode(value, QUERY_VALUE).to_string()
}

/// Characters escaped in a URL path segment (keys such as a UPN with `#`).
const PATH_SEGMENT: &AsciiSet = &QUERY_VALUE.remove(b'=').add(b'/').add(b'$');

/// Percent-encodes one path segment (an id or UPN).
pub(crate) fn encode_path_segment(value: &str) -> String {
    utf8_percent_encode(value, PATH_SEGMENT).to_string()
}

/// A literal value in a filter expression.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Literal {
    /// A string, rendered quoted with `'` doubled: `'O''Brien'`.
    String(String),
    /// A GUID, rendered unquoted: only for properties typed `Edm.Guid` (`skuId`, an app role
    /// assignment's `principalId` and `resourceId`, `appOwnerOrganizationId`). Most GUIDs in
    /// Graph (`id`, `appId`, a permission grant's `clientId`) are `Edm.String` and must be quoted;
    /// Graph answers 400 for an unquoted GUID beside them. A [`uuid::Uuid`] converts to a quoted
    /// [`Literal::String`] for that reason; build this variant explicitly.
    Guid(uuid::Uuid),
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A date-time, rendered unquoted as RFC 3339 UTC: `2026-03-02T10:00:00Z`.
    DateTime(OffsetDateTime),
    /// `null`.
    Null,
}

impl Literal {
    fn render(&self) -> String {
        match self {
            Literal::String(s) => format!("'{}'", s.replace('\'', "''")),
            Literal::Guid(g) => g.to_string(),
            Literal::Bool(b) => b.to_string(),
            Literal::Int(i) => i.to_string(),
            Literal::DateTime(t) => {
                let t = t.to_offset(time::UtcOffset::UTC).replace_nanosecond(0).unwrap_or(*t);
                t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
            }
            Literal::Null => "null".to_owned(),
        }
    }
}

pub(crate) fn render_literal(literal: &Literal) -> String {
    literal.render()
}

impl From<&str> for Literal {
    fn from(s: &str) -> Self {
        Literal::String(s.to_owned())
    }
}
impl From<String> for Literal {
    fn from(s: String) -> Self {
        Literal::String(s)
    }
}
impl From<&String> for Literal {
    fn from(s: &String) -> Self {
        Literal::String(s.clone())
    }
}
/// Quoted: most GUID-valued properties (`id`, `appId`, …) are `Edm.String`, where Graph refuses
/// an unquoted GUID. Use [`Literal::Guid`] for the few typed `Edm.Guid`.
impl From<uuid::Uuid> for Literal {
    fn from(g: uuid::Uuid) -> Self {
        Literal::String(g.to_string())
    }
}
impl From<bool> for Literal {
    fn from(b: bool) -> Self {
        Literal::Bool(b)
    }
}
impl From<i64> for Literal {
    fn from(i: i64) -> Self {
        Literal::Int(i)
    }
}
impl From<i32> for Literal {
    fn from(i: i32) -> Self {
        Literal::Int(i.into())
    }
}
impl From<OffsetDateTime> for Literal {
    fn from(t: OffsetDateTime) -> Self {
        Literal::DateTime(t)
    }
}

/// A `$filter` expression.
///
/// ```
/// use graphbox_sdk::odata::Filter;
/// let f = Filter::eq("displayName", "O'Brien").and(Filter::starts_with("mail", "ob"));
/// assert_eq!(f.to_string(), "displayName eq 'O''Brien' and startswith(mail,'ob')");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    expr: String,
    advanced: bool,
    compound: bool,
}

impl Filter {
    fn cmp(property: &str, op: &str, value: impl Into<Literal>) -> Self {
        Self { expr: format!("{property} {op} {}", value.into().render()), advanced: false, compound: false }
    }

    /// `property eq value`.
    pub fn eq(property: &str, value: impl Into<Literal>) -> Self {
        Self::cmp(property, "eq", value)
    }

    /// `property ne value` (an advanced query).
    pub fn ne(property: &str, value: impl Into<Literal>) -> Self {
        Self { advanced: true, ..Self::cmp(property, "ne", value) }
    }

    /// `property gt value`.
    pub fn gt(property: &str, value: impl Into<Literal>) -> Self {
        Self::cmp(property, "gt", value)
    }

    /// `property ge value`.
    pub fn ge(property: &str, value: impl Into<Literal>) -> Self {
        Self::cmp(property, "ge", value)
    }

    /// `property lt value`.
    pub fn lt(property: &str, value: impl Into<Literal>) -> Self {
        Self::cmp(property, "lt", value)
    }

    /// `property le value`.
    pub fn le(property: &str, value: impl Into<Literal>) -> Self {
        Self::cmp(property, "le", value)
    }

    /// `startswith(property,'prefix')`.
    pub fn starts_with(property: &str, prefix: &str) -> Self {
        let lit = Literal::from(prefix).render();
        Self { expr: format!("startswith({property},{lit})"), advanced: false, compound: false }
    }

    /// `endswith(property,'suffix')` (an advanced query).
    pub fn ends_with(property: &str, suffix: &str) -> Self {
        let lit = Literal::from(suffix).render();
        Self { expr: format!("endswith({property},{lit})"), advanced: true, compound: false }
    }

    /// `property in ('a','b')`.
    pub fn is_in<L: Into<Literal>>(property: &str, values: impl IntoIterator<Item = L>) -> Self {
        let list: Vec<String> = values.into_iter().map(|v| v.into().render()).collect();
        Self { expr: format!("{property} in ({})", list.join(",")), advanced: false, compound: false }
    }

    /// `collection/any(x:predicate)`; the closure receives the range variable's name.
    ///
    /// ```
    /// use graphbox_sdk::odata::Filter;
    /// let f = Filter::any("proxyAddresses", |x| Filter::starts_with(x, "smtp:mira@"));
    /// assert_eq!(f.to_string(), "proxyAddresses/any(x:startswith(x,'smtp:mira@'))");
    /// ```
    pub fn any(collection: &str, predicate: impl FnOnce(&str) -> Filter) -> Self {
        let inner = predicate("x");
        Self { expr: format!("{collection}/any(x:{})", inner.expr), advanced: inner.advanced, compound: false }
    }

    /// An expression written by hand, used verbatim (assumed not to need advanced query).
    pub fn raw(expr: impl Into<String>) -> Self {
        Self { expr: expr.into(), advanced: false, compound: false }
    }

    /// Marks the expression as an advanced query (for [`raw`](Self::raw) expressions).
    pub fn advanced(mut self) -> Self {
        self.advanced = true;
        self
    }

    /// `self and other`.
    pub fn and(self, other: Filter) -> Self {
        self.join("and", other)
    }

    /// `self or other`.
    pub fn or(self, other: Filter) -> Self {
        self.join("or", other)
    }

    fn join(self, op: &str, other: Filter) -> Self {
        Self {
            expr: format!("{} {op} {}", self.parenthesised(op), other.parenthesised(op)),
            advanced: self.advanced || other.advanced,
            compound: true,
        }
    }

    fn parenthesised(&self, op: &str) -> String {
        // `a and b or c` is unambiguous to OData, but readers and Graph's error messages are
        // clearer with mixed operators grouped explicitly.
        if self.compound && !self.expr.contains(&format!(" {op} ")) {
            format!("({})", self.expr)
        } else {
            self.expr.clone()
        }
    }

    /// `true` when Graph treats this filter as an advanced query (`ne`, `not`, `endswith`).
    pub fn is_advanced(&self) -> bool {
        self.advanced
    }
}

impl std::ops::Not for Filter {
    type Output = Filter;

    /// `not(expr)` (an advanced query).
    fn not(self) -> Filter {
        Filter { expr: format!("not({})", self.expr), advanced: true, compound: false }
    }
}

impl std::fmt::Display for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.expr)
    }
}

fn join_comma<S: serde::Serializer>(v: &[String], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&v.join(","))
}

fn filter_str<S: serde::Serializer>(v: &Option<Filter>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(f) => s.serialize_str(&f.expr),
        None => s.serialize_none(),
    }
}

fn search_str<S: serde::Serializer>(v: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(term) if term.starts_with('"') => s.serialize_str(term),
        // Graph wants the search clause in double quotes: `$search="displayName:mir"`.
        Some(term) => s.serialize_str(&format!("\"{term}\"")),
        None => s.serialize_none(),
    }
}

/// OData system query options, serialised to the query string by
/// [`to_query_string`](Self::to_query_string).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct QueryOptions {
    /// `$select`.
    #[serde(rename = "$select", serialize_with = "join_comma", skip_serializing_if = "Vec::is_empty")]
    pub select: Vec<String>,
    /// `$expand`.
    #[serde(rename = "$expand", serialize_with = "join_comma", skip_serializing_if = "Vec::is_empty")]
    pub expand: Vec<String>,
    /// `$filter`.
    #[serde(rename = "$filter", serialize_with = "filter_str", skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
    /// `$search` (wrapped in double quotes if not already).
    #[serde(rename = "$search", serialize_with = "search_str", skip_serializing_if = "Option::is_none")]
    pub search: Option<String>,
    /// `$orderby`, e.g. `["displayName desc"]`.
    #[serde(rename = "$orderby", serialize_with = "join_comma", skip_serializing_if = "Vec::is_empty")]
    pub order_by: Vec<String>,
    /// `$top`.
    #[serde(rename = "$top", skip_serializing_if = "Option::is_none")]
    pub top: Option<u32>,
    /// `$count`.
    #[serde(rename = "$count", skip_serializing_if = "Option::is_none")]
    pub count: Option<bool>,
}

impl QueryOptions {
    /// `true` when Graph needs `ConsistencyLevel: eventual` for these options: `$count=true`,
    /// `$search`, an advanced filter (`ne`, `not`, `endswith`), or `$filter` with `$orderby`.
    pub fn needs_eventual_consistency(&self) -> bool {
        self.count == Some(true)
            || self.search.is_some()
            || self.filter.as_ref().is_some_and(Filter::is_advanced)
            || (self.filter.is_some() && !self.order_by.is_empty())
    }

    /// The options as Graph will see them: advanced queries also get `$count=true`, which Graph
    /// requires alongside the header (except for `$search` alone).
    pub(crate) fn effective(&self) -> QueryOptions {
        let mut q = self.clone();
        let advanced = self.filter.as_ref().is_some_and(Filter::is_advanced)
            || (self.filter.is_some() && !self.order_by.is_empty());
        if advanced && q.count.is_none() {
            q.count = Some(true);
        }
        q
    }

    /// The encoded query string without the leading `?` (empty when no option is set).
    pub fn to_query_string(&self) -> String {
        let Ok(serde_json::Value::Object(map)) = serde_json::to_value(self) else {
            return String::new();
        };
        let pairs: Vec<String> = map
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                format!("{k}={}", encode_query_value(&v))
            })
            .collect();
        pairs.join("&")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_values_are_escaped_and_typed() {
        let cases = [
            (Filter::eq("displayName", "O'Brien"), "displayName eq 'O''Brien'"),
            (Filter::eq("accountEnabled", true), "accountEnabled eq true"),
            (
                Filter::eq("skuId", Literal::Guid(uuid::uuid!("c42b9cae-ea4f-4ab7-9717-81576235ccac"))),
                "skuId eq c42b9cae-ea4f-4ab7-9717-81576235ccac",
            ),
            (
                Filter::eq("appId", uuid::uuid!("00000003-0000-0000-c000-000000000000")),
                "appId eq '00000003-0000-0000-c000-000000000000'",
            ),
            (
                Filter::ge("createdDateTime", time::macros::datetime!(2026-03-02 10:00:00.5 UTC)),
                "createdDateTime ge 2026-03-02T10:00:00Z",
            ),
            (Filter::is_in("id", ["a", "b"]), "id in ('a','b')"),
            (Filter::ends_with("mail", "@x.com"), "endswith(mail,'@x.com')"),
            (!Filter::eq("userType", "Guest"), "not(userType eq 'Guest')"),
            (
                Filter::eq("a", 1).or(Filter::eq("b", 2)).and(Filter::eq("c", Literal::Null)),
                "(a eq 1 or b eq 2) and c eq null",
            ),
        ];
        for (filter, expected) in cases {
            assert_eq!(filter.to_string(), expected);
        }
    }

    #[test]
    fn query_options_encode_spaces_as_percent_20() {
        let q = QueryOptions {
            select: vec!["id".into(), "displayName".into()],
            filter: Some(Filter::eq("displayName", "O'Brien & Co")),
            top: Some(50),
            ..Default::default()
        };
        assert_eq!(
            q.to_query_string(),
            "$select=id,displayName&$filter=displayName%20eq%20'O''Brien%20%26%20Co'&$top=50"
        );
    }

    #[test]
    fn search_is_quoted_and_needs_eventual_consistency() {
        let q = QueryOptions { search: Some("displayName:mir".into()), count: Some(true), ..Default::default() };
        assert_eq!(q.to_query_string(), "$search=%22displayName:mir%22&$count=true");
        assert!(q.needs_eventual_consistency());
    }

    #[test]
    fn advanced_filters_and_filter_with_orderby_need_eventual_and_count() {
        let plain = QueryOptions { filter: Some(Filter::starts_with("displayName", "a")), ..Default::default() };
        assert!(!plain.needs_eventual_consistency());
        let ordered = QueryOptions { order_by: vec!["displayName".into()], ..plain.clone() };
        assert!(ordered.needs_eventual_consistency());
        assert_eq!(
            ordered.effective().to_query_string(),
            "$filter=startswith(displayName,'a')&$orderby=displayName&$count=true"
        );
        let ne = QueryOptions { filter: Some(Filter::ne("userType", "Guest")), ..Default::default() };
        assert!(ne.needs_eventual_consistency());
    }

    #[test]
    fn path_segments_escape_reserved_characters() {
        assert_eq!(encode_path_segment("a#b$c@d.com"), "a%23b%24c@d.com");
    }
}
