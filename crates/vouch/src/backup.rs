//! `vouch backup` and `vouch restore`: an SQLite installation copied while it runs, and put
//! back after the copy is checked. PostgreSQL installations are pointed to pg_dump.

use crate::config::Config;
use anyhow::{Context, bail};
use std::path::Path;
use vouch_store::backup::{POSTGRES_GUIDANCE, check_sqlite_backup};
use vouch_store::{Backend, Store};

pub async fn backup(store: &Store, file: &Path) -> anyhow::Result<()> {
    if store.backend() == Backend::Postgres {
        bail!("{POSTGRES_GUIDANCE}");
    }
    store.backup_to(file).await?;
    let bytes = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    println!(
        "backed up to {} ({} KiB); restore it with: vouch restore {}",
        file.display(),
        bytes.div_ceil(1024),
        file.display()
    );
    Ok(())
}

/// Checks the backup, then puts it in place of the configured database: copied beside it and
/// renamed over it (so a crash midway leaves the old database or the new one, never half of
/// one), with the old database's write-ahead log removed first (it belongs to the old file).
/// Then migrates, so a backup from an older version is brought up to date.
pub async fn restore(config: &Config, file: &Path, force: bool) -> anyhow::Result<()> {
    if Backend::from_url(&config.database_url)? == Backend::Postgres {
        bail!("{POSTGRES_GUIDANCE}");
    }
    let version = check_sqlite_backup(file).await?;
    let target = vouch_store::sqlite_file(&config.database_url)?;
    let has_data = std::fs::metadata(&target).is_ok_and(|m| m.len() > 0);
    if has_data && !force {
        bail!(
            "{} already holds a database; stop Vouch and pass --force to replace it",
            target.display()
        );
    }
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the folder {}", dir.display()))?;
    }
    let staging = target.with_extension("restoring");
    std::fs::copy(file, &staging)
        .with_context(|| format!("cannot copy {} to {}", file.display(), staging.display()))?;
    for suffix in ["-wal", "-shm"] {
        let side = format!("{}{suffix}", target.display());
        match std::fs::remove_file(&side) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot remove {side}")),
        }
    }
    std::fs::rename(&staging, &target)
        .with_context(|| format!("cannot move the backup into {}", target.display()))?;
    let store = Store::connect(&config.database_url, 1).await?;
    store
        .migrate()
        .await
        .context("migrating the restored database")?;
    store.close().await;
    println!(
        "restored {} into {} (schema {version}); start it with: vouch serve",
        file.display(),
        target.display()
    );
    Ok(())
}
