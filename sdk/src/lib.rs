//! graphbox-sdk: a typed client for Microsoft Graph v1.0, for directory onboarding and
//! provisioning. The same code runs against `graph.microsoft.com` and against graphbox-mock.
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
pub mod paging;
pub mod permissions;
pub mod request;
mod runtime;
pub mod transport;

pub use client::{Cloud, GraphClient, GraphClientBuilder};
pub use error::{AuthError, BuildError, DecodeError, Error, GraphError, TransportError};
pub use runtime::{Clock, RandomSource, SleepFuture, Sleeper, SystemClock, SystemRandom, TokioSleeper};
pub use transport::RetryPolicy;
