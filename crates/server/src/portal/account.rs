//! My Account: everyone with access to the partner's portal; admins invite and remove
//! colleagues (never themselves, so a partner always keeps an admin who can act).

use super::{Portal, PortalAdmin, PortalLayout};
use crate::AppState;
use crate::console::{CsrfForm, FormErrors, error_page, form_status, with_status};
use crate::error::ApiError;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use vouch_app::partner_users::{self as svc, PartnerUserOut};
use vouch_domain::partner_user::PartnerRole;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/portal/account", get(page))
        .route("/portal/account/users", post(invite))
        .route("/portal/account/users/{id}/remove", post(remove))
}

#[derive(Deserialize, Default, Clone)]
struct InviteForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/account.html")]
struct AccountPage {
    l: PortalLayout,
    me: String,
    email: String,
    users: Vec<PartnerUserOut>,
    f: InviteForm,
    errors: FormErrors,
}

async fn account_page(
    portal: &mut Portal,
    f: InviteForm,
    errors: FormErrors,
) -> Result<AccountPage, ApiError> {
    let users = svc::users_of(&portal.state, portal.partner_id()).await?;
    Ok(AccountPage {
        l: portal.layout("account"),
        me: portal.session.user.id.clone(),
        email: portal.session.user.email.clone(),
        users,
        f,
        errors,
    })
}

async fn page(mut portal: Portal) -> Response {
    let blank = InviteForm {
        role: "member".into(),
        ..Default::default()
    };
    match account_page(&mut portal, blank, FormErrors::default()).await {
        Ok(p) => p.into_response(),
        Err(e) => error_page(&e),
    }
}

async fn invite(
    PortalAdmin(mut portal): PortalAdmin,
    CsrfForm(form): CsrfForm<InviteForm>,
) -> Response {
    let result = async {
        let role = form
            .role
            .parse::<PartnerRole>()
            .map_err(|m| ApiError::field("role", m))?;
        svc::invite(
            &portal.state,
            &portal.origin,
            portal.partner_id(),
            &form.email,
            &form.name,
            role,
        )
        .await
        .map_err(ApiError::from)
    }
    .await;
    // An address with portal access at another partner answers like a fresh invitation, so
    // the form tells nobody who works with which partner.
    let taken = |err: &ApiError| {
        err.status == axum::http::StatusCode::CONFLICT
            && err.errors.iter().any(|e| e.field == "email")
    };
    match result {
        Ok(_) => invited(&portal, &form.email).await,
        Err(err) if taken(&err) => invited(&portal, &form.email).await,
        Err(err) if err.status.is_client_error() && err.status.as_u16() != 404 => {
            let errors = FormErrors::from_api(&err, "", &["email", "name", "role"]);
            match account_page(&mut portal, form, errors).await {
                Ok(p) => with_status(form_status(&err), p),
                Err(e) => error_page(&e),
            }
        }
        Err(err) => error_page(&err),
    }
}

async fn invited(portal: &Portal, email: &str) -> Response {
    portal
        .redirect_with(
            "/portal/account",
            &format!(
                "An invitation to {} is on its way, unless that address already has access to a partner portal.",
                email.trim()
            ),
        )
        .await
}

#[derive(Deserialize)]
struct Empty {}

async fn remove(
    PortalAdmin(portal): PortalAdmin,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Response {
    if id == portal.session.user.id {
        return portal
            .redirect_with(
                "/portal/account",
                "Not done: you cannot remove yourself; ask another admin.",
            )
            .await;
    }
    match svc::remove(&portal.state, &portal.origin, portal.partner_id(), &id).await {
        Ok(()) => {
            portal
                .redirect_with("/portal/account", "Access removed: their sessions ended.")
                .await
        }
        Err(e) => error_page(&e.into()),
    }
}
