//! Paying in the console: the payments ledger, payout batches (build, approve, export, mark
//! paid), a single payment marked paid, and a payee's statement as CSV.

use super::sales::{money_text, totals_text};
use super::{CsrfForm, Layout, StaffCan, error_page};
use crate::AppState;
use crate::api::payouts::csv_of;
use crate::auth::perm;
use crate::error::ApiError;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use vouch_app::payouts::{self as svc, BatchFields, Table};
use vouch_app::resources::{Payment, PayoutBatch};
use vouch_domain::bonus::PaymentStatus;
use vouch_domain::payout::PayeeGroup;
use vouch_domain::permission::Action;
use vouch_domain::sale::parse_date;
use vouch_store::payments::PaymentFilter;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/payments", get(payments))
        .route("/admin/payments/{id}/mark-paid", post(mark_payment_paid))
        .route("/admin/payments/mark-paid", post(mark_ticked_paid))
        .route("/admin/payout-batches", get(batches).post(create_batch))
        .route("/admin/payout-batches/{id}", get(batch))
        .route("/admin/payout-batches/{id}/approve", post(approve_batch))
        .route("/admin/payout-batches/{id}/export", get(export_batch))
        .route(
            "/admin/payout-batches/{id}/mark-paid",
            post(mark_batch_paid),
        )
        .route("/admin/people/{id}/statement.csv", get(statement_csv))
        .route(
            "/admin/payment-clawbacks/{id}/decide",
            post(decide_clawback),
        )
}

const PAGE_SIZE: i64 = 50;

pub struct PaymentRow {
    pub p: Payment,
    pub payee: String,
}

async fn rows_of(state: &AppState, payments: Vec<Payment>) -> Vec<PaymentRow> {
    let mut out = Vec::with_capacity(payments.len());
    for p in payments {
        let payee = super::people::name_of(state, Some(&p.payee_id), "—").await;
        out.push(PaymentRow { p, payee });
    }
    out
}

#[derive(Deserialize, Default)]
struct PaymentParams {
    status: Option<String>,
    #[serde(default)]
    payee_id: String,
    starting_after: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "sales/payments.html")]
struct PaymentsPage {
    l: Layout,
    status: String,
    payee_id: String,
    rows: Vec<PaymentRow>,
    /// "3 payments, $1,200.00 in all." for the whole filter.
    totals: String,
    next_url: Option<String>,
    can_pay: bool,
}

impl PaymentsPage {
    fn money(&self, p: &Payment) -> String {
        money_text(p.amount, &p.currency)
    }
}

async fn payments(
    StaffCan(mut console, _): StaffCan<perm::SalesRead>,
    Query(q): Query<PaymentParams>,
) -> Response {
    let status_text = q.status.unwrap_or_else(|| "due".into());
    let status = match status_text.as_str() {
        "" => None,
        s => match s.parse::<PaymentStatus>() {
            Ok(s) => Some(s),
            Err(m) => return error_page(&ApiError::field("status", m)),
        },
    };
    let filter = PaymentFilter {
        status,
        payee_id: (!q.payee_id.is_empty()).then_some(q.payee_id.as_str()),
        ..Default::default()
    };
    let mut rows = match svc::list_payments(
        &console.state,
        &filter,
        q.starting_after.as_deref(),
        PAGE_SIZE,
    )
    .await
    {
        Ok(r) => r,
        Err(e) => return error_page(&e.into()),
    };
    let totals = match svc::payment_totals(&console.state, &filter).await {
        Ok(t) => crate::view::totals(&t, "payment", "payments"),
        Err(e) => return error_page(&e.into()),
    };
    let has_more = rows.len() > PAGE_SIZE as usize;
    rows.truncate(PAGE_SIZE as usize);
    let next_url = has_more
        .then(|| {
            rows.last().map(|p| {
                format!(
                    "/admin/payments?status={status_text}&payee_id={}&starting_after={}",
                    q.payee_id, p.id
                )
            })
        })
        .flatten();
    let rows = rows_of(&console.state, rows.into_iter().map(Into::into).collect()).await;
    let can_pay = console.may(Action::PayoutsManage);
    PaymentsPage {
        l: console.layout("sales"),
        status: status_text,
        payee_id: q.payee_id,
        rows,
        totals,
        next_url,
        can_pay,
    }
    .into_response()
}

#[derive(Deserialize, Default)]
struct PaidForm {
    #[serde(default)]
    reference: String,
    #[serde(default)]
    paid_on: String,
    #[serde(default)]
    back: String,
}

impl PaidForm {
    fn date(&self) -> Result<Option<time::Date>, ApiError> {
        parse_date(&self.paid_on).map_err(|m| ApiError::field("paid_on", m))
    }

    /// Where to go afterwards: a console page only.
    fn back(&self, default: &str) -> String {
        if self.back.starts_with("/admin/")
            && !self
                .back
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
        {
            self.back.clone()
        } else {
            default.to_string()
        }
    }
}

async fn mark_payment_paid(
    StaffCan(console, _): StaffCan<perm::PayoutsManage>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<PaidForm>,
) -> Response {
    let back = form.back("/admin/payments");
    let outcome = async {
        let date = form.date()?;
        svc::mark_payment_paid(&console.state, &console.origin, &id, &form.reference, date)
            .await
            .map_err(ApiError::from)
    }
    .await
    .map(|p| {
        format!(
            "{} marked paid.",
            money_text(p.amount.minor(), p.amount.currency().as_str())
        )
    });
    console.finish(&back, outcome).await
}

/// Marks every ticked payment paid with one reference (and date).
async fn mark_ticked_paid(
    StaffCan(console, _): StaffCan<perm::PayoutsManage>,
    CsrfForm(form): CsrfForm<std::collections::HashMap<String, String>>,
) -> Response {
    let ids = super::picked_ids(&form);
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    let paid = PaidForm {
        reference: field("reference"),
        paid_on: field("paid_on"),
        back: field("back"),
    };
    let back = paid.back("/admin/payments");
    let outcome = async {
        let date = paid.date()?;
        svc::mark_payments_paid(&console.state, &console.origin, &ids, &paid.reference, date)
            .await
            .map_err(ApiError::from)
    }
    .await
    .map(|outcomes| super::bulk_message("payment(s)", "marked paid", &outcomes));
    console.finish(&back, outcome).await
}

#[derive(Template, WebTemplate)]
#[template(path = "sales/batches.html")]
struct BatchesPage {
    l: Layout,
    rows: Vec<PayoutBatch>,
    can_prepare: bool,
}

impl BatchesPage {
    fn totals(&self, b: &PayoutBatch) -> String {
        totals_text(&b.totals)
    }
}

async fn batches(StaffCan(mut console, _): StaffCan<perm::SalesRead>) -> Response {
    match svc::list_batches(&console.state, None, None, 100).await {
        Ok(mut rows) => {
            rows.truncate(100);
            let can_prepare = console.may(Action::PayoutsPrepare);
            BatchesPage {
                l: console.layout("sales"),
                rows,
                can_prepare,
            }
            .into_response()
        }
        Err(e) => error_page(&e.into()),
    }
}

#[derive(Deserialize, Default)]
struct BatchForm {
    #[serde(default)]
    payee_group: String,
    #[serde(default)]
    due_from: String,
    #[serde(default)]
    due_to: String,
}

async fn create_batch(
    StaffCan(console, _): StaffCan<perm::PayoutsPrepare>,
    CsrfForm(form): CsrfForm<BatchForm>,
) -> Response {
    let result = async {
        let fields = BatchFields {
            payee_group: form
                .payee_group
                .parse::<PayeeGroup>()
                .map_err(|m| ApiError::field("payee_group", m))?,
            program_id: None,
            due_from: parse_date(&form.due_from).map_err(|m| ApiError::field("due_from", m))?,
            due_to: parse_date(&form.due_to).map_err(|m| ApiError::field("due_to", m))?,
        };
        svc::create_batch(&console.state, &console.origin, &fields)
            .await
            .map_err(ApiError::from)
    }
    .await;
    match result {
        Ok(b) => {
            console
                .redirect_with(
                    &format!("/admin/payout-batches/{}", b.id),
                    &format!(
                        "Batch built with {} payment(s). A manager approves it.",
                        b.payment_count
                    ),
                )
                .await
        }
        Err(e) => console.finish("/admin/payout-batches", Err(e)).await,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "sales/batch.html")]
struct BatchPage {
    l: Layout,
    b: PayoutBatch,
    rows: Vec<PaymentRow>,
    can_manage: bool,
    today: String,
}

impl BatchPage {
    fn totals(&self) -> String {
        totals_text(&self.b.totals)
    }

    fn money(&self, p: &Payment) -> String {
        money_text(p.amount, &p.currency)
    }
}

async fn batch(
    StaffCan(mut console, _): StaffCan<perm::SalesRead>,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let b = svc::get_batch(&console.state, &id).await?;
        let filter = PaymentFilter {
            batch_id: Some(&id),
            ..Default::default()
        };
        let held = svc::list_payments(&console.state, &filter, None, 100).await?;
        Ok::<_, vouch_app::AppError>((b, held))
    }
    .await;
    match result {
        Ok((b, held)) => {
            let rows = rows_of(&console.state, held.into_iter().map(Into::into).collect()).await;
            let can_manage = console.may(Action::PayoutsManage);
            let today = vouch_domain::sale::date_text(svc::today(&console.state));
            BatchPage {
                l: console.layout("sales"),
                b,
                rows,
                can_manage,
                today,
            }
            .into_response()
        }
        Err(e) => error_page(&e.into()),
    }
}

async fn approve_batch(
    StaffCan(console, _): StaffCan<perm::PayoutsManage>,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<super::sales::Empty>,
) -> Response {
    let outcome = svc::approve_batch(&console.state, &console.origin, &id)
        .await
        .map(|_| "Batch approved. Export it, pay it, then mark it paid.".to_string())
        .map_err(ApiError::from);
    console
        .finish(&format!("/admin/payout-batches/{id}"), outcome)
        .await
}

#[derive(Deserialize, Default)]
struct ExportParams {
    #[serde(default)]
    pay_date: String,
}

pub fn csv_download(table: &Table) -> Response {
    match csv_of(table) {
        Ok(body) => {
            let mut response = body.into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            if let Ok(v) =
                HeaderValue::from_str(&format!("attachment; filename=\"{}\"", table.file_name))
            {
                headers.insert(header::CONTENT_DISPOSITION, v);
            }
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "writing a CSV failed");
            error_page(&ApiError::internal())
        }
    }
}

async fn export_batch(
    StaffCan(console, _): StaffCan<perm::PayoutsManage>,
    Path(id): Path<String>,
    Query(q): Query<ExportParams>,
) -> Response {
    let result = async {
        let date = parse_date(&q.pay_date).map_err(|m| ApiError::field("pay_date", m))?;
        svc::export_batch(&console.state, &id, date)
            .await
            .map_err(ApiError::from)
    }
    .await;
    match result {
        Ok(table) => csv_download(&table),
        Err(e) => {
            console
                .finish(&format!("/admin/payout-batches/{id}"), Err(e))
                .await
        }
    }
}

async fn mark_batch_paid(
    StaffCan(console, _): StaffCan<perm::PayoutsManage>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<PaidForm>,
) -> Response {
    let outcome = async {
        let date = form.date()?;
        svc::mark_batch_paid(&console.state, &console.origin, &id, &form.reference, date)
            .await
            .map_err(ApiError::from)
    }
    .await
    .map(|b| format!("Batch paid: {} payment(s).", b.payment_count));
    console
        .finish(&format!("/admin/payout-batches/{id}"), outcome)
        .await
}

async fn statement_csv(
    StaffCan(_console, _): StaffCan<perm::SalesRead>,
    Path(id): Path<String>,
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Response {
    match svc::statement(&state, &id).await {
        Ok(s) => {
            let rows = s
                .payments
                .iter()
                .map(|p| {
                    vec![
                        p.id.clone(),
                        p.bonus_id.clone().unwrap_or_default(),
                        p.sale_id.clone().unwrap_or_default(),
                        p.term.map(|t| t.as_str()).unwrap_or_default().to_string(),
                        p.due_on.clone().unwrap_or_default(),
                        p.status.as_str().to_string(),
                        vouch_domain::money::Currency::parse(&p.currency)
                            .map(|c| vouch_domain::money::Money::new(p.amount, c).major_text())
                            .unwrap_or_default(),
                        p.currency.clone(),
                        p.paid_on.clone().unwrap_or_default(),
                        p.paid_reference.clone().unwrap_or_default(),
                        p.reward_id.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            csv_download(&Table {
                file_name: format!("statement-{id}.csv"),
                header: vec![
                    "payment_id",
                    "bonus_id",
                    "sale_id",
                    "term",
                    "due_on",
                    "status",
                    "amount",
                    "currency",
                    "paid_on",
                    "reference",
                    "reward_id",
                ],
                rows,
            })
        }
        Err(e) => error_page(&e.into()),
    }
}

#[derive(Deserialize, Default)]
struct ClawbackForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    back: String,
}

async fn decide_clawback(
    StaffCan(console, _): StaffCan<perm::PayoutsManage>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ClawbackForm>,
) -> Response {
    let back = PaidForm {
        back: form.back.clone(),
        ..Default::default()
    }
    .back("/admin/sales");
    let outcome = svc::decide_clawback(&console.state, &console.origin, &id, &form.decision)
        .await
        .map(|c| format!("Clawback marked {}.", c.status))
        .map_err(ApiError::from);
    console.finish(&back, outcome).await
}
