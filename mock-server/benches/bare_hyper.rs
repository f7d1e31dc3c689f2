//! The yardstick for `bench/http.sh`: the smallest hyper 1 server we can write,
//! answering every request with the same 1 KB JSON body, built from the very
//! hyper / tokio versions graphbox-mock uses (same workspace lockfile).
//!
//! Not a benchmark by itself (`harness = false`, and `cargo bench` runs it with
//! `--bench`, where it exits at once). Run it as a server:
//!
//! ```text
//! <bench binary> serve [PORT]    # PORT 0 (default) takes any free port
//! ```
//!
//! It prints one JSON line `{"port":N}` on stdout once it is listening, like
//! `graphbox-mock serve` prints its ready line, then serves until killed. The
//! runtime matches the mock binary's (`new_multi_thread().enable_all()`), and
//! connections get the same treatment (`TCP_NODELAY`, HTTP/1.1 keep-alive).

use std::convert::Infallible;
use std::io::Write;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// A 1 024-byte JSON object, built once.
fn body_1k() -> Bytes {
    let head = r#"{"@odata.context":"http://127.0.0.1/v1.0/$metadata#users/$entity","id":"00000000-0000-4000-8000-000000000000","padding":""#;
    let tail = "\"}";
    let pad = 1024 - head.len() - tail.len();
    let s = format!("{head}{}{tail}", "x".repeat(pad));
    debug_assert_eq!(s.len(), 1024);
    Bytes::from(s)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) != Some("serve") {
        // `cargo bench` runs every bench target with `--bench`: nothing to measure here.
        eprintln!("bare_hyper: a comparison server for bench/http.sh; run it as `bare_hyper serve [PORT]`");
        return;
    }
    let port: u16 = match args.get(1).map(|p| p.parse()) {
        None => 0,
        Some(Ok(p)) => p,
        Some(Err(e)) => {
            eprintln!("bare_hyper: bad port: {e}");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    runtime.block_on(serve(port));
}

async fn serve(port: u16) {
    let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind 127.0.0.1");
    let port = listener.local_addr().expect("local address").port();
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{{\"port\":{port}}}");
        let _ = out.flush();
    }
    let body = body_1k();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let body = body.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |_req: Request<hyper::body::Incoming>| {
                let body = body.clone();
                async move {
                    Ok::<_, Infallible>(
                        Response::builder()
                            .header("content-type", "application/json")
                            .body(Full::new(body))
                            .expect("static response parts are valid"),
                    )
                }
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.keep_alive(true);
            let _ = builder.serve_connection(TokioIo::new(stream), service).await;
        });
    }
}
