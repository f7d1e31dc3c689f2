//! Streams every user of a large in-process mock tenant twice per round: with the SDK
//! (`graph.users().list().top(999).into_stream()`, typed `User`s) and with plain reqwest +
//! `serde_json::Value` following `@odata.nextLink`. Rounds alternate A B A B so that warm-up and
//! background load hit both sides alike; the figures are printed, never asserted.
//!
//! ```sh
//! cargo bench -p graphbox-sdk --bench stream_users            # 100 000 users, 3 rounds each
//! GB_SDK_USERS=20000 GB_SDK_ROUNDS=5 cargo bench -p graphbox-sdk --bench stream_users
//! ```
//!
//! The goal (issue #5) is the SDK within 10 % of plain.

// A benchmark measures wall-clock time; there is no tenant clock to read here.
#![allow(clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use futures::TryStreamExt;
use graphbox_mock::Graphbox;
use graphbox_sdk::auth::ClientSecretCredential;
use graphbox_sdk::GraphClient;
use serde_json::{json, Map, Value};

fn env_number(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        Err(_) => default,
    }
}

fn seed(count: usize) -> Vec<Map<String, Value>> {
    (0..count)
        .map(|i| {
            let user = json!({
                "accountEnabled": true,
                "displayName": format!("Bench User {i:06}"),
                "givenName": "Bench",
                "surname": format!("User{i:06}"),
                "jobTitle": if i % 3 == 0 { Value::from("Engineer") } else { Value::Null },
                "mailNickname": format!("bench{i:06}"),
                "userPrincipalName": format!("bench{i:06}@{{domain}}"),
                "passwordProfile": {"forceChangePasswordNextSignIn": true, "password": "Vk3#pL9!wQz2"},
            });
            match user {
                Value::Object(m) => m,
                _ => unreachable!("a JSON object"),
            }
        })
        .collect()
}

async fn sdk_round(graph: &GraphClient) -> usize {
    graph
        .users()
        .list()
        .top(999)
        .into_stream()
        .try_fold(0usize, |n, user| {
            // Touch the typed value so the work cannot be optimised away.
            std::hint::black_box(&user.id);
            async move { Ok(n + 1) }
        })
        .await
        .expect("SDK stream")
}

async fn plain_token(http: &reqwest::Client, mock: &Graphbox) -> String {
    let client_id = mock.client_id().to_string();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", client_id.as_str()),
        ("client_secret", mock.client_secret()),
        ("scope", "https://graph.microsoft.com/.default"),
    ];
    let answer: Value = http
        .post(mock.token_url())
        .form(&form)
        .send()
        .await
        .expect("token request")
        .error_for_status()
        .expect("token")
        .json()
        .await
        .expect("token json");
    answer["access_token"].as_str().expect("access_token").to_owned()
}

async fn plain_round(http: &reqwest::Client, mock: &Graphbox, token: &str) -> usize {
    let mut next = Some(format!("{}/users?$top=999", mock.graph_url()));
    let mut count = 0;
    while let Some(url) = next.take() {
        let page: Value = http
            .get(&url)
            .bearer_auth(token)
            .send()
            .await
            .expect("page request")
            .error_for_status()
            .expect("page status")
            .json()
            .await
            .expect("page json");
        let items = page["value"].as_array().expect("value");
        for item in items {
            std::hint::black_box(&item["id"]);
        }
        count += items.len();
        next = page["@odata.nextLink"].as_str().map(str::to_owned);
    }
    count
}

fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort_unstable();
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 0 {
        (sorted[mid - 1] + sorted[mid]) / 2
    } else {
        sorted[mid]
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn run() {
    let users = env_number("GB_SDK_USERS", 100_000);
    let rounds = env_number("GB_SDK_ROUNDS", 3).max(1);

    let started = Instant::now();
    let mock = Graphbox::builder().plain_http().seed_users(seed(users)).start().await.expect("mock starts");
    println!("seeded {users} users in {:.0} ms", ms(started.elapsed()));

    let graph = GraphClient::builder()
        .authority_host(mock.authority())
        .graph_url(mock.graph_url())
        .tenant(mock.tenant_id())
        .credential(ClientSecretCredential::new(mock.client_id(), mock.client_secret()))
        .build()
        .expect("SDK client");
    let http = reqwest::Client::new();
    let token = plain_token(&http, &mock).await;

    // The tenant also holds the bootstrap admin.
    let expected = users + 1;
    // One untimed pass each: tokens, connections and the mock's caches are warm for both sides.
    assert_eq!(sdk_round(&graph).await, expected, "SDK warm-up saw every user");
    assert_eq!(plain_round(&http, &mock, &token).await, expected, "plain warm-up saw every user");

    let (mut sdk, mut plain) = (Vec::new(), Vec::new());
    for round in 1..=rounds {
        let t = Instant::now();
        let n = sdk_round(&graph).await;
        let a = t.elapsed();
        assert_eq!(n, expected);
        let t = Instant::now();
        let n = plain_round(&http, &mock, &token).await;
        let b = t.elapsed();
        assert_eq!(n, expected);
        println!(
            "round {round}: A sdk {:>8.1} ms ({:>7.0} users/s)   B plain {:>8.1} ms ({:>7.0} users/s)",
            ms(a),
            expected as f64 / a.as_secs_f64(),
            ms(b),
            expected as f64 / b.as_secs_f64()
        );
        sdk.push(a);
        plain.push(b);
    }
    let (a, b) = (median(&sdk), median(&plain));
    println!("median: sdk {:.1} ms, plain {:.1} ms", ms(a), ms(b));
    println!(
        "sdk/plain = {:.3} ({:+.1} %; goal: within +10 %)",
        a.as_secs_f64() / b.as_secs_f64(),
        (a.as_secs_f64() / b.as_secs_f64() - 1.0) * 100.0
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    runtime.block_on(run());
}
