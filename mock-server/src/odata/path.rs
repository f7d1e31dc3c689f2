//! The resource path after `/v1.0` → [`ODataPath`], without knowledge of the
//! entity model.
//!
//! Each `/`-separated segment is percent-decoded on its own, so an encoded `%2F`
//! in a UPN stays inside its segment instead of splitting the path.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;
use smallvec::SmallVec;

use super::filter::lexer::{self, Token};
use super::{KeyArg, ODataError, ODataPath, Segment};

/// The namespace that marks a segment as a type cast; UPNs contain dots too, so
/// only this prefix counts.
const CAST_PREFIX: &str = "microsoft.graph.";

/// Parses a path such as `/users/mira%40contoso.com/manager/$ref`.
///
/// `name(args)` becomes `Identifier(name)` followed by `Parens(args)`;
/// `microsoft.graph.x` becomes `Cast`, unless it has parentheses, in which case it
/// is a fully qualified function call (`microsoft.graph.delta()`) and is returned
/// as an identifier. The empty path and `/` give no segments (the service root).
///
/// # Errors
/// `BadRequest` for an empty inner segment, a `$` segment other than `$count`,
/// `$ref`, `$value`, `$batch`, `$metadata`, bytes that do not decode to UTF-8, and
/// malformed parentheses (the message names the segment).
pub fn parse_path(path: &str) -> Result<ODataPath<'_>, ODataError> {
    let mut segments = SmallVec::new();
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    if trimmed.is_empty() {
        return Ok(ODataPath { segments });
    }
    // One trailing slash is tolerated (`/users/`), so `//` is an empty segment.
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    for raw in trimmed.split('/') {
        // Most segments hold no escape: taken as they are, they skip the
        // decoder's byte-by-byte scan and its second UTF-8 check.
        let decoded = if raw.contains('%') {
            percent_decode_str(raw).decode_utf8().map_err(|_| not_found(raw))?
        } else {
            Cow::Borrowed(raw)
        };
        parse_segment(decoded, &mut segments)?;
    }
    Ok(ODataPath { segments })
}

fn not_found(segment: &str) -> ODataError {
    ODataError::bad_request(format!("Resource not found for the segment '{segment}'."))
}

fn malformed(segment: &str) -> ODataError {
    ODataError::bad_request(format!(
        "Bad Request - Error in query syntax: the parentheses in segment '{segment}' are malformed."
    ))
}

fn parse_segment<'p>(segment: Cow<'p, str>, out: &mut SmallVec<[Segment<'p>; 4]>) -> Result<(), ODataError> {
    if segment.is_empty() {
        return Err(not_found(&segment));
    }
    if let Some(name) = segment.strip_prefix('$') {
        let system = match name.to_ascii_lowercase().as_str() {
            "count" => Segment::Count,
            "ref" => Segment::Ref,
            "value" => Segment::Value,
            "batch" => Segment::Batch,
            "metadata" => Segment::Metadata,
            _ => return Err(not_found(&segment)),
        };
        out.push(system);
        return Ok(());
    }
    let Some(open) = segment.find('(') else {
        if segment.contains(')') {
            return Err(malformed(&segment));
        }
        if segment.starts_with(CAST_PREFIX) && segment.len() > CAST_PREFIX.len() {
            out.push(Segment::Cast(segment));
        } else {
            out.push(Segment::Identifier(segment));
        }
        return Ok(());
    };
    let name = &segment[..open];
    let Some(inner) = segment[open + 1..].strip_suffix(')') else {
        return Err(malformed(&segment));
    };
    if name.is_empty() {
        return Err(malformed(&segment));
    }
    let args = parse_args(inner).ok_or_else(|| malformed(&segment))?;
    // The name is a prefix of the segment: cut the borrowed text down to it, or
    // copy it when decoding already made the segment a copy.
    let name = match segment {
        Cow::Borrowed(whole) => Cow::Borrowed(&whole[..open]),
        Cow::Owned(ref whole) => Cow::Owned(whole[..open].to_owned()),
    };
    out.push(Segment::Identifier(name));
    out.push(Segment::Parens(args));
    Ok(())
}

/// `'abc'`, `appId='…'`, `a=1,b='x'` or nothing. `None` when malformed; the
/// caller names the segment.
fn parse_args(inner: &str) -> Option<Vec<KeyArg>> {
    let tokens: Vec<Token> = lexer::tokenize(inner).ok()?.into_iter().map(|s| s.token).collect();
    let mut args = Vec::new();
    if tokens.is_empty() {
        return Some(args);
    }
    for arg in tokens.split(|t| *t == Token::Comma) {
        let arg = match arg {
            [Token::Literal(value)] => KeyArg { name: None, value: value.clone() },
            [Token::Ident(name), Token::Equals, Token::Literal(value)] => {
                KeyArg { name: Some(name.clone()), value: value.clone() }
            }
            _ => return None,
        };
        args.push(arg);
    }
    Some(args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::odata::Literal;
    use uuid::uuid;

    fn id(s: &str) -> Segment<'_> {
        Segment::Identifier(s.into())
    }

    fn string(s: &str) -> Literal {
        Literal::String(s.into())
    }

    #[test]
    fn paths_graph_clients_send_parse_into_segments() {
        use Segment::*;
        let app = uuid!("3c9e8a71-2b4d-4f60-a8e5-7d1c0b9e2f34");
        let cases: Vec<(&str, Vec<Segment<'_>>)> = vec![
            ("/users/mira%40contoso.com/manager/$ref", vec![id("users"), id("mira@contoso.com"), id("manager"), Ref]),
            (
                "/applications(appId='3c9e8a71-2b4d-4f60-a8e5-7d1c0b9e2f34')/addPassword",
                vec![
                    id("applications"),
                    Parens(vec![KeyArg { name: Some("appId".into()), value: string(&app.to_string()) }]),
                    id("addPassword"),
                ],
            ),
            ("/users/delta()", vec![id("users"), id("delta"), Parens(vec![])]),
            ("/users/microsoft.graph.delta()", vec![id("users"), id("microsoft.graph.delta"), Parens(vec![])]),
            (
                "/directory/deletedItems/microsoft.graph.user",
                vec![id("directory"), id("deletedItems"), Cast("microsoft.graph.user".into())],
            ),
            ("/users/$count", vec![id("users"), Count]),
            ("/$batch", vec![Batch]),
            ("/$metadata", vec![Metadata]),
            ("/users/abc/photo/$value", vec![id("users"), id("abc"), id("photo"), Value]),
            (
                "/directoryRoles(roleTemplateId='62e90394-69f5-4237-9190-012177145e10')/members/$ref",
                vec![
                    id("directoryRoles"),
                    Parens(vec![KeyArg {
                        name: Some("roleTemplateId".into()),
                        value: string("62e90394-69f5-4237-9190-012177145e10"),
                    }]),
                    id("members"),
                    Ref,
                ],
            ),
            ("/users('abc')", vec![id("users"), Parens(vec![KeyArg { name: None, value: string("abc") }])]),
            ("/users%28%27abc%27%29", vec![id("users"), Parens(vec![KeyArg { name: None, value: string("abc") }])]),
            (
                "/users('o''brien@x.com')",
                vec![id("users"), Parens(vec![KeyArg { name: None, value: string("o'brien@x.com") }])],
            ),
            (
                "/users(3c9e8a71-2b4d-4f60-a8e5-7d1c0b9e2f34)",
                vec![id("users"), Parens(vec![KeyArg { name: None, value: Literal::Guid(app) }])],
            ),
            (
                "/f(a=1,b=true,c=null)",
                vec![
                    id("f"),
                    Parens(vec![
                        KeyArg { name: Some("a".into()), value: Literal::Int(1) },
                        KeyArg { name: Some("b".into()), value: Literal::Bool(true) },
                        KeyArg { name: Some("c".into()), value: Literal::Null },
                    ]),
                ],
            ),
            ("/users/", vec![id("users")]),
            ("users", vec![id("users")]),
            ("/users/a%2Fb", vec![id("users"), id("a/b")]),
            ("/users/a%23b", vec![id("users"), id("a#b")]),
            ("/users/$COUNT", vec![id("users"), Count]),
            ("/users/jürgen@x.com", vec![id("users"), id("jürgen@x.com")]),
            ("/microsoft.graph.", vec![id("microsoft.graph.")]),
            ("/", vec![]),
            ("", vec![]),
        ];
        for (path, want) in cases {
            assert_eq!(parse_path(path), Ok(ODataPath { segments: want.into() }), "{path}");
        }
    }

    #[test]
    fn segments_borrow_the_path_unless_decoding_changed_them() {
        let borrowed =
            |s: &Segment<'_>| matches!(s, Segment::Identifier(Cow::Borrowed(_)) | Segment::Cast(Cow::Borrowed(_)));
        let path = parse_path("/users/0d3c5d6e-1f2a-4b3c-8d9e-0f1a2b3c4d5e/microsoft.graph.user").expect("parses");
        assert!(path.segments.iter().all(borrowed), "{path:?}");
        let path = parse_path("/applications(appId='x')/addPassword").expect("parses");
        assert!(borrowed(&path.segments[0]) && borrowed(&path.segments[2]), "{path:?}");
        let decoded = parse_path("/users/mira%40contoso.com").expect("parses");
        assert_eq!(decoded.segments[1], id("mira@contoso.com"));
        assert!(!borrowed(&decoded.segments[1]), "{decoded:?}");
        let decoded = parse_path("/users%28%27abc%27%29").expect("parses");
        assert_eq!(decoded.segments[0], id("users"));
    }

    #[test]
    fn unknown_dollar_segments_are_resource_not_found() {
        let err = parse_path("/users/$xyz").expect_err("unknown");
        assert_eq!(err, ODataError::bad_request("Resource not found for the segment '$xyz'."));
    }

    #[test]
    fn malformed_parentheses_name_the_segment() {
        let err = parse_path("/users('abc'/x").expect_err("malformed");
        assert!(err.message.contains("'users('abc''"), "{}", err.message);
    }

    #[test]
    fn malformed_paths_are_bad_requests_not_panics() {
        let cases = [
            "//",
            "/users//x",
            "/users/$",
            "/users/$xyz",
            "/users(",
            "/users)",
            "/users('abc'",
            "/users('abc)",
            "/users(abc)",
            "/users('a')x",
            "/(abc)",
            "/users(()",
            "/users(a=)",
            "/users(=1)",
            "/users(,)",
            "/users('a',)",
            "/users(a='x'b)",
            "/users(\"x\")",
            "/users('a'))",
            "/users((('a')))",
            "/users(%FF)",
            "/users/%FF%FE",
            "/users/%C3",
            "/users(a=b)",
            "/users(a='x',='y')",
            "/users('ü",
            "/users(1 2)",
            "/users(2026-13-01T00:00:00Z)",
            "/users(12abc)",
            "/users($x)",
            "/users(;)",
            "/users(a==1)",
            "/users(a:1)",
            "/users('x'=1)",
            "/a///b",
            "/users(\u{1F600})",
            "/$count()",
            "/users/$ref(1)",
            "/users(')",
            "/x('')')",
        ];
        for path in cases {
            let result = parse_path(path);
            assert!(result.is_err(), "{path} → {result:?}");
            assert_eq!(result.expect_err("checked").code, crate::odata::ErrorCode::BadRequest);
        }
    }

    #[test]
    fn huge_and_odd_paths_do_not_panic() {
        let long = format!("/{}", "a/".repeat(50_000));
        assert!(parse_path(&long).is_ok());
        let parens = format!("/f({})", "(".repeat(10_000));
        assert!(parse_path(&parens).is_err());
        for odd in ["/é(", "/(é", "/%", "/%%", "/%zz", "/ü)'", "/'''"] {
            let _ = parse_path(odd);
        }
    }

    #[test]
    fn huge_paths_are_read_in_one_pass_without_recursion() {
        // Nothing here recurses: segments are split, parentheses are tokens.
        let many = "/a".repeat(100_000);
        assert_eq!(parse_path(&many).map(|p| p.segments.len()), Ok(100_000));
        let parens = format!("/users{}'x'{}", "(".repeat(100_000), ")".repeat(100_000));
        assert!(parse_path(&parens).expect_err("malformed").message.contains("are malformed"));
        let args = format!("/f({})", vec!["a=1"; 100_000].join(","));
        assert_eq!(parse_path(&args).map(|p| p.segments.len()), Ok(2));
    }
}
