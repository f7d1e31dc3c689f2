//! Delta queries: changes since the last round, and the link to ask again.
//!
//! Pages follow `@odata.nextLink` until a page carries `@odata.deltaLink` instead; that link is
//! what to persist. Items marked `@removed` become [`DeltaItem::Removed`] (`reason` is `changed`
//! for a soft delete, `deleted` for a permanent one).

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures::stream::{self, BoxStream, Stream, TryStreamExt};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::client::GraphClient;
use crate::error::{DecodeError, Error, RequestSummary};
use crate::odata::{Filter, QueryOptions};
use crate::transport::GraphRequest;

/// One change from a delta query.
#[derive(Debug, Clone, PartialEq)]
pub enum DeltaItem<T> {
    /// Created, restored or changed; carries the tracked properties.
    Changed(T),
    /// Removed: `reason` is `changed` (soft-deleted, restorable) or `deleted` (permanent).
    Removed {
        /// Object id.
        id: String,
        /// `@removed.reason`.
        reason: String,
    },
}

/// All changes of one delta round and the link for the next.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DeltaChanges<T> {
    /// The changes, in the order Graph returned them.
    pub changes: Vec<DeltaItem<T>>,
    /// `@odata.deltaLink` to persist (absent only if Graph sent none).
    pub delta_link: Option<String>,
}

/// A delta query; from e.g. [`UsersHandler::delta`](crate::api::users::UsersHandler::delta).
#[must_use = "nothing is sent until .send() or .into_stream()"]
pub struct DeltaRequest<T> {
    client: GraphClient,
    start: Start,
    page_size: Option<u32>,
    _model: PhantomData<fn() -> T>,
}

#[derive(Debug)]
enum Start {
    Path(String, QueryOptions),
    Link(String),
}

impl<T> fmt::Debug for DeltaRequest<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeltaRequest").field("start", &self.start).finish()
    }
}

#[derive(Deserialize)]
struct DeltaPage {
    #[serde(default)]
    value: Vec<serde_json::Value>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
    #[serde(rename = "@odata.deltaLink")]
    delta_link: Option<String>,
}

fn to_item<T: DeserializeOwned>(
    index: usize,
    value: serde_json::Value,
    request: &RequestSummary,
) -> Result<DeltaItem<T>, Error> {
    if let Some(removed) = value.get("@removed") {
        let id = value.get("id").and_then(|v| v.as_str()).unwrap_or_default().to_owned();
        let reason = removed.get("reason").and_then(|v| v.as_str()).unwrap_or("changed").to_owned();
        return Ok(DeltaItem::Removed { id, reason });
    }
    serde_path_to_error::deserialize(value).map(DeltaItem::Changed).map_err(|e| {
        let path = format!("value[{index}].{}", e.path());
        Error::Decode(DecodeError::new(request.clone(), path, e.into_inner().to_string()))
    })
}

impl<T: DeserializeOwned + Send + 'static> DeltaRequest<T> {
    pub(crate) fn new(client: &GraphClient, path: &str) -> Self {
        Self {
            client: client.clone(),
            start: Start::Path(path.to_owned(), QueryOptions::default()),
            page_size: None,
            _model: PhantomData,
        }
    }

    pub(crate) fn from_link(client: &GraphClient, link: String) -> Self {
        Self { client: client.clone(), start: Start::Link(link), page_size: None, _model: PhantomData }
    }

    /// Items per page, at most 999 (Graph's default is 100 for users): sent as
    /// `Prefer: odata.maxpagesize=N` on every page, since delta takes no `$top`.
    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = Some(n);
        self
    }

    /// `$select` for the initial round (baked into the links that follow).
    pub fn select<S: Into<String>>(mut self, properties: impl IntoIterator<Item = S>) -> Self {
        if let Start::Path(_, q) = &mut self.start {
            q.select.extend(properties.into_iter().map(Into::into));
        }
        self
    }

    /// `$filter` for the initial round (Graph allows only `id eq '…'` clauses joined by `or`).
    pub fn filter(mut self, filter: Filter) -> Self {
        if let Start::Path(_, q) = &mut self.start {
            q.filter = Some(filter);
        }
        self
    }

    fn first_url(&self) -> String {
        match &self.start {
            Start::Link(link) => link.clone(),
            Start::Path(path, q) => {
                let qs = q.to_query_string();
                let base = self.client.url(path);
                if qs.is_empty() {
                    base
                } else {
                    format!("{base}?{qs}")
                }
            }
        }
    }

    /// Every change of this round, and the delta link.
    ///
    /// # Errors
    ///
    /// Any [`Error`] from any page.
    pub async fn send(self) -> Result<DeltaChanges<T>, Error> {
        let mut stream = self.into_stream();
        let changes = (&mut stream).try_collect().await?;
        Ok(DeltaChanges { changes, delta_link: stream.delta_link() })
    }

    /// The changes as a stream; [`DeltaStream::delta_link`] is set once it ends.
    pub fn into_stream(self) -> DeltaStream<T> {
        let link = Arc::new(Mutex::new(None));
        let state = (self.client.clone(), VecDeque::new(), Some(self.first_url()), HashSet::new(), link.clone());
        let page_size = self.page_size;
        let inner = stream::unfold(state, move |(client, mut pending, mut next, mut seen, link)| async move {
            loop {
                if let Some(item) = pending.pop_front() {
                    return Some((item, (client, pending, next, seen, link)));
                }
                let url: String = next.take()?;
                if !seen.insert(url.clone()) {
                    tracing::warn!(%url, "Graph returned the same delta nextLink twice; stopping");
                    return None;
                }
                let request =
                    GraphRequest { method: Method::GET, url, body: None, eventual: false, max_page_size: page_size };
                let response = match client.send_request(request).await {
                    Ok(r) => r,
                    Err(e) => return Some((Err(e), (client, pending, None, seen, link))),
                };
                let page: DeltaPage = match crate::transport::decode(&response.body, &response.request) {
                    Ok(p) => p,
                    Err(e) => return Some((Err(e), (client, pending, None, seen, link))),
                };
                for (i, value) in page.value.into_iter().enumerate() {
                    pending.push_back(to_item::<T>(i, value, &response.request));
                }
                next = page.next_link;
                if let Some(delta) = page.delta_link {
                    *link.lock().unwrap_or_else(|p| p.into_inner()) = Some(delta);
                }
            }
        });
        DeltaStream { inner: Box::pin(inner), link }
    }
}

/// A stream of [`DeltaItem`]s that hands back the delta link when it ends.
pub struct DeltaStream<T> {
    inner: BoxStream<'static, Result<DeltaItem<T>, Error>>,
    link: Arc<Mutex<Option<String>>>,
}

impl<T> fmt::Debug for DeltaStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeltaStream").finish_non_exhaustive()
    }
}

impl<T> DeltaStream<T> {
    /// The `@odata.deltaLink` to persist, once the last page has been read.
    pub fn delta_link(&self) -> Option<String> {
        self.link.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl<T> Stream for DeltaStream<T> {
    type Item = Result<DeltaItem<T>, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

crate::request::into_future! {
    impl[T: DeserializeOwned + Send + 'static] DeltaRequest<T> => DeltaChanges<T>;
}
