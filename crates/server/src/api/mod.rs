//! The JSON API under `/api/v1`. Conventions (written down in `docs/API-DESIGN.md`): plural
//! resources, prefixed ids, cursor pagination, problem+json errors with field paths,
//! `Idempotency-Key` on POST.

pub mod accounts;
pub mod admin;
pub mod bonuses;
pub mod commissions;
pub mod emails;
pub mod lead_sales;
pub mod participants;
pub mod partner_referrals;
pub mod partners;
pub mod payouts;
pub mod people;
pub mod privacy;
pub mod programs;
pub mod referrals;
pub mod rewards;
pub mod sales;
pub mod sales_referrals;
pub mod setups;
pub mod transfer;
pub mod webhooks;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;

/// The API's routes and the OpenAPI document generated from their annotations, so the two
/// cannot drift apart.
pub fn routes(state: AppState) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, api) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(accounts::routes())
        .merge(setups::routes())
        .merge(admin::routes())
        .merge(webhooks::routes())
        .merge(emails::routes())
        .merge(programs::routes())
        .merge(participants::routes())
        .merge(referrals::routes())
        .merge(rewards::routes())
        .merge(transfer::routes())
        .merge(people::routes())
        .merge(privacy::routes())
        .merge(partners::routes())
        .merge(partner_referrals::routes())
        .merge(lead_sales::routes())
        .merge(commissions::routes())
        .merge(sales::routes())
        .merge(sales_referrals::routes())
        .merge(bonuses::routes())
        .merge(payouts::routes())
        .split_for_parts();
    let router = router
        .route(
            "/api/v1/{*rest}",
            axum::routing::any(|| async { ApiError::not_found("endpoint") }),
        )
        .layer(axum::middleware::from_fn_with_state(
            state,
            crate::idempotency::middleware,
        ));
    (router, api)
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Vouch API",
        description = "Referral and partner programs. Conventions: plural resources under /api/v1, prefixed time-sortable ids, cursor pagination (`limit` ≤ 100, `starting_after`), RFC 9457 problem+json errors with field paths, `Idempotency-Key` on every POST. See docs/API-DESIGN.md.",
        license(name = "Apache-2.0")
    ),
    modifiers(&SecuritySchemes),
    components(schemas(Cursor)),
    tags(
        (name = "accounts", description = "Customer accounts, super customers and their hierarchy"),
        (name = "referral-setups", description = "Referral programs for a beneficiary: requested by staff, approved by the Management Team"),
        (name = "administration", description = "Staff users, API keys and the audit log"),
        (name = "webhooks", description = "Webhook endpoints (Standard Webhooks v1), their messages and attempts, and the job queue"),
        (name = "email", description = "The outbox of rendered emails and the templates"),
        (name = "programs", description = "Referral programs: settings and lifecycle"),
        (name = "referrals", description = "Referrals, and the events from your systems that qualify them"),
        (name = "rewards", description = "Reward rules, the rewards they earn, coupon pools and clawbacks"),
        (name = "people", description = "Contacts, employees and vendors who refer sales, and their agreed referral-bonus terms"),
        (name = "partners", description = "Partner companies that refer clients, receive referrals or buy customers, and their commission terms"),
        (name = "privacy", description = "Everything held about one email address, and erasure of a participant or a person on request")
    )
)]
struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API key (`vouch_sk_…`) with scope read, write or admin",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "vouch_session",
                "A staff console session; writes also need the `x-csrf-token` header (from GET /api/v1/me)",
            ))),
        );
    }
}

/// A JSON body whose deserialisation errors name the failing field.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> ApiResult<Self> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !is_json {
            return Err(ApiError::new(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "the body is larger than 1 MiB",
                )
            } else {
                ApiError::bad_request("the request body could not be read")
            }
        })?;
        // One JSON object and nothing after it (vouch_domain::json_body); then the fields,
        // each error naming its path.
        use vouch_domain::json_body::{self, BodyError};
        let value = json_body::parse(&bytes).map_err(|e| match e {
            BodyError::NotJson(why) => {
                ApiError::bad_request(format!("the body is not valid JSON: {why}"))
            }
            BodyError::NotObject => ApiError::field("body", "must be a JSON object"),
            BodyError::Nul(path) => ApiError::field(&path, "must not contain the NUL character"),
        })?;
        serde_path_to_error::deserialize(value)
            .map(Self)
            .map_err(|e| field_error(e.path().to_string(), e.inner().to_string()))
    }
}

/// Query parameters whose errors name the failing parameter.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> ApiResult<Self> {
        let query = parts.uri.query().unwrap_or_default();
        // No parameter carries a control character (the document's patterns say so), and
        // PostgreSQL cannot even compare text holding NUL: refuse them here, once, naming the
        // parameter.
        if let Some((name, _)) = form_urlencoded::parse(query.as_bytes())
            .find(|(_, value)| value.chars().any(char::is_control))
        {
            return Err(ApiError::field(
                &name,
                "must not contain control characters",
            ));
        }
        // An empty cursor is the first page, on every list (text or number ids): the one place
        // that rule lives. The parameter is left out rather than handed on as an empty id, so
        // no handler or store sees one.
        let empty_cursor =
            |(name, value): &(std::borrow::Cow<'_, str>, std::borrow::Cow<'_, str>)| {
                name == "starting_after" && value.is_empty()
            };
        let kept: std::borrow::Cow<'_, str> = if form_urlencoded::parse(query.as_bytes())
            .any(|p| empty_cursor(&p))
        {
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form_urlencoded::parse(query.as_bytes()).filter(|p| !empty_cursor(p)))
                .finish()
                .into()
        } else {
            query.into()
        };
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(kept.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(Self)
            .map_err(|e| field_error(e.path().to_string(), e.inner().to_string()))
    }
}

fn field_error(path: String, message: String) -> ApiError {
    // serde says "unknown field `x`, expected one of …" or "missing field `x`": the field is
    // the one named.
    let unknown = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("missing field `"))
        .and_then(|rest| rest.split('`').next())
        .map(str::to_owned);
    let message = if message.starts_with("missing field `") {
        "is required".to_string()
    } else {
        message
    };
    let field = match (unknown, path.as_str()) {
        (Some(u), "." | "") => u,
        (Some(u), p) if p == u || p.ends_with(&format!(".{u}")) => p.to_string(),
        (Some(u), p) => format!("{p}.{u}"),
        (None, ".") => "body".to_string(),
        (None, p) => p.to_string(),
    };
    ApiError::field(&field, message)
}

/// `limit` and `starting_after` for lists whose items have text ids.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CursorParams {
    /// 1–100, default 20.
    pub limit: Option<i64>,
    /// The id of the last item of the previous page.
    pub starting_after: Option<Cursor>,
}

/// A `starting_after` value: the id of the last item of the previous page, as the list gave it
/// in `next_cursor`. The same rule on every list: anything not shaped like an id is refused
/// (422 naming `starting_after`); a well-shaped id pages from where it would sort, so the id
/// of an item deleted meanwhile still works. Empty means the first page (see `ApiQuery`).
#[derive(Debug, Clone, Default)]
pub struct Cursor(String);

impl std::ops::Deref for Cursor {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de> serde::Deserialize<'de> for Cursor {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        // Empty: the first page. `ApiQuery` leaves it out already; the console's forms (which
        // share some of these parameters) send it when the field is blank.
        if text.is_empty() || vouch_domain::id::is_any_id(&text) {
            Ok(Self(text))
        } else {
            Err(serde::de::Error::custom(
                "must be the `next_cursor` of the previous page (an id such as par_01kb…)",
            ))
        }
    }
}

impl utoipa::PartialSchema for Cursor {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(format!("^$|{}", vouch_domain::id::ANY_ID_PATTERN)))
            .description(Some(
                "The `next_cursor` of the previous page (empty: the first page)",
            ))
            .into()
    }
}

impl utoipa::ToSchema for Cursor {}

/// One page of a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub has_more: bool,
    pub next_cursor: Option<String>,
}

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

pub fn check_limit(limit: Option<i64>) -> ApiResult<i64> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::field(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        ));
    }
    Ok(limit)
}

/// Builds a page from `limit + 1` fetched rows.
pub fn page<T, U>(
    mut rows: Vec<T>,
    limit: i64,
    cursor: impl Fn(&T) -> String,
    out: impl Fn(T) -> U,
) -> Page<U> {
    let limit = usize::try_from(limit).unwrap_or(0);
    let has_more = rows.len() > limit;
    rows.truncate(limit);
    let next_cursor = if has_more {
        rows.last().map(&cursor)
    } else {
        None
    };
    Page {
        data: rows.into_iter().map(out).collect(),
        has_more,
        next_cursor,
    }
}
