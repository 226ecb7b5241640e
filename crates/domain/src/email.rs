//! An email address that has been checked for shape. Matching is case-insensitive, so the
//! stored form is lower-cased.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let value = raw.trim().to_lowercase();
        if value.is_empty() {
            return Err("is required".into());
        }
        // Lengths in characters, as the API document states them.
        if value.chars().count() > 254 {
            return Err("must be at most 254 characters".into());
        }
        let Some((local, domain)) = value.split_once('@') else {
            return Err("must be an email address like name@example.com".into());
        };
        // Labels of letters, digits and inner hyphens, at least two of them.
        let label_ok = |l: &str| {
            (1..=63).contains(&l.len())
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        let domain_ok = domain.split('.').count() >= 2 && domain.split('.').all(label_ok);
        // RFC 5322 atext and dots: what every mail system delivers to.
        let local_ok = !local.is_empty()
            && local.chars().count() <= 64
            && local.split('.').all(|part| !part.is_empty())
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
        if !domain_ok || !local_ok {
            return Err("must be an email address like name@example.com".into());
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Email;

    #[test]
    fn accepts_and_lowercases() {
        assert_eq!(
            Email::parse(" Ann@Example.COM ").map(Email::into_string),
            Ok("ann@example.com".into())
        );
    }

    #[test]
    fn rejects_bad_shapes() {
        for bad in [
            "",
            "ann",
            "ann@",
            "@x.com",
            "ann@x",
            "a b@x.com",
            "ann@x..com",
            "ann@-x.com.",
            "a@b@c.com",
            "ann@x-.com",
            ".ann@x.com",
            "an..n@x.com",
            "ånn@x.com",
            "ann@x.-.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} should be refused");
        }
    }
}
