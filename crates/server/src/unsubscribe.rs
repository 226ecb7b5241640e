//! Unsubscribe links for participant email: `/unsubscribe?token=…`, where the token is the
//! address signed with the installation's secret (see `vouch_app::signed`), so no table of tokens is
//! needed and a link cannot be forged for another address. The address travels in the query
//! string, which the request log never writes.
//!
//! `GET` shows a confirmation button (a GET never changes state: mail scanners follow links);
//! `POST` unsubscribes — from that button, or from a mail client's one-click
//! `List-Unsubscribe-Post` request (RFC 8058), which carries no cookies and no CSRF token.

use crate::AppState;
use crate::request::Meta;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use vouch_store::audit::{Actor, ActorKind, Origin};

pub fn routes() -> Router<AppState> {
    Router::new().route("/unsubscribe", get(page).post(confirm))
}

#[derive(Deserialize, Default)]
struct TokenParam {
    #[serde(default)]
    token: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "unsubscribe.html")]
struct Page {
    /// The address, partly hidden: whoever holds the link sees whose it is, but a screenshot
    /// does not spread it whole.
    masked: String,
    token: String,
    done: bool,
}

fn mask(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}•••@{domain}")
        }
        None => "•••".into(),
    }
}

fn invalid() -> Response {
    crate::public::notice(
        StatusCode::NOT_FOUND,
        "This unsubscribe link is not valid",
        "The link may have been cut short by your mail program. Open the whole link from the email, or reply to it and ask to be removed.",
    )
}

async fn page(State(state): State<AppState>, Query(p): Query<TokenParam>) -> Response {
    let Some(email) = vouch_app::unsubscribe::verify(&state, &p.token) else {
        return invalid();
    };
    let done = vouch_app::unsubscribe::is_unsubscribed(&state, &email)
        .await
        .unwrap_or(false);
    Page {
        masked: mask(&email),
        token: p.token,
        done,
    }
    .into_response()
}

async fn confirm(
    State(state): State<AppState>,
    meta: Meta,
    Query(p): Query<TokenParam>,
) -> Response {
    if let Some(refused) = crate::throttle::refusal(
        &state,
        crate::throttle::PublicWrite::Unsubscribe,
        &meta.client_ip,
        None,
    ) {
        return refused;
    }
    let Some(email) = vouch_app::unsubscribe::verify(&state, &p.token) else {
        return invalid();
    };
    let origin = Origin {
        actor: Actor {
            kind: ActorKind::Participant,
            id: None,
            label: "recipient (unsubscribe link)".into(),
        },
        request_id: meta.request_id,
        client_ip: Some(meta.client_ip),
    };
    let saved = vouch_app::unsubscribe::unsubscribe(&state, &origin, &email).await;
    match saved {
        Ok(_) => Page {
            masked: mask(&email),
            token: p.token,
            done: true,
        }
        .into_response(),
        Err(e) => crate::console::error_page(&e.into()),
    }
}
