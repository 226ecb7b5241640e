//! Log in and out.

use super::{Console, CsrfForm, FormBody, error_page};
use crate::AppState;
use crate::auth::{clear_session_cookie, session_cookie};
use crate::request::Meta;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use vouch_app::auth::{LoggedIn, LoginFailure, login};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/login", get(page).post(submit))
        .route("/admin/logout", post(logout))
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    email: String,
    next: String,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
struct NextParam {
    next: Option<String>,
}

/// Only local paths, so the login form cannot be used to bounce people to another site.
fn safe_next(next: Option<&str>) -> String {
    next.filter(|n| n.starts_with("/admin") && !n.starts_with("//") && !n.contains('\\'))
        .unwrap_or("/admin/accounts")
        .to_string()
}

async fn page(Query(q): Query<NextParam>) -> LoginPage {
    LoginPage {
        email: String::new(),
        next: safe_next(q.next.as_deref()),
        error: None,
    }
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

async fn submit(
    State(state): State<AppState>,
    meta: Meta,
    FormBody(form): FormBody<LoginForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    let again = |error: &str| LoginPage {
        email: form.email.clone(),
        next: next.clone(),
        error: Some(error.to_string()),
    };
    if form.email.trim().is_empty() || form.password.is_empty() {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            again("Enter your email and password."),
        )
            .into_response();
    }
    match login(
        &state,
        meta.request_id.as_deref(),
        &meta.client_ip,
        &form.email,
        &form.password,
    )
    .await
    {
        Ok(Ok(LoggedIn { token, .. })) => {
            let mut response = Redirect::to(&next).into_response();
            if let Ok(v) = session_cookie(&state.settings, &token).parse() {
                response.headers_mut().insert(header::SET_COOKIE, v);
            }
            response
        }
        Ok(Err(LoginFailure::Invalid)) => (
            StatusCode::UNAUTHORIZED,
            again("That email and password do not match an active account."),
        )
            .into_response(),
        Ok(Err(LoginFailure::Throttled { retry_after })) => {
            let minutes = retry_after.div_ceil(60);
            let mut response = (
                StatusCode::TOO_MANY_REQUESTS,
                again(&format!(
                    "Too many failed attempts. Try again in {minutes} minute(s)."
                )),
            )
                .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, retry_after.into());
            response
        }
        Err(e) => error_page(&e.into()),
    }
}

#[derive(Deserialize)]
struct LogoutForm {}

async fn logout(console: Console, CsrfForm(_form): CsrfForm<LogoutForm>) -> Response {
    let result = vouch_app::auth::logout(&console.state, &console.origin, &console.session).await;
    if let Err(e) = result {
        return error_page(&e.into());
    }
    let mut response = Redirect::to("/admin/login").into_response();
    if let Ok(v) = clear_session_cookie(&console.state.settings).parse() {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}
