//! Email in the console: the outbox (every message, as rendered) and the templates, editable
//! with a preview and errors shown with their line.

use super::{Console, FormBody, Layout, StaffCan, error_page, with_status};
use crate::AppState;
use crate::auth::perm;
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
        .route(
            "/admin/programs/{id}/email-templates",
            get(program_templates),
        )
        .route(
            "/admin/programs/{id}/email-templates/{kind}",
            get(program_edit).post(program_save),
        )
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

async fn outbox(
    StaffCan(mut console, _): StaffCan<perm::EmailsManage>,
    Query(p): Query<PageParams>,
) -> Response {
    let after = Some(p.starting_after.trim()).filter(|s| !s.is_empty());
    let mut rows = match vouch_app::emails::list_emails(&console.state, after, 50).await {
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

async fn show(
    StaffCan(mut console, _): StaffCan<perm::EmailsManage>,
    Path(id): Path<String>,
) -> Response {
    match vouch_app::emails::get_email(&console.state, &id).await {
        Ok(m) => ShowPage {
            l: console.layout("emails"),
            m,
        }
        .into_response(),
        Err(e) => error_page(&e.into()),
    }
}

/// Which templates a page edits: the installation's, or one program's participant kinds.
struct Where {
    program: Option<vouch_store::programs::Program>,
}

impl Where {
    async fn load(console: &Console, program_id: Option<String>) -> Result<Self, Response> {
        let Some(id) = program_id else {
            return Ok(Self { program: None });
        };
        match vouch_app::programs::get(&console.state, &id)
            .await
            .map_err(ApiError::from)
        {
            Ok(p) => Ok(Self { program: Some(p) }),
            Err(e) => Err(error_page(&e)),
        }
    }

    fn scope(&self) -> emails::Scope<'_> {
        match &self.program {
            Some(p) => emails::Scope::Program(&p.id),
            None => emails::Scope::Installation,
        }
    }

    fn base(&self) -> String {
        match &self.program {
            Some(p) => format!("/admin/programs/{}/email-templates", p.id),
            None => "/admin/email-templates".into(),
        }
    }

    fn title(&self) -> String {
        match &self.program {
            Some(p) => format!("Email templates of {}", p.name),
            None => "Email templates".into(),
        }
    }

    fn kind(&self, raw: &str) -> Result<Kind, Response> {
        Kind::parse(raw)
            .filter(|k| self.program.is_none() || k.per_program())
            .ok_or_else(|| error_page(&ApiError::not_found("email template")))
    }

    fn kinds(&self) -> Vec<Kind> {
        Kind::ALL
            .into_iter()
            .filter(|k| self.program.is_none() || k.per_program())
            .collect()
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "emails/templates.html")]
struct TemplatesPage {
    l: Layout,
    title: String,
    base: String,
    program: Option<vouch_store::programs::Program>,
    /// kind, label, where the template in force comes from
    kinds: Vec<(String, String, String)>,
}

async fn templates(console: Console) -> Response {
    templates_in(console, None).await
}

async fn program_templates(console: Console, Path(id): Path<String>) -> Response {
    templates_in(console, Some(id)).await
}

async fn templates_in(mut console: Console, program_id: Option<String>) -> Response {
    if let Err(r) = console.require(Action::EmailsManage).await {
        return r;
    }
    let place = match Where::load(&console, program_id).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let mut kinds = Vec::new();
    for kind in place.kinds() {
        match vouch_app::emails::template_in_force(&console.state, place.scope(), kind).await {
            Ok(in_force) => kinds.push((
                kind.as_str().to_string(),
                kind.label().to_string(),
                source_label(place.scope(), in_force.source).to_string(),
            )),
            Err(e) => return error_page(&e.into()),
        }
    }
    TemplatesPage {
        l: console.layout(if place.program.is_some() {
            "programs"
        } else {
            "emails"
        }),
        title: place.title(),
        base: place.base(),
        program: place.program.clone(),
        kinds,
    }
    .into_response()
}

/// The badge that says where the template in force comes from, as seen from this scope.
fn source_label(scope: emails::Scope<'_>, source: emails::TemplateSource) -> &'static str {
    match (scope, source) {
        (_, emails::TemplateSource::Default) => "default",
        (emails::Scope::Installation, _) => "customised",
        (emails::Scope::Program(_), emails::TemplateSource::Installation) => "installation's",
        (emails::Scope::Program(_), emails::TemplateSource::Program) => "this program's",
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "emails/edit.html")]
struct EditPage {
    l: Layout,
    base: String,
    title: String,
    kind: String,
    label: String,
    t: MailTemplate,
    /// This scope has its own version (the reset button applies).
    customised: bool,
    /// Where the template in force comes from.
    source: String,
    preview: Option<Rendered>,
    /// The failing part (`subject`, `text`, `html`) and the message with its line.
    error: Option<(String, String)>,
    variables: String,
}

async fn edit(console: Console, Path(kind): Path<String>) -> Response {
    edit_in(console, None, kind).await
}

async fn program_edit(console: Console, Path((id, kind)): Path<(String, String)>) -> Response {
    edit_in(console, Some(id), kind).await
}

async fn edit_in(mut console: Console, program_id: Option<String>, kind: String) -> Response {
    if let Err(r) = console.require(Action::EmailsManage).await {
        return r;
    }
    let place = match Where::load(&console, program_id).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let kind = match place.kind(&kind) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let (t, source) =
        match vouch_app::emails::template_in_force(&console.state, place.scope(), kind).await {
            Ok(in_force) => (in_force.template, in_force.source),
            Err(e) => return error_page(&e.into()),
        };
    let preview = email_template::check(kind, &t).ok();
    edit_page(
        &mut console,
        &place,
        kind,
        t,
        source,
        preview,
        None,
        StatusCode::OK,
    )
}

#[expect(
    clippy::too_many_arguments,
    reason = "one page, shown from three places"
)]
fn edit_page(
    console: &mut Console,
    place: &Where,
    kind: Kind,
    t: MailTemplate,
    source: emails::TemplateSource,
    preview: Option<Rendered>,
    error: Option<(String, String)>,
    status: StatusCode,
) -> Response {
    let variables = serde_json::to_string_pretty(&kind.sample_context()).unwrap_or_default();
    let customised = match place.scope() {
        emails::Scope::Installation => source == emails::TemplateSource::Installation,
        emails::Scope::Program(_) => source == emails::TemplateSource::Program,
    };
    let page = EditPage {
        l: console.layout(if place.program.is_some() {
            "programs"
        } else {
            "emails"
        }),
        base: place.base(),
        title: place.title(),
        kind: kind.as_str().into(),
        label: kind.label().into(),
        t,
        customised,
        source: source_label(place.scope(), source).into(),
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
    console: Console,
    Path(kind): Path<String>,
    form: FormBody<TemplateForm>,
) -> Response {
    save_in(console, None, kind, form).await
}

async fn program_save(
    console: Console,
    Path((id, kind)): Path<(String, String)>,
    form: FormBody<TemplateForm>,
) -> Response {
    save_in(console, Some(id), kind, form).await
}

async fn save_in(
    mut console: Console,
    program_id: Option<String>,
    kind: String,
    FormBody(form): FormBody<TemplateForm>,
) -> Response {
    if let Err(r) = console.require(Action::EmailsManage).await {
        return r;
    }
    if let Err(r) = console.check_csrf(&form.csrf) {
        return r;
    }
    let place = match Where::load(&console, program_id).await {
        Ok(w) => w,
        Err(r) => return r,
    };
    let kind = match place.kind(&kind) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let back = format!("{}/{}", place.base(), kind.as_str());
    if form.action == "reset" {
        let outcome =
            vouch_app::emails::reset_template(&console.state, &console.origin, place.scope(), kind)
                .await
                .map(|()| "Own version removed; the template below applies again.".to_string())
                .map_err(ApiError::from);
        return console.finish(&back, outcome).await;
    }
    let t = MailTemplate {
        subject: form.subject,
        text: form.text,
        html: form.html,
    };
    // Where the template in force comes from now (an edit only previewed or refused is not saved).
    let source = vouch_app::emails::template_in_force(&console.state, place.scope(), kind)
        .await
        .map_or(emails::TemplateSource::Default, |in_force| in_force.source);
    match email_template::check(kind, &t) {
        Err(e) => {
            let error = Some((e.part.to_string(), e.to_string()));
            edit_page(
                &mut console,
                &place,
                kind,
                t,
                source,
                None,
                error,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Ok(rendered) if form.action == "preview" => edit_page(
            &mut console,
            &place,
            kind,
            t,
            source,
            Some(rendered),
            None,
            StatusCode::OK,
        ),
        Ok(_) => {
            let outcome = vouch_app::emails::save_template(
                &console.state,
                &console.origin,
                place.scope(),
                kind,
                &t,
            )
            .await
            .map(|()| "Template saved; new messages use it.".to_string())
            .map_err(ApiError::from);
            console.finish(&back, outcome).await
        }
    }
}
