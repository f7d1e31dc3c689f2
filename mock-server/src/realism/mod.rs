//! Realism: a tenant that behaves like Entra on purpose and reproducibly —
//! replication delay after writes (reads, references, the token endpoint and
//! token claims lag), resource-unit throttling, latency, random 429/503/504 and
//! legal-but-rare response shapes. Off by default, and then it costs the hot
//! path one atomic load.
//!
//! The core is pure and tested without sockets: `settings` (profiles and
//! overrides), `rng` (every choice from the seed), `windows` (visibility on the
//! tenant clock), `throttle` (token buckets and costs), `report` (per-client
//! compliance) and `shapes` (paging and entity shapes). `graph` and `identity`
//! are the two intake hooks; the directory's read paths ask `graph` whether an
//! object is visible yet.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

pub(crate) mod graph;
pub(crate) mod identity;
pub(crate) mod report;
pub(crate) mod rng;
pub(crate) mod settings;
pub(crate) mod shapes;
pub(crate) mod throttle;
pub(crate) mod windows;

pub use settings::{FaultRates, Profile, RealismConfig, Settings, TenantSize};

/// Real-time latency a response waits before it is sent, set by the Graph
/// hook as a response extension; the connection task sleeps it on the tokio
/// timer, never on a worker thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Delay(pub std::time::Duration);

/// One tenant's realism: its setting and everything realism remembers.
#[derive(Debug)]
pub(crate) struct Realism {
    /// Mirrors `config.settings().is_active()`: the only thing the hot path reads.
    on: AtomicBool,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub config: RealismConfig,
    pub settings: Arc<Settings>,
    pub stream: rng::Stream,
    pub windows: windows::Windows,
    pub throttle: throttle::Throttle,
    pub report: report::Report,
}

impl Inner {
    fn new(config: RealismConfig) -> Self {
        let settings = Arc::new(config.settings());
        Inner {
            stream: rng::Stream::new(settings.seed),
            settings,
            config,
            windows: Default::default(),
            throttle: Default::default(),
            report: Default::default(),
        }
    }
}

impl Default for Realism {
    fn default() -> Self {
        Realism::new(RealismConfig::default())
    }
}

impl Realism {
    pub(crate) fn new(config: RealismConfig) -> Self {
        let on = config.settings().is_active();
        Realism { on: AtomicBool::new(on), inner: Mutex::new(Inner::new(config)) }
    }

    /// Whether anything is switched on. Relaxed: a request racing a `PUT` may
    /// see either setting, as it would whichever came first.
    #[inline]
    pub(crate) fn is_on(&self) -> bool {
        self.on.load(Ordering::Relaxed)
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn config(&self) -> RealismConfig {
        self.lock().config.clone()
    }

    /// Put a new setting in force: windows, buckets, the stream and the report
    /// start over, so the seed alone decides what follows.
    pub(crate) fn set(&self, config: RealismConfig, tenant: uuid::Uuid) {
        let mut inner = self.lock();
        *inner = Inner::new(config);
        self.on.store(inner.settings.is_active(), Ordering::Relaxed);
        tracing::info!(
            %tenant,
            profile = inner.config.profile.name(),
            seed = inner.config.seed,
            overrides = %serde_json::Value::Object(inner.config.overrides.clone()),
            "realism in force (the same seed and requests replay the same answers)"
        );
    }

    /// The control API's view: profile, seed, overrides and every effective magnitude.
    pub(crate) fn view(&self) -> serde_json::Value {
        let inner = self.lock();
        serde_json::json!({
            "profile": inner.config.profile,
            "seed": inner.config.seed,
            "overrides": inner.config.overrides,
            "effective": &*inner.settings,
        })
    }

    pub(crate) fn report(&self) -> serde_json::Value {
        let inner = self.lock();
        let mut v = inner.report.view();
        if let Some(o) = v.as_object_mut() {
            o.insert("profile".into(), serde_json::json!(inner.config.profile));
            o.insert("seed".into(), serde_json::json!(inner.config.seed));
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_by_default_and_on_once_a_profile_is_set() {
        let r = Realism::default();
        assert!(!r.is_on());
        r.set(RealismConfig::new(Profile::Entra, 7), uuid::Uuid::nil());
        assert!(r.is_on());
        assert_eq!(r.view()["seed"], 7);
        r.set(RealismConfig::new(Profile::Off, 7), uuid::Uuid::nil());
        assert!(!r.is_on());
    }
}
