//! `daily_counts`: clicks, referred signups and wins per program and UTC day, for the whole
//! program (`participant_id` empty) and per referrer. Every write of a click or a referral
//! adds to it in the same transaction (a referral's additions are gathered by the [`crate::Tx`]
//! and written just before its commit), so a dashboard reads a few rows per day instead of
//! scanning raw clicks, and nothing counted can be lost between the two. `won` follows the
//! referral's current stage: a win counts on the day it was won and is taken back when the
//! referral leaves Won. [`rebuild`] recomputes the table from the raw rows (the click counts of
//! days retention has purged the raw clicks of are kept, as the purge recorded them).
//!
//! A row is split into shards (the `shard` column): on PostgreSQL each transaction adds to one
//! shard, taken in turn ([`shard_for`]), so that concurrent transactions adding to the same
//! program's day do not wait for each other's commit; every reader sums the shards. SQLite
//! has one writer at a time and uses shard 0 alone.

use crate::Result;
use crate::query::Sql;
use sqlx::AnyConnection;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};

/// The program's own row, beside its referrers' rows.
pub const WHOLE_PROGRAM: &str = "";

/// What to add to one program's day for one referrer (and to the program's total).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub clicks: i64,
    pub signups: i64,
    pub won: i64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, other: Counts) {
        self.clicks += other.clicks;
        self.signups += other.signups;
        self.won += other.won;
    }
}

/// Additions keyed by (program, referrer, day), not yet written.
pub(crate) type Pending = BTreeMap<(String, String, String), Counts>;

/// How many shards a PostgreSQL row is split into: more than the transactions that add to the
/// same program's day at once (eight group-commit lanes, the click writer, the worker's jobs).
const SHARDS: u32 = 16;

/// The next shard in turn, from a different start in each process.
static NEXT_SHARD: AtomicU32 = AtomicU32::new(0);

/// The shard a transaction on `conn` adds to. On PostgreSQL a row being added to stays locked
/// until its transaction's commit is flushed, so transactions committing at the same time take
/// different shards in turn (two collide only when `SHARDS` others began between them). SQLite
/// writes one transaction at a time, so its rows stay whole.
pub(crate) fn shard_for(conn: &AnyConnection) -> i64 {
    if conn.backend_name() != "PostgreSQL" {
        return 0;
    }
    let turn = NEXT_SHARD
        .fetch_add(1, Ordering::Relaxed)
        .wrapping_add(std::process::id());
    i64::from(turn % SHARDS)
}

/// Adds each referrer's counts (keyed by program, referrer, day) and their sums to the
/// programs' rows, in one statement per 500 rows, all in the shard [`shard_for`] gives. Called
/// once per transaction, by its commit ([`crate::Tx::count`] gathers the additions), so a
/// transaction locks rows of one shard only, in key order.
pub(crate) async fn add_many(conn: &mut AnyConnection, mut counts: Pending) -> Result<()> {
    if counts.is_empty() {
        return Ok(());
    }
    let shard = shard_for(conn);
    let mut totals = Pending::new();
    for ((program, _, day), c) in &counts {
        let total = totals
            .entry((program.clone(), WHOLE_PROGRAM.to_string(), day.clone()))
            .or_default();
        *total += *c;
    }
    counts.extend(totals);
    let rows: Vec<_> = counts.into_iter().collect();
    for chunk in rows.chunks(500) {
        let mut sql = Sql::new(
            "INSERT INTO daily_counts (program_id, participant_id, day, shard, clicks, signups, won) VALUES ",
        );
        let shard = sql.bind(shard);
        sql.push_rows(chunk, |row, ((program, participant, day), c)| {
            row.bind(program)
                .bind(participant)
                .bind(day)
                .placeholder(&shard)
                .bind(c.clicks)
                .bind(c.signups)
                .bind(c.won);
        });
        sql.push(
            " ON CONFLICT (program_id, participant_id, day, shard) DO UPDATE SET
               clicks = daily_counts.clicks + excluded.clicks,
               signups = daily_counts.signups + excluded.signups,
               won = daily_counts.won + excluded.won",
        );
        sql.execute(conn).await?;
    }
    Ok(())
}

/// The day of a fixed-width UTC time (`2026-11-30T…` → `2026-11-30`).
pub(crate) fn day_of(at: &str) -> &str {
    at.get(..10).unwrap_or(at)
}

/// The statements that add the raw clicks' counts to the table for the days after `$1`, the
/// day retention's horizon falls in (`''`: every day; the migration that created the table
/// filled it the same way).
const FILL_CLICKS: [&str; 2] = [
    "INSERT INTO daily_counts (program_id, participant_id, day, clicks)
     SELECT program_id, participant_id, SUBSTR(at, 1, 10), COUNT(*) FROM clicks WHERE SUBSTR(at, 1, 10) > $1
     GROUP BY program_id, participant_id, SUBSTR(at, 1, 10)
     ON CONFLICT (program_id, participant_id, day, shard) DO UPDATE SET clicks = daily_counts.clicks + excluded.clicks",
    "INSERT INTO daily_counts (program_id, participant_id, day, clicks)
     SELECT program_id, '', SUBSTR(at, 1, 10), COUNT(*) FROM clicks WHERE SUBSTR(at, 1, 10) > $1
     GROUP BY program_id, SUBSTR(at, 1, 10)
     ON CONFLICT (program_id, participant_id, day, shard) DO UPDATE SET clicks = daily_counts.clicks + excluded.clicks",
];

/// The same for referred signups and wins, from the raw referrals. SQLite wants a `WHERE`
/// before `ON CONFLICT` in `INSERT … SELECT`.
const FILL_REFERRALS: [&str; 4] = [
    "INSERT INTO daily_counts (program_id, participant_id, day, signups)
     SELECT program_id, referrer_id, SUBSTR(created_at, 1, 10), COUNT(*) FROM referrals WHERE 1 = 1
     GROUP BY program_id, referrer_id, SUBSTR(created_at, 1, 10)
     ON CONFLICT (program_id, participant_id, day, shard) DO UPDATE SET signups = daily_counts.signups + excluded.signups",
    "INSERT INTO daily_counts (program_id, participant_id, day, signups)
     SELECT program_id, '', SUBSTR(created_at, 1, 10), COUNT(*) FROM referrals WHERE 1 = 1
     GROUP BY program_id, SUBSTR(created_at, 1, 10)
     ON CONFLICT (program_id, participant_id, day, shard) DO UPDATE SET signups = daily_counts.signups + excluded.signups",
    "INSERT INTO daily_counts (program_id, participant_id, day, won)
     SELECT program_id, referrer_id, SUBSTR(won_at, 1, 10), COUNT(*) FROM referrals
     WHERE stage = 'won' AND won_at IS NOT NULL
     GROUP BY program_id, referrer_id, SUBSTR(won_at, 1, 10)
     ON CONFLICT (program_id, participant_id, day, shard) DO UPDATE SET won = daily_counts.won + excluded.won",
    "INSERT INTO daily_counts (program_id, participant_id, day, won)
     SELECT program_id, '', SUBSTR(won_at, 1, 10), COUNT(*) FROM referrals
     WHERE stage = 'won' AND won_at IS NOT NULL
     GROUP BY program_id, SUBSTR(won_at, 1, 10)
     ON CONFLICT (program_id, participant_id, day, shard) DO UPDATE SET won = daily_counts.won + excluded.won",
];

/// Recomputes every row from the raw clicks and referrals, on the caller's transaction (so a
/// reader sees the old table or the new one, never half). The click counts of the days up to
/// the one retention has purged raw clicks to (recorded by the purge itself, see
/// [`crate::click_partitions::purged_before`]) cannot be recounted and stay as they are.
/// Returns how many rows it wrote.
pub async fn rebuild(conn: &mut AnyConnection) -> Result<i64> {
    // Writers add to the table while the statements below run, each with its own snapshot on
    // PostgreSQL: hold them off until the transaction ends (SQLite's write transaction already
    // does).
    if conn.backend_name() == "PostgreSQL" {
        sqlx::query("LOCK TABLE daily_counts IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *conn)
            .await?;
    }
    let horizon = crate::click_partitions::purged_before(&mut *conn).await?;
    let horizon_day = horizon.as_deref().map(day_of).unwrap_or("");
    // What stays of a row up to the horizon's day is its click count; the rest is recounted.
    sqlx::query("DELETE FROM daily_counts WHERE day > $1 OR clicks = 0")
        .bind(horizon_day)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE daily_counts SET signups = 0, won = 0")
        .execute(&mut *conn)
        .await?;
    for statement in FILL_CLICKS {
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .bind(horizon_day)
            .execute(&mut *conn)
            .await?;
    }
    for statement in FILL_REFERRALS {
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&mut *conn)
            .await?;
    }
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM daily_counts")
        .fetch_one(conn)
        .await?)
}

/// Every row with its shards summed, in key order (for tests and checks): (program,
/// participant, day, counts).
pub async fn all(conn: &mut AnyConnection) -> Result<Vec<(String, String, String, Counts)>> {
    let rows = sqlx::query(
        "SELECT program_id, participant_id, day, CAST(SUM(clicks) AS BIGINT),
                CAST(SUM(signups) AS BIGINT), CAST(SUM(won) AS BIGINT)
         FROM daily_counts GROUP BY program_id, participant_id, day
         HAVING SUM(clicks) <> 0 OR SUM(signups) <> 0 OR SUM(won) <> 0
         ORDER BY program_id, participant_id, day",
    )
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            use sqlx::Row;
            Ok((
                r.try_get(0)?,
                r.try_get(1)?,
                r.try_get(2)?,
                Counts {
                    clicks: r.try_get(3)?,
                    signups: r.try_get(4)?,
                    won: r.try_get(5)?,
                },
            ))
        })
        .collect()
}
