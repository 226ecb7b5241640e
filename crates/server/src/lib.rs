//! Vouch's HTTP surface: the JSON API under `/api/v1`, the staff console under `/admin`, and the
//! public pages. Handlers extract and authorise, call a use case in `vouch_app`, and render its
//! answer; no rule and no transaction lives here.

pub mod api;
pub mod auth;
pub mod clicks;
pub mod console;
mod cookies;
mod directory;
pub mod error;
mod headers;
mod health;
mod idempotency;
pub mod instant;
mod join;
mod login_csrf;
pub mod me;
pub mod metrics;
mod openapi;
mod portal;
mod public;
mod redirect;
pub mod register;
mod request;
pub mod throttle;
pub mod unsubscribe;
mod view;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use std::net::SocketAddr;
use vouch_store::Store;

pub use vouch_app::{Ctx, Secrets, Settings};

/// What every handler gets: the application context (store, settings, secrets, link cache),
/// which it dereferences to, this process's click buffer and its public-write limits. Behind
/// one `Arc`: every request clones the state for each extractor and middleware that takes it,
/// and one counter costs less than one for each of its dozen shared parts (on the redirect's
/// hot path the clones and drops were 3 % of the server's time).
#[derive(Clone)]
pub struct AppState(std::sync::Arc<Shared>);

/// See [`AppState`].
pub struct Shared {
    pub ctx: Ctx,
    pub clicks: clicks::ClickBuffer,
    /// This process's limits on public writes.
    pub throttle: throttle::Throttle,
    /// This process's request counts and latencies, for `/metrics`.
    pub metrics: metrics::HttpMetrics,
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl std::ops::Deref for Shared {
    type Target = Ctx;
    fn deref(&self) -> &Ctx {
        &self.ctx
    }
}

impl AppState {
    /// Loads (or creates) the installation's secrets and starts the click writer; call
    /// [`clicks::ClickBuffer::flush_and_stop`] on shutdown.
    pub async fn new(store: Store, settings: Settings) -> Result<Self, vouch_store::StoreError> {
        Ok(Self::with_ctx(Ctx::new(store, settings).await?))
    }

    /// Starts the click writer beside an existing context.
    pub fn with_ctx(ctx: Ctx) -> Self {
        let clicks = clicks::ClickBuffer::start(ctx.store.clone());
        Self(std::sync::Arc::new(Shared {
            ctx,
            clicks,
            throttle: throttle::Throttle::default(),
            metrics: metrics::HttpMetrics::default(),
        }))
    }
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let (api_routes, spec) = api::routes(state.clone());
    let routes = Router::new()
        .merge(health::routes())
        .merge(public::routes())
        .merge(register::routes())
        .merge(directory::routes())
        .merge(redirect::routes())
        .merge(unsubscribe::routes())
        .merge(join::routes())
        .merge(instant::routes())
        .merge(me::routes())
        .merge(console::routes())
        .merge(portal::routes())
        .merge(api_routes)
        .merge(openapi::routes(spec))
        .merge(metrics::routes())
        .fallback(public::not_found)
        .layer(DefaultBodyLimit::max(1024 * 1024));
    let routes = if state.settings.metrics_token.is_some() {
        routes.layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::measure,
        ))
    } else {
        routes
    };
    routes
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            request::outermost,
        ))
        .with_state(state)
}

/// Serves until `shutdown` resolves, then stops accepting and lets in-flight requests finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
