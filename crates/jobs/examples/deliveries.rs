//! Webhook delivery throughput, for `bench/webhooks.sh`.
//!
//!   cargo run --release -p vouch-jobs --example deliveries -- sqlite 5000
//!   cargo run --release -p vouch-jobs --example deliveries -- postgres://postgres@127.0.0.1:5432/postgres 5000
//!
//! On a fresh database:
//! 1. the queue alone: N jobs claimed and finished (no HTTP), jobs/s and µs per job;
//! 2. the floor: N POSTs of the same size to the same receiver, 64 at a time, with no database;
//! 3. N events emitted, each with its webhook message and delivery job;
//! 4. signed deliveries to a local receiver (in this process, answering 200 at once) through
//!    the real worker, a batch at a time (`Worker::drain`), deliveries/s;
//! 5. N more, through the worker's own loop (`Worker::run`, as `vouch worker` runs it).
//!
//! Every delivery is checked to have arrived and every job to be recorded as succeeded.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use vouch_store::jobs::{self, AttemptRecord, Finished, Next};
use vouch_store::{Backend, Store, webhooks};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let target = args.get(1).map(String::as_str).unwrap_or("sqlite");
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5000);
    vouch_jobs::install_crypto_provider();
    let (store, label) = fresh(target).await?;

    // 1. The queue alone.
    enqueue(&store, n, "noop").await?;
    settle(&store).await?;
    let worker = "bench";
    let started = Instant::now();
    let mut done = 0;
    while done < n {
        let claimed = jobs::claim(&store, worker, 64, 60).await?;
        if claimed.is_empty() {
            break;
        }
        // Recorded the way the worker records: one transaction per batch.
        let finished: Vec<Finished> = claimed
            .into_iter()
            .map(|job| Finished {
                job,
                record: AttemptRecord {
                    succeeded: true,
                    response_status: Some(200),
                    ..AttemptRecord::starting_now()
                },
                next: Next::Succeeded,
            })
            .collect();
        done += jobs::finish_many(&store, worker, &finished).await?.len();
    }
    let queue = started.elapsed();
    println!(
        "{label}: queue only: {done} jobs in {:.2} s = {:.0} jobs/s ({:.0} µs per claim+finish)",
        queue.as_secs_f64(),
        done as f64 / queue.as_secs_f64(),
        queue.as_micros() as f64 / done as f64
    );

    // 2. Signed deliveries through the worker to a local receiver.
    let received = Arc::new(AtomicUsize::new(0));
    let counter = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::Relaxed);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    // 2. The floor: the same number of POSTs of an envelope's size to the same receiver, 64 at
    //    a time, with no database and no signature.
    let client = reqwest::Client::new();
    let body = serde_json::to_vec(&serde_json::json!({
        "id": vouch_domain::id::new_id("evt"),
        "type": "bench.event",
        "created_at": vouch_domain::Timestamp::now(),
        "data": { "n": 0 },
    }))?;
    let started = Instant::now();
    let mut posting = tokio::task::JoinSet::new();
    for lane in 0..64 {
        let (client, url, body) = (client.clone(), url.clone(), body.clone());
        posting.spawn(async move {
            for _ in (lane..n).step_by(64) {
                client
                    .post(&url)
                    .body(body.clone())
                    .send()
                    .await?
                    .bytes()
                    .await?;
            }
            Ok::<_, reqwest::Error>(())
        });
    }
    while let Some(lane) = posting.join_next().await {
        lane??;
    }
    report(
        label,
        "HTTP only, the floor",
        n,
        started.elapsed(),
        &received,
        n,
    )?;
    received.store(0, Ordering::Relaxed);

    let mut tx = store.begin().await?;
    let draft = webhooks::EndpointDraft {
        url,
        description: None,
        event_types: vec![],
        enabled: true,
    };
    webhooks::create(&mut tx, &draft, &vouch_app::webhooks::new_secret()).await?;
    tx.commit().await?;
    let emitting = emit(&store, n).await?;
    settle(&store).await?;
    println!(
        "{label}: events: {n} emitted (with fan-out) in {:.2} s = {:.0} events/s",
        emitting.as_secs_f64(),
        n as f64 / emitting.as_secs_f64()
    );
    let mut settings = vouch_jobs::WorkerSettings {
        concurrency: 64,
        ..Default::default()
    };
    settings.delivery.outbound = vouch_jobs::OutboundPolicy::parse("127.0.0.0/8")?;

    // 4. Claimed a batch at a time, each batch recorded before the next is claimed.
    let worker = vouch_jobs::Worker::new(store.clone(), settings.clone())?;
    let started = Instant::now();
    let ran = worker.drain().await?;
    report(label, "in batches", ran, started.elapsed(), &received, n)?;

    // 5. The worker's own loop, as `vouch worker` runs it: jobs claimed as slots free up and
    //    attempts recorded as they end. It is stopped once every delivery has arrived, and
    //    records what it still holds before it returns.
    emit(&store, n).await?;
    settle(&store).await?;
    received.store(0, Ordering::Relaxed);
    let worker = vouch_jobs::Worker::new(store.clone(), settings)?;
    let counter = received.clone();
    let all_arrived = async move {
        while counter.load(Ordering::Relaxed) < n {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    };
    let started = Instant::now();
    worker.run(all_arrived).await;
    let took = started.elapsed();
    let mut conn = store.conn().await?;
    let succeeded = jobs::counts(&mut conn)
        .await?
        .into_iter()
        .find(|(status, _)| status == "succeeded")
        .map_or(0, |(_, count)| count);
    drop(conn);
    // Every job: the queue's, and two rounds of deliveries.
    if succeeded != 3 * n as i64 {
        return Err(format!("{succeeded} of {} jobs recorded as succeeded", 3 * n).into());
    }
    report(label, "worker loop", n, took, &received, n)?;
    store.close().await;
    Ok(())
}

/// Brings the planner's statistics up to date, as a running installation's have them (on
/// PostgreSQL autovacuum analyzes a table within a minute of such a change): a fresh database
/// that just received thousands of rows would otherwise be planned as empty.
async fn settle(store: &Store) -> vouch_store::Result<()> {
    let mut conn = store.conn().await?;
    sqlx::query("ANALYZE").execute(&mut *conn).await?;
    Ok(())
}

fn report(
    label: &str,
    how: &str,
    ran: usize,
    took: std::time::Duration,
    received: &AtomicUsize,
    n: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let arrived = received.load(Ordering::Relaxed);
    println!(
        "{label}: deliveries ({how}): {ran} signed POSTs in {:.2} s = {:.0} deliveries/s; {arrived} arrived",
        took.as_secs_f64(),
        ran as f64 / took.as_secs_f64()
    );
    if arrived != n {
        return Err(format!("{arrived} of {n} deliveries arrived").into());
    }
    Ok(())
}

/// Emits `n` events, 500 to a transaction; each fans out to the one endpoint.
async fn emit(store: &Store, n: usize) -> vouch_store::Result<std::time::Duration> {
    let started = Instant::now();
    for chunk in 0..n.div_ceil(500) {
        let mut tx = store.begin().await?;
        for i in 0..500.min(n - chunk * 500) {
            vouch_store::events::emit(
                &mut tx,
                "bench.event",
                &serde_json::json!({ "n": chunk * 500 + i }),
            )
            .await?;
        }
        tx.commit().await?;
    }
    Ok(started.elapsed())
}

async fn enqueue(store: &Store, n: usize, kind: &str) -> vouch_store::Result<()> {
    for chunk in 0..n.div_ceil(500) {
        let mut tx = store.begin().await?;
        for _ in 0..500.min(n - chunk * 500) {
            jobs::enqueue(&mut tx, kind, None, &serde_json::json!({}), 1).await?;
        }
        tx.commit().await?;
    }
    Ok(())
}

async fn fresh(target: &str) -> Result<(Store, &'static str), Box<dyn std::error::Error>> {
    if target == "sqlite" {
        let dir = std::env::temp_dir().join(format!("vouch-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let store =
            Store::connect(&format!("sqlite://{}", dir.join("bench.db").display()), 10).await?;
        store.migrate().await?;
        return Ok((store, "sqlite"));
    }
    use sqlx::{Connection, Executor};
    sqlx::any::install_default_drivers();
    let mut admin = sqlx::AnyConnection::connect(target).await?;
    admin
        .execute("DROP DATABASE IF EXISTS vouch_bench_jobs WITH (FORCE)")
        .await?;
    admin.execute("CREATE DATABASE vouch_bench_jobs").await?;
    let base = target.rsplit_once('/').map(|(b, _)| b).unwrap_or(target);
    let store = Store::connect(&format!("{base}/vouch_bench_jobs"), 20).await?;
    store.migrate().await?;
    debug_assert_eq!(store.backend(), Backend::Postgres);
    Ok((store, "postgres"))
}
