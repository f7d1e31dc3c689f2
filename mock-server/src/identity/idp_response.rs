//! The federated IdP's answer, posted back by the browser: a WS-Federation
//! `wresult` (a `RequestSecurityTokenResponse` carrying a SAML 1.1 or 2.0
//! assertion) or a SAML 2.0 `SAMLResponse` (base64). Checked as Entra checks
//! it, in this order, each refusal with the AADSTS code Entra shows:
//!
//! 1. one assertion, well formed — else 50008 (InvalidSamlToken);
//! 2. its issuer is the `issuerUri` of one of the tenant's federated domains —
//!    else 50107 (InvalidRealmUri, "The requested federation realm object …
//!    does not exist.");
//! 3. an enveloped signature over the assertion (or over the SAML Response that
//!    holds it) by that domain's `signingCertificate` or
//!    `nextSigningCertificate` — content changed after signing is 50006
//!    (InvalidSignature); a key the domain does not have is 50008 worded as
//!    Entra words it ("Unable to verify token signature. The signing key
//!    identifier does not match any valid registered keys.");
//! 4. the audience is `urn:federation:MicrosoftOnline` — else 50010
//!    (AudienceUriValidationFailed) [inferred: the code Entra documents for an
//!    audience it does not accept; not captured for federated domains];
//! 5. `NotBefore`/`NotOnOrAfter` hold on the tenant clock, give or take
//!    [`CLOCK_SKEW`] — else 50013 (InvalidAssertion, whose documented causes
//!    include an assertion out of its valid time range) [inferred];
//! 6. the user is found by immutable id — the `ImmutableID` attribute, else
//!    the subject's NameID — among the tenant's users' `onPremisesImmutableId`,
//!    whatever their UPN's domain (Entra looks the user up by immutable id
//!    only) — else 51004 (UserAccountNotInDirectory); a disabled account is 50057.
//!
//! Between 5 and 6, the answer is bound to the sign-in that sent the user
//! (none of these is captured from Entra; the codes are inferred from its
//! documented meanings, the replay one is a guess):
//!
//! - the context handed back (`wctx` / `RelayState`) names a request this
//!   tenant sent to the IdP, still open (sent less than [`REQUEST_LIFETIME`]
//!   ago, not answered yet) — else 90081 (OrgIdWsFederationMessageInvalid) for
//!   WS-Federation, 50008 for SAML;
//! - a SAML Response's `Destination` and a SAML 2.0 assertion's
//!   `SubjectConfirmationData/@Recipient`, when present, are this server's
//!   `login.srf` (under the name the sign-in started on) — else 50008;
//! - `InResponseTo` (on the Response or the `SubjectConfirmationData`), when
//!   present, is that request's AuthnRequest `ID` — else 50008;
//! - the assertion's id (`ID` / `AssertionID`) was not accepted before within
//!   its validity window — else 50013 (InvalidAssertion) [a guess: Entra's
//!   documented codes have none for a replayed assertion].
//!
//! The request is then answered (a second answer to it is refused) and the
//! assertion remembered until its `NotOnOrAfter` plus [`CLOCK_SKEW`], in
//! memory, bounded (`directory::signin::FederatedSignIns`).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use time::OffsetDateTime;
use uuid::Uuid;

use super::domain_federation::MICROSOFT_ONLINE_REALM;
use super::token::TokenError;
use super::xmldsig::{self, Doc, SignatureError, DSIG_NS};
use crate::directory::users::USER;
use crate::directory::Directory;

const SAML2: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const SAML2P: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
const SAML1: &str = "urn:oasis:names:tc:SAML:1.0:assertion";
const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";

/// How far an assertion's validity window stretches each way for clock skew.
/// A guess: five minutes is the default skew of Microsoft's identity-model
/// libraries, which Entra's documentation does not state for this check.
pub(crate) const CLOCK_SKEW: time::Duration = time::Duration::minutes(5);

/// How long a sign-in sent to the IdP waits for its answer. A guess: Entra
/// does not document its flow context's lifetime; an hour leaves room for the
/// IdP's own MFA.
pub(crate) const REQUEST_LIFETIME: time::Duration = time::Duration::hours(1);

/// How long an assertion with no `NotOnOrAfter` is remembered as used.
const REMEMBER_UNBOUNDED: time::Duration = time::Duration::hours(24);

fn refused(code: u32, description: impl Into<String>) -> TokenError {
    TokenError::new(400, "invalid_request", code, description)
}

fn invalid_saml(why: &str) -> TokenError {
    refused(50008, format!("SAML token is invalid: {why}"))
}

/// The assertion's version-specific reading.
struct Assertion {
    node: usize,
    saml2: bool,
}

impl Assertion {
    fn ns(&self) -> &'static str {
        if self.saml2 {
            SAML2
        } else {
            SAML1
        }
    }

    fn issuer(&self, doc: &Doc) -> Option<String> {
        if self.saml2 {
            doc.child(self.node, SAML2, "Issuer").map(|i| doc.text(i).trim().to_owned())
        } else {
            doc.attr(self.node, "Issuer").map(str::to_owned)
        }
    }

    fn audiences(&self, doc: &Doc) -> Vec<String> {
        let Some(conditions) = doc.child(self.node, self.ns(), "Conditions") else { return Vec::new() };
        let restriction = if self.saml2 { "AudienceRestriction" } else { "AudienceRestrictionCondition" };
        doc.children(conditions)
            .filter(|&r| doc.is(r, self.ns(), restriction))
            .flat_map(|r| doc.children(r).filter(|&a| doc.is(a, self.ns(), "Audience")).collect::<Vec<_>>())
            .map(|a| doc.text(a).trim().to_owned())
            .collect()
    }

    fn window(&self, doc: &Doc) -> Result<(Option<OffsetDateTime>, Option<OffsetDateTime>), TokenError> {
        let Some(conditions) = doc.child(self.node, self.ns(), "Conditions") else { return Ok((None, None)) };
        let read = |name: &str| match doc.attr(conditions, name) {
            None => Ok(None),
            Some(v) => crate::clock::parse_datetime(v.trim())
                .map(Some)
                .ok_or_else(|| invalid_saml(&format!("the condition {name} '{v}' is not a date and time"))),
        };
        Ok((read("NotBefore")?, read("NotOnOrAfter")?))
    }

    fn id(&self, doc: &Doc) -> Option<String> {
        doc.attr(self.node, if self.saml2 { "ID" } else { "AssertionID" }).map(|v| v.trim().to_owned())
    }

    /// SAML 2.0's bearer `SubjectConfirmationData` (SAML 1.1 has none).
    fn confirmation_data(&self, doc: &Doc) -> Option<usize> {
        if !self.saml2 {
            return None;
        }
        let subject = doc.child(self.node, SAML2, "Subject")?;
        doc.children(subject)
            .filter(|&c| doc.is(c, SAML2, "SubjectConfirmation"))
            .find_map(|c| doc.child(c, SAML2, "SubjectConfirmationData"))
    }

    /// The `ImmutableID` attribute (AD FS's claim for Entra), else the subject's
    /// NameID (SAML 2.0) / NameIdentifier (SAML 1.1).
    fn immutable_id(&self, doc: &Doc) -> Option<String> {
        let ns = self.ns();
        let attribute = doc
            .children(self.node)
            .filter(|&s| doc.is(s, ns, "AttributeStatement"))
            .flat_map(|s| doc.children(s).filter(|&a| doc.is(a, ns, "Attribute")).collect::<Vec<_>>())
            .find(|&a| {
                let name = if self.saml2 { doc.attr(a, "Name") } else { doc.attr(a, "AttributeName") };
                name.is_some_and(|n| n == "ImmutableID" || n.ends_with("/ImmutableID"))
            })
            .and_then(|a| doc.child(a, ns, "AttributeValue"))
            .map(|v| doc.text(v).trim().to_owned());
        if attribute.as_deref().is_some_and(|v| !v.is_empty()) {
            return attribute;
        }
        let subject = if self.saml2 {
            doc.child(self.node, ns, "Subject")
        } else {
            // SAML 1.1 puts the subject inside each statement.
            doc.children(self.node).find_map(|s| doc.child(s, ns, "Subject"))
        }?;
        let name = doc.child(subject, ns, if self.saml2 { "NameID" } else { "NameIdentifier" })?;
        Some(doc.text(name).trim().to_owned()).filter(|v| !v.is_empty())
    }
}

/// The posted document, decoded: `wresult` is XML as is, `SAMLResponse` base64.
fn posted_document(fields: &[(String, String)]) -> Result<(String, bool), TokenError> {
    let field = |n: &str| fields.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    if let Some(xml) = field("wresult") {
        return Ok((xml.to_owned(), false));
    }
    let Some(b64) = field("SAMLResponse") else {
        return Err(invalid_saml("the response carries neither wresult nor SAMLResponse"));
    };
    let compact: String = b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = STANDARD.decode(compact).map_err(|_| invalid_saml("SAMLResponse is not base64"))?;
    let xml = String::from_utf8(bytes).map_err(|_| invalid_saml("SAMLResponse is not UTF-8 XML"))?;
    Ok((xml, true))
}

/// Check the IdP's answer in `fields` for tenant `tenant_id` and return the
/// user it signs in.
pub(crate) fn accept(
    dir: &mut Directory,
    tenant_id: Uuid,
    fields: &[(String, String)],
    authority: &str,
    now: OffsetDateTime,
) -> Result<Uuid, TokenError> {
    let (xml, saml_post) = posted_document(fields)?;
    let doc = xmldsig::parse(&xml).map_err(|e| invalid_saml(&format!("the XML cannot be read ({e})")))?;
    if saml_post {
        if !doc.is(doc.root(), SAML2P, "Response") {
            return Err(invalid_saml("SAMLResponse does not hold a SAML 2.0 protocol Response"));
        }
        let status = doc
            .child(doc.root(), SAML2P, "Status")
            .and_then(|s| doc.child(s, SAML2P, "StatusCode"))
            .and_then(|c| doc.attr(c, "Value"));
        if status != Some(SUCCESS) {
            return Err(invalid_saml(&format!(
                "the IdP answered with status '{}', not Success",
                status.unwrap_or_default()
            )));
        }
    }
    let mut assertions: Vec<Assertion> =
        doc.all(SAML2, "Assertion").into_iter().map(|node| Assertion { node, saml2: true }).collect();
    assertions.extend(doc.all(SAML1, "Assertion").into_iter().map(|node| Assertion { node, saml2: false }));
    let assertion = match assertions.len() {
        1 => assertions.remove(0),
        0 => return Err(invalid_saml("the response holds no SAML assertion")),
        _ => return Err(invalid_saml("the response holds more than one SAML assertion")),
    };
    let issuer = assertion
        .issuer(&doc)
        .filter(|i| !i.is_empty())
        .ok_or_else(|| invalid_saml("the assertion names no issuer"))?;
    let fed = dir
        .domains
        .iter()
        .filter_map(|d| d.federation.as_ref())
        .find(|f| f.get_str("issuerUri") == Some(issuer.as_str()))
        .ok_or_else(|| refused(50107, format!("The requested federation realm object '{issuer}' does not exist.")))?;
    let certificates: Vec<Vec<u8>> = ["signingCertificate", "nextSigningCertificate"]
        .iter()
        .filter_map(|n| fed.get_str(n))
        .filter_map(|c| STANDARD.decode(c.trim()).ok())
        .collect();
    // The signature over the assertion itself, else over the Response that holds it.
    let mut signer = Some(assertion.node);
    let mut signature = None;
    while let Some(at) = signer {
        if let Some(s) = doc.child(at, DSIG_NS, "Signature") {
            signature = Some(s);
            break;
        }
        signer = doc.parent(at);
    }
    let signature = signature.ok_or_else(|| invalid_saml("the assertion is not signed"))?;
    match xmldsig::verify(&doc, signature, &certificates) {
        Ok(_) => {}
        Err(SignatureError::DigestMismatch | SignatureError::BadSignature) => {
            return Err(refused(50006, "Signature verification failed because of an invalid signature."))
        }
        Err(SignatureError::UnknownKey) => return Err(refused(
            50008,
            "Unable to verify token signature. The signing key identifier does not match any valid registered keys.",
        )),
        Err(SignatureError::Malformed(why)) => {
            return Err(invalid_saml(&format!("its signature is not usable: {why}")))
        }
    }
    let audiences = assertion.audiences(&doc);
    if !audiences.iter().any(|a| a == MICROSOFT_ONLINE_REALM) {
        return Err(refused(
            50010,
            format!(
                "Audience URI validation failed: the assertion is for '{}', not '{MICROSOFT_ONLINE_REALM}'.",
                audiences.join("', '")
            ),
        ));
    }
    let (not_before, not_on_or_after) = assertion.window(&doc)?;
    let early = not_before.is_some_and(|nb| now + CLOCK_SKEW < nb);
    let late = not_on_or_after.is_some_and(|na| now - CLOCK_SKEW >= na);
    if early || late {
        let show = |t: Option<OffsetDateTime>| t.map(crate::clock::format_datetime).unwrap_or_else(|| "none".into());
        return Err(refused(
            50013,
            format!(
                "Assertion is not within its valid time range. Current time: {}, NotBefore: {}, NotOnOrAfter: {}.",
                crate::clock::format_datetime(now),
                show(not_before),
                show(not_on_or_after)
            ),
        ));
    }
    bind(dir, &doc, &assertion, saml_post, fields, authority, now)?;
    let remember_until = not_on_or_after.map_or(now + REMEMBER_UNBOUNDED, |na| na + CLOCK_SKEW);
    let assertion_id = assertion.id(&doc).unwrap_or_default();
    dir.signin.federated.remember(format!("{issuer}\n{assertion_id}"), remember_until, now);
    let immutable_id = assertion
        .immutable_id(&doc)
        .ok_or_else(|| invalid_saml("the assertion has no ImmutableID claim and no NameID"))?;
    let user = dir
        .users
        .iter()
        .find(|(_, u)| u.get_str(&USER, "onPremisesImmutableId") == Some(immutable_id.as_str()))
        .map(|(id, _)| *id)
        .ok_or_else(|| {
            refused(
                51004,
                format!(
                    "The user account {immutable_id} does not exist in the {tenant_id} directory. To sign into this application, the account must be added to the directory."
                ),
            )
        })?;
    if dir.users[&user].get(&USER, "accountEnabled") == Some(&serde_json::Value::Bool(false)) {
        return Err(refused(50057, "The user account is disabled."));
    }
    Ok(user)
}

/// `scheme://host[:port]/path` with scheme and host lowercased and a default
/// port dropped, for comparing addresses as URLs rather than strings.
fn normalized_url(url: &str) -> String {
    let url = url.trim();
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let scheme = scheme.to_ascii_lowercase();
    let (host, path) = rest.find('/').map_or((rest, ""), |at| rest.split_at(at));
    let mut host = host.to_ascii_lowercase();
    let default = if scheme == "https" { ":443" } else { ":80" };
    if host.ends_with(default) {
        host.truncate(host.len() - default.len());
    }
    format!("{scheme}://{host}{path}")
}

/// The answer bound to the sign-in that sent the user: the context names a
/// request this tenant sent and has not seen answered, the answer is
/// addressed to this server's `login.srf`, `InResponseTo` names that request,
/// and the assertion is not one already accepted. On success the request is
/// answered (the caller remembers the assertion).
fn bind(
    dir: &mut Directory,
    doc: &Doc,
    assertion: &Assertion,
    saml_post: bool,
    fields: &[(String, String)],
    authority: &str,
    now: OffsetDateTime,
) -> Result<(), TokenError> {
    let field = |n: &str| fields.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    let request_id = field("graphbox_request").unwrap_or_default().to_owned();
    let Some(pending) = dir.signin.federated.pending(&request_id, now).cloned() else {
        let why = "the answer's context does not name a sign-in this service sent to the IdP, or that sign-in was already answered or has expired; start the sign-in again from the application.";
        return Err(if saml_post {
            invalid_saml(why)
        } else {
            refused(90081, format!("The WS-Federation message is not valid: {why}"))
        });
    };
    let ours = [normalized_url(&super::domain_federation::login_srf(authority)), normalized_url(&pending.reply_to)];
    let addressed = |what: &str, to: Option<&str>| match to {
        Some(to) if !ours.contains(&normalized_url(to)) => Err(invalid_saml(&format!(
            "its {what} '{to}' is not this service's sign-in address '{}'",
            pending.reply_to
        ))),
        _ => Ok(()),
    };
    let answers = |what: &str, to: Option<&str>| match to {
        Some(to) if to.trim() != request_id => Err(invalid_saml(&format!(
            "its {what} '{to}' does not name the request this sign-in sent ('{request_id}')"
        ))),
        _ => Ok(()),
    };
    if saml_post {
        addressed("Destination", doc.attr(doc.root(), "Destination"))?;
        answers("InResponseTo", doc.attr(doc.root(), "InResponseTo"))?;
    }
    if let Some(data) = assertion.confirmation_data(doc) {
        addressed("SubjectConfirmationData Recipient", doc.attr(data, "Recipient"))?;
        answers("SubjectConfirmationData InResponseTo", doc.attr(data, "InResponseTo"))?;
    }
    let issuer = assertion.issuer(doc).unwrap_or_default();
    let id = assertion.id(doc).filter(|i| !i.is_empty()).ok_or_else(|| invalid_saml("the assertion has no ID"))?;
    if dir.signin.federated.seen(&format!("{issuer}\n{id}"), now) {
        // A guess at the code: Entra documents none for a replayed assertion.
        return Err(refused(
            50013,
            format!("Assertion is invalid: the assertion '{id}' was already used to sign in. An IdP's answer is accepted once; sign in again at the IdP."),
        ));
    }
    dir.signin.federated.answered(&request_id);
    Ok(())
}
