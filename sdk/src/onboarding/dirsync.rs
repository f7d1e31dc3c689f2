//! Step 1: DirSync off, and disabled for good.
//!
//! Graph has no `PendingDisabled`: the organisation's `onPremisesSyncEnabled` turns `false` as
//! soon as the PATCH is accepted, while users stay synced until the service has converted them
//! (up to 72 hours). So "disabled" here means both: the flag is not `true`, and no user still
//! has `onPremisesSyncEnabled: true`. The second check is the one that waits.

use super::retry::Backoff;
use super::{Onboarding, OnboardingError, OnboardingEvent, Step};
use crate::error::Error;
use crate::models::Organization;
use crate::odata::Filter;

fn failed(source: Error) -> OnboardingError {
    OnboardingError::Graph { step: Step::DirSync, source }
}

/// A target that does not serve the endpoint at all (graphbox-mock before its DirSync model).
fn not_implemented(e: &Error) -> bool {
    e.as_graph_error().is_some_and(|g| g.status == 501)
}

/// Graph's refusal while a change is already pending; its text is the MSOnline one
/// (a suggestion: Microsoft documents no wait for it).
fn change_refused(e: &Error) -> bool {
    e.as_graph_error().is_some_and(|g| g.status == 400 && g.message.contains("cannot turn off"))
}

pub(super) async fn ensure_disabled(w: &Onboarding) -> Result<(), OnboardingError> {
    let step = Step::DirSync;
    let org = match w.admin.organization().list().send().await {
        Ok(page) => page.value.into_iter().next(),
        Err(e) if not_implemented(&e) => {
            w.emit(OnboardingEvent::Skipped {
                step,
                reason: "the target does not serve /organization (501 NotImplemented); DirSync not checked".into(),
            });
            return Ok(());
        }
        Err(e) => return Err(failed(e)),
    };
    let Some(Organization { id: Some(org_id), on_premises_sync_enabled: flag, .. }) = org else {
        return Err(OnboardingError::MissingField { step, field: "organization id" });
    };
    let mut switched = false;
    if flag == Some(true) {
        let patch = Organization { on_premises_sync_enabled: Some(false), ..Default::default() };
        match w.admin.organization().update(&org_id, patch).send().await {
            Ok(()) => {
                switched = true;
                w.emit(OnboardingEvent::Done {
                    step,
                    detail: "switched DirSync off (onPremisesSyncEnabled: false)".into(),
                });
            }
            // Already switched off by someone else and still pending: just wait.
            Err(e) if change_refused(&e) => {}
            Err(e) => return Err(failed(e)),
        }
    }
    wait_until_disabled(w, w.dirsync, flag, switched).await
}

/// Polls until no user is still synced, waiting through the injected waiter between polls.
async fn wait_until_disabled(
    w: &Onboarding,
    backoff: Backoff,
    flag: Option<bool>,
    switched: bool,
) -> Result<(), OnboardingError> {
    let step = Step::DirSync;
    let mut waited = std::time::Duration::ZERO;
    let mut attempt = 0u32;
    loop {
        let synced = w
            .admin
            .users()
            .list()
            .filter(Filter::eq("onPremisesSyncEnabled", true))
            .select(["id"])
            .top(1)
            .send()
            .await
            .map_err(failed)?;
        if synced.value.is_empty() {
            let detail = match (flag, switched || attempt > 0) {
                (None, _) => "the tenant never synced (onPremisesSyncEnabled: null)".to_owned(),
                (_, true) => format!(
                    "DirSync is disabled after waiting {} h; every synced user is now cloud-managed",
                    waited.as_secs() / 3600
                ),
                (_, false) => "DirSync was already disabled".to_owned(),
            };
            let event = if switched || attempt > 0 {
                OnboardingEvent::Done { step, detail }
            } else {
                OnboardingEvent::AlreadyDone { step, detail }
            };
            w.emit(event);
            return Ok(());
        }
        let delay = backoff.delay(attempt);
        if waited + delay > backoff.budget {
            return Err(OnboardingError::DirSyncStillPending { waited });
        }
        attempt += 1;
        w.emit(OnboardingEvent::Waiting {
            step,
            attempt,
            delay,
            reason: "DirSync is pending disable: users are still synced".into(),
        });
        w.waiter.sleep(delay).await;
        waited += delay;
    }
}
