//! Clicks on referral links, written in batches by the click buffer (never one by one on the
//! redirect's path).

use crate::query::Sql;
use crate::rollups::Counts;
use crate::{Result, Store};
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClick {
    pub id: String,
    pub at: vouch_domain::Timestamp,
    pub program_id: String,
    pub participant_id: String,
    pub code: String,
    /// SHA-256 of client IP + user agent + a server secret: counts visitors without storing them.
    pub visitor_hash: String,
    pub referrer: Option<String>,
    /// UTM parameters and ad click ids, as JSON.
    pub utm: Option<String>,
    pub device_class: String,
}

/// Writes a batch of clicks in one transaction, with their daily rollups: all of it or none. A
/// click already stored (same id) is skipped, so a batch retried after an answer was lost
/// cannot fail on its own first attempt, nor count twice.
pub async fn insert_batch(store: &Store, clicks: &[NewClick]) -> Result<()> {
    if clicks.is_empty() {
        return Ok(());
    }
    let mut tx = store.begin().await?;
    // Stay well under SQLite's 32 766 bound parameters: 9 per click.
    for chunk in clicks.chunks(1000) {
        let mut sql = Sql::new(
            "INSERT INTO clicks (id, at, program_id, participant_id, code, visitor_hash, referrer, utm, device_class) VALUES ",
        );
        sql.push_rows(chunk, |row, c| {
            row.bind(&c.id)
                .bind(c.at)
                .bind(&c.program_id)
                .bind(&c.participant_id)
                .bind(&c.code)
                .bind(&c.visitor_hash)
                .bind(c.referrer.clone())
                .bind(c.utm.clone())
                .bind(&c.device_class);
        });
        // No conflict target: PostgreSQL's key is (id, at), the partition key being part of it;
        // a retried click has both the same. Only the rows inserted come back, so a retried batch adds nothing twice to the rollups.
        sql.push(" ON CONFLICT DO NOTHING RETURNING program_id, participant_id, at");
        let inserted = sql.fetch_all(&mut tx).await?;
        // Counted by the transaction and written at its commit, all chunks' together (one
        // rollup shard per transaction).
        for row in &inserted {
            let at: &str = row.try_get("at")?;
            let program: &str = row.try_get("program_id")?;
            let participant: &str = row.try_get("participant_id")?;
            let click = Counts {
                clicks: 1,
                ..Default::default()
            };
            tx.count(program, participant, crate::rollups::day_of(at), click);
        }
    }
    tx.commit().await?;
    Ok(())
}

pub async fn count_for_participant(
    conn: &mut sqlx::AnyConnection,
    participant_id: &str,
) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM clicks WHERE participant_id = $1")
            .bind(participant_id)
            .fetch_one(conn)
            .await?,
    )
}
