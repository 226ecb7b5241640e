//! Vouch's workers. They claim jobs from the durable queue in the database (see
//! `vouch_store::jobs`), run them, and record every attempt: webhook deliveries (signed as
//! Standard Webhooks v1 describes) and email (SMTP or the outbox sink).

pub mod email;
pub mod outbound;
pub mod signing;
pub mod webhook;
pub mod worker;

pub use outbound::OutboundPolicy;
pub use worker::{Worker, WorkerSettings};

/// Installs rustls' ring provider once per process; every TLS client (outbound HTTP, SMTP,
/// PostgreSQL) then uses it.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
