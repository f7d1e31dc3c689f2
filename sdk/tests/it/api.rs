//! Resource APIs the mock does not serve yet: method, path and body on the wire, and decoding of
//! the documented responses.

use graphbox_sdk::ids::ServicePrincipalId;
use graphbox_sdk::models::{
    AddKey, AppRoleAssignment, Application, Group, KeyCredential, Organization, PasswordCredential, ServicePrincipal,
    UnifiedRoleAssignment,
};
use graphbox_sdk::permissions::{DirectoryRole, GraphPermission, MICROSOFT_GRAPH_APP_ID};
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::Harness;

fn no_content() -> ResponseTemplate {
    ResponseTemplate::new(204)
}

#[tokio::test]
async fn application_lifecycle_uses_documented_paths_and_bodies() {
    let h = Harness::new().await;
    let app_json = serde_json::json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#applications/$entity",
        "id": "0f4b2c87-6d1e-4f3a-9b58-2c7e1d0a9f64", "appId": "3c9e8a71-2b4d-4f60-a8e5-7d1c0b9e2f34",
        "displayName": "fake-automation", "signInAudience": "AzureADMyOrg", "publisherDomain": "fabrikamlab.onmicrosoft.com",
        "requiredResourceAccess": [{"resourceAppId": MICROSOFT_GRAPH_APP_ID,
            "resourceAccess": [{"id": "741f803b-c850-494e-b5df-cde7c675a1ca", "type": "Role"}]}],
        "isFallbackPublicClient": null
    });
    Mock::given(method("POST"))
        .and(path("/v1.0/applications"))
        .and(body_json(serde_json::json!({"displayName": "fake-automation", "signInAudience": "AzureADMyOrg"})))
        .respond_with(ResponseTemplate::new(201).set_body_json(&app_json))
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.0/applications(appId='3c9e8a71-2b4d-4f60-a8e5-7d1c0b9e2f34')"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&app_json))
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1.0/applications/0f4b2c87-6d1e-4f3a-9b58-2c7e1d0a9f64/addPassword"))
        .and(body_json(serde_json::json!({"passwordCredential": {"displayName": "ci"}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "customKeyIdentifier": null, "displayName": "ci", "endDateTime": "2027-03-01T00:00:00Z", "hint": "Xq8",
            "keyId": "a6c3f0e1-7b24-4d98-8e15-3c2b9d0f7a64", "secretText": "Xq8~Hf3kP9vR2mT7wL0zC5nB8yD1sQ4gJ6aE",
            "startDateTime": "2026-03-01T00:00:00Z"})))
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1.0/applications/0f4b2c87-6d1e-4f3a-9b58-2c7e1d0a9f64/removePassword"))
        .and(body_json(serde_json::json!({"keyId": "a6c3f0e1-7b24-4d98-8e15-3c2b9d0f7a64"})))
        .respond_with(no_content())
        .expect(1)
        .mount(&h.server)
        .await;
    let graph = h.client();

    let app = graph.applications().create(Application::new("fake-automation")).send().await.expect("create");
    let app_id = app.app_id.clone().expect("appId");
    let read = graph.applications().get_by_app_id(&app_id).send().await.expect("by appId");
    let secret = graph
        .applications()
        .add_password(
            app.id.clone().expect("id"),
            PasswordCredential { display_name: Some("ci".into()), ..Default::default() },
        )
        .send()
        .await
        .expect("addPassword");
    graph
        .applications()
        .remove_password(app.id.clone().expect("id"), secret.key_id.clone().expect("keyId"))
        .send()
        .await
        .expect("remove");

    assert_eq!(
        read.required_resource_access.expect("rra")[0].resource_access.as_ref().expect("ra")[0]
            .kind
            .as_ref()
            .map(|k| k.as_str()),
        Some("Role")
    );
    assert_eq!(secret.secret_text.as_deref(), Some("Xq8~Hf3kP9vR2mT7wL0zC5nB8yD1sQ4gJ6aE"));
    assert!(!format!("{secret:?}").contains("Xq8~Hf3k"), "Debug redacts the secret");
    assert!(app.extra.contains_key("isFallbackPublicClient"), "unknown properties are kept");
}

#[tokio::test]
async fn granting_an_app_role_posts_to_the_resource_service_principal() {
    let h = Harness::new().await;
    let graph_sp = ServicePrincipalId::new("e4c1a9b2-6f03-4d85-9a7e-51b8c3d2f067");
    let client_sp = ServicePrincipalId::new("8b2f6d40-91ce-4a37-b5d8-2e0f7c6a1b95");
    Mock::given(method("GET"))
        .and(path(format!("/v1.0/servicePrincipals(appId='{MICROSOFT_GRAPH_APP_ID}')")))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "id": graph_sp, "appId": MICROSOFT_GRAPH_APP_ID, "displayName": "Microsoft Graph",
            "appRoles": [{"allowedMemberTypes": ["Application"], "id": "741f803b-c850-494e-b5df-cde7c675a1ca",
                          "isEnabled": true, "origin": "Application", "value": "User.ReadWrite.All"}]})))
        .mount(&h.server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v1.0/servicePrincipals/{graph_sp}/appRoleAssignedTo")))
        .and(body_json(serde_json::json!({"principalId": client_sp, "resourceId": graph_sp,
            "appRoleId": "741f803b-c850-494e-b5df-cde7c675a1ca"})))
        .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({
            "id": "QG0vi86RN0q12C4PfGobleKZDW1rQLNKufM1z2DcNbE", "deletedDateTime": null,
            "appRoleId": "741f803b-c850-494e-b5df-cde7c675a1ca", "createdDateTime": "2026-03-02T10:40:12.1234567Z",
            "principalDisplayName": "fake-automation", "principalId": client_sp, "principalType": "ServicePrincipal",
            "resourceDisplayName": "Microsoft Graph", "resourceId": graph_sp})))
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1.0/servicePrincipals"))
        .and(body_json(serde_json::json!({"appId": "3c9e8a71-2b4d-4f60-a8e5-7d1c0b9e2f34"})))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(serde_json::json!({"id": client_sp, "appId": "3c9e8a71-2b4d-4f60-a8e5-7d1c0b9e2f34"})),
        )
        .expect(1)
        .mount(&h.server)
        .await;
    let graph = h.client();

    graph
        .service_principals()
        .create(ServicePrincipal::for_app("3c9e8a71-2b4d-4f60-a8e5-7d1c0b9e2f34"))
        .send()
        .await
        .expect("sp");
    let resource = graph.service_principals().get_by_app_id(MICROSOFT_GRAPH_APP_ID).send().await.expect("graph sp");
    let role = resource
        .app_roles
        .unwrap_or_default()
        .into_iter()
        .find(|r| r.value.as_deref() == Some(GraphPermission::UserReadWriteAll.value()))
        .expect("role");
    let assignment = AppRoleAssignment::new(&client_sp, &graph_sp, role.id.expect("id"));
    let created = graph.service_principals().grant_app_role(&graph_sp, assignment).send().await.expect("grant");

    assert_eq!(created.id.map(|i| i.into_string()), Some("QG0vi86RN0q12C4PfGobleKZDW1rQLNKufM1z2DcNbE".into()));
}

#[tokio::test]
async fn role_assignment_and_legacy_role_membership_use_refs() {
    let h = Harness::new().await;
    let ga = DirectoryRole::GlobalAdministrator.template_id();
    Mock::given(method("POST"))
        .and(path("/v1.0/roleManagement/directory/roleAssignments"))
        .and(body_json(serde_json::json!({"principalId": "8b2f6d40-91ce-4a37-b5d8-2e0f7c6a1b95", "roleDefinitionId": ga, "directoryScopeId": "/"})))
        .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({
            "@odata.type": "#microsoft.graph.unifiedRoleAssignment", "id": "lAPpYvVpN0KRkAEhdxReEJC2sEqbR_9Hr48lds9SGHI-1",
            "principalId": "8b2f6d40-91ce-4a37-b5d8-2e0f7c6a1b95", "roleDefinitionId": ga, "directoryScopeId": "/"})))
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1.0/directoryRoles"))
        .and(body_json(serde_json::json!({"roleTemplateId": DirectoryRole::UserAdministrator.template_id()})))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(serde_json::json!({"id": "role-1", "displayName": "User Administrator",
            "roleTemplateId": DirectoryRole::UserAdministrator.template_id()})),
        )
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1.0/directoryRoles/role-1/members/$ref"))
        .and(body_json(serde_json::json!({"@odata.id": format!("{}/v1.0/directoryObjects/user-1", h.server.uri())})))
        .respond_with(no_content())
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v1.0/directoryRoles/role-1/members/user-1/$ref"))
        .respond_with(no_content())
        .expect(1)
        .mount(&h.server)
        .await;
    let graph = h.client();

    let assignment = graph
        .role_management()
        .assign(UnifiedRoleAssignment::tenant_wide("8b2f6d40-91ce-4a37-b5d8-2e0f7c6a1b95", ga))
        .send()
        .await
        .expect("assign");
    let role = graph
        .directory_roles()
        .activate(DirectoryRole::UserAdministrator.template_id())
        .send()
        .await
        .expect("activate");
    let role_id = role.id.expect("id");
    graph.directory_roles().add_member(&role_id, "user-1").send().await.expect("add");
    graph.directory_roles().remove_member(&role_id, "user-1").send().await.expect("remove");

    assert_eq!(assignment.role_definition_id.map(|i| i.into_string()), Some(ga.to_owned()));
}

#[tokio::test]
async fn groups_members_and_tenant_settings_round_trip() {
    let h = Harness::new().await;
    Mock::given(method("POST"))
        .and(path("/v1.0/groups"))
        .and(body_json(
            serde_json::json!({"displayName": "Provisioned", "mailEnabled": false, "mailNickname": "provisioned",
            "securityEnabled": true, "groupTypes": []}),
        ))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(serde_json::json!({"id": "g1", "displayName": "Provisioned"})),
        )
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v1.0/groups/g1/members/u1/$ref"))
        .respond_with(no_content())
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/v1.0/organization/5a1f0c3e-8d27-4b6a-9e41-0c7d2b9f6a18"))
        .and(body_json(serde_json::json!({"onPremisesSyncEnabled": false})))
        .respond_with(no_content())
        .expect(1)
        .mount(&h.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.0/directory/onPremisesSynchronization/5a1f0c3e-8d27-4b6a-9e41-0c7d2b9f6a18"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "id": "5a1f0c3e-8d27-4b6a-9e41-0c7d2b9f6a18",
            "configuration": {"accidentalDeletionPrevention": {"synchronizationPreventionType": "enabledForCount", "alertThreshold": 500}},
            "features": {"passwordSyncEnabled": false, "softMatchOnUpnEnabled": true}})))
        .mount(&h.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1.0/domains/contoso-lab.example/verify"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"id": "contoso-lab.example", "isVerified": true,
            "authenticationType": "Managed"})),
        )
        .mount(&h.server)
        .await;
    let graph = h.client();

    let group = graph.groups().create(Group::security("Provisioned", "provisioned")).send().await.expect("group");
    graph.groups().remove_member(group.id.expect("id"), "u1").send().await.expect("remove member");
    let patch = Organization { on_premises_sync_enabled: Some(false), ..Default::default() };
    graph.organization().update("5a1f0c3e-8d27-4b6a-9e41-0c7d2b9f6a18", patch).send().await.expect("dirsync off");
    let sync =
        graph.on_premises_synchronization().get("5a1f0c3e-8d27-4b6a-9e41-0c7d2b9f6a18").send().await.expect("sync");
    let domain = graph.domains().verify("contoso-lab.example").send().await.expect("verify");

    let prevention = sync.configuration.and_then(|c| c.accidental_deletion_prevention).expect("prevention");
    assert_eq!(prevention.alert_threshold, Some(500));
    assert_eq!(prevention.synchronization_prevention_type.map(|t| t.to_string()).as_deref(), Some("enabledForCount"));
    assert_eq!(domain.is_verified, Some(true));
}

#[tokio::test]
async fn unknown_enum_values_are_kept_and_written_back() {
    let json = serde_json::json!({"signInAudience": "AzureADNewKindOfAudience", "displayName": "x"});
    let app: Application = serde_json::from_value(json.clone()).expect("decode");
    assert_eq!(app.sign_in_audience.as_ref().map(|a| a.as_str()), Some("AzureADNewKindOfAudience"));
    assert_eq!(serde_json::to_value(&app).expect("encode"), json);
}

/// `addKey` is not served by the mock (501, README fidelity notes), so its wire shape is pinned
/// here: the key credential, the proof JWT, and no `passwordCredential` for a `Verify` key.
#[tokio::test]
async fn add_key_posts_the_certificate_and_the_proof() {
    let h = Harness::new().await;
    Mock::given(method("POST"))
        .and(path("/v1.0/applications/0f4b2c87-6d1e-4f3a-9b58-2c7e1d0a9f64/addKey"))
        .and(body_json(serde_json::json!({
            "keyCredential": {"type": "AsymmetricX509Cert", "usage": "Verify", "key": "TUlJQ2VydA=="},
            "proof": "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.keyCredential",
            "customKeyIdentifier": "9Fr4Q2m5Zb1d0n7y3L8sT6uW2xA=", "displayName": "CN=graphbox",
            "endDateTime": "2027-03-01T00:00:00Z", "key": null, "keyId": "f0b0b335-1d71-4883-8f98-567911bfdca6",
            "startDateTime": "2026-03-01T00:00:00Z", "type": "AsymmetricX509Cert", "usage": "Verify"})))
        .expect(1)
        .mount(&h.server)
        .await;
    let graph = h.client();
    let key = KeyCredential {
        kind: Some("AsymmetricX509Cert".into()),
        usage: Some("Verify".into()),
        key: Some("TUlJQ2VydA==".into()),
        ..Default::default()
    };
    let request =
        AddKey { key_credential: key, password_credential: None, proof: "eyJhbGciOiJSUzI1NiJ9.e30.c2ln".into() };
    let added =
        graph.applications().add_key("0f4b2c87-6d1e-4f3a-9b58-2c7e1d0a9f64", request).send().await.expect("addKey");
    assert_eq!(added.key_id.as_ref().map(|k| k.as_str()), Some("f0b0b335-1d71-4883-8f98-567911bfdca6"));
    assert_eq!(added.kind.as_deref(), Some("AsymmetricX509Cert"));
    assert!(added.end_date_time.is_some());
}
