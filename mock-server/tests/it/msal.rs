//! Microsoft's own client library, unmodified, against the mock over HTTPS.
//! `.ci/run` installs MSAL for Python into a venv and
//! points `GRAPHBOX_MSAL_PYTHON` at its interpreter; elsewhere the test says
//! it was skipped, and under CI a missing interpreter is a failure.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msal_python_gets_tokens_from_the_mock_and_lists_users_over_https() {
    let Some(python) = std::env::var_os("GRAPHBOX_MSAL_PYTHON") else {
        assert!(std::env::var_os("CI").is_none(), "CI must set GRAPHBOX_MSAL_PYTHON (see .ci/run)");
        eprintln!("skipped: set GRAPHBOX_MSAL_PYTHON to a Python with msal installed to run this test");
        return;
    };
    let mock = graphbox_mock::Graphbox::start().await.expect("HTTPS mock starts");
    let ca_file = mock.ca_file().expect("HTTPS has a CA file").to_owned();
    let args = crate::support::client_args(&mock);
    let result = crate::support::run_client_script(python, "msal_smoke.py", args, ca_file).await;
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
    let mut args = crate::support::client_args(&mock);
    args.push(mock.control_url().into());
    let result = crate::support::run_client_script(python, "msal_signin.py", args, ca_file).await;
    assert_eq!(result["auth_code"]["token_type"], "Bearer", "{result}");
    assert_eq!(result["auth_code_user"], mock.admin_username(), "{result}");
    assert_eq!(result["device"]["token_type"], "Bearer", "{result}");
    assert_eq!(result["device_page"], true, "{result}");
    assert_eq!(result["issuer_registered"], 200, "{result}");
    assert_eq!(result["federated"]["token_type"], "Bearer", "{result}");
    assert_eq!(result["api_token"]["token_type"], "Bearer", "{result}");
    assert_eq!(result["obo"]["token_type"], "Bearer", "{result}");
}
