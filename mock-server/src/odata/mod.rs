//! The OData engine: pure functions from request text to typed values, and from a
//! typed filter to a verdict on one entity. No I/O, no locks, no clock, so every
//! piece table-tests and fuzzes on its own.
//!
//! | module   | input                              | output                         |
//! |----------|------------------------------------|--------------------------------|
//! | `path`   | the path after `/v1.0`             | [`ODataPath`] (raw segments)   |
//! | `query`  | the raw query string               | [`QueryOptions`]               |
//! | `filter` | a `$filter` value                  | [`Expr`]                       |
//! | `check`  | an [`Expr`] + a [`FilterSchema`]   | default vs advanced query, or the error Graph gives |
//! | `check::canonicalize` | an [`Expr`] + a [`FilterSchema`] | the [`Expr`] with property names spelled as the schema spells them |
//! | `eval`   | an [`Expr`] + one entity           | `bool`                         |
//! | `search` | a `$search` value                  | [`SearchExpr`]                 |
//!
//! A handler runs `parse_query`, then `check_filter` and `canonicalize` against
//! the entity set's schema, then `eval` per entity (property names in $filter are
//! case-insensitive in Graph; entities are keyed by canonical name).
//!
//! Errors carry Graph's error code and a message in the words Graph's own OData
//! parser uses, naming what was wrong and where.

pub mod check;
pub mod eval;
pub mod filter;
pub mod path;
pub mod query;
pub mod search;

pub use check::{canonicalize, check_filter, EdmType, FilterOp, FilterSchema, QueryClass, Support};
pub use eval::{eval, Resolve};
pub use filter::parse_filter;
pub use path::parse_path;
pub use query::{parse_query, SelectList};
pub use search::parse_search;

use std::borrow::Cow;

use smallvec::SmallVec;
use time::OffsetDateTime;
use uuid::Uuid;

/// Which of Graph's error codes a failure maps to.
///
/// Graph's gateway and OData layer answer with bare codes; the directory service
/// behind it answers with `Request_`-prefixed ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// `BadRequest`: syntax errors, unknown segments, unknown properties.
    BadRequest,
    /// `Request_BadRequest`: the directory refused a valid query.
    RequestBadRequest,
    /// `Request_UnsupportedQuery`: a well-formed query the directory cannot run.
    UnsupportedQuery,
}

impl ErrorCode {
    /// The `error.code` string on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "BadRequest",
            ErrorCode::RequestBadRequest => "Request_BadRequest",
            ErrorCode::UnsupportedQuery => "Request_UnsupportedQuery",
        }
    }
}

/// A refusal from the OData engine, always a 400 on the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ODataError {
    pub code: ErrorCode,
    pub message: String,
}

impl ODataError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        ODataError { code: ErrorCode::BadRequest, message: message.into() }
    }
    pub fn unsupported(message: impl Into<String>) -> Self {
        ODataError { code: ErrorCode::UnsupportedQuery, message: message.into() }
    }
    pub fn request_bad_request(message: impl Into<String>) -> Self {
        ODataError { code: ErrorCode::RequestBadRequest, message: message.into() }
    }
}

// ---------------------------------------------------------------- path

/// A parsed resource path, segment by segment, without any knowledge of the
/// entity model: whether `users/abc` names a key or a navigation property is the
/// router's call, not the parser's.
///
/// Segments borrow the request's path unless percent-decoding changed them, and
/// the first few live inline: most paths (`users/{id}`) allocate nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct ODataPath<'p> {
    segments: SmallVec<[Segment<'p>; 4]>,
}

impl<'p> ODataPath<'p> {
    /// The segments in path order.
    pub fn segments(&self) -> &[Segment<'p>] {
        &self.segments
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Segment<'p> {
    /// A plain segment, percent-decoded: an entity set, navigation property,
    /// key value (`users/{id}`, `users/{upn}`) or bound action (`addPassword`).
    Identifier(Cow<'p, str>),
    /// Parenthesised arguments that followed the previous identifier in the same
    /// segment: `applications(appId='…')`, `users('…')`, `delta()` (empty).
    Parens(Vec<KeyArg>),
    /// A type cast such as `microsoft.graph.user` (only the `microsoft.graph.`
    /// namespace counts: UPNs contain dots too).
    Cast(Cow<'p, str>),
    /// `$count`
    Count,
    /// `$ref`
    Ref,
    /// `$value`
    Value,
    /// `$batch`
    Batch,
    /// `$metadata`
    Metadata,
}

/// One argument inside parentheses: `'abc'` (unnamed) or `appId='abc'` (named).
#[derive(Debug, Clone, PartialEq)]
pub struct KeyArg {
    pub name: Option<String>,
    pub value: Literal,
}

// ---------------------------------------------------------------- query options

/// The system query options of one request, parsed and syntax-checked. Bounds that
/// depend on the entity set (`$top` ≤ 999 for users, say) are the handler's call.
///
/// `'q` is the request's query string: `$select` and `raw` borrow it rather than
/// copy it, since every read with `$select` parses one.
#[derive(Debug, Clone, Default)]
pub struct QueryOptions<'q> {
    pub select: Option<SelectList<'q>>,
    pub filter: Option<Expr>,
    pub top: Option<u64>,
    pub skip: Option<u64>,
    pub skiptoken: Option<String>,
    pub deltatoken: Option<String>,
    /// `$count=true|false`.
    pub count: Option<bool>,
    pub orderby: Vec<OrderBy>,
    pub search: Option<SearchExpr>,
    pub expand: Vec<ExpandItem>,
    /// The query string as sent (without the `?`), so a next link can carry the
    /// original options forward; [`QueryOptions::params`] decodes it.
    pub raw: &'q str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderBy {
    pub property: PropertyPath,
    pub descending: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandItem {
    pub property: String,
    /// `$expand=manager($select=id,displayName)`
    pub select: Option<Vec<String>>,
}

// ---------------------------------------------------------------- $filter

/// A property path inside a filter: `displayName`, `assignedLicenses/skuId`, or
/// (inside a lambda) `p/skuId` where `p` is the range variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyPath(pub Vec<String>);

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    Guid(Uuid),
    DateTime(OffsetDateTime),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringFunction {
    StartsWith,
    EndsWith,
    Contains,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LambdaKind {
    Any,
    All,
}

/// Something a comparison or function compares: a property or a literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Property(PropertyPath),
    Literal(Literal),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Compare {
        op: CompareOp,
        left: Operand,
        right: Operand,
    },
    /// `prop in ('a', 'b')`
    In {
        operand: Operand,
        values: Vec<Literal>,
    },
    /// `startswith(prop, 'x')`; the function name is matched case-insensitively.
    Function {
        function: StringFunction,
        target: Operand,
        argument: Operand,
    },
    /// `proxyAddresses/any(p: startswith(p, 'smtp:'))`; `predicate` is `None` for
    /// the argument-less `any()`.
    Lambda {
        kind: LambdaKind,
        collection: PropertyPath,
        variable: String,
        predicate: Option<Box<Expr>>,
    },
    /// A bare boolean literal or property used as a predicate (`accountEnabled`).
    Value(Operand),
}

// ---------------------------------------------------------------- $search

/// `$search="displayName:mir" OR "mail:mira"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchExpr {
    Term { property: Option<String>, text: String },
    And(Box<SearchExpr>, Box<SearchExpr>),
    Or(Box<SearchExpr>, Box<SearchExpr>),
}
