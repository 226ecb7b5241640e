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
use vouch_domain::email_template::{self, Kind, Template};
use vouch_store::emails::{self, EmailMessage};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(show))
        .routes(routes!(list_templates))
        .routes(routes!(get_template, put_template, reset_template))
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
    let mut conn = state.store.conn().await?;
    let rows = emails::list(&mut conn, p.starting_after.as_deref(), limit).await?;
    Ok(Json(page(rows, limit, |m| m.id.clone(), |m| m)))
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
    let mut conn = state.store.conn().await?;
    emails::get(&mut conn, &id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("email"))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct TemplateOut {
    kind: Kind,
    label: &'static str,
    /// Whether the operator replaced the shipped default.
    customised: bool,
    template: Template,
    /// The variables the template may use, with example values.
    variables: serde_json::Value,
}

async fn template_out(state: &AppState, kind: Kind) -> ApiResult<TemplateOut> {
    let mut conn = state.store.conn().await?;
    let custom = emails::template_override(&mut conn, kind).await?;
    Ok(TemplateOut {
        kind,
        label: kind.label(),
        customised: custom.is_some(),
        template: custom.unwrap_or_else(|| kind.default_template()),
        variables: kind.sample_context(),
    })
}

fn kind(raw: &str) -> ApiResult<Kind> {
    Kind::parse(raw).ok_or_else(|| ApiError::not_found("email template"))
}

#[utoipa::path(
    get, path = "/api/v1/email-templates", operation_id = "list_email_templates", tag = "email",
    responses((status = 200, description = "OK", body = Page<TemplateOut>), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Every kind of email with the template in force.
async fn list_templates(
    State(state): State<AppState>,
    _: Can<perm::EmailsManage>,
) -> ApiResult<Json<Page<TemplateOut>>> {
    let mut data = Vec::new();
    for k in Kind::ALL {
        data.push(template_out(&state, k).await?);
    }
    Ok(Json(Page {
        data,
        has_more: false,
        next_cursor: None,
    }))
}

#[utoipa::path(
    get, path = "/api/v1/email-templates/{kind}", operation_id = "get_email_template", tag = "email",
    params(("kind" = String, Path, description = "e.g. webhook_endpoint_disabled")),
    responses((status = 200, description = "OK", body = TemplateOut), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// The template in force for a kind.
async fn get_template(
    State(state): State<AppState>,
    _: Can<perm::EmailsManage>,
    Path(k): Path<String>,
) -> ApiResult<Json<TemplateOut>> {
    Ok(Json(template_out(&state, kind(&k)?).await?))
}

#[utoipa::path(
    put, path = "/api/v1/email-templates/{kind}", operation_id = "put_email_template", tag = "email",
    params(("kind" = String, Path, description = "e.g. webhook_endpoint_disabled")), request_body = Template,
    responses((status = 200, description = "Saved; new messages use it", body = TemplateOut), (status = "4XX", description = "A problem (RFC 9457); a template that cannot render names its part and line", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Replace a kind's template. It is rendered with the sample variables first; an error names
/// the part (`subject`, `text`, `html`) and the line, and nothing is saved.
async fn put_template(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::EmailsManage>,
    Path(k): Path<String>,
    ApiJson(t): ApiJson<Template>,
) -> ApiResult<Json<TemplateOut>> {
    let k = kind(&k)?;
    email_template::check(k, &t).map_err(|e| ApiError::field(e.part, e.to_string()))?;
    let mut tx = state.store.begin().await?;
    emails::save_template(&mut tx, &caller.origin, k, &t).await?;
    tx.commit().await.map_err(vouch_store::StoreError::from)?;
    Ok(Json(template_out(&state, k).await?))
}

#[utoipa::path(
    delete, path = "/api/v1/email-templates/{kind}", operation_id = "reset_email_template", tag = "email",
    params(("kind" = String, Path, description = "e.g. webhook_endpoint_disabled")),
    responses((status = 200, description = "Back to the shipped default", body = TemplateOut), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Drop the override; the shipped default applies again.
async fn reset_template(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::EmailsManage>,
    Path(k): Path<String>,
) -> ApiResult<Json<TemplateOut>> {
    let k = kind(&k)?;
    let mut tx = state.store.begin().await?;
    emails::reset_template(&mut tx, &caller.origin, k).await?;
    tx.commit().await.map_err(vouch_store::StoreError::from)?;
    Ok(Json(template_out(&state, k).await?))
}
