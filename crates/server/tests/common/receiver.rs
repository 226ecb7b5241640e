//! A real HTTP receiver for webhook tests, with a signature verifier written from the Standard
//! Webhooks specification (deliberately not Vouch's signing code).

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the receiver answers.
#[derive(Debug, Clone)]
pub enum Mode {
    Ok,
    /// Fail each message this many times with 500, then accept it.
    FailTimes(u32),
    Always(u16),
    Gone,
    Redirect,
    /// Answer 503 with this `Retry-After`.
    RetryAfter(u64),
    /// Wait this long before answering 200.
    Slow(Duration),
    /// Answer 500 with a body of this many bytes.
    Big(usize),
}

#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: Vec<u8>,
    pub status: u16,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_default()
    }
}

#[derive(Default)]
struct Inner {
    mode: Option<Mode>,
    received: Vec<Received>,
    tries: HashMap<String, u32>,
    in_flight: HashMap<String, u32>,
    max_in_flight_per_id: u32,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

impl Receiver {
    pub async fn start(mode: Mode) -> Self {
        let inner = Arc::new(Mutex::new(Inner {
            mode: Some(mode),
            ..Inner::default()
        }));
        let app = Router::new()
            .route("/hook", post(handle))
            .route("/elsewhere", post(|| async { "moved here" }))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, inner }
    }

    pub fn set_mode(&self, mode: Mode) {
        if let Ok(mut i) = self.inner.lock() {
            i.mode = Some(mode);
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner
            .lock()
            .map(|i| i.received.clone())
            .unwrap_or_default()
    }

    /// Requests answered 2xx.
    pub fn delivered(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| (200..300).contains(&r.status))
            .collect()
    }

    pub fn max_in_flight_per_id(&self) -> u32 {
        self.inner
            .lock()
            .map(|i| i.max_in_flight_per_id)
            .unwrap_or(0)
    }
}

async fn handle(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    // Webhooks carry `webhook-id`; lead posts carry the sale's id as `idempotency-key`.
    let id = match header("webhook-id") {
        id if id.is_empty() => header("idempotency-key"),
        id => id,
    };
    let (mode, tries) = {
        let Ok(mut i) = inner.lock() else {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        };
        let tries = {
            let t = i.tries.entry(id.clone()).or_insert(0);
            *t += 1;
            *t
        };
        let now_in_flight = {
            let n = i.in_flight.entry(id.clone()).or_insert(0);
            *n += 1;
            *n
        };
        i.max_in_flight_per_id = i.max_in_flight_per_id.max(now_in_flight);
        (i.mode.clone().unwrap_or(Mode::Ok), tries)
    };
    let response: Response = match mode {
        Mode::Ok => (StatusCode::OK, "thanks").into_response(),
        Mode::FailTimes(n) if tries <= n => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("failure {tries}"),
        )
            .into_response(),
        Mode::FailTimes(_) => (StatusCode::OK, "finally").into_response(),
        Mode::Always(code) => (
            StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            "no",
        )
            .into_response(),
        Mode::Gone => (StatusCode::GONE, "gone for good").into_response(),
        Mode::Redirect => (StatusCode::FOUND, [("location", "/elsewhere")], "").into_response(),
        Mode::RetryAfter(s) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [("retry-after", s.to_string())],
            "busy",
        )
            .into_response(),
        Mode::Big(n) => (StatusCode::INTERNAL_SERVER_ERROR, "x".repeat(n)).into_response(),
        Mode::Slow(d) => {
            tokio::time::sleep(d).await;
            (StatusCode::OK, "slow but fine").into_response()
        }
    };
    if let Ok(mut i) = inner.lock() {
        if let Some(n) = i.in_flight.get_mut(&id) {
            *n = n.saturating_sub(1);
        }
        i.received.push(Received {
            id,
            timestamp: header("webhook-timestamp"),
            signature: header("webhook-signature"),
            body: body.to_vec(),
            status: response.status().as_u16(),
        });
    }
    response
}

/// Verifies a delivery as a receiver following the specification would: some `v1,` entry of
/// the signature header must equal HMAC-SHA256(base64-decoded secret,
/// "{id}.{timestamp}.{body}"), and the timestamp must be within 5 minutes.
pub fn verify(secret: &str, r: &Received) -> bool {
    let Some(encoded) = secret.strip_prefix("whsec_") else {
        return false;
    };
    let Ok(key) = STANDARD.decode(encoded) else {
        return false;
    };
    let Ok(ts) = r.timestamp.parse::<i64>() else {
        return false;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    if (now - ts).abs() > 300 {
        return false;
    }
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&key) else {
        return false;
    };
    mac.update(format!("{}.{}.", r.id, r.timestamp).as_bytes());
    mac.update(&r.body);
    let expected = STANDARD.encode(mac.finalize().into_bytes());
    r.signature
        .split(' ')
        .filter_map(|e| e.strip_prefix("v1,"))
        .any(|sig| {
            sig.len() == expected.len()
                && sig
                    .bytes()
                    .zip(expected.bytes())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
        })
}
