//! The partner portal (`/portal`, seed 003): partner users sign in with their own sessions and
//! CSRF tokens (a staff cookie never opens it), submit referrals, view every referral of their
//! partner in both directions (sorted by any column, one search box, totals), edit notes,
//! stage and value, and see who has access ("My Account"; admins invite and remove
//! colleagues). Every page is scoped to the signed-in user's partner: another partner's
//! referral is "not found".

mod account;
mod referrals;
mod sign_in;

use crate::AppState;
use crate::auth::{cookie_value, portal_cookie_name};
use crate::console::{SessionCsrf, error_page};
use crate::error::ApiError;
use crate::request::Meta;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use vouch_app::partner_users::{PortalSession, actor};
use vouch_domain::partner_user::PartnerRole;
use vouch_store::audit::Origin;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(sign_in::routes())
        .merge(referrals::routes())
        .merge(account::routes())
        // Invitation and reset links carry their token in the address: never pass it on.
        .layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
            axum::http::header::REFERRER_POLICY,
            axum::http::HeaderValue::from_static("no-referrer"),
        ))
}

/// What the portal's layout shows.
pub struct PortalLayout {
    pub section: &'static str,
    pub partner: String,
    pub user: String,
    pub csrf: String,
    pub flash: Option<String>,
    pub is_admin: bool,
}

/// A signed-in partner user on a portal page.
pub struct Portal {
    pub state: AppState,
    pub session: PortalSession,
    pub origin: Origin,
}

impl Portal {
    pub fn layout(&mut self, section: &'static str) -> PortalLayout {
        PortalLayout {
            section,
            partner: self.session.partner.name.clone(),
            user: self.session.user.name.clone(),
            csrf: self.session.csrf_token.clone(),
            flash: self.session.flash.take(),
            is_admin: self.session.user.role == PartnerRole::Admin,
        }
    }

    pub fn partner_id(&self) -> &str {
        &self.session.partner.id
    }

    /// Back to `to` with a one-time message.
    pub async fn redirect_with(&self, to: &str, message: &str) -> Response {
        if let Err(e) =
            vouch_app::partner_users::set_flash(&self.state, &self.session, message).await
        {
            tracing::warn!(error = %e, "could not store a portal flash message");
        }
        Redirect::to(to).into_response()
    }
}

impl FromRequestParts<AppState> for Portal {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let meta = Meta::from_request_parts(parts, state)
            .await
            .unwrap_or_else(|e| match e {});
        let take_flash = parts.method == axum::http::Method::GET;
        let token = cookie_value(&parts.headers, portal_cookie_name(&state.settings));
        let session = match token {
            Some(t) => vouch_app::partner_users::session(state, t, take_flash)
                .await
                .map_err(|e| error_page(&ApiError::from(e)))?,
            None => None,
        };
        let Some(session) = session else {
            return Err(Redirect::to("/portal/login").into_response());
        };
        parts
            .extensions
            .insert(SessionCsrf(session.csrf_token.clone()));
        Ok(Self {
            state: state.clone(),
            origin: Origin {
                actor: actor(&session.user),
                request_id: meta.request_id,
                client_ip: Some(meta.client_ip),
            },
            session,
        })
    }
}

/// A partner admin: the "My Account" forms that invite and remove colleagues.
pub struct PortalAdmin(pub Portal);

impl FromRequestParts<AppState> for PortalAdmin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let portal = Portal::from_request_parts(parts, state).await?;
        if portal.session.user.role != PartnerRole::Admin {
            return Err(error_page(&ApiError::forbidden(
                "Only your company's portal admins invite and remove colleagues.",
            )));
        }
        Ok(Self(portal))
    }
}
