//! Sales (seed 002): recording them, their milestone dates, approval (which creates the bonuses
//! their lead source earns, once) and cancellation (which voids unpaid payments and opens
//! clawbacks for paid ones). Also each program's bonus policy.

use crate::resources::{self, BonusPolicy as PolicyOut};
use crate::{AppError, AppResult, Ctx, commit, payouts, record};
use vouch_domain::bonus::{self, BonusSettings, Milestone, SaleFacts};
use vouch_domain::person::{PersonKind, TermsFields};
use vouch_domain::sale::SaleFields;
use vouch_store::audit::Origin;
use vouch_store::bonuses::{self, NewBonus};
use vouch_store::payments;
use vouch_store::people;
use vouch_store::programs;
use vouch_store::sales::{self, BonusPolicy, Sale, SaleFilter};
use vouch_store::{Conn, StoreError};

/// Records a draft sale.
pub async fn create_sale(ctx: &Ctx, origin: &Origin, fields: &SaleFields) -> AppResult<Sale> {
    let mut tx = ctx.store.begin().await?;
    let draft = checked(&mut tx, fields).await?;
    let sale = sales::create(&mut tx, &draft).await?;
    record::change(&mut tx, origin, "sale.created", None, &sale, &[]);
    commit(tx).await?;
    Ok(sale)
}

/// The fields checked, and the people they name of the kinds the lead source needs.
async fn checked(conn: &mut Conn, fields: &SaleFields) -> AppResult<vouch_domain::sale::SaleDraft> {
    // A sale made from a referral takes its program and people first.
    let filled;
    let fields = match fields.referral_id.trim() {
        "" => fields,
        id => {
            filled = from_referral(conn, fields, id).await?;
            &filled
        }
    };
    let program = match fields.program_id.trim() {
        "" => None,
        id => Some(
            programs::get(conn, id)
                .await?
                .ok_or_else(|| AppError::field("program_id", "no program has this id"))?,
        ),
    };
    let currency = program
        .as_ref()
        .and_then(|p| vouch_domain::money::Currency::parse(&p.currency).ok())
        .unwrap_or(vouch_domain::money::Currency::parse("USD").map_err(AppError::internal)?);
    let draft = fields.parse(currency)?;
    let mut v = vouch_domain::Validation::new();
    must_be(
        conn,
        "customer_id",
        &draft.customer_id,
        PersonKind::Contact,
        &mut v,
    )
    .await?;
    if let (Some(id), Some(kind)) = (&draft.referred_by, draft.lead_source.referrer_kind()) {
        must_be(conn, "referred_by", id, kind, &mut v).await?;
    }
    if let Some(id) = &draft.generated_by {
        must_be(conn, "generated_by", id, PersonKind::Employee, &mut v).await?;
    }
    v.into_result().map_err(AppError::invalid)?;
    Ok(draft)
}

/// The sale's fields completed from the referral it was made from: its customer is the
/// referred contact, its lead source follows the referrer's kind, and its referrer and
/// generating employee are the referral's. A field given that says otherwise is refused.
async fn from_referral(conn: &mut Conn, fields: &SaleFields, id: &str) -> AppResult<SaleFields> {
    let referral = vouch_store::sales_referrals::get(conn, id)
        .await?
        .ok_or_else(|| AppError::field("referral_id", "no referral has this id"))?;
    let referrer = people::get(conn, &referral.referrer_id)
        .await?
        .ok_or_else(|| AppError::internal("a referral's referrer went away"))?;
    let source = vouch_domain::sales_referral::lead_source_for(referrer.kind);
    let mut out = fields.clone();
    let mut v = vouch_domain::Validation::new();
    let take = |field: &str, slot: &mut String, value: &str, v: &mut vouch_domain::Validation| {
        if slot.trim().is_empty() {
            *slot = value.to_string();
        } else if slot.trim() != value {
            v.add(
                field,
                "must match the referral the sale was made from (or be left out)",
            );
        }
    };
    take(
        "customer_id",
        &mut out.customer_id,
        &referral.referred_id,
        &mut v,
    );
    take(
        "referred_by",
        &mut out.referred_by,
        &referral.referrer_id,
        &mut v,
    );
    let generated = referral.generated_by.clone().unwrap_or_default();
    take("generated_by", &mut out.generated_by, &generated, &mut v);
    if out.program_id.trim().is_empty() {
        out.program_id = referral.program_id.clone();
    }
    match out.lead_source {
        None => out.lead_source = Some(source),
        Some(s) if s != source => v.add(
            "lead_source",
            format!(
                "must be {} for this referral (or be left out)",
                source.as_str()
            ),
        ),
        Some(_) => {}
    }
    v.into_result().map_err(AppError::invalid)?;
    Ok(out)
}

/// Adds to `v` when `id` names nobody, or someone not of `kind`.
async fn must_be(
    conn: &mut Conn,
    field: &str,
    id: &str,
    kind: PersonKind,
    v: &mut vouch_domain::Validation,
) -> AppResult<()> {
    match people::get(conn, id).await? {
        None => v.add(field, "no person has this id"),
        Some(p) if p.kind != kind => v.add(
            field,
            format!(
                "must be a {} (this person is a {})",
                kind.as_str(),
                p.kind.as_str()
            ),
        ),
        Some(_) => {}
    }
    Ok(())
}

pub async fn get_sale(ctx: &Ctx, id: &str) -> AppResult<Sale> {
    let mut conn = ctx.store.conn().await?;
    sales::get(&mut conn, id)
        .await?
        .ok_or_else(|| AppError::not_found("sale"))
}

/// A sale's fields as they can be edited (the inverse of parsing).
pub fn fields_of(s: &Sale) -> SaleFields {
    SaleFields {
        program_id: s.program_id.clone(),
        customer_id: s.customer_id.clone(),
        amount: Some(s.amount.minor()),
        currency: s.amount.currency().to_string(),
        lead_source: Some(s.lead_source),
        referred_by: s.referred_by.clone().unwrap_or_default(),
        generated_by: s.generated_by.clone().unwrap_or_default(),
        add_on: s.add_on,
        description: s.description.clone().unwrap_or_default(),
        dates: Milestone::ALL
            .into_iter()
            .map(|m| {
                let text = s
                    .milestones
                    .date(m)
                    .map(vouch_domain::sale::date_text)
                    .unwrap_or_default();
                (m, text)
            })
            .collect(),
        referral_id: s.referral_id.clone().unwrap_or_default(),
    }
}

fn not_draft(sale: &Sale) -> AppError {
    AppError::conflict(
        "invalid_transition",
        format!(
            "the sale is {}; only a draft can be changed or approved",
            sale.status
        ),
    )
}

/// Changes a draft sale's fields (`apply` edits the current ones).
pub async fn update_sale(
    ctx: &Ctx,
    origin: &Origin,
    id: &str,
    apply: impl FnOnce(&mut SaleFields),
) -> AppResult<Sale> {
    let mut tx = ctx.store.begin().await?;
    let before = sales::get(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("sale"))?;
    if before.status != vouch_domain::sale::SaleStatus::Draft {
        return Err(not_draft(&before));
    }
    let mut fields = fields_of(&before);
    apply(&mut fields);
    let draft = checked(&mut tx, &fields).await?;
    let after = sales::update_draft(&mut tx, id, &draft)
        .await?
        .ok_or_else(|| not_draft(&before))?;
    record::change(&mut tx, origin, "sale.updated", Some(&before), &after, &[]);
    commit(tx).await?;
    Ok(after)
}

/// Records (or corrects) milestone dates of a sale that is not cancelled. Payments waiting
/// for a milestone take its date, and fall due at once when it has come.
pub async fn record_milestones(
    ctx: &Ctx,
    origin: &Origin,
    id: &str,
    dates: &[(Milestone, String)],
) -> AppResult<Sale> {
    let parsed = vouch_domain::sale::parse_dates(dates).map_err(AppError::invalid)?;
    let mut tx = ctx.store.begin().await?;
    let before = sales::get(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("sale"))?;
    let cancelled = || {
        AppError::conflict(
            "invalid_transition",
            "the sale is cancelled; its dates no longer matter",
        )
    };
    if before.status == vouch_domain::sale::SaleStatus::Cancelled {
        return Err(cancelled());
    }
    let mut milestones = before.milestones;
    for (m, date) in &parsed {
        milestones.set(*m, *date);
    }
    let after = sales::set_milestones(&mut tx, id, &milestones)
        .await?
        .ok_or_else(cancelled)?;
    for (m, date) in &parsed {
        payments::schedule(&mut tx, id, *m, *date).await?;
    }
    payouts::release_due(ctx, &mut tx, Some(id)).await?;
    record::change(
        &mut tx,
        origin,
        "sale.milestones_recorded",
        Some(&before),
        &after,
        &[],
    );
    commit(tx).await?;
    Ok(after)
}

/// Approves a draft sale and creates the bonuses its lead source earns (and those the
/// program's policy adds), each incomplete with what is known filled in. Approving again, a
/// retried request or two managers at once: the sale leaves `draft` once, so one set exists.
pub async fn approve_sale(ctx: &Ctx, origin: &Origin, id: &str) -> AppResult<SaleView> {
    let mut tx = ctx.store.begin().await?;
    let before = sales::get(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("sale"))?;
    if before.status != vouch_domain::sale::SaleStatus::Draft {
        return Err(not_draft(&before));
    }
    let sale = sales::approve(&mut tx, id, &origin.actor.label)
        .await?
        .ok_or_else(|| not_draft(&before))?;
    if let Some(referral) = &sale.referral_id {
        crate::sales_referrals::win_with_sale(&mut tx, origin, referral, &sale.id).await?;
    }
    let policy = sales::policy(&mut tx, &sale.program_id).await?;
    let kinds = bonus::bonuses_for(
        SaleFacts {
            lead_source: sale.lead_source,
            generated_by_employee: sale.generated_by.is_some(),
            add_on: sale.add_on,
        },
        BonusSettings {
            new_customer_bonus: policy.new_customer_bonus,
            add_on_bonus: policy.add_on_bonus,
        },
    );
    record::change(
        &mut tx,
        origin,
        "sale.approved",
        Some(&before),
        &sale,
        &["sale.approved"],
    );
    let mut created = Vec::new();
    for kind in kinds {
        let fields = crate::bonus_prefill::prefill(&mut tx, &sale, &policy, kind).await?;
        let bonus = bonuses::insert(
            &mut tx,
            &NewBonus {
                sale_id: &sale.id,
                program_id: &sale.program_id,
                kind,
                automatic: true,
                currency: sale.amount.currency(),
                fields: &fields,
                created_by: "sale approval",
            },
        )
        .await
        .map_err(|e| match e {
            // Only a broken guard could get here; answer as the lost race it would be.
            StoreError::Conflict { .. } => not_draft(&sale),
            other => other.into(),
        })?;
        record::change(
            &mut tx,
            origin,
            "bonus.created",
            None,
            &bonus,
            &["bonus.created"],
        );
        created.push(bonus);
    }
    commit(tx).await?;
    Ok(SaleView {
        sale: sale.into(),
        bonuses: created.into_iter().map(Into::into).collect(),
        payments: Vec::new(),
        clawbacks: Vec::new(),
    })
}

/// Cancels a sale. Its bonuses are cancelled; unpaid payments are voided (leaving any batch),
/// and each payment already made opens a clawback for review.
pub async fn cancel_sale(
    ctx: &Ctx,
    origin: &Origin,
    id: &str,
    reason: &str,
) -> AppResult<SaleView> {
    let reason = crate::checked_reason(reason, "the sale is cancelled")?;
    let reason = reason.as_str();
    let mut tx = ctx.store.begin().await?;
    let before = sales::get(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("sale"))?;
    let already = || AppError::conflict("invalid_transition", "the sale is cancelled already");
    if before.status == vouch_domain::sale::SaleStatus::Cancelled {
        return Err(already());
    }
    let sale = sales::cancel(&mut tx, id, &origin.actor.label, reason)
        .await?
        .ok_or_else(already)?;
    record::change(
        &mut tx,
        origin,
        "sale.cancelled",
        Some(&before),
        &sale,
        &["sale.cancelled"],
    );
    for b in bonuses::cancel_for_sale(&mut tx, id).await? {
        record::change(&mut tx, origin, "bonus.cancelled", None, &b, &[]);
    }
    for p in payments::for_sale(&mut tx, id).await? {
        crate::payouts::undo_payment(&mut tx, origin, &p, "sale cancelled", reason).await?;
    }
    commit(tx).await?;
    sale_view(ctx, sale).await
}

/// Filters and a page of sales, newest first (`limit + 1` rows).
pub async fn list_sales(
    ctx: &Ctx,
    filter: &SaleFilter<'_>,
    starting_after: Option<&str>,
    limit: i64,
) -> AppResult<Vec<Sale>> {
    let mut conn = ctx.store.conn().await?;
    Ok(sales::list(&mut conn, filter, starting_after, limit).await?)
}

/// How many sales the filter finds and their amounts, per currency (the list's totals).
pub async fn sale_totals(ctx: &Ctx, filter: &SaleFilter<'_>) -> AppResult<Vec<vouch_store::Total>> {
    let mut conn = ctx.store.conn().await?;
    Ok(sales::totals(&mut conn, filter).await?)
}

/// A sale with its bonuses, their payments and any clawbacks.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SaleView {
    #[serde(flatten)]
    pub sale: resources::Sale,
    pub bonuses: Vec<resources::Bonus>,
    pub payments: Vec<resources::Payment>,
    pub clawbacks: Vec<resources::PaymentClawback>,
}

pub async fn sale_view(ctx: &Ctx, sale: Sale) -> AppResult<SaleView> {
    let mut conn = ctx.store.conn().await?;
    let bonuses = bonuses::for_sale(&mut conn, &sale.id).await?;
    let payments = payments::for_sale(&mut conn, &sale.id).await?;
    let clawbacks = payments::clawbacks_for_sale(&mut conn, &sale.id).await?;
    Ok(SaleView {
        sale: sale.into(),
        bonuses: bonuses.into_iter().map(Into::into).collect(),
        payments: payments.into_iter().map(Into::into).collect(),
        clawbacks: clawbacks.into_iter().map(Into::into).collect(),
    })
}

/// The program's bonus policy (defaults until one is set).
pub async fn policy(ctx: &Ctx, program_id: &str) -> AppResult<PolicyOut> {
    let mut conn = ctx.store.conn().await?;
    if programs::get(&mut conn, program_id).await?.is_none() {
        return Err(AppError::not_found("program"));
    }
    Ok(sales::policy(&mut conn, program_id).await?.into())
}

/// The program's bonus policy as entered.
#[derive(Debug, Clone, Default)]
pub struct PolicyFields {
    pub contact_terms: Option<TermsFields>,
    pub new_customer_bonus: bool,
    pub new_customer_terms: Option<TermsFields>,
    pub add_on_bonus: bool,
    pub add_on_terms: Option<TermsFields>,
    pub allow_self_approval: bool,
}

/// Sets the program's bonus policy. Each set of terms must hold together (422 naming the
/// field under its set, e.g. `contact_terms.front_share_bps`). Bonuses already created keep
/// the terms they copied.
pub async fn set_policy(
    ctx: &Ctx,
    origin: &Origin,
    program_id: &str,
    fields: PolicyFields,
) -> AppResult<PolicyOut> {
    let mut errors = Vec::new();
    for (name, terms) in [
        ("contact_terms", &fields.contact_terms),
        ("new_customer_terms", &fields.new_customer_terms),
        ("add_on_terms", &fields.add_on_terms),
    ] {
        if let Some(t) = terms
            && let Err(v) = t.parse()
        {
            errors.extend(v.errors().iter().map(|e| vouch_domain::FieldError {
                field: format!("{name}.{}", e.field),
                message: e.message.clone(),
            }));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::invalid(errors));
    }
    let normal = |t: Option<TermsFields>| t.and_then(|t| t.parse().ok()).map(TermsFields::from);
    let mut tx = ctx.store.begin().await?;
    if programs::get(&mut tx, program_id).await?.is_none() {
        return Err(AppError::not_found("program"));
    }
    let before = PolicyOut::from(sales::policy(&mut tx, program_id).await?);
    let after = sales::put_policy(
        &mut tx,
        &BonusPolicy {
            program_id: program_id.to_string(),
            contact_terms: normal(fields.contact_terms),
            new_customer_bonus: fields.new_customer_bonus,
            new_customer_terms: normal(fields.new_customer_terms),
            add_on_bonus: fields.add_on_bonus,
            add_on_terms: normal(fields.add_on_terms),
            allow_self_approval: fields.allow_self_approval,
            updated_at: None,
        },
    )
    .await?;
    let after = PolicyOut::from(after);
    record::entry(
        &mut tx,
        origin,
        "program.bonus_policy_set",
        "program",
        program_id,
        serde_json::to_value(&before).ok(),
        serde_json::to_value(&after).ok(),
    );
    commit(tx).await?;
    Ok(after)
}
