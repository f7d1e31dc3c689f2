//! In-process start to the first token, as a consumer's test pays it: run in a debug build
//! (`bench/debug_start.sh` runs it in fresh processes and prints the median). Prints one line,
//! `start_ms first_token_ms total_ms second_start_ms`: `Graphbox::start()` (HTTPS, keys loaded
//! from the data directory), then a client-credentials token over HTTPS trusting the mock's CA,
//! then a second server in the same process (the key material already in memory).
//!
//! With `GRAPHBOX_DATA_DIR` pointing at an empty directory the first start generates the keys,
//! which is the one slow start a machine ever sees (seconds in a debug build without
//! `opt-level` overrides for `rsa`).

use std::time::Instant;

#[allow(clippy::disallowed_methods)] // wall time is what this measures
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let t0 = Instant::now();
    let mock = graphbox_mock::Graphbox::start().await?;
    let started = t0.elapsed();
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(mock.ca_pem().as_bytes())?)
        .build()?;
    let answer = http
        .post(mock.token_url())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &mock.client_id().to_string()),
            ("client_secret", mock.client_secret()),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await?;
    if !answer.status().is_success() {
        return Err(format!("token endpoint answered {}", answer.status()).into());
    }
    let token: serde_json::Value = answer.json().await?;
    if token["access_token"].as_str().is_none_or(str::is_empty) {
        return Err("no access_token".into());
    }
    let total = t0.elapsed();
    let t1 = Instant::now();
    let second = graphbox_mock::Graphbox::start().await?;
    let second_start = t1.elapsed();
    drop((mock, second));
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    println!("{:.1} {:.1} {:.1} {:.1}", ms(started), ms(total - started), ms(total), ms(second_start));
    Ok(())
}
