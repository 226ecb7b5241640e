//! Instant signup links: a signed link that enrols a known person with one click, without the
//! form. The operator's system asks for one (and Vouch may email it); the person's name, email
//! and referrer travel inside the signed token, so nothing is stored until they join.

use crate::{AppError, AppResult, Ctx, commit};
use serde::{Deserialize, Serialize};
use vouch_domain::Timestamp;
use vouch_domain::email_template::Kind;
use vouch_domain::participant::ParticipantFields;
use vouch_domain::program::ProgramStatus;
use vouch_store::emails::{self, QueueOptions};
use vouch_store::participants;
use vouch_store::programs::Program;

const PURPOSE: &str = "instant-signup";
/// The longest an instant link may live.
pub const MAX_DAYS: i64 = 90;

/// What an instant link carries.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// Program id.
    pub p: String,
    pub e: String,
    #[serde(default)]
    pub f: Option<String>,
    #[serde(default)]
    pub l: Option<String>,
    /// Referrer's code.
    #[serde(default)]
    pub r: Option<String>,
    /// Company.
    #[serde(default)]
    pub c: Option<String>,
    /// Expiry, unix seconds.
    pub x: i64,
}

/// An instant signup link: share `url`; it works until `expires_at`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InstantLink {
    pub url: String,
    pub expires_at: vouch_domain::Timestamp,
    /// The invitation email, when Vouch sent one (`suppressed` if the address unsubscribed).
    pub email_id: Option<String>,
}

/// Mints (and optionally emails) an instant signup link for a known person.
pub async fn create(
    ctx: &Ctx,
    program: &Program,
    fields: &ParticipantFields,
    ttl_days: i64,
    send_email: bool,
) -> AppResult<InstantLink> {
    if program.status == ProgramStatus::Ended {
        return Err(AppError::conflict(
            "program_ended",
            "the program has ended; nobody can join it",
        ));
    }
    if !(1..=MAX_DAYS).contains(&ttl_days) {
        return Err(AppError::field("ttl_days", "must be between 1 and 90 days"));
    }
    let draft = fields.parse()?;
    let mut tx = ctx.store.begin().await?;
    if let Some(code) = &draft.referred_by
        && participants::by_code(&mut tx, code)
            .await?
            .is_none_or(|p| p.program_id != program.id)
    {
        return Err(AppError::field(
            "referred_by",
            "no participant of this program has this referral code",
        ));
    }
    let expires = ctx
        .clock
        .from_now(time::Duration::days(ttl_days))
        .datetime();
    let claims = Claims {
        p: program.id.clone(),
        e: draft.email.clone(),
        f: draft.first_name.clone(),
        l: draft.last_name.clone(),
        r: draft.referred_by.clone(),
        c: draft.company.clone(),
        x: expires.unix_timestamp(),
    };
    let payload = serde_json::to_string(&claims).map_err(|e| AppError::internal(e.to_string()))?;
    let token = crate::signed::sign(&ctx.secrets.embed, PURPOSE, &payload);
    let url = format!(
        "{}/p/{}/instant?token={token}",
        ctx.settings.base_url, program.slug
    );
    let email_id = if send_email {
        let unsubscribe = crate::unsubscribe::url(ctx, &draft.email);
        let vars = serde_json::json!({
            "first_name": draft.first_name, "email": draft.email,
            "program": { "id": program.id, "name": program.name, "slug": program.slug },
            "join_url": url, "unsubscribe_url": unsubscribe,
        });
        let message = emails::queue(
            &mut tx,
            Kind::InstantSignup,
            &draft.email,
            &vars,
            QueueOptions {
                program_id: Some(&program.id),
                unsubscribe_url: Some(&unsubscribe),
                about: None,
                brand: Some(crate::participants::brand(program)),
            },
        )
        .await?;
        Some(message.id)
    } else {
        None
    };
    commit(tx).await?;
    Ok(InstantLink {
        url,
        expires_at: Timestamp::from_datetime(expires),
        email_id,
    })
}

/// The claims of a live link for this program; `None` when the token is forged, expired or for
/// another program.
pub fn read(ctx: &Ctx, program: &Program, token: &str) -> Option<Claims> {
    let payload = crate::signed::verify(&ctx.secrets.embed, PURPOSE, token)?;
    let claims: Claims = serde_json::from_str(&payload).ok()?;
    let live = claims.x > ctx.clock.now().datetime().unix_timestamp();
    (live && claims.p == program.id).then_some(claims)
}
