//! What a run reports and returns: its [`Step`]s, [`OnboardingEvent`]s, the [`Onboarded`]
//! result and the [`OnboardingError`]s.

use std::fmt;
use std::time::Duration;

use crate::error::Error;
use crate::ids::{AppId, ApplicationId, ServicePrincipalId, TenantId};

/// One step of the workflow, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Step {
    /// Check DirSync, switch it off, wait until it is disabled.
    DirSync,
    /// Register (or find) the single-tenant application.
    RegisterApplication,
    /// Create (or find) its service principal.
    CreateServicePrincipal,
    /// Admin consent for the application permissions.
    GrantApplicationPermissions,
    /// Admin consent for the delegated permissions.
    GrantDelegatedPermissions,
    /// Assign the directory role to the service principal.
    AssignRole,
    /// Add, verify and federate the customer's custom domain (only when configured).
    FederateDomain,
    /// Create a client secret (or reuse one that still works).
    CreateSecret,
    /// Acquire a token with the new credentials and check its `roles`.
    VerifyToken,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::DirSync => "DirSync",
            Step::RegisterApplication => "register application",
            Step::CreateServicePrincipal => "service principal",
            Step::GrantApplicationPermissions => "consent: application permissions",
            Step::GrantDelegatedPermissions => "consent: delegated permissions",
            Step::AssignRole => "directory role",
            Step::FederateDomain => "federate domain",
            Step::CreateSecret => "client secret",
            Step::VerifyToken => "verify token",
        })
    }
}

/// Progress of a run, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OnboardingEvent {
    /// A step begins.
    Started(Step),
    /// The step's work was already there; nothing was changed.
    AlreadyDone {
        /// The step.
        step: Step,
        /// What was found.
        detail: String,
    },
    /// The step changed the tenant.
    Done {
        /// The step.
        step: Step,
        /// What was done.
        detail: String,
    },
    /// The step could not run against this target and was skipped.
    Skipped {
        /// The step.
        step: Step,
        /// Why.
        reason: String,
    },
    /// Waiting before looking again (DirSync pending, or replication delay).
    Waiting {
        /// The step.
        step: Step,
        /// 1-based attempt that failed or found the work unfinished.
        attempt: u32,
        /// How long the waiter is asked to wait.
        delay: Duration,
        /// Why.
        reason: String,
    },
}

impl fmt::Display for OnboardingEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OnboardingEvent::Started(step) => write!(f, "[{step}] start"),
            OnboardingEvent::AlreadyDone { step, detail } => write!(f, "[{step}] already done: {detail}"),
            OnboardingEvent::Done { step, detail } => write!(f, "[{step}] done: {detail}"),
            OnboardingEvent::Skipped { step, reason } => write!(f, "[{step}] skipped: {reason}"),
            OnboardingEvent::Waiting { step, attempt, delay, reason } => {
                write!(f, "[{step}] waiting {}s (attempt {attempt}): {reason}", delay.as_secs())
            }
        }
    }
}

/// What a successful run returns: what a provisioning product stores to call Graph later.
#[derive(Clone)]
#[non_exhaustive]
pub struct Onboarded {
    /// The tenant id (the `tid` of the verified token).
    pub tenant_id: TenantId,
    /// The application's client id.
    pub client_id: AppId,
    /// The client secret (its text is only ever returned once by Graph).
    pub client_secret: String,
    /// `true` when this run created the secret, `false` when an existing one was reused.
    pub secret_created: bool,
    /// The application's object id.
    pub application_id: ApplicationId,
    /// The service principal's object id.
    pub service_principal_id: ServicePrincipalId,
    /// The `roles` claim of the verified token.
    pub roles: Vec<String>,
}

impl fmt::Debug for Onboarded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Debug output ends up in logs: never print the secret.
        f.debug_struct("Onboarded")
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("secret_created", &self.secret_created)
            .field("application_id", &self.application_id)
            .field("service_principal_id", &self.service_principal_id)
            .field("roles", &self.roles)
            .finish()
    }
}

/// Why onboarding stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OnboardingError {
    /// A Graph or token call failed (after the retries replication delay warrants).
    #[error("onboarding step '{step}' failed")]
    Graph {
        /// The step.
        step: Step,
        /// The call's error.
        #[source]
        source: Error,
    },
    /// DirSync was still not disabled when the wait budget ran out.
    #[error("DirSync was still not disabled after waiting {}s", waited.as_secs())]
    DirSyncStillPending {
        /// How long was waited in all.
        waited: Duration,
    },
    /// More than one application has the display name, so which one to use is unclear.
    #[error("{count} applications are named '{display_name}'; name the one to use by app id")]
    AmbiguousApplication {
        /// The display name.
        display_name: String,
        /// How many there are.
        count: usize,
    },
    /// Graph answered without a field the workflow needs (e.g. an object without an `id`).
    #[error("Graph's answer in step '{step}' had no {field}")]
    MissingField {
        /// The step.
        step: Step,
        /// The missing field.
        field: &'static str,
    },
    /// The token was issued but lacks some application permissions.
    #[error("the new credentials' token lacks roles {missing:?}")]
    MissingRoles {
        /// Application permissions not in `roles`.
        missing: Vec<String>,
    },
    /// The token could not be decoded (not a JWT with a JSON payload).
    #[error("the access token is not a decodable JWT: {0}")]
    UndecodableToken(String),
    /// The run was told to stop after this step ([`Onboarding::stop_after`](super::Onboarding::stop_after)).
    #[error("stopped after step '{after}' as asked")]
    Stopped {
        /// The last step completed.
        after: Step,
    },
}
