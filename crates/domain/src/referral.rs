//! Referrals: the record that links a referrer to the person they brought, its stages, and
//! attribution — which referral link gets the credit for a signup.
//!
//! A signup can carry several touches: the code the operator's system passes (`referred_by`),
//! the hidden field of a form (filled from `?ref=` on the landing page) and the attribution
//! cookie `/r/{code}` set. The program's model picks one: `first_click` the earliest touch still
//! inside the window, `last_click` the latest. Touches without their own time (a code typed
//! into a form) count as happening at the signup.

use crate::program::AttributionModel;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    New,
    InProgress,
    Won,
    Lost,
    Junk,
}

impl Stage {
    pub const ALL: [Stage; 5] = [
        Self::New,
        Self::InProgress,
        Self::Won,
        Self::Lost,
        Self::Junk,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::InProgress => "in_progress",
            Self::Won => "won",
            Self::Lost => "lost",
            Self::Junk => "junk",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Stage {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| "must be one of new, in_progress, won, lost, junk".to_string())
    }
}

/// Checks a stage change. `won → lost` is a revocation (a refund, say) and `won → junk` a win
/// found to be fraud; `lost` and `junk` are final, so a decision once taken is not silently
/// undone.
pub fn transition(from: Stage, to: Stage) -> Result<(), String> {
    use Stage::*;
    match (from, to) {
        (New, InProgress | Won | Lost | Junk)
        | (InProgress, Won | Lost | Junk)
        | (Won, Lost | Junk) => Ok(()),
        (a, b) if a == b => Err(format!("the referral is already {a}")),
        (Lost | Junk, _) => Err(format!("a {from} referral cannot change")),
        (a, b) => Err(format!("a {a} referral cannot become {b}")),
    }
}

/// How the referral reached Vouch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// `referred_by` in an API call.
    Code,
    /// The hidden field of the hosted or embedded form.
    Form,
    /// The attribution cookie of a referral link.
    Link,
    Import,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Code => "code",
            Self::Form => "form",
            Self::Link => "link",
            Self::Import => "import",
        }
    }
}

/// One piece of evidence that a code referred this signup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Touch {
    pub code: String,
    pub source: Source,
    /// Unix seconds of the click; `None` when the touch happens at the signup itself.
    pub at: Option<i64>,
}

impl Source {
    /// On equal times the more explicit evidence wins: a code passed on purpose over a form
    /// field over a cookie.
    fn weight(self) -> u8 {
        match self {
            Self::Code => 3,
            Self::Form => 2,
            Self::Link | Self::Import => 1,
        }
    }
}

/// The touch that gets the credit, or none when every touch is outside the window. Ties in
/// time go to the more explicit source, then to the earlier (first click) or later (last
/// click) position in `touches`.
pub fn attribute(
    model: AttributionModel,
    window_days: i64,
    now: i64,
    touches: &[Touch],
) -> Option<Touch> {
    let oldest_allowed = now - window_days * 86_400;
    let inside = touches
        .iter()
        .enumerate()
        .map(|(i, t)| (t.at.unwrap_or(now), i, t))
        .filter(|(at, _, t)| *at >= oldest_allowed && *at <= now + 60 && !t.code.is_empty());
    let chosen = match model {
        AttributionModel::FirstClick => {
            inside.min_by_key(|(at, i, t)| (*at, std::cmp::Reverse(t.source.weight()), *i))
        }
        AttributionModel::LastClick => inside.max_by_key(|(at, i, t)| (*at, t.source.weight(), *i)),
    };
    chosen.map(|(_, _, t)| t.clone())
}

/// The attribution cookie of one program: `{first_code}.{first_unix}.{last_code}.{last_unix}`.
/// Keeping the first click's time lets first-click attribution respect the window even though
/// every later click renews the cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefCookie {
    pub first_code: String,
    pub first_at: i64,
    pub last_code: String,
    pub last_at: i64,
}

impl RefCookie {
    /// Cookie names carry the program, so clicks on two programs' links do not overwrite
    /// each other.
    pub fn name(program_id: &str) -> String {
        format!("vouch_ref_{program_id}")
    }

    /// The cookie after a click on `code` at `now`.
    pub fn after_click(previous: Option<RefCookie>, code: &str, now: i64) -> RefCookie {
        match previous {
            Some(p) => RefCookie {
                first_code: p.first_code,
                first_at: p.first_at,
                last_code: code.to_string(),
                last_at: now,
            },
            None => RefCookie {
                first_code: code.to_string(),
                first_at: now,
                last_code: code.to_string(),
                last_at: now,
            },
        }
    }

    pub fn parse(raw: &str) -> Option<RefCookie> {
        let mut parts = raw.split('.');
        let code = |s: &str| {
            (!s.is_empty() && s.len() <= 32 && s.chars().all(|c| c.is_ascii_alphanumeric()))
                .then(|| s.to_ascii_uppercase())
        };
        let first_code = code(parts.next()?)?;
        let first_at = parts.next()?.parse().ok()?;
        let last_code = code(parts.next()?)?;
        let last_at = parts.next()?.parse().ok()?;
        if parts.next().is_some() {
            return None;
        }
        Some(RefCookie {
            first_code,
            first_at,
            last_code,
            last_at,
        })
    }

    pub fn value(&self) -> String {
        format!(
            "{}.{}.{}.{}",
            self.first_code, self.first_at, self.last_code, self.last_at
        )
    }

    pub fn touches(&self) -> [Touch; 2] {
        [
            Touch {
                code: self.first_code.clone(),
                source: Source::Link,
                at: Some(self.first_at),
            },
            Touch {
                code: self.last_code.clone(),
                source: Source::Link,
                at: Some(self.last_at),
            },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AttributionModel::*;

    const DAY: i64 = 86_400;

    fn link(code: &str, at: i64) -> Touch {
        Touch {
            code: code.into(),
            source: Source::Link,
            at: Some(at),
        }
    }

    #[test]
    fn stages_move_forward_only() {
        assert!(transition(Stage::New, Stage::Won).is_ok());
        assert!(transition(Stage::Won, Stage::Lost).is_ok());
        assert!(transition(Stage::Won, Stage::Won).is_err());
        assert!(transition(Stage::Junk, Stage::Won).is_err());
        assert!(transition(Stage::Lost, Stage::Won).is_err());
        assert!(transition(Stage::Won, Stage::New).is_err());
    }

    #[test]
    fn first_and_last_click_inside_the_window() {
        let now = 100 * DAY;
        let touches = [link("AAA", now - 20 * DAY), link("BBB", now - DAY)];
        assert_eq!(
            attribute(FirstClick, 30, now, &touches).map(|t| t.code),
            Some("AAA".into())
        );
        assert_eq!(
            attribute(LastClick, 30, now, &touches).map(|t| t.code),
            Some("BBB".into())
        );
        // The first click fell out of a 10-day window: the last one is all that is left.
        assert_eq!(
            attribute(FirstClick, 10, now, &touches).map(|t| t.code),
            Some("BBB".into())
        );
        assert_eq!(
            attribute(LastClick, 30, now, &[link("OLD", now - 31 * DAY)]),
            None
        );
    }

    #[test]
    fn a_code_given_at_signup_is_the_latest_touch() {
        let now = 100 * DAY;
        let typed = Touch {
            code: "FORM".into(),
            source: Source::Form,
            at: None,
        };
        let touches = [typed.clone(), link("LINK", now - DAY)];
        assert_eq!(attribute(LastClick, 30, now, &touches), Some(typed));
        assert_eq!(
            attribute(FirstClick, 30, now, &touches).map(|t| t.code),
            Some("LINK".into())
        );
        assert_eq!(attribute(LastClick, 30, now, &[]), None);
    }

    #[test]
    fn clicks_in_the_same_second_keep_their_order() {
        let now = 100 * DAY;
        let cookie = RefCookie::after_click(Some(RefCookie::after_click(None, "A", now)), "B", now);
        let touches = cookie.touches();
        assert_eq!(
            attribute(LastClick, 30, now, &touches).map(|t| t.code),
            Some("B".into())
        );
        assert_eq!(
            attribute(FirstClick, 30, now, &touches).map(|t| t.code),
            Some("A".into())
        );
    }

    #[test]
    fn cookie_round_trip_keeps_the_first_click() {
        let c = RefCookie::after_click(None, "AAA", 10);
        let c = RefCookie::after_click(Some(c), "BBB", 20);
        assert_eq!(c.value(), "AAA.10.BBB.20");
        assert_eq!(RefCookie::parse(&c.value()), Some(c));
        assert_eq!(RefCookie::parse("AAA.10.BBB"), None);
        assert_eq!(RefCookie::parse("A-A.10.BBB.2"), None);
        assert_eq!(RefCookie::parse("AAA.x.BBB.2"), None);
    }
}
