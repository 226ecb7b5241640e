//! Public representation (API responses and webhook `data`).

use serde::Serialize;
use vouch_domain::Timestamp;
use vouch_domain::reward::Delivery;
use vouch_domain::reward::Recipient;
use vouch_domain::reward::RewardKind;
use vouch_domain::reward::RewardStatus;
use vouch_domain::reward::Sides;
use vouch_domain::reward::Trigger;
use vouch_store as store;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RewardRule {
    pub id: String,
    pub program_id: String,
    pub name: String,
    pub trigger: Trigger,
    pub threshold: i64,
    pub sides: Sides,
    pub kind: RewardKind,
    /// Minor units of the program's currency.
    pub amount: Option<i64>,
    pub description: Option<String>,
    pub friend_amount: Option<i64>,
    pub friend_description: Option<String>,
    pub max_per_participant: Option<i64>,
    pub delivery: Delivery,
    pub active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<store::rewards::RewardRule> for RewardRule {
    fn from(row: store::rewards::RewardRule) -> Self {
        Self {
            id: row.id,
            program_id: row.program_id,
            name: row.name,
            trigger: row.trigger,
            threshold: row.threshold,
            sides: row.sides,
            kind: row.kind,
            amount: row.amount,
            description: row.description,
            friend_amount: row.friend_amount,
            friend_description: row.friend_description,
            max_per_participant: row.max_per_participant,
            delivery: row.delivery,
            active: row.active,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Reward {
    pub id: String,
    pub program_id: String,
    pub rule_id: String,
    /// Who receives it.
    pub participant_id: String,
    pub recipient: Recipient,
    /// The count of won referrals at which it was earned (1 for a friend's reward).
    pub step: i64,
    /// The won referral that reached the step.
    pub referral_id: Option<String>,
    pub kind: RewardKind,
    /// Minor units of `currency`.
    pub amount: Option<i64>,
    pub currency: String,
    pub description: Option<String>,
    /// The code handed out from the rule's pool (coupon rewards, once delivered).
    pub coupon_code: Option<String>,
    pub status: RewardStatus,
    /// End of the program's hold period, while `pending`.
    pub hold_until: Option<Timestamp>,
    pub earned_at: Option<Timestamp>,
    pub delivered_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub revoke_reason: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<store::rewards::Reward> for Reward {
    fn from(row: store::rewards::Reward) -> Self {
        Self {
            id: row.id,
            program_id: row.program_id,
            rule_id: row.rule_id,
            participant_id: row.participant_id,
            recipient: row.recipient,
            step: row.step,
            referral_id: row.referral_id,
            kind: row.kind,
            amount: row.amount,
            currency: row.currency,
            description: row.description,
            coupon_code: row.coupon_code,
            status: row.status,
            hold_until: row.hold_until,
            earned_at: row.earned_at,
            delivered_at: row.delivered_at,
            revoked_at: row.revoked_at,
            revoke_reason: row.revoke_reason,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Clawback {
    pub id: String,
    pub reward_id: String,
    pub program_id: String,
    pub reason: String,
    /// `open`, `recovered` or `waived`.
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

impl From<store::rewards::Clawback> for Clawback {
    fn from(row: store::rewards::Clawback) -> Self {
        Self {
            id: row.id,
            reward_id: row.reward_id,
            program_id: row.program_id,
            reason: row.reason,
            status: row.status,
            decided_by: row.decided_by,
            decided_at: row.decided_at,
            created_at: row.created_at,
        }
    }
}
