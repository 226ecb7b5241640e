//! The OpenAPI 3.1 document at `/api/v1/openapi.json` and a readable API reference at
//! `/api/docs`, both generated at start-up from the handlers' annotations and served by the
//! binary itself (no CDN, no script).

use crate::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use std::sync::Arc;
use utoipa::openapi::OpenApi;

mod contract;
mod webhooks;

/// Every problem `code` the API returns, for the reference's error section.
pub const ERROR_CODES: &[(&str, u16, &str)] = &[
    (
        "bad_request",
        400,
        "The request is malformed: JSON that does not parse, an unreadable body, a bad Idempotency-Key header.",
    ),
    (
        "unauthenticated",
        401,
        "No credentials: send `Authorization: Bearer vouch_sk_…` or a console session cookie.",
    ),
    ("invalid_api_key", 401, "The API key is unknown or revoked."),
    (
        "forbidden",
        403,
        "Your role or key scope does not allow this action (see docs/PERMISSIONS.md).",
    ),
    (
        "csrf_failed",
        403,
        "A cookie-authenticated write without the session's `x-csrf-token` header.",
    ),
    ("not_found", 404, "No such resource or endpoint."),
    (
        "already_exists",
        409,
        "A unique field (email, code) is taken; `errors` names it.",
    ),
    (
        "already_erased",
        409,
        "The participant or person was erased already.",
    ),
    (
        "already_decided",
        409,
        "The setup, clawback or bonus was decided already; decisions are final.",
    ),
    (
        "invalid_transition",
        409,
        "The record's state does not allow this change (a program's lifecycle, a referral's stage, a reward's status, a sale, bonus, payment or payout batch), or it changed meanwhile: reload it and decide again.",
    ),
    (
        "not_in_review",
        409,
        "The referral is not waiting for review (it was decided meanwhile, or never flagged).",
    ),
    (
        "has_sub_customers",
        409,
        "Accounts are still nested under this super customer; move them before taking the designation away.",
    ),
    (
        "not_a_super_customer",
        409,
        "Only a super customer has a registration link; designate the account first.",
    ),
    (
        "contacts_have_no_terms",
        409,
        "Contacts are paid on their program's bonus policy; only employees and vendors have terms of their own.",
    ),
    (
        "already_paid",
        409,
        "The payment is paid already; a payment is paid once.",
    ),
    (
        "paid_by_payout",
        409,
        "The reward's rule delivers by payout: the reward is delivered when its payment in the payables ledger is marked paid.",
    ),
    (
        "nothing_to_pay",
        409,
        "No due payment matches the batch's filters; nothing was created.",
    ),
    (
        "delivery_in_progress",
        409,
        "A delivery of this webhook message is already queued or running; or a lead sale's last attempt is still being recorded (retry in a moment).",
    ),
    (
        "partner_suspended",
        409,
        "The partner is suspended: nothing new is sent to or taken from it.",
    ),
    (
        "partner_cannot",
        409,
        "The partner does not do that: receive referrals, refer clients or buy customers.",
    ),
    (
        "not_failed",
        409,
        "Only a lead sale whose delivery failed can be retried.",
    ),
    (
        "not_dead",
        409,
        "Only a dead or cancelled job can be retried.",
    ),
    (
        "not_a_coupon_rule",
        409,
        "Only coupon rules have a pool of codes.",
    ),
    (
        "coupon_pool_empty",
        409,
        "The rule's coupon pool has no code left; upload more, then deliver.",
    ),
    (
        "program_ended",
        409,
        "The program has ended; nobody can join it.",
    ),
    (
        "event_id_reused",
        409,
        "This event id was reported before for another event.",
    ),
    (
        "event_in_flight",
        409,
        "The same event id is being recorded by another request; retry shortly.",
    ),
    (
        "idempotency_key_in_use",
        409,
        "A request with this Idempotency-Key is still running; retry shortly.",
    ),
    ("payload_too_large", 413, "The body is larger than 1 MiB."),
    (
        "unsupported_media_type",
        415,
        "Send JSON with `Content-Type: application/json`.",
    ),
    (
        "validation_failed",
        422,
        "One or more fields are invalid; `errors` lists each with its path.",
    ),
    (
        "idempotency_key_reused",
        422,
        "This Idempotency-Key was used with a different request body.",
    ),
    (
        "too_many_requests",
        429,
        "Too many attempts; wait for `Retry-After` seconds.",
    ),
    (
        "internal_error",
        500,
        "Something failed on our side; quote the `x-request-id`.",
    ),
];

pub fn routes(spec: OpenApi) -> Router<AppState> {
    let doc = contract::finish(serde_json::to_value(&spec).unwrap_or_default());
    let json: Arc<str> = serde_json::to_string_pretty(&doc)
        .unwrap_or_else(|_| "{}".into())
        .into();
    let page = Arc::new(reference(&doc));
    Router::new()
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let json = json.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        json.to_string(),
                    )
                }
            }),
        )
        .route(
            "/api/docs",
            get(move || {
                let page = page.clone();
                async move {
                    page.render()
                        .map(axum::response::Html)
                        .map_err(|_| crate::error::ApiError::internal())
                        .into_response()
                }
            }),
        )
}

/// Text with `inline code` marked by backticks, split so the page shows code as code (and
/// never a raw backtick): `(is_code, text)` pieces, escaped by the template.
type Prose = Vec<(bool, String)>;

fn prose(text: &str) -> Prose {
    let pieces: Vec<&str> = text.split('`').collect();
    // An unpaired backtick stays as it is, in the text after it.
    let paired = pieces.len() % 2 == 1;
    let mut out: Prose = Vec::new();
    for (i, piece) in pieces.iter().enumerate() {
        let last = i == pieces.len() - 1;
        if !paired && last {
            out.push((false, format!("`{piece}")));
        } else if !piece.is_empty() {
            out.push((i % 2 == 1, (*piece).to_string()));
        }
    }
    out
}

struct Operation {
    method: String,
    path: String,
    anchor: String,
    summary: Prose,
    description: Prose,
    tag: String,
    params: Vec<(String, String, Prose)>,
    request: Option<String>,
    responses: Vec<(String, String)>,
    /// Pretty JSON of the recorded request, when the operation takes a body.
    request_example: Option<String>,
    /// The status and pretty JSON of the recorded success answer.
    response_example: Option<(String, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "api_docs.html")]
struct Reference {
    title: String,
    description: Prose,
    /// Operations grouped by their tag, groups in the order their first operation came.
    groups: Vec<(String, Vec<Operation>)>,
    /// Webhook event types: (type, schema of `data`, when it is sent).
    events: Vec<(String, String, Prose)>,
    schemas: Vec<(String, String)>,
    errors: Vec<(&'static str, u16, Prose)>,
}

/// Flattens the document into what the reference page shows.
fn reference(value: &serde_json::Value) -> Reference {
    let mut operations = Vec::new();
    if let Some(paths) = value["paths"].as_object() {
        for (path, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method, op) in item {
                let params = op["parameters"]
                    .as_array()
                    .map(|ps| {
                        ps.iter()
                            .map(|p| {
                                (
                                    format!(
                                        "{} ({})",
                                        p["name"].as_str().unwrap_or_default(),
                                        p["in"].as_str().unwrap_or_default()
                                    ),
                                    schema_name(&p["schema"]),
                                    prose(p["description"].as_str().unwrap_or_default()),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let request = op["requestBody"]["content"]["application/json"]["schema"]
                    .as_object()
                    .map(|_| {
                        schema_name(&op["requestBody"]["content"]["application/json"]["schema"])
                    });
                let responses = op["responses"]
                    .as_object()
                    .map(|rs| {
                        rs.iter()
                            .map(|(status, r)| {
                                let schema = r["content"]
                                    .as_object()
                                    .and_then(|c| c.values().next())
                                    .map(|c| schema_name(&c["schema"]));
                                (
                                    status.clone(),
                                    schema.unwrap_or_else(|| {
                                        r["description"].as_str().unwrap_or_default().to_string()
                                    }),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let description = prose(op["description"].as_str().unwrap_or_default());
                let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).ok();
                let request_example = op
                    .pointer("/requestBody/content/application~1json/example")
                    .and_then(pretty);
                let response_example = op["responses"].as_object().and_then(|rs| {
                    rs.iter().find_map(|(status, r)| {
                        r.pointer("/content/application~1json/example")
                            .and_then(pretty)
                            .map(|e| (status.clone(), e))
                    })
                });
                operations.push(Operation {
                    anchor: format!("{}-{}", method, path.replace(['/', '{', '}'], "-")),
                    method: method.to_uppercase(),
                    path: path.clone(),
                    summary: prose(op["summary"].as_str().unwrap_or_default()),
                    description,
                    tag: op["tags"][0].as_str().unwrap_or_default().to_string(),
                    params,
                    request,
                    responses,
                    request_example,
                    response_example,
                });
            }
        }
    }
    let schemas = value["components"]["schemas"]
        .as_object()
        .map(|s| {
            s.iter()
                .map(|(name, schema)| {
                    (
                        name.clone(),
                        serde_json::to_string_pretty(&plain_descriptions(schema.clone()))
                            .unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let events = value["webhooks"]
        .as_object()
        .map(|hooks| {
            hooks
                .iter()
                .map(|(name, hook)| {
                    let data = hook["post"]["requestBody"]["content"]["application/json"]["schema"]
                        ["allOf"][1]["properties"]["data"]["$ref"]
                        .as_str()
                        .unwrap_or_default();
                    (
                        name.clone(),
                        data.rsplit('/').next().unwrap_or(data).to_string(),
                        prose(hook["post"]["description"].as_str().unwrap_or_default()),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let mut groups: Vec<(String, Vec<Operation>)> = Vec::new();
    for op in operations {
        match groups.iter_mut().find(|(tag, _)| *tag == op.tag) {
            Some((_, ops)) => ops.push(op),
            None => groups.push((op.tag.clone(), vec![op])),
        }
    }
    Reference {
        events,
        title: value["info"]["title"].as_str().unwrap_or("API").to_string(),
        description: prose(value["info"]["description"].as_str().unwrap_or_default()),
        groups,
        schemas,
        errors: ERROR_CODES
            .iter()
            .map(|(code, status, meaning)| (*code, *status, prose(meaning)))
            .collect(),
    }
}

/// The schema as the page prints it: descriptions are CommonMark in the document, plain text
/// here (the code marks dropped).
fn plain_descriptions(mut schema: serde_json::Value) -> serde_json::Value {
    fn walk(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, child) in map.iter_mut() {
                    match child {
                        serde_json::Value::String(text) if k == "description" => {
                            *text = text.replace('`', "");
                        }
                        _ => walk(child),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut schema);
    schema
}

fn schema_name(schema: &serde_json::Value) -> String {
    if let Some(r) = schema["$ref"].as_str() {
        return r.rsplit('/').next().unwrap_or(r).to_string();
    }
    match schema["type"].as_str() {
        Some("array") => format!("array of {}", schema_name(&schema["items"])),
        Some(t) => t.to_string(),
        None => schema["type"]
            .as_array()
            .map(|ts| {
                ts.iter()
                    .filter_map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(" | ")
            })
            .unwrap_or_else(|| "object".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::prose;

    #[test]
    fn backticks_become_code_and_never_show() {
        assert_eq!(
            prose("send `limit` and `starting_after`."),
            vec![
                (false, "send ".to_string()),
                (true, "limit".to_string()),
                (false, " and ".to_string()),
                (true, "starting_after".to_string()),
                (false, ".".to_string()),
            ]
        );
        assert_eq!(
            prose("a lone ` tick"),
            vec![
                (false, "a lone ".to_string()),
                (false, "` tick".to_string())
            ]
        );
    }
}
