//! A person's right to their data: everything held about one email address, and erasure of a
//! participant or a person. Erasure replaces the personal fields and redacts what the audit
//! log and the outbox copied of them; money records (rewards, bonuses, payments) and the audit
//! entries themselves stay, tied to an id that no longer names anyone.

use crate::{Result, now};
use sqlx::{AnyConnection, Row};

/// The fields that hold personal data wherever they appear in an audit entry's before/after.
pub const PERSONAL_FIELDS: &[&str] = &[
    "email",
    "first_name",
    "last_name",
    "name",
    "phone",
    "company",
    "employee_number",
    "notes",
    "ip_address",
    "referral_link",
];

/// What an erased value reads as.
pub const ERASED: &str = "[erased]";

/// The address an erased participant keeps: unique per participant (the program's unique
/// email stays satisfied) and undeliverable (`.invalid` is reserved for that).
pub fn erased_address(id: &str) -> String {
    format!("erased+{id}@erased.invalid")
}

/// The code an erased participant gets: the old one was made from their name or address. It is
/// unique because the id is; links with the old code lead nowhere any more.
pub fn erased_code(id: &str) -> String {
    let body: String = id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_uppercase();
    format!("X{}", &body[body.len().saturating_sub(26)..])
}

/// Everything held about one email address.
#[derive(Debug, Clone, Default)]
pub struct Held {
    pub participants: Vec<crate::participants::Participant>,
    /// Staff notes on those participants.
    pub participant_notes: Vec<crate::participants::Note>,
    pub referrals: Vec<crate::referrals::Referral>,
    pub rewards: Vec<crate::rewards::Reward>,
    pub people: Vec<crate::people::Person>,
    pub emails: Vec<crate::emails::EmailMessage>,
    pub suppressed: bool,
    /// Referrals with partners whose client has this address.
    pub partner_referrals: Vec<crate::partner_referrals::PartnerReferral>,
    /// Leads or customers sold to a buyer with this address.
    pub lead_sales: Vec<crate::lead_sales::LeadSale>,
    /// Partner portal users with this address.
    pub partner_users: Vec<crate::partner_users::PartnerUser>,
    /// Accounts (and super customers) whose owner has this address.
    pub accounts: Vec<crate::accounts::Account>,
    /// Partner companies whose contact has this address.
    pub partners: Vec<crate::partners::Partner>,
}

pub async fn held(conn: &mut AnyConnection, email: &str) -> Result<Held> {
    let email = email.trim().to_lowercase();
    let email = email.as_str();
    let participants = rows(
        conn,
        "SELECT * FROM participants WHERE email = $1 ORDER BY id",
        email,
        crate::participants::from_row,
    )
    .await?;
    let mut referrals = Vec::new();
    let mut rewards = Vec::new();
    let mut participant_notes = Vec::new();
    for p in &participants {
        participant_notes.extend(crate::participants::notes(conn, &p.id).await?);
        referrals.extend(
            rows(
                conn,
                "SELECT * FROM referrals WHERE referrer_id = $1 OR referred_id = $1 ORDER BY id",
                &p.id,
                crate::referrals::from_row,
            )
            .await?,
        );
        rewards.extend(
            rows(
                conn,
                "SELECT * FROM rewards WHERE participant_id = $1 ORDER BY id",
                &p.id,
                crate::rewards::reward_from_row,
            )
            .await?,
        );
    }
    let people = rows(
        conn,
        "SELECT * FROM people WHERE LOWER(email) = $1 ORDER BY id",
        email,
        crate::people::from_row,
    )
    .await?;
    let emails = rows(
        conn,
        "SELECT * FROM email_messages WHERE LOWER(to_address) = $1 ORDER BY id",
        email,
        crate::emails::from_row,
    )
    .await?;
    let suppressed = crate::emails::is_suppressed(conn, email).await?;
    let partner_referrals = rows(
        conn,
        "SELECT * FROM partner_referrals WHERE LOWER(email) = $1 ORDER BY id",
        email,
        crate::partner_referrals::from_row,
    )
    .await?;
    let lead_sales = rows(
        conn,
        "SELECT * FROM lead_sales WHERE LOWER(email) = $1 ORDER BY id",
        email,
        crate::lead_sales::from_row,
    )
    .await?;
    let partner_users = rows(
        conn,
        "SELECT * FROM partner_users WHERE LOWER(email) = $1 ORDER BY id",
        email,
        crate::partner_users::from_row,
    )
    .await?;
    let accounts = rows(
        conn,
        "SELECT * FROM accounts WHERE LOWER(email) = $1 ORDER BY id",
        email,
        crate::accounts::from_row,
    )
    .await?;
    let partners = rows(
        conn,
        "SELECT * FROM partners WHERE LOWER(contact_email) = $1 ORDER BY id",
        email,
        crate::partners::from_row,
    )
    .await?;
    Ok(Held {
        accounts,
        partners,
        participants,
        participant_notes,
        referrals,
        rewards,
        people,
        emails,
        suppressed,
        partner_referrals,
        lead_sales,
        partner_users,
    })
}

/// The rows `sql` finds for its one parameter `key`, each decoded.
async fn rows<T>(
    conn: &mut AnyConnection,
    sql: &'static str,
    key: &str,
    decode: fn(&sqlx::any::AnyRow) -> Result<T>,
) -> Result<Vec<T>> {
    sqlx::query(sql)
        .bind(key)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(decode)
        .collect()
}

/// Replaces a participant's personal fields and signup fingerprints, ends their sessions and
/// sign-in links, and redacts the program's emails to them.
pub async fn erase_participant(
    conn: &mut AnyConnection,
    before: &crate::participants::Participant,
) -> Result<crate::participants::Participant> {
    let address = erased_address(&before.id);
    let row = sqlx::query(
        "UPDATE participants SET email = $1, first_name = NULL, last_name = NULL, email_key = NULL,
             ip_hash = NULL, device_hash = NULL, code = $2, updated_at = $3
         WHERE id = $4 RETURNING *",
    )
    .bind(&address)
    .bind(erased_code(&before.id))
    .bind(now())
    .bind(&before.id)
    .fetch_one(&mut *conn)
    .await?;
    for table in [
        "participant_login_tokens",
        "participant_sessions",
        "participant_notes",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE participant_id = $1"
        )))
        .bind(&before.id)
        .execute(&mut *conn)
        .await?;
    }
    redact_emails(conn, &before.email, &address, Some(&before.program_id)).await?;
    crate::participants::from_row(&row)
}

/// Replaces a person's personal fields (the name reads "Erased person") and redacts the
/// emails sent to them outside any program.
pub async fn erase_person(
    conn: &mut AnyConnection,
    before: &crate::people::Person,
) -> Result<crate::people::Person> {
    let row = sqlx::query(
        "UPDATE people SET name = 'Erased person', email = NULL, phone = NULL, company = NULL,
             employee_number = NULL, notes = NULL, updated_at = $1
         WHERE id = $2 RETURNING *",
    )
    .bind(now())
    .bind(&before.id)
    .fetch_one(&mut *conn)
    .await?;
    if let Some(email) = &before.email {
        redact_emails(conn, email, &erased_address(&before.id), None).await?;
    }
    crate::people::from_row(&row)
}

async fn redact_emails(
    conn: &mut AnyConnection,
    to: &str,
    erased: &str,
    program_id: Option<&str>,
) -> Result<u64> {
    let scope = if program_id.is_some() {
        "program_id = $3"
    } else {
        "program_id IS NULL"
    };
    let sql = format!(
        "UPDATE email_messages SET to_address = $1, subject = '{ERASED}', text_body = '{ERASED}',
             html_body = '' WHERE LOWER(to_address) = $2 AND {scope}"
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(erased)
        .bind(to.trim().to_lowercase());
    if let Some(program) = program_id {
        query = query.bind(program);
    }
    Ok(query.execute(conn).await?.rows_affected())
}

/// Replaces every [`PERSONAL_FIELDS`] value in the before/after of the audit entries about
/// `entity` `entity_id` with [`ERASED`]. The entries stay: who did what, when, to which id.
/// Entries the transaction gathered are written first, so none escapes.
pub async fn redact_audit(tx: &mut crate::Tx, entity: &str, entity_id: &str) -> Result<u64> {
    tx.write_gathered().await?;
    let conn: &mut AnyConnection = tx;
    let rows = sqlx::query(
        "SELECT id, before_json, after_json FROM audit_log WHERE entity = $1 AND entity_id = $2",
    )
    .bind(entity)
    .bind(entity_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut changed = 0;
    for row in rows {
        let id: String = row.try_get("id")?;
        let redact = |text: Option<String>| {
            text.map(|t| match serde_json::from_str::<serde_json::Value>(&t) {
                Ok(mut v) => {
                    redact_value(&mut v);
                    v.to_string()
                }
                Err(_) => ERASED.to_string(),
            })
        };
        let before = redact(row.try_get("before_json")?);
        let after = redact(row.try_get("after_json")?);
        // The address a public visitor acted from is theirs too; staff's stays.
        changed += sqlx::query(
            "UPDATE audit_log SET before_json = $1, after_json = $2,
                 client_ip = CASE WHEN actor_kind = 'public' THEN NULL ELSE client_ip END
             WHERE id = $3",
        )
        .bind(before)
        .bind(after)
        .bind(&id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    }
    Ok(changed)
}

fn redact_value(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if PERSONAL_FIELDS.contains(&key.as_str()) && !v.is_null() {
                    *v = Value::String(ERASED.into());
                } else {
                    redact_value(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_value),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_fields_are_redacted_at_any_depth() {
        let mut v = serde_json::json!({
            "id": "par_1", "email": "ann@example.com", "first_name": null,
            "program": { "name": "Friends" }, "rewards": [{ "amount": 500, "name": "Ann" }]
        });
        redact_value(&mut v);
        assert_eq!(
            v,
            serde_json::json!({
                "id": "par_1", "email": ERASED, "first_name": null,
                "program": { "name": ERASED }, "rewards": [{ "amount": 500, "name": ERASED }]
            })
        );
    }
}
