//! Referral-program setups: requested by staff, decided by the Management Team. Approval runs
//! the seed's whole procedure in the caller's transaction.

use crate::accounts::{self, Account, Placement};
use crate::audit::{self, Origin};
use crate::events;
use crate::query::NewestFirst;
use crate::{Result, StoreError, now};
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use vouch_domain::Timestamp;
use vouch_domain::account::{AccountDraft, clone_fields};
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

impl Setup {
    fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
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

/// Records a request. The plan has been validated by the caller.
pub async fn create(conn: &mut AnyConnection, origin: &Origin, plan: &SetupPlan) -> Result<Setup> {
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
    .bind(origin.actor.label.clone())
    .bind(now())
    .fetch_one(&mut *conn)
    .await?;
    let setup = from_row(&row)?;
    audit::record(
        conn,
        origin,
        "referral_setup.requested",
        "referral_setup",
        Some(&setup.id),
        None,
        Some(&setup.to_json()),
    )
    .await?;
    events::emit(conn, "referral_setup.requested", &setup.to_json()).await?;
    Ok(setup)
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

/// The super customer a plan would create for `beneficiary`, checked field by field.
pub fn super_customer_draft(
    plan: &SetupPlan,
    beneficiary: &vouch_domain::account::AccountFields,
    email_domain: &str,
) -> Result<AccountDraft, vouch_domain::Validation> {
    clone_fields(beneficiary, email_domain, &plan.super_customer).parse()
}

/// What approval produced.
#[derive(Debug, Clone)]
pub struct Approved {
    pub setup: Setup,
    pub beneficiary: Account,
    pub super_customer: Account,
}

fn invalid(field: &str, v: vouch_domain::Validation) -> StoreError {
    let first = v.errors().first().cloned();
    StoreError::Invalid {
        field: first
            .as_ref()
            .map(|e| format!("{field}.{}", e.field))
            .unwrap_or_else(|| field.into()),
        message: first
            .map(|e| e.message)
            .unwrap_or_else(|| "is invalid".into()),
    }
}

/// Marks the decision, refusing if another decision got there first.
async fn mark_decided(
    conn: &mut AnyConnection,
    origin: &Origin,
    setup: &Setup,
    decision: Decision,
    note: Option<&str>,
) -> Result<SetupStatus> {
    let status = decide(setup.status, decision).map_err(|message| StoreError::WrongState {
        code: "already_decided",
        message,
    })?;
    let changed = sqlx::query(
        "UPDATE referral_setups SET status = $1, decided_by = $2, decided_at = $3, decision_note = $4, updated_at = $3
         WHERE id = $5 AND status = 'requested'",
    )
    .bind(status.as_str())
    .bind(origin.actor.label.clone())
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
    Ok(status)
}

/// Approves a requested setup and runs the procedure: create the beneficiary if it is new, clone
/// it into the referral super customer, designate that, open its registration link, exempt the
/// beneficiary from membership fees and nest it under the super customer. Each step is audited;
/// the caller commits them all together.
pub async fn approve(
    conn: &mut AnyConnection,
    origin: &Origin,
    setup: &Setup,
    email_domain: &str,
    note: Option<&str>,
) -> Result<Approved> {
    mark_decided(conn, origin, setup, Decision::Approve, note).await?;
    let beneficiary = match &setup.plan.beneficiary {
        Beneficiary::Existing { account_id } => accounts::get(conn, *account_id)
            .await?
            .ok_or_else(|| StoreError::Invalid {
                field: "beneficiary.account_id".into(),
                message: format!("account {account_id} no longer exists"),
            })?,
        Beneficiary::New { account } => {
            let draft = account
                .parse()
                .map_err(|v| invalid("beneficiary.account", v))?;
            accounts::create(
                conn,
                origin,
                "account.created",
                &draft,
                &Placement::default(),
            )
            .await
            .map_err(|e| prefix_conflict(e, "beneficiary.account"))?
        }
    };
    let draft = super_customer_draft(&setup.plan, &beneficiary.fields(), email_domain)
        .map_err(|v| invalid("super_customer", v))?;
    let super_customer = accounts::create(
        conn,
        origin,
        "account.cloned",
        &draft,
        &Placement::default(),
    )
    .await
    .map_err(|e| prefix_conflict(e, "super_customer"))?;
    let super_customer = accounts::set_super_customer(conn, origin, &super_customer, true).await?;
    let super_customer =
        accounts::set_registration_approved(conn, origin, &super_customer, true).await?;
    let mut exempt = beneficiary.fields();
    exempt.exempt_from_membership_fees = true;
    let exempt = exempt.parse().map_err(|v| invalid("beneficiary", v))?;
    let beneficiary = accounts::update(conn, origin, &beneficiary, &exempt).await?;
    let beneficiary =
        accounts::set_parent(conn, origin, &beneficiary, Some(super_customer.id)).await?;
    sqlx::query(
        "UPDATE referral_setups SET beneficiary_id = $1, super_customer_id = $2 WHERE id = $3",
    )
    .bind(beneficiary.id)
    .bind(super_customer.id)
    .bind(&setup.id)
    .execute(&mut *conn)
    .await?;
    let after = get(conn, &setup.id).await?.ok_or(StoreError::NotFound)?;
    audit::record(
        conn,
        origin,
        "referral_setup.approved",
        "referral_setup",
        Some(&setup.id),
        Some(&setup.to_json()),
        Some(&after.to_json()),
    )
    .await?;
    events::emit(conn, "referral_setup.approved", &after.to_json()).await?;
    Ok(Approved {
        setup: after,
        beneficiary,
        super_customer,
    })
}

pub async fn reject(
    conn: &mut AnyConnection,
    origin: &Origin,
    setup: &Setup,
    note: Option<&str>,
) -> Result<Setup> {
    mark_decided(conn, origin, setup, Decision::Reject, note).await?;
    let after = get(conn, &setup.id).await?.ok_or(StoreError::NotFound)?;
    audit::record(
        conn,
        origin,
        "referral_setup.rejected",
        "referral_setup",
        Some(&setup.id),
        Some(&setup.to_json()),
        Some(&after.to_json()),
    )
    .await?;
    events::emit(conn, "referral_setup.rejected", &after.to_json()).await?;
    Ok(after)
}

fn prefix_conflict(e: StoreError, prefix: &str) -> StoreError {
    match e {
        StoreError::Conflict { field } => StoreError::Conflict {
            field: format!("{prefix}.{field}"),
        },
        StoreError::Invalid { field, message } => StoreError::Invalid {
            field: format!("{prefix}.{field}"),
            message,
        },
        other => other,
    }
}
