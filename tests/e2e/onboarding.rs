//! Onboarding: what it creates, that it is idempotent and resumable, and what consent changes.

use graphbox::sdk::models::PasswordCredential;
use graphbox::sdk::odata::Filter;
use graphbox::sdk::onboarding::{decode_claims, OnboardingError, OnboardingEvent, Step};
use graphbox::sdk::permissions::DirectoryRole;

use crate::support::{events, recorded, tenant};

fn changed_steps(events: &[OnboardingEvent]) -> Vec<Step> {
    events.iter().filter_map(|e| if let OnboardingEvent::Done { step, .. } = e { Some(*step) } else { None }).collect()
}

#[tokio::test]
async fn onboarding_registers_consents_assigns_and_proves_a_working_secret() {
    let t = tenant().await;
    let log = events();

    let done = t.onboarding(log.clone()).run().await.expect("onboarding succeeds");

    assert_eq!(done.tenant_id, t.mock.tenant_id().into());
    assert!(done.secret_created);
    assert!(done.roles.contains(&"User.ReadWrite.All".to_owned()), "{:?}", done.roles);
    let admin = t.admin();
    let app = admin.applications().get_by_app_id(&done.client_id).send().await.expect("app exists");
    assert_eq!(app.sign_in_audience.map(|a| a.to_string()).as_deref(), Some("AzureADMyOrg"));
    let roles = admin
        .role_management()
        .role_assignments()
        .filter(Filter::eq("principalId", done.service_principal_id.as_str()))
        .send()
        .await
        .expect("assignments");
    assert_eq!(roles.value.len(), 1);
    assert_eq!(
        roles.value[0].role_definition_id.as_ref().map(|r| r.as_str()),
        Some(DirectoryRole::GlobalAdministrator.template_id())
    );
    let grants = admin
        .oauth2_permission_grants()
        .list()
        .filter(Filter::eq("clientId", done.service_principal_id.as_str()))
        .send()
        .await
        .expect("grants");
    assert_eq!(grants.value[0].scope.as_deref(), Some("User.Read"));
    // The secret works for a real Graph call, not only for a token.
    let graph = t.client(done.client_id.as_str(), &done.client_secret);
    graph.users().list().top(1).send().await.expect("the new app can read users");
    // DirSync: skipped while the mock answers 501 for /organization; after the DirSync merge
    // this tenant (never synced) reports AlreadyDone instead. Either way it did not fail.
    assert!(recorded(&log).iter().any(|e| matches!(
        e,
        OnboardingEvent::Skipped { step: Step::DirSync, .. } | OnboardingEvent::AlreadyDone { step: Step::DirSync, .. }
    )));
}

#[tokio::test]
async fn running_onboarding_again_finds_everything_and_changes_nothing() {
    let t = tenant().await;
    let first = t.onboarding(events()).run().await.expect("first run");
    let log = events();

    let second =
        t.onboarding(log.clone()).existing_secret(first.client_secret.clone()).run().await.expect("second run");

    assert_eq!(second.client_id, first.client_id);
    assert_eq!(second.client_secret, first.client_secret);
    assert!(!second.secret_created);
    assert_eq!(changed_steps(&recorded(&log)), [Step::VerifyToken], "only the proof is redone: {:#?}", recorded(&log));
    let app = t.admin().applications().get_by_app_id(&first.client_id).send().await.expect("app");
    assert_eq!(app.password_credentials.map(|p| p.len()), Some(1), "no second secret");
}

#[tokio::test]
async fn an_interrupted_onboarding_resumes_and_does_only_what_is_missing() {
    let t = tenant().await;
    let stopped = t.onboarding(events()).stop_after(Step::CreateServicePrincipal).run().await;
    assert!(matches!(stopped, Err(OnboardingError::Stopped { after: Step::CreateServicePrincipal })), "{stopped:?}");
    let log = events();

    let done = t.onboarding(log.clone()).run().await.expect("resumed run");

    let events = recorded(&log);
    assert!(
        events.iter().any(|e| matches!(e, OnboardingEvent::AlreadyDone { step: Step::RegisterApplication, .. })),
        "{events:#?}"
    );
    assert!(
        events.iter().any(|e| matches!(e, OnboardingEvent::AlreadyDone { step: Step::CreateServicePrincipal, .. })),
        "{events:#?}"
    );
    assert_eq!(
        changed_steps(&events),
        [
            Step::GrantApplicationPermissions,
            Step::GrantDelegatedPermissions,
            Step::AssignRole,
            Step::CreateSecret,
            Step::VerifyToken
        ]
    );
    let apps = t
        .admin()
        .applications()
        .list()
        .filter(Filter::eq("displayName", "e2e provisioning"))
        .send()
        .await
        .expect("apps");
    assert_eq!(apps.value.len(), 1, "the resumed run found the first run's application");
    assert_eq!(apps.value[0].app_id.as_ref(), Some(&done.client_id));
}

#[tokio::test]
async fn a_token_obtained_before_consent_is_refused_and_one_obtained_after_works() {
    let t = tenant().await;
    let _ = t.onboarding(events()).stop_after(Step::CreateServicePrincipal).run().await;
    let admin = t.admin();
    let app =
        admin.applications().list().filter(Filter::eq("displayName", "e2e provisioning")).send().await.expect("app");
    let app = &app.value[0];
    let (object_id, client_id) = (app.id.clone().expect("id"), app.app_id.clone().expect("appId"));
    let secret = admin
        .applications()
        .add_password(&object_id, PasswordCredential::default())
        .send()
        .await
        .expect("secret")
        .secret_text
        .expect("secret text");
    let before = t.raw_token(client_id.as_str(), &secret).await;
    let claims = decode_claims(&before).expect("a JWT");
    assert!(claims.get("roles").is_none_or(|r| r.as_array().is_some_and(|a| a.is_empty())), "{claims:?}");
    assert_eq!(t.list_users_status(&before).await, 403, "no consent yet");

    t.onboarding(events()).existing_secret(secret.clone()).run().await.expect("onboarding completes");

    assert_eq!(t.list_users_status(&before).await, 403, "roles are fixed when a token is issued");
    let after = t.raw_token(client_id.as_str(), &secret).await;
    assert_eq!(t.list_users_status(&after).await, 200);
}

#[tokio::test]
async fn a_narrower_role_is_assigned_when_the_caller_names_one() {
    let t = tenant().await;

    let done = t.onboarding(events()).role(DirectoryRole::UserAdministrator).run().await.expect("onboarding");

    let roles = t
        .admin()
        .role_management()
        .role_assignments()
        .filter(Filter::eq("principalId", done.service_principal_id.as_str()))
        .send()
        .await
        .expect("assignments");
    let ids: Vec<_> = roles.value.iter().filter_map(|r| r.role_definition_id.as_ref().map(|r| r.to_string())).collect();
    assert_eq!(ids, [DirectoryRole::UserAdministrator.template_id()]);
}

/// The IdP's token-signing certificate, base64 DER.
fn idp_certificate() -> String {
    use base64::Engine as _;
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = rcgen::CertificateParams::new(vec!["idp.vendor.example".to_owned()])
        .expect("params")
        .self_signed(&key)
        .expect("certificate");
    base64::engine::general_purpose::STANDARD.encode(cert.der())
}

#[tokio::test]
async fn the_federate_domain_step_adds_verifies_and_federates_the_domain_and_a_rerun_finds_it_done() {
    use graphbox::sdk::models::AuthenticationType;
    use graphbox::sdk::onboarding::FederateDomain;
    let t = tenant().await;
    let spec = FederateDomain::new(
        "customer.example",
        "https://idp.vendor.example/issuer",
        "https://idp.vendor.example/wsfed",
        idp_certificate(),
    )
    .display_name("Vendor IdP");
    let first = events();
    let stopped =
        t.onboarding(first.clone()).federate_domain(spec.clone()).stop_after(Step::FederateDomain).run().await;
    assert!(matches!(stopped, Err(OnboardingError::Stopped { after: Step::FederateDomain })), "{stopped:?}");
    let done: Vec<String> = recorded(&first)
        .iter()
        .filter_map(|e| match e {
            OnboardingEvent::Done { step: Step::FederateDomain, detail } => Some(detail.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        done,
        [
            "added customer.example",
            "verified customer.example",
            "customer.example federated to https://idp.vendor.example/issuer"
        ]
    );
    let domain = t.admin().domains().get("customer.example").send().await.expect("domain");
    assert_eq!(domain.authentication_type, Some(AuthenticationType::Federated));

    // Resumed: the domain is found federated as asked; a new certificate is a PATCH.
    let again = events();
    t.onboarding(again.clone()).federate_domain(spec.clone()).run().await.expect("rerun");
    assert!(
        recorded(&again).iter().any(|e| matches!(e, OnboardingEvent::AlreadyDone { step: Step::FederateDomain, .. })),
        "{:?}",
        recorded(&again)
    );
    let mut rolled = spec;
    rolled.signing_certificate = idp_certificate();
    let third = events();
    t.onboarding(third.clone()).federate_domain(rolled.clone()).run().await.expect("rollover");
    assert!(recorded(&third).iter().any(|e| matches!(e, OnboardingEvent::Done { step: Step::FederateDomain, .. })));
    let configs = t.admin().domains().federation_configurations("customer.example").send().await.expect("list");
    assert_eq!(configs.value.len(), 1);
    assert_eq!(configs.value[0].signing_certificate.as_deref(), Some(rolled.signing_certificate.as_str()));
}
