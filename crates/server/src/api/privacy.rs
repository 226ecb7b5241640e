//! `/api/v1/personal-data` and erasure: a person's right to see and to remove what Vouch
//! holds about them (administrators, `privacy.manage`).

use super::ApiQuery;
use crate::AppState;
use crate::auth::{Can, perm};
use crate::error::ApiResult;
use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vouch_app::privacy::{self as svc, PersonalData};
use vouch_app::resources::{Participant, Person};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(personal_data))
        .routes(routes!(erase_participant))
        .routes(routes!(erase_person))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct EmailParam {
    /// The address to look up (compared without case).
    #[param(required = true, format = "email", max_length = 254)]
    #[serde(default)]
    email: String,
}

#[utoipa::path(
    operation_id = "get_personal_data",
    get,
    path = "/api/v1/personal-data",
    tag = "privacy",
    params(EmailParam),
    responses((status = 200, description = "Everything held about the address: participants in every program with their referrals and rewards, people, emails, and whether it is unsubscribed. Empty lists when nothing is held.", body = PersonalData), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Export everything Vouch holds about one email address, as one JSON document (a subject
/// access request). The lookup is audited.
async fn personal_data(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::PrivacyManage>,
    ApiQuery(p): ApiQuery<EmailParam>,
) -> ApiResult<Json<PersonalData>> {
    Ok(Json(
        svc::personal_data(&state, &caller.origin, &p.email).await?,
    ))
}

#[utoipa::path(
    operation_id = "erase_participant",
    post,
    path = "/api/v1/participants/{id}/erase",
    tag = "privacy",
    params(("id" = String, Path, description = "Participant id (par_…)")),
    responses((status = 200, description = "Erased: the participant as it now reads", body = Participant), (status = "4XX", description = "A problem (RFC 9457): 404 when there is no such participant, 409 `already_erased`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Erase a participant on request: email, names and signup fingerprints replaced, sessions
/// and sign-in links ended, the program's emails to them and the personal fields of their
/// audit entries redacted; the contact standing for them in the payables ledger is erased
/// too. Referrals, rewards and payments stay, tied to the id. Sends `participant.erased`.
/// Cannot be undone.
async fn erase_participant(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::PrivacyManage>,
    Path(id): Path<String>,
) -> ApiResult<Json<Participant>> {
    let after = svc::erase_participant(&state, &caller.origin, &id).await?;
    Ok(Json(after.into()))
}

#[utoipa::path(
    operation_id = "erase_person",
    post,
    path = "/api/v1/people/{id}/erase",
    tag = "privacy",
    params(("id" = String, Path, description = "Person id (per_…)")),
    responses((status = 200, description = "Erased: the person as they now read", body = Person), (status = "4XX", description = "A problem (RFC 9457): 404 when there is no such person, 409 `already_erased`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Erase a contact, employee or vendor on request: the name reads "Erased person", email,
/// phone, company, employee number and notes are removed, and so are the personal fields of
/// their audit entries. Bonuses, payments and terms stay, tied to the id. Cannot be undone.
async fn erase_person(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::PrivacyManage>,
    Path(id): Path<String>,
) -> ApiResult<Json<Person>> {
    let after = svc::erase_person(&state, &caller.origin, &id).await?;
    Ok(Json(after.into()))
}
