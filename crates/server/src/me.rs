//! The participant's referral page, `/p/{slug}/me`: their link with copy and share buttons,
//! counts of clicks, referrals and wins, their rewards, and progress to the next milestone.
//!
//! Two ways in. A participant asks for a link by email (`POST /p/{slug}/me/link`); the emailed
//! single-use link (30 minutes) leads to a page with a button — a GET never uses the token, so
//! mail scanners that follow links do not burn it — and the button opens a 30-day session. Or
//! the operator's own site embeds the page in an iframe with a signed token its server mints
//! through the API (`POST /api/v1/participants/{id}/embed-tokens`, at most an hour).

use crate::AppState;
use crate::auth::cookie_value;
use crate::console::FormBody;
use crate::public::{notice, visible_program};
use crate::request::Meta;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use vouch_app::AppError;
use vouch_app::participant_access as access;
use vouch_app::participants::referral_link;
use vouch_domain::reward::RewardStatus;
use vouch_store::participants::Participant;
use vouch_store::programs::Program;
use vouch_store::rewards::Reward;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/p/{slug}/me", get(page))
        .route("/p/{slug}/me/link", axum::routing::post(send_link))
        .route("/p/{slug}/me/login", get(login_page).post(login))
}

const SESSION_COOKIE: &str = "vouch_participant";
use vouch_app::participant_access::SESSION_DAYS;

/// One reward as the participant sees it.
pub struct RewardLine {
    pub title: String,
    pub status: RewardStatus,
    pub coupon_code: Option<String>,
    pub when: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "me.html")]
struct MePage {
    program: Program,
    participant: Participant,
    link: String,
    clicks: i64,
    referred: i64,
    won: i64,
    rewards: Vec<RewardLine>,
    /// Won referrals needed for the next reward, and how many of them are done (in percent).
    next: Option<(i64, i64)>,
    embedded: bool,
    share_text: String,
    /// (rank, leaders) when the program shows a leaderboard.
    leaderboard: Option<(i64, Vec<(String, i64)>)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "me_login.html")]
struct LoginPage {
    program: Program,
    /// `ask` (form), `sent`, `continue` (button for a usable token) or `expired`.
    step: &'static str,
    token: String,
    /// For the `continue` form (see `crate::login_csrf`).
    login_csrf: String,
    error: Option<&'static str>,
}

#[derive(Deserialize, Default)]
struct PageParams {
    #[serde(default)]
    embed_token: String,
}

async fn page(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<PageParams>,
    headers: HeaderMap,
) -> Response {
    let program = match visible_program(&state, &slug).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let embedded = !q.embed_token.is_empty();
    let who = if embedded {
        vouch_app::participant_access::verify_embed(&state, &q.embed_token)
    } else {
        match cookie_value(&headers, SESSION_COOKIE) {
            Some(token) => match access::session_participant(&state, token).await {
                Ok(p) => p,
                Err(e) => return crate::console::error_page(&e.into()),
            },
            None => None,
        }
    };
    let Some(participant_id) = who else {
        if embedded {
            return notice(
                StatusCode::UNAUTHORIZED,
                "This page has expired",
                "Reload the page that shows it to get a fresh one.",
            );
        }
        return LoginPage {
            program,
            step: "ask",
            token: String::new(),
            login_csrf: String::new(),
            error: None,
        }
        .into_response();
    };
    match render(&state, program, &participant_id, embedded).await {
        Ok(Some(page)) => page.into_response(),
        // A session or token of another program's participant opens nothing here.
        Ok(None) => notice(
            StatusCode::NOT_FOUND,
            "Not found",
            "This page belongs to another program.",
        ),
        Err(e) => crate::console::error_page(&e.into()),
    }
}

async fn render(
    state: &AppState,
    program: Program,
    participant_id: &str,
    embedded: bool,
) -> Result<Option<MePage>, AppError> {
    let Some(own) = access::own_page(state, &program, participant_id).await? else {
        return Ok(None);
    };
    let rewards = own.rewards.into_iter().map(reward_line).collect();
    let link = referral_link(state, &own.participant.code);
    Ok(Some(MePage {
        leaderboard: own.leaderboard,
        share_text: format!("Join me on {}: {link}", program.name),
        program,
        participant: own.participant,
        link,
        clicks: own.clicks,
        referred: own.referred,
        won: own.won,
        rewards,
        next: own.next,
        embedded,
    }))
}

fn reward_line(w: Reward) -> RewardLine {
    RewardLine {
        title: vouch_app::rewards::title(&w),
        status: w.status,
        when: match w.status {
            RewardStatus::Pending => w
                .hold_until
                .map(|h| format!("available from {}", h.date()))
                .unwrap_or_default(),
            RewardStatus::Delivered => w.delivered_at.map(|t| t.to_string()).unwrap_or_default(),
            _ => w.earned_at.map(|t| t.to_string()).unwrap_or_default(),
        },
        coupon_code: w.coupon_code,
    }
}

#[derive(Deserialize, Default)]
struct LinkForm {
    #[serde(default)]
    email: String,
}

/// Sends a login link when the address belongs to a participant; the answer is the same
/// either way, so the form does not tell who is in the program.
async fn send_link(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    FormBody(f): FormBody<LinkForm>,
) -> Response {
    let program = match visible_program(&state, &slug).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if let Some(refused) = crate::throttle::refusal(
        &state,
        crate::throttle::PublicWrite::SignInLink,
        &meta.client_ip,
        Some(&program.id),
    ) {
        return refused;
    }
    let sent = access::send_login_link(&state, &program, &f.email)
        .await
        .map_err(crate::error::ApiError::from);
    if let Err(e) = sent {
        return crate::console::error_page(&e);
    }
    LoginPage {
        program,
        step: "sent",
        token: String::new(),
        login_csrf: String::new(),
        error: None,
    }
    .into_response()
}

#[derive(Deserialize, Default)]
struct TokenParam {
    #[serde(default)]
    token: String,
}

async fn login_page(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    Query(q): Query<TokenParam>,
) -> Response {
    let program = match visible_program(&state, &slug).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    // Opened without a link's token (typed, or a bookmark): the page that sends one.
    if q.token.trim().is_empty() {
        return axum::response::Redirect::to(&format!("/p/{}/me", program.slug)).into_response();
    }
    let usable = access::login_token_usable(&state, &q.token)
        .await
        .unwrap_or(false);
    let (status, step) = if usable {
        (StatusCode::OK, "continue")
    } else {
        (StatusCode::GONE, "expired")
    };
    let (login_csrf, cookie) = crate::login_csrf::issue(&state, &headers);
    let page = LoginPage {
        program,
        step,
        token: q.token,
        login_csrf,
        error: None,
    };
    crate::login_csrf::with_cookie((status, page).into_response(), cookie)
}

#[derive(Deserialize, Default)]
struct OpenForm {
    #[serde(default)]
    login_csrf: String,
}

async fn login(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    Query(q): Query<TokenParam>,
    FormBody(f): FormBody<OpenForm>,
) -> Response {
    let program = match visible_program(&state, &slug).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if !crate::login_csrf::verify(&state, &headers, &f.login_csrf) {
        let (login_csrf, cookie) = crate::login_csrf::issue(&state, &headers);
        let page = LoginPage {
            program,
            step: "continue",
            token: q.token,
            login_csrf,
            error: Some(crate::login_csrf::EXPIRED),
        };
        return crate::login_csrf::with_cookie(
            (StatusCode::FORBIDDEN, page).into_response(),
            cookie,
        );
    }
    let session = vouch_store::participant_access::new_token();
    let opened = access::open_session(&state, &q.token, &session).await;
    match opened {
        Ok(Some(_)) => {
            let mut response = Redirect::to(&format!("/p/{}/me", program.slug)).into_response();
            crate::cookies::append(
                response.headers_mut(),
                crate::cookies::set(
                    &state.settings,
                    SESSION_COOKIE,
                    &session,
                    crate::cookies::Options::lax("/p/", Some(SESSION_DAYS * 86_400)),
                ),
            );
            response
        }
        Ok(None) => (
            StatusCode::GONE,
            LoginPage {
                program,
                step: "expired",
                token: String::new(),
                login_csrf: String::new(),
                error: None,
            },
        )
            .into_response(),
        Err(e) => crate::console::error_page(&e.into()),
    }
}
