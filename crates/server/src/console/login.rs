//! Log in and out.

use super::{Console, CsrfForm, FormBody, error_page};
use crate::AppState;
use crate::auth::{clear_session_cookie, session_cookie};
use crate::login_csrf;
use crate::request::Meta;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
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
    login_csrf: String,
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

async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NextParam>,
) -> Response {
    let (login_csrf, cookie) = login_csrf::issue(&state, &headers);
    let page = LoginPage {
        email: String::new(),
        next: safe_next(q.next.as_deref()),
        error: None,
        login_csrf,
    };
    login_csrf::with_cookie(page.into_response(), cookie)
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
    #[serde(default)]
    login_csrf: String,
}

async fn submit(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
    FormBody(form): FormBody<LoginForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    let (token, cookie) = login_csrf::issue(&state, &headers);
    let again = |error: &str| LoginPage {
        email: form.email.clone(),
        next: next.clone(),
        error: Some(error.to_string()),
        login_csrf: token.clone(),
    };
    if !login_csrf::verify(&state, &headers, &form.login_csrf) {
        let page = (StatusCode::FORBIDDEN, again(login_csrf::EXPIRED)).into_response();
        return login_csrf::with_cookie(page, cookie);
    }
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
            crate::cookies::append(
                response.headers_mut(),
                session_cookie(&state.settings, &token),
            );
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
    crate::cookies::append(
        response.headers_mut(),
        clear_session_cookie(&console.state.settings),
    );
    response
}
