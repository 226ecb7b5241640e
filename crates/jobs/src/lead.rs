//! One attempt at posting a sold lead to its buyer's Post URL (seed 004): the body
//! `vouch_app::lead_sales::post_body` builds, through the same outbound address guard as
//! webhooks. The sale's id travels as `sender_lead_id` and as the `Idempotency-Key` header, so a
//! buyer that sees a lead twice (delivery is at least once) can keep one.

use crate::webhook::{DeliverySettings, read_answer, retry_or_dead, send_error};
use std::time::Instant;
use vouch_app::outbound::check_url;
use vouch_domain::Timestamp;
use vouch_domain::webhook::{Outcome, outcome};
use vouch_store::Store;
use vouch_store::jobs::{AttemptRecord, Job, Next};

pub async fn attempt(
    store: &Store,
    client: &reqwest::Client,
    settings: &DeliverySettings,
    job: &Job,
) -> (AttemptRecord, Next) {
    let started = Timestamp::now();
    let clock = Instant::now();
    let mut record = AttemptRecord {
        started_at: started,
        ..AttemptRecord::starting_now()
    };
    let sent = send(store, client, settings, job).await;
    record.duration_ms = i64::try_from(clock.elapsed().as_millis()).unwrap_or(i64::MAX);
    let (status, retry_after, body) = match sent {
        Ok(answer) => answer,
        Err(Failure::Final(e)) => {
            record.error = Some(e);
            return (record, Next::Dead);
        }
        Err(Failure::Retry(e)) => {
            record.error = Some(e);
            return (record, retry_or_dead(job, settings, None));
        }
    };
    record.response_status = Some(i64::from(status));
    record.response_body = body;
    match outcome(status) {
        Outcome::Delivered => {
            record.succeeded = true;
            (record, Next::Succeeded)
        }
        Outcome::Gone => {
            record.error = Some("410 Gone: the buyer no longer takes leads at this URL".into());
            (record, Next::Dead)
        }
        Outcome::Failed => {
            record.error = Some(format!("answered {status}"));
            (record, retry_or_dead(job, settings, retry_after))
        }
    }
}

enum Failure {
    /// Trying again cannot help (the sale or its buyer's address is gone, or refused).
    Final(String),
    /// No answer this time.
    Retry(String),
}

async fn send(
    store: &Store,
    client: &reqwest::Client,
    settings: &DeliverySettings,
    job: &Job,
) -> Result<(u16, Option<std::time::Duration>, Option<String>), Failure> {
    let sale_id = job.payload["lead_sale_id"]
        .as_str()
        .ok_or_else(|| Failure::Final("the job names no lead sale".into()))?;
    let (url, body) = vouch_app::lead_sales::post_target(store, sale_id)
        .await
        .map_err(|e| match e {
            vouch_app::AppError::Internal(_) => Failure::Retry(e.to_string()),
            _ => Failure::Final(e.to_string()),
        })?;
    let url = check_url(&url, &settings.outbound)
        .map_err(|e| Failure::Final(format!("the Post URL {e}")))?;
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("idempotency-key", sale_id)
        .json(&body)
        .send()
        .await
        .map_err(|e| Failure::Retry(send_error(&e, settings.timeout)))?;
    let status = response.status().as_u16();
    let (retry_after, body) = read_answer(response).await;
    Ok((status, retry_after, body))
}
