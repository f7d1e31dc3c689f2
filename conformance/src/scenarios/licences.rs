//! Licences: subscribed SKUs, assignLicense and licenseDetails (dirsync.md §4 table;
//! graph-wire.md §5.3 "usageLocation … needed before license assignment").

use graphbox_sdk::models::{AssignLicense, AssignedLicense};

use super::support;
use crate::context::Ctx;
use crate::scenario;
use crate::scenario::{ensure, some, Failure, Scenario};

pub(crate) const SCENARIOS: &[Scenario] = &[
    scenario!(
        "licences::assign_needs_a_usage_location",
        "graph-wire.md §5.3 / dirsync.md §4: usageLocation (ISO 3166 alpha-2) is required before licences can be assigned → 400 without it",
        [],
        needs_location
    ),
    scenario!(
        "licences::assigned_licence_shows_in_license_details",
        "dirsync.md §4: licences are written with POST /users/{id}/assignLicense and read back (assignedLicenses, licenseDetails)",
        [],
        assign
    ),
];

async fn first_sku(cx: &Ctx) -> Result<graphbox_sdk::ids::SkuId, Failure> {
    let skus = cx.graph().subscribed_skus().list().send().await?;
    let sku = skus.value.into_iter().find_map(|s| s.sku_id);
    sku.ok_or_else(|| Failure::skip("the tenant has no subscribed SKUs"))
}

fn change(sku: &graphbox_sdk::ids::SkuId) -> AssignLicense {
    AssignLicense {
        add_licenses: vec![AssignedLicense { sku_id: Some(sku.clone()), ..Default::default() }],
        remove_licenses: vec![],
    }
}

async fn needs_location(cx: Ctx) -> Result<(), Failure> {
    let sku = first_sku(&cx).await?;
    let u = support::user(&cx, "lic").await?;
    match cx.graph().users().assign_license(u.id.as_str(), change(&sku)).send().await {
        Err(e) if e.as_graph_error().is_some_and(|g| g.status == 400) => Ok(()),
        Err(e) => Err(e.into()),
        Ok(_) => Err(Failure::new("assignLicense without usageLocation: expected 400, got success")),
    }
}

async fn assign(cx: Ctx) -> Result<(), Failure> {
    let sku = first_sku(&cx).await?;
    let u = support::user_with(&cx, "lic", |u| u.usage_location = Some("SE".into())).await?;
    cx.graph().users().assign_license(u.id.as_str(), change(&sku)).send().await?;
    let details = cx.graph().users().license_details(u.id.as_str()).send().await?;
    let listed = details.value.iter().any(|d| d.sku_id.as_ref() == Some(&sku));
    ensure(listed, format!("licenseDetails: expected skuId {sku}"))?;
    let read = cx.graph().users().get(u.id.as_str()).select(["assignedLicenses"]).send().await?;
    let assigned = some(read.assigned_licenses, "assignedLicenses")?;
    ensure(assigned.iter().any(|a| a.sku_id.as_ref() == Some(&sku)), format!("assignedLicenses: expected skuId {sku}"))
}
