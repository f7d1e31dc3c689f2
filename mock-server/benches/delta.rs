//! Delta rounds at scale: prints the time and page count of a full initial
//! round over a large tenant, then of a round after a number of changes, so
//! "proportional to the changes, not the tenant" can be checked by eye.
//! Sizes: `GB_DELTA_USERS` (default 100 000), `GB_DELTA_CHANGES` (default 1 000).
//! Figures only; nothing here asserts a time.

use std::time::Duration;

use graphbox_mock::Graphbox;
use serde_json::{json, Map, Value};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

// A benchmark must read the wall clock; the mock's own code never does.
#[allow(clippy::disallowed_methods)]
fn now() -> std::time::Instant {
    std::time::Instant::now()
}

fn user(i: usize) -> Map<String, Value> {
    json!({
        "accountEnabled": true, "displayName": format!("User {i:07}"), "mailNickname": format!("u{i:07}"),
        "userPrincipalName": format!("u{i:07}@{{domain}}"),
        "passwordProfile": {"password": "Vk3#pL9!wQz2", "forceChangePasswordNextSignIn": false},
    })
    .as_object()
    .expect("object")
    .clone()
}

async fn round(http: &reqwest::Client, token: &str, first: &str) -> (Duration, usize, usize, String) {
    let started = now();
    let (mut pages, mut items) = (0, 0);
    let mut url = first.to_owned();
    loop {
        let body: Value = http
            .get(&url)
            .bearer_auth(token)
            .header("Prefer", "odata.maxpagesize=999")
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json");
        pages += 1;
        items += body["value"].as_array().map_or(0, Vec::len);
        match body.get("@odata.nextLink").and_then(Value::as_str) {
            Some(next) => url = next.to_owned(),
            None => {
                let link = body["@odata.deltaLink"].as_str().expect("delta link").to_owned();
                return (started.elapsed(), pages, items, link);
            }
        }
    }
}

fn main() {
    if std::env::args().any(|a| a == "--bench")
        && std::env::var_os("GB_DELTA_RUN").is_none()
        && std::env::var_os("GB_DELTA_USERS").is_none()
    {
        // `cargo bench` runs every bench target; this one is long, so it runs
        // only when asked (GB_DELTA_RUN=1 or a size).
        eprintln!("delta bench skipped: set GB_DELTA_RUN=1 (or GB_DELTA_USERS=N) to run it");
        return;
    }
    let users = env_usize("GB_DELTA_USERS", 100_000);
    let changes = env_usize("GB_DELTA_CHANGES", 1_000).min(users);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(async move {
        let seeded = now();
        let mock = Graphbox::builder()
            .plain_http()
            .seed(11)
            .seed_users((0..users).map(user).collect())
            .start()
            .await
            .expect("mock starts");
        println!("# delta bench: {users} users seeded in {:.2} s", seeded.elapsed().as_secs_f64());
        let http = reqwest::Client::new();
        let token: Value = http
            .post(mock.token_url())
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", &mock.client_id().to_string()),
                ("client_secret", mock.client_secret()),
                ("scope", "https://graph.microsoft.com/.default"),
            ])
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("token json");
        let token = token["access_token"].as_str().expect("access token").to_owned();
        let first = format!("{}/users/delta?$select=id,displayName", mock.graph_url());
        let (t, pages, items, link) = round(&http, &token, &first).await;
        println!(
            "initial_round users={items} pages={pages} time={:.1} ms ({:.0} users/s)",
            t.as_secs_f64() * 1e3,
            items as f64 / t.as_secs_f64()
        );

        let mut ids: Vec<String> = Vec::with_capacity(changes);
        let mut url = format!("{}/users?$select=id&$top=999", mock.graph_url());
        while ids.len() < changes {
            let page: Value =
                http.get(&url).bearer_auth(&token).send().await.expect("list").json().await.expect("json");
            ids.extend(
                page["value"].as_array().expect("value").iter().filter_map(|u| u["id"].as_str().map(str::to_owned)),
            );
            match page.get("@odata.nextLink").and_then(Value::as_str) {
                Some(next) => url = next.to_owned(),
                None => break,
            }
        }
        ids.truncate(changes);
        let patched = now();
        for id in &ids {
            http.patch(format!("{}/users/{id}", mock.graph_url()))
                .bearer_auth(&token)
                .json(&json!({"jobTitle": "changed"}))
                .send()
                .await
                .expect("patch");
        }
        println!("changes={} applied in {:.1} ms", ids.len(), patched.elapsed().as_secs_f64() * 1e3);
        let (t, pages, items, _) = round(&http, &token, &link).await;
        println!("changes_round items={items} pages={pages} time={:.2} ms", t.as_secs_f64() * 1e3);
        let (t, _, items, _) = round(&http, &token, &link).await;
        println!("repeat_changes_round items={items} time={:.2} ms (same link, same answer)", t.as_secs_f64() * 1e3);
    });
}
