//! Partner throughput, for `bench/partners.sh` (issue 10):
//!
//!   cargo run --release -p vouch-jobs --example partners -- sqlite 2000 100000
//!   cargo run --release -p vouch-jobs --example partners -- postgres://postgres@127.0.0.1:5432/postgres 2000 100000
//!
//! On a fresh database:
//! 1. **baseline**: N plain JSON POSTs from one HTTP client, 64 at a time, to a receiver in this
//!    process: what this machine's loopback HTTP can do with no queue and no database;
//! 2. **sales**: N leads sold through `vouch_app::lead_sales::sell` one after the other (each
//!    its own transaction: the sale, its audit entry and event, its post job and its sale
//!    notification email);
//! 3. **deliveries**: the real worker (64 concurrent) posting all N to the receiver and sending
//!    the N notifications to the outbox; every lead must arrive and every sale end delivered;
//! 4. **portal search**: R referrals of one partner (both directions), then 200 searches of its
//!    View Referrals list as the portal runs them (`Side::Partner`, one search box over every
//!    field but the date, 25 a page with the total), p50 / p99 / max.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use vouch_app::partner_referrals::Side;
use vouch_app::{Ctx, Settings};
use vouch_domain::lead_sale::{DeliveryStatus, LeadFields};
use vouch_domain::partner::PartnerFields;
use vouch_domain::partner_referral::{Direction, DuplicateStatus, ReferralFields};
use vouch_store::audit::{Actor, ActorKind, Origin};
use vouch_store::lead_sales::SaleFilter;
use vouch_store::partner_referrals::{NewReferral, ReferralQuery, SortKey};
use vouch_store::{Backend, Store};

type Error = Box<dyn std::error::Error>;

fn describe(e: vouch_app::AppError) -> Error {
    format!("{e}: {:?}", e.field_errors()).into()
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    let target = args.get(1).map(String::as_str).unwrap_or("sqlite");
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2000);
    let referrals: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    vouch_jobs::install_crypto_provider();
    let (store, label) = fresh(target).await?;
    let settings = Settings {
        outbound: vouch_app::outbound::OutboundPolicy::parse("127.0.0.0/8")?,
        ..Settings::default()
    };
    let ctx = Ctx::new(store.clone(), settings).await?;
    let origin = Origin::system();

    // The receiver: counts what arrives, answers 200 at once.
    let received = Arc::new(AtomicUsize::new(0));
    let counter = received.clone();
    let app = axum::Router::new().route(
        "/leads",
        axum::routing::post(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::Relaxed);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/leads", listener.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    // 1. Baseline: the same number of POSTs with no queue and no database.
    let client = reqwest::Client::new();
    let body = serde_json::json!({ "source_id": "4471", "sender_lead_id": "lds_baseline", "first_name": "Dana", "last_name": "Home" });
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    let next = Arc::new(AtomicUsize::new(0));
    for _ in 0..64 {
        let (client, url, body, next) = (client.clone(), url.clone(), body.clone(), next.clone());
        set.spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < n {
                let _ = client.post(&url).json(&body).send().await;
            }
        });
    }
    while set.join_next().await.is_some() {}
    let baseline = started.elapsed();
    println!(
        "{label}: baseline: {n} plain POSTs (64 at a time, no queue) in {:.2} s = {:.0}/s",
        baseline.as_secs_f64(),
        n as f64 / baseline.as_secs_f64()
    );
    received.store(0, Ordering::Relaxed);

    // 2. Sales.
    let buyer = vouch_app::partners::create_partner(
        &ctx,
        &origin,
        &PartnerFields {
            name: "Bench Buyer".into(),
            buys_customers: true,
            delivery_method: "api_post".into(),
            post_url: url.clone(),
            source_id: "4471".into(),
            notification_emails: vec!["sales@buyer.example".into()],
            ..Default::default()
        },
        None,
    )
    .await
    .map_err(describe)?;
    let started = Instant::now();
    for i in 0..n {
        let lead = LeadFields {
            first_name: "Dana".into(),
            last_name: format!("Home {i}"),
            email: format!("dana{i}@home.example"),
            phones: vec!["+1 555 0100".into()],
            city: "Springfield".into(),
            sale_price: Some(2_500),
            currency: "USD".into(),
            ..Default::default()
        };
        vouch_app::lead_sales::sell(&ctx, &origin, &buyer.id, &lead)
            .await
            .map_err(describe)?;
    }
    let selling = started.elapsed();
    println!(
        "{label}: sales: {n} leads sold in {:.2} s = {:.0} sales/s",
        selling.as_secs_f64(),
        n as f64 / selling.as_secs_f64()
    );

    // 3. Deliveries through the worker.
    let mut worker_settings = vouch_jobs::WorkerSettings {
        concurrency: 64,
        ..Default::default()
    };
    worker_settings.delivery.outbound = vouch_jobs::OutboundPolicy::parse("127.0.0.0/8")?;
    let worker = vouch_jobs::Worker::new(store.clone(), worker_settings)?;
    let started = Instant::now();
    let ran = worker.drain().await?;
    let took = started.elapsed();
    let arrived = received.load(Ordering::Relaxed);
    let pending = vouch_app::lead_sales::list(
        &ctx,
        SaleFilter {
            partner_id: None,
            delivery_status: Some(DeliveryStatus::Pending),
        },
        None,
        1,
    )
    .await
    .map_err(describe)?;
    println!(
        "{label}: deliveries: {arrived} lead posts (and {} notification emails) in {:.2} s = {:.0} lead deliveries/s",
        ran.saturating_sub(arrived),
        took.as_secs_f64(),
        arrived as f64 / took.as_secs_f64()
    );
    if arrived != n || !pending.is_empty() {
        return Err(format!("{arrived} of {n} leads arrived; sales still pending").into());
    }

    // 4. Portal search over R referrals of one partner.
    let agency = vouch_app::partners::create_partner(
        &ctx,
        &origin,
        &PartnerFields {
            name: "Bench Agency".into(),
            refers_clients: true,
            receives_referrals: true,
            ..Default::default()
        },
        None,
    )
    .await
    .map_err(describe)?;
    let started = Instant::now();
    for chunk in 0..referrals.div_ceil(1000) {
        let mut tx = store.begin().await?;
        for i in chunk * 1000..((chunk + 1) * 1000).min(referrals) {
            let fields = ReferralFields {
                client_name: format!("Client {i}"),
                company: format!("Company {}", i % 5000),
                email: format!("client{i}@company{}.example", i % 5000),
                notes: if i % 10 == 0 {
                    "Wants a joint demo in spring".into()
                } else {
                    String::new()
                },
                value: Some(i64::try_from(i % 900).unwrap_or(0) * 1_000),
                currency: "USD".into(),
                ..Default::default()
            };
            let draft = fields.parse().map_err(|v| format!("{:?}", v.errors()))?;
            vouch_store::partner_referrals::insert(
                &mut tx,
                &NewReferral {
                    partner_id: &agency.id,
                    direction: if i % 3 == 0 {
                        Direction::ToPartner
                    } else {
                        Direction::ToUs
                    },
                    draft: &draft,
                    company_domain: None,
                    manager_id: None,
                    submitted_by: "bench",
                    duplicate_of: None,
                },
            )
            .await?;
        }
        tx.commit().await?;
    }
    println!(
        "{label}: portal search: {referrals} referrals written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let partner_origin = Origin {
        actor: Actor {
            kind: ActorKind::PartnerUser,
            id: None,
            label: "bench".into(),
        },
        request_id: None,
        client_ip: None,
    };
    let side = Side::Partner {
        partner_id: &agency.id,
        origin: &partner_origin,
    };
    let terms = [
        "company123",
        "client4242",
        "joint demo",
        "R-51234",
        "in progress",
        "zzz-none",
    ];
    let mut times: Vec<Duration> = Vec::new();
    for i in 0..200 {
        let term = terms[i % terms.len()];
        let query = ReferralQuery {
            partner_id: None,
            direction: None,
            stage: None,
            manager_id: None,
            duplicate_status: None::<DuplicateStatus>,
            search: Some(term),
        };
        let started = Instant::now();
        let page = vouch_app::partner_referrals::list(
            &ctx,
            &side,
            &query,
            SortKey::Number,
            true,
            None,
            25,
        )
        .await
        .map_err(describe)?;
        times.push(started.elapsed());
        if i < terms.len() {
            println!("{label}: portal search: {term:?} matches {}", page.total);
        }
    }
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    println!(
        "{label}: portal search over {referrals} referrals, 200 searches: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        at(0.50).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3
    );
    store.close().await;
    Ok(())
}

async fn fresh(target: &str) -> Result<(Store, &'static str), Error> {
    if target == "sqlite" {
        let dir = std::env::temp_dir().join(format!("vouch-bench-partners-{}", std::process::id()));
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
        .execute("DROP DATABASE IF EXISTS vouch_bench_partners WITH (FORCE)")
        .await?;
    admin
        .execute("CREATE DATABASE vouch_bench_partners")
        .await?;
    let base = target.rsplit_once('/').map(|(b, _)| b).unwrap_or(target);
    let store = Store::connect(&format!("{base}/vouch_bench_partners"), 20).await?;
    store.migrate().await?;
    debug_assert_eq!(store.backend(), Backend::Postgres);
    Ok((store, "postgres"))
}
