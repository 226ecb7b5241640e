//! Public representation (API responses and webhook `data`).

use serde::Serialize;
use vouch_store as store;

#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Day {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    pub clicks: i64,
    /// Referred signups (referrals created).
    pub signups: i64,
    /// Referrals won.
    pub won: i64,
}

impl From<store::stats::Day> for Day {
    fn from(row: store::stats::Day) -> Self {
        Self {
            day: row.day,
            clicks: row.clicks,
            signups: row.signups,
            won: row.won,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TopReferrer {
    pub participant_id: String,
    pub email: String,
    pub code: String,
    pub won: i64,
}

impl From<store::stats::TopReferrer> for TopReferrer {
    fn from(row: store::stats::TopReferrer) -> Self {
        Self {
            participant_id: row.participant_id,
            email: row.email,
            code: row.code,
            won: row.won,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RewardTotal {
    pub status: String,
    pub count: i64,
    /// Sum of amounts in minor units (rewards without an amount count as 0).
    pub amount: i64,
    pub currency: String,
}

impl From<store::stats::RewardTotal> for RewardTotal {
    fn from(row: store::stats::RewardTotal) -> Self {
        Self {
            status: row.status,
            count: row.count,
            amount: row.amount,
            currency: row.currency,
        }
    }
}
