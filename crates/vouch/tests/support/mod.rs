//! Running the `vouch` binary from tests: a scratch directory, a command with its database,
//! and a server on a free port.

#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_vouch");

pub fn workdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("vouch-cli-{}", vouch_domain_id()));
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

fn vouch_domain_id() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    )
}

pub fn run(dir: &std::path::Path, db: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("VOUCH_DATABASE_URL", db)
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn vouch");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
    } else {
        drop(child.stdin.take());
    }
    child.wait_with_output().expect("wait")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

/// Starts `vouch serve` on a free port and waits until it answers `/readyz`.
pub async fn serve_until_ready(dir: &std::path::Path, db: &str) -> (std::process::Child, String) {
    let port = free_port();
    let mut server = Command::new(BIN)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .current_dir(dir)
        .env("VOUCH_DATABASE_URL", db)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if reqwest::get(format!("{base}/readyz"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return (server, base);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = server.kill();
    let _ = server.wait();
    panic!("vouch serve did not become ready");
}

/// A webhook receiver on a free port: its URL, and the `webhook-id` of every delivery in the
/// order they came (repeats included). Each answer waits `delay`, so a worker can be killed
/// mid-stream.
pub async fn start_receiver(
    delay: Duration,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use axum::http::HeaderMap;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let state = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap| {
            let state = state.clone();
            async move {
                tokio::time::sleep(delay).await;
                if let (Some(id), Ok(mut seen)) = (
                    headers.get("webhook-id").and_then(|v| v.to_str().ok()),
                    state.lock(),
                ) {
                    seen.push(id.to_string());
                }
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, seen)
}
