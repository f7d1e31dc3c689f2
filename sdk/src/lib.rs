//! graphbox-sdk: a typed client for Microsoft Graph v1.0, for directory onboarding and
//! provisioning. The same code runs against `graph.microsoft.com` and against graphbox-mock;
//! only the builder's URLs differ.
//!
//! ```
//! use graphbox_sdk::{auth::ClientSecretCredential, models::User, odata::Filter, GraphClient};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // An in-process fake tenant; against a real tenant, drop the three URL/tenant lines for
//! // `.tenant("contoso.onmicrosoft.com")` and use your app's credentials.
//! let mock = graphbox_mock::Graphbox::builder().plain_http().start().await?;
//! let graph = GraphClient::builder()
//!     .authority_host(mock.authority())
//!     .graph_url(mock.graph_url())
//!     .tenant(mock.tenant_id())
//!     .credential(ClientSecretCredential::new(mock.client_id(), mock.client_secret()))
//!     .build()?;
//!
//! let upn = format!("mira@{}", mock.tenant_domain());
//! let mira = graph.users().create(User::new("Mira Okafor", "mira", &upn, "Vk3#pL9!wQz2")).send().await?;
//!
//! let found = graph.users().list()
//!     .filter(Filter::eq("userPrincipalName", upn.as_str()))
//!     .select(["id", "displayName"])
//!     .send().await?;
//! assert_eq!(found.value[0].id, mira.id);
//!
//! graph.users().delete(mira.id.expect("created users have an id")).send().await?;
//! # Ok(()) }
//! ```
//!
//! # Map
//!
//! | module | owns |
//! |---|---|
//! | [`GraphClient`], [`GraphClientBuilder`], [`Cloud`] | configuration: authority, Graph URL, tenant, credential, CA, timeouts, retry policy, clock/sleeper/randomness |
//! | [`auth`] | credentials ([`auth::ClientSecretCredential`], certificate, ROPC, static, your own [`auth::TokenCredential`]) and the token cache |
//! | [`transport`] | [`RetryPolicy`]; sending, retrying (429/503/504, `Retry-After`), request ids, tracing spans |
//! | [`error`] | [`Error`] named by where a call failed, [`GraphError`] (Graph's envelope) and its [`ErrorCode`], [`AuthError`] |
//! | [`odata`] | [`odata::QueryOptions`] and the [`odata::Filter`] builder |
//! | [`request`] | the generic builders every operation returns; nothing is sent until `.send()` |
//! | [`paging`] | [`paging::Page`] and streams over `@odata.nextLink` |
//! | [`delta`] | delta queries: changes plus the link to persist, page size |
//! | [`pacing`] | slowing down to Graph's throttling headers before a 429 |
//! | [`batch`] | JSON `$batch` |
//! | [`models`] | typed entities (all fields `Option`, unknown properties kept) |
//! | [`ids`] | identifier newtypes (`UserId`, `AppId`, `ServicePrincipalId`, …) |
//! | [`api`] | one handler per resource family: `graph.users()`, `graph.applications()`, … |
//! | [`permissions`] | generated catalogue: Graph permissions and directory roles, name ⇄ id |
//! | [`onboarding`] | the onboarding workflow: DirSync off, application, consent, role, secret, proof |
//! | [`provisioning`] | outbound provisioning: source users, ownership policy, plan, apply, mapping scripts |
//!
//! # Invariants
//!
//! - Handlers are nouns, operations verbs: `graph.users().list()`, `.get(id)`, `.create(user)`;
//!   the request types are named after the operation (`ListUsers`) and end in `.send()`.
//! - Only URLs under the configured Graph base URL get a token; `nextLink`s are followed
//!   verbatim.
//! - Time, waiting and randomness come from the injected [`Clock`], [`Sleeper`] and
//!   [`RandomSource`], so token expiry and back-off are tested without waiting.
//! - Errors never contain the token. A Graph error's `Display` is the whole answer on one line
//!   (request, status, [`ErrorCode`], message, request id); the other errors' `Display` is one
//!   clause with the request (method and path) and detail in [`std::error::Error::source`].
#![warn(missing_docs)]

pub mod api;
pub mod auth;
pub mod batch;
mod client;
pub mod delta;
pub mod error;
pub mod ids;
pub mod models;
pub mod odata;
pub mod onboarding;
pub mod pacing;
pub mod paging;
pub mod permissions;
pub mod provisioning;
pub mod request;
mod runtime;
pub mod transport;

pub use client::{Cloud, GraphClient, GraphClientBuilder};

/// The README's Rust snippets, compiled (and the mock one run) as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
pub use error::{AuthError, BuildError, DecodeError, Error, ErrorCode, GraphError, TransportError};
pub use runtime::{Clock, RandomSource, SleepFuture, Sleeper, SystemClock, SystemRandom, TokioSleeper};
pub use transport::RetryPolicy;
