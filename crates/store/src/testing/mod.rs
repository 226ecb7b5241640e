//! Fresh databases for tests: a new SQLite file, or a new PostgreSQL database on the server
//! named by `VOUCH_TEST_POSTGRES_URL`. Lives in the library (not under `tests/`) so the server's
//! and the binary's tests use the same helper.

pub mod replica;

use crate::{Backend, Result, Store, StoreError};
use sqlx::{Connection, Executor};

pub const POSTGRES_ENV: &str = "VOUCH_TEST_POSTGRES_URL";

/// The stores a test should run on: always SQLite, and PostgreSQL when configured.
pub fn backends() -> Vec<Backend> {
    let mut out = vec![Backend::Sqlite];
    if std::env::var(POSTGRES_ENV).is_ok_and(|v| !v.is_empty()) {
        out.push(Backend::Postgres);
    }
    out
}

/// A URL to an empty, not yet migrated database of this kind.
pub async fn fresh_database_url(backend: Backend) -> Result<String> {
    let name = format!(
        "vouch_t_{}_{}",
        time::OffsetDateTime::now_utc().unix_timestamp(),
        vouch_domain::id::new_id("db")
            .trim_start_matches("db_")
            .get(10..)
            .unwrap_or("x")
    );
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join("vouch-tests");
            std::fs::create_dir_all(&dir).map_err(|e| StoreError::Config(e.to_string()))?;
            Ok(format!(
                "sqlite://{}",
                dir.join(format!("{name}.db")).display()
            ))
        }
        Backend::Postgres => {
            let admin_url = std::env::var(POSTGRES_ENV)
                .map_err(|_| StoreError::Config(format!("{POSTGRES_ENV} is not set")))?;
            sqlx::any::install_default_drivers();
            let mut admin = sqlx::AnyConnection::connect(&admin_url).await?;
            drop_stale(&mut admin).await;
            admin
                .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .await?;
            admin.close().await?;
            let (base, _db) = admin_url.rsplit_once('/').ok_or_else(|| {
                StoreError::Config(format!("{POSTGRES_ENV} must end in /DATABASE"))
            })?;
            Ok(format!("{base}/{name}"))
        }
    }
}

/// Test databases older than two hours are left-overs of interrupted runs.
async fn drop_stale(admin: &mut sqlx::AnyConnection) {
    let cutoff = time::OffsetDateTime::now_utc().unix_timestamp() - 7200;
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'vouch_t_%'")
            .fetch_all(&mut *admin)
            .await
            .unwrap_or_default();
    for name in names {
        let stamp = name.split('_').nth(2).and_then(|s| s.parse::<i64>().ok());
        if stamp.is_some_and(|s| s < cutoff) {
            let _ = admin
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .await;
        }
    }
}

/// A migrated store on a fresh database.
pub async fn fresh_store(backend: Backend) -> Result<Store> {
    let url = fresh_database_url(backend).await?;
    let store = Store::connect(&url, 5).await?;
    store.migrate().await?;
    Ok(store)
}

/// A store on a fresh database migrated up to `version` only (for tests of a migration that
/// finds data already there); [`Store::migrate`] takes it the rest of the way.
pub async fn store_migrated_to(backend: Backend, version: i64) -> Result<Store> {
    let url = fresh_database_url(backend).await?;
    let store = Store::connect(&url, 5).await?;
    crate::migrate::migrator(backend)
        .run_to(version, store.pool())
        .await?;
    Ok(store)
}
