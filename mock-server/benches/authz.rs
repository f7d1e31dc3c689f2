//! What authorization costs per request: the time of one `authz::check` for
//! the operations a GET by id and a user create perform, next to an
//! authenticated `GET /v1.0/users/{id}` measured in the same run, and the
//! share of that request's time the check takes. Prints figures only.

use graphbox_mock::Graphbox;

// A benchmark must read the wall clock; the mock's own code never does.
#[allow(clippy::disallowed_methods)]
fn now() -> std::time::Instant {
    std::time::Instant::now()
}

fn main() {
    if std::env::args().any(|a| a == "--bench") && std::env::var_os("GB_AUTHZ_RUN").is_none() {
        eprintln!("authz bench skipped: set GB_AUTHZ_RUN=1 to run it");
        return;
    }
    const N: u64 = 2_000_000;
    let mut per_check = Vec::new();
    for op in ["users.get", "users.create", "servicePrincipals.appRoleAssignedTo.create"] {
        let started = now();
        let allowed = graphbox_mock::__bench::authz_checks(op, N);
        let ns = started.elapsed().as_nanos() as f64 / N as f64;
        println!("authz_check op={op} allowed={allowed}/{N} {ns:.1} ns/check");
        per_check.push(ns);
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let mock = Graphbox::builder().plain_http().seed(5).start().await.expect("mock");
        let http = reqwest::Client::new();
        let token: serde_json::Value = http
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
            .expect("json");
        let token = token["access_token"].as_str().expect("token").to_owned();
        let url = format!("{}/users/{}", mock.graph_url(), mock.admin_username());
        for _ in 0..2_000 {
            http.get(&url).bearer_auth(&token).send().await.expect("get");
        }
        const REQUESTS: u32 = 20_000;
        let started = now();
        for _ in 0..REQUESTS {
            let r = http.get(&url).bearer_auth(&token).send().await.expect("get");
            let _ = r.bytes().await;
        }
        let us = started.elapsed().as_secs_f64() * 1e6 / f64::from(REQUESTS);
        println!("get_user_by_id {us:.1} µs/request (one keep-alive connection, client in the same process)");
        println!("authz_share_of_get = {:.2} %", per_check[0] / 1e3 / us * 100.0);
    });
}
