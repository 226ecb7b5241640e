//! Partner companies as the API shows them.

use serde::Serialize;
use vouch_domain::Timestamp;
use vouch_domain::partner::{Commission, DeliveryMethod, PartnerStatus};
use vouch_store as store;

/// A partner company: what it does with us (any combination of refers clients, receives
/// referrals, buys customers), who looks after it, and how a buyer receives customers.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Partner {
    pub id: String,
    pub name: String,
    pub website: Option<String>,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub notes: Option<String>,
    pub status: PartnerStatus,
    /// The staff user who looks after the partner (its partner manager).
    pub manager_id: Option<String>,
    pub refers_clients: bool,
    pub receives_referrals: bool,
    pub buys_customers: bool,
    /// Listed on the public partner directory.
    pub listed_in_directory: bool,
    /// A buyer's delivery method; `null` unless the partner buys customers.
    pub delivery_method: Option<DeliveryMethod>,
    /// Where an API post delivery sends customers.
    pub post_url: Option<String>,
    /// The receiving party's id, sent with each API post.
    pub source_id: Option<String>,
    /// Who hears of each sale (a buyer's addresses).
    pub notification_emails: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<store::partners::Partner> for Partner {
    fn from(row: store::partners::Partner) -> Self {
        Self {
            id: row.id,
            name: row.name,
            website: row.website,
            contact_name: row.contact_name,
            contact_email: row.contact_email,
            contact_phone: row.contact_phone,
            notes: row.notes,
            status: row.status,
            manager_id: row.manager_id,
            refers_clients: row.refers_clients,
            receives_referrals: row.receives_referrals,
            buys_customers: row.buys_customers,
            listed_in_directory: row.listed_in_directory,
            delivery_method: row.delivery_method,
            post_url: row.post_url,
            source_id: row.source_id,
            notification_emails: row.notification_emails,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// What a partner earns per won referral it brings in one program: exactly one of
/// `percentage_bps` (of the referral's value) and `fixed_amount` (minor units of `currency`).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CommissionTerms {
    pub partner_id: String,
    pub program_id: String,
    pub percentage_bps: Option<i64>,
    pub fixed_amount: Option<i64>,
    pub currency: Option<String>,
    /// In words: `10 % of the referral's value`.
    pub description: String,
    pub set_by: String,
    pub updated_at: Timestamp,
}

impl From<store::partners::CommissionTerms> for CommissionTerms {
    fn from(row: store::partners::CommissionTerms) -> Self {
        let (percentage_bps, fixed_amount, currency) = match row.commission {
            Commission::Percentage(b) => (Some(i64::from(b.0)), None, None),
            Commission::Fixed(m) => (None, Some(m.minor()), Some(m.currency().to_string())),
        };
        Self {
            partner_id: row.partner_id,
            program_id: row.program_id,
            percentage_bps,
            fixed_amount,
            currency,
            description: row.commission.describe(),
            set_by: row.set_by,
            updated_at: row.updated_at,
        }
    }
}
