//! Partner companies as the API shows them.

use serde::Serialize;
use vouch_domain::Timestamp;
use vouch_domain::partner::{Commission as Terms, DeliveryMethod, PartnerStatus};
use vouch_domain::partner_referral::{Direction, DuplicateStatus, Need, Stage as ReferralStage};
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
            Terms::Percentage(b) => (Some(i64::from(b.0)), None, None),
            Terms::Fixed(m) => (None, Some(m.minor()), Some(m.currency().to_string())),
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

/// A referral between us and a partner company.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = PartnerReferralOut)]
pub struct PartnerReferral {
    pub id: String,
    /// Unique across the installation; `reference` is how people say it.
    pub number: i64,
    /// `R-1001`.
    pub reference: String,
    pub partner_id: String,
    /// The partner's name (when the partner still exists).
    pub partner_name: Option<String>,
    /// `to_us`: the partner introduced the client; `to_partner`: we sent the client to it.
    pub direction: Direction,
    pub client_name: String,
    pub company: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub needs: Vec<Need>,
    pub notes: Option<String>,
    /// The referral's value in minor units of `currency`.
    pub value: Option<i64>,
    pub currency: Option<String>,
    pub stage: ReferralStage,
    /// The partner manager it is allocated to.
    pub manager_id: Option<String>,
    pub submitted_by: String,
    /// `suspected` when it names a client already referred (same email or company domain);
    /// staff confirm or clear it.
    pub duplicate_status: DuplicateStatus,
    /// The earlier referral it may duplicate.
    pub duplicate_of: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl PartnerReferral {
    pub fn new(
        row: store::partner_referrals::PartnerReferral,
        partner_name: Option<String>,
    ) -> Self {
        Self {
            reference: format!("R-{}", row.number),
            id: row.id,
            number: row.number,
            partner_id: row.partner_id,
            partner_name,
            direction: row.direction,
            client_name: row.client_name,
            company: row.company,
            email: row.email,
            phone: row.phone,
            website: row.website,
            needs: row.needs,
            notes: row.notes,
            value: row.value.map(|m| m.minor()),
            currency: row.value.map(|m| m.currency().to_string()),
            stage: row.stage,
            manager_id: row.manager_id,
            submitted_by: row.submitted_by,
            duplicate_status: row.duplicate_status,
            duplicate_of: row.duplicate_of,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }

    /// The value as people read it: `$2,500.00`.
    pub fn value_text(&self) -> Option<String> {
        match (self.value, &self.currency) {
            (Some(v), Some(c)) => Some(vouch_domain::money::human(v, c)),
            _ => None,
        }
    }
}

/// One line of a referral's history: who changed what, when, from which side.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ReferralChange {
    /// `staff` or `partner`.
    pub side: String,
    pub actor: String,
    /// `created`, `stage`, `value`, `notes` or `duplicate`.
    pub field: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub at: Timestamp,
}

impl From<store::partner_referrals::Change> for ReferralChange {
    fn from(c: store::partner_referrals::Change) -> Self {
        Self {
            side: c.side,
            actor: c.actor,
            field: c.field,
            from: c.from_value,
            to: c.to_value,
            at: c.created_at,
        }
    }
}

/// What a partner earns on a referral it brought that was won with a value: its terms in one
/// program applied to the referral's value (minor units of `currency`), owed to the contact
/// in People who stands for the partner.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Commission {
    pub id: String,
    pub partner_id: String,
    pub referral_id: String,
    /// The program whose commission terms applied.
    pub program_id: String,
    /// The contact (`per_…`) the commission is owed to.
    pub payee_id: String,
    /// The percentage applied, for percentage terms; `null` for a fixed amount.
    pub percentage_bps: Option<i64>,
    /// The referral's value when it was won, in minor units of `referral_currency`.
    pub referral_value: i64,
    pub referral_currency: String,
    /// The commission, in minor units of `currency`.
    pub amount: i64,
    pub currency: String,
    pub status: vouch_domain::partner::CommissionStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<store::commissions::Commission> for Commission {
    fn from(c: store::commissions::Commission) -> Self {
        Self {
            id: c.id,
            partner_id: c.partner_id,
            referral_id: c.referral_id,
            program_id: c.program_id,
            payee_id: c.payee_id,
            percentage_bps: c.percentage_bps,
            referral_value: c.referral_value.minor(),
            referral_currency: c.referral_value.currency().to_string(),
            amount: c.amount.minor(),
            currency: c.amount.currency().to_string(),
            status: c.status,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}
