//! Referrals: who brought whom into a program, how, and how far it got. Every stage change is
//! kept (`referral_stage_changes`), audited and emitted as an event in the caller's
//! transaction.

use crate::audit::Origin;
use crate::query::{NewestFirst, Order, SortColumn, Sql};
use crate::{Result, StoreError, conflict, now};
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use vouch_domain::Timestamp;
use vouch_domain::fraud::Flag;
use vouch_domain::referral::{Source, Stage, transition};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Referral {
    pub id: String,
    pub program_id: String,
    /// The participant whose link or code brought the referred one.
    pub referrer_id: String,
    pub referred_id: String,
    /// `code` (API `referred_by`), `form` (hidden field), `link` (attribution cookie), `import`.
    pub source: String,
    pub stage: Stage,
    pub won_at: Option<Timestamp>,
    /// What the fraud checks saw; a flagged referral waits for review.
    pub flags: Vec<Flag>,
    /// `none` (not flagged), `pending` (in the review queue: does not count toward rewards),
    /// `cleared` or `junk`.
    pub review: String,
    pub review_reason: Option<String>,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

pub(crate) fn from_row(row: &sqlx::any::AnyRow) -> Result<Referral> {
    let stage: String = row.try_get("stage")?;
    let flags: String = row.try_get("flags")?;
    Ok(Referral {
        flags: serde_json::from_str(&flags).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        review: row.try_get("review")?,
        review_reason: row.try_get("review_reason")?,
        reviewed_by: row.try_get("reviewed_by")?,
        reviewed_at: crate::time_col(row, "reviewed_at")?,
        id: row.try_get("id")?,
        program_id: row.try_get("program_id")?,
        referrer_id: row.try_get("referrer_id")?,
        referred_id: row.try_get("referred_id")?,
        source: row.try_get("source")?,
        stage: stage.parse().map_err(StoreError::Corrupt)?,
        won_at: crate::time_col(row, "won_at")?,
        created_at: crate::time_col(row, "created_at")?,
        updated_at: crate::time_col(row, "updated_at")?,
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageChange {
    pub from_stage: Option<Stage>,
    pub to_stage: Stage,
    pub reason: Option<String>,
    /// Staff email, API key name, `system` or `public`.
    pub actor: String,
    pub at: Timestamp,
}

async fn record_change(
    conn: &mut AnyConnection,
    origin: &Origin,
    referral_id: &str,
    from: Option<Stage>,
    to: Stage,
    reason: Option<&str>,
    at: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO referral_stage_changes (id, referral_id, from_stage, to_stage, reason, actor, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(vouch_domain::id::new_id("rsc"))
    .bind(referral_id)
    .bind(from.map(|s| s.as_str().to_string()))
    .bind(to.as_str())
    .bind(reason.map(str::to_string))
    .bind(origin.actor.label.clone())
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records that `referrer_id` brought `referred_id`; `won` at once when the program qualifies
/// referrals at signup. A participant is referred at most once (409 `referred_id`).
/// A referral about to be recorded.
#[derive(Debug, Clone)]
pub struct NewReferral<'a> {
    pub program_id: &'a str,
    pub referrer_id: &'a str,
    pub referred_id: &'a str,
    pub source: Source,
    /// Won at once (the program qualifies referrals at signup).
    pub won: bool,
    /// Fraud flags; any flag puts the referral in the review queue.
    pub flags: &'a [Flag],
}

pub async fn create(tx: &mut crate::Tx, origin: &Origin, n: &NewReferral<'_>) -> Result<Referral> {
    let conn: &mut AnyConnection = tx;
    let at = now();
    let (won, flags) = (n.won, n.flags);
    let stage = if won { Stage::Won } else { Stage::New };
    let row = sqlx::query(
        "INSERT INTO referrals (id, program_id, referrer_id, referred_id, source, stage, won_at, created_at, updated_at, flags, review)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10) RETURNING *",
    )
    .bind(vouch_domain::id::new_id("ref"))
    .bind(n.program_id)
    .bind(n.referrer_id)
    .bind(n.referred_id)
    .bind(n.source.as_str())
    .bind(stage.as_str())
    .bind(won.then(|| at.clone()))
    .bind(&at)
    .bind(serde_json::to_string(flags).unwrap_or_else(|_| "[]".into()))
    .bind(if flags.is_empty() { "none" } else { "pending" })
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| conflict(e, "referrals", &["referred_id"]))?;
    let r = from_row(&row)?;
    record_change(conn, origin, &r.id, None, stage, None, &at).await?;
    let counts = crate::rollups::Counts {
        signups: 1,
        won: i64::from(won),
        ..Default::default()
    };
    tx.count(
        &r.program_id,
        &r.referrer_id,
        crate::rollups::day_of(&at),
        counts,
    );
    Ok(r)
}

/// Records many referrals with a statement per thousand, each with its first stage change and
/// its rollup counts, as [`create`] does one. Every referral names a participant not referred
/// before (the caller knows: it has just enrolled them).
pub async fn create_many(
    tx: &mut crate::Tx,
    origin: &Origin,
    news: &[NewReferral<'_>],
) -> Result<Vec<Referral>> {
    let mut made = Vec::with_capacity(news.len());
    for chunk in news.chunks(1_000) {
        let at = Timestamp::now();
        let first = made.len();
        for n in chunk {
            let stage = if n.won { Stage::Won } else { Stage::New };
            made.push(Referral {
                id: vouch_domain::id::new_id("ref"),
                program_id: n.program_id.to_string(),
                referrer_id: n.referrer_id.to_string(),
                referred_id: n.referred_id.to_string(),
                source: n.source.as_str().to_string(),
                stage,
                won_at: n.won.then_some(at),
                flags: n.flags.to_vec(),
                review: if n.flags.is_empty() {
                    "none"
                } else {
                    "pending"
                }
                .to_string(),
                review_reason: None,
                reviewed_by: None,
                reviewed_at: None,
                created_at: at,
                updated_at: at,
            });
        }
        let written = &made[first..];
        let mut sql = Sql::new(
            "INSERT INTO referrals (id, program_id, referrer_id, referred_id, source, stage, won_at, created_at, updated_at, flags, review) VALUES ",
        );
        let at_text = sql.bind(at);
        sql.push_rows(written, |row, r| {
            row.bind(&r.id)
                .bind(&r.program_id)
                .bind(&r.referrer_id)
                .bind(&r.referred_id)
                .bind(&r.source)
                .bind(r.stage.as_str())
                .bind(r.won_at.map(|t| t.to_string()))
                .placeholder(&at_text)
                .placeholder(&at_text)
                .bind(serde_json::to_string(&r.flags).unwrap_or_else(|_| "[]".into()))
                .bind(&r.review);
        });
        sql.execute(&mut *tx).await.map_err(|e| match e {
            StoreError::Database(e) => conflict(e, "referrals", &["referred_id"]),
            other => other,
        })?;
        let mut changes = Sql::new(
            "INSERT INTO referral_stage_changes (id, referral_id, from_stage, to_stage, reason, actor, at) VALUES ",
        );
        let (actor, at_text) = (changes.bind(origin.actor.label.clone()), changes.bind(at));
        changes.push_rows(written, |row, r| {
            row.bind(vouch_domain::id::new_id("rsc"))
                .bind(&r.id)
                .bind(None::<String>)
                .bind(r.stage.as_str())
                .bind(None::<String>)
                .placeholder(&actor)
                .placeholder(&at_text);
        });
        changes.execute(&mut *tx).await?;
        let day = crate::rollups::day_of(&at.to_string()).to_string();
        for r in written {
            let counts = crate::rollups::Counts {
                signups: 1,
                won: i64::from(r.stage == Stage::Won),
                ..Default::default()
            };
            tx.count(&r.program_id, &r.referrer_id, &day, counts);
        }
    }
    Ok(made)
}

/// Moves a referral to another stage. The update is guarded on the stage the caller read, so
/// two concurrent decisions cannot both apply: the second gets a 409-style `Invalid`.
pub async fn set_stage(
    tx: &mut crate::Tx,
    origin: &Origin,
    before: &Referral,
    to: Stage,
    reason: Option<&str>,
) -> Result<Referral> {
    transition(before.stage, to).map_err(|message| StoreError::WrongState {
        code: "invalid_transition",
        message,
    })?;
    let conn: &mut AnyConnection = tx;
    let at = now();
    let won_at = if to == Stage::Won {
        Some(at.clone())
    } else {
        before.won_at.map(|t| t.to_string())
    };
    let row = sqlx::query(
        "UPDATE referrals SET stage = $1, won_at = $2, updated_at = $3 WHERE id = $4 AND stage = $5 RETURNING *",
    )
    .bind(to.as_str())
    .bind(won_at)
    .bind(&at)
    .bind(&before.id)
    .bind(before.stage.as_str())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::WrongState {
        code: "invalid_transition",
        message: "the referral changed meanwhile; reload it".into(),
    })?;
    let after = from_row(&row)?;
    record_change(conn, origin, &after.id, Some(before.stage), to, reason, &at).await?;
    // A win counts on the day it was won; leaving Won takes it back from that day.
    let won_change = match (before.stage == Stage::Won, to == Stage::Won) {
        (false, true) => after.won_at.map(|t| (t, 1)),
        (true, false) => before.won_at.map(|t| (t, -1)),
        _ => None,
    };
    if let Some((on, delta)) = won_change {
        let day = on.to_string();
        let counts = crate::rollups::Counts {
            won: delta,
            ..Default::default()
        };
        tx.count(
            &after.program_id,
            &after.referrer_id,
            crate::rollups::day_of(&day),
            counts,
        );
    }
    Ok(after)
}

/// Records a staff decision on a flagged referral: `cleared` (it counts from now on) or `junk`
/// (the caller also moves its stage). Guarded: only a pending review can be decided.
pub async fn decide_review(
    conn: &mut AnyConnection,
    origin: &Origin,
    before: &Referral,
    decision: &str,
    reason: &str,
) -> Result<Referral> {
    let at = now();
    let row = sqlx::query(
        "UPDATE referrals SET review = $1, review_reason = $2, reviewed_by = $3, reviewed_at = $4, updated_at = $4 WHERE id = $5 AND review = 'pending' RETURNING *",
    )
    .bind(decision)
    .bind(reason)
    .bind(origin.actor.label.clone())
    .bind(&at)
    .bind(&before.id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::WrongState {
        code: "not_in_review",
        message: "the referral is not waiting for review".into(),
    })?;
    from_row(&row)
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Referral>> {
    let row = sqlx::query("SELECT * FROM referrals WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The referral that brought this participant, if any.
pub async fn of_referred(
    conn: &mut AnyConnection,
    participant_id: &str,
) -> Result<Option<Referral>> {
    let row = sqlx::query("SELECT * FROM referrals WHERE referred_id = $1")
        .bind(participant_id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Referrals this participant made that are in `stage`, leaving out those waiting for review
/// (a flagged referral counts toward nothing until staff clear it).
pub async fn count_by_referrer(
    conn: &mut AnyConnection,
    referrer_id: &str,
    stage: Stage,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM referrals WHERE referrer_id = $1 AND stage = $2 AND review <> 'pending'",
    )
    .bind(referrer_id)
    .bind(stage.as_str())
    .fetch_one(conn)
    .await?)
}

/// The columns a program's referral list sorts by.
pub const SORTS: &[SortColumn] = &[
    SortColumn::text("source", "source"),
    SortColumn::text("stage", "stage"),
    SortColumn::text("created_at", "created_at"),
];

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub stage: Option<Stage>,
    pub referrer_id: Option<String>,
    /// `pending` is the review queue.
    pub review: Option<String>,
    /// Newest first unless a column of [`SORTS`] is given.
    pub order: Order,
}

/// A program's referrals in the filter's order (newest first by default); `limit + 1`.
pub async fn list(
    conn: &mut AnyConnection,
    program_id: &str,
    filter: &Filter,
    starting_after: Option<&str>,
    limit: i64,
) -> Result<Vec<Referral>> {
    let rows = listing(program_id, filter)
        .ordered(filter.order)
        .page(conn, starting_after, limit)
        .await?;
    rows.iter().map(from_row).collect()
}

/// How many referrals [`list`] finds in all.
pub async fn count(conn: &mut AnyConnection, program_id: &str, filter: &Filter) -> Result<i64> {
    listing(program_id, filter).count(conn).await
}

fn listing(program_id: &str, filter: &Filter) -> NewestFirst {
    let mut list = NewestFirst::table("referrals");
    list.eq("program_id", Some(program_id))
        .eq("stage", filter.stage.map(|s| s.as_str()))
        .eq("referrer_id", filter.referrer_id.as_ref())
        .eq("review", filter.review.as_ref());
    list
}

/// Every stage change of a referral, oldest first.
pub async fn history(conn: &mut AnyConnection, referral_id: &str) -> Result<Vec<StageChange>> {
    let rows =
        sqlx::query("SELECT * FROM referral_stage_changes WHERE referral_id = $1 ORDER BY id")
            .bind(referral_id)
            .fetch_all(conn)
            .await?;
    rows.iter()
        .map(|row| {
            let from: Option<String> = row.try_get("from_stage")?;
            let to: String = row.try_get("to_stage")?;
            Ok(StageChange {
                from_stage: from
                    .map(|s| s.parse())
                    .transpose()
                    .map_err(StoreError::Corrupt)?,
                to_stage: to.parse().map_err(StoreError::Corrupt)?,
                reason: row.try_get("reason")?,
                actor: row.try_get("actor")?,
                at: crate::time_col(row, "at")?,
            })
        })
        .collect()
}
