//! Users and licences.

use time::OffsetDateTime;

use super::{model, sparse_debug, string_enum};
use crate::ids::{SkuId, UserId};

string_enum! {
    /// `userType`.
    UserType {
        /// A member of the organisation.
        Member = "Member",
        /// An invited guest.
        Guest = "Guest",
    }
}

model! {
    /// A user (`microsoft.graph.user`).
    ///
    /// Graph returns a default property set (`id`, `displayName`, `userPrincipalName`, `mail`,
    /// …) unless `$select` asks for more; the rest stay `None`.
    pub struct User {
        /// Object id.
        id: UserId,
        /// Whether the account can sign in (required on create).
        account_enabled: bool,
        /// Display name (required on create).
        display_name: String,
        /// Given name.
        given_name: String,
        /// Surname.
        surname: String,
        /// Mail alias (required on create).
        mail_nickname: String,
        /// User principal name, `alias@verified.domain` (required on create).
        user_principal_name: String,
        /// Primary SMTP address.
        mail: String,
        /// Job title.
        job_title: String,
        /// Department.
        department: String,
        /// Mobile phone.
        mobile_phone: String,
        /// Office location.
        office_location: String,
        /// Preferred language, e.g. `en-US`.
        preferred_language: String,
        /// Business phones.
        business_phones: Vec<String>,
        /// Two-letter country code, required before licences can be assigned.
        usage_location: String,
        /// Password settings (required on create; never returned with a password).
        password_profile: PasswordProfile,
        /// `Member` or `Guest`.
        user_type: UserType,
        /// Source anchor linking to on-premises AD.
        on_premises_immutable_id: String,
        /// `true` when synchronised from on-premises (read-only).
        on_premises_sync_enabled: bool,
        /// Last on-premises sync (read-only).
        #[serde(with = "time::serde::rfc3339::option")]
        on_premises_last_sync_date_time: OffsetDateTime,
        /// Proxy addresses (read-only).
        proxy_addresses: Vec<String>,
        /// Other email addresses.
        other_mails: Vec<String>,
        /// Whether shown in the global address list.
        show_in_address_list: bool,
        /// Licences assigned directly.
        assigned_licenses: Vec<AssignedLicense>,
        /// Creation time (read-only).
        #[serde(with = "time::serde::rfc3339::option")]
        created_date_time: OffsetDateTime,
        /// Soft-deletion time (deleted items only).
        #[serde(with = "time::serde::rfc3339::option")]
        deleted_date_time: OffsetDateTime,
        /// Expanded manager (`$expand=manager`).
        manager: Box<super::DirectoryObject>,
    }
}
sparse_debug!(User {
    id,
    account_enabled,
    display_name,
    given_name,
    surname,
    mail_nickname,
    user_principal_name,
    mail,
    job_title,
    department,
    mobile_phone,
    office_location,
    preferred_language,
    business_phones,
    usage_location,
    password_profile,
    user_type,
    on_premises_immutable_id,
    on_premises_sync_enabled,
    on_premises_last_sync_date_time,
    proxy_addresses,
    other_mails,
    show_in_address_list,
    assigned_licenses,
    created_date_time,
    deleted_date_time,
    manager,
});

impl User {
    /// A user with the properties `POST /users` requires; the account is enabled and must change
    /// its password at first sign-in.
    ///
    /// ```
    /// let user = graphbox_sdk::models::User::new("Mira Okafor", "mira", "mira@contoso.onmicrosoft.com", "Vk3#pL9!wQz2");
    /// assert_eq!(user.account_enabled, Some(true));
    /// ```
    pub fn new(display_name: &str, mail_nickname: &str, user_principal_name: &str, password: &str) -> Self {
        Self {
            account_enabled: Some(true),
            display_name: Some(display_name.to_owned()),
            mail_nickname: Some(mail_nickname.to_owned()),
            user_principal_name: Some(user_principal_name.to_owned()),
            password_profile: Some(PasswordProfile {
                password: Some(password.to_owned()),
                force_change_password_next_sign_in: Some(true),
                ..Default::default()
            }),
            ..Default::default()
        }
    }
}

model! {
    /// `passwordProfile`.
    pub struct PasswordProfile {
        /// The password (write-only).
        password: String,
        /// Must change at next sign-in.
        force_change_password_next_sign_in: bool,
        /// Must register MFA and change at next sign-in.
        force_change_password_next_sign_in_with_mfa: bool,
    }
}

impl std::fmt::Debug for PasswordProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordProfile")
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("force_change_password_next_sign_in", &self.force_change_password_next_sign_in)
            .finish_non_exhaustive()
    }
}

model! {
    /// A licence assigned to a user (`assignedLicense`).
    pub struct AssignedLicense {
        /// The SKU.
        sku_id: SkuId,
        /// Service plans of the SKU switched off.
        disabled_plans: Vec<String>,
    }
}
sparse_debug!(AssignedLicense { sku_id, disabled_plans });

model! {
    /// `licenseDetails` of a user.
    pub struct LicenseDetails {
        /// Id.
        id: String,
        /// The SKU.
        sku_id: SkuId,
        /// SKU part number, e.g. `ENTERPRISEPACK`.
        sku_part_number: String,
        /// Service plans.
        service_plans: Vec<serde_json::Value>,
    }
}
sparse_debug!(LicenseDetails { id, sku_id, sku_part_number, service_plans });

/// The body of `POST /users/{id}/assignLicense`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignLicense {
    /// Licences to add.
    pub add_licenses: Vec<AssignedLicense>,
    /// SKU ids to remove.
    pub remove_licenses: Vec<SkuId>,
}
