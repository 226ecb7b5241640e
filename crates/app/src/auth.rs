//! Credentials and staff sign-in: argon2id password hashes, API key and session secrets (only
//! their SHA-256 is stored), login with throttling per email and per address, and the lookup
//! of a live session by its token.

use crate::{AppError, AppResult, Ctx};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use rand::RngCore;
use sha2::{Digest, Sha256};
use vouch_domain::permission::Action;
use vouch_store::api_keys::{self, ApiKey};
use vouch_store::audit::{self, Actor, ActorKind, Origin};
use vouch_store::sessions::Realm;
use vouch_store::users::StaffUser;
use vouch_store::{login_attempts, sessions, users};

pub const API_KEY_PREFIX: &str = "vouch_sk_";

pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

pub fn sha256_hex(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// Hashes with argon2id at the OWASP parameters (19 MiB, t=2, p=1) off the async threads.
pub async fn hash_password(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
    })
    .await
    .map_err(|e| AppError::internal(format!("password hashing task: {e}")))?
    .map_err(|e| AppError::internal(format!("password hashing failed: {e}")))
}

pub async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .verify_password(password.as_bytes(), hash.as_str())
            .is_ok()
    })
    .await
    .unwrap_or(false)
}

/// A hash to verify against when the email is unknown, so a miss takes as long as a hit.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    Argon2::default()
        .hash_password(b"no such user")
        .map(|h| h.to_string())
        .unwrap_or_default()
});

/// A new API key secret: 256 random bits behind a recognisable prefix.
pub fn new_api_key_secret() -> String {
    format!("{API_KEY_PREFIX}{}", random_hex(32))
}

pub fn staff_actor(user: &StaffUser) -> Actor {
    Actor {
        kind: ActorKind::Staff,
        id: Some(user.id.clone()),
        label: user.email.clone(),
    }
}

/// A live staff session with its user.
#[derive(Debug, Clone)]
pub struct StaffSession {
    pub token_hash: String,
    pub csrf_token: String,
    pub flash: Option<String>,
    pub user: StaffUser,
}

/// The session a cookie token names; expired sessions and disabled users count as none.
/// `take_flash` hands out the one-time message and clears it.
pub async fn session(ctx: &Ctx, token: &str, take_flash: bool) -> AppResult<Option<StaffSession>> {
    let token_hash = sha256_hex(token);
    let s = &ctx.settings;
    let mut conn = ctx.store.conn().await?;
    let Some(session) = sessions::touch(
        &mut conn,
        Realm::Staff,
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
    let Some(user) = users::get(&mut conn, &session.user_id)
        .await?
        .filter(StaffUser::is_active)
    else {
        sessions::delete(&mut conn, Realm::Staff, &token_hash).await?;
        return Ok(None);
    };
    Ok(Some(StaffSession {
        token_hash,
        csrf_token: session.csrf_token,
        flash: session.flash,
        user,
    }))
}

/// The active API key behind a bearer secret (only secrets' hashes are stored), from the
/// in-memory cache when it was loaded in the last few seconds (`key_cache`); a load marks it
/// used, at most once a minute.
pub async fn api_key(ctx: &Ctx, secret: &str) -> AppResult<Option<ApiKey>> {
    let hash = sha256_hex(secret);
    if let Some(key) = ctx.api_keys.get(&hash) {
        return Ok(Some(key));
    }
    let generation = ctx.api_keys.generation();
    let mut conn = ctx.store.conn().await?;
    let key = api_keys::authenticate(&mut conn, &hash).await?;
    if let Some(k) = &key {
        ctx.api_keys.put(&hash, k, generation);
    }
    Ok(key)
}

/// Keeps a one-time message on the session for the page a form redirects to.
pub async fn set_flash(ctx: &Ctx, session: &StaffSession, message: &str) -> AppResult<()> {
    let mut conn = ctx.store.conn().await?;
    Ok(sessions::set_flash(&mut conn, Realm::Staff, &session.token_hash, message).await?)
}

/// Records a refused action in the audit log; a failure to record is logged, never raised, so
/// the refusal itself still answers.
pub async fn audit_refusal(ctx: &Ctx, origin: &Origin, action: Action) {
    let result = async {
        let mut conn = ctx.store.conn().await?;
        audit::record(
            &mut conn,
            origin,
            "access.denied",
            "permission",
            Some(action.name()),
            None,
            None,
        )
        .await
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not audit a refusal");
    }
}

/// Ends a staff session (logging out), audited.
pub async fn logout(ctx: &Ctx, origin: &Origin, session: &StaffSession) -> AppResult<()> {
    let mut tx = ctx.store.begin().await?;
    sessions::delete(&mut tx, Realm::Staff, &session.token_hash).await?;
    audit::record(
        &mut tx,
        origin,
        "logout",
        "staff_user",
        Some(&session.user.id),
        None,
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Why a login failed.
#[derive(Debug)]
pub enum LoginFailure {
    Throttled { retry_after: u64 },
    Invalid,
}

/// A successful login: the new session's cookie token and its user.
#[derive(Debug)]
pub struct LoggedIn {
    pub token: String,
    pub user: StaffUser,
}

/// Seconds to wait before another sign-in may be tried with this email or from this address
/// (too many recent failures of either), or `None`. Staff and partner users share the count.
pub(crate) async fn throttled(
    ctx: &Ctx,
    conn: &mut vouch_store::Conn,
    email: &str,
    client_ip: &str,
) -> AppResult<Option<u64>> {
    let s = &ctx.settings;
    let window = s.login_window_minutes * 60;
    let (by_email, by_ip, oldest) = login_attempts::recent_failures(
        conn,
        email,
        client_ip,
        ctx.clock.ago(time::Duration::seconds(window)),
    )
    .await?;
    if by_email < s.login_max_failures && by_ip < s.login_max_failures {
        return Ok(None);
    }
    let wait = oldest
        .map(|t| {
            (t + time::Duration::seconds(window) - ctx.clock.now())
                .whole_seconds()
                .max(1)
        })
        .unwrap_or(window);
    Ok(Some(u64::try_from(wait).unwrap_or(1)))
}

/// A hash to verify against for an unknown address, computed off the async threads.
pub(crate) async fn dummy_hash() -> String {
    tokio::task::spawn_blocking(|| DUMMY_HASH.clone())
        .await
        .unwrap_or_default()
}

/// Checks credentials with throttling (per email and per address) and audits the outcome.
/// On success creates a fresh session and returns its cookie token.
pub async fn login(
    ctx: &Ctx,
    request_id: Option<&str>,
    client_ip: &str,
    email: &str,
    password: &str,
) -> AppResult<Result<LoggedIn, LoginFailure>> {
    let email = email.trim().to_lowercase();
    let mut conn = ctx.store.conn().await?;
    let retry_after = throttled(ctx, &mut conn, &email, client_ip).await?;
    let origin = Origin {
        actor: Actor {
            kind: ActorKind::Public,
            id: None,
            label: email.clone(),
        },
        request_id: request_id.map(str::to_string),
        client_ip: Some(client_ip.to_string()),
    };
    if let Some(retry_after) = retry_after {
        audit::record(
            &mut conn,
            &origin,
            "login.throttled",
            "staff_user",
            None,
            None,
            None,
        )
        .await?;
        return Ok(Err(LoginFailure::Throttled { retry_after }));
    }
    let user = users::by_email(&mut conn, &email).await?;
    drop(conn);
    let hash = match &user {
        Some(u) => u.password_hash.clone(),
        None => dummy_hash().await,
    };
    let password_ok = verify_password(password.to_string(), hash).await;
    let mut tx = ctx.store.begin().await?;
    match user.filter(|u| password_ok && u.is_active()) {
        Some(user) => {
            login_attempts::record(&mut tx, &email, client_ip, true).await?;
            let token = random_hex(32);
            sessions::create(
                &mut tx,
                Realm::Staff,
                &sha256_hex(&token),
                &user.id,
                &random_hex(32),
            )
            .await?;
            let origin = Origin {
                actor: staff_actor(&user),
                ..origin
            };
            audit::record(
                &mut tx,
                &origin,
                "login.succeeded",
                "staff_user",
                Some(&user.id),
                None,
                None,
            )
            .await?;
            tx.commit().await?;
            Ok(Ok(LoggedIn { token, user }))
        }
        None => {
            login_attempts::record(&mut tx, &email, client_ip, false).await?;
            audit::record(
                &mut tx,
                &origin,
                "login.failed",
                "staff_user",
                None,
                None,
                None,
            )
            .await?;
            tx.commit().await?;
            Ok(Err(LoginFailure::Invalid))
        }
    }
}
