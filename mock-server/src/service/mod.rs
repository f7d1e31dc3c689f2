//! What every service the server speaks (Graph, the identity platform,
//! MSOnline, the control API) shares: the server's state, the request as a
//! handler sees it, and the writers of response bytes. `http` takes requests
//! in and routes them here; the services never reach back into `http`.

pub(crate) mod response;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Method};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::identity::TokenValidator;
use crate::keys::KeyMaterial;
use crate::tenant::{TenantOptions, Tenants};
use response::Correlation;

/// Everything one running server shares between its connections.
#[derive(Debug)]
pub(crate) struct Server {
    pub tenants: Tenants,
    pub validator: TokenValidator,
    pub keys: Arc<KeyMaterial>,
    pub tls: bool,
    pub admin_key: Option<String>,
    pub state_file: Option<PathBuf>,
    pub frozen_at: Option<OffsetDateTime>,
    seed: u64,
    tenants_created: AtomicU64,
    requests_seen: AtomicU64,
    /// Requests that name no tenant of this server (`request_log.rs`).
    pub requests: crate::request_log::Log,
}

impl Server {
    pub(crate) fn new(
        keys: Arc<KeyMaterial>,
        tls: bool,
        seed: u64,
        admin_key: Option<String>,
        state_file: Option<PathBuf>,
        frozen_at: Option<OffsetDateTime>,
    ) -> Self {
        Server {
            tenants: Tenants::default(),
            validator: TokenValidator::new(keys.clone()),
            keys,
            tls,
            admin_key,
            state_file,
            frozen_at,
            seed,
            tenants_created: AtomicU64::new(0),
            requests_seen: AtomicU64::new(0),
            requests: Default::default(),
        }
    }

    /// Options for the next tenant: seeded from the server seed and a counter, so
    /// a seeded server creates the same tenants in the same order.
    pub(crate) fn next_tenant_options(&self) -> TenantOptions {
        let n = self.tenants_created.fetch_add(1, Ordering::Relaxed);
        TenantOptions {
            seed: self.seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15),
            frozen_at: self.frozen_at,
            realism: Default::default(),
            authz: Default::default(),
        }
    }

    /// A request id: unique per server, cheap, no lock.
    pub(crate) fn next_request_id(&self) -> Uuid {
        let n = self.requests_seen.fetch_add(1, Ordering::Relaxed);
        crate::ids::IdGen::seeded(self.seed.rotate_left(17) ^ n).uuid()
    }
}

/// The request as handlers see it: method, path, query, headers, whole body.
#[derive(Debug)]
pub(crate) struct Inbound {
    pub method: Method,
    /// Shared with the request's log entry, which keeps the path.
    pub path: std::sync::Arc<str>,
    pub query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// `scheme://host[:port]`: how the client addressed us when that is one of
    /// the server's own names, else the configured authority.
    pub authority: std::sync::Arc<str>,
    /// Whether `Host` named this server (the control API refuses browsers sent
    /// here by a DNS-rebinding page, whose `Host` is the page's name).
    pub host_is_ours: bool,
    pub peer: SocketAddr,
    pub request_id: Uuid,
}

impl Inbound {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub(crate) fn correlation(&self, now: OffsetDateTime) -> Correlation {
        const CLIENT_REQUEST_ID: http::HeaderName = http::HeaderName::from_static("client-request-id");
        let sent = self
            .headers
            .get(CLIENT_REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .filter(|s| !s.is_empty() && s.len() <= 200);
        Correlation { request_id: self.request_id, client_sent: sent.map(str::to_owned), now }
    }
}

/// The path's segments, each percent-decoded on its own (so `%2F` stays inside
/// its segment), for routers that compare segments to names.
pub(crate) fn decoded_segments(path: &str) -> Vec<std::borrow::Cow<'_, str>> {
    path.trim_start_matches('/')
        .split('/')
        .map(|s| percent_encoding::percent_decode_str(s).decode_utf8_lossy())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_decode_one_by_one() {
        let s = decoded_segments("/a%2Fb/%24batch/x");
        assert_eq!(s, ["a/b", "$batch", "x"]);
    }
}
