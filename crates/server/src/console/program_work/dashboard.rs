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
    /// Today (UTC) by the application's clock.
    today: time::Date,
}

impl DashboardPage {
    fn money(&self, amount: &i64, currency: &str) -> String {
        crate::view::money(*amount, currency)
    }

    /// `part` as a share of `whole`: `12.5%`, or `—` with nothing to compare with.
    fn rate(&self, part: &i64, whole: &i64) -> String {
        crate::view::rate(*part, *whole)
    }

    /// A bar's width in the funnel summary: its share of the largest step, at least a sliver.
    fn bar(&self, n: &i64) -> i64 {
        let top = self.d.totals.clicks.max(self.d.totals.signups).max(1);
        (n * 100 / top).clamp(1, 100)
    }

    /// The ranges offered in one click: (label, from, to), ending today.
    fn presets(&self) -> Vec<(&'static str, String, String)> {
        let today = self.today;
        [
            ("Last 7 days", 6),
            ("Last 30 days", 29),
            ("Last 90 days", 89),
            ("Last year", 364),
        ]
        .into_iter()
        .map(|(label, back)| {
            (
                label,
                (today - time::Duration::days(back)).to_string(),
                today.to_string(),
            )
        })
        .collect()
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
    let (range, problem) = match stats::parse_range(&console.state, &q.from, &q.to) {
        Ok(r) => (r, None),
        Err(e) => {
            let message = e
                .field_errors()
                .first()
                .map_or(e.detail(), |f| format!("{}: {}", f.field, f.message));
            match stats::parse_range(&console.state, "", "") {
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
        today: console.state.clock.now().date(),
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
