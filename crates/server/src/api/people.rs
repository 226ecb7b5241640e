//! `/api/v1/people`: contacts, employees and vendors who refer sales (seed 002), and the
//! referral-bonus terms agreed with employees and vendors.

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
use vouch_app::people::{self as svc, PeopleImportReport, PersonView};
use vouch_app::resources::BonusTerms;
use vouch_domain::person::{PersonFields, PersonKind, TermsFields};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update))
        .routes(routes!(terms_history, set_terms))
        .routes(routes!(import))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListParams {
    /// Only people of this kind.
    kind: Option<PersonKind>,
    /// Matches name, email or company (case-insensitive substring).
    search: Option<String>,
    limit: Option<i64>,
    starting_after: Option<super::Cursor>,
}

#[utoipa::path(
    operation_id = "list_people",
    get,
    path = "/api/v1/people",
    tag = "people",
    params(ListParams),
    responses((status = 200, description = "OK", body = Page<PersonView>), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// List people who refer sales, newest first, with the terms in force.
async fn list(
    State(state): State<AppState>,
    _: Can<perm::PeopleRead>,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<PersonView>>> {
    let limit = check_limit(p.limit)?;
    let rows = svc::list_people(
        &state,
        p.kind,
        p.search.as_deref(),
        p.starting_after.as_deref(),
        limit,
    )
    .await?;
    let found = page(rows, limit, |r| r.id.clone(), |r| r);
    let mut data = Vec::with_capacity(found.data.len());
    for person in found.data {
        data.push(svc::person_view(&state, person).await?);
    }
    Ok(Json(Page {
        data,
        has_more: found.has_more,
        next_cursor: found.next_cursor,
    }))
}

/// A new person: their kind and fields.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewPersonIn {
    kind: PersonKind,
    #[schema(min_length = 1, max_length = 200, example = "Erin Diaz")]
    name: String,
    #[schema(
        max_length = 254,
        format = "email-or-empty",
        example = "erin@example.com"
    )]
    email: Option<String>,
    /// Digits, spaces and `+ . - ( ) x`.
    #[schema(max_length = 32, pattern = "^$|^[0-9 +.()x-]*[0-9][0-9 +.()x-]*$")]
    phone: Option<String>,
    #[schema(max_length = 200)]
    company: Option<String>,
    /// The payroll system's id; employees only (422 for other kinds).
    #[schema(max_length = 64)]
    employee_number: Option<String>,
    #[schema(max_length = 10000)]
    notes: Option<String>,
}

#[utoipa::path(
    operation_id = "create_person",
    post,
    path = "/api/v1/people",
    tag = "people",
    request_body = NewPersonIn,
    responses((status = 201, description = "Created", body = PersonView), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Add a contact, employee or vendor.
async fn create(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::PeopleWrite>,
    ApiJson(body): ApiJson<NewPersonIn>,
) -> ApiResult<(StatusCode, Json<PersonView>)> {
    let fields = PersonFields {
        name: body.name,
        email: body.email.unwrap_or_default(),
        phone: body.phone.unwrap_or_default(),
        company: body.company.unwrap_or_default(),
        employee_number: body.employee_number.unwrap_or_default(),
        notes: body.notes.unwrap_or_default(),
    };
    let person = svc::create_person(&state, &caller.origin, body.kind, &fields).await?;
    Ok((
        StatusCode::CREATED,
        Json(svc::person_view(&state, person).await?),
    ))
}

#[utoipa::path(
    operation_id = "get_person",
    get,
    path = "/api/v1/people/{id}",
    tag = "people",
    params(("id" = String, Path, description = "Person id (per_…)")),
    responses((status = 200, description = "OK", body = PersonView), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Get a person with the terms in force.
async fn show(
    State(state): State<AppState>,
    _: Can<perm::PeopleRead>,
    Path(id): Path<String>,
) -> ApiResult<Json<PersonView>> {
    let person = svc::get_person(&state, &id).await?;
    Ok(Json(svc::person_view(&state, person).await?))
}

/// A person's fields; a patch changes only those it names (an empty string clears an optional
/// one). The kind never changes.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct PersonPatch {
    #[schema(min_length = 1, max_length = 200)]
    name: Option<String>,
    #[schema(max_length = 254, format = "email-or-empty")]
    email: Option<String>,
    /// Digits, spaces and `+ . - ( ) x`.
    #[schema(max_length = 32, pattern = "^$|^[0-9 +.()x-]*[0-9][0-9 +.()x-]*$")]
    phone: Option<String>,
    #[schema(max_length = 200)]
    company: Option<String>,
    /// Employees only (422 for other kinds).
    #[schema(max_length = 64)]
    employee_number: Option<String>,
    #[schema(max_length = 10000)]
    notes: Option<String>,
}

#[utoipa::path(
    operation_id = "update_person",
    patch,
    path = "/api/v1/people/{id}",
    tag = "people",
    params(("id" = String, Path, description = "Person id (per_…)")),
    request_body = PersonPatch,
    responses((status = 200, description = "OK", body = PersonView), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Change a person's fields.
async fn update(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::PeopleWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PersonPatch>,
) -> ApiResult<Json<PersonView>> {
    let person = svc::update_person(&state, &caller.origin, &id, |f| {
        let set = |target: &mut String, v: Option<String>| {
            if let Some(v) = v {
                *target = v;
            }
        };
        set(&mut f.name, body.name);
        set(&mut f.email, body.email);
        set(&mut f.phone, body.phone);
        set(&mut f.company, body.company);
        set(&mut f.employee_number, body.employee_number);
        set(&mut f.notes, body.notes);
    })
    .await?;
    Ok(Json(svc::person_view(&state, person).await?))
}

#[utoipa::path(
    operation_id = "list_person_terms",
    get,
    path = "/api/v1/people/{id}/terms",
    tag = "people",
    params(("id" = String, Path, description = "Person id (per_…)")),
    responses((status = 200, description = "Every version, oldest first; the last is in force", body = Page<BonusTerms>), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// The history of a person's agreed referral-bonus terms.
async fn terms_history(
    State(state): State<AppState>,
    _: Can<perm::PeopleRead>,
    Path(id): Path<String>,
) -> ApiResult<Json<Page<BonusTerms>>> {
    Ok(Json(Page {
        data: svc::terms_history(&state, &id).await?,
        has_more: false,
        next_cursor: None,
    }))
}

#[utoipa::path(
    operation_id = "set_person_terms",
    post,
    path = "/api/v1/people/{id}/terms",
    tag = "people",
    params(("id" = String, Path, description = "Person id (per_…)")),
    request_body = TermsFields,
    responses((status = 201, description = "The new version, now in force", body = BonusTerms), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Agree new referral-bonus terms with an employee or vendor: a percentage of each sale
/// (`percentage_bps`) or a fixed amount (`fixed_amount` with its `currency`), exactly one of
/// the two; a front and an optional back pay term; and the share due on the front, which must
/// be 10 000 (100 %) without a back term. Either rule broken is 422 naming the field. The
/// earlier versions stay; bonuses already created keep the terms they copied. Contacts are
/// paid on the program's defaults: 409 `contacts_have_no_terms`.
async fn set_terms(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::TermsManage>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TermsFields>,
) -> ApiResult<(StatusCode, Json<BonusTerms>)> {
    Ok((
        StatusCode::CREATED,
        Json(svc::set_terms(&state, &caller.origin, &id, &body).await?),
    ))
}

/// A CSV of people to add.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct PeopleImportIn {
    /// The file's text, header line first (up to 1 MiB). Columns (case-insensitive; others
    /// ignored): `name` (required), `kind`, `email`, `phone`, `company`, `employee_number`,
    /// `notes`.
    #[schema(min_length = 1, format = "text/csv")]
    csv: String,
    /// The kind of rows without a `kind` cell (such rows are refused when absent).
    kind: Option<PersonKind>,
    /// Check every line and report; save nothing.
    #[serde(default)]
    dry_run: bool,
}

#[utoipa::path(
    operation_id = "import_people",
    post,
    path = "/api/v1/people/imports",
    tag = "people",
    request_body = PeopleImportIn,
    responses((status = 200, description = "The report: people added, already present, and problems by line", body = PeopleImportReport), (status = "4XX", description = "A problem (RFC 9457); `csv` when the header has no `name` column", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Import contacts, employees and vendors from CSV. Each line is checked like a person added
/// by hand; lines with problems are reported by line number and skipped (the import still
/// answers 200). People already there (same kind and email, or same kind and name without an
/// email) are skipped, so sending the same file again changes nothing. Terms are agreed
/// separately.
async fn import(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::PeopleWrite>,
    ApiJson(body): ApiJson<PeopleImportIn>,
) -> ApiResult<Json<PeopleImportReport>> {
    Ok(Json(
        svc::import_people(&state, &caller.origin, &body.csv, body.kind, body.dry_run).await?,
    ))
}
