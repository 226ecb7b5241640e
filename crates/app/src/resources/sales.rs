//! Public representation of sales, bonuses, payments and payout batches (seed 002). Amounts
//! are minor units beside their currency; dates are ISO dates (`2026-04-15`).

use serde::Serialize;
use vouch_domain::Timestamp;
use vouch_domain::bonus::{
    BonusKind, BonusStatus, LeadSource, Milestone, PaymentMethod, PaymentStatus,
};
use vouch_domain::payout::{BatchStatus, PayeeGroup};
use vouch_domain::person::{PersonKind, TermsFields};
use vouch_domain::sale::{SaleStatus, date_text};
use vouch_store as store;

fn date(d: Option<time::Date>) -> Option<String> {
    d.map(date_text)
}

/// A sale a referral (or another lead source) led to.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Sale {
    pub id: String,
    pub program_id: String,
    /// The customer (a contact).
    pub customer_id: String,
    /// Minor units of `currency`.
    pub amount: i64,
    pub currency: String,
    pub lead_source: LeadSource,
    /// Who referred the customer: a contact, employee or vendor as the lead source says.
    pub referred_by: Option<String>,
    /// The employee who generated a Referral-Contact referral from the contact.
    pub generated_by: Option<String>,
    /// A sale to an existing customer, not a new one.
    pub add_on: bool,
    pub description: Option<String>,
    #[schema(format = Date)]
    pub signed_on: Option<String>,
    #[schema(format = Date)]
    pub job_approved_on: Option<String>,
    #[schema(format = Date)]
    pub installed_on: Option<String>,
    #[schema(format = Date)]
    pub revenue_recognized_on: Option<String>,
    #[schema(format = Date)]
    pub permit_closed_on: Option<String>,
    #[schema(format = Date)]
    pub paid_in_full_on: Option<String>,
    pub status: SaleStatus,
    pub approved_by: Option<String>,
    pub approved_at: Option<Timestamp>,
    pub cancelled_by: Option<String>,
    pub cancelled_at: Option<Timestamp>,
    pub cancel_reason: Option<String>,
    /// The sales referral it was made from.
    pub referral_id: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<store::sales::Sale> for Sale {
    fn from(row: store::sales::Sale) -> Self {
        let m = row.milestones;
        Self {
            id: row.id,
            program_id: row.program_id,
            customer_id: row.customer_id,
            amount: row.amount.minor(),
            currency: row.amount.currency().to_string(),
            lead_source: row.lead_source,
            referred_by: row.referred_by,
            generated_by: row.generated_by,
            add_on: row.add_on,
            description: row.description,
            signed_on: date(m.signed),
            job_approved_on: date(m.job_approved),
            installed_on: date(m.installed),
            revenue_recognized_on: date(m.revenue_recognized),
            permit_closed_on: date(m.permit_closed),
            paid_in_full_on: date(m.paid_in_full),
            status: row.status,
            approved_by: row.approved_by,
            approved_at: row.approved_at,
            cancelled_by: row.cancelled_by,
            cancelled_at: row.cancelled_at,
            cancel_reason: row.cancel_reason,
            referral_id: row.referral_id,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// A bonus a sale earned, on its way from incomplete through review to payment.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Bonus {
    pub id: String,
    pub sale_id: String,
    pub program_id: String,
    pub kind: BonusKind,
    /// Created by approving the sale; `false` when added by hand.
    pub automatic: bool,
    /// Who receives it (a person id), once chosen.
    pub payee_id: Option<String>,
    /// A share of the sale in basis points, or `null` with a fixed amount.
    pub percentage_bps: Option<i64>,
    /// A fixed amount in minor units, or `null` with a percentage.
    pub fixed_amount: Option<i64>,
    /// What the bonus is worth in minor units of `currency`, once its basis is known.
    pub amount: Option<i64>,
    pub currency: String,
    pub front_term: Option<Milestone>,
    /// `null` is "Not Applicable".
    pub back_term: Option<Milestone>,
    pub front_share_bps: Option<i64>,
    pub payment_method: Option<PaymentMethod>,
    pub status: BonusStatus,
    /// Who submitted it for review.
    pub completed_by: Option<String>,
    pub completed_at: Option<Timestamp>,
    /// Who approved or rejected it.
    pub decided_by: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub reject_reason: Option<String>,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<store::bonuses::Bonus> for Bonus {
    fn from(row: store::bonuses::Bonus) -> Self {
        let TermsFields {
            percentage_bps,
            fixed_amount,
            front_term,
            back_term,
            front_share_bps,
            ..
        } = row.terms;
        Self {
            id: row.id,
            sale_id: row.sale_id,
            program_id: row.program_id,
            kind: row.kind,
            automatic: row.automatic,
            payee_id: row.payee_id,
            percentage_bps,
            fixed_amount,
            amount: row.amount.map(|a| a.minor()),
            currency: row.currency.to_string(),
            front_term,
            back_term,
            front_share_bps,
            payment_method: row.payment_method,
            status: row.status,
            completed_by: row.completed_by,
            completed_at: row.completed_at,
            decided_by: row.decided_by,
            decided_at: row.decided_at,
            reject_reason: row.reject_reason,
            created_by: row.created_by,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// One instalment owed to a payee: an entry of the payables ledger.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Payment {
    pub id: String,
    /// The bonus this payment pays (with `sale_id`); `null` when it pays a participant's
    /// reward (`reward_id`) or a partner's commission (`commission_id`).
    pub bonus_id: Option<String>,
    pub sale_id: Option<String>,
    /// The participant reward this payment pays (a cash rule delivered by payout).
    pub reward_id: Option<String>,
    /// The partner commission this payment pays.
    pub commission_id: Option<String>,
    pub program_id: String,
    pub payee_id: String,
    pub payee_kind: PersonKind,
    /// 1, 2, … within its bonus; 1 for a reward.
    pub sequence: i64,
    /// Minor units of `currency`.
    pub amount: i64,
    pub currency: String,
    /// The milestone a bonus payment falls due on; `null` for a reward (due once earned).
    pub term: Option<Milestone>,
    /// `null` while the sale's date for `term` is unknown.
    #[schema(format = Date)]
    pub due_on: Option<String>,
    pub status: PaymentStatus,
    pub payment_method: PaymentMethod,
    pub batch_id: Option<String>,
    pub paid_reference: Option<String>,
    #[schema(format = Date)]
    pub paid_on: Option<String>,
    pub paid_at: Option<Timestamp>,
    pub void_reason: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Payment {
    /// What it falls due on, in words: its milestone, the commission's approval, or the
    /// reward being earned.
    pub fn term_label(&self) -> &'static str {
        match (self.term, &self.commission_id) {
            (Some(t), _) => t.label(),
            (None, Some(_)) => "Commission approved",
            (None, None) => "Reward earned",
        }
    }
}

impl From<store::payments::Payment> for Payment {
    fn from(row: store::payments::Payment) -> Self {
        Self {
            id: row.id,
            bonus_id: row.bonus_id,
            sale_id: row.sale_id,
            reward_id: row.reward_id,
            commission_id: row.commission_id,
            program_id: row.program_id,
            payee_id: row.payee_id,
            payee_kind: row.payee_kind,
            sequence: row.sequence,
            amount: row.amount.minor(),
            currency: row.amount.currency().to_string(),
            term: row.term,
            due_on: date(row.due_on),
            status: row.status,
            payment_method: row.payment_method,
            batch_id: row.batch_id,
            paid_reference: row.paid_reference,
            paid_on: date(row.paid_on),
            paid_at: row.paid_at,
            void_reason: row.void_reason,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// A total in one currency.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Total {
    /// Minor units of `currency`.
    pub amount: i64,
    pub currency: String,
}

/// A payout batch with what it holds.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PayoutBatch {
    pub id: String,
    pub payee_group: PayeeGroup,
    pub program_id: Option<String>,
    #[schema(format = Date)]
    pub due_from: Option<String>,
    #[schema(format = Date)]
    pub due_to: Option<String>,
    pub status: BatchStatus,
    pub created_by: String,
    pub approved_by: Option<String>,
    pub approved_at: Option<Timestamp>,
    pub paid_reference: Option<String>,
    #[schema(format = Date)]
    pub paid_on: Option<String>,
    pub paid_at: Option<Timestamp>,
    /// How many payments it holds.
    pub payment_count: i64,
    /// Their sum, per currency.
    pub totals: Vec<Total>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl PayoutBatch {
    pub fn new(row: store::payments::Batch, payments: &[store::payments::Payment]) -> Self {
        let mut totals: Vec<Total> = Vec::new();
        for p in payments {
            let currency = p.amount.currency().to_string();
            match totals.iter_mut().find(|t| t.currency == currency) {
                Some(t) => t.amount = t.amount.saturating_add(p.amount.minor()),
                None => totals.push(Total {
                    amount: p.amount.minor(),
                    currency,
                }),
            }
        }
        totals.sort_by(|a, b| a.currency.cmp(&b.currency));
        Self {
            id: row.id,
            payee_group: row.payee_group,
            program_id: row.program_id,
            due_from: date(row.due_from),
            due_to: date(row.due_to),
            status: row.status,
            created_by: row.created_by,
            approved_by: row.approved_by,
            approved_at: row.approved_at,
            paid_reference: row.paid_reference,
            paid_on: date(row.paid_on),
            paid_at: row.paid_at,
            payment_count: i64::try_from(payments.len()).unwrap_or(i64::MAX),
            totals,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// A clawback opened on a paid payment whose sale was cancelled.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PaymentClawback {
    pub id: String,
    pub payment_id: String,
    pub amount: i64,
    pub currency: String,
    pub reason: String,
    /// `open` until staff decide: `recovered` (the money came back) or `waived`.
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

impl From<store::payments::PaymentClawback> for PaymentClawback {
    fn from(row: store::payments::PaymentClawback) -> Self {
        Self {
            id: row.id,
            payment_id: row.payment_id,
            amount: row.amount.minor(),
            currency: row.amount.currency().to_string(),
            reason: row.reason,
            status: row.status,
            decided_by: row.decided_by,
            decided_at: row.decided_at,
            created_at: row.created_at,
        }
    }
}

/// A program's choices for sales bonuses.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BonusPolicy {
    pub program_id: String,
    /// The terms Referral-Contact bonuses copy (contacts have no terms of their own); `null`
    /// leaves them for whoever completes the bonus.
    pub contact_terms: Option<TermsFields>,
    /// Approving a referral sale to a new customer also creates a New Customer bonus.
    pub new_customer_bonus: bool,
    pub new_customer_terms: Option<TermsFields>,
    /// Approving an add-on sale also creates an Add-On Sale bonus for the customer.
    pub add_on_bonus: bool,
    pub add_on_terms: Option<TermsFields>,
    /// Whoever submitted a bonus for review may also approve it.
    pub allow_self_approval: bool,
    pub updated_at: Option<Timestamp>,
}

impl From<store::sales::BonusPolicy> for BonusPolicy {
    fn from(row: store::sales::BonusPolicy) -> Self {
        Self {
            program_id: row.program_id,
            contact_terms: row.contact_terms,
            new_customer_bonus: row.new_customer_bonus,
            new_customer_terms: row.new_customer_terms,
            add_on_bonus: row.add_on_bonus,
            add_on_terms: row.add_on_terms,
            allow_self_approval: row.allow_self_approval,
            updated_at: row.updated_at,
        }
    }
}

/// A sales referral: a contact referred by a contact, employee or vendor, on its way to a sale.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SalesReferral {
    pub id: String,
    pub program_id: String,
    /// The referred contact (per_…).
    pub referred_id: String,
    /// Who referred them: a contact, employee or vendor (per_…).
    pub referrer_id: String,
    /// The employee who generated the referral from a referring contact.
    pub generated_by: Option<String>,
    pub stage: vouch_domain::sales_referral::Stage,
    pub meeting_at: Option<Timestamp>,
    pub notes: Option<String>,
    pub lost_reason: Option<String>,
    /// The sale it was won with.
    pub sale_id: Option<String>,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<store::sales_referrals::SalesReferral> for SalesReferral {
    fn from(row: store::sales_referrals::SalesReferral) -> Self {
        Self {
            id: row.id,
            program_id: row.program_id,
            referred_id: row.referred_id,
            referrer_id: row.referrer_id,
            generated_by: row.generated_by,
            stage: row.stage,
            meeting_at: row.meeting_at,
            notes: row.notes,
            lost_reason: row.lost_reason,
            sale_id: row.sale_id,
            created_by: row.created_by,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// One entry of a referral's history.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ReferralHistoryEntry {
    /// `created`, `stage` (a move between stages) or `note`.
    pub kind: String,
    pub from_stage: Option<String>,
    pub to_stage: Option<String>,
    pub note: Option<String>,
    /// Who did it.
    pub actor: String,
    pub at: Timestamp,
}

impl From<store::sales_referrals::ReferralEvent> for ReferralHistoryEntry {
    fn from(row: store::sales_referrals::ReferralEvent) -> Self {
        Self {
            kind: row.kind,
            from_stage: row.from_stage,
            to_stage: row.to_stage,
            note: row.note,
            actor: row.actor,
            at: row.created_at,
        }
    }
}
