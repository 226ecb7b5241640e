//! The schedules every worker runs (`vouch worker`, and `vouch serve` unless `--no-worker`):
//! expired sessions, participant login tokens, idempotency keys past retention and login attempts outside every
//! throttling window are deleted, and so are events, finished jobs and raw clicks past the
//! retention settings; on PostgreSQL the next month's click partition is created ahead; rewards whose hold period ended become earned, and payments
//! whose due date has come become due — once at start and then every 10 minutes, until
//! shutdown. Several workers may run them at once: each pass is idempotent (a hold ends once,
//! guarded on the reward's status; a payment falls due once, guarded on its status).

use std::time::Duration;
use vouch_app::Ctx;

const EVERY: Duration = Duration::from_secs(600);

/// Runs every schedule until `stop` resolves.
pub async fn run(ctx: Ctx, stop: impl std::future::Future<Output = ()>) {
    tokio::pin!(stop);
    loop {
        match vouch_app::housekeeping::purge_expired(&ctx).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(rows = n, "housekeeping removed expired rows"),
            Err(e) => tracing::warn!(error = %e, "housekeeping failed; will retry"),
        }
        match vouch_app::housekeeping::purge_old(&ctx).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(rows = n, "retention removed old events, jobs and clicks"),
            Err(e) => tracing::warn!(error = %e, "retention failed; will retry"),
        }
        match vouch_app::housekeeping::prepare_click_partitions(&ctx).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(months = n, "click partitions created"),
            Err(e) => tracing::warn!(error = %e, "creating click partitions failed; will retry"),
        }
        match vouch_app::rewards::release_holds(&ctx).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(rewards = n, "reward holds ended"),
            Err(e) => {
                tracing::warn!(error = %e, "releasing reward holds failed; will retry")
            }
        }
        // Due dates are days: checking every pass (not once a day) makes a payment due within
        // minutes of its day starting, and a missed pass costs nothing.
        match vouch_app::payouts::mark_payments_due(&ctx).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(payments = n, "payments fell due"),
            Err(e) => tracing::warn!(error = %e, "marking payments due failed; will retry"),
        }
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(EVERY) => {}
        }
    }
}
