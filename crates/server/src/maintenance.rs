//! Housekeeping that runs beside the HTTP server: expired sessions, idempotency keys past
//! retention and login attempts outside every throttling window are deleted, and rewards whose
//! hold period ended become earned — once at start and then every 10 minutes, until shutdown.

use crate::AppState;
use std::time::Duration;
use vouch_store::{idempotency, login_attempts, sessions};

const EVERY: Duration = Duration::from_secs(600);

/// One pass; returns how many rows went.
pub async fn sweep(state: &AppState) -> vouch_store::Result<u64> {
    let s = &state.settings;
    let mut conn = state.store.conn().await?;
    let expired = sessions::purge(
        &mut conn,
        &vouch_store::seconds_ago(s.session_idle_minutes * 60),
        &vouch_store::seconds_ago(s.session_absolute_hours * 3600),
    )
    .await?;
    let keys = idempotency::purge(&mut conn).await?;
    // Keep a day of attempts for investigations, never less than the throttling window.
    let keep = (s.login_window_minutes * 60).max(86_400);
    let attempts = login_attempts::purge(&mut conn, &vouch_store::seconds_ago(keep)).await?;
    let participant_access = vouch_store::participant_access::purge(&mut conn).await?;
    Ok(expired + keys + attempts + participant_access)
}

/// Runs [`sweep`] until `stop` resolves.
pub async fn run(state: AppState, stop: impl std::future::Future<Output = ()>) {
    tokio::pin!(stop);
    loop {
        match sweep(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(rows = n, "housekeeping removed expired rows"),
            Err(e) => tracing::warn!(error = %e, "housekeeping failed; will retry"),
        }
        match crate::service::rewards::release_holds(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(rewards = n, "reward holds ended"),
            Err(e) => {
                tracing::warn!(error = %e.detail, "releasing reward holds failed; will retry")
            }
        }
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(EVERY) => {}
        }
    }
}
