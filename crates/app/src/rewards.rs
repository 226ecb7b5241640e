//! Rewards: what a won or revoked referral does to its referrer's (and friend's) rewards,
//! holds that end, delivery (with coupon codes from a pool), revocation and clawbacks.
//!
//! Rewards are recomputed from the count of won referrals rather than added up incrementally,
//! so the same computation run twice, or after a revocation, lands on the same set of steps;
//! the unique step key in the store makes a repeated creation a no-op.

use crate::Ctx;
use crate::commit;
use crate::record;
pub use crate::reward_status::title;
use crate::reward_status::{move_reward, tell};
use crate::{AppError, AppResult};
use vouch_domain::email_template::Kind;
use vouch_domain::money::{Currency, Money};
use vouch_domain::referral::Stage;
use vouch_domain::reward::{
    Delivery, Recipient, RewardKind, RewardStatus, RuleFields, Sides, steps_reached,
};
use vouch_store::audit::Origin;
use vouch_store::payments;
use vouch_store::programs::{self, Program};
use vouch_store::referrals::{self, Referral};
use vouch_store::rewards::{self, Change, Clawback, Filter, NewReward, Reward, RewardRule};
use vouch_store::{StoreError, Tx};

/// The currency every amount of a program is in.
pub fn currency(program: &Program) -> AppResult<Currency> {
    Currency::parse(&program.currency).map_err(|e| {
        AppError::internal(format!(
            "program {} has a malformed currency: {e}",
            program.id
        ))
    })
}

/// Adds a reward rule to a program. Amounts are minor units of the program's currency.
pub async fn create_rule(
    ctx: &Ctx,
    origin: &Origin,
    program_id: &str,
    fields: &RuleFields,
) -> AppResult<RewardRule> {
    let program = crate::programs::get(ctx, program_id).await?;
    let draft = fields.parse(currency(&program)?)?;
    let mut tx = ctx.store.begin().await?;
    let rule = rewards::create_rule(&mut tx, &program.id, &draft).await?;
    record::change(
        &mut tx,
        origin,
        "reward_rule.created",
        None,
        &rule,
        &["reward_rule.created"],
    );
    commit(tx).await?;
    Ok(rule)
}

/// A reward rule by id.
pub async fn rule(ctx: &Ctx, id: &str) -> AppResult<RewardRule> {
    let mut conn = ctx.store.conn().await?;
    rewards::get_rule(&mut conn, id)
        .await?
        .ok_or_else(|| AppError::not_found("reward rule"))
}

/// Turns a rule on or off. An inactive rule earns nothing new; what it earned stays.
pub async fn set_rule_active(
    ctx: &Ctx,
    origin: &Origin,
    id: &str,
    active: bool,
) -> AppResult<RewardRule> {
    let before = rule(ctx, id).await?;
    let mut tx = ctx.store.begin().await?;
    let after = rewards::set_rule_active(&mut tx, &before, active).await?;
    record::change(
        &mut tx,
        origin,
        "reward_rule.updated",
        Some(&before),
        &after,
        &["reward_rule.updated"],
    );
    commit(tx).await?;
    Ok(after)
}

/// What an upload of coupon codes did.
#[derive(Debug, Clone, Copy)]
pub struct CouponsAdded {
    pub added: i64,
    /// Codes already in the pool (or repeated in the upload).
    pub skipped: i64,
    pub left: i64,
}

/// Adds codes to a coupon rule's pool: 1 to 10 000 codes, each 1–64 printable ASCII
/// characters without spaces (`codes[i]` names the first bad one); codes already there are
/// skipped.
pub async fn add_coupons(
    ctx: &Ctx,
    origin: &Origin,
    id: &str,
    raw: &[String],
) -> AppResult<CouponsAdded> {
    let rule = rule(ctx, id).await?;
    if rule.kind != RewardKind::Coupon {
        return Err(AppError::conflict(
            "not_a_coupon_rule",
            "only coupon rules have a pool of codes",
        ));
    }
    if raw.is_empty() || raw.len() > 10_000 {
        return Err(AppError::field("codes", "send between 1 and 10000 codes"));
    }
    let mut seen = std::collections::HashSet::with_capacity(raw.len());
    let mut codes: Vec<String> = Vec::with_capacity(raw.len());
    for (i, code) in raw.iter().enumerate() {
        let code = code.trim();
        if code.is_empty() || code.len() > 64 || !code.chars().all(|c| c.is_ascii_graphic()) {
            return Err(AppError::field(
                &format!("codes[{i}]"),
                format!("“{code}” is not a code: 1–64 printable characters without spaces"),
            ));
        }
        if seen.insert(code) {
            codes.push(code.to_string());
        }
    }
    let mut tx = ctx.store.begin().await?;
    let added = rewards::add_coupons(&mut tx, &rule, &codes).await?;
    vouch_store::audit::record(
        &mut tx,
        origin,
        "coupon_codes.added",
        "reward_rule",
        Some(&rule.id),
        None,
        Some(&serde_json::json!({ "rule_id": rule.id, "added": added })),
    )
    .await?;
    let left = rewards::coupons_left(&mut tx, &rule.id).await?;
    commit(tx).await?;
    Ok(CouponsAdded {
        added,
        skipped: i64::try_from(raw.len()).unwrap_or(i64::MAX) - added,
        left,
    })
}

/// Delivers an earned reward in the caller's transaction: a coupon gets the next code of its
/// rule's pool (a `coupon_pool_empty` conflict when the pool is empty).
async fn deliver_in(
    ctx: &Ctx,
    tx: &mut Tx,
    origin: &Origin,
    program: &Program,
    reward: &Reward,
) -> AppResult<Reward> {
    if rewards::get_rule(tx, &reward.rule_id)
        .await?
        .is_some_and(|rule| rule.delivery == Delivery::Payout)
    {
        return Err(AppError::conflict(
            "paid_by_payout",
            "this reward is paid through the payables ledger: it is delivered when its payment is marked paid",
        ));
    }
    let code = if reward.kind == RewardKind::Coupon {
        let code =
            rewards::take_coupon(tx, ctx.store.backend(), &reward.rule_id, &reward.id).await?;
        Some(code.ok_or_else(|| {
            AppError::conflict(
                "coupon_pool_empty",
                "the rule's coupon pool is empty; add codes, then deliver",
            )
        })?)
    } else {
        None
    };
    let after = move_reward(
        tx,
        origin,
        reward,
        RewardStatus::Delivered,
        Change {
            coupon_code: code.as_deref(),
            ..Change::default()
        },
    )
    .await?;
    tell(ctx, tx, Kind::RewardDelivered, program, &after).await?;
    Ok(after)
}

/// What happens once a reward is earned: the participant is told, and an automatic rule
/// delivers it at once (a coupon rule with an empty pool leaves it earned, for staff).
async fn on_earned(
    ctx: &Ctx,
    tx: &mut Tx,
    origin: &Origin,
    program: &Program,
    rule: &RewardRule,
    reward: &Reward,
) -> AppResult<()> {
    tell(ctx, tx, Kind::RewardEarned, program, reward).await?;
    match rule.delivery {
        Delivery::Automatic => match deliver_in(ctx, tx, origin, program, reward).await {
            Ok(_) => {}
            Err(e) if e.code() == "coupon_pool_empty" => {
                tracing::warn!(rule = %rule.id, "coupon pool empty; the reward waits for staff");
            }
            Err(e) => return Err(e),
        },
        Delivery::Payout => {
            let amount = reward.amount.ok_or_else(|| {
                AppError::internal(format!("cash reward {} has no amount", reward.id))
            })?;
            // The reward's own currency: the program's may have changed since it was earned.
            let currency = Currency::parse(&reward.currency).map_err(|e| {
                AppError::internal(format!(
                    "reward {} has a malformed currency: {e}",
                    reward.id
                ))
            })?;
            let amount = Money::new(amount, currency);
            crate::payouts::owe_reward(ctx, tx, origin, reward, amount).await?;
        }
        Delivery::Manual => {}
    }
    Ok(())
}

/// Creates the rewards a won referral earns: every step its referrer now reached under each
/// active rule, and, for double-sided rules, the friend's reward when this win reached a step.
/// `won` is the referrer's count of won referrals with this one; a blocked referrer
/// (`referrer_blocked`) earns nothing new, while the friend's side still pays.
pub async fn after_win(
    ctx: &Ctx,
    tx: &mut Tx,
    origin: &Origin,
    program: &Program,
    referral: &Referral,
    won: i64,
    referrer_blocked: bool,
) -> AppResult<()> {
    let hold_until = (program.reward_hold_days > 0).then(|| {
        ctx.clock
            .from_now(time::Duration::days(program.reward_hold_days))
    });
    for rule in rewards::rules(tx, &program.id, true).await? {
        let steps = steps_reached(rule.trigger, rule.threshold, rule.max_per_participant, won);
        for step in
            missing_steps(tx, &rule, &referral.referrer_id, &steps, referrer_blocked).await?
        {
            let new = NewReward {
                rule: &rule,
                participant_id: &referral.referrer_id,
                recipient: Recipient::Referrer,
                step,
                referral_id: Some(&referral.id),
                currency: &program.currency,
                hold_until,
            };
            if let Some(r) = create_reward(tx, origin, &new).await?
                && r.status == RewardStatus::Earned
            {
                on_earned(ctx, tx, origin, program, &rule, &r).await?;
            }
        }
        if rule.sides == Sides::Double && steps.contains(&won) {
            let new = NewReward {
                rule: &rule,
                participant_id: &referral.referred_id,
                recipient: Recipient::Friend,
                step: 1,
                referral_id: Some(&referral.id),
                currency: &program.currency,
                hold_until,
            };
            if let Some(r) = create_reward(tx, origin, &new).await?
                && r.status == RewardStatus::Earned
            {
                on_earned(ctx, tx, origin, program, &rule, &r).await?;
            }
        }
    }
    Ok(())
}

/// Which of the steps a referrer has reached are still to be created. Every win offers every
/// step reached so far (imported history and steps regained after a revocation catch up at
/// the next win), but most exist already: with more than one step reached, the ones there are
/// read once instead of each being tried. A step created meanwhile by another transaction is
/// still harmless: its insert does nothing. A step being revoked meanwhile (a refund not yet
/// committed) still looks live and is skipped; the referrer's next win creates it.
async fn missing_steps(
    tx: &mut Tx,
    rule: &RewardRule,
    referrer_id: &str,
    reached: &[i64],
    referrer_blocked: bool,
) -> AppResult<Vec<i64>> {
    if referrer_blocked {
        return Ok(Vec::new());
    }
    if reached.len() < 2 {
        return Ok(reached.to_vec());
    }
    let have: std::collections::BTreeSet<i64> =
        rewards::live_steps(tx, &rule.id, referrer_id, Recipient::Referrer)
            .await?
            .into_iter()
            .collect();
    Ok(reached
        .iter()
        .copied()
        .filter(|step| !have.contains(step))
        .collect())
}

/// Takes back what a revoked referral no longer earns: steps its referrer fell below and the
/// friend's rewards of this referral. Pending and earned rewards are revoked; a delivered one
/// stays delivered and a clawback opens for review.
pub async fn after_revoke(
    tx: &mut Tx,
    origin: &Origin,
    program: &Program,
    referral: &Referral,
    reason: &str,
) -> AppResult<()> {
    let won = referrals::count_by_referrer(tx, &referral.referrer_id, Stage::Won).await?;
    let mut lost = rewards::friend_rewards_of_referral(tx, &referral.id).await?;
    for rule in rewards::rules(tx, &program.id, false).await? {
        let steps = steps_reached(rule.trigger, rule.threshold, rule.max_per_participant, won);
        lost.extend(
            rewards::of_rule_and_referrer(tx, &rule.id, &referral.referrer_id)
                .await?
                .into_iter()
                .filter(|r| !steps.contains(&r.step)),
        );
    }
    for reward in lost {
        match reward.status {
            RewardStatus::Pending | RewardStatus::Earned => {
                revoke_in(tx, origin, &reward, reason).await?;
            }
            RewardStatus::Delivered => {
                if let Some(c) = rewards::open_clawback(tx, &reward, reason).await? {
                    record::change(
                        tx,
                        origin,
                        "clawback.opened",
                        None,
                        &c,
                        &["clawback.opened"],
                    );
                }
            }
            RewardStatus::Revoked => {}
        }
    }
    Ok(())
}

/// Ends the holds that are over: pending rewards become earned (and are told and, for
/// automatic rules, delivered). Returns how many were released. Run by housekeeping.
pub async fn release_holds(ctx: &Ctx) -> AppResult<usize> {
    let origin = Origin::system();
    let due = {
        let mut conn = ctx.store.conn().await?;
        rewards::hold_ended(&mut conn, ctx.clock.now(), 200).await?
    };
    let mut released = 0;
    for reward in due {
        let mut tx = ctx.store.begin().await?;
        let (Some(program), Some(rule)) = (
            programs::get(&mut tx, &reward.program_id).await?,
            rewards::get_rule(&mut tx, &reward.rule_id).await?,
        ) else {
            continue;
        };
        match rewards::set_status(&mut tx, &reward, RewardStatus::Earned, Change::default()).await {
            Ok(earned) => {
                record::change(
                    &mut tx,
                    &origin,
                    "reward.earned",
                    Some(&reward),
                    &earned,
                    &["reward.earned"],
                );
                on_earned(ctx, &mut tx, &origin, &program, &rule, &earned).await?;
                commit(tx).await?;
                released += 1;
            }
            // Another process released or revoked it first.
            Err(StoreError::WrongState { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(released)
}

async fn reward_and_program(tx: &mut Tx, id: &str) -> AppResult<(Reward, Program)> {
    let reward = rewards::get(tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("reward"))?;
    let program = programs::get(tx, &reward.program_id)
        .await?
        .ok_or_else(|| AppError::not_found("program"))?;
    Ok((reward, program))
}

/// Staff delivery of an earned reward.
pub async fn deliver(ctx: &Ctx, origin: &Origin, id: &str) -> AppResult<Reward> {
    let mut tx = ctx.store.begin().await?;
    let (reward, program) = reward_and_program(&mut tx, id).await?;
    let after = deliver_in(ctx, &mut tx, origin, &program, &reward).await?;
    commit(tx).await?;
    Ok(after)
}

/// Most items one bulk action takes.
pub const BULK_MAX: usize = 100;

/// Delivers each reward of `program_id` in turn, each in its own transaction exactly as one
/// delivery is, so a refusal (already delivered, still on hold, paid by payout, another
/// program's) leaves the others alone. Returns each id with why it was not delivered, if not.
pub async fn deliver_many(
    ctx: &Ctx,
    origin: &Origin,
    program_id: &str,
    ids: &[String],
) -> AppResult<Vec<(String, Option<String>)>> {
    if ids.is_empty() || ids.len() > BULK_MAX {
        return Err(AppError::field("ids", "tick 1 to 100 rewards"));
    }
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let refused = match get_reward(ctx, id).await {
            Ok(w) if w.program_id == program_id => {
                deliver(ctx, origin, id).await.err().map(|e| e.detail())
            }
            Ok(_) => Some("not a reward of this program".to_string()),
            Err(e) => Some(e.detail()),
        };
        out.push((id.clone(), refused));
    }
    Ok(out)
}

/// Staff revocation of a pending or earned reward.
pub async fn revoke(ctx: &Ctx, origin: &Origin, id: &str, reason: &str) -> AppResult<Reward> {
    let mut tx = ctx.store.begin().await?;
    let (reward, _) = reward_and_program(&mut tx, id).await?;
    let after = revoke_in(&mut tx, origin, &reward, reason).await?;
    commit(tx).await?;
    Ok(after)
}

/// Revokes a pending or earned reward in the caller's transaction. An earned reward of a
/// payout rule owes a payment in the ledger: it is voided, or, when it may have been paid
/// already (an approved batch), a clawback opens for it. The payment is changed before the
/// reward, the order in which paying it changes them, so the two never wait on each other.
async fn revoke_in(
    tx: &mut Tx,
    origin: &Origin,
    reward: &Reward,
    reason: &str,
) -> AppResult<Reward> {
    if reward.status == RewardStatus::Earned
        && let Some(p) = payments::for_reward(tx, &reward.id).await?
    {
        crate::payouts::undo_payment(tx, origin, &p, "reward revoked", reason).await?;
    }
    move_reward(
        tx,
        origin,
        reward,
        RewardStatus::Revoked,
        Change {
            reason: Some(reason),
            ..Change::default()
        },
    )
    .await
}

/// `recovered` (the money came back) or `waived` (it stays with the participant).
pub async fn decide_clawback(
    ctx: &Ctx,
    origin: &Origin,
    id: &str,
    decision: &str,
) -> AppResult<Clawback> {
    if !matches!(decision, "recovered" | "waived") {
        return Err(AppError::field("decision", "must be recovered or waived"));
    }
    let mut tx = ctx.store.begin().await?;
    let before = rewards::get_clawback(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("clawback"))?;
    let after = rewards::decide_clawback(&mut tx, &origin.actor.label, &before, decision).await?;
    let action = format!("clawback.{decision}");
    record::change(&mut tx, origin, &action, Some(&before), &after, &[&action]);
    commit(tx).await?;
    Ok(after)
}

pub async fn get_reward(ctx: &Ctx, id: &str) -> AppResult<Reward> {
    let mut conn = ctx.store.conn().await?;
    rewards::get(&mut conn, id)
        .await?
        .ok_or_else(|| AppError::not_found("reward"))
}

/// How many rewards a filter finds in all (the list's total).
pub async fn count_rewards(ctx: &Ctx, program_id: &str, filter: &Filter) -> AppResult<i64> {
    let mut conn = ctx.store.conn().await?;
    Ok(rewards::count(&mut conn, program_id, filter).await?)
}

/// Newest first, `limit + 1` rows at most: the extra row tells the caller another page follows.
pub async fn list_rewards(
    ctx: &Ctx,
    program_id: &str,
    filter: &Filter,
    starting_after: Option<&str>,
    limit: i64,
) -> AppResult<Vec<Reward>> {
    let mut conn = ctx.store.conn().await?;
    Ok(rewards::list(&mut conn, program_id, filter, starting_after, limit).await?)
}

/// The rewards a referral earned. Only the program's newest rewards (about 500) are searched,
/// which keeps the referral page one cheap query; older ones do not show there.
pub async fn rewards_of_referral(ctx: &Ctx, referral: &Referral) -> AppResult<Vec<Reward>> {
    let mut conn = ctx.store.conn().await?;
    let rows = rewards::list(
        &mut conn,
        &referral.program_id,
        &Filter::default(),
        None,
        500,
    )
    .await?;
    Ok(rows
        .into_iter()
        .filter(|w| w.referral_id.as_deref() == Some(referral.id.as_str()))
        .collect())
}

/// Codes not handed out yet; 0 for a rule that is not a coupon rule.
pub async fn coupons_left(ctx: &Ctx, rule_id: &str) -> AppResult<i64> {
    let mut conn = ctx.store.conn().await?;
    Ok(rewards::coupons_left(&mut conn, rule_id).await?)
}

/// A program's rules (inactive ones too), oldest first, each with the codes left in its pool.
pub async fn rules_with_coupons_left(
    ctx: &Ctx,
    program_id: &str,
) -> AppResult<Vec<(RewardRule, i64)>> {
    let mut conn = ctx.store.conn().await?;
    let mut out = Vec::new();
    for rule in rewards::rules(&mut conn, program_id, false).await? {
        let left = rewards::coupons_left(&mut conn, &rule.id).await?;
        out.push((rule, left));
    }
    Ok(out)
}

pub async fn get_clawback(ctx: &Ctx, id: &str) -> AppResult<Clawback> {
    let mut conn = ctx.store.conn().await?;
    rewards::get_clawback(&mut conn, id)
        .await?
        .ok_or_else(|| AppError::not_found("clawback"))
}

/// A program's clawbacks in `status` (`open`, `recovered` or `waived`), newest first.
pub async fn list_clawbacks(ctx: &Ctx, program_id: &str, status: &str) -> AppResult<Vec<Clawback>> {
    let mut conn = ctx.store.conn().await?;
    Ok(rewards::clawbacks(&mut conn, program_id, status).await?)
}

/// [`list_clawbacks`] with how each taken-back reward reads (empty when the reward is gone),
/// so staff see what they decide about.
pub async fn clawbacks_with_titles(
    ctx: &Ctx,
    program_id: &str,
    status: &str,
) -> AppResult<Vec<(Clawback, String)>> {
    let mut conn = ctx.store.conn().await?;
    let mut out = Vec::new();
    for c in rewards::clawbacks(&mut conn, program_id, status).await? {
        let title = rewards::get(&mut conn, &c.reward_id)
            .await?
            .map(|w| title(&w))
            .unwrap_or_default();
        out.push((c, title));
    }
    Ok(out)
}

/// Creates a reward (see [`rewards::create`]) with its audit entry and events:
/// `reward.created`, and `reward.earned` when no hold applies.
async fn create_reward(
    tx: &mut Tx,
    origin: &Origin,
    new: &NewReward<'_>,
) -> AppResult<Option<Reward>> {
    let Some(reward) = rewards::create(tx, new).await? else {
        return Ok(None);
    };
    let mut events = vec!["reward.created"];
    if reward.status == RewardStatus::Earned {
        events.push("reward.earned");
    }
    record::change(tx, origin, "reward.created", None, &reward, &events);
    Ok(Some(reward))
}
