//! The catalogue of webhook events: every type Vouch sends, what its `data` holds and when it
//! is sent. The OpenAPI document's `webhooks` section and docs/WEBHOOKS.md are checked against
//! it, and [`crate::record`] refuses (in debug builds, so in every test) to emit a type missing
//! from it.

use serde::Serialize;

/// `data` of `email.unsubscribed`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Unsubscribed {
    /// The address, lower-cased, that no longer receives marketing email.
    pub email: String,
    /// Always `unsubscribed` for now.
    pub reason: String,
}

/// `data` of `webhook.test`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TestEvent {
    /// The endpoint the test was sent to (only that endpoint receives it).
    pub endpoint_id: String,
    pub message: String,
}

/// One event type.
#[derive(Debug, Clone, Copy)]
pub struct EventType {
    pub name: &'static str,
    /// The schema of `data`: a resource as the API returns it.
    pub data: &'static str,
    /// When Vouch sends it.
    pub when: &'static str,
}

const fn event(name: &'static str, data: &'static str, when: &'static str) -> EventType {
    EventType { name, data, when }
}

pub const EVENT_TYPES: &[EventType] = &[
    event(
        "account.created",
        "Account",
        "An account was created (API, console, import, a setup's approval or its clone).",
    ),
    event(
        "account.updated",
        "Account",
        "An account changed: its fields, nesting, super-customer designation or registration link.",
    ),
    event(
        "account.registered",
        "Account",
        "Someone registered an account through a super customer's registration page.",
    ),
    event(
        "referral_setup.requested",
        "Setup",
        "Staff requested a referral program for a beneficiary.",
    ),
    event(
        "referral_setup.approved",
        "Setup",
        "The Management Team approved a setup; its super customer exists and the beneficiary is nested under it.",
    ),
    event(
        "referral_setup.rejected",
        "Setup",
        "The Management Team rejected a setup.",
    ),
    event(
        "program.created",
        "Program",
        "A program was created (as a draft).",
    ),
    event(
        "program.updated",
        "Program",
        "A program's settings changed.",
    ),
    event(
        "program.status_changed",
        "Program",
        "A program went live, was paused, ended or went back to draft.",
    ),
    event(
        "participant.created",
        "Participant",
        "Someone joined a program (join page, API, import).",
    ),
    event(
        "participant.updated",
        "Participant",
        "A participant's referral code changed.",
    ),
    event(
        "participant.erased",
        "Participant",
        "A participant was erased on request: the data holds no personal field any more; erase what your systems keep about this id too.",
    ),
    event(
        "referral.created",
        "Referral",
        "A participant was referred (by code, form, link or import).",
    ),
    event(
        "referral.flagged",
        "Referral",
        "Fraud checks fired on a new referral; it waits for review and earns nothing meanwhile.",
    ),
    event(
        "referral.reviewed",
        "Referral",
        "Staff decided a flagged referral: `cleared` or `junk`.",
    ),
    event(
        "referral.won",
        "Referral",
        "A referral qualified (at signup, on the qualifying event, or by hand).",
    ),
    event(
        "referral.revoked",
        "Referral",
        "A won referral was moved to lost or junk; what it earned is taken back.",
    ),
    event(
        "referral.stage_changed",
        "Referral",
        "A referral moved between new, in progress, lost and junk (any other stage change).",
    ),
    event(
        "reward_rule.created",
        "RewardRule",
        "A reward rule was created.",
    ),
    event(
        "reward_rule.updated",
        "RewardRule",
        "A reward rule was turned on or off.",
    ),
    event(
        "reward.created",
        "Reward",
        "A rule earned a reward (pending while the program's hold lasts).",
    ),
    event(
        "reward.earned",
        "Reward",
        "A reward became earned: at once, or when its hold ended.",
    ),
    event(
        "reward.delivered",
        "Reward",
        "A reward was delivered (by staff, or automatically).",
    ),
    event(
        "reward.revoked",
        "Reward",
        "A pending or earned reward was revoked.",
    ),
    event(
        "clawback.opened",
        "Clawback",
        "A delivered reward lost its basis (its referral was revoked); staff decide what happens.",
    ),
    event(
        "clawback.recovered",
        "Clawback",
        "Staff recorded that the money came back.",
    ),
    event(
        "clawback.waived",
        "Clawback",
        "Staff let the participant keep the reward.",
    ),
    event(
        "sale.approved",
        "Sale",
        "A manager approved a sale; the bonuses its lead source earns were created with it.",
    ),
    event(
        "sale.cancelled",
        "Sale",
        "A sale was cancelled: its unpaid payments were voided and paid ones opened clawbacks.",
    ),
    event(
        "bonus.created",
        "Bonus",
        "A bonus was created, by a sale's approval or by hand; it starts incomplete.",
    ),
    event(
        "bonus.ready_for_review",
        "Bonus",
        "A bonus was completed and submitted for a manager's review.",
    ),
    event(
        "bonus.approved",
        "Bonus",
        "A manager approved a bonus; its payments are in the payables ledger.",
    ),
    event(
        "bonus.rejected",
        "Bonus",
        "A manager rejected a bonus (the reason is in `reject_reason`).",
    ),
    event(
        "payment.due",
        "Payment",
        "A payment fell due: a bonus payment's milestone date was recorded and has come, or a participant's cash reward delivered by payout was earned (its `bonus_id`, `sale_id` and `term` are then null, and `reward_id` is set), or a manager approved a partner's commission (`commission_id` is set).",
    ),
    event(
        "payment.paid",
        "Payment",
        "A payment was marked paid, alone or with its payout batch.",
    ),
    event(
        "payout_batch.approved",
        "PayoutBatch",
        "A manager approved a payout batch; it can be exported and paid.",
    ),
    event(
        "partner.created",
        "Partner",
        "Staff added a partner company (by hand, through the API or from a CSV import).",
    ),
    event(
        "partner.updated",
        "Partner",
        "A partner company's details, status, manager or capabilities changed.",
    ),
    event(
        "partner_referral.created",
        "PartnerReferralOut",
        "A referral between us and a partner was recorded: sent to the partner, or submitted by it (allocated to its partner manager).",
    ),
    event(
        "partner_referral.stage_changed",
        "PartnerReferralOut",
        "Staff or the partner moved a referral to another stage (New, In Progress, Won, Lost, Junk).",
    ),
    event(
        "commission.created",
        "Commission",
        "A partner's referral to us was won with a value: its commission, per the partner's terms, waits for review.",
    ),
    event(
        "lead.sold",
        "LeadSale",
        "A lead or customer was sold to a partner that buys them; its delivery is queued.",
    ),
    event(
        "lead.delivered",
        "LeadSale",
        "A sold lead reached its buyer: its API post was accepted, or its email was sent.",
    ),
    event(
        "lead.delivery_failed",
        "LeadSale",
        "Every attempt to deliver a sold lead failed; staff can retry it (see its delivery log).",
    ),
    event(
        "email.unsubscribed",
        "Unsubscribed",
        "An address unsubscribed from marketing email.",
    ),
    event(
        "webhook.test",
        "TestEvent",
        "Sent by \"Send test event\" to one endpoint only.",
    ),
];

/// Whether Vouch documents this event type.
pub fn is_known(name: &str) -> bool {
    EVENT_TYPES.iter().any(|e| e.name == name)
}
