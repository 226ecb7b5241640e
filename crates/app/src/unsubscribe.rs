//! Unsubscribe links: a token signed under the installation's secret names the address, so the
//! link needs no table and cannot be forged or moved to another address. Unsubscribing adds the
//! address to the suppression list (marketing mail to it is then recorded, never sent), audited
//! and announced as `email.unsubscribed`; a repeat changes nothing.

use crate::{AppResult, Ctx, commit};
use vouch_store::audit::{self, Origin};
use vouch_store::emails;

const PURPOSE: &str = "unsubscribe";

/// The token for an address.
pub fn token(secret: &[u8], email: &str) -> String {
    crate::signed::sign(secret, PURPOSE, &email.trim().to_lowercase())
}

/// The address a token was made for, if it is genuine.
pub fn verify(ctx: &Ctx, token: &str) -> Option<String> {
    crate::signed::verify(&ctx.secrets.unsubscribe, PURPOSE, token)
}

/// The link that unsubscribes `email`.
pub fn url(ctx: &Ctx, email: &str) -> String {
    format!(
        "{}/unsubscribe?token={}",
        ctx.settings.base_url,
        token(&ctx.secrets.unsubscribe, email)
    )
}

pub async fn is_unsubscribed(ctx: &Ctx, email: &str) -> AppResult<bool> {
    let mut conn = ctx.store.conn().await?;
    Ok(emails::is_suppressed(&mut conn, email).await?)
}

/// Suppresses marketing mail to `email`; true when this call did it (false: it already was).
pub async fn unsubscribe(ctx: &Ctx, origin: &Origin, email: &str) -> AppResult<bool> {
    let mut tx = ctx.store.begin().await?;
    let new = emails::suppress(&mut tx, email, "unsubscribed").await?;
    if new {
        let data = serde_json::to_value(crate::resources::Unsubscribed {
            email: email.to_lowercase(),
            reason: "unsubscribed".into(),
        })
        .unwrap_or_default();
        audit::record(
            &mut tx,
            origin,
            "email.unsubscribed",
            "email_suppression",
            None,
            None,
            Some(&data),
        )
        .await?;
        crate::record::announce(&mut tx, "email.unsubscribed", &data);
    }
    commit(tx).await?;
    Ok(new)
}
