//! XML signatures as identity providers sign SAML assertions: an enveloped
//! XML-DSig signature over one element named by `ID`, exclusive XML
//! canonicalization (without comments) for both the reference and
//! `SignedInfo`, RSA PKCS#1 v1.5 with SHA-256 (or SHA-1, which AD FS still
//! offers), SHA-256 or SHA-1 digests. Nothing else is accepted: a signature
//! naming another algorithm or transform is refused rather than half-checked.
//!
//! Pure and bounded by construction, since the document is whatever a browser
//! posted: the tree is a flat arena (no recursive type, so nothing is dropped
//! or compared recursively), nesting stops at [`MAX_DEPTH`], the document at
//! [`MAX_NODES`] nodes, one element at [`MAX_ATTRIBUTES`] attributes and the
//! namespace declarations at [`MAX_DECLARATIONS`], every
//! walk (canonicalization, search, namespace lookup) is an explicit loop, and a
//! `DOCTYPE` is refused outright (no entity can expand).

use std::collections::HashSet;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

pub(crate) const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
const RSA_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
const SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";

/// Deepest element nesting accepted: a WS-Fed answer (RSTR, token, assertion,
/// statement, attribute, value) is about ten deep.
pub(crate) const MAX_DEPTH: usize = 64;
/// Nodes (elements, text, processing instructions) in one document.
pub(crate) const MAX_NODES: usize = 20_000;
/// Attributes, namespace declarations included, on one element.
pub(crate) const MAX_ATTRIBUTES: usize = 64;
/// Namespace declarations in the whole document (an IdP's answer has a dozen).
/// With the depth bound this keeps every prefix lookup, which walks the
/// ancestors' declarations, short whatever the document's shape.
pub(crate) const MAX_DECLARATIONS: usize = 256;

#[derive(Debug)]
enum Node {
    Element(Element),
    Text(String),
    /// A processing instruction's content (`target data`).
    Pi(String),
}

#[derive(Debug)]
struct Element {
    parent: Option<usize>,
    qname: String,
    prefix: String,
    local: String,
    ns: String,
    /// (prefix, URI) declared here; the default namespace has prefix "".
    decls: Vec<(String, String)>,
    attrs: Vec<Attribute>,
    children: Vec<usize>,
}

#[derive(Debug)]
struct Attribute {
    qname: String,
    prefix: String,
    local: String,
    ns: String,
    value: String,
}

/// A parsed document: nodes in document order, by index.
#[derive(Debug)]
pub(crate) struct Doc {
    nodes: Vec<Node>,
    root: usize,
}

fn split(qname: &str) -> (&str, &str) {
    qname.split_once(':').unwrap_or(("", qname))
}

fn utf8(bytes: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(bytes).map_err(|e| e.to_string())
}

fn unescape(raw: &str) -> Result<String, String> {
    quick_xml::escape::unescape(raw).map(|c| c.into_owned()).map_err(|e| e.to_string())
}

/// The URI `prefix` is bound to at element `at` ("" for an undeclared default
/// namespace; `None` for an undeclared prefix).
fn resolve<'a>(nodes: &'a [Node], at: usize, prefix: &str) -> Option<&'a str> {
    if prefix == "xml" {
        return Some(XML_NS);
    }
    let mut cur = Some(at);
    while let Some(i) = cur {
        let Node::Element(e) = &nodes[i] else { return None };
        if let Some((_, uri)) = e.decls.iter().find(|(p, _)| p == prefix) {
            return Some(uri);
        }
        cur = e.parent;
    }
    prefix.is_empty().then_some("")
}

struct Builder {
    nodes: Vec<Node>,
    stack: Vec<usize>,
    root: Option<usize>,
    /// Text of the current run, still escaped (entity references come as
    /// separate events and are put back in place).
    raw: String,
    declarations: usize,
}

impl Builder {
    fn push(&mut self, node: Node) -> Result<usize, String> {
        if self.nodes.len() >= MAX_NODES {
            return Err(format!("the document has more than {MAX_NODES} nodes"));
        }
        let idx = self.nodes.len();
        self.nodes.push(node);
        if let Some(&parent) = self.stack.last() {
            if let Node::Element(p) = &mut self.nodes[parent] {
                p.children.push(idx);
            }
        }
        Ok(idx)
    }

    fn flush(&mut self) -> Result<(), String> {
        if self.raw.is_empty() {
            return Ok(());
        }
        let raw = std::mem::take(&mut self.raw);
        if self.stack.is_empty() {
            if raw.trim().is_empty() {
                return Ok(());
            }
            return Err("text outside the document element".into());
        }
        self.push(Node::Text(unescape(&raw)?))?;
        Ok(())
    }

    fn open(&mut self, start: &BytesStart<'_>) -> Result<(), String> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(format!("elements are nested more than {MAX_DEPTH} deep"));
        }
        if self.stack.is_empty() && self.root.is_some() {
            return Err("more than one document element".into());
        }
        let qname = utf8(start.name().as_ref())?.to_owned();
        let mut decls = Vec::new();
        let mut raw_attrs = Vec::new();
        let mut seen = HashSet::new();
        for attr in start.attributes().with_checks(false) {
            let attr = attr.map_err(|e| e.to_string())?;
            let key = utf8(attr.key.as_ref())?.to_owned();
            if seen.len() >= MAX_ATTRIBUTES {
                return Err(format!("an element has more than {MAX_ATTRIBUTES} attributes"));
            }
            if !seen.insert(key.clone()) {
                return Err(format!("the attribute '{key}' appears more than once"));
            }
            // Attribute-value normalization (XML 1.0 §3.3.3): literal tabs and
            // newlines are spaces; character references keep theirs.
            let value = unescape(&utf8(&attr.value)?.replace(['\t', '\n'], " "))?;
            if key == "xmlns" {
                decls.push((String::new(), value));
            } else if let Some(p) = key.strip_prefix("xmlns:") {
                if value.is_empty() || p == "xml" || p == "xmlns" {
                    return Err(format!("the prefix '{p}' cannot be declared as '{value}'"));
                }
                decls.push((p.to_owned(), value));
            } else {
                raw_attrs.push((key, value));
            }
        }
        self.declarations += decls.len();
        if self.declarations > MAX_DECLARATIONS {
            return Err(format!("the document declares more than {MAX_DECLARATIONS} namespaces"));
        }
        let parent = self.stack.last().copied();
        let (prefix, local) = split(&qname);
        let (prefix, local) = (prefix.to_owned(), local.to_owned());
        let idx = self.push(Node::Element(Element {
            parent,
            qname: qname.clone(),
            prefix: prefix.clone(),
            local,
            ns: String::new(),
            decls,
            attrs: Vec::new(),
            children: Vec::new(),
        }))?;
        let ns = resolve(&self.nodes, idx, &prefix).ok_or_else(|| format!("the prefix '{prefix}' is not declared"))?;
        let ns = ns.to_owned();
        let mut attrs = Vec::with_capacity(raw_attrs.len());
        let mut expanded = HashSet::new();
        for (key, value) in raw_attrs {
            let (p, l) = split(&key);
            let attr_ns = if p.is_empty() {
                String::new()
            } else {
                resolve(&self.nodes, idx, p).ok_or_else(|| format!("the prefix '{p}' is not declared"))?.to_owned()
            };
            if !expanded.insert((attr_ns.clone(), l.to_owned())) {
                return Err(format!("the attribute '{{{attr_ns}}}{l}' appears more than once"));
            }
            attrs.push(Attribute { prefix: p.to_owned(), local: l.to_owned(), ns: attr_ns, value, qname: key });
        }
        if let Node::Element(e) = &mut self.nodes[idx] {
            e.ns = ns;
            e.attrs = attrs;
        }
        if parent.is_none() {
            self.root = Some(idx);
        }
        self.stack.push(idx);
        Ok(())
    }
}

/// Parse a whole document. Comments are dropped (the canonical form this
/// module computes is the one without comments).
///
/// # Errors
/// Malformed or not namespace-well-formed XML, a `DOCTYPE`, or a document
/// past one of the module's bounds.
pub(crate) fn parse(xml: &str) -> Result<Doc, String> {
    // End-of-line handling (XML 1.0 §2.11) before anything else sees the text.
    let normalized = xml.replace("\r\n", "\n").replace('\r', "\n");
    let mut reader = Reader::from_str(&normalized);
    reader.config_mut().expand_empty_elements = true;
    let mut b = Builder { nodes: Vec::new(), stack: Vec::new(), root: None, raw: String::new(), declarations: 0 };
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(s) => {
                b.flush()?;
                b.open(&s)?;
            }
            Event::End(_) => {
                b.flush()?;
                b.stack.pop();
            }
            Event::Text(t) => b.raw.push_str(&t.decode().map_err(|e| e.to_string())?),
            Event::GeneralRef(r) => {
                b.raw.push('&');
                b.raw.push_str(&r.decode().map_err(|e| e.to_string())?);
                b.raw.push(';');
            }
            Event::CData(c) => {
                let text = c.decode().map_err(|e| e.to_string())?;
                b.raw.push_str(&quick_xml::escape::escape(text.as_ref()));
            }
            Event::PI(p) => {
                b.flush()?;
                if !b.stack.is_empty() {
                    let content = utf8(p.as_ref())?.to_owned();
                    b.push(Node::Pi(content))?;
                }
            }
            Event::DocType(_) => return Err("a document type declaration is not accepted".into()),
            Event::Comment(_) | Event::Decl(_) => {}
            Event::Empty(_) => unreachable!("expand_empty_elements reports empty elements as start and end"),
            Event::Eof => break,
        }
    }
    b.flush()?;
    if !b.stack.is_empty() {
        return Err("the document ends inside an element".into());
    }
    let root = b.root.ok_or("no document element")?;
    Ok(Doc { nodes: b.nodes, root })
}

fn escape_text(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

fn escape_attr(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

impl Doc {
    pub(crate) fn root(&self) -> usize {
        self.root
    }

    fn element(&self, i: usize) -> Option<&Element> {
        match self.nodes.get(i) {
            Some(Node::Element(e)) => Some(e),
            _ => None,
        }
    }

    /// Whether node `i` is an element named `{ns}local`.
    pub(crate) fn is(&self, i: usize, ns: &str, local: &str) -> bool {
        self.element(i).is_some_and(|e| e.ns == ns && e.local == local)
    }

    pub(crate) fn local_name(&self, i: usize) -> &str {
        self.element(i).map_or("", |e| e.local.as_str())
    }

    pub(crate) fn parent(&self, i: usize) -> Option<usize> {
        self.element(i).and_then(|e| e.parent)
    }

    /// Child elements of `i`, in order.
    pub(crate) fn children(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.element(i)
            .map(|e| e.children.as_slice())
            .unwrap_or_default()
            .iter()
            .copied()
            .filter(|&c| self.element(c).is_some())
    }

    pub(crate) fn child(&self, i: usize, ns: &str, local: &str) -> Option<usize> {
        self.children(i).find(|&c| self.is(c, ns, local))
    }

    /// An unprefixed attribute's value.
    pub(crate) fn attr(&self, i: usize, name: &str) -> Option<&str> {
        self.element(i)?.attrs.iter().find(|a| a.ns.is_empty() && a.local == name).map(|a| a.value.as_str())
    }

    /// The element's own text (its text children, concatenated).
    pub(crate) fn text(&self, i: usize) -> String {
        let mut out = String::new();
        for &c in self.element(i).map(|e| e.children.as_slice()).unwrap_or_default() {
            if let Some(Node::Text(t)) = self.nodes.get(c) {
                out.push_str(t);
            }
        }
        out
    }

    /// Every element named `{ns}local`, in document order (the arena is in
    /// document order, so this is one pass).
    pub(crate) fn all(&self, ns: &str, local: &str) -> Vec<usize> {
        (0..self.nodes.len()).filter(|&i| self.is(i, ns, local)).collect()
    }

    /// The one element whose `ID` (SAML 2.0), `AssertionID` (SAML 1.1) or
    /// `Id` attribute is `id`. Two elements claiming one id are refused: that
    /// ambiguity is how signature-wrapping attacks smuggle a second assertion.
    fn by_id(&self, id: &str) -> Result<usize, String> {
        let mut found = None;
        for i in 0..self.nodes.len() {
            let Some(e) = self.element(i) else { continue };
            let has = e
                .attrs
                .iter()
                .any(|a| a.ns.is_empty() && matches!(a.local.as_str(), "ID" | "AssertionID" | "Id") && a.value == id);
            if has {
                if found.is_some() {
                    return Err(format!("more than one element has the id '{id}'"));
                }
                found = Some(i);
            }
        }
        found.ok_or_else(|| format!("no element has the id '{id}'"))
    }

    /// Exclusive XML canonicalization (without comments) of the subtree at
    /// `apex`, leaving out the subtree at `omit` (the enveloped signature),
    /// with `inclusive` the InclusiveNamespaces prefix list.
    pub(crate) fn exclusive_c14n(
        &self,
        apex: usize,
        omit: Option<usize>,
        inclusive: &[String],
    ) -> Result<String, String> {
        enum Step {
            Open(usize),
            Close(usize),
        }
        let mut out = String::new();
        let mut work = vec![Step::Open(apex)];
        // Namespace declarations rendered by each open output ancestor.
        let mut rendered: Vec<Vec<(String, String)>> = Vec::new();
        while let Some(step) = work.pop() {
            let i = match step {
                Step::Close(i) => {
                    let e = self.element(i).expect("only elements are closed");
                    out.push_str("</");
                    out.push_str(&e.qname);
                    out.push('>');
                    rendered.pop();
                    continue;
                }
                Step::Open(i) => i,
            };
            let e = match &self.nodes[i] {
                Node::Text(t) => {
                    escape_text(t, &mut out);
                    continue;
                }
                Node::Pi(p) => {
                    out.push_str("<?");
                    out.push_str(p);
                    out.push_str("?>");
                    continue;
                }
                Node::Element(e) => e,
            };
            // Visibly utilized prefixes, plus the inclusive list's in-scope ones.
            let mut wanted: Vec<&str> = vec![e.prefix.as_str()];
            wanted.extend(e.attrs.iter().map(|a| a.prefix.as_str()).filter(|p| !p.is_empty()));
            for p in inclusive {
                let p = if p == "#default" { "" } else { p.as_str() };
                if resolve(&self.nodes, i, p).is_some_and(|u| !u.is_empty()) {
                    wanted.push(p);
                }
            }
            wanted.sort_unstable();
            wanted.dedup();
            let mut frame = Vec::new();
            for p in wanted {
                if p == "xml" {
                    continue;
                }
                let uri = resolve(&self.nodes, i, p).ok_or_else(|| format!("the prefix '{p}' is not declared"))?;
                let current =
                    rendered.iter().rev().flat_map(|f| f.iter()).find(|(fp, _)| fp == p).map(|(_, u)| u.as_str());
                let differs = if p.is_empty() { current.unwrap_or("") != uri } else { current != Some(uri) };
                if differs {
                    frame.push((p.to_owned(), uri.to_owned()));
                }
            }
            out.push('<');
            out.push_str(&e.qname);
            for (p, uri) in &frame {
                out.push_str(if p.is_empty() { " xmlns" } else { " xmlns:" });
                out.push_str(p);
                out.push_str("=\"");
                escape_attr(uri, &mut out);
                out.push('"');
            }
            let mut attrs: Vec<&Attribute> = e.attrs.iter().collect();
            attrs.sort_by(|a, b| (a.ns.as_str(), a.local.as_str()).cmp(&(b.ns.as_str(), b.local.as_str())));
            for a in attrs {
                out.push(' ');
                out.push_str(&a.qname);
                out.push_str("=\"");
                escape_attr(&a.value, &mut out);
                out.push('"');
            }
            out.push('>');
            rendered.push(frame);
            work.push(Step::Close(i));
            for &c in e.children.iter().rev() {
                if Some(c) != omit {
                    work.push(Step::Open(c));
                }
            }
        }
        Ok(out)
    }
}

/// Why a signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SignatureError {
    /// Not a signature this profile accepts; says what is wrong.
    Malformed(String),
    /// The signed element changed after it was signed.
    DigestMismatch,
    /// `KeyInfo` names a registered certificate, but the signature is not its.
    BadSignature,
    /// None of the registered certificates made this signature.
    UnknownKey,
}

fn malformed(what: impl Into<String>) -> SignatureError {
    SignatureError::Malformed(what.into())
}

/// One DER element of `input`: (tag, contents, what follows). Short and
/// long (up to 4 length bytes) definite lengths, nothing else.
fn der(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        (rest[..n].iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b)), &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// rsaEncryption, 1.2.840.113549.1.1.1.
const RSA_ENCRYPTION_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// The RSA public key (PKCS#1 `RSAPublicKey`) in an X.509 certificate. Read
/// by hand rather than through rustls-webpki, which takes only version 3
/// certificates: self-signed token-signing certificates are often version 1.
fn rsa_public_key(cert: &[u8]) -> Option<&[u8]> {
    let (0x30, cert, _) = der(cert)? else { return None };
    let (0x30, mut tbs, _) = der(cert)? else { return None };
    if tbs.first() == Some(&0xa0) {
        tbs = der(tbs)?.2;
    }
    // serialNumber, signature, issuer, validity, subject
    for _ in 0..5 {
        tbs = der(tbs)?.2;
    }
    let (0x30, spki, _) = der(tbs)? else { return None };
    let (0x30, alg, rest) = der(spki)? else { return None };
    let (0x06, oid, _) = der(alg)? else { return None };
    let (0x03, bits, _) = der(rest)? else { return None };
    let (&0, key) = bits.split_first()? else { return None };
    (oid == RSA_ENCRYPTION_OID).then_some(key)
}

fn algorithm(doc: &Doc, i: usize) -> Result<&str, SignatureError> {
    doc.attr(i, "Algorithm").ok_or_else(|| malformed(format!("{} has no Algorithm", doc.local_name(i))))
}

/// The InclusiveNamespaces prefix list under a c14n method or transform.
fn prefix_list(doc: &Doc, i: usize) -> Vec<String> {
    doc.child(i, EXC_C14N, "InclusiveNamespaces")
        .and_then(|n| doc.attr(n, "PrefixList"))
        .map(|l| l.split_ascii_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

fn base64(text: &str) -> Result<Vec<u8>, SignatureError> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD.decode(compact).map_err(|_| malformed("a base64 value does not decode"))
}

/// Verify the enveloped signature `signature` (a `ds:Signature` element)
/// against `certificates` (DER); returns the element it signs, which is
/// always the signature's parent.
pub(crate) fn verify(doc: &Doc, signature: usize, certificates: &[Vec<u8>]) -> Result<usize, SignatureError> {
    verify_with(doc, signature, certificates, &ring::signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY)
}

fn verify_with(
    doc: &Doc,
    signature: usize,
    certificates: &[Vec<u8>],
    sha1: &'static ring::signature::RsaParameters,
) -> Result<usize, SignatureError> {
    let signed_info = doc.child(signature, DSIG_NS, "SignedInfo").ok_or_else(|| malformed("no SignedInfo"))?;
    let c14n = doc
        .child(signed_info, DSIG_NS, "CanonicalizationMethod")
        .ok_or_else(|| malformed("no CanonicalizationMethod"))?;
    if algorithm(doc, c14n)? != EXC_C14N {
        return Err(malformed(format!(
            "the canonicalization method '{}' is not supported; use exclusive canonicalization ({EXC_C14N})",
            algorithm(doc, c14n)?
        )));
    }
    let method = doc.child(signed_info, DSIG_NS, "SignatureMethod").ok_or_else(|| malformed("no SignatureMethod"))?;
    let verifier: &'static ring::signature::RsaParameters = match algorithm(doc, method)? {
        RSA_SHA256 => &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        RSA_SHA1 => sha1,
        other => return Err(malformed(format!("the signature method '{other}' is not supported"))),
    };
    let references: Vec<usize> = doc.children(signed_info).filter(|&c| doc.is(c, DSIG_NS, "Reference")).collect();
    let [reference] = references[..] else {
        return Err(malformed("a SAML signature has exactly one Reference"));
    };
    let uri = doc.attr(reference, "URI").unwrap_or_default();
    let id = uri
        .strip_prefix('#')
        .filter(|id| !id.is_empty())
        .ok_or_else(|| malformed(format!("the Reference URI '{uri}' does not name an element by id")))?;
    let signed = doc.by_id(id).map_err(malformed)?;
    if doc.parent(signature) != Some(signed) {
        return Err(malformed("the signature is not enveloped in the element it signs"));
    }
    let mut inclusive = Vec::new();
    let mut canonicalized = false;
    if let Some(transforms) = doc.child(reference, DSIG_NS, "Transforms") {
        for t in doc.children(transforms) {
            match algorithm(doc, t)? {
                ENVELOPED => {}
                EXC_C14N => {
                    canonicalized = true;
                    inclusive = prefix_list(doc, t);
                }
                other => return Err(malformed(format!("the transform '{other}' is not supported"))),
            }
        }
    }
    if !canonicalized {
        // Without a c14n transform the octets would be inclusive c14n's
        // (XML-DSig's default); IdPs always name exclusive c14n here.
        return Err(malformed("the Reference has no exclusive canonicalization transform"));
    }
    let digest_method = doc.child(reference, DSIG_NS, "DigestMethod").ok_or_else(|| malformed("no DigestMethod"))?;
    let digest_alg = match algorithm(doc, digest_method)? {
        SHA256 => &ring::digest::SHA256,
        SHA1 => &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
        other => return Err(malformed(format!("the digest method '{other}' is not supported"))),
    };
    let digest_value = doc.child(reference, DSIG_NS, "DigestValue").ok_or_else(|| malformed("no DigestValue"))?;
    let expected = base64(&doc.text(digest_value))?;
    let octets = doc.exclusive_c14n(signed, Some(signature), &inclusive).map_err(malformed)?;
    if ring::digest::digest(digest_alg, octets.as_bytes()).as_ref() != expected.as_slice() {
        return Err(SignatureError::DigestMismatch);
    }
    let value = doc.child(signature, DSIG_NS, "SignatureValue").ok_or_else(|| malformed("no SignatureValue"))?;
    let signature_value = base64(&doc.text(value))?;
    let signed_info_octets = doc.exclusive_c14n(signed_info, None, &prefix_list(doc, c14n)).map_err(malformed)?;
    let verifies = |cert: &[u8]| {
        rsa_public_key(cert).is_some_and(|key| {
            ring::signature::UnparsedPublicKey::new(verifier, key)
                .verify(signed_info_octets.as_bytes(), &signature_value)
                .is_ok()
        })
    };
    if certificates.iter().any(|c| verifies(c.as_slice())) {
        return Ok(signed);
    }
    // Which refusal: a registered key that did not sign this, or a key the
    // domain does not know.
    let named = doc
        .child(signature, DSIG_NS, "KeyInfo")
        .and_then(|k| doc.child(k, DSIG_NS, "X509Data"))
        .and_then(|d| doc.child(d, DSIG_NS, "X509Certificate"))
        .and_then(|c| base64(&doc.text(c)).ok());
    match named {
        Some(der) if certificates.contains(&der) => Err(SignatureError::BadSignature),
        _ => Err(SignatureError::UnknownKey),
    }
}

#[cfg(test)]
mod tests;
