//! Bonuses a sale earned and their workflow (incomplete → ready for review → approved or
//! rejected). Each change of status is a guarded update, so a lost race finds `None`.

use crate::query::{NewestFirst, Total};
use crate::{Result, conflict, currency_col, enum_col, flag, now, opt_enum_col, time_col};
use sqlx::{AnyConnection, Row};
use vouch_domain::Timestamp;
use vouch_domain::bonus::{BonusKind, BonusStatus, PaymentMethod};
use vouch_domain::money::{Currency, Money};
use vouch_domain::person::TermsFields;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bonus {
    pub id: String,
    pub sale_id: String,
    pub program_id: String,
    pub kind: BonusKind,
    /// Created by approving the sale (one of each kind per sale), not added by hand.
    pub automatic: bool,
    pub payee_id: Option<String>,
    /// The terms so far. A fixed amount is in the bonus's currency.
    pub terms: TermsFields,
    /// What it is worth, once its basis is known.
    pub amount: Option<Money>,
    pub currency: Currency,
    pub payment_method: Option<PaymentMethod>,
    pub status: BonusStatus,
    pub completed_by_id: Option<String>,
    pub completed_by: Option<String>,
    pub completed_at: Option<Timestamp>,
    pub decided_by: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub reject_reason: Option<String>,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<Bonus> {
    let currency = currency_col(row, "currency")?;
    let basis: Option<String> = row.try_get("basis")?;
    let amount: Option<i64> = row.try_get("amount")?;
    let percentage: Option<i64> = row.try_get("percentage_bps")?;
    let fixed = basis.as_deref() == Some("fixed");
    let automatic: i64 = row.try_get("automatic")?;
    Ok(Bonus {
        id: row.try_get("id")?,
        sale_id: row.try_get("sale_id")?,
        program_id: row.try_get("program_id")?,
        kind: enum_col(row, "kind")?,
        automatic: automatic != 0,
        payee_id: row.try_get("payee_id")?,
        terms: TermsFields {
            percentage_bps: if fixed { None } else { percentage },
            fixed_amount: if fixed { amount } else { None },
            currency: fixed.then(|| currency.to_string()),
            front_term: opt_enum_col(row, "front_term")?,
            back_term: opt_enum_col(row, "back_term")?,
            front_share_bps: row.try_get("front_share_bps")?,
        },
        amount: amount.map(|a| Money::new(a, currency)),
        currency,
        payment_method: opt_enum_col(row, "payment_method")?,
        status: enum_col(row, "status")?,
        completed_by_id: row.try_get("completed_by_id")?,
        completed_by: row.try_get("completed_by")?,
        completed_at: time_col(row, "completed_at")?,
        decided_by: row.try_get("decided_by")?,
        decided_at: time_col(row, "decided_at")?,
        reject_reason: row.try_get("reject_reason")?,
        created_by: row.try_get("created_by")?,
        created_at: time_col(row, "created_at")?,
        updated_at: time_col(row, "updated_at")?,
    })
}

/// The fields completion fills in: payee, terms, the amount they give, payment method.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BonusFields {
    pub payee_id: Option<String>,
    pub terms: TermsFields,
    /// The amount the terms give on the sale, when they give one.
    pub amount: Option<i64>,
    pub payment_method: Option<PaymentMethod>,
}

/// The basis column: which of percentage and fixed amount the terms use.
fn basis(t: &TermsFields) -> Option<&'static str> {
    match (t.percentage_bps, t.fixed_amount) {
        (Some(_), None) => Some("percentage"),
        (None, Some(_)) => Some("fixed"),
        _ => None,
    }
}

/// A new bonus for a sale.
pub struct NewBonus<'a> {
    pub sale_id: &'a str,
    pub program_id: &'a str,
    pub kind: BonusKind,
    pub automatic: bool,
    pub currency: Currency,
    pub fields: &'a BonusFields,
    pub created_by: &'a str,
}

/// Inserts a bonus. A second automatic bonus of one kind for one sale is a
/// [`crate::StoreError::Conflict`] on `kind`.
pub async fn insert(conn: &mut AnyConnection, b: &NewBonus<'_>) -> Result<Bonus> {
    let f = b.fields;
    let row = sqlx::query(
        "INSERT INTO bonuses (id, sale_id, program_id, kind, automatic, payee_id, basis, percentage_bps, amount, currency,
             front_term, back_term, front_share_bps, payment_method, status, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'incomplete', $15, $16, $16) RETURNING *",
    )
    .bind(vouch_domain::id::new_id("bon"))
    .bind(b.sale_id)
    .bind(b.program_id)
    .bind(b.kind.as_str())
    .bind(flag(b.automatic))
    .bind(f.payee_id.clone())
    .bind(basis(&f.terms))
    .bind(f.terms.percentage_bps)
    .bind(f.amount)
    .bind(b.currency.to_string())
    .bind(f.terms.front_term.map(|m| m.as_str()))
    .bind(f.terms.back_term.map(|m| m.as_str()))
    .bind(f.terms.front_share_bps)
    .bind(f.payment_method.map(PaymentMethod::as_str))
    .bind(b.created_by)
    .bind(now())
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| conflict(e, "bonuses", &["kind"]))?;
    from_row(&row)
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Bonus>> {
    let row = sqlx::query("SELECT * FROM bonuses WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// A sale's bonuses, oldest first.
pub async fn for_sale(conn: &mut AnyConnection, sale_id: &str) -> Result<Vec<Bonus>> {
    let rows = sqlx::query("SELECT * FROM bonuses WHERE sale_id = $1 ORDER BY id")
        .bind(sale_id)
        .fetch_all(conn)
        .await?;
    rows.iter().map(from_row).collect()
}

/// Every bonus paying this person, oldest first.
pub async fn of_payee(conn: &mut AnyConnection, payee_id: &str) -> Result<Vec<Bonus>> {
    let rows = sqlx::query("SELECT * FROM bonuses WHERE payee_id = $1 ORDER BY id")
        .bind(payee_id)
        .fetch_all(conn)
        .await?;
    rows.iter().map(from_row).collect()
}

/// Takes the bonus's row for the caller's transaction while it is in `status` (a row lock on
/// PostgreSQL): splits, cancellations and decisions on one bonus then run one after the
/// other. `None` when it is not in that status.
pub async fn lock(
    conn: &mut AnyConnection,
    id: &str,
    status: BonusStatus,
) -> Result<Option<Bonus>> {
    let row = sqlx::query(
        "UPDATE bonuses SET updated_at = updated_at WHERE id = $1 AND status = $2 RETURNING *",
    )
    .bind(id)
    .bind(status.as_str())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Saves completion fields on an incomplete bonus; `None` when it is no longer incomplete.
pub async fn save_fields(
    conn: &mut AnyConnection,
    id: &str,
    f: &BonusFields,
) -> Result<Option<Bonus>> {
    let row = sqlx::query(
        "UPDATE bonuses SET payee_id = $1, basis = $2, percentage_bps = $3, amount = $4, front_term = $5, back_term = $6,
             front_share_bps = $7, payment_method = $8, updated_at = $9
         WHERE id = $10 AND status = 'incomplete' RETURNING *",
    )
    .bind(f.payee_id.clone())
    .bind(basis(&f.terms))
    .bind(f.terms.percentage_bps)
    .bind(f.amount)
    .bind(f.terms.front_term.map(|m| m.as_str()))
    .bind(f.terms.back_term.map(|m| m.as_str()))
    .bind(f.terms.front_share_bps)
    .bind(f.payment_method.map(PaymentMethod::as_str))
    .bind(now())
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Moves a complete bonus to review, recording who completed it; `None` when it was not
/// incomplete.
pub async fn submit(
    conn: &mut AnyConnection,
    id: &str,
    by_id: Option<&str>,
    by: &str,
) -> Result<Option<Bonus>> {
    let at = now();
    let row = sqlx::query(
        "UPDATE bonuses SET status = 'ready_for_review', completed_by_id = $1, completed_by = $2, completed_at = $3, updated_at = $3
         WHERE id = $4 AND status = 'incomplete' RETURNING *",
    )
    .bind(by_id.map(str::to_string))
    .bind(by)
    .bind(&at)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Approves or rejects a bonus in review; `None` when it is not in review (decided already).
pub async fn decide(
    conn: &mut AnyConnection,
    id: &str,
    to: BonusStatus,
    by: &str,
    reason: Option<&str>,
) -> Result<Option<Bonus>> {
    let at = now();
    let row = sqlx::query(
        "UPDATE bonuses SET status = $1, decided_by = $2, decided_at = $3, reject_reason = $4, updated_at = $3
         WHERE id = $5 AND status = 'ready_for_review' RETURNING *",
    )
    .bind(to.as_str())
    .bind(by)
    .bind(&at)
    .bind(reason.map(str::to_string))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Cancels every bonus of a sale that was not rejected; returns them as they are now.
pub async fn cancel_for_sale(conn: &mut AnyConnection, sale_id: &str) -> Result<Vec<Bonus>> {
    let rows = sqlx::query(
        "UPDATE bonuses SET status = 'cancelled', updated_at = $1
         WHERE sale_id = $2 AND status NOT IN ('rejected', 'cancelled') RETURNING *",
    )
    .bind(now())
    .bind(sale_id)
    .fetch_all(conn)
    .await?;
    let mut out: Vec<Bonus> = rows.iter().map(from_row).collect::<Result<_>>()?;
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// Filters for [`list`]; `None` is "any".
#[derive(Debug, Default, Clone)]
pub struct BonusFilter<'a> {
    pub status: Option<BonusStatus>,
    pub kind: Option<BonusKind>,
    pub sale_id: Option<&'a str>,
    pub payee_id: Option<&'a str>,
    pub program_id: Option<&'a str>,
}

/// Bonuses newest first, `limit + 1` rows.
pub async fn list(
    conn: &mut AnyConnection,
    filter: &BonusFilter<'_>,
    starting_after: Option<&str>,
    limit: i64,
) -> Result<Vec<Bonus>> {
    let rows = listing(filter).page(conn, starting_after, limit).await?;
    rows.iter().map(from_row).collect()
}

/// How many bonuses [`list`] finds, and their amounts, per currency.
pub async fn totals(conn: &mut AnyConnection, filter: &BonusFilter<'_>) -> Result<Vec<Total>> {
    listing(filter).totals(conn).await
}

fn listing(filter: &BonusFilter<'_>) -> NewestFirst {
    let mut list = NewestFirst::table("bonuses");
    list.eq("status", filter.status.map(BonusStatus::as_str))
        .eq("kind", filter.kind.map(BonusKind::as_str))
        .eq("sale_id", filter.sale_id)
        .eq("payee_id", filter.payee_id)
        .eq("program_id", filter.program_id);
    list
}
