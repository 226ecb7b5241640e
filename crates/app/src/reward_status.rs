//! How a reward changes status: audited, announced as `reward.{status}`, and told to its
//! participant by email. Shared by the rewards workflow and the payables ledger (a reward
//! delivered by payout is delivered when its payment is paid).

use super::participants::mail_participant;
use crate::record;
use crate::{AppResult, Ctx};
use vouch_domain::email_template::Kind;
use vouch_domain::reward::{RewardKind, RewardStatus};
use vouch_store::Tx;
use vouch_store::audit::Origin;
use vouch_store::participants;
use vouch_store::programs::{self, Program};
use vouch_store::rewards::{self, Change, Reward};

/// How a reward reads in an email or on a page: `$25.00 (3 friends joined)`.
pub fn title(reward: &Reward) -> String {
    let amount = reward
        .amount
        .map(|a| vouch_domain::money::human(a, &reward.currency));
    match (amount, &reward.description) {
        (Some(a), Some(d)) => format!("{a} ({d})"),
        (Some(a), None) => match reward.kind {
            RewardKind::Credit => format!("{a} account credit"),
            _ => a,
        },
        (None, Some(d)) => d.clone(),
        (None, None) => "a reward".into(),
    }
}

pub(crate) async fn tell(
    ctx: &Ctx,
    tx: &mut Tx,
    kind: Kind,
    program: &Program,
    reward: &Reward,
) -> AppResult<()> {
    let Some(to) = participants::get(tx, &reward.participant_id).await? else {
        return Ok(());
    };
    let reward_json = serde_json::json!({
        "id": reward.id, "title": title(reward), "kind": reward.kind,
        "amount": reward.amount.map(|a| vouch_domain::money::format(a, &reward.currency)),
        "description": reward.description, "coupon_code": reward.coupon_code,
        "hold_days": if reward.hold_until.is_some() { program.reward_hold_days } else { 0 },
    });
    mail_participant(
        ctx,
        tx,
        kind,
        program,
        &to,
        serde_json::json!({ "reward": reward_json }),
    )
    .await
}

/// Moves a reward to `to`, audited and announced as `reward.{to}`.
pub(crate) async fn move_reward(
    tx: &mut Tx,
    origin: &Origin,
    before: &Reward,
    to: RewardStatus,
    change: Change<'_>,
) -> AppResult<Reward> {
    let after = rewards::set_status(tx, before, to, change).await?;
    let action = format!("reward.{}", to.as_str());
    record::change(tx, origin, &action, Some(before), &after, &[&action]);
    Ok(after)
}

/// The payment of a reward delivered by payout was paid: the reward, still earned, is
/// delivered now and its participant told. A reward revoked meanwhile stays revoked (its
/// payment's clawback says to recover the money).
pub(crate) async fn paid_out(
    ctx: &Ctx,
    tx: &mut Tx,
    origin: &Origin,
    reward_id: &str,
) -> AppResult<()> {
    let Some(reward) = rewards::get(tx, reward_id).await? else {
        return Ok(());
    };
    if reward.status != RewardStatus::Earned {
        return Ok(());
    }
    let Some(program) = programs::get(tx, &reward.program_id).await? else {
        return Ok(());
    };
    let after = move_reward(
        tx,
        origin,
        &reward,
        RewardStatus::Delivered,
        Change::default(),
    )
    .await?;
    tell(ctx, tx, Kind::RewardDelivered, &program, &after).await
}
