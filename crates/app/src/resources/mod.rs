//! The public representation of every resource: what the API answers, what a webhook event's
//! `data` carries and what the audit log keeps as before/after. These types, not the store's
//! rows, are the contract: a column can be renamed or added without changing what integrators
//! see, and a field reaches them only when it is written here. Secrets (password hashes,
//! webhook signing secrets) have no field at all.
//!
//! Each type converts from its row with `From`, field by field, so a change to a row that the
//! representation depends on fails to compile instead of silently changing the contract.

mod accounts;
mod audit;
mod emails;
pub mod events;
mod lead_sales;
mod partners;
mod people;
mod programs;
mod referrals;
mod rewards;
mod sales;
mod staff;
mod stats;
mod webhooks;

pub use accounts::{Account, Setup};
pub use audit::AuditEvent;
pub use emails::EmailMessage;
pub use events::{EVENT_TYPES, EventType, TestEvent, Unsubscribed};
pub use lead_sales::{DeliveryAttempt, LeadSale, LeadStatement, StatementTotal};
pub use partners::{Commission, CommissionTerms, Partner, PartnerReferral, ReferralChange};
pub use people::{BonusTerms, Person};
pub use programs::{Participant, Program, ProgramEvent};
pub use referrals::{Referral, StageChange};
pub use rewards::{Clawback, Reward, RewardRule};
pub use sales::{
    Bonus, BonusPolicy, Payment, PaymentClawback, PayoutBatch, ReferralHistoryEntry, Sale,
    SalesReferral, Total,
};
pub use staff::{ApiKey, StaffUser};
pub use stats::{Day, RewardTotal, TopReferrer};
pub use webhooks::{Attempt, Endpoint, Job, Message};
