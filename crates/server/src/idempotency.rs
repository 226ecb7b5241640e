//! `Idempotency-Key` on API POSTs. The first 2xx response to a key is stored and replayed for
//! the same caller, path and body; the same key with another body is a 422; a duplicate while
//! the first is running is a 409. Failed requests store nothing, so they may be retried.

use crate::AppState;
use crate::auth::{Caller, Principal};
use crate::error::ApiError;
use axum::body::{Body, to_bytes};
use axum::extract::FromRequestParts;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use vouch_store::idempotency::{self, Claim};

const HEADER: &str = "idempotency-key";
const MAX_BODY: usize = 1024 * 1024;

pub async fn middleware(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let Some(key) = req
        .headers()
        .get(HEADER)
        .map(|v| v.to_str().map(str::to_owned))
    else {
        return next.run(req).await;
    };
    let key = match key {
        Ok(k) if !k.is_empty() && k.len() <= 255 => k,
        _ => {
            return ApiError::bad_request(
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            )
            .into_response();
        }
    };
    // Keys belong to the credential that sent them, checked before anything is claimed or
    // replayed: a revoked key gets its 401, not a stored answer.
    let (mut parts, body) = req.into_parts();
    let caller = match Caller::from_request_parts(&mut parts, &state).await {
        Ok(c) => {
            let scope = match &c.principal {
                Principal::ApiKey { id, .. } => format!("key:{id}"),
                Principal::Staff(s) => format!("user:{}", s.user.id),
            };
            // The handler's own extractor finds the caller here instead of looking it up again.
            parts.extensions.insert(c);
            scope
        }
        Err(e) => return e.into_response(),
    };
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the body is larger than 1 MiB",
        )
        .into_response();
    };
    let mut hasher = Sha256::new();
    hasher.update(parts.uri.path().as_bytes());
    hasher.update([0]);
    hasher.update(&bytes);
    let request_hash = hex::encode(hasher.finalize());
    let pool = state.store.pool();
    match idempotency::claim(pool, &caller, &key, &request_hash).await {
        Err(e) => {
            tracing::error!(error = %e, "idempotency claim failed");
            ApiError::internal().into_response()
        }
        Ok(Claim::Mismatch) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "this Idempotency-Key was used with a different request; use a new key",
        )
        .into_response(),
        Ok(Claim::InFlight) => ApiError::conflict(
            "idempotency_key_in_use",
            "a request with this Idempotency-Key is still being processed; retry shortly",
        )
        .into_response(),
        Ok(Claim::Replay { status, body }) => {
            let mut response =
                (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
                .headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
            response
        }
        Ok(Claim::Fresh) => {
            let response = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            let status = response.status();
            if !status.is_success() {
                if let Err(e) = idempotency::release(pool, &caller, &key).await {
                    tracing::error!(error = %e, "idempotency release failed");
                }
                return response;
            }
            let (parts, body) = response.into_parts();
            let Ok(bytes) = to_bytes(body, usize::MAX).await else {
                return ApiError::internal().into_response();
            };
            let text = String::from_utf8_lossy(&bytes);
            if let Err(e) = idempotency::complete(pool, &caller, &key, status.as_u16(), &text).await
            {
                tracing::error!(error = %e, "idempotency completion failed");
            }
            Response::from_parts(parts, Body::from(bytes))
        }
    }
}
