//! Sales referrals in the console: the list by stage, entering one, and its page (meeting,
//! stage moves with notes, history, "Record the sale"). Also a program's bonus policy.

use super::people::name_of;
use super::people::{TERMS_FIELDS, TermsForm, terms_form_field};
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
use vouch_app::sales_referrals::{self as svc, ReferralView};
use vouch_domain::permission::Action;
use vouch_domain::person::PersonKind;
use vouch_domain::person::TermsFields;
use vouch_domain::sales_referral::{ReferralFields, Stage};
use vouch_store::sales_referrals::ReferralFilter;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/sales-referrals", get(list))
        .route("/admin/sales-referrals/new", get(new_page).post(create))
        .route("/admin/sales-referrals/{id}", get(show))
        .route("/admin/sales-referrals/{id}/meeting", post(meeting))
        .route("/admin/sales-referrals/{id}/stage", post(stage))
        .route("/admin/sales-referrals/{id}/notes", post(note))
        .route(
            "/admin/programs/{id}/bonus-policy",
            get(policy_page).post(save_policy),
        )
}

pub struct Row {
    pub r: vouch_app::resources::SalesReferral,
    pub referred: String,
    pub referrer: String,
}

#[derive(Deserialize, Default)]
struct ListParams {
    #[serde(default)]
    stage: String,
    starting_after: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "sales/referrals.html")]
struct ListPage {
    l: Layout,
    stage: String,
    rows: Vec<Row>,
    next_url: Option<String>,
    can_write: bool,
}

const PAGE_SIZE: i64 = 25;

async fn list(
    StaffCan(mut console, _): StaffCan<perm::SalesRead>,
    Query(p): Query<ListParams>,
) -> Response {
    let stage = match p.stage.as_str() {
        "" => None,
        s => match s.parse::<Stage>() {
            Ok(s) => Some(s),
            Err(m) => return error_page(&ApiError::field("stage", m)),
        },
    };
    let filter = ReferralFilter {
        stage,
        ..Default::default()
    };
    let mut rows = match svc::list(
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
    let has_more = rows.len() > PAGE_SIZE as usize;
    rows.truncate(PAGE_SIZE as usize);
    let next_url = has_more
        .then(|| {
            rows.last().map(|r| {
                format!(
                    "/admin/sales-referrals?stage={}&starting_after={}",
                    p.stage, r.id
                )
            })
        })
        .flatten();
    let mut out = Vec::new();
    for r in rows {
        out.push(Row {
            referred: name_of(&console.state, Some(&r.referred_id), "—").await,
            referrer: name_of(&console.state, Some(&r.referrer_id), "—").await,
            r: r.into(),
        });
    }
    let can_write = console.may(Action::SalesWrite);
    ListPage {
        l: console.layout("sales"),
        stage: p.stage,
        rows: out,
        next_url,
        can_write,
    }
    .into_response()
}

#[derive(Deserialize, Default, Clone)]
pub struct ReferralForm {
    #[serde(default)]
    program_id: String,
    #[serde(default)]
    referred_id: String,
    #[serde(default)]
    referrer_id: String,
    #[serde(default)]
    generated_by: String,
    #[serde(default)]
    meeting_at: String,
    #[serde(default)]
    notes: String,
}

const REFERRAL_FIELDS: &[&str] = &[
    "program_id",
    "referred_id",
    "referrer_id",
    "generated_by",
    "meeting_at",
    "notes",
];

pub struct Choices {
    programs: Vec<(String, String)>,
    contacts: Vec<(String, String)>,
    referrers: Vec<(String, String)>,
    employees: Vec<(String, String)>,
}

async fn choices(state: &AppState) -> Result<Choices, ApiError> {
    let blank = || ("".to_string(), "Choose…".to_string());
    let mut programs = vec![blank()];
    for p in vouch_app::programs::list(state, None, None, 100).await? {
        programs.push((p.id, p.name));
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
    let mut referrers = vec![blank()];
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
    Ok(Choices {
        programs,
        contacts,
        referrers,
        employees,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "sales/referral_new.html")]
struct NewPage {
    l: Layout,
    f: ReferralForm,
    c: Choices,
    errors: FormErrors,
}

async fn new_page(StaffCan(mut console, _): StaffCan<perm::SalesWrite>) -> Response {
    match choices(&console.state).await {
        Ok(c) => NewPage {
            l: console.layout("sales"),
            f: ReferralForm::default(),
            c,
            errors: FormErrors::default(),
        }
        .into_response(),
        Err(e) => error_page(&e),
    }
}

async fn create(
    StaffCan(mut console, _): StaffCan<perm::SalesWrite>,
    CsrfForm(form): CsrfForm<ReferralForm>,
) -> Response {
    let fields = ReferralFields {
        program_id: form.program_id.clone(),
        referred_id: form.referred_id.clone(),
        referrer_id: form.referrer_id.clone(),
        generated_by: form.generated_by.clone(),
        meeting_at: form.meeting_at.clone(),
        notes: form.notes.clone(),
    };
    match svc::create(&console.state, &console.origin, &fields).await {
        Ok(r) => {
            console
                .redirect_with(
                    &format!("/admin/sales-referrals/{}", r.id),
                    "Referral entered.",
                )
                .await
        }
        Err(e) => {
            let err = ApiError::from(e);
            if !err.status.is_client_error() {
                return error_page(&err);
            }
            match choices(&console.state).await {
                Ok(c) => with_status(
                    form_status(&err),
                    NewPage {
                        l: console.layout("sales"),
                        errors: FormErrors::from_api(&err, "", REFERRAL_FIELDS),
                        f: form,
                        c,
                    },
                ),
                Err(e) => error_page(&e),
            }
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "sales/referral.html")]
struct ShowPage {
    l: Layout,
    v: ReferralView,
    referred: String,
    referrer: String,
    generated_by: String,
    can_write: bool,
    stages: Vec<(String, String)>,
    meeting_value: String,
}

impl ShowPage {
    /// A stage as people read it (the history keeps the stored name).
    fn stage(&self, s: &str) -> String {
        s.parse::<Stage>()
            .map_or_else(|_| s.to_string(), |st| st.label().to_string())
    }
}

async fn show(
    StaffCan(mut console, _): StaffCan<perm::SalesRead>,
    Path(id): Path<String>,
) -> Response {
    let referral = match svc::get(&console.state, &id).await {
        Ok(r) => r,
        Err(e) => return error_page(&e.into()),
    };
    let v = match svc::view(&console.state, referral).await {
        Ok(v) => v,
        Err(e) => return error_page(&e.into()),
    };
    let referred = name_of(&console.state, Some(&v.referral.referred_id), "—").await;
    let referrer = name_of(&console.state, Some(&v.referral.referrer_id), "—").await;
    let generated_by = name_of(&console.state, v.referral.generated_by.as_deref(), "—").await;
    // A datetime-local input takes `2026-12-03T15:00`.
    let meeting_value = v
        .referral
        .meeting_at
        .map(|t| t.to_string().chars().take(16).collect())
        .unwrap_or_default();
    let stages = Stage::ALL
        .iter()
        .filter(|s| **s != Stage::Won && **s != v.referral.stage)
        .map(|s| (s.as_str().to_string(), s.label().to_string()))
        .collect();
    ShowPage {
        l: console.layout("sales"),
        can_write: console.may(Action::SalesWrite),
        v,
        referred,
        referrer,
        generated_by,
        stages,
        meeting_value,
    }
    .into_response()
}

#[derive(Deserialize, Default)]
struct MeetingForm {
    #[serde(default)]
    meeting_at: String,
}

async fn meeting(
    StaffCan(console, _): StaffCan<perm::SalesWrite>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<MeetingForm>,
) -> Response {
    let outcome = svc::update(
        &console.state,
        &console.origin,
        &id,
        Some(&form.meeting_at),
        None,
    )
    .await
    .map(|r| match r.meeting_at {
        Some(_) => "Meeting booked.".to_string(),
        None => "Meeting cleared.".to_string(),
    })
    .map_err(ApiError::from);
    console
        .finish(&format!("/admin/sales-referrals/{id}"), outcome)
        .await
}

#[derive(Deserialize, Default)]
struct StageForm {
    #[serde(default)]
    stage: String,
    #[serde(default)]
    note: String,
}

async fn stage(
    StaffCan(console, _): StaffCan<perm::SalesWrite>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<StageForm>,
) -> Response {
    let outcome = async {
        let to = form
            .stage
            .parse::<Stage>()
            .map_err(|m| ApiError::field("stage", m))?;
        svc::move_stage(&console.state, &console.origin, &id, to, &form.note)
            .await
            .map(|r| format!("Moved to {}.", r.stage.label()))
            .map_err(ApiError::from)
    }
    .await;
    console
        .finish(&format!("/admin/sales-referrals/{id}"), outcome)
        .await
}

#[derive(Deserialize, Default)]
struct NoteForm {
    #[serde(default)]
    text: String,
}

async fn note(
    StaffCan(console, _): StaffCan<perm::SalesWrite>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<NoteForm>,
) -> Response {
    let outcome = svc::add_note(&console.state, &console.origin, &id, &form.text)
        .await
        .map(|()| "Note added.".to_string())
        .map_err(ApiError::from);
    console
        .finish(&format!("/admin/sales-referrals/{id}"), outcome)
        .await
}

/// A program's bonus policy as the form sends it: the switches, and three sets of terms under
/// name prefixes (contacts' terms unprefixed, `nc_` for New Customer bonuses, `ao_` for
/// Add-On Sale bonuses), each used only when its box is ticked.
#[derive(Deserialize, Default, Clone)]
pub struct PolicyForm {
    contact_on: Option<String>,
    new_customer_bonus: Option<String>,
    new_customer_terms_on: Option<String>,
    add_on_bonus: Option<String>,
    add_on_terms_on: Option<String>,
    allow_self_approval: Option<String>,
    #[serde(flatten)]
    fields: std::collections::HashMap<String, String>,
}

/// The policy's three sets of terms: (form prefix, the API's field).
const POLICY_TERMS: [(&str, &str); 3] = [
    ("", "contact_terms"),
    ("nc_", "new_customer_terms"),
    ("ao_", "add_on_terms"),
];

impl PolicyForm {
    fn terms_form(&self, prefix: &str) -> TermsForm {
        let get = |name: &str| {
            self.fields
                .get(&format!("{prefix}{name}"))
                .cloned()
                .unwrap_or_default()
        };
        TermsForm {
            basis: get("basis"),
            percentage: get("percentage"),
            fixed_amount: get("fixed_amount"),
            currency: get("currency"),
            front_term: get("front_term"),
            back_term: get("back_term"),
            front_share: get("front_share"),
        }
    }

    fn ticked_terms(&self) -> [bool; 3] {
        [
            ticked(&self.contact_on),
            ticked(&self.new_customer_terms_on),
            ticked(&self.add_on_terms_on),
        ]
    }
}

/// The three terms forms of a policy page, in [`POLICY_TERMS`] order, and which are on.
struct PolicyTerms {
    forms: [TermsForm; 3],
    on: [bool; 3],
}

impl PolicyTerms {
    fn of(policy: &vouch_app::resources::BonusPolicy, currency: &str) -> Self {
        let sets = [
            &policy.contact_terms,
            &policy.new_customer_terms,
            &policy.add_on_terms,
        ];
        Self {
            forms: sets.map(|t| {
                t.as_ref()
                    .map(TermsForm::from_fields)
                    .unwrap_or_else(|| TermsForm::blank(currency))
            }),
            on: sets.map(Option::is_some),
        }
    }

    /// Each ticked set as the API takes it; every problem of every set at once, named by the
    /// form's field (`nc_percentage`).
    fn to_fields(&self) -> Result<[Option<TermsFields>; 3], ApiError> {
        let mut errors = Vec::new();
        let mut out: [Option<TermsFields>; 3] = Default::default();
        for (i, (prefix, _)) in POLICY_TERMS.iter().enumerate() {
            if !self.on[i] {
                continue;
            }
            match self.forms[i].to_fields() {
                Ok(t) => out[i] = Some(t),
                Err(e) => errors.extend(e.errors.into_iter().map(|mut f| {
                    f.field = format!("{prefix}{}", f.field);
                    f
                })),
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(ApiError::invalid(errors))
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "sales/policy.html")]
struct PolicyPage {
    l: Layout,
    program: vouch_store::programs::Program,
    policy: vouch_app::resources::BonusPolicy,
    terms: PolicyTerms,
    errors: FormErrors,
    can_set: bool,
}

impl PolicyPage {
    /// Whether a set of terms has an error, so that its folded section opens.
    fn errors_in(&self, prefix: &str) -> bool {
        super::people::TERMS_FIELDS
            .iter()
            .any(|f| self.errors.has_in(prefix, f))
    }
}

async fn policy_page(
    StaffCan(mut console, _): StaffCan<perm::SalesRead>,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        let program = vouch_app::programs::get(&console.state, &id).await?;
        let policy = vouch_app::sales::policy(&console.state, &id).await?;
        Ok::<_, vouch_app::AppError>((program, policy))
    }
    .await;
    match result {
        Ok((program, policy)) => PolicyPage {
            l: console.layout("programs"),
            can_set: console.may(Action::SalesApprove),
            terms: PolicyTerms::of(&policy, &program.currency),
            program,
            policy,
            errors: FormErrors::default(),
        }
        .into_response(),
        Err(e) => error_page(&e.into()),
    }
}

async fn save_policy(
    StaffCan(mut console, _): StaffCan<perm::SalesApprove>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<PolicyForm>,
) -> Response {
    let terms = PolicyTerms {
        forms: POLICY_TERMS.map(|(prefix, _)| form.terms_form(prefix)),
        on: form.ticked_terms(),
    };
    let result = async {
        let [contact_terms, new_customer_terms, add_on_terms] = terms.to_fields()?;
        vouch_app::sales::set_policy(
            &console.state,
            &console.origin,
            &id,
            vouch_app::sales::PolicyFields {
                contact_terms,
                new_customer_bonus: ticked(&form.new_customer_bonus),
                new_customer_terms,
                add_on_bonus: ticked(&form.add_on_bonus),
                add_on_terms,
                allow_self_approval: ticked(&form.allow_self_approval),
            },
        )
        .await
        .map_err(ApiError::from)
    }
    .await;
    match result {
        Ok(_) => {
            console
                .redirect_with(
                    &format!("/admin/programs/{id}/bonus-policy"),
                    "Bonus policy saved; bonuses already created keep their terms.",
                )
                .await
        }
        Err(mut err) if err.status.is_client_error() && err.status.as_u16() != 404 => {
            // The application names a field under its set (`new_customer_terms.front_term`);
            // the form names it with the set's prefix (`nc_front_term`).
            for e in &mut err.errors {
                if let Some((prefix, rest)) = POLICY_TERMS.iter().find_map(|(prefix, api)| {
                    e.field
                        .strip_prefix(&format!("{api}."))
                        .map(|rest| (*prefix, rest.to_string()))
                }) {
                    e.field = format!("{prefix}{}", terms_form_field(&rest));
                }
            }
            let known: Vec<String> = POLICY_TERMS
                .iter()
                .flat_map(|(prefix, _)| TERMS_FIELDS.iter().map(move |f| format!("{prefix}{f}")))
                .collect();
            let known: Vec<&str> = known.iter().map(String::as_str).collect();
            let errors = FormErrors::from_api(&err, "", &known);
            let status = form_status(&err);
            let page = async {
                let program = vouch_app::programs::get(&console.state, &id).await?;
                let policy = vouch_app::sales::policy(&console.state, &id).await?;
                Ok::<_, vouch_app::AppError>((program, policy))
            }
            .await;
            match page {
                Ok((program, mut policy)) => {
                    // The page shows what was sent, not what is saved.
                    policy.new_customer_bonus = ticked(&form.new_customer_bonus);
                    policy.add_on_bonus = ticked(&form.add_on_bonus);
                    policy.allow_self_approval = ticked(&form.allow_self_approval);
                    with_status(
                        status,
                        PolicyPage {
                            l: console.layout("programs"),
                            can_set: true,
                            terms,
                            program,
                            policy,
                            errors,
                        },
                    )
                }
                Err(e) => error_page(&e.into()),
            }
        }
        Err(err) => error_page(&err),
    }
}
