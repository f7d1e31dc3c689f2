//! `graphbox-mock serve --env-file FILE` and `--print-env`, through the real
//! binary: the variables Microsoft's SDKs read, quoted so that a shell and a
//! dotenv reader take them back exactly, and enough on their own for a token.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("graphbox-it-{}-env-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn spawn(data_dir: &Path, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_graphbox-mock"))
        .args(["serve", "--port", "0", "--data-dir"])
        .arg(data_dir)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts")
}

/// What a POSIX shell makes of `text` once sourced with `set -a`: every
/// variable named in it, as `sh` reads it back.
fn as_read_by_sh(text: &str, names: &[&str]) -> BTreeMap<String, String> {
    let script = format!(
        "set -a\n{text}\nset +a\n{}",
        names.iter().map(|n| format!("printf '%s\\0%s\\0' {n} \"${n}\"\n")).collect::<String>()
    );
    let out = Command::new("sh").arg("-c").arg(script).output().expect("sh runs");
    assert!(out.status.success(), "sh failed: {}", String::from_utf8_lossy(&out.stderr));
    let fields: Vec<String> = out.stdout.split(|b| *b == 0).map(|f| String::from_utf8(f.to_vec()).unwrap()).collect();
    fields.chunks(2).filter(|c| c.len() == 2).map(|c| (c[0].clone(), c[1].clone())).collect()
}

const NAMES: &[&str] = &[
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_AUTHORITY_HOST",
    "AZURE_USERNAME",
    "AZURE_PASSWORD",
    "REQUESTS_CA_BUNDLE",
    "SSL_CERT_FILE",
    "NODE_EXTRA_CA_CERTS",
    "GRAPHBOX_GRAPH_URL",
    "GRAPHBOX_CONTROL_URL",
    "GRAPHBOX_TENANT_DOMAIN",
];

#[tokio::test]
async fn the_env_file_alone_is_enough_for_a_client_credentials_token_and_a_graph_call() {
    let dir = tempdir("file");
    let env_file = dir.join("graphbox.env");
    let mut child = spawn(&dir, &["--env-file", env_file.to_str().unwrap()]);
    let line = crate::support::first_line(&mut child, "the server's ready line");
    let ready: serde_json::Value = serde_json::from_str(&line).expect("the ready line is still JSON");
    // Written before the ready line, owner-only: it holds a secret and a password.
    let text = std::fs::read_to_string(&env_file).expect("the env file exists once the ready line is out");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&env_file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    assert!(text.lines().all(|l| l.contains("='") && l.ends_with('\'')), "dotenv KEY='value' lines:\n{text}");
    let vars = as_read_by_sh(&text, NAMES);
    assert_eq!(vars.len(), NAMES.len(), "{text}");
    for (var, field) in [
        ("AZURE_TENANT_ID", "tenant_id"),
        ("AZURE_CLIENT_ID", "client_id"),
        ("AZURE_CLIENT_SECRET", "client_secret"),
        ("AZURE_AUTHORITY_HOST", "authority"),
        ("AZURE_USERNAME", "admin_username"),
        ("AZURE_PASSWORD", "admin_password"),
        ("GRAPHBOX_GRAPH_URL", "graph_url"),
        ("GRAPHBOX_CONTROL_URL", "control_url"),
        ("GRAPHBOX_TENANT_DOMAIN", "tenant_domain"),
    ] {
        assert_eq!(vars[var], ready[field].as_str().unwrap(), "{var}");
    }
    for ca in ["REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS"] {
        assert!(Path::new(&vars[ca]).is_absolute(), "{ca} must not depend on the reader's directory");
        assert_eq!(std::fs::read(&vars[ca]).unwrap(), std::fs::read(ready["ca_file"].as_str().unwrap()).unwrap());
    }
    // Only the variables: trust from the CA bundle, a token from the authority.
    let pem = std::fs::read(&vars["REQUESTS_CA_BUNDLE"]).unwrap();
    let http =
        reqwest::Client::builder().add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap()).build().unwrap();
    let token = crate::support::token_for(
        &http,
        &format!("{}/{}/oauth2/v2.0/token", vars["AZURE_AUTHORITY_HOST"], vars["AZURE_TENANT_ID"]),
        &vars["AZURE_CLIENT_ID"],
        &vars["AZURE_CLIENT_SECRET"],
    )
    .await;
    let r = http.get(format!("{}/users", vars["GRAPHBOX_GRAPH_URL"])).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn print_env_replaces_the_ready_line_with_export_lines_a_shell_reads_back_exactly() {
    let dir = tempdir("print");
    // A key with a quote, a dollar and a backtick: shell quoting must carry it.
    let key = "it's $HOME `id` \"x\"";
    let mut child = spawn(&dir, &["--print-env", "--plain-http", "--admin-key", key]);
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut text = String::new();
    // The last variable is the admin key (given only when one is set).
    while !text.contains("GRAPHBOX_ADMIN_KEY") {
        assert!(out.read_line(&mut text).unwrap() > 0, "stdout ended early:\n{text}");
    }
    assert!(text.lines().all(|l| l.starts_with("export ")), "{text}");
    let mut names = NAMES.to_vec();
    names.push("GRAPHBOX_ADMIN_KEY");
    let vars = as_read_by_sh(&text, &names);
    assert_eq!(vars["GRAPHBOX_ADMIN_KEY"], key);
    assert!(vars["AZURE_AUTHORITY_HOST"].starts_with("http://127.0.0.1:"), "{text}");
    // Under --plain-http there is no CA: the variables are left out, not empty
    // (an empty bundle would make every client trust nothing).
    for ca in ["REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS"] {
        assert!(!text.contains(ca), "{text}");
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn an_env_file_value_no_dotenv_quoting_carries_stops_the_start_naming_the_variable() {
    // A single quote in the data directory puts one into the CA path.
    let dir = tempdir("it's");
    let env_file = dir.join("graphbox.env");
    let mut child = spawn(&dir, &["--env-file", env_file.to_str().unwrap()]);
    let mut stdout = String::new();
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    let status = crate::support::wait_within(&mut child, "the server");
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(!status.success());
    assert_eq!(stdout, "", "no ready line for a start that failed");
    assert!(stderr.contains("REQUESTS_CA_BUNDLE") && stderr.contains("--data-dir"), "{stderr}");
    assert!(!env_file.exists());
}
