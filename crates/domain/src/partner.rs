//! Partner companies (seeds 003 and 004): agencies that refer clients to us, receive referrals
//! from us, or buy customers and leads from us, in any combination; their commission terms per
//! program for the referrals they bring.
//!
//! A partner that buys customers needs a delivery method: an API post (a Post URL and the
//! Source ID that identifies the receiving party) or email, and the addresses that hear of each
//! sale. Those are checked here field by field, so that every problem is named at once.

use crate::email::Email;
use crate::money::{BasisPoints, Currency, Money};
use crate::validation::{Validation, optional_text, required_text, web_url};
use serde::Serialize;

text_enum!(
    /// Whether the partner is working with us.
    PartnerStatus {
        Active => ("active", "Active"),
        /// Kept for the record; nothing new is sent to or taken from it.
        Suspended => ("suspended", "Suspended"),
    }
);

text_enum!(
    /// How a partner that buys customers receives them.
    DeliveryMethod {
        /// Posted to the partner's Post URL with its Source ID.
        ApiPost => ("api_post", "API post"),
        /// Emailed to the partner's sale notification addresses.
        Email => ("email", "Email"),
    }
);

text_enum!(
    /// Where a partner's commission stands.
    CommissionStatus {
        /// Created when its referral was won; waits for a manager's review.
        ReadyForReview => ("ready_for_review", "Ready for review"),
        /// A manager approved it: its payment is due in the payables ledger.
        Approved => ("approved", "Approved"),
        /// A manager refused it; nothing is owed.
        Rejected => ("rejected", "Rejected"),
        /// Its referral left Won: before review nothing is owed; after approval its payment
        /// was voided, or a clawback opened when it had been paid or batched for payment.
        Cancelled => ("cancelled", "Cancelled"),
    }
);

text_enum!(
    /// What a partner does with us; a partner may do any combination.
    Capability {
        RefersClients => ("refers_clients", "Refers clients to us"),
        ReceivesReferrals => ("receives_referrals", "Receives referrals from us"),
        BuysCustomers => ("buys_customers", "Buys customers"),
    }
);

/// The most sale notification addresses a partner may have.
pub const MAX_NOTIFICATION_EMAILS: usize = 10;

/// A partner company's fields as they arrive (API, console form or a CSV row). Text fields are
/// trimmed; empty means absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartnerFields {
    pub name: String,
    pub website: String,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub notes: String,
    /// Empty is `active`.
    pub status: String,
    pub refers_clients: bool,
    pub receives_referrals: bool,
    pub buys_customers: bool,
    /// Listed on the public partner directory, where people can ask it for help (only a partner
    /// that receives referrals).
    pub listed_in_directory: bool,
    /// Required when the partner buys customers.
    pub delivery_method: String,
    /// Required for an API post.
    pub post_url: String,
    /// Required for an API post: the receiving party's id at its end.
    pub source_id: String,
    /// Required when the partner buys customers: who hears of each sale (and, for email
    /// delivery, receives the customer).
    pub notification_emails: Vec<String>,
}

/// Checked partner fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerDraft {
    pub name: String,
    pub website: Option<String>,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub notes: Option<String>,
    pub status: PartnerStatus,
    pub refers_clients: bool,
    pub receives_referrals: bool,
    pub buys_customers: bool,
    pub listed_in_directory: bool,
    pub delivery_method: Option<DeliveryMethod>,
    pub post_url: Option<String>,
    pub source_id: Option<String>,
    pub notification_emails: Vec<String>,
}

impl PartnerFields {
    pub fn parse(&self) -> Result<PartnerDraft, Validation> {
        let mut v = Validation::new();
        let name = v.check("name", required_text(&self.name, 200));
        let website = v.check(
            "website",
            web_url(&self.website, false, "https://agency.example.com"),
        );
        let contact_name = v.check("contact_name", optional_text(&self.contact_name, 200));
        let contact_email = if self.contact_email.trim().is_empty() {
            Some(None)
        } else {
            v.check(
                "contact_email",
                Email::parse(&self.contact_email).map(|e| Some(e.into_string())),
            )
        };
        let contact_phone = v.check(
            "contact_phone",
            crate::account::parse_phone(&self.contact_phone),
        );
        let notes = v.check("notes", optional_text(&self.notes, 10_000));
        let status = if self.status.trim().is_empty() {
            Some(PartnerStatus::Active)
        } else {
            v.check("status", self.status.trim().parse())
        };
        if !(self.refers_clients || self.receives_referrals || self.buys_customers) {
            v.add(
                "refers_clients",
                "choose what the partner does: refers clients to us, receives referrals from us or buys customers",
            );
        }
        if self.listed_in_directory && !self.receives_referrals {
            v.add(
                "listed_in_directory",
                "only a partner that receives referrals is listed in the directory",
            );
        }
        let (delivery_method, post_url, source_id, notification_emails) = self.buyer(&mut v);
        match (
            name,
            website,
            contact_name,
            contact_email,
            contact_phone,
            notes,
            status,
        ) {
            (
                Some(name),
                Some(website),
                Some(contact_name),
                Some(contact_email),
                Some(contact_phone),
                Some(notes),
                Some(status),
            ) if v.is_empty() => Ok(PartnerDraft {
                name,
                website,
                contact_name,
                contact_email,
                contact_phone,
                notes,
                status,
                refers_clients: self.refers_clients,
                receives_referrals: self.receives_referrals,
                buys_customers: self.buys_customers,
                listed_in_directory: self.listed_in_directory,
                delivery_method,
                post_url,
                source_id,
                notification_emails,
            }),
            _ => Err(v),
        }
    }

    /// The buyer's fields: required when the partner buys customers, refused otherwise (so
    /// that nothing is kept that would never be used).
    #[allow(clippy::type_complexity)]
    fn buyer(
        &self,
        v: &mut Validation,
    ) -> (
        Option<DeliveryMethod>,
        Option<String>,
        Option<String>,
        Vec<String>,
    ) {
        let method = self.delivery_method.trim();
        let post_url = self.post_url.trim();
        let source_id = self.source_id.trim();
        let emails: Vec<&str> = self
            .notification_emails
            .iter()
            .map(|e| e.trim())
            .filter(|e| !e.is_empty())
            .collect();
        if !self.buys_customers {
            for (field, given) in [
                ("delivery_method", !method.is_empty()),
                ("post_url", !post_url.is_empty()),
                ("source_id", !source_id.is_empty()),
                ("notification_emails", !emails.is_empty()),
            ] {
                if given {
                    v.add(field, "only a partner that buys customers has this");
                }
            }
            return (None, None, None, Vec::new());
        }
        let method = if method.is_empty() {
            v.add(
                "delivery_method",
                "is required for a partner that buys customers: api_post or email",
            );
            None
        } else {
            v.check("delivery_method", method.parse::<DeliveryMethod>())
        };
        let (url, source) = if method == Some(DeliveryMethod::ApiPost) {
            let url = v
                .check(
                    "post_url",
                    web_url(post_url, true, "https://crm.partner.example/leads"),
                )
                .flatten();
            let source = v
                .check("source_id", required_text(source_id, 100))
                .filter(|_| !source_id.is_empty());
            (url, source)
        } else {
            for (field, given) in [
                ("post_url", !post_url.is_empty()),
                ("source_id", !source_id.is_empty()),
            ] {
                if given {
                    v.add(field, "only an API post delivery has this");
                }
            }
            (None, None)
        };
        let mut checked = Vec::new();
        if emails.is_empty() {
            v.add(
                "notification_emails",
                "is required for a partner that buys customers: at least one address",
            );
        } else if emails.len() > MAX_NOTIFICATION_EMAILS {
            v.add(
                "notification_emails",
                format!("must be at most {MAX_NOTIFICATION_EMAILS} addresses"),
            );
        } else {
            for e in emails {
                match Email::parse(e) {
                    Ok(e) if !checked.contains(&e.as_str().to_string()) => {
                        checked.push(e.into_string());
                    }
                    Ok(_) => {}
                    Err(m) => v.add("notification_emails", format!("{e}: {m}")),
                }
            }
        }
        (method, url, source, checked)
    }
}

/// What a partner earns for a referral it brings that is won, in one program: basis points of
/// the referral's value, or a fixed amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Commission {
    Percentage(BasisPoints),
    Fixed(Money),
}

impl Commission {
    /// What these terms pay on a referral worth `value`: a share of it (half away from zero,
    /// in its currency), or the fixed amount.
    pub fn amount_on(self, value: Money) -> Money {
        match self {
            Commission::Percentage(bps) => value.share(bps),
            Commission::Fixed(m) => m,
        }
    }

    /// Checks terms as they arrive: exactly one of a percentage (1 to 10 000 basis points) and
    /// a fixed amount (1 to 1 000 000 000 minor units, with its currency).
    pub fn parse(
        percentage_bps: Option<i64>,
        fixed_amount: Option<i64>,
        currency: Option<&str>,
    ) -> Result<Self, Validation> {
        let mut v = Validation::new();
        let currency = currency.and_then(|c| v.check("currency", Currency::parse(c)));
        let out = match (percentage_bps, fixed_amount) {
            (Some(p), None) => v
                .check(
                    "percentage_bps",
                    u32::try_from(p)
                        .ok()
                        .filter(|b| (1..=10_000).contains(b))
                        .map(BasisPoints)
                        .ok_or_else(|| "must be between 1 and 10000 basis points".to_string()),
                )
                .map(Commission::Percentage),
            (None, Some(a)) => {
                if !(1..=1_000_000_000).contains(&a) {
                    v.add(
                        "fixed_amount",
                        "must be between 1 and 1000000000 minor units",
                    );
                }
                if currency.is_none() && v.is_empty() {
                    v.add("currency", "is required with fixed_amount");
                }
                currency.map(|c| Commission::Fixed(Money::new(a, c)))
            }
            (Some(_), Some(_)) => {
                v.add(
                    "fixed_amount",
                    "give either percentage_bps or fixed_amount, not both",
                );
                None
            }
            (None, None) => {
                v.add("percentage_bps", "give percentage_bps or fixed_amount");
                None
            }
        };
        match out {
            Some(c) if v.is_empty() => Ok(c),
            _ => Err(v),
        }
    }

    /// The commission on a referral worth `value`: a percentage rounds half away from zero to
    /// the minor unit (as bonuses do); a fixed amount is owed whatever the value, in its own
    /// currency.
    pub fn on(self, value: Money) -> Money {
        match self {
            Commission::Percentage(bp) => value.share(bp),
            Commission::Fixed(m) => m,
        }
    }

    /// `10 % of the referral's value` or `USD 500.00 per won referral`.
    pub fn describe(self) -> String {
        match self {
            Commission::Percentage(bp) => format!("{} of the referral's value", bp.percent_text()),
            Commission::Fixed(m) => format!("{m} per won referral"),
        }
    }
}

/// One row of a partner import.
#[derive(Debug, Clone, PartialEq)]
pub struct PartnerRow {
    pub line: u64,
    pub draft: PartnerDraft,
}

/// The columns a partner import reads (headers case-insensitive; others ignored): `name`,
/// `website`, `contact_name`, `contact_email`, `contact_phone`, `notes`, `status`, and what the
/// partner does as `does` (`refers_clients`, `receives_referrals`, `buys_customers`, several
/// separated by `;` or `|`), then the buyer's `delivery_method`, `post_url`, `source_id` and
/// `notification_emails` (separated by `;`).
pub const IMPORT_COLUMNS: [&str; 12] = [
    "name",
    "website",
    "contact_name",
    "contact_email",
    "contact_phone",
    "notes",
    "status",
    "does",
    "delivery_method",
    "post_url",
    "source_id",
    "notification_emails",
];

/// Reads a partners CSV: the rows that hold together, and the problems of the others by line
/// and field. `Err` when the file cannot be read at all or has no `name` column.
pub fn parse_partners_csv(
    text: &str,
) -> Result<(Vec<PartnerRow>, Vec<crate::import::LineError>), String> {
    let mut rows = Vec::new();
    let errors = crate::import::each_csv_line(text, "name", |l, errors| {
        let cell = |name: &str| l.cell(name);
        let mut fields = PartnerFields {
            name: cell("name"),
            website: cell("website"),
            contact_name: cell("contact_name"),
            contact_email: cell("contact_email"),
            contact_phone: cell("contact_phone"),
            notes: cell("notes"),
            status: cell("status").to_ascii_lowercase(),
            delivery_method: cell("delivery_method").to_ascii_lowercase(),
            post_url: cell("post_url"),
            source_id: cell("source_id"),
            notification_emails: cell("notification_emails")
                .split([';', '|', ','])
                .map(str::to_string)
                .collect(),
            ..Default::default()
        };
        let mut bad_capability = None;
        for does in cell("does")
            .split([';', '|', ','])
            .map(|d| d.trim().to_ascii_lowercase())
            .filter(|d| !d.is_empty())
        {
            match does.parse::<Capability>() {
                Ok(Capability::RefersClients) => fields.refers_clients = true,
                Ok(Capability::ReceivesReferrals) => fields.receives_referrals = true,
                Ok(Capability::BuysCustomers) => fields.buys_customers = true,
                Err(m) => bad_capability = Some(format!("{does}: {m}")),
            }
        }
        if let Some(m) = bad_capability {
            errors.push(crate::import::LineError::new(l.line, "does", m));
            return;
        }
        match fields.parse() {
            Ok(draft) => rows.push(PartnerRow {
                line: l.line,
                draft,
            }),
            Err(v) => errors.extend(l.problems(&v)),
        }
    })?;
    Ok((rows, errors))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(v: &Validation) -> Vec<&str> {
        v.errors().iter().map(|e| e.field.as_str()).collect()
    }

    fn agency() -> PartnerFields {
        PartnerFields {
            name: " Northwind Agency ".into(),
            website: "https://northwind.example".into(),
            contact_email: "ops@northwind.example".into(),
            refers_clients: true,
            receives_referrals: true,
            ..Default::default()
        }
    }

    #[test]
    fn a_partner_does_something_and_keeps_only_what_it_uses() {
        let d = agency().parse().expect("agency");
        assert_eq!(d.name, "Northwind Agency");
        assert_eq!(d.status, PartnerStatus::Active);
        assert!(d.delivery_method.is_none() && d.notification_emails.is_empty());

        let nothing = PartnerFields {
            name: "Idle".into(),
            ..Default::default()
        };
        assert_eq!(
            fields(&nothing.parse().expect_err("does nothing")),
            vec!["refers_clients"]
        );

        let stray = PartnerFields {
            post_url: "https://x.example".into(),
            listed_in_directory: true,
            refers_clients: true,
            ..agency()
        };
        let stray = PartnerFields {
            receives_referrals: false,
            ..stray
        };
        assert_eq!(
            fields(&stray.parse().expect_err("stray")),
            vec!["listed_in_directory", "post_url"]
        );
    }

    #[test]
    fn a_buyer_names_how_it_receives_customers() {
        let buyer = PartnerFields {
            name: "Test Customer BUYER".into(),
            buys_customers: true,
            ..Default::default()
        };
        assert_eq!(
            fields(&buyer.parse().expect_err("bare buyer")),
            vec!["delivery_method", "notification_emails"]
        );
        let post = PartnerFields {
            delivery_method: "api_post".into(),
            notification_emails: vec!["sales@buyer.example".into(), " ".into()],
            ..buyer.clone()
        };
        assert_eq!(
            fields(&post.parse().expect_err("post without url")),
            vec!["post_url", "source_id"]
        );
        let post = PartnerFields {
            post_url: "https://crm.buyer.example/leads".into(),
            source_id: "4471".into(),
            ..post
        };
        let d = post.parse().expect("api post buyer");
        assert_eq!(d.delivery_method, Some(DeliveryMethod::ApiPost));
        assert_eq!(d.notification_emails, vec!["sales@buyer.example"]);
        let by_email = PartnerFields {
            delivery_method: "email".into(),
            notification_emails: vec!["a@buyer.example".into(), "not an email".into()],
            source_id: "9".into(),
            ..buyer
        };
        assert_eq!(
            fields(&by_email.parse().expect_err("email buyer")),
            vec!["source_id", "notification_emails"]
        );
    }

    #[test]
    fn commissions_are_a_percentage_or_a_fixed_amount() {
        let ten = Commission::parse(Some(1000), None, None).expect("10 %");
        assert_eq!(
            ten.on(Money::new(12_345, Currency::USD)),
            Money::new(1_235, Currency::USD),
            "half up"
        );
        assert_eq!(ten.describe(), "10 % of the referral's value");
        let fixed = Commission::parse(None, Some(50_000), Some("usd")).expect("fixed");
        assert_eq!(fixed.describe(), "USD 500.00 per won referral");
        for (p, a, c, field) in [
            (None, None, None, "percentage_bps"),
            (Some(1), Some(1), None, "fixed_amount"),
            (Some(0), None, None, "percentage_bps"),
            (None, Some(5), None, "currency"),
            (Some(10), None, Some("12"), "currency"),
        ] {
            let err = Commission::parse(p, a, c).expect_err(field);
            assert_eq!(fields(&err)[0], field, "{p:?} {a:?} {c:?}");
        }
    }

    #[test]
    fn a_partners_file_is_read_row_by_row() {
        let text = "Name,Does,Delivery_Method,Notification_Emails,Website\n\
            Northwind,refers_clients;receives_referrals,,,https://northwind.example\n\
            Buyer One,buys_customers,email,a@b.example;c@d.example,\n\
            ,refers_clients,,,\n\
            Odd,sells_hats,,,\n";
        let (rows, errors) = parse_partners_csv(text).expect("file");
        let names: Vec<_> = rows
            .iter()
            .map(|r| (r.line, r.draft.name.as_str()))
            .collect();
        assert_eq!(names, vec![(2, "Northwind"), (3, "Buyer One")]);
        assert_eq!(rows[1].draft.notification_emails.len(), 2);
        let problems: Vec<_> = errors.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(problems, vec![(4, "name"), (5, "does")]);
        assert!(parse_partners_csv("website\nx\n").is_err());
    }
}
