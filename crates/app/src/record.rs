//! The write → audit → event triple in one call.
//!
//! Every change a use case makes is followed, inside the same transaction, by its audit entry
//! and by the events it causes, so the three commit together or not at all. The entry and the
//! events are gathered by the transaction and written at its commit ([`Tx::audit`],
//! [`Tx::emit`]), so these calls cannot fail and do not wait. The audit entry's
//! before/after and the event's `data` are the resource's public representation
//! ([`crate::resources`]), never the row: what integrators receive is what the API documents.

use crate::resources;
use serde::Serialize;
use vouch_store::audit::Origin;
use vouch_store::{AuditEntry, Tx};

/// A row the audit log and webhooks know: the entity it is, its id, and its public form.
pub(crate) trait Audited {
    const ENTITY: &'static str;
    fn audit_id(&self) -> String;
    /// The public representation: the audit entry's before/after and every event's `data`.
    fn public(&self) -> serde_json::Value;
}

/// Records that `after` changed (`before` is `None` for a creation): the audit entry `action`,
/// then one event of each type in `events`, all with the public form of `after`.
pub(crate) fn change<R: Audited>(
    tx: &mut Tx,
    origin: &Origin,
    action: &str,
    before: Option<&R>,
    after: &R,
    event_types: &[&str],
) {
    let after_json = after.public();
    let before_json = before.map(Audited::public);
    tx.audit(AuditEntry {
        origin,
        action,
        entity: R::ENTITY,
        entity_id: Some(&after.audit_id()),
        before: before_json.as_ref(),
        after: Some(&after_json),
    });
    for event_type in event_types {
        announce(tx, event_type, &after_json);
    }
}

/// Emits one event to every subscribed endpoint (at commit: [`Tx::emit`]). Only catalogued
/// types ([`resources::EVENT_TYPES`]) may be sent: a new type is documented before it ships.
pub(crate) fn announce(tx: &mut Tx, event_type: &str, data: &serde_json::Value) {
    debug_assert!(
        resources::events::is_known(event_type),
        "event type {event_type} is not in resources::EVENT_TYPES"
    );
    tx.emit(event_type, data);
}

/// An audit entry for an operation that is not a plain change of one resource (a deletion,
/// a secret rotation, a bulk upload): `before` and `after` are whatever describes it.
pub(crate) fn entry(
    tx: &mut Tx,
    origin: &Origin,
    action: &str,
    entity: &str,
    entity_id: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) {
    tx.audit(AuditEntry {
        origin,
        action,
        entity,
        entity_id: Some(entity_id),
        before: before.as_ref(),
        after: after.as_ref(),
    });
}

fn public<T: Serialize>(resource: T) -> serde_json::Value {
    // A resource is plain data (strings, numbers, enums, maps); serialising it cannot fail.
    serde_json::to_value(resource).unwrap_or_default()
}

macro_rules! audited {
    ($row:ty => $resource:ty, $entity:literal, |$r:ident| $id:expr) => {
        impl Audited for $row {
            const ENTITY: &'static str = $entity;
            fn audit_id(&self) -> String {
                let $r = self;
                $id
            }
            fn public(&self) -> serde_json::Value {
                public(<$resource>::from(self.clone()))
            }
        }
    };
}

audited!(vouch_store::accounts::Account => resources::Account, "account", |a| a.id.to_string());
audited!(vouch_store::setups::Setup => resources::Setup, "referral_setup", |s| s.id.clone());
audited!(vouch_store::programs::Program => resources::Program, "program", |p| p.id.clone());
audited!(vouch_store::participants::Participant => resources::Participant, "participant", |p| p.id.clone());
audited!(vouch_store::referrals::Referral => resources::Referral, "referral", |r| r.id.clone());
audited!(vouch_store::rewards::RewardRule => resources::RewardRule, "reward_rule", |r| r.id.clone());
audited!(vouch_store::rewards::Reward => resources::Reward, "reward", |r| r.id.clone());
audited!(vouch_store::rewards::Clawback => resources::Clawback, "clawback", |c| c.id.clone());
audited!(vouch_store::users::StaffUser => resources::StaffUser, "staff_user", |u| u.id.clone());
audited!(vouch_store::api_keys::ApiKey => resources::ApiKey, "api_key", |k| k.id.clone());
audited!(vouch_store::people::Person => resources::Person, "person", |p| p.id.clone());
audited!(vouch_store::partners::Partner => resources::Partner, "partner", |p| p.id.clone());
audited!(vouch_store::commissions::Commission => resources::Commission, "commission", |c| c.id.clone());
audited!(vouch_store::sales::Sale => resources::Sale, "sale", |s| s.id.clone());
audited!(vouch_store::sales_referrals::SalesReferral => resources::SalesReferral, "sales_referral", |r| r.id.clone());
audited!(vouch_store::bonuses::Bonus => resources::Bonus, "bonus", |b| b.id.clone());
audited!(vouch_store::payments::Payment => resources::Payment, "payment", |p| p.id.clone());
audited!(vouch_store::webhooks::Endpoint => resources::Endpoint, "webhook_endpoint", |e| e.id.clone());
