//! A small validator for an OpenAPI 3.0 subset: `type`, `format`, `nullable`, `required`,
//! `enum`, `$ref`, `allOf`, `anyOf`/`oneOf`, `items`, `properties` and `additionalProperties`.
//! Graph's own types are checked against the CSDL ([`crate::csdl`]); this checks the shapes the
//! CSDL does not describe (Graph's error envelope, the token endpoint's answers, see
//! [`crate::spec`]). No JSON-schema crate: these need a tenth of one, and a violation must name
//! its JSON path in words a reader of `graph-wire.md` understands.
//!
//! How strict it is about property names (the point of validating at all is that a misspelt or
//! mistyped property fails even where no assertion looks at it):
//!
//! - `additionalProperties: false`, or a complex type that says nothing (CSDL complex types are
//!   closed): unknown names fail.
//! - an entity type (`x-ms-entity`) with `additionalProperties: true`: Graph's directory entities
//!   are OData open types only for directory extensions, so unknown names fail unless they look
//!   like one (`extension_…`).
//! - `additionalProperties: true` on anything else (e.g. `innerError`): open.
//! - OData annotations (`@odata.context`, `members@odata.bind`, …) are allowed everywhere.
//!
//! An object carrying `"@odata.type": "#microsoft.graph.X"` is validated against
//! `microsoft.graph.X` when the slice has it, so mixed `directoryObject` lists are checked per
//! item.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::Value;

/// One place where a body does not match its schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON path into the body, e.g. `$.value[0].businessPhones`.
    pub path: String,
    /// What is wrong, e.g. `expected string, got number 3`.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// The component schemas of one OpenAPI document.
#[derive(Debug)]
pub struct Schemas {
    components: serde_json::Map<String, Value>,
}

/// Property names and rules of an object schema after following `$ref`s and merging `allOf`.
#[derive(Default)]
struct ObjectView<'a> {
    properties: BTreeMap<&'a str, &'a Value>,
    required: BTreeSet<&'a str>,
    additional: Additional<'a>,
    entity: bool,
}

#[derive(Default, Clone, Copy)]
enum Additional<'a> {
    /// Said nothing: closed for complex types.
    #[default]
    Unspecified,
    Open,
    Closed,
    Schema(&'a Value),
}

const REF_PREFIX: &str = "#/components/schemas/";

impl Schemas {
    /// Schemas from `components.schemas` of an OpenAPI document.
    pub fn new(document: &Value) -> Self {
        let components =
            document.pointer("/components/schemas").and_then(Value::as_object).cloned().unwrap_or_default();
        Self { components }
    }

    /// A named component schema, e.g. `microsoft.graph.user`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.components.get(name)
    }

    /// Every violation of `schema` by `value`; empty when it matches.
    pub fn validate(&self, schema: &Value, value: &Value) -> Vec<Violation> {
        let mut out = Vec::new();
        self.check(schema, value, "$", &mut out, 0);
        out
    }

    fn resolve<'a>(&'a self, reference: &str) -> Option<&'a Value> {
        reference.strip_prefix(REF_PREFIX).and_then(|name| self.components.get(name))
    }

    /// Follows an `@odata.type` annotation to a more derived schema when the slice has one.
    fn derived<'a>(&'a self, value: &Value) -> Option<&'a Value> {
        let odata_type = value.get("@odata.type")?.as_str()?;
        self.components.get(odata_type.trim_start_matches('#'))
    }

    fn check(&self, schema: &Value, value: &Value, path: &str, out: &mut Vec<Violation>, depth: usize) {
        // A cycle in the slice ($ref to itself through navigation properties) cannot recurse
        // without a value to walk, but guard anyway: a validator must not overflow the stack.
        if depth > 64 {
            return;
        }
        let Some(schema_obj) = schema.as_object() else { return };
        if let Some(reference) = schema_obj.get("$ref").and_then(Value::as_str) {
            let target = match (reference.starts_with("#/components/schemas/microsoft.graph."), self.derived(value)) {
                (true, Some(derived)) => Some(derived),
                _ => self.resolve(reference),
            };
            match target {
                Some(target) => self.check(target, value, path, out, depth + 1),
                None => push(out, path, format!("schema reference {reference} does not resolve")),
            }
            return;
        }
        if value.is_null() {
            let typed = schema_obj.contains_key("type")
                || schema_obj.contains_key("allOf")
                || schema_obj.contains_key("anyOf")
                || schema_obj.contains_key("oneOf");
            if typed && !nullable(schema_obj) {
                push(out, path, "null where the schema does not allow null".to_owned());
            }
            return;
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(branches) = schema_obj.get(key).and_then(Value::as_array) {
                let mut first_errors = None;
                for branch in branches {
                    let mut errs = Vec::new();
                    self.check(branch, value, path, &mut errs, depth + 1);
                    if errs.is_empty() {
                        first_errors = None;
                        break;
                    }
                    first_errors.get_or_insert(errs);
                }
                if let Some(errs) = first_errors {
                    out.extend(errs);
                }
                return;
            }
        }
        if schema_obj.contains_key("allOf") || schema_obj.contains_key("properties") {
            if let Some(object) = value.as_object() {
                let mut view = ObjectView::default();
                self.collect(schema, &mut view, depth);
                self.check_object(&view, object, path, out, depth);
            } else {
                push(out, path, format!("expected object, got {}", describe(value)));
            }
            return;
        }
        if let Some(ty) = schema_obj.get("type").and_then(Value::as_str) {
            self.check_typed(ty, schema, value, path, out, depth);
        }
    }

    fn check_typed(
        &self,
        ty: &str,
        schema_value: &Value,
        value: &Value,
        path: &str,
        out: &mut Vec<Violation>,
        depth: usize,
    ) {
        let Some(schema) = schema_value.as_object() else { return };
        let ok = match ty {
            "string" => value.is_string(),
            "boolean" => value.is_boolean(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            _ => true,
        };
        if !ok {
            push(out, path, format!("expected {ty}, got {}", describe(value)));
            return;
        }
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
            if !allowed.contains(value) {
                push(out, path, format!("{} is not one of the enumeration's members", describe(value)));
            }
        }
        if let (Some(s), Some(format)) = (value.as_str(), schema.get("format").and_then(Value::as_str)) {
            if let Some(problem) = check_format(format, s) {
                push(out, path, problem);
            }
        }
        if let (Some(n), Some("int32")) = (value.as_i64(), schema.get("format").and_then(Value::as_str)) {
            if i32::try_from(n).is_err() {
                push(out, path, format!("{n} does not fit int32"));
            }
        }
        match value {
            Value::Array(items) => {
                if let Some(item_schema) = schema.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        self.check(item_schema, item, &format!("{path}[{i}]"), out, depth + 1);
                    }
                }
            }
            Value::Object(object) if schema.contains_key("additionalProperties") => {
                let mut view = ObjectView::default();
                self.collect(schema_value, &mut view, depth);
                self.check_object(&view, object, path, out, depth);
            }
            _ => {}
        }
    }

    /// Merges `$ref` and `allOf` parts into one view of an object's properties.
    fn collect<'a>(&'a self, schema: &'a Value, view: &mut ObjectView<'a>, depth: usize) {
        if depth > 64 {
            return;
        }
        let Some(obj) = schema.as_object() else { return };
        if let Some(target) = obj.get("$ref").and_then(Value::as_str).and_then(|r| self.resolve(r)) {
            self.collect(target, view, depth + 1);
            return;
        }
        for part in obj.get("allOf").and_then(Value::as_array).into_iter().flatten() {
            self.collect(part, view, depth + 1);
        }
        if let Some(props) = obj.get("properties").and_then(Value::as_object) {
            view.properties.extend(props.iter().map(|(k, v)| (k.as_str(), v)));
        }
        for name in obj.get("required").and_then(Value::as_array).into_iter().flatten() {
            if let Some(name) = name.as_str() {
                view.required.insert(name);
            }
        }
        match obj.get("additionalProperties") {
            Some(Value::Bool(true)) => view.additional = Additional::Open,
            Some(Value::Bool(false)) => view.additional = Additional::Closed,
            Some(s @ Value::Object(_)) => view.additional = Additional::Schema(s),
            _ => {}
        }
        if obj.get("x-ms-entity").and_then(Value::as_bool) == Some(true) {
            view.entity = true;
        }
    }

    fn check_object(
        &self,
        view: &ObjectView<'_>,
        object: &serde_json::Map<String, Value>,
        path: &str,
        out: &mut Vec<Violation>,
        depth: usize,
    ) {
        for name in &view.required {
            if !object.contains_key(*name) {
                push(out, path, format!("required property '{name}' is missing"));
            }
        }
        for (name, value) in object {
            let child = format!("{path}.{name}");
            if let Some(prop) = view.properties.get(name.as_str()) {
                self.check(prop, value, &child, out, depth + 1);
                continue;
            }
            if name.contains('@') {
                continue; // OData annotations: `@odata.context`, `members@odata.bind`, …
            }
            match view.additional {
                Additional::Schema(s) => self.check(s, value, &child, out, depth + 1),
                Additional::Open if !view.entity => {}
                Additional::Open if name.starts_with("extension_") => {}
                Additional::Open => push(out, &child, format!("'{name}' is not a property of this entity type")),
                Additional::Closed | Additional::Unspecified => {
                    push(out, &child, format!("'{name}' is not a property of this type"))
                }
            }
        }
    }
}

fn nullable(schema: &serde_json::Map<String, Value>) -> bool {
    schema.get("nullable").and_then(Value::as_bool) == Some(true)
}

fn push(out: &mut Vec<Violation>, path: &str, message: String) {
    out.push(Violation { path: path.to_owned(), message });
}

/// A short description of a JSON value for messages: its type and, for scalars, the value.
pub fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) if s.len() > 60 => format!("string \"{}…\"", s.chars().take(57).collect::<String>()),
        Value::String(s) => format!("string \"{s}\""),
        Value::Array(a) => format!("array of {}", a.len()),
        Value::Object(_) => "object".to_owned(),
    }
}

fn check_format(format: &str, s: &str) -> Option<String> {
    match format {
        "uuid" if !is_uuid(s) => Some(format!("\"{s}\" is not a uuid")),
        "date-time" if !is_date_time(s) => Some(format!("\"{s}\" is not an RFC 3339 date-time")),
        _ => None,
    }
}

pub(crate) fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

pub(crate) fn is_date_time(s: &str) -> bool {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schemas() -> Schemas {
        Schemas::new(&json!({"components": {"schemas": {
            "microsoft.graph.entity": {"type": "object", "properties": {"id": {"type": "string"}}, "x-ms-entity": true},
            "microsoft.graph.user": {"allOf": [
                {"$ref": "#/components/schemas/microsoft.graph.entity"},
                {"type": "object", "x-ms-entity": true, "additionalProperties": true, "properties": {
                    "businessPhones": {"type": "array", "items": {"type": "string"}},
                    "accountEnabled": {"type": "boolean", "nullable": true},
                    "createdDateTime": {"type": "string", "format": "date-time", "nullable": true},
                    "assignedLicenses": {"type": "array", "items": {"$ref": "#/components/schemas/lic"}}}}]},
            "lic": {"type": "object", "properties": {"skuId": {"type": "string", "format": "uuid", "nullable": true}}},
            "page": {"type": "object", "properties": {"value": {"type": "array", "items": {"$ref": "#/components/schemas/microsoft.graph.user"}}}},
            "err": {"type": "object", "required": ["code"], "properties": {"code": {"type": "string"}},
                "additionalProperties": false}
        }}}))
    }

    fn check(name: &str, value: Value) -> Vec<String> {
        let s = schemas();
        let schema = json!({"$ref": format!("#/components/schemas/{name}")});
        s.validate(&schema, &value).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_matching_body_has_no_violations() {
        let body = json!({"@odata.context": "x", "value": [{"id": "1", "businessPhones": [], "accountEnabled": null,
            "createdDateTime": "2026-03-02T10:40:12.1234567Z", "assignedLicenses": [{"skuId": null}]}]});
        assert_eq!(check("page", body), Vec::<String>::new());
    }

    #[test]
    fn a_wrong_type_is_named_by_its_json_path() {
        let v = check("page", json!({"value": [{"id": "1"}, {"businessPhones": "555"}]}));
        assert_eq!(v, ["$.value[1].businessPhones: expected array, got string \"555\""]);
    }

    #[test]
    fn an_unknown_name_on_an_entity_fails_but_extensions_and_annotations_pass() {
        let v = check(
            "microsoft.graph.user",
            json!({"id": "1", "acountEnabled": true, "extension_abc_x": 1, "a@odata.type": "y"}),
        );
        assert_eq!(v, ["$.acountEnabled: 'acountEnabled' is not a property of this entity type"]);
    }

    #[test]
    fn null_is_refused_unless_nullable_and_required_is_enforced() {
        let v = check("microsoft.graph.user", json!({"businessPhones": null}));
        assert_eq!(v, ["$.businessPhones: null where the schema does not allow null"]);
        let v = check("err", json!({"extra": 1}));
        assert_eq!(v, ["$: required property 'code' is missing", "$.extra: 'extra' is not a property of this type"]);
    }

    #[test]
    fn formats_are_checked_inside_nested_references() {
        let v = check(
            "microsoft.graph.user",
            json!({"assignedLicenses": [{"skuId": "nope"}], "createdDateTime": "yesterday"}),
        );
        assert_eq!(
            v,
            [
                "$.assignedLicenses[0].skuId: \"nope\" is not a uuid",
                "$.createdDateTime: \"yesterday\" is not an RFC 3339 date-time"
            ]
        );
    }
}
