use super::*;
use crate::odata::{CompareOp, ErrorCode, Expr, Literal, Operand, SearchExpr};

fn parse(raw: &str) -> QueryOptions<'_> {
    parse_query(raw).unwrap_or_else(|e| panic!("{raw}: {e}"))
}

fn params(q: &QueryOptions<'_>) -> Vec<(String, String)> {
    q.params().map(|(name, value)| (name.into_owned(), value.into_owned())).collect()
}

fn items<'a>(list: &'a SelectList<'_>) -> Vec<&'a str> {
    list.iter().collect()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn every_option_is_parsed_and_raw_keeps_request_order() {
    let q = parse(
        "$select=id,%20displayName&$top=5&$skip=0&$skiptoken=abc%3D&$deltatoken=d&$count=TRUE&$orderby=displayName%20desc,mail\
         &$search=%22displayName:mir%22&$expand=manager($select=id,displayName),memberOf&$format=json&tenant=x&$filter=a%20eq%201",
    );
    assert_eq!(q.select.as_ref().map(items), Some(vec!["id", "displayName"]));
    assert_eq!(q.top, Some(5));
    assert_eq!(q.skip, Some(0));
    assert_eq!(q.skiptoken.as_deref(), Some("abc="));
    assert_eq!(q.deltatoken.as_deref(), Some("d"));
    assert_eq!(q.count, Some(true));
    assert_eq!(
        q.orderby,
        vec![
            OrderBy { property: PropertyPath(strings(&["displayName"])), descending: true },
            OrderBy { property: PropertyPath(strings(&["mail"])), descending: false },
        ]
    );
    assert_eq!(q.search, Some(SearchExpr::Term { property: Some("displayName".into()), text: "mir".into() }));
    assert_eq!(
        q.expand,
        vec![
            ExpandItem { property: "manager".into(), select: Some(strings(&["id", "displayName"])) },
            ExpandItem { property: "memberOf".into(), select: None },
        ]
    );
    assert_eq!(
        q.filter,
        Some(Expr::Compare {
            op: CompareOp::Eq,
            left: Operand::Property(PropertyPath(strings(&["a"]))),
            right: Operand::Literal(Literal::Int(1)),
        })
    );
    let params = params(&q);
    let names: Vec<&str> = params.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "$select",
            "$top",
            "$skip",
            "$skiptoken",
            "$deltatoken",
            "$count",
            "$orderby",
            "$search",
            "$expand",
            "$format",
            "tenant",
            "$filter"
        ]
    );
    assert_eq!(params[0].1, "id, displayName");
}

#[test]
fn javascript_and_python_encodings_parse_identically() {
    let js = parse("$filter=startswith(displayName,'Mira%20O')%20and%20id%20in%20('a','b')&$select=id,mail");
    let python = parse(
        "%24filter=startswith%28displayName%2C%27Mira+O%27%29+and+id+in+%28%27a%27%2C%27b%27%29&%24select=id%2Cmail",
    );
    assert_eq!(js, python);
    assert!(js.filter.is_some());
}

#[test]
fn option_names_match_ignoring_case_and_plus_survives_when_encoded() {
    let q = parse("$Filter=mail%20eq%20'a%2Bb@x.com'&$TOP=1");
    assert_eq!(q.top, Some(1));
    assert_eq!(params(&q)[0], ("$Filter".to_owned(), "mail eq 'a+b@x.com'".to_owned()));
}

#[test]
fn empty_pairs_and_custom_options_are_harmless() {
    let q = parse("&&foo&bar=1&&");
    assert_eq!(params(&q), vec![("foo".to_owned(), String::new()), ("bar".to_owned(), "1".to_owned())]);
    assert_eq!(parse(""), QueryOptions::default());
}

#[test]
fn refusals_use_graphs_words() {
    let cases = [
        (
            "$top=-1",
            "Invalid value '-1' for $top query option found. The $top query option requires a non-negative integer value.",
        ),
        (
            "$skip=x",
            "Invalid value 'x' for $skip query option found. The $skip query option requires a non-negative integer value.",
        ),
        ("$xyz=1", "Query option '$xyz' is not supported."),
        ("$top=1&$TOP=2", "Query option '$top' was specified more than once, but it must be specified at most once."),
        ("$count=yes", "'yes' is not a valid count option."),
        ("$filter=", "The $filter query option must not be empty."),
        ("$select=", "The $select query option must not be empty."),
        ("$orderby=%20", "The $orderby query option must not be empty."),
        ("$format=xml", "The query option $format with value 'xml' is not supported."),
        ("$orderby=displayName,mail%20desc,DISPLAYNAME%20desc", "Duplicate property named 'DISPLAYNAME' is not supported in '$orderby'."),
        (
            "$expand=manager($select=id),memberOf,Manager",
            "Property 'Manager' is expanded more than once in '$expand'; expand each property once.",
        ),
    ];
    for (raw, message) in cases {
        assert_eq!(parse_query(raw), Err(ODataError::bad_request(message)), "{raw}");
    }
}

#[test]
fn malformed_queries_are_bad_requests_not_panics() {
    let cases = [
        "$top=",
        "$top=1.5",
        "$top=+1",
        "$top=%201",
        "$top=99999999999999999999999",
        "$skip=-0",
        "$count=",
        "$count=1",
        "$filter=a%20eq",
        "$filter=(",
        "$filter=%22x%22",
        "$select=a,,b",
        "$select=,",
        "$orderby=a%20sideways",
        "$orderby=a%20asc%20desc",
        "$orderby=,a",
        "$orderby=a/",
        "$orderby=1a",
        "$orderby=a-b",
        "$expand=",
        "$expand=manager(",
        "$expand=manager)",
        "$expand=manager($top=1)",
        "$expand=manager($select=)",
        "$expand=manager($select=a;$select=b)",
        "$expand=a,,b",
        "$expand=(a)",
        "$search=mira",
        "$search=%22",
        "$search=",
        "$format=",
        "$%FF=1",
        "x=%FF",
        "$=1",
        "$filter=a%20eq%201&$filter=b%20eq%202",
        "$select=a&$SELECT=b",
        "$Skip=1&$skip=1",
        "$search=%22a%22%20and%20%22b%22",
        "$filter=é",
        "$deltatoken=a&$deltaToken=b",
        "$expand=manager($select=a))",
    ];
    for raw in cases {
        let result = parse_query(raw);
        assert!(result.is_err(), "{raw} → {result:?}");
        assert_eq!(result.expect_err("checked").code, ErrorCode::BadRequest, "{raw}");
    }
}

#[test]
fn a_sort_key_or_expansion_repeated_a_hundred_thousand_times_is_refused_at_the_first_repeat() {
    let orderby = format!("$orderby={}", vec!["displayName"; 100_000].join(","));
    let err = parse_query(&orderby).expect_err("repeated key");
    assert!(err.message.starts_with("Duplicate property named 'displayName'"), "{}", err.message);
    let expand = format!("$expand={}", vec!["manager"; 100_000].join(","));
    let err = parse_query(&expand).expect_err("repeated expansion");
    assert!(err.message.starts_with("Property 'manager' is expanded more than once"), "{}", err.message);
    // Distinct keys and paths through one property are not repeats.
    assert!(parse_query("$orderby=a/b,a/c,a").is_ok());
}

#[test]
fn a_select_list_keeps_request_order_and_repeats_without_surrounding_whitespace() {
    let list = SelectList::parse(" id,displayName , id,\tMail").expect("no empty item");
    assert_eq!(items(&list), ["id", "displayName", "id", "Mail"]);
    assert_eq!(items(&SelectList::parse("*").expect("star")), ["*"]);
    // Whitespace around items does not make two lists differ.
    assert_eq!(SelectList::parse("id, mail"), SelectList::parse("id,mail"));
    assert_ne!(SelectList::parse("id,mail"), SelectList::parse("mail,id"));
}

#[test]
fn a_select_list_with_an_empty_item_is_refused_naming_the_whole_value() {
    for value in ["a,,b", ",a", "a,", ",", " ", "a, ,b", "a,\t"] {
        assert_eq!(
            SelectList::parse(value),
            Err(ODataError::bad_request(format!("Invalid value '{value}' for $select query option: empty item."))),
            "{value:?}"
        );
    }
}

#[test]
fn a_select_list_borrows_the_query_unless_decoding_changed_it() {
    let query = "$select=id,displayName,mail&$expand=manager";
    let q = parse(query);
    let list = q.select.as_ref().expect("select");
    assert!(std::ptr::eq(list.as_str().as_ptr(), query["$select=".len()..].as_ptr()), "borrowed from the query");
    let encoded = parse("$select=id%2CdisplayName+,mail");
    assert_eq!(encoded.select.as_ref().map(items), Some(vec!["id", "displayName", "mail"]));
}

#[test]
fn params_decode_as_the_parse_did() {
    let q = parse("%24select=id%2Cmail&x=a+b%2Bc&$top=2&flag");
    assert_eq!(
        params(&q),
        [("$select", "id,mail"), ("x", "a b+c"), ("$top", "2"), ("flag", "")]
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
    );
}
