//! One participant's page: who they are, who referred them and whom they referred (each
//! referral's stage), their clicks and rewards, their referral link shown as text (opening it
//! from the console would count a click and set an attribution cookie in the operator's own
//! browser), changing their code, correcting their details, notes, and blocking them (with an
//! Undo on the page that follows).

use super::super::{
    Console, CsrfForm, FormErrors, Layout, StaffCan, error_page, form_status, with_status,
};
use crate::auth::perm;
use crate::error::ApiError;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use vouch_app::participant_admin::{self as admin, Details};
use vouch_app::participant_profile::Profile;
use vouch_domain::permission::Action;

#[derive(Deserialize, Default)]
pub(super) struct CodeForm {
    #[serde(default)]
    code: String,
}

#[derive(Deserialize, Default)]
pub(super) struct DetailsForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
}

#[derive(Deserialize, Default)]
pub(super) struct NoteForm {
    #[serde(default)]
    body: String,
}

#[derive(Deserialize, Default)]
pub(super) struct BlockForm {
    #[serde(default)]
    reason: String,
}

/// What the page's forms hold when one comes back with errors.
#[derive(Default)]
struct Entered {
    code: Option<String>,
    details: Option<DetailsForm>,
    note: String,
    reason: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "programs/participant.html")]
pub(super) struct ParticipantPage {
    l: Layout,
    v: Profile,
    base: String,
    can_write: bool,
    /// May block and unblock (a fraud decision, as reviewing referrals is).
    can_block: bool,
    can_privacy: bool,
    code: String,
    details: DetailsForm,
    note: String,
    reason: String,
    errors: FormErrors,
}

impl ParticipantPage {
    fn name(&self) -> String {
        let p = &self.v.participant;
        let name = [p.first_name.as_deref(), p.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        if name.trim().is_empty() {
            p.email.clone()
        } else {
            name
        }
    }

    fn title(&self, w: &vouch_store::rewards::Reward) -> String {
        vouch_app::rewards::title(w)
    }
}

async fn render(
    mut console: Console,
    id: &str,
    entered: Entered,
    errors: FormErrors,
    status: StatusCode,
) -> Response {
    let v = match vouch_app::participant_profile::profile(&console.state, id).await {
        Ok(v) => v,
        Err(e) => return error_page(&e.into()),
    };
    let details = entered.details.unwrap_or_else(|| DetailsForm {
        email: v.participant.email.clone(),
        first_name: v.participant.first_name.clone().unwrap_or_default(),
        last_name: v.participant.last_name.clone().unwrap_or_default(),
    });
    let page = ParticipantPage {
        l: console.layout("programs"),
        base: console.state.settings.base_url.clone(),
        can_write: console.may(Action::ProgramsWrite),
        can_block: console.may(Action::ReferralsReview),
        can_privacy: console.may(Action::PrivacyManage),
        code: entered.code.unwrap_or_else(|| v.participant.code.clone()),
        details,
        note: entered.note,
        reason: entered.reason,
        v,
        errors,
    };
    with_status(status, page)
}

pub(super) async fn participant_page(
    StaffCan(console, _): StaffCan<perm::ProgramsRead>,
    Path(id): Path<String>,
) -> Response {
    render(
        console,
        &id,
        Entered::default(),
        FormErrors::default(),
        StatusCode::OK,
    )
    .await
}

/// After a form: back to the page with `message`, or the page again with the errors next to
/// their fields (a missing participant or a fault gets its error page).
async fn answer<T>(
    console: Console,
    id: &str,
    outcome: Result<T, vouch_app::AppError>,
    message: impl FnOnce(&T) -> String,
    fields: &[&str],
    entered: Entered,
) -> Response {
    match outcome {
        Ok(done) => {
            let message = message(&done);
            console
                .redirect_with(&format!("/admin/participants/{id}"), &message)
                .await
        }
        Err(e) => refused(console, id, e, fields, entered).await,
    }
}

/// A form the use case refused: the page again with the errors next to `fields` (a missing
/// participant or a fault gets its error page).
async fn refused(
    console: Console,
    id: &str,
    e: vouch_app::AppError,
    fields: &[&str],
    entered: Entered,
) -> Response {
    let e = ApiError::from(e);
    if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND {
        let errors = FormErrors::from_api(&e, "", fields);
        let status = form_status(&e);
        render(console, id, entered, errors, status).await
    } else {
        error_page(&e)
    }
}

pub(super) async fn edit_details(
    StaffCan(console, _): StaffCan<perm::ProgramsWrite>,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<DetailsForm>,
) -> Response {
    let details = Details {
        email: f.email.clone(),
        first_name: f.first_name.clone(),
        last_name: f.last_name.clone(),
    };
    let outcome = admin::edit(&console.state, &console.origin, &id, &details).await;
    let entered = Entered {
        details: Some(f),
        ..Default::default()
    };
    answer(
        console,
        &id,
        outcome,
        |_| "Their details are saved.".to_string(),
        &["email", "first_name", "last_name"],
        entered,
    )
    .await
}

pub(super) async fn add_note(
    StaffCan(console, _): StaffCan<perm::ProgramsWrite>,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<NoteForm>,
) -> Response {
    let outcome = admin::add_note(&console.state, &console.origin, &id, &f.body).await;
    let entered = Entered {
        note: f.body,
        ..Default::default()
    };
    answer(
        console,
        &id,
        outcome,
        |_| "Note added.".to_string(),
        &["body"],
        entered,
    )
    .await
}

pub(super) async fn block(
    StaffCan(console, _): StaffCan<perm::ReferralsReview>,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<BlockForm>,
) -> Response {
    let outcome = admin::block(&console.state, &console.origin, &id, &f.reason).await;
    match outcome {
        Ok(_) => {
            console
                .redirect_with_undo(
                    &format!("/admin/participants/{id}"),
                    "Blocked: their link credits no one and they earn nothing new.",
                    &format!("/admin/participants/{id}/unblock"),
                    &[],
                )
                .await
        }
        Err(e) => {
            let entered = Entered {
                reason: f.reason,
                ..Default::default()
            };
            refused(console, &id, e, &["reason"], entered).await
        }
    }
}

pub(super) async fn unblock(
    StaffCan(console, _): StaffCan<perm::ReferralsReview>,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<BlockForm>,
) -> Response {
    let outcome = admin::unblock(&console.state, &console.origin, &id)
        .await
        .map_err(ApiError::from)
        .map(|_| {
            "Unblocked: their link credits them again from now on; wins while blocked count toward their next reward."
                .to_string()
        });
    console
        .finish(&format!("/admin/participants/{id}"), outcome)
        .await
}

pub(super) async fn set_code(
    StaffCan(console, _): StaffCan<perm::ProgramsWrite>,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<CodeForm>,
) -> Response {
    let outcome =
        vouch_app::participants::set_code(&console.state, &console.origin, &id, &f.code).await;
    let entered = Entered {
        code: Some(f.code),
        ..Default::default()
    };
    answer(
        console,
        &id,
        outcome,
        |p| {
            format!(
                "Their code is now {}; the old link no longer works.",
                p.code
            )
        },
        &["code"],
        entered,
    )
    .await
}
