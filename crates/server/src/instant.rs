//! The pages of instant signup links (minted by `vouch_app::instant`). Opening the link shows
//! a button (a GET changes nothing, so mail scanners cannot join anyone); the button enrols
//! them and shows their referral link.

use crate::AppState;
use crate::error::ApiError;
use crate::public::{notice, visible_program};
use crate::request::Meta;
use crate::throttle::{self, PublicWrite};
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use vouch_app::instant::Claims;
use vouch_app::participants::{SignupContext, enrol, referral_link};
use vouch_domain::participant::ParticipantDraft;
use vouch_domain::program::ProgramStatus;
use vouch_domain::referral::{Source, Touch};
use vouch_store::audit::{Actor, ActorKind, Origin};
use vouch_store::programs::Program;

pub fn routes() -> Router<AppState> {
    Router::new().route("/p/{slug}/instant", get(page).post(join))
}

#[derive(Deserialize, Default)]
struct TokenParam {
    #[serde(default)]
    token: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "instant.html")]
struct InstantPage {
    program: Program,
    email: String,
    token: String,
    /// The referral link when they are in already.
    joined_link: Option<String>,
}

async fn resolve(state: &AppState, slug: &str, token: &str) -> Result<(Program, Claims), Response> {
    let program = visible_program(state, slug).await?;
    match program.status {
        ProgramStatus::Live => {}
        ProgramStatus::Paused => {
            return Err(notice(
                StatusCode::SERVICE_UNAVAILABLE,
                &format!("{} is paused", program.name),
                "The program is not taking signups right now. Please try the link again later.",
            ));
        }
        ProgramStatus::Ended | ProgramStatus::Draft => {
            return Err(notice(
                StatusCode::NOT_FOUND,
                "This program is not open",
                "The program this link is for does not take signups.",
            ));
        }
    }
    match vouch_app::instant::read(state, &program, token) {
        Some(c) => Ok((program, c)),
        None => Err(notice(
            StatusCode::GONE,
            "This link has expired",
            "Ask whoever sent it for a new one, or join through the program's signup page.",
        )),
    }
}

async fn already_in(state: &AppState, program: &Program, email: &str) -> Option<String> {
    let p = vouch_app::participants::find_by_email(state, &program.id, email)
        .await
        .ok()
        .flatten()?;
    Some(referral_link(state, &p.code))
}

async fn page(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<TokenParam>,
) -> Response {
    let (program, claims) = match resolve(&state, &slug, &q.token).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    InstantPage {
        joined_link: already_in(&state, &program, &claims.e).await,
        program,
        email: claims.e,
        token: q.token,
    }
    .into_response()
}

async fn join(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    Query(q): Query<TokenParam>,
) -> Response {
    let (program, claims) = match resolve(&state, &slug, &q.token).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    if let Some(refused) = throttle::refusal(
        &state,
        PublicWrite::Signup,
        &meta.client_ip,
        Some(&program.id),
    ) {
        return refused;
    }
    if let Some(link) = already_in(&state, &program, &claims.e).await {
        return InstantPage {
            program,
            email: claims.e,
            token: q.token,
            joined_link: Some(link),
        }
        .into_response();
    }
    let draft = ParticipantDraft {
        email: claims.e.clone(),
        first_name: claims.f.clone(),
        last_name: claims.l.clone(),
        referred_by: None,
        ip_address: None,
        company: claims.c.clone(),
    };
    // The referrer named at minting counts like a code on a form: if it is gone by now, the
    // person still joins.
    let context = SignupContext {
        touches: claims
            .r
            .iter()
            .map(|code| Touch {
                code: code.clone(),
                source: Source::Code,
                at: None,
            })
            .collect(),
        ip: Some(meta.client_ip.clone()),
        ..SignupContext::default()
    };
    let origin = Origin {
        actor: Actor {
            kind: ActorKind::Public,
            id: None,
            label: "instant signup link".into(),
        },
        request_id: meta.request_id,
        client_ip: Some(meta.client_ip),
    };
    match enrol(&state, &origin, &program, &draft, &context)
        .await
        .map_err(ApiError::from)
    {
        Ok((participant, _)) => (
            StatusCode::CREATED,
            InstantPage {
                joined_link: Some(referral_link(&state, &participant.code)),
                program,
                email: claims.e,
                token: q.token,
            },
        )
            .into_response(),
        Err(e) if e.status == StatusCode::CONFLICT => {
            let link = already_in(&state, &program, &claims.e).await;
            InstantPage {
                program,
                email: claims.e,
                token: q.token,
                joined_link: link,
            }
            .into_response()
        }
        Err(e) => crate::console::error_page(&e),
    }
}
