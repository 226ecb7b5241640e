//! Partner commissions (seed 003): when a referral a partner brought us is won with a value, the
//! partner's commission terms give what it earns, owed to the contact in People who stands for
//! the partner (created on its first commission). The commission waits for review; should the
//! referral leave Won first, it is cancelled. Both happen inside the referral's edit, so a
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
use vouch_store::Conn;
use vouch_store::audit::Origin;
use vouch_store::commissions::{self as store, CommissionFilter, NewCommission};
use vouch_store::partner_referrals::PartnerReferral;

/// What a stage change means for the referral's commission, in the edit's transaction: won
/// with a value creates one (when the partner has terms and none is live), leaving Won
/// cancels one still waiting for review.
pub(crate) async fn follow_stage(
    conn: &mut Conn,
    origin: &Origin,
    before: &PartnerReferral,
    after: &PartnerReferral,
) -> AppResult<()> {
    if after.direction != Direction::ToUs || before.stage == after.stage {
        return Ok(());
    }
    if after.stage == Stage::Won {
        if let Some(value) = after.value {
            create(conn, origin, after, value).await?;
        }
    } else if before.stage == Stage::Won
        && let Some(live) = store::live_for_referral(conn, &after.id).await?
        && live.status == CommissionStatus::ReadyForReview
        && let Some(cancelled) = store::set_status(
            conn,
            &live.id,
            CommissionStatus::ReadyForReview,
            CommissionStatus::Cancelled,
        )
        .await?
    {
        record::change(
            conn,
            origin,
            "commission.cancelled",
            Some(&live),
            &cancelled,
            &[],
        )
        .await?;
    }
    Ok(())
}

async fn create(
    conn: &mut Conn,
    origin: &Origin,
    referral: &PartnerReferral,
    value: Money,
) -> AppResult<()> {
    if store::live_for_referral(conn, &referral.id)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let terms = vouch_store::partners::terms_of(conn, &referral.partner_id).await?;
    let Some(terms) = terms.into_iter().max_by_key(|t| t.updated_at) else {
        return Ok(());
    };
    let partner = vouch_store::partners::get(conn, &referral.partner_id)
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
    let (payee, created) = vouch_store::people::payee_of_partner(conn, &partner.id, &draft).await?;
    if created {
        record::change(conn, origin, "person.created", None, &payee, &[]).await?;
    }
    let percentage_bps = match terms.commission {
        Commission::Percentage(bps) => Some(i64::from(bps.0)),
        Commission::Fixed(_) => None,
    };
    let commission = store::insert(
        conn,
        &NewCommission {
            partner_id: &partner.id,
            referral_id: &referral.id,
            program_id: &terms.program_id,
            payee_id: &payee.id,
            percentage_bps,
            referral_value: value,
            amount: terms.commission.amount_on(value),
        },
    )
    .await?;
    record::change(
        conn,
        origin,
        "commission.created",
        None,
        &commission,
        &["commission.created"],
    )
    .await?;
    Ok(())
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
