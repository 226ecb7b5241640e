//! CSV in and out: `POST /api/v1/programs/{id}/imports` (participants, with a dry run) and
//! `GET /api/v1/programs/{id}/exports/{participants|referrals}`.

use super::ApiJson;
use crate::AppState;
use crate::auth::{Can, perm};
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vouch_app::exports::Export;
use vouch_app::import::{ImportReport, import_participants, parse_file};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(import))
        .routes(routes!(export))
}

/// `HEADER=FIELD`: the file's column `HEADER` holds `FIELD`.
#[derive(utoipa::ToSchema)]
#[schema(
    pattern = "^[^=\\u0000-\\u001F]+=(email|first_name|last_name|referred_by|code|signed_up_at|company)$",
    example = "E-mail=email"
)]
#[expect(
    dead_code,
    reason = "only describes a mapping entry in the OpenAPI document"
)]
struct ColumnMapping(String);

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ImportIn {
    /// The file's text, header line first (up to 1 MiB; use `vouch import participants` for
    /// larger files).
    /// Lines that cannot be imported are reported with their line number (the import still
    /// answers 200); a file without a recognisable email column is refused (422).
    #[schema(min_length = 1, format = "text/csv")]
    csv: String,
    /// `HEADER=FIELD` entries for columns whose names are not recognised.
    #[serde(default)]
    #[schema(max_items = 100, inline, value_type = Vec<ColumnMapping>)]
    mapping: Vec<String>,
    /// Check every line and report; save nothing.
    #[serde(default)]
    dry_run: bool,
}

#[utoipa::path(
    post, path = "/api/v1/programs/{id}/imports", operation_id = "import_participants", tag = "programs",
    params(("id" = String, Path, description = "Program id (prg_…)")), request_body = ImportIn,
    responses((status = 200, description = "The report: rows enrolled, already enrolled, and problems by line", body = ImportReport), (status = "4XX", description = "A problem (RFC 9457); `file` when no column holds the email", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Import participants from CSV. Columns: `email` (required), `first_name`, `last_name`,
/// `referred_by` (a referral code, in the program or earlier in the file), `signed_up_at`
/// (kept), `code` (their existing code, kept). Rows already enrolled are skipped, so sending the
/// same file again changes nothing. Imports send no email and pay nothing at once.
async fn import(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::ProgramsWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ImportIn>,
) -> ApiResult<Json<ImportReport>> {
    let program = vouch_app::programs::get(&state, &id).await?;
    let parsed = parse_file(&body.csv, &body.mapping)?;
    let report = import_participants(
        &state,
        &caller.origin,
        &program,
        parsed,
        body.dry_run,
        |_| {},
    )
    .await?;
    Ok(Json(report))
}

fn csv_response(name: &str, body: Vec<u8>) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

#[utoipa::path(
    get, path = "/api/v1/programs/{id}/exports/{what}", operation_id = "export_csv", tag = "programs",
    params(("id" = String, Path, description = "Program id (prg_…)"), ("what" = String, Path, description = "`participants` or `referrals`")),
    responses((status = 200, description = "CSV, header line first", content_type = "text/csv"), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Every participant (with code and link) or every referral (with stage and flags) of a
/// program, as CSV. A participants export imports back as it is.
async fn export(
    State(state): State<AppState>,
    _: Can<perm::ProgramsRead>,
    Path((id, what)): Path<(String, String)>,
) -> ApiResult<Response> {
    let program = vouch_app::programs::get(&state, &id).await?;
    let export = Export::parse(&what).ok_or_else(|| ApiError::not_found("export"))?;
    let bytes = vouch_app::exports::csv(&state, &program, export).await?;
    Ok(csv_response(
        &format!("{}-{}.csv", program.slug, export.as_str()),
        bytes,
    ))
}
