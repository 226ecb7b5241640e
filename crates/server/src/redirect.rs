//! `GET /r/{code}`: the referral link. A 302 to the program's landing URL with `ref={code}`
//! added, a first-party attribution cookie for the program's window, and a click recorded
//! through the buffer. Unknown codes and programs that are not live go to the fallback URL; a
//! blocked participant's link goes to the landing URL with no `ref`, cookie or click.
//! It never answers 500: on any failure the visitor still lands somewhere.

use crate::AppState;
use crate::auth::cookie_value;
use crate::request::Meta;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use vouch_domain::program::ProgramStatus;
use vouch_domain::referral::RefCookie;
use vouch_store::clicks::NewClick;

pub fn routes() -> Router<AppState> {
    Router::new().route("/r/{code}", get(redirect))
}

/// Query parameters kept with the click.
const TRACKED: &[&str] = &[
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "gclid",
    "fbclid",
    "msclkid",
    "ttclid",
    "li_fat_id",
];

/// Agents that are no person's browser and that Project Woothee's rules do not list: link
/// previews (a chat app unfurling a pasted link), by the token each vendor documents for its
/// fetcher, and HTTP libraries.
const NOT_VISITORS: &[&str] = &[
    "Slackbot-LinkExpanding",
    "Slack-ImgProxy",
    "WhatsApp/",
    "Discordbot/",
    "TelegramBot",
    "LinkedInBot/",
    "SkypeUriPreview",
    "Embedly/",
    "redditbot/",
    "Pinterestbot",
    // HTTP libraries Woothee does not know (it knows curl, wget, Java, perl, ruby, PHP and
    // Python's urllib).
    "python-requests/",
    "python-httpx/",
    "aiohttp/",
    "Go-http-client/",
    "okhttp/",
    "axios/",
    "node-fetch",
    "undici",
    "PostmanRuntime/",
    "insomnia/",
];

/// The device class of a visitor's click (`mobile`, `tablet` or `desktop`), or `None` when
/// the agent is no person's browser: crawlers, link previews and HTTP tools (curl, scripts), by
/// Project Woothee's rules (the `woothee` crate) plus the agents above, and an empty
/// agent. One parse serves both questions.
pub fn click_device(user_agent: &str) -> Option<&'static str> {
    // Visitors share a few thousand agent strings, and the parse tries one rule after another:
    // answers are kept (bounded; forgotten all at once when full, which costs a re-parse).
    static SEEN: std::sync::LazyLock<std::sync::Mutex<HashMap<String, Option<&'static str>>>> =
        std::sync::LazyLock::new(Default::default);
    const KEEP: usize = 10_000;
    if let Some(known) = SEEN.lock().ok().and_then(|m| m.get(user_agent).copied()) {
        return known;
    }
    let answer = classify(user_agent);
    // A long agent is no browser's everyday string; keeping it would let a client fill memory.
    if user_agent.len() > 512 {
        return answer;
    }
    if let Ok(mut seen) = SEEN.lock() {
        if seen.len() >= KEEP {
            seen.clear();
        }
        seen.insert(user_agent.to_string(), answer);
    }
    answer
}

fn classify(user_agent: &str) -> Option<&'static str> {
    let ua = user_agent.trim();
    if ua.is_empty() || NOT_VISITORS.iter().any(|p| ua.contains(p)) {
        return None;
    }
    let Some(r) = woothee::parser::Parser::new().parse(ua) else {
        return Some("desktop");
    };
    Some(match r.category {
        "crawler" | "misc" => return None,
        // A tablet is an iPad or an Android device that does not call itself mobile.
        "smartphone" => {
            let android_tablet = ua.contains("Android") && !ua.contains("Mobile");
            if r.os == "iPad" || android_tablet || ua.contains("Tablet") {
                "tablet"
            } else {
                "mobile"
            }
        }
        "mobilephone" => "mobile",
        _ => "desktop",
    })
}

/// Lower-case hex of `bytes`, by table (the `hex` crate's character iterator was 0.5 % of a
/// redirect's time).
fn hex_of(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// A 302 to `location`, written the way a header carries it (non-ASCII percent-encoded, the
/// host in punycode); an address that cannot be a `Location` sends the visitor home instead.
fn found(location: &str, home: &str) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::FOUND;
    // Room for every header a redirect ends with (this answer's three, the request id, the
    // security headers, the length): growing the map on the way out was 2 % of a redirect.
    *response.headers_mut() = HeaderMap::with_capacity(12);
    let as_header = |l: &str| {
        if l.starts_with("http") && l.bytes().all(|b| b.is_ascii_graphic()) {
            HeaderValue::from_str(l).ok()
        } else {
            url::Url::parse(l)
                .ok()
                .and_then(|u| HeaderValue::from_str(u.as_str()).ok())
        }
    };
    let value = as_header(location).or_else(|| as_header(home));
    if let Some(v) = value {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn redirect(
    State(state): State<AppState>,
    Path(code): Path<String>,
    meta: Meta,
    // The request itself, read in place (a `HeaderMap` extractor would copy every header).
    request: Request,
) -> Response {
    let (method, query, headers) = (request.method(), request.uri().query(), request.headers());
    let fallback = state.settings.base_url.as_str();
    let code = code.trim().to_ascii_uppercase();
    if code.is_empty() || code.len() > 32 || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
        return found(fallback, fallback);
    }
    let target = match state.links.get(&state.store, &code).await {
        Ok(Some(t)) => t,
        Ok(None) => return found(fallback, fallback),
        Err(e) => {
            tracing::error!(error = %e, "referral link lookup failed; sending the visitor to the fallback");
            return found(fallback, fallback);
        }
    };
    let program = &target.program;
    let program_fallback = program.fallback_url.as_deref().unwrap_or(fallback);
    if program.status != ProgramStatus::Live {
        return found(program_fallback, fallback);
    }
    // The landing URL (parsed when the program was cached) with the visitor's own parameters
    // and `ref` added.
    let Some(mut landing) = program.landing.clone() else {
        return found(program_fallback, fallback);
    };
    let incoming: Vec<(String, String)> =
        form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    // Only when something is added: `query_pairs_mut` leaves a bare `?` otherwise.
    if target.named.active || incoming.iter().any(|(k, _)| k != "ref") {
        let mut pairs = landing.query_pairs_mut();
        for (k, v) in incoming.iter().filter(|(k, _)| k != "ref") {
            pairs.append_pair(k, v);
        }
        if target.named.active {
            pairs.append_pair("ref", &code);
        }
    }
    let mut response = found(landing.as_str(), fallback);
    // A blocked participant's visitors still reach the program, but nothing credits them.
    if !target.named.active {
        return response;
    }
    // First and last click of this program, so the join page can apply either model.
    let previous = cookie_value(headers, &program.ref_cookie).and_then(RefCookie::parse);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let value = RefCookie::after_click(previous, &code, now).value();
    if let Some(v) = crate::cookies::set(
        &state.settings,
        &program.ref_cookie,
        &value,
        crate::cookies::Options::lax("/", Some(program.window_days * 86_400)),
    ) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }

    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(device) = click_device(user_agent).filter(|_| method == Method::GET) else {
        return response;
    };
    let mut hasher = Sha256::new();
    hasher.update(meta.client_ip.as_bytes());
    hasher.update(b"\n");
    hasher.update(user_agent.as_bytes());
    hasher.update(b"\n");
    hasher.update(state.secrets.visitor.as_slice());
    let visitor: [u8; 32] = hasher.finalize().into();
    if !state.clicks.first_in_window(&code, &visitor) {
        return response;
    }
    let utm: serde_json::Map<String, serde_json::Value> = incoming
        .iter()
        .filter(|(k, _)| TRACKED.contains(&k.as_str()))
        .map(|(k, v)| {
            (
                k.clone(),
                serde_json::Value::String(v.chars().take(200).collect()),
            )
        })
        .collect();
    let click = NewClick {
        id: vouch_domain::id::new_id("clk"),
        at: vouch_domain::Timestamp::now(),
        program_id: target.named.program_id.clone(),
        participant_id: target.named.participant_id.clone(),
        code,
        visitor_hash: hex_of(&visitor),
        referrer: headers
            .get(header::REFERER)
            .and_then(|v| v.to_str().ok())
            .map(|r| r.chars().take(500).collect()),
        utm: (!utm.is_empty()).then(|| serde_json::Value::Object(utm).to_string()),
        device_class: device.into(),
    };
    state.clicks.record(click).await;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_the_hex_crates() {
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(hex_of(&bytes), hex::encode(&bytes));
    }

    #[test]
    fn bots_and_devices() {
        for bot in [
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "Twitterbot/1.0",
            "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
            "WhatsApp/2.23.20.0",
            "curl/8.5.0",
            "python-requests/2.31.0",
            "Go-http-client/1.1",
            "",
        ] {
            assert_eq!(click_device(bot), None, "{bot}");
        }
        assert_eq!(
            click_device(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120 Safari/537.36"
            ),
            Some("desktop")
        );
        assert_eq!(
            click_device("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"),
            Some("mobile")
        );
        assert_eq!(
            click_device("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X)"),
            Some("tablet")
        );
        assert_eq!(
            click_device(
                "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 Chrome/120 Safari/537.36"
            ),
            Some("tablet")
        );
        assert_eq!(
            click_device(
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/120 Mobile Safari/537.36"
            ),
            Some("mobile")
        );
        assert_eq!(
            click_device(
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120 Safari/537.36"
            ),
            Some("desktop")
        );
    }
}
