//! What real tenants accept: every property of Microsoft's schema for the
//! served types is selectable (and writable where Graph lets clients write
//! it), and `$select` / `$expand` are honoured where Graph honours them.

use serde_json::{json, Value};

use crate::support::{env, Env};

const GLOBAL_ADMIN: &str = "62e90394-69f5-4237-9190-012177145e10";

async fn new_group(env: &Env, nick: &str) -> String {
    let body = json!({"displayName": nick, "mailEnabled": false, "mailNickname": nick, "securityEnabled": true});
    let r = env.post("/groups", &body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn properties_graph_has_but_the_mock_gives_no_behaviour_are_selectable_with_their_unset_answer() {
    let env = env().await;
    let id = env.create_user("ann", "Ann").await;
    let r =
        env.get(&format!("/users/{id}?$select=signInActivity,employeeOrgData,hireDate,deletedDateTime,skills")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let body = r.json();
    assert_eq!(body["signInActivity"], Value::Null);
    assert_eq!(body["employeeOrgData"], Value::Null);
    assert_eq!(body["deletedDateTime"], Value::Null);
    assert_eq!(body["skills"], json!([]));
    assert_eq!(body["hireDate"], "0001-01-01T00:00:00Z", "non-nullable: the minimum date");
    assert!(body["@odata.context"].as_str().unwrap().contains("(signInActivity,employeeOrgData,hireDate"));

    let list = env.get("/users?$select=id,signInActivity").await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert!(list.json()["value"].as_array().unwrap().iter().all(|u| u["signInActivity"].is_null()));

    for (path, prop) in [
        ("/groups", "isArchived"),
        ("/groups", "assignedLicenses"),
        ("/applications", "verifiedPublisher"),
        ("/applications", "samlMetadataUrl"),
        ("/servicePrincipals", "customSecurityAttributes"),
        ("/organization", "defaultUsageLocation"),
    ] {
        let r = env.get(&format!("{path}?$select=id,{prop}")).await;
        assert_eq!(r.status, 200, "{path} {prop}: {}", r.text);
        let first = &r.json()["value"][0];
        if first.is_object() {
            assert!(first.get(prop).is_some(), "{path} {prop}: {first}");
        }
    }
    let unknown = env.get("/users?$select=noSuchProperty").await;
    assert_eq!(unknown.status, 400);
    assert_eq!(
        unknown.error_message(),
        "Could not find a property named 'noSuchProperty' on type 'microsoft.graph.user'."
    );
}

#[tokio::test]
async fn a_writable_schema_property_is_stored_and_returned_and_a_service_maintained_one_refused() {
    let env = env().await;
    let id = env.create_user("bob", "Bob").await;
    let org = json!({"costCenter": "CC-7", "division": "Ops"});
    let r = env
        .patch(
            &format!("/users/{id}"),
            &json!({"employeeOrgData": org, "skills": ["rust"], "mySite": "https://x.example"}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let body = env.get(&format!("/users/{id}?$select=employeeOrgData,skills,mySite")).await.json();
    assert_eq!(body["employeeOrgData"], org);
    assert_eq!(body["skills"], json!(["rust"]));

    let refused = env.patch(&format!("/users/{id}"), &json!({"signInActivity": {}})).await;
    assert_eq!(refused.status, 400, "{}", refused.text);
    let wrong_type = env.patch(&format!("/users/{id}"), &json!({"deviceEnrollmentLimit": "five"})).await;
    assert_eq!(wrong_type.status, 400, "{}", wrong_type.text);
    assert!(wrong_type.error_message().contains("Edm.Int32"), "{}", wrong_type.error_message());

    let g = new_group(&env, "enumcheck").await;
    // `accessType` is Graph's to set; an application's enum-typed property is
    // checked against its members.
    assert_eq!(env.patch(&format!("/groups/{g}"), &json!({"accessType": "public"})).await.status, 400);
    let app = env.post("/applications", &json!({"displayName": "enum"})).await.json();
    let app = app["id"].as_str().unwrap();
    let bad = env.patch(&format!("/applications/{app}"), &json!({"nativeAuthenticationApisEnabled": "some"})).await;
    assert_eq!(bad.status, 400, "{}", bad.text);
    let good = env.patch(&format!("/applications/{app}"), &json!({"nativeAuthenticationApisEnabled": "all"})).await;
    assert_eq!(good.status, 204, "{}", good.text);
}

#[tokio::test]
async fn select_is_honoured_on_domains_and_subscribed_skus() {
    let env = env().await;
    let domains = env.get("/domains?$select=id,isVerified").await;
    assert_eq!(domains.status, 200, "{}", domains.text);
    let body = domains.json();
    assert!(body["@odata.context"].as_str().unwrap().ends_with("$metadata#domains(id,isVerified)"));
    let first = body["value"][0].as_object().unwrap();
    assert_eq!(first.keys().collect::<Vec<_>>(), ["id", "isVerified"]);
    let one = env.get(&format!("/domains/{}?$select=supportedServices", env.mock.tenant_domain())).await.json();
    assert_eq!(one.as_object().unwrap().len(), 2, "context and the one property: {one}");
    assert_eq!(env.get("/domains?$select=nope").await.status, 400);

    let skus = env.get("/subscribedSkus?$select=skuPartNumber").await;
    assert_eq!(skus.status, 200, "{}", skus.text);
    for sku in skus.json()["value"].as_array().unwrap() {
        assert_eq!(sku.as_object().unwrap().keys().collect::<Vec<_>>(), ["skuPartNumber"]);
    }
    assert_eq!(env.get("/subscribedSkus?$select=nope").await.status, 400);
}

#[tokio::test]
async fn expand_is_honoured_on_a_single_group_and_on_role_assignments() {
    let env = env().await;
    let g = new_group(&env, "expanded").await;
    let member = env.create_user("mem", "Mem").await;
    let add = json!({"@odata.id": format!("{}/directoryObjects/{member}", env.mock.graph_url())});
    assert_eq!(env.post(&format!("/groups/{g}/members/$ref"), &add).await.status, 204);
    let r = env.get(&format!("/groups/{g}?$expand=members($select=id,displayName)")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let members = r.json()["members"].as_array().cloned().unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0]["id"], member.as_str());
    assert!(members[0].get("userPrincipalName").is_none(), "the nested $select applies");
    assert_eq!(env.get(&format!("/groups/{g}?$expand=owners")).await.json()["owners"], json!([]));
    assert_eq!(env.get(&format!("/groups/{g}?$expand=manager")).await.status, 400);

    let filter = format!("/roleManagement/directory/roleAssignments?$filter=roleDefinitionId eq '{GLOBAL_ADMIN}'");
    let r = env.get(&format!("{filter}&$expand=principal")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let list = r.json()["value"].as_array().cloned().unwrap();
    assert!(!list.is_empty());
    assert!(list.iter().all(|a| a["principal"]["id"] == a["principalId"]), "{list:?}");
    let id = list[0]["id"].as_str().unwrap();
    let one = env.get(&format!("/roleManagement/directory/roleAssignments/{id}?$expand=roleDefinition")).await;
    assert_eq!(one.status, 200, "{}", one.text);
    assert_eq!(one.json()["roleDefinition"]["displayName"], "Global Administrator");
    let sel = env.get(&format!("/roleManagement/directory/roleAssignments/{id}?$select=principalId")).await.json();
    assert!(sel.get("roleDefinitionId").is_none(), "{sel}");
}
