//! Fraud checks on a referred signup. Each check that fires is a flag with a reason; a flagged
//! referral waits in the review queue and does not count toward rewards until staff clear it.
//!
//! Flags (after the rules published by the leading tools, see REFERENCE.md):
//! - `self_referral`: the friend's normalised email, signup address (IP hash) or device cookie is
//!   the referrer's own;
//! - `disposable_email`: the friend's email domain, or a domain it is under, is on the shipped
//!   list of disposable domains (`data/disposable_domains.txt`, CC0);
//! - `velocity`: more signups from one IP hash in the last hour than the configured limit;
//! - `existing_participant`: the normalised email already belongs to another participant of the
//!   program (the same person again under a `+tag` or dotted Gmail address).

use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::OnceLock;

/// The key two addresses of one mailbox share: lower case, `+tag` removed, and for Gmail the
/// dots removed and `googlemail.com` read as `gmail.com`.
pub fn normalise_email(email: &str) -> String {
    let email = email.trim().to_lowercase();
    let Some((local, domain)) = email.rsplit_once('@') else {
        return email;
    };
    let local = local.split('+').next().unwrap_or(local);
    let domain = if domain == "googlemail.com" {
        "gmail.com"
    } else {
        domain
    };
    if domain == "gmail.com" {
        format!("{}@{domain}", local.replace('.', ""))
    } else {
        format!("{local}@{domain}")
    }
}

fn disposable_domains() -> &'static HashSet<&'static str> {
    static LIST: OnceLock<HashSet<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| {
        include_str!("../data/disposable_domains.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    })
}

/// Whether the address is at a disposable domain, or under one (`x.mailinator.com`).
pub fn is_disposable(email: &str) -> bool {
    let email = email.trim().to_lowercase();
    let Some((_, domain)) = email.rsplit_once('@') else {
        return false;
    };
    let list = disposable_domains();
    let mut rest = domain;
    loop {
        if list.contains(rest) {
            return true;
        }
        match rest.split_once('.') {
            Some((_, parent)) if parent.contains('.') => rest = parent,
            _ => return false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FlagKind {
    SelfReferral,
    DisposableEmail,
    Velocity,
    ExistingParticipant,
}

/// A check that fired, with what it saw (never raw addresses or IPs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Flag {
    pub flag: FlagKind,
    pub detail: String,
}

/// What is known about one side of a referral.
#[derive(Debug, Clone, Default)]
pub struct Person<'a> {
    pub email: &'a str,
    pub ip_hash: Option<&'a str>,
    pub device_hash: Option<&'a str>,
}

/// What the store found out about the friend's signup.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Signups of the program from the friend's IP hash in the last hour, this one included.
    pub signups_from_ip_last_hour: i64,
    pub velocity_limit_per_hour: i64,
    /// Another participant of the program has the friend's normalised email.
    pub email_key_taken: bool,
}

/// Every flag the signup raises.
pub fn check(referrer: &Person<'_>, friend: &Person<'_>, ctx: &Context) -> Vec<Flag> {
    let mut flags = Vec::new();
    let same = |a: Option<&str>, b: Option<&str>| matches!((a, b), (Some(a), Some(b)) if a == b);
    let mut why = Vec::new();
    if normalise_email(referrer.email) == normalise_email(friend.email) {
        why.push("the same mailbox");
    }
    if same(referrer.ip_hash, friend.ip_hash) {
        why.push("the same network address");
    }
    if same(referrer.device_hash, friend.device_hash) {
        why.push("the same browser");
    }
    if !why.is_empty() {
        flags.push(Flag {
            flag: FlagKind::SelfReferral,
            detail: format!("signed up from {} as the referrer", why.join(" and ")),
        });
    }
    if is_disposable(friend.email) {
        let domain = friend.email.rsplit_once('@').map_or("", |(_, d)| d);
        flags.push(Flag {
            flag: FlagKind::DisposableEmail,
            detail: format!("{domain} hands out throwaway addresses"),
        });
    }
    if ctx.velocity_limit_per_hour > 0
        && ctx.signups_from_ip_last_hour > ctx.velocity_limit_per_hour
    {
        flags.push(Flag {
            flag: FlagKind::Velocity,
            detail: format!(
                "{} signups from one network address within an hour (limit {})",
                ctx.signups_from_ip_last_hour, ctx.velocity_limit_per_hour
            ),
        });
    }
    if ctx.email_key_taken {
        flags.push(Flag {
            flag: FlagKind::ExistingParticipant,
            detail: "another participant already uses this mailbox".into(),
        });
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_normalise_as_dub_describes() {
        assert_eq!(
            normalise_email(" Ann.Lee+promo@GMail.com "),
            "annlee@gmail.com"
        );
        assert_eq!(normalise_email("a.n.n@googlemail.com"), "ann@gmail.com");
        assert_eq!(
            normalise_email("ann.lee+x@example.com"),
            "ann.lee@example.com"
        );
        assert_eq!(normalise_email("no-at-sign"), "no-at-sign");
    }

    #[test]
    fn disposable_domains_match_on_the_domain_and_its_parents() {
        assert!(is_disposable("x@mailinator.com"));
        assert!(is_disposable("x@eu.mailinator.com"));
        assert!(!is_disposable("x@example.com"));
        assert!(!is_disposable("x@gmail.com"));
        assert!(!is_disposable("not-an-email"));
    }

    #[test]
    fn each_check_fires_on_its_own() {
        let referrer = Person {
            email: "ann@example.com",
            ip_hash: Some("ip1"),
            device_hash: Some("dev1"),
        };
        let clean = Person {
            email: "bo@example.com",
            ip_hash: Some("ip2"),
            device_hash: None,
        };
        let ctx = Context {
            signups_from_ip_last_hour: 1,
            velocity_limit_per_hour: 5,
            email_key_taken: false,
        };
        assert!(check(&referrer, &clean, &ctx).is_empty());
        let same_ip = Person {
            ip_hash: Some("ip1"),
            ..clean.clone()
        };
        let flags = check(&referrer, &same_ip, &ctx);
        assert_eq!(flags[0].flag, FlagKind::SelfReferral);
        assert!(flags[0].detail.contains("network address"));
        let own_mailbox = Person {
            email: "ann+2@example.com",
            ..clean.clone()
        };
        assert_eq!(
            check(&referrer, &own_mailbox, &ctx)[0].flag,
            FlagKind::SelfReferral
        );
        let throwaway = Person {
            email: "bo@yopmail.com",
            ..clean.clone()
        };
        assert_eq!(
            check(&referrer, &throwaway, &ctx)[0].flag,
            FlagKind::DisposableEmail
        );
        let busy = Context {
            signups_from_ip_last_hour: 6,
            ..ctx.clone()
        };
        assert_eq!(check(&referrer, &clean, &busy)[0].flag, FlagKind::Velocity);
        let again = Context {
            email_key_taken: true,
            ..ctx
        };
        assert_eq!(
            check(&referrer, &clean, &again)[0].flag,
            FlagKind::ExistingParticipant
        );
    }
}
