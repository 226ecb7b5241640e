//! `/api/v1/programs/{id}/events`, `/api/v1/programs/{id}/referrals` and
//! `/api/v1/referrals/{id}`: qualification events from the operator's systems, and the
//! referrals they move.

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
use vouch_app::participants::{self as service, EventIn};
use vouch_app::resources::{ProgramEvent, Referral, StageChange};
use vouch_domain::referral::Stage;
use vouch_store::referrals::{self, Filter};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(record_event))
        .routes(routes!(list))
        .routes(routes!(show))
        .routes(routes!(set_stage))
        .routes(routes!(review))
        .routes(routes!(stats))
}

#[utoipa::path(
    post, path = "/api/v1/programs/{id}/events", operation_id = "record_program_event", tag = "referrals",
    params(("id" = String, Path, description = "Program id (prg_…)")), request_body = EventIn,
    responses(
        (status = 201, description = "Recorded; `outcome` says what it did (`referral_won`, `already_won`, `not_referred`, `not_qualifying`, `referral_closed`)", body = ProgramEvent),
        (status = 200, description = "This event_id was reported before: the first answer, nothing changed", body = ProgramEvent),
        (status = "4XX", description = "A problem (RFC 9457); 422 names an unknown participant; 409 `event_id_reused` when the id was used for another event", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Report an event about a participant. The program's qualifying event (`email_verified`,
/// `purchase`, …) wins the referral that brought the participant and tells the referrer.
/// Idempotent per `event_id`.
async fn record_event(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::ProgramsWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<EventIn>,
) -> ApiResult<(StatusCode, Json<ProgramEvent>)> {
    let program = vouch_app::programs::get(&state, &id).await?;
    let (event, new) = service::record_event(&state, &caller.origin, &program, &body).await?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(event.into())))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListParams {
    /// Only referrals at this stage.
    #[param(value_type = Option<Stage>)]
    stage: Option<String>,
    /// Only the referrals this participant made (`par_…`).
    referrer_id: Option<String>,
    /// `pending` is the review queue of flagged referrals; also `none`, `cleared`, `junk`.
    #[param(pattern = "^(pending|none|cleared|junk)$")]
    review: Option<String>,
    limit: Option<i64>,
    starting_after: Option<super::Cursor>,
}

#[utoipa::path(
    get, path = "/api/v1/programs/{id}/referrals", operation_id = "list_referrals", tag = "referrals",
    params(("id" = String, Path, description = "Program id (prg_…)"), ListParams),
    responses((status = 200, description = "OK", body = Page<Referral>), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// A program's referrals, newest first.
async fn list(
    State(state): State<AppState>,
    _: Can<perm::ProgramsRead>,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<Referral>>> {
    let program = vouch_app::programs::get(&state, &id).await?;
    let limit = check_limit(p.limit)?;
    let stage = p
        .stage
        .as_deref()
        .map(str::parse::<Stage>)
        .transpose()
        .map_err(|m| ApiError::field("stage", m))?;
    if let Some(r) = &p.review
        && !matches!(r.as_str(), "none" | "pending" | "cleared" | "junk")
    {
        return Err(ApiError::field(
            "review",
            "must be none, pending, cleared or junk",
        ));
    }
    let filter = Filter {
        stage,
        referrer_id: p.referrer_id,
        review: p.review,
        ..Default::default()
    };
    let rows = service::list_referrals(
        &state,
        &program.id,
        &filter,
        p.starting_after.as_deref(),
        limit,
    )
    .await?;
    Ok(Json(page(rows, limit, |r| r.id.clone(), Into::into)))
}

/// A referral with every stage it went through.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct ReferralDetail {
    #[serde(flatten)]
    referral: Referral,
    history: Vec<StageChange>,
}

async fn detail(state: &AppState, referral: referrals::Referral) -> ApiResult<ReferralDetail> {
    let history = service::referral_history(state, &referral.id).await?;
    Ok(ReferralDetail {
        referral: referral.into(),
        history: history.into_iter().map(Into::into).collect(),
    })
}

#[utoipa::path(
    get, path = "/api/v1/referrals/{id}", operation_id = "get_referral", tag = "referrals",
    params(("id" = String, Path, description = "Referral id (ref_…)")),
    responses((status = 200, description = "OK", body = ReferralDetail), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// A referral and its stage history.
async fn show(
    State(state): State<AppState>,
    _: Can<perm::ProgramsRead>,
    Path(id): Path<String>,
) -> ApiResult<Json<ReferralDetail>> {
    let referral = service::get_referral(&state, &id).await?;
    Ok(Json(detail(&state, referral).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct StageIn {
    /// `in_progress`, `won`, `lost` (revokes a won referral) or `junk`; a move the current
    /// stage does not allow is 409 `invalid_transition`.
    #[schema(value_type = Stage)]
    stage: String,
    /// Why, for the history (e.g. "refunded").
    #[serde(default)]
    #[schema(max_length = 500)]
    reason: Option<String>,
}

#[utoipa::path(
    post, path = "/api/v1/referrals/{id}/stage", operation_id = "set_referral_stage", tag = "referrals",
    params(("id" = String, Path, description = "Referral id (ref_…)")), request_body = StageIn,
    responses((status = 200, description = "Moved; the history has the change", body = ReferralDetail), (status = "4XX", description = "A problem (RFC 9457); 409 `invalid_transition` when the stage cannot follow the current one", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Move a referral: `won → lost` revokes it (a refund), `new → junk` closes a bad one.
async fn set_stage(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::ProgramsWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<StageIn>,
) -> ApiResult<Json<ReferralDetail>> {
    let stage: Stage = body
        .stage
        .parse()
        .map_err(|m: String| ApiError::field("stage", m))?;
    let reason = body
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > 500) {
        return Err(ApiError::field("reason", "must be at most 500 characters"));
    }
    let after = service::set_referral_stage(&state, &caller.origin, &id, stage, reason).await?;
    Ok(Json(detail(&state, after).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ReviewIn {
    /// `clear` (it counts from now on) or `junk` (it is closed).
    #[schema(pattern = "^(clear|junk)$", example = "clear")]
    decision: String,
    /// Why, for the audit log.
    #[schema(min_length = 1, max_length = 500)]
    reason: String,
}

#[utoipa::path(
    post, path = "/api/v1/referrals/{id}/review", operation_id = "review_referral", tag = "referrals",
    params(("id" = String, Path, description = "Referral id (ref_…)")), request_body = ReviewIn,
    responses((status = 200, description = "Decided; a cleared won referral earns its rewards now", body = ReferralDetail), (status = "4XX", description = "A problem (RFC 9457); 409 `not_in_review` when it is not waiting for review", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Decide a flagged referral from the review queue (a manager's decision, or an `admin`
/// key's: clearing a referral pays its referrer).
async fn review(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::ReferralsReview>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReviewIn>,
) -> ApiResult<Json<ReferralDetail>> {
    let after = service::review_referral(
        &state,
        &caller.origin,
        &id,
        body.decision.trim(),
        body.reason.trim(),
    )
    .await?;
    Ok(Json(detail(&state, after).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct RangeParams {
    /// First day (UTC); default 29 days before `to`; at most 366 days before `to`.
    #[param(value_type = Option<String>, format = Date)]
    from: Option<String>,
    /// Last day, inclusive; default today.
    #[param(value_type = Option<String>, format = Date)]
    to: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/programs/{id}/stats", operation_id = "program_stats", tag = "referrals",
    params(("id" = String, Path, description = "Program id (prg_…)"), RangeParams),
    responses((status = 200, description = "The funnel per day, totals, top referrers and rewards by status", body = vouch_app::stats::Dashboard), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// The program dashboard's numbers: clicks, referred signups and wins per day (at most 366
/// days), top referrers, rewards by status.
async fn stats(
    State(state): State<AppState>,
    _: Can<perm::ProgramsRead>,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<RangeParams>,
) -> ApiResult<Json<vouch_app::stats::Dashboard>> {
    let program = vouch_app::programs::get(&state, &id).await?;
    // Absent means the default; present must be a day.
    for (field, value) in [("from", &p.from), ("to", &p.to)] {
        if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
            return Err(ApiError::field(field, "must be a day such as 2026-11-01"));
        }
    }
    let range = vouch_app::stats::parse_range(
        &state,
        p.from.as_deref().unwrap_or_default(),
        p.to.as_deref().unwrap_or_default(),
    )?;
    Ok(Json(
        vouch_app::stats::dashboard(&state, &program, range).await?,
    ))
}
