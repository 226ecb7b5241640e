//! How a participant reaches their own referral page without a password: a magic link sent
//! to their address (a few per half hour at most, and the same answer whether or not the
//! address is enrolled), exchanged once for a session.

use crate::participants::mail_participant;
use crate::{AppResult, Ctx, commit};
use vouch_domain::email_template::Kind;
use vouch_store::participant_access as access;
use vouch_store::participants;
use vouch_store::programs::Program;

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
