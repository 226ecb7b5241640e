//! Everything the console shows about one participant on their own page: who referred them,
//! whom they referred (with each referral's stage), their clicks, their rewards and staff notes.

use crate::{AppError, AppResult, Ctx};
use vouch_store::participants::{self, Participant};
use vouch_store::programs::{self, Program};
use vouch_store::referrals::{self, Referral};
use vouch_store::rewards::{self, Reward};
use vouch_store::stats;

/// Referrals and rewards listed on the page (newest first); the program's tabs list them all.
pub const SHOWN: i64 = 50;

#[derive(Debug, Clone)]
pub struct Profile {
    pub participant: Participant,
    pub program: Program,
    /// The referral that brought them, with its referrer.
    pub referred_by: Option<(Referral, Participant)>,
    /// The referrals they made, newest first, each with the friend.
    pub referred: Vec<(Referral, Participant)>,
    /// More referrals exist than are listed.
    pub more_referred: bool,
    /// Visits counted through their referral link.
    pub clicks: i64,
    pub rewards: Vec<Reward>,
    pub more_rewards: bool,
    /// Staff notes, oldest first.
    pub notes: Vec<participants::Note>,
}

pub async fn profile(ctx: &Ctx, id: &str) -> AppResult<Profile> {
    let mut conn = ctx.store.conn().await?;
    let participant = participants::get(&mut conn, id)
        .await?
        .ok_or_else(|| AppError::not_found("participant"))?;
    let program = programs::get(&mut conn, &participant.program_id)
        .await?
        .ok_or_else(|| AppError::internal(format!("participant {id} has no program")))?;
    let referred_by = match referrals::of_referred(&mut conn, id).await? {
        Some(r) => participants::get(&mut conn, &r.referrer_id)
            .await?
            .map(|referrer| (r, referrer)),
        None => None,
    };
    let filter = referrals::Filter {
        referrer_id: Some(id.to_string()),
        ..Default::default()
    };
    let mut made = referrals::list(&mut conn, &program.id, &filter, None, SHOWN).await?;
    let more_referred = made.len() as i64 > SHOWN;
    made.truncate(SHOWN as usize);
    let mut referred = Vec::with_capacity(made.len());
    for r in made {
        if let Some(friend) = participants::get(&mut conn, &r.referred_id).await? {
            referred.push((r, friend));
        }
    }
    let clicks = stats::clicks_of(&mut conn, id).await?;
    let reward_filter = rewards::Filter {
        participant_id: Some(id.to_string()),
        ..Default::default()
    };
    let mut earned = rewards::list(&mut conn, &program.id, &reward_filter, None, SHOWN).await?;
    let more_rewards = earned.len() as i64 > SHOWN;
    earned.truncate(SHOWN as usize);
    let notes = participants::notes(&mut conn, id).await?;
    Ok(Profile {
        notes,
        participant,
        program,
        referred_by,
        referred,
        more_referred,
        clicks,
        rewards: earned,
        more_rewards,
    })
}
