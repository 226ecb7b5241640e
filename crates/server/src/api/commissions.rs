//! `/api/v1/commissions`: what partners earn on the referrals they brought us that were won
//! with a value (seed 003).

use super::{ApiQuery, Page, check_limit, page};
use crate::AppState;
use crate::auth::{Can, perm};
use crate::error::ApiResult;
use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vouch_app::commissions as svc;
use vouch_app::resources::Commission;
use vouch_domain::partner::CommissionStatus;
use vouch_store::commissions::CommissionFilter;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(show))
        .routes(routes!(approve))
        .routes(routes!(reject))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListParams {
    /// Only this partner's commissions.
    partner_id: Option<String>,
    #[param(inline)]
    status: Option<CommissionStatus>,
    limit: Option<i64>,
    starting_after: Option<super::Cursor>,
}

#[utoipa::path(
    operation_id = "list_commissions", get, path = "/api/v1/commissions", tag = "partners", params(ListParams),
    responses((status = 200, description = "OK", body = Page<Commission>), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Partner commissions, newest first (`status=ready_for_review` is what waits for review). A
/// commission is created when a referral a partner brought us is won with a value, from the
/// partner's terms set most recently; it is cancelled if the referral leaves Won (an approved
/// one's payment is then voided, or clawed back once paid or batched).
async fn list(
    State(state): State<AppState>,
    _: Can<perm::PartnersRead>,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<Commission>>> {
    let limit = check_limit(p.limit)?;
    let rows = svc::list(
        &state,
        CommissionFilter {
            partner_id: p.partner_id.as_deref(),
            status: p.status,
        },
        p.starting_after.as_deref(),
        limit,
    )
    .await?;
    Ok(Json(page(rows, limit, |c| c.id.clone(), |c| c)))
}

#[utoipa::path(
    operation_id = "get_commission", get, path = "/api/v1/commissions/{id}", tag = "partners",
    params(("id" = String, Path, description = "Commission id (com_…)")),
    responses((status = 200, description = "OK", body = Commission), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// A commission.
async fn show(
    State(state): State<AppState>,
    _: Can<perm::PartnersRead>,
    Path(id): Path<String>,
) -> ApiResult<Json<Commission>> {
    Ok(Json(svc::get(&state, &id).await?))
}

#[utoipa::path(
    operation_id = "approve_commission", post, path = "/api/v1/commissions/{id}/approve", tag = "partners",
    params(("id" = String, Path, description = "Commission id (com_…)")),
    responses((status = 200, description = "Approved; its payment is due", body = Commission), (status = "4XX", description = "A problem (RFC 9457); 409 `invalid_transition` unless it waits for review", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Approve a commission waiting for review: a payment of its amount falls due at once in the
/// payables ledger (event `payment.due`), owed to the contact standing for the partner, and is
/// paid in a payables batch like any bonus.
async fn approve(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::SalesApprove>,
    Path(id): Path<String>,
) -> ApiResult<Json<Commission>> {
    Ok(Json(svc::approve(&state, &caller.origin, &id).await?))
}

#[utoipa::path(
    operation_id = "reject_commission", post, path = "/api/v1/commissions/{id}/reject", tag = "partners",
    params(("id" = String, Path, description = "Commission id (com_…)")),
    responses((status = 200, description = "Rejected", body = Commission), (status = "4XX", description = "A problem (RFC 9457); 409 `invalid_transition` unless it waits for review", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Reject a commission waiting for review; nothing is owed.
async fn reject(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::SalesApprove>,
    Path(id): Path<String>,
) -> ApiResult<Json<Commission>> {
    Ok(Json(svc::reject(&state, &caller.origin, &id).await?))
}
