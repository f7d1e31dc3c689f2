//! Identifier newtypes. Graph has several GUIDs per object (an application's object id, its
//! `appId`, its service principal's id); distinct types keep them from being swapped.
//!
//! Each is `Display`, `AsRef<str>`, serde-transparent and built with `new`; none derefs to
//! `String`. Every operation taking an id takes `impl Into<…Id>`, which `&str`, `String`,
//! `&String`, [`uuid::Uuid`] (and `&Uuid`), the id type itself and a reference to it all are:
//!
//! ```
//! # use graphbox_sdk::ids::UserId;
//! # fn get(_: impl Into<UserId>) {}
//! let id = uuid::Uuid::nil();
//! let model_id: UserId = UserId::new("mira@contoso.com");
//! get("mira@contoso.com");
//! get(format!("{id}"));
//! get(&format!("{id}"));
//! get(id);
//! get(&id);
//! get(&model_id);
//! get(model_id);
//! ```
//!
//! The types keep different GUIDs apart: an application's `appId` is not its object id.
//!
//! ```compile_fail
//! # use graphbox_sdk::ids::{AppId, ApplicationId};
//! # fn get_application(_: impl Into<ApplicationId>) {}
//! get_application(AppId::new("00000000-0000-0000-0000-000000000001"));
//! ```
//!
//! Any object's id is a [`DirectoryObjectId`] (for `$ref`s such as a manager or a member):
//!
//! ```
//! # use graphbox_sdk::ids::{DirectoryObjectId, GroupId, ServicePrincipalId, UserId};
//! # fn add_member(_: impl Into<DirectoryObjectId>) {}
//! add_member(UserId::new("u"));
//! add_member(&GroupId::new("g"));
//! add_member(ServicePrincipalId::new("s"));
//! ```

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

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }

        impl From<&String> for $name {
            fn from(s: &String) -> Self {
                Self(s.clone())
            }
        }

        impl From<&uuid::Uuid> for $name {
            fn from(u: &uuid::Uuid) -> Self {
                Self(u.to_string())
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

/// Every kind of object id names a directory object.
macro_rules! directory_object {
    ($($name:ident),*) => {$(
        impl From<$name> for DirectoryObjectId {
            fn from(id: $name) -> Self {
                DirectoryObjectId(id.0)
            }
        }

        impl From<&$name> for DirectoryObjectId {
            fn from(id: &$name) -> Self {
                DirectoryObjectId(id.0.clone())
            }
        }
    )*};
}

directory_object!(UserId, GroupId, ServicePrincipalId, ApplicationId, DirectoryRoleId);
