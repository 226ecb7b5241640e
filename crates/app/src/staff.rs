//! Staff users, their passwords, and API keys.

use crate::auth::StaffSession;
use crate::record;
use crate::{AppError, AppResult, Ctx, commit};
use vouch_domain::Validation;
use vouch_domain::email::Email;
use vouch_domain::permission::{Role, Scope, may_manage_user};
use vouch_store::StoreError;
use vouch_store::api_keys::{self, ApiKey};
use vouch_store::audit::Origin;
use vouch_store::users::{self, StaffUser};

pub async fn list_users(ctx: &Ctx) -> AppResult<Vec<StaffUser>> {
    let mut conn = ctx.store.conn().await?;
    Ok(users::list(&mut conn).await?)
}

pub async fn get_user(ctx: &Ctx, id: &str) -> AppResult<StaffUser> {
    let mut conn = ctx.store.conn().await?;
    users::get(&mut conn, id)
        .await?
        .ok_or_else(|| AppError::not_found("staff user"))
}

/// Every API key, revoked ones too (never their secrets: only hashes are stored).
pub async fn list_api_keys(ctx: &Ctx) -> AppResult<Vec<ApiKey>> {
    let mut conn = ctx.store.conn().await?;
    Ok(api_keys::list(&mut conn).await?)
}

/// Creates a staff user. `by` is the acting staff role (`None` for the CLI, which runs with the
/// machine owner's authority).
pub async fn create_user(
    ctx: &Ctx,
    origin: &Origin,
    by: Option<Role>,
    email: &str,
    name: &str,
    role: &str,
    password: &str,
) -> AppResult<StaffUser> {
    let mut v = Validation::new();
    let email = v.check("email", Email::parse(email));
    let name = v.check("name", vouch_domain::validation::optional_text(name, 200));
    let role = v.check("role", role.parse::<Role>());
    v.check("password", vouch_domain::password::check(password));
    v.into_result().map_err(AppError::invalid)?;
    let (Some(email), Some(name), Some(role)) = (email, name, role) else {
        return Err(AppError::internal("validation passed without a value"));
    };
    if let Some(by) = by
        && !may_manage_user(by, None, role)
    {
        return Err(AppError::forbidden(format!(
            "a {by} cannot create a user with the role {role}"
        )));
    }
    let hash = crate::auth::hash_password(password.to_string()).await?;
    let mut tx = ctx.store.begin().await?;
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
        users::NewUser {
            email: email.as_str(),
            name: &name,
            role,
            password_hash: &hash,
        },
    )
    .await?;
    record::change(&mut tx, origin, "staff_user.created", None, &user, &[]);
    commit(tx).await?;
    Ok(user)
}

pub async fn update_user(
    ctx: &Ctx,
    origin: &Origin,
    by: Role,
    by_user_id: &str,
    id: &str,
    role: Option<&str>,
    disabled: Option<bool>,
) -> AppResult<StaffUser> {
    let new_role = role
        .map(str::parse::<Role>)
        .transpose()
        .map_err(|m| AppError::field("role", m))?;
    let mut tx = ctx.store.begin().await?;
    let before = users::get(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("staff user"))?;
    let role = new_role.unwrap_or(before.role);
    if !may_manage_user(by, Some(before.role), role) {
        return Err(AppError::forbidden(format!(
            "a {by} cannot change a {} into a {role}",
            before.role
        )));
    }
    let disabled = disabled.unwrap_or(!before.is_active());
    if before.id == by_user_id && (disabled || role < before.role) {
        return Err(AppError::field(
            if disabled { "disabled" } else { "role" },
            "you cannot disable or demote yourself",
        ));
    }
    let after = users::update(&mut tx, &before, role, disabled).await?;
    let action = match (before.is_active(), after.is_active()) {
        (true, false) => "staff_user.disabled",
        (false, true) => "staff_user.enabled",
        _ => "staff_user.updated",
    };
    record::change(&mut tx, origin, action, Some(&before), &after, &[]);
    commit(tx).await?;
    Ok(after)
}

pub async fn change_password(
    ctx: &Ctx,
    origin: &Origin,
    session: &StaffSession,
    current: &str,
    new: &str,
) -> AppResult<()> {
    if !crate::auth::verify_password(current.to_string(), session.user.password_hash.clone()).await
    {
        return Err(AppError::field(
            "current_password",
            "is not your current password",
        ));
    }
    vouch_domain::password::check(new).map_err(|m| AppError::field("new_password", m))?;
    let hash = crate::auth::hash_password(new.to_string()).await?;
    let mut tx = ctx.store.begin().await?;
    users::set_password(&mut tx, &session.user.id, &hash, Some(&session.token_hash)).await?;
    record::entry(
        &mut tx,
        origin,
        "staff_user.password_changed",
        "staff_user",
        &session.user.id,
        None,
        None,
    );
    commit(tx).await
}

/// Sets the time zone the signed-in user reads times in; empty means the installation's.
pub async fn set_time_zone(
    ctx: &Ctx,
    origin: &Origin,
    session: &StaffSession,
    time_zone: &str,
) -> AppResult<Option<String>> {
    let zone = match time_zone.trim() {
        "" => None,
        name => Some(
            vouch_domain::time_zones::check(name)
                .map_err(|m| AppError::field("time_zone", m))?
                .to_string(),
        ),
    };
    let mut tx = ctx.store.begin().await?;
    users::set_time_zone(&mut tx, &session.user.id, zone.as_deref()).await?;
    record::entry(
        &mut tx,
        origin,
        "staff_user.time_zone_changed",
        "staff_user",
        &session.user.id,
        None,
        None,
    );
    commit(tx).await?;
    Ok(zone)
}

/// Sets a staff user's password from the command line (someone with the database at hand: a
/// forgotten password, the demo owner's on a second run). Every session of the user ends.
pub async fn reset_password(
    ctx: &Ctx,
    origin: &Origin,
    email: &str,
    new: &str,
) -> AppResult<StaffUser> {
    vouch_domain::password::check(new).map_err(|m| AppError::field("password", m))?;
    let hash = crate::auth::hash_password(new.to_string()).await?;
    let mut tx = ctx.store.begin().await?;
    let user = users::by_email(&mut tx, email.trim())
        .await?
        .ok_or_else(|| AppError::field("email", "no staff user has this email"))?;
    users::set_password(&mut tx, &user.id, &hash, None).await?;
    record::entry(
        &mut tx,
        origin,
        "staff_user.password_reset",
        "staff_user",
        &user.id,
        None,
        None,
    );
    commit(tx).await?;
    Ok(user)
}

/// Creates an API key and returns it with its secret, which is never shown again.
pub async fn create_api_key(
    ctx: &Ctx,
    origin: &Origin,
    name: &str,
    scope: &str,
) -> AppResult<(ApiKey, String)> {
    let mut v = Validation::new();
    let name = v.check("name", vouch_domain::validation::required_text(name, 100));
    let scope = v.check("scope", scope.parse::<Scope>());
    v.into_result().map_err(AppError::invalid)?;
    let (Some(name), Some(scope)) = (name, scope) else {
        return Err(AppError::internal("validation passed without a value"));
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
    let mut tx = ctx.store.begin().await?;
    let key = api_keys::create(
        &mut tx,
        &origin.actor.label,
        &name,
        scope,
        &crate::auth::sha256_hex(&secret),
        &hint,
    )
    .await?;
    record::change(&mut tx, origin, "api_key.created", None, &key, &[]);
    commit(tx).await?;
    Ok((key, secret))
}

pub async fn revoke_api_key(ctx: &Ctx, origin: &Origin, id: &str) -> AppResult<ApiKey> {
    let mut tx = ctx.store.begin().await?;
    let before = api_keys::get(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("API key"))?;
    let (key, revoked) = api_keys::revoke(&mut tx, id).await.map_err(|e| match e {
        StoreError::NotFound => AppError::not_found("API key"),
        other => other.into(),
    })?;
    if revoked {
        record::change(&mut tx, origin, "api_key.revoked", Some(&before), &key, &[]);
    }
    commit(tx).await?;
    ctx.api_keys.forget(&key.id);
    Ok(key)
}
