//! One participant's page: who they are, who referred them and whom they referred (each
//! referral's stage), their clicks and rewards, their referral link shown as text (opening it
//! from the console would count a click and set an attribution cookie in the operator's own
//! browser), and changing their code.

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
use vouch_app::participant_profile::Profile;
use vouch_domain::permission::Action;

#[derive(Deserialize, Default)]
pub(super) struct CodeForm {
    #[serde(default)]
    code: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "programs/participant.html")]
pub(super) struct ParticipantPage {
    l: Layout,
    v: Profile,
    base: String,
    can_write: bool,
    can_privacy: bool,
    code: String,
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
    code: Option<String>,
    errors: FormErrors,
    status: StatusCode,
) -> Response {
    let v = match vouch_app::participant_profile::profile(&console.state, id).await {
        Ok(v) => v,
        Err(e) => return error_page(&e.into()),
    };
    let page = ParticipantPage {
        l: console.layout("programs"),
        base: console.state.settings.base_url.clone(),
        can_write: console.may(Action::ProgramsWrite),
        can_privacy: console.may(Action::PrivacyManage),
        code: code.unwrap_or_else(|| v.participant.code.clone()),
        v,
        errors,
    };
    with_status(status, page)
}

pub(super) async fn participant_page(
    StaffCan(console, _): StaffCan<perm::ProgramsRead>,
    Path(id): Path<String>,
) -> Response {
    render(console, &id, None, FormErrors::default(), StatusCode::OK).await
}

pub(super) async fn set_code(
    StaffCan(console, _): StaffCan<perm::ProgramsWrite>,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<CodeForm>,
) -> Response {
    match vouch_app::participants::set_code(&console.state, &console.origin, &id, &f.code).await {
        Ok(p) => {
            console
                .redirect_with(
                    &format!("/admin/participants/{}", p.id),
                    &format!(
                        "Their code is now {}; the old link no longer works.",
                        p.code
                    ),
                )
                .await
        }
        Err(e) => {
            let e = ApiError::from(e);
            if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND {
                let errors = FormErrors::from_api(&e, "", &["code"]);
                let status = form_status(&e);
                render(console, &id, Some(f.code), errors, status).await
            } else {
                error_page(&e)
            }
        }
    }
}
