//! Helpers that read like prose: start a mock, get a token, send requests,
//! normalise wire JSON for snapshots.

use graphbox_mock::Graphbox;
use serde_json::{json, Value};

/// How long a spawned process (the server binary, a real-client script) may take
/// to answer before a test calls it stuck: far above what any takes here under
/// load, far below CI's limit. A blocking read or wait with no bound would hold
/// the whole suite instead of failing one test.
pub(crate) const PROCESS_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

/// The first line `child` prints (the server's ready line); past
/// [`PROCESS_LIMIT`] the child is killed and the test fails naming `what`.
pub(crate) fn first_line(child: &mut std::process::Child, what: &str) -> String {
    use std::io::BufRead;
    let stdout = child.stdout.take().expect("stdout piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    rx.recv_timeout(PROCESS_LIMIT).unwrap_or_else(|_| {
        let _ = child.kill();
        panic!("{what}: no line within {PROCESS_LIMIT:?}; killed it")
    })
}

/// `child`'s exit status; past [`PROCESS_LIMIT`] it is killed and the test
/// fails naming `what`.
pub(crate) fn wait_within(child: &mut std::process::Child, what: &str) -> std::process::ExitStatus {
    // Counted naps rather than a clock: the tests read no wall clock (clippy.toml).
    const NAP: std::time::Duration = std::time::Duration::from_millis(20);
    for _ in 0..PROCESS_LIMIT.as_millis() / NAP.as_millis() {
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            return status;
        }
        std::thread::sleep(NAP);
    }
    let _ = child.kill();
    panic!("{what}: still running after {PROCESS_LIMIT:?}; killed it")
}

/// `command`'s output, as `Command::output` gives it; past [`PROCESS_LIMIT`]
/// the process is killed and the test fails naming `what`.
pub(crate) fn output_within(mut command: std::process::Command, what: &str) -> std::process::Output {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("the process starts");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("stdout piped")));
    let stderr = drain(Box::new(child.stderr.take().expect("stderr piped")));
    let status = wait_within(&mut child, what);
    std::process::Output {
        status,
        stdout: stdout.join().expect("stdout read"),
        stderr: stderr.join().expect("stderr read"),
    }
}

/// A fixed instant for frozen tenant clocks, so snapshots are byte-stable.
pub(crate) fn frozen_instant() -> time::OffsetDateTime {
    time::macros::datetime!(2026-03-02 10:00:00 UTC)
}

pub(crate) struct Env {
    pub(crate) mock: Graphbox,
    pub(crate) http: reqwest::Client,
    pub(crate) token: String,
}

/// A plain-HTTP mock with a frozen clock and fixed seed, and a bootstrap token.
pub(crate) async fn env() -> Env {
    env_with(Graphbox::builder()).await
}

pub(crate) async fn env_with(builder: graphbox_mock::GraphboxBuilder) -> Env {
    let mock = builder.plain_http().seed(7).frozen_clock(frozen_instant()).start().await.expect("mock starts");
    let http = reqwest::Client::new();
    let token = token_for(&http, &mock.token_url(), &mock.client_id().to_string(), mock.client_secret()).await;
    Env { mock, http, token }
}

pub(crate) async fn token_for(http: &reqwest::Client, token_url: &str, client_id: &str, secret: &str) -> String {
    let res = http
        .post(token_url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .expect("token request sent");
    assert_eq!(res.status(), 200, "token endpoint refused the bootstrap app");
    let body: Value = res.json().await.expect("token JSON");
    body["access_token"].as_str().expect("access_token").to_owned()
}

/// A response reduced to what tests look at.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) text: String,
}

impl Reply {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub(crate) fn error_code(&self) -> String {
        self.json()["error"]["code"].as_str().unwrap_or_default().to_owned()
    }
    pub(crate) fn error_message(&self) -> String {
        self.json()["error"]["message"].as_str().unwrap_or_default().to_owned()
    }
}

impl Env {
    pub(crate) fn url(&self, path_and_query: &str) -> String {
        format!("{}{}", self.mock.graph_url(), path_and_query)
    }

    pub(crate) async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        let res = req.send().await.expect("request sent");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body read");
        Reply { status, headers, text }
    }

    pub(crate) async fn get(&self, path: &str) -> Reply {
        self.send(self.http.get(self.url(path)).bearer_auth(&self.token)).await
    }

    /// A GET with `ConsistencyLevel: eventual` (advanced queries).
    pub(crate) async fn get_eventual(&self, path: &str) -> Reply {
        self.send(self.http.get(self.url(path)).bearer_auth(&self.token).header("ConsistencyLevel", "eventual")).await
    }

    pub(crate) async fn post(&self, path: &str, body: &Value) -> Reply {
        self.send(self.http.post(self.url(path)).bearer_auth(&self.token).json(body)).await
    }

    pub(crate) async fn patch(&self, path: &str, body: &Value) -> Reply {
        self.send(self.http.patch(self.url(path)).bearer_auth(&self.token).json(body)).await
    }

    pub(crate) async fn delete(&self, path: &str) -> Reply {
        self.send(self.http.delete(self.url(path)).bearer_auth(&self.token)).await
    }

    pub(crate) fn upn(&self, local: &str) -> String {
        format!("{local}@{}", self.mock.tenant_domain())
    }

    /// Create a user and return its id.
    pub(crate) async fn create_user(&self, local: &str, display_name: &str) -> String {
        let r = self.post("/users", &new_user(&self.upn(local), display_name)).await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.json()["id"].as_str().expect("id").to_owned()
    }

    /// Replace this server's authority with a fixed one, for snapshots.
    pub(crate) fn normalize(&self, v: Value) -> Value {
        let text = serde_json::to_string(&v).expect("serializes");
        let text = text
            .replace(self.mock.authority(), "http://graphbox.test")
            .replace(self.mock.tenant_domain(), "tenant.test");
        serde_json::from_str(&text).expect("still JSON")
    }
}

/// A valid `POST /users` body.
pub(crate) fn new_user(upn: &str, display_name: &str) -> Value {
    let nickname: String = upn.split('@').next().unwrap_or("u").chars().filter(char::is_ascii_alphanumeric).collect();
    json!({
        "accountEnabled": true,
        "displayName": display_name,
        "mailNickname": nickname,
        "userPrincipalName": upn,
        "passwordProfile": {"forceChangePasswordNextSignIn": true, "password": "Vk3#pL9!wQz2"}
    })
}

/// A valid `POST /groups` body: a security group named `name`.
pub(crate) fn new_group(name: &str) -> Value {
    json!({"displayName": name, "mailEnabled": false, "mailNickname": name, "securityEnabled": true})
}

/// Run one of the real-client scripts in `clients/` with `python`, trusting the
/// mock's CA, and read the JSON object it prints; a failing script fails the
/// test with its output.
pub(crate) async fn run_client_script(
    python: std::ffi::OsString,
    script: &str,
    args: Vec<std::ffi::OsString>,
    ca_file: std::path::PathBuf,
) -> Value {
    let script = format!("{}/tests/it/clients/{script}", env!("CARGO_MANIFEST_DIR"));
    let output = tokio::task::spawn_blocking(move || {
        let mut command = std::process::Command::new(python);
        command.arg(&script).args(args).env("REQUESTS_CA_BUNDLE", ca_file);
        output_within(command, &script)
    })
    .await
    .expect("the task ran");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "client script failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// The mock's facts a client script takes, in the order the scripts read them.
pub(crate) fn client_args(mock: &graphbox_mock::Graphbox) -> Vec<std::ffi::OsString> {
    [
        mock.authority().to_owned(),
        mock.tenant_id().to_string(),
        mock.client_id().to_string(),
        mock.client_secret().to_owned(),
        mock.admin_username().to_owned(),
        mock.admin_password().to_owned(),
    ]
    .into_iter()
    .map(Into::into)
    .collect()
}
