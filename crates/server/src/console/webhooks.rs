//! Webhook endpoints, their messages and attempts, and the queue's dead jobs in the console.

use super::{
    Console, CsrfForm, FormBody, FormErrors, Layout, StaffCan, error_page, ticked, with_status,
};
use crate::AppState;
use crate::auth::perm;
use crate::error::ApiError;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use vouch_app::webhooks::{self as svc, EndpointIn};
use vouch_domain::permission::Action;
use vouch_store::jobs::{Attempt, Job};
use vouch_store::webhooks::{Endpoint, Message};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/webhooks", get(list).post(create))
        .route("/admin/webhooks/{id}", get(show).post(update))
        .route("/admin/webhooks/{id}/action", post(action))
        .route("/admin/webhooks/{id}/messages/{message}", get(message))
        .route(
            "/admin/webhooks/{id}/messages/{message}/resend",
            post(resend),
        )
        .route("/admin/jobs", get(dead_jobs))
        .route("/admin/jobs/{id}/retry", post(retry_job))
}

#[derive(Deserialize, Default, Clone)]
struct EndpointForm {
    #[serde(default)]
    url: String,
    #[serde(default)]
    description: String,
    /// Comma- or line-separated.
    #[serde(default)]
    event_types: String,
    enabled: Option<String>,
}

impl EndpointForm {
    fn input(&self) -> EndpointIn {
        EndpointIn {
            url: Some(self.url.clone()),
            description: Some(self.description.clone()),
            event_types: Some(
                self.event_types
                    .split([',', '\n'])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
            enabled: Some(ticked(&self.enabled)),
        }
    }

    fn of(e: &Endpoint) -> Self {
        Self {
            url: e.url.clone(),
            description: e.description.clone().unwrap_or_default(),
            event_types: e.event_types.join(", "),
            enabled: e.enabled.then(|| "on".to_string()),
        }
    }
}

/// `event_types[3]` → `event_types`, so the form shows it under its one field.
fn form_errors(err: &ApiError) -> FormErrors {
    let mut err = ApiError {
        errors: err.errors.clone(),
        ..ApiError::new(err.status, err.code, err.detail.clone())
    };
    for e in &mut err.errors {
        if e.field.starts_with("event_types") {
            e.field = "event_types".into();
        }
    }
    FormErrors::from_api(&err, "", &["url", "description", "event_types"])
}

#[derive(Template, WebTemplate)]
#[template(path = "webhooks/list.html")]
struct ListPage {
    l: Layout,
    endpoints: Vec<Endpoint>,
    f: EndpointForm,
    errors: FormErrors,
}

async fn render_list(
    mut console: Console,
    f: EndpointForm,
    errors: FormErrors,
    status: StatusCode,
) -> Response {
    match svc::list_endpoints(&console.state).await {
        Ok(endpoints) => with_status(
            status,
            ListPage {
                l: console.layout("webhooks"),
                endpoints,
                f,
                errors,
            },
        ),
        Err(e) => error_page(&e.into()),
    }
}

async fn list(StaffCan(console, _): StaffCan<perm::WebhooksManage>) -> Response {
    let f = EndpointForm {
        enabled: Some("on".into()),
        ..EndpointForm::default()
    };
    render_list(console, f, FormErrors::default(), StatusCode::OK).await
}

async fn create(
    StaffCan(console, _): StaffCan<perm::WebhooksManage>,
    CsrfForm(form): CsrfForm<EndpointForm>,
) -> Response {
    match svc::create_endpoint(&console.state, &console.origin, form.input())
        .await
        .map_err(ApiError::from)
    {
        Ok(e) => {
            console
                .redirect_with(
                    &format!("/admin/webhooks/{}", e.id),
                    "Endpoint created. Reveal its signing secret below to verify deliveries.",
                )
                .await
        }
        Err(err) if err.status.is_client_error() => {
            render_list(console, form.clone(), form_errors(&err), err.status).await
        }
        Err(err) => error_page(&err),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "webhooks/show.html")]
struct ShowPage {
    l: Layout,
    e: Endpoint,
    f: EndpointForm,
    errors: FormErrors,
    messages: Vec<Message>,
    next_url: Option<String>,
}

#[derive(Deserialize, Default)]
struct MessagesParams {
    #[serde(default)]
    starting_after: String,
}

const PAGE: i64 = 25;

async fn render_show(
    mut console: Console,
    id: &str,
    f: Option<EndpointForm>,
    errors: FormErrors,
    after: Option<&str>,
    status: StatusCode,
) -> Response {
    let loaded = async {
        let e = svc::get_endpoint(&console.state, id).await?;
        let messages = svc::list_messages(&console.state, id, after, PAGE).await?;
        Ok::<_, ApiError>((e, messages))
    }
    .await;
    let (e, mut messages) = match loaded {
        Ok(x) => x,
        Err(err) => return error_page(&err),
    };
    let has_more = messages.len() > usize::try_from(PAGE).unwrap_or(25);
    messages.truncate(usize::try_from(PAGE).unwrap_or(25));
    let next_url = if has_more {
        messages
            .last()
            .map(|m| format!("/admin/webhooks/{id}?starting_after={}", m.id))
    } else {
        None
    };
    let f = f.unwrap_or_else(|| EndpointForm::of(&e));
    with_status(
        status,
        ShowPage {
            l: console.layout("webhooks"),
            e,
            f,
            errors,
            messages,
            next_url,
        },
    )
}

async fn show(
    StaffCan(console, _): StaffCan<perm::WebhooksManage>,
    Path(id): Path<String>,
    Query(p): Query<MessagesParams>,
) -> Response {
    let after = Some(p.starting_after.trim()).filter(|s| !s.is_empty());
    render_show(
        console,
        &id,
        None,
        FormErrors::default(),
        after,
        StatusCode::OK,
    )
    .await
}

async fn update(
    StaffCan(console, _): StaffCan<perm::WebhooksManage>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<EndpointForm>,
) -> Response {
    match svc::update_endpoint(&console.state, &console.origin, &id, form.input())
        .await
        .map_err(ApiError::from)
    {
        Ok(_) => {
            console
                .redirect_with(&format!("/admin/webhooks/{id}"), "Endpoint saved.")
                .await
        }
        Err(err) if err.status.is_client_error() && err.status != StatusCode::NOT_FOUND => {
            let errors = form_errors(&err);
            render_show(console, &id, Some(form), errors, None, err.status).await
        }
        Err(err) => error_page(&err),
    }
}

#[derive(Deserialize, Default)]
struct ActionForm {
    /// `rotate`, `test`, `replay` or `delete`.
    #[serde(default)]
    action: String,
    #[serde(default)]
    since: String,
}

async fn action(
    StaffCan(console, _): StaffCan<perm::WebhooksManage>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ActionForm>,
) -> Response {
    let (state, origin) = (&console.state, &console.origin);
    let back = format!("/admin/webhooks/{id}");
    let outcome = match form.action.as_str() {
        "rotate" => svc::rotate_secret(state, origin, &id)
            .await
            .map_err(ApiError::from)
            .map(|_| "Secret rotated. The previous one keeps signing for 24 hours.".to_string()),
        "test" => svc::send_test(state, origin, &id)
            .await
            .map_err(ApiError::from)
            .map(|m| format!("Test event queued as {}.", m.id)),
        "replay" => svc::replay(state, origin, &id, &form.since)
            .await
            .map_err(ApiError::from)
            .map(|n| format!("{n} message(s) queued again.")),
        "delete" => {
            return match svc::delete_endpoint(state, origin, &id)
                .await
                .map_err(ApiError::from)
            {
                Ok(()) => {
                    console
                        .redirect_with(
                            "/admin/webhooks",
                            "Endpoint deleted; its queued deliveries were cancelled.",
                        )
                        .await
                }
                Err(err) => console.finish(&back, Err(err)).await,
            };
        }
        _ => Err(ApiError::field("action", "is not an action of this page")),
    };
    console.finish(&back, outcome).await
}

#[derive(Template, WebTemplate)]
#[template(path = "webhooks/message.html")]
struct MessagePage {
    l: Layout,
    endpoint_id: String,
    m: Message,
    attempts: Vec<Attempt>,
}

async fn message(mut console: Console, Path((id, message_id)): Path<(String, String)>) -> Response {
    if let Err(r) = console.require(Action::WebhooksManage).await {
        return r;
    }
    let loaded = async {
        let m = svc::message(&console.state, &id, &message_id).await?;
        let attempts = svc::attempts(&console.state, &message_id).await?;
        Ok::<_, ApiError>((m, attempts))
    }
    .await;
    match loaded {
        Ok((m, attempts)) => MessagePage {
            l: console.layout("webhooks"),
            endpoint_id: id,
            m,
            attempts,
        }
        .into_response(),
        Err(err) => error_page(&err),
    }
}

#[derive(Deserialize, Default)]
struct EmptyForm {
    #[serde(default)]
    csrf: String,
}

async fn resend(
    console: Console,
    Path((id, message_id)): Path<(String, String)>,
    FormBody(form): FormBody<EmptyForm>,
) -> Response {
    if let Err(r) = console.require(Action::WebhooksManage).await {
        return r;
    }
    if let Err(r) = console.check_csrf(&form.csrf) {
        return r;
    }
    let outcome = svc::resend(&console.state, &console.origin, &id, &message_id)
        .await
        .map_err(ApiError::from)
        .map(|_| "Queued again with the same webhook-id.".to_string());
    console
        .finish(
            &format!("/admin/webhooks/{id}/messages/{message_id}"),
            outcome,
        )
        .await
}

#[derive(Template, WebTemplate)]
#[template(path = "webhooks/jobs.html")]
struct JobsPage {
    l: Layout,
    jobs: Vec<Job>,
    counts: Vec<(String, i64)>,
}

async fn dead_jobs(StaffCan(mut console, _): StaffCan<perm::WebhooksManage>) -> Response {
    let loaded = async {
        let mut dead = svc::list_jobs(&console.state, "dead", None, 100).await?;
        dead.truncate(100);
        let counts = svc::job_counts(&console.state).await?;
        Ok::<_, vouch_app::AppError>((dead, counts))
    }
    .await;
    match loaded {
        Ok((jobs, counts)) => JobsPage {
            l: console.layout("jobs"),
            jobs,
            counts,
        }
        .into_response(),
        Err(e) => error_page(&e.into()),
    }
}

async fn retry_job(
    StaffCan(console, _): StaffCan<perm::WebhooksManage>,
    Path(id): Path<String>,
    CsrfForm(_form): CsrfForm<EmptyForm>,
) -> Response {
    let outcome = svc::retry_job(&console.state, &console.origin, &id)
        .await
        .map_err(ApiError::from)
        .map(|j| format!("Job {} queued for one more attempt.", j.id));
    console.finish("/admin/jobs", outcome).await
}
