//! Microsoft's Azure CLI, unmodified, against the mock over HTTPS through
//! `az cloud register`: a service principal login for ARM (no subscriptions),
//! then `az ad` users, groups (member check), applications, service principals
//! and their credentials, and `az rest`. `.ci/run` installs a pinned Azure CLI
//! into a venv and points `GRAPHBOX_AZ` at it; elsewhere the test says it was
//! skipped, and under CI a missing `az` is a failure.
//!
//! `az login -u … -p …` is not driven here: MSAL's user realm lookup drops a
//! non-default port from the authority, so it reaches only a mock on port
//! 443; the password grant it then makes, and the `/me` that
//! `az ad signed-in-user show` reads, are covered on the wire in `breadth.rs`.

use std::collections::HashMap;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_cli_logs_in_and_manages_users_groups_apps_and_service_principals() {
    let Some(az) = std::env::var_os("GRAPHBOX_AZ") else {
        assert!(std::env::var_os("CI").is_none(), "CI must set GRAPHBOX_AZ (see .ci/run)");
        eprintln!("skipped: set GRAPHBOX_AZ to an Azure CLI (`az`) to run this test");
        return;
    };
    let mock = graphbox_mock::Graphbox::start().await.expect("HTTPS mock starts");
    let ca_file = mock.ca_file().expect("HTTPS has a CA file").to_owned();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/clients/az_smoke.sh");
    let args = [
        az.to_string_lossy().into_owned(),
        mock.authority().to_owned(),
        mock.tenant_id().to_string(),
        mock.client_id().to_string(),
        mock.client_secret().to_owned(),
        mock.tenant_domain().to_owned(),
        ca_file.display().to_string(),
    ];
    let output =
        tokio::task::spawn_blocking(move || std::process::Command::new("bash").arg(script).args(args).output())
            .await
            .expect("the task ran")
            .expect("bash starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "az script failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let steps: HashMap<&str, &str> = stdout.lines().filter_map(|l| l.split_once('\t')).collect();
    let upn = format!("azuser@{}", mock.tenant_domain());
    let tenant = mock.tenant_id().to_string();
    for (step, want) in [
        ("login", tenant.as_str()),
        ("user_create", upn.as_str()),
        ("user_update", "Az Tester"),
        ("user_list", "1"),
        ("member_check", "true"),
        ("app_update", "hello"),
        ("sp_show", "azapp"),
        ("sp_list", "1"),
        ("rest_role_assignment", "62e90394-69f5-4237-9190-012177145e10"),
        ("app_deleted", "0"),
        ("user_deleted", "0"),
    ] {
        assert_eq!(steps.get(step).copied(), Some(want), "{step}:\n{stdout}");
    }
    let app = steps.get("app_list").copied().unwrap_or_default();
    assert!(uuid::Uuid::parse_str(app).is_ok(), "app list found the app:\n{stdout}");
    for step in ["app_credential", "sp_create", "sp_credential"] {
        assert_eq!(steps.get(step).copied(), Some(app), "{step}:\n{stdout}");
    }
    assert!(steps.get("member_list").is_some_and(|id| uuid::Uuid::parse_str(id).is_ok()), "{stdout}");
}
