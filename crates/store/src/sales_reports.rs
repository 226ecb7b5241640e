//! Aggregates for the sales-bonus reports: counted and summed in the database, per currency
//! (amounts of different currencies are never added together).

use crate::{Result, date_text, money_col};
use sqlx::{AnyConnection, Row};
use time::Date;
use vouch_domain::money::Money;

/// Bonuses of one kind and status created in the range, per currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BonusGroup {
    pub kind: String,
    pub status: String,
    pub count: i64,
    pub amount: Money,
}

/// `[from, to]` as the text bounds of a `created_at` column (inclusive days).
pub fn created_bounds(from: Date, to: Date) -> (String, String) {
    let start = format!("{}T00:00:00", vouch_domain::sale::date_text(from));
    let end = format!("{}T23:59:59.999Z", vouch_domain::sale::date_text(to));
    (start, end)
}

pub async fn bonuses_by_kind_and_status(
    conn: &mut AnyConnection,
    from: Date,
    to: Date,
) -> Result<Vec<BonusGroup>> {
    let (start, end) = created_bounds(from, to);
    let rows = sqlx::query(
        "SELECT kind, status, currency, COUNT(*) AS n, CAST(SUM(COALESCE(amount, 0)) AS BIGINT) AS amount
         FROM bonuses WHERE created_at >= $1 AND created_at <= $2
         GROUP BY kind, status, currency ORDER BY kind, status, currency",
    )
    .bind(start)
    .bind(end)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(BonusGroup {
                kind: r.try_get("kind")?,
                status: r.try_get("status")?,
                count: r.try_get("n")?,
                amount: money_col(r, "amount", "currency")?,
            })
        })
        .collect()
}

/// Unpaid bonus payments (waiting, due or batched) whose due date falls in `[from, to]`, per
/// currency: how many, and their sum. These reports are about sales bonuses: the payouts of
/// participants' rewards, in the same ledger, are left out.
pub async fn due_between(
    conn: &mut AnyConnection,
    from: Date,
    to: Date,
) -> Result<Vec<(i64, Money)>> {
    let rows = sqlx::query(
        "SELECT currency, COUNT(*) AS n, CAST(SUM(amount) AS BIGINT) AS amount FROM payments
         WHERE bonus_id IS NOT NULL AND status IN ('awaiting_milestone', 'due', 'in_batch')
           AND due_on >= $1 AND due_on <= $2
         GROUP BY currency ORDER BY currency",
    )
    .bind(date_text(Some(from)))
    .bind(date_text(Some(to)))
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("n")?, money_col(r, "amount", "currency")?)))
        .collect()
}

/// What bonuses paid, per month (`2026-04`), payee kind and currency.
pub async fn paid_per_month(
    conn: &mut AnyConnection,
    from: Date,
    to: Date,
) -> Result<Vec<(String, String, Money)>> {
    let rows = sqlx::query(
        "SELECT SUBSTR(paid_on, 1, 7) AS month, payee_kind, currency, CAST(SUM(amount) AS BIGINT) AS amount
         FROM payments WHERE bonus_id IS NOT NULL AND status = 'paid' AND paid_on >= $1 AND paid_on <= $2
         GROUP BY SUBSTR(paid_on, 1, 7), payee_kind, currency ORDER BY month, payee_kind, currency",
    )
    .bind(date_text(Some(from)))
    .bind(date_text(Some(to)))
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("month")?,
                r.try_get("payee_kind")?,
                money_col(r, "amount", "currency")?,
            ))
        })
        .collect()
}

/// A referrer's total: who, how many, how much.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Top {
    pub person_id: String,
    pub name: String,
    pub count: i64,
    pub amount: Money,
}

fn top_rows(rows: &[sqlx::any::AnyRow]) -> Result<Vec<Top>> {
    rows.iter()
        .map(|r| {
            Ok(Top {
                person_id: r.try_get("person_id")?,
                name: r.try_get("name")?,
                count: r.try_get("n")?,
                amount: money_col(r, "amount", "currency")?,
            })
        })
        .collect()
}

/// The ten payees with the most in approved bonuses created in the range (ranked within each
/// currency: amounts of different currencies are not compared).
pub async fn top_by_bonus(conn: &mut AnyConnection, from: Date, to: Date) -> Result<Vec<Top>> {
    let (start, end) = created_bounds(from, to);
    let rows = sqlx::query(
        "SELECT b.payee_id AS person_id, p.name AS name, b.currency AS currency, COUNT(*) AS n,
                CAST(SUM(b.amount) AS BIGINT) AS amount
         FROM bonuses b JOIN people p ON p.id = b.payee_id
         WHERE b.status = 'approved' AND b.created_at >= $1 AND b.created_at <= $2
         GROUP BY b.payee_id, p.name, b.currency ORDER BY currency, amount DESC, name LIMIT 10",
    )
    .bind(start)
    .bind(end)
    .fetch_all(conn)
    .await?;
    top_rows(&rows)
}

/// The ten referrers whose approved sales in the range add up to the most (ranked within each
/// currency).
pub async fn top_by_sales(conn: &mut AnyConnection, from: Date, to: Date) -> Result<Vec<Top>> {
    let (start, end) = created_bounds(from, to);
    let rows = sqlx::query(
        "SELECT s.referred_by AS person_id, p.name AS name, s.currency AS currency, COUNT(*) AS n,
                CAST(SUM(s.amount) AS BIGINT) AS amount
         FROM sales s JOIN people p ON p.id = s.referred_by
         WHERE s.status = 'approved' AND s.created_at >= $1 AND s.created_at <= $2
         GROUP BY s.referred_by, p.name, s.currency ORDER BY currency, amount DESC, name LIMIT 10",
    )
    .bind(start)
    .bind(end)
    .fetch_all(conn)
    .await?;
    top_rows(&rows)
}
