//! Customer accounts and the super-customer hierarchy.

use crate::query::Sql;
use crate::{Result, StoreError, conflict, flag, like_contains, now};
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use vouch_domain::Timestamp;
use vouch_domain::account::{
    AccountDraft, AccountFields, ParentCandidate, RegistrationPolicy, check_nesting,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub id: i64,
    pub name: String,
    pub code: String,
    pub email: String,
    pub owner_first_name: String,
    pub owner_last_name: String,
    pub owner_phone: Option<String>,
    pub vendor_matrix: bool,
    pub corporate_catalog: bool,
    pub whitelabeling: bool,
    pub exempt_from_membership_fees: bool,
    pub is_super_customer: bool,
    pub parent_id: Option<i64>,
    pub registration_policy: RegistrationPolicy,
    pub partner_site_url: Option<String>,
    /// Whether the Management Team opened this super customer's registration link.
    pub registration_approved: bool,
    pub notes: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Account {
    /// The editable fields, e.g. to pre-fill a form or to apply a patch to.
    pub fn fields(&self) -> AccountFields {
        AccountFields {
            name: self.name.clone(),
            code: self.code.clone(),
            email: self.email.clone(),
            owner_first_name: self.owner_first_name.clone(),
            owner_last_name: self.owner_last_name.clone(),
            owner_phone: self.owner_phone.clone().unwrap_or_default(),
            vendor_matrix: self.vendor_matrix,
            corporate_catalog: self.corporate_catalog,
            whitelabeling: self.whitelabeling,
            exempt_from_membership_fees: self.exempt_from_membership_fees,
            notes: self.notes.clone().unwrap_or_default(),
            registration_policy: self.registration_policy.as_str().into(),
            partner_site_url: self.partner_site_url.clone().unwrap_or_default(),
        }
    }
}

pub(crate) fn from_row(row: &sqlx::any::AnyRow) -> Result<Account> {
    let b = |col: &str| -> Result<bool> { Ok(row.try_get::<i64, _>(col)? != 0) };
    let policy: String = row.try_get("registration_policy")?;
    Ok(Account {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        code: row.try_get("code")?,
        email: row.try_get("email")?,
        owner_first_name: row.try_get("owner_first_name")?,
        owner_last_name: row.try_get("owner_last_name")?,
        owner_phone: row.try_get("owner_phone")?,
        vendor_matrix: b("vendor_matrix")?,
        corporate_catalog: b("corporate_catalog")?,
        whitelabeling: b("whitelabeling")?,
        exempt_from_membership_fees: b("exempt_from_membership_fees")?,
        is_super_customer: b("is_super_customer")?,
        parent_id: row.try_get("parent_id")?,
        registration_policy: policy.parse().map_err(StoreError::Corrupt)?,
        partner_site_url: row.try_get("partner_site_url")?,
        registration_approved: b("registration_approved")?,
        notes: row.try_get("notes")?,
        created_at: crate::time_col(row, "created_at")?,
        updated_at: crate::time_col(row, "updated_at")?,
    })
}

const UNIQUE: &[&str] = &["code", "email", "id"];

pub async fn get(conn: &mut AnyConnection, id: i64) -> Result<Option<Account>> {
    let row = sqlx::query("SELECT * FROM accounts WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn by_email(conn: &mut AnyConnection, email: &str) -> Result<Option<Account>> {
    let row = sqlx::query("SELECT * FROM accounts WHERE email = $1")
        .bind(email)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn code_taken(conn: &mut AnyConnection, code: &str) -> Result<bool> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE code = $1")
        .bind(code)
        .fetch_one(conn)
        .await?;
    Ok(n > 0)
}

/// Options for creating an account beyond its fields.
#[derive(Debug, Clone, Default)]
pub struct Placement {
    /// Keep a known customer id (imports, the demo); otherwise the database assigns one.
    pub id: Option<i64>,
    pub parent_id: Option<i64>,
    pub is_super_customer: bool,
    pub registration_approved: bool,
}

/// Creates an account. The parent, if any, must be a super customer.
pub async fn create(
    conn: &mut AnyConnection,
    draft: &AccountDraft,
    placement: &Placement,
) -> Result<Account> {
    if let Some(parent_id) = placement.parent_id {
        let parent = parent_candidate(conn, parent_id).await?;
        check_nesting(None, &parent).map_err(|message| StoreError::Invalid {
            field: "parent_id".into(),
            message,
        })?;
    }
    let at = now();
    let columns = "name, code, email, owner_first_name, owner_last_name, owner_phone, vendor_matrix, corporate_catalog, whitelabeling, exempt_from_membership_fees, is_super_customer, parent_id, registration_policy, partner_site_url, registration_approved, notes, created_at, updated_at";
    let values = "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17";
    let sql = match placement.id {
        Some(_) => {
            format!("INSERT INTO accounts ({columns}, id) VALUES ({values}, $18) RETURNING *")
        }
        None => format!("INSERT INTO accounts ({columns}) VALUES ({values}) RETURNING *"),
    };
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(draft.name.clone())
        .bind(draft.code.clone())
        .bind(draft.email.clone())
        .bind(draft.owner_first_name.clone())
        .bind(draft.owner_last_name.clone())
        .bind(draft.owner_phone.clone())
        .bind(flag(draft.vendor_matrix))
        .bind(flag(draft.corporate_catalog))
        .bind(flag(draft.whitelabeling))
        .bind(flag(draft.exempt_from_membership_fees))
        .bind(flag(placement.is_super_customer))
        .bind(placement.parent_id)
        .bind(draft.registration_policy.as_str())
        .bind(draft.partner_site_url.clone())
        .bind(flag(placement.registration_approved))
        .bind(draft.notes.clone())
        .bind(at);
    if let Some(id) = placement.id {
        query = query.bind(id);
    }
    let row = query
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| conflict(e, "accounts", UNIQUE))?;
    from_row(&row)
}

/// After accounts were created with explicit ids, moves PostgreSQL's id sequence past them.
pub async fn sync_id_sequence(conn: &mut AnyConnection, backend: crate::Backend) -> Result<()> {
    if backend == crate::Backend::Postgres {
        crate::exec(
            conn,
            "SELECT setval(pg_get_serial_sequence('accounts', 'id'), GREATEST((SELECT COALESCE(MAX(id), 0) FROM accounts), 1))",
        )
        .await?;
    }
    Ok(())
}

/// Replaces the editable fields.
pub async fn update(
    conn: &mut AnyConnection,
    before: &Account,
    draft: &AccountDraft,
) -> Result<Account> {
    let row = sqlx::query(
        "UPDATE accounts SET name = $1, code = $2, email = $3, owner_first_name = $4, owner_last_name = $5, owner_phone = $6,
            vendor_matrix = $7, corporate_catalog = $8, whitelabeling = $9, exempt_from_membership_fees = $10,
            registration_policy = $11, partner_site_url = $12, notes = $13, updated_at = $14
         WHERE id = $15 RETURNING *",
    )
    .bind(draft.name.clone())
    .bind(draft.code.clone())
    .bind(draft.email.clone())
    .bind(draft.owner_first_name.clone())
    .bind(draft.owner_last_name.clone())
    .bind(draft.owner_phone.clone())
    .bind(flag(draft.vendor_matrix))
    .bind(flag(draft.corporate_catalog))
    .bind(flag(draft.whitelabeling))
    .bind(flag(draft.exempt_from_membership_fees))
    .bind(draft.registration_policy.as_str())
    .bind(draft.partner_site_url.clone())
    .bind(draft.notes.clone())
    .bind(now())
    .bind(before.id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(|e| conflict(e, "accounts", UNIQUE))?
    .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

async fn parent_candidate(conn: &mut AnyConnection, parent_id: i64) -> Result<ParentCandidate> {
    let parent = get(conn, parent_id)
        .await?
        .ok_or_else(|| StoreError::Invalid {
            field: "parent_id".into(),
            message: format!("account {parent_id} does not exist"),
        })?;
    let mut ancestors = Vec::new();
    let mut next = parent.parent_id;
    // The depth bound guards against a cycle that slipped in by hand-editing the database.
    while let Some(id) = next {
        if ancestors.len() > 1000 || ancestors.contains(&id) {
            break;
        }
        ancestors.push(id);
        next = sqlx::query_scalar::<_, Option<i64>>("SELECT parent_id FROM accounts WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .flatten();
    }
    Ok(ParentCandidate {
        id: parent.id,
        is_super_customer: parent.is_super_customer,
        ancestors,
    })
}

/// Nests `before` under `parent_id`, or un-nests it with `None`.
pub async fn set_parent(
    conn: &mut AnyConnection,
    before: &Account,
    parent_id: Option<i64>,
) -> Result<Account> {
    if let Some(parent_id) = parent_id {
        let parent = parent_candidate(conn, parent_id).await?;
        check_nesting(Some(before.id), &parent).map_err(|message| StoreError::Invalid {
            field: "parent_id".into(),
            message,
        })?;
    }
    let row = sqlx::query(
        "UPDATE accounts SET parent_id = $1, updated_at = $2 WHERE id = $3 RETURNING *",
    )
    .bind(parent_id)
    .bind(now())
    .bind(before.id)
    .fetch_one(&mut *conn)
    .await?;
    from_row(&row)
}

/// Designates an account as a super customer, or takes the designation away (refused while
/// accounts are still nested under it).
pub async fn set_super_customer(
    conn: &mut AnyConnection,
    before: &Account,
    on: bool,
) -> Result<Account> {
    if !on && count_children(conn, before.id).await? > 0 {
        return Err(StoreError::WrongState {
            code: "has_sub_customers",
            message: "accounts are still nested under this super customer; move them first".into(),
        });
    }
    let row = sqlx::query(
        "UPDATE accounts SET is_super_customer = $1, registration_approved = CASE WHEN $1 = 0 THEN 0 ELSE registration_approved END, updated_at = $2 WHERE id = $3 RETURNING *",
    )
    .bind(flag(on))
    .bind(now())
    .bind(before.id)
    .fetch_one(&mut *conn)
    .await?;
    from_row(&row)
}

/// Opens or closes a super customer's registration link (a Management Team decision).
pub async fn set_registration_approved(
    conn: &mut AnyConnection,
    before: &Account,
    on: bool,
) -> Result<Account> {
    if on && !before.is_super_customer {
        return Err(StoreError::WrongState {
            code: "not_a_super_customer",
            message: "only a super customer has a registration link; designate it first".into(),
        });
    }
    let row = sqlx::query(
        "UPDATE accounts SET registration_approved = $1, updated_at = $2 WHERE id = $3 RETURNING *",
    )
    .bind(flag(on))
    .bind(now())
    .bind(before.id)
    .fetch_one(&mut *conn)
    .await?;
    from_row(&row)
}

pub async fn count_children(conn: &mut AnyConnection, id: i64) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE parent_id = $1")
            .bind(id)
            .fetch_one(conn)
            .await?,
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    Id,
    Name,
    CreatedAt,
}

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Matches the customer id exactly, or name, code and email as a case-insensitive substring.
    pub search: Option<String>,
    pub super_customers_only: bool,
    pub parent_id: Option<i64>,
    pub sort: SortKey,
    pub descending: bool,
    pub starting_after: Option<i64>,
    pub limit: i64,
}

/// The search and filters of a [`ListQuery`].
fn filtered(sql: &mut Sql, q: &ListQuery) {
    if let Some(search) = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let like = sql.bind(like_contains(search));
        sql.push(&format!(
            " AND (LOWER(name) LIKE {like} ESCAPE '\\' OR LOWER(code) LIKE {like} ESCAPE '\\' OR LOWER(email) LIKE {like} ESCAPE '\\'"
        ));
        if let Ok(id) = search.parse::<i64>() {
            sql.push(" OR id = ").push_bind(id);
        }
        sql.push(")");
    }
    if q.super_customers_only {
        sql.push(" AND is_super_customer = 1");
    }
    if let Some(parent) = q.parent_id {
        sql.push(" AND parent_id = ").push_bind(parent);
    }
}

/// How many accounts a [`ListQuery`] finds in all (its page and order aside).
pub async fn count(conn: &mut AnyConnection, q: &ListQuery) -> Result<i64> {
    let mut sql = Sql::new("SELECT COUNT(*) AS n FROM accounts WHERE 1 = 1");
    filtered(&mut sql, q);
    sql.fetch_count(conn).await
}

/// One page of accounts, keyset-paginated on (sort key, id). Returns `limit + 1` rows at most
/// so the caller can tell whether another page follows.
pub async fn list(conn: &mut AnyConnection, q: &ListQuery) -> Result<Vec<Account>> {
    let mut sql = Sql::new("SELECT * FROM accounts WHERE 1 = 1");
    filtered(&mut sql, q);
    let (column, cmp, dir) = match (q.sort, q.descending) {
        (SortKey::Id, false) => ("id", ">", "ASC"),
        (SortKey::Id, true) => ("id", "<", "DESC"),
        (SortKey::Name, false) => ("LOWER(name)", ">", "ASC"),
        (SortKey::Name, true) => ("LOWER(name)", "<", "DESC"),
        (SortKey::CreatedAt, false) => ("created_at", ">", "ASC"),
        (SortKey::CreatedAt, true) => ("created_at", "<", "DESC"),
    };
    if let Some(after) = q.starting_after {
        let cursor = get(conn, after).await?.ok_or_else(|| StoreError::Invalid {
            field: "starting_after".into(),
            message: format!("account {after} does not exist"),
        })?;
        let id = sql.bind(after);
        match q.sort {
            SortKey::Id => {
                sql.push(&format!(" AND id {cmp} {id}"));
            }
            SortKey::Name | SortKey::CreatedAt => {
                let key = sql.bind(if q.sort == SortKey::Name {
                    cursor.name.to_lowercase()
                } else {
                    cursor.created_at.to_string()
                });
                sql.push(&format!(
                    " AND ({column} {cmp} {key} OR ({column} = {key} AND id {cmp} {id}))"
                ));
            }
        }
    }
    sql.push(&format!(" ORDER BY {column} {dir}, id {dir}"))
        .push_limit(q.limit.saturating_add(1));
    let rows = sql.fetch_all(conn).await?;
    rows.iter().map(from_row).collect()
}

/// Accounts nested directly under `id`, by name.
pub async fn children(conn: &mut AnyConnection, id: i64) -> Result<Vec<Account>> {
    let rows = sqlx::query("SELECT * FROM accounts WHERE parent_id = $1 ORDER BY LOWER(name), id")
        .bind(id)
        .fetch_all(conn)
        .await?;
    rows.iter().map(from_row).collect()
}

/// Every super customer, by name (for pickers).
pub async fn super_customers(conn: &mut AnyConnection) -> Result<Vec<Account>> {
    let rows =
        sqlx::query("SELECT * FROM accounts WHERE is_super_customer = 1 ORDER BY LOWER(name), id")
            .fetch_all(conn)
            .await?;
    rows.iter().map(from_row).collect()
}
