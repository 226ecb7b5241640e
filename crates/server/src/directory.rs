//! The public partner directory (`/find-a-partner`, seed 003): partners that receive referrals
//! and chose to be listed, each with a form to ask it for help. An enquiry becomes a referral
//! from us to that partner, New in its portal, and the partner is emailed. Anyone may use
//! these pages; an unlisted partner's id is "not found".

use crate::AppState;
use crate::console::partner_referrals::ReferralForm as EnquiryForm;
use crate::console::{FormBody, FormErrors};
use crate::error::ApiError;
use crate::public::notice;
use crate::request::Meta;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use vouch_app::partner_referrals::{self as svc, Listed};
use vouch_domain::partner_referral::Need;
use vouch_store::audit::{Actor, ActorKind, Origin};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/find-a-partner", get(directory))
        .route("/find-a-partner/{id}", get(form_page).post(submit))
}

#[derive(Template, WebTemplate)]
#[template(path = "directory.html")]
struct DirectoryPage {
    partners: Vec<Listed>,
}

async fn directory(State(state): State<AppState>) -> Response {
    match svc::directory(&state).await {
        Ok(partners) => DirectoryPage { partners }.into_response(),
        Err(e) => crate::console::error_page(&e.into()),
    }
}

const FIELDS: &[&str] = &[
    "client_name",
    "company",
    "email",
    "phone",
    "website",
    "needs",
    "notes",
];

#[derive(Template, WebTemplate)]
#[template(path = "directory_enquiry.html")]
struct EnquiryPage {
    partner: Listed,
    f: EnquiryForm,
    errors: FormErrors,
    needs: Vec<(&'static str, &'static str)>,
}

impl EnquiryPage {
    fn new(partner: Listed, f: EnquiryForm, errors: FormErrors) -> Self {
        Self {
            partner,
            f,
            errors,
            // The staff's labels speak of "the client"; here the client is the reader.
            needs: Need::ALL
                .iter()
                .map(|n| {
                    let label = match n {
                        Need::PlanAdvice => "Which subscription plan suits me",
                        Need::Requirements => "Whether the platform meets my requirements",
                        Need::Questions => "Answers to my questions",
                        Need::JointDemo => "A demo",
                    };
                    (n.as_str(), label)
                })
                .collect(),
        }
    }

    fn ticked(&self, need: &str) -> bool {
        self.f.needs_on(need)
    }
}

async fn listed(state: &AppState, id: &str) -> Result<Listed, Response> {
    svc::listed_partner(state, id).await.map_err(|e| {
        let e = ApiError::from(e);
        if e.status == StatusCode::NOT_FOUND {
            notice(
                StatusCode::NOT_FOUND,
                "This partner is not listed",
                "Choose a partner from the directory at /find-a-partner.",
            )
        } else {
            crate::console::error_page(&e)
        }
    })
}

async fn form_page(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match listed(&state, &id).await {
        Ok(partner) => {
            EnquiryPage::new(partner, EnquiryForm::default(), FormErrors::default()).into_response()
        }
        Err(r) => r,
    }
}

async fn submit(
    State(state): State<AppState>,
    meta: Meta,
    Path(id): Path<String>,
    FormBody(f): FormBody<EnquiryForm>,
) -> Response {
    let partner = match listed(&state, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if let Some(refused) = crate::throttle::refusal(
        &state,
        crate::throttle::PublicWrite::Enquiry,
        &meta.client_ip,
        Some(&partner.id),
    ) {
        return refused;
    }
    let origin = Origin {
        actor: Actor {
            kind: ActorKind::Public,
            id: None,
            label: "directory enquiry".into(),
        },
        request_id: meta.request_id,
        client_ip: Some(meta.client_ip),
    };
    // The public form has no value: the partner's own estimate comes later.
    let fields = match f.client_fields() {
        Ok(fields) => fields,
        Err(err) => {
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                EnquiryPage::new(partner, f, FormErrors::from_api(&err, "", FIELDS)),
            )
                .into_response();
        }
    };
    match svc::enquire(&state, &origin, &partner.id, &fields)
        .await
        .map_err(ApiError::from)
    {
        Ok(_) => notice(
            StatusCode::CREATED,
            &format!("{} will be in touch", partner.name),
            &format!(
                "Thank you. We passed your enquiry to {}, who will contact you about what you need.",
                partner.name
            ),
        ),
        Err(err) if err.status == StatusCode::UNPROCESSABLE_ENTITY => (
            StatusCode::UNPROCESSABLE_ENTITY,
            EnquiryPage::new(partner, f, FormErrors::from_api(&err, "", FIELDS)),
        )
            .into_response(),
        Err(err) => crate::console::error_page(&err),
    }
}
