//! `--state` through the real binary: every acknowledged write survives
//! `kill -9`; a record cut short by the crash is dropped with a warning; damage
//! before the end of the journal stops the start and leaves the files alone.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

struct Running {
    child: Child,
    ready: Value,
}

fn serve(dir: &Path, state: &Path) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_graphbox-mock"))
        .args(["serve", "--port", "0", "--plain-http", "--id-seed", "7", "--data-dir"])
        .arg(dir)
        .arg("--state")
        .arg(state)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let line = crate::support::first_line(&mut child, "the server's ready line");
    let ready: Value = serde_json::from_str(&line).unwrap_or_else(|e| {
        let mut err = String::new();
        let _ = child.stderr.take().map(|mut e| e.read_to_string(&mut err));
        panic!("ready line is JSON ({e}): {line:?}; stderr: {err}")
    });
    Running { child, ready }
}

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("graphbox-it-{}-durable-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A failed assertion must not leave the server running past the test.
impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn kill9(child: &mut Child) {
    child.kill().expect("SIGKILL");
    let _ = child.wait();
}

struct Client {
    http: reqwest::Client,
    graph: String,
    control: String,
    tenant: String,
    token: String,
}

impl Client {
    async fn new(ready: &Value) -> Client {
        let http = reqwest::Client::new();
        let s = |k: &str| ready[k].as_str().unwrap().to_owned();
        let token = crate::support::token_for(
            &http,
            &format!("{}/{}/oauth2/v2.0/token", s("authority"), s("tenant_id")),
            &s("client_id"),
            &s("client_secret"),
        )
        .await;
        Client { http, graph: s("graph_url"), control: s("control_url"), tenant: s("tenant_id"), token }
    }

    async fn send(&self, method: reqwest::Method, url: String, body: Option<Value>) -> Result<u16, reqwest::Error> {
        let mut r = self.http.request(method, url).bearer_auth(&self.token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r.send().await?;
        let status = r.status().as_u16();
        r.bytes().await?;
        Ok(status)
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let r = self.http.get(format!("{}{path}", self.graph)).bearer_auth(&self.token).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn clock(&self) -> time::OffsetDateTime {
        let r: Value = self
            .http
            .get(format!("{}/tenants/{}/clock", self.control, self.tenant))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        time::OffsetDateTime::parse(r["now"].as_str().unwrap(), &time::format_description::well_known::Rfc3339).unwrap()
    }
}

/// What the writer was told succeeded, and the one write that may have been
/// under way when the server died.
#[derive(Default)]
struct Model {
    /// UPN → display name (`None`: deleted).
    users: HashMap<String, Option<String>>,
    /// Group id → its one member's UPN.
    groups: HashMap<String, String>,
    clock_advances: u64,
    in_flight: Option<InFlight>,
}

#[derive(Clone)]
enum InFlight {
    User(String),
    Clock,
    Other,
}

/// Small enough that the token (an hour) outlives every advance of a run.
const ADVANCE: u64 = 30;

async fn write_until_killed(c: Arc<Client>, model: Arc<Mutex<Model>>, seed: u64, domain: String) {
    let mut rng = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    };
    for i in 0.. {
        let live: Vec<String> = {
            let m = model.lock().unwrap();
            let mut v: Vec<String> = m.users.iter().filter(|(_, n)| n.is_some()).map(|(u, _)| u.clone()).collect();
            v.sort();
            v
        };
        let roll = next(10);
        let pick = |r: u64| live.get(r as usize % live.len().max(1)).cloned();
        let (flight, result) = if roll < 4 || live.is_empty() {
            let upn = format!("crash{i}@{domain}");
            model.lock().unwrap().in_flight = Some(InFlight::User(upn.clone()));
            let body = crate::support::new_user(&upn, &format!("Created {i}"));
            let r = c.send(reqwest::Method::POST, format!("{}/users", c.graph), Some(body)).await;
            (Some((upn, Some(format!("Created {i}")), 201)), r)
        } else if roll < 7 {
            let upn = pick(next(1 << 20)).expect("live users");
            model.lock().unwrap().in_flight = Some(InFlight::User(upn.clone()));
            let body = json!({"displayName": format!("Renamed {i}")});
            let r = c.send(reqwest::Method::PATCH, format!("{}/users/{upn}", c.graph), Some(body)).await;
            (Some((upn, Some(format!("Renamed {i}")), 204)), r)
        } else if roll < 8 {
            let upn = pick(next(1 << 20)).expect("live users");
            model.lock().unwrap().in_flight = Some(InFlight::User(upn.clone()));
            let r = c.send(reqwest::Method::DELETE, format!("{}/users/{upn}", c.graph), None).await;
            (Some((upn, None, 204)), r)
        } else if roll < 9 {
            model.lock().unwrap().in_flight = Some(InFlight::Clock);
            let url = format!("{}/tenants/{}/clock/advance", c.control, c.tenant);
            let r = c.send(reqwest::Method::POST, url, Some(json!({"seconds": ADVANCE}))).await;
            if r.is_err() {
                return;
            }
            let mut m = model.lock().unwrap();
            m.clock_advances += 1;
            m.in_flight = None;
            continue;
        } else {
            // A group and its member: two writes; only the acknowledged ones count.
            let member = pick(next(1 << 20)).expect("live users");
            model.lock().unwrap().in_flight = Some(InFlight::Other);
            let body = json!({"displayName": format!("Group {i}"), "mailEnabled": false,
                              "mailNickname": format!("g{i}"), "securityEnabled": true});
            let r = c.http.post(format!("{}/groups", c.graph)).bearer_auth(&c.token).json(&body).send().await;
            let Ok(r) = r else { return };
            let Ok(created) = r.json::<Value>().await else { return };
            let gid = created["id"].as_str().expect("a group id").to_owned();
            // The kill may land during this read too: a read cut off ends the writer like a
            // write cut off, never panics it.
            let read = c.http.get(format!("{}/users/{member}", c.graph)).bearer_auth(&c.token).send().await;
            let Ok(read) = read else { return };
            if read.status() != 200 {
                continue;
            }
            let Ok(u) = read.json::<Value>().await else { return };
            let reference = json!({"@odata.id": format!("{}/directoryObjects/{}", c.graph, u["id"].as_str().unwrap())});
            let r =
                c.send(reqwest::Method::POST, format!("{}/groups/{gid}/members/$ref", c.graph), Some(reference)).await;
            match r {
                Ok(204) => {
                    let mut m = model.lock().unwrap();
                    m.groups.insert(gid, member);
                    m.in_flight = None;
                }
                Ok(other) => panic!("adding a member answered {other}"),
                Err(_) => return,
            }
            continue;
        };
        match result {
            Ok(status) => {
                let (upn, name, expected) = flight.expect("a user write");
                assert_eq!(status, expected, "write {i} on {upn}");
                let mut m = model.lock().unwrap();
                m.users.insert(upn, name);
                m.in_flight = None;
            }
            Err(_) => return,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_write_survives_kill_9_at_a_seeded_moment() {
    for seed in [1u64, 2, 3] {
        let dir = tempdir(&format!("crash-{seed}"));
        let state = dir.join("state.json");
        let mut first = serve(&dir, &state);
        let c = Arc::new(Client::new(&first.ready).await);
        let started = c.clock().await - time::OffsetDateTime::now_utc();
        let model = Arc::new(Mutex::new(Model::default()));
        let domain = first.ready["tenant_domain"].as_str().unwrap().to_owned();
        let writer = tokio::spawn(write_until_killed(c.clone(), model.clone(), seed, domain));
        // Some acknowledged writes first (a loaded machine's fsync can take a
        // while), then a seeded 0–600 ms more, then the process dies wherever it is.
        for _ in 0..400 {
            if model.lock().unwrap().users.len() >= 10 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(seed * 7919 % 600)).await;
        kill9(&mut first.child);
        writer.await.expect("the writer stops at the first refused connection");

        let second = serve(&dir, &state);
        let mut second = second;
        assert_eq!(second.ready["tenant_id"], first.ready["tenant_id"]);
        assert_eq!(second.ready["client_secret"], first.ready["client_secret"], "same tenant, same credentials");
        let c2 = Client::new(&second.ready).await;
        let m = std::mem::take(&mut *model.lock().unwrap());
        eprintln!(
            "seed {seed}: {} user writes' outcomes, {} groups, {} clock advances acknowledged before kill -9",
            m.users.len(),
            m.groups.len(),
            m.clock_advances
        );
        assert!(m.users.len() > 5, "seed {seed}: the test made too few writes ({}) to mean anything", m.users.len());
        let in_flight_user = match &m.in_flight {
            Some(InFlight::User(u)) => Some(u.clone()),
            _ => None,
        };
        for (upn, name) in &m.users {
            let (status, user) = c2.get(&format!("/users/{upn}")).await;
            if in_flight_user.as_deref() == Some(upn.as_str()) {
                // Either before or after the write under way; never a mix.
                assert!(status == 200 || status == 404, "{upn}: {status}");
                continue;
            }
            match name {
                Some(name) => {
                    assert_eq!(status, 200, "seed {seed}: acknowledged user {upn} lost");
                    assert_eq!(user["displayName"], json!(name), "seed {seed}: {upn}");
                    // Indexes agree with the records: found by id as by UPN.
                    let (s, by_id) = c2.get(&format!("/users/{}", user["id"].as_str().unwrap())).await;
                    assert_eq!((s, &by_id["userPrincipalName"]), (200, &json!(upn)));
                }
                None => assert_eq!(status, 404, "seed {seed}: deleted user {upn} came back"),
            }
        }
        for (gid, member) in &m.groups {
            let (s, members) = c2.get(&format!("/groups/{gid}/members")).await;
            assert_eq!(s, 200, "seed {seed}: acknowledged group {gid} lost");
            let upns: Vec<&Value> =
                members["value"].as_array().unwrap().iter().map(|u| &u["userPrincipalName"]).collect();
            if m.users.get(member).is_some_and(Option::is_some) && in_flight_user.as_deref() != Some(member) {
                assert_eq!(upns, vec![&json!(member)], "seed {seed}: group {gid}");
            }
        }
        let offset = (c2.clock().await - time::OffsetDateTime::now_utc()) - started;
        let done = m.clock_advances as i64 * ADVANCE as i64;
        let maybe = done + if matches!(m.in_flight, Some(InFlight::Clock)) { ADVANCE as i64 } else { 0 };
        let secs = offset.whole_seconds();
        assert!(secs >= done - 10 && secs <= maybe + 10, "seed {seed}: clock offset {secs}, acknowledged {done}");
        kill9(&mut second.child);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

fn segments(state: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(state.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("state.json.journal."))
        .collect();
    v.sort();
    v
}

async fn create_user(c: &Client, upn: &str) {
    let status = c
        .send(reqwest::Method::POST, format!("{}/users", c.graph), Some(crate::support::new_user(upn, "Kept")))
        .await
        .unwrap();
    assert_eq!(status, 201);
}

#[tokio::test]
async fn a_record_cut_short_by_a_crash_is_dropped_with_a_warning_and_the_rest_loads() {
    let dir = tempdir("torn");
    let state = dir.join("state.json");
    let mut first = serve(&dir, &state);
    let c = Client::new(&first.ready).await;
    let upn = format!("kept@{}", first.ready["tenant_domain"].as_str().unwrap());
    create_user(&c, &upn).await;
    kill9(&mut first.child);
    // What a crash mid-append leaves: a length and checksum, half a payload,
    // where the next record starts (the segment's file grows ahead of its
    // records, so that is before the zeros that end the file, if any).
    let last = segments(&state).pop().expect("a journal segment");
    let mut bytes = std::fs::read(&last).unwrap();
    let mut at = 12;
    while at + 8 <= bytes.len() && bytes[at..at + 8] != [0; 8] {
        at += 8 + u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    }
    let mut torn = 400u32.to_le_bytes().to_vec();
    torn.extend_from_slice(&[1, 2, 3, 4]);
    torn.extend_from_slice(br#"{"seq":99,"tenant":"half-written"#);
    bytes.resize(bytes.len().max(at + torn.len()), 0);
    bytes[at..at + torn.len()].copy_from_slice(&torn);
    std::fs::write(&last, &bytes).unwrap();

    let mut second = serve(&dir, &state);
    let c2 = Client::new(&second.ready).await;
    assert_eq!(c2.get(&format!("/users/{upn}")).await.0, 200, "the complete records replayed");
    kill9(&mut second.child);
    let mut err = String::new();
    second.child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(err.contains("cut short") && err.contains("half-written"), "the warning names what was lost: {err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_damaged_record_before_the_end_stops_the_start_and_leaves_the_files_alone() {
    let dir = tempdir("corrupt");
    let state = dir.join("state.json");
    let mut first = serve(&dir, &state);
    let c = Client::new(&first.ready).await;
    let domain = first.ready["tenant_domain"].as_str().unwrap().to_owned();
    create_user(&c, &format!("one@{domain}")).await;
    create_user(&c, &format!("two@{domain}")).await;
    kill9(&mut first.child);
    let last = segments(&state).pop().expect("a journal segment");
    let mut bytes = std::fs::read(&last).unwrap();
    // A byte of the first record's payload (after the 12-byte header and its
    // 8-byte frame).
    bytes[12 + 8 + 5] ^= 0x01;
    std::fs::write(&last, &bytes).unwrap();
    let snapshot = std::fs::read(&state).unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_graphbox-mock"))
        .args(["serve", "--port", "0", "--plain-http", "--data-dir"])
        .arg(&dir)
        .arg("--state")
        .arg(&state)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("journal") && err.contains("damaged"), "{err}");
    assert!(out.stdout.is_empty(), "no ready line");
    assert_eq!(std::fs::read(&last).unwrap(), bytes, "the journal is untouched");
    assert_eq!(std::fs::read(&state).unwrap(), snapshot, "the snapshot is untouched");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_realism_setting_survives_kill_9_from_the_journal() {
    let dir = tempdir("realism");
    let state = dir.join("state.json");
    let mut first = serve(&dir, &state);
    let c = Client::new(&first.ready).await;
    let url = format!("{}/tenants/{}/realism", c.control, c.tenant);
    let put = c.http.put(&url).json(&serde_json::json!({"profile": "entra", "seed": 11})).send().await.unwrap();
    assert_eq!(put.status(), 200, "{}", put.text().await.unwrap_or_default());
    // Acknowledged, so journaled: a crash right after keeps it.
    kill9(&mut first.child);

    let mut second = serve(&dir, &state);
    let c2 = Client::new(&second.ready).await;
    let view: Value = c2
        .http
        .get(format!("{}/tenants/{}/realism", c2.control, c2.tenant))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!((view["profile"].as_str(), view["seed"].as_u64()), (Some("entra"), Some(11)), "{view}");
    kill9(&mut second.child);
    let _ = std::fs::remove_dir_all(&dir);
}

impl Client {
    async fn control(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut r = self.http.request(method, format!("{}{path}", self.control));
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn snapshot_names(&self) -> Vec<String> {
        let (s, list) = self.control(reqwest::Method::GET, &format!("/tenants/{}/snapshots", self.tenant), None).await;
        assert_eq!(s, 200, "{list}");
        list["snapshots"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_owned()).collect()
    }
}

#[tokio::test]
async fn scripted_faults_survive_kill_9_and_a_fault_already_served_does_not_come_back() {
    let dir = tempdir("faults");
    let state = dir.join("state.json");
    let mut first = serve(&dir, &state);
    let c = Client::new(&first.ready).await;
    let rules = json!({"rules": [
        {"method": "GET", "path": "/v1.0/users", "status": 429, "retryAfterSeconds": 3, "times": 2},
        {"method": "POST", "path": "/v1.0/groups", "status": 503}
    ]});
    let (s, _) = c.control(reqwest::Method::PUT, &format!("/tenants/{}/faults", c.tenant), Some(rules)).await;
    assert_eq!(s, 200);
    assert_eq!(c.get("/users").await.0, 429, "the first of two scripted 429s");
    kill9(&mut first.child);

    let mut second = serve(&dir, &state);
    let c2 = Client::new(&second.ready).await;
    let (_, now) = c2.control(reqwest::Method::GET, &format!("/tenants/{}/faults", c2.tenant), None).await;
    assert_eq!(now["rules"][0]["times"], json!(1), "one 429 was served before the crash: {now}");
    assert_eq!(now["rules"][1]["status"], json!(503), "{now}");
    assert_eq!(c2.get("/users").await.0, 429, "the second scripted 429");
    assert_eq!(c2.get("/users").await.0, 200, "used up");
    kill9(&mut second.child);

    // Folded into the state file by the start above (in the background) or
    // by this save: the rules left keep working from the file too.
    let mut third = serve(&dir, &state);
    let c3 = Client::new(&third.ready).await;
    let (s, _) = c3.control(reqwest::Method::POST, "/state/save", None).await;
    assert_eq!(s, 200);
    kill9(&mut third.child);
    let mut fourth = serve(&dir, &state);
    let c4 = Client::new(&fourth.ready).await;
    assert_eq!(c4.get("/users").await.0, 200, "the used-up rule stays used up");
    let body = crate::support::new_group("g");
    let status = c4.send(reqwest::Method::POST, format!("{}/groups", c4.graph), Some(body)).await.unwrap();
    assert_eq!(status, 503, "the unlimited rule is still in force");
    kill9(&mut fourth.child);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn named_snapshots_survive_kill_9_and_restore_after_a_restart() {
    let dir = tempdir("snapshots");
    let state = dir.join("state.json");
    let mut first = serve(&dir, &state);
    let c = Client::new(&first.ready).await;
    let domain = first.ready["tenant_domain"].as_str().unwrap().to_owned();
    let (a, b, d) = (format!("a@{domain}"), format!("b@{domain}"), format!("d@{domain}"));
    let snaps = format!("/tenants/{}/snapshots", c.tenant);
    create_user(&c, &a).await;
    let (s, _) = c.control(reqwest::Method::POST, &snaps, Some(json!({"name": "seeded"}))).await;
    assert_eq!(s, 201);
    create_user(&c, &b).await;
    let (s, _) = c.control(reqwest::Method::POST, &snaps, Some(json!({"name": "temp"}))).await;
    assert_eq!(s, 201);
    let (s, _) = c.control(reqwest::Method::DELETE, &format!("{snaps}/temp"), None).await;
    assert_eq!(s, 200);
    kill9(&mut first.child);

    let mut second = serve(&dir, &state);
    let c2 = Client::new(&second.ready).await;
    assert_eq!(c2.snapshot_names().await, vec!["seeded"], "taken and deleted snapshots both journaled");
    assert_eq!(c2.get(&format!("/users/{b}")).await.0, 200);
    let (s, _) = c2.control(reqwest::Method::POST, &format!("{snaps}/seeded/restore"), None).await;
    assert_eq!(s, 200, "a snapshot replayed from the journal restores");
    assert_eq!(c2.get(&format!("/users/{b}")).await.0, 404, "made after the snapshot");
    assert_eq!(c2.get(&format!("/users/{a}")).await.0, 200);
    create_user(&c2, &d).await;
    // The snapshot goes into the state file (as a difference from the live
    // directory) instead of the journal.
    let (s, _) = c2.control(reqwest::Method::POST, "/state/save", None).await;
    assert_eq!(s, 200);
    kill9(&mut second.child);

    let mut third = serve(&dir, &state);
    let c3 = Client::new(&third.ready).await;
    assert_eq!(c3.snapshot_names().await, vec!["seeded"]);
    assert_eq!(c3.get(&format!("/users/{b}")).await.0, 404, "the restore itself survived");
    assert_eq!(c3.get(&format!("/users/{d}")).await.0, 200);
    let (s, _) = c3.control(reqwest::Method::POST, &format!("{snaps}/seeded/restore"), None).await;
    assert_eq!(s, 200, "a snapshot loaded from the state file restores");
    assert_eq!(c3.get(&format!("/users/{d}")).await.0, 404);
    let (s, by_upn) = c3.get(&format!("/users/{a}")).await;
    assert_eq!(s, 200, "found through the index the restore brought back");
    let (s, _) = c3.get(&format!("/users/{}", by_upn["id"].as_str().unwrap())).await;
    assert_eq!(s, 200);
    kill9(&mut third.child);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn tenants_created_forked_and_reset_and_dirsync_settings_survive_kill_9() {
    let dir = tempdir("control");
    let state = dir.join("state.json");
    let mut first = serve(&dir, &state);
    let c = Client::new(&first.ready).await;
    let (s, created) = c.control(reqwest::Method::POST, "/tenants", None).await;
    assert_eq!(s, 201);
    let created = created["tenant_id"].as_str().unwrap().to_owned();
    let (s, fork) = c.control(reqwest::Method::POST, &format!("/tenants/{}/fork", c.tenant), None).await;
    assert_eq!(s, 201);
    let fork_client = Client::new(&fork).await;
    let upn = format!("in-fork@{}", fork["tenant_domain"].as_str().unwrap());
    create_user(&fork_client, &upn).await;
    let settings = json!({"pendingEnabledSeconds": 42});
    let (s, _) =
        c.control(reqwest::Method::PUT, &format!("/tenants/{}/dirsync/settings", c.tenant), Some(settings)).await;
    assert_eq!(s, 200);
    let (s, reset) = c.control(reqwest::Method::POST, &format!("/tenants/{created}/reset"), None).await;
    assert_eq!(s, 200);
    kill9(&mut first.child);

    let mut second = serve(&dir, &state);
    let c2 = Client::new(&second.ready).await;
    let (_, all) = c2.control(reqwest::Method::GET, "/tenants", None).await;
    let all: Vec<&str> = all["tenants"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    assert!(all.contains(&created.as_str()), "the created tenant: {all:?}");
    assert!(all.contains(&fork["tenant_id"].as_str().unwrap()), "the fork: {all:?}");
    // The new process listens elsewhere: the ready JSON comes from it.
    let (s, fork_ready) =
        c2.control(reqwest::Method::GET, &format!("/tenants/{}", fork["tenant_id"].as_str().unwrap()), None).await;
    assert_eq!(s, 200);
    assert_eq!(fork_ready["client_secret"], fork["client_secret"], "the fork's own bootstrap secret");
    let fork_again = Client::new(&fork_ready).await;
    assert_eq!(fork_again.get(&format!("/users/{upn}")).await.0, 200, "the fork's own write");
    let (s, reset_ready) = c2.control(reqwest::Method::GET, &format!("/tenants/{created}"), None).await;
    assert_eq!(s, 200);
    assert_eq!(reset_ready["client_secret"], reset["client_secret"]);
    let reset_again = Client::new(&reset_ready).await;
    assert_eq!(reset_again.get("/users").await.0, 200, "the reset tenant's credentials still sign in");
    let (_, sync) = c2.control(reqwest::Method::GET, &format!("/tenants/{}/dirsync", c2.tenant), None).await;
    assert_eq!(sync["settings"]["pendingEnabledSeconds"], json!(42), "{sync}");
    kill9(&mut second.child);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn graphbox_snapshot_methods_from_rust_match_the_control_api_and_persist() {
    use graphbox_mock::Graphbox;
    let dir = tempdir("handle");
    let state = dir.join("state.json");
    let mock = Graphbox::builder().plain_http().state_file(&state).start().await.expect("start");
    let tenant = mock.tenant_id();
    let ready = serde_json::to_value(mock.ready_info()).unwrap();
    let c = Client::new(&ready).await;
    let upn = format!("later@{}", mock.tenant_domain());

    let taken = mock.snapshot_tenant(tenant, "clean").expect("a new name");
    assert_eq!(mock.snapshot_tenant(tenant, "clean").expect_err("taken").status(), 409);
    assert_eq!(mock.snapshot_tenant(tenant, "a/b").expect_err("bad name").status(), 400);
    let listed = mock.list_snapshots(tenant).expect("the tenant exists");
    assert_eq!((listed.len(), listed[0].name.as_str(), listed[0].taken_at), (1, "clean", taken));
    assert_eq!(c.snapshot_names().await, vec!["clean"], "the control API sees the same snapshot");
    create_user(&c, &upn).await;
    mock.restore_snapshot(tenant, "clean").expect("restores");
    assert_eq!(c.get(&format!("/users/{upn}")).await.0, 404);
    assert_eq!(mock.restore_snapshot(tenant, "nope").expect_err("unknown").status(), 404);
    assert_eq!(mock.delete_snapshot(tenant, "nope").expect_err("unknown").status(), 404);
    let other = uuid::Uuid::from_u128(1);
    assert_eq!(mock.list_snapshots(other).expect_err("no such tenant").status(), 404);
    mock.snapshot_tenant(tenant, "gone").expect("a new name");
    mock.delete_snapshot(tenant, "gone").expect("deleted");
    // Dropped, not shut down: only the journal keeps what the calls did.
    drop(mock);

    let again = Graphbox::builder().plain_http().state_file(&state).start().await.expect("restart");
    let names: Vec<String> = again.list_snapshots(tenant).expect("same tenant").into_iter().map(|s| s.name).collect();
    assert_eq!(names, vec!["clean"]);
    again.shutdown().await.expect("saves");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn authz_report_only_survives_kill_9_from_the_journal_and_a_reset_and_a_save() {
    let dir = tempdir("authz");
    let state = dir.join("state.json");
    let mut first = serve(&dir, &state);
    let c = Client::new(&first.ready).await;
    let path = format!("/tenants/{}/authz", c.tenant);
    let (s, put) = c.control(reqwest::Method::PUT, &path, Some(json!({"authz": "report-only"}))).await;
    assert_eq!((s, put), (200, json!({"authz": "report-only"})));
    // Acknowledged, so journaled: a crash right after keeps it.
    kill9(&mut first.child);

    let mut second = serve(&dir, &state);
    let c2 = Client::new(&second.ready).await;
    assert_eq!(c2.control(reqwest::Method::GET, &path, None).await, (200, json!({"authz": "report-only"})));
    // A tenant setting, like realism: a reset keeps it.
    let (s, _) = c2.control(reqwest::Method::POST, &format!("/tenants/{}/reset", c2.tenant), None).await;
    assert_eq!(s, 200);
    assert_eq!(c2.control(reqwest::Method::GET, &path, None).await.1, json!({"authz": "report-only"}));
    // Folded into the state file, then read from it.
    let (s, _) = c2.control(reqwest::Method::POST, "/state/save", None).await;
    assert_eq!(s, 200);
    let file: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(file["tenants"][0]["authz"], json!("report-only"), "saved in the state file");
    kill9(&mut second.child);

    let mut third = serve(&dir, &state);
    let c3 = Client::new(&third.ready).await;
    assert_eq!(c3.control(reqwest::Method::GET, &path, None).await.1, json!({"authz": "report-only"}));
    // Back to enforce survives too: the journal records the setting, not only report-only.
    let (s, _) = c3.control(reqwest::Method::PUT, &path, Some(json!({"authz": "enforce"}))).await;
    assert_eq!(s, 200);
    kill9(&mut third.child);
    let mut fourth = serve(&dir, &state);
    let c4 = Client::new(&fourth.ready).await;
    assert_eq!(c4.control(reqwest::Method::GET, &path, None).await.1, json!({"authz": "enforce"}));
    kill9(&mut fourth.child);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn authz_report_only_set_from_rust_is_what_the_control_api_sees_and_persists() {
    use graphbox_mock::Graphbox;
    let dir = tempdir("handle-authz");
    let state = dir.join("state.json");
    let mock = Graphbox::builder().plain_http().state_file(&state).start().await.expect("start");
    let ready = serde_json::to_value(mock.ready_info()).unwrap();
    let c = Client::new(&ready).await;
    let path = format!("/tenants/{}/authz", c.tenant);
    assert_eq!(mock.default_tenant().authz_report_only(), Ok(false), "enforce by default");
    mock.default_tenant().set_authz_report_only(true).expect("the tenant exists");
    assert_eq!(c.control(reqwest::Method::GET, &path, None).await.1, json!({"authz": "report-only"}));
    let (s, _) = c.control(reqwest::Method::PUT, &path, Some(json!({"authz": "enforce"}))).await;
    assert_eq!(s, 200);
    assert_eq!(mock.default_tenant().authz_report_only(), Ok(false), "the control API's change, seen from Rust");
    mock.default_tenant().set_authz_report_only(true).expect("the tenant exists");
    let missing = mock.tenants().get(uuid::Uuid::from_u128(1));
    assert_eq!(missing.set_authz_report_only(true).expect_err("no such tenant").status, 404);
    // Dropped, not shut down: only the journal keeps the setting.
    drop(mock);

    let again = Graphbox::builder().plain_http().state_file(&state).start().await.expect("restart");
    assert_eq!(again.default_tenant().authz_report_only(), Ok(true));
    again.shutdown().await.expect("saves");
    let _ = std::fs::remove_dir_all(&dir);
}
