//! A typed filter and one entity → whether the entity passes.
//!
//! The checker has already matched literals to property types, so a mismatch
//! here means odd data, and the clause is simply false: eval never panics.
//! String comparison ignores case, as the directory does.

use std::cmp::Ordering;

use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use super::filter::lexer::parse_instant;
use super::{CompareOp, Expr, LambdaKind, Literal, Operand, PropertyPath, StringFunction};

/// Read access to one entity's properties, by canonical name.
pub trait Resolve {
    /// The property's JSON value, or `None` when the entity has no such property
    /// (treated like JSON `null`).
    fn property(&self, name: &str) -> Option<&Value>;
}

impl Resolve for serde_json::Map<String, Value> {
    fn property(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

/// A JSON object resolves its members; any other JSON value has no properties.
impl Resolve for Value {
    fn property(&self, name: &str) -> Option<&Value> {
        self.as_object()?.get(name)
    }
}

/// Whether `entity` satisfies `expr`.
///
/// Property names are looked up as written in `expr`, so run it through
/// [`check::canonicalize`](super::check::canonicalize) first; members of nested
/// objects also match ignoring ASCII case.
pub fn eval(expr: &Expr, entity: &dyn Resolve) -> bool {
    Evaluator { entity, scopes: Vec::new() }.eval(expr)
}

struct Evaluator<'e> {
    entity: &'e dyn Resolve,
    /// Range variables bound by enclosing lambdas, innermost last.
    scopes: Vec<(&'e str, &'e Value)>,
}

/// A comparable value, from JSON or from a literal.
#[derive(Debug)]
enum Scalar<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
    Guid(Uuid),
    Instant(OffsetDateTime),
    /// Arrays and objects: comparable with nothing.
    Other,
}

impl<'e> Evaluator<'e> {
    fn eval(&mut self, expr: &'e Expr) -> bool {
        match expr {
            Expr::And(a, b) => self.eval(a) && self.eval(b),
            Expr::Or(a, b) => self.eval(a) || self.eval(b),
            Expr::Not(inner) => !self.eval(inner),
            Expr::Compare { op, left, right } => {
                let (l, r) = (self.scalar(left), self.scalar(right));
                match op {
                    CompareOp::Eq => equal(&l, &r) == Some(true),
                    CompareOp::Ne => equal(&l, &r) == Some(false),
                    CompareOp::Gt => order(&l, &r) == Some(Ordering::Greater),
                    CompareOp::Ge => {
                        matches!(order(&l, &r), Some(Ordering::Greater | Ordering::Equal))
                    }
                    CompareOp::Lt => order(&l, &r) == Some(Ordering::Less),
                    CompareOp::Le => {
                        matches!(order(&l, &r), Some(Ordering::Less | Ordering::Equal))
                    }
                }
            }
            Expr::In { operand, values } => {
                let l = self.scalar(operand);
                values.iter().any(|v| equal(&l, &literal_scalar(v)) == Some(true))
            }
            Expr::Function { function, target, argument } => {
                let (Scalar::Str(t), Scalar::Str(a)) = (self.scalar(target), self.scalar(argument)) else {
                    return false;
                };
                match_ignore_case(*function, t, a)
            }
            Expr::Lambda { kind, collection, variable, predicate } => {
                let Some(Value::Array(items)) = self.resolve(collection) else {
                    return false;
                };
                let Some(predicate) = predicate else {
                    return !items.is_empty();
                };
                let mut test = |item: &'e Value| {
                    self.scopes.push((variable.as_str(), item));
                    let verdict = self.eval(predicate);
                    self.scopes.pop();
                    verdict
                };
                match kind {
                    LambdaKind::Any => items.iter().any(&mut test),
                    LambdaKind::All => items.iter().all(&mut test),
                }
            }
            Expr::Value(Operand::Literal(Literal::Bool(b))) => *b,
            Expr::Value(Operand::Property(path)) => {
                matches!(self.resolve(path), Some(Value::Bool(true)))
            }
            Expr::Value(Operand::Literal(_)) => false,
        }
    }

    /// `[var, member…]` starts at the innermost element bound to `var`; anything
    /// else starts at the entity's property. Members walk JSON objects.
    fn resolve(&self, path: &PropertyPath) -> Option<&'e Value> {
        let (first, rest) = path.0.split_first()?;
        let bound = self.scopes.iter().rev().find(|(v, _)| v == first).map(|(_, value)| *value);
        let mut value = match bound {
            Some(value) => value,
            None => self.entity.property(first)?,
        };
        for member in rest {
            let Value::Object(map) = value else {
                return None;
            };
            value = match map.get(member) {
                Some(v) => v,
                None => map.iter().find(|(k, _)| k.eq_ignore_ascii_case(member)).map(|(_, v)| v)?,
            };
        }
        Some(value)
    }

    fn scalar(&self, operand: &'e Operand) -> Scalar<'e> {
        match operand {
            Operand::Literal(l) => literal_scalar(l),
            Operand::Property(path) => match self.resolve(path) {
                None | Some(Value::Null) => Scalar::Null,
                Some(Value::Bool(b)) => Scalar::Bool(*b),
                Some(Value::Number(n)) => match n.as_i64() {
                    Some(i) => Scalar::Int(i),
                    None => n.as_f64().map_or(Scalar::Other, Scalar::Float),
                },
                Some(Value::String(s)) => Scalar::Str(s),
                Some(Value::Array(_) | Value::Object(_)) => Scalar::Other,
            },
        }
    }
}

fn literal_scalar(literal: &Literal) -> Scalar<'_> {
    match literal {
        Literal::Null => Scalar::Null,
        Literal::Bool(b) => Scalar::Bool(*b),
        Literal::Int(i) => Scalar::Int(*i),
        Literal::Float(f) => Scalar::Float(*f),
        Literal::String(s) => Scalar::Str(s),
        Literal::Guid(g) => Scalar::Guid(*g),
        Literal::DateTime(t) => Scalar::Instant(*t),
    }
}

/// `Some(true|false)` when the two are comparable for equality; null equals only
/// null, so `eq null` is true for a missing value and `ne 'x'` true for it too.
fn equal(a: &Scalar<'_>, b: &Scalar<'_>) -> Option<bool> {
    match (a, b) {
        (Scalar::Null, Scalar::Null) => Some(true),
        (Scalar::Null, Scalar::Other) | (Scalar::Other, Scalar::Null) => None,
        (Scalar::Null, _) | (_, Scalar::Null) => Some(false),
        _ => order(a, b).map(|o| o == Ordering::Equal),
    }
}

/// The order of two non-null values of compatible types, `None` otherwise.
fn order(a: &Scalar<'_>, b: &Scalar<'_>) -> Option<Ordering> {
    use Scalar::*;
    match (a, b) {
        (Bool(x), Bool(y)) => Some(x.cmp(y)),
        (Int(x), Int(y)) => Some(x.cmp(y)),
        (Int(x), Float(y)) => (*x as f64).partial_cmp(y),
        (Float(x), Int(y)) => x.partial_cmp(&(*y as f64)),
        (Float(x), Float(y)) => x.partial_cmp(y),
        (Str(x), Str(y)) => Some(cmp_ignore_case(x, y)),
        (Guid(x), Guid(y)) => Some(x.cmp(y)),
        // GUIDs are stored as JSON strings; a quoted GUID literal is a string too.
        (Str(s), Guid(g)) => Uuid::parse_str(s).ok().map(|u| u.cmp(g)),
        (Guid(g), Str(s)) => Uuid::parse_str(s).ok().map(|u| g.cmp(&u)),
        (Instant(x), Instant(y)) => Some(x.cmp(y)),
        // Instants are stored as ISO 8601 text; compare them as instants, not text,
        // so `…+01:00` and `…Z` order correctly.
        (Str(s), Instant(t)) => parse_instant(s).map(|u| u.cmp(t)),
        (Instant(t), Str(s)) => parse_instant(s).map(|u| t.cmp(&u)),
        _ => None,
    }
}

/// Case-insensitive ordering. Directory values are almost always ASCII, and a
/// filter runs once per record, so the ASCII path must not allocate; anything
/// else falls back to full Unicode lowercasing.
fn cmp_ignore_case(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        a.bytes().map(|c| c.to_ascii_lowercase()).cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
    } else {
        a.to_lowercase().cmp(&b.to_lowercase())
    }
}

/// `startswith`/`endswith`/`contains` without regard to case (see
/// [`cmp_ignore_case`] for why the ASCII path is separate).
fn match_ignore_case(function: StringFunction, target: &str, argument: &str) -> bool {
    if target.is_ascii() && argument.is_ascii() {
        let (t, a) = (target.as_bytes(), argument.as_bytes());
        return match function {
            StringFunction::StartsWith => t.len() >= a.len() && t[..a.len()].eq_ignore_ascii_case(a),
            StringFunction::EndsWith => t.len() >= a.len() && t[t.len() - a.len()..].eq_ignore_ascii_case(a),
            StringFunction::Contains => a.is_empty() || t.windows(a.len()).any(|w| w.eq_ignore_ascii_case(a)),
        };
    }
    let (t, a) = (target.to_lowercase(), argument.to_lowercase());
    match function {
        StringFunction::StartsWith => t.starts_with(&a),
        StringFunction::EndsWith => t.ends_with(&a),
        StringFunction::Contains => t.contains(&a),
    }
}

#[cfg(test)]
mod tests;
