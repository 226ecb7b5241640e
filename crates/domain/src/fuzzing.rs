//! The properties the fuzz targets in `fuzz/` check, one function per target, so that the
//! committed corpus is replayed by the ordinary test suite too
//! (`crates/domain/tests/fuzz_corpus.rs`): whatever bytes arrive, the CSV importers, the email
//! template renderer and the API body parser answer (never panic), and what they accept keeps
//! their promises. See `docs/FUZZING.md`.

use std::collections::HashMap;

/// Any file given to the three CSV importers: each reads it or refuses it; a read row names a
/// line after the header. Any text written to an export cell reads back as it was.
pub fn csv_imports(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(parsed) = crate::import::parse(&text, &HashMap::new()) {
        assert!(
            parsed.rows.iter().all(|r| r.line >= 2),
            "a row above the header"
        );
    }
    let _ = crate::person::parse_people_csv(&text, None);
    let _ = crate::partner::parse_partners_csv(&text);
    let cell = crate::export::inert_cell(&text);
    assert_eq!(
        crate::export::read_cell(&cell),
        text,
        "an export cell reads back"
    );
}

/// Any text as an operator's welcome template: it is refused or it renders within the caps,
/// always within the fuel.
pub fn email_template(data: &[u8]) {
    use crate::email_template::{Kind, MAX_RENDERED_BYTES, Template, check};
    let text = String::from_utf8_lossy(data).into_owned();
    let kind = Kind::ParticipantWelcome;
    let t = Template {
        text: text.clone(),
        html: text,
        ..kind.default_template()
    };
    if let Ok(r) = check(kind, &t) {
        assert!(r.text.len() <= MAX_RENDERED_BYTES && r.html.len() <= MAX_RENDERED_BYTES);
        assert!(!r.subject.contains(['\r', '\n']), "a subject on two lines");
    }
}

/// Any bytes as an API request body: refused, or one JSON object holding no NUL.
pub fn json_body(data: &[u8]) {
    if let Ok(value) = crate::json_body::parse(data) {
        assert!(value.is_object());
        assert!(!holds_nul(&value), "NUL let through");
    }
}

fn holds_nul(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || holds_nul(v)),
        _ => false,
    }
}
