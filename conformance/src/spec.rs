//! Which shape a response must have, and the check: Graph bodies against Microsoft's CSDL
//! ([`crate::csdl`]), everything the CSDL does not describe against shapes written here from
//! the reference.
//!
//! - A Graph success body's type comes from the request path, resolved through the CSDL's
//!   entity container (entity sets, singletons, navigation properties, casts, bound actions and
//!   functions). When the path leaves the schema, the body's own `@odata.context` names it.
//!   When both name a type they must agree (one derives from the other).
//! - Graph's error envelope is not in the CSDL (Microsoft's OpenAPI conversion adds it), so it
//!   is written here from `graph-wire.md` §2.1: `error.code` and `error.message` strings,
//!   optional `target`, `details[]` and an open `innerError`.
//! - The identity platform's token endpoint is not Graph at all: its two shapes come from
//!   `graph-wire.md` §1.1 ("Body has exactly these fields for client credentials"; the AADSTS
//!   error envelope).

use serde_json::{json, Value};

use crate::csdl::{self, Model};
use crate::schema::{Schemas, Violation};

/// Which schema a response was checked against, and what did not match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// Matched: what it was checked against, e.g. `GET /users/{…} → microsoft.graph.user`.
    Valid { operation: String },
    /// Did not match.
    Invalid { operation: String, violations: Vec<Violation> },
    /// Nothing says what this body must be (`$count` text, `$batch`, a path outside the schema
    /// without `@odata.context`).
    Unchecked,
}

/// The CSDL model plus the envelopes it does not describe.
#[derive(Debug)]
pub struct Spec {
    schemas: Schemas,
    error: Value,
    token_success: Value,
    token_error: Value,
}

impl Spec {
    /// The bundled CSDL and the reference's envelopes.
    pub fn bundled() -> Self {
        Self {
            schemas: Schemas::new(&json!({"components": {"schemas": {
                "error": {"type": "object", "additionalProperties": false, "required": ["error"],
                    "properties": {"error": {"type": "object", "additionalProperties": false,
                        "required": ["code", "message"],
                        "properties": {
                            "code": {"type": "string"}, "message": {"type": "string"},
                            "target": {"type": "string", "nullable": true},
                            "details": {"type": "array", "items": {"type": "object", "additionalProperties": true,
                                "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                                    "target": {"type": "string", "nullable": true}}}},
                            "innerError": {"type": "object", "additionalProperties": true,
                                "properties": {"date": {"type": "string"}, "request-id": {"type": "string"},
                                    "client-request-id": {"type": "string"}}}}}}}}}})),
            error: json!({"$ref": "#/components/schemas/error"}),
            token_success: json!({"type": "object", "additionalProperties": false,
                "required": ["token_type", "expires_in", "access_token"],
                "properties": {
                    "token_type": {"type": "string", "enum": ["Bearer"]},
                    "expires_in": {"type": "integer"}, "ext_expires_in": {"type": "integer"},
                    "access_token": {"type": "string"},
                    // Delegated grants (password, refresh) add these; client credentials never do.
                    "refresh_token": {"type": "string"}, "id_token": {"type": "string"},
                    "scope": {"type": "string"}, "client_info": {"type": "string"}}}),
            token_error: json!({"type": "object", "additionalProperties": true,
                "required": ["error", "error_description", "error_codes", "timestamp", "trace_id", "correlation_id"],
                "properties": {
                    "error": {"type": "string"}, "error_description": {"type": "string"},
                    "error_codes": {"type": "array", "items": {"type": "integer"}},
                    "timestamp": {"type": "string"}, "trace_id": {"type": "string", "format": "uuid"},
                    "correlation_id": {"type": "string", "format": "uuid"}, "error_uri": {"type": "string"}}}),
        }
    }

    /// The CSDL model the Graph bodies are checked against.
    pub fn model(&self) -> &'static Model {
        csdl::model()
    }

    /// Validates one response. `path` is the request path (no query); Graph paths start with
    /// `/v1.0`, anything else is treated as the identity platform.
    pub fn check(&self, method: &str, path: &str, status: u16, body: &Value) -> Checked {
        if let Some(graph_path) = path.strip_prefix("/v1.0") {
            return self.check_graph(method, graph_path, status, body);
        }
        if path.ends_with("/oauth2/v2.0/token") || path.ends_with("/oauth2/token") {
            let (name, schema) = if status == 200 {
                ("POST {tenant}/oauth2/v2.0/token 200 (graph-wire.md §1.1)", &self.token_success)
            } else {
                ("POST {tenant}/oauth2/v2.0/token error (graph-wire.md §1.1)", &self.token_error)
            };
            return outcome(name.to_owned(), self.schemas.validate(schema, body));
        }
        Checked::Unchecked
    }

    /// Checks a Graph body: errors against the envelope, successes against the CSDL.
    pub fn check_graph(&self, method: &str, path: &str, status: u16, body: &Value) -> Checked {
        if status >= 400 {
            // Every Graph failure carries the OData error envelope, wherever it comes from.
            let name = format!("{method} {path} {status} (error envelope, graph-wire.md §2.1)");
            return outcome(name, self.schemas.validate(&self.error, body));
        }
        if body.is_null() {
            return Checked::Unchecked;
        }
        if path.trim_end_matches('/').ends_with("$batch") {
            return self.check_batch(body);
        }
        let from_path = self.model().response_type(method, path);
        let context = body.get("@odata.context").and_then(Value::as_str);
        let from_context = context.and_then(|c| self.model().context_type(c));
        let Some(ty) = from_path.clone().or_else(|| from_context.clone()) else { return Checked::Unchecked };
        let mut violations = self.model().validate_body(&ty, body);
        if let (Some(c), None) = (context, &from_context) {
            violations.push(Violation {
                path: "$.@odata.context".into(),
                message: format!("{c:?} names nothing in the CSDL's entity container or types"),
            });
        }
        if let (Some(p), Some(c)) = (&from_path, &from_context) {
            // A primitive (`Collection(Edm.String)` from checkMemberGroups) has no lineage: the
            // same name is the only agreement.
            let agree = p.name == c.name
                || self.model().derives_from(&p.name, &c.name)
                || self.model().derives_from(&c.name, &p.name);
            if !agree || (p.collection != c.collection && !method.eq_ignore_ascii_case("POST")) {
                violations.push(Violation {
                    path: "$.@odata.context".into(),
                    message: format!(
                        "{:?} names {} where the request path answers {}",
                        context.unwrap_or_default(),
                        c.display(),
                        p.display()
                    ),
                });
            }
        }
        outcome(format!("{method} {path} → {} (CSDL)", ty.display()), violations)
    }

    /// A `$batch` answer: each inner body is checked by its own status and `@odata.context`
    /// (the proxy sees the answer, not which inner request it answers).
    fn check_batch(&self, body: &Value) -> Checked {
        let mut violations = Vec::new();
        let Some(responses) = body.get("responses").and_then(Value::as_array) else {
            return outcome(
                "POST /$batch (graph-wire.md §4)".into(),
                vec![Violation { path: "$".into(), message: "a $batch answer must carry 'responses'".into() }],
            );
        };
        for (i, r) in responses.iter().enumerate() {
            let status = r.get("status").and_then(Value::as_u64).unwrap_or(0);
            let Some(inner) = r.get("body").filter(|b| b.is_object()) else { continue };
            let found = if status >= 400 {
                self.schemas.validate(&self.error, inner)
            } else {
                match inner.get("@odata.context").and_then(Value::as_str).and_then(|c| self.model().context_type(c)) {
                    Some(ty) => self.model().validate_body(&ty, inner),
                    None => Vec::new(),
                }
            };
            violations.extend(found.into_iter().map(|v| Violation {
                path: v.path.replacen('$', &format!("$.responses[{i}].body"), 1),
                message: v.message,
            }));
        }
        outcome("POST /$batch → inner bodies (CSDL)".into(), violations)
    }
}

fn outcome(operation: String, violations: Vec<Violation>) -> Checked {
    if violations.is_empty() {
        Checked::Valid { operation }
    } else {
        Checked::Invalid { operation, violations }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_body_is_checked_against_the_odata_envelope_on_any_path() {
        let spec = Spec::bundled();
        let body = json!({"error": {"code": "X", "message": "m", "innerError": {"date": "d", "request-id": "r"}}});
        assert!(matches!(spec.check("GET", "/v1.0/nosuchthing", 400, &body), Checked::Valid { .. }));
        let bad = json!({"error": {"code": 400, "message": "m"}});
        let Checked::Invalid { violations, .. } = spec.check("GET", "/v1.0/users", 400, &bad) else { panic!("valid") };
        assert_eq!(violations[0].to_string(), "$.error.code: expected string, got number 400");
    }

    #[test]
    fn a_context_that_contradicts_the_path_is_reported() {
        let spec = Spec::bundled();
        let body = json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#groups/$entity", "id": "1"});
        let Checked::Invalid { violations, .. } = spec.check("GET", "/v1.0/users/1", 200, &body) else {
            panic!("valid")
        };
        assert!(violations[0]
            .message
            .contains("names microsoft.graph.group where the request path answers microsoft.graph.user"));
        let body = json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users/$entity", "id": "1"});
        assert!(matches!(spec.check("GET", "/v1.0/users/1", 200, &body), Checked::Valid { .. }));
        let body = json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#peoples/$entity", "id": "1"});
        let Checked::Invalid { violations, .. } = spec.check("GET", "/v1.0/users/1", 200, &body) else {
            panic!("valid")
        };
        assert!(violations[0].message.ends_with("names nothing in the CSDL's entity container or types"));
    }
}
