//! Participants of a program and their referral codes. Codes follow Prefinery's shape: up to
//! six characters from the first name (or the email's local part) and four random characters
//! from an alphabet without look-alikes, ten at most, upper case. Codes are unique across the
//! installation, because a link `/r/{code}` names no program.

use crate::email::Email;
use crate::validation::{Validation, optional_text, person_name};
use rand::Rng;

/// No 0/O, 1/I/L: codes are read aloud and typed from paper.
pub const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// A fresh code for a person: prefix from the name or email, four random characters.
pub fn generate_code(first_name: &str, email: &str) -> String {
    let source = if first_name.trim().is_empty() {
        email.split('@').next().unwrap_or_default()
    } else {
        first_name
    };
    let prefix: String = source
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .take(6)
        .collect();
    let mut rng = rand::rng();
    let suffix: String = (0..4)
        .map(|_| char::from(CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())]))
        .collect();
    format!("{prefix}{suffix}")
}

/// Checks a vanity code chosen by staff: 3–10 letters or digits (stored upper case).
pub fn parse_vanity_code(raw: &str) -> Result<String, String> {
    let code = raw.trim().to_ascii_uppercase();
    if (3..=10).contains(&code.len()) && code.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(code)
    } else {
        Err("must be 3 to 10 letters or digits".into())
    }
}

/// A participant as it arrives from the API, a form or an import.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ParticipantFields {
    /// Unique per program (409 when already enrolled).
    #[schema(required = true, max_length = 254, format = Email, example = "ann@example.com")]
    pub email: String,
    #[schema(max_length = 100, example = "Ann")]
    pub first_name: String,
    #[schema(max_length = 100)]
    pub last_name: String,
    /// The referral code of whoever referred this person, if the caller knows it (422 when it
    /// names nobody in this program).
    #[schema(max_length = 32, pattern = "^[A-Za-z0-9]*$")]
    pub referred_by: String,
    /// The signup's network address, for fraud checks; only a keyed hash of it is kept.
    #[schema(
        max_length = 45,
        pattern = "^$|^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$|^(([0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,7}:|([0-9a-fA-F]{1,4}:){1,6}:[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,5}(:[0-9a-fA-F]{1,4}){1,2}|([0-9a-fA-F]{1,4}:){1,4}(:[0-9a-fA-F]{1,4}){1,3}|([0-9a-fA-F]{1,4}:){1,3}(:[0-9a-fA-F]{1,4}){1,4}|([0-9a-fA-F]{1,4}:){1,2}(:[0-9a-fA-F]{1,4}){1,5}|[0-9a-fA-F]{1,4}:(:[0-9a-fA-F]{1,4}){1,6}|:((:[0-9a-fA-F]{1,4}){1,7}|:))$",
        example = "203.0.113.7"
    )]
    pub ip_address: String,
    /// The person's company: required by programs tied to a super customer, which register an
    /// account for it nested under the super customer.
    #[schema(max_length = 200)]
    pub company: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipantDraft {
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// A referral code, upper case.
    pub referred_by: Option<String>,
    pub ip_address: Option<std::net::IpAddr>,
    pub company: Option<String>,
}

/// Checks the shape of a referral code someone typed or passed along.
pub fn parse_code(raw: &str) -> Result<Option<String>, String> {
    let code = raw.trim().to_ascii_uppercase();
    if code.is_empty() {
        Ok(None)
    } else if code.len() <= 32 && code.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(Some(code))
    } else {
        Err("is not a referral code (letters and digits only)".into())
    }
}

impl ParticipantFields {
    pub fn parse(&self) -> Result<ParticipantDraft, Validation> {
        let mut v = Validation::new();
        let email = v.check("email", Email::parse(&self.email).map(Email::into_string));
        let first = v.check("first_name", person_name(&self.first_name, 100));
        let last = v.check("last_name", person_name(&self.last_name, 100));
        let referred_by = v.check("referred_by", parse_code(&self.referred_by));
        let ip = self.ip_address.trim();
        let ip_address = v.check(
            "ip_address",
            if ip.is_empty() {
                Ok(None)
            } else {
                ip.parse()
                    .map(Some)
                    .map_err(|_| "must be an IPv4 or IPv6 address".to_string())
            },
        );
        let company = v.check("company", optional_text(&self.company, 200));
        match (email, first, last, referred_by, ip_address, company) {
            (
                Some(email),
                Some(first_name),
                Some(last_name),
                Some(referred_by),
                Some(ip_address),
                Some(company),
            ) if v.is_empty() => Ok(ParticipantDraft {
                email,
                first_name,
                last_name,
                referred_by,
                ip_address,
                company,
            }),
            _ => Err(v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_the_prefinery_shape() {
        let code = generate_code("Annabelle-Marie", "x@y.z");
        assert_eq!(&code[..6], "ANNABE");
        assert_eq!(code.len(), 10);
        assert!(code[6..].bytes().all(|b| CODE_ALPHABET.contains(&b)));
        let from_email = generate_code("", "jo.smith@example.com");
        assert_eq!(&from_email[..6], "JOSMIT");
        let short = generate_code("Al", "a@b.c");
        assert_eq!(short.len(), 6);
        let many: std::collections::HashSet<String> =
            (0..50).map(|_| generate_code("Al", "a@b.c")).collect();
        assert!(many.len() > 40, "the suffix is random");
    }

    #[test]
    fn vanity_codes() {
        assert_eq!(parse_vanity_code(" vip2026 "), Ok("VIP2026".into()));
        assert!(parse_vanity_code("ab").is_err());
        assert!(parse_vanity_code("has space").is_err());
        assert!(parse_vanity_code("ELEVENCHARS").is_err());
    }
}
