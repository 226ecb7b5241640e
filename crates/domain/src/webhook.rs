//! Webhook rules that need no I/O: which endpoints an event goes to, the shape of secrets, the
//! retry schedule with jitter, and what a response status means for the delivery.

use std::time::Duration;

/// Standard Webhooks' example schedule after the first, immediate attempt: 5 s, 5 min, 30 min,
/// 2 h, 5 h, 10 h, 14 h, 20 h, 24 h (10 attempts over about 3 days).
pub const DEFAULT_RETRY_SCHEDULE: &[u64] = &[5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400];

/// Whether an endpoint's filter entry matches an event type: `*` matches everything,
/// `account.*` every type that starts with `account.`, anything else only itself.
pub fn type_matches(pattern: &str, event_type: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some("") => true,
        Some(prefix) => prefix.ends_with('.') && event_type.starts_with(prefix),
        None => pattern == event_type,
    }
}

/// Whether any entry of a filter matches; an empty filter matches every type.
pub fn filter_matches(filter: &[String], event_type: &str) -> bool {
    filter.is_empty() || filter.iter().any(|p| type_matches(p, event_type))
}

/// Checks one filter entry: a dotted type such as `account.created`, a prefix wildcard such as
/// `account.*`, or `*`.
pub fn parse_filter_entry(raw: &str) -> Result<String, String> {
    let entry = raw.trim();
    let body = entry.strip_suffix(".*").unwrap_or(entry);
    let ok = entry == "*"
        || (!body.is_empty()
            && body.len() <= 100
            && body.split('.').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            }));
    if ok {
        Ok(entry.to_string())
    } else {
        Err(format!(
            "`{entry}` is not an event type, a prefix such as `account.*`, or `*`"
        ))
    }
}

/// Delay before attempt `next_attempt` (2 for the first retry), or `None` when the schedule is
/// used up. `jitter` in [0, 1) spreads retries ±20 % so that failed endpoints are not hit by
/// every job at the same instant.
pub fn retry_delay(schedule: &[u64], next_attempt: u32, jitter: f64) -> Option<Duration> {
    let index = usize::try_from(next_attempt.checked_sub(2)?).ok()?;
    let base = *schedule.get(index)? as f64;
    let factor = 0.8 + 0.4 * jitter.clamp(0.0, 1.0);
    Some(Duration::from_millis(
        (base * factor * 1000.0).round() as u64
    ))
}

/// What a response means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// Retry later.
    Failed,
    /// 410 Gone: the receiver wants no more; disable the endpoint.
    Gone,
}

/// Only 2xx is success; redirects are failures (they are not followed).
pub fn outcome(status: u16) -> Outcome {
    match status {
        200..=299 => Outcome::Delivered,
        410 => Outcome::Gone,
        _ => Outcome::Failed,
    }
}

/// An endpoint secret is `whsec_` and the base64 of at least 24 random bytes.
pub fn secret_key(secret: &str) -> Option<&str> {
    secret.strip_prefix("whsec_").filter(|k| k.len() >= 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters() {
        assert!(type_matches("*", "account.created"));
        assert!(type_matches("account.*", "account.created"));
        assert!(!type_matches("account.*", "accounts.created"));
        assert!(!type_matches("account.*", "referral_setup.approved"));
        assert!(type_matches("account.created", "account.created"));
        assert!(!type_matches("account.created", "account.updated"));
        assert!(filter_matches(&[], "x.y"));
        assert!(parse_filter_entry("account.*").is_ok());
        assert!(parse_filter_entry("referral_setup.approved").is_ok());
        assert!(parse_filter_entry("*").is_ok());
        for bad in ["", "account.", "Account.created", "acc*", "a..b", "a b"] {
            assert!(parse_filter_entry(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn schedule_with_jitter() {
        let s = DEFAULT_RETRY_SCHEDULE;
        assert_eq!(
            retry_delay(s, 1, 0.5),
            None,
            "the first attempt is immediate, not a retry"
        );
        assert_eq!(retry_delay(s, 2, 0.5), Some(Duration::from_secs(5)));
        assert_eq!(retry_delay(s, 2, 0.0), Some(Duration::from_secs(4)));
        assert_eq!(retry_delay(s, 2, 1.0), Some(Duration::from_secs(6)));
        assert_eq!(retry_delay(s, 10, 0.5), Some(Duration::from_secs(86400)));
        assert_eq!(retry_delay(s, 11, 0.5), None);
        assert_eq!(s.len() + 1, 10, "ten attempts in all");
    }

    #[test]
    fn outcomes() {
        assert_eq!(outcome(200), Outcome::Delivered);
        assert_eq!(outcome(204), Outcome::Delivered);
        assert_eq!(outcome(301), Outcome::Failed);
        assert_eq!(outcome(410), Outcome::Gone);
        assert_eq!(outcome(500), Outcome::Failed);
    }
}
