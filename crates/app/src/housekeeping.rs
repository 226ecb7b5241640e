//! Rows whose time is over: expired staff and partner sessions, idempotency keys past retention, login
//! attempts outside every throttling window, used or expired participant tokens; delivery
//! records and raw clicks past the retention settings; and the months' click partitions.

use crate::Ctx;
use vouch_store::{click_partitions, idempotency, login_attempts, retention, sessions};

/// Deletes delivery records and raw clicks past `settings.retention`, batch by batch until
/// none is left; returns how many events, jobs and clicks went (a dropped month of clicks is
/// logged, not counted).
pub async fn purge_old(ctx: &Ctx) -> vouch_store::Result<u64> {
    let r = &ctx.settings.retention;
    let mut gone = 0;
    if r.events_days > 0 {
        let before = ctx.clock.ago(time::Duration::days(r.events_days));
        loop {
            let n = retention::purge_events(&ctx.store, before).await?;
            gone += n;
            if n == 0 {
                break;
            }
        }
    }
    if r.jobs_days > 0 {
        let before = ctx.clock.ago(time::Duration::days(r.jobs_days));
        loop {
            let n = retention::purge_jobs(&ctx.store, before).await?;
            gone += n;
            if n == 0 {
                break;
            }
        }
    }
    if r.clicks_days > 0 {
        let before = ctx.clock.ago(time::Duration::days(r.clicks_days));
        let dropped = click_partitions::drop_before(&ctx.store, before).await?;
        if dropped.postponed {
            // Deleting those months row by row instead would be far slower than waiting.
            tracing::info!("click retention postponed: the clicks table was busy");
            return Ok(gone);
        }
        if !dropped.months.is_empty() {
            tracing::info!(
                months = dropped.months.len(),
                "retention dropped old months of clicks"
            );
        }
        gone += click_partitions::purge_before(&ctx.store, before).await?;
    }
    Ok(gone)
}

/// Creates the click partitions of this month and the next on PostgreSQL (and of any month
/// whose clicks went to the default partition); returns how many it created.
pub async fn prepare_click_partitions(ctx: &Ctx) -> vouch_store::Result<usize> {
    Ok(click_partitions::prepare(&ctx.store, ctx.clock.now())
        .await?
        .len())
}

/// Deletes them all; returns how many rows went.
pub async fn purge_expired(ctx: &Ctx) -> vouch_store::Result<u64> {
    let s = &ctx.settings;
    let mut conn = ctx.store.conn().await?;
    let mut expired = 0;
    for realm in [sessions::Realm::Staff, sessions::Realm::Partner] {
        expired += sessions::purge(
            &mut conn,
            realm,
            ctx.clock
                .ago(time::Duration::minutes(s.session_idle_minutes)),
            ctx.clock
                .ago(time::Duration::hours(s.session_absolute_hours)),
        )
        .await?;
    }
    let keys = idempotency::purge(&mut conn).await?;
    // Keep a day of attempts for investigations, never less than the throttling window.
    let keep = (s.login_window_minutes * 60).max(86_400);
    let attempts =
        login_attempts::purge(&mut conn, ctx.clock.ago(time::Duration::seconds(keep))).await?;
    let participant_access = vouch_store::participant_access::purge(&mut conn).await?;
    Ok(expired + keys + attempts + participant_access)
}
