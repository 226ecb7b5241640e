//! Share and embed: a tab of a program in the console with everything needed to put the
//! program in front of people: the hosted signup page, the iframe and script snippets, the
//! referral link pattern, the program id with API examples, and instant signup links made on
//! the spot for someone known.

use super::super::{
    Console, CsrfForm, FormErrors, Layout, StaffCan, error_page, form_status, with_status,
};
use super::program;
use crate::auth::perm;
use crate::error::ApiError;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use vouch_domain::participant::ParticipantFields;
use vouch_domain::permission::Action;
use vouch_store::programs::Program;

/// How long an instant link made here works unless the form says otherwise.
const DEFAULT_TTL_DAYS: i64 = 30;

#[derive(Deserialize, Default)]
pub(super) struct InstantForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    ttl_days: String,
    #[serde(default)]
    send_email: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "programs/share.html")]
pub(super) struct SharePage {
    l: Layout,
    p: Program,
    base: String,
    can_write: bool,
    f: InstantForm,
    errors: FormErrors,
    made: Option<vouch_app::instant::InstantLink>,
}

impl SharePage {
    fn iframe(&self) -> String {
        format!(
            "<iframe src=\"{}/p/{}/join?embed=1\" title=\"Join {}\" style=\"width:100%;max-width:40rem;height:520px;border:0\" loading=\"lazy\"></iframe>",
            self.base,
            self.p.slug,
            self.p.name.replace('"', "&quot;")
        )
    }

    fn script(&self) -> String {
        format!(
            "<script src=\"{}/p/{}/embed.js\" async></script>",
            self.base, self.p.slug
        )
    }

    fn curl_enrol(&self) -> String {
        format!(
            "curl -X POST {}/api/v1/programs/{}/participants \\\n  -H \"Authorization: Bearer $VOUCH_KEY\" -H \"Content-Type: application/json\" \\\n  -d '{{\"email\": \"ann@example.com\", \"first_name\": \"Ann\", \"referred_by\": \"BOB42\"}}'",
            self.base, self.p.id
        )
    }

    fn curl_event(&self) -> String {
        format!(
            "curl -X POST {}/api/v1/programs/{}/events \\\n  -H \"Authorization: Bearer $VOUCH_KEY\" -H \"Content-Type: application/json\" \\\n  -d '{{\"event_id\": \"order-1042\", \"name\": \"{}\", \"email\": \"ann@example.com\"}}'",
            self.base,
            self.p.id,
            if self.p.qualifying_event == "signup" {
                "purchase"
            } else {
                self.p.qualifying_event.as_str()
            }
        )
    }
}

async fn render(
    mut console: Console,
    p: Program,
    f: InstantForm,
    errors: FormErrors,
    made: Option<vouch_app::instant::InstantLink>,
) -> SharePage {
    let can_write = console.may(Action::ProgramsWrite);
    SharePage {
        l: console.layout("programs"),
        base: console.state.settings.base_url.clone(),
        p,
        can_write,
        f,
        errors,
        made,
    }
}

pub(super) async fn share_page(
    StaffCan(console, _): StaffCan<perm::ProgramsRead>,
    Path(id): Path<String>,
) -> Response {
    let p = match program(&console, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let form = InstantForm {
        ttl_days: DEFAULT_TTL_DAYS.to_string(),
        send_email: Some("on".into()),
        ..Default::default()
    };
    with_status(
        StatusCode::OK,
        render(console, p, form, FormErrors::default(), None).await,
    )
}

pub(super) async fn make_instant_link(
    StaffCan(console, _): StaffCan<perm::ProgramsWrite>,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<InstantForm>,
) -> Response {
    let p = match program(&console, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let ttl = match f.ttl_days.trim() {
        "" => Ok(DEFAULT_TTL_DAYS),
        days => days
            .parse::<i64>()
            .map_err(|_| ApiError::field("ttl_days", "must be a whole number of days")),
    };
    let fields = ParticipantFields {
        email: f.email.clone(),
        first_name: f.first_name.clone(),
        last_name: f.last_name.clone(),
        ..Default::default()
    };
    let made = match ttl {
        Ok(days) => {
            vouch_app::instant::create(&console.state, &p, &fields, days, f.send_email.is_some())
                .await
                .map_err(ApiError::from)
        }
        Err(e) => Err(e),
    };
    match made {
        Ok(link) => {
            let fresh = InstantForm {
                ttl_days: DEFAULT_TTL_DAYS.to_string(),
                send_email: f.send_email.clone(),
                ..Default::default()
            };
            with_status(
                StatusCode::CREATED,
                render(console, p, fresh, FormErrors::default(), Some(link)).await,
            )
        }
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            let errors =
                FormErrors::from_api(&e, "", &["email", "first_name", "last_name", "ttl_days"]);
            let status = form_status(&e);
            with_status(status, render(console, p, f, errors, None).await)
        }
        Err(e) => error_page(&e),
    }
}
