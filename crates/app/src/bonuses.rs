//! The bonus workflow (1Stop's blueprint): a bonus starts incomplete; completion fills in what
//! its amount needs (payee, basis and amount, front/back terms and front share, payment
//! method); it goes to review only when complete; a manager other than whoever completed it
//! approves it (creating its payments, due on the sale's milestone dates) or rejects it.
//! Approved bonuses can be split into several payments that always sum to the bonus.

use crate::resources;
use crate::{AppError, AppResult, Ctx, checked_reason, commit, payouts, record};
use vouch_domain::FieldError;
use vouch_domain::bonus::{
    self, BonusFacts, BonusKind, BonusStatus, Milestone, PaymentMethod, PaymentStatus,
};
use vouch_domain::money::{BasisPoints, Money};
use vouch_domain::person::TermsFields;
use vouch_domain::sale::SaleStatus;
use vouch_store::audit::Origin;
use vouch_store::bonuses::{self, Bonus, BonusFields, BonusFilter, NewBonus};
use vouch_store::payments::{self, NewPayment, Payment, Pays};
use vouch_store::people;
use vouch_store::sales::{self, Sale};
use vouch_store::{Conn, Tx};

/// A change to a bonus's completion fields; `None` leaves a field as it is. Giving
/// `percentage_bps` switches the basis to a percentage (clearing a fixed amount), and the
/// reverse.
#[derive(Debug, Clone, Default)]
pub struct BonusPatch {
    pub payee_id: Option<String>,
    pub percentage_bps: Option<i64>,
    pub fixed_amount: Option<i64>,
    pub front_term: Option<Milestone>,
    /// `Some(None)` is "Not Applicable".
    pub back_term: Option<Option<Milestone>>,
    pub front_share_bps: Option<i64>,
    pub payment_method: Option<PaymentMethod>,
}

fn check_bps(field: &str, raw: Option<i64>, errors: &mut Vec<FieldError>) {
    if let Some(v) = raw
        && !(1..=10_000).contains(&v)
    {
        errors.push(FieldError {
            field: field.into(),
            message: "must be between 1 and 10000 basis points".into(),
        });
    }
}

/// Refuses what can never be right whatever else is filled in later.
fn check_patch(p: &BonusPatch) -> AppResult<()> {
    let mut errors = Vec::new();
    check_bps("percentage_bps", p.percentage_bps, &mut errors);
    check_bps("front_share_bps", p.front_share_bps, &mut errors);
    if let Some(a) = p.fixed_amount
        && !(1..=1_000_000_000).contains(&a)
    {
        errors.push(FieldError {
            field: "fixed_amount".into(),
            message: "must be between 1 and 1000000000 minor units".into(),
        });
    }
    if p.percentage_bps.is_some() && p.fixed_amount.is_some() {
        errors.push(FieldError {
            field: "fixed_amount".into(),
            message: "give either percentage_bps or fixed_amount, not both".into(),
        });
    }
    if let Some(id) = &p.payee_id
        && id.trim().is_empty()
    {
        errors.push(FieldError {
            field: "payee_id".into(),
            message: "must name a person".into(),
        });
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::invalid(errors))
    }
}

fn apply(bonus: &Bonus, p: BonusPatch) -> BonusFields {
    let mut terms = bonus.terms.clone();
    if let Some(bps) = p.percentage_bps {
        terms.percentage_bps = Some(bps);
        terms.fixed_amount = None;
        terms.currency = None;
    }
    if let Some(fixed) = p.fixed_amount {
        terms.fixed_amount = Some(fixed);
        terms.percentage_bps = None;
        terms.currency = Some(bonus.currency.to_string());
    }
    if let Some(front) = p.front_term {
        terms.front_term = Some(front);
    }
    if let Some(back) = p.back_term {
        terms.back_term = back;
        if back.is_none() && p.front_share_bps.is_none() {
            // Not Applicable means everything on the front term.
            terms.front_share_bps = Some(10_000);
        }
    }
    if let Some(share) = p.front_share_bps {
        terms.front_share_bps = Some(share);
    }
    BonusFields {
        payee_id: p.payee_id.or_else(|| bonus.payee_id.clone()),
        terms,
        amount: None,
        payment_method: p.payment_method.or(bonus.payment_method),
    }
}

async fn load(conn: &mut Conn, id: &str) -> AppResult<(Bonus, Sale)> {
    let bonus = bonuses::get(conn, id)
        .await?
        .ok_or_else(|| AppError::not_found("bonus"))?;
    let sale = sales::get(conn, &bonus.sale_id)
        .await?
        .ok_or_else(|| AppError::internal(format!("bonus {id} has no sale")))?;
    Ok((bonus, sale))
}

fn not_editable(b: &Bonus) -> AppError {
    AppError::conflict(
        "invalid_transition",
        format!(
            "the bonus is {}; only an incomplete bonus can be completed",
            b.status.label().to_lowercase()
        ),
    )
}

/// Fills in or changes completion fields of an incomplete bonus.
pub async fn update_bonus(
    ctx: &Ctx,
    origin: &Origin,
    id: &str,
    patch: BonusPatch,
) -> AppResult<Bonus> {
    check_patch(&patch)?;
    let mut tx = ctx.store.begin().await?;
    let (before, sale) = load(&mut tx, id).await?;
    if !before.status.editable() {
        return Err(not_editable(&before));
    }
    if let Some(payee) = &patch.payee_id
        && people::get(&mut tx, payee).await?.is_none()
    {
        return Err(AppError::field("payee_id", "no person has this id"));
    }
    let fields = crate::bonus_prefill::with_amount(apply(&before, patch), sale.amount);
    let after = bonuses::save_fields(&mut tx, id, &fields)
        .await?
        .ok_or_else(|| not_editable(&before))?;
    record::change(&mut tx, origin, "bonus.updated", Some(&before), &after, &[]);
    commit(tx).await?;
    Ok(after)
}

/// What review needs, checked: every missing or wrong field is named.
async fn completeness(
    conn: &mut Conn,
    bonus: &Bonus,
    sale: &Sale,
) -> AppResult<bonus::CompleteBonus> {
    let payee_kind = match &bonus.payee_id {
        Some(id) => people::get(conn, id).await?.map(|p| p.kind),
        None => None,
    };
    BonusFacts {
        payee_kind,
        terms: bonus.terms.clone(),
        payment_method: bonus.payment_method,
    }
    .complete(sale.amount)
    .map_err(AppError::from)
}

/// Submits a complete bonus for review; 422 naming every missing field otherwise.
pub async fn submit_bonus(ctx: &Ctx, origin: &Origin, id: &str) -> AppResult<Bonus> {
    let mut tx = ctx.store.begin().await?;
    let (before, sale) = load(&mut tx, id).await?;
    if !before.status.editable() {
        return Err(not_editable(&before));
    }
    completeness(&mut tx, &before, &sale).await?;
    let after = bonuses::submit(&mut tx, id, origin.actor.id.as_deref(), &origin.actor.label)
        .await?
        .ok_or_else(|| not_editable(&before))?;
    record::change(
        &mut tx,
        origin,
        "bonus.submitted",
        Some(&before),
        &after,
        &["bonus.ready_for_review"],
    );
    commit(tx).await?;
    Ok(after)
}

fn sale_not_approved() -> AppError {
    AppError::conflict(
        "invalid_transition",
        "the bonus's sale is not approved (it was cancelled); nothing more is paid on it",
    )
}

fn not_in_review(b: &Bonus) -> AppError {
    AppError::conflict(
        "already_decided",
        format!(
            "the bonus is {}; only a bonus ready for review can be decided",
            b.status.label().to_lowercase()
        ),
    )
}

/// Approves a bonus in review and adds its payments to the ledger: one per pay term (front and
/// back), each due on the sale's date for its term or waiting for that date. Whoever completed
/// the bonus may not approve it unless the program's policy allows it.
pub async fn approve_bonus(ctx: &Ctx, origin: &Origin, id: &str) -> AppResult<Bonus> {
    let mut tx = ctx.store.begin().await?;
    let (before, _) = load(&mut tx, id).await?;
    if before.status != BonusStatus::ReadyForReview {
        return Err(not_in_review(&before));
    }
    // The sale's row first: a cancellation or a milestone date recorded meanwhile waits for
    // this approval, and the payments take the dates as they are now.
    let sale = sales::lock_approved(&mut tx, &before.sale_id)
        .await?
        .ok_or_else(sale_not_approved)?;
    let policy = sales::policy(&mut tx, &before.program_id).await?;
    let completed_by_caller =
        before.completed_by_id.is_some() && before.completed_by_id == origin.actor.id;
    if completed_by_caller && !policy.allow_self_approval {
        return Err(AppError::forbidden(
            "you completed this bonus; another manager must approve it",
        ));
    }
    let complete = completeness(&mut tx, &before, &sale).await?;
    let after = bonuses::decide(
        &mut tx,
        id,
        BonusStatus::Approved,
        &origin.actor.label,
        None,
    )
    .await?
    .ok_or_else(|| not_in_review(&before))?;
    let payee_id = after
        .payee_id
        .clone()
        .ok_or_else(|| AppError::internal("a complete bonus has a payee"))?;
    let payee = people::get(&mut tx, &payee_id)
        .await?
        .ok_or_else(|| AppError::internal("the payee went away"))?;
    let instalments = complete.terms.instalments(complete.amount);
    let parts: Vec<(Money, Milestone)> = instalments.iter().map(|i| (i.amount, i.term)).collect();
    let payments = add_payments(
        &mut tx,
        origin,
        &after,
        &sale,
        &payee,
        complete.payment_method,
        &parts,
        1,
    )
    .await?;
    payouts::release_due(ctx, &mut tx, Some(&sale.id)).await?;
    tell_approved(&mut tx, &after, &sale, &payee, &payments).await?;
    record::change(
        &mut tx,
        origin,
        "bonus.approved",
        Some(&before),
        &after,
        &["bonus.approved"],
    );
    commit(tx).await?;
    Ok(after)
}

/// Emails the payee (when they have an address) that their bonus was approved, with each
/// payment and when it falls due. Queued in the approval's transaction, so it goes out only if
/// the approval commits.
async fn tell_approved(
    conn: &mut Conn,
    bonus: &Bonus,
    sale: &Sale,
    payee: &people::Person,
    payments: &[Payment],
) -> AppResult<()> {
    let Some(to) = payee.email.as_deref() else {
        return Ok(());
    };
    let program = vouch_store::programs::get(conn, &sale.program_id).await?;
    let lines: Vec<serde_json::Value> = payments
        .iter()
        .map(|p| {
            let when = match p.due_on {
                Some(d) => format!("due {}", vouch_domain::sale::date_text(d)),
                None => match p.term {
                    Some(term) => format!("when the {} is known", term.label()),
                    None => "when it falls due".to_string(),
                },
            };
            serde_json::json!({ "amount": p.amount.to_string(), "when": when })
        })
        .collect();
    let vars = serde_json::json!({
        "payee": { "id": payee.id, "name": payee.name, "email": to },
        "bonus": {
            "id": bonus.id,
            "kind": bonus.kind.label(),
            "amount": bonus.amount.map(|a| a.to_string()).unwrap_or_default(),
        },
        "sale": { "id": sale.id, "description": sale.description },
        "program": program.as_ref().map(|p| serde_json::json!({ "id": p.id, "name": p.name, "slug": p.slug })),
        "payments": lines,
    });
    vouch_store::emails::queue(
        conn,
        vouch_domain::email_template::Kind::BonusApproved,
        to,
        &vars,
        vouch_store::emails::QueueOptions {
            program_id: Some(&sale.program_id),
            unsubscribe_url: None,
            about: None,
            brand: None,
        },
    )
    .await?;
    Ok(())
}

/// Adds a bonus's payments, numbered from `first_sequence`, each waiting for its term's date
/// (which may already be known: `release_due` then makes it due).
#[allow(clippy::too_many_arguments)]
async fn add_payments(
    tx: &mut Tx,
    origin: &Origin,
    bonus: &Bonus,
    sale: &Sale,
    payee: &people::Person,
    method: PaymentMethod,
    parts: &[(Money, Milestone)],
    first_sequence: i64,
) -> AppResult<Vec<Payment>> {
    let mut out = Vec::new();
    for (n, (amount, term)) in (first_sequence..).zip(parts) {
        let payment = payments::insert(
            tx,
            &NewPayment {
                pays: Pays::Bonus {
                    bonus_id: &bonus.id,
                    sale_id: &sale.id,
                },
                program_id: &sale.program_id,
                payee_id: &payee.id,
                payee_kind: payee.kind,
                sequence: n,
                amount: *amount,
                term: Some(*term),
                due_on: sale.milestones.date(*term),
                status: PaymentStatus::AwaitingMilestone,
                payment_method: method,
            },
        )
        .await?;
        record::change(tx, origin, "payment.created", None, &payment, &[]);
        out.push(payment);
    }
    Ok(out)
}

/// Rejects a bonus in review, with the reason the payee's manager will read.
pub async fn reject_bonus(ctx: &Ctx, origin: &Origin, id: &str, reason: &str) -> AppResult<Bonus> {
    let reason = checked_reason(reason, "the bonus is rejected")?;
    let reason = reason.as_str();
    let mut tx = ctx.store.begin().await?;
    let (before, _) = load(&mut tx, id).await?;
    if before.status != BonusStatus::ReadyForReview {
        return Err(not_in_review(&before));
    }
    let after = bonuses::decide(
        &mut tx,
        id,
        BonusStatus::Rejected,
        &origin.actor.label,
        Some(reason),
    )
    .await?
    .ok_or_else(|| not_in_review(&before))?;
    record::change(
        &mut tx,
        origin,
        "bonus.rejected",
        Some(&before),
        &after,
        &["bonus.rejected"],
    );
    commit(tx).await?;
    Ok(after)
}

/// A decision on several bonuses at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
}

/// The outcome for one bonus of a bulk decision.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DecisionOutcome {
    pub id: String,
    /// Whether this bonus was decided.
    pub ok: bool,
    /// The bonus as it is now, when it exists.
    pub bonus: Option<resources::Bonus>,
    /// Why not: the problem's code (`already_decided`, `forbidden`, `not_found`, …).
    pub error_code: Option<String>,
    pub error: Option<String>,
}

/// Approves or rejects each bonus on its own (one failing never stops the others).
pub async fn decide_many(
    ctx: &Ctx,
    origin: &Origin,
    ids: &[String],
    decision: Decision,
    reason: &str,
) -> AppResult<Vec<DecisionOutcome>> {
    if ids.is_empty() || ids.len() > 100 {
        return Err(AppError::field("ids", "give 1 to 100 bonus ids"));
    }
    // Checked whatever the decision, so a reason is never taken that would be refused alone.
    if decision == Decision::Reject || !reason.trim().is_empty() {
        checked_reason(reason, "the bonuses are rejected")?;
    }
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let result = match decision {
            Decision::Approve => approve_bonus(ctx, origin, id).await,
            Decision::Reject => reject_bonus(ctx, origin, id, reason).await,
        };
        out.push(match result {
            Ok(b) => DecisionOutcome {
                id: id.clone(),
                ok: true,
                bonus: Some(b.into()),
                error_code: None,
                error: None,
            },
            Err(e) if e.is_client_error() => {
                let mut conn = ctx.store.conn().await?;
                DecisionOutcome {
                    id: id.clone(),
                    ok: false,
                    bonus: bonuses::get(&mut conn, id).await?.map(Into::into),
                    error_code: Some(e.code().to_string()),
                    error: Some(e.detail()),
                }
            }
            Err(e) => return Err(e),
        });
    }
    Ok(out)
}

/// Adds a bonus by hand to an approved sale ("Add referral bonus"): incomplete, prefilled as
/// approval would.
pub async fn add_bonus(
    ctx: &Ctx,
    origin: &Origin,
    sale_id: &str,
    kind: BonusKind,
    payee_id: Option<&str>,
) -> AppResult<Bonus> {
    let mut tx = ctx.store.begin().await?;
    let found = sales::get(&mut tx, sale_id)
        .await?
        .ok_or_else(|| AppError::not_found("sale"))?;
    if found.status != SaleStatus::Approved {
        return Err(AppError::conflict(
            "invalid_transition",
            format!(
                "the sale is {}; bonuses are added to approved sales",
                found.status
            ),
        ));
    }
    let sale = sales::lock_approved(&mut tx, sale_id)
        .await?
        .ok_or_else(sale_not_approved)?;
    if let Some(p) = payee_id
        && people::get(&mut tx, p).await?.is_none()
    {
        return Err(AppError::field("payee_id", "no person has this id"));
    }
    let policy = sales::policy(&mut tx, &sale.program_id).await?;
    let mut fields = crate::bonus_prefill::prefill(&mut tx, &sale, &policy, kind).await?;
    if let Some(p) = payee_id {
        fields.payee_id = Some(p.to_string());
    }
    let bonus = bonuses::insert(
        &mut tx,
        &NewBonus {
            sale_id: &sale.id,
            program_id: &sale.program_id,
            kind,
            automatic: false,
            currency: sale.amount.currency(),
            fields: &fields,
            created_by: &origin.actor.label,
        },
    )
    .await?;
    record::change(
        &mut tx,
        origin,
        "bonus.created",
        None,
        &bonus,
        &["bonus.created"],
    );
    commit(tx).await?;
    Ok(bonus)
}

pub async fn get_bonus(ctx: &Ctx, id: &str) -> AppResult<Bonus> {
    let mut conn = ctx.store.conn().await?;
    bonuses::get(&mut conn, id)
        .await?
        .ok_or_else(|| AppError::not_found("bonus"))
}

/// Bonuses newest first (`limit + 1` rows).
pub async fn list_bonuses(
    ctx: &Ctx,
    filter: &BonusFilter<'_>,
    starting_after: Option<&str>,
    limit: i64,
) -> AppResult<Vec<Bonus>> {
    let mut conn = ctx.store.conn().await?;
    Ok(bonuses::list(&mut conn, filter, starting_after, limit).await?)
}

/// How many bonuses the filter finds and their amounts, per currency (the list's totals).
pub async fn bonus_totals(
    ctx: &Ctx,
    filter: &BonusFilter<'_>,
) -> AppResult<Vec<vouch_store::Total>> {
    let mut conn = ctx.store.conn().await?;
    Ok(bonuses::totals(&mut conn, filter).await?)
}

/// A bonus with its payments and what completion still needs.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct BonusView {
    #[serde(flatten)]
    pub bonus: resources::Bonus,
    pub payments: Vec<resources::Payment>,
    /// What review still needs, by field (empty when complete or past completion).
    pub missing: Vec<FieldError>,
}

pub async fn bonus_view(ctx: &Ctx, bonus: Bonus) -> AppResult<BonusView> {
    let mut conn = ctx.store.conn().await?;
    let payments = payments::for_bonus(&mut conn, &bonus.id).await?;
    let missing = if bonus.status.editable() {
        let sale = sales::get(&mut conn, &bonus.sale_id)
            .await?
            .ok_or_else(|| AppError::internal("bonus without its sale"))?;
        match completeness(&mut conn, &bonus, &sale).await {
            Ok(_) => Vec::new(),
            Err(AppError::Invalid(errors)) => errors,
            Err(e) => return Err(e),
        }
    } else {
        Vec::new()
    };
    Ok(BonusView {
        bonus: bonus.into(),
        payments: payments.into_iter().map(Into::into).collect(),
        missing,
    })
}

/// How to split a bonus's payments.
#[derive(Debug, Clone)]
pub enum Split {
    /// Into this many equal payments (the cents left over go to the earliest).
    Equal {
        parts: usize,
        term: Option<Milestone>,
    },
    /// By percentages in basis points summing to 10 000, each on its term (default: the
    /// bonus's front term).
    Percentages(Vec<(BasisPoints, Option<Milestone>)>),
    /// Into these amounts (minor units) summing to the bonus.
    Amounts(Vec<(i64, Option<Milestone>)>),
}

/// Replaces an approved bonus's payments by a split of its amount. Only while none of them is
/// in a batch or paid; the old ones are voided ("replaced by a split"), the new ones continue
/// the numbering and always sum exactly to the bonus.
pub async fn split_bonus(
    ctx: &Ctx,
    origin: &Origin,
    id: &str,
    split: Split,
) -> AppResult<Vec<Payment>> {
    let mut tx = ctx.store.begin().await?;
    let (found, _) = load(&mut tx, id).await?;
    let not_approved = || {
        AppError::conflict(
            "invalid_transition",
            "only an approved bonus has payments to split",
        )
    };
    if found.status != BonusStatus::Approved {
        return Err(not_approved());
    }
    // Sale, then bonus: the order a cancellation takes them in, so a split and a cancellation
    // (or two splits) run one after the other, and the payments are read after the wait.
    let sale = sales::lock_approved(&mut tx, &found.sale_id)
        .await?
        .ok_or_else(sale_not_approved)?;
    let bonus = bonuses::lock(&mut tx, id, BonusStatus::Approved)
        .await?
        .ok_or_else(not_approved)?;
    let existing = payments::for_bonus(&mut tx, id).await?;
    if existing
        .iter()
        .any(|p| matches!(p.status, PaymentStatus::InBatch | PaymentStatus::Paid))
    {
        return Err(AppError::conflict(
            "invalid_transition",
            "a payment of this bonus is in a payout batch or paid; split before batching",
        ));
    }
    let amount = bonus
        .amount
        .ok_or_else(|| AppError::internal("an approved bonus has an amount"))?;
    let front = bonus.terms.front_term.unwrap_or(Milestone::SignDate);
    let refuse = |e: bonus::SplitError| AppError::field("parts", e.0);
    let parts: Vec<(Money, Milestone)> = match split {
        Split::Equal { parts, term } => bonus::split_equally(amount, parts)
            .map_err(refuse)?
            .into_iter()
            .map(|m| (m, term.unwrap_or(front)))
            .collect(),
        Split::Percentages(shares) => {
            let bps: Vec<BasisPoints> = shares.iter().map(|(b, _)| *b).collect();
            bonus::split_by_percentages(amount, &bps)
                .map_err(refuse)?
                .into_iter()
                .zip(shares.iter().map(|(_, t)| t.unwrap_or(front)))
                .collect()
        }
        Split::Amounts(amounts) => {
            let wanted: Vec<Money> = amounts
                .iter()
                .map(|(a, _)| Money::new(*a, amount.currency()))
                .collect();
            bonus::split_by_amounts(amount, &wanted)
                .map_err(refuse)?
                .into_iter()
                .zip(amounts.iter().map(|(_, t)| t.unwrap_or(front)))
                .collect()
        }
    };
    let mut next = 1;
    for p in &existing {
        next = next.max(p.sequence + 1);
        if !matches!(
            p.status,
            PaymentStatus::AwaitingMilestone | PaymentStatus::Due
        ) {
            continue;
        }
        let voided = payments::void(&mut tx, &p.id, p.status, "replaced by a split")
            .await?
            .ok_or_else(|| {
                AppError::conflict(
                    "invalid_transition",
                    "a payment of this bonus changed meanwhile; reload it and split again",
                )
            })?;
        record::change(&mut tx, origin, "payment.voided", Some(p), &voided, &[]);
    }
    let payee_id = bonus
        .payee_id
        .clone()
        .ok_or_else(|| AppError::internal("an approved bonus has a payee"))?;
    let payee = people::get(&mut tx, &payee_id)
        .await?
        .ok_or_else(|| AppError::internal("the payee went away"))?;
    let method = bonus
        .payment_method
        .ok_or_else(|| AppError::internal("an approved bonus has a payment method"))?;
    let created =
        add_payments(&mut tx, origin, &bonus, &sale, &payee, method, &parts, next).await?;
    payouts::release_due(ctx, &mut tx, Some(&sale.id)).await?;
    record::entry(
        &mut tx,
        origin,
        "bonus.split",
        "bonus",
        id,
        serde_json::to_value(
            existing
                .iter()
                .cloned()
                .map(resources::Payment::from)
                .collect::<Vec<_>>(),
        )
        .ok(),
        serde_json::to_value(
            created
                .iter()
                .cloned()
                .map(resources::Payment::from)
                .collect::<Vec<_>>(),
        )
        .ok(),
    );
    commit(tx).await?;
    let mut conn = ctx.store.conn().await?;
    Ok(payments::for_bonus(&mut conn, id).await?)
}

/// The terms as completion fields (to show in a form).
pub fn terms_of(b: &Bonus) -> TermsFields {
    b.terms.clone()
}
