//! `/api/v1/partner-referrals`: referrals between us and partner companies (seed 003).

use super::{ApiJson, ApiQuery, check_limit};
use crate::AppState;
use crate::auth::{Can, perm};
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vouch_app::partner_referrals::{self as svc, EditFields, Side};
use vouch_app::resources::{PartnerReferral, ReferralChange};
use vouch_domain::partner_referral::{Direction, DuplicateStatus, Need, ReferralFields, Stage};
use vouch_store::partner_referrals::{ReferralQuery, SortKey};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update))
        .routes(routes!(decide_duplicate))
}

/// `number` (the default), `client_name`, `company`, `partner`, `direction`, `stage`,
/// `value`, `created_at` or `updated_at`; `-` first for descending.
pub fn parse_sort(sort: Option<&str>) -> Result<(SortKey, bool), ApiError> {
    let raw = sort.unwrap_or("-number");
    let (descending, name) = match raw.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, raw),
    };
    SortKey::parse(name)
        .map(|k| (k, descending))
        .ok_or_else(|| {
            let names: Vec<&str> = SortKey::ALL.iter().map(|(_, n)| *n).collect();
            ApiError::field(
                "sort",
                format!(
                    "must be one of {} (with - for descending)",
                    names.join(", ")
                ),
            )
        })
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListParams {
    partner_id: Option<String>,
    #[param(inline)]
    direction: Option<Direction>,
    #[param(inline)]
    stage: Option<Stage>,
    /// Only referrals allocated to this partner manager.
    manager_id: Option<String>,
    #[param(inline)]
    duplicate_status: Option<DuplicateStatus>,
    /// Matches every field but the creation date (`R-1001` finds referral 1001).
    #[param(max_length = 200)]
    search: Option<String>,
    /// `number`, `client_name`, `company`, `partner`, `direction`, `stage`, `value`,
    /// `created_at` or `updated_at`, `-` first for descending; `-number` by default.
    #[param(
        pattern = "^-?(number|client_name|company|partner|direction|stage|value|created_at|updated_at)$"
    )]
    sort: Option<String>,
    limit: Option<i64>,
    starting_after: Option<super::Cursor>,
}

/// A page of referrals and how many match in all.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct ReferralList {
    data: Vec<PartnerReferral>,
    has_more: bool,
    next_cursor: Option<String>,
    /// Referrals matching the filters and search, on every page.
    total: i64,
}

#[utoipa::path(
    operation_id = "list_partner_referrals",
    get,
    path = "/api/v1/partner-referrals",
    tag = "partners",
    params(ListParams),
    responses((status = 200, description = "OK", body = ReferralList), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// List referrals between us and partners, both directions: filtered, searched, sorted by
/// any column, with the total.
async fn list(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::PartnersRead>,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<ReferralList>> {
    let limit = check_limit(p.limit)?;
    let (sort, descending) = parse_sort(p.sort.as_deref())?;
    let query = ReferralQuery {
        partner_id: p.partner_id.as_deref(),
        direction: p.direction,
        stage: p.stage,
        manager_id: p.manager_id.as_deref(),
        duplicate_status: p.duplicate_status,
        search: p.search.as_deref(),
    };
    let found = svc::list(
        &state,
        &Side::Staff(&caller.origin),
        &query,
        sort,
        descending,
        p.starting_after.as_deref(),
        limit,
    )
    .await?;
    let next_cursor = found
        .has_more
        .then(|| found.rows.last().map(|r| r.id.clone()))
        .flatten();
    Ok(Json(ReferralList {
        data: found.rows,
        has_more: found.has_more,
        next_cursor,
        total: found.total,
    }))
}

/// A referral to record: `to_partner` sends a client to a partner that receives referrals
/// (the partner is emailed); `to_us` records a partner's introduction (allocated to its
/// partner manager, who is emailed). A client already referred (same email or company
/// domain) is flagged `suspected` for staff to decide.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewReferralIn {
    partner_id: String,
    direction: Direction,
    #[schema(min_length = 1, max_length = 200, example = "Dana Home")]
    client_name: String,
    #[schema(max_length = 200)]
    company: Option<String>,
    /// An email or a phone is required.
    #[schema(max_length = 254, format = "email-or-empty")]
    email: Option<String>,
    #[schema(max_length = 32, pattern = "^$|^[0-9 +.()x-]*[0-9][0-9 +.()x-]*$")]
    phone: Option<String>,
    #[schema(max_length = 2048, format = "iri")]
    website: Option<String>,
    #[serde(default)]
    #[schema(max_items = 4)]
    needs: Vec<Need>,
    #[schema(max_length = 10000)]
    notes: Option<String>,
    /// Expected value in minor units of `currency`.
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    value: Option<i64>,
    /// ISO 4217; required with `value`.
    #[schema(
        min_length = 3,
        max_length = 3,
        pattern = "^[A-Za-z]{3}$",
        example = "USD"
    )]
    currency: Option<String>,
}

/// A referral with its history, oldest change first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct ReferralWithHistory {
    #[serde(flatten)]
    referral: PartnerReferral,
    history: Vec<ReferralChange>,
}

#[utoipa::path(
    operation_id = "create_partner_referral",
    post,
    path = "/api/v1/partner-referrals",
    tag = "partners",
    request_body = NewReferralIn,
    responses((status = 201, description = "Created", body = PartnerReferral), (status = "4XX", description = "A problem (RFC 9457); 422 on `partner_id` for an unknown partner, 409 `partner_suspended` or `partner_cannot` when the partner does not do that direction", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Record a referral to or from a partner.
async fn create(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::PartnersWrite>,
    ApiJson(body): ApiJson<NewReferralIn>,
) -> ApiResult<(StatusCode, Json<PartnerReferral>)> {
    let fields = ReferralFields {
        client_name: body.client_name,
        company: body.company.unwrap_or_default(),
        email: body.email.unwrap_or_default(),
        phone: body.phone.unwrap_or_default(),
        website: body.website.unwrap_or_default(),
        needs: body.needs.iter().map(|n| n.as_str().to_string()).collect(),
        notes: body.notes.unwrap_or_default(),
        value: body.value,
        currency: body.currency.unwrap_or_default(),
    };
    let out = svc::create(
        &state,
        &Side::Staff(&caller.origin),
        &body.partner_id,
        body.direction,
        &fields,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(out)))
}

#[utoipa::path(
    operation_id = "get_partner_referral",
    get,
    path = "/api/v1/partner-referrals/{id}",
    tag = "partners",
    params(("id" = String, Path, description = "Partner referral id (prf_…)")),
    responses((status = 200, description = "OK", body = ReferralWithHistory), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Get a referral with its history.
async fn show(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::PartnersRead>,
    Path(id): Path<String>,
) -> ApiResult<Json<ReferralWithHistory>> {
    let (referral, history) = svc::get(&state, &Side::Staff(&caller.origin), &id).await?;
    Ok(Json(ReferralWithHistory { referral, history }))
}

/// What either side may change: notes, stage, value (`null` clears it) and its currency.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ReferralPatch {
    #[schema(max_length = 10000)]
    notes: Option<String>,
    stage: Option<Stage>,
    #[serde(default, deserialize_with = "super::sales::nullable")]
    #[schema(value_type = Option<i64>, nullable, minimum = 0, maximum = 1_000_000_000)]
    value: Option<Option<i64>>,
    #[schema(min_length = 3, max_length = 3, pattern = "^[A-Za-z]{3}$")]
    currency: Option<String>,
}

#[utoipa::path(
    operation_id = "update_partner_referral",
    patch,
    path = "/api/v1/partner-referrals/{id}",
    tag = "partners",
    params(("id" = String, Path, description = "Partner referral id (prf_…)")),
    request_body = ReferralPatch,
    responses((status = 200, description = "OK", body = PartnerReferral), (status = "4XX", description = "A problem (RFC 9457); 409 `edit_conflict` when someone changed it at the same moment", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Change a referral's notes, stage or value; each change is a line of its history.
async fn update(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::PartnersWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReferralPatch>,
) -> ApiResult<Json<PartnerReferral>> {
    let fields = EditFields {
        notes: body.notes,
        stage: body.stage,
        value: body.value,
        currency: body.currency,
    };
    Ok(Json(
        svc::edit(&state, &Side::Staff(&caller.origin), &id, &fields).await?,
    ))
}

/// A decision on a suspected duplicate.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct DuplicateDecisionIn {
    decision: DuplicateDecision,
}

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
enum DuplicateDecision {
    /// It duplicates the earlier referral.
    Confirmed,
    /// A different client after all.
    Cleared,
}

#[utoipa::path(
    operation_id = "decide_partner_referral_duplicate",
    post,
    path = "/api/v1/partner-referrals/{id}/duplicate",
    tag = "partners",
    params(("id" = String, Path, description = "Partner referral id (prf_…)")),
    request_body = DuplicateDecisionIn,
    responses((status = 200, description = "Decided", body = PartnerReferral), (status = "4XX", description = "A problem (RFC 9457); 409 `already_decided` unless it is a suspected duplicate", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Decide a suspected duplicate, once.
async fn decide_duplicate(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::PartnersWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DuplicateDecisionIn>,
) -> ApiResult<Json<PartnerReferral>> {
    let decision = match body.decision {
        DuplicateDecision::Confirmed => DuplicateStatus::Confirmed,
        DuplicateDecision::Cleared => DuplicateStatus::Cleared,
    };
    Ok(Json(
        svc::decide_duplicate(&state, &caller.origin, &id, decision).await?,
    ))
}
