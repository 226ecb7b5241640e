//! Referral-program setups in the console: staff request, the Management Team decides.

use super::{CsrfForm, FormErrors, Layout, StaffCan, error_page, form_status, with_status};
use crate::AppState;
use crate::api::setups::SetupIn;
use crate::auth::perm;
use crate::error::ApiError;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use vouch_app::setups::SetupView;
use vouch_domain::account::{AccountFields, CloneOverrides};
use vouch_domain::permission::Action;
use vouch_domain::setup::SetupStatus;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/setups", get(list))
        .route("/admin/setups/new", get(new_page).post(create))
        .route("/admin/setups/{id}", get(show))
        .route("/admin/setups/{id}/decide", post(decide))
}

#[derive(Deserialize, Default)]
struct ListParams {
    #[serde(default)]
    status: String,
    starting_after: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "setups/list.html")]
struct ListPage {
    l: Layout,
    status: String,
    rows: Vec<SetupView>,
    next_url: Option<String>,
    can_request: bool,
}

const PAGE_SIZE: i64 = 25;

async fn list(
    StaffCan(mut console, _): StaffCan<perm::SetupsRead>,
    Query(p): Query<ListParams>,
) -> Response {
    let status = match p.status.as_str() {
        "" => None,
        s => match s.parse::<SetupStatus>() {
            Ok(s) => Some(s),
            Err(m) => return error_page(&ApiError::field("status", m)),
        },
    };
    let rows = vouch_app::setups::list_setups(
        &console.state,
        status,
        p.starting_after.as_deref(),
        PAGE_SIZE,
    )
    .await;
    let mut rows = match rows {
        Ok(r) => r,
        Err(e) => return error_page(&e.into()),
    };
    let limit = usize::try_from(PAGE_SIZE).unwrap_or(25);
    let has_more = rows.len() > limit;
    rows.truncate(limit);
    let next_url = if has_more {
        rows.last()
            .map(|s| format!("/admin/setups?status={}&starting_after={}", p.status, s.id))
    } else {
        None
    };
    let mut views = Vec::with_capacity(rows.len());
    for s in rows {
        match vouch_app::setups::setup_view(&console.state, s)
            .await
            .map_err(ApiError::from)
        {
            Ok(v) => views.push(v),
            Err(e) => return error_page(&e),
        }
    }
    let can_request = console.may(Action::SetupsRequest);
    ListPage {
        l: console.layout("setups"),
        status: p.status,
        rows: views,
        next_url,
        can_request,
    }
    .into_response()
}

/// The request form as the browser sends it.
#[derive(Deserialize, Default, Clone)]
pub struct SetupForm {
    /// `existing` or `new`.
    #[serde(default)]
    mode: String,
    #[serde(default)]
    beneficiary_id: String,
    #[serde(default)]
    b_name: String,
    #[serde(default)]
    b_email: String,
    #[serde(default)]
    b_first: String,
    #[serde(default)]
    b_last: String,
    #[serde(default)]
    b_phone: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    sc_name: String,
    #[serde(default)]
    sc_code: String,
    #[serde(default)]
    sc_email: String,
    #[serde(default)]
    registration_policy: String,
    #[serde(default)]
    partner_site_url: String,
}

fn opt(v: &str) -> Option<String> {
    let t = v.trim();
    (!t.is_empty()).then(|| t.to_string())
}

impl SetupForm {
    fn to_input(&self) -> Result<SetupIn, ApiError> {
        let new = self.mode == "new";
        let beneficiary_id = if new {
            None
        } else {
            match self.beneficiary_id.trim() {
                "" => None,
                raw => Some(
                    raw.parse::<i64>()
                        .map_err(|_| ApiError::field("beneficiary_id", "must be a customer id"))?,
                ),
            }
        };
        let beneficiary = new.then(|| AccountFields {
            name: self.b_name.clone(),
            email: self.b_email.clone(),
            owner_first_name: self.b_first.clone(),
            owner_last_name: self.b_last.clone(),
            owner_phone: self.b_phone.clone(),
            ..Default::default()
        });
        Ok(SetupIn {
            beneficiary_id,
            beneficiary,
            super_customer: CloneOverrides {
                beneficiary_label: opt(&self.label),
                name: opt(&self.sc_name),
                code: opt(&self.sc_code),
                email: opt(&self.sc_email),
                registration_policy: opt(&self.registration_policy),
                partner_site_url: opt(&self.partner_site_url),
                ..Default::default()
            },
        })
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "setups/new.html")]
struct NewPage {
    l: Layout,
    f: SetupForm,
    errors: FormErrors,
}

const SETUP_FIELDS: &[&str] = &[
    "beneficiary_id",
    "b_name",
    "b_email",
    "b_first",
    "b_last",
    "b_phone",
    "label",
    "sc_name",
    "sc_code",
    "sc_email",
    "registration_policy",
    "partner_site_url",
];

#[derive(Deserialize, Default)]
struct NewParams {
    #[serde(default)]
    beneficiary_id: String,
}

async fn new_page(
    StaffCan(mut console, _): StaffCan<perm::SetupsRequest>,
    Query(p): Query<NewParams>,
) -> Response {
    let f = SetupForm {
        mode: "existing".into(),
        beneficiary_id: p.beneficiary_id.trim().to_string(),
        ..Default::default()
    };
    NewPage {
        l: console.layout("setups"),
        f,
        errors: FormErrors::default(),
    }
    .into_response()
}

/// API field paths → the form's field names.
fn form_field(path: &str) -> String {
    let map = [
        ("beneficiary.name", "b_name"),
        ("beneficiary.email", "b_email"),
        ("beneficiary.owner_first_name", "b_first"),
        ("beneficiary.owner_last_name", "b_last"),
        ("beneficiary.owner_phone", "b_phone"),
        ("beneficiary.code", "b_name"),
        ("super_customer.name", "sc_name"),
        ("super_customer.code", "sc_code"),
        ("super_customer.email", "sc_email"),
        ("super_customer.registration_policy", "registration_policy"),
        ("super_customer.partner_site_url", "partner_site_url"),
        ("super_customer.owner_first_name", "label"),
        ("beneficiary", "beneficiary_id"),
    ];
    map.iter()
        .find(|(api, _)| *api == path)
        .map(|(_, f)| (*f).to_string())
        .unwrap_or_else(|| path.to_string())
}

async fn create(
    StaffCan(mut console, _): StaffCan<perm::SetupsRequest>,
    CsrfForm(form): CsrfForm<SetupForm>,
) -> Response {
    let result = async {
        let plan = form.to_input()?.into_plan()?;
        vouch_app::setups::request_setup(&console.state, &console.origin, plan)
            .await
            .map_err(ApiError::from)
    }
    .await;
    match result {
        Ok(setup) => {
            console
                .redirect_with(
                    &format!("/admin/setups/{}", setup.id),
                    "Setup requested. A manager must approve it.",
                )
                .await
        }
        Err(mut err) if err.status.is_client_error() => {
            for e in &mut err.errors {
                e.field = form_field(&e.field);
            }
            let errors = FormErrors::from_api(&err, "", SETUP_FIELDS);
            let status = form_status(&err);
            with_status(
                status,
                NewPage {
                    l: console.layout("setups"),
                    f: form,
                    errors,
                },
            )
        }
        Err(err) => error_page(&err),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "setups/show.html")]
struct ShowPage {
    l: Layout,
    s: SetupView,
    beneficiary_label: String,
    can_decide: bool,
}

async fn show(
    StaffCan(mut console, _): StaffCan<perm::SetupsRead>,
    Path(id): Path<String>,
) -> Response {
    let view = async {
        let setup = vouch_app::setups::get_setup(&console.state, &id).await?;
        vouch_app::setups::setup_view(&console.state, setup)
            .await
            .map_err(ApiError::from)
    }
    .await;
    match view {
        Ok(s) => {
            let beneficiary_label = match &s.setup.plan.beneficiary {
                vouch_domain::setup::Beneficiary::Existing { account_id } => {
                    format!("Existing account {account_id}")
                }
                vouch_domain::setup::Beneficiary::New { account } => {
                    format!("New account: {} <{}>", account.name, account.email)
                }
            };
            let can_decide = console.may(Action::SetupsDecide);
            ShowPage {
                l: console.layout("setups"),
                s,
                beneficiary_label,
                can_decide,
            }
            .into_response()
        }
        Err(e) => error_page(&e),
    }
}

#[derive(Deserialize, Default)]
struct DecideForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    note: String,
}

async fn decide(
    StaffCan(console, _): StaffCan<perm::SetupsDecide>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<DecideForm>,
) -> Response {
    let back = format!("/admin/setups/{id}");
    let note = match vouch_domain::validation::optional_text(&form.note, 2000) {
        Ok(n) => n,
        Err(m) => {
            return console
                .finish(&back, Err(ApiError::field("note", format!("the note {m}"))))
                .await;
        }
    };
    let outcome = match form.decision.as_str() {
        "approve" => {
            vouch_app::setups::approve_setup(&console.state, &console.origin, &id, note.as_deref())
                .await
                .map_err(ApiError::from)
                .map(|a| {
                    format!(
                        "Approved. Super customer {} created; the registration link is live.",
                        a.super_customer.id
                    )
                })
        }
        "reject" => {
            vouch_app::setups::reject_setup(&console.state, &console.origin, &id, note.as_deref())
                .await
                .map_err(ApiError::from)
                .map(|_| "Rejected.".to_string())
        }
        _ => Err(ApiError::field("decision", "must be approve or reject")),
    };
    console.finish(&back, outcome).await
}
