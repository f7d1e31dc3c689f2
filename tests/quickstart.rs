// The README's Rust way in, verbatim (python/ci.sh checks the README still says this).
#[tokio::test]
async fn quickstart() {
    let mock = graphbox_mock::Graphbox::start().await.unwrap(); // HTTPS on a free port, a fresh tenant
    let ca = reqwest::Certificate::from_pem(&std::fs::read(mock.ca_file().unwrap()).unwrap()).unwrap();
    let http = reqwest::Client::builder().add_root_certificate(ca).build().unwrap();
    let token: serde_json::Value = http
        .post(format!("{}/{}/oauth2/v2.0/token", mock.authority(), mock.tenant_id()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &mock.client_id().to_string()),
            ("client_secret", mock.client_secret()),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let users = http.get(format!("{}/users", mock.graph_url())).bearer_auth(token["access_token"].as_str().unwrap());
    assert_eq!(users.send().await.unwrap().status(), 200);
}
