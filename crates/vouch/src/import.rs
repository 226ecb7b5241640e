//! `vouch import participants --program SLUG FILE.csv`: the CLI face of the participant import,
//! with a progress bar on a terminal and the validation report with line numbers.

use anyhow::{Context, bail};
use std::path::Path;
use vouch_app::Ctx;
use vouch_app::import::{import_participants, parse_file};
use vouch_store::audit::Origin;

pub async fn participants(
    ctx: &Ctx,
    slug: &str,
    file: &Path,
    mapping: &[String],
    dry_run: bool,
) -> anyhow::Result<()> {
    let program = {
        let mut conn = ctx.store.conn().await?;
        vouch_store::programs::by_slug(&mut conn, slug)
            .await?
            .with_context(|| format!("no program has the slug `{slug}`"))?
    };
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let parsed = parse_file(&text, mapping).map_err(crate::describe)?;
    for (header, field) in &parsed.columns {
        match field {
            Some(f) => eprintln!("column {header:?} → {f}"),
            None => eprintln!("column {header:?} → ignored"),
        }
    }
    let total = u64::try_from(parsed.rows.len()).unwrap_or(0);
    let bar = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        indicatif::ProgressBar::new(total)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows  {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let report = import_participants(ctx, &Origin::system(), &program, parsed, dry_run, |done| {
        bar.set_position(done)
    })
    .await
    .map_err(crate::describe)?;
    bar.finish_and_clear();
    for e in &report.errors {
        if e.field.is_empty() {
            eprintln!("line {}: {}", e.line, e.message);
        } else {
            eprintln!("line {}: {} {}", e.line, e.field, e.message);
        }
    }
    let verb = if dry_run { "would enrol" } else { "enrolled" };
    println!(
        "{verb} {} ({} with a referrer); {} already enrolled; {} line(s) with problems",
        report.enrolled,
        report.referrals,
        report.already_enrolled,
        report.errors.len()
    );
    if !report.errors.is_empty() {
        bail!(
            "some lines were not imported; fix them and run the same file again (enrolled rows are skipped)"
        );
    }
    Ok(())
}
