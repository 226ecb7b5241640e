//! Domain events: written on the caller's connection, inside the transaction of the change that
//! caused them, together with one webhook message (and its delivery job) for every enabled
//! endpoint whose filter matches. Either all of it commits or none.

use crate::{Result, StoreError, now, webhooks};
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use vouch_domain::Timestamp;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub created_at: Timestamp,
    /// The full object as it was after the change.
    pub data: serde_json::Value,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<Event> {
    let data: String = row.try_get("data")?;
    Ok(Event {
        id: row.try_get("id")?,
        event_type: row.try_get("type")?,
        created_at: crate::time_col(row, "created_at")?,
        data: serde_json::from_str(&data).map_err(|e| StoreError::Corrupt(e.to_string()))?,
    })
}

/// Records an event without delivering it anywhere (e.g. a test event aimed at one endpoint).
pub async fn record_only(
    conn: &mut AnyConnection,
    event_type: &str,
    data: &serde_json::Value,
) -> Result<Event> {
    let row = sqlx::query(
        "INSERT INTO events (id, type, created_at, data) VALUES ($1, $2, $3, $4) RETURNING *",
    )
    .bind(vouch_domain::id::new_id("evt"))
    .bind(event_type)
    .bind(now())
    .bind(data.to_string())
    .fetch_one(&mut *conn)
    .await?;
    from_row(&row)
}

/// Records an event and fans it out to the matching webhook endpoints.
pub async fn emit(
    conn: &mut AnyConnection,
    event_type: &str,
    data: &serde_json::Value,
) -> Result<Event> {
    let event = record_only(conn, event_type, data).await?;
    for endpoint in webhooks::enabled(conn).await? {
        if vouch_domain::webhook::filter_matches(&endpoint.event_types, event_type) {
            webhooks::enqueue_message(conn, &endpoint, &event.id).await?;
        }
    }
    Ok(event)
}

/// Records many events, in order, and fans each out as [`emit`] does: the endpoints are read
/// once, and events, jobs and messages are written a thousand to a statement.
pub async fn emit_many(
    conn: &mut AnyConnection,
    events: &[(&str, &serde_json::Value)],
) -> Result<()> {
    let endpoints = webhooks::enabled(conn).await?;
    for chunk in events.chunks(1_000) {
        let ids: Vec<String> = chunk
            .iter()
            .map(|_| vouch_domain::id::new_id("evt"))
            .collect();
        let mut sql =
            crate::query::Sql::new("INSERT INTO events (id, type, created_at, data) VALUES ");
        let at = sql.bind(now());
        sql.push_rows(chunk.iter().zip(&ids), |row, ((event_type, data), id)| {
            row.bind(id)
                .bind(*event_type)
                .placeholder(&at)
                .bind(data.to_string());
        });
        sql.execute(conn).await?;
        let announced = chunk.iter().zip(&ids).map(|((t, _), id)| (*t, id.as_str()));
        let deliveries = webhooks::deliveries_for(&endpoints, announced);
        webhooks::enqueue_messages(conn, &deliveries).await?;
    }
    Ok(())
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Event>> {
    let row = sqlx::query("SELECT * FROM events WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Events of any type since `since` (inclusive), oldest first.
pub async fn since(conn: &mut AnyConnection, since: Timestamp, limit: i64) -> Result<Vec<Event>> {
    // The limit is written into the text: see `Sql::push_limit`.
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT * FROM events WHERE created_at >= $1 ORDER BY id LIMIT {limit}"
    )))
    .bind(since.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}
