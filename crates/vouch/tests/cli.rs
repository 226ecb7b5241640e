//! The `vouch` binary itself: configuration, user and key creation, the demo, serving and a
//! graceful stop on SIGTERM, on SQLite and (when configured) PostgreSQL.

use std::process::{Command, Stdio};
use std::time::Duration;
use vouch_store::testing::{backends, fresh_database_url};

mod support;
use support::{BIN, free_port, run, serve_until_ready, start_receiver, text, workdir};

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
    // The SMTP password is a secret too; email settings come from the file's nested tables.
    std::fs::write(
        dir.join("vouch.toml"),
        "[email]\ntransport = \"smtp\"\n[email.smtp]\nhost = \"mail.example.com\"\npassword = \"sw0rdfish\"\n",
    )
    .expect("toml");
    let out = run(&dir, "sqlite://./x.db", &["config"], None);
    let shown = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        shown.contains("mail.example.com")
            && !shown.contains("sw0rdfish")
            && shown.contains("\"***\""),
        "{shown}"
    );
    // What `vouch config` prints is a valid vouch.toml.
    std::fs::write(dir.join("vouch.toml"), &shown).expect("toml");
    let again = run(&dir, "sqlite://./x.db", &["config"], None);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(text(&again.stdout), shown);
    std::fs::write(dir.join("vouch.toml"), "[email]\ntransport = \"smtp\"\n").expect("toml");
    let out = run(&dir, "sqlite://./x.db", &["config"], None);
    assert!(
        !out.status.success() && text(&out.stderr).contains("email.smtp.host"),
        "{}",
        text(&out.stderr)
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
        // No terminal and nothing piped in: say how to give the password, not that it is short.
        let none = run(
            &dir,
            &db,
            &[
                "users",
                "create",
                "--email",
                "n@example.com",
                "--role",
                "staff",
            ],
            None,
        );
        assert!(
            !none.status.success() && text(&none.stderr).contains("--password-stdin"),
            "{}",
            text(&none.stderr)
        );
        let reset = run(
            &dir,
            &db,
            &[
                "users",
                "set-password",
                "--email",
                "root@example.com",
                "--password-stdin",
            ],
            Some("another long password\n"),
        );
        assert!(reset.status.success(), "{}", text(&reset.stderr));
        assert!(text(&reset.stdout).contains("set the password of root@example.com"));
        let nobody = run(
            &dir,
            &db,
            &[
                "users",
                "set-password",
                "--email",
                "nobody@example.com",
                "--password-stdin",
            ],
            Some("another long password\n"),
        );
        assert!(!nobody.status.success() && text(&nobody.stderr).contains("email"));
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
        assert!(text(&demo.stdout).contains("nora@northwind.demo.vouch.local"));
        assert!(
            text(&demo.stdout).contains("/p/friends"),
            "the demo's referral program"
        );
        // The demo's clicks, signups and wins are in the rollups; a rebuild recomputes them.
        let rebuilt = run(&dir, &db, &["rollups", "rebuild"], None);
        assert!(rebuilt.status.success(), "{}", text(&rebuilt.stderr));
        assert!(
            text(&rebuilt.stdout).starts_with("rebuilt the daily rollups: "),
            "{}",
            text(&rebuilt.stdout)
        );
        let again = text(&run(&dir, &db, &["demo"], None).stdout);
        assert!(
            again.contains("already loaded") && again.contains("users set-password"),
            "{again}"
        );

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
            .stdout(Stdio::piped())
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
        // The sales bonus demo: bonuses in each state, payments due and waiting, a paid
        // payroll batch.
        let get = |path: &str| {
            let request = client.get(format!("{base}{path}")).bearer_auth(&secret);
            async move {
                request
                    .send()
                    .await
                    .expect("get")
                    .json::<serde_json::Value>()
                    .await
                    .expect("json")
            }
        };
        for status in ["incomplete", "ready_for_review", "approved", "rejected"] {
            let found = get(&format!("/api/v1/bonuses?status={status}")).await;
            assert!(
                found["data"].as_array().is_some_and(|d| !d.is_empty()),
                "no {status} bonus in the demo"
            );
        }
        for status in ["due", "awaiting_milestone", "paid"] {
            let found = get(&format!("/api/v1/payments?status={status}")).await;
            assert!(
                found["data"].as_array().is_some_and(|d| !d.is_empty()),
                "no {status} payment in the demo"
            );
        }
        // The partner demo: a sale to each buyer.
        let sales = get("/api/v1/lead-sales").await;
        assert_eq!(sales["data"].as_array().map(Vec::len), Some(2), "{sales}");
        let commissions = get("/api/v1/commissions?status=ready_for_review").await;
        assert_eq!(commissions["data"][0]["amount"], 40_000, "{commissions}");
        let batches = get("/api/v1/payout-batches?status=paid").await;
        assert_eq!(batches["data"][0]["payee_group"], "payroll");
        let drafts = get("/api/v1/sales?status=draft").await;
        assert_eq!(drafts["data"].as_array().map(Vec::len), Some(1));
        for stage in ["new", "meeting_scheduled", "proposal_sent", "won", "lost"] {
            let found = get(&format!("/api/v1/sales-referrals?stage={stage}")).await;
            assert!(
                found["data"].as_array().is_some_and(|d| !d.is_empty()),
                "no {stage} referral in the demo"
            );
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
        let mut said = String::new();
        std::io::Read::read_to_string(&mut server.stdout.take().expect("stdout"), &mut said)
            .expect("stdout");
        assert!(
            said.contains(&format!("Vouch is serving on {base}")) && said.contains("/admin"),
            "serve says where the console is: {said}"
        );
        assert!(
            !logs.contains(&secret) && !logs.contains("super_customer_id=3093"),
            "logs carry no secrets or query strings"
        );
    }
}

fn unique(seen: &std::sync::Arc<std::sync::Mutex<Vec<String>>>) -> usize {
    let mut ids = seen.lock().map(|s| s.clone()).unwrap_or_default();
    ids.sort();
    ids.dedup();
    ids.len()
}

fn spawn_vouch(dir: &std::path::Path, db: &str, args: &[&str]) -> std::process::Child {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("VOUCH_DATABASE_URL", db)
        .env("VOUCH_OUTBOUND_ALLOW_CIDRS", "127.0.0.0/8,::1/128")
        .env("VOUCH_WEBHOOKS__TIMEOUT_SECONDS", "1")
        .env("VOUCH_WORKER__LEASE_SECONDS", "2")
        .env("VOUCH_WORKER__CONCURRENCY", "4")
        .env("VOUCH_WORKER__POLL_INTERVAL_MS", "50")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn vouch")
}

/// Creates an admin API key, starts `vouch serve --no-worker` on a free port and waits until
/// it answers `/readyz`: (the server, its base URL, the key's secret).
async fn serve_api_only(dir: &std::path::Path, db: &str) -> (std::process::Child, String, String) {
    let key = run(
        dir,
        db,
        &["api-keys", "create", "--name", "crash", "--scope", "admin"],
        None,
    );
    let secret = text(&key.stdout).trim().to_string();
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let mut server = spawn_vouch(dir, db, &["serve", "--no-worker", "--bind", &bind]);
    let base = format!("http://{bind}");
    for _ in 0..100 {
        if reqwest::get(format!("{base}/readyz"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return (server, base, secret);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = server.kill();
    let _ = server.wait();
    panic!("vouch serve --no-worker did not become ready");
}

/// A worker killed with SIGKILL in the middle of deliveries loses nothing: after a restart
/// (and the dead worker's leases expiring) every event is delivered at least once.
#[tokio::test]
async fn a_killed_worker_loses_no_delivery() {
    vouch_jobs::install_crypto_provider();
    for backend in backends() {
        let dir = workdir();
        let db = fresh_database_url(backend).await.expect("db");
        let (hook, seen) = start_receiver(Duration::from_millis(100)).await;
        let (mut server, base, secret) = serve_api_only(&dir, &db).await;
        let client = reqwest::Client::new();
        let r = client
            .post(format!("{base}/api/v1/webhook-endpoints"))
            .bearer_auth(&secret)
            .json(&serde_json::json!({ "url": hook }))
            .send()
            .await
            .expect("endpoint");
        assert_eq!(r.status(), reqwest::StatusCode::CREATED);
        let n = 40;
        for i in 0..n {
            let r = client
                .post(format!("{base}/api/v1/accounts"))
                .bearer_auth(&secret)
                .json(&serde_json::json!({ "name": format!("Crash {i}"), "email": format!("c{i}@crash.example"), "owner_first_name": "C", "owner_last_name": "R" }))
                .send()
                .await
                .expect("account");
            assert_eq!(r.status(), reqwest::StatusCode::CREATED);
        }
        assert_eq!(unique(&seen), 0, "no worker runs yet");

        let mut worker = spawn_vouch(&dir, &db, &["worker"]);
        for _ in 0..200 {
            if unique(&seen) >= 5 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        worker.kill().expect("SIGKILL");
        let _ = worker.wait();
        let at_kill = unique(&seen);
        assert!(
            at_kill >= 5 && at_kill < n,
            "killed mid-stream: {at_kill} of {n} delivered"
        );

        let mut worker = spawn_vouch(&dir, &db, &["worker"]);
        for _ in 0..300 {
            if unique(&seen) == n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            unique(&seen),
            n,
            "every event delivered at least once after the restart"
        );
        let _ = Command::new("kill")
            .args(["-TERM", &worker.id().to_string()])
            .status();
        let _ = worker.wait();
        let _ = Command::new("kill")
            .args(["-TERM", &server.id().to_string()])
            .status();
        let _ = server.wait();
    }
}

/// A server killed with SIGKILL while signups stream in loses none it answered: signups
/// share group commits, and each is answered only after its group committed.
#[tokio::test]
async fn a_killed_server_loses_no_acknowledged_signup() {
    for backend in backends() {
        let dir = workdir();
        let db = fresh_database_url(backend).await.expect("db");
        let (mut server, base, secret) = serve_api_only(&dir, &db).await;
        let client = reqwest::Client::new();
        let created: serde_json::Value = client
            .post(format!("{base}/api/v1/programs"))
            .bearer_auth(&secret)
            .json(
                &serde_json::json!({ "name": "Crash", "landing_url": "https://shop.example.com" }),
            )
            .send()
            .await
            .expect("program")
            .json()
            .await
            .expect("program json");
        let program = created["id"].as_str().expect("id").to_string();
        let live = client
            .post(format!("{base}/api/v1/programs/{program}/status"))
            .bearer_auth(&secret)
            .json(&serde_json::json!({ "status": "live" }))
            .send()
            .await
            .expect("live");
        assert!(live.status().is_success());

        // 16 clients sign people up as fast as they can; each remembers what was answered 201.
        let answered = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let mut clients = Vec::new();
        for c in 0..16 {
            let (client, base, secret, program, answered) = (
                client.clone(),
                base.clone(),
                secret.clone(),
                program.clone(),
                answered.clone(),
            );
            clients.push(tokio::spawn(async move {
                for i in 0.. {
                    let email = format!("c{c}-{i}@crash.example");
                    let sent = client
                        .post(format!("{base}/api/v1/programs/{program}/participants"))
                        .bearer_auth(&secret)
                        .json(&serde_json::json!({ "email": email }))
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status() == reqwest::StatusCode::CREATED => {
                            if let Ok(mut a) = answered.lock() {
                                a.push(email);
                            }
                        }
                        Ok(r) => panic!("signup answered {}", r.status()),
                        // The server is gone.
                        Err(_) => break,
                    }
                }
            }));
        }
        for _ in 0..300 {
            if answered.lock().map(|a| a.len()).unwrap_or(0) >= 200 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        server.kill().expect("SIGKILL");
        let _ = server.wait();
        for c in clients {
            c.await.expect("client");
        }
        let answered = answered.lock().map(|a| a.clone()).unwrap_or_default();
        assert!(
            answered.len() >= 200,
            "{backend:?}: {} answered",
            answered.len()
        );

        let store = vouch_store::Store::connect(&db, 2).await.expect("store");
        let mut conn = store.conn().await.expect("conn");
        let mut lost = Vec::new();
        for email in &answered {
            if vouch_store::participants::by_email(&mut conn, &program, email)
                .await
                .expect("by email")
                .is_none()
            {
                lost.push(email.clone());
            }
        }
        assert!(
            lost.is_empty(),
            "{backend:?}: answered 201 but not saved: {lost:?}"
        );
        drop(conn);
        store.close().await;
    }
}

#[tokio::test]
async fn import_participants_checks_every_line_and_runs_again_safely() {
    vouch_jobs::install_crypto_provider();
    for backend in backends() {
        let dir = workdir();
        let db = fresh_database_url(backend).await.expect("db");
        assert!(run(&dir, &db, &["migrate"], None).status.success());
        let store = vouch_store::Store::connect(&db, 2).await.expect("store");
        let draft = vouch_domain::program::ProgramFields {
            name: "Imported friends".into(),
            landing_url: "https://example.com".into(),
            ..vouch_domain::program::ProgramFields::new_defaults()
        }
        .parse()
        .expect("program");
        let mut conn = store.conn().await.expect("conn");
        vouch_store::programs::create(&mut conn, &draft)
            .await
            .expect("create");
        drop(conn);
        // Bo's referrer comes later in the file; line 4 is bad; a column is mapped.
        let file = dir.join("people.csv");
        std::fs::write(
            &file,
            "E-mail,First Name,Referred By,Signup Date,Old Code\n\
             bo@example.com,Bo,ANNOLD,2023-02-01,\n\
             ann@example.com,Ann,,2023-01-15,ANNOLD\n\
             not-an-email,Cy,,,\n\
             dee@example.com,Dee,,,\n",
        )
        .expect("csv");
        let file_arg = file.to_string_lossy().to_string();
        let args = [
            "import",
            "participants",
            "--program",
            "imported-friends",
            "--map",
            "Old Code=code",
        ];
        let mut dry: Vec<&str> = args.to_vec();
        dry.extend(["--dry-run", &file_arg]);
        let out = run(&dir, &db, &dry, None);
        assert!(!out.status.success(), "a bad line fails the run");
        assert!(
            text(&out.stderr).contains("line 4: email"),
            "{}",
            text(&out.stderr)
        );
        assert!(text(&out.stderr).contains("column \"Old Code\" → code"));
        assert!(
            text(&out.stdout).contains("would enrol 3 (1 with a referrer)"),
            "{}",
            text(&out.stdout)
        );
        let mut conn = store.conn().await.expect("conn");
        let program = vouch_store::programs::by_slug(&mut conn, "imported-friends")
            .await
            .expect("q")
            .expect("program");
        assert!(
            vouch_store::participants::list(
                &mut conn,
                &program.id,
                None,
                Default::default(),
                None,
                10
            )
            .await
            .expect("list")
            .is_empty(),
            "a dry run saves nothing"
        );
        drop(conn);

        let mut real: Vec<&str> = args.to_vec();
        real.push(&file_arg);
        let out = run(&dir, &db, &real, None);
        assert!(
            text(&out.stdout)
                .contains("enrolled 3 (1 with a referrer); 0 already enrolled; 1 line(s)"),
            "{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        let again = run(&dir, &db, &real, None);
        assert!(
            text(&again.stdout).contains("enrolled 0 (0 with a referrer); 3 already enrolled"),
            "{}",
            text(&again.stdout)
        );
        let mut conn = store.conn().await.expect("conn");
        let ann = vouch_store::participants::by_email(&mut conn, &program.id, "ann@example.com")
            .await
            .expect("q")
            .expect("ann");
        assert_eq!(ann.code, "ANNOLD", "the old code is kept");
        assert_eq!(
            ann.signed_up_at.to_string(),
            "2023-01-15T00:00:00.000Z",
            "the original signup time is kept"
        );
        let bo = vouch_store::participants::by_email(&mut conn, &program.id, "bo@example.com")
            .await
            .expect("q")
            .expect("bo");
        assert_eq!(bo.referred_by.as_deref(), Some(ann.id.as_str()));
        let referral = vouch_store::referrals::of_referred(&mut conn, &bo.id)
            .await
            .expect("q")
            .expect("referral");
        assert_eq!(referral.source, "import");
        drop(conn);
        store.close().await;
    }
}

/// A backup taken while Vouch serves, restored into a fresh directory and served from there:
/// the same data, the same keys. PostgreSQL installations are told how to use pg_dump.
#[tokio::test]
async fn backup_while_serving_and_restore_into_a_fresh_directory() {
    vouch_jobs::install_crypto_provider();
    let dir = workdir();
    let db = "sqlite://./data/vouch.db";
    let key = run(
        &dir,
        db,
        &["api-keys", "create", "--name", "ops", "--scope", "admin"],
        None,
    );
    assert!(key.status.success(), "{}", text(&key.stderr));
    let secret = text(&key.stdout).trim().to_string();
    assert!(run(&dir, db, &["demo"], None).status.success());

    let (mut server, base) = serve_until_ready(&dir, db).await;
    let backup = run(&dir, db, &["backup", "vouch-backup.db"], None);
    assert!(backup.status.success(), "{}", text(&backup.stderr));
    assert!(
        text(&backup.stdout).contains("backed up to vouch-backup.db"),
        "{}",
        text(&backup.stdout)
    );
    let again = run(&dir, db, &["backup", "vouch-backup.db"], None);
    assert!(!again.status.success() && text(&again.stderr).contains("already exists"));
    let count = |base: String, secret: String| async move {
        let page: serde_json::Value = reqwest::Client::new()
            .get(format!(
                "{base}/api/v1/accounts?super_customers=true&limit=100"
            ))
            .bearer_auth(secret)
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("json");
        page["data"].as_array().map(Vec::len)
    };
    let before = count(base.clone(), secret.clone()).await;
    assert_eq!(before, Some(26));
    let _ = server.kill();
    let _ = server.wait();

    // A fresh machine: another directory, the backup file, nothing else.
    let fresh = workdir();
    std::fs::copy(dir.join("vouch-backup.db"), fresh.join("copy.db")).expect("copy");
    let restored = run(&fresh, db, &["restore", "copy.db"], None);
    assert!(restored.status.success(), "{}", text(&restored.stderr));
    assert!(text(&restored.stdout).contains("restored copy.db"));
    let twice = run(&fresh, db, &["restore", "copy.db"], None);
    assert!(
        !twice.status.success() && text(&twice.stderr).contains("--force"),
        "{}",
        text(&twice.stderr)
    );
    assert!(
        run(&fresh, db, &["restore", "--force", "copy.db"], None)
            .status
            .success()
    );
    let (mut server, base) = serve_until_ready(&fresh, db).await;
    assert_eq!(
        count(base, secret).await,
        before,
        "the same data, and the same key opens it"
    );
    let _ = server.kill();
    let _ = server.wait();

    // Not a backup: refused, nothing replaced.
    std::fs::write(fresh.join("junk.db"), b"not a database").expect("junk");
    let junk = run(&fresh, db, &["restore", "--force", "junk.db"], None);
    assert!(
        !junk.status.success() && text(&junk.stderr).contains("junk.db"),
        "{}",
        text(&junk.stderr)
    );

    for backend in backends() {
        if backend == vouch_store::Backend::Postgres {
            let url = fresh_database_url(backend).await.expect("db");
            let out = run(&fresh, &url, &["backup", "x.dump"], None);
            assert!(
                !out.status.success() && text(&out.stderr).contains("pg_dump"),
                "{}",
                text(&out.stderr)
            );
        }
    }
}
