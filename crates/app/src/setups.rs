//! Referral-program setups (seed 000): staff request one, the Management Team approves it in one
//! step (which creates the super customer and nests the beneficiary) or rejects it.

use crate::{AppError, AppResult, Ctx, commit, record};
use serde::Serialize;
use vouch_domain::FieldError;
use vouch_domain::account::{AccountDraft, AccountFields, clone_fields, registration_link};
use vouch_domain::setup::{Beneficiary, Decision, SetupPlan, SetupStatus};
use vouch_store::accounts::{self, Account, Placement};
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
        match super_customer_draft(&plan, &b, &ctx.settings.clone_email_domain) {
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
    let setup = setups::create(&mut tx, &origin.actor.label, &plan).await?;
    record::change(
        &mut tx,
        origin,
        "referral_setup.requested",
        None,
        &setup,
        &["referral_setup.requested"],
    );
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

/// Newest first, `limit + 1` rows at most: the extra row tells the caller another page follows.
pub async fn list_setups(
    ctx: &Ctx,
    status: Option<SetupStatus>,
    starting_after: Option<&str>,
    limit: i64,
) -> AppResult<Vec<Setup>> {
    let mut conn = ctx.store.conn().await?;
    Ok(setups::list(&mut conn, status, starting_after, limit).await?)
}

/// What approval produced.
#[derive(Debug, Clone)]
pub struct Approved {
    pub setup: Setup,
    pub beneficiary: Account,
    pub super_customer: Account,
}

/// The super customer a plan would create for `beneficiary`, checked field by field.
fn super_customer_draft(
    plan: &SetupPlan,
    beneficiary: &AccountFields,
    email_domain: &str,
) -> Result<AccountDraft, vouch_domain::Validation> {
    clone_fields(beneficiary, email_domain, &plan.super_customer).parse()
}

/// Approves a requested setup and runs the seed's procedure in one transaction: create the
/// beneficiary if it is new, clone it into the referral super customer, designate that, open
/// its registration link, exempt the beneficiary from membership fees and nest it under the
/// super customer. Each step is audited and announced; a failure anywhere changes nothing.
pub async fn approve_setup(
    ctx: &Ctx,
    origin: &Origin,
    id: &str,
    note: Option<&str>,
) -> AppResult<Approved> {
    let mut tx = ctx.store.begin().await?;
    let setup = setups::get(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("referral setup"))?;
    setups::mark_decided(
        &mut tx,
        &origin.actor.label,
        &setup,
        Decision::Approve,
        note,
    )
    .await?;
    let beneficiary = match &setup.plan.beneficiary {
        Beneficiary::Existing { account_id } => {
            accounts::get(&mut tx, *account_id).await?.ok_or_else(|| {
                AppError::field(
                    "beneficiary.account_id",
                    format!("account {account_id} no longer exists"),
                )
            })?
        }
        Beneficiary::New { account } => {
            let draft = account
                .parse()
                .map_err(|v| AppError::from(v).under("beneficiary.account"))?;
            crate::accounts::insert(
                &mut tx,
                origin,
                "account.created",
                &draft,
                &Placement::default(),
            )
            .await
            .map_err(|e| e.under("beneficiary.account"))?
        }
    };
    let draft = super_customer_draft(
        &setup.plan,
        &beneficiary.fields(),
        &ctx.settings.clone_email_domain,
    )
    .map_err(|v| AppError::from(v).under("super_customer"))?;
    let super_customer = crate::accounts::insert(
        &mut tx,
        origin,
        "account.cloned",
        &draft,
        &Placement::default(),
    )
    .await
    .map_err(|e| e.under("super_customer"))?;
    let super_customer =
        crate::accounts::designate_in(&mut tx, origin, &super_customer, true).await?;
    let super_customer =
        crate::accounts::set_registration_in(&mut tx, origin, &super_customer, true).await?;
    let mut exempt = beneficiary.fields();
    exempt.exempt_from_membership_fees = true;
    let exempt = exempt
        .parse()
        .map_err(|v| AppError::from(v).under("beneficiary"))?;
    let beneficiary = crate::accounts::update_in(&mut tx, origin, &beneficiary, &exempt).await?;
    let beneficiary =
        crate::accounts::set_parent_in(&mut tx, origin, &beneficiary, Some(super_customer.id))
            .await?;
    let after = setups::set_accounts(&mut tx, &setup.id, beneficiary.id, super_customer.id).await?;
    record::change(
        &mut tx,
        origin,
        "referral_setup.approved",
        Some(&setup),
        &after,
        &["referral_setup.approved"],
    );
    commit(tx).await?;
    Ok(Approved {
        setup: after,
        beneficiary,
        super_customer,
    })
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
    let rejected =
        setups::mark_decided(&mut tx, &origin.actor.label, &setup, Decision::Reject, note).await?;
    record::change(
        &mut tx,
        origin,
        "referral_setup.rejected",
        Some(&setup),
        &rejected,
        &["referral_setup.rejected"],
    );
    commit(tx).await?;
    Ok(rejected)
}
