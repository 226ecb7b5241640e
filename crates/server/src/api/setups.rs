//! `/api/v1/referral-setups`: staff request a referral program for a beneficiary; the Management
//! Team approves (which runs the whole procedure) or rejects.

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
use vouch_app::accounts::AccountView;
use vouch_app::setups::SetupView;
use vouch_domain::account::{AccountFields, CloneOverrides};
use vouch_domain::setup::{Beneficiary, SetupPlan, SetupStatus};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show))
        .routes(routes!(approve))
        .routes(routes!(reject))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListParams {
    /// Only setups in this state.
    #[param(value_type = Option<SetupStatus>)]
    status: Option<String>,
    limit: Option<i64>,
    starting_after: Option<super::Cursor>,
}

#[utoipa::path(
    operation_id = "list_referral_setups",
    get,
    path = "/api/v1/referral-setups",
    tag = "referral-setups",
    params(ListParams),
    responses((status = 200, description = "OK", body = Page<SetupView>), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// List referral-program setups, newest first.
async fn list(
    State(state): State<AppState>,
    _: Can<perm::SetupsRead>,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<SetupView>>> {
    let limit = check_limit(p.limit)?;
    let status = p
        .status
        .as_deref()
        .map(str::parse::<SetupStatus>)
        .transpose()
        .map_err(|m| ApiError::field("status", m))?;
    let rows =
        vouch_app::setups::list_setups(&state, status, p.starting_after.as_deref(), limit).await?;
    let page = page(rows, limit, |s| s.id.clone(), Into::into);
    let mut data = Vec::with_capacity(page.data.len());
    for s in page.data {
        data.push(vouch_app::setups::setup_view(&state, s).await?);
    }
    Ok(Json(Page {
        data,
        has_more: page.has_more,
        next_cursor: page.next_cursor,
    }))
}

/// Exactly one of an existing beneficiary (`beneficiary_id`) or the details of a new one
/// (`beneficiary`), plus optional overrides of the super customer's conventional fields. The
/// plan is checked whole before it is stored: 422 names a beneficiary that does not exist, and
/// an email or code that the beneficiary or the super customer would share with another account.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetupIn {
    pub beneficiary_id: Option<i64>,
    pub beneficiary: Option<AccountFields>,
    #[serde(default)]
    pub super_customer: CloneOverrides,
}

impl SetupIn {
    pub fn into_plan(self) -> ApiResult<SetupPlan> {
        let beneficiary = match (self.beneficiary_id, self.beneficiary) {
            (Some(account_id), None) => Beneficiary::Existing { account_id },
            (None, Some(account)) => Beneficiary::New {
                account: Box::new(account),
            },
            (Some(_), Some(_)) => {
                return Err(ApiError::field(
                    "beneficiary",
                    "give beneficiary_id or beneficiary, not both",
                ));
            }
            (None, None) => {
                return Err(ApiError::field(
                    "beneficiary_id",
                    "is required (or give the details of a new beneficiary in `beneficiary`)",
                ));
            }
        };
        Ok(SetupPlan {
            beneficiary,
            super_customer: self.super_customer,
        })
    }
}

#[utoipa::path(
    operation_id = "request_referral_setup",
    post,
    path = "/api/v1/referral-setups",
    tag = "referral-setups",
    request_body = SetupIn,
    responses((status = 201, description = "Created", body = SetupView), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Request a referral program for a beneficiary; the Management Team approves it.
async fn create(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::SetupsRequest>,
    ApiJson(body): ApiJson<SetupIn>,
) -> ApiResult<(StatusCode, Json<SetupView>)> {
    let setup = vouch_app::setups::request_setup(&state, &caller.origin, body.into_plan()?).await?;
    Ok((
        StatusCode::CREATED,
        Json(vouch_app::setups::setup_view(&state, setup).await?),
    ))
}

#[utoipa::path(
    operation_id = "get_referral_setup",
    get,
    path = "/api/v1/referral-setups/{id}",
    tag = "referral-setups",
    params(("id" = String, Path, description = "Setup id (rps_…)")),
    responses((status = 200, description = "OK", body = SetupView), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Get a setup, with the super customer its approval will create.
async fn show(
    State(state): State<AppState>,
    _: Can<perm::SetupsRead>,
    Path(id): Path<String>,
) -> ApiResult<Json<SetupView>> {
    let setup = vouch_app::setups::get_setup(&state, &id).await?;
    Ok(Json(vouch_app::setups::setup_view(&state, setup).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct SetupDecisionIn {
    /// Why, for the audit log and the requester.
    #[schema(max_length = 2000)]
    note: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct ApprovedOut {
    #[serde(flatten)]
    setup: SetupView,
    beneficiary: AccountView,
    super_customer: AccountView,
}

fn note(body: &SetupDecisionIn) -> ApiResult<Option<String>> {
    vouch_domain::validation::optional_text(body.note.as_deref().unwrap_or_default(), 2000)
        .map_err(|m| ApiError::field("note", m))
}

#[utoipa::path(
    operation_id = "approve_referral_setup",
    post,
    path = "/api/v1/referral-setups/{id}/approve",
    tag = "referral-setups",
    params(("id" = String, Path, description = "Setup id (rps_…)")),
    request_body = SetupDecisionIn,
    responses((status = 200, description = "OK", body = ApprovedOut), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Approve a setup (managers and above): the whole procedure runs in one transaction.
async fn approve(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::SetupsDecide>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SetupDecisionIn>,
) -> ApiResult<Json<ApprovedOut>> {
    let note = note(&body)?;
    let done =
        vouch_app::setups::approve_setup(&state, &caller.origin, &id, note.as_deref()).await?;
    Ok(Json(ApprovedOut {
        setup: vouch_app::setups::setup_view(&state, done.setup).await?,
        beneficiary: AccountView::new(&state, done.beneficiary),
        super_customer: AccountView::new(&state, done.super_customer),
    }))
}

#[utoipa::path(
    operation_id = "reject_referral_setup",
    post,
    path = "/api/v1/referral-setups/{id}/reject",
    tag = "referral-setups",
    params(("id" = String, Path, description = "Setup id (rps_…)")),
    request_body = SetupDecisionIn,
    responses((status = 200, description = "OK", body = SetupView), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Reject a setup; nothing is created.
async fn reject(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::SetupsDecide>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SetupDecisionIn>,
) -> ApiResult<Json<SetupView>> {
    let note = note(&body)?;
    let setup =
        vouch_app::setups::reject_setup(&state, &caller.origin, &id, note.as_deref()).await?;
    Ok(Json(vouch_app::setups::setup_view(&state, setup).await?))
}
