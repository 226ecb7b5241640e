//! The console's overview: per program, what happened since a moment (clicks, referred
//! signups, wins, rewards delivered) and what is owed now; and across the installation, how
//! many items wait in each queue for someone to act. A handful of grouped counts, each one
//! statement, so the page costs the same however many programs there are.

use crate::Result;
use sqlx::{AnyConnection, Row};
use std::collections::BTreeMap;

/// One program's numbers. Money is per currency: `(currency, minor units)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProgramNumbers {
    pub clicks: i64,
    pub signups: i64,
    pub won: i64,
    /// Flagged referrals waiting for a review decision.
    pub to_review: i64,
    /// Reward clawbacks waiting for a decision.
    pub clawbacks: i64,
    /// Rewards earned or on hold and not delivered yet (count, then amounts).
    pub owed_count: i64,
    pub owed: Vec<(String, i64)>,
    /// Rewards delivered since the moment.
    pub paid_count: i64,
    pub paid: Vec<(String, i64)>,
}

impl ProgramNumbers {
    /// Adds another program's numbers into these (the overview's totals), amounts per currency.
    pub fn add(&mut self, other: &ProgramNumbers) {
        self.clicks += other.clicks;
        self.signups += other.signups;
        self.won += other.won;
        self.to_review += other.to_review;
        self.clawbacks += other.clawbacks;
        self.owed_count += other.owed_count;
        self.paid_count += other.paid_count;
        for (currency, amount) in &other.owed {
            add(&mut self.owed, currency.clone(), *amount);
        }
        for (currency, amount) in &other.paid {
            add(&mut self.paid, currency.clone(), *amount);
        }
    }
}

/// The numbers of every program that has any, by program id.
pub async fn programs(
    conn: &mut AnyConnection,
    since: &str,
) -> Result<BTreeMap<String, ProgramNumbers>> {
    let mut by_program: BTreeMap<String, ProgramNumbers> = BTreeMap::new();
    // Clicks, signups and wins come from the daily rollups (whole UTC days from the one
    // `since` falls in; the console passes a date), so the page never scans raw clicks.
    let first_day = since.get(..10).unwrap_or(since);
    for row in sqlx::query(
        "SELECT program_id, CAST(SUM(clicks) AS BIGINT), CAST(SUM(signups) AS BIGINT),
                CAST(SUM(won) AS BIGINT)
         FROM daily_counts WHERE participant_id = '' AND day >= $1 GROUP BY program_id",
    )
    .bind(first_day)
    .fetch_all(&mut *conn)
    .await?
    {
        let n = by_program.entry(row.try_get(0)?).or_default();
        n.clicks = row.try_get(1)?;
        n.signups = row.try_get(2)?;
        n.won = row.try_get(3)?;
    }
    for row in sqlx::query(
        "SELECT program_id, COUNT(*) FROM referrals WHERE review = 'pending' GROUP BY program_id",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        by_program.entry(row.try_get(0)?).or_default().to_review = row.try_get(1)?;
    }
    for row in sqlx::query(
        "SELECT program_id, COUNT(*) FROM clawbacks WHERE status = 'open' GROUP BY program_id",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        by_program.entry(row.try_get(0)?).or_default().clawbacks = row.try_get(1)?;
    }
    for row in sqlx::query(
        "SELECT program_id, currency, status, COUNT(*), CAST(SUM(COALESCE(amount, 0)) AS BIGINT)
         FROM rewards
         WHERE status IN ('pending', 'earned') OR (status = 'delivered' AND delivered_at >= $1)
         GROUP BY program_id, currency, status ORDER BY program_id, currency",
    )
    .bind(since)
    .fetch_all(&mut *conn)
    .await?
    {
        let n = by_program.entry(row.try_get(0)?).or_default();
        let currency: String = row.try_get(1)?;
        let status: String = row.try_get(2)?;
        let count: i64 = row.try_get(3)?;
        let amount: i64 = row.try_get(4)?;
        let (total, sums) = if status == "delivered" {
            (&mut n.paid_count, &mut n.paid)
        } else {
            (&mut n.owed_count, &mut n.owed)
        };
        *total += count;
        add(sums, currency, amount);
    }
    Ok(by_program)
}

fn add(sums: &mut Vec<(String, i64)>, currency: String, amount: i64) {
    match sums.iter_mut().find(|(c, _)| *c == currency) {
        Some((_, total)) => *total = total.saturating_add(amount),
        None => sums.push((currency, amount)),
    }
}

/// Items waiting for someone, across the installation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Queues {
    /// Super customer setups waiting for the Management Team.
    pub setups: i64,
    /// Sales bonuses ready for review.
    pub bonuses: i64,
    /// Partner commissions ready for review.
    pub commissions: i64,
    /// Payments due and not in a batch yet.
    pub payments_due: i64,
    /// Payout batches drafted and not approved.
    pub batches: i64,
    /// Clawbacks of paid payments waiting for a decision.
    pub payment_clawbacks: i64,
    /// Referrals partners sent us that nobody has picked up yet (stage `new`).
    pub partner_referrals_new: i64,
    /// Background jobs that gave up (deliveries, emails).
    pub dead_jobs: i64,
    /// Webhook endpoints failing now, or switched off by Vouch after failing (one a person
    /// switched off is not waiting for anyone): `(id, url, since)`.
    pub failing_endpoints: Vec<(String, String, Option<vouch_domain::Timestamp>)>,
}

pub async fn queues(conn: &mut AnyConnection) -> Result<Queues> {
    let count = |sql: &'static str| sqlx::query_scalar::<_, i64>(sql);
    let mut q = Queues {
        setups: count("SELECT COUNT(*) FROM referral_setups WHERE status = 'requested'")
            .fetch_one(&mut *conn)
            .await?,
        bonuses: count("SELECT COUNT(*) FROM bonuses WHERE status = 'ready_for_review'")
            .fetch_one(&mut *conn)
            .await?,
        commissions: count("SELECT COUNT(*) FROM commissions WHERE status = 'ready_for_review'")
            .fetch_one(&mut *conn)
            .await?,
        payments_due: count("SELECT COUNT(*) FROM payments WHERE status = 'due'")
            .fetch_one(&mut *conn)
            .await?,
        batches: count("SELECT COUNT(*) FROM payout_batches WHERE status = 'draft'")
            .fetch_one(&mut *conn)
            .await?,
        payment_clawbacks: count("SELECT COUNT(*) FROM payment_clawbacks WHERE status = 'open'")
            .fetch_one(&mut *conn)
            .await?,
        partner_referrals_new: count(
            "SELECT COUNT(*) FROM partner_referrals WHERE stage = 'new' AND direction = 'to_us'",
        )
        .fetch_one(&mut *conn)
        .await?,
        dead_jobs: count("SELECT COUNT(*) FROM jobs WHERE status = 'dead'")
            .fetch_one(&mut *conn)
            .await?,
        failing_endpoints: Vec::new(),
    };
    for row in sqlx::query(
        "SELECT id, url, failing_since FROM webhook_endpoints
         WHERE (enabled = 1 AND failing_since IS NOT NULL)
            OR (enabled = 0 AND disabled_reason IS NOT NULL)
         ORDER BY id LIMIT 50",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        q.failing_endpoints.push((
            row.try_get("id")?,
            row.try_get("url")?,
            crate::time_col(&row, "failing_since")?,
        ));
    }
    Ok(q)
}
