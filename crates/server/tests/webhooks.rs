//! Webhook delivery end to end: real receivers on loopback, the real worker, both stores.

mod common;

use common::receiver::{Mode, Receiver, verify};
use common::{Api, TestApp, each_backend};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;
use vouch_domain::permission::Scope;

async fn endpoint(api: &Api, url: &str, types: serde_json::Value) -> (String, String) {
    let r = api
        .post(
            "/api/v1/webhook-endpoints",
            json!({ "url": url, "event_types": types, "description": "test receiver" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let secret = r.body["secret"].as_str().expect("secret").to_string();
    assert!(secret.starts_with("whsec_"));
    (r.body["id"].as_str().expect("id").to_string(), secret)
}

async fn drain(app: &TestApp) -> usize {
    app.worker().drain().await.expect("drain")
}

#[tokio::test]
async fn events_reach_subscribed_endpoints_signed() {
    each_backend(|app| async move {
        let rx = Receiver::start(Mode::Ok).await;
        let admin = app.key_client(Scope::Admin).await;
        let (id, secret) = endpoint(&admin, &rx.url, json!(["account.*"])).await;
        let account = admin.account("Acme", "ops@acme.example").await;
        // Not subscribed: referral setups.
        admin.post("/api/v1/referral-setups", json!({ "beneficiary_id": account })).await;
        // A refused change emits nothing.
        let dup = admin.post("/api/v1/accounts", json!({ "name": "Acme 2", "email": "ops@acme.example", "owner_first_name": "A", "owner_last_name": "B" })).await;
        assert_eq!(dup.status, StatusCode::CONFLICT);
        assert_eq!(drain(&app).await, 1);
        let got = rx.delivered();
        assert_eq!(got.len(), 1);
        let d = &got[0];
        assert!(verify(&secret, d), "the signature verifies with the endpoint secret");
        assert!(!verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", d), "and not with another");
        assert!(d.id.starts_with("msg_"));
        let body = d.json();
        assert_eq!(body["type"], "account.created");
        assert!(body["id"].as_str().expect("id").starts_with("evt_"));
        assert!(body["created_at"].is_string());
        assert_eq!(body["data"]["id"], account);
        assert_eq!(body["data"]["name"], "Acme");

        let messages = admin.get(&format!("/api/v1/webhook-endpoints/{id}/messages")).await;
        assert_eq!(messages.body["data"][0]["status"], "succeeded");
        assert_eq!(messages.body["data"][0]["id"], d.id.as_str());
        let attempts = admin.get(&format!("/api/v1/webhook-endpoints/{id}/messages/{}/attempts", d.id)).await;
        assert_eq!(attempts.body["data"][0]["response_status"], 200);
        assert_eq!(attempts.body["data"][0]["response_body"], "thanks");
        assert_eq!(attempts.body["data"][0]["succeeded"], true);
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn failures_retry_with_every_attempt_recorded() {
    each_backend(|app| async move {
        let rx = Receiver::start(Mode::FailTimes(3)).await;
        let admin = app.key_client(Scope::Admin).await;
        let (id, secret) = endpoint(&admin, &rx.url, json!([])).await;
        admin.account("Acme", "ops@acme.example").await;
        drain(&app).await;
        let all = rx.received();
        assert_eq!(
            all.iter().map(|r| r.status).collect::<Vec<_>>(),
            vec![500, 500, 500, 200]
        );
        assert!(
            all.iter().all(|r| r.id == all[0].id),
            "the webhook-id is the same on every retry"
        );
        assert!(all.iter().all(|r| verify(&secret, r)));
        let attempts = admin
            .get(&format!(
                "/api/v1/webhook-endpoints/{id}/messages/{}/attempts",
                all[0].id
            ))
            .await;
        let statuses: Vec<i64> = attempts.body["data"]
            .as_array()
            .expect("data")
            .iter()
            .filter_map(|a| a["response_status"].as_i64())
            .collect();
        assert_eq!(statuses, vec![500, 500, 500, 200]);
        assert_eq!(attempts.body["data"][0]["response_body"], "failure 1");
        let ep = admin.get(&format!("/api/v1/webhook-endpoints/{id}")).await;
        assert_eq!(
            ep.body["failing_since"],
            serde_json::Value::Null,
            "a success ends the failure streak"
        );
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn gone_disables_the_endpoint() {
    each_backend(|app| async move {
        let rx = Receiver::start(Mode::Gone).await;
        let admin = app.key_client(Scope::Admin).await;
        let (id, _) = endpoint(&admin, &rx.url, json!([])).await;
        admin.account("Acme", "ops@acme.example").await;
        drain(&app).await;
        assert_eq!(rx.received().len(), 1, "no retry after 410");
        let ep = admin.get(&format!("/api/v1/webhook-endpoints/{id}")).await;
        assert_eq!(ep.body["enabled"], false);
        assert!(
            ep.body["disabled_reason"]
                .as_str()
                .expect("reason")
                .contains("410")
        );
        let messages = admin
            .get(&format!("/api/v1/webhook-endpoints/{id}/messages"))
            .await;
        assert_eq!(messages.body["data"][0]["status"], "dead");
        // Later events are not queued for a disabled endpoint.
        admin.account("Beta", "ops@beta.example").await;
        drain(&app).await;
        assert_eq!(rx.received().len(), 1);
        // Re-enabling works.
        rx.set_mode(Mode::Ok);
        assert_eq!(
            admin
                .patch(
                    &format!("/api/v1/webhook-endpoints/{id}"),
                    json!({ "enabled": true })
                )
                .await
                .body["enabled"],
            true
        );
        admin.account("Gamma", "ops@gamma.example").await;
        drain(&app).await;
        assert_eq!(rx.delivered().len(), 1);
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn redirects_and_timeouts_are_failures() {
    each_backend(|app| async move {
        let moved = Receiver::start(Mode::Redirect).await;
        let slow = Receiver::start(Mode::Slow(Duration::from_secs(4))).await;
        let admin = app.key_client(Scope::Admin).await;
        let (moved_id, _) = endpoint(&admin, &moved.url, json!([])).await;
        let (slow_id, _) = endpoint(&admin, &slow.url, json!([])).await;
        admin.account("Acme", "ops@acme.example").await;
        let worker = app.worker_with(|s| {
            s.delivery.retry_schedule = vec![];
            s.delivery.timeout = Duration::from_secs(1);
        });
        worker.drain().await.expect("drain");
        let m = admin
            .get(&format!("/api/v1/webhook-endpoints/{moved_id}/messages"))
            .await;
        assert_eq!(
            m.body["data"][0]["status"], "dead",
            "one attempt only with an empty schedule"
        );
        let a = admin
            .get(&format!(
                "/api/v1/webhook-endpoints/{moved_id}/messages/{}/attempts",
                m.body["data"][0]["id"].as_str().expect("id")
            ))
            .await;
        assert_eq!(a.body["data"][0]["response_status"], 302);
        assert_eq!(a.body["data"][0]["succeeded"], false);
        assert_eq!(moved.received().len(), 1, "the redirect was not followed");
        let m = admin
            .get(&format!("/api/v1/webhook-endpoints/{slow_id}/messages"))
            .await;
        let a = admin
            .get(&format!(
                "/api/v1/webhook-endpoints/{slow_id}/messages/{}/attempts",
                m.body["data"][0]["id"].as_str().expect("id")
            ))
            .await;
        assert_eq!(
            a.body["data"][0]["response_status"],
            serde_json::Value::Null
        );
        assert!(
            a.body["data"][0]["error"]
                .as_str()
                .expect("error")
                .contains("no answer within 1 s"),
            "{}",
            a.text
        );
        assert!(a.body["data"][0]["duration_ms"].as_i64().expect("ms") < 3000);
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn retry_after_is_honoured() {
    each_backend(|app| async move {
        let rx = Receiver::start(Mode::RetryAfter(600)).await;
        let admin = app.key_client(Scope::Admin).await;
        let (id, _) = endpoint(&admin, &rx.url, json!([])).await;
        admin.account("Acme", "ops@acme.example").await;
        drain(&app).await;
        assert_eq!(rx.received().len(), 1, "not retried before its time");
        let m = admin
            .get(&format!("/api/v1/webhook-endpoints/{id}/messages"))
            .await;
        assert_eq!(m.body["data"][0]["status"], "queued");
        let next = m.body["data"][0]["next_attempt_at"].as_str().expect("next");
        let at = time::OffsetDateTime::parse(next, &time::format_description::well_known::Rfc3339)
            .expect("time");
        let wait = (at - time::OffsetDateTime::now_utc()).whole_seconds();
        assert!((590..=610).contains(&wait), "{wait}");
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn private_destinations_are_refused_unless_allowed() {
    for backend in vouch_store::testing::backends() {
        let app = TestApp::spawn_with(backend, |s| {
            s.outbound = vouch_jobs::OutboundPolicy::default()
        })
        .await;
        let rx = Receiver::start(Mode::Ok).await;
        let admin = app.key_client(Scope::Admin).await;
        for url in [
            rx.url.as_str(),
            "http://10.0.0.5/hook",
            "http://169.254.169.254/latest",
            "http://[::1]/x",
            "ftp://example.com/x",
        ] {
            let r = admin
                .post("/api/v1/webhook-endpoints", json!({ "url": url }))
                .await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
            assert_eq!(r.fields(), vec!["url".to_string()]);
        }
        // A name is checked where it matters: on the address it resolves to, at connect time.
        let by_name = rx.url.replace("127.0.0.1", "localhost");
        let (id, _) = endpoint(&admin, &by_name, json!([])).await;
        admin.account("Acme", "ops@acme.example").await;
        app.worker_with(|s| {
            s.delivery.outbound = vouch_jobs::OutboundPolicy::default();
            s.delivery.retry_schedule = vec![];
        })
        .drain()
        .await
        .expect("drain");
        assert!(
            rx.received().is_empty(),
            "nothing reached the private address"
        );
        let m = admin
            .get(&format!("/api/v1/webhook-endpoints/{id}/messages"))
            .await;
        let a = admin
            .get(&format!(
                "/api/v1/webhook-endpoints/{id}/messages/{}/attempts",
                m.body["data"][0]["id"].as_str().expect("id")
            ))
            .await;
        assert!(
            a.body["data"][0]["error"]
                .as_str()
                .expect("error")
                .contains("non-public"),
            "{}",
            a.text
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn rotation_resend_replay_and_test_events() {
    each_backend(|app| async move {
        let rx = Receiver::start(Mode::Ok).await;
        let admin = app.key_client(Scope::Admin).await;
        let (id, old_secret) = endpoint(&admin, &rx.url, json!(["account.created"])).await;
        let rotated = admin
            .post(
                &format!("/api/v1/webhook-endpoints/{id}/rotate-secret"),
                json!({}),
            )
            .await;
        let new_secret = rotated.body["secret"].as_str().expect("secret").to_string();
        assert_ne!(new_secret, old_secret);
        assert!(rotated.body["previous_secret_expires_at"].is_string());
        admin.account("Acme", "ops@acme.example").await;
        drain(&app).await;
        let first = rx.delivered()[0].clone();
        assert_eq!(
            first.signature.split(' ').count(),
            2,
            "old and new secrets both sign for 24 h"
        );
        assert!(verify(&old_secret, &first) && verify(&new_secret, &first));

        let resent = admin
            .post(
                &format!(
                    "/api/v1/webhook-endpoints/{id}/messages/{}/resend",
                    first.id
                ),
                json!({}),
            )
            .await;
        assert_eq!(resent.status, StatusCode::OK, "{}", resent.text);
        assert_eq!(resent.body["status"], "queued");
        let busy = admin
            .post(
                &format!(
                    "/api/v1/webhook-endpoints/{id}/messages/{}/resend",
                    first.id
                ),
                json!({}),
            )
            .await;
        assert_eq!(busy.status, StatusCode::CONFLICT, "one delivery at a time");
        drain(&app).await;
        assert_eq!(rx.delivered().len(), 2);
        assert_eq!(
            rx.delivered()[1].id,
            first.id,
            "a resend keeps the webhook-id"
        );

        let test = admin
            .post(&format!("/api/v1/webhook-endpoints/{id}/test"), json!({}))
            .await;
        assert_eq!(test.status, StatusCode::CREATED, "{}", test.text);
        drain(&app).await;
        assert_eq!(
            rx.delivered()[2].json()["type"],
            "webhook.test",
            "a test event goes out whatever the filter"
        );

        let replay = admin
            .post(
                &format!("/api/v1/webhook-endpoints/{id}/replay"),
                json!({ "since": "2000-01-01T00:00:00Z" }),
            )
            .await;
        assert_eq!(replay.body["queued"], 2);
        drain(&app).await;
        assert_eq!(rx.delivered().len(), 5);
        assert_eq!(
            admin
                .post(
                    &format!("/api/v1/webhook-endpoints/{id}/replay"),
                    json!({ "since": "yesterday" })
                )
                .await
                .fields(),
            vec!["since".to_string()]
        );
        let bad = admin
            .post(
                "/api/v1/webhook-endpoints",
                json!({ "url": rx.url, "event_types": ["Account.Created", "*"] }),
            )
            .await;
        assert_eq!(bad.fields(), vec!["event_types[0]".to_string()]);

        // Deleting cancels what is queued.
        admin.account("Beta", "ops@beta.example").await;
        let del = admin
            .send(admin.request(
                reqwest::Method::DELETE,
                &format!("/api/v1/webhook-endpoints/{id}"),
            ))
            .await;
        assert_eq!(del.status, StatusCode::NO_CONTENT);
        drain(&app).await;
        assert_eq!(rx.delivered().len(), 5);
        assert_eq!(
            admin
                .get(&format!("/api/v1/webhook-endpoints/{id}"))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn dead_jobs_are_listed_and_retryable() {
    each_backend(|app| async move {
        let rx = Receiver::start(Mode::Always(500)).await;
        let admin = app.key_client(Scope::Admin).await;
        endpoint(&admin, &rx.url, json!([])).await;
        admin.account("Acme", "ops@acme.example").await;
        drain(&app).await;
        assert_eq!(
            rx.received().len(),
            10,
            "ten attempts, then the job is dead"
        );
        let dead = admin.get("/api/v1/jobs?status=dead").await;
        assert_eq!(dead.body["data"].as_array().map(Vec::len), Some(1));
        let job = dead.body["data"][0]["id"]
            .as_str()
            .expect("job")
            .to_string();
        assert_eq!(dead.body["data"][0]["last_error"], "answered 500");
        rx.set_mode(Mode::Ok);
        let retried = admin
            .post(&format!("/api/v1/jobs/{job}/retry"), json!({}))
            .await;
        assert_eq!(retried.body["status"], "queued");
        assert_eq!(
            admin
                .post(&format!("/api/v1/jobs/{job}/retry"), json!({}))
                .await
                .status,
            StatusCode::CONFLICT
        );
        drain(&app).await;
        assert_eq!(rx.delivered().len(), 1);
        assert_eq!(
            admin.get("/api/v1/jobs?status=dead").await.body["data"]
                .as_array()
                .map(Vec::len),
            Some(0)
        );
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn concurrent_workers_never_run_one_job_twice() {
    each_backend(|app| async move {
        let rx = Receiver::start(Mode::Slow(Duration::from_millis(20))).await;
        let admin = app.key_client(Scope::Admin).await;
        endpoint(&admin, &rx.url, json!([])).await;
        let n = 120;
        for i in 0..n {
            admin
                .account(&format!("Company {i}"), &format!("c{i}@x.example"))
                .await;
        }
        let a = app.worker_with(|s| s.concurrency = 8);
        let b = app.worker_with(|s| s.concurrency = 8);
        let (ra, rb) = tokio::join!(a.drain(), b.drain());
        let (ra, rb) = (ra.expect("a"), rb.expect("b"));
        assert_eq!(ra + rb, n, "every job ran once: {ra} + {rb}");
        assert!(ra > 0 && rb > 0, "both workers took part: {ra} + {rb}");
        let delivered = rx.delivered();
        assert_eq!(delivered.len(), n);
        let mut ids: Vec<&str> = delivered.iter().map(|r| r.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n, "no message delivered twice");
        assert_eq!(rx.max_in_flight_per_id(), 1);
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn long_answers_are_kept_to_4_kib() {
    each_backend(|app| async move {
        let rx = Receiver::start(Mode::Big(10_000)).await;
        let admin = app.key_client(Scope::Admin).await;
        let (id, _) = endpoint(&admin, &rx.url, json!([])).await;
        admin.account("Acme", "ops@acme.example").await;
        app.worker_with(|s| s.delivery.retry_schedule = vec![])
            .drain()
            .await
            .expect("drain");
        let m = admin
            .get(&format!("/api/v1/webhook-endpoints/{id}/messages"))
            .await;
        let a = admin
            .get(&format!(
                "/api/v1/webhook-endpoints/{id}/messages/{}/attempts",
                m.body["data"][0]["id"].as_str().expect("id")
            ))
            .await;
        assert_eq!(
            a.body["data"][0]["response_body"].as_str().map(str::len),
            Some(4096)
        );
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn endpoints_failing_for_five_days_are_disabled() {
    each_backend(|app| async move {
        let rx = Receiver::start(Mode::Always(503)).await;
        let admin = app.key_client(Scope::Admin).await;
        let (id, _) = endpoint(&admin, &rx.url, json!([])).await;
        admin.account("Acme", "ops@acme.example").await;
        app.worker_with(|s| s.delivery.retry_schedule = vec![])
            .drain()
            .await
            .expect("drain");
        let ep = admin.get(&format!("/api/v1/webhook-endpoints/{id}")).await;
        assert!(
            ep.body["failing_since"].is_string(),
            "a failure starts the streak"
        );
        assert_eq!(ep.body["enabled"], true, "one failure is not five days");
        // The streak began six days ago.
        let six_days_ago = vouch_domain::Timestamp::ago(time::Duration::days(6)).to_string();
        sqlx::query("UPDATE webhook_endpoints SET failing_since = $1 WHERE id = $2")
            .bind(six_days_ago)
            .bind(&id)
            .execute(app.state.store.pool())
            .await
            .expect("age the streak");
        admin.account("Beta", "ops@beta.example").await;
        app.worker_with(|s| s.delivery.retry_schedule = vec![])
            .drain()
            .await
            .expect("drain");
        let ep = admin.get(&format!("/api/v1/webhook-endpoints/{id}")).await;
        assert_eq!(ep.body["enabled"], false);
        assert!(
            ep.body["disabled_reason"]
                .as_str()
                .expect("reason")
                .contains("5 days"),
            "{}",
            ep.text
        );
        let audit = admin
            .get("/api/v1/audit-events?action=webhook_endpoint.disabled")
            .await;
        assert_eq!(audit.body["data"][0]["actor_kind"], "system");
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn a_stopping_worker_finishes_what_it_started() {
    each_backend(|app| async move {
        let rx = Receiver::start(Mode::Slow(Duration::from_millis(800))).await;
        let admin = app.key_client(Scope::Admin).await;
        let (id, _) = endpoint(&admin, &rx.url, json!([])).await;
        admin.account("Acme", "ops@acme.example").await;
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let worker = app.worker_with(|s| s.poll_interval = Duration::from_millis(20));
        let running = tokio::spawn(worker.run(async move {
            let _ = stop_rx.await;
        }));
        tokio::time::sleep(Duration::from_millis(300)).await;
        let _ = stop_tx.send(());
        running.await.expect("worker");
        assert_eq!(
            rx.delivered().len(),
            1,
            "the delivery under way was finished"
        );
        let m = admin
            .get(&format!("/api/v1/webhook-endpoints/{id}/messages"))
            .await;
        assert_eq!(
            m.body["data"][0]["status"], "succeeded",
            "and recorded before the worker stopped"
        );
        app.stop().await;
    })
    .await;
}

/// Retention: once an event is older than `retention.events_days`, the worker's housekeeping
/// deletes it with its message, delivery and attempts; a newer one stays.
#[tokio::test]
async fn old_deliveries_go_after_the_retention_window() {
    each_backend(|app| async move {
        let rx = Receiver::start(Mode::Ok).await;
        let admin = app.key_client(Scope::Admin).await;
        let (id, _) = endpoint(&admin, &rx.url, json!(["account.*"])).await;
        admin.account("Old Co", "ops@old.example").await;
        admin.account("New Co", "ops@new.example").await;
        assert_eq!(drain(&app).await, 2);
        let messages = || async {
            admin
                .get(&format!("/api/v1/webhook-endpoints/{id}/messages"))
                .await
                .body["data"]
                .as_array()
                .map(Vec::len)
        };
        assert_eq!(messages().await, Some(2));
        // The first event happened 120 days ago (rows are stamped by the database's clock).
        let first: String = sqlx::query_scalar("SELECT id FROM events ORDER BY id LIMIT 1")
            .fetch_one(app.state.store.pool())
            .await
            .expect("event");
        let long_ago = (vouch_domain::Timestamp::now() - time::Duration::days(120)).to_string();
        sqlx::query("UPDATE events SET created_at = $1 WHERE id = $2")
            .bind(&long_ago)
            .bind(&first)
            .execute(app.state.store.pool())
            .await
            .expect("age");

        let gone = vouch_app::housekeeping::purge_old(&app.state)
            .await
            .expect("retention");
        assert!(gone >= 1, "{gone}");
        assert_eq!(
            messages().await,
            Some(1),
            "the old delivery went, the new one stays"
        );
        assert_eq!(
            vouch_app::housekeeping::purge_old(&app.state)
                .await
                .expect("again"),
            0,
            "nothing more to do"
        );
        app.stop().await;
    })
    .await;
}

/// The worker's own loop, as `vouch worker` runs it: two workers claim and record in batches
/// beside their deliveries; every message arrives once and every attempt is recorded before
/// the workers stop.
#[tokio::test]
async fn running_workers_deliver_each_message_once_and_record_it() {
    each_backend(|app| async move {
        let rx = Receiver::start(Mode::Ok).await;
        let admin = app.key_client(Scope::Admin).await;
        let (id, _) = endpoint(&admin, &rx.url, json!([])).await;
        let n = 150;
        for i in 0..n {
            admin
                .account(&format!("Company {i}"), &format!("c{i}@x.example"))
                .await;
        }
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let run = |concurrency: usize| {
            let worker = app.worker_with(|s| {
                s.concurrency = concurrency;
                s.poll_interval = Duration::from_millis(20);
            });
            let mut stop = stop_rx.clone();
            tokio::spawn(worker.run(async move {
                let _ = stop.wait_for(|stopped| *stopped).await;
            }))
        };
        let (a, b) = (run(16), run(5));
        for _ in 0..500 {
            if rx.delivered().len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = stop_tx.send(true);
        a.await.expect("worker a");
        b.await.expect("worker b");
        let delivered = rx.delivered();
        let mut ids: Vec<&str> = delivered.iter().map(|r| r.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(
            (delivered.len(), ids.len()),
            (n, n),
            "each message arrived once"
        );
        let mut statuses: Vec<String> = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = admin
                .get(&format!(
                    "/api/v1/webhook-endpoints/{id}/messages?limit=100{}",
                    cursor
                        .as_deref()
                        .map(|c| format!("&starting_after={c}"))
                        .unwrap_or_default()
                ))
                .await;
            let data = page.body["data"].as_array().cloned().unwrap_or_default();
            statuses.extend(
                data.iter()
                    .map(|m| m["status"].as_str().unwrap_or("?").to_string()),
            );
            cursor = data
                .last()
                .and_then(|m| m["id"].as_str())
                .map(str::to_string);
            if page.body["has_more"] != true {
                break;
            }
        }
        assert_eq!(statuses.len(), n);
        assert!(
            statuses.iter().all(|s| s == "succeeded"),
            "every attempt recorded: {statuses:?}"
        );
        app.stop().await;
    })
    .await;
}
