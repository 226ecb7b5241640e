//! Users of partner companies: invitations and password resets by one-time link (only the
//! link token's SHA-256 is stored), removal that ends their sessions.

use crate::sessions::{self, Realm};
use crate::{Result, conflict, enum_col, now, time_col};
use sqlx::{AnyConnection, Row};
use vouch_domain::Timestamp;
use vouch_domain::partner_user::PartnerRole;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerUser {
    pub id: String,
    pub partner_id: String,
    pub email: String,
    pub name: String,
    pub role: PartnerRole,
    /// `None` until the invitation is accepted.
    pub password_hash: Option<String>,
    pub token_expires_at: Option<Timestamp>,
    pub invited_by: String,
    pub removed_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl PartnerUser {
    /// May sign in: not removed, and a password is set.
    pub fn is_active(&self) -> bool {
        self.removed_at.is_none() && self.password_hash.is_some()
    }
}

pub(crate) fn from_row(row: &sqlx::any::AnyRow) -> Result<PartnerUser> {
    Ok(PartnerUser {
        id: row.try_get("id")?,
        partner_id: row.try_get("partner_id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        role: enum_col(row, "role")?,
        password_hash: row.try_get("password_hash")?,
        token_expires_at: time_col(row, "token_expires_at")?,
        invited_by: row.try_get("invited_by")?,
        removed_at: time_col(row, "removed_at")?,
        created_at: time_col(row, "created_at")?,
        updated_at: time_col(row, "updated_at")?,
    })
}

/// A new, invited user; the address must not belong to another live user (conflict on
/// `email`).
#[allow(clippy::too_many_arguments)]
pub async fn invite(
    conn: &mut AnyConnection,
    partner_id: &str,
    email: &str,
    name: &str,
    role: PartnerRole,
    token_hash: &str,
    expires_at: Timestamp,
    invited_by: &str,
) -> Result<PartnerUser> {
    let row = sqlx::query(
        "INSERT INTO partner_users (id, partner_id, email, name, role, token_hash, token_expires_at, invited_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING *",
    )
    .bind(vouch_domain::id::new_id("pus"))
    .bind(partner_id)
    .bind(email)
    .bind(name)
    .bind(role.as_str())
    .bind(token_hash)
    .bind(expires_at.to_string())
    .bind(invited_by)
    .bind(now())
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| conflict(e, "partner_users", &["email"]))?;
    from_row(&row)
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<PartnerUser>> {
    let row = sqlx::query("SELECT * FROM partner_users WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The live (not removed) user with this address.
pub async fn by_email(conn: &mut AnyConnection, email: &str) -> Result<Option<PartnerUser>> {
    let row = sqlx::query(
        "SELECT * FROM partner_users WHERE LOWER(email) = LOWER($1) AND removed_at IS NULL",
    )
    .bind(email)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// A partner's live users, oldest first.
pub async fn of_partner(conn: &mut AnyConnection, partner_id: &str) -> Result<Vec<PartnerUser>> {
    let rows = sqlx::query(
        "SELECT * FROM partner_users WHERE partner_id = $1 AND removed_at IS NULL ORDER BY id",
    )
    .bind(partner_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// The live user a one-time link token names, while it has not expired at `at`.
pub async fn by_token(
    conn: &mut AnyConnection,
    token_hash: &str,
    at: Timestamp,
) -> Result<Option<PartnerUser>> {
    let row = sqlx::query(
        "SELECT * FROM partner_users WHERE token_hash = $1 AND removed_at IS NULL AND token_expires_at > $2",
    )
    .bind(token_hash)
    .bind(at.to_string())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Sets the password through a one-time link: the token is used up in the same update, so a
/// second use (or a concurrent one) finds nothing. Ends every other session of the user.
pub async fn set_password_by_token(
    conn: &mut AnyConnection,
    token_hash: &str,
    password_hash: &str,
    at: Timestamp,
) -> Result<Option<PartnerUser>> {
    let row = sqlx::query(
        "UPDATE partner_users SET password_hash = $1, token_hash = NULL, token_expires_at = NULL, updated_at = $2
         WHERE token_hash = $3 AND removed_at IS NULL AND token_expires_at > $4 RETURNING *",
    )
    .bind(password_hash)
    .bind(now())
    .bind(token_hash)
    .bind(at.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(user) = row.as_ref().map(from_row).transpose()? else {
        return Ok(None);
    };
    sessions::delete_for_user(conn, Realm::Partner, &user.id).await?;
    Ok(Some(user))
}

/// Gives a live user a new one-time link (a password reset or a new invitation).
pub async fn set_token(
    conn: &mut AnyConnection,
    id: &str,
    token_hash: &str,
    expires_at: Timestamp,
) -> Result<Option<PartnerUser>> {
    let row = sqlx::query(
        "UPDATE partner_users SET token_hash = $1, token_expires_at = $2, updated_at = $3
         WHERE id = $4 AND removed_at IS NULL RETURNING *",
    )
    .bind(token_hash)
    .bind(expires_at.to_string())
    .bind(now())
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Removes a live user: its link stops working and its sessions end at once. `None` when it
/// was removed already.
pub async fn remove(conn: &mut AnyConnection, id: &str) -> Result<Option<PartnerUser>> {
    let at = now();
    let row = sqlx::query(
        "UPDATE partner_users SET removed_at = $1, token_hash = NULL, token_expires_at = NULL, updated_at = $1
         WHERE id = $2 AND removed_at IS NULL RETURNING *",
    )
    .bind(&at)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(user) = row.as_ref().map(from_row).transpose()? else {
        return Ok(None);
    };
    sessions::delete_for_user(conn, Realm::Partner, &user.id).await?;
    Ok(Some(user))
}
