//! Sales referral bonuses (seed 002): the terms an employee, vendor or program agreed, which
//! bonuses approving a sale creates, what a bonus is worth, the payments it is paid in and when
//! each is due. Pure rules; the store keeps the records and the application layer runs them.
//!
//! Rounding, written once for every amount here:
//! - a percentage of a sale is `amount × bps / 10 000` rounded half up to the minor unit
//!   ([`Money::share`]; amounts are never negative here, so half up and half away from zero
//!   agree);
//! - a split hands each part its floor, then gives the cents left over one at a time to the
//!   parts with the largest remainder, ties going to the earliest part ([`Money::split`]), so
//!   the parts always sum exactly to the whole.

use crate::money::{BasisPoints, Money};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use time::Date;

/// A date in a sale's life that a payment can wait for (1Stop's pay terms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Milestone {
    /// The customer signed their agreement.
    SignDate,
    JobApprovedDate,
    InstallDate,
    RevenueRecognizedDate,
    PermitClosedDate,
    PaidInFullDate,
}

impl Milestone {
    pub const ALL: [Milestone; 6] = [
        Milestone::SignDate,
        Milestone::JobApprovedDate,
        Milestone::InstallDate,
        Milestone::RevenueRecognizedDate,
        Milestone::PermitClosedDate,
        Milestone::PaidInFullDate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Milestone::SignDate => "sign_date",
            Milestone::JobApprovedDate => "job_approved_date",
            Milestone::InstallDate => "install_date",
            Milestone::RevenueRecognizedDate => "revenue_recognized_date",
            Milestone::PermitClosedDate => "permit_closed_date",
            Milestone::PaidInFullDate => "paid_in_full_date",
        }
    }

    /// As people read it: "Install Date".
    pub fn label(self) -> &'static str {
        match self {
            Milestone::SignDate => "Sign Date",
            Milestone::JobApprovedDate => "Job Approved Date",
            Milestone::InstallDate => "Install Date",
            Milestone::RevenueRecognizedDate => "Revenue Recognized Date",
            Milestone::PermitClosedDate => "Permit Closed Date",
            Milestone::PaidInFullDate => "Paid in Full Date",
        }
    }
}

impl fmt::Display for Milestone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Milestone {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Milestone::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "must be one of {}",
                    Milestone::ALL.map(Milestone::as_str).join(", ")
                )
            })
    }
}

/// The dates a sale has reached so far; unknown ones are recorded later.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Milestones {
    pub signed: Option<Date>,
    pub job_approved: Option<Date>,
    pub installed: Option<Date>,
    pub revenue_recognized: Option<Date>,
    pub permit_closed: Option<Date>,
    pub paid_in_full: Option<Date>,
}

impl Milestones {
    pub fn date(&self, m: Milestone) -> Option<Date> {
        match m {
            Milestone::SignDate => self.signed,
            Milestone::JobApprovedDate => self.job_approved,
            Milestone::InstallDate => self.installed,
            Milestone::RevenueRecognizedDate => self.revenue_recognized,
            Milestone::PermitClosedDate => self.permit_closed,
            Milestone::PaidInFullDate => self.paid_in_full,
        }
    }
}

/// What a bonus is worth: a share of the sale, or a fixed amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    Percentage(BasisPoints),
    Fixed(Money),
}

/// Agreed referral-bonus terms. They are copied onto each bonus when it is created, so changing
/// a person's terms later never rewrites a bonus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terms {
    pub basis: Basis,
    /// When the front payment falls due.
    pub front: Milestone,
    /// When the back payment falls due; `None` is "Not Applicable": everything is paid on the
    /// front term.
    pub back: Option<Milestone>,
    /// The share due on the front term; the rest is due on the back term.
    pub front_share: BasisPoints,
}

/// Why terms were refused, by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermsError {
    pub field: &'static str,
    pub message: String,
}

impl Terms {
    /// Checks the terms hold together: a percentage between 0.01 % and 100 %, a fixed amount
    /// above zero, a front share between 0.01 % and 100 %, and 100 % on the front when there is
    /// no back term.
    pub fn check(&self) -> Result<(), TermsError> {
        let refuse = |field, message: &str| {
            Err(TermsError {
                field,
                message: message.to_string(),
            })
        };
        match self.basis {
            Basis::Percentage(bp) if bp.0 == 0 || bp > BasisPoints::WHOLE => {
                return refuse("percentage", "must be above 0 % and at most 100 %");
            }
            Basis::Fixed(m) if m.minor() <= 0 => {
                return refuse("fixed_amount", "must be more than zero");
            }
            _ => {}
        }
        if self.front_share.0 == 0 || self.front_share > BasisPoints::WHOLE {
            return refuse("front_share", "must be above 0 % and at most 100 %");
        }
        if self.back.is_none() && self.front_share != BasisPoints::WHOLE {
            return refuse(
                "front_share",
                "must be 100 % when the back term is Not Applicable",
            );
        }
        if self.back == Some(self.front) && self.front_share != BasisPoints::WHOLE {
            return refuse("back", "must differ from the front term");
        }
        Ok(())
    }

    /// The bonus on a sale of `sale`: the percentage of it (rounded half up), or the fixed
    /// amount. A fixed amount must be in the sale's currency.
    pub fn amount(&self, sale: Money) -> Result<Money, TermsError> {
        match self.basis {
            Basis::Percentage(bp) => Ok(sale.share(bp)),
            Basis::Fixed(m) if m.currency() == sale.currency() => Ok(m),
            Basis::Fixed(m) => Err(TermsError {
                field: "fixed_amount",
                message: format!(
                    "is in {} but the sale is in {}",
                    m.currency(),
                    sale.currency()
                ),
            }),
        }
    }

    /// The payments `amount` is paid in under these terms: one on the front term, or the front
    /// share on the front term and the rest on the back term.
    pub fn instalments(&self, amount: Money) -> Vec<Instalment> {
        match self.back {
            Some(back) if self.front_share != BasisPoints::WHOLE => {
                let parts = amount.split(&[
                    self.front_share.0,
                    BasisPoints::WHOLE.0 - self.front_share.0,
                ]);
                parts
                    .into_iter()
                    .zip([self.front, back])
                    .map(|(amount, term)| Instalment { amount, term })
                    .collect()
            }
            _ => vec![Instalment {
                amount,
                term: self.front,
            }],
        }
    }
}

/// One payment of a bonus: how much, and the milestone it falls due on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instalment {
    pub amount: Money,
    pub term: Milestone,
}

impl Instalment {
    /// When it falls due: the sale's date for its term, or `None` while that date is unknown
    /// (the payment waits for it).
    pub fn due(&self, milestones: &Milestones) -> Option<Date> {
        milestones.date(self.term)
    }
}

/// Why a split was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitError(pub String);

/// `amount` in `n` equal parts; the cents left over go to the earliest parts.
pub fn split_equally(amount: Money, n: usize) -> Result<Vec<Money>, SplitError> {
    if n == 0 || n > 100 {
        return Err(SplitError("split into 1 to 100 parts".into()));
    }
    Ok(amount.split(&vec![1; n]))
}

/// `amount` by percentages (basis points) that sum to 100 %, largest remainder first.
pub fn split_by_percentages(
    amount: Money,
    shares: &[BasisPoints],
) -> Result<Vec<Money>, SplitError> {
    if shares.is_empty() || shares.len() > 100 {
        return Err(SplitError("split into 1 to 100 parts".into()));
    }
    if shares.iter().any(|s| s.0 == 0) {
        return Err(SplitError("every part must be more than 0 %".into()));
    }
    let total: u64 = shares.iter().map(|s| u64::from(s.0)).sum();
    if total != u64::from(BasisPoints::WHOLE.0) {
        return Err(SplitError(format!(
            "the parts must add up to 100 % (they add up to {})",
            BasisPoints(u32::try_from(total).unwrap_or(u32::MAX)).percent_text()
        )));
    }
    Ok(amount.split(&shares.iter().map(|s| s.0).collect::<Vec<_>>()))
}

/// `amount` into the given amounts, which must each be above zero and sum to it exactly.
pub fn split_by_amounts(amount: Money, parts: &[Money]) -> Result<Vec<Money>, SplitError> {
    if parts.is_empty() || parts.len() > 100 {
        return Err(SplitError("split into 1 to 100 parts".into()));
    }
    if parts.iter().any(|p| p.currency() != amount.currency()) {
        return Err(SplitError(format!(
            "every part must be in {}",
            amount.currency()
        )));
    }
    if parts.iter().any(|p| p.minor() <= 0) {
        return Err(SplitError("every part must be more than zero".into()));
    }
    let sum = parts
        .iter()
        .try_fold(Money::zero(amount.currency()), |acc, p| acc.checked_add(*p));
    if sum != Some(amount) {
        return Err(SplitError(format!(
            "the parts must add up to {amount} (they add up to {})",
            sum.map_or_else(|| "too much".to_string(), |s| s.to_string())
        )));
    }
    Ok(parts.to_vec())
}

/// The kinds of bonus (1Stop's bonus types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BonusKind {
    /// For the referred customer.
    NewCustomer,
    /// For an existing customer who bought more.
    AddOnSale,
    /// For the contact who referred the customer.
    ReferralContact,
    /// For the employee who generated the referral from a contact.
    EmployeeGenerated,
    /// For the employee who referred the customer.
    ReferralEmployee,
    /// For the vendor who referred the customer.
    ReferralVendor,
}

/// Where a sale came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LeadSource {
    ReferralContact,
    ReferralEmployee,
    ReferralVendor,
    /// Any source that is not a referral (advertising, walk-in, …): no referral bonus.
    Other,
}

/// What approving a sale needs to know to decide its bonuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaleFacts {
    pub lead_source: LeadSource,
    /// An employee generated the referral from the referring contact.
    pub generated_by_employee: bool,
    /// A sale to an existing customer (an add-on), not to a new one.
    pub add_on: bool,
}

/// The program's choices beyond the seed's fixed rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BonusSettings {
    /// Also reward the referred customer of a referral sale.
    pub new_customer_bonus: bool,
    /// Also reward an existing customer's add-on sale.
    pub add_on_bonus: bool,
}

/// The bonuses approving a sale creates, by its lead source (seed 002): Referral-Contact gives
/// a Referral-Contact bonus, plus Employee Generated when an employee generated the referral;
/// Referral-Employee and Referral-Vendor give theirs. The program may add a New Customer bonus
/// for a referred new customer and an Add-On Sale bonus for an add-on.
pub fn bonuses_for(sale: SaleFacts, settings: BonusSettings) -> Vec<BonusKind> {
    let mut out = Vec::new();
    match sale.lead_source {
        LeadSource::ReferralContact => {
            out.push(BonusKind::ReferralContact);
            if sale.generated_by_employee {
                out.push(BonusKind::EmployeeGenerated);
            }
        }
        LeadSource::ReferralEmployee => out.push(BonusKind::ReferralEmployee),
        LeadSource::ReferralVendor => out.push(BonusKind::ReferralVendor),
        LeadSource::Other => {}
    }
    let referred = sale.lead_source != LeadSource::Other;
    if sale.add_on {
        if settings.add_on_bonus {
            out.push(BonusKind::AddOnSale);
        }
    } else if referred && settings.new_customer_bonus {
        out.push(BonusKind::NewCustomer);
    }
    out
}

/// Where a payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Its milestone date is not known yet.
    AwaitingMilestone,
    Due,
    /// In a payout batch not yet paid.
    InBatch,
    Paid,
    /// Will not be paid (its sale was cancelled, or its bonus split again).
    Voided,
}

/// What cancelling the sale does to a payment in this status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnCancel {
    /// Not paid yet: it is voided.
    Void,
    /// Paid already: a clawback opens for review.
    Clawback,
    /// Voided already: nothing.
    Nothing,
}

impl PaymentStatus {
    pub fn on_cancel(self) -> OnCancel {
        match self {
            PaymentStatus::AwaitingMilestone | PaymentStatus::Due | PaymentStatus::InBatch => {
                OnCancel::Void
            }
            PaymentStatus::Paid => OnCancel::Clawback,
            PaymentStatus::Voided => OnCancel::Nothing,
        }
    }

    /// Whether a payment may move from this status to `to`. Paid and voided are final, so a
    /// payment is paid once at most.
    pub fn may_become(self, to: PaymentStatus) -> bool {
        use PaymentStatus::*;
        matches!(
            (self, to),
            (AwaitingMilestone, Due)
                | (Due, InBatch)
                | (InBatch, Due)
                | (InBatch, Paid)
                | (Due, Paid)
                | (AwaitingMilestone | Due | InBatch, Voided)
        )
    }
}

impl BonusKind {
    pub const ALL: [BonusKind; 6] = [
        BonusKind::NewCustomer,
        BonusKind::AddOnSale,
        BonusKind::ReferralContact,
        BonusKind::EmployeeGenerated,
        BonusKind::ReferralEmployee,
        BonusKind::ReferralVendor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BonusKind::NewCustomer => "new_customer",
            BonusKind::AddOnSale => "add_on_sale",
            BonusKind::ReferralContact => "referral_contact",
            BonusKind::EmployeeGenerated => "employee_generated",
            BonusKind::ReferralEmployee => "referral_employee",
            BonusKind::ReferralVendor => "referral_vendor",
        }
    }

    /// As people read it (1Stop's names): "Referral-Contact".
    pub fn label(self) -> &'static str {
        match self {
            BonusKind::NewCustomer => "New Customer",
            BonusKind::AddOnSale => "Add-On Sale",
            BonusKind::ReferralContact => "Referral-Contact",
            BonusKind::EmployeeGenerated => "Employee Generated",
            BonusKind::ReferralEmployee => "Referral-Employee",
            BonusKind::ReferralVendor => "Referral-Vendor",
        }
    }
}

impl FromStr for BonusKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        BonusKind::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "must be one of {}",
                    BonusKind::ALL.map(BonusKind::as_str).join(", ")
                )
            })
    }
}

/// Where a bonus stands in its workflow (1Stop's blueprint).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BonusStatus {
    /// Created; someone must complete what it needs before review.
    Incomplete,
    ReadyForReview,
    /// A manager approved it; its payments exist.
    Approved,
    Rejected,
    /// Its sale was cancelled.
    Cancelled,
}

impl BonusStatus {
    pub const ALL: [BonusStatus; 5] = [
        BonusStatus::Incomplete,
        BonusStatus::ReadyForReview,
        BonusStatus::Approved,
        BonusStatus::Rejected,
        BonusStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BonusStatus::Incomplete => "incomplete",
            BonusStatus::ReadyForReview => "ready_for_review",
            BonusStatus::Approved => "approved",
            BonusStatus::Rejected => "rejected",
            BonusStatus::Cancelled => "cancelled",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            BonusStatus::Incomplete => "Incomplete",
            BonusStatus::ReadyForReview => "Ready for review",
            BonusStatus::Approved => "Approved",
            BonusStatus::Rejected => "Rejected",
            BonusStatus::Cancelled => "Cancelled",
        }
    }

    /// Whether its completion fields may still change: until it is submitted for review.
    pub fn editable(self) -> bool {
        self == BonusStatus::Incomplete
    }
}

impl FromStr for BonusStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        BonusStatus::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "must be one of {}",
                    BonusStatus::ALL.map(BonusStatus::as_str).join(", ")
                )
            })
    }
}

impl PaymentStatus {
    pub const ALL: [PaymentStatus; 5] = [
        PaymentStatus::AwaitingMilestone,
        PaymentStatus::Due,
        PaymentStatus::InBatch,
        PaymentStatus::Paid,
        PaymentStatus::Voided,
    ];

    /// As people read it.
    pub fn label(self) -> &'static str {
        match self {
            PaymentStatus::AwaitingMilestone => "Awaiting milestone",
            PaymentStatus::Due => "Due",
            PaymentStatus::InBatch => "In a batch",
            PaymentStatus::Paid => "Paid",
            PaymentStatus::Voided => "Voided",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::AwaitingMilestone => "awaiting_milestone",
            PaymentStatus::Due => "due",
            PaymentStatus::InBatch => "in_batch",
            PaymentStatus::Paid => "paid",
            PaymentStatus::Voided => "voided",
        }
    }
}

impl FromStr for PaymentStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        PaymentStatus::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "must be one of {}",
                    PaymentStatus::ALL.map(PaymentStatus::as_str).join(", ")
                )
            })
    }
}

/// How a payee is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    /// With the employee's salary (employees only): exported in the payroll file.
    Payroll,
    BankTransfer,
    Check,
}

impl PaymentMethod {
    pub const ALL: [PaymentMethod; 3] = [
        PaymentMethod::Payroll,
        PaymentMethod::BankTransfer,
        PaymentMethod::Check,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::Payroll => "payroll",
            PaymentMethod::BankTransfer => "bank_transfer",
            PaymentMethod::Check => "check",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PaymentMethod::Payroll => "Payroll",
            PaymentMethod::BankTransfer => "Bank transfer",
            PaymentMethod::Check => "Check",
        }
    }
}

impl FromStr for PaymentMethod {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        PaymentMethod::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "must be one of {}",
                    PaymentMethod::ALL.map(PaymentMethod::as_str).join(", ")
                )
            })
    }
}

/// What a bonus holds so far on its way to review.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BonusFacts {
    /// The payee's kind, when a payee is chosen.
    pub payee_kind: Option<crate::person::PersonKind>,
    pub terms: crate::person::TermsFields,
    pub payment_method: Option<PaymentMethod>,
}

/// A bonus ready for review: its terms, what it is worth on the sale, and how it is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompleteBonus {
    pub terms: Terms,
    pub amount: Money,
    pub payment_method: PaymentMethod,
}

impl BonusFacts {
    /// Checks everything review needs is there, naming each missing or wrong field: a payee,
    /// the terms (basis with its amount, front/back terms and front share) and a payment method
    /// that suits the payee (payroll pays employees only).
    pub fn complete(&self, sale: Money) -> Result<CompleteBonus, crate::Validation> {
        let mut v = crate::Validation::new();
        if self.payee_kind.is_none() {
            v.add("payee_id", "is required: who receives this bonus");
        }
        let terms = match self.terms.parse() {
            Ok(t) => Some(t),
            Err(errors) => {
                for e in errors.errors() {
                    v.add(e.field.clone(), e.message.clone());
                }
                None
            }
        };
        let amount = terms.and_then(|t| match t.amount(sale) {
            Ok(a) if a.minor() > 0 => Some(a),
            Ok(_) => {
                v.add(
                    "percentage_bps",
                    "gives nothing on this sale (it rounds to zero)",
                );
                None
            }
            Err(e) => {
                v.add("currency", e.message);
                None
            }
        });
        match (self.payment_method, self.payee_kind) {
            (None, _) => v.add("payment_method", "is required: how the payee is paid"),
            (Some(PaymentMethod::Payroll), Some(kind))
                if kind != crate::person::PersonKind::Employee =>
            {
                v.add("payment_method", "payroll pays employees only")
            }
            _ => {}
        }
        match (terms, amount, self.payment_method) {
            (Some(terms), Some(amount), Some(payment_method)) if v.is_empty() => {
                Ok(CompleteBonus {
                    terms,
                    amount,
                    payment_method,
                })
            }
            _ => Err(v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use proptest::prelude::*;
    use time::macros::date;

    fn usd(minor: i64) -> Money {
        Money::new(minor, Currency::USD)
    }

    fn minors(parts: &[Money]) -> Vec<i64> {
        parts.iter().map(|m| m.minor()).collect()
    }

    /// Worked example 1: employee referral, 10 % with front and back terms.
    #[test]
    fn example_1_percentage_with_front_and_back() {
        let erin = Terms {
            basis: Basis::Percentage(BasisPoints(1_000)),
            front: Milestone::SignDate,
            back: Some(Milestone::InstallDate),
            front_share: BasisPoints(5_000),
        };
        assert_eq!(erin.check(), Ok(()));
        let bonus = erin.amount(usd(1_000_000)).expect("amount");
        assert_eq!(bonus, usd(100_000));
        let payments = erin.instalments(bonus);
        assert_eq!(
            payments,
            vec![
                Instalment {
                    amount: usd(50_000),
                    term: Milestone::SignDate
                },
                Instalment {
                    amount: usd(50_000),
                    term: Milestone::InstallDate
                },
            ]
        );
        let mut sale = Milestones {
            signed: Some(date!(2026 - 03 - 02)),
            ..Milestones::default()
        };
        assert_eq!(payments[0].due(&sale), Some(date!(2026 - 03 - 02)));
        assert_eq!(payments[1].due(&sale), None, "awaiting the install date");
        sale.installed = Some(date!(2026 - 04 - 15));
        assert_eq!(payments[1].due(&sale), Some(date!(2026 - 04 - 15)));
    }

    /// Worked example 2: a contact referral an employee generated.
    #[test]
    fn example_2_contact_referral_generated_by_an_employee() {
        let kinds = bonuses_for(
            SaleFacts {
                lead_source: LeadSource::ReferralContact,
                generated_by_employee: true,
                add_on: false,
            },
            BonusSettings::default(),
        );
        assert_eq!(
            kinds,
            vec![BonusKind::ReferralContact, BonusKind::EmployeeGenerated]
        );
        let contact_defaults = Terms {
            basis: Basis::Fixed(usd(25_000)),
            front: Milestone::PaidInFullDate,
            back: None,
            front_share: BasisPoints::WHOLE,
        };
        let gil = Terms {
            basis: Basis::Fixed(usd(10_000)),
            front: Milestone::JobApprovedDate,
            back: None,
            front_share: BasisPoints::WHOLE,
        };
        let sale = usd(1_000_000);
        let carla_bonus = contact_defaults.amount(sale).expect("carla");
        let gil_bonus = gil.amount(sale).expect("gil");
        assert_eq!((carla_bonus, gil_bonus), (usd(25_000), usd(10_000)));
        let approved = Milestones {
            signed: Some(date!(2026 - 03 - 02)),
            job_approved: Some(date!(2026 - 03 - 09)),
            ..Milestones::default()
        };
        let carla = contact_defaults.instalments(carla_bonus);
        assert_eq!(carla.len(), 1);
        assert_eq!(carla[0].due(&approved), None, "awaiting paid in full");
        let gils = gil.instalments(gil_bonus);
        assert_eq!(gils.len(), 1);
        assert_eq!(gils[0].due(&approved), Some(date!(2026 - 03 - 09)));
    }

    /// Worked example 3: splitting and rounding.
    #[test]
    fn example_3_splitting_and_rounding() {
        assert_eq!(
            minors(&split_equally(usd(100_001), 3).expect("thirds")),
            vec![33_334, 33_334, 33_333]
        );
        let half = Terms {
            basis: Basis::Fixed(usd(100_001)),
            front: Milestone::SignDate,
            back: Some(Milestone::InstallDate),
            front_share: BasisPoints(5_000),
        };
        let parts: Vec<i64> = half
            .instalments(usd(100_001))
            .iter()
            .map(|i| i.amount.minor())
            .collect();
        assert_eq!(parts, vec![50_001, 50_000]);
        assert_eq!(
            minors(
                &split_by_percentages(
                    usd(1_000),
                    &[BasisPoints(3_333), BasisPoints(3_333), BasisPoints(3_334)]
                )
                .expect("percentages")
            ),
            vec![333, 333, 334]
        );
        let seven_and_a_half = Terms {
            basis: Basis::Percentage(BasisPoints(750)),
            front: Milestone::SignDate,
            back: None,
            front_share: BasisPoints::WHOLE,
        };
        assert_eq!(seven_and_a_half.amount(usd(123_457)), Ok(usd(9_259)));
        assert!(split_equally(usd(100), 0).is_err());
        assert!(split_by_amounts(usd(100), &[usd(100), usd(0)]).is_err());
        assert!(split_by_amounts(usd(100), &[usd(60), usd(50)]).is_err());
        assert!(split_by_percentages(usd(100), &[BasisPoints(5_000)]).is_err());
        assert_eq!(
            minors(&split_by_amounts(usd(100), &[usd(60), usd(40)]).expect("amounts")),
            vec![60, 40]
        );
    }

    /// Worked example 4: cancelling after the first payment was paid.
    #[test]
    fn example_4_cancellation_voids_unpaid_and_claws_back_paid() {
        assert_eq!(PaymentStatus::Paid.on_cancel(), OnCancel::Clawback);
        assert_eq!(PaymentStatus::AwaitingMilestone.on_cancel(), OnCancel::Void);
        assert_eq!(PaymentStatus::Due.on_cancel(), OnCancel::Void);
        assert_eq!(PaymentStatus::InBatch.on_cancel(), OnCancel::Void);
        assert_eq!(PaymentStatus::Voided.on_cancel(), OnCancel::Nothing);
    }

    #[test]
    fn paid_and_voided_are_final() {
        use PaymentStatus::*;
        for to in [AwaitingMilestone, Due, InBatch, Paid, Voided] {
            assert!(!Paid.may_become(to), "paid → {to:?}");
            assert!(!Voided.may_become(to), "voided → {to:?}");
        }
        assert!(Due.may_become(Paid));
        assert!(AwaitingMilestone.may_become(Due));
        assert!(!AwaitingMilestone.may_become(Paid), "not before it is due");
    }

    #[test]
    fn lead_sources_decide_the_bonuses() {
        let facts = |lead_source, add_on| SaleFacts {
            lead_source,
            generated_by_employee: false,
            add_on,
        };
        let none = BonusSettings::default();
        let all = BonusSettings {
            new_customer_bonus: true,
            add_on_bonus: true,
        };
        assert_eq!(
            bonuses_for(facts(LeadSource::ReferralEmployee, false), none),
            vec![BonusKind::ReferralEmployee]
        );
        assert_eq!(
            bonuses_for(facts(LeadSource::ReferralVendor, false), all),
            vec![BonusKind::ReferralVendor, BonusKind::NewCustomer]
        );
        assert_eq!(
            bonuses_for(facts(LeadSource::ReferralContact, false), none),
            vec![BonusKind::ReferralContact]
        );
        assert!(bonuses_for(facts(LeadSource::Other, false), all).is_empty());
        assert_eq!(
            bonuses_for(facts(LeadSource::Other, true), all),
            vec![BonusKind::AddOnSale]
        );
    }

    #[test]
    fn terms_must_hold_together() {
        let ok = Terms {
            basis: Basis::Percentage(BasisPoints(1_000)),
            front: Milestone::SignDate,
            back: Some(Milestone::InstallDate),
            front_share: BasisPoints(5_000),
        };
        let field = |t: Terms| t.check().err().map(|e| e.field);
        assert_eq!(field(ok), None);
        assert_eq!(
            field(Terms {
                basis: Basis::Percentage(BasisPoints(0)),
                ..ok
            }),
            Some("percentage")
        );
        assert_eq!(
            field(Terms {
                basis: Basis::Fixed(usd(0)),
                ..ok
            }),
            Some("fixed_amount")
        );
        assert_eq!(
            field(Terms { back: None, ..ok }),
            Some("front_share"),
            "50 % on the front needs a back term"
        );
        assert_eq!(
            field(Terms {
                front_share: BasisPoints(10_001),
                ..ok
            }),
            Some("front_share")
        );
        let euros = Terms {
            basis: Basis::Fixed(Money::new(100, Currency::parse("EUR").expect("eur"))),
            ..ok
        };
        assert_eq!(
            euros.amount(usd(1_000)).err().map(|e| e.field),
            Some("fixed_amount")
        );
        assert_eq!("install_date".parse(), Ok(Milestone::InstallDate));
        assert!("install".parse::<Milestone>().is_err());
    }

    #[test]
    fn completion_names_every_missing_field() {
        let empty = BonusFacts::default();
        let v = empty.complete(usd(1_000_000)).expect_err("incomplete");
        let named: Vec<_> = v.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            named,
            vec!["payee_id", "percentage_bps", "front_term", "payment_method"]
        );
        let contact = BonusFacts {
            payee_kind: Some(crate::person::PersonKind::Contact),
            terms: crate::person::TermsFields {
                percentage_bps: Some(1),
                front_term: Some(Milestone::SignDate),
                ..Default::default()
            },
            payment_method: Some(PaymentMethod::Payroll),
        };
        let v = contact
            .complete(usd(49))
            .expect_err("rounds to nothing, payroll");
        let named: Vec<_> = v.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(named, vec!["percentage_bps", "payment_method"]);
        let ok = BonusFacts {
            payment_method: Some(PaymentMethod::Check),
            ..contact
        }
        .complete(usd(1_000_000))
        .expect("complete");
        assert_eq!(ok.amount, usd(100));
    }

    proptest! {
        /// A bonus's payments always sum to it, whatever the terms.
        #[test]
        fn instalments_sum_to_the_bonus(
            sale in 0i64..10_000_000_000,
            bps in 1u32..=10_000,
            front_share in 1u32..=10_000,
        ) {
            let terms = Terms {
                basis: Basis::Percentage(BasisPoints(bps)),
                front: Milestone::SignDate,
                back: Some(Milestone::InstallDate),
                front_share: BasisPoints(front_share),
            };
            let bonus = terms.amount(usd(sale)).expect("amount");
            // Half up, exactly: floor((sale × bps + 5 000) / 10 000).
            let expected = (i128::from(sale) * i128::from(bps) + 5_000) / 10_000;
            prop_assert_eq!(i128::from(bonus.minor()), expected);
            let parts = terms.instalments(bonus);
            let sum: i64 = parts.iter().map(|p| p.amount.minor()).sum();
            prop_assert_eq!(sum, bonus.minor());
            prop_assert!(parts.iter().all(|p| p.amount.minor() >= 0));
        }

        /// A bonus's life in the ledger: instalments, a split, some payments batched and paid
        /// (each "mark paid" tried twice), then the sale cancelled. The live payments always
        /// sum to the bonus; each is paid at most once; after cancellation every live payment
        /// is paid or voided, and what was paid is exactly what the clawbacks reclaim.
        #[test]
        fn the_ledger_never_loses_or_doubles_a_cent(
            sale in 1i64..10_000_000_000,
            bps in 1u32..=10_000,
            front_share in 1u32..=10_000,
            split_into in proptest::option::of(1usize..6),
            actions in proptest::collection::vec(0u8..4, 0..12),
        ) {
            let terms = Terms {
                basis: Basis::Percentage(BasisPoints(bps)),
                front: Milestone::SignDate,
                back: Some(Milestone::InstallDate),
                front_share: BasisPoints(front_share),
            };
            let bonus = terms.amount(usd(sale)).expect("amount");
            let mut live: Vec<(Money, PaymentStatus)> = terms
                .instalments(bonus)
                .into_iter()
                .map(|i| (i.amount, PaymentStatus::Due))
                .collect();
            let mut voided_by_split = 0;
            if let Some(n) = split_into {
                voided_by_split = live.len();
                live = split_equally(bonus, n)
                    .expect("split")
                    .into_iter()
                    .map(|m| (m, PaymentStatus::Due))
                    .collect();
            }
            let total = |ps: &[(Money, PaymentStatus)]| ps.iter().map(|(m, _)| m.minor()).sum::<i64>();
            prop_assert_eq!(total(&live), bonus.minor());
            let mut paid_count = vec![0u32; live.len()];
            for (step, action) in actions.iter().enumerate() {
                let i = step % live.len();
                let to = match action {
                    0 => PaymentStatus::InBatch,
                    1 => PaymentStatus::Due,
                    _ => PaymentStatus::Paid,
                };
                if live[i].1.may_become(to) {
                    live[i].1 = to;
                    if to == PaymentStatus::Paid {
                        paid_count[i] += 1;
                    }
                }
                // A second "mark paid" right after is always refused once paid.
                if live[i].1 == PaymentStatus::Paid {
                    prop_assert!(!live[i].1.may_become(PaymentStatus::Paid));
                }
            }
            prop_assert!(paid_count.iter().all(|c| *c <= 1));
            let mut clawed = 0;
            for p in &mut live {
                match p.1.on_cancel() {
                    OnCancel::Void => p.1 = PaymentStatus::Voided,
                    OnCancel::Clawback => clawed += p.0.minor(),
                    OnCancel::Nothing => {}
                }
            }
            let paid: i64 = live.iter().filter(|p| p.1 == PaymentStatus::Paid).map(|p| p.0.minor()).sum();
            let voided: i64 = live.iter().filter(|p| p.1 == PaymentStatus::Voided).map(|p| p.0.minor()).sum();
            prop_assert_eq!(paid + voided, bonus.minor());
            prop_assert_eq!(clawed, paid);
            prop_assert!(voided_by_split <= 2);
        }

        /// Every split sums exactly to what it splits, and no part differs from its exact share
        /// by a cent or more.
        #[test]
        fn splits_sum_to_the_whole(
            amount in 1i64..1_000_000_000,
            shares in proptest::collection::vec(1u32..5_000, 1..8),
        ) {
            let n = shares.len();
            let equal = split_equally(usd(amount), n).expect("equal");
            prop_assert_eq!(equal.iter().map(|m| m.minor()).sum::<i64>(), amount);
            let max = equal.iter().map(|m| m.minor()).max().unwrap_or(0);
            let min = equal.iter().map(|m| m.minor()).min().unwrap_or(0);
            prop_assert!(max - min <= 1);
            // Scale the random shares to 100 % by putting the remainder on the last one.
            let mut bps: Vec<u32> = shares.iter().map(|s| s * 10_000 / (5_000 * 8)).map(|s| s.max(1)).collect();
            let used: u32 = bps.iter().take(n - 1).sum();
            if used < 10_000 {
                bps[n - 1] = 10_000 - used;
                let split = split_by_percentages(
                    usd(amount),
                    &bps.iter().map(|b| BasisPoints(*b)).collect::<Vec<_>>(),
                )
                .expect("percentages");
                prop_assert_eq!(split.iter().map(|m| m.minor()).sum::<i64>(), amount);
                for (part, b) in split.iter().zip(&bps) {
                    let exact = i128::from(amount) * i128::from(*b);
                    let scaled = i128::from(part.minor()) * 10_000;
                    prop_assert!((scaled - exact).abs() < 10_000);
                }
            }
        }
    }
}
