//! The generic request builders behind every operation. Each resource API names its operations
//! with aliases (`ListUsers = ListRequest<User>`); nothing is sent until `.send()`.

use std::fmt;
use std::marker::PhantomData;

use futures::stream::BoxStream;
use reqwest::Method;
use serde::de::DeserializeOwned;

use crate::client::GraphClient;
use crate::error::Error;
use crate::odata::{Filter, QueryOptions};
use crate::paging::{item_stream, Page};

/// `GET` a collection with OData query options.
#[must_use = "nothing is sent until .send() or .into_stream()"]
pub struct ListRequest<T> {
    client: GraphClient,
    path: String,
    query: QueryOptions,
    force_eventual: bool,
    _model: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for ListRequest<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListRequest").field("path", &self.path).field("query", &self.query).finish()
    }
}

impl<T: DeserializeOwned + Send + 'static> ListRequest<T> {
    pub(crate) fn new(client: &GraphClient, path: impl Into<String>) -> Self {
        Self {
            client: client.clone(),
            path: path.into(),
            query: QueryOptions::default(),
            force_eventual: false,
            _model: PhantomData,
        }
    }

    /// `$select`: the properties to return.
    pub fn select<S: Into<String>>(mut self, properties: impl IntoIterator<Item = S>) -> Self {
        self.query.select.extend(properties.into_iter().map(Into::into));
        self
    }

    /// `$expand`, e.g. `manager`.
    pub fn expand<S: Into<String>>(mut self, navigations: impl IntoIterator<Item = S>) -> Self {
        self.query.expand.extend(navigations.into_iter().map(Into::into));
        self
    }

    /// `$filter`.
    pub fn filter(mut self, filter: Filter) -> Self {
        self.query.filter = Some(filter);
        self
    }

    /// `$search`, e.g. `displayName:mir` (quoted for you; adds `ConsistencyLevel: eventual`).
    pub fn search(mut self, search: impl Into<String>) -> Self {
        self.query.search = Some(search.into());
        self
    }

    /// `$orderby` clause, e.g. `displayName` or `displayName desc`; call again for more keys.
    pub fn order_by(mut self, clause: impl Into<String>) -> Self {
        self.query.order_by.push(clause.into());
        self
    }

    /// `$top`: page size.
    pub fn top(mut self, n: u32) -> Self {
        self.query.top = Some(n);
        self
    }

    /// `$count=true`: return `@odata.count` on the first page (adds `ConsistencyLevel: eventual`).
    pub fn count(mut self, count: bool) -> Self {
        self.query.count = Some(count);
        self
    }

    /// Send `ConsistencyLevel: eventual` even when the options do not require it.
    pub fn consistency_eventual(mut self) -> Self {
        self.force_eventual = true;
        self
    }

    /// The query options so far.
    pub fn query(&self) -> &QueryOptions {
        &self.query
    }

    fn eventual(&self) -> bool {
        self.force_eventual || self.query.needs_eventual_consistency()
    }

    /// The absolute URL the first page is fetched from.
    pub fn url(&self) -> String {
        let qs = self.query.effective().to_query_string();
        let base = self.client.url(&self.path);
        if qs.is_empty() {
            base
        } else {
            format!("{base}?{qs}")
        }
    }

    /// Fetches the first page.
    ///
    /// # Errors
    ///
    /// Any [`Error`]; see the crate docs.
    pub async fn send(self) -> Result<Page<T>, Error> {
        let eventual = self.eventual();
        let mut page: Page<T> = self.client.send_json(Method::GET, self.url(), None, eventual).await?;
        page.eventual = eventual;
        Ok(page)
    }

    /// Every item of every page, following `@odata.nextLink`.
    pub fn into_stream(self) -> BoxStream<'static, Result<T, Error>> {
        let eventual = self.eventual();
        let url = self.url();
        item_stream(self.client, Default::default(), Some(url), eventual)
    }
}

/// `GET` one entity, optionally with `$select`/`$expand`.
#[must_use = "nothing is sent until .send()"]
pub struct GetRequest<T> {
    client: GraphClient,
    path: String,
    query: QueryOptions,
    _model: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for GetRequest<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GetRequest").field("path", &self.path).field("query", &self.query).finish()
    }
}

impl<T: DeserializeOwned> GetRequest<T> {
    pub(crate) fn new(client: &GraphClient, path: impl Into<String>) -> Self {
        Self { client: client.clone(), path: path.into(), query: QueryOptions::default(), _model: PhantomData }
    }

    /// `$select`: the properties to return.
    pub fn select<S: Into<String>>(mut self, properties: impl IntoIterator<Item = S>) -> Self {
        self.query.select.extend(properties.into_iter().map(Into::into));
        self
    }

    /// `$expand`, e.g. `manager`.
    pub fn expand<S: Into<String>>(mut self, navigations: impl IntoIterator<Item = S>) -> Self {
        self.query.expand.extend(navigations.into_iter().map(Into::into));
        self
    }

    /// Sends the request.
    ///
    /// # Errors
    ///
    /// Any [`Error`]; a missing object is [`Error::Api`] with status 404.
    pub async fn send(self) -> Result<T, Error> {
        let qs = self.query.to_query_string();
        let mut url = self.client.url(&self.path);
        if !qs.is_empty() {
            url = format!("{url}?{qs}");
        }
        self.client.send_json(Method::GET, url, None, false).await
    }
}

/// Any other operation: create, update, delete, actions, `$ref`s. `T` is what Graph answers
/// (`()` for `204 No Content`).
#[must_use = "nothing is sent until .send()"]
pub struct Call<T> {
    client: GraphClient,
    method: Method,
    path: String,
    body: Result<Option<serde_json::Value>, String>,
    _model: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for Call<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call").field("method", &self.method).field("path", &self.path).finish_non_exhaustive()
    }
}

impl<T: DeserializeOwned> Call<T> {
    pub(crate) fn new(client: &GraphClient, method: Method, path: impl Into<String>) -> Self {
        Self { client: client.clone(), method, path: path.into(), body: Ok(None), _model: PhantomData }
    }

    pub(crate) fn body(mut self, body: &impl serde::Serialize) -> Self {
        self.body = serde_json::to_value(body).map(Some).map_err(|e| e.to_string());
        self
    }

    pub(crate) fn json(mut self, body: serde_json::Value) -> Self {
        self.body = Ok(Some(body));
        self
    }

    /// Sends the request.
    ///
    /// # Errors
    ///
    /// Any [`Error`]; a body that could not be serialised is [`Error::Build`].
    pub async fn send(self) -> Result<T, Error> {
        let body = match self.body {
            Ok(body) => body,
            Err(e) => {
                let message = format!("{} {}: body could not be serialised: {e}", self.method, self.path);
                return Err(Error::Build(crate::error::BuildError::new(message)));
            }
        };
        self.client.send_json(self.method, self.client.url(&self.path), body, false).await
    }
}

/// `GET …/$count`: the number of matching objects (always with `ConsistencyLevel: eventual`,
/// which Graph requires for the `$count` segment on directory objects).
#[must_use = "nothing is sent until .send()"]
#[derive(Debug)]
pub struct CountRequest {
    client: GraphClient,
    path: String,
    query: QueryOptions,
}

impl CountRequest {
    pub(crate) fn new(client: &GraphClient, path: impl Into<String>) -> Self {
        Self { client: client.clone(), path: path.into(), query: QueryOptions::default() }
    }

    /// `$filter`.
    pub fn filter(mut self, filter: Filter) -> Self {
        self.query.filter = Some(filter);
        self
    }

    /// `$search`.
    pub fn search(mut self, search: impl Into<String>) -> Self {
        self.query.search = Some(search.into());
        self
    }

    /// Sends the request.
    ///
    /// # Errors
    ///
    /// Any [`Error`]; a body that is not a number is [`Error::Decode`].
    pub async fn send(self) -> Result<u64, Error> {
        let qs = self.query.to_query_string();
        let mut url = self.client.url(&format!("{}/$count", self.path));
        if !qs.is_empty() {
            url = format!("{url}?{qs}");
        }
        self.client.send_json(Method::GET, url, None, true).await
    }
}

/// `.await` on a builder sends it, as `.send().await` does: forgetting `.send()` is not an error.
macro_rules! into_future {
    ($(impl[$($g:tt)*] $ty:ty => $out:ty;)*) => {$(
        impl<$($g)*> std::future::IntoFuture for $ty {
            type Output = Result<$out, Error>;
            type IntoFuture = futures::future::BoxFuture<'static, Result<$out, Error>>;

            fn into_future(self) -> Self::IntoFuture {
                Box::pin(self.send())
            }
        }
    )*};
}
pub(crate) use into_future;

into_future! {
    impl[T: DeserializeOwned + Send + 'static] ListRequest<T> => Page<T>;
    impl[T: DeserializeOwned + Send + 'static] GetRequest<T> => T;
    impl[T: DeserializeOwned + Send + 'static] Call<T> => T;
    impl[] CountRequest => u64;
}
