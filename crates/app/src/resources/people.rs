//! Public representation (API responses and audit entries).

use serde::Serialize;
use vouch_domain::Timestamp;
use vouch_domain::bonus::Milestone;
use vouch_domain::person::{PersonKind, TermsFields};
use vouch_store as store;

/// Someone who refers sales: a contact (customer or prospect), an employee or a vendor.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Person {
    pub id: String,
    pub kind: PersonKind,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    /// The payroll system's id (employees only).
    pub employee_number: Option<String>,
    pub notes: Option<String>,
    /// The program participant this contact was created for: their cash rewards delivered by
    /// payout are paid to this contact.
    pub participant_id: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<store::people::Person> for Person {
    fn from(row: store::people::Person) -> Self {
        Self {
            id: row.id,
            kind: row.kind,
            name: row.name,
            email: row.email,
            phone: row.phone,
            company: row.company,
            employee_number: row.employee_number,
            notes: row.notes,
            participant_id: row.participant_id,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// One version of a person's agreed referral-bonus terms. Bonuses copy the version in force
/// when they are created, so a later change never rewrites them.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BonusTerms {
    pub id: String,
    pub person_id: String,
    /// 1 for the first terms agreed with the person, then 2, 3, …
    pub version: i64,
    /// A share of each sale in basis points (1 000 is 10 %), or `null` with a fixed amount.
    pub percentage_bps: Option<i64>,
    /// A fixed amount per sale in minor units of `currency`, or `null` with a percentage.
    pub fixed_amount: Option<i64>,
    pub currency: Option<String>,
    pub front_term: Milestone,
    /// `null` is "Not Applicable": everything is paid on the front term.
    pub back_term: Option<Milestone>,
    /// The share due on the front term, in basis points.
    pub front_share_bps: i64,
    /// Who set them.
    pub set_by: String,
    pub created_at: Timestamp,
}

impl From<store::people::TermsVersion> for BonusTerms {
    fn from(row: store::people::TermsVersion) -> Self {
        let t = TermsFields::from(row.terms);
        Self {
            id: row.id,
            person_id: row.person_id,
            version: row.version,
            percentage_bps: t.percentage_bps,
            fixed_amount: t.fixed_amount,
            currency: t.currency,
            front_term: row.terms.front,
            back_term: row.terms.back,
            front_share_bps: i64::from(row.terms.front_share.0),
            set_by: row.set_by,
            created_at: row.created_at,
        }
    }
}
