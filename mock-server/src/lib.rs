//! graphbox-mock: a fake Microsoft Entra ID tenant and Microsoft Graph v1.0
//! server, in memory, multi-tenant, on a virtual clock.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let mock = graphbox_mock::Graphbox::start().await?;
//! println!("Graph is at {}, tenant {}", mock.graph_url(), mock.tenant_id());
//! # Ok(()) }
//! ```
//!
//! # Layout
//!
//! | module      | owns |
//! |-------------|------|
//! | `server`    | [`Graphbox`]: start, builder, handle, shutdown |
//! | `http`      | accept loop, TLS, request intake, routing, every byte written (Graph's error envelope included) |
//! | [`odata`]   | pure parsers and evaluators for paths, query options, `$filter`, `$search` |
//! | `identity`  | token endpoint, discovery, JWKS, JWT issue and validation |
//! | `authz`     | operation → permissions, the one place that says 403 |
//! | `directory` | the tenant's objects: schemas, records, users, identity objects, listing |
//! | `dirsync`   | the DirSync state machine (pure `step`), sync cycles, its control-API view |
//! | `msol`      | MSOnline's provisioning web service (SOAP 1.2) over the same tenant state |
//! | `tenant`    | a tenant: clock, directory lock, request log; the tenant registry |
//! | `faults`    | injected 429/5xx answers scripted through the control API |
//! | `control`   | `/_graphbox` test-control API |
//! | `state`     | saving and loading tenants atomically |
//! | `keys`      | TLS CA and server certificate, token-signing key |
//! | `clock`     | tenant clocks; the only reader of OS time |
//!
//! # Invariants
//!
//! - No global mutable state: two servers in one process share nothing but
//!   immutable key material and the well-known catalogue.
//! - Handlers get time from the tenant clock and ids from the tenant's seeded
//!   generator; secrets come from the OS generator.
//! - Every directory write validates everything before it changes anything.

mod authz;
mod clock;
mod control;
mod directory;
mod dirsync;
mod error;
mod faults;
mod http;
mod identity;
mod ids;
mod keys;
mod msol;
pub mod odata;
mod realism;
mod server;
mod state;
mod tenant;

/// Entry points for the benchmarks in `benches/`; not part of the API.
#[doc(hidden)]
pub mod __bench {
    /// Run the authorization check for `operation` `iterations` times with an
    /// app-only principal holding the bootstrap application's roles; returns
    /// how many calls were allowed (so the work cannot be optimised away).
    pub fn authz_checks(operation: &str, iterations: u64) -> u64 {
        let principal = crate::identity::Principal {
            tenant_id: uuid::Uuid::nil(),
            app_id: uuid::Uuid::nil(),
            object_id: uuid::Uuid::nil(),
            app_only: true,
            roles: crate::tenant::BOOTSTRAP_APP_ROLES.iter().map(|r| (*r).to_owned()).collect(),
            scopes: Vec::new(),
            wids: Vec::new(),
        };
        (0..iterations).filter(|_| crate::authz::check(std::hint::black_box(&principal), operation).is_ok()).count()
            as u64
    }
}

pub use http::Limits;
pub use keys::KeyError;
pub use realism::{FaultRates, Profile as RealismProfile, RealismConfig, Settings as RealismSettings, TenantSize};
pub use server::{Graphbox, GraphboxBuilder, ReadyInfo, StartError};
pub use state::StateError;
