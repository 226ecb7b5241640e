//! Per-request plumbing: a request id on every request and response, one structured log line
//! per request (method, path, status, time; never the query string or body, which may hold
//! personal data), and the origin (request id and client address) that audit entries record.

use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Instant;

pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(Debug, Clone)]
pub struct RequestId(pub String);

fn acceptable(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

pub async fn request_id_and_log(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map(str::to_owned)
        .unwrap_or_else(|| vouch_domain::id::new_id("req"));
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let started = Instant::now();
    // No id or slug holds a control character, and PostgreSQL cannot even compare text with
    // NUL: such a path names nothing. The API's query parameters are refused one by one
    // (ApiQuery, 422 naming the parameter); a page's query with one is refused here whole.
    let query = req.uri().query().unwrap_or_default();
    let mut response = if has_control_character(&path) {
        crate::error::ApiError::not_found("resource").into_response()
    } else if !path.starts_with("/api/") && has_control_character(query) {
        (
            axum::http::StatusCode::BAD_REQUEST,
            "The address holds a control character.",
        )
            .into_response()
    } else {
        next.run(req).await
    };
    let status = response.status().as_u16();
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    if status >= 500 {
        tracing::error!(request_id = %id, %method, path, status, millis, "request");
    } else {
        tracing::info!(request_id = %id, %method, path, status, millis, "request");
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID.clone(), value);
    }
    response
}

/// Whether the percent-decoded text (a path or a query) holds a C0 or C1 control character or
/// DEL. A request line carries no raw control byte, so only an escape can bring one: text
/// without `%` (every referral link without a query) costs one byte scan.
fn has_control_character(text: &str) -> bool {
    text.contains('%')
        && form_urlencoded::parse(text.as_bytes())
            .any(|(k, v)| k.chars().chain(v.chars()).any(char::is_control))
}

/// Request id and client address of the current request.
#[derive(Debug, Clone)]
pub struct Meta {
    pub request_id: Option<String>,
    pub client_ip: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Meta {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        let request_id = parts.extensions.get::<RequestId>().map(|r| r.0.clone());
        let client_ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        Ok(Self {
            request_id,
            client_ip,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::has_control_character;

    #[test]
    fn control_characters_are_found_encoded_or_not() {
        assert!(has_control_character("/api/v1/people/per%00x"));
        assert!(has_control_character("/api/v1/people/per%1fx"));
        assert!(has_control_character("/p/x%C2%85/join"));
        assert!(has_control_character("/r/AB%7F"));
        assert!(!has_control_character(
            "/api/v1/people/per_01m8m6zeynfezc5q5z8zatnb2f"
        ));
        assert!(!has_control_character("/p/caf%C3%A9/join"));
        assert!(!has_control_character("/api/v1/x%2"));
    }
}
