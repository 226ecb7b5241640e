//! `/api/v1/accounts`: customer accounts and super customers.

use super::{ApiJson, ApiQuery, Page, check_limit, page};
use crate::AppState;
use crate::auth::{Can, perm};
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vouch_app::accounts::AccountView;
use vouch_domain::account::{AccountFields, CloneOverrides, RegistrationPolicy};
use vouch_store::accounts::{ListQuery, SortKey};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update))
        .routes(routes!(sub_customers))
        .routes(routes!(clone))
        .routes(routes!(clone_preview))
        .routes(routes!(designate))
        .routes(routes!(nest))
        .routes(routes!(registration))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Customer id, or part of the name, code or email.
    pub q: Option<String>,
    #[serde(default)]
    pub super_customers: bool,
    pub parent_id: Option<i64>,
    /// `id`, `name` or `created_at`; prefix `-` for descending.
    #[param(pattern = "^-?(id|name|created_at)$", example = "-created_at")]
    pub sort: Option<String>,
    pub limit: Option<i64>,
    /// The id of the last account of the previous page (422 when there is no such account).
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

#[utoipa::path(
    operation_id = "list_accounts",
    get,
    path = "/api/v1/accounts",
    tag = "accounts",
    params(ListParams),
    responses((status = 200, description = "OK", body = Page<AccountView>), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// List accounts: search by customer id, name, code or email; only super customers, or only
/// one super customer's sub-customers; sorted and paged.
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
    let rows = vouch_app::accounts::list_accounts(&state, &query).await?;
    Ok(Json(page(
        rows,
        limit,
        |a| a.id.to_string(),
        |a| AccountView::new(&state, a),
    )))
}

/// A new account. Its code defaults to one drawn from the name (`ACME`, `ACME-2`, …).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccountIn {
    // Required fields default to empty so that every missing one is reported at once.
    #[serde(default)]
    #[schema(
        required = true,
        min_length = 1,
        max_length = 200,
        example = "Vector Services - Contractor"
    )]
    pub name: String,
    /// Capital letters, digits, `-` and `_`; unique (409 when taken).
    #[schema(max_length = 64, pattern = "^[A-Z0-9_-]*$", example = "VECTOR")]
    pub code: Option<String>,
    /// Unique among accounts (409 when taken).
    #[serde(default)]
    #[schema(required = true, max_length = 254, format = Email, example = "ann@vector.example")]
    pub email: String,
    #[serde(default)]
    #[schema(required = true, min_length = 1, max_length = 100, example = "Ann")]
    pub owner_first_name: String,
    #[serde(default)]
    #[schema(required = true, min_length = 1, max_length = 100, example = "Lee")]
    pub owner_last_name: String,
    /// Digits, spaces and `+ . - ( ) x`.
    #[schema(
        max_length = 32,
        pattern = "^$|^[0-9 +.()x-]*[0-9][0-9 +.()x-]*$",
        example = "555.555.5555"
    )]
    pub owner_phone: Option<String>,
    pub vendor_matrix: Option<bool>,
    pub corporate_catalog: Option<bool>,
    pub whitelabeling: Option<bool>,
    pub exempt_from_membership_fees: Option<bool>,
    #[schema(max_length = 10000)]
    pub notes: Option<String>,
    /// Who may register accounts under a super customer (default `open`); `channel_partner`
    /// needs `partner_site_url` (422 without it).
    pub registration_policy: Option<RegistrationPolicy>,
    /// Where people are sent to register when the policy is `channel_partner`.
    #[schema(max_length = 2048, format = "iri-or-empty")]
    pub partner_site_url: Option<String>,
    /// Nest the new account under this super customer (422 `parent_id` when it is not one).
    pub parent_id: Option<i64>,
    /// Designate the new account a super customer.
    pub is_super_customer: Option<bool>,
}

impl NewAccountIn {
    fn fields(self) -> AccountFields {
        AccountFields {
            name: self.name,
            code: self.code.unwrap_or_default(),
            email: self.email,
            owner_first_name: self.owner_first_name,
            owner_last_name: self.owner_last_name,
            owner_phone: self.owner_phone.unwrap_or_default(),
            vendor_matrix: self.vendor_matrix.unwrap_or_default(),
            corporate_catalog: self.corporate_catalog.unwrap_or_default(),
            whitelabeling: self.whitelabeling.unwrap_or_default(),
            exempt_from_membership_fees: self.exempt_from_membership_fees.unwrap_or_default(),
            notes: self.notes.unwrap_or_default(),
            registration_policy: self
                .registration_policy
                .map(|p| p.as_str().to_string())
                .unwrap_or_default(),
            partner_site_url: self.partner_site_url.unwrap_or_default(),
        }
    }
}

/// An account's editable fields; a patch changes only those it names. Nesting and designation
/// have their own operations (`/nest`, `/designate`).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountIn {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// Capital letters, digits, `-` and `_`; unique (409 when taken).
    #[schema(max_length = 64, pattern = "^[A-Z0-9_-]*$")]
    pub code: Option<String>,
    /// Unique among accounts (409 when taken).
    #[schema(max_length = 254, format = Email)]
    pub email: Option<String>,
    #[schema(min_length = 1, max_length = 100)]
    pub owner_first_name: Option<String>,
    #[schema(min_length = 1, max_length = 100)]
    pub owner_last_name: Option<String>,
    /// Digits, spaces and `+ . - ( ) x`.
    #[schema(max_length = 32, pattern = "^$|^[0-9 +.()x-]*[0-9][0-9 +.()x-]*$")]
    pub owner_phone: Option<String>,
    pub vendor_matrix: Option<bool>,
    pub corporate_catalog: Option<bool>,
    pub whitelabeling: Option<bool>,
    pub exempt_from_membership_fees: Option<bool>,
    #[schema(max_length = 10000)]
    pub notes: Option<String>,
    /// `channel_partner` needs `partner_site_url` (422 without it).
    pub registration_policy: Option<RegistrationPolicy>,
    #[schema(max_length = 2048, format = "iri-or-empty")]
    pub partner_site_url: Option<String>,
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
        set(
            &mut f.registration_policy,
            self.registration_policy.map(|p| p.as_str().to_string()),
        );
        set(&mut f.partner_site_url, self.partner_site_url);
        f.vendor_matrix = self.vendor_matrix.unwrap_or(f.vendor_matrix);
        f.corporate_catalog = self.corporate_catalog.unwrap_or(f.corporate_catalog);
        f.whitelabeling = self.whitelabeling.unwrap_or(f.whitelabeling);
        f.exempt_from_membership_fees = self
            .exempt_from_membership_fees
            .unwrap_or(f.exempt_from_membership_fees);
    }
}

#[utoipa::path(
    operation_id = "create_account",
    post,
    path = "/api/v1/accounts",
    tag = "accounts",
    request_body = NewAccountIn,
    responses((status = 201, description = "Created", body = AccountView), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Create an account, optionally nested under a super customer or designated one.
async fn create(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::AccountsWrite>,
    ApiJson(body): ApiJson<NewAccountIn>,
) -> ApiResult<(StatusCode, Json<AccountView>)> {
    let (parent_id, is_super) = (body.parent_id, body.is_super_customer.unwrap_or(false));
    let fields = body.fields();
    let account =
        vouch_app::accounts::create_account(&state, &caller.origin, &fields, parent_id, is_super)
            .await?;
    Ok((StatusCode::CREATED, Json(AccountView::new(&state, account))))
}

#[utoipa::path(
    operation_id = "get_account",
    get,
    path = "/api/v1/accounts/{id}",
    tag = "accounts",
    params(("id" = i64, Path, description = "Customer id")),
    responses((status = 200, description = "OK", body = AccountView), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Get an account, with its registration link when it is a super customer.
async fn show(
    State(state): State<AppState>,
    _: Can<perm::AccountsRead>,
    Path(id): Path<String>,
) -> ApiResult<Json<AccountView>> {
    let account = vouch_app::accounts::get_account(&state, id_param(&id)?).await?;
    Ok(Json(AccountView::new(&state, account)))
}

#[utoipa::path(
    operation_id = "update_account",
    patch,
    path = "/api/v1/accounts/{id}",
    tag = "accounts",
    params(("id" = i64, Path, description = "Customer id")),
    request_body = AccountIn,
    responses((status = 200, description = "OK", body = AccountView), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Change an account's fields; only the fields sent change.
async fn update(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::AccountsWrite>,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<AccountIn>,
) -> ApiResult<Json<AccountView>> {
    let id = id_param(&id)?;
    let mut fields = vouch_app::accounts::get_account(&state, id).await?.fields();
    patch.apply(&mut fields);
    let account = vouch_app::accounts::update_account(&state, &caller.origin, id, &fields).await?;
    Ok(Json(AccountView::new(&state, account)))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct PageParams {
    limit: Option<i64>,
    /// The id of the last account of the previous page (422 when there is no such account).
    starting_after: Option<i64>,
    /// `id`, `name` (the default) or `created_at`; prefix `-` for descending.
    #[param(pattern = "^-?(id|name|created_at)$")]
    sort: Option<String>,
}

#[utoipa::path(
    operation_id = "list_sub_customers",
    get,
    path = "/api/v1/accounts/{id}/sub-customers",
    tag = "accounts",
    params(("id" = i64, Path, description = "Customer id"), PageParams),
    responses((status = 200, description = "OK", body = Page<AccountView>), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// The accounts nested under a super customer.
async fn sub_customers(
    State(state): State<AppState>,
    _: Can<perm::AccountsRead>,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<AccountView>>> {
    let id = id_param(&id)?;
    vouch_app::accounts::get_account(&state, id).await?;
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
    let rows = vouch_app::accounts::list_accounts(&state, &query).await?;
    Ok(Json(page(
        rows,
        limit,
        |a| a.id.to_string(),
        |a| AccountView::new(&state, a),
    )))
}

#[utoipa::path(
    operation_id = "clone_account",
    post,
    path = "/api/v1/accounts/{id}/clone",
    tag = "accounts",
    params(("id" = i64, Path, description = "Customer id of the beneficiary")),
    request_body = CloneOverrides,
    responses((status = 201, description = "Created", body = AccountView), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Clone an account by the naming convention (e.g. "Vector Referral Super Customer"), with
/// overrides.
async fn clone(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::AccountsWrite>,
    Path(id): Path<String>,
    ApiJson(overrides): ApiJson<CloneOverrides>,
) -> ApiResult<(StatusCode, Json<AccountView>)> {
    let account =
        vouch_app::accounts::clone_account(&state, &caller.origin, id_param(&id)?, &overrides)
            .await?;
    Ok((StatusCode::CREATED, Json(AccountView::new(&state, account))))
}

/// The clone's fields by the naming convention, without saving anything.
#[utoipa::path(
    operation_id = "preview_clone",
    post,
    path = "/api/v1/accounts/{id}/clone-preview",
    tag = "accounts",
    params(("id" = i64, Path, description = "Customer id of the beneficiary")),
    request_body = CloneOverrides,
    responses((status = 200, description = "OK", body = AccountFields), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
async fn clone_preview(
    State(state): State<AppState>,
    _: Can<perm::AccountsRead>,
    Path(id): Path<String>,
    ApiJson(overrides): ApiJson<CloneOverrides>,
) -> ApiResult<Json<AccountFields>> {
    let beneficiary = vouch_app::accounts::get_account(&state, id_param(&id)?).await?;
    let fields = vouch_app::accounts::clone_preview(&state, &beneficiary, &overrides);
    // The preview answers what the clone would do: fields a clone would refuse are a 422 here.
    fields.parse()?;
    Ok(Json(fields))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct DesignateIn {
    is_super_customer: bool,
}

#[utoipa::path(
    operation_id = "designate_super_customer",
    post,
    path = "/api/v1/accounts/{id}/designate",
    tag = "accounts",
    params(("id" = i64, Path, description = "Customer id")),
    request_body = DesignateIn,
    responses((status = 200, description = "OK", body = AccountView), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Designate an account a super customer, or take the designation away. Taking it away is
/// refused with 409 `has_sub_customers` while accounts are nested under it.
async fn designate(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::AccountsWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DesignateIn>,
) -> ApiResult<Json<AccountView>> {
    let account = vouch_app::accounts::designate(
        &state,
        &caller.origin,
        id_param(&id)?,
        body.is_super_customer,
    )
    .await?;
    Ok(Json(AccountView::new(&state, account)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NestIn {
    /// The super customer to nest under; `null` removes the account from its super customer.
    parent_id: Option<i64>,
}

#[utoipa::path(
    operation_id = "nest_account",
    post,
    path = "/api/v1/accounts/{id}/nest",
    tag = "accounts",
    params(("id" = i64, Path, description = "Customer id")),
    request_body = NestIn,
    responses((status = 200, description = "OK", body = AccountView), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Nest an account under a super customer, or take it out (`parent_id: null`).
async fn nest(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::AccountsWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NestIn>,
) -> ApiResult<Json<AccountView>> {
    let account =
        vouch_app::accounts::set_parent(&state, &caller.origin, id_param(&id)?, body.parent_id)
            .await?;
    Ok(Json(AccountView::new(&state, account)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct RegistrationIn {
    approved: bool,
}

/// Opens or closes a super customer's registration link: a Management Team decision. Opening
/// the link of an account that is not a super customer is 409 `not_a_super_customer`.
#[utoipa::path(
    operation_id = "set_registration",
    post,
    path = "/api/v1/accounts/{id}/registration",
    tag = "accounts",
    params(("id" = i64, Path, description = "Customer id of the super customer")),
    request_body = RegistrationIn,
    responses((status = 200, description = "OK", body = AccountView), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
async fn registration(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::SetupsDecide>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RegistrationIn>,
) -> ApiResult<Json<AccountView>> {
    let account = vouch_app::accounts::set_registration(
        &state,
        &caller.origin,
        id_param(&id)?,
        body.approved,
    )
    .await?;
    Ok(Json(AccountView::new(&state, account)))
}
