//! Rows whose time is over: expired staff and partner sessions, idempotency keys past retention, login
//! attempts outside every throttling window, used or expired participant tokens; and delivery
//! records past the retention settings.

use crate::Ctx;
use vouch_store::{idempotency, login_attempts, retention, sessions};

/// Deletes delivery records past `settings.retention`, batch by batch until none is left;
/// returns how many events and jobs went.
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
    Ok(gone)
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
