//! The store's own integration tests, run on SQLite and (when `VOUCH_TEST_POSTGRES_URL` is set)
//! on PostgreSQL.

use vouch_domain::account::AccountFields;
use vouch_store::accounts::{self, ListQuery, Placement, SortKey};
use vouch_store::testing::{backends, fresh_store};
use vouch_store::{Backend, Store, StoreError, idempotency};

fn fields(name: &str, email: &str) -> AccountFields {
    AccountFields {
        name: name.into(),
        email: email.into(),
        owner_first_name: "Ann".into(),
        owner_last_name: "Lee".into(),
        ..Default::default()
    }
}

async fn create(
    store: &Store,
    name: &str,
    email: &str,
    placement: Placement,
) -> Result<accounts::Account, StoreError> {
    let mut tx = store.begin().await?;
    let draft = fields(name, email)
        .parse()
        .map_err(|_| StoreError::NotFound)?;
    let a = accounts::create(&mut tx, &draft, &placement).await?;
    tx.commit().await?;
    Ok(a)
}

async fn each_backend<F, Fut>(test: F)
where
    F: Fn(Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for backend in backends() {
        let store = fresh_store(backend)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", backend.name()));
        test(store.clone()).await;
        store.close().await;
    }
}

#[tokio::test]
async fn schemas_have_the_same_tables_and_columns() {
    if backends().len() < 2 {
        eprintln!("VOUCH_TEST_POSTGRES_URL not set: comparing schemas needs both stores");
        return;
    }
    let sqlite = fresh_store(Backend::Sqlite).await.expect("sqlite");
    let pg = fresh_store(Backend::Postgres).await.expect("postgres");
    let mut a: Vec<(String, String)> = sqlx::query_as(
        "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'",
    )
    .fetch_all(sqlite.pool())
    .await
    .expect("sqlite schema");
    let mut b: Vec<(String, String)> = sqlx::query_as(
        // Partitions (PostgreSQL's months of clicks) are the parent table's rows, not tables.
        "SELECT table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'
         AND table_name NOT IN (SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid)",
    )
    .fetch_all(pg.pool())
    .await
    .expect("pg schema");
    a.sort();
    b.sort();
    assert_eq!(a, b);
}

#[tokio::test]
async fn migrations_are_idempotent_and_ready() {
    each_backend(|store| async move {
        assert!(store.ready().await.expect("ready"));
        store.migrate().await.expect("second migrate is a no-op");
    })
    .await;
}

#[tokio::test]
async fn unique_email_and_code_are_conflicts_naming_the_field() {
    each_backend(|store| async move {
        create(&store, "Acme", "a@acme.example", Placement::default())
            .await
            .expect("first");
        let err = create(&store, "Other", "a@acme.example", Placement::default())
            .await
            .expect_err("dup email");
        assert!(
            matches!(err, StoreError::Conflict { ref field } if field == "email"),
            "{err:?}"
        );
        let err = create(&store, "Acme", "b@acme.example", Placement::default())
            .await
            .expect_err("dup code");
        assert!(
            matches!(err, StoreError::Conflict { ref field } if field == "code"),
            "{err:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn nesting_refuses_non_super_self_and_cycles() {
    each_backend(|store| async move {
        let top = create(
            &store,
            "Top",
            "top@x.example",
            Placement {
                is_super_customer: true,
                ..Default::default()
            },
        )
        .await
        .expect("top");
        let mid = create(
            &store,
            "Mid",
            "mid@x.example",
            Placement {
                is_super_customer: true,
                parent_id: Some(top.id),
                ..Default::default()
            },
        )
        .await
        .expect("mid");
        let plain = create(&store, "Plain", "plain@x.example", Placement::default())
            .await
            .expect("plain");
        let mut tx = store.begin().await.expect("tx");
        let err = accounts::set_parent(&mut tx, &top, Some(mid.id))
            .await
            .expect_err("cycle");
        assert!(matches!(err, StoreError::Invalid { .. }));
        let err = accounts::set_parent(&mut tx, &top, Some(top.id))
            .await
            .expect_err("self");
        assert!(matches!(err, StoreError::Invalid { .. }));
        let err = accounts::set_parent(&mut tx, &top, Some(plain.id))
            .await
            .expect_err("not super");
        assert!(matches!(err, StoreError::Invalid { .. }));
        let nested = accounts::set_parent(&mut tx, &plain, Some(mid.id))
            .await
            .expect("ok");
        assert_eq!(nested.parent_id, Some(mid.id));
        tx.commit().await.expect("commit");
        let mut conn = store.conn().await.expect("conn");
        assert_eq!(
            accounts::children(&mut conn, mid.id)
                .await
                .expect("children")
                .len(),
            1
        );
    })
    .await;
}

#[tokio::test]
async fn list_paginates_searches_and_sorts() {
    each_backend(|store| async move {
        for i in 0..7 {
            create(
                &store,
                &format!("Company {i}"),
                &format!("c{i}@x.example"),
                Placement::default(),
            )
            .await
            .expect("create");
        }
        create(
            &store,
            "Zeta Super",
            "zeta@x.example",
            Placement {
                is_super_customer: true,
                ..Default::default()
            },
        )
        .await
        .expect("super");
        let mut conn = store.conn().await.expect("conn");
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = accounts::list(
                &mut conn,
                &ListQuery {
                    limit: 3,
                    starting_after: after,
                    sort: SortKey::Name,
                    descending: true,
                    ..Default::default()
                },
            )
            .await
            .expect("page");
            let more = page.len() > 3;
            seen.extend(page.iter().take(3).map(|a| a.name.clone()));
            if !more {
                break;
            }
            after = page.get(2).map(|a| a.id);
        }
        assert_eq!(seen.len(), 8);
        assert_eq!(seen[0], "Zeta Super");
        assert_eq!(seen[7], "Company 0");
        let hits = accounts::list(
            &mut conn,
            &ListQuery {
                search: Some("COMPANY 3".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .expect("search");
        assert_eq!(hits.len(), 1);
        let hits = accounts::list(
            &mut conn,
            &ListQuery {
                search: Some("100%".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .expect("escape");
        assert!(hits.is_empty());
        let supers = accounts::list(
            &mut conn,
            &ListQuery {
                super_customers_only: true,
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .expect("supers");
        assert_eq!(supers.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn idempotency_claims() {
    each_backend(|store| async move {
        let pool = store.pool();
        assert_eq!(
            idempotency::claim(pool, "k1", "abc", "h1")
                .await
                .expect("c"),
            idempotency::Claim::Fresh
        );
        assert_eq!(
            idempotency::claim(pool, "k1", "abc", "h1")
                .await
                .expect("c"),
            idempotency::Claim::InFlight
        );
        assert_eq!(
            idempotency::claim(pool, "k1", "abc", "h2")
                .await
                .expect("c"),
            idempotency::Claim::Mismatch
        );
        assert_eq!(
            idempotency::claim(pool, "k2", "abc", "h2")
                .await
                .expect("c"),
            idempotency::Claim::Fresh
        );
        idempotency::complete(pool, "k1", "abc", 201, "{}")
            .await
            .expect("complete");
        assert_eq!(
            idempotency::claim(pool, "k1", "abc", "h1")
                .await
                .expect("c"),
            idempotency::Claim::Replay {
                status: 201,
                body: "{}".into()
            }
        );
    })
    .await;
}

#[tokio::test]
async fn demo_style_explicit_ids_keep_the_sequence_ahead() {
    each_backend(|store| async move {
        create(
            &store,
            "Explicit",
            "e@x.example",
            Placement {
                id: Some(3192),
                ..Default::default()
            },
        )
        .await
        .expect("explicit");
        let mut conn = store.conn().await.expect("conn");
        accounts::sync_id_sequence(&mut conn, store.backend())
            .await
            .expect("sync");
        drop(conn);
        let next = create(&store, "Next", "n@x.example", Placement::default())
            .await
            .expect("next");
        assert!(next.id > 3192);
    })
    .await;
}

/// Migration 0013 repairs attempt rows stored with an empty start time by older versions, so
/// reading them (now strict about times) works.
#[tokio::test]
async fn empty_attempt_start_times_are_repaired() {
    each_backend(|store| async move {
        let mut tx = store.begin().await.expect("tx");
        let job = vouch_store::jobs::enqueue(&mut tx, "mystery", None, &serde_json::json!({}), 1)
            .await
            .expect("job");
        sqlx::query(
            "INSERT INTO job_attempts (id, job_id, attempt, worker, started_at, duration_ms, succeeded) VALUES ('att_old', $1, 1, 'w', '', 0, 0)",
        )
        .bind(&job.id)
        .execute(&mut *tx)
        .await
        .expect("old row");
        tx.commit().await.expect("commit");
        let mut conn = store.conn().await.expect("conn");
        assert!(
            vouch_store::jobs::attempts_for_job(&mut conn, &job.id)
                .await
                .is_err(),
            "an empty time is refused when read"
        );
        let fix = match store.backend() {
            Backend::Sqlite => include_str!("../migrations/sqlite/0013_attempt_start_times.sql"),
            Backend::Postgres => {
                include_str!("../migrations/postgres/0013_attempt_start_times.sql")
            }
        };
        sqlx::raw_sql(sqlx::AssertSqlSafe(fix))
            .execute(&mut *conn)
            .await
            .expect("repair");
        let attempts = vouch_store::jobs::attempts_for_job(&mut conn, &job.id)
            .await
            .expect("readable");
        assert_eq!(attempts[0].started_at, job.created_at);
    })
    .await;
}

/// Rows for the retention test, written as the application would have written them long ago.
async fn exec(store: &Store, sql: &str) {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn count(store: &Store, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
        .fetch_one(store.pool())
        .await
        .expect("count")
}

#[tokio::test]
async fn retention_deletes_old_deliveries_and_keeps_what_may_still_run() {
    use vouch_store::retention;
    each_backend(|store| async move {
        let old = "2020-01-01T00:00:00.000Z";
        let new = vouch_domain::Timestamp::now().to_string();
        exec(&store, &format!("INSERT INTO webhook_endpoints (id, url, event_types, enabled, secret, created_at, updated_at) VALUES ('whe_1', 'https://h.example', '[]', 1, 's', '{old}', '{old}')")).await;
        let job = |id: &str, subject: &str, status: &str, at: &str| format!("INSERT INTO jobs (id, kind, subject, payload, status, attempts, max_attempts, run_at, created_at, updated_at) VALUES ('{id}', 'webhook', '{subject}', '{{}}', '{status}', 1, 5, '{at}', '{at}', '{at}')");
        let attempt = |id: &str, job_id: &str| format!("INSERT INTO job_attempts (id, job_id, attempt, worker, started_at, duration_ms, succeeded) VALUES ('{id}', '{job_id}', 1, 'w', '{old}', 5, 1)");
        // An old event delivered (with an earlier, resent delivery), an old event still being
        // retried, and a new event.
        for (event, at) in [("evt_done", old), ("evt_retrying", old), ("evt_new", new.as_str()), ("evt_rerun", old)] {
            exec(&store, &format!("INSERT INTO events (id, type, created_at, data) VALUES ('{event}', 'x.y', '{at}', '{{}}')")).await;
        }
        exec(&store, &job("job_first_try", "msg_done", "dead", old)).await;
        exec(&store, &job("job_resent", "msg_done", "succeeded", old)).await;
        exec(&store, &job("job_retrying", "msg_retrying", "queued", old)).await;
        exec(&store, &job("job_new", "msg_new", "succeeded", &new)).await;
        // A message whose latest delivery succeeded while an earlier dead one was retried by hand.
        exec(&store, &job("job_rerun_ok", "msg_rerun", "succeeded", old)).await;
        exec(&store, &job("job_rerun_retry", "msg_rerun", "queued", old)).await;
        for (m, e, j) in [("msg_done", "evt_done", "job_resent"), ("msg_retrying", "evt_retrying", "job_retrying"), ("msg_new", "evt_new", "job_new"), ("msg_rerun", "evt_rerun", "job_rerun_ok")] {
            exec(&store, &format!("INSERT INTO webhook_messages (id, endpoint_id, event_id, job_id, created_at) VALUES ('{m}', 'whe_1', '{e}', '{j}', '{old}')")).await;
        }
        for (a, j) in [("att_1", "job_first_try"), ("att_2", "job_resent"), ("att_3", "job_retrying"), ("att_4", "job_new")] {
            exec(&store, &attempt(a, j)).await;
        }
        // An old email sent, an old lead-sale delivery, an old email job still queued.
        let email_job = |id: &str, subject: &str, status: &str| format!("INSERT INTO jobs (id, kind, subject, payload, status, attempts, max_attempts, run_at, created_at, updated_at) VALUES ('{id}', 'email', '{subject}', '{{}}', '{status}', 1, 5, '{old}', '{old}', '{old}')");
        exec(&store, &email_job("job_mail", "eml_1", "succeeded")).await;
        exec(&store, &email_job("job_lead", "lds_1", "succeeded")).await;
        exec(&store, &email_job("job_mail_waiting", "eml_2", "queued")).await;
        exec(&store, &attempt("att_5", "job_mail")).await;
        exec(&store, &attempt("att_6", "job_lead")).await;
        exec(&store, &format!("INSERT INTO email_messages (id, kind, to_address, subject, text_body, html_body, marketing, status, job_id, created_at) VALUES ('eml_1', 'participant_welcome', 'a@example.com', 'Hi', 'Hi', '', 0, 'sent', 'job_mail', '{old}')")).await;

        let cutoff = vouch_domain::Timestamp::now() - time::Duration::days(30);
        assert_eq!(retention::purge_events(&store, cutoff).await.expect("events"), 1);
        assert_eq!(retention::purge_events(&store, cutoff).await.expect("again"), 0, "idempotent");
        assert_eq!(count(&store, "events").await, 3, "the retried, the re-run and the new event stay");
        assert_eq!(count(&store, "webhook_messages").await, 3);
        assert_eq!(retention::purge_jobs(&store, cutoff).await.expect("jobs"), 1, "the sent email's job");
        assert_eq!(retention::purge_jobs(&store, cutoff).await.expect("again"), 0);
        let left: Vec<String> = sqlx::query_scalar("SELECT id FROM jobs ORDER BY id").fetch_all(store.pool()).await.expect("jobs");
        assert_eq!(left, ["job_lead", "job_mail_waiting", "job_new", "job_rerun_ok", "job_rerun_retry", "job_retrying"]);
        let attempts: Vec<String> = sqlx::query_scalar("SELECT id FROM job_attempts ORDER BY id").fetch_all(store.pool()).await.expect("attempts");
        assert_eq!(attempts, ["att_3", "att_4", "att_6"]);
        let outbox: Option<String> = sqlx::query_scalar("SELECT job_id FROM email_messages WHERE id = 'eml_1'").fetch_one(store.pool()).await.expect("outbox");
        assert_eq!(outbox, None, "the email stays in the outbox, without its job");
    })
    .await;
}

/// The queue: a claim takes a dead worker's expired lease first, then due jobs oldest first,
/// never a job due later or one another worker holds; only the holder's record moves a job on,
/// not a worker that held it before nor one that never did.
#[tokio::test]
async fn the_queue_claims_expired_leases_then_due_jobs_oldest_first() {
    use vouch_store::jobs::{self, AttemptRecord, Finished, Next};
    each_backend(|store| async move {
        let (past, later) = ("2020-01-01T00:00:00.000Z", "2999-01-01T00:00:00.000Z");
        let job = |id: &str, status: &str, run_at: &str, lease: Option<(&str, &str)>| {
            let (by, until) = lease.map_or(("NULL".to_string(), "NULL".to_string()), |(b, u)| {
                (format!("'{b}'"), format!("'{u}'"))
            });
            format!("INSERT INTO jobs (id, kind, payload, status, attempts, max_attempts, run_at, locked_by, locked_until, created_at, updated_at) VALUES ('{id}', 'noop', '{{}}', '{status}', 0, 5, '{run_at}', {by}, {until}, '{past}', '{past}')")
        };
        exec(&store, &job("job_c", "queued", "2020-01-03T00:00:00.000Z", None)).await;
        exec(&store, &job("job_a", "queued", "2020-01-01T00:00:00.000Z", None)).await;
        exec(&store, &job("job_b", "queued", "2020-01-02T00:00:00.000Z", None)).await;
        exec(&store, &job("job_later", "queued", later, None)).await;
        // Due later than the queued jobs, yet taken first: its worker died holding it.
        exec(&store, &job("job_dead_worker", "running", "2020-01-05T00:00:00.000Z", Some(("gone", past)))).await;
        exec(&store, &job("job_held", "running", "2019-01-01T00:00:00.000Z", Some(("busy", later)))).await;

        let ids = |jobs: &[jobs::Job]| {
            let mut ids: Vec<String> = jobs.iter().map(|j| j.id.clone()).collect();
            ids.sort();
            ids
        };
        let first = jobs::claim(&store, "w1", 2, 60).await.expect("claim");
        assert_eq!(ids(&first), ["job_a", "job_dead_worker"], "the expired lease, then the oldest due");
        assert!(first.iter().all(|j| j.locked_by.as_deref() == Some("w1") && j.attempts == 1));
        let second = jobs::claim(&store, "w2", 10, 60).await.expect("claim");
        assert_eq!(ids(&second), ["job_b", "job_c"], "not the job due later, nor one held");
        assert!(jobs::claim(&store, "w3", 10, 60).await.expect("claim").is_empty());

        // w2 records job_b; w1 tries to record job_b too and job_a, which it holds.
        let done = |job: &jobs::Job| Finished {
            job: job.clone(),
            record: AttemptRecord { succeeded: true, ..AttemptRecord::starting_now() },
            next: Next::Succeeded,
        };
        let job_b = second.iter().find(|j| j.id == "job_b").expect("b");
        let job_a = first.iter().find(|j| j.id == "job_a").expect("a");
        assert_eq!(jobs::finish_many(&store, "w2", &[done(job_b)]).await.expect("finish"), [true]);
        assert_eq!(
            jobs::finish_many(&store, "w1", &[done(job_b), done(job_a)]).await.expect("finish"),
            [false, true],
            "only the holder moves a job on"
        );
        // job_c is held by w2 right now: w1 cannot record it.
        let job_c = second.iter().find(|j| j.id == "job_c").expect("c");
        assert_eq!(jobs::finish_many(&store, "w1", &[done(job_c)]).await.expect("finish"), [false]);
        let mut conn = store.conn().await.expect("conn");
        for (id, status, holder) in [("job_a", "succeeded", None), ("job_b", "succeeded", None), ("job_c", "running", Some("w2")), ("job_held", "running", Some("busy"))] {
            let job = jobs::get(&mut conn, id).await.expect("get").expect("job");
            assert_eq!((job.status.as_str(), job.locked_by.as_deref()), (status, holder), "{id}");
        }
        assert_eq!(
            jobs::attempts_for_job(&mut conn, "job_b").await.expect("attempts").len(),
            2,
            "both attempts are kept"
        );
    })
    .await;
}

/// A worker reads what it delivers for every claimed message in one query; a message that is
/// gone is simply absent.
#[tokio::test]
async fn delivery_targets_are_read_together() {
    use vouch_store::{events, webhooks};
    each_backend(|store| async move {
        let mut tx = store.begin().await.expect("begin");
        let draft = webhooks::EndpointDraft {
            url: "https://hooks.example/in".into(),
            description: None,
            event_types: vec![],
            enabled: true,
        };
        webhooks::create(&mut tx, &draft, "whsec_test")
            .await
            .expect("endpoint");
        for n in 0..3 {
            events::emit(&mut tx, "test.event", &serde_json::json!({ "n": n }))
                .await
                .expect("emit");
        }
        tx.commit().await.expect("commit");
        let messages: Vec<String> =
            sqlx::query_scalar("SELECT id FROM webhook_messages ORDER BY id")
                .fetch_all(store.pool())
                .await
                .expect("messages");
        assert_eq!(messages.len(), 3);
        // Five ids: the list is padded to eight.
        let mut asked: Vec<&str> = messages.iter().map(String::as_str).collect();
        asked.insert(1, "msg_gone");
        asked.push("msg_gone_too");
        let mut conn = store.conn().await.expect("conn");
        let targets = webhooks::delivery_targets(&mut conn, &asked)
            .await
            .expect("targets");
        assert_eq!(targets.len(), 3);
        let mut seen: Vec<i64> = messages
            .iter()
            .map(|m| {
                let t = &targets[m];
                assert_eq!(t.endpoint.url, "https://hooks.example/in");
                assert_eq!(t.event.event_type, "test.event");
                t.event.data["n"].as_i64().expect("n")
            })
            .collect();
        seen.sort_unstable();
        assert_eq!(seen, [0, 1, 2]);
    })
    .await;
}

/// The pool pings a PostgreSQL connection only after it has sat idle (not on every use): one
/// that the server closed while it was idle is found out and replaced, and the caller gets a
/// working connection.
#[tokio::test]
async fn a_connection_closed_while_idle_is_replaced() {
    if let Some(url) = fresh_postgres_url().await {
        // A pool of two and nothing else in it: the connection handed out after the kill can
        // only be the killed one (or its replacement).
        let store = Store::connect(&url, 2).await.expect("store");
        let mut idle = store.conn().await.expect("conn");
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut *idle)
            .await
            .expect("pid");
        // A second connection, held to the end: the next connection handed out is `idle`'s.
        let mut held = store.conn().await.expect("second conn");
        drop(idle);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert_eq!((store.pool().size(), store.pool().num_idle()), (2, 1));
        let killed: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
            .bind(pid)
            .fetch_one(&mut *held)
            .await
            .expect("terminate");
        assert!(killed);
        tokio::time::sleep(vouch_store::PING_AFTER_IDLE + std::time::Duration::from_millis(300))
            .await;
        let mut conn = store.conn().await.expect("a connection after the kill");
        let other: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut *conn)
            .await
            .expect("the connection handed out works");
        assert_ne!(other, pid);
        drop((conn, held));
        store.close().await;
    }
}

/// A database on this machine is reached without TLS unless the URL asks for it (the server
/// here offers TLS, so sqlx's default would negotiate it); a URL that names its `sslmode` gets
/// what it names.
#[tokio::test]
async fn a_database_on_loopback_is_reached_without_tls_unless_the_url_says() {
    let Some(url) = fresh_postgres_url().await else {
        return;
    };
    let on_loopback = ["127.0.0.1", "localhost", "[::1]"]
        .iter()
        .any(|host| url.contains(&format!("@{host}")));
    let tls_in_environment =
        std::env::vars_os().any(|(name, _)| name.to_string_lossy().starts_with("PGSSL"));
    if on_loopback && !url.contains("ssl") && !tls_in_environment {
        let server_offers_tls: String = {
            let store = Store::connect(&url, 1).await.expect("store");
            let mut conn = store.conn().await.expect("conn");
            sqlx::query_scalar("SELECT current_setting('ssl')")
                .fetch_one(&mut *conn)
                .await
                .expect("ssl setting")
        };
        let encrypted = |url: String| async move {
            let store = Store::connect(&url, 1).await.expect("store");
            let mut conn = store.conn().await.expect("conn");
            let ssl: bool =
                sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                    .fetch_one(&mut *conn)
                    .await
                    .expect("pg_stat_ssl");
            ssl
        };
        assert!(!encrypted(url.clone()).await, "loopback without TLS");
        if server_offers_tls == "on" {
            let separator = if url.contains('?') { '&' } else { '?' };
            assert!(
                encrypted(format!("{url}{separator}sslmode=require")).await,
                "an sslmode in the URL is kept"
            );
        }
    }
}

/// A fresh PostgreSQL database's URL when the suite runs on PostgreSQL.
async fn fresh_postgres_url() -> Option<String> {
    if !backends().contains(&Backend::Postgres) {
        return None;
    }
    let url = vouch_store::testing::fresh_database_url(Backend::Postgres)
        .await
        .expect("database");
    Some(url)
}

/// Audit entries and events a transaction gathers ([`vouch_store::Tx::audit`],
/// [`vouch_store::Tx::emit`]) are written at its commit, each event with a webhook message and
/// its delivery job for every enabled endpoint whose filter matches, however many there are
/// (22 events: runs of 16, 4 and 2 rows). A savepoint rolled back forgets what was gathered
/// after it, also when it was written early ([`vouch_store::Tx::write_gathered`]), and a
/// transaction that does not commit writes nothing.
#[tokio::test]
async fn gathered_audit_entries_and_events_are_written_at_commit() {
    use vouch_store::audit::Origin;
    use vouch_store::webhooks::{self, EndpointDraft};
    use vouch_store::{AuditEntry, Tx};
    each_backend(|store| async move {
        let endpoint = |types: &[&str], enabled: bool| EndpointDraft {
            url: "https://hooks.example/in".into(),
            description: None,
            event_types: types.iter().map(|t| t.to_string()).collect(),
            enabled,
        };
        let mut tx = store.begin().await.expect("begin");
        let people = webhooks::create(&mut tx, &endpoint(&["participant.*"], true), "s1").await.expect("endpoint");
        let referrals = webhooks::create(&mut tx, &endpoint(&["referral.created"], true), "s2").await.expect("endpoint");
        webhooks::create(&mut tx, &endpoint(&[], false), "s3").await.expect("disabled endpoint");
        tx.commit().await.expect("commit");

        let origin = Origin::system();
        let audit = |tx: &mut Tx, action: &str| {
            tx.audit(AuditEntry { origin: &origin, action, entity: "participant", entity_id: Some("par_1"), before: None, after: Some(&serde_json::json!({ "action": action })) });
        };
        let event = |tx: &mut Tx, event_type: &str, n: i64| {
            tx.emit(event_type, &serde_json::json!({ "n": n }));
        };

        // Not committed: nothing written.
        let mut tx = store.begin().await.expect("begin");
        audit(&mut tx, "dropped");
        event(&mut tx, "participant.created", 0);
        drop(tx);
        assert_eq!((count(&store, "audit_log").await, count(&store, "events").await), (0, 0));

        let mut tx = store.begin().await.expect("begin");
        audit(&mut tx, "kept");
        event(&mut tx, "participant.created", 1);
        tx.savepoint().await.expect("savepoint");
        audit(&mut tx, "undone");
        event(&mut tx, "referral.created", 2);
        tx.rollback_to().await.expect("rollback to");
        tx.savepoint().await.expect("savepoint");
        event(&mut tx, "participant.updated", 3);
        tx.release().await.expect("release");
        for n in 4..24 {
            event(&mut tx, "referral.created", n);
        }
        // Written early inside a savepoint, then undone with it; what follows is forgotten.
        tx.savepoint().await.expect("savepoint");
        event(&mut tx, "referral.created", 100);
        tx.write_gathered().await.expect("written early");
        audit(&mut tx, "undone too");
        event(&mut tx, "referral.created", 101);
        tx.rollback_to().await.expect("rollback to");
        assert_eq!(count(&store, "events").await, 0, "nothing is visible before the commit");
        tx.commit().await.expect("commit");

        let actions: Vec<String> = sqlx::query_scalar("SELECT action FROM audit_log").fetch_all(store.pool()).await.expect("audit");
        assert_eq!(actions, ["kept"]);
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT type, data FROM events").fetch_all(store.pool()).await.expect("events");
        let mut numbers: Vec<i64> = rows.iter().map(|(_, data)| serde_json::from_str::<serde_json::Value>(data).expect("json")["n"].as_i64().expect("n")).collect();
        numbers.sort_unstable();
        let expected: Vec<i64> = [1, 3].into_iter().chain(4..24).collect();
        assert_eq!(numbers, expected);
        let per_endpoint = |id: String| {
            let store = store.clone();
            async move {
                sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM webhook_messages m JOIN jobs j ON j.id = m.job_id WHERE m.endpoint_id = '{id}' AND j.kind = 'webhook'")))
                    .fetch_one(store.pool())
                    .await
                    .expect("messages")
            }
        };
        assert_eq!(per_endpoint(people.id.clone()).await, 2, "participant.created and participant.updated");
        assert_eq!(per_endpoint(referrals.id.clone()).await, 20);
        assert_eq!(count(&store, "webhook_messages").await, 22, "the disabled endpoint gets nothing");
    })
    .await;
}

/// Emails given to `emails::queue_at_commit` are rendered when they are gathered and written at
/// the commit with their jobs, several to a statement, as the rows `emails::queue` writes at
/// once. Before the commit they count for `count_to_in` (the welcome limit of a group of
/// signups sees the group's own); a savepoint rolled back forgets them; a suppressed address
/// gets its message recorded as suppressed, with no job.
#[tokio::test]
async fn gathered_emails_are_written_at_commit_with_their_jobs() {
    use vouch_domain::email_template::Kind;
    use vouch_store::emails::{self, QueueOptions};
    each_backend(|store| async move {
        async fn welcome(tx: &mut vouch_store::Tx, to: &str) -> vouch_store::Result<()> {
            let vars = serde_json::json!({
                "participant": { "first_name": "Ada", "email": to, "code": "ADA1" },
                "program": { "name": "Friends", "offer": "10.00 off", "reward": "10.00" },
                "referral_link": "https://shop.example/r/ADA1",
                "unsubscribe_url": "https://vouch.example/u/x",
            });
            let options = QueueOptions { program_id: None, unsubscribe_url: Some("https://vouch.example/u/x"), about: None, brand: None };
            emails::queue_at_commit(tx, Kind::ParticipantWelcome, to, &vars, options).await
        }
        let since = vouch_domain::Timestamp::now() - time::Duration::hours(1);
        let mut conn = store.conn().await.expect("conn");
        emails::suppress(&mut conn, "gone@example.com", "unsubscribed").await.expect("suppress");
        drop(conn);

        let mut tx = store.begin().await.expect("begin");
        welcome(&mut tx, "ada@example.com").await.expect("gathered");
        tx.savepoint().await.expect("savepoint");
        welcome(&mut tx, "undone@example.com").await.expect("gathered");
        tx.rollback_to().await.expect("rollback to");
        welcome(&mut tx, "ada@example.com").await.expect("gathered");
        welcome(&mut tx, "gone@example.com").await.expect("gathered");
        assert_eq!(emails::count_to(&mut tx, Kind::ParticipantWelcome, "ada@example.com", since).await.expect("count"), 0, "not written yet");
        assert_eq!(emails::count_to_in(&mut tx, Kind::ParticipantWelcome, "ada@example.com", since).await.expect("count"), 2);
        let later = vouch_domain::Timestamp::now() + time::Duration::hours(1);
        assert_eq!(emails::count_to_in(&mut tx, Kind::ParticipantWelcome, "ada@example.com", later).await.expect("count"), 0, "only those since");
        // Written early inside a savepoint, then undone with it: written again at the commit,
        // and counted once meanwhile; what was gathered after the savepoint is forgotten.
        tx.savepoint().await.expect("savepoint");
        tx.write_gathered().await.expect("written early");
        assert_eq!(emails::count_to_in(&mut tx, Kind::ParticipantWelcome, "ada@example.com", since).await.expect("count"), 2, "written, not counted twice");
        welcome(&mut tx, "late@example.com").await.expect("gathered");
        tx.rollback_to().await.expect("rollback to");
        assert_eq!(emails::count_to_in(&mut tx, Kind::ParticipantWelcome, "ada@example.com", since).await.expect("count"), 2, "undone, counted as gathered");
        tx.commit().await.expect("commit");

        let rows: Vec<(String, String, Option<String>, String)> = sqlx::query_as("SELECT to_address, status, job_id, subject FROM email_messages ORDER BY to_address")
            .fetch_all(store.pool()).await.expect("messages");
        let summary: Vec<(&str, &str, bool)> = rows.iter().map(|(to, status, job, _)| (to.as_str(), status.as_str(), job.is_some())).collect();
        assert_eq!(summary, [("ada@example.com", "queued", true), ("ada@example.com", "queued", true), ("gone@example.com", "suppressed", false)]);
        assert!(rows.iter().all(|(_, _, _, subject)| !subject.is_empty()), "rendered");
        type JobOfMessage = (String, String, Option<String>, String, String, Option<String>);
        let jobs: Vec<JobOfMessage> = sqlx::query_as("SELECT j.kind, j.status, j.subject, j.payload, m.id, m.unsubscribe_url FROM jobs j JOIN email_messages m ON m.job_id = j.id")
            .fetch_all(store.pool()).await.expect("jobs");
        assert_eq!(jobs.len(), 2);
        for (kind, status, subject, payload, message_id, unsubscribe) in &jobs {
            assert_eq!((kind.as_str(), status.as_str()), ("email", "queued"));
            let payload: serde_json::Value = serde_json::from_str(payload).expect("payload");
            assert_eq!(payload["email_id"].as_str(), Some(message_id.as_str()), "the job names its message");
            assert_eq!(subject.as_deref(), Some(message_id.as_str()));
            assert_eq!(unsubscribe.as_deref(), Some("https://vouch.example/u/x"));
        }
        assert_eq!(count(&store, "jobs").await, 2, "no job for the suppressed address");
    })
    .await;
}
