//! Referrals between us and partner companies (seed 003). A referral sent to a partner emails
//! the partner; one a partner submits is allocated to its partner manager, who is emailed.
//! Either may name a client already referred (same email or company domain, by anyone): it is
//! flagged as a possible duplicate for staff to decide. Both sides edit notes, stage and value,
//! and every change lands in the referral's history with who made it and when.

use crate::resources::{PartnerReferral as ReferralOut, ReferralChange};
use crate::{AppError, AppResult, Ctx, commit, record};
use vouch_domain::email_template::Kind;
use vouch_domain::partner::PartnerStatus;
use vouch_domain::partner_referral::{
    Direction, DuplicateStatus, ReferralFields, Stage, company_domain, parse_value,
};
use vouch_domain::validation::{Validation, optional_text};
use vouch_store::audit::Origin;
use vouch_store::partner_referrals::{
    self as store, Edit, NewReferral, PartnerReferral, ReferralQuery, SortKey,
};
use vouch_store::partners::{self, Partner};
use vouch_store::{StoreError, Tx};

/// Who is acting on a referral: staff (through the console or the API) or a user of the
/// partner company (through the portal). The history says which side made each change.
#[derive(Debug, Clone)]
pub enum Side<'a> {
    Staff(&'a Origin),
    /// `origin`'s actor is the partner user (`ActorKind::PartnerUser`).
    Partner {
        partner_id: &'a str,
        origin: &'a Origin,
    },
    /// Someone who asked a partner for help from the public directory ([`enquire`]); it
    /// sees nothing afterwards.
    Public(&'a Origin),
}

impl Side<'_> {
    fn name(&self) -> &'static str {
        match self {
            Side::Staff(_) => "staff",
            Side::Partner { .. } => "partner",
            Side::Public(_) => "public",
        }
    }

    fn origin(&self) -> &Origin {
        match self {
            Side::Staff(origin) | Side::Partner { origin, .. } | Side::Public(origin) => origin,
        }
    }

    fn actor(&self) -> &str {
        &self.origin().actor.label
    }

    /// A partner user sees only its own partner's referrals: another's is "not found".
    fn may_see(&self, r: &PartnerReferral) -> bool {
        match self {
            Side::Staff(_) => true,
            Side::Partner { partner_id, .. } => r.partner_id == *partner_id,
            Side::Public(_) => false,
        }
    }
}

/// A referral with its partner's name, as pages and the API show it.
pub async fn view(conn: &mut vouch_store::Conn, r: PartnerReferral) -> AppResult<ReferralOut> {
    let partner = partners::get(conn, &r.partner_id).await?;
    Ok(ReferralOut::new(r, partner.map(|p| p.name)))
}

/// Records a referral: `to_partner` (sent by staff to a partner that receives referrals) or
/// `to_us` (a partner's submission, allocated to its partner manager). A number clash between
/// two concurrent submissions is retried with the next number.
pub async fn create(
    ctx: &Ctx,
    side: &Side<'_>,
    partner_id: &str,
    direction: Direction,
    fields: &ReferralFields,
) -> AppResult<ReferralOut> {
    let draft = fields.parse()?;
    let domain = company_domain(draft.email.as_deref(), draft.website.as_deref());
    for _attempt in 0..5 {
        let mut tx = ctx.store.begin().await?;
        // The partner is named in the body: an unknown one is a field error, as other ids are.
        let partner = partners::get(&mut tx, partner_id)
            .await?
            .ok_or_else(|| AppError::field("partner_id", "no partner has this id"))?;
        check_partner(&partner, direction)?;
        let earlier =
            store::find_same_client(&mut tx, draft.email.as_deref(), domain.as_deref()).await?;
        let inserted = store::insert(
            &mut tx,
            &NewReferral {
                partner_id,
                direction,
                draft: &draft,
                company_domain: domain.as_deref(),
                manager_id: partner.manager_id.as_deref(),
                submitted_by: side.actor(),
                duplicate_of: earlier.as_ref().map(|e| e.id.as_str()),
            },
        )
        .await;
        let referral = match inserted {
            Ok(r) => r,
            // Another writer took this number first; draw again in a new transaction.
            Err(StoreError::Conflict { field }) if field == "number" => continue,
            Err(e) => return Err(e.into()),
        };
        store::add_change(
            &mut tx,
            &referral.id,
            side.name(),
            side.actor(),
            "created",
            None,
            Some(direction.label()),
        )
        .await?;
        let out = ReferralOut::new(referral.clone(), Some(partner.name.clone()));
        let data = serde_json::to_value(&out).unwrap_or_default();
        record::entry(
            &mut tx,
            side.origin(),
            "partner_referral.created",
            "partner_referral",
            &referral.id,
            None,
            Some(data.clone()),
        );
        record::announce(&mut tx, "partner_referral.created", &data);
        notify(ctx, &mut tx, &partner, &out, direction).await?;
        commit(tx).await?;
        return Ok(out);
    }
    Err(AppError::conflict(
        "busy",
        "referral numbers were taken by others at the same moment; try again",
    ))
}

/// A listed partner, as the public directory shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub id: String,
    pub name: String,
    pub website: Option<String>,
}

/// The partners people may ask for help: active, receiving referrals and listed in the
/// directory, by name.
pub async fn directory(ctx: &Ctx) -> AppResult<Vec<Listed>> {
    let mut conn = ctx.store.conn().await?;
    Ok(partners::listed(&mut conn)
        .await?
        .into_iter()
        .map(|p| Listed {
            id: p.id,
            name: p.name,
            website: p.website,
        })
        .collect())
}

/// One listed partner; any other id (unlisted, suspended, not receiving) is not found, so the
/// directory reveals no partner it does not list.
pub async fn listed_partner(ctx: &Ctx, id: &str) -> AppResult<Listed> {
    let mut conn = ctx.store.conn().await?;
    partners::get(&mut conn, id)
        .await?
        .filter(|p| {
            p.listed_in_directory && p.receives_referrals && p.status == PartnerStatus::Active
        })
        .map(|p| Listed {
            id: p.id,
            name: p.name,
            website: p.website,
        })
        .ok_or_else(|| AppError::not_found("partner"))
}

/// An enquiry from the public directory: a referral from us to the listed partner (New in its
/// portal; the partner is emailed), recorded as the public's.
pub async fn enquire(
    ctx: &Ctx,
    origin: &Origin,
    partner_id: &str,
    fields: &ReferralFields,
) -> AppResult<ReferralOut> {
    listed_partner(ctx, partner_id).await?;
    create(
        ctx,
        &Side::Public(origin),
        partner_id,
        Direction::ToPartner,
        fields,
    )
    .await
}

fn check_partner(partner: &Partner, direction: Direction) -> AppResult<()> {
    if partner.status == PartnerStatus::Suspended {
        return Err(AppError::conflict(
            "partner_suspended",
            "the partner is suspended: nothing new is sent to or taken from it",
        ));
    }
    let (can, what) = match direction {
        Direction::ToPartner => (partner.receives_referrals, "receive referrals from us"),
        Direction::ToUs => (partner.refers_clients, "refer clients to us"),
    };
    if !can {
        return Err(AppError::conflict(
            "partner_cannot",
            format!("{} does not {what}", partner.name),
        ));
    }
    Ok(())
}

/// Emails who must act: the partner for a referral we sent it, the partner manager for one it
/// submitted. In the referral's transaction, so a rolled-back referral sends nothing.
async fn notify(
    ctx: &Ctx,
    tx: &mut Tx,
    partner: &Partner,
    r: &ReferralOut,
    direction: Direction,
) -> AppResult<()> {
    let needs = r
        .needs
        .iter()
        .map(|n| n.label())
        .collect::<Vec<_>>()
        .join("; ");
    let referral = serde_json::json!({
        "id": r.id, "reference": r.reference, "client_name": r.client_name, "company": r.company,
        "email": r.email, "phone": r.phone, "needs": needs, "notes": r.notes,
        "duplicate": r.duplicate_status == DuplicateStatus::Suspected,
    });
    let (kind, to, manager) = match direction {
        Direction::ToPartner => (
            Kind::PartnerReferralReceived,
            partner.contact_email.clone(),
            None,
        ),
        Direction::ToUs => {
            let manager = match &partner.manager_id {
                Some(id) => vouch_store::users::get(tx, id).await?,
                None => None,
            };
            (
                Kind::PartnerReferralSubmitted,
                manager.as_ref().map(|m| m.email.clone()),
                manager,
            )
        }
    };
    let Some(to) = to else {
        return Ok(());
    };
    let vars = serde_json::json!({
        "partner": { "id": partner.id, "name": partner.name },
        "manager": manager.as_ref().map(|m| serde_json::json!({ "name": m.name, "email": m.email })),
        "referral": referral,
        "console_url": format!("{}/admin/partner-referrals/{}", ctx.settings.base_url.trim_end_matches('/'), r.id),
    });
    vouch_store::emails::queue(
        tx,
        kind,
        &to,
        &vars,
        vouch_store::emails::QueueOptions {
            program_id: None,
            unsubscribe_url: None,
            about: None,
            brand: None,
        },
    )
    .await?;
    Ok(())
}

/// A referral and its history, if `side` may see it (404 otherwise, so ids of other partners
/// reveal nothing).
pub async fn get(
    ctx: &Ctx,
    side: &Side<'_>,
    id: &str,
) -> AppResult<(ReferralOut, Vec<ReferralChange>)> {
    let mut conn = ctx.store.conn().await?;
    let r = store::get(&mut conn, id)
        .await?
        .filter(|r| side.may_see(r))
        .ok_or_else(|| AppError::not_found("referral"))?;
    let changes = store::changes(&mut conn, id)
        .await?
        .into_iter()
        .map(ReferralChange::from)
        .collect();
    Ok((view(&mut conn, r).await?, changes))
}

/// A change of what either side may edit; `None` keeps the current value. `value: Some(None)`
/// clears it.
#[derive(Debug, Clone, Default)]
pub struct EditFields {
    pub notes: Option<String>,
    pub stage: Option<Stage>,
    pub value: Option<Option<i64>>,
    pub currency: Option<String>,
}

/// Changes notes, stage or value. Each changed field is a line of history; a new stage is
/// announced as `partner_referral.stage_changed`. Two edits at once: the second is 409.
pub async fn edit(
    ctx: &Ctx,
    side: &Side<'_>,
    id: &str,
    fields: &EditFields,
) -> AppResult<ReferralOut> {
    let mut tx = ctx.store.begin().await?;
    let before = store::get(&mut tx, id)
        .await?
        .filter(|r| side.may_see(r))
        .ok_or_else(|| AppError::not_found("referral"))?;
    let mut v = Validation::new();
    let notes = match &fields.notes {
        Some(n) => v.check("notes", optional_text(n, 10_000)),
        None => Some(before.notes.clone()),
    };
    let currency = fields
        .currency
        .clone()
        .or_else(|| before.value.map(|m| m.currency().to_string()))
        .unwrap_or_default();
    let value = match fields.value {
        Some(raw) => parse_value(raw, &currency, &mut v),
        None => match &fields.currency {
            Some(c) => parse_value(before.value.map(|m| m.minor()), c, &mut v),
            None => Some(before.value),
        },
    };
    let (Some(notes), Some(value)) = (notes, value) else {
        return Err(AppError::invalid(v.errors().to_vec()));
    };
    if !v.is_empty() {
        return Err(AppError::invalid(v.errors().to_vec()));
    }
    let stage = fields.stage.unwrap_or(before.stage);
    // A referral a partner brought us is closed by us: its commission follows the stage, so
    // the partner neither marks it won or lost nor moves it out of those stages.
    if matches!(side, Side::Partner { .. })
        && before.direction == Direction::ToUs
        && stage != before.stage
        && (matches!(stage, Stage::Won | Stage::Lost)
            || matches!(before.stage, Stage::Won | Stage::Lost))
    {
        return Err(AppError::field(
            "stage",
            "your partner manager marks the referrals you brought us won or lost, and reopens them",
        ));
    }
    let wanted = Edit {
        notes,
        stage,
        value,
    };
    let after = store::edit(&mut tx, &before, &wanted)
        .await?
        .ok_or_else(|| {
            AppError::conflict(
                "edit_conflict",
                "someone else changed this referral meanwhile; reload it and edit again",
            )
        })?;
    let money = |m: Option<vouch_domain::money::Money>| m.map(|m| m.to_string());
    let lines = [
        (
            "stage",
            Some(before.stage.label().to_string()),
            Some(after.stage.label().to_string()),
        ),
        ("value", money(before.value), money(after.value)),
        ("notes", before.notes.clone(), after.notes.clone()),
    ];
    for (field, from, to) in lines {
        if from != to {
            store::add_change(
                &mut tx,
                id,
                side.name(),
                side.actor(),
                field,
                from.as_deref(),
                to.as_deref(),
            )
            .await?;
        }
    }
    let before_out = view(&mut tx, before.clone()).await?;
    let out = view(&mut tx, after.clone()).await?;
    if before_out != out {
        let data = serde_json::to_value(&out).unwrap_or_default();
        record::entry(
            &mut tx,
            side.origin(),
            "partner_referral.updated",
            "partner_referral",
            id,
            serde_json::to_value(&before_out).ok(),
            Some(data.clone()),
        );
        if before.stage != after.stage {
            record::announce(&mut tx, "partner_referral.stage_changed", &data);
        }
    }
    crate::commissions::follow_stage(&mut tx, side.origin(), &before, &after).await?;
    commit(tx).await?;
    Ok(out)
}

/// Staff decide a suspected duplicate: `confirmed` or `cleared`. Once only (409).
pub async fn decide_duplicate(
    ctx: &Ctx,
    origin: &Origin,
    id: &str,
    decision: DuplicateStatus,
) -> AppResult<ReferralOut> {
    if !matches!(
        decision,
        DuplicateStatus::Confirmed | DuplicateStatus::Cleared
    ) {
        return Err(AppError::field("decision", "must be confirmed or cleared"));
    }
    let mut tx = ctx.store.begin().await?;
    let before = store::get(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("referral"))?;
    let after = store::decide_duplicate(&mut tx, id, decision)
        .await?
        .ok_or_else(|| {
            AppError::conflict(
                "already_decided",
                format!(
                    "the referral is not a suspected duplicate (it is {})",
                    before.duplicate_status.label()
                ),
            )
        })?;
    store::add_change(
        &mut tx,
        id,
        "staff",
        &origin.actor.label,
        "duplicate",
        Some(before.duplicate_status.label()),
        Some(after.duplicate_status.label()),
    )
    .await?;
    let out = view(&mut tx, after).await?;
    record::entry(
        &mut tx,
        origin,
        "partner_referral.duplicate_decided",
        "partner_referral",
        id,
        None,
        serde_json::to_value(&out).ok(),
    );
    commit(tx).await?;
    Ok(out)
}

/// A page of referrals with the total that match.
pub struct ReferralPage {
    pub rows: Vec<ReferralOut>,
    pub has_more: bool,
    pub total: i64,
}

/// Lists what `side` may see (a partner user: its own partner's, both directions), filtered,
/// searched and sorted.
pub async fn list(
    ctx: &Ctx,
    side: &Side<'_>,
    query: &ReferralQuery<'_>,
    sort: SortKey,
    descending: bool,
    starting_after: Option<&str>,
    limit: i64,
) -> AppResult<ReferralPage> {
    let mut query = query.clone();
    if let Side::Partner { partner_id, .. } = side {
        query.partner_id = Some(partner_id);
    }
    let mut conn = ctx.store.conn().await?;
    let total = store::count(&mut conn, &query).await?;
    let mut rows = store::list(&mut conn, &query, sort, descending, starting_after, limit).await?;
    let has_more = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let mut names: Vec<(String, String)> = Vec::new();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let name = match names.iter().find(|(id, _)| *id == r.partner_id) {
            Some((_, n)) => Some(n.clone()),
            None => {
                let n = partners::get(&mut conn, &r.partner_id)
                    .await?
                    .map(|p| p.name);
                if let Some(n) = &n {
                    names.push((r.partner_id.clone(), n.clone()));
                }
                n
            }
        };
        out.push(ReferralOut::new(r, name));
    }
    Ok(ReferralPage {
        rows: out,
        has_more,
        total,
    })
}
