//! Partner commissions (seed 003): when a referral a partner brought us is won with a value, the
//! partner's commission terms give what it earns, owed to the contact in People who stands for
//! the partner (created on its first commission). A manager approves it (its payment falls due
//! in the payables ledger, paid in batches like any bonus) or rejects it; should the referral
//! leave Won, it is cancelled and an approved one's payment is voided or clawed back. Both happen inside the referral's edit, so a
//! stage change and its commission commit together.
//!
//! A partner has commission terms per program, while a referral names no program: the terms
//! set most recently apply (the commission names their program, which the reviewer sees).

use crate::resources::Commission as CommissionOut;
use crate::{AppError, AppResult, Ctx, record};
use vouch_domain::money::Money;
use vouch_domain::partner::{Commission, CommissionStatus};
use vouch_domain::partner_referral::{Direction, Stage};
use vouch_domain::person::PersonDraft;
use vouch_store::audit::Origin;
use vouch_store::commissions::{self as store, CommissionFilter, NewCommission};
use vouch_store::partner_referrals::PartnerReferral;
use vouch_store::{Conn, Tx};

/// What an edit means for the referral's commission, in the edit's transaction: won with a
/// value creates one (when the partner has terms and none is live); a new value while Won
/// replaces one still waiting for review; leaving Won cancels it (see [`cancel`]).
pub(crate) async fn follow_stage(
    tx: &mut Tx,
    origin: &Origin,
    before: &PartnerReferral,
    after: &PartnerReferral,
) -> AppResult<()> {
    if after.direction != Direction::ToUs {
        return Ok(());
    }
    if after.stage == Stage::Won {
        let newly_won = before.stage != Stage::Won;
        if !newly_won && before.value == after.value {
            return Ok(());
        }
        // A new value while Won replaces a commission still waiting for review; an approved
        // (or rejected) one stands, and its reviewer decides what else is owed.
        if !newly_won
            && let Some(live) = store::live_for_referral(tx, &after.id).await?
            && live.status == CommissionStatus::ReadyForReview
        {
            cancel(tx, origin, &live, &after.id).await?;
        }
        if let Some(value) = after.value {
            create(tx, origin, after, value).await?;
        }
    } else if before.stage == Stage::Won
        && let Some(live) = store::live_for_referral(tx, &after.id).await?
    {
        cancel(tx, origin, &live, &after.id).await?;
    }
    Ok(())
}

/// Cancels a live commission whose referral left Won: before review nothing is owed; once
/// approved, its payment is taken back (voided, or a clawback opened when it was paid or in an
/// approved batch). A rejected one stays as it is.
async fn cancel(
    tx: &mut Tx,
    origin: &Origin,
    live: &store::Commission,
    referral_id: &str,
) -> AppResult<()> {
    if !matches!(
        live.status,
        CommissionStatus::ReadyForReview | CommissionStatus::Approved
    ) {
        return Ok(());
    }
    let Some(cancelled) =
        store::set_status(tx, &live.id, live.status, CommissionStatus::Cancelled).await?
    else {
        return Err(AppError::conflict(
            "invalid_transition",
            "the commission changed meanwhile; reload and try again",
        ));
    };
    if live.status == CommissionStatus::Approved
        && let Some(payment) = vouch_store::payments::for_commission(tx, &live.id).await?
    {
        crate::payouts::undo_payment(
            tx,
            origin,
            &payment,
            "referral no longer won",
            &format!("partner referral {referral_id} left Won"),
        )
        .await?;
    }
    record::change(
        tx,
        origin,
        "commission.cancelled",
        Some(live),
        &cancelled,
        &[],
    );
    Ok(())
}

async fn create(
    tx: &mut Tx,
    origin: &Origin,
    referral: &PartnerReferral,
    value: Money,
) -> AppResult<()> {
    if store::live_for_referral(tx, &referral.id).await?.is_some() {
        return Ok(());
    }
    let terms = vouch_store::partners::terms_of(tx, &referral.partner_id).await?;
    let Some(terms) = terms.into_iter().max_by_key(|t| t.updated_at) else {
        return Ok(());
    };
    let amount = terms.commission.amount_on(value);
    // Nothing is owed on nothing (a value of 0, or a share that rounds to 0).
    if amount.minor() <= 0 {
        return Ok(());
    }
    let partner = vouch_store::partners::get(tx, &referral.partner_id)
        .await?
        .ok_or_else(|| AppError::not_found("partner"))?;
    let draft = PersonDraft {
        name: partner.name.clone(),
        email: partner.contact_email.clone(),
        company: Some(partner.name.clone()),
        notes: Some(format!(
            "Partner company {}: its commissions are owed to this contact.",
            partner.id
        )),
        ..Default::default()
    };
    let (payee, created) = vouch_store::people::payee_of_partner(tx, &partner.id, &draft).await?;
    if created {
        record::change(tx, origin, "person.created", None, &payee, &[]);
    }
    let percentage_bps = match terms.commission {
        Commission::Percentage(bps) => Some(i64::from(bps.0)),
        Commission::Fixed(_) => None,
    };
    let commission = store::insert(
        tx,
        &NewCommission {
            partner_id: &partner.id,
            referral_id: &referral.id,
            program_id: &terms.program_id,
            payee_id: &payee.id,
            percentage_bps,
            referral_value: value,
            amount,
        },
    )
    .await?;
    record::change(
        tx,
        origin,
        "commission.created",
        None,
        &commission,
        &["commission.created"],
    );
    Ok(())
}

/// A manager approves a commission waiting for review: a payment of its amount falls due at
/// once in the payables ledger, owed to the contact standing for the partner (`payment.due`).
/// 409 `invalid_transition` unless it waits for review.
pub async fn approve(ctx: &Ctx, origin: &Origin, id: &str) -> AppResult<CommissionOut> {
    let mut tx = ctx.store.begin().await?;
    let before = decide(&mut tx, id, CommissionStatus::Approved).await?;
    let after = store::get(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("commission"))?;
    let payee = vouch_store::people::get(&mut tx, &after.payee_id)
        .await?
        .ok_or_else(|| AppError::not_found("payee"))?;
    let payment = vouch_store::payments::insert(
        &mut tx,
        &vouch_store::payments::NewPayment {
            pays: vouch_store::payments::Pays::Commission {
                commission_id: &after.id,
            },
            program_id: &after.program_id,
            payee_id: &payee.id,
            payee_kind: payee.kind,
            sequence: 1,
            amount: after.amount,
            term: None,
            due_on: Some(crate::payouts::today(ctx)),
            status: vouch_domain::bonus::PaymentStatus::Due,
            payment_method: vouch_domain::bonus::PaymentMethod::BankTransfer,
        },
    )
    .await?;
    record::change(
        &mut tx,
        origin,
        "commission.approved",
        Some(&before),
        &after,
        &[],
    );
    record::change(
        &mut tx,
        origin,
        "payment.created",
        None,
        &payment,
        &["payment.due"],
    );
    crate::commit(tx).await?;
    Ok(after.into())
}

/// A manager rejects a commission waiting for review; nothing is owed. 409
/// `invalid_transition` unless it waits for review.
pub async fn reject(ctx: &Ctx, origin: &Origin, id: &str) -> AppResult<CommissionOut> {
    let mut tx = ctx.store.begin().await?;
    let before = decide(&mut tx, id, CommissionStatus::Rejected).await?;
    let after = store::get(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("commission"))?;
    record::change(
        &mut tx,
        origin,
        "commission.rejected",
        Some(&before),
        &after,
        &[],
    );
    crate::commit(tx).await?;
    Ok(after.into())
}

/// Moves a commission waiting for review to `to`, once; the commission as it was.
async fn decide(conn: &mut Conn, id: &str, to: CommissionStatus) -> AppResult<store::Commission> {
    let before = store::get(conn, id)
        .await?
        .ok_or_else(|| AppError::not_found("commission"))?;
    store::set_status(conn, id, CommissionStatus::ReadyForReview, to)
        .await?
        .ok_or_else(|| {
            AppError::conflict(
                "invalid_transition",
                format!(
                    "only a commission waiting for review can be decided; this one is {}",
                    before.status.label().to_lowercase()
                ),
            )
        })?;
    Ok(before)
}

pub async fn get(ctx: &Ctx, id: &str) -> AppResult<CommissionOut> {
    let mut conn = ctx.store.conn().await?;
    store::get(&mut conn, id)
        .await?
        .map(CommissionOut::from)
        .ok_or_else(|| AppError::not_found("commission"))
}

/// The referral's live commission, if any.
pub async fn of_referral(ctx: &Ctx, referral_id: &str) -> AppResult<Option<CommissionOut>> {
    let mut conn = ctx.store.conn().await?;
    Ok(store::live_for_referral(&mut conn, referral_id)
        .await?
        .map(CommissionOut::from))
}

/// Newest first; `limit + 1` rows.
pub async fn list(
    ctx: &Ctx,
    filter: CommissionFilter<'_>,
    starting_after: Option<&str>,
    limit: i64,
) -> AppResult<Vec<CommissionOut>> {
    let mut conn = ctx.store.conn().await?;
    Ok(store::list(&mut conn, filter, starting_after, limit)
        .await?
        .into_iter()
        .map(CommissionOut::from)
        .collect())
}
