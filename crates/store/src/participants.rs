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
        // A code taken already (or by a transaction that committed meanwhile, or that was
        // waited for) inserts nothing instead of failing, and the next try draws another: a
        // failed statement would abort the whole transaction on PostgreSQL, and the signups
        // sharing it. No read first: a drawn code is rarely taken, and the insert finds out.
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
    Ok(by_code_with_fingerprints(conn, code)
        .await?
        .map(|found| found.participant))
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

/// A participant about to be enrolled by [`insert_many`], its code already chosen.
#[derive(Debug, Clone)]
pub struct NewParticipant<'a> {
    /// Chosen by the caller, so that a row can name a referrer enrolled by the same call.
    pub id: String,
    pub draft: &'a ParticipantDraft,
    pub code: String,
    pub referred_by: Option<String>,
    pub signed_up_at: Option<Timestamp>,
}

/// Rows per statement of [`insert_many`]: 1,000 rows of 12 values stay well under SQLite's
/// 32,766 bound parameters.
const INSERT_CHUNK: usize = 1_000;

/// Enrols many participants with one statement per thousand: rows without a network signup
/// (imports), so no fingerprints and no account. A code or email already taken fails the
/// whole statement with a conflict: the caller checked them first, and a writer that took one
/// meanwhile sends the caller back to enrolling row by row.
pub async fn insert_many(
    conn: &mut AnyConnection,
    program_id: &str,
    rows: &[NewParticipant<'_>],
) -> Result<Vec<Participant>> {
    let mut made = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(INSERT_CHUNK) {
        let at = Timestamp::now();
        let mut sql = crate::query::Sql::new(
            "INSERT INTO participants (id, program_id, email, first_name, last_name, code, status, signed_up_at, created_at, updated_at, referred_by, email_key) VALUES ",
        );
        let program = sql.bind(program_id);
        let (active, at_text) = (sql.bind("active"), sql.bind(at));
        let first = made.len();
        for row in chunk {
            made.push(Participant {
                id: row.id.clone(),
                program_id: program_id.to_string(),
                email: row.draft.email.clone(),
                first_name: row.draft.first_name.clone(),
                last_name: row.draft.last_name.clone(),
                code: row.code.clone(),
                referred_by: row.referred_by.clone(),
                account_id: None,
                status: "active".to_string(),
                signed_up_at: row.signed_up_at.unwrap_or(at),
                created_at: at,
                updated_at: at,
            });
        }
        sql.push_rows(&made[first..], |r, p| {
            r.bind(&p.id)
                .placeholder(&program)
                .bind(&p.email)
                .bind(p.first_name.clone())
                .bind(p.last_name.clone())
                .bind(&p.code)
                .placeholder(&active)
                .bind(p.signed_up_at)
                .placeholder(&at_text)
                .placeholder(&at_text)
                .bind(p.referred_by.clone())
                .bind(vouch_domain::fraud::normalise_email(&p.email));
        });
        sql.execute(conn).await.map_err(|e| match e {
            StoreError::Database(e) => conflict(e, "participants", &["email", "code"]),
            other => other,
        })?;
    }
    Ok(made)
}

/// Has PostgreSQL sample the participants table again (`ANALYZE`); nothing on SQLite, whose
/// planner needs no statistics to use the unique indexes. A bulk load outruns autovacuum: with
/// statistics taken when a program had 2,000 participants, PostgreSQL looked up 500 emails of a
/// program of 900,000 by reading all of them (370 ms instead of a few).
pub async fn refresh_statistics(conn: &mut AnyConnection) -> Result<()> {
    if conn.backend_name() == "PostgreSQL" {
        sqlx::query("ANALYZE participants").execute(conn).await?;
    }
    Ok(())
}

/// `IN` lists are cut to this many values per statement.
const LOOKUP_CHUNK: usize = 500;

/// Runs `query_head` followed by `IN (…)` over `values`, a chunk at a time, collecting every row.
async fn rows_in(
    conn: &mut AnyConnection,
    query_head: &str,
    shared: &[&str],
    values: &[String],
) -> Result<Vec<sqlx::any::AnyRow>> {
    let mut rows = Vec::new();
    for chunk in values.chunks(LOOKUP_CHUNK) {
        let mut sql = crate::query::Sql::new("");
        // `$1…` for the values every chunk shares, then the list.
        for value in shared {
            sql.bind(*value);
        }
        sql.push(query_head).push_in(chunk).one_off();
        rows.extend(sql.fetch_all(conn).await?);
    }
    Ok(rows)
}

/// A participant found by [`by_codes`], with the signup fingerprints the fraud checks compare.
#[derive(Debug, Clone)]
pub struct WithFingerprints {
    pub participant: Participant,
    pub ip_hash: Option<String>,
    pub device_hash: Option<String>,
}

/// The participants, of any program, holding any of `codes` (upper case).
pub async fn by_codes(conn: &mut AnyConnection, codes: &[String]) -> Result<Vec<WithFingerprints>> {
    let rows = rows_in(
        conn,
        "SELECT * FROM participants WHERE code IN ",
        &[],
        codes,
    )
    .await?;
    rows.iter().map(with_fingerprints).collect()
}

/// [`by_code`] with the signup fingerprints: a signup that names its referrer runs the fraud
/// checks against them.
pub async fn by_code_with_fingerprints(
    conn: &mut AnyConnection,
    code: &str,
) -> Result<Option<WithFingerprints>> {
    let row = sqlx::query("SELECT * FROM participants WHERE code = $1")
        .bind(code.to_ascii_uppercase())
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(with_fingerprints).transpose()
}

fn with_fingerprints(row: &sqlx::any::AnyRow) -> Result<WithFingerprints> {
    Ok(WithFingerprints {
        participant: from_row(row)?,
        ip_hash: row.try_get("ip_hash")?,
        device_hash: row.try_get("device_hash")?,
    })
}

/// Which of `emails` (lower case) are enrolled in the program.
pub async fn emails_enrolled(
    conn: &mut AnyConnection,
    program_id: &str,
    emails: &[String],
) -> Result<std::collections::HashSet<String>> {
    found_in_program(conn, program_id, "email", emails).await
}

/// Which of `keys` ([`vouch_domain::fraud::normalise_email`]) a participant of the program has.
pub async fn email_keys_used(
    conn: &mut AnyConnection,
    program_id: &str,
    keys: &[String],
) -> Result<std::collections::HashSet<String>> {
    found_in_program(conn, program_id, "email_key", keys).await
}

/// Which of `values` some participant of the program has in `column` (a name written here).
async fn found_in_program(
    conn: &mut AnyConnection,
    program_id: &str,
    column: &'static str,
    values: &[String],
) -> Result<std::collections::HashSet<String>> {
    let head = format!("SELECT {column} FROM participants WHERE program_id = $1 AND {column} IN ");
    let rows = rows_in(conn, &head, &[program_id], values).await?;
    rows.iter().map(|r| Ok(r.try_get(column)?)).collect()
}

/// Which of `codes` some participant, of any program, holds.
pub async fn codes_taken(
    conn: &mut AnyConnection,
    codes: &[String],
) -> Result<std::collections::HashSet<String>> {
    let rows = rows_in(
        conn,
        "SELECT code FROM participants WHERE code IN ",
        &[],
        codes,
    )
    .await?;
    rows.iter().map(|r| Ok(r.try_get("code")?)).collect()
}
