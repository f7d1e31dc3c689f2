//! Entity schemas: what each property is, who may write it, and what the
//! directory lets a query do with it. `$select`, `$filter`, `$orderby`, `$search`
//! and PATCH validation are generic over these tables; only side effects are
//! written per resource.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use serde_json::Value;

use crate::odata::{EdmType, FilterOp, FilterSchema, Support};

/// A property's wire type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PropType {
    String,
    Bool,
    DateTime,
    Guid,
    StringList,
    /// A complex value (an object); the name is its Graph type.
    Complex(&'static str),
    /// A collection of complex values.
    ComplexList(&'static str),
    /// An integer; the name is its Edm type (`Edm.Int32`, `Edm.Int64`, …).
    Int(&'static str),
    /// A floating-point or decimal number (`Edm.Double`, …). build.rs emits it
    /// for such a property; none of today's served types has one.
    #[allow(dead_code)]
    Number(&'static str),
    /// An Edm type written as a JSON string (`Edm.Date`, `Edm.Duration`,
    /// `Edm.Binary`, `Edm.TimeOfDay`): stored as given.
    Text(&'static str),
    /// A value of a Graph enum type, by its qualified name.
    Enum(&'static str),
    /// A collection of primitive or enum values other than strings.
    List(&'static str),
}

impl PropType {
    pub(crate) fn edm(self) -> EdmType {
        match self {
            PropType::String => EdmType::String,
            PropType::Bool => EdmType::Boolean,
            PropType::DateTime => EdmType::DateTimeOffset,
            PropType::Guid => EdmType::Guid,
            PropType::StringList => EdmType::Collection(Box::new(EdmType::String)),
            PropType::Complex(t) => EdmType::Complex(t.to_owned()),
            PropType::ComplexList(t) => EdmType::Collection(Box::new(EdmType::Complex(t.to_owned()))),
            PropType::Int("Edm.Int64") => EdmType::Int64,
            PropType::Int(_) => EdmType::Int32,
            PropType::Number(_) => EdmType::Double,
            // Compared as their wire text; none of them is filterable here.
            PropType::Text(_) | PropType::Enum(_) => EdmType::String,
            PropType::List(_) => EdmType::Collection(Box::new(EdmType::String)),
        }
    }

    pub(crate) const fn is_collection(self) -> bool {
        matches!(self, PropType::StringList | PropType::ComplexList(_) | PropType::List(_))
    }

    /// Whether `v` is an acceptable JSON value for this type (null handled by the caller).
    pub(crate) fn accepts(self, v: &Value) -> bool {
        match self {
            PropType::String => v.is_string(),
            PropType::Bool => v.is_boolean(),
            PropType::DateTime => v.as_str().and_then(super::dates::parse_client).is_some(),
            PropType::Guid => v.as_str().and_then(|s| uuid::Uuid::parse_str(s).ok()).is_some(),
            PropType::StringList => v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
            PropType::Complex(_) => v.is_object(),
            PropType::ComplexList(_) => v.as_array().is_some_and(|a| a.iter().all(Value::is_object)),
            PropType::Int(edm) => match edm {
                "Edm.Int64" => v.is_i64(),
                "Edm.Int16" => v.as_i64().is_some_and(|n| i16::try_from(n).is_ok()),
                "Edm.Byte" => v.as_i64().is_some_and(|n| u8::try_from(n).is_ok()),
                "Edm.SByte" => v.as_i64().is_some_and(|n| i8::try_from(n).is_ok()),
                _ => v.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
            },
            PropType::Number(_) => v.is_number(),
            PropType::Text(_) => v.is_string(),
            PropType::Enum(name) => v.as_str().is_some_and(|s| super::csdl::is_enum_value(name, s)),
            PropType::List(item) => v.as_array().is_some_and(|a| {
                a.iter().all(|x| match super::csdl::is_enum(item) {
                    true => x.as_str().is_some_and(|s| super::csdl::is_enum_value(item, s)),
                    false => !x.is_array() && !x.is_object() && !x.is_null(),
                })
            }),
        }
    }

    /// The Edm name for messages ("Edm.Boolean").
    pub(crate) fn edm_name(self) -> &'static str {
        match self {
            PropType::String => "Edm.String",
            PropType::Bool => "Edm.Boolean",
            PropType::DateTime => "Edm.DateTimeOffset",
            PropType::Guid => "Edm.Guid",
            PropType::StringList => "Collection(Edm.String)",
            PropType::Complex(_) => "complex",
            PropType::ComplexList(_) => "Collection(complex)",
            PropType::Int(edm) | PropType::Number(edm) | PropType::Text(edm) | PropType::Enum(edm) => edm,
            PropType::List(_) => "Collection",
        }
    }
}

/// Who may write a property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Settable on create and by PATCH.
    ReadWrite,
    /// Maintained by the service.
    ReadOnly,
}

/// The rows of Graph's `$filter` support table:
/// each profile says, per operator, whether it works by default, only as an
/// advanced query, or not at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FilterProfile {
    /// Not filterable.
    None,
    /// `id`, `accountEnabled`, `onPremisesSyncEnabled`: eq and in by default.
    Key,
    /// Most string properties: eq, range, in, startsWith by default; eq null advanced.
    Text,
    /// `userPrincipalName`, `mail`: Text plus endsWith (advanced); UPN has no eq null.
    TextEndsWith,
    /// `userPrincipalName`: like TextEndsWith but never null.
    Upn,
    /// `onPremisesImmutableId`: Text without eq null.
    TextNotNull,
    /// `createdDateTime`: eq/range by default; in and eq null advanced.
    Created,
    /// `onPremisesLastSyncDateTime`: eq, range and in by default.
    DateTime,
    /// `userType`, `creationType`: eq and in by default, eq null advanced.
    Enumish,
    /// Filterable only as an advanced query (mobilePhone, officeLocation, …).
    AdvancedOnly,
    /// `proxyAddresses`, `otherMails`, `imAddresses` (through `any`).
    AnyText,
    /// `identities` (through `any`, eq only).
    AnyEq,
}

impl FilterProfile {
    pub(crate) fn support(self, op: FilterOp) -> Support {
        use FilterOp::*;
        use Support::{Advanced as A, Default as D, Unsupported as U};
        match self {
            FilterProfile::None => U,
            FilterProfile::Key => match op {
                Eq | In => D,
                Ne | Not => A,
                _ => U,
            },
            FilterProfile::Text => match op {
                Eq | Range | In | StartsWith => D,
                Ne | Not | EqNull | NeNull => A,
                _ => U,
            },
            FilterProfile::TextEndsWith => match op {
                Eq | Range | In | StartsWith => D,
                Ne | Not | EqNull | NeNull | EndsWith => A,
                _ => U,
            },
            FilterProfile::Upn => match op {
                Eq | Range | In | StartsWith => D,
                Ne | Not | EndsWith => A,
                _ => U,
            },
            FilterProfile::TextNotNull => match op {
                Eq | Range | In | StartsWith => D,
                Ne | Not => A,
                _ => U,
            },
            FilterProfile::Created => match op {
                Eq | Range => D,
                Ne | Not | In | EqNull | NeNull => A,
                _ => U,
            },
            FilterProfile::DateTime => match op {
                Eq | Range | In => D,
                Ne | Not => A,
                _ => U,
            },
            FilterProfile::Enumish => match op {
                Eq | In => D,
                Ne | Not | EqNull | NeNull => A,
                _ => U,
            },
            FilterProfile::AdvancedOnly => match op {
                Contains | All | Any => U,
                _ => A,
            },
            FilterProfile::AnyText => match op {
                Any | Eq | StartsWith | Range | In => D,
                Not | EndsWith => A,
                _ => U,
            },
            FilterProfile::AnyEq => match op {
                Any | Eq => D,
                _ => U,
            },
        }
    }
}

/// One property of an entity type.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PropertyDef {
    pub name: &'static str,
    pub ty: PropType,
    pub access: Access,
    /// Returned without `$select`.
    pub default: bool,
    pub filter: FilterProfile,
    /// `$orderby` support.
    pub orderby: Support,
    /// Usable in `$search="prop:…"`.
    pub searchable: bool,
    /// The most characters a string (or each string of a string collection)
    /// may have; Graph's documented limit, or [`UNDOCUMENTED_MAX_LEN`].
    pub max_len: u32,
    /// What a read answers while the property was never set, as JSON text;
    /// `None` answers `null` (or `[]` for a collection).
    pub unset: Option<&'static str>,
    /// How far the mock simulates it (the generated coverage table in
    /// `docs/schema-coverage.md` reads this).
    pub coverage: Coverage,
}

/// How much of a property the mock simulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coverage {
    /// A hand-written row: the mock says who writes it, how it is queried
    /// (default set, `$filter`, `$orderby`, `$search`, length) and fills or
    /// derives its value where Graph does.
    Modelled,
    /// From Microsoft's CSDL only: accepted on write, validated by its Edm or
    /// enum type, stored and returned as given.
    StoredAsGiven,
    /// Maintained by Graph (a write is refused), but nothing in the mock ever
    /// gives it a value: reads answer its unset default.
    DefaultOnly,
}

impl Coverage {
    /// The label the coverage table uses.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Coverage::Modelled => "modelled with behaviour",
            Coverage::StoredAsGiven => "stored as given",
            Coverage::DefaultOnly => "default only",
        }
    }
}

/// The length allowed to a stored string whose limit Graph does not document.
/// A guess: no real value of such a property comes near it, and it keeps a
/// 4 MiB body from landing in one property (and in every later read of it).
pub(crate) const UNDOCUMENTED_MAX_LEN: u32 = 4096;

/// Shorthand for the tables below.
pub(crate) const fn prop(name: &'static str, ty: PropType) -> PropertyDef {
    PropertyDef {
        name,
        ty,
        access: Access::ReadWrite,
        default: false,
        filter: FilterProfile::None,
        orderby: Support::Unsupported,
        searchable: false,
        max_len: UNDOCUMENTED_MAX_LEN,
        unset: None,
        coverage: Coverage::Modelled,
    }
}

impl PropertyDef {
    pub(crate) const fn read_only(mut self) -> Self {
        self.access = Access::ReadOnly;
        self
    }
    pub(crate) const fn default_set(mut self) -> Self {
        self.default = true;
        self
    }
    pub(crate) const fn filter(mut self, profile: FilterProfile) -> Self {
        self.filter = profile;
        self
    }
    pub(crate) const fn orderby(mut self, support: Support) -> Self {
        self.orderby = support;
        self
    }
    pub(crate) const fn searchable(mut self) -> Self {
        self.searchable = true;
        self
    }
    /// What Graph answers for the property while nothing set it (JSON text).
    pub(crate) const fn unset(mut self, json: &'static str) -> Self {
        self.unset = Some(json);
        self
    }
    /// A property Graph maintains that the mock never fills: read-only, and
    /// always its unset default.
    pub(crate) const fn default_only(mut self) -> Self {
        self.access = Access::ReadOnly;
        self.coverage = Coverage::DefaultOnly;
        self
    }
    /// A row generated from the CSDL alone (csdl.rs's merge).
    pub(crate) const fn stored_as_given(mut self) -> Self {
        self.coverage = Coverage::StoredAsGiven;
        self
    }
    /// Graph's documented maximum length, in characters.
    pub(crate) const fn max_len(mut self, chars: u32) -> Self {
        self.max_len = chars;
        self
    }

    /// What a read shows while the record has no value here.
    pub(crate) fn unset_value(&self) -> Value {
        match self.unset {
            // The generated and hand-written texts are JSON literals (a unit test reads each).
            Some(json) => serde_json::from_str(json).unwrap_or(Value::Null),
            None if self.ty.is_collection() => Value::Array(Vec::new()),
            None => Value::Null,
        }
    }

    /// Whether every string of `value` fits: the property's own limit for a
    /// string or a string list, and [`UNDOCUMENTED_MAX_LEN`] for every string
    /// nested in a complex value (`web.redirectUris`, `passwordProfile`), whose
    /// members the schema does not list one by one.
    fn fits(&self, value: &Value) -> bool {
        match value {
            Value::String(s) => fits_chars(s, self.max_len),
            Value::Array(items) if self.ty == PropType::StringList => {
                items.iter().all(|v| v.as_str().map_or_else(|| nested_fits(v), |s| fits_chars(s, self.max_len)))
            }
            other => nested_fits(other),
        }
    }
}

fn fits_chars(s: &str, max: u32) -> bool {
    s.len() <= max as usize || s.chars().count() <= max as usize
}

/// Every string anywhere inside `value` within [`UNDOCUMENTED_MAX_LEN`]; walked
/// with a stack, so nesting depth costs no recursion (serde_json already stops
/// a body at 128 levels).
fn nested_fits(value: &Value) -> bool {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) if !fits_chars(s, UNDOCUMENTED_MAX_LEN) => return false,
            Value::Array(items) => stack.extend(items),
            Value::Object(members) => stack.extend(members.values()),
            _ => {}
        }
    }
    true
}

/// FNV-1a for property-name lookups: a filter resolves a name per record, and
/// names are short, trusted strings, so SipHash's DoS resistance buys nothing.
#[derive(Debug, Default)]
pub(crate) struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// An entity type: its names on the wire and its properties in wire order.
#[derive(Debug)]
pub(crate) struct EntitySchema {
    /// `microsoft.graph.user`
    pub type_name: &'static str,
    /// `User`, as directory error messages name it.
    pub resource_name: &'static str,
    pub props: &'static [PropertyDef],
    /// Members of the complex types this entity uses, for `a/b` filter paths.
    pub complex_members: &'static [(&'static str, &'static str, PropType)],
    index: OnceLock<HashMap<String, usize, BuildHasherDefault<Fnv>>>,
    default_positions: OnceLock<Vec<usize>>,
}

impl EntitySchema {
    pub(crate) const fn new(
        type_name: &'static str,
        resource_name: &'static str,
        props: &'static [PropertyDef],
        complex_members: &'static [(&'static str, &'static str, PropType)],
    ) -> Self {
        EntitySchema {
            type_name,
            resource_name,
            props,
            complex_members,
            index: OnceLock::new(),
            default_positions: OnceLock::new(),
        }
    }

    /// The positions of the default `$select` set, worked out once: every read
    /// without `$select` asks for them.
    pub(crate) fn default_positions(&self) -> &[usize] {
        self.default_positions
            .get_or_init(|| self.props.iter().enumerate().filter(|(_, p)| p.default).map(|(i, _)| i).collect())
    }

    fn index(&self) -> &HashMap<String, usize, BuildHasherDefault<Fnv>> {
        self.index.get_or_init(|| {
            let mut m = HashMap::with_capacity_and_hasher(self.props.len() * 2, BuildHasherDefault::default());
            for (i, p) in self.props.iter().enumerate() {
                m.insert(p.name.to_owned(), i);
                m.insert(p.name.to_ascii_lowercase(), i);
            }
            m
        })
    }

    /// The position of a property, by its exact wire name.
    pub(crate) fn position(&self, name: &str) -> Option<usize> {
        self.index().get(name).copied().filter(|&i| self.props[i].name == name)
    }

    /// The position of a property named in a query, where Graph matches names
    /// case-insensitively.
    pub(crate) fn position_ignore_case(&self, name: &str) -> Option<usize> {
        let idx = self.index();
        idx.get(name).or_else(|| idx.get(&name.to_ascii_lowercase())).copied()
    }
}

impl FilterSchema for EntitySchema {
    fn type_name(&self) -> &str {
        self.type_name
    }
    fn resource_name(&self) -> &str {
        self.resource_name
    }
    fn property(&self, name: &str) -> Option<(&str, EdmType)> {
        let p = &self.props[self.position_ignore_case(name)?];
        Some((p.name, p.ty.edm()))
    }
    fn member(&self, complex_type: &str, name: &str) -> Option<(&str, EdmType)> {
        self.complex_members
            .iter()
            .find(|(t, m, _)| *t == complex_type && m.eq_ignore_ascii_case(name))
            .map(|(_, m, ty)| (*m, ty.edm()))
    }
    fn support(&self, property: &str, op: FilterOp) -> Support {
        match self.position_ignore_case(property) {
            Some(i) => self.props[i].filter.support(op),
            None => Support::Unsupported,
        }
    }
}

/// Graph's answer for a value it cannot store, such as a string over the
/// property's length: 400 `Request_BadRequest` naming the property.
pub(crate) fn invalid_value(property: &str, resource: &str) -> crate::error::ApiError {
    crate::error::ApiError::request_bad_request(format!(
        "Invalid value specified for property '{property}' of resource '{resource}'."
    ))
}

/// Check a POST/PATCH body against a schema: every name known, writable, of the
/// right JSON type and within its length. Returns `(position, value)` pairs,
/// dates in Graph's stored form (UTC, `Z`); nothing is applied here.
pub(crate) fn validate_write(
    schema: &EntitySchema,
    body: &serde_json::Map<String, Value>,
) -> Result<Vec<(usize, Value)>, crate::error::ApiError> {
    use crate::error::ApiError;
    let mut values = Vec::with_capacity(body.len());
    for (name, value) in body {
        // Clients may tag bodies with their type; Graph ignores the annotation.
        if name == "@odata.type" {
            continue;
        }
        if name.starts_with('@') || name.contains("@odata.") {
            return Err(ApiError::bad_request(format!(
                "The property annotation '{name}' is not supported in a request body."
            )));
        }
        let Some(pos) = schema.position(name) else {
            return Err(ApiError::request_bad_request(format!("Invalid property '{name}'.")));
        };
        let def = &schema.props[pos];
        if def.access == Access::ReadOnly {
            return Err(ApiError::property_read_only(name));
        }
        if !value.is_null() && !def.ty.accepts(value) {
            let shown = value.to_string();
            let shown = if shown.chars().count() > 60 {
                format!("{}…", shown.chars().take(60).collect::<String>())
            } else {
                shown
            };
            return Err(ApiError::bad_request(format!(
                "Cannot convert the literal '{shown}' to the expected type '{}' of property '{name}'.",
                def.ty.edm_name()
            )));
        }
        if !def.fits(value) {
            return Err(invalid_value(name, schema.resource_name));
        }
        let value = match def.ty {
            PropType::DateTime if !value.is_null() => super::dates::normalised(value).unwrap_or_else(|| value.clone()),
            _ => value.clone(),
        };
        values.push((pos, value));
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::groups::GROUP;
    use crate::directory::users::USER;
    use serde_json::json;

    fn check(schema: &EntitySchema, body: serde_json::Value) -> Result<Vec<(usize, Value)>, crate::error::ApiError> {
        validate_write(schema, body.as_object().expect("an object"))
    }

    #[test]
    fn a_string_over_its_documented_length_is_an_invalid_value_naming_the_property() {
        let err = check(&USER, json!({"givenName": "g".repeat(65)})).expect_err("64 at most");
        assert_eq!((err.status, err.code.as_ref()), (400, "Request_BadRequest"));
        assert_eq!(err.message, "Invalid value specified for property 'givenName' of resource 'User'.");
        assert!(check(&USER, json!({"givenName": "g".repeat(64)})).is_ok());
        assert!(check(&USER, json!({"givenName": "é".repeat(64)})).is_ok(), "characters, not bytes");
    }

    #[test]
    fn a_string_without_a_documented_limit_gets_the_generous_one() {
        assert!(check(&USER, json!({"aboutMe": "a".repeat(UNDOCUMENTED_MAX_LEN as usize)})).is_ok());
        assert!(check(&USER, json!({"aboutMe": "a".repeat(UNDOCUMENTED_MAX_LEN as usize + 1)})).is_err());
    }

    #[test]
    fn each_string_of_a_collection_is_held_to_the_limit() {
        let long = "r".repeat(UNDOCUMENTED_MAX_LEN as usize + 1);
        let nested = json!({"passwordProfile": {"password": long.clone(), "forceChangePasswordNextSignIn": false}});
        assert!(check(&USER, nested).is_err(), "a string nested in a complex value is held to the generous limit");
        let err = check(&GROUP, json!({"resourceBehaviorOptions": ["ok", long]})).expect_err("one too long");
        assert!(err.message.contains("'resourceBehaviorOptions'"), "{}", err.message);
    }

    #[test]
    fn a_value_of_the_wrong_json_type_is_a_400_naming_the_expected_type() {
        for (body, ty) in [
            (json!({"displayName": 5}), "Edm.String"),
            (json!({"accountEnabled": "yes"}), "Edm.Boolean"),
            (json!({"otherMails": "a@b.example"}), "Collection(Edm.String)"),
            (json!({"passwordProfile": "x"}), "complex"),
        ] {
            let err = check(&USER, body.clone()).expect_err("wrong type");
            assert_eq!(err.status, 400, "{body}");
            assert!(err.message.contains(ty), "{body}: {}", err.message);
        }
    }

    #[test]
    fn a_date_property_is_stored_in_utc_and_an_impossible_one_is_refused() {
        let values = check(&USER, json!({"employeeHireDate": "2026-03-02T01:00:00+01:00"})).expect("valid");
        assert_eq!(values[0].1, json!("2026-03-02T00:00:00Z"));
        assert!(check(&USER, json!({"employeeHireDate": "9999-12-31T23:00:00-05:00"})).is_err());
    }
}
