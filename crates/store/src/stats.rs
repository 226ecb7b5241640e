//! Program statistics for the dashboard: daily clicks, referred signups and wins and the top
//! referrers (from the daily rollups, `crate::rollups`), and rewards by status, all within a
//! time range. Times are fixed-width UTC text, so the first ten characters are the day on both
//! engines.

use crate::Result;
use serde::Serialize;
use sqlx::{AnyConnection, Row};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Day {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    pub clicks: i64,
    /// Referred signups (referrals created).
    pub signups: i64,
    /// Referrals won.
    pub won: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopReferrer {
    pub participant_id: String,
    pub email: String,
    pub code: String,
    pub won: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RewardTotal {
    pub status: String,
    pub count: i64,
    /// Sum of amounts in minor units (rewards without an amount count as 0).
    pub amount: i64,
    pub currency: String,
}

/// Every day from `from` (inclusive) to `to` (exclusive) that had a click, a referred signup
/// or a win, oldest first, read from the daily rollups (never from raw clicks).
pub async fn days(
    conn: &mut AnyConnection,
    program_id: &str,
    from: &str,
    to: &str,
) -> Result<Vec<Day>> {
    let rows = sqlx::query(
        "SELECT day, CAST(SUM(clicks) AS BIGINT), CAST(SUM(signups) AS BIGINT),
                CAST(SUM(won) AS BIGINT)
         FROM daily_counts
         WHERE program_id = $1 AND participant_id = '' AND day >= $2 AND day < $3
         GROUP BY day
         HAVING SUM(clicks) <> 0 OR SUM(signups) <> 0 OR SUM(won) <> 0
         ORDER BY day",
    )
    .bind(program_id)
    .bind(crate::rollups::day_of(from))
    .bind(crate::rollups::day_of(to))
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Day {
                day: r.try_get(0)?,
                clicks: r.try_get(1)?,
                signups: r.try_get(2)?,
                won: r.try_get(3)?,
            })
        })
        .collect()
}

/// Referrers with the most referrals won in the range.
pub async fn top_referrers(
    conn: &mut AnyConnection,
    program_id: &str,
    from: &str,
    to: &str,
    limit: i64,
) -> Result<Vec<TopReferrer>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        // Ranked and cut to `limit` before the join: only the leaders are looked up, not
        // every referrer with a win in the range. The limit is written into the text: see
        // `Sql::push_limit`.
        "SELECT p.id, p.email, p.code, w.won FROM (
             SELECT participant_id, CAST(SUM(won) AS BIGINT) AS won FROM daily_counts
             WHERE program_id = $1 AND won <> 0 AND day >= $2 AND day < $3 AND participant_id <> ''
             GROUP BY participant_id HAVING SUM(won) > 0
             ORDER BY 2 DESC, participant_id LIMIT {limit}
         ) w JOIN participants p ON p.id = w.participant_id
         ORDER BY w.won DESC, p.id"
    )))
    .bind(program_id)
    .bind(crate::rollups::day_of(from))
    .bind(crate::rollups::day_of(to))
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(TopReferrer {
                participant_id: r.try_get(0)?,
                email: r.try_get(1)?,
                code: r.try_get(2)?,
                won: r.try_get(3)?,
            })
        })
        .collect()
}

/// Rewards created in the range, by status and currency.
pub async fn rewards_by_status(
    conn: &mut AnyConnection,
    program_id: &str,
    from: &str,
    to: &str,
) -> Result<Vec<RewardTotal>> {
    let rows = sqlx::query(
        "SELECT status, currency, COUNT(*), CAST(SUM(COALESCE(amount, 0)) AS BIGINT) FROM rewards
         WHERE program_id = $1 AND created_at >= $2 AND created_at < $3
         GROUP BY status, currency ORDER BY status, currency",
    )
    .bind(program_id)
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(RewardTotal {
                status: r.try_get(0)?,
                currency: r.try_get(1)?,
                count: r.try_get(2)?,
                amount: r.try_get(3)?,
            })
        })
        .collect()
}

/// A participant's place among the program's referrers by referrals won (those waiting for
/// review left out): 1 + how many referrers have more. Ties share a place.
pub async fn rank(conn: &mut AnyConnection, program_id: &str, won: i64) -> Result<i64> {
    let ahead: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT referrer_id FROM referrals WHERE program_id = $1 AND stage = 'won' AND review <> 'pending'
         GROUP BY referrer_id HAVING COUNT(*) > $2) ahead",
    )
    .bind(program_id)
    .bind(won)
    .fetch_one(conn)
    .await?;
    Ok(ahead + 1)
}

/// The leading referrers as others may see them: first name and the initial of the last name.
pub async fn leaders(
    conn: &mut AnyConnection,
    program_id: &str,
    limit: i64,
) -> Result<Vec<(String, i64)>> {
    // The limit is written into the text: see `Sql::push_limit`.
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT p.id, p.first_name, p.last_name, COUNT(*) AS won FROM referrals r JOIN participants p ON p.id = r.referrer_id
         WHERE r.program_id = $1 AND r.stage = 'won' AND r.review <> 'pending'
         GROUP BY p.id, p.first_name, p.last_name ORDER BY COUNT(*) DESC, p.id LIMIT {limit}"
    )))
    .bind(program_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let first: Option<String> = r.try_get(1)?;
            let last: Option<String> = r.try_get(2)?;
            let initial = last
                .as_deref()
                .and_then(|l| l.chars().next())
                .map(|c| format!(" {c}."))
                .unwrap_or_default();
            let name = match first {
                Some(f) if !f.is_empty() => format!("{f}{initial}"),
                _ => "A participant".to_string(),
            };
            Ok((name, r.try_get::<i64, _>(3)?))
        })
        .collect()
}

/// Clicks on a participant's link (counted ones: once per visitor and hour), from the daily
/// rollups: they outlive the raw clicks that retention deletes.
pub async fn clicks_of(conn: &mut AnyConnection, participant_id: &str) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(clicks), 0) AS BIGINT) FROM daily_counts WHERE participant_id = $1",
    )
    .bind(participant_id)
    .fetch_one(conn)
    .await?)
}

/// Referrals a participant made, in any stage.
pub async fn referrals_of(conn: &mut AnyConnection, participant_id: &str) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM referrals WHERE referrer_id = $1")
            .bind(participant_id)
            .fetch_one(conn)
            .await?,
    )
}
