//! What is deleted once it is old enough to be of no more use: webhook events with their
//! messages, deliveries and attempts (past the window replay reaches back to), and finished
//! jobs with their attempts. Each call deletes one batch in one transaction, so a large
//! backlog is worked off in short transactions that never hold the database for long.

use crate::query::Sql;
use crate::{Result, Store};
use sqlx::Row;
use vouch_domain::Timestamp;

/// Rows a transaction deletes at most (of the table each batch is chosen from).
pub const BATCH: i64 = 500;

/// A job that may still run is never deleted, nor what it delivers.
const FINISHED: &str = "('succeeded', 'dead', 'cancelled')";

/// A lead sale's delivery log is part of the buyer's record: its jobs are kept.
const NOT_A_LEAD_SALE: &str = "(j.subject IS NULL OR substr(j.subject, 1, 4) <> 'lds_')";

/// Deletes up to [`BATCH`] events created before `before` whose every delivery (a resend or a
/// retried dead job included) has finished,
/// with their webhook messages, every job about those messages (resends included) and those
/// jobs' attempts. Returns how many events went.
pub async fn purge_events(store: &Store, before: Timestamp) -> Result<u64> {
    let mut tx = store.begin().await?;
    let events = batch_of_ids(
        &mut tx,
        &format!(
            "SELECT e.id FROM events e WHERE e.created_at < $1 AND NOT EXISTS (
                 SELECT 1 FROM webhook_messages m JOIN jobs j ON j.id = m.job_id OR j.subject = m.id
                 WHERE m.event_id = e.id AND j.status NOT IN {FINISHED})
             ORDER BY e.id LIMIT {BATCH}"
        ),
        before,
    )
    .await?;
    if events.is_empty() {
        return Ok(0);
    }
    let messages: Vec<(String, String)> = {
        let mut sql = Sql::new("SELECT id, job_id FROM webhook_messages WHERE event_id IN ");
        sql.push_in(&events);
        sql.fetch_all(&mut tx)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("job_id")?)))
            .collect::<Result<_, sqlx::Error>>()?
    };
    let message_ids: Vec<String> = messages.iter().map(|(m, _)| m.clone()).collect();
    let mut jobs: Vec<String> = messages.into_iter().map(|(_, j)| j).collect();
    if !message_ids.is_empty() {
        // Earlier deliveries of the same messages (before a resend) are about them too.
        let mut sql = Sql::new("SELECT id FROM jobs WHERE subject IN ");
        sql.push_in(&message_ids);
        for row in sql.fetch_all(&mut tx).await? {
            jobs.push(row.try_get("id")?);
        }
    }
    jobs.sort();
    jobs.dedup();
    if !message_ids.is_empty() {
        let mut sql = Sql::new("DELETE FROM webhook_messages WHERE id IN ");
        sql.push_in(&message_ids);
        sql.execute(&mut tx).await?;
    }
    delete_jobs(&mut tx, &jobs).await?;
    let mut sql = Sql::new("DELETE FROM events WHERE id IN ");
    sql.push_in(&events);
    let gone = sql.execute(&mut tx).await?;
    tx.commit().await?;
    Ok(gone)
}

/// Deletes up to [`BATCH`] jobs that finished before `before` and that are not about a webhook
/// message still kept (a message's deliveries, resends included, go with its event), with
/// their attempts; an email keeps its
/// message in the outbox, without the job. Returns how many jobs went.
pub async fn purge_jobs(store: &Store, before: Timestamp) -> Result<u64> {
    let mut tx = store.begin().await?;
    let jobs = batch_of_ids(
        &mut tx,
        &format!(
            "SELECT j.id FROM jobs j WHERE j.status IN {FINISHED} AND j.updated_at < $1
               AND {NOT_A_LEAD_SALE}
               AND NOT EXISTS (SELECT 1 FROM webhook_messages m WHERE m.job_id = j.id OR m.id = j.subject)
             ORDER BY j.id LIMIT {BATCH}"
        ),
        before,
    )
    .await?;
    if jobs.is_empty() {
        return Ok(0);
    }
    let mut sql = Sql::new("UPDATE email_messages SET job_id = NULL WHERE job_id IN ");
    sql.push_in(&jobs);
    sql.execute(&mut tx).await?;
    let gone = delete_jobs(&mut tx, &jobs).await?;
    tx.commit().await?;
    Ok(gone)
}

/// The ids one batch query (text of this module, with `$1` the cut-off time) selects.
async fn batch_of_ids(tx: &mut crate::Tx, select: &str, before: Timestamp) -> Result<Vec<String>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(select.to_string()))
        .bind(before.to_string())
        .fetch_all(&mut **tx)
        .await?;
    Ok(rows
        .iter()
        .map(|r| r.try_get::<String, _>("id"))
        .collect::<Result<_, _>>()?)
}

async fn delete_jobs(tx: &mut crate::Tx, jobs: &[String]) -> Result<u64> {
    if jobs.is_empty() {
        return Ok(0);
    }
    for chunk in jobs.chunks(BATCH as usize) {
        let mut sql = Sql::new("DELETE FROM job_attempts WHERE job_id IN ");
        sql.push_in(chunk);
        sql.execute(tx).await?;
    }
    let mut gone = 0;
    for chunk in jobs.chunks(BATCH as usize) {
        let mut sql = Sql::new("DELETE FROM jobs WHERE id IN ");
        sql.push_in(chunk);
        gone += sql.execute(tx).await?;
    }
    Ok(gone)
}
