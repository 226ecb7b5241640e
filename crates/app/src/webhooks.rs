//! Webhook endpoints, messages and dead jobs: shared by the API and the console.

use super::commit;
use crate::Ctx;
use crate::record;
use crate::{AppError, AppResult};
use serde::Deserialize;
use vouch_domain::Timestamp;
use vouch_domain::Validation;
use vouch_domain::validation::optional_text;
use vouch_domain::webhook::parse_filter_entry;
use vouch_store::audit::Origin;
use vouch_store::events;
use vouch_store::jobs::{self, Attempt, Job};
use vouch_store::webhooks::{self, Endpoint, EndpointDraft, Message};

/// One entry of an endpoint's event filter, for the OpenAPI document.
#[derive(utoipa::ToSchema)]
#[schema(
    max_length = 102,
    pattern = "^(\\*|[a-z0-9_]+(\\.[a-z0-9_]+)*(\\.\\*)?)$",
    example = "account.*"
)]
#[expect(
    dead_code,
    reason = "only describes a filter entry in the OpenAPI document"
)]
pub struct EventTypeFilter(String);

/// An endpoint's fields as they arrive; absent fields keep their current value.
#[derive(Debug, Default, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointIn {
    /// Where deliveries go: https (or http) with a host that resolves to a public address,
    /// unless the installation allows more (`outbound.allow_cidrs`). Required on creation.
    #[schema(
        max_length = 2048,
        format = "iri",
        example = "https://hooks.example.com/vouch"
    )]
    pub url: Option<String>,
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// Event types (`account.created`), prefixes (`account.*`) or `*`; empty means all.
    #[schema(max_items = 50, inline, value_type = Option<Vec<EventTypeFilter>>)]
    pub event_types: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

impl EndpointIn {
    /// Applies the input on top of `base` (an existing endpoint, or defaults) and checks it.
    pub fn draft(self, ctx: &Ctx, base: Option<&Endpoint>) -> AppResult<EndpointDraft> {
        let mut v = Validation::new();
        let url = self
            .url
            .or_else(|| base.map(|b| b.url.clone()))
            .unwrap_or_default();
        let url = if url.trim().is_empty() {
            v.add("url", "is required");
            None
        } else if url.chars().count() > 2048 {
            v.add("url", "must be at most 2048 characters");
            None
        } else {
            v.check(
                "url",
                crate::outbound::check_url(url.trim(), &ctx.settings.outbound)
                    .map(|u| u.to_string()),
            )
        };
        let description = self
            .description
            .or_else(|| base.and_then(|b| b.description.clone()))
            .unwrap_or_default();
        let description = v.check("description", optional_text(&description, 500));
        let types = self
            .event_types
            .or_else(|| base.map(|b| b.event_types.clone()))
            .unwrap_or_default();
        if types.len() > 50 {
            v.add("event_types", "may list at most 50 entries");
        }
        let mut event_types = Vec::new();
        for (i, t) in types.iter().enumerate() {
            if let Some(t) = v.check(&format!("event_types[{i}]"), parse_filter_entry(t))
                && !event_types.contains(&t)
            {
                event_types.push(t);
            }
        }
        let enabled = self.enabled.or(base.map(|b| b.enabled)).unwrap_or(true);
        v.into_result().map_err(AppError::invalid)?;
        match (url, description) {
            (Some(url), Some(description)) => Ok(EndpointDraft {
                url,
                description,
                event_types,
                enabled,
            }),
            _ => Err(AppError::internal("validation passed without a value")),
        }
    }
}

pub async fn get_endpoint(ctx: &Ctx, id: &str) -> AppResult<Endpoint> {
    let mut conn = ctx.store.conn().await?;
    webhooks::get(&mut conn, id)
        .await?
        .ok_or_else(|| AppError::not_found("webhook endpoint"))
}

pub async fn list_endpoints(ctx: &Ctx) -> AppResult<Vec<Endpoint>> {
    let mut conn = ctx.store.conn().await?;
    Ok(webhooks::list(&mut conn).await?)
}

/// An endpoint's messages, newest first, `limit + 1` rows at most: the extra row tells the
/// caller another page follows.
pub async fn list_messages(
    ctx: &Ctx,
    endpoint_id: &str,
    starting_after: Option<&str>,
    limit: i64,
) -> AppResult<Vec<Message>> {
    let mut conn = ctx.store.conn().await?;
    Ok(webhooks::messages(&mut conn, endpoint_id, starting_after, limit).await?)
}

pub async fn create_endpoint(ctx: &Ctx, origin: &Origin, input: EndpointIn) -> AppResult<Endpoint> {
    let draft = input.draft(ctx, None)?;
    let mut tx = ctx.store.begin().await?;
    let endpoint = webhooks::create(&mut tx, &draft, &new_secret()).await?;
    record::change(
        &mut tx,
        origin,
        "webhook_endpoint.created",
        None,
        &endpoint,
        &[],
    );
    commit(tx).await?;
    Ok(endpoint)
}

pub async fn update_endpoint(
    ctx: &Ctx,
    origin: &Origin,
    id: &str,
    input: EndpointIn,
) -> AppResult<Endpoint> {
    let before = get_endpoint(ctx, id).await?;
    let draft = input.draft(ctx, Some(&before))?;
    let mut tx = ctx.store.begin().await?;
    let after = webhooks::update(&mut tx, &before, &draft).await?;
    record::change(
        &mut tx,
        origin,
        "webhook_endpoint.updated",
        Some(&before),
        &after,
        &[],
    );
    commit(tx).await?;
    Ok(after)
}

pub async fn delete_endpoint(ctx: &Ctx, origin: &Origin, id: &str) -> AppResult<()> {
    let before = get_endpoint(ctx, id).await?;
    let mut tx = ctx.store.begin().await?;
    webhooks::delete(&mut tx, &before).await?;
    record::entry(
        &mut tx,
        origin,
        "webhook_endpoint.deleted",
        "webhook_endpoint",
        &before.id,
        Some(record::Audited::public(&before)),
        None,
    );
    commit(tx).await
}

/// How long a rotated-out secret keeps signing.
pub const ROTATION_GRACE_HOURS: i64 = 24;

pub async fn rotate_secret(ctx: &Ctx, origin: &Origin, id: &str) -> AppResult<Endpoint> {
    let before = get_endpoint(ctx, id).await?;
    let until = ctx
        .clock
        .from_now(time::Duration::hours(ROTATION_GRACE_HOURS));
    let mut tx = ctx.store.begin().await?;
    let after = webhooks::rotate_secret(&mut tx, &before, &new_secret(), until).await?;
    // The secrets themselves never reach the audit log.
    record::entry(
        &mut tx,
        origin,
        "webhook_endpoint.secret_rotated",
        "webhook_endpoint",
        &after.id,
        None,
        None,
    );
    commit(tx).await?;
    Ok(after)
}

pub async fn message(ctx: &Ctx, endpoint_id: &str, message_id: &str) -> AppResult<Message> {
    let mut conn = ctx.store.conn().await?;
    webhooks::message(&mut conn, message_id)
        .await?
        .filter(|m| m.endpoint_id == endpoint_id)
        .ok_or_else(|| AppError::not_found("webhook message"))
}

pub async fn attempts(ctx: &Ctx, message_id: &str) -> AppResult<Vec<Attempt>> {
    let mut conn = ctx.store.conn().await?;
    Ok(jobs::attempts_for_subject(&mut conn, message_id).await?)
}

pub async fn resend(
    ctx: &Ctx,
    origin: &Origin,
    endpoint_id: &str,
    message_id: &str,
) -> AppResult<Message> {
    let m = message(ctx, endpoint_id, message_id).await?;
    let mut tx = ctx.store.begin().await?;
    let after = webhooks::resend(&mut tx, &m).await?;
    record::entry(
        &mut tx,
        origin,
        "webhook_message.resent",
        "webhook_message",
        &m.id,
        None,
        None,
    );
    commit(tx).await?;
    Ok(after)
}

/// Queues every message of the endpoint since `since` (RFC 3339) again.
pub async fn replay(ctx: &Ctx, origin: &Origin, endpoint_id: &str, since: &str) -> AppResult<i64> {
    get_endpoint(ctx, endpoint_id).await?;
    let since = Timestamp::parse(since)
        .map_err(|_| AppError::field("since", "must be a time such as 2026-11-23T12:00:00Z"))?;
    let mut tx = ctx.store.begin().await?;
    let n = webhooks::replay_since(&mut tx, endpoint_id, since).await?;
    record::entry(
        &mut tx,
        origin,
        "webhook_endpoint.replayed",
        "webhook_endpoint",
        endpoint_id,
        None,
        Some(serde_json::json!({ "since": since, "messages": n })),
    );
    commit(tx).await?;
    Ok(n)
}

/// Turns an endpoint off after its deliveries failed (410 Gone, or failing for too long),
/// audited as the system, and emails the owners and admins, in the caller's transaction.
/// Nothing happens when it is off already. `base_url` is the installation's, for the link.
pub async fn disable_endpoint(
    tx: &mut vouch_store::Tx,
    id: &str,
    reason: &str,
    base_url: &str,
) -> AppResult<()> {
    let Some(endpoint) = webhooks::disable(tx, id, reason).await? else {
        return Ok(());
    };
    record::entry(
        tx,
        &Origin::system(),
        "webhook_endpoint.disabled",
        "webhook_endpoint",
        id,
        None,
        Some(serde_json::json!({ "enabled": false, "disabled_reason": reason })),
    );
    let data = serde_json::json!({
        "endpoint": { "id": endpoint.id, "url": endpoint.url, "description": endpoint.description },
        "reason": reason,
        "console_url": format!("{}/admin/webhooks/{}", base_url.trim_end_matches('/'), endpoint.id),
    });
    for to in vouch_store::emails::staff_recipients(tx, &["owner", "admin"]).await? {
        vouch_store::emails::queue(
            tx,
            vouch_domain::email_template::Kind::WebhookEndpointDisabled,
            &to,
            &data,
            vouch_store::emails::QueueOptions::default(),
        )
        .await?;
    }
    Ok(())
}

/// Sends a `webhook.test` event to this endpoint only.
pub async fn send_test(ctx: &Ctx, origin: &Origin, endpoint_id: &str) -> AppResult<Message> {
    let endpoint = get_endpoint(ctx, endpoint_id).await?;
    let mut tx = ctx.store.begin().await?;
    let data = serde_json::to_value(crate::resources::TestEvent {
        endpoint_id: endpoint.id.clone(),
        message: "This is a test event from Vouch.".into(),
    })
    .unwrap_or_default();
    let event = events::record_only(&mut tx, "webhook.test", &data).await?;
    let message_id = webhooks::enqueue_message(&mut tx, &endpoint, &event.id).await?;
    vouch_store::audit::record(
        &mut tx,
        origin,
        "webhook_endpoint.test_sent",
        "webhook_endpoint",
        Some(&endpoint.id),
        None,
        None,
    )
    .await?;
    let message = webhooks::message(&mut tx, &message_id)
        .await?
        .ok_or_else(|| {
            AppError::internal("the test message vanished inside its own transaction")
        })?;
    commit(tx).await?;
    Ok(message)
}

/// Jobs in `status`, newest first, `limit + 1` rows at most: the extra row tells the caller
/// another page follows.
pub async fn list_jobs(
    ctx: &Ctx,
    status: &str,
    starting_after: Option<&str>,
    limit: i64,
) -> AppResult<Vec<Job>> {
    let mut conn = ctx.store.conn().await?;
    Ok(jobs::list(&mut conn, status, starting_after, limit).await?)
}

/// How many jobs the queue holds in each status, for a glance at its health.
pub async fn job_counts(ctx: &Ctx) -> AppResult<Vec<(String, i64)>> {
    let mut conn = ctx.store.conn().await?;
    Ok(jobs::counts(&mut conn).await?)
}

pub async fn retry_job(ctx: &Ctx, origin: &Origin, id: &str) -> AppResult<Job> {
    let mut tx = ctx.store.begin().await?;
    let job = jobs::retry_now(&mut tx, id).await?.ok_or_else(|| {
        AppError::conflict("not_dead", "only a dead or cancelled job can be retried")
    })?;
    vouch_store::audit::record(&mut tx, origin, "job.retried", "job", Some(id), None, None).await?;
    commit(tx).await?;
    Ok(job)
}

/// A new endpoint secret: `whsec_` + base64 of 32 random bytes (Standard Webhooks).
pub fn new_secret() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    )
}
