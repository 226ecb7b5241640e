//! A split deployment (`vouch serve --no-worker` beside `vouch worker`) does all the background
//! work that `vouch serve` alone does: here, a reward whose hold ended is released by the
//! worker process, on each store.

use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use vouch_store::Backend;
use vouch_store::testing::fresh_database_url;

const BIN: &str = env!("CARGO_BIN_EXE_vouch");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

fn spawn(dir: &std::path::Path, db: &str, args: &[&str]) -> Child {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("VOUCH_DATABASE_URL", db)
        .env("VOUCH_WORKER__POLL_INTERVAL_MS", "50")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn vouch")
}

fn admin_key(dir: &std::path::Path, db: &str) -> String {
    let out = Command::new(BIN)
        .args(["api-keys", "create", "--name", "split", "--scope", "admin"])
        .current_dir(dir)
        .env("VOUCH_DATABASE_URL", db)
        .output()
        .expect("api-keys create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

struct Api {
    base: String,
    key: String,
    client: reqwest::Client,
}

impl Api {
    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut r = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            r = r.json(&body);
        }
        let r = r.send().await.expect("request");
        let status = r.status();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> Value {
        self.send(reqwest::Method::GET, path, None).await
    }

    async fn reward_statuses(&self, program: &str) -> Vec<String> {
        self.get(&format!("/api/v1/programs/{program}/rewards"))
            .await["data"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|r| r["status"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }
}

async fn wait_ready(client: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("vouch did not become ready at {base}");
}

async fn a_worker_releases_holds(backend: Backend) {
    vouch_jobs::install_crypto_provider();
    let dir = std::env::temp_dir().join(format!(
        "vouch-split-{}",
        vouch_domain::id::new_id("t").to_lowercase()
    ));
    std::fs::create_dir_all(&dir).expect("dir");
    let db = fresh_database_url(backend).await.expect("db");
    let key = admin_key(&dir, &db);
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let server = spawn(
        &dir,
        &db,
        &[
            "serve",
            "--no-worker",
            "--bind",
            &format!("127.0.0.1:{port}"),
        ],
    );
    let api = Api {
        base: base.clone(),
        key,
        client: reqwest::Client::new(),
    };
    wait_ready(&api.client, &base).await;

    let program = api
        .post(
            "/api/v1/programs",
            json!({ "name": "Held rewards", "landing_url": "https://shop.example.com", "reward_hold_days": 14 }),
        )
        .await["id"]
        .as_str()
        .expect("program id")
        .to_string();
    api.post(
        &format!("/api/v1/programs/{program}/status"),
        json!({ "status": "live" }),
    )
    .await;
    api.post(
        &format!("/api/v1/programs/{program}/reward-rules"),
        json!({ "name": "Give 10, get 10", "trigger": "every", "threshold": 1, "sides": "double", "kind": "credit", "amount": 1000, "friend_amount": 1000 }),
    )
    .await;
    let ann = api
        .post(
            &format!("/api/v1/programs/{program}/participants"),
            json!({ "email": "ann@example.com", "first_name": "Ann" }),
        )
        .await;
    api.post(
        &format!("/api/v1/programs/{program}/participants"),
        json!({ "email": "bo@example.com", "first_name": "Bo", "referred_by": ann["code"] }),
    )
    .await;
    assert_eq!(api.reward_statuses(&program).await, ["pending", "pending"]);

    // Fifteen days later: the holds have ended, but no process runs background work.
    let store = vouch_store::Store::connect(&db, 2).await.expect("store");
    let mut conn = store.conn().await.expect("conn");
    sqlx::query("UPDATE rewards SET hold_until = $1")
        .bind("2000-01-01T00:00:00.000Z")
        .execute(&mut *conn)
        .await
        .expect("age the holds");
    drop(conn);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        api.reward_statuses(&program).await,
        ["pending", "pending"],
        "serve --no-worker releases nothing"
    );

    let worker = spawn(&dir, &db, &["worker"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut statuses = Vec::new();
    while Instant::now() < deadline {
        statuses = api.reward_statuses(&program).await;
        if statuses.iter().all(|s| s == "earned") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        statuses,
        ["earned", "earned"],
        "the worker ended both holds"
    );
    stop(worker);
    stop(server);
    store.close().await;
}

#[tokio::test]
async fn a_worker_releases_holds_on_sqlite() {
    a_worker_releases_holds(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_worker_releases_holds_on_postgres() {
    if vouch_store::testing::backends().contains(&Backend::Postgres) {
        a_worker_releases_holds(Backend::Postgres).await;
    }
}
