//! Public representation (API responses and webhook `data`).

use serde::Serialize;
use vouch_domain::Timestamp;
use vouch_store as store;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Endpoint {
    pub id: String,
    pub url: String,
    pub description: Option<String>,
    /// Event types this endpoint receives (`account.*`, `*`, …); empty means all.
    pub event_types: Vec<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    /// Until then, the secret replaced by the last rotation still signs alongside the new one.
    pub previous_secret_expires_at: Option<Timestamp>,
    /// When deliveries started failing without a success since.
    pub failing_since: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<store::webhooks::Endpoint> for Endpoint {
    fn from(row: store::webhooks::Endpoint) -> Self {
        Self {
            id: row.id,
            url: row.url,
            description: row.description,
            event_types: row.event_types,
            enabled: row.enabled,
            disabled_reason: row.disabled_reason,
            previous_secret_expires_at: row.previous_secret_expires_at,
            failing_since: row.failing_since,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Message {
    /// The `webhook-id` header: the same on every retry and resend.
    pub id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    /// The current delivery job.
    pub job_id: String,
    /// `queued`, `running`, `succeeded`, `dead` or `cancelled` (of the current job).
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
}

impl From<store::webhooks::Message> for Message {
    fn from(row: store::webhooks::Message) -> Self {
        Self {
            id: row.id,
            endpoint_id: row.endpoint_id,
            event_id: row.event_id,
            event_type: row.event_type,
            job_id: row.job_id,
            status: row.status,
            attempts: row.attempts,
            next_attempt_at: row.next_attempt_at,
            last_error: row.last_error,
            created_at: row.created_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Job {
    pub id: String,
    pub kind: String,
    pub subject: Option<String>,
    pub payload: serde_json::Value,
    /// `queued`, `running`, `succeeded`, `dead` or `cancelled`.
    pub status: String,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: Timestamp,
    pub locked_by: Option<String>,
    pub locked_until: Option<Timestamp>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<store::jobs::Job> for Job {
    fn from(row: store::jobs::Job) -> Self {
        Self {
            id: row.id,
            kind: row.kind,
            subject: row.subject,
            payload: row.payload,
            status: row.status,
            attempts: row.attempts,
            max_attempts: row.max_attempts,
            run_at: row.run_at,
            locked_by: row.locked_by,
            locked_until: row.locked_until,
            last_error: row.last_error,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Attempt {
    pub id: String,
    pub job_id: String,
    pub attempt: i64,
    pub worker: String,
    pub started_at: Timestamp,
    pub duration_ms: i64,
    pub succeeded: bool,
    pub response_status: Option<i64>,
    /// The first 4 KiB of the response body.
    pub response_body: Option<String>,
    pub error: Option<String>,
}

impl From<store::jobs::Attempt> for Attempt {
    fn from(row: store::jobs::Attempt) -> Self {
        Self {
            id: row.id,
            job_id: row.job_id,
            attempt: row.attempt,
            worker: row.worker,
            started_at: row.started_at,
            duration_ms: row.duration_ms,
            succeeded: row.succeeded,
            response_status: row.response_status,
            response_body: row.response_body,
            error: row.error,
        }
    }
}
