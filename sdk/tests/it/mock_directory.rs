//! End to end against the in-process graphbox-mock: directory roles and unified RBAC, groups,
//! users' relations and licences, delta and `$batch`.

use futures::TryStreamExt;
use graphbox_mock::Graphbox;
use graphbox_sdk::batch::BatchItem;
use graphbox_sdk::delta::DeltaItem;
use graphbox_sdk::ids::{RoleDefinitionId, UserId};
use graphbox_sdk::models::{
    AssignLicense, AssignedLicense, DirectoryObject, DirectoryRole as DirectoryRoleModel, Group, UnifiedRoleAssignment,
    User,
};
use graphbox_sdk::odata::Filter;
use graphbox_sdk::permissions::DirectoryRole;
use graphbox_sdk::GraphClient;

use crate::mock_users::{client_for, plain_mock};

async fn create_user(graph: &GraphClient, mock: &Graphbox, nick: &str) -> UserId {
    let upn = format!("{nick}@{}", mock.tenant_domain());
    let user = User::new(&format!("Dir {nick}"), nick, &upn, "Vk3#pL9!wQz2");
    graph.users().create(user).send().await.expect("create user").id.expect("id")
}

fn ids(objects: &[DirectoryObject]) -> Vec<&str> {
    objects.iter().filter_map(|o| o.id.as_ref().map(|i| i.as_str())).collect()
}

#[tokio::test]
async fn directory_roles_are_listed_activated_and_given_members() {
    let mock = plain_mock().await;
    let graph = client_for(&mock);
    let user = create_user(&graph, &mock, "roleholder").await;

    let active = graph.directory_roles().list().send().await.expect("list");
    assert!(active.next_link.is_none(), "directoryRoles do not page");
    let global = active
        .value
        .iter()
        .find(|r| {
            r.role_template_id.as_ref().map(|t| t.as_str()) == Some(DirectoryRole::GlobalAdministrator.template_id())
        })
        .expect("Global Administrator is active in a new tenant");
    let global_members = graph.directory_roles().members(global.id.clone().expect("id")).send().await.expect("members");
    assert!(!global_members.value.is_empty(), "the bootstrap admin and app are Global Administrators");

    let template = DirectoryRole::UserAdministrator.template_id();
    let role: DirectoryRoleModel =
        match active.value.iter().find(|r| r.role_template_id.as_ref().map(|t| t.as_str()) == Some(template)) {
            Some(r) => r.clone(),
            None => graph.directory_roles().activate(template).send().await.expect("activate"),
        };
    let role_id = role.id.clone().expect("tenant-specific id");
    assert_ne!(role_id.as_str(), template, "an activated role has its own id");
    assert_eq!(role.display_name.as_deref(), Some("User Administrator"));
    let listed = graph.directory_roles().list().send().await.expect("list");
    assert!(listed.value.iter().any(|r| r.id.as_ref() == Some(&role_id)));

    graph.directory_roles().add_member(&role_id, user.as_str()).send().await.expect("add member");
    let duplicate = graph.directory_roles().add_member(&role_id, user.as_str()).send().await.expect_err("twice");
    assert_eq!(duplicate.as_graph_error().expect("api error").code, "Request_BadRequest");
    let members = graph.directory_roles().members(&role_id).send().await.expect("members");
    assert_eq!(ids(&members.value), vec![user.as_str()]);
    assert_eq!(members.value[0].odata_type.as_deref(), Some("#microsoft.graph.user"));

    let member_of = graph.users().member_of(&user).send().await.expect("memberOf");
    assert!(member_of.value.iter().any(|o| o.odata_type.as_deref() == Some("#microsoft.graph.directoryRole")
        && o.id.as_ref().map(|i| i.as_str()) == Some(role_id.as_str())));

    graph.directory_roles().remove_member(&role_id, user.as_str()).send().await.expect("remove member");
    let members = graph.directory_roles().members(&role_id).send().await.expect("members");
    assert!(members.value.is_empty());
}

#[tokio::test]
async fn role_templates_and_role_definitions_cover_the_catalogue() {
    let mock = plain_mock().await;
    let graph = client_for(&mock);

    let templates = graph.directory_role_templates().list().send().await.expect("templates");
    for role in [DirectoryRole::GlobalAdministrator, DirectoryRole::UserAdministrator, DirectoryRole::DirectoryReaders]
    {
        let template = templates
            .value
            .iter()
            .find(|t| t.id.as_ref().map(|i| i.as_str()) == Some(role.template_id()))
            .unwrap_or_else(|| panic!("template of {role:?}"));
        assert_eq!(template.display_name.as_deref(), Some(role.display_name()));
    }

    let definitions: Vec<_> =
        graph.role_management().role_definitions().into_stream().try_collect().await.expect("definitions");
    assert!(definitions.len() >= templates.value.len());
    let global = graph
        .role_management()
        .role_definition(DirectoryRole::GlobalAdministrator.template_id())
        .send()
        .await
        .expect("definition");
    assert_eq!(global.display_name.as_deref(), Some("Global Administrator"));
    assert_eq!(global.template_id.as_ref().map(|t| t.as_str()), Some(DirectoryRole::GlobalAdministrator.template_id()));
    assert_eq!(global.is_built_in, Some(true));
    let err = graph.role_management().role_definition("0b1e2c3d-4f50-4a6b-8c7d-9e0f1a2b3c4d").send().await;
    assert!(err.expect_err("unknown definition").is_not_found());
}

#[tokio::test]
async fn role_assignments_are_created_filtered_read_and_deleted_and_show_in_directory_roles() {
    let mock = plain_mock().await;
    let graph = client_for(&mock);
    let user = create_user(&graph, &mock, "rbac").await;
    let template = DirectoryRole::HybridIdentityAdministrator.template_id();

    let created = graph
        .role_management()
        .assign(UnifiedRoleAssignment::tenant_wide(&user, template))
        .send()
        .await
        .expect("assign");
    let assignment_id = created.id.clone().expect("opaque id");
    assert_eq!(created.principal_id.as_ref().map(|p| p.as_str()), Some(user.as_str()));
    assert_eq!(created.role_definition_id, Some(RoleDefinitionId::new(template)));
    assert_eq!(created.directory_scope_id.as_deref(), Some("/"));

    let mine = graph
        .role_management()
        .role_assignments()
        .filter(Filter::eq("principalId", user.as_str()))
        .send()
        .await
        .expect("filter");
    assert_eq!(mine.value.len(), 1);
    assert_eq!(mine.value[0].id.as_ref(), Some(&assignment_id));

    let read = graph.role_management().role_assignment(&assignment_id).send().await.expect("get");
    assert_eq!(read.principal_id.as_ref().map(|p| p.as_str()), Some(user.as_str()));

    // One set of assignments behind both views: the legacy role is active with the member.
    let roles = graph.directory_roles().list().send().await.expect("directory roles");
    let legacy = roles
        .value
        .iter()
        .find(|r| r.role_template_id.as_ref().map(|t| t.as_str()) == Some(template))
        .expect("activated by the assignment");
    let members = graph.directory_roles().members(legacy.id.clone().expect("id")).send().await.expect("members");
    assert!(ids(&members.value).contains(&user.as_str()));

    graph.role_management().unassign(&assignment_id).send().await.expect("delete");
    assert!(graph.role_management().role_assignment(&assignment_id).send().await.expect_err("gone").is_not_found());
    let mine = graph
        .role_management()
        .role_assignments()
        .filter(Filter::eq("principalId", user.as_str()))
        .send()
        .await
        .expect("filter");
    assert!(mine.value.is_empty());
}

#[tokio::test]
async fn groups_are_created_listed_updated_given_members_and_owners_and_deleted() {
    let mock = plain_mock().await;
    let graph = client_for(&mock);
    let alice = create_user(&graph, &mock, "galice").await;
    let bob = create_user(&graph, &mock, "gbob").await;

    let created =
        graph.groups().create(Group::security("SDK Provisioned", "sdkprovisioned")).send().await.expect("create");
    let id = created.id.clone().expect("id");
    assert_eq!(created.security_enabled, Some(true));
    assert_eq!(created.mail_enabled, Some(false));
    assert_eq!(created.group_types.as_deref(), Some(&[][..]));

    let listed = graph
        .groups()
        .list()
        .filter(Filter::eq("displayName", "SDK Provisioned"))
        .select(["id", "displayName"])
        .send()
        .await
        .expect("list");
    assert_eq!(listed.value.len(), 1);
    assert_eq!(listed.value[0].id.as_ref(), Some(&id));

    graph
        .groups()
        .update(&id, Group { description: Some("made by the SDK tests".into()), ..Default::default() })
        .send()
        .await
        .expect("update");
    let read = graph.groups().get(&id).select(["id", "description"]).send().await.expect("get");
    assert_eq!(read.description.as_deref(), Some("made by the SDK tests"));

    graph.groups().add_member(&id, alice.as_str()).send().await.expect("add alice");
    graph.groups().add_member(&id, bob.as_str()).send().await.expect("add bob");
    let duplicate = graph.groups().add_member(&id, bob.as_str()).send().await.expect_err("bob twice");
    let duplicate = duplicate.as_graph_error().expect("api error");
    assert_eq!((duplicate.status, duplicate.code.as_str()), (400, "Request_BadRequest"));
    let members: Vec<DirectoryObject> = graph.groups().members(&id).into_stream().try_collect().await.expect("members");
    let mut member_ids = ids(&members);
    member_ids.sort_unstable();
    let mut expected = vec![alice.as_str(), bob.as_str()];
    expected.sort_unstable();
    assert_eq!(member_ids, expected);
    assert!(members.iter().all(|m| m.odata_type.as_deref() == Some("#microsoft.graph.user")));
    let as_user: User = members[0].to_model().expect("a member converts to a User");
    assert!(as_user.user_principal_name.is_some());

    graph.groups().remove_member(&id, bob.as_str()).send().await.expect("remove bob");
    let members = graph.groups().members(&id).send().await.expect("members");
    assert_eq!(ids(&members.value), vec![alice.as_str()]);

    graph.groups().add_owner(&id, bob.as_str()).send().await.expect("add owner");
    let owners = graph.groups().owners(&id).send().await.expect("owners");
    assert_eq!(ids(&owners.value), vec![bob.as_str()]);
    graph.groups().remove_owner(&id, bob.as_str()).send().await.expect("remove owner");
    assert!(graph.groups().owners(&id).send().await.expect("owners").value.is_empty());

    let member_of = graph.users().member_of(&alice).send().await.expect("memberOf");
    assert!(member_of.value.iter().any(|o| o.odata_type.as_deref() == Some("#microsoft.graph.group")
        && o.id.as_ref().map(|i| i.as_str()) == Some(id.as_str())));

    graph.groups().delete(&id).send().await.expect("delete");
    assert!(graph.groups().get(&id).send().await.expect_err("deleted").is_not_found());
    let deleted = graph.deleted_items().groups().send().await.expect("deleted groups");
    assert!(deleted.value.iter().any(|g| g.id.as_ref() == Some(&id)));
}

#[tokio::test]
async fn a_manager_is_set_read_and_removed() {
    let mock = plain_mock().await;
    let graph = client_for(&mock);
    let boss = create_user(&graph, &mock, "boss").await;
    let report = create_user(&graph, &mock, "report").await;

    let none = graph.users().manager(&report).send().await.expect_err("no manager yet");
    assert_eq!(none.as_graph_error().expect("api error").code, "Request_ResourceNotFound");

    graph.users().set_manager(&report, boss.as_str()).send().await.expect("set manager");
    let manager = graph.users().manager(&report).send().await.expect("manager");
    assert_eq!(manager.id.as_ref().map(|i| i.as_str()), Some(boss.as_str()));
    assert_eq!(manager.odata_type.as_deref(), Some("#microsoft.graph.user"));
    assert_eq!(manager.display_name.as_deref(), Some("Dir boss"));

    let expanded = graph.users().get(&report).expand(["manager"]).send().await.expect("$expand=manager");
    assert_eq!(expanded.manager.and_then(|m| m.id).map(|i| i.into_string()), Some(boss.to_string()));

    graph.users().remove_manager(&report).send().await.expect("remove manager");
    assert!(graph.users().manager(&report).send().await.expect_err("removed").is_not_found());
}

#[tokio::test]
async fn licences_need_a_usage_location_and_then_show_in_license_details_and_skus() {
    let mock = plain_mock().await;
    let graph = client_for(&mock);
    let user = create_user(&graph, &mock, "licensed").await;

    let skus = graph.subscribed_skus().list().send().await.expect("subscribedSkus");
    assert!(!skus.value.is_empty(), "every tenant has seeded SKUs");
    let sku = skus.value[0].clone();
    let sku_id = sku.sku_id.clone().expect("skuId");
    let consumed_before = sku.consumed_units.expect("consumedUnits");
    assert!(sku.sku_part_number.is_some());

    let change = || AssignLicense {
        add_licenses: vec![AssignedLicense { sku_id: Some(sku_id.clone()), ..Default::default() }],
        remove_licenses: vec![],
    };
    let refused = graph.users().assign_license(&user, change()).send().await.expect_err("no usageLocation");
    let refused = refused.as_graph_error().expect("api error");
    assert_eq!(refused.status, 400);
    assert_eq!(refused.code, "Request_BadRequest");
    assert!(graph.users().license_details(&user).send().await.expect("details").value.is_empty());

    graph
        .users()
        .update(&user, User { usage_location: Some("SE".into()), ..Default::default() })
        .send()
        .await
        .expect("usageLocation");
    let licensed = graph.users().assign_license(&user, change()).send().await.expect("assignLicense");
    assert_eq!(licensed.id.as_ref(), Some(&user));

    let details = graph.users().license_details(&user).send().await.expect("licenseDetails");
    assert_eq!(details.value.len(), 1);
    assert_eq!(details.value[0].sku_id.as_ref(), Some(&sku_id));
    assert_eq!(details.value[0].sku_part_number, sku.sku_part_number);

    let read = graph.users().get(&user).select(["id", "assignedLicenses"]).send().await.expect("get");
    assert_eq!(read.assigned_licenses.map(|l| l.len()), Some(1));
    let skus = graph.subscribed_skus().list().send().await.expect("subscribedSkus");
    let after = skus.value.iter().find(|s| s.sku_id.as_ref() == Some(&sku_id)).expect("same sku");
    assert_eq!(after.consumed_units, Some(consumed_before + 1));

    let remove = AssignLicense { add_licenses: vec![], remove_licenses: vec![sku_id.clone()] };
    graph.users().assign_license(&user, remove).send().await.expect("remove licence");
    assert!(graph.users().license_details(&user).send().await.expect("details").value.is_empty());
}

#[tokio::test]
async fn users_delta_returns_everything_then_only_what_changed() {
    let mock = plain_mock().await;
    let graph = client_for(&mock);
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(create_user(&graph, &mock, &format!("delta{i}")).await);
    }

    let initial = graph.users().delta().select(["id", "displayName"]).send().await.expect("initial round");
    let link = initial.delta_link.clone().expect("a delta link after the last page");
    let seen: Vec<&str> = initial
        .changes
        .iter()
        .filter_map(|c| match c {
            DeltaItem::Changed(u) => u.id.as_ref().map(|i| i.as_str()),
            DeltaItem::Removed { .. } => None,
        })
        .collect();
    assert!(created.iter().all(|id| seen.contains(&id.as_str())), "the initial round lists every user");

    let quiet = graph.users().delta_from(link.clone()).send().await.expect("nothing changed");
    assert!(quiet.changes.is_empty(), "{:?}", quiet.changes);
    let link = quiet.delta_link.unwrap_or(link);

    graph
        .users()
        .update(&created[2], User { display_name: Some("Renamed In Delta".into()), ..Default::default() })
        .send()
        .await
        .expect("change");
    let round = graph.users().delta_from(link).send().await.expect("second round");
    assert_eq!(round.changes.len(), 1, "{:?}", round.changes);
    match &round.changes[0] {
        DeltaItem::Changed(u) => {
            assert_eq!(u.id.as_ref(), Some(&created[2]));
            assert_eq!(u.display_name.as_deref(), Some("Renamed In Delta"));
        }
        other => panic!("expected a change, got {other:?}"),
    }

    graph.users().delete(&created[3]).send().await.expect("delete");
    let round = graph.users().delta_from(round.delta_link.expect("link")).send().await.expect("third round");
    assert_eq!(
        round.changes,
        vec![DeltaItem::Removed { id: created[3].to_string(), reason: "changed".into() }],
        "a soft delete is @removed with reason changed"
    );
}

/// Graph's delta rules: the initial delta call takes `$select` and `$filter=id eq '…' or id eq '…'`
/// (the only filter allowed), which is how a provisioning tool tracks a known set of users.
#[tokio::test]
async fn users_delta_can_track_a_few_users_by_id() {
    let mock = plain_mock().await;
    let graph = client_for(&mock);
    let tracked = [create_user(&graph, &mock, "track0").await, create_user(&graph, &mock, "track1").await];
    let other = create_user(&graph, &mock, "untracked").await;

    let initial = graph
        .users()
        .delta()
        .select(["id", "displayName"])
        .filter(Filter::eq("id", tracked[0].as_str()).or(Filter::eq("id", tracked[1].as_str())))
        .send()
        .await
        .expect("id-filtered delta");
    let mut seen: Vec<String> = initial
        .changes
        .iter()
        .filter_map(|c| match c {
            DeltaItem::Changed(u) => u.id.as_ref().map(|i| i.to_string()),
            DeltaItem::Removed { .. } => None,
        })
        .collect();
    seen.sort_unstable();
    let mut expected: Vec<String> = tracked.iter().map(|t| t.to_string()).collect();
    expected.sort_unstable();
    assert_eq!(seen, expected);

    for id in [&tracked[0], &other] {
        graph
            .users()
            .update(id, User { display_name: Some("Changed".into()), ..Default::default() })
            .send()
            .await
            .expect("change");
    }
    let round = graph.users().delta_from(initial.delta_link.expect("link")).send().await.expect("next round");
    assert_eq!(round.changes.len(), 1, "only the tracked user's change: {:?}", round.changes);
}

#[tokio::test]
async fn groups_delta_reports_a_new_group_then_only_the_change() {
    let mock = plain_mock().await;
    let graph = client_for(&mock);
    let first = graph.groups().create(Group::security("Delta One", "deltaone")).send().await.expect("create");
    let first_id = first.id.expect("id");

    let initial = graph.groups().delta().select(["id", "displayName", "description"]).send().await.expect("initial");
    assert!(initial.changes.iter().any(|c| matches!(c, DeltaItem::Changed(g) if g.id.as_ref() == Some(&first_id))));
    let link = initial.delta_link.expect("delta link");

    graph
        .groups()
        .update(&first_id, Group { description: Some("changed".into()), ..Default::default() })
        .send()
        .await
        .expect("update");
    let round = graph.groups().delta_from(link).send().await.expect("second round");
    assert_eq!(round.changes.len(), 1, "{:?}", round.changes);
    match &round.changes[0] {
        DeltaItem::Changed(g) => {
            assert_eq!(g.id.as_ref(), Some(&first_id));
            assert_eq!(g.description.as_deref(), Some("changed"));
        }
        other => panic!("expected a change, got {other:?}"),
    }
}

#[tokio::test]
async fn a_batch_runs_dependencies_in_order_and_answers_424_after_a_failure() {
    let mock = plain_mock().await;
    let graph = client_for(&mock);
    let upn = format!("batchuser@{}", mock.tenant_domain());
    let new = User::new("Batch User", "batchuser", &upn, "Qw!9r-Tz7m#Lp2");
    let patch = User { usage_location: Some("SE".into()), ..Default::default() };
    let missing = format!("/users/{}", uuid::uuid!("0b1e2c3d-4f50-4a6b-8c7d-9e0f1a2b3c4d"));

    let answers = graph
        .batch()
        .request(BatchItem::post("a", "/users", &new).expect("body"))
        .request(BatchItem::patch("b", format!("/users/{upn}"), &patch).expect("body").depends_on(["a"]))
        .request(BatchItem::get("c", format!("{missing}?$select=id")))
        .request(BatchItem::patch("d", missing, &patch).expect("body").depends_on(["c"]))
        .request(BatchItem::get("e", "/users?$filter=startswith(displayName,'Batch')&$select=id,displayName"))
        .send()
        .await
        .expect("batch");
    assert_eq!(answers.responses.len(), 5);

    let a = answers.get("a").expect("a");
    assert_eq!(a.status, 201);
    let created: User = a.json().expect("created user");
    assert_eq!(created.user_principal_name.as_deref(), Some(upn.as_str()));
    assert_eq!(answers.get("b").expect("b").status, 204);
    answers.get("b").expect("b").json::<()>().expect("204 is ()");

    let c = answers.get("c").expect("c");
    assert_eq!(c.status, 404);
    let c_error = c.error().expect("c failed");
    assert_eq!(c_error.code, "Request_ResourceNotFound");
    assert!(c.json::<User>().expect_err("an error").is_not_found());
    let d = answers.get("d").expect("d");
    assert_eq!(d.status, 424, "a request whose dependency failed is not run");
    assert!(d.error().is_some());

    let e = answers.get("e").expect("e");
    assert!(e.is_success());

    let read = graph.users().get(upn.as_str()).select(["id", "usageLocation"]).send().await.expect("b applied");
    assert_eq!(read.usage_location.as_deref(), Some("SE"));
}
