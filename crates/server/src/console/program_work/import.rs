//! Import: a tab of a program in the console.

use super::super::{CsrfForm, Layout, StaffCan, error_page, with_status};
use crate::auth::perm;
use crate::error::ApiError;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use vouch_store::programs::Program;

use super::program;

#[derive(Deserialize, Default)]
pub(super) struct ImportForm {
    #[serde(default)]
    csv: String,
    /// `HEADER=FIELD`, one per line.
    #[serde(default)]
    mapping: String,
    /// `check` (a dry run) or `import`.
    #[serde(default)]
    action: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "programs/import.html")]
pub(super) struct ImportPage {
    l: Layout,
    p: Program,
    csv: String,
    mapping: String,
    report: Option<vouch_app::import::ImportReport>,
    /// A problem with the whole file (no email column, a bad mapping).
    problem: Option<String>,
}

pub(super) async fn import_page(
    StaffCan(mut console, _): StaffCan<perm::ProgramsWrite>,
    Path(id): Path<String>,
) -> Response {
    let p = match program(&console, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    ImportPage {
        l: console.layout("programs"),
        p,
        csv: String::new(),
        mapping: String::new(),
        report: None,
        problem: None,
    }
    .into_response()
}

pub(super) async fn import(
    StaffCan(mut console, _): StaffCan<perm::ProgramsWrite>,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<ImportForm>,
) -> Response {
    let p = match program(&console, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let mapping: Vec<String> = f
        .mapping
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    let dry_run = f.action != "import";
    let outcome = match vouch_app::import::parse_file(&f.csv, &mapping) {
        Ok(parsed) => vouch_app::import::import_participants(
            &console.state,
            &console.origin,
            &p,
            parsed,
            dry_run,
            |_| {},
        )
        .await
        .map_err(ApiError::from)
        .map(Some),
        Err(e) => Err(e.into()),
    };
    let (report, problem, status) = match outcome {
        Ok(report) => (report, None, StatusCode::OK),
        Err(e) if e.status.is_client_error() => {
            let message = e
                .errors
                .first()
                .map_or(e.detail.clone(), |f| f.message.clone());
            (None, Some(message), StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => return error_page(&e),
    };
    let page = ImportPage {
        l: console.layout("programs"),
        p,
        csv: f.csv,
        mapping: f.mapping,
        report,
        problem,
    };
    with_status(status, page)
}
