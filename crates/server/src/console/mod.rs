//! The staff console under `/admin`: server-rendered pages (askama, auto-escaped), plain HTML
//! forms with CSRF tokens, flash messages kept on the session. Every page declares the action it
//! needs through [`Console::require`], the same permission table the API uses.

// Console helpers answer a refusal with the finished page; axum's `Response` is the natural
// error type there, large or not.
#![expect(clippy::result_large_err)]

mod accounts;
mod admin;
mod bonuses;
mod emails;
pub(crate) mod lead_sales;
mod login;
mod overview;
pub(crate) mod partner_referrals;
mod partners;
mod payouts;
mod people;
mod privacy;
mod program_work;
mod programs;
mod sales;
mod sales_referrals;
mod sales_reports;
mod setups;
pub(crate) mod table;
mod webhooks;

use crate::AppState;
use crate::auth::{Permission, StaffSession, constant_time_eq, load_session, staff_actor};
use crate::error::ApiError;
use crate::request::Meta;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashMap;
use vouch_app::auth::audit_refusal;
use vouch_domain::FieldError;
use vouch_domain::permission::{Action, role_allows};
use vouch_store::audit::Origin;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(overview::routes())
        .merge(login::routes())
        .merge(accounts::routes())
        .merge(setups::routes())
        .merge(admin::routes())
        .merge(privacy::routes())
        .merge(webhooks::routes())
        .merge(emails::routes())
        .merge(programs::routes())
        .merge(program_work::routes())
        .merge(people::routes())
        .merge(partners::routes())
        .merge(partner_referrals::routes())
        .merge(lead_sales::routes())
        .merge(sales::routes())
        .merge(bonuses::routes())
        .merge(payouts::routes())
        .merge(sales_reports::routes())
        .merge(sales_referrals::routes())
}

/// What the shared layout shows.
pub struct Layout {
    pub section: &'static str,
    pub email: String,
    pub role: String,
    pub csrf: String,
    pub flash: Option<String>,
    /// The way back from the action the flash reports, when it has one.
    pub undo: Option<Undo>,
    pub can_audit: bool,
    pub can_admin: bool,
    pub can_webhooks: bool,
    pub can_emails: bool,
    /// The time zone the page's times are shown in (the user's, else the installation's).
    pub tz: String,
}

/// A form that reverses the action a flash message reports ("Blocked. Undo"): posted with the
/// session's CSRF token like any console form, so it is checked and audited as the reverse
/// action itself.
pub struct Undo {
    pub action: String,
    pub fields: Vec<(String, String)>,
}

/// Separates a flash message from its undo form in the session's one flash text.
const UNDO_MARK: char = '\u{1e}';

/// Splits a stored flash into its message and undo form. Only the console writes the mark, and
/// only console addresses are honoured as the form's target.
fn split_flash(stored: String) -> (String, Option<Undo>) {
    let mut parts = stored.splitn(3, UNDO_MARK);
    let message = parts.next().unwrap_or_default().to_string();
    let undo = match (parts.next(), parts.next()) {
        (Some(action), Some(fields)) if action.starts_with("/admin/") => Some(Undo {
            action: action.to_string(),
            fields: form_urlencoded::parse(fields.as_bytes())
                .into_owned()
                .collect(),
        }),
        _ => None,
    };
    (message, undo)
}

/// A logged-in staff member on a console page.
pub struct Console {
    pub state: AppState,
    pub session: StaffSession,
    pub origin: Origin,
}

impl FromRequestParts<AppState> for Console {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let meta = Meta::from_request_parts(parts, state)
            .await
            .unwrap_or_else(|e| match e {});
        // Only pages take the flash; a POST keeps it for the page it redirects to.
        let take_flash = parts.method == axum::http::Method::GET;
        match load_session(state, parts, take_flash).await {
            Ok(Some(session)) => {
                let origin = Origin {
                    actor: staff_actor(&session.user),
                    request_id: meta.request_id,
                    client_ip: Some(meta.client_ip),
                };
                // The form extractor that may follow checks the form's token against this one.
                parts
                    .extensions
                    .insert(SessionCsrf(session.csrf_token.clone()));
                Ok(Self {
                    state: state.clone(),
                    session,
                    origin,
                })
            }
            Ok(None) => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/admin");
                let target = format!(
                    "/admin/login?next={}",
                    form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                );
                Err(Redirect::to(&target).into_response())
            }
            Err(e) => Err(error_page(&e)),
        }
    }
}

/// A console user whose role allows `P` (the API's permission markers): the check runs, and a
/// refusal is audited and answered with a 403 page, before the handler or its form runs.
pub struct StaffCan<P>(pub Console, pub std::marker::PhantomData<P>);

impl<P: Permission> FromRequestParts<AppState> for StaffCan<P> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let console = Console::from_request_parts(parts, state).await?;
        console.require(P::ACTION).await?;
        Ok(Self(console, std::marker::PhantomData))
    }
}

/// The session's CSRF token, left in the request by [`Console`] (or the portal's extractor)
/// for [`CsrfForm`].
#[derive(Clone)]
pub(crate) struct SessionCsrf(pub(crate) String);

/// A form that carries the session's CSRF token in its `csrf` field, checked before the form
/// is handed over. It needs a [`Console`] (or [`StaffCan`]) extractor before it in the handler;
/// without one it refuses, so a handler cannot take a form unchecked.
pub struct CsrfForm<T>(pub T);

#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Response> {
        let expected = req.extensions().get::<SessionCsrf>().cloned();
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| error_page(&ApiError::bad_request("The form could not be read.")))?;
        let sent: CsrfField = serde_urlencoded::from_bytes(&bytes).unwrap_or(CsrfField {
            csrf: String::new(),
        });
        match expected {
            Some(SessionCsrf(token))
                if !token.is_empty() && constant_time_eq(&sent.csrf, &token) => {}
            _ => return Err(csrf_refused()),
        }
        // A control character (NUL above all, which PostgreSQL cannot store) has no place in
        // a form field; tab and line breaks are text.
        let stray = form_urlencoded::parse(&bytes).any(|(k, v)| {
            [k, v].iter().any(|t| {
                t.chars()
                    .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
            })
        });
        if stray {
            return Err(error_page(&ApiError::bad_request(
                "The form holds a control character (such as NUL) that no field accepts. Go back, remove it and send the form again.",
            )));
        }
        serde_urlencoded::from_bytes(&bytes).map(Self).map_err(|e| {
            error_page(&ApiError::bad_request(format!(
                "The form could not be read: {e}"
            )))
        })
    }
}

fn csrf_refused() -> Response {
    error_page(&ApiError::forbidden(
        "This form has expired or did not come from this site. Go back, reload the page and try again.",
    ))
}

impl Console {
    pub fn layout(&mut self, section: &'static str) -> Layout {
        let role = self.session.user.role;
        let (flash, undo) = match self.session.flash.take().map(split_flash) {
            Some((message, undo)) => (Some(message), undo),
            None => (None, None),
        };
        Layout {
            section,
            email: self.session.user.email.clone(),
            role: role.to_string(),
            csrf: self.session.csrf_token.clone(),
            flash,
            undo,
            can_audit: role_allows(role, Action::AuditRead),
            can_admin: role_allows(role, Action::UsersManage),
            can_webhooks: role_allows(role, Action::WebhooksManage),
            can_emails: role_allows(role, Action::EmailsManage),
            tz: self
                .session
                .user
                .time_zone
                .clone()
                .unwrap_or_else(|| self.state.settings.time_zone.clone()),
        }
    }

    pub fn may(&self, action: Action) -> bool {
        role_allows(self.session.user.role, action)
    }

    /// Refuses with a 403 page (audited) unless the user's role allows `action`.
    pub async fn require(&self, action: Action) -> Result<(), Response> {
        if self.may(action) {
            return Ok(());
        }
        audit_refusal(&self.state, &self.origin, action).await;
        Err(error_page(&ApiError::forbidden(format!(
            "Your role ({}) does not allow this ({}). Ask an administrator if you need it.",
            self.session.user.role,
            action.name()
        ))))
    }

    /// Every state-changing form carries the session's CSRF token.
    pub fn check_csrf(&self, sent: &str) -> Result<(), Response> {
        if constant_time_eq(sent, &self.session.csrf_token) {
            Ok(())
        } else {
            Err(csrf_refused())
        }
    }

    /// Redirects with a message for the next page. The message cannot carry an undo form of
    /// its own: the mark that starts one is taken out of it.
    pub async fn redirect_with(&self, to: &str, message: &str) -> Response {
        self.store_flash(to, &message.replace(UNDO_MARK, " ")).await
    }

    async fn store_flash(&self, to: &str, message: &str) -> Response {
        if let Err(e) = vouch_app::auth::set_flash(&self.state, &self.session, message).await {
            tracing::warn!(error = %e, "could not store a flash message");
        }
        Redirect::to(to).into_response()
    }

    /// Redirects with a message and an Undo button that posts `fields` to `action`.
    pub async fn redirect_with_undo(
        &self,
        to: &str,
        message: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> Response {
        // The serializer is not `Send`; it is gone before the await.
        let encoded = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let message = message.replace(UNDO_MARK, " ");
        let stored = format!("{message}{UNDO_MARK}{action}{UNDO_MARK}{encoded}");
        self.store_flash(to, &stored).await
    }
}

impl Console {
    /// Ends a one-button action: back to `back` with the outcome as the flash message. Bad
    /// input and refused rules become a "Not done: …" message; a missing resource or a server
    /// fault gets its error page.
    pub async fn finish(&self, back: &str, outcome: Result<String, ApiError>) -> Response {
        match outcome {
            Ok(message) => self.redirect_with(back, &message).await,
            Err(err) if err.status.is_client_error() && err.status != StatusCode::NOT_FOUND => {
                let message = err
                    .errors
                    .first()
                    .map(|e| e.message.clone())
                    .unwrap_or(err.detail);
                self.redirect_with(back, &format!("Not done: {message}"))
                    .await
            }
            Err(err) => error_page(&err),
        }
    }
}

/// The rows ticked in a bulk form: each arrives as `pick_<id>=on` (a plain form cannot send a
/// list), sorted so the work is done in a stable order.
pub fn picked_ids(form: &HashMap<String, String>) -> Vec<String> {
    let mut ids: Vec<String> = form
        .keys()
        .filter_map(|k| k.strip_prefix("pick_"))
        .map(str::to_string)
        .collect();
    ids.sort();
    ids
}

/// "3 rewards delivered." or "2 rewards delivered; 1 not: rwd_… (why)": a bulk action's
/// outcome, item by item (`None`: done), each refused item named by its id.
pub fn bulk_message(noun: &str, verb: &str, outcomes: &[(String, Option<String>)]) -> String {
    let done = outcomes.iter().filter(|(_, e)| e.is_none()).count();
    let refused: Vec<String> = outcomes
        .iter()
        .filter_map(|(id, e)| e.as_deref().map(|why| format!("{id} ({why})")))
        .collect();
    if refused.is_empty() {
        format!("{done} {noun} {verb}.")
    } else {
        format!(
            "{done} {noun} {verb}; {} not: {}",
            refused.len(),
            refused.join("; ")
        )
    }
}

/// Field errors keyed by field name, for showing next to each input.
#[derive(Debug, Default, Clone)]
pub struct FormErrors {
    fields: HashMap<String, String>,
    /// Problems that belong to no single field.
    pub general: Vec<String>,
}

impl FormErrors {
    pub fn has(&self, field: &str) -> bool {
        self.fields.contains_key(field)
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.fields.get(field).map(String::as_str)
    }

    /// A field of a form that repeats a group of fields under name prefixes (`nc_percentage`).
    pub fn has_in(&self, prefix: &str, field: &str) -> bool {
        self.fields.contains_key(&format!("{prefix}{field}"))
    }

    pub fn get_in(&self, prefix: &str, field: &str) -> Option<&str> {
        self.fields
            .get(&format!("{prefix}{field}"))
            .map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.general.is_empty()
    }

    /// Splits an API error into per-field messages; `known` lists the fields the form shows,
    /// and a prefix such as `super_customer.` is stripped first.
    pub fn from_api(err: &ApiError, strip_prefix: &str, known: &[&str]) -> Self {
        let mut out = Self::default();
        for FieldError { field, message } in &err.errors {
            let short = field.strip_prefix(strip_prefix).unwrap_or(field);
            if known.contains(&short) {
                out.fields
                    .entry(short.to_string())
                    .or_insert_with(|| capitalise(message));
            } else {
                out.general.push(format!("{field} {message}"));
            }
        }
        if err.errors.is_empty() {
            out.general.push(err.detail.clone());
        }
        out
    }
}

fn capitalise(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
}

/// A plain page for an error, with the matching status.
pub fn error_page(err: &ApiError) -> Response {
    if err.status.is_server_error() {
        tracing::error!(code = err.code, "console error");
    }
    let page = ErrorPage {
        title: err.title(),
        message: &err.detail,
    };
    (err.status, page).into_response()
}

/// The status of a form shown again with its errors: 409 for a conflict (a taken email), 422
/// for anything else wrong with the input.
pub fn form_status(err: &ApiError) -> StatusCode {
    if err.status == StatusCode::CONFLICT {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

/// Renders a form page again with its errors (422, or 409 for a conflict).
pub fn with_status(status: StatusCode, page: impl IntoResponse) -> Response {
    (status, page).into_response()
}

/// Checkbox value from a form: browsers send the field only when it is ticked.
pub fn ticked(value: &Option<String>) -> bool {
    value
        .as_deref()
        .is_some_and(|v| !v.is_empty() && v != "off")
}

/// Parses a form body, ignoring fields the handler does not know (browsers send buttons too).
pub struct FormBody<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for FormBody<T> {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Response> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| error_page(&ApiError::bad_request("The form could not be read.")))?;
        serde_urlencoded::from_bytes(&bytes).map(Self).map_err(|e| {
            error_page(&ApiError::bad_request(format!(
                "The form could not be read: {e}"
            )))
        })
    }
}
