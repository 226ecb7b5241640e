//! `/api/v1/bonuses`: the bonus workflow — completion, submission for review, approval or
//! rejection (one at a time or in bulk) and splitting into payments.

use super::sales::{ReasonIn, nullable};
use super::{ApiJson, ApiQuery, Page, check_limit, page};
use crate::AppState;
use crate::auth::{Can, perm};
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vouch_app::bonuses::{self as svc, BonusPatch, BonusView, Decision, DecisionOutcome, Split};
use vouch_app::resources::{Bonus, Payment};
use vouch_domain::bonus::{BonusKind, BonusStatus, Milestone, PaymentMethod};
use vouch_domain::money::BasisPoints;
use vouch_store::bonuses::BonusFilter;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(show, update))
        .routes(routes!(submit))
        .routes(routes!(approve))
        .routes(routes!(reject))
        .routes(routes!(decide_many))
        .routes(routes!(split))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListParams {
    status: Option<BonusStatus>,
    kind: Option<BonusKind>,
    sale_id: Option<String>,
    payee_id: Option<String>,
    program_id: Option<String>,
    limit: Option<i64>,
    starting_after: Option<super::Cursor>,
}

#[utoipa::path(
    operation_id = "list_bonuses", get, path = "/api/v1/bonuses", tag = "bonuses", params(ListParams),
    responses((status = 200, description = "OK", body = Page<Bonus>), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// List bonuses, newest first (`status=ready_for_review` is the review queue).
async fn list(
    State(state): State<AppState>,
    _: Can<perm::SalesRead>,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<Bonus>>> {
    let limit = check_limit(p.limit)?;
    let filter = BonusFilter {
        status: p.status,
        kind: p.kind,
        sale_id: p.sale_id.as_deref(),
        payee_id: p.payee_id.as_deref(),
        program_id: p.program_id.as_deref(),
    };
    let rows = svc::list_bonuses(&state, &filter, p.starting_after.as_deref(), limit).await?;
    Ok(Json(page(rows, limit, |b| b.id.clone(), Into::into)))
}

#[utoipa::path(
    operation_id = "get_bonus", get, path = "/api/v1/bonuses/{id}", tag = "bonuses",
    params(("id" = String, Path, description = "Bonus id (bon_…)")),
    responses((status = 200, description = "The bonus, its payments and what completion still needs", body = BonusView), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Get a bonus with its payments and, while incomplete, `missing`: what review still needs,
/// by field.
async fn show(
    State(state): State<AppState>,
    _: Can<perm::SalesRead>,
    Path(id): Path<String>,
) -> ApiResult<Json<BonusView>> {
    let bonus = svc::get_bonus(&state, &id).await?;
    Ok(Json(svc::bonus_view(&state, bonus).await?))
}

/// Completion fields; a patch changes only those it names. Giving `percentage_bps` makes the
/// bonus a share of the sale (clearing a fixed amount); giving `fixed_amount` the reverse.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct BonusPatchIn {
    /// Who receives it (per_…).
    #[schema(min_length = 1)]
    payee_id: Option<String>,
    /// A share of the sale in basis points: 1 to 10 000.
    #[schema(minimum = 1, maximum = 10000, example = 1000)]
    percentage_bps: Option<i64>,
    /// A fixed amount in minor units of the sale's currency.
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    fixed_amount: Option<i64>,
    front_term: Option<Milestone>,
    /// `null` is "Not Applicable": everything on the front term.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Milestone>, nullable)]
    back_term: Option<Option<Milestone>>,
    /// The share due on the front term in basis points: 1 to 10 000.
    #[schema(minimum = 1, maximum = 10000, example = 5000)]
    front_share_bps: Option<i64>,
    /// `payroll` pays employees only.
    payment_method: Option<PaymentMethod>,
}

#[utoipa::path(
    operation_id = "update_bonus", patch, path = "/api/v1/bonuses/{id}", tag = "bonuses",
    params(("id" = String, Path, description = "Bonus id (bon_…)")), request_body = BonusPatchIn,
    responses((status = 200, description = "OK", body = BonusView), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Complete an incomplete bonus, a step at a time (409 `invalid_transition` once submitted).
async fn update(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::SalesWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<BonusPatchIn>,
) -> ApiResult<Json<BonusView>> {
    let patch = BonusPatch {
        payee_id: body.payee_id,
        percentage_bps: body.percentage_bps,
        fixed_amount: body.fixed_amount,
        front_term: body.front_term,
        back_term: body.back_term,
        front_share_bps: body.front_share_bps,
        payment_method: body.payment_method,
    };
    let bonus = svc::update_bonus(&state, &caller.origin, &id, patch).await?;
    Ok(Json(svc::bonus_view(&state, bonus).await?))
}

#[utoipa::path(
    operation_id = "submit_bonus", post, path = "/api/v1/bonuses/{id}/submit", tag = "bonuses",
    params(("id" = String, Path, description = "Bonus id (bon_…)")),
    responses((status = 200, description = "Ready for review", body = Bonus), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Submit a complete bonus for review. 422 names every field still missing or wrong (payee,
/// basis and amount, terms, front share, payment method).
async fn submit(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::SalesWrite>,
    Path(id): Path<String>,
) -> ApiResult<Json<Bonus>> {
    Ok(Json(
        svc::submit_bonus(&state, &caller.origin, &id).await?.into(),
    ))
}

#[utoipa::path(
    operation_id = "approve_bonus", post, path = "/api/v1/bonuses/{id}/approve", tag = "bonuses",
    params(("id" = String, Path, description = "Bonus id (bon_…)")),
    responses((status = 200, description = "Approved; its payments are in the ledger", body = BonusView), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Approve a bonus in review. Its payments are created: one per pay term, due on the sale's
/// date for that term, or waiting for it. 403 for whoever submitted it (unless the program's
/// policy allows it); 409 `already_decided` when it is not in review.
async fn approve(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::SalesApprove>,
    Path(id): Path<String>,
) -> ApiResult<Json<BonusView>> {
    let bonus = svc::approve_bonus(&state, &caller.origin, &id).await?;
    Ok(Json(svc::bonus_view(&state, bonus).await?))
}

#[utoipa::path(
    operation_id = "reject_bonus", post, path = "/api/v1/bonuses/{id}/reject", tag = "bonuses",
    params(("id" = String, Path, description = "Bonus id (bon_…)")), request_body = ReasonIn,
    responses((status = 200, description = "Rejected", body = Bonus), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Reject a bonus in review, with a reason.
async fn reject(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::SalesApprove>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReasonIn>,
) -> ApiResult<Json<Bonus>> {
    Ok(Json(
        svc::reject_bonus(&state, &caller.origin, &id, &body.reason)
            .await?
            .into(),
    ))
}

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
enum DecisionIn {
    Approve,
    Reject,
}

/// A decision on several bonuses.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct DecisionsIn {
    /// 1 to 100 bonus ids.
    #[schema(min_items = 1, max_items = 100)]
    ids: Vec<String>,
    decision: DecisionIn,
    /// Required to reject.
    #[schema(max_length = 500)]
    reason: Option<String>,
}

/// What happened to each bonus.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
struct DecisionsOut {
    data: Vec<DecisionOutcome>,
}

#[utoipa::path(
    operation_id = "decide_bonuses", post, path = "/api/v1/bonuses/decisions", tag = "bonuses",
    request_body = DecisionsIn,
    responses((status = 200, description = "One outcome per id, in order", body = DecisionsOut), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Approve or reject several bonuses at once. Each is decided on its own: one that cannot be
/// (not in review, your own, unknown) is reported in its outcome and the others go ahead.
async fn decide_many(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::SalesApprove>,
    ApiJson(body): ApiJson<DecisionsIn>,
) -> ApiResult<Json<DecisionsOut>> {
    let decision = match body.decision {
        DecisionIn::Approve => Decision::Approve,
        DecisionIn::Reject => Decision::Reject,
    };
    let data = svc::decide_many(
        &state,
        &caller.origin,
        &body.ids,
        decision,
        body.reason.as_deref().unwrap_or_default(),
    )
    .await?;
    Ok(Json(DecisionsOut { data }))
}

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
enum SplitBy {
    /// `count` equal payments.
    Equal,
    /// Each part's `percentage_bps`, summing to 10 000.
    Percentage,
    /// Each part's `amount`, summing to the bonus.
    Amount,
}

/// One payment of a split.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct SplitPart {
    /// With `by: percentage`.
    #[schema(minimum = 1, maximum = 10000)]
    percentage_bps: Option<i64>,
    /// With `by: amount`: minor units.
    #[schema(minimum = 1)]
    amount: Option<i64>,
    /// When it falls due; the bonus's front term by default.
    term: Option<Milestone>,
}

/// How to split a bonus into payments.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct SplitIn {
    by: SplitBy,
    /// With `by: equal`: how many payments (1 to 100).
    #[schema(minimum = 1, maximum = 100)]
    count: Option<i64>,
    /// With `by: equal`: when they fall due (the bonus's front term by default).
    term: Option<Milestone>,
    /// With `by: percentage` or `by: amount`: 1 to 100 parts.
    #[serde(default)]
    #[schema(max_items = 100)]
    parts: Vec<SplitPart>,
}

impl SplitIn {
    fn into_split(self) -> ApiResult<Split> {
        let part_field = |i: usize, name: &str| format!("parts[{i}].{name}");
        match self.by {
            SplitBy::Equal => {
                let count = self
                    .count
                    .ok_or_else(|| ApiError::field("count", "is required to split equally"))?;
                let parts = usize::try_from(count)
                    .ok()
                    .filter(|n| (1..=100).contains(n))
                    .ok_or_else(|| ApiError::field("count", "must be between 1 and 100"))?;
                Ok(Split::Equal {
                    parts,
                    term: self.term,
                })
            }
            SplitBy::Percentage => {
                if self.parts.is_empty() {
                    return Err(ApiError::field("parts", "give 1 to 100 parts"));
                }
                let mut out = Vec::new();
                for (i, p) in self.parts.into_iter().enumerate() {
                    let bps = p
                        .percentage_bps
                        .and_then(|b| u32::try_from(b).ok())
                        .filter(|b| (1..=10_000).contains(b))
                        .ok_or_else(|| {
                            ApiError::field(
                                &part_field(i, "percentage_bps"),
                                "is required: 1 to 10000 basis points",
                            )
                        })?;
                    out.push((BasisPoints(bps), p.term));
                }
                Ok(Split::Percentages(out))
            }
            SplitBy::Amount => {
                if self.parts.is_empty() {
                    return Err(ApiError::field("parts", "give 1 to 100 parts"));
                }
                let mut out = Vec::new();
                for (i, p) in self.parts.into_iter().enumerate() {
                    let amount = p.amount.filter(|a| *a > 0).ok_or_else(|| {
                        ApiError::field(&part_field(i, "amount"), "is required: more than zero")
                    })?;
                    out.push((amount, p.term));
                }
                Ok(Split::Amounts(out))
            }
        }
    }
}

/// A bonus's payments after a split.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
struct PaymentsOut {
    /// Every payment of the bonus, in order, the replaced ones voided.
    data: Vec<Payment>,
}

#[utoipa::path(
    operation_id = "split_bonus", post, path = "/api/v1/bonuses/{id}/split", tag = "bonuses",
    params(("id" = String, Path, description = "Bonus id (bon_…)")), request_body = SplitIn,
    responses((status = 200, description = "The bonus's payments", body = PaymentsOut), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Split an approved bonus into several payments, equally, by percentages or by amounts. The
/// payments always sum exactly to the bonus (cents left over go to the largest remainder,
/// ties to the earliest payment). Its unpaid payments are replaced (voided); 409 when one is
/// already in a payout batch or paid.
async fn split(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::SalesApprove>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SplitIn>,
) -> ApiResult<Json<PaymentsOut>> {
    let split = body.into_split()?;
    let payments = svc::split_bonus(&state, &caller.origin, &id, split).await?;
    Ok(Json(PaymentsOut {
        data: payments.into_iter().map(Into::into).collect(),
    }))
}
