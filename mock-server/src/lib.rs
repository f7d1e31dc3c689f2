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
mod certificates;
mod clock;
mod control;
mod directory;
mod dirsync;
mod error;
mod faults;
mod fork;
mod http;
mod identity;
mod ids;
mod journal;
mod keys;
mod msol;
pub mod odata;
mod realism;
mod server;
mod service;
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

/// What the conformance suite reports as the mock's coverage of Microsoft's schema; not part
/// of the API.
#[doc(hidden)]
pub mod __conformance {
    /// Every entity the directory stores with a schema: its qualified type name and the
    /// properties the mock models (stores, validates and returns).
    pub fn modelled_properties() -> Vec<(&'static str, Vec<&'static str>)> {
        use crate::directory::{applications, consent, groups, organization, roles, service_principals, users};
        [
            &users::USER,
            &groups::GROUP,
            &applications::APPLICATION,
            &service_principals::SERVICE_PRINCIPAL,
            &consent::APP_ROLE_ASSIGNMENT,
            &consent::OAUTH2_PERMISSION_GRANT,
            &roles::DIRECTORY_ROLE,
            &roles::ROLE_ASSIGNMENT,
            &organization::ORGANIZATION,
            &organization::ON_PREMISES_SYNCHRONIZATION,
        ]
        .into_iter()
        .map(|s| (s.type_name, s.props.iter().map(|p| p.name).collect()))
        .collect()
    }
}

/// Entry points for the fuzz targets in `fuzz/` to the parsers that are not
/// public (the OData ones are, through [`odata`](crate::odata)); not part of the API.
#[doc(hidden)]
pub mod __fuzz {
    /// An MSOnline request body read as the service reads it: the XML tree,
    /// then the SOAP envelope. `Ok` carries the WS-Addressing action.
    pub fn msol_request(body: &[u8]) -> Result<Option<String>, String> {
        crate::msol::read_request(body).map(|r| r.action)
    }

    /// The depth and element count of the tree the MSOnline XML reader builds
    /// from `text`, walked without recursion, or why it refused the text.
    pub fn msol_xml_shape(text: &str) -> Result<(usize, usize), String> {
        let root = crate::msol::xml::parse(text)?;
        let (mut deepest, mut elements) = (0, 0);
        let mut open = vec![(&root, 1)];
        while let Some((element, depth)) = open.pop() {
            deepest = deepest.max(depth);
            elements += 1;
            open.extend(element.children.iter().map(|c| (c, depth + 1)));
        }
        Ok((deepest, elements))
    }

    /// The MSOnline reader's depth and element bounds, for the target to hold
    /// [`msol_xml_shape`] to.
    pub const MSOL_XML_BOUNDS: (usize, usize) = (crate::msol::xml::MAX_DEPTH, crate::msol::xml::MAX_ELEMENTS);

    /// A `$batch` body (sent as `application/json`) as the batch handler reads
    /// it before running anything: the requests' ids and `dependsOn` in run
    /// order, or the refusal's status, error code and message.
    #[allow(clippy::type_complexity)]
    pub fn batch_plan(body: &[u8]) -> Result<Vec<(String, Vec<String>)>, (u16, String, String)> {
        crate::http::graph::batch::plan(bytes::Bytes::copy_from_slice(body))
            .map_err(|e| (e.status, e.code.into_owned(), e.message))
    }
}

pub use fork::{SnapshotError, SnapshotInfo};
pub use http::Limits;
pub use keys::KeyError;
pub use realism::{FaultRates, Profile as RealismProfile, RealismConfig, Settings as RealismSettings, TenantSize};
pub use server::{Graphbox, GraphboxBuilder, ReadyInfo, StartError};
pub use state::StateError;
