//! A parsed filter + the entity set's schema → whether the directory serves it by
//! default, only as an advanced query, or refuses it (and with which words).
//!
//! Type errors are the OData layer's (`BadRequest`, "Invalid filter clause: …");
//! operator/property refusals are the directory's (`Request_UnsupportedQuery`),
//! matching where Graph raises each.

use super::{CompareOp, Expr, LambdaKind, Literal, ODataError, Operand, PropertyPath, StringFunction};

/// The EDM type of a property, as the checker needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EdmType {
    String,
    Boolean,
    Int32,
    Int64,
    Double,
    Guid,
    DateTimeOffset,
    /// A complex type by its wire name, e.g. `microsoft.graph.assignedLicense`.
    Complex(String),
    Collection(Box<EdmType>),
}

impl EdmType {
    /// The name Graph's messages use: `Edm.String`, `Collection(Edm.String)`, …
    pub fn wire_name(&self) -> String {
        match self {
            EdmType::String => "Edm.String".into(),
            EdmType::Boolean => "Edm.Boolean".into(),
            EdmType::Int32 => "Edm.Int32".into(),
            EdmType::Int64 => "Edm.Int64".into(),
            EdmType::Double => "Edm.Double".into(),
            EdmType::Guid => "Edm.Guid".into(),
            EdmType::DateTimeOffset => "Edm.DateTimeOffset".into(),
            EdmType::Complex(name) => name.clone(),
            EdmType::Collection(inner) => format!("Collection({})", inner.wire_name()),
        }
    }
}

/// The operator classes the directory's support table distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterOp {
    Eq,
    Ne,
    Not,
    /// `gt`, `ge`, `lt`, `le`.
    Range,
    In,
    StartsWith,
    EndsWith,
    Contains,
    EqNull,
    NeNull,
    /// The argument-less `coll/any()`.
    Any,
    /// Any `coll/all(…)`, asked before its inner operators.
    All,
}

/// How the directory serves one operator on one property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    Default,
    Advanced,
    Unsupported,
}

/// Whether a filter runs as a plain query or needs an advanced query
/// (`ConsistencyLevel: eventual` and `$count=true`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum QueryClass {
    Default,
    Advanced,
}

/// What the checker needs to know about one entity type.
pub trait FilterSchema {
    /// Wire type name for messages, e.g. `microsoft.graph.user`.
    fn type_name(&self) -> &str;
    /// The short resource name for messages, e.g. `User`.
    fn resource_name(&self) -> &str;
    /// The canonical name and type of a top-level property, matched ignoring case
    /// as Graph does; `None` if there is no such property.
    fn property(&self, name: &str) -> Option<(&str, EdmType)>;
    /// The canonical name and type of a member of a complex type.
    fn member(&self, complex_type: &str, name: &str) -> Option<(&str, EdmType)>;
    /// How `op` on the canonical top-level `property` is served. Inside a lambda the
    /// property is the collection and the op the inner operator.
    fn support(&self, property: &str, op: FilterOp) -> Support;
}

/// Type-checks `expr` against `schema` and classifies it.
///
/// # Errors
/// `BadRequest` for an unknown property, a literal of the wrong type, a string
/// function on a non-string, a lambda on a non-collection or a non-boolean
/// filter; `Request_UnsupportedQuery` for an operator the schema does not
/// support on a property, a comparison between two properties or two literals.
pub fn check_filter(expr: &Expr, schema: &dyn FilterSchema) -> Result<QueryClass, ODataError> {
    Checker { schema, scopes: Vec::new() }.check(expr, false)
}

/// `expr` with every property path spelled the way the schema spells it
/// (`DisplayName` → `displayName`), for [`eval`](super::eval::eval), whose
/// entities are keyed by canonical name. Unknown names are left as written.
pub fn canonicalize(expr: &Expr, schema: &dyn FilterSchema) -> Expr {
    Checker { schema, scopes: Vec::new() }.canonical(expr)
}

struct Checker<'s> {
    schema: &'s dyn FilterSchema,
    /// Range variables of enclosing lambdas: name, element type, collection property.
    scopes: Vec<(String, EdmType, String)>,
}

/// A resolved property path: the top-level property whose support row applies,
/// and the type at the end of the path.
struct Resolved {
    support_key: String,
    ty: EdmType,
    canonical: Vec<String>,
}

impl Checker<'_> {
    fn check(&mut self, expr: &Expr, negated: bool) -> Result<QueryClass, ODataError> {
        match expr {
            Expr::And(a, b) | Expr::Or(a, b) => Ok(self.check(a, negated)?.max(self.check(b, negated)?)),
            Expr::Not(inner) => self.check(inner, true),
            Expr::Compare { op, left, right } => self.check_compare(*op, left, right, negated),
            Expr::In { operand, values } => {
                let Operand::Property(path) = operand else {
                    return Err(unsupported_query());
                };
                let resolved = self.resolve(path)?;
                for value in values {
                    type_compatible(&resolved.ty, value, CompareOp::Eq, false)?;
                }
                self.classify(&resolved.support_key, FilterOp::In, negated)
            }
            Expr::Function { function, target, argument } => {
                let name = match function {
                    StringFunction::StartsWith => "startswith",
                    StringFunction::EndsWith => "endswith",
                    StringFunction::Contains => "contains",
                };
                let no_signature = || {
                    ODataError::bad_request(format!(
                        "Invalid filter clause: No function signature for the function with name '{name}' matches the specified arguments. The function signatures considered are: {name}(Edm.String Nullable=true, Edm.String Nullable=true)."
                    ))
                };
                let (Operand::Property(path), Operand::Literal(arg)) = (target, argument) else {
                    return match (target, argument) {
                        (Operand::Literal(Literal::String(_)), Operand::Property(_)) => Err(unsupported_query()),
                        _ => Err(no_signature()),
                    };
                };
                let resolved = self.resolve(path)?;
                if resolved.ty != EdmType::String || !matches!(arg, Literal::String(_) | Literal::Null) {
                    return Err(no_signature());
                }
                let op = match function {
                    StringFunction::StartsWith => FilterOp::StartsWith,
                    StringFunction::EndsWith => FilterOp::EndsWith,
                    StringFunction::Contains => FilterOp::Contains,
                };
                self.classify(&resolved.support_key, op, negated)
            }
            Expr::Lambda { kind, collection, variable, predicate } => {
                let resolved = self.resolve(collection)?;
                let EdmType::Collection(element) = resolved.ty else {
                    return Err(ODataError::bad_request(
                        "Invalid filter clause: The parent value for the Any/All query expression must be a collection.",
                    ));
                };
                let mut class = QueryClass::Default;
                if *kind == LambdaKind::All {
                    class = class.max(self.classify(&resolved.support_key, FilterOp::All, negated)?);
                }
                let Some(predicate) = predicate else {
                    return Ok(class.max(self.classify(&resolved.support_key, FilterOp::Any, negated)?));
                };
                self.scopes.push((variable.clone(), *element, resolved.support_key));
                let inner = self.check(predicate, negated);
                self.scopes.pop();
                Ok(class.max(inner?))
            }
            Expr::Value(Operand::Property(path)) => {
                let resolved = self.resolve(path)?;
                if resolved.ty != EdmType::Boolean {
                    return Err(not_boolean());
                }
                self.classify(&resolved.support_key, FilterOp::Eq, negated)
            }
            Expr::Value(Operand::Literal(Literal::Bool(_))) => Err(unsupported_query()),
            Expr::Value(Operand::Literal(_)) => Err(not_boolean()),
        }
    }

    fn check_compare(
        &mut self,
        op: CompareOp,
        left: &Operand,
        right: &Operand,
        negated: bool,
    ) -> Result<QueryClass, ODataError> {
        let (path, literal, property_first) = match (left, right) {
            (Operand::Property(p), Operand::Literal(l)) => (p, l, true),
            (Operand::Literal(l), Operand::Property(p)) => (p, l, false),
            (Operand::Property(a), Operand::Property(b)) => {
                // Resolve both so an unknown name is reported before the refusal.
                let first = self.resolve(a)?;
                self.resolve(b)?;
                return Err(unsupported_for(&first.support_key, self.schema.resource_name()));
            }
            (Operand::Literal(_), Operand::Literal(_)) => return Err(unsupported_query()),
        };
        let resolved = self.resolve(path)?;
        type_compatible(&resolved.ty, literal, op, !property_first)?;
        let filter_op = match (op, literal) {
            (CompareOp::Eq, Literal::Null) => FilterOp::EqNull,
            (CompareOp::Ne, Literal::Null) => FilterOp::NeNull,
            (CompareOp::Eq, _) => FilterOp::Eq,
            (CompareOp::Ne, _) => FilterOp::Ne,
            _ => FilterOp::Range,
        };
        self.classify(&resolved.support_key, filter_op, negated)
    }

    /// Asks the schema about `op` (and about `not` too under a negation); the
    /// stricter answer wins.
    fn classify(&self, property: &str, op: FilterOp, negated: bool) -> Result<QueryClass, ODataError> {
        let mut answers = vec![self.schema.support(property, op)];
        if negated {
            answers.push(self.schema.support(property, FilterOp::Not));
        }
        let mut class = QueryClass::Default;
        for answer in answers {
            match answer {
                Support::Default => {}
                Support::Advanced => class = QueryClass::Advanced,
                Support::Unsupported => return Err(unsupported_for(property, self.schema.resource_name())),
            }
        }
        Ok(class)
    }

    fn resolve(&self, path: &PropertyPath) -> Result<Resolved, ODataError> {
        let Some((first, rest)) = path.0.split_first() else {
            return Err(ODataError::bad_request("Invalid filter clause: empty property path."));
        };
        let bound = self.scopes.iter().rev().find(|(v, _, _)| v == first);
        let (mut ty, support_key, mut canonical) = match bound {
            Some((v, ty, collection)) => (ty.clone(), collection.clone(), vec![v.clone()]),
            None => {
                let (name, ty) = self.schema.property(first).ok_or_else(|| {
                    ODataError::bad_request(format!(
                        "Could not find a property named '{first}' on type '{}'.",
                        self.schema.type_name()
                    ))
                })?;
                (ty, name.to_owned(), vec![name.to_owned()])
            }
        };
        for member in rest {
            let EdmType::Complex(complex) = &ty else {
                return Err(ODataError::bad_request(format!(
                    "Could not find a property named '{member}' on type '{}'.",
                    ty.wire_name()
                )));
            };
            let (name, member_ty) = self.schema.member(complex, member).ok_or_else(|| {
                ODataError::bad_request(format!("Could not find a property named '{member}' on type '{complex}'."))
            })?;
            canonical.push(name.to_owned());
            ty = member_ty;
        }
        Ok(Resolved { support_key, ty, canonical })
    }

    fn canonical(&mut self, expr: &Expr) -> Expr {
        let operand = |this: &mut Self, o: &Operand| match o {
            Operand::Property(p) => Operand::Property(this.canonical_path(p)),
            other => other.clone(),
        };
        match expr {
            Expr::And(a, b) => Expr::And(Box::new(self.canonical(a)), Box::new(self.canonical(b))),
            Expr::Or(a, b) => Expr::Or(Box::new(self.canonical(a)), Box::new(self.canonical(b))),
            Expr::Not(inner) => Expr::Not(Box::new(self.canonical(inner))),
            Expr::Compare { op, left, right } => {
                Expr::Compare { op: *op, left: operand(self, left), right: operand(self, right) }
            }
            Expr::In { operand: o, values } => Expr::In { operand: operand(self, o), values: values.clone() },
            Expr::Function { function, target, argument } => {
                Expr::Function { function: *function, target: operand(self, target), argument: operand(self, argument) }
            }
            Expr::Lambda { kind, collection, variable, predicate } => {
                let resolved = self.resolve(collection).ok();
                let collection = self.canonical_path(collection);
                let predicate = predicate.as_ref().map(|p| {
                    let element = match resolved {
                        Some(Resolved { ty: EdmType::Collection(element), support_key, .. }) => (*element, support_key),
                        _ => (EdmType::String, String::new()),
                    };
                    self.scopes.push((variable.clone(), element.0, element.1));
                    let p = self.canonical(p);
                    self.scopes.pop();
                    Box::new(p)
                });
                Expr::Lambda { kind: *kind, collection, variable: variable.clone(), predicate }
            }
            Expr::Value(o) => Expr::Value(operand(self, o)),
        }
    }

    fn canonical_path(&self, path: &PropertyPath) -> PropertyPath {
        match self.resolve(path) {
            Ok(resolved) => PropertyPath(resolved.canonical),
            Err(_) => path.clone(),
        }
    }
}

/// Whether `literal` may stand beside a property of type `ty`. Graph accepts a
/// quoted GUID against an `Edm.Guid` property (`id eq '…'`), and null anywhere.
fn type_compatible(ty: &EdmType, literal: &Literal, op: CompareOp, literal_first: bool) -> Result<(), ODataError> {
    let ok = match (ty, literal) {
        (_, Literal::Null) => true,
        (EdmType::String, Literal::String(_)) => true,
        (EdmType::Boolean, Literal::Bool(_)) => true,
        (EdmType::Int32 | EdmType::Int64 | EdmType::Double, Literal::Int(_) | Literal::Float(_)) => true,
        (EdmType::Guid, Literal::Guid(_)) => true,
        (EdmType::Guid, Literal::String(s)) => uuid::Uuid::parse_str(s).is_ok(),
        (EdmType::DateTimeOffset, Literal::DateTime(_)) => true,
        _ => false,
    };
    if ok {
        return Ok(());
    }
    let (property_type, literal_type) = (ty.wire_name(), literal_type(literal));
    let (l, r) = if literal_first { (literal_type, property_type) } else { (property_type, literal_type) };
    let kind = match op {
        CompareOp::Eq => "Equal",
        CompareOp::Ne => "NotEqual",
        CompareOp::Gt => "GreaterThan",
        CompareOp::Ge => "GreaterThanOrEqual",
        CompareOp::Lt => "LessThan",
        CompareOp::Le => "LessThanOrEqual",
    };
    Err(ODataError::bad_request(format!(
        "Invalid filter clause: A binary operator with incompatible types was detected. Found operand types '{l}' and '{r}' for operator kind '{kind}'."
    )))
}

fn literal_type(literal: &Literal) -> String {
    match literal {
        Literal::Null => "null",
        Literal::Bool(_) => "Edm.Boolean",
        Literal::Int(i) if i32::try_from(*i).is_ok() => "Edm.Int32",
        Literal::Int(_) => "Edm.Int64",
        Literal::Float(_) => "Edm.Double",
        Literal::String(_) => "Edm.String",
        Literal::Guid(_) => "Edm.Guid",
        Literal::DateTime(_) => "Edm.DateTimeOffset",
    }
    .to_owned()
}

fn unsupported_for(property: &str, resource: &str) -> ODataError {
    ODataError::unsupported(format!(
        "Unsupported or invalid query filter clause specified for property '{property}' of resource '{resource}'."
    ))
}

fn unsupported_query() -> ODataError {
    ODataError::unsupported("Unsupported Query.")
}

fn not_boolean() -> ODataError {
    ODataError::bad_request("Invalid filter clause: The $filter expression must evaluate to a single boolean value.")
}

#[cfg(test)]
mod tests;
