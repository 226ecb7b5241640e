//! `/api/v1/payments` and `/api/v1/payout-batches`: the payables ledger, batches, their
//! export (payroll file or payables) and marking them paid; and a payee's statement.

use super::sales::query_date;
use super::{ApiJson, ApiQuery, Page, check_limit, page};
use crate::AppState;
use crate::auth::{Can, perm};
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vouch_app::payouts::{self as svc, BatchFields, Statement, Table};
use vouch_app::resources::{Payment, PayoutBatch};
use vouch_domain::bonus::PaymentStatus;
use vouch_domain::payout::{BatchStatus, PayeeGroup};
use vouch_domain::person::PersonKind;
use vouch_store::payments::PaymentFilter;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_payments))
        .routes(routes!(show_payment))
        .routes(routes!(mark_payment_paid))
        .routes(routes!(list_batches, create_batch))
        .routes(routes!(show_batch))
        .routes(routes!(approve_batch))
        .routes(routes!(export_batch))
        .routes(routes!(mark_batch_paid))
        .routes(routes!(statement))
        .routes(routes!(list_clawbacks))
        .routes(routes!(sales_report))
        .routes(routes!(decide_clawback))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct PaymentParams {
    status: Option<PaymentStatus>,
    payee_id: Option<String>,
    payee_kind: Option<PersonKind>,
    bonus_id: Option<String>,
    /// The payment of a participant's reward (a cash rule delivered by payout).
    reward_id: Option<String>,
    batch_id: Option<String>,
    program_id: Option<String>,
    /// Due on or after this date.
    #[param(format = Date, pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    due_from: Option<String>,
    /// Due on or before this date.
    #[param(format = Date, pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    due_to: Option<String>,
    limit: Option<i64>,
    starting_after: Option<super::Cursor>,
}

#[utoipa::path(
    operation_id = "list_payments", get, path = "/api/v1/payments", tag = "payments", params(PaymentParams),
    responses((status = 200, description = "OK", body = Page<Payment>), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// The payables ledger, newest first.
async fn list_payments(
    State(state): State<AppState>,
    _: Can<perm::SalesRead>,
    ApiQuery(p): ApiQuery<PaymentParams>,
) -> ApiResult<Json<Page<Payment>>> {
    let limit = check_limit(p.limit)?;
    let filter = PaymentFilter {
        status: p.status,
        payee_id: p.payee_id.as_deref(),
        payee_kind: p.payee_kind,
        bonus_id: p.bonus_id.as_deref(),
        reward_id: p.reward_id.as_deref(),
        batch_id: p.batch_id.as_deref(),
        program_id: p.program_id.as_deref(),
        due_from: query_date("due_from", p.due_from.as_deref())?,
        due_to: query_date("due_to", p.due_to.as_deref())?,
    };
    let rows = svc::list_payments(&state, &filter, p.starting_after.as_deref(), limit).await?;
    Ok(Json(page(rows, limit, |r| r.id.clone(), Into::into)))
}

#[utoipa::path(
    operation_id = "get_payment", get, path = "/api/v1/payments/{id}", tag = "payments",
    params(("id" = String, Path, description = "Payment id (pay_…)")),
    responses((status = 200, description = "OK", body = Payment), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Get a payment.
async fn show_payment(
    State(state): State<AppState>,
    _: Can<perm::SalesRead>,
    Path(id): Path<String>,
) -> ApiResult<Json<Payment>> {
    Ok(Json(svc::get_payment(&state, &id).await?.into()))
}

/// How it was paid.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct PaidIn {
    /// The bank, payroll or check reference.
    #[schema(min_length = 1, max_length = 200, example = "PAYROLL-2026-04")]
    reference: String,
    /// The day it was paid; today by default.
    #[schema(format = Date, pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", example = "2026-04-30")]
    paid_on: Option<String>,
}

#[utoipa::path(
    operation_id = "mark_payment_paid", post, path = "/api/v1/payments/{id}/mark-paid", tag = "payments",
    params(("id" = String, Path, description = "Payment id (pay_…)")), request_body = PaidIn,
    responses((status = 200, description = "Paid", body = Payment), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Mark a due payment paid. A payment is paid once: a second attempt, even at the same
/// moment, is 409 `already_paid`; one still waiting for its milestone, voided, or in a payout
/// batch (paid with its batch) is 409 `invalid_transition`.
async fn mark_payment_paid(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::PayoutsManage>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PaidIn>,
) -> ApiResult<Json<Payment>> {
    let paid_on = query_date("paid_on", body.paid_on.as_deref())?;
    Ok(Json(
        svc::mark_payment_paid(&state, &caller.origin, &id, &body.reference, paid_on)
            .await?
            .into(),
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct BatchParams {
    status: Option<BatchStatus>,
    limit: Option<i64>,
    starting_after: Option<super::Cursor>,
}

#[utoipa::path(
    operation_id = "list_payout_batches", get, path = "/api/v1/payout-batches", tag = "payments", params(BatchParams),
    responses((status = 200, description = "OK", body = Page<PayoutBatch>), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// List payout batches, newest first, each with its count and totals.
async fn list_batches(
    State(state): State<AppState>,
    _: Can<perm::SalesRead>,
    ApiQuery(p): ApiQuery<BatchParams>,
) -> ApiResult<Json<Page<PayoutBatch>>> {
    let limit = check_limit(p.limit)?;
    let rows = svc::list_batches(&state, p.status, p.starting_after.as_deref(), limit).await?;
    Ok(Json(page(rows, limit, |b| b.id.clone(), |b| b)))
}

/// Which due payments a new batch gathers.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewBatchIn {
    /// `payroll`: payments by payroll (employees); `payables`: bank transfers and checks.
    payee_group: PayeeGroup,
    /// Only payments of this program.
    program_id: Option<String>,
    /// Only payments due on or after this date.
    #[schema(format = Date, pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    due_from: Option<String>,
    /// Only payments due on or before this date.
    #[schema(format = Date, pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    due_to: Option<String>,
}

#[utoipa::path(
    operation_id = "create_payout_batch", post, path = "/api/v1/payout-batches", tag = "payments",
    request_body = NewBatchIn,
    responses((status = 201, description = "Created, as a draft", body = PayoutBatch), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Gather every due payment of a group (optionally of one program and due in a date range)
/// into a draft batch for a manager's approval. 409 `nothing_to_pay` when none matches. A
/// payment is in one batch at most.
async fn create_batch(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::PayoutsPrepare>,
    ApiJson(body): ApiJson<NewBatchIn>,
) -> ApiResult<(StatusCode, Json<PayoutBatch>)> {
    let fields = BatchFields {
        payee_group: body.payee_group,
        program_id: body.program_id.filter(|p| !p.is_empty()),
        due_from: query_date("due_from", body.due_from.as_deref())?,
        due_to: query_date("due_to", body.due_to.as_deref())?,
    };
    Ok((
        StatusCode::CREATED,
        Json(svc::create_batch(&state, &caller.origin, &fields).await?),
    ))
}

#[utoipa::path(
    operation_id = "get_payout_batch", get, path = "/api/v1/payout-batches/{id}", tag = "payments",
    params(("id" = String, Path, description = "Payout batch id (pob_…)")),
    responses((status = 200, description = "OK", body = PayoutBatch), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Get a payout batch (its payments: `GET /api/v1/payments?batch_id=…`).
async fn show_batch(
    State(state): State<AppState>,
    _: Can<perm::SalesRead>,
    Path(id): Path<String>,
) -> ApiResult<Json<PayoutBatch>> {
    Ok(Json(svc::get_batch(&state, &id).await?))
}

#[utoipa::path(
    operation_id = "approve_payout_batch", post, path = "/api/v1/payout-batches/{id}/approve", tag = "payments",
    params(("id" = String, Path, description = "Payout batch id (pob_…)")),
    responses((status = 200, description = "Approved", body = PayoutBatch), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Approve a draft batch (409 `invalid_transition` otherwise).
async fn approve_batch(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::PayoutsManage>,
    Path(id): Path<String>,
) -> ApiResult<Json<PayoutBatch>> {
    Ok(Json(svc::approve_batch(&state, &caller.origin, &id).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ExportParams {
    /// The pay date the file states; the batch's paid date, or today, by default.
    #[param(format = Date, pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pay_date: Option<String>,
}

/// Writes a table as CSV, every cell inert to spreadsheets (see [`vouch_domain::export`]).
pub(crate) fn csv_of(table: &Table) -> Result<Vec<u8>, csv::Error> {
    let mut out = vouch_domain::export::CsvOut::new(&table.header)?;
    for row in &table.rows {
        out.row(row)?;
    }
    out.finish()
}

#[utoipa::path(
    operation_id = "export_payout_batch", get, path = "/api/v1/payout-batches/{id}/export", tag = "payments",
    params(("id" = String, Path, description = "Payout batch id (pob_…)"), ExportParams),
    responses((status = 200, description = "CSV, header line first", content_type = "text/csv"), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Export an approved (or paid) batch. Payroll: one line per employee and currency with
/// `employee_id, name, amount, currency, pay_date, bonus_references`. Payables: one line per
/// payment with `payee_id, name, payee_kind, email, payment_method, amount, currency, due_on,
/// pay_date, payment_id, bonus_id, sale_id, reward_id` (a payment pays a bonus of a sale or a
/// participant's reward). Amounts in major units (`500.00`).
async fn export_batch(
    State(state): State<AppState>,
    _: Can<perm::PayoutsManage>,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<ExportParams>,
) -> ApiResult<Response> {
    let pay_date = query_date("pay_date", p.pay_date.as_deref())?;
    csv_response(&svc::export_batch(&state, &id, pay_date).await?)
}

/// A table as a CSV download (`text/csv`, named by the table's file name).
pub(crate) fn csv_response(table: &Table) -> ApiResult<Response> {
    let body = csv_of(table).map_err(|e| {
        tracing::error!(error = %e, file = %table.file_name, "writing a CSV failed");
        ApiError::internal()
    })?;
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", table.file_name)) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

#[utoipa::path(
    operation_id = "mark_payout_batch_paid", post, path = "/api/v1/payout-batches/{id}/mark-paid", tag = "payments",
    params(("id" = String, Path, description = "Payout batch id (pob_…)")), request_body = PaidIn,
    responses((status = 200, description = "Paid", body = PayoutBatch), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Mark an approved batch paid: each payment in it becomes paid with the reference and date
/// (event `payment.paid` each; vendor payments also record an expenditure). 409
/// `invalid_transition` for a draft or a batch paid already.
async fn mark_batch_paid(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::PayoutsManage>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PaidIn>,
) -> ApiResult<Json<PayoutBatch>> {
    let paid_on = query_date("paid_on", body.paid_on.as_deref())?;
    Ok(Json(
        svc::mark_batch_paid(&state, &caller.origin, &id, &body.reference, paid_on).await?,
    ))
}

#[utoipa::path(
    operation_id = "get_payee_statement", get, path = "/api/v1/people/{id}/statement", tag = "payments",
    params(("id" = String, Path, description = "Person id (per_…)")),
    responses((status = 200, description = "OK", body = Statement), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// A payee's statement: what they earned, what was approved, what waits for a milestone, what
/// is due and what was paid (per currency), with every payment.
async fn statement(
    State(state): State<AppState>,
    _: Can<perm::SalesRead>,
    Path(id): Path<String>,
) -> ApiResult<Json<Statement>> {
    Ok(Json(svc::statement(&state, &id).await?))
}

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
enum ClawbackStatus {
    Open,
    Recovered,
    Waived,
}

impl ClawbackStatus {
    fn as_str(self) -> &'static str {
        match self {
            ClawbackStatus::Open => "open",
            ClawbackStatus::Recovered => "recovered",
            ClawbackStatus::Waived => "waived",
        }
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ClawbackParams {
    #[param(inline)]
    status: Option<ClawbackStatus>,
    limit: Option<i64>,
    starting_after: Option<super::Cursor>,
}

#[utoipa::path(
    operation_id = "list_payment_clawbacks", get, path = "/api/v1/payment-clawbacks", tag = "payments", params(ClawbackParams),
    responses((status = 200, description = "OK", body = Page<vouch_app::resources::PaymentClawback>), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Clawbacks of payments already made when their sale was cancelled, newest first
/// (`status=open` is what waits for a decision).
async fn list_clawbacks(
    State(state): State<AppState>,
    _: Can<perm::SalesRead>,
    ApiQuery(p): ApiQuery<ClawbackParams>,
) -> ApiResult<Json<Page<vouch_app::resources::PaymentClawback>>> {
    let limit = check_limit(p.limit)?;
    let rows = svc::list_clawbacks(
        &state,
        p.status.map(ClawbackStatus::as_str),
        p.starting_after.as_deref(),
        limit,
    )
    .await?;
    Ok(Json(page(rows, limit, |c| c.id.clone(), |c| c)))
}

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
enum ClawbackDecision {
    /// The money came back.
    Recovered,
    /// The payee keeps it.
    Waived,
}

/// A decision on a payment clawback.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ClawbackDecisionIn {
    decision: ClawbackDecision,
}

#[utoipa::path(
    operation_id = "decide_payment_clawback", post, path = "/api/v1/payment-clawbacks/{id}/decide", tag = "payments",
    params(("id" = String, Path, description = "Clawback id (pcb_…)")), request_body = ClawbackDecisionIn,
    responses((status = 200, description = "Decided", body = vouch_app::resources::PaymentClawback), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Record what happened to a clawback: `recovered` or `waived`. Final: a second decision is
/// 409 `already_decided`.
async fn decide_clawback(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::PayoutsManage>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ClawbackDecisionIn>,
) -> ApiResult<Json<vouch_app::resources::PaymentClawback>> {
    let decision = match body.decision {
        ClawbackDecision::Recovered => "recovered",
        ClawbackDecision::Waived => "waived",
    };
    Ok(Json(
        svc::decide_clawback(&state, &caller.origin, &id, decision).await?,
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ReportParams {
    /// First day (inclusive); 89 days before `to` by default.
    #[param(format = Date, pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    from: Option<String>,
    /// Last day (inclusive); today by default.
    #[param(format = Date, pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    to: Option<String>,
}

#[utoipa::path(
    operation_id = "sales_report", get, path = "/api/v1/sales-reports", tag = "payments", params(ReportParams),
    responses((status = 200, description = "OK", body = vouch_app::sales_reports::SalesReportOut), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// The sales-bonus reports over a date range (at most two years; `to` not before `from`):
/// bonuses by type and status, what falls due this week and this month, what was paid per
/// month by payee kind, the top referrers by bonus and by sales, and referral → sale
/// conversion. The console shows each as a chart and a table, and downloads each as CSV.
async fn sales_report(
    State(state): State<AppState>,
    _: Can<perm::SalesRead>,
    ApiQuery(p): ApiQuery<ReportParams>,
) -> ApiResult<Json<vouch_app::sales_reports::SalesReportOut>> {
    let from = query_date("from", p.from.as_deref())?;
    let to = query_date("to", p.to.as_deref())?;
    let report = vouch_app::sales_reports::report(&state, from, to).await?;
    Ok(Json((&report).into()))
}
