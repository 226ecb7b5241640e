//! Public representation (API responses and audit entries).

use serde::Serialize;
use vouch_domain::Timestamp;
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
    #[serde(flatten)]
    pub terms: TermsFields,
    /// Who set them.
    pub set_by: String,
    pub created_at: Timestamp,
}

impl From<store::people::TermsVersion> for BonusTerms {
    fn from(row: store::people::TermsVersion) -> Self {
        Self {
            id: row.id,
            person_id: row.person_id,
            terms: row.terms.into(),
            set_by: row.set_by,
            created_at: row.created_at,
        }
    }
}
