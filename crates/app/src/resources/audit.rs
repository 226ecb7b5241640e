//! Public representation (API responses).

use serde::Serialize;
use vouch_domain::Timestamp;
use vouch_store as store;

/// One entry of the audit log: who changed what, when, from where, with the record before and
/// after the change.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AuditEvent {
    pub id: String,
    pub at: Timestamp,
    /// `staff`, `api_key`, `partner_user`, `participant`, `public` or `system`.
    pub actor_kind: String,
    pub actor_id: Option<String>,
    /// The staff email, API key name or participant email, as it was at the time.
    pub actor_label: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub request_id: Option<String>,
    pub client_ip: Option<String>,
}

impl From<store::audit::Entry> for AuditEvent {
    fn from(row: store::audit::Entry) -> Self {
        Self {
            id: row.id,
            at: row.at,
            actor_kind: row.actor_kind,
            actor_id: row.actor_id,
            actor_label: row.actor_label,
            action: row.action,
            entity: row.entity,
            entity_id: row.entity_id,
            before: row.before,
            after: row.after,
            request_id: row.request_id,
            client_ip: row.client_ip,
        }
    }
}
