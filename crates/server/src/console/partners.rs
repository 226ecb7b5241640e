//! Partner companies in the console: list with filters (partner managers can see theirs
//! first with "Mine"), add, view and edit, commission terms per program (managers), and CSV
//! import.

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
use vouch_app::partners as svc;
use vouch_app::resources::CommissionTerms;
use vouch_domain::money::{BasisPoints, Currency, Money};
use vouch_domain::partner::{Capability, Commission, PartnerFields, PartnerStatus};
use vouch_domain::permission::Action;
use vouch_store::partners::{Partner, PartnerFilter};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/partners", get(list))
        .route("/admin/partners/new", get(new_page).post(create))
        .route("/admin/partners/import", get(import_page).post(import))
        .route("/admin/partners/{id}", get(show).post(update))
        .route("/admin/partners/{id}/commission-terms", post(set_terms))
        .route(
            "/admin/partners/{id}/commission-terms/{program_id}/remove",
            post(remove_terms),
        )
        .route("/admin/partners/{id}/users", post(invite_user))
        .route(
            "/admin/partners/{id}/users/{user_id}/remove",
            post(remove_user),
        )
}

const PAGE_SIZE: i64 = 25;

/// Staff users as the manager choice lists them: (id, "Name (email)").
async fn managers(state: &AppState) -> Result<Vec<(String, String)>, ApiError> {
    let mut out = vec![(String::new(), "Nobody yet".to_string())];
    for u in vouch_app::staff::list_users(state).await? {
        if u.disabled_at.is_none() {
            out.push((u.id.clone(), format!("{} ({})", u.name, u.email)));
        }
    }
    Ok(out)
}

#[derive(Deserialize, Default)]
struct ListParams {
    #[serde(default)]
    status: String,
    #[serde(default)]
    does: String,
    /// `mine`: the partners the signed-in staff user manages.
    #[serde(default)]
    manager: String,
    #[serde(default)]
    q: String,
    starting_after: Option<String>,
}

/// A partner in the list, with its manager's name.
pub struct Row {
    pub p: Partner,
    pub manager: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "partners/list.html")]
struct ListPage {
    l: Layout,
    status: String,
    does: String,
    manager: String,
    q: String,
    rows: Vec<Row>,
    next_url: Option<String>,
    can_write: bool,
}

async fn list(
    StaffCan(mut console, _): StaffCan<perm::PartnersRead>,
    Query(p): Query<ListParams>,
) -> Response {
    let parsed = (|| {
        let status = match p.status.as_str() {
            "" => None,
            s => Some(
                s.parse::<PartnerStatus>()
                    .map_err(|m| ApiError::field("status", m))?,
            ),
        };
        let does = match p.does.as_str() {
            "" => None,
            d => Some(
                d.parse::<Capability>()
                    .map_err(|m| ApiError::field("does", m))?,
            ),
        };
        Ok::<_, ApiError>((status, does))
    })();
    let (status, does) = match parsed {
        Ok(found) => found,
        Err(e) => return error_page(&e),
    };
    let me = console.session.user.id.clone();
    let filter = PartnerFilter {
        status,
        does,
        manager_id: (p.manager == "mine").then_some(me.as_str()),
        search: Some(p.q.as_str()),
    };
    let result = async {
        let mut rows = svc::list_partners(
            &console.state,
            &filter,
            p.starting_after.as_deref(),
            PAGE_SIZE,
        )
        .await?;
        let has_more = rows.len() > PAGE_SIZE as usize;
        rows.truncate(PAGE_SIZE as usize);
        let next = has_more
            .then(|| rows.last().map(|r| r.id.clone()))
            .flatten();
        let names = managers(&console.state).await?;
        let out = rows
            .into_iter()
            .map(|p| Row {
                manager: manager_name(&names, p.manager_id.as_deref()),
                p,
            })
            .collect::<Vec<_>>();
        Ok::<_, ApiError>((out, next))
    }
    .await;
    let (rows, next) = match result {
        Ok(r) => r,
        Err(e) => return error_page(&e),
    };
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let next_url = next.map(|id| {
        format!(
            "/admin/partners?status={}&does={}&manager={}&q={}&starting_after={id}",
            enc(&p.status),
            enc(&p.does),
            enc(&p.manager),
            enc(&p.q)
        )
    });
    ListPage {
        can_write: console.may(Action::PartnersWrite),
        l: console.layout("partners"),
        status: p.status,
        does: p.does,
        manager: p.manager,
        q: p.q,
        rows,
        next_url,
    }
    .into_response()
}

fn manager_name(names: &[(String, String)], id: Option<&str>) -> String {
    match id {
        None => "—".into(),
        Some(id) => names
            .iter()
            .find(|(m, _)| m == id)
            .map_or_else(|| id.to_string(), |(_, n)| n.clone()),
    }
}

/// The partner form as the browser sends it. Notification addresses come one per line.
#[derive(Deserialize, Default, Clone)]
pub struct PartnerForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    website: String,
    #[serde(default)]
    contact_name: String,
    #[serde(default)]
    contact_email: String,
    #[serde(default)]
    contact_phone: String,
    #[serde(default)]
    notes: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    manager_id: String,
    refers_clients: Option<String>,
    receives_referrals: Option<String>,
    buys_customers: Option<String>,
    listed_in_directory: Option<String>,
    #[serde(default)]
    delivery_method: String,
    #[serde(default)]
    post_url: String,
    #[serde(default)]
    source_id: String,
    #[serde(default)]
    notification_emails: String,
}

const PARTNER_FIELDS: &[&str] = &[
    "name",
    "website",
    "contact_name",
    "contact_email",
    "contact_phone",
    "notes",
    "status",
    "manager_id",
    "refers_clients",
    "listed_in_directory",
    "delivery_method",
    "post_url",
    "source_id",
    "notification_emails",
];

impl PartnerForm {
    fn fields(&self) -> PartnerFields {
        PartnerFields {
            name: self.name.clone(),
            website: self.website.clone(),
            contact_name: self.contact_name.clone(),
            contact_email: self.contact_email.clone(),
            contact_phone: self.contact_phone.clone(),
            notes: self.notes.clone(),
            status: self.status.clone(),
            refers_clients: ticked(&self.refers_clients),
            receives_referrals: ticked(&self.receives_referrals),
            buys_customers: ticked(&self.buys_customers),
            listed_in_directory: ticked(&self.listed_in_directory),
            delivery_method: self.delivery_method.clone(),
            post_url: self.post_url.clone(),
            source_id: self.source_id.clone(),
            notification_emails: self
                .notification_emails
                .lines()
                .map(str::to_string)
                .collect(),
        }
    }

    fn of(p: &Partner) -> Self {
        let on = |b: bool| b.then(|| "on".to_string());
        Self {
            name: p.name.clone(),
            website: p.website.clone().unwrap_or_default(),
            contact_name: p.contact_name.clone().unwrap_or_default(),
            contact_email: p.contact_email.clone().unwrap_or_default(),
            contact_phone: p.contact_phone.clone().unwrap_or_default(),
            notes: p.notes.clone().unwrap_or_default(),
            status: p.status.as_str().to_string(),
            manager_id: p.manager_id.clone().unwrap_or_default(),
            refers_clients: on(p.refers_clients),
            receives_referrals: on(p.receives_referrals),
            buys_customers: on(p.buys_customers),
            listed_in_directory: on(p.listed_in_directory),
            delivery_method: p
                .delivery_method
                .map(|d| d.as_str().to_string())
                .unwrap_or_default(),
            post_url: p.post_url.clone().unwrap_or_default(),
            source_id: p.source_id.clone().unwrap_or_default(),
            notification_emails: p.notification_emails.join("\n"),
        }
    }

    pub fn on(&self, name: &str) -> bool {
        ticked(match name {
            "refers_clients" => &self.refers_clients,
            "receives_referrals" => &self.receives_referrals,
            "buys_customers" => &self.buys_customers,
            _ => &self.listed_in_directory,
        })
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "partners/new.html")]
struct NewPage {
    l: Layout,
    f: PartnerForm,
    managers: Vec<(String, String)>,
    errors: FormErrors,
}

async fn new_page(StaffCan(mut console, _): StaffCan<perm::PartnersWrite>) -> Response {
    let managers = match managers(&console.state).await {
        Ok(m) => m,
        Err(e) => return error_page(&e),
    };
    NewPage {
        l: console.layout("partners"),
        f: PartnerForm {
            status: "active".into(),
            ..Default::default()
        },
        managers,
        errors: FormErrors::default(),
    }
    .into_response()
}

async fn create(
    StaffCan(mut console, _): StaffCan<perm::PartnersWrite>,
    CsrfForm(form): CsrfForm<PartnerForm>,
) -> Response {
    let result = svc::create_partner(
        &console.state,
        &console.origin,
        &form.fields(),
        Some(form.manager_id.as_str()),
    )
    .await
    .map_err(ApiError::from);
    match result {
        Ok(p) => {
            console
                .redirect_with(&format!("/admin/partners/{}", p.id), "Partner added.")
                .await
        }
        Err(err) if err.status.is_client_error() => {
            let managers = match managers(&console.state).await {
                Ok(m) => m,
                Err(e) => return error_page(&e),
            };
            with_status(
                form_status(&err),
                NewPage {
                    l: console.layout("partners"),
                    errors: FormErrors::from_api(&err, "", PARTNER_FIELDS),
                    f: form,
                    managers,
                },
            )
        }
        Err(err) => error_page(&err),
    }
}

/// The commission form: a program and, as people type them, a percentage or an amount.
#[derive(Deserialize, Default, Clone)]
pub struct CommissionForm {
    #[serde(default)]
    program_id: String,
    /// `percentage` or `fixed`.
    #[serde(default)]
    basis: String,
    #[serde(default)]
    percentage: String,
    #[serde(default)]
    fixed_amount: String,
    #[serde(default)]
    currency: String,
}

impl CommissionForm {
    fn commission(&self) -> Result<Commission, ApiError> {
        match self.basis.as_str() {
            "percentage" => BasisPoints::parse_percent(&self.percentage)
                .ok()
                .filter(|b| (1..=10_000).contains(&b.0))
                .map(Commission::Percentage)
                .ok_or_else(|| {
                    ApiError::field("percentage", "must be a percentage from 0.01 to 100")
                }),
            "fixed" => {
                let currency = Currency::parse(self.currency.trim())
                    .map_err(|m| ApiError::field("currency", m))?;
                let amount = Money::parse_major(&self.fixed_amount, currency)
                    .map_err(|e| ApiError::field("fixed_amount", e.to_string()))?;
                Commission::parse(None, Some(amount.minor()), Some(currency.as_str()))
                    .map_err(|v| ApiError::from(vouch_app::AppError::invalid(v.errors().to_vec())))
            }
            _ => Err(ApiError::field(
                "basis",
                "choose a percentage of the referral's value or a fixed amount",
            )),
        }
    }
}

const COMMISSION_FIELDS: &[&str] = &[
    "program_id",
    "basis",
    "percentage",
    "fixed_amount",
    "currency",
];

#[derive(Template, WebTemplate)]
#[template(path = "partners/show.html")]
struct ShowPage {
    l: Layout,
    p: Partner,
    f: PartnerForm,
    managers: Vec<(String, String)>,
    errors: FormErrors,
    terms: Vec<(CommissionTerms, String)>,
    programs: Vec<(String, String)>,
    cf: CommissionForm,
    commission_errors: FormErrors,
    users: Vec<vouch_app::partner_users::PartnerUserOut>,
    invite: InviteForm,
    invite_errors: FormErrors,
    can_write: bool,
    can_terms: bool,
}

impl ShowPage {
    fn manager(&self) -> String {
        manager_name(&self.managers, self.p.manager_id.as_deref())
    }
}

/// Everything the partner page shows besides the forms' own state.
async fn show_page(
    console: &mut super::Console,
    id: &str,
    f: Option<PartnerForm>,
    errors: FormErrors,
    cf: Option<CommissionForm>,
    commission_errors: FormErrors,
) -> Result<ShowPage, ApiError> {
    let p = svc::get_partner(&console.state, id).await?;
    let managers = managers(&console.state).await?;
    // The newest 100 programs: enough for a choice list; older ones keep their terms.
    let all_programs = vouch_app::programs::list(&console.state, None, None, 100).await?;
    let terms = svc::commission_terms(&console.state, id)
        .await?
        .into_iter()
        .map(|t| {
            let name = all_programs
                .iter()
                .find(|g| g.id == t.program_id)
                .map_or_else(|| t.program_id.clone(), |g| g.name.clone());
            (t, name)
        })
        .collect();
    let programs = std::iter::once((String::new(), "Choose…".to_string()))
        .chain(all_programs.iter().map(|g| (g.id.clone(), g.name.clone())))
        .collect();
    let users = vouch_app::partner_users::users_of(&console.state, id).await?;
    let currency = all_programs
        .first()
        .map_or_else(|| "USD".to_string(), |g| g.currency.clone());
    Ok(ShowPage {
        f: f.unwrap_or_else(|| PartnerForm::of(&p)),
        cf: cf.unwrap_or_else(|| CommissionForm {
            basis: "percentage".into(),
            currency,
            ..Default::default()
        }),
        can_write: console.may(Action::PartnersWrite),
        can_terms: console.may(Action::TermsManage),
        l: console.layout("partners"),
        p,
        managers,
        errors,
        terms,
        programs,
        commission_errors,
        users,
        invite: InviteForm {
            invite_role: "member".into(),
            ..Default::default()
        },
        invite_errors: FormErrors::default(),
    })
}

async fn show(
    StaffCan(mut console, _): StaffCan<perm::PartnersRead>,
    Path(id): Path<String>,
) -> Response {
    match show_page(
        &mut console,
        &id,
        None,
        FormErrors::default(),
        None,
        FormErrors::default(),
    )
    .await
    {
        Ok(page) => page.into_response(),
        Err(e) => error_page(&e),
    }
}

async fn update(
    StaffCan(mut console, _): StaffCan<perm::PartnersWrite>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<PartnerForm>,
) -> Response {
    let fields = form.fields();
    let manager_id = form.manager_id.clone();
    let result = svc::update_partner(&console.state, &console.origin, &id, |f, m| {
        *f = fields;
        *m = Some(manager_id);
    })
    .await
    .map_err(ApiError::from);
    match result {
        Ok(_) => {
            console
                .redirect_with(&format!("/admin/partners/{id}"), "Partner saved.")
                .await
        }
        Err(err) if err.status.is_client_error() && err.status.as_u16() != 404 => {
            let errors = FormErrors::from_api(&err, "", PARTNER_FIELDS);
            match show_page(
                &mut console,
                &id,
                Some(form),
                errors,
                None,
                FormErrors::default(),
            )
            .await
            {
                Ok(page) => with_status(form_status(&err), page),
                Err(e) => error_page(&e),
            }
        }
        Err(err) => error_page(&err),
    }
}

async fn set_terms(
    StaffCan(mut console, _): StaffCan<perm::TermsManage>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<CommissionForm>,
) -> Response {
    let result = async {
        if form.program_id.trim().is_empty() {
            return Err(ApiError::field("program_id", "choose a program"));
        }
        let commission = form.commission()?;
        svc::set_commission(
            &console.state,
            &console.origin,
            &id,
            form.program_id.trim(),
            commission,
        )
        .await
        .map_err(ApiError::from)
    }
    .await;
    match result {
        Ok(t) => {
            console
                .redirect_with(
                    &format!("/admin/partners/{id}"),
                    &format!("Commission set: {}.", t.description),
                )
                .await
        }
        Err(err) if err.status.is_client_error() && err.status.as_u16() != 404 => {
            let errors = FormErrors::from_api(&err, "", COMMISSION_FIELDS);
            match show_page(
                &mut console,
                &id,
                None,
                FormErrors::default(),
                Some(form),
                errors,
            )
            .await
            {
                Ok(page) => with_status(form_status(&err), page),
                Err(e) => error_page(&e),
            }
        }
        Err(err) => error_page(&err),
    }
}

async fn remove_terms(
    StaffCan(console, _): StaffCan<perm::TermsManage>,
    Path((id, program_id)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<std::collections::HashMap<String, String>>,
) -> Response {
    let outcome = svc::remove_commission(&console.state, &console.origin, &id, &program_id)
        .await
        .map(|()| "Commission removed: the partner's referrals there earn nothing.".to_string())
        .map_err(ApiError::from);
    console
        .finish(&format!("/admin/partners/{id}"), outcome)
        .await
}

#[derive(Deserialize, Default)]
struct ImportForm {
    #[serde(default)]
    csv: String,
    #[serde(default)]
    action: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "partners/import.html")]
struct ImportPage {
    l: Layout,
    csv: String,
    report: Option<svc::PartnerImportReport>,
    problem: Option<String>,
}

async fn import_page(StaffCan(mut console, _): StaffCan<perm::PartnersWrite>) -> Response {
    ImportPage {
        l: console.layout("partners"),
        csv: String::new(),
        report: None,
        problem: None,
    }
    .into_response()
}

async fn import(
    StaffCan(mut console, _): StaffCan<perm::PartnersWrite>,
    CsrfForm(form): CsrfForm<ImportForm>,
) -> Response {
    let dry_run = form.action != "import";
    let result = svc::import_partners(&console.state, &console.origin, &form.csv, dry_run).await;
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
            l: console.layout("partners"),
            csv: form.csv,
            report,
            problem,
        },
    )
}

/// The invite form: who to give access to the partner's portal. Its fields are prefixed, as
/// the partner form on the same page has a `name` too.
#[derive(Deserialize, Default, Clone)]
pub struct InviteForm {
    #[serde(default)]
    invite_email: String,
    #[serde(default)]
    invite_name: String,
    #[serde(default)]
    invite_role: String,
}

async fn invite_user(
    StaffCan(mut console, _): StaffCan<perm::PartnersWrite>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<InviteForm>,
) -> Response {
    let result = async {
        let role = form
            .invite_role
            .parse::<vouch_domain::partner_user::PartnerRole>()
            .map_err(|m| ApiError::field("role", m))?;
        vouch_app::partner_users::invite(
            &console.state,
            &console.origin,
            &id,
            &form.invite_email,
            &form.invite_name,
            role,
        )
        .await
        .map_err(ApiError::from)
    }
    .await;
    match result {
        Ok(u) => {
            console
                .redirect_with(
                    &format!("/admin/partners/{id}"),
                    &format!(
                        "{} is invited: the email with their link is on its way.",
                        u.email
                    ),
                )
                .await
        }
        Err(mut err) if err.status.is_client_error() && err.status.as_u16() != 404 => {
            for e in &mut err.errors {
                e.field = format!("invite_{}", e.field);
            }
            let errors =
                FormErrors::from_api(&err, "", &["invite_email", "invite_name", "invite_role"]);
            match show_page(
                &mut console,
                &id,
                None,
                FormErrors::default(),
                None,
                FormErrors::default(),
            )
            .await
            {
                Ok(mut page) => {
                    page.invite = form;
                    page.invite_errors = errors;
                    with_status(form_status(&err), page)
                }
                Err(e) => error_page(&e),
            }
        }
        Err(err) => error_page(&err),
    }
}

async fn remove_user(
    StaffCan(console, _): StaffCan<perm::PartnersWrite>,
    Path((id, user_id)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<std::collections::HashMap<String, String>>,
) -> Response {
    let outcome = vouch_app::partner_users::remove(&console.state, &console.origin, &id, &user_id)
        .await
        .map(|()| "Access removed: their sessions ended.".to_string())
        .map_err(ApiError::from);
    console
        .finish(&format!("/admin/partners/{id}"), outcome)
        .await
}
