//! Onboarding: the steps a provisioning product walks an administrator through before it can
//! use token-based access, as one idempotent, resumable workflow (steps
//! 1–4 of onboarding; provisioning is the fifth).
//!
//! | step | what it does | when it is already done |
//! |---|---|---|
//! | [`Step::DirSync`] | reads `GET /organization`; switches DirSync off (`PATCH /organization/{id}`); waits until it is disabled | `onPremisesSyncEnabled` is `null`/`false` and no user is still synced |
//! | [`Step::RegisterApplication`] | `POST /applications`, single-tenant, with the requested Graph permissions in `requiredResourceAccess` | an application with the app id or display name exists (missing permissions are added) |
//! | [`Step::CreateServicePrincipal`] | `POST /servicePrincipals` | `GET /servicePrincipals(appId='…')` finds it |
//! | [`Step::GrantApplicationPermissions`] | admin consent for application permissions: `appRoleAssignedTo` on Microsoft Graph's service principal | the assignment exists |
//! | [`Step::GrantDelegatedPermissions`] | admin consent for delegated permissions: an `AllPrincipals` `oauth2PermissionGrant` | the grant has every scope |
//! | [`Step::AssignRole`] | `POST /roleManagement/directory/roleAssignments`, tenant-wide; the event says which provisioning operations need it ([`role_explanation`]) | the assignment exists |
//! | [`Step::FederateDomain`] | only with [`Onboarding::federate_domain`]: adds and verifies the custom domain, then `POST /domains/{name}/federationConfiguration` for the vendor's IdP | the domain is verified and federated with those settings (differing settings are PATCHed) |
//! | [`Step::CreateSecret`] | `addPassword` with the chosen lifetime | a secret you pass with [`Onboarding::existing_secret`] still works |
//! | [`Step::VerifyToken`] | client credentials with the new secret; the token's `roles` must hold every application permission | never skipped |
//!
//! Progress is reported as [`OnboardingEvent`]s to a callback. Waiting (DirSync's pending
//! window, replication delay) goes through a [`Sleeper`]: the default sleeps; against
//! graphbox-mock pass one that advances the tenant's virtual clock instead.
//!
//! The token is decoded, never validated: Graph access tokens are for Graph, and a client that
//! checks their signature breaks when Microsoft changes the format (Microsoft says so too).
//!
//! Modules: `retry` (back-off, which errors are replication delay), `dirsync` (step 1),
//! `app` (registration, service principal, consent, role), `federation` (the custom domain),
//! `credentials` (secret and proof).

mod app;
mod credentials;
mod dirsync;
mod federation;
mod report;
mod retry;
mod types;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use app::role_explanation;
pub use credentials::decode_claims;
pub use federation::FederateDomain;
pub use report::{CallerPermissions, OperationUse, PermissionsReport, ReportError, ReportUser};
pub use retry::Backoff;
pub use types::{Onboarded, OnboardingError, OnboardingEvent, Step};

use crate::auth::Credential;
use crate::client::GraphClient;
use crate::error::Error;
use crate::ids::{AppId, TenantId};
use crate::permissions::{DirectoryRole, GraphPermission};
use crate::runtime::{Sleeper, TokioSleeper};

type Connect = Arc<dyn Fn(Credential) -> Result<GraphClient, Error> + Send + Sync>;
type Listener = Arc<dyn Fn(&OnboardingEvent) + Send + Sync>;

/// The onboarding workflow; configure with the builder methods, then [`run`](Self::run).
///
/// ```no_run
/// # async fn run(admin: graphbox_sdk::GraphClient) -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use graphbox_sdk::{onboarding::Onboarding, permissions::GraphPermission, GraphClient};
/// let done = Onboarding::new(admin, |credential| {
///         GraphClient::builder().tenant("contoso.onmicrosoft.com").credential(credential).build()
///     })
///     .display_name("Contoso provisioning")
///     .application_permissions([GraphPermission::UserReadWriteAll, GraphPermission::DirectoryReadWriteAll])
///     .delegated_permissions([GraphPermission::UserRead])
///     .secret_lifetime(Duration::from_secs(180 * 24 * 3600))
///     .on_event(|event| println!("{event}"))
///     .run()
///     .await?;
/// println!("tenant {} client {}", done.tenant_id, done.client_id);
/// # Ok(()) }
/// ```
#[must_use = "nothing happens until .run()"]
pub struct Onboarding {
    admin: GraphClient,
    connect: Connect,
    display_name: String,
    app_id: Option<AppId>,
    application_permissions: Vec<GraphPermission>,
    delegated_permissions: Vec<GraphPermission>,
    role: DirectoryRole,
    secret_lifetime: Duration,
    secret_display_name: String,
    existing_secret: Option<String>,
    waiter: Arc<dyn Sleeper>,
    replication: Backoff,
    dirsync: Backoff,
    listener: Option<Listener>,
    stop_after: Option<Step>,
    federation: Option<FederateDomain>,
}

impl fmt::Debug for Onboarding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Onboarding")
            .field("display_name", &self.display_name)
            .field("app_id", &self.app_id)
            .field("application_permissions", &self.application_permissions)
            .field("delegated_permissions", &self.delegated_permissions)
            .field("role", &self.role)
            .field("secret_lifetime", &self.secret_lifetime)
            .field("stop_after", &self.stop_after)
            .field("federation", &self.federation)
            .finish_non_exhaustive()
    }
}

impl Onboarding {
    /// A workflow run by `admin` (a client with the rights to do every step, e.g. a Global
    /// Administrator's); `connect` builds a client for a credential in the same tenant and cloud,
    /// used to prove the new secret works.
    ///
    /// Defaults: display name `graphbox provisioning`, application permissions
    /// `User.ReadWrite.All` and `Directory.ReadWrite.All`, delegated `User.Read`, role Global
    /// Administrator, secret lifetime 180 days, a waiter that sleeps.
    ///
    /// ```no_run
    /// # fn run(admin: graphbox_sdk::GraphClient) {
    /// use graphbox_sdk::{onboarding::Onboarding, GraphClient};
    /// let workflow = Onboarding::new(admin, |credential| {
    ///     GraphClient::builder().tenant("contoso.onmicrosoft.com").credential(credential).build()
    /// });
    /// # }
    /// ```
    pub fn new(
        admin: GraphClient,
        connect: impl Fn(Credential) -> Result<GraphClient, Error> + Send + Sync + 'static,
    ) -> Self {
        Self {
            admin,
            connect: Arc::new(connect),
            display_name: "graphbox provisioning".into(),
            app_id: None,
            application_permissions: vec![GraphPermission::UserReadWriteAll, GraphPermission::DirectoryReadWriteAll],
            delegated_permissions: vec![GraphPermission::UserRead],
            role: DirectoryRole::GlobalAdministrator,
            secret_lifetime: Duration::from_secs(180 * 24 * 3600),
            secret_display_name: "graphbox onboarding".into(),
            existing_secret: None,
            waiter: Arc::new(TokioSleeper),
            replication: Backoff::replication(),
            dirsync: Backoff::dirsync(),
            listener: None,
            stop_after: None,
            federation: None,
        }
    }

    /// The application's display name (how a rerun finds it when no app id is given).
    ///
    /// ```no_run
    /// # fn run(w: graphbox_sdk::onboarding::Onboarding) { let w = w.display_name("Contoso provisioning"); }
    /// ```
    pub fn display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = name.into();
        self
    }

    /// Use the application with this client id (a previous run's) instead of finding it by name.
    ///
    /// ```no_run
    /// # fn run(w: graphbox_sdk::onboarding::Onboarding) { let w = w.app_id("3c9e8a71-2b4d-4f60-a8e5-7d1c0b9e2f34"); }
    /// ```
    pub fn app_id(mut self, app_id: impl Into<AppId>) -> Self {
        self.app_id = Some(app_id.into());
        self
    }

    /// Application permissions (app roles) to declare and consent; those without an app role
    /// id are ignored.
    ///
    /// ```no_run
    /// # fn run(w: graphbox_sdk::onboarding::Onboarding) {
    /// use graphbox_sdk::permissions::GraphPermission;
    /// let w = w.application_permissions([GraphPermission::UserReadWriteAll]);
    /// # }
    /// ```
    pub fn application_permissions(mut self, permissions: impl IntoIterator<Item = GraphPermission>) -> Self {
        self.application_permissions = permissions.into_iter().filter(|p| p.app_role_id().is_some()).collect();
        self
    }

    /// Delegated permissions (scopes) to declare and consent for all users; those without a
    /// scope id are ignored.
    ///
    /// ```no_run
    /// # fn run(w: graphbox_sdk::onboarding::Onboarding) {
    /// use graphbox_sdk::permissions::GraphPermission;
    /// let w = w.delegated_permissions([GraphPermission::UserRead, GraphPermission::DirectoryAccessAsUserAll]);
    /// # }
    /// ```
    pub fn delegated_permissions(mut self, permissions: impl IntoIterator<Item = GraphPermission>) -> Self {
        self.delegated_permissions = permissions.into_iter().filter(|p| p.scope_id().is_some()).collect();
        self
    }

    /// The directory role to assign (default Global Administrator). The application permissions
    /// say which operations the app may call; this role says which users it may touch with a
    /// sensitive action: without one it can reset no password, and an administrator's UPN,
    /// Immutable ID, phones, enabled state, deletion and restore need a role that outranks theirs
    /// (Graph's rule, [`crate::permissions::sensitive`]). Global Administrator, as the vendor's
    /// guide assigns, allows all of it; User Administrator allows it on everyone but Global,
    /// Privileged Role, Privileged Authentication and Authentication Administrators.
    ///
    /// ```no_run
    /// # fn run(w: graphbox_sdk::onboarding::Onboarding) {
    /// use graphbox_sdk::permissions::DirectoryRole;
    /// let w = w.role(DirectoryRole::UserAdministrator);
    /// # }
    /// ```
    pub fn role(mut self, role: DirectoryRole) -> Self {
        self.role = role;
        self
    }

    /// How long the new secret is valid (default 180 days).
    ///
    /// ```no_run
    /// # fn run(w: graphbox_sdk::onboarding::Onboarding) { let w = w.secret_lifetime(std::time::Duration::from_secs(30 * 86400)); }
    /// ```
    pub fn secret_lifetime(mut self, lifetime: Duration) -> Self {
        self.secret_lifetime = lifetime;
        self
    }

    /// A secret from an earlier run: reused if it still yields a token, so a rerun does not
    /// pile up secrets (Graph never shows a secret's text again, so it cannot be found).
    ///
    /// ```no_run
    /// # fn run(w: graphbox_sdk::onboarding::Onboarding, stored: String) { let w = w.existing_secret(stored); }
    /// ```
    pub fn existing_secret(mut self, secret: impl Into<String>) -> Self {
        self.existing_secret = Some(secret.into());
        self
    }

    /// What waits between polls and retries. Against graphbox-mock, pass a [`Sleeper`] that
    /// advances the tenant clock (`POST {control_url}/tenants/{tid}/clock/advance`).
    ///
    /// ```no_run
    /// # fn run(w: graphbox_sdk::onboarding::Onboarding) { let w = w.waiter(graphbox_sdk::TokioSleeper); }
    /// ```
    pub fn waiter(mut self, waiter: impl Sleeper + 'static) -> Self {
        self.waiter = Arc::new(waiter);
        self
    }

    /// Back-off for replication-delay retries (default [`Backoff::replication`]).
    ///
    /// ```no_run
    /// # fn run(w: graphbox_sdk::onboarding::Onboarding) { let w = w.replication_backoff(graphbox_sdk::onboarding::Backoff::replication()); }
    /// ```
    pub fn replication_backoff(mut self, backoff: Backoff) -> Self {
        self.replication = backoff;
        self
    }

    /// Back-off for polling DirSync until disabled (default [`Backoff::dirsync`]).
    ///
    /// ```no_run
    /// # fn run(w: graphbox_sdk::onboarding::Onboarding) { let w = w.dirsync_backoff(graphbox_sdk::onboarding::Backoff::dirsync()); }
    /// ```
    pub fn dirsync_backoff(mut self, backoff: Backoff) -> Self {
        self.dirsync = backoff;
        self
    }

    /// Called with every [`OnboardingEvent`], in order.
    ///
    /// ```no_run
    /// # fn run(w: graphbox_sdk::onboarding::Onboarding) { let w = w.on_event(|e| eprintln!("{e}")); }
    /// ```
    pub fn on_event(mut self, listener: impl Fn(&OnboardingEvent) + Send + Sync + 'static) -> Self {
        self.listener = Some(Arc::new(listener));
        self
    }

    /// Stop with [`OnboardingError::Stopped`] once `step` is complete: an interruption on
    /// purpose, to resume later (tests use it; so can a product that spreads onboarding over
    /// several sessions).
    ///
    /// ```no_run
    /// # fn run(w: graphbox_sdk::onboarding::Onboarding) { let w = w.stop_after(graphbox_sdk::onboarding::Step::CreateServicePrincipal); }
    /// ```
    pub fn stop_after(mut self, step: Step) -> Self {
        self.stop_after = Some(step);
        self
    }

    /// Also federate a custom domain to the vendor's IdP ([`Step::FederateDomain`]): its users
    /// then sign in at the IdP, and each needs an Immutable ID (`onPremisesImmutableId`).
    ///
    /// ```no_run
    /// # fn run(w: graphbox_sdk::onboarding::Onboarding, certificate: String) {
    /// use graphbox_sdk::onboarding::FederateDomain;
    /// let w = w.federate_domain(FederateDomain::new(
    ///     "contoso.example",
    ///     "https://idp.vendor.example/issuer",
    ///     "https://idp.vendor.example/wsfed",
    ///     certificate,
    /// ));
    /// # }
    /// ```
    pub fn federate_domain(mut self, federation: FederateDomain) -> Self {
        self.federation = Some(federation);
        self
    }

    fn emit(&self, event: OnboardingEvent) {
        tracing::info!(%event, "onboarding");
        if let Some(listener) = &self.listener {
            listener(&event);
        }
    }

    fn finish_step(&self, step: Step) -> Result<(), OnboardingError> {
        if self.stop_after == Some(step) {
            return Err(OnboardingError::Stopped { after: step });
        }
        Ok(())
    }

    /// Runs every step, doing only what is missing.
    ///
    /// ```no_run
    /// # async fn run(w: graphbox_sdk::onboarding::Onboarding) -> Result<(), graphbox_sdk::onboarding::OnboardingError> {
    /// let done = w.run().await?;
    /// println!("{} {}", done.tenant_id, done.client_id);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`OnboardingError`]: a failed call (after replication-delay retries), DirSync still
    /// pending when the wait budget ran out, an ambiguous application name, a token without
    /// the consented roles, or [`OnboardingError::Stopped`] when asked to stop early.
    pub async fn run(self) -> Result<Onboarded, OnboardingError> {
        self.emit(OnboardingEvent::Started(Step::DirSync));
        dirsync::ensure_disabled(&self).await?;
        self.finish_step(Step::DirSync)?;

        let app = app::ensure_application(&self).await?;
        self.finish_step(Step::RegisterApplication)?;
        let sp = app::ensure_service_principal(&self, &app.app_id).await?;
        self.finish_step(Step::CreateServicePrincipal)?;
        let graph_sp = app::microsoft_graph_sp(&self).await?;
        app::ensure_app_roles(&self, &sp, &graph_sp).await?;
        self.finish_step(Step::GrantApplicationPermissions)?;
        app::ensure_delegated_grant(&self, &sp, &graph_sp).await?;
        self.finish_step(Step::GrantDelegatedPermissions)?;
        app::ensure_role(&self, &sp).await?;
        self.finish_step(Step::AssignRole)?;
        if let Some(federation) = &self.federation {
            federation::ensure_federated(&self, federation).await?;
            self.finish_step(Step::FederateDomain)?;
        }

        let secret = credentials::ensure_secret(&self, &app).await?;
        self.finish_step(Step::CreateSecret)?;
        let token = credentials::verify(&self, &app.app_id, &secret.text).await?;
        Ok(Onboarded {
            tenant_id: TenantId::new(token.tenant_id),
            client_id: app.app_id,
            client_secret: secret.text,
            secret_created: secret.created,
            application_id: app.id,
            service_principal_id: sp,
            roles: token.roles,
        })
    }
}
