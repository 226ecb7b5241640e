//! Email: template overrides, the outbox and suppressions. A message is rendered when it is
//! queued, in the transaction of the change that causes it, so the outbox shows exactly what
//! goes out; the worker only sends it. A broken override never blocks mail: the shipped default
//! is used instead and the failure is logged.

use crate::query::NewestFirst;
use crate::{Result, StoreError, flag, jobs, now};
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use vouch_domain::Timestamp;
pub use vouch_domain::email_template::TemplateSource;
use vouch_domain::email_template::{self, Kind, Template};

/// Attempts per email before it is dead.
pub const MAX_ATTEMPTS: i64 = 10;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmailMessage {
    pub id: String,
    pub kind: String,
    pub to_address: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub marketing: bool,
    /// `queued`, `sent` (SMTP), `stored` (kept in the outbox sink), `suppressed` or `dead`.
    pub status: String,
    pub transport: Option<String>,
    pub job_id: Option<String>,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    /// The program whose templates rendered it, for participant email.
    pub program_id: Option<String>,
    /// Sent as `List-Unsubscribe` (one-click, RFC 8058) on marketing email.
    pub unsubscribe_url: Option<String>,
}

pub(crate) fn from_row(row: &sqlx::any::AnyRow) -> Result<EmailMessage> {
    Ok(EmailMessage {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        to_address: row.try_get("to_address")?,
        subject: row.try_get("subject")?,
        text_body: row.try_get("text_body")?,
        html_body: row.try_get("html_body")?,
        marketing: row.try_get::<i64, _>("marketing")? != 0,
        status: row.try_get("status")?,
        transport: row.try_get("transport")?,
        job_id: row.try_get("job_id")?,
        created_at: crate::time_col(row, "created_at")?,
        sent_at: crate::time_col(row, "sent_at")?,
        program_id: row.try_get("program_id")?,
        unsubscribe_url: row.try_get("unsubscribe_url")?,
    })
}

/// Where a template override applies: the whole installation, or one program (participant
/// kinds only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    Installation,
    Program(&'a str),
}

impl Scope<'_> {
    /// The audit log's id for this scope's version of `kind`.
    pub fn entity_id(&self, kind: Kind) -> String {
        match self {
            Scope::Installation => kind.as_str().to_string(),
            Scope::Program(p) => format!("{p}/{}", kind.as_str()),
        }
    }
}

fn template_from_row(r: &sqlx::any::AnyRow) -> Result<Template> {
    Ok(Template {
        subject: r.try_get("subject")?,
        text: r.try_get("text_body")?,
        html: r.try_get("html_body")?,
    })
}

/// The override saved at exactly this scope, if any.
pub async fn template_override(
    conn: &mut AnyConnection,
    scope: Scope<'_>,
    kind: Kind,
) -> Result<Option<Template>> {
    let row = match scope {
        Scope::Installation => {
            sqlx::query(
                "SELECT subject, text_body, html_body FROM email_templates WHERE kind = $1",
            )
            .bind(kind.as_str())
            .fetch_optional(conn)
            .await?
        }
        Scope::Program(program_id) => {
            sqlx::query("SELECT subject, text_body, html_body FROM program_email_templates WHERE program_id = $1 AND kind = $2")
                .bind(program_id)
                .bind(kind.as_str())
                .fetch_optional(conn)
                .await?
        }
    };
    row.as_ref().map(template_from_row).transpose()
}

/// The template in force: the program's override, the installation's, or the shipped default.
/// A program's is looked up with the installation's in one statement (every email a signup
/// sends asks).
pub async fn template(
    conn: &mut AnyConnection,
    scope: Scope<'_>,
    kind: Kind,
) -> Result<(Template, TemplateSource)> {
    let Scope::Program(program_id) = scope else {
        return Ok(
            match template_override(conn, Scope::Installation, kind).await? {
                Some(t) => (t, TemplateSource::Installation),
                None => (kind.default_template(), TemplateSource::Default),
            },
        );
    };
    let row = sqlx::query(
        "SELECT 0 AS installation, subject, text_body, html_body FROM program_email_templates WHERE program_id = $1 AND kind = $2
         UNION ALL
         SELECT 1 AS installation, subject, text_body, html_body FROM email_templates WHERE kind = $2
         ORDER BY installation LIMIT 1",
    )
    .bind(program_id)
    .bind(kind.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(match row {
        Some(row) => {
            let source = if row.try_get::<i64, _>("installation")? == 0 {
                TemplateSource::Program
            } else {
                TemplateSource::Installation
            };
            (template_from_row(&row)?, source)
        }
        None => (kind.default_template(), TemplateSource::Default),
    })
}

/// Saves an override (checked by the caller).
pub async fn save_template(
    conn: &mut AnyConnection,
    updated_by: &str,
    scope: Scope<'_>,
    kind: Kind,
    t: &Template,
) -> Result<()> {
    let sql = match scope {
        Scope::Installation => {
            "INSERT INTO email_templates (kind, subject, text_body, html_body, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (kind) DO UPDATE SET subject = $2, text_body = $3, html_body = $4, updated_by = $5, updated_at = $6"
        }
        Scope::Program(_) => {
            "INSERT INTO program_email_templates (kind, subject, text_body, html_body, updated_by, updated_at, program_id) VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (program_id, kind) DO UPDATE SET subject = $2, text_body = $3, html_body = $4, updated_by = $5, updated_at = $6"
        }
    };
    let mut query = sqlx::query(sql)
        .bind(kind.as_str())
        .bind(&t.subject)
        .bind(&t.text)
        .bind(&t.html)
        .bind(updated_by)
        .bind(now());
    if let Scope::Program(program_id) = scope {
        query = query.bind(program_id);
    }
    query.execute(&mut *conn).await?;
    Ok(())
}

/// Drops the override at this scope; the next one down applies again.
pub async fn reset_template(conn: &mut AnyConnection, scope: Scope<'_>, kind: Kind) -> Result<()> {
    match scope {
        Scope::Installation => {
            sqlx::query("DELETE FROM email_templates WHERE kind = $1")
                .bind(kind.as_str())
                .execute(&mut *conn)
                .await?
        }
        Scope::Program(program_id) => {
            sqlx::query("DELETE FROM program_email_templates WHERE program_id = $1 AND kind = $2")
                .bind(program_id)
                .bind(kind.as_str())
                .execute(&mut *conn)
                .await?
        }
    };
    Ok(())
}

pub async fn is_suppressed(conn: &mut AnyConnection, email: &str) -> Result<bool> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM email_suppressions WHERE email = $1")
        .bind(email.to_lowercase())
        .fetch_one(conn)
        .await?;
    Ok(n > 0)
}

/// Adds an address to the suppression list; whether it was new there.
pub async fn suppress(conn: &mut AnyConnection, email: &str, reason: &str) -> Result<bool> {
    let done = sqlx::query("INSERT INTO email_suppressions (email, reason, created_at) VALUES ($1, $2, $3) ON CONFLICT (email) DO NOTHING")
        .bind(email.to_lowercase())
        .bind(reason)
        .bind(now())
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// What a message is about beyond its kind: the program whose templates apply, and the link
/// that unsubscribes the recipient (required for marketing kinds).
#[derive(Debug, Clone, Copy, Default)]
pub struct QueueOptions<'a> {
    pub program_id: Option<&'a str>,
    pub unsubscribe_url: Option<&'a str>,
    /// The record this message delivers (a lead sale): the job's subject and `about` in its
    /// payload, so its attempts are found under the record and the worker can tell the record
    /// when the message is sent or given up.
    pub about: Option<&'a str>,
    /// The program's look, wrapped around the HTML part of a participant's email.
    pub brand: Option<email_template::Brand<'a>>,
}

/// Messages of `kind` queued to `to` since `since` (whatever became of them).
pub async fn count_to(
    conn: &mut AnyConnection,
    kind: Kind,
    to: &str,
    since: Timestamp,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM email_messages WHERE to_address = $1 AND kind = $2 AND created_at >= $3",
    )
    .bind(to)
    .bind(kind.as_str())
    .bind(since.to_string())
    .fetch_one(conn)
    .await?)
}

/// Renders `kind` for `to` with `ctx` and queues it, on the caller's connection. Marketing
/// mail to a suppressed address is recorded as `suppressed` and never sent; it always carries
/// the unsubscribe link, even when an override leaves it out.
pub async fn queue(
    conn: &mut AnyConnection,
    kind: Kind,
    to: &str,
    ctx: &serde_json::Value,
    options: QueueOptions<'_>,
) -> Result<EmailMessage> {
    let m = prepare(conn, kind, to, ctx, options).await?;
    let status = m.status();
    if let Some(job_id) = &m.job_id {
        let job = jobs::NewJob {
            id: job_id,
            subject: Some(&m.job_subject),
            payload: &m.job_payload,
        };
        jobs::insert_many(conn, "email", &[job], MAX_ATTEMPTS).await?;
    }
    let row = sqlx::query(
        "INSERT INTO email_messages (id, kind, to_address, subject, text_body, html_body, marketing, status, job_id, created_at, program_id, unsubscribe_url)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING *",
    )
    .bind(m.id)
    .bind(m.kind.as_str())
    .bind(m.to)
    .bind(m.rendered.subject)
    .bind(m.rendered.text)
    .bind(m.rendered.html)
    .bind(flag(m.kind.marketing()))
    .bind(status)
    .bind(m.job_id)
    .bind(m.created_at)
    .bind(m.program_id)
    .bind(m.unsubscribe_url)
    .fetch_one(conn)
    .await?;
    from_row(&row)
}

/// [`queue`] inside `tx`, the rows written at its commit with the other messages the
/// transaction queued (many to a statement: a group of signups writes its welcome emails
/// together). Rendered and checked against the suppressions now, as [`queue`] does.
pub async fn queue_at_commit(
    tx: &mut crate::Tx,
    kind: Kind,
    to: &str,
    ctx: &serde_json::Value,
    options: QueueOptions<'_>,
) -> Result<()> {
    let message = prepare(tx, kind, to, ctx, options).await?;
    tx.deferred.email(message);
    Ok(())
}

/// [`count_to`], counting too the messages `tx` queued to be written at its commit.
pub async fn count_to_in(
    tx: &mut crate::Tx,
    kind: Kind,
    to: &str,
    since: Timestamp,
) -> Result<i64> {
    let since_text = since.to_string();
    let written = count_to(tx, kind, to, since).await?;
    Ok(written + tx.deferred.emails_to(kind, to, &since_text))
}

/// A message rendered and ready to write, its ids drawn.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub id: String,
    pub kind: Kind,
    pub to: String,
    pub rendered: email_template::Rendered,
    /// None when the address is suppressed: nothing is sent.
    pub job_id: Option<String>,
    pub job_subject: String,
    pub job_payload: serde_json::Value,
    pub created_at: String,
    pub program_id: Option<String>,
    pub unsubscribe_url: Option<String>,
}

impl Prepared {
    pub fn status(&self) -> &'static str {
        if self.job_id.is_some() {
            "queued"
        } else {
            "suppressed"
        }
    }
}

async fn prepare(
    conn: &mut AnyConnection,
    kind: Kind,
    to: &str,
    ctx: &serde_json::Value,
    options: QueueOptions<'_>,
) -> Result<Prepared> {
    let scope = options
        .program_id
        .map_or(Scope::Installation, Scope::Program);
    let (template, _) = template(conn, scope, kind).await?;
    let mut rendered = match email_template::render(&template, ctx) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(kind = kind.as_str(), error = %e, "email template override failed; sending the default");
            email_template::render(&kind.default_template(), ctx).map_err(|e| {
                StoreError::Corrupt(format!("default template {}: {e}", kind.as_str()))
            })?
        }
    };
    if let Some(brand) = &options.brand {
        rendered = email_template::branded(rendered, brand);
    }
    if kind.marketing() {
        let url = options.unsubscribe_url.ok_or_else(|| {
            StoreError::Corrupt(format!(
                "{} email without an unsubscribe link",
                kind.as_str()
            ))
        })?;
        rendered = email_template::with_unsubscribe(rendered, url);
    }
    let suppressed = kind.marketing() && is_suppressed(conn, to).await?;
    let id = vouch_domain::id::new_id("eml");
    let job_payload = match options.about {
        Some(about) => serde_json::json!({ "email_id": id, "about": about }),
        None => serde_json::json!({ "email_id": id }),
    };
    Ok(Prepared {
        job_id: (!suppressed).then(|| vouch_domain::id::new_id("job")),
        job_subject: options.about.unwrap_or(&id).to_string(),
        job_payload,
        id,
        kind,
        to: to.to_string(),
        rendered,
        created_at: now(),
        program_id: options.program_id.map(str::to_string),
        unsubscribe_url: options.unsubscribe_url.map(str::to_string),
    })
}

/// Writes gathered messages: their jobs, then the messages, a statement each.
pub(crate) async fn write_prepared(conn: &mut AnyConnection, messages: &[Prepared]) -> Result<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let jobs: Vec<jobs::NewJob<'_>> = messages
        .iter()
        .filter_map(|m| {
            Some(jobs::NewJob {
                id: m.job_id.as_deref()?,
                subject: Some(&m.job_subject),
                payload: &m.job_payload,
            })
        })
        .collect();
    jobs::insert_many(conn, "email", &jobs, MAX_ATTEMPTS).await?;
    let mut sql = crate::query::Sql::new(
        "INSERT INTO email_messages (id, kind, to_address, subject, text_body, html_body, marketing, status, job_id, created_at, program_id, unsubscribe_url) VALUES ",
    );
    sql.push_rows(messages, |row, m| {
        row.bind(&m.id)
            .bind(m.kind.as_str())
            .bind(&m.to)
            .bind(&m.rendered.subject)
            .bind(&m.rendered.text)
            .bind(&m.rendered.html)
            .bind(flag(m.kind.marketing()))
            .bind(m.status())
            .bind(m.job_id.clone())
            .bind(&m.created_at)
            .bind(m.program_id.clone())
            .bind(m.unsubscribe_url.clone());
    });
    sql.execute(conn).await?;
    Ok(())
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<EmailMessage>> {
    let row = sqlx::query("SELECT * FROM email_messages WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Newest first; `limit + 1` rows.
pub async fn list(
    conn: &mut AnyConnection,
    starting_after: Option<&str>,
    limit: i64,
) -> Result<Vec<EmailMessage>> {
    let rows = NewestFirst::table("email_messages")
        .page(conn, starting_after, limit)
        .await?;
    rows.iter().map(from_row).collect()
}

/// Records how a message left: `sent` through SMTP or `stored` in the outbox sink.
pub async fn mark(conn: &mut AnyConnection, id: &str, status: &str, transport: &str) -> Result<()> {
    sqlx::query(
        "UPDATE email_messages SET status = $1, transport = $2, sent_at = $3 WHERE id = $4",
    )
    .bind(status)
    .bind(transport)
    .bind(now())
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Active staff users with one of these roles, for operational notices.
pub async fn staff_recipients(conn: &mut AnyConnection, roles: &[&str]) -> Result<Vec<String>> {
    let users = crate::users::list(conn).await?;
    Ok(users
        .into_iter()
        .filter(|u| u.is_active() && roles.contains(&u.role.as_str()))
        .map(|u| u.email)
        .collect())
}
