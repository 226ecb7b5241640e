//! The durable job queue. Jobs are inserted in the same transaction as the change that causes
//! them; workers claim due jobs with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the
//! single-writer `BEGIN IMMEDIATE` on SQLite), so two workers never run one job at the same time
//! while the database keeps its writes. A worker that dies leaves its lease to expire, after
//! which the job is claimed again; a claim lost when PostgreSQL itself crashes (its commit does
//! not wait for the disk, see [`claim`]) can let a second worker run a job the first still
//! delivers: delivery is at least once. Every attempt is a row in `job_attempts`.

use crate::query::{NewestFirst, Sql};
use crate::{Backend, Result, Store, StoreError, now};
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use vouch_domain::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Job {
    pub id: String,
    pub kind: String,
    pub subject: Option<String>,
    pub payload: serde_json::Value,
    /// `queued`, `running`, `succeeded`, `dead` or `cancelled`.
    pub status: String,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: Timestamp,
    pub locked_by: Option<String>,
    pub locked_until: Option<Timestamp>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<Job> {
    let payload: String = row.try_get("payload")?;
    Ok(Job {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        subject: row.try_get("subject")?,
        payload: serde_json::from_str(&payload).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        status: row.try_get("status")?,
        attempts: row.try_get("attempts")?,
        max_attempts: row.try_get("max_attempts")?,
        run_at: crate::time_col(row, "run_at")?,
        locked_by: row.try_get("locked_by")?,
        locked_until: crate::time_col(row, "locked_until")?,
        last_error: row.try_get("last_error")?,
        created_at: crate::time_col(row, "created_at")?,
        updated_at: crate::time_col(row, "updated_at")?,
    })
}

/// Adds a job, due now, on the caller's connection (normally inside the transaction of the
/// change that causes it).
pub async fn enqueue(
    conn: &mut AnyConnection,
    kind: &str,
    subject: Option<&str>,
    payload: &serde_json::Value,
    max_attempts: i64,
) -> Result<Job> {
    let at = now();
    let row = sqlx::query(
        "INSERT INTO jobs (id, kind, subject, payload, status, attempts, max_attempts, run_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'queued', 0, $5, $6, $6, $6) RETURNING *",
    )
    .bind(vouch_domain::id::new_id("job"))
    .bind(kind)
    .bind(subject)
    .bind(payload.to_string())
    .bind(max_attempts)
    .bind(at)
    .fetch_one(conn)
    .await?;
    from_row(&row)
}

/// Queues many jobs of one kind with one statement, as [`enqueue`] queues one; answers their
/// ids in the order of `items` (subject, payload).
pub async fn enqueue_many(
    conn: &mut AnyConnection,
    kind: &str,
    items: &[(Option<&str>, serde_json::Value)],
    max_attempts: i64,
) -> Result<Vec<String>> {
    let ids: Vec<String> = items
        .iter()
        .map(|_| vouch_domain::id::new_id("job"))
        .collect();
    let jobs: Vec<NewJob<'_>> = items
        .iter()
        .zip(&ids)
        .map(|((subject, payload), id)| NewJob {
            id,
            subject: *subject,
            payload,
        })
        .collect();
    insert_many(conn, kind, &jobs, max_attempts).await?;
    Ok(ids)
}

/// A job whose id the caller drew already (a row written later names it).
pub(crate) struct NewJob<'a> {
    pub id: &'a str,
    pub subject: Option<&'a str>,
    pub payload: &'a serde_json::Value,
}

/// Queues `jobs` of one kind with one statement.
pub(crate) async fn insert_many(
    conn: &mut AnyConnection,
    kind: &str,
    jobs: &[NewJob<'_>],
    max_attempts: i64,
) -> Result<()> {
    if jobs.is_empty() {
        return Ok(());
    }
    let mut sql = Sql::new(
        "INSERT INTO jobs (id, kind, subject, payload, status, attempts, max_attempts, run_at, created_at, updated_at) VALUES ",
    );
    let (kind, queued, zero, max, at) = (
        sql.bind(kind),
        sql.bind("queued"),
        sql.bind(0_i64),
        sql.bind(max_attempts),
        sql.bind(now()),
    );
    sql.push_rows(jobs, |row, job| {
        row.bind(job.id)
            .placeholder(&kind)
            .bind(job.subject.map(str::to_string))
            .bind(job.payload.to_string())
            .placeholder(&queued)
            .placeholder(&zero)
            .placeholder(&max)
            .placeholder(&at)
            .placeholder(&at)
            .placeholder(&at);
    });
    sql.execute(conn).await?;
    Ok(())
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Job>> {
    let row = sqlx::query("SELECT * FROM jobs WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Claims up to `limit` due jobs for `worker` with a lease of `lease_seconds`: queued jobs whose
/// time has come, and running jobs whose lease expired (their worker died). Each claim counts
/// as an attempt.
pub async fn claim(
    store: &Store,
    worker: &str,
    limit: i64,
    lease_seconds: i64,
) -> Result<Vec<Job>> {
    let now_t = Timestamp::now();
    let at = now_t.to_string();
    let until = (now_t + time::Duration::seconds(lease_seconds)).to_string();
    let sql = match store.backend() {
        // Two scans of `jobs_due`, expired leases first, then due jobs in the index's order:
        // one `OR` of both was read whole and sorted on every claim (6 ms a claim behind 5,000
        // queued jobs).
        Backend::Postgres => "WITH expired AS (
                SELECT id FROM jobs WHERE status = 'running' AND locked_until < $3
                LIMIT $4 FOR UPDATE SKIP LOCKED),
             due AS (
                SELECT id FROM jobs WHERE status = 'queued' AND run_at <= $3
                ORDER BY run_at LIMIT $4 FOR UPDATE SKIP LOCKED)
             UPDATE jobs SET status = 'running', locked_by = $1, locked_until = $2, attempts = attempts + 1, updated_at = $3
             WHERE id IN (SELECT id FROM (SELECT id FROM expired UNION ALL SELECT id FROM due) AS chosen LIMIT $4)
             RETURNING *"
            .to_string(),
        // SQLite has one writer at a time and `begin` takes the write lock first, so the select
        // and the update cannot interleave with another worker's. Expired leases first here too.
        // The limit is written into the text (see `Sql::push_limit`), rounded down to a power
        // of two: a worker asks for as many jobs as it has free slots, and a text per count
        // would crowd the connection's statement cache. Claiming fewer costs one more claim.
        Backend::Sqlite => format!(
                "UPDATE jobs SET status = 'running', locked_by = $1, locked_until = $2, attempts = attempts + 1, updated_at = $3
                 WHERE id IN (
                    SELECT id FROM jobs
                    WHERE (status = 'queued' AND run_at <= $3) OR (status = 'running' AND locked_until < $3)
                    ORDER BY status = 'running' DESC, run_at LIMIT {})
                 RETURNING *",
            power_of_two_at_most(limit)
        ),
    };
    let mut tx = store.begin().await?;
    if store.backend() == Backend::Postgres {
        // Statistics lag behind a burst of jobs (a table that held 30 queued jobs at the last
        // ANALYZE now holds 100,000), and the planner would then read every queued job and
        // sort them to find the first 64: the index already holds them in order.
        // A claim need not wait for its commit to reach the disk: one lost when the database
        // crashes leaves the job queued, and another worker may run it while this one still
        // delivers it (its record then changes nothing, as for a lease taken over). Delivery
        // is at least once and receivers deduplicate on `webhook-id`. The record's own commit
        // is durable, and flushes the claim.
        sqlx::query(
            "SELECT set_config('enable_sort', 'off', true), set_config('synchronous_commit', 'off', true)",
        )
        .execute(&mut *tx)
        .await?;
    }
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(worker)
        .bind(until)
        .bind(at);
    if store.backend() == Backend::Postgres {
        query = query.bind(limit);
    }
    let rows = query.fetch_all(&mut *tx).await?;
    tx.commit().await?;
    rows.iter().map(from_row).collect()
}

/// The largest power of two not above `n` (1 for anything below 2).
fn power_of_two_at_most(n: i64) -> i64 {
    match u64::try_from(n) {
        Ok(n) if n >= 2 => 1 << n.ilog2(),
        _ => 1,
    }
}

/// One attempt as the worker saw it.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub started_at: Timestamp,
    pub duration_ms: i64,
    pub succeeded: bool,
    pub response_status: Option<i64>,
    pub response_body: Option<String>,
    pub error: Option<String>,
}

impl AttemptRecord {
    /// An attempt starting now that has not yet produced anything.
    pub fn starting_now() -> Self {
        Self {
            started_at: Timestamp::now(),
            duration_ms: 0,
            succeeded: false,
            response_status: None,
            response_body: None,
            error: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attempt {
    pub id: String,
    pub job_id: String,
    pub attempt: i64,
    pub worker: String,
    pub started_at: Timestamp,
    pub duration_ms: i64,
    pub succeeded: bool,
    pub response_status: Option<i64>,
    /// The first 4 KiB of the response body.
    pub response_body: Option<String>,
    pub error: Option<String>,
}

fn attempt_from_row(row: &sqlx::any::AnyRow) -> Result<Attempt> {
    Ok(Attempt {
        id: row.try_get("id")?,
        job_id: row.try_get("job_id")?,
        attempt: row.try_get("attempt")?,
        worker: row.try_get("worker")?,
        started_at: crate::time_col(row, "started_at")?,
        duration_ms: row.try_get("duration_ms")?,
        succeeded: row.try_get::<i64, _>("succeeded")? != 0,
        response_status: row.try_get("response_status")?,
        response_body: row.try_get("response_body")?,
        error: row.try_get("error")?,
    })
}

/// What happens to a job after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Succeeded,
    /// Try again at this time.
    RetryAt(Timestamp),
    /// No more attempts.
    Dead,
}

/// A finished attempt, waiting to be recorded.
#[derive(Debug, Clone)]
pub struct Finished {
    pub job: Job,
    pub record: AttemptRecord,
    pub next: Next,
}

/// Records the attempt and moves the job on, in one transaction. Returns false (and changes
/// nothing but the attempt record) when this worker no longer holds the job: its lease expired
/// and another worker took it over, whose outcome wins.
pub async fn finish(
    store: &Store,
    job: &Job,
    worker: &str,
    record: &AttemptRecord,
    next: &Next,
) -> Result<bool> {
    let done = [Finished {
        job: job.clone(),
        record: record.clone(),
        next: next.clone(),
    }];
    Ok(finish_many(store, worker, &done)
        .await?
        .first()
        .copied()
        .unwrap_or(false))
}

/// [`finish`] for many jobs: two statements and one commit (one fsync) for the whole batch.
pub async fn finish_many(store: &Store, worker: &str, done: &[Finished]) -> Result<Vec<bool>> {
    if done.is_empty() {
        return Ok(Vec::new());
    }
    let at = now();
    // Job updates: a CTE of (id, status, run_at, last_error) rows joined to `jobs`; only the
    // rows this worker still holds change, and RETURNING says which.
    let mut update = Sql::new("WITH v (id, status, run_at, last_error) AS (VALUES ");
    update.push_rows(done, |row, Finished { job, record, next }| {
        let (status, run_at) = match next {
            Next::Succeeded => ("succeeded", job.run_at),
            Next::RetryAt(t) => ("queued", *t),
            Next::Dead => ("dead", job.run_at),
        };
        row.bind(&job.id)
            .bind(status)
            .bind(run_at)
            .bind(record.error.clone());
    });
    update
        .push(
            ") UPDATE jobs SET status = v.status, run_at = v.run_at, locked_by = NULL, locked_until = NULL, last_error = v.last_error, updated_at = ",
        )
        .push_bind(at)
        // Only a claim sets `locked_by`, with `status = 'running'`, and every other change
        // clears it, so the worker's name alone says it still holds the job. A `status` test
        // here would lead PostgreSQL to `jobs_due`, whose 'running' entries include every job
        // run since the last vacuum, instead of the primary key.
        .push(" FROM v WHERE jobs.id = v.id AND jobs.locked_by = ")
        .push_bind(worker)
        .push(" RETURNING jobs.id");
    // The attempts happened either way, so they are recorded either way.
    let mut insert = Sql::new(
        "INSERT INTO job_attempts (id, job_id, attempt, worker, started_at, duration_ms, succeeded, response_status, response_body, error) VALUES ",
    );
    let worker_p = insert.bind(worker);
    insert.push_rows(done, |row, Finished { job, record, .. }| {
        row.bind(vouch_domain::id::new_id("att"))
            .bind(&job.id)
            .bind(job.attempts)
            .placeholder(&worker_p)
            .bind(record.started_at)
            .bind(record.duration_ms)
            .bind(i64::from(record.succeeded))
            .bind(record.response_status)
            .bind(record.response_body.clone())
            .bind(record.error.clone());
    });
    let mut tx = store.begin().await?;
    let updated = update.fetch_all(&mut tx).await?;
    insert.execute(&mut tx).await?;
    tx.commit().await?;
    let held: std::collections::HashSet<String> = updated
        .iter()
        .filter_map(|r| r.try_get::<String, _>(0).ok())
        .collect();
    Ok(done.iter().map(|f| held.contains(&f.job.id)).collect())
}

/// Gives back the jobs this worker holds without running them (graceful shutdown): they are due
/// again at once and the unused claim does not count as an attempt.
pub async fn release(store: &Store, worker: &str) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE jobs SET status = 'queued', locked_by = NULL, locked_until = NULL, attempts = attempts - 1, updated_at = $1
         WHERE locked_by = $2 AND status = 'running'",
    )
    .bind(now())
    .bind(worker)
    .execute(store.pool())
    .await?
    .rows_affected())
}

/// Puts a dead (or cancelled) job back in the queue for one more attempt, now.
pub async fn retry_now(conn: &mut AnyConnection, id: &str) -> Result<Option<Job>> {
    let row = sqlx::query(
        "UPDATE jobs SET status = 'queued', run_at = $1, max_attempts = attempts + 1, locked_by = NULL, locked_until = NULL, updated_at = $1
         WHERE id = $2 AND status IN ('dead', 'cancelled') RETURNING *",
    )
    .bind(now())
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Jobs in a status, newest first; `limit + 1` rows.
pub async fn list(
    conn: &mut AnyConnection,
    status: &str,
    starting_after: Option<&str>,
    limit: i64,
) -> Result<Vec<Job>> {
    let rows = NewestFirst::table("jobs")
        .eq("status", Some(status))
        .page(conn, starting_after, limit)
        .await?;
    rows.iter().map(from_row).collect()
}

/// Every attempt of the jobs about `subject`, oldest first.
pub async fn attempts_for_subject(conn: &mut AnyConnection, subject: &str) -> Result<Vec<Attempt>> {
    let rows = sqlx::query(
        "SELECT a.* FROM job_attempts a JOIN jobs j ON j.id = a.job_id WHERE j.subject = $1 ORDER BY a.started_at, a.id",
    )
    .bind(subject)
    .fetch_all(conn)
    .await?;
    rows.iter().map(attempt_from_row).collect()
}

pub async fn attempts_for_job(conn: &mut AnyConnection, job_id: &str) -> Result<Vec<Attempt>> {
    let rows = sqlx::query("SELECT * FROM job_attempts WHERE job_id = $1 ORDER BY attempt, id")
        .bind(job_id)
        .fetch_all(conn)
        .await?;
    rows.iter().map(attempt_from_row).collect()
}

/// Counts by status, for the console and readiness views.
pub async fn counts(conn: &mut AnyConnection) -> Result<Vec<(String, i64)>> {
    let rows =
        sqlx::query("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status ORDER BY status")
            .fetch_all(conn)
            .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("status")?, r.try_get("n")?)))
        .collect()
}

/// Jobs waiting or running, per kind and status, with the oldest one's `run_at` (for a
/// queue's age): what `/metrics` reports. Finished jobs are left out (retention removes them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueGauge {
    pub kind: String,
    pub status: String,
    pub count: i64,
    pub oldest_run_at: Option<Timestamp>,
}

pub async fn queue_gauges(conn: &mut AnyConnection) -> Result<Vec<QueueGauge>> {
    let rows = sqlx::query(
        "SELECT kind, status, COUNT(*) AS n, MIN(run_at) AS oldest FROM jobs
         WHERE status IN ('queued', 'running', 'dead') GROUP BY kind, status ORDER BY kind, status",
    )
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let oldest: Option<String> = r.try_get("oldest")?;
            Ok(QueueGauge {
                kind: r.try_get("kind")?,
                status: r.try_get("status")?,
                count: r.try_get("n")?,
                oldest_run_at: oldest
                    .map(|t| Timestamp::parse(&t).map_err(StoreError::Corrupt))
                    .transpose()?,
            })
        })
        .collect()
}

/// Delivery attempts (webhooks, emails, lead posts) since `since`, per job kind and outcome.
pub async fn attempts_since(
    conn: &mut AnyConnection,
    since: Timestamp,
) -> Result<Vec<(String, bool, i64)>> {
    let rows = sqlx::query(
        "SELECT j.kind AS kind, a.succeeded AS succeeded, COUNT(*) AS n FROM job_attempts a
         JOIN jobs j ON j.id = a.job_id WHERE a.started_at >= $1
         GROUP BY j.kind, a.succeeded ORDER BY j.kind, a.succeeded",
    )
    .bind(since.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("kind")?,
                r.try_get::<i64, _>("succeeded")? != 0,
                r.try_get("n")?,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::power_of_two_at_most;

    #[test]
    fn claim_sizes_round_down_to_a_power_of_two() {
        for (n, want) in [
            (-3, 1),
            (0, 1),
            (1, 1),
            (2, 2),
            (3, 2),
            (16, 16),
            (250, 128),
        ] {
            assert_eq!(power_of_two_at_most(n), want, "{n}");
        }
        assert_eq!(power_of_two_at_most(i64::MAX), 1 << 62);
    }
}
