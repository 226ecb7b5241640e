//! Security headers every response carries, decided in one place from the path and the
//! content type, so a new page cannot forget them (`docs/SECURITY.md` lists them).

use axum::http::{HeaderMap, HeaderValue, header};

/// Pages draw with one inline style sheet and run one script file of this origin
/// (`/assets/vouch.js`: no inline script, no event-handler attribute); forms post to this
/// origin. Images may come from https (a logo in an email preview) but never run anything.
const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; \
img-src 'self' data: https:; form-action 'self'; base-uri 'none'";

/// Pages a program embeds on its own site (the join form, the participant page, the partner
/// directory) may be framed by any site; every other page by none (clickjacking).
pub(crate) fn embeddable(path: &str) -> bool {
    path.starts_with("/p/") || path.starts_with("/find-a-partner")
}

/// Adds the security headers to an answer (`request::outermost` calls it for every one).
pub(crate) fn apply(headers: &mut HeaderMap, embeddable: bool, https: bool) {
    let set_default = |headers: &mut HeaderMap, name: header::HeaderName, value: &'static str| {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    };
    set_default(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set_default(
        headers,
        header::REFERRER_POLICY,
        "strict-origin-when-cross-origin",
    );
    // Answers are personal or carry secrets (keys shown once, login and magic-link pages);
    // what may be cached (the embed script) says so itself.
    set_default(headers, header::CACHE_CONTROL, "no-store");
    if https {
        set_default(
            headers,
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        );
    }
    let html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if html {
        let policy = if embeddable {
            format!("{PAGE_POLICY}; frame-ancestors *")
        } else {
            format!("{PAGE_POLICY}; frame-ancestors 'none'")
        };
        if let Ok(value) = HeaderValue::from_str(&policy) {
            headers.insert(header::CONTENT_SECURITY_POLICY, value);
        }
        if !embeddable {
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        h
    }

    #[test]
    fn pages_get_a_policy_and_embeddable_ones_may_be_framed() {
        let mut console = html();
        apply(&mut console, embeddable("/admin/programs"), false);
        let csp = console[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap_or_default();
        assert!(csp.contains("default-src 'none'") && csp.ends_with("frame-ancestors 'none'"));
        assert_eq!(console[header::X_FRAME_OPTIONS], "DENY");
        assert!(!console.contains_key(header::STRICT_TRANSPORT_SECURITY));

        let mut join = html();
        apply(&mut join, embeddable("/p/friends/join"), true);
        let csp = join[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap_or_default();
        assert!(csp.ends_with("frame-ancestors *"), "{csp}");
        assert!(!join.contains_key(header::X_FRAME_OPTIONS));
        assert!(join.contains_key(header::STRICT_TRANSPORT_SECURITY));
    }

    #[test]
    fn a_cache_rule_set_by_the_handler_is_kept() {
        let mut script = HeaderMap::new();
        script.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        );
        apply(&mut script, true, false);
        assert_eq!(script[header::CACHE_CONTROL], "public, max-age=300");
        assert_eq!(script[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert!(!script.contains_key(header::CONTENT_SECURITY_POLICY));
    }
}
