//! Sales that referrals lead to (seed 002): who bought, for how much, where the lead came
//! from, and the milestone dates that bonus payments wait for. A sale is a draft until a
//! manager approves it (which creates its bonuses) or someone cancels it.

use crate::bonus::{LeadSource, Milestone, Milestones};
use crate::money::{Currency, Money};
use crate::validation::optional_text;
use crate::{Validation, validation::FieldError};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use time::Date;

/// The largest sale Vouch records, in minor units (10 billion in a two-decimal currency).
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SaleStatus {
    /// Recorded, not yet approved: editable, earns nothing yet.
    Draft,
    /// A manager approved it; its bonuses exist.
    Approved,
    /// Will not earn anything; unpaid payments were voided, paid ones opened clawbacks.
    Cancelled,
}

impl SaleStatus {
    pub const ALL: [SaleStatus; 3] = [
        SaleStatus::Draft,
        SaleStatus::Approved,
        SaleStatus::Cancelled,
    ];

    pub fn label(self) -> &'static str {
        match self {
            SaleStatus::Draft => "Draft",
            SaleStatus::Approved => "Approved",
            SaleStatus::Cancelled => "Cancelled",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SaleStatus::Draft => "draft",
            SaleStatus::Approved => "approved",
            SaleStatus::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for SaleStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SaleStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        SaleStatus::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("unknown sale status {s:?}"))
    }
}

impl LeadSource {
    pub const ALL: [LeadSource; 4] = [
        LeadSource::ReferralContact,
        LeadSource::ReferralEmployee,
        LeadSource::ReferralVendor,
        LeadSource::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LeadSource::ReferralContact => "referral_contact",
            LeadSource::ReferralEmployee => "referral_employee",
            LeadSource::ReferralVendor => "referral_vendor",
            LeadSource::Other => "other",
        }
    }

    /// As people read it: "Referral-Contact".
    pub fn label(self) -> &'static str {
        match self {
            LeadSource::ReferralContact => "Referral-Contact",
            LeadSource::ReferralEmployee => "Referral-Employee",
            LeadSource::ReferralVendor => "Referral-Vendor",
            LeadSource::Other => "Not a referral",
        }
    }

    /// The kind of person who must have referred a sale from this source (`None` for a
    /// non-referral source, which names nobody).
    pub fn referrer_kind(self) -> Option<crate::person::PersonKind> {
        use crate::person::PersonKind;
        match self {
            LeadSource::ReferralContact => Some(PersonKind::Contact),
            LeadSource::ReferralEmployee => Some(PersonKind::Employee),
            LeadSource::ReferralVendor => Some(PersonKind::Vendor),
            LeadSource::Other => None,
        }
    }
}

impl FromStr for LeadSource {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        LeadSource::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "must be one of {}",
                    LeadSource::ALL.map(LeadSource::as_str).join(", ")
                )
            })
    }
}

impl Milestone {
    /// The sale's field (and column) holding this milestone's date.
    pub fn sale_field(self) -> &'static str {
        match self {
            Milestone::SignDate => "signed_on",
            Milestone::JobApprovedDate => "job_approved_on",
            Milestone::InstallDate => "installed_on",
            Milestone::RevenueRecognizedDate => "revenue_recognized_on",
            Milestone::PermitClosedDate => "permit_closed_on",
            Milestone::PaidInFullDate => "paid_in_full_on",
        }
    }
}

impl Milestones {
    pub fn set(&mut self, m: Milestone, date: Option<Date>) {
        let slot = match m {
            Milestone::SignDate => &mut self.signed,
            Milestone::JobApprovedDate => &mut self.job_approved,
            Milestone::InstallDate => &mut self.installed,
            Milestone::RevenueRecognizedDate => &mut self.revenue_recognized,
            Milestone::PermitClosedDate => &mut self.permit_closed,
            Milestone::PaidInFullDate => &mut self.paid_in_full,
        };
        *slot = date;
    }
}

/// An ISO date as typed (`2026-04-15`); empty is "not known yet".
pub fn parse_date(raw: &str) -> Result<Option<Date>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let refuse = || "must be a date like 2026-04-15".to_string();
    // Four-digit years only: `time` also reads signed and longer years, which no sale has.
    let shape = raw.len() == 10
        && raw.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !shape {
        return Err(refuse());
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    match Date::parse(raw, format) {
        Ok(d) if d.year() >= 1 => Ok(Some(d)),
        _ => Err(refuse()),
    }
}

/// A date as stored and shown: `2026-04-15`.
pub fn date_text(date: Date) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    date.format(format).unwrap_or_default()
}

/// A sale as entered (API body or console form), before it is checked.
#[derive(Debug, Clone, Default)]
pub struct SaleFields {
    pub program_id: String,
    pub customer_id: String,
    /// Minor units of `currency`.
    pub amount: Option<i64>,
    /// Empty: the program's currency.
    pub currency: String,
    pub lead_source: Option<LeadSource>,
    pub referred_by: String,
    pub generated_by: String,
    pub add_on: bool,
    pub description: String,
    /// Milestone dates as typed, by milestone; absent ones are unknown.
    pub dates: Vec<(Milestone, String)>,
    /// The referral the sale was made from, if any.
    pub referral_id: String,
}

/// A checked sale: every field well-formed and the referral fields consistent with the lead
/// source. Whether the people it names exist and are of the right kind is the application's
/// check, since it needs the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleDraft {
    pub program_id: String,
    pub customer_id: String,
    pub amount: Money,
    pub lead_source: LeadSource,
    pub referred_by: Option<String>,
    pub generated_by: Option<String>,
    pub add_on: bool,
    pub description: Option<String>,
    pub milestones: Milestones,
    pub referral_id: Option<String>,
}

impl SaleFields {
    /// Checks the fields; `program_currency` fills an empty currency.
    pub fn parse(&self, program_currency: Currency) -> Result<SaleDraft, Validation> {
        let mut v = Validation::new();
        let required = |field: &str, raw: &str, v: &mut Validation| {
            let t = raw.trim();
            if t.is_empty() {
                v.add(field, "is required");
            }
            t.to_string()
        };
        let program_id = required("program_id", &self.program_id, &mut v);
        let customer_id = required("customer_id", &self.customer_id, &mut v);
        let currency = if self.currency.trim().is_empty() {
            Some(program_currency)
        } else {
            v.check("currency", Currency::parse(self.currency.trim()))
        };
        let amount = match self.amount {
            None => {
                v.add("amount", "is required");
                None
            }
            Some(a) if !(1..=MAX_AMOUNT).contains(&a) => {
                v.add(
                    "amount",
                    format!("must be between 1 and {MAX_AMOUNT} minor units"),
                );
                None
            }
            Some(a) => Some(a),
        };
        let lead_source = self.lead_source;
        if lead_source.is_none() {
            v.add("lead_source", "is required");
        }
        let referred_by = self.referred_by.trim();
        let generated_by = self.generated_by.trim();
        match lead_source {
            Some(LeadSource::Other) if !referred_by.is_empty() => v.add(
                "referred_by",
                "must be empty when the sale is not a referral",
            ),
            Some(source) if source != LeadSource::Other && referred_by.is_empty() => v.add(
                "referred_by",
                format!("is required for a {} sale", source.label()),
            ),
            _ => {}
        }
        if !generated_by.is_empty() && lead_source != Some(LeadSource::ReferralContact) {
            v.add(
                "generated_by",
                "only a Referral-Contact sale has an employee who generated it",
            );
        }
        if !referred_by.is_empty() && referred_by == customer_id {
            v.add("referred_by", "must be someone other than the customer");
        }
        let description = v
            .check("description", optional_text(&self.description, 2000))
            .flatten();
        let mut milestones = Milestones::default();
        for (m, raw) in &self.dates {
            if let Some(date) = v.check(m.sale_field(), parse_date(raw)) {
                milestones.set(*m, date);
            }
        }
        let (Some(amount), Some(currency), Some(lead_source)) = (amount, currency, lead_source)
        else {
            return Err(v);
        };
        if !v.is_empty() {
            return Err(v);
        }
        Ok(SaleDraft {
            program_id,
            customer_id,
            amount: Money::new(amount, currency),
            lead_source,
            referred_by: (!referred_by.is_empty()).then(|| referred_by.to_string()),
            generated_by: (!generated_by.is_empty()).then(|| generated_by.to_string()),
            add_on: self.add_on,
            description,
            milestones,
            referral_id: Some(self.referral_id.trim().to_string()).filter(|r| !r.is_empty()),
        })
    }
}

/// The milestone dates in `dates`, checked, by milestone (for recording them later).
pub fn parse_dates(
    dates: &[(Milestone, String)],
) -> Result<Vec<(Milestone, Option<Date>)>, Vec<FieldError>> {
    let mut v = Validation::new();
    let mut out = Vec::new();
    for (m, raw) in dates {
        if let Some(date) = v.check(m.sale_field(), parse_date(raw)) {
            out.push((*m, date));
        }
    }
    v.into_result().map(|()| out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> Currency {
        Currency::parse("USD").expect("USD")
    }

    fn fields() -> SaleFields {
        SaleFields {
            program_id: "prg_1".into(),
            customer_id: "per_c".into(),
            amount: Some(1_000_000),
            lead_source: Some(LeadSource::ReferralEmployee),
            referred_by: "per_e".into(),
            dates: vec![(Milestone::SignDate, "2026-03-02".into())],
            ..Default::default()
        }
    }

    #[test]
    fn a_sale_takes_the_program_currency_and_its_dates() {
        let d = fields().parse(usd()).expect("valid");
        assert_eq!(d.amount, Money::new(1_000_000, usd()));
        assert_eq!(
            d.milestones.signed.map(date_text).as_deref(),
            Some("2026-03-02")
        );
        assert_eq!(d.milestones.installed, None);
    }

    #[test]
    fn every_problem_is_named() {
        let f = SaleFields {
            amount: Some(0),
            currency: "usd1".into(),
            lead_source: Some(LeadSource::Other),
            referred_by: "per_e".into(),
            generated_by: "per_g".into(),
            dates: vec![(Milestone::InstallDate, "15/04/2026".into())],
            ..Default::default()
        };
        let v = f.parse(usd()).expect_err("invalid");
        let named: Vec<_> = v.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            named,
            vec![
                "program_id",
                "customer_id",
                "currency",
                "amount",
                "referred_by",
                "generated_by",
                "installed_on"
            ]
        );
    }

    #[test]
    fn dates_have_four_digit_years() {
        for bad in [
            "-9999-01-01",
            "+2026-01-01",
            "20260-01-01",
            "2026-1-01",
            "0000-01-01",
            "2026-02-30",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
        assert!(parse_date("2026-02-28").is_ok());
    }

    #[test]
    fn a_referral_sale_names_its_referrer() {
        let f = SaleFields {
            referred_by: " ".into(),
            ..fields()
        };
        let v = f.parse(usd()).expect_err("invalid");
        assert_eq!(v.errors()[0].field, "referred_by");
        assert!(v.errors()[0].message.contains("Referral-Employee"));
    }
}
