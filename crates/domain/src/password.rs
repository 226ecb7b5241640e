//! Password policy after OWASP ASVS 5.0 V6.2: at least 8 characters, up to 128, no composition
//! rules, and none of the most common passwords.

pub const MIN_CHARS: usize = 8;
pub const MAX_CHARS: usize = 128;

/// The most frequently breached passwords of 8 or more characters; shorter ones fail the length
/// rule anyway.
const COMMON: &[&str] = &[
    "password",
    "password1",
    "password123",
    "12345678",
    "123456789",
    "1234567890",
    "qwertyuiop",
    "qwerty123",
    "iloveyou",
    "11111111",
    "00000000",
    "abc12345",
    "football",
    "baseball",
    "welcome1",
    "welcome123",
    "sunshine",
    "princess",
    "passw0rd",
    "p@ssw0rd",
    "p@ssword",
    "letmein1",
    "trustno1",
    "superman",
    "1q2w3e4r",
    "1qaz2wsx",
    "qwertyui",
    "asdfghjk",
    "zaq12wsx",
    "changeme",
    "administrator",
    "admin123",
    "password!",
    "88888888",
    "12341234",
    "87654321",
    "abcdefgh",
    "monkey123",
    "dragon123",
    "starwars",
    "whatever",
    "computer",
    "michelle",
    "jennifer",
    "1234qwer",
    "qwer1234",
    "123123123",
    "987654321",
    "secret123",
    "master123",
    "liverpool",
    "chocolate",
    "vouchvouch",
];

pub fn check(password: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(format!("must be at least {MIN_CHARS} characters"));
    }
    if chars > MAX_CHARS {
        return Err(format!("must be at most {MAX_CHARS} characters"));
    }
    if COMMON.contains(&password.to_lowercase().as_str()) {
        return Err("is one of the most common passwords; choose another".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn policy() {
        assert!(check("short").is_err());
        assert!(check("Password123").is_err());
        assert!(check("correct horse battery").is_ok());
        assert!(check(&"x".repeat(129)).is_err());
        assert!(check(&"x".repeat(64)).is_ok());
    }
}
