//! Vouch's background work. Workers claim jobs from the durable queue in the database (see
//! `vouch_store::jobs`), run them, and record every attempt: webhook deliveries (signed as
//! Standard Webhooks v1 describes) and email (SMTP or the outbox sink). The schedules
//! (`housekeeping`: reward holds, expired sessions and tokens) run beside them and change state
//! only through `vouch_app`.

pub mod email;
pub mod housekeeping;
pub mod lead;
pub mod outbound;
pub mod signing;
pub mod webhook;
pub mod worker;

pub use outbound::OutboundPolicy;
pub use worker::{Worker, WorkerError, WorkerSettings};

use std::future::Future;
use vouch_app::Ctx;

/// All background work of one process: the delivery worker and every schedule. `vouch worker`
/// runs exactly this, and so does `vouch serve` unless `--no-worker`, so a split deployment
/// loses nothing.
pub struct Background {
    worker: Worker,
    ctx: Ctx,
}

impl Background {
    pub fn new(ctx: Ctx, settings: WorkerSettings) -> Result<Self, WorkerError> {
        Ok(Self {
            worker: Worker::new(ctx.store.clone(), settings)?,
            ctx,
        })
    }

    /// Runs until `stop` resolves; then the worker finishes what it started (see
    /// [`Worker::run`]) and the schedules end after their current pass.
    pub async fn run(self, stop: impl Future<Output = ()>) {
        let (tx, rx) = tokio::sync::watch::channel(false);
        let stopped = move || {
            let mut rx = rx.clone();
            async move {
                let _ = rx.wait_for(|stopped| *stopped).await;
            }
        };
        let worker = tokio::spawn(self.worker.run(stopped()));
        let schedules = tokio::spawn(housekeeping::run(self.ctx, stopped()));
        stop.await;
        let _ = tx.send(true);
        let _ = worker.await;
        let _ = schedules.await;
    }
}

/// Installs rustls' ring provider once per process; every TLS client (outbound HTTP, SMTP,
/// PostgreSQL) then uses it.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
