//! Bonuses in the console: the review queue with bulk decisions, the step-by-step completion
//! wizard (payee and method → basis and amount → pay terms → review), a manager's decision,
//! and splitting an approved bonus into payments.

use super::people::name_of;
use super::sales::{MILESTONES, money_text};
use super::{CsrfForm, FormErrors, Layout, StaffCan, error_page, with_status};
use crate::AppState;
use crate::auth::perm;
use crate::error::ApiError;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use std::collections::HashMap;
use vouch_app::bonuses::{self as svc, BonusPatch, BonusView, Decision, Split};
use vouch_app::resources;
use vouch_domain::bonus::{BonusStatus, Milestone, PaymentMethod};
use vouch_domain::money::{BasisPoints, Currency, Money};
use vouch_domain::permission::Action;
use vouch_store::bonuses::BonusFilter;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/bonuses", get(queue))
        .route("/admin/bonuses/decide", post(decide_many))
        .route("/admin/bonuses/{id}", get(show))
        .route("/admin/bonuses/{id}/step", post(save_step))
        .route("/admin/bonuses/{id}/submit", post(submit))
        .route("/admin/bonuses/{id}/decide", post(decide))
        .route("/admin/bonuses/{id}/split", post(split))
}

/// The wizard's steps: key, title, and the fields each asks for.
pub const STEPS: &[(&str, &str, &[&str])] = &[
    (
        "payee",
        "Payee and payment method",
        &["payee_id", "payment_method"],
    ),
    (
        "basis",
        "Basis and amount",
        &["basis", "percentage", "fixed_amount", "currency"],
    ),
    (
        "terms",
        "Pay terms",
        &["front_term", "back_term", "front_share"],
    ),
    ("review", "Review and submit", &[]),
];

/// The wizard's name for an API field.
fn form_field(api: &str) -> &str {
    match api {
        "percentage_bps" => "percentage",
        "front_share_bps" => "front_share",
        other => other,
    }
}

#[derive(Deserialize, Default)]
struct QueueParams {
    status: Option<String>,
    starting_after: Option<String>,
}

pub struct QueueRow {
    pub bonus: resources::Bonus,
    pub payee: String,
    pub sale_amount: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "sales/bonuses.html")]
struct QueuePage {
    l: Layout,
    status: String,
    rows: Vec<QueueRow>,
    /// "3 bonuses, $1,200.00 in all." for the whole filter.
    totals: String,
    next_url: Option<String>,
    can_decide: bool,
}

impl QueuePage {
    fn amount(&self, b: &resources::Bonus) -> String {
        b.amount
            .map_or_else(|| "—".into(), |a| money_text(a, &b.currency))
    }
}

const PAGE_SIZE: i64 = 50;

async fn queue(
    StaffCan(mut console, _): StaffCan<perm::SalesRead>,
    Query(p): Query<QueueParams>,
) -> Response {
    let status_text = p.status.unwrap_or_else(|| "ready_for_review".into());
    let status = match status_text.as_str() {
        "" => None,
        s => match s.parse::<BonusStatus>() {
            Ok(s) => Some(s),
            Err(m) => return error_page(&ApiError::field("status", m)),
        },
    };
    let filter = BonusFilter {
        status,
        ..Default::default()
    };
    let mut rows = match svc::list_bonuses(
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
    let totals = match svc::bonus_totals(&console.state, &filter).await {
        Ok(t) => crate::view::totals(&t, "bonus", "bonuses"),
        Err(e) => return error_page(&e.into()),
    };
    let has_more = rows.len() > PAGE_SIZE as usize;
    rows.truncate(PAGE_SIZE as usize);
    let next_url = has_more
        .then(|| {
            rows.last().map(|b| {
                format!(
                    "/admin/bonuses?status={status_text}&starting_after={}",
                    b.id
                )
            })
        })
        .flatten();
    let mut out = Vec::new();
    for b in rows {
        let payee = name_of(&console.state, b.payee_id.as_deref(), "not chosen yet").await;
        let sale_amount = vouch_app::sales::get_sale(&console.state, &b.sale_id)
            .await
            .map(|s| money_text(s.amount.minor(), s.amount.currency().as_str()))
            .unwrap_or_default();
        out.push(QueueRow {
            bonus: b.into(),
            payee,
            sale_amount,
        });
    }
    let can_decide = console.may(Action::SalesApprove);
    QueuePage {
        l: console.layout("sales"),
        status: status_text,
        rows: out,
        totals,
        next_url,
        can_decide,
    }
    .into_response()
}

async fn decide_many(
    StaffCan(console, _): StaffCan<perm::SalesApprove>,
    CsrfForm(form): CsrfForm<HashMap<String, String>>,
) -> Response {
    let ids = super::picked_ids(&form);
    let decision = match form.get("decision").map(String::as_str) {
        Some("approve") => Decision::Approve,
        Some("reject") => Decision::Reject,
        _ => {
            return console
                .finish(
                    "/admin/bonuses",
                    Err(ApiError::field("decision", "choose approve or reject")),
                )
                .await;
        }
    };
    if ids.is_empty() {
        return console
            .finish(
                "/admin/bonuses",
                Err(ApiError::field("ids", "tick at least one bonus")),
            )
            .await;
    }
    let reason = form.get("reason").cloned().unwrap_or_default();
    let outcome = svc::decide_many(&console.state, &console.origin, &ids, decision, &reason)
        .await
        .map(|outcomes| {
            let done = outcomes.iter().filter(|o| o.ok).count();
            let refused: Vec<String> = outcomes
                .iter()
                .filter(|o| !o.ok)
                .map(|o| o.error.clone().unwrap_or_default())
                .collect();
            let verb = if decision == Decision::Approve {
                "approved"
            } else {
                "rejected"
            };
            if refused.is_empty() {
                format!("{done} bonus(es) {verb}.")
            } else {
                format!(
                    "{done} bonus(es) {verb}; {} not: {}",
                    refused.len(),
                    refused.join("; ")
                )
            }
        })
        .map_err(ApiError::from);
    console.finish("/admin/bonuses", outcome).await
}

/// The wizard's fields as the browser sends them, every step's (a step sends its own).
#[derive(Deserialize, Default, Clone)]
pub struct WizardForm {
    #[serde(default)]
    step: String,
    #[serde(default)]
    payee_id: String,
    #[serde(default)]
    payment_method: String,
    #[serde(default)]
    basis: String,
    #[serde(default)]
    percentage: String,
    #[serde(default)]
    fixed_amount: String,
    #[serde(default)]
    front_term: String,
    #[serde(default)]
    back_term: String,
    #[serde(default)]
    front_share: String,
}

impl WizardForm {
    fn from_view(v: &BonusView) -> Self {
        let b = &v.bonus;
        let currency = Currency::parse(&b.currency).ok();
        Self {
            step: String::new(),
            payee_id: b.payee_id.clone().unwrap_or_default(),
            payment_method: b
                .payment_method
                .map(|m| m.as_str().to_string())
                .unwrap_or_default(),
            basis: if b.fixed_amount.is_some() {
                "fixed".into()
            } else if b.percentage_bps.is_some() {
                "percentage".into()
            } else {
                String::new()
            },
            percentage: b
                .percentage_bps
                .and_then(|x| u32::try_from(x).ok())
                .map(|x| super::people::percent_value(BasisPoints(x)))
                .unwrap_or_default(),
            fixed_amount: match (b.fixed_amount, currency) {
                (Some(a), Some(c)) => Money::new(a, c).major_text(),
                _ => String::new(),
            },
            front_term: b
                .front_term
                .map(|m| m.as_str().to_string())
                .unwrap_or_default(),
            back_term: match (b.back_term, b.front_term) {
                (Some(m), _) => m.as_str().to_string(),
                (None, Some(_)) => "not_applicable".into(),
                (None, None) => String::new(),
            },
            front_share: b
                .front_share_bps
                .and_then(|x| u32::try_from(x).ok())
                .map(|x| super::people::percent_value(BasisPoints(x)))
                .unwrap_or_default(),
        }
    }

    /// The change this step makes, its amounts typed in major units of `currency`.
    fn patch(&self, currency: Currency) -> Result<BonusPatch, ApiError> {
        let mut errors = Vec::new();
        let mut bad = |field: &str, message: String| {
            errors.push(vouch_domain::FieldError {
                field: field.into(),
                message,
            })
        };
        let mut patch = BonusPatch::default();
        match self.step.as_str() {
            "payee" => {
                if self.payee_id.is_empty() {
                    bad("payee_id", "choose who receives the bonus".into());
                } else {
                    patch.payee_id = Some(self.payee_id.clone());
                }
                match self.payment_method.parse::<PaymentMethod>() {
                    Ok(m) => patch.payment_method = Some(m),
                    Err(_) => bad("payment_method", "choose how the payee is paid".into()),
                }
            }
            "basis" => match self.basis.as_str() {
                "percentage" => match BasisPoints::parse_percent(&self.percentage) {
                    Ok(bp) => patch.percentage_bps = Some(i64::from(bp.0)),
                    Err(m) => bad("percentage", m),
                },
                "fixed" => match Money::parse_major(&self.fixed_amount, currency) {
                    Ok(m) => patch.fixed_amount = Some(m.minor()),
                    Err(e) => bad("fixed_amount", e.to_string()),
                },
                _ => bad(
                    "basis",
                    "choose a percentage of the sale or a fixed amount".into(),
                ),
            },
            "terms" => {
                match self.front_term.parse::<Milestone>() {
                    Ok(m) => patch.front_term = Some(m),
                    Err(_) => bad(
                        "front_term",
                        "choose when the front payment falls due".into(),
                    ),
                }
                patch.back_term = match self.back_term.as_str() {
                    "" | "not_applicable" => Some(None),
                    other => match other.parse::<Milestone>() {
                        Ok(m) => Some(Some(m)),
                        Err(m) => {
                            bad("back_term", m);
                            None
                        }
                    },
                };
                let share = if self.front_share.trim().is_empty() {
                    "100"
                } else {
                    self.front_share.as_str()
                };
                match BasisPoints::parse_percent(share) {
                    Ok(bp) => patch.front_share_bps = Some(i64::from(bp.0)),
                    Err(m) => bad("front_share", m),
                }
            }
            _ => bad("step", "unknown step".into()),
        }
        if errors.is_empty() {
            Ok(patch)
        } else {
            Err(ApiError::invalid(errors))
        }
    }
}

#[derive(Deserialize, Default)]
struct ShowParams {
    #[serde(default)]
    step: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "sales/bonus.html")]
struct BonusPage {
    l: Layout,
    v: BonusView,
    sale: resources::Sale,
    payee: String,
    step: String,
    f: WizardForm,
    errors: FormErrors,
    people: Vec<(String, String)>,
    can_write: bool,
    can_decide: bool,
}

impl BonusPage {
    fn money(&self, amount: impl std::borrow::Borrow<i64>, currency: &str) -> String {
        money_text(*amount.borrow(), currency)
    }

    fn amount(&self) -> String {
        self.v.bonus.amount.map_or_else(
            || "not known yet".into(),
            |a| money_text(a, &self.v.bonus.currency),
        )
    }

    /// Whether a step still lacks something review needs.
    fn step_missing(&self, fields: &[&str]) -> bool {
        self.v
            .missing
            .iter()
            .any(|e| fields.contains(&form_field(&e.field)))
    }

    fn step_number(&self) -> usize {
        STEPS
            .iter()
            .position(|(k, _, _)| *k == self.step)
            .map_or(1, |i| i + 1)
    }

    fn missing_text(&self) -> Vec<String> {
        self.v
            .missing
            .iter()
            .map(|e| format!("{}: {}", form_field(&e.field).replace('_', " "), e.message))
            .collect()
    }

    fn terms_text(&self) -> String {
        let b = &self.v.bonus;
        super::people::describe_terms(&vouch_domain::person::TermsFields {
            percentage_bps: b.percentage_bps,
            fixed_amount: b.fixed_amount,
            currency: Some(b.currency.clone()),
            front_term: b.front_term,
            back_term: b.back_term,
            front_share_bps: b.front_share_bps,
        })
    }
}

async fn load(
    console: &mut super::Console,
    id: &str,
    step: &str,
    form: Option<WizardForm>,
    errors: FormErrors,
) -> Result<BonusPage, ApiError> {
    let bonus = svc::get_bonus(&console.state, id).await?;
    let v = svc::bonus_view(&console.state, bonus).await?;
    let sale = vouch_app::sales::get_sale(&console.state, &v.bonus.sale_id).await?;
    let payee = name_of(
        &console.state,
        v.bonus.payee_id.as_deref(),
        "not chosen yet",
    )
    .await;
    // The first step with something missing, or review.
    let step = if step.is_empty() {
        STEPS
            .iter()
            .find(|(_, _, fields)| {
                v.missing
                    .iter()
                    .any(|e| fields.contains(&form_field(&e.field)))
            })
            .map_or("review", |(k, _, _)| k)
            .to_string()
    } else {
        step.to_string()
    };
    let mut people = vec![("".to_string(), "Choose…".to_string())];
    for p in vouch_app::people::list_people(&console.state, None, None, None, 200).await? {
        people.push((p.id.clone(), format!("{} ({})", p.name, p.kind.as_str())));
    }
    let f = form.unwrap_or_else(|| WizardForm::from_view(&v));
    Ok(BonusPage {
        l: console.layout("sales"),
        can_write: console.may(Action::SalesWrite),
        can_decide: console.may(Action::SalesApprove),
        sale: sale.into(),
        v,
        payee,
        step,
        f,
        errors,
        people,
    })
}

async fn show(
    StaffCan(mut console, _): StaffCan<perm::SalesRead>,
    Path(id): Path<String>,
    Query(p): Query<ShowParams>,
) -> Response {
    match load(&mut console, &id, &p.step, None, FormErrors::default()).await {
        Ok(page) => page.into_response(),
        Err(e) => error_page(&e),
    }
}

const WIZARD_FIELDS: &[&str] = &[
    "payee_id",
    "payment_method",
    "basis",
    "percentage",
    "fixed_amount",
    "currency",
    "front_term",
    "back_term",
    "front_share",
];

fn wizard_errors(mut err: ApiError) -> FormErrors {
    for e in &mut err.errors {
        e.field = form_field(&e.field).to_string();
    }
    FormErrors::from_api(&err, "", WIZARD_FIELDS)
}

async fn save_step(
    StaffCan(mut console, _): StaffCan<perm::SalesWrite>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<WizardForm>,
) -> Response {
    let result = async {
        let bonus = svc::get_bonus(&console.state, &id).await?;
        let patch = form.patch(bonus.currency)?;
        svc::update_bonus(&console.state, &console.origin, &id, patch)
            .await
            .map_err(ApiError::from)
    }
    .await;
    match result {
        Ok(_) => {
            let next = STEPS
                .iter()
                .position(|(k, _, _)| *k == form.step)
                .and_then(|i| STEPS.get(i + 1))
                .map_or("review", |(k, _, _)| k);
            axum::response::Redirect::to(&format!("/admin/bonuses/{id}?step={next}"))
                .into_response()
        }
        Err(err) if err.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let step = form.step.clone();
            match load(&mut console, &id, &step, Some(form), wizard_errors(err)).await {
                Ok(page) => with_status(StatusCode::UNPROCESSABLE_ENTITY, page),
                Err(e) => error_page(&e),
            }
        }
        Err(err) => {
            console
                .finish(&format!("/admin/bonuses/{id}"), Err(err))
                .await
        }
    }
}

async fn submit(
    StaffCan(mut console, _): StaffCan<perm::SalesWrite>,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<super::sales::Empty>,
) -> Response {
    match svc::submit_bonus(&console.state, &console.origin, &id).await {
        Ok(_) => {
            console
                .redirect_with(
                    &format!("/admin/bonuses/{id}"),
                    "Submitted for review. Another manager approves it.",
                )
                .await
        }
        Err(e) => {
            let err = ApiError::from(e);
            if err.status == StatusCode::UNPROCESSABLE_ENTITY {
                match load(&mut console, &id, "review", None, wizard_errors(err)).await {
                    Ok(page) => with_status(StatusCode::UNPROCESSABLE_ENTITY, page),
                    Err(e) => error_page(&e),
                }
            } else {
                console
                    .finish(&format!("/admin/bonuses/{id}"), Err(err))
                    .await
            }
        }
    }
}

#[derive(Deserialize)]
struct DecideForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
}

async fn decide(
    StaffCan(console, _): StaffCan<perm::SalesApprove>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<DecideForm>,
) -> Response {
    let back = format!("/admin/bonuses/{id}");
    let outcome = match form.decision.as_str() {
        "approve" => svc::approve_bonus(&console.state, &console.origin, &id)
            .await
            .map(|_| "Bonus approved; its payments are in the ledger.".to_string()),
        "reject" => svc::reject_bonus(&console.state, &console.origin, &id, &form.reason)
            .await
            .map(|_| "Bonus rejected.".to_string()),
        _ => {
            return console
                .finish(
                    &back,
                    Err(ApiError::field("decision", "choose approve or reject")),
                )
                .await;
        }
    }
    .map_err(ApiError::from);
    console.finish(&back, outcome).await
}

#[derive(Deserialize, Default)]
struct SplitForm {
    /// `equal`, `percentage` or `amount`.
    #[serde(default)]
    by: String,
    #[serde(default)]
    count: String,
    /// One part per line: a percentage or an amount, optionally `@ term` (e.g. `50 @ install_date`).
    #[serde(default)]
    parts: String,
}

impl SplitForm {
    fn to_split(&self, currency: Currency) -> Result<Split, ApiError> {
        let mut lines: Vec<(&str, Option<Milestone>)> = Vec::new();
        for l in self.parts.lines().map(str::trim).filter(|l| !l.is_empty()) {
            lines.push(match l.split_once('@') {
                // A mistyped term must not quietly become the front term.
                Some((v, t)) => (
                    v.trim(),
                    Some(
                        t.trim()
                            .parse::<Milestone>()
                            .map_err(|m| ApiError::field("parts", format!("{l}: the term {m}")))?,
                    ),
                ),
                None => (l, None),
            });
        }
        match self.by.as_str() {
            "equal" => {
                let parts = self
                    .count
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=100).contains(n))
                    .ok_or_else(|| {
                        ApiError::field("count", "give a number of payments from 1 to 100")
                    })?;
                Ok(Split::Equal { parts, term: None })
            }
            "percentage" => {
                let mut out = Vec::new();
                for (v, t) in lines {
                    let bp = BasisPoints::parse_percent(v)
                        .map_err(|m| ApiError::field("parts", format!("{v}: {m}")))?;
                    out.push((bp, t));
                }
                Ok(Split::Percentages(out))
            }
            "amount" => {
                let mut out = Vec::new();
                for (v, t) in lines {
                    let m = Money::parse_major(v, currency)
                        .map_err(|e| ApiError::field("parts", format!("{v}: {e}")))?;
                    out.push((m.minor(), t));
                }
                Ok(Split::Amounts(out))
            }
            _ => Err(ApiError::field("by", "choose how to split")),
        }
    }
}

async fn split(
    StaffCan(console, _): StaffCan<perm::SalesApprove>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<SplitForm>,
) -> Response {
    let back = format!("/admin/bonuses/{id}");
    let outcome = async {
        let bonus = svc::get_bonus(&console.state, &id).await?;
        let split = form.to_split(bonus.currency)?;
        svc::split_bonus(&console.state, &console.origin, &id, split)
            .await
            .map_err(ApiError::from)
    }
    .await
    .map(|ps| {
        let live = ps
            .iter()
            .filter(|p| p.status != vouch_domain::bonus::PaymentStatus::Voided)
            .count();
        format!("Split into {live} payment(s); they sum to the bonus.")
    });
    console.finish(&back, outcome).await
}

/// For templates: the milestone choices.
pub fn milestones() -> &'static [(&'static str, &'static str)] {
    MILESTONES
}
