//! Graph's error envelope for every failure.

use serde_json::json;

use crate::support::env;

#[tokio::test]
async fn every_error_kind_has_graphs_envelope_and_headers() {
    let env = env().await;
    let huge = "x".repeat(5 * 1024 * 1024);
    let cases: Vec<(&str, reqwest::RequestBuilder)> = vec![
        ("no_token", env.http.get(env.url("/users"))),
        ("garbage_token", env.http.get(env.url("/users")).bearer_auth("not-a-jwt")),
        ("unknown_segment", env.http.get(env.url("/nosuchthing")).bearer_auth(&env.token)),
        ("unknown_navigation", env.http.get(env.url("/users/someone@x.test/nosuchnav")).bearer_auth(&env.token)),
        ("unknown_user", env.http.get(env.url("/users/9f0d3c1e-aaaa-4bbb-8ccc-123456789abc")).bearer_auth(&env.token)),
        ("wrong_method", env.http.put(env.url("/users")).bearer_auth(&env.token).json(&json!({}))),
        (
            "malformed_json",
            env.http
                .post(env.url("/users"))
                .bearer_auth(&env.token)
                .header("content-type", "application/json")
                .body("{\"displayName\": "),
        ),
        (
            "wrong_content_type",
            env.http.post(env.url("/users")).bearer_auth(&env.token).header("content-type", "text/plain").body("{}"),
        ),
        (
            "body_too_large",
            env.http
                .post(env.url("/users"))
                .bearer_auth(&env.token)
                .header("content-type", "application/json")
                .body(huge),
        ),
    ];
    let mut seen = serde_json::Map::new();
    for (name, req) in cases {
        let r = env.send(req.header("client-request-id", "7a1c-test")).await;
        assert!(r.header("content-type").unwrap().starts_with("application/json"), "{name}");
        assert!(r.header("request-id").is_some(), "{name}");
        assert_eq!(r.header("client-request-id"), Some("7a1c-test"), "{name}");
        let body = r.json();
        assert_eq!(body["error"]["innerError"]["client-request-id"], "7a1c-test", "{name}");
        assert_eq!(body["error"]["innerError"]["request-id"].as_str(), r.header("request-id"), "{name}");
        let date = body["error"]["innerError"]["date"].as_str().unwrap();
        assert_eq!(date.len(), 19, "innerError.date has no zone and no fraction: {date}");
        let mut entry = json!({"status": r.status, "error": body["error"]});
        entry["error"]["innerError"] = json!("[inner]");
        if r.status == 401 {
            entry["www-authenticate"] = json!(r.header("www-authenticate"));
        }
        seen.insert(name.to_owned(), entry);
    }
    insta::assert_json_snapshot!(serde_json::Value::Object(seen));
}

#[tokio::test]
async fn a_token_past_its_expiry_on_the_tenant_clock_is_refused() {
    let env = env().await;
    assert_eq!(env.get("/users").await.status, 200);
    let advance = env
        .http
        .post(format!("{}/tenants/{}/clock/advance", env.mock.control_url(), env.mock.tenant_id()))
        .json(&json!({"seconds": 3600}))
        .send()
        .await
        .unwrap();
    assert_eq!(advance.status(), 200);
    let r = env.get("/users").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.error_code(), "InvalidAuthenticationToken");
    assert_eq!(r.error_message(), "Access token has expired or is not yet valid.");
}

#[tokio::test]
async fn a_token_for_another_resource_is_refused_with_invalid_audience() {
    let env = env().await;
    let res = env
        .http
        .post(env.mock.token_url())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &env.mock.client_id().to_string()),
            ("client_secret", env.mock.client_secret()),
            ("scope", "https://graph.windows.net/.default"),
        ])
        .send()
        .await
        .unwrap();
    let token = res.json::<serde_json::Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();
    let r = env.send(env.http.get(env.url("/users")).bearer_auth(token)).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.error_message(), "Access token validation failure. Invalid audience.");
}

#[tokio::test]
async fn a_token_with_a_forged_signature_is_refused() {
    let env = env().await;
    let mut parts: Vec<String> = env.token.split('.').map(str::to_owned).collect();
    let sig = parts[2].clone();
    parts[2] = format!("{}{}", if sig.starts_with('A') { "B" } else { "A" }, &sig[1..]);
    let r = env.send(env.http.get(env.url("/users")).bearer_auth(parts.join("."))).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.error_code(), "InvalidAuthenticationToken");
}

#[tokio::test]
async fn odata_type_annotation_in_a_body_is_accepted_and_ignored() {
    let env = env().await;
    let id = env.create_user("typed", "Typed").await;
    let r = env.patch(&format!("/users/{id}"), &json!({"@odata.type": "#microsoft.graph.user", "jobTitle": "X"})).await;
    assert_eq!(r.status, 204, "{}", r.text);
}

/// Send raw bytes and read the whole answer (the request closes the connection).
async fn raw_exchange(addr: std::net::SocketAddr, request: &[u8]) -> (u16, serde_json::Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connects");
    stream.write_all(request).await.expect("sent");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer);
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(body).unwrap_or(serde_json::Value::Null))
}

/// hyper parses at most 100 header lines (more would cost every request two
/// heap-allocated parse arrays); the 101st gets a 431 in Graph's envelope,
/// the same code as a request whose headers are too long, never a bare 431.
#[tokio::test]
async fn a_request_with_more_than_100_header_lines_is_431_in_graphs_envelope() {
    let env = crate::support::env().await;
    let addr = env.mock.local_addr();
    let host = format!("127.0.0.1:{}", addr.port());
    let lines: String = (0..100).map(|i| format!("X-Extra-{i}: {i}\r\n")).collect();
    let request = format!("GET /v1.0/users HTTP/1.1\r\nHost: {host}\r\n{lines}Connection: close\r\n\r\n");
    let (status, body) = raw_exchange(addr, request.as_bytes()).await;
    assert_eq!(status, 431, "{body}");
    assert_eq!(body["error"]["code"], "RequestHeaderFieldsTooLarge", "{body}");
    assert!(body["error"]["innerError"]["request-id"].is_string(), "{body}");
    // 99 extra lines plus Host: 100 in all, parsed and answered.
    let lines: String = (0..98).map(|i| format!("X-Extra-{i}: {i}\r\n")).collect();
    let request = format!("GET /v1.0/users HTTP/1.1\r\nHost: {host}\r\n{lines}Connection: close\r\n\r\n");
    let (status, body) = raw_exchange(addr, request.as_bytes()).await;
    assert_eq!(status, 401, "{body}");
}

/// What the front end refuses before any handler runs, each in the envelope of
/// the endpoint it was sent to: Graph's with `innerError`, the identity
/// platform's AADSTS body, the control API's own.
#[tokio::test]
async fn requests_refused_at_intake_answer_in_their_endpoints_envelope() {
    let limits = graphbox_mock::Limits {
        max_uri_bytes: 256,
        max_header_bytes: 4096,
        max_body_bytes: 2048,
        ..graphbox_mock::Limits::default()
    };
    let env = crate::support::env_with(graphbox_mock::Graphbox::builder().limits(limits)).await;
    let addr = env.mock.local_addr();
    let host = format!("127.0.0.1:{}", addr.port());
    let mut seen = serde_json::Map::new();
    let mut record = |name: &str, (status, body): (u16, serde_json::Value)| {
        let mut body = body;
        // ESTS repeats the trace id and time inside the description.
        if let Some(d) = body.get("error_description").and_then(|d| d.as_str()).map(str::to_owned) {
            body["error_description"] = json!(d.split("\r\n").next().unwrap_or_default());
        }
        for volatile in ["innerError", "timestamp", "trace_id", "correlation_id"] {
            if let Some(e) = body.get_mut("error").and_then(|e| e.as_object_mut()) {
                if e.contains_key(volatile) {
                    e.insert(volatile.into(), json!(format!("[{volatile}]")));
                }
            }
            if body.get(volatile).is_some() {
                body[volatile] = json!(format!("[{volatile}]"));
            }
        }
        seen.insert(name.to_owned(), json!({"status": status, "body": body}));
    };

    let long =
        format!("GET /v1.0/users?$filter={} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n", "a".repeat(300));
    record("graph_uri_too_long", raw_exchange(addr, long.as_bytes()).await);
    let headers =
        format!("GET /v1.0/users HTTP/1.1\r\nHost: {host}\r\nX-Big: {}\r\nConnection: close\r\n\r\n", "b".repeat(5000));
    record("graph_headers_too_large", raw_exchange(addr, headers.as_bytes()).await);
    // `<` and `"` in a target are bytes HTTP forbids there: hyper refuses the
    // line before any handler, and its bare 400 is replaced by Graph's.
    let not_http = format!("GET /v1.0/users/<a>?$filter=\"x HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    record("graph_not_http", raw_exchange(addr, not_http.as_bytes()).await);
    let token = format!(
        "POST /{}/oauth2/v2.0/token HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 3000\r\nConnection: close\r\n\r\n{}",
        env.mock.tenant_id(),
        "c".repeat(3000)
    );
    record("token_body_too_large", raw_exchange(addr, token.as_bytes()).await);
    let chunked = format!(
        "POST /_graphbox/tenants HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nabc\r\n"
    );
    record("control_broken_chunked_body", raw_exchange(addr, chunked.as_bytes()).await);
    insta::assert_json_snapshot!(serde_json::Value::Object(seen));
}
