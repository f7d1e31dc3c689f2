//! A small namespace-resolved element tree over `quick-xml`, enough for SOAP
//! requests, and text escaping for the responses. Elements are identified by
//! (namespace URI, local name), never by prefix.
//!
//! The request body is unauthenticated input, so the parser is bounded by
//! construction rather than by the body-size limit alone:
//!
//! - nesting stops at [`MAX_DEPTH`], so the tree (recursive `Element`, cloned,
//!   compared and dropped recursively) can never be deep enough to overflow a
//!   stack;
//! - every step is linear in the input: prefixes resolve through one hash map
//!   with an undo list per element (O(1) per lookup, O(declarations) per
//!   element close), and duplicate attributes are found with a set — quick-xml's
//!   `NsReader` and its attribute duplicate check are quadratic in the number
//!   of declarations and attributes of one tag;
//! - one start tag is at most [`MAX_BYTES_PER_READ`] bytes, the distinct names
//!   and namespaces at most [`MAX_NAME_TABLE_CHARS`] characters, and the document
//!   at most [`MAX_ELEMENTS`] elements, so memory stays proportional to what a
//!   SOAP request needs.
//!
//! The first three limits are WCF's documented default `XmlDictionaryReaderQuotas`
//! (MaxDepth 32, MaxBytesPerRead 4096, MaxNameTableCharCount 16384), which the
//! real service, a WCF endpoint, read its messages with unless it raised them
//! [inferred]. Their messages are WCF's quota texts as WCF words them
//! [inferred: not captured from the real service].

use std::collections::{HashMap, HashSet};

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

pub(crate) const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// Bound to the `xml` prefix by definition (Namespaces in XML 1.0 §3).
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// WCF's default `MaxDepth`: elements nested deeper than this are refused.
pub(crate) const MAX_DEPTH: usize = 32;
/// WCF's default `MaxBytesPerRead`, which its text reader applies to a whole
/// start tag (name, attribute names and values).
pub(crate) const MAX_BYTES_PER_READ: usize = 4096;
/// WCF's default `MaxNameTableCharCount`: characters of distinct names
/// (qualified element and attribute names, namespace URIs) one message may use.
pub(crate) const MAX_NAME_TABLE_CHARS: usize = 16384;
/// The mock's own bound, not a WCF quota (WCF bounds the message size instead,
/// which the real service configured and we do not know): a SOAP request has a
/// few dozen elements, and each costs an allocation or three in the tree.
pub(crate) const MAX_ELEMENTS: usize = 4096;

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

/// The bounds one parse runs under; [`Limits::WCF`] in the service, raised in
/// tests to show the parser itself stays linear without them.
#[derive(Debug, Clone, Copy)]
struct Limits {
    depth: usize,
    bytes_per_read: usize,
    name_table_chars: usize,
    elements: usize,
}

impl Limits {
    const WCF: Limits = Limits {
        depth: MAX_DEPTH,
        bytes_per_read: MAX_BYTES_PER_READ,
        name_table_chars: MAX_NAME_TABLE_CHARS,
        elements: MAX_ELEMENTS,
    };
}

fn depth_exceeded(limit: usize) -> String {
    format!(
        "The maximum read depth ({limit}) has been exceeded because XML data being read has more levels of nesting than is allowed by the quota. This quota may be increased by changing the MaxDepth property on the XmlDictionaryReaderQuotas object used when creating the XML reader."
    )
}

fn bytes_per_read_exceeded(limit: usize) -> String {
    format!(
        "The maximum bytes per Read operation quota ({limit}) has been exceeded while reading XML data. Long element start tags (consisting of the element name, attribute names and attribute values) may trigger this quota. This quota may be increased by changing the MaxBytesPerRead property on the XmlDictionaryReaderQuotas object used when creating the XML reader."
    )
}

fn name_table_exceeded(limit: usize) -> String {
    format!(
        "The maximum nametable character count quota ({limit}) has been exceeded while reading XML data. The nametable is a data structure used to store strings encountered during XML processing - long XML documents with non-repeating element names, attribute names and attribute values may trigger this quota. This quota may be increased by changing the MaxNameTableCharCount property on the XmlDictionaryReaderQuotas object used when creating the XML reader."
    )
}

fn too_many_elements(limit: usize) -> String {
    format!("The message has more than {limit} elements, more than any request to this service needs.")
}

fn text(bytes: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(bytes).map_err(|e| e.to_string())
}

/// `p:local` → (`Some("p")`, `"local"`); a name with no colon has no prefix.
fn split_qname(qname: &[u8]) -> (Option<&[u8]>, &[u8]) {
    match qname.iter().position(|b| *b == b':') {
        Some(at) => (Some(&qname[..at]), &qname[at + 1..]),
        None => (None, qname),
    }
}

/// The prefixes in scope: one map from prefix (empty for the default namespace)
/// to namespace URI, plus what each open element's declarations replaced, so a
/// lookup is one hash probe and closing an element costs only its own
/// declarations.
#[derive(Default)]
struct Scopes {
    bound: HashMap<Box<[u8]>, String>,
    /// (prefix, the binding it shadowed), in declaration order.
    undo: Vec<(Box<[u8]>, Option<String>)>,
    /// `undo.len()` when each open element started.
    marks: Vec<usize>,
}

impl Scopes {
    fn open(&mut self) {
        self.marks.push(self.undo.len());
    }

    fn declare(&mut self, prefix: &[u8], ns: String) {
        let previous = self.bound.insert(prefix.into(), ns);
        self.undo.push((prefix.into(), previous));
    }

    fn close(&mut self) {
        let mark = self.marks.pop().unwrap_or(0);
        for (prefix, previous) in self.undo.drain(mark..).rev() {
            match previous {
                Some(ns) => self.bound.insert(prefix, ns),
                None => self.bound.remove(&prefix),
            };
        }
    }

    /// The namespace of a prefixed name, or of an unprefixed element name
    /// (the default namespace; empty when none is declared).
    fn resolve(&self, prefix: Option<&[u8]>) -> Result<&str, String> {
        match prefix {
            None => Ok(self.bound.get(&b""[..]).map_or("", String::as_str)),
            Some(b"xml") => Ok(XML_NS),
            Some(p) => self
                .bound
                .get(p)
                .map(String::as_str)
                .ok_or_else(|| format!("the prefix '{}' is not bound to a namespace", String::from_utf8_lossy(p))),
        }
    }
}

/// Distinct names met so far and their total length, for WCF's nametable quota.
struct NameTable {
    seen: HashSet<Box<[u8]>>,
    chars: usize,
    limit: usize,
}

impl NameTable {
    fn add(&mut self, name: &[u8]) -> Result<(), String> {
        if !self.seen.contains(name) {
            self.chars += name.len();
            if self.chars > self.limit {
                return Err(name_table_exceeded(self.limit));
            }
            self.seen.insert(name.into());
        }
        Ok(())
    }
}

struct Parser {
    limits: Limits,
    scopes: Scopes,
    names: NameTable,
    elements: usize,
}

impl Parser {
    /// Reads a start tag: declares its namespaces (in scope until `close`),
    /// resolves its name and `xsi:nil`, refuses duplicate attributes.
    fn open(&mut self, start: &BytesStart<'_>) -> Result<Element, String> {
        if start.len() > self.limits.bytes_per_read {
            return Err(bytes_per_read_exceeded(self.limits.bytes_per_read));
        }
        self.elements += 1;
        if self.elements > self.limits.elements {
            return Err(too_many_elements(self.limits.elements));
        }
        let mut attrs = Vec::new();
        // quick-xml's own duplicate check compares each attribute with every
        // earlier one; the set below does the same work in linear time.
        let mut qnames: HashSet<&[u8]> = HashSet::new();
        for attr in start.attributes().with_checks(false) {
            let attr = attr.map_err(|e| e.to_string())?;
            attrs.push(attr);
        }
        self.scopes.open();
        for attr in &attrs {
            let key = attr.key.as_ref();
            if !qnames.insert(key) {
                return Err(format!("the attribute '{}' appears more than once", String::from_utf8_lossy(key)));
            }
            self.names.add(key)?;
            let prefix = match split_qname(key) {
                (None, b"xmlns") => Some(&b""[..]),
                (Some(b"xmlns"), p) => Some(p),
                _ => None,
            };
            if let Some(prefix) = prefix {
                let ns = attr.unescape_value().map_err(|e| e.to_string())?.into_owned();
                if ns.is_empty() && !prefix.is_empty() {
                    return Err(format!(
                        "the prefix '{}' cannot be bound to the empty namespace",
                        String::from_utf8_lossy(prefix)
                    ));
                }
                if prefix == b"xml" || prefix == b"xmlns" {
                    return Err(format!("the prefix '{}' cannot be redeclared", String::from_utf8_lossy(prefix)));
                }
                self.names.add(ns.as_bytes())?;
                self.scopes.declare(prefix, ns);
            }
        }
        let (prefix, local) = split_qname(start.name().into_inner());
        self.names.add(start.name().into_inner())?;
        let ns = self.scopes.resolve(prefix)?.to_owned();
        let mut nil = false;
        // Namespaces in XML forbids two attributes with one expanded name
        // (`a:x` and `b:x` with `a` and `b` bound to the same URI).
        let mut expanded: HashSet<(&str, &[u8])> = HashSet::new();
        for attr in &attrs {
            let (prefix, attr_local) = split_qname(attr.key.as_ref());
            let Some(prefix) = prefix.filter(|p| *p != b"xmlns") else {
                continue;
            };
            let attr_ns = self.scopes.resolve(Some(prefix))?;
            if !expanded.insert((attr_ns, attr_local)) {
                return Err(format!(
                    "the attribute '{{{attr_ns}}}{}' appears more than once",
                    String::from_utf8_lossy(attr_local)
                ));
            }
            if attr_ns == XSI && attr_local == b"nil" {
                let v = attr.unescape_value().map_err(|e| e.to_string())?;
                nil = matches!(v.trim(), "true" | "1");
            }
        }
        Ok(Element { ns, local: text(local)?.to_owned(), nil, ..Element::default() })
    }
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
///
/// # Errors
/// Malformed or not namespace-well-formed XML, or a document over one of the
/// module's bounds; the message names the limit that was hit.
pub(crate) fn parse(xml: &str) -> Result<Element, String> {
    parse_with(xml, Limits::WCF)
}

fn parse_with(xml: &str, limits: Limits) -> Result<Element, String> {
    let mut reader = Reader::from_str(xml);
    let names = NameTable { seen: HashSet::new(), chars: 0, limit: limits.name_table_chars };
    let mut parser = Parser { limits, scopes: Scopes::default(), names, elements: 0 };
    let mut stack: Vec<Element> = Vec::new();
    let mut root = None;
    // Raw text per open element, unescaped when the element closes: quick-xml
    // reports entity references (`&amp;`) as separate events.
    let mut raw: Vec<String> = Vec::new();
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(e) => {
                if stack.len() >= parser.limits.depth {
                    return Err(depth_exceeded(parser.limits.depth));
                }
                stack.push(parser.open(&e)?);
                raw.push(String::new());
            }
            Event::Empty(e) => {
                if stack.len() >= parser.limits.depth {
                    return Err(depth_exceeded(parser.limits.depth));
                }
                let el = parser.open(&e)?;
                parser.scopes.close();
                attach(&mut stack, &mut root, el)?;
            }
            Event::End(_) => {
                // quick-xml has checked that the name matches the open element.
                let mut el = stack.pop().ok_or("unbalanced end tag")?;
                parser.scopes.close();
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
mod tests;
