//! Failed-login throttling: attempts are recorded per email and per client address, and a
//! window query counts recent failures.

use crate::{Result, StoreError, flag, now};
use sqlx::AnyConnection;
use vouch_domain::Timestamp;

pub async fn record(
    conn: &mut AnyConnection,
    email: &str,
    client_ip: &str,
    succeeded: bool,
) -> Result<()> {
    sqlx::query("INSERT INTO login_attempts (id, email, client_ip, succeeded, at) VALUES ($1, $2, $3, $4, $5)")
        .bind(vouch_domain::id::new_id("lga"))
        .bind(email)
        .bind(client_ip)
        .bind(flag(succeeded))
        .bind(now())
        .execute(conn)
        .await?;
    Ok(())
}

/// Failures since `since` for this email and for this address, and the oldest of those
/// failures (from which the caller computes when the window frees up).
pub async fn recent_failures(
    conn: &mut AnyConnection,
    email: &str,
    client_ip: &str,
    since: Timestamp,
) -> Result<(i64, i64, Option<Timestamp>)> {
    let by_email: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM login_attempts WHERE email = $1 AND succeeded = 0 AND at > $2",
    )
    .bind(email)
    .bind(since.to_string())
    .fetch_one(&mut *conn)
    .await?;
    let by_ip: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM login_attempts WHERE client_ip = $1 AND succeeded = 0 AND at > $2",
    )
    .bind(client_ip)
    .bind(since.to_string())
    .fetch_one(&mut *conn)
    .await?;
    let oldest: Option<String> = sqlx::query_scalar(
        "SELECT MIN(at) FROM login_attempts WHERE (email = $1 OR client_ip = $2) AND succeeded = 0 AND at > $3",
    )
    .bind(email)
    .bind(client_ip)
    .bind(since.to_string())
    .fetch_one(conn)
    .await?;
    let oldest = oldest
        .map(|t| Timestamp::parse(&t))
        .transpose()
        .map_err(StoreError::Corrupt)?;
    Ok((by_email, by_ip, oldest))
}

/// Deletes attempts older than `before`; they no longer count toward any window.
pub async fn purge(conn: &mut AnyConnection, before: Timestamp) -> Result<u64> {
    Ok(sqlx::query("DELETE FROM login_attempts WHERE at < $1")
        .bind(before.to_string())
        .execute(conn)
        .await?
        .rows_affected())
}
