//! Email: template overrides, the outbox and suppressions. A message is rendered when it is
//! queued, in the transaction of the change that causes it, so the outbox shows exactly what
//! goes out; the worker only sends it. A broken override never blocks mail: the shipped default
//! is used instead and the failure is logged.

use crate::audit::{self, Origin};
use crate::{Result, StoreError, flag, jobs, now};
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use vouch_domain::email_template::{self, Kind, Template};

/// Attempts per email before it is dead.
pub const MAX_ATTEMPTS: i64 = 10;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
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
    pub created_at: String,
    pub sent_at: Option<String>,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<EmailMessage> {
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
        created_at: row.try_get("created_at")?,
        sent_at: row.try_get("sent_at")?,
    })
}

/// The operator's override of a kind's template, if any.
pub async fn template_override(conn: &mut AnyConnection, kind: Kind) -> Result<Option<Template>> {
    let row =
        sqlx::query("SELECT subject, text_body, html_body FROM email_templates WHERE kind = $1")
            .bind(kind.as_str())
            .fetch_optional(conn)
            .await?;
    row.map(|r| {
        Ok(Template {
            subject: r.try_get("subject")?,
            text: r.try_get("text_body")?,
            html: r.try_get("html_body")?,
        })
    })
    .transpose()
}

/// The template in force: the override, or the shipped default.
pub async fn template(conn: &mut AnyConnection, kind: Kind) -> Result<Template> {
    Ok(template_override(conn, kind)
        .await?
        .unwrap_or_else(|| kind.default_template()))
}

/// Saves an override (checked by the caller).
pub async fn save_template(
    conn: &mut AnyConnection,
    origin: &Origin,
    kind: Kind,
    t: &Template,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO email_templates (kind, subject, text_body, html_body, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (kind) DO UPDATE SET subject = $2, text_body = $3, html_body = $4, updated_by = $5, updated_at = $6",
    )
    .bind(kind.as_str())
    .bind(&t.subject)
    .bind(&t.text)
    .bind(&t.html)
    .bind(origin.actor.label.clone())
    .bind(now())
    .execute(&mut *conn)
    .await?;
    let after = serde_json::to_value(t).unwrap_or_default();
    audit::record(
        conn,
        origin,
        "email_template.saved",
        "email_template",
        Some(kind.as_str()),
        None,
        Some(&after),
    )
    .await
}

/// Drops an override; the shipped default applies again.
pub async fn reset_template(conn: &mut AnyConnection, origin: &Origin, kind: Kind) -> Result<()> {
    sqlx::query("DELETE FROM email_templates WHERE kind = $1")
        .bind(kind.as_str())
        .execute(&mut *conn)
        .await?;
    audit::record(
        conn,
        origin,
        "email_template.reset",
        "email_template",
        Some(kind.as_str()),
        None,
        None,
    )
    .await
}

pub async fn is_suppressed(conn: &mut AnyConnection, email: &str) -> Result<bool> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM email_suppressions WHERE email = $1")
        .bind(email.to_lowercase())
        .fetch_one(conn)
        .await?;
    Ok(n > 0)
}

pub async fn suppress(conn: &mut AnyConnection, email: &str, reason: &str) -> Result<()> {
    sqlx::query("INSERT INTO email_suppressions (email, reason, created_at) VALUES ($1, $2, $3) ON CONFLICT (email) DO NOTHING")
        .bind(email.to_lowercase())
        .bind(reason)
        .bind(now())
        .execute(conn)
        .await?;
    Ok(())
}

/// Renders `kind` for `to` with `ctx` and queues it, on the caller's connection. Marketing
/// mail to a suppressed address is recorded as `suppressed` and never sent.
pub async fn queue(
    conn: &mut AnyConnection,
    kind: Kind,
    to: &str,
    ctx: &serde_json::Value,
) -> Result<EmailMessage> {
    let template = template(conn, kind).await?;
    let rendered = match email_template::render(&template, ctx) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(kind = kind.as_str(), error = %e, "email template override failed; sending the default");
            email_template::render(&kind.default_template(), ctx).map_err(|e| {
                StoreError::Corrupt(format!("default template {}: {e}", kind.as_str()))
            })?
        }
    };
    let suppressed = kind.marketing() && is_suppressed(conn, to).await?;
    let id = vouch_domain::id::new_id("eml");
    let job_id = if suppressed {
        None
    } else {
        Some(
            jobs::enqueue(
                conn,
                "email",
                Some(&id),
                &serde_json::json!({ "email_id": id }),
                MAX_ATTEMPTS,
            )
            .await?
            .id,
        )
    };
    let row = sqlx::query(
        "INSERT INTO email_messages (id, kind, to_address, subject, text_body, html_body, marketing, status, job_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *",
    )
    .bind(&id)
    .bind(kind.as_str())
    .bind(to)
    .bind(rendered.subject)
    .bind(rendered.text)
    .bind(rendered.html)
    .bind(flag(kind.marketing()))
    .bind(if suppressed { "suppressed" } else { "queued" })
    .bind(job_id)
    .bind(now())
    .fetch_one(conn)
    .await?;
    from_row(&row)
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
    let rows = match starting_after {
        Some(after) => {
            sqlx::query("SELECT * FROM email_messages WHERE id < $1 ORDER BY id DESC LIMIT $2")
                .bind(after)
                .bind(limit + 1)
                .fetch_all(conn)
                .await?
        }
        None => {
            sqlx::query("SELECT * FROM email_messages ORDER BY id DESC LIMIT $1")
                .bind(limit + 1)
                .fetch_all(conn)
                .await?
        }
    };
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
