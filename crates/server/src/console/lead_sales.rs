//! Lead sales in the console (seed 004): every sale with where its delivery stands, selling a
//! lead or customer to a buyer (amounts typed in major units), a sale's page with its delivery
//! log and a retry for a failed delivery, and each buyer's monthly statement with its CSV.

use super::{CsrfForm, FormErrors, Layout, StaffCan, error_page, form_status, with_status};
use crate::AppState;
use crate::auth::perm;
use crate::error::ApiError;
use crate::view::money as money_text;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use std::collections::BTreeMap;
use vouch_app::lead_sales as svc;
use vouch_app::resources::{DeliveryAttempt, LeadSale, LeadStatement};
use vouch_domain::lead_sale::{DeliveryStatus, LeadFields, Month};
use vouch_domain::money::{Currency, Money};
use vouch_domain::permission::Action;
use vouch_store::lead_sales::SaleFilter;
use vouch_store::partners::PartnerFilter;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/lead-sales", get(list))
        .route("/admin/lead-sales/new", get(new_page).post(sell))
        .route("/admin/lead-sales/{id}", get(show))
        .route("/admin/lead-sales/{id}/retry", post(retry))
        .route("/admin/partners/{id}/lead-statement", get(statement))
        .route(
            "/admin/partners/{id}/lead-statement.csv",
            get(statement_csv),
        )
}

const PAGE_SIZE: i64 = 25;

/// `$150.00`.
pub fn price(s: &LeadSale) -> String {
    money_text(s.sale_price, &s.currency)
}

#[derive(Deserialize, Default)]
struct ListParams {
    #[serde(default)]
    partner_id: String,
    #[serde(default)]
    status: String,
    starting_after: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "leads/list.html")]
struct ListPage {
    l: Layout,
    partner_id: String,
    status: String,
    buyers: Vec<(String, String)>,
    rows: Vec<LeadSale>,
    next_url: Option<String>,
    can_write: bool,
}

/// Partners that buy customers, for a choice list headed by `first`.
async fn buyers(state: &AppState, first: &str) -> Result<Vec<(String, String)>, ApiError> {
    let filter = PartnerFilter {
        does: Some(vouch_domain::partner::Capability::BuysCustomers),
        ..PartnerFilter::default()
    };
    let rows = vouch_app::partners::list_partners(state, &filter, None, 100).await?;
    Ok(std::iter::once((String::new(), first.to_string()))
        .chain(rows.into_iter().map(|p| (p.id, p.name)))
        .collect())
}

async fn list(
    StaffCan(mut console, _): StaffCan<perm::PartnersRead>,
    Query(p): Query<ListParams>,
) -> Response {
    let result = async {
        let status = match p.status.as_str() {
            "" => None,
            s => Some(
                s.parse::<DeliveryStatus>()
                    .map_err(|m| ApiError::field("status", m))?,
            ),
        };
        let mut rows = svc::list(
            &console.state,
            SaleFilter {
                partner_id: Some(p.partner_id.as_str()).filter(|s| !s.is_empty()),
                delivery_status: status,
            },
            p.starting_after.as_deref().filter(|s| !s.is_empty()),
            PAGE_SIZE,
        )
        .await?;
        let more = rows.len() > usize::try_from(PAGE_SIZE).unwrap_or(usize::MAX);
        rows.truncate(usize::try_from(PAGE_SIZE).unwrap_or(usize::MAX));
        Ok::<_, ApiError>((rows, more, buyers(&console.state, "Every buyer").await?))
    }
    .await;
    let (rows, more, buyers) = match result {
        Ok(r) => r,
        Err(e) => return error_page(&e),
    };
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let next_url = more
        .then(|| rows.last().map(|r| r.id.clone()))
        .flatten()
        .map(|after| {
            format!(
                "/admin/lead-sales?partner_id={}&status={}&starting_after={after}",
                enc(&p.partner_id),
                enc(&p.status)
            )
        });
    ListPage {
        can_write: console.may(Action::PartnersWrite),
        l: console.layout("partners"),
        partner_id: p.partner_id,
        status: p.status,
        buyers,
        rows,
        next_url,
    }
    .into_response()
}

/// The sale form as the browser sends it: amounts as people type them (`150.00`).
#[derive(Deserialize, Default, Clone)]
pub struct SaleForm {
    #[serde(default)]
    partner_id: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    company: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone1: String,
    #[serde(default)]
    phone2: String,
    #[serde(default)]
    street: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    postal_code: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    promo_code: String,
    /// `name: value` lines.
    #[serde(default)]
    custom_fields: String,
    #[serde(default)]
    sale_price: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    monthly_recurring_revenue: String,
    #[serde(default)]
    activation_fee: String,
    #[serde(default)]
    contract_term_months: String,
    #[serde(default)]
    notes: String,
}

const SALE_FIELDS: &[&str] = &[
    "partner_id",
    "kind",
    "first_name",
    "last_name",
    "company",
    "email",
    "phone1",
    "phone2",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "promo_code",
    "custom_fields",
    "sale_price",
    "currency",
    "monthly_recurring_revenue",
    "activation_fee",
    "contract_term_months",
    "notes",
];

impl SaleForm {
    /// The sale as the application takes it; every amount problem named at once.
    fn fields(&self) -> Result<LeadFields, ApiError> {
        let mut errors = Vec::new();
        let currency = Currency::parse(self.currency.trim());
        let mut amount = |field: &'static str, raw: &str| -> Option<i64> {
            if raw.trim().is_empty() {
                return None;
            }
            match &currency {
                Ok(c) => match Money::parse_major(raw, *c) {
                    Ok(m) => Some(m.minor()),
                    Err(e) => {
                        errors.push((field, e.to_string()));
                        None
                    }
                },
                Err(_) => None,
            }
        };
        let sale_price = amount("sale_price", &self.sale_price);
        let mrr = amount("monthly_recurring_revenue", &self.monthly_recurring_revenue);
        let fee = amount("activation_fee", &self.activation_fee);
        let term = match self.contract_term_months.trim() {
            "" => None,
            t => match t.parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    errors.push((
                        "contract_term_months",
                        "must be a whole number of months".into(),
                    ));
                    None
                }
            },
        };
        let mut custom_fields = BTreeMap::new();
        for line in self.custom_fields.lines().filter(|l| !l.trim().is_empty()) {
            match line.split_once(':') {
                Some((name, value)) => {
                    custom_fields.insert(name.trim().to_string(), value.trim().to_string());
                }
                None => errors.push((
                    "custom_fields",
                    format!("“{}” is not `name: value`", line.trim()),
                )),
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::invalid(
                errors
                    .into_iter()
                    .map(|(field, message)| vouch_domain::FieldError {
                        field: field.to_string(),
                        message,
                    })
                    .collect(),
            ));
        }
        Ok(LeadFields {
            kind: self.kind.clone(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            company: self.company.clone(),
            email: self.email.clone(),
            phones: vec![self.phone1.clone(), self.phone2.clone()],
            street: self.street.clone(),
            city: self.city.clone(),
            region: self.region.clone(),
            postal_code: self.postal_code.clone(),
            country: self.country.clone(),
            promo_code: self.promo_code.clone(),
            custom_fields,
            sale_price,
            currency: self.currency.clone(),
            monthly_recurring_revenue: mrr,
            activation_fee: fee,
            contract_term_months: term,
            notes: self.notes.clone(),
        })
    }
}

/// The errors next to the form's boxes: `phones[1]` is the second phone box, and a custom
/// field's value belongs to the custom fields box.
fn form_errors(err: &ApiError) -> FormErrors {
    let renamed = ApiError {
        status: err.status,
        code: err.code,
        detail: err.detail.clone(),
        retry_after: err.retry_after,
        errors: err
            .errors
            .iter()
            .map(|e| vouch_domain::FieldError {
                field: match e.field.as_str() {
                    "phones[0]" => "phone1".into(),
                    "phones[1]" | "phones" => "phone2".into(),
                    f if f.starts_with("custom_fields.") => "custom_fields".into(),
                    f => f.to_string(),
                },
                message: e.message.clone(),
            })
            .collect(),
    };
    FormErrors::from_api(&renamed, "", SALE_FIELDS)
}

#[derive(Template, WebTemplate)]
#[template(path = "leads/new.html")]
struct NewPage {
    l: Layout,
    f: SaleForm,
    buyers: Vec<(String, String)>,
    errors: FormErrors,
}

#[derive(Deserialize, Default)]
struct NewParams {
    #[serde(default)]
    partner_id: String,
}

async fn new_page(
    StaffCan(mut console, _): StaffCan<perm::PartnersWrite>,
    Query(q): Query<NewParams>,
) -> Response {
    let buyers = match buyers(&console.state, "Choose…").await {
        Ok(b) => b,
        Err(e) => return error_page(&e),
    };
    NewPage {
        l: console.layout("partners"),
        f: SaleForm {
            partner_id: q.partner_id,
            kind: "lead".into(),
            currency: "USD".into(),
            ..SaleForm::default()
        },
        buyers,
        errors: FormErrors::default(),
    }
    .into_response()
}

async fn sell(
    StaffCan(mut console, _): StaffCan<perm::PartnersWrite>,
    CsrfForm(form): CsrfForm<SaleForm>,
) -> Response {
    let result = async {
        if form.partner_id.trim().is_empty() {
            return Err(ApiError::field("partner_id", "choose a buyer"));
        }
        let fields = form.fields()?;
        svc::sell(
            &console.state,
            &console.origin,
            form.partner_id.trim(),
            &fields,
        )
        .await
        .map_err(ApiError::from)
    }
    .await;
    match result {
        Ok(s) => {
            console
                .redirect_with(
                    &format!("/admin/lead-sales/{}", s.id),
                    &format!(
                        "{} sold to {} for {}; delivery queued.",
                        s.name(),
                        s.partner_name,
                        price(&s)
                    ),
                )
                .await
        }
        Err(err) if err.status.is_client_error() && err.status.as_u16() != 404 => {
            let buyers = match buyers(&console.state, "Choose…").await {
                Ok(b) => b,
                Err(e) => return error_page(&e),
            };
            with_status(
                form_status(&err),
                NewPage {
                    l: console.layout("partners"),
                    errors: form_errors(&err),
                    f: form,
                    buyers,
                },
            )
        }
        Err(err) => error_page(&err),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "leads/show.html")]
struct ShowPage {
    l: Layout,
    s: LeadSale,
    log: Vec<DeliveryAttempt>,
    can_write: bool,
}

impl ShowPage {
    fn money(&self, minor: &Option<i64>) -> String {
        minor
            .map(|m| money_text(m, &self.s.currency))
            .unwrap_or_else(|| "—".into())
    }
}

async fn show(
    StaffCan(mut console, _): StaffCan<perm::PartnersRead>,
    Path(id): Path<String>,
) -> Response {
    match svc::get(&console.state, &id).await {
        Ok((s, log)) => ShowPage {
            can_write: console.may(Action::PartnersWrite),
            l: console.layout("partners"),
            s,
            log,
        }
        .into_response(),
        Err(e) => error_page(&ApiError::from(e)),
    }
}

async fn retry(
    StaffCan(console, _): StaffCan<perm::PartnersWrite>,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<super::sales::Empty>,
) -> Response {
    let outcome = svc::retry_delivery(&console.state, &console.origin, &id)
        .await
        .map(|_| "Delivering again now.".to_string())
        .map_err(ApiError::from);
    console
        .finish(&format!("/admin/lead-sales/{id}"), outcome)
        .await
}

#[derive(Deserialize, Default)]
struct MonthParams {
    #[serde(default)]
    month: String,
}

fn month_or_now(month: &str) -> String {
    if month.trim().is_empty() {
        Month::of(time::OffsetDateTime::now_utc().date()).text()
    } else {
        month.trim().to_string()
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "leads/statement.html")]
struct StatementPage {
    l: Layout,
    st: LeadStatement,
    previous: String,
    next: String,
}

impl StatementPage {
    fn total_text(&self, amount: &i64, currency: &str) -> String {
        money_text(*amount, currency)
    }
}

/// The months before and after `month` (`2026-01` → `2025-12`, `2026-02`).
fn neighbours(month: &str) -> (String, String) {
    let Ok(m) = Month::parse(month) else {
        return (String::new(), String::new());
    };
    let (first, next) = m.bounds();
    let before = first.previous_day().map(Month::of);
    (
        before.map(Month::text).unwrap_or_default(),
        Month::of(next).text(),
    )
}

async fn statement(
    StaffCan(mut console, _): StaffCan<perm::PartnersRead>,
    Path(id): Path<String>,
    Query(q): Query<MonthParams>,
) -> Response {
    let month = month_or_now(&q.month);
    match svc::statement(&console.state, &id, &month).await {
        Ok(st) => {
            let (previous, next) = neighbours(&st.month);
            StatementPage {
                l: console.layout("partners"),
                st,
                previous,
                next,
            }
            .into_response()
        }
        Err(e) => error_page(&ApiError::from(e)),
    }
}

async fn statement_csv(
    StaffCan(console, _): StaffCan<perm::PartnersRead>,
    Path(id): Path<String>,
    Query(q): Query<MonthParams>,
) -> Response {
    match svc::statement(&console.state, &id, &month_or_now(&q.month)).await {
        Ok(st) => super::payouts::csv_download(&svc::statement_table(&st)),
        Err(e) => error_page(&ApiError::from(e)),
    }
}
