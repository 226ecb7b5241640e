//! Participants: a tab of a program in the console.

use super::super::{
    Console, CsrfForm, FormErrors, Layout, StaffCan, error_page, form_status, with_status,
};
use crate::auth::perm;
use crate::console::table::{Column, list_url, sort_headers};
use crate::error::ApiError;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use vouch_app::participants as enrolment;
use vouch_domain::participant::ParticipantFields;
use vouch_domain::permission::Action;
use vouch_store::participants::Participant;
use vouch_store::programs::Program;

use super::{ListParams, PAGE, next_cursor, nonempty, program};

#[derive(Deserialize, Default, Clone)]
pub(super) struct EnrolForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    referred_by: String,
    #[serde(default)]
    company: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "programs/participants.html")]
pub(super) struct ParticipantsPage {
    /// How many participants the search finds in all.
    total: i64,
    columns: Vec<Column>,
    /// The list's `sort` parameter, kept by the search form.
    sort: String,
    l: Layout,
    p: Program,
    rows: Vec<Participant>,
    q: String,
    next_url: Option<String>,
    can_write: bool,
    f: EnrolForm,
    errors: FormErrors,
}

pub(super) async fn participants_page(
    console: Console,
    Path(id): Path<String>,
    Query(params): Query<ListParams>,
) -> Response {
    show_participants(console, id, params, EnrolForm::default(), None).await
}

pub(super) async fn show_participants(
    mut console: Console,
    id: String,
    params: ListParams,
    f: EnrolForm,
    err: Option<ApiError>,
) -> Response {
    if let Err(r) = console.require(Action::ProgramsRead).await {
        return r;
    }
    let p = match program(&console, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (order, sort) = params.order(vouch_store::participants::SORTS);
    let rows = vouch_app::participants::list_participants(
        &console.state,
        &p.id,
        nonempty(&params.q),
        order,
        nonempty(&params.starting_after),
        PAGE,
    )
    .await;
    let mut rows = match rows {
        Ok(r) => r,
        Err(e) => return error_page(&e.into()),
    };
    let total = match vouch_app::participants::count_participants(
        &console.state,
        &p.id,
        nonempty(&params.q),
    )
    .await
    {
        Ok(n) => n,
        Err(e) => return error_page(&e.into()),
    };
    let path = format!("/admin/programs/{}/participants", p.id);
    let next_url = next_cursor(&mut rows, |r| r.id.clone()).map(|c| {
        list_url(
            &path,
            &[("q", &params.q), ("sort", &sort), ("starting_after", &c)],
        )
    });
    let columns = sort_headers(
        &[
            ("email", "Email"),
            ("name", "Name"),
            ("code", "Code"),
            ("", "Referred by"),
            ("status", "Status"),
            ("signed_up_at", "Signed up"),
        ],
        &sort,
        |s| list_url(&path, &[("q", &params.q), ("sort", s)]),
    );
    let status = err.as_ref().map_or(StatusCode::OK, form_status);
    let errors = err.map_or_else(FormErrors::default, |e| {
        FormErrors::from_api(
            &e,
            "",
            &["email", "first_name", "last_name", "referred_by", "company"],
        )
    });
    let page = ParticipantsPage {
        columns,
        sort,
        total,
        l: console.layout("programs"),
        can_write: console.may(Action::ProgramsWrite),
        p,
        rows,
        q: params.q,
        next_url,
        f,
        errors,
    };
    with_status(status, page)
}

pub(super) async fn enrol(
    StaffCan(console, _): StaffCan<perm::ProgramsWrite>,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<EnrolForm>,
) -> Response {
    let p = match program(&console, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let fields = ParticipantFields {
        email: f.email.clone(),
        first_name: f.first_name.clone(),
        last_name: f.last_name.clone(),
        referred_by: f.referred_by.clone(),
        ip_address: String::new(),
        company: f.company.clone(),
    };
    let outcome = match fields.parse() {
        Ok(draft) => enrolment::enrol(
            &console.state,
            &console.origin,
            &p,
            &draft,
            &Default::default(),
        )
        .await
        .map_err(ApiError::from),
        Err(v) => Err(ApiError::from(v)),
    };
    match outcome {
        Ok((participant, referral)) => {
            let note = if referral.is_some() {
                ", referral recorded"
            } else {
                ""
            };
            console
                .redirect_with(
                    &format!("/admin/programs/{}/participants", p.id),
                    &format!(
                        "Enrolled {} with code {}{note}.",
                        participant.email, participant.code
                    ),
                )
                .await
        }
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            show_participants(console, id, ListParams::default(), f, Some(e)).await
        }
        Err(e) => error_page(&e),
    }
}
