//! Per-request plumbing: a request id on every request and response, one structured log line
//! per request (method, path, status, time; never the query string or body, which may hold
//! personal data), and the origin (request id and client address) that audit entries record.

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
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

/// The outermost layer, one function so that a request passes one middleware, not two: the
/// request id, the log line, and the security headers on every answer, including those this
/// layer gives itself.
pub async fn outermost(
    State(state): State<crate::AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let incoming = req
        .headers()
        .get(&REQUEST_ID)
        .filter(|v| v.to_str().is_ok_and(acceptable))
        .cloned();
    let (id, id_header) = match incoming {
        // The header value itself goes back on the answer (sharing the request's bytes).
        Some(header) => (header.to_str().unwrap_or_default().to_owned(), Some(header)),
        None => {
            let id = vouch_domain::id::new_id("req");
            let header = HeaderValue::from_str(&id).ok();
            (id, header)
        }
    };
    req.extensions_mut().insert(RequestId(id));
    let method = req.method().clone();
    // A `Uri` shares the request line's bytes: kept for the log line without copying the path.
    let uri = req.uri().clone();
    let path = uri.path();
    let embeddable = crate::headers::embeddable(path);
    let started = Instant::now();
    // No id or slug holds a control character, and PostgreSQL cannot even compare text with
    // NUL: such a path names nothing. The API's query parameters are refused one by one
    // (ApiQuery, 422 naming the parameter); a page's query with one is refused here whole.
    let query = uri.query().unwrap_or_default();
    let mut response = if has_control_character(path) {
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
    let request_id = id_header
        .as_ref()
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    if status >= 500 {
        tracing::error!(request_id, %method, path, status, millis, "request");
    } else {
        tracing::info!(request_id, %method, path, status, millis, "request");
    }
    let headers = response.headers_mut();
    if let Some(value) = id_header {
        headers.insert(REQUEST_ID.clone(), value);
    }
    let https = state.settings.base_url.starts_with("https://");
    crate::headers::apply(headers, embeddable, https);
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

impl FromRequestParts<crate::AppState> for Meta {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &crate::AppState,
    ) -> Result<Self, Infallible> {
        let request_id = parts.extensions.get::<RequestId>().map(|r| r.0.clone());
        let client_ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| client_address(c.0.ip(), &parts.headers, &state.settings.trusted_proxies))
            .map_or_else(|| "unknown".into(), |ip| ip.to_string());
        Ok(Self {
            request_id,
            client_ip,
        })
    }
}

/// The client's address: the connection's, unless the connection comes from a trusted proxy;
/// then the nearest address in `X-Forwarded-For` that is not itself a trusted proxy. A client
/// can write anything into the header; a proxy appends the address it saw (nginx's
/// `$proxy_add_x_forwarded_for`, Caddy by default), so reading from the right, the first
/// untrusted hop is the one a trusted proxy vouched for. `Forwarded` (RFC 7239) is not read:
/// the usual proxies pass a client's `Forwarded` on untouched, so believing it would let any
/// client choose its address. IPv4 peers of an IPv6 listener (`::ffff:a.b.c.d`) count as IPv4.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[ipnet::IpNet]) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let chain: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in chain.iter().rev() {
        // A hop the header cannot name (`unknown`, an obfuscated name) ends what can be known.
        let Some(ip) = parse_hop(hop) else {
            break;
        };
        client = ip.to_canonical();
        if !is_trusted(&client) {
            break;
        }
    }
    client
}

/// `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]`, `[2001:db8::1]:4711` or `2001:db8::1`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = hop.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    hop.parse::<SocketAddr>().ok().map(|a| a.ip())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header;

    #[test]
    fn only_trusted_proxies_name_the_client() {
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("203.0.113.9, 198.51.100.4, 10.0.0.7"),
        );
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        // From the proxy: the nearest untrusted hop (what the client wrote before it is not
        // believed).
        assert_eq!(
            client_address(ip("10.0.0.2"), &h, &trusted),
            ip("198.51.100.4")
        );
        // From anywhere else the header is the client's own say-so.
        assert_eq!(
            client_address(ip("192.0.2.1"), &h, &trusted),
            ip("192.0.2.1")
        );
        assert_eq!(client_address(ip("10.0.0.2"), &h, &[]), ip("10.0.0.2"));
        // `Forwarded` passes through proxies untouched: never believed.
        h.insert(
            header::FORWARDED,
            HeaderValue::from_static("for=192.0.2.60"),
        );
        assert_eq!(
            client_address(ip("10.0.0.2"), &h, &trusted),
            ip("198.51.100.4")
        );
        // An IPv6 hop with a port, and an IPv4 proxy seen through an IPv6 listener.
        let mut v6 = HeaderMap::new();
        v6.insert(
            "x-forwarded-for",
            HeaderValue::from_static("[2001:db8:cafe::17]:4711"),
        );
        assert_eq!(
            client_address(ip("::ffff:10.0.0.2"), &v6, &trusted),
            ip("2001:db8:cafe::17")
        );
        assert_eq!(
            client_address(ip("::ffff:192.0.2.1"), &v6, &trusted),
            ip("192.0.2.1")
        );
        // Nothing usable: the proxy itself.
        let mut junk = HeaderMap::new();
        junk.insert("x-forwarded-for", HeaderValue::from_static("unknown"));
        assert_eq!(
            client_address(ip("10.0.0.2"), &junk, &trusted),
            ip("10.0.0.2")
        );
    }

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
