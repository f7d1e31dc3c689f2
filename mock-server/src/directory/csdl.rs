//! Microsoft's schema for the served entity types, generated at build time
//! from `data/graph-v1.0-csdl.xml` (`build.rs`), and the merge that makes an
//! [`EntitySchema`](super::schema::EntitySchema)'s table: the hand-written
//! properties first, with their behaviour (access, default set, `$filter`
//! profile, `$orderby`, `$search`, length), then every other property of the
//! CSDL, stored as given and returned, answering its default while never set.
//!
//! The hand-written rows keep their positions (records and state files name a
//! property by position), and everything here is `const`, so a schema is still
//! a plain static table.

use super::schema::{prop, PropType, PropertyDef};

/// One structural property as the CSDL declares it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CsdlProp {
    pub name: &'static str,
    pub ty: PropType,
    pub nullable: bool,
    /// The type that declares it (`entity`, `directoryObject`, or the type itself).
    #[allow(dead_code)]
    pub declared_by: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/csdl_schema.rs"));

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn hand_written(hand: &[PropertyDef], name: &str) -> bool {
    let mut i = 0;
    while i < hand.len() {
        if same(hand[i].name, name) {
            return true;
        }
        i += 1;
    }
    false
}

/// How many properties [`merge`] yields: the hand-written ones and every CSDL
/// property they do not name.
pub(crate) const fn merged_len(hand: &[PropertyDef], csdl: &[CsdlProp]) -> usize {
    let mut n = hand.len();
    let mut i = 0;
    while i < csdl.len() {
        if !hand_written(hand, csdl[i].name) {
            n += 1;
        }
        i += 1;
    }
    n
}

/// The hand-written rows in their order, then the CSDL's other properties in
/// its declaration order, each writable, not in the default set, not
/// filterable: what Graph does with most of them. Ones that Graph maintains
/// itself are hand-written rows (`read_only`).
pub(crate) const fn merge<const N: usize>(hand: &[PropertyDef], csdl: &[CsdlProp]) -> [PropertyDef; N] {
    let mut out = [prop("", PropType::String); N];
    let mut n = 0;
    while n < hand.len() {
        out[n] = hand[n];
        n += 1;
    }
    let mut i = 0;
    while i < csdl.len() {
        let p = &csdl[i];
        if !hand_written(hand, p.name) {
            let def = prop(p.name, p.ty).stored_as_given();
            out[n] = match (p.nullable, unset_default(p.ty)) {
                (false, Some(json)) => def.unset(json),
                _ => def,
            };
            n += 1;
        }
        i += 1;
    }
    assert!(n == N, "merged_len and merge disagree");
    out
}

/// What a non-nullable scalar answers while nothing set it: the CLR default
/// Graph's serializer writes (false, 0, the minimum date). Collections answer
/// `[]` and nullable values `null` without help.
const fn unset_default(ty: PropType) -> Option<&'static str> {
    match ty {
        PropType::Bool => Some("false"),
        PropType::Int(_) | PropType::Number(_) => Some("0"),
        PropType::DateTime => Some("\"0001-01-01T00:00:00Z\""),
        _ => None,
    }
}

/// What a property answers while the object has no value for it.
pub(crate) fn unset_json(p: &CsdlProp) -> serde_json::Value {
    match unset_default(p.ty) {
        Some(json) if !p.nullable => serde_json::from_str(json).unwrap_or(serde_json::Value::Null),
        _ if p.ty.is_collection() => serde_json::Value::Array(Vec::new()),
        _ => serde_json::Value::Null,
    }
}

/// Whether `name` is one of the generated enum types.
pub(crate) fn is_enum(name: &str) -> bool {
    ENUMS.iter().any(|(n, _, _)| *n == name)
}

/// Whether `value` is a member of the enum type `name` (for a flags enum, a
/// comma-separated list of members), compared as Graph does, ignoring case.
pub(crate) fn is_enum_value(name: &str, value: &str) -> bool {
    let Some((_, flags, members)) = ENUMS.iter().find(|(n, _, _)| *n == name) else {
        return false;
    };
    let known = |v: &str| members.iter().any(|m| m.eq_ignore_ascii_case(v.trim()));
    if *flags {
        value.split(',').all(known)
    } else {
        known(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::schema::EntitySchema;

    /// Each served schema beside the CSDL type it serves.
    fn served() -> Vec<(&'static EntitySchema, &'static [CsdlProp])> {
        use crate::directory::{applications, consent, federated_credentials, groups, organization, roles};
        use crate::directory::{service_principals, users};
        vec![
            (&users::USER, USER),
            (&groups::GROUP, GROUP),
            (&applications::APPLICATION, APPLICATION),
            (&service_principals::SERVICE_PRINCIPAL, SERVICE_PRINCIPAL),
            (&organization::ORGANIZATION, ORGANIZATION),
            (&organization::ON_PREMISES_SYNCHRONIZATION, ON_PREMISES_DIRECTORY_SYNCHRONIZATION),
            (&roles::DIRECTORY_ROLE, DIRECTORY_ROLE),
            (&roles::ROLE_ASSIGNMENT, UNIFIED_ROLE_ASSIGNMENT),
            (&consent::APP_ROLE_ASSIGNMENT, APP_ROLE_ASSIGNMENT),
            (&consent::OAUTH2_PERMISSION_GRANT, OAUTH2_PERMISSION_GRANT),
            (&federated_credentials::FEDERATED_CREDENTIAL, FEDERATED_IDENTITY_CREDENTIAL),
        ]
    }

    /// Whether the hand-written type `ours` stores what the CSDL's `theirs`
    /// describes. Ours may be narrower where graphbox knows more: an `id` that
    /// is a GUID, an object id Graph types as a string, an enum-like string
    /// Graph declares as `Edm.String`.
    fn compatible(ours: PropType, theirs: PropType) -> bool {
        ours == theirs
            || matches!((ours, theirs), (PropType::Guid, PropType::String) | (PropType::String, PropType::Enum(_)))
    }

    #[test]
    fn every_csdl_property_of_each_served_type_is_in_its_schema_with_a_compatible_type() {
        for (schema, csdl) in served() {
            assert_eq!(schema.type_name, format!("microsoft.graph.{}", csdl.last().map_or("", |p| p.declared_by)));
            for p in csdl {
                let pos = schema.position(p.name).unwrap_or_else(|| panic!("{}.{} missing", schema.type_name, p.name));
                let ours = schema.props[pos].ty;
                assert!(compatible(ours, p.ty), "{}.{}: ours {ours:?}, CSDL {:?}", schema.type_name, p.name, p.ty);
            }
        }
    }

    #[test]
    fn every_hand_written_property_is_one_graph_has() {
        for (schema, csdl) in served() {
            for def in schema.props {
                assert!(
                    csdl.iter().any(|p| p.name == def.name),
                    "{}.{} is not in Microsoft's schema",
                    schema.type_name,
                    def.name
                );
            }
        }
    }

    #[test]
    fn every_unset_answer_is_json_of_the_property_type() {
        for (schema, _) in served() {
            for def in schema.props {
                if let Some(text) = def.unset {
                    let value: serde_json::Value = serde_json::from_str(text).expect("JSON");
                    assert!(def.ty.accepts(&value), "{}.{}: {text}", schema.type_name, def.name);
                }
            }
        }
    }

    #[test]
    fn graph_properties_the_mock_gives_no_behaviour_are_selectable_and_writable_as_stored() {
        use crate::directory::users::USER;
        for name in ["signInActivity", "employeeOrgData", "hireDate", "deletedDateTime", "skills", "mySite"] {
            assert!(USER.position_ignore_case(name).is_some(), "{name}");
        }
        let hire = &USER.props[USER.position("hireDate").expect("generated")];
        assert_eq!(hire.unset_value(), serde_json::json!("0001-01-01T00:00:00Z"), "non-nullable: its minimum");
        let org = &USER.props[USER.position("employeeOrgData").expect("generated")];
        assert_eq!(org.unset_value(), serde_json::Value::Null);
        assert_eq!(org.access, crate::directory::schema::Access::ReadWrite);
        let sign_in = &USER.props[USER.position("signInActivity").expect("hand-written")];
        assert_eq!(sign_in.access, crate::directory::schema::Access::ReadOnly, "the service keeps it");
    }

    #[test]
    fn the_built_in_role_definitions_carry_only_properties_graph_has() {
        for definition in crate::directory::roles::role_definitions_json() {
            // `inheritsPermissionsFrom` is a navigation property Graph expands
            // on role definitions by default.
            for key in definition.keys().filter(|k| !k.starts_with('@') && *k != "inheritsPermissionsFrom") {
                assert!(UNIFIED_ROLE_DEFINITION.iter().any(|p| p.name == key), "{key}");
            }
        }
    }

    #[test]
    fn enum_values_are_checked_against_their_members() {
        assert!(is_enum_value("microsoft.graph.groupAccessType", "Private"));
        assert!(!is_enum_value("microsoft.graph.groupAccessType", "closed"));
        assert!(is_enum_value("microsoft.graph.nativeAuthenticationApisEnabled", "none,all"));
        assert!(!is_enum_value("microsoft.graph.nativeAuthenticationApisEnabled", "none,some"));
        assert!(!is_enum_value("microsoft.graph.noSuchEnum", "none"));
    }
}
