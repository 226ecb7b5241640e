//! `/api/v1/sales`: sales that referrals led to (seed 002), their milestone dates, approval
//! (which creates their bonuses) and cancellation; and each program's bonus policy.

use super::{ApiJson, ApiQuery, Page, check_limit, page};
use crate::AppState;
use crate::auth::{Can, perm};
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Deserializer};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vouch_app::resources::{Bonus, BonusPolicy};
use vouch_app::sales::{self as svc, PolicyFields, SaleView};
use vouch_domain::bonus::{BonusKind, LeadSource, Milestone};
use vouch_domain::person::TermsFields;
use vouch_domain::sale::{SaleFields, SaleStatus};
use vouch_store::sales::SaleFilter;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update))
        .routes(routes!(record_milestones))
        .routes(routes!(approve))
        .routes(routes!(cancel))
        .routes(routes!(add_bonus))
        .routes(routes!(get_policy, put_policy))
}

/// `Some(None)` for an explicit `null`, `None` when the key is absent (with `#[serde(default)]`).
pub(crate) fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListParams {
    status: Option<SaleStatus>,
    program_id: Option<String>,
    /// Sales where this person is the customer, the referrer or the employee who generated it.
    person_id: Option<String>,
    lead_source: Option<LeadSource>,
    limit: Option<i64>,
    starting_after: Option<super::Cursor>,
}

#[utoipa::path(
    operation_id = "list_sales", get, path = "/api/v1/sales", tag = "sales", params(ListParams),
    responses((status = 200, description = "OK", body = Page<vouch_app::resources::Sale>), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// List sales, newest first.
async fn list(
    State(state): State<AppState>,
    _: Can<perm::SalesRead>,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<vouch_app::resources::Sale>>> {
    let limit = check_limit(p.limit)?;
    let filter = SaleFilter {
        status: p.status,
        program_id: p.program_id.as_deref(),
        person_id: p.person_id.as_deref(),
        lead_source: p.lead_source,
    };
    let rows = svc::list_sales(&state, &filter, p.starting_after.as_deref(), limit).await?;
    Ok(Json(page(rows, limit, |s| s.id.clone(), Into::into)))
}

/// Milestone dates of a sale (ISO dates); each may be recorded later.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct MilestoneDatesIn {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Date, nullable)]
    signed_on: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Date, nullable)]
    job_approved_on: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Date, nullable)]
    installed_on: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Date, nullable)]
    revenue_recognized_on: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Date, nullable)]
    permit_closed_on: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Date, nullable)]
    paid_in_full_on: Option<Option<String>>,
}

impl MilestoneDatesIn {
    /// The dates given, by milestone: a date sets it, `null` clears it, absent leaves it.
    fn given(self) -> Vec<(Milestone, String)> {
        [
            (Milestone::SignDate, self.signed_on),
            (Milestone::JobApprovedDate, self.job_approved_on),
            (Milestone::InstallDate, self.installed_on),
            (Milestone::RevenueRecognizedDate, self.revenue_recognized_on),
            (Milestone::PermitClosedDate, self.permit_closed_on),
            (Milestone::PaidInFullDate, self.paid_in_full_on),
        ]
        .into_iter()
        .filter_map(|(m, v)| v.map(|d| (m, d.unwrap_or_default())))
        .collect()
    }
}

/// A new sale. `referred_by` names the contact, employee or vendor the lead source says
/// (required for a referral source, refused for `other`); `generated_by` the employee who
/// generated a Referral-Contact referral.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewSaleIn {
    /// The program whose policy and currency the sale follows (prg_…). Required unless
    /// `referral_id` is given (then the referral's).
    #[schema(example = "prg_01m8mckw9596hhcdwmfwxwr7ar")]
    #[serde(default)]
    program_id: String,
    /// The customer: a contact (per_…). Required unless `referral_id` is given.
    #[schema(example = "per_01m8mckw9596hhcdwmfwxwr7ar")]
    #[serde(default)]
    customer_id: String,
    /// Minor units of `currency` (1000000 is USD 10,000.00).
    #[schema(minimum = 1, maximum = 1_000_000_000_000_i64, example = 1_000_000)]
    amount: i64,
    /// ISO 4217; the program's currency when absent.
    #[schema(
        min_length = 3,
        max_length = 3,
        pattern = "^[A-Za-z]{3}$",
        example = "USD"
    )]
    currency: Option<String>,
    /// Required unless `referral_id` is given (then it follows the referrer's kind).
    lead_source: Option<LeadSource>,
    referred_by: Option<String>,
    generated_by: Option<String>,
    /// The sales referral the sale is made from (srf_…): it fills `customer_id`,
    /// `lead_source`, `referred_by` and `generated_by` (any of them given must match), and
    /// approving the sale wins the referral.
    referral_id: Option<String>,
    /// A sale to an existing customer (an add-on).
    #[serde(default)]
    add_on: bool,
    #[schema(max_length = 2000)]
    description: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Date, nullable)]
    signed_on: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Date, nullable)]
    job_approved_on: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Date, nullable)]
    installed_on: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Date, nullable)]
    revenue_recognized_on: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Date, nullable)]
    permit_closed_on: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Date, nullable)]
    paid_in_full_on: Option<Option<String>>,
}

#[utoipa::path(
    operation_id = "create_sale", post, path = "/api/v1/sales", tag = "sales", request_body = NewSaleIn,
    responses((status = 201, description = "Created, as a draft", body = SaleView), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Record a sale as a draft. It earns nothing until a manager approves it. 422 names each
/// field at fault, including a `customer_id`, `referred_by` or `generated_by` that names
/// nobody or someone of the wrong kind.
async fn create(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::SalesWrite>,
    ApiJson(body): ApiJson<NewSaleIn>,
) -> ApiResult<(StatusCode, Json<SaleView>)> {
    let fields = SaleFields {
        program_id: body.program_id,
        customer_id: body.customer_id,
        amount: Some(body.amount),
        currency: body.currency.unwrap_or_default(),
        lead_source: body.lead_source,
        referred_by: body.referred_by.unwrap_or_default(),
        generated_by: body.generated_by.unwrap_or_default(),
        add_on: body.add_on,
        description: body.description.unwrap_or_default(),
        dates: MilestoneDatesIn {
            signed_on: body.signed_on,
            job_approved_on: body.job_approved_on,
            installed_on: body.installed_on,
            revenue_recognized_on: body.revenue_recognized_on,
            permit_closed_on: body.permit_closed_on,
            paid_in_full_on: body.paid_in_full_on,
        }
        .given(),
        referral_id: body.referral_id.unwrap_or_default(),
    };
    let sale = svc::create_sale(&state, &caller.origin, &fields).await?;
    Ok((
        StatusCode::CREATED,
        Json(svc::sale_view(&state, sale).await?),
    ))
}

#[utoipa::path(
    operation_id = "get_sale", get, path = "/api/v1/sales/{id}", tag = "sales",
    params(("id" = String, Path, description = "Sale id (sal_…)")),
    responses((status = 200, description = "The sale with its bonuses, payments and clawbacks", body = SaleView), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Get a sale with its bonuses, their payments and any clawbacks.
async fn show(
    State(state): State<AppState>,
    _: Can<perm::SalesRead>,
    Path(id): Path<String>,
) -> ApiResult<Json<SaleView>> {
    let sale = svc::get_sale(&state, &id).await?;
    Ok(Json(svc::sale_view(&state, sale).await?))
}

/// A draft sale's fields; a patch changes only those it names.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct SalePatch {
    #[schema(min_length = 1)]
    program_id: Option<String>,
    #[schema(min_length = 1)]
    customer_id: Option<String>,
    #[schema(minimum = 1, maximum = 1_000_000_000_000_i64)]
    amount: Option<i64>,
    #[schema(min_length = 3, max_length = 3, pattern = "^[A-Za-z]{3}$")]
    currency: Option<String>,
    lead_source: Option<LeadSource>,
    /// An empty string clears it.
    referred_by: Option<String>,
    /// An empty string clears it.
    generated_by: Option<String>,
    add_on: Option<bool>,
    #[schema(max_length = 2000)]
    description: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Date, nullable)]
    signed_on: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Date, nullable)]
    job_approved_on: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Date, nullable)]
    installed_on: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Date, nullable)]
    revenue_recognized_on: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Date, nullable)]
    permit_closed_on: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Date, nullable)]
    paid_in_full_on: Option<Option<String>>,
}

#[utoipa::path(
    operation_id = "update_sale", patch, path = "/api/v1/sales/{id}", tag = "sales",
    params(("id" = String, Path, description = "Sale id (sal_…)")), request_body = SalePatch,
    responses((status = 200, description = "OK", body = SaleView), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Change a draft sale (409 `invalid_transition` once approved or cancelled; record the
/// milestone dates of an approved sale with `POST /api/v1/sales/{id}/milestones`).
async fn update(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::SalesWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SalePatch>,
) -> ApiResult<Json<SaleView>> {
    let sale = svc::update_sale(&state, &caller.origin, &id, |f| {
        let set = |target: &mut String, v: Option<String>| {
            if let Some(v) = v {
                *target = v;
            }
        };
        set(&mut f.program_id, body.program_id);
        set(&mut f.customer_id, body.customer_id);
        set(&mut f.currency, body.currency);
        set(&mut f.referred_by, body.referred_by);
        set(&mut f.generated_by, body.generated_by);
        set(&mut f.description, body.description);
        if let Some(a) = body.amount {
            f.amount = Some(a);
        }
        if let Some(l) = body.lead_source {
            f.lead_source = Some(l);
        }
        if let Some(a) = body.add_on {
            f.add_on = a;
        }
        let dates = MilestoneDatesIn {
            signed_on: body.signed_on,
            job_approved_on: body.job_approved_on,
            installed_on: body.installed_on,
            revenue_recognized_on: body.revenue_recognized_on,
            permit_closed_on: body.permit_closed_on,
            paid_in_full_on: body.paid_in_full_on,
        };
        for (m, d) in dates.given() {
            if let Some(slot) = f.dates.iter_mut().find(|(x, _)| *x == m) {
                slot.1 = d;
            }
        }
    })
    .await?;
    Ok(Json(svc::sale_view(&state, sale).await?))
}

#[utoipa::path(
    operation_id = "record_sale_milestones", post, path = "/api/v1/sales/{id}/milestones", tag = "sales",
    params(("id" = String, Path, description = "Sale id (sal_…)")), request_body = MilestoneDatesIn,
    responses((status = 200, description = "OK", body = SaleView), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Record milestone dates as they become known (a date sets one, `null` clears it, an absent
/// key leaves it). Payments waiting for a milestone take its date, and fall due (event
/// `payment.due`) once it has come. 409 on a cancelled sale.
async fn record_milestones(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::SalesWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<MilestoneDatesIn>,
) -> ApiResult<Json<SaleView>> {
    let sale = svc::record_milestones(&state, &caller.origin, &id, &body.given()).await?;
    Ok(Json(svc::sale_view(&state, sale).await?))
}

#[utoipa::path(
    operation_id = "approve_sale", post, path = "/api/v1/sales/{id}/approve", tag = "sales",
    params(("id" = String, Path, description = "Sale id (sal_…)")),
    responses((status = 200, description = "Approved, with the bonuses it created", body = SaleView), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Approve a draft sale: creates the bonuses its lead source earns (Referral-Contact, plus
/// Employee Generated when an employee generated it; Referral-Employee; Referral-Vendor; and
/// New Customer or Add-On Sale when the program's policy says), each incomplete with the terms
/// in force copied in. Once only: approving again, or two managers at once, answers 409
/// `invalid_transition` and creates nothing.
async fn approve(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::SalesApprove>,
    Path(id): Path<String>,
) -> ApiResult<Json<SaleView>> {
    Ok(Json(svc::approve_sale(&state, &caller.origin, &id).await?))
}

/// Why something is cancelled or rejected.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReasonIn {
    #[schema(min_length = 1, max_length = 500, example = "The customer withdrew")]
    pub reason: String,
}

#[utoipa::path(
    operation_id = "cancel_sale", post, path = "/api/v1/sales/{id}/cancel", tag = "sales",
    params(("id" = String, Path, description = "Sale id (sal_…)")), request_body = ReasonIn,
    responses((status = 200, description = "Cancelled", body = SaleView), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Cancel a sale. Its bonuses are cancelled; payments not yet paid are voided (and leave any
/// batch); each payment already paid opens a clawback for review.
async fn cancel(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::SalesApprove>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReasonIn>,
) -> ApiResult<Json<SaleView>> {
    Ok(Json(
        svc::cancel_sale(&state, &caller.origin, &id, &body.reason).await?,
    ))
}

/// A bonus added by hand.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct AddBonusIn {
    kind: BonusKind,
    /// Who receives it; by default whom the kind pays on this sale.
    payee_id: Option<String>,
}

#[utoipa::path(
    operation_id = "add_sale_bonus", post, path = "/api/v1/sales/{id}/bonuses", tag = "sales",
    params(("id" = String, Path, description = "Sale id (sal_…)")), request_body = AddBonusIn,
    responses((status = 201, description = "Created, incomplete", body = Bonus), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// "Add referral bonus": add a bonus to an approved sale by hand (audited). It starts
/// incomplete, prefilled as approval would.
async fn add_bonus(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::SalesApprove>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AddBonusIn>,
) -> ApiResult<(StatusCode, Json<Bonus>)> {
    let bonus = vouch_app::bonuses::add_bonus(
        &state,
        &caller.origin,
        &id,
        body.kind,
        body.payee_id.as_deref().filter(|p| !p.is_empty()),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(bonus.into())))
}

#[utoipa::path(
    operation_id = "get_bonus_policy", get, path = "/api/v1/programs/{id}/bonus-policy", tag = "sales",
    params(("id" = String, Path, description = "Program id (prg_…)")),
    responses((status = 200, description = "OK", body = BonusPolicy), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// A program's bonus policy: the defaults for contacts and optional bonuses.
async fn get_policy(
    State(state): State<AppState>,
    _: Can<perm::SalesRead>,
    Path(id): Path<String>,
) -> ApiResult<Json<BonusPolicy>> {
    Ok(Json(svc::policy(&state, &id).await?))
}

/// A program's bonus policy, replaced whole.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct PolicyIn {
    /// The terms Referral-Contact bonuses copy; `null` leaves them to whoever completes a bonus.
    contact_terms: Option<TermsFields>,
    #[serde(default)]
    new_customer_bonus: bool,
    new_customer_terms: Option<TermsFields>,
    #[serde(default)]
    add_on_bonus: bool,
    add_on_terms: Option<TermsFields>,
    /// Whoever submitted a bonus may also approve it (default: no).
    #[serde(default)]
    allow_self_approval: bool,
}

#[utoipa::path(
    operation_id = "set_bonus_policy", put, path = "/api/v1/programs/{id}/bonus-policy", tag = "sales",
    params(("id" = String, Path, description = "Program id (prg_…)")), request_body = PolicyIn,
    responses((status = 200, description = "OK", body = BonusPolicy), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Set a program's bonus policy. Each set of terms follows the rules of a person's terms
/// (422 names the field under its set, e.g. `contact_terms.front_share_bps`). Bonuses already
/// created keep the terms they copied.
async fn put_policy(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::SalesApprove>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PolicyIn>,
) -> ApiResult<Json<BonusPolicy>> {
    let fields = PolicyFields {
        contact_terms: body.contact_terms,
        new_customer_bonus: body.new_customer_bonus,
        new_customer_terms: body.new_customer_terms,
        add_on_bonus: body.add_on_bonus,
        add_on_terms: body.add_on_terms,
        allow_self_approval: body.allow_self_approval,
    };
    Ok(Json(
        svc::set_policy(&state, &caller.origin, &id, fields).await?,
    ))
}

/// An optional date of the API (query parameter or body field): absent is `None`; given, it
/// must be a date (an empty value is refused, as the document's pattern says), else 422
/// naming the field.
pub(crate) fn query_date(field: &str, raw: Option<&str>) -> ApiResult<Option<time::Date>> {
    match raw {
        None => Ok(None),
        Some(text) => match vouch_domain::sale::parse_date(text) {
            Ok(Some(date)) => Ok(Some(date)),
            Ok(None) => Err(ApiError::field(field, "must be a date like 2026-04-15")),
            Err(m) => Err(ApiError::field(field, m)),
        },
    }
}
