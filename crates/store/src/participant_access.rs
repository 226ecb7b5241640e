//! Participants' access to their referral page: single-use login tokens (magic links) and the
//! sessions they open. Tokens are random; only their SHA-256 is stored, so a leaked database
//! opens no page.

use crate::{Result, now};
use sqlx::{AnyConnection, Row};
use vouch_domain::Timestamp;

fn hash(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A fresh random token (256 bits, URL-safe hex).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    hex::encode(bytes)
}

/// Stores a login token for a participant, valid until `expires_at`.
pub async fn create_login_token(
    conn: &mut AnyConnection,
    participant_id: &str,
    token: &str,
    expires_at: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO participant_login_tokens (token_hash, participant_id, expires_at, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(hash(token))
    .bind(participant_id)
    .bind(expires_at.to_string())
    .bind(now())
    .execute(conn)
    .await?;
    Ok(())
}

/// Uses a login token: the participant it was for, if it is unused and unexpired. The update
/// is guarded, so a token can be used once even when two requests race.
pub async fn use_login_token(conn: &mut AnyConnection, token: &str) -> Result<Option<String>> {
    let at = now();
    let row = sqlx::query(
        "UPDATE participant_login_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING participant_id",
    )
    .bind(&at)
    .bind(hash(token))
    .fetch_optional(conn)
    .await?;
    row.map(|r| r.try_get("participant_id").map_err(Into::into))
        .transpose()
}

/// Whether a login token is still usable (for the page that asks to continue).
pub async fn login_token_usable(conn: &mut AnyConnection, token: &str) -> Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM participant_login_tokens WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(hash(token))
    .bind(now())
    .fetch_one(conn)
    .await?;
    Ok(n > 0)
}

pub async fn create_session(
    conn: &mut AnyConnection,
    participant_id: &str,
    token: &str,
    expires_at: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO participant_sessions (token_hash, participant_id, expires_at, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(hash(token))
    .bind(participant_id)
    .bind(expires_at.to_string())
    .bind(now())
    .execute(conn)
    .await?;
    Ok(())
}

/// The participant of a live session.
pub async fn session_participant(conn: &mut AnyConnection, token: &str) -> Result<Option<String>> {
    let row = sqlx::query(
        "SELECT participant_id FROM participant_sessions WHERE token_hash = $1 AND expires_at > $2",
    )
    .bind(hash(token))
    .bind(now())
    .fetch_optional(conn)
    .await?;
    row.map(|r| r.try_get("participant_id").map_err(Into::into))
        .transpose()
}

/// Deletes expired tokens and sessions (housekeeping).
pub async fn purge(conn: &mut AnyConnection) -> Result<u64> {
    let at = now();
    let a = sqlx::query("DELETE FROM participant_login_tokens WHERE expires_at <= $1")
        .bind(&at)
        .execute(&mut *conn)
        .await?;
    let b = sqlx::query("DELETE FROM participant_sessions WHERE expires_at <= $1")
        .bind(&at)
        .execute(conn)
        .await?;
    Ok(a.rows_affected() + b.rows_affected())
}

/// Login tokens made for a participant since `since` (to cap magic-link emails).
pub async fn login_tokens_since(
    conn: &mut AnyConnection,
    participant_id: &str,
    since: Timestamp,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM participant_login_tokens WHERE participant_id = $1 AND created_at >= $2",
    )
    .bind(participant_id)
    .bind(since.to_string())
    .fetch_one(conn)
    .await?)
}
