//! Referrals between us and partner companies, their history of changes, and the list both the
//! console and the portal read: filtered, searched on every field but the creation date,
//! sorted by any column and paged by keyset (sort key, id) with a total.

use crate::query::{Sql, Value};
use crate::{Result, StoreError, conflict, enum_col, like_contains, now, time_col};
use sqlx::{AnyConnection, Row};
use vouch_domain::Timestamp;
use vouch_domain::money::{Currency, Money};
use vouch_domain::partner_referral::{Direction, DuplicateStatus, Need, ReferralDraft, Stage};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerReferral {
    pub id: String,
    /// Shown as `R-{number}`; unique across the installation.
    pub number: i64,
    pub partner_id: String,
    pub direction: Direction,
    pub client_name: String,
    pub company: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub company_domain: Option<String>,
    pub needs: Vec<Need>,
    pub notes: Option<String>,
    pub value: Option<Money>,
    pub stage: Stage,
    /// The partner manager it is allocated to.
    pub manager_id: Option<String>,
    /// Who submitted it (a staff or partner user's label).
    pub submitted_by: String,
    pub duplicate_status: DuplicateStatus,
    pub duplicate_of: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

pub(crate) fn from_row(row: &sqlx::any::AnyRow) -> Result<PartnerReferral> {
    let needs: String = row.try_get("needs")?;
    let value: Option<i64> = row.try_get("value")?;
    let currency: Option<String> = row.try_get("currency")?;
    let value = match (value, currency) {
        (Some(v), Some(c)) => Some(Money::new(
            v,
            Currency::parse(&c).map_err(StoreError::Corrupt)?,
        )),
        _ => None,
    };
    Ok(PartnerReferral {
        id: row.try_get("id")?,
        number: row.try_get("number")?,
        partner_id: row.try_get("partner_id")?,
        direction: enum_col(row, "direction")?,
        client_name: row.try_get("client_name")?,
        company: row.try_get("company")?,
        email: row.try_get("email")?,
        phone: row.try_get("phone")?,
        website: row.try_get("website")?,
        company_domain: row.try_get("company_domain")?,
        needs: needs
            .split(',')
            .filter(|n| !n.is_empty())
            .map(|n| n.parse().map_err(StoreError::Corrupt))
            .collect::<Result<_>>()?,
        notes: row.try_get("notes")?,
        value,
        stage: enum_col(row, "stage")?,
        manager_id: row.try_get("manager_id")?,
        submitted_by: row.try_get("submitted_by")?,
        duplicate_status: enum_col(row, "duplicate_status")?,
        duplicate_of: row.try_get("duplicate_of")?,
        created_at: time_col(row, "created_at")?,
        updated_at: time_col(row, "updated_at")?,
    })
}

fn needs_text(needs: &[Need]) -> String {
    needs
        .iter()
        .map(|n| n.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// What the list's search box matches, kept on the row so that a search reads one column:
/// every field but the creation date, lowercased (in Rust, so that both engines fold
/// non-ASCII letters the same way), with closed sets both as stored and as they read, and the
/// number as `r-1001`. The partner's name is matched on its own row (a rename changes it).
/// The unit separator between fields cannot be typed into the search box (control characters
/// are refused), so a search never matches across two fields.
fn search_text(
    number: i64,
    direction: Direction,
    draft_fields: [Option<&str>; 6],
    needs: &[Need],
    stage: Stage,
    value: Option<Money>,
) -> String {
    let mut parts: Vec<String> = vec![format!("r-{number}"), number.to_string()];
    parts.extend(draft_fields.iter().flatten().map(|t| t.to_string()));
    for n in needs {
        parts.push(n.as_str().into());
        parts.push(n.label().into());
    }
    parts.push(stage.as_str().into());
    parts.push(stage.label().into());
    parts.push(direction.as_str().into());
    parts.push(direction.label().into());
    if let Some(v) = value {
        parts.push(v.minor().to_string());
    }
    parts.join("\u{1f}").to_lowercase()
}

fn row_search_text(r: &PartnerReferral) -> String {
    search_text(
        r.number,
        r.direction,
        [
            Some(r.client_name.as_str()),
            r.company.as_deref(),
            r.email.as_deref(),
            r.phone.as_deref(),
            r.website.as_deref(),
            r.notes.as_deref(),
        ],
        &r.needs,
        r.stage,
        r.value,
    )
}

/// A referral to record.
pub struct NewReferral<'a> {
    pub partner_id: &'a str,
    pub direction: Direction,
    pub draft: &'a ReferralDraft,
    pub company_domain: Option<&'a str>,
    pub manager_id: Option<&'a str>,
    pub submitted_by: &'a str,
    pub duplicate_of: Option<&'a str>,
}

/// Records a referral with the next number. Two writers that draw the same number meet the
/// unique index: the loser gets `Conflict { field: "number" }` and tries again in a new
/// transaction.
pub async fn insert(conn: &mut AnyConnection, n: &NewReferral<'_>) -> Result<PartnerReferral> {
    let next: i64 =
        sqlx::query("SELECT COALESCE(MAX(number), 1000) + 1 AS next FROM partner_referrals")
            .fetch_one(&mut *conn)
            .await?
            .try_get("next")?;
    let d = n.draft;
    let search = search_text(
        next,
        n.direction,
        [
            Some(d.client_name.as_str()),
            d.company.as_deref(),
            d.email.as_deref(),
            d.phone.as_deref(),
            d.website.as_deref(),
            d.notes.as_deref(),
        ],
        &d.needs,
        Stage::New,
        d.value,
    );
    let row = sqlx::query(
        "INSERT INTO partner_referrals (id, number, partner_id, direction, client_name, company, email, phone, website,
             company_domain, needs, notes, value, currency, stage, manager_id, submitted_by, duplicate_status,
             duplicate_of, created_at, updated_at, search_text)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'new', $15, $16, $17, $18, $19, $19, $20)
         RETURNING *",
    )
    .bind(vouch_domain::id::new_id("prf"))
    .bind(next)
    .bind(n.partner_id)
    .bind(n.direction.as_str())
    .bind(d.client_name.clone())
    .bind(d.company.clone())
    .bind(d.email.clone())
    .bind(d.phone.clone())
    .bind(d.website.clone())
    .bind(n.company_domain.map(str::to_string))
    .bind(needs_text(&d.needs))
    .bind(d.notes.clone())
    .bind(d.value.map(Money::minor))
    .bind(d.value.map(|m| m.currency().to_string()))
    .bind(n.manager_id.map(str::to_string))
    .bind(n.submitted_by)
    .bind(if n.duplicate_of.is_some() {
        DuplicateStatus::Suspected.as_str()
    } else {
        DuplicateStatus::Unique.as_str()
    })
    .bind(n.duplicate_of.map(str::to_string))
    .bind(now())
    .bind(search)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| conflict(e, "partner_referrals", &["number"]))?;
    from_row(&row)
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<PartnerReferral>> {
    let row = sqlx::query("SELECT * FROM partner_referrals WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The oldest other referral naming the same client: the same email (case-insensitive) or the
/// same company domain.
pub async fn find_same_client(
    conn: &mut AnyConnection,
    email: Option<&str>,
    domain: Option<&str>,
) -> Result<Option<PartnerReferral>> {
    if email.is_none() && domain.is_none() {
        return Ok(None);
    }
    let row = sqlx::query(
        "SELECT * FROM partner_referrals WHERE (LOWER(email) = LOWER($1)) OR (company_domain = $2)
         ORDER BY id LIMIT 1",
    )
    .bind(email.map(str::to_string))
    .bind(domain.map(str::to_string))
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// What either side may change after submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub notes: Option<String>,
    pub stage: Stage,
    pub value: Option<Money>,
}

/// Applies an edit if the referral is still as `before` was read (its `updated_at`), so two
/// editors never overwrite each other unseen; `None` when it changed meanwhile.
pub async fn edit(
    conn: &mut AnyConnection,
    before: &PartnerReferral,
    e: &Edit,
) -> Result<Option<PartnerReferral>> {
    let after = PartnerReferral {
        notes: e.notes.clone(),
        stage: e.stage,
        value: e.value,
        ..before.clone()
    };
    let row = sqlx::query(
        "UPDATE partner_referrals SET notes = $1, stage = $2, value = $3, currency = $4, updated_at = $5, search_text = $8
         WHERE id = $6 AND updated_at = $7 RETURNING *",
    )
    .bind(e.notes.clone())
    .bind(e.stage.as_str())
    .bind(e.value.map(Money::minor))
    .bind(e.value.map(|m| m.currency().to_string()))
    .bind(now())
    .bind(&before.id)
    .bind(before.updated_at.to_string())
    .bind(row_search_text(&after))
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Records staff's decision on a suspected duplicate; `None` unless it was still suspected.
pub async fn decide_duplicate(
    conn: &mut AnyConnection,
    id: &str,
    to: DuplicateStatus,
) -> Result<Option<PartnerReferral>> {
    let row = sqlx::query(
        "UPDATE partner_referrals SET duplicate_status = $1, updated_at = $2
         WHERE id = $3 AND duplicate_status = 'suspected' RETURNING *",
    )
    .bind(to.as_str())
    .bind(now())
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// One change in a referral's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub id: String,
    pub referral_id: String,
    /// `staff` or `partner`.
    pub side: String,
    pub actor: String,
    /// `created`, `stage`, `value`, `notes`, `duplicate`.
    pub field: String,
    pub from_value: Option<String>,
    pub to_value: Option<String>,
    pub created_at: Timestamp,
}

fn change_from_row(row: &sqlx::any::AnyRow) -> Result<Change> {
    Ok(Change {
        id: row.try_get("id")?,
        referral_id: row.try_get("referral_id")?,
        side: row.try_get("side")?,
        actor: row.try_get("actor")?,
        field: row.try_get("field")?,
        from_value: row.try_get("from_value")?,
        to_value: row.try_get("to_value")?,
        created_at: time_col(row, "created_at")?,
    })
}

pub async fn add_change(
    conn: &mut AnyConnection,
    referral_id: &str,
    side: &str,
    actor: &str,
    field: &str,
    from_value: Option<&str>,
    to_value: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO partner_referral_changes (id, referral_id, side, actor, field, from_value, to_value, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(vouch_domain::id::new_id("prc"))
    .bind(referral_id)
    .bind(side)
    .bind(actor)
    .bind(field)
    .bind(from_value.map(str::to_string))
    .bind(to_value.map(str::to_string))
    .bind(now())
    .execute(conn)
    .await?;
    Ok(())
}

/// A referral's history, oldest first; the lines of one edit (same instant) in the order a
/// form shows them.
pub async fn changes(conn: &mut AnyConnection, referral_id: &str) -> Result<Vec<Change>> {
    let rows = sqlx::query(
        "SELECT * FROM partner_referral_changes WHERE referral_id = $1
         ORDER BY created_at, CASE field WHEN 'created' THEN 0 WHEN 'stage' THEN 1 WHEN 'value' THEN 2
             WHEN 'notes' THEN 3 ELSE 4 END, id",
    )
            .bind(referral_id)
            .fetch_all(conn)
            .await?;
    rows.iter().map(change_from_row).collect()
}

/// A column the list sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Number,
    ClientName,
    Company,
    Partner,
    Direction,
    Stage,
    Value,
    CreatedAt,
    UpdatedAt,
}

impl SortKey {
    pub const ALL: [(SortKey, &'static str); 9] = [
        (SortKey::Number, "number"),
        (SortKey::ClientName, "client_name"),
        (SortKey::Company, "company"),
        (SortKey::Partner, "partner"),
        (SortKey::Direction, "direction"),
        (SortKey::Stage, "stage"),
        (SortKey::Value, "value"),
        (SortKey::CreatedAt, "created_at"),
        (SortKey::UpdatedAt, "updated_at"),
    ];

    pub fn parse(s: &str) -> Option<SortKey> {
        SortKey::ALL
            .iter()
            .find(|(_, name)| *name == s)
            .map(|(k, _)| *k)
    }

    pub fn name(self) -> &'static str {
        SortKey::ALL
            .iter()
            .find(|(k, _)| *k == self)
            .map_or("number", |(_, n)| n)
    }

    /// The SQL it sorts on (never caller text), with NULLs as the lowest value so that the
    /// keyset comparison stays total.
    fn expr(self) -> &'static str {
        match self {
            SortKey::Number => "r.number",
            SortKey::ClientName => "LOWER(r.client_name)",
            SortKey::Company => "LOWER(COALESCE(r.company, ''))",
            SortKey::Partner => "LOWER(p.name)",
            SortKey::Direction => "r.direction",
            SortKey::Stage => "r.stage",
            SortKey::Value => "COALESCE(r.value, -1)",
            SortKey::CreatedAt => "r.created_at",
            SortKey::UpdatedAt => "r.updated_at",
        }
    }

    fn numeric(self) -> bool {
        matches!(self, SortKey::Number | SortKey::Value)
    }
}

/// What to list.
#[derive(Debug, Default, Clone)]
pub struct ReferralQuery<'a> {
    /// Only this partner's (the portal always sets it).
    pub partner_id: Option<&'a str>,
    pub direction: Option<Direction>,
    pub stage: Option<Stage>,
    pub manager_id: Option<&'a str>,
    pub duplicate_status: Option<DuplicateStatus>,
    /// Matches every field but the creation date: number (`R-1001` or `1001`), client, company,
    /// email, phone, website, notes, needs, stage, direction, value, partner name.
    pub search: Option<&'a str>,
}

fn filtered(sql: &mut Sql, q: &ReferralQuery<'_>) {
    let eq = |sql: &mut Sql, column: &str, value: Option<&str>| {
        if let Some(v) = value {
            sql.push(" AND ")
                .push(column)
                .push(" = ")
                .push_bind(v.to_string());
        }
    };
    eq(sql, "r.partner_id", q.partner_id);
    eq(sql, "r.direction", q.direction.map(Direction::as_str));
    eq(sql, "r.stage", q.stage.map(Stage::as_str));
    eq(sql, "r.manager_id", q.manager_id);
    eq(
        sql,
        "r.duplicate_status",
        q.duplicate_status.map(DuplicateStatus::as_str),
    );
    if let Some(text) = q.search.map(str::trim).filter(|t| !t.is_empty()) {
        let like = sql.bind(like_contains(text));
        let mut ors: Vec<String> = vec![
            format!("r.search_text LIKE {like} ESCAPE '\\'"),
            format!("LOWER(p.name) LIKE {like} ESCAPE '\\'"),
        ];
        // "R-1001" finds referral 1001; "in progress" finds the stage as it reads.
        let digits = text.trim_start_matches(['R', 'r', '-', '#']);
        if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
            let n = sql.bind(digits.to_string());
            ors.push(format!("CAST(r.number AS TEXT) = {n}"));
        }
        let as_stage = text.to_ascii_lowercase().replace(' ', "_");
        let s = sql.bind(as_stage);
        ors.push(format!("r.stage = {s}"));
        sql.push(" AND (").push(&ors.join(" OR ")).push(")");
    }
}

const FROM: &str = " FROM partner_referrals r JOIN partners p ON p.id = r.partner_id WHERE 1 = 1";

/// How many referrals match (for "1–25 of 312").
pub async fn count(conn: &mut AnyConnection, q: &ReferralQuery<'_>) -> Result<i64> {
    let mut sql = Sql::new("SELECT COUNT(*) AS n");
    sql.push(FROM);
    filtered(&mut sql, q);
    sql.fetch_count(conn).await
}

/// A page of referrals in `sort` order (`descending` reverses it), `limit + 1` rows, after
/// the referral `starting_after` when given (its sort key and id are the cursor).
pub async fn list(
    conn: &mut AnyConnection,
    q: &ReferralQuery<'_>,
    sort: SortKey,
    descending: bool,
    starting_after: Option<&str>,
    limit: i64,
) -> Result<Vec<PartnerReferral>> {
    let mut sql = Sql::new("SELECT r.*");
    sql.push(FROM);
    filtered(&mut sql, q);
    let expr = sort.expr();
    if let Some(after) = starting_after.filter(|a| !a.is_empty()) {
        // The cursor row is looked up under the same filters, so an id outside them (another
        // partner's referral, for a portal user) tells nothing about where it would sort.
        let mut key_sql = Sql::new(&format!("SELECT {expr} AS k"));
        key_sql.push(FROM);
        filtered(&mut key_sql, q);
        key_sql.push(" AND r.id = ").push_bind(after.to_string());
        let key_rows = key_sql.fetch_all(conn).await?;
        let Some(key_row) = key_rows.first() else {
            return Err(StoreError::Invalid {
                field: "starting_after".into(),
                message: format!("referral {after} does not exist"),
            });
        };
        let key: Value = if sort.numeric() {
            Value::Int(Some(key_row.try_get::<i64, _>("k")?))
        } else {
            Value::Text(Some(key_row.try_get::<String, _>("k")?))
        };
        let op = if descending { "<" } else { ">" };
        let k = sql.bind(key);
        let id = sql.bind(after.to_string());
        sql.push(&format!(
            " AND ({expr} {op} {k} OR ({expr} = {k} AND r.id {op} {id}))"
        ));
    }
    let dir = if descending { "DESC" } else { "ASC" };
    sql.push(&format!(" ORDER BY {expr} {dir}, r.id {dir}"))
        .push_limit(limit.saturating_add(1));
    let rows = sql.fetch_all(conn).await?;
    rows.iter().map(from_row).collect()
}
