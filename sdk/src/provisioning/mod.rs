//! Outbound provisioning (the last step of onboarding a tenant): push users from a source directory into
//! the tenant under an attribute ownership policy and an optional mapping script.
//!
//! ```text
//! source (CSV/JSON) ─► SourceUser ─► policy's default destination ─► script ─► desired values
//! tenant (GET /organization, GET /users, one pass) ─┐                                 │
//!                                                   └─► match (immutable id, then UPN) ◄┘
//!                                                       ─► Plan: create | update (diff) | unchanged | refused
//! Plan ─► print (dry run) ─► apply: one POST or one PATCH per user, bounded concurrency ─► Report
//! ```
//!
//! | module | owns |
//! |---|---|
//! | [`source`](SourceUser) | the source model, CSV and JSON loaders |
//! | [`policy`](OwnershipPolicy) | [`Attribute`]s and who owns them |
//! | [`plan`](Plan) | matching, diffing, refusals, the dry-run text |
//! | [`apply`](Report) | writing, progress bar, report |
//! | `script` (`Script`) | the sandboxed JavaScript engine (feature `scripts`) |
//!
//! Refusals never stop the run: each lands on its user, in the plan (DirSync on or pending, a
//! duplicate UPN or immutable id in the source, a UPN that belongs to another anchor, a synced
//! user, a script error or `reject()`) or in the report (whatever the tenant refuses). A refusal
//! for want of a directory role on the app (Graph's sensitive-action rule: a UPN or Immutable ID
//! change on an administrator, any password reset) names the role that would have allowed it
//! ([`ReportEntry::missing_role`]).

mod apply;
mod html;
mod plan;
mod policy;
#[cfg(feature = "scripts")]
mod script;
mod source;

#[cfg(feature = "scripts")]
use std::collections::BTreeMap;

pub use apply::{Outcome, ProgressMode, Report, ReportEntry, ResetRefused};
pub use html::html_report;
pub use plan::{Action, Change, DirSyncStatus, Plan, PlanCounts, PlanEntry};
pub use policy::{Attribute, Owner, OwnershipPolicy, PolicyError};
#[cfg(feature = "scripts")]
pub use script::{Script, ScriptEngine, ScriptError, ScriptErrorKind, ScriptLimits, ScriptOutput};
pub use source::{load_source, parse_csv, parse_json, AttrValue, SourceError, SourceUser};

use crate::client::GraphClient;
use crate::error::Error;
use crate::ids::UserId;
use crate::models::User;
use plan::{Mapped, Tenant, TenantUser};

/// The script from the source product's guide, with its typography fixed.
pub const GUIDE_SCRIPT: &str =
    r#"if (isPerson()) { destination.UsageLocation = "AU"; destination.Mail = source.CanonicalizeName; }"#;

/// Why planning could not read the tenant.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProvisioningError {
    /// Reading the organisation or the users failed.
    #[error("could not read the tenant")]
    Graph(#[source] Error),
    /// The script engine could not start.
    #[cfg(feature = "scripts")]
    #[error("the provisioning script could not be compiled")]
    Script(#[source] ScriptError),
}

/// Provisions source users into a tenant. With the feature `scripts`,
/// `.script(Script::new(GUIDE_SCRIPT)?)` maps each user through a script first.
///
/// ```no_run
/// # async fn run(graph: graphbox_sdk::GraphClient) -> Result<(), Box<dyn std::error::Error>> {
/// use graphbox_sdk::provisioning::{load_source, Provisioner};
/// let source = load_source("examples/data/source.csv")?;
/// let provisioner = Provisioner::new(graph).concurrency(16);
/// let plan = provisioner.plan(&source).await?;
/// println!("{plan}");                       // the dry run
/// let report = provisioner.apply(&plan).await;
/// println!("{report}");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "nothing happens until .plan() and .apply()"]
pub struct Provisioner {
    graph: GraphClient,
    policy: OwnershipPolicy,
    #[cfg(feature = "scripts")]
    script: Option<Script>,
    concurrency: usize,
    progress: ProgressMode,
}

impl Provisioner {
    /// Provisioning through `graph` (which needs `User.ReadWrite.All`), with the default
    /// policy, no script, 16 requests in flight and a progress bar when stderr is a terminal.
    ///
    /// ```no_run
    /// # fn run(graph: graphbox_sdk::GraphClient) { let p = graphbox_sdk::provisioning::Provisioner::new(graph); }
    /// ```
    pub fn new(graph: GraphClient) -> Self {
        Self {
            graph,
            policy: OwnershipPolicy::default(),
            #[cfg(feature = "scripts")]
            script: None,
            concurrency: 16,
            progress: ProgressMode::Auto,
        }
    }

    /// The ownership policy.
    ///
    /// ```no_run
    /// # fn run(p: graphbox_sdk::provisioning::Provisioner) -> Result<(), graphbox_sdk::provisioning::PolicyError> {
    /// use graphbox_sdk::provisioning::{Attribute, Owner, OwnershipPolicy};
    /// let p = p.policy(OwnershipPolicy::default().with(Attribute::Department, Owner::Source)?);
    /// # Ok(()) }
    /// ```
    pub fn policy(mut self, policy: OwnershipPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The mapping script run per user.
    ///
    /// ```no_run
    /// # fn run(p: graphbox_sdk::provisioning::Provisioner) -> Result<(), graphbox_sdk::provisioning::ScriptError> {
    /// use graphbox_sdk::provisioning::{Script, GUIDE_SCRIPT};
    /// let p = p.script(Script::new(GUIDE_SCRIPT)?);
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "scripts")]
    pub fn script(mut self, script: Script) -> Self {
        self.script = Some(script);
        self
    }

    /// Requests in flight at once while applying (default 16).
    ///
    /// ```no_run
    /// # fn run(p: graphbox_sdk::provisioning::Provisioner) { let p = p.concurrency(32); }
    /// ```
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Whether to draw a progress bar.
    ///
    /// ```no_run
    /// # fn run(p: graphbox_sdk::provisioning::Provisioner) { let p = p.progress(graphbox_sdk::provisioning::ProgressMode::Never); }
    /// ```
    pub fn progress(mut self, mode: ProgressMode) -> Self {
        self.progress = mode;
        self
    }

    /// Reads the tenant and plans every source user; nothing is written.
    ///
    /// ```no_run
    /// # async fn run(p: graphbox_sdk::provisioning::Provisioner, users: Vec<graphbox_sdk::provisioning::SourceUser>) -> Result<(), graphbox_sdk::provisioning::ProvisioningError> {
    /// let plan = p.plan(&users).await?;
    /// println!("{plan}");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`ProvisioningError`] when the tenant cannot be read or the script cannot start.
    pub async fn plan(&self, source: &[SourceUser]) -> Result<Plan, ProvisioningError> {
        let org_flag = match self.graph.organization().list().select(["id", "onPremisesSyncEnabled"]).send().await {
            Ok(page) => page.value.into_iter().next().and_then(|o| o.on_premises_sync_enabled),
            // A target without /organization (graphbox-mock before its DirSync model): the
            // users' own flags below still reveal a tenant that syncs.
            Err(e) if e.as_graph_error().is_some_and(|g| g.status == 501) => None,
            Err(e) => return Err(ProvisioningError::Graph(e)),
        };
        let tenant = self.read_tenant().await?;
        let dirsync = match (org_flag, tenant.users.iter().any(|u| u.synced)) {
            (Some(true), _) => DirSyncStatus::On,
            (_, true) => DirSyncStatus::PendingDisable,
            _ => DirSyncStatus::Off,
        };
        let (mapped, evaluations) = self.map(source)?;
        let entries = plan::diff(mapped, &tenant, &self.policy, dirsync);
        Ok(Plan { entries, dirsync, script_evaluations: evaluations })
    }

    /// Applies a plan: refusals from the tenant land in the report; nothing stops the run.
    ///
    /// ```no_run
    /// # async fn run(p: graphbox_sdk::provisioning::Provisioner, plan: graphbox_sdk::provisioning::Plan) {
    /// let report = p.apply(&plan).await;
    /// assert_eq!(report.refused, 0, "{report}");
    /// # }
    /// ```
    pub async fn apply(&self, plan: &Plan) -> Report {
        apply::apply(&self.graph, plan, self.concurrency, self.progress).await
    }

    /// Resets one user's password (`PATCH /users/{id}` with `passwordProfile`). An app needs a
    /// directory role for this on any user, and for an administrator a role that outranks
    /// theirs ([`crate::permissions::sensitive`]); a refusal for want of one says which role
    /// would have allowed it.
    ///
    /// ```no_run
    /// # async fn run(p: graphbox_sdk::provisioning::Provisioner) {
    /// if let Err(refused) = p.reset_password("admin@contoso.onmicrosoft.com", "Vk3#pL9!wQz2", true).await {
    ///     if let Some(role) = refused.missing_role.as_ref().and_then(|m| m.least_role()) {
    ///         eprintln!("assign {} to the app: {refused}", role.display_name());
    ///     }
    /// }
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`ResetRefused`]: the tenant's answer, and the missing role when that was the cause.
    pub async fn reset_password(
        &self,
        user: impl Into<UserId>,
        password: &str,
        force_change: bool,
    ) -> Result<(), ResetRefused> {
        apply::reset_password(&self.graph, &user.into(), password, force_change).await
    }

    async fn read_tenant(&self) -> Result<Tenant, ProvisioningError> {
        use futures::TryStreamExt;
        let mut select: Vec<&str> = vec!["id", "onPremisesSyncEnabled", "userPrincipalName", "onPremisesImmutableId"];
        select.extend(self.policy.written_on_create().filter(|a| a.patchable()).map(|a| a.graph_name()));
        select.sort_unstable();
        select.dedup();
        let users: Vec<User> = self
            .graph
            .users()
            .list()
            .select(select.iter().copied())
            .top(999)
            .into_stream()
            .try_collect()
            .await
            .map_err(ProvisioningError::Graph)?;
        let users = users
            .into_iter()
            .map(|u| {
                let synced = u.on_premises_sync_enabled == Some(true);
                let json = serde_json::to_value(&u).unwrap_or_default();
                let values = select
                    .iter()
                    .filter_map(|name| Attribute::from_name(name))
                    .filter_map(|a| json.get(a.graph_name()).and_then(AttrValue::from_json).map(|v| (a, v)))
                    .collect();
                TenantUser { id: u.id.unwrap_or_else(|| UserId::new("")), values, synced }
            })
            .collect();
        let mut tenant = Tenant::new(users);
        tenant.federated_domains = match self.graph.domains().list().send().await {
            Ok(page) => page
                .value
                .into_iter()
                .filter(|d| d.authentication_type.as_ref().is_some_and(|t| t.as_str() == "Federated"))
                .filter_map(|d| d.id.map(|id| id.as_str().to_ascii_lowercase()))
                .collect(),
            // Without Domain.Read.All the plan cannot tell; Graph's own refusal lands in the
            // apply report instead.
            Err(e) if e.as_graph_error().is_some_and(|g| matches!(g.status, 403 | 501)) => Default::default(),
            Err(e) => return Err(ProvisioningError::Graph(e)),
        };
        Ok(tenant)
    }

    /// The policy's default destination for each user, then the script. Synchronous, so the
    /// (single-threaded) script engine never lives across an `.await`.
    fn map(&self, source: &[SourceUser]) -> Result<(Vec<Mapped>, u64), ProvisioningError> {
        #[cfg(feature = "scripts")]
        let mut engine = match &self.script {
            Some(s) => Some(s.engine().map_err(ProvisioningError::Script)?),
            None => None,
        };
        let mut out = Vec::with_capacity(source.len());
        for (position, user) in source.iter().enumerate() {
            let defaults = plan::default_destination(user, &self.policy);
            let mut mapped = Mapped {
                // A user built in code has no file row (0): its place in the source is the row
                // a refusal names, so two such users never both say "row 0".
                row: if user.row == 0 { position + 1 } else { user.row },
                desired: defaults.iter().map(|(a, v)| (*a, Some(v.clone()))).collect(),
                notes: Vec::new(),
                refusal: None,
            };
            #[cfg(feature = "scripts")]
            if let Some(engine) = engine.as_mut() {
                self.run_script(engine, user, &defaults, &mut mapped);
            }
            // The UPN and anchor are needed to match even when the policy does not write them.
            for a in [Attribute::UserPrincipalName, Attribute::ImmutableId] {
                if let (false, Some(v)) = (mapped.desired.contains_key(&a), user.values.get(&a)) {
                    mapped.desired.insert(a, Some(v.clone()));
                }
            }
            out.push(mapped);
        }
        #[cfg(feature = "scripts")]
        let evaluations = engine.map_or(0, |e| e.evaluations());
        #[cfg(not(feature = "scripts"))]
        let evaluations = 0;
        Ok((out, evaluations))
    }

    #[cfg(feature = "scripts")]
    fn run_script(
        &self,
        engine: &mut ScriptEngine,
        user: &SourceUser,
        defaults: &BTreeMap<Attribute, AttrValue>,
        mapped: &mut Mapped,
    ) {
        match engine.run(user, defaults) {
            Ok(output) => {
                mapped.notes.extend(output.trace.into_iter().map(|t| format!("trace: {t}")));
                if output.rejected {
                    mapped.refusal = Some("rejected by the provisioning script".into());
                }
                for (a, v) in output.destination {
                    if self.policy.owner(a) == Owner::Office365 {
                        if defaults.get(&a) != v.as_ref() {
                            mapped
                                .notes
                                .push(format!("script set {} but Office 365 owns it: not written", a.script_name()));
                        }
                        continue;
                    }
                    mapped.desired.insert(a, v);
                }
            }
            Err(e) => mapped.refusal = Some(e.to_string()),
        }
    }
}
