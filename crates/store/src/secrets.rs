//! Installation secrets: random keys generated on first use and kept in the database, so that
//! every process of an installation shares them and a restart does not change them (visitor
//! hashes of clicks stay comparable; unsubscribe links keep working).

use crate::{Result, StoreError, now};
use sqlx::AnyConnection;

/// The secret called `name`, created (32 random bytes) if it does not exist yet. Two processes
/// starting at once agree on one value: the insert that loses the race does nothing.
pub async fn get_or_create(conn: &mut AnyConnection, name: &str) -> Result<Vec<u8>> {
    let mut fresh = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut fresh);
    sqlx::query(
        "INSERT INTO installation_secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(hex::encode(fresh))
    .bind(now())
    .execute(&mut *conn)
    .await?;
    let value: String =
        sqlx::query_scalar("SELECT value FROM installation_secrets WHERE name = $1")
            .bind(name)
            .fetch_one(conn)
            .await?;
    hex::decode(value).map_err(|e| StoreError::Corrupt(format!("secret {name}: {e}")))
}
