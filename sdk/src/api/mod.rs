//! Resource APIs, one module per family. Handlers are nouns reached from [`GraphClient`]
//! (`graph.users()`), operations are verbs returning a request named after the operation
//! (`ListUsers`) that does nothing until `.send()`.
//!
//! | handler | module |
//! |---|---|
//! | [`GraphClient::users`] | [`users`] |

pub mod users;

use crate::client::GraphClient;
use crate::odata::encode_path_segment;

/// Percent-encodes an id or key for a path segment.
pub(crate) fn seg(id: impl AsRef<str>) -> String {
    encode_path_segment(id.as_ref())
}

/// The `{"@odata.id": ".../directoryObjects/{id}"}` body of a `$ref` request.
pub(crate) fn directory_object_ref(client: &GraphClient, id: &impl AsRef<str>) -> serde_json::Value {
    serde_json::json!({ "@odata.id": format!("{}/directoryObjects/{}", client.graph_url(), seg(id)) })
}
