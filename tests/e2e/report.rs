//! The least-privilege report over the whole flow: with `authz: "report-only"`, the flow runs
//! even with permissions it lacks, and the report says exactly which ones it needed.

use graphbox::sdk::onboarding::PermissionsReport;
use graphbox::sdk::permissions::GraphPermission;
use graphbox::sdk::provisioning::{parse_csv, ProgressMode, Provisioner, Script, GUIDE_SCRIPT};
use serde_json::{json, Value};

use crate::support::{client_for, events, tenant};

#[tokio::test]
async fn report_only_discovers_the_exact_permissions_onboarding_and_provisioning_need() {
    let t = tenant().await;
    let put = t.http.put(t.control("/authz")).json(&json!({"authz": "report-only"})).send().await.unwrap();
    assert_eq!(put.status(), 200);
    // The product's app asks for one narrow permission: provisioning needs more, and report-only
    // lets its calls through so one run finds out what.
    let mock = t.mock.clone();
    let done = graphbox::sdk::onboarding::Onboarding::new(t.admin(), move |c| client_for(&mock, c))
        .display_name("least privilege")
        .application_permissions([GraphPermission::UserReadAll])
        .waiter(t.waiter())
        .on_event({
            let events = events();
            move |e| events.lock().expect("events lock").push(e.clone())
        })
        .run()
        .await
        .expect("onboarding");
    let csv = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/source.csv")).unwrap();
    let source = parse_csv(&csv.replace("{domain}", &t.domain())).expect("sample parses");
    let p = Provisioner::new(t.client(done.client_id.as_str(), &done.client_secret))
        .script(Script::new(GUIDE_SCRIPT).expect("script"))
        .progress(ProgressMode::Never);
    let report = p.apply(&p.plan(&source).await.expect("plan")).await;
    assert_eq!((report.created, report.refused), (source.len(), 0), "{report}");

    let report: Value = t.http.get(t.control("/permissions-report")).send().await.unwrap().json().await.unwrap();
    let caller = |id: &str| {
        report["callers"].as_array().unwrap().iter().find(|c| c["clientId"] == id).cloned().expect("in the report")
    };
    // The SDK's typed view of the same report, as a product's CI would read it.
    let typed = PermissionsReport::fetch(&t.http, t.mock.control_url(), &t.mock.tenant_id().to_string())
        .await
        .expect("the report");
    let product = typed.application(done.client_id.as_str()).expect("the product's app is in the report");
    assert_eq!(product.held, ["User.Read.All"]);
    // Provisioning lists users, creates them, reads the organization (its DirSync state) and
    // the domains (a federated domain's users need an immutable id).
    assert_eq!(
        product.least_privileged,
        ["Domain.Read.All", "Organization.Read.All", "User.ReadWrite.All"],
        "{product:#?}"
    );
    assert_eq!(product.missing, ["Domain.Read.All", "Organization.Read.All", "User.ReadWrite.All"]);
    assert_eq!(product.beyond_needs, ["User.Read.All"]);
    let onboarding = caller(&t.mock.client_id().to_string());
    // Onboarding (app registration, consent, role assignment) needs 7 of the 11 permissions the
    // bootstrap application holds.
    let needed = json!([
        "AppRoleAssignment.ReadWrite.All",
        "Application.Read.All",
        "Application.ReadWrite.OwnedBy",
        "DelegatedPermissionGrant.ReadWrite.All",
        "Organization.Read.All",
        "RoleManagement.ReadWrite.Directory",
        "User.Read.All"
    ]);
    assert_eq!(onboarding["leastPrivileged"], needed, "{onboarding:#}");
    let unneeded = json!([
        "Application.ReadWrite.All",
        "Directory.ReadWrite.All",
        "Domain.ReadWrite.All",
        "Group.ReadWrite.All",
        "OnPremDirectorySynchronization.ReadWrite.All",
        "Organization.ReadWrite.All",
        "User.DeleteRestore.All",
        "User.ReadWrite.All"
    ]);
    assert_eq!(onboarding["beyondNeeds"], unneeded);
    // Its broad permissions allowed every call: it lacked nothing, though Application.ReadWrite.OwnedBy
    // (least privileged for what it did) is not among what it holds.
    assert_eq!(onboarding["missing"], json!([]));
    let performed: Vec<&str> =
        onboarding["operations"].as_array().unwrap().iter().map(|o| o["operation"].as_str().unwrap()).collect();
    assert!(performed.contains(&"servicePrincipals.appRoleAssignedTo.create.graph"), "{performed:?}");
}
