//! Referral-program setups: a staff request to turn a beneficiary into a referral program, which
//! only the Management Team (manager or above) may approve or reject.

use crate::account::{AccountFields, CloneOverrides};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SetupStatus {
    Requested,
    Approved,
    Rejected,
}

impl SetupStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
        }
    }
}

impl fmt::Display for SetupStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SetupStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [Self::Requested, Self::Approved, Self::Rejected]
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| "must be one of requested, approved, rejected".to_string())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
}

/// A decision is final: only a requested setup can be approved or rejected.
pub fn decide(current: SetupStatus, decision: Decision) -> Result<SetupStatus, String> {
    match current {
        SetupStatus::Requested => Ok(match decision {
            Decision::Approve => SetupStatus::Approved,
            Decision::Reject => SetupStatus::Rejected,
        }),
        done => Err(format!("this setup is already {done}; decisions are final")),
    }
}

/// Who the program is for: an existing account, or a new one created on approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Beneficiary {
    Existing { account_id: i64 },
    New { account: Box<AccountFields> },
}

/// What a setup will do once approved, kept as requested so that the approver sees exactly it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SetupPlan {
    pub beneficiary: Beneficiary,
    pub super_customer: CloneOverrides,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_are_final() {
        assert_eq!(
            decide(SetupStatus::Requested, Decision::Approve),
            Ok(SetupStatus::Approved)
        );
        assert_eq!(
            decide(SetupStatus::Requested, Decision::Reject),
            Ok(SetupStatus::Rejected)
        );
        assert!(decide(SetupStatus::Approved, Decision::Reject).is_err());
        assert!(decide(SetupStatus::Rejected, Decision::Approve).is_err());
    }
}
