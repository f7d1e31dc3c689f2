//! DirSync and the flow, written against the documented Graph API (PATCH /organization,
//! users' onPremisesSyncEnabled) and the mock's control API (dirsync/cycle, clock/advance).

use std::time::Duration;

use graphbox::sdk::models::Organization;
use graphbox::sdk::onboarding::{OnboardingEvent, Step};
use graphbox::sdk::provisioning::{Action, Attribute, DirSyncStatus, ProgressMode, Provisioner, SourceUser};
use graphbox::sdk::Sleeper;
use serde_json::json;

use crate::support::{events, recorded, tenant, Tenant};

/// DirSync on (PendingEnabled lasts seconds, so move past it) and one cycle exporting `mira`.
async fn dirsync_on_with_a_synced_user(t: &Tenant) {
    let on = Organization { on_premises_sync_enabled: Some(true), ..Default::default() };
    t.admin().organization().update(t.mock.tenant_id(), on).send().await.expect("DirSync on");
    t.waiter().sleep(Duration::from_secs(60)).await;
    let cycle = json!({ "users": [{
        "onPremisesImmutableId": "bWlyYQ==",
        "userPrincipalName": format!("mira@{}", t.domain()),
        "displayName": "Mira (on-prem)",
        "mailNickname": "mira",
    }]});
    let status = t.http.post(t.control("/dirsync/cycle")).json(&cycle).send().await.expect("cycle").status();
    assert!(status.is_success(), "sync cycle answered {status}");
}

fn source(t: &Tenant) -> Vec<SourceUser> {
    vec![
        SourceUser::new(&format!("mira@{}", t.domain()))
            .with(Attribute::ImmutableId, "bWlyYQ==")
            .with(Attribute::DisplayName, "Mira Okafor"),
        SourceUser::new(&format!("new@{}", t.domain())).with(Attribute::DisplayName, "New"),
    ]
}

#[tokio::test]

async fn onboarding_switches_dirsync_off_and_waits_through_pending_disabled() {
    let t = tenant().await;
    dirsync_on_with_a_synced_user(&t).await;
    let log = events();

    t.onboarding(log.clone()).run().await.expect("onboarding");

    let events = recorded(&log);
    let dirsync: Vec<&OnboardingEvent> = events
        .iter()
        .filter(|e| match e {
            OnboardingEvent::Done { step, .. } | OnboardingEvent::Waiting { step, .. } => *step == Step::DirSync,
            _ => false,
        })
        .collect();
    assert!(matches!(dirsync.first(), Some(OnboardingEvent::Done { .. })), "switched off first: {events:#?}");
    assert!(dirsync.iter().any(|e| matches!(e, OnboardingEvent::Waiting { .. })), "waited through PendingDisabled");
    assert!(matches!(dirsync.last(), Some(OnboardingEvent::Done { .. })), "{events:#?}");
    let org = t.admin().organization().list().send().await.expect("org").value.remove(0);
    assert_eq!(org.on_premises_sync_enabled, Some(false));
    let mira = t
        .admin()
        .users()
        .get(format!("mira@{}", t.domain()).as_str())
        .select(["onPremisesSyncEnabled"])
        .send()
        .await
        .expect("mira");
    assert_eq!(mira.on_premises_sync_enabled, Some(false), "converted to a cloud user");
}

#[tokio::test]

async fn provisioning_is_refused_while_dirsync_is_on_and_while_pending_and_accepted_after() {
    let t = tenant().await;
    dirsync_on_with_a_synced_user(&t).await;
    let p = Provisioner::new(t.admin()).progress(ProgressMode::Never);

    let on = p.plan(&source(&t)).await.expect("plan while on");
    assert_eq!(on.dirsync, DirSyncStatus::On);
    assert_eq!(on.counts().refused, 2, "{on}");
    assert!(on.to_string().contains("DirSync is on"), "{on}");

    let off = Organization { on_premises_sync_enabled: Some(false), ..Default::default() };
    t.admin().organization().update(t.mock.tenant_id(), off).send().await.expect("DirSync off");
    let pending = p.plan(&source(&t)).await.expect("plan while pending");
    assert_eq!(pending.dirsync, DirSyncStatus::PendingDisable);
    assert_eq!(p.apply(&pending).await.refused, 2);
    assert!(pending.to_string().contains("pending disable"), "{pending}");

    t.waiter().sleep(Duration::from_secs(73 * 3600)).await;
    let after = p.plan(&source(&t)).await.expect("plan after");
    assert_eq!(after.dirsync, DirSyncStatus::Off);
    assert!(
        matches!(after.entries[0].action, Action::Update { .. }),
        "the converted user is matched by its anchor: {after}"
    );
    assert!(matches!(after.entries[1].action, Action::Create { .. }), "{after}");
    let report = p.apply(&after).await;
    assert_eq!((report.updated, report.created, report.refused), (1, 1, 0), "{report}");
}
