//! Dashboard: a tab of a program in the console.

use super::super::{Console, Layout, error_page, with_status};
use crate::error::ApiError;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use vouch_domain::permission::Action;
use vouch_store::programs::Program;

use super::program;

#[derive(Deserialize, Default)]
pub(super) struct RangeParams {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "programs/dashboard.html")]
pub(super) struct DashboardPage {
    l: Layout,
    p: Program,
    d: vouch_app::stats::Dashboard,
    chart: vouch_app::stats::Chart,
    from: String,
    to: String,
    problem: Option<String>,
}

impl DashboardPage {
    fn money(&self, amount: &i64, currency: &str) -> String {
        crate::view::money(*amount, currency)
    }
}

pub(super) async fn dashboard_page(
    mut console: Console,
    Path(id): Path<String>,
    Query(q): Query<RangeParams>,
) -> Response {
    use vouch_app::stats;
    if let Err(r) = console.require(Action::ProgramsRead).await {
        return r;
    }
    let p = match program(&console, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (range, problem) = match stats::parse_range(&q.from, &q.to) {
        Ok(r) => (r, None),
        Err(e) => {
            let message = e
                .field_errors()
                .first()
                .map_or(e.detail(), |f| format!("{}: {}", f.field, f.message));
            match stats::parse_range("", "") {
                Ok(r) => (r, Some(message)),
                Err(e) => return error_page(&e.into()),
            }
        }
    };
    let d = match stats::dashboard(&console.state, &p, range)
        .await
        .map_err(ApiError::from)
    {
        Ok(d) => d,
        Err(e) => return error_page(&e),
    };
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = DashboardPage {
        l: console.layout("programs"),
        chart: stats::chart(&d),
        from: if problem.is_some() {
            q.from
        } else {
            d.from.clone()
        },
        to: if problem.is_some() {
            q.to
        } else {
            d.to.clone()
        },
        p,
        d,
        problem,
    };
    with_status(status, page)
}
