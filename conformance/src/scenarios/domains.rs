//! Domains (graph-wire.md §5.9, §5.3, §2.2).

use serde_json::json;

use super::support::{self, PASSWORD};
use super::wire::{context, ids, status, values, Api};
use crate::context::{Cleanup, Ctx};
use crate::scenario;
use crate::scenario::{ensure, eq, Failure, Need, Scenario};

pub(crate) const SCENARIOS: &[Scenario] = &[
    scenario!(
        "domains::list_has_the_verified_initial_domain",
        "graph-wire.md §5.9: GET /domains → a collection; the domain name is the id; the initial domain has isInitial true and isVerified true",
        [],
        list
    ),
    scenario!(
        "domains::domain_by_name_is_the_same_object",
        "graph-wire.md §5.9: the domain name is the id, so GET /domains/{name} addresses it",
        [],
        by_name
    ),
    scenario!(
        "domains::unknown_domain_is_404",
        "graph-wire.md §2.2: an unknown object id → 404 Request_ResourceNotFound",
        [],
        unknown
    ),
    scenario!(
        "domains::add_is_201_unverified",
        "graph-wire.md §5.9: POST /domains {\"id\":\"contoso-lab.example\"} → 201 with isVerified false",
        [Need::TenantChanges],
        add
    ),
    scenario!(
        "domains::adding_an_existing_domain_is_400",
        "graph-wire.md §2.2: generic uniqueness conflict → 400 Request_BadRequest \"A conflicting object with one or more of the specified property values is present in the directory.\"",
        [Need::TenantChanges],
        add_twice
    ),
    scenario!(
        "domains::add_without_id_is_400",
        "graph-wire.md §5.9: the domain name is the id and must be sent → 400 without it",
        [],
        add_without_id
    ),
    scenario!(
        "domains::verification_dns_records_are_listed",
        "graph-wire.md §5.9: GET /domains/{id}/verificationDnsRecords → the records that prove ownership",
        [Need::TenantChanges],
        dns_records
    ),
    scenario!(
        "domains::verify_is_200_with_the_verified_domain",
        "graph-wire.md §5.9: POST /domains/{id}/verify → 200 with the domain (the mock has no DNS to consult; on a tenant it needs the TXT record)",
        [Need::Mock],
        verify
    ),
    scenario!(
        "domains::users_can_use_a_verified_domain_only",
        "graph-wire.md §5.9 / §5.3: UPNs must use a verified domain of the tenant → 400 before verification, 201 after",
        [Need::Mock],
        upn_needs_verified
    ),
    scenario!(
        "domains::delete_is_204",
        "graph-wire.md §5.9: DELETE /domains/{id} → 204",
        [Need::TenantChanges],
        delete
    ),
    scenario!(
        "domains::a_domain_in_use_cannot_be_deleted",
        "graph-wire.md §5.9: DELETE /domains/{id} fails while references exist (a user's UPN) → 400",
        [Need::Mock],
        delete_in_use
    ),
    scenario!(
        "domains::the_initial_domain_cannot_be_deleted",
        "graph-wire.md §5.9: DELETE /domains/{id} fails while references exist; the initial domain always has them → 400",
        [Need::Mock],
        delete_initial
    ),
];

fn domain_name(cx: &Ctx, alias: &str) -> String {
    format!("{}.example", cx.name(alias))
}

async fn add_domain(api: &Api, name: &str) -> Result<(), Failure> {
    let r = api.post("/domains", json!({"id": name})).await?;
    status(&r, 201)
}

async fn list(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let r = api.get("/domains").await?;
    status(&r, 200)?;
    eq("@odata.context", context(&r).as_str(), "domains")?;
    let initial = values(&r)?.iter().find(|d| d["isInitial"] == true).cloned();
    let initial = initial.ok_or_else(|| Failure::new(format!("no domain with isInitial true: {}", r.text)))?;
    eq("initial isVerified", initial["isVerified"].as_bool(), Some(true))?;
    ensure(
        initial["id"].as_str().is_some_and(|id| id.ends_with(".onmicrosoft.com")),
        format!("initial domain id: expected …onmicrosoft.com, got {}", initial["id"]),
    )
}

async fn by_name(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let domain = cx.domain().await?;
    let r = api.get(&format!("/domains/{domain}")).await?;
    status(&r, 200)?;
    eq("@odata.context", context(&r).as_str(), "domains/$entity")?;
    eq("id", r.json["id"].as_str(), Some(domain.as_str()))
}

async fn unknown(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let r = api.get(&format!("/domains/{}", domain_name(&cx, "nosuchdomain"))).await?;
    support::expect_error(&r, 404, "Request_ResourceNotFound", None)
}

async fn add(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let name = domain_name(&cx, "dom-add");
    let r = api.post("/domains", json!({"id": name})).await?;
    status(&r, 201)?;
    eq("@odata.context", context(&r).as_str(), "domains/$entity")?;
    eq("isVerified", r.json["isVerified"].as_bool(), Some(false))?;
    eq("id", r.json["id"].as_str(), Some(name.as_str()))?;
    status(&api.delete(&format!("/domains/{name}")).await?, 204)
}

async fn add_twice(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let name = domain_name(&cx, "dom-twice");
    add_domain(&api, &name).await?;
    let r = api.post("/domains", json!({"id": name})).await?;
    let _ = api.delete(&format!("/domains/{name}")).await?;
    support::expect_error(
        &r,
        400,
        "Request_BadRequest",
        Some("A conflicting object with one or more of the specified property values is present in the directory."),
    )
}

async fn add_without_id(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let r = api.post("/domains", json!({"isDefault": false})).await?;
    support::expect_error(&r, 400, "Request_BadRequest", None)
}

async fn dns_records(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let name = domain_name(&cx, "dom-dns");
    add_domain(&api, &name).await?;
    let r = api.get(&format!("/domains/{name}/verificationDnsRecords")).await?;
    let _ = api.delete(&format!("/domains/{name}")).await?;
    status(&r, 200)?;
    ensure(!values(&r)?.is_empty(), format!("verificationDnsRecords: expected at least one, got {}", r.text))
}

async fn verify(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let name = domain_name(&cx, "dom-verify");
    add_domain(&api, &name).await?;
    let r = api.post(&format!("/domains/{name}/verify"), json!({})).await?;
    status(&r, 200)?;
    eq("isVerified", r.json["isVerified"].as_bool(), Some(true))?;
    status(&api.delete(&format!("/domains/{name}")).await?, 204)
}

fn user_body(upn: &str, nick: &str) -> serde_json::Value {
    json!({"accountEnabled": true, "displayName": nick, "mailNickname": nick, "userPrincipalName": upn,
        "passwordProfile": {"forceChangePasswordNextSignIn": true, "password": PASSWORD}})
}

async fn upn_needs_verified(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let name = domain_name(&cx, "dom-upn");
    add_domain(&api, &name).await?;
    let nick = cx.name("u");
    let upn = format!("{nick}@{name}");
    let before = api.post("/users", user_body(&upn, &nick)).await?;
    status(&before, 400)?;
    status(&api.post(&format!("/domains/{name}/verify"), json!({})).await?, 200)?;
    let after = api.post("/users", user_body(&upn, &nick)).await?;
    status(&after, 201)?;
    cx.cleanup(Cleanup::User(after.json["id"].as_str().unwrap_or_default().to_owned()));
    Ok(())
}

async fn delete(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let name = domain_name(&cx, "dom-del");
    add_domain(&api, &name).await?;
    status(&api.delete(&format!("/domains/{name}")).await?, 204)?;
    let r = api.get("/domains").await?;
    ensure(!ids(&r)?.contains(&name), format!("GET /domains still lists {name}"))
}

async fn delete_in_use(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let name = domain_name(&cx, "dom-inuse");
    add_domain(&api, &name).await?;
    status(&api.post(&format!("/domains/{name}/verify"), json!({})).await?, 200)?;
    let nick = cx.name("u");
    let created = api.post("/users", user_body(&format!("{nick}@{name}"), &nick)).await?;
    status(&created, 201)?;
    let user_id = created.json["id"].as_str().unwrap_or_default().to_owned();
    cx.cleanup(Cleanup::User(user_id.clone()));
    let r = api.delete(&format!("/domains/{name}")).await?;
    support::expect_error(&r, 400, "Request_BadRequest", None)
}

async fn delete_initial(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let domain = cx.domain().await?;
    let r = api.delete(&format!("/domains/{domain}")).await?;
    support::expect_error(&r, 400, "Request_BadRequest", None)
}
