//! Graph's route families under generated malformed input: one server per
//! family, the family's routes with junk in every part of the request.

use serde_json::{json, Value};

use super::gen::{self, route, Fixtures, Route};
use super::{Envelope, Request, Tally, Target, UNHEALTHY_AFTER};

/// Generated cases per Graph family.
pub(crate) const GRAPH_CASES: usize = 200;

/// A bad token that got another 4xx than 401: Graph checks the token before
/// it looks at the path, so 401 comes first.
pub(crate) const NOT_401: &str = "bad token not answered 401";

/// Microsoft Graph's appId and two of its application permissions.
const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
const USER_READ_ALL_ROLE: &str = "df021288-bdef-4463-88db-98f22de89214";
const GLOBAL_ADMIN_TEMPLATE: &str = "62e90394-69f5-4237-9190-012177145e10";
const USER_ADMIN_TEMPLATE: &str = "fe930be7-5e62-47db-91af-98c3a49a38b1";

async fn created(t: &Target, path: &str, body: Value) -> Value {
    let r = t.must(&Request::new("POST", path).bearer(&t.token).json(&body)).await;
    assert!((200..300).contains(&r.status), "fixture POST {path}: {} {}", r.status, r.text());
    r.json().expect("fixture answer is JSON")
}

async fn got(t: &Target, path: &str) -> Value {
    let r = t.must(&Request::new("GET", path).bearer(&t.token)).await;
    assert_eq!(r.status, 200, "fixture GET {path}: {}", r.text());
    r.json().expect("fixture answer is JSON")
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_owned()
}

/// One object of every kind the routes name, so most cases reach a handler
/// instead of stopping at 404.
pub(crate) async fn fixtures(t: &Target) -> Fixtures {
    let domain = t.mock.tenant_domain().to_owned();
    let user_body = |local: &str| crate::support::new_user(&format!("{local}@{domain}"), local);
    let user = created(t, "/v1.0/users", user_body("adv-user")).await;
    let user2 = created(t, "/v1.0/users", user_body("adv-user2")).await;
    let victim = created(t, "/v1.0/users", user_body("adv-victim")).await;
    let group_body =
        |name: &str| json!({"displayName": name, "mailEnabled": false, "mailNickname": name, "securityEnabled": true});
    let group = created(t, "/v1.0/groups", group_body("adv-group")).await;
    let victim_group = created(t, "/v1.0/groups", group_body("adv-victim-group")).await;
    let app = created(t, "/v1.0/applications", json!({"displayName": "adv-app"})).await;
    let app_id = app["appId"].as_str().expect("appId").to_owned();
    let sp = created(t, "/v1.0/servicePrincipals", json!({"appId": app_id})).await;
    let graph_sp = got(t, &format!("/v1.0/servicePrincipals(appId='{GRAPH_APP_ID}')")).await;
    let role = {
        let r = t
            .must(
                &Request::new("POST", "/v1.0/directoryRoles")
                    .bearer(&t.token)
                    .json(&json!({"roleTemplateId": GLOBAL_ADMIN_TEMPLATE})),
            )
            .await;
        match r.status {
            201 => r.json().expect("JSON"),
            _ => got(t, &format!("/v1.0/directoryRoles(roleTemplateId='{GLOBAL_ADMIN_TEMPLATE}')")).await,
        }
    };
    let skus = got(t, "/v1.0/subscribedSkus").await;
    let sku = &skus["value"][0];
    let fixture_domain = created(t, "/v1.0/domains", json!({"id": "adv-fixture.example"})).await;
    let grant = created(
        t,
        "/v1.0/oauth2PermissionGrants",
        json!({"clientId": id(&sp), "consentType": "AllPrincipals", "resourceId": id(&graph_sp), "scope": "User.Read"}),
    )
    .await;
    let assignment = created(
        t,
        &format!("/v1.0/servicePrincipals/{}/appRoleAssignments", id(&sp)),
        json!({"principalId": id(&sp), "resourceId": id(&graph_sp), "appRoleId": USER_READ_ALL_ROLE}),
    )
    .await;
    let unified = created(
        t,
        "/v1.0/roleManagement/directory/roleAssignments",
        json!({"principalId": id(&user2), "roleDefinitionId": USER_ADMIN_TEMPLATE, "directoryScopeId": "/"}),
    )
    .await;
    let deltatoken = delta_token(t, "/v1.0/users/delta?$select=displayName").await;
    let mut fx = Fixtures::new();
    fx.insert("user", id(&user));
    fx.insert("upn", user["userPrincipalName"].as_str().expect("upn").to_owned());
    fx.insert("user2", id(&user2));
    fx.insert("victim", id(&victim));
    fx.insert("group", id(&group));
    fx.insert("victim_group", id(&victim_group));
    fx.insert("app", id(&app));
    fx.insert("app_id", app_id);
    fx.insert("sp", id(&sp));
    fx.insert("graph_sp", id(&graph_sp));
    fx.insert("app_role", USER_READ_ALL_ROLE.to_owned());
    fx.insert("role", id(&role));
    fx.insert("role_template", GLOBAL_ADMIN_TEMPLATE.to_owned());
    fx.insert("sku", sku["id"].as_str().expect("sku id").to_owned());
    fx.insert("sku_id", sku["skuId"].as_str().expect("skuId").to_owned());
    fx.insert("domain", id(&fixture_domain));
    fx.insert("initial_domain", domain);
    fx.insert("grant", id(&grant));
    fx.insert("assignment", id(&assignment));
    fx.insert("unified", id(&unified));
    fx.insert("tid", t.mock.tenant_id().to_string());
    fx.insert("deltatoken", deltatoken);
    fx
}

/// Walk a delta round to its end and return the `$deltatoken` of its deltaLink.
async fn delta_token(t: &Target, first: &str) -> String {
    let mut path = first.to_owned();
    for _ in 0..100 {
        let page = got(t, &path).await;
        if let Some(link) = page["@odata.deltaLink"].as_str() {
            let token = link.split("$deltatoken=").nth(1).expect("a deltaLink carries $deltatoken");
            return token.split('&').next().unwrap_or_default().to_owned();
        }
        let next = page["@odata.nextLink"].as_str().expect("a delta page links on");
        path = next.strip_prefix(t.mock.authority()).expect("links are on the server").to_owned();
    }
    panic!("the delta round did not end")
}

/// Run `cases` generated requests over `routes` and judge each.
pub(crate) async fn run_routes(family: &'static str, routes: Vec<Route>, cases: usize) {
    let t = Target::start().await;
    let fx = fixtures(&t).await;
    let mut runner = gen::runner(family);
    let strategy = gen::recipe(routes.len());
    let mut tally = Tally::new(family);
    for _ in 0..gen::cases(cases) {
        let recipe = gen::sample(&mut runner, &strategy);
        let (req, refuse) = gen::render(&recipe, &routes, &fx, &t.token, &t.aad_token, &t.addr.to_string());
        let answer = t.judge(&mut tally, &req, refuse.as_deref()).await;
        if let Some(raw) = answer {
            let graph_path = super::envelope_for(&req.path()) == Envelope::Graph;
            // What the front end refuses (not HTTP, too large, too slow) is
            // answered before any token is looked at, as at Graph's gateway.
            let refused_at_intake = matches!(
                raw.json().as_ref().and_then(|v| v["error"]["code"].as_str().map(str::to_owned)).as_deref(),
                Some("RequestUriTooLong" | "RequestHeaderFieldsTooLarge" | "RequestEntityTooLarge" | "RequestTimeout")
            ) || (raw.status == 400
                && raw.header("connection").is_some_and(|c| c.eq_ignore_ascii_case("close")));
            if !recipe.auth.is_valid()
                && graph_path
                && !refused_at_intake
                && (400..500).contains(&raw.status)
                && raw.status != 401
                && !raw.body.is_empty()
            {
                tally.record(NOT_401, || format!("{} → {} {}", req.describe(), raw.status, super::clip(&raw.text())));
            }
        }
        if let Err(e) = t.healthy(&t.token).await {
            tally.record(UNHEALTHY_AFTER, || format!("{} → {e}", req.describe()));
        }
    }
    t.check_bystander(&mut tally).await;
    tally.finish();
}

fn new_user_template() -> Value {
    json!({
        "accountEnabled": true,
        "displayName": "Adversarial User",
        "mailNickname": "advnew",
        "userPrincipalName": "adv-new@{initial_domain}",
        "usageLocation": "SE",
        "businessPhones": ["+46 8 123 456"],
        "passwordProfile": {"forceChangePasswordNextSignIn": true, "password": "Vk3#pL9!wQz2"}
    })
}

fn reference(kind: &str, fixture: &str) -> Value {
    json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/{kind}/{{{fixture}}}")})
}

#[tokio::test]
async fn graph_users_answer_malformed_input_with_graphs_envelope() {
    let routes = vec![
        route("GET", "/v1.0/users", None),
        route("GET", "/v1.0/users/{user}", None),
        route("GET", "/v1.0/users/{upn}", None),
        route("GET", "/v1.0/users('{upn}')", None),
        route("POST", "/v1.0/users", Some(new_user_template())),
        route(
            "PATCH",
            "/v1.0/users/{user}",
            Some(json!({"displayName": "Renamed", "jobTitle": "Tester", "accountEnabled": true, "usageLocation": "NO",
                        "otherMails": ["a@example.com"], "passwordProfile": {"password": "Qw!9r-Tz7m#Lp2", "forceChangePasswordNextSignIn": false}})),
        ),
        route("DELETE", "/v1.0/users/{victim}", None),
        route("GET", "/v1.0/users/{user}/memberOf", None),
        route("GET", "/v1.0/users/{user}/manager", None),
        route("GET", "/v1.0/users/{user}/directReports", None),
        route("PUT", "/v1.0/users/{user}/manager/$ref", Some(reference("users", "user2"))),
        route("DELETE", "/v1.0/users/{user}/manager/$ref", None),
        route("GET", "/v1.0/users/$count", None),
        route("GET", "/v1.0/directory/deletedItems/microsoft.graph.user", None),
        route("POST", "/v1.0/directory/deletedItems/{victim}/restore", None),
    ];
    run_routes("users", routes, GRAPH_CASES).await;
}

#[tokio::test]
async fn graph_groups_answer_malformed_input_with_graphs_envelope() {
    let routes = vec![
        route("GET", "/v1.0/groups", None),
        route(
            "POST",
            "/v1.0/groups",
            Some(json!({"displayName": "Adversarial Group", "mailEnabled": false, "mailNickname": "advgroup",
                        "securityEnabled": true, "description": "made by a test", "groupTypes": []})),
        ),
        route("GET", "/v1.0/groups/{group}", None),
        route("PATCH", "/v1.0/groups/{group}", Some(json!({"displayName": "Renamed Group", "description": "d"}))),
        route("DELETE", "/v1.0/groups/{victim_group}", None),
        route("GET", "/v1.0/groups/{group}/members", None),
        route("GET", "/v1.0/groups/{group}/owners", None),
        route("POST", "/v1.0/groups/{group}/members/$ref", Some(reference("directoryObjects", "user"))),
        route("DELETE", "/v1.0/groups/{group}/members/{user}/$ref", None),
        route("POST", "/v1.0/groups/{group}/owners/$ref", Some(reference("users", "user2"))),
        route("GET", "/v1.0/groups/{group}/members/$count", None),
    ];
    run_routes("groups", routes, GRAPH_CASES).await;
}

#[tokio::test]
async fn graph_applications_answer_malformed_input_with_graphs_envelope() {
    let routes = vec![
        route("GET", "/v1.0/applications", None),
        route(
            "POST",
            "/v1.0/applications",
            Some(json!({"displayName": "Adversarial App", "signInAudience": "AzureADMyOrg",
                        "web": {"redirectUris": ["https://localhost/cb"]},
                        "requiredResourceAccess": [{"resourceAppId": GRAPH_APP_ID, "resourceAccess": [{"id": USER_READ_ALL_ROLE, "type": "Role"}]}]})),
        ),
        route("GET", "/v1.0/applications/{app}", None),
        route("GET", "/v1.0/applications(appId='{app_id}')", None),
        route(
            "PATCH",
            "/v1.0/applications/{app}",
            Some(json!({"displayName": "Renamed App", "tags": ["x"], "identifierUris": []})),
        ),
        route(
            "POST",
            "/v1.0/applications/{app}/addPassword",
            Some(
                json!({"passwordCredential": {"displayName": "adv", "startDateTime": "2026-01-01T00:00:00Z", "endDateTime": "2027-01-01T00:00:00Z"}}),
            ),
        ),
        route(
            "POST",
            "/v1.0/applications/{app}/removePassword",
            Some(json!({"keyId": "00000000-0000-0000-0000-000000000000"})),
        ),
        route(
            "POST",
            "/v1.0/applications/{app}/addKey",
            Some(
                json!({"keyCredential": {"type": "AsymmetricX509Cert", "usage": "Verify", "key": "AAAA"}, "passwordCredential": null, "proof": "x.y.z"}),
            ),
        ),
        route(
            "POST",
            "/v1.0/applications/{app}/removeKey",
            Some(json!({"keyId": "00000000-0000-0000-0000-000000000000", "proof": "x.y.z"})),
        ),
        route("GET", "/v1.0/applications/{app}/owners", None),
        route("DELETE", "/v1.0/applications/{app}", None),
    ];
    run_routes("applications", routes, GRAPH_CASES).await;
}

#[tokio::test]
async fn graph_service_principals_answer_malformed_input_with_graphs_envelope() {
    let routes = vec![
        route("GET", "/v1.0/servicePrincipals", None),
        route(
            "POST",
            "/v1.0/servicePrincipals",
            Some(json!({"appId": "{app_id}", "tags": ["WindowsAzureActiveDirectoryIntegratedApp"]})),
        ),
        route("GET", "/v1.0/servicePrincipals/{sp}", None),
        route("GET", "/v1.0/servicePrincipals(appId='{app_id}')", None),
        route(
            "PATCH",
            "/v1.0/servicePrincipals/{sp}",
            Some(json!({"appRoleAssignmentRequired": true, "tags": ["a"], "accountEnabled": true})),
        ),
        route("GET", "/v1.0/servicePrincipals/{graph_sp}", None),
        route("GET", "/v1.0/servicePrincipals/{sp}/owners", None),
        route("DELETE", "/v1.0/servicePrincipals/{sp}", None),
    ];
    run_routes("service principals", routes, GRAPH_CASES).await;
}

#[tokio::test]
async fn graph_consent_answers_malformed_input_with_graphs_envelope() {
    let routes = vec![
        route("GET", "/v1.0/servicePrincipals/{sp}/appRoleAssignments", None),
        route(
            "POST",
            "/v1.0/servicePrincipals/{sp}/appRoleAssignments",
            Some(json!({"principalId": "{sp}", "resourceId": "{graph_sp}", "appRoleId": "{app_role}"})),
        ),
        route("DELETE", "/v1.0/servicePrincipals/{sp}/appRoleAssignments/{assignment}", None),
        route("GET", "/v1.0/servicePrincipals/{graph_sp}/appRoleAssignedTo", None),
        route(
            "POST",
            "/v1.0/users/{user}/appRoleAssignments",
            Some(
                json!({"principalId": "{user}", "resourceId": "{sp}", "appRoleId": "00000000-0000-0000-0000-000000000000"}),
            ),
        ),
        route("GET", "/v1.0/users/{user}/appRoleAssignments", None),
        route("GET", "/v1.0/oauth2PermissionGrants", None),
        route(
            "POST",
            "/v1.0/oauth2PermissionGrants",
            Some(
                json!({"clientId": "{sp}", "consentType": "Principal", "principalId": "{user}", "resourceId": "{graph_sp}", "scope": "User.Read Mail.Read"}),
            ),
        ),
        route("GET", "/v1.0/oauth2PermissionGrants/{grant}", None),
        route("PATCH", "/v1.0/oauth2PermissionGrants/{grant}", Some(json!({"scope": "User.Read Group.Read.All"}))),
        route("DELETE", "/v1.0/oauth2PermissionGrants/{grant}", None),
        route("GET", "/v1.0/servicePrincipals/{sp}/oauth2PermissionGrants", None),
    ];
    run_routes("consent", routes, GRAPH_CASES).await;
}

#[tokio::test]
async fn graph_directory_roles_answer_malformed_input_with_graphs_envelope() {
    let routes = vec![
        route("GET", "/v1.0/directoryRoles", None),
        route("POST", "/v1.0/directoryRoles", Some(json!({"roleTemplateId": USER_ADMIN_TEMPLATE}))),
        route("GET", "/v1.0/directoryRoles/{role}", None),
        route("GET", "/v1.0/directoryRoles(roleTemplateId='{role_template}')", None),
        route("GET", "/v1.0/directoryRoles/{role}/members", None),
        route("POST", "/v1.0/directoryRoles/{role}/members/$ref", Some(reference("directoryObjects", "user"))),
        route("DELETE", "/v1.0/directoryRoles/{role}/members/{user}/$ref", None),
        route("GET", "/v1.0/directoryRoleTemplates", None),
        route("GET", "/v1.0/directoryRoleTemplates/{role_template}", None),
        route("GET", "/v1.0/roleManagement/directory/roleDefinitions", None),
        route("GET", "/v1.0/roleManagement/directory/roleDefinitions/{role_template}", None),
        route("GET", "/v1.0/roleManagement/directory/roleAssignments", None),
        route(
            "POST",
            "/v1.0/roleManagement/directory/roleAssignments",
            Some(json!({"principalId": "{user}", "roleDefinitionId": "{role_template}", "directoryScopeId": "/"})),
        ),
        route("GET", "/v1.0/roleManagement/directory/roleAssignments/{unified}", None),
        route("DELETE", "/v1.0/roleManagement/directory/roleAssignments/{unified}", None),
    ];
    run_routes("directory roles", routes, GRAPH_CASES).await;
}

#[tokio::test]
async fn graph_domains_answer_malformed_input_with_graphs_envelope() {
    let routes = vec![
        route("GET", "/v1.0/domains", None),
        route("POST", "/v1.0/domains", Some(json!({"id": "adv-new.example", "authenticationType": "Managed"}))),
        route("GET", "/v1.0/domains/{domain}", None),
        route("GET", "/v1.0/domains/{initial_domain}", None),
        route("POST", "/v1.0/domains/{domain}/verify", None),
        route("GET", "/v1.0/domains/{domain}/verificationDnsRecords", None),
        route("DELETE", "/v1.0/domains/{domain}", None),
    ];
    run_routes("domains", routes, GRAPH_CASES).await;
}

#[tokio::test]
async fn graph_organization_answers_malformed_input_with_graphs_envelope() {
    let routes = vec![
        route("GET", "/v1.0/organization", None),
        route("GET", "/v1.0/organization/{tid}", None),
        route(
            "PATCH",
            "/v1.0/organization/{tid}",
            Some(
                json!({"marketingNotificationEmails": ["m@example.com"], "technicalNotificationMails": ["t@example.com"],
                        "privacyProfile": {"contactEmail": "p@example.com", "statementUrl": "https://example.com/privacy"}}),
            ),
        ),
        route("PATCH", "/v1.0/organization/{tid}", Some(json!({"onPremisesSyncEnabled": true}))),
        route("GET", "/v1.0/directory/onPremisesSynchronization", None),
        route(
            "PATCH",
            "/v1.0/directory/onPremisesSynchronization/{tid}",
            Some(
                json!({"features": {"passwordSyncEnabled": true}, "configuration": {"accidentalDeletionPrevention": {"synchronizationPreventionType": "enabledForCount", "alertThreshold": 500}}}),
            ),
        ),
    ];
    run_routes("organization", routes, GRAPH_CASES).await;
}

#[tokio::test]
async fn graph_licences_answer_malformed_input_with_graphs_envelope() {
    let routes = vec![
        route("GET", "/v1.0/subscribedSkus", None),
        route("GET", "/v1.0/subscribedSkus/{sku}", None),
        route(
            "POST",
            "/v1.0/users/{user}/assignLicense",
            Some(json!({"addLicenses": [{"skuId": "{sku_id}", "disabledPlans": []}], "removeLicenses": []})),
        ),
        route(
            "POST",
            "/v1.0/users/{user}/assignLicense",
            Some(json!({"addLicenses": [], "removeLicenses": ["{sku_id}"]})),
        ),
        route("GET", "/v1.0/users/{user}/licenseDetails", None),
        route("PATCH", "/v1.0/users/{user}", Some(json!({"usageLocation": "SE"}))),
    ];
    run_routes("licences", routes, GRAPH_CASES).await;
}

#[tokio::test]
async fn graph_delta_answers_malformed_input_with_graphs_envelope() {
    let routes = vec![
        route("GET", "/v1.0/users/delta", None),
        route("GET", "/v1.0/users/delta()", None),
        route("GET", "/v1.0/users/delta?$deltatoken={deltatoken}", None),
        route("GET", "/v1.0/users/delta?$skiptoken={deltatoken}", None),
        route("GET", "/v1.0/groups/delta", None),
        route("GET", "/v1.0/groups/delta?$deltatoken={deltatoken}", None),
    ];
    run_routes("delta", routes, GRAPH_CASES).await;
}
