//! API keys. The secret is shown once at creation; only its SHA-256 is stored (the secret has
//! 256 bits of entropy, so a fast hash is enough and keeps the per-request check cheap).

use crate::{Result, StoreError, conflict, now};
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use vouch_domain::Timestamp;
use vouch_domain::permission::Scope;

#[derive(Debug, Clone, Serialize)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub scope: Scope,
    /// The last characters of the secret, so people can tell keys apart.
    pub hint: String,
    pub created_by: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<ApiKey> {
    let scope: String = row.try_get("scope")?;
    Ok(ApiKey {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        scope: scope.parse().map_err(StoreError::Corrupt)?,
        hint: row.try_get("hint")?,
        created_by: row.try_get("created_by")?,
        created_at: crate::time_col(row, "created_at")?,
        last_used_at: crate::time_col(row, "last_used_at")?,
        revoked_at: crate::time_col(row, "revoked_at")?,
    })
}

pub async fn create(
    conn: &mut AnyConnection,
    created_by: &str,
    name: &str,
    scope: Scope,
    secret_hash: &str,
    hint: &str,
) -> Result<ApiKey> {
    let row = sqlx::query(
        "INSERT INTO api_keys (id, name, scope, secret_hash, hint, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
    )
    .bind(vouch_domain::id::new_id("key"))
    .bind(name)
    .bind(scope.as_str())
    .bind(secret_hash)
    .bind(hint)
    .bind(created_by)
    .bind(now())
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| conflict(e, "api_keys", &["secret_hash"]))?;
    from_row(&row)
}

/// The active key with this secret hash. Marks it used at most once a minute, so that a busy
/// integration does not turn every read into a write.
pub async fn authenticate(conn: &mut AnyConnection, secret_hash: &str) -> Result<Option<ApiKey>> {
    let row = sqlx::query("SELECT * FROM api_keys WHERE secret_hash = $1 AND revoked_at IS NULL")
        .bind(secret_hash)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(key) = row.as_ref().map(from_row).transpose()? else {
        return Ok(None);
    };
    let minute_ago = Timestamp::ago(time::Duration::minutes(1));
    if key.last_used_at.is_none_or(|t| t < minute_ago) {
        sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
            .bind(now())
            .bind(&key.id)
            .execute(conn)
            .await?;
    }
    Ok(Some(key))
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<ApiKey>> {
    let row = sqlx::query("SELECT * FROM api_keys WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn list(conn: &mut AnyConnection) -> Result<Vec<ApiKey>> {
    let rows = sqlx::query("SELECT * FROM api_keys ORDER BY id DESC")
        .fetch_all(conn)
        .await?;
    rows.iter().map(from_row).collect()
}

/// Revokes a key unless it is revoked already; returns it as it is afterwards and whether
/// this call revoked it (revoking twice keeps the first time).
pub async fn revoke(conn: &mut AnyConnection, id: &str) -> Result<(ApiKey, bool)> {
    let row = sqlx::query(
        "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING *",
    )
    .bind(now())
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(row) => Ok((from_row(&row)?, true)),
        None => Ok((get(conn, id).await?.ok_or(StoreError::NotFound)?, false)),
    }
}
