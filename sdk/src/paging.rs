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

/// Whether a `nextLink` continues an advanced query: Graph keeps the query options in the link
/// but not the `ConsistencyLevel: eventual` header, which must be sent again. Advanced queries
/// always carry `$search` or `$count=true` (the SDK adds `$count=true` to every advanced filter).
pub(crate) fn link_needs_eventual(link: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(link) else {
        return false;
    };
    url.query_pairs().any(|(k, v)| {
        k.eq_ignore_ascii_case("$search") || (k.eq_ignore_ascii_case("$count") && v.eq_ignore_ascii_case("true"))
    })
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

#[cfg(test)]
mod tests {
    use super::link_needs_eventual;

    #[test]
    fn next_links_of_advanced_queries_need_the_header_again() {
        let base = "https://graph.microsoft.com/v1.0/users";
        assert!(link_needs_eventual(&format!("{base}?$search=%22displayName:mi%22&$top=5&$skiptoken=X")));
        assert!(link_needs_eventual(&format!("{base}?%24count=true&$filter=endswith(mail,'x')&$skiptoken=X")));
        assert!(!link_needs_eventual(&format!("{base}?$count=false&$top=5&$skiptoken=X")));
        assert!(!link_needs_eventual(&format!("{base}?$filter=startswith(displayName,'%24search')&$skiptoken=X")));
        assert!(!link_needs_eventual("not a url"));
    }
}
