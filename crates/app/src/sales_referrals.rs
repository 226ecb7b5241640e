//! The referrals module (seed 002): enter a referral linking the referred contact to whoever
//! referred them, book the meeting, move it through the sales process with notes, and win it
//! with a sale (approving a sale made from it wins it) or lose it with a reason. Every change
//! is audited and kept in the referral's own history.

use crate::resources::{ReferralHistoryEntry, SalesReferral as ReferralOut};
use crate::{AppError, AppResult, Ctx, commit, record};
use vouch_domain::person::PersonKind;
use vouch_domain::sales_referral::{ReferralFields, Stage, parse_meeting};
use vouch_domain::validation::optional_text;
use vouch_store::Tx;
use vouch_store::audit::Origin;
use vouch_store::people;
use vouch_store::sales_referrals::{self as store, ReferralFilter, SalesReferral};

/// Enters a referral: new, or with its meeting booked.
pub async fn create(
    ctx: &Ctx,
    origin: &Origin,
    fields: &ReferralFields,
) -> AppResult<SalesReferral> {
    let draft = fields.parse()?;
    let mut tx = ctx.store.begin().await?;
    if vouch_store::programs::get(&mut tx, &draft.program_id)
        .await?
        .is_none()
    {
        return Err(AppError::field("program_id", "no program has this id"));
    }
    let mut v = vouch_domain::Validation::new();
    let referred = people::get(&mut tx, &draft.referred_id).await?;
    match &referred {
        None => v.add("referred_id", "no person has this id"),
        Some(p) if p.kind != PersonKind::Contact => v.add(
            "referred_id",
            "must be a contact (the customer or prospect referred)",
        ),
        Some(_) => {}
    }
    let referrer = people::get(&mut tx, &draft.referrer_id).await?;
    if referrer.is_none() {
        v.add("referrer_id", "no person has this id");
    }
    if let Some(g) = &draft.generated_by {
        match people::get(&mut tx, g).await? {
            None => v.add("generated_by", "no person has this id"),
            Some(p) if p.kind != PersonKind::Employee => {
                v.add("generated_by", "must be an employee")
            }
            Some(_)
                if referrer
                    .as_ref()
                    .is_some_and(|r| r.kind != PersonKind::Contact) =>
            {
                v.add(
                    "generated_by",
                    "only a referral from a contact has an employee who generated it",
                )
            }
            Some(_) => {}
        }
    }
    v.into_result().map_err(AppError::invalid)?;
    let stage = if draft.meeting_at.is_some() {
        Stage::MeetingScheduled
    } else {
        Stage::New
    };
    let referral = store::create(&mut tx, &draft, stage, &origin.actor.label).await?;
    store::add_event(
        &mut tx,
        &referral.id,
        "created",
        Some((None, stage)),
        draft.notes.as_deref(),
        &origin.actor.label,
    )
    .await?;
    record::change(
        &mut tx,
        origin,
        "sales_referral.created",
        None,
        &referral,
        &[],
    );
    commit(tx).await?;
    Ok(referral)
}

pub async fn get(ctx: &Ctx, id: &str) -> AppResult<SalesReferral> {
    let mut conn = ctx.store.conn().await?;
    store::get(&mut conn, id)
        .await?
        .ok_or_else(|| AppError::not_found("referral"))
}

pub async fn list(
    ctx: &Ctx,
    filter: &ReferralFilter<'_>,
    starting_after: Option<&str>,
    limit: i64,
) -> AppResult<Vec<SalesReferral>> {
    let mut conn = ctx.store.conn().await?;
    Ok(store::list(&mut conn, filter, starting_after, limit).await?)
}

/// A referral with its history, oldest first.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ReferralView {
    #[serde(flatten)]
    pub referral: ReferralOut,
    pub history: Vec<ReferralHistoryEntry>,
}

pub async fn view(ctx: &Ctx, referral: SalesReferral) -> AppResult<ReferralView> {
    let mut conn = ctx.store.conn().await?;
    let history = store::history(&mut conn, &referral.id).await?;
    Ok(ReferralView {
        referral: referral.into(),
        history: history.into_iter().map(Into::into).collect(),
    })
}

fn closed(r: &SalesReferral) -> AppError {
    AppError::conflict(
        "invalid_transition",
        format!(
            "the referral is {}; it no longer changes",
            r.stage.label().to_lowercase()
        ),
    )
}

/// Books, moves or clears the meeting and replaces the notes (`None` leaves each as it is).
pub async fn update(
    ctx: &Ctx,
    origin: &Origin,
    id: &str,
    meeting_at: Option<&str>,
    notes: Option<&str>,
) -> AppResult<SalesReferral> {
    let meeting = meeting_at
        .map(|m| parse_meeting(m).map_err(|e| AppError::field("meeting_at", e)))
        .transpose()?;
    let notes = notes
        .map(|n| optional_text(n, 10_000).map_err(|e| AppError::field("notes", e)))
        .transpose()?;
    let mut tx = ctx.store.begin().await?;
    let before = store::get(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("referral"))?;
    if before.stage.is_final() {
        return Err(closed(&before));
    }
    let meeting_at = meeting.unwrap_or(before.meeting_at);
    let notes = notes.unwrap_or_else(|| before.notes.clone());
    let after = store::update(&mut tx, id, meeting_at, notes.as_deref())
        .await?
        .ok_or_else(|| closed(&before))?;
    record::change(
        &mut tx,
        origin,
        "sales_referral.updated",
        Some(&before),
        &after,
        &[],
    );
    commit(tx).await?;
    Ok(after)
}

/// Moves a referral to another stage (with a note). A meeting needs its time; a lost referral
/// needs its reason; won comes from approving a sale made from it.
pub async fn move_stage(
    ctx: &Ctx,
    origin: &Origin,
    id: &str,
    to: Stage,
    note: &str,
) -> AppResult<SalesReferral> {
    let note = optional_text(note, 2_000).map_err(|e| AppError::field("note", e))?;
    if to == Stage::Won {
        return Err(AppError::field(
            "stage",
            "a referral is won by approving a sale made from it",
        ));
    }
    if to == Stage::Lost && note.is_none() {
        return Err(AppError::field(
            "note",
            "is required: why the referral was lost",
        ));
    }
    let mut tx = ctx.store.begin().await?;
    let before = store::get(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("referral"))?;
    if !before.stage.may_become(to) {
        return Err(if before.stage.is_final() {
            closed(&before)
        } else {
            AppError::conflict(
                "invalid_transition",
                format!("the referral is {} already", to.label().to_lowercase()),
            )
        });
    }
    if to == Stage::MeetingScheduled && before.meeting_at.is_none() {
        return Err(AppError::field(
            "meeting_at",
            "book the meeting's time first (PATCH the referral's meeting_at)",
        ));
    }
    let lost_reason = (to == Stage::Lost).then_some(note.as_deref()).flatten();
    let after = store::move_stage(&mut tx, id, before.stage, to, lost_reason, None)
        .await?
        .ok_or_else(|| {
            AppError::conflict(
                "invalid_transition",
                "the referral changed meanwhile; reload it",
            )
        })?;
    store::add_event(
        &mut tx,
        id,
        "stage",
        Some((Some(before.stage), to)),
        note.as_deref(),
        &origin.actor.label,
    )
    .await?;
    record::change(
        &mut tx,
        origin,
        "sales_referral.stage_changed",
        Some(&before),
        &after,
        &[],
    );
    commit(tx).await?;
    Ok(after)
}

/// Adds a note to the referral's history.
pub async fn add_note(ctx: &Ctx, origin: &Origin, id: &str, text: &str) -> AppResult<()> {
    let text = vouch_domain::validation::required_text(text, 2_000)
        .map_err(|e| AppError::field("text", e))?;
    let mut tx = ctx.store.begin().await?;
    if store::get(&mut tx, id).await?.is_none() {
        return Err(AppError::not_found("referral"));
    }
    store::add_event(&mut tx, id, "note", None, Some(&text), &origin.actor.label).await?;
    record::entry(
        &mut tx,
        origin,
        "sales_referral.note_added",
        "sales_referral",
        id,
        None,
        Some(serde_json::json!({ "note": text })),
    );
    commit(tx).await?;
    Ok(())
}

/// Wins the referral a sale was made from, when its sale is approved (inside the approval's
/// transaction). A referral already won or lost stays as it is.
pub(crate) async fn win_with_sale(
    tx: &mut Tx,
    origin: &Origin,
    referral_id: &str,
    sale_id: &str,
) -> AppResult<()> {
    let Some(before) = store::get(tx, referral_id).await? else {
        return Ok(());
    };
    if before.stage.is_final() {
        return Ok(());
    }
    if let Some(after) = store::move_stage(
        tx,
        referral_id,
        before.stage,
        Stage::Won,
        None,
        Some(sale_id),
    )
    .await?
    {
        store::add_event(
            tx,
            referral_id,
            "stage",
            Some((Some(before.stage), Stage::Won)),
            Some("its sale was approved"),
            &origin.actor.label,
        )
        .await?;
        record::change(
            tx,
            origin,
            "sales_referral.stage_changed",
            Some(&before),
            &after,
            &[],
        );
    }
    Ok(())
}
