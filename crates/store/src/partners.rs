//! Partner companies and their commission terms per program.

use crate::query::NewestFirst;
use crate::{Result, StoreError, conflict, enum_col, flag, like_contains, now, opt_enum_col};
use sqlx::{AnyConnection, Row};
use vouch_domain::Timestamp;
use vouch_domain::money::{BasisPoints, Currency, Money};
use vouch_domain::partner::{Capability, Commission, DeliveryMethod, PartnerDraft, PartnerStatus};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partner {
    pub id: String,
    pub name: String,
    pub website: Option<String>,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub notes: Option<String>,
    pub status: PartnerStatus,
    /// The staff user who looks after the partner.
    pub manager_id: Option<String>,
    pub refers_clients: bool,
    pub receives_referrals: bool,
    pub buys_customers: bool,
    pub listed_in_directory: bool,
    pub delivery_method: Option<DeliveryMethod>,
    pub post_url: Option<String>,
    pub source_id: Option<String>,
    pub notification_emails: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

pub(crate) fn from_row(row: &sqlx::any::AnyRow) -> Result<Partner> {
    let emails: String = row.try_get("notification_emails")?;
    let on = |column: &str| -> Result<bool> { Ok(row.try_get::<i64, _>(column)? != 0) };
    Ok(Partner {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        website: row.try_get("website")?,
        contact_name: row.try_get("contact_name")?,
        contact_email: row.try_get("contact_email")?,
        contact_phone: row.try_get("contact_phone")?,
        notes: row.try_get("notes")?,
        status: enum_col(row, "status")?,
        manager_id: row.try_get("manager_id")?,
        refers_clients: on("refers_clients")?,
        receives_referrals: on("receives_referrals")?,
        buys_customers: on("buys_customers")?,
        listed_in_directory: on("listed_in_directory")?,
        delivery_method: opt_enum_col(row, "delivery_method")?,
        post_url: row.try_get("post_url")?,
        source_id: row.try_get("source_id")?,
        notification_emails: emails
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
        created_at: crate::time_col(row, "created_at")?,
        updated_at: crate::time_col(row, "updated_at")?,
    })
}

/// Binds a draft's columns in the order of [`COLUMNS`].
fn bind_draft<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    d: &PartnerDraft,
    manager_id: Option<&str>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    q.bind(d.name.clone())
        .bind(d.website.clone())
        .bind(d.contact_name.clone())
        .bind(d.contact_email.clone())
        .bind(d.contact_phone.clone())
        .bind(d.notes.clone())
        .bind(d.status.as_str())
        .bind(manager_id.map(str::to_string))
        .bind(flag(d.refers_clients))
        .bind(flag(d.receives_referrals))
        .bind(flag(d.buys_customers))
        .bind(flag(d.listed_in_directory))
        .bind(d.delivery_method.map(DeliveryMethod::as_str))
        .bind(d.post_url.clone())
        .bind(d.source_id.clone())
        .bind(d.notification_emails.join("\n"))
}

/// A new partner. A name already taken (whatever its case) is a conflict on `name`.
pub async fn create(
    conn: &mut AnyConnection,
    d: &PartnerDraft,
    manager_id: Option<&str>,
) -> Result<Partner> {
    let q = sqlx::query(
        "INSERT INTO partners (id, name, website, contact_name, contact_email, contact_phone, notes, status, manager_id,
             refers_clients, receives_referrals, buys_customers, listed_in_directory, delivery_method, post_url, source_id,
             notification_emails, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18) RETURNING *",
    )
    .bind(vouch_domain::id::new_id("ptn"));
    let row = bind_draft(q, d, manager_id)
        .bind(now())
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| conflict(e, "partners", &["name"]))?;
    from_row(&row)
}

/// Replaces every editable field.
pub async fn update(
    conn: &mut AnyConnection,
    id: &str,
    d: &PartnerDraft,
    manager_id: Option<&str>,
) -> Result<Partner> {
    let q = sqlx::query(
        "UPDATE partners SET name = $1, website = $2, contact_name = $3, contact_email = $4, contact_phone = $5,
             notes = $6, status = $7, manager_id = $8, refers_clients = $9, receives_referrals = $10,
             buys_customers = $11, listed_in_directory = $12, delivery_method = $13, post_url = $14,
             source_id = $15, notification_emails = $16, updated_at = $17
         WHERE id = $18 RETURNING *",
    );
    let row = bind_draft(q, d, manager_id)
        .bind(now())
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(|e| conflict(e, "partners", &["name"]))?
        .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Partner>> {
    let row = sqlx::query("SELECT * FROM partners WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The partner with this name, whatever its case: what a re-run import finds already there.
pub async fn find_by_name(conn: &mut AnyConnection, name: &str) -> Result<Option<Partner>> {
    let row = sqlx::query("SELECT * FROM partners WHERE LOWER(name) = LOWER($1)")
        .bind(name)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Filters for [`list`]; `None` is "any".
#[derive(Debug, Default, Clone)]
pub struct PartnerFilter<'a> {
    pub status: Option<PartnerStatus>,
    pub does: Option<Capability>,
    pub manager_id: Option<&'a str>,
    /// Matches name, website, contact name or contact email (case-insensitive substring).
    pub search: Option<&'a str>,
}

/// Partners newest first, `limit + 1` rows.
pub async fn list(
    conn: &mut AnyConnection,
    filter: &PartnerFilter<'_>,
    starting_after: Option<&str>,
    limit: i64,
) -> Result<Vec<Partner>> {
    let mut list = NewestFirst::table("partners");
    list.eq("status", filter.status.map(PartnerStatus::as_str))
        .eq("manager_id", filter.manager_id);
    if let Some(does) = filter.does {
        // The column is one of three fixed names, never caller text.
        list.and().push(&format!("{} = 1", does.as_str()));
    }
    if let Some(q) = filter.search.map(str::trim).filter(|q| !q.is_empty()) {
        let sql = list.and();
        let like = sql.bind(like_contains(q));
        sql.push(&format!(
            "(LOWER(name) LIKE {like} ESCAPE '\\' OR LOWER(COALESCE(website, '')) LIKE {like} ESCAPE '\\' \
             OR LOWER(COALESCE(contact_name, '')) LIKE {like} ESCAPE '\\' OR LOWER(COALESCE(contact_email, '')) LIKE {like} ESCAPE '\\')"
        ));
    }
    let rows = list.page(conn, starting_after, limit).await?;
    rows.iter().map(from_row).collect()
}

/// The most partners the public directory lists.
pub const DIRECTORY_LIMIT: i64 = 500;

/// The public directory: active partners that receive referrals and chose to be listed, by
/// name (at most [`DIRECTORY_LIMIT`]).
pub async fn listed(conn: &mut AnyConnection) -> Result<Vec<Partner>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT * FROM partners WHERE listed_in_directory = 1 AND receives_referrals = 1 AND status = 'active' ORDER BY LOWER(name), id LIMIT {DIRECTORY_LIMIT}"
    )))
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// A partner's commission in one program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommissionTerms {
    pub partner_id: String,
    pub program_id: String,
    pub commission: Commission,
    /// Who set them (a staff label).
    pub set_by: String,
    pub updated_at: Timestamp,
}

fn terms_from_row(row: &sqlx::any::AnyRow) -> Result<CommissionTerms> {
    let bps: Option<i64> = row.try_get("percentage_bps")?;
    let fixed: Option<i64> = row.try_get("fixed_amount")?;
    let currency: Option<String> = row.try_get("currency")?;
    let commission = match (bps, fixed, currency) {
        (Some(b), None, _) => Commission::Percentage(BasisPoints(
            u32::try_from(b).map_err(|_| StoreError::Corrupt(format!("percentage_bps {b}")))?,
        )),
        (None, Some(a), Some(c)) => Commission::Fixed(Money::new(
            a,
            Currency::parse(&c).map_err(StoreError::Corrupt)?,
        )),
        _ => {
            return Err(StoreError::Corrupt(
                "partner_commission_terms: neither a percentage nor a fixed amount".into(),
            ));
        }
    };
    Ok(CommissionTerms {
        partner_id: row.try_get("partner_id")?,
        program_id: row.try_get("program_id")?,
        commission,
        set_by: row.try_get("set_by")?,
        updated_at: crate::time_col(row, "updated_at")?,
    })
}

/// Sets (or replaces) a partner's commission in a program.
pub async fn set_terms(
    conn: &mut AnyConnection,
    partner_id: &str,
    program_id: &str,
    commission: Commission,
    set_by: &str,
) -> Result<CommissionTerms> {
    let (bps, fixed, currency) = match commission {
        Commission::Percentage(b) => (Some(i64::from(b.0)), None, None),
        Commission::Fixed(m) => (None, Some(m.minor()), Some(m.currency().to_string())),
    };
    let row = sqlx::query(
        "INSERT INTO partner_commission_terms (partner_id, program_id, percentage_bps, fixed_amount, currency, set_by, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (partner_id, program_id) DO UPDATE SET percentage_bps = excluded.percentage_bps,
             fixed_amount = excluded.fixed_amount, currency = excluded.currency, set_by = excluded.set_by,
             updated_at = excluded.updated_at
         RETURNING *",
    )
    .bind(partner_id)
    .bind(program_id)
    .bind(bps)
    .bind(fixed)
    .bind(currency)
    .bind(set_by)
    .bind(now())
    .fetch_one(conn)
    .await?;
    terms_from_row(&row)
}

pub async fn terms_in(
    conn: &mut AnyConnection,
    partner_id: &str,
    program_id: &str,
) -> Result<Option<CommissionTerms>> {
    let row = sqlx::query(
        "SELECT * FROM partner_commission_terms WHERE partner_id = $1 AND program_id = $2",
    )
    .bind(partner_id)
    .bind(program_id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(terms_from_row).transpose()
}

/// A partner's commission terms, by program.
pub async fn terms_of(conn: &mut AnyConnection, partner_id: &str) -> Result<Vec<CommissionTerms>> {
    let rows = sqlx::query(
        "SELECT * FROM partner_commission_terms WHERE partner_id = $1 ORDER BY program_id",
    )
    .bind(partner_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(terms_from_row).collect()
}

/// Removes a partner's terms in a program; `false` when there were none.
pub async fn remove_terms(
    conn: &mut AnyConnection,
    partner_id: &str,
    program_id: &str,
) -> Result<bool> {
    let done = sqlx::query(
        "DELETE FROM partner_commission_terms WHERE partner_id = $1 AND program_id = $2",
    )
    .bind(partner_id)
    .bind(program_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}
