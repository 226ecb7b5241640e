//! Reward rules, rewards, coupon pools and clawbacks. Every change is audited and emitted in
//! the caller's transaction; status changes are guarded on the status the caller read, so two
//! concurrent decisions (two staff delivering the same reward) cannot both apply.

use crate::query::{NewestFirst, Order, SortColumn};
use crate::{Backend, Result, StoreError, flag, now};
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use vouch_domain::Timestamp;
use vouch_domain::money::Money;
use vouch_domain::reward::{
    Delivery, Recipient, RewardKind, RewardStatus, RuleDraft, Sides, Trigger, transition,
};

fn parse<T: std::str::FromStr<Err = String>>(row: &sqlx::any::AnyRow, col: &str) -> Result<T> {
    let raw: String = row.try_get(col)?;
    raw.parse().map_err(StoreError::Corrupt)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RewardRule {
    pub id: String,
    pub program_id: String,
    pub name: String,
    pub trigger: Trigger,
    pub threshold: i64,
    pub sides: Sides,
    pub kind: RewardKind,
    /// Minor units of the program's currency.
    pub amount: Option<i64>,
    pub description: Option<String>,
    pub friend_amount: Option<i64>,
    pub friend_description: Option<String>,
    pub max_per_participant: Option<i64>,
    pub delivery: Delivery,
    pub active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

fn rule_from_row(row: &sqlx::any::AnyRow) -> Result<RewardRule> {
    Ok(RewardRule {
        id: row.try_get("id")?,
        program_id: row.try_get("program_id")?,
        name: row.try_get("name")?,
        trigger: parse(row, "trigger_kind")?,
        threshold: row.try_get("threshold")?,
        sides: parse(row, "sides")?,
        kind: parse(row, "kind")?,
        amount: row.try_get("amount")?,
        description: row.try_get("description")?,
        friend_amount: row.try_get("friend_amount")?,
        friend_description: row.try_get("friend_description")?,
        max_per_participant: row.try_get("max_per_participant")?,
        delivery: parse(row, "delivery")?,
        active: row.try_get::<i64, _>("active")? != 0,
        created_at: crate::time_col(row, "created_at")?,
        updated_at: crate::time_col(row, "updated_at")?,
    })
}

pub async fn create_rule(
    conn: &mut AnyConnection,
    program_id: &str,
    d: &RuleDraft,
) -> Result<RewardRule> {
    let at = now();
    let row = sqlx::query(
        "INSERT INTO reward_rules (id, program_id, name, trigger_kind, threshold, sides, kind, amount, description, friend_amount, friend_description, max_per_participant, delivery, active, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1, $14, $14) RETURNING *",
    )
    .bind(vouch_domain::id::new_id("rwr"))
    .bind(program_id)
    .bind(&d.name)
    .bind(d.trigger.as_str())
    .bind(d.threshold)
    .bind(d.sides.as_str())
    .bind(d.kind.as_str())
    .bind(d.amount.map(Money::minor))
    .bind(d.description.clone())
    .bind(d.friend_amount.map(Money::minor))
    .bind(d.friend_description.clone())
    .bind(d.max_per_participant)
    .bind(d.delivery.as_str())
    .bind(&at)
    .fetch_one(&mut *conn)
    .await?;
    rule_from_row(&row)
}

/// Turns a rule on or off; an inactive rule earns nothing new, and what it earned stays.
pub async fn set_rule_active(
    conn: &mut AnyConnection,
    before: &RewardRule,
    active: bool,
) -> Result<RewardRule> {
    let row = sqlx::query(
        "UPDATE reward_rules SET active = $1, updated_at = $2 WHERE id = $3 RETURNING *",
    )
    .bind(flag(active))
    .bind(now())
    .bind(&before.id)
    .fetch_one(&mut *conn)
    .await?;
    rule_from_row(&row)
}

pub async fn get_rule(conn: &mut AnyConnection, id: &str) -> Result<Option<RewardRule>> {
    let row = sqlx::query("SELECT * FROM reward_rules WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(rule_from_row).transpose()
}

/// A program's rules, oldest first (there are few).
pub async fn rules(
    conn: &mut AnyConnection,
    program_id: &str,
    only_active: bool,
) -> Result<Vec<RewardRule>> {
    let sql = if only_active {
        "SELECT * FROM reward_rules WHERE program_id = $1 AND active = 1 ORDER BY id"
    } else {
        "SELECT * FROM reward_rules WHERE program_id = $1 ORDER BY id"
    };
    let rows = sqlx::query(sql).bind(program_id).fetch_all(conn).await?;
    rows.iter().map(rule_from_row).collect()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reward {
    pub id: String,
    pub program_id: String,
    pub rule_id: String,
    /// Who receives it.
    pub participant_id: String,
    pub recipient: Recipient,
    /// The count of won referrals at which it was earned (1 for a friend's reward).
    pub step: i64,
    /// The won referral that reached the step.
    pub referral_id: Option<String>,
    pub kind: RewardKind,
    /// Minor units of `currency`.
    pub amount: Option<i64>,
    pub currency: String,
    pub description: Option<String>,
    /// The code handed out from the rule's pool (coupon rewards, once delivered).
    pub coupon_code: Option<String>,
    pub status: RewardStatus,
    /// End of the program's hold period, while `pending`.
    pub hold_until: Option<Timestamp>,
    pub earned_at: Option<Timestamp>,
    pub delivered_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub revoke_reason: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

pub(crate) fn reward_from_row(row: &sqlx::any::AnyRow) -> Result<Reward> {
    Ok(Reward {
        id: row.try_get("id")?,
        program_id: row.try_get("program_id")?,
        rule_id: row.try_get("rule_id")?,
        participant_id: row.try_get("participant_id")?,
        recipient: parse(row, "recipient")?,
        step: row.try_get("step")?,
        referral_id: row.try_get("referral_id")?,
        kind: parse(row, "kind")?,
        amount: row.try_get("amount")?,
        currency: row.try_get("currency")?,
        description: row.try_get("description")?,
        coupon_code: row.try_get("coupon_code")?,
        status: parse(row, "status")?,
        hold_until: crate::time_col(row, "hold_until")?,
        earned_at: crate::time_col(row, "earned_at")?,
        delivered_at: crate::time_col(row, "delivered_at")?,
        revoked_at: crate::time_col(row, "revoked_at")?,
        revoke_reason: row.try_get("revoke_reason")?,
        created_at: crate::time_col(row, "created_at")?,
        updated_at: crate::time_col(row, "updated_at")?,
    })
}

/// A reward about to be created.
#[derive(Debug, Clone)]
pub struct NewReward<'a> {
    pub rule: &'a RewardRule,
    pub participant_id: &'a str,
    pub recipient: Recipient,
    pub step: i64,
    pub referral_id: Option<&'a str>,
    pub currency: &'a str,
    /// `None` when the program holds no rewards: earned at once.
    pub hold_until: Option<Timestamp>,
}

/// Creates the reward for a step unless a live one exists (the unique step key, which ignores
/// revoked rewards, makes a repeated or concurrent computation harmless). Returns the new
/// reward, or `None` if it was there.
pub async fn create(conn: &mut AnyConnection, n: &NewReward<'_>) -> Result<Option<Reward>> {
    let at = now();
    let (amount, description) = match n.recipient {
        Recipient::Referrer => (n.rule.amount, n.rule.description.clone()),
        Recipient::Friend => (n.rule.friend_amount, n.rule.friend_description.clone()),
    };
    let status = if n.hold_until.is_some() {
        RewardStatus::Pending
    } else {
        RewardStatus::Earned
    };
    let row = sqlx::query(
        "INSERT INTO rewards (id, program_id, rule_id, participant_id, recipient, step, referral_id, kind, amount, currency, description, status, hold_until, earned_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)
         ON CONFLICT (rule_id, participant_id, recipient, step) WHERE status <> 'revoked' DO NOTHING RETURNING *",
    )
    .bind(vouch_domain::id::new_id("rwd"))
    .bind(&n.rule.program_id)
    .bind(&n.rule.id)
    .bind(n.participant_id)
    .bind(n.recipient.as_str())
    .bind(n.step)
    .bind(n.referral_id.map(str::to_string))
    .bind(n.rule.kind.as_str())
    .bind(amount)
    .bind(n.currency)
    .bind(description)
    .bind(status.as_str())
    .bind(n.hold_until.map(|t| t.to_string()))
    .bind((status == RewardStatus::Earned).then(|| at.clone()))
    .bind(&at)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    reward_from_row(&row).map(Some)
}

/// What a status change also records.
#[derive(Debug, Clone, Default)]
pub struct Change<'a> {
    pub reason: Option<&'a str>,
    pub coupon_code: Option<&'a str>,
}

/// Moves a reward to `to`, guarded on the status the caller read.
pub async fn set_status(
    conn: &mut AnyConnection,
    before: &Reward,
    to: RewardStatus,
    change: Change<'_>,
) -> Result<Reward> {
    transition(before.status, to).map_err(|message| StoreError::WrongState {
        code: "invalid_transition",
        message,
    })?;
    let at = now();
    let stamp = match to {
        RewardStatus::Earned => "earned_at = $2,",
        RewardStatus::Delivered => "delivered_at = $2,",
        RewardStatus::Revoked => "revoked_at = $2,",
        RewardStatus::Pending => "",
    };
    let sql = format!(
        "UPDATE rewards SET status = $1, {stamp} updated_at = $2, revoke_reason = COALESCE($3, revoke_reason), coupon_code = COALESCE($4, coupon_code)
         WHERE id = $5 AND status = $6 RETURNING *"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(to.as_str())
        .bind(&at)
        .bind(change.reason.map(str::to_string))
        .bind(change.coupon_code.map(str::to_string))
        .bind(&before.id)
        .bind(before.status.as_str())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::WrongState {
            code: "invalid_transition",
            message: "the reward changed meanwhile; reload it".into(),
        })?;
    reward_from_row(&row)
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Reward>> {
    let row = sqlx::query("SELECT * FROM rewards WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(reward_from_row).transpose()
}

/// The rewards of one rule held by one participant as referrer, by step.
pub async fn of_rule_and_referrer(
    conn: &mut AnyConnection,
    rule_id: &str,
    participant_id: &str,
) -> Result<Vec<Reward>> {
    let rows = sqlx::query(
        "SELECT * FROM rewards WHERE rule_id = $1 AND participant_id = $2 AND recipient = 'referrer' AND status <> 'revoked' ORDER BY step",
    )
    .bind(rule_id)
    .bind(participant_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(reward_from_row).collect()
}

/// The steps of `rule` a participant already has as `recipient` (revoked rewards aside): one
/// read, so a win tries to create only the steps that are missing rather than every step
/// reached so far (a referrer with 500 wins of an "every 5" rule would otherwise try 100).
pub async fn live_steps(
    conn: &mut AnyConnection,
    rule_id: &str,
    participant_id: &str,
    recipient: Recipient,
) -> Result<Vec<i64>> {
    let rows = sqlx::query(
        "SELECT step FROM rewards WHERE rule_id = $1 AND participant_id = $2 AND recipient = $3 AND status <> 'revoked'",
    )
    .bind(rule_id)
    .bind(participant_id)
    .bind(recipient.as_str())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| r.try_get::<i64, _>("step").map_err(Into::into))
        .collect()
}

/// Friends' rewards that a referral earned.
pub async fn friend_rewards_of_referral(
    conn: &mut AnyConnection,
    referral_id: &str,
) -> Result<Vec<Reward>> {
    let rows = sqlx::query(
        "SELECT * FROM rewards WHERE referral_id = $1 AND recipient = 'friend' ORDER BY id",
    )
    .bind(referral_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(reward_from_row).collect()
}

/// The columns a program's reward list sorts by.
pub const SORTS: &[SortColumn] = &[
    SortColumn::number("amount", "COALESCE(amount, -1)"),
    SortColumn::text("recipient", "recipient"),
    SortColumn::text("status", "status"),
    SortColumn::text("created_at", "created_at"),
];

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<RewardStatus>,
    pub participant_id: Option<String>,
    /// Newest first unless a column of [`SORTS`] is given.
    pub order: Order,
}

/// A program's rewards in the filter's order (newest first by default); `limit + 1`.
pub async fn list(
    conn: &mut AnyConnection,
    program_id: &str,
    filter: &Filter,
    starting_after: Option<&str>,
    limit: i64,
) -> Result<Vec<Reward>> {
    let rows = listing(program_id, filter)
        .ordered(filter.order)
        .page(conn, starting_after, limit)
        .await?;
    rows.iter().map(reward_from_row).collect()
}

/// How many rewards [`list`] finds in all.
pub async fn count(conn: &mut AnyConnection, program_id: &str, filter: &Filter) -> Result<i64> {
    listing(program_id, filter).count(conn).await
}

fn listing(program_id: &str, filter: &Filter) -> NewestFirst {
    let mut list = NewestFirst::table("rewards");
    list.eq("program_id", Some(program_id))
        .eq("status", filter.status.map(|s| s.as_str()))
        .eq("participant_id", filter.participant_id.as_ref());
    list
}

/// Pending rewards whose hold ended by `at`, oldest first.
pub async fn hold_ended(
    conn: &mut AnyConnection,
    at: Timestamp,
    limit: i64,
) -> Result<Vec<Reward>> {
    // The limit is written into the text: see `Sql::push_limit`.
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT * FROM rewards WHERE status = 'pending' AND hold_until <= $1 ORDER BY hold_until LIMIT {limit}"
    )))
    .bind(at.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter().map(reward_from_row).collect()
}

/// Adds codes to a coupon rule's pool; codes already in it are skipped. Returns how many were
/// added.
pub async fn add_coupons(
    conn: &mut AnyConnection,
    rule: &RewardRule,
    codes: &[String],
) -> Result<i64> {
    let mut added = 0;
    let at = now();
    for code in codes {
        let done = sqlx::query(
            "INSERT INTO coupon_codes (id, rule_id, code, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (rule_id, code) DO NOTHING",
        )
        .bind(vouch_domain::id::new_id("cpn"))
        .bind(&rule.id)
        .bind(code)
        .bind(&at)
        .execute(&mut *conn)
        .await?;
        added += i64::try_from(done.rows_affected()).unwrap_or(0);
    }
    Ok(added)
}

/// Codes of the pool not handed out yet.
pub async fn coupons_left(conn: &mut AnyConnection, rule_id: &str) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM coupon_codes WHERE rule_id = $1 AND reward_id IS NULL",
    )
    .bind(rule_id)
    .fetch_one(conn)
    .await?)
}

/// Hands the next free code of the pool to a reward. Two deliveries at once never get the same
/// code: PostgreSQL skips a row another transaction holds; SQLite has one writer at a time.
pub async fn take_coupon(
    conn: &mut AnyConnection,
    backend: Backend,
    rule_id: &str,
    reward_id: &str,
) -> Result<Option<String>> {
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "SELECT id, code FROM coupon_codes WHERE rule_id = $1 AND reward_id IS NULL ORDER BY id LIMIT 1{lock}"
    );
    let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(rule_id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let id: String = row.try_get("id")?;
    let code: String = row.try_get("code")?;
    sqlx::query("UPDATE coupon_codes SET reward_id = $1 WHERE id = $2 AND reward_id IS NULL")
        .bind(reward_id)
        .bind(&id)
        .execute(conn)
        .await?;
    Ok(Some(code))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Clawback {
    pub id: String,
    pub reward_id: String,
    pub program_id: String,
    pub reason: String,
    /// `open`, `recovered` or `waived`.
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

fn clawback_from_row(row: &sqlx::any::AnyRow) -> Result<Clawback> {
    Ok(Clawback {
        id: row.try_get("id")?,
        reward_id: row.try_get("reward_id")?,
        program_id: row.try_get("program_id")?,
        reason: row.try_get("reason")?,
        status: row.try_get("status")?,
        decided_by: row.try_get("decided_by")?,
        decided_at: crate::time_col(row, "decided_at")?,
        created_at: crate::time_col(row, "created_at")?,
    })
}

/// Opens a clawback for a delivered reward whose basis went away (once per reward).
pub async fn open_clawback(
    conn: &mut AnyConnection,
    reward: &Reward,
    reason: &str,
) -> Result<Option<Clawback>> {
    let row = sqlx::query(
        "INSERT INTO clawbacks (id, reward_id, program_id, reason, status, created_at) VALUES ($1, $2, $3, $4, 'open', $5)
         ON CONFLICT (reward_id) DO NOTHING RETURNING *",
    )
    .bind(vouch_domain::id::new_id("clw"))
    .bind(&reward.id)
    .bind(&reward.program_id)
    .bind(reason)
    .bind(now())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    clawback_from_row(&row).map(Some)
}

pub async fn get_clawback(conn: &mut AnyConnection, id: &str) -> Result<Option<Clawback>> {
    let row = sqlx::query("SELECT * FROM clawbacks WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(clawback_from_row).transpose()
}

/// A program's clawbacks in one status, newest first.
pub async fn clawbacks(
    conn: &mut AnyConnection,
    program_id: &str,
    status: &str,
) -> Result<Vec<Clawback>> {
    let rows = sqlx::query(
        "SELECT * FROM clawbacks WHERE program_id = $1 AND status = $2 ORDER BY id DESC LIMIT 500",
    )
    .bind(program_id)
    .bind(status)
    .fetch_all(conn)
    .await?;
    rows.iter().map(clawback_from_row).collect()
}

/// Records the decision on an open clawback: `recovered` or `waived`.
pub async fn decide_clawback(
    conn: &mut AnyConnection,
    decided_by: &str,
    before: &Clawback,
    decision: &str,
) -> Result<Clawback> {
    let row = sqlx::query(
        "UPDATE clawbacks SET status = $1, decided_by = $2, decided_at = $3 WHERE id = $4 AND status = 'open' RETURNING *",
    )
    .bind(decision)
    .bind(decided_by)
    .bind(now())
    .bind(&before.id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::WrongState {
        code: "already_decided",
        message: "the clawback is already decided".into(),
    })?;
    clawback_from_row(&row)
}
