//! Resource APIs, one module per family. Handlers are nouns reached from [`GraphClient`]
//! (`graph.users()`), operations are verbs returning a request named after the operation
//! (`ListUsers`) that does nothing until `.send()`.
//!
//! | handler | module | resources |
//! |---|---|---|
//! | [`GraphClient::users`] | [`users`] | users, manager, memberOf, licences, delta |
//! | [`GraphClient::applications`] | [`applications`] | applications, secrets, certificates, owners |
//! | [`GraphClient::service_principals`] | [`service_principals`] | service principals, app role assignments, owners, owned objects |
//! | [`GraphClient::oauth2_permission_grants`] | [`permission_grants`] | delegated consent |
//! | [`GraphClient::directory_roles`], [`GraphClient::directory_role_templates`], [`GraphClient::role_management`] | [`roles`] | directory roles, unified RBAC |
//! | [`GraphClient::groups`] | [`groups`] | groups, members, owners, delta |
//! | [`GraphClient::organization`], [`GraphClient::domains`], [`GraphClient::subscribed_skus`], [`GraphClient::on_premises_synchronization`] | [`tenant`] | the tenant itself |
//! | [`GraphClient::deleted_items`] | [`deleted_items`] | soft-deleted objects |
//! | [`GraphClient::batch`] | [`crate::batch`] | JSON `$batch` |

pub mod applications;
pub mod deleted_items;
pub mod groups;
pub mod permission_grants;
pub mod roles;
pub mod service_principals;
pub mod tenant;
pub mod users;

use crate::client::GraphClient;
use crate::odata::{encode_path_segment, Literal};

/// Percent-encodes an id or key for a path segment.
pub(crate) fn seg(id: impl AsRef<str>) -> String {
    encode_path_segment(id.as_ref())
}

/// An alternate-key segment: `(appId='3c9e…')`.
pub(crate) fn odata_key(property: &str, value: &impl AsRef<str>) -> String {
    let literal = crate::odata::render_literal(&Literal::String(value.as_ref().to_owned()));
    format!("({property}={})", seg(literal))
}

/// The `{"@odata.id": ".../directoryObjects/{id}"}` body of a `$ref` request.
pub(crate) fn directory_object_ref(client: &GraphClient, id: &impl AsRef<str>) -> serde_json::Value {
    serde_json::json!({ "@odata.id": format!("{}/directoryObjects/{}", client.graph_url(), seg(id)) })
}
