use super::*;
use crate::odata::parse_filter;
use serde_json::json;

fn mira() -> serde_json::Map<String, Value> {
    let value = json!({
        "id": "2d7e9c14-a3b8-4f51-8c06-9e2b4d7a1f30",
        "displayName": "Mira Okafor",
        "givenName": "Mïra",
        "mail": "mira@contoso.com",
        "accountEnabled": true,
        "showInAddressList": false,
        "jobTitle": null,
        "age": 41,
        "score": 2.5,
        "createdDateTime": "2026-03-02T10:00:00Z",
        "proxyAddresses": ["SMTP:mira@contoso.com", "smtp:m.okafor@contoso.com"],
        "otherMails": [],
        "assignedLicenses": [{"skuId": "6FD2C87F-B296-42F0-B197-1E91E994B900", "disabledPlans": []}],
        "employeeOrgData": {"division": "Research", "costCenter": null}
    });
    match value {
        Value::Object(map) => map,
        _ => unreachable!("literal above is an object"),
    }
}

#[test]
fn filters_evaluate_against_an_entity_like_the_directory() {
    let cases = [
        ("displayName eq 'Mira Okafor'", true),
        ("displayName eq 'MIRA OKAFOR'", true),
        ("givenName eq 'MÏRA'", true),
        ("displayName eq 'Mira'", false),
        ("displayName ne 'Mira'", true),
        ("displayName ne 'mira okafor'", false),
        ("startswith(displayName,'mi')", true),
        ("startswith(displayName,'Ok')", false),
        ("endswith(mail,'@CONTOSO.com')", true),
        ("contains(displayName,'oKa')", true),
        ("displayName ge 'm' and displayName lt 'n'", true),
        ("displayName gt 'n'", false),
        ("'n' gt displayName", true),
        ("displayName in ('x', 'mira okafor')", true),
        ("displayName in ('x', 'y')", false),
        ("jobTitle eq null", true),
        ("nosuch eq null", true),
        ("jobTitle ne null", false),
        ("displayName ne null", true),
        ("displayName eq null", false),
        ("jobTitle eq 'x'", false),
        ("jobTitle ne 'x'", true),
        ("jobTitle gt 'a'", false),
        ("jobTitle lt 'a'", false),
        ("nosuch ge 1", false),
        ("accountEnabled", true),
        ("showInAddressList", false),
        ("not showInAddressList", true),
        ("accountEnabled eq true", true),
        ("accountEnabled eq false", false),
        ("age eq 41", true),
        ("age gt 40.5", true),
        ("age le 41", true),
        ("score lt 3", true),
        ("score eq 2.5", true),
        ("id eq 2d7e9c14-a3b8-4f51-8c06-9e2b4d7a1f30", true),
        ("id eq 2D7E9C14-A3B8-4F51-8C06-9E2B4D7A1F30", true),
        ("id eq '2D7E9C14-A3B8-4F51-8C06-9E2B4D7A1F30'", true),
        ("createdDateTime ge 2026-03-02T10:00:00Z", true),
        ("createdDateTime gt 2026-03-02T10:00:00Z", false),
        ("createdDateTime lt 2026-03-02T11:00:01+01:00", true),
        ("createdDateTime eq 2026-03-02T11:00:00+01:00", true),
        ("proxyAddresses/any(p:startswith(p,'smtp:mira@'))", true),
        ("proxyAddresses/any(p:p eq 'smtp:M.OKAFOR@contoso.com')", true),
        ("proxyAddresses/any(p:p eq 'x')", false),
        ("proxyAddresses/all(p:startswith(p,'smtp:'))", true),
        ("proxyAddresses/all(p:startswith(p,'SMTP:mira'))", false),
        ("NOT(proxyAddresses/any(p:p eq 'x'))", true),
        ("proxyAddresses/any()", true),
        ("otherMails/any()", false),
        ("otherMails/all(m: m eq 'x')", true),
        ("otherMails/any(m: m eq 'x')", false),
        ("displayName/any()", false),
        ("displayName/all(d: d eq 'x')", false),
        ("assignedLicenses/any(x:x/skuId eq 6fd2c87f-b296-42f0-b197-1e91e994b900)", true),
        ("assignedLicenses/any(x:x/SKUID eq 6fd2c87f-b296-42f0-b197-1e91e994b900)", true),
        ("assignedLicenses/any(x:x/skuId eq 00000000-0000-0000-0000-000000000000)", false),
        ("assignedLicenses/any(x:x/disabledPlans/any())", false),
        ("assignedLicenses/any(x:x eq 'x')", false),
        ("proxyAddresses/any(p: displayName eq 'mira okafor')", true),
        ("employeeOrgData/division eq 'research'", true),
        ("employeeOrgData/costCenter eq null", true),
        ("employeeOrgData/nosuch eq null", true),
        ("displayName/x eq null", true),
        ("displayName eq 'Mira Okafor' and age eq 41", true),
        ("displayName eq 'x' or age eq 41", true),
        ("displayName eq 'x' or age eq 40", false),
        ("not (displayName eq 'x')", true),
        ("startswith(displayName,'mi') eq false", false),
        // Mismatched types are false rather than an error: the checker ran first.
        ("accountEnabled eq 'true'", false),
        ("displayName eq 5", false),
        ("age eq 'x'", false),
        ("startswith(age,'4')", false),
        ("startswith('Mira', 'mi')", true),
        ("proxyAddresses eq 'x'", false),
        ("proxyAddresses ne 'x'", false),
        ("1 eq 1", true),
        ("true", true),
        ("false", false),
        ("'x'", false),
        ("displayName", false),
    ];
    let entity = mira();
    for (text, want) in cases {
        let expr = parse_filter(text).expect("test filters parse");
        assert_eq!(eval(&expr, &entity), want, "{text}");
    }
}

#[test]
fn nested_lambdas_bind_the_innermost_variable() {
    let entity = match json!({"groups": [{"tags": ["a", "b"]}, {"tags": ["c"]}]}) {
        Value::Object(map) => map,
        _ => unreachable!("object literal"),
    };
    let cases = [
        ("groups/any(g: g/tags/any(t: t eq 'c'))", true),
        ("groups/all(g: g/tags/any(t: t eq 'c'))", false),
        ("groups/all(g: g/tags/any())", true),
    ];
    for (text, want) in cases {
        let expr = parse_filter(text).expect("parses");
        assert_eq!(eval(&expr, &entity), want, "{text}");
    }
}

#[test]
fn a_json_value_resolves_like_its_object() {
    let expr = parse_filter("displayName eq 'mira'").expect("parses");
    assert!(eval(&expr, &json!({"displayName": "Mira"})));
    assert!(!eval(&expr, &json!(["displayName", "Mira"])));
}
