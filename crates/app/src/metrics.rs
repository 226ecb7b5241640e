//! What `/metrics` reads from the database at scrape time: jobs waiting, running or dead per
//! kind with the oldest one's age, and the last hour's delivery attempts per kind and outcome.
//! Counters of this process alone (requests, clicks) are kept by the server.

use crate::{AppResult, Ctx};
use vouch_store::jobs::{self, QueueGauge};

pub struct Snapshot {
    pub queues: Vec<QueueGauge>,
    /// (job kind, succeeded, attempts) in the last hour.
    pub attempts_last_hour: Vec<(String, bool, i64)>,
    /// Seconds since the oldest job of each queue gauge was due (same order as `queues`).
    pub oldest_age_seconds: Vec<f64>,
}

pub async fn snapshot(ctx: &Ctx) -> AppResult<Snapshot> {
    let mut conn = ctx.store.conn().await?;
    let queues = jobs::queue_gauges(&mut conn).await?;
    let now = ctx.clock.now();
    let hour_ago = ctx.clock.from_now(time::Duration::hours(-1));
    let attempts_last_hour = jobs::attempts_since(&mut conn, hour_ago).await?;
    let oldest_age_seconds = queues
        .iter()
        .map(|q| {
            q.oldest_run_at.map_or(0.0, |t| {
                (now.datetime() - t.datetime()).as_seconds_f64().max(0.0)
            })
        })
        .collect();
    Ok(Snapshot {
        queues,
        attempts_last_hour,
        oldest_age_seconds,
    })
}
