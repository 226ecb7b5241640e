//! How a participant reaches their own referral page without a password: a magic link sent
//! to their address (a few per half hour at most, and the same answer whether or not the
//! address is enrolled), exchanged once for a session. And what that page shows them.

use crate::participants::mail_participant;
use crate::{AppError, AppResult, Ctx, commit};
use vouch_domain::Timestamp;
use vouch_domain::email_template::Kind;
use vouch_domain::referral::Stage;
use vouch_domain::reward::Trigger;
use vouch_store::participant_access as access;
use vouch_store::participants::{self, Participant};
use vouch_store::programs::Program;
use vouch_store::rewards::{self, Reward, RewardRule};
use vouch_store::{referrals, stats};

/// How long a participant session lasts.
pub const SESSION_DAYS: i64 = 30;
/// How long a magic link works, and the window of [`LINKS_PER_WINDOW`].
pub const LOGIN_MINUTES: i64 = 30;
/// Magic links sent to one participant within [`LOGIN_MINUTES`].
pub const LINKS_PER_WINDOW: i64 = 3;

/// Emails a login link when `email` belongs to a participant of `program` and the window
/// allows another; otherwise does nothing. The caller answers the same either way.
pub async fn send_login_link(ctx: &Ctx, program: &Program, email: &str) -> AppResult<()> {
    let email = email.trim().to_lowercase();
    if email.is_empty() || email.chars().count() > 254 {
        return Ok(());
    }
    let mut tx = ctx.store.begin().await?;
    let Some(p) = participants::by_email(&mut tx, &program.id, &email).await? else {
        return Ok(());
    };
    // Nobody can flood an inbox through this form: a few links per half hour at most.
    let since = ctx.clock.ago(time::Duration::minutes(LOGIN_MINUTES));
    if access::login_tokens_since(&mut tx, &p.id, since).await? >= LINKS_PER_WINDOW {
        return Ok(());
    }
    let token = access::new_token();
    let expires = ctx.clock.from_now(time::Duration::minutes(LOGIN_MINUTES));
    access::create_login_token(&mut tx, &p.id, &token, expires).await?;
    let login_url = format!(
        "{}/p/{}/me/login?token={token}",
        ctx.settings.base_url, program.slug
    );
    mail_participant(
        ctx,
        &mut tx,
        Kind::ParticipantLogin,
        program,
        &p,
        serde_json::json!({ "login_url": login_url }),
    )
    .await?;
    commit(tx).await
}

/// Exchanges a magic-link token (once) for a session with the token `session`; the
/// participant's id, or `None` when the link is unknown, used or expired.
pub async fn open_session(
    ctx: &Ctx,
    login_token: &str,
    session: &str,
) -> AppResult<Option<String>> {
    let mut tx = ctx.store.begin().await?;
    let Some(participant_id) = access::use_login_token(&mut tx, login_token).await? else {
        return Ok(None);
    };
    let expires = ctx.clock.from_now(time::Duration::days(SESSION_DAYS));
    access::create_session(&mut tx, &participant_id, session, expires).await?;
    commit(tx).await?;
    Ok(Some(participant_id))
}

/// Whose session a participant's cookie holds; `None` once it is unknown or expired.
pub async fn session_participant(ctx: &Ctx, session: &str) -> AppResult<Option<String>> {
    let mut conn = ctx.store.conn().await?;
    Ok(access::session_participant(&mut conn, session).await?)
}

/// Whether a magic link would still open a session, checked without using it up: the page
/// behind the link asks for a click first, because mail scanners follow links.
pub async fn login_token_usable(ctx: &Ctx, login_token: &str) -> AppResult<bool> {
    let mut conn = ctx.store.conn().await?;
    Ok(access::login_token_usable(&mut conn, login_token).await?)
}

/// What a participant's own referral page shows.
pub struct OwnPage {
    pub participant: Participant,
    pub clicks: i64,
    pub referred: i64,
    pub won: i64,
    /// Newest first.
    pub rewards: Vec<Reward>,
    /// Won referrals needed for the next reward, and how far along they are (in percent).
    pub next: Option<(i64, i64)>,
    /// (their rank, the leaders) when the program shows a leaderboard.
    pub leaderboard: Option<(i64, Vec<(String, i64)>)>,
}

/// The page of `participant_id`; `None` when they are not in `program`, so that a session or
/// token of another program's participant opens nothing there.
pub async fn own_page(
    ctx: &Ctx,
    program: &Program,
    participant_id: &str,
) -> AppResult<Option<OwnPage>> {
    let mut conn = ctx.store.conn().await?;
    let Some(participant) = participants::get(&mut conn, participant_id)
        .await?
        .filter(|p| p.program_id == program.id)
    else {
        return Ok(None);
    };
    let clicks = stats::clicks_of(&mut conn, &participant.id).await?;
    let referred = stats::referrals_of(&mut conn, &participant.id).await?;
    let won = referrals::count_by_referrer(&mut conn, &participant.id, Stage::Won).await?;
    let filter = rewards::Filter {
        participant_id: Some(participant.id.clone()),
        ..Default::default()
    };
    let rewards = rewards::list(&mut conn, &program.id, &filter, None, 100).await?;
    let rules = rewards::rules(&mut conn, &program.id, true).await?;
    let leaderboard = if program.show_leaderboard {
        Some((
            stats::rank(&mut conn, &program.id, won).await?,
            stats::leaders(&mut conn, &program.id, 5).await?,
        ))
    } else {
        None
    };
    Ok(Some(OwnPage {
        participant,
        clicks,
        referred,
        won,
        rewards,
        next: next_reward(&rules, won),
        leaderboard,
    }))
}

/// The nearest step any active rule still has ahead of `won` wins (a repeating rule that hit
/// its cap has none), with the progress toward it in percent.
fn next_reward(rules: &[RewardRule], won: i64) -> Option<(i64, i64)> {
    rules
        .iter()
        .filter_map(|r| {
            let target = match r.trigger {
                Trigger::Milestone => r.threshold,
                Trigger::Every => (won / r.threshold + 1) * r.threshold,
            };
            let capped = r.trigger == Trigger::Every
                && r.max_per_participant
                    .is_some_and(|m| won / r.threshold >= m);
            (target > won && !capped).then_some(target)
        })
        .min()
        .map(|target| (target, won * 100 / target.max(1)))
}

const EMBED_PURPOSE: &str = "embed";
/// The longest an embed token lives, in seconds.
pub const EMBED_MAX_SECONDS: i64 = 3600;

/// A token that shows a participant's page inside the operator's own site, valid for
/// `ttl_seconds` (60 to 3600, default 3600): `participant_id.expiry`, signed. Returns the token
/// and when it expires.
pub fn embed_token(
    ctx: &Ctx,
    participant_id: &str,
    ttl_seconds: Option<i64>,
) -> AppResult<(String, Timestamp)> {
    let ttl = ttl_seconds.unwrap_or(EMBED_MAX_SECONDS);
    if !(60..=EMBED_MAX_SECONDS).contains(&ttl) {
        return Err(AppError::field(
            "ttl_seconds",
            "must be between 60 and 3600 seconds",
        ));
    }
    let expires = ctx.clock.from_now(time::Duration::seconds(ttl));
    let token = crate::signed::sign(
        &ctx.secrets.embed,
        EMBED_PURPOSE,
        &format!("{participant_id}.{}", expires.datetime().unix_timestamp()),
    );
    Ok((token, expires))
}

/// The participant an embed token names, while it is live.
pub fn verify_embed(ctx: &Ctx, token: &str) -> Option<String> {
    let payload = crate::signed::verify(&ctx.secrets.embed, EMBED_PURPOSE, token)?;
    let (id, expires) = payload.rsplit_once('.')?;
    let expires: i64 = expires.parse().ok()?;
    (expires > ctx.clock.now().datetime().unix_timestamp()).then(|| id.to_string())
}
