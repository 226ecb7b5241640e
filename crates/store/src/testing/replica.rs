//! A PostgreSQL primary and a streaming replica of it, two clusters of the machine's own
//! PostgreSQL binaries in a scratch folder on free loopback ports, for tests of
//! `database_read_url`. The harness makes its own primary rather than replicating the shared
//! server: that one's `pg_hba.conf` need not allow replication, and a test must not change it.
//!
//! PostgreSQL refuses to run as root: as root the clusters run as the `postgres` user.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

type Result<T> = std::result::Result<T, String>;

/// Both clusters; stopped and removed when dropped.
pub struct StreamingPair {
    dir: PathBuf,
    bin: PathBuf,
    /// The primary's `postgres` database.
    pub primary_url: String,
    /// The same database on the replica (read-only, replaying the primary's WAL).
    pub replica_url: String,
}

impl StreamingPair {
    /// initdb a primary, copy it with `pg_basebackup -R` and start the copy as its standby.
    /// Takes a few seconds.
    pub fn start() -> Result<Self> {
        let bin = postgres_bin()?;
        let (primary_port, replica_port) = free_ports()?;
        let dir = scratch_dir()?;
        let pair = Self {
            primary_url: format!("postgres://postgres@127.0.0.1:{primary_port}/postgres"),
            replica_url: format!("postgres://postgres@127.0.0.1:{replica_port}/postgres"),
            dir,
            bin,
        };
        let primary = pair.dir.join("primary");
        pair.run(
            "initdb",
            &[
                "-D",
                path(&primary)?,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        )?;
        // initdb's trust `pg_hba.conf` already lets loopback replication connections in.
        pair.configure(&primary, primary_port)?;
        pair.pg_ctl(&primary, "start")?;
        let replica = pair.dir.join("replica");
        pair.run(
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &primary_port.to_string(),
                "-U",
                "postgres",
                "-D",
                path(&replica)?,
                "-R",
                "-X",
                "stream",
                "--no-sync",
            ],
        )?;
        pair.configure(&replica, replica_port)?;
        pair.pg_ctl(&replica, "start")?;
        Ok(pair)
    }

    /// Waits until the replica has replayed everything the primary has written so far.
    pub async fn caught_up(&self) -> Result<()> {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut primary = sqlx::AnyConnection::connect(&self.primary_url)
            .await
            .map_err(|e| e.to_string())?;
        let lsn: String = sqlx::query_scalar("SELECT pg_current_wal_lsn()::text")
            .fetch_one(&mut primary)
            .await
            .map_err(|e| e.to_string())?;
        let mut replica = sqlx::AnyConnection::connect(&self.replica_url)
            .await
            .map_err(|e| e.to_string())?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let done: bool = sqlx::query_scalar(
                "SELECT COALESCE(pg_last_wal_replay_lsn() >= CAST($1 AS pg_lsn), FALSE)",
            )
            .bind(&lsn)
            .fetch_one(&mut replica)
            .await
            .map_err(|e| e.to_string())?;
            if done {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("the replica did not replay up to {lsn} in 30 s"));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops (`true`) or resumes (`false`) the replica's replay: what the primary writes in
    /// between stays invisible on the replica, as under replication lag.
    pub async fn pause_replay(&self, paused: bool) -> Result<()> {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut replica = sqlx::AnyConnection::connect(&self.replica_url)
            .await
            .map_err(|e| e.to_string())?;
        let call = if paused {
            "SELECT CAST(pg_wal_replay_pause() AS TEXT)"
        } else {
            "SELECT CAST(pg_wal_replay_resume() AS TEXT)"
        };
        sqlx::query(call)
            .execute(&mut replica)
            .await
            .map_err(|e| e.to_string())?;
        Ok(())
    }

    /// Stops the replica at once, as a crashed or unreachable one.
    pub fn stop_replica(&self) -> Result<()> {
        self.pg_ctl(&self.dir.join("replica"), "stop")
    }

    fn configure(&self, data: &Path, port: u16) -> Result<()> {
        use std::io::Write;
        let settings = format!(
            "\n# vouch test harness\nport = {port}\nlisten_addresses = '127.0.0.1'\n\
             unix_socket_directories = '{}'\nfsync = off\nfull_page_writes = off\n\
             wal_level = replica\nmax_wal_senders = 4\nshared_buffers = 16MB\n",
            self.dir.display()
        );
        // Root may append to the postgres user's file; its owner stays the same.
        let mut conf = std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))
            .map_err(|e| e.to_string())?;
        conf.write_all(settings.as_bytes())
            .map_err(|e| e.to_string())
    }

    fn pg_ctl(&self, data: &Path, action: &str) -> Result<()> {
        let log = self.dir.join(format!(
            "{}.log",
            data.file_name().and_then(|n| n.to_str()).unwrap_or("pg")
        ));
        let mut args = vec!["-D", path(data)?, "-w", "-t", "60"];
        match action {
            "start" => args.extend(["-l", path(&log)?, "start"]),
            _ => args.extend(["-m", "immediate", action]),
        }
        self.run("pg_ctl", &args).map_err(|e| {
            let tail = std::fs::read_to_string(&log).unwrap_or_default();
            format!("{e}\n{tail}")
        })
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<()> {
        let exe = self.bin.join(program);
        let output = as_postgres(&exe, args)
            .output()
            .map_err(|e| format!("{}: {e}", exe.display()))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{program} {}: {}\n{}",
                args.join(" "),
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    }
}

impl Drop for StreamingPair {
    fn drop(&mut self) {
        for cluster in ["replica", "primary"] {
            let data = self.dir.join(cluster);
            if data.join("postmaster.pid").exists() {
                let _ = self.pg_ctl(&data, "stop");
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn path(p: &Path) -> Result<&str> {
    p.to_str()
        .ok_or_else(|| format!("{} is not UTF-8", p.display()))
}

/// The newest `/usr/lib/postgresql/N/bin` (Debian), or the folder of `initdb` on the PATH.
fn postgres_bin() -> Result<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).find(|dir| dir.join("initdb").exists()))
        .ok_or_else(|| "no PostgreSQL server binaries (initdb) on this machine".to_string())
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

fn as_postgres(exe: &Path, args: &[&str]) -> Command {
    if running_as_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(exe).args(args);
        c
    } else {
        let mut c = Command::new(exe);
        c.args(args);
        c
    }
}

/// A new folder the clusters' user owns.
fn scratch_dir() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "vouch-replica-{}-{}",
        std::process::id(),
        vouch_domain::id::new_id("r")
    ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if running_as_root() {
        let status = Command::new("chown")
            .args(["postgres:postgres", path(&dir)?])
            .status()
            .map_err(|e| e.to_string())?;
        if !status.success() {
            return Err(format!("chown postgres {}: {status}", dir.display()));
        }
    }
    Ok(dir)
}

/// Two distinct free ports (both listeners open until both are known).
fn free_ports() -> Result<(u16, u16)> {
    let bind = || std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string());
    let (a, b) = (bind()?, bind()?);
    let port =
        |l: &std::net::TcpListener| l.local_addr().map(|a| a.port()).map_err(|e| e.to_string());
    Ok((port(&a)?, port(&b)?))
}
