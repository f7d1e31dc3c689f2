//! Domain federation: a verified custom domain whose users sign in at an
//! external identity provider (`internalDomainFederation`, Graph's
//! `domains/{id}/federationConfiguration`). The configuration is directory
//! data kept on its domain; the domain's `authenticationType` is `Federated`
//! exactly while it has one. Graph and MSOnline both read and write it here, so
//! their views of a domain always agree.
//!
//! Rules, from Microsoft's documentation of the resource and the cmdlets it
//! replaces, and where marked, inferred:
//! - only a verified domain that is not the tenant's initial (`onmicrosoft.com`)
//!   domain can be federated;
//! - a domain has at most one configuration (the collection has one member);
//! - `signingCertificate` (and `nextSigningCertificate`) are the base64 DER of
//!   an X.509 certificate ("compatible with the X509Certificate2 class");
//! - `preferredAuthenticationProtocol` is `wsFed` or `saml`;
//!   `federatedIdpMfaBehavior` and `promptLoginBehavior` take their documented
//!   enum members;
//! - `issuerUri`, `passiveSignInUri` and `signingCertificate` are required on
//!   create [inferred: a configuration without them cannot sign anyone in, and
//!   Graph is reported to fail (500, while leaving the domain federated) when
//!   the certificate is missing; the mock refuses cleanly instead];
//! - two domains of a tenant cannot share an `issuerUri` [inferred from the
//!   MSOnline/AD FS rule that each federated domain needs its own issuer unless
//!   `SupportMultipleDomain` rewrites it].

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::schema::{prop, validate_write, EntitySchema, PropType as T};
use super::Directory;
use crate::error::ApiError;

pub(crate) static FEDERATION: EntitySchema = EntitySchema::new(
    "microsoft.graph.internalDomainFederation",
    "InternalDomainFederation",
    &[
        prop("id", T::String).read_only().default_set(),
        prop("displayName", T::String).default_set(),
        prop("issuerUri", T::String).default_set(),
        prop("metadataExchangeUri", T::String).default_set(),
        prop("signingCertificate", T::String).default_set().max_len(16384),
        prop("passiveSignInUri", T::String).default_set(),
        prop("preferredAuthenticationProtocol", T::String).default_set(),
        prop("activeSignInUri", T::String).default_set(),
        prop("signOutUri", T::String).default_set(),
        prop("promptLoginBehavior", T::String).default_set(),
        prop("isSignedAuthenticationRequestRequired", T::Bool).default_set(),
        prop("nextSigningCertificate", T::String).default_set().max_len(16384),
        prop("signingCertificateUpdateStatus", T::Complex("microsoft.graph.signingCertificateUpdateStatus"))
            .read_only()
            .default_set(),
        prop("federatedIdpMfaBehavior", T::String).default_set(),
    ],
    &[],
);

/// Properties a create must carry (see the module notes: inferred).
const REQUIRED: &[&str] = &["issuerUri", "passiveSignInUri", "signingCertificate"];

const PROTOCOLS: &[&str] = &["wsFed", "saml"];
const MFA_BEHAVIORS: &[&str] =
    &["acceptIfMfaDoneByFederatedIdp", "enforceMfaByFederatedIdp", "rejectMfaByFederatedIdp"];
const PROMPT_BEHAVIORS: &[&str] = &["translateToFreshPasswordAuthentication", "nativeSupport", "disabled"];

/// How the authorize page hands a user to the federated IdP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protocol {
    WsFed,
    Saml,
}

/// One domain's federation configuration: its wire id and the properties set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Federation {
    pub id: Uuid,
    /// Set properties by wire name; unset ones show as `null`.
    pub values: Map<String, Value>,
    /// When the signing certificate was last written (`signingCertificateUpdateStatus`).
    pub certificate_updated: String,
}

impl Federation {
    pub(crate) fn get_str(&self, name: &str) -> Option<&str> {
        self.values.get(name).and_then(Value::as_str)
    }

    pub(crate) fn protocol(&self) -> Protocol {
        match self.get_str("preferredAuthenticationProtocol") {
            Some("saml") => Protocol::Saml,
            _ => Protocol::WsFed,
        }
    }

    /// The configuration as Graph shows it: every property, in the resource's
    /// order, unset ones `null`.
    pub(crate) fn to_json(&self) -> Map<String, Value> {
        let mut out = Map::new();
        out.insert("@odata.type".into(), Value::String("#microsoft.graph.internalDomainFederation".into()));
        for p in FEDERATION.props {
            let v = match p.name {
                "id" => Value::String(self.id.to_string()),
                "signingCertificateUpdateStatus" => serde_json::json!({
                    "certificateUpdateResult": "Success",
                    "lastRunDateTime": self.certificate_updated,
                }),
                // Documented default: unsigned requests unless asked for.
                "isSignedAuthenticationRequestRequired" => {
                    self.values.get(p.name).cloned().unwrap_or(Value::Bool(false))
                }
                name => self.values.get(name).cloned().unwrap_or(Value::Null),
            };
            out.insert(p.name.into(), v);
        }
        out
    }
}

/// Whether `b64` is the base64 DER of an X.509 certificate.
fn is_certificate(b64: &str) -> bool {
    let Ok(der) = STANDARD.decode(b64.trim()) else { return false };
    let der = rustls_pki_types::CertificateDer::from(der.as_slice());
    webpki::EndEntityCert::try_from(&der).is_ok()
}

/// Check the values of a create or PATCH body beyond their JSON types.
fn check_values(values: &Map<String, Value>) -> Result<(), ApiError> {
    for (name, v) in values {
        let Some(s) = v.as_str() else { continue };
        let allowed: Option<&[&str]> = match name.as_str() {
            "preferredAuthenticationProtocol" => Some(PROTOCOLS),
            "federatedIdpMfaBehavior" => Some(MFA_BEHAVIORS),
            "promptLoginBehavior" => Some(PROMPT_BEHAVIORS),
            _ => None,
        };
        if let Some(allowed) = allowed {
            if !allowed.contains(&s) {
                return Err(ApiError::bad_request(format!(
                    "Requested value '{s}' was not found in the enumeration for property '{name}'. Use one of: {}.",
                    allowed.join(", ")
                )));
            }
        }
        match name.as_str() {
            "signingCertificate" | "nextSigningCertificate" if !is_certificate(s) => {
                return Err(ApiError::request_bad_request(format!(
                    "Invalid value specified for property '{name}' of resource 'InternalDomainFederation': \
                     it must be the base64-encoded DER of an X.509 certificate (the public part of the IdP's token-signing certificate)."
                )));
            }
            "issuerUri" | "passiveSignInUri" | "activeSignInUri" | "signOutUri" | "metadataExchangeUri"
                if !(s.starts_with("https://") || s.starts_with("http://") || s.starts_with("urn:")) =>
            {
                return Err(super::schema::invalid_value(name, FEDERATION.resource_name));
            }
            _ => {}
        }
    }
    Ok(())
}

/// A body's properties by name, after the generic checks.
fn validated(body: &Map<String, Value>) -> Result<Map<String, Value>, ApiError> {
    let values: Map<String, Value> = validate_write(&FEDERATION, body)?
        .into_iter()
        .map(|(pos, v)| (FEDERATION.props[pos].name.to_owned(), v))
        .collect();
    check_values(&values)?;
    Ok(values)
}

fn issuer_in_use(issuer: &str) -> ApiError {
    ApiError::request_bad_request(format!(
        "The issuerUri '{issuer}' is already used by the federation of another domain of this organization. \
         Each federated domain needs its own issuer."
    ))
}

impl Directory {
    /// The federation of domain `name`, if it is federated.
    pub(crate) fn federation(&self, name: &str) -> Option<&Federation> {
        self.domain(name).and_then(|d| d.federation.as_ref())
    }

    /// The federation that signs in `upn`'s user, by the UPN's domain.
    pub(crate) fn federation_for_upn(&self, upn: &str) -> Option<&Federation> {
        upn.rsplit_once('@').and_then(|(_, d)| self.federation(d))
    }

    fn issuer_taken(&self, issuer: &str, except_domain: &str) -> bool {
        self.domains.iter().any(|d| {
            !d.name.eq_ignore_ascii_case(except_domain)
                && d.federation.as_ref().and_then(|f| f.get_str("issuerUri")) == Some(issuer)
        })
    }

    /// `POST /domains/{id}/federationConfiguration`.
    pub(crate) fn create_federation(
        &mut self,
        domain: &str,
        body: &Map<String, Value>,
        now: time::OffsetDateTime,
    ) -> Result<&Federation, ApiError> {
        let d = self.domain(domain).ok_or_else(|| ApiError::not_found(domain))?;
        if !d.is_verified {
            return Err(ApiError::request_bad_request(format!(
                "Domain '{}' is not verified. Verify the domain before configuring federation for it.",
                d.name
            )));
        }
        if d.is_initial {
            return Err(ApiError::request_bad_request(format!(
                "Domain '{}' is the initial domain of the organization and cannot be federated.",
                d.name
            )));
        }
        if d.federation.is_some() {
            return Err(ApiError::new(
                409,
                "Request_MultipleObjectsWithSameKeyValue",
                format!(
                    "Domain '{}' already has a federation configuration. Update or delete it instead of adding another.",
                    d.name
                ),
            ));
        }
        let values = validated(body)?;
        for required in REQUIRED {
            if values.get(*required).is_none_or(Value::is_null) {
                return Err(ApiError::value_required(required, FEDERATION.resource_name));
            }
        }
        let issuer = values.get("issuerUri").and_then(Value::as_str).unwrap_or_default();
        if self.issuer_taken(issuer, domain) {
            return Err(issuer_in_use(issuer));
        }
        let id = self.new_id();
        let mut values = values;
        // Graph's default protocol when none is named [inferred: MSOnline's
        // `-PreferredAuthenticationProtocol` defaults to WsFed].
        values.entry("preferredAuthenticationProtocol").or_insert_with(|| Value::String("wsFed".into()));
        let fed = Federation { id, values, certificate_updated: crate::clock::format_datetime(now) };
        let d = self.domains.iter_mut().find(|d| d.name.eq_ignore_ascii_case(domain)).expect("found above");
        Ok(d.federation.insert(fed))
    }

    /// The configuration `fed_id` of domain `domain`, or Graph's 404.
    pub(crate) fn federation_by_id(&self, domain: &str, fed_id: &str) -> Result<&Federation, ApiError> {
        self.domain(domain).ok_or_else(|| ApiError::not_found(domain))?;
        self.federation(domain)
            .filter(|f| f.id.to_string().eq_ignore_ascii_case(fed_id))
            .ok_or_else(|| ApiError::not_found(fed_id))
    }

    /// `PATCH /domains/{id}/federationConfiguration/{fid}`.
    pub(crate) fn update_federation(
        &mut self,
        domain: &str,
        fed_id: &str,
        body: &Map<String, Value>,
        now: time::OffsetDateTime,
    ) -> Result<&Federation, ApiError> {
        self.federation_by_id(domain, fed_id)?;
        let values = validated(body)?;
        for required in REQUIRED {
            if values.get(*required).is_some_and(Value::is_null) {
                return Err(ApiError::value_required(required, FEDERATION.resource_name));
            }
        }
        if let Some(issuer) = values.get("issuerUri").and_then(Value::as_str) {
            if self.issuer_taken(issuer, domain) {
                return Err(issuer_in_use(issuer));
            }
        }
        let d = self.domains.iter_mut().find(|d| d.name.eq_ignore_ascii_case(domain)).expect("found above");
        let fed = d.federation.as_mut().expect("found above");
        if values.contains_key("signingCertificate") {
            fed.certificate_updated = crate::clock::format_datetime(now);
        }
        for (k, v) in values {
            if v.is_null() {
                fed.values.remove(&k);
            } else {
                fed.values.insert(k, v);
            }
        }
        Ok(fed)
    }

    /// `DELETE /domains/{id}/federationConfiguration/{fid}`: the domain is
    /// managed again.
    pub(crate) fn delete_federation(&mut self, domain: &str, fed_id: &str) -> Result<(), ApiError> {
        self.federation_by_id(domain, fed_id)?;
        let d = self.domains.iter_mut().find(|d| d.name.eq_ignore_ascii_case(domain)).expect("found above");
        d.federation = None;
        Ok(())
    }
}

/// `POST /users` for a federated domain's UPN without `onPremisesImmutableId`.
/// The wording is the one seen from the directory for this case (reported
/// against Azure AD's own API, which Graph fronts); Graph has also been seen to
/// answer the generic "One or more properties contains invalid values.".
pub(crate) fn source_anchor_required() -> ApiError {
    ApiError::request_bad_request(
        "SourceAnchor is a required property for creation of a federated user. \
         Set onPremisesImmutableId when the userPrincipalName uses a federated domain.",
    )
    .with_detail("onPremisesImmutableId", "MissingRequiredProperty")
}

/// What a synced or federated user's password properties answer: the IdP owns
/// the credential (seen for `passwordPolicies` on a federated-domain user).
fn password_mastered_elsewhere() -> ApiError {
    ApiError::request_bad_request(
        "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.",
    )
}

impl Directory {
    /// The federation rules of a user `PATCH`, checked before anything applies:
    /// - a UPN moving into a federated domain needs an immutable id (the
    ///   body's or the user's);
    /// - a UPN cannot move directly from one federated domain to another
    ///   (Entra's "FederatedUser.UserPrincipalName is not valid"): it goes
    ///   through a managed domain first;
    /// - a federated user's immutable id cannot be cleared;
    /// - its password and password policies are the IdP's.
    pub(crate) fn check_federated_user_write(
        &self,
        current: &super::record::Record,
        values: &[(usize, Value)],
        sets_password: bool,
    ) -> Result<(), ApiError> {
        use super::users::USER;
        let named = |n: &str| values.iter().find(|(pos, _)| USER.props[*pos].name == n).map(|(_, v)| v);
        let old_upn = current.get_str(&USER, "userPrincipalName").unwrap_or_default();
        let new_upn = named("userPrincipalName").and_then(Value::as_str);
        let upn = new_upn.unwrap_or(old_upn);
        if self.federation_for_upn(upn).is_none() {
            return Ok(());
        }
        let immutable = match named("onPremisesImmutableId") {
            Some(v) => v.as_str(),
            None => current.get_str(&USER, "onPremisesImmutableId"),
        };
        if immutable.is_none() {
            return Err(source_anchor_required());
        }
        if let Some(new) = new_upn {
            let domain_of = |u: &str| u.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase());
            let moves_domain = domain_of(new) != domain_of(old_upn);
            if moves_domain && self.federation_for_upn(old_upn).is_some() {
                return Err(ApiError::request_bad_request(
                    "The attribute FederatedUser.UserPrincipalName is not valid: a user cannot move directly from one \
                     federated domain to another. Change its userPrincipalName to a managed domain first.",
                ));
            }
        }
        if sets_password || named("passwordPolicies").is_some() {
            return Err(password_mastered_elsewhere());
        }
        Ok(())
    }
}

impl Directory {
    /// Put back a configuration removed in the same write (MSOnline's
    /// replace-all, when the replacement is refused).
    pub(crate) fn restore_federation(&mut self, domain: &str, fed: Federation) {
        if let Some(d) = self.domains.iter_mut().find(|d| d.name.eq_ignore_ascii_case(domain)) {
            d.federation = Some(fed);
        }
    }
}
