//! End to end against the in-process graphbox-mock: the organisation and DirSync, the on-premises
//! synchronisation settings, domains and subscribed SKUs.

use graphbox_mock::Graphbox;
use graphbox_sdk::models::{OnPremisesDirectorySynchronization, Organization, User};
use graphbox_sdk::GraphClient;

use crate::mock_users::{client_for, plain_mock};

async fn advance_clock(mock: &Graphbox, seconds: u64) {
    let url = format!("{}/tenants/{}/clock/advance", mock.control_url(), mock.tenant_id());
    let answer = reqwest::Client::new()
        .post(url)
        .json(&serde_json::json!({ "seconds": seconds }))
        .send()
        .await
        .expect("control API");
    assert!(answer.status().is_success(), "clock advance: {}", answer.status());
}

async fn sync_flag(graph: &GraphClient, mock: &Graphbox) -> Option<bool> {
    let org = graph
        .organization()
        .get(mock.tenant_id())
        .select(["id", "onPremisesSyncEnabled"])
        .send()
        .await
        .expect("organization");
    org.on_premises_sync_enabled
}

fn dirsync(enabled: bool) -> Organization {
    Organization { on_premises_sync_enabled: Some(enabled), ..Default::default() }
}

#[tokio::test]
async fn the_organization_is_a_collection_of_one_that_can_be_read_and_updated() {
    let mock = plain_mock().await;
    let graph = client_for(&mock);

    let orgs = graph.organization().list().send().await.expect("list");
    assert_eq!(orgs.value.len(), 1);
    let org = &orgs.value[0];
    assert_eq!(org.id.as_ref().map(|i| i.as_str()), Some(mock.tenant_id().to_string().as_str()));
    assert_eq!(org.on_premises_sync_enabled, None, "a fresh tenant never synced");
    let domains = org.verified_domains.as_ref().expect("verifiedDomains");
    let initial = domains.iter().find(|d| d.is_initial == Some(true)).expect("initial domain");
    assert_eq!(initial.name.as_deref(), Some(mock.tenant_domain()));

    let patch = Organization {
        technical_notification_mails: Some(vec![format!("ops@{}", mock.tenant_domain())]),
        marketing_notification_emails: Some(vec![]),
        ..Default::default()
    };
    graph.organization().update(mock.tenant_id(), patch).send().await.expect("update");
    let read = graph.organization().get(mock.tenant_id()).send().await.expect("get");
    assert_eq!(read.technical_notification_mails, Some(vec![format!("ops@{}", mock.tenant_domain())]));
    assert_eq!(read.display_name, org.display_name);

    let mut unknown = Organization::default();
    unknown.extra.insert("noSuchProperty".into(), serde_json::Value::Bool(true));
    let err = graph.organization().update(mock.tenant_id(), unknown).send().await.expect_err("unknown property");
    assert_eq!(err.as_graph_error().expect("api error").status, 400);

    let other = uuid::uuid!("0b1e2c3d-4f50-4a6b-8c7d-9e0f1a2b3c4d");
    assert!(graph.organization().get(other).send().await.expect_err("another tenant").is_not_found());
}

#[tokio::test]
async fn switching_dirsync_off_in_a_tenant_that_never_synced_changes_nothing() {
    let mock = plain_mock().await;
    let graph = client_for(&mock);
    // Graph's documented semantics: `null` never synced, `false` was synced and is now off. Turning
    // off what was never on is accepted (204) and leaves the flag `null`.
    graph.organization().update(mock.tenant_id(), dirsync(false)).send().await.expect("PATCH false is accepted");
    assert_eq!(sync_flag(&graph, &mock).await, None);
}

#[tokio::test]
async fn dirsync_is_enabled_then_disabled_through_the_pending_states() {
    let mock = plain_mock().await;
    let graph = client_for(&mock);

    graph.organization().update(mock.tenant_id(), dirsync(true)).send().await.expect("enable");
    // PendingEnabled: every change is refused until the deadline passes.
    let refused = graph.organization().update(mock.tenant_id(), dirsync(false)).send().await.expect_err("pending");
    let refused = refused.as_graph_error().expect("api error");
    assert_eq!((refused.status, refused.code.as_str()), (400, "Request_BadRequest"));
    assert_eq!(refused.message, "You cannot turn off Active Directory synchronization.");

    advance_clock(&mock, 60).await;
    assert_eq!(sync_flag(&graph, &mock).await, Some(true));
    let sync_sp = graph
        .service_principals()
        .get_by_app_id("6bf85cfa-ac8a-4be5-b5de-425a0d0dc016")
        .send()
        .await
        .expect("enabling brings the sync service principal");
    assert!(sync_sp.display_name.is_some());

    graph.organization().update(mock.tenant_id(), dirsync(false)).send().await.expect("disable");
    // The flag turns false at once; the disable stays pending for 24–72 h and
    // cannot be reversed meanwhile.
    assert_eq!(sync_flag(&graph, &mock).await, Some(false), "was synced, now off");
    let refused = graph.organization().update(mock.tenant_id(), dirsync(true)).send().await.expect_err("pending");
    assert_eq!(refused.as_graph_error().expect("api error").code, "Request_BadRequest");
    // 73 hours on: past any seeded deadline. The cached token has expired on the tenant clock,
    // so this also exercises the SDK's refresh after a 401.
    advance_clock(&mock, 73 * 3600).await;
    assert_eq!(sync_flag(&graph, &mock).await, Some(false));
    graph.organization().update(mock.tenant_id(), dirsync(true)).send().await.expect("re-enable once Disabled");
    assert_eq!(sync_flag(&graph, &mock).await, Some(true));
}

#[tokio::test]
async fn on_premises_synchronization_settings_are_read_and_updated() {
    let mock = plain_mock().await;
    let graph = client_for(&mock);

    let all = graph.on_premises_synchronization().list().send().await.expect("list");
    assert_eq!(all.value.len(), 1);
    let item = &all.value[0];
    assert_eq!(item.id.as_ref().map(|i| i.as_str()), Some(mock.tenant_id().to_string().as_str()));

    let settings = graph.on_premises_synchronization().get(mock.tenant_id()).send().await.expect("get");
    let features = settings.features.clone().expect("features");
    assert!(features.contains_key("softMatchOnUpnEnabled"));
    assert!(settings.configuration.is_some());

    let mut patch_features = serde_json::Map::new();
    patch_features.insert("passwordSyncEnabled".into(), true.into());
    patch_features.insert("blockSoftMatchEnabled".into(), true.into());
    let patch = OnPremisesDirectorySynchronization { features: Some(patch_features), ..Default::default() };
    graph.on_premises_synchronization().update(mock.tenant_id(), patch).send().await.expect("update");

    let read = graph.on_premises_synchronization().get(mock.tenant_id()).send().await.expect("get");
    let features = read.features.expect("features");
    assert_eq!(features.get("passwordSyncEnabled"), Some(&serde_json::Value::Bool(true)));
    assert_eq!(features.get("blockSoftMatchEnabled"), Some(&serde_json::Value::Bool(true)));
    assert_eq!(
        features.get("softMatchOnUpnEnabled"),
        settings.features.as_ref().and_then(|f| f.get("softMatchOnUpnEnabled")),
        "features not in the patch keep their values"
    );
}

#[tokio::test]
async fn a_domain_is_added_unverified_verified_used_and_removed() {
    let mock = plain_mock().await;
    let graph = client_for(&mock);
    let name = "sdk-lab.example";

    let domains = graph.domains().list().send().await.expect("list");
    let initial = domains.value.iter().find(|d| d.is_initial == Some(true)).expect("initial domain");
    assert_eq!(initial.id.as_ref().map(|i| i.as_str()), Some(mock.tenant_domain()));
    assert_eq!(initial.is_verified, Some(true));

    let added = graph.domains().create(name).send().await.expect("add");
    assert_eq!(added.id.as_ref().map(|i| i.as_str()), Some(name));
    assert_eq!(added.is_verified, Some(false));
    assert_eq!(added.is_default, Some(false));

    let upn = format!("early@{name}");
    let early = graph.users().create(User::new("Early", "early", &upn, "Vk3#pL9!wQz2")).send().await;
    assert_eq!(early.expect_err("unverified domain").as_graph_error().expect("api error").status, 400);

    let records = graph.domains().verification_dns_records(name).send().await.expect("verificationDnsRecords");
    let txt = records.value.iter().find(|r| r.record_type.as_deref() == Some("Txt")).expect("a TXT record");
    assert!(txt.text.as_deref().is_some_and(|t| t.starts_with("MS=ms")), "{txt:?}");
    assert!(txt.ttl.is_some());

    let verified = graph.domains().verify(name).send().await.expect("verify");
    assert_eq!(verified.is_verified, Some(true));
    let read = graph.domains().get(name).send().await.expect("get");
    assert_eq!(read.is_verified, Some(true));
    let user = graph.users().create(User::new("Lab", "lab", &format!("lab@{name}"), "Vk3#pL9!wQz2")).send().await;
    let user = user.expect("a verified domain takes UPNs").id.expect("id");
    graph.users().delete(&user).send().await.expect("delete user");
    graph.deleted_items().permanently_delete(user.as_str()).send().await.expect("purge user");

    graph.domains().delete(name).send().await.expect("delete domain");
    assert!(graph.domains().get(name).send().await.expect_err("gone").is_not_found());
    let bad = graph.domains().create("not a domain").send().await.expect_err("invalid name");
    assert_eq!(bad.as_graph_error().expect("api error").status, 400);
}

#[tokio::test]
async fn subscribed_skus_list_the_seeded_licences() {
    let mock = plain_mock().await;
    let graph = client_for(&mock);
    let skus = graph.subscribed_skus().list().send().await.expect("subscribedSkus");
    assert!(!skus.value.is_empty());
    for sku in &skus.value {
        assert!(sku.sku_id.is_some() && sku.sku_part_number.is_some(), "{sku:?}");
        assert_eq!(sku.capability_status.as_deref(), Some("Enabled"));
        assert_eq!(sku.consumed_units, Some(0), "nobody is licensed in a fresh tenant");
        let enabled = sku.prepaid_units.as_ref().and_then(|p| p.get("enabled")).and_then(|e| e.as_i64());
        assert!(enabled.is_some_and(|n| n > 0), "{sku:?}");
    }
}

#[tokio::test]
async fn a_verified_domain_is_federated_through_its_federation_configuration_and_managed_again_after_delete() {
    use base64::Engine as _;
    use graphbox_sdk::models::{AuthenticationProtocol, AuthenticationType, InternalDomainFederation};

    let mock = plain_mock().await;
    let graph = client_for(&mock);
    let domain = "sdk-fed.example";
    graph.domains().create(domain).send().await.expect("add");
    graph.domains().verify(domain).send().await.expect("verify");
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = rcgen::CertificateParams::new(vec!["idp.sdk-fed.example".to_owned()])
        .expect("params")
        .self_signed(&key)
        .expect("certificate");
    let settings = InternalDomainFederation {
        issuer_uri: Some("https://idp.sdk-fed.example/issuer".into()),
        passive_sign_in_uri: Some("https://idp.sdk-fed.example/saml".into()),
        signing_certificate: Some(base64::engine::general_purpose::STANDARD.encode(cert.der())),
        preferred_authentication_protocol: Some(AuthenticationProtocol::Saml),
        ..Default::default()
    };
    let created = graph.domains().create_federation_configuration(domain, &settings).send().await.expect("federate");
    let id = created.id.clone().expect("id");
    assert_eq!(created.preferred_authentication_protocol, Some(AuthenticationProtocol::Saml));
    let read = graph.domains().get(domain).send().await.expect("domain");
    assert_eq!(read.authentication_type, Some(AuthenticationType::Federated));

    let change = InternalDomainFederation { display_name: Some("Renamed IdP".into()), ..Default::default() };
    let updated = graph.domains().update_federation_configuration(domain, &id, &change).send().await.expect("patch");
    assert_eq!(updated.display_name.as_deref(), Some("Renamed IdP"));
    let listed = graph.domains().federation_configurations(domain).send().await.expect("list");
    assert_eq!(listed.value.len(), 1);

    let again =
        graph.domains().create_federation_configuration(domain, &settings).send().await.expect_err("one per domain");
    assert_eq!(again.as_graph_error().map(|g| g.status), Some(409));

    graph.domains().delete_federation_configuration(domain, &id).send().await.expect("delete");
    let read = graph.domains().get(domain).send().await.expect("domain");
    assert_eq!(read.authentication_type, Some(AuthenticationType::Managed));
}
