//! A stand-in for a federated domain's identity provider, for tests and
//! examples: it holds an RSA key and a self-signed token-signing certificate
//! and writes the signed answers an IdP posts back to Entra's `login.srf`
//! (WS-Federation with a SAML 1.1 assertion, as AD FS sends it, or a SAML 2.0
//! Response). Register it on a domain with its [`issuer`](TestIdp::issuer) and
//! [`signing_certificate`](TestIdp::signing_certificate) as
//! `internalDomainFederation`, send a user of that domain to the authorize
//! page, and post the answer with the `wctx`/`RelayState` the redirect carried.
//!
//! The signer writes each assertion directly in its canonical form
//! (exclusive XML canonicalization) and signs that; the document it sends is
//! written differently (namespace declarations on an ancestor, empty
//! elements, attribute order), so what the mock verifies is its own
//! canonicalization of the document, never this module's bytes.
//!
//! ```no_run
//! # fn demo() -> Result<(), graphbox_mock::test_idp::TestIdpError> {
//! use graphbox_mock::test_idp::{Claims, TestIdp};
//! let idp = TestIdp::generate("https://idp.contoso.example/adfs/services/trust")?;
//! let claims = Claims::new("AAECAwQFBgcICQoLDA0ODw==", "ada@contoso.example", std::time::SystemTime::now());
//! let wresult = idp.ws_federation_response(&claims);
//! # let _ = wresult; Ok(()) }
//! ```

use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ring::signature::RsaKeyPair;
use time::OffsetDateTime;

/// The realm Entra names itself with towards every IdP (the assertions'
/// audience).
pub const MICROSOFT_ONLINE: &str = "urn:federation:MicrosoftOnline";

const DS: &str = "http://www.w3.org/2000/09/xmldsig#";

/// The test IdP could not make its key or certificate.
#[derive(Debug, thiserror::Error)]
#[error("the test IdP could not be created: {0}")]
pub struct TestIdpError(String);

/// What one assertion says. [`Claims::new`] fills in what a real IdP would:
/// Entra's audience and a one-hour validity from `issued_at`.
#[derive(Debug, Clone)]
pub struct Claims {
    /// The user's immutable id (`onPremisesImmutableId`): the NameID and the
    /// `ImmutableID` claim.
    pub immutable_id: String,
    /// The user's UPN (the `UPN` / `IDPEmail` claim; informational).
    pub upn: String,
    pub issued_at: SystemTime,
    pub lifetime: Duration,
    pub audience: String,
    /// Where the answer goes (the service's `login.srf`): the SAML Response's
    /// `Destination` and a SAML 2.0 assertion's `Recipient`; omitted when
    /// `None`. Set by [`Claims::answering`].
    pub recipient: Option<String>,
    /// The AuthnRequest this answers (SAML 2.0 `InResponseTo`, on the Response
    /// and the `SubjectConfirmationData`); omitted when `None`.
    pub in_response_to: Option<String>,
}

impl Claims {
    pub fn new(immutable_id: &str, upn: &str, issued_at: SystemTime) -> Self {
        Claims {
            immutable_id: immutable_id.to_owned(),
            upn: upn.to_owned(),
            issued_at,
            lifetime: Duration::from_secs(3600),
            audience: MICROSOFT_ONLINE.to_owned(),
            recipient: None,
            in_response_to: None,
        }
    }

    /// These claims as the answer to `request`: addressed to the `login.srf`
    /// it came from, and (SAML) in response to its AuthnRequest, as an IdP
    /// fills them in.
    #[must_use]
    pub fn answering(mut self, request: &SignInRequest) -> Self {
        self.recipient = Some(request.reply_to.clone());
        self.in_response_to = request.request_id.clone();
        self
    }
}

/// What the service's redirect to the IdP asked for: read by the IdP from
/// the redirect's `Location`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInRequest {
    /// The opaque context to hand back (`wctx` / `RelayState`).
    pub context: String,
    /// The SAML AuthnRequest's `ID` (WS-Federation requests have none).
    pub request_id: Option<String>,
    /// Where the answer is posted: the AuthnRequest's
    /// `AssertionConsumerServiceURL`, else `login.srf` on the redirect's
    /// `service` authority (WS-Federation names no reply address).
    pub reply_to: String,
}

impl SignInRequest {
    /// Read the redirect `location` (`…?wa=wsignin1.0&wctx=…` or
    /// `…?SAMLRequest=…&RelayState=…`) the service at `service`
    /// (`scheme://host:port`) answered with; `None` if it is neither.
    pub fn from_redirect(location: &str, service: &str) -> Option<Self> {
        let query = location.split_once('?')?.1;
        let pairs: Vec<(String, String)> = query
            .split('&')
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| {
                let decode = |s: &str| {
                    percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned()
                };
                (decode(k), decode(v))
            })
            .collect();
        let get = |n: &str| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        if let Some(saml) = get("SAMLRequest") {
            let xml = String::from_utf8(inflate_stored(&STANDARD.decode(saml).ok()?)?).ok()?;
            let attribute = |name: &str| {
                let at = xml.find(&format!(" {name}=\""))? + name.len() + 3;
                xml[at..]
                    .split('"')
                    .next()
                    .map(|v| v.replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))
            };
            return Some(SignInRequest {
                context: get("RelayState")?,
                request_id: attribute("ID"),
                reply_to: attribute("AssertionConsumerServiceURL")?,
            });
        }
        (get("wa").as_deref() == Some("wsignin1.0")).then_some(())?;
        Some(SignInRequest { context: get("wctx")?, request_id: None, reply_to: format!("{service}/login.srf") })
    }
}

/// Inflate DEFLATE stored blocks (what the service's HTTP-Redirect binding
/// writes); `None` for compressed blocks, which this stand-in does not read.
fn inflate_stored(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let (&header, rest) = data.split_first()?;
        if header >> 1 != 0 || rest.len() < 4 {
            return None;
        }
        let len = usize::from(u16::from_le_bytes([rest[0], rest[1]]));
        let block = rest.get(4..4 + len)?;
        out.extend_from_slice(block);
        data = &rest[4 + len..];
        if header & 1 == 1 {
            return Some(out);
        }
    }
}

/// The instant in a tenant clock reading (the control API's `GET …/clock` answers
/// `{"now": "2026-03-02T10:00:00Z"}`), for stamping assertions on a tenant whose clock is
/// virtual; `None` if it is not such a date and time.
pub fn instant(tenant_now: &str) -> Option<SystemTime> {
    crate::clock::parse_datetime(tenant_now).map(SystemTime::from)
}

/// A test identity provider: an RSA-2048 key and its self-signed certificate.
pub struct TestIdp {
    issuer: String,
    key: RsaKeyPair,
    certificate: Vec<u8>,
}

impl std::fmt::Debug for TestIdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestIdp").field("issuer", &self.issuer).finish_non_exhaustive()
    }
}

/// Text as exclusive canonicalization writes it in element content.
fn text(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// An attribute value as exclusive canonicalization writes it.
fn attr(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('"', "&quot;")
}

/// ` name="value"` when there is a value (attributes in canonical order are
/// sorted by name; callers place these where that order holds).
fn optional_attr(name: &str, value: Option<&str>) -> String {
    value.map(|v| format!(r#" {name}="{}""#, attr(v))).unwrap_or_default()
}

fn stamp(t: SystemTime) -> String {
    let t = OffsetDateTime::from(t);
    crate::clock::format_datetime(t.replace_nanosecond(0).unwrap_or(t))
}

fn new_id() -> String {
    let bytes: [u8; 16] = crate::ids::secure_bytes::<16>();
    format!("_{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

impl TestIdp {
    /// A new IdP named `issuer` (its `issuerUri`), with a fresh key.
    ///
    /// # Errors
    /// Key or certificate generation failed.
    pub fn generate(issuer: &str) -> Result<Self, TestIdpError> {
        use rsa::pkcs8::EncodePrivateKey;
        let e = |e: &dyn std::fmt::Display| TestIdpError(e.to_string());
        let rsa_key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).map_err(|x| e(&x))?;
        let der = rsa_key.to_pkcs8_der().map_err(|x| e(&x))?;
        let key = RsaKeyPair::from_pkcs8(der.as_bytes()).map_err(|x| e(&x))?;
        let pkcs8 = rustls_pki_types::PrivatePkcs8KeyDer::from(der.as_bytes());
        let signer =
            rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8, &rcgen::PKCS_RSA_SHA256).map_err(|x| e(&x))?;
        let host = issuer.split("://").nth(1).and_then(|r| r.split(['/', ':']).next()).unwrap_or("idp.test");
        let mut params = rcgen::CertificateParams::new(vec![host.to_owned()]).map_err(|x| e(&x))?;
        params.distinguished_name.push(rcgen::DnType::CommonName, format!("ADFS Signing - {host}"));
        let certificate = params.self_signed(&signer).map_err(|x| e(&x))?.der().to_vec();
        Ok(TestIdp { issuer: issuer.to_owned(), key, certificate })
    }

    /// The `issuerUri` to configure on the federated domain.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The token-signing certificate, base64 DER (`signingCertificate`).
    pub fn signing_certificate(&self) -> String {
        STANDARD.encode(&self.certificate)
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256.
    fn sign(&self, message: &[u8]) -> Vec<u8> {
        let mut sig = vec![0u8; self.key.public().modulus_len()];
        self.key
            .sign(&ring::signature::RSA_PKCS1_SHA256, &ring::rand::SystemRandom::new(), message, &mut sig)
            .expect("PKCS#1 v1.5 signing with a valid key and a right-sized buffer cannot fail");
        sig
    }

    /// The `ds:Signature` over `canonical` (the signed element's exclusive
    /// canonical form) for the reference `#id`, as it appears in the document
    /// (its `SignedInfo` inherits `ds` from the `Signature` element).
    fn signature(&self, id: &str, canonical: &str) -> String {
        let digest = STANDARD.encode(ring::digest::digest(&ring::digest::SHA256, canonical.as_bytes()));
        let body = format!(
            concat!(
                r#"<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#">"#,
                r#"</ds:CanonicalizationMethod>"#,
                r#"<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"></ds:SignatureMethod>"#,
                r##"<ds:Reference URI="#{id}"><ds:Transforms>"##,
                r#"<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"></ds:Transform>"#,
                r#"<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"></ds:Transform></ds:Transforms>"#,
                r#"<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"></ds:DigestMethod>"#,
                r#"<ds:DigestValue>{digest}</ds:DigestValue></ds:Reference>"#
            ),
            id = attr(id),
            digest = digest
        );
        let canonical_signed_info = format!(r#"<ds:SignedInfo xmlns:ds="{DS}">{body}</ds:SignedInfo>"#);
        let value = STANDARD.encode(self.sign(canonical_signed_info.as_bytes()));
        // As documents carry it: empty elements self-closed, ds declared once.
        let shown = body
            .replace("></ds:CanonicalizationMethod>", "/>")
            .replace("></ds:SignatureMethod>", "/>")
            .replace("></ds:Transform>", "/>")
            .replace("></ds:DigestMethod>", "/>");
        format!(
            concat!(
                r#"<ds:Signature xmlns:ds="{ds}"><ds:SignedInfo>{shown}</ds:SignedInfo>"#,
                r#"<ds:SignatureValue>{value}</ds:SignatureValue><ds:KeyInfo><ds:X509Data>"#,
                r#"<ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>"#
            ),
            ds = DS,
            shown = shown,
            value = value,
            cert = self.signing_certificate()
        )
    }

    fn window(claims: &Claims) -> (String, String, String) {
        let issued = stamp(claims.issued_at);
        let not_after = stamp(claims.issued_at + claims.lifetime);
        (issued.clone(), issued, not_after)
    }

    /// A signed SAML 1.1 assertion as AD FS writes it for Entra: the subject's
    /// NameIdentifier and the `ImmutableID` claim carry the immutable id.
    fn saml11_assertion(&self, claims: &Claims) -> String {
        let id = new_id();
        let (issued, not_before, not_after) = Self::window(claims);
        let subject = format!(
            concat!(
                r#"<saml:Subject><saml:NameIdentifier Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">{immutable}</saml:NameIdentifier>"#,
                r#"<saml:SubjectConfirmation><saml:ConfirmationMethod>urn:oasis:names:tc:SAML:1.0:cm:bearer</saml:ConfirmationMethod>"#,
                r#"</saml:SubjectConfirmation></saml:Subject>"#
            ),
            immutable = text(&claims.immutable_id)
        );
        let content = format!(
            concat!(
                r#"<saml:Conditions NotBefore="{nb}" NotOnOrAfter="{na}"><saml:AudienceRestrictionCondition>"#,
                r#"<saml:Audience>{aud}</saml:Audience></saml:AudienceRestrictionCondition></saml:Conditions>"#,
                r#"<saml:AttributeStatement>{subject}"#,
                r#"<saml:Attribute AttributeName="UPN" AttributeNamespace="http://schemas.xmlsoap.org/claims"><saml:AttributeValue>{upn}</saml:AttributeValue></saml:Attribute>"#,
                r#"<saml:Attribute AttributeName="ImmutableID" AttributeNamespace="http://schemas.microsoft.com/LiveID/Federation/2008/05"><saml:AttributeValue>{immutable}</saml:AttributeValue></saml:Attribute>"#,
                r#"</saml:AttributeStatement>"#,
                r#"<saml:AuthenticationStatement AuthenticationInstant="{issued}" AuthenticationMethod="urn:oasis:names:tc:SAML:1.0:am:password">{subject}</saml:AuthenticationStatement>"#
            ),
            nb = not_before,
            na = not_after,
            aud = text(&claims.audience),
            subject = subject,
            upn = text(&claims.upn),
            immutable = text(&claims.immutable_id),
            issued = issued,
        );
        let ns = "urn:oasis:names:tc:SAML:1.0:assertion";
        let canonical = format!(
            r#"<saml:Assertion xmlns:saml="{ns}" AssertionID="{id}" IssueInstant="{issued}" Issuer="{issuer}" MajorVersion="1" MinorVersion="1">{content}</saml:Assertion>"#,
            issuer = attr(&self.issuer)
        );
        let signature = self.signature(&id, &canonical);
        // AD FS's attribute order, namespace last; the signature closes the assertion.
        format!(
            r#"<saml:Assertion MajorVersion="1" MinorVersion="1" AssertionID="{id}" Issuer="{issuer}" IssueInstant="{issued}" xmlns:saml="{ns}">{content}{signature}</saml:Assertion>"#,
            issuer = attr(&self.issuer)
        )
    }

    /// The canonical form and id of a SAML 2.0 assertion, and its document
    /// form given the signature (placed after `Issuer`, as the schema wants).
    fn saml2_assertion(&self, claims: &Claims, declare_ns: bool) -> String {
        let id = new_id();
        let (issued, not_before, not_after) = Self::window(claims);
        let ns = "urn:oasis:names:tc:SAML:2.0:assertion";
        let issuer = format!("<saml:Issuer>{}</saml:Issuer>", text(&self.issuer));
        let rest = format!(
            concat!(
                r#"<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">{immutable}</saml:NameID>"#,
                r#"<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">"#,
                r#"<saml:SubjectConfirmationData{in_response_to} NotOnOrAfter="{na}"{recipient}></saml:SubjectConfirmationData>"#,
                r#"</saml:SubjectConfirmation></saml:Subject>"#,
                r#"<saml:Conditions NotBefore="{nb}" NotOnOrAfter="{na}"><saml:AudienceRestriction><saml:Audience>{aud}</saml:Audience>"#,
                r#"</saml:AudienceRestriction></saml:Conditions>"#,
                r#"<saml:AttributeStatement><saml:Attribute Name="IDPEmail"><saml:AttributeValue>{upn}</saml:AttributeValue></saml:Attribute>"#,
                r#"</saml:AttributeStatement><saml:AuthnStatement AuthnInstant="{issued}"><saml:AuthnContext>"#,
                r#"<saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef>"#,
                r#"</saml:AuthnContext></saml:AuthnStatement>"#
            ),
            immutable = text(&claims.immutable_id),
            in_response_to = optional_attr("InResponseTo", claims.in_response_to.as_deref()),
            recipient = optional_attr("Recipient", claims.recipient.as_deref()),
            na = not_after,
            nb = not_before,
            aud = text(&claims.audience),
            upn = text(&claims.upn),
            issued = issued,
        );
        let canonical = format!(
            r#"<saml:Assertion xmlns:saml="{ns}" ID="{id}" IssueInstant="{issued}" Version="2.0">{issuer}{rest}</saml:Assertion>"#
        );
        let signature = self.signature(&id, &canonical);
        let declaration = if declare_ns { format!(r#" xmlns:saml="{ns}""#) } else { String::new() };
        let rest = rest.replace("></saml:SubjectConfirmationData>", "/>");
        format!(
            r#"<saml:Assertion{declaration} Version="2.0" ID="{id}" IssueInstant="{issued}">{issuer}{signature}{rest}</saml:Assertion>"#
        )
    }

    /// The `wresult` of a WS-Federation sign-in answer: a
    /// `RequestSecurityTokenResponse` holding a signed SAML 1.1 assertion.
    pub fn ws_federation_response(&self, claims: &Claims) -> String {
        self.rstr(claims, &self.saml11_assertion(claims), "urn:oasis:names:tc:SAML:1.0:assertion")
    }

    /// A WS-Federation answer carrying a SAML 2.0 assertion (what IdPs other
    /// than AD FS often send).
    pub fn ws_federation_saml2_response(&self, claims: &Claims) -> String {
        self.rstr(claims, &self.saml2_assertion(claims, true), "urn:oasis:names:tc:SAML:2.0:assertion")
    }

    fn rstr(&self, claims: &Claims, assertion: &str, token_type: &str) -> String {
        let (created, _, expires) = Self::window(claims);
        format!(
            concat!(
                r#"<t:RequestSecurityTokenResponse xmlns:t="http://schemas.xmlsoap.org/ws/2005/02/trust">"#,
                r#"<t:Lifetime><wsu:Created xmlns:wsu="{wsu}">{created}</wsu:Created><wsu:Expires xmlns:wsu="{wsu}">{expires}</wsu:Expires></t:Lifetime>"#,
                r#"<wsp:AppliesTo xmlns:wsp="http://schemas.xmlsoap.org/ws/2004/09/policy"><wsa:EndpointReference xmlns:wsa="http://www.w3.org/2005/08/addressing">"#,
                r#"<wsa:Address>{realm}</wsa:Address></wsa:EndpointReference></wsp:AppliesTo>"#,
                r#"<t:RequestedSecurityToken>{assertion}</t:RequestedSecurityToken>"#,
                r#"<t:TokenType>{token_type}</t:TokenType><t:RequestType>http://schemas.xmlsoap.org/ws/2005/02/trust/Issue</t:RequestType>"#,
                r#"<t:KeyType>http://schemas.xmlsoap.org/ws/2005/05/identity/NoProofKey</t:KeyType></t:RequestSecurityTokenResponse>"#
            ),
            wsu = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
            created = created,
            expires = expires,
            realm = MICROSOFT_ONLINE,
            assertion = assertion,
            token_type = token_type,
        )
    }

    /// The `SAMLResponse` of a SAML 2.0 sign-in answer (base64): a Response
    /// with status Success holding a signed assertion, the assertion's
    /// namespace declared on the Response.
    pub fn saml_response(&self, claims: &Claims) -> String {
        let (issued, _, _) = Self::window(claims);
        let xml = format!(
            concat!(
                r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" "#,
                r#"ID="{id}"{in_response_to} Version="2.0" IssueInstant="{issued}"{destination}>"#,
                r#"<saml:Issuer>{issuer}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>"#,
                r#"{assertion}</samlp:Response>"#
            ),
            id = new_id(),
            in_response_to = optional_attr("InResponseTo", claims.in_response_to.as_deref()),
            destination = optional_attr("Destination", claims.recipient.as_deref()),
            issued = issued,
            issuer = text(&self.issuer),
            assertion = self.saml2_assertion(claims, false),
        );
        STANDARD.encode(xml)
    }
}
