//! The payables ledger and paying it: payments fall due on their milestone dates, payout
//! batches gather due payments for a manager's approval, export as a payroll file (payroll
//! payments) or as payables (bank transfers and checks), and are marked paid. A payment is
//! paid once: marking it is a guarded update, so a second concurrent attempt gets 409.

use crate::resources::{self, PayoutBatch, Total};
use crate::{AppError, AppResult, Ctx, commit, record};
use time::Date;
use vouch_domain::bonus::{OnCancel, PaymentMethod, PaymentStatus};
use vouch_domain::money::Money;
use vouch_domain::payout::{BatchStatus, PayeeGroup};
use vouch_domain::person::PersonKind;
use vouch_store::audit::Origin;
use vouch_store::payments::{self, Batch, BatchPick, Payment, PaymentFilter};
use vouch_store::people;
use vouch_store::{Conn, Tx};

/// Takes a payment back because what it paid for is gone (a cancelled sale, a revoked reward):
/// an unpaid one is voided (leaving a draft batch); a paid one, or one in a batch a manager
/// approved (its file may have been paid outside Vouch), opens a clawback for review.
pub(crate) async fn undo_payment(
    tx: &mut Tx,
    origin: &Origin,
    p: &Payment,
    why: &str,
    detail: &str,
) -> AppResult<()> {
    let mut action = p.status.on_cancel();
    if p.status == PaymentStatus::InBatch
        && let Some(batch) = &p.batch_id
        && payments::get_batch(tx, batch)
            .await?
            .is_some_and(|b| b.status != BatchStatus::Draft)
    {
        action = OnCancel::Clawback;
    }
    match action {
        OnCancel::Void => {
            let voided = payments::void(tx, &p.id, p.status, why)
                .await?
                .ok_or_else(|| {
                    AppError::conflict(
                        "invalid_transition",
                        "a payment changed meanwhile; reload and try again",
                    )
                })?;
            record::change(tx, origin, "payment.voided", Some(p), &voided, &[]);
        }
        OnCancel::Clawback => {
            let clawback = payments::open_clawback(tx, p, &format!("{why}: {detail}")).await?;
            record::entry(
                tx,
                origin,
                "payment_clawback.opened",
                "payment_clawback",
                &clawback.id.clone(),
                None,
                serde_json::to_value(resources::PaymentClawback::from(clawback)).ok(),
            );
        }
        OnCancel::Nothing => {}
    }
    Ok(())
}

/// Puts an earned reward of a payout rule into the ledger: a payment due today, owed to the
/// contact who stands for its participant in People (created with the participant's name and
/// email on their first such reward). Announced as `payment.due`.
pub(crate) async fn owe_reward(
    ctx: &Ctx,
    tx: &mut Tx,
    origin: &Origin,
    reward: &vouch_store::rewards::Reward,
    amount: Money,
) -> AppResult<Payment> {
    let participant = vouch_store::participants::get(tx, &reward.participant_id)
        .await?
        .ok_or_else(|| AppError::not_found("participant"))?;
    let name = [
        participant.first_name.as_deref(),
        participant.last_name.as_deref(),
    ]
    .into_iter()
    .flatten()
    .map(str::trim)
    .filter(|n| !n.is_empty())
    .collect::<Vec<_>>()
    .join(" ");
    let draft = vouch_domain::person::PersonDraft {
        name: if name.is_empty() {
            participant.email.clone()
        } else {
            name
        },
        email: Some(participant.email.clone()),
        notes: Some(format!(
            "Participant of program {}: paid their cash rewards by payout.",
            participant.program_id
        )),
        ..Default::default()
    };
    let (payee, created) = people::payee_of_participant(tx, &participant.id, &draft).await?;
    if created {
        record::change(tx, origin, "person.created", None, &payee, &[]);
    }
    let payment = payments::insert(
        tx,
        &payments::NewPayment {
            pays: payments::Pays::Reward {
                reward_id: &reward.id,
            },
            program_id: &reward.program_id,
            payee_id: &payee.id,
            payee_kind: payee.kind,
            sequence: 1,
            amount,
            term: None,
            due_on: Some(today(ctx)),
            status: PaymentStatus::Due,
            payment_method: PaymentMethod::BankTransfer,
        },
    )
    .await?;
    record::change(
        tx,
        origin,
        "payment.created",
        None,
        &payment,
        &["payment.due"],
    );
    Ok(payment)
}

/// Today in the installation's clock (UTC), the day due dates are compared with.
pub fn today(ctx: &Ctx) -> Date {
    ctx.clock.now().datetime().date()
}

/// Marks due every waiting payment whose date has come (of one sale, or all), announcing
/// `payment.due` for each, inside the caller's transaction.
pub(crate) async fn release_due(
    ctx: &Ctx,
    tx: &mut Tx,
    sale_id: Option<&str>,
) -> AppResult<Vec<Payment>> {
    let due = payments::mark_due(tx, today(ctx), sale_id).await?;
    for p in &due {
        record::announce(
            tx,
            "payment.due",
            &serde_json::to_value(resources::Payment::from(p.clone())).unwrap_or_default(),
        );
    }
    Ok(due)
}

/// The daily job: every payment whose due date has come becomes due. Returns how many.
pub async fn mark_payments_due(ctx: &Ctx) -> AppResult<usize> {
    let mut tx = ctx.store.begin().await?;
    let due = release_due(ctx, &mut tx, None).await?;
    commit(tx).await?;
    Ok(due.len())
}

/// A reward's payment in the ledger, and the open clawback of it when its reward was revoked
/// after its batch was approved.
#[derive(Debug, Clone)]
pub struct RewardPayment {
    pub payment: Payment,
    pub open_clawback: Option<resources::PaymentClawback>,
}

/// The live ledger payment of each reward (delivered by payout), in the order asked: one query
/// for the payments, one for their open clawbacks.
pub async fn payments_of_rewards(
    ctx: &Ctx,
    reward_ids: &[&str],
) -> AppResult<Vec<Option<RewardPayment>>> {
    let mut conn = ctx.store.conn().await?;
    let found = payments::for_rewards(&mut conn, reward_ids).await?;
    let ids: Vec<&str> = found.iter().map(|p| p.id.as_str()).collect();
    let clawbacks = payments::open_clawbacks_of(&mut conn, &ids).await?;
    Ok(reward_ids
        .iter()
        .map(|id| {
            found
                .iter()
                .find(|p| p.reward_id.as_deref() == Some(*id))
                .map(|p| RewardPayment {
                    payment: p.clone(),
                    open_clawback: clawbacks
                        .iter()
                        .find(|c| c.payment_id == p.id)
                        .cloned()
                        .map(resources::PaymentClawback::from),
                })
        })
        .collect())
}

pub async fn get_payment(ctx: &Ctx, id: &str) -> AppResult<Payment> {
    let mut conn = ctx.store.conn().await?;
    payments::get(&mut conn, id)
        .await?
        .ok_or_else(|| AppError::not_found("payment"))
}

/// Payments newest first (`limit + 1` rows).
pub async fn list_payments(
    ctx: &Ctx,
    filter: &PaymentFilter<'_>,
    starting_after: Option<&str>,
    limit: i64,
) -> AppResult<Vec<Payment>> {
    let mut conn = ctx.store.conn().await?;
    Ok(payments::list(&mut conn, filter, starting_after, limit).await?)
}

/// How many payments the filter finds and their amounts, per currency (the list's totals).
pub async fn payment_totals(
    ctx: &Ctx,
    filter: &PaymentFilter<'_>,
) -> AppResult<Vec<vouch_store::Total>> {
    let mut conn = ctx.store.conn().await?;
    Ok(payments::totals(&mut conn, filter).await?)
}

/// How a payment (or batch) was paid.
#[derive(Debug, Clone)]
pub struct PaidWith {
    /// The bank, payroll or check reference.
    pub reference: String,
    pub paid_on: Date,
}

fn check_paid_with(reference: &str) -> AppResult<String> {
    vouch_domain::validation::required_text(reference, 200).map_err(|m| {
        AppError::field(
            "reference",
            if m == "is required" {
                "is required: the bank, payroll or check reference".to_string()
            } else {
                m
            },
        )
    })
}

fn not_payable(p: &Payment) -> AppError {
    match p.status {
        PaymentStatus::Paid => AppError::conflict("already_paid", "the payment is paid already"),
        PaymentStatus::Voided => AppError::conflict(
            "invalid_transition",
            "the payment is voided; nothing is owed",
        ),
        PaymentStatus::InBatch => AppError::conflict(
            "invalid_transition",
            "the payment is in a payout batch; it is paid when its batch is marked paid",
        ),
        _ => AppError::conflict(
            "invalid_transition",
            "the payment is not due yet: it waits for its milestone date",
        ),
    }
}

/// Marks one payment paid, inside the caller's transaction; a vendor payment also records an
/// expenditure, and a reward's payment delivers the reward (whose email tells the participant).
/// `None` when it was not payable (the caller decides what that means).
async fn pay(
    ctx: &Ctx,
    conn: &mut vouch_store::Tx,
    origin: &Origin,
    before: &Payment,
    with: &PaidWith,
) -> AppResult<Option<Payment>> {
    let Some(after) = payments::mark_paid(
        conn,
        &before.id,
        before.status,
        &with.reference,
        with.paid_on,
    )
    .await?
    else {
        return Ok(None);
    };
    if after.payee_kind == PersonKind::Vendor {
        payments::record_expenditure(conn, &after, with.paid_on).await?;
    }
    match &after.reward_id {
        Some(reward_id) => crate::reward_status::paid_out(ctx, conn, origin, reward_id).await?,
        None => tell_paid(conn, &after).await?,
    }
    record::change(
        conn,
        origin,
        "payment.paid",
        Some(before),
        &after,
        &["payment.paid"],
    );
    Ok(Some(after))
}

/// Emails the payee (when they have an address) that a payment was made, in the payment's
/// transaction.
async fn tell_paid(conn: &mut Conn, p: &Payment) -> AppResult<()> {
    let Some(payee) = people::get(conn, &p.payee_id).await? else {
        return Ok(());
    };
    let Some(to) = payee.email.as_deref() else {
        return Ok(());
    };
    let bonus = match &p.bonus_id {
        Some(id) => vouch_store::bonuses::get(conn, id).await?,
        None => None,
    };
    let program = vouch_store::programs::get(conn, &p.program_id).await?;
    let vars = serde_json::json!({
        "payee": { "id": payee.id, "name": payee.name, "email": to },
        "bonus": bonus.as_ref().map(|b| serde_json::json!({
            "id": b.id,
            "kind": b.kind.label(),
            "amount": b.amount.map(|a| a.to_string()).unwrap_or_default(),
        })),
        "payment": {
            "id": p.id,
            "amount": p.amount.to_string(),
            "paid_on": p.paid_on.map(vouch_domain::sale::date_text).unwrap_or_default(),
            "reference": p.paid_reference,
            "method": p.payment_method.label(),
        },
        "program": program.as_ref().map(|g| serde_json::json!({ "id": g.id, "name": g.name, "slug": g.slug })),
    });
    vouch_store::emails::queue(
        conn,
        vouch_domain::email_template::Kind::PaymentPaid,
        to,
        &vars,
        vouch_store::emails::QueueOptions {
            program_id: Some(&p.program_id),
            unsubscribe_url: None,
            about: None,
            brand: None,
        },
    )
    .await?;
    Ok(())
}

/// Marks a due payment paid. Paid once only: a second attempt, concurrent or not, is 409
/// `already_paid`; a payment in a batch is paid with its batch (409).
/// Marks each ticked payment paid with one reference and date, each as one payment would be
/// (due or in a batch, paid once, its payee told); returns each id with why it was not paid,
/// if not. A bad reference is one answer for all, before anything is paid.
pub async fn mark_payments_paid(
    ctx: &Ctx,
    origin: &Origin,
    ids: &[String],
    reference: &str,
    paid_on: Option<Date>,
) -> AppResult<Vec<(String, Option<String>)>> {
    if ids.is_empty() || ids.len() > crate::rewards::BULK_MAX {
        return Err(AppError::field("ids", "tick 1 to 100 payments"));
    }
    check_paid_with(reference)?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let refused = mark_payment_paid(ctx, origin, id, reference, paid_on)
            .await
            .err()
            .map(|e| e.detail());
        out.push((id.clone(), refused));
    }
    Ok(out)
}

pub async fn mark_payment_paid(
    ctx: &Ctx,
    origin: &Origin,
    id: &str,
    reference: &str,
    paid_on: Option<Date>,
) -> AppResult<Payment> {
    let with = PaidWith {
        reference: check_paid_with(reference)?,
        paid_on: paid_on.unwrap_or_else(|| today(ctx)),
    };
    let mut tx = ctx.store.begin().await?;
    let before = payments::get(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("payment"))?;
    // A batched payment is paid with its batch, so that the batch's file and its record of
    // what was paid never disagree.
    if before.status != PaymentStatus::Due {
        return Err(not_payable(&before));
    }
    let after = match pay(ctx, &mut tx, origin, &before, &with).await? {
        Some(p) => p,
        None => {
            // Someone else changed it between the read and the write: tell what it is now.
            let now = payments::get(&mut tx, id).await?.unwrap_or(before);
            return Err(not_payable(&now));
        }
    };
    commit(tx).await?;
    Ok(after)
}

/// What a new batch picks.
#[derive(Debug, Clone)]
pub struct BatchFields {
    pub payee_group: PayeeGroup,
    pub program_id: Option<String>,
    pub due_from: Option<Date>,
    pub due_to: Option<Date>,
}

/// Builds a draft batch of every due payment that matches; 409 `nothing_to_pay` when none
/// does (nothing is saved).
pub async fn create_batch(
    ctx: &Ctx,
    origin: &Origin,
    fields: &BatchFields,
) -> AppResult<PayoutBatch> {
    if let (Some(from), Some(to)) = (fields.due_from, fields.due_to)
        && from > to
    {
        return Err(AppError::field("due_to", "must not be before due_from"));
    }
    let mut tx = ctx.store.begin().await?;
    if let Some(p) = &fields.program_id
        && vouch_store::programs::get(&mut tx, p).await?.is_none()
    {
        return Err(AppError::field("program_id", "no program has this id"));
    }
    let (batch, picked) = payments::create_batch(
        &mut tx,
        &BatchPick {
            payee_group: fields.payee_group,
            program_id: fields.program_id.as_deref(),
            due_from: fields.due_from,
            due_to: fields.due_to,
        },
        &origin.actor.label,
    )
    .await?;
    if picked.is_empty() {
        return Err(AppError::conflict(
            "nothing_to_pay",
            "no due payment matches: nothing to batch",
        ));
    }
    let out = PayoutBatch::new(batch, &picked);
    record::entry(
        &mut tx,
        origin,
        "payout_batch.created",
        "payout_batch",
        &out.id,
        None,
        serde_json::to_value(&out).ok(),
    );
    commit(tx).await?;
    Ok(out)
}

async fn load_batch(conn: &mut Conn, id: &str) -> AppResult<(Batch, Vec<Payment>)> {
    let batch = payments::get_batch(conn, id)
        .await?
        .ok_or_else(|| AppError::not_found("payout batch"))?;
    let held = payments::in_batch(conn, id).await?;
    Ok((batch, held))
}

pub async fn get_batch(ctx: &Ctx, id: &str) -> AppResult<PayoutBatch> {
    let mut conn = ctx.store.conn().await?;
    let (batch, held) = load_batch(&mut conn, id).await?;
    Ok(PayoutBatch::new(batch, &held))
}

/// Batches newest first (`limit + 1` rows), each with its count and totals.
pub async fn list_batches(
    ctx: &Ctx,
    status: Option<BatchStatus>,
    starting_after: Option<&str>,
    limit: i64,
) -> AppResult<Vec<PayoutBatch>> {
    let mut conn = ctx.store.conn().await?;
    let rows = payments::list_batches(&mut conn, status, starting_after, limit).await?;
    let mut out = Vec::with_capacity(rows.len());
    for b in rows {
        let held = payments::in_batch(&mut conn, &b.id).await?;
        out.push(PayoutBatch::new(b, &held));
    }
    Ok(out)
}

fn wrong_batch_state(b: &Batch, wanted: &str) -> AppError {
    AppError::conflict(
        "invalid_transition",
        format!("the batch is {}; it must be {wanted}", b.status),
    )
}

/// Approves a draft batch (a manager).
pub async fn approve_batch(ctx: &Ctx, origin: &Origin, id: &str) -> AppResult<PayoutBatch> {
    let mut tx = ctx.store.begin().await?;
    let (before, held) = load_batch(&mut tx, id).await?;
    if before.status != BatchStatus::Draft {
        return Err(wrong_batch_state(&before, "a draft to approve"));
    }
    let after = payments::approve_batch(&mut tx, id, &origin.actor.label)
        .await?
        .ok_or_else(|| wrong_batch_state(&before, "a draft to approve"))?;
    let before_out = PayoutBatch::new(before, &held);
    let out = PayoutBatch::new(after, &held);
    let data = serde_json::to_value(&out).unwrap_or_default();
    record::entry(
        &mut tx,
        origin,
        "payout_batch.approved",
        "payout_batch",
        id,
        serde_json::to_value(&before_out).ok(),
        Some(data.clone()),
    );
    record::announce(&mut tx, "payout_batch.approved", &data);
    commit(tx).await?;
    Ok(out)
}

/// Marks an approved batch paid: every payment in it becomes paid with the batch's reference
/// and date. 409 when the batch is a draft or paid already.
pub async fn mark_batch_paid(
    ctx: &Ctx,
    origin: &Origin,
    id: &str,
    reference: &str,
    paid_on: Option<Date>,
) -> AppResult<PayoutBatch> {
    let with = PaidWith {
        reference: check_paid_with(reference)?,
        paid_on: paid_on.unwrap_or_else(|| today(ctx)),
    };
    let mut tx = ctx.store.begin().await?;
    let (before, held) = load_batch(&mut tx, id).await?;
    if before.status != BatchStatus::Approved {
        return Err(wrong_batch_state(&before, "approved to be paid"));
    }
    let after = payments::mark_batch_paid(&mut tx, id, &with.reference, with.paid_on)
        .await?
        .ok_or_else(|| wrong_batch_state(&before, "approved to be paid"))?;
    for p in &held {
        // A payment paid on its own meanwhile stays as it was; the rest are paid now.
        if p.status == PaymentStatus::InBatch {
            pay(ctx, &mut tx, origin, p, &with).await?;
        }
    }
    let held_now = payments::in_batch(&mut tx, id).await?;
    let out = PayoutBatch::new(after, &held_now);
    record::entry(
        &mut tx,
        origin,
        "payout_batch.paid",
        "payout_batch",
        id,
        serde_json::to_value(PayoutBatch::new(before, &held)).ok(),
        serde_json::to_value(&out).ok(),
    );
    commit(tx).await?;
    Ok(out)
}

/// A table to write as CSV: a header line and rows of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub file_name: String,
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

/// The batch's file: for payroll, one line per employee and currency (employee number, name,
/// amount, currency, pay date, bonus references); for payables, one line per payment (payee,
/// kind, email, method, amount, currency, due date, references). Approved or paid batches only.
pub async fn export_batch(ctx: &Ctx, id: &str, pay_date: Option<Date>) -> AppResult<Table> {
    let mut conn = ctx.store.conn().await?;
    let (batch, held) = load_batch(&mut conn, id).await?;
    if batch.status == BatchStatus::Draft {
        return Err(AppError::conflict(
            "invalid_transition",
            "the batch is a draft; a manager approves it before it is exported",
        ));
    }
    let pay_date = pay_date.or(batch.paid_on).unwrap_or_else(|| today(ctx));
    let date = vouch_domain::sale::date_text(pay_date);
    let mut people_cache: Vec<people::Person> = Vec::new();
    for p in &held {
        if !people_cache.iter().any(|x| x.id == p.payee_id)
            && let Some(person) = people::get(&mut conn, &p.payee_id).await?
        {
            people_cache.push(person);
        }
    }
    let person = |id: &str| people_cache.iter().find(|p| p.id == id);
    let rows = match batch.payee_group {
        PayeeGroup::Payroll => {
            // One line per employee and currency, in payee order (the batch is read so).
            let mut lines: Vec<(String, Money, Vec<String>)> = Vec::new();
            for p in &held {
                let refs = format!("{}/{}", p.pays_for(), p.id);
                match lines.iter_mut().find(|(payee, m, _)| {
                    payee == &p.payee_id && m.currency() == p.amount.currency()
                }) {
                    Some((_, total, r)) => {
                        *total = total
                            .checked_add(p.amount)
                            .ok_or_else(|| AppError::internal("payroll total overflows"))?;
                        r.push(refs);
                    }
                    None => lines.push((p.payee_id.clone(), p.amount, vec![refs])),
                }
            }
            lines
                .into_iter()
                .map(|(payee, total, refs)| {
                    let who = person(&payee);
                    vec![
                        who.and_then(|w| w.employee_number.clone())
                            .unwrap_or_default(),
                        who.map(|w| w.name.clone()).unwrap_or_default(),
                        total.major_text(),
                        total.currency().to_string(),
                        date.clone(),
                        refs.join(" "),
                    ]
                })
                .collect()
        }
        PayeeGroup::Payables => held
            .iter()
            .map(|p| {
                let who = person(&p.payee_id);
                vec![
                    p.payee_id.clone(),
                    who.map(|w| w.name.clone()).unwrap_or_default(),
                    p.payee_kind.as_str().to_string(),
                    who.and_then(|w| w.email.clone()).unwrap_or_default(),
                    p.payment_method.as_str().to_string(),
                    p.amount.major_text(),
                    p.amount.currency().to_string(),
                    p.due_on
                        .map(vouch_domain::sale::date_text)
                        .unwrap_or_default(),
                    date.clone(),
                    p.id.clone(),
                    p.bonus_id.clone().unwrap_or_default(),
                    p.sale_id.clone().unwrap_or_default(),
                    p.reward_id.clone().unwrap_or_default(),
                ]
            })
            .collect(),
    };
    let header = match batch.payee_group {
        PayeeGroup::Payroll => vec![
            "employee_id",
            "name",
            "amount",
            "currency",
            "pay_date",
            "bonus_references",
        ],
        PayeeGroup::Payables => vec![
            "payee_id",
            "name",
            "payee_kind",
            "email",
            "payment_method",
            "amount",
            "currency",
            "due_on",
            "pay_date",
            "payment_id",
            "bonus_id",
            "sale_id",
            "reward_id",
        ],
    };
    Ok(Table {
        file_name: format!("{}-{}.csv", batch.payee_group.as_str(), batch.id),
        header,
        rows,
    })
}

/// What one payee earned, has approved, is owed and was paid, per currency, with every
/// payment.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Statement {
    pub payee_id: String,
    pub payee_name: String,
    pub payee_kind: PersonKind,
    /// Bonuses created for them and not rejected or cancelled.
    pub earned: Vec<Total>,
    /// Of those, approved by a manager.
    pub approved: Vec<Total>,
    /// Payments waiting for their milestone date.
    pub awaiting: Vec<Total>,
    /// Payments due now (in a batch or not).
    pub due: Vec<Total>,
    pub paid: Vec<Total>,
    pub payments: Vec<resources::Payment>,
}

fn add_to(totals: &mut Vec<Total>, m: Money) {
    let currency = m.currency().to_string();
    match totals.iter_mut().find(|t| t.currency == currency) {
        Some(t) => t.amount = t.amount.saturating_add(m.minor()),
        None => totals.push(Total {
            amount: m.minor(),
            currency,
        }),
    }
}

pub async fn statement(ctx: &Ctx, payee_id: &str) -> AppResult<Statement> {
    use vouch_domain::bonus::BonusStatus;
    let mut conn = ctx.store.conn().await?;
    let person = people::get(&mut conn, payee_id)
        .await?
        .ok_or_else(|| AppError::not_found("person"))?;
    let mut s = Statement {
        payee_id: person.id.clone(),
        payee_name: person.name.clone(),
        payee_kind: person.kind,
        earned: Vec::new(),
        approved: Vec::new(),
        awaiting: Vec::new(),
        due: Vec::new(),
        paid: Vec::new(),
        payments: Vec::new(),
    };
    for b in vouch_store::bonuses::of_payee(&mut conn, payee_id).await? {
        let Some(amount) = b.amount else { continue };
        if matches!(b.status, BonusStatus::Rejected | BonusStatus::Cancelled) {
            continue;
        }
        add_to(&mut s.earned, amount);
        if b.status == BonusStatus::Approved {
            add_to(&mut s.approved, amount);
        }
    }
    for p in payments::of_payee(&mut conn, payee_id).await? {
        // A participant's reward (by its program's rule) and a partner's commission (by a
        // manager) are earned and approved when they enter the ledger; a bonus is counted from
        // the bonus above.
        if (p.reward_id.is_some() || p.commission_id.is_some()) && p.status != PaymentStatus::Voided
        {
            add_to(&mut s.earned, p.amount);
            add_to(&mut s.approved, p.amount);
        }
        match p.status {
            PaymentStatus::AwaitingMilestone => add_to(&mut s.awaiting, p.amount),
            PaymentStatus::Due | PaymentStatus::InBatch => add_to(&mut s.due, p.amount),
            PaymentStatus::Paid => add_to(&mut s.paid, p.amount),
            PaymentStatus::Voided => {}
        }
        s.payments.push(p.into());
    }
    for t in [
        &mut s.earned,
        &mut s.approved,
        &mut s.awaiting,
        &mut s.due,
        &mut s.paid,
    ] {
        t.sort_by(|a, b| a.currency.cmp(&b.currency));
    }
    Ok(s)
}

/// Records staff's decision on a clawback opened by a cancelled sale: `recovered` (the money
/// came back) or `waived` (the payee keeps it). Final: a second decision is 409
/// `already_decided`.
pub async fn decide_clawback(
    ctx: &Ctx,
    origin: &Origin,
    id: &str,
    decision: &str,
) -> AppResult<resources::PaymentClawback> {
    if !matches!(decision, "recovered" | "waived") {
        return Err(AppError::field("decision", "must be recovered or waived"));
    }
    let mut tx = ctx.store.begin().await?;
    let before = payments::get_clawback(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("clawback"))?;
    let after = payments::decide_clawback(&mut tx, id, decision, &origin.actor.label)
        .await?
        .ok_or_else(|| {
            AppError::conflict(
                "already_decided",
                format!("the clawback was {} already", before.status),
            )
        })?;
    let after = resources::PaymentClawback::from(after);
    record::entry(
        &mut tx,
        origin,
        &format!("payment_clawback.{decision}"),
        "payment_clawback",
        id,
        serde_json::to_value(resources::PaymentClawback::from(before)).ok(),
        serde_json::to_value(&after).ok(),
    );
    commit(tx).await?;
    Ok(after)
}

/// Clawbacks of payments newest first (`limit + 1` rows), optionally in one status.
pub async fn list_clawbacks(
    ctx: &Ctx,
    status: Option<&str>,
    starting_after: Option<&str>,
    limit: i64,
) -> AppResult<Vec<resources::PaymentClawback>> {
    let mut conn = ctx.store.conn().await?;
    Ok(
        payments::list_clawbacks(&mut conn, status, starting_after, limit)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    )
}
