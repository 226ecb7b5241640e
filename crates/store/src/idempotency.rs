//! Idempotency keys (Stripe's model, with the IETF draft's status codes): the first response to
//! a key is stored and replayed; the same key with another body is refused; a duplicate that
//! arrives while the first is still running is told to retry later.

use crate::{Result, now};
use sqlx::{AnyConnection, AnyPool, Row};
use vouch_domain::Timestamp;

/// How long a key is kept.
pub const RETENTION_SECONDS: i64 = 48 * 3600;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new; the request may run.
    Fresh,
    /// A finished request with this key and the same body: replay its response.
    Replay { status: u16, body: String },
    /// Same key, different body.
    Mismatch,
    /// Same key, the first request is still running.
    InFlight,
}

/// Claims `key` for this caller. Runs in its own short statement so the claim is visible to a
/// concurrent duplicate at once.
pub async fn claim(pool: &AnyPool, caller: &str, key: &str, request_hash: &str) -> Result<Claim> {
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (caller, idem_key, request_hash, state, created_at)
         VALUES ($1, $2, $3, 'running', $4) ON CONFLICT (caller, idem_key) DO NOTHING",
    )
    .bind(caller)
    .bind(key)
    .bind(request_hash)
    .bind(now())
    .execute(pool)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(Claim::Fresh);
    }
    let row = sqlx::query(
        "SELECT request_hash, state, status_code, response_body, created_at FROM idempotency_keys WHERE caller = $1 AND idem_key = $2",
    )
    .bind(caller)
    .bind(key)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else {
        // Deleted between the two statements (the first request failed): claim again.
        return Box::pin(claim(pool, caller, key, request_hash)).await;
    };
    let stored_hash: String = row.try_get("request_hash")?;
    let created_at: Timestamp = crate::time_col(&row, "created_at")?;
    if created_at < Timestamp::ago(time::Duration::seconds(RETENTION_SECONDS)) {
        release(pool, caller, key).await?;
        return Box::pin(claim(pool, caller, key, request_hash)).await;
    }
    if stored_hash != request_hash {
        return Ok(Claim::Mismatch);
    }
    let state: String = row.try_get("state")?;
    if state != "done" {
        return Ok(Claim::InFlight);
    }
    let status: i64 = row.try_get("status_code")?;
    Ok(Claim::Replay {
        status: u16::try_from(status).unwrap_or(500),
        body: row
            .try_get::<Option<String>, _>("response_body")?
            .unwrap_or_default(),
    })
}

pub async fn complete(
    pool: &AnyPool,
    caller: &str,
    key: &str,
    status: u16,
    body: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE idempotency_keys SET state = 'done', status_code = $1, response_body = $2 WHERE caller = $3 AND idem_key = $4",
    )
    .bind(i64::from(status))
    .bind(body)
    .bind(caller)
    .bind(key)
    .execute(pool)
    .await?;
    Ok(())
}

/// Forgets a claim, so that a request that failed (validation, conflict, crash) may be retried.
pub async fn release(pool: &AnyPool, caller: &str, key: &str) -> Result<()> {
    sqlx::query("DELETE FROM idempotency_keys WHERE caller = $1 AND idem_key = $2")
        .bind(caller)
        .bind(key)
        .execute(pool)
        .await?;
    Ok(())
}

/// Deletes keys past retention.
pub async fn purge(conn: &mut AnyConnection) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(Timestamp::ago(time::Duration::seconds(RETENTION_SECONDS)).to_string())
            .execute(conn)
            .await?
            .rows_affected(),
    )
}
