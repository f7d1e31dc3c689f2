//! Attribute ownership: which attributes the source owns (written, overwritten on every sync)
//! and which Microsoft 365 owns (never written), as the provisioning product's guide divides them.

use std::fmt;

/// A user attribute provisioning knows about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Attribute {
    /// `userPrincipalName` (script: `UserPrincipalName`).
    UserPrincipalName,
    /// `onPremisesImmutableId` (script: `ImmutableId`).
    ImmutableId,
    /// `displayName` (script: `DisplayName`).
    DisplayName,
    /// `mail`, the primary email (script: `Mail`).
    Mail,
    /// `mailNickname`, the username part (script: `MailNickname`).
    MailNickname,
    /// `usageLocation`, the article's "Location" (script: `UsageLocation`).
    UsageLocation,
    /// `givenName` (script: `GivenName`).
    GivenName,
    /// `surname` (script: `Surname`).
    Surname,
    /// `proxyAddresses`, the aliases (script: `ProxyAddresses`); read-only in Graph.
    ProxyAddresses,
    /// `assignedLicenses` (script: `Licenses`); changed only through `assignLicense`.
    Licenses,
    /// `showInAddressList`, "HideFromAddressList" inverted (script: `ShowInAddressList`).
    ShowInAddressList,
    /// The `manager` navigation (script: `Manager`); changed only through `$ref`.
    Manager,
    /// `jobTitle` (script: `JobTitle`).
    JobTitle,
    /// `department` (script: `Department`).
    Department,
    /// `companyName` (script: `CompanyName`).
    CompanyName,
    /// `streetAddress` (script: `StreetAddress`).
    StreetAddress,
    /// `city` (script: `City`).
    City,
    /// `state` (script: `State`).
    State,
    /// `postalCode` (script: `PostalCode`).
    PostalCode,
    /// `country` (script: `Country`).
    Country,
    /// `officeLocation` (script: `OfficeLocation`).
    OfficeLocation,
    /// `businessPhones` (script: `BusinessPhones`).
    BusinessPhones,
    /// `mobilePhone` (script: `MobilePhone`).
    MobilePhone,
    /// `faxNumber` (script: `FaxNumber`).
    FaxNumber,
    /// `otherMails` (script: `OtherMails`).
    OtherMails,
}

impl Attribute {
    /// Every attribute.
    pub const ALL: &'static [Attribute] = &[
        Attribute::UserPrincipalName,
        Attribute::ImmutableId,
        Attribute::DisplayName,
        Attribute::Mail,
        Attribute::MailNickname,
        Attribute::UsageLocation,
        Attribute::GivenName,
        Attribute::Surname,
        Attribute::ProxyAddresses,
        Attribute::Licenses,
        Attribute::ShowInAddressList,
        Attribute::Manager,
        Attribute::JobTitle,
        Attribute::Department,
        Attribute::CompanyName,
        Attribute::StreetAddress,
        Attribute::City,
        Attribute::State,
        Attribute::PostalCode,
        Attribute::Country,
        Attribute::OfficeLocation,
        Attribute::BusinessPhones,
        Attribute::MobilePhone,
        Attribute::FaxNumber,
        Attribute::OtherMails,
    ];

    /// The Graph user property (or navigation) name.
    pub fn graph_name(self) -> &'static str {
        use Attribute::*;
        match self {
            UserPrincipalName => "userPrincipalName",
            ImmutableId => "onPremisesImmutableId",
            DisplayName => "displayName",
            Mail => "mail",
            MailNickname => "mailNickname",
            UsageLocation => "usageLocation",
            GivenName => "givenName",
            Surname => "surname",
            ProxyAddresses => "proxyAddresses",
            Licenses => "assignedLicenses",
            ShowInAddressList => "showInAddressList",
            Manager => "manager",
            JobTitle => "jobTitle",
            Department => "department",
            CompanyName => "companyName",
            StreetAddress => "streetAddress",
            City => "city",
            State => "state",
            PostalCode => "postalCode",
            Country => "country",
            OfficeLocation => "officeLocation",
            BusinessPhones => "businessPhones",
            MobilePhone => "mobilePhone",
            FaxNumber => "faxNumber",
            OtherMails => "otherMails",
        }
    }

    /// The name in provisioning scripts (`destination.<Name>`, MSOnline style PascalCase).
    pub fn script_name(self) -> &'static str {
        use Attribute::*;
        match self {
            UserPrincipalName => "UserPrincipalName",
            ImmutableId => "ImmutableId",
            DisplayName => "DisplayName",
            Mail => "Mail",
            MailNickname => "MailNickname",
            UsageLocation => "UsageLocation",
            GivenName => "GivenName",
            Surname => "Surname",
            ProxyAddresses => "ProxyAddresses",
            Licenses => "Licenses",
            ShowInAddressList => "ShowInAddressList",
            Manager => "Manager",
            JobTitle => "JobTitle",
            Department => "Department",
            CompanyName => "CompanyName",
            StreetAddress => "StreetAddress",
            City => "City",
            State => "State",
            PostalCode => "PostalCode",
            Country => "Country",
            OfficeLocation => "OfficeLocation",
            BusinessPhones => "BusinessPhones",
            MobilePhone => "MobilePhone",
            FaxNumber => "FaxNumber",
            OtherMails => "OtherMails",
        }
    }

    /// The attribute with this Graph or script name (case-insensitive), also accepting
    /// `immutableId` for `onPremisesImmutableId`.
    ///
    /// ```
    /// use graphbox_sdk::provisioning::Attribute;
    /// assert_eq!(Attribute::from_name("usageLocation"), Some(Attribute::UsageLocation));
    /// assert_eq!(Attribute::from_name("ImmutableId"), Some(Attribute::ImmutableId));
    /// ```
    pub fn from_name(name: &str) -> Option<Attribute> {
        Attribute::ALL
            .iter()
            .copied()
            .find(|a| a.graph_name().eq_ignore_ascii_case(name) || a.script_name().eq_ignore_ascii_case(name))
    }

    /// `true` for the multi-valued attributes (lists of strings).
    pub fn is_list(self) -> bool {
        matches!(
            self,
            Attribute::ProxyAddresses | Attribute::BusinessPhones | Attribute::OtherMails | Attribute::Licenses
        )
    }

    /// `true` when a `PATCH /users/{id}` can write it. Aliases are read-only in Graph,
    /// licences change through `assignLicense` and the manager through `$ref`, so none of the
    /// three can be owned by the source.
    pub fn patchable(self) -> bool {
        !matches!(self, Attribute::ProxyAddresses | Attribute::Licenses | Attribute::Manager)
    }
}

impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.graph_name())
    }
}

/// Who owns an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Owner {
    /// The source: written on create and overwritten on every sync.
    Source,
    /// The source on create only; afterwards Microsoft 365 owns it.
    SourceOnCreate,
    /// Microsoft 365: never written by provisioning.
    Office365,
}

/// Which attributes provisioning writes.
///
/// The default follows the provisioning product's guide: the source owns
/// display name, usage location, immutable id, primary email, username and UPN; Microsoft 365
/// owns aliases, licences, address-list visibility, manager, postal addresses and the other
/// contact fields. Given name and surname, which the article does not list, are written on
/// create only (so a new user has them) and then left to Microsoft 365.
///
/// ```
/// use graphbox_sdk::provisioning::{Attribute, OwnershipPolicy, Owner};
/// let policy = OwnershipPolicy::default().with(Attribute::JobTitle, Owner::Source)?;
/// assert_eq!(policy.owner(Attribute::JobTitle), Owner::Source);
/// assert_eq!(policy.owner(Attribute::ProxyAddresses), Owner::Office365);
/// assert!(OwnershipPolicy::default().with(Attribute::ProxyAddresses, Owner::Source).is_err());
/// # Ok::<(), graphbox_sdk::provisioning::PolicyError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnershipPolicy {
    owners: Vec<(Attribute, Owner)>,
}

/// An ownership the policy cannot honour.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{attribute} cannot be owned by the source: Graph's PATCH /users cannot write it")]
pub struct PolicyError {
    /// The attribute.
    pub attribute: Attribute,
}

impl Default for OwnershipPolicy {
    fn default() -> Self {
        use Attribute::*;
        let owners = Attribute::ALL
            .iter()
            .map(|&a| {
                let owner = match a {
                    UserPrincipalName | ImmutableId | DisplayName | Mail | MailNickname | UsageLocation => {
                        Owner::Source
                    }
                    GivenName | Surname => Owner::SourceOnCreate,
                    _ => Owner::Office365,
                };
                (a, owner)
            })
            .collect();
        Self { owners }
    }
}

impl OwnershipPolicy {
    /// Who owns `attribute`.
    pub fn owner(&self, attribute: Attribute) -> Owner {
        self.owners.iter().find(|(a, _)| *a == attribute).map_or(Owner::Office365, |(_, o)| *o)
    }

    /// This policy with `attribute` owned by `owner`.
    ///
    /// # Errors
    ///
    /// [`PolicyError`] when a non-patchable attribute (aliases, licences, manager) is given to
    /// the source.
    pub fn with(mut self, attribute: Attribute, owner: Owner) -> Result<Self, PolicyError> {
        if owner != Owner::Office365 && !attribute.patchable() {
            return Err(PolicyError { attribute });
        }
        match self.owners.iter_mut().find(|(a, _)| *a == attribute) {
            Some(slot) => slot.1 = owner,
            None => self.owners.push((attribute, owner)),
        }
        Ok(self)
    }

    /// Attributes written on create (owned by the source, on create or always).
    pub fn written_on_create(&self) -> impl Iterator<Item = Attribute> + '_ {
        self.owners.iter().filter(|(_, o)| *o != Owner::Office365).map(|(a, _)| *a)
    }

    /// Attributes compared and overwritten on update.
    pub fn written_on_update(&self) -> impl Iterator<Item = Attribute> + '_ {
        self.owners.iter().filter(|(_, o)| *o == Owner::Source).map(|(a, _)| *a)
    }
}
