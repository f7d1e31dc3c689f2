//! Legal-but-rare response shapes: pages shorter than `$top`, an empty page
//! that still links to the next, skip tokens whose format changes from page to
//! page, properties v1.0 does not define yet, and entity properties in an order
//! of the service's choosing. Each is something a real tenant may send, and a
//! client that follows `@odata.nextLink` verbatim, ignores unknown properties
//! and reads properties by name handles them all.
//!
//! Paging stays exact: a realism skip token wraps the directory's own token
//! (where the page really starts) and how many of that page's items were
//! already shown, so nothing is repeated or lost.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};

use super::rng::Stream;
use super::settings::Settings;

/// Where a realism skip token resumes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Resume {
    /// The directory's skip token of the page (empty: the first page).
    pub inner: String,
    /// Items of that page already shown.
    pub skip: usize,
    /// The token came in the hex format (the next one uses base64).
    pub hex: bool,
    /// The page before was empty; this one is not allowed to be.
    pub after_empty: bool,
}

const MAGIC: &str = "gbx1";

impl Resume {
    /// The token text: `X'…'` hex, as directory skip tokens often look, or
    /// base64url, as others do.
    pub(crate) fn encode(&self) -> String {
        let payload = format!("{MAGIC}|{}|{}|{}", self.skip, u8::from(self.after_empty), self.inner);
        if self.hex {
            let hex: String = payload.bytes().map(|b| format!("{b:02X}")).collect();
            format!("X'{hex}'")
        } else {
            URL_SAFE_NO_PAD.encode(payload)
        }
    }

    /// A token this module made, or `None` for any other (the directory's own).
    pub(crate) fn decode(token: &str) -> Option<Resume> {
        let (bytes, hex) = match token.strip_prefix("X'").and_then(|t| t.strip_suffix('\'')) {
            Some(h) if h.len() % 2 == 0 => {
                let bytes: Option<Vec<u8>> =
                    (0..h.len()).step_by(2).map(|i| u8::from_str_radix(h.get(i..i + 2)?, 16).ok()).collect();
                (bytes?, true)
            }
            Some(_) => return None,
            None => (URL_SAFE_NO_PAD.decode(token).ok()?, false),
        };
        let text = String::from_utf8(bytes).ok()?;
        let mut parts = text.splitn(4, '|');
        if parts.next()? != MAGIC {
            return None;
        }
        let skip = parts.next()?.parse().ok()?;
        let after_empty = parts.next()? == "1";
        let inner = parts.next()?.to_owned();
        Some(Resume { inner, skip, hex, after_empty })
    }
}

/// The `$skiptoken` of a next link, percent-decoded.
pub(crate) fn skiptoken_of(link: &str) -> Option<String> {
    let query = link.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        let k = percent_encoding::percent_decode_str(k).decode_utf8_lossy();
        k.eq_ignore_ascii_case("$skiptoken")
            .then(|| percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned())
    })
}

/// `base` (a URL without a query, or with one) with its `$skiptoken` set to `token`.
pub(crate) fn with_skiptoken(url: &str, token: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    const VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let mut pairs: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| {
            let k = p.split('=').next().unwrap_or("");
            !percent_encoding::percent_decode_str(k).decode_utf8_lossy().eq_ignore_ascii_case("$skiptoken")
        })
        .collect();
    let token_pair = format!("$skiptoken={}", utf8_percent_encode(token, VALUE));
    pairs.push(&token_pair);
    format!("{path}?{}", pairs.join("&"))
}

/// Reshape one list page. `here` is the request's own URL (for links that
/// resume inside this page), `resume` what the incoming token said.
pub(crate) fn page(
    settings: &Settings,
    stream: &mut Stream,
    body: &mut Map<String, Value>,
    here: &str,
    resume: &Resume,
) {
    let real_next = body.get("@odata.nextLink").and_then(Value::as_str).map(str::to_owned);
    let items_len = body.get("value").and_then(Value::as_array).map_or(0, Vec::len);
    let hex = !resume.hex;
    let mut link: Option<Resume> = None;
    if settings.empty_pages_with_next_link
        && !resume.after_empty
        && (items_len > 0 || real_next.is_some())
        && stream.chance(0.2)
    {
        if let Some(items) = body.get_mut("value").and_then(Value::as_array_mut) {
            items.clear();
        }
        link = Some(Resume { inner: resume.inner.clone(), skip: resume.skip, hex, after_empty: true });
    } else if settings.short_pages && items_len > 1 && stream.chance(0.5) {
        let keep = 1 + (stream.next_u64() % (items_len as u64 - 1)) as usize;
        if let Some(items) = body.get_mut("value").and_then(Value::as_array_mut) {
            items.truncate(keep);
        }
        link = Some(Resume { inner: resume.inner.clone(), skip: resume.skip + keep, hex, after_empty: false });
    } else if let (true, Some(next)) = (settings.changing_skip_tokens, &real_next) {
        if let Some(token) = skiptoken_of(next) {
            link = Some(Resume { inner: token, skip: 0, hex, after_empty: false });
        }
    }
    if let Some(r) = link {
        let base = real_next.as_deref().unwrap_or(here);
        let url = with_skiptoken(base, &r.encode());
        // The next link goes last among the annotations, before `value`, as Graph places it.
        let value = body.remove("value").unwrap_or(Value::Array(Vec::new()));
        body.insert("@odata.nextLink".into(), Value::String(url));
        body.insert("value".into(), value);
    }
    if let Some(items) = body.get_mut("value").and_then(Value::as_array_mut) {
        for item in items {
            if let Value::Object(o) = item {
                entity(settings, stream, o);
            }
        }
    }
}

/// Drop the first `n` items of a page (they were shown on the page before).
pub(crate) fn skip_items(body: &mut Map<String, Value>, n: usize) {
    if let Some(items) = body.get_mut("value").and_then(Value::as_array_mut) {
        items.drain(..n.min(items.len()));
    }
}

/// Properties a newer Graph may add: clients must ignore what they do not know.
fn unknown_properties() -> [(&'static str, Value); 2] {
    [
        ("serviceInsightsPreview", Value::Null),
        ("resilienceSettings", serde_json::json!({"tier": "standard", "recoverable": true})),
    ]
}

/// Reshape one entity in place.
pub(crate) fn entity(settings: &Settings, stream: &mut Stream, o: &mut Map<String, Value>) {
    if settings.unknown_properties {
        for (k, v) in unknown_properties() {
            o.entry(k).or_insert(v);
        }
    }
    if settings.shuffled_property_order && o.len() > 2 {
        let entries: Vec<(String, Value)> = std::mem::take(o).into_iter().collect();
        let (mut annotations, mut rest): (Vec<_>, Vec<_>) = entries.into_iter().partition(|(k, _)| k.starts_with('@'));
        for i in (1..rest.len()).rev() {
            let j = (stream.next_u64() % (i as u64 + 1)) as usize;
            rest.swap(i, j);
        }
        annotations.extend(rest);
        o.extend(annotations);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realism::settings::Profile;
    use serde_json::json;

    #[test]
    fn tokens_round_trip_in_both_formats_and_others_are_not_ours() {
        for hex in [true, false] {
            let r = Resume { inner: "abc|d=e".into(), skip: 3, hex, after_empty: true };
            let text = r.encode();
            assert_eq!(text.starts_with("X'"), hex);
            assert_eq!(Resume::decode(&text), Some(r));
        }
        assert_eq!(Resume::decode("RFNwdAIAAQAAACpHcm91cF8"), None);
        assert_eq!(Resume::decode("X'zz'"), None);
    }

    #[test]
    fn skiptokens_are_read_and_replaced_in_links() {
        let link = "https://h/v1.0/users?%24top=2&$skiptoken=a%2Bb";
        assert_eq!(skiptoken_of(link).as_deref(), Some("a+b"));
        assert_eq!(with_skiptoken(link, "X'41'"), "https://h/v1.0/users?%24top=2&$skiptoken=X%2741%27");
        assert_eq!(with_skiptoken("https://h/v1.0/users", "t"), "https://h/v1.0/users?$skiptoken=t");
    }

    fn adversarial() -> Settings {
        Settings::of(Profile::Adversarial, 11)
    }

    #[test]
    fn a_short_page_links_to_the_rest_of_the_same_page() {
        let mut s = adversarial();
        s.empty_pages_with_next_link = false;
        let mut stream = Stream::new(1);
        // Find a draw that shortens the page; the seed decides which.
        for _ in 0..16 {
            let mut body = json!({"@odata.context": "c", "value": [{"id": "1"}, {"id": "2"}, {"id": "3"}]});
            let o = body.as_object_mut().expect("object");
            page(&s, &mut stream, o, "https://h/v1.0/users?$top=3", &Resume::default());
            let shown = o["value"].as_array().map_or(0, Vec::len);
            if shown < 3 {
                let next = o["@odata.nextLink"].as_str().expect("a link to the rest");
                let r = Resume::decode(&skiptoken_of(next).expect("token")).expect("ours");
                assert_eq!((r.inner.as_str(), r.skip), ("", shown));
                return;
            }
        }
        panic!("sixteen pages and none shortened at p = 0.5");
    }

    #[test]
    fn an_empty_page_keeps_its_place_and_the_next_cannot_be_empty() {
        let mut s = adversarial();
        s.short_pages = false;
        let mut stream = Stream::new(2);
        for _ in 0..64 {
            let mut body = json!({"@odata.context": "c", "value": [{"id": "1"}]});
            let o = body.as_object_mut().expect("object");
            let from = Resume { inner: "real".into(), skip: 0, hex: false, after_empty: false };
            page(&s, &mut stream, o, "https://h/v1.0/users", &from);
            if o["value"].as_array().is_some_and(Vec::is_empty) {
                let r = Resume::decode(&skiptoken_of(o["@odata.nextLink"].as_str().expect("link")).expect("t"))
                    .expect("ours");
                assert_eq!((r.inner.as_str(), r.skip, r.after_empty, r.hex), ("real", 0, true, true));
                let mut again = json!({"value": [{"id": "1"}]});
                page(&s, &mut Stream::new(0), again.as_object_mut().expect("object"), "u", &r);
                assert_eq!(again["value"].as_array().map(Vec::len), Some(1));
                return;
            }
        }
        panic!("sixty-four pages and none emptied at p = 0.2");
    }

    #[test]
    fn entities_gain_unknown_properties_and_keep_annotations_first() {
        let s = adversarial();
        let mut o = json!({"@odata.context": "c", "id": "1", "displayName": "d", "mail": null})
            .as_object()
            .cloned()
            .expect("o");
        entity(&s, &mut Stream::new(3), &mut o);
        assert_eq!(o.keys().next().map(String::as_str), Some("@odata.context"));
        assert!(o.contains_key("resilienceSettings") && o.contains_key("id") && o.len() == 6);
    }
}
