//! Clicks on referral links, written in batches by the click buffer (never one by one on the
//! redirect's path).

use crate::{Params, Result, Store};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClick {
    pub id: String,
    pub at: String,
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

/// Inserts a batch in one transaction and one statement.
pub async fn insert_batch(store: &Store, clicks: &[NewClick]) -> Result<()> {
    if clicks.is_empty() {
        return Ok(());
    }
    // Stay well under SQLite's 32 766 bound parameters: 9 per click.
    for chunk in clicks.chunks(1000) {
        let mut p = Params::default();
        let rows: Vec<String> = chunk
            .iter()
            .map(|c| {
                format!(
                    "({}, {}, {}, {}, {}, {}, {}, {}, {})",
                    p.text(c.id.clone()),
                    p.text(c.at.clone()),
                    p.text(c.program_id.clone()),
                    p.text(c.participant_id.clone()),
                    p.text(c.code.clone()),
                    p.text(c.visitor_hash.clone()),
                    p.opt_text(c.referrer.clone()),
                    p.opt_text(c.utm.clone()),
                    p.text(c.device_class.clone())
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO clicks (id, at, program_id, participant_id, code, visitor_hash, referrer, utm, device_class) VALUES {}",
            rows.join(", ")
        );
        let mut tx = store.begin().await?;
        p.bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
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
