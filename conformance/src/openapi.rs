//! The Graph v1.0 slice (`data/graph-v1.0-entra-slice.openapi.json`, copied from
//! `shared/reference/openapi/`; see `conformance/README.md`) as a lookup: request method and
//! path → the schema its response body must match.
//!
//! The identity platform's token endpoint is not in Graph's OpenAPI, so its two shapes are
//! written here from `graph-wire.md` §1.1 ("Body has exactly these fields for client
//! credentials"; the AADSTS error envelope).

use serde_json::{json, Value};

use crate::schema::{Schemas, Violation};

const SLICE: &str = include_str!("../data/graph-v1.0-entra-slice.openapi.json");

/// Which schema a response was checked against, and what did not match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// Matched `schema` (the operation's template and response key, e.g.
    /// `GET /users/{user-id} 200`).
    Valid { operation: String },
    /// Did not match.
    Invalid { operation: String, violations: Vec<Violation> },
    /// The slice has no schema for this response (an operation outside the slice, or a body
    /// that is not JSON by contract, such as `$count`).
    Unchecked,
}

/// The slice's operations plus the token endpoint's shapes.
#[derive(Debug)]
pub struct Spec {
    schemas: Schemas,
    operations: Vec<Operation>,
    token_success: Value,
    token_error: Value,
}

#[derive(Debug)]
struct Operation {
    method: String,
    template: String,
    segments: Vec<String>,
    responses: serde_json::Map<String, Value>,
}

impl Spec {
    /// The bundled slice.
    ///
    /// # Panics
    ///
    /// Never at run time in practice: the slice is compiled in and a unit test parses it.
    pub fn bundled() -> Self {
        let document: Value =
            serde_json::from_str(SLICE).expect("the bundled OpenAPI slice is valid JSON (unit-tested)");
        Self::from_document(&document)
    }

    /// Operations and schemas of an OpenAPI document.
    pub fn from_document(document: &Value) -> Self {
        let mut operations = Vec::new();
        for (template, item) in document.get("paths").and_then(Value::as_object).into_iter().flatten() {
            for (method, op) in item.as_object().into_iter().flatten() {
                let Some(responses) = op.get("responses").and_then(Value::as_object) else { continue };
                operations.push(Operation {
                    method: method.to_ascii_uppercase(),
                    template: template.clone(),
                    segments: split(template),
                    responses: responses.clone(),
                });
            }
        }
        Self {
            schemas: Schemas::new(document),
            operations,
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
            return self.outcome(name.to_owned(), schema, body);
        }
        Checked::Unchecked
    }

    fn check_graph(&self, method: &str, path: &str, status: u16, body: &Value) -> Checked {
        let operation = self.find(method, path);
        let name = |key: &str| match operation {
            Some(op) => format!("{} {} {key}", op.method, op.template),
            None => format!("{method} {path} {key}"),
        };
        if status >= 400 {
            // Every Graph failure carries the OData error envelope, in or outside the slice.
            let schema = json!({"$ref": "#/components/schemas/microsoft.graph.ODataErrors.ODataError"});
            return self.outcome(name(&format!("{status} (error envelope)")), &schema, body);
        }
        let Some(op) = operation else { return Checked::Unchecked };
        let exact = status.to_string();
        let range = format!("{}XX", status / 100);
        let Some((key, response)) =
            [exact.as_str(), range.as_str(), "default"].into_iter().find_map(|k| op.responses.get(k).map(|r| (k, r)))
        else {
            return Checked::Invalid {
                operation: format!("{} {}", op.method, op.template),
                violations: vec![Violation {
                    path: "$".into(),
                    message: format!(
                        "status {status} is not a documented response (documented: {})",
                        op.responses.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                }],
            };
        };
        match response.pointer("/content/application~1json/schema") {
            Some(schema) => self.outcome(name(key), schema, body),
            None => Checked::Unchecked,
        }
    }

    fn outcome(&self, operation: String, schema: &Value, body: &Value) -> Checked {
        let violations = self.schemas.validate(schema, body);
        if violations.is_empty() {
            Checked::Valid { operation }
        } else {
            Checked::Invalid { operation, violations }
        }
    }

    /// The best-matching operation: most literal segments wins, so
    /// `deletedItems/microsoft.graph.user` beats `deletedItems/{directoryObject-id}`.
    fn find(&self, method: &str, path: &str) -> Option<&Operation> {
        let request = split(path);
        self.operations
            .iter()
            .filter(|op| op.method == method && op.segments.len() == request.len())
            .filter_map(|op| {
                let mut literal = 0;
                for (t, r) in op.segments.iter().zip(&request) {
                    match segment_match(t, r) {
                        Some(true) => literal += 1,
                        Some(false) => {}
                        None => return None,
                    }
                }
                Some((literal, op))
            })
            .max_by_key(|(literal, _)| *literal)
            .map(|(_, op)| op)
    }
}

/// Path segments, lower-cased (Graph paths are case-insensitive) with a trailing `()` dropped
/// (`delta()` and `delta` are the same function call).
fn split(path: &str) -> Vec<String> {
    path.split('/').filter(|s| !s.is_empty()).map(|s| s.strip_suffix("()").unwrap_or(s).to_ascii_lowercase()).collect()
}

/// `Some(true)` literal match, `Some(false)` parameter match, `None` no match.
fn segment_match(template: &str, request: &str) -> Option<bool> {
    let Some(open) = template.find('{') else { return (template == request).then_some(true) };
    let close = template.rfind('}')?;
    let (prefix, suffix) = (&template[..open], &template[close + 1..]);
    let request = percent_decode(request);
    (request.len() > prefix.len() + suffix.len() && request.starts_with(prefix) && request.ends_with(suffix))
        .then_some(false)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Some(b) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_slice_parses_and_matches_templates_by_literal_segments() {
        let spec = Spec::bundled();
        assert_eq!(spec.find("GET", "/users/abc").map(|o| o.template.as_str()), Some("/users/{user-id}"));
        assert_eq!(
            spec.find("GET", "/directory/deletedItems/microsoft.graph.user").map(|o| o.template.as_str()),
            Some("/directory/deletedItems/microsoft.graph.user")
        );
        assert_eq!(
            spec.find("GET", "/applications(appId='3c9e8a71-2b4d-4f60-a8e5-7d1c0b9e2f34')")
                .map(|o| o.template.as_str()),
            Some("/applications(appId='{appId}')")
        );
        assert_eq!(spec.find("GET", "/users/delta").map(|o| o.template.as_str()), Some("/users/delta()"));
        assert!(spec.find("GET", "/nosuchthing").is_none());
    }

    #[test]
    fn an_error_body_is_checked_against_the_odata_envelope_on_any_path() {
        let spec = Spec::bundled();
        let body = json!({"error": {"code": "X", "message": "m", "innerError": {"date": "d", "request-id": "r"}}});
        assert!(matches!(spec.check("GET", "/v1.0/nosuchthing", 400, &body), Checked::Valid { .. }));
        let bad = json!({"error": {"code": 400, "message": "m"}});
        let Checked::Invalid { violations, .. } = spec.check("GET", "/v1.0/users", 400, &bad) else { panic!("valid") };
        assert_eq!(violations[0].to_string(), "$.error.code: expected string, got number 400");
    }
}
