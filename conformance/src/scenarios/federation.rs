//! Federated domains (graph-wire.md §5.9, §5.3; Microsoft's `internalDomainFederation`
//! documentation): a domain's `federationConfiguration` and what it changes for users.

use serde_json::json;

use super::support::{self, PASSWORD};
use super::wire::{status, values, Api};
use crate::context::{Cleanup, Ctx};
use crate::scenario;
use crate::scenario::{ensure, eq, Failure, Need, Scenario};

pub(crate) const SCENARIOS: &[Scenario] = &[
    scenario!(
        "federation::a_federation_configuration_makes_the_domain_federated_until_it_is_deleted",
        "graph-wire.md §5.9: authenticationType is Managed or Federated; Graph's internalDomainFederation: POST /domains/{id}/federationConfiguration → 201, list/get/PATCH → 200, DELETE → 204 and the domain is Managed again",
        [Need::Mock],
        lifecycle
    ),
    scenario!(
        "federation::a_user_of_a_federated_domain_needs_an_immutable_id",
        "graph-wire.md §5.3: onPremisesImmutableId is required when the UPN's domain is federated → 400 without it, 201 with it",
        [Need::Mock],
        immutable_id_required
    ),
    scenario!(
        "federation::only_a_verified_domain_can_be_federated",
        "graph-wire.md §5.9: POST /domains → isVerified false until POST …/verify; Graph's internalDomainFederation: federation is configured on a verified custom domain → 400 for an unverified one",
        [Need::Mock],
        unverified
    ),
    scenario!(
        "federation::the_signing_certificate_must_be_a_certificate",
        "graph-wire.md §5.9: a domain turns Federated through its federation configuration; Graph's internalDomainFederation: signingCertificate is the base64 X.509 certificate the IdP signs with → 400 for anything else",
        [Need::Mock],
        bad_certificate
    ),
];

fn settings(cx: &Ctx, certificate: &str) -> serde_json::Value {
    json!({
        "displayName": "Conformance IdP",
        "issuerUri": format!("https://idp.example/{}", cx.name("issuer")),
        "passiveSignInUri": "https://idp.example/adfs/ls/",
        "signingCertificate": certificate,
        "preferredAuthenticationProtocol": "wsFed",
    })
}

/// An IdP token-signing certificate, made once per run (RSA key generation is the slow part).
fn certificate() -> Result<String, Failure> {
    static CERTIFICATE: std::sync::OnceLock<Result<String, String>> = std::sync::OnceLock::new();
    CERTIFICATE
        .get_or_init(|| {
            graphbox_mock::test_idp::TestIdp::generate("https://idp.example/issuer")
                .map(|idp| idp.signing_certificate())
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(Failure::new)
}

/// A verified custom domain for this scenario.
async fn verified_domain(api: &Api, cx: &Ctx, alias: &str) -> Result<String, Failure> {
    let name = format!("{}.example", cx.name(alias));
    status(&api.post("/domains", json!({"id": name})).await?, 201)?;
    status(&api.post(&format!("/domains/{name}/verify"), json!({})).await?, 200)?;
    Ok(name)
}

async fn authentication_type(api: &Api, domain: &str) -> Result<Option<String>, Failure> {
    let r = api.get(&format!("/domains/{domain}")).await?;
    status(&r, 200)?;
    Ok(r.json["authenticationType"].as_str().map(str::to_owned))
}

async fn lifecycle(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let domain = verified_domain(&api, &cx, "fed-life").await?;
    let path = format!("/domains/{domain}/federationConfiguration");
    let created = api.post(&path, settings(&cx, &certificate()?)).await?;
    status(&created, 201)?;
    let id = created.json["id"].as_str().unwrap_or_default().to_owned();
    eq("authenticationType", authentication_type(&api, &domain).await?.as_deref(), Some("Federated"))?;
    let list = api.get(&path).await?;
    status(&list, 200)?;
    eq("configurations", values(&list)?.len(), 1)?;
    status(&api.get(&format!("{path}/{id}")).await?, 200)?;
    let patched = api.patch(&format!("{path}/{id}"), json!({"displayName": "Renamed IdP"})).await?;
    status(&patched, 200)?;
    eq("displayName", patched.json["displayName"].as_str(), Some("Renamed IdP"))?;
    status(&api.delete(&format!("{path}/{id}")).await?, 204)?;
    eq("authenticationType", authentication_type(&api, &domain).await?.as_deref(), Some("Managed"))?;
    status(&api.delete(&format!("/domains/{domain}")).await?, 204)
}

async fn immutable_id_required(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let domain = verified_domain(&api, &cx, "fed-user").await?;
    let path = format!("/domains/{domain}/federationConfiguration");
    status(&api.post(&path, settings(&cx, &certificate()?)).await?, 201)?;
    let nick = cx.name("u");
    let mut body = json!({"accountEnabled": true, "displayName": nick, "mailNickname": nick,
        "userPrincipalName": format!("{nick}@{domain}"),
        "passwordProfile": {"forceChangePasswordNextSignIn": true, "password": PASSWORD}});
    let refused = api.post("/users", body.clone()).await?;
    support::expect_error(&refused, 400, "Request_BadRequest", None)?;
    body["onPremisesImmutableId"] = json!("Q29uZm9ybWFuY2UtMDAx");
    let created = api.post("/users", body).await?;
    status(&created, 201)?;
    cx.cleanup(Cleanup::User(created.json["id"].as_str().unwrap_or_default().to_owned()));
    ensure(
        created.json["id"].as_str().is_some_and(|id| !id.is_empty()),
        format!("the created user has no id: {}", created.text),
    )
}

async fn unverified(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let name = format!("{}.example", cx.name("fed-unverified"));
    status(&api.post("/domains", json!({"id": name})).await?, 201)?;
    let r = api.post(&format!("/domains/{name}/federationConfiguration"), settings(&cx, &certificate()?)).await?;
    let _ = api.delete(&format!("/domains/{name}")).await?;
    support::expect_error(&r, 400, "Request_BadRequest", None)
}

async fn bad_certificate(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let domain = verified_domain(&api, &cx, "fed-cert").await?;
    let r = api
        .post(&format!("/domains/{domain}/federationConfiguration"), settings(&cx, "bm90IGEgY2VydGlmaWNhdGU="))
        .await?;
    let _ = api.delete(&format!("/domains/{domain}")).await?;
    status(&r, 400)
}
