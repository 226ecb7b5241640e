//! Referral programs: shared by the API and the console.

use crate::Ctx;
use crate::commit;
use crate::record;
use crate::{AppError, AppResult};
use vouch_domain::program::{ProgramFields, ProgramStatus};
use vouch_store::audit::Origin;
use vouch_store::programs::{self, Program};

pub async fn get(ctx: &Ctx, id: &str) -> AppResult<Program> {
    let mut conn = ctx.store.conn().await?;
    programs::get(&mut conn, id)
        .await?
        .ok_or_else(|| AppError::not_found("program"))
}

/// Newest first, `limit + 1` rows at most: the extra row tells the caller another page follows.
pub async fn list(
    ctx: &Ctx,
    status: Option<ProgramStatus>,
    starting_after: Option<&str>,
    limit: i64,
) -> AppResult<Vec<Program>> {
    let mut conn = ctx.store.conn().await?;
    Ok(programs::list(&mut conn, status, starting_after, limit).await?)
}

/// The program behind a public address; `None` rather than an error, because each public
/// page explains a missing program in its own words.
pub async fn by_slug(ctx: &Ctx, slug: &str) -> AppResult<Option<Program>> {
    let mut conn = ctx.store.conn().await?;
    Ok(programs::by_slug(&mut conn, slug).await?)
}

pub async fn create(ctx: &Ctx, origin: &Origin, fields: &ProgramFields) -> AppResult<Program> {
    let draft = fields.parse()?;
    let mut tx = ctx.store.begin().await?;
    let p = programs::create(&mut tx, &draft).await?;
    record::change(
        &mut tx,
        origin,
        "program.created",
        None,
        &p,
        &["program.created"],
    );
    commit(tx).await?;
    Ok(p)
}

pub async fn update(
    ctx: &Ctx,
    origin: &Origin,
    id: &str,
    fields: &ProgramFields,
) -> AppResult<Program> {
    let draft = fields.parse()?;
    let mut tx = ctx.store.begin().await?;
    let before = programs::get(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("program"))?;
    let after = programs::update(&mut tx, &before, &draft).await?;
    record::change(
        &mut tx,
        origin,
        "program.updated",
        Some(&before),
        &after,
        &["program.updated"],
    );
    commit(tx).await?;
    // Referral links of this program may lead somewhere else now.
    ctx.links.clear();
    Ok(after)
}

pub async fn set_status(
    ctx: &Ctx,
    origin: &Origin,
    id: &str,
    to: ProgramStatus,
    may_publish: bool,
) -> AppResult<Program> {
    let mut tx = ctx.store.begin().await?;
    let before = programs::get(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("program"))?;
    let after = programs::set_status(&mut tx, &before, to, may_publish).await?;
    let action = match to {
        ProgramStatus::Live => "program.went_live",
        ProgramStatus::Paused => "program.paused",
        ProgramStatus::Ended => "program.ended",
        ProgramStatus::Draft => "program.drafted",
    };
    record::change(
        &mut tx,
        origin,
        action,
        Some(&before),
        &after,
        &["program.status_changed"],
    );
    commit(tx).await?;
    // Referral links of this program may lead somewhere else now.
    ctx.links.clear();
    Ok(after)
}
