//! DirSync as Graph shows it: the organization flag, synced users, the 72-hour disable
//! (dirsync.md §2; graph-wire.md §5.1, §5.2). On the mock the pending window passes through the
//! tenant clock; on a real tenant only with `--allow-tenant-changes`, and only the parts that
//! do not need 72 hours.

use graphbox_sdk::models::{Organization, User};
use reqwest::Method;
use serde_json::json;

use crate::context::{Cleanup, Ctx};
use crate::scenario;
use crate::scenario::{ensure, eq, graph_error, some, Failure, Need, Scenario};

const MASTERED: &str = "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.";

pub(crate) const SCENARIOS: &[Scenario] = &[
    scenario!(
        "dirsync::organization_is_a_collection_of_one_keyed_by_tenant_id",
        "graph-wire.md §5.1: GET /organization returns a collection with exactly one item whose id is the tenant id",
        [],
        organization
    ),
    scenario!(
        "dirsync::new_tenant_has_never_synced",
        "dirsync.md §2.1: onPremisesSyncEnabled is null for a tenant that has never synced",
        [Need::Mock],
        never_synced
    ),
    scenario!(
        "dirsync::on_premises_synchronization_id_is_the_tenant_id",
        "dirsync.md §2.5 / graph-wire.md §5.2: GET /directory/onPremisesSynchronization → a collection of one whose id is the tenant id",
        [],
        sync_configuration
    ),
    scenario!(
        "dirsync::sync_cycle_creates_synced_users",
        "dirsync.md §2.3: a synced user carries onPremisesSyncEnabled true and onPremisesImmutableId, returned with $select; filter onPremisesSyncEnabled eq true finds it",
        [Need::Mock, Need::TenantChanges],
        synced_users
    ),
    scenario!(
        "dirsync::synced_user_rejects_writes_to_mastered_attributes",
        "dirsync.md §2.3 / graph-wire.md §2.2: PATCH of an on-premises-mastered property of a synced user → 400 Request_BadRequest \"Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.\"",
        [Need::Mock, Need::TenantChanges],
        mastered_write
    ),
    scenario!(
        "dirsync::synced_user_accepts_usage_location",
        "dirsync.md §2.3: usageLocation stays manageable in the cloud for synced users",
        [Need::Mock, Need::TenantChanges],
        cloud_write
    ),
    scenario!(
        "dirsync::disable_is_204_and_converts_users_after_72_hours",
        "dirsync.md §1.2 / §2.2 / §2.4: PATCH organization onPremisesSyncEnabled false → 204; users stay synced while pending; after up to 72 h they are cloud-owned (onPremisesSyncEnabled false, on-premises DN cleared, immutable id kept, writes accepted)",
        [Need::TenantChanges],
        disable
    ),
    scenario!(
        "dirsync::changing_sync_while_pending_is_refused",
        "dirsync.md §1.2 / §2.2: nothing, re-enabling included, is possible until the pending disable completes (Graph's answer [U], suggested 400 Request_BadRequest)",
        [Need::Mock, Need::TenantChanges],
        pending_refuses
    ),
];

async fn organization(cx: Ctx) -> Result<(), Failure> {
    let page = cx.graph().organization().list().send().await?;
    eq("organizations", page.value.len(), 1)?;
    let org = &page.value[0];
    let id = some(org.id.clone(), "organization id")?;
    let single = cx.graph().organization().get(id.as_str()).send().await?;
    eq("GET /organization/{id} id", single.id, Some(id))
}

async fn never_synced(cx: Ctx) -> Result<(), Failure> {
    cx.graph().organization().list().send().await?;
    let body = cx.last().and_then(|e| e.body).unwrap_or_default();
    let org = some(body["value"].as_array().and_then(|v| v.first()).cloned(), "the organization")?;
    ensure(
        org.get("onPremisesSyncEnabled").is_some_and(|v| v.is_null()),
        format!("onPremisesSyncEnabled: expected null, got {:?}", org.get("onPremisesSyncEnabled")),
    )
}

async fn sync_configuration(cx: Ctx) -> Result<(), Failure> {
    let page = cx.graph().on_premises_synchronization().list().send().await?;
    eq("items", page.value.len(), 1)?;
    let org = cx.graph().organization().list().send().await?;
    eq("id", page.value[0].id.clone(), org.value.first().and_then(|o| o.id.clone()))
}

/// Enables sync on the mock tenant and runs one cycle with one user; returns its id.
async fn synced_user(cx: &Ctx) -> Result<String, Failure> {
    let org = cx.graph().organization().list().send().await?;
    let tid = some(org.value.first().and_then(|o| o.id.clone()), "tenant id")?;
    cx.graph()
        .organization()
        .update(tid, Organization { on_premises_sync_enabled: Some(true), ..Default::default() })
        .send()
        .await?;
    // Enabling passes through PendingEnabled first (dirsync.md §1.2); a sync
    // cycle only runs once the tenant is Enabled.
    cx.advance_clock(60).await?;
    let (upn, nick) = cx.upn("sync").await?;
    let cycle = json!({"users": [{"userPrincipalName": upn, "displayName": nick, "mailNickname": nick,
        "onPremisesImmutableId": "dGVzdC1hbmNob3ItMQ==", "onPremisesSamAccountName": nick,
        "onPremisesDistinguishedName": format!("CN={nick},OU=Staff,DC=corp,DC=example"), "accountEnabled": true}]});
    let r = cx.control(Method::POST, "dirsync/cycle", Some(cycle)).await?;
    ensure(r.status == 200, format!("control API dirsync/cycle: expected 200, got {} {}", r.status, r.text))?;
    let user = cx.graph().users().get(upn.as_str()).send().await?;
    let id = some(user.id, "synced user id")?.to_string();
    cx.cleanup(Cleanup::User(id.clone()));
    Ok(id)
}

async fn synced_users(cx: Ctx) -> Result<(), Failure> {
    let id = synced_user(&cx).await?;
    let u =
        cx.graph().users().get(id.as_str()).select(["onPremisesSyncEnabled", "onPremisesImmutableId"]).send().await?;
    eq("onPremisesSyncEnabled", u.on_premises_sync_enabled, Some(true))?;
    eq("onPremisesImmutableId", u.on_premises_immutable_id.as_deref(), Some("dGVzdC1hbmNob3ItMQ=="))?;
    let found =
        cx.graph().users().list().filter(graphbox_sdk::odata::Filter::eq("onPremisesSyncEnabled", true)).send().await?;
    ensure(
        found.value.iter().any(|u| u.id.as_ref().map(|i| i.as_str()) == Some(id.as_str())),
        "filter onPremisesSyncEnabled eq true: expected the synced user",
    )
}

async fn mastered_write(cx: Ctx) -> Result<(), Failure> {
    let id = synced_user(&cx).await?;
    let r = cx
        .graph()
        .users()
        .update(id.as_str(), User { display_name: Some("changed".into()), ..Default::default() })
        .send()
        .await;
    let e = graph_error(r, 400, "Request_BadRequest")?;
    eq("message", e.message.as_str(), MASTERED)
}

async fn cloud_write(cx: Ctx) -> Result<(), Failure> {
    let id = synced_user(&cx).await?;
    cx.graph()
        .users()
        .update(id.as_str(), User { usage_location: Some("SE".into()), ..Default::default() })
        .send()
        .await?;
    eq("status", cx.last().map(|e| e.status), Some(204))
}

async fn disable(cx: Ctx) -> Result<(), Failure> {
    let on_mock = cx.caps().can_advance_clock;
    let user = if on_mock { Some(synced_user(&cx).await?) } else { None };
    let org = cx.graph().organization().list().send().await?;
    let org = some(org.value.into_iter().next(), "the organization")?;
    if org.on_premises_sync_enabled != Some(true) {
        return Err(Failure::skip("the tenant does not sync from on-premises; there is nothing to disable"));
    }
    let tid = some(org.id, "tenant id")?;
    cx.graph()
        .organization()
        .update(tid.as_str(), Organization { on_premises_sync_enabled: Some(false), ..Default::default() })
        .send()
        .await?;
    eq("status", cx.last().map(|e| e.status), Some(204))?;
    let Some(id) = user else { return Ok(()) };
    let pending = cx
        .graph()
        .users()
        .update(id.as_str(), User { display_name: Some("early".into()), ..Default::default() })
        .send()
        .await;
    let e = graph_error(pending, 400, "Request_BadRequest")?;
    eq("message while pending", e.message.as_str(), MASTERED)?;
    cx.advance_clock(73 * 3600).await?;
    let props = ["onPremisesSyncEnabled", "onPremisesImmutableId", "onPremisesDistinguishedName"];
    let u = cx.graph().users().get(id.as_str()).select(props).send().await?;
    eq("onPremisesSyncEnabled after the window", u.on_premises_sync_enabled, Some(false))?;
    eq("onPremisesImmutableId after the window", u.on_premises_immutable_id.as_deref(), Some("dGVzdC1hbmNob3ItMQ=="))?;
    let body = cx.last().and_then(|e| e.body).unwrap_or_default();
    ensure(
        body["onPremisesDistinguishedName"].is_null(),
        format!(
            "onPremisesDistinguishedName after the window: expected cleared, got {}",
            body["onPremisesDistinguishedName"]
        ),
    )?;
    cx.graph()
        .users()
        .update(id.as_str(), User { display_name: Some("cloud-owned".into()), ..Default::default() })
        .send()
        .await?;
    Ok(())
}

async fn pending_refuses(cx: Ctx) -> Result<(), Failure> {
    synced_user(&cx).await?;
    let org = cx.graph().organization().list().send().await?;
    let tid = some(org.value.first().and_then(|o| o.id.clone()), "tenant id")?;
    let off = Organization { on_premises_sync_enabled: Some(false), ..Default::default() };
    cx.graph().organization().update(tid.as_str(), off).send().await?;
    let on = Organization { on_premises_sync_enabled: Some(true), ..Default::default() };
    let r = cx.graph().organization().update(tid.as_str(), on).send().await;
    graph_error(r, 400, "Request_BadRequest").map(|_| ())?;
    Ok(())
}
