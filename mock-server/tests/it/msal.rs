//! Microsoft's own client library, unmodified, against the mock over HTTPS
//! (reference/clients.md). `.ci/run` installs MSAL for Python into a venv and
//! points `GRAPHBOX_MSAL_PYTHON` at its interpreter; elsewhere the test says
//! it was skipped, and under CI a missing interpreter is a failure.

use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msal_python_gets_tokens_from_the_mock_and_lists_users_over_https() {
    let Some(python) = std::env::var_os("GRAPHBOX_MSAL_PYTHON") else {
        assert!(std::env::var_os("CI").is_none(), "CI must set GRAPHBOX_MSAL_PYTHON (see .ci/run)");
        eprintln!("skipped: set GRAPHBOX_MSAL_PYTHON to a Python with msal installed to run this test");
        return;
    };
    let mock = graphbox_mock::Graphbox::start().await.expect("HTTPS mock starts");
    let ca_file = mock.ca_file().expect("HTTPS has a CA file").to_owned();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/clients/msal_smoke.py");
    let args = [
        mock.authority().to_owned(),
        mock.tenant_id().to_string(),
        mock.client_id().to_string(),
        mock.client_secret().to_owned(),
        mock.admin_username().to_owned(),
        mock.admin_password().to_owned(),
    ];
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python).arg(script).args(args).env("REQUESTS_CA_BUNDLE", ca_file).output()
    })
    .await
    .expect("the task ran")
    .expect("python starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "msal script failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let result: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(result["client_credentials"]["token_type"], "Bearer", "{result}");
    assert_eq!(result["list_users_status"], 200, "{result}");
    assert_eq!(result["list_users_count"], 1, "{result}");
    assert_eq!(result["password"]["token_type"], "Bearer", "{result}");
    assert_eq!(result["accounts"][0], mock.admin_username(), "{result}");
    assert_eq!(result["refreshed"], true, "{result}");
}

/// The sign-in flows with MSAL Python: the authorization code flow through the
/// real sign-in and consent forms, the device code flow approved on the
/// verification page, a federated credential's client assertion, and
/// `acquire_token_on_behalf_of` with a token the front end got for a middle tier.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msal_python_signs_in_with_auth_code_device_obo_and_a_federated_assertion() {
    let Some(python) = std::env::var_os("GRAPHBOX_MSAL_PYTHON") else {
        assert!(std::env::var_os("CI").is_none(), "CI must set GRAPHBOX_MSAL_PYTHON (see .ci/run)");
        eprintln!("skipped: set GRAPHBOX_MSAL_PYTHON to a Python with msal installed to run this test");
        return;
    };
    let mock = graphbox_mock::Graphbox::start().await.expect("HTTPS mock starts");
    let ca_file = mock.ca_file().expect("HTTPS has a CA file").to_owned();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/clients/msal_signin.py");
    let args = [
        mock.authority().to_owned(),
        mock.tenant_id().to_string(),
        mock.client_id().to_string(),
        mock.client_secret().to_owned(),
        mock.admin_username().to_owned(),
        mock.admin_password().to_owned(),
        mock.control_url().to_owned(),
    ];
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python).arg(script).args(args).env("REQUESTS_CA_BUNDLE", ca_file).output()
    })
    .await
    .expect("the task ran")
    .expect("python starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "msal script failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let result: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(result["auth_code"]["token_type"], "Bearer", "{result}");
    assert_eq!(result["auth_code_user"], mock.admin_username(), "{result}");
    assert_eq!(result["device"]["token_type"], "Bearer", "{result}");
    assert_eq!(result["device_page"], true, "{result}");
    assert_eq!(result["issuer_registered"], 200, "{result}");
    assert_eq!(result["federated"]["token_type"], "Bearer", "{result}");
    assert_eq!(result["api_token"]["token_type"], "Bearer", "{result}");
    assert_eq!(result["obo"]["token_type"], "Bearer", "{result}");
}
