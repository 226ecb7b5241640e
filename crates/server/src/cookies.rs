//! Every cookie Vouch sets or reads goes through here, so the attributes (`HttpOnly`,
//! `SameSite`, `Secure` over https) are decided in one place and a value can never break out
//! of its header. Request cookies are parsed by the `cookie` crate.

use axum::http::{HeaderMap, HeaderValue, header};
use cookie::{Cookie, SameSite};
use std::fmt::Write as _;
use vouch_app::Settings;

/// Where a cookie is sent, how long it lives, and to which requests.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub path: &'static str,
    /// `None`: until the browser closes.
    pub max_age_seconds: Option<i64>,
    pub same_site: SameSite,
}

impl Options {
    /// Sent with top-level navigations from other sites (a link in an email), not with their
    /// embedded requests or form posts.
    pub const fn lax(path: &'static str, max_age_seconds: Option<i64>) -> Self {
        Self {
            path,
            max_age_seconds,
            same_site: SameSite::Lax,
        }
    }
}

/// A `Set-Cookie` value: always `HttpOnly` (no script reads a Vouch cookie), `Secure` when the
/// installation is served over https. `None` for a value that is not all cookie characters
/// (RFC 6265: no space, quote, comma, semicolon or backslash), which could add attributes.
pub fn set(settings: &Settings, name: &str, value: &str, options: Options) -> Option<HeaderValue> {
    let cookie_octet =
        |b: u8| matches!(b, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E);
    if !value.bytes().all(cookie_octet) {
        tracing::error!(
            cookie = name,
            "a cookie value with characters a cookie cannot hold was not set"
        );
        return None;
    }
    // Written directly rather than through `cookie::Cookie`'s `Display` (two copies and a
    // formatter per attribute): every referral click sets one. The attributes and their order
    // are the crate's.
    let same_site = match options.same_site {
        SameSite::Strict => "Strict",
        SameSite::Lax => "Lax",
        SameSite::None => "None",
    };
    let mut header = String::with_capacity(name.len() + value.len() + 80);
    header.push_str(name);
    header.push('=');
    header.push_str(value);
    header.push_str("; HttpOnly; SameSite=");
    header.push_str(same_site);
    // Browsers refuse `SameSite=None` without `Secure`.
    if crate::auth::secure_cookies(settings) || options.same_site == SameSite::None {
        header.push_str("; Secure");
    }
    header.push_str("; Path=");
    header.push_str(options.path);
    if let Some(seconds) = options.max_age_seconds {
        let _ = write!(header, "; Max-Age={seconds}");
    }
    HeaderValue::try_from(header).ok()
}

/// A `Set-Cookie` value that removes the cookie.
pub fn clear(settings: &Settings, name: &str, path: &'static str) -> Option<HeaderValue> {
    set(settings, name, "", Options::lax(path, Some(0)))
}

/// Adds a `Set-Cookie` header to a response (keeping any other).
pub fn append(headers: &mut HeaderMap, value: Option<HeaderValue>) {
    if let Some(v) = value {
        headers.append(header::SET_COOKIE, v);
    }
}

/// The value of the request cookie `name`, if present.
pub fn value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name_raw() == Some(name))
        .and_then(|c| c.value_raw())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_carry_their_attributes_and_are_found_by_name() {
        let http = Settings::default();
        let https = Settings {
            base_url: "https://refer.example.com".into(),
            ..Settings::default()
        };
        assert!(
            set(
                &http,
                "a",
                "b; Domain=evil.example",
                Options::lax("/", None)
            )
            .is_none()
        );
        let v = set(&http, "a", "b.c-1", Options::lax("/p/", Some(60))).expect("value");
        let text = v.to_str().unwrap_or_default();
        // Attributes in the order the `cookie` crate writes them.
        assert_eq!(
            text,
            "a=b.c-1; HttpOnly; SameSite=Lax; Path=/p/; Max-Age=60"
        );
        assert!(
            text.starts_with("a=b.c-1")
                && text.contains("HttpOnly")
                && text.contains("SameSite=Lax"),
            "{text}"
        );
        assert!(
            text.contains("Path=/p/") && text.contains("Max-Age=60") && !text.contains("Secure"),
            "{text}"
        );
        let v = set(&https, "a", "b", Options::lax("/", None)).expect("value");
        assert!(v.to_str().unwrap_or_default().contains("Secure"));

        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("x=1; vouch_session=abc; y=2"),
        );
        h.append(header::COOKIE, HeaderValue::from_static("z=3"));
        assert_eq!(value(&h, "vouch_session"), Some("abc"));
        assert_eq!(value(&h, "z"), Some("3"));
        assert_eq!(value(&h, "vouch"), None);
    }
}
