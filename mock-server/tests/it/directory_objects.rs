//! Directory roles, groups, domains, licences and user relations.

use serde_json::{json, Value};

use crate::support::{env, Env};

const GLOBAL_ADMIN: &str = "62e90394-69f5-4237-9190-012177145e10";
const USER_ADMIN: &str = "fe930be7-5e62-47db-91af-98c3a49a38b1";
const E3: &str = "6fd2c87f-b296-42f0-b197-1e91e994b900";

fn ref_to(env: &Env, id: &str) -> Value {
    json!({"@odata.id": format!("{}/directoryObjects/{id}", env.mock.graph_url())})
}

#[tokio::test]
async fn a_new_tenant_has_global_administrator_active_with_the_admin_and_bootstrap_app() {
    let env = env().await;
    let roles = env.get("/directoryRoles").await;
    assert_eq!(roles.status, 200, "{}", roles.text);
    let body = roles.json();
    assert!(body.get("@odata.nextLink").is_none(), "directoryRoles is not paged");
    let ga = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["roleTemplateId"] == GLOBAL_ADMIN)
        .expect("GA active")
        .clone();
    assert_eq!(ga["displayName"], "Global Administrator");
    let members = env.get(&format!("/directoryRoles/{}/members", ga["id"].as_str().unwrap())).await.json();
    let types: Vec<&str> =
        members["value"].as_array().unwrap().iter().map(|m| m["@odata.type"].as_str().unwrap()).collect();
    assert!(
        types.contains(&"#microsoft.graph.user") && types.contains(&"#microsoft.graph.servicePrincipal"),
        "{types:?}"
    );
    let by_template = env.get(&format!("/directoryRoles(roleTemplateId='{GLOBAL_ADMIN}')")).await;
    assert_eq!(by_template.json()["id"], ga["id"]);
}

#[tokio::test]
async fn role_assignment_activates_the_role_and_both_views_agree() {
    let env = env().await;
    let user = env.create_user("helpdesk", "Help Desk").await;
    let r = env
        .post("/roleManagement/directory/roleAssignments", &json!({"@odata.type": "#microsoft.graph.unifiedRoleAssignment", "principalId": user, "roleDefinitionId": USER_ADMIN, "directoryScopeId": "/"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    insta::assert_json_snapshot!(env.normalize(r.json()), { ".id" => "[opaque id]", ".principalId" => "[user]" });
    let role = env.get(&format!("/directoryRoles(roleTemplateId='{USER_ADMIN}')")).await;
    assert_eq!(role.status, 200, "the assignment activated User Administrator");
    let members = env.get(&format!("/directoryRoles/{}/members", role.json()["id"].as_str().unwrap())).await.json();
    assert_eq!(members["value"][0]["id"], user.as_str());
    let dup = env
        .post(
            "/roleManagement/directory/roleAssignments",
            &json!({"principalId": user, "roleDefinitionId": USER_ADMIN, "directoryScopeId": "/"}),
        )
        .await;
    assert_eq!(dup.status, 400);
    let filtered =
        env.get(&format!("/roleManagement/directory/roleAssignments?$filter=principalId eq '{user}'")).await.json();
    assert_eq!(filtered["value"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn directory_role_members_are_added_and_removed_by_ref() {
    let env = env().await;
    let user = env.create_user("member", "Role Member").await;
    let activated =
        env.post("/directoryRoles", &json!({"roleTemplateId": "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"})).await;
    assert_eq!(activated.status, 201, "{}", activated.text);
    let id = activated.json()["id"].as_str().unwrap().to_owned();
    let again = env.post("/directoryRoles", &json!({"roleTemplateId": "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"})).await;
    assert_eq!(again.status, 400);
    assert_eq!(env.post(&format!("/directoryRoles/{id}/members/$ref"), &ref_to(&env, &user)).await.status, 204);
    let dup = env.post(&format!("/directoryRoles/{id}/members/$ref"), &ref_to(&env, &user)).await;
    assert_eq!(dup.status, 400);
    assert_eq!(
        dup.error_message(),
        "One or more added object references already exist for the following modified properties: 'members'."
    );
    let member_of = env.get(&format!("/users/{user}/memberOf")).await.json();
    assert_eq!(member_of["value"][0]["@odata.type"], "#microsoft.graph.directoryRole");
    assert_eq!(env.delete(&format!("/directoryRoles/{id}/members/{user}/$ref")).await.status, 204);
    assert_eq!(env.get(&format!("/directoryRoles/{id}/members")).await.json()["value"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn wids_carry_the_directory_roles_of_the_signed_in_user() {
    let env = env().await;
    let user = env.create_user("wids", "Wids User").await;
    env.post(
        "/roleManagement/directory/roleAssignments",
        &json!({"principalId": user, "roleDefinitionId": USER_ADMIN, "directoryScopeId": "/"}),
    )
    .await;
    let r = env
        .send(env.http.post(env.mock.token_url()).form(&[
            ("grant_type", "password"),
            ("client_id", &env.mock.client_id().to_string()),
            ("username", &env.upn("wids")),
            ("password", "Vk3#pL9!wQz2"),
            ("scope", "https://graph.microsoft.com/User.ReadWrite.All"),
        ]))
        .await;
    let token = r.json()["access_token"].as_str().unwrap().to_owned();
    use base64::Engine;
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.split('.').nth(1).unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!(claims["wids"], json!([USER_ADMIN]));
    let created = env
        .send(
            env.http
                .post(env.url("/users"))
                .bearer_auth(&token)
                .json(&crate::support::new_user(&env.upn("byadmin"), "By User Admin")),
        )
        .await;
    assert_eq!(created.status, 201, "a User Administrator may create users");
}

#[tokio::test]
async fn role_templates_and_definitions_list_the_built_in_roles() {
    let env = env().await;
    let templates = env.get("/directoryRoleTemplates").await.json();
    assert!(templates["value"].as_array().unwrap().len() >= 17);
    let definition = env.get(&format!("/roleManagement/directory/roleDefinitions/{GLOBAL_ADMIN}")).await;
    assert_eq!(definition.status, 200);
    insta::assert_json_snapshot!(env.normalize(definition.json()));
}

#[tokio::test]
async fn groups_are_created_with_members_bound_and_refuse_duplicate_members() {
    let env = env().await;
    let a = env.create_user("ga", "Group A").await;
    let b = env.create_user("gb", "Group B").await;
    let r = env
        .post(
            "/groups",
            &json!({"displayName": "Engineers", "mailEnabled": false, "mailNickname": "engineers", "securityEnabled": true,
                    "members@odata.bind": [format!("{}/users/{a}", env.mock.graph_url())]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let group = r.json();
    insta::assert_json_snapshot!(env.normalize(group.clone()), { ".id" => "[id]", ".createdDateTime" => "[time]", ".renewedDateTime" => "[time]", ".securityIdentifier" => "[sid]" });
    let gid = group["id"].as_str().unwrap();
    assert_eq!(env.post(&format!("/groups/{gid}/members/$ref"), &ref_to(&env, &b)).await.status, 204);
    let dup = env.post(&format!("/groups/{gid}/members/$ref"), &ref_to(&env, &b)).await;
    assert_eq!(dup.status, 400);
    let members = env.get(&format!("/groups/{gid}/members")).await.json();
    assert_eq!(members["value"].as_array().unwrap().len(), 2);
    let member_of = env.get(&format!("/users/{a}/memberOf")).await.json();
    assert_eq!(member_of["value"][0]["@odata.type"], "#microsoft.graph.group");
    assert_eq!(env.delete(&format!("/groups/{gid}/members/{b}/$ref")).await.status, 204);
    let missing =
        env.post("/groups", &json!({"displayName": "x", "mailEnabled": false, "securityEnabled": true})).await;
    assert_eq!(missing.error_message(), "A value is required for property 'mailNickname' of resource 'Group'.");
    assert_eq!(env.delete(&format!("/groups/{gid}")).await.status, 204);
    assert_eq!(
        env.get("/directory/deletedItems/microsoft.graph.group").await.json()["value"].as_array().unwrap().len(),
        1
    );
}

#[tokio::test]
async fn manager_is_set_by_ref_and_seen_from_both_sides() {
    let env = env().await;
    let boss = env.create_user("boss", "The Boss").await;
    let report = env.create_user("report", "A Report").await;
    assert_eq!(env.get(&format!("/users/{report}/manager")).await.status, 404, "no manager yet");
    let put = env
        .send(
            env.http
                .put(env.url(&format!("/users/{report}/manager/$ref")))
                .bearer_auth(&env.token)
                .json(&json!({"@odata.id": format!("{}/users/{boss}", env.mock.graph_url())})),
        )
        .await;
    assert_eq!(put.status, 204, "{}", put.text);
    let manager = env.get(&format!("/users/{report}/manager")).await.json();
    assert_eq!(manager["id"], boss.as_str());
    assert_eq!(manager["@odata.type"], "#microsoft.graph.user");
    let reports = env.get(&format!("/users/{boss}/directReports")).await.json();
    assert_eq!(reports["value"][0]["id"], report.as_str());
    assert_eq!(env.delete(&format!("/users/{report}/manager/$ref")).await.status, 204);
    assert_eq!(env.get(&format!("/users/{report}/manager")).await.status, 404);
}

#[tokio::test]
async fn a_licence_is_refused_without_usage_location_then_granted_and_counted() {
    let env = env().await;
    let user = env.create_user("licensed", "Licensed").await;
    let body = json!({"addLicenses": [{"disabledPlans": [], "skuId": E3}], "removeLicenses": []});
    let refused = env.post(&format!("/users/{user}/assignLicense"), &body).await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.error_message(), "License assignment cannot be done for user with invalid usage location.");
    env.patch(&format!("/users/{user}"), &json!({"usageLocation": "AU"})).await;
    let granted = env.post(&format!("/users/{user}/assignLicense"), &body).await;
    assert_eq!(granted.status, 200, "{}", granted.text);
    let skus = env.get("/subscribedSkus").await.json();
    let e3 = skus["value"].as_array().unwrap().iter().find(|s| s["skuId"] == E3).unwrap().clone();
    assert_eq!(e3["consumedUnits"], 1);
    assert_eq!(e3["skuPartNumber"], "ENTERPRISEPACK");
    let details = env.get(&format!("/users/{user}/licenseDetails")).await.json();
    assert_eq!(details["value"][0]["skuPartNumber"], "ENTERPRISEPACK");
    let selected = env.get(&format!("/users/{user}?$select=assignedLicenses")).await.json();
    assert_eq!(selected["assignedLicenses"][0]["skuId"], E3);
    let removed =
        env.post(&format!("/users/{user}/assignLicense"), &json!({"addLicenses": [], "removeLicenses": [E3]})).await;
    assert_eq!(removed.status, 200);
    let filtered = env.get(&format!("/users?$filter=assignedLicenses/any(x:x/skuId eq {E3})")).await.json();
    assert_eq!(filtered["value"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn domains_start_with_the_initial_domain_and_new_ones_verify() {
    let env = env().await;
    let list = env.get("/domains").await.json();
    insta::assert_json_snapshot!(env.normalize(list));
    let created = env.post("/domains", &json!({"id": "contoso-lab.example"})).await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.json()["isVerified"], false);
    let upn_refused = env.post("/users", &crate::support::new_user("x@contoso-lab.example", "X")).await;
    assert_eq!(upn_refused.status, 400, "an unverified domain is not usable for UPNs");
    let records = env.get("/domains/contoso-lab.example/verificationDnsRecords").await.json();
    assert_eq!(records["value"][0]["recordType"], "Txt");
    let verified = env.post("/domains/contoso-lab.example/verify", &json!({})).await;
    assert_eq!(verified.json()["isVerified"], true);
    assert_eq!(env.post("/users", &crate::support::new_user("x@contoso-lab.example", "X")).await.status, 201);
    let discovery = env
        .send(
            env.http.get(format!("{}/contoso-lab.example/v2.0/.well-known/openid-configuration", env.mock.authority())),
        )
        .await;
    assert_eq!(discovery.status, 200, "a verified domain names the tenant at the identity platform too");
    let in_use = env.delete("/domains/contoso-lab.example").await;
    assert_eq!(in_use.status, 400);
    let initial = env.delete(&format!("/domains/{}", env.mock.tenant_domain())).await;
    assert_eq!(initial.status, 400);
}

#[tokio::test]
async fn expand_embeds_the_manager_and_memberships_one_level_deep() {
    let env = env().await;
    let boss = env.create_user("eboss", "Expand Boss").await;
    let report = env.create_user("ereport", "Expand Report").await;
    env.send(
        env.http
            .put(env.url(&format!("/users/{report}/manager/$ref")))
            .bearer_auth(&env.token)
            .json(&ref_to(&env, &boss)),
    )
    .await;
    let one = env.get(&format!("/users/{report}?$select=displayName&$expand=manager($select=id,displayName)")).await;
    assert_eq!(one.status, 200, "{}", one.text);
    let body = one.json();
    assert_eq!(body["manager"]["id"], boss.as_str());
    assert_eq!(body["manager"]["@odata.type"], "#microsoft.graph.user");
    assert!(body["manager"].get("userPrincipalName").is_none(), "the nested $select applies");
    let list = env.get(&format!("/users?$filter=id eq '{boss}'&$expand=directReports")).await.json();
    assert_eq!(list["value"][0]["directReports"][0]["id"], report.as_str());
    let no_manager = env.get(&format!("/users/{boss}?$expand=manager")).await.json();
    assert!(no_manager.get("manager").is_none(), "absent, not null, when there is none");
    let bad = env.get("/users?$expand=favouriteColour").await;
    assert_eq!(bad.status, 400);
    let not_nav = env.get("/users?$expand=displayName").await;
    assert_eq!(not_nav.status, 400);
}
