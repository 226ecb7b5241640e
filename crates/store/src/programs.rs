//! Referral programs. Every change is audited and emits its event in the same transaction.

use crate::query::NewestFirst;
use crate::{Result, StoreError, conflict, now};
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use vouch_domain::Timestamp;
use vouch_domain::program::{
    AttributionModel, ProgramDraft, ProgramFields, ProgramStatus, transition,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Program {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub landing_url: String,
    pub fallback_url: Option<String>,
    pub status: ProgramStatus,
    pub attribution_window_days: i64,
    pub attribution_model: AttributionModel,
    pub qualifying_event: String,
    pub reward_hold_days: i64,
    pub currency: String,
    pub sender_name: Option<String>,
    pub reply_to: Option<String>,
    pub super_customer_id: Option<i64>,
    /// Participants see their rank among the referrers on their page.
    pub show_leaderboard: bool,
    /// Branding of the public pages: headline, offer, logo, accent colour.
    pub headline: Option<String>,
    pub offer: Option<String>,
    pub logo_url: Option<String>,
    pub brand_color: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Program {
    pub fn fields(&self) -> ProgramFields {
        ProgramFields {
            name: self.name.clone(),
            slug: self.slug.clone(),
            landing_url: self.landing_url.clone(),
            fallback_url: self.fallback_url.clone().unwrap_or_default(),
            attribution_window_days: self.attribution_window_days,
            attribution_model: self.attribution_model.as_str().into(),
            qualifying_event: self.qualifying_event.clone(),
            reward_hold_days: self.reward_hold_days,
            currency: self.currency.clone(),
            sender_name: self.sender_name.clone().unwrap_or_default(),
            reply_to: self.reply_to.clone().unwrap_or_default(),
            super_customer_id: self.super_customer_id,
            show_leaderboard: self.show_leaderboard,
            headline: self.headline.clone().unwrap_or_default(),
            offer: self.offer.clone().unwrap_or_default(),
            logo_url: self.logo_url.clone().unwrap_or_default(),
            brand_color: self.brand_color.clone().unwrap_or_default(),
        }
    }
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<Program> {
    let status: String = row.try_get("status")?;
    let model: String = row.try_get("attribution_model")?;
    Ok(Program {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        slug: row.try_get("slug")?,
        landing_url: row.try_get("landing_url")?,
        fallback_url: row.try_get("fallback_url")?,
        status: status.parse().map_err(StoreError::Corrupt)?,
        attribution_window_days: row.try_get("attribution_window_days")?,
        attribution_model: model.parse().map_err(StoreError::Corrupt)?,
        qualifying_event: row.try_get("qualifying_event")?,
        reward_hold_days: row.try_get("reward_hold_days")?,
        currency: row.try_get("currency")?,
        sender_name: row.try_get("sender_name")?,
        reply_to: row.try_get("reply_to")?,
        super_customer_id: row.try_get("super_customer_id")?,
        show_leaderboard: row.try_get::<i64, _>("show_leaderboard")? != 0,
        headline: row.try_get("headline")?,
        offer: row.try_get("offer")?,
        logo_url: row.try_get("logo_url")?,
        brand_color: row.try_get("brand_color")?,
        created_at: crate::time_col(row, "created_at")?,
        updated_at: crate::time_col(row, "updated_at")?,
    })
}

/// A program may be tied only to an existing super customer.
async fn check_super_customer(conn: &mut AnyConnection, id: Option<i64>) -> Result<()> {
    let Some(id) = id else { return Ok(()) };
    match crate::accounts::get(conn, id).await? {
        Some(a) if a.is_super_customer => Ok(()),
        Some(_) => Err(StoreError::Invalid {
            field: "super_customer_id".into(),
            message: format!("account {id} is not a super customer"),
        }),
        None => Err(StoreError::Invalid {
            field: "super_customer_id".into(),
            message: format!("account {id} does not exist"),
        }),
    }
}

pub async fn create(conn: &mut AnyConnection, d: &ProgramDraft) -> Result<Program> {
    check_super_customer(conn, d.super_customer_id).await?;
    let row = sqlx::query(
        "INSERT INTO programs (id, name, slug, landing_url, fallback_url, status, attribution_window_days, attribution_model,
            qualifying_event, reward_hold_days, currency, sender_name, reply_to, super_customer_id, created_at, updated_at, show_leaderboard,
            headline, offer, logo_url, brand_color)
         VALUES ($1, $2, $3, $4, $5, 'draft', $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15, $16, $17, $18, $19) RETURNING *",
    )
    .bind(vouch_domain::id::new_id("prg"))
    .bind(d.name.clone())
    .bind(d.slug.clone())
    .bind(d.landing_url.clone())
    .bind(d.fallback_url.clone())
    .bind(d.attribution_window_days)
    .bind(d.attribution_model.as_str())
    .bind(d.qualifying_event.clone())
    .bind(d.reward_hold_days)
    .bind(d.currency.clone())
    .bind(d.sender_name.clone())
    .bind(d.reply_to.clone())
    .bind(d.super_customer_id)
    .bind(now())
    .bind(crate::flag(d.show_leaderboard))
    .bind(d.headline.clone())
    .bind(d.offer.clone())
    .bind(d.logo_url.clone())
    .bind(d.brand_color.clone())
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| conflict(e, "programs", &["slug"]))?;
    from_row(&row)
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Program>> {
    let row = sqlx::query("SELECT * FROM programs WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Newest first; `limit + 1` rows.
pub async fn list(
    conn: &mut AnyConnection,
    status: Option<ProgramStatus>,
    starting_after: Option<&str>,
    limit: i64,
) -> Result<Vec<Program>> {
    let rows = NewestFirst::table("programs")
        .eq("status", status.map(|s| s.as_str()))
        .page(conn, starting_after, limit)
        .await?;
    rows.iter().map(from_row).collect()
}

pub async fn update(
    conn: &mut AnyConnection,
    before: &Program,
    d: &ProgramDraft,
) -> Result<Program> {
    if before.status == ProgramStatus::Ended {
        return Err(StoreError::WrongState {
            code: "invalid_transition",
            message: "an ended program cannot change".into(),
        });
    }
    check_super_customer(conn, d.super_customer_id).await?;
    let row = sqlx::query(
        "UPDATE programs SET name = $1, slug = $2, landing_url = $3, fallback_url = $4, attribution_window_days = $5,
            attribution_model = $6, qualifying_event = $7, reward_hold_days = $8, currency = $9, sender_name = $10,
            reply_to = $11, super_customer_id = $12, updated_at = $13, show_leaderboard = $15,
            headline = $16, offer = $17, logo_url = $18, brand_color = $19
         WHERE id = $14 RETURNING *",
    )
    .bind(d.name.clone())
    .bind(d.slug.clone())
    .bind(d.landing_url.clone())
    .bind(d.fallback_url.clone())
    .bind(d.attribution_window_days)
    .bind(d.attribution_model.as_str())
    .bind(d.qualifying_event.clone())
    .bind(d.reward_hold_days)
    .bind(d.currency.clone())
    .bind(d.sender_name.clone())
    .bind(d.reply_to.clone())
    .bind(d.super_customer_id)
    .bind(now())
    .bind(&before.id)
    .bind(crate::flag(d.show_leaderboard))
    .bind(d.headline.clone())
    .bind(d.offer.clone())
    .bind(d.logo_url.clone())
    .bind(d.brand_color.clone())
    .fetch_optional(&mut *conn)
    .await
    .map_err(|e| conflict(e, "programs", &["slug"]))?
    .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// Moves the program to `to` if the lifecycle allows it. `may_publish` says whether the caller
/// may put it live. Guarded on the current status, so two concurrent changes cannot both apply.
pub async fn set_status(
    conn: &mut AnyConnection,
    before: &Program,
    to: ProgramStatus,
    may_publish: bool,
) -> Result<Program> {
    let needs_manager =
        transition(before.status, to).map_err(|message| StoreError::WrongState {
            code: "invalid_transition",
            message,
        })?;
    if needs_manager && !may_publish {
        return Err(StoreError::Forbidden(
            "putting a program live is a Management Team decision (manager or above)".into(),
        ));
    }
    let row = sqlx::query("UPDATE programs SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4 RETURNING *")
        .bind(to.as_str())
        .bind(now())
        .bind(&before.id)
        .bind(before.status.as_str())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::WrongState { code: "invalid_transition", message: "the program changed in the meantime; reload and try again".into() })?;
    from_row(&row)
}

pub async fn by_slug(conn: &mut AnyConnection, slug: &str) -> Result<Option<Program>> {
    let row = sqlx::query("SELECT * FROM programs WHERE slug = $1")
        .bind(slug.trim().to_ascii_lowercase())
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}
