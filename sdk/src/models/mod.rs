//! Typed entities.
//!
//! Every model is one struct for reading, creating and updating, as in Microsoft's SDKs: each
//! property is an `Option` (absent when Graph did not return it, omitted when you do not set
//! it), names are camelCase on the wire, and properties the model does not name are kept in
//! `extra` and written back. Enumerations keep values this SDK does not know in `Unknown`.
//!
//! To send an explicit `null` in a PATCH, put it in `extra`:
//! `patch.extra.insert("mail".into(), serde_json::Value::Null)`.

mod application;
mod directory;
mod user;

pub use application::*;
pub use directory::*;
pub use user::*;

/// Declares a model: every field `Option` and skipped when `None`, plus `extra`.
macro_rules! model {
    ($(#[$m:meta])* pub struct $name:ident { $( $(#[$fm:meta])* $field:ident : $ty:ty ),* $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            $(
                $(#[$fm])*
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            )*
            /// Properties this model does not name; kept on read and written back.
            #[serde(flatten)]
            pub extra: serde_json::Map<String, serde_json::Value>,
        }
    };
}

/// Declares a string enumeration with an `Unknown(String)` fallback.
macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $( $(#[$vm:meta])* $variant:ident = $wire:literal ),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vm])* $variant, )*
            /// A value this SDK does not know.
            Unknown(String),
        }

        impl $name {
            /// The wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )*
                    Self::Unknown(s) => s,
                }
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $( $wire => Self::$variant, )*
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                Ok(Self::from(s.as_ref()))
            }
        }
    };
}

/// Implements `Debug` listing only the fields that are set.
macro_rules! sparse_debug {
    ($name:ident { $($field:ident),* $(,)? }) => {
        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let mut d = f.debug_struct(stringify!($name));
                $( if let Some(v) = &self.$field { d.field(stringify!($field), v); } )*
                if !self.extra.is_empty() {
                    d.field("extra", &self.extra);
                }
                d.finish()
            }
        }
    };
}

pub(crate) use {model, sparse_debug, string_enum};

model! {
    /// Any directory object, as returned by `memberOf`, `members`, `manager` and deleted items.
    /// `odata_type` says what it is (`#microsoft.graph.user`, `#microsoft.graph.group`, …).
    pub struct DirectoryObject {
        /// Object id.
        id: crate::ids::DirectoryObjectId,
        /// `@odata.type`.
        #[serde(rename = "@odata.type")]
        odata_type: String,
        /// Display name (most directory objects have one).
        display_name: String,
        /// When it was soft-deleted.
        #[serde(with = "time::serde::rfc3339::option")]
        deleted_date_time: time::OffsetDateTime,
    }
}
sparse_debug!(DirectoryObject { id, odata_type, display_name, deleted_date_time });

impl DirectoryObject {
    /// Converts to a concrete model (e.g. [`User`]) using the kept properties.
    ///
    /// # Errors
    ///
    /// The serde error if the properties do not fit `T`.
    pub fn to_model<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::to_value(self).and_then(serde_json::from_value)
    }
}
