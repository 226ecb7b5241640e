//! Partner referrals in the console: every referral in both directions (filter by partner,
//! direction, stage and manager; "Mine" for a partner manager's own), one search box, sorting
//! by any column header, totals; send a referral to a partner or record one it made; a
//! referral's page with its history, the edit form and the duplicate decision.

use super::table::{Column, sort_headers};
use super::{CsrfForm, FormErrors, Layout, StaffCan, error_page, form_status, with_status};
use crate::AppState;
use crate::api::partner_referrals::parse_sort;
use crate::auth::perm;
use crate::error::ApiError;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use vouch_app::partner_referrals::{self as svc, EditFields, Side};
use vouch_app::resources::{PartnerReferral, ReferralChange};
use vouch_domain::money::{Currency, Money};
use vouch_domain::partner_referral::{Direction, DuplicateStatus, Need, ReferralFields, Stage};
use vouch_domain::permission::Action;
use vouch_store::partner_referrals::{ReferralQuery, SortKey};
use vouch_store::partners::PartnerFilter;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/partner-referrals", get(list))
        .route("/admin/partner-referrals/new", get(new_page).post(create))
        .route("/admin/partner-referrals/{id}", get(show).post(edit))
        .route(
            "/admin/partner-referrals/{id}/duplicate",
            post(decide_duplicate),
        )
        .route(
            "/admin/partner-referrals/{id}/commission",
            post(decide_commission),
        )
}

const PAGE_SIZE: i64 = 25;

#[derive(Deserialize, Default, Clone)]
struct ListParams {
    #[serde(default)]
    partner_id: String,
    #[serde(default)]
    direction: String,
    #[serde(default)]
    stage: String,
    /// `mine`: allocated to the signed-in staff user.
    #[serde(default)]
    manager: String,
    #[serde(default)]
    duplicates: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    sort: String,
    starting_after: Option<String>,
}

impl ListParams {
    /// This list's address with another sort (and from the first page).
    fn with_sort(&self, sort: &str) -> String {
        let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        format!(
            "/admin/partner-referrals?partner_id={}&direction={}&stage={}&manager={}&duplicates={}&q={}&sort={}",
            enc(&self.partner_id),
            enc(&self.direction),
            enc(&self.stage),
            enc(&self.manager),
            enc(&self.duplicates),
            enc(&self.q),
            enc(sort)
        )
    }
}

/// The table's columns, each linking to its sort (a second click reverses it).
pub fn columns(sort: SortKey, descending: bool, link: impl Fn(&str) -> String) -> Vec<Column> {
    let current = if descending {
        format!("-{}", sort.name())
    } else {
        sort.name().to_string()
    };
    let headers: Vec<(&'static str, &'static str)> = [
        (SortKey::Number, "Number"),
        (SortKey::ClientName, "Client"),
        (SortKey::Company, "Company"),
        (SortKey::Partner, "Partner"),
        (SortKey::Direction, "Direction"),
        (SortKey::Stage, "Stage"),
        (SortKey::Value, "Value"),
        (SortKey::UpdatedAt, "Updated"),
    ]
    .into_iter()
    .map(|(key, label)| (key.name(), label))
    .collect();
    sort_headers(&headers, &current, link)
}

#[derive(Template, WebTemplate)]
#[template(path = "partners/referrals.html")]
struct ListPage {
    l: Layout,
    p: ListParams,
    partners: Vec<(String, String)>,
    columns: Vec<Column>,
    rows: Vec<PartnerReferral>,
    total: i64,
    shown_from: i64,
    next_url: Option<String>,
    can_write: bool,
}

async fn partner_choices(state: &AppState, first: &str) -> Result<Vec<(String, String)>, ApiError> {
    let rows =
        vouch_app::partners::list_partners(state, &PartnerFilter::default(), None, 100).await?;
    Ok(std::iter::once((String::new(), first.to_string()))
        .chain(rows.into_iter().map(|p| (p.id, p.name)))
        .collect())
}

async fn list(
    StaffCan(mut console, _): StaffCan<perm::PartnersRead>,
    Query(p): Query<ListParams>,
) -> Response {
    let me = console.session.user.id.clone();
    let result = async {
        let (sort, descending) = parse_sort(Some(p.sort.as_str()).filter(|s| !s.is_empty()))?;
        let direction = match p.direction.as_str() {
            "" => None,
            d => Some(
                d.parse::<Direction>()
                    .map_err(|m| ApiError::field("direction", m))?,
            ),
        };
        let stage = match p.stage.as_str() {
            "" => None,
            s => Some(
                s.parse::<Stage>()
                    .map_err(|m| ApiError::field("stage", m))?,
            ),
        };
        let query = ReferralQuery {
            partner_id: Some(p.partner_id.as_str()).filter(|s| !s.is_empty()),
            direction,
            stage,
            manager_id: (p.manager == "mine").then_some(me.as_str()),
            duplicate_status: (p.duplicates == "suspected").then_some(DuplicateStatus::Suspected),
            search: Some(p.q.as_str()),
        };
        let found = svc::list(
            &console.state,
            &Side::Staff(&console.origin),
            &query,
            sort,
            descending,
            p.starting_after.as_deref(),
            PAGE_SIZE,
        )
        .await?;
        let partners = partner_choices(&console.state, "Every partner").await?;
        Ok::<_, ApiError>((found, partners, sort, descending))
    }
    .await;
    let (found, partners, sort, descending) = match result {
        Ok(r) => r,
        Err(e) => return error_page(&e),
    };
    let next_url = found
        .has_more
        .then(|| found.rows.last().map(|r| r.id.clone()))
        .flatten()
        .map(|after| {
            format!(
                "{}&starting_after={after}",
                p.with_sort(&if descending {
                    format!("-{}", sort.name())
                } else {
                    sort.name().to_string()
                })
            )
        });
    ListPage {
        can_write: console.may(Action::PartnersWrite),
        l: console.layout("partners"),
        columns: columns(sort, descending, |s| p.with_sort(s)),
        shown_from: if p.starting_after.is_some() { 0 } else { 1 },
        total: found.total,
        rows: found.rows,
        partners,
        next_url,
        p,
    }
    .into_response()
}

/// The referral form as the browser sends it: the value as people type it.
#[derive(Deserialize, Default, Clone)]
pub struct ReferralForm {
    #[serde(default)]
    pub(crate) partner_id: String,
    #[serde(default)]
    pub(crate) direction: String,
    #[serde(default)]
    pub(crate) client_name: String,
    #[serde(default)]
    pub(crate) company: String,
    #[serde(default)]
    pub(crate) email: String,
    #[serde(default)]
    pub(crate) phone: String,
    #[serde(default)]
    pub(crate) website: String,
    #[serde(default)]
    pub(crate) plan_advice: Option<String>,
    #[serde(default)]
    pub(crate) requirements: Option<String>,
    #[serde(default)]
    pub(crate) questions: Option<String>,
    #[serde(default)]
    pub(crate) joint_demo: Option<String>,
    #[serde(default)]
    pub(crate) notes: String,
    #[serde(default)]
    pub(crate) value: String,
    #[serde(default)]
    pub(crate) currency: String,
}

impl ReferralForm {
    pub fn needs(&self) -> Vec<String> {
        [
            (Need::PlanAdvice, &self.plan_advice),
            (Need::Requirements, &self.requirements),
            (Need::Questions, &self.questions),
            (Need::JointDemo, &self.joint_demo),
        ]
        .into_iter()
        .filter(|(_, on)| super::ticked(on))
        .map(|(n, _)| n.as_str().to_string())
        .collect()
    }

    pub fn needs_on(&self, need: &str) -> bool {
        self.needs().iter().any(|n| n == need)
    }

    /// An empty form with a currency for the value.
    pub fn with_currency(currency: &str) -> Self {
        Self {
            currency: currency.into(),
            ..Default::default()
        }
    }

    /// The client's details as the application takes them (the partner and direction are
    /// the caller's).
    pub fn client_fields(&self) -> Result<ReferralFields, ApiError> {
        Ok(ReferralFields {
            client_name: self.client_name.clone(),
            company: self.company.clone(),
            email: self.email.clone(),
            phone: self.phone.clone(),
            website: self.website.clone(),
            needs: self.needs(),
            notes: self.notes.clone(),
            value: major_value(&self.value, &self.currency)?,
            currency: self.currency.clone(),
        })
    }
}

/// A value typed in major units (`2500.00`), in minor units of its currency; empty is none.
pub fn major_value(raw: &str, currency: &str) -> Result<Option<i64>, ApiError> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    let currency = Currency::parse(currency.trim()).map_err(|m| ApiError::field("currency", m))?;
    Money::parse_major(raw, currency)
        .map(|m| Some(m.minor()))
        .map_err(|e| ApiError::field("value", e.to_string()))
}

pub const REFERRAL_FIELDS: &[&str] = &[
    "partner_id",
    "direction",
    "client_name",
    "company",
    "email",
    "phone",
    "website",
    "needs",
    "notes",
    "value",
    "currency",
];

#[derive(Template, WebTemplate)]
#[template(path = "partners/referral_new.html")]
struct NewPage {
    l: Layout,
    f: ReferralForm,
    partners: Vec<(String, String)>,
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
    let partners = match partner_choices(&console.state, "Choose…").await {
        Ok(p) => p,
        Err(e) => return error_page(&e),
    };
    NewPage {
        l: console.layout("partners"),
        f: ReferralForm {
            partner_id: q.partner_id,
            direction: "to_partner".into(),
            currency: "USD".into(),
            ..Default::default()
        },
        partners,
        errors: FormErrors::default(),
    }
    .into_response()
}

async fn create(
    StaffCan(mut console, _): StaffCan<perm::PartnersWrite>,
    CsrfForm(form): CsrfForm<ReferralForm>,
) -> Response {
    let result = async {
        if form.partner_id.trim().is_empty() {
            return Err(ApiError::field("partner_id", "choose a partner"));
        }
        let direction: Direction = form
            .direction
            .parse()
            .map_err(|m: String| ApiError::field("direction", m))?;
        let fields = form.client_fields()?;
        svc::create(
            &console.state,
            &Side::Staff(&console.origin),
            form.partner_id.trim(),
            direction,
            &fields,
        )
        .await
        .map_err(ApiError::from)
    }
    .await;
    match result {
        Ok(r) => {
            console
                .redirect_with(
                    &format!("/admin/partner-referrals/{}", r.id),
                    &format!("Referral {} recorded.", r.reference),
                )
                .await
        }
        Err(err) if err.status.is_client_error() && err.status.as_u16() != 404 => {
            let partners = match partner_choices(&console.state, "Choose…").await {
                Ok(p) => p,
                Err(e) => return error_page(&e),
            };
            with_status(
                form_status(&err),
                NewPage {
                    l: console.layout("partners"),
                    errors: FormErrors::from_api(&err, "", REFERRAL_FIELDS),
                    f: form,
                    partners,
                },
            )
        }
        Err(err) => error_page(&err),
    }
}

/// The edit form: notes, stage and value as people type them.
#[derive(Deserialize, Default, Clone)]
pub struct EditForm {
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub stage: String,
    #[serde(default)]
    pub value: String,
    #[serde(default)]
    pub currency: String,
}

impl EditForm {
    pub fn of(r: &PartnerReferral) -> Self {
        Self {
            notes: r.notes.clone().unwrap_or_default(),
            stage: r.stage.as_str().to_string(),
            value: match (r.value, &r.currency) {
                (Some(v), Some(c)) => Currency::parse(c)
                    .map(|c| Money::new(v, c).major_text())
                    .unwrap_or_default(),
                _ => String::new(),
            },
            currency: r.currency.clone().unwrap_or_else(|| "USD".into()),
        }
    }

    pub fn fields(&self) -> Result<EditFields, ApiError> {
        let stage = self
            .stage
            .parse::<Stage>()
            .map_err(|m| ApiError::field("stage", m))?;
        Ok(EditFields {
            notes: Some(self.notes.clone()),
            stage: Some(stage),
            value: Some(major_value(&self.value, &self.currency)?),
            currency: Some(self.currency.clone()).filter(|c| !c.trim().is_empty()),
        })
    }
}

pub const EDIT_FIELDS: &[&str] = &["notes", "stage", "value", "currency"];

#[derive(Template, WebTemplate)]
#[template(path = "partners/referral.html")]
struct ShowPage {
    l: Layout,
    r: PartnerReferral,
    history: Vec<ReferralChange>,
    /// The partner's commission on it, once won with a value.
    commission: Option<vouch_app::resources::Commission>,
    /// Whether the signed-in user may approve or reject commissions (a manager's).
    can_decide: bool,
    f: EditForm,
    errors: FormErrors,
    can_write: bool,
}

async fn show_page(
    console: &mut super::Console,
    id: &str,
    form: Option<EditForm>,
    errors: FormErrors,
) -> Result<ShowPage, ApiError> {
    let (r, history) = svc::get(&console.state, &Side::Staff(&console.origin), id).await?;
    let commission = vouch_app::commissions::of_referral(&console.state, id).await?;
    Ok(ShowPage {
        commission,
        can_decide: console.may(Action::SalesApprove),
        can_write: console.may(Action::PartnersWrite),
        l: console.layout("partners"),
        f: form.unwrap_or_else(|| EditForm::of(&r)),
        r,
        history,
        errors,
    })
}

impl ShowPage {
    /// `USD 310.00 (10 % of USD 3100.00)`.
    fn commission_text(&self) -> String {
        let Some(c) = &self.commission else {
            return String::new();
        };
        let amount = crate::view::money(c.amount, &c.currency);
        match c.percentage_bps {
            Some(bps) => format!(
                "{amount} ({} of {})",
                vouch_domain::money::BasisPoints(u32::try_from(bps).unwrap_or(0)).percent_text(),
                crate::view::money(c.referral_value, &c.referral_currency)
            ),
            None => format!("{amount} (fixed)"),
        }
    }
}

async fn show(
    StaffCan(mut console, _): StaffCan<perm::PartnersRead>,
    Path(id): Path<String>,
) -> Response {
    match show_page(&mut console, &id, None, FormErrors::default()).await {
        Ok(page) => page.into_response(),
        Err(e) => error_page(&e),
    }
}

async fn edit(
    StaffCan(mut console, _): StaffCan<perm::PartnersWrite>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<EditForm>,
) -> Response {
    let result = async {
        let fields = form.fields()?;
        svc::edit(&console.state, &Side::Staff(&console.origin), &id, &fields)
            .await
            .map_err(ApiError::from)
    }
    .await;
    match result {
        Ok(r) => {
            console
                .redirect_with(
                    &format!("/admin/partner-referrals/{id}"),
                    &format!("Referral {} saved.", r.reference),
                )
                .await
        }
        Err(err) if err.status.is_client_error() && err.status.as_u16() != 404 => {
            let errors = FormErrors::from_api(&err, "", EDIT_FIELDS);
            match show_page(&mut console, &id, Some(form), errors).await {
                Ok(page) => with_status(form_status(&err), page),
                Err(e) => error_page(&e),
            }
        }
        Err(err) => error_page(&err),
    }
}

#[derive(Deserialize, Default)]
struct DuplicateForm {
    #[serde(default)]
    decision: String,
}

async fn decide_duplicate(
    StaffCan(console, _): StaffCan<perm::PartnersWrite>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<DuplicateForm>,
) -> Response {
    let outcome = async {
        let decision = match form.decision.as_str() {
            "confirmed" => DuplicateStatus::Confirmed,
            "cleared" => DuplicateStatus::Cleared,
            _ => return Err(ApiError::field("decision", "must be confirmed or cleared")),
        };
        svc::decide_duplicate(&console.state, &console.origin, &id, decision)
            .await
            .map(|r| format!("Marked: {}.", r.duplicate_status.label()))
            .map_err(ApiError::from)
    }
    .await;
    console
        .finish(&format!("/admin/partner-referrals/{id}"), outcome)
        .await
}

#[derive(Deserialize, Default)]
struct CommissionForm {
    #[serde(default)]
    decision: String,
    /// The commission the manager saw: a different one (re-created meanwhile) is refused.
    #[serde(default)]
    commission_id: String,
}

/// A manager approves (its payment falls due in the payables ledger) or rejects the
/// referral's commission.
async fn decide_commission(
    StaffCan(console, _): StaffCan<perm::SalesApprove>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<CommissionForm>,
) -> Response {
    let outcome = async {
        let commission = vouch_app::commissions::of_referral(&console.state, &id)
            .await?
            .ok_or_else(|| ApiError::not_found("commission"))?;
        if commission.id != form.commission_id {
            return Err(ApiError::conflict(
                "invalid_transition",
                "the commission changed since the page was shown; reload it and decide again",
            ));
        }
        let decided = match form.decision.as_str() {
            "approve" => {
                vouch_app::commissions::approve(&console.state, &console.origin, &commission.id)
                    .await?
            }
            "reject" => {
                vouch_app::commissions::reject(&console.state, &console.origin, &commission.id)
                    .await?
            }
            _ => return Err(ApiError::field("decision", "must be approve or reject")),
        };
        Ok(format!(
            "Commission {}.",
            decided.status.label().to_lowercase()
        ))
    }
    .await;
    console
        .finish(&format!("/admin/partner-referrals/{id}"), outcome)
        .await
}
