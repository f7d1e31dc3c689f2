//! MSOnline's provisioning web service over the same tenant (msol-soap.md). Microsoft retired
//! it for real tenants, so these run on the mock only (msol-soap.md §1 "Live status").

use reqwest::Method;

use crate::context::{Ctx, RawResponse};
use crate::scenario;
use crate::scenario::{ensure, eq, Failure, Need, Scenario};

const MESSAGE_ID: &str = "urn:uuid:0d6c1f3a-5b7e-4c21-9a0e-3f4d2b1c7e90";

pub(crate) const SCENARIOS: &[Scenario] = &[
    scenario!(
        "msonline::get_company_information_is_a_soap_12_answer",
        "msol-soap.md §1 / §5: SOAP 1.2 over POST /provisioningwebservice.svc; success is HTTP 200 with a SOAP body relating to the request's MessageID",
        [Need::Mock],
        company
    ),
    scenario!(
        "msonline::a_new_tenant_is_not_synchronising",
        "msol-soap.md §5 / dirsync.md §1: CompanyInformation carries DirectorySynchronizationStatus; a tenant that never synced is Disabled",
        [Need::Mock],
        disabled
    ),
    scenario!(
        "msonline::enabling_dir_sync_shows_in_graph",
        "msol-soap.md §6 / dirsync.md §1: SetCompanyDirSyncEnabled true → 200; Graph's organization then reports onPremisesSyncEnabled true (one state machine)",
        [Need::Mock],
        enable
    ),
    scenario!(
        "msonline::a_request_without_a_token_is_a_fault",
        "msol-soap.md §1: authentication is inside the envelope (UserIdentityHeader); faults are HTTP 500 with a SOAP 1.2 fault body",
        [Need::Mock],
        no_token
    ),
    scenario!(
        "msonline::an_unknown_action_is_a_contract_filter_fault",
        "msol-soap.md §1: the operation is named in the Action header; faults are HTTP 500 with a SOAP 1.2 fault body",
        [Need::Mock],
        unknown_action
    ),
];

async fn aad_graph_token(cx: &Ctx) -> Result<String, Failure> {
    let session = cx.session();
    let crate::target::TenantCredential::Secret(secret) = &session.credential else {
        return Err(Failure::skip("MSOnline scenarios use the mock's client secret"));
    };
    let r = cx
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", &session.client_id),
            ("client_secret", secret),
            ("scope", "https://graph.windows.net/.default"),
        ])
        .await?;
    r.json["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| Failure::new(format!("AAD Graph token: {}", r.text)))
}

fn envelope(operation: &str, token: Option<&str>, members: &str) -> String {
    let identity = token
        .map(|t| {
            format!(
                r#"<UserIdentityHeader xmlns="http://provisioning.microsoftonline.com/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><BearerToken xmlns="http://schemas.datacontract.org/2004/07/Microsoft.Online.Administration.WebService">Bearer {t}</BearerToken><LiveToken xsi:nil="true" xmlns="http://schemas.datacontract.org/2004/07/Microsoft.Online.Administration.WebService"/></UserIdentityHeader>"#
            )
        })
        .unwrap_or_default();
    format!(
        r#"<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://www.w3.org/2005/08/addressing"><env:Header><wsa:Action env:mustUnderstand="1">http://provisioning.microsoftonline.com/IProvisioningWebService/{operation}</wsa:Action><wsa:MessageID>{MESSAGE_ID}</wsa:MessageID><wsa:ReplyTo><wsa:Address>http://www.w3.org/2005/08/addressing/anonymous</wsa:Address></wsa:ReplyTo><wsa:To env:mustUnderstand="1">https://provisioningapi.microsoftonline.com/provisioningwebservice.svc</wsa:To>{identity}<ClientVersionHeader xmlns="http://provisioning.microsoftonline.com/"><ClientId xmlns="http://schemas.datacontract.org/2004/07/Microsoft.Online.Administration.WebService">50afce61-c917-435b-8c6d-60aa5a8b8aa7</ClientId><Version xmlns="http://schemas.datacontract.org/2004/07/Microsoft.Online.Administration.WebService">1.2.183.81</Version></ClientVersionHeader><ContractVersionHeader xmlns="http://becwebservice.microsoftonline.com/"><BecVersion xmlns="http://schemas.datacontract.org/2004/07/Microsoft.Online.Administration.WebService">Version47</BecVersion></ContractVersionHeader></env:Header><env:Body><{operation} xmlns="http://provisioning.microsoftonline.com/"><request xmlns:ws="http://schemas.datacontract.org/2004/07/Microsoft.Online.Administration.WebService" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><ws:BecVersion>Version16</ws:BecVersion><ws:TenantId xsi:nil="true"/><ws:VerifiedDomain xsi:nil="true"/>{members}</request></{operation}></env:Body></env:Envelope>"#
    )
}

async fn soap(cx: &Ctx, body: String) -> Result<RawResponse, Failure> {
    cx.send(
        cx.identity_request(Method::POST, "/provisioningwebservice.svc")
            .header("content-type", "application/soap+xml; charset=utf-8")
            .body(body),
    )
    .await
}

/// The text of the first element whose local name is `local`.
fn member(xml: &str, local: &str) -> Option<String> {
    for (i, _) in xml.match_indices(local) {
        let lt = xml[..i].rfind('<')?;
        let name = &xml[lt + 1..i];
        let opens = !name.starts_with('/') && (name.is_empty() || name.ends_with(':')) && !name.contains(' ');
        if opens && xml[i + local.len()..].starts_with('>') {
            let after = &xml[i + local.len() + 1..];
            return Some(after.split('<').next().unwrap_or_default().to_owned());
        }
    }
    None
}

async fn company(cx: Ctx) -> Result<(), Failure> {
    let token = aad_graph_token(&cx).await?;
    let r = soap(&cx, envelope("GetCompanyInformation", Some(&token), "")).await?;
    eq("status", r.status, 200)?;
    ensure(
        r.header("content-type").is_some_and(|c| c.starts_with("application/soap+xml")),
        format!("Content-Type: expected application/soap+xml, got {:?}", r.header("content-type")),
    )?;
    eq("RelatesTo", member(&r.text, "RelatesTo").as_deref(), Some(MESSAGE_ID))
}

async fn disabled(cx: Ctx) -> Result<(), Failure> {
    let token = aad_graph_token(&cx).await?;
    let r = soap(&cx, envelope("GetCompanyInformation", Some(&token), "")).await?;
    eq("DirectorySynchronizationStatus", member(&r.text, "DirectorySynchronizationStatus").as_deref(), Some("Disabled"))
}

async fn enable(cx: Ctx) -> Result<(), Failure> {
    let token = aad_graph_token(&cx).await?;
    let r = soap(&cx, envelope("SetCompanyDirSyncEnabled", Some(&token), "<ws:EnableDirSync>true</ws:EnableDirSync>"))
        .await?;
    ensure(r.status == 200, format!("SetCompanyDirSyncEnabled: expected 200, got {} {}", r.status, r.text))?;
    let org = cx.graph().organization().list().send().await?;
    let first = org.value.first().ok_or_else(|| Failure::new("no organization"))?;
    eq("onPremisesSyncEnabled", first.on_premises_sync_enabled, Some(true))
}

async fn no_token(cx: Ctx) -> Result<(), Failure> {
    let r = soap(&cx, envelope("GetCompanyInformation", None, "")).await?;
    eq("status", r.status, 500)?;
    ensure(
        r.text.contains("Fault>"),
        format!("expected a SOAP fault, got {}", r.text.chars().take(300).collect::<String>()),
    )
}

async fn unknown_action(cx: Ctx) -> Result<(), Failure> {
    let token = aad_graph_token(&cx).await?;
    let r = soap(&cx, envelope("FrobnicateCompany", Some(&token), "")).await?;
    eq("status", r.status, 500)?;
    ensure(
        r.text.contains("ContractFilter"),
        format!("expected the ContractFilter mismatch fault, got {}", r.text.chars().take(300).collect::<String>()),
    )
}
