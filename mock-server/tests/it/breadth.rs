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

#[tokio::test]
async fn directory_objects_resolve_by_id_and_by_ids_with_types() {
    let env = env().await;
    let user = env.create_user("dob", "Dob").await;
    let group = new_group(&env, "dobs").await;
    let app =
        env.post("/applications", &json!({"displayName": "dobapp"})).await.json()["id"].as_str().unwrap().to_owned();

    let one = env.get(&format!("/directoryObjects/{user}")).await;
    assert_eq!(one.status, 200, "{}", one.text);
    assert_eq!(one.json()["@odata.type"], "#microsoft.graph.user");
    assert!(one.json()["@odata.context"].as_str().unwrap().ends_with("$metadata#directoryObjects/$entity"));
    let missing = env.get("/directoryObjects/00000000-0000-0000-0000-0000000000aa").await;
    assert_eq!((missing.status, missing.error_code().as_str()), (404, "Request_ResourceNotFound"));

    let ids = json!([user, group, app, "00000000-0000-0000-0000-0000000000bb"]);
    let all = env.post("/directoryObjects/getByIds", &json!({"ids": ids})).await;
    assert_eq!(all.status, 200, "{}", all.text);
    let types: Vec<String> =
        all.json()["value"].as_array().unwrap().iter().map(|o| o["@odata.type"].as_str().unwrap().to_owned()).collect();
    assert_eq!(types, ["#microsoft.graph.user", "#microsoft.graph.group", "#microsoft.graph.application"]);
    let groups_only = env.post("/directoryObjects/getByIds", &json!({"ids": ids, "types": ["group"]})).await.json();
    assert_eq!(groups_only["value"].as_array().unwrap().len(), 1);
    assert_eq!(groups_only["value"][0]["id"], group.as_str());
    assert_eq!(env.post("/directoryObjects/getByIds", &json!({})).await.status, 400, "ids is required");
    assert_eq!(env.post("/directoryObjects/getByIds", &json!({"ids": ids, "types": ["nonsense"]})).await.status, 400);
}

#[tokio::test]
async fn member_checks_and_transitive_lists_follow_nested_groups_on_every_principal_type() {
    let env = env().await;
    let user = env.create_user("nest", "Nest").await;
    let inner = new_group(&env, "inner").await;
    let outer = new_group(&env, "outer").await;
    let other = new_group(&env, "other").await;
    let add = |id: &str| json!({"@odata.id": format!("{}/directoryObjects/{id}", env.mock.graph_url())});
    assert_eq!(env.post(&format!("/groups/{inner}/members/$ref"), &add(&user)).await.status, 204);
    assert_eq!(env.post(&format!("/groups/{outer}/members/$ref"), &add(&inner)).await.status, 204);

    for base in ["/users", "/directoryObjects"] {
        let r = env.post(&format!("{base}/{user}/checkMemberGroups"), &json!({"groupIds": [outer, other]})).await;
        assert_eq!(r.status, 200, "{base}: {}", r.text);
        assert_eq!(r.json()["value"], json!([outer]), "{base}: membership through the nested group");
        assert!(r.json()["@odata.context"].as_str().unwrap().ends_with("$metadata#Collection(Edm.String)"));
    }
    let groups = env.post(&format!("/users/{user}/getMemberGroups"), &json!({"securityEnabledOnly": true})).await;
    assert_eq!(groups.status, 200, "{}", groups.text);
    let mut got: Vec<String> =
        groups.json()["value"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect();
    got.sort();
    let mut want = vec![inner.clone(), outer.clone()];
    want.sort();
    assert_eq!(got, want);
    let objects = env.post(&format!("/groups/{inner}/checkMemberObjects"), &json!({"ids": [outer, other]})).await;
    assert_eq!(objects.json()["value"], json!([outer]), "{}", objects.text);
    let of = env.get(&format!("/users/{user}/transitiveMemberOf")).await;
    assert_eq!(of.status, 200, "{}", of.text);
    assert_eq!(of.json()["value"].as_array().unwrap().len(), 2);
    let members = env.get(&format!("/groups/{outer}/transitiveMembers")).await.json();
    let member_ids: Vec<&str> =
        members["value"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(member_ids, [inner.as_str(), user.as_str()]);

    // The service principal's memberships (none here) and Graph's refusals.
    let sp = env.get("/servicePrincipals?$top=1").await.json()["value"][0]["id"].as_str().unwrap().to_owned();
    let r =
        env.post(&format!("/servicePrincipals/{sp}/getMemberObjects"), &json!({"securityEnabledOnly": false})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let too_many: Vec<String> = (0..21).map(|i| format!("00000000-0000-0000-0000-{i:012}")).collect();
    let r = env.post(&format!("/users/{user}/checkMemberGroups"), &json!({"groupIds": too_many})).await;
    assert_eq!(r.status, 400, "at most 20");
    let r = env.post(&format!("/users/{user}/getMemberGroups"), &json!({})).await;
    assert_eq!(r.status, 400, "securityEnabledOnly is required");
    assert_eq!(env.get(&format!("/users/{user}/checkMemberGroups")).await.status, 405);
    assert_eq!(env.get(&format!("/users/{user}/transitiveMembers")).await.status, 400, "a group's route only");
}

#[tokio::test]
async fn a_service_principal_secret_added_with_add_password_signs_in_and_is_removed_with_remove_password() {
    let env = env().await;
    let app = env.post("/applications", &json!({"displayName": "sp creds"})).await.json();
    let app_id = app["appId"].as_str().unwrap().to_owned();
    let sp = env.post("/servicePrincipals", &json!({"appId": app_id})).await;
    assert_eq!(sp.status, 201, "{}", sp.text);
    let sp = sp.json()["id"].as_str().unwrap().to_owned();

    let added = env
        .post(&format!("/servicePrincipals/{sp}/addPassword"), &json!({"passwordCredential": {"displayName": "ci"}}))
        .await;
    assert_eq!(added.status, 200, "{}", added.text);
    let added = added.json();
    assert!(added["@odata.context"].as_str().unwrap().ends_with("$metadata#microsoft.graph.passwordCredential"));
    let secret = added["secretText"].as_str().unwrap().to_owned();
    let key_id = added["keyId"].as_str().unwrap().to_owned();
    let listed = env.get(&format!("/servicePrincipals/{sp}?$select=passwordCredentials")).await.json();
    assert_eq!(listed["passwordCredentials"][0]["keyId"], key_id.as_str());
    assert!(listed["passwordCredentials"][0]["secretText"].is_null(), "the text is shown once");

    let token = |secret: String| {
        let (http, url, app_id) = (env.http.clone(), env.mock.token_url(), app_id.clone());
        async move {
            http.post(url)
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", app_id.as_str()),
                    ("client_secret", secret.as_str()),
                    ("scope", "https://graph.microsoft.com/.default"),
                ])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(token(secret.clone()).await, 200, "the service principal's secret signs in as the app");

    let removed = env.post(&format!("/servicePrincipals/{sp}/removePassword"), &json!({"keyId": key_id})).await;
    assert_eq!(removed.status, 204, "{}", removed.text);
    assert_eq!(token(secret).await, 401, "a removed secret no longer signs in");
    let again = env.post(&format!("/servicePrincipals/{sp}/removePassword"), &json!({"keyId": key_id})).await;
    assert_eq!(again.status, 400);
    let no_proof = env.post(&format!("/servicePrincipals/{sp}/addKey"), &json!({"keyCredential": {}})).await;
    assert_eq!(no_proof.status, 400, "{}", no_proof.text);
    assert_eq!(env.get(&format!("/servicePrincipals/{sp}/addPassword")).await.status, 405);
}

#[tokio::test]
async fn a_user_has_app_role_assignments_licence_details_by_id_and_domains_service_records() {
    let env = env().await;
    let user = env.create_user("lic", "Lic").await;
    let r = env.get(&format!("/users/{user}/appRoleAssignments")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["value"], json!([]));
    assert!(r.json()["@odata.context"].as_str().unwrap().contains(&format!("users('{user}')/appRoleAssignments")));

    let e3 = "6fd2c87f-b296-42f0-b197-1e91e994b900";
    let body = json!({"addLicenses": [{"disabledPlans": [], "skuId": e3}], "removeLicenses": []});
    assert_eq!(env.patch(&format!("/users/{user}"), &json!({"usageLocation": "US"})).await.status, 204);
    let granted = env.post(&format!("/users/{user}/assignLicense"), &body).await;
    assert_eq!(granted.status, 200, "{}", granted.text);
    let details = env.get(&format!("/users/{user}/licenseDetails")).await.json();
    let detail_id = details["value"][0]["id"].as_str().unwrap().to_owned();
    let one = env.get(&format!("/users/{user}/licenseDetails/{detail_id}")).await;
    assert_eq!(one.status, 200, "{}", one.text);
    assert_eq!(one.json()["skuId"], e3);
    assert_eq!(env.get(&format!("/users/{user}/licenseDetails/nope")).await.status, 404);

    let records = env.get(&format!("/domains/{}/serviceConfigurationRecords", env.mock.tenant_domain())).await;
    assert_eq!(records.status, 200, "{}", records.text);
    let records = records.json();
    let types: Vec<&str> =
        records["value"].as_array().unwrap().iter().map(|r| r["recordType"].as_str().unwrap()).collect();
    assert_eq!(types, ["Mx", "Txt", "CName"], "Exchange Online's MX, SPF and Autodiscover");
    assert_eq!(env.get("/domains/no.such.example/serviceConfigurationRecords").await.status, 404);
}

const AZURE_CLI: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

fn claims_of(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("a JWS");
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

async fn token(env: &Env, form: &[(&str, &str)]) -> (u16, Value) {
    let res = env.http.post(env.mock.token_url()).form(form).send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

#[tokio::test]
async fn azure_cli_signs_a_user_in_for_arm_then_graph_as_a_first_party_public_client() {
    let env = env().await;
    let (user, password) = (env.mock.admin_username().to_owned(), env.mock.admin_password().to_owned());
    let env = &env;
    let password_grant = |scope: &'static str| {
        let (user, password) = (user.clone(), password.clone());
        async move {
            let form = [
                ("grant_type", "password"),
                ("client_id", AZURE_CLI),
                ("username", user.as_str()),
                ("password", password.as_str()),
                ("scope", scope),
            ];
            token(env, &form).await
        }
    };
    // What `az login -u … -p …` asks for first, then Graph.
    let (status, arm) =
        password_grant("https://management.core.windows.net//.default offline_access openid profile").await;
    assert_eq!(status, 200, "{arm}");
    let claims = claims_of(arm["access_token"].as_str().unwrap());
    assert_eq!(claims["aud"], "https://management.core.windows.net/");
    assert_eq!(claims["appid"], AZURE_CLI);
    assert_eq!(claims["scp"], "user_impersonation");
    assert_eq!(claims["appidacr"], "0", "a public client");
    assert!(arm["refresh_token"].is_string());

    let refreshed = token(
        env,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", AZURE_CLI),
            ("refresh_token", arm["refresh_token"].as_str().unwrap()),
            ("scope", "https://graph.microsoft.com/.default"),
        ],
    )
    .await;
    assert_eq!(refreshed.0, 200, "{}", refreshed.1);
    let graph_token = refreshed.1["access_token"].as_str().unwrap().to_owned();
    let claims = claims_of(&graph_token);
    assert_eq!(claims["aud"], "https://graph.microsoft.com");
    assert!(claims["scp"].as_str().unwrap().split(' ').any(|s| s == "User.ReadWrite.All"), "{claims}");

    // The Graph token works: `az ad signed-in-user show` and a user list.
    let me = env.http.get(env.url("/users?$top=1")).bearer_auth(&graph_token).send().await.unwrap();
    assert_eq!(me.status(), 200);

    // A public client presents no secret, and cannot use client credentials.
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", AZURE_CLI),
        ("client_secret", "x"),
        ("scope", "https://graph.microsoft.com/.default"),
    ];
    let (status, body) = token(env, &form).await;
    assert_eq!((status, body["error_codes"][0].as_u64()), (401, Some(700025)), "{body}");
}

#[tokio::test]
async fn a_service_principal_gets_an_arm_token_and_a_default_port_names_the_same_resource() {
    let env = env().await;
    let (client_id, secret) = (env.mock.client_id().to_string(), env.mock.client_secret().to_owned());
    for (scope, aud) in [
        ("https://management.core.windows.net//.default", "https://management.core.windows.net/"),
        ("https://management.azure.com/.default", "https://management.core.windows.net/"),
        ("https://graph.microsoft.com:443/.default", "https://graph.microsoft.com"),
        ("https://outlook.office365.com/.default", "https://outlook.office365.com"),
    ] {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", client_id.as_str()),
            ("client_secret", secret.as_str()),
            ("scope", scope),
        ];
        let (status, body) = token(&env, &form).await;
        assert_eq!(status, 200, "{scope}: {body}");
        assert_eq!(claims_of(body["access_token"].as_str().unwrap())["aud"], aud, "{scope}");
    }
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", client_id.as_str()),
        ("client_secret", secret.as_str()),
        ("scope", "https://graph.microsoft.com:8443/.default"),
    ];
    let (status, body) = token(&env, &form).await;
    assert_eq!((status, body["error_codes"][0].as_u64()), (400, Some(500011)), "another port: {body}");
    // An ARM token is not a Graph token.
    let arm_form = [
        ("grant_type", "client_credentials"),
        ("client_id", client_id.as_str()),
        ("client_secret", secret.as_str()),
        ("scope", "https://management.azure.com/.default"),
    ];
    let arm = token(&env, &arm_form).await.1["access_token"].as_str().unwrap().to_owned();
    let r = env.http.get(env.url("/users")).bearer_auth(arm).send().await.unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn a_first_party_application_is_instantiated_by_post_service_principals() {
    let env = env().await;
    let r = env.post("/servicePrincipals", &json!({"appId": AZURE_CLI})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let sp = r.json();
    assert_eq!(sp["appDisplayName"], "Microsoft Azure CLI");
    assert_eq!(sp["appOwnerOrganizationId"], "f8cdef31-a31e-4b4a-93e4-5f571e91255a", "Microsoft's tenant owns it");
    assert_eq!(sp["servicePrincipalNames"], json!([AZURE_CLI]));
    let again = env.post("/servicePrincipals", &json!({"appId": AZURE_CLI})).await;
    assert_eq!(again.status, 400, "one per tenant");
    let nowhere = env.post("/servicePrincipals", &json!({"appId": "00000000-0000-0000-0000-00000000abcd"})).await;
    assert_eq!(nowhere.status, 400);
    assert!(nowhere.error_message().contains("does not reference a valid application object"));
}

#[tokio::test]
async fn the_two_arm_reads_az_login_makes_answer_no_subscriptions_and_the_tenant() {
    let env = env().await;
    let (client_id, secret) = (env.mock.client_id().to_string(), env.mock.client_secret().to_owned());
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", client_id.as_str()),
        ("client_secret", secret.as_str()),
        ("scope", "https://management.core.windows.net//.default"),
    ];
    let arm = token(&env, &form).await.1["access_token"].as_str().unwrap().to_owned();
    let base = env.mock.graph_url().trim_end_matches("/v1.0").to_owned();
    let get = |path: &str, bearer: Option<&str>| {
        let mut req = env.http.get(format!("{base}{path}"));
        if let Some(b) = bearer {
            req = req.bearer_auth(b);
        }
        async move {
            let res = req.send().await.unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }
    };
    let (status, subs) = get("/subscriptions?api-version=2022-12-01", Some(&arm)).await;
    assert_eq!(status, 200, "{subs}");
    assert_eq!(subs["value"], json!([]));
    let (status, tenants) = get("/tenants?api-version=2022-12-01", Some(&arm)).await;
    assert_eq!(status, 200, "{tenants}");
    assert_eq!(tenants["value"][0]["tenantId"], env.mock.tenant_id().to_string());
    assert_eq!(tenants["value"][0]["defaultDomain"], env.mock.tenant_domain());

    let (status, body) = get("/subscriptions?api-version=2022-12-01", None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (401, Some("AuthenticationFailed")));
    let graph = crate::support::token_for(&env.http, &env.mock.token_url(), &client_id, &secret).await;
    let (status, body) = get("/subscriptions?api-version=2022-12-01", Some(&graph)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (401, Some("InvalidAuthenticationToken")), "a Graph token");
    let (status, body) = get("/subscriptions", Some(&arm)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("MissingApiVersionParameter")));
}

#[tokio::test]
async fn me_is_the_signed_in_user_and_an_app_only_token_has_none() {
    let env = env().await;
    let (user, password) = (env.mock.admin_username().to_owned(), env.mock.admin_password().to_owned());
    let form = [
        ("grant_type", "password"),
        ("client_id", AZURE_CLI),
        ("username", user.as_str()),
        ("password", password.as_str()),
        ("scope", "https://graph.microsoft.com/.default"),
    ];
    let (status, body) = token(&env, &form).await;
    assert_eq!(status, 200, "{body}");
    let delegated = body["access_token"].as_str().unwrap().to_owned();
    let me = env.http.get(env.url("/me?$select=userPrincipalName")).bearer_auth(&delegated).send().await.unwrap();
    assert_eq!(me.status(), 200);
    assert_eq!(me.json::<Value>().await.unwrap()["userPrincipalName"], user.as_str());
    let app_only = env.get("/me").await;
    assert_eq!(app_only.status, 400);
    assert_eq!(app_only.error_message(), "/me request is only valid with delegated authentication flow.");
}

/// The error envelope with its per-request ids and date redacted.
fn redacted(r: &crate::support::Reply) -> Value {
    let mut body = r.json();
    for key in ["date", "request-id", "client-request-id"] {
        if body["error"]["innerError"].get(key).is_some() {
            body["error"]["innerError"][key] = json!(format!("[{key}]"));
        }
    }
    body
}

#[tokio::test]
async fn delete_directory_objects_deletes_users_groups_applications_and_service_principals_like_their_own_deletes() {
    let env = env().await;
    let user = env.create_user("gone", "Gone").await;
    let group = new_group(&env, "gonegroup").await;
    let app = env.post("/applications", &json!({"displayName": "goneapp"})).await.json();
    let other = env.post("/applications", &json!({"displayName": "goneapp2"})).await.json();
    let sp = env.post("/servicePrincipals", &json!({"appId": other["appId"]})).await.json();
    let cases = [
        (user.as_str(), "/users"),
        (group.as_str(), "/groups"),
        (app["id"].as_str().unwrap(), "/applications"),
        (sp["id"].as_str().unwrap(), "/servicePrincipals"),
    ];
    for (id, family) in cases {
        let r = env.delete(&format!("/directoryObjects/{id}")).await;
        assert_eq!(r.status, 204, "{family}: {}", r.text);
        assert!(r.text.is_empty());
        assert_eq!(env.get(&format!("{family}/{id}")).await.status, 404, "{family} gone");
        assert_eq!(env.get(&format!("/directoryObjects/{id}")).await.status, 404);
        // Soft-deleted, as the type's own delete leaves it: restorable.
        let deleted = env.get(&format!("/directory/deletedItems/{id}")).await;
        assert_eq!(deleted.status, 200, "{family} in deletedItems: {}", deleted.text);
        let again = env.delete(&format!("/directoryObjects/{id}")).await;
        assert_eq!(again.status, 404, "{}", again.text);
    }
    let restored = env.post(&format!("/directory/deletedItems/{user}/restore"), &json!({})).await;
    assert_eq!(restored.status, 200, "{}", restored.text);
}

#[tokio::test]
async fn delete_directory_objects_of_an_unknown_id_is_graphs_404() {
    let env = env().await;
    let r = env.delete("/directoryObjects/00000000-0000-0000-0000-0000000000aa").await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(r.error_code(), "Request_ResourceNotFound");
    insta::assert_json_snapshot!(redacted(&r));
    let r = env.delete("/directoryObjects/not-a-guid").await;
    assert_eq!(r.status, 404, "{}", r.text);
}

#[tokio::test]
async fn delete_directory_objects_needs_the_permission_of_the_objects_own_type() {
    let env = env().await;
    let user = env.create_user("kept", "Kept").await;
    let group = new_group(&env, "goesgroup").await;
    // An app holding Group.ReadWrite.All only.
    let app = crate::consent::new_app(&env, "groups-only").await;
    let r = crate::consent::grant(&env, &app, "62a82d76-70ea-41e2-9197-370581804d09").await;
    assert_eq!(r.status, 201, "{}", r.text);
    let token = crate::support::token_for(&env.http, &env.mock.token_url(), &app.app_id, &app.secret).await;
    let as_app = |id: &str| env.http.delete(env.url(&format!("/directoryObjects/{id}"))).bearer_auth(&token);
    let refused = env.send(as_app(&user)).await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    assert_eq!(refused.error_code(), "Authorization_RequestDenied");
    assert_eq!(env.get(&format!("/users/{user}")).await.status, 200, "nothing deleted");
    let allowed = env.send(as_app(&group)).await;
    assert_eq!(allowed.status, 204, "{}", allowed.text);

    // No delete permission at all: 403 whether or not the id exists.
    let bare = crate::consent::new_app(&env, "nothing").await;
    let token = crate::support::token_for(&env.http, &env.mock.token_url(), &bare.app_id, &bare.secret).await;
    for id in [user.as_str(), "00000000-0000-0000-0000-0000000000aa"] {
        let r = env.send(env.http.delete(env.url(&format!("/directoryObjects/{id}"))).bearer_auth(&token)).await;
        assert_eq!(r.status, 403, "{}", r.text);
    }
}

#[tokio::test]
async fn delete_directory_objects_keeps_the_sensitive_action_rule_for_administrators() {
    let env = env().await;
    // User.ReadWrite.All but no directory role: may not delete an administrator.
    let app = crate::consent::new_app(&env, "user-writer").await;
    let r = crate::consent::grant(&env, &app, "741f803b-c850-494e-b5df-cde7c675a1ca").await;
    assert_eq!(r.status, 201, "{}", r.text);
    let token = crate::support::token_for(&env.http, &env.mock.token_url(), &app.app_id, &app.secret).await;
    let admin =
        env.get(&format!("/users/{}", env.mock.admin_username())).await.json()["id"].as_str().unwrap().to_owned();
    let r = env.send(env.http.delete(env.url(&format!("/directoryObjects/{admin}"))).bearer_auth(&token)).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(env.get(&format!("/users/{admin}")).await.status, 200, "the Global Administrator is still there");
    let plain = env.create_user("plain", "Plain").await;
    let r = env.send(env.http.delete(env.url(&format!("/directoryObjects/{plain}"))).bearer_auth(&token)).await;
    assert_eq!(r.status, 204, "{}", r.text);
}

#[tokio::test]
async fn a_refresh_token_is_redeemed_at_organizations_in_the_tenant_that_issued_it_as_azure_cli_does() {
    let env = env().await;
    let organizations = format!("{}/organizations/oauth2/v2.0/token", env.mock.authority());
    let send = |form: Vec<(&'static str, String)>| {
        let url = organizations.clone();
        let http = env.http.clone();
        async move {
            let res = http.post(url).form(&form).send().await.unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = send(vec![
        ("grant_type", "password".into()),
        ("client_id", AZURE_CLI.into()),
        ("username", env.mock.admin_username().into()),
        ("password", env.mock.admin_password().into()),
        ("scope", "https://management.core.windows.net//.default offline_access".into()),
    ])
    .await;
    assert_eq!(status, 200, "{body}");
    let refresh = body["refresh_token"].as_str().expect("offline_access gives a refresh token").to_owned();
    let (status, body) = send(vec![
        ("grant_type", "refresh_token".into()),
        ("client_id", AZURE_CLI.into()),
        ("refresh_token", refresh),
        ("scope", "https://graph.microsoft.com/.default offline_access".into()),
    ])
    .await;
    assert_eq!(status, 200, "{body}");
    let claims = claims_of(body["access_token"].as_str().unwrap());
    assert_eq!(claims["tid"], env.mock.tenant_id().to_string());
    assert_eq!(claims["upn"], env.mock.admin_username());

    let (status, body) = send(vec![
        ("grant_type", "refresh_token".into()),
        ("client_id", AZURE_CLI.into()),
        ("refresh_token", "not-a-refresh-token".into()),
    ])
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(body["error_codes"], json!([9002313]));
}

/// `docs/schema-coverage.md` calls these "default only": nothing in the mock fills them. Held to
/// that on the wire after the writes that fill the most (licences, roles, manager, DirSync-free).
#[tokio::test]
async fn default_only_properties_answer_their_unset_default_after_the_usual_writes() {
    let env = env().await;
    let user = env.create_user("busy", "Busy").await;
    let patched = env.patch(&format!("/users/{user}"), &json!({"usageLocation": "US", "jobTitle": "x"})).await;
    assert_eq!(patched.status, 204, "{}", patched.text);
    let licensed = env
        .post(
            &format!("/users/{user}/assignLicense"),
            &json!({"addLicenses": [{"skuId": "6fd2c87f-b296-42f0-b197-1e91e994b900", "disabledPlans": []}], "removeLicenses": []}),
        )
        .await;
    assert_eq!(licensed.status, 200, "{}", licensed.text);
    let admin = env.get(&format!("/users/{}", env.mock.admin_username())).await.json();
    let manager = json!({"@odata.id": format!("{}/users/{}", env.mock.graph_url(), admin["id"].as_str().unwrap())});
    assert_eq!(
        env.send(env.http.put(env.url(&format!("/users/{user}/manager/$ref"))).bearer_auth(&env.token).json(&manager))
            .await
            .status,
        204
    );
    let group = new_group(&env, "busygroup").await;
    let member = json!({"@odata.id": format!("{}/directoryObjects/{user}", env.mock.graph_url())});
    assert_eq!(env.post(&format!("/groups/{group}/members/$ref"), &member).await.status, 204);
    let app = env.post("/applications", &json!({"displayName": "busyapp"})).await.json();
    let app_id = app["id"].as_str().unwrap();
    assert_eq!(env.post(&format!("/applications/{app_id}/addPassword"), &json!({})).await.status, 200);
    let sp = env.post("/servicePrincipals", &json!({"appId": app["appId"]})).await.json();
    let org = env.get("/organization").await.json()["value"][0]["id"].as_str().unwrap().to_owned();

    let paths = [
        ("microsoft.graph.user", format!("/users/{user}")),
        ("microsoft.graph.group", format!("/groups/{group}")),
        ("microsoft.graph.application", format!("/applications/{app_id}")),
        ("microsoft.graph.servicePrincipal", format!("/servicePrincipals/{}", sp["id"].as_str().unwrap())),
        ("microsoft.graph.organization", format!("/organization/{org}")),
    ];
    let coverage = graphbox_mock::__conformance::property_coverage();
    for (type_name, path) in paths {
        let props = &coverage.iter().find(|(t, _)| *t == type_name).expect("a stored type").1;
        let default_only: Vec<&str> = props.iter().filter(|(_, c)| *c == "default only").map(|(n, _)| *n).collect();
        assert!(!default_only.is_empty(), "{type_name}");
        let r = env.get(&format!("{path}?$select={}", default_only.join(","))).await;
        assert_eq!(r.status, 200, "{type_name}: {}", r.text);
        let body = r.json();
        for name in default_only {
            let v = &body[name];
            let unset = v.is_null()
                || *v == json!([])
                || *v == json!(false)
                || *v == json!(0)
                || *v == json!("0001-01-01T00:00:00Z");
            assert!(unset, "{type_name}.{name} is \"default only\" but answered {v}");
        }
    }
}
