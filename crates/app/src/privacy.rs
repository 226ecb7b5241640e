//! A person's rights over their data: everything Vouch holds about one email address, as one
//! JSON document, and erasure of a participant or a person on request. Both are audited.
//! Erasure keeps money records (rewards, bonuses, payments) and the audit entries, tied to an
//! id that no longer names anyone; see `vouch_store::privacy`.

use crate::record::{self, change};
use crate::resources;
use crate::{AppError, AppResult, Ctx, commit};
use serde::Serialize;
use vouch_store::audit::Origin;
use vouch_store::{participants, people, privacy};

/// Everything held about one email address.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PersonalData {
    /// The address asked about, lower-cased.
    pub email: String,
    /// Participants with this address, in every program.
    pub participants: Vec<resources::Participant>,
    /// Referrals they made or came through.
    pub referrals: Vec<resources::Referral>,
    /// Rewards they earned.
    pub rewards: Vec<resources::Reward>,
    /// Contacts, employees or vendors with this address.
    pub people: Vec<resources::Person>,
    /// Every email sent (or kept in the outbox) to the address.
    pub emails: Vec<resources::EmailMessage>,
    /// Whether the address asked for no marketing email.
    pub suppressed: bool,
}

pub async fn personal_data(ctx: &Ctx, origin: &Origin, email: &str) -> AppResult<PersonalData> {
    let email = vouch_domain::email::Email::parse(email)
        .map_err(|e| AppError::field("email", e))?
        .into_string();
    let mut tx = ctx.store.begin().await?;
    let held = privacy::held(&mut tx, &email).await?;
    // Who looked up whose data is itself on record (the address is the entity; nothing else).
    record::entry(
        &mut tx,
        origin,
        "personal_data.exported",
        "email",
        &email,
        None,
        None,
    )
    .await?;
    commit(tx).await?;
    Ok(PersonalData {
        email,
        participants: held.participants.into_iter().map(Into::into).collect(),
        referrals: held.referrals.into_iter().map(Into::into).collect(),
        rewards: held.rewards.into_iter().map(Into::into).collect(),
        people: held.people.into_iter().map(Into::into).collect(),
        emails: held.emails.into_iter().map(Into::into).collect(),
        suppressed: held.suppressed,
    })
}

/// Erases a participant (and the contact that stands for them in the payables ledger, if any):
/// `participant.erased` tells the integrations to do the same.
pub async fn erase_participant(
    ctx: &Ctx,
    origin: &Origin,
    id: &str,
) -> AppResult<participants::Participant> {
    let mut tx = ctx.store.begin().await?;
    let before = participants::get(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("participant"))?;
    if before.email == privacy::erased_address(&before.id) {
        return Err(AppError::conflict(
            "already_erased",
            "this participant was erased already",
        ));
    }
    let after = privacy::erase_participant(&mut tx, &before).await?;
    privacy::redact_audit(&mut tx, "participant", id).await?;
    change(
        &mut tx,
        origin,
        "participant.erased",
        None,
        &after,
        &["participant.erased"],
    )
    .await?;
    let linked: Vec<String> = people::for_participant(&mut tx, id).await?;
    for person_id in linked {
        erase_person_in(&mut tx, origin, &person_id).await?;
    }
    commit(tx).await?;
    Ok(after)
}

/// Erases a contact, employee or vendor: the name reads "Erased person"; their bonuses and
/// payments stay.
pub async fn erase_person(ctx: &Ctx, origin: &Origin, id: &str) -> AppResult<people::Person> {
    let mut tx = ctx.store.begin().await?;
    let after = erase_person_in(&mut tx, origin, id).await?;
    commit(tx).await?;
    Ok(after)
}

async fn erase_person_in(
    tx: &mut vouch_store::Tx,
    origin: &Origin,
    id: &str,
) -> AppResult<people::Person> {
    let before = people::get(tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("person"))?;
    if before.name == "Erased person" && before.email.is_none() {
        return Err(AppError::conflict(
            "already_erased",
            "this person was erased already",
        ));
    }
    let after = privacy::erase_person(tx, &before).await?;
    privacy::redact_audit(tx, "person", id).await?;
    change(tx, origin, "person.erased", None, &after, &[]).await?;
    Ok(after)
}
