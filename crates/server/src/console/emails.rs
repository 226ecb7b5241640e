//! Email in the console: the outbox (every message, as rendered) and the templates, editable
//! with a preview and errors shown with their line.

use super::{Console, FormBody, Layout, error_page, with_status};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use vouch_domain::email_template::{self, Kind, Rendered, Template as MailTemplate};
use vouch_domain::permission::Action;
use vouch_store::emails::{self, EmailMessage};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/emails", get(outbox))
        .route("/admin/emails/{id}", get(show))
        .route("/admin/email-templates", get(templates))
        .route("/admin/email-templates/{kind}", get(edit).post(save))
}

#[derive(Deserialize, Default)]
struct PageParams {
    #[serde(default)]
    starting_after: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "emails/outbox.html")]
struct OutboxPage {
    l: Layout,
    rows: Vec<EmailMessage>,
    next_url: Option<String>,
}

async fn outbox(mut console: Console, Query(p): Query<PageParams>) -> Response {
    if let Err(r) = console.require(Action::EmailsManage).await {
        return r;
    }
    let after = Some(p.starting_after.trim()).filter(|s| !s.is_empty());
    let rows = async {
        let mut conn = console.state.store.conn().await?;
        emails::list(&mut conn, after, 50).await
    }
    .await;
    let mut rows = match rows {
        Ok(r) => r,
        Err(e) => return error_page(&e.into()),
    };
    let has_more = rows.len() > 50;
    rows.truncate(50);
    let next_url = if has_more {
        rows.last()
            .map(|m| format!("/admin/emails?starting_after={}", m.id))
    } else {
        None
    };
    OutboxPage {
        l: console.layout("emails"),
        rows,
        next_url,
    }
    .into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "emails/show.html")]
struct ShowPage {
    l: Layout,
    m: EmailMessage,
}

async fn show(mut console: Console, Path(id): Path<String>) -> Response {
    if let Err(r) = console.require(Action::EmailsManage).await {
        return r;
    }
    let found = async {
        let mut conn = console.state.store.conn().await?;
        emails::get(&mut conn, &id).await
    }
    .await;
    match found {
        Ok(Some(m)) => ShowPage {
            l: console.layout("emails"),
            m,
        }
        .into_response(),
        Ok(None) => error_page(&ApiError::not_found("email")),
        Err(e) => error_page(&e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "emails/templates.html")]
struct TemplatesPage {
    l: Layout,
    kinds: Vec<(String, String, bool)>,
}

async fn templates(mut console: Console) -> Response {
    if let Err(r) = console.require(Action::EmailsManage).await {
        return r;
    }
    let mut kinds = Vec::new();
    for kind in Kind::ALL {
        let customised = async {
            let mut conn = console.state.store.conn().await?;
            emails::template_override(&mut conn, kind).await
        }
        .await;
        match customised {
            Ok(o) => kinds.push((
                kind.as_str().to_string(),
                kind.label().to_string(),
                o.is_some(),
            )),
            Err(e) => return error_page(&e.into()),
        }
    }
    TemplatesPage {
        l: console.layout("emails"),
        kinds,
    }
    .into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "emails/edit.html")]
struct EditPage {
    l: Layout,
    kind: String,
    label: String,
    t: MailTemplate,
    customised: bool,
    preview: Option<Rendered>,
    /// The failing part (`subject`, `text`, `html`) and the message with its line.
    error: Option<(String, String)>,
    variables: String,
}

fn kind_param(raw: &str) -> Result<Kind, Response> {
    Kind::parse(raw).ok_or_else(|| error_page(&ApiError::not_found("email template")))
}

async fn edit(mut console: Console, Path(kind): Path<String>) -> Response {
    if let Err(r) = console.require(Action::EmailsManage).await {
        return r;
    }
    let kind = match kind_param(&kind) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let loaded = async {
        let mut conn = console.state.store.conn().await?;
        emails::template_override(&mut conn, kind).await
    }
    .await;
    let (t, customised) = match loaded {
        Ok(Some(t)) => (t, true),
        Ok(None) => (kind.default_template(), false),
        Err(e) => return error_page(&e.into()),
    };
    let preview = email_template::check(kind, &t).ok();
    edit_page(
        &mut console,
        kind,
        t,
        customised,
        preview,
        None,
        StatusCode::OK,
    )
}

fn edit_page(
    console: &mut Console,
    kind: Kind,
    t: MailTemplate,
    customised: bool,
    preview: Option<Rendered>,
    error: Option<(String, String)>,
    status: StatusCode,
) -> Response {
    let variables = serde_json::to_string_pretty(&kind.sample_context()).unwrap_or_default();
    let page = EditPage {
        l: console.layout("emails"),
        kind: kind.as_str().into(),
        label: kind.label().into(),
        t,
        customised,
        preview,
        error,
        variables,
    };
    with_status(status, page)
}

#[derive(Deserialize, Default)]
struct TemplateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    html: String,
    /// `preview`, `save` or `reset`.
    #[serde(default)]
    action: String,
}

async fn save(
    mut console: Console,
    Path(kind): Path<String>,
    FormBody(form): FormBody<TemplateForm>,
) -> Response {
    if let Err(r) = console.require(Action::EmailsManage).await {
        return r;
    }
    if let Err(r) = console.check_csrf(&form.csrf) {
        return r;
    }
    let kind = match kind_param(&kind) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let back = format!("/admin/email-templates/{}", kind.as_str());
    if form.action == "reset" {
        let outcome = async {
            let mut tx = console.state.store.begin().await?;
            emails::reset_template(&mut tx, &console.origin, kind).await?;
            tx.commit().await.map_err(vouch_store::StoreError::from)
        }
        .await
        .map(|()| "Template reset to the shipped default.".to_string())
        .map_err(ApiError::from);
        return console.finish(&back, outcome).await;
    }
    let t = MailTemplate {
        subject: form.subject,
        text: form.text,
        html: form.html,
    };
    // Whether an override is saved now (an edit that is only previewed or refused is not).
    let customised = async {
        let mut conn = console.state.store.conn().await?;
        emails::template_override(&mut conn, kind).await
    }
    .await
    .is_ok_and(|o| o.is_some());
    match email_template::check(kind, &t) {
        Err(e) => {
            let error = Some((e.part.to_string(), e.to_string()));
            edit_page(
                &mut console,
                kind,
                t,
                customised,
                None,
                error,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Ok(rendered) if form.action == "preview" => edit_page(
            &mut console,
            kind,
            t,
            customised,
            Some(rendered),
            None,
            StatusCode::OK,
        ),
        Ok(_) => {
            let outcome = async {
                let mut tx = console.state.store.begin().await?;
                emails::save_template(&mut tx, &console.origin, kind, &t).await?;
                tx.commit().await.map_err(vouch_store::StoreError::from)
            }
            .await
            .map(|()| "Template saved; new messages use it.".to_string())
            .map_err(ApiError::from);
            console.finish(&back, outcome).await
        }
    }
}
