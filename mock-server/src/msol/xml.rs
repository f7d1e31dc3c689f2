//! A small namespace-resolved element tree over `quick-xml`, enough for SOAP
//! requests, and text escaping for the responses. Elements are identified by
//! (namespace URI, local name), never by prefix (msol-soap.md §2).

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

pub(crate) const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// One element: its resolved name, `xsi:nil`, its text and its child elements.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Element {
    pub ns: String,
    pub local: String,
    pub nil: bool,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    pub(crate) fn child(&self, ns: &str, local: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.ns == ns && c.local == local)
    }

    /// The first child element, whatever its name (a SOAP body's operation).
    pub(crate) fn first_child(&self) -> Option<&Element> {
        self.children.first()
    }

    /// The trimmed text, or `None` for a nil or empty element.
    pub(crate) fn value(&self) -> Option<&str> {
        let t = self.text.trim();
        (!self.nil && !t.is_empty()).then_some(t)
    }
}

fn namespace(r: ResolveResult<'_>) -> String {
    match r {
        ResolveResult::Bound(ns) => String::from_utf8_lossy(ns.as_ref()).into_owned(),
        _ => String::new(),
    }
}

fn open(reader: &NsReader<&[u8]>, ns: String, start: &BytesStart<'_>) -> Result<Element, String> {
    let local = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
    let mut nil = false;
    for attr in start.attributes() {
        let attr = attr.map_err(|e| e.to_string())?;
        let (attr_ns, attr_local) = reader.resolve_attribute(attr.key);
        if namespace(attr_ns) == XSI && attr_local.as_ref() == b"nil" {
            let v = attr.unescape_value().map_err(|e| e.to_string())?;
            nil = matches!(v.trim(), "true" | "1");
        }
    }
    Ok(Element { ns, local, nil, ..Element::default() })
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, el: Element) -> Result<(), String> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None if root.is_none() => *root = Some(el),
        None => return Err("more than one root element".into()),
    }
    Ok(())
}

/// Parse a whole document into its root element.
pub(crate) fn parse(xml: &str) -> Result<Element, String> {
    let mut reader = NsReader::from_reader(xml.as_bytes());
    let mut stack: Vec<Element> = Vec::new();
    let mut root = None;
    // Raw text per open element, unescaped when the element closes: quick-xml
    // reports entity references (`&amp;`) as separate events.
    let mut raw: Vec<String> = Vec::new();
    let mut buf = Vec::new();
    loop {
        let (ns, event) = reader.read_resolved_event_into(&mut buf).map_err(|e| e.to_string())?;
        let ns = namespace(ns);
        match event {
            Event::Start(e) => {
                stack.push(open(&reader, ns, &e)?);
                raw.push(String::new());
            }
            Event::Empty(e) => {
                let el = open(&reader, ns, &e)?;
                attach(&mut stack, &mut root, el)?;
            }
            Event::End(_) => {
                let mut el = stack.pop().ok_or("unbalanced end tag")?;
                let text = raw.pop().unwrap_or_default();
                el.text = quick_xml::escape::unescape(&text).map_err(|e| e.to_string())?.into_owned();
                attach(&mut stack, &mut root, el)?;
            }
            Event::Text(t) => {
                if let Some(r) = raw.last_mut() {
                    r.push_str(&t.decode().map_err(|e| e.to_string())?);
                }
            }
            Event::GeneralRef(r) => {
                if let Some(text) = raw.last_mut() {
                    text.push('&');
                    text.push_str(&r.decode().map_err(|e| e.to_string())?);
                    text.push(';');
                }
            }
            Event::CData(c) => {
                if let Some(text) = raw.last_mut() {
                    text.push_str(&escape(&c.decode().map_err(|e| e.to_string())?));
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !stack.is_empty() {
        return Err("the document ends inside an element".into());
    }
    root.ok_or_else(|| "no root element".into())
}

/// Escape text for element content and attribute values.
pub(crate) fn escape(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
