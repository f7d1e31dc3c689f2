//! MSOnline's provisioning web service over raw SOAP,
//! against the same tenant Graph serves.

use serde_json::{json, Value};

use crate::dirsync::{advance, status};
use crate::support::{env, Env};

const MESSAGE_ID: &str = "urn:uuid:0d6c1f3a-5b7e-4c21-9a0e-3f4d2b1c7e90";

async fn aad_graph_token(env: &Env) -> String {
    let r = env
        .http
        .post(env.mock.token_url())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &env.mock.client_id().to_string()),
            ("client_secret", env.mock.client_secret()),
            ("scope", "https://graph.windows.net/.default"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
}

/// An envelope as the MSOnline module sends it (prefixes `env`, `wsa`, `ws`).
fn envelope(operation: &str, token: Option<&str>, members: &str) -> String {
    let identity = token
        .map(|t| {
            format!(
                r#"<UserIdentityHeader xmlns="http://provisioning.microsoftonline.com/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><BearerToken xmlns="http://schemas.datacontract.org/2004/07/Microsoft.Online.Administration.WebService">Bearer {t}</BearerToken><LiveToken xsi:nil="true" xmlns="http://schemas.datacontract.org/2004/07/Microsoft.Online.Administration.WebService"/></UserIdentityHeader>"#
            )
        })
        .unwrap_or_default();
    format!(
        r#"<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://www.w3.org/2005/08/addressing">
  <env:Header>
    <wsa:Action env:mustUnderstand="1">http://provisioning.microsoftonline.com/IProvisioningWebService/{operation}</wsa:Action>
    <wsa:MessageID>{MESSAGE_ID}</wsa:MessageID>
    <wsa:ReplyTo><wsa:Address>http://www.w3.org/2005/08/addressing/anonymous</wsa:Address></wsa:ReplyTo>
    <wsa:To env:mustUnderstand="1">https://provisioningapi.microsoftonline.com/provisioningwebservice.svc</wsa:To>
    {identity}
    <ClientVersionHeader xmlns="http://provisioning.microsoftonline.com/"><ClientId xmlns="http://schemas.datacontract.org/2004/07/Microsoft.Online.Administration.WebService">50afce61-c917-435b-8c6d-60aa5a8b8aa7</ClientId><Version xmlns="http://schemas.datacontract.org/2004/07/Microsoft.Online.Administration.WebService">1.2.183.81</Version></ClientVersionHeader>
    <ContractVersionHeader xmlns="http://becwebservice.microsoftonline.com/"><BecVersion xmlns="http://schemas.datacontract.org/2004/07/Microsoft.Online.Administration.WebService">Version47</BecVersion></ContractVersionHeader>
  </env:Header>
  <env:Body>
    <{operation} xmlns="http://provisioning.microsoftonline.com/">
      <request xmlns:ws="http://schemas.datacontract.org/2004/07/Microsoft.Online.Administration.WebService" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
        <ws:BecVersion>Version16</ws:BecVersion>
        {members}
      </request>
    </{operation}>
  </env:Body>
</env:Envelope>"#
    )
}

struct Soap {
    status: u16,
    content_type: String,
    text: String,
}

async fn call(env: &Env, body: String) -> Soap {
    let r = env
        .http
        .post(format!("{}/provisioningwebservice.svc", env.mock.authority()))
        .header("content-type", "application/soap+xml; charset=utf-8")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let content_type = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    Soap { status, content_type, text: r.text().await.unwrap() }
}

async fn get_company(env: &Env, token: &str) -> Soap {
    call(
        env,
        envelope(
            "GetCompanyInformation",
            Some(token),
            r#"<ws:TenantId xsi:nil="true"/><ws:VerifiedDomain xsi:nil="true"/>"#,
        ),
    )
    .await
}

async fn set_dirsync(env: &Env, token: &str, enable: bool) -> Soap {
    let members = format!(
        r#"<ws:TenantId xsi:nil="true"/><ws:VerifiedDomain xsi:nil="true"/><ws:EnableDirSync>{enable}</ws:EnableDirSync>"#
    );
    call(env, envelope("SetCompanyDirSyncEnabled", Some(token), &members)).await
}

/// The text of the first element named `local`, whatever its prefix.
fn member(xml: &str, local: &str) -> String {
    for (i, _) in xml.match_indices(local) {
        let Some(lt) = xml[..i].rfind('<') else { continue };
        let name = &xml[lt + 1..i];
        let opens = !name.starts_with('/') && (name.is_empty() || name.ends_with(':')) && !name.contains(' ');
        let ends_name = xml[i + local.len()..].starts_with(['>', ' ']);
        if opens && ends_name {
            let after = &xml[i..];
            let start = after.find('>').expect("tag closes") + 1;
            return after[start..].split('<').next().unwrap_or_default().to_owned();
        }
    }
    panic!("no {local} in {xml}")
}

fn normalize(env: &Env, xml: &str) -> String {
    let mut s =
        xml.replace(&env.mock.tenant_id().to_string(), "[tenant id]").replace(env.mock.tenant_domain(), "tenant.test");
    if let Some(i) = s.find("<OperationId>") {
        let end = s[i..].find("</OperationId>").map(|j| i + j).unwrap_or(i);
        s.replace_range(i + "<OperationId>".len()..end, "[operation id]");
    }
    // One element per line, so a snapshot reviews like the reference's examples.
    s.replace("><", ">\n<")
}

#[tokio::test]
async fn get_company_information_answers_members_in_data_contract_order() {
    let env = env().await;
    let token = aad_graph_token(&env).await;
    let r = get_company(&env, &token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.content_type, "application/soap+xml; charset=utf-8");
    assert!(r.text.contains(&format!("<a:RelatesTo>{MESSAGE_ID}</a:RelatesTo>")), "MessageID echoed");
    insta::assert_snapshot!(normalize(&env, &r.text));
}

#[tokio::test]
async fn msonline_and_graph_drive_one_dirsync_machine_through_every_state() {
    let mut env = env().await;
    let token = aad_graph_token(&env).await;
    let company = get_company(&env, &token).await.text;
    assert_eq!(member(&company, "DirectorySynchronizationStatus"), "Disabled");

    let r = set_dirsync(&env, &token, true).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("<SetCompanyDirSyncEnabledResult"), "{}", r.text);
    let company = get_company(&env, &token).await.text;
    assert_eq!(member(&company, "DirectorySynchronizationStatus"), "PendingEnabled");
    assert_eq!(member(&company, "DirectorySynchronizationEnabled"), "true");
    assert_eq!(env.get("/organization").await.json()["value"][0]["onPremisesSyncEnabled"], true, "Graph sees it");

    advance(&mut env, 10).await;
    let token = aad_graph_token(&env).await;
    assert_eq!(member(&get_company(&env, &token).await.text, "DirectorySynchronizationStatus"), "Enabled");

    // Graph switches it off; MSOnline sees the pending window.
    let r =
        env.patch(&format!("/organization/{}", env.mock.tenant_id()), &json!({"onPremisesSyncEnabled": false})).await;
    assert_eq!(r.status, 204);
    let company = get_company(&env, &token).await.text;
    assert_eq!(member(&company, "DirectorySynchronizationStatus"), "PendingDisabled");
    assert_eq!(member(&company, "DirectorySynchronizationEnabled"), "false");

    advance(&mut env, 72 * 3600).await;
    let token = aad_graph_token(&env).await;
    assert_eq!(member(&get_company(&env, &token).await.text, "DirectorySynchronizationStatus"), "Disabled");
    assert_eq!(status(&env).await["status"], "Disabled");
}

#[tokio::test]
async fn set_company_dir_sync_enabled_while_pending_disabled_faults_in_both_directions() {
    let mut env = env().await;
    let token = aad_graph_token(&env).await;
    assert_eq!(set_dirsync(&env, &token, true).await.status, 200);
    advance(&mut env, 60).await;
    let token = aad_graph_token(&env).await;
    assert_eq!(set_dirsync(&env, &token, false).await.status, 200);

    let on = set_dirsync(&env, &token, true).await;
    let off = set_dirsync(&env, &token, false).await;
    for r in [&on, &off] {
        assert_eq!(r.status, 500);
        assert!(r.text.contains(r#"n:type="ws:DirSyncStatusChangeNotAllowedException""#), "{}", r.text);
        assert_eq!(member(&r.text, "Text"), "You cannot turn off Active Directory synchronization.");
        assert!(r.text.contains("<Message>You cannot turn off Active Directory synchronization.</Message>"));
    }
    insta::assert_snapshot!(normalize(&env, &on.text));
}

#[tokio::test]
async fn requests_are_read_by_namespace_whatever_the_prefixes() {
    let env = env().await;
    let token = aad_graph_token(&env).await;
    let body = format!(
        r#"<soap12:Envelope xmlns:soap12="http://www.w3.org/2003/05/soap-envelope"><soap12:Header><x:Action xmlns:x="http://www.w3.org/2005/08/addressing">http://provisioning.microsoftonline.com/IProvisioningWebService/SetCompanyDirSyncEnabled</x:Action><p:UserIdentityHeader xmlns:p="http://provisioning.microsoftonline.com/"><d:BearerToken xmlns:d="http://schemas.datacontract.org/2004/07/Microsoft.Online.Administration.WebService">{token}</d:BearerToken></p:UserIdentityHeader></soap12:Header><soap12:Body><p:SetCompanyDirSyncEnabled xmlns:p="http://provisioning.microsoftonline.com/"><p:request xmlns:b="http://schemas.datacontract.org/2004/07/Microsoft.Online.Administration.WebService"><b:BecVersion>Version16</b:BecVersion><b:ReturnValue xmlns:i="http://www.w3.org/2001/XMLSchema-instance" i:nil="true"/><b:EnableDirSync>true</b:EnableDirSync></p:request></p:SetCompanyDirSyncEnabled></soap12:Body></soap12:Envelope>"#
    );
    let r = call(&env, body).await;
    assert_eq!(r.status, 200, "raw token, other prefixes, an unknown member: {}", r.text);
    assert_eq!(status(&env).await["status"], "PendingEnabled");
}

#[tokio::test]
async fn missing_graph_audience_expired_and_garbage_tokens_are_refused_with_invalid_header_faults() {
    let mut env = env().await;
    let graph_token = env.token.clone();
    let aad = aad_graph_token(&env).await;
    let missing = call(&env, envelope("GetCompanyInformation", None, "")).await;
    let wrong_audience = get_company(&env, &graph_token).await;
    let garbage = get_company(&env, "not-a-token").await;
    advance(&mut env, 2 * 3600).await;
    let expired = get_company(&env, &aad).await;
    for (what, r) in [("missing", missing), ("graph", wrong_audience), ("garbage", garbage), ("expired", expired)] {
        assert_eq!(r.status, 500, "{what}");
        assert!(r.text.contains(r#"n:type="ws:InvalidHeaderException""#), "{what}: {}", r.text);
        assert!(r.text.contains("GetCompanyInformationMsolAdministrationExceptionFault"), "{what}");
    }
    let r = env.get("/organization").await;
    assert_eq!(r.status, 200, "Graph's validation is unchanged");
    let r = env.send(env.http.get(env.url("/organization")).bearer_auth(aad_graph_token(&env).await)).await;
    assert_eq!(r.status, 401, "and Graph still refuses AAD Graph tokens");
}

#[tokio::test]
async fn another_tenants_id_is_access_denied() {
    let env = env().await;
    let token = aad_graph_token(&env).await;
    let other = env.mock.create_tenant();
    let members = format!(r#"<ws:TenantId>{}</ws:TenantId><ws:VerifiedDomain xsi:nil="true"/>"#, other.tenant_id);
    let r = call(&env, envelope("GetCompanyInformation", Some(&token), &members)).await;
    assert_eq!(r.status, 500);
    assert!(r.text.contains(r#"n:type="ws:AccessDeniedException""#), "{}", r.text);
    assert_eq!(member(&r.text, "Message"), "Access Denied. You do not have permissions to call this cmdlet.");
}

#[tokio::test]
async fn an_unknown_action_gets_wcfs_contract_filter_fault() {
    let env = env().await;
    let token = aad_graph_token(&env).await;
    let r = call(&env, envelope("RemoveUser", Some(&token), "")).await;
    assert_eq!(r.status, 500);
    assert!(r.text.contains("<s:Value>a:ActionNotSupported</s:Value>"), "{}", r.text);
    let r = call(&env, "<not soap".to_owned()).await;
    assert_eq!(r.status, 500);
}

// ---- The domain operations of a federation set-up ----

const FED_DOMAIN: &str = "msol-fed.example";

fn idp_certificate() -> String {
    use base64::Engine as _;
    let key = rcgen::KeyPair::generate().unwrap();
    let cert =
        rcgen::CertificateParams::new(vec!["idp.msol-fed.example".to_owned()]).unwrap().self_signed(&key).unwrap();
    base64::engine::general_purpose::STANDARD.encode(cert.der())
}

fn federated_members(domain: &str, certificate: &str) -> String {
    format!(
        r#"<ws:TenantId xsi:nil="true"/><ws:VerifiedDomain xsi:nil="true"/><ws:Authentication>Federated</ws:Authentication><ws:DomainName>{domain}</ws:DomainName><ws:FederationSettings xmlns:c="http://schemas.datacontract.org/2004/07/Microsoft.Online.Administration"><c:ActiveLogOnUri>https://idp.msol-fed.example/trust/2005/usernamemixed</c:ActiveLogOnUri><c:FederationBrandName>Msol IdP</c:FederationBrandName><c:IssuerUri>https://idp.msol-fed.example/issuer</c:IssuerUri><c:LogOffUri>https://idp.msol-fed.example/signout</c:LogOffUri><c:MetadataExchangeUri>https://idp.msol-fed.example/trust/mex</c:MetadataExchangeUri><c:PassiveLogOnUri>https://idp.msol-fed.example/passive</c:PassiveLogOnUri><c:PreferredAuthenticationProtocol>WsFed</c:PreferredAuthenticationProtocol><c:SigningCertificate>{certificate}</c:SigningCertificate><c:SupportsMfa>false</c:SupportsMfa></ws:FederationSettings>"#
    )
}

fn domain_members(domain: &str) -> String {
    format!(
        r#"<ws:TenantId xsi:nil="true"/><ws:VerifiedDomain xsi:nil="true"/><ws:DomainName>{domain}</ws:DomainName>"#
    )
}

#[tokio::test]
async fn msol_connect_answers_a_bec_context_header_with_an_opaque_data_blob() {
    let env = env().await;
    let token = aad_graph_token(&env).await;
    let r = call(&env, envelope("MsolConnect", Some(&token), "")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("<BecContext xmlns=\"http://becwebservice.microsoftonline.com/\">"), "{}", r.text);
    assert!(r.text.contains("IProvisioningWebService/MsolConnectResponse"), "{}", r.text);
    assert_eq!(member(&r.text, "DataBlob").len(), 48, "{}", r.text);
}

#[tokio::test]
async fn set_domain_authentication_federates_a_domain_that_graph_then_shows_federated_and_back() {
    let env = env().await;
    let token = aad_graph_token(&env).await;
    assert_eq!(env.post("/domains", &json!({"id": FED_DOMAIN})).await.status, 201);
    assert_eq!(env.post(&format!("/domains/{FED_DOMAIN}/verify"), &json!({})).await.status, 200);

    let r = call(
        &env,
        envelope("SetDomainAuthentication", Some(&token), &federated_members(FED_DOMAIN, &idp_certificate())),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("<SetDomainAuthenticationResult"), "{}", r.text);
    assert_eq!(env.get(&format!("/domains/{FED_DOMAIN}")).await.json()["authenticationType"], "Federated");
    let graph = env.get(&format!("/domains/{FED_DOMAIN}/federationConfiguration")).await.json();
    assert_eq!(graph["value"][0]["passiveSignInUri"], "https://idp.msol-fed.example/passive");
    assert_eq!(graph["value"][0]["displayName"], "Msol IdP");

    let got = call(&env, envelope("GetDomain", Some(&token), &domain_members(FED_DOMAIN))).await;
    assert_eq!(got.status, 200, "{}", got.text);
    insta::assert_snapshot!("msol_get_domain_federated", normalize(&env, &got.text));
    let settings = call(&env, envelope("GetDomainFederationSettings", Some(&token), &domain_members(FED_DOMAIN))).await;
    assert_eq!(settings.status, 200, "{}", settings.text);
    let mut text = normalize(&env, &settings.text);
    let start = text.find("<co:SigningCertificate>").unwrap() + "<co:SigningCertificate>".len();
    let end = text[start..].find('<').unwrap() + start;
    text.replace_range(start..end, "[certificate]");
    insta::assert_snapshot!("msol_get_domain_federation_settings", text);

    let managed = format!(
        r#"<ws:TenantId xsi:nil="true"/><ws:VerifiedDomain xsi:nil="true"/><ws:Authentication>Managed</ws:Authentication><ws:DomainName>{FED_DOMAIN}</ws:DomainName><ws:FederationSettings xsi:nil="true"/>"#
    );
    let r = call(&env, envelope("SetDomainAuthentication", Some(&token), &managed)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(env.get(&format!("/domains/{FED_DOMAIN}")).await.json()["authenticationType"], "Managed");
    let listed = call(&env, envelope("ListDomains", Some(&token), r#"<ws:TenantId xsi:nil="true"/>"#)).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert!(!listed.text.contains("Federated"), "{}", listed.text);
    assert!(listed.text.contains(&format!("<co:Name>{FED_DOMAIN}</co:Name>")), "{}", listed.text);
}

#[tokio::test]
async fn set_domain_authentication_faults_for_an_unknown_or_unverified_domain() {
    let env = env().await;
    let token = aad_graph_token(&env).await;
    let r = call(
        &env,
        envelope("SetDomainAuthentication", Some(&token), &federated_members("nowhere.example", &idp_certificate())),
    )
    .await;
    assert_eq!(r.status, 500, "{}", r.text);
    assert!(r.text.contains("n:type=\"ws:DomainNotFoundException\""), "{}", r.text);

    assert_eq!(env.post("/domains", &json!({"id": "unverified.example"})).await.status, 201);
    let r = call(
        &env,
        envelope("SetDomainAuthentication", Some(&token), &federated_members("unverified.example", &idp_certificate())),
    )
    .await;
    assert_eq!(r.status, 500, "{}", r.text);
    assert!(r.text.contains("n:type=\"ws:InvalidParameterException\""), "{}", r.text);
    assert!(member(&r.text, "Message").contains("not verified"), "{}", r.text);

    let r = call(&env, envelope("GetDomainFederationSettings", Some(&token), &domain_members("nowhere.example"))).await;
    assert!(r.text.contains("n:type=\"ws:DomainNotFoundException\""), "{}", r.text);
}

/// `SetUser`'s `User` as `Set-MsolUser -UserPrincipalName … -ImmutableId …`
/// sends it: every member, nil unless given, the contract's namespace.
fn set_user_members(object_id: Option<&str>, upn: Option<&str>, immutable_id: Option<&str>) -> String {
    let member = |name: &str, v: Option<&str>| match v {
        Some(v) => format!("<c:{name}>{v}</c:{name}>"),
        None => format!(r#"<c:{name} xsi:nil="true"/>"#),
    };
    format!(
        r#"<ws:TenantId xsi:nil="true"/><ws:User xmlns:c="http://schemas.datacontract.org/2004/07/Microsoft.Online.Administration"><c:BlockCredential xsi:nil="true"/><c:DisplayName xsi:nil="true"/>{}<c:LastName xsi:nil="true"/>{}{}</ws:User>"#,
        member("ImmutableId", immutable_id),
        member("ObjectId", object_id),
        member("UserPrincipalName", upn)
    )
}

async fn immutable_id_in_graph(env: &Env, id: &str) -> Value {
    env.get(&format!("/users/{id}?$select=onPremisesImmutableId")).await.json()["onPremisesImmutableId"].clone()
}

#[tokio::test]
async fn get_user_answers_the_user_members_in_data_contract_order_as_graph_has_them() {
    let env = env().await;
    let token = aad_graph_token(&env).await;
    let mut body = crate::support::new_user(&env.upn("ada"), "Ada Lovelace");
    body["givenName"] = json!("Ada");
    body["usageLocation"] = json!("GB");
    body["onPremisesImmutableId"] = json!("QWRhLTAwMQ==");
    let r = env.post("/users", &body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json()["id"].as_str().unwrap().to_owned();

    let by_id = call(
        &env,
        envelope(
            "GetUser",
            Some(&token),
            &format!("<ws:ObjectId>{id}</ws:ObjectId><ws:ReturnDeletedUsers>false</ws:ReturnDeletedUsers>"),
        ),
    )
    .await;
    assert_eq!(by_id.status, 200, "{}", by_id.text);
    let by_upn = call(
        &env,
        envelope(
            "GetUserByUpn",
            Some(&token),
            &format!(
                "<ws:UserPrincipalName>{}</ws:UserPrincipalName><ws:ReturnDeletedUsers>false</ws:ReturnDeletedUsers>",
                env.upn("ada")
            ),
        ),
    )
    .await;
    assert_eq!(by_upn.status, 200, "{}", by_upn.text);
    assert_eq!(member(&by_id.text, "ObjectId"), id);
    assert_eq!(member(&by_upn.text, "ImmutableId"), "QWRhLTAwMQ==");
    let text = normalize(&env, &by_id.text).replace(&id, "[user id]");
    insta::assert_snapshot!("msol_get_user", text);
}

#[tokio::test]
async fn set_user_writes_the_immutable_id_that_graph_then_shows_and_graph_writes_show_in_msonline() {
    let env = env().await;
    let token = aad_graph_token(&env).await;
    let id = env.create_user("ada", "Ada").await;

    let r = call(
        &env,
        envelope("SetUser", Some(&token), &set_user_members(None, Some(&env.upn("ada")), Some("QWRhLTAwMQ=="))),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("<SetUserResult"), "{}", r.text);
    assert_eq!(immutable_id_in_graph(&env, &id).await, "QWRhLTAwMQ==");

    assert_eq!(env.patch(&format!("/users/{id}"), &json!({"onPremisesImmutableId": "QWRhLTAwMg=="})).await.status, 204);
    let got = call(&env, envelope("GetUser", Some(&token), &format!("<ws:ObjectId>{id}</ws:ObjectId>"))).await;
    assert_eq!(member(&got.text, "ImmutableId"), "QWRhLTAwMg==");

    // Nil leaves it; an empty value clears it (a cloud user of a managed domain).
    let r = call(&env, envelope("SetUser", Some(&token), &set_user_members(Some(&id), None, None))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(immutable_id_in_graph(&env, &id).await, "QWRhLTAwMg==");
    let r = call(&env, envelope("SetUser", Some(&token), &set_user_members(Some(&id), None, Some("")))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(immutable_id_in_graph(&env, &id).await, Value::Null);
}

#[tokio::test]
async fn set_user_faults_for_a_synced_user_an_unknown_user_a_bad_value_and_another_tenant() {
    let mut env = env().await;
    crate::dirsync::enable(&mut env).await;
    let token = aad_graph_token(&env).await;
    let synced = json!({
        "onPremisesImmutableId": "U3luY2VkLTAwMQ==",
        "userPrincipalName": env.upn("synced"),
        "displayName": "Synced",
        "mailNickname": "synced",
        "onPremisesSamAccountName": "synced",
    });
    let r = crate::dirsync::cycle(&env, json!([synced])).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let synced_id = r.json()["users"][0]["id"].as_str().unwrap().to_owned();
    let cloud = env.create_user("cloud", "Cloud").await;

    let mut faults = Vec::new();
    let mut fault = |case: &str, soap: &Soap| {
        assert_eq!(soap.status, 500, "{case}: {}", soap.text);
        faults.push(format!("== {case}\n{}", normalize(&env, &soap.text)));
    };
    let r =
        call(&env, envelope("SetUser", Some(&token), &set_user_members(Some(&synced_id), None, Some("T3RoZXItMDAx"))))
            .await;
    fault("DirSync-synced user", &r);
    assert_eq!(immutable_id_in_graph(&env, &synced_id).await, "U3luY2VkLTAwMQ==");
    let r = call(
        &env,
        envelope("SetUser", Some(&token), &set_user_members(None, Some(&env.upn("nobody")), Some("Tm9ib2R5"))),
    )
    .await;
    fault("unknown user", &r);
    let r =
        call(&env, envelope("SetUser", Some(&token), &set_user_members(Some(&cloud), None, Some("bad_value$")))).await;
    fault("malformed immutable id", &r);
    let other = format!(
        r#"<ws:TenantId>{}</ws:TenantId><ws:ObjectId>{cloud}</ws:ObjectId>"#,
        "00000000-0000-0000-0000-0000000000aa"
    );
    let r = call(&env, envelope("GetUser", Some(&token), &other)).await;
    fault("another tenant", &r);
    let r = call(
        &env,
        envelope("GetUser", Some(&token), "<ws:ObjectId>5b1f3c1e-0000-4000-8000-000000000001</ws:ObjectId>"),
    )
    .await;
    fault("unknown object id", &r);
    insta::assert_snapshot!("msol_set_user_faults", faults.join("\n"));
}

#[tokio::test]
async fn set_user_cannot_clear_a_federated_users_immutable_id_as_graph_cannot() {
    let env = env().await;
    let token = aad_graph_token(&env).await;
    assert_eq!(env.post("/domains", &json!({"id": FED_DOMAIN})).await.status, 201);
    assert_eq!(env.post(&format!("/domains/{FED_DOMAIN}/verify"), &json!({})).await.status, 200);
    let r = call(
        &env,
        envelope("SetDomainAuthentication", Some(&token), &federated_members(FED_DOMAIN, &idp_certificate())),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut body = crate::support::new_user(&format!("ada@{FED_DOMAIN}"), "Ada");
    body["onPremisesImmutableId"] = json!("QWRhLTAwMQ==");
    let r = env.post("/users", &body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json()["id"].as_str().unwrap().to_owned();

    let r = call(&env, envelope("SetUser", Some(&token), &set_user_members(Some(&id), None, Some("")))).await;
    assert_eq!(r.status, 500, "{}", r.text);
    assert!(r.text.contains("n:type=\"ws:InvalidParameterException\""), "{}", r.text);
    assert!(member(&r.text, "Message").starts_with("SourceAnchor is a required property"), "{}", r.text);
    assert_eq!(immutable_id_in_graph(&env, &id).await, "QWRhLTAwMQ==");
    // A new value is the vendor's to set.
    let r =
        call(&env, envelope("SetUser", Some(&token), &set_user_members(Some(&id), None, Some("QWRhLTAwMg==")))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(immutable_id_in_graph(&env, &id).await, "QWRhLTAwMg==");
}
