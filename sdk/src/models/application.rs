//! Applications, service principals and consent (app role assignments, permission grants).

use time::OffsetDateTime;

use super::{model, sparse_debug, string_enum};
use crate::ids::{
    AppId, AppRoleAssignmentId, AppRoleId, ApplicationId, DirectoryObjectId, KeyId, PermissionGrantId,
    ServicePrincipalId,
};

string_enum! {
    /// `signInAudience`.
    SignInAudience {
        /// This tenant only.
        AzureAdMyOrg = "AzureADMyOrg",
        /// Any Entra ID tenant.
        AzureAdMultipleOrgs = "AzureADMultipleOrgs",
        /// Any Entra ID tenant and personal Microsoft accounts.
        AzureAdAndPersonalMicrosoftAccount = "AzureADandPersonalMicrosoftAccount",
        /// Personal Microsoft accounts only.
        PersonalMicrosoftAccount = "PersonalMicrosoftAccount",
    }
}

string_enum! {
    /// `resourceAccess.type`.
    ResourceAccessType {
        /// An application permission (app role id).
        Role = "Role",
        /// A delegated permission (scope id).
        Scope = "Scope",
    }
}

string_enum! {
    /// `oAuth2PermissionGrant.consentType`.
    ConsentType {
        /// Admin consent for every user.
        AllPrincipals = "AllPrincipals",
        /// Consent for one user.
        Principal = "Principal",
    }
}

model! {
    /// An application registration (`microsoft.graph.application`).
    pub struct Application {
        /// Object id (`/applications/{id}`).
        id: ApplicationId,
        /// Client id.
        app_id: AppId,
        /// Display name (required on create).
        display_name: String,
        /// Who can sign in.
        sign_in_audience: SignInAudience,
        /// Permissions the application declares it needs (grants nothing by itself).
        required_resource_access: Vec<RequiredResourceAccess>,
        /// Application ID URIs.
        identifier_uris: Vec<String>,
        /// Secrets (`secretText` is never returned here).
        password_credentials: Vec<PasswordCredential>,
        /// Certificates.
        key_credentials: Vec<KeyCredential>,
        /// App roles the application defines.
        app_roles: Vec<AppRole>,
        /// The tenant's domain that published it.
        publisher_domain: String,
        /// Creation time.
        #[serde(with = "time::serde::rfc3339::option")]
        created_date_time: OffsetDateTime,
        /// Web platform settings (`redirectUris`, …).
        web: serde_json::Value,
        /// Tags.
        tags: Vec<String>,
    }
}
sparse_debug!(Application {
    id,
    app_id,
    display_name,
    sign_in_audience,
    required_resource_access,
    identifier_uris,
    password_credentials,
    key_credentials,
    app_roles,
    publisher_domain,
    created_date_time,
    web,
    tags,
});

impl Application {
    /// A single-tenant application named `display_name`.
    pub fn new(display_name: &str) -> Self {
        Self {
            display_name: Some(display_name.to_owned()),
            sign_in_audience: Some(SignInAudience::AzureAdMyOrg),
            ..Default::default()
        }
    }
}

model! {
    /// `requiredResourceAccess`: permissions wanted from one resource (e.g. Microsoft Graph).
    pub struct RequiredResourceAccess {
        /// The resource's `appId`.
        resource_app_id: AppId,
        /// The permissions.
        resource_access: Vec<ResourceAccess>,
    }
}
sparse_debug!(RequiredResourceAccess { resource_app_id, resource_access });

model! {
    /// One permission in `requiredResourceAccess`.
    pub struct ResourceAccess {
        /// App role id or scope id.
        id: String,
        /// `Role` or `Scope`.
        #[serde(rename = "type")]
        kind: ResourceAccessType,
    }
}
sparse_debug!(ResourceAccess { id, kind });

model! {
    /// A client secret (`passwordCredential`).
    pub struct PasswordCredential {
        /// Key id (what `removePassword` takes; not a secret).
        key_id: KeyId,
        /// Display name.
        display_name: String,
        /// The secret, returned only by `addPassword`.
        secret_text: String,
        /// First characters of the secret.
        hint: String,
        /// Valid from.
        #[serde(with = "time::serde::rfc3339::option")]
        start_date_time: OffsetDateTime,
        /// Valid until.
        #[serde(with = "time::serde::rfc3339::option")]
        end_date_time: OffsetDateTime,
    }
}

impl std::fmt::Debug for PasswordCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordCredential")
            .field("key_id", &self.key_id)
            .field("display_name", &self.display_name)
            .field("secret_text", &self.secret_text.as_ref().map(|_| "<redacted>"))
            .field("hint", &self.hint)
            .field("end_date_time", &self.end_date_time)
            .finish_non_exhaustive()
    }
}

model! {
    /// A certificate (`keyCredential`).
    pub struct KeyCredential {
        /// Key id.
        key_id: KeyId,
        /// `AsymmetricX509Cert`.
        #[serde(rename = "type")]
        kind: String,
        /// `Verify`.
        usage: String,
        /// Base64 DER of the certificate (write-only).
        key: String,
        /// Thumbprint.
        custom_key_identifier: String,
        /// Display name.
        display_name: String,
        /// Valid from.
        #[serde(with = "time::serde::rfc3339::option")]
        start_date_time: OffsetDateTime,
        /// Valid until.
        #[serde(with = "time::serde::rfc3339::option")]
        end_date_time: OffsetDateTime,
    }
}
sparse_debug!(KeyCredential {
    key_id,
    kind,
    usage,
    custom_key_identifier,
    display_name,
    start_date_time,
    end_date_time
});

/// The body of `POST /applications/{id}/addKey`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AddKey {
    /// The certificate to add.
    pub key_credential: KeyCredential,
    /// A password for a `Sign`-usage key, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_credential: Option<PasswordCredential>,
    /// A JWT signed with one of the application's existing certificates.
    pub proof: String,
}

model! {
    /// An app role (an application permission when defined by a resource).
    pub struct AppRole {
        /// Id.
        id: AppRoleId,
        /// Value, e.g. `User.ReadWrite.All`.
        value: String,
        /// Display name.
        display_name: String,
        /// Description.
        description: String,
        /// `Application` and/or `User`.
        allowed_member_types: Vec<String>,
        /// Enabled.
        is_enabled: bool,
    }
}
sparse_debug!(AppRole { id, value, display_name, description, allowed_member_types, is_enabled });

model! {
    /// A delegated permission a resource defines (`permissionScope`).
    pub struct PermissionScope {
        /// Id.
        id: String,
        /// Value, e.g. `User.Read`.
        value: String,
        /// `User` or `Admin`.
        #[serde(rename = "type")]
        kind: String,
        /// Admin consent display name.
        admin_consent_display_name: String,
        /// Enabled.
        is_enabled: bool,
    }
}
sparse_debug!(PermissionScope { id, value, kind, admin_consent_display_name, is_enabled });

model! {
    /// A service principal (`microsoft.graph.servicePrincipal`): an application's identity in a tenant.
    pub struct ServicePrincipal {
        /// Object id.
        id: ServicePrincipalId,
        /// The application's client id (required on create).
        app_id: AppId,
        /// Display name.
        display_name: String,
        /// Application display name.
        app_display_name: String,
        /// Enabled.
        account_enabled: bool,
        /// `Application`, `ManagedIdentity`, …
        service_principal_type: String,
        /// Names (the appId and identifier URIs).
        service_principal_names: Vec<String>,
        /// App roles (application permissions the resource offers).
        app_roles: Vec<AppRole>,
        /// Delegated permissions the resource offers.
        oauth2_permission_scopes: Vec<PermissionScope>,
        /// Owning tenant.
        app_owner_organization_id: String,
        /// Tags.
        tags: Vec<String>,
    }
}
sparse_debug!(ServicePrincipal {
    id,
    app_id,
    display_name,
    app_display_name,
    account_enabled,
    service_principal_type,
    service_principal_names,
    app_roles,
    oauth2_permission_scopes,
    app_owner_organization_id,
    tags,
});

impl ServicePrincipal {
    /// The body for creating the service principal of `app_id`.
    pub fn for_app(app_id: impl Into<AppId>) -> Self {
        Self { app_id: Some(app_id.into()), ..Default::default() }
    }
}

model! {
    /// An app role assignment: an application permission granted to a principal.
    pub struct AppRoleAssignment {
        /// Opaque id.
        id: AppRoleAssignmentId,
        /// The app role (permission) id.
        app_role_id: AppRoleId,
        /// The client service principal (or user/group) granted the role.
        principal_id: DirectoryObjectId,
        /// Principal display name.
        principal_display_name: String,
        /// `ServicePrincipal`, `User` or `Group`.
        principal_type: String,
        /// The resource service principal (e.g. Microsoft Graph's in this tenant).
        resource_id: ServicePrincipalId,
        /// Resource display name.
        resource_display_name: String,
        /// Creation time.
        #[serde(with = "time::serde::rfc3339::option")]
        created_date_time: OffsetDateTime,
    }
}
sparse_debug!(AppRoleAssignment {
    id,
    app_role_id,
    principal_id,
    principal_display_name,
    principal_type,
    resource_id,
    resource_display_name,
    created_date_time,
});

impl AppRoleAssignment {
    /// Grants app role `app_role_id` of `resource` to `principal`.
    pub fn new(
        principal: &ServicePrincipalId,
        resource: &ServicePrincipalId,
        app_role_id: impl Into<AppRoleId>,
    ) -> Self {
        Self {
            principal_id: Some(principal.into()),
            resource_id: Some(resource.clone()),
            app_role_id: Some(app_role_id.into()),
            ..Default::default()
        }
    }
}

model! {
    /// A delegated permission grant (`oAuth2PermissionGrant`).
    pub struct OAuth2PermissionGrant {
        /// Opaque id.
        id: PermissionGrantId,
        /// The client service principal's id.
        client_id: ServicePrincipalId,
        /// `AllPrincipals` or `Principal`.
        consent_type: ConsentType,
        /// The user, for `Principal` grants.
        principal_id: String,
        /// The resource service principal's id.
        resource_id: ServicePrincipalId,
        /// Space-separated scope values, e.g. `User.Read Directory.AccessAsUser.All`.
        scope: String,
    }
}
sparse_debug!(OAuth2PermissionGrant { id, client_id, consent_type, principal_id, resource_id, scope });
