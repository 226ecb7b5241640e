//! Field-level validation errors, collected so that a form or an API call reports every problem
//! at once rather than the first one.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// Dotted path of the offending field, e.g. `owner.email`.
    pub field: String,
    pub message: String,
}

/// Accumulates field errors while a value is parsed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Validation {
    errors: Vec<FieldError>,
}

impl Validation {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// Records the error of a parse, if any, and hands back the parsed value.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }

    /// Prefixes every field path, so nested inputs report `beneficiary.email`.
    pub fn nest(&mut self, prefix: &str, inner: Validation) {
        for e in inner.errors {
            self.add(format!("{prefix}.{}", e.field), e.message);
        }
    }

    pub fn into_result(self) -> Result<(), Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors)
        }
    }
}

/// Trims a required text field and checks its length in characters.
pub fn required_text(value: &str, max_chars: usize) -> Result<String, String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err("is required".into());
    }
    optional_text(trimmed, max_chars).map(|v| v.unwrap_or_default())
}

/// Trims an optional text field; empty becomes `None`.
pub fn optional_text(value: &str, max_chars: usize) -> Result<Option<String>, String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if trimmed.chars().count() > max_chars {
        return Err(format!("must be at most {max_chars} characters"));
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err("must not contain control characters".into());
    }
    Ok(Some(trimmed.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_text_trims_and_limits() {
        assert_eq!(required_text("  a ", 3), Ok("a".to_string()));
        assert!(required_text("   ", 3).is_err());
        assert!(required_text("abcd", 3).is_err());
        assert!(required_text("a\u{0}b", 3).is_err());
    }

    #[test]
    fn nest_prefixes_fields() {
        let mut inner = Validation::new();
        inner.add("email", "is required");
        let mut outer = Validation::new();
        outer.nest("beneficiary", inner);
        assert_eq!(outer.errors()[0].field, "beneficiary.email");
    }
}
