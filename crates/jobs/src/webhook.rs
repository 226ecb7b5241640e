//! One webhook delivery attempt: load the message, its endpoint and event; sign and POST the
//! envelope; decide what the answer means for the job and the endpoint.

use crate::outbound::OutboundPolicy;
use crate::signing::signature_header;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use vouch_app::outbound::check_url;
use vouch_domain::Timestamp;
use vouch_domain::webhook::{Outcome, outcome, retry_delay};
use vouch_store::jobs::{AttemptRecord, Job, Next};
use vouch_store::{Store, events, webhooks};

/// How much of a response body is kept with the attempt.
pub const BODY_LIMIT: usize = 4096;

#[derive(Debug, Clone)]
pub struct DeliverySettings {
    pub retry_schedule: Vec<u64>,
    pub timeout: Duration,
    /// An endpoint failing without a single success for this long is disabled.
    pub disable_after: Duration,
    pub outbound: OutboundPolicy,
    /// The installation's public address, for links in notices (e.g. a disabled endpoint).
    pub base_url: String,
}

/// The envelope every endpoint receives.
pub fn envelope(event: &events::Event) -> serde_json::Value {
    serde_json::json!({
        "id": event.id,
        "type": event.event_type,
        "created_at": event.created_at,
        "data": event.data,
    })
}

struct Answer {
    status: Option<u16>,
    body: Option<String>,
    retry_after: Option<Duration>,
    error: Option<String>,
}

/// The message a webhook job delivers.
pub(crate) fn message_of(job: &Job) -> Option<&str> {
    (job.kind == "webhook")
        .then(|| job.payload["message_id"].as_str())
        .flatten()
}

/// The delivery targets of the webhook jobs among `claimed`, read in one query. Should the read
/// fail, the map is empty and each attempt reads its own target.
pub async fn targets(store: &Store, claimed: &[Job]) -> HashMap<String, webhooks::DeliveryTarget> {
    let messages: Vec<&str> = claimed.iter().filter_map(message_of).collect();
    if messages.is_empty() {
        return HashMap::new();
    }
    let read = async {
        let mut conn = store.conn().await?;
        webhooks::delivery_targets(&mut conn, &messages).await
    };
    read.await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, jobs = messages.len(), "could not read the claimed deliveries together; each reads its own");
        HashMap::new()
    })
}

/// Runs one attempt of a webhook job and says what comes next. `target` is the job's target
/// as [`targets`] read it, if it did.
pub async fn attempt(
    store: &Store,
    client: &reqwest::Client,
    settings: &DeliverySettings,
    job: &Job,
    target: Option<webhooks::DeliveryTarget>,
) -> (AttemptRecord, Next) {
    let started = Timestamp::now();
    let clock = Instant::now();
    let (answer, endpoint_id) = match send(store, client, settings, job, target).await {
        Ok(r) => r,
        Err(e) => (
            Answer {
                status: None,
                body: None,
                retry_after: None,
                error: Some(e),
            },
            None,
        ),
    };
    let duration_ms = i64::try_from(clock.elapsed().as_millis()).unwrap_or(i64::MAX);
    let result = answer.status.map(outcome).unwrap_or(Outcome::Failed);
    let record = AttemptRecord {
        started_at: started,
        duration_ms,
        succeeded: result == Outcome::Delivered,
        response_status: answer.status.map(i64::from),
        response_body: answer.body,
        error: answer.error.or_else(|| match result {
            Outcome::Delivered => None,
            Outcome::Gone => Some("410 Gone: the endpoint was disabled".into()),
            Outcome::Failed => answer.status.map(|s| format!("answered {s}")),
        }),
    };
    let next = match result {
        Outcome::Delivered => Next::Succeeded,
        Outcome::Gone => Next::Dead,
        Outcome::Failed => retry_or_dead(job, settings, answer.retry_after),
    };
    // A success only needs writing down when it ends a failure streak.
    let needs_update = endpoint_id
        .as_ref()
        .is_some_and(|(_, failing)| *failing || result != Outcome::Delivered);
    if let Some((endpoint_id, _)) = endpoint_id.filter(|_| needs_update)
        && let Err(e) = update_endpoint(store, &endpoint_id, result, settings).await
    {
        tracing::warn!(error = %e, endpoint = %endpoint_id, "could not update the endpoint's health");
    }
    (record, next)
}

async fn update_endpoint(
    store: &Store,
    endpoint_id: &str,
    result: Outcome,
    settings: &DeliverySettings,
) -> vouch_app::AppResult<()> {
    let mut tx = store.begin().await?;
    match result {
        Outcome::Delivered => webhooks::mark_success(&mut tx, endpoint_id).await?,
        Outcome::Gone => {
            vouch_app::webhooks::disable_endpoint(
                &mut tx,
                endpoint_id,
                "the endpoint answered 410 Gone",
                &settings.base_url,
            )
            .await?
        }
        Outcome::Failed => {
            let since = webhooks::mark_failure(&mut tx, endpoint_id).await?;
            let limit =
                Timestamp::from_datetime(OffsetDateTime::now_utc() - settings.disable_after);
            if since.is_some_and(|s| s < limit) {
                let days = settings.disable_after.as_secs() / 86_400;
                vouch_app::webhooks::disable_endpoint(
                    &mut tx,
                    endpoint_id,
                    &format!("every delivery failed for {days} days"),
                    &settings.base_url,
                )
                .await?;
            }
        }
    }
    tx.commit().await?;
    Ok(())
}

/// After a failed attempt: the next one on the retry schedule (with jitter, and no sooner than
/// the receiver's `Retry-After`), or none when the attempts are spent.
pub(crate) fn retry_or_dead(
    job: &Job,
    settings: &DeliverySettings,
    retry_after: Option<Duration>,
) -> Next {
    let next_attempt = u32::try_from(job.attempts + 1).unwrap_or(u32::MAX);
    match (job.attempts < job.max_attempts)
        .then(|| {
            retry_delay(
                &settings.retry_schedule,
                next_attempt,
                rand::random::<f64>(),
            )
        })
        .flatten()
    {
        Some(delay) => {
            let delay = retry_after.map_or(delay, |ra| ra.max(delay));
            Next::RetryAt(Timestamp::from_datetime(OffsetDateTime::now_utc() + delay))
        }
        None => Next::Dead,
    }
}

/// The `Retry-After` seconds of an answer (at most a day), and the first [`BODY_LIMIT`] bytes
/// of its body.
pub(crate) async fn read_answer(
    mut response: reqwest::Response,
) -> (Option<Duration>, Option<String>) {
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s.min(86_400)));
    let mut kept: Vec<u8> = Vec::new();
    while kept.len() < BODY_LIMIT {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                kept.extend_from_slice(&chunk[..chunk.len().min(BODY_LIMIT - kept.len())])
            }
            _ => break,
        }
    }
    let body = (!kept.is_empty()).then(|| String::from_utf8_lossy(&kept).into_owned());
    (retry_after, body)
}

/// What a request that got no answer says went wrong.
pub(crate) fn send_error(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        format!("no answer within {} s", timeout.as_secs())
    } else {
        error_chain(e)
    }
}

/// Sends the delivery. Besides the answer, names the endpoint and whether it was failing.
async fn send(
    store: &Store,
    client: &reqwest::Client,
    settings: &DeliverySettings,
    job: &Job,
    target: Option<webhooks::DeliveryTarget>,
) -> Result<(Answer, Option<(String, bool)>), String> {
    let message_id = message_of(job).ok_or("the job names no message")?;
    let target = match target {
        Some(target) => target,
        None => {
            let mut conn = store.conn().await.map_err(|e| e.to_string())?;
            webhooks::delivery_targets(&mut conn, &[message_id])
                .await
                .map_err(|e| e.to_string())?
                .remove(message_id)
                .ok_or("the message no longer exists (its endpoint was deleted)")?
        }
    };
    let (endpoint, event) = (target.endpoint, target.event);
    if !endpoint.enabled {
        return Ok((
            Answer {
                status: None,
                body: None,
                retry_after: None,
                error: Some("the endpoint is disabled".into()),
            },
            None,
        ));
    }
    let url = check_url(&endpoint.url, &settings.outbound).map_err(|e| format!("the URL {e}"))?;
    let body = serde_json::to_vec(&envelope(&event)).map_err(|e| e.to_string())?;
    let now = Timestamp::now();
    let timestamp = now.datetime().unix_timestamp();
    let signature = signature_header(
        &endpoint.signing_secrets(now),
        &target.message_id,
        timestamp,
        &body,
    )
    .map_err(|e| e.to_string())?;
    let result = client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &target.message_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await;
    let response = match result {
        Ok(r) => r,
        Err(e) => {
            return Ok((
                Answer {
                    status: None,
                    body: None,
                    retry_after: None,
                    error: Some(send_error(&e, settings.timeout)),
                },
                Some((endpoint.id, endpoint.failing_since.is_some())),
            ));
        }
    };
    let status = response.status().as_u16();
    let (retry_after, body) = read_answer(response).await;
    Ok((
        Answer {
            status: Some(status),
            body,
            retry_after,
            error: None,
        },
        Some((endpoint.id, endpoint.failing_since.is_some())),
    ))
}

/// The innermost causes, which say what actually went wrong (refused address, connection reset).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.join(": ")
}
