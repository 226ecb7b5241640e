//! `/api/v1/emails` and `/api/v1/email-templates`: the outbox and the templates, as in the
//! console.

use super::{ApiJson, ApiQuery, CursorParams, Page, check_limit, page};
use crate::AppState;
use crate::auth::{Can, perm};
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vouch_app::resources::EmailMessage;
use vouch_domain::email_template::{Kind, Template};
use vouch_store::emails::{Scope, TemplateSource};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(show))
        .routes(routes!(list_templates))
        .routes(routes!(get_template, put_template, reset_template))
        .routes(routes!(list_program_templates))
        .routes(routes!(
            get_program_template,
            put_program_template,
            reset_program_template
        ))
}

#[utoipa::path(
    get, path = "/api/v1/emails", operation_id = "list_emails", tag = "email", params(CursorParams),
    responses((status = 200, description = "OK", body = Page<EmailMessage>), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Every rendered email, newest first: queued, sent, stored in the outbox, suppressed or dead.
async fn list(
    State(state): State<AppState>,
    _: Can<perm::EmailsManage>,
    ApiQuery(p): ApiQuery<CursorParams>,
) -> ApiResult<Json<Page<EmailMessage>>> {
    let limit = check_limit(p.limit)?;
    let rows = vouch_app::emails::list_emails(&state, p.starting_after.as_deref(), limit).await?;
    Ok(Json(page(rows, limit, |m| m.id.clone(), Into::into)))
}

#[utoipa::path(
    get, path = "/api/v1/emails/{id}", operation_id = "get_email", tag = "email",
    params(("id" = String, Path, description = "Email id (eml_…)")),
    responses((status = 200, description = "OK", body = EmailMessage), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// One email with its subject, text and HTML.
async fn show(
    State(state): State<AppState>,
    _: Can<perm::EmailsManage>,
    Path(id): Path<String>,
) -> ApiResult<Json<EmailMessage>> {
    Ok(Json(
        vouch_app::emails::get_email(&state, &id).await?.into(),
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct TemplateOut {
    kind: Kind,
    label: &'static str,
    /// Whether this scope (the installation, or the program) has its own version.
    customised: bool,
    /// Where the template in force comes from: `default`, `installation` or `program`.
    source: TemplateSource,
    template: Template,
    /// The variables the template may use, with example values.
    variables: serde_json::Value,
}

async fn template_out(state: &AppState, scope: Scope<'_>, kind: Kind) -> ApiResult<TemplateOut> {
    let in_force = vouch_app::emails::template_in_force(state, scope, kind).await?;
    Ok(TemplateOut {
        kind,
        label: kind.label(),
        customised: in_force.customised,
        source: in_force.source,
        template: in_force.template,
        variables: kind.sample_context(),
    })
}

/// The kind named in the path; a program scope only has participant-facing kinds.
fn kind(raw: &str, scope: Scope<'_>) -> ApiResult<Kind> {
    Kind::parse(raw)
        .filter(|k| matches!(scope, Scope::Installation) || k.per_program())
        .ok_or_else(|| ApiError::not_found("email template"))
}

async fn list_in(state: &AppState, scope: Scope<'_>) -> ApiResult<Json<Page<TemplateOut>>> {
    let mut data = Vec::new();
    for k in Kind::ALL {
        if matches!(scope, Scope::Installation) || k.per_program() {
            data.push(template_out(state, scope, k).await?);
        }
    }
    Ok(Json(Page {
        data,
        has_more: false,
        next_cursor: None,
    }))
}

async fn save_in(
    state: &AppState,
    origin: &vouch_store::audit::Origin,
    scope: Scope<'_>,
    raw_kind: &str,
    t: &Template,
) -> ApiResult<Json<TemplateOut>> {
    let k = kind(raw_kind, scope)?;
    vouch_app::emails::save_template(state, origin, scope, k, t).await?;
    Ok(Json(template_out(state, scope, k).await?))
}

async fn reset_in(
    state: &AppState,
    origin: &vouch_store::audit::Origin,
    scope: Scope<'_>,
    raw_kind: &str,
) -> ApiResult<Json<TemplateOut>> {
    let k = kind(raw_kind, scope)?;
    vouch_app::emails::reset_template(state, origin, scope, k).await?;
    Ok(Json(template_out(state, scope, k).await?))
}

#[utoipa::path(
    get, path = "/api/v1/email-templates", operation_id = "list_email_templates", tag = "email",
    responses((status = 200, description = "OK", body = Page<TemplateOut>), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Every kind of email with the template in force for the installation.
async fn list_templates(
    State(state): State<AppState>,
    _: Can<perm::EmailsManage>,
) -> ApiResult<Json<Page<TemplateOut>>> {
    list_in(&state, Scope::Installation).await
}

#[utoipa::path(
    get, path = "/api/v1/email-templates/{kind}", operation_id = "get_email_template", tag = "email",
    params(("kind" = Kind, Path, description = "Which email, e.g. participant_welcome")),
    responses((status = 200, description = "OK", body = TemplateOut), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// The installation's template in force for a kind.
async fn get_template(
    State(state): State<AppState>,
    _: Can<perm::EmailsManage>,
    Path(k): Path<String>,
) -> ApiResult<Json<TemplateOut>> {
    let scope = Scope::Installation;
    Ok(Json(template_out(&state, scope, kind(&k, scope)?).await?))
}

#[utoipa::path(
    put, path = "/api/v1/email-templates/{kind}", operation_id = "put_email_template", tag = "email",
    params(("kind" = Kind, Path, description = "Which email, e.g. participant_welcome")), request_body = Template,
    responses((status = 200, description = "Saved; new messages use it", body = TemplateOut), (status = "4XX", description = "A problem (RFC 9457); a template that cannot render names its part and line", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Replace a kind's template for the whole installation. It is rendered with the sample
/// variables first; an error names the part (`subject`, `text`, `html`) and the line, and
/// nothing is saved.
async fn put_template(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::EmailsManage>,
    Path(k): Path<String>,
    ApiJson(t): ApiJson<Template>,
) -> ApiResult<Json<TemplateOut>> {
    save_in(&state, &caller.origin, Scope::Installation, &k, &t).await
}

#[utoipa::path(
    delete, path = "/api/v1/email-templates/{kind}", operation_id = "reset_email_template", tag = "email",
    params(("kind" = Kind, Path, description = "Which email, e.g. participant_welcome")),
    responses((status = 200, description = "Back to the shipped default", body = TemplateOut), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Drop the installation's override; the shipped default applies again.
async fn reset_template(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::EmailsManage>,
    Path(k): Path<String>,
) -> ApiResult<Json<TemplateOut>> {
    reset_in(&state, &caller.origin, Scope::Installation, &k).await
}

async fn program_scope(state: &AppState, id: &str) -> ApiResult<String> {
    Ok(vouch_app::programs::get(state, id).await?.id)
}

#[utoipa::path(
    get, path = "/api/v1/programs/{id}/email-templates", operation_id = "list_program_email_templates", tag = "email",
    params(("id" = String, Path, description = "Program id (prg_…)")),
    responses((status = 200, description = "OK", body = Page<TemplateOut>), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// The participant-facing templates in force for one program.
async fn list_program_templates(
    State(state): State<AppState>,
    _: Can<perm::EmailsManage>,
    Path(id): Path<String>,
) -> ApiResult<Json<Page<TemplateOut>>> {
    let id = program_scope(&state, &id).await?;
    list_in(&state, Scope::Program(&id)).await
}

#[utoipa::path(
    get, path = "/api/v1/programs/{id}/email-templates/{kind}", operation_id = "get_program_email_template", tag = "email",
    params(("id" = String, Path, description = "Program id (prg_…)"), ("kind" = Kind, Path, description = "Which email, e.g. participant_welcome")),
    responses((status = 200, description = "OK", body = TemplateOut), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// The template in force for a kind in one program: the program's own, the installation's, or
/// the shipped default.
async fn get_program_template(
    State(state): State<AppState>,
    _: Can<perm::EmailsManage>,
    Path((id, k)): Path<(String, String)>,
) -> ApiResult<Json<TemplateOut>> {
    let id = program_scope(&state, &id).await?;
    let scope = Scope::Program(&id);
    Ok(Json(template_out(&state, scope, kind(&k, scope)?).await?))
}

#[utoipa::path(
    put, path = "/api/v1/programs/{id}/email-templates/{kind}", operation_id = "put_program_email_template", tag = "email",
    params(("id" = String, Path, description = "Program id (prg_…)"), ("kind" = Kind, Path, description = "Which email, e.g. participant_welcome")), request_body = Template,
    responses((status = 200, description = "Saved; this program's new messages use it", body = TemplateOut), (status = "4XX", description = "A problem (RFC 9457); a template that cannot render names its part and line", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Give one program its own version of a participant-facing template.
async fn put_program_template(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::EmailsManage>,
    Path((id, k)): Path<(String, String)>,
    ApiJson(t): ApiJson<Template>,
) -> ApiResult<Json<TemplateOut>> {
    let id = program_scope(&state, &id).await?;
    save_in(&state, &caller.origin, Scope::Program(&id), &k, &t).await
}

#[utoipa::path(
    delete, path = "/api/v1/programs/{id}/email-templates/{kind}", operation_id = "reset_program_email_template", tag = "email",
    params(("id" = String, Path, description = "Program id (prg_…)"), ("kind" = Kind, Path, description = "Which email, e.g. participant_welcome")),
    responses((status = 200, description = "The installation's template applies again", body = TemplateOut), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Drop the program's own version.
async fn reset_program_template(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::EmailsManage>,
    Path((id, k)): Path<(String, String)>,
) -> ApiResult<Json<TemplateOut>> {
    let id = program_scope(&state, &id).await?;
    reset_in(&state, &caller.origin, Scope::Program(&id), &k).await
}
