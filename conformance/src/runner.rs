//! Runs scenarios against a target: one session (a fresh tenant on mocks), one recording proxy
//! and one cleanup registry per scenario; the outcome compared with the ledger.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use crate::context::Ctx;
use crate::ledger::Ledger;
use crate::proxy::Proxy;
use crate::scenario::{Failure, Need, Scenario};
use crate::spec::{Checked, Spec};
use crate::target::{Capabilities, Target};

/// How one scenario ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Held.
    Passed,
    /// Did not hold, and the ledger does not list it.
    Failed(String),
    /// Not run here: why.
    Skipped(String),
    /// Did not hold, as the ledger says: the ledger's reason, and what differed.
    KnownDifference {
        /// The ledger's reason.
        reason: String,
        /// The failure.
        detail: String,
    },
    /// Listed in the ledger but held: the entry must go.
    StartedPassing {
        /// The ledger's reason.
        reason: String,
    },
}

/// One scenario's result.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The scenario.
    pub scenario: Scenario,
    /// How it ended.
    pub status: Status,
    /// How long it took.
    pub elapsed: Duration,
    /// How many responses went through the proxy.
    pub requests: usize,
    /// How many response bodies were checked against a schema.
    pub validated: usize,
    /// Cleanup that did not work (reported, never a failure of the scenario itself).
    pub cleanup_problems: Vec<String>,
    /// Every request sent, as `(method, path and query)`, for the operation coverage table.
    pub calls: Vec<(String, String)>,
}

/// Run options.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Scenarios at once.
    pub jobs: usize,
    /// Per-scenario time limit.
    pub timeout: Duration,
    /// Object-name prefix for this run, e.g. `gbx-1a2b3c-`.
    pub prefix: String,
}

/// Runs `scenarios` against `target`, in parallel up to `options.jobs`, in the order given.
pub async fn run(target: &Target, scenarios: &[Scenario], ledger: &Ledger, options: &RunOptions) -> Vec<Outcome> {
    // The CSDL takes a few hundred milliseconds to read in a debug build: read it while the
    // first tenants are created and their tokens fetched, not after.
    std::thread::spawn(|| {
        crate::csdl::model();
    });
    let spec = Arc::new(Spec::bundled());
    let caps = target.capabilities();
    let mut outcomes: Vec<Outcome> = futures::stream::iter(scenarios.iter().copied())
        .map(|s| run_one(target, s, caps, ledger, options, spec.clone()))
        .buffer_unordered(options.jobs.max(1))
        .collect()
        .await;
    let order = |o: &Outcome| scenarios.iter().position(|s| s.name == o.scenario.name);
    outcomes.sort_by_key(order);
    outcomes
}

fn missing(needs: &[Need], caps: Capabilities) -> Option<String> {
    needs.iter().find_map(|need| match need {
        Need::Mock if !caps.is_mock => Some("needs the mock's control API".to_owned()),
        Need::TenantChanges if !caps.tenant_changes_allowed => {
            Some("changes tenant-wide settings; pass --allow-tenant-changes".to_owned())
        }
        Need::AdminUser if !caps.has_admin_user => {
            Some("needs a user name and password for delegated sign-in".to_owned())
        }
        _ => None,
    })
}

async fn run_one(
    target: &Target,
    scenario: Scenario,
    caps: Capabilities,
    ledger: &Ledger,
    options: &RunOptions,
    spec: Arc<Spec>,
) -> Outcome {
    let start = tokio::time::Instant::now();
    let mut outcome = Outcome {
        scenario,
        status: Status::Passed,
        elapsed: Duration::ZERO,
        requests: 0,
        validated: 0,
        cleanup_problems: Vec::new(),
        calls: Vec::new(),
    };
    if let Some(why) = missing(scenario.needs, caps) {
        outcome.status = Status::Skipped(why);
        return outcome;
    }
    let result = execute(target, scenario, caps, options, spec, &mut outcome).await;
    outcome.elapsed = start.elapsed();
    if let Err(Err(why)) = &result {
        outcome.status = Status::Skipped(why.clone());
        return outcome;
    }
    let result = result.map_err(|e| e.unwrap_or_default());
    let listed = caps.is_mock.then(|| ledger.get(scenario.name)).flatten();
    outcome.status = match (result, listed) {
        (Ok(()), None) => Status::Passed,
        (Ok(()), Some(entry)) => Status::StartedPassing { reason: entry.reason.clone() },
        (Err(detail), None) => Status::Failed(detail),
        (Err(detail), Some(entry)) => Status::KnownDifference { reason: entry.reason.clone(), detail },
    };
    outcome
}

/// Runs the steps, then the cleanup, then the schema check of every body; `Err` is the full
/// message: fact, request, difference.
async fn execute(
    target: &Target,
    scenario: Scenario,
    caps: Capabilities,
    options: &RunOptions,
    spec: Arc<Spec>,
    outcome: &mut Outcome,
) -> Result<(), Result<String, String>> {
    // Err(Ok(message)) is a failure, Err(Err(why)) a run-time skip.
    let session = target.session().await;
    let graph_origin = session.graph_url.strip_suffix("/v1.0").unwrap_or(&session.graph_url).to_owned();
    let proxy = Proxy::start(&graph_origin, &session.authority, session.ca_pem.as_deref(), spec)
        .await
        .map_err(|e| Ok(format!("could not start the recording proxy: {e}")))?;
    let cx = Ctx::new(session, caps, proxy, options.prefix.clone()).map_err(|f| Ok(f.message))?;
    let result = match tokio::time::timeout(options.timeout, (scenario.run)(cx.clone())).await {
        Ok(r) => r,
        Err(_) => Err(Failure::new(format!("did not finish within {} s", options.timeout.as_secs()))),
    };
    let last = cx.last();
    outcome.cleanup_problems = cx.drain_cleanup().await;
    let exchanges = cx.exchanges();
    outcome.requests = exchanges.len();
    outcome.calls = exchanges.iter().map(|e| (e.method.clone(), e.target.clone())).collect();
    outcome.validated = exchanges.iter().filter(|e| !matches!(e.checked, Checked::Unchecked)).count();
    let schema_failures: Vec<String> = exchanges
        .iter()
        .filter_map(|e| match &e.checked {
            Checked::Invalid { operation, violations } => Some(format!(
                "response to {} does not match schema {operation}: {}",
                e.summary(),
                violations.iter().take(5).map(ToString::to_string).collect::<Vec<_>>().join("; ")
            )),
            _ => None,
        })
        .collect();
    let mut message = match result {
        Ok(()) if schema_failures.is_empty() => return Ok(()),
        Ok(()) => format!(
            "fact: {}\nrequest: {}\ndifference: {}",
            scenario.fact,
            schema_failures[0].split(" does not match").next().unwrap_or_default(),
            schema_failures.join("\n  ")
        ),
        Err(f) if f.skip => return Err(Err(f.message)),
        Err(f) => {
            let request = f.request.or_else(|| last.map(|e| e.summary())).unwrap_or_else(|| "(none sent)".into());
            format!("fact: {}\nrequest: {request}\ndifference: {}", scenario.fact, f.message)
        }
    };
    if !message.contains("does not match schema") && !schema_failures.is_empty() {
        message.push_str("\nalso: ");
        message.push_str(&schema_failures.join("\n  "));
    }
    Err(Ok(message))
}
