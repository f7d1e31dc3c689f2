//! Steps 2–6: the application, its service principal, admin consent for both kinds of
//! permission, and the directory role. Each looks first and creates only what is missing.

use std::collections::BTreeSet;

use super::retry::{is_replication_delay, retry};
use super::{Onboarding, OnboardingError, OnboardingEvent, Step};
use crate::error::Error;
use crate::ids::{AppId, ApplicationId, ServicePrincipalId};
use crate::models::{
    AppRoleAssignment, Application, ConsentType, OAuth2PermissionGrant, RequiredResourceAccess, ResourceAccess,
    ResourceAccessType, ServicePrincipal, SignInAudience, UnifiedRoleAssignment,
};
use crate::odata::Filter;
use crate::permissions::sensitive::{allows, SensitiveAction};
use crate::permissions::{DirectoryRole, MICROSOFT_GRAPH_APP_ID};

/// The application as later steps need it.
#[derive(Debug, Clone)]
pub(super) struct App {
    pub(super) id: ApplicationId,
    pub(super) app_id: AppId,
    pub(super) secret_names: Vec<String>,
}

pub(super) fn failed(step: Step) -> impl Fn(Error) -> OnboardingError {
    move |source| OnboardingError::Graph { step, source }
}

/// Runs `op`, retrying the replication-delay errors with the workflow's back-off and telling
/// the listener about each wait.
pub(super) async fn with_replication_retry<T, F, Fut>(w: &Onboarding, step: Step, op: F) -> Result<T, OnboardingError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Error>>,
{
    let on_wait = |attempt, delay, e: &Error| {
        let reason = match e.as_graph_error() {
            Some(g) => format!("replication delay? Graph answered {} {}", g.status, g.code),
            None => format!("replication delay? {e}"),
        };
        w.emit(OnboardingEvent::Waiting { step, attempt, delay, reason });
    };
    retry(w.replication, &*w.waiter, is_replication_delay, on_wait, op).await.map_err(failed(step))
}

/// Microsoft Graph's entry in `requiredResourceAccess` for the requested permissions.
fn graph_access(w: &Onboarding) -> Vec<ResourceAccess> {
    let roles =
        w.application_permissions.iter().filter_map(|p| p.app_role_id()).map(|id| (id, ResourceAccessType::Role));
    let scopes = w.delegated_permissions.iter().filter_map(|p| p.scope_id()).map(|id| (id, ResourceAccessType::Scope));
    roles
        .chain(scopes)
        .map(|(id, kind)| ResourceAccess { id: Some(id.to_owned()), kind: Some(kind), ..Default::default() })
        .collect()
}

pub(super) async fn ensure_application(w: &Onboarding) -> Result<App, OnboardingError> {
    let step = Step::RegisterApplication;
    w.emit(OnboardingEvent::Started(step));
    let found = match &w.app_id {
        Some(app_id) => match w.admin.applications().get_by_app_id(app_id).send().await {
            Ok(app) => Some(app),
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(failed(step)(e)),
        },
        None => {
            let page = w
                .admin
                .applications()
                .list()
                .filter(Filter::eq("displayName", w.display_name.as_str()))
                .send()
                .await
                .map_err(failed(step))?;
            if page.value.len() > 1 {
                return Err(OnboardingError::AmbiguousApplication {
                    display_name: w.display_name.clone(),
                    count: page.value.len(),
                });
            }
            page.value.into_iter().next()
        }
    };
    let wanted = graph_access(w);
    let app = match found {
        Some(mut app) => {
            let id = app.id.clone().ok_or(OnboardingError::MissingField { step, field: "application id" })?;
            let mut access = app.required_resource_access.take().unwrap_or_default();
            let graph_entry = match access
                .iter()
                .position(|r| r.resource_app_id.as_ref().map(AppId::as_str) == Some(MICROSOFT_GRAPH_APP_ID))
            {
                Some(i) => i,
                None => {
                    access.push(RequiredResourceAccess {
                        resource_app_id: Some(MICROSOFT_GRAPH_APP_ID.into()),
                        resource_access: Some(Vec::new()),
                        ..Default::default()
                    });
                    access.len() - 1
                }
            };
            let have = access[graph_entry].resource_access.get_or_insert_with(Vec::new);
            let missing: Vec<ResourceAccess> =
                wanted.iter().filter(|r| !have.iter().any(|h| h.id == r.id && h.kind == r.kind)).cloned().collect();
            if missing.is_empty() {
                w.emit(OnboardingEvent::AlreadyDone { step, detail: format!("application {} exists", id) });
            } else {
                have.extend(missing.iter().cloned());
                let patch = Application { required_resource_access: Some(access.clone()), ..Default::default() };
                w.admin.applications().update(&id, patch).send().await.map_err(failed(step))?;
                w.emit(OnboardingEvent::Done {
                    step,
                    detail: format!(
                        "application {id} exists; added {} permission(s) to requiredResourceAccess",
                        missing.len()
                    ),
                });
            }
            app
        }
        None => {
            let mut new = Application::new(&w.display_name);
            new.sign_in_audience = Some(SignInAudience::AzureAdMyOrg);
            new.required_resource_access = Some(vec![RequiredResourceAccess {
                resource_app_id: Some(MICROSOFT_GRAPH_APP_ID.into()),
                resource_access: Some(wanted),
                ..Default::default()
            }]);
            let app = w.admin.applications().create(new).send().await.map_err(failed(step))?;
            w.emit(OnboardingEvent::Done {
                step,
                detail: format!(
                    "registered '{}' (single tenant), client id {}",
                    w.display_name,
                    app.app_id.as_ref().map(AppId::as_str).unwrap_or("?")
                ),
            });
            app
        }
    };
    let secret_names = app.password_credentials.iter().flatten().filter_map(|c| c.display_name.clone()).collect();
    Ok(App {
        id: app.id.ok_or(OnboardingError::MissingField { step, field: "application id" })?,
        app_id: app.app_id.ok_or(OnboardingError::MissingField { step, field: "appId" })?,
        secret_names,
    })
}

pub(super) async fn ensure_service_principal(
    w: &Onboarding,
    app_id: &AppId,
) -> Result<ServicePrincipalId, OnboardingError> {
    let step = Step::CreateServicePrincipal;
    w.emit(OnboardingEvent::Started(step));
    let sps = w.admin.service_principals();
    let existing = match sps.get_by_app_id(app_id).select(["id"]).send().await {
        Ok(sp) => Some(sp),
        Err(e) if e.is_not_found() => None,
        Err(e) => return Err(failed(step)(e)),
    };
    let sp = match existing {
        Some(sp) => {
            w.emit(OnboardingEvent::AlreadyDone { step, detail: "service principal exists".into() });
            sp
        }
        None => {
            // Right after the application is created the real service can answer 400 "does not
            // reference a valid application object" until the application has replicated.
            let sp = with_replication_retry(w, step, || sps.create(ServicePrincipal::for_app(app_id)).send()).await?;
            w.emit(OnboardingEvent::Done { step, detail: "created the service principal".into() });
            sp
        }
    };
    sp.id.ok_or(OnboardingError::MissingField { step, field: "service principal id" })
}

pub(super) async fn microsoft_graph_sp(w: &Onboarding) -> Result<ServicePrincipalId, OnboardingError> {
    let step = Step::GrantApplicationPermissions;
    let sp = w
        .admin
        .service_principals()
        .get_by_app_id(MICROSOFT_GRAPH_APP_ID)
        .select(["id"])
        .send()
        .await
        .map_err(failed(step))?;
    sp.id.ok_or(OnboardingError::MissingField { step, field: "Microsoft Graph's service principal id" })
}

pub(super) async fn ensure_app_roles(
    w: &Onboarding,
    sp: &ServicePrincipalId,
    graph_sp: &ServicePrincipalId,
) -> Result<(), OnboardingError> {
    let step = Step::GrantApplicationPermissions;
    w.emit(OnboardingEvent::Started(step));
    let sps = w.admin.service_principals();
    // A service principal created a moment ago may not be visible yet: retry the 404.
    let existing = with_replication_retry(w, step, || sps.app_role_assignments(sp).send()).await?;
    let have: BTreeSet<String> = existing
        .value
        .iter()
        .filter(|a| a.resource_id.as_ref() == Some(graph_sp))
        .filter_map(|a| a.app_role_id.as_ref().map(|r| r.to_string()))
        .collect();
    let mut granted = Vec::new();
    for permission in &w.application_permissions {
        let Some(role) = permission.app_role_id() else { continue };
        if have.contains(role) {
            continue;
        }
        let assignment = AppRoleAssignment::new(sp, graph_sp, role);
        with_replication_retry(w, step, || sps.grant_app_role(graph_sp, assignment.clone()).send()).await?;
        granted.push(permission.value());
    }
    let event = if granted.is_empty() {
        OnboardingEvent::AlreadyDone { step, detail: "every application permission is consented".into() }
    } else {
        OnboardingEvent::Done { step, detail: format!("admin consent for {}", granted.join(", ")) }
    };
    w.emit(event);
    Ok(())
}

pub(super) async fn ensure_delegated_grant(
    w: &Onboarding,
    sp: &ServicePrincipalId,
    graph_sp: &ServicePrincipalId,
) -> Result<(), OnboardingError> {
    let step = Step::GrantDelegatedPermissions;
    w.emit(OnboardingEvent::Started(step));
    let wanted: Vec<&str> = w.delegated_permissions.iter().map(|p| p.value()).collect();
    if wanted.is_empty() {
        w.emit(OnboardingEvent::AlreadyDone { step, detail: "no delegated permissions requested".into() });
        return Ok(());
    }
    let grants = w.admin.oauth2_permission_grants();
    let filter = Filter::eq("clientId", sp.as_str()).and(Filter::eq("consentType", "AllPrincipals"));
    let page = with_replication_retry(w, step, || grants.list().filter(filter.clone()).send()).await?;
    let existing = page.value.into_iter().find(|g| g.resource_id.as_ref() == Some(graph_sp));
    match existing {
        Some(grant) => {
            let scope = grant.scope.unwrap_or_default();
            let have: BTreeSet<&str> = scope.split_whitespace().collect();
            let missing: Vec<&str> = wanted.iter().copied().filter(|s| !have.contains(s)).collect();
            if missing.is_empty() {
                w.emit(OnboardingEvent::AlreadyDone { step, detail: format!("tenant-wide grant for '{scope}'") });
                return Ok(());
            }
            let id = grant.id.ok_or(OnboardingError::MissingField { step, field: "grant id" })?;
            let merged: Vec<&str> = have.iter().copied().chain(missing.iter().copied()).collect();
            let merged = merged.join(" ");
            grants.update_scope(id, &merged).send().await.map_err(failed(step))?;
            w.emit(OnboardingEvent::Done { step, detail: format!("grant now covers '{merged}'") });
        }
        None => {
            let grant = OAuth2PermissionGrant {
                client_id: Some(sp.clone()),
                resource_id: Some(graph_sp.clone()),
                consent_type: Some(ConsentType::AllPrincipals),
                scope: Some(wanted.join(" ")),
                ..Default::default()
            };
            with_replication_retry(w, step, || grants.create(grant.clone()).send()).await?;
            w.emit(OnboardingEvent::Done {
                step,
                detail: format!("admin consent for all users: '{}'", wanted.join(" ")),
            });
        }
    }
    Ok(())
}

pub(super) async fn ensure_role(w: &Onboarding, sp: &ServicePrincipalId) -> Result<(), OnboardingError> {
    let step = Step::AssignRole;
    w.emit(OnboardingEvent::Started(step));
    let rm = w.admin.role_management();
    let template = w.role.template_id();
    let filter = Filter::eq("principalId", sp.as_str());
    let page = with_replication_retry(w, step, || rm.role_assignments().filter(filter.clone()).send()).await?;
    let assigned = page.value.iter().any(|a| {
        a.role_definition_id.as_ref().map(|r| r.as_str()) == Some(template)
            && a.directory_scope_id.as_deref().is_none_or(|s| s == "/")
    });
    let why = role_explanation(w.role);
    if assigned {
        w.emit(OnboardingEvent::AlreadyDone { step, detail: format!("{} is assigned: {why}", w.role.display_name()) });
        return Ok(());
    }
    let assignment = UnifiedRoleAssignment::tenant_wide(sp, template);
    with_replication_retry(w, step, || rm.assign(assignment.clone()).send()).await?;
    w.emit(OnboardingEvent::Done { step, detail: format!("assigned {} tenant-wide: {why}", w.role.display_name()) });
    Ok(())
}

/// Which provisioning operations `role` allows that the application permissions alone do not
/// (Graph's sensitive-action rule, [`crate::permissions::sensitive`]): why onboarding assigns it.
///
/// ```
/// use graphbox_sdk::onboarding::role_explanation;
/// use graphbox_sdk::permissions::DirectoryRole;
/// let why = role_explanation(DirectoryRole::GlobalAdministrator);
/// assert!(why.starts_with("lets provisioning reset any user's password"), "{why}");
/// ```
pub fn role_explanation(role: DirectoryRole) -> String {
    use SensitiveAction::{ResetPassword, UpdateIdentifiers};
    let held = [role];
    let top = [DirectoryRole::GlobalAdministrator];
    let limited = [DirectoryRole::UserAdministrator];
    let resets = if allows(&held, ResetPassword, &top, true) {
        "reset any user's password"
    } else if allows(&held, ResetPassword, &[], true) {
        "reset the passwords of users who are not Global, Privileged Role, Privileged Authentication or \
         Authentication Administrators"
    } else {
        "reset no password"
    };
    let admins = if allows(&held, UpdateIdentifiers, &top, true) {
        "change the UPN, Immutable ID, phones, other e-mails and enabled state of any administrator and delete, \
         restore or permanently delete them"
    } else if allows(&held, UpdateIdentifiers, &limited, true) {
        "change the UPN, Immutable ID, phones, other e-mails and enabled state of User, Groups, Helpdesk and \
         Password Administrators and readers and delete or restore them, but not of Global, Privileged Role, \
         Privileged Authentication or Authentication Administrators"
    } else {
        "touch no administrator's UPN, Immutable ID, phones, other e-mails or enabled state, nor delete or restore one"
    };
    format!(
        "lets provisioning {resets}, and {admins}; with its application permissions alone it could reset no \
         password and do none of this to an administrator"
    )
}
