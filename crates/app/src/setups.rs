//! Referral-program setups (seed 000): staff request one, the Management Team approves it in one
//! step (which creates the super customer and nests the beneficiary) or rejects it.

use crate::{AppError, AppResult, Ctx, commit};
use serde::Serialize;
use vouch_domain::FieldError;
use vouch_domain::account::{AccountFields, clone_fields, registration_link};
use vouch_domain::setup::{Beneficiary, SetupPlan};
use vouch_store::accounts::{self};
use vouch_store::audit::Origin;
use vouch_store::setups::{self, Setup};

/// A setup as the API and console show it: the request plus what approval will create.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SetupView {
    #[serde(flatten)]
    pub setup: crate::resources::Setup,
    /// The super customer's fields by the naming convention with the requested overrides.
    pub super_customer_preview: Option<AccountFields>,
    /// Present once approved.
    pub registration_link: Option<String>,
}

pub async fn setup_view(ctx: &Ctx, setup: Setup) -> AppResult<SetupView> {
    let beneficiary = match &setup.plan.beneficiary {
        Beneficiary::Existing { account_id } => {
            let id = setup.beneficiary_id.unwrap_or(*account_id);
            let mut conn = ctx.store.conn().await?;
            accounts::get(&mut conn, id).await?.map(|a| a.fields())
        }
        Beneficiary::New { account } => Some(account.as_ref().clone()),
    };
    let super_customer_preview = beneficiary.map(|b| {
        clone_fields(
            &b,
            &ctx.settings.clone_email_domain,
            &setup.plan.super_customer,
        )
    });
    let registration_link = setup
        .super_customer_id
        .map(|id| registration_link(&ctx.settings.base_url, id));
    Ok(SetupView {
        setup: setup.into(),
        super_customer_preview,
        registration_link,
    })
}

/// Validates a plan completely before it is stored, so the approver is never the first to
/// learn that it cannot work.
pub async fn request_setup(ctx: &Ctx, origin: &Origin, plan: SetupPlan) -> AppResult<Setup> {
    let mut errors: Vec<FieldError> = Vec::new();
    let mut conn = ctx.store.conn().await?;
    let beneficiary = match &plan.beneficiary {
        Beneficiary::Existing { account_id } => {
            match accounts::get(&mut conn, *account_id).await? {
                Some(a) => Some(a.fields()),
                None => {
                    errors.push(FieldError {
                        field: "beneficiary_id".into(),
                        message: format!("account {account_id} does not exist"),
                    });
                    None
                }
            }
        }
        Beneficiary::New { account } => match account.parse() {
            Ok(draft) => {
                taken(
                    &mut conn,
                    &draft.email,
                    &draft.code,
                    "beneficiary",
                    &mut errors,
                )
                .await?;
                Some(account.as_ref().clone())
            }
            Err(v) => {
                errors.extend(v.errors().iter().map(|e| FieldError {
                    field: format!("beneficiary.{}", e.field),
                    message: e.message.clone(),
                }));
                None
            }
        },
    };
    if let Some(b) = beneficiary {
        match setups::super_customer_draft(&plan, &b, &ctx.settings.clone_email_domain) {
            Ok(draft) => {
                taken(
                    &mut conn,
                    &draft.email,
                    &draft.code,
                    "super_customer",
                    &mut errors,
                )
                .await?
            }
            Err(v) => errors.extend(v.errors().iter().map(|e| FieldError {
                field: format!("super_customer.{}", e.field),
                message: e.message.clone(),
            })),
        }
    }
    drop(conn);
    if !errors.is_empty() {
        return Err(AppError::invalid(errors));
    }
    let mut tx = ctx.store.begin().await?;
    let setup = setups::create(&mut tx, origin, &plan).await?;
    commit(tx).await?;
    Ok(setup)
}

async fn taken(
    conn: &mut vouch_store::Conn,
    email: &str,
    code: &str,
    prefix: &str,
    errors: &mut Vec<FieldError>,
) -> AppResult<()> {
    if accounts::by_email(conn, email).await?.is_some() {
        errors.push(FieldError {
            field: format!("{prefix}.email"),
            message: format!("{email} is already used by another account"),
        });
    }
    if accounts::code_taken(conn, code).await? {
        errors.push(FieldError {
            field: format!("{prefix}.code"),
            message: format!("{code} is already used by another account"),
        });
    }
    Ok(())
}

pub async fn get_setup(ctx: &Ctx, id: &str) -> AppResult<Setup> {
    let mut conn = ctx.store.conn().await?;
    setups::get(&mut conn, id)
        .await?
        .ok_or_else(|| AppError::not_found("referral setup"))
}

pub async fn approve_setup(
    ctx: &Ctx,
    origin: &Origin,
    id: &str,
    note: Option<&str>,
) -> AppResult<setups::Approved> {
    let mut tx = ctx.store.begin().await?;
    let setup = setups::get(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("referral setup"))?;
    let approved = setups::approve(
        &mut tx,
        origin,
        &setup,
        &ctx.settings.clone_email_domain,
        note,
    )
    .await?;
    commit(tx).await?;
    Ok(approved)
}

pub async fn reject_setup(
    ctx: &Ctx,
    origin: &Origin,
    id: &str,
    note: Option<&str>,
) -> AppResult<Setup> {
    let mut tx = ctx.store.begin().await?;
    let setup = setups::get(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("referral setup"))?;
    let rejected = setups::reject(&mut tx, origin, &setup, note).await?;
    commit(tx).await?;
    Ok(rejected)
}
