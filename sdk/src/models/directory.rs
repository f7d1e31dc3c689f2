//! Roles, groups, domains, licences and the tenant itself.

use time::OffsetDateTime;

use super::{model, sparse_debug, string_enum};
use crate::ids::{
    DirectoryObjectId, DirectoryRoleId, DomainId, GroupId, RoleAssignmentId, RoleDefinitionId, RoleTemplateId, SkuId,
    TenantId,
};

model! {
    /// An activated directory role (legacy API).
    pub struct DirectoryRole {
        /// Tenant-specific object id.
        id: DirectoryRoleId,
        /// Display name.
        display_name: String,
        /// Description.
        description: String,
        /// The template it was activated from.
        role_template_id: RoleTemplateId,
    }
}
sparse_debug!(DirectoryRole { id, display_name, description, role_template_id });

model! {
    /// A directory role template (the same in every tenant).
    pub struct DirectoryRoleTemplate {
        /// Template id.
        id: RoleTemplateId,
        /// Display name.
        display_name: String,
        /// Description.
        description: String,
    }
}
sparse_debug!(DirectoryRoleTemplate { id, display_name, description });

model! {
    /// A unified RBAC role definition.
    pub struct UnifiedRoleDefinition {
        /// Id (the template id for built-in roles).
        id: RoleDefinitionId,
        /// Display name.
        display_name: String,
        /// Template id.
        template_id: RoleTemplateId,
        /// Built in.
        is_built_in: bool,
        /// Enabled.
        is_enabled: bool,
        /// Permissions.
        role_permissions: Vec<serde_json::Value>,
    }
}
sparse_debug!(UnifiedRoleDefinition { id, display_name, template_id, is_built_in, is_enabled, role_permissions });

model! {
    /// A unified RBAC role assignment.
    pub struct UnifiedRoleAssignment {
        /// Opaque id.
        id: RoleAssignmentId,
        /// The user, group or service principal.
        principal_id: DirectoryObjectId,
        /// The role definition (template id for built-in roles).
        role_definition_id: RoleDefinitionId,
        /// `/` for tenant-wide.
        directory_scope_id: String,
        /// Application scope, if any.
        app_scope_id: String,
    }
}
sparse_debug!(UnifiedRoleAssignment { id, principal_id, role_definition_id, directory_scope_id, app_scope_id });

impl UnifiedRoleAssignment {
    /// Assigns `role` tenant-wide (`directoryScopeId: "/"`) to `principal_id`.
    pub fn tenant_wide(principal_id: impl ToString, role: impl Into<RoleDefinitionId>) -> Self {
        // `impl ToString` kept (not `Into<DirectoryObjectId>`) so callers passing a `Uuid`, a
        // `&str` or any id type keep compiling.
        Self {
            principal_id: Some(DirectoryObjectId::new(principal_id.to_string())),
            role_definition_id: Some(role.into()),
            directory_scope_id: Some("/".into()),
            ..Default::default()
        }
    }
}

model! {
    /// A group.
    pub struct Group {
        /// Object id.
        id: GroupId,
        /// Display name (required on create).
        display_name: String,
        /// Description.
        description: String,
        /// Mail-enabled (required on create).
        mail_enabled: bool,
        /// Mail alias (required on create).
        mail_nickname: String,
        /// Security-enabled (required on create).
        security_enabled: bool,
        /// `[]` for security groups, `["Unified"]` for Microsoft 365 groups.
        group_types: Vec<String>,
        /// Mail address.
        mail: String,
        /// Creation time.
        #[serde(with = "time::serde::rfc3339::option")]
        created_date_time: OffsetDateTime,
    }
}
sparse_debug!(Group {
    id,
    display_name,
    description,
    mail_enabled,
    mail_nickname,
    security_enabled,
    group_types,
    mail,
    created_date_time,
});

impl Group {
    /// A security group (not mail-enabled).
    pub fn security(display_name: &str, mail_nickname: &str) -> Self {
        Self {
            display_name: Some(display_name.to_owned()),
            mail_nickname: Some(mail_nickname.to_owned()),
            mail_enabled: Some(false),
            security_enabled: Some(true),
            group_types: Some(Vec::new()),
            ..Default::default()
        }
    }
}

string_enum! {
    /// `domain.authenticationType`.
    AuthenticationType {
        /// Cloud authentication.
        Managed = "Managed",
        /// Federated with an external identity provider.
        Federated = "Federated",
    }
}

model! {
    /// A domain; its name is its id.
    pub struct Domain {
        /// The domain name.
        id: DomainId,
        /// `Managed` or `Federated`.
        authentication_type: AuthenticationType,
        /// Default for new users.
        is_default: bool,
        /// The initial `*.onmicrosoft.com` domain.
        is_initial: bool,
        /// Root domain.
        is_root: bool,
        /// Ownership verified.
        is_verified: bool,
        /// Admin-managed.
        is_admin_managed: bool,
        /// Services, e.g. `Email`.
        supported_services: Vec<String>,
    }
}
sparse_debug!(Domain {
    id,
    authentication_type,
    is_default,
    is_initial,
    is_root,
    is_verified,
    is_admin_managed,
    supported_services,
});

model! {
    /// A DNS record a domain needs (`domainDnsRecord`), e.g. the `TXT` record from
    /// `verificationDnsRecords`. The concrete type (`#microsoft.graph.domainDnsTxtRecord`, …)
    /// is in `odata_type`; type-specific properties other than `text` stay in `extra`.
    pub struct DomainDnsRecord {
        /// Id.
        id: String,
        /// `@odata.type`.
        #[serde(rename = "@odata.type")]
        odata_type: String,
        /// `Txt`, `Mx`, …
        record_type: String,
        /// The host name the record is set on (`@` for the domain itself).
        label: String,
        /// Time to live, in seconds.
        ttl: i64,
        /// Whether it is optional.
        is_optional: bool,
        /// The value of a `TXT` record, e.g. `MS=ms12345678`.
        text: String,
    }
}
sparse_debug!(DomainDnsRecord { id, odata_type, record_type, label, ttl, is_optional, text });

model! {
    /// A licence SKU the tenant has bought.
    pub struct SubscribedSku {
        /// Id.
        id: String,
        /// SKU id.
        sku_id: SkuId,
        /// Part number, e.g. `ENTERPRISEPACK`.
        sku_part_number: String,
        /// Licences in use.
        consumed_units: i64,
        /// `Enabled`, `Suspended`, …
        capability_status: String,
        /// Licence counts (`enabled`, `suspended`, `warning`).
        prepaid_units: serde_json::Value,
        /// Service plans.
        service_plans: Vec<serde_json::Value>,
    }
}
sparse_debug!(SubscribedSku {
    id,
    sku_id,
    sku_part_number,
    consumed_units,
    capability_status,
    prepaid_units,
    service_plans
});

model! {
    /// The tenant (`organization`).
    pub struct Organization {
        /// Tenant id.
        id: TenantId,
        /// Display name.
        display_name: String,
        /// `AAD`, …
        tenant_type: String,
        /// Country.
        country_letter_code: String,
        /// `None` never synced, `true` DirSync on, `false` was synced and is now off.
        on_premises_sync_enabled: bool,
        /// Last DirSync.
        #[serde(with = "time::serde::rfc3339::option")]
        on_premises_last_sync_date_time: OffsetDateTime,
        /// Verified domains.
        verified_domains: Vec<VerifiedDomain>,
        /// Technical notification addresses (writable).
        technical_notification_mails: Vec<String>,
        /// Marketing notification addresses (writable).
        marketing_notification_emails: Vec<String>,
        /// Creation time.
        #[serde(with = "time::serde::rfc3339::option")]
        created_date_time: OffsetDateTime,
    }
}
sparse_debug!(Organization {
    id,
    display_name,
    tenant_type,
    country_letter_code,
    on_premises_sync_enabled,
    on_premises_last_sync_date_time,
    verified_domains,
    technical_notification_mails,
    marketing_notification_emails,
    created_date_time,
});

model! {
    /// A verified domain of the organisation.
    pub struct VerifiedDomain {
        /// Domain name.
        name: String,
        /// Default domain.
        is_default: bool,
        /// Initial domain.
        is_initial: bool,
        /// `Managed` or `Federated`.
        #[serde(rename = "type")]
        kind: String,
        /// Capabilities, e.g. `Email, OfficeCommunicationsOnline`.
        capabilities: String,
    }
}
sparse_debug!(VerifiedDomain { name, is_default, is_initial, kind, capabilities });

string_enum! {
    /// `accidentalDeletionPrevention.synchronizationPreventionType`.
    SynchronizationPreventionType {
        /// Off.
        Disabled = "disabled",
        /// Threshold is a count of objects.
        EnabledForCount = "enabledForCount",
        /// Threshold is a percentage.
        EnabledForPercentage = "enabledForPercentage",
    }
}

model! {
    /// `/directory/onPremisesSynchronization/{id}`: the tenant's DirSync settings.
    pub struct OnPremisesDirectorySynchronization {
        /// The tenant id.
        id: TenantId,
        /// Configuration.
        configuration: OnPremisesSyncConfiguration,
        /// Feature switches (`passwordSyncEnabled`, `softMatchOnUpnEnabled`, …).
        features: serde_json::Map<String, serde_json::Value>,
    }
}
sparse_debug!(OnPremisesDirectorySynchronization { id, configuration, features });

model! {
    /// `onPremisesDirectorySynchronizationConfiguration`.
    pub struct OnPremisesSyncConfiguration {
        /// Accidental-deletion prevention.
        accidental_deletion_prevention: AccidentalDeletionPrevention,
    }
}
sparse_debug!(OnPremisesSyncConfiguration { accidental_deletion_prevention });

model! {
    /// `onPremisesAccidentalDeletionPrevention`.
    pub struct AccidentalDeletionPrevention {
        /// How the threshold is measured.
        synchronization_prevention_type: SynchronizationPreventionType,
        /// The threshold.
        alert_threshold: i64,
    }
}
sparse_debug!(AccidentalDeletionPrevention { synchronization_prevention_type, alert_threshold });

string_enum! {
    /// How Entra hands a federated domain's users to their IdP.
    AuthenticationProtocol {
        /// WS-Federation.
        WsFed = "wsFed",
        /// SAML 2.0.
        Saml = "saml",
    }
}

model! {
    /// A domain's federation with an external IdP (`internalDomainFederation`),
    /// under `domains/{id}/federationConfiguration`.
    pub struct InternalDomainFederation {
        /// Id (opaque).
        id: String,
        /// The IdP's display name.
        display_name: String,
        /// The IdP's issuer (its tokens' `Issuer`).
        issuer_uri: String,
        /// Where browsers sign in (WS-Fed or SAML endpoint).
        passive_sign_in_uri: String,
        /// Where rich clients sign in (WS-Trust).
        active_sign_in_uri: String,
        /// WS-Trust metadata exchange endpoint.
        metadata_exchange_uri: String,
        /// Where sign-out sends the browser.
        sign_out_uri: String,
        /// Base64 DER of the IdP's token-signing certificate.
        signing_certificate: String,
        /// The certificate that takes over at rollover.
        next_signing_certificate: String,
        /// WS-Fed or SAML.
        preferred_authentication_protocol: AuthenticationProtocol,
        /// `acceptIfMfaDoneByFederatedIdp`, `enforceMfaByFederatedIdp` or `rejectMfaByFederatedIdp`.
        federated_idp_mfa_behavior: String,
        /// `translateToFreshPasswordAuthentication`, `nativeSupport` or `disabled`.
        prompt_login_behavior: String,
        /// Whether Entra signs its SAML requests.
        is_signed_authentication_request_required: bool,
    }
}
sparse_debug!(InternalDomainFederation {
    id,
    display_name,
    issuer_uri,
    passive_sign_in_uri,
    active_sign_in_uri,
    preferred_authentication_protocol,
});
