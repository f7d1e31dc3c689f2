//! End to end against the in-process graphbox-mock: applications, secrets, certificates, service
//! principals, consent (app role assignments and delegated grants), deleted applications, and the
//! certificate and username/password credentials.

use base64::Engine;
use futures::TryStreamExt;
use graphbox_mock::Graphbox;
use graphbox_sdk::auth::{ClientCertificateCredential, ClientSecretCredential, UsernamePasswordCredential};
use graphbox_sdk::ids::{AppId, ServicePrincipalId};
use graphbox_sdk::models::{
    AppRoleAssignment, Application, ConsentType, OAuth2PermissionGrant, PasswordCredential, ServicePrincipal, User,
};
use graphbox_sdk::odata::Filter;
use graphbox_sdk::permissions::{GraphPermission, MICROSOFT_GRAPH_APP_ID};
use graphbox_sdk::GraphClient;

use crate::mock_users::{client_for, plain_mock};

/// A client for the mock's tenant with any credential.
fn client_with(mock: &Graphbox, credential: impl Into<graphbox_sdk::auth::Credential>) -> GraphClient {
    GraphClient::builder()
        .authority_host(mock.authority())
        .graph_url(mock.graph_url())
        .tenant(mock.tenant_id())
        .credential(credential)
        .build()
        .expect("client")
}

/// Microsoft Graph's service principal in the mock's tenant.
async fn graph_sp(graph: &GraphClient) -> ServicePrincipalId {
    graph.service_principals().get_by_app_id(MICROSOFT_GRAPH_APP_ID).send().await.expect("graph sp").id.expect("id")
}

fn role_id(permission: GraphPermission) -> &'static str {
    permission.app_role_id().expect("an application permission")
}

#[tokio::test]
async fn applications_are_created_read_listed_updated_and_deleted() {
    let mock = plain_mock().await;
    let graph = client_for(&mock);

    let created = graph.applications().create(Application::new("sdk-apps-crud")).send().await.expect("create");
    let id = created.id.clone().expect("object id");
    let app_id = created.app_id.clone().expect("client id");
    assert_ne!(id.as_str(), app_id.as_str(), "object id and client id differ");
    assert_eq!(created.display_name.as_deref(), Some("sdk-apps-crud"));
    assert_eq!(created.sign_in_audience.as_ref().map(|a| a.as_str()), Some("AzureADMyOrg"));
    assert_eq!(created.password_credentials.as_deref(), Some(&[][..]));

    let by_id = graph.applications().get(&id).send().await.expect("get");
    assert_eq!(by_id.app_id.as_ref(), Some(&app_id));
    let by_app_id = graph.applications().get_by_app_id(&app_id).send().await.expect("get by appId");
    assert_eq!(by_app_id.id.as_ref(), Some(&id));
    let err = graph.applications().get(app_id.as_str()).send().await.expect_err("appId is not an object id");
    assert!(err.is_not_found());

    let listed: Vec<Application> = graph.applications().list().into_stream().try_collect().await.expect("list");
    assert!(listed.iter().any(|a| a.id.as_ref() == Some(&id)));
    let filtered = graph
        .applications()
        .list()
        .filter(Filter::eq("displayName", "sdk-apps-crud"))
        .select(["id", "appId", "displayName"])
        .send()
        .await
        .expect("filtered list");
    assert_eq!(filtered.value.len(), 1);
    assert_eq!(filtered.value[0].app_id.as_ref(), Some(&app_id));

    let patch = Application {
        display_name: Some("sdk-apps-renamed".into()),
        tags: Some(vec!["graphbox".into()]),
        ..Default::default()
    };
    graph.applications().update(&id, patch).send().await.expect("update");
    let read = graph.applications().get(&id).send().await.expect("get after update");
    assert_eq!(read.display_name.as_deref(), Some("sdk-apps-renamed"));
    assert_eq!(read.tags.as_deref(), Some(&["graphbox".to_owned()][..]));

    graph.applications().delete(&id).send().await.expect("delete");
    let err = graph.applications().get(&id).send().await.expect_err("deleted");
    assert_eq!(err.as_graph_error().expect("api error").code, "Request_ResourceNotFound");
}

#[tokio::test]
async fn a_deleted_application_is_in_deleted_items_and_can_be_restored_or_purged() {
    let mock = plain_mock().await;
    let graph = client_for(&mock);
    let keep = graph.applications().create(Application::new("sdk-deleted-keep")).send().await.expect("create");
    let purge = graph.applications().create(Application::new("sdk-deleted-purge")).send().await.expect("create");
    let keep_id = keep.id.expect("id");
    let purge_id = purge.id.expect("id");
    graph.applications().delete(&keep_id).send().await.expect("delete");
    graph.applications().delete(&purge_id).send().await.expect("delete");

    let deleted = graph.deleted_items().applications().send().await.expect("deleted applications");
    let ids: Vec<_> = deleted.value.iter().filter_map(|a| a.id.as_ref()).collect();
    assert!(ids.contains(&&keep_id) && ids.contains(&&purge_id), "{ids:?}");
    assert!(deleted.value.iter().all(|a| a.extra.get("deletedDateTime").is_some_and(|d| !d.is_null())));

    let restored = graph.deleted_items().restore(keep_id.as_str()).send().await.expect("restore");
    assert_eq!(restored.id.as_ref().map(|i| i.as_str()), Some(keep_id.as_str()));
    assert_eq!(restored.odata_type.as_deref(), Some("#microsoft.graph.application"));
    graph.applications().get(&keep_id).send().await.expect("back in /applications");

    graph.deleted_items().permanently_delete(purge_id.as_str()).send().await.expect("purge");
    let after = graph.deleted_items().applications().send().await.expect("deleted applications");
    assert!(after.value.iter().all(|a| a.id.as_ref() != Some(&purge_id) && a.id.as_ref() != Some(&keep_id)));
}

#[tokio::test]
async fn add_password_returns_a_secret_that_gets_a_token_and_remove_password_revokes_it() {
    let mock = plain_mock().await;
    let graph = client_for(&mock);
    let app = graph.applications().create(Application::new("sdk-secret")).send().await.expect("create");
    let (id, app_id) = (app.id.expect("id"), app.app_id.expect("appId"));
    let sp = graph.service_principals().create(ServicePrincipal::for_app(&app_id)).send().await.expect("sp");
    let sp_id = sp.id.expect("sp id");
    // Give the new application one Graph permission so that its token can be used.
    let resource = graph_sp(&graph).await;
    graph
        .service_principals()
        .grant_app_role(&resource, AppRoleAssignment::new(&sp_id, &resource, role_id(GraphPermission::UserReadAll)))
        .send()
        .await
        .expect("grant User.Read.All");

    let request = PasswordCredential { display_name: Some("ci".into()), ..Default::default() };
    let secret = graph.applications().add_password(&id, request).send().await.expect("addPassword");
    let text = secret.secret_text.clone().expect("secret text is returned once");
    let key_id = secret.key_id.clone().expect("keyId");
    assert_eq!(secret.display_name.as_deref(), Some("ci"));
    assert_eq!(secret.hint.as_deref(), Some(&text[..3]));
    assert!(secret.end_date_time.is_some());

    let listed = graph.applications().get(&id).send().await.expect("get");
    let stored = listed.password_credentials.expect("passwordCredentials");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].key_id.as_ref(), Some(&key_id));
    assert_eq!(stored[0].secret_text, None, "the secret is never shown again");

    let as_app = client_with(&mock, ClientSecretCredential::new(&app_id, text.clone()));
    let page = as_app.users().list().top(1).send().await.expect("the new secret gets a token that works");
    assert_eq!(page.value.len(), 1);

    graph.applications().remove_password(&id, &key_id).send().await.expect("removePassword");
    let again = client_with(&mock, ClientSecretCredential::new(&app_id, text));
    let err = again.users().list().top(1).send().await.expect_err("removed secret");
    let auth = err.as_auth_error().expect("auth error");
    assert_eq!(auth.error(), Some("invalid_client"));
    assert_eq!(auth.aadsts(), Some(7000215));
}

#[tokio::test]
async fn service_principals_are_created_found_by_app_id_listed_by_filter_and_deleted() {
    let mock = plain_mock().await;
    let graph = client_for(&mock);
    let app = graph.applications().create(Application::new("sdk-sp")).send().await.expect("create app");
    let app_id = app.app_id.expect("appId");

    let sp = graph.service_principals().create(ServicePrincipal::for_app(&app_id)).send().await.expect("create sp");
    let sp_id = sp.id.clone().expect("id");
    assert_eq!(sp.app_id.as_ref(), Some(&app_id));
    assert_eq!(sp.display_name.as_deref(), Some("sdk-sp"));
    assert_eq!(sp.service_principal_type.as_deref(), Some("Application"));
    assert_eq!(sp.account_enabled, Some(true));
    assert!(sp.service_principal_names.as_ref().is_some_and(|n| n.contains(&app_id.to_string())));

    let err = graph.service_principals().create(ServicePrincipal::for_app(&app_id)).send().await.expect_err("twice");
    assert_eq!(err.as_graph_error().expect("api error").status, 400);

    let by_app_id = graph.service_principals().get_by_app_id(&app_id).send().await.expect("by appId");
    assert_eq!(by_app_id.id.as_ref(), Some(&sp_id));
    let by_id = graph.service_principals().get(&sp_id).send().await.expect("by id");
    assert_eq!(by_id.app_id.as_ref(), Some(&app_id));

    let filtered = graph
        .service_principals()
        .list()
        .filter(Filter::eq("appId", app_id.clone()))
        .send()
        .await
        .expect("filter by appId");
    assert_eq!(filtered.value.len(), 1);
    assert_eq!(filtered.value[0].id.as_ref(), Some(&sp_id));
    let all: Vec<ServicePrincipal> = graph.service_principals().list().into_stream().try_collect().await.expect("all");
    assert!(all.iter().any(|s| s.app_id.as_ref().map(AppId::as_str) == Some(MICROSOFT_GRAPH_APP_ID)));

    graph.service_principals().delete(&sp_id).send().await.expect("delete");
    assert!(graph.service_principals().get(&sp_id).send().await.expect_err("gone").is_not_found());
    let deleted = graph.deleted_items().service_principals().send().await.expect("deleted sps");
    assert!(deleted.value.iter().any(|s| s.id.as_ref() == Some(&sp_id)));
}

#[tokio::test]
async fn microsoft_graphs_service_principal_offers_the_catalogued_roles_and_scopes() {
    let mock = plain_mock().await;
    let graph = client_for(&mock);
    let sp = graph
        .service_principals()
        .get_by_app_id(MICROSOFT_GRAPH_APP_ID)
        .select(["id", "appId", "displayName", "appRoles", "oauth2PermissionScopes"])
        .send()
        .await
        .expect("graph sp");
    let roles = sp.app_roles.expect("appRoles");
    let user_rw = roles.iter().find(|r| r.value.as_deref() == Some("User.ReadWrite.All")).expect("User.ReadWrite.All");
    assert_eq!(user_rw.id.as_ref().map(|i| i.as_str()), GraphPermission::UserReadWriteAll.app_role_id());
    let scopes = sp.oauth2_permission_scopes.expect("oauth2PermissionScopes");
    let user_read = scopes.iter().find(|s| s.value.as_deref() == Some("User.Read")).expect("User.Read");
    assert_eq!(user_read.id.as_deref(), GraphPermission::UserRead.scope_id());
}

#[tokio::test]
async fn app_role_assignments_are_granted_listed_from_both_sides_and_revoked() {
    let mock = plain_mock().await;
    let graph = client_for(&mock);
    let app = graph.applications().create(Application::new("sdk-consent")).send().await.expect("app");
    let sp = graph
        .service_principals()
        .create(ServicePrincipal::for_app(app.app_id.expect("appId")))
        .send()
        .await
        .expect("sp");
    let client_sp = sp.id.expect("sp id");
    let resource = graph_sp(&graph).await;

    let granted = graph
        .service_principals()
        .grant_app_role(&resource, AppRoleAssignment::new(&client_sp, &resource, role_id(GraphPermission::UserReadAll)))
        .send()
        .await
        .expect("grant");
    let assignment_id = granted.id.clone().expect("opaque id");
    assert!(uuid::Uuid::parse_str(assignment_id.as_str()).is_err(), "assignment ids are not GUIDs");
    assert_eq!(granted.principal_id.as_ref().map(|p| p.as_str()), Some(client_sp.as_str()));
    assert_eq!(granted.resource_id.as_ref(), Some(&resource));
    assert_eq!(granted.principal_type.as_deref(), Some("ServicePrincipal"));
    assert_eq!(granted.resource_display_name.as_deref(), Some("Microsoft Graph"));
    assert_eq!(granted.principal_display_name.as_deref(), Some("sdk-consent"));

    let duplicate = graph
        .service_principals()
        .grant_app_role(&resource, AppRoleAssignment::new(&client_sp, &resource, role_id(GraphPermission::UserReadAll)))
        .send()
        .await
        .expect_err("duplicate");
    assert_eq!(duplicate.as_graph_error().expect("api error").status, 400);
    let unknown_role = graph
        .service_principals()
        .grant_app_role(
            &resource,
            AppRoleAssignment::new(&client_sp, &resource, uuid::uuid!("0b1e2c3d-4f50-4a6b-8c7d-9e0f1a2b3c4d")),
        )
        .send()
        .await
        .expect_err("unknown role");
    assert_eq!(unknown_role.as_graph_error().expect("api error").status, 400);

    let assigned_to: Vec<AppRoleAssignment> =
        graph.service_principals().app_role_assigned_to(&resource).into_stream().try_collect().await.expect("list");
    assert!(assigned_to.iter().any(|a| a.id.as_ref() == Some(&assignment_id)));
    let of_client = graph.service_principals().app_role_assignments(&client_sp).send().await.expect("assignments");
    assert_eq!(of_client.value.len(), 1);
    assert_eq!(of_client.value[0].id.as_ref(), Some(&assignment_id));
    assert_eq!(
        of_client.value[0].app_role_id.as_ref().map(|r| r.as_str()),
        Some(role_id(GraphPermission::UserReadAll))
    );

    graph.service_principals().revoke_app_role(&resource, &assignment_id).send().await.expect("revoke");
    let of_client = graph.service_principals().app_role_assignments(&client_sp).send().await.expect("assignments");
    assert!(of_client.value.is_empty());
    let again = graph.service_principals().revoke_app_role(&resource, &assignment_id).send().await;
    assert!(again.expect_err("already revoked").is_not_found());
}

#[tokio::test]
async fn oauth2_permission_grants_are_created_filtered_updated_and_deleted() {
    let mock = plain_mock().await;
    let graph = client_for(&mock);
    let app = graph.applications().create(Application::new("sdk-delegated")).send().await.expect("app");
    let sp = graph
        .service_principals()
        .create(ServicePrincipal::for_app(app.app_id.expect("appId")))
        .send()
        .await
        .expect("sp");
    let client_sp = sp.id.expect("sp id");
    let resource = graph_sp(&graph).await;

    let grant = OAuth2PermissionGrant {
        client_id: Some(client_sp.clone()),
        consent_type: Some(ConsentType::AllPrincipals),
        resource_id: Some(resource.clone()),
        scope: Some("User.Read".into()),
        ..Default::default()
    };
    let created = graph.oauth2_permission_grants().create(grant).send().await.expect("create");
    let grant_id = created.id.clone().expect("opaque id");
    assert_eq!(created.client_id.as_ref(), Some(&client_sp));
    assert_eq!(created.consent_type, Some(ConsentType::AllPrincipals));
    assert_eq!(created.scope.as_deref(), Some("User.Read"));
    assert_eq!(created.principal_id, None);

    let mine = graph
        .oauth2_permission_grants()
        .list()
        .filter(Filter::eq("clientId", client_sp.clone()))
        .send()
        .await
        .expect("filter");
    assert_eq!(mine.value.len(), 1);
    assert_eq!(mine.value[0].id.as_ref(), Some(&grant_id));

    graph
        .oauth2_permission_grants()
        .update_scope(&grant_id, "User.Read Directory.Read.All")
        .send()
        .await
        .expect("patch");
    let read = graph.oauth2_permission_grants().get(&grant_id).send().await.expect("get");
    assert_eq!(read.scope.as_deref(), Some("User.Read Directory.Read.All"));

    graph.oauth2_permission_grants().delete(&grant_id).send().await.expect("delete");
    assert!(graph.oauth2_permission_grants().get(&grant_id).send().await.expect_err("gone").is_not_found());
    let mine =
        graph.oauth2_permission_grants().list().filter(Filter::eq("clientId", client_sp)).send().await.expect("filter");
    assert!(mine.value.is_empty());
}

#[tokio::test]
async fn the_admin_signs_in_through_the_bootstrap_public_client_with_a_password() {
    let mock = plain_mock().await;
    let credential =
        UsernamePasswordCredential::new(mock.client_id(), mock.admin_username(), mock.admin_password().to_owned());
    let graph = client_with(&mock, credential);

    let me = graph.users().get(mock.admin_username()).send().await.expect("delegated read");
    assert_eq!(me.user_principal_name.as_deref(), Some(mock.admin_username()));

    // The admin is a Global Administrator, so a delegated write goes through with their role.
    let upn = format!("delegated@{}", mock.tenant_domain());
    let created =
        graph.users().create(User::new("Delegated", "delegated", &upn, "Vk3#pL9!wQz2")).send().await.expect("create");
    graph.users().delete(created.id.expect("id")).send().await.expect("delete");

    let wrong = client_with(
        &mock,
        UsernamePasswordCredential::new(mock.client_id(), mock.admin_username(), "not-the-password"),
    );
    let err = wrong.users().list().send().await.expect_err("wrong password");
    assert_eq!(err.as_auth_error().expect("auth error").aadsts(), Some(50126));
}

/// A fresh RSA key and a self-signed certificate for it, both as PEM.
fn self_signed_certificate() -> (String, String) {
    use rsa::pkcs8::EncodePrivateKey;
    let key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).expect("rsa key");
    let pkcs8 = key.to_pkcs8_der().expect("pkcs8");
    let der = rustls_pki_types::PrivatePkcs8KeyDer::from(pkcs8.as_bytes().to_vec());
    let key_pair = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&der, &rcgen::PKCS_RSA_SHA256).expect("key pair");
    let params = rcgen::CertificateParams::new(vec!["sdk-certificate.graphbox.test".to_owned()]).expect("params");
    let cert = params.self_signed(&key_pair).expect("self-signed");
    (cert.pem(), key_pair.serialize_pem())
}

#[tokio::test]
async fn a_certificate_registered_on_the_app_gets_a_token_with_the_client_assertion() {
    let mock = plain_mock().await;
    let graph = client_for(&mock);
    let app = graph.applications().create(Application::new("sdk-certificate")).send().await.expect("app");
    let (id, app_id) = (app.id.expect("id"), app.app_id.expect("appId"));
    let sp = graph.service_principals().create(ServicePrincipal::for_app(&app_id)).send().await.expect("sp");
    let resource = graph_sp(&graph).await;
    let sp_id = sp.id.expect("sp id");
    graph
        .service_principals()
        .grant_app_role(&resource, AppRoleAssignment::new(&sp_id, &resource, role_id(GraphPermission::UserReadAll)))
        .send()
        .await
        .expect("grant");

    let (cert_pem, key_pem) = self_signed_certificate();
    let credential =
        ClientCertificateCredential::from_pem(&app_id, cert_pem.as_bytes(), key_pem.as_bytes()).expect("credential");

    // Before the certificate is registered the assertion is refused.
    let early = client_with(&mock, credential.clone());
    let err = early.users().list().top(1).send().await.expect_err("unknown certificate");
    assert_eq!(err.as_auth_error().expect("auth error").error(), Some("invalid_client"));

    let mut key = serde_json::Map::new();
    key.insert("type".into(), "AsymmetricX509Cert".into());
    key.insert("usage".into(), "Verify".into());
    key.insert("key".into(), credential.certificate_base64().into());
    let mut patch = Application::default();
    patch.extra.insert("keyCredentials".into(), serde_json::Value::Array(vec![key.into()]));
    graph.applications().update(&id, patch).send().await.expect("PATCH keyCredentials");
    let read = graph.applications().get(&id).select(["keyCredentials"]).send().await.expect("get");
    let keys = read.key_credentials.expect("keyCredentials");
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].kind.as_deref(), Some("AsymmetricX509Cert"));
    let thumbprint =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(credential.thumbprint()).expect("x5t is base64url");
    // `customKeyIdentifier` is Edm.Binary: the SHA-1 thumbprint's bytes, base64.
    let custom = keys[0].custom_key_identifier.as_deref().expect("customKeyIdentifier");
    assert_eq!(custom, base64::engine::general_purpose::STANDARD.encode(&thumbprint));

    let as_app = client_with(&mock, credential);
    let page = as_app.users().list().top(1).send().await.expect("certificate token works");
    assert_eq!(page.value.len(), 1);
}

#[tokio::test]
async fn owners_of_applications_and_service_principals_are_listed_added_and_removed() {
    let mock = plain_mock().await;
    let graph = client_for(&mock);
    let app = graph.applications().create(Application::new("sdk-owned")).send().await.expect("app");
    let app_object = app.id.expect("id");
    let sp = graph.service_principals().create(ServicePrincipal::for_app(app.app_id.expect("appId"))).send().await;
    let sp = sp.expect("sp").id.expect("sp id");
    let me = graph.service_principals().get_by_app_id(mock.client_id().to_string()).send().await.expect("me");
    let me = me.id.expect("my service principal id");

    // Whoever creates an object owns it.
    let owners = graph.applications().owners(&app_object).send().await.expect("owners");
    assert_eq!(owners.value.iter().map(|o| o.id.as_ref().map(|i| i.as_str())).collect::<Vec<_>>(), [Some(me.as_str())]);
    assert_eq!(owners.value[0].odata_type.as_deref(), Some("#microsoft.graph.servicePrincipal"));
    let owned = graph.service_principals().owned_objects(&me).send().await.expect("owned objects");
    let owned: Vec<&str> = owned.value.iter().filter_map(|o| o.id.as_ref().map(|i| i.as_str())).collect();
    assert!(owned.contains(&app_object.as_str()) && owned.contains(&sp.as_str()), "{owned:?}");

    let upn = format!("owner@{}", mock.tenant_domain());
    let user = graph.users().create(User::new("Owner", "owner", &upn, "Vk3#pL9!wQz2")).send().await;
    let user = user.expect("user").id.expect("user id");
    graph.service_principals().add_owner(&sp, user.as_str()).send().await.expect("add owner");
    let err = graph.service_principals().add_owner(&sp, user.as_str()).send().await.expect_err("twice");
    assert_eq!(err.as_graph_error().expect("api error").status, 400);
    graph.service_principals().remove_owner(&sp, user.as_str()).send().await.expect("remove owner");
    let owners = graph.service_principals().owners(&sp).send().await.expect("owners");
    assert!(owners.value.iter().all(|o| o.id.as_ref().map(|i| i.as_str()) != Some(user.as_str())));
    graph.applications().remove_owner(&app_object, me.as_str()).send().await.expect("remove the creator");
    assert!(graph.applications().owners(&app_object).send().await.expect("owners").value.is_empty());
}
