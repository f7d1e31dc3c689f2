use super::*;
use crate::odata::{parse_filter, ErrorCode};

/// A slice of Graph's `$filter` support table for users.
struct Users;

const D: Support = Support::Default;
const A: Support = Support::Advanced;
const U: Support = Support::Unsupported;

impl FilterSchema for Users {
    fn type_name(&self) -> &str {
        "microsoft.graph.user"
    }

    fn resource_name(&self) -> &str {
        "User"
    }

    fn property(&self, name: &str) -> Option<(&str, EdmType)> {
        let string_collection = || EdmType::Collection(Box::new(EdmType::String));
        let table = [
            ("id", EdmType::Guid),
            ("accountEnabled", EdmType::Boolean),
            ("displayName", EdmType::String),
            ("mail", EdmType::String),
            ("userPrincipalName", EdmType::String),
            ("createdDateTime", EdmType::DateTimeOffset),
            ("mobilePhone", EdmType::String),
            ("proxyAddresses", string_collection()),
            ("otherMails", string_collection()),
            (
                "assignedLicenses",
                EdmType::Collection(Box::new(EdmType::Complex("microsoft.graph.assignedLicense".into()))),
            ),
            ("passwordProfile", EdmType::Complex("microsoft.graph.passwordProfile".into())),
            ("employeeOrgData", EdmType::Complex("microsoft.graph.employeeOrgData".into())),
        ];
        table.into_iter().find(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    fn member(&self, complex_type: &str, name: &str) -> Option<(&str, EdmType)> {
        let table = [
            ("microsoft.graph.assignedLicense", "skuId", EdmType::Guid),
            ("microsoft.graph.employeeOrgData", "division", EdmType::String),
        ];
        table.into_iter().find(|(t, n, _)| *t == complex_type && n.eq_ignore_ascii_case(name)).map(|(_, n, ty)| (n, ty))
    }

    fn support(&self, property: &str, op: FilterOp) -> Support {
        use FilterOp::*;
        match (property, op) {
            (_, All) => U,
            ("id" | "accountEnabled", Eq | In) => D,
            ("id" | "accountEnabled", Ne | Not) => A,
            ("displayName" | "mail", Eq | Range | In | StartsWith) => D,
            ("displayName" | "mail", Ne | Not | EqNull | NeNull) => A,
            ("mail", EndsWith) => A,
            ("userPrincipalName", Eq | Range | In | StartsWith) => D,
            ("userPrincipalName", Ne | Not | EndsWith) => A,
            ("createdDateTime", Eq | Range) => D,
            ("createdDateTime", Ne | Not | In | EqNull) => A,
            ("mobilePhone", _) => A,
            ("proxyAddresses" | "otherMails", Eq | Range | StartsWith) => D,
            ("proxyAddresses" | "otherMails", Not | EndsWith) => A,
            ("otherMails", In) => D,
            ("assignedLicenses", Eq | Any) => D,
            ("assignedLicenses", Not) => A,
            ("employeeOrgData", Eq) => A,
            _ => U,
        }
    }
}

fn check(text: &str) -> Result<QueryClass, ODataError> {
    check_filter(&parse_filter(text).expect("test filters parse"), &Users)
}

#[test]
fn supported_filters_are_classified_like_the_directory_does() {
    use QueryClass::*;
    let cases = [
        ("displayName eq 'Mira'", Default),
        ("DisplayName eq 'Mira'", Default),
        ("startswith(displayName,'mi')", Default),
        ("displayName ge 'm' and displayName lt 'n'", Default),
        ("id in ('6fd2c87f-b296-42f0-b197-1e91e994b900')", Default),
        ("id eq '6fd2c87f-b296-42f0-b197-1e91e994b900'", Default),
        ("id eq 6fd2c87f-b296-42f0-b197-1e91e994b900", Default),
        ("accountEnabled eq true", Default),
        ("accountEnabled", Default),
        ("accountEnabled ne false", Advanced),
        ("displayName ne 'x'", Advanced),
        ("mail eq null", Advanced),
        ("mail ne null", Advanced),
        ("endswith(mail,'@contoso.com')", Advanced),
        ("NOT(displayName eq 'x')", Advanced),
        ("not startswith(displayName,'x')", Advanced),
        ("createdDateTime ge 2026-01-01T00:00:00Z", Default),
        ("createdDateTime eq null", Advanced),
        ("mobilePhone eq '1'", Advanced),
        ("displayName eq 'a' or mobilePhone eq '1'", Advanced),
        ("proxyAddresses/any(p:startswith(p,'smtp:mira@'))", Default),
        ("proxyAddresses/any(p:p eq 'SMTP:x')", Default),
        ("NOT(proxyAddresses/any(p:p eq 'x'))", Advanced),
        ("proxyAddresses/any(p:endswith(p,'@x.com'))", Advanced),
        ("assignedLicenses/any(x:x/skuId eq 6fd2c87f-b296-42f0-b197-1e91e994b900)", Default),
        ("assignedLicenses/any()", Default),
        ("employeeOrgData/division eq 'x'", Advanced),
        ("'Mira' eq displayName", Default),
    ];
    for (text, want) in cases {
        assert_eq!(check(text), Ok(want), "{text}");
    }
}

#[test]
fn refusals_carry_graphs_code_and_words() {
    let bad = ErrorCode::BadRequest;
    let unsupported = ErrorCode::UnsupportedQuery;
    let cases = [
        ("nosuch eq 'x'", bad, "Could not find a property named 'nosuch' on type 'microsoft.graph.user'."),
        (
            "accountEnabled eq 'true'",
            bad,
            "Invalid filter clause: A binary operator with incompatible types was detected. Found operand types 'Edm.Boolean' and 'Edm.String' for operator kind 'Equal'.",
        ),
        (
            "displayName eq 5",
            bad,
            "Invalid filter clause: A binary operator with incompatible types was detected. Found operand types 'Edm.String' and 'Edm.Int32' for operator kind 'Equal'.",
        ),
        (
            "5 gt displayName",
            bad,
            "Invalid filter clause: A binary operator with incompatible types was detected. Found operand types 'Edm.Int32' and 'Edm.String' for operator kind 'GreaterThan'.",
        ),
        (
            "createdDateTime ge '2026-01-01'",
            bad,
            "Invalid filter clause: A binary operator with incompatible types was detected. Found operand types 'Edm.DateTimeOffset' and 'Edm.String' for operator kind 'GreaterThanOrEqual'.",
        ),
        ("id eq 'not-a-guid'", bad, "Invalid filter clause: A binary operator with incompatible types was detected. Found operand types 'Edm.Guid' and 'Edm.String' for operator kind 'Equal'."),
        (
            "startswith(accountEnabled,'t')",
            bad,
            "Invalid filter clause: No function signature for the function with name 'startswith' matches the specified arguments. The function signatures considered are: startswith(Edm.String Nullable=true, Edm.String Nullable=true).",
        ),
        ("displayName/any(d:d eq 'x')", bad, "Invalid filter clause: The parent value for the Any/All query expression must be a collection."),
        ("displayName", bad, "Invalid filter clause: The $filter expression must evaluate to a single boolean value."),
        ("assignedLicenses/any(x:x/nosuch eq 1)", bad, "Could not find a property named 'nosuch' on type 'microsoft.graph.assignedLicense'."),
        ("displayName/x eq 1", bad, "Could not find a property named 'x' on type 'Edm.String'."),
        (
            "endswith(displayName,'x')",
            unsupported,
            "Unsupported or invalid query filter clause specified for property 'displayName' of resource 'User'.",
        ),
        (
            "proxyAddresses/all(p:p eq 'x')",
            unsupported,
            "Unsupported or invalid query filter clause specified for property 'proxyAddresses' of resource 'User'.",
        ),
        (
            "not (userPrincipalName eq null)",
            unsupported,
            "Unsupported or invalid query filter clause specified for property 'userPrincipalName' of resource 'User'.",
        ),
        (
            "displayName eq mail",
            unsupported,
            "Unsupported or invalid query filter clause specified for property 'displayName' of resource 'User'.",
        ),
        ("1 eq 1", unsupported, "Unsupported Query."),
        ("true", unsupported, "Unsupported Query."),
    ];
    for (text, code, message) in cases {
        let err = check(text).expect_err(text);
        assert_eq!((err.code, err.message.as_str()), (code, message), "{text}");
    }
}

#[test]
fn canonicalize_respells_properties_and_members_but_not_variables() {
    let expr =
        parse_filter("DISPLAYNAME eq 'x' and assignedlicenses/any(L: L/SKUID eq 6fd2c87f-b296-42f0-b197-1e91e994b900)")
            .expect("parses");
    let want =
        parse_filter("displayName eq 'x' and assignedLicenses/any(L: L/skuId eq 6fd2c87f-b296-42f0-b197-1e91e994b900)")
            .expect("parses");
    assert_eq!(canonicalize(&expr, &Users), want);
}
