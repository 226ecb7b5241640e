//! Vouch's pure rules and types. Nothing here does I/O or awaits; the store persists what these
//! functions decide and the server turns their errors into HTTP answers.

#[macro_use]
mod text_enum;

pub mod account;
pub mod bonus;
pub mod email;
pub mod email_template;
pub mod export;
pub mod fraud;
pub mod fuzzing;
pub mod id;
pub mod import;
pub mod json_body;
pub mod lead_sale;
pub mod money;
pub mod participant;
pub mod partner;
pub mod partner_referral;
pub mod partner_user;
pub mod password;
pub mod payout;
pub mod permission;
pub mod person;
pub mod program;
pub mod referral;
pub mod reward;
pub mod sale;
pub mod sales_referral;
pub mod setup;
pub mod time_zones;
pub mod timestamp;
pub mod validation;
pub mod webhook;

pub use timestamp::Timestamp;
pub use validation::{FieldError, Validation};
