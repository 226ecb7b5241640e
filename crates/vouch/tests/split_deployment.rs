//! A split deployment (`vouch serve --no-worker` beside `vouch worker`) does all the background
//! work that `vouch serve` alone does: here, a reward whose hold ended is released by the
//! worker process, on each store.

use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use vouch_store::Backend;
use vouch_store::testing::fresh_database_url;

mod support;
use support::{BIN, free_port, start_receiver, workdir};

/// A `vouch` process this test started: killed if a failed assertion unwinds past it, so a
/// failing test leaves nothing running; [`stop`] ends it gracefully.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn spawn(dir: &std::path::Path, db: &str, args: &[&str]) -> Process {
    spawn_with(dir, db, args, &[])
}

/// [`spawn`] with more settings in the environment.
fn spawn_with(dir: &std::path::Path, db: &str, args: &[&str], env: &[(&str, &str)]) -> Process {
    Process(
        Command::new(BIN)
            .args(args)
            .envs(env.iter().copied())
            .current_dir(dir)
            .env("VOUCH_DATABASE_URL", db)
            .env("VOUCH_OUTBOUND_ALLOW_CIDRS", "127.0.0.0/8,::1/128")
            .env("VOUCH_WORKER__POLL_INTERVAL_MS", "50")
            .env("VOUCH_WORKER__CONCURRENCY", "4")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn vouch"),
    )
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

fn stop(mut process: Process) {
    let _ = Command::new("kill")
        .args(["-TERM", &process.0.id().to_string()])
        .status();
    let _ = process.0.wait();
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

    /// A new live program's id.
    async fn live_program(&self, name: &str) -> String {
        let id = self
            .post(
                "/api/v1/programs",
                json!({ "name": name, "landing_url": "https://shop.example.com/welcome" }),
            )
            .await["id"]
            .as_str()
            .expect("program id")
            .to_string();
        self.post(
            &format!("/api/v1/programs/{id}/status"),
            json!({ "status": "live" }),
        )
        .await;
        id
    }

    async fn text(&self, path: &str) -> String {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .send()
            .await
            .expect("request");
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.text().await.expect("body")
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

/// Polls `check` every 100 ms until it holds; returns how long that took, or `None` after
/// `limit`.
async fn within(limit: Duration, mut check: impl AsyncFnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if check().await {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

/// `vouch serve --no-worker` processes on one database, one per entry of `envs` (its extra
/// settings), each ready, with an API client that follows no redirect.
async fn start_servers(
    dir: &std::path::Path,
    db: &str,
    key: &str,
    envs: &[&[(&str, &str)]],
) -> (Vec<Process>, Vec<Api>) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut servers = Vec::new();
    let mut apis = Vec::new();
    for env in envs {
        let base = format!("http://127.0.0.1:{}", free_port());
        servers.push(spawn_with(
            dir,
            db,
            &[
                "serve",
                "--no-worker",
                "--bind",
                base.trim_start_matches("http://"),
            ],
            env,
        ));
        wait_ready(&client, &base).await;
        apis.push(Api {
            base,
            key: key.to_string(),
            client: client.clone(),
        });
    }
    (servers, apis)
}

/// Two `vouch serve --no-worker` and two `vouch worker` processes on one database: signups
/// and clicks arriving through both servers are all kept, every webhook event is delivered
/// once by one of the two workers, and a key revoked or a program paused through one
/// server is honoured by the other within the caches' stated bounds (`KEY_TTL`,
/// `PROGRAM_TTL`: 5 s).
async fn two_servers_and_two_workers(backend: Backend) {
    vouch_jobs::install_crypto_provider();
    let dir = workdir();
    let db = fresh_database_url(backend).await.expect("db");
    let key = admin_key(&dir, &db);
    let (hook, seen) = start_receiver(Duration::ZERO).await;
    let (servers, apis) = start_servers(&dir, &db, &key, &[&[], &[]]).await;
    let client = apis[0].client.clone();
    let workers: Vec<Process> = (0..2).map(|_| spawn(&dir, &db, &["worker"])).collect();
    let (a, b) = (&apis[0], &apis[1]);

    a.post("/api/v1/webhook-endpoints", json!({ "url": hook }))
        .await;
    let program = a.live_program("Two of each").await;
    let referrer = b
        .post(
            &format!("/api/v1/programs/{program}/participants"),
            json!({ "email": "ann@two.example", "first_name": "Ann" }),
        )
        .await;
    let code = referrer["code"].as_str().expect("code").to_string();

    // Eight clients, each through one server or the other: signups naming Ann, and clicks on
    // her link, each click from a visitor of its own.
    let (clients, per_client) = (8, 12);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let api = Api {
            base: apis[c % 2].base.clone(),
            key: key.clone(),
            client: client.clone(),
        };
        let (program, code) = (program.clone(), code.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..per_client {
                api.post(
                    &format!("/api/v1/programs/{program}/participants"),
                    json!({ "email": format!("c{c}-{i}@two.example"), "referred_by": code }),
                )
                .await;
                let r = api
                    .client
                    .get(format!("{}/r/{code}", api.base))
                    .header("user-agent", format!("Mozilla/5.0 (visitor {c}-{i})"))
                    .send()
                    .await
                    .expect("click");
                assert_eq!(r.status(), reqwest::StatusCode::FOUND);
            }
        }));
    }
    for t in tasks {
        t.await.expect("client");
    }
    let signups = clients * per_client;

    // Caches across processes: a key B has just used, revoked through A; a program B has just
    // redirected for, paused through A.
    let second = a
        .post(
            "/api/v1/api-keys",
            json!({ "name": "short-lived", "scope": "admin" }),
        )
        .await;
    let (second_id, second_secret) = (
        second["id"].as_str().expect("key id").to_string(),
        second["secret"].as_str().expect("secret").to_string(),
    );
    let on_b = |secret: String| {
        let (client, base) = (client.clone(), b.base.clone());
        async move {
            client
                .get(format!("{base}/api/v1/programs"))
                .bearer_auth(secret)
                .send()
                .await
                .expect("programs")
                .status()
        }
    };
    assert_eq!(on_b(second_secret.clone()).await, reqwest::StatusCode::OK);
    a.post(&format!("/api/v1/api-keys/{second_id}/revoke"), json!({}))
        .await;
    let refused = within(Duration::from_secs(8), async || {
        on_b(second_secret.clone()).await == reqwest::StatusCode::UNAUTHORIZED
    })
    .await;
    assert!(
        refused.is_some(),
        "{backend:?}: B still accepts a key revoked through A after 8 s (bound: 5 s)"
    );
    let ref_on_b = async || {
        let r = client
            .get(format!("{}/r/{code}", b.base))
            .header("user-agent", "Mozilla/5.0 (cache check)")
            .send()
            .await
            .expect("redirect");
        r.headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .is_some_and(|l| l.contains("ref="))
    };
    assert!(ref_on_b().await, "the link credits Ann while live");
    a.post(
        &format!("/api/v1/programs/{program}/status"),
        json!({ "status": "paused" }),
    )
    .await;
    let paused = within(Duration::from_secs(8), async || !ref_on_b().await).await;
    assert!(
        paused.is_some(),
        "{backend:?}: B still credits a program paused through A after 8 s (bound: 5 s)"
    );

    // Servers stop gracefully (their click buffers are written), then every event reaches
    // the receiver, once.
    for server in servers {
        stop(server);
    }
    let store = vouch_store::Store::connect(&db, 2).await.expect("store");
    let scalar = async |sql: &'static str| -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(store.pool())
            .await
            .expect(sql)
    };
    let events = scalar("SELECT COUNT(*) FROM events").await;
    let delivered = within(Duration::from_secs(60), async || {
        seen.lock().map(|s| s.len() as i64).unwrap_or(0) >= events
    })
    .await;
    assert!(delivered.is_some(), "{backend:?}: every event delivered");
    // Give a second delivery of anything the time to show up before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let received = seen.lock().map(|s| s.clone()).unwrap_or_default();
    let mut unique = received.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        (received.len() as i64, unique.len() as i64),
        (events, events),
        "{backend:?}: each event delivered exactly once"
    );
    // A worker records its attempts after the answers, in a batch: wait for all of them.
    const ATTEMPTS: &str = "SELECT COUNT(*) FROM job_attempts a JOIN jobs j ON j.id = a.job_id WHERE j.kind = 'webhook'";
    within(Duration::from_secs(30), async || {
        scalar(ATTEMPTS).await >= events
    })
    .await;
    assert_eq!(
        scalar(ATTEMPTS).await,
        events,
        "{backend:?}: no delivery job ran twice"
    );
    let workers_used = scalar(
        "SELECT COUNT(DISTINCT a.worker) FROM job_attempts a JOIN jobs j ON j.id = a.job_id WHERE j.kind = 'webhook'",
    )
    .await;
    assert_eq!(workers_used, 2, "{backend:?}: both workers delivered");
    assert_eq!(
        scalar("SELECT COUNT(*) FROM referrals").await,
        signups as i64,
        "{backend:?}: every signup through either server kept"
    );
    // Each client's clicks, and the cache checks' visitor once (a visitor counts once an hour;
    // a paused program counts none).
    let clicks = scalar("SELECT COUNT(*) FROM clicks").await;
    assert_eq!(clicks, signups as i64 + 1, "{backend:?}: every click kept");
    for worker in workers {
        stop(worker);
    }
    store.close().await;
}

#[tokio::test]
async fn two_servers_and_two_workers_on_sqlite() {
    two_servers_and_two_workers(Backend::Sqlite).await;
}

#[tokio::test]
async fn two_servers_and_two_workers_on_postgres() {
    if vouch_store::testing::backends().contains(&Backend::Postgres) {
        two_servers_and_two_workers(Backend::Postgres).await;
    }
}

/// Two servers on one primary, one of them reading through a streaming replica
/// (`database_read_url`; the harness sets up both clusters): its dashboard and exports show
/// what the replica has replayed, its redirect still finds a code the replica does not have
/// yet, and with the replica down it answers from the primary.
#[tokio::test]
async fn a_read_replica_serves_dashboards_exports_and_redirect_misses() {
    if !vouch_store::testing::backends().contains(&Backend::Postgres) {
        return;
    }
    vouch_jobs::install_crypto_provider();
    let pair = vouch_store::testing::replica::StreamingPair::start().expect("primary and replica");
    let dir = workdir();
    let db = pair.primary_url.clone();
    let key = admin_key(&dir, &db);
    let replica = [("VOUCH_DATABASE_READ_URL", pair.replica_url.as_str())];
    let (servers, apis) = start_servers(&dir, &db, &key, &[&[], &replica]).await;
    let client = apis[0].client.clone();
    // Writes go through the first server; the second only reads, so nothing it changed
    // itself sends its reads to the primary.
    let (writer, reader) = (&apis[0], &apis[1]);
    let program = writer.live_program("Replicated").await;
    let ann = writer
        .post(
            &format!("/api/v1/programs/{program}/participants"),
            json!({ "email": "ann@replica.example", "first_name": "Ann" }),
        )
        .await["code"]
        .as_str()
        .expect("code")
        .to_string();
    let enrol = async |email: &str| {
        writer
            .post(
                &format!("/api/v1/programs/{program}/participants"),
                json!({ "email": email, "referred_by": ann }),
            )
            .await
    };
    enrol("bo@replica.example").await;
    pair.caught_up().await.expect("caught up");
    let signups = async |api: &Api| {
        api.get(&format!("/api/v1/programs/{program}/stats")).await["totals"]["signups"]
            .as_i64()
            .expect("signups")
    };
    let exported = async |api: &Api| {
        api.text(&format!("/api/v1/programs/{program}/exports/participants"))
            .await
    };
    assert_eq!(signups(reader).await, 1);

    // The replica stops replaying: what is written now is on the primary only.
    pair.pause_replay(true).await.expect("pause");
    let cy = enrol("cy@replica.example").await["code"]
        .as_str()
        .expect("code")
        .to_string();
    assert_eq!(signups(writer).await, 2, "the primary has the new signup");
    assert_eq!(signups(reader).await, 1, "the dashboard reads the replica");
    assert!(
        !exported(reader).await.contains("cy@replica.example"),
        "the export too"
    );
    assert!(exported(writer).await.contains("cy@replica.example"));
    let r = client
        .get(format!("{}/r/{cy}", reader.base))
        .send()
        .await
        .expect("redirect");
    let location = r
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    // An unknown code is redirected too, to the installation's address: only the landing URL
    // with the code shows that the code was found.
    assert!(
        r.status() == reqwest::StatusCode::FOUND
            && location.starts_with("https://shop.example.com/welcome")
            && location.contains(&cy),
        "a code the replica does not have yet is found on the primary: {} {location}",
        r.status()
    );

    pair.pause_replay(false).await.expect("resume");
    pair.caught_up().await.expect("caught up");
    assert_eq!(signups(reader).await, 2, "replayed");
    assert!(exported(reader).await.contains("cy@replica.example"));

    // The replica goes away: the reading server answers from the primary.
    pair.stop_replica().expect("stop the replica");
    enrol("di@replica.example").await;
    assert_eq!(signups(reader).await, 3, "read from the primary");
    for server in servers {
        stop(server);
    }
}
