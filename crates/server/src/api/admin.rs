//! `/api/v1/staff-users`, `/api/v1/api-keys` and `/api/v1/audit-events`.

use super::{ApiJson, ApiQuery, Page, check_limit, page};
use crate::AppState;
use crate::auth::{Caller, Can, Principal, perm};
use crate::error::ApiResult;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vouch_app::resources::{ApiKey, AuditEvent, StaffUser};
use vouch_domain::permission::{Role, Scope};
use vouch_store::audit;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(show_user, update_user))
        .routes(routes!(list_keys, create_key))
        .routes(routes!(revoke_key))
        .routes(routes!(list_audit))
        .routes(routes!(me))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
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
#[utoipa::path(
    operation_id = "get_me",
    get,
    path = "/api/v1/me",
    tag = "administration",
    responses((status = 200, description = "OK", body = MeOut), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
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

#[utoipa::path(
    operation_id = "list_staff_users",
    get,
    path = "/api/v1/staff-users",
    tag = "administration",
    responses((status = 200, description = "OK", body = Page<StaffUser>), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// List staff users.
async fn list_users(
    State(state): State<AppState>,
    _: Can<perm::UsersRead>,
) -> ApiResult<Json<Page<StaffUser>>> {
    let data = vouch_app::staff::list_users(&state).await?;
    Ok(Json(Page {
        data: data.into_iter().map(Into::into).collect(),
        has_more: false,
        next_cursor: None,
    }))
}

#[utoipa::path(
    operation_id = "get_staff_user",
    get,
    path = "/api/v1/staff-users/{id}",
    tag = "administration",
    params(("id" = String, Path, description = "User id (usr_…)")),
    responses((status = 200, description = "OK", body = StaffUser), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Get a staff user.
async fn show_user(
    State(state): State<AppState>,
    _: Can<perm::UsersRead>,
    Path(id): Path<String>,
) -> ApiResult<Json<StaffUser>> {
    Ok(Json(vouch_app::staff::get_user(&state, &id).await?.into()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct UserIn {
    /// Unique among staff users (409 when taken).
    #[schema(max_length = 254, format = Email, example = "sam@example.com")]
    email: String,
    /// Defaults to the part of the email before `@`.
    #[serde(default)]
    #[schema(max_length = 200)]
    name: String,
    /// A role above your own is refused (403).
    #[schema(value_type = Role)]
    role: String,
    /// 8 to 128 characters; one of the most common passwords is refused (422).
    #[schema(min_length = 8, max_length = 128, format = Password)]
    password: String,
}

#[utoipa::path(
    operation_id = "create_staff_user",
    post,
    path = "/api/v1/staff-users",
    tag = "administration",
    request_body = UserIn,
    responses((status = 201, description = "Created", body = StaffUser), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Create a staff user with a role no higher than your own.
async fn create_user(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::UsersManage>,
    ApiJson(body): ApiJson<UserIn>,
) -> ApiResult<(StatusCode, Json<StaffUser>)> {
    // An admin-scoped API key acts with an admin's authority, never an owner's.
    let by = caller
        .staff_role()
        .unwrap_or(vouch_domain::permission::Role::Admin);
    let user = vouch_app::staff::create_user(
        &state,
        &caller.origin,
        Some(by),
        &body.email,
        &body.name,
        &body.role,
        &body.password,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct UserPatch {
    /// A role above your own is refused (403); you cannot demote yourself (422).
    #[schema(value_type = Option<Role>)]
    role: Option<String>,
    /// A disabled user cannot log in; their sessions end. You cannot disable yourself (422).
    disabled: Option<bool>,
}

#[utoipa::path(
    operation_id = "update_staff_user",
    patch,
    path = "/api/v1/staff-users/{id}",
    tag = "administration",
    params(("id" = String, Path, description = "User id (usr_…)")),
    request_body = UserPatch,
    responses((status = 200, description = "OK", body = StaffUser), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Change a staff user's role, or disable them (their sessions end).
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
    let user = vouch_app::staff::update_user(
        &state,
        &caller.origin,
        by,
        &by_id,
        &id,
        body.role.as_deref(),
        body.disabled,
    )
    .await?;
    Ok(Json(user.into()))
}

#[utoipa::path(
    operation_id = "list_api_keys",
    get,
    path = "/api/v1/api-keys",
    tag = "administration",
    responses((status = 200, description = "OK", body = Page<ApiKey>), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// List API keys (never their secrets).
async fn list_keys(
    State(state): State<AppState>,
    _: Can<perm::ApiKeysManage>,
) -> ApiResult<Json<Page<ApiKey>>> {
    let data = vouch_app::staff::list_api_keys(&state).await?;
    Ok(Json(Page {
        data: data.into_iter().map(Into::into).collect(),
        has_more: false,
        next_cursor: None,
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct KeyIn {
    #[schema(min_length = 1, max_length = 100, example = "CRM sync")]
    name: String,
    #[schema(value_type = Scope)]
    scope: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct NewKeyOut {
    #[serde(flatten)]
    key: ApiKey,
    /// Shown once; only a hash is stored.
    secret: String,
}

#[utoipa::path(
    operation_id = "create_api_key",
    post,
    path = "/api/v1/api-keys",
    tag = "administration",
    request_body = KeyIn,
    responses((status = 201, description = "Created", body = NewKeyOut), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Create an API key; its secret is in this answer and never shown again.
async fn create_key(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::ApiKeysManage>,
    ApiJson(body): ApiJson<KeyIn>,
) -> ApiResult<(StatusCode, Json<NewKeyOut>)> {
    let (key, secret) =
        vouch_app::staff::create_api_key(&state, &caller.origin, &body.name, &body.scope).await?;
    Ok((
        StatusCode::CREATED,
        Json(NewKeyOut {
            key: key.into(),
            secret,
        }),
    ))
}

#[utoipa::path(
    operation_id = "revoke_api_key",
    post,
    path = "/api/v1/api-keys/{id}/revoke",
    tag = "administration",
    params(("id" = String, Path, description = "Key id (key_…)")),
    responses((status = 200, description = "OK", body = ApiKey), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Revoke an API key: it stops working at once.
async fn revoke_key(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::ApiKeysManage>,
    Path(id): Path<String>,
) -> ApiResult<Json<ApiKey>> {
    Ok(Json(
        vouch_app::staff::revoke_api_key(&state, &caller.origin, &id)
            .await?
            .into(),
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// An action, or a prefix such as `account.`.
    pub action: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    /// A staff email, API key name, or actor id.
    pub actor: Option<String>,
    pub limit: Option<i64>,
    pub starting_after: Option<super::Cursor>,
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
            starting_after: self
                .starting_after
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            limit,
        }
    }
}

#[utoipa::path(
    operation_id = "list_audit_events",
    get,
    path = "/api/v1/audit-events",
    tag = "administration",
    params(AuditParams),
    responses((status = 200, description = "OK", body = Page<AuditEvent>), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// The audit log, newest first: who did what, when, from where, with before and after.
async fn list_audit(
    State(state): State<AppState>,
    _: Can<perm::AuditRead>,
    ApiQuery(p): ApiQuery<AuditParams>,
) -> ApiResult<Json<Page<AuditEvent>>> {
    let limit = check_limit(p.limit)?;
    let rows = vouch_app::audit::list_entries(&state, &p.filter(limit)).await?;
    Ok(Json(page(rows, limit, |e| e.id.clone(), Into::into)))
}
