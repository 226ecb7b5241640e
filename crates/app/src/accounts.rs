//! Accounts and super customers (seed 000): create, update, clone by the naming convention,
//! nest, designate, approve registration, and register an account under a super customer.

use crate::{AppError, AppResult, Ctx, commit, record};
use serde::Serialize;
use vouch_domain::account::{
    AccountDraft, AccountFields, CloneOverrides, clone_fields, code_from_name, registration_link,
};
use vouch_store::Tx;
use vouch_store::accounts::{self, Account, ListQuery, Placement};
use vouch_store::audit::Origin;

/// An account as the API and console show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccountView {
    #[serde(flatten)]
    pub account: crate::resources::Account,
    /// The link a super customer hands out; `null` for other accounts. It registers accounts
    /// only while `registration_approved` is true.
    pub registration_link: Option<String>,
}

impl AccountView {
    pub fn new(ctx: &Ctx, account: Account) -> Self {
        let registration_link = account
            .is_super_customer
            .then(|| registration_link(&ctx.settings.base_url, account.id));
        Self {
            account: account.into(),
            registration_link,
        }
    }
}

pub async fn get_account(ctx: &Ctx, id: i64) -> AppResult<Account> {
    find_account(ctx, id)
        .await?
        .ok_or_else(|| AppError::not_found("account"))
}

/// `None` rather than an error, for pages that explain a missing account in their own words.
pub async fn find_account(ctx: &Ctx, id: i64) -> AppResult<Option<Account>> {
    let mut conn = ctx.store.conn().await?;
    Ok(accounts::get(&mut conn, id).await?)
}

/// How the public registration page names whom a super customer stands for: the beneficiary
/// of the setup that made it, else the label its name was made from ("Vector"), never the
/// internal "… Referral Super Customer".
pub async fn public_name(ctx: &Ctx, super_customer: &Account) -> AppResult<String> {
    let mut conn = ctx.store.conn().await?;
    if let Some(id) = vouch_store::setups::beneficiary_of(&mut conn, super_customer.id).await?
        && let Some(beneficiary) = accounts::get(&mut conn, id).await?
    {
        return Ok(beneficiary.name);
    }
    Ok(vouch_domain::account::beneficiary_label(&super_customer.name).to_string())
}

/// One page, sorted as `query` asks, `limit + 1` rows at most: the extra row tells the caller
/// another page follows.
pub async fn list_accounts(ctx: &Ctx, query: &ListQuery) -> AppResult<Vec<Account>> {
    let mut conn = ctx.store.conn().await?;
    Ok(accounts::list(&mut conn, query).await?)
}

/// How many accounts the query finds in all (the list's total).
pub async fn count_accounts(ctx: &Ctx, query: &ListQuery) -> AppResult<i64> {
    let mut conn = ctx.store.conn().await?;
    Ok(accounts::count(&mut conn, query).await?)
}

/// The accounts nested directly under `id`, by name.
pub async fn children(ctx: &Ctx, id: i64) -> AppResult<Vec<Account>> {
    let mut conn = ctx.store.conn().await?;
    Ok(accounts::children(&mut conn, id).await?)
}

/// Every super customer, by name: the choices of a parent picker.
pub async fn super_customers(ctx: &Ctx) -> AppResult<Vec<Account>> {
    let mut conn = ctx.store.conn().await?;
    Ok(accounts::super_customers(&mut conn).await?)
}

async fn locked_account(tx: &mut Tx, id: i64) -> AppResult<Account> {
    accounts::get(tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("account"))
}

pub async fn create_account(
    ctx: &Ctx,
    origin: &Origin,
    fields: &AccountFields,
    parent_id: Option<i64>,
    is_super_customer: bool,
) -> AppResult<Account> {
    let draft = fields.parse()?;
    let mut tx = ctx.store.begin().await?;
    let account = insert(
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
    ctx: &Ctx,
    origin: &Origin,
    id: i64,
    fields: &AccountFields,
) -> AppResult<Account> {
    let draft = fields.parse()?;
    let mut tx = ctx.store.begin().await?;
    let before = locked_account(&mut tx, id).await?;
    let after = update_in(&mut tx, origin, &before, &draft).await?;
    commit(tx).await?;
    Ok(after)
}

/// The fields the clone convention gives, before saving (for previews and forms).
pub fn clone_preview(
    ctx: &Ctx,
    beneficiary: &Account,
    overrides: &CloneOverrides,
) -> AccountFields {
    clone_fields(
        &beneficiary.fields(),
        &ctx.settings.clone_email_domain,
        overrides,
    )
}

pub async fn clone_account(
    ctx: &Ctx,
    origin: &Origin,
    id: i64,
    overrides: &CloneOverrides,
) -> AppResult<Account> {
    let mut tx = ctx.store.begin().await?;
    let beneficiary = locked_account(&mut tx, id).await?;
    let draft = clone_preview(ctx, &beneficiary, overrides).parse()?;
    let clone = insert(
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
    ctx: &Ctx,
    origin: &Origin,
    id: i64,
    parent_id: Option<i64>,
) -> AppResult<Account> {
    let mut tx = ctx.store.begin().await?;
    let before = locked_account(&mut tx, id).await?;
    let after = set_parent_in(&mut tx, origin, &before, parent_id).await?;
    commit(tx).await?;
    Ok(after)
}

pub async fn designate(ctx: &Ctx, origin: &Origin, id: i64, on: bool) -> AppResult<Account> {
    let mut tx = ctx.store.begin().await?;
    let before = locked_account(&mut tx, id).await?;
    let after = designate_in(&mut tx, origin, &before, on).await?;
    commit(tx).await?;
    Ok(after)
}

pub async fn set_registration(
    ctx: &Ctx,
    origin: &Origin,
    id: i64,
    approved: bool,
) -> AppResult<Account> {
    let mut tx = ctx.store.begin().await?;
    let before = locked_account(&mut tx, id).await?;
    let after = set_registration_in(&mut tx, origin, &before, approved).await?;
    commit(tx).await?;
    Ok(after)
}

/// Registers a new account nested under a super customer (the public registration page).
pub async fn register(
    ctx: &Ctx,
    origin: &Origin,
    super_customer_id: i64,
    draft: vouch_domain::account::AccountDraft,
) -> AppResult<Account> {
    let mut tx = ctx.store.begin().await?;
    let account = register_in(&mut tx, origin, super_customer_id, draft).await?;
    commit(tx).await?;
    Ok(account)
}

/// Registers a new account nested under a super customer, with a code drawn from its name
/// (`ACME`, then `ACME-2`, …), on the caller's transaction.
pub async fn register_in(
    tx: &mut Tx,
    origin: &Origin,
    super_customer_id: i64,
    mut draft: vouch_domain::account::AccountDraft,
) -> AppResult<Account> {
    let base = code_from_name(&draft.name);
    let base = if base.is_empty() {
        "ACCOUNT".to_string()
    } else {
        base.chars().take(56).collect()
    };
    let mut code = base.clone();
    let mut n = 2;
    while accounts::code_taken(tx, &code).await? {
        code = format!("{base}-{n}");
        n += 1;
        if n > 1000 {
            return Err(AppError::field(
                "company",
                "too many accounts share this name; add a distinguishing word",
            ));
        }
    }
    draft.code = code;
    let placement = Placement {
        parent_id: Some(super_customer_id),
        ..Default::default()
    };
    insert(tx, origin, "account.registered", &draft, &placement).await
}

/// Creates an account in the caller's transaction, audited as `action` (`account.created`,
/// `account.cloned` or `account.registered`) with its event (`account.registered` for a
/// registration, `account.created` otherwise).
pub async fn insert(
    tx: &mut Tx,
    origin: &Origin,
    action: &str,
    draft: &AccountDraft,
    placement: &Placement,
) -> AppResult<Account> {
    let account = accounts::create(tx, draft, placement).await?;
    let event = if action == "account.registered" {
        "account.registered"
    } else {
        "account.created"
    };
    record::change(tx, origin, action, None, &account, &[event]);
    Ok(account)
}

/// Records a change to an account: audited as `action`, announced as `account.updated`.
async fn changed(
    tx: &mut Tx,
    origin: &Origin,
    action: &str,
    before: &Account,
    after: Account,
) -> AppResult<Account> {
    record::change(
        tx,
        origin,
        action,
        Some(before),
        &after,
        &["account.updated"],
    );
    Ok(after)
}

pub(crate) async fn update_in(
    tx: &mut Tx,
    origin: &Origin,
    before: &Account,
    draft: &AccountDraft,
) -> AppResult<Account> {
    let after = accounts::update(tx, before, draft).await?;
    changed(tx, origin, "account.updated", before, after).await
}

pub(crate) async fn set_parent_in(
    tx: &mut Tx,
    origin: &Origin,
    before: &Account,
    parent_id: Option<i64>,
) -> AppResult<Account> {
    let after = accounts::set_parent(tx, before, parent_id).await?;
    let action = if parent_id.is_some() {
        "account.nested"
    } else {
        "account.unnested"
    };
    changed(tx, origin, action, before, after).await
}

pub(crate) async fn designate_in(
    tx: &mut Tx,
    origin: &Origin,
    before: &Account,
    on: bool,
) -> AppResult<Account> {
    let after = accounts::set_super_customer(tx, before, on).await?;
    let action = if on {
        "account.designated_super_customer"
    } else {
        "account.undesignated_super_customer"
    };
    changed(tx, origin, action, before, after).await
}

pub(crate) async fn set_registration_in(
    tx: &mut Tx,
    origin: &Origin,
    before: &Account,
    on: bool,
) -> AppResult<Account> {
    let after = accounts::set_registration_approved(tx, before, on).await?;
    let action = if on {
        "account.registration_opened"
    } else {
        "account.registration_closed"
    };
    changed(tx, origin, action, before, after).await
}
