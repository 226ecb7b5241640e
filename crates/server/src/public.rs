//! What the public pages (signup, referral page, instant links, unsubscribe) share: the page
//! that only says something, and finding a program by its slug.

use crate::AppState;
use crate::register::Notice;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use vouch_domain::program::ProgramStatus;
use vouch_store::programs::Program;

/// The pages' one script (copy buttons, confirmations, reading a chosen CSV file), served from
/// this origin so the content policy can forbid every other script.
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/", axum::routing::get(home))
        .route(
            "/assets/vouch.js",
            axum::routing::get(|| async {
                (
                    [
                        (
                            axum::http::header::CONTENT_TYPE,
                            "text/javascript; charset=utf-8",
                        ),
                        (axum::http::header::CACHE_CONTROL, "public, max-age=3600"),
                    ],
                    include_str!("../assets/vouch.js"),
                )
            }),
        )
}

/// The installation's front door: where a visitor lands when a link leads nowhere else.
async fn home() -> Response {
    (
        StatusCode::OK,
        Notice::new(
            "Referral programs",
            "This site runs referral programs. If someone shared a referral link with you, open it again as they sent it; it takes you to their program's page.",
        )
        .with_link("/admin", "Staff sign-in"),
    )
        .into_response()
}

/// Any address nothing answers: the console's own page under `/admin` (with its navigation
/// for a signed-in user), a plain page elsewhere. The API answers its own 404s.
pub async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return crate::error::ApiError::not_found("endpoint").into_response();
    }
    notice(
        StatusCode::NOT_FOUND,
        "Page not found",
        "There is nothing at this address. If it came from a link, check that it was copied whole.",
    )
}

/// A page with a title and a message, answered with `status`.
pub fn notice(status: StatusCode, title: &str, message: &str) -> Response {
    (status, Notice::new(title, message)).into_response()
}

/// The program behind a slug as the public sees it: a draft does not exist yet.
pub async fn visible_program(state: &AppState, slug: &str) -> Result<Program, Response> {
    match vouch_app::programs::by_slug(state, slug).await {
        Ok(Some(p)) if p.status != ProgramStatus::Draft => Ok(p),
        Ok(_) => Err(notice(
            StatusCode::NOT_FOUND,
            "This program does not exist",
            "Check the address, or ask whoever sent you the link for a current one.",
        )),
        Err(e) => Err(crate::console::error_page(&e.into())),
    }
}
