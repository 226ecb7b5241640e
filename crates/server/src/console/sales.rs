//! Sales in the console: list, record, view with their bonuses and payments, record
//! milestone dates, approve (managers), cancel, add a bonus by hand. Amounts are typed and
//! shown in major units.

use super::people::name_of;
use super::{CsrfForm, FormErrors, Layout, StaffCan, error_page, form_status, ticked, with_status};
use crate::AppState;
use crate::auth::perm;
use crate::error::ApiError;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use vouch_app::resources::{self, Total};
use vouch_app::sales::{self as svc, SaleView};
use vouch_domain::bonus::{BonusKind, LeadSource, Milestone};
use vouch_domain::money::{Currency, Money};
use vouch_domain::permission::Action;
use vouch_domain::person::PersonKind;
use vouch_domain::sale::{SaleFields, SaleStatus};
use vouch_store::sales::SaleFilter;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/sales", get(list))
        .route("/admin/sales/new", get(new_page).post(create))
        .route("/admin/sales/{id}", get(show))
        .route("/admin/sales/{id}/milestones", post(milestones))
        .route("/admin/sales/{id}/approve", post(approve))
        .route("/admin/sales/{id}/cancel", post(cancel))
        .route("/admin/sales/{id}/bonuses", post(add_bonus))
}

/// Every milestone as (value, label), for selects.
pub const MILESTONES: &[(&str, &str)] = &[
    ("sign_date", "Sign Date"),
    ("job_approved_date", "Job Approved Date"),
    ("install_date", "Install Date"),
    ("revenue_recognized_date", "Revenue Recognized Date"),
    ("permit_closed_date", "Permit Closed Date"),
    ("paid_in_full_date", "Paid in Full Date"),
];

/// "$25.00 + €3.00", or "—" for nothing.
pub fn totals_text(totals: &[Total]) -> String {
    let parts: Vec<String> = totals
        .iter()
        .map(|t| money_text(t.amount, &t.currency))
        .collect();
    if parts.is_empty() {
        "—".into()
    } else {
        parts.join(" + ")
    }
}

/// An amount in minor units with its currency, as people read it (`$25.00`).
pub fn money_text(amount: i64, currency: &str) -> String {
    crate::view::money(amount, currency)
}

const PAGE_SIZE: i64 = 25;

#[derive(Deserialize, Default)]
struct ListParams {
    #[serde(default)]
    status: String,
    starting_after: Option<String>,
}

/// A sale row with the names it refers to.
pub struct SaleRow {
    pub sale: resources::Sale,
    pub customer: String,
    pub referrer: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "sales/list.html")]
struct ListPage {
    l: Layout,
    status: String,
    rows: Vec<SaleRow>,
    /// "3 sales, $1,200.00 in all." for the whole filter.
    totals: String,
    next_url: Option<String>,
    can_write: bool,
}

impl ListPage {
    fn money(&self, s: &resources::Sale) -> String {
        money_text(s.amount, &s.currency)
    }
}

async fn list(
    StaffCan(mut console, _): StaffCan<perm::SalesRead>,
    Query(p): Query<ListParams>,
) -> Response {
    let status = match p.status.as_str() {
        "" => None,
        s => match s.parse::<SaleStatus>() {
            Ok(s) => Some(s),
            Err(m) => return error_page(&ApiError::field("status", m)),
        },
    };
    let filter = SaleFilter {
        status,
        ..Default::default()
    };
    let mut rows = match svc::list_sales(
        &console.state,
        &filter,
        p.starting_after.as_deref(),
        PAGE_SIZE,
    )
    .await
    {
        Ok(r) => r,
        Err(e) => return error_page(&e.into()),
    };
    let totals = match svc::sale_totals(&console.state, &filter).await {
        Ok(t) => crate::view::totals(&t, "sale", "sales"),
        Err(e) => return error_page(&e.into()),
    };
    let has_more = rows.len() > PAGE_SIZE as usize;
    rows.truncate(PAGE_SIZE as usize);
    let next_url = has_more
        .then(|| {
            rows.last()
                .map(|s| format!("/admin/sales?status={}&starting_after={}", p.status, s.id))
        })
        .flatten();
    let mut out = Vec::with_capacity(rows.len());
    for s in rows {
        let customer = name_of(&console.state, Some(&s.customer_id), "—").await;
        let referrer = name_of(&console.state, s.referred_by.as_deref(), "—").await;
        out.push(SaleRow {
            sale: s.into(),
            customer,
            referrer,
        });
    }
    let can_write = console.may(Action::SalesWrite);
    ListPage {
        l: console.layout("sales"),
        status: p.status,
        rows: out,
        totals,
        next_url,
        can_write,
    }
    .into_response()
}

/// The sale form as the browser sends it.
#[derive(Deserialize, Default, Clone)]
pub struct SaleForm {
    #[serde(default)]
    program_id: String,
    #[serde(default)]
    customer_id: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    lead_source: String,
    #[serde(default)]
    referred_by: String,
    #[serde(default)]
    generated_by: String,
    add_on: Option<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    signed_on: String,
    #[serde(default)]
    job_approved_on: String,
    #[serde(default)]
    installed_on: String,
    #[serde(default)]
    revenue_recognized_on: String,
    #[serde(default)]
    permit_closed_on: String,
    #[serde(default)]
    paid_in_full_on: String,
    /// The referral the sale is made from (the "Record the sale" link of a referral).
    #[serde(default)]
    referral_id: String,
}

const SALE_FIELDS: &[&str] = &[
    "program_id",
    "customer_id",
    "amount",
    "currency",
    "lead_source",
    "referred_by",
    "generated_by",
    "description",
    "signed_on",
    "job_approved_on",
    "installed_on",
    "revenue_recognized_on",
    "permit_closed_on",
    "paid_in_full_on",
];

impl SaleForm {
    fn dates(&self) -> Vec<(Milestone, String)> {
        vec![
            (Milestone::SignDate, self.signed_on.clone()),
            (Milestone::JobApprovedDate, self.job_approved_on.clone()),
            (Milestone::InstallDate, self.installed_on.clone()),
            (
                Milestone::RevenueRecognizedDate,
                self.revenue_recognized_on.clone(),
            ),
            (Milestone::PermitClosedDate, self.permit_closed_on.clone()),
            (Milestone::PaidInFullDate, self.paid_in_full_on.clone()),
        ]
    }

    /// The fields as the application takes them; the amount typed in major units.
    fn to_fields(&self, program_currency: Option<Currency>) -> Result<SaleFields, ApiError> {
        let currency = if self.currency.trim().is_empty() {
            program_currency
        } else {
            Some(
                Currency::parse(self.currency.trim())
                    .map_err(|m| ApiError::field("currency", m))?,
            )
        };
        let amount = match (self.amount.trim(), currency) {
            ("", _) => None,
            (text, Some(c)) => Some(
                Money::parse_major(text, c)
                    .map_err(|e| ApiError::field("amount", e.to_string()))?
                    .minor(),
            ),
            (_, None) => return Err(ApiError::field("program_id", "choose the program first")),
        };
        let lead_source = match self.lead_source.as_str() {
            "" => None,
            s => Some(
                s.parse::<LeadSource>()
                    .map_err(|m| ApiError::field("lead_source", m))?,
            ),
        };
        Ok(SaleFields {
            program_id: self.program_id.clone(),
            customer_id: self.customer_id.clone(),
            amount,
            currency: currency.map(|c| c.to_string()).unwrap_or_default(),
            lead_source,
            referred_by: self.referred_by.clone(),
            generated_by: self.generated_by.clone(),
            add_on: ticked(&self.add_on),
            description: self.description.clone(),
            dates: self.dates(),
            referral_id: self.referral_id.clone(),
        })
    }
}

/// Choices for the sale form's selects.
pub struct Choices {
    pub programs: Vec<(String, String)>,
    pub contacts: Vec<(String, String)>,
    pub referrers: Vec<(String, String)>,
    pub employees: Vec<(String, String)>,
    pub lead_sources: Vec<(String, String)>,
}

async fn choices(state: &AppState) -> Result<Choices, ApiError> {
    let blank = || ("".to_string(), "Choose…".to_string());
    let mut programs = vec![blank()];
    for p in vouch_app::programs::list(state, None, None, 100).await? {
        programs.push((p.id, format!("{} ({})", p.name, p.currency)));
    }
    let people = |kind| vouch_app::people::list_people(state, Some(kind), None, None, 200);
    let contacts_rows = people(PersonKind::Contact).await?;
    let employees_rows = people(PersonKind::Employee).await?;
    let vendors_rows = people(PersonKind::Vendor).await?;
    let mut contacts = vec![blank()];
    contacts.extend(contacts_rows.iter().map(|p| (p.id.clone(), p.name.clone())));
    let mut employees = vec![("".to_string(), "Nobody".to_string())];
    employees.extend(
        employees_rows
            .iter()
            .map(|p| (p.id.clone(), p.name.clone())),
    );
    let mut referrers = vec![("".to_string(), "Nobody (not a referral)".to_string())];
    for (rows, kind) in [
        (&contacts_rows, "contact"),
        (&employees_rows, "employee"),
        (&vendors_rows, "vendor"),
    ] {
        referrers.extend(
            rows.iter()
                .map(|p| (p.id.clone(), format!("{} ({kind})", p.name))),
        );
    }
    let mut lead_sources = vec![blank()];
    lead_sources.extend(
        LeadSource::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), s.label().to_string())),
    );
    Ok(Choices {
        programs,
        contacts,
        referrers,
        employees,
        lead_sources,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "sales/new.html")]
struct NewPage {
    l: Layout,
    f: SaleForm,
    c: Choices,
    errors: FormErrors,
}

async fn new_page(
    StaffCan(mut console, _): StaffCan<perm::SalesWrite>,
    Query(f): Query<SaleForm>,
) -> Response {
    match choices(&console.state).await {
        Ok(c) => NewPage {
            l: console.layout("sales"),
            f,
            c,
            errors: FormErrors::default(),
        }
        .into_response(),
        Err(e) => error_page(&e),
    }
}

async fn create(
    StaffCan(mut console, _): StaffCan<perm::SalesWrite>,
    CsrfForm(form): CsrfForm<SaleForm>,
) -> Response {
    let result = async {
        let program_currency = match form.program_id.trim() {
            "" => None,
            id => vouch_app::programs::get(&console.state, id)
                .await
                .ok()
                .and_then(|p| Currency::parse(&p.currency).ok()),
        };
        let fields = form.to_fields(program_currency)?;
        svc::create_sale(&console.state, &console.origin, &fields)
            .await
            .map_err(ApiError::from)
    }
    .await;
    match result {
        Ok(s) => {
            console
                .redirect_with(
                    &format!("/admin/sales/{}", s.id),
                    "Sale recorded as a draft. A manager approves it to create its bonuses.",
                )
                .await
        }
        Err(err) if err.status.is_client_error() => match choices(&console.state).await {
            Ok(c) => with_status(
                form_status(&err),
                NewPage {
                    l: console.layout("sales"),
                    errors: FormErrors::from_api(&err, "", SALE_FIELDS),
                    f: form,
                    c,
                },
            ),
            Err(e) => error_page(&e),
        },
        Err(err) => error_page(&err),
    }
}

/// A bonus row on the sale page.
pub struct BonusRow {
    pub bonus: resources::Bonus,
    pub payee: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "sales/show.html")]
struct ShowPage {
    l: Layout,
    v: SaleView,
    customer: String,
    referrer: String,
    generated_by: String,
    bonuses: Vec<BonusRow>,
    can_write: bool,
    can_approve: bool,
    can_pay: bool,
    kinds: Vec<(String, String)>,
    errors: FormErrors,
}

impl ShowPage {
    fn money(&self, amount: impl std::borrow::Borrow<i64>, currency: &str) -> String {
        money_text(*amount.borrow(), currency)
    }

    fn bonus_amount(&self, b: &resources::Bonus) -> String {
        b.amount
            .map_or_else(|| "—".into(), |a| money_text(a, &b.currency))
    }

    fn dates(&self) -> Vec<(&'static str, &'static str, String)> {
        let s = &self.v.sale;
        let text = |d: &Option<String>| d.clone().unwrap_or_default();
        vec![
            ("signed_on", "Signed", text(&s.signed_on)),
            ("job_approved_on", "Job approved", text(&s.job_approved_on)),
            ("installed_on", "Installed", text(&s.installed_on)),
            (
                "revenue_recognized_on",
                "Revenue recognized",
                text(&s.revenue_recognized_on),
            ),
            (
                "permit_closed_on",
                "Permit closed",
                text(&s.permit_closed_on),
            ),
            ("paid_in_full_on", "Paid in full", text(&s.paid_in_full_on)),
        ]
    }
}

async fn load_show(
    console: &mut super::Console,
    id: &str,
    errors: FormErrors,
) -> Result<ShowPage, ApiError> {
    let sale = svc::get_sale(&console.state, id).await?;
    let v = svc::sale_view(&console.state, sale).await?;
    let customer = name_of(&console.state, Some(&v.sale.customer_id), "—").await;
    let referrer = name_of(&console.state, v.sale.referred_by.as_deref(), "—").await;
    let generated_by = name_of(&console.state, v.sale.generated_by.as_deref(), "—").await;
    let mut bonuses = Vec::new();
    for b in &v.bonuses {
        bonuses.push(BonusRow {
            payee: name_of(&console.state, b.payee_id.as_deref(), "—").await,
            bonus: b.clone(),
        });
    }
    let kinds = BonusKind::ALL
        .iter()
        .map(|k| (k.as_str().to_string(), k.label().to_string()))
        .collect();
    Ok(ShowPage {
        l: console.layout("sales"),
        can_write: console.may(Action::SalesWrite),
        can_approve: console.may(Action::SalesApprove),
        can_pay: console.may(Action::PayoutsManage),
        v,
        customer,
        referrer,
        generated_by,
        bonuses,
        kinds,
        errors,
    })
}

async fn show(
    StaffCan(mut console, _): StaffCan<perm::SalesRead>,
    Path(id): Path<String>,
) -> Response {
    match load_show(&mut console, &id, FormErrors::default()).await {
        Ok(p) => p.into_response(),
        Err(e) => error_page(&e),
    }
}

async fn milestones(
    StaffCan(mut console, _): StaffCan<perm::SalesWrite>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<SaleForm>,
) -> Response {
    let result = svc::record_milestones(&console.state, &console.origin, &id, &form.dates())
        .await
        .map_err(ApiError::from);
    match result {
        Ok(_) => {
            console
                .redirect_with(
                    &format!("/admin/sales/{id}"),
                    "Dates recorded. Payments waiting for them have their due dates.",
                )
                .await
        }
        Err(err) if err.status == axum::http::StatusCode::UNPROCESSABLE_ENTITY => {
            let errors = FormErrors::from_api(&err, "", SALE_FIELDS);
            match load_show(&mut console, &id, errors).await {
                Ok(p) => with_status(form_status(&err), p),
                Err(e) => error_page(&e),
            }
        }
        Err(err) => {
            console
                .finish(&format!("/admin/sales/{id}"), Err(err))
                .await
        }
    }
}

async fn approve(
    StaffCan(console, _): StaffCan<perm::SalesApprove>,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Response {
    let outcome = svc::approve_sale(&console.state, &console.origin, &id)
        .await
        .map(|v| match v.bonuses.len() {
            0 => "Sale approved. Its lead source earns no bonus.".to_string(),
            1 => "Sale approved; 1 bonus created. Complete it for review.".to_string(),
            n => format!("Sale approved; {n} bonuses created. Complete them for review."),
        })
        .map_err(ApiError::from);
    console.finish(&format!("/admin/sales/{id}"), outcome).await
}

/// A form with nothing but its CSRF token.
#[derive(Deserialize)]
pub struct Empty {}

#[derive(Deserialize)]
pub struct ReasonForm {
    #[serde(default)]
    reason: String,
}

async fn cancel(
    StaffCan(console, _): StaffCan<perm::SalesApprove>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ReasonForm>,
) -> Response {
    let outcome = svc::cancel_sale(&console.state, &console.origin, &id, &form.reason)
        .await
        .map(|v| {
            let claws = v.clawbacks.len();
            if claws == 0 {
                "Sale cancelled; its unpaid payments were voided.".to_string()
            } else {
                format!("Sale cancelled; unpaid payments voided and {claws} clawback(s) opened for payments already made.")
            }
        })
        .map_err(ApiError::from);
    console.finish(&format!("/admin/sales/{id}"), outcome).await
}

#[derive(Deserialize)]
pub struct AddBonusForm {
    #[serde(default)]
    kind: String,
}

async fn add_bonus(
    StaffCan(console, _): StaffCan<perm::SalesApprove>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<AddBonusForm>,
) -> Response {
    let kind = match form.kind.parse::<BonusKind>() {
        Ok(k) => k,
        Err(m) => {
            return console
                .finish(
                    &format!("/admin/sales/{id}"),
                    Err(ApiError::field("kind", m)),
                )
                .await;
        }
    };
    match vouch_app::bonuses::add_bonus(&console.state, &console.origin, &id, kind, None).await {
        Ok(b) => {
            console
                .redirect_with(
                    &format!("/admin/bonuses/{}", b.id),
                    "Bonus added. Complete it for review.",
                )
                .await
        }
        Err(e) => {
            console
                .finish(&format!("/admin/sales/{id}"), Err(e.into()))
                .await
        }
    }
}
