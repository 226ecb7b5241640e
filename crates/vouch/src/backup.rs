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

/// Copies the backup beside the configured database, checks the copy (so what is checked is
/// what is installed), and renames it over the database. The database it replaces is first
/// checkpointed (its write-ahead log folded into the file) and kept beside it as
/// `*.before-restore`, so nothing committed is ever lost; a crash midway leaves the old
/// database or the new one. Then migrates, so a backup from an older version is brought up to
/// date. Stop Vouch first: a server still running would write to a file that is no longer
/// the database.
pub async fn restore(config: &Config, file: &Path, force: bool) -> anyhow::Result<()> {
    if Backend::from_url(&config.database_url)? == Backend::Postgres {
        bail!("{POSTGRES_GUIDANCE}");
    }
    let target = vouch_store::sqlite_file(&config.database_url)?;
    let has_data = std::fs::metadata(&target).is_ok_and(|m| m.len() > 0);
    if has_data && !force {
        bail!(
            "{} already holds a database; stop Vouch and pass --force to replace it",
            target.display()
        );
    }
    if !file.is_file() {
        bail!("{} is not a file", file.display());
    }
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the folder {}", dir.display()))?;
    }
    let staging = target.with_extension("restoring");
    std::fs::copy(file, &staging)
        .with_context(|| format!("cannot copy {} to {}", file.display(), staging.display()))?;
    std::fs::File::open(&staging)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot write {} to disk", staging.display()))?;
    let version = match check_sqlite_backup(&staging).await {
        Ok(v) => v,
        Err(e) => {
            let _ = std::fs::remove_file(&staging);
            bail!("{}: {e}", file.display());
        }
    };
    if has_data {
        vouch_store::backup::checkpoint_sqlite(&target).await?;
        let kept = target.with_extension("before-restore");
        std::fs::rename(&target, &kept)
            .with_context(|| format!("cannot keep the old database as {}", kept.display()))?;
        println!("the database it replaces is kept as {}", kept.display());
    }
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
