//! Users of a partner company in the partner portal. Every user of a partner sees all of that
//! partner's referrals (seed 003); admins also invite and remove colleagues.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartnerRole {
    /// Invites and removes colleagues, and works on referrals.
    Admin,
    /// Works on referrals.
    Member,
}

impl PartnerRole {
    pub const ALL: [PartnerRole; 2] = [PartnerRole::Admin, PartnerRole::Member];

    pub fn as_str(self) -> &'static str {
        match self {
            PartnerRole::Admin => "admin",
            PartnerRole::Member => "member",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PartnerRole::Admin => "Admin",
            PartnerRole::Member => "Member",
        }
    }
}

impl fmt::Display for PartnerRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PartnerRole {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        PartnerRole::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| "must be admin or member".to_string())
    }
}

/// How long an invitation or password-reset link works.
pub const LINK_HOURS: i64 = 72;
