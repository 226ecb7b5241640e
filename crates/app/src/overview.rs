//! The console's home: per program and in total, what happened in the last 30 days and what
//! is owed; and every queue where something waits for a person. Which parts a staff user sees
//! is the console's business (their role); this gathers them.

use crate::{AppResult, Ctx};
use time::Duration;
use vouch_store::overview::{self, ProgramNumbers, Queues};
use vouch_store::programs::{self, Program};

/// The window the activity numbers cover.
pub const DAYS: i64 = 30;
/// Programs listed on the overview (newest first); the Programs page lists them all.
pub const PROGRAMS_SHOWN: i64 = 50;

#[derive(Debug, Clone)]
pub struct ProgramLine {
    pub program: Program,
    pub numbers: ProgramNumbers,
}

#[derive(Debug, Clone)]
pub struct Overview {
    pub programs: Vec<ProgramLine>,
    /// More programs exist than are listed.
    pub more_programs: bool,
    /// The sums over every program listed.
    pub total: ProgramNumbers,
    pub queues: Queues,
    /// Flagged referrals waiting for review in every program, and a program that has some.
    pub to_review: (i64, Option<String>),
    /// Reward clawbacks waiting for a decision in every program, and a program that has some.
    pub clawbacks: (i64, Option<String>),
}

pub async fn overview(ctx: &Ctx) -> AppResult<Overview> {
    let since = since(ctx);
    let mut conn = ctx.store.conn().await?;
    let mut listed = programs::list(&mut conn, None, None, PROGRAMS_SHOWN).await?;
    let more_programs = listed.len() as i64 > PROGRAMS_SHOWN;
    listed.truncate(PROGRAMS_SHOWN as usize);
    let mut numbers = overview::programs(&mut conn, &since).await?;
    let queues = overview::queues(&mut conn).await?;
    // The queues cover every program, listed on the page or not.
    let waiting = |pick: fn(&ProgramNumbers) -> i64| {
        let total = numbers.values().map(pick).sum::<i64>();
        let some = numbers
            .iter()
            .find(|(_, n)| pick(n) > 0)
            .map(|(id, _)| id.clone());
        (total, some)
    };
    let to_review = waiting(|n| n.to_review);
    let clawbacks = waiting(|n| n.clawbacks);
    let mut total = ProgramNumbers::default();
    let programs: Vec<ProgramLine> = listed
        .into_iter()
        .map(|program| {
            let n = numbers.remove(&program.id).unwrap_or_default();
            total.add(&n);
            ProgramLine {
                program,
                numbers: n,
            }
        })
        .collect();
    Ok(Overview {
        programs,
        more_programs,
        total,
        queues,
        to_review,
        clawbacks,
    })
}

/// Every program's numbers over the last [`DAYS`] days, by program id (programs with none are
/// absent).
pub async fn numbers(ctx: &Ctx) -> AppResult<std::collections::BTreeMap<String, ProgramNumbers>> {
    let since = since(ctx);
    let mut conn = ctx.store.conn().await?;
    Ok(overview::programs(&mut conn, &since).await?)
}

/// The start of the window the numbers cover: the first of its whole UTC days (today and
/// the days before it), as the daily rollups count. A date sorts before every time of that
/// day, so it also bounds the queries that read timestamps.
fn since(ctx: &Ctx) -> String {
    (ctx.clock.now() - Duration::days(DAYS - 1))
        .datetime()
        .date()
        .to_string()
}
