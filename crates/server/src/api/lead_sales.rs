//! `/api/v1/lead-sales`: leads and customers sold to partners that buy them (seed 004), their
//! delivery logs, and each buyer's monthly statement.

use super::payouts::csv_response;
use super::{ApiJson, ApiQuery, Page, check_limit, page};
use crate::AppState;
use crate::auth::{Can, perm};
use crate::error::ApiResult;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vouch_app::lead_sales as svc;
use vouch_app::resources::{DeliveryAttempt, LeadSale, LeadStatement};
use vouch_domain::lead_sale::{DeliveryStatus, LeadFields, LeadKind};
use vouch_store::lead_sales::SaleFilter;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, sell))
        .routes(routes!(show))
        .routes(routes!(retry))
        .routes(routes!(statement))
        .routes(routes!(statement_csv))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListParams {
    /// Only sales to this partner.
    partner_id: Option<String>,
    #[param(inline)]
    delivery_status: Option<DeliveryStatus>,
    limit: Option<i64>,
    starting_after: Option<super::Cursor>,
}

#[utoipa::path(
    operation_id = "list_lead_sales", get, path = "/api/v1/lead-sales", tag = "partners", params(ListParams),
    responses((status = 200, description = "OK", body = Page<LeadSale>), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Leads and customers sold, newest first (`delivery_status=failed` is what needs a look).
async fn list(
    State(state): State<AppState>,
    _: Can<perm::PartnersRead>,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<LeadSale>>> {
    let limit = check_limit(p.limit)?;
    let rows = svc::list(
        &state,
        SaleFilter {
            partner_id: p.partner_id.as_deref(),
            delivery_status: p.delivery_status,
        },
        p.starting_after.as_deref(),
        limit,
    )
    .await?;
    Ok(Json(page(rows, limit, |s| s.id.clone(), |s| s)))
}

/// A lead or customer to sell. Amounts are minor units of `currency` (`15000` with `USD` is
/// USD 150.00). A `customer` needs `monthly_recurring_revenue`, `activation_fee` and
/// `contract_term_months`; a `lead` takes none of them.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct SaleIn {
    /// The buyer: a partner that buys customers.
    #[schema(min_length = 1, max_length = 100)]
    partner_id: String,
    /// `lead` when absent.
    kind: Option<LeadKind>,
    #[schema(min_length = 1, max_length = 100, example = "Dana")]
    first_name: String,
    #[schema(min_length = 1, max_length = 100, example = "Home")]
    last_name: String,
    #[schema(max_length = 200)]
    company: Option<String>,
    /// An email or a phone is required.
    #[schema(max_length = 254, format = "email-or-empty")]
    email: Option<String>,
    /// Up to three numbers: digits with spaces, `+`, `.`, `(`, `)`, `x` or `-`.
    #[serde(default)]
    #[schema(schema_with = phones_schema)]
    phones: Vec<String>,
    #[schema(max_length = 200)]
    street: Option<String>,
    #[schema(max_length = 100)]
    city: Option<String>,
    #[schema(max_length = 100)]
    region: Option<String>,
    #[schema(max_length = 20)]
    postal_code: Option<String>,
    #[schema(max_length = 100)]
    country: Option<String>,
    #[schema(max_length = 50)]
    promo_code: Option<String>,
    /// Up to 20 fields the buyer agreed on: names of 1 to 50 characters, values of at most
    /// 1,000, neither with control characters.
    #[serde(default)]
    #[schema(schema_with = custom_fields_schema)]
    custom_fields: BTreeMap<String, String>,
    /// What the buyer owes us, in minor units of `currency`.
    #[schema(minimum = 0, maximum = 1_000_000_000, example = 15000)]
    sale_price: i64,
    /// ISO 4217.
    #[schema(
        min_length = 3,
        max_length = 3,
        pattern = "^[A-Za-z]{3}$",
        example = "USD"
    )]
    currency: String,
    /// A customer's monthly recurring revenue, in minor units.
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    monthly_recurring_revenue: Option<i64>,
    /// A customer's activation fee, in minor units (0 for none).
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    activation_fee: Option<i64>,
    /// A customer's contract term in months.
    #[schema(minimum = 1, maximum = 120)]
    contract_term_months: Option<i64>,
    /// Our own notes; never sent to the buyer.
    #[schema(max_length = 10000)]
    notes: Option<String>,
}

fn phones_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(32))
                .pattern(Some("^[0-9 +.()x-]*[0-9][0-9 +.()x-]*$")),
        )
        .max_items(Some(vouch_domain::lead_sale::MAX_PHONES))
        .build()
}

fn custom_fields_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::RefOr(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(1000))
                .into(),
        )))
        .max_properties(Some(vouch_domain::lead_sale::MAX_CUSTOM_FIELDS))
        .build()
}

#[utoipa::path(
    operation_id = "sell_lead", post, path = "/api/v1/lead-sales", tag = "partners", request_body = SaleIn,
    responses((status = 201, description = "Sold; its delivery is queued", body = LeadSale), (status = "4XX", description = "A problem (RFC 9457); 422 on `partner_id` for an unknown partner, 409 `partner_suspended`, or `partner_cannot` when the partner does not buy customers", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Sell a lead or customer to a partner that buys them. The sale is delivered the buyer's way:
/// an API post to its Post URL (retried with backoff, every attempt in the delivery log) or
/// email to its sale notification addresses, which hear of the sale either way. Events
/// `lead.sold`, then `lead.delivered` or `lead.delivery_failed`.
async fn sell(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::PartnersWrite>,
    ApiJson(body): ApiJson<SaleIn>,
) -> ApiResult<(StatusCode, Json<LeadSale>)> {
    let fields = LeadFields {
        kind: body
            .kind
            .map(|k| k.as_str().to_string())
            .unwrap_or_default(),
        first_name: body.first_name,
        last_name: body.last_name,
        company: body.company.unwrap_or_default(),
        email: body.email.unwrap_or_default(),
        phones: body.phones,
        street: body.street.unwrap_or_default(),
        city: body.city.unwrap_or_default(),
        region: body.region.unwrap_or_default(),
        postal_code: body.postal_code.unwrap_or_default(),
        country: body.country.unwrap_or_default(),
        promo_code: body.promo_code.unwrap_or_default(),
        custom_fields: body.custom_fields,
        sale_price: Some(body.sale_price),
        currency: body.currency,
        monthly_recurring_revenue: body.monthly_recurring_revenue,
        activation_fee: body.activation_fee,
        contract_term_months: body.contract_term_months,
        notes: body.notes.unwrap_or_default(),
    };
    let sale = svc::sell(&state, &caller.origin, &body.partner_id, &fields).await?;
    Ok((StatusCode::CREATED, Json(sale)))
}

/// A sale with every attempt at delivering it, oldest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct SaleWithLog {
    #[serde(flatten)]
    sale: LeadSale,
    delivery_log: Vec<DeliveryAttempt>,
}

#[utoipa::path(
    operation_id = "get_lead_sale", get, path = "/api/v1/lead-sales/{id}", tag = "partners",
    params(("id" = String, Path, description = "Lead sale id (lds_…)")),
    responses((status = 200, description = "OK", body = SaleWithLog), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// A sale and its delivery log.
async fn show(
    State(state): State<AppState>,
    _: Can<perm::PartnersRead>,
    Path(id): Path<String>,
) -> ApiResult<Json<SaleWithLog>> {
    let (sale, delivery_log) = svc::get(&state, &id).await?;
    Ok(Json(SaleWithLog { sale, delivery_log }))
}

#[utoipa::path(
    operation_id = "retry_lead_delivery", post, path = "/api/v1/lead-sales/{id}/retry", tag = "partners",
    params(("id" = String, Path, description = "Lead sale id (lds_…)")),
    responses((status = 200, description = "Delivering again", body = LeadSale), (status = "4XX", description = "A problem (RFC 9457); 409 `not_failed` unless the delivery failed, `partner_suspended` when the buyer is suspended, `delivery_in_progress` while its last attempt is being recorded", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Run a failed delivery once more, now (after the buyer fixed its receiver).
async fn retry(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::PartnersWrite>,
    Path(id): Path<String>,
) -> ApiResult<Json<LeadSale>> {
    Ok(Json(
        svc::retry_delivery(&state, &caller.origin, &id).await?,
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct StatementParams {
    /// The month, `YYYY-MM`; the current month (UTC) when absent.
    #[param(pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$", example = "2026-11")]
    month: Option<String>,
}

/// The month asked for, or the current one (UTC) when none is; an empty one is refused.
fn month_or_now(month: Option<String>) -> String {
    month.unwrap_or_else(|| {
        vouch_domain::lead_sale::Month::of(time::OffsetDateTime::now_utc().date()).text()
    })
}

#[utoipa::path(
    operation_id = "get_lead_statement", get, path = "/api/v1/partners/{id}/lead-statement", tag = "partners",
    params(("id" = String, Path, description = "Partner id (ptn_…)"), StatementParams),
    responses((status = 200, description = "OK", body = LeadStatement), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// A buyer's monthly statement: the leads and customers sold to it that month and what it owes
/// us per currency (money owed to us, kept apart from payables).
async fn statement(
    State(state): State<AppState>,
    _: Can<perm::PartnersRead>,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<StatementParams>,
) -> ApiResult<Json<LeadStatement>> {
    Ok(Json(
        svc::statement(&state, &id, &month_or_now(p.month)).await?,
    ))
}

#[utoipa::path(
    operation_id = "export_lead_statement", get, path = "/api/v1/partners/{id}/lead-statement.csv", tag = "partners",
    params(("id" = String, Path, description = "Partner id (ptn_…)"), StatementParams),
    responses((status = 200, description = "CSV, header line first: `sold_on, sale_id, kind, name, company, email, sale_price, currency, delivery_status`, one line per sale, then a `total` line per currency. Amounts in major units (`150.00`).", content_type = "text/csv"), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// A buyer's monthly statement as CSV.
async fn statement_csv(
    State(state): State<AppState>,
    _: Can<perm::PartnersRead>,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<StatementParams>,
) -> ApiResult<Response> {
    let statement = svc::statement(&state, &id, &month_or_now(p.month)).await?;
    csv_response(&svc::statement_table(&statement))
}
