//! Rewards: a tab of a program in the console.

use super::super::{Console, CsrfForm, Layout, StaffCan, error_page};
use crate::auth::perm;
use crate::console::table::{Column, list_url, sort_headers};
use crate::error::ApiError;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Response};
use vouch_app::rewards as reward_service;
use vouch_domain::permission::Action;
use vouch_domain::reward::RewardStatus;
use vouch_store::programs::Program;
use vouch_store::rewards::{self, Clawback, Reward};

use super::{DecisionForm, ListParams, PAGE, next_cursor, nonempty, program};

/// A reward with its recipient's address and how it reads.
pub struct RewardRow {
    pub w: Reward,
    pub who: String,
    pub title: String,
    /// Its payment in the payables ledger, when its rule delivers by payout.
    pub payment: Option<vouch_app::payouts::RewardPayment>,
}

#[derive(Template, WebTemplate)]
#[template(path = "programs/rewards.html")]
pub(super) struct RewardsPage {
    /// How many rewards the filter finds in all.
    total: i64,
    l: Layout,
    p: Program,
    rows: Vec<RewardRow>,
    status: String,
    next_url: Option<String>,
    clawbacks: Vec<(Clawback, String)>,
    can_manage: bool,
    /// May decide clawbacks of ledger payments.
    can_pay: bool,
    columns: Vec<Column>,
    sort: String,
}

impl RewardsPage {
    fn money(&self, amount: &i64, currency: &str) -> String {
        crate::console::sales::money_text(*amount, currency)
    }
}

pub(super) async fn rewards_page(
    StaffCan(mut console, _): StaffCan<perm::ProgramsRead>,
    Path(id): Path<String>,
    Query(params): Query<ListParams>,
) -> Response {
    let p = match program(&console, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let status = nonempty(&params.status).and_then(|s| s.parse::<RewardStatus>().ok());
    let (order, sort) = params.order(rewards::SORTS);
    let filter = rewards::Filter {
        status,
        participant_id: None,
        order,
    };
    let loaded = async {
        let mut rows = reward_service::list_rewards(
            &console.state,
            &p.id,
            &filter,
            nonempty(&params.starting_after),
            PAGE,
        )
        .await?;
        let next = next_cursor(&mut rows, |r| r.id.clone());
        let ids: Vec<&str> = rows.iter().map(|w| w.participant_id.as_str()).collect();
        let people = vouch_app::participants::find_each(&console.state, &ids).await?;
        let reward_ids: Vec<&str> = rows.iter().map(|w| w.id.as_str()).collect();
        let payments = vouch_app::payouts::payments_of_rewards(&console.state, &reward_ids).await?;
        let out = rows
            .into_iter()
            .zip(people)
            .zip(payments)
            .map(|((w, who), payment)| RewardRow {
                title: reward_service::title(&w),
                who: who.map_or_else(|| w.participant_id.clone(), |p| p.email),
                w,
                payment,
            })
            .collect();
        let clawbacks =
            reward_service::clawbacks_with_titles(&console.state, &p.id, "open").await?;
        let total = reward_service::count_rewards(&console.state, &p.id, &filter).await?;
        Ok::<_, ApiError>((out, next, clawbacks, total))
    }
    .await;
    let (rows, next, clawbacks, total) = match loaded {
        Ok(found) => found,
        Err(e) => return error_page(&e),
    };
    let status_text = status.map(|s| s.as_str().to_string()).unwrap_or_default();
    let path = format!("/admin/programs/{}/rewards", p.id);
    RewardsPage {
        total,
        l: console.layout("programs"),
        can_manage: console.may(Action::RewardsManage),
        can_pay: console.may(Action::PayoutsManage),
        next_url: next.map(|c| {
            list_url(
                &path,
                &[
                    ("status", &status_text),
                    ("sort", &sort),
                    ("starting_after", &c),
                ],
            )
        }),
        columns: sort_headers(
            &[
                ("", "For"),
                ("amount", "Reward"),
                ("recipient", "As"),
                ("status", "Status"),
                ("created_at", "Dates"),
            ],
            &sort,
            |s| list_url(&path, &[("status", &status_text), ("sort", s)]),
        ),
        sort,
        p,
        rows,
        status: status_text,
        clawbacks,
    }
    .into_response()
}

/// Where a reward action returns to: the rewards page of its program.
pub(super) async fn rewards_back(console: &Console, reward_id: &str) -> String {
    let reward = reward_service::get_reward(&console.state, reward_id)
        .await
        .ok();
    reward.map_or_else(
        || "/admin/programs".to_string(),
        |w| format!("/admin/programs/{}/rewards", w.program_id),
    )
}

pub(super) async fn deliver(
    StaffCan(console, _): StaffCan<perm::RewardsManage>,
    Path(id): Path<String>,
    CsrfForm(_f): CsrfForm<DecisionForm>,
) -> Response {
    let back = rewards_back(&console, &id).await;
    let outcome = reward_service::deliver(&console.state, &console.origin, &id)
        .await
        .map_err(ApiError::from)
        .map(|w| match w.coupon_code {
            Some(code) => format!("Reward delivered with code {code}."),
            None => "Reward delivered.".to_string(),
        });
    console.finish(&back, outcome).await
}

/// Delivers every ticked earned reward of a program (each as one delivery would be).
pub(super) async fn deliver_ticked(
    StaffCan(console, _): StaffCan<perm::RewardsManage>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<std::collections::HashMap<String, String>>,
) -> Response {
    let back = format!("/admin/programs/{id}/rewards?status=earned");
    let ids = super::super::picked_ids(&form);
    let outcome = reward_service::deliver_many(&console.state, &console.origin, &id, &ids)
        .await
        .map_err(ApiError::from)
        .map(|outcomes| super::super::bulk_message("reward(s)", "delivered", &outcomes));
    console.finish(&back, outcome).await
}

pub(super) async fn revoke(
    StaffCan(console, _): StaffCan<perm::RewardsManage>,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<DecisionForm>,
) -> Response {
    let back = rewards_back(&console, &id).await;
    let outcome = match nonempty(&f.reason) {
        Some(reason) => reward_service::revoke(&console.state, &console.origin, &id, reason)
            .await
            .map_err(ApiError::from)
            .map(|_| "Reward revoked.".to_string()),
        None => Err(ApiError::field("reason", "say why the reward is revoked")),
    };
    console.finish(&back, outcome).await
}

pub(super) async fn decide_clawback(
    StaffCan(console, _): StaffCan<perm::RewardsManage>,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<DecisionForm>,
) -> Response {
    let back = reward_service::get_clawback(&console.state, &id)
        .await
        .ok()
        .map_or_else(
            || "/admin/programs".to_string(),
            |c| format!("/admin/programs/{}/rewards", c.program_id),
        );
    let outcome =
        reward_service::decide_clawback(&console.state, &console.origin, &id, f.decision.trim())
            .await
            .map_err(ApiError::from)
            .map(|c| format!("Clawback {}.", c.status));
    console.finish(&back, outcome).await
}
