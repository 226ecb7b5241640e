//! Sales (seed 002) and each program's bonus policy. State changes are guarded updates
//! (`… WHERE status = 'draft'`): of two concurrent approvals exactly one finds the draft, so a
//! sale's bonuses are created once.

use crate::query::{NewestFirst, Total};
use crate::{Result, StoreError, date_col, date_text, enum_col, flag, money_col, now, time_col};
use sqlx::{AnyConnection, Row};
use vouch_domain::Timestamp;
use vouch_domain::bonus::{LeadSource, Milestone, Milestones};
use vouch_domain::money::Money;
use vouch_domain::person::TermsFields;
use vouch_domain::sale::{SaleDraft, SaleStatus};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sale {
    pub id: String,
    pub program_id: String,
    pub customer_id: String,
    pub amount: Money,
    pub lead_source: LeadSource,
    pub referred_by: Option<String>,
    pub generated_by: Option<String>,
    pub add_on: bool,
    pub description: Option<String>,
    pub milestones: Milestones,
    pub status: SaleStatus,
    pub approved_by: Option<String>,
    pub approved_at: Option<Timestamp>,
    pub cancelled_by: Option<String>,
    pub cancelled_at: Option<Timestamp>,
    pub cancel_reason: Option<String>,
    /// The referral the sale was made from.
    pub referral_id: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<Sale> {
    let mut milestones = Milestones::default();
    for m in Milestone::ALL {
        milestones.set(m, date_col(row, m.sale_field())?);
    }
    let add_on: i64 = row.try_get("add_on")?;
    Ok(Sale {
        id: row.try_get("id")?,
        program_id: row.try_get("program_id")?,
        customer_id: row.try_get("customer_id")?,
        amount: money_col(row, "amount", "currency")?,
        lead_source: enum_col(row, "lead_source")?,
        referred_by: row.try_get("referred_by")?,
        generated_by: row.try_get("generated_by")?,
        add_on: add_on != 0,
        description: row.try_get("description")?,
        milestones,
        status: enum_col(row, "status")?,
        approved_by: row.try_get("approved_by")?,
        approved_at: time_col(row, "approved_at")?,
        cancelled_by: row.try_get("cancelled_by")?,
        cancelled_at: time_col(row, "cancelled_at")?,
        cancel_reason: row.try_get("cancel_reason")?,
        referral_id: row.try_get("referral_id")?,
        created_at: time_col(row, "created_at")?,
        updated_at: time_col(row, "updated_at")?,
    })
}

pub async fn create(conn: &mut AnyConnection, d: &SaleDraft) -> Result<Sale> {
    let m = &d.milestones;
    let row = sqlx::query(
        "INSERT INTO sales (id, program_id, customer_id, amount, currency, lead_source, referred_by, generated_by, add_on, description,
             signed_on, job_approved_on, installed_on, revenue_recognized_on, permit_closed_on, paid_in_full_on, status, created_at, updated_at, referral_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 'draft', $17, $17, $18) RETURNING *",
    )
    .bind(vouch_domain::id::new_id("sal"))
    .bind(&d.program_id)
    .bind(&d.customer_id)
    .bind(d.amount.minor())
    .bind(d.amount.currency().to_string())
    .bind(d.lead_source.as_str())
    .bind(d.referred_by.clone())
    .bind(d.generated_by.clone())
    .bind(flag(d.add_on))
    .bind(d.description.clone())
    .bind(date_text(m.signed))
    .bind(date_text(m.job_approved))
    .bind(date_text(m.installed))
    .bind(date_text(m.revenue_recognized))
    .bind(date_text(m.permit_closed))
    .bind(date_text(m.paid_in_full))
    .bind(now())
    .bind(d.referral_id.clone())
    .fetch_one(&mut *conn)
    .await?;
    from_row(&row)
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Sale>> {
    let row = sqlx::query("SELECT * FROM sales WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Replaces a draft's fields; `None` when it is no longer a draft.
pub async fn update_draft(
    conn: &mut AnyConnection,
    id: &str,
    d: &SaleDraft,
) -> Result<Option<Sale>> {
    let m = &d.milestones;
    let row = sqlx::query(
        "UPDATE sales SET program_id = $1, customer_id = $2, amount = $3, currency = $4, lead_source = $5, referred_by = $6,
             generated_by = $7, add_on = $8, description = $9, signed_on = $10, job_approved_on = $11, installed_on = $12,
             revenue_recognized_on = $13, permit_closed_on = $14, paid_in_full_on = $15, updated_at = $16, referral_id = $18
         WHERE id = $17 AND status = 'draft' RETURNING *",
    )
    .bind(&d.program_id)
    .bind(&d.customer_id)
    .bind(d.amount.minor())
    .bind(d.amount.currency().to_string())
    .bind(d.lead_source.as_str())
    .bind(d.referred_by.clone())
    .bind(d.generated_by.clone())
    .bind(flag(d.add_on))
    .bind(d.description.clone())
    .bind(date_text(m.signed))
    .bind(date_text(m.job_approved))
    .bind(date_text(m.installed))
    .bind(date_text(m.revenue_recognized))
    .bind(date_text(m.permit_closed))
    .bind(date_text(m.paid_in_full))
    .bind(now())
    .bind(id)
    .bind(d.referral_id.clone())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Records milestone dates on a sale that is not cancelled; `None` when it is.
pub async fn set_milestones(
    conn: &mut AnyConnection,
    id: &str,
    m: &Milestones,
) -> Result<Option<Sale>> {
    let row = sqlx::query(
        "UPDATE sales SET signed_on = $1, job_approved_on = $2, installed_on = $3, revenue_recognized_on = $4,
             permit_closed_on = $5, paid_in_full_on = $6, updated_at = $7
         WHERE id = $8 AND status <> 'cancelled' RETURNING *",
    )
    .bind(date_text(m.signed))
    .bind(date_text(m.job_approved))
    .bind(date_text(m.installed))
    .bind(date_text(m.revenue_recognized))
    .bind(date_text(m.permit_closed))
    .bind(date_text(m.paid_in_full))
    .bind(now())
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Takes the approved sale's row for the caller's transaction (on PostgreSQL a row lock, on
/// SQLite the writer's turn it already holds): a cancellation and a bonus change on one sale
/// then happen one after the other. `None` when the sale is not approved.
pub async fn lock_approved(conn: &mut AnyConnection, id: &str) -> Result<Option<Sale>> {
    let row = sqlx::query(
        "UPDATE sales SET updated_at = updated_at WHERE id = $1 AND status = 'approved' RETURNING *",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Approves a draft; `None` when it is not a draft (already approved by anyone, or cancelled).
pub async fn approve(conn: &mut AnyConnection, id: &str, by: &str) -> Result<Option<Sale>> {
    let at = now();
    let row = sqlx::query(
        "UPDATE sales SET status = 'approved', approved_by = $1, approved_at = $2, updated_at = $2
         WHERE id = $3 AND status = 'draft' RETURNING *",
    )
    .bind(by)
    .bind(&at)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Cancels a draft or approved sale; `None` when it is cancelled already.
pub async fn cancel(
    conn: &mut AnyConnection,
    id: &str,
    by: &str,
    reason: &str,
) -> Result<Option<Sale>> {
    let at = now();
    let row = sqlx::query(
        "UPDATE sales SET status = 'cancelled', cancelled_by = $1, cancelled_at = $2, cancel_reason = $3, updated_at = $2
         WHERE id = $4 AND status <> 'cancelled' RETURNING *",
    )
    .bind(by)
    .bind(&at)
    .bind(reason)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Filters for [`list`]; `None` is "any".
#[derive(Debug, Default, Clone)]
pub struct SaleFilter<'a> {
    pub status: Option<SaleStatus>,
    pub program_id: Option<&'a str>,
    /// The customer, the referrer or the employee who generated it.
    pub person_id: Option<&'a str>,
    pub lead_source: Option<LeadSource>,
}

/// Sales newest first, `limit + 1` rows.
pub async fn list(
    conn: &mut AnyConnection,
    filter: &SaleFilter<'_>,
    starting_after: Option<&str>,
    limit: i64,
) -> Result<Vec<Sale>> {
    let rows = listing(filter).page(conn, starting_after, limit).await?;
    rows.iter().map(from_row).collect()
}

/// How many sales [`list`] finds, and their amounts, per currency.
pub async fn totals(conn: &mut AnyConnection, filter: &SaleFilter<'_>) -> Result<Vec<Total>> {
    listing(filter).totals(conn).await
}

fn listing(filter: &SaleFilter<'_>) -> NewestFirst {
    let mut list = NewestFirst::table("sales");
    list.eq("status", filter.status.map(SaleStatus::as_str))
        .eq("program_id", filter.program_id)
        .eq("lead_source", filter.lead_source.map(LeadSource::as_str));
    if let Some(person) = filter.person_id {
        let sql = list.and();
        let p = sql.bind(person);
        sql.push(&format!(
            "(customer_id = {p} OR referred_by = {p} OR generated_by = {p})"
        ));
    }
    list
}

/// A program's choices for sales bonuses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BonusPolicy {
    pub program_id: String,
    /// The terms contacts are paid on (Referral-Contact bonuses).
    pub contact_terms: Option<TermsFields>,
    /// Approving a referral sale to a new customer also creates a New Customer bonus.
    pub new_customer_bonus: bool,
    pub new_customer_terms: Option<TermsFields>,
    /// Approving an add-on sale also creates an Add-On Sale bonus for the customer.
    pub add_on_bonus: bool,
    pub add_on_terms: Option<TermsFields>,
    /// Whoever completed a bonus may also approve it.
    pub allow_self_approval: bool,
    pub updated_at: Option<Timestamp>,
}

fn terms_col(row: &sqlx::any::AnyRow, column: &str) -> Result<Option<TermsFields>> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|t| {
        serde_json::from_str(&t).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
    })
    .transpose()
}

fn terms_text(t: Option<&TermsFields>) -> Option<String> {
    t.and_then(|t| serde_json::to_string(t).ok())
}

/// The program's policy; the defaults (no contact terms, no optional bonuses) until one is set.
pub async fn policy(conn: &mut AnyConnection, program_id: &str) -> Result<BonusPolicy> {
    let row = sqlx::query("SELECT * FROM bonus_policies WHERE program_id = $1")
        .bind(program_id)
        .fetch_optional(conn)
        .await?;
    let Some(row) = row else {
        return Ok(BonusPolicy {
            program_id: program_id.to_string(),
            ..Default::default()
        });
    };
    let on = |c: &str| -> Result<bool> { Ok(row.try_get::<i64, _>(c)? != 0) };
    Ok(BonusPolicy {
        program_id: row.try_get("program_id")?,
        contact_terms: terms_col(&row, "contact_terms")?,
        new_customer_bonus: on("new_customer_bonus")?,
        new_customer_terms: terms_col(&row, "new_customer_terms")?,
        add_on_bonus: on("add_on_bonus")?,
        add_on_terms: terms_col(&row, "add_on_terms")?,
        allow_self_approval: on("allow_self_approval")?,
        updated_at: time_col(&row, "updated_at")?,
    })
}

/// Replaces the program's policy.
pub async fn put_policy(conn: &mut AnyConnection, p: &BonusPolicy) -> Result<BonusPolicy> {
    // One statement, so two first saves at once cannot both insert.
    sqlx::query(
        "INSERT INTO bonus_policies (program_id, contact_terms, new_customer_bonus, new_customer_terms, add_on_bonus, add_on_terms, allow_self_approval, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (program_id) DO UPDATE SET contact_terms = excluded.contact_terms,
             new_customer_bonus = excluded.new_customer_bonus, new_customer_terms = excluded.new_customer_terms,
             add_on_bonus = excluded.add_on_bonus, add_on_terms = excluded.add_on_terms,
             allow_self_approval = excluded.allow_self_approval, updated_at = excluded.updated_at",
    )
    .bind(&p.program_id)
    .bind(terms_text(p.contact_terms.as_ref()))
    .bind(flag(p.new_customer_bonus))
    .bind(terms_text(p.new_customer_terms.as_ref()))
    .bind(flag(p.add_on_bonus))
    .bind(terms_text(p.add_on_terms.as_ref()))
    .bind(flag(p.allow_self_approval))
    .bind(now())
    .execute(&mut *conn)
    .await?;
    policy(conn, &p.program_id).await
}
