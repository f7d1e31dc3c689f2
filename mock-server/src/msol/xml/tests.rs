use super::*;

const NO_QUOTAS: Limits =
    Limits { depth: usize::MAX, bytes_per_read: usize::MAX, name_table_chars: usize::MAX, elements: usize::MAX };

/// Runs `f` on a thread with a 256 KiB stack: recursion proportional to the
/// input's nesting would overflow it long before 100 000 levels.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(f)
        .expect("spawn a test thread")
        .join()
        .expect("the parse finished without overflowing the stack")
}

fn nested(depth: usize) -> String {
    format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth))
}

#[test]
fn elements_are_found_by_namespace_whatever_their_prefix() {
    let a = parse(r#"<x:a xmlns:x="urn:n" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><x:b i:nil="true"/><c xmlns="urn:n">1 &amp; 2</c></x:a>"#).unwrap();
    let b = parse(r#"<a xmlns="urn:n"><b xmlns:q="http://www.w3.org/2001/XMLSchema-instance" q:nil="1"/><y:c xmlns:y="urn:n">1 &amp; 2</y:c></a>"#).unwrap();
    assert_eq!(a, b);
    assert!(a.child("urn:n", "b").unwrap().nil);
    assert_eq!(a.child("urn:n", "c").unwrap().value(), Some("1 & 2"));
    assert!(a.child("urn:other", "c").is_none());
}

#[test]
fn malformed_documents_are_errors() {
    assert!(parse("<a><b></a>").is_err());
    assert!(parse("").is_err());
    assert!(parse("<a/><b/>").is_err());
}

#[test]
fn a_declaration_is_in_scope_only_inside_its_element() {
    let root =
        parse(r#"<p:a xmlns:p="urn:1" xmlns="urn:d"><p:b xmlns:p="urn:2"><p:in/></p:b><p:c/><d/><e xmlns=""/></p:a>"#)
            .unwrap();
    assert_eq!(root.ns, "urn:1");
    let names: Vec<(&str, &str)> = root.children.iter().map(|c| (c.ns.as_str(), c.local.as_str())).collect();
    assert_eq!(names, [("urn:2", "b"), ("urn:1", "c"), ("urn:d", "d"), ("", "e")]);
    assert_eq!(root.children[0].children[0].ns, "urn:2");
}

#[test]
fn an_unbound_prefix_is_an_error() {
    let err = parse("<p:a/>").unwrap_err();
    assert!(err.contains("prefix 'p' is not bound"), "{err}");
    let err = parse(r#"<a q:x="1"/>"#).unwrap_err();
    assert!(err.contains("prefix 'q' is not bound"), "{err}");
    assert!(parse(r#"<a xmlns:p=""/>"#).is_err());
    assert!(parse(r#"<a xmlns:xmlns="urn:x"/>"#).is_err());
    assert_eq!(parse(r#"<a xml:lang="en"/>"#).map(|a| a.local), Ok("a".to_owned()));
}

#[test]
fn duplicate_attributes_are_refused_by_name_and_by_expanded_name() {
    let err = parse(r#"<a x="1" x="2"/>"#).unwrap_err();
    assert!(err.contains("'x' appears more than once"), "{err}");
    let err = parse(r#"<a xmlns:p="urn:u" xmlns:p="urn:v"/>"#).unwrap_err();
    assert!(err.contains("'xmlns:p' appears more than once"), "{err}");
    let err = parse(r#"<a xmlns:p="urn:u" xmlns:q="urn:u" p:x="1" q:x="2"/>"#).unwrap_err();
    assert!(err.contains("'{urn:u}x' appears more than once"), "{err}");
    // Different expanded names: an unprefixed attribute is in no namespace.
    assert!(parse(r#"<a xmlns:p="urn:u" xmlns="urn:u" p:x="1" x="2"/>"#).is_ok());
}

#[test]
fn nesting_to_max_depth_parses_and_one_more_level_is_refused() {
    assert!(parse(&nested(MAX_DEPTH)).is_ok());
    let deeper = format!("{}<b/>{}", "<a>".repeat(MAX_DEPTH), "</a>".repeat(MAX_DEPTH));
    for doc in [nested(MAX_DEPTH + 1), deeper] {
        let err = parse(&doc).unwrap_err();
        assert!(err.contains("maximum read depth (32) has been exceeded"), "{err}");
        assert!(err.contains("MaxDepth"), "{err}");
    }
}

#[test]
fn a_hundred_thousand_levels_are_refused_on_a_small_stack() {
    let err = on_small_stack(|| parse(&nested(100_000)).map(|_| ()));
    assert!(err.unwrap_err().contains("maximum read depth"));
    // The tree that is accepted is shallow enough to clone, compare and drop there too.
    on_small_stack(|| {
        let tree = parse(&nested(MAX_DEPTH)).expect("at the limit");
        assert_eq!(tree.clone(), tree);
    });
}

#[test]
fn a_start_tag_longer_than_max_bytes_per_read_is_refused() {
    let attrs: String = (0..100_000).map(|i| format!(" a{i}=\"v\"")).collect();
    let err = parse(&format!("<x{attrs}/>")).unwrap_err();
    assert!(err.contains("maximum bytes per Read operation quota (4096)"), "{err}");
    let fits = format!("<x a=\"{}\"/>", "v".repeat(MAX_BYTES_PER_READ - 10));
    assert!(parse(&fits).is_ok());
}

#[test]
fn a_hundred_thousand_attributes_parse_without_quotas() {
    // Quadratic duplicate checks took minutes on this; the set takes one pass.
    let attrs: String = (0..100_000).map(|i| format!(" a{i}=\"v\"")).collect();
    let doc = format!("<x xmlns:i=\"{XSI}\"{attrs} i:nil=\"true\"/>");
    let root = parse_with(&doc, NO_QUOTAS).expect("well-formed");
    assert!(root.nil);
    let dup = format!("<x{attrs} a99999=\"again\"/>");
    assert!(parse_with(&dup, NO_QUOTAS).unwrap_err().contains("'a99999' appears more than once"));
}

#[test]
fn a_hundred_thousand_namespace_declarations_parse_without_quotas() {
    let decls: String = (0..100_000).map(|i| format!(" xmlns:p{i}=\"urn:{i}\"")).collect();
    let doc = format!("<p99999:x{decls}><p0:y/><p50000:z/></p99999:x>");
    let root = parse_with(&doc, NO_QUOTAS).expect("well-formed");
    assert_eq!(
        (root.ns.as_str(), root.children[0].ns.as_str(), root.children[1].ns.as_str()),
        ("urn:99999", "urn:0", "urn:50000")
    );
    // The same number spread over siblings: each is undone when its element closes.
    let siblings: String = (0..100_000).map(|i| format!("<p:s xmlns:p=\"urn:{i}\"/>")).collect();
    let root = parse_with(&format!("<r xmlns:p=\"urn:outer\">{siblings}<p:t/></r>"), NO_QUOTAS).expect("well-formed");
    assert_eq!(root.children.len(), 100_001);
    assert_eq!(root.children[99_999].ns, "urn:99999");
    assert_eq!(root.children[100_000].ns, "urn:outer");
}

#[test]
fn too_many_distinct_names_exceed_the_name_table_quota() {
    let siblings: String = (0..2_000).map(|i| format!("<s xmlns=\"urn:a-fairly-long-namespace-{i}\"/>")).collect();
    let err = parse(&format!("<r>{siblings}</r>")).unwrap_err();
    assert!(err.contains("maximum nametable character count quota (16384)"), "{err}");
    // Repeating the same names costs nothing more.
    let same: String = (0..2_000).map(|_| "<s xmlns=\"urn:a-fairly-long-namespace\"/>").collect();
    assert!(parse(&format!("<r>{same}</r>")).is_ok());
}

#[test]
fn more_elements_than_the_bound_are_refused() {
    let ok = format!("<r>{}</r>", "<a/>".repeat(MAX_ELEMENTS - 1));
    assert!(parse(&ok).is_ok());
    let err = parse(&format!("<r>{}</r>", "<a/>".repeat(MAX_ELEMENTS))).unwrap_err();
    assert!(err.contains("more than 4096 elements"), "{err}");
}
