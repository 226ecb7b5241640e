//! Sales bonus throughput, for `bench/sales.sh`.
//!
//!   cargo run --release -p vouch-app --example sales_bench -- sqlite 10000
//!   cargo run --release -p vouch-app --example sales_bench -- postgres://postgres@127.0.0.1:5432/postgres 10000
//!
//! On a fresh database, through the application layer (one transaction per operation, audit
//! entries and events included, as the API runs them):
//! 1. baseline: N draft sales recorded (one insert, its checks and its audit entry each);
//! 2. N sales approved, each creating its Referral-Employee bonus (terms copied in);
//! 3. N bonuses submitted and approved, each adding its payments (one due at once);
//! 4. one payroll batch built from the N due payments, approved, exported (the payroll file,
//!    one line per employee) and marked paid.

use std::time::Instant;
use vouch_app::bonuses::{self, BonusPatch};
use vouch_app::payouts::{self, BatchFields};
use vouch_app::{Ctx, Settings};
use vouch_domain::bonus::{LeadSource, Milestone};
use vouch_domain::payout::PayeeGroup;
use vouch_domain::person::{PersonFields, PersonKind, TermsFields};
use vouch_domain::program::ProgramFields;
use vouch_domain::sale::SaleFields;
use vouch_store::Store;
use vouch_store::audit::Origin;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn err(e: vouch_app::AppError) -> Box<dyn std::error::Error> {
    format!("{}: {:?}", e.detail(), e.field_errors()).into()
}

fn rate(label: &str, what: &str, n: usize, started: Instant) -> f64 {
    let secs = started.elapsed().as_secs_f64();
    let per = n as f64 / secs;
    println!(
        "{label}: {what}: {n} in {secs:.2} s = {per:.0}/s ({:.0} µs each)",
        secs * 1e6 / n as f64
    );
    per
}

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let target = args.get(1).map(String::as_str).unwrap_or("sqlite");
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let (store, label) = fresh(target).await?;
    let ctx = Ctx::new(store, Settings::default()).await?;
    let o = Origin::system();

    let mut program = ProgramFields::new_defaults();
    program.name = "Bench".into();
    program.slug = "bench".into();
    program.landing_url = "https://bench.example".into();
    let program = vouch_app::programs::create(&ctx, &o, &program)
        .await
        .map_err(err)?
        .id;
    let person = |name: &str, number: &str| PersonFields {
        name: name.into(),
        email: format!("{}@bench.example", name.to_lowercase().replace(' ', ".")),
        employee_number: number.into(),
        ..Default::default()
    };
    let erin = vouch_app::people::create_person(
        &ctx,
        &o,
        PersonKind::Employee,
        &person("Erin Diaz", "E-1"),
    )
    .await
    .map_err(err)?
    .id;
    let terms = TermsFields {
        percentage_bps: Some(1_000),
        front_term: Some(Milestone::SignDate),
        back_term: Some(Milestone::InstallDate),
        front_share_bps: Some(5_000),
        ..Default::default()
    };
    vouch_app::people::set_terms(&ctx, &o, &erin, &terms)
        .await
        .map_err(err)?;
    let customer =
        vouch_app::people::create_person(&ctx, &o, PersonKind::Contact, &person("Cora Buyer", ""))
            .await
            .map_err(err)?
            .id;

    // 1. Baseline: draft sales.
    let started = Instant::now();
    let mut sales = Vec::with_capacity(n);
    for i in 0..n {
        let fields = SaleFields {
            program_id: program.clone(),
            customer_id: customer.clone(),
            amount: Some(100_000 + i as i64),
            lead_source: Some(LeadSource::ReferralEmployee),
            referred_by: erin.clone(),
            dates: vec![(Milestone::SignDate, "2026-03-02".into())],
            ..Default::default()
        };
        sales.push(
            vouch_app::sales::create_sale(&ctx, &o, &fields)
                .await
                .map_err(err)?
                .id,
        );
    }
    let baseline = rate(label, "draft sales recorded (baseline)", n, started);

    // 2. Approvals: one bonus each.
    let started = Instant::now();
    let mut bonus_ids = Vec::with_capacity(n);
    for s in &sales {
        let v = vouch_app::sales::approve_sale(&ctx, &o, s)
            .await
            .map_err(err)?;
        bonus_ids.push(v.bonuses[0].id.clone());
    }
    let approvals = rate(label, "sales approved (bonus created)", n, started);
    println!(
        "{label}: approval costs {:.2}× a draft sale",
        baseline / approvals
    );

    // 3. Bonuses to the ledger.
    let started = Instant::now();
    for b in &bonus_ids {
        bonuses::update_bonus(&ctx, &o, b, BonusPatch::default())
            .await
            .map_err(err)?;
        bonuses::submit_bonus(&ctx, &o, b).await.map_err(err)?;
        bonuses::approve_bonus(&ctx, &o, b).await.map_err(err)?;
    }
    rate(
        label,
        "bonuses completed, submitted and approved (payments added)",
        n,
        started,
    );

    // 4. One batch of N payments.
    let started = Instant::now();
    let batch = payouts::create_batch(
        &ctx,
        &o,
        &BatchFields {
            payee_group: PayeeGroup::Payroll,
            program_id: None,
            due_from: None,
            due_to: None,
        },
    )
    .await
    .map_err(err)?;
    let built = started.elapsed();
    assert_eq!(
        batch.payment_count as usize, n,
        "every due payment is in the batch"
    );
    let started = Instant::now();
    payouts::approve_batch(&ctx, &o, &batch.id)
        .await
        .map_err(err)?;
    let table = payouts::export_batch(&ctx, &batch.id, None)
        .await
        .map_err(err)?;
    let exported = started.elapsed();
    assert_eq!(table.rows.len(), 1, "one payroll line for the one employee");
    let started = Instant::now();
    payouts::mark_batch_paid(&ctx, &o, &batch.id, "BENCH", None)
        .await
        .map_err(err)?;
    let paid = started.elapsed();
    println!(
        "{label}: batch of {n} payments: built in {:.2} s, approved and exported in {:.2} s, marked paid in {:.2} s ({:.0} payments/s)",
        built.as_secs_f64(),
        exported.as_secs_f64(),
        paid.as_secs_f64(),
        n as f64 / paid.as_secs_f64()
    );
    Ok(())
}

async fn fresh(target: &str) -> Result<(Store, &'static str)> {
    if target == "sqlite" {
        let dir = std::env::temp_dir().join(format!("vouch-sales-bench-{}", std::process::id()));
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
        .execute("DROP DATABASE IF EXISTS vouch_bench_sales WITH (FORCE)")
        .await?;
    admin.execute("CREATE DATABASE vouch_bench_sales").await?;
    let base = target.rsplit_once('/').map(|(b, _)| b).unwrap_or(target);
    let store = Store::connect(&format!("{base}/vouch_bench_sales"), 20).await?;
    store.migrate().await?;
    Ok((store, "postgres"))
}
