//! The sales-bonus reports page: each report a table and a server-rendered SVG bar chart,
//! over a date range, and each downloadable as CSV.

use super::{Layout, StaffCan, error_page};
use crate::AppState;
use crate::auth::perm;
use crate::error::ApiError;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::Query;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use vouch_app::payouts::Table;
use vouch_app::sales_reports::{SalesReport, report};
use vouch_domain::bonus::{BonusKind, BonusStatus};
use vouch_domain::money::Money;
use vouch_domain::sale::{date_text, parse_date};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/sales/reports", get(page))
        .route("/admin/sales/reports.csv", get(csv))
}

#[derive(Deserialize, Default)]
struct Params {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    report: String,
}

async fn load(state: &AppState, p: &Params) -> Result<SalesReport, ApiError> {
    let from = parse_date(&p.from).map_err(|m| ApiError::field("from", m))?;
    let to = parse_date(&p.to).map_err(|m| ApiError::field("to", m))?;
    Ok(report(state, from, to).await?)
}

/// One report as a table: its title, CSV name, header, rows, and the chart's bars.
pub struct Section {
    pub key: &'static str,
    pub title: &'static str,
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
    /// The chart's bars: label, value (minor units, or a count) and the value as shown.
    pub bars: Vec<(String, i64, String)>,
}

impl Section {
    /// A horizontal bar chart, sized to its bars; labels escaped, values as people read them.
    pub fn svg(&self) -> String {
        if self.bars.is_empty() {
            // The table says "Nothing in this range"; an empty chart would say it twice.
            return String::new();
        }
        bar_chart(self.title, &self.bars)
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Bars scaled to the largest, each with its label and its value as shown.
fn bar_chart(title: &str, bars: &[(String, i64, String)]) -> String {
    let width = 640;
    let label_w = 260;
    let bar_h = 22;
    let height = (bars.len().max(1) * (bar_h + 6)) + 10;
    let max = bars.iter().map(|(_, v, _)| *v).max().unwrap_or(0).max(1);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {width} {height}\" width=\"100%\" style=\"max-width:{width}px\" font-family=\"system-ui, sans-serif\" font-size=\"12\">",
        escape(title)
    );
    for (i, (label, value, shown)) in bars.iter().enumerate() {
        let y = 5 + i * (bar_h + 6);
        let span = (width - label_w - 90) as i64;
        let w = (value.max(&0) * span / max).max(1);
        out.push_str(&format!(
            "<text x=\"0\" y=\"{}\" fill=\"#1d2330\">{}</text><rect x=\"{label_w}\" y=\"{y}\" width=\"{w}\" height=\"{bar_h}\" rx=\"3\" fill=\"#2f5bd3\"/><text x=\"{}\" y=\"{}\" fill=\"#5b6475\">{}</text>",
            y + 15,
            escape(label),
            label_w as i64 + w + 6,
            y + 15,
            escape(shown)
        ));
    }
    out.push_str("</svg>");
    out
}

fn kind_label(k: &str) -> String {
    k.parse::<BonusKind>()
        .map_or_else(|_| k.to_string(), |k| k.label().to_string())
}

fn status_label(s: &str) -> String {
    s.parse::<BonusStatus>()
        .map_or_else(|_| s.to_string(), |s| s.label().to_string())
}

/// How a section writes an amount: as people read it on the page (`$1,000.00`), or as the
/// CSV carries it for spreadsheets (`USD 1000.00`, no grouping).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Amounts {
    ForPeople,
    ForCsv,
}

fn sections(r: &SalesReport, amounts: Amounts) -> Vec<Section> {
    let show = |m: &Money| crate::view::money(m.minor(), m.currency().as_str());
    let cell = |m: &Money| match amounts {
        Amounts::ForPeople => show(m),
        Amounts::ForCsv => m.to_string(),
    };
    let due = |key, title, rows: &[(i64, Money)], range: (time::Date, time::Date)| Section {
        key,
        title,
        header: vec!["from", "to", "payments", "amount"],
        rows: rows
            .iter()
            .map(|(n, m)| {
                vec![
                    date_text(range.0),
                    date_text(range.1),
                    n.to_string(),
                    cell(m),
                ]
            })
            .collect(),
        bars: rows
            .iter()
            .map(|(_, m)| (m.currency().to_string(), m.minor(), show(m)))
            .collect(),
    };
    let top = |key, title, rows: &[vouch_store::sales_reports::Top], what| Section {
        key,
        title,
        header: vec!["person", what, "amount"],
        rows: rows
            .iter()
            .map(|t| vec![t.name.clone(), t.count.to_string(), cell(&t.amount)])
            .collect(),
        bars: rows
            .iter()
            .map(|t| (t.name.clone(), t.amount.minor(), show(&t.amount)))
            .collect(),
    };
    vec![
        Section {
            key: "bonuses",
            title: "Bonuses by type and status",
            header: vec!["type", "status", "bonuses", "amount"],
            rows: r
                .bonuses
                .iter()
                .map(|g| {
                    vec![
                        kind_label(&g.kind),
                        status_label(&g.status),
                        g.count.to_string(),
                        cell(&g.amount),
                    ]
                })
                .collect(),
            bars: r
                .bonuses
                .iter()
                .map(|g| {
                    (
                        format!("{} · {}", kind_label(&g.kind), status_label(&g.status)),
                        g.amount.minor(),
                        show(&g.amount),
                    )
                })
                .collect(),
        },
        due("due_week", "Due this week", &r.due_this_week, r.week),
        due("due_month", "Due this month", &r.due_this_month, r.month),
        Section {
            key: "paid",
            title: "Paid per month by payee kind",
            header: vec!["month", "payee kind", "amount"],
            rows: r
                .paid_per_month
                .iter()
                .map(|(m, k, a)| vec![m.clone(), k.clone(), cell(a)])
                .collect(),
            bars: r
                .paid_per_month
                .iter()
                .map(|(m, k, a)| (format!("{m} · {k}"), a.minor(), show(a)))
                .collect(),
        },
        {
            let (entered, won) = r.conversion;
            let rate = if entered > 0 {
                format!("{:.1} %", won as f64 * 100.0 / entered as f64)
            } else {
                "—".into()
            };
            Section {
                key: "conversion",
                title: "Referral → sale conversion",
                header: vec!["referrals entered", "won with a sale", "conversion"],
                rows: vec![vec![entered.to_string(), won.to_string(), rate]],
                bars: if entered > 0 {
                    vec![
                        ("Entered".into(), entered, entered.to_string()),
                        ("Won".into(), won, won.to_string()),
                    ]
                } else {
                    Vec::new()
                },
            }
        },
        top(
            "top_bonus",
            "Top referrers by bonus amount",
            &r.top_by_bonus,
            "bonuses",
        ),
        top(
            "top_sales",
            "Top referrers by sales",
            &r.top_by_sales,
            "sales",
        ),
    ]
}

#[derive(Template, WebTemplate)]
#[template(path = "sales/reports.html")]
struct Page {
    l: Layout,
    from: String,
    to: String,
    sections: Vec<Section>,
}

async fn page(
    StaffCan(mut console, _): StaffCan<perm::SalesRead>,
    Query(p): Query<Params>,
) -> Response {
    match load(&console.state, &p).await {
        Ok(r) => Page {
            l: console.layout("sales"),
            from: date_text(r.from),
            to: date_text(r.to),
            sections: sections(&r, Amounts::ForPeople),
        }
        .into_response(),
        Err(e) => error_page(&e),
    }
}

async fn csv(StaffCan(console, _): StaffCan<perm::SalesRead>, Query(p): Query<Params>) -> Response {
    let r = match load(&console.state, &p).await {
        Ok(r) => r,
        Err(e) => return error_page(&e),
    };
    let Some(section) = sections(&r, Amounts::ForCsv)
        .into_iter()
        .find(|s| s.key == p.report)
    else {
        return error_page(&ApiError::field("report", "no such report"));
    };
    let table = Table {
        file_name: format!(
            "{}-{}-{}.csv",
            section.key,
            date_text(r.from),
            date_text(r.to)
        ),
        header: section.header,
        rows: section.rows,
    };
    super::payouts::csv_download(&table)
}
