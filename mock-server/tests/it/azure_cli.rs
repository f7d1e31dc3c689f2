//! Microsoft's Azure CLI, unmodified, against the mock over HTTPS through
//! `az cloud register`: a service principal login for ARM (no subscriptions),
//! then `az ad` users, groups (member check), applications, service principals
//! and their credentials, and `az rest`. `.ci/run` installs a pinned Azure CLI
//! into a venv and points `GRAPHBOX_AZ` at it; elsewhere the test says it was
//! skipped, and under CI a missing `az` is a failure.
//!
//! Then `az login -u … -p …` and `az ad signed-in-user show`. MSAL for Python
//! (1.39.0 in Azure CLI 2.91.0, `Authority.user_realm_discovery`) builds the
//! user realm URL as `https://{hostname}/common/userrealm/{user}` from the
//! authority's host name alone, so that one request goes to port 443 whatever
//! port the authority names (with `--debug`: `Starting new HTTPS connection
//! (1): 127.0.0.1:443` … `Connection refused`). Against graphbox on 443 (or
//! behind a forward from 443) nothing else is needed; the test cannot bind
//! 443 unprivileged, so it stands in for that forward: `az` runs with
//! `HTTPS_PROXY` set to [`port_443_proxy`], a CONNECT proxy that opens a
//! tunnel to the mock's port when asked for port 443 of the loopback host
//! and to the port asked for otherwise. TLS runs end to end through it, so
//! `az` still verifies the mock's certificate; graphbox itself is unchanged.

use std::collections::HashMap;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// A CONNECT proxy on a loopback port that tunnels `127.0.0.1:443` (and
/// `localhost:443`) to the mock's `port`, any other loopback port to itself,
/// and refuses every other host: what a port forward from 443 would do.
async fn port_443_proxy(port: u16) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let url = format!("http://{}", listener.local_addr().expect("bound"));
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(tunnel(client, port));
        }
    });
    url
}

/// Creates a tenant through the control API and, in it, an application with
/// `signInAudience` `AzureADMultipleOrgs`; returns its `appId` and that tenant's id.
async fn multi_tenant_app_elsewhere(mock: &graphbox_mock::Graphbox, ca_file: &std::path::Path) -> (String, String) {
    let pem = std::fs::read(ca_file).expect("the CA file is readable");
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("CA is PEM"))
        .build()
        .expect("client builds");
    let other: serde_json::Value = http
        .post(format!("{}/tenants", mock.control_url()))
        .send()
        .await
        .expect("control API answers")
        .json()
        .await
        .expect("ready-line JSON");
    let home = other["tenant_id"].as_str().expect("tenant_id").to_owned();
    let token_url = format!("{}/{home}/oauth2/v2.0/token", mock.authority());
    let token = crate::support::token_for(
        &http,
        &token_url,
        other["client_id"].as_str().expect("client_id"),
        other["client_secret"].as_str().expect("client_secret"),
    )
    .await;
    let app: serde_json::Value = http
        .post(format!("{}/applications", mock.graph_url()))
        .bearer_auth(token)
        .json(&serde_json::json!({"displayName": "vendor", "signInAudience": "AzureADMultipleOrgs"}))
        .send()
        .await
        .expect("Graph answers")
        .json()
        .await
        .expect("JSON");
    (app["appId"].as_str().expect("the application was created").to_owned(), home)
}

async fn tunnel(client: TcpStream, mock_port: u16) -> std::io::Result<()> {
    let mut client = BufReader::new(client);
    let mut head = String::new();
    client.read_line(&mut head).await?;
    loop {
        let mut line = String::new();
        if client.read_line(&mut line).await? == 0 || line == "\r\n" {
            break;
        }
    }
    let target = match head.split(' ').collect::<Vec<_>>().as_slice() {
        ["CONNECT", authority, _] => authority.rsplit_once(':').and_then(|(host, port)| {
            let port: u16 = port.parse().ok()?;
            matches!(host, "127.0.0.1" | "localhost").then_some((host.to_owned(), port))
        }),
        _ => None,
    };
    let Some((host, port)) = target else {
        return client.get_mut().write_all(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n").await;
    };
    let port = if port == 443 { mock_port } else { port };
    let mut upstream = TcpStream::connect((host.as_str(), port)).await?;
    client.get_mut().write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await?;
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await.map(|_| ())
}

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
        mock.admin_username().to_owned(),
        mock.admin_password().to_owned(),
    ];
    // A vendor's multi-tenant application registered in another tenant of
    // the server, for `az ad sp create --id` to instantiate here.
    let (vendor_app, vendor_home) = multi_tenant_app_elsewhere(&mock, &ca_file).await;
    let mut args = args.to_vec();
    args.push(vendor_app.clone());
    let port = mock.authority().rsplit_once(':').and_then(|(_, p)| p.parse().ok()).expect("the authority has a port");
    let proxy = port_443_proxy(port).await;
    let output = tokio::task::spawn_blocking(move || {
        let mut command = std::process::Command::new("bash");
        command.arg(script).args(args).env("HTTPS_PROXY", proxy).env_remove("NO_PROXY").env_remove("no_proxy");
        crate::support::output_within(command, script)
    })
    .await
    .expect("the task ran");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "az script failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let steps: HashMap<&str, &str> = stdout.lines().filter_map(|l| l.split_once('\t')).collect();
    assert_eq!(
        steps.get("sp_create_vendor").copied(),
        Some(vendor_home.as_str()),
        "owned by its home tenant:\n{stdout}"
    );
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
        ("user_login", tenant.as_str()),
        ("user_login_type", "user"),
        ("signed_in_user", mock.admin_username()),
        ("signed_in_user_name", "Graphbox Admin"),
    ] {
        assert_eq!(steps.get(step).copied(), Some(want), "{step}:\n{stdout}");
    }
    let app = steps.get("app_list").copied().unwrap_or_default();
    assert!(uuid::Uuid::parse_str(app).is_ok(), "app list found the app:\n{stdout}");
    for step in ["app_credential", "sp_create", "sp_credential"] {
        assert_eq!(steps.get(step).copied(), Some(app), "{step}:\n{stdout}");
    }
    assert!(steps.get("member_list").is_some_and(|id| uuid::Uuid::parse_str(id).is_ok()), "{stdout}");
    // Not graphbox's refusal: az checks the cloud before it calls the portal's
    // consent API (which is not Graph, so no mock could answer it).
    assert_eq!(
        steps.get("admin_consent").copied(),
        Some("ERROR: This command is not yet supported on sovereign clouds"),
        "{stdout}"
    );
}
