//! Events the operator's systems report about participants (`purchase`, `email_verified`, …).
//! Each is kept once per (program, event id) with what it caused, so a retried report gets the
//! same answer and changes nothing.

use crate::{Result, now};
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use vouch_domain::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProgramEvent {
    pub event_id: String,
    pub program_id: String,
    pub name: String,
    pub participant_id: String,
    /// `referral_won`, `already_won`, `not_referred`, `not_qualifying` or `referral_closed`.
    pub outcome: String,
    pub referral_id: Option<String>,
    pub received_at: Timestamp,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<ProgramEvent> {
    Ok(ProgramEvent {
        event_id: row.try_get("event_id")?,
        program_id: row.try_get("program_id")?,
        name: row.try_get("name")?,
        participant_id: row.try_get("participant_id")?,
        outcome: row.try_get("outcome")?,
        referral_id: row.try_get("referral_id")?,
        received_at: crate::time_col(row, "received_at")?,
    })
}

pub async fn get(
    conn: &mut AnyConnection,
    program_id: &str,
    event_id: &str,
) -> Result<Option<ProgramEvent>> {
    let row = sqlx::query("SELECT * FROM program_events WHERE program_id = $1 AND event_id = $2")
        .bind(program_id)
        .bind(event_id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Keeps an event with its outcome. The caller has checked that the id is new in this
/// transaction; a concurrent report of the same id fails on the primary key and rolls back.
pub async fn insert(
    conn: &mut AnyConnection,
    program_id: &str,
    event_id: &str,
    name: &str,
    participant_id: &str,
    outcome: &str,
    referral_id: Option<&str>,
) -> Result<ProgramEvent> {
    let row = sqlx::query(
        "INSERT INTO program_events (program_id, event_id, name, participant_id, outcome, referral_id, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
    )
    .bind(program_id)
    .bind(event_id)
    .bind(name)
    .bind(participant_id)
    .bind(outcome)
    .bind(referral_id.map(str::to_string))
    .bind(now())
    .fetch_one(conn)
    .await
    .map_err(|e| crate::conflict(e, "program_events", &["event_id"]))?;
    from_row(&row)
}
