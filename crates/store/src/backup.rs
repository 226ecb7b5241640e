//! Backups of an SQLite installation: a consistent copy taken while Vouch runs (`VACUUM INTO`
//! reads one snapshot, so writers carry on and the copy holds no half-written transaction), and
//! the checks a file passes before it replaces a database. PostgreSQL has `pg_dump` and
//! `pg_restore`, which do this better than Vouch could.

use crate::{Backend, Result, Store, StoreError, migrate};
use std::path::Path;

/// What `vouch backup` says on PostgreSQL.
pub const POSTGRES_GUIDANCE: &str = "vouch backup copies SQLite databases. For PostgreSQL use its own tools, which take a consistent copy of a running database:
  pg_dump --format=custom --file=vouch.dump \"$VOUCH_DATABASE_URL\"
and to restore into an empty database:
  pg_restore --no-owner --dbname=\"$VOUCH_DATABASE_URL\" vouch.dump
then start Vouch against it (it migrates a backup from an older version on start).";

impl Store {
    /// Writes a consistent copy of the SQLite database to `to`, which must not exist yet.
    pub async fn backup_to(&self, to: &Path) -> Result<()> {
        if self.backend() != Backend::Sqlite {
            return Err(StoreError::Config(POSTGRES_GUIDANCE.into()));
        }
        if to.exists() {
            return Err(StoreError::Config(format!(
                "{} already exists; choose a new file name",
                to.display()
            )));
        }
        let target = to
            .to_str()
            .ok_or_else(|| StoreError::Config("the backup path must be valid UTF-8".into()))?;
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// Checks that `file` is a Vouch SQLite backup this version can serve: the file is a sound
/// SQLite database, it holds Vouch's migrations, and none of them is newer than this binary.
/// Returns the backup's schema version.
pub async fn check_sqlite_backup(file: &Path) -> Result<i64> {
    let path = file
        .to_str()
        .ok_or_else(|| StoreError::Config("the backup path must be valid UTF-8".into()))?;
    if !file.is_file() {
        return Err(StoreError::Config(format!("{path} is not a file")));
    }
    use sqlx::Connection;
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(file)
        .read_only(true);
    let mut conn = sqlx::sqlite::SqliteConnection::connect_with(&options)
        .await
        .map_err(|_| {
            StoreError::Config(format!("{path} cannot be opened as an SQLite database"))
        })?;
    let checked = async {
        let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&mut conn)
            .await
            .map_err(|_| StoreError::Config(format!("{path} is not an SQLite database")))?;
        if integrity != "ok" {
            return Err(StoreError::Config(format!(
                "{path} is damaged: {integrity}"
            )));
        }
        let version: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(version) FROM _sqlx_migrations WHERE success = TRUE",
        )
        .fetch_one(&mut conn)
        .await
        .map_err(|_| StoreError::Config(format!("{path} is not a Vouch database")))?;
        let version =
            version.ok_or_else(|| StoreError::Config(format!("{path} is not a Vouch database")))?;
        if version > migrate::latest_version(Backend::Sqlite) {
            return Err(StoreError::Config(format!(
                "{path} was made by a newer version of Vouch (schema {version}); restore it with that version"
            )));
        }
        Ok(version)
    }
    .await;
    let _ = conn.close().await;
    checked
}

/// Folds an SQLite database's write-ahead log into the file and empties the log, so the file
/// alone holds every committed transaction (before it is moved aside by a restore).
pub async fn checkpoint_sqlite(file: &Path) -> Result<()> {
    use sqlx::Connection;
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(file);
    let mut conn = sqlx::sqlite::SqliteConnection::connect_with(&options).await?;
    let done = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await;
    let _ = conn.close().await;
    done?;
    Ok(())
}
