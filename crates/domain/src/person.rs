//! People who refer sales (seed 002): contacts (customers and prospects), employees and
//! vendors. Employees and vendors carry agreed referral-bonus terms
//! ([`crate::bonus::Terms`]), entered as [`TermsFields`].

use crate::bonus::{Basis, Milestone, Terms};
use crate::money::{BasisPoints, Currency, Money};
use crate::validation::{optional_text, required_text};
use crate::{Validation, email::Email};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PersonKind {
    /// A customer or prospect.
    Contact,
    Employee,
    Vendor,
}

impl PersonKind {
    pub const ALL: [PersonKind; 3] = [
        PersonKind::Contact,
        PersonKind::Employee,
        PersonKind::Vendor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PersonKind::Contact => "contact",
            PersonKind::Employee => "employee",
            PersonKind::Vendor => "vendor",
        }
    }

    /// Whether people of this kind carry their own agreed bonus terms (contacts get the
    /// program's defaults instead).
    pub fn has_terms(self) -> bool {
        matches!(self, PersonKind::Employee | PersonKind::Vendor)
    }
}

impl fmt::Display for PersonKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PersonKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        PersonKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| "must be one of contact, employee, vendor".to_string())
    }
}

/// A person's fields as they arrive; absent text fields are empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PersonFields {
    #[schema(
        required = true,
        min_length = 1,
        max_length = 200,
        example = "Erin Diaz"
    )]
    pub name: String,
    #[schema(
        max_length = 254,
        format = "email-or-empty",
        example = "erin@example.com"
    )]
    pub email: String,
    /// Digits, spaces and `+ . - ( ) x`.
    #[schema(max_length = 32, pattern = "^$|^[0-9 +.()x-]*[0-9][0-9 +.()x-]*$")]
    pub phone: String,
    #[schema(max_length = 200)]
    pub company: String,
    /// The payroll system's id of an employee (the payroll export carries it).
    #[schema(max_length = 64)]
    pub employee_number: String,
    #[schema(max_length = 10000)]
    pub notes: String,
}

/// Checked person fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonDraft {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub employee_number: Option<String>,
    pub notes: Option<String>,
}

impl PersonFields {
    pub fn parse(&self, kind: PersonKind) -> Result<PersonDraft, Validation> {
        let mut v = Validation::new();
        let name = v.check("name", required_text(&self.name, 200));
        let email = if self.email.trim().is_empty() {
            Some(None)
        } else {
            v.check(
                "email",
                Email::parse(&self.email).map(|e| Some(e.into_string())),
            )
        };
        let phone = v.check("phone", crate::account::parse_phone(&self.phone));
        let company = v.check("company", optional_text(&self.company, 200));
        let employee_number = v.check("employee_number", optional_text(&self.employee_number, 64));
        if kind != PersonKind::Employee && employee_number.as_ref().is_some_and(Option::is_some) {
            v.add("employee_number", "only employees have an employee number");
        }
        let notes = v.check("notes", optional_text(&self.notes, 10_000));
        match (name, email, phone, company, employee_number, notes) {
            (
                Some(name),
                Some(email),
                Some(phone),
                Some(company),
                Some(employee_number),
                Some(notes),
            ) if v.is_empty() => Ok(PersonDraft {
                name,
                email,
                phone,
                company,
                employee_number,
                notes,
            }),
            _ => Err(v),
        }
    }
}

/// Agreed terms as they arrive. Exactly one of `percentage_bps` and `fixed_amount` is given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct TermsFields {
    /// A share of each sale in basis points (1 000 is 10 %): 1 to 10 000.
    #[schema(minimum = 1, maximum = 10000, example = 1000)]
    pub percentage_bps: Option<i64>,
    /// A fixed amount per sale, in minor units of `currency` (10000 is USD 100.00).
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    pub fixed_amount: Option<i64>,
    /// The currency of `fixed_amount` (ISO 4217); required with it.
    #[schema(
        min_length = 3,
        max_length = 3,
        pattern = "^[A-Za-z]{3}$",
        example = "USD"
    )]
    pub currency: Option<String>,
    /// When the front payment falls due.
    #[schema(required = true, value_type = Milestone)]
    pub front_term: Option<Milestone>,
    /// When the back payment falls due; absent or null is "Not Applicable" (all on the front).
    pub back_term: Option<Milestone>,
    /// The share due on the front term, in basis points: 1 to 10 000 (default 10 000, all on
    /// the front). Must be 10 000 without a back term.
    #[schema(minimum = 1, maximum = 10000, example = 5000)]
    pub front_share_bps: Option<i64>,
}

impl TermsFields {
    pub fn parse(&self) -> Result<Terms, Validation> {
        let mut v = Validation::new();
        let bps = |field: &str, raw: i64, v: &mut Validation| -> Option<BasisPoints> {
            v.check(
                field,
                u32::try_from(raw)
                    .ok()
                    .filter(|b| (1..=10_000).contains(b))
                    .map(BasisPoints)
                    .ok_or_else(|| "must be between 1 and 10000 basis points".to_string()),
            )
        };
        // A currency is checked whenever one is sent, even beside a percentage where it is not
        // used: a malformed value is never silently dropped.
        let currency = self
            .currency
            .as_deref()
            .and_then(|c| v.check("currency", Currency::parse(c)));
        let basis = match (self.percentage_bps, self.fixed_amount) {
            (Some(p), None) => bps("percentage_bps", p, &mut v).map(Basis::Percentage),
            (None, Some(amount)) => {
                if self.currency.is_none() {
                    v.add("currency", "is required with fixed_amount");
                }
                let amount = v.check(
                    "fixed_amount",
                    if (1..=1_000_000_000).contains(&amount) {
                        Ok(amount)
                    } else {
                        Err("must be between 1 and 1000000000 minor units".to_string())
                    },
                );
                match (amount, currency) {
                    (Some(a), Some(c)) => Some(Basis::Fixed(Money::new(a, c))),
                    _ => None,
                }
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
        let front = self.front_term;
        if front.is_none() {
            v.add("front_term", "is required");
        }
        let front_share = match self.front_share_bps {
            Some(raw) => bps("front_share_bps", raw, &mut v),
            None => Some(BasisPoints::WHOLE),
        };
        let (Some(basis), Some(front), Some(front_share)) = (basis, front, front_share) else {
            return Err(v);
        };
        let terms = Terms {
            basis,
            front,
            back: self.back_term,
            front_share,
        };
        if let Err(e) = terms.check() {
            let field = match e.field {
                "percentage" => "percentage_bps",
                "front_share" => "front_share_bps",
                "back" => "back_term",
                other => other,
            };
            v.add(field, e.message);
        }
        if v.is_empty() { Ok(terms) } else { Err(v) }
    }
}

/// Terms as they are shown and stored back: the inverse of [`TermsFields::parse`].
impl From<Terms> for TermsFields {
    fn from(t: Terms) -> Self {
        let (percentage_bps, fixed_amount, currency) = match t.basis {
            Basis::Percentage(bp) => (Some(i64::from(bp.0)), None, None),
            Basis::Fixed(m) => (None, Some(m.minor()), Some(m.currency().to_string())),
        };
        Self {
            percentage_bps,
            fixed_amount,
            currency,
            front_term: Some(t.front),
            back_term: t.back,
            front_share_bps: Some(i64::from(t.front_share.0)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(v: &Validation) -> Vec<&str> {
        v.errors().iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn people_are_checked_by_kind() {
        let erin = PersonFields {
            name: " Erin Diaz ".into(),
            email: "erin@example.com".into(),
            employee_number: "E-104".into(),
            ..Default::default()
        };
        let d = erin.parse(PersonKind::Employee).expect("employee");
        assert_eq!(d.name, "Erin Diaz");
        assert_eq!(d.employee_number.as_deref(), Some("E-104"));
        let err = erin.parse(PersonKind::Vendor).expect_err("vendor");
        assert_eq!(fields(&err), vec!["employee_number"]);
        let bad = PersonFields {
            email: "not an email".into(),
            phone: "call me".into(),
            ..Default::default()
        };
        let err = bad.parse(PersonKind::Contact).expect_err("bad");
        assert_eq!(fields(&err), vec!["name", "email", "phone"]);
    }

    #[test]
    fn terms_take_a_percentage_or_a_fixed_amount() {
        let erin = TermsFields {
            percentage_bps: Some(1_000),
            front_term: Some(Milestone::SignDate),
            back_term: Some(Milestone::InstallDate),
            front_share_bps: Some(5_000),
            ..Default::default()
        };
        let t = erin.parse().expect("terms");
        assert_eq!(t.basis, Basis::Percentage(BasisPoints(1_000)));
        assert_eq!(TermsFields::from(t), erin, "round trip");
        let fixed = TermsFields {
            fixed_amount: Some(10_000),
            currency: Some("usd".into()),
            front_term: Some(Milestone::JobApprovedDate),
            ..Default::default()
        };
        let t = fixed.parse().expect("fixed");
        assert_eq!(t.basis, Basis::Fixed(Money::new(10_000, Currency::USD)));
        assert_eq!(t.front_share, BasisPoints::WHOLE);
        let cases: Vec<(TermsFields, Vec<&str>)> = vec![
            (TermsFields::default(), vec!["percentage_bps", "front_term"]),
            (
                TermsFields {
                    percentage_bps: Some(10),
                    fixed_amount: Some(10),
                    front_term: Some(Milestone::SignDate),
                    ..Default::default()
                },
                vec!["fixed_amount"],
            ),
            (
                TermsFields {
                    fixed_amount: Some(10),
                    front_term: Some(Milestone::SignDate),
                    ..Default::default()
                },
                vec!["currency"],
            ),
            (
                TermsFields {
                    percentage_bps: Some(10_001),
                    front_term: Some(Milestone::SignDate),
                    ..Default::default()
                },
                vec!["percentage_bps"],
            ),
            (
                TermsFields {
                    percentage_bps: Some(500),
                    front_term: Some(Milestone::SignDate),
                    front_share_bps: Some(5_000),
                    ..Default::default()
                },
                vec!["front_share_bps"],
            ),
            (
                TermsFields {
                    percentage_bps: Some(500),
                    currency: Some("\u{91}T".into()),
                    front_term: Some(Milestone::SignDate),
                    ..Default::default()
                },
                vec!["currency"],
            ),
        ];
        for (input, expected) in cases {
            let err = input.parse().expect_err("refused");
            assert_eq!(fields(&err), expected, "{input:?}");
        }
    }
}

/// One row of a people import: its line and what it holds, or what is wrong with it.
#[derive(Debug, Clone, PartialEq)]
pub struct PeopleRow {
    /// Line in the file (the header is line 1).
    pub line: u64,
    pub kind: PersonKind,
    pub draft: PersonDraft,
}

/// The columns a people import reads (headers are matched case-insensitively; others are
/// ignored): `kind` (contact, employee or vendor; the default kind when absent), `name`,
/// `email`, `phone`, `company`, `employee_number`, `notes`.
pub const IMPORT_COLUMNS: [&str; 7] = [
    "kind",
    "name",
    "email",
    "phone",
    "company",
    "employee_number",
    "notes",
];

/// Reads a people CSV: every good row, and every problem by line and field. `default_kind`
/// fills rows without a `kind`. Fails whole only when the header cannot be read or has no
/// `name` column.
pub fn parse_people_csv(
    text: &str,
    default_kind: Option<PersonKind>,
) -> Result<(Vec<PeopleRow>, Vec<crate::import::LineError>), String> {
    let mut rows = Vec::new();
    let errors = crate::import::each_csv_line(text, "name", |l, errors| {
        let cell = |name: &str| l.cell(name);
        let kind = match cell("kind").as_str() {
            "" => {
                default_kind.ok_or_else(|| "is required: contact, employee or vendor".to_string())
            }
            k => k.to_ascii_lowercase().parse::<PersonKind>(),
        };
        let kind = match kind {
            Ok(k) => k,
            Err(message) => {
                errors.push(crate::import::LineError::new(l.line, "kind", message));
                return;
            }
        };
        let fields = PersonFields {
            name: cell("name"),
            email: cell("email"),
            phone: cell("phone"),
            company: cell("company"),
            employee_number: cell("employee_number"),
            notes: cell("notes"),
        };
        match fields.parse(kind) {
            Ok(draft) => rows.push(PeopleRow {
                line: l.line,
                kind,
                draft,
            }),
            Err(v) => errors.extend(l.problems(&v)),
        }
    })?;
    Ok((rows, errors))
}

#[cfg(test)]
mod import_tests {
    use super::*;

    #[test]
    fn a_people_file_is_read_row_by_row() {
        let text = "Name,Kind,Email,Employee_Number\nErin Diaz,employee,erin@example.com,E-104\n,contact,x@example.com,\nVera Supply,vendor,vera@example.com,V-1\nCarla Ruiz,,carla@example.com,\n";
        let (rows, errors) = parse_people_csv(text, Some(PersonKind::Contact)).expect("file");
        let names: Vec<_> = rows
            .iter()
            .map(|r| (r.line, r.kind, r.draft.name.clone()))
            .collect();
        assert_eq!(
            names,
            vec![
                (2, PersonKind::Employee, "Erin Diaz".to_string()),
                (5, PersonKind::Contact, "Carla Ruiz".to_string()),
            ]
        );
        let problems: Vec<_> = errors.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(problems, vec![(3, "name"), (4, "employee_number")]);
        assert!(parse_people_csv("email\nx@y.z\n", None).is_err());
    }
}
