//! MSOnline's domain operations, over the same domains and federation
//! configurations Graph serves (`directory/federation.rs`), so
//! `Get-MsolDomain` and `GET /domains` always agree:
//! `ListDomains`, `GetDomain`, `GetDomainFederationSettings` and
//! `SetDomainAuthentication` (Managed ↔ Federated, what
//! `Set-MsolDomainAuthentication` and `Convert-MsolDomainTo…` send).
//!
//! Data contracts, members in ordinal order (a .NET reader drops members out of
//! order): `Domain` (`Authentication`, `Capabilities`, `IsDefault`,
//! `IsInitial`, `Name`, `RootDomain`, `Status`, `VerificationMethod`) and
//! `DomainFederationSettings`, both in the `Microsoft.Online.Administration`
//! namespace [member names from the cmdlets' output objects; order by the data
//! contract rule].

use serde_json::{Map, Value};

use super::envelope::{Request, ADMINISTRATION};
use super::xml::{escape, Element};
use super::Fault;
use crate::directory::federation::Federation;
use crate::directory::{Directory, Domain};
use crate::error::ApiError;

/// MSOnline's `DomainFederationSettings` member ↔ Graph's
/// `internalDomainFederation` property, in the contract's ordinal order.
/// (The Graph documentation names the pairs `ActiveLogOnUri` ↔
/// `activeSignInUri` and `LogOffUri` ↔ `signOutUri`; the rest follow the names.)
const SETTINGS: &[(&str, &str)] = &[
    ("ActiveLogOnUri", "activeSignInUri"),
    ("FederationBrandName", "displayName"),
    ("IssuerUri", "issuerUri"),
    ("LogOffUri", "signOutUri"),
    ("MetadataExchangeUri", "metadataExchangeUri"),
    ("NextSigningCertificate", "nextSigningCertificate"),
    ("PassiveLogOnUri", "passiveSignInUri"),
    ("PreferredAuthenticationProtocol", "preferredAuthenticationProtocol"),
    ("PromptLoginBehavior", "promptLoginBehavior"),
    ("SigningCertificate", "signingCertificate"),
];

/// MSOnline's enum names for Graph's protocol and prompt values.
fn msol_enum(graph: &str) -> &str {
    match graph {
        "wsFed" => "WsFed",
        "saml" => "Samlp",
        "translateToFreshPasswordAuthentication" => "TranslateToFreshPasswordAuth",
        "nativeSupport" => "NativeSupport",
        "disabled" => "Disabled",
        other => other,
    }
}

fn graph_enum(msol: &str) -> String {
    match msol {
        "WsFed" => "wsFed".into(),
        "Samlp" => "saml".into(),
        "TranslateToFreshPasswordAuth" => "translateToFreshPasswordAuthentication".into(),
        "NativeSupport" => "nativeSupport".into(),
        "Disabled" => "disabled".into(),
        other => other.into(),
    }
}

fn text(name: &str, v: Option<&str>) -> String {
    match v {
        Some(v) => format!("<co:{name}>{}</co:{name}>", escape(v)),
        None => format!("<co:{name} n:nil=\"true\"/>"),
    }
}

fn domain_members(d: &Domain) -> String {
    let authentication = if d.federation.is_some() { "Federated" } else { "Managed" };
    let capabilities = if d.is_verified { "Email OfficeCommunicationsOnline" } else { "None" };
    [
        text("Authentication", Some(authentication)),
        text("Capabilities", Some(capabilities)),
        text("IsDefault", Some(&d.is_default.to_string())),
        text("IsInitial", Some(&d.is_initial.to_string())),
        text("Name", Some(&d.name)),
        text("RootDomain", None),
        text("Status", Some(if d.is_verified { "Verified" } else { "Unverified" })),
        text("VerificationMethod", Some(if d.is_verified { "DnsRecord" } else { "None" })),
    ]
    .concat()
}

fn settings_members(f: &Federation) -> String {
    let mut out = String::new();
    for (msol, graph) in SETTINGS {
        let v = f.get_str(graph).map(|v| match *graph {
            "preferredAuthenticationProtocol" | "promptLoginBehavior" => msol_enum(v).to_owned(),
            _ => v.to_owned(),
        });
        out.push_str(&text(msol, v.as_deref()));
    }
    // Graph's federatedIdpMfaBehavior supersedes SupportsMfa; unset reads as false.
    let mfa = f.get_str("federatedIdpMfaBehavior") == Some("enforceMfaByFederatedIdp");
    out.push_str(&text("SupportsMfa", Some(&mfa.to_string())));
    out
}

fn domain_not_found(name: &str) -> Fault {
    // The detail type exists in the contract; the wording is inferred.
    Fault::new("DomainNotFoundException", format!("The domain {name} does not exist in this organization."))
}

fn domain_name(request: &Request) -> Result<&str, Fault> {
    request.member("DomainName").and_then(Element::value).ok_or_else(|| {
        Fault::new("InvalidParameterException", "A value is required for DomainName. Name the domain to act on.")
    })
}

/// `ListDomains`: every domain of the tenant.
pub(super) fn list(dir: &Directory) -> String {
    let mut out = format!("<w:ReturnValue xmlns:co=\"{ADMINISTRATION}\">");
    for d in &dir.domains {
        out.push_str(&format!("<co:Domain>{}</co:Domain>", domain_members(d)));
    }
    out.push_str("</w:ReturnValue>");
    out
}

/// `GetDomain`.
pub(super) fn get(dir: &Directory, request: &Request) -> Result<String, Fault> {
    let name = domain_name(request)?;
    let d = dir.domain(name).ok_or_else(|| domain_not_found(name))?;
    Ok(format!("<w:ReturnValue xmlns:co=\"{ADMINISTRATION}\">{}</w:ReturnValue>", domain_members(d)))
}

/// `GetDomainFederationSettings`: nil for a managed domain.
pub(super) fn federation_settings(dir: &Directory, request: &Request) -> Result<String, Fault> {
    let name = domain_name(request)?;
    dir.domain(name).ok_or_else(|| domain_not_found(name))?;
    Ok(match dir.federation(name) {
        Some(f) => format!("<w:ReturnValue xmlns:co=\"{ADMINISTRATION}\">{}</w:ReturnValue>", settings_members(f)),
        None => "<w:ReturnValue n:nil=\"true\"/>".to_owned(),
    })
}

/// A Graph-side refusal as MSOnline's fault.
fn fault_of(e: ApiError) -> Fault {
    match e.status {
        404 => Fault::new("DomainNotFoundException", e.message),
        _ => Fault::new("InvalidParameterException", e.message),
    }
}

/// `SetDomainAuthentication`: `Federated` with `FederationSettings`, or `Managed`.
pub(super) fn set_authentication(
    dir: &mut Directory,
    request: &Request,
    now: time::OffsetDateTime,
) -> Result<String, Fault> {
    let name = domain_name(request)?.to_owned();
    dir.domain(&name).ok_or_else(|| domain_not_found(&name))?;
    match request.member("Authentication").and_then(Element::value) {
        Some("Managed") => {
            if let Some(id) = dir.federation(&name).map(|f| f.id.to_string()) {
                dir.delete_federation(&name, &id).map_err(fault_of)?;
            }
            Ok(String::new())
        }
        Some("Federated") => {
            let settings = request.member("FederationSettings").filter(|s| !s.nil).ok_or_else(|| {
                Fault::new("InvalidParameterException", "FederationSettings are required to make a domain Federated.")
            })?;
            let mut body = Map::new();
            for (msol, graph) in SETTINGS {
                if let Some(v) = settings.child(ADMINISTRATION, msol).and_then(Element::value) {
                    let v = match *graph {
                        "preferredAuthenticationProtocol" | "promptLoginBehavior" => graph_enum(v),
                        _ => v.to_owned(),
                    };
                    body.insert((*graph).to_owned(), Value::String(v));
                }
            }
            if let Some("true") = settings.child(ADMINISTRATION, "SupportsMfa").and_then(Element::value) {
                body.insert("federatedIdpMfaBehavior".into(), Value::String("enforceMfaByFederatedIdp".into()));
            }
            // The cmdlet sends every setting: an already federated domain's
            // configuration is replaced, atomically (the old one is restored if
            // the new one is refused).
            let previous = dir.federation(&name).cloned();
            if let Some(p) = &previous {
                dir.delete_federation(&name, &p.id.to_string()).map_err(fault_of)?;
            }
            match dir.create_federation(&name, &body, now) {
                Ok(_) => Ok(String::new()),
                Err(e) => {
                    if let Some(p) = previous {
                        dir.restore_federation(&name, p);
                    }
                    Err(fault_of(e))
                }
            }
        }
        other => Err(Fault::new(
            "InvalidParameterException",
            format!("'{}' is not a valid Authentication. Use Managed or Federated.", other.unwrap_or_default()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn federation_settings_members_are_in_ordinal_order() {
        let mut names: Vec<&str> = SETTINGS.iter().map(|(m, _)| *m).collect();
        names.push("SupportsMfa");
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
    }

    #[test]
    fn msol_and_graph_enum_names_round_trip() {
        for g in ["wsFed", "saml", "translateToFreshPasswordAuthentication", "nativeSupport", "disabled"] {
            assert_eq!(graph_enum(msol_enum(g)), g);
        }
    }
}
