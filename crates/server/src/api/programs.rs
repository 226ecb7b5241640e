//! `/api/v1/programs`: referral programs and their lifecycle.

use super::{ApiJson, ApiQuery, Page, check_limit, page};
use crate::AppState;
use crate::auth::{Can, perm};
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vouch_app::programs as svc;
use vouch_domain::permission::{Action, role_allows, scope_allows};
use vouch_domain::program::{ProgramFields, ProgramStatus};
use vouch_store::programs::{self, Program};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update))
        .routes(routes!(set_status))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListParams {
    /// `draft`, `live`, `paused` or `ended`.
    status: Option<String>,
    limit: Option<i64>,
    starting_after: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/programs", operation_id = "list_programs", tag = "programs", params(ListParams),
    responses((status = 200, description = "OK", body = Page<Program>), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// List programs, newest first.
async fn list(
    State(state): State<AppState>,
    _: Can<perm::ProgramsRead>,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<Program>>> {
    let limit = check_limit(p.limit)?;
    let status = p
        .status
        .as_deref()
        .map(str::parse::<ProgramStatus>)
        .transpose()
        .map_err(|m| ApiError::field("status", m))?;
    let mut conn = state.store.conn().await?;
    let rows = programs::list(&mut conn, status, p.starting_after.as_deref(), limit).await?;
    Ok(Json(page(rows, limit, |p| p.id.clone(), |p| p)))
}

/// Program settings; on creation absent fields take their defaults (30-day window, last click,
/// qualifying on signup, no hold, USD), on update their current values.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ProgramIn {
    name: Option<String>,
    slug: Option<String>,
    landing_url: Option<String>,
    fallback_url: Option<String>,
    attribution_window_days: Option<i64>,
    /// `first_click` or `last_click`.
    attribution_model: Option<String>,
    /// `signup`, `email_verified` or a custom event name such as `purchase`.
    qualifying_event: Option<String>,
    reward_hold_days: Option<i64>,
    currency: Option<String>,
    sender_name: Option<String>,
    reply_to: Option<String>,
    super_customer_id: Option<i64>,
    /// Show participants their rank among the program's referrers on their page.
    show_leaderboard: Option<bool>,
}

impl ProgramIn {
    fn apply(self, f: &mut ProgramFields) {
        macro_rules! set {
            ($($field:ident),*) => { $( if let Some(v) = self.$field { f.$field = v; } )* };
        }
        set!(
            name,
            slug,
            landing_url,
            fallback_url,
            attribution_window_days,
            attribution_model,
            qualifying_event,
            reward_hold_days,
            currency,
            sender_name,
            reply_to,
            show_leaderboard
        );
        if self.super_customer_id.is_some() {
            f.super_customer_id = self.super_customer_id;
        }
    }
}

#[utoipa::path(
    post, path = "/api/v1/programs", operation_id = "create_program", tag = "programs", request_body = ProgramIn,
    responses((status = 201, description = "Created as a draft", body = Program), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Create a program (as a draft).
async fn create(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::ProgramsWrite>,
    ApiJson(body): ApiJson<ProgramIn>,
) -> ApiResult<(StatusCode, Json<Program>)> {
    let mut fields = ProgramFields::new_defaults();
    body.apply(&mut fields);
    Ok((
        StatusCode::CREATED,
        Json(svc::create(&state, &caller.origin, &fields).await?),
    ))
}

#[utoipa::path(
    get, path = "/api/v1/programs/{id}", operation_id = "get_program", tag = "programs",
    params(("id" = String, Path, description = "Program id (prg_…)")),
    responses((status = 200, description = "OK", body = Program), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Get a program.
async fn show(
    State(state): State<AppState>,
    _: Can<perm::ProgramsRead>,
    Path(id): Path<String>,
) -> ApiResult<Json<Program>> {
    Ok(Json(svc::get(&state, &id).await?))
}

#[utoipa::path(
    patch, path = "/api/v1/programs/{id}", operation_id = "update_program", tag = "programs",
    params(("id" = String, Path, description = "Program id (prg_…)")), request_body = ProgramIn,
    responses((status = 200, description = "OK", body = Program), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Change a program's settings (not an ended one).
async fn update(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::ProgramsWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ProgramIn>,
) -> ApiResult<Json<Program>> {
    let mut fields = svc::get(&state, &id).await?.fields();
    body.apply(&mut fields);
    Ok(Json(
        svc::update(&state, &caller.origin, &id, &fields).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct StatusIn {
    /// `live` (manager or above), `paused` or `ended`.
    status: String,
}

#[utoipa::path(
    post, path = "/api/v1/programs/{id}/status", operation_id = "set_program_status", tag = "programs",
    params(("id" = String, Path, description = "Program id (prg_…)")), request_body = StatusIn,
    responses((status = 200, description = "OK", body = Program), (status = "4XX", description = "A problem (RFC 9457); 409 `invalid_transition` when the lifecycle does not allow it", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Move a program along `draft → live ⇄ paused → ended`. Going live needs a manager (or an
/// admin-scoped key); ending is final.
async fn set_status(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::ProgramsWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<StatusIn>,
) -> ApiResult<Json<Program>> {
    let to = body
        .status
        .parse::<ProgramStatus>()
        .map_err(|m| ApiError::field("status", m))?;
    let may_publish = match &caller.principal {
        crate::auth::Principal::Staff(s) => role_allows(s.user.role, Action::ProgramsPublish),
        crate::auth::Principal::ApiKey { scope, .. } => {
            scope_allows(*scope, Action::ProgramsPublish)
        }
    };
    let result = svc::set_status(&state, &caller.origin, &id, to, may_publish).await;
    if let Err(e) = &result
        && matches!(e, vouch_app::AppError::Forbidden(_))
    {
        vouch_app::auth::audit_refusal(&state, &caller.origin, Action::ProgramsPublish).await;
    }
    Ok(Json(result?))
}
