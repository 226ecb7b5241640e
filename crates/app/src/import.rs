//! Participant imports: a parsed CSV file (see `vouch_domain::import`) enrolled row by row,
//! many rows to a transaction but each in its own savepoint, so a failing row never undoes
//! the others and re-running the same file enrols only what is missing. A dry run checks
//! everything and saves nothing.

use super::participants::{ImportFacts, SignupContext, enrol_in};
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

/// Rows per transaction: one commit (one flush to disk) per this many rows.
pub const ROWS_PER_TRANSACTION: usize = 500;

/// What the checks before enrolment say of a row.
enum Verdict {
    AlreadyEnrolled,
    /// Its referrer is not in the program (yet): a later pass may find them.
    Waiting,
    CodeTaken,
    Enrol,
}

async fn verdict(
    conn: &mut vouch_store::Conn,
    program: &Program,
    row: &ImportRow,
    new_codes: &HashSet<String>,
) -> AppResult<Verdict> {
    if participants::by_email(conn, &program.id, &row.draft.email)
        .await?
        .is_some()
    {
        return Ok(Verdict::AlreadyEnrolled);
    }
    if let Some(code) = &row.draft.referred_by {
        let in_program = participants::by_code(conn, code)
            .await?
            .is_some_and(|p| p.program_id == program.id);
        if !in_program && !new_codes.contains(code) {
            return Ok(Verdict::Waiting);
        }
    }
    if let Some(code) = &row.code
        && (participants::code_taken(conn, code).await? || new_codes.contains(code))
    {
        return Ok(Verdict::CodeTaken);
    }
    Ok(Verdict::Enrol)
}

/// Imports `parsed` into `program`. `progress` is called as rows are done with the count so
/// far. Rows are written [`ROWS_PER_TRANSACTION`] to a transaction, each inside its own
/// savepoint: a row refused by the rules is undone alone and reported with its line; the
/// others of its batch still commit. A fault of the database stops the import with the batches
/// before it saved (running the file again enrols the rest).
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
        let mut rows = pending.into_iter().peekable();
        while rows.peek().is_some() {
            let batch: Vec<ImportRow> = rows.by_ref().take(ROWS_PER_TRANSACTION).collect();
            let mut run = Batch {
                ctx,
                origin,
                program,
                report: &mut report,
                new_codes: &mut new_codes,
                waiting: &mut waiting,
            };
            let rows_done = if dry_run {
                let mut conn = ctx.store.conn().await?;
                run.check_only(&mut conn, batch).await?
            } else {
                run.enrol(batch).await?
            };
            done += rows_done;
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

/// One batch of rows and where its outcomes go.
struct Batch<'a> {
    ctx: &'a Ctx,
    origin: &'a Origin,
    program: &'a Program,
    report: &'a mut ImportReport,
    new_codes: &'a mut HashSet<String>,
    waiting: &'a mut Vec<ImportRow>,
}

impl Batch<'_> {
    /// Counts a row the checks settle without enrolling; false when it waits for a later pass.
    fn settle(&mut self, row: ImportRow, verdict: &Verdict) -> bool {
        match verdict {
            Verdict::AlreadyEnrolled => self.report.already_enrolled += 1,
            Verdict::CodeTaken => self.report.errors.push(line_error(
                &row,
                "code",
                "is already taken by another participant",
            )),
            Verdict::Waiting => {
                self.waiting.push(row);
                return false;
            }
            Verdict::Enrol => {}
        }
        true
    }

    /// A dry run: the same checks, nothing saved. Answers the rows done.
    async fn check_only(
        &mut self,
        conn: &mut vouch_store::Conn,
        batch: Vec<ImportRow>,
    ) -> AppResult<u64> {
        let mut done = 0;
        for row in batch {
            let verdict = verdict(conn, self.program, &row, self.new_codes).await?;
            if let Verdict::Enrol = verdict {
                if let Some(code) = &row.code {
                    self.new_codes.insert(code.clone());
                }
                self.report.enrolled += 1;
                self.report.referrals += u64::from(row.draft.referred_by.is_some());
                done += 1;
            } else if self.settle(row, &verdict) {
                done += 1;
            }
        }
        Ok(done)
    }

    /// Enrols the batch in one transaction, each row in its own savepoint. Answers the rows
    /// done.
    async fn enrol(&mut self, batch: Vec<ImportRow>) -> AppResult<u64> {
        let mut tx = self.ctx.store.begin().await?;
        let mut done = 0;
        let mut codes = Vec::new();
        for row in batch {
            let verdict = verdict(&mut tx, self.program, &row, self.new_codes).await?;
            if !matches!(verdict, Verdict::Enrol) {
                done += u64::from(self.settle(row, &verdict));
                continue;
            }
            let context = SignupContext {
                signed_up_at: row.signed_up_at,
                import: Some(ImportFacts {
                    code: row.code.clone(),
                }),
                ..SignupContext::default()
            };
            tx.savepoint().await?;
            match enrol_in(
                self.ctx,
                &mut tx,
                self.origin,
                self.program,
                &row.draft,
                &context,
            )
            .await
            {
                Ok((p, referral)) => {
                    tx.release().await?;
                    self.new_codes.insert(p.code.clone());
                    codes.push(p.code);
                    self.report.enrolled += 1;
                    self.report.referrals += u64::from(referral.is_some());
                }
                Err(e) if e.is_client_error() => {
                    tx.rollback_to().await?;
                    let errors = e.field_errors();
                    if errors.is_empty() {
                        self.report.errors.push(line_error(&row, "", e.detail()));
                    }
                    for f in errors {
                        self.report
                            .errors
                            .push(line_error(&row, &f.field, f.message.clone()));
                    }
                }
                Err(e) => return Err(e),
            }
            done += 1;
        }
        crate::commit(tx).await?;
        // Visits before the import may have cached these codes as unknown.
        for code in &codes {
            self.ctx.links.forget(code);
        }
        Ok(done)
    }
}

/// Parses a file with an optional mapping, as the CLI, API and console receive it.
pub fn parse_file(text: &str, mapping: &[String]) -> AppResult<Parsed> {
    let mapping =
        vouch_domain::import::parse_mapping(mapping).map_err(|m| AppError::field("mapping", m))?;
    vouch_domain::import::parse(text, &mapping).map_err(|m| AppError::field("file", m))
}
