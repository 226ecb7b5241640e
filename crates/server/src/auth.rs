//! Authentication on the wire: the session cookie, bearer API keys, CSRF, and the
//! [`Caller`] extractor through which every API handler learns who is asking and checks what
//! they may do against the permission table in `vouch_domain::permission`.

use crate::error::{ApiError, ApiResult};
use crate::request::Meta;
use crate::{AppState, Settings};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};
use vouch_app::auth::audit_refusal;
pub use vouch_app::auth::{StaffSession, staff_actor};
use vouch_domain::permission::{Action, Role, Scope, role_allows, scope_allows};
use vouch_store::audit::{Actor, ActorKind, Origin};

pub const CSRF_HEADER: &str = "x-csrf-token";

/// Cookies carry `Secure` (and the `__Host-` prefix) when the installation is served over
/// https.
pub fn secure_cookies(settings: &Settings) -> bool {
    settings.base_url.starts_with("https://")
}

pub fn session_cookie_name(settings: &Settings) -> &'static str {
    // The __Host- prefix makes the browser refuse the cookie unless it is Secure, host-only and
    // path=/; it is only available over https.
    if secure_cookies(settings) {
        "__Host-vouch_session"
    } else {
        "vouch_session"
    }
}

/// The partner portal's session cookie: another name, so a staff cookie is never sent as a
/// portal session nor the reverse (and the two tables could not match anyway).
pub fn portal_cookie_name(settings: &Settings) -> &'static str {
    if secure_cookies(settings) {
        "__Host-vouch_portal"
    } else {
        "vouch_portal"
    }
}

/// The portal's session cookie (removed when `clear`).
pub fn portal_cookie(
    settings: &Settings,
    token: &str,
    clear: bool,
) -> Option<axum::http::HeaderValue> {
    let name = portal_cookie_name(settings);
    if clear {
        crate::cookies::clear(settings, name, "/")
    } else {
        crate::cookies::set(
            settings,
            name,
            token,
            crate::cookies::Options::lax("/", None),
        )
    }
}

pub fn session_cookie(settings: &Settings, token: &str) -> Option<axum::http::HeaderValue> {
    crate::cookies::set(
        settings,
        session_cookie_name(settings),
        token,
        crate::cookies::Options::lax("/", None),
    )
}

pub fn clear_session_cookie(settings: &Settings) -> Option<axum::http::HeaderValue> {
    crate::cookies::clear(settings, session_cookie_name(settings), "/")
}

/// The value of the request cookie `name`, if present.
pub fn cookie_value<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    crate::cookies::value(headers, name)
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
            let key = vouch_app::auth::api_key(state, secret)
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

/// Looks up the session cookie; expired sessions and disabled users count as none.
pub async fn load_session(
    state: &AppState,
    parts: &Parts,
    take_flash: bool,
) -> ApiResult<Option<StaffSession>> {
    let Some(token) = cookie_value(&parts.headers, session_cookie_name(&state.settings)) else {
        return Ok(None);
    };
    Ok(vouch_app::auth::session(state, token, take_flash).await?)
}

/// Compares secrets (CSRF tokens) in time that does not depend on where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
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
        ReferralsReview,
        RewardsManage,
        PeopleRead,
        PeopleWrite,
        TermsManage,
        SalesRead,
        SalesWrite,
        SalesApprove,
        PayoutsPrepare,
        PayoutsManage,
        PrivacyManage,
        PartnersRead,
        PartnersWrite
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
