//! Sessions of staff users and of partner users, in two tables: a token of one realm never
//! names a session of the other, so a staff cookie never opens the partner portal nor the
//! reverse. The cookie carries a random token; only its SHA-256 is stored, so a leaked
//! database does not leak live sessions.

use crate::{Result, now};
use sqlx::{AnyConnection, Row};
use vouch_domain::Timestamp;

/// Whose sessions: staff users' (`sessions`) or partner users' (`partner_sessions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Realm {
    Staff,
    Partner,
}

impl Realm {
    fn table(self) -> &'static str {
        match self {
            Realm::Staff => "sessions",
            Realm::Partner => "partner_sessions",
        }
    }
}

/// `text` with `{table}` replaced by the realm's table: the only text put into these queries,
/// from a fixed pair of names.
fn sql(realm: Realm, text: &str) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(text.replace("{table}", realm.table()))
}

#[derive(Debug, Clone)]
pub struct Session {
    pub token_hash: String,
    pub user_id: String,
    pub csrf_token: String,
    pub flash: Option<String>,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<Session> {
    Ok(Session {
        token_hash: row.try_get("token_hash")?,
        user_id: row.try_get("user_id")?,
        csrf_token: row.try_get("csrf_token")?,
        flash: row.try_get("flash")?,
        created_at: crate::time_col(row, "created_at")?,
        last_seen_at: crate::time_col(row, "last_seen_at")?,
    })
}

pub async fn create(
    conn: &mut AnyConnection,
    realm: Realm,
    token_hash: &str,
    user_id: &str,
    csrf_token: &str,
) -> Result<()> {
    let at = now();
    sqlx::query(sql(realm, "INSERT INTO {table} (token_hash, user_id, csrf_token, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $4)"))
    .bind(token_hash)
    .bind(user_id)
    .bind(csrf_token)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The live session for this token hash: not idle since `idle_since` and created after
/// `created_since`. Expired sessions are deleted on the way. A hit refreshes `last_seen_at`
/// and takes the pending flash message.
pub async fn touch(
    conn: &mut AnyConnection,
    realm: Realm,
    token_hash: &str,
    idle_since: Timestamp,
    created_since: Timestamp,
    take_flash: bool,
) -> Result<Option<Session>> {
    let row = sqlx::query(sql(realm, "SELECT * FROM {table} WHERE token_hash = $1"))
        .bind(token_hash)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(session) = row.as_ref().map(from_row).transpose()? else {
        return Ok(None);
    };
    if session.last_seen_at < idle_since || session.created_at < created_since {
        delete(conn, realm, token_hash).await?;
        return Ok(None);
    }
    let text = if take_flash {
        "UPDATE {table} SET last_seen_at = $1, flash = NULL WHERE token_hash = $2"
    } else {
        "UPDATE {table} SET last_seen_at = $1 WHERE token_hash = $2"
    };
    sqlx::query(sql(realm, text))
        .bind(now())
        .bind(token_hash)
        .execute(conn)
        .await?;
    let flash = if take_flash {
        session.flash.clone()
    } else {
        None
    };
    Ok(Some(Session { flash, ..session }))
}

pub async fn set_flash(
    conn: &mut AnyConnection,
    realm: Realm,
    token_hash: &str,
    message: &str,
) -> Result<()> {
    sqlx::query(sql(
        realm,
        "UPDATE {table} SET flash = $1 WHERE token_hash = $2",
    ))
    .bind(message)
    .bind(token_hash)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete(conn: &mut AnyConnection, realm: Realm, token_hash: &str) -> Result<()> {
    sqlx::query(sql(realm, "DELETE FROM {table} WHERE token_hash = $1"))
        .bind(token_hash)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete_for_user(conn: &mut AnyConnection, realm: Realm, user_id: &str) -> Result<()> {
    sqlx::query(sql(realm, "DELETE FROM {table} WHERE user_id = $1"))
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes sessions idle since `idle_since` or created before `created_since`.
pub async fn purge(
    conn: &mut AnyConnection,
    realm: Realm,
    idle_since: Timestamp,
    created_since: Timestamp,
) -> Result<u64> {
    Ok(sqlx::query(sql(
        realm,
        "DELETE FROM {table} WHERE last_seen_at < $1 OR created_at < $2",
    ))
    .bind(idle_since.to_string())
    .bind(created_since.to_string())
    .execute(conn)
    .await?
    .rows_affected())
}
