//! `/organization` and `/directory/onPremisesSynchronization`.

use serde_json::json;

use crate::support::env;

#[tokio::test]
async fn organization_is_a_collection_of_exactly_one_shaped_as_the_reference_shows() {
    let env = env().await;
    let r = env.get("/organization").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let body = r.json();
    assert_eq!(body["value"].as_array().unwrap().len(), 1);
    assert_eq!(body["value"][0]["id"], env.mock.tenant_id().to_string());
    assert_eq!(body["value"][0]["onPremisesSyncEnabled"], serde_json::Value::Null, "never synced is null");
    insta::assert_json_snapshot!(env.normalize(body), {".value[].id" => "[tenant id]"});
}

#[tokio::test]
async fn organization_by_tenant_id_is_the_object_and_any_other_id_is_not_found() {
    let env = env().await;
    let tid = env.mock.tenant_id();
    let r = env.get(&format!("/organization/{tid}?$select=id,displayName,verifiedDomains")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let body = env.normalize(r.json());
    assert_eq!(
        body["@odata.context"],
        "http://graphbox.test/v1.0/$metadata#organization(id,displayName,verifiedDomains)/$entity"
    );
    assert_eq!(body["verifiedDomains"][0]["name"], "tenant.test");
    assert_eq!(body["verifiedDomains"][0]["isInitial"], true);
    let other = env.get("/organization/00000000-0000-0000-0000-000000000001").await;
    assert_eq!((other.status, other.error_code().as_str()), (404, "Request_ResourceNotFound"));
}

#[tokio::test]
async fn patching_the_notification_lists_answers_204_and_read_only_properties_are_refused() {
    let env = env().await;
    let path = format!("/organization/{}", env.mock.tenant_id());
    let body = json!({
        "marketingNotificationEmails": ["marketing@example.com"],
        "technicalNotificationMails": ["ops@example.com"],
        "privacyProfile": {"contactEmail": "privacy@example.com", "statementUrl": "https://example.com/privacy"},
    });
    let r = env.patch(&path, &body).await;
    assert_eq!((r.status, r.text.as_str()), (204, ""));
    let org = env.get(&path).await.json();
    assert_eq!(org["technicalNotificationMails"], json!(["ops@example.com"]));
    assert_eq!(org["privacyProfile"]["contactEmail"], "privacy@example.com");

    let r = env.patch(&path, &json!({"displayName": "Renamed"})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "Request_BadRequest");
    assert_eq!(r.error_message(), "Property 'displayName' is read-only and cannot be set.");
    assert_eq!(env.get(&path).await.json()["displayName"], org["displayName"], "nothing applied");
}

#[tokio::test]
async fn on_premises_synchronization_is_one_object_with_the_tenant_id_and_its_features() {
    let env = env().await;
    let tid = env.mock.tenant_id();
    let list = env.get("/directory/onPremisesSynchronization").await;
    assert_eq!(list.status, 200, "{}", list.text);
    let list = list.json();
    assert_eq!(
        list["value"][0]["id"],
        tid.to_string(),
        "the id is the tenant id, as Set-EntraDirSyncEnabled relies on"
    );
    let one = env.get(&format!("/directory/onPremisesSynchronization/{tid}")).await.json();
    assert_eq!(one["features"], list["value"][0]["features"]);
    insta::assert_json_snapshot!(env.normalize(one), {".id" => "[tenant id]"});
}

#[tokio::test]
async fn on_premises_synchronization_patch_merges_features_and_refuses_unknown_ones() {
    let env = env().await;
    let path = format!("/directory/onPremisesSynchronization/{}", env.mock.tenant_id());
    let r = env.patch(&path, &json!({"features": {"blockSoftMatchEnabled": true, "passwordSyncEnabled": true}})).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let features = env.get(&path).await.json()["features"].clone();
    assert_eq!(features["blockSoftMatchEnabled"], true);
    assert_eq!(features["softMatchOnUpnEnabled"], true, "other features keep their values");

    let r = env.patch(&path, &json!({"features": {"noSuchFeatureEnabled": true}})).await;
    assert_eq!((r.status, r.error_message().as_str()), (400, "Invalid property 'noSuchFeatureEnabled'."));
    let r = env.post("/directory/onPremisesSynchronization", &json!({})).await;
    assert_eq!(r.status, 405, "no create");
}

#[tokio::test]
async fn app_only_sync_configuration_updates_follow_the_tenant_setting() {
    let env = env().await;
    let path = format!("/directory/onPremisesSynchronization/{}", env.mock.tenant_id());
    let body = json!({"features": {"userWritebackEnabled": true}});
    assert_eq!(env.patch(&path, &body).await.status, 204, "allowed by default");

    let settings = format!("{}/tenants/{}/dirsync/settings", env.mock.control_url(), env.mock.tenant_id());
    let r = env.send(env.http.put(&settings).json(&json!({"appOnlySyncUpdate": false}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = env.patch(&path, &body).await;
    assert_eq!((r.status, r.error_code().as_str()), (403, "Authorization_RequestDenied"), "v1.0 docs: delegated only");
}
