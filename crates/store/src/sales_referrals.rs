//! Sales referrals (seed 002's referrals module) and what happened to each. Stage changes are
//! guarded updates on the stage read, so two people moving one referral at once cannot both
//! win.

use crate::query::NewestFirst;
use crate::{Result, enum_col, now, time_col};
use sqlx::{AnyConnection, Row};
use vouch_domain::Timestamp;
use vouch_domain::sales_referral::{ReferralDraft, Stage};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalesReferral {
    pub id: String,
    pub program_id: String,
    pub referred_id: String,
    pub referrer_id: String,
    pub generated_by: Option<String>,
    pub stage: Stage,
    pub meeting_at: Option<Timestamp>,
    pub notes: Option<String>,
    pub lost_reason: Option<String>,
    pub sale_id: Option<String>,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<SalesReferral> {
    Ok(SalesReferral {
        id: row.try_get("id")?,
        program_id: row.try_get("program_id")?,
        referred_id: row.try_get("referred_id")?,
        referrer_id: row.try_get("referrer_id")?,
        generated_by: row.try_get("generated_by")?,
        stage: enum_col(row, "stage")?,
        meeting_at: time_col(row, "meeting_at")?,
        notes: row.try_get("notes")?,
        lost_reason: row.try_get("lost_reason")?,
        sale_id: row.try_get("sale_id")?,
        created_by: row.try_get("created_by")?,
        created_at: time_col(row, "created_at")?,
        updated_at: time_col(row, "updated_at")?,
    })
}

pub async fn create(
    conn: &mut AnyConnection,
    d: &ReferralDraft,
    stage: Stage,
    by: &str,
) -> Result<SalesReferral> {
    let row = sqlx::query(
        "INSERT INTO sales_referrals (id, program_id, referred_id, referrer_id, generated_by, stage, meeting_at, notes, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING *",
    )
    .bind(vouch_domain::id::new_id("srf"))
    .bind(&d.program_id)
    .bind(&d.referred_id)
    .bind(&d.referrer_id)
    .bind(d.generated_by.clone())
    .bind(stage.as_str())
    .bind(d.meeting_at.map(|t| t.to_string()))
    .bind(d.notes.clone())
    .bind(by)
    .bind(now())
    .fetch_one(&mut *conn)
    .await?;
    from_row(&row)
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<SalesReferral>> {
    let row = sqlx::query("SELECT * FROM sales_referrals WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Books (or clears) the meeting and replaces the notes of a referral still open.
pub async fn update(
    conn: &mut AnyConnection,
    id: &str,
    meeting_at: Option<Timestamp>,
    notes: Option<&str>,
) -> Result<Option<SalesReferral>> {
    let row = sqlx::query(
        "UPDATE sales_referrals SET meeting_at = $1, notes = $2, updated_at = $3
         WHERE id = $4 AND stage NOT IN ('won', 'lost') RETURNING *",
    )
    .bind(meeting_at.map(|t| t.to_string()))
    .bind(notes.map(str::to_string))
    .bind(now())
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Moves a referral from `from` to `to`; `None` when it is no longer at `from`.
pub async fn move_stage(
    conn: &mut AnyConnection,
    id: &str,
    from: Stage,
    to: Stage,
    lost_reason: Option<&str>,
    sale_id: Option<&str>,
) -> Result<Option<SalesReferral>> {
    let row = sqlx::query(
        "UPDATE sales_referrals SET stage = $1, lost_reason = COALESCE($2, lost_reason), sale_id = COALESCE($3, sale_id), updated_at = $4
         WHERE id = $5 AND stage = $6 RETURNING *",
    )
    .bind(to.as_str())
    .bind(lost_reason.map(str::to_string))
    .bind(sale_id.map(str::to_string))
    .bind(now())
    .bind(id)
    .bind(from.as_str())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Filters for [`list`]; `None` is "any".
#[derive(Debug, Default, Clone)]
pub struct ReferralFilter<'a> {
    pub stage: Option<Stage>,
    pub program_id: Option<&'a str>,
    /// Referrals where this person is the referred contact, the referrer or the generator.
    pub person_id: Option<&'a str>,
}

/// Referrals newest first, `limit + 1` rows.
pub async fn list(
    conn: &mut AnyConnection,
    filter: &ReferralFilter<'_>,
    starting_after: Option<&str>,
    limit: i64,
) -> Result<Vec<SalesReferral>> {
    let mut list = NewestFirst::table("sales_referrals");
    list.eq("stage", filter.stage.map(Stage::as_str))
        .eq("program_id", filter.program_id);
    if let Some(person) = filter.person_id {
        let sql = list.and();
        let p = sql.bind(person);
        sql.push(&format!(
            "(referred_id = {p} OR referrer_id = {p} OR generated_by = {p})"
        ));
    }
    let rows = list.page(conn, starting_after, limit).await?;
    rows.iter().map(from_row).collect()
}

/// One thing that happened to a referral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralEvent {
    pub id: String,
    pub referral_id: String,
    /// `created`, `stage` or `note`.
    pub kind: String,
    pub from_stage: Option<String>,
    pub to_stage: Option<String>,
    pub note: Option<String>,
    pub actor: String,
    pub created_at: Timestamp,
}

pub async fn add_event(
    conn: &mut AnyConnection,
    referral_id: &str,
    kind: &str,
    stages: Option<(Option<Stage>, Stage)>,
    note: Option<&str>,
    actor: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sales_referral_events (id, referral_id, kind, from_stage, to_stage, note, actor, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(vouch_domain::id::new_id("sre"))
    .bind(referral_id)
    .bind(kind)
    .bind(stages.and_then(|(f, _)| f).map(|s| s.as_str()))
    .bind(stages.map(|(_, t)| t.as_str()))
    .bind(note.map(str::to_string))
    .bind(actor)
    .bind(now())
    .execute(conn)
    .await?;
    Ok(())
}

/// A referral's history, oldest first.
pub async fn history(conn: &mut AnyConnection, referral_id: &str) -> Result<Vec<ReferralEvent>> {
    let rows = sqlx::query(
        "SELECT * FROM sales_referral_events WHERE referral_id = $1 ORDER BY created_at, id",
    )
    .bind(referral_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ReferralEvent {
                id: r.try_get("id")?,
                referral_id: r.try_get("referral_id")?,
                kind: r.try_get("kind")?,
                from_stage: r.try_get("from_stage")?,
                to_stage: r.try_get("to_stage")?,
                note: r.try_get("note")?,
                actor: r.try_get("actor")?,
                created_at: time_col(r, "created_at")?,
            })
        })
        .collect()
}

/// Referrals created in `[start, end]` (timestamps as text) and how many of them were won.
pub async fn conversion(conn: &mut AnyConnection, start: &str, end: &str) -> Result<(i64, i64)> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n, COALESCE(SUM(CASE WHEN stage = 'won' THEN 1 ELSE 0 END), 0) AS won
         FROM sales_referrals WHERE created_at >= $1 AND created_at <= $2",
    )
    .bind(start)
    .bind(end)
    .fetch_one(conn)
    .await?;
    Ok((row.try_get("n")?, row.try_get("won")?))
}
