//! The privacy page: what Vouch holds about one email address (with the JSON download) and
//! erasing a participant or a person on request, each behind a confirmation.

use super::{CsrfForm, Layout, StaffCan, error_page};
use crate::AppState;
use crate::auth::perm;
use crate::error::ApiError;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use vouch_app::privacy::PersonalData;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/privacy", get(page))
        .route(
            "/admin/privacy/participants/{id}/erase",
            post(erase_participant),
        )
        .route("/admin/privacy/people/{id}/erase", post(erase_person))
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/privacy.html")]
struct PrivacyPage {
    l: Layout,
    email: String,
    error: Option<String>,
    found: Option<PersonalData>,
    /// The JSON download of what was found.
    download: String,
}

#[derive(Deserialize, Default)]
struct EmailQuery {
    #[serde(default)]
    email: String,
}

async fn page(
    StaffCan(mut console, _): StaffCan<perm::PrivacyManage>,
    Query(q): Query<EmailQuery>,
) -> Response {
    let email = q.email.trim().to_string();
    let (found, error) = if email.is_empty() {
        (None, None)
    } else {
        match vouch_app::privacy::personal_data(&console.state, &console.origin, &email).await {
            Ok(data) => (Some(data), None),
            Err(e) => {
                let err = ApiError::from(e);
                if !err.status.is_client_error() {
                    return error_page(&err);
                }
                let message = err
                    .errors
                    .first()
                    .map_or(err.detail.clone(), |f| format!("The email {}.", f.message));
                (None, Some(message))
            }
        }
    };
    let download = format!(
        "/api/v1/personal-data?{}",
        form_urlencoded::Serializer::new(String::new())
            .append_pair("email", &email)
            .finish()
    );
    PrivacyPage {
        l: console.layout("privacy"),
        email,
        error,
        found,
        download,
    }
    .into_response()
}

#[derive(Deserialize)]
struct EraseForm {
    /// Where to come back to: the address that was looked up.
    #[serde(default)]
    email: String,
}

fn back(email: &str) -> String {
    format!(
        "/admin/privacy?{}",
        form_urlencoded::Serializer::new(String::new())
            .append_pair("email", email)
            .finish()
    )
}

async fn erase_participant(
    StaffCan(console, _): StaffCan<perm::PrivacyManage>,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<EraseForm>,
) -> Response {
    let outcome = vouch_app::privacy::erase_participant(&console.state, &console.origin, &id)
        .await
        .map(|p| format!("Participant {} erased.", p.id))
        .map_err(ApiError::from);
    console.finish(&back(&f.email), outcome).await
}

async fn erase_person(
    StaffCan(console, _): StaffCan<perm::PrivacyManage>,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<EraseForm>,
) -> Response {
    let outcome = vouch_app::privacy::erase_person(&console.state, &console.origin, &id)
        .await
        .map(|p| format!("Person {} erased.", p.id))
        .map_err(ApiError::from);
    console.finish(&back(&f.email), outcome).await
}
