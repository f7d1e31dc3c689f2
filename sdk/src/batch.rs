//! JSON batching: up to 20 requests in one `POST /$batch`.
//!
//! Each item has an id, a method, a URL relative to the version (`/users?$top=1`) and optionally
//! a JSON body and `dependsOn`. Graph answers `200` when the batch parses, whatever the items
//! did; each [`BatchItemResponse`] carries its own status, headers and body, and
//! [`BatchItemResponse::json`] turns it into a model or the item's [`GraphError`].

use std::collections::{BTreeMap, HashSet};

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::client::GraphClient;
use crate::error::{BuildError, Error, GraphError, RequestSummary};
use crate::transport::{decode, graph_error_from_body, parse_retry_after};

/// Graph's limit on requests per batch.
pub const MAX_BATCH_REQUESTS: usize = 20;

/// One request inside a batch.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchItem {
    id: String,
    method: String,
    url: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    headers: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    depends_on: Vec<String>,
}

impl BatchItem {
    fn new(id: impl Into<String>, method: &str, url: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            method: method.to_owned(),
            url: url.into(),
            headers: BTreeMap::new(),
            body: None,
            depends_on: Vec::new(),
        }
    }

    fn with_body(mut self, body: &impl Serialize) -> Result<Self, BuildError> {
        let body =
            serde_json::to_value(body).map_err(|e| BuildError::with_source("batch body could not be serialised", e))?;
        self.headers.insert("Content-Type".into(), "application/json".into());
        self.body = Some(body);
        Ok(self)
    }

    /// `GET url`.
    pub fn get(id: impl Into<String>, url: impl Into<String>) -> Self {
        Self::new(id, "GET", url)
    }

    /// `DELETE url`.
    pub fn delete(id: impl Into<String>, url: impl Into<String>) -> Self {
        Self::new(id, "DELETE", url)
    }

    /// `POST url` with a JSON body.
    ///
    /// # Errors
    ///
    /// [`BuildError`] if `body` does not serialise.
    pub fn post(id: impl Into<String>, url: impl Into<String>, body: &impl Serialize) -> Result<Self, BuildError> {
        Self::new(id, "POST", url).with_body(body)
    }

    /// `PATCH url` with a JSON body.
    ///
    /// # Errors
    ///
    /// [`BuildError`] if `body` does not serialise.
    pub fn patch(id: impl Into<String>, url: impl Into<String>, body: &impl Serialize) -> Result<Self, BuildError> {
        Self::new(id, "PATCH", url).with_body(body)
    }

    /// Run only after these items (by id) succeeded; otherwise Graph answers `424` for this one.
    pub fn depends_on<S: Into<String>>(mut self, ids: impl IntoIterator<Item = S>) -> Self {
        self.depends_on.extend(ids.into_iter().map(Into::into));
        self
    }

    /// Adds a header to this item (e.g. `ConsistencyLevel: eventual`).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }
}

/// A `$batch` request; from [`GraphClient::batch`].
#[derive(Debug)]
#[must_use = "nothing is sent until .send()"]
pub struct BatchRequest {
    client: GraphClient,
    items: Vec<BatchItem>,
}

impl GraphClient {
    /// Starts a JSON batch.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// use graphbox_sdk::batch::BatchItem;
    /// use graphbox_sdk::models::User;
    /// let new = User::new("Batch User", "batchuser", "batchuser@contoso.onmicrosoft.com", "Qw!9r-Tz7m#Lp2");
    /// let patch = User { usage_location: Some("SE".into()), ..Default::default() };
    /// let answers = graph.batch()
    ///     .request(BatchItem::post("a", "/users", &new)?)
    ///     .request(BatchItem::patch("c", "/users/batchuser@contoso.onmicrosoft.com", &patch)?.depends_on(["a"]))
    ///     .send().await?;
    /// let created: User = answers.get("a").expect("answered").json()?;
    /// # Ok(()) }
    /// ```
    pub fn batch(&self) -> BatchRequest {
        BatchRequest { client: self.clone(), items: Vec::new() }
    }
}

impl BatchRequest {
    /// Adds an item.
    pub fn request(mut self, item: BatchItem) -> Self {
        self.items.push(item);
        self
    }

    /// The items so far.
    pub fn items(&self) -> &[BatchItem] {
        &self.items
    }

    fn validate(&self) -> Result<(), BuildError> {
        if self.items.is_empty() || self.items.len() > MAX_BATCH_REQUESTS {
            return Err(BuildError::new(format!(
                "a batch holds 1 to {MAX_BATCH_REQUESTS} requests, not {}",
                self.items.len()
            )));
        }
        let mut ids = HashSet::new();
        for item in &self.items {
            if !ids.insert(item.id.as_str()) {
                return Err(BuildError::new(format!("batch request id '{}' is used twice", item.id)));
            }
            if item.url.contains("://") || item.url.trim_start_matches('/').starts_with("$batch") {
                return Err(BuildError::new(format!(
                    "batch request '{}': url must be relative and not another $batch",
                    item.id
                )));
            }
        }
        for item in &self.items {
            if let Some(missing) = item.depends_on.iter().find(|d| !ids.contains(d.as_str())) {
                return Err(BuildError::new(format!("batch request '{}' depends on unknown id '{missing}'", item.id)));
            }
        }
        Ok(())
    }

    /// Sends the batch.
    ///
    /// # Errors
    ///
    /// [`Error::Build`] for an empty batch, more than 20 items, duplicate ids, unknown `dependsOn`
    /// or absolute URLs; otherwise as any call (item failures are in the response, not here).
    pub async fn send(self) -> Result<BatchResponse, Error> {
        self.validate()?;
        let body = serde_json::json!({ "requests": self.items });
        let mut response: BatchResponse =
            self.client.send_json(Method::POST, self.client.url("/$batch"), Some(body), false).await?;
        response.now = Some(self.client.transport.clock.now());
        Ok(response)
    }
}

/// The answers of a batch, in whatever order Graph returned them.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct BatchResponse {
    /// One answer per item.
    pub responses: Vec<BatchItemResponse>,
    #[serde(skip)]
    now: Option<std::time::SystemTime>,
}

impl BatchResponse {
    /// The answer to the item with `id`.
    pub fn get(&self, id: &str) -> Option<&BatchItemResponse> {
        self.responses.iter().find(|r| r.id == id)
    }

    /// How long the throttled item `id` was asked to wait (its `Retry-After`).
    pub fn retry_after(&self, id: &str) -> Option<std::time::Duration> {
        let value = self.get(id)?.header("Retry-After")?;
        parse_retry_after(value, self.now.unwrap_or(std::time::UNIX_EPOCH))
    }
}

/// One item's answer.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct BatchItemResponse {
    /// The item's id.
    pub id: String,
    /// Its HTTP status.
    pub status: u16,
    /// Its headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Its body (`None` for `204`).
    #[serde(default)]
    pub body: Option<serde_json::Value>,
}

impl BatchItemResponse {
    /// `true` for a 2xx status.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// A header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn summary(&self) -> RequestSummary {
        RequestSummary { method: "BATCH".into(), path: format!("/$batch#{}", self.id) }
    }

    /// The item's Graph error, when its status is not 2xx.
    pub fn error(&self) -> Option<GraphError> {
        if self.is_success() {
            return None;
        }
        let body = self.body.as_ref().map(|b| b.to_string()).unwrap_or_default();
        let retry_after = self
            .header("Retry-After")
            .and_then(|v| v.trim().parse::<f64>().ok())
            .map(std::time::Duration::from_secs_f64);
        Some(graph_error_from_body(self.status, body.as_bytes(), retry_after, &self.summary()))
    }

    /// The body as a model (use `()` for `204`).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] with the item's error when its status is not 2xx; [`Error::Decode`] with
    /// the JSON path when the body does not fit `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        if let Some(error) = self.error() {
            return Err(Error::Api(Box::new(error)));
        }
        let body = self.body.as_ref().map(|b| b.to_string()).unwrap_or_default();
        decode(body.as_bytes(), &self.summary())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_serialise_like_the_documented_batch() {
        let item = BatchItem::patch("c", "/users/x", &serde_json::json!({"usageLocation": "SE"}))
            .expect("body")
            .depends_on(["a"]);
        assert_eq!(
            serde_json::to_value(item).expect("json"),
            serde_json::json!({"id": "c", "method": "PATCH", "url": "/users/x",
                "headers": {"Content-Type": "application/json"}, "body": {"usageLocation": "SE"}, "dependsOn": ["a"]})
        );
    }
}

crate::request::into_future! {
    impl[] BatchRequest => BatchResponse;
}
