//! Limits on the public writes anyone can send (signups, registrations, sign-in link and reset
//! requests, unsubscribes, partner enquiries): per client address and per program (or super
//! customer, or partner), each a token bucket that refills over the hour, so a burst is cut
//! short and a patient visitor is never locked out for long. Over the limit: 429 with
//! `Retry-After`. The buckets live in this process; with several processes behind a load
//! balancer each keeps its own, so the installation's limit is at most that many times the
//! setting.

use crate::AppState;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use vouch_app::PublicLimits;

/// The kinds of public write, each with buckets of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PublicWrite {
    Signup,
    Registration,
    SignInLink,
    PasswordReset,
    Unsubscribe,
    Enquiry,
}

const HOUR: Duration = Duration::from_secs(3600);
/// Buckets kept before full ones are forgotten (a full bucket is the same as none), at most
/// once a minute so that the scan never runs on every request.
const PRUNE_AT: usize = 100_000;
const PRUNE_EVERY: Duration = Duration::from_secs(60);
/// Buckets kept at most, whatever their state: past it (an attacker spreading requests over
/// many addresses) they are all forgotten, which admits writes rather than grow without bound.
const MAX_BUCKETS: usize = 500_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

type Buckets = HashMap<(PublicWrite, bool, String), Bucket>;

#[derive(Default)]
pub struct Throttle {
    buckets: Mutex<(Buckets, Option<Instant>)>,
}

impl Throttle {
    /// Takes one token from the address's bucket and the scope's (when there is a scope); the
    /// seconds to wait when either is empty. Nothing is taken from either when one refuses.
    pub fn admit(
        &self,
        limits: &PublicLimits,
        what: PublicWrite,
        client_ip: &str,
        scope: Option<&str>,
    ) -> Result<(), u64> {
        self.admit_at(Instant::now(), limits, what, client_ip, scope)
    }

    fn admit_at(
        &self,
        now: Instant,
        limits: &PublicLimits,
        what: PublicWrite,
        client_ip: &str,
        scope: Option<&str>,
    ) -> Result<(), u64> {
        let Ok(mut guard) = self.buckets.lock() else {
            return Ok(());
        };
        let (buckets, pruned_at) = &mut *guard;
        let due = pruned_at.is_none_or(|at| now.saturating_duration_since(at) >= PRUNE_EVERY);
        if buckets.len() > PRUNE_AT && due {
            *pruned_at = Some(now);
            buckets.retain(|(_, per_address, _), b| {
                let per_hour = if *per_address {
                    limits.per_address_per_hour
                } else {
                    limits.per_program_per_hour
                };
                refilled(*b, now, per_hour) < f64::from(per_hour)
            });
        }
        if buckets.len() > MAX_BUCKETS {
            tracing::warn!(
                buckets = buckets.len(),
                "public-write limits forgot every bucket: too many addresses at once"
            );
            buckets.clear();
        }
        let mut wanted = vec![(true, address_key(client_ip), limits.per_address_per_hour)];
        if let Some(scope) = scope {
            wanted.push((false, scope.to_string(), limits.per_program_per_hour));
        }
        let mut wait = 0u64;
        let mut taken = Vec::new();
        for (per_address, key, per_hour) in wanted {
            if per_hour == 0 {
                continue; // off
            }
            let bucket = buckets
                .get(&(what, per_address, key.clone()))
                .copied()
                .unwrap_or(Bucket {
                    tokens: f64::from(per_hour),
                    at: now,
                });
            let tokens = refilled(bucket, now, per_hour);
            if tokens >= 1.0 {
                taken.push(((what, per_address, key), tokens - 1.0));
            } else {
                let seconds = (1.0 - tokens) * HOUR.as_secs_f64() / f64::from(per_hour);
                #[expect(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    reason = "at most an hour"
                )]
                let seconds = seconds.ceil().max(1.0) as u64;
                wait = wait.max(seconds);
            }
        }
        if wait > 0 {
            return Err(wait);
        }
        for (key, tokens) in taken {
            buckets.insert(key, Bucket { tokens, at: now });
        }
        Ok(())
    }
}

/// Tokens in a bucket now: what it held, plus the hour's refill since, up to the limit.
fn refilled(b: Bucket, now: Instant, per_hour: u32) -> f64 {
    let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
    (b.tokens + elapsed * f64::from(per_hour) / HOUR.as_secs_f64()).min(f64::from(per_hour))
}

/// One bucket per IPv4 address, and per /64 for IPv6: one subscriber holds a whole /64.
fn address_key(client_ip: &str) -> String {
    match client_ip.parse::<IpAddr>().map(|ip| ip.to_canonical()) {
        Ok(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(ip) => ip.to_string(),
        Err(_) => client_ip.to_string(),
    }
}

/// The page a refused public write gets: 429, `Retry-After`, and when to come back.
pub fn refused(retry_after: u64) -> Response {
    let minutes = retry_after.div_ceil(60);
    let err = crate::error::ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        format!(
            "Too many requests from your network. Please try again in {minutes} minute{}.",
            if minutes == 1 { "" } else { "s" }
        ),
    );
    let mut response = crate::console::error_page(&err);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    response
}

/// The refusal page when this public write is over a limit; `None` admits it.
pub fn refusal(
    state: &AppState,
    what: PublicWrite,
    client_ip: &str,
    scope: Option<&str>,
) -> Option<Response> {
    state
        .throttle
        .admit(&state.settings.public_limits, what, client_ip, scope)
        .err()
        .map(refused)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_address: u32, per_program: u32) -> PublicLimits {
        PublicLimits {
            per_address_per_hour: per_address,
            per_program_per_hour: per_program,
            ..PublicLimits::default()
        }
    }

    #[test]
    fn an_address_gets_its_burst_then_waits_for_the_refill() {
        let t = Throttle::default();
        let l = limits(3, 0);
        let now = Instant::now();
        for _ in 0..3 {
            assert_eq!(
                t.admit_at(now, &l, PublicWrite::Signup, "192.0.2.1", None),
                Ok(())
            );
        }
        // 3 an hour: one token every 20 minutes.
        assert_eq!(
            t.admit_at(now, &l, PublicWrite::Signup, "192.0.2.1", None),
            Err(1200)
        );
        // Another address, another kind of write: buckets of their own.
        assert_eq!(
            t.admit_at(now, &l, PublicWrite::Signup, "192.0.2.2", None),
            Ok(())
        );
        assert_eq!(
            t.admit_at(now, &l, PublicWrite::Unsubscribe, "192.0.2.1", None),
            Ok(())
        );
        let later = now + Duration::from_secs(1200);
        assert_eq!(
            t.admit_at(later, &l, PublicWrite::Signup, "192.0.2.1", None),
            Ok(())
        );
        assert!(
            t.admit_at(later, &l, PublicWrite::Signup, "192.0.2.1", None)
                .is_err()
        );
    }

    #[test]
    fn a_program_has_a_limit_across_addresses_and_ipv6_counts_by_64() {
        let t = Throttle::default();
        let l = limits(100, 2);
        let now = Instant::now();
        assert!(
            t.admit_at(
                now,
                &l,
                PublicWrite::Signup,
                "2001:db8:1:2::1",
                Some("prg_a")
            )
            .is_ok()
        );
        assert!(
            t.admit_at(
                now,
                &l,
                PublicWrite::Signup,
                "2001:db8:1:2::ffff",
                Some("prg_a")
            )
            .is_ok()
        );
        assert_eq!(
            t.admit_at(now, &l, PublicWrite::Signup, "198.51.100.7", Some("prg_a")),
            Err(1800)
        );
        assert!(
            t.admit_at(now, &l, PublicWrite::Signup, "198.51.100.7", Some("prg_b"))
                .is_ok()
        );

        let one_per_64 = limits(1, 0);
        assert!(
            t.admit_at(
                now,
                &one_per_64,
                PublicWrite::Enquiry,
                "2001:db8:1:2::1",
                None
            )
            .is_ok()
        );
        assert!(
            t.admit_at(
                now,
                &one_per_64,
                PublicWrite::Enquiry,
                "2001:db8:1:2:aaaa::9",
                None
            )
            .is_err()
        );
        assert!(
            t.admit_at(
                now,
                &one_per_64,
                PublicWrite::Enquiry,
                "2001:db8:1:3::1",
                None
            )
            .is_ok()
        );
    }

    #[test]
    fn a_refused_write_takes_nothing_and_zero_turns_a_limit_off() {
        let t = Throttle::default();
        let l = limits(1, 1);
        let now = Instant::now();
        assert!(
            t.admit_at(now, &l, PublicWrite::Signup, "192.0.2.1", Some("p"))
                .is_ok()
        );
        // The program is spent: the second address is refused and keeps its own token.
        assert!(
            t.admit_at(now, &l, PublicWrite::Signup, "192.0.2.2", Some("p"))
                .is_err()
        );
        assert!(
            t.admit_at(now, &l, PublicWrite::Signup, "192.0.2.2", Some("q"))
                .is_ok()
        );
        let off = limits(0, 0);
        for _ in 0..1000 {
            assert!(
                t.admit_at(now, &off, PublicWrite::Signup, "192.0.2.9", Some("p"))
                    .is_ok()
            );
        }
    }
}
