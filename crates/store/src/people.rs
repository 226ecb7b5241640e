//! People who refer sales (contacts, employees, vendors) and the history of their agreed
//! referral-bonus terms.

use crate::query::NewestFirst;
use crate::{Result, StoreError, like_contains, now};
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use vouch_domain::Timestamp;
use vouch_domain::bonus::{Basis, Terms};
use vouch_domain::money::{BasisPoints, Currency, Money};
use vouch_domain::person::{PersonDraft, PersonKind};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    pub id: String,
    pub kind: PersonKind,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub employee_number: Option<String>,
    pub notes: Option<String>,
    /// The program participant this contact was created for, when their cash rewards are
    /// paid through the payables ledger.
    pub participant_id: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

pub(crate) fn from_row(row: &sqlx::any::AnyRow) -> Result<Person> {
    let kind: String = row.try_get("kind")?;
    Ok(Person {
        id: row.try_get("id")?,
        kind: kind.parse().map_err(StoreError::Corrupt)?,
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        phone: row.try_get("phone")?,
        company: row.try_get("company")?,
        employee_number: row.try_get("employee_number")?,
        notes: row.try_get("notes")?,
        participant_id: row.try_get("participant_id")?,
        created_at: crate::time_col(row, "created_at")?,
        updated_at: crate::time_col(row, "updated_at")?,
    })
}

pub async fn create(conn: &mut AnyConnection, kind: PersonKind, d: &PersonDraft) -> Result<Person> {
    let row = sqlx::query(
        "INSERT INTO people (id, kind, name, email, phone, company, employee_number, notes, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING *",
    )
    .bind(vouch_domain::id::new_id("per"))
    .bind(kind.as_str())
    .bind(&d.name)
    .bind(d.email.clone())
    .bind(d.phone.clone())
    .bind(d.company.clone())
    .bind(d.employee_number.clone())
    .bind(d.notes.clone())
    .bind(now())
    .fetch_one(&mut *conn)
    .await?;
    from_row(&row)
}

/// The contact who is paid a participant's rewards: found by the participant, or created from
/// `d` and linked to it (then `true`). Two concurrent first rewards of one participant create
/// one contact.
pub async fn payee_of_participant(
    conn: &mut AnyConnection,
    participant_id: &str,
    d: &PersonDraft,
) -> Result<(Person, bool)> {
    let created = sqlx::query(
        "INSERT INTO people (id, kind, name, email, phone, company, employee_number, notes, participant_id, created_at, updated_at)
         VALUES ($1, 'contact', $2, $3, NULL, NULL, NULL, $4, $5, $6, $6) ON CONFLICT DO NOTHING RETURNING *",
    )
    .bind(vouch_domain::id::new_id("per"))
    .bind(&d.name)
    .bind(d.email.clone())
    .bind(d.notes.clone())
    .bind(participant_id)
    .bind(now())
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(row) = created {
        return Ok((from_row(&row)?, true));
    }
    let row = sqlx::query("SELECT * FROM people WHERE participant_id = $1")
        .bind(participant_id)
        .fetch_one(&mut *conn)
        .await?;
    Ok((from_row(&row)?, false))
}

/// The contacts created for a participant (at most one today).
pub async fn for_participant(
    conn: &mut AnyConnection,
    participant_id: &str,
) -> Result<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM people WHERE participant_id = $1 ORDER BY id")
            .bind(participant_id)
            .fetch_all(conn)
            .await?,
    )
}

/// The contact who stands for a partner company in the ledger (its commissions are owed to
/// it), created from `d` the first time; `true` when it was created now.
pub async fn payee_of_partner(
    conn: &mut AnyConnection,
    partner_id: &str,
    d: &PersonDraft,
) -> Result<(Person, bool)> {
    let created = sqlx::query(
        "INSERT INTO people (id, kind, name, email, phone, company, employee_number, notes, partner_id, created_at, updated_at)
         VALUES ($1, 'contact', $2, $3, NULL, $4, NULL, $5, $6, $7, $7) ON CONFLICT DO NOTHING RETURNING *",
    )
    .bind(vouch_domain::id::new_id("per"))
    .bind(&d.name)
    .bind(d.email.clone())
    .bind(d.company.clone())
    .bind(d.notes.clone())
    .bind(partner_id)
    .bind(now())
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(row) = created {
        return Ok((from_row(&row)?, true));
    }
    let row = sqlx::query("SELECT * FROM people WHERE partner_id = $1")
        .bind(partner_id)
        .fetch_one(&mut *conn)
        .await?;
    Ok((from_row(&row)?, false))
}

pub async fn get(conn: &mut AnyConnection, id: &str) -> Result<Option<Person>> {
    let row = sqlx::query("SELECT * FROM people WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// A person of this kind with this email (case-insensitive), or, without an email, with this
/// name and no email: what a re-run import finds already there.
pub async fn find_same(
    conn: &mut AnyConnection,
    kind: PersonKind,
    name: &str,
    email: Option<&str>,
) -> Result<Option<Person>> {
    let row = match email {
        Some(e) => {
            sqlx::query("SELECT * FROM people WHERE kind = $1 AND LOWER(email) = LOWER($2) ORDER BY id LIMIT 1")
                .bind(kind.as_str())
                .bind(e)
                .fetch_optional(conn)
                .await?
        }
        None => {
            sqlx::query("SELECT * FROM people WHERE kind = $1 AND name = $2 AND email IS NULL ORDER BY id LIMIT 1")
                .bind(kind.as_str())
                .bind(name)
                .fetch_optional(conn)
                .await?
        }
    };
    row.as_ref().map(from_row).transpose()
}

/// Replaces the editable fields (the kind never changes).
pub async fn update(conn: &mut AnyConnection, before: &Person, d: &PersonDraft) -> Result<Person> {
    let row = sqlx::query(
        "UPDATE people SET name = $1, email = $2, phone = $3, company = $4, employee_number = $5, notes = $6, updated_at = $7
         WHERE id = $8 RETURNING *",
    )
    .bind(&d.name)
    .bind(d.email.clone())
    .bind(d.phone.clone())
    .bind(d.company.clone())
    .bind(d.employee_number.clone())
    .bind(d.notes.clone())
    .bind(now())
    .bind(&before.id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// People newest first, optionally of one kind and matching a search of name, email or
/// company; `limit + 1` rows.
pub async fn list(
    conn: &mut AnyConnection,
    kind: Option<PersonKind>,
    search: Option<&str>,
    starting_after: Option<&str>,
    limit: i64,
) -> Result<Vec<Person>> {
    let mut list = NewestFirst::table("people");
    list.eq("kind", kind.map(PersonKind::as_str));
    if let Some(q) = search.map(str::trim).filter(|q| !q.is_empty()) {
        let sql = list.and();
        let like = sql.bind(like_contains(q));
        sql.push(&format!(
            "(LOWER(name) LIKE {like} ESCAPE '\\' OR LOWER(COALESCE(email, '')) LIKE {like} ESCAPE '\\' OR LOWER(COALESCE(company, '')) LIKE {like} ESCAPE '\\')"
        ));
    }
    let rows = list.page(conn, starting_after, limit).await?;
    rows.iter().map(from_row).collect()
}

/// One version of a person's agreed terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermsVersion {
    pub id: String,
    pub person_id: String,
    /// 1 for the first terms agreed with the person, then 2, 3, …
    pub version: i64,
    pub terms: Terms,
    /// Who set them (a staff label).
    pub set_by: String,
    pub created_at: Timestamp,
}

fn terms_from_row(row: &sqlx::any::AnyRow) -> Result<TermsVersion> {
    let basis: String = row.try_get("basis")?;
    let corrupt = |what: &str| StoreError::Corrupt(format!("bonus_terms: {what}"));
    let bps = |col: &str| -> Result<Option<BasisPoints>> {
        let v: Option<i64> = row.try_get(col)?;
        v.map(|v| u32::try_from(v).map(BasisPoints).map_err(|_| corrupt(col)))
            .transpose()
    };
    let basis = match basis.as_str() {
        "percentage" => Basis::Percentage(bps("percentage_bps")?.ok_or_else(|| corrupt("bps"))?),
        "fixed" => {
            let amount: Option<i64> = row.try_get("fixed_amount")?;
            let currency: Option<String> = row.try_get("currency")?;
            let currency = currency
                .as_deref()
                .map(Currency::parse)
                .transpose()
                .map_err(StoreError::Corrupt)?;
            match (amount, currency) {
                (Some(a), Some(c)) => Basis::Fixed(Money::new(a, c)),
                _ => return Err(corrupt("fixed amount")),
            }
        }
        other => return Err(corrupt(other)),
    };
    let front: String = row.try_get("front_term")?;
    let back: Option<String> = row.try_get("back_term")?;
    Ok(TermsVersion {
        id: row.try_get("id")?,
        person_id: row.try_get("person_id")?,
        version: row.try_get("version")?,
        terms: Terms {
            basis,
            front: front.parse().map_err(StoreError::Corrupt)?,
            back: back
                .map(|b| b.parse())
                .transpose()
                .map_err(StoreError::Corrupt)?,
            front_share: bps("front_share_bps")?.ok_or_else(|| corrupt("front share"))?,
        },
        set_by: row.try_get("set_by")?,
        created_at: crate::time_col(row, "created_at")?,
    })
}

/// Records new terms for a person as its next version; earlier versions stay as history. Two
/// concurrent changes cannot both take the same version: the second is a conflict on
/// `version`.
pub async fn add_terms(
    conn: &mut AnyConnection,
    person_id: &str,
    terms: &Terms,
    set_by: &str,
) -> Result<TermsVersion> {
    let (basis, bps, amount, currency) = match terms.basis {
        Basis::Percentage(bp) => ("percentage", Some(i64::from(bp.0)), None, None),
        Basis::Fixed(m) => (
            "fixed",
            None,
            Some(m.minor()),
            Some(m.currency().to_string()),
        ),
    };
    let version: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(version), 0) + 1 FROM bonus_terms WHERE person_id = $1",
    )
    .bind(person_id)
    .fetch_one(&mut *conn)
    .await?;
    let row = sqlx::query(
        "INSERT INTO bonus_terms (id, person_id, version, basis, percentage_bps, fixed_amount, currency, front_term, back_term, front_share_bps, set_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING *",
    )
    .bind(vouch_domain::id::new_id("trm"))
    .bind(person_id)
    .bind(version)
    .bind(basis)
    .bind(bps)
    .bind(amount)
    .bind(currency)
    .bind(terms.front.as_str())
    .bind(terms.back.map(|b| b.as_str()))
    .bind(i64::from(terms.front_share.0))
    .bind(set_by)
    .bind(now())
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| crate::conflict(e, "bonus_terms", &["version"]))?;
    terms_from_row(&row)
}

/// Every version of a person's terms, oldest first; the last is in force.
pub async fn terms_history(conn: &mut AnyConnection, person_id: &str) -> Result<Vec<TermsVersion>> {
    let rows = sqlx::query("SELECT * FROM bonus_terms WHERE person_id = $1 ORDER BY version")
        .bind(person_id)
        .fetch_all(conn)
        .await?;
    rows.iter().map(terms_from_row).collect()
}

/// The terms in force for a person, if any were agreed.
pub async fn current_terms(
    conn: &mut AnyConnection,
    person_id: &str,
) -> Result<Option<TermsVersion>> {
    let row =
        sqlx::query("SELECT * FROM bonus_terms WHERE person_id = $1 ORDER BY version DESC LIMIT 1")
            .bind(person_id)
            .fetch_optional(conn)
            .await?;
    row.as_ref().map(terms_from_row).transpose()
}
