//! `/api/v1/staff-users`, `/api/v1/api-keys` and `/api/v1/audit-events`.

use super::{ApiJson, ApiQuery, Page, check_limit, page};
use crate::AppState;
use crate::auth::{Caller, Can, Principal, perm};
use crate::error::{ApiError, ApiResult};
use crate::service;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use vouch_store::api_keys::ApiKey;
use vouch_store::audit;
use vouch_store::users::{self, StaffUser};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/staff-users", get(list_users).post(create_user))
        .route("/staff-users/{id}", get(show_user).patch(update_user))
        .route("/api-keys", get(list_keys).post(create_key))
        .route("/api-keys/{id}/revoke", post(revoke_key))
        .route("/audit-events", get(list_audit))
        .route("/me", get(me))
}

#[derive(Debug, Serialize)]
struct MeOut {
    kind: &'static str,
    id: String,
    label: String,
    /// Staff role, for a session.
    role: Option<String>,
    /// Key scope, for an API key.
    scope: Option<String>,
    /// For a session: send it as `x-csrf-token` on cookie-authenticated writes.
    csrf_token: Option<String>,
}

/// Who the credentials belong to; any authenticated caller may ask.
async fn me(caller: Caller) -> Json<MeOut> {
    Json(match caller.principal {
        Principal::Staff(s) => MeOut {
            kind: "staff",
            id: s.user.id.clone(),
            label: s.user.email.clone(),
            role: Some(s.user.role.to_string()),
            scope: None,
            csrf_token: Some(s.csrf_token.clone()),
        },
        Principal::ApiKey { id, name, scope } => MeOut {
            kind: "api_key",
            id,
            label: name,
            role: None,
            scope: Some(scope.to_string()),
            csrf_token: None,
        },
    })
}

async fn list_users(
    State(state): State<AppState>,
    _: Can<perm::UsersRead>,
) -> ApiResult<Json<Page<StaffUser>>> {
    let mut conn = state.store.conn().await?;
    let data = users::list(&mut conn).await?;
    Ok(Json(Page {
        data,
        has_more: false,
        next_cursor: None,
    }))
}

async fn show_user(
    State(state): State<AppState>,
    _: Can<perm::UsersRead>,
    Path(id): Path<String>,
) -> ApiResult<Json<StaffUser>> {
    let mut conn = state.store.conn().await?;
    users::get(&mut conn, &id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("staff user"))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserIn {
    email: String,
    #[serde(default)]
    name: String,
    role: String,
    password: String,
}

async fn create_user(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::UsersManage>,
    ApiJson(body): ApiJson<UserIn>,
) -> ApiResult<(StatusCode, Json<StaffUser>)> {
    // An admin-scoped API key acts with an admin's authority, never an owner's.
    let by = caller
        .staff_role()
        .unwrap_or(vouch_domain::permission::Role::Admin);
    let user = service::create_user(
        &state,
        &caller.origin,
        Some(by),
        &body.email,
        &body.name,
        &body.role,
        &body.password,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserPatch {
    role: Option<String>,
    disabled: Option<bool>,
}

async fn update_user(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::UsersManage>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UserPatch>,
) -> ApiResult<Json<StaffUser>> {
    let (by, by_id) = match &caller.principal {
        Principal::Staff(s) => (s.user.role, s.user.id.clone()),
        Principal::ApiKey { id, .. } => (vouch_domain::permission::Role::Admin, id.clone()),
    };
    let user = service::update_user(
        &state,
        &caller.origin,
        by,
        &by_id,
        &id,
        body.role.as_deref(),
        body.disabled,
    )
    .await?;
    Ok(Json(user))
}

async fn list_keys(
    State(state): State<AppState>,
    _: Can<perm::ApiKeysManage>,
) -> ApiResult<Json<Page<ApiKey>>> {
    let mut conn = state.store.conn().await?;
    let data = vouch_store::api_keys::list(&mut conn).await?;
    Ok(Json(Page {
        data,
        has_more: false,
        next_cursor: None,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyIn {
    name: String,
    scope: String,
}

#[derive(Debug, Serialize)]
struct NewKeyOut {
    #[serde(flatten)]
    key: ApiKey,
    /// Shown once; only a hash is stored.
    secret: String,
}

async fn create_key(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::ApiKeysManage>,
    ApiJson(body): ApiJson<KeyIn>,
) -> ApiResult<(StatusCode, Json<NewKeyOut>)> {
    let (key, secret) =
        service::create_api_key(&state, &caller.origin, &body.name, &body.scope).await?;
    Ok((StatusCode::CREATED, Json(NewKeyOut { key, secret })))
}

async fn revoke_key(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::ApiKeysManage>,
    Path(id): Path<String>,
) -> ApiResult<Json<ApiKey>> {
    Ok(Json(
        service::revoke_api_key(&state, &caller.origin, &id).await?,
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// An action, or a prefix such as `account.`.
    pub action: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    /// A staff email, API key name, or actor id.
    pub actor: Option<String>,
    pub limit: Option<i64>,
    pub starting_after: Option<String>,
}

impl AuditParams {
    pub fn filter(&self, limit: i64) -> audit::Filter {
        let clean = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        audit::Filter {
            action: clean(&self.action),
            entity: clean(&self.entity),
            entity_id: clean(&self.entity_id),
            actor: clean(&self.actor),
            starting_after: clean(&self.starting_after),
            limit,
        }
    }
}

async fn list_audit(
    State(state): State<AppState>,
    _: Can<perm::AuditRead>,
    ApiQuery(p): ApiQuery<AuditParams>,
) -> ApiResult<Json<Page<audit::Entry>>> {
    let limit = check_limit(p.limit)?;
    let mut conn = state.store.conn().await?;
    let rows = audit::list(&mut conn, &p.filter(limit)).await?;
    Ok(Json(page(rows, limit, |e| e.id.clone(), |e| e)))
}
