//! Reward rules and the arithmetic of milestones.
//!
//! A rule pays when a referrer's count of won referrals reaches a threshold: once (`milestone`,
//! at N) or repeatedly (`every` N). Each payment is a numbered *step* — the count at which it
//! was reached (3, 6, 9 for "every 3") — so that a rule can never pay the same step twice and
//! a count that falls (a revoked referral) says exactly which steps are no longer earned.
//! Double-sided rules also reward the friend whose won referral reached the step.
//!
//! Lifecycle of a reward: `pending` (in the program's hold period) → `earned` → `delivered`,
//! or `revoked`. A delivered reward is never silently taken back: losing it opens a clawback
//! for review instead.

use crate::money::{Currency, Money};
use crate::validation::{Validation, optional_text, required_text};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| {
                    let names: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                    format!("must be one of {}", names.join(", "))
                })
            }
        }
    };
}

string_enum!(
    /// When a rule pays.
    Trigger { Milestone => "milestone", Every => "every" }
);
string_enum!(
    /// Who a rule rewards: the referrer only, or the referrer and the friend.
    Sides { Single => "single", Double => "double" }
);
string_enum!(
    /// What the reward is.
    RewardKind { Cash => "cash", Credit => "credit", Coupon => "coupon", Custom => "custom" }
);
string_enum!(
    /// How an earned reward is delivered: by staff from the queue, at once, or (cash only) as a
    /// due payment in the payables ledger, delivered when that payment is paid.
    Delivery { Manual => "manual", Automatic => "automatic", Payout => "payout" }
);
string_enum!(
    RewardStatus { Pending => "pending", Earned => "earned", Delivered => "delivered", Revoked => "revoked" }
);
string_enum!(
    /// Whose reward it is.
    Recipient { Referrer => "referrer", Friend => "friend" }
);

/// Checks a status change of a reward.
pub fn transition(from: RewardStatus, to: RewardStatus) -> Result<(), String> {
    use RewardStatus::*;
    match (from, to) {
        (Pending, Earned | Revoked) | (Earned, Delivered | Revoked) => Ok(()),
        (a, b) if a == b => Err(format!("the reward is already {a}")),
        (Delivered, Revoked) => {
            Err("a delivered reward is not taken back by revoking it; resolve its clawback".into())
        }
        (Pending, Delivered) => Err("the reward is still in its hold period".into()),
        (a, b) => Err(format!("a {a} reward cannot become {b}")),
    }
}

/// A rule as it arrives. The fields depend on each other, and a rule that breaks these is
/// refused with 422 naming the field: `cash` and `credit` need `amount` (and `friend_amount`
/// when double-sided); `coupon` and `custom` need `description`; only a `double` rule has a
/// friend's reward.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RuleFields {
    #[schema(
        required = true,
        min_length = 1,
        max_length = 200,
        example = "Give 10, get 10"
    )]
    pub name: String,
    /// `milestone` (the default: once, at `threshold` won referrals) or `every` (`threshold`,
    /// 2×, 3×, …).
    #[schema(value_type = Option<Trigger>)]
    #[serde(deserialize_with = "choice")]
    pub trigger: String,
    /// Won referrals: 1 to 10 000.
    #[schema(required = true, minimum = 1, maximum = 10000, example = 1)]
    pub threshold: i64,
    /// `single` (the default: the referrer) or `double` (the referrer and the friend).
    #[schema(value_type = Option<Sides>)]
    #[serde(deserialize_with = "choice")]
    pub sides: String,
    /// `cash` (the default), `credit`, `coupon` (codes from the rule's pool) or `custom`.
    #[schema(value_type = Option<RewardKind>)]
    #[serde(deserialize_with = "choice")]
    pub kind: String,
    /// Minor units of the program's currency (cash and credit): 1000 is USD 10.00.
    #[schema(minimum = 1, maximum = 1_000_000_000, example = 1000)]
    pub amount: Option<i64>,
    /// What the reward is, in words (required for coupon and custom).
    #[schema(max_length = 500)]
    pub description: String,
    /// The friend's reward of a double-sided rule, in minor units of the program's currency.
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    pub friend_amount: Option<i64>,
    #[schema(max_length = 500)]
    pub friend_description: String,
    /// At most this many rewards of this rule per participant: 1 to 10 000.
    #[schema(minimum = 1, maximum = 10000)]
    pub max_per_participant: Option<i64>,
    /// `manual` (the default: staff deliver it from the queue), `automatic` (at once, when
    /// earned) or, for cash, `payout` (a due payment in the payables ledger once earned; the
    /// reward is delivered when a payout batch or staff mark that payment paid).
    #[schema(value_type = Option<Delivery>)]
    #[serde(deserialize_with = "choice")]
    pub delivery: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleDraft {
    pub name: String,
    pub trigger: Trigger,
    pub threshold: i64,
    pub sides: Sides,
    pub kind: RewardKind,
    pub amount: Option<Money>,
    pub description: Option<String>,
    pub friend_amount: Option<Money>,
    pub friend_description: Option<String>,
    pub max_per_participant: Option<i64>,
    pub delivery: Delivery,
}

/// Largest amount one reward may carry: 10 million in major units of a two-decimal currency.
pub const MAX_AMOUNT: i64 = 1_000_000_000;

fn check_amount(
    raw: Option<i64>,
    needed: bool,
    currency: Currency,
) -> Result<Option<Money>, String> {
    match raw {
        None if needed => Err("is required for cash and credit rewards".into()),
        Some(a) if !(1..=MAX_AMOUNT).contains(&a) => Err(format!(
            "must be between {} and {}",
            Money::new(1, currency),
            Money::new(MAX_AMOUNT, currency)
        )),
        other => Ok(other.map(|a| Money::new(a, currency))),
    }
}

/// A closed-set field as the API takes it: one of the set's names, or `null` (or absent) for
/// the default. An empty string is refused, as the document's enum says; only the console's
/// forms, which build `RuleFields` themselves, use "" for the default.
fn choice<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(String::new()),
        Some(s) if s.trim().is_empty() => Err(serde::de::Error::custom(
            "must be one of the listed values; leave the field out (or null) for the default",
        )),
        Some(s) => Ok(s),
    }
}

fn parse_or_default<T: FromStr<Err = String>>(raw: &str, default: T) -> Result<T, String> {
    if raw.trim().is_empty() {
        Ok(default)
    } else {
        raw.trim().parse()
    }
}

impl RuleFields {
    /// Checks every field; amounts are minor units of the program's `currency`.
    pub fn parse(&self, currency: Currency) -> Result<RuleDraft, Validation> {
        let mut v = Validation::new();
        let name = v.check("name", required_text(&self.name, 200));
        let trigger = v.check(
            "trigger",
            parse_or_default(&self.trigger, Trigger::Milestone),
        );
        let threshold = v.check(
            "threshold",
            if (1..=10_000).contains(&self.threshold) {
                Ok(self.threshold)
            } else {
                Err("must be between 1 and 10000 won referrals".into())
            },
        );
        let sides = v.check("sides", parse_or_default(&self.sides, Sides::Single));
        let kind = v.check("kind", parse_or_default(&self.kind, RewardKind::Cash));
        let delivery = v.check(
            "delivery",
            parse_or_default(&self.delivery, Delivery::Manual),
        );
        if delivery == Some(Delivery::Payout) && kind.is_some_and(|k| k != RewardKind::Cash) {
            v.add("delivery", "payout is for cash rewards only");
        }
        let money = matches!(kind, Some(RewardKind::Cash | RewardKind::Credit));
        let amount = v.check("amount", check_amount(self.amount, money, currency));
        let description = v.check("description", optional_text(&self.description, 500));
        if matches!(kind, Some(RewardKind::Coupon | RewardKind::Custom))
            && description.as_ref().is_some_and(Option::is_none)
        {
            v.add("description", "is required: say what the reward is");
        }
        let double = sides == Some(Sides::Double);
        let friend_amount = v.check(
            "friend_amount",
            check_amount(self.friend_amount, money && double, currency),
        );
        let friend_description = v.check(
            "friend_description",
            optional_text(&self.friend_description, 500),
        );
        if !double && (self.friend_amount.is_some() || !self.friend_description.trim().is_empty()) {
            v.add("sides", "must be double for a friend's reward");
        }
        let max = v.check(
            "max_per_participant",
            match self.max_per_participant {
                Some(m) if !(1..=10_000).contains(&m) => Err("must be between 1 and 10000".into()),
                other => Ok(other),
            },
        );
        match (
            name,
            trigger,
            threshold,
            sides,
            kind,
            delivery,
            amount,
            description,
            friend_amount,
            friend_description,
            max,
        ) {
            (
                Some(name),
                Some(trigger),
                Some(threshold),
                Some(sides),
                Some(kind),
                Some(delivery),
                Some(amount),
                Some(description),
                Some(friend_amount),
                Some(friend_description),
                Some(max_per_participant),
            ) if v.is_empty() => Ok(RuleDraft {
                name,
                trigger,
                threshold,
                sides,
                kind,
                amount,
                description,
                friend_amount,
                friend_description,
                max_per_participant,
                delivery,
            }),
            _ => Err(v),
        }
    }
}

/// The steps a referrer with `won` won referrals has reached under a rule.
pub fn steps_reached(
    trigger: Trigger,
    threshold: i64,
    max_per_participant: Option<i64>,
    won: i64,
) -> Vec<i64> {
    if threshold < 1 || won < threshold {
        return Vec::new();
    }
    let cap = max_per_participant.unwrap_or(i64::MAX);
    match trigger {
        Trigger::Milestone => vec![threshold],
        Trigger::Every => (1..=won / threshold)
            .take(usize::try_from(cap).unwrap_or(usize::MAX))
            .map(|k| k * threshold)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milestones_and_repeats() {
        assert_eq!(
            steps_reached(Trigger::Milestone, 3, None, 2),
            Vec::<i64>::new()
        );
        assert_eq!(steps_reached(Trigger::Milestone, 3, None, 3), vec![3]);
        assert_eq!(steps_reached(Trigger::Milestone, 3, None, 10), vec![3]);
        assert_eq!(steps_reached(Trigger::Every, 3, None, 10), vec![3, 6, 9]);
        assert_eq!(steps_reached(Trigger::Every, 1, Some(2), 10), vec![1, 2]);
        assert_eq!(steps_reached(Trigger::Every, 5, None, 4), Vec::<i64>::new());
    }

    #[test]
    fn delivered_rewards_are_not_revoked() {
        use RewardStatus::*;
        assert!(transition(Pending, Earned).is_ok());
        assert!(transition(Earned, Delivered).is_ok());
        assert!(transition(Pending, Revoked).is_ok());
        assert!(transition(Delivered, Revoked).is_err());
        assert!(transition(Pending, Delivered).is_err());
        assert!(transition(Revoked, Earned).is_err());
    }

    #[test]
    fn rules_are_checked_field_by_field() {
        let ok = RuleFields {
            name: "3 friends".into(),
            threshold: 3,
            amount: Some(2500),
            ..Default::default()
        }
        .parse(Currency::USD)
        .expect("valid");
        assert_eq!(
            (ok.trigger, ok.sides, ok.kind, ok.delivery),
            (
                Trigger::Milestone,
                Sides::Single,
                RewardKind::Cash,
                Delivery::Manual
            )
        );
        let bad = RuleFields {
            trigger: "sometimes".into(),
            threshold: 0,
            kind: "coupon".into(),
            friend_amount: Some(5),
            max_per_participant: Some(0),
            ..Default::default()
        }
        .parse(Currency::USD)
        .expect_err("invalid");
        let fields: Vec<&str> = bad.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "name",
                "trigger",
                "threshold",
                "description",
                "sides",
                "max_per_participant"
            ]
        );
        let double = RuleFields {
            name: "Both".into(),
            threshold: 1,
            sides: "double".into(),
            amount: Some(1000),
            ..Default::default()
        }
        .parse(Currency::USD)
        .expect_err("friend amount missing");
        assert_eq!(double.errors()[0].field, "friend_amount");
        let too_much = RuleFields {
            name: "Big".into(),
            threshold: 1,
            amount: Some(MAX_AMOUNT + 1),
            ..Default::default()
        }
        .parse(Currency::USD)
        .expect_err("too much");
        assert_eq!(
            too_much.errors()[0].message,
            "must be between USD 0.01 and USD 10000000.00"
        );
        let payout = |kind: &str| RuleFields {
            name: "Paid out".into(),
            threshold: 1,
            kind: kind.into(),
            amount: Some(1000),
            description: "A gift".into(),
            delivery: "payout".into(),
            ..Default::default()
        };
        let cash = payout("cash").parse(Currency::USD).expect("cash by payout");
        assert_eq!(cash.delivery, Delivery::Payout);
        for kind in ["credit", "coupon", "custom"] {
            let err = payout(kind).parse(Currency::USD).expect_err(kind);
            assert_eq!(err.errors()[0].field, "delivery", "{kind}");
        }
    }
}
