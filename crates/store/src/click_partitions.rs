//! Clicks on PostgreSQL live in one partition per month (`clicks_y2026m11` holds November
//! 2026): retention drops a month with one `DROP TABLE` instead of deleting millions of rows,
//! and a range scan reads only the months it names. A click whose month has no partition yet
//! lands in `clicks_default`, so an insert never fails for want of one; [`prepare`] creates
//! the current and the next month's partitions, and a partition for every month found in the
//! default one, moving those rows into it. SQLite keeps one table: here every function does
//! nothing there, and retention deletes its old clicks row by row ([`purge_before`]).

use crate::{Backend, Result, Store};
use sqlx::Row;
use vouch_domain::Timestamp;

/// Several workers run housekeeping at once: one creates or drops partitions at a time.
const LOCK_KEY: i64 = 0x766f_7563_685f_636c; // "vouch_cl"

/// Rows [`purge_before`] deletes per transaction.
pub const BATCH: i64 = 5_000;

/// A transaction holding the partitions' lock until it ends.
async fn locked(store: &Store) -> Result<crate::Tx> {
    let mut tx = store.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(LOCK_KEY)
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// A calendar month, as the partitions name and bound it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Month {
    pub year: i32,
    pub month: u8,
}

impl Month {
    /// The month of a fixed-width UTC time (`2026-11-30T…`) or a `2026-11` prefix.
    pub fn of(at: &str) -> Option<Self> {
        let year = at.get(..4)?.parse().ok()?;
        let month: u8 = at.get(5..7)?.parse().ok()?;
        (at.get(4..5) == Some("-") && (1..=12).contains(&month)).then_some(Self { year, month })
    }

    pub fn next(self) -> Self {
        if self.month == 12 {
            Self {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Self {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// The partition's name: `clicks_y2026m11`.
    pub fn table(self) -> String {
        format!("clicks_y{:04}m{:02}", self.year, self.month)
    }

    fn from_table(name: &str) -> Option<Self> {
        let rest = name.strip_prefix("clicks_y")?;
        let (year, month) = rest.split_once('m')?;
        let month: u8 = month.parse().ok()?;
        (year.len() == 4 && (1..=12).contains(&month)).then_some(Self {
            year: year.parse().ok()?,
            month,
        })
    }

    /// The partition's lower bound (`2026-11`); the upper one is the next month's.
    pub fn bound(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }
}

/// The months that have their own partition, oldest first (none on SQLite).
pub async fn months(store: &Store) -> Result<Vec<Month>> {
    if store.backend() != Backend::Postgres {
        return Ok(Vec::new());
    }
    partitioned(&mut *store.conn().await?).await
}

/// [`months`] on the caller's connection (a pool of one connection has no second one).
async fn partitioned(conn: &mut sqlx::AnyConnection) -> Result<Vec<Month>> {
    let rows = sqlx::query(
        "SELECT c.relname::text AS name FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
         WHERE p.relname = 'clicks' AND p.relnamespace = current_schema()::regnamespace",
    )
    .fetch_all(conn)
    .await?;
    let mut months = rows
        .iter()
        .map(|r| r.try_get::<String, _>("name"))
        .collect::<Result<Vec<_>, _>>()?
        .iter()
        .filter_map(|name| Month::from_table(name))
        .collect::<Vec<_>>();
    months.sort();
    Ok(months)
}

/// Creates the partitions of `now`'s month and the next (so the turn of a month never sends
/// clicks to the default partition) and of every month that has rows in the default
/// partition, moving those rows into theirs. Returns the months created.
pub async fn prepare(store: &Store, now: Timestamp) -> Result<Vec<Month>> {
    if store.backend() != Backend::Postgres {
        return Ok(Vec::new());
    }
    let mut tx = locked(store).await?;
    let existing = partitioned(&mut tx).await?;
    let Some(this_month) = Month::of(&now.to_string()) else {
        return Ok(Vec::new());
    };
    let mut wanted = vec![this_month, this_month.next()];
    let stray = sqlx::query("SELECT DISTINCT SUBSTR(at, 1, 7) AS month FROM clicks_default")
        .fetch_all(&mut *tx)
        .await?;
    for row in &stray {
        // A time that is not one (it cannot be written through the API) stays in the default.
        if let Some(m) = Month::of(&row.try_get::<String, _>("month")?) {
            wanted.push(m);
        }
    }
    wanted.sort();
    wanted.dedup();
    wanted.retain(|m| !existing.contains(m));
    if wanted.is_empty() {
        return Ok(wanted);
    }
    // `ATTACH` waits for long readers of `clicks` and holds new ones behind it: give up
    // instead, and let the next pass try again (clicks meanwhile go to the default).
    set_lock_timeout(&mut tx).await?;
    let created = async {
        // A click of a month being created that reached the default partition after the move
        // below would make `ATTACH` fail: hold such inserts (only those: a click of a month
        // with a partition never touches the default one) until the transaction ends.
        sqlx::query("LOCK TABLE clicks_default IN EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await?;
        for month in &wanted {
            let (table, from, to) = (month.table(), month.bound(), month.next().bound());
            // Rows of this month already in the default partition would make a plain
            // `PARTITION OF` fail: the new table takes them first, then joins.
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "CREATE TABLE {table} (LIKE clicks INCLUDING DEFAULTS)"
            )))
            .execute(&mut *tx)
            .await?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "WITH moved AS (DELETE FROM clicks_default WHERE at >= $1 AND at < $2 RETURNING *)
                 INSERT INTO {table} SELECT * FROM moved"
            )))
            .bind(&from)
            .bind(&to)
            .execute(&mut *tx)
            .await?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "ALTER TABLE clicks ATTACH PARTITION {table} FOR VALUES FROM ('{from}') TO ('{to}')"
            )))
            .execute(&mut *tx)
            .await?;
        }
        Ok::<_, crate::StoreError>(())
    }
    .await;
    if gave_way(created)? {
        // The clicks of those months wait in the default partition for the next pass.
        tracing::info!("click partitions postponed: the clicks table was busy");
        return Ok(Vec::new());
    }
    tx.commit().await?;
    Ok(wanted)
}

/// How long dropping a month (or attaching one) waits for its lock. Dropping a partition locks the whole
/// `clicks` table (`DETACH … CONCURRENTLY` would not, but PostgreSQL refuses it while a
/// default partition exists); a drop queued behind a long report would hold every click
/// insert queued behind it, so it gives up instead and the next housekeeping pass retries.
const LOCK_TIMEOUT: &str = "2s";

/// What [`drop_before`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dropped {
    /// The months dropped, oldest first.
    pub months: Vec<Month>,
    /// The table was busy past [`LOCK_TIMEOUT`]: nothing was dropped this time.
    pub postponed: bool,
}

/// Drops the partitions of months that ended before `before`, whole, and records the
/// retention horizon in the same transaction. Rows of the month `before` falls in are left to
/// [`purge_before`].
pub async fn drop_before(store: &Store, before: Timestamp) -> Result<Dropped> {
    if store.backend() != Backend::Postgres {
        return Ok(Dropped::default());
    }
    let Some(cutoff) = Month::of(&before.to_string()) else {
        return Ok(Dropped::default());
    };
    let Ok(month_start) = Timestamp::parse(&format!("{}-01T00:00:00Z", cutoff.bound())) else {
        return Ok(Dropped::default());
    };
    let mut tx = locked(store).await?;
    let old: Vec<Month> = partitioned(&mut tx)
        .await?
        .into_iter()
        .filter(|m| *m < cutoff)
        .collect();
    if old.is_empty() {
        return Ok(Dropped::default());
    }
    set_lock_timeout(&mut tx).await?;
    // The horizon's row first, then the table: the order a rollup rebuild takes them in, so
    // the two wait for each other instead of deadlocking. The months dropped end where the
    // cutoff's month begins.
    let dropped = async {
        record_horizon(&mut tx, &month_start.to_string()).await?;
        for month in &old {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP TABLE IF EXISTS {}",
                month.table()
            )))
            .execute(&mut *tx)
            .await?;
        }
        Ok::<_, crate::StoreError>(())
    }
    .await;
    if gave_way(dropped)? {
        return Ok(Dropped {
            months: Vec::new(),
            postponed: true,
        });
    }
    tx.commit().await?;
    Ok(Dropped {
        months: old,
        postponed: false,
    })
}

/// Makes the transaction's waits for a lock give up after [`LOCK_TIMEOUT`].
async fn set_lock_timeout(tx: &mut crate::Tx) -> Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"
    )))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Whether PostgreSQL gave up a lock for this work (`Ok(true)`): a lock timeout (`55P03`) or a
/// deadlock it broke (`40P01`); the work then waits for the next pass. Other errors stay errors.
fn gave_way(work: Result<()>) -> Result<bool> {
    match work {
        Ok(()) => Ok(false),
        Err(crate::StoreError::Database(sqlx::Error::Database(db)))
            if matches!(db.code().as_deref(), Some("55P03" | "40P01")) =>
        {
            Ok(true)
        }
        Err(e) => Err(e),
    }
}

/// Deletes the clicks made before `before`, on either engine (on PostgreSQL what
/// [`drop_before`] left: the first days of the cutoff's month and the default partition), in
/// transactions of at most [`BATCH`] rows that each record the horizon. One program's clicks
/// at a time, oldest first, so each batch is a range of the `(program_id, at)` index rather
/// than a scan of the table. Returns how many went.
pub async fn purge_before(store: &Store, before: Timestamp) -> Result<u64> {
    let before = before.to_string();
    let programs: Vec<String> = sqlx::query_scalar("SELECT id FROM programs ORDER BY id")
        .fetch_all(&mut *store.conn().await?)
        .await?;
    let mut gone = 0;
    for program in programs {
        loop {
            let mut tx = store.begin().await?;
            let batch = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM clicks WHERE program_id = $1 AND at < $2 AND id IN (
                     SELECT id FROM clicks WHERE program_id = $1 AND at < $2 ORDER BY at LIMIT {BATCH})"
            )))
            .bind(&program)
            .bind(&before)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if batch == 0 {
                tx.rollback().await?;
                break;
            }
            record_horizon(&mut tx, &before).await?;
            tx.commit().await?;
            gone += batch;
        }
    }
    Ok(gone)
}

/// Raises the recorded click horizon to `before` (never lowers it).
async fn record_horizon(tx: &mut crate::Tx, before: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO retention_horizons (subject, purged_before) VALUES ('clicks', $1)
         ON CONFLICT (subject) DO UPDATE SET purged_before = excluded.purged_before
         WHERE retention_horizons.purged_before < excluded.purged_before",
    )
    .bind(before)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The time before which retention may have deleted raw clicks (`None`: it never has). On
/// PostgreSQL the row stays locked until the caller's transaction ends: a purge that has not
/// committed yet waits for it, so what the caller counts next matches what it read here.
pub async fn purged_before(conn: &mut sqlx::AnyConnection) -> Result<Option<String>> {
    let lock = if conn.backend_name() == "PostgreSQL" {
        " FOR UPDATE"
    } else {
        ""
    };
    let horizon: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT purged_before FROM retention_horizons WHERE subject = 'clicks'{lock}"
    )))
    .fetch_optional(conn)
    .await?;
    Ok(horizon.filter(|h| !h.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::Month;

    #[test]
    fn months_name_bound_and_follow_each_other() {
        let nov = Month::of("2026-11-30T23:59:59.999999Z").expect("a month");
        assert_eq!(nov.table(), "clicks_y2026m11");
        assert_eq!(nov.bound(), "2026-11");
        assert_eq!(nov.next().bound(), "2026-12");
        assert_eq!(nov.next().next().bound(), "2027-01");
        assert_eq!(
            Month::from_table("clicks_y2027m01"),
            Some(nov.next().next())
        );
        assert_eq!(Month::from_table("clicks_default"), None);
        assert_eq!(Month::of("2026-13"), None);
        assert_eq!(Month::of("garbage"), None);
    }
}
