//! Proptest strategies for malformed requests, and their rendering against a
//! route table. Strategies produce recipes (which junk where); rendering puts
//! the server's real ids, tokens and secrets into them, which only exist once
//! the server runs.

use std::collections::BTreeMap;

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS, NON_ALPHANUMERIC};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{json, Value};

use super::Request;

/// Cases per family; `ADVERSARIAL_CASES` raises it for a longer local run.
pub(crate) fn cases(default: usize) -> usize {
    std::env::var("ADVERSARIAL_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A runner whose rng is seeded from the family's name: every run generates
/// the same cases, so CI is deterministic and a failure reproduces.
pub(crate) fn runner(family: &str) -> TestRunner {
    let mut seed = [0u8; 32];
    for (i, b) in family.bytes().enumerate() {
        seed[i % 32] = seed[i % 32].wrapping_mul(31).wrapping_add(b);
    }
    let config = Config { failure_persistence: None, ..Config::default() };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed))
}

pub(crate) fn sample<S: Strategy>(runner: &mut TestRunner, strategy: &S) -> S::Value {
    strategy.new_tree(runner).expect("the strategy generates a value").current()
}

// ---------------------------------------------------------------- text junk

/// Strings that tend to break parsers: quotes, percent signs, dots, GUID-likes,
/// numbers past every integer type, control and bidi characters.
pub(crate) fn junk_text() -> BoxedStrategy<String> {
    prop_oneof![
        3 => "[a-zA-Z0-9]{0,12}",
        3 => "[ -~]{0,24}",
        2 => prop::collection::vec(any::<char>(), 0..12).prop_map(|c| c.into_iter().collect()),
        3 => prop::sample::select(vec![
            "", "'", "''", "%", "%zz", "%00", "%2F", "%2f..%2f", "%C0%AF", "%FF%FE", "%25", "..", ".", "(", ")", "()",
            "('')", "$value", "$ref", "$count", "$batch", "$metadata", "null", "0", "-1", "1e400",
            "99999999999999999999999999", "00000000-0000-0000-0000-000000000000", "{", "}", "\\", "\u{202e}",
            "\u{0}", "\u{feff}", "a/b", "a?b", "a#b", "a;b", "x'or'1'='1", "../../etc/passwd", "\u{1F600}",
            "users", "me", "delta()", "@", "a@b@c", "*", ",", "' or 1 eq 1 or '",
        ])
        .prop_map(str::to_owned),
    ]
    .boxed()
}

/// How a junk value goes into a path or query: as is, fully percent-encoded,
/// or with raw non-ASCII bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Encoding {
    Raw,
    Percent,
    Latin1,
}

fn encoding() -> impl Strategy<Value = Encoding> {
    prop_oneof![3 => Just(Encoding::Raw), 3 => Just(Encoding::Percent), 1 => Just(Encoding::Latin1)]
}

/// Only what cannot appear in a request line at all (space, CR, LF) is always
/// escaped; everything else goes as the recipe says.
const LINE_UNSAFE: &AsciiSet = &CONTROLS.add(b' ');
const PERCENT_ALL: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

pub(crate) fn encode(text: &str, enc: Encoding) -> Vec<u8> {
    match enc {
        Encoding::Raw => utf8_percent_encode(text, LINE_UNSAFE).to_string().into_bytes(),
        Encoding::Percent => utf8_percent_encode(text, PERCENT_ALL).to_string().into_bytes(),
        // Each char's low byte, raw: invalid UTF-8 for anything past ASCII.
        Encoding::Latin1 => text
            .chars()
            .map(|c| c as u32 as u8)
            .flat_map(|b| if b <= b' ' || b == 0x7f { format!("%{b:02X}").into_bytes() } else { vec![b] })
            .collect(),
    }
}

// ---------------------------------------------------------------- query junk

fn filter_junk() -> BoxedStrategy<String> {
    let token = prop::sample::select(vec![
        "displayName",
        "id",
        "userPrincipalName",
        "accountEnabled",
        "createdDateTime",
        "appId",
        "mail",
        "assignedLicenses/any(x:x/skuId eq 00000000-0000-0000-0000-000000000000)",
        "proxyAddresses/any(p:startswith(p,'a'))",
        "eq",
        "ne",
        "gt",
        "lt",
        "ge",
        "le",
        "and",
        "or",
        "not",
        "in",
        "has",
        "startswith(",
        "endswith(",
        "contains(",
        "'a'",
        "'unterminated",
        "'o''brien'",
        "123",
        "-99999999999999999999999",
        "1e400",
        "true",
        "null",
        "2026-13-45T25:61:61Z",
        "9999-12-31T23:59:59Z",
        "0001-01-01T00:00:00Z",
        "('a','b')",
        "(",
        ")",
        ",",
        "/",
        ":",
        "x:x",
        "any(",
        "all(",
        "$it",
        "@p",
        "''",
        "\u{1F600}",
    ]);
    prop_oneof![
        4 => prop::collection::vec(token, 1..12).prop_map(|t| t.join(" ")),
        1 => (1usize..1200).prop_map(|n| format!("{}id eq 'x'{}", "(".repeat(n), ")".repeat(n))),
        1 => (1usize..1200).prop_map(|n| format!("{}accountEnabled eq true", "not ".repeat(n))),
        1 => (1usize..400).prop_map(|n| (0..n).map(|i| format!("id eq '{i}'")).collect::<Vec<_>>().join(" or ")),
        2 => junk_text(),
    ]
    .boxed()
}

fn number_junk() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "-1",
            "0",
            "1",
            "999",
            "1000",
            "2147483648",
            "99999999999999999999",
            "1e3",
            "abc",
            "",
            " 5",
            "0x10",
            "+1",
            "1.5"
        ])
        .prop_map(str::to_owned),
        any::<i64>().prop_map(|n| n.to_string()),
    ]
}

fn query_value() -> BoxedStrategy<String> {
    prop_oneof![
        3 => filter_junk(),
        2 => number_junk().boxed(),
        2 => junk_text(),
        1 => "[a-zA-Z0-9+/=_-]{0,80}",
        1 => (1usize..600).prop_map(|n| format!("\"displayName:{}\"", "a".repeat(n))),
        1 => prop::collection::vec(prop::sample::select(vec!["id", "displayName", "manager", "members($select=id)", "owners(", "*", "", "x"]), 0..6)
            .prop_map(|v| v.join(",")),
    ]
    .boxed()
}

fn query_key() -> BoxedStrategy<String> {
    prop_oneof![
        6 => prop::sample::select(vec![
            "$filter", "$select", "$top", "$skiptoken", "$orderby", "$search", "$count", "$expand", "$skip",
            "$deltatoken", "$format", "$FILTER", "$Top", "filter", "$", "api-version",
        ])
        .prop_map(str::to_owned),
        1 => junk_text(),
    ]
    .boxed()
}

/// A query string of junk options, sometimes repeated, sometimes left raw.
pub(crate) fn query_junk() -> BoxedStrategy<Vec<(String, String, Encoding)>> {
    prop::collection::vec((query_key(), query_value(), encoding()), 0..4).boxed()
}

pub(crate) fn render_query(q: &[(String, String, Encoding)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, (k, v, enc)) in q.iter().enumerate() {
        out.push(if i == 0 { b'?' } else { b'&' });
        out.extend(encode(k, Encoding::Raw));
        out.push(b'=');
        out.extend(encode(v, *enc));
    }
    out
}

// ---------------------------------------------------------------- JSON junk

/// A value to put where a body expects something else.
#[derive(Debug, Clone)]
pub(crate) enum Junk {
    Value(Value),
    /// A string of this many characters.
    Huge(usize),
    /// Arrays nested this deep.
    Deep(usize),
}

impl Junk {
    /// The JSON text: deep nesting is written as text, since building (and
    /// dropping) the `Value` would recurse as deep in the test itself.
    pub(crate) fn text(&self) -> String {
        match self {
            Junk::Value(v) => v.to_string(),
            Junk::Huge(n) => format!("\"{}\"", "é".repeat(*n)),
            Junk::Deep(n) => format!("{}1{}", "[".repeat(*n), "]".repeat(*n)),
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            Junk::Value(v) => kind_of(v),
            Junk::Huge(_) => "string",
            Junk::Deep(_) => "array",
        }
    }
}

pub(crate) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)),
        prop::sample::select(vec!["1e308", "-0", "18446744073709551616", "1.7976931348623157e308"])
            .prop_map(|n| serde_json::from_str(n).unwrap_or(Value::Null)),
        junk_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(junk_text(), inner, 0..4)
                .prop_map(|m: BTreeMap<String, Value>| Value::Object(m.into_iter().collect())),
        ]
    })
}

pub(crate) fn junk() -> BoxedStrategy<Junk> {
    prop_oneof![
        6 => any_json().prop_map(Junk::Value),
        1 => (300usize..300_000).prop_map(Junk::Huge),
        1 => (2usize..3000).prop_map(Junk::Deep),
        1 => prop::sample::select(vec![
            json!("9999-12-31T23:59:59Z"), json!("0001-01-01T00:00:00Z"), json!("+275760-09-13T00:00:00Z"),
            json!("2026-02-30T00:00:00Z"), json!("-000001-01-01T00:00:00Z"), json!("99999-01-01T00:00:00Z"),
            json!("2026-03-02T10:00:00+14:00"), json!("2026-03-02T10:00:00-23:59"), json!(""), json!("now"),
        ])
        .prop_map(Junk::Value),
    ]
    .boxed()
}

/// What happens to a route's JSON body.
#[derive(Debug, Clone)]
pub(crate) enum BodyMut {
    Keep,
    /// Replace the value of the n-th leaf (depth first).
    Replace(usize, Junk),
    Remove(usize),
    Add(String, Junk),
    Whole(Junk),
    /// Cut the serialized body at this fraction (per mille).
    Truncate(u16),
    /// Put invalid UTF-8 at this fraction of the body (per mille).
    BadUtf8(u16),
}

pub(crate) fn body_mut() -> BoxedStrategy<BodyMut> {
    prop_oneof![
        3 => Just(BodyMut::Keep),
        5 => (0usize..8, junk()).prop_map(|(i, j)| BodyMut::Replace(i, j)),
        1 => (0usize..8).prop_map(BodyMut::Remove),
        1 => (junk_text(), junk()).prop_map(|(k, j)| BodyMut::Add(k, j)),
        2 => junk().prop_map(BodyMut::Whole),
        1 => (0u16..1000).prop_map(BodyMut::Truncate),
        1 => (0u16..1000).prop_map(BodyMut::BadUtf8),
    ]
    .boxed()
}

/// Caps Graph documents for string properties (the user resource: displayName
/// "Maximum length is 256 characters", mailNickname 64; the group resource:
/// displayName 256, mailNickname 64).
fn cap_of(property: &str) -> Option<usize> {
    match property {
        "displayName" => Some(256),
        "mailNickname" => Some(64),
        _ => None,
    }
}

/// JSON pointers of a template's leaves (scalars, and empty arrays/objects).
fn leaves(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) if !m.is_empty() => m.iter().for_each(|(k, x)| leaves(x, format!("{at}/{k}"), out)),
        Value::Array(a) if !a.is_empty() => a.iter().enumerate().for_each(|(i, x)| leaves(x, format!("{at}/{i}"), out)),
        _ => out.push(at),
    }
}

const MARKER: &str = "\u{1}JUNK\u{1}";

/// `template` with the value at `pointer` replaced by `junk`'s text. The
/// template is serialized with a marker there and the junk spliced in.
fn splice(template: &Value, pointer: &str, junk: &Junk) -> String {
    let mut v = template.clone();
    if let Some(slot) = v.pointer_mut(pointer) {
        *slot = Value::String(MARKER.into());
    }
    v.to_string().replacen("\"\\u0001JUNK\\u0001\"", &junk.text(), 1)
}

/// The body bytes and, when Graph must refuse it, why.
pub(crate) fn render_body(template: &Value, m: &BodyMut) -> (Vec<u8>, Option<String>) {
    let Value::Object(map) = template else { return (template.to_string().into_bytes(), None) };
    let keys: Vec<&String> = map.keys().collect();
    let mut pointers = Vec::new();
    leaves(template, String::new(), &mut pointers);
    match m {
        BodyMut::Keep => (template.to_string().into_bytes(), None),
        BodyMut::Replace(i, junk) if !pointers.is_empty() && !keys.is_empty() => {
            let pointer = &pointers[i % pointers.len()];
            let key = pointer.rsplit('/').next().unwrap_or_default();
            let was = template.pointer(pointer).map_or("null", kind_of);
            let now = junk.kind();
            let refuse = if now != was && now != "null" && was != "null" {
                Some(format!("'{pointer}' sent as a JSON {now} where Graph's type is a {was}"))
            } else if let (Some(cap), Junk::Huge(n)) = (cap_of(key), junk) {
                (*n > cap).then(|| format!("'{pointer}' of {n} characters, past Graph's cap of {cap}"))
            } else {
                None
            };
            (splice(template, pointer, junk).into_bytes(), refuse)
        }
        BodyMut::Remove(i) if !keys.is_empty() => {
            let mut m2 = map.clone();
            m2.remove(keys[i % keys.len()].as_str());
            (Value::Object(m2).to_string().into_bytes(), None)
        }
        BodyMut::Add(k, junk) => {
            let mut m2 = map.clone();
            m2.insert(k.clone(), Value::Null);
            let pointer = format!("/{}", k.replace('~', "~0").replace('/', "~1"));
            (splice(&Value::Object(m2), &pointer, junk).into_bytes(), None)
        }
        BodyMut::Whole(junk) => {
            let refuse = matches!(junk.kind(), "array" | "number" | "string" | "bool")
                .then(|| format!("a JSON {} where Graph wants an object", junk.kind()));
            (junk.text().into_bytes(), refuse)
        }
        BodyMut::Truncate(at) => {
            let text = template.to_string().into_bytes();
            let cut = text.len() * usize::from(*at) / 1000;
            let body = text[..cut].to_vec();
            let refuse = (!body.is_empty() && serde_json::from_slice::<Value>(&body).is_err())
                .then(|| "a body cut short of valid JSON".to_owned());
            (body, refuse)
        }
        BodyMut::BadUtf8(at) => {
            let mut text = template.to_string().into_bytes();
            let at = text.len() * usize::from(*at) / 1000;
            text.splice(at..at, [0xff, 0xfe, 0xc0]);
            (text, Some("a body that is not UTF-8".to_owned()))
        }
        _ => (template.to_string().into_bytes(), None),
    }
}

// ---------------------------------------------------------------- request parts

#[derive(Debug, Clone)]
pub(crate) enum ContentType {
    Json,
    Missing,
    Value(&'static str),
    Junk(String),
}

pub(crate) fn content_type() -> BoxedStrategy<ContentType> {
    prop_oneof![
        8 => Just(ContentType::Json),
        1 => Just(ContentType::Missing),
        2 => prop::sample::select(vec![
            "text/plain", "application/x-www-form-urlencoded", "application/json; charset=utf-16",
            "Application/JSON; odata.metadata=full", "application/soap+xml; charset=utf-8", "multipart/mixed; boundary=x",
            "application/xml", "application/jsonx", ";", "application/json;;;=",
        ])
        .prop_map(ContentType::Value),
        1 => junk_text().prop_map(ContentType::Junk),
    ]
    .boxed()
}

/// The credentials a case presents.
#[derive(Debug, Clone)]
pub(crate) enum Auth {
    /// The family's own good token.
    Valid,
    Missing,
    /// `Bearer <junk>`.
    Junk(String),
    /// The good token with no `Bearer ` in front.
    NoPrefix,
    /// The good token with one signature character changed.
    Tampered(usize),
    /// A good token for another audience (AAD Graph on Graph, Graph on MSOnline).
    OtherAudience,
    Basic(String),
    /// Two schemes in one header.
    Doubled,
}

pub(crate) fn auth() -> BoxedStrategy<Auth> {
    prop_oneof![
        14 => Just(Auth::Valid),
        1 => Just(Auth::Missing),
        1 => junk_text().prop_map(Auth::Junk),
        1 => Just(Auth::NoPrefix),
        1 => any::<usize>().prop_map(Auth::Tampered),
        1 => Just(Auth::OtherAudience),
        1 => junk_text().prop_map(Auth::Basic),
        1 => Just(Auth::Doubled),
    ]
    .boxed()
}

impl Auth {
    pub(crate) fn is_valid(&self) -> bool {
        matches!(self, Auth::Valid)
    }
    /// The `Authorization` header value, if any.
    pub(crate) fn header(&self, good: &str, other_audience: &str) -> Option<String> {
        match self {
            Auth::Valid => Some(format!("Bearer {good}")),
            Auth::Missing => None,
            Auth::Junk(j) => Some(format!("Bearer {}", j.replace(['\r', '\n'], ""))),
            Auth::NoPrefix => Some(good.to_owned()),
            Auth::Tampered(i) => Some(format!("Bearer {}", tamper(good, *i))),
            Auth::OtherAudience => Some(format!("Bearer {other_audience}")),
            Auth::Basic(j) => Some(format!("Basic {}", j.replace(['\r', '\n'], ""))),
            Auth::Doubled => Some(format!("Bearer {good}, Bearer {good}")),
        }
    }
}

/// `token` with one character of its signature changed; never the last two,
/// whose low bits a lenient base64 decoder may ignore.
pub(crate) fn tamper(token: &str, i: usize) -> String {
    let sig_start = token.rfind('.').map_or(0, |d| d + 1);
    let span = token.len().saturating_sub(sig_start + 2).max(1);
    let at = sig_start + i % span;
    let mut bytes = token.as_bytes().to_vec();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).expect("base64url stays ASCII")
}

#[derive(Debug, Clone)]
pub(crate) enum Method {
    Own,
    Other(&'static str),
}

pub(crate) fn method() -> BoxedStrategy<Method> {
    prop_oneof![
        10 => Just(Method::Own),
        3 => prop::sample::select(vec!["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "FOO", "get", "M-SEARCH"])
            .prop_map(Method::Other),
    ]
    .boxed()
}

/// How the path is bent before the query goes on.
#[derive(Debug, Clone)]
pub(crate) enum PathMut {
    Keep,
    /// Flip the case of the n-th segment.
    Case(usize),
    DoubleSlash(usize),
    TrailingSlash,
    DotDot(usize),
    /// Put this (percent junk) into the n-th segment.
    Insert(usize, &'static str),
    Append(String, Encoding),
    /// Send the target in absolute form.
    Absolute,
    Fragment,
}

pub(crate) fn path_mut() -> BoxedStrategy<PathMut> {
    prop_oneof![
        12 => Just(PathMut::Keep),
        1 => (0usize..6).prop_map(PathMut::Case),
        1 => (0usize..6).prop_map(PathMut::DoubleSlash),
        1 => Just(PathMut::TrailingSlash),
        1 => (0usize..6).prop_map(PathMut::DotDot),
        2 => (0usize..6, prop::sample::select(vec!["%", "%z", "%zz", "%00", "%2F", "%2e%2e", "%FF", "%C0%AF", "%25", "%u0041", "%%", "%0a", "%20", "%24"]))
            .prop_map(|(i, s)| PathMut::Insert(i, s)),
        2 => (junk_text(), encoding()).prop_map(|(s, e)| PathMut::Append(s, e)),
        1 => Just(PathMut::Absolute),
        1 => Just(PathMut::Fragment),
    ]
    .boxed()
}

pub(crate) fn apply_path_mut(path: Vec<u8>, m: &PathMut, host: &str) -> Vec<u8> {
    let split = |p: &[u8]| -> Vec<Vec<u8>> { p.split(|&b| b == b'/').map(<[u8]>::to_vec).collect() };
    let join = |segs: Vec<Vec<u8>>| segs.join(&b'/');
    let mut segs = split(&path);
    let n = segs.len().max(2);
    match m {
        PathMut::Keep => path,
        PathMut::Case(i) => {
            let i = 1 + i % (n - 1);
            if let Some(s) = segs.get_mut(i) {
                s.iter_mut().for_each(|b| {
                    *b = if b.is_ascii_lowercase() { b.to_ascii_uppercase() } else { b.to_ascii_lowercase() }
                });
            }
            join(segs)
        }
        PathMut::DoubleSlash(i) => {
            segs.insert((1 + i % (n - 1)).min(segs.len()), Vec::new());
            join(segs)
        }
        PathMut::TrailingSlash => [path, b"/".to_vec()].concat(),
        PathMut::DotDot(i) => {
            segs.insert((1 + i % (n - 1)).min(segs.len()), b"..".to_vec());
            join(segs)
        }
        PathMut::Insert(i, junk) => {
            let i = (1 + i % (n - 1)).min(segs.len() - 1);
            segs[i].extend_from_slice(junk.as_bytes());
            join(segs)
        }
        PathMut::Append(s, enc) => [path, b"/".to_vec(), encode(s, *enc)].concat(),
        PathMut::Absolute => [format!("http://{host}").into_bytes(), path].concat(),
        PathMut::Fragment => [path, b"#frag".to_vec()].concat(),
    }
}

pub(crate) fn host() -> BoxedStrategy<Option<String>> {
    prop_oneof![
        14 => Just(None),
        1 => prop::sample::select(vec![
            "evil.example", "evil.example:443", "127.0.0.1:1", "[::1]:80", "", "a b", "x/../y", "localhost:99999",
            "graph.microsoft.com", "ümlaut.example", "host\"><script>", "%00",
        ])
        .prop_map(|h| Some(h.to_owned())),
    ]
    .boxed()
}

/// Extra headers Graph clients send, with junk values.
pub(crate) fn extra_headers() -> BoxedStrategy<Vec<(String, Vec<u8>)>> {
    let value = prop_oneof![
        3 => junk_text().prop_map(|s| s.replace(['\r', '\n'], "").into_bytes()),
        1 => (200usize..8000).prop_map(|n| vec![b'a'; n]),
        1 => Just(vec![0xff, 0xfe, b'x']),
        1 => Just(b"eventual".to_vec()),
    ];
    let name = prop::sample::select(vec![
        "client-request-id",
        "ConsistencyLevel",
        "Prefer",
        "Accept",
        "Accept-Language",
        "If-Match",
        "x-ms-client-request-id",
        "return-client-request-id",
        "Expect",
        "Transfer-Encoding",
        "x-graphbox-admin-key",
    ]);
    prop::collection::vec((name.prop_map(str::to_owned), value), 0..3).boxed()
}

// ---------------------------------------------------------------- routes

/// A route of a family: method, path with `{placeholders}` and a body.
#[derive(Debug, Clone)]
pub(crate) struct Route {
    pub(crate) method: &'static str,
    pub(crate) path: &'static str,
    pub(crate) body: Option<Value>,
}

pub(crate) fn route(method: &'static str, path: &'static str, body: Option<Value>) -> Route {
    Route { method, path, body }
}

/// A placeholder's value: the real one, or junk.
#[derive(Debug, Clone)]
pub(crate) enum Fill {
    Real,
    Junk(String, Encoding),
}

fn fill() -> impl Strategy<Value = Fill> {
    prop_oneof![4 => Just(Fill::Real), 1 => (junk_text(), encoding()).prop_map(|(s, e)| Fill::Junk(s, e))]
}

/// One generated case of a route-table family.
#[derive(Debug, Clone)]
pub(crate) struct Recipe {
    pub(crate) route: usize,
    pub(crate) method: Method,
    pub(crate) fills: Vec<Fill>,
    pub(crate) path_mut: PathMut,
    pub(crate) query: Vec<(String, String, Encoding)>,
    pub(crate) body: BodyMut,
    pub(crate) content_type: ContentType,
    pub(crate) auth: Auth,
    pub(crate) host: Option<String>,
    pub(crate) headers: Vec<(String, Vec<u8>)>,
}

pub(crate) fn recipe(routes: usize) -> BoxedStrategy<Recipe> {
    (
        (0..routes, method(), prop::collection::vec(fill(), 3), path_mut(), query_junk()),
        (body_mut(), content_type(), auth(), host(), extra_headers()),
    )
        .prop_map(|((route, method, fills, path_mut, query), (body, content_type, auth, host, headers))| Recipe {
            route,
            method,
            fills,
            path_mut,
            query,
            body,
            content_type,
            auth,
            host,
            headers,
        })
        .boxed()
}

/// Real values for placeholders, by name.
pub(crate) type Fixtures = BTreeMap<&'static str, String>;

/// Replace `{name}` placeholders in `text`, the n-th by `fills[n]`.
pub(crate) fn fill_path(text: &str, fixtures: &Fixtures, fills: &[Fill]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut n = 0;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else { break };
        out.extend_from_slice(&rest.as_bytes()[..open]);
        let name = &rest[open + 1..open + close];
        let real = fixtures.get(name).cloned().unwrap_or_else(|| panic!("no fixture {name}"));
        match fills.get(n).unwrap_or(&Fill::Real) {
            Fill::Real => out.extend_from_slice(real.as_bytes()),
            Fill::Junk(s, e) => out.extend(encode(s, *e)),
        }
        n += 1;
        rest = &rest[open + close + 1..];
    }
    out.extend_from_slice(rest.as_bytes());
    out
}

/// Replace `{name}` placeholders inside a JSON template's strings with real values.
pub(crate) fn fill_json(v: &Value, fixtures: &Fixtures) -> Value {
    match v {
        Value::String(s) if s.contains('{') => {
            let mut s = s.clone();
            for (k, real) in fixtures {
                s = s.replace(&format!("{{{k}}}"), real);
            }
            Value::String(s)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| fill_json(x, fixtures)).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, x)| (k.clone(), fill_json(x, fixtures))).collect()),
        other => other.clone(),
    }
}

/// The request a recipe stands for, and why it must be refused, if it must.
pub(crate) fn render(
    r: &Recipe,
    routes: &[Route],
    fixtures: &Fixtures,
    good: &str,
    other_audience: &str,
    host: &str,
) -> (Request, Option<String>) {
    let route = &routes[r.route];
    let method = match r.method {
        Method::Own => route.method,
        Method::Other(m) => m,
    };
    let path = apply_path_mut(fill_path(route.path, fixtures, &r.fills), &r.path_mut, host);
    let target = [path, render_query(&r.query)].concat();
    let mut req = Request::new(method, target);
    req.host = r.host.clone();
    if let Some(h) = r.auth.header(good, other_audience) {
        req = req.header("authorization", h);
    }
    let mut refuse = None;
    if let Some(template) = &route.body {
        let (body, why) = render_body(&fill_json(template, fixtures), &r.body);
        req.body = body;
        // The body must be refused only where the route's own handler reads it.
        let own_route = matches!(r.method, Method::Own)
            && matches!(r.path_mut, PathMut::Keep)
            && r.fills.iter().all(|f| matches!(f, Fill::Real));
        refuse = why.filter(|_| own_route);
        match &r.content_type {
            ContentType::Json => req = req.header("content-type", "application/json"),
            ContentType::Missing => {}
            ContentType::Value(v) => req = req.header("content-type", *v),
            ContentType::Junk(j) => req = req.header("content-type", j.replace(['\r', '\n'], "")),
        }
    }
    for (k, v) in &r.headers {
        // A transfer-encoding would contradict the content-length the request
        // carries; the chunked finding has its own test.
        if !k.eq_ignore_ascii_case("transfer-encoding") {
            req.headers.push((k.clone(), v.clone()));
        }
    }
    if !r.auth.is_valid() && super::envelope_for(&req.path()) == super::Envelope::Graph {
        refuse = Some("a Graph request without a valid bearer token".to_owned());
    }
    (req, refuse)
}
