//! Referral programs in the console.

use super::{CsrfForm, FormErrors, Layout, StaffCan, error_page, form_status, with_status};
use crate::AppState;
use crate::auth::perm;
use crate::error::ApiError;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use vouch_app::programs as svc;
use vouch_domain::permission::Action;
use vouch_domain::program::{ProgramFields, ProgramStatus};
use vouch_store::programs::Program;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/programs", get(list))
        .route("/admin/programs/new", get(new_page).post(create))
        .route("/admin/programs/{id}", get(show).post(update))
        .route("/admin/programs/{id}/status", post(set_status))
}

#[derive(Template, WebTemplate)]
#[template(path = "programs/list.html")]
struct ListPage {
    l: Layout,
    rows: Vec<(Program, vouch_store::overview::ProgramNumbers)>,
    /// The window the numbers cover.
    days: i64,
    can_write: bool,
}

impl ListPage {
    /// `$10.00 + €5.00`, or `—` when nothing.
    fn sums(&self, sums: &[(String, i64)]) -> String {
        crate::view::sums(sums)
    }
}

async fn list(StaffCan(mut console, _): StaffCan<perm::ProgramsRead>) -> Response {
    let listed = match svc::list(&console.state, None, None, 100).await {
        Ok(rows) => rows,
        Err(e) => return error_page(&e.into()),
    };
    let mut numbers = match vouch_app::overview::numbers(&console.state).await {
        Ok(n) => n,
        Err(e) => return error_page(&e.into()),
    };
    let rows = listed
        .into_iter()
        .take(100)
        .map(|p| {
            let n = numbers.remove(&p.id).unwrap_or_default();
            (p, n)
        })
        .collect();
    let can_write = console.may(Action::ProgramsWrite);
    ListPage {
        l: console.layout("programs"),
        rows,
        days: vouch_app::overview::DAYS,
        can_write,
    }
    .into_response()
}

/// The settings form as the browser sends it.
#[derive(Deserialize, Default)]
struct ProgramForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    landing_url: String,
    #[serde(default)]
    fallback_url: String,
    #[serde(default)]
    attribution_window_days: String,
    #[serde(default)]
    attribution_model: String,
    #[serde(default)]
    qualifying_event: String,
    #[serde(default)]
    reward_hold_days: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    sender_name: String,
    #[serde(default)]
    reply_to: String,
    #[serde(default)]
    super_customer_id: String,
    /// `on` when ticked.
    #[serde(default)]
    show_leaderboard: Option<String>,
    #[serde(default)]
    headline: String,
    #[serde(default)]
    offer: String,
    #[serde(default)]
    logo_url: String,
    #[serde(default)]
    brand_color: String,
}

impl ProgramForm {
    /// Numbers that do not parse are reported on their field, with the rest of the checks.
    fn fields(&self) -> Result<ProgramFields, ApiError> {
        let number = |field: &str, raw: &str| {
            raw.trim()
                .parse::<i64>()
                .map_err(|_| ApiError::field(field, "must be a whole number"))
        };
        Ok(ProgramFields {
            name: self.name.clone(),
            slug: self.slug.clone(),
            landing_url: self.landing_url.clone(),
            fallback_url: self.fallback_url.clone(),
            attribution_window_days: number(
                "attribution_window_days",
                &self.attribution_window_days,
            )?,
            attribution_model: self.attribution_model.clone(),
            qualifying_event: self.qualifying_event.clone(),
            reward_hold_days: number("reward_hold_days", &self.reward_hold_days)?,
            currency: self.currency.clone(),
            sender_name: self.sender_name.clone(),
            reply_to: self.reply_to.clone(),
            super_customer_id: match self.super_customer_id.trim() {
                "" => None,
                raw => {
                    Some(raw.parse().map_err(|_| {
                        ApiError::field("super_customer_id", "must be a customer id")
                    })?)
                }
            },
            show_leaderboard: super::ticked(&self.show_leaderboard),
            headline: self.headline.clone(),
            offer: self.offer.clone(),
            logo_url: self.logo_url.clone(),
            brand_color: self.brand_color.clone(),
        })
    }

    fn of(f: &ProgramFields) -> Self {
        Self {
            name: f.name.clone(),
            slug: f.slug.clone(),
            landing_url: f.landing_url.clone(),
            fallback_url: f.fallback_url.clone(),
            attribution_window_days: f.attribution_window_days.to_string(),
            attribution_model: f.attribution_model.clone(),
            qualifying_event: f.qualifying_event.clone(),
            reward_hold_days: f.reward_hold_days.to_string(),
            currency: f.currency.clone(),
            sender_name: f.sender_name.clone(),
            reply_to: f.reply_to.clone(),
            super_customer_id: f
                .super_customer_id
                .map(|i| i.to_string())
                .unwrap_or_default(),
            show_leaderboard: f.show_leaderboard.then(|| "on".to_string()),
            headline: f.headline.clone(),
            offer: f.offer.clone(),
            logo_url: f.logo_url.clone(),
            brand_color: f.brand_color.clone(),
        }
    }
}

const FIELDS: &[&str] = &[
    "name",
    "slug",
    "landing_url",
    "fallback_url",
    "attribution_window_days",
    "attribution_model",
    "qualifying_event",
    "reward_hold_days",
    "currency",
    "sender_name",
    "reply_to",
    "super_customer_id",
    "headline",
    "offer",
    "logo_url",
    "brand_color",
];

#[derive(Template, WebTemplate)]
#[template(path = "programs/form.html")]
struct FormPage {
    l: Layout,
    title: String,
    action: String,
    f: ProgramForm,
    errors: FormErrors,
    program: Option<Program>,
    can_write: bool,
    can_publish: bool,
}

async fn new_page(StaffCan(mut console, _): StaffCan<perm::ProgramsWrite>) -> Response {
    let f = ProgramForm::of(&ProgramFields::new_defaults());
    FormPage {
        l: console.layout("programs"),
        title: "New program".into(),
        action: "/admin/programs/new".into(),
        f,
        errors: FormErrors::default(),
        program: None,
        can_write: true,
        can_publish: false,
    }
    .into_response()
}

async fn create(
    StaffCan(mut console, _): StaffCan<perm::ProgramsWrite>,
    CsrfForm(form): CsrfForm<ProgramForm>,
) -> Response {
    let result = match form.fields() {
        Ok(fields) => svc::create(&console.state, &console.origin, &fields)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match result {
        Ok(p) => {
            console
                .redirect_with(
                    &format!("/admin/programs/{}", p.id),
                    "Program created as a draft. A manager puts it live.",
                )
                .await
        }
        Err(err) if err.status.is_client_error() => {
            let page = FormPage {
                l: console.layout("programs"),
                title: "New program".into(),
                action: "/admin/programs/new".into(),
                errors: FormErrors::from_api(&err, "", FIELDS),
                f: form,
                program: None,
                can_write: true,
                can_publish: false,
            };
            with_status(form_status(&err), page)
        }
        Err(err) => error_page(&err),
    }
}

async fn show(
    StaffCan(mut console, _): StaffCan<perm::ProgramsRead>,
    Path(id): Path<String>,
) -> Response {
    match svc::get(&console.state, &id).await.map_err(ApiError::from) {
        Ok(p) => {
            let page = FormPage {
                title: p.name.clone(),
                action: format!("/admin/programs/{}", p.id),
                f: ProgramForm::of(&p.fields()),
                errors: FormErrors::default(),
                can_write: console.may(Action::ProgramsWrite),
                can_publish: console.may(Action::ProgramsPublish),
                program: Some(p),
                l: console.layout("programs"),
            };
            page.into_response()
        }
        Err(e) => error_page(&e),
    }
}

async fn update(
    StaffCan(mut console, _): StaffCan<perm::ProgramsWrite>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ProgramForm>,
) -> Response {
    let before = match svc::get(&console.state, &id).await.map_err(ApiError::from) {
        Ok(p) => p,
        Err(e) => return error_page(&e),
    };
    let result = match form.fields() {
        Ok(fields) => svc::update(&console.state, &console.origin, &id, &fields)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => {
            console
                .redirect_with(&format!("/admin/programs/{id}"), "Program saved.")
                .await
        }
        Err(err) if err.status.is_client_error() && err.status != StatusCode::NOT_FOUND => {
            let page = FormPage {
                title: before.name.clone(),
                action: format!("/admin/programs/{id}"),
                errors: FormErrors::from_api(&err, "", FIELDS),
                f: form,
                can_write: true,
                can_publish: console.may(Action::ProgramsPublish),
                program: Some(before),
                l: console.layout("programs"),
            };
            with_status(form_status(&err), page)
        }
        Err(err) => error_page(&err),
    }
}

#[derive(Deserialize, Default)]
struct StatusForm {
    #[serde(default)]
    status: String,
}

async fn set_status(
    StaffCan(console, _): StaffCan<perm::ProgramsWrite>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<StatusForm>,
) -> Response {
    let to = match form.status.parse::<ProgramStatus>() {
        Ok(s) => s,
        Err(m) => {
            return console
                .finish(
                    &format!("/admin/programs/{id}"),
                    Err(ApiError::field("status", m)),
                )
                .await;
        }
    };
    if to == ProgramStatus::Live && !console.may(Action::ProgramsPublish) {
        // Same rule as the API; the refusal is audited there too.
        if let Err(r) = console.require(Action::ProgramsPublish).await {
            return r;
        }
    }
    let before = svc::get(&console.state, &id).await.map(|p| p.status).ok();
    let outcome = svc::set_status(
        &console.state,
        &console.origin,
        &id,
        to,
        console.may(Action::ProgramsPublish),
    )
    .await
    .map_err(ApiError::from);
    let back = format!("/admin/programs/{id}");
    match (outcome, before) {
        // Pausing and resuming reverse each other, so the page that follows offers an Undo.
        (Ok(p), Some(was))
            if matches!(
                (was, p.status),
                (ProgramStatus::Live, ProgramStatus::Paused)
                    | (ProgramStatus::Paused, ProgramStatus::Live)
            ) =>
        {
            console
                .redirect_with_undo(
                    &back,
                    &format!("The program is now {}.", p.status),
                    &format!("/admin/programs/{id}/status"),
                    &[("status", was.as_str())],
                )
                .await
        }
        (outcome, _) => {
            let outcome = outcome.map(|p| format!("The program is now {}.", p.status));
            console.finish(&back, outcome).await
        }
    }
}
