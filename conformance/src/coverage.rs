//! What the suite covers, generated: every operation the mock serves × the scenarios whose
//! requests reached it, and per entity which of Microsoft's CSDL properties the mock models.
//!
//! [`OPERATIONS`] is the mock's routing written down once more, on purpose: the suite must name
//! what it expects to be served, and `tests/coverage.rs` fails when an operation has no
//! scenario or when a run reaches a Graph path no operation here describes.

use std::collections::{BTreeMap, BTreeSet};

use crate::csdl;
use crate::runner::Outcome;

/// One operation the mock serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    /// Where it answers: `graph`, `identity` or `msonline`.
    pub family: &'static str,
    /// `GET`, `POST`, …
    pub method: &'static str,
    /// Path template; `{x}` is any one segment, `name(…)` any key in parentheses.
    pub template: &'static str,
}

const fn g(method: &'static str, template: &'static str) -> Operation {
    Operation { family: "graph", method, template }
}

/// Every operation graphbox-mock serves (Graph under `/v1.0`, the identity platform, MSOnline).
pub const OPERATIONS: &[Operation] = &[
    g("POST", "/$batch"),
    g("GET", "/organization"),
    g("GET", "/organization/{id}"),
    g("PATCH", "/organization/{id}"),
    g("GET", "/directory/onPremisesSynchronization"),
    g("GET", "/directory/onPremisesSynchronization/{id}"),
    g("PATCH", "/directory/onPremisesSynchronization/{id}"),
    g("GET", "/directory/deletedItems/{cast}"),
    g("GET", "/directory/deletedItems/{id}"),
    g("DELETE", "/directory/deletedItems/{id}"),
    g("POST", "/directory/deletedItems/{id}/restore"),
    g("GET", "/users"),
    g("POST", "/users"),
    g("GET", "/users/$count"),
    g("GET", "/users/delta"),
    g("GET", "/users/{id}"),
    g("PATCH", "/users/{id}"),
    g("DELETE", "/users/{id}"),
    g("GET", "/users/{id}/manager"),
    g("PUT", "/users/{id}/manager/$ref"),
    g("DELETE", "/users/{id}/manager/$ref"),
    g("GET", "/users/{id}/directReports"),
    g("GET", "/users/{id}/memberOf"),
    g("GET", "/users/{id}/licenseDetails"),
    g("POST", "/users/{id}/assignLicense"),
    g("GET", "/applications"),
    g("POST", "/applications"),
    g("GET", "/applications/{id}"),
    g("PATCH", "/applications/{id}"),
    g("DELETE", "/applications/{id}"),
    g("POST", "/applications/{id}/addPassword"),
    g("POST", "/applications/{id}/removePassword"),
    g("POST", "/applications/{id}/addKey"),
    g("POST", "/applications/{id}/removeKey"),
    g("GET", "/applications/{id}/owners"),
    g("POST", "/applications/{id}/owners/$ref"),
    g("DELETE", "/applications/{id}/owners/{id}/$ref"),
    g("GET", "/servicePrincipals"),
    g("POST", "/servicePrincipals"),
    g("GET", "/servicePrincipals/{id}"),
    g("PATCH", "/servicePrincipals/{id}"),
    g("DELETE", "/servicePrincipals/{id}"),
    g("GET", "/servicePrincipals/{id}/oauth2PermissionGrants"),
    g("GET", "/servicePrincipals/{id}/appRoleAssignedTo"),
    g("POST", "/servicePrincipals/{id}/appRoleAssignedTo"),
    g("GET", "/servicePrincipals/{id}/appRoleAssignedTo/{id}"),
    g("DELETE", "/servicePrincipals/{id}/appRoleAssignedTo/{id}"),
    g("GET", "/servicePrincipals/{id}/appRoleAssignments"),
    g("GET", "/servicePrincipals/{id}/owners"),
    g("POST", "/servicePrincipals/{id}/owners/$ref"),
    g("DELETE", "/servicePrincipals/{id}/owners/{id}/$ref"),
    g("GET", "/servicePrincipals/{id}/ownedObjects"),
    g("GET", "/oauth2PermissionGrants"),
    g("POST", "/oauth2PermissionGrants"),
    g("GET", "/oauth2PermissionGrants/{id}"),
    g("PATCH", "/oauth2PermissionGrants/{id}"),
    g("DELETE", "/oauth2PermissionGrants/{id}"),
    g("GET", "/directoryRoles"),
    g("POST", "/directoryRoles"),
    g("GET", "/directoryRoles/{id}"),
    g("GET", "/directoryRoles/{id}/members"),
    g("POST", "/directoryRoles/{id}/members/$ref"),
    g("DELETE", "/directoryRoles/{id}/members/{id}/$ref"),
    g("GET", "/directoryRoleTemplates"),
    g("GET", "/roleManagement/directory/roleDefinitions"),
    g("GET", "/roleManagement/directory/roleDefinitions/{id}"),
    g("GET", "/roleManagement/directory/roleAssignments"),
    g("POST", "/roleManagement/directory/roleAssignments"),
    g("GET", "/roleManagement/directory/roleAssignments/{id}"),
    g("DELETE", "/roleManagement/directory/roleAssignments/{id}"),
    g("GET", "/groups"),
    g("POST", "/groups"),
    g("GET", "/groups/delta"),
    g("GET", "/groups/{id}"),
    g("PATCH", "/groups/{id}"),
    g("DELETE", "/groups/{id}"),
    g("GET", "/groups/{id}/members"),
    g("POST", "/groups/{id}/members/$ref"),
    g("DELETE", "/groups/{id}/members/{id}/$ref"),
    g("GET", "/groups/{id}/owners"),
    g("POST", "/groups/{id}/owners/$ref"),
    g("DELETE", "/groups/{id}/owners/{id}/$ref"),
    g("GET", "/domains"),
    g("POST", "/domains"),
    g("GET", "/domains/{id}"),
    g("DELETE", "/domains/{id}"),
    g("POST", "/domains/{id}/verify"),
    g("GET", "/domains/{id}/verificationDnsRecords"),
    g("GET", "/directoryObjects/{id}"),
    g("DELETE", "/directoryObjects/{id}"),
    g("POST", "/directoryObjects/getByIds"),
    g("POST", "/directoryObjects/{id}/checkMemberGroups"),
    g("POST", "/groups/{id}/getMemberGroups"),
    g("GET", "/groups/{id}/transitiveMembers"),
    g("GET", "/groups/{id}/transitiveMemberOf"),
    g("GET", "/domains/{id}/federationConfiguration"),
    g("POST", "/domains/{id}/federationConfiguration"),
    g("GET", "/domains/{id}/federationConfiguration/{id}"),
    g("PATCH", "/domains/{id}/federationConfiguration/{id}"),
    g("DELETE", "/domains/{id}/federationConfiguration/{id}"),
    g("GET", "/subscribedSkus"),
    g("GET", "/subscribedSkus/{id}"),
    Operation { family: "identity", method: "POST", template: "/{tenant}/oauth2/v2.0/token" },
    Operation { family: "identity", method: "GET", template: "/{tenant}/v2.0/.well-known/openid-configuration" },
    Operation { family: "identity", method: "GET", template: "/{tenant}/discovery/v2.0/keys" },
    Operation { family: "identity", method: "GET", template: "/common/discovery/instance" },
    Operation { family: "msonline", method: "POST", template: "/provisioningwebservice.svc" },
];

impl Operation {
    /// `GET /users/{id}`.
    pub fn label(&self) -> String {
        format!("{} {}", self.method, self.template)
    }

    /// How many literal segments match `path`, or `None` when it does not match.
    fn matches(&self, method: &str, path: &str) -> Option<usize> {
        if !self.method.eq_ignore_ascii_case(method) {
            return None;
        }
        let template: Vec<&str> = segments(self.template).collect();
        let request: Vec<&str> = segments(path).collect();
        if template.len() != request.len() {
            return None;
        }
        let mut literal = 0;
        for (t, r) in template.iter().zip(&request) {
            let r = r.strip_suffix("()").unwrap_or(r);
            let r_name = r.split('(').next().unwrap_or(r);
            if *t == "{cast}" {
                // A type-cast segment is more specific than any key.
                if !r.starts_with("microsoft.graph.") {
                    return None;
                }
                literal += 1;
                continue;
            }
            if t.starts_with('{') {
                continue;
            }
            if t.eq_ignore_ascii_case(r) || (r.contains('(') && t.eq_ignore_ascii_case(r_name)) {
                literal += 1;
            } else {
                return None;
            }
        }
        Some(literal)
    }
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

/// The operation a request reached: Graph paths start with `/v1.0`, MSOnline's is
/// `/provisioningwebservice.svc`, anything else is the identity platform. A key in parentheses
/// (`/applications(appId='…')`) counts as the item it addresses.
pub fn operation_of(method: &str, target: &str) -> Option<&'static Operation> {
    let path = target.split('?').next().unwrap_or(target);
    let (family, path) = match path.strip_prefix("/v1.0") {
        Some(rest) => ("graph", rest.to_owned()),
        None if path.eq_ignore_ascii_case("/provisioningwebservice.svc") => ("msonline", path.to_owned()),
        None => ("identity", path.to_owned()),
    };
    // `/applications(appId='…')/addPassword` addresses `/applications/{id}/addPassword`.
    let path = expand_key(&path);
    OPERATIONS
        .iter()
        .filter(|op| op.family == family)
        .filter_map(|op| op.matches(method, &path).map(|n| (n, op)))
        .max_by_key(|(n, _)| *n)
        .map(|(_, op)| op)
}

fn expand_key(path: &str) -> String {
    let mut out = Vec::new();
    for seg in segments(path) {
        match seg.find('(') {
            Some(i) if seg.ends_with(')') && i > 0 && seg != "delta()" => {
                out.push(seg[..i].to_owned());
                out.push("{key}".to_owned());
            }
            _ => out.push(seg.to_owned()),
        }
    }
    format!("/{}", out.join("/"))
}

/// Operation label → the scenarios whose requests reached it.
pub fn exercised(outcomes: &[Outcome]) -> BTreeMap<String, BTreeSet<&'static str>> {
    let mut out: BTreeMap<String, BTreeSet<&'static str>> =
        OPERATIONS.iter().map(|op| (op.label(), BTreeSet::new())).collect();
    for o in outcomes {
        for (method, target) in &o.calls {
            if let Some(op) = operation_of(method, target) {
                out.entry(op.label()).or_default().insert(o.scenario.name);
            }
        }
    }
    out
}

/// The README's operation coverage table.
pub fn operations_markdown(outcomes: &[Outcome]) -> String {
    let by_op = exercised(outcomes);
    let mut out = String::from(
        "### Operation coverage (generated by `cargo run -p graphbox-conformance -- --coverage-markdown`)\n\n\
         Every operation graphbox-mock serves and the scenarios whose requests reach it (against the\n\
         in-process mock).\n\n| operation | scenarios | which |\n|---|---|---|\n",
    );
    for op in OPERATIONS {
        let names = by_op.get(&op.label()).cloned().unwrap_or_default();
        let shown: Vec<String> = names.iter().take(4).map(|n| format!("`{n}`")).collect();
        let more = if names.len() > 4 { format!(" and {} more", names.len() - 4) } else { String::new() };
        let template = op.template.replace('|', "\\|");
        let which = if names.is_empty() { "**none**".to_owned() } else { format!("{}{more}", shown.join(", ")) };
        out.push_str(&format!("| `{} {template}` ({}) | {} | {which} |\n", op.method, op.family, names.len()));
    }
    out
}

/// Per entity: the CSDL's properties (own and inherited, navigation properties apart), which
/// the mock models and which it does not.
pub fn properties_markdown() -> String {
    let model = csdl::model();
    let mut out = String::from(
        "### Properties the mock models (generated by `cargo run -p graphbox-conformance -- --coverage-markdown`)\n\n\
         For each entity the mock stores, Microsoft's v1.0 CSDL properties (structural, own and\n\
         inherited) that the mock models, and those it does not (they are never returned). How far\n\
         each modelled one is simulated: [`docs/schema-coverage.md`](../docs/schema-coverage.md).\n\n\
         | entity | modelled | of the CSDL's | not modelled |\n|---|---|---|---|\n",
    );
    for (type_name, props) in graphbox_mock::__conformance::modelled_properties() {
        let all: BTreeMap<&str, &csdl::Property> =
            model.all_properties(type_name).into_iter().filter(|(_, p)| !p.navigation).collect();
        let modelled = props.iter().filter(|p| all.contains_key(*p)).count();
        let missing: Vec<&str> = all.keys().copied().filter(|n| !props.contains(n)).collect();
        out.push_str(&format!(
            "| `{type_name}` | {modelled} | {} | {} |\n",
            all.len(),
            if missing.is_empty() { "—".to_owned() } else { missing.join(", ") }
        ));
    }
    out
}

/// Where [`schema_coverage_markdown`]'s output is kept, relative to the workspace root.
pub const SCHEMA_COVERAGE_DOC: &str = "docs/schema-coverage.md";

/// `docs/schema-coverage.md`: for each entity the mock stores, every structural property of
/// Microsoft's v1.0 CSDL (own and inherited) classified by how far the mock simulates it, as
/// the mock's schema tables say. A CSDL property the mock's schema lacks is listed as
/// "not served" (none should be: the schema is generated from the same CSDL).
pub fn schema_coverage_markdown() -> String {
    const CLASSES: [&str; 3] = ["modelled with behaviour", "stored as given", "default only"];
    let model = csdl::model();
    let mut out = String::from(
        "# Schema coverage (generated by `cargo run -p graphbox-conformance -- --schema-coverage-markdown`)\n\n\
         For each entity graphbox-mock stores as a record, every structural property of Microsoft's\n\
         Graph v1.0 CSDL (own and inherited; navigation properties are routes, not values), by how\n\
         far the mock simulates it:\n\n\
         - **modelled with behaviour**: a hand-written row of the mock's schema. The mock says who\n\
         \x20 may write it, whether it is returned by default, its `$filter` / `$orderby` / `$search`\n\
         \x20 support and length limit, and fills or derives its value where Graph does.\n\
         - **stored as given**: from the CSDL alone. Accepted on create and `PATCH`, validated by\n\
         \x20 its Edm or enum type, stored and returned; selectable, answering `null`, `[]` or its\n\
         \x20 type's default while never set. No behaviour: Graph may do more with it.\n\
         - **default only**: Graph maintains it (a write is refused), but nothing in the mock gives\n\
         \x20 it a value, so every read answers its unset default.\n\n\
         Objects built as JSON (domains, subscribed SKUs, licence details, role definitions and\n\
         templates) are not listed; their `$select` is checked against the same CSDL lists.\n\n\
         `conformance/tests/schema_coverage.rs` fails when this file is stale.\n\n\
         | entity | CSDL properties | modelled with behaviour | stored as given | default only | not served |\n\
         |---|---|---|---|---|---|\n",
    );
    let mut sections = String::new();
    for (type_name, props) in graphbox_mock::__conformance::property_coverage() {
        let all: BTreeMap<&str, &csdl::Property> =
            model.all_properties(type_name).into_iter().filter(|(_, p)| !p.navigation).collect();
        let class_of: BTreeMap<&str, &str> = props.iter().copied().collect();
        let mut by_class: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for name in all.keys() {
            by_class.entry(class_of.get(name).copied().unwrap_or("not served")).or_default().push(name);
        }
        let count = |c: &str| by_class.get(c).map_or(0, Vec::len);
        out.push_str(&format!(
            "| `{type_name}` | {} | {} | {} | {} | {} |\n",
            all.len(),
            count(CLASSES[0]),
            count(CLASSES[1]),
            count(CLASSES[2]),
            count("not served")
        ));
        sections.push_str(&format!("\n## `{type_name}`\n\n"));
        for class in CLASSES.iter().chain(&["not served"]) {
            let names = by_class.get(class).cloned().unwrap_or_default();
            if names.is_empty() && *class == "not served" {
                continue;
            }
            let list = if names.is_empty() {
                "—".to_owned()
            } else {
                names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
            };
            sections.push_str(&format!("- **{class}** ({}): {list}\n", names.len()));
        }
    }
    out.push_str(&sections);
    out
}

/// Properties the mock models that the CSDL does not declare on the type: each one is a
/// property a real client would never see.
pub fn modelled_but_not_in_csdl() -> Vec<String> {
    let model = csdl::model();
    let mut out = Vec::new();
    for (type_name, props) in graphbox_mock::__conformance::modelled_properties() {
        for p in props {
            if model.property(type_name, p).is_none() {
                out.push(format!("{type_name}.{p}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(method: &str, target: &str) -> Option<String> {
        operation_of(method, target).map(Operation::label)
    }

    #[test]
    fn requests_map_to_the_most_literal_operation() {
        assert_eq!(op("GET", "/v1.0/users/abc?$select=id").as_deref(), Some("GET /users/{id}"));
        assert_eq!(op("GET", "/v1.0/users/delta()").as_deref(), Some("GET /users/delta"));
        assert_eq!(op("GET", "/v1.0/users/$count").as_deref(), Some("GET /users/$count"));
        assert_eq!(
            op("POST", "/v1.0/applications(appId='x')/addPassword").as_deref(),
            Some("POST /applications/{id}/addPassword")
        );
        assert_eq!(op("GET", "/v1.0/directoryRoles(roleTemplateId='x')").as_deref(), Some("GET /directoryRoles/{id}"));
        assert_eq!(op("POST", "/t/oauth2/v2.0/token").as_deref(), Some("POST /{tenant}/oauth2/v2.0/token"));
        assert_eq!(
            op("GET", "/v1.0/directory/deletedItems/microsoft.graph.user").as_deref(),
            Some("GET /directory/deletedItems/{cast}")
        );
        assert_eq!(op("GET", "/v1.0/directory/deletedItems/abc").as_deref(), Some("GET /directory/deletedItems/{id}"));
        assert_eq!(op("GET", "/v1.0/nosuchthing"), None);
    }

    #[test]
    fn every_modelled_property_is_one_of_the_csdl() {
        assert_eq!(modelled_but_not_in_csdl(), Vec::<String>::new());
    }
}
