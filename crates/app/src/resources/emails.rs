//! Public representation (API responses and webhook `data`).

use serde::Serialize;
use vouch_domain::Timestamp;
use vouch_store as store;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct EmailMessage {
    pub id: String,
    pub kind: String,
    pub to_address: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub marketing: bool,
    /// `queued`, `sent` (SMTP), `stored` (kept in the outbox sink), `suppressed` or `dead`.
    pub status: String,
    pub transport: Option<String>,
    pub job_id: Option<String>,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    /// The program whose templates rendered it, for participant email.
    pub program_id: Option<String>,
    /// Sent as `List-Unsubscribe` (one-click, RFC 8058) on marketing email.
    pub unsubscribe_url: Option<String>,
}

impl From<store::emails::EmailMessage> for EmailMessage {
    fn from(row: store::emails::EmailMessage) -> Self {
        Self {
            id: row.id,
            kind: row.kind,
            to_address: row.to_address,
            subject: row.subject,
            text_body: row.text_body,
            html_body: row.html_body,
            marketing: row.marketing,
            status: row.status,
            transport: row.transport,
            job_id: row.job_id,
            created_at: row.created_at,
            sent_at: row.sent_at,
            program_id: row.program_id,
            unsubscribe_url: row.unsubscribe_url,
        }
    }
}
