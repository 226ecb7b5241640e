//! Field-level validation errors, collected so that a form or an API call reports every problem
//! at once rather than the first one.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// Dotted path of the offending field, e.g. `owner.email`.
    pub field: String,
    pub message: String,
}

/// Accumulates field errors while a value is parsed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Validation {
    errors: Vec<FieldError>,
}

impl Validation {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// Records the error of a parse, if any, and hands back the parsed value.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }

    /// Prefixes every field path, so nested inputs report `beneficiary.email`.
    pub fn nest(&mut self, prefix: &str, inner: Validation) {
        for e in inner.errors {
            self.add(format!("{prefix}.{}", e.field), e.message);
        }
    }

    pub fn into_result(self) -> Result<(), Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors)
        }
    }
}

/// Trims a required text field and checks its length in characters.
pub fn required_text(value: &str, max_chars: usize) -> Result<String, String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err("is required".into());
    }
    optional_text(value, max_chars).map(|v| v.unwrap_or_default())
}

/// A person's name (optional; empty is `None`): text that cannot be a web address, because
/// names are written into emails ("Hi {first_name}") where a mail client would make one a
/// link a stranger chose.
pub fn person_name(value: &str, max_chars: usize) -> Result<Option<String>, String> {
    let name = optional_text(value, max_chars)?;
    if name.as_deref().is_some_and(looks_like_web_address) {
        return Err("must be a name, not a web address".into());
    }
    Ok(name)
}

/// Like [`person_name`], and required.
pub fn required_person_name(value: &str, max_chars: usize) -> Result<String, String> {
    required_text(value, max_chars)?;
    person_name(value, max_chars).map(Option::unwrap_or_default)
}

/// `https://…`, `www.…`, or a word ending in a top-level domain that mail clients link
/// (`win.com`, `claim.xyz/now`). `St.John` and `J.R.` are names.
fn looks_like_web_address(text: &str) -> bool {
    const LINKED_TLDS: &[&str] = &[
        "com", "net", "org", "io", "co", "info", "biz", "xyz", "top", "ru", "cn", "app", "link",
        "click", "site", "online", "me", "ly", "gl", "to", "us", "uk", "de", "shop", "live",
    ];
    let lower = text.to_lowercase();
    if lower.contains("://") || lower.contains("www.") {
        return true;
    }
    lower.split_whitespace().any(|word| {
        // The host ends where a path, query, fragment or port starts; a trailing dot or
        // punctuation (`evil.com.`, `win.com!`) is no part of it.
        let host = word
            .split(['/', '?', '#', ':'])
            .next()
            .unwrap_or_default()
            .trim_end_matches(|c: char| !c.is_alphanumeric());
        host.rsplit_once('.')
            .is_some_and(|(before, tld)| !before.is_empty() && LINKED_TLDS.contains(&tld))
    })
}

/// Trims an optional text field; empty becomes `None`.
pub fn optional_text(value: &str, max_chars: usize) -> Result<Option<String>, String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if trimmed.chars().count() > max_chars {
        return Err(format!("must be at most {max_chars} characters"));
    }
    // The whole value, not just what trimming leaves: a form feed at the edge is still a
    // control character the sender put there.
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err("must not contain control characters".into());
    }
    Ok(Some(trimmed.to_string()))
}

/// An http(s) address people are sent to (a landing page, a partner's signup page): a host
/// without brackets (no literal IPv6 address), at most 2048 characters, no spaces or control
/// characters. Empty is `None`, or "is required" when `required`.
pub fn web_url(raw: &str, required: bool, example: &str) -> Result<Option<String>, String> {
    let url = raw.trim();
    if url.is_empty() {
        return if required {
            Err("is required".into())
        } else {
            Ok(None)
        };
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("must start with https:// or http://")?;
    if url.chars().count() > 2048 {
        return Err("must be at most 2048 characters".into());
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty()
        || authority.contains(['[', ']'])
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(format!("must be a web address such as {example}"));
    }
    // What a browser cannot follow (a bad port, a host no URL parser takes) can never be a
    // redirect's `Location`.
    match url::Url::parse(url) {
        Ok(parsed) if parsed.host_str().is_some_and(|h| !h.is_empty()) => {}
        _ => return Err(format!("must be a web address such as {example}")),
    }
    Ok(Some(url.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_text_trims_and_limits() {
        assert_eq!(required_text("  a ", 3), Ok("a".to_string()));
        assert!(required_text("   ", 3).is_err());
        assert!(required_text("abcd", 3).is_err());
        assert!(required_text("a\u{0}b", 3).is_err());
        assert!(optional_text("\u{c}edge", 10).is_err());
        assert!(optional_text(" a\r\n", 10).is_ok());
        assert!(required_text("edge\u{c}", 10).is_err());
    }

    #[test]
    fn names_are_not_web_addresses() {
        for name in [
            "Ann",
            "St.John",
            "J.R.",
            "Zoë O'Brien",
            "Dr. Who",
            "Ann-Marie",
            "Mr. Com",
        ] {
            assert!(person_name(name, 100).is_ok(), "{name}");
        }
        for link in [
            "WIN a prize at https://evil.example/claim",
            "www.evil.example",
            "claim.xyz/now",
            "go to WIN.COM",
            "prize.com!",
            "evil.com.",
            "evil.com:8080",
            "evil.com?x",
            "evil.com#a",
        ] {
            assert_eq!(
                person_name(link, 100),
                Err("must be a name, not a web address".to_string()),
                "{link}"
            );
        }
        assert_eq!(person_name("  ", 100), Ok(None));
        assert_eq!(
            required_person_name(" ", 100),
            Err("is required".to_string())
        );
    }

    #[test]
    fn web_urls() {
        let ok = |u: &str| web_url(u, true, "https://example.com").is_ok();
        assert!(ok("https://shop.example.com/welcome?x=1#top"));
        assert!(ok("http://localhost:8080"));
        for bad in [
            "",
            "ftp://x",
            "https://",
            "https://a b",
            "https://[::1]/",
            "https://x\u{7}",
            "https:///path",
            "https://x.example:99999/",
            "https://exa%mple.com/",
            "https://x.example/\u{85}x",
            "https://x.example/\u{7f}",
        ] {
            assert!(!ok(bad), "{bad:?}");
        }
        assert_eq!(web_url(" ", false, "x"), Ok(None));
    }

    #[test]
    fn nest_prefixes_fields() {
        let mut inner = Validation::new();
        inner.add("email", "is required");
        let mut outer = Validation::new();
        outer.nest("beneficiary", inner);
        assert_eq!(outer.errors()[0].field, "beneficiary.email");
    }
}
