//! Leads and customers sold to partners, as the API, webhooks and the buyer's post show them.
//! Amounts are minor units of the sale's `currency`.

use serde::Serialize;
use std::collections::BTreeMap;
use vouch_domain::Timestamp;
use vouch_domain::lead_sale::{DeliveryStatus, LeadKind};
use vouch_domain::partner::DeliveryMethod;
use vouch_domain::sale::date_text;
use vouch_store as store;

/// A lead or customer sold to a partner that buys them, and where its delivery stands.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LeadSale {
    pub id: String,
    pub partner_id: String,
    pub partner_name: String,
    pub kind: LeadKind,
    pub first_name: String,
    pub last_name: String,
    pub company: Option<String>,
    pub email: Option<String>,
    pub phones: Vec<String>,
    pub street: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub promo_code: Option<String>,
    pub custom_fields: BTreeMap<String, String>,
    /// What the buyer owes us for it, in minor units of `currency`.
    pub sale_price: i64,
    pub currency: String,
    /// A customer's monthly recurring revenue (minor units); `null` for a lead.
    pub monthly_recurring_revenue: Option<i64>,
    /// A customer's activation fee (minor units); `null` for a lead.
    pub activation_fee: Option<i64>,
    /// A customer's contract term in months; `null` for a lead.
    pub contract_term_months: Option<i64>,
    /// Our own notes; never sent to the buyer.
    pub notes: Option<String>,
    /// How it is delivered (the buyer's method when it was sold).
    pub delivery_method: DeliveryMethod,
    pub delivery_status: DeliveryStatus,
    pub delivered_at: Option<Timestamp>,
    /// Why the last attempt failed, while the delivery is not done.
    pub delivery_error: Option<String>,
    pub sold_by: String,
    /// The day of the sale (UTC): the statement month it counts in.
    #[schema(format = Date)]
    pub sold_on: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl LeadSale {
    pub fn new(row: store::lead_sales::LeadSale, partner_name: String) -> Self {
        let customer = row.customer;
        Self {
            id: row.id,
            partner_id: row.partner_id,
            partner_name,
            kind: row.kind,
            first_name: row.first_name,
            last_name: row.last_name,
            company: row.company,
            email: row.email,
            phones: row.phones,
            street: row.street,
            city: row.city,
            region: row.region,
            postal_code: row.postal_code,
            country: row.country,
            promo_code: row.promo_code,
            custom_fields: row.custom_fields,
            sale_price: row.sale_price.minor(),
            currency: row.sale_price.currency().to_string(),
            monthly_recurring_revenue: customer.map(|c| c.monthly_recurring_revenue.minor()),
            activation_fee: customer.map(|c| c.activation_fee.minor()),
            contract_term_months: customer.map(|c| c.contract_term_months),
            notes: row.notes,
            delivery_method: row.delivery_method,
            delivery_status: row.delivery_status,
            delivered_at: row.delivered_at,
            delivery_error: row.delivery_error,
            sold_by: row.sold_by,
            sold_on: date_text(row.sold_on),
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }

    /// `Dana Home`.
    pub fn name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    /// One line: street, city, region postal code, country (what is known).
    pub fn address(&self) -> Option<String> {
        let region_postal = [self.region.as_deref(), self.postal_code.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let parts: Vec<&str> = [
            self.street.as_deref(),
            self.city.as_deref(),
            (!region_postal.is_empty()).then_some(region_postal.as_str()),
            self.country.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

/// One attempt at delivering a sale.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DeliveryAttempt {
    /// `lead_post` (the API post) or `email`.
    pub channel: String,
    /// The address, for an email.
    pub to: Option<String>,
    /// 1 for the first attempt of its job.
    pub attempt: i64,
    pub started_at: Timestamp,
    pub duration_ms: i64,
    pub succeeded: bool,
    /// The buyer's HTTP status, for an API post that got an answer.
    pub response_status: Option<i64>,
    pub error: Option<String>,
}

impl From<store::lead_sales::DeliveryAttempt> for DeliveryAttempt {
    fn from(a: store::lead_sales::DeliveryAttempt) -> Self {
        Self {
            channel: a.channel,
            to: a.to,
            attempt: a.attempt,
            started_at: a.started_at,
            duration_ms: a.duration_ms,
            succeeded: a.succeeded,
            response_status: a.response_status,
            error: a.error,
        }
    }
}

/// What a buyer owes for one month's sales, per currency.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StatementTotal {
    pub currency: String,
    pub count: i64,
    /// Minor units of `currency`.
    pub amount: i64,
}

/// A buyer's monthly statement: every lead and customer sold to it that month, oldest first,
/// and what it owes us in all.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LeadStatement {
    pub partner_id: String,
    pub partner_name: String,
    /// `2026-11`.
    #[schema(example = "2026-11")]
    pub month: String,
    pub sales: Vec<LeadSale>,
    pub totals: Vec<StatementTotal>,
}
