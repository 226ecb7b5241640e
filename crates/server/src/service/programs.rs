//! Referral programs: shared by the API and the console.

use super::{commit, conflict_on};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use vouch_domain::program::{ProgramFields, ProgramStatus};
use vouch_store::audit::Origin;
use vouch_store::programs::{self, Program};

pub async fn get(state: &AppState, id: &str) -> ApiResult<Program> {
    let mut conn = state.store.conn().await?;
    programs::get(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("program"))
}

pub async fn create(
    state: &AppState,
    origin: &Origin,
    fields: &ProgramFields,
) -> ApiResult<Program> {
    let draft = fields.parse()?;
    let mut tx = state.store.begin().await?;
    let p = programs::create(&mut tx, origin, &draft).await?;
    commit(tx).await?;
    Ok(p)
}

pub async fn update(
    state: &AppState,
    origin: &Origin,
    id: &str,
    fields: &ProgramFields,
) -> ApiResult<Program> {
    let draft = fields.parse()?;
    let mut tx = state.store.begin().await?;
    let before = programs::get(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("program"))?;
    let after = programs::update(&mut tx, origin, &before, &draft)
        .await
        .map_err(conflict_on("status"))?;
    commit(tx).await?;
    // Referral links of this program may lead somewhere else now.
    state.links.clear();
    Ok(after)
}

pub async fn set_status(
    state: &AppState,
    origin: &Origin,
    id: &str,
    to: ProgramStatus,
    may_publish: bool,
) -> ApiResult<Program> {
    let mut tx = state.store.begin().await?;
    let before = programs::get(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("program"))?;
    let after = programs::set_status(&mut tx, origin, &before, to, may_publish)
        .await
        .map_err(conflict_on("status"))?;
    commit(tx).await?;
    // Referral links of this program may lead somewhere else now.
    state.links.clear();
    Ok(after)
}
