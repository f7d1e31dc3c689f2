//! The dashboard: page contents and its guards over HTTP, and a real browser
//! (Debian's Chromium, headless, driven by `clients/dashboard_browser.py` over
//! the DevTools protocol) that uses it as a person would.

use serde_json::Value;

use crate::support::env;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_chromium_finds_a_user_advances_dirsync_and_sees_a_403_arrive_in_the_live_log() {
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
    let mock = graphbox_mock::Graphbox::builder().plain_http().start().await.expect("mock starts");
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard-screenshots");
    let args: Vec<std::ffi::OsString> = vec![
        chromium,
        mock.control_url().into(),
        mock.authority().into(),
        mock.tenant_id().to_string().into(),
        mock.client_id().to_string().into(),
        mock.client_secret().into(),
        mock.tenant_domain().into(),
        shots.clone().into(),
    ];
    let r: Value = crate::support::run_client_script(python, "dashboard_browser.py", args, "/dev/null".into()).await;
    assert_eq!(r["tenants_title"], "Tenants · graphbox", "{r}");
    assert_eq!((r["found_user"].as_bool(), r["xss_as_text"].as_bool()), (Some(true), Some(true)), "{r}");
    assert_eq!((r["images_on_page"].as_u64(), r["object_images"].as_u64()), (Some(0), Some(0)), "{r}");
    assert_eq!(r["dialogs"], 0, "no script from the tenant ran: {r}");
    assert_eq!(r["object_json_has_upn"], true, "{r}");
    assert_eq!(
        (r["dirsync_before"].as_str(), r["current_marked_before"].as_str()),
        (Some("PendingEnabled"), Some("PendingEnabled")),
        "{r}"
    );
    assert_eq!(
        (r["dirsync_after"].as_str(), r["current_marked_after"].as_str()),
        (Some("Enabled"), Some("Enabled")),
        "{r}"
    );
    assert_eq!((r["forbidden_before"].as_u64(), r["refused_status"].as_u64()), (Some(0), Some(403)), "{r}");
    let row = r["forbidden_row"].as_str().unwrap_or_default();
    assert!(row.contains("/v1.0/users") && row.contains("403") && row.contains("lacked User.Read.All"), "{r}");
    assert_eq!(r["report_mentions_app"], true, "{r}");
    for page in ["tenants", "objects", "object", "dirsync", "settings", "requests", "report"] {
        assert!(shots.join(format!("{page}.png")).is_file(), "screenshot of {page} saved under target/");
    }
}

#[tokio::test]
async fn a_form_post_without_the_anti_forgery_value_or_from_another_origin_is_refused() {
    let env = env().await;
    let url = format!("{}/ui/tenants/{}/clock", env.mock.control_url(), env.mock.tenant_id());
    let before = env.mock.now();
    let no_token = env.http.post(&url).form(&[("seconds", "60")]).send().await.unwrap();
    assert_eq!(no_token.status(), 403);
    let page = env.http.get(format!("{}/ui/tenants/{}/dirsync", env.mock.control_url(), env.mock.tenant_id()));
    let page = page.send().await.unwrap().text().await.unwrap();
    let csrf = page.split("name=\"csrf\" value=\"").nth(1).and_then(|s| s.split('"').next()).expect("a token");
    let cross = env
        .http
        .post(&url)
        .header("origin", "http://evil.example")
        .form(&[("seconds", "60"), ("csrf", csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);
    let cross_site = env
        .http
        .post(&url)
        .header("sec-fetch-site", "cross-site")
        .form(&[("seconds", "60"), ("csrf", csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
    assert_eq!(env.mock.now(), before, "nothing changed");
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let ok = no_redirects
        .post(&url)
        .header("origin", env.mock.authority())
        .header("sec-fetch-site", "same-origin")
        .form(&[("seconds", "60"), ("csrf", csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 303);
    assert_eq!(env.mock.now() - before, time::Duration::seconds(60));
}

#[tokio::test]
async fn pages_escape_tenant_values_and_never_show_a_secret() {
    let env = env().await;
    env.create_user("xss", "<script>alert(1)</script>").await;
    let page = env.http.get(format!("{}/ui/tenants/{}", env.mock.control_url(), env.mock.tenant_id()));
    let response = page.send().await.unwrap();
    let csp = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let page = response.text().await.unwrap();
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!page.contains("<script>alert(1)"));
    assert!(!page.contains(env.mock.client_secret()), "the objects page shows hints, never a secret");
    let hint: String = env.mock.client_secret().chars().take(3).collect();
    assert!(page.contains(&format!("{hint}… until")), "the bootstrap secret's hint and expiry are shown");
}

#[tokio::test]
async fn the_live_log_is_server_sent_events_resuming_after_the_last_event_id() {
    let env = env().await;
    env.get("/users").await;
    let url = format!("{}/ui/tenants/{}/log/events", env.mock.control_url(), env.mock.tenant_id());
    let first = env.http.get(&url).send().await.unwrap();
    assert_eq!(first.headers()["content-type"], "text/event-stream");
    let text = first.text().await.unwrap();
    assert!(text.starts_with("retry: 1000\n\n"), "{text}");
    let last_id = text.lines().rev().find_map(|l| l.strip_prefix("id: ")).expect("an event").to_owned();
    assert!(text.contains("event: request\ndata: {"), "{text}");
    let again = env.http.get(&url).header("last-event-id", &last_id).send().await.unwrap().text().await.unwrap();
    assert_eq!(again, "retry: 1000\n\n", "nothing new since the last event");
    env.get("/groups").await;
    let more = env.http.get(&url).header("last-event-id", &last_id).send().await.unwrap().text().await.unwrap();
    assert_eq!(more.matches("event: request").count(), 1, "{more}");
    assert!(more.contains("/v1.0/groups"), "{more}");
}

#[tokio::test]
async fn with_an_admin_key_a_remote_browser_signs_in_once_and_the_cookie_opens_only_the_dashboard() {
    let mock =
        graphbox_mock::Graphbox::builder().plain_http().admin_key("s3cret-key").start().await.expect("mock starts");
    // A name the server does not know stands in for a remote browser: the loopback rule does not apply.
    let base = mock.control_url().replace("127.0.0.1", "localhost.invalid");
    let port: u16 = mock.authority().rsplit(':').next().and_then(|p| p.parse().ok()).expect("a port");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .resolve("localhost.invalid", std::net::SocketAddr::from(([127, 0, 0, 1], port)))
        .build()
        .unwrap();
    assert_eq!(http.get(format!("{base}/ui")).send().await.unwrap().status(), 403);
    assert_eq!(http.get(format!("{base}/ui/login")).send().await.unwrap().status(), 200);
    let wrong = http.post(format!("{base}/ui/login")).form(&[("key", "nope")]).send().await.unwrap();
    assert_eq!(wrong.status(), 403);
    let ok = http.post(format!("{base}/ui/login")).form(&[("key", "s3cret-key")]).send().await.unwrap();
    assert_eq!(ok.status(), 303);
    let cookie = ok.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/_graphbox/ui"));
    assert!(!cookie.contains("s3cret-key"), "the cookie is derived from the key, not the key");
    let pair = cookie.split(';').next().unwrap().to_owned();
    let page = http.get(format!("{base}/ui")).header("cookie", &pair).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let api = http.get(format!("{base}/tenants")).header("cookie", &pair).send().await.unwrap();
    assert_eq!(api.status(), 403, "the cookie does not open the JSON control API");
}

#[tokio::test]
async fn a_large_tenant_lists_the_first_objects_and_says_how_many_there_are() {
    let builder = graphbox_mock::Graphbox::builder().seed_users_with(|domain| {
        let domain = domain.to_owned();
        (0..600).map(move |i| {
            crate::support::new_user(&format!("u{i}@{domain}"), &format!("User {i}")).as_object().cloned().unwrap()
        })
    });
    let env = crate::support::env_with(builder).await;
    let page = env.http.get(format!("{}/ui/tenants/{}", env.mock.control_url(), env.mock.tenant_id()));
    let page = page.send().await.unwrap().text().await.unwrap();
    assert!(page.contains("The first 500 of 601."), "600 seeded users and the admin");
    assert_eq!(page.matches("/objects/users/").count(), 500);
}

#[tokio::test]
async fn a_service_principals_page_shows_the_delegated_consent_it_holds_and_for_whom() {
    let env = env().await;
    let sps = env.get(&format!("/servicePrincipals?$filter=appId eq '{}'&$select=id", env.mock.client_id())).await;
    let sp = sps.json()["value"][0]["id"].as_str().expect("the bootstrap app's service principal").to_owned();
    let url = format!("{}/ui/tenants/{}/objects/servicePrincipals/{sp}", env.mock.control_url(), env.mock.tenant_id());
    let page = env.http.get(url).send().await.unwrap().text().await.unwrap();
    let row = page.split("Delegated permissions consented</th><td>").nth(1).expect("the row").split("</td>").next();
    let row = row.unwrap_or_default();
    assert!(row.contains("User.Read ") && row.contains("on Microsoft Graph (all users)"), "{row}");
}
