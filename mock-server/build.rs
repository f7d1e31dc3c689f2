//! Generates the property lists of the entity types graphbox serves from
//! Microsoft's Graph v1.0 schema (`data/graph-v1.0-csdl.xml`, see
//! `data/README.md`), so no property Graph has is missing here. The output,
//! `$OUT_DIR/csdl_schema.rs`, is included by `src/directory/csdl.rs`, which
//! merges it with the hand-written behaviour tables.
//!
//! Only structural properties are taken (navigation properties are routes, not
//! `$select`able values), inherited ones included (`entity.id`,
//! `directoryObject.deletedDateTime`), in the CSDL's declaration order.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::PathBuf;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// The served entity types: (CSDL name, the generated constant's name).
const SERVED: &[(&str, &str)] = &[
    ("user", "USER"),
    ("group", "GROUP"),
    ("application", "APPLICATION"),
    ("servicePrincipal", "SERVICE_PRINCIPAL"),
    ("organization", "ORGANIZATION"),
    ("domain", "DOMAIN"),
    ("directoryRole", "DIRECTORY_ROLE"),
    ("unifiedRoleDefinition", "UNIFIED_ROLE_DEFINITION"),
    ("unifiedRoleAssignment", "UNIFIED_ROLE_ASSIGNMENT"),
    ("subscribedSku", "SUBSCRIBED_SKU"),
    ("licenseDetails", "LICENSE_DETAILS"),
    ("appRoleAssignment", "APP_ROLE_ASSIGNMENT"),
    ("oAuth2PermissionGrant", "OAUTH2_PERMISSION_GRANT"),
    ("federatedIdentityCredential", "FEDERATED_IDENTITY_CREDENTIAL"),
    ("onPremisesDirectorySynchronization", "ON_PREMISES_DIRECTORY_SYNCHRONIZATION"),
];

const NAMESPACE: &str = "microsoft.graph";

struct Prop {
    name: String,
    ty: String,
    nullable: bool,
}

#[derive(Default)]
struct EntityType {
    base: Option<String>,
    props: Vec<Prop>,
}

fn attr(e: &BytesStart<'_>, key: &[u8]) -> Option<String> {
    e.attributes().flatten().find(|a| a.key.as_ref() == key).map(|a| String::from_utf8_lossy(&a.value).into_owned())
}

/// `graph.x` / `microsoft.graph.x` → `x`; other namespaces stay qualified.
fn local(name: &str) -> String {
    name.strip_prefix("graph.")
        .or_else(|| name.strip_prefix("microsoft.graph."))
        .filter(|rest| !rest.contains('.'))
        .unwrap_or(name)
        .to_owned()
}

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let csdl_path = manifest.join("data/graph-v1.0-csdl.xml");
    println!("cargo:rerun-if-changed={}", csdl_path.display());
    println!("cargo:rerun-if-changed=build.rs");
    let xml = std::fs::read_to_string(&csdl_path).unwrap_or_else(|e| panic!("reading {}: {e}", csdl_path.display()));

    let mut entities: HashMap<String, EntityType> = HashMap::new();
    let mut complex: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut enums: BTreeMap<String, (bool, Vec<String>)> = BTreeMap::new();

    let mut reader = Reader::from_str(&xml);
    let mut in_graph_schema = false;
    let mut current_entity: Option<String> = None;
    let mut current_enum: Option<String> = None;
    loop {
        let event = reader.read_event().unwrap_or_else(|e| panic!("the CSDL is not XML: {e}"));
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                match e.local_name().as_ref() {
                    b"Schema" => in_graph_schema = attr(e, b"Namespace").as_deref() == Some(NAMESPACE),
                    b"EntityType" if in_graph_schema => {
                        let name = attr(e, b"Name").expect("an EntityType has a Name");
                        let base = attr(e, b"BaseType").map(|b| local(&b));
                        entities.insert(name.clone(), EntityType { base, props: Vec::new() });
                        if !empty {
                            current_entity = Some(name);
                        }
                    }
                    b"ComplexType" if in_graph_schema => {
                        complex.insert(attr(e, b"Name").expect("a ComplexType has a Name"));
                    }
                    b"EnumType" if in_graph_schema => {
                        let name = attr(e, b"Name").expect("an EnumType has a Name");
                        let flags = attr(e, b"IsFlags").as_deref() == Some("true");
                        enums.insert(name.clone(), (flags, Vec::new()));
                        if !empty {
                            current_enum = Some(name);
                        }
                    }
                    b"Member" => {
                        if let Some(en) = &current_enum {
                            let member = attr(e, b"Name").expect("an enum Member has a Name");
                            enums.get_mut(en).expect("opened above").1.push(member);
                        }
                    }
                    b"Property" => {
                        if let Some(ent) = &current_entity {
                            let prop = Prop {
                                name: attr(e, b"Name").expect("a Property has a Name"),
                                ty: attr(e, b"Type").expect("a Property has a Type"),
                                nullable: attr(e, b"Nullable").as_deref() != Some("false"),
                            };
                            entities.get_mut(ent).expect("opened above").props.push(prop);
                        }
                    }
                    _ => {}
                }
            }
            Event::End(ref e) => match e.local_name().as_ref() {
                b"EntityType" => current_entity = None,
                b"EnumType" => current_enum = None,
                b"Schema" => in_graph_schema = false,
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }

    let mut out = String::from("// Generated by build.rs from data/graph-v1.0-csdl.xml. Do not edit.\n\n");
    let mut used_enums = std::collections::BTreeSet::new();
    for (csdl_name, const_name) in SERVED {
        // The inheritance chain, root first (entity, directoryObject, …).
        let mut chain = Vec::new();
        let mut at = Some((*csdl_name).to_owned());
        while let Some(name) = at {
            let ty = entities.get(&name).unwrap_or_else(|| panic!("entity type {name} is not in the CSDL"));
            at = ty.base.clone();
            chain.push(name);
        }
        writeln!(out, "/// Every structural property of `microsoft.graph.{csdl_name}`, inherited ones first.").unwrap();
        // Some types are only checked by the schema test (or not yet served from JSON).
        out.push_str("#[allow(dead_code)]\n");
        writeln!(out, "pub(crate) const {const_name}: &[CsdlProp] = &[").unwrap();
        for name in chain.iter().rev() {
            for p in &entities[name].props {
                let ty = prop_type(&p.ty, &complex, &enums, &mut used_enums);
                writeln!(
                    out,
                    "    CsdlProp {{ name: {:?}, ty: {ty}, nullable: {}, declared_by: {:?} }},",
                    p.name, p.nullable, name
                )
                .unwrap();
            }
        }
        out.push_str("];\n\n");
    }
    out.push_str("/// The enum types those properties use: (name, is a flags enum, members).\n");
    out.push_str("pub(crate) const ENUMS: &[(&str, bool, &[&str])] = &[\n");
    for name in &used_enums {
        let (flags, members) = &enums[name];
        writeln!(out, "    (\"microsoft.graph.{name}\", {flags}, &{members:?}),").unwrap();
    }
    out.push_str("];\n");

    let dest = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("csdl_schema.rs");
    std::fs::write(&dest, out).unwrap_or_else(|e| panic!("writing {}: {e}", dest.display()));
}

/// The `PropType` expression for a CSDL type.
fn prop_type(
    ty: &str,
    complex: &std::collections::HashSet<String>,
    enums: &BTreeMap<String, (bool, Vec<String>)>,
    used_enums: &mut std::collections::BTreeSet<String>,
) -> String {
    if let Some(inner) = ty.strip_prefix("Collection(").and_then(|t| t.strip_suffix(')')) {
        return match inner {
            "Edm.String" => "PropType::StringList".to_owned(),
            other => {
                let name = local(other);
                if complex.contains(&name) {
                    format!("PropType::ComplexList(\"microsoft.graph.{name}\")")
                } else {
                    if enums.contains_key(&name) {
                        used_enums.insert(name.clone());
                        return format!("PropType::List(\"microsoft.graph.{name}\")");
                    }
                    format!("PropType::List({other:?})")
                }
            }
        };
    }
    match ty {
        "Edm.String" => "PropType::String".to_owned(),
        "Edm.Boolean" => "PropType::Bool".to_owned(),
        "Edm.DateTimeOffset" => "PropType::DateTime".to_owned(),
        "Edm.Guid" => "PropType::Guid".to_owned(),
        "Edm.Int16" | "Edm.Int32" | "Edm.Int64" | "Edm.Byte" | "Edm.SByte" => format!("PropType::Int({ty:?})"),
        "Edm.Double" | "Edm.Single" | "Edm.Decimal" => format!("PropType::Number({ty:?})"),
        "Edm.Date" | "Edm.TimeOfDay" | "Edm.Duration" | "Edm.Binary" | "Edm.Stream" => {
            format!("PropType::Text({ty:?})")
        }
        other => {
            let name = local(other);
            if complex.contains(&name) {
                format!("PropType::Complex(\"microsoft.graph.{name}\")")
            } else if enums.contains_key(&name) {
                used_enums.insert(name.clone());
                format!("PropType::Enum(\"microsoft.graph.{name}\")")
            } else {
                panic!("the CSDL type {other} is neither Edm, complex nor enum")
            }
        }
    }
}
