//! Participant imports: a parsed CSV file (see `vouch_domain::import`) enrolled a batch of rows
//! to a transaction. A batch is decided together from a few lookups and written with multi-row
//! statements ([`together`]); re-running the same file enrols only what is missing, and a dry run
//! decides everything and saves nothing.
//!
//! Two cases go row by row instead, each row in its own savepoint so that a refused row is undone
//! alone: programs tied to a super customer (each row registers an account, with its own rules),
//! and a batch whose multi-row write meets an email or code that another writer took after the
//! batch looked. The rules are the same on both paths. A dry run decides every row the batched
//! way; the account a super customer's program registers for a row is checked only when the
//! row is written.

mod together;

use super::participants::{ImportFacts, SignupContext, enrol_in};
use crate::Ctx;
use crate::{AppError, AppResult};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use together::{Enrolled, Outcome};
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
    /// Batches written row by row after their batched write met a row another writer took
    /// (not in the API: the outcome is the same either way).
    #[serde(skip)]
    pub batches_row_by_row: u64,
}

fn line_error(row: &ImportRow, field: &str, message: impl Into<String>) -> LineError {
    LineError {
        line: row.line,
        field: field.into(),
        message: message.into(),
    }
}

/// Rows per transaction: one commit (one flush to disk) per this many rows.
pub const ROWS_PER_TRANSACTION: usize = 2_000;

/// Rows per transaction when they go row by row: each takes about twenty statements, and on
/// SQLite the transaction holds the installation's one write turn.
const ROWS_PER_TRANSACTION_ONE_BY_ONE: usize = 500;

/// What the checks before enrolment say of a row.
pub(crate) enum Verdict {
    AlreadyEnrolled,
    /// Its referrer is not in the program (yet): a later pass may find them.
    Waiting,
    CodeTaken,
    Enrol,
}

/// Participants this import enrolled, by email, email key and (for rows that bring their own)
/// code. A dry run writes nothing, so later rows learn of earlier ones only from here; a real
/// import finds earlier batches in the database and keeps only the current batch's.
#[derive(Default)]
pub(crate) struct Seen {
    codes: HashMap<String, Enrolled>,
    emails: HashSet<String>,
    email_keys: HashSet<String>,
}

impl Seen {
    fn absorb(&mut self, other: Seen) {
        self.codes.extend(other.codes);
        self.emails.extend(other.emails);
        self.email_keys.extend(other.email_keys);
    }
}

/// Row by row: the checks before enrolling one row, against the database (which holds the rows
/// of this transaction so far).
async fn verdict(
    conn: &mut vouch_store::Conn,
    program: &Program,
    row: &ImportRow,
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
        if !in_program {
            return Ok(Verdict::Waiting);
        }
    }
    if let Some(code) = &row.code
        && participants::code_taken(conn, code).await?
    {
        return Ok(Verdict::CodeTaken);
    }
    Ok(Verdict::Enrol)
}

/// Imports `parsed` into `program`. `progress` is called as rows are done with the count so
/// far. Rows are written [`ROWS_PER_TRANSACTION`] to a transaction: a row refused by the rules
/// is reported with its line and the others of its batch still commit. A fault of the database
/// stops the import with the batches before it saved (running the file again enrols the rest).
pub async fn import_participants(
    ctx: &Ctx,
    origin: &Origin,
    program: &Program,
    parsed: Parsed,
    dry_run: bool,
    progress: impl Fn(u64),
) -> AppResult<ImportReport> {
    let how = if dry_run {
        How::DecideOnly
    } else if program.super_customer_id.is_some() {
        How::RowByRow
    } else {
        How::Together
    };
    import(ctx, origin, program, parsed, how, progress).await
}

/// Imports every row through the one-signup path, row by row: what the batched import is
/// checked against. For tests; [`import_participants`] is the import.
#[doc(hidden)]
pub async fn import_row_by_row(
    ctx: &Ctx,
    origin: &Origin,
    program: &Program,
    parsed: Parsed,
) -> AppResult<ImportReport> {
    import(ctx, origin, program, parsed, How::RowByRow, |_| {}).await
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum How {
    DecideOnly,
    Together,
    RowByRow,
}

async fn import(
    ctx: &Ctx,
    origin: &Origin,
    program: &Program,
    parsed: Parsed,
    how: How,
    progress: impl Fn(u64),
) -> AppResult<ImportReport> {
    let mut report = ImportReport {
        dry_run: how == How::DecideOnly,
        columns: parsed
            .columns
            .iter()
            .map(|(h, f)| (h.clone(), f.map(str::to_string)))
            .collect(),
        errors: parsed.errors,
        ..ImportReport::default()
    };
    let mut seen = Seen::default();
    let mut pending: Vec<ImportRow> = parsed.rows;
    let mut done: u64 = 0;
    // The table's statistics are refreshed each time the rows enrolled double.
    let mut refresh_at = ROWS_PER_TRANSACTION as u64;
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
                waiting: &mut waiting,
            };
            let rows_done = match how {
                How::DecideOnly => run.decide_only(batch, &mut seen).await?,
                How::Together => run.together(batch).await?,
                How::RowByRow => run.one_by_one(batch).await?,
            };
            done += rows_done;
            if how != How::DecideOnly && report.enrolled >= refresh_at {
                let mut conn = ctx.store.conn().await?;
                participants::refresh_statistics(&mut conn).await?;
                refresh_at = report.enrolled.saturating_mul(2);
            }
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
    waiting: &'a mut Vec<ImportRow>,
}

impl Batch<'_> {
    /// Counts a row the checks settle without enrolling; false when it waits for a later pass.
    fn settle(&mut self, row: ImportRow, verdict: Verdict) -> bool {
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

    /// Reports a row the rules refused, on its line and fields.
    fn refuse(&mut self, row: &ImportRow, e: &AppError) {
        let errors = e.field_errors();
        if errors.is_empty() {
            self.report.errors.push(line_error(row, "", e.detail()));
        }
        for f in errors {
            self.report
                .errors
                .push(line_error(row, &f.field, f.message.clone()));
        }
    }

    /// Counts a decided batch into the report. Answers the rows done.
    fn count(&mut self, rows: Vec<(ImportRow, Outcome)>) -> u64 {
        let mut done = 0;
        for (row, outcome) in rows {
            done += match outcome {
                Outcome::Settled(verdict) => u64::from(self.settle(row, verdict)),
                Outcome::Refused(e) => {
                    self.refuse(&row, &e);
                    1
                }
                Outcome::Enrol(e) => {
                    self.report.enrolled += 1;
                    self.report.referrals += u64::from(e.referrer_id.is_some());
                    1
                }
            };
        }
        done
    }

    /// A dry run: the batch decided as [`Self::together`] decides it, nothing saved.
    async fn decide_only(&mut self, batch: Vec<ImportRow>, seen: &mut Seen) -> AppResult<u64> {
        let mut conn = self.ctx.store.conn().await?;
        let plan = together::plan(self.ctx, &mut conn, self.program, batch, seen).await?;
        drop(conn);
        seen.absorb(plan.added);
        let rows_done = self.count(plan.rows);
        Ok(rows_done)
    }

    /// The batch decided together and written with multi-row statements in one transaction.
    /// When the write meets a row another writer took meanwhile, the transaction is dropped and
    /// the batch enrolled row by row.
    async fn together(&mut self, batch: Vec<ImportRow>) -> AppResult<u64> {
        let mut tx = self.ctx.store.begin().await?;
        let plan = together::plan(self.ctx, &mut tx, self.program, batch, &Seen::default()).await?;
        match together::write(&mut tx, self.origin, self.program, &plan).await {
            Ok(codes) => {
                crate::commit(tx).await?;
                self.forget(&codes);
                Ok(self.count(plan.rows))
            }
            Err(e) if e.is_client_error() => {
                tx.rollback().await.map_err(vouch_store::StoreError::from)?;
                tracing::info!(
                    error = %e.detail(),
                    "an import batch met a concurrent write; enrolling it row by row"
                );
                self.report.batches_row_by_row += 1;
                let rows = plan.rows.into_iter().map(|(row, _)| row).collect();
                self.one_by_one(rows).await
            }
            Err(e) => Err(e),
        }
    }

    /// Visits before the import may have cached these codes as unknown.
    fn forget(&self, codes: &[String]) {
        for code in codes {
            self.ctx.links.forget(code);
        }
    }

    /// Enrols the batch row by row, [`ROWS_PER_TRANSACTION_ONE_BY_ONE`] to a transaction. Answers
    /// the rows done.
    async fn one_by_one(&mut self, batch: Vec<ImportRow>) -> AppResult<u64> {
        let mut done = 0;
        let mut rows = batch.into_iter().peekable();
        while rows.peek().is_some() {
            let part = rows
                .by_ref()
                .take(ROWS_PER_TRANSACTION_ONE_BY_ONE)
                .collect();
            done += self.one_by_one_in_a_transaction(part).await?;
        }
        Ok(done)
    }

    /// Enrols the rows in one transaction, each in its own savepoint. Answers the rows done.
    async fn one_by_one_in_a_transaction(&mut self, batch: Vec<ImportRow>) -> AppResult<u64> {
        let mut tx = self.ctx.store.begin().await?;
        let mut done = 0;
        let mut codes = Vec::new();
        for row in batch {
            let verdict = verdict(&mut tx, self.program, &row).await?;
            if !matches!(verdict, Verdict::Enrol) {
                done += u64::from(self.settle(row, verdict));
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
                    codes.push(p.code);
                    self.report.enrolled += 1;
                    self.report.referrals += u64::from(referral.is_some());
                }
                Err(e) if e.is_client_error() => {
                    tx.rollback_to().await?;
                    self.refuse(&row, &e);
                }
                Err(e) => return Err(e),
            }
            done += 1;
        }
        crate::commit(tx).await?;
        self.forget(&codes);
        Ok(done)
    }
}

/// Parses a file with an optional mapping, as the CLI, API and console receive it.
pub fn parse_file(text: &str, mapping: &[String]) -> AppResult<Parsed> {
    let mapping =
        vouch_domain::import::parse_mapping(mapping).map_err(|m| AppError::field("mapping", m))?;
    vouch_domain::import::parse(text, &mapping).map_err(|m| AppError::field("file", m))
}
