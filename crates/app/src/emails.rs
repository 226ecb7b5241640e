//! Email templates: an operator's own version of a kind, for the installation or one program,
//! checked by rendering it against the kind's sample variables before it is saved.

use crate::{AppError, AppResult, Ctx, commit, record};
use vouch_domain::email_template::{self, Kind, Template};
use vouch_store::audit::Origin;
use vouch_store::emails::{self, EmailMessage, Scope, TemplateSource};

/// Newest first, `limit + 1` rows at most: the extra row tells the caller another page follows.
pub async fn list_emails(
    ctx: &Ctx,
    starting_after: Option<&str>,
    limit: i64,
) -> AppResult<Vec<EmailMessage>> {
    let mut conn = ctx.store.conn().await?;
    Ok(emails::list(&mut conn, starting_after, limit).await?)
}

pub async fn get_email(ctx: &Ctx, id: &str) -> AppResult<EmailMessage> {
    let mut conn = ctx.store.conn().await?;
    emails::get(&mut conn, id)
        .await?
        .ok_or_else(|| AppError::not_found("email"))
}

/// The template that applies to `kind` in a scope.
pub struct TemplateInForce {
    pub template: Template,
    /// Where it comes from: the program's version, the installation's, or the shipped default.
    pub source: TemplateSource,
    /// Whether the scope has its own version, which resetting would remove.
    pub customised: bool,
}

pub async fn template_in_force(
    ctx: &Ctx,
    scope: Scope<'_>,
    kind: Kind,
) -> AppResult<TemplateInForce> {
    let mut conn = ctx.store.conn().await?;
    let customised = emails::template_override(&mut conn, scope, kind)
        .await?
        .is_some();
    let (template, source) = emails::template(&mut conn, scope, kind).await?;
    Ok(TemplateInForce {
        template,
        source,
        customised,
    })
}

/// Saves `t` as this scope's version of `kind`; a template that does not render is refused
/// with the part (`subject`, `text` or `html`) at fault.
pub async fn save_template(
    ctx: &Ctx,
    origin: &Origin,
    scope: Scope<'_>,
    kind: Kind,
    t: &Template,
) -> AppResult<()> {
    email_template::check(kind, t).map_err(|e| AppError::field(e.part, e.to_string()))?;
    let mut tx = ctx.store.begin().await?;
    emails::save_template(&mut tx, &origin.actor.label, scope, kind, t).await?;
    record::entry(
        &mut tx,
        origin,
        "email_template.saved",
        "email_template",
        &scope.entity_id(kind),
        None,
        serde_json::to_value(t).ok(),
    );
    commit(tx).await
}

/// Removes this scope's version of `kind`: the next one down applies again.
pub async fn reset_template(
    ctx: &Ctx,
    origin: &Origin,
    scope: Scope<'_>,
    kind: Kind,
) -> AppResult<()> {
    let mut tx = ctx.store.begin().await?;
    emails::reset_template(&mut tx, scope, kind).await?;
    record::entry(
        &mut tx,
        origin,
        "email_template.reset",
        "email_template",
        &scope.entity_id(kind),
        None,
        None,
    );
    commit(tx).await
}
