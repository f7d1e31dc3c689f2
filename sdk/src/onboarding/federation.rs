//! The federation step: the customer's custom domain, added, verified and federated to the
//! vendor's IdP, so the domain's users sign in there and the product owns their Immutable
//! IDs. Each part looks first and does only what is missing; a configuration that differs
//! from the one asked for is brought in line (a new signing certificate at rollover, say).

use super::app::{failed, with_replication_retry};
use super::{Onboarding, OnboardingError, OnboardingEvent, Step};
use crate::models::{AuthenticationProtocol, InternalDomainFederation};

/// A custom domain to federate, and the IdP it is federated to.
///
/// ```
/// use graphbox_sdk::models::AuthenticationProtocol;
/// use graphbox_sdk::onboarding::FederateDomain;
/// let step = FederateDomain::new(
///     "contoso.example",
///     "https://idp.vendor.example/issuer",
///     "https://idp.vendor.example/wsfed",
///     "MIIC…base64 DER…",
/// )
/// .display_name("Vendor IdP")
/// .protocol(AuthenticationProtocol::Saml);
/// assert_eq!(step.domain, "contoso.example");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct FederateDomain {
    /// The custom domain (verified before it is federated; its DNS record must be in place).
    pub domain: String,
    /// The IdP's issuer: its assertions' `Issuer`.
    pub issuer_uri: String,
    /// Where browsers are sent to sign in (WS-Federation or SAML endpoint).
    pub passive_sign_in_uri: String,
    /// The IdP's token-signing certificate, base64 DER (public part).
    pub signing_certificate: String,
    /// The IdP's name as Entra shows it.
    pub display_name: Option<String>,
    /// WS-Federation (the default) or SAML.
    pub protocol: AuthenticationProtocol,
}

impl FederateDomain {
    /// Federate `domain` to the IdP named `issuer_uri`, signing in at `passive_sign_in_uri`
    /// with WS-Federation, its tokens signed by `signing_certificate` (base64 DER).
    pub fn new(
        domain: impl Into<String>,
        issuer_uri: impl Into<String>,
        passive_sign_in_uri: impl Into<String>,
        signing_certificate: impl Into<String>,
    ) -> Self {
        FederateDomain {
            domain: domain.into(),
            issuer_uri: issuer_uri.into(),
            passive_sign_in_uri: passive_sign_in_uri.into(),
            signing_certificate: signing_certificate.into(),
            display_name: None,
            protocol: AuthenticationProtocol::WsFed,
        }
    }

    /// The IdP's name as Entra shows it.
    #[must_use]
    pub fn display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = Some(name.into());
        self
    }

    /// WS-Federation (default) or SAML.
    #[must_use]
    pub fn protocol(mut self, protocol: AuthenticationProtocol) -> Self {
        self.protocol = protocol;
        self
    }

    fn wanted(&self) -> InternalDomainFederation {
        InternalDomainFederation {
            display_name: self.display_name.clone(),
            issuer_uri: Some(self.issuer_uri.clone()),
            passive_sign_in_uri: Some(self.passive_sign_in_uri.clone()),
            signing_certificate: Some(self.signing_certificate.clone()),
            preferred_authentication_protocol: Some(self.protocol.clone()),
            ..Default::default()
        }
    }

    /// The settings of `current` that differ from the wanted ones, as a PATCH body.
    fn changes(&self, current: &InternalDomainFederation) -> Option<InternalDomainFederation> {
        let wanted = self.wanted();
        let mut patch = InternalDomainFederation::default();
        let mut any = false;
        macro_rules! compare {
            ($($field:ident),*) => {$(
                if wanted.$field.is_some() && wanted.$field != current.$field {
                    patch.$field = wanted.$field.clone();
                    any = true;
                }
            )*};
        }
        compare!(display_name, issuer_uri, passive_sign_in_uri, signing_certificate, preferred_authentication_protocol);
        any.then_some(patch)
    }
}

pub(super) async fn ensure_federated(w: &Onboarding, spec: &FederateDomain) -> Result<(), OnboardingError> {
    let step = Step::FederateDomain;
    w.emit(OnboardingEvent::Started(step));
    let name = spec.domain.as_str();
    let domain = match w.admin.domains().get(name).send().await {
        Ok(d) => d,
        Err(e) if e.is_not_found() => {
            let d = with_replication_retry(w, step, || w.admin.domains().create(name).send()).await?;
            w.emit(OnboardingEvent::Done { step, detail: format!("added {name}") });
            d
        }
        Err(e) => return Err(failed(step)(e)),
    };
    if domain.is_verified != Some(true) {
        // Fails until the TXT record of `verification_dns_records` is published; rerun then.
        w.admin.domains().verify(name).send().await.map_err(failed(step))?;
        w.emit(OnboardingEvent::Done { step, detail: format!("verified {name}") });
    }
    let existing = with_replication_retry(w, step, || w.admin.domains().federation_configurations(name).send())
        .await?
        .value
        .into_iter()
        .next();
    match existing {
        None => {
            let wanted = spec.wanted();
            with_replication_retry(w, step, || w.admin.domains().create_federation_configuration(name, &wanted).send())
                .await?;
            w.emit(OnboardingEvent::Done { step, detail: format!("{name} federated to {}", spec.issuer_uri) });
        }
        Some(current) => match spec.changes(&current) {
            None => w.emit(OnboardingEvent::AlreadyDone {
                step,
                detail: format!("{name} is federated to {}", spec.issuer_uri),
            }),
            Some(patch) => {
                let id = current.id.clone().ok_or(OnboardingError::MissingField { step, field: "id" })?;
                w.admin
                    .domains()
                    .update_federation_configuration(name, &id, &patch)
                    .send()
                    .await
                    .map_err(failed(step))?;
                w.emit(OnboardingEvent::Done { step, detail: format!("{name}'s federation brought up to date") });
            }
        },
    }
    Ok(())
}
