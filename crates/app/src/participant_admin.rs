//! Staff work on one participant: block and unblock them, correct their address or name, and
//! keep notes. Blocking is how an operator stops a participant who games the program without
//! deleting anything: while blocked, their link still takes visitors to the program's page but
//! counts no click and credits no one, signups that name their code join without a referrer,
//! and wins of their earlier referrals pay them nothing while the block lasts (the friend's
//! side is unaffected). Those wins still count toward their milestones: once unblocked, their
//! next win pays every step they have reached, so junk or revoke the referrals that were not
//! genuine before unblocking. Rewards they already have stay as they are; revoke those one by
//! one if needed. Each change is audited and announced as `participant.updated`; the reason for
//! a block is kept as a note.

use crate::record;
use crate::{AppError, AppResult, Ctx, commit};
use vouch_domain::email::Email;
use vouch_domain::validation::{Validation, person_name, required_text};
use vouch_store::Tx;
use vouch_store::audit::Origin;
use vouch_store::participants::{self, Note, Participant};

pub const ACTIVE: &str = "active";
pub const BLOCKED: &str = "blocked";

/// The longest note (and block reason) kept.
pub const NOTE_MAX: usize = 2000;

async fn load(tx: &mut Tx, id: &str) -> AppResult<Participant> {
    participants::get(tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("participant"))
}

fn refuse_if_erased(p: &Participant) -> AppResult<()> {
    if p.email == vouch_store::privacy::erased_address(&p.id) {
        return Err(AppError::conflict(
            "participant_erased",
            "this participant was erased on request; nothing about them can change",
        ));
    }
    Ok(())
}

/// Blocks a participant, keeping `reason` as a note. Blocking a blocked participant is a
/// conflict, so a second click says so rather than writing a second note.
pub async fn block(ctx: &Ctx, origin: &Origin, id: &str, reason: &str) -> AppResult<Participant> {
    let reason = required_text(reason, NOTE_MAX).map_err(|m| AppError::field("reason", m))?;
    let mut tx = ctx.store.begin().await?;
    let before = load(&mut tx, id).await?;
    refuse_if_erased(&before)?;
    if before.status == BLOCKED {
        return Err(AppError::conflict(
            "already_blocked",
            "this participant is already blocked",
        ));
    }
    let after = participants::set_status(&mut tx, &before, BLOCKED).await?;
    record::change(
        &mut tx,
        origin,
        "participant.blocked",
        Some(&before),
        &after,
        &["participant.updated"],
    );
    participants::add_note(
        &mut tx,
        id,
        &origin.actor.label,
        &format!("Blocked: {reason}"),
    )
    .await?;
    commit(tx).await?;
    ctx.links.forget(&after.code);
    Ok(after)
}

/// Lifts a block: their link credits them again from now on; clicks and signups missed while
/// blocked are not made up, and wins while blocked count toward their next reward.
pub async fn unblock(ctx: &Ctx, origin: &Origin, id: &str) -> AppResult<Participant> {
    let mut tx = ctx.store.begin().await?;
    let before = load(&mut tx, id).await?;
    if before.status != BLOCKED {
        return Err(AppError::conflict(
            "not_blocked",
            "this participant is not blocked",
        ));
    }
    let after = participants::set_status(&mut tx, &before, ACTIVE).await?;
    record::change(
        &mut tx,
        origin,
        "participant.unblocked",
        Some(&before),
        &after,
        &["participant.updated"],
    );
    participants::add_note(&mut tx, id, &origin.actor.label, "Unblocked.").await?;
    commit(tx).await?;
    ctx.links.forget(&after.code);
    Ok(after)
}

/// A participant's details as staff correct them.
#[derive(Debug, Clone, Default)]
pub struct Details {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
}

/// Corrects a participant's address and name. The address stays unique in the program (409 on
/// `email`); the code and the link stay as they are.
pub async fn edit(ctx: &Ctx, origin: &Origin, id: &str, d: &Details) -> AppResult<Participant> {
    let mut v = Validation::new();
    let email = v.check("email", Email::parse(&d.email).map(Email::into_string));
    let first = v.check("first_name", person_name(&d.first_name, 100));
    let last = v.check("last_name", person_name(&d.last_name, 100));
    v.into_result().map_err(AppError::invalid)?;
    let (Some(email), Some(first), Some(last)) = (email, first, last) else {
        return Err(AppError::internal("validation passed without a value"));
    };
    let mut tx = ctx.store.begin().await?;
    let before = load(&mut tx, id).await?;
    refuse_if_erased(&before)?;
    let after =
        participants::set_details(&mut tx, &before, &email, first.as_deref(), last.as_deref())
            .await?;
    record::change(
        &mut tx,
        origin,
        "participant.edited",
        Some(&before),
        &after,
        &["participant.updated"],
    );
    commit(tx).await?;
    ctx.rankings.forget_program(&after.program_id);
    Ok(after)
}

/// Adds a note to a participant's page, signed by whoever wrote it.
pub async fn add_note(ctx: &Ctx, origin: &Origin, id: &str, body: &str) -> AppResult<Note> {
    let body = required_text(body, NOTE_MAX).map_err(|m| AppError::field("body", m))?;
    let mut tx = ctx.store.begin().await?;
    let participant = load(&mut tx, id).await?;
    refuse_if_erased(&participant)?;
    let note = participants::add_note(&mut tx, id, &origin.actor.label, &body).await?;
    record::entry(
        &mut tx,
        origin,
        "participant.note_added",
        "participant",
        id,
        None,
        None,
    );
    commit(tx).await?;
    Ok(note)
}

/// A participant's notes, oldest first.
pub async fn notes(ctx: &Ctx, id: &str) -> AppResult<Vec<Note>> {
    let mut conn = ctx.store.conn().await?;
    Ok(participants::notes(&mut conn, id).await?)
}
