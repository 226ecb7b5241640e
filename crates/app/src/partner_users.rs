//! Partner portal users and their sign-in: invitations and password resets by one-time link
//! (72 hours, used once), argon2id passwords, sign-in throttled like staff's, sessions in their
//! own table (so a staff session never opens the portal nor the reverse), and removal that
//! ends a user's sessions at once.

use crate::auth::{dummy_hash, hash_password, random_hex, sha256_hex, throttled, verify_password};
use crate::{AppError, AppResult, Ctx, commit};
use vouch_domain::email_template::Kind;
use vouch_domain::partner::PartnerStatus;
use vouch_domain::partner_user::{LINK_HOURS, PartnerRole};
use vouch_domain::validation::{Validation, required_text};
use vouch_store::audit::{self, Actor, ActorKind, Origin};
use vouch_store::partner_users::{self, PartnerUser};
use vouch_store::partners::{self, Partner};
use vouch_store::sessions::{self, Realm};
use vouch_store::{Conn, login_attempts};

/// A partner user as pages and the API show them (never the password hash).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PartnerUserOut {
    pub id: String,
    pub partner_id: String,
    pub email: String,
    pub name: String,
    pub role: PartnerRole,
    /// `invited` until the invitation is accepted, then `active`.
    pub status: String,
    pub invited_by: String,
    pub created_at: vouch_domain::Timestamp,
}

impl From<PartnerUser> for PartnerUserOut {
    fn from(u: PartnerUser) -> Self {
        Self {
            status: if u.password_hash.is_some() {
                "active"
            } else {
                "invited"
            }
            .into(),
            id: u.id,
            partner_id: u.partner_id,
            email: u.email,
            name: u.name,
            role: u.role,
            invited_by: u.invited_by,
            created_at: u.created_at,
        }
    }
}

/// The audit actor of a partner user.
pub fn actor(user: &PartnerUser) -> Actor {
    Actor {
        kind: ActorKind::PartnerUser,
        id: Some(user.id.clone()),
        label: format!("{} ({})", user.email, user.name),
    }
}

fn link(ctx: &Ctx, token: &str) -> String {
    format!(
        "{}/portal/welcome?token={token}",
        ctx.settings.base_url.trim_end_matches('/')
    )
}

async fn send_link(
    ctx: &Ctx,
    conn: &mut Conn,
    kind: Kind,
    partner: &Partner,
    user: &PartnerUser,
    token: &str,
    invited_by: &str,
) -> AppResult<()> {
    let vars = serde_json::json!({
        "partner": { "id": partner.id, "name": partner.name },
        "user": { "id": user.id, "name": user.name, "email": user.email },
        "invited_by": invited_by,
        "link": link(ctx, token),
        "hours": LINK_HOURS,
    });
    vouch_store::emails::queue(
        conn,
        kind,
        &user.email,
        &vars,
        vouch_store::emails::QueueOptions {
            program_id: None,
            unsubscribe_url: None,
            about: None,
            brand: None,
        },
    )
    .await?;
    Ok(())
}

/// Invites someone to a partner's portal (by staff, or by one of the partner's admins): an
/// email with a one-time link to set a password. An address already used by a live portal
/// user is a conflict on `email`.
pub async fn invite(
    ctx: &Ctx,
    origin: &Origin,
    partner_id: &str,
    email: &str,
    name: &str,
    role: PartnerRole,
) -> AppResult<PartnerUserOut> {
    let mut v = Validation::new();
    let email = v.check(
        "email",
        vouch_domain::email::Email::parse(email).map(|e| e.into_string()),
    );
    let name = v.check("name", required_text(name, 200));
    let (Some(email), Some(name)) = (email, name) else {
        return Err(AppError::invalid(v.errors().to_vec()));
    };
    let mut tx = ctx.store.begin().await?;
    let partner = partners::get(&mut tx, partner_id)
        .await?
        .ok_or_else(|| AppError::not_found("partner"))?;
    if partner.status == PartnerStatus::Suspended {
        return Err(AppError::conflict(
            "partner_suspended",
            "the partner is suspended: nobody new is invited to its portal",
        ));
    }
    let token = random_hex(32);
    let user = partner_users::invite(
        &mut tx,
        partner_id,
        &email,
        &name,
        role,
        &sha256_hex(&token),
        ctx.clock.from_now(time::Duration::hours(LINK_HOURS)),
        &origin.actor.label,
    )
    .await?;
    send_link(
        ctx,
        &mut tx,
        Kind::PartnerInvite,
        &partner,
        &user,
        &token,
        &origin.actor.label,
    )
    .await?;
    let out = PartnerUserOut::from(user);
    audit::record(
        &mut tx,
        origin,
        "partner_user.invited",
        "partner_user",
        Some(&out.id),
        None,
        serde_json::to_value(&out).ok().as_ref(),
    )
    .await?;
    commit(tx).await?;
    Ok(out)
}

/// A partner's live users, oldest first (404 for an unknown partner).
pub async fn users_of(ctx: &Ctx, partner_id: &str) -> AppResult<Vec<PartnerUserOut>> {
    let mut conn = ctx.store.conn().await?;
    if partners::get(&mut conn, partner_id).await?.is_none() {
        return Err(AppError::not_found("partner"));
    }
    Ok(partner_users::of_partner(&mut conn, partner_id)
        .await?
        .into_iter()
        .map(PartnerUserOut::from)
        .collect())
}

/// Removes a user of this partner: its link stops working and its sessions end at once.
/// A user of another partner is "not found".
pub async fn remove(ctx: &Ctx, origin: &Origin, partner_id: &str, user_id: &str) -> AppResult<()> {
    let mut tx = ctx.store.begin().await?;
    let before = partner_users::get(&mut tx, user_id)
        .await?
        .filter(|u| u.partner_id == partner_id && u.removed_at.is_none())
        .ok_or_else(|| AppError::not_found("partner user"))?;
    partner_users::remove(&mut tx, user_id)
        .await?
        .ok_or_else(|| AppError::not_found("partner user"))?;
    audit::record(
        &mut tx,
        origin,
        "partner_user.removed",
        "partner_user",
        Some(user_id),
        serde_json::to_value(PartnerUserOut::from(before))
            .ok()
            .as_ref(),
        None,
    )
    .await?;
    commit(tx).await?;
    Ok(())
}

/// Who a one-time link is for, while it works: for the set-password page.
pub async fn link_holder(ctx: &Ctx, token: &str) -> AppResult<Option<(PartnerUser, Partner)>> {
    let mut conn = ctx.store.conn().await?;
    let Some(user) =
        partner_users::by_token(&mut conn, &sha256_hex(token), ctx.clock.now()).await?
    else {
        return Ok(None);
    };
    Ok(partners::get(&mut conn, &user.partner_id)
        .await?
        .filter(|p| p.status == PartnerStatus::Active)
        .map(|p| (user, p)))
}

/// A portal session: its cookie token, and the user and partner it is for.
pub struct SignedIn {
    pub token: String,
    pub user: PartnerUser,
}

async fn open_session(conn: &mut Conn, user: &PartnerUser) -> AppResult<String> {
    let token = random_hex(32);
    sessions::create(
        conn,
        Realm::Partner,
        &sha256_hex(&token),
        &user.id,
        &random_hex(32),
    )
    .await?;
    Ok(token)
}

/// Sets a password through a one-time link (used up: a second use is refused) and signs the
/// user in. `Ok(None)` when the link is unknown, used or expired.
pub async fn accept(
    ctx: &Ctx,
    request_id: Option<&str>,
    client_ip: &str,
    token: &str,
    password: &str,
) -> AppResult<Option<SignedIn>> {
    vouch_domain::password::check(password).map_err(|m| AppError::field("password", m))?;
    let hash = hash_password(password.to_string()).await?;
    let mut tx = ctx.store.begin().await?;
    let Some(user) =
        partner_users::set_password_by_token(&mut tx, &sha256_hex(token), &hash, ctx.clock.now())
            .await?
    else {
        return Ok(None);
    };
    // A suspended partner's users do not get in, even with a link sent before.
    if !partners::get(&mut tx, &user.partner_id)
        .await?
        .is_some_and(|p| p.status == PartnerStatus::Active)
    {
        return Ok(None);
    }
    let session = open_session(&mut tx, &user).await?;
    audit::record(
        &mut tx,
        &Origin {
            actor: actor(&user),
            request_id: request_id.map(str::to_string),
            client_ip: Some(client_ip.to_string()),
        },
        "partner_user.password_set",
        "partner_user",
        Some(&user.id),
        None,
        None,
    )
    .await?;
    commit(tx).await?;
    Ok(Some(SignedIn {
        token: session,
        user,
    }))
}

/// Why a portal sign-in failed.
#[derive(Debug)]
pub enum SignInFailure {
    Throttled { retry_after: u64 },
    Invalid,
}

/// Checks a portal user's credentials with the same throttling as staff sign-in (per email and
/// per address); a removed user, an invited one without a password, or a suspended partner
/// cannot sign in. Unknown addresses take as long as known ones.
pub async fn sign_in(
    ctx: &Ctx,
    request_id: Option<&str>,
    client_ip: &str,
    email: &str,
    password: &str,
) -> AppResult<Result<SignedIn, SignInFailure>> {
    let email = email.trim().to_lowercase();
    let mut conn = ctx.store.conn().await?;
    let public = Origin {
        actor: Actor {
            kind: ActorKind::Public,
            id: None,
            label: email.clone(),
        },
        request_id: request_id.map(str::to_string),
        client_ip: Some(client_ip.to_string()),
    };
    if let Some(retry_after) = throttled(ctx, &mut conn, &email, client_ip).await? {
        audit::record(
            &mut conn,
            &public,
            "portal_login.throttled",
            "partner_user",
            None,
            None,
            None,
        )
        .await?;
        return Ok(Err(SignInFailure::Throttled { retry_after }));
    }
    let user = partner_users::by_email(&mut conn, &email).await?;
    let partner_ok = match &user {
        Some(u) => partners::get(&mut conn, &u.partner_id)
            .await?
            .is_some_and(|p| p.status == PartnerStatus::Active),
        None => false,
    };
    drop(conn);
    let hash = match user.as_ref().and_then(|u| u.password_hash.clone()) {
        Some(h) => h,
        None => dummy_hash().await,
    };
    let password_ok = verify_password(password.to_string(), hash).await;
    let mut tx = ctx.store.begin().await?;
    match user.filter(|u| password_ok && partner_ok && u.is_active()) {
        Some(user) => {
            login_attempts::record(&mut tx, &email, client_ip, true).await?;
            let token = open_session(&mut tx, &user).await?;
            audit::record(
                &mut tx,
                &Origin {
                    actor: actor(&user),
                    ..public
                },
                "portal_login.succeeded",
                "partner_user",
                Some(&user.id),
                None,
                None,
            )
            .await?;
            commit(tx).await?;
            Ok(Ok(SignedIn { token, user }))
        }
        None => {
            login_attempts::record(&mut tx, &email, client_ip, false).await?;
            audit::record(
                &mut tx,
                &public,
                "portal_login.failed",
                "partner_user",
                None,
                None,
                None,
            )
            .await?;
            commit(tx).await?;
            Ok(Err(SignInFailure::Invalid))
        }
    }
}

/// How soon another reset link may be sent to the same user: a form anyone can post must not
/// become a way to flood someone's inbox.
const RESET_COOLDOWN_MINUTES: i64 = 5;

/// Emails a one-time link to set a new password, if the address belongs to an active user and
/// no link went to them in the last few minutes; the answer is the same either way, so the form
/// reveals nothing about who has access. Audited as `partner_user.reset_requested`.
pub async fn request_reset(ctx: &Ctx, origin: &Origin, email: &str) -> AppResult<()> {
    let mut tx = ctx.store.begin().await?;
    let Some(user) = partner_users::by_email(&mut tx, email.trim()).await? else {
        return Ok(());
    };
    let recent = ctx.clock.from_now(time::Duration::hours(LINK_HOURS))
        - time::Duration::minutes(RESET_COOLDOWN_MINUTES);
    if user.token_expires_at.is_some_and(|e| e > recent) {
        return Ok(());
    }
    let Some(partner) = partners::get(&mut tx, &user.partner_id)
        .await?
        .filter(|p| p.status == PartnerStatus::Active)
    else {
        return Ok(());
    };
    let token = random_hex(32);
    let Some(user) = partner_users::set_token(
        &mut tx,
        &user.id,
        &sha256_hex(&token),
        ctx.clock.from_now(time::Duration::hours(LINK_HOURS)),
    )
    .await?
    else {
        return Ok(());
    };
    send_link(
        ctx,
        &mut tx,
        Kind::PartnerPasswordReset,
        &partner,
        &user,
        &token,
        "",
    )
    .await?;
    audit::record(
        &mut tx,
        origin,
        "partner_user.reset_requested",
        "partner_user",
        Some(&user.id),
        None,
        None,
    )
    .await?;
    commit(tx).await?;
    Ok(())
}

/// A live portal session.
pub struct PortalSession {
    pub token_hash: String,
    pub csrf_token: String,
    pub flash: Option<String>,
    pub user: PartnerUser,
    pub partner: Partner,
}

/// The portal session a cookie token names; expired sessions, removed users and suspended
/// partners count as none.
pub async fn session(ctx: &Ctx, token: &str, take_flash: bool) -> AppResult<Option<PortalSession>> {
    let token_hash = sha256_hex(token);
    let s = &ctx.settings;
    let mut conn = ctx.store.conn().await?;
    let Some(session) = sessions::touch(
        &mut conn,
        Realm::Partner,
        &token_hash,
        ctx.clock
            .ago(time::Duration::minutes(s.session_idle_minutes)),
        ctx.clock
            .ago(time::Duration::hours(s.session_absolute_hours)),
        take_flash,
    )
    .await?
    else {
        return Ok(None);
    };
    let user = partner_users::get(&mut conn, &session.user_id)
        .await?
        .filter(PartnerUser::is_active);
    let partner = match &user {
        Some(u) => partners::get(&mut conn, &u.partner_id)
            .await?
            .filter(|p| p.status == PartnerStatus::Active),
        None => None,
    };
    let (Some(user), Some(partner)) = (user, partner) else {
        sessions::delete(&mut conn, Realm::Partner, &token_hash).await?;
        return Ok(None);
    };
    Ok(Some(PortalSession {
        token_hash,
        csrf_token: session.csrf_token,
        flash: session.flash,
        user,
        partner,
    }))
}

/// Keeps a one-time message for the page a portal form redirects to.
pub async fn set_flash(ctx: &Ctx, session: &PortalSession, message: &str) -> AppResult<()> {
    let mut conn = ctx.store.conn().await?;
    Ok(sessions::set_flash(&mut conn, Realm::Partner, &session.token_hash, message).await?)
}

/// Signs out.
pub async fn sign_out(ctx: &Ctx, origin: &Origin, session: &PortalSession) -> AppResult<()> {
    let mut tx = ctx.store.begin().await?;
    sessions::delete(&mut tx, Realm::Partner, &session.token_hash).await?;
    audit::record(
        &mut tx,
        origin,
        "portal_logout",
        "partner_user",
        Some(&session.user.id),
        None,
        None,
    )
    .await?;
    commit(tx).await?;
    Ok(())
}
