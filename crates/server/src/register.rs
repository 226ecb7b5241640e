//! The public self-registration page behind a super customer's link:
//! `/register?…&super_customer_id=N`. Open and generic super customers get a form whose
//! submission creates an account nested under them; a channel partner's page sends people to
//! the partner's own site; unknown or unapproved links say so. Nothing is created on a refusal.

use crate::AppState;
use crate::console::{FormBody, FormErrors};
use crate::error::ApiError;
use crate::request::Meta;
use crate::throttle::{self, PublicWrite};
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use vouch_domain::account::{AccountFields, RegistrationPolicy};
use vouch_store::accounts::Account;
use vouch_store::audit::{Actor, Origin};

pub fn routes() -> Router<AppState> {
    Router::new().route("/register", get(page).post(submit))
}

#[derive(Deserialize, Default)]
struct LinkParams {
    #[serde(default)]
    super_customer_id: String,
}

#[derive(Deserialize, Default, Clone)]
struct RegisterForm {
    #[serde(default)]
    company: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    phone: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "register.html")]
struct RegisterPage {
    /// Whom the super customer stands for, as the page names it.
    name: String,
    generic: bool,
    f: RegisterForm,
    errors: FormErrors,
    action: String,
}

/// A public page that only says something: a title, a message, maybe a link.
#[derive(Template, WebTemplate)]
#[template(path = "register_notice.html")]
pub struct Notice {
    title: String,
    message: String,
    link: Option<(String, String)>,
}

impl Notice {
    pub fn new(title: &str, message: &str) -> Self {
        Self {
            title: title.into(),
            message: message.into(),
            link: None,
        }
    }

    /// The same, with a button to go on with.
    pub fn with_link(mut self, href: &str, label: &str) -> Self {
        self.link = Some((href.into(), label.into()));
        self
    }
}

fn notice(
    status: StatusCode,
    title: &str,
    message: String,
    link: Option<(String, String)>,
) -> Response {
    (
        status,
        Notice {
            title: title.into(),
            message,
            link,
        },
    )
        .into_response()
}

/// The super customer behind the link, or the page that explains why there is none.
/// A super customer behind a registration link, with the name its page shows.
struct Link {
    sc: Account,
    name: String,
}

async fn resolve(state: &AppState, raw_id: &str) -> Result<Link, Response> {
    let not_active = || {
        notice(
            StatusCode::NOT_FOUND,
            "This registration link is not active",
            "The link you followed does not lead to an active registration page. Ask the person who sent it for a current link.".into(),
            None,
        )
    };
    let Ok(id) = raw_id.trim().parse::<i64>() else {
        return Err(notice(
            StatusCode::BAD_REQUEST,
            "This registration link is incomplete",
            "The link is missing its super customer number. Ask the person who sent it for the full link.".into(),
            None,
        ));
    };
    let sc = match vouch_app::accounts::find_account(state, id).await {
        Ok(Some(sc)) => sc,
        Ok(None) => return Err(not_active()),
        Err(e) => return Err(crate::console::error_page(&e.into())),
    };
    if !sc.is_super_customer || !sc.registration_approved {
        return Err(not_active());
    }
    if sc.registration_policy == RegistrationPolicy::ChannelPartner {
        let link = sc
            .partner_site_url
            .clone()
            .map(|u| (u, format!("Register through {}", sc.name)));
        return Err(notice(
            StatusCode::FORBIDDEN,
            &format!("Register through {}", sc.name),
            format!(
                "Accounts for {} are set up by {} from their own site, not through self-registration. Please register there, or contact {} for access.",
                sc.name, sc.name, sc.name
            ),
            link,
        ));
    }
    // A channel partner's page (above) names the partner itself. Otherwise the page speaks
    // of whom the super customer stands for, never of the internal "… Referral Super
    // Customer" shell.
    match vouch_app::accounts::public_name(state, &sc).await {
        Ok(name) => Ok(Link { sc, name }),
        Err(e) => Err(crate::console::error_page(&e.into())),
    }
}

fn action_url(id: i64) -> String {
    format!("/register?super_customer_id={id}")
}

async fn page(State(state): State<AppState>, Query(p): Query<LinkParams>) -> Response {
    match resolve(&state, &p.super_customer_id).await {
        Ok(Link { sc, name }) => RegisterPage {
            generic: sc.registration_policy == RegistrationPolicy::Generic,
            action: action_url(sc.id),
            name,
            f: RegisterForm::default(),
            errors: FormErrors::default(),
        }
        .into_response(),
        Err(r) => r,
    }
}

async fn submit(
    State(state): State<AppState>,
    meta: Meta,
    Query(p): Query<LinkParams>,
    FormBody(f): FormBody<RegisterForm>,
) -> Response {
    let Link { sc, name } = match resolve(&state, &p.super_customer_id).await {
        Ok(link) => link,
        Err(r) => return r,
    };
    if let Some(refused) = throttle::refusal(
        &state,
        PublicWrite::Registration,
        &meta.client_ip,
        Some(&sc.id.to_string()),
    ) {
        return refused;
    }
    let origin = Origin {
        actor: Actor::public(),
        request_id: meta.request_id,
        client_ip: Some(meta.client_ip),
    };
    let again = |sc: Account, f: RegisterForm, err: &ApiError| {
        let mut errors_in = ApiError {
            errors: err.errors.clone(),
            ..ApiError::new(err.status, err.code, err.detail.clone())
        };
        for e in &mut errors_in.errors {
            e.field = match e.field.as_str() {
                "name" | "code" => "company".into(),
                "owner_first_name" => "first_name".into(),
                "owner_last_name" => "last_name".into(),
                "owner_phone" => "phone".into(),
                other => other.into(),
            };
        }
        let errors = FormErrors::from_api(
            &errors_in,
            "",
            &["company", "email", "first_name", "last_name", "phone"],
        );
        let status = crate::console::form_status(err);
        (
            status,
            RegisterPage {
                generic: sc.registration_policy == RegistrationPolicy::Generic,
                action: action_url(sc.id),
                name: name.clone(),
                f,
                errors,
            },
        )
            .into_response()
    };
    let fields = AccountFields {
        name: f.company.clone(),
        email: f.email.clone(),
        owner_first_name: f.first_name.clone(),
        owner_last_name: f.last_name.clone(),
        owner_phone: f.phone.clone(),
        ..Default::default()
    };
    let draft = match fields.parse() {
        Ok(d) => d,
        Err(v) => return again(sc, f, &ApiError::from(v)),
    };
    match vouch_app::accounts::register(&state, &origin, sc.id, draft)
        .await
        .map_err(ApiError::from)
    {
        Ok(account) => notice(
            StatusCode::CREATED,
            "You are registered",
            format!(
                "Welcome, {}. Your account {} ({}) is set up under {}.",
                account.owner_first_name, account.id, account.name, name
            ),
            None,
        ),
        Err(err)
            if err.status == StatusCode::CONFLICT
                && err.errors.first().is_some_and(|e| e.field == "email") =>
        {
            let err = ApiError::field(
                "email",
                "is already registered; log in instead, or use another address",
            )
            .with_code("already_exists");
            again(
                sc,
                f,
                &ApiError {
                    status: StatusCode::CONFLICT,
                    ..err
                },
            )
        }
        Err(err) if err.status.is_client_error() => again(sc, f, &err),
        Err(err) => crate::console::error_page(&err),
    }
}
