//! Collections: [`Page<T>`] and a stream of items that follows `@odata.nextLink`.
//!
//! The stream follows each `nextLink` verbatim (it is never rebuilt from query options), resends
//! `ConsistencyLevel: eventual` on every page when the first request needed it (nextLinks carry
//! query options but not headers), continues past an empty page that still has a link, and stops
//! if the same link comes back twice.

use std::collections::{HashSet, VecDeque};

use futures::stream::{self, BoxStream};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::client::GraphClient;
use crate::error::Error;

/// One page of a collection.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items on this page (may be empty even when more pages follow).
    #[serde(default = "Vec::new")]
    pub value: Vec<T>,
    /// `@odata.nextLink`: the absolute URL of the next page, absent on the last page.
    #[serde(rename = "@odata.nextLink", default)]
    pub next_link: Option<String>,
    /// `@odata.count` (first page only, with `$count=true` and eventual consistency).
    #[serde(rename = "@odata.count", default)]
    pub count: Option<u64>,
    /// `@odata.context`.
    #[serde(rename = "@odata.context", default)]
    pub context: Option<String>,
    #[serde(skip)]
    pub(crate) eventual: bool,
}

impl<T: DeserializeOwned + Send + 'static> Page<T> {
    /// This page's items followed by every later page's, as a stream.
    ///
    /// ```no_run
    /// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), graphbox_sdk::Error> {
    /// use futures::TryStreamExt;
    /// let page = graph.users().list().top(999).send().await?;
    /// let everyone: Vec<_> = page.into_stream(&graph).try_collect().await?;
    /// # Ok(()) }
    /// ```
    pub fn into_stream(self, client: &GraphClient) -> BoxStream<'static, Result<T, Error>> {
        item_stream(client.clone(), self.value.into(), self.next_link, self.eventual)
    }
}

struct State<T> {
    client: GraphClient,
    pending: VecDeque<T>,
    next: Option<String>,
    seen: HashSet<String>,
    eventual: bool,
}

pub(crate) fn item_stream<T: DeserializeOwned + Send + 'static>(
    client: GraphClient,
    pending: VecDeque<T>,
    next: Option<String>,
    eventual: bool,
) -> BoxStream<'static, Result<T, Error>> {
    let state = State { client, pending, next, seen: HashSet::new(), eventual };
    Box::pin(stream::unfold(state, |mut st| async move {
        loop {
            if let Some(item) = st.pending.pop_front() {
                return Some((Ok(item), st));
            }
            let url = st.next.take()?;
            if !st.seen.insert(url.clone()) {
                tracing::warn!(%url, "Graph returned the same nextLink twice; stopping");
                return None;
            }
            match st.client.send_json::<Page<T>>(Method::GET, url, None, st.eventual).await {
                Ok(page) => {
                    st.pending.extend(page.value);
                    st.next = page.next_link;
                }
                // `next` is already taken, so the stream ends after reporting the error.
                Err(e) => return Some((Err(e), st)),
            }
        }
    }))
}
