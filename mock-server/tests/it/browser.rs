//! A real browser on the sign-in page: Debian's Chromium, headless, driven
//! over the DevTools protocol by `clients/browser_signin.py`. `.ci/run`
//! installs Chromium and sets `GRAPHBOX_CHROMIUM`; under CI a missing browser
//! or Python is a failure, never a skip.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_chromium_signs_in_consents_and_lands_on_the_redirect_with_a_code() {
    let (Some(python), Some(chromium)) =
        (std::env::var_os("GRAPHBOX_MSAL_PYTHON"), std::env::var_os("GRAPHBOX_CHROMIUM"))
    else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must set GRAPHBOX_MSAL_PYTHON and GRAPHBOX_CHROMIUM (see .ci/run)"
        );
        eprintln!("skipped: set GRAPHBOX_CHROMIUM (and GRAPHBOX_MSAL_PYTHON, a Python with requests) to run this test");
        return;
    };
    let mock = graphbox_mock::Graphbox::start().await.expect("HTTPS mock starts");
    let ca_file = mock.ca_file().expect("HTTPS has a CA file").to_owned();
    // The browser script takes Chromium's path before the mock's facts.
    let mut args = vec![chromium];
    args.extend(crate::support::client_args(&mock));
    let result = crate::support::run_client_script(python, "browser_signin.py", args, ca_file).await;
    assert_eq!(result["signin_title"], "Sign in to your account", "{result}");
    assert_eq!(result["consent_shown"], true, "{result}");
    assert_eq!(result["landed"]["state"], "browser-state", "{result}");
    assert!(result["landed"]["code"].is_string(), "{result}");
    assert_eq!(result["redeemed"], 200, "{result}");
    let cookie = &result["cookie"][0];
    assert_eq!(
        (cookie["name"].as_str(), cookie["httpOnly"].as_bool(), cookie["secure"].as_bool()),
        (Some("ESTSAUTH"), Some(true), Some(true)),
        "{result}"
    );
    assert_eq!(cookie["sameSite"], "Lax", "{result}");
}
