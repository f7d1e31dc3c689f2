use super::*;
use crate::odata::ErrorCode;
use serde_json::{json, Map, Value};

fn term(property: Option<&str>, text: &str) -> SearchExpr {
    SearchExpr::Term { property: property.map(str::to_owned), text: text.into() }
}

fn or(a: SearchExpr, b: SearchExpr) -> SearchExpr {
    SearchExpr::Or(Box::new(a), Box::new(b))
}

fn and(a: SearchExpr, b: SearchExpr) -> SearchExpr {
    SearchExpr::And(Box::new(a), Box::new(b))
}

#[test]
fn clauses_and_operators_parse() {
    let cases = [
        ("\"displayName:mir\"", term(Some("displayName"), "mir")),
        ("\"mira\"", term(None, "mira")),
        ("\"displayName: mira okafor \"", term(Some("displayName"), "mira okafor")),
        ("\"url:https://x\"", term(Some("url"), "https://x")),
        ("\"a b:c\"", term(None, "a b:c")),
        ("\"displayName:say \\\"hi\\\"\"", term(Some("displayName"), "say \"hi\"")),
        ("\"displayName:mir\" OR \"mail:mira\"", or(term(Some("displayName"), "mir"), term(Some("mail"), "mira"))),
        ("\"a:1\" OR \"b:2\" AND \"c:3\"", or(term(Some("a"), "1"), and(term(Some("b"), "2"), term(Some("c"), "3")))),
        ("(\"a:1\" OR \"b:2\") AND \"c:3\"", and(or(term(Some("a"), "1"), term(Some("b"), "2")), term(Some("c"), "3"))),
        ("  \"a:1\"OR\"b:2\"  ", or(term(Some("a"), "1"), term(Some("b"), "2"))),
    ];
    for (text, want) in cases {
        assert_eq!(parse_search(text), Ok(want), "{text}");
    }
}

#[test]
fn unquoted_search_names_the_bad_character() {
    assert_eq!(
        parse_search("x"),
        Err(ODataError::bad_request("Syntax error: character 'x' is not valid at position 0 in 'x'."))
    );
    assert_eq!(
        parse_search("\"a:1\" or \"b:2\""),
        Err(ODataError::bad_request("Syntax error: character 'o' is not valid at position 6 in '\"a:1\" or \"b:2\"'."))
    );
}

#[test]
fn malformed_searches_are_bad_requests_not_panics() {
    let cases = [
        "",
        " ",
        "x",
        "mira",
        "'mira'",
        "\"",
        "\"abc",
        "\"\"",
        "\"displayName:\"",
        "\"a\" OR",
        "OR \"a\"",
        "\"a\" AND",
        "\"a\" \"b\"",
        "\"a\" or \"b\"",
        "\"a\" and \"b\"",
        "(\"a\"",
        "\"a\")",
        "()",
        "(",
        ")",
        "\"a\" OR OR \"b\"",
        "\"a\" NOT \"b\"",
        "\"a\"\\",
        "\u{e9}",
        "\"a\" ORx \"b\"",
        "\"a\" ANDOR \"b\"",
        "\"a\" OR (\"b\"",
        "\"a\" OR ()",
        "\"a:b\" | \"c\"",
        "\"a:b\"&\"c\"",
        "\"\\\"",
        "\"a\"\"",
        "((((((",
        "\"a\" OR \"b",
        "  ",
        "\"a\" AND AND \"b\"",
        "\"a\" O",
        "\"a\" A",
        "\"a\" ORR \"b\"",
        "\"a\";",
    ];
    for text in cases {
        let result = parse_search(text);
        assert!(result.is_err(), "{text:?} → {result:?}");
        assert_eq!(result.expect_err("checked").code, ErrorCode::BadRequest, "{text}");
    }
    let deep = format!("{}\"a\"{}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(parse_search(&deep).is_err());
}

fn mira() -> Map<String, Value> {
    match json!({
        "displayName": "Mira Okafor",
        "mail": "mira.okafor@contoso.com",
        "userPrincipalName": "mira_o@contoso.onmicrosoft.com",
        "givenName": null,
        "proxyAddresses": ["SMTP:m-ok@fabrikam.com"]
    }) {
        Value::Object(map) => map,
        _ => unreachable!("object literal"),
    }
}

#[test]
fn matching_is_a_tokenised_case_insensitive_prefix_search() {
    let searchable = ["displayName", "mail", "userPrincipalName", "givenName", "proxyAddresses"];
    let cases = [
        ("\"displayName:mir\"", true),
        ("\"displayName:MIR\"", true),
        ("\"displayName:oka\"", true),
        ("\"displayName:ira\"", false),
        ("\"displayName:mira oka\"", true),
        ("\"displayName:oka mira\"", true),
        ("\"displayName:mira xyz\"", false),
        ("\"DISPLAYNAME:mir\"", true),
        ("\"mail:okafor\"", true),
        ("\"mail:contoso\"", true),
        ("\"mail:mira.okafor@contoso.com\"", true),
        ("\"mail:com\"", true),
        ("\"userPrincipalName:o\"", true),
        ("\"givenName:m\"", false),
        ("\"proxyAddresses:fabri\"", true),
        ("\"nosuch:mira\"", false),
        ("\"jobTitle:mira\"", false),
        ("\"mira\"", true),
        ("\"zzz\"", false),
        ("\"displayName:zzz\" OR \"mail:mira\"", true),
        ("\"displayName:mira\" AND \"mail:zzz\"", false),
        ("\"displayName:@@\"", false),
    ];
    let entity = mira();
    for (text, want) in cases {
        let expr = parse_search(text).expect("test searches parse");
        assert_eq!(expr.matches(&entity, &searchable), want, "{text}");
    }
}

#[test]
fn properties_lists_every_named_property_in_order() {
    let expr = parse_search("\"displayName:a\" OR (\"b\" AND \"mail:c\")").expect("parses");
    assert_eq!(expr.properties(), vec!["displayName", "mail"]);
}

#[test]
fn long_chains_are_bounded_by_the_node_limit() {
    // 20 000 terms overflowed a worker's stack when the tree was matched and dropped.
    for op in [" AND ", " OR "] {
        let chain = vec!["\"displayName:a\""; 20_000].join(op);
        let err = parse_search(&chain).expect_err("too many nodes");
        assert_eq!(err.code, ErrorCode::BadRequest);
        assert!(err.message.contains("node count limit of '1000'"), "{}", err.message);
    }
    let longest = vec!["\"displayName:a\""; 500].join(" AND ");
    assert!(parse_search(&longest).is_ok());
}

#[test]
fn nesting_beyond_the_limit_names_the_limit() {
    let deep = format!("{}\"a\"{}", "(".repeat(100_000), ")".repeat(100_000));
    let err = parse_search(&deep).expect_err("too deep");
    assert!(err.message.contains("recursion depth limit of '100'"), "{}", err.message);
    let ok = format!("{}\"a\"{}", "(".repeat(100), ")".repeat(100));
    assert!(parse_search(&ok).is_ok());
}

#[test]
fn the_largest_search_the_limits_admit_matches_on_a_worker_sized_stack() {
    // tokio's worker threads have 2 MiB; the tree's recursion must fit there
    // even unoptimised, for matching, listing properties and dropping.
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(|| {
            let chain = vec!["\"displayName:zz\""; 500].join(" AND ");
            let expr = parse_search(&chain).expect("within the limits");
            assert!(!expr.matches(&mira(), &["displayName"]));
            assert_eq!(expr.properties().len(), 500);
        })
        .expect("spawn")
        .join()
        .expect("no stack overflow");
}
