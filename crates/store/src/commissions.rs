//! Partner commissions: what a partner earns on a referral it brought that was won with a
//! value. One live commission per referral (a unique index); status changes are guarded on the
//! status read, so two concurrent changes find it once.

use crate::query::NewestFirst;
use crate::{Result, enum_col, money_col, now, time_col};
use sqlx::{AnyConnection, Row};
use vouch_domain::Timestamp;
use vouch_domain::money::Money;
use vouch_domain::partner::CommissionStatus;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commission {
    pub id: String,
    pub partner_id: String,
    pub referral_id: String,
    /// The program whose commission terms gave the amount (and whose ledger pays it).
    pub program_id: String,
    /// The contact in People who stands for the partner.
    pub payee_id: String,
    /// The percentage applied, when the terms are a percentage.
    pub percentage_bps: Option<i64>,
    pub referral_value: Money,
    pub amount: Money,
    pub status: CommissionStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<Commission> {
    Ok(Commission {
        id: row.try_get("id")?,
        partner_id: row.try_get("partner_id")?,
        referral_id: row.try_get("referral_id")?,
        program_id: row.try_get("program_id")?,
        payee_id: row.try_get("payee_id")?,
        percentage_bps: row.try_get("percentage_bps")?,
        referral_value: money_col(row, "referral_value", "referral_currency")?,
        amount: money_col(row, "amount", "currency")?,
        status: enum_col(row, "status")?,
        created_at: time_col(row, "created_at")?,
        updated_at: time_col(row, "updated_at")?,
    })
}

/// A commission to record, ready for review.
#[derive(Debug, Clone, Copy)]
pub struct NewCommission<'a> {
    pub partner_id: &'a str,
    pub referral_id: &'a str,
    pub program_id: &'a str,
    pub payee_id: &'a str,
    pub percentage_bps: Option<i64>,
    pub referral_value: Money,
    pub amount: Money,
}

pub async fn insert(conn: &mut AnyConnection, c: &NewCommission<'_>) -> Result<Commission> {
    let row = sqlx::query(
        "INSERT INTO commissions (id, partner_id, referral_id, program_id, payee_id, percentage_bps, referral_value, amount, currency, status, created_at, updated_at, referral_currency)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'ready_for_review', $10, $10, $11) RETURNING *",
    )
    .bind(vouch_domain::id::new_id("com"))
    .bind(c.partner_id)
    .bind(c.referral_id)
    .bind(c.program_id)
    .bind(c.payee_id)
    .bind(c.percentage_bps)
    .bind(c.referral_value.minor())
    .bind(c.amount.minor())
    .bind(c.amount.currency().to_string())
    .bind(now())
    .bind(c.referral_value.currency().to_string())
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| crate::conflict(e, "commissions", &["referral"]))?;
    from_row(&row)
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Commission>> {
    let row = sqlx::query("SELECT * FROM commissions WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The referral's live (not cancelled) commission.
pub async fn live_for_referral(
    conn: &mut AnyConnection,
    referral_id: &str,
) -> Result<Option<Commission>> {
    let row =
        sqlx::query("SELECT * FROM commissions WHERE referral_id = $1 AND status <> 'cancelled'")
            .bind(referral_id)
            .fetch_optional(conn)
            .await?;
    row.as_ref().map(from_row).transpose()
}

/// Moves a commission from `from` to `to`; `None` when it was not in `from` any more.
pub async fn set_status(
    conn: &mut AnyConnection,
    id: &str,
    from: CommissionStatus,
    to: CommissionStatus,
) -> Result<Option<Commission>> {
    let row = sqlx::query(
        "UPDATE commissions SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4 RETURNING *",
    )
    .bind(to.as_str())
    .bind(now())
    .bind(id)
    .bind(from.as_str())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Filters of the commission list.
#[derive(Debug, Clone, Copy, Default)]
pub struct CommissionFilter<'a> {
    pub partner_id: Option<&'a str>,
    pub status: Option<CommissionStatus>,
}

/// Newest first; `limit + 1` rows.
pub async fn list(
    conn: &mut AnyConnection,
    f: CommissionFilter<'_>,
    starting_after: Option<&str>,
    limit: i64,
) -> Result<Vec<Commission>> {
    let rows = NewestFirst::table("commissions")
        .eq("partner_id", f.partner_id)
        .eq("status", f.status.map(|s| s.as_str()))
        .page(conn, starting_after, limit)
        .await?;
    rows.iter().map(from_row).collect()
}
