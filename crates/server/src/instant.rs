//! Instant signup links: a signed link that enrols a known person with one click, without the
//! form. The operator's system asks for one through the API (and Vouch may email it); the
//! person's name, email and referrer travel inside the signed token, so nothing is stored
//! until they join. Opening the link shows a button (a GET changes nothing, so mail scanners
//! cannot join anyone); the button enrols them and shows their referral link.

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::public::{notice, visible_program};
use crate::request::Meta;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use vouch_app::participants::{SignupContext, enrol, referral_link};
use vouch_domain::email_template::Kind;
use vouch_domain::participant::{ParticipantDraft, ParticipantFields};
use vouch_domain::program::ProgramStatus;
use vouch_domain::referral::{Source, Touch};
use vouch_store::audit::{Actor, ActorKind, Origin};
use vouch_store::emails::{self, QueueOptions};
use vouch_store::participants;
use vouch_store::programs::Program;

pub fn routes() -> Router<AppState> {
    Router::new().route("/p/{slug}/instant", get(page).post(join))
}

const PURPOSE: &str = "instant-signup";
/// The longest an instant link may live.
pub const MAX_DAYS: i64 = 90;

/// What an instant link carries.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Claims {
    /// Program id.
    p: String,
    e: String,
    #[serde(default)]
    f: Option<String>,
    #[serde(default)]
    l: Option<String>,
    /// Referrer's code.
    #[serde(default)]
    r: Option<String>,
    /// Company.
    #[serde(default)]
    c: Option<String>,
    /// Expiry, unix seconds.
    x: i64,
}

/// An instant link as the API returns it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InstantLink {
    pub url: String,
    pub expires_at: vouch_domain::Timestamp,
    /// The invitation email, when Vouch sent one (`suppressed` if the address unsubscribed).
    pub email_id: Option<String>,
}

/// Mints (and optionally emails) an instant signup link for a known person.
pub async fn create(
    state: &AppState,
    program: &Program,
    fields: &ParticipantFields,
    ttl_days: i64,
    send_email: bool,
) -> ApiResult<InstantLink> {
    if program.status == ProgramStatus::Ended {
        return Err(ApiError::conflict(
            "program_ended",
            "the program has ended; nobody can join it",
        ));
    }
    if !(1..=MAX_DAYS).contains(&ttl_days) {
        return Err(ApiError::field("ttl_days", "must be between 1 and 90 days"));
    }
    let draft = fields.parse()?;
    let mut tx = state.store.begin().await?;
    if let Some(code) = &draft.referred_by
        && participants::by_code(&mut tx, code)
            .await?
            .is_none_or(|p| p.program_id != program.id)
    {
        return Err(ApiError::field(
            "referred_by",
            "no participant of this program has this referral code",
        ));
    }
    let expires = time::OffsetDateTime::now_utc() + time::Duration::days(ttl_days);
    let claims = Claims {
        p: program.id.clone(),
        e: draft.email.clone(),
        f: draft.first_name.clone(),
        l: draft.last_name.clone(),
        r: draft.referred_by.clone(),
        c: draft.company.clone(),
        x: expires.unix_timestamp(),
    };
    let payload = serde_json::to_string(&claims).map_err(|_| ApiError::internal())?;
    let token = vouch_app::signed::sign(&state.secrets.embed, PURPOSE, &payload);
    let url = format!(
        "{}/p/{}/instant?token={token}",
        state.settings.base_url, program.slug
    );
    let email_id = if send_email {
        let unsubscribe = vouch_app::unsubscribe::url(state, &draft.email);
        let ctx = serde_json::json!({
            "first_name": draft.first_name, "email": draft.email,
            "program": { "id": program.id, "name": program.name, "slug": program.slug },
            "join_url": url, "unsubscribe_url": unsubscribe,
        });
        let message = emails::queue(
            &mut tx,
            Kind::InstantSignup,
            &draft.email,
            &ctx,
            QueueOptions {
                program_id: Some(&program.id),
                unsubscribe_url: Some(&unsubscribe),
            },
        )
        .await?;
        Some(message.id)
    } else {
        None
    };
    tx.commit().await.map_err(vouch_store::StoreError::from)?;
    Ok(InstantLink {
        url,
        expires_at: vouch_domain::Timestamp::from_datetime(expires),
        email_id,
    })
}

fn read(state: &AppState, program: &Program, token: &str) -> Option<Claims> {
    let payload = vouch_app::signed::verify(&state.secrets.embed, PURPOSE, token)?;
    let claims: Claims = serde_json::from_str(&payload).ok()?;
    let live = claims.x > time::OffsetDateTime::now_utc().unix_timestamp();
    (live && claims.p == program.id).then_some(claims)
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
    match read(state, &program, token) {
        Some(c) => Ok((program, c)),
        None => Err(notice(
            StatusCode::GONE,
            "This link has expired",
            "Ask whoever sent it for a new one, or join through the program's signup page.",
        )),
    }
}

async fn already_in(state: &AppState, program: &Program, email: &str) -> Option<String> {
    let mut conn = state.store.conn().await.ok()?;
    let p = participants::by_email(&mut conn, &program.id, email)
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
