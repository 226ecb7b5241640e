//! `/api/v1/programs/{id}/participants` and `/api/v1/participants/{id}`: enrolment and referral
//! codes.

use super::{ApiJson, ApiQuery, Page, check_limit, page};
use crate::AppState;
use crate::auth::{Can, perm};
use crate::error::ApiResult;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vouch_app::resources::Participant;
use vouch_domain::participant::ParticipantFields;
use vouch_store::participants;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show))
        .routes(routes!(set_code))
        .routes(routes!(embed_token))
        .routes(routes!(instant_signup))
}

/// A participant with the link to share.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ParticipantView {
    #[serde(flatten)]
    pub participant: Participant,
    /// `{base_url}/r/{code}`
    pub referral_link: String,
}

impl ParticipantView {
    pub fn new(state: &AppState, participant: participants::Participant) -> Self {
        let referral_link = format!("{}/r/{}", state.settings.base_url, participant.code);
        Self {
            participant: participant.into(),
            referral_link,
        }
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListParams {
    /// Part of the email or the code.
    q: Option<String>,
    limit: Option<i64>,
    starting_after: Option<super::Cursor>,
}

#[utoipa::path(
    get, path = "/api/v1/programs/{id}/participants", operation_id = "list_participants", tag = "programs",
    params(("id" = String, Path, description = "Program id (prg_…)"), ListParams),
    responses((status = 200, description = "OK", body = Page<ParticipantView>), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// A program's participants, newest first.
async fn list(
    State(state): State<AppState>,
    _: Can<perm::ProgramsRead>,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<ParticipantView>>> {
    vouch_app::programs::get(&state, &id).await?;
    let limit = check_limit(p.limit)?;
    let rows = vouch_app::participants::list_participants(
        &state,
        &id,
        p.q.as_deref(),
        vouch_store::Order::NEWEST,
        p.starting_after.as_deref(),
        limit,
    )
    .await?;
    Ok(Json(page(
        rows,
        limit,
        |p| p.id.clone(),
        |p| ParticipantView::new(&state, p),
    )))
}

#[utoipa::path(
    post, path = "/api/v1/programs/{id}/participants", operation_id = "enrol_participant", tag = "programs",
    params(("id" = String, Path, description = "Program id (prg_…)")), request_body = ParticipantFields,
    responses((status = 201, description = "Enrolled, with a referral code and link; `referred_by` is the referrer's participant id when a referral was recorded", body = ParticipantView), (status = "4XX", description = "A problem (RFC 9457); 409 when the email is already enrolled or the program has ended; 422 `referred_by` when the code names nobody in this program", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Enrol a participant. With `referred_by` (a referral code of this program) the referral is
/// recorded: `won` at once when the program qualifies at `signup`, otherwise `new` until the
/// qualifying event arrives. The welcome email goes out with the participant's link.
async fn create(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::ProgramsWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ParticipantFields>,
) -> ApiResult<(StatusCode, Json<ParticipantView>)> {
    let program = vouch_app::programs::get(&state, &id).await?;
    let draft = body.parse()?;
    let (p, _) = vouch_app::participants::enrol(
        &state,
        &caller.origin,
        &program,
        &draft,
        &Default::default(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(ParticipantView::new(&state, p))))
}

#[utoipa::path(
    get, path = "/api/v1/participants/{id}", operation_id = "get_participant", tag = "programs",
    params(("id" = String, Path, description = "Participant id (par_…)")),
    responses((status = 200, description = "OK", body = ParticipantView), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Get a participant.
async fn show(
    State(state): State<AppState>,
    _: Can<perm::ProgramsRead>,
    Path(id): Path<String>,
) -> ApiResult<Json<ParticipantView>> {
    Ok(Json(ParticipantView::new(
        &state,
        vouch_app::participants::get_participant(&state, &id).await?,
    )))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CodeIn {
    /// 3–10 letters or digits; stored upper case; unique across the installation (409).
    #[schema(
        min_length = 3,
        max_length = 10,
        pattern = "^[A-Za-z0-9]{3,10}$",
        example = "ANNLEE"
    )]
    code: String,
}

#[utoipa::path(
    put, path = "/api/v1/participants/{id}/code", operation_id = "set_participant_code", tag = "programs",
    params(("id" = String, Path, description = "Participant id (par_…)")), request_body = CodeIn,
    responses((status = 200, description = "OK; the old link stops working", body = ParticipantView), (status = "4XX", description = "A problem (RFC 9457); 409 when the code is taken", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Give a participant a vanity code.
async fn set_code(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::ProgramsWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CodeIn>,
) -> ApiResult<Json<ParticipantView>> {
    let after = vouch_app::participants::set_code(&state, &caller.origin, &id, &body.code).await?;
    Ok(Json(ParticipantView::new(&state, after)))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
struct EmbedIn {
    /// How long the token works, in seconds: 60 to 3600 (the default).
    #[schema(minimum = 60, maximum = 3600)]
    ttl_seconds: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct EmbedOut {
    token: String,
    /// The participant's referral page with the token: put it in an iframe on your site.
    url: String,
    expires_at: vouch_domain::Timestamp,
}

#[utoipa::path(
    post, path = "/api/v1/participants/{id}/embed-tokens", operation_id = "create_embed_token", tag = "programs",
    params(("id" = String, Path, description = "Participant id (par_…)")), request_body = EmbedIn,
    responses((status = 201, description = "A signed token for the embedded referral page", body = EmbedOut), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Mint a token that shows this participant's referral page inside your own site (an iframe
/// of `url`). Call it from your server when the participant's page loads; it works for at most
/// an hour and needs no cookie.
async fn embed_token(
    State(state): State<AppState>,
    _: Can<perm::ProgramsWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<EmbedIn>,
) -> ApiResult<(StatusCode, Json<EmbedOut>)> {
    let p = vouch_app::participants::get_participant(&state, &id).await?;
    let program = vouch_app::programs::get(&state, &p.program_id).await?;
    let (token, expires) =
        vouch_app::participant_access::embed_token(&state, &p.id, body.ttl_seconds)?;
    Ok((
        StatusCode::CREATED,
        Json(EmbedOut {
            url: format!(
                "{}/p/{}/me?embed_token={token}",
                state.settings.base_url, program.slug
            ),
            token,
            expires_at: expires,
        }),
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
struct InstantIn {
    #[schema(required = true, max_length = 254, format = Email)]
    email: String,
    #[schema(max_length = 100)]
    first_name: String,
    #[schema(max_length = 100)]
    last_name: String,
    /// A referral code of this program: who invited them (422 when it names nobody here).
    #[schema(max_length = 32, pattern = "^[A-Za-z0-9]*$")]
    referred_by: String,
    /// Days the link works: 1 to 90 (default 30).
    #[schema(minimum = 1, maximum = 90)]
    ttl_days: Option<i64>,
    /// Email the invitation with the link (default true).
    send_email: Option<bool>,
    /// Their company (programs tied to a super customer register an account for it, and then
    /// it is required).
    #[schema(max_length = 200)]
    company: String,
}

#[utoipa::path(
    post, path = "/api/v1/programs/{id}/instant-signups", operation_id = "create_instant_signup", tag = "programs",
    params(("id" = String, Path, description = "Program id (prg_…)")), request_body = InstantIn,
    responses((status = 201, description = "A one-click signup link (and the invitation email)", body = vouch_app::instant::InstantLink), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// An instant signup link for a known person: opening it and pressing one button enrols them,
/// no form. Nothing is stored until they join; the link carries their details, signed.
async fn instant_signup(
    State(state): State<AppState>,
    _: Can<perm::ProgramsWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<InstantIn>,
) -> ApiResult<(StatusCode, Json<vouch_app::instant::InstantLink>)> {
    let program = vouch_app::programs::get(&state, &id).await?;
    let fields = ParticipantFields {
        email: body.email,
        first_name: body.first_name,
        last_name: body.last_name,
        referred_by: body.referred_by,
        ip_address: String::new(),
        company: body.company,
    };
    let link = vouch_app::instant::create(
        &state,
        &program,
        &fields,
        body.ttl_days.unwrap_or(30),
        body.send_email.unwrap_or(true),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(link)))
}
