//! Customer accounts and super customers (the account hierarchy of seed 000): what a valid
//! account is, the naming convention for cloning a beneficiary into its referral super
//! customer, and the rules for nesting one account under another.

use crate::email::Email;
use crate::validation::{Validation, optional_text, required_person_name, required_text};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How people may register accounts under a super customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationPolicy {
    /// The super customer's link registers nested sub-accounts.
    #[default]
    Open,
    /// Only the channel partner registers accounts; self-registration is refused with a message
    /// naming where to register instead.
    ChannelPartner,
    /// A non-aligned, general self-registration environment.
    Generic,
}

impl RegistrationPolicy {
    pub const ALL: [RegistrationPolicy; 3] = [Self::Open, Self::ChannelPartner, Self::Generic];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::ChannelPartner => "channel_partner",
            Self::Generic => "generic",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Open => "Open (referral link registers sub-accounts)",
            Self::ChannelPartner => "Channel partner (partner registers accounts)",
            Self::Generic => "Generic self-registration environment",
        }
    }
}

impl fmt::Display for RegistrationPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RegistrationPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| "must be one of open, channel_partner, generic".to_string())
    }
}

/// The editable fields of an account as they arrive from a form or an API call, before checks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AccountFields {
    #[schema(required = true, min_length = 1, max_length = 200)]
    pub name: String,
    /// Capital letters, digits, `-` and `_`; drawn from the name when empty.
    #[schema(max_length = 64, pattern = "^[A-Z0-9_-]*$")]
    pub code: String,
    #[schema(required = true, max_length = 254, format = Email)]
    pub email: String,
    #[schema(required = true, min_length = 1, max_length = 100)]
    pub owner_first_name: String,
    #[schema(required = true, min_length = 1, max_length = 100)]
    pub owner_last_name: String,
    /// Digits, spaces and `+ . - ( ) x`.
    #[schema(max_length = 32, pattern = "^([0-9 +.()x-]*[0-9][0-9 +.()x-]*)?$")]
    pub owner_phone: String,
    pub vendor_matrix: bool,
    pub corporate_catalog: bool,
    pub whitelabeling: bool,
    pub exempt_from_membership_fees: bool,
    #[schema(max_length = 10000)]
    pub notes: String,
    /// `open` (the default when empty), `channel_partner` or `generic`.
    #[schema(pattern = "^(|open|channel_partner|generic)$")]
    pub registration_policy: String,
    /// Required for the `channel_partner` policy.
    #[schema(
        max_length = 2048,
        pattern = "^(https?://[^\\s/?#\\u0000-\\u001F\\u007F-\\u009F]+[^\\s\\u0000-\\u001F\\u007F-\\u009F]*)?$"
    )]
    pub partner_site_url: String,
}

/// An account that passed every field check. Nesting (the parent) is checked separately because
/// it depends on other accounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountDraft {
    pub name: String,
    pub code: String,
    pub email: String,
    pub owner_first_name: String,
    pub owner_last_name: String,
    pub owner_phone: Option<String>,
    pub vendor_matrix: bool,
    pub corporate_catalog: bool,
    pub whitelabeling: bool,
    pub exempt_from_membership_fees: bool,
    pub notes: Option<String>,
    pub registration_policy: RegistrationPolicy,
    pub partner_site_url: Option<String>,
}

impl AccountFields {
    /// Checks every field and reports all problems at once.
    pub fn parse(&self) -> Result<AccountDraft, Validation> {
        let mut v = Validation::new();
        let name = v.check("name", required_text(&self.name, 200));
        // A name without letters or digits to draw a code from gets `ACCOUNT`.
        let code = if self.code.trim().is_empty() {
            name.as_deref().map(code_from_name).map(|c| {
                if c.is_empty() {
                    "ACCOUNT".to_string()
                } else {
                    c
                }
            })
        } else {
            v.check("code", parse_code(&self.code))
        };
        let email = v.check("email", Email::parse(&self.email).map(Email::into_string));
        let first = v.check(
            "owner_first_name",
            required_person_name(&self.owner_first_name, 100),
        );
        let last = v.check(
            "owner_last_name",
            required_person_name(&self.owner_last_name, 100),
        );
        let phone = v.check("owner_phone", parse_phone(&self.owner_phone));
        let notes = v.check("notes", optional_text(&self.notes, 10_000));
        let policy = if self.registration_policy.trim().is_empty() {
            Some(RegistrationPolicy::Open)
        } else {
            v.check(
                "registration_policy",
                self.registration_policy.trim().parse(),
            )
        };
        let site = v.check("partner_site_url", parse_site_url(&self.partner_site_url));
        if let (Some(RegistrationPolicy::ChannelPartner), Some(None)) = (policy, &site) {
            // Without a site the refusal page could only say "not here"; it must say where.
            v.add(
                "partner_site_url",
                "is required for the channel_partner policy: people are sent there to register",
            );
        }
        match (name, code, email, first, last, phone, notes, policy, site) {
            (
                Some(name),
                Some(code),
                Some(email),
                Some(owner_first_name),
                Some(owner_last_name),
                Some(owner_phone),
                Some(notes),
                Some(registration_policy),
                Some(partner_site_url),
            ) if v.is_empty() => Ok(AccountDraft {
                name,
                code,
                email,
                owner_first_name,
                owner_last_name,
                owner_phone,
                vendor_matrix: self.vendor_matrix,
                corporate_catalog: self.corporate_catalog,
                whitelabeling: self.whitelabeling,
                exempt_from_membership_fees: self.exempt_from_membership_fees,
                notes,
                registration_policy,
                partner_site_url,
            }),
            _ => Err(v),
        }
    }
}

impl From<&AccountDraft> for AccountFields {
    fn from(d: &AccountDraft) -> Self {
        Self {
            name: d.name.clone(),
            code: d.code.clone(),
            email: d.email.clone(),
            owner_first_name: d.owner_first_name.clone(),
            owner_last_name: d.owner_last_name.clone(),
            owner_phone: d.owner_phone.clone().unwrap_or_default(),
            vendor_matrix: d.vendor_matrix,
            corporate_catalog: d.corporate_catalog,
            whitelabeling: d.whitelabeling,
            exempt_from_membership_fees: d.exempt_from_membership_fees,
            notes: d.notes.clone().unwrap_or_default(),
            registration_policy: d.registration_policy.as_str().to_string(),
            partner_site_url: d.partner_site_url.clone().unwrap_or_default(),
        }
    }
}

/// The seed's code convention: the name in capitals with spaces (and punctuation) removed.
pub fn code_from_name(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .take(64)
        .collect()
}

fn parse_code(raw: &str) -> Result<String, String> {
    let code = raw.trim();
    if code.len() > 64 {
        return Err("must be at most 64 characters".into());
    }
    if !code
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        return Err("may contain only capital letters, digits, '-' and '_'".into());
    }
    Ok(code.to_string())
}

pub(crate) fn parse_phone(raw: &str) -> Result<Option<String>, String> {
    let phone = raw.trim();
    if phone.is_empty() {
        return Ok(None);
    }
    if phone.len() > 32 {
        return Err("must be at most 32 characters".into());
    }
    let allowed = |c: char| c.is_ascii_digit() || " +.-()x".contains(c);
    if !phone.chars().all(allowed) || !phone.chars().any(|c| c.is_ascii_digit()) {
        return Err("must be a phone number such as 555.555.5555".into());
    }
    Ok(Some(phone.to_string()))
}

fn parse_site_url(raw: &str) -> Result<Option<String>, String> {
    crate::validation::web_url(raw, false, "https://partner.example.com/signup")
}

/// Overrides for the fields the clone convention fills in; anything left `None` keeps the
/// convention.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CloneOverrides {
    /// The short name of the beneficiary used in the convention, e.g. `Vector` for
    /// "Vector Services - Contractor". Defaults to the beneficiary's account name.
    pub beneficiary_label: Option<String>,
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[schema(max_length = 64, pattern = "^[A-Z0-9_-]*$")]
    pub code: Option<String>,
    #[schema(max_length = 254, format = Email)]
    pub email: Option<String>,
    #[schema(min_length = 1, max_length = 100)]
    pub owner_first_name: Option<String>,
    #[schema(min_length = 1, max_length = 100)]
    pub owner_last_name: Option<String>,
    #[schema(max_length = 32, pattern = "^$|^[0-9 +.()x-]*[0-9][0-9 +.()x-]*$")]
    pub owner_phone: Option<String>,
    pub vendor_matrix: Option<bool>,
    pub corporate_catalog: Option<bool>,
    pub whitelabeling: Option<bool>,
    #[schema(max_length = 10000)]
    pub notes: Option<String>,
    #[schema(value_type = Option<RegistrationPolicy>)]
    pub registration_policy: Option<String>,
    #[schema(max_length = 2048, format = "iri-or-empty")]
    pub partner_site_url: Option<String>,
}

impl CloneOverrides {
    /// Overrides every field: what a person saw and edited in a pre-filled form is what is saved.
    pub fn all_of(beneficiary_label: &str, f: &AccountFields) -> Self {
        Self {
            beneficiary_label: Some(beneficiary_label.to_string()),
            name: Some(f.name.clone()),
            code: Some(f.code.clone()),
            email: Some(f.email.clone()),
            owner_first_name: Some(f.owner_first_name.clone()),
            owner_last_name: Some(f.owner_last_name.clone()),
            owner_phone: Some(f.owner_phone.clone()),
            vendor_matrix: Some(f.vendor_matrix),
            corporate_catalog: Some(f.corporate_catalog),
            whitelabeling: Some(f.whitelabeling),
            notes: Some(f.notes.clone()),
            registration_policy: Some(f.registration_policy.clone()),
            partner_site_url: Some(f.partner_site_url.clone()),
        }
    }
}

pub const SUPER_CUSTOMER_PHONE: &str = "555.555.5555";

/// The suffix the clone convention gives a super customer's name.
pub const SUPER_CUSTOMER_SUFFIX: &str = " Referral Super Customer";

/// Whom a super customer stands for, as people should read it: the label the clone convention
/// started from ("Vector" for "Vector Referral Super Customer"), or the name itself.
pub fn beneficiary_label(super_customer_name: &str) -> &str {
    super_customer_name
        .strip_suffix(SUPER_CUSTOMER_SUFFIX)
        .map(str::trim)
        .filter(|label| !label.is_empty())
        .unwrap_or(super_customer_name)
}

/// The fields of the referral super customer cloned from `beneficiary`, following the seed's
/// naming convention, with `overrides` applied on top.
pub fn clone_fields(
    beneficiary: &AccountFields,
    email_domain: &str,
    overrides: &CloneOverrides,
) -> AccountFields {
    let label = overrides
        .beneficiary_label
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| beneficiary.name.trim());
    let name = format!("{label}{SUPER_CUSTOMER_SUFFIX}");
    let code = code_from_name(&name);
    let conventional = AccountFields {
        email: format!("{}@{}", code.to_lowercase(), email_domain),
        code,
        owner_first_name: format!("{label} Referral"),
        owner_last_name: "Super Customer".into(),
        owner_phone: SUPER_CUSTOMER_PHONE.into(),
        vendor_matrix: true,
        corporate_catalog: true,
        whitelabeling: true,
        exempt_from_membership_fees: false,
        notes: String::new(),
        registration_policy: RegistrationPolicy::Open.as_str().into(),
        partner_site_url: String::new(),
        name,
    };
    let pick = |o: &Option<String>, d: String| o.clone().unwrap_or(d);
    AccountFields {
        name: pick(&overrides.name, conventional.name),
        code: pick(&overrides.code, conventional.code),
        email: pick(&overrides.email, conventional.email),
        owner_first_name: pick(&overrides.owner_first_name, conventional.owner_first_name),
        owner_last_name: pick(&overrides.owner_last_name, conventional.owner_last_name),
        owner_phone: pick(&overrides.owner_phone, conventional.owner_phone),
        vendor_matrix: overrides.vendor_matrix.unwrap_or(true),
        corporate_catalog: overrides.corporate_catalog.unwrap_or(true),
        whitelabeling: overrides.whitelabeling.unwrap_or(true),
        exempt_from_membership_fees: false,
        notes: pick(&overrides.notes, conventional.notes),
        registration_policy: pick(
            &overrides.registration_policy,
            conventional.registration_policy,
        ),
        partner_site_url: pick(&overrides.partner_site_url, conventional.partner_site_url),
    }
}

/// What nesting needs to know about the proposed parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentCandidate {
    pub id: i64,
    pub is_super_customer: bool,
    /// Ids from the parent's own parent up to the root.
    pub ancestors: Vec<i64>,
}

/// Refuses self-nesting, nesting under an account that is not a super customer, and cycles.
pub fn check_nesting(child_id: Option<i64>, parent: &ParentCandidate) -> Result<(), String> {
    if child_id == Some(parent.id) {
        return Err("an account cannot be nested under itself".into());
    }
    if !parent.is_super_customer {
        return Err(format!("account {} is not a super customer", parent.id));
    }
    if let Some(child) = child_id
        && parent.ancestors.contains(&child)
    {
        return Err(format!(
            "account {} is nested under this account; nesting here would make a cycle",
            parent.id
        ));
    }
    Ok(())
}

/// The link a super customer hands out; its query string is the seed's, verbatim.
pub fn registration_link(base_url: &str, super_customer_id: i64) -> String {
    format!(
        "{}/register?utm_source=login_page&utm_medium=register_button&utm_campaign=pp_login_page&utm_id=self_registration&utm_term=register&super_customer_id={super_customer_id}",
        base_url.trim_end_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector() -> AccountFields {
        AccountFields {
            name: "Vector Services - Contractor".into(),
            email: "ops@vector.example".into(),
            owner_first_name: "Ann".into(),
            owner_last_name: "Lee".into(),
            ..Default::default()
        }
    }

    #[test]
    fn clone_follows_the_seed_convention() {
        let overrides = CloneOverrides {
            beneficiary_label: Some("Vector".into()),
            ..Default::default()
        };
        let f = clone_fields(&vector(), "purchasingplatform.com", &overrides);
        assert_eq!(f.name, "Vector Referral Super Customer");
        assert_eq!(beneficiary_label(&f.name), "Vector");
        assert_eq!(beneficiary_label("Acme Corp"), "Acme Corp");
        assert_eq!(
            beneficiary_label(" Referral Super Customer"),
            " Referral Super Customer"
        );
        assert_eq!(f.code, "VECTORREFERRALSUPERCUSTOMER");
        assert_eq!(
            f.email,
            "vectorreferralsupercustomer@purchasingplatform.com"
        );
        assert_eq!(f.owner_first_name, "Vector Referral");
        assert_eq!(f.owner_last_name, "Super Customer");
        assert_eq!(f.owner_phone, "555.555.5555");
        assert!(f.vendor_matrix && f.corporate_catalog && f.whitelabeling);
        assert!(!f.exempt_from_membership_fees);
        assert!(f.parse().is_ok());
    }

    #[test]
    fn clone_overrides_win() {
        let overrides = CloneOverrides {
            name: Some("Vector SC".into()),
            owner_phone: Some("555.000.0000".into()),
            whitelabeling: Some(false),
            ..Default::default()
        };
        let f = clone_fields(&vector(), "x.com", &overrides);
        assert_eq!(f.name, "Vector SC");
        assert_eq!(f.code, "VECTORSERVICESCONTRACTORREFERRALSUPERCUSTOMER");
        assert_eq!(f.owner_phone, "555.000.0000");
        assert!(!f.whitelabeling);
    }

    #[test]
    fn parse_reports_every_field() {
        let fields = AccountFields {
            code: "lower case".into(),
            email: "nope".into(),
            owner_phone: "call me".into(),
            registration_policy: "closed".into(),
            ..Default::default()
        };
        let errors = fields.parse().expect_err("invalid");
        let named: Vec<_> = errors.errors().iter().map(|e| e.field.as_str()).collect();
        for field in [
            "name",
            "code",
            "email",
            "owner_first_name",
            "owner_last_name",
            "owner_phone",
            "registration_policy",
        ] {
            assert!(named.contains(&field), "{field} missing from {named:?}");
        }
    }

    #[test]
    fn code_defaults_from_name_and_channel_partner_needs_site() {
        let mut f = vector();
        let draft = f.parse().expect("valid");
        assert_eq!(draft.code, "VECTORSERVICESCONTRACTOR");
        f.registration_policy = "channel_partner".into();
        let errors = f.parse().expect_err("site needed");
        assert_eq!(errors.errors()[0].field, "partner_site_url");
        f.partner_site_url = "https://partner.example/signup".into();
        assert!(f.parse().is_ok());
    }

    #[test]
    fn nesting_rules() {
        let parent = ParentCandidate {
            id: 10,
            is_super_customer: true,
            ancestors: vec![7, 3],
        };
        assert!(check_nesting(Some(5), &parent).is_ok());
        assert!(check_nesting(None, &parent).is_ok());
        assert!(check_nesting(Some(10), &parent).is_err());
        assert!(check_nesting(Some(3), &parent).is_err());
        let plain = ParentCandidate {
            is_super_customer: false,
            ..parent
        };
        assert!(check_nesting(Some(5), &plain).is_err());
    }

    #[test]
    fn link_matches_the_seed() {
        assert_eq!(
            registration_link("https://www.purchasingplatform.com/", 3192),
            "https://www.purchasingplatform.com/register?utm_source=login_page&utm_medium=register_button&utm_campaign=pp_login_page&utm_id=self_registration&utm_term=register&super_customer_id=3192"
        );
    }
}
