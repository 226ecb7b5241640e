//! `/api/v1/partners`: partner companies (seeds 003 and 004) and their commission terms per
//! program.

use super::{ApiJson, ApiQuery, Page, check_limit, page};
use crate::AppState;
use crate::auth::{Can, perm};
use crate::error::ApiResult;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vouch_app::partner_users::PartnerUserOut;
use vouch_app::partners::{self as svc, PartnerImportReport};
use vouch_app::resources::{CommissionTerms, Partner};
use vouch_domain::partner::{Capability, Commission, DeliveryMethod, PartnerFields, PartnerStatus};
use vouch_domain::partner_user::PartnerRole;
use vouch_store::partners::PartnerFilter;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update))
        .routes(routes!(import))
        .routes(routes!(list_terms))
        .routes(routes!(set_terms, remove_terms))
        .routes(routes!(list_users, invite_user))
        .routes(routes!(remove_user))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListParams {
    status: Option<PartnerStatus>,
    /// Only partners that do this.
    #[param(inline)]
    does: Option<Capability>,
    /// Only partners this staff user manages.
    manager_id: Option<String>,
    /// Matches name, website, contact name or contact email (case-insensitive substring).
    #[param(max_length = 200)]
    search: Option<String>,
    limit: Option<i64>,
    starting_after: Option<super::Cursor>,
}

#[utoipa::path(
    operation_id = "list_partners",
    get,
    path = "/api/v1/partners",
    tag = "partners",
    params(ListParams),
    responses((status = 200, description = "OK", body = Page<Partner>), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// List partner companies, newest first.
async fn list(
    State(state): State<AppState>,
    _: Can<perm::PartnersRead>,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<Partner>>> {
    let limit = check_limit(p.limit)?;
    let filter = PartnerFilter {
        status: p.status,
        does: p.does,
        manager_id: p.manager_id.as_deref(),
        search: p.search.as_deref(),
    };
    let rows = svc::list_partners(&state, &filter, p.starting_after.as_deref(), limit).await?;
    Ok(Json(page(rows, limit, |r| r.id.clone(), Partner::from)))
}

/// A new partner company. It must do at least one thing (`refers_clients`,
/// `receives_referrals`, `buys_customers`); a buyer needs a `delivery_method` and at least one
/// `notification_emails` address, and an `api_post` buyer a `post_url` and a `source_id`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewPartnerIn {
    #[schema(min_length = 1, max_length = 200, example = "Northwind Agency")]
    name: String,
    #[schema(
        max_length = 2048,
        format = "iri",
        example = "https://northwind.example"
    )]
    website: Option<String>,
    #[schema(max_length = 200)]
    contact_name: Option<String>,
    #[schema(max_length = 254, format = "email-or-empty")]
    contact_email: Option<String>,
    /// Digits, spaces and `+ . - ( ) x`.
    #[schema(max_length = 32, pattern = "^$|^[0-9 +.()x-]*[0-9][0-9 +.()x-]*$")]
    contact_phone: Option<String>,
    #[schema(max_length = 10000)]
    notes: Option<String>,
    /// `active` when absent.
    status: Option<PartnerStatus>,
    /// The staff user who looks after the partner (an active one).
    manager_id: Option<String>,
    #[serde(default)]
    refers_clients: bool,
    #[serde(default)]
    receives_referrals: bool,
    #[serde(default)]
    buys_customers: bool,
    /// Listed on the public partner directory (only a partner that receives referrals).
    #[serde(default)]
    listed_in_directory: bool,
    /// A buyer's delivery method (required when `buys_customers`).
    delivery_method: Option<DeliveryMethod>,
    /// Where an `api_post` buyer receives customers: an https or http address that is not
    /// internal.
    #[schema(max_length = 2048, format = "iri")]
    post_url: Option<String>,
    /// The receiving party's id, sent with each API post.
    #[schema(max_length = 100)]
    source_id: Option<String>,
    /// Who hears of each sale (a buyer's addresses; email delivery sends customers there).
    #[schema(max_items = 10, inline, value_type = Option<Vec<NotificationEmail>>)]
    notification_emails: Option<Vec<String>>,
}

#[utoipa::path(
    operation_id = "create_partner",
    post,
    path = "/api/v1/partners",
    tag = "partners",
    request_body = NewPartnerIn,
    responses((status = 201, description = "Created", body = Partner), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`; 409 `conflict` on `name` when a partner has that name already", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Add a partner company.
async fn create(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::PartnersWrite>,
    ApiJson(body): ApiJson<NewPartnerIn>,
) -> ApiResult<(StatusCode, Json<Partner>)> {
    let fields = PartnerFields {
        name: body.name,
        website: body.website.unwrap_or_default(),
        contact_name: body.contact_name.unwrap_or_default(),
        contact_email: body.contact_email.unwrap_or_default(),
        contact_phone: body.contact_phone.unwrap_or_default(),
        notes: body.notes.unwrap_or_default(),
        status: body
            .status
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        refers_clients: body.refers_clients,
        receives_referrals: body.receives_referrals,
        buys_customers: body.buys_customers,
        listed_in_directory: body.listed_in_directory,
        delivery_method: body
            .delivery_method
            .map(|d| d.as_str().to_string())
            .unwrap_or_default(),
        post_url: body.post_url.unwrap_or_default(),
        source_id: body.source_id.unwrap_or_default(),
        notification_emails: body.notification_emails.unwrap_or_default(),
    };
    let partner =
        svc::create_partner(&state, &caller.origin, &fields, body.manager_id.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(partner.into())))
}

#[utoipa::path(
    operation_id = "get_partner",
    get,
    path = "/api/v1/partners/{id}",
    tag = "partners",
    params(("id" = String, Path, description = "Partner id (ptn_…)")),
    responses((status = 200, description = "OK", body = Partner), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Get a partner company.
async fn show(
    State(state): State<AppState>,
    _: Can<perm::PartnersRead>,
    Path(id): Path<String>,
) -> ApiResult<Json<Partner>> {
    Ok(Json(svc::get_partner(&state, &id).await?.into()))
}

/// A partner's fields; a patch changes only those it names, and the result is checked whole
/// (a partner that stops buying customers must drop its buyer fields in the same patch). An
/// empty string clears an optional text field; `manager_id` `""` leaves the partner without a
/// manager.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct PartnerPatch {
    #[schema(min_length = 1, max_length = 200)]
    name: Option<String>,
    #[schema(max_length = 2048)]
    website: Option<String>,
    #[schema(max_length = 200)]
    contact_name: Option<String>,
    #[schema(max_length = 254, format = "email-or-empty")]
    contact_email: Option<String>,
    #[schema(max_length = 32, pattern = "^$|^[0-9 +.()x-]*[0-9][0-9 +.()x-]*$")]
    contact_phone: Option<String>,
    #[schema(max_length = 10000)]
    notes: Option<String>,
    status: Option<PartnerStatus>,
    manager_id: Option<String>,
    refers_clients: Option<bool>,
    receives_referrals: Option<bool>,
    buys_customers: Option<bool>,
    listed_in_directory: Option<bool>,
    /// `null` clears it (with `buys_customers: false`).
    #[serde(default, deserialize_with = "super::sales::nullable")]
    #[schema(value_type = Option<DeliveryMethod>, nullable)]
    delivery_method: Option<Option<DeliveryMethod>>,
    #[schema(max_length = 2048)]
    post_url: Option<String>,
    #[schema(max_length = 100)]
    source_id: Option<String>,
    #[schema(max_items = 10, inline, value_type = Option<Vec<NotificationEmail>>)]
    notification_emails: Option<Vec<String>>,
}

#[utoipa::path(
    operation_id = "update_partner",
    patch,
    path = "/api/v1/partners/{id}",
    tag = "partners",
    params(("id" = String, Path, description = "Partner id (ptn_…)")),
    request_body = PartnerPatch,
    responses((status = 200, description = "OK", body = Partner), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Change a partner company.
async fn update(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::PartnersWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PartnerPatch>,
) -> ApiResult<Json<Partner>> {
    let partner = svc::update_partner(&state, &caller.origin, &id, |f, manager| {
        let set = |target: &mut String, v: Option<String>| {
            if let Some(v) = v {
                *target = v;
            }
        };
        set(&mut f.name, body.name);
        set(&mut f.website, body.website);
        set(&mut f.contact_name, body.contact_name);
        set(&mut f.contact_email, body.contact_email);
        set(&mut f.contact_phone, body.contact_phone);
        set(&mut f.notes, body.notes);
        if let Some(s) = body.status {
            f.status = s.as_str().to_string();
        }
        if let Some(m) = body.manager_id {
            *manager = Some(m);
        }
        for (target, v) in [
            (&mut f.refers_clients, body.refers_clients),
            (&mut f.receives_referrals, body.receives_referrals),
            (&mut f.buys_customers, body.buys_customers),
            (&mut f.listed_in_directory, body.listed_in_directory),
        ] {
            if let Some(v) = v {
                *target = v;
            }
        }
        if let Some(d) = body.delivery_method {
            f.delivery_method = d.map(|d| d.as_str().to_string()).unwrap_or_default();
        }
        set(&mut f.post_url, body.post_url);
        set(&mut f.source_id, body.source_id);
        if let Some(e) = body.notification_emails {
            f.notification_emails = e;
        }
    })
    .await?;
    Ok(Json(partner.into()))
}

/// One sale notification address.
#[derive(utoipa::ToSchema)]
#[schema(max_length = 254, format = Email, example = "sales@buyer.example")]
#[expect(
    dead_code,
    reason = "only describes an address in the OpenAPI document"
)]
struct NotificationEmail(String);

/// A CSV of partners to add.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct PartnerImportIn {
    /// The file's text, header line first (up to 1 MiB). Columns (case-insensitive; others
    /// ignored): `name` (required), `website`, `contact_name`, `contact_email`,
    /// `contact_phone`, `notes`, `status`, `does` (`refers_clients`, `receives_referrals`,
    /// `buys_customers`, several separated by `;`), `delivery_method`, `post_url`,
    /// `source_id`, `notification_emails` (separated by `;`).
    #[schema(min_length = 1, format = "text/csv")]
    csv: String,
    /// Check every line and report; save nothing.
    #[serde(default)]
    dry_run: bool,
}

#[utoipa::path(
    operation_id = "import_partners",
    post,
    path = "/api/v1/partners/imports",
    tag = "partners",
    request_body = PartnerImportIn,
    responses((status = 200, description = "The report: partners added, already present, and problems by line", body = PartnerImportReport), (status = "4XX", description = "A problem (RFC 9457); `csv` when the header has no `name` column", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Import partner companies from CSV. Each line is checked like a partner added by hand;
/// lines with problems are reported by line number and skipped (the import still answers
/// 200). A partner whose name is there already (whatever its case) is skipped, so sending the
/// same file again changes nothing.
async fn import(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::PartnersWrite>,
    ApiJson(body): ApiJson<PartnerImportIn>,
) -> ApiResult<Json<PartnerImportReport>> {
    Ok(Json(
        svc::import_partners(&state, &caller.origin, &body.csv, body.dry_run).await?,
    ))
}

#[utoipa::path(
    operation_id = "list_partner_commission_terms",
    get,
    path = "/api/v1/partners/{id}/commission-terms",
    tag = "partners",
    params(("id" = String, Path, description = "Partner id (ptn_…)")),
    responses((status = 200, description = "The partner's terms, by program", body = Page<CommissionTerms>), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// What a partner earns per won referral, in each program where terms are set.
async fn list_terms(
    State(state): State<AppState>,
    _: Can<perm::PartnersRead>,
    Path(id): Path<String>,
) -> ApiResult<Json<Page<CommissionTerms>>> {
    Ok(Json(Page {
        data: svc::commission_terms(&state, &id).await?,
        has_more: false,
        next_cursor: None,
    }))
}

/// A partner's commission in one program: exactly one of `percentage_bps` (of the referral's
/// value) and `fixed_amount` (with its `currency`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CommissionIn {
    /// 1 to 10 000 (1 000 is 10 %).
    #[schema(minimum = 1, maximum = 10000, example = 1000)]
    percentage_bps: Option<i64>,
    /// Minor units of `currency`: 1 to 1 000 000 000.
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    fixed_amount: Option<i64>,
    /// ISO 4217; required with `fixed_amount`.
    #[schema(
        min_length = 3,
        max_length = 3,
        pattern = "^[A-Za-z]{3}$",
        example = "USD"
    )]
    currency: Option<String>,
}

#[utoipa::path(
    operation_id = "set_partner_commission_terms",
    put,
    path = "/api/v1/partners/{id}/commission-terms/{program_id}",
    tag = "partners",
    params(("id" = String, Path, description = "Partner id (ptn_…)"), ("program_id" = String, Path, description = "Program id (prg_…)")),
    request_body = CommissionIn,
    responses((status = 200, description = "The terms now in force", body = CommissionTerms), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Set what a partner earns per won referral in a program, replacing earlier terms there (the
/// audit log keeps them).
async fn set_terms(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::TermsManage>,
    Path((id, program_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<CommissionIn>,
) -> ApiResult<Json<CommissionTerms>> {
    let commission = Commission::parse(
        body.percentage_bps,
        body.fixed_amount,
        body.currency.as_deref(),
    )
    .map_err(|v| vouch_app::AppError::invalid(v.errors().to_vec()))?;
    Ok(Json(
        svc::set_commission(&state, &caller.origin, &id, &program_id, commission).await?,
    ))
}

#[utoipa::path(
    operation_id = "remove_partner_commission_terms",
    delete,
    path = "/api/v1/partners/{id}/commission-terms/{program_id}",
    tag = "partners",
    params(("id" = String, Path, description = "Partner id (ptn_…)"), ("program_id" = String, Path, description = "Program id (prg_…)")),
    responses((status = 204, description = "Removed: the partner's referrals there earn no commission"), (status = "4XX", description = "A problem (RFC 9457); 404 when no terms are set there", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Remove a partner's commission terms in a program.
async fn remove_terms(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::TermsManage>,
    Path((id, program_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    svc::remove_commission(&state, &caller.origin, &id, &program_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    operation_id = "list_partner_users",
    get,
    path = "/api/v1/partners/{id}/users",
    tag = "partners",
    params(("id" = String, Path, description = "Partner id (ptn_…)")),
    responses((status = 200, description = "The partner's portal users, oldest first", body = Page<PartnerUserOut>), (status = "4XX", description = "A problem (RFC 9457): see its `code`, `detail` and `errors`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Who has access to a partner's portal (invited and active users).
async fn list_users(
    State(state): State<AppState>,
    _: Can<perm::PartnersRead>,
    Path(id): Path<String>,
) -> ApiResult<Json<Page<PartnerUserOut>>> {
    Ok(Json(Page {
        data: vouch_app::partner_users::users_of(&state, &id).await?,
        has_more: false,
        next_cursor: None,
    }))
}

/// Someone to invite to a partner's portal.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct InviteIn {
    #[schema(max_length = 254, format = Email, example = "nora@northwind.example")]
    email: String,
    #[schema(min_length = 1, max_length = 200, example = "Nora West")]
    name: String,
    /// `admin` (invites and removes colleagues) or `member`.
    role: PartnerRole,
}

#[utoipa::path(
    operation_id = "invite_partner_user",
    post,
    path = "/api/v1/partners/{id}/users",
    tag = "partners",
    params(("id" = String, Path, description = "Partner id (ptn_…)")),
    request_body = InviteIn,
    responses((status = 201, description = "Invited: an email with a one-time link (72 hours) to set a password is queued", body = PartnerUserOut), (status = "4XX", description = "A problem (RFC 9457); 409 `conflict` on `email` when the address already has portal access, `partner_suspended`", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Invite someone to a partner's portal.
async fn invite_user(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::PartnersWrite>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<InviteIn>,
) -> ApiResult<(StatusCode, Json<PartnerUserOut>)> {
    let user = vouch_app::partner_users::invite(
        &state,
        &caller.origin,
        &id,
        &body.email,
        &body.name,
        body.role,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

#[utoipa::path(
    operation_id = "remove_partner_user",
    delete,
    path = "/api/v1/partners/{id}/users/{user_id}",
    tag = "partners",
    params(("id" = String, Path, description = "Partner id (ptn_…)"), ("user_id" = String, Path, description = "Partner user id (pus_…)")),
    responses((status = 204, description = "Removed: the user's sessions ended and its link stopped working"), (status = "4XX", description = "A problem (RFC 9457); 404 when the user is not a live user of this partner", body = crate::error::ProblemDoc, content_type = "application/problem+json")),
    security(("bearer" = []), ("session" = []))
)]
/// Remove a user's access to a partner's portal.
async fn remove_user(
    State(state): State<AppState>,
    Can(caller, _): Can<perm::PartnersWrite>,
    Path((id, user_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    vouch_app::partner_users::remove(&state, &caller.origin, &id, &user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
