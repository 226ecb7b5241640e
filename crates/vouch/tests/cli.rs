//! The `vouch` binary itself: configuration, user and key creation, the demo, serving and a
//! graceful stop on SIGTERM, on SQLite and (when configured) PostgreSQL.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;
use vouch_store::testing::{backends, fresh_database_url};

const BIN: &str = env!("CARGO_BIN_EXE_vouch");

fn workdir() -> std::path::PathBuf {
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

fn run(dir: &std::path::Path, db: &str, args: &[&str], stdin: Option<&str>) -> Output {
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

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn config_is_layered_validated_and_redacted() {
    let dir = workdir();
    let out = run(
        &dir,
        "postgres://vouch:hunter2@db.internal/vouch",
        &["config"],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(
        shown.contains("postgres://vouch:***@db.internal/vouch") && !shown.contains("hunter2"),
        "{shown}"
    );
    std::fs::write(
        dir.join("vouch.toml"),
        "base_url = \"https://refer.example.com\"\n[session]\nidle_minutes = 20\n",
    )
    .expect("toml");
    let out = run(&dir, "sqlite://./x.db", &["config"], None);
    let shown = text(&out.stdout);
    assert!(
        shown.contains("https://refer.example.com") && shown.contains("idle_minutes = 20"),
        "{shown}"
    );
    // A flag beats the file and the environment.
    let out = run(
        &dir,
        "sqlite://./x.db",
        &["config", "--log-format", "json"],
        None,
    );
    assert!(text(&out.stdout).contains("log_format = \"json\""));
    let out = run(
        &dir,
        "sqlite://./x.db",
        &["serve", "--bind", "nowhere"],
        None,
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("bind"), "{}", text(&out.stderr));
    std::fs::write(dir.join("vouch.toml"), "colour = \"red\"\n").expect("toml");
    let out = run(&dir, "sqlite://./x.db", &["config"], None);
    assert!(
        !out.status.success() && text(&out.stderr).contains("colour"),
        "{}",
        text(&out.stderr)
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

#[tokio::test]
async fn users_keys_demo_serve_and_graceful_stop() {
    vouch_jobs::install_crypto_provider();
    for backend in backends() {
        let dir = workdir();
        let db = fresh_database_url(backend).await.expect("db");
        let out = run(
            &dir,
            &db,
            &[
                "users",
                "create",
                "--email",
                "Root@Example.com",
                "--role",
                "owner",
                "--password-stdin",
            ],
            Some("a long enough password\n"),
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(text(&out.stdout).contains("created owner user root@example.com"));
        let again = run(
            &dir,
            &db,
            &[
                "users",
                "create",
                "--email",
                "root@example.com",
                "--role",
                "owner",
                "--password-stdin",
            ],
            Some("a long enough password\n"),
        );
        assert!(
            !again.status.success() && text(&again.stderr).contains("email"),
            "{}",
            text(&again.stderr)
        );
        let weak = run(
            &dir,
            &db,
            &[
                "users",
                "create",
                "--email",
                "w@example.com",
                "--role",
                "owner",
                "--password-stdin",
            ],
            Some("short\n"),
        );
        assert!(!weak.status.success() && text(&weak.stderr).contains("password"));
        let key = run(
            &dir,
            &db,
            &["api-keys", "create", "--name", "ci", "--scope", "admin"],
            None,
        );
        assert!(key.status.success(), "{}", text(&key.stderr));
        let secret = text(&key.stdout).trim().to_string();
        assert!(secret.starts_with("vouch_sk_"));
        let demo = run(&dir, &db, &["demo"], None);
        assert!(demo.status.success(), "{}", text(&demo.stderr));
        assert!(text(&demo.stdout).contains("owner@demo.vouch.local"));
        assert!(text(&run(&dir, &db, &["demo"], None).stdout).contains("already loaded"));

        let port = free_port();
        let mut server = Command::new(BIN)
            .args([
                "serve",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--log-format",
                "json",
            ])
            .current_dir(&dir)
            .env("VOUCH_DATABASE_URL", &db)
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("serve");
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let mut up = false;
        for _ in 0..100 {
            if client
                .get(format!("{base}/readyz"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(up, "vouch serve did not become ready");
        let supers: serde_json::Value = client
            .get(format!(
                "{base}/api/v1/accounts?super_customers=true&limit=100"
            ))
            .bearer_auth(&secret)
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("json");
        assert_eq!(supers["data"].as_array().map(Vec::len), Some(26));
        let ids: Vec<i64> = supers["data"]
            .as_array()
            .expect("data")
            .iter()
            .filter_map(|a| a["id"].as_i64())
            .collect();
        for id in [3192, 3337, 8182, 1746, 1048, 2650, 3333] {
            assert!(ids.contains(&id), "demo super customer {id} missing");
        }
        let channel = client
            .get(format!("{base}/register?super_customer_id=3093"))
            .send()
            .await
            .expect("register");
        assert_eq!(channel.status(), reqwest::StatusCode::FORBIDDEN);

        let status = Command::new("kill")
            .args(["-TERM", &server.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let mut exited = None;
        for _ in 0..100 {
            if let Some(s) = server.try_wait().expect("wait") {
                exited = Some(s);
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let exited = exited.expect("vouch serve did not stop within 5 s of SIGTERM");
        assert!(exited.success(), "{exited:?}");
        let mut logs = String::new();
        std::io::Read::read_to_string(&mut server.stderr.take().expect("stderr"), &mut logs)
            .expect("logs");
        let lines: Vec<&str> = logs.lines().collect();
        assert!(!lines.is_empty());
        for line in &lines {
            let parsed: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
            assert!(parsed["level"].is_string());
        }
        assert!(logs.contains("in-flight requests completed"));
        assert!(
            !logs.contains(&secret) && !logs.contains("super_customer_id=3093"),
            "logs carry no secrets or query strings"
        );
    }
}
