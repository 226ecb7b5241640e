//! Login CSRF: the forms that sign someone in (the console's, the portal's and the
//! participant page's) carry a token that also sits in a `SameSite=Strict` cookie set when the
//! form was shown. Another site can make a browser post the form, but cannot read or set the
//! cookie, so it cannot sign the visitor into an account of the attacker's choosing.

use crate::AppState;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use cookie::SameSite;

fn cookie_name(state: &AppState) -> &'static str {
    if crate::auth::secure_cookies(&state.settings) {
        "__Host-vouch_login_csrf"
    } else {
        "vouch_login_csrf"
    }
}

/// The token for a sign-in form: the browser's own when it has one, else a new one with the
/// cookie that carries it.
pub fn issue(state: &AppState, headers: &HeaderMap) -> (String, Option<HeaderValue>) {
    if let Some(existing) = crate::cookies::value(headers, cookie_name(state))
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return (existing.to_string(), None);
    }
    let token = vouch_store::participant_access::new_token();
    let cookie = crate::cookies::set(
        &state.settings,
        cookie_name(state),
        &token,
        crate::cookies::Options {
            path: "/",
            max_age_seconds: Some(12 * 3600),
            same_site: SameSite::Strict,
        },
    );
    (token, cookie)
}

/// Whether a posted sign-in form came from a page this browser was shown.
pub fn verify(state: &AppState, headers: &HeaderMap, sent: &str) -> bool {
    crate::cookies::value(headers, cookie_name(state))
        .is_some_and(|kept| !sent.is_empty() && crate::auth::constant_time_eq(kept, sent))
}

/// Adds the cookie (when a new token was made) to a rendered form.
pub fn with_cookie(mut response: Response, cookie: Option<HeaderValue>) -> Response {
    crate::cookies::append(response.headers_mut(), cookie);
    response
}

/// What a refused form says next to its fresh copy.
pub const EXPIRED: &str =
    "This form was open too long or came from another site. Please sign in again.";
