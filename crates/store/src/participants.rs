//! Participants: people enrolled in a program, with their referral code.

use crate::query::{NewestFirst, Order, SortColumn};
use crate::{Result, StoreError, conflict, like_contains, now};
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use vouch_domain::Timestamp;
use vouch_domain::participant::{ParticipantDraft, generate_code};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Participant {
    pub id: String,
    pub program_id: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// The referral code; the link is `{base_url}/r/{code}`.
    pub code: String,
    /// The participant who referred this one, if any.
    pub referred_by: Option<String>,
    /// The account registered for them under the program's super customer, if the program is
    /// tied to one.
    pub account_id: Option<i64>,
    pub status: String,
    pub signed_up_at: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

pub(crate) fn from_row(row: &sqlx::any::AnyRow) -> Result<Participant> {
    Ok(Participant {
        id: row.try_get("id")?,
        program_id: row.try_get("program_id")?,
        email: row.try_get("email")?,
        first_name: row.try_get("first_name")?,
        last_name: row.try_get("last_name")?,
        code: row.try_get("code")?,
        referred_by: row.try_get("referred_by")?,
        account_id: row.try_get("account_id")?,
        status: row.try_get("status")?,
        signed_up_at: crate::time_col(row, "signed_up_at")?,
        created_at: crate::time_col(row, "created_at")?,
        updated_at: crate::time_col(row, "updated_at")?,
    })
}

/// What a signup looked like, beyond the participant's own fields.
#[derive(Debug, Clone, Default)]
pub struct SignupFacts {
    /// The original signup time (imports keep it); now when absent.
    pub signed_up_at: Option<Timestamp>,
    /// SHA-256 of the signup's network address with the installation's secret.
    pub ip_hash: Option<String>,
    /// SHA-256 of the signup browser's device cookie with the installation's secret.
    pub device_hash: Option<String>,
    /// A code to keep (imports bring the codes participants already share); a taken code is a
    /// conflict on `code`, never replaced by a fresh one.
    pub code: Option<String>,
    /// The account registered for them under the program's super customer.
    pub account_id: Option<i64>,
}

/// Enrols a participant with a fresh code. A code that happens to be taken is drawn again
/// (31⁴ suffixes per prefix make a clash rare); the email must be new in the program.
pub async fn create(
    conn: &mut AnyConnection,
    program_id: &str,
    d: &ParticipantDraft,
    referred_by: Option<&str>,
    facts: &SignupFacts,
) -> Result<Participant> {
    let at = now();
    let mut last_error = None;
    let attempts = if facts.code.is_some() { 1 } else { 8 };
    for _ in 0..attempts {
        let code = match &facts.code {
            Some(c) => c.clone(),
            None => generate_code(d.first_name.as_deref().unwrap_or_default(), &d.email),
        };
        if facts.code.is_none() && code_taken(conn, &code).await? {
            continue;
        }
        let inserted = sqlx::query(
            "INSERT INTO participants (id, program_id, email, first_name, last_name, code, status, signed_up_at, created_at, updated_at, referred_by, email_key, ip_hash, device_hash, account_id)
             VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8, $8, $9, $10, $11, $12, $13)
             ON CONFLICT (code) DO NOTHING RETURNING *",
        )
        .bind(vouch_domain::id::new_id("par"))
        .bind(program_id)
        .bind(d.email.clone())
        .bind(d.first_name.clone())
        .bind(d.last_name.clone())
        .bind(&code)
        .bind(facts.signed_up_at.map_or_else(|| at.clone(), |t| t.to_string()))
        .bind(&at)
        .bind(referred_by.map(str::to_string))
        .bind(vouch_domain::fraud::normalise_email(&d.email))
        .bind(facts.ip_hash.clone())
        .bind(facts.device_hash.clone())
        .bind(facts.account_id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(|e| conflict(e, "participants", &["email", "code"]))?;
        // A code taken meanwhile (by a transaction that committed after the check, or that
        // was waited for) inserts nothing instead of failing: a failed statement would abort
        // the whole transaction on PostgreSQL, and the signups sharing it.
        match inserted {
            Some(row) => return from_row(&row),
            None => {
                last_error = Some(StoreError::Conflict {
                    field: "code".into(),
                })
            }
        }
    }
    Err(last_error.unwrap_or(StoreError::Conflict {
        field: "code".into(),
    }))
}

pub async fn code_taken(conn: &mut AnyConnection, code: &str) -> Result<bool> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM participants WHERE code = $1")
        .bind(code)
        .fetch_one(conn)
        .await?;
    Ok(n > 0)
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Participant>> {
    let row = sqlx::query("SELECT * FROM participants WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn by_code(conn: &mut AnyConnection, code: &str) -> Result<Option<Participant>> {
    let row = sqlx::query("SELECT * FROM participants WHERE code = $1")
        .bind(code.to_ascii_uppercase())
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The columns a program's participant list sorts by.
pub const SORTS: &[SortColumn] = &[
    SortColumn::text("email", "LOWER(email)"),
    SortColumn::text(
        "name",
        "LOWER(COALESCE(first_name, '') || ' ' || COALESCE(last_name, ''))",
    ),
    SortColumn::text("code", "code"),
    SortColumn::text("status", "status"),
    SortColumn::text("signed_up_at", "signed_up_at"),
];

/// A program's participants in `order`, optionally searched by email or code; `limit + 1`.
pub async fn list(
    conn: &mut AnyConnection,
    program_id: &str,
    search: Option<&str>,
    order: Order,
    starting_after: Option<&str>,
    limit: i64,
) -> Result<Vec<Participant>> {
    let rows = listing(program_id, search)
        .ordered(order)
        .page(conn, starting_after, limit)
        .await?;
    rows.iter().map(from_row).collect()
}

/// How many participants [`list`] finds in all.
pub async fn count(
    conn: &mut AnyConnection,
    program_id: &str,
    search: Option<&str>,
) -> Result<i64> {
    listing(program_id, search).count(conn).await
}

fn listing(program_id: &str, search: Option<&str>) -> NewestFirst {
    let mut list = NewestFirst::table("participants");
    list.eq("program_id", Some(program_id));
    if let Some(q) = search.map(str::trim).filter(|q| !q.is_empty()) {
        let sql = list.and();
        let like = sql.bind(like_contains(q));
        sql.push(&format!(
            "(LOWER(email) LIKE {like} ESCAPE '\\' OR LOWER(code) LIKE {like} ESCAPE '\\')"
        ));
    }
    list
}

/// `active`, or `blocked`: a blocked participant's link credits nobody and they earn nothing
/// new until unblocked.
pub async fn set_status(
    conn: &mut AnyConnection,
    before: &Participant,
    status: &str,
) -> Result<Participant> {
    let row = sqlx::query(
        "UPDATE participants SET status = $1, updated_at = $2 WHERE id = $3 RETURNING *",
    )
    .bind(status)
    .bind(now())
    .bind(&before.id)
    .fetch_one(&mut *conn)
    .await?;
    from_row(&row)
}

/// Corrects a participant's address and name (checked by the caller); the address stays unique
/// in the program and its fraud key follows it.
pub async fn set_details(
    conn: &mut AnyConnection,
    before: &Participant,
    email: &str,
    first_name: Option<&str>,
    last_name: Option<&str>,
) -> Result<Participant> {
    let row = sqlx::query(
        "UPDATE participants SET email = $1, email_key = $2, first_name = $3, last_name = $4, updated_at = $5
         WHERE id = $6 RETURNING *",
    )
    .bind(email)
    .bind(vouch_domain::fraud::normalise_email(email))
    .bind(first_name.map(str::to_string))
    .bind(last_name.map(str::to_string))
    .bind(now())
    .bind(&before.id)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| conflict(e, "participants", &["email"]))?;
    from_row(&row)
}

/// A staff note on a participant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    pub id: String,
    pub participant_id: String,
    /// Who wrote it: the staff user's email (or the API key's name).
    pub author: String,
    pub body: String,
    pub created_at: Timestamp,
}

fn note_from_row(row: &sqlx::any::AnyRow) -> Result<Note> {
    Ok(Note {
        id: row.try_get("id")?,
        participant_id: row.try_get("participant_id")?,
        author: row.try_get("author")?,
        body: row.try_get("body")?,
        created_at: crate::time_col(row, "created_at")?,
    })
}

pub async fn add_note(
    conn: &mut AnyConnection,
    participant_id: &str,
    author: &str,
    body: &str,
) -> Result<Note> {
    let row = sqlx::query(
        "INSERT INTO participant_notes (id, participant_id, author, body, created_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING *",
    )
    .bind(vouch_domain::id::new_id("pnt"))
    .bind(participant_id)
    .bind(author)
    .bind(body)
    .bind(now())
    .fetch_one(conn)
    .await?;
    note_from_row(&row)
}

/// A participant's notes, oldest first (they read as a log).
pub async fn notes(conn: &mut AnyConnection, participant_id: &str) -> Result<Vec<Note>> {
    let rows = sqlx::query("SELECT * FROM participant_notes WHERE participant_id = $1 ORDER BY id")
        .bind(participant_id)
        .fetch_all(conn)
        .await?;
    rows.iter().map(note_from_row).collect()
}

/// Replaces the code with a vanity code (checked by the caller); unique across the installation.
pub async fn set_code(
    conn: &mut AnyConnection,
    before: &Participant,
    code: &str,
) -> Result<Participant> {
    let row =
        sqlx::query("UPDATE participants SET code = $1, updated_at = $2 WHERE id = $3 RETURNING *")
            .bind(code)
            .bind(now())
            .bind(&before.id)
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| conflict(e, "participants", &["code"]))?;
    from_row(&row)
}

/// The participant of this program with this email (compared without case).
pub async fn by_email(
    conn: &mut AnyConnection,
    program_id: &str,
    email: &str,
) -> Result<Option<Participant>> {
    let row = sqlx::query("SELECT * FROM participants WHERE program_id = $1 AND email = $2")
        .bind(program_id)
        .bind(email.trim().to_lowercase())
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The signup facts of a participant, for fraud checks: (ip hash, device hash).
pub async fn fingerprints(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<(Option<String>, Option<String>)> {
    let row = sqlx::query("SELECT ip_hash, device_hash FROM participants WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    match row {
        Some(r) => Ok((r.try_get("ip_hash")?, r.try_get("device_hash")?)),
        None => Ok((None, None)),
    }
}

/// Signups of a program from one IP hash since `since`.
pub async fn signups_from_ip(
    conn: &mut AnyConnection,
    program_id: &str,
    ip_hash: &str,
    since: Timestamp,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM participants WHERE program_id = $1 AND ip_hash = $2 AND created_at >= $3",
    )
    .bind(program_id)
    .bind(ip_hash)
    .bind(since.to_string())
    .fetch_one(conn)
    .await?)
}

/// Whether a participant of the program other than `except_id` has this normalised email.
pub async fn email_key_taken(
    conn: &mut AnyConnection,
    program_id: &str,
    email_key: &str,
    except_id: &str,
) -> Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM participants WHERE program_id = $1 AND email_key = $2 AND id <> $3",
    )
    .bind(program_id)
    .bind(email_key)
    .bind(except_id)
    .fetch_one(conn)
    .await?;
    Ok(n > 0)
}
