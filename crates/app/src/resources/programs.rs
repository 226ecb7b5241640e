//! Public representation (API responses and webhook `data`).

use serde::Serialize;
use vouch_domain::Timestamp;
use vouch_domain::program::AttributionModel;
use vouch_domain::program::ProgramStatus;
use vouch_store as store;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Program {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub landing_url: String,
    pub fallback_url: Option<String>,
    pub status: ProgramStatus,
    pub attribution_window_days: i64,
    pub attribution_model: AttributionModel,
    pub qualifying_event: String,
    pub reward_hold_days: i64,
    pub currency: String,
    pub sender_name: Option<String>,
    pub reply_to: Option<String>,
    pub super_customer_id: Option<i64>,
    /// Participants see their rank among the referrers on their page.
    pub show_leaderboard: bool,
    /// The signup page's headline (`null`: "Join {name}").
    pub headline: Option<String>,
    /// What the program offers, in the operator's words.
    pub offer: Option<String>,
    /// The logo on the public pages.
    pub logo_url: Option<String>,
    /// The public pages' accent colour, `#RRGGBB`.
    pub brand_color: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<store::programs::Program> for Program {
    fn from(row: store::programs::Program) -> Self {
        Self {
            id: row.id,
            name: row.name,
            slug: row.slug,
            landing_url: row.landing_url,
            fallback_url: row.fallback_url,
            status: row.status,
            attribution_window_days: row.attribution_window_days,
            attribution_model: row.attribution_model,
            qualifying_event: row.qualifying_event,
            reward_hold_days: row.reward_hold_days,
            currency: row.currency,
            sender_name: row.sender_name,
            reply_to: row.reply_to,
            super_customer_id: row.super_customer_id,
            show_leaderboard: row.show_leaderboard,
            headline: row.headline,
            offer: row.offer,
            logo_url: row.logo_url,
            brand_color: row.brand_color,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Participant {
    pub id: String,
    pub program_id: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// The referral code; the link is `{base_url}/r/{code}`.
    pub code: String,
    /// The participant who referred this one, if any.
    pub referred_by: Option<String>,
    /// The account registered for them under the program's super customer, if the program is
    /// tied to one.
    pub account_id: Option<i64>,
    /// `active`, or `blocked` by staff: a blocked participant's link credits no one and they
    /// earn no new reward until unblocked.
    #[schema(pattern = "^(active|blocked)$", example = "active")]
    pub status: String,
    pub signed_up_at: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<store::participants::Participant> for Participant {
    fn from(row: store::participants::Participant) -> Self {
        Self {
            id: row.id,
            program_id: row.program_id,
            email: row.email,
            first_name: row.first_name,
            last_name: row.last_name,
            code: row.code,
            referred_by: row.referred_by,
            account_id: row.account_id,
            status: row.status,
            signed_up_at: row.signed_up_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ProgramEvent {
    pub event_id: String,
    pub program_id: String,
    pub name: String,
    pub participant_id: String,
    /// `referral_won`, `already_won`, `not_referred`, `not_qualifying` or `referral_closed`.
    pub outcome: String,
    pub referral_id: Option<String>,
    pub received_at: Timestamp,
}

impl From<store::program_events::ProgramEvent> for ProgramEvent {
    fn from(row: store::program_events::ProgramEvent) -> Self {
        Self {
            event_id: row.event_id,
            program_id: row.program_id,
            name: row.name,
            participant_id: row.participant_id,
            outcome: row.outcome,
            referral_id: row.referral_id,
            received_at: row.received_at,
        }
    }
}
