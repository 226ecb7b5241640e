//! Signing in and out of the portal, accepting an invitation (setting a password from the
//! one-time link) and asking for a new password.

use super::Portal;
use crate::AppState;
use crate::auth::portal_cookie;
use crate::console::{CsrfForm, FormBody, error_page};
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
use vouch_app::partner_users::{SignInFailure, SignedIn};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/portal",
            get(|| async { Redirect::to("/portal/referrals") }),
        )
        .route(
            "/portal/",
            get(|| async { Redirect::to("/portal/referrals") }),
        )
        .route("/portal/login", get(login_page).post(login))
        .route("/portal/logout", post(logout))
        .route("/portal/welcome", get(welcome_page).post(welcome))
        .route("/portal/reset", get(reset_page).post(reset))
}

fn signed_in(state: &AppState, to: &str, token: &str) -> Response {
    let mut response = Redirect::to(to).into_response();
    crate::cookies::append(
        response.headers_mut(),
        portal_cookie(&state.settings, token, false),
    );
    response
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/login.html")]
struct LoginPage {
    email: String,
    error: Option<String>,
    notice: Option<String>,
    login_csrf: String,
}

async fn login_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (login_csrf, cookie) = login_csrf::issue(&state, &headers);
    let page = LoginPage {
        email: String::new(),
        error: None,
        notice: None,
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
    #[serde(default)]
    login_csrf: String,
}

async fn login(
    State(state): State<AppState>,
    meta: Meta,
    headers: HeaderMap,
    FormBody(form): FormBody<LoginForm>,
) -> Response {
    let (token, cookie) = login_csrf::issue(&state, &headers);
    let again = |error: &str| LoginPage {
        email: form.email.clone(),
        error: Some(error.to_string()),
        notice: None,
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
    match vouch_app::partner_users::sign_in(
        &state,
        meta.request_id.as_deref(),
        &meta.client_ip,
        &form.email,
        &form.password,
    )
    .await
    {
        Ok(Ok(SignedIn { token, .. })) => signed_in(&state, "/portal/referrals", &token),
        Ok(Err(SignInFailure::Invalid)) => (
            StatusCode::UNAUTHORIZED,
            again("That email and password do not match an active portal account."),
        )
            .into_response(),
        Ok(Err(SignInFailure::Throttled { retry_after })) => {
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
struct Empty {}

async fn logout(portal: Portal, CsrfForm(_): CsrfForm<Empty>) -> Response {
    if let Err(e) =
        vouch_app::partner_users::sign_out(&portal.state, &portal.origin, &portal.session).await
    {
        return error_page(&e.into());
    }
    let mut response = Redirect::to("/portal/login").into_response();
    crate::cookies::append(
        response.headers_mut(),
        portal_cookie(&portal.state.settings, "", true),
    );
    response
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/welcome.html")]
struct WelcomePage {
    token: String,
    /// Who the link is for, while it works.
    holder: Option<(String, String)>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
struct TokenParam {
    #[serde(default)]
    token: String,
}

async fn welcome_page(State(state): State<AppState>, Query(q): Query<TokenParam>) -> Response {
    match vouch_app::partner_users::link_holder(&state, &q.token).await {
        Ok(holder) => {
            let status = if holder.is_some() {
                StatusCode::OK
            } else {
                StatusCode::NOT_FOUND
            };
            (
                status,
                WelcomePage {
                    holder: holder.map(|(u, p)| (u.name, p.name)),
                    token: q.token,
                    error: None,
                },
            )
                .into_response()
        }
        Err(e) => error_page(&e.into()),
    }
}

#[derive(Deserialize)]
struct WelcomeForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

async fn welcome(
    State(state): State<AppState>,
    meta: Meta,
    FormBody(form): FormBody<WelcomeForm>,
) -> Response {
    let holder = match vouch_app::partner_users::link_holder(&state, &form.token).await {
        Ok(h) => h.map(|(u, p)| (u.name, p.name)),
        Err(e) => return error_page(&e.into()),
    };
    let again = |status: StatusCode, error: String| {
        (
            status,
            WelcomePage {
                token: form.token.clone(),
                holder: holder.clone(),
                error: Some(error),
            },
        )
            .into_response()
    };
    if holder.is_none() {
        return again(
            StatusCode::NOT_FOUND,
            "This link was used already or has expired.".into(),
        );
    }
    if form.password != form.confirm {
        return again(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The two passwords differ.".into(),
        );
    }
    match vouch_app::partner_users::accept(
        &state,
        meta.request_id.as_deref(),
        &meta.client_ip,
        &form.token,
        &form.password,
    )
    .await
    {
        Ok(Some(SignedIn { token, .. })) => signed_in(&state, "/portal/referrals", &token),
        Ok(None) => again(
            StatusCode::NOT_FOUND,
            "This link was used already or has expired.".into(),
        ),
        Err(e) if e.is_client_error() => {
            let message = e
                .field_errors()
                .first()
                .map_or_else(|| e.detail(), |f| format!("The password {}.", f.message));
            again(StatusCode::UNPROCESSABLE_ENTITY, message)
        }
        Err(e) => error_page(&e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/reset.html")]
struct ResetPage {
    sent: bool,
}

async fn reset_page() -> ResetPage {
    ResetPage { sent: false }
}

#[derive(Deserialize)]
struct ResetForm {
    #[serde(default)]
    email: String,
}

async fn reset(
    State(state): State<AppState>,
    meta: Meta,
    FormBody(form): FormBody<ResetForm>,
) -> Response {
    if let Some(refused) = crate::throttle::refusal(
        &state,
        crate::throttle::PublicWrite::PasswordReset,
        &meta.client_ip,
        None,
    ) {
        return refused;
    }
    let origin = vouch_store::audit::Origin {
        actor: vouch_store::audit::Actor {
            kind: vouch_store::audit::ActorKind::Public,
            id: None,
            label: form.email.trim().to_lowercase(),
        },
        request_id: meta.request_id,
        client_ip: Some(meta.client_ip),
    };
    // The same answer whether or not the address has access.
    match vouch_app::partner_users::request_reset(&state, &origin, &form.email).await {
        Ok(()) => ResetPage { sent: true }.into_response(),
        Err(e) => error_page(&e.into()),
    }
}
