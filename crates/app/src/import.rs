//! Participant imports: a parsed CSV file (see `vouch_domain::import`) enrolled row by row,
//! each in its own transaction, so a failing row never undoes the others and re-running the
//! same file enrols only what is missing. A dry run checks everything and saves nothing.

use super::participants::{ImportFacts, SignupContext, enrol};
use crate::Ctx;
use crate::{AppError, AppResult};
use serde::Serialize;
use std::collections::HashSet;
use vouch_domain::import::{ImportRow, LineError, Parsed};
use vouch_store::audit::Origin;
use vouch_store::participants;
use vouch_store::programs::Program;

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub dry_run: bool,
    /// Header → field it was read as (`null`: ignored).
    pub columns: Vec<(String, Option<String>)>,
    /// Rows enrolled (or, in a dry run, that would be).
    pub enrolled: u64,
    /// Of those, rows that also recorded who referred them.
    pub referrals: u64,
    /// Rows whose email is already in the program: nothing to do.
    pub already_enrolled: u64,
    pub errors: Vec<LineError>,
}

fn line_error(row: &ImportRow, field: &str, message: impl Into<String>) -> LineError {
    LineError {
        line: row.line,
        field: field.into(),
        message: message.into(),
    }
}

/// Imports `parsed` into `program`. `progress` is called after each row with the rows done.
pub async fn import_participants(
    ctx: &Ctx,
    origin: &Origin,
    program: &Program,
    parsed: Parsed,
    dry_run: bool,
    progress: impl Fn(u64),
) -> AppResult<ImportReport> {
    let mut report = ImportReport {
        dry_run,
        columns: parsed
            .columns
            .iter()
            .map(|(h, f)| (h.clone(), f.map(str::to_string)))
            .collect(),
        errors: parsed.errors,
        ..ImportReport::default()
    };
    // Codes that exist once the rows done so far are in (a dry run keeps them here only).
    let mut new_codes: HashSet<String> = HashSet::new();
    let mut pending: Vec<ImportRow> = parsed.rows;
    let mut done: u64 = 0;
    // A row whose referrer comes later in the file waits for a later pass.
    loop {
        let mut waiting = Vec::new();
        let before = pending.len();
        for row in pending {
            let mut conn = ctx.store.conn().await?;
            if participants::by_email(&mut conn, &program.id, &row.draft.email)
                .await?
                .is_some()
            {
                report.already_enrolled += 1;
                done += 1;
                progress(done);
                continue;
            }
            if let Some(code) = &row.draft.referred_by {
                let in_program = participants::by_code(&mut conn, code)
                    .await?
                    .is_some_and(|p| p.program_id == program.id);
                if !in_program && !new_codes.contains(code) {
                    waiting.push(row);
                    continue;
                }
            }
            if let Some(code) = &row.code
                && (participants::code_taken(&mut conn, code).await? || new_codes.contains(code))
            {
                report.errors.push(line_error(
                    &row,
                    "code",
                    "is already taken by another participant",
                ));
                done += 1;
                progress(done);
                continue;
            }
            drop(conn);
            if dry_run {
                if let Some(code) = &row.code {
                    new_codes.insert(code.clone());
                }
                report.enrolled += 1;
                report.referrals += u64::from(row.draft.referred_by.is_some());
            } else {
                let context = SignupContext {
                    signed_up_at: row.signed_up_at,
                    import: Some(ImportFacts {
                        code: row.code.clone(),
                    }),
                    ..SignupContext::default()
                };
                match enrol(ctx, origin, program, &row.draft, &context).await {
                    Ok((p, referral)) => {
                        new_codes.insert(p.code);
                        report.enrolled += 1;
                        report.referrals += u64::from(referral.is_some());
                    }
                    Err(e) if e.is_client_error() => {
                        for f in e.field_errors() {
                            report
                                .errors
                                .push(line_error(&row, &f.field, f.message.clone()));
                        }
                        if e.field_errors().is_empty() {
                            report.errors.push(line_error(&row, "", e.detail()));
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
            done += 1;
            progress(done);
        }
        if waiting.is_empty() || waiting.len() == before {
            for row in &waiting {
                report.errors.push(line_error(
                    row,
                    "referred_by",
                    "no participant of this program has this referral code",
                ));
            }
            break;
        }
        pending = waiting;
    }
    report.errors.sort_by_key(|e| e.line);
    Ok(report)
}

/// Parses a file with an optional mapping, as the CLI, API and console receive it.
pub fn parse_file(text: &str, mapping: &[String]) -> AppResult<Parsed> {
    let mapping =
        vouch_domain::import::parse_mapping(mapping).map_err(|m| AppError::field("mapping", m))?;
    vouch_domain::import::parse(text, &mapping).map_err(|m| AppError::field("file", m))
}
