//! Microsoft Graph's v1.0 schema (`data/graph-v1.0-csdl.xml`, Microsoft's own CSDL; see
//! `data/README.md` for its notice) as a model, and the validator every Graph body goes through.
//!
//! The CSDL is read once per process, at first use, from the copy compiled into the crate
//! (about 60 ms in a debug build). A build script generating Rust from it was the alternative;
//! it would add thousands of generated lines to compile on every change and a second place where
//! the schema's meaning is decided, for no gain at run time the suite could measure.
//!
//! What a body is checked against, and how strictly:
//!
//! - **Names.** Every property must be declared on the type or one of its base types
//!   (structural or navigation property: `$expand` puts navigation properties inline).
//!   Graph's directory types are OData open types only for directory extensions, so on an
//!   `OpenType` a dynamic property must look like one (`extension_{appId}_{name}`).
//!   Annotations (`@odata.context`, `members@odata.bind`, …) are allowed everywhere.
//! - **Types and formats.** `Edm.String`/`Boolean` by JSON type; `Int16`/`Int32`/`Int64`/`Byte`
//!   integers within their range; `Double`/`Single`/`Decimal` numbers (or `NaN`/`INF`/`-INF`);
//!   `Guid` in 8-4-4-4-12 hex; `DateTimeOffset` RFC 3339; `Date` `YYYY-MM-DD`; `TimeOfDay`;
//!   `Duration` ISO 8601 (`P…`); `Binary` base64; enums by member name (flags: comma-separated).
//! - **Structure.** Collections are JSON arrays (never `null`, as Microsoft's OpenAPI conversion
//!   also says), items checked one by one; complex and entity types recursively.
//! - **Nullability.** `Nullable="false"` forbids `null`, on properties and collection items.
//! - **Casts.** `"@odata.type": "#microsoft.graph.X"` must name a type that is, or derives from,
//!   the declared one; the object is then checked against `X` (so a mixed `directoryObject`
//!   list is checked per item).

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use serde_json::Value;

use crate::schema::{describe, Violation};

const CSDL: &str = include_str!("../data/graph-v1.0-csdl.xml");

/// A type as a property, parameter or return value names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeRef {
    /// Qualified name, aliases resolved: `microsoft.graph.user`, `Edm.String`.
    pub name: String,
    /// `Collection(…)`.
    pub collection: bool,
}

impl TypeRef {
    fn parse(raw: &str) -> Self {
        match raw.strip_prefix("Collection(").and_then(|r| r.strip_suffix(')')) {
            Some(inner) => Self { name: inner.to_owned(), collection: true },
            None => Self { name: raw.to_owned(), collection: false },
        }
    }

    /// The single-valued form of this type.
    pub fn single(&self) -> Self {
        Self { name: self.name.clone(), collection: false }
    }

    /// `Collection(x)` or `x`.
    pub fn display(&self) -> String {
        if self.collection {
            format!("Collection({})", self.name)
        } else {
            self.name.clone()
        }
    }
}

/// One declared property.
#[derive(Debug, Clone)]
pub struct Property {
    /// Its type.
    pub ty: TypeRef,
    /// `Nullable` (default true).
    pub nullable: bool,
    /// A navigation property (only inline under `$expand`).
    pub navigation: bool,
}

/// An entity or complex type.
#[derive(Debug, Clone)]
pub struct StructuredType {
    /// Qualified name.
    pub name: String,
    /// Qualified base type name.
    pub base: Option<String>,
    /// Entity (true) or complex type.
    pub entity: bool,
    /// `OpenType="true"`.
    pub open: bool,
    /// Declared here (not inherited), in document order.
    pub properties: Vec<(String, Property)>,
}

/// A bound action or function.
#[derive(Debug, Clone)]
struct BoundOperation {
    binding: TypeRef,
    returns: Option<TypeRef>,
}

/// Microsoft Graph's v1.0 schema.
#[derive(Debug, Default)]
pub struct Model {
    types: HashMap<String, StructuredType>,
    enums: HashMap<String, (Vec<String>, bool)>,
    /// Entity sets (collections) and singletons of the container.
    roots: HashMap<String, TypeRef>,
    bound: HashMap<String, Vec<BoundOperation>>,
}

/// The bundled schema, parsed on first use.
///
/// # Panics
///
/// Only if the bundled CSDL does not parse, which a unit test rules out.
pub fn model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| Model::parse(CSDL).expect("the bundled CSDL parses (unit-tested)"))
}

fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .with_checks(false)
        .flatten()
        .find(|a| a.key.as_ref() == name.as_bytes())
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

#[derive(Default)]
struct Pending {
    operation: Option<(String, Option<TypeRef>, Option<TypeRef>)>,
}

impl Model {
    /// Parses a CSDL document.
    ///
    /// # Errors
    ///
    /// A message naming the XML error and its byte position.
    pub fn parse(xml: &str) -> Result<Self, String> {
        let xml = xml.strip_prefix('\u{feff}').unwrap_or(xml);
        let mut reader = Reader::from_str(xml);
        reader.config_mut().trim_text(true);
        let mut model = Model::default();
        let mut aliases: HashMap<String, String> = HashMap::new();
        let mut namespace = String::new();
        let mut current: Option<StructuredType> = None;
        let mut current_enum: Option<(String, Vec<String>, bool)> = None;
        let mut pending = Pending::default();
        let mut in_container = false;
        loop {
            let event = reader.read_event().map_err(|e| format!("CSDL at byte {}: {e}", reader.buffer_position()))?;
            let (e, empty) = match &event {
                Event::Start(e) => (e, false),
                Event::Empty(e) => (e, true),
                Event::End(end) => {
                    match end.local_name().as_ref() {
                        b"EntityType" | b"ComplexType" => {
                            if let Some(t) = current.take() {
                                model.types.insert(t.name.clone(), t);
                            }
                        }
                        b"EnumType" => {
                            if let Some((name, members, flags)) = current_enum.take() {
                                model.enums.insert(name, (members, flags));
                            }
                        }
                        b"Action" | b"Function" => model.finish_operation(&mut pending),
                        b"EntityContainer" => in_container = false,
                        _ => {}
                    }
                    continue;
                }
                Event::Eof => break,
                _ => continue,
            };
            match e.local_name().as_ref() {
                b"Schema" => {
                    namespace = attr(e, "Namespace").unwrap_or_default();
                    if let Some(alias) = attr(e, "Alias") {
                        aliases.insert(alias, namespace.clone());
                    }
                }
                tag @ (b"EntityType" | b"ComplexType") => {
                    let t = StructuredType {
                        name: format!("{namespace}.{}", attr(e, "Name").unwrap_or_default()),
                        base: attr(e, "BaseType"),
                        entity: tag == b"EntityType",
                        open: attr(e, "OpenType").as_deref() == Some("true"),
                        properties: Vec::new(),
                    };
                    if empty {
                        model.types.insert(t.name.clone(), t);
                    } else {
                        current = Some(t);
                    }
                }
                tag @ (b"Property" | b"NavigationProperty") => {
                    if let (Some(t), Some(name), Some(ty)) = (current.as_mut(), attr(e, "Name"), attr(e, "Type")) {
                        let nullable = attr(e, "Nullable").as_deref() != Some("false");
                        let navigation = tag == b"NavigationProperty";
                        t.properties.push((name, Property { ty: TypeRef::parse(&ty), nullable, navigation }));
                    }
                }
                b"EnumType" => {
                    let name = format!("{namespace}.{}", attr(e, "Name").unwrap_or_default());
                    let flags = attr(e, "IsFlags").as_deref() == Some("true");
                    if empty {
                        model.enums.insert(name, (Vec::new(), flags));
                    } else {
                        current_enum = Some((name, Vec::new(), flags));
                    }
                }
                b"Member" => {
                    if let (Some((_, members, _)), Some(name)) = (current_enum.as_mut(), attr(e, "Name")) {
                        members.push(name);
                    }
                }
                b"Action" | b"Function" => {
                    model.finish_operation(&mut pending);
                    if attr(e, "IsBound").as_deref() == Some("true") {
                        pending.operation = Some((attr(e, "Name").unwrap_or_default(), None, None));
                    }
                    if empty {
                        model.finish_operation(&mut pending);
                    }
                }
                b"Parameter" => {
                    if let Some((_, binding @ None, _)) = pending.operation.as_mut() {
                        *binding = attr(e, "Type").map(|t| TypeRef::parse(&t));
                    }
                }
                b"ReturnType" => {
                    if let Some((_, _, returns)) = pending.operation.as_mut() {
                        *returns = attr(e, "Type").map(|t| TypeRef::parse(&t));
                    }
                }
                b"EntityContainer" => in_container = !empty,
                b"EntitySet" if in_container => {
                    if let (Some(name), Some(ty)) = (attr(e, "Name"), attr(e, "EntityType")) {
                        model.roots.insert(name, TypeRef { name: ty, collection: true });
                    }
                }
                b"Singleton" if in_container => {
                    if let (Some(name), Some(ty)) = (attr(e, "Name"), attr(e, "Type")) {
                        model.roots.insert(name, TypeRef { name: ty, collection: false });
                    }
                }
                _ => {}
            }
        }
        model.resolve_aliases(&aliases);
        if !model.types.contains_key("microsoft.graph.user") {
            return Err("CSDL has no microsoft.graph.user: not Microsoft Graph's schema".into());
        }
        Ok(model)
    }

    fn finish_operation(&mut self, pending: &mut Pending) {
        if let Some((name, Some(binding), returns)) = pending.operation.take() {
            self.bound.entry(name).or_default().push(BoundOperation { binding, returns });
        }
    }

    fn resolve_aliases(&mut self, aliases: &HashMap<String, String>) {
        let fix = |name: &mut String| {
            if let Some((prefix, rest)) = name.split_once('.') {
                if let Some(ns) = aliases.get(prefix) {
                    *name = format!("{ns}.{rest}");
                }
            }
        };
        for t in self.types.values_mut() {
            if let Some(b) = t.base.as_mut() {
                fix(b);
            }
            for (_, p) in &mut t.properties {
                fix(&mut p.ty.name);
            }
        }
        for r in self.roots.values_mut() {
            fix(&mut r.name);
        }
        for ops in self.bound.values_mut() {
            for op in ops {
                fix(&mut op.binding.name);
                if let Some(r) = op.returns.as_mut() {
                    fix(&mut r.name);
                }
            }
        }
    }

    /// An entity or complex type by qualified name.
    pub fn structured(&self, name: &str) -> Option<&StructuredType> {
        self.types.get(name)
    }

    /// Whether `name` is an enumeration.
    pub fn is_enum(&self, name: &str) -> bool {
        self.enums.contains_key(name)
    }

    /// The entity set or singleton named `name` (`users`, `organization`, `directory`).
    pub fn root(&self, name: &str) -> Option<&TypeRef> {
        self.roots.get(name)
    }

    /// `name` and its base types, most derived first.
    pub fn lineage<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a StructuredType> + 'a {
        let mut next = self.types.get(name);
        let mut guard = 0;
        std::iter::from_fn(move || {
            let t = next?;
            guard += 1;
            next = if guard > 32 { None } else { t.base.as_deref().and_then(|b| self.types.get(b)) };
            Some(t)
        })
    }

    /// Every property of `name` including inherited ones, base types first.
    pub fn all_properties(&self, name: &str) -> BTreeMap<&str, &Property> {
        let mut out = BTreeMap::new();
        for t in self.lineage(name) {
            for (n, p) in &t.properties {
                out.entry(n.as_str()).or_insert(p);
            }
        }
        out
    }

    /// The property `prop` of `type_name` or of one of its base types.
    pub fn property(&self, type_name: &str, prop: &str) -> Option<&Property> {
        self.lineage(type_name).find_map(|t| t.properties.iter().find(|(n, _)| n == prop).map(|(_, p)| p))
    }

    /// Whether `derived` is `base` or derives from it.
    pub fn derives_from(&self, derived: &str, base: &str) -> bool {
        self.lineage(derived).any(|t| t.name == base)
    }

    /// The return type of the bound action or function `name` on `on` (or a base type of it),
    /// `Some(None)` when it returns nothing.
    fn bound_operation(&self, name: &str, on: &TypeRef) -> Option<Option<TypeRef>> {
        let name = name.strip_prefix("microsoft.graph.").unwrap_or(name);
        let name = name.strip_suffix("()").unwrap_or(name);
        let name = name.split('(').next().unwrap_or(name);
        let ops = self.bound.get(name)?;
        self.lineage(&on.name).find_map(|t| {
            ops.iter()
                .find(|op| op.binding.name == t.name && op.binding.collection == on.collection)
                .map(|op| op.returns.clone())
        })
    }

    /// What a Graph request path (after `/v1.0`, no query) answers with, for a response with
    /// a body: `None` when the path leaves the schema (`$count`, `$batch`, `$ref`, an unknown
    /// segment). A POST to a collection answers with one entity of it.
    pub fn response_type(&self, method: &str, path: &str) -> Option<TypeRef> {
        let resolved = self.resolve(path.split('/').filter(|s| !s.is_empty()).map(percent_decode), false)?;
        match (method, resolved) {
            ("POST", Resolved::Value(t)) if t.collection => Some(t.single()),
            (_, Resolved::Value(t)) => Some(t),
            (_, Resolved::OperationResult(t)) => t,
        }
    }

    /// The type an `@odata.context` URL names (`…/$metadata#users/$entity`,
    /// `#users(id,displayName)`, `#Collection(microsoft.graph.licenseDetails)`,
    /// `#users('…')/memberOf`); `None` when it names nothing in the schema.
    pub fn context_type(&self, context: &str) -> Option<TypeRef> {
        let fragment = context.split_once("$metadata#")?.1;
        let fragment = percent_decode(fragment);
        let (fragment, entity) = match fragment.strip_suffix("/$entity") {
            Some(f) => (f.to_owned(), true),
            None => (fragment.strip_suffix("/$delta").unwrap_or(&fragment).to_owned(), false),
        };
        let direct = TypeRef::parse(&fragment);
        let ty = if self.types.contains_key(&direct.name) || direct.name.starts_with("Edm.") {
            direct
        } else {
            match self.resolve(split_outside_parens(&fragment).into_iter(), true)? {
                Resolved::Value(t) => t,
                Resolved::OperationResult(t) => t?,
            }
        };
        Some(if entity { ty.single() } else { ty })
    }

    fn resolve(&self, mut segments: impl Iterator<Item = String>, context: bool) -> Option<Resolved> {
        let first = segments.next()?;
        let (name, args) = split_parens(&first);
        let mut cur = self.roots.get(name)?.clone();
        if let Some(args) = args {
            if is_key(args) || !context {
                cur = cur.single();
            }
        }
        for seg in segments {
            let (name, args) = split_parens(&seg);
            if name.starts_with('$') {
                return None; // $count, $ref, $value: not an entity body
            }
            if let Some(p) = (!cur.collection).then(|| self.property(&cur.name, name)).flatten() {
                cur = p.ty.clone();
            } else if self.types.contains_key(name) {
                cur = TypeRef { name: name.to_owned(), collection: cur.collection };
            } else if let Some(returns) = self.bound_operation(&seg, &cur) {
                return Some(Resolved::OperationResult(returns));
            } else if cur.collection && !context {
                cur = cur.single(); // a key segment: users/{id}
                continue;
            } else {
                return None;
            }
            if let Some(args) = args {
                if is_key(args) || !context {
                    cur = cur.single();
                }
            }
        }
        Some(Resolved::Value(cur))
    }

    /// Every violation of `ty` by `value`, with JSON paths from `$`.
    pub fn validate(&self, ty: &TypeRef, value: &Value) -> Vec<Violation> {
        let mut out = Vec::new();
        self.check(ty, true, value, "$", &mut out, 0, false);
        out
    }

    /// Validates a whole response body: a collection answers `{"value": [...]}` with OData
    /// annotations beside it; a single value of a primitive or enum type answers `{"value": x}`.
    pub fn validate_body(&self, ty: &TypeRef, body: &Value) -> Vec<Violation> {
        self.body(ty, body, false)
    }

    /// As [`Model::validate_body`] for a body whose volatile values a test replaced with
    /// placeholders in brackets (`"[id]"`, `"[date]"`, as insta snapshots do): a placeholder
    /// stands for any value of a string-shaped type (String, Guid, DateTimeOffset, Binary, an
    /// enum, …), never for a number, a boolean, an object or an array.
    pub fn validate_redacted_body(&self, ty: &TypeRef, body: &Value) -> Vec<Violation> {
        self.body(ty, body, true)
    }

    fn body(&self, ty: &TypeRef, body: &Value, redacted: bool) -> Vec<Violation> {
        let wrapped = ty.collection || !self.types.contains_key(&ty.name);
        if !wrapped {
            let mut out = Vec::new();
            self.check(ty, true, body, "$", &mut out, 0, redacted);
            return out;
        }
        let mut out = Vec::new();
        let Some(object) = body.as_object() else {
            out.push(Violation { path: "$".into(), message: format!("expected object, got {}", describe(body)) });
            return out;
        };
        for (name, v) in object {
            if name == "value" {
                self.check(ty, false, v, "$.value", &mut out, 0, redacted);
            } else if !name.starts_with('@') {
                push(
                    &mut out,
                    &format!("$.{name}"),
                    format!("'{name}' is not allowed beside a {} value", ty.display()),
                );
            }
        }
        if !object.contains_key("value") {
            push(&mut out, "$", format!("a {} response must carry 'value'", ty.display()));
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn check(
        &self,
        ty: &TypeRef,
        nullable: bool,
        value: &Value,
        path: &str,
        out: &mut Vec<Violation>,
        depth: usize,
        redacted: bool,
    ) {
        if depth > 48 {
            return;
        }
        let placeholder = redacted && value.as_str().is_some_and(|s| s.starts_with('[') && s.ends_with(']'));
        if ty.collection {
            let Some(items) = value.as_array() else {
                push(out, path, format!("expected an array ({}), got {}", ty.display(), describe(value)));
                return;
            };
            let item = ty.single();
            for (i, v) in items.iter().enumerate() {
                self.check(&item, nullable, v, &format!("{path}[{i}]"), out, depth + 1, redacted);
            }
            return;
        }
        if value.is_null() {
            if !nullable {
                push(out, path, format!("null where {} is declared Nullable=\"false\"", ty.name));
            }
            return;
        }
        if let Some(primitive) = ty.name.strip_prefix("Edm.") {
            let string_shaped = matches!(
                primitive,
                "String" | "Guid" | "DateTimeOffset" | "Date" | "TimeOfDay" | "Duration" | "Binary"
            );
            if placeholder && string_shaped {
                return;
            }
            if let Some(problem) = check_primitive(primitive, value) {
                push(out, path, problem);
            }
            return;
        }
        if let Some((members, flags)) = self.enums.get(&ty.name) {
            if placeholder {
                return;
            }
            let Some(s) = value.as_str() else {
                push(out, path, format!("expected a {} member name, got {}", ty.name, describe(value)));
                return;
            };
            let ok = if *flags {
                s.split(',').all(|m| members.iter().any(|x| x == m.trim()))
            } else {
                members.iter().any(|x| x == s)
            };
            if !ok {
                push(out, path, format!("\"{s}\" is not a member of {} ({})", ty.name, members.join(", ")));
            }
            return;
        }
        let Some(object) = value.as_object() else {
            push(out, path, format!("expected object ({}), got {}", ty.name, describe(value)));
            return;
        };
        let mut actual = ty.name.clone();
        if let Some(cast) = object.get("@odata.type") {
            match cast.as_str().map(|s| s.trim_start_matches('#')) {
                Some(name) if self.derives_from(name, &ty.name) => actual = name.to_owned(),
                Some(name) if self.types.contains_key(name) => {
                    push(out, &format!("{path}.@odata.type"), format!("{name} does not derive from {}", ty.name))
                }
                _ => {
                    push(out, &format!("{path}.@odata.type"), format!("{} names no type of the schema", describe(cast)))
                }
            }
        }
        if !self.types.contains_key(&actual) {
            push(out, path, format!("{actual} is not a type of the schema"));
            return;
        }
        let open = self.lineage(&actual).any(|t| t.open);
        for (name, v) in object {
            if name.contains('@') {
                continue;
            }
            let child = format!("{path}.{name}");
            match self.property(&actual, name) {
                Some(p) => self.check(&p.ty, p.nullable, v, &child, out, depth + 1, redacted),
                None if open && name.starts_with("extension_") => {}
                None => push(out, &child, format!("'{name}' is not a property of {actual} or its base types")),
            }
        }
    }
}

enum Resolved {
    Value(TypeRef),
    OperationResult(Option<TypeRef>),
}

fn push(out: &mut Vec<Violation>, path: &str, message: String) {
    out.push(Violation { path: path.to_owned(), message });
}

/// `name(args)` → (`name`, `Some(args)`).
fn split_parens(seg: &str) -> (&str, Option<&str>) {
    match seg.find('(') {
        Some(i) if seg.ends_with(')') => (&seg[..i], Some(&seg[i + 1..seg.len() - 1])),
        _ => (seg, None),
    }
}

/// Splits a context fragment on `/` outside parentheses and quotes (a key may hold a `/`).
fn split_outside_parens(s: &str) -> Vec<String> {
    let (mut out, mut cur, mut depth, mut quoted) = (Vec::new(), String::new(), 0i32, false);
    for c in s.chars() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            '/' if !quoted && depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out.retain(|s| !s.is_empty());
    out
}

/// A key (`'x'`, a GUID, `appId='x'`) rather than a `$select` list in a context URL.
fn is_key(args: &str) -> bool {
    args.contains('\'') || args.contains('=') || crate::schema::is_uuid(args)
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

fn check_primitive(edm: &str, value: &Value) -> Option<String> {
    let expected = |what: &str| Some(format!("expected {what} (Edm.{edm}), got {}", describe(value)));
    let int_range = |lo: i64, hi: i64| match value.as_i64() {
        Some(n) if (lo..=hi).contains(&n) => None,
        Some(n) => Some(format!("{n} does not fit Edm.{edm}")),
        None => expected("an integer"),
    };
    match edm {
        "String" => (!value.is_string()).then(|| expected("a string")).flatten(),
        "Boolean" => (!value.is_boolean()).then(|| expected("a boolean")).flatten(),
        "Byte" => int_range(0, 255),
        "SByte" => int_range(-128, 127),
        "Int16" => int_range(i64::from(i16::MIN), i64::from(i16::MAX)),
        "Int32" => int_range(i64::from(i32::MIN), i64::from(i32::MAX)),
        "Int64" => int_range(i64::MIN, i64::MAX),
        "Double" | "Single" | "Decimal" => match value {
            Value::Number(_) => None,
            Value::String(s) if matches!(s.as_str(), "NaN" | "INF" | "-INF") => None,
            _ => expected("a number"),
        },
        "Guid" | "DateTimeOffset" | "Date" | "TimeOfDay" | "Duration" | "Binary" => {
            let Some(s) = value.as_str() else { return expected("a string") };
            let ok = match edm {
                "Guid" => crate::schema::is_uuid(s),
                "DateTimeOffset" => crate::schema::is_date_time(s),
                "Date" => time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).is_ok(),
                "TimeOfDay" => is_time_of_day(s),
                "Duration" => is_duration(s),
                _ => is_base64(s),
            };
            (!ok).then(|| format!("\"{s}\" is not an Edm.{edm}"))
        }
        // Stream, Untyped, geography: any JSON.
        _ => None,
    }
}

fn is_time_of_day(s: &str) -> bool {
    let (hms, frac) = s.split_once('.').unwrap_or((s, "0"));
    let parts: Vec<&str> = hms.split(':').collect();
    (2..=3).contains(&parts.len())
        && parts.iter().all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()))
        && frac.bytes().all(|b| b.is_ascii_digit())
}

fn is_duration(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    let Some(rest) = s.strip_prefix('P') else { return false };
    !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit() || b"YMWDTHS.".contains(&b))
}

fn is_base64(s: &str) -> bool {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).is_ok()
        || base64::engine::general_purpose::URL_SAFE.decode(s).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(name: &str) -> TypeRef {
        TypeRef { name: name.into(), collection: false }
    }

    #[test]
    fn the_bundled_csdl_parses_with_types_enums_roots_and_bound_operations() {
        let m = model();
        assert!(m.derives_from("microsoft.graph.user", "microsoft.graph.directoryObject"));
        assert!(m.property("microsoft.graph.user", "id").is_some(), "inherited from entity");
        assert!(m.is_enum("microsoft.graph.mdmAuthority"));
        assert_eq!(m.root("users").map(TypeRef::display).as_deref(), Some("Collection(microsoft.graph.user)"));
        assert_eq!(
            m.response_type("POST", "/applications/abc/addPassword").map(|t| t.display()).as_deref(),
            Some("microsoft.graph.passwordCredential")
        );
        assert_eq!(
            m.response_type("GET", "/users/delta()").map(|t| t.display()).as_deref(),
            Some("Collection(microsoft.graph.user)")
        );
        assert_eq!(
            m.response_type("GET", "/directory/deletedItems/microsoft.graph.user").map(|t| t.display()).as_deref(),
            Some("Collection(microsoft.graph.user)")
        );
        assert_eq!(
            m.response_type("GET", "/applications(appId='x')").map(|t| t.display()).as_deref(),
            Some("microsoft.graph.application")
        );
        assert_eq!(m.response_type("POST", "/users").map(|t| t.display()).as_deref(), Some("microsoft.graph.user"));
        assert_eq!(
            m.response_type("GET", "/users/x/memberOf").map(|t| t.display()).as_deref(),
            Some("Collection(microsoft.graph.directoryObject)")
        );
        assert_eq!(m.response_type("GET", "/users/$count"), None);
    }

    #[test]
    fn context_urls_name_their_types() {
        let m = model();
        let c =
            |s: &str| m.context_type(&format!("https://graph.microsoft.com/v1.0/$metadata#{s}")).map(|t| t.display());
        assert_eq!(c("users/$entity").as_deref(), Some("microsoft.graph.user"));
        assert_eq!(c("users(id,displayName)").as_deref(), Some("Collection(microsoft.graph.user)"));
        assert_eq!(
            c("users('a%40b.com')/licenseDetails").as_deref(),
            Some("Collection(microsoft.graph.licenseDetails)")
        );
        assert_eq!(c("microsoft.graph.passwordCredential").as_deref(), Some("microsoft.graph.passwordCredential"));
        assert_eq!(c("Collection(microsoft.graph.user)").as_deref(), Some("Collection(microsoft.graph.user)"));
        assert_eq!(c("users/$delta").as_deref(), Some("Collection(microsoft.graph.user)"));
        assert_eq!(c("directoryObjects/$entity").as_deref(), Some("microsoft.graph.directoryObject"));
    }

    #[test]
    fn each_kind_of_violation_is_reported_with_its_path() {
        let m = model();
        let body = json!({
            "@odata.context": "x", "id": "not-a-guid-but-ids-are-strings", "accountEnabled": "yes",
            "favouriteColour": "blue", "extension_0123_x": 1,
            "assignedLicenses": [{"skuId": "nope", "disabledPlans": []}],
            "businessPhones": null, "createdDateTime": "yesterday",
            "passwordPolicies": null,
        });
        let v: Vec<String> = m.validate(&t("microsoft.graph.user"), &body).iter().map(ToString::to_string).collect();
        assert!(
            v.contains(&"$.accountEnabled: expected a boolean (Edm.Boolean), got string \"yes\"".to_owned()),
            "{v:?}"
        );
        assert!(
            v.iter().any(
                |s| s.starts_with("$.favouriteColour: 'favouriteColour' is not a property of microsoft.graph.user")
            ),
            "{v:?}"
        );
        assert!(v.contains(&"$.assignedLicenses[0].skuId: \"nope\" is not an Edm.Guid".to_owned()), "{v:?}");
        assert!(v.iter().any(|s| s.starts_with("$.businessPhones: expected an array")), "{v:?}");
        assert!(v.contains(&"$.createdDateTime: \"yesterday\" is not an Edm.DateTimeOffset".to_owned()), "{v:?}");
        assert_eq!(v.len(), 5, "{v:?}");
    }

    #[test]
    fn enums_nullability_and_casts_are_checked() {
        let m = model();
        let org = t("microsoft.graph.organization");
        assert!(m.validate(&org, &json!({"mobileDeviceManagementAuthority": "intune"})).is_empty());
        let v = m.validate(&org, &json!({"mobileDeviceManagementAuthority": "sometimes"}));
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(v[0].message.starts_with("\"sometimes\" is not a member of microsoft.graph.mdmAuthority"), "{v:?}");
        let v = m.validate(&org, &json!({"mobileDeviceManagementAuthority": null}));
        assert_eq!(v.len(), 1, "{v:?}");
        let v = m.validate(&t("microsoft.graph.group"), &json!({"groupTypes": [null]}));
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(v[0].message.contains("Nullable=\"false\""), "{v:?}");
        let list = TypeRef { name: "microsoft.graph.directoryObject".into(), collection: true };
        let body = json!({"value": [{"@odata.type": "#microsoft.graph.user", "userPrincipalName": "a"},
            {"@odata.type": "#microsoft.graph.group", "userPrincipalName": "a"},
            {"@odata.type": "#microsoft.graph.passwordCredential"}]});
        let v: Vec<String> = m.validate_body(&list, &body).iter().map(ToString::to_string).collect();
        assert_eq!(v.len(), 2, "{v:?}");
        assert!(
            v[0].starts_with(
                "$.value[1].userPrincipalName: 'userPrincipalName' is not a property of microsoft.graph.group"
            ),
            "{v:?}"
        );
        assert!(v[1].contains("does not derive from microsoft.graph.directoryObject"), "{v:?}");
    }

    #[test]
    fn a_placeholder_stands_only_for_string_shaped_values() {
        let m = model();
        let user = t("microsoft.graph.user");
        let body = json!({"id": "[id]", "createdDateTime": "[date]", "accountEnabled": "[flag]"});
        let v = m.validate_redacted_body(&user, &body);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].path, "$.accountEnabled");
        assert_eq!(m.validate_body(&user, &body).len(), 2, "without redaction the date fails too");
    }

    #[test]
    fn primitive_formats() {
        assert!(check_primitive("Int32", &json!(3_000_000_000_i64)).is_some());
        assert!(check_primitive("Int64", &json!(3_000_000_000_i64)).is_none());
        assert!(check_primitive("Date", &json!("2026-02-30")).is_some());
        assert!(check_primitive("Date", &json!("2026-02-28")).is_none());
        assert!(check_primitive("Duration", &json!("PT1H")).is_none());
        assert!(check_primitive("Binary", &json!("not base64!")).is_some());
        assert!(check_primitive("TimeOfDay", &json!("08:00:00.0000000")).is_none());
    }
}
