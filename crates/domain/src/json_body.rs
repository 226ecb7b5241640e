//! What an API request body must be before its fields are read: one JSON object and nothing
//! after it, no string (or key) holding NUL (no field takes one, and PostgreSQL cannot store
//! it), and integral floats such as `2.0` read as the integers JSON Schema says they are.

/// Why a body was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// Not one JSON value, or something after it (serde_json's words).
    NotJson(String),
    /// A JSON value, but not an object.
    NotObject,
    /// The path of the first string or key holding NUL (`body` for the top level).
    Nul(String),
}

/// The body as a JSON object ready for the fields' deserialiser.
pub fn parse(bytes: &[u8]) -> Result<serde_json::Value, BodyError> {
    let mut value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| BodyError::NotJson(e.to_string()))?;
    if !value.is_object() {
        return Err(BodyError::NotObject);
    }
    if let Some(path) = nul_at(&value, "") {
        return Err(BodyError::Nul(path));
    }
    integral_numbers(&mut value);
    Ok(value)
}

/// The path of the first string (or key) holding NUL; other control characters are each
/// field's own business.
fn nul_at(value: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value;
    let here = || {
        if path.is_empty() {
            "body".to_string()
        } else {
            path.to_string()
        }
    };
    match value {
        Value::String(s) if s.contains('\0') => Some(here()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| nul_at(v, &format!("{}[{i}]", here()))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let child = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            if k.contains('\0') {
                return Some(here());
            }
            nul_at(v, &child)
        }),
        _ => None,
    }
}

/// JSON has one number type: `565.0` is the integer 565 to JSON Schema and to most clients'
/// serialisers, so integer fields take it (a fraction is still refused).
fn integral_numbers(value: &mut serde_json::Value) {
    use serde_json::Value;
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53: every integer below is exact in f64
    match value {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            if let Some(f) = n.as_f64()
                && f.fract() == 0.0
                && f.abs() <= EXACT
            {
                #[expect(clippy::cast_possible_truncation, reason = "integral and within 2^53")]
                let i = f as i64;
                *value = Value::from(i);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_numbers),
        Value::Object(map) => map.values_mut().for_each(integral_numbers),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_object_without_nul_and_with_integral_numbers() {
        assert_eq!(
            parse(br#"{"a": 2.0, "b": [1.5]}"#),
            Ok(serde_json::json!({ "a": 2, "b": [1.5] }))
        );
        assert!(matches!(
            parse(br#"{"a":1} garbage"#),
            Err(BodyError::NotJson(_))
        ));
        assert_eq!(parse(b"[1]"), Err(BodyError::NotObject));
        assert_eq!(
            parse(br#"{"a": {"b": ["x\u0000"]}}"#),
            Err(BodyError::Nul("a.b[0]".into()))
        );
    }
}
