//! `/api/v1/accounts`: customer accounts and super customers.

use super::{ApiJson, ApiQuery, Page, check_limit, page};
use crate::AppState;
use crate::auth::{Can, perm};
use crate::error::{ApiError, ApiResult};
use crate::service::{self, AccountView};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use vouch_domain::account::{AccountFields, CloneOverrides};
use vouch_store::accounts::{self, ListQuery, SortKey};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/accounts", get(list).post(create))
        .route("/accounts/{id}", get(show).patch(update))
        .route("/accounts/{id}/sub-customers", get(sub_customers))
        .route("/accounts/{id}/clone", post(clone))
        .route("/accounts/{id}/clone-preview", post(clone_preview))
        .route("/accounts/{id}/designate", post(designate))
        .route("/accounts/{id}/nest", post(nest))
        .route("/accounts/{id}/registration", post(registration))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Customer id, or part of the name, code or email.
    pub q: Option<String>,
    #[serde(default)]
    pub super_customers: bool,
    pub parent_id: Option<i64>,
    /// `id`, `name` or `created_at`; prefix `-` for descending.
    pub sort: Option<String>,
    pub limit: Option<i64>,
    pub starting_after: Option<i64>,
}

pub fn parse_sort(sort: Option<&str>) -> ApiResult<(SortKey, bool)> {
    let sort = sort.unwrap_or("id");
    let (descending, key) = match sort.strip_prefix('-') {
        Some(k) => (true, k),
        None => (false, sort),
    };
    let key = match key {
        "id" => SortKey::Id,
        "name" => SortKey::Name,
        "created_at" => SortKey::CreatedAt,
        _ => {
            return Err(ApiError::field(
                "sort",
                "must be id, name or created_at, optionally prefixed with -",
            ));
        }
    };
    Ok((key, descending))
}

fn id_param(raw: &str) -> ApiResult<i64> {
    raw.parse().map_err(|_| ApiError::not_found("account"))
}

async fn list(
    State(state): State<AppState>,
    _: Can<perm::AccountsRead>,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<AccountView>>> {
    let limit = check_limit(p.limit)?;
    let (sort, descending) = parse_sort(p.sort.as_deref())?;
    let query = ListQuery {
        search: p.q,
        super_customers_only: p.super_customers,
        parent_id: p.parent_id,
        sort,
        descending,
        starting_after: p.starting_after,
        limit,
    };
    let mut conn = state.store.conn().await?;
    let rows = accounts::list(&mut conn, &query).await?;
    Ok(Json(page(
        rows,
        limit,
        |a| a.id.to_string(),
        |a| AccountView::new(&state, a),
    )))
}

/// Every editable field is optional: creation starts from empty fields, a patch from the
/// account's current ones.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountIn {
    pub name: Option<String>,
    pub code: Option<String>,
    pub email: Option<String>,
    pub owner_first_name: Option<String>,
    pub owner_last_name: Option<String>,
    pub owner_phone: Option<String>,
    pub vendor_matrix: Option<bool>,
    pub corporate_catalog: Option<bool>,
    pub whitelabeling: Option<bool>,
    pub exempt_from_membership_fees: Option<bool>,
    pub notes: Option<String>,
    pub registration_policy: Option<String>,
    pub partner_site_url: Option<String>,
    /// On creation only: nest the new account under this super customer.
    pub parent_id: Option<i64>,
    /// On creation only: designate the new account a super customer.
    pub is_super_customer: Option<bool>,
}

impl AccountIn {
    fn apply(self, f: &mut AccountFields) {
        let set = |target: &mut String, v: Option<String>| {
            if let Some(v) = v {
                *target = v;
            }
        };
        set(&mut f.name, self.name);
        set(&mut f.code, self.code);
        set(&mut f.email, self.email);
        set(&mut f.owner_first_name, self.owner_first_name);
        set(&mut f.owner_last_name, self.owner_last_name);
        set(&mut f.owner_phone, self.owner_phone);
        set(&mut f.notes, self.notes);
        set(&mut f.registration_policy, self.registration_policy);
        set(&mut f.partner_site_url, self.partner_site_url);
        f.vendor_matrix = self.vendor_matrix.unwrap_or(f.vendor_matrix);
        f.corporate_catalog = self.corporate_catalog.unwrap_or(f.corporate_catalog);
        f.whitelabeling = self.whitelabeling.unwrap_or(f.whitelabeling);
        f.exempt_from_membership_fees = self
            .exempt_from_membership_fees
            .unwrap_or(f.exempt_from_membership_fees);
    }
}

async fn create(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::AccountsWrite>,
    ApiJson(body): ApiJson<AccountIn>,
) -> ApiResult<(StatusCode, Json<AccountView>)> {
    let (parent_id, is_super) = (body.parent_id, body.is_super_customer.unwrap_or(false));
    let mut fields = AccountFields::default();
    body.apply(&mut fields);
    let account =
        service::create_account(&state, &caller.origin, &fields, parent_id, is_super).await?;
    Ok((StatusCode::CREATED, Json(AccountView::new(&state, account))))
}

async fn show(
    State(state): State<AppState>,
    _: Can<perm::AccountsRead>,
    Path(id): Path<String>,
) -> ApiResult<Json<AccountView>> {
    let account = service::get_account(&state, id_param(&id)?).await?;
    Ok(Json(AccountView::new(&state, account)))
}

async fn update(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::AccountsWrite>,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<AccountIn>,
) -> ApiResult<Json<AccountView>> {
    let id = id_param(&id)?;
    if patch.parent_id.is_some() {
        return Err(ApiError::field(
            "parent_id",
            "change nesting with POST /api/v1/accounts/{id}/nest",
        ));
    }
    if patch.is_super_customer.is_some() {
        return Err(ApiError::field(
            "is_super_customer",
            "change it with POST /api/v1/accounts/{id}/designate",
        ));
    }
    let mut fields = service::get_account(&state, id).await?.fields();
    patch.apply(&mut fields);
    let account = service::update_account(&state, &caller.origin, id, &fields).await?;
    Ok(Json(AccountView::new(&state, account)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PageParams {
    limit: Option<i64>,
    starting_after: Option<i64>,
    sort: Option<String>,
}

async fn sub_customers(
    State(state): State<AppState>,
    _: Can<perm::AccountsRead>,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<AccountView>>> {
    let id = id_param(&id)?;
    service::get_account(&state, id).await?;
    let limit = check_limit(p.limit)?;
    let (sort, descending) = parse_sort(p.sort.as_deref().or(Some("name")))?;
    let query = ListQuery {
        parent_id: Some(id),
        sort,
        descending,
        starting_after: p.starting_after,
        limit,
        ..Default::default()
    };
    let mut conn = state.store.conn().await?;
    let rows = accounts::list(&mut conn, &query).await?;
    Ok(Json(page(
        rows,
        limit,
        |a| a.id.to_string(),
        |a| AccountView::new(&state, a),
    )))
}

async fn clone(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::AccountsWrite>,
    Path(id): Path<String>,
    ApiJson(overrides): ApiJson<CloneOverrides>,
) -> ApiResult<(StatusCode, Json<AccountView>)> {
    let account =
        service::clone_account(&state, &caller.origin, id_param(&id)?, &overrides).await?;
    Ok((StatusCode::CREATED, Json(AccountView::new(&state, account))))
}

/// The clone's fields by the naming convention, without saving anything.
async fn clone_preview(
    State(state): State<AppState>,
    _: Can<perm::AccountsRead>,
    Path(id): Path<String>,
    ApiJson(overrides): ApiJson<CloneOverrides>,
) -> ApiResult<Json<AccountFields>> {
    let beneficiary = service::get_account(&state, id_param(&id)?).await?;
    Ok(Json(service::clone_preview(
        &state,
        &beneficiary,
        &overrides,
    )))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DesignateIn {
    is_super_customer: bool,
}

async fn designate(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::AccountsWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DesignateIn>,
) -> ApiResult<Json<AccountView>> {
    let account = service::designate(
        &state,
        &caller.origin,
        id_param(&id)?,
        body.is_super_customer,
    )
    .await?;
    Ok(Json(AccountView::new(&state, account)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NestIn {
    /// The super customer to nest under; `null` removes the account from its super customer.
    parent_id: Option<i64>,
}

async fn nest(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::AccountsWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NestIn>,
) -> ApiResult<Json<AccountView>> {
    let account =
        service::set_parent(&state, &caller.origin, id_param(&id)?, body.parent_id).await?;
    Ok(Json(AccountView::new(&state, account)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistrationIn {
    approved: bool,
}

/// Opens or closes a super customer's registration link: a Management Team decision.
async fn registration(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::SetupsDecide>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RegistrationIn>,
) -> ApiResult<Json<AccountView>> {
    let account =
        service::set_registration(&state, &caller.origin, id_param(&id)?, body.approved).await?;
    Ok(Json(AccountView::new(&state, account)))
}
