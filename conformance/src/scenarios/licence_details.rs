//! Licence assignment in detail: the answer, licenseDetails, removal and refusals
//! (dirsync.md §4 table: "write via POST /users/{id}/assignLicense"; graph-wire.md §5.3).

use serde_json::{json, Value};

use super::support::{self, NO_SUCH_ID};
use super::wire::{status, values, Api};
use crate::context::Ctx;
use crate::scenario;
use crate::scenario::{ensure, eq, Failure, Scenario};

pub(crate) const SCENARIOS: &[Scenario] = &[
    scenario!(
        "licence_details::assign_answers_200_with_the_user",
        "dirsync.md §4: licences are written with POST /users/{id}/assignLicense; the action answers 200 with the user (its CSDL return type)",
        [],
        answer
    ),
    scenario!(
        "licence_details::license_details_carry_the_skus_service_plans",
        "dirsync.md §4 / graph-wire.md §5.3: GET /users/{id}/licenseDetails → one entry per assigned SKU, with skuId, skuPartNumber and servicePlans",
        [],
        details
    ),
    scenario!(
        "licence_details::remove_licenses_takes_the_licence_away",
        "dirsync.md §4: assignLicense's removeLicenses takes a licence away; assignedLicenses and licenseDetails are then empty",
        [],
        remove
    ),
    scenario!(
        "licence_details::an_unknown_sku_is_400",
        "graph-wire.md §5.3 / dirsync.md §4: only the tenant's subscribed SKUs can be assigned → 400 Request_BadRequest otherwise",
        [],
        unknown_sku
    ),
    scenario!(
        "licence_details::removing_a_licence_the_user_lacks_is_400",
        "graph-wire.md §2.2: generic validation failure → 400 Request_BadRequest (removing a licence that is not assigned)",
        [],
        remove_missing
    ),
];

async fn first_sku(api: &Api) -> Result<(String, Value), Failure> {
    let r = api.get("/subscribedSkus").await?;
    status(&r, 200)?;
    let sku = values(&r)?.first().cloned().ok_or_else(|| Failure::skip("the tenant has no subscribed SKUs"))?;
    Ok((sku["skuId"].as_str().unwrap_or_default().to_owned(), sku))
}

async fn licensed_user(cx: &Ctx, api: &Api) -> Result<(String, String, Value), Failure> {
    let (sku, full) = first_sku(api).await?;
    let u = support::user_with(cx, "lic", |u| u.usage_location = Some("SE".into())).await?;
    let r = api
        .post(&format!("/users/{}/assignLicense", u.id), json!({"addLicenses": [{"skuId": sku}], "removeLicenses": []}))
        .await?;
    status(&r, 200)?;
    Ok((u.id, sku, full))
}

async fn answer(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let (sku, _) = first_sku(&api).await?;
    let u = support::user_with(&cx, "lic", |u| u.usage_location = Some("SE".into())).await?;
    let r = api
        .post(&format!("/users/{}/assignLicense", u.id), json!({"addLicenses": [{"skuId": sku}], "removeLicenses": []}))
        .await?;
    status(&r, 200)?;
    eq("id", r.json["id"].as_str(), Some(u.id.as_str()))
}

async fn details(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let (user, sku, full) = licensed_user(&cx, &api).await?;
    let r = api.get(&format!("/users/{user}/licenseDetails")).await?;
    status(&r, 200)?;
    let items = values(&r)?;
    eq("licenseDetails", items.len(), 1)?;
    eq("skuId", items[0]["skuId"].as_str(), Some(sku.as_str()))?;
    eq("skuPartNumber", items[0]["skuPartNumber"].clone(), full["skuPartNumber"].clone())?;
    ensure(
        items[0]["servicePlans"].is_array(),
        format!("servicePlans: expected an array, got {}", items[0]["servicePlans"]),
    )
}

async fn remove(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let (user, sku, _) = licensed_user(&cx, &api).await?;
    let r =
        api.post(&format!("/users/{user}/assignLicense"), json!({"addLicenses": [], "removeLicenses": [sku]})).await?;
    status(&r, 200)?;
    let r = api.get(&format!("/users/{user}?$select=assignedLicenses")).await?;
    eq("assignedLicenses", r.json["assignedLicenses"].clone(), json!([]))?;
    eq("licenseDetails", values(&api.get(&format!("/users/{user}/licenseDetails")).await?)?.len(), 0)
}

async fn unknown_sku(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let u = support::user_with(&cx, "lic", |u| u.usage_location = Some("SE".into())).await?;
    let r = api
        .post(
            &format!("/users/{}/assignLicense", u.id),
            json!({"addLicenses": [{"skuId": NO_SUCH_ID}], "removeLicenses": []}),
        )
        .await?;
    support::expect_error(&r, 400, "Request_BadRequest", None)
}

async fn remove_missing(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let (sku, _) = first_sku(&api).await?;
    let u = support::user_with(&cx, "lic", |u| u.usage_location = Some("SE".into())).await?;
    let r = api
        .post(&format!("/users/{}/assignLicense", u.id), json!({"addLicenses": [], "removeLicenses": [sku]}))
        .await?;
    support::expect_error(&r, 400, "Request_BadRequest", None)
}
