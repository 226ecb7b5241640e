//! Operations shared by the API and the console: each opens one transaction, lets the domain
//! and store decide, and commits the change with its audit entries. Handlers only parse input,
//! check access and shape output.

use crate::AppState;
use crate::auth::StaffSession;
use crate::error::{ApiError, ApiResult};
use serde::Serialize;
use vouch_domain::FieldError;
use vouch_domain::Validation;
use vouch_domain::account::{AccountFields, CloneOverrides, clone_fields, registration_link};
use vouch_domain::email::Email;
use vouch_domain::permission::{Role, Scope, may_manage_user};
use vouch_domain::setup::{Beneficiary, SetupPlan};
use vouch_store::accounts::{self, Account, Placement};
use vouch_store::api_keys::{self, ApiKey};
use vouch_store::audit::Origin;
use vouch_store::setups::{self, Setup};
use vouch_store::users::{self, StaffUser};
use vouch_store::{StoreError, Tx};

pub mod import;
pub mod participants;
pub mod programs;
pub mod rewards;
pub mod stats;
pub mod webhooks;

/// A change the record's current state does not allow (the store refuses it on `field`, the
/// stage or status) conflicts with that state: 409 `invalid_transition`.
fn conflict_on(field: &'static str) -> impl Fn(StoreError) -> ApiError {
    move |e| match e {
        StoreError::Invalid { field: f, message } if f == field => {
            ApiError::conflict("invalid_transition", message)
        }
        other => other.into(),
    }
}

async fn commit(tx: Tx) -> ApiResult<()> {
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// An account as the API and console show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccountView {
    #[serde(flatten)]
    pub account: Account,
    /// The link a super customer hands out; `null` for other accounts. It registers accounts
    /// only while `registration_approved` is true.
    pub registration_link: Option<String>,
}

impl AccountView {
    pub fn new(state: &AppState, account: Account) -> Self {
        let registration_link = account
            .is_super_customer
            .then(|| registration_link(&state.settings.base_url, account.id));
        Self {
            account,
            registration_link,
        }
    }
}

pub async fn get_account(state: &AppState, id: i64) -> ApiResult<Account> {
    let mut conn = state.store.conn().await?;
    accounts::get(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("account"))
}

async fn locked_account(tx: &mut Tx, id: i64) -> ApiResult<Account> {
    accounts::get(tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("account"))
}

pub async fn create_account(
    state: &AppState,
    origin: &Origin,
    fields: &AccountFields,
    parent_id: Option<i64>,
    is_super_customer: bool,
) -> ApiResult<Account> {
    let draft = fields.parse()?;
    let mut tx = state.store.begin().await?;
    let account = accounts::create(
        &mut tx,
        origin,
        "account.created",
        &draft,
        &Placement {
            parent_id,
            is_super_customer,
            ..Default::default()
        },
    )
    .await?;
    commit(tx).await?;
    Ok(account)
}

pub async fn update_account(
    state: &AppState,
    origin: &Origin,
    id: i64,
    fields: &AccountFields,
) -> ApiResult<Account> {
    let draft = fields.parse()?;
    let mut tx = state.store.begin().await?;
    let before = locked_account(&mut tx, id).await?;
    let after = accounts::update(&mut tx, origin, &before, &draft).await?;
    commit(tx).await?;
    Ok(after)
}

/// The fields the clone convention gives, before saving (for previews and forms).
pub fn clone_preview(
    state: &AppState,
    beneficiary: &Account,
    overrides: &CloneOverrides,
) -> AccountFields {
    clone_fields(
        &beneficiary.fields(),
        &state.settings.clone_email_domain,
        overrides,
    )
}

pub async fn clone_account(
    state: &AppState,
    origin: &Origin,
    id: i64,
    overrides: &CloneOverrides,
) -> ApiResult<Account> {
    let mut tx = state.store.begin().await?;
    let beneficiary = locked_account(&mut tx, id).await?;
    let draft = clone_preview(state, &beneficiary, overrides).parse()?;
    let clone = accounts::create(
        &mut tx,
        origin,
        "account.cloned",
        &draft,
        &Placement::default(),
    )
    .await?;
    commit(tx).await?;
    Ok(clone)
}

pub async fn set_parent(
    state: &AppState,
    origin: &Origin,
    id: i64,
    parent_id: Option<i64>,
) -> ApiResult<Account> {
    let mut tx = state.store.begin().await?;
    let before = locked_account(&mut tx, id).await?;
    let after = accounts::set_parent(&mut tx, origin, &before, parent_id).await?;
    commit(tx).await?;
    Ok(after)
}

pub async fn designate(state: &AppState, origin: &Origin, id: i64, on: bool) -> ApiResult<Account> {
    let mut tx = state.store.begin().await?;
    let before = locked_account(&mut tx, id).await?;
    let after = accounts::set_super_customer(&mut tx, origin, &before, on).await?;
    commit(tx).await?;
    Ok(after)
}

pub async fn set_registration(
    state: &AppState,
    origin: &Origin,
    id: i64,
    approved: bool,
) -> ApiResult<Account> {
    let mut tx = state.store.begin().await?;
    let before = locked_account(&mut tx, id).await?;
    let after = accounts::set_registration_approved(&mut tx, origin, &before, approved).await?;
    commit(tx).await?;
    Ok(after)
}

/// A setup as the API and console show it: the request plus what approval will create.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SetupView {
    #[serde(flatten)]
    pub setup: Setup,
    /// The super customer's fields by the naming convention with the requested overrides.
    pub super_customer_preview: Option<AccountFields>,
    /// Present once approved.
    pub registration_link: Option<String>,
}

pub async fn setup_view(state: &AppState, setup: Setup) -> ApiResult<SetupView> {
    let beneficiary = match &setup.plan.beneficiary {
        Beneficiary::Existing { account_id } => {
            let id = setup.beneficiary_id.unwrap_or(*account_id);
            let mut conn = state.store.conn().await?;
            accounts::get(&mut conn, id).await?.map(|a| a.fields())
        }
        Beneficiary::New { account } => Some(account.as_ref().clone()),
    };
    let super_customer_preview = beneficiary.map(|b| {
        clone_fields(
            &b,
            &state.settings.clone_email_domain,
            &setup.plan.super_customer,
        )
    });
    let registration_link = setup
        .super_customer_id
        .map(|id| registration_link(&state.settings.base_url, id));
    Ok(SetupView {
        setup,
        super_customer_preview,
        registration_link,
    })
}

/// Validates a plan completely before it is stored, so the approver is never the first to
/// learn that it cannot work.
pub async fn request_setup(state: &AppState, origin: &Origin, plan: SetupPlan) -> ApiResult<Setup> {
    let mut errors: Vec<FieldError> = Vec::new();
    let mut conn = state.store.conn().await?;
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
        match setups::super_customer_draft(&plan, &b, &state.settings.clone_email_domain) {
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
        return Err(ApiError::invalid(errors));
    }
    let mut tx = state.store.begin().await?;
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
) -> ApiResult<()> {
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

pub async fn get_setup(state: &AppState, id: &str) -> ApiResult<Setup> {
    let mut conn = state.store.conn().await?;
    setups::get(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("referral setup"))
}

pub async fn approve_setup(
    state: &AppState,
    origin: &Origin,
    id: &str,
    note: Option<&str>,
) -> ApiResult<setups::Approved> {
    let mut tx = state.store.begin().await?;
    let setup = setups::get(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("referral setup"))?;
    let approved = setups::approve(
        &mut tx,
        origin,
        &setup,
        &state.settings.clone_email_domain,
        note,
    )
    .await
    .map_err(decision_error)?;
    commit(tx).await?;
    Ok(approved)
}

pub async fn reject_setup(
    state: &AppState,
    origin: &Origin,
    id: &str,
    note: Option<&str>,
) -> ApiResult<Setup> {
    let mut tx = state.store.begin().await?;
    let setup = setups::get(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("referral setup"))?;
    let rejected = setups::reject(&mut tx, origin, &setup, note)
        .await
        .map_err(decision_error)?;
    commit(tx).await?;
    Ok(rejected)
}

/// A decision on a decided setup is a conflict with its current state, not bad input.
fn decision_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Invalid { field, message } if field == "status" => {
            ApiError::conflict("already_decided", message)
        }
        other => other.into(),
    }
}

/// Creates a staff user. `by` is the acting staff role (`None` for the CLI, which runs with the
/// machine owner's authority).
pub async fn create_user(
    state: &AppState,
    origin: &Origin,
    by: Option<Role>,
    email: &str,
    name: &str,
    role: &str,
    password: &str,
) -> ApiResult<StaffUser> {
    let mut v = Validation::new();
    let email = v.check("email", Email::parse(email));
    let name = v.check("name", vouch_domain::validation::optional_text(name, 200));
    let role = v.check("role", role.parse::<Role>());
    v.check("password", vouch_domain::password::check(password));
    v.into_result().map_err(ApiError::invalid)?;
    let (Some(email), Some(name), Some(role)) = (email, name, role) else {
        return Err(ApiError::internal());
    };
    if let Some(by) = by
        && !may_manage_user(by, None, role)
    {
        return Err(ApiError::forbidden(format!(
            "a {by} cannot create a user with the role {role}"
        )));
    }
    let hash = crate::auth::hash_password(password.to_string()).await?;
    let mut tx = state.store.begin().await?;
    let name = name.unwrap_or_else(|| {
        email
            .as_str()
            .split('@')
            .next()
            .unwrap_or_default()
            .to_string()
    });
    let user = users::create(
        &mut tx,
        origin,
        users::NewUser {
            email: email.as_str(),
            name: &name,
            role,
            password_hash: &hash,
        },
    )
    .await?;
    commit(tx).await?;
    Ok(user)
}

pub async fn update_user(
    state: &AppState,
    origin: &Origin,
    by: Role,
    by_user_id: &str,
    id: &str,
    role: Option<&str>,
    disabled: Option<bool>,
) -> ApiResult<StaffUser> {
    let new_role = role
        .map(str::parse::<Role>)
        .transpose()
        .map_err(|m| ApiError::field("role", m))?;
    let mut tx = state.store.begin().await?;
    let before = users::get(&mut tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("staff user"))?;
    let role = new_role.unwrap_or(before.role);
    if !may_manage_user(by, Some(before.role), role) {
        return Err(ApiError::forbidden(format!(
            "a {by} cannot change a {} into a {role}",
            before.role
        )));
    }
    let disabled = disabled.unwrap_or(!before.is_active());
    if before.id == by_user_id && (disabled || role < before.role) {
        return Err(ApiError::field(
            if disabled { "disabled" } else { "role" },
            "you cannot disable or demote yourself",
        ));
    }
    let after = users::update(&mut tx, origin, &before, role, disabled).await?;
    commit(tx).await?;
    Ok(after)
}

pub async fn change_password(
    state: &AppState,
    origin: &Origin,
    session: &StaffSession,
    current: &str,
    new: &str,
) -> ApiResult<()> {
    if !crate::auth::verify_password(current.to_string(), session.user.password_hash.clone()).await
    {
        return Err(ApiError::field(
            "current_password",
            "is not your current password",
        ));
    }
    vouch_domain::password::check(new).map_err(|m| ApiError::field("new_password", m))?;
    let hash = crate::auth::hash_password(new.to_string()).await?;
    let mut tx = state.store.begin().await?;
    users::set_password(
        &mut tx,
        origin,
        &session.user.id,
        &hash,
        Some(&session.token_hash),
    )
    .await?;
    commit(tx).await
}

/// Creates an API key and returns it with its secret, which is never shown again.
pub async fn create_api_key(
    state: &AppState,
    origin: &Origin,
    name: &str,
    scope: &str,
) -> ApiResult<(ApiKey, String)> {
    let mut v = Validation::new();
    let name = v.check("name", vouch_domain::validation::required_text(name, 100));
    let scope = v.check("scope", scope.parse::<Scope>());
    v.into_result().map_err(ApiError::invalid)?;
    let (Some(name), Some(scope)) = (name, scope) else {
        return Err(ApiError::internal());
    };
    let secret = crate::auth::new_api_key_secret();
    let hint = secret
        .chars()
        .rev()
        .take(4)
        .collect::<String>()
        .chars()
        .rev()
        .collect::<String>();
    let mut tx = state.store.begin().await?;
    let key = api_keys::create(
        &mut tx,
        origin,
        &name,
        scope,
        &crate::auth::sha256_hex(&secret),
        &hint,
    )
    .await?;
    commit(tx).await?;
    Ok((key, secret))
}

pub async fn revoke_api_key(state: &AppState, origin: &Origin, id: &str) -> ApiResult<ApiKey> {
    let mut tx = state.store.begin().await?;
    let key = api_keys::revoke(&mut tx, origin, id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found("API key"),
            other => other.into(),
        })?;
    commit(tx).await?;
    Ok(key)
}
