//! Audit entries, events and emails a transaction gathers and writes at its commit, many to a
//! statement.
//!
//! Every change writes its audit entry, its events and the emails it sends inside its own
//! transaction; they still do, but as the transaction's last statements instead of one by one
//! beside the change. An attributed signup makes two audit entries, three events and two emails
//! (each with its job): written as they came that was nine inserts and three reads of the
//! webhook endpoints, in every signup of a group that shares one transaction ([`crate::Tx`]
//! under group commit). Gathered, a group writes them with one read of the endpoints and an
//! insert or two per table. On SQLite each statement is a hand-off to sqlx's connection thread,
//! on PostgreSQL a round trip. An email is rendered, and checked against the suppressions, when
//! it is gathered ([`crate::emails::queue_at_commit`]); only its rows wait.
//!
//! What is gathered is complete when it is gathered (ids, times, JSON), so the commit only
//! writes it; a savepoint rolled back forgets what was gathered after it. What was written early
//! ([`crate::Tx::write_gathered`]) after a savepoint is undone with it; if it was gathered
//! before the savepoint, it is written again at the commit.

use crate::audit::Origin;
use crate::query::{Sql, power_of_two_runs};
use crate::{Result, emails, now, webhooks};
use sqlx::AnyConnection;
use vouch_domain::email_template::Kind;

/// Rows per statement at most. Statements are kept prepared per text, and a text per row
/// count would crowd out the others, so rows go in runs of powers of two up to this: eleven
/// texts per table at most.
const MAX_ROWS: usize = 1024;
/// Webhook deliveries per run: `webhooks::enqueue_messages` writes at most 500 to a statement.
const MAX_DELIVERIES: usize = 256;

#[derive(Debug, Default)]
pub(crate) struct Writes {
    audit: Vec<AuditRow>,
    events: Vec<EventRow>,
    emails: Vec<emails::Prepared>,
    /// How many of each are written already (early, by [`Writes::write`] before the commit).
    written: Counts,
}

#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    audit: usize,
    events: usize,
    emails: usize,
}

/// What was gathered and written at a savepoint.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mark {
    gathered: Counts,
    written: Counts,
}

#[derive(Debug)]
struct AuditRow {
    id: String,
    at: String,
    actor_kind: &'static str,
    actor_id: Option<String>,
    actor_label: String,
    action: String,
    entity: String,
    entity_id: Option<String>,
    before: Option<String>,
    after: Option<String>,
    request_id: Option<String>,
    client_ip: Option<String>,
}

#[derive(Debug)]
struct EventRow {
    id: String,
    event_type: String,
    created_at: String,
    data: String,
}

/// An audit entry to gather: what [`crate::audit::record`] takes.
pub struct AuditEntry<'a> {
    pub origin: &'a Origin,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: Option<&'a str>,
    pub before: Option<&'a serde_json::Value>,
    pub after: Option<&'a serde_json::Value>,
}

impl Writes {
    pub(crate) fn audit(&mut self, e: AuditEntry<'_>) {
        self.audit.push(AuditRow {
            id: vouch_domain::id::new_id("aud"),
            at: now(),
            actor_kind: e.origin.actor.kind.as_str(),
            actor_id: e.origin.actor.id.clone(),
            actor_label: e.origin.actor.label.clone(),
            action: e.action.to_string(),
            entity: e.entity.to_string(),
            entity_id: e.entity_id.map(str::to_string),
            before: e.before.map(|v| v.to_string()),
            after: e.after.map(|v| v.to_string()),
            request_id: e.origin.request_id.clone(),
            client_ip: e.origin.client_ip.clone(),
        });
    }

    /// Gathers an event; returns its id.
    pub(crate) fn event(&mut self, event_type: &str, data: &serde_json::Value) -> String {
        let id = vouch_domain::id::new_id("evt");
        self.events.push(EventRow {
            id: id.clone(),
            event_type: event_type.to_string(),
            created_at: now(),
            data: data.to_string(),
        });
        id
    }

    /// Gathers a rendered email (its job too, unless the address is suppressed).
    pub(crate) fn email(&mut self, message: emails::Prepared) {
        self.emails.push(message);
    }

    /// Gathered emails of `kind` to `to` since `since`, not written yet.
    pub(crate) fn emails_to(&self, kind: Kind, to: &str, since: &str) -> i64 {
        let unwritten = self.emails.get(self.written.emails..).unwrap_or_default();
        // Times are fixed-width UTC text: they compare as they sort.
        let n = unwritten
            .iter()
            .filter(|m| m.kind == kind && m.to == to && m.created_at.as_str() >= since)
            .count();
        i64::try_from(n).unwrap_or(i64::MAX)
    }

    pub(crate) fn mark(&self) -> Mark {
        Mark {
            gathered: Counts {
                audit: self.audit.len(),
                events: self.events.len(),
                emails: self.emails.len(),
            },
            written: self.written,
        }
    }

    /// After `ROLLBACK TO` the savepoint of `mark`: forgets what was gathered after it, and
    /// counts as unwritten what the database just undid.
    pub(crate) fn rewind(&mut self, mark: Mark) {
        self.audit.truncate(mark.gathered.audit);
        self.events.truncate(mark.gathered.events);
        self.emails.truncate(mark.gathered.emails);
        self.written = mark.written;
    }

    /// Writes what was gathered and not written yet, in the order it was gathered: the emails
    /// and their jobs, the audit entries, then the events and, for every enabled endpoint
    /// whose filter matches, a webhook message and its delivery job.
    pub(crate) async fn write(&mut self, conn: &mut AnyConnection) -> Result<()> {
        let emails = self.emails.get(self.written.emails..).unwrap_or_default();
        for run in power_of_two_runs(emails, MAX_ROWS) {
            emails::write_prepared(conn, run).await?;
        }
        self.written.emails = self.emails.len();
        let audit = self.audit.get(self.written.audit..).unwrap_or_default();
        let events = self.events.get(self.written.events..).unwrap_or_default();
        for run in power_of_two_runs(audit, MAX_ROWS) {
            let mut sql = Sql::new(
                "INSERT INTO audit_log (id, at, actor_kind, actor_id, actor_label, action, entity, entity_id, before_json, after_json, request_id, client_ip) VALUES ",
            );
            sql.push_rows(run, |row, e| {
                row.bind(&e.id)
                    .bind(&e.at)
                    .bind(e.actor_kind)
                    .bind(e.actor_id.clone())
                    .bind(&e.actor_label)
                    .bind(&e.action)
                    .bind(&e.entity)
                    .bind(e.entity_id.clone())
                    .bind(e.before.clone())
                    .bind(e.after.clone())
                    .bind(e.request_id.clone())
                    .bind(e.client_ip.clone());
            });
            sql.execute(conn).await?;
        }
        self.written.audit = self.audit.len();
        if events.is_empty() {
            return Ok(());
        }
        for run in power_of_two_runs(events, MAX_ROWS) {
            let mut sql = Sql::new("INSERT INTO events (id, type, created_at, data) VALUES ");
            sql.push_rows(run, |row, e| {
                row.bind(&e.id)
                    .bind(&e.event_type)
                    .bind(&e.created_at)
                    .bind(&e.data);
            });
            sql.execute(conn).await?;
        }
        let endpoints = webhooks::enabled(conn).await?;
        let announced = events
            .iter()
            .map(|e| (e.event_type.as_str(), e.id.as_str()));
        let deliveries = webhooks::deliveries_for(&endpoints, announced);
        for run in power_of_two_runs(&deliveries, MAX_DELIVERIES) {
            webhooks::enqueue_messages(conn, run).await?;
        }
        self.written.events = self.events.len();
        Ok(())
    }
}
