//! The referrals module (seed 002): someone refers a contact, the company meets them and
//! tracks them through the sales process until the referral is won (a sale) or lost.

use crate::bonus::LeadSource;
use crate::person::PersonKind;
use crate::validation::optional_text;
use crate::{Timestamp, Validation};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Where a referral is in the sales process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
// Named apart from the participant referrals' `Stage` in the OpenAPI document.
#[schema(as = SalesReferralStage)]
pub enum Stage {
    /// Entered; nobody has met the referred contact yet.
    New,
    /// A meeting is booked (`meeting_at`).
    MeetingScheduled,
    /// Met; a proposal is out.
    ProposalSent,
    /// They bought: a sale was made from the referral.
    Won,
    /// They will not buy (`lost_reason` says why).
    Lost,
}

impl Stage {
    pub const ALL: [Stage; 5] = [
        Stage::New,
        Stage::MeetingScheduled,
        Stage::ProposalSent,
        Stage::Won,
        Stage::Lost,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::New => "new",
            Stage::MeetingScheduled => "meeting_scheduled",
            Stage::ProposalSent => "proposal_sent",
            Stage::Won => "won",
            Stage::Lost => "lost",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Stage::New => "New",
            Stage::MeetingScheduled => "Meeting scheduled",
            Stage::ProposalSent => "Proposal sent",
            Stage::Won => "Won",
            Stage::Lost => "Lost",
        }
    }

    /// Won and lost are where a referral ends.
    pub fn is_final(self) -> bool {
        matches!(self, Stage::Won | Stage::Lost)
    }

    /// Whether a referral may move from this stage to `to`: any open stage to any other stage;
    /// nothing out of won or lost (a lost referral that comes back is a new referral).
    pub fn may_become(self, to: Stage) -> bool {
        !self.is_final() && self != to
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Stage {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Stage::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "must be one of {}",
                    Stage::ALL.map(Stage::as_str).join(", ")
                )
            })
    }
}

/// The lead source of a sale made from a referral by someone of this kind.
pub fn lead_source_for(referrer: PersonKind) -> LeadSource {
    match referrer {
        PersonKind::Contact => LeadSource::ReferralContact,
        PersonKind::Employee => LeadSource::ReferralEmployee,
        PersonKind::Vendor => LeadSource::ReferralVendor,
    }
}

/// A new referral as entered.
#[derive(Debug, Clone, Default)]
pub struct ReferralFields {
    pub program_id: String,
    pub referred_id: String,
    pub referrer_id: String,
    pub generated_by: String,
    /// RFC 3339, e.g. `2026-12-03T15:00:00Z`; empty when not booked yet.
    pub meeting_at: String,
    pub notes: String,
}

/// Checked referral fields (whether the people exist and are of the right kinds is checked
/// against the store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralDraft {
    pub program_id: String,
    pub referred_id: String,
    pub referrer_id: String,
    pub generated_by: Option<String>,
    pub meeting_at: Option<Timestamp>,
    pub notes: Option<String>,
}

/// A meeting time as typed: RFC 3339 (`2026-12-03T15:00:00Z`) or a console's local
/// `2026-12-03T15:00`, read as UTC. Empty is "not booked".
pub fn parse_meeting(raw: &str) -> Result<Option<Timestamp>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let with_zone = if raw.len() == 16 {
        format!("{raw}:00Z")
    } else {
        raw.to_string()
    };
    time::OffsetDateTime::parse(&with_zone, &time::format_description::well_known::Rfc3339)
        .map(|t| Some(Timestamp::from_datetime(t)))
        .map_err(|_| "must be a date and time like 2026-12-03T15:00:00Z".to_string())
}

impl ReferralFields {
    pub fn parse(&self) -> Result<ReferralDraft, Validation> {
        let mut v = Validation::new();
        let required = |field: &str, raw: &str, v: &mut Validation| {
            let t = raw.trim();
            if t.is_empty() {
                v.add(field, "is required");
            }
            t.to_string()
        };
        let program_id = required("program_id", &self.program_id, &mut v);
        let referred_id = required("referred_id", &self.referred_id, &mut v);
        let referrer_id = required("referrer_id", &self.referrer_id, &mut v);
        if !referred_id.is_empty() && referred_id == referrer_id {
            v.add(
                "referrer_id",
                "must be someone other than the referred contact",
            );
        }
        let generated_by = self.generated_by.trim();
        let meeting_at = v
            .check("meeting_at", parse_meeting(&self.meeting_at))
            .flatten();
        let notes = v
            .check("notes", optional_text(&self.notes, 10_000))
            .flatten();
        if !v.is_empty() {
            return Err(v);
        }
        Ok(ReferralDraft {
            program_id,
            referred_id,
            referrer_id,
            generated_by: (!generated_by.is_empty()).then(|| generated_by.to_string()),
            meeting_at,
            notes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_stages_move_and_final_ones_do_not() {
        assert!(Stage::New.may_become(Stage::MeetingScheduled));
        assert!(Stage::ProposalSent.may_become(Stage::Lost));
        assert!(!Stage::Won.may_become(Stage::New));
        assert!(!Stage::Lost.may_become(Stage::Won));
        assert!(!Stage::New.may_become(Stage::New));
    }

    #[test]
    fn meetings_are_read_as_typed() {
        let t = parse_meeting("2026-12-03T15:00").expect("console form");
        assert_eq!(
            t.map(|t| t.to_string()).as_deref(),
            Some("2026-12-03T15:00:00.000Z")
        );
        assert!(parse_meeting("tomorrow").is_err());
        assert_eq!(parse_meeting(" "), Ok(None));
    }

    #[test]
    fn fields_name_their_problems() {
        let v = ReferralFields {
            referred_id: "per_1".into(),
            referrer_id: "per_1".into(),
            meeting_at: "soon".into(),
            ..Default::default()
        }
        .parse()
        .expect_err("invalid");
        let named: Vec<_> = v.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(named, vec!["program_id", "referrer_id", "meeting_at"]);
    }
}
