//! Leads and customers sold to partner companies that buy them (seed 004).
//!
//! A sale records what was sold (a lead, or a customer with its recurring revenue, activation
//! fee and contract term), to whom and at what price; then it is delivered the buyer's way: an
//! API post to its Post URL, or email to its sale notification addresses. What the buyer owes
//! is money owed *to us*, so sales are kept apart from the payables ledger and summed on the
//! buyer's monthly statement.

use crate::email::Email;
use crate::money::{Currency, Money};
use crate::validation::{Validation, optional_text, required_text};
use std::collections::BTreeMap;

text_enum!(
    /// What was sold.
    LeadKind {
        /// Someone interested, not yet a customer.
        Lead => ("lead", "Lead"),
        /// A customer with a contract: the post adds its recurring revenue, activation fee and
        /// contract term.
        Customer => ("customer", "Customer"),
    }
);

text_enum!(
    /// Where the sale's delivery stands.
    DeliveryStatus {
        /// Queued or being retried.
        Pending => ("pending", "Delivering"),
        /// The buyer's Post URL accepted it, or a notification address received it.
        Delivered => ("delivered", "Delivered"),
        /// Every attempt failed; staff may retry.
        Failed => ("failed", "Delivery failed"),
    }
);

/// The highest price, fee or revenue a sale may carry, in minor units.
pub const MAX_AMOUNT: i64 = 1_000_000_000;
/// The most phone numbers a lead carries.
pub const MAX_PHONES: usize = 3;
/// The most custom fields a lead carries.
pub const MAX_CUSTOM_FIELDS: usize = 20;
/// The longest contract term, in months.
pub const MAX_CONTRACT_MONTHS: i64 = 120;

/// A sale as it arrives (API or console form). Text is trimmed; empty is absent. Amounts are
/// minor units of `currency`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeadFields {
    pub kind: String,
    pub first_name: String,
    pub last_name: String,
    pub company: String,
    pub email: String,
    pub phones: Vec<String>,
    pub street: String,
    pub city: String,
    pub region: String,
    pub postal_code: String,
    pub country: String,
    pub promo_code: String,
    pub custom_fields: BTreeMap<String, String>,
    pub sale_price: Option<i64>,
    pub currency: String,
    /// A customer's monthly recurring revenue (required for a customer).
    pub monthly_recurring_revenue: Option<i64>,
    /// A customer's activation fee (required for a customer; may be 0).
    pub activation_fee: Option<i64>,
    /// A customer's contract term in months (required for a customer).
    pub contract_term_months: Option<i64>,
    /// The seller's own notes, never sent to the buyer.
    pub notes: String,
}

/// What a customer sale adds to a lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CustomerTerms {
    pub monthly_recurring_revenue: Money,
    pub activation_fee: Money,
    pub contract_term_months: i64,
}

/// A checked sale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadDraft {
    pub kind: LeadKind,
    pub first_name: String,
    pub last_name: String,
    pub company: Option<String>,
    pub email: Option<String>,
    pub phones: Vec<String>,
    pub street: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub promo_code: Option<String>,
    pub custom_fields: BTreeMap<String, String>,
    pub sale_price: Money,
    pub customer: Option<CustomerTerms>,
    pub notes: Option<String>,
}

fn amount(
    v: &mut Validation,
    field: &str,
    value: Option<i64>,
    currency: Option<Currency>,
) -> Option<Money> {
    match value {
        None => {
            v.add(field, "is required");
            None
        }
        Some(a) if !(0..=MAX_AMOUNT).contains(&a) => {
            v.add(
                field,
                format!("must be between 0 and {MAX_AMOUNT} minor units"),
            );
            None
        }
        Some(a) => currency.map(|c| Money::new(a, c)),
    }
}

impl LeadFields {
    pub fn parse(&self) -> Result<LeadDraft, Validation> {
        let mut v = Validation::new();
        let kind = if self.kind.trim().is_empty() {
            Some(LeadKind::Lead)
        } else {
            v.check("kind", self.kind.trim().parse())
        };
        let first_name = v.check("first_name", required_text(&self.first_name, 100));
        let last_name = v.check("last_name", required_text(&self.last_name, 100));
        let company = v.check("company", optional_text(&self.company, 200));
        let email = if self.email.trim().is_empty() {
            Some(None)
        } else {
            v.check(
                "email",
                Email::parse(&self.email).map(|e| Some(e.into_string())),
            )
        };
        let mut phones = Vec::new();
        let given: Vec<&String> = self
            .phones
            .iter()
            .filter(|p| !p.trim().is_empty())
            .collect();
        if given.len() > MAX_PHONES {
            v.add("phones", format!("at most {MAX_PHONES} numbers"));
        }
        for (i, p) in given.iter().enumerate().take(MAX_PHONES) {
            if let Some(Some(p)) = v.check(
                &format!("phones[{i}]"),
                crate::account::parse_phone(p.as_str()),
            ) {
                phones.push(p);
            }
        }
        if email == Some(None) && given.is_empty() {
            v.add("email", "an email or a phone is required to reach the lead");
        }
        let street = v.check("street", optional_text(&self.street, 200));
        let city = v.check("city", optional_text(&self.city, 100));
        let region = v.check("region", optional_text(&self.region, 100));
        let postal_code = v.check("postal_code", optional_text(&self.postal_code, 20));
        let country = v.check("country", optional_text(&self.country, 100));
        let promo_code = v.check("promo_code", optional_text(&self.promo_code, 50));
        if self.custom_fields.len() > MAX_CUSTOM_FIELDS {
            v.add(
                "custom_fields",
                format!("at most {MAX_CUSTOM_FIELDS} fields"),
            );
        }
        let mut custom_fields = BTreeMap::new();
        for (name, value) in self.custom_fields.iter().take(MAX_CUSTOM_FIELDS) {
            let field = format!("custom_fields.{name}");
            let ok_name = !name.trim().is_empty()
                && name.chars().count() <= 50
                && !name.chars().any(char::is_control);
            if !ok_name {
                v.add(
                    "custom_fields",
                    "names are 1 to 50 characters, not all spaces, without control characters",
                );
                continue;
            }
            if let Some(value) = v.check(&field, optional_text(value, 1000)) {
                custom_fields.insert(name.trim().to_string(), value.unwrap_or_default());
            }
        }
        let currency = if self.currency.trim().is_empty() {
            v.add("currency", "is required");
            None
        } else {
            v.check("currency", Currency::parse(self.currency.trim()))
        };
        let sale_price = amount(&mut v, "sale_price", self.sale_price, currency);
        let customer = match kind {
            Some(LeadKind::Customer) => {
                let mrr = amount(
                    &mut v,
                    "monthly_recurring_revenue",
                    self.monthly_recurring_revenue,
                    currency,
                );
                let fee = amount(&mut v, "activation_fee", self.activation_fee, currency);
                let term = match self.contract_term_months {
                    None => {
                        v.add("contract_term_months", "is required for a customer");
                        None
                    }
                    Some(m) if !(1..=MAX_CONTRACT_MONTHS).contains(&m) => {
                        v.add(
                            "contract_term_months",
                            format!("must be between 1 and {MAX_CONTRACT_MONTHS}"),
                        );
                        None
                    }
                    Some(m) => Some(m),
                };
                match (mrr, fee, term) {
                    (Some(monthly_recurring_revenue), Some(activation_fee), Some(m)) => {
                        Some(Some(CustomerTerms {
                            monthly_recurring_revenue,
                            activation_fee,
                            contract_term_months: m,
                        }))
                    }
                    _ => None,
                }
            }
            _ => {
                for (field, given) in [
                    (
                        "monthly_recurring_revenue",
                        self.monthly_recurring_revenue.is_some(),
                    ),
                    ("activation_fee", self.activation_fee.is_some()),
                    ("contract_term_months", self.contract_term_months.is_some()),
                ] {
                    if given {
                        v.add(field, "is only for a customer (kind `customer`)");
                    }
                }
                Some(None)
            }
        };
        let notes = v.check("notes", optional_text(&self.notes, 10_000));
        match (
            kind,
            first_name,
            last_name,
            company,
            email,
            street,
            city,
            region,
            postal_code,
            country,
            promo_code,
            sale_price,
            customer,
            notes,
        ) {
            (
                Some(kind),
                Some(first_name),
                Some(last_name),
                Some(company),
                Some(email),
                Some(street),
                Some(city),
                Some(region),
                Some(postal_code),
                Some(country),
                Some(promo_code),
                Some(sale_price),
                Some(customer),
                Some(notes),
            ) if v.is_empty() => Ok(LeadDraft {
                kind,
                first_name,
                last_name,
                company,
                email,
                phones,
                street,
                city,
                region,
                postal_code,
                country,
                promo_code,
                custom_fields,
                sale_price,
                customer,
                notes,
            }),
            _ => Err(v),
        }
    }
}

/// A calendar month, `2026-11`, for statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Month {
    pub year: i32,
    pub month: time::Month,
}

impl Month {
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || "must be a month as YYYY-MM, e.g. 2026-11".to_string();
        let (y, m) = text.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u8 = m.parse().map_err(|_| bad())?;
        let month = time::Month::try_from(month).map_err(|_| bad())?;
        Ok(Self { year, month })
    }

    pub fn of(date: time::Date) -> Self {
        Self {
            year: date.year(),
            month: date.month(),
        }
    }

    /// The first day of the month and of the next, as `YYYY-MM-DD`: sales with
    /// `first <= sold_on < next` belong to it.
    pub fn bounds(self) -> (time::Date, time::Date) {
        let first =
            time::Date::from_calendar_date(self.year, self.month, 1).unwrap_or(time::Date::MIN);
        let next = if self.month == time::Month::December {
            time::Date::from_calendar_date(self.year + 1, time::Month::January, 1)
        } else {
            time::Date::from_calendar_date(self.year, self.month.next(), 1)
        }
        .unwrap_or(time::Date::MAX);
        (first, next)
    }

    pub fn text(self) -> String {
        format!("{:04}-{:02}", self.year, u8::from(self.month))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lead() -> LeadFields {
        LeadFields {
            first_name: "Dana".into(),
            last_name: "Home".into(),
            email: "dana@home.example".into(),
            sale_price: Some(2500),
            currency: "USD".into(),
            ..LeadFields::default()
        }
    }

    #[test]
    fn a_lead_needs_a_name_a_way_to_reach_it_and_a_price() {
        let d = lead().parse().expect("accepted");
        assert_eq!(d.kind, LeadKind::Lead);
        assert_eq!(d.sale_price.minor(), 2500);
        let err = LeadFields::default().parse().expect_err("refused");
        let fields: Vec<&str> = err.errors().iter().map(|e| e.field.as_str()).collect();
        for f in ["first_name", "last_name", "email", "currency", "sale_price"] {
            assert!(fields.contains(&f), "{f} in {fields:?}");
        }
    }

    #[test]
    fn a_customer_needs_its_contract_and_a_lead_refuses_one() {
        let mut f = lead();
        f.kind = "customer".into();
        let err = f.parse().expect_err("refused");
        let fields: Vec<&str> = err.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "monthly_recurring_revenue",
                "activation_fee",
                "contract_term_months"
            ]
        );
        f.monthly_recurring_revenue = Some(4999);
        f.activation_fee = Some(0);
        f.contract_term_months = Some(36);
        let d = f.parse().expect("accepted");
        assert_eq!(d.customer.expect("accepted").contract_term_months, 36);
        let mut l = lead();
        l.contract_term_months = Some(12);
        assert_eq!(
            l.parse().expect_err("refused").errors()[0].field,
            "contract_term_months"
        );
    }

    #[test]
    fn phones_and_custom_fields_are_bounded_and_named() {
        let mut f = lead();
        f.phones = vec!["+1 555 0100".into(), "x".into()];
        f.custom_fields.insert("bad\nname".into(), "v".into());
        f.custom_fields.insert("plan".into(), "gold".into());
        let err = f.parse().expect_err("refused");
        let fields: Vec<&str> = err.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["phones[1]", "custom_fields"]);
        f.phones.pop();
        f.custom_fields.remove("bad\nname");
        let d = f.parse().expect("accepted");
        assert_eq!(d.phones, ["+1 555 0100"]);
        assert_eq!(d.custom_fields["plan"], "gold");
    }

    #[test]
    fn months_parse_and_bound_their_days() {
        let m = Month::parse("2026-12").expect("accepted");
        let (a, b) = m.bounds();
        assert_eq!(
            (a.to_string(), b.to_string()),
            ("2026-12-01".into(), "2027-01-01".into())
        );
        assert_eq!(m.text(), "2026-12");
        for bad in ["2026-13", "26-01", "2026/01", "", "2026-1"] {
            assert!(Month::parse(bad).is_err(), "{bad}");
        }
    }
}
