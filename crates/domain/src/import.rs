//! Participant imports from CSV: which column holds what (recognised header names, or a mapping
//! the operator gives), and every row checked with its line number, so a whole file is judged
//! before anything is saved.

use crate::participant::{ParticipantDraft, ParticipantFields, parse_code};
use crate::validation::FieldError;
use serde::Serialize;
use std::collections::HashMap;

/// What a column can hold.
pub const FIELDS: [&str; 7] = [
    "email",
    "company",
    "first_name",
    "last_name",
    "referred_by",
    "signed_up_at",
    "code",
];

/// Header names recognised without a mapping (compared without case, spaces or punctuation).
fn field_for_header(header: &str) -> Option<&'static str> {
    let key: String = header
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    Some(match key.as_str() {
        "email" | "emailaddress" | "mail" => "email",
        "firstname" | "first" | "givenname" | "name" => "first_name",
        "lastname" | "last" | "surname" | "familyname" => "last_name",
        "referredby" | "referrercode" | "referralcodeofreferrer" | "referrer" | "ref" => {
            "referred_by"
        }
        "signedupat" | "signupdate" | "signedup" | "createdat" | "joinedat" | "joined" => {
            "signed_up_at"
        }
        "code" | "referralcode" | "participantcode" => "code",
        "company" | "companyname" | "organisation" | "organization" => "company",
        _ => return None,
    })
}

/// One row ready to enrol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// Line in the file (the header is line 1).
    pub line: u64,
    pub draft: ParticipantDraft,
    /// The original signup time, RFC 3339 UTC with milliseconds.
    pub signed_up_at: Option<crate::Timestamp>,
    /// A code the participant already uses elsewhere; kept so old links keep working.
    pub code: Option<String>,
}

/// A problem on one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LineError {
    pub line: u64,
    pub field: String,
    pub message: String,
}

impl LineError {
    pub fn new(line: u64, field: &str, message: impl Into<String>) -> Self {
        Self {
            line,
            field: field.into(),
            message: message.into(),
        }
    }
}

/// One line of a CSV file whose columns are read by name.
pub struct CsvLine<'a> {
    /// Line in the file (the header is line 1).
    pub line: u64,
    record: &'a csv::StringRecord,
    headers: &'a csv::StringRecord,
}

impl CsvLine<'_> {
    /// The cell under the column `name` (matched without case, trimmed, the apostrophe an
    /// export put before a formula-like text dropped); empty when the column or the cell is
    /// missing.
    pub fn cell(&self, name: &str) -> String {
        self.headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
            .and_then(|i| self.record.get(i))
            .map(crate::export::read_cell)
            .unwrap_or_default()
            .to_string()
    }

    /// Every field error of `v`, as problems of this line.
    pub fn problems(&self, v: &crate::validation::Validation) -> Vec<LineError> {
        v.errors()
            .iter()
            .map(|e| LineError::new(self.line, &e.field, e.message.clone()))
            .collect()
    }
}

/// The text with `\r\n` line endings as `\n`. The csv reader takes `\r\n` too, but then
/// dates each record to the line before its own (found by the `csv_import` fuzz target), so
/// every problem in a file saved by Excel on Windows named the wrong line. A lone `\r` is left
/// alone: inside a quoted cell it is the cell's own.
fn unix_lines(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains("\r\n") {
        std::borrow::Cow::Owned(text.replace("\r\n", "\n"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// Reads CSV text with a header line that must name the column `required`, handing each line
/// to `each`, which reads its cells by name and adds what it finds; a line that cannot be read
/// at all is a `file` problem of its own. Refuses the file only when its header cannot be read
/// or lacks `required`.
pub fn each_csv_line(
    text: &str,
    required: &str,
    mut each: impl FnMut(&CsvLine<'_>, &mut Vec<LineError>),
) -> Result<Vec<LineError>, String> {
    let text = unix_lines(text);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| format!("the header line cannot be read: {e}"))?
        .clone();
    if !headers
        .iter()
        .any(|h| h.trim().eq_ignore_ascii_case(required))
    {
        return Err(format!("no column is named `{required}`"));
    }
    let mut errors = Vec::new();
    for record in reader.records() {
        match record {
            Ok(record) => {
                let line = CsvLine {
                    line: record.position().map_or(0, csv::Position::line),
                    record: &record,
                    headers: &headers,
                };
                each(&line, &mut errors);
            }
            Err(e) => errors.push(LineError::new(
                e.position().map_or(0, csv::Position::line),
                "file",
                format!("cannot be read: {e}"),
            )),
        }
    }
    Ok(errors)
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    /// Column index → field, as used.
    pub columns: Vec<(String, Option<&'static str>)>,
    pub rows: Vec<ImportRow>,
    pub errors: Vec<LineError>,
}

/// Parses `mapping` entries like `E-mail=email`.
pub fn parse_mapping(entries: &[String]) -> Result<HashMap<String, &'static str>, String> {
    let mut out = HashMap::new();
    for e in entries {
        let (header, field) = e
            .split_once('=')
            .ok_or_else(|| format!("`{e}`: write a mapping as HEADER=FIELD"))?;
        let field = FIELDS
            .iter()
            .copied()
            .find(|f| *f == field.trim())
            .ok_or_else(|| format!("`{e}`: the field must be one of {}", FIELDS.join(", ")))?;
        out.insert(header.trim().to_string(), field);
    }
    Ok(out)
}

fn parse_time(raw: &str) -> Result<Option<crate::Timestamp>, String> {
    use time::format_description::well_known::Rfc3339;
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let parsed = time::OffsetDateTime::parse(raw, &Rfc3339).or_else(|_| {
        time::Date::parse(
            raw,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .map(|d| d.midnight().assume_utc())
    });
    let t = parsed.map_err(|_| "must be a date (2024-05-15) or an RFC 3339 time".to_string())?;
    let t = t.to_offset(time::UtcOffset::UTC);
    if t > time::OffsetDateTime::now_utc() + time::Duration::days(1) {
        return Err("is in the future".into());
    }
    Ok(Some(crate::Timestamp::from_datetime(t)))
}

/// Reads the whole file. Rows with problems are reported, not returned; an email that appears
/// twice is reported on its second line.
pub fn parse(csv_text: &str, mapping: &HashMap<String, &'static str>) -> Result<Parsed, String> {
    let csv_text = unix_lines(csv_text);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(csv_text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| format!("the header line cannot be read: {e}"))?
        .clone();
    let columns: Vec<(String, Option<&'static str>)> = headers
        .iter()
        .map(|h| {
            let field = mapping.get(h).copied().or_else(|| field_for_header(h));
            (h.to_string(), field)
        })
        .collect();
    if !columns.iter().any(|(_, f)| *f == Some("email")) {
        return Err(format!(
            "no column holds the email: name one `email` or map it (--map \"{}=email\")",
            headers.get(0).unwrap_or("HEADER")
        ));
    }
    for f in FIELDS {
        if columns.iter().filter(|(_, c)| *c == Some(f)).count() > 1 {
            return Err(format!(
                "two columns hold {f}; map one of them to another field"
            ));
        }
    }
    let mut out = Parsed {
        columns: columns.clone(),
        ..Parsed::default()
    };
    let mut seen: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                out.errors.push(LineError {
                    line,
                    field: String::new(),
                    message: format!("cannot be read: {e}"),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, csv::Position::line);
        if record.iter().all(str::is_empty) {
            continue;
        }
        let value = |field: &str| {
            columns
                .iter()
                .position(|(_, f)| *f == Some(field))
                .and_then(|i| record.get(i))
                .map(crate::export::read_cell)
                .unwrap_or_default()
                .to_string()
        };
        let fields = ParticipantFields {
            email: value("email"),
            first_name: value("first_name"),
            last_name: value("last_name"),
            referred_by: value("referred_by"),
            ip_address: String::new(),
            company: value("company"),
        };
        let mut errors: Vec<FieldError> = Vec::new();
        let draft = fields
            .parse()
            .map_err(|v| errors.extend(v.errors().iter().cloned()))
            .ok();
        let signed_up_at = parse_time(&value("signed_up_at"))
            .map_err(|m| {
                errors.push(FieldError {
                    field: "signed_up_at".into(),
                    message: m,
                })
            })
            .ok()
            .flatten();
        let code = match parse_code(&value("code")) {
            Ok(Some(c)) if !(3..=10).contains(&c.len()) => {
                errors.push(FieldError {
                    field: "code".into(),
                    message: "must be 3 to 10 letters or digits".into(),
                });
                None
            }
            Ok(c) => c,
            Err(m) => {
                errors.push(FieldError {
                    field: "code".into(),
                    message: m,
                });
                None
            }
        };
        if let Some(d) = &draft {
            if let Some(first) = seen.get(&d.email) {
                errors.push(FieldError {
                    field: "email".into(),
                    message: format!("appears already on line {first}"),
                });
            } else {
                seen.insert(d.email.clone(), line);
            }
        }
        match draft {
            Some(draft) if errors.is_empty() => out.rows.push(ImportRow {
                line,
                draft,
                signed_up_at,
                code,
            }),
            _ => out.errors.extend(errors.into_iter().map(|e| LineError {
                line,
                field: e.field,
                message: e.message,
            })),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_saved_with_windows_line_endings_name_the_right_lines() {
        for ending in ["\r\n", "\n"] {
            let csv = [
                "email,first_name",
                "ann@example.com,Ann",
                "not-an-email,Bo",
                "",
            ]
            .join(ending);
            let parsed = parse(&csv, &HashMap::new()).expect("parsed");
            assert_eq!(
                parsed.rows.iter().map(|r| r.line).collect::<Vec<_>>(),
                [2],
                "{ending:?}"
            );
            assert_eq!(parsed.errors[0].line, 3, "{ending:?}");
            let errors = each_csv_line(&csv.replace("email", "name"), "name", |l, errors| {
                errors.push(LineError::new(l.line, "x", "seen"));
            })
            .expect("read");
            assert_eq!(
                errors.iter().map(|e| e.line).collect::<Vec<_>>(),
                [2, 3],
                "{ending:?}"
            );
        }
    }

    #[test]
    fn recognised_headers_and_line_numbers() {
        let csv = "E-mail Address,First Name,Signup Date,Referred By\n\
                   ann@example.com,Ann,2024-05-15,\n\
                   not-an-email,Bo,2024-05-16,\n\
                   cy@example.com,Cy,15/05/2024,ANN1234\n\
                   ,,,\n\
                   ANN@example.com,Ann again,,\n\
                   dee@example.com,Dee,2024-05-17T10:30:00+02:00,ann1234\n";
        let p = parse(csv, &HashMap::new()).expect("parsed");
        let lines: Vec<u64> = p.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![2, 7]);
        assert_eq!(
            p.rows[0].signed_up_at.map(|t| t.to_string()).as_deref(),
            Some("2024-05-15T00:00:00.000Z")
        );
        assert_eq!(
            p.rows[1].signed_up_at.map(|t| t.to_string()).as_deref(),
            Some("2024-05-17T08:30:00.000Z")
        );
        assert_eq!(p.rows[1].draft.referred_by.as_deref(), Some("ANN1234"));
        let errors: Vec<(u64, &str)> = p
            .errors
            .iter()
            .map(|e| (e.line, e.field.as_str()))
            .collect();
        assert_eq!(
            errors,
            vec![(3, "email"), (4, "signed_up_at"), (6, "email")]
        );
        assert!(p.errors[2].message.contains("line 2"));
    }

    #[test]
    fn mappings_name_the_email_column() {
        let csv = "Contact,Who\nann@example.com,Ann\n";
        assert!(parse(csv, &HashMap::new()).is_err());
        let map = parse_mapping(&["Contact=email".into(), "Who=first_name".into()]).expect("map");
        let p = parse(csv, &map).expect("parsed");
        assert_eq!(p.rows[0].draft.first_name.as_deref(), Some("Ann"));
        assert!(parse_mapping(&["Contact".into()]).is_err());
        assert!(parse_mapping(&["Contact=phone".into()]).is_err());
    }
}
