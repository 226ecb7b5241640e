//! Vouch's HTTP surface: the JSON API under `/api/v1`, the staff console under `/admin`, and the
//! public registration pages. Handlers parse and authorise, the domain crate decides, the store
//! persists the change with its audit entry in one transaction.

pub mod api;
pub mod auth;
pub mod clicks;
pub mod console;
pub mod error;
mod health;
mod idempotency;
pub mod instant;
mod join;
pub mod links;
pub mod maintenance;
pub mod me;
mod openapi;
mod public;
mod redirect;
pub mod register;
mod request;
pub mod service;
mod signed;
pub mod unsubscribe;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use std::net::SocketAddr;
use std::sync::Arc;
use vouch_store::Store;

/// Settings the HTTP layer needs; the binary builds them from its configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Public address of this installation, without a trailing slash; links and emails use it.
    pub base_url: String,
    /// Domain of the email address the clone convention gives a referral super customer.
    pub clone_email_domain: String,
    pub session_idle_minutes: i64,
    pub session_absolute_hours: i64,
    /// Failed logins allowed per account and per address within the window.
    pub login_max_failures: i64,
    pub login_window_minutes: i64,
    /// Which non-public networks outbound URLs (webhook endpoints) may point to.
    pub outbound: vouch_jobs::OutboundPolicy,
    /// Referred signups from one network address per hour before they are flagged (0: off).
    pub fraud_velocity_per_hour: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            base_url: "http://127.0.0.1:8080".into(),
            clone_email_domain: "example.com".into(),
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            login_max_failures: 10,
            login_window_minutes: 15,
            outbound: vouch_jobs::OutboundPolicy::default(),
            fraud_velocity_per_hour: 5,
        }
    }
}

impl Settings {
    pub fn secure_cookies(&self) -> bool {
        self.base_url.starts_with("https://")
    }
}

/// Keys shared by every process of the installation (kept in the database).
pub struct Secrets {
    /// Mixed into the visitor hash of clicks: visitors are counted, never stored.
    pub visitor: Vec<u8>,
    /// Signs unsubscribe links.
    pub unsubscribe: Vec<u8>,
    /// Signs embed tokens of the participant page.
    pub embed: Vec<u8>,
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub settings: Arc<Settings>,
    pub clicks: clicks::ClickBuffer,
    pub links: Arc<links::LinkCache>,
    pub secrets: Arc<Secrets>,
}

impl AppState {
    /// Loads (or creates) the installation's secrets and starts the click writer; call
    /// [`clicks::ClickBuffer::flush_and_stop`] on shutdown.
    pub async fn new(store: Store, settings: Settings) -> Result<Self, vouch_store::StoreError> {
        let secrets = {
            let mut conn = store.conn().await?;
            Secrets {
                visitor: vouch_store::secrets::get_or_create(&mut conn, "visitor_hash").await?,
                unsubscribe: vouch_store::secrets::get_or_create(&mut conn, "unsubscribe").await?,
                embed: vouch_store::secrets::get_or_create(&mut conn, "embed").await?,
            }
        };
        let clicks = clicks::ClickBuffer::start(store.clone());
        Ok(Self {
            store,
            settings: Arc::new(settings),
            clicks,
            links: Arc::default(),
            secrets: Arc::new(secrets),
        })
    }
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let (api_routes, spec) = api::routes(state.clone());
    Router::new()
        .merge(health::routes())
        .merge(register::routes())
        .merge(redirect::routes())
        .merge(unsubscribe::routes())
        .merge(join::routes())
        .merge(instant::routes())
        .merge(me::routes())
        .merge(console::routes())
        .merge(api_routes)
        .merge(openapi::routes(spec))
        .layer(DefaultBodyLimit::max(1024 * 1024))
        .layer(axum::middleware::from_fn(request::request_id_and_log))
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
