//! Rules for files Vouch writes for people to open (CSV exports), and the one writer every
//! export goes through so no cell escapes them.

use std::borrow::Cow;

const RISKY_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell a spreadsheet will not run as a formula (OWASP's rule for CSV injection): text
/// starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading apostrophe.
/// Plain numbers (`-5.00`, `+3`) are left alone, so amounts stay numbers. Text that already
/// starts with apostrophes before such a character gets one more, so that [`read_cell`] gives
/// back exactly what was written (found by the `csv_import` fuzz target: `'@q`).
pub fn inert_cell(text: &str) -> Cow<'_, str> {
    if risky(text) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// The text [`inert_cell`] was given, so a file Vouch exported imports back as it was.
pub fn read_cell(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if risky(rest) => rest,
        _ => cell,
    }
}

/// Whether the text, past any apostrophes it starts with, starts like a formula.
fn risky(text: &str) -> bool {
    let rest = text.trim_start_matches('\'');
    rest.starts_with(RISKY_START) && !signed_number(rest)
}

/// `-5.00`, `+3`: a sign, then digits with at most a decimal point.
fn signed_number(text: &str) -> bool {
    // Both signs are one byte, so the digits start at byte 1.
    let rest = text.get(1..).unwrap_or_default();
    text.starts_with(['+', '-'])
        && rest.chars().all(|c| c.is_ascii_digit() || c == '.')
        && rest.chars().any(|c| c.is_ascii_digit())
}

/// A CSV file being written: a header line, then rows, every cell through [`inert_cell`].
pub struct CsvOut {
    writer: csv::Writer<Vec<u8>>,
}

impl CsvOut {
    /// A file whose first line is `header`.
    pub fn new<I, S>(header: I) -> Result<Self, csv::Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut out = Self {
            writer: csv::Writer::from_writer(Vec::new()),
        };
        out.row(header)?;
        Ok(out)
    }

    pub fn row<I, S>(&mut self, cells: I) -> Result<(), csv::Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.writer.write_record(
            cells
                .into_iter()
                .map(|c| inert_cell(c.as_ref()).into_owned()),
        )
    }

    /// The file's bytes (UTF-8).
    pub fn finish(self) -> Result<Vec<u8>, csv::Error> {
        self.writer
            .into_inner()
            .map_err(|e| csv::Error::from(e.into_error()))
    }
}

#[cfg(test)]
mod tests {
    use super::{CsvOut, inert_cell, read_cell};

    #[test]
    fn formulas_get_an_apostrophe_and_numbers_do_not() {
        for risky in ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\r=x", "-", "+"] {
            assert_eq!(inert_cell(risky), format!("'{risky}"), "{risky:?}");
            assert_eq!(read_cell(&inert_cell(risky)), risky, "{risky:?}");
        }
        // Apostrophes of the person's own before a risky character: one more, read back.
        for quoted in ["'@q", "''=1", "'-x"] {
            assert_eq!(inert_cell(quoted), format!("'{quoted}"), "{quoted:?}");
            assert_eq!(read_cell(&inert_cell(quoted)), quoted, "{quoted:?}");
        }
        for safe in [
            "-5.00", "+3", "Erin", "", "5-3", "a=b", "Émile", "日本", "'quoted", "'-5", "''",
        ] {
            assert_eq!(inert_cell(safe), safe, "{safe:?}");
            assert_eq!(read_cell(safe), safe, "{safe:?}");
        }
    }

    #[test]
    fn every_cell_of_a_written_file_is_inert() -> Result<(), csv::Error> {
        let mut out = CsvOut::new(["name", "amount"])?;
        out.row(["=HYPERLINK(\"http://x\")", "-5.00"])?;
        let text = String::from_utf8(out.finish()?).unwrap_or_default();
        assert_eq!(
            text,
            "name,amount\n\"'=HYPERLINK(\"\"http://x\"\")\",-5.00\n"
        );
        Ok(())
    }
}
