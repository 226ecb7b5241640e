//! A program's day-to-day work in the console: participants (and enrolling one), referrals
//! with their review queue and stage decisions, rewards with delivery and revocation,
//! clawbacks, and reward rules with their coupon pools. Every action goes through the same
//! use cases in `vouch_app` as the API.

use super::{Console, error_page};
use crate::AppState;
use axum::Router;
use axum::response::Response;
use axum::routing::{get, post};
use vouch_store::programs::Program;
use vouch_store::{Order, SortColumn};

use serde::Deserialize;

mod dashboard;
mod import;
mod participant;
mod participants;
mod referrals;
mod rewards;
mod rules;
mod share;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/programs/{id}/participants",
            get(participants::participants_page).post(participants::enrol),
        )
        .route(
            "/admin/programs/{id}/referrals",
            get(referrals::referrals_page),
        )
        .route("/admin/referrals/{id}", get(referrals::referral_page))
        .route("/admin/referrals/{id}/review", post(referrals::review))
        .route("/admin/referrals/{id}/stage", post(referrals::set_stage))
        .route("/admin/programs/{id}/rewards", get(rewards::rewards_page))
        .route(
            "/admin/programs/{id}/rewards/deliver",
            post(rewards::deliver_ticked),
        )
        .route(
            "/admin/programs/{id}/referrals/review",
            post(referrals::review_ticked),
        )
        .route("/admin/rewards/{id}/deliver", post(rewards::deliver))
        .route("/admin/rewards/{id}/revoke", post(rewards::revoke))
        .route(
            "/admin/clawbacks/{id}/decide",
            post(rewards::decide_clawback),
        )
        .route(
            "/admin/programs/{id}/reward-rules",
            get(rules::rules_page).post(rules::create_rule),
        )
        .route("/admin/reward-rules/{id}/coupons", post(rules::add_coupons))
        .route(
            "/admin/reward-rules/{id}/active",
            post(rules::set_rule_active),
        )
        .route(
            "/admin/programs/{id}/import",
            get(import::import_page).post(import::import),
        )
        .route(
            "/admin/programs/{id}/dashboard",
            get(dashboard::dashboard_page),
        )
        .route("/admin/programs/{id}/share", get(share::share_page))
        .route(
            "/admin/participants/{id}",
            get(participant::participant_page),
        )
        .route("/admin/participants/{id}/code", post(participant::set_code))
        .route(
            "/admin/participants/{id}/details",
            post(participant::edit_details),
        )
        .route(
            "/admin/participants/{id}/notes",
            post(participant::add_note),
        )
        .route("/admin/participants/{id}/block", post(participant::block))
        .route(
            "/admin/participants/{id}/unblock",
            post(participant::unblock),
        )
        .route(
            "/admin/programs/{id}/share/instant-link",
            post(share::make_instant_link),
        )
}

pub(super) const PAGE: i64 = 50;

pub(super) async fn program(console: &Console, id: &str) -> Result<Program, Response> {
    vouch_app::programs::get(&console.state, id)
        .await
        .map_err(|e| error_page(&e.into()))
}

/// The cursor of the next page, when there is one; trims the extra row.
pub(super) fn next_cursor<T>(rows: &mut Vec<T>, id: impl Fn(&T) -> String) -> Option<String> {
    let more = i64::try_from(rows.len()).unwrap_or(i64::MAX) > PAGE;
    rows.truncate(usize::try_from(PAGE).unwrap_or(50));
    if more { rows.last().map(id) } else { None }
}

pub(super) fn nonempty(s: &str) -> Option<&str> {
    Some(s.trim()).filter(|s| !s.is_empty())
}

#[derive(Deserialize, Default)]
/// The query of a tab's list: search, cursor and the filters each tab knows.
pub(super) struct ListParams {
    #[serde(default)]
    pub(super) q: String,
    #[serde(default)]
    pub(super) starting_after: String,
    #[serde(default)]
    pub(super) stage: String,
    #[serde(default)]
    pub(super) review: String,
    #[serde(default)]
    pub(super) status: String,
    /// A column name, `-name` for descending; empty (or unknown) is newest first.
    #[serde(default)]
    pub(super) sort: String,
}

impl ListParams {
    /// The list's order from `sort` against its columns: newest first when empty or unknown
    /// (a mangled link shows the list rather than an error), with the `sort` text that asks for
    /// it again.
    pub(super) fn order(&self, columns: &'static [SortColumn]) -> (Order, String) {
        let order = Order::parse(columns, &self.sort).unwrap_or(Order::NEWEST);
        let text = order.param();
        (order, text)
    }
}

#[derive(Deserialize, Default)]
/// A staff decision on a referral, reward or clawback, with its reason.
pub(super) struct DecisionForm {
    #[serde(default)]
    pub(super) decision: String,
    #[serde(default)]
    pub(super) reason: String,
    #[serde(default)]
    pub(super) stage: String,
}
