//! Rules for files Vouch writes for people to open (CSV exports).

/// A cell a spreadsheet will not run as a formula (OWASP's rule for CSV injection): text
/// starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading apostrophe.
/// Plain numbers (`-5.00`, `+3`) are left alone, so amounts stay numbers.
pub fn inert_cell(text: &str) -> std::borrow::Cow<'_, str> {
    let risky = text.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if !risky {
        return std::borrow::Cow::Borrowed(text);
    }
    // Every risky first character is one byte, so the rest starts at byte 1.
    let rest = text.get(1..).unwrap_or_default();
    let number = rest.chars().all(|c| c.is_ascii_digit() || c == '.')
        && rest.chars().any(|c| c.is_ascii_digit());
    if !(text.starts_with(['+', '-']) && number) {
        std::borrow::Cow::Owned(format!("'{text}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::inert_cell;

    #[test]
    fn formulas_get_an_apostrophe_and_numbers_do_not() {
        for risky in ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\r=x", "-", "+"] {
            assert_eq!(inert_cell(risky), format!("'{risky}"), "{risky:?}");
        }
        for safe in ["-5.00", "+3", "Erin", "", "5-3", "a=b", "Émile", "日本"] {
            assert_eq!(inert_cell(safe), safe, "{safe:?}");
        }
    }
}
