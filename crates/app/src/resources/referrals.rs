//! Public representation (API responses and webhook `data`).

use serde::Serialize;
use vouch_domain::Timestamp;
use vouch_domain::fraud::Flag;
use vouch_domain::referral::Stage;
use vouch_store as store;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Referral {
    pub id: String,
    pub program_id: String,
    /// The participant whose link or code brought the referred one.
    pub referrer_id: String,
    pub referred_id: String,
    /// `code` (API `referred_by`), `form` (hidden field), `link` (attribution cookie), `import`.
    pub source: String,
    pub stage: Stage,
    pub won_at: Option<Timestamp>,
    /// What the fraud checks saw; a flagged referral waits for review.
    pub flags: Vec<Flag>,
    /// `none` (not flagged), `pending` (in the review queue: does not count toward rewards),
    /// `cleared` or `junk`.
    pub review: String,
    pub review_reason: Option<String>,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<store::referrals::Referral> for Referral {
    fn from(row: store::referrals::Referral) -> Self {
        Self {
            id: row.id,
            program_id: row.program_id,
            referrer_id: row.referrer_id,
            referred_id: row.referred_id,
            source: row.source,
            stage: row.stage,
            won_at: row.won_at,
            flags: row.flags,
            review: row.review,
            review_reason: row.review_reason,
            reviewed_by: row.reviewed_by,
            reviewed_at: row.reviewed_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StageChange {
    pub from_stage: Option<Stage>,
    pub to_stage: Stage,
    pub reason: Option<String>,
    /// Staff email, API key name, `system` or `public`.
    pub actor: String,
    pub at: Timestamp,
}

impl From<store::referrals::StageChange> for StageChange {
    fn from(row: store::referrals::StageChange) -> Self {
        Self {
            from_stage: row.from_stage,
            to_stage: row.to_stage,
            reason: row.reason,
            actor: row.actor,
            at: row.at,
        }
    }
}
