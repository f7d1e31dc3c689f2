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
//! # Public API
//!
//! | item | what |
//! |------|------|
//! | [`Graphbox`], [`GraphboxBuilder`], [`ReadyInfo`], [`StartError`] | start a server, read its ready-line facts, stop it |
//! | [`TenantControl`], [`Tenants`], [`ClockControl`], [`FaultControl`], [`Fault`], [`DirSyncControl`], [`RequestLogEntry`], [`AuthzDecision`], [`ControlError`] | the control API (`/_graphbox`) as typed calls on the handle: clock, faults, request log, DirSync, tenants, realism |
//! | `ClockSleeper`, `Graphbox::graph_client` (feature `sdk`) | a ready graphbox-sdk client, credential, and a sleeper that waits on the tenant clock |
//! | [`RealismConfig`], [`RealismProfile`], [`RealismSettings`], [`FaultRates`], [`TenantSize`] | a tenant that behaves like Entra on purpose (replication, throttling, latency) |
//! | [`test_idp`] | a stand-in federated IdP signing WS-Fed and SAML answers, for tests and examples |
//! | [`Limits`] | request and connection bounds |
//! | [`default_data_dir`], [`KeyError`] | where key material lives; why it could not be loaded |
//! | [`StateError`] | why a state file could not be loaded or saved |
//! | [`odata`] | pure parsers and evaluators for paths, query options, `$filter`, `$search` |
//!
//! # Inside (private modules, for contributors)
//!
//! `server` (the handle), `handle` (its control plane), `http` (accept loop, TLS, intake,
//! routing, every byte written), `identity` (token endpoint, discovery, JWKS, JWT issue and
//! validation), `authz` (the one place that says 403), `directory` (the tenant's objects),
//! `dirsync` (the DirSync state machine), `msol` (MSOnline's SOAP service), `tenant`, `faults`,
//! `control` (`/_graphbox`), `state` and `journal` (durability), `keys`, `clock` (the only
//! reader of OS time). `docs/architecture.md` in the repository walks through them.
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
mod handle;
mod html;
mod http;
mod identity;
mod ids;
mod journal;
mod keys;
mod msol;
pub mod odata;
mod realism;
mod request_log;
mod server;
mod service;
mod state;
mod tenant;
pub mod test_idp;

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
        schemas().into_iter().map(|s| (s.type_name, s.props.iter().map(|p| p.name).collect())).collect()
    }

    /// Per entity (as [`modelled_properties`]), each property with how far the
    /// mock simulates it: "modelled with behaviour", "stored as given" or
    /// "default only".
    pub fn property_coverage() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
        schemas()
            .into_iter()
            .map(|s| (s.type_name, s.props.iter().map(|p| (p.name, p.coverage.label())).collect()))
            .collect()
    }

    fn schemas() -> [&'static crate::directory::schema::EntitySchema; 10] {
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

    /// A federated IdP's answer (`wresult` XML) as `/login.srf` reads it: the
    /// bounded tree, the exclusive canonical form of its root, and every
    /// `ds:Signature` checked against no key (so each is refused, after the
    /// whole reference and SignedInfo path has run). `Ok` carries the number
    /// of signatures.
    pub fn idp_answer(text: &str) -> Result<usize, String> {
        use crate::identity::xmldsig;
        let doc = xmldsig::parse(text)?;
        doc.exclusive_c14n(doc.root(), None, &["#default".to_owned()])?;
        let signatures = doc.all(xmldsig::DSIG_NS, "Signature");
        // The service checks one signature per answer; a few here cover the path.
        for &s in signatures.iter().take(4) {
            assert!(xmldsig::verify(&doc, s, &[]).is_err(), "a signature verified against no key");
        }
        Ok(signatures.len())
    }

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
#[cfg(feature = "sdk")]
pub use handle::ClockSleeper;
pub use handle::{
    AuthzDecision, ClockControl, ControlError, DirSyncControl, Fault, FaultControl, RequestLogEntry, TenantControl,
    Tenants,
};
pub use http::Limits;
pub use keys::{default_data_dir, KeyError};
pub use realism::{FaultRates, Profile as RealismProfile, RealismConfig, Settings as RealismSettings, TenantSize};
pub use server::{Graphbox, GraphboxBuilder, ReadyInfo, StartError};
pub use state::StateError;
