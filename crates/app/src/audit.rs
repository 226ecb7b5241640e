//! Reading the audit log that the use cases write: who did what, when, from where.

use crate::{AppResult, Ctx};
use vouch_store::audit::{self, Entry, Filter};

/// Newest first, `filter.limit + 1` rows at most: the extra row tells the caller another page
/// follows.
pub async fn list_entries(ctx: &Ctx, filter: &Filter) -> AppResult<Vec<Entry>> {
    let mut conn = ctx.store.conn().await?;
    Ok(audit::list(&mut conn, filter).await?)
}
