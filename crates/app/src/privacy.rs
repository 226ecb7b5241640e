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
    /// Accounts (and super customers) whose owner has this address.
    pub accounts: Vec<resources::Account>,
    /// Partner companies whose contact person has this address.
    pub partner_contacts: Vec<HeldPartnerContact>,
    /// Participants with this address, in every program.
    pub participants: Vec<resources::Participant>,
    /// Staff notes on those participants.
    pub participant_notes: Vec<HeldNote>,
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
    /// Referrals with partners whose client has this address.
    pub partner_referrals: Vec<HeldPartnerReferral>,
    /// Leads or customers with this address sold to a buyer.
    pub lead_sales: Vec<HeldLeadSale>,
    /// Partner portal users with this address.
    pub partner_users: Vec<HeldPartnerUser>,
}

/// A staff note on a participant with this address.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HeldNote {
    pub participant_id: String,
    /// Who wrote it.
    pub author: String,
    pub body: String,
    pub created_at: vouch_domain::Timestamp,
}

/// A referral with a partner, as far as it concerns the client.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HeldPartnerReferral {
    pub id: String,
    pub partner_id: String,
    /// `to_partner` or `from_partner`.
    pub direction: String,
    pub client_name: String,
    pub company: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub notes: Option<String>,
    pub stage: String,
    pub created_at: vouch_domain::Timestamp,
}

/// A lead or customer sold to a buyer, as far as it concerns the person.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HeldLeadSale {
    pub id: String,
    /// The buyer.
    pub partner_id: String,
    pub first_name: String,
    pub last_name: String,
    pub company: Option<String>,
    pub email: Option<String>,
    pub phones: Vec<String>,
    pub street: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub notes: Option<String>,
    pub created_at: vouch_domain::Timestamp,
}

/// A partner company, as far as it concerns its contact person.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HeldPartnerContact {
    /// The partner.
    pub partner_id: String,
    pub partner_name: String,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    /// The partner's notes, which may be about the contact.
    pub notes: Option<String>,
    pub created_at: vouch_domain::Timestamp,
}

/// A partner portal user.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HeldPartnerUser {
    pub id: String,
    pub partner_id: String,
    pub name: String,
    pub email: String,
    pub role: String,
    pub created_at: vouch_domain::Timestamp,
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
    );
    commit(tx).await?;
    Ok(PersonalData {
        email,
        accounts: held.accounts.into_iter().map(Into::into).collect(),
        participant_notes: held
            .participant_notes
            .into_iter()
            .map(|n| HeldNote {
                participant_id: n.participant_id,
                author: n.author,
                body: n.body,
                created_at: n.created_at,
            })
            .collect(),
        partner_contacts: held
            .partners
            .into_iter()
            .map(|p| HeldPartnerContact {
                partner_id: p.id,
                partner_name: p.name,
                contact_name: p.contact_name,
                contact_email: p.contact_email,
                contact_phone: p.contact_phone,
                notes: p.notes,
                created_at: p.created_at,
            })
            .collect(),
        participants: held.participants.into_iter().map(Into::into).collect(),
        referrals: held.referrals.into_iter().map(Into::into).collect(),
        rewards: held.rewards.into_iter().map(Into::into).collect(),
        people: held.people.into_iter().map(Into::into).collect(),
        emails: held.emails.into_iter().map(Into::into).collect(),
        suppressed: held.suppressed,
        partner_referrals: held
            .partner_referrals
            .into_iter()
            .map(|r| HeldPartnerReferral {
                id: r.id,
                partner_id: r.partner_id,
                direction: r.direction.as_str().to_string(),
                client_name: r.client_name,
                company: r.company,
                email: r.email,
                phone: r.phone,
                notes: r.notes,
                stage: r.stage.as_str().to_string(),
                created_at: r.created_at,
            })
            .collect(),
        lead_sales: held
            .lead_sales
            .into_iter()
            .map(|l| HeldLeadSale {
                id: l.id,
                partner_id: l.partner_id,
                first_name: l.first_name,
                last_name: l.last_name,
                company: l.company,
                email: l.email,
                phones: l.phones,
                street: l.street,
                city: l.city,
                region: l.region,
                postal_code: l.postal_code,
                country: l.country,
                notes: l.notes,
                created_at: l.created_at,
            })
            .collect(),
        partner_users: held
            .partner_users
            .into_iter()
            .map(|u| HeldPartnerUser {
                id: u.id,
                partner_id: u.partner_id,
                name: u.name,
                email: u.email,
                role: u.role.as_str().to_string(),
                created_at: u.created_at,
            })
            .collect(),
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
    );
    let linked: Vec<String> = people::for_participant(&mut tx, id).await?;
    for person_id in linked {
        match erase_person_in(&mut tx, origin, &person_id).await {
            Ok(_) => {}
            // Erased on its own already: nothing more to do for it.
            Err(AppError::Conflict {
                code: "already_erased",
                ..
            }) => {}
            Err(e) => return Err(e),
        }
    }
    commit(tx).await?;
    // The old code (made from the name or address) names no one any more.
    ctx.links.forget(&before.code);
    ctx.rankings.forget_program(&before.program_id);
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
    change(tx, origin, "person.erased", None, &after, &[]);
    Ok(after)
}
