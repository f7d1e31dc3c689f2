//! The `graphbox-mock serve` binary: the ready line, TLS, and the state file
//! across a SIGTERM restart.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

struct Running {
    child: Child,
    ready: Value,
}

fn serve(data_dir: &Path, extra: &[&str]) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_graphbox-mock"))
        .args(["serve", "--port", "0", "--data-dir"])
        .arg(data_dir)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let line = crate::support::first_line(&mut child, "the server's ready line");
    let ready: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("ready line is JSON ({e}): {line:?}"));
    Running { child, ready }
}

/// Send SIGTERM and wait; on a failed exit, show what the server said.
fn sigterm(child: &mut Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
    let status = crate::support::wait_within(child, "the server after SIGTERM");
    if !status.success() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            use std::io::Read;
            let _ = e.read_to_string(&mut err);
        }
        eprintln!("server exited with {status}; stderr:\n{err}");
    }
    status
}

fn tls_client(ca_file: &str) -> reqwest::Client {
    let pem = std::fs::read(ca_file).expect("CA file exists");
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("CA is PEM"))
        .build()
        .expect("client builds")
}

async fn token(http: &reqwest::Client, ready: &Value) -> String {
    crate::support::token_for(
        http,
        &format!("{}/{}/oauth2/v2.0/token", ready["authority"].as_str().unwrap(), ready["tenant_id"].as_str().unwrap()),
        ready["client_id"].as_str().unwrap(),
        ready["client_secret"].as_str().unwrap(),
    )
    .await
}

#[tokio::test]
async fn the_binary_serves_https_that_a_strict_rustls_client_trusts_via_the_ca_file() {
    let dir = tempdir("tls");
    let mut server = serve(&dir, &[]);
    let ready = server.ready.clone();
    assert!(ready["authority"].as_str().unwrap().starts_with("https://127.0.0.1:"));
    let http = tls_client(ready["ca_file"].as_str().unwrap());
    let token = token(&http, &ready).await;
    let r =
        http.get(format!("{}/users", ready["graph_url"].as_str().unwrap())).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(sigterm(&mut server.child).success());
}

#[tokio::test]
async fn state_survives_a_sigterm_restart() {
    let dir = tempdir("state");
    let state = dir.join("state.json");
    let state_arg = state.to_str().unwrap();
    let mut first = serve(&dir, &["--plain-http", "--state", state_arg]);
    let http = reqwest::Client::new();
    let token1 = token(&http, &first.ready).await;
    let graph = first.ready["graph_url"].as_str().unwrap().to_owned();
    let upn = format!("survivor@{}", first.ready["tenant_domain"].as_str().unwrap());
    let created = http
        .post(format!("{graph}/users"))
        .bearer_auth(&token1)
        .json(&crate::support::new_user(&upn, "Survivor"))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert!(sigterm(&mut first.child).success());
    assert!(state.exists());

    let second = serve(&dir, &["--plain-http", "--state", state_arg]);
    assert_eq!(second.ready["tenant_id"], first.ready["tenant_id"]);
    assert_eq!(second.ready["client_secret"], first.ready["client_secret"]);
    let token2 = token(&http, &second.ready).await;
    let graph2 = second.ready["graph_url"].as_str().unwrap();
    let r = http.get(format!("{graph2}/users/{upn}")).bearer_auth(&token2).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let mut second = second;
    assert!(sigterm(&mut second.child).success());
}

#[test]
fn a_corrupt_state_file_refuses_the_start_and_is_left_untouched() {
    let dir = tempdir("corrupt");
    let state = dir.join("state.json");
    std::fs::write(&state, b"{\"format\": \"graphbox-state\", \"version\": 1, \"tenants\": [{\"trunc").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_graphbox-mock"))
        .args(["serve", "--port", "0", "--plain-http", "--data-dir"])
        .arg(&dir)
        .arg("--state")
        .arg(&state)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "no ready line");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is not valid graphbox state"), "{stderr}");
    assert!(stderr.contains("left untouched"), "{stderr}");
    assert_eq!(
        std::fs::read(&state).unwrap(),
        b"{\"format\": \"graphbox-state\", \"version\": 1, \"tenants\": [{\"trunc"
    );
}

#[test]
fn a_state_file_from_a_newer_graphbox_refuses_the_start() {
    let dir = tempdir("newer");
    let state = dir.join("state.json");
    let content = b"{\"format\": \"graphbox-state\", \"version\": 99, \"tenants\": []}";
    std::fs::write(&state, content).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_graphbox-mock"))
        .args(["serve", "--port", "0", "--plain-http", "--data-dir"])
        .arg(&dir)
        .arg("--state")
        .arg(&state)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("newer graphbox"));
    assert_eq!(std::fs::read(&state).unwrap(), content);
}

#[tokio::test]
async fn a_seed_file_creates_its_users_in_the_new_tenant() {
    let dir = tempdir("seed");
    let seed = dir.join("seed.json");
    let users = serde_json::json!({"users": [crate::support::new_user("seeded@{domain}", "Seeded")]});
    std::fs::write(&seed, users.to_string()).unwrap();
    let mut running = serve(&dir, &["--plain-http", "--seed", seed.to_str().unwrap()]);
    let http = reqwest::Client::new();
    let token = token(&http, &running.ready).await;
    let upn = format!("seeded@{}", running.ready["tenant_domain"].as_str().unwrap());
    let graph = running.ready["graph_url"].as_str().unwrap();
    let r = http.get(format!("{graph}/users/{upn}")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(sigterm(&mut running.child).success());
}

#[test]
fn a_seed_file_that_is_not_a_users_array_of_objects_exits_2_saying_why() {
    let dir = tempdir("bad-seed");
    for (content, says) in [
        ("{\"users\": [", "is not JSON"),
        ("{\"people\": []}", "needs a \"users\" array"),
        ("[]", "needs a \"users\" array"),
        ("{\"users\": [{}, 3]}", "every user must be a JSON object"),
    ] {
        let seed = dir.join("seed.json");
        std::fs::write(&seed, content).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_graphbox-mock"))
            .args(["serve", "--port", "0", "--plain-http", "--data-dir"])
            .arg(&dir)
            .arg("--seed")
            .arg(&seed)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{content}: {stderr}");
        assert!(stderr.contains(says), "{content}: {stderr}");
    }
}

#[test]
fn unknown_flags_print_usage_and_exit_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_graphbox-mock")).args(["serve", "--bogus"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: graphbox-mock serve"));
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("graphbox-it-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn finding_8_an_empty_admin_key_is_refused_at_start() {
    let dir = tempdir("empty-admin-key");
    let mut child = Command::new(env!("CARGO_BIN_EXE_graphbox-mock"))
        .args(["serve", "--port", "0", "--plain-http", "--admin-key", "", "--data-dir"])
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    // An empty key would match an empty x-graphbox-admin-key header, opening
    // the control API to anyone; the binary must refuse it, not serve.
    // Up to 10 s (200 polls of 50 ms) for the refusal.
    let mut status = None;
    for _ in 0..200 {
        status = child.try_wait().expect("wait works");
        if status.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("graphbox-mock serve --admin-key \"\" started serving");
    };
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        use std::io::Read;
        let _ = e.read_to_string(&mut stderr);
    }
    assert!(!status.success(), "exited successfully: {stderr}");
    assert!(
        stderr.to_ascii_lowercase().contains("admin-key") || stderr.to_ascii_lowercase().contains("admin key"),
        "{stderr}"
    );
}

#[tokio::test]
async fn finding_4_a_state_file_whose_clock_is_past_the_representable_range_refuses_the_start() {
    let dir = tempdir("clock-range");
    let state = dir.join("state.json");
    let state_arg = state.to_str().unwrap();
    let mut first = serve(&dir, &["--plain-http", "--state", state_arg]);
    assert!(sigterm(&mut first.child).success());
    // A clock a million years on: what a bad edit or an older, unchecked
    // build could have saved. Loading it would give a tenant that fails every
    // request, so the start stops instead and the file stays as it was.
    let mut saved: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    saved["tenants"][0]["clock_offset"] = serde_json::json!({"secs": 31_557_600_000_000u64, "nanos": 0});
    let content = serde_json::to_vec(&saved).unwrap();
    std::fs::write(&state, &content).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_graphbox-mock"))
        .args(["serve", "--port", "0", "--plain-http", "--data-dir"])
        .arg(&dir)
        .arg("--state")
        .arg(&state)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "no ready line");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("the clock would pass 9000-01-01T00:00:00Z"), "{stderr}");
    assert!(stderr.contains("left untouched"), "{stderr}");
    assert_eq!(std::fs::read(&state).unwrap(), content);
}
