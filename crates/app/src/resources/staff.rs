//! Public representation (API responses and webhook `data`).

use serde::Serialize;
use vouch_domain::Timestamp;
use vouch_domain::permission::Role;
use vouch_domain::permission::Scope;
use vouch_store as store;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StaffUser {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub disabled_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<store::users::StaffUser> for StaffUser {
    fn from(row: store::users::StaffUser) -> Self {
        Self {
            id: row.id,
            email: row.email,
            name: row.name,
            role: row.role,
            disabled_at: row.disabled_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub scope: Scope,
    /// The last characters of the secret, so people can tell keys apart.
    pub hint: String,
    pub created_by: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

impl From<store::api_keys::ApiKey> for ApiKey {
    fn from(row: store::api_keys::ApiKey) -> Self {
        Self {
            id: row.id,
            name: row.name,
            scope: row.scope,
            hint: row.hint,
            created_by: row.created_by,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            revoked_at: row.revoked_at,
        }
    }
}
