//! Staff users of the operator. Passwords arrive here already hashed.

use crate::{Result, StoreError, conflict, now};
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use vouch_domain::Timestamp;
use vouch_domain::permission::Role;

#[derive(Debug, Clone, Serialize)]
pub struct StaffUser {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    #[serde(skip)]
    pub password_hash: String,
    pub disabled_at: Option<Timestamp>,
    /// The IANA time zone they read times in; `None`: the installation's.
    pub time_zone: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl StaffUser {
    pub fn is_active(&self) -> bool {
        self.disabled_at.is_none()
    }
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<StaffUser> {
    let role: String = row.try_get("role")?;
    Ok(StaffUser {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        role: role.parse().map_err(StoreError::Corrupt)?,
        password_hash: row.try_get("password_hash")?,
        disabled_at: crate::time_col(row, "disabled_at")?,
        time_zone: row.try_get("time_zone")?,
        created_at: crate::time_col(row, "created_at")?,
        updated_at: crate::time_col(row, "updated_at")?,
    })
}

pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub password_hash: &'a str,
}

pub async fn create(conn: &mut AnyConnection, new: NewUser<'_>) -> Result<StaffUser> {
    let at = now();
    let row = sqlx::query(
        "INSERT INTO staff_users (id, email, name, role, password_hash, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING *",
    )
    .bind(vouch_domain::id::new_id("usr"))
    .bind(new.email)
    .bind(new.name)
    .bind(new.role.as_str())
    .bind(new.password_hash)
    .bind(at)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| conflict(e, "staff_users", &["email"]))?;
    from_row(&row)
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<StaffUser>> {
    let row = sqlx::query("SELECT * FROM staff_users WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn by_email(conn: &mut AnyConnection, email: &str) -> Result<Option<StaffUser>> {
    let row = sqlx::query("SELECT * FROM staff_users WHERE email = $1")
        .bind(email)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn list(conn: &mut AnyConnection) -> Result<Vec<StaffUser>> {
    let rows = sqlx::query("SELECT * FROM staff_users ORDER BY email")
        .fetch_all(conn)
        .await?;
    rows.iter().map(from_row).collect()
}

pub async fn count(conn: &mut AnyConnection) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM staff_users")
        .fetch_one(conn)
        .await?)
}

/// Changes role and/or disables or re-enables a user. Disabling also ends the user's sessions
/// in the same transaction.
pub async fn update(
    conn: &mut AnyConnection,
    before: &StaffUser,
    role: Role,
    disabled: bool,
) -> Result<StaffUser> {
    let at = now();
    let disabled_at = match (disabled, &before.disabled_at) {
        (true, Some(t)) => Some(t.to_string()),
        (true, None) => Some(at.clone()),
        (false, _) => None,
    };
    let row = sqlx::query(
        "UPDATE staff_users SET role = $1, disabled_at = $2, updated_at = $3 WHERE id = $4 RETURNING *",
    )
    .bind(role.as_str())
    .bind(disabled_at)
    .bind(at)
    .bind(&before.id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    let after = from_row(&row)?;
    if disabled {
        crate::sessions::delete_for_user(conn, crate::sessions::Realm::Staff, &after.id).await?;
    }
    Ok(after)
}

/// Sets the time zone the user reads times in (`None`: the installation's).
pub async fn set_time_zone(
    conn: &mut AnyConnection,
    user_id: &str,
    time_zone: Option<&str>,
) -> Result<()> {
    sqlx::query("UPDATE staff_users SET time_zone = $1, updated_at = $2 WHERE id = $3")
        .bind(time_zone)
        .bind(now())
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Replaces the password hash. Other sessions of the user end; the caller keeps the current one.
pub async fn set_password(
    conn: &mut AnyConnection,
    user_id: &str,
    password_hash: &str,
    keep_session_hash: Option<&str>,
) -> Result<()> {
    sqlx::query("UPDATE staff_users SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(password_hash)
        .bind(now())
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
        .bind(user_id)
        .bind(keep_session_hash.unwrap_or_default())
        .execute(&mut *conn)
        .await?;
    Ok(())
}
