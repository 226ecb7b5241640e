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
use vouch_app::resources::Program;
use vouch_domain::permission::{Action, role_allows, scope_allows};
use vouch_domain::program::{AttributionModel, ProgramFields, ProgramStatus};

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
    /// Only programs in this state.
    #[param(value_type = Option<ProgramStatus>)]
    status: Option<String>,
    limit: Option<i64>,
    starting_after: Option<super::Cursor>,
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
    let rows = svc::list(&state, status, p.starting_after.as_deref(), limit).await?;
    Ok(Json(page(rows, limit, |p| p.id.clone(), Into::into)))
}

/// A new program, created as a draft; absent settings take their defaults.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewProgramIn {
    // Required fields default to empty so that every missing one is reported at once.
    #[serde(default)]
    #[schema(
        required = true,
        min_length = 1,
        max_length = 200,
        example = "Spring referrals"
    )]
    name: String,
    /// Where a referral link leads, with `ref` added.
    #[serde(default)]
    #[schema(
        required = true,
        max_length = 2048,
        format = "iri",
        example = "https://shop.example.com/welcome"
    )]
    landing_url: String,
    /// Drawn from the name when absent. Lower-case letters, digits and dashes; unique (409).
    #[schema(
        max_length = 60,
        pattern = "^$|^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$",
        example = "spring-referrals"
    )]
    slug: Option<String>,
    /// Where the fallback goes when a referral link's code is unknown.
    #[schema(max_length = 2048, format = "iri-or-empty")]
    fallback_url: Option<String>,
    /// Days a click attributes a signup: 1 to 365 (default 30).
    #[schema(minimum = 1, maximum = 365)]
    attribution_window_days: Option<i64>,
    /// Which click wins when there are several (default `last_click`).
    #[schema(value_type = Option<AttributionModel>)]
    attribution_model: Option<String>,
    /// `signup` (the default), `email_verified` or a custom event name such as `purchase`:
    /// lower-case letters, digits, `_` and `.`.
    #[schema(
        min_length = 1,
        max_length = 60,
        pattern = "^[a-z0-9_.]{1,60}$",
        example = "purchase"
    )]
    qualifying_event: Option<String>,
    /// Days a reward waits before it is earned: 0 (the default) to 365.
    #[schema(minimum = 0, maximum = 365)]
    reward_hold_days: Option<i64>,
    /// ISO 4217 code of every amount in the program (default `USD`).
    #[schema(
        min_length = 3,
        max_length = 3,
        pattern = "^[A-Z]{3}$",
        example = "USD"
    )]
    currency: Option<String>,
    #[schema(max_length = 100)]
    sender_name: Option<String>,
    #[schema(max_length = 254, format = "email-or-empty")]
    reply_to: Option<String>,
    /// Tie the program to a super customer: each participant's company becomes an account
    /// nested under it (422 `super_customer_id` when the account is not a super customer).
    super_customer_id: Option<i64>,
    /// Show participants their rank among the program's referrers on their page.
    show_leaderboard: Option<bool>,
    /// The signup page's headline (empty: "Join {name}").
    #[schema(max_length = 120)]
    headline: Option<String>,
    /// What the program offers, in your words ("Give $10, get $10"): shown on the signup and
    /// referral pages.
    #[schema(max_length = 300)]
    offer: Option<String>,
    /// The logo on the public pages: an https:// image address.
    #[schema(max_length = 2048, format = "iri-or-empty")]
    logo_url: Option<String>,
    /// The public pages' accent colour, `#RRGGBB` (empty: Vouch's blue).
    #[schema(
        pattern = "^$|^#[0-9A-Fa-f]{6}$|^#[0-9A-Fa-f]{3}$",
        example = "#2F5BD3"
    )]
    brand_color: Option<String>,
}

impl From<NewProgramIn> for ProgramIn {
    fn from(n: NewProgramIn) -> Self {
        Self {
            name: Some(n.name),
            landing_url: Some(n.landing_url),
            slug: n.slug,
            fallback_url: n.fallback_url,
            attribution_window_days: n.attribution_window_days,
            attribution_model: n.attribution_model,
            qualifying_event: n.qualifying_event,
            reward_hold_days: n.reward_hold_days,
            currency: n.currency,
            sender_name: n.sender_name,
            reply_to: n.reply_to,
            super_customer_id: n.super_customer_id,
            show_leaderboard: n.show_leaderboard,
            headline: n.headline,
            offer: n.offer,
            logo_url: n.logo_url,
            brand_color: n.brand_color,
        }
    }
}

/// A program's settings; a patch changes only those it names.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ProgramIn {
    #[schema(min_length = 1, max_length = 200)]
    name: Option<String>,
    #[schema(max_length = 2048, format = "iri")]
    landing_url: Option<String>,
    /// Lower-case letters, digits and dashes; unique (409).
    #[schema(
        max_length = 60,
        pattern = "^$|^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$",
        example = "spring-referrals"
    )]
    slug: Option<String>,
    /// Where the fallback goes when a referral link's code is unknown.
    #[schema(max_length = 2048, format = "iri-or-empty")]
    fallback_url: Option<String>,
    /// Days a click attributes a signup: 1 to 365 (default 30).
    #[schema(minimum = 1, maximum = 365)]
    attribution_window_days: Option<i64>,
    /// Which click wins when there are several (default `last_click`).
    #[schema(value_type = Option<AttributionModel>)]
    attribution_model: Option<String>,
    /// `signup` (the default), `email_verified` or a custom event name such as `purchase`:
    /// lower-case letters, digits, `_` and `.`.
    #[schema(
        min_length = 1,
        max_length = 60,
        pattern = "^[a-z0-9_.]{1,60}$",
        example = "purchase"
    )]
    qualifying_event: Option<String>,
    /// Days a reward waits before it is earned: 0 (the default) to 365.
    #[schema(minimum = 0, maximum = 365)]
    reward_hold_days: Option<i64>,
    /// ISO 4217 code of every amount in the program (default `USD`).
    #[schema(
        min_length = 3,
        max_length = 3,
        pattern = "^[A-Z]{3}$",
        example = "USD"
    )]
    currency: Option<String>,
    #[schema(max_length = 100)]
    sender_name: Option<String>,
    #[schema(max_length = 254, format = "email-or-empty")]
    reply_to: Option<String>,
    /// Tie the program to a super customer: each participant's company becomes an account
    /// nested under it (422 `super_customer_id` when the account is not a super customer).
    super_customer_id: Option<i64>,
    /// Show participants their rank among the program's referrers on their page.
    show_leaderboard: Option<bool>,
    /// The signup page's headline (empty: "Join {name}").
    #[schema(max_length = 120)]
    headline: Option<String>,
    /// What the program offers, in your words ("Give $10, get $10"): shown on the signup and
    /// referral pages.
    #[schema(max_length = 300)]
    offer: Option<String>,
    /// The logo on the public pages: an https:// image address.
    #[schema(max_length = 2048, format = "iri-or-empty")]
    logo_url: Option<String>,
    /// The public pages' accent colour, `#RRGGBB` (empty: Vouch's blue).
    #[schema(
        pattern = "^$|^#[0-9A-Fa-f]{6}$|^#[0-9A-Fa-f]{3}$",
        example = "#2F5BD3"
    )]
    brand_color: Option<String>,
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
            show_leaderboard,
            headline,
            offer,
            logo_url,
            brand_color
        );
        if self.super_customer_id.is_some() {
            f.super_customer_id = self.super_customer_id;
        }
    }
}

#[utoipa::path(
    post, path = "/api/v1/programs", operation_id = "create_program", tag = "programs", request_body = NewProgramIn,
    responses((status = 201, description = "Created as a draft", body = Program), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Create a program (as a draft).
async fn create(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::ProgramsWrite>,
    ApiJson(body): ApiJson<NewProgramIn>,
) -> ApiResult<(StatusCode, Json<Program>)> {
    let mut fields = ProgramFields::new_defaults();
    ProgramIn::from(body).apply(&mut fields);
    Ok((
        StatusCode::CREATED,
        Json(svc::create(&state, &caller.origin, &fields).await?.into()),
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
    Ok(Json(svc::get(&state, &id).await?.into()))
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
        svc::update(&state, &caller.origin, &id, &fields)
            .await?
            .into(),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct StatusIn {
    /// `live` (manager or above), `paused` or `ended`; a move the lifecycle does not allow is
    /// 409 `invalid_transition`.
    #[schema(value_type = ProgramStatus)]
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
    Ok(Json(result?.into()))
}
