//! `/api/v1/webhook-endpoints` and `/api/v1/jobs`: where events go, what was delivered, and
//! the dead jobs of the queue.

use super::{ApiJson, ApiQuery, CursorParams, Page, check_limit, page};
use crate::AppState;
use crate::auth::{Can, perm};
use crate::error::ApiResult;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vouch_app::resources::{Attempt, Endpoint, Job, Message};
use vouch_app::webhooks::{self as svc, EndpointIn};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update, delete))
        .routes(routes!(secret))
        .routes(routes!(rotate_secret))
        .routes(routes!(send_test))
        .routes(routes!(replay))
        .routes(routes!(messages))
        .routes(routes!(attempts))
        .routes(routes!(resend))
        .routes(routes!(list_jobs))
        .routes(routes!(retry_job))
}

/// An endpoint with its secret, as shown once at creation and on request.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct EndpointWithSecret {
    #[serde(flatten)]
    endpoint: Endpoint,
    /// `whsec_…`: verify signatures with it (Standard Webhooks v1).
    secret: String,
}

#[utoipa::path(
    get, path = "/api/v1/webhook-endpoints", operation_id = "list_webhook_endpoints", tag = "webhooks",
    responses((status = 200, description = "OK", body = Page<Endpoint>), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// List webhook endpoints.
async fn list(
    State(state): State<AppState>,
    _: Can<perm::WebhooksManage>,
) -> ApiResult<Json<Page<Endpoint>>> {
    let data = svc::list_endpoints(&state).await?;
    Ok(Json(Page {
        data: data.into_iter().map(Into::into).collect(),
        has_more: false,
        next_cursor: None,
    }))
}

#[utoipa::path(
    post, path = "/api/v1/webhook-endpoints", operation_id = "create_webhook_endpoint", tag = "webhooks", request_body = EndpointIn,
    responses((status = 201, description = "Created; the secret is included", body = EndpointWithSecret), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Create a webhook endpoint. The URL must reach a public address unless
/// `outbound.allow_cidrs` allows it.
async fn create(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::WebhooksManage>,
    ApiJson(body): ApiJson<EndpointIn>,
) -> ApiResult<(StatusCode, Json<EndpointWithSecret>)> {
    let endpoint = svc::create_endpoint(&state, &caller.origin, body).await?;
    let secret = endpoint.secret.clone();
    Ok((
        StatusCode::CREATED,
        Json(EndpointWithSecret {
            endpoint: endpoint.into(),
            secret,
        }),
    ))
}

#[utoipa::path(
    get, path = "/api/v1/webhook-endpoints/{id}", operation_id = "get_webhook_endpoint", tag = "webhooks",
    params(("id" = String, Path, description = "Endpoint id (whe_…)")),
    responses((status = 200, description = "OK", body = Endpoint), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Get a webhook endpoint.
async fn show(
    State(state): State<AppState>,
    _: Can<perm::WebhooksManage>,
    Path(id): Path<String>,
) -> ApiResult<Json<Endpoint>> {
    Ok(Json(svc::get_endpoint(&state, &id).await?.into()))
}

#[utoipa::path(
    patch, path = "/api/v1/webhook-endpoints/{id}", operation_id = "update_webhook_endpoint", tag = "webhooks",
    params(("id" = String, Path, description = "Endpoint id (whe_…)")), request_body = EndpointIn,
    responses((status = 200, description = "OK", body = Endpoint), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Change a webhook endpoint; `enabled: true` re-enables a disabled one.
async fn update(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::WebhooksManage>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<EndpointIn>,
) -> ApiResult<Json<Endpoint>> {
    Ok(Json(
        svc::update_endpoint(&state, &caller.origin, &id, body)
            .await?
            .into(),
    ))
}

#[utoipa::path(
    delete, path = "/api/v1/webhook-endpoints/{id}", operation_id = "delete_webhook_endpoint", tag = "webhooks",
    params(("id" = String, Path, description = "Endpoint id (whe_…)")),
    responses((status = 204, description = "Deleted; queued deliveries are cancelled"), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Delete a webhook endpoint and its messages.
async fn delete(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::WebhooksManage>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    svc::delete_endpoint(&state, &caller.origin, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get, path = "/api/v1/webhook-endpoints/{id}/secret", operation_id = "get_webhook_endpoint_secret", tag = "webhooks",
    params(("id" = String, Path, description = "Endpoint id (whe_…)")),
    responses((status = 200, description = "OK", body = EndpointWithSecret), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Reveal an endpoint's signing secret.
async fn secret(
    State(state): State<AppState>,
    _: Can<perm::WebhooksManage>,
    Path(id): Path<String>,
) -> ApiResult<Json<EndpointWithSecret>> {
    let endpoint = svc::get_endpoint(&state, &id).await?;
    let secret = endpoint.secret.clone();
    Ok(Json(EndpointWithSecret {
        endpoint: endpoint.into(),
        secret,
    }))
}

#[utoipa::path(
    post, path = "/api/v1/webhook-endpoints/{id}/rotate-secret", operation_id = "rotate_webhook_endpoint_secret", tag = "webhooks",
    params(("id" = String, Path, description = "Endpoint id (whe_…)")),
    responses((status = 200, description = "The new secret; the old one signs alongside it for 24 h", body = EndpointWithSecret), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Rotate an endpoint's secret.
async fn rotate_secret(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::WebhooksManage>,
    Path(id): Path<String>,
) -> ApiResult<Json<EndpointWithSecret>> {
    let endpoint = svc::rotate_secret(&state, &caller.origin, &id).await?;
    let secret = endpoint.secret.clone();
    Ok(Json(EndpointWithSecret {
        endpoint: endpoint.into(),
        secret,
    }))
}

#[utoipa::path(
    post, path = "/api/v1/webhook-endpoints/{id}/test", operation_id = "send_webhook_test_event", tag = "webhooks",
    params(("id" = String, Path, description = "Endpoint id (whe_…)")),
    responses((status = 201, description = "A `webhook.test` message is queued for this endpoint", body = Message), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Send a test event to this endpoint only.
async fn send_test(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::WebhooksManage>,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<Message>)> {
    Ok((
        StatusCode::CREATED,
        Json(svc::send_test(&state, &caller.origin, &id).await?.into()),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ReplayIn {
    /// Every message created since then is sent again.
    #[schema(value_type = String, format = DateTime, example = "2026-11-23T12:00:00Z")]
    since: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct ReplayOut {
    queued: i64,
}

#[utoipa::path(
    post, path = "/api/v1/webhook-endpoints/{id}/replay", operation_id = "replay_webhook_messages", tag = "webhooks",
    params(("id" = String, Path, description = "Endpoint id (whe_…)")), request_body = ReplayIn,
    responses((status = 200, description = "How many messages were queued again", body = ReplayOut), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Send every message since a time again (those not already under way).
async fn replay(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::WebhooksManage>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReplayIn>,
) -> ApiResult<Json<ReplayOut>> {
    let queued = svc::replay(&state, &caller.origin, &id, &body.since).await?;
    Ok(Json(ReplayOut { queued }))
}

#[utoipa::path(
    get, path = "/api/v1/webhook-endpoints/{id}/messages", operation_id = "list_webhook_messages", tag = "webhooks",
    params(("id" = String, Path, description = "Endpoint id (whe_…)"), CursorParams),
    responses((status = 200, description = "OK", body = Page<Message>), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// The endpoint's messages, newest first, with their delivery status.
async fn messages(
    State(state): State<AppState>,
    _: Can<perm::WebhooksManage>,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<CursorParams>,
) -> ApiResult<Json<Page<Message>>> {
    svc::get_endpoint(&state, &id).await?;
    let limit = check_limit(p.limit)?;
    let rows = svc::list_messages(&state, &id, p.starting_after.as_deref(), limit).await?;
    Ok(Json(page(rows, limit, |m| m.id.clone(), Into::into)))
}

#[utoipa::path(
    get, path = "/api/v1/webhook-endpoints/{id}/messages/{message_id}/attempts", operation_id = "list_webhook_attempts", tag = "webhooks",
    params(("id" = String, Path, description = "Endpoint id (whe_…)"), ("message_id" = String, Path, description = "Message id (msg_…)")),
    responses((status = 200, description = "Every attempt, oldest first", body = Page<Attempt>), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Every delivery attempt of a message: time, status, duration, first 4 KiB of the answer.
async fn attempts(
    State(state): State<AppState>,
    _: Can<perm::WebhooksManage>,
    Path((id, message_id)): Path<(String, String)>,
) -> ApiResult<Json<Page<Attempt>>> {
    svc::message(&state, &id, &message_id).await?;
    let data = svc::attempts(&state, &message_id).await?;
    Ok(Json(Page {
        data: data.into_iter().map(Into::into).collect(),
        has_more: false,
        next_cursor: None,
    }))
}

#[utoipa::path(
    post, path = "/api/v1/webhook-endpoints/{id}/messages/{message_id}/resend", operation_id = "resend_webhook_message", tag = "webhooks",
    params(("id" = String, Path, description = "Endpoint id (whe_…)"), ("message_id" = String, Path, description = "Message id (msg_…)")),
    responses((status = 200, description = "Queued again, same webhook-id", body = Message), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Send one message again.
async fn resend(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::WebhooksManage>,
    Path((id, message_id)): Path<(String, String)>,
) -> ApiResult<Json<Message>> {
    Ok(Json(
        svc::resend(&state, &caller.origin, &id, &message_id)
            .await?
            .into(),
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct JobParams {
    /// `dead` (default), `queued`, `running`, `succeeded` or `cancelled`.
    #[param(pattern = "^(dead|queued|running|succeeded|cancelled)$")]
    status: Option<String>,
    limit: Option<i64>,
    starting_after: Option<super::Cursor>,
}

#[utoipa::path(
    get, path = "/api/v1/jobs", operation_id = "list_jobs", tag = "webhooks", params(JobParams),
    responses((status = 200, description = "OK", body = Page<Job>), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Jobs of the durable queue by status, newest first (dead jobs by default).
async fn list_jobs(
    State(state): State<AppState>,
    _: Can<perm::WebhooksManage>,
    ApiQuery(p): ApiQuery<JobParams>,
) -> ApiResult<Json<Page<Job>>> {
    let limit = check_limit(p.limit)?;
    let status = p.status.unwrap_or_else(|| "dead".into());
    if !["queued", "running", "succeeded", "dead", "cancelled"].contains(&status.as_str()) {
        return Err(crate::error::ApiError::field(
            "status",
            "must be queued, running, succeeded, dead or cancelled",
        ));
    }
    let rows = svc::list_jobs(&state, &status, p.starting_after.as_deref(), limit).await?;
    Ok(Json(page(rows, limit, |j| j.id.clone(), Into::into)))
}

#[utoipa::path(
    post, path = "/api/v1/jobs/{id}/retry", operation_id = "retry_job", tag = "webhooks",
    params(("id" = String, Path, description = "Job id (job_…)")),
    responses((status = 200, description = "Queued for one more attempt now", body = Job), (status = "4XX", description = "A problem (RFC 9457)", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Retry a dead job.
async fn retry_job(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::WebhooksManage>,
    Path(id): Path<String>,
) -> ApiResult<Json<Job>> {
    Ok(Json(
        svc::retry_job(&state, &caller.origin, &id).await?.into(),
    ))
}
