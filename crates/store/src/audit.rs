//! The append-only audit log. Entries are written with the change they describe, on the same
//! connection inside the same transaction; nothing here updates or deletes an entry.

use crate::query::NewestFirst;
use crate::{Result, like_prefix, now};
use serde::Serialize;
use sqlx::{AnyConnection, Row};

/// Who acted. `id` and `label` are what the log shows; labels are staff emails or key names,
/// never secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub kind: ActorKind,
    pub id: Option<String>,
    pub label: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    Staff,
    ApiKey,
    PartnerUser,
    Participant,
    Public,
    System,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::Staff => "staff",
            ActorKind::ApiKey => "api_key",
            ActorKind::PartnerUser => "partner_user",
            ActorKind::Participant => "participant",
            ActorKind::Public => "public",
            ActorKind::System => "system",
        }
    }
}

impl Actor {
    pub fn system() -> Self {
        Self {
            kind: ActorKind::System,
            id: None,
            label: "system".into(),
        }
    }

    pub fn public() -> Self {
        Self {
            kind: ActorKind::Public,
            id: None,
            label: "public registration".into(),
        }
    }
}

/// Where a change came from: the actor plus the request that carried it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub actor: Actor,
    pub request_id: Option<String>,
    pub client_ip: Option<String>,
}

impl Origin {
    pub fn system() -> Self {
        Self {
            actor: Actor::system(),
            request_id: None,
            client_ip: None,
        }
    }
}

/// Appends one entry. `before`/`after` are the entity as JSON, when there is one.
pub async fn record(
    conn: &mut AnyConnection,
    origin: &Origin,
    action: &str,
    entity: &str,
    entity_id: Option<&str>,
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (id, at, actor_kind, actor_id, actor_label, action, entity, entity_id, before_json, after_json, request_id, client_ip)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(vouch_domain::id::new_id("aud"))
    .bind(now())
    .bind(origin.actor.kind.as_str())
    .bind(origin.actor.id.clone())
    .bind(origin.actor.label.clone())
    .bind(action)
    .bind(entity)
    .bind(entity_id)
    .bind(before.map(|v| v.to_string()))
    .bind(after.map(|v| v.to_string()))
    .bind(origin.request_id.clone())
    .bind(origin.client_ip.clone())
    .execute(conn)
    .await?;
    Ok(())
}

/// An entry for [`record_many`]: a creation, so no `before`.
#[derive(Debug, Clone)]
pub struct Created<'a> {
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: String,
    pub after: &'a serde_json::Value,
}

/// Records many creations by one origin with a statement per 1,000 entries, in order.
pub async fn record_many(
    conn: &mut AnyConnection,
    origin: &Origin,
    entries: &[Created<'_>],
) -> Result<()> {
    for chunk in entries.chunks(1_000) {
        let mut sql = crate::query::Sql::new(
            "INSERT INTO audit_log (id, at, actor_kind, actor_id, actor_label, action, entity, entity_id, before_json, after_json, request_id, client_ip) VALUES ",
        );
        let shared = [
            sql.bind(now()),
            sql.bind(origin.actor.kind.as_str()),
            sql.bind(origin.actor.id.clone()),
            sql.bind(origin.actor.label.clone()),
        ];
        let (request, ip) = (
            sql.bind(origin.request_id.clone()),
            sql.bind(origin.client_ip.clone()),
        );
        sql.push_rows(chunk, |row, e| {
            row.bind(vouch_domain::id::new_id("aud"));
            for placeholder in &shared {
                row.placeholder(placeholder);
            }
            row.bind(e.action)
                .bind(e.entity)
                .bind(&e.entity_id)
                .bind(None::<String>)
                .bind(e.after.to_string())
                .placeholder(&request)
                .placeholder(&ip);
        });
        sql.execute(conn).await?;
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub id: String,
    pub at: vouch_domain::Timestamp,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub actor_label: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub request_id: Option<String>,
    pub client_ip: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub action: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub actor: Option<String>,
    /// Entries strictly older than this id (the log lists newest first).
    pub starting_after: Option<String>,
    pub limit: i64,
}

/// Newest first, `limit + 1` rows so the caller can tell whether there is more.
pub async fn list(conn: &mut AnyConnection, filter: &Filter) -> Result<Vec<Entry>> {
    let mut list = NewestFirst::table("audit_log");
    if let Some(a) = &filter.action {
        // A prefix such as `account.` matches every account action.
        list.and()
            .push("action LIKE ")
            .push_bind(like_prefix(a))
            .push(" ESCAPE '\\'");
    }
    list.eq("entity", filter.entity.as_ref())
        .eq("entity_id", filter.entity_id.as_ref());
    if let Some(a) = &filter.actor {
        let sql = list.and();
        let a = sql.bind(a);
        sql.push(&format!("(actor_label = {a} OR actor_id = {a})"));
    }
    let rows = list
        .page(conn, filter.starting_after.as_deref(), filter.limit)
        .await?;
    rows.iter().map(entry_from_row).collect()
}

fn entry_from_row(row: &sqlx::any::AnyRow) -> Result<Entry> {
    let json = |col: &str| -> Result<Option<serde_json::Value>> {
        let text: Option<String> = row.try_get(col)?;
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    };
    Ok(Entry {
        id: row.try_get("id")?,
        at: crate::time_col(row, "at")?,
        actor_kind: row.try_get("actor_kind")?,
        actor_id: row.try_get("actor_id")?,
        actor_label: row.try_get("actor_label")?,
        action: row.try_get("action")?,
        entity: row.try_get("entity")?,
        entity_id: row.try_get("entity_id")?,
        before: json("before_json")?,
        after: json("after_json")?,
        request_id: row.try_get("request_id")?,
        client_ip: row.try_get("client_ip")?,
    })
}
