//! Webhook endpoints and the messages delivered to them. A message is one event for one
//! endpoint; its `id` is the `webhook-id` header, the same on every retry and resend. Each
//! delivery try is a job whose `subject` is the message id.

use crate::query::NewestFirst;
use crate::{Result, StoreError, flag, jobs, now};
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use vouch_domain::Timestamp;

/// Attempts per message: the first plus every retry of the schedule.
pub const MAX_ATTEMPTS: i64 = 10;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    pub id: String,
    pub url: String,
    pub description: Option<String>,
    /// Event types this endpoint receives (`account.*`, `*`, …); empty means all.
    pub event_types: Vec<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    #[serde(skip)]
    pub secret: String,
    #[serde(skip)]
    pub previous_secret: Option<String>,
    /// Until then, the secret replaced by the last rotation still signs alongside the new one.
    pub previous_secret_expires_at: Option<Timestamp>,
    /// When deliveries started failing without a success since.
    pub failing_since: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Endpoint {
    /// Secrets that sign a delivery now: the current one, and the previous one during its grace
    /// period.
    pub fn signing_secrets(&self, at: Timestamp) -> Vec<&str> {
        let mut out = vec![self.secret.as_str()];
        if let (Some(old), Some(until)) = (&self.previous_secret, &self.previous_secret_expires_at)
            && at < *until
        {
            out.push(old);
        }
        out
    }
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<Endpoint> {
    let types: String = row.try_get("event_types")?;
    Ok(Endpoint {
        id: row.try_get("id")?,
        url: row.try_get("url")?,
        description: row.try_get("description")?,
        event_types: serde_json::from_str(&types)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        enabled: row.try_get::<i64, _>("enabled")? != 0,
        disabled_reason: row.try_get("disabled_reason")?,
        secret: row.try_get("secret")?,
        previous_secret: row.try_get("previous_secret")?,
        previous_secret_expires_at: crate::time_col(row, "previous_secret_expires_at")?,
        failing_since: crate::time_col(row, "failing_since")?,
        created_at: crate::time_col(row, "created_at")?,
        updated_at: crate::time_col(row, "updated_at")?,
    })
}

/// Checked fields of an endpoint.
#[derive(Debug, Clone)]
pub struct EndpointDraft {
    pub url: String,
    pub description: Option<String>,
    pub event_types: Vec<String>,
    pub enabled: bool,
}

pub async fn create(
    conn: &mut AnyConnection,
    draft: &EndpointDraft,
    secret: &str,
) -> Result<Endpoint> {
    let at = now();
    let row = sqlx::query(
        "INSERT INTO webhook_endpoints (id, url, description, event_types, enabled, secret, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING *",
    )
    .bind(vouch_domain::id::new_id("whe"))
    .bind(draft.url.clone())
    .bind(draft.description.clone())
    .bind(serde_json::to_string(&draft.event_types).unwrap_or_else(|_| "[]".into()))
    .bind(flag(draft.enabled))
    .bind(secret)
    .bind(at)
    .fetch_one(&mut *conn)
    .await?;
    from_row(&row)
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Endpoint>> {
    let row = sqlx::query("SELECT * FROM webhook_endpoints WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn list(conn: &mut AnyConnection) -> Result<Vec<Endpoint>> {
    let rows = sqlx::query("SELECT * FROM webhook_endpoints ORDER BY id")
        .fetch_all(conn)
        .await?;
    rows.iter().map(from_row).collect()
}

pub async fn enabled(conn: &mut AnyConnection) -> Result<Vec<Endpoint>> {
    let rows = sqlx::query("SELECT * FROM webhook_endpoints WHERE enabled = 1 ORDER BY id")
        .fetch_all(conn)
        .await?;
    rows.iter().map(from_row).collect()
}

/// Replaces the editable fields. Re-enabling clears the reason and the failure streak.
pub async fn update(
    conn: &mut AnyConnection,
    before: &Endpoint,
    draft: &EndpointDraft,
) -> Result<Endpoint> {
    let row = sqlx::query(
        "UPDATE webhook_endpoints SET url = $1, description = $2, event_types = $3, enabled = $4,
            disabled_reason = CASE WHEN $4 = 1 THEN NULL ELSE disabled_reason END,
            failing_since = CASE WHEN $4 = 1 THEN NULL ELSE failing_since END,
            updated_at = $5
         WHERE id = $6 RETURNING *",
    )
    .bind(draft.url.clone())
    .bind(draft.description.clone())
    .bind(serde_json::to_string(&draft.event_types).unwrap_or_else(|_| "[]".into()))
    .bind(flag(draft.enabled))
    .bind(now())
    .bind(&before.id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// Deletes an endpoint with its messages; their queued deliveries are cancelled.
pub async fn delete(conn: &mut AnyConnection, before: &Endpoint) -> Result<()> {
    sqlx::query(
        "UPDATE jobs SET status = 'cancelled', locked_by = NULL, locked_until = NULL, updated_at = $1
         WHERE status IN ('queued', 'dead') AND subject IN (SELECT id FROM webhook_messages WHERE endpoint_id = $2)",
    )
    .bind(now())
    .bind(&before.id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM webhook_messages WHERE endpoint_id = $1")
        .bind(&before.id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1")
        .bind(&before.id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Replaces the secret; the old one keeps signing until `old_valid_until`.
pub async fn rotate_secret(
    conn: &mut AnyConnection,
    before: &Endpoint,
    new_secret: &str,
    old_valid_until: Timestamp,
) -> Result<Endpoint> {
    let row = sqlx::query(
        "UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_expires_at = $1, secret = $2, updated_at = $3
         WHERE id = $4 RETURNING *",
    )
    .bind(old_valid_until.to_string())
    .bind(new_secret)
    .bind(now())
    .bind(&before.id)
    .fetch_one(&mut *conn)
    .await?;
    from_row(&row)
}

/// A delivery succeeded: the failure streak ends.
pub async fn mark_success(conn: &mut AnyConnection, id: &str) -> Result<()> {
    sqlx::query("UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// A delivery failed: starts the failure streak if none is running; returns its start.
pub async fn mark_failure(conn: &mut AnyConnection, id: &str) -> Result<Option<Timestamp>> {
    sqlx::query(
        "UPDATE webhook_endpoints SET failing_since = $1 WHERE id = $2 AND failing_since IS NULL",
    )
    .bind(now())
    .bind(id)
    .execute(&mut *conn)
    .await?;
    let since: Option<String> =
        sqlx::query_scalar("SELECT failing_since FROM webhook_endpoints WHERE id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await?
            .flatten();
    since
        .map(|t| Timestamp::parse(&t))
        .transpose()
        .map_err(StoreError::Corrupt)
}

/// Turns an endpoint off (410 Gone, or failing for too long) unless it is off already; returns
/// it when this call turned it off.
pub async fn disable(conn: &mut AnyConnection, id: &str, reason: &str) -> Result<Option<Endpoint>> {
    let changed = sqlx::query("UPDATE webhook_endpoints SET enabled = 0, disabled_reason = $1, updated_at = $2 WHERE id = $3 AND enabled = 1")
        .bind(reason)
        .bind(now())
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if changed != 1 {
        return Ok(None);
    }
    get(conn, id).await
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    /// The `webhook-id` header: the same on every retry and resend.
    pub id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    /// The current delivery job.
    pub job_id: String,
    /// `queued`, `running`, `succeeded`, `dead` or `cancelled` (of the current job).
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
}

const MESSAGE_SELECT: &str = "SELECT m.id, m.endpoint_id, m.event_id, e.type AS event_type, m.job_id, j.status, j.attempts, j.run_at, j.last_error, m.created_at
     FROM webhook_messages m JOIN jobs j ON j.id = m.job_id JOIN events e ON e.id = m.event_id";

fn message_from_row(row: &sqlx::any::AnyRow) -> Result<Message> {
    let status: String = row.try_get("status")?;
    let run_at: Timestamp = crate::time_col(row, "run_at")?;
    Ok(Message {
        id: row.try_get("id")?,
        endpoint_id: row.try_get("endpoint_id")?,
        event_id: row.try_get("event_id")?,
        event_type: row.try_get("event_type")?,
        job_id: row.try_get("job_id")?,
        next_attempt_at: (status == "queued").then_some(run_at),
        status,
        attempts: row.try_get("attempts")?,
        last_error: row.try_get("last_error")?,
        created_at: crate::time_col(row, "created_at")?,
    })
}

/// Creates the message of `event_id` for `endpoint` and its first delivery job.
pub async fn enqueue_message(
    conn: &mut AnyConnection,
    endpoint: &Endpoint,
    event_id: &str,
) -> Result<String> {
    let id = vouch_domain::id::new_id("msg");
    let job = jobs::enqueue(
        conn,
        "webhook",
        Some(&id),
        &serde_json::json!({ "message_id": id }),
        MAX_ATTEMPTS,
    )
    .await?;
    sqlx::query("INSERT INTO webhook_messages (id, endpoint_id, event_id, job_id, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&id)
        .bind(&endpoint.id)
        .bind(event_id)
        .bind(&job.id)
        .bind(now())
        .execute(conn)
        .await?;
    Ok(id)
}

/// The deliveries `(endpoint, event id)` of `(type, id)` events: every endpoint of `endpoints`
/// whose filter matches the event's type, for [`enqueue_messages`].
pub(crate) fn deliveries_for<'e, 'a>(
    endpoints: &'e [Endpoint],
    events: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<(&'e Endpoint, &'a str)> {
    events
        .into_iter()
        .flat_map(|(event_type, id)| {
            endpoints
                .iter()
                .filter(move |e| vouch_domain::webhook::filter_matches(&e.event_types, event_type))
                .map(move |e| (e, id))
        })
        .collect()
}

/// [`enqueue_message`] for many (endpoint, event) pairs, a statement per 500 for the jobs and
/// one for their messages.
pub async fn enqueue_messages(
    conn: &mut AnyConnection,
    deliveries: &[(&Endpoint, &str)],
) -> Result<()> {
    for chunk in deliveries.chunks(500) {
        let ids: Vec<String> = chunk
            .iter()
            .map(|_| vouch_domain::id::new_id("msg"))
            .collect();
        let payloads: Vec<(Option<&str>, serde_json::Value)> = ids
            .iter()
            .map(|id| (Some(id.as_str()), serde_json::json!({ "message_id": id })))
            .collect();
        let jobs = jobs::enqueue_many(conn, "webhook", &payloads, MAX_ATTEMPTS).await?;
        let mut sql = crate::query::Sql::new(
            "INSERT INTO webhook_messages (id, endpoint_id, event_id, job_id, created_at) VALUES ",
        );
        let at = sql.bind(now());
        sql.push_rows(
            chunk.iter().zip(ids.iter().zip(&jobs)),
            |row, ((endpoint, event_id), (id, job))| {
                row.bind(id)
                    .bind(&endpoint.id)
                    .bind(*event_id)
                    .bind(job)
                    .placeholder(&at);
            },
        );
        sql.execute(conn).await?;
    }
    Ok(())
}

pub async fn message(conn: &mut AnyConnection, id: &str) -> Result<Option<Message>> {
    let sql = format!("{MESSAGE_SELECT} WHERE m.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(message_from_row).transpose()
}

/// An endpoint's messages, newest first; `limit + 1` rows.
pub async fn messages(
    conn: &mut AnyConnection,
    endpoint_id: &str,
    starting_after: Option<&str>,
    limit: i64,
) -> Result<Vec<Message>> {
    let rows = NewestFirst::select(MESSAGE_SELECT, "m.id")
        .eq("m.endpoint_id", Some(endpoint_id))
        .page(conn, starting_after, limit)
        .await?;
    rows.iter().map(message_from_row).collect()
}

/// Sends a message again (same `webhook-id`) with a fresh set of attempts, unless a delivery of
/// it is already queued or running.
pub async fn resend(conn: &mut AnyConnection, message: &Message) -> Result<Message> {
    if message.status == "queued" || message.status == "running" {
        return Err(StoreError::WrongState {
            code: "delivery_in_progress",
            message: "a delivery of this message is already under way".into(),
        });
    }
    let job = jobs::enqueue(
        conn,
        "webhook",
        Some(&message.id),
        &serde_json::json!({ "message_id": message.id }),
        MAX_ATTEMPTS,
    )
    .await?;
    sqlx::query("UPDATE webhook_messages SET job_id = $1 WHERE id = $2")
        .bind(&job.id)
        .bind(&message.id)
        .execute(&mut *conn)
        .await?;
    self::message(conn, &message.id)
        .await?
        .ok_or(StoreError::NotFound)
}

/// Resends every message of the endpoint created since `since` that is not already under way;
/// returns how many were queued.
pub async fn replay_since(
    conn: &mut AnyConnection,
    endpoint_id: &str,
    since: Timestamp,
) -> Result<i64> {
    let sql = format!(
        "{MESSAGE_SELECT} WHERE m.endpoint_id = $1 AND m.created_at >= $2 AND j.status NOT IN ('queued', 'running') ORDER BY m.id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(endpoint_id)
        .bind(since.to_string())
        .fetch_all(&mut *conn)
        .await?;
    let messages = rows
        .iter()
        .map(message_from_row)
        .collect::<Result<Vec<_>>>()?;
    let mut n = 0;
    for m in &messages {
        let job = jobs::enqueue(
            conn,
            "webhook",
            Some(&m.id),
            &serde_json::json!({ "message_id": m.id }),
            MAX_ATTEMPTS,
        )
        .await?;
        sqlx::query("UPDATE webhook_messages SET job_id = $1 WHERE id = $2")
            .bind(&job.id)
            .bind(&m.id)
            .execute(&mut *conn)
            .await?;
        n += 1;
    }
    Ok(n)
}

/// Everything one delivery needs, read in one query.
#[derive(Debug, Clone)]
pub struct DeliveryTarget {
    pub message_id: String,
    pub endpoint: Endpoint,
    pub event: crate::events::Event,
}

/// The delivery target of each of `message_ids` that still exists, by message id, in one query:
/// a worker reads the targets of every webhook job it claims together.
pub async fn delivery_targets(
    conn: &mut AnyConnection,
    message_ids: &[&str],
) -> Result<std::collections::HashMap<String, DeliveryTarget>> {
    let mut targets = std::collections::HashMap::with_capacity(message_ids.len());
    for chunk in message_ids.chunks(256) {
        let Some(last) = chunk.last() else { continue };
        // Lists padded to a power of two (repeating the last id) keep the kept statements to a
        // handful of lengths, however many jobs a claim brings.
        let padding = chunk.len().next_power_of_two() - chunk.len();
        let mut sql = crate::query::Sql::new(
            "SELECT m.id AS message_id, w.*, e.id AS event_id, e.type AS event_type, e.created_at AS event_created_at, e.data AS event_data
             FROM webhook_messages m JOIN webhook_endpoints w ON w.id = m.endpoint_id JOIN events e ON e.id = m.event_id
             WHERE m.id IN ",
        );
        sql.push_in(
            chunk
                .iter()
                .chain(std::iter::repeat_n(last, padding))
                .copied(),
        );
        for row in sql.fetch_all(conn).await? {
            let target = target_from_row(&row)?;
            targets.insert(target.message_id.clone(), target);
        }
    }
    Ok(targets)
}

fn target_from_row(row: &sqlx::any::AnyRow) -> Result<DeliveryTarget> {
    let data: String = row.try_get("event_data")?;
    Ok(DeliveryTarget {
        message_id: row.try_get("message_id")?,
        endpoint: from_row(row)?,
        event: crate::events::Event {
            id: row.try_get("event_id")?,
            event_type: row.try_get("event_type")?,
            created_at: crate::time_col(row, "event_created_at")?,
            data: serde_json::from_str(&data).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        },
    })
}
