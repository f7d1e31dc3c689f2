use super::*;

const MESSAGE_SIGNED: &str = include_str!("testdata/signed_message_response.xml");
const ASSERTION_SIGNED: &str = include_str!("testdata/signed_assertion_response.xml");
const PRETTY: &str = include_str!("testdata/pretty_signed_message_response.xml");
const CERT: &str = include_str!("testdata/idp_certificate.b64");

/// The vectors' IdP signs with a 1024-bit key, which the service path refuses
/// (ring's 2048-bit floor); the test widens only the key size.
static RSA_SHA1_1024: &ring::signature::RsaParameters = &ring::signature::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY;

fn cert() -> Vec<u8> {
    STANDARD.decode(CERT.trim()).unwrap()
}

fn signature_of(doc: &Doc) -> usize {
    *doc.all(DSIG_NS, "Signature").first().expect("a signature")
}

#[test]
fn a_response_signed_by_another_implementation_verifies() {
    let doc = parse(MESSAGE_SIGNED).unwrap();
    let sig = signature_of(&doc);
    assert_eq!(verify_with(&doc, sig, &[cert()], RSA_SHA1_1024), Ok(doc.root()));
}

#[test]
fn an_assertion_signed_inside_a_response_verifies_with_the_ancestors_namespaces() {
    let doc = parse(ASSERTION_SIGNED).unwrap();
    let sig = signature_of(&doc);
    let signed = verify_with(&doc, sig, &[cert()], RSA_SHA1_1024).unwrap();
    assert_eq!(doc.local_name(signed), "Assertion");
}

#[test]
fn whitespace_added_after_signing_breaks_the_digest() {
    let doc = parse(PRETTY).unwrap();
    let sig = signature_of(&doc);
    assert_eq!(verify_with(&doc, sig, &[cert()], RSA_SHA1_1024), Err(SignatureError::DigestMismatch));
}

#[test]
fn a_changed_name_id_breaks_the_digest() {
    let tampered = ASSERTION_SIGNED.replacen("<saml:NameID", "<saml:NameID data-x=\"1\"", 1);
    assert_ne!(tampered, ASSERTION_SIGNED);
    let doc = parse(&tampered).unwrap();
    assert_eq!(verify_with(&doc, signature_of(&doc), &[cert()], RSA_SHA1_1024), Err(SignatureError::DigestMismatch));
}

#[test]
fn a_key_the_domain_does_not_have_is_unknown_and_a_registered_one_that_did_not_sign_is_bad() {
    let doc = parse(MESSAGE_SIGNED).unwrap();
    let sig = signature_of(&doc);
    let other = rcgen::CertificateParams::new(vec!["other.example".to_owned()])
        .unwrap()
        .self_signed(&rcgen::KeyPair::generate().unwrap())
        .unwrap()
        .der()
        .to_vec();
    assert_eq!(verify_with(&doc, sig, &[other], RSA_SHA1_1024), Err(SignatureError::UnknownKey));
    // The service path's 2048-bit floor refuses the vector's own (named) key.
    assert_eq!(verify(&doc, sig, &[cert()]), Err(SignatureError::BadSignature));
}

#[test]
fn exclusive_c14n_renders_only_visibly_used_namespaces_sorted_with_sorted_attributes() {
    let xml = r#"<?xml version="1.0"?>
<r:Root xmlns:r="urn:r" xmlns:unused="urn:u" xmlns="urn:d"><!-- gone -->
  <a:Item xmlns:a="urn:a" z="1" a:b="2" b="&lt;&quot;&#xA;	x" xmlns:b="urn:b"/><Plain xmlns=""><![CDATA[<&>]]></Plain><Def/>
</r:Root>"#;
    let doc = parse(xml).unwrap();
    let item = doc.all("urn:a", "Item")[0];
    assert_eq!(
        doc.exclusive_c14n(item, None, &[]).unwrap(),
        r#"<a:Item xmlns:a="urn:a" b="&lt;&quot;&#xA; x" z="1" a:b="2"></a:Item>"#
    );
    assert_eq!(
        doc.exclusive_c14n(doc.root(), None, &[]).unwrap(),
        concat!(
            "<r:Root xmlns:r=\"urn:r\">\n  ",
            r#"<a:Item xmlns:a="urn:a" b="&lt;&quot;&#xA; x" z="1" a:b="2"></a:Item>"#,
            "<Plain>&lt;&amp;&gt;</Plain><Def xmlns=\"urn:d\"></Def>\n</r:Root>"
        )
    );
    // The inclusive prefix list renders an in-scope prefix even when unused.
    assert_eq!(
        doc.exclusive_c14n(item, None, &["unused".to_owned()]).unwrap(),
        r#"<a:Item xmlns:a="urn:a" xmlns:unused="urn:u" b="&lt;&quot;&#xA; x" z="1" a:b="2"></a:Item>"#
    );
}

#[test]
fn a_default_namespace_undeclared_below_a_rendered_one_is_reset() {
    let doc = parse(r#"<Root xmlns="urn:d"><Inner xmlns=""><x/></Inner></Root>"#).unwrap();
    assert_eq!(
        doc.exclusive_c14n(doc.root(), None, &[]).unwrap(),
        r#"<Root xmlns="urn:d"><Inner xmlns=""><x></x></Inner></Root>"#
    );
}

#[test]
fn two_elements_with_one_id_are_refused() {
    // A second element claiming the signed id: which one was signed would be
    // ambiguous (the shape of a signature-wrapping attack).
    let at = MESSAGE_SIGNED.find("<samlp:Status>").unwrap();
    let wrapped = format!(
        "{}<Extra ID=\"pfxf209cd60-f060-722b-02e9-4850ac5a2e41\"/>{}",
        &MESSAGE_SIGNED[..at],
        &MESSAGE_SIGNED[at..]
    );
    let doc = parse(&wrapped).unwrap();
    let r = verify_with(&doc, signature_of(&doc), &[cert()], RSA_SHA1_1024);
    assert!(matches!(r, Err(SignatureError::Malformed(ref m)) if m.contains("more than one")), "{r:?}");
}

#[test]
fn documents_past_the_bounds_or_with_a_doctype_are_refused_without_recursion() {
    let deep = format!("{}{}", "<a>".repeat(MAX_DEPTH + 1), "</a>".repeat(MAX_DEPTH + 1));
    assert!(parse(&deep).unwrap_err().contains("nested"));
    let very_deep = format!("{}{}", "<a>".repeat(200_000), "</a>".repeat(200_000));
    assert!(parse(&very_deep).is_err());
    let wide = format!("<a>{}</a>", "<b/>".repeat(MAX_NODES + 1));
    assert!(parse(&wide).unwrap_err().contains("nodes"));
    let decls: String = (0..=MAX_DECLARATIONS).map(|i| format!("<e xmlns:p{i}=\"urn:{i}\"/>")).collect();
    assert!(parse(&format!("<a>{decls}</a>")).unwrap_err().contains("namespaces"));
    let bomb = r#"<!DOCTYPE a [<!ENTITY x "xxxxxxxx">]><a>&x;</a>"#;
    assert!(parse(bomb).unwrap_err().contains("document type"));
    assert!(parse("<a>&unknown;</a>").is_err());
    assert!(parse("<p:a/>").unwrap_err().contains("not declared"));
}

#[test]
fn a_signature_outside_the_element_it_signs_is_refused() {
    // Move the signature out of the Response into a wrapper element.
    let doc_text = format!("<Wrap>{}</Wrap>", MESSAGE_SIGNED.trim_start_matches("<?xml version=\"1.0\"?>"));
    let doc = parse(&doc_text).unwrap();
    let sig = signature_of(&doc);
    // Still enveloped (its parent is the Response it names): accepted.
    assert!(verify_with(&doc, sig, &[cert()], RSA_SHA1_1024).is_ok());
    let sig_start = MESSAGE_SIGNED.find("<ds:Signature").unwrap();
    let sig_end = MESSAGE_SIGNED.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
    let signature_xml = &MESSAGE_SIGNED[sig_start..sig_end];
    let moved = format!(
        "<Wrap>{}{}</Wrap>",
        MESSAGE_SIGNED[..sig_start].trim_start_matches("<?xml version=\"1.0\"?>").to_owned()
            + &MESSAGE_SIGNED[sig_end..],
        signature_xml
    );
    let doc = parse(&moved).unwrap();
    let r = verify_with(&doc, signature_of(&doc), &[cert()], RSA_SHA1_1024);
    assert!(matches!(r, Err(SignatureError::Malformed(ref m)) if m.contains("enveloped")), "{r:?}");
}
