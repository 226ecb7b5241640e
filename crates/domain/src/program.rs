//! Referral programs: their settings, and the lifecycle `draft → live ⇄ paused → ended`.
//! Going live is a Management Team decision; ending is final.

use crate::email::Email;
use crate::validation::{Validation, optional_text, required_text};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProgramStatus {
    Draft,
    Live,
    Paused,
    Ended,
}

impl ProgramStatus {
    pub const ALL: [ProgramStatus; 4] = [Self::Draft, Self::Live, Self::Paused, Self::Ended];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Live => "live",
            Self::Paused => "paused",
            Self::Ended => "ended",
        }
    }
}

impl fmt::Display for ProgramStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProgramStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| "must be one of draft, live, paused, ended".to_string())
    }
}

/// Checks a status change. Returns whether it needs a manager (going live does).
pub fn transition(from: ProgramStatus, to: ProgramStatus) -> Result<bool, String> {
    use ProgramStatus::*;
    match (from, to) {
        (Draft, Live) | (Paused, Live) => Ok(true),
        (Live, Paused) | (Live, Ended) | (Paused, Ended) | (Draft, Ended) => Ok(false),
        (a, b) if a == b => Err(format!("the program is already {a}")),
        (Ended, _) => Err("an ended program cannot change; create a new one".into()),
        (a, b) => Err(format!("a {a} program cannot become {b}")),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttributionModel {
    FirstClick,
    LastClick,
}

impl AttributionModel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FirstClick => "first_click",
            Self::LastClick => "last_click",
        }
    }
}

impl FromStr for AttributionModel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "first_click" => Ok(Self::FirstClick),
            "last_click" => Ok(Self::LastClick),
            _ => Err("must be first_click or last_click".into()),
        }
    }
}

/// Program settings as they arrive, before checks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ProgramFields {
    pub name: String,
    pub slug: String,
    pub landing_url: String,
    pub fallback_url: String,
    pub attribution_window_days: i64,
    pub attribution_model: String,
    /// `signup`, `email_verified`, or the name of a custom event such as `purchase`.
    pub qualifying_event: String,
    pub reward_hold_days: i64,
    pub currency: String,
    pub sender_name: String,
    pub reply_to: String,
    /// Registrations of this program's participants nest under this super customer.
    pub super_customer_id: Option<i64>,
    /// Show participants their rank among the program's referrers on their referral page.
    pub show_leaderboard: bool,
    /// The signup page's headline (default "Join {name}").
    pub headline: String,
    /// What the program offers, in the operator's words ("Give $10, get $10"): shown on the
    /// signup and referral pages and available to emails.
    pub offer: String,
    /// The logo at the top of the public pages: an `https://` image address.
    pub logo_url: String,
    /// The pages' accent colour, `#RRGGBB`.
    pub brand_color: String,
}

/// Checked settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProgramDraft {
    pub name: String,
    pub slug: String,
    pub landing_url: String,
    pub fallback_url: Option<String>,
    pub attribution_window_days: i64,
    pub attribution_model: AttributionModel,
    pub qualifying_event: String,
    pub reward_hold_days: i64,
    pub currency: String,
    pub sender_name: Option<String>,
    pub reply_to: Option<String>,
    pub super_customer_id: Option<i64>,
    pub show_leaderboard: bool,
    pub headline: Option<String>,
    pub offer: Option<String>,
    pub logo_url: Option<String>,
    pub brand_color: Option<String>,
}

impl ProgramFields {
    /// Sensible defaults for a new program.
    pub fn new_defaults() -> Self {
        Self {
            attribution_window_days: 30,
            attribution_model: "last_click".into(),
            qualifying_event: "signup".into(),
            reward_hold_days: 0,
            currency: "USD".into(),
            ..Self::default()
        }
    }

    pub fn parse(&self) -> Result<ProgramDraft, Validation> {
        let mut v = Validation::new();
        let name = v.check("name", required_text(&self.name, 200));
        let slug = v.check(
            "slug",
            parse_slug(if self.slug.trim().is_empty() {
                slug_from(&self.name)
            } else {
                self.slug.trim().to_string()
            }),
        );
        let landing_url = v
            .check("landing_url", web_url(&self.landing_url, true))
            .flatten();
        let fallback_url = v.check("fallback_url", web_url(&self.fallback_url, false));
        let window = v.check(
            "attribution_window_days",
            range(self.attribution_window_days, 1, 365),
        );
        let model = v.check(
            "attribution_model",
            self.attribution_model.trim().parse::<AttributionModel>(),
        );
        let event = v.check("qualifying_event", parse_event(&self.qualifying_event));
        let hold = v.check("reward_hold_days", range(self.reward_hold_days, 0, 365));
        let currency = v.check("currency", parse_currency(&self.currency));
        let sender = v.check("sender_name", optional_text(&self.sender_name, 100));
        let reply_to = v.check(
            "reply_to",
            if self.reply_to.trim().is_empty() {
                Ok(None)
            } else {
                Email::parse(&self.reply_to).map(|e| Some(e.into_string()))
            },
        );
        let headline = v.check("headline", optional_text(&self.headline, 120));
        let offer = v.check("offer", optional_text(&self.offer, 300));
        // Loaded by every visitor's browser: only over a secure connection (the pages' content
        // policy allows https images only).
        let logo_url = v.check(
            "logo_url",
            crate::validation::web_url(&self.logo_url, false, "https://shop.example.com/logo.png")
                .and_then(|u| match u {
                    Some(u) if !u.starts_with("https://") => Err(
                        "must start with https://, such as https://shop.example.com/logo.png"
                            .into(),
                    ),
                    other => Ok(other),
                }),
        );
        let brand_color = v.check("brand_color", parse_color(&self.brand_color));
        match (
            name,
            slug,
            landing_url,
            fallback_url,
            window,
            model,
            event,
            hold,
            currency,
            sender,
            reply_to,
        ) {
            (
                Some(name),
                Some(slug),
                Some(landing_url),
                Some(fallback_url),
                Some(w),
                Some(m),
                Some(e),
                Some(h),
                Some(c),
                Some(s),
                Some(r),
            ) if v.is_empty() => Ok(ProgramDraft {
                name,
                slug,
                landing_url,
                fallback_url,
                attribution_window_days: w,
                attribution_model: m,
                qualifying_event: e,
                reward_hold_days: h,
                currency: c,
                sender_name: s,
                reply_to: r,
                super_customer_id: self.super_customer_id,
                show_leaderboard: self.show_leaderboard,
                headline: headline.flatten(),
                offer: offer.flatten(),
                logo_url: logo_url.flatten(),
                brand_color: brand_color.flatten(),
            }),
            _ => Err(v),
        }
    }
}

/// `#RRGGBB` (or `#rgb`, widened), upper-cased; empty is none.
fn parse_color(raw: &str) -> Result<Option<String>, String> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let hex = t
        .strip_prefix('#')
        .filter(|h| (h.len() == 6 || h.len() == 3) && h.chars().all(|c| c.is_ascii_hexdigit()))
        .ok_or_else(|| "must be a colour such as #2F5BD3".to_string())?;
    let full: String = if hex.len() == 3 {
        hex.chars().flat_map(|c| [c, c]).collect()
    } else {
        hex.to_string()
    };
    Ok(Some(format!("#{}", full.to_ascii_uppercase())))
}

/// The text colour that reads on `brand` (`#RRGGBB`): black or white, whichever contrasts more
/// (WCAG relative luminance), so a light brand colour never leaves white text unreadable.
pub fn text_on(brand: &str) -> &'static str {
    let channel = |i: usize| {
        let v = brand
            .get(i..i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .map_or(0.0, |b| f64::from(b) / 255.0);
        if v <= 0.039_28 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    let l = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
    // Contrast with white is 1.05 / (l + 0.05), with black (l + 0.05) / 0.05.
    if 1.05 / (l + 0.05) >= (l + 0.05) / 0.05 {
        "#FFFFFF"
    } else {
        "#000000"
    }
}

fn range(n: i64, min: i64, max: i64) -> Result<i64, String> {
    if (min..=max).contains(&n) {
        Ok(n)
    } else {
        Err(format!("must be between {min} and {max}"))
    }
}

/// A slug from a name: lower case, words joined by `-`; `program` when the name has no ASCII
/// letter or digit to draw one from.
pub fn slug_from(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let slug: String = out.trim_end_matches('-').chars().take(60).collect();
    let slug = slug.trim_end_matches('-').to_string();
    if slug.is_empty() {
        "program".into()
    } else {
        slug
    }
}

fn parse_slug(slug: String) -> Result<String, String> {
    let ok = !slug.is_empty()
        && slug.len() <= 60
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if ok {
        Ok(slug)
    } else {
        Err("must be 1–60 lower-case letters, digits and dashes, e.g. spring-referrals".into())
    }
}

fn web_url(raw: &str, required: bool) -> Result<Option<String>, String> {
    crate::validation::web_url(raw, required, "https://example.com/welcome")
}

fn parse_event(raw: &str) -> Result<String, String> {
    let e = raw.trim();
    let ok = !e.is_empty()
        && e.len() <= 60
        && e.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.');
    if ok {
        Ok(e.to_string())
    } else {
        Err("must be signup, email_verified or a custom event name such as purchase".into())
    }
}

fn parse_currency(raw: &str) -> Result<String, String> {
    let c = raw.trim();
    if c.len() == 3 && c.chars().all(|ch| ch.is_ascii_uppercase()) {
        Ok(c.to_string())
    } else {
        Err("must be an ISO 4217 code such as USD or EUR".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branding_is_checked_and_its_colour_always_readable() {
        let mut f = ProgramFields::new_defaults();
        f.name = "Friends".into();
        f.landing_url = "https://shop.example.com".into();
        f.brand_color = "#2f5bd3".into();
        f.logo_url = "https://shop.example.com/logo.png".into();
        f.offer = "Give $10, get $10".into();
        let d = f.parse().expect("valid");
        assert_eq!(d.brand_color.as_deref(), Some("#2F5BD3"));
        assert_eq!(d.offer.as_deref(), Some("Give $10, get $10"));
        f.brand_color = "#abc".into();
        assert_eq!(
            f.parse().expect("short form").brand_color.as_deref(),
            Some("#AABBCC")
        );
        f.brand_color = "blue".into();
        f.logo_url = "http://shop.example.com/logo.png".into();
        let errors = f.parse().expect_err("refused");
        let fields: Vec<&str> = errors.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["logo_url", "brand_color"]);
        assert_eq!(text_on("#2F5BD3"), "#FFFFFF");
        assert_eq!(text_on("#FFE066"), "#000000");
        assert_eq!(text_on("#000000"), "#FFFFFF");
    }

    #[test]
    fn lifecycle() {
        use ProgramStatus::*;
        assert_eq!(transition(Draft, Live), Ok(true));
        assert_eq!(transition(Live, Paused), Ok(false));
        assert_eq!(transition(Paused, Live), Ok(true));
        assert_eq!(transition(Live, Ended), Ok(false));
        assert!(transition(Ended, Live).is_err());
        assert!(transition(Live, Draft).is_err());
        assert!(transition(Live, Live).is_err());
    }

    #[test]
    fn settings() {
        let mut f = ProgramFields {
            name: "Spring Referrals!".into(),
            landing_url: "https://example.com/join".into(),
            ..ProgramFields::new_defaults()
        };
        let d = f.parse().expect("valid");
        assert_eq!(d.slug, "spring-referrals");
        assert_eq!(d.attribution_model, AttributionModel::LastClick);
        f.currency = "usd".into();
        f.attribution_window_days = 0;
        f.landing_url = "example.com".into();
        f.qualifying_event = "Purchase Made".into();
        f.reply_to = "nope".into();
        let e = f.parse().expect_err("invalid");
        let fields: Vec<_> = e.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "landing_url",
                "attribution_window_days",
                "qualifying_event",
                "currency",
                "reply_to"
            ]
        );
    }
}
