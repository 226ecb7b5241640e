//! The payables ledger: payments owed to payees, payout batches, clawbacks of payments a
//! cancelled sale had already paid, and vendor expenditures. Every status change is a guarded
//! update: a payment leaves `due`/`in_batch` for `paid` once, so two concurrent "mark paid"
//! calls find it only once.

use crate::query::{NewestFirst, Sql, Total};
use crate::{
    Result, conflict, date_col, date_text, enum_col, money_col, now, opt_enum_col, time_col,
};
use sqlx::{AnyConnection, Row};
use time::Date;
use vouch_domain::Timestamp;
use vouch_domain::bonus::{Milestone, PaymentMethod, PaymentStatus};
use vouch_domain::money::Money;
use vouch_domain::payout::{BatchStatus, PayeeGroup};
use vouch_domain::person::PersonKind;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub id: String,
    /// The bonus it pays, with the bonus's sale; or else the participant reward it pays.
    pub bonus_id: Option<String>,
    pub sale_id: Option<String>,
    pub reward_id: Option<String>,
    /// The partner commission it pays.
    pub commission_id: Option<String>,
    pub program_id: String,
    pub payee_id: String,
    pub payee_kind: PersonKind,
    /// 1, 2, … within its bonus (a split continues the numbering); 1 for a reward.
    pub sequence: i64,
    pub amount: Money,
    /// The milestone a bonus payment falls due on; none for a reward (due when earned).
    pub term: Option<Milestone>,
    pub due_on: Option<Date>,
    pub status: PaymentStatus,
    pub payment_method: PaymentMethod,
    pub batch_id: Option<String>,
    pub paid_reference: Option<String>,
    pub paid_on: Option<Date>,
    pub paid_at: Option<Timestamp>,
    pub void_reason: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Payment {
    /// The id of what it pays: its bonus, or its reward.
    pub fn pays_for(&self) -> &str {
        self.bonus_id
            .as_deref()
            .or(self.reward_id.as_deref())
            .or(self.commission_id.as_deref())
            .unwrap_or_default()
    }
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<Payment> {
    Ok(Payment {
        id: row.try_get("id")?,
        bonus_id: row.try_get("bonus_id")?,
        sale_id: row.try_get("sale_id")?,
        reward_id: row.try_get("reward_id")?,
        commission_id: row.try_get("commission_id")?,
        program_id: row.try_get("program_id")?,
        payee_id: row.try_get("payee_id")?,
        payee_kind: enum_col(row, "payee_kind")?,
        sequence: row.try_get("sequence")?,
        amount: money_col(row, "amount", "currency")?,
        term: opt_enum_col(row, "term")?,
        due_on: date_col(row, "due_on")?,
        status: enum_col(row, "status")?,
        payment_method: enum_col(row, "payment_method")?,
        batch_id: row.try_get("batch_id")?,
        paid_reference: row.try_get("paid_reference")?,
        paid_on: date_col(row, "paid_on")?,
        paid_at: time_col(row, "paid_at")?,
        void_reason: row.try_get("void_reason")?,
        created_at: time_col(row, "created_at")?,
        updated_at: time_col(row, "updated_at")?,
    })
}

fn many(rows: &[sqlx::any::AnyRow]) -> Result<Vec<Payment>> {
    rows.iter().map(from_row).collect()
}

/// A payment to add to the ledger.
pub struct NewPayment<'a> {
    pub pays: Pays<'a>,
    pub program_id: &'a str,
    pub payee_id: &'a str,
    pub payee_kind: PersonKind,
    pub sequence: i64,
    pub amount: Money,
    pub term: Option<Milestone>,
    pub due_on: Option<Date>,
    pub status: PaymentStatus,
    pub payment_method: PaymentMethod,
}

/// What a payment pays: a bonus (of a sale) or a participant's reward.
#[derive(Debug, Clone, Copy)]
pub enum Pays<'a> {
    Bonus { bonus_id: &'a str, sale_id: &'a str },
    Reward { reward_id: &'a str },
    Commission { commission_id: &'a str },
}

impl<'a> Pays<'a> {
    fn bonus_id(self) -> Option<&'a str> {
        match self {
            Pays::Bonus { bonus_id, .. } => Some(bonus_id),
            Pays::Reward { .. } | Pays::Commission { .. } => None,
        }
    }

    fn sale_id(self) -> Option<&'a str> {
        match self {
            Pays::Bonus { sale_id, .. } => Some(sale_id),
            Pays::Reward { .. } | Pays::Commission { .. } => None,
        }
    }

    fn reward_id(self) -> Option<&'a str> {
        match self {
            Pays::Reward { reward_id } => Some(reward_id),
            Pays::Bonus { .. } | Pays::Commission { .. } => None,
        }
    }

    fn commission_id(self) -> Option<&'a str> {
        match self {
            Pays::Commission { commission_id } => Some(commission_id),
            Pays::Bonus { .. } | Pays::Reward { .. } => None,
        }
    }
}

pub async fn insert(conn: &mut AnyConnection, p: &NewPayment<'_>) -> Result<Payment> {
    let row = sqlx::query(
        "INSERT INTO payments (id, bonus_id, sale_id, reward_id, program_id, payee_id, payee_kind, sequence, amount, currency,
             term, due_on, status, payment_method, created_at, updated_at, commission_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $16) RETURNING *",
    )
    .bind(vouch_domain::id::new_id("pay"))
    .bind(p.pays.bonus_id())
    .bind(p.pays.sale_id())
    .bind(p.pays.reward_id())
    .bind(p.program_id)
    .bind(p.payee_id)
    .bind(p.payee_kind.as_str())
    .bind(p.sequence)
    .bind(p.amount.minor())
    .bind(p.amount.currency().to_string())
    .bind(p.term.map(Milestone::as_str))
    .bind(date_text(p.due_on))
    .bind(p.status.as_str())
    .bind(p.payment_method.as_str())
    .bind(now())
    .bind(p.pays.commission_id())
    .fetch_one(&mut *conn)
    .await?;
    from_row(&row)
}

/// A commission's live (not voided) payment.
pub async fn for_commission(
    conn: &mut AnyConnection,
    commission_id: &str,
) -> Result<Option<Payment>> {
    let row = sqlx::query("SELECT * FROM payments WHERE commission_id = $1 AND status <> 'voided'")
        .bind(commission_id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Payment>> {
    let row = sqlx::query("SELECT * FROM payments WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// A bonus's payments in order.
pub async fn for_bonus(conn: &mut AnyConnection, bonus_id: &str) -> Result<Vec<Payment>> {
    let rows = sqlx::query("SELECT * FROM payments WHERE bonus_id = $1 ORDER BY sequence")
        .bind(bonus_id)
        .fetch_all(conn)
        .await?;
    many(&rows)
}

/// The live (not voided) payment of a participant's reward, if it went to the ledger.
pub async fn for_reward(conn: &mut AnyConnection, reward_id: &str) -> Result<Option<Payment>> {
    let row = sqlx::query("SELECT * FROM payments WHERE reward_id = $1 AND status <> 'voided'")
        .bind(reward_id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The live payments of these rewards (one query).
pub async fn for_rewards(conn: &mut AnyConnection, reward_ids: &[&str]) -> Result<Vec<Payment>> {
    if reward_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::new("SELECT * FROM payments WHERE status <> 'voided' AND reward_id IN ");
    sql.push_in(reward_ids.iter().copied());
    let rows = sql.fetch_all(conn).await?;
    many(&rows)
}

/// The open clawbacks of these payments (one query).
pub async fn open_clawbacks_of(
    conn: &mut AnyConnection,
    payment_ids: &[&str],
) -> Result<Vec<PaymentClawback>> {
    if payment_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql =
        Sql::new("SELECT * FROM payment_clawbacks WHERE status = 'open' AND payment_id IN ");
    sql.push_in(payment_ids.iter().copied());
    let rows = sql.fetch_all(conn).await?;
    rows.iter().map(clawback_from_row).collect()
}

/// A sale's payments, by bonus then order.
pub async fn for_sale(conn: &mut AnyConnection, sale_id: &str) -> Result<Vec<Payment>> {
    let rows = sqlx::query("SELECT * FROM payments WHERE sale_id = $1 ORDER BY bonus_id, sequence")
        .bind(sale_id)
        .fetch_all(conn)
        .await?;
    many(&rows)
}

/// Gives a due date to a sale's payments that wait for `term` and have none yet.
pub async fn schedule(
    conn: &mut AnyConnection,
    sale_id: &str,
    term: Milestone,
    due_on: Option<Date>,
) -> Result<Vec<Payment>> {
    let rows = sqlx::query(
        "UPDATE payments SET due_on = $1, updated_at = $2
         WHERE sale_id = $3 AND term = $4 AND status = 'awaiting_milestone' RETURNING *",
    )
    .bind(date_text(due_on))
    .bind(now())
    .bind(sale_id)
    .bind(term.as_str())
    .fetch_all(conn)
    .await?;
    many(&rows)
}

/// Marks due every waiting payment whose due date has come (`due_on <= today`), of one sale or
/// of all, returning those it changed.
pub async fn mark_due(
    conn: &mut AnyConnection,
    today: Date,
    sale_id: Option<&str>,
) -> Result<Vec<Payment>> {
    let mut sql = Sql::new("UPDATE payments SET status = 'due', updated_at = ");
    sql.push_bind(now())
        .push(" WHERE status = 'awaiting_milestone' AND due_on IS NOT NULL AND due_on <= ")
        .push_bind(date_text(Some(today)).unwrap_or_default());
    if let Some(sale) = sale_id {
        sql.push(" AND sale_id = ").push_bind(sale);
    }
    sql.push(" RETURNING *");
    let mut out = many(&sql.fetch_all(conn).await?)?;
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// Voids a payment if it is still in `from` (taking it out of a draft batch); `None` when it
/// is not.
pub async fn void(
    conn: &mut AnyConnection,
    id: &str,
    from: PaymentStatus,
    reason: &str,
) -> Result<Option<Payment>> {
    let row = sqlx::query(
        "UPDATE payments SET status = 'voided', void_reason = $1, batch_id = NULL, updated_at = $2
         WHERE id = $3 AND status = $4 RETURNING *",
    )
    .bind(reason)
    .bind(now())
    .bind(id)
    .bind(from.as_str())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Marks one payment paid if it is still in `from` (`due`, or `in_batch` for its batch);
/// `None` when it is not (paid already by anyone, voided, batched meanwhile, still waiting).
pub async fn mark_paid(
    conn: &mut AnyConnection,
    id: &str,
    from: PaymentStatus,
    reference: &str,
    paid_on: Date,
) -> Result<Option<Payment>> {
    let at = now();
    let row = sqlx::query(
        "UPDATE payments SET status = 'paid', paid_reference = $1, paid_on = $2, paid_at = $3, updated_at = $3
         WHERE id = $4 AND status = $5 RETURNING *",
    )
    .bind(reference)
    .bind(date_text(Some(paid_on)))
    .bind(&at)
    .bind(id)
    .bind(from.as_str())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Filters for [`list`]; `None` is "any".
#[derive(Debug, Default, Clone)]
pub struct PaymentFilter<'a> {
    pub status: Option<PaymentStatus>,
    pub payee_id: Option<&'a str>,
    pub payee_kind: Option<PersonKind>,
    pub bonus_id: Option<&'a str>,
    pub reward_id: Option<&'a str>,
    pub batch_id: Option<&'a str>,
    pub program_id: Option<&'a str>,
    pub due_from: Option<Date>,
    pub due_to: Option<Date>,
}

fn filtered(list: &mut NewestFirst, f: &PaymentFilter<'_>) {
    list.eq("status", f.status.map(PaymentStatus::as_str))
        .eq("payee_id", f.payee_id)
        .eq("payee_kind", f.payee_kind.map(PersonKind::as_str))
        .eq("bonus_id", f.bonus_id)
        .eq("reward_id", f.reward_id)
        .eq("batch_id", f.batch_id)
        .eq("program_id", f.program_id);
    if let Some(from) = date_text(f.due_from) {
        let sql = list.and();
        let d = sql.bind(from);
        sql.push(&format!("due_on >= {d}"));
    }
    if let Some(to) = date_text(f.due_to) {
        let sql = list.and();
        let d = sql.bind(to);
        sql.push(&format!("due_on <= {d}"));
    }
}

/// Payments newest first, `limit + 1` rows.
pub async fn list(
    conn: &mut AnyConnection,
    filter: &PaymentFilter<'_>,
    starting_after: Option<&str>,
    limit: i64,
) -> Result<Vec<Payment>> {
    let mut list = NewestFirst::table("payments");
    filtered(&mut list, filter);
    let rows = list.page(conn, starting_after, limit).await?;
    many(&rows)
}

/// How many payments [`list`] finds, and their amounts, per currency.
pub async fn totals(conn: &mut AnyConnection, filter: &PaymentFilter<'_>) -> Result<Vec<Total>> {
    let mut list = NewestFirst::table("payments");
    filtered(&mut list, filter);
    list.totals(conn).await
}

/// Every payment of a payee, oldest first (for a statement).
pub async fn of_payee(conn: &mut AnyConnection, payee_id: &str) -> Result<Vec<Payment>> {
    let rows = sqlx::query("SELECT * FROM payments WHERE payee_id = $1 ORDER BY id")
        .bind(payee_id)
        .fetch_all(conn)
        .await?;
    many(&rows)
}

/// Every payment in a batch, by payee then id (the export's order).
pub async fn in_batch(conn: &mut AnyConnection, batch_id: &str) -> Result<Vec<Payment>> {
    let rows = sqlx::query("SELECT * FROM payments WHERE batch_id = $1 ORDER BY payee_id, id")
        .bind(batch_id)
        .fetch_all(conn)
        .await?;
    many(&rows)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub id: String,
    pub payee_group: PayeeGroup,
    pub program_id: Option<String>,
    pub due_from: Option<Date>,
    pub due_to: Option<Date>,
    pub status: BatchStatus,
    pub created_by: String,
    pub approved_by: Option<String>,
    pub approved_at: Option<Timestamp>,
    pub paid_reference: Option<String>,
    pub paid_on: Option<Date>,
    pub paid_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

fn batch_from_row(row: &sqlx::any::AnyRow) -> Result<Batch> {
    Ok(Batch {
        id: row.try_get("id")?,
        payee_group: enum_col(row, "payee_group")?,
        program_id: row.try_get("program_id")?,
        due_from: date_col(row, "due_from")?,
        due_to: date_col(row, "due_to")?,
        status: enum_col(row, "status")?,
        created_by: row.try_get("created_by")?,
        approved_by: row.try_get("approved_by")?,
        approved_at: time_col(row, "approved_at")?,
        paid_reference: row.try_get("paid_reference")?,
        paid_on: date_col(row, "paid_on")?,
        paid_at: time_col(row, "paid_at")?,
        created_at: time_col(row, "created_at")?,
        updated_at: time_col(row, "updated_at")?,
    })
}

/// What a new batch picks: due payments of one group, optionally of one program and due in a
/// date range.
pub struct BatchPick<'a> {
    pub payee_group: PayeeGroup,
    pub program_id: Option<&'a str>,
    pub due_from: Option<Date>,
    pub due_to: Option<Date>,
}

/// Creates a draft batch and moves every due payment it picks into it. A payment can be in
/// one batch only: the move is a guarded update, so two batches built at once share nothing.
pub async fn create_batch(
    conn: &mut AnyConnection,
    pick: &BatchPick<'_>,
    by: &str,
) -> Result<(Batch, Vec<Payment>)> {
    let at = now();
    let row = sqlx::query(
        "INSERT INTO payout_batches (id, payee_group, program_id, due_from, due_to, status, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 'draft', $6, $7, $7) RETURNING *",
    )
    .bind(vouch_domain::id::new_id("pob"))
    .bind(pick.payee_group.as_str())
    .bind(pick.program_id.map(str::to_string))
    .bind(date_text(pick.due_from))
    .bind(date_text(pick.due_to))
    .bind(by)
    .bind(&at)
    .fetch_one(&mut *conn)
    .await?;
    let batch = batch_from_row(&row)?;
    let mut sql = Sql::new("UPDATE payments SET status = 'in_batch', batch_id = ");
    sql.push_bind(batch.id.as_str())
        .push(", updated_at = ")
        .push_bind(at.as_str())
        .push(" WHERE status = 'due' AND payment_method ");
    match pick.payee_group {
        PayeeGroup::Payroll => sql.push("= 'payroll'"),
        PayeeGroup::Payables => sql.push("<> 'payroll'"),
    };
    if let Some(p) = pick.program_id {
        sql.push(" AND program_id = ").push_bind(p);
    }
    if let Some(from) = date_text(pick.due_from) {
        sql.push(" AND due_on >= ").push_bind(from);
    }
    if let Some(to) = date_text(pick.due_to) {
        sql.push(" AND due_on <= ").push_bind(to);
    }
    sql.execute(conn).await?;
    let payments = in_batch(conn, &batch.id).await?;
    Ok((batch, payments))
}

pub async fn get_batch(conn: &mut AnyConnection, id: &str) -> Result<Option<Batch>> {
    let row = sqlx::query("SELECT * FROM payout_batches WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(batch_from_row).transpose()
}

/// Approves a draft batch; `None` when it is not a draft.
pub async fn approve_batch(conn: &mut AnyConnection, id: &str, by: &str) -> Result<Option<Batch>> {
    let at = now();
    let row = sqlx::query(
        "UPDATE payout_batches SET status = 'approved', approved_by = $1, approved_at = $2, updated_at = $2
         WHERE id = $3 AND status = 'draft' RETURNING *",
    )
    .bind(by)
    .bind(&at)
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(batch_from_row).transpose()
}

/// Marks an approved batch paid; `None` when it is not approved (a draft, or paid already).
pub async fn mark_batch_paid(
    conn: &mut AnyConnection,
    id: &str,
    reference: &str,
    paid_on: Date,
) -> Result<Option<Batch>> {
    let at = now();
    let row = sqlx::query(
        "UPDATE payout_batches SET status = 'paid', paid_reference = $1, paid_on = $2, paid_at = $3, updated_at = $3
         WHERE id = $4 AND status = 'approved' RETURNING *",
    )
    .bind(reference)
    .bind(date_text(Some(paid_on)))
    .bind(&at)
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(batch_from_row).transpose()
}

/// Batches newest first, `limit + 1` rows.
pub async fn list_batches(
    conn: &mut AnyConnection,
    status: Option<BatchStatus>,
    starting_after: Option<&str>,
    limit: i64,
) -> Result<Vec<Batch>> {
    let mut list = NewestFirst::table("payout_batches");
    list.eq("status", status.map(BatchStatus::as_str));
    let rows = list.page(conn, starting_after, limit).await?;
    rows.iter().map(batch_from_row).collect()
}

/// A clawback of a paid payment whose sale was cancelled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentClawback {
    pub id: String,
    pub payment_id: String,
    pub amount: Money,
    pub reason: String,
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

fn clawback_from_row(row: &sqlx::any::AnyRow) -> Result<PaymentClawback> {
    Ok(PaymentClawback {
        id: row.try_get("id")?,
        payment_id: row.try_get("payment_id")?,
        amount: money_col(row, "amount", "currency")?,
        reason: row.try_get("reason")?,
        status: row.try_get("status")?,
        decided_by: row.try_get("decided_by")?,
        decided_at: time_col(row, "decided_at")?,
        created_at: time_col(row, "created_at")?,
    })
}

/// Opens a clawback for review (one per payment).
pub async fn open_clawback(
    conn: &mut AnyConnection,
    payment: &Payment,
    reason: &str,
) -> Result<PaymentClawback> {
    let row = sqlx::query(
        "INSERT INTO payment_clawbacks (id, payment_id, amount, currency, reason, status, created_at)
         VALUES ($1, $2, $3, $4, $5, 'open', $6) RETURNING *",
    )
    .bind(vouch_domain::id::new_id("pcb"))
    .bind(&payment.id)
    .bind(payment.amount.minor())
    .bind(payment.amount.currency().to_string())
    .bind(reason)
    .bind(now())
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| conflict(e, "payment_clawbacks", &["payment_id"]))?;
    clawback_from_row(&row)
}

pub async fn get_clawback(conn: &mut AnyConnection, id: &str) -> Result<Option<PaymentClawback>> {
    let row = sqlx::query("SELECT * FROM payment_clawbacks WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(clawback_from_row).transpose()
}

/// Records staff's decision on an open clawback (`recovered` or `waived`); `None` when it was
/// decided already.
pub async fn decide_clawback(
    conn: &mut AnyConnection,
    id: &str,
    decision: &str,
    by: &str,
) -> Result<Option<PaymentClawback>> {
    let row = sqlx::query(
        "UPDATE payment_clawbacks SET status = $1, decided_by = $2, decided_at = $3
         WHERE id = $4 AND status = 'open' RETURNING *",
    )
    .bind(decision)
    .bind(by)
    .bind(now())
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(clawback_from_row).transpose()
}

/// Clawbacks newest first, optionally in one status, `limit + 1` rows.
pub async fn list_clawbacks(
    conn: &mut AnyConnection,
    status: Option<&str>,
    starting_after: Option<&str>,
    limit: i64,
) -> Result<Vec<PaymentClawback>> {
    let mut list = NewestFirst::table("payment_clawbacks");
    list.eq("status", status);
    let rows = list.page(conn, starting_after, limit).await?;
    rows.iter().map(clawback_from_row).collect()
}

/// The clawbacks opened on these payments.
pub async fn clawbacks_for_sale(
    conn: &mut AnyConnection,
    sale_id: &str,
) -> Result<Vec<PaymentClawback>> {
    let rows = sqlx::query(
        "SELECT c.* FROM payment_clawbacks c JOIN payments p ON p.id = c.payment_id WHERE p.sale_id = $1 ORDER BY c.id",
    )
    .bind(sale_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(clawback_from_row).collect()
}

/// Records what a paid vendor payment cost.
pub async fn record_expenditure(
    conn: &mut AnyConnection,
    payment: &Payment,
    spent_on: Date,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO expenditures (id, payment_id, vendor_id, amount, currency, spent_on, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(vouch_domain::id::new_id("exp"))
    .bind(&payment.id)
    .bind(&payment.payee_id)
    .bind(payment.amount.minor())
    .bind(payment.amount.currency().to_string())
    .bind(date_text(Some(spent_on)))
    .bind(now())
    .execute(conn)
    .await?;
    Ok(())
}

/// Total expenditure recorded for a vendor, per currency.
pub async fn expenditure_of(conn: &mut AnyConnection, vendor_id: &str) -> Result<Vec<Money>> {
    let rows = sqlx::query(
        "SELECT currency, CAST(SUM(amount) AS BIGINT) AS amount FROM expenditures WHERE vendor_id = $1 GROUP BY currency ORDER BY currency",
    )
    .bind(vendor_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| money_col(r, "amount", "currency"))
        .collect()
}
