//! The HTTP stack's own floor for `bench/redirect.sh`: tokio and hyper through axum, as
//! `vouch serve` runs them, answering `GET /r/{code}` with the 302 nginx's baseline gives and
//! doing nothing else (no middleware, no lookup, no cookie, no click).
//!
//!   cargo run --release -p vouch-server --example bare_redirect -- 127.0.0.1:18097

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::routing::get;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let bind = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18097".into());
    let app = Router::new().route(
        "/r/{code}",
        get(|Path(code): Path<String>| async move {
            (
                StatusCode::FOUND,
                [(
                    header::LOCATION,
                    format!("https://shop.example.com/welcome?ref={code}"),
                )],
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind(bind).await?;
    axum::serve(listener, app).await
}
