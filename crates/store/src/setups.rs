//! Referral-program setups: requested by staff, decided by the Management Team. The approval
//! procedure (seven changes in one transaction) is `vouch_app::setups::approve_setup`.

use crate::query::NewestFirst;
use crate::{Result, StoreError, now};
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use vouch_domain::Timestamp;
use vouch_domain::setup::{Beneficiary, Decision, SetupPlan, SetupStatus, decide};

#[derive(Debug, Clone, Serialize)]
pub struct Setup {
    pub id: String,
    pub status: SetupStatus,
    pub plan: SetupPlan,
    pub beneficiary_id: Option<i64>,
    pub super_customer_id: Option<i64>,
    pub requested_by: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub decision_note: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<Setup> {
    let status: String = row.try_get("status")?;
    let plan: String = row.try_get("plan")?;
    Ok(Setup {
        id: row.try_get("id")?,
        status: status.parse().map_err(StoreError::Corrupt)?,
        plan: serde_json::from_str(&plan).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        beneficiary_id: row.try_get("beneficiary_id")?,
        super_customer_id: row.try_get("super_customer_id")?,
        requested_by: row.try_get("requested_by")?,
        decided_by: row.try_get("decided_by")?,
        decided_at: crate::time_col(row, "decided_at")?,
        decision_note: row.try_get("decision_note")?,
        created_at: crate::time_col(row, "created_at")?,
        updated_at: crate::time_col(row, "updated_at")?,
    })
}

/// Records a request by `requested_by` (a staff label). The plan has been validated by the
/// caller.
pub async fn create(
    conn: &mut AnyConnection,
    requested_by: &str,
    plan: &SetupPlan,
) -> Result<Setup> {
    let beneficiary_id = match plan.beneficiary {
        Beneficiary::Existing { account_id } => Some(account_id),
        Beneficiary::New { .. } => None,
    };
    let plan_json = serde_json::to_string(plan).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let row = sqlx::query(
        "INSERT INTO referral_setups (id, status, plan, beneficiary_id, requested_by, created_at, updated_at)
         VALUES ($1, 'requested', $2, $3, $4, $5, $5) RETURNING *",
    )
    .bind(vouch_domain::id::new_id("rps"))
    .bind(plan_json)
    .bind(beneficiary_id)
    .bind(requested_by)
    .bind(now())
    .fetch_one(&mut *conn)
    .await?;
    from_row(&row)
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Setup>> {
    let row = sqlx::query("SELECT * FROM referral_setups WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Newest first; `limit + 1` rows.
pub async fn list(
    conn: &mut AnyConnection,
    status: Option<SetupStatus>,
    starting_after: Option<&str>,
    limit: i64,
) -> Result<Vec<Setup>> {
    let rows = NewestFirst::table("referral_setups")
        .eq("status", status.map(|s| s.as_str()))
        .page(conn, starting_after, limit)
        .await?;
    rows.iter().map(from_row).collect()
}

/// Marks the decision, refusing if another decision got there first; returns the setup as
/// decided.
pub async fn mark_decided(
    conn: &mut AnyConnection,
    decided_by: &str,
    setup: &Setup,
    decision: Decision,
    note: Option<&str>,
) -> Result<Setup> {
    let status = decide(setup.status, decision).map_err(|message| StoreError::WrongState {
        code: "already_decided",
        message,
    })?;
    let changed = sqlx::query(
        "UPDATE referral_setups SET status = $1, decided_by = $2, decided_at = $3, decision_note = $4, updated_at = $3
         WHERE id = $5 AND status = 'requested'",
    )
    .bind(status.as_str())
    .bind(decided_by)
    .bind(now())
    .bind(note)
    .bind(&setup.id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if changed != 1 {
        return Err(StoreError::WrongState {
            code: "already_decided",
            message: "this setup was decided by someone else in the meantime".into(),
        });
    }
    get(conn, &setup.id).await?.ok_or(StoreError::NotFound)
}

/// Records what an approval created.
pub async fn set_accounts(
    conn: &mut AnyConnection,
    setup_id: &str,
    beneficiary_id: i64,
    super_customer_id: i64,
) -> Result<Setup> {
    sqlx::query(
        "UPDATE referral_setups SET beneficiary_id = $1, super_customer_id = $2 WHERE id = $3",
    )
    .bind(beneficiary_id)
    .bind(super_customer_id)
    .bind(setup_id)
    .execute(&mut *conn)
    .await?;
    get(conn, setup_id).await?.ok_or(StoreError::NotFound)
}

/// The beneficiary of the newest approved setup that made this super customer, if any.
pub async fn beneficiary_of(
    conn: &mut AnyConnection,
    super_customer_id: i64,
) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT beneficiary_id FROM referral_setups
         WHERE super_customer_id = $1 AND status = 'approved' AND beneficiary_id IS NOT NULL
         ORDER BY id DESC LIMIT 1",
    )
    .bind(super_customer_id)
    .fetch_optional(conn)
    .await?)
}
