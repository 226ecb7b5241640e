//! People who refer sales in the console: list and search, add, view with the terms in force,
//! their history and their statement; managers agree terms.

use super::{CsrfForm, FormErrors, Layout, StaffCan, error_page, form_status, with_status};
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
use vouch_app::payouts::Statement;
use vouch_app::people::{self as svc, PersonView};
use vouch_app::resources::BonusTerms;
use vouch_domain::bonus::Milestone;
use vouch_domain::money::{BasisPoints, Currency, Money};
use vouch_domain::permission::Action;
use vouch_domain::person::{PersonFields, PersonKind, TermsFields};

/// A person's name for a page, `none` when there is no one, or the id if they went away.
pub async fn name_of(state: &AppState, id: Option<&str>, none: &str) -> String {
    match id {
        None => none.into(),
        Some(id) => svc::get_person(state, id)
            .await
            .map_or_else(|_| id.to_string(), |p| p.name),
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/people", get(list))
        .route("/admin/people/new", get(new_page).post(create))
        .route("/admin/people/import", get(import_page).post(import))
        .route("/admin/people/{id}", get(show))
        .route("/admin/people/{id}/terms", post(set_terms))
}

const PAGE_SIZE: i64 = 25;

#[derive(Deserialize, Default)]
struct ListParams {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    q: String,
    starting_after: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "sales/people.html")]
struct ListPage {
    l: Layout,
    kind: String,
    q: String,
    rows: Vec<PersonView>,
    next_url: Option<String>,
    can_write: bool,
}

async fn list(
    StaffCan(mut console, _): StaffCan<perm::PeopleRead>,
    Query(p): Query<ListParams>,
) -> Response {
    let kind = match p.kind.as_str() {
        "" => None,
        k => match k.parse::<PersonKind>() {
            Ok(k) => Some(k),
            Err(m) => return error_page(&ApiError::field("kind", m)),
        },
    };
    let result = async {
        let mut rows = svc::list_people(
            &console.state,
            kind,
            Some(p.q.as_str()),
            p.starting_after.as_deref(),
            PAGE_SIZE,
        )
        .await?;
        let has_more = rows.len() > PAGE_SIZE as usize;
        rows.truncate(PAGE_SIZE as usize);
        let next = has_more
            .then(|| rows.last().map(|r| r.id.clone()))
            .flatten();
        let mut views = Vec::with_capacity(rows.len());
        for r in rows {
            views.push(svc::person_view(&console.state, r).await?);
        }
        Ok::<_, vouch_app::AppError>((views, next))
    }
    .await;
    let (rows, next) = match result {
        Ok(r) => r,
        Err(e) => return error_page(&e.into()),
    };
    let next_url = next.map(|id| {
        format!(
            "/admin/people?kind={}&q={}&starting_after={id}",
            p.kind,
            form_urlencoded::byte_serialize(p.q.as_bytes()).collect::<String>()
        )
    });
    let can_write = console.may(Action::PeopleWrite);
    ListPage {
        l: console.layout("sales"),
        kind: p.kind,
        q: p.q,
        rows,
        next_url,
        can_write,
    }
    .into_response()
}

/// The add-a-person form as the browser sends it.
#[derive(Deserialize, Default, Clone)]
pub struct PersonForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    company: String,
    #[serde(default)]
    employee_number: String,
    #[serde(default)]
    notes: String,
}

const PERSON_FIELDS: &[&str] = &[
    "kind",
    "name",
    "email",
    "phone",
    "company",
    "employee_number",
    "notes",
];

#[derive(Template, WebTemplate)]
#[template(path = "sales/person_new.html")]
struct NewPage {
    l: Layout,
    f: PersonForm,
    errors: FormErrors,
}

async fn new_page(
    StaffCan(mut console, _): StaffCan<perm::PeopleWrite>,
    Query(f): Query<PersonForm>,
) -> Response {
    NewPage {
        l: console.layout("sales"),
        f,
        errors: FormErrors::default(),
    }
    .into_response()
}

async fn create(
    StaffCan(mut console, _): StaffCan<perm::PeopleWrite>,
    CsrfForm(form): CsrfForm<PersonForm>,
) -> Response {
    let result = async {
        let kind: PersonKind = form
            .kind
            .parse()
            .map_err(|m: String| ApiError::field("kind", m))?;
        let fields = PersonFields {
            name: form.name.clone(),
            email: form.email.clone(),
            phone: form.phone.clone(),
            company: form.company.clone(),
            employee_number: form.employee_number.clone(),
            notes: form.notes.clone(),
        };
        svc::create_person(&console.state, &console.origin, kind, &fields)
            .await
            .map_err(ApiError::from)
    }
    .await;
    match result {
        Ok(p) => {
            console
                .redirect_with(&format!("/admin/people/{}", p.id), "Person added.")
                .await
        }
        Err(err) if err.status.is_client_error() => with_status(
            form_status(&err),
            NewPage {
                l: console.layout("sales"),
                errors: FormErrors::from_api(&err, "", PERSON_FIELDS),
                f: form,
            },
        ),
        Err(err) => error_page(&err),
    }
}

/// The terms form as the browser sends it: money and percentages as people type them.
#[derive(Deserialize, Default, Clone)]
pub struct TermsForm {
    /// `percentage` or `fixed`.
    #[serde(default)]
    pub basis: String,
    #[serde(default)]
    pub percentage: String,
    #[serde(default)]
    pub fixed_amount: String,
    #[serde(default)]
    pub currency: String,
    #[serde(default)]
    pub front_term: String,
    #[serde(default)]
    pub back_term: String,
    #[serde(default)]
    pub front_share: String,
}

pub const TERMS_FIELDS: &[&str] = &[
    "basis",
    "percentage",
    "fixed_amount",
    "currency",
    "front_term",
    "back_term",
    "front_share",
];

impl TermsForm {
    /// The terms as the API takes them; each problem names the form's field.
    pub fn to_fields(&self) -> Result<TermsFields, ApiError> {
        let mut errors = Vec::new();
        let mut bad = |field: &str, message: String| {
            errors.push(vouch_domain::FieldError {
                field: field.into(),
                message,
            })
        };
        let mut out = TermsFields::default();
        match self.basis.as_str() {
            "percentage" => match BasisPoints::parse_percent(&self.percentage) {
                Ok(bp) => out.percentage_bps = Some(i64::from(bp.0)),
                Err(m) => bad("percentage", m),
            },
            "fixed" => match Currency::parse(self.currency.trim()) {
                Ok(c) => match Money::parse_major(&self.fixed_amount, c) {
                    Ok(m) => {
                        out.fixed_amount = Some(m.minor());
                        out.currency = Some(c.to_string());
                    }
                    Err(e) => bad("fixed_amount", e.to_string()),
                },
                Err(m) => bad("currency", m),
            },
            _ => bad(
                "basis",
                "choose a percentage of the sale or a fixed amount".into(),
            ),
        }
        match self.front_term.parse::<Milestone>() {
            Ok(m) => out.front_term = Some(m),
            Err(_) => bad(
                "front_term",
                "choose when the front payment falls due".into(),
            ),
        }
        match self.back_term.as_str() {
            "" | "not_applicable" => out.back_term = None,
            other => match other.parse::<Milestone>() {
                Ok(m) => out.back_term = Some(m),
                Err(m) => bad("back_term", m),
            },
        }
        if !self.front_share.trim().is_empty() {
            match BasisPoints::parse_percent(&self.front_share) {
                Ok(bp) => out.front_share_bps = Some(i64::from(bp.0)),
                Err(m) => bad("front_share", m),
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(ApiError::invalid(errors))
        }
    }

    /// One text field by its form name (for the template's loop over them).
    pub fn value(&self, name: &str) -> &str {
        match name {
            "percentage" => &self.percentage,
            "fixed_amount" => &self.fixed_amount,
            "currency" => &self.currency,
            "front_share" => &self.front_share,
            _ => "",
        }
    }

    /// An empty form: a percentage, all on the front term.
    pub fn blank(currency: &str) -> Self {
        Self {
            basis: "percentage".into(),
            currency: currency.into(),
            front_share: "100".into(),
            back_term: "not_applicable".into(),
            ..Default::default()
        }
    }

    /// The form showing terms already agreed.
    pub fn from_fields(t: &TermsFields) -> Self {
        let currency = t.currency.clone().unwrap_or_else(|| "USD".into());
        Self {
            basis: if t.fixed_amount.is_some() {
                "fixed".into()
            } else {
                "percentage".into()
            },
            percentage: t
                .percentage_bps
                .and_then(|b| u32::try_from(b).ok())
                .map(|b| percent_value(BasisPoints(b)))
                .unwrap_or_default(),
            fixed_amount: match (t.fixed_amount, Currency::parse(&currency)) {
                (Some(a), Ok(c)) => Money::new(a, c).major_text(),
                _ => String::new(),
            },
            currency,
            front_term: t
                .front_term
                .map(|m| m.as_str().to_string())
                .unwrap_or_default(),
            back_term: t
                .back_term
                .map_or_else(|| "not_applicable".to_string(), |m| m.as_str().to_string()),
            front_share: t
                .front_share_bps
                .and_then(|b| u32::try_from(b).ok())
                .map(|b| percent_value(BasisPoints(b)))
                .unwrap_or_else(|| "100".into()),
        }
    }
}

/// A percentage as a form field shows it for editing: `12.5`, without the sign.
pub fn percent_value(bp: BasisPoints) -> String {
    bp.percent_text().trim_end_matches(" %").to_string()
}

/// API field names (`percentage_bps`) as the form calls them (`percentage`).
pub fn terms_form_field(api: &str) -> String {
    match api {
        "percentage_bps" => "percentage".into(),
        "front_share_bps" => "front_share".into(),
        other => other.into(),
    }
}

/// Terms as a sentence: "10 % of the sale; 50 % on Sign Date, the rest on Install Date".
pub fn describe_terms(t: &TermsFields) -> String {
    let basis = match (t.percentage_bps, t.fixed_amount, t.currency.as_deref()) {
        (Some(b), _, _) => format!(
            "{} of the sale",
            u32::try_from(b)
                .map(|b| BasisPoints(b).percent_text())
                .unwrap_or_default()
        ),
        (None, Some(a), Some(c)) => crate::view::money(a, c),
        _ => "no basis yet".into(),
    };
    let front = t.front_term.map_or("—", Milestone::label);
    match t.back_term {
        Some(back) => {
            let share = t
                .front_share_bps
                .and_then(|b| u32::try_from(b).ok())
                .map(|b| BasisPoints(b).percent_text())
                .unwrap_or_else(|| "100 %".into());
            format!("{basis}; {share} on {front}, the rest on {}", back.label())
        }
        None => format!("{basis}; all on {front}"),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "sales/person.html")]
struct ShowPage {
    l: Layout,
    p: PersonView,
    history: Vec<BonusTerms>,
    statement: Statement,
    can_terms: bool,
    tf: TermsForm,
    errors: FormErrors,
}

impl ShowPage {
    fn terms_text(&self, t: &BonusTerms) -> String {
        describe_terms(&TermsFields {
            percentage_bps: t.percentage_bps,
            fixed_amount: t.fixed_amount,
            currency: t.currency.clone(),
            front_term: Some(t.front_term),
            back_term: t.back_term,
            front_share_bps: Some(t.front_share_bps),
        })
    }

    fn money(&self, totals: &[vouch_app::resources::Total]) -> String {
        super::sales::totals_text(totals)
    }
}

async fn load_show(
    console: &mut super::Console,
    id: &str,
    tf: TermsForm,
    errors: FormErrors,
) -> Result<ShowPage, ApiError> {
    let person = svc::get_person(&console.state, id).await?;
    let p = svc::person_view(&console.state, person).await?;
    let history = svc::terms_history(&console.state, id).await?;
    let statement = vouch_app::payouts::statement(&console.state, id).await?;
    let tf = if tf.basis.is_empty() {
        p.terms
            .as_ref()
            .map(|t| {
                TermsForm::from_fields(&TermsFields {
                    percentage_bps: t.percentage_bps,
                    fixed_amount: t.fixed_amount,
                    currency: t.currency.clone(),
                    front_term: Some(t.front_term),
                    back_term: t.back_term,
                    front_share_bps: Some(t.front_share_bps),
                })
            })
            .unwrap_or_else(|| TermsForm::blank("USD"))
    } else {
        tf
    };
    let can_terms = console.may(Action::TermsManage) && p.person.kind.has_terms();
    Ok(ShowPage {
        l: console.layout("sales"),
        p,
        history,
        statement,
        can_terms,
        tf,
        errors,
    })
}

async fn show(
    StaffCan(mut console, _): StaffCan<perm::PeopleRead>,
    Path(id): Path<String>,
) -> Response {
    match load_show(
        &mut console,
        &id,
        TermsForm::default(),
        FormErrors::default(),
    )
    .await
    {
        Ok(page) => page.into_response(),
        Err(e) => error_page(&e),
    }
}

async fn set_terms(
    StaffCan(mut console, _): StaffCan<perm::TermsManage>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<TermsForm>,
) -> Response {
    let result = async {
        let fields = form.to_fields()?;
        svc::set_terms(&console.state, &console.origin, &id, &fields)
            .await
            .map_err(ApiError::from)
    }
    .await;
    match result {
        Ok(t) => {
            console
                .redirect_with(
                    &format!("/admin/people/{id}"),
                    &format!(
                        "Terms version {} agreed; bonuses already created keep theirs.",
                        t.version
                    ),
                )
                .await
        }
        Err(mut err) if err.status.is_client_error() && err.status.as_u16() != 404 => {
            for e in &mut err.errors {
                e.field = terms_form_field(&e.field);
            }
            let errors = FormErrors::from_api(&err, "", TERMS_FIELDS);
            let status = form_status(&err);
            match load_show(&mut console, &id, form, errors).await {
                Ok(page) => with_status(status, page),
                Err(e) => error_page(&e),
            }
        }
        Err(err) => error_page(&err),
    }
}

#[derive(Deserialize, Default)]
pub struct ImportForm {
    #[serde(default)]
    csv: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    action: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "sales/people_import.html")]
struct ImportPage {
    l: Layout,
    csv: String,
    kind: String,
    report: Option<vouch_app::people::PeopleImportReport>,
    problem: Option<String>,
}

async fn import_page(StaffCan(mut console, _): StaffCan<perm::PeopleWrite>) -> Response {
    ImportPage {
        l: console.layout("sales"),
        csv: String::new(),
        kind: "contact".into(),
        report: None,
        problem: None,
    }
    .into_response()
}

async fn import(
    StaffCan(mut console, _): StaffCan<perm::PeopleWrite>,
    CsrfForm(form): CsrfForm<ImportForm>,
) -> Response {
    let kind = form.kind.parse::<PersonKind>().ok();
    let dry_run = form.action != "import";
    let result =
        svc::import_people(&console.state, &console.origin, &form.csv, kind, dry_run).await;
    let (report, problem, status) = match result {
        Ok(r) => (Some(r), None, axum::http::StatusCode::OK),
        Err(e) if e.is_client_error() => (
            None,
            Some(e.detail()),
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => return error_page(&e.into()),
    };
    with_status(
        status,
        ImportPage {
            l: console.layout("sales"),
            csv: form.csv,
            kind: form.kind,
            report,
            problem,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_read_as_a_sentence() {
        let t = TermsFields {
            percentage_bps: Some(1_000),
            front_term: Some(Milestone::SignDate),
            back_term: Some(Milestone::InstallDate),
            front_share_bps: Some(5_000),
            ..Default::default()
        };
        assert_eq!(
            describe_terms(&t),
            "10 % of the sale; 50 % on Sign Date, the rest on Install Date"
        );
        let form = TermsForm::from_fields(&t);
        assert_eq!(
            (form.percentage.as_str(), form.front_share.as_str()),
            ("10", "50")
        );
    }
}
