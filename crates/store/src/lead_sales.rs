//! Leads and customers sold to partners, where each delivery stands, the delivery log (the
//! attempts of the jobs about the sale) and the monthly sums of a buyer's statement.

use crate::query::NewestFirst;
use crate::{Result, StoreError, enum_col, now, time_col};
use sqlx::{AnyConnection, Row};
use std::collections::BTreeMap;
use vouch_domain::Timestamp;
use vouch_domain::lead_sale::{CustomerTerms, DeliveryStatus, LeadDraft, LeadKind};
use vouch_domain::money::Money;
use vouch_domain::partner::DeliveryMethod;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadSale {
    pub id: String,
    pub partner_id: String,
    pub kind: LeadKind,
    pub first_name: String,
    pub last_name: String,
    pub company: Option<String>,
    pub email: Option<String>,
    pub phones: Vec<String>,
    pub street: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub promo_code: Option<String>,
    pub custom_fields: BTreeMap<String, String>,
    pub sale_price: Money,
    pub customer: Option<CustomerTerms>,
    pub notes: Option<String>,
    pub delivery_method: DeliveryMethod,
    pub delivery_status: DeliveryStatus,
    pub delivered_at: Option<Timestamp>,
    pub delivery_error: Option<String>,
    pub sold_by: String,
    /// The UTC day of the sale: the statement month it counts in.
    pub sold_on: time::Date,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

fn json_col<T: serde::de::DeserializeOwned>(row: &sqlx::any::AnyRow, column: &str) -> Result<T> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

pub(crate) fn from_row(row: &sqlx::any::AnyRow) -> Result<LeadSale> {
    let sale_price = crate::money_col(row, "sale_price", "currency")?;
    let currency = sale_price.currency();
    let mrr: Option<i64> = row.try_get("monthly_recurring_revenue")?;
    let fee: Option<i64> = row.try_get("activation_fee")?;
    let term: Option<i64> = row.try_get("contract_term_months")?;
    let customer = match (mrr, fee, term) {
        (Some(m), Some(f), Some(t)) => Some(CustomerTerms {
            monthly_recurring_revenue: Money::new(m, currency),
            activation_fee: Money::new(f, currency),
            contract_term_months: t,
        }),
        _ => None,
    };
    Ok(LeadSale {
        id: row.try_get("id")?,
        partner_id: row.try_get("partner_id")?,
        kind: enum_col(row, "kind")?,
        first_name: row.try_get("first_name")?,
        last_name: row.try_get("last_name")?,
        company: row.try_get("company")?,
        email: row.try_get("email")?,
        phones: json_col(row, "phones")?,
        street: row.try_get("street")?,
        city: row.try_get("city")?,
        region: row.try_get("region")?,
        postal_code: row.try_get("postal_code")?,
        country: row.try_get("country")?,
        promo_code: row.try_get("promo_code")?,
        custom_fields: json_col(row, "custom_fields")?,
        sale_price,
        customer,
        notes: row.try_get("notes")?,
        delivery_method: enum_col(row, "delivery_method")?,
        delivery_status: enum_col(row, "delivery_status")?,
        delivered_at: time_col(row, "delivered_at")?,
        delivery_error: row.try_get("delivery_error")?,
        sold_by: row.try_get("sold_by")?,
        sold_on: crate::date_col(row, "sold_on")?
            .ok_or_else(|| StoreError::Corrupt("sold_on is empty".into()))?,
        created_at: time_col(row, "created_at")?,
        updated_at: time_col(row, "updated_at")?,
    })
}

/// Records a sale, its delivery pending.
pub async fn create(
    conn: &mut AnyConnection,
    partner_id: &str,
    draft: &LeadDraft,
    method: DeliveryMethod,
    sold_by: &str,
) -> Result<LeadSale> {
    let at = Timestamp::now();
    let customer = draft.customer.as_ref();
    let row = sqlx::query(
        "INSERT INTO lead_sales (id, partner_id, kind, first_name, last_name, company, email, phones, street, city, region, postal_code, country, promo_code, custom_fields, sale_price, currency, monthly_recurring_revenue, activation_fee, contract_term_months, notes, delivery_method, delivery_status, sold_by, sold_on, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, 'pending', $23, $24, $25, $25) RETURNING *",
    )
    .bind(vouch_domain::id::new_id("lds"))
    .bind(partner_id)
    .bind(draft.kind.as_str())
    .bind(&draft.first_name)
    .bind(&draft.last_name)
    .bind(draft.company.clone())
    .bind(draft.email.clone())
    .bind(serde_json::to_string(&draft.phones).unwrap_or_else(|_| "[]".into()))
    .bind(draft.street.clone())
    .bind(draft.city.clone())
    .bind(draft.region.clone())
    .bind(draft.postal_code.clone())
    .bind(draft.country.clone())
    .bind(draft.promo_code.clone())
    .bind(serde_json::to_string(&draft.custom_fields).unwrap_or_else(|_| "{}".into()))
    .bind(draft.sale_price.minor())
    .bind(draft.sale_price.currency().as_str().to_string())
    .bind(customer.map(|c| c.monthly_recurring_revenue.minor()))
    .bind(customer.map(|c| c.activation_fee.minor()))
    .bind(customer.map(|c| c.contract_term_months))
    .bind(draft.notes.clone())
    .bind(method.as_str())
    .bind(sold_by)
    .bind(crate::date_text(Some(at.datetime().date())))
    .bind(at.to_string())
    .fetch_one(conn)
    .await?;
    from_row(&row)
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<LeadSale>> {
    let row = sqlx::query("SELECT * FROM lead_sales WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Filters of the sales list.
#[derive(Debug, Clone, Copy, Default)]
pub struct SaleFilter<'a> {
    pub partner_id: Option<&'a str>,
    pub delivery_status: Option<DeliveryStatus>,
}

/// Newest first; `limit + 1` rows.
pub async fn list(
    conn: &mut AnyConnection,
    filter: SaleFilter<'_>,
    starting_after: Option<&str>,
    limit: i64,
) -> Result<Vec<LeadSale>> {
    let rows = NewestFirst::table("lead_sales")
        .eq("partner_id", filter.partner_id)
        .eq(
            "delivery_status",
            filter.delivery_status.map(|s| s.as_str()),
        )
        .page(conn, starting_after, limit)
        .await?;
    rows.iter().map(from_row).collect()
}

/// A buyer's sales of one month (`first <= sold_on < next`), oldest first.
pub async fn of_month(
    conn: &mut AnyConnection,
    partner_id: &str,
    first: time::Date,
    next: time::Date,
) -> Result<Vec<LeadSale>> {
    let rows = sqlx::query(
        "SELECT * FROM lead_sales WHERE partner_id = $1 AND sold_on >= $2 AND sold_on < $3 ORDER BY sold_on, id",
    )
    .bind(partner_id)
    .bind(crate::date_text(Some(first)))
    .bind(crate::date_text(Some(next)))
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Moves a delivery on, guarded by where it stands so that a job that runs twice (at least once
/// delivery) changes it once: `Some` with the sale when this call made the change.
pub async fn set_delivery(
    conn: &mut AnyConnection,
    id: &str,
    from: &[DeliveryStatus],
    to: DeliveryStatus,
    error: Option<&str>,
) -> Result<Option<LeadSale>> {
    let at = now();
    let from: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    let mut sql = crate::query::Sql::new("UPDATE lead_sales SET delivery_status = ");
    sql.push_bind(to.as_str())
        .push(", delivery_error = ")
        .push_bind(error.map(str::to_string))
        .push(", updated_at = ")
        .push_bind(at.clone());
    if to == DeliveryStatus::Delivered {
        sql.push(", delivered_at = ").push_bind(at);
    }
    sql.push(" WHERE id = ")
        .push_bind(id)
        .push(" AND delivery_status IN ")
        .push_in(from.iter().copied())
        .push(" RETURNING *");
    let rows = sql.fetch_all(conn).await?;
    rows.first().map(from_row).transpose()
}

/// One attempt at delivering a sale: which channel, when, and what came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt {
    pub job_id: String,
    /// `lead_post`, or `email` with the address in `to`.
    pub channel: String,
    pub to: Option<String>,
    pub attempt: i64,
    pub started_at: Timestamp,
    pub duration_ms: i64,
    pub succeeded: bool,
    pub response_status: Option<i64>,
    pub error: Option<String>,
}

/// Every attempt of the jobs about the sale, oldest first.
pub async fn delivery_log(conn: &mut AnyConnection, id: &str) -> Result<Vec<DeliveryAttempt>> {
    let rows = sqlx::query(
        "SELECT a.job_id, j.kind, m.to_address, a.attempt, a.started_at, a.duration_ms, a.succeeded, a.response_status, a.error
         FROM job_attempts a JOIN jobs j ON j.id = a.job_id
         LEFT JOIN email_messages m ON m.job_id = j.id
         WHERE j.subject = $1 ORDER BY a.started_at, a.id",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(DeliveryAttempt {
                job_id: r.try_get("job_id")?,
                channel: r.try_get("kind")?,
                to: r.try_get("to_address")?,
                attempt: r.try_get("attempt")?,
                started_at: time_col(r, "started_at")?,
                duration_ms: r.try_get("duration_ms")?,
                succeeded: r.try_get::<i64, _>("succeeded")? != 0,
                response_status: r.try_get("response_status")?,
                error: r.try_get("error")?,
            })
        })
        .collect()
}

/// Whether a job about the sale is still queued or running (another address of an email
/// delivery), leaving out `given_up`: the jobs that gave up in the batch being recorded, which
/// still read as running until their attempts are recorded.
pub async fn other_jobs_running(
    conn: &mut AnyConnection,
    id: &str,
    given_up: &[&str],
) -> Result<bool> {
    let mut sql = crate::query::Sql::new("SELECT COUNT(*) AS n FROM jobs WHERE subject = ");
    sql.push_bind(id)
        .push(" AND status IN ('queued', 'running')");
    if !given_up.is_empty() {
        sql.push(" AND id NOT IN ")
            .push_in(given_up.iter().copied());
    }
    Ok(sql.fetch_count(conn).await? > 0)
}

/// The dead jobs about the sale, to run again when staff retry its delivery.
pub async fn dead_jobs(conn: &mut AnyConnection, id: &str) -> Result<Vec<String>> {
    let rows =
        sqlx::query("SELECT id FROM jobs WHERE subject = $1 AND status = 'dead' ORDER BY id")
            .bind(id)
            .fetch_all(conn)
            .await?;
    rows.iter()
        .map(|r| r.try_get("id").map_err(StoreError::from))
        .collect()
}
