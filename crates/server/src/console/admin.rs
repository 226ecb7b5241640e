//! Staff users, API keys, the audit log and password changes in the console.

use super::{Console, CsrfForm, FormErrors, Layout, StaffCan, error_page, ticked, with_status};
use crate::AppState;
use crate::api::admin::AuditParams;
use crate::auth::perm;
use crate::error::ApiError;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use vouch_domain::permission::Role;
use vouch_store::api_keys::ApiKey;
use vouch_store::audit;
use vouch_store::users::StaffUser;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(users_page).post(create_user))
        .route("/admin/users/{id}", post(update_user))
        .route("/admin/api-keys", get(keys_page).post(create_key))
        .route("/admin/api-keys/{id}/revoke", post(revoke_key))
        .route("/admin/audit", get(audit_page))
        .route("/admin/password", get(password_page).post(change_password))
        .route("/admin/account/time-zone", post(set_time_zone))
}

#[derive(Deserialize, Default, Clone)]
struct UserForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/users.html")]
struct UsersPage {
    l: Layout,
    users: Vec<StaffUser>,
    f: UserForm,
    errors: FormErrors,
    roles: Vec<&'static str>,
    me: String,
}

async fn render_users(
    mut console: Console,
    f: UserForm,
    errors: FormErrors,
    status: StatusCode,
) -> Response {
    match vouch_app::staff::list_users(&console.state).await {
        Ok(users) => {
            let me = console.session.user.id.clone();
            let roles = Role::ALL.iter().rev().map(|r| r.as_str()).collect();
            with_status(
                status,
                UsersPage {
                    l: console.layout("users"),
                    users,
                    f,
                    errors,
                    roles,
                    me,
                },
            )
        }
        Err(e) => error_page(&e.into()),
    }
}

async fn users_page(StaffCan(console, _): StaffCan<perm::UsersRead>) -> Response {
    let f = UserForm {
        role: "staff".into(),
        ..Default::default()
    };
    render_users(console, f, FormErrors::default(), StatusCode::OK).await
}

async fn create_user(
    StaffCan(console, _): StaffCan<perm::UsersManage>,
    CsrfForm(form): CsrfForm<UserForm>,
) -> Response {
    let by = console.session.user.role;
    match vouch_app::staff::create_user(
        &console.state,
        &console.origin,
        Some(by),
        &form.email,
        &form.name,
        &form.role,
        &form.password,
    )
    .await
    .map_err(ApiError::from)
    {
        Ok(u) => {
            console
                .redirect_with("/admin/users", &format!("User {} created.", u.email))
                .await
        }
        Err(err) if err.status.is_client_error() => {
            let errors = FormErrors::from_api(&err, "", &["email", "name", "role", "password"]);
            let status = if err.status == StatusCode::CONFLICT {
                StatusCode::CONFLICT
            } else {
                err.status
            };
            let f = UserForm {
                password: String::new(),
                ..form
            };
            render_users(console, f, errors, status).await
        }
        Err(err) => error_page(&err),
    }
}

#[derive(Deserialize, Default)]
struct UserUpdateForm {
    #[serde(default)]
    role: String,
    disabled: Option<String>,
}

async fn update_user(
    StaffCan(console, _): StaffCan<perm::UsersManage>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<UserUpdateForm>,
) -> Response {
    let by = console.session.user.role;
    let me = console.session.user.id.clone();
    let role = (!form.role.is_empty()).then_some(form.role.as_str());
    let outcome = vouch_app::staff::update_user(
        &console.state,
        &console.origin,
        by,
        &me,
        &id,
        role,
        Some(ticked(&form.disabled)),
    )
    .await
    .map_err(ApiError::from)
    .map(|u| format!("{} saved.", u.email));
    console.finish("/admin/users", outcome).await
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/api_keys.html")]
struct KeysPage {
    l: Layout,
    keys: Vec<ApiKey>,
    key_name: String,
    scope: String,
    errors: FormErrors,
    new_secret: Option<String>,
}

async fn render_keys(
    mut console: Console,
    name: String,
    scope: String,
    errors: FormErrors,
    new_secret: Option<String>,
    status: StatusCode,
) -> Response {
    match vouch_app::staff::list_api_keys(&console.state).await {
        Ok(keys) => with_status(
            status,
            KeysPage {
                l: console.layout("api-keys"),
                keys,
                key_name: name,
                scope,
                errors,
                new_secret,
            },
        ),
        Err(e) => error_page(&e.into()),
    }
}

async fn keys_page(StaffCan(console, _): StaffCan<perm::ApiKeysManage>) -> Response {
    render_keys(
        console,
        String::new(),
        "read".into(),
        FormErrors::default(),
        None,
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize, Default)]
struct KeyForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    scope: String,
}

/// Shows the new secret on the response page itself, once; it is never stored in the clear.
async fn create_key(
    StaffCan(console, _): StaffCan<perm::ApiKeysManage>,
    CsrfForm(form): CsrfForm<KeyForm>,
) -> Response {
    match vouch_app::staff::create_api_key(&console.state, &console.origin, &form.name, &form.scope)
        .await
        .map_err(ApiError::from)
    {
        Ok((_, secret)) => {
            render_keys(
                console,
                String::new(),
                "read".into(),
                FormErrors::default(),
                Some(secret),
                StatusCode::CREATED,
            )
            .await
        }
        Err(err) if err.status.is_client_error() => {
            let errors = FormErrors::from_api(&err, "", &["name", "scope"]);
            render_keys(console, form.name, form.scope, errors, None, err.status).await
        }
        Err(err) => error_page(&err),
    }
}

#[derive(Deserialize, Default)]
struct EmptyForm {}

async fn revoke_key(
    StaffCan(console, _): StaffCan<perm::ApiKeysManage>,
    Path(id): Path<String>,
    CsrfForm(_form): CsrfForm<EmptyForm>,
) -> Response {
    match vouch_app::staff::revoke_api_key(&console.state, &console.origin, &id)
        .await
        .map_err(ApiError::from)
    {
        Ok(k) => {
            console
                .redirect_with("/admin/api-keys", &format!("Key “{}” revoked.", k.name))
                .await
        }
        Err(err) => error_page(&err),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    l: Layout,
    p: AuditParams,
    rows: Vec<audit::Entry>,
    next_url: Option<String>,
}

async fn audit_page(
    StaffCan(mut console, _): StaffCan<perm::AuditRead>,
    query: Result<Query<AuditParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    // A hand-edited address (a cursor that is not an id) gets a page saying so, not a bare 400.
    let Ok(Query(p)) = query else {
        return error_page(&crate::error::ApiError::field(
            "starting_after",
            "must be the id of an audit entry; start again from the audit log",
        ));
    };
    let limit = 50;
    let mut rows = match vouch_app::audit::list_entries(&console.state, &p.filter(limit)).await {
        Ok(r) => r,
        Err(e) => return error_page(&e.into()),
    };
    let has_more = rows.len() > 50;
    rows.truncate(50);
    let next_url = if has_more {
        rows.last().map(|last| {
            let mut s = form_urlencoded::Serializer::new(String::new());
            for (k, v) in [
                ("action", &p.action),
                ("entity", &p.entity),
                ("entity_id", &p.entity_id),
                ("actor", &p.actor),
            ] {
                if let Some(v) = v {
                    s.append_pair(k, v);
                }
            }
            s.append_pair("starting_after", &last.id);
            format!("/admin/audit?{}", s.finish())
        })
    } else {
        None
    };
    AuditPage {
        l: console.layout("audit"),
        p,
        rows,
        next_url,
    }
    .into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/password.html")]
struct PasswordPage {
    l: Layout,
    errors: FormErrors,
    /// The user's own choice (empty: the installation's).
    time_zone: String,
    default_zone: String,
    zones: &'static [&'static str],
}

impl PasswordPage {
    fn new(console: &mut Console, errors: FormErrors, time_zone: Option<String>) -> Self {
        Self {
            time_zone: time_zone
                .or_else(|| console.session.user.time_zone.clone())
                .unwrap_or_default(),
            default_zone: console.state.settings.time_zone.clone(),
            zones: vouch_domain::time_zones::ZONES,
            l: console.layout(""),
            errors,
        }
    }
}

async fn password_page(mut console: Console) -> Response {
    PasswordPage::new(&mut console, FormErrors::default(), None).into_response()
}

#[derive(Deserialize, Default)]
struct TimeZoneForm {
    #[serde(default)]
    time_zone: String,
}

async fn set_time_zone(mut console: Console, CsrfForm(form): CsrfForm<TimeZoneForm>) -> Response {
    match vouch_app::staff::set_time_zone(
        &console.state,
        &console.origin,
        &console.session,
        &form.time_zone,
    )
    .await
    {
        Ok(zone) => {
            let message = match zone {
                Some(z) => format!("Times now show in {z}."),
                None => format!(
                    "Times now show in the installation's time zone ({}).",
                    console.state.settings.time_zone
                ),
            };
            console.redirect_with("/admin/password", &message).await
        }
        Err(err) => {
            let err = ApiError::from(err);
            if err.status.is_client_error() {
                let errors = FormErrors::from_api(&err, "", &["time_zone"]);
                let page = PasswordPage::new(&mut console, errors, Some(form.time_zone));
                with_status(StatusCode::UNPROCESSABLE_ENTITY, page)
            } else {
                error_page(&err)
            }
        }
    }
}

#[derive(Deserialize, Default)]
struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

async fn change_password(mut console: Console, CsrfForm(form): CsrfForm<PasswordForm>) -> Response {
    let result = if form.new_password != form.confirm_password {
        Err(ApiError::field(
            "confirm_password",
            "does not match the new password",
        ))
    } else {
        vouch_app::staff::change_password(
            &console.state,
            &console.origin,
            &console.session,
            &form.current_password,
            &form.new_password,
        )
        .await
        .map_err(ApiError::from)
    };
    match result {
        Ok(()) => {
            console
                .redirect_with(
                    "/admin/accounts",
                    "Password changed. Your other sessions were logged out.",
                )
                .await
        }
        Err(err) if err.status.is_client_error() => {
            let errors = FormErrors::from_api(
                &err,
                "",
                &["current_password", "new_password", "confirm_password"],
            );
            with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                PasswordPage::new(&mut console, errors, None),
            )
        }
        Err(err) => error_page(&err),
    }
}
