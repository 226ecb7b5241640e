//! Public representation (API responses and webhook `data`).

use serde::Serialize;
use vouch_domain::Timestamp;
use vouch_domain::account::RegistrationPolicy;
use vouch_domain::setup::SetupPlan;
use vouch_domain::setup::SetupStatus;
use vouch_store as store;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Account {
    pub id: i64,
    pub name: String,
    pub code: String,
    pub email: String,
    pub owner_first_name: String,
    pub owner_last_name: String,
    pub owner_phone: Option<String>,
    pub vendor_matrix: bool,
    pub corporate_catalog: bool,
    pub whitelabeling: bool,
    pub exempt_from_membership_fees: bool,
    pub is_super_customer: bool,
    pub parent_id: Option<i64>,
    pub registration_policy: RegistrationPolicy,
    pub partner_site_url: Option<String>,
    /// Whether the Management Team opened this super customer's registration link.
    pub registration_approved: bool,
    pub notes: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<store::accounts::Account> for Account {
    fn from(row: store::accounts::Account) -> Self {
        Self {
            id: row.id,
            name: row.name,
            code: row.code,
            email: row.email,
            owner_first_name: row.owner_first_name,
            owner_last_name: row.owner_last_name,
            owner_phone: row.owner_phone,
            vendor_matrix: row.vendor_matrix,
            corporate_catalog: row.corporate_catalog,
            whitelabeling: row.whitelabeling,
            exempt_from_membership_fees: row.exempt_from_membership_fees,
            is_super_customer: row.is_super_customer,
            parent_id: row.parent_id,
            registration_policy: row.registration_policy,
            partner_site_url: row.partner_site_url,
            registration_approved: row.registration_approved,
            notes: row.notes,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Setup {
    pub id: String,
    pub status: SetupStatus,
    pub plan: SetupPlan,
    pub beneficiary_id: Option<i64>,
    pub super_customer_id: Option<i64>,
    pub requested_by: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub decision_note: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<store::setups::Setup> for Setup {
    fn from(row: store::setups::Setup) -> Self {
        Self {
            id: row.id,
            status: row.status,
            plan: row.plan,
            beneficiary_id: row.beneficiary_id,
            super_customer_id: row.super_customer_id,
            requested_by: row.requested_by,
            decided_by: row.decided_by,
            decided_at: row.decided_at,
            decision_note: row.decision_note,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}
