//! Authentication: argon2id passwords, staff sessions, API keys, CSRF, login throttling, and the
//! [`Caller`] extractor through which every API handler learns who is asking and checks what
//! they may do against the permission table in `vouch_domain::permission`.

use crate::error::{ApiError, ApiResult};
use crate::request::Meta;
use crate::{AppState, Settings};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};
use rand::RngCore;
use sha2::{Digest, Sha256};
use vouch_domain::permission::{Action, Role, Scope, role_allows, scope_allows};
use vouch_store::audit::{self, Actor, ActorKind, Origin};
use vouch_store::users::StaffUser;
use vouch_store::{api_keys, login_attempts, sessions, users};

pub const API_KEY_PREFIX: &str = "vouch_sk_";
pub const CSRF_HEADER: &str = "x-csrf-token";

pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

pub fn sha256_hex(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// Hashes with argon2id at the OWASP parameters (19 MiB, t=2, p=1) off the async threads.
pub async fn hash_password(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
    })
    .await
    .map_err(|_| ApiError::internal())?
    .map_err(|e| {
        tracing::error!(error = %e, "password hashing failed");
        ApiError::internal()
    })
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

pub fn session_cookie_name(settings: &Settings) -> &'static str {
    // The __Host- prefix makes the browser refuse the cookie unless it is Secure, host-only and
    // path=/; it is only available over https.
    if settings.secure_cookies() {
        "__Host-vouch_session"
    } else {
        "vouch_session"
    }
}

pub fn session_cookie(settings: &Settings, token: &str) -> String {
    let secure = if settings.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax{secure}",
        session_cookie_name(settings)
    )
}

pub fn clear_session_cookie(settings: &Settings) -> String {
    let secure = if settings.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}",
        session_cookie_name(settings)
    )
}

/// The value of the request cookie `name`, if present.
pub fn cookie_value<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
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

/// Looks up the session cookie; expired sessions and disabled users count as none.
pub async fn load_session(
    state: &AppState,
    parts: &Parts,
    take_flash: bool,
) -> ApiResult<Option<StaffSession>> {
    let Some(token) = cookie_value(&parts.headers, session_cookie_name(&state.settings)) else {
        return Ok(None);
    };
    let token_hash = sha256_hex(token);
    let s = &state.settings;
    let mut conn = state.store.conn().await?;
    let Some(session) = sessions::touch(
        &mut conn,
        &token_hash,
        &vouch_store::seconds_ago(s.session_idle_minutes * 60),
        &vouch_store::seconds_ago(s.session_absolute_hours * 3600),
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
        sessions::delete(&mut conn, &token_hash).await?;
        return Ok(None);
    };
    Ok(Some(StaffSession {
        token_hash,
        csrf_token: session.csrf_token,
        flash: session.flash,
        user,
    }))
}

/// Who is calling the API.
#[derive(Debug, Clone)]
pub enum Principal {
    Staff(Box<StaffSession>),
    ApiKey {
        id: String,
        name: String,
        scope: Scope,
    },
}

#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub origin: Origin,
}

impl Caller {
    pub fn may(&self, action: Action) -> bool {
        match &self.principal {
            Principal::Staff(s) => role_allows(s.user.role, action),
            Principal::ApiKey { scope, .. } => scope_allows(*scope, action),
        }
    }

    /// Refuses (403, audited) unless the caller may perform `action`.
    pub async fn require(&self, state: &AppState, action: Action) -> ApiResult<()> {
        if self.may(action) {
            return Ok(());
        }
        audit_refusal(state, &self.origin, action).await;
        Err(ApiError::forbidden(format!(
            "your role or key scope does not allow {}",
            action.name()
        )))
    }

    pub fn staff_role(&self) -> Option<Role> {
        match &self.principal {
            Principal::Staff(s) => Some(s.user.role),
            Principal::ApiKey { .. } => None,
        }
    }
}

pub async fn audit_refusal(state: &AppState, origin: &Origin, action: Action) {
    let result = async {
        let mut conn = state.store.conn().await?;
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

fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        // Already authenticated for this request (by the idempotency middleware).
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let meta = Meta::from_request_parts(parts, state)
            .await
            .unwrap_or_else(|e| match e {});
        if let Some(secret) = bearer(parts) {
            let mut conn = state.store.conn().await?;
            let key = api_keys::authenticate(&mut conn, &sha256_hex(secret))
                .await?
                .ok_or_else(|| {
                    ApiError::new(
                        axum::http::StatusCode::UNAUTHORIZED,
                        "invalid_api_key",
                        "the API key is unknown or revoked",
                    )
                })?;
            let origin = Origin {
                actor: Actor {
                    kind: ActorKind::ApiKey,
                    id: Some(key.id.clone()),
                    label: key.name.clone(),
                },
                request_id: meta.request_id,
                client_ip: Some(meta.client_ip),
            };
            return Ok(Self {
                principal: Principal::ApiKey {
                    id: key.id,
                    name: key.name,
                    scope: key.scope,
                },
                origin,
            });
        }
        let session = load_session(state, parts, false)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        // A cookie rides along on cross-site requests too; writes must prove they come from our
        // own pages by echoing the session's CSRF token.
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !constant_time_eq(sent, &session.csrf_token) {
                return Err(ApiError::forbidden(format!(
                    "cookie-authenticated writes need the {CSRF_HEADER} header with the session's CSRF token"
                ))
                .with_code("csrf_failed"));
            }
        }
        let origin = Origin {
            actor: staff_actor(&session.user),
            request_id: meta.request_id,
            client_ip: Some(meta.client_ip),
        };
        Ok(Self {
            principal: Principal::Staff(Box::new(session)),
            origin,
        })
    }
}

pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Why a login failed.
#[derive(Debug)]
pub enum LoginFailure {
    Throttled { retry_after: u64 },
    Invalid,
}

/// Checks credentials with throttling (per email and per address) and audits the outcome.
/// On success creates a fresh session and returns its cookie token.
pub async fn login(
    state: &AppState,
    meta: &Meta,
    email: &str,
    password: &str,
) -> ApiResult<Result<(String, StaffUser), LoginFailure>> {
    let email = email.trim().to_lowercase();
    let s = &state.settings;
    let window = s.login_window_minutes * 60;
    let mut conn = state.store.conn().await?;
    let (by_email, by_ip, oldest) = login_attempts::recent_failures(
        &mut conn,
        &email,
        &meta.client_ip,
        &vouch_store::seconds_ago(window),
    )
    .await?;
    let origin = Origin {
        actor: Actor {
            kind: ActorKind::Public,
            id: None,
            label: email.clone(),
        },
        request_id: meta.request_id.clone(),
        client_ip: Some(meta.client_ip.clone()),
    };
    if by_email >= s.login_max_failures || by_ip >= s.login_max_failures {
        let retry_after = oldest
            .and_then(|t| {
                time::OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339).ok()
            })
            .map(|t| {
                (t + time::Duration::seconds(window) - time::OffsetDateTime::now_utc())
                    .whole_seconds()
                    .max(1)
            })
            .unwrap_or(window);
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
        return Ok(Err(LoginFailure::Throttled {
            retry_after: u64::try_from(retry_after).unwrap_or(1),
        }));
    }
    let user = users::by_email(&mut conn, &email).await?;
    drop(conn);
    let hash = match &user {
        Some(u) => u.password_hash.clone(),
        None => tokio::task::spawn_blocking(|| DUMMY_HASH.clone())
            .await
            .unwrap_or_default(),
    };
    let password_ok = verify_password(password.to_string(), hash).await;
    let mut tx = state.store.begin().await?;
    match user.filter(|u| password_ok && u.is_active()) {
        Some(user) => {
            login_attempts::record(&mut tx, &email, &meta.client_ip, true).await?;
            let token = random_hex(32);
            sessions::create(&mut tx, &sha256_hex(&token), &user.id, &random_hex(32)).await?;
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
            tx.commit().await.map_err(vouch_store::StoreError::from)?;
            Ok(Ok((token, user)))
        }
        None => {
            login_attempts::record(&mut tx, &email, &meta.client_ip, false).await?;
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
            tx.commit().await.map_err(vouch_store::StoreError::from)?;
            Ok(Err(LoginFailure::Invalid))
        }
    }
}

/// An action as a type, so a handler states in its signature what it needs and the check runs
/// before the body is even parsed.
pub trait Permission {
    const ACTION: Action;
}

/// Marker types for [`Can`], one per [`Action`].
pub mod perm {
    use super::{Action, Permission};

    macro_rules! permissions {
        ($($name:ident),* $(,)?) => {
            $(
                pub struct $name;
                impl Permission for $name {
                    const ACTION: Action = Action::$name;
                }
            )*
        };
    }

    permissions!(
        AccountsRead,
        AccountsWrite,
        SetupsRead,
        SetupsRequest,
        SetupsDecide,
        AuditRead,
        UsersRead,
        UsersManage,
        ApiKeysManage,
        WebhooksManage,
        EmailsManage,
        ProgramsRead,
        ProgramsWrite,
        ProgramsPublish,
        RewardsManage
    );
}

/// A caller that passed the permission check for `P` (401 without credentials, 403 without
/// the role or scope).
pub struct Can<P>(pub Caller, pub std::marker::PhantomData<P>);

impl<P: Permission> FromRequestParts<AppState> for Can<P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let caller = Caller::from_request_parts(parts, state).await?;
        caller.require(state, P::ACTION).await?;
        Ok(Self(caller, std::marker::PhantomData))
    }
}
