//! Finding 6 of issue #21: connections that never finish must not stay open.
//!
//! Written against builder settings the fix adds (`header_timeout`,
//! `body_timeout`, `idle_timeout`, `tls_handshake_timeout`, `max_connections`);
//! not in main.rs's `mod` list until they exist. Timeouts are 300 ms so the
//! tests are fast; "closed" means the server ended the connection (EOF, reset,
//! or a 408 before closing) within a few times that.

use std::net::SocketAddr;
use std::time::Duration;

use graphbox_mock::{Graphbox, GraphboxBuilder};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SHORT: Duration = Duration::from_millis(300);
/// How long a test waits for the server to give up on a connection.
const GRACE: Duration = Duration::from_secs(3);

fn short_timeouts() -> GraphboxBuilder {
    Graphbox::builder()
        .plain_http()
        .header_timeout(SHORT)
        .body_timeout(SHORT)
        .idle_timeout(SHORT)
        .tls_handshake_timeout(SHORT)
}

/// Read until the server closes; `Ok(bytes)` if it did within `GRACE`.
async fn closed_within_grace(stream: &mut TcpStream) -> Result<Vec<u8>, &'static str> {
    let mut buf = Vec::new();
    match tokio::time::timeout(GRACE, stream.read_to_end(&mut buf)).await {
        Ok(Ok(_)) => Ok(buf),
        // A reset is the server closing too.
        Ok(Err(_)) => Ok(buf),
        Err(_) => Err("the server kept the connection open"),
    }
}

fn assert_nothing_or_408(buf: &[u8]) {
    let text = String::from_utf8_lossy(buf);
    assert!(buf.is_empty() || text.starts_with("HTTP/1.1 408"), "unexpected answer: {text}");
}

async fn connect(addr: SocketAddr) -> TcpStream {
    TcpStream::connect(addr).await.expect("connects")
}

#[tokio::test]
async fn finding_6_a_request_line_never_finished_is_closed_after_the_header_timeout() {
    let mock = short_timeouts().start().await.expect("starts");
    let mut s = connect(mock.local_addr()).await;
    s.write_all(b"GET /v1.0/users HT").await.unwrap();
    let buf = closed_within_grace(&mut s).await.expect("closed");
    assert_nothing_or_408(&buf);
}

#[tokio::test]
async fn finding_6_headers_dripped_slowly_are_cut_off_by_the_header_timeout() {
    let mock = short_timeouts().start().await.expect("starts");
    let mut s = connect(mock.local_addr()).await;
    s.write_all(b"GET /v1.0/users HTTP/1.1\r\nhost: x\r\n").await.unwrap();
    // One header byte every 100 ms: each read is quick, the whole head is not.
    let drip = async {
        for _ in 0..100 {
            if s.write_all(b"x").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let cut_off = tokio::time::timeout(GRACE, drip).await;
    assert!(cut_off.is_ok(), "the server still accepted header bytes after {GRACE:?}");
}

#[tokio::test]
async fn finding_6_a_body_never_finished_is_closed_after_the_body_timeout() {
    let mock = short_timeouts().start().await.expect("starts");
    let mut s = connect(mock.local_addr()).await;
    s.write_all(
        b"POST /v1.0/users HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"a\":",
    )
    .await
    .unwrap();
    let buf = closed_within_grace(&mut s).await.expect("closed");
    assert_nothing_or_408(&buf);
}

#[tokio::test]
async fn finding_6_an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let mock = short_timeouts().start().await.expect("starts");
    let mut s = connect(mock.local_addr()).await;
    let discovery =
        format!("GET /{}/v2.0/.well-known/openid-configuration HTTP/1.1\r\nhost: x\r\n\r\n", mock.tenant_id());
    s.write_all(discovery.as_bytes()).await.unwrap();
    // The answer comes, then the connection idles until the server closes it.
    let buf = closed_within_grace(&mut s).await.expect("closed");
    assert!(String::from_utf8_lossy(&buf).starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn finding_6_a_tls_handshake_never_started_is_closed_after_the_handshake_timeout() {
    let mock = Graphbox::builder().tls_handshake_timeout(SHORT).start().await.expect("starts");
    let mut s = connect(mock.local_addr()).await;
    let buf = closed_within_grace(&mut s).await.expect("closed");
    assert!(buf.is_empty());
}

#[tokio::test]
async fn finding_6_idle_sockets_past_max_connections_do_not_starve_the_server() {
    let mock = short_timeouts().max_connections(8).start().await.expect("starts");
    let mut idle = Vec::new();
    for _ in 0..64 {
        if let Ok(s) = TcpStream::connect(mock.local_addr()).await {
            idle.push(s);
        }
    }
    let http = reqwest::Client::new();
    let url = format!("{}/{}/v2.0/.well-known/openid-configuration", mock.authority(), mock.tenant_id());
    let r = tokio::time::timeout(Duration::from_secs(10), http.get(url).send()).await;
    let r = r.expect("answered while 64 idle sockets were open").expect("sent");
    assert_eq!(r.status(), 200);
    drop(idle);
}
