//! Owners of applications and service principals, and `Application.ReadWrite.OwnedBy`
//! (graph-wire.md §2.2, §6; Microsoft's add-owner page).

use reqwest::Method;
use serde_json::json;

use super::support::{self, NewApp, APPLICATION_READWRITE_OWNEDBY};
use super::wire::{id_of, ids, status, values, Api};
use crate::context::{Cleanup, Ctx};
use crate::scenario;
use crate::scenario::{ensure, eq, some, Failure, Scenario};

pub(crate) const SCENARIOS: &[Scenario] = &[
    scenario!(
        "owners::add_application_owner_is_204_and_owners_lists_it",
        "graph-wire.md §5.8 (owners by $ref, as on groups) and Microsoft's add-owner page: POST /applications/{id}/owners/$ref {\"@odata.id\": …/directoryObjects/{id}} → 204; GET owners lists directoryObjects with @odata.type",
        [],
        add_application_owner
    ),
    scenario!(
        "owners::adding_an_existing_application_owner_is_400",
        "graph-wire.md §2.2: an existing reference → 400 \"One or more added object references already exist for the following modified properties: 'owners'.\"",
        [],
        duplicate_application_owner
    ),
    scenario!(
        "owners::remove_application_owner_is_204_and_a_second_removal_is_404",
        "graph-wire.md §5.8 (as on groups) and Microsoft's remove-owner page: DELETE /applications/{id}/owners/{id}/$ref → 204; graph-wire.md §2.2: a reference that is not there → 404 Request_ResourceNotFound",
        [],
        remove_application_owner
    ),
    scenario!(
        "owners::remove_service_principal_owner_is_204",
        "graph-wire.md §5.8 (as on groups) and Microsoft's owner pages: a service principal's owners are linked like an application's; DELETE …/owners/{id}/$ref → 204 and the owner is gone",
        [],
        service_principal_owner
    ),
    scenario!(
        "owners::an_owned_by_app_owns_the_application_it_creates",
        "graph-wire.md §6: Application.ReadWrite.OwnedBy covers the apps the caller owns; an application it creates lists its service principal among the owners and in ownedObjects",
        [],
        owned_by_creates
    ),
    scenario!(
        "owners::an_owned_by_app_lists_only_owned_applications",
        "graph-wire.md §6: GET /applications with Application.ReadWrite.OwnedBy lists only owned ones",
        [],
        owned_by_lists
    ),
    scenario!(
        "owners::an_owned_by_app_cannot_change_an_application_it_does_not_own",
        "graph-wire.md §6: Application.ReadWrite.OwnedBy only covers apps/SPs the caller owns → 403 Authorization_RequestDenied on another application",
        [],
        owned_by_refused
    ),
    scenario!(
        "owners::owned_by_is_not_sufficient_to_add_another_owner",
        "graph-wire.md §6 (OwnedBy covers only the apps the caller owns) and Microsoft's add-owner page, whose note says OwnedBy is not enough to add an owner → 403",
        [],
        owned_by_cannot_add_owner
    ),
];

async fn add_application_owner(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let app = some(support::application(&cx).await?.id, "application id")?;
    let u = support::user(&cx, "o").await?;
    status(&api.post(&format!("/applications/{app}/owners/$ref"), api.reference(&u.id)).await?, 204)?;
    let r = api.get(&format!("/applications/{app}/owners")).await?;
    status(&r, 200)?;
    ensure(ids(&r)?.contains(&u.id), format!("owners: expected {} among {:?}", u.id, ids(&r)?))?;
    let listed = values(&r)?.iter().find(|o| o["id"].as_str() == Some(u.id.as_str()));
    eq("@odata.type", listed.and_then(|o| o["@odata.type"].as_str()), Some("#microsoft.graph.user"))
}

async fn duplicate_application_owner(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let app = some(support::application(&cx).await?.id, "application id")?;
    let u = support::user(&cx, "o").await?;
    status(&api.post(&format!("/applications/{app}/owners/$ref"), api.reference(&u.id)).await?, 204)?;
    let r = api.post(&format!("/applications/{app}/owners/$ref"), api.reference(&u.id)).await?;
    support::expect_error(
        &r,
        400,
        "Request_BadRequest",
        Some("One or more added object references already exist for the following modified properties: 'owners'."),
    )
}

async fn remove_application_owner(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let app = some(support::application(&cx).await?.id, "application id")?;
    let u = support::user(&cx, "o").await?;
    status(&api.post(&format!("/applications/{app}/owners/$ref"), api.reference(&u.id)).await?, 204)?;
    let path = format!("/applications/{app}/owners/{}/$ref", u.id);
    status(&api.delete(&path).await?, 204)?;
    support::expect_error(&api.delete(&path).await?, 404, "Request_ResourceNotFound", None)
}

async fn service_principal_owner(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let app = support::app_with_roles(&cx, &[]).await?;
    let u = support::user(&cx, "o").await?;
    let owners = format!("/servicePrincipals/{}/owners", app.sp_id);
    status(&api.post(&format!("{owners}/$ref"), api.reference(&u.id)).await?, 204)?;
    ensure(ids(&api.get(&owners).await?)?.contains(&u.id), "the new owner is listed")?;
    status(&api.delete(&format!("{owners}/{}/$ref", u.id)).await?, 204)?;
    ensure(!ids(&api.get(&owners).await?)?.contains(&u.id), "the removed owner is not listed")
}

/// An app holding only `Application.ReadWrite.OwnedBy`, its token, and an application it
/// created (registered for cleanup).
async fn owned_by_app_and_its_application(cx: &Ctx) -> Result<(NewApp, String, String), Failure> {
    let app = support::app_with_roles(cx, &[APPLICATION_READWRITE_OWNEDBY]).await?;
    let token = support::token_for(cx, &app).await?;
    let body = json!({"displayName": cx.name("made"), "signInAudience": "AzureADMyOrg"});
    let r = cx.send(cx.graph_request(Method::POST, "/applications").bearer_auth(&token).json(&body)).await?;
    status(&r, 201)?;
    let made = id_of(&r)?;
    cx.cleanup(Cleanup::Application(made.clone()));
    Ok((app, token, made))
}

async fn owned_by_creates(cx: Ctx) -> Result<(), Failure> {
    let api = Api::new(&cx).await?;
    let (app, _, made) = owned_by_app_and_its_application(&cx).await?;
    let owners = api.get(&format!("/applications/{made}/owners")).await?;
    status(&owners, 200)?;
    eq("owners", ids(&owners)?, vec![app.sp_id.clone()])?;
    let owned = api.get(&format!("/servicePrincipals/{}/ownedObjects", app.sp_id)).await?;
    status(&owned, 200)?;
    ensure(ids(&owned)?.contains(&made), format!("ownedObjects: expected {made} among {:?}", ids(&owned)?))
}

async fn owned_by_lists(cx: Ctx) -> Result<(), Failure> {
    let (app, token, made) = owned_by_app_and_its_application(&cx).await?;
    let r = support::raw(&cx, Method::GET, "/applications", &token).await?;
    status(&r, 200)?;
    let listed = ids(&r)?;
    ensure(listed.contains(&made), format!("expected the owned application {made} in {listed:?}"))?;
    ensure(!listed.contains(&app.object_id), "its own registration, owned by another, is not listed")
}

async fn owned_by_refused(cx: Ctx) -> Result<(), Failure> {
    let (app, token, _) = owned_by_app_and_its_application(&cx).await?;
    let other = some(support::application(&cx).await?.id, "application id")?;
    let path = format!("/applications/{other}");
    let r = cx.send(cx.graph_request(Method::PATCH, &path).bearer_auth(&token).json(&json!({"notes": "x"}))).await?;
    support::expect_error(&r, 403, "Authorization_RequestDenied", None)?;
    // Its own registration belongs to whoever made it, not to the app.
    let own = format!("/applications/{}", app.object_id);
    let r = cx.send(cx.graph_request(Method::PATCH, &own).bearer_auth(&token).json(&json!({"notes": "x"}))).await?;
    support::expect_error(&r, 403, "Authorization_RequestDenied", None)
}

async fn owned_by_cannot_add_owner(cx: Ctx) -> Result<(), Failure> {
    let (_, token, made) = owned_by_app_and_its_application(&cx).await?;
    let u = support::user(&cx, "o").await?;
    let reference = json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{}", u.id)});
    let path = format!("/applications/{made}/owners/$ref");
    let r = cx.send(cx.graph_request(Method::POST, &path).bearer_auth(&token).json(&reference)).await?;
    support::expect_error(&r, 403, "Authorization_RequestDenied", None)
}
