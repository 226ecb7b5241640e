//! `/api/v1/sales-referrals`: the referrals module of sales bonuses (seed 002): a referred
//! contact linked to whoever referred them, the meeting, the stages with their history, and
//! the sale that wins it (`POST /api/v1/sales` with `referral_id`).

use super::sales::nullable;
use super::{ApiJson, ApiQuery, Page, check_limit, page};
use crate::AppState;
use crate::auth::{Can, perm};
use crate::error::ApiResult;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vouch_app::resources::SalesReferral;
use vouch_app::sales_referrals::{self as svc, ReferralView};
use vouch_domain::sales_referral::{ReferralFields, Stage};
use vouch_store::sales_referrals::ReferralFilter;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update))
        .routes(routes!(move_stage))
        .routes(routes!(add_note))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListParams {
    stage: Option<Stage>,
    program_id: Option<String>,
    /// Referrals where this person is the referred contact, the referrer or the employee who
    /// generated it.
    person_id: Option<String>,
    limit: Option<i64>,
    starting_after: Option<super::Cursor>,
}

#[utoipa::path(
    operation_id = "list_sales_referrals", get, path = "/api/v1/sales-referrals", tag = "sales", params(ListParams),
    responses((status = 200, description = "OK", body = Page<SalesReferral>), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// List sales referrals, newest first.
async fn list(
    State(state): State<AppState>,
    _: Can<perm::SalesRead>,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<SalesReferral>>> {
    let limit = check_limit(p.limit)?;
    let filter = ReferralFilter {
        stage: p.stage,
        program_id: p.program_id.as_deref(),
        person_id: p.person_id.as_deref(),
    };
    let rows = svc::list(&state, &filter, p.starting_after.as_deref(), limit).await?;
    Ok(Json(page(rows, limit, |r| r.id.clone(), Into::into)))
}

/// A new referral.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewReferralIn {
    #[schema(min_length = 1, example = "prg_01m8mckw9596hhcdwmfwxwr7ar")]
    program_id: String,
    /// The referred contact (per_…).
    #[schema(min_length = 1, example = "per_01m8mckw9596hhcdwmfwxwr7ar")]
    referred_id: String,
    /// Who referred them: a contact, employee or vendor (per_…).
    #[schema(min_length = 1, example = "per_01m8mckw9596hhcdwmfwxwr7aa")]
    referrer_id: String,
    /// The employee who generated the referral from a referring contact.
    generated_by: Option<String>,
    /// When the meeting is booked; with it the referral starts as `meeting_scheduled`.
    #[schema(value_type = Option<String>, format = DateTime)]
    meeting_at: Option<String>,
    #[schema(max_length = 10000)]
    notes: Option<String>,
}

#[utoipa::path(
    operation_id = "create_sales_referral", post, path = "/api/v1/sales-referrals", tag = "sales",
    request_body = NewReferralIn,
    responses((status = 201, description = "Created", body = ReferralView), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Enter a referral. The referred person must be a contact; `generated_by` an employee, and
/// only on a referral from a contact (422 naming the field otherwise).
async fn create(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::SalesWrite>,
    ApiJson(body): ApiJson<NewReferralIn>,
) -> ApiResult<(StatusCode, Json<ReferralView>)> {
    let fields = ReferralFields {
        program_id: body.program_id,
        referred_id: body.referred_id,
        referrer_id: body.referrer_id,
        generated_by: body.generated_by.unwrap_or_default(),
        meeting_at: body.meeting_at.unwrap_or_default(),
        notes: body.notes.unwrap_or_default(),
    };
    let referral = svc::create(&state, &caller.origin, &fields).await?;
    Ok((
        StatusCode::CREATED,
        Json(svc::view(&state, referral).await?),
    ))
}

#[utoipa::path(
    operation_id = "get_sales_referral", get, path = "/api/v1/sales-referrals/{id}", tag = "sales",
    params(("id" = String, Path, description = "Referral id (srf_…)")),
    responses((status = 200, description = "The referral and its history", body = ReferralView), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Get a referral with its history (stage changes with their dates, and notes).
async fn show(
    State(state): State<AppState>,
    _: Can<perm::SalesRead>,
    Path(id): Path<String>,
) -> ApiResult<Json<ReferralView>> {
    let referral = svc::get(&state, &id).await?;
    Ok(Json(svc::view(&state, referral).await?))
}

/// The meeting and the notes; a patch changes only what it names.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ReferralPatch {
    /// `null` clears the booking.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = DateTime, nullable)]
    meeting_at: Option<Option<String>>,
    #[schema(max_length = 10000)]
    notes: Option<String>,
}

#[utoipa::path(
    operation_id = "update_sales_referral", patch, path = "/api/v1/sales-referrals/{id}", tag = "sales",
    params(("id" = String, Path, description = "Referral id (srf_…)")), request_body = ReferralPatch,
    responses((status = 200, description = "OK", body = ReferralView), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Book or move the meeting, or replace the notes, of a referral still open (409 once won or
/// lost).
async fn update(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::SalesWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReferralPatch>,
) -> ApiResult<Json<ReferralView>> {
    let meeting = body.meeting_at.map(Option::unwrap_or_default);
    let referral = svc::update(
        &state,
        &caller.origin,
        &id,
        meeting.as_deref(),
        body.notes.as_deref(),
    )
    .await?;
    Ok(Json(svc::view(&state, referral).await?))
}

/// A move to another stage.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ReferralStageIn {
    /// `won` comes from approving a sale made from the referral (422 here).
    stage: Stage,
    /// Why; required for `lost`.
    #[schema(max_length = 2000)]
    note: Option<String>,
}

#[utoipa::path(
    operation_id = "move_sales_referral", post, path = "/api/v1/sales-referrals/{id}/stage", tag = "sales",
    params(("id" = String, Path, description = "Referral id (srf_…)")), request_body = ReferralStageIn,
    responses((status = 200, description = "Moved", body = ReferralView), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Move a referral through the sales process. `meeting_scheduled` needs the meeting booked;
/// `lost` needs a note; won and lost are final (409).
async fn move_stage(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::SalesWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReferralStageIn>,
) -> ApiResult<Json<ReferralView>> {
    let referral = svc::move_stage(
        &state,
        &caller.origin,
        &id,
        body.stage,
        body.note.as_deref().unwrap_or_default(),
    )
    .await?;
    Ok(Json(svc::view(&state, referral).await?))
}

/// A note for the referral's history.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NoteIn {
    #[schema(
        min_length = 1,
        max_length = 2000,
        example = "Called; meeting moved to Friday"
    )]
    text: String,
}

#[utoipa::path(
    operation_id = "add_sales_referral_note", post, path = "/api/v1/sales-referrals/{id}/notes", tag = "sales",
    params(("id" = String, Path, description = "Referral id (srf_…)")), request_body = NoteIn,
    responses((status = 201, description = "Added; the referral with its history", body = ReferralView), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Add a note to a referral's history.
async fn add_note(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::SalesWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NoteIn>,
) -> ApiResult<(StatusCode, Json<ReferralView>)> {
    svc::add_note(&state, &caller.origin, &id, &body.text).await?;
    let referral = svc::get(&state, &id).await?;
    Ok((
        StatusCode::CREATED,
        Json(svc::view(&state, referral).await?),
    ))
}
