//! Reward rules, rewards and clawbacks: `/api/v1/programs/{id}/reward-rules`,
//! `/api/v1/reward-rules/{id}`, `/api/v1/programs/{id}/rewards`, `/api/v1/rewards/{id}`,
//! `/api/v1/programs/{id}/clawbacks`, `/api/v1/clawbacks/{id}`.

use super::{ApiJson, ApiQuery, Page, check_limit, page};
use crate::AppState;
use crate::auth::{Can, perm};
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vouch_app::resources::{Clawback, Reward, RewardRule};
use vouch_app::rewards as service;
use vouch_domain::reward::{RewardStatus, RuleFields};
use vouch_store::rewards::{self, Filter};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_rules, create_rule))
        .routes(routes!(get_rule, update_rule))
        .routes(routes!(add_coupons))
        .routes(routes!(list_rewards))
        .routes(routes!(get_reward))
        .routes(routes!(deliver))
        .routes(routes!(revoke))
        .routes(routes!(list_clawbacks))
        .routes(routes!(decide_clawback))
}

/// A rule with the codes left in its coupon pool.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct RuleView {
    #[serde(flatten)]
    rule: RewardRule,
    /// Codes not handed out yet (coupon rules; 0 otherwise).
    coupons_left: i64,
}

async fn rule_view(state: &AppState, rule: rewards::RewardRule) -> ApiResult<RuleView> {
    let coupons_left = service::coupons_left(state, &rule.id).await?;
    Ok(RuleView {
        rule: rule.into(),
        coupons_left,
    })
}

#[utoipa::path(
    get, path = "/api/v1/programs/{id}/reward-rules", operation_id = "list_reward_rules", tag = "rewards",
    params(("id" = String, Path, description = "Program id (prg_…)")),
    responses((status = 200, description = "OK", body = Page<RuleView>), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// A program's reward rules, oldest first.
async fn list_rules(
    State(state): State<AppState>,
    _: Can<perm::ProgramsRead>,
    Path(id): Path<String>,
) -> ApiResult<Json<Page<RuleView>>> {
    let program = vouch_app::programs::get(&state, &id).await?;
    let data = service::rules_with_coupons_left(&state, &program.id)
        .await?
        .into_iter()
        .map(|(rule, coupons_left)| RuleView {
            rule: rule.into(),
            coupons_left,
        })
        .collect();
    Ok(Json(Page {
        data,
        has_more: false,
        next_cursor: None,
    }))
}

#[utoipa::path(
    post, path = "/api/v1/programs/{id}/reward-rules", operation_id = "create_reward_rule", tag = "rewards",
    params(("id" = String, Path, description = "Program id (prg_…)")), request_body = RuleFields,
    responses((status = 201, description = "Created and active: referrals won from now on count toward it", body = RuleView), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Add a reward rule. Amounts are minor units of the program's currency.
async fn create_rule(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::RewardsManage>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RuleFields>,
) -> ApiResult<(StatusCode, Json<RuleView>)> {
    let rule = service::create_rule(&state, &caller.origin, &id, &body).await?;
    Ok((StatusCode::CREATED, Json(rule_view(&state, rule).await?)))
}

#[utoipa::path(
    get, path = "/api/v1/reward-rules/{id}", operation_id = "get_reward_rule", tag = "rewards",
    params(("id" = String, Path, description = "Rule id (rwr_…)")),
    responses((status = 200, description = "OK", body = RuleView), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// A reward rule.
async fn get_rule(
    State(state): State<AppState>,
    _: Can<perm::ProgramsRead>,
    Path(id): Path<String>,
) -> ApiResult<Json<RuleView>> {
    let r = service::rule(&state, &id).await?;
    Ok(Json(rule_view(&state, r).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct RulePatch {
    /// An inactive rule earns nothing new; what it earned stays.
    active: bool,
}

#[utoipa::path(
    patch, path = "/api/v1/reward-rules/{id}", operation_id = "update_reward_rule", tag = "rewards",
    params(("id" = String, Path, description = "Rule id (rwr_…)")), request_body = RulePatch,
    responses((status = 200, description = "OK", body = RuleView), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Turn a rule on or off. Its terms cannot change once rewards may rest on them: add a new
/// rule instead.
async fn update_rule(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::RewardsManage>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RulePatch>,
) -> ApiResult<Json<RuleView>> {
    let after = service::set_rule_active(&state, &caller.origin, &id, body.active).await?;
    Ok(Json(rule_view(&state, after).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CouponsIn {
    /// 1–10 000 codes; each 1–64 printable ASCII characters without spaces. Codes already in
    /// the pool are skipped.
    #[schema(min_items = 1, max_items = 10000, inline, value_type = Vec<CouponCode>)]
    codes: Vec<String>,
}

/// One coupon code as the pool takes it.
#[derive(utoipa::ToSchema)]
#[schema(
    min_length = 1,
    max_length = 64,
    pattern = "^[!-~]+$",
    example = "SPRING-7XK2"
)]
#[expect(dead_code, reason = "only describes a code in the OpenAPI document")]
struct CouponCode(String);

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct CouponsOut {
    added: i64,
    skipped: i64,
    coupons_left: i64,
}

#[utoipa::path(
    post, path = "/api/v1/reward-rules/{id}/coupons", operation_id = "add_coupon_codes", tag = "rewards",
    params(("id" = String, Path, description = "Rule id (rwr_…)")), request_body = CouponsIn,
    responses((status = 200, description = "Added", body = CouponsOut), (status = "4XX", description = "A problem (RFC 9457); 422 names the first bad code as `codes[i]`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Upload coupon codes to a coupon rule's pool; delivering a coupon reward hands out the next.
async fn add_coupons(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::RewardsManage>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CouponsIn>,
) -> ApiResult<Json<CouponsOut>> {
    let done = service::add_coupons(&state, &caller.origin, &id, &body.codes).await?;
    Ok(Json(CouponsOut {
        added: done.added,
        skipped: done.skipped,
        coupons_left: done.left,
    }))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListParams {
    /// Only rewards in this state.
    #[param(value_type = Option<RewardStatus>)]
    status: Option<String>,
    /// Only this participant's rewards (`par_…`).
    participant_id: Option<String>,
    limit: Option<i64>,
    starting_after: Option<super::Cursor>,
}

#[utoipa::path(
    get, path = "/api/v1/programs/{id}/rewards", operation_id = "list_rewards", tag = "rewards",
    params(("id" = String, Path, description = "Program id (prg_…)"), ListParams),
    responses((status = 200, description = "OK", body = Page<Reward>), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// A program's rewards, newest first; `status=earned` is the queue of rewards to deliver.
async fn list_rewards(
    State(state): State<AppState>,
    _: Can<perm::ProgramsRead>,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<Reward>>> {
    let program = vouch_app::programs::get(&state, &id).await?;
    let limit = check_limit(p.limit)?;
    let status = p
        .status
        .as_deref()
        .map(str::parse::<RewardStatus>)
        .transpose()
        .map_err(|m| ApiError::field("status", m))?;
    let filter = Filter {
        status,
        participant_id: p.participant_id,
        ..Default::default()
    };
    let rows = service::list_rewards(
        &state,
        &program.id,
        &filter,
        p.starting_after.as_deref(),
        limit,
    )
    .await?;
    Ok(Json(page(rows, limit, |r| r.id.clone(), Into::into)))
}

#[utoipa::path(
    get, path = "/api/v1/rewards/{id}", operation_id = "get_reward", tag = "rewards",
    params(("id" = String, Path, description = "Reward id (rwd_…)")),
    responses((status = 200, description = "OK", body = Reward), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// A reward.
async fn get_reward(
    State(state): State<AppState>,
    _: Can<perm::ProgramsRead>,
    Path(id): Path<String>,
) -> ApiResult<Json<Reward>> {
    Ok(Json(service::get_reward(&state, &id).await?.into()))
}

#[utoipa::path(
    post, path = "/api/v1/rewards/{id}/deliver", operation_id = "deliver_reward", tag = "rewards",
    params(("id" = String, Path, description = "Reward id (rwd_…)")),
    responses((status = 200, description = "Delivered; a coupon reward carries its code", body = Reward), (status = "4XX", description = "A problem (RFC 9457); 409 `invalid_transition` unless earned, `coupon_pool_empty` when no code is left, `paid_by_payout` when its rule delivers by payout", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Mark an earned reward delivered (and hand out a coupon code). Two deliveries of one reward
/// at once: one succeeds, the other gets 409. A reward whose rule delivers by `payout` is
/// delivered when its payment in the payables ledger is paid, not here (409 `paid_by_payout`).
async fn deliver(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::RewardsManage>,
    Path(id): Path<String>,
) -> ApiResult<Json<Reward>> {
    Ok(Json(
        service::deliver(&state, &caller.origin, &id).await?.into(),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct RevokeIn {
    /// Why, for the participant's history and the audit log.
    #[schema(min_length = 1, max_length = 500)]
    reason: String,
}

#[utoipa::path(
    post, path = "/api/v1/rewards/{id}/revoke", operation_id = "revoke_reward", tag = "rewards",
    params(("id" = String, Path, description = "Reward id (rwd_…)")), request_body = RevokeIn,
    responses((status = 200, description = "Revoked", body = Reward), (status = "4XX", description = "A problem (RFC 9457); 409 when delivered or already revoked", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Revoke a pending or earned reward.
async fn revoke(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::RewardsManage>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RevokeIn>,
) -> ApiResult<Json<Reward>> {
    let reason = vouch_domain::validation::required_text(&body.reason, 500)
        .map_err(|m| ApiError::field("reason", m))?;
    Ok(Json(
        service::revoke(&state, &caller.origin, &id, &reason)
            .await?
            .into(),
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ClawbackParams {
    /// `open` (default), `recovered` or `waived`.
    #[param(pattern = "^(open|recovered|waived)$")]
    status: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/programs/{id}/clawbacks", operation_id = "list_clawbacks", tag = "rewards",
    params(("id" = String, Path, description = "Program id (prg_…)"), ClawbackParams),
    responses((status = 200, description = "OK", body = Page<Clawback>), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Delivered rewards whose referral was revoked, waiting for a decision (newest first).
async fn list_clawbacks(
    State(state): State<AppState>,
    _: Can<perm::ProgramsRead>,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<ClawbackParams>,
) -> ApiResult<Json<Page<Clawback>>> {
    let status = p.status.unwrap_or_else(|| "open".into());
    if !matches!(status.as_str(), "open" | "recovered" | "waived") {
        return Err(ApiError::field(
            "status",
            "must be open, recovered or waived",
        ));
    }
    let program = vouch_app::programs::get(&state, &id).await?;
    let data = service::list_clawbacks(&state, &program.id, &status).await?;
    Ok(Json(Page {
        data: data.into_iter().map(Into::into).collect(),
        has_more: false,
        next_cursor: None,
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ClawbackDecisionIn {
    /// `recovered` (the money came back) or `waived` (it stays with the participant).
    #[schema(pattern = "^(recovered|waived)$", example = "recovered")]
    decision: String,
}

#[utoipa::path(
    post, path = "/api/v1/clawbacks/{id}/decide", operation_id = "decide_clawback", tag = "rewards",
    params(("id" = String, Path, description = "Clawback id (clw_…)")), request_body = ClawbackDecisionIn,
    responses((status = 200, description = "Decided", body = Clawback), (status = "4XX", description = "A problem (RFC 9457); 409 `already_decided`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Decide a clawback.
async fn decide_clawback(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::RewardsManage>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ClawbackDecisionIn>,
) -> ApiResult<Json<Clawback>> {
    Ok(Json(
        service::decide_clawback(&state, &caller.origin, &id, body.decision.trim())
            .await?
            .into(),
    ))
}
