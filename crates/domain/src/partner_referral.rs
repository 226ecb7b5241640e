//! Referrals between us and partner companies (seed 003): a partner introduces a client to us
//! (`to_us`), or we send a client to a partner (`to_partner`). Each has a stage both sides
//! keep up to date, and a value. A new referral that names the same client as an existing one
//! (same email, or the same company domain) is flagged for staff to decide, as deal
//! registration does against channel conflict.

use crate::email::Email;
use crate::money::{Currency, Money};
use crate::validation::{Validation, optional_text, required_text, web_url};

text_enum!(
    /// Who introduced whom: it says who is responsible for contacting the client.
    Direction {
        /// A partner introduced a client who needs us; its partner manager contacts the partner.
        ToUs => ("to_us", "Partner → us"),
        /// We (or the partner directory) sent a client to the partner, who follows up.
        ToPartner => ("to_partner", "Us → partner"),
    }
);

text_enum!(
    /// Where a referral stands; both sides keep it up to date.
    Stage {
        New => ("new", "New"),
        InProgress => ("in_progress", "In Progress"),
        Won => ("won", "Won"),
        Lost => ("lost", "Lost"),
        Junk => ("junk", "Junk"),
    }
);

impl Stage {
    /// What the stage means (seed 003), shown as help next to the choice.
    pub fn help(self) -> &'static str {
        match self {
            Stage::New => "The first introduction: nobody has contacted the client yet.",
            Stage::InProgress => {
                "The client has been contacted and their enquiry is being discussed."
            }
            Stage::Won => "The client engaged the partner (or us) for an agreed scope of work.",
            Stage::Lost => "The client will not go ahead with an agreed scope of work.",
            Stage::Junk => "Not enough information to proceed, or fake details.",
        }
    }
}

text_enum!(
    /// What the client needs help with (seed 003's reasons to submit a referral).
    Need {
        PlanAdvice => ("plan_advice", "Which subscription plan suits them"),
        Requirements => ("requirements", "Whether the platform meets their requirements"),
        Questions => ("questions", "Help answering their questions"),
        JointDemo => ("joint_demo", "A joint demo with the client"),
    }
);

/// The most a referral can be worth: 10 million in major units of a two-decimal currency.
pub const MAX_VALUE: i64 = 1_000_000_000;

/// A referral's client and details as they arrive (portal form, console form, API).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReferralFields {
    pub client_name: String,
    pub company: String,
    pub email: String,
    pub phone: String,
    pub website: String,
    /// Names of [`Need`]s.
    pub needs: Vec<String>,
    pub notes: String,
    /// The referral's (expected) value in minor units of `currency`.
    pub value: Option<i64>,
    /// Required with `value`.
    pub currency: String,
}

/// Checked referral details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralDraft {
    pub client_name: String,
    pub company: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub needs: Vec<Need>,
    pub notes: Option<String>,
    pub value: Option<Money>,
}

/// Checks a value and its currency: `Some(None)` when there is no value.
pub fn parse_value(
    value: Option<i64>,
    currency: &str,
    v: &mut Validation,
) -> Option<Option<Money>> {
    let currency = currency.trim();
    let parsed = if currency.is_empty() {
        None
    } else {
        v.check("currency", Currency::parse(currency))
    };
    match value {
        None => Some(None),
        Some(a) if !(0..=MAX_VALUE).contains(&a) => {
            v.add(
                "value",
                format!("must be between 0 and {MAX_VALUE} minor units"),
            );
            None
        }
        Some(a) => match parsed {
            Some(c) => Some(Some(Money::new(a, c))),
            None => {
                if currency.is_empty() {
                    v.add("currency", "is required with value");
                }
                None
            }
        },
    }
}

impl ReferralFields {
    pub fn parse(&self) -> Result<ReferralDraft, Validation> {
        let mut v = Validation::new();
        let client_name = v.check("client_name", required_text(&self.client_name, 200));
        let company = v.check("company", optional_text(&self.company, 200));
        let email = if self.email.trim().is_empty() {
            Some(None)
        } else {
            v.check(
                "email",
                Email::parse(&self.email).map(|e| Some(e.into_string())),
            )
        };
        let phone = v.check("phone", crate::account::parse_phone(&self.phone));
        let website = v.check(
            "website",
            web_url(&self.website, false, "https://client.example.com"),
        );
        let mut needs = Vec::new();
        for n in self
            .needs
            .iter()
            .map(|n| n.trim())
            .filter(|n| !n.is_empty())
        {
            match n.parse::<Need>() {
                Ok(n) if !needs.contains(&n) => needs.push(n),
                Ok(_) => {}
                Err(m) => v.add("needs", format!("{n}: {m}")),
            }
        }
        let notes = v.check("notes", optional_text(&self.notes, 10_000));
        let value = parse_value(self.value, &self.currency, &mut v);
        if email.as_ref().is_some_and(Option::is_none)
            && phone.as_ref().is_some_and(Option::is_none)
        {
            v.add(
                "email",
                "give an email or a phone number to reach the client",
            );
        }
        match (client_name, company, email, phone, website, notes, value) {
            (
                Some(client_name),
                Some(company),
                Some(email),
                Some(phone),
                Some(website),
                Some(notes),
                Some(value),
            ) if v.is_empty() => Ok(ReferralDraft {
                client_name,
                company,
                email,
                phone,
                website,
                needs,
                notes,
                value,
            }),
            _ => Err(v),
        }
    }
}

/// Mail providers anyone can have an address at: their domain says nothing about a company.
const SHARED_MAIL_DOMAINS: [&str; 14] = [
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "yahoo.com",
    "icloud.com",
    "me.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "gmx.com",
    "gmx.net",
    "mail.com",
];

/// The company domain a referral names, for the duplicate check: its website's host, or else
/// its email's domain unless that is a shared mail provider. Lower-case, without `www.`.
pub fn company_domain(email: Option<&str>, website: Option<&str>) -> Option<String> {
    let from_site = website.and_then(|w| {
        let rest = w.split_once("://").map_or(w, |(_, r)| r);
        let host = rest.split(['/', '?', '#', ':']).next().unwrap_or_default();
        let host = host.to_ascii_lowercase();
        let host = host.strip_prefix("www.").unwrap_or(&host).to_string();
        (!host.is_empty()).then_some(host)
    });
    from_site.or_else(|| {
        email
            .and_then(|e| e.rsplit_once('@'))
            .map(|(_, d)| d.to_ascii_lowercase())
            .filter(|d| !SHARED_MAIL_DOMAINS.contains(&d.as_str()))
    })
}

text_enum!(
    /// Whether staff think a flagged referral duplicates another.
    DuplicateStatus {
        /// Nothing matched when it was submitted.
        Unique => ("unique", "Unique"),
        /// It names the same client as another referral: staff decide.
        Suspected => ("suspected", "Possible duplicate"),
        /// Staff confirmed it duplicates the other one.
        Confirmed => ("confirmed", "Duplicate"),
        /// Staff decided it is a different client after all.
        Cleared => ("cleared", "Not a duplicate"),
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(v: &Validation) -> Vec<&str> {
        v.errors().iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn a_referral_names_a_client_who_can_be_reached() {
        let ok = ReferralFields {
            client_name: " Dana Home ".into(),
            company: "Home Goods Ltd".into(),
            email: "dana@homegoods.example".into(),
            needs: vec![
                "plan_advice".into(),
                "joint_demo".into(),
                "plan_advice".into(),
            ],
            value: Some(250_000),
            currency: "usd".into(),
            ..Default::default()
        }
        .parse()
        .expect("valid");
        assert_eq!(ok.client_name, "Dana Home");
        assert_eq!(ok.needs, vec![Need::PlanAdvice, Need::JointDemo]);
        assert_eq!(ok.value, Some(Money::new(250_000, Currency::USD)));

        let bad = ReferralFields {
            needs: vec!["a pony".into()],
            value: Some(5),
            ..Default::default()
        }
        .parse()
        .expect_err("invalid");
        assert_eq!(
            fields(&bad),
            vec!["client_name", "needs", "currency", "email"]
        );
    }

    #[test]
    fn the_company_domain_comes_from_the_website_or_a_company_address() {
        assert_eq!(
            company_domain(
                Some("dana@gmail.com"),
                Some("https://www.HomeGoods.example/shop")
            ),
            Some("homegoods.example".into())
        );
        assert_eq!(
            company_domain(Some("dana@HomeGoods.example"), None),
            Some("homegoods.example".into())
        );
        assert_eq!(company_domain(Some("dana@gmail.com"), None), None);
        assert_eq!(company_domain(None, None), None);
    }

    #[test]
    fn stages_explain_themselves() {
        for s in Stage::ALL {
            assert!(!s.help().is_empty());
        }
        assert_eq!("in_progress".parse::<Stage>(), Ok(Stage::InProgress));
    }
}
