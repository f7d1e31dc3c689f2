//! Provisioning into the mock: the whole flow, ownership, refusals, dry runs.

use graphbox::sdk::models::User;
use graphbox::sdk::provisioning::{
    parse_csv, Action, Attribute, Outcome, ProgressMode, Provisioner, Script, SourceUser, GUIDE_SCRIPT,
};

use crate::support::{events, tenant, Tenant};

fn sample_source(t: &Tenant) -> Vec<SourceUser> {
    let csv =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/source.csv")).expect("sample");
    parse_csv(&csv.replace("{domain}", &t.domain())).expect("sample parses")
}

fn provisioner(t: &Tenant) -> Provisioner {
    Provisioner::new(t.admin()).progress(ProgressMode::Never).concurrency(4)
}

async fn get(t: &Tenant, upn: &str) -> User {
    t.admin()
        .users()
        .get(upn)
        .select([
            "id",
            "displayName",
            "usageLocation",
            "mail",
            "jobTitle",
            "city",
            "onPremisesImmutableId",
            "proxyAddresses",
        ])
        .send()
        .await
        .expect("user exists")
}

#[tokio::test]
async fn the_whole_flow_onboards_then_provisions_the_sample_directory_with_the_guides_script() {
    let t = tenant().await;
    let done = t.onboarding(events()).run().await.expect("onboarding");
    let graph = t.client(done.client_id.as_str(), &done.client_secret);
    let source = sample_source(&t);
    let p = Provisioner::new(graph).script(Script::new(GUIDE_SCRIPT).expect("script")).progress(ProgressMode::Never);

    let plan = p.plan(&source).await.expect("plan");
    let report = p.apply(&plan).await;

    assert_eq!((report.created, report.refused), (source.len(), 0), "{report}");
    assert_eq!(plan.script_evaluations, source.len() as u64);
    let sven = get(&t, &format!("sven.lindqvist@{}", t.domain())).await;
    assert_eq!(sven.usage_location.as_deref(), Some("AU"));
    // No mail in the source: CanonicalizeName falls back to the (lower-cased) UPN.
    assert_eq!(sven.mail, Some(format!("sven.lindqvist@{}", t.domain())));
    assert_eq!(sven.job_title, None, "jobTitle is owned by Office 365: not written even on create");
    let again = p.plan(&source).await.expect("second plan");
    assert_eq!(again.counts().unchanged, source.len(), "{again}");
}

#[tokio::test]
async fn office_365_owned_attributes_are_untouched_after_a_sync_that_changed_them_at_the_source() {
    let t = tenant().await;
    let upn = format!("mira@{}", t.domain());
    let mut source = vec![SourceUser::new(&upn)
        .with(Attribute::ImmutableId, "bWlyYQ==")
        .with(Attribute::DisplayName, "Mira Okafor")
        .with(Attribute::UsageLocation, "SE")
        .with(Attribute::JobTitle, "Engineer")
        .with(Attribute::City, "Malmö")];
    let p = provisioner(&t);
    p.apply(&p.plan(&source).await.expect("plan")).await;
    // Microsoft 365 side: an admin sets the attributes Office 365 owns.
    let patch = User {
        job_title: Some("Principal engineer".into()),
        extra: [("city".to_owned(), "Lund".into())].into_iter().collect(),
        ..Default::default()
    };
    t.admin().users().update(upn.as_str(), patch).send().await.expect("admin edit");
    // Source side: everything changes.
    for (a, v) in [
        (Attribute::DisplayName, "Mira Okafor-Berg"),
        (Attribute::UsageLocation, "AU"),
        (Attribute::JobTitle, "Manager"),
        (Attribute::City, "Sydney"),
    ] {
        source[0].set(a, v);
    }

    let plan = p.plan(&source).await.expect("plan");
    let report = p.apply(&plan).await;

    let Action::Update { changes, .. } = &plan.entries[0].action else { panic!("expected an update: {plan}") };
    let changed: Vec<Attribute> = changes.iter().map(|c| c.attribute).collect();
    assert_eq!(changed, [Attribute::DisplayName, Attribute::UsageLocation]);
    assert_eq!(report.updated, 1, "{report}");
    let mira = get(&t, &upn).await;
    assert_eq!(mira.display_name.as_deref(), Some("Mira Okafor-Berg"));
    assert_eq!(mira.usage_location.as_deref(), Some("AU"));
    assert_eq!(mira.job_title.as_deref(), Some("Principal engineer"));
    assert_eq!(mira.extra.get("city").and_then(|c| c.as_str()), Some("Lund"));
}

#[tokio::test]
async fn refusals_land_in_the_report_per_user_and_nothing_is_half_applied() {
    let t = tenant().await;
    let d = t.domain();
    let source = vec![
        SourceUser::new(&format!("ok@{d}")).with(Attribute::DisplayName, "Ok"),
        SourceUser::new(&format!("twin@{d}")).with(Attribute::DisplayName, "Twin one"),
        SourceUser::new(&format!("TWIN@{d}")).with(Attribute::DisplayName, "Twin two"),
        // The tenant refuses a UPN in a domain it has not verified; the POST is the only write.
        SourceUser::new("stranger@unverified.example").with(Attribute::DisplayName, "Stranger"),
        SourceUser::new(&format!("bad-location@{d}")).with(Attribute::UsageLocation, "Australia"),
    ];
    let p = provisioner(&t);

    let report = p.apply(&p.plan(&source).await.expect("plan")).await;

    assert_eq!((report.created, report.refused), (2, 3), "{report}");
    let reasons: Vec<String> = report
        .refusals()
        .map(|e| match &e.outcome {
            Outcome::Refused { reason } => format!("{}: {reason}", e.user_principal_name),
            _ => unreachable!(),
        })
        .collect();
    assert!(reasons[0].contains("duplicate UPN: row"), "{reasons:?}");
    assert!(reasons[1].starts_with("stranger@unverified.example: the tenant refused: 400"), "{reasons:?}");
    assert!(reasons[2].starts_with("bad-location@") && reasons[2].contains("400"), "{reasons:?}");
    let missing = t.admin().users().get(format!("bad-location@{d}").as_str()).send().await;
    assert!(missing.is_err_and(|e| e.is_not_found()), "a refused create leaves no user behind");
}

#[tokio::test]
async fn a_script_error_refuses_only_its_user_with_line_and_column() {
    let t = tenant().await;
    let d = t.domain();
    let source = vec![
        SourceUser::new(&format!("a@{d}")).with(Attribute::DisplayName, "A"),
        SourceUser::new(&format!("b@{d}")).with(Attribute::DisplayName, "B"),
    ];
    let script =
        Script::new("if (source.DisplayName === 'B') {\n  destination.Usagelocation = 'AU';\n}").expect("compiles");
    let p = provisioner(&t).script(script);

    let plan = p.plan(&source).await.expect("plan");

    assert!(matches!(plan.entries[0].action, Action::Create { .. }), "{plan}");
    let Action::Refused { reason } = &plan.entries[1].action else { panic!("{plan}") };
    assert!(reason.starts_with("script line 2, column"), "{reason}");
    assert!(reason.contains("did you mean 'UsageLocation'"), "{reason}");
}

#[tokio::test]
async fn a_dry_run_writes_nothing() {
    let t = tenant().await;
    let before = t.admin().users().list().send().await.expect("users").value.len();

    let plan = provisioner(&t).plan(&sample_source(&t)).await.expect("plan");

    assert_eq!(plan.counts().create, 6, "{plan}");
    assert!(plan.to_string().contains("+ create    mira.okafor@"), "{plan}");
    assert_eq!(t.admin().users().list().send().await.expect("users").value.len(), before);
}

#[tokio::test]
async fn a_federated_domain_user_without_an_immutable_id_is_refused_in_the_plan_with_the_reason() {
    use base64::Engine as _;
    use graphbox::sdk::models::{AuthenticationProtocol, InternalDomainFederation};
    let t = tenant().await;
    let admin = t.admin();
    admin.domains().create("customer-fed.example").send().await.expect("domain");
    admin.domains().verify("customer-fed.example").send().await.expect("verified");
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = rcgen::CertificateParams::new(vec!["idp.vendor.example".to_owned()])
        .expect("params")
        .self_signed(&key)
        .expect("cert");
    let federation = InternalDomainFederation {
        issuer_uri: Some("https://idp.vendor.example/issuer".into()),
        passive_sign_in_uri: Some("https://idp.vendor.example/wsfed".into()),
        signing_certificate: Some(base64::engine::general_purpose::STANDARD.encode(cert.der())),
        preferred_authentication_protocol: Some(AuthenticationProtocol::WsFed),
        ..Default::default()
    };
    admin
        .domains()
        .create_federation_configuration("customer-fed.example", &federation)
        .send()
        .await
        .expect("federated");

    let source = vec![
        SourceUser::new("no.anchor@customer-fed.example").with(Attribute::DisplayName, "No Anchor"),
        SourceUser::new("anchored@customer-fed.example")
            .with(Attribute::DisplayName, "Anchored")
            .with(Attribute::ImmutableId, "YW5jaG9yZWQ="),
    ];
    let p = provisioner(&t);
    let plan = p.plan(&source).await.expect("plan");
    match &plan.entries[0].action {
        Action::Refused { reason } => {
            assert!(reason.starts_with("customer-fed.example is a federated domain"), "{reason}");
            assert!(reason.contains("Immutable ID"), "{reason}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(matches!(plan.entries[1].action, Action::Create { .. }), "{plan}");
    let report = p.apply(&plan).await;
    assert_eq!((report.created, report.refused), (1, 1), "{report}");
}
