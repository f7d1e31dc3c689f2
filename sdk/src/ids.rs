//! Identifier newtypes. Graph has several GUIDs per object (an application's object id, its
//! `appId`, its service principal's id); distinct types keep them from being swapped.
//!
//! Each is `Display`, `AsRef<str>`, serde-transparent and built with `new`/`From<&str>`; none
//! derefs to `String`.

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps an identifier string.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The identifier as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The identifier string.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl From<&$name> for $name {
            fn from(s: &$name) -> Self {
                s.clone()
            }
        }

        impl From<uuid::Uuid> for $name {
            fn from(u: uuid::Uuid) -> Self {
                Self(u.to_string())
            }
        }

        impl From<$name> for crate::odata::Literal {
            fn from(id: $name) -> Self {
                crate::odata::Literal::String(id.0)
            }
        }
    };
}

id_type!(
    /// A user's object id (a user can also be addressed by UPN: `UserId::new("mira@contoso.com")`).
    UserId
);
id_type!(
    /// An application's object id (`/applications/{id}`), not its `appId`.
    ApplicationId
);
id_type!(
    /// An application's client id (`appId`), shared by its service principals.
    AppId
);
id_type!(
    /// A service principal's object id.
    ServicePrincipalId
);
id_type!(
    /// A tenant id (GUID) or verified domain name.
    TenantId
);
id_type!(
    /// A group's object id.
    GroupId
);
id_type!(
    /// Any directory object's id.
    DirectoryObjectId
);
id_type!(
    /// An activated directory role's object id (differs per tenant).
    DirectoryRoleId
);
id_type!(
    /// A directory role template id (the same in every tenant).
    RoleTemplateId
);
id_type!(
    /// A unified role definition id (built-in roles use their template id).
    RoleDefinitionId
);
id_type!(
    /// A unified role assignment id (opaque, not a GUID).
    RoleAssignmentId
);
id_type!(
    /// An app role assignment id (opaque, not a GUID).
    AppRoleAssignmentId
);
id_type!(
    /// An app role id (an application permission's id).
    AppRoleId
);
id_type!(
    /// An `oauth2PermissionGrant` id (opaque, not a GUID).
    PermissionGrantId
);
id_type!(
    /// A domain name, which is also a domain's id.
    DomainId
);
id_type!(
    /// A password or key credential's `keyId`.
    KeyId
);
id_type!(
    /// A subscribed SKU's `skuId`.
    SkuId
);
