//! Selling leads and customers to partners that buy them (seed 004), delivering them the
//! buyer's way, and the buyer's monthly statement.
//!
//! A sale, its audit entry, its `lead.sold` event, its delivery job (or delivery emails) and
//! the sale notification emails commit in one transaction: a sale is never recorded without
//! its delivery queued, nor a lead sent for a sale that rolled back. The worker then reports
//! each batch of ended deliveries through [`deliveries_finished`], which moves the sale once however often
//! a job runs (delivery is at least once; the buyer de-duplicates by the sale's id).

use crate::resources::{DeliveryAttempt, LeadSale as SaleOut, LeadStatement, StatementTotal};
use crate::{AppError, AppResult, Ctx, commit, record};
use std::collections::BTreeMap;
use vouch_domain::email_template::Kind;
use vouch_domain::lead_sale::{DeliveryStatus, LeadFields, Month};
use vouch_domain::money::format as money_text;
use vouch_domain::partner::{DeliveryMethod, PartnerStatus};
use vouch_store::audit::Origin;
use vouch_store::lead_sales::{self as store, SaleFilter};
use vouch_store::partners::Partner;
use vouch_store::{Conn, Store};

/// The job kind of an API post; the worker in `vouch_jobs` runs it.
pub const POST_JOB: &str = "lead_post";
/// Attempts of an API post before the sale is marked failed (the webhook retry schedule).
const POST_ATTEMPTS: i64 = 8;

async fn partner(conn: &mut Conn, id: &str) -> AppResult<Partner> {
    vouch_store::partners::get(conn, id)
        .await?
        .ok_or_else(|| AppError::not_found("partner"))
}

/// Sells a lead or customer to `partner_id` and queues its delivery. An unknown partner is a
/// field error on `partner_id` (the id travels in the body).
pub async fn sell(
    ctx: &Ctx,
    origin: &Origin,
    partner_id: &str,
    fields: &LeadFields,
) -> AppResult<SaleOut> {
    let draft = fields.parse();
    let mut tx = ctx.store.begin().await?;
    let buyer = vouch_store::partners::get(&mut tx, partner_id).await?;
    let Some(buyer) = buyer else {
        let mut errors = draft.err().map(|v| v.errors().to_vec()).unwrap_or_default();
        errors.insert(
            0,
            vouch_domain::validation::FieldError {
                field: "partner_id".into(),
                message: "no partner has this id".into(),
            },
        );
        return Err(AppError::invalid(errors));
    };
    let draft = draft?;
    if buyer.status == PartnerStatus::Suspended {
        return Err(AppError::conflict(
            "partner_suspended",
            "the partner is suspended: nothing new is sent to or taken from it",
        ));
    }
    let method = match (buyer.buys_customers, buyer.delivery_method) {
        (true, Some(m)) => m,
        _ => {
            return Err(AppError::conflict(
                "partner_cannot",
                format!("{} does not buy customers", buyer.name),
            ));
        }
    };
    let row = store::create(&mut tx, &buyer.id, &draft, method, &origin.actor.label).await?;
    let sale = SaleOut::new(row, buyer.name.clone());
    let data = serde_json::to_value(&sale).unwrap_or_default();
    record::entry(
        &mut tx,
        origin,
        "lead.sold",
        "lead_sale",
        &sale.id,
        None,
        Some(data.clone()),
    );
    record::announce(&mut tx, "lead.sold", &data);
    if method == DeliveryMethod::ApiPost {
        vouch_store::jobs::enqueue(
            &mut tx,
            POST_JOB,
            Some(&sale.id),
            &serde_json::json!({ "lead_sale_id": sale.id }),
            POST_ATTEMPTS,
        )
        .await?;
    }
    notify(&mut tx, &buyer, &sale, method).await?;
    commit(tx).await?;
    Ok(sale)
}

/// The sale notification to each of the buyer's addresses. For email delivery it carries the
/// lead and *is* the delivery: each message's job is about the sale, so the worker reports
/// when it is sent.
async fn notify(
    conn: &mut Conn,
    buyer: &Partner,
    sale: &SaleOut,
    method: DeliveryMethod,
) -> AppResult<()> {
    let by_email = method == DeliveryMethod::Email;
    let money = |minor: i64| money_text(minor, &sale.currency);
    let vars = serde_json::json!({
        "partner": { "id": buyer.id, "name": buyer.name, "source_id": buyer.source_id },
        "by_email": by_email,
        "sale": {
            "id": sale.id,
            "kind": sale.kind.label(),
            "name": sale.name(),
            "company": sale.company,
            "email": sale.email,
            "phones": sale.phones,
            "address": sale.address(),
            "promo_code": sale.promo_code,
            "custom_fields": sale.custom_fields.iter().map(|(name, value)| serde_json::json!({ "name": name, "value": value })).collect::<Vec<_>>(),
            "price": money(sale.sale_price),
            "customer": sale.contract_term_months.map(|months| serde_json::json!({
                "monthly_recurring_revenue": money(sale.monthly_recurring_revenue.unwrap_or(0)),
                "activation_fee": money(sale.activation_fee.unwrap_or(0)),
                "contract_term_months": months,
            })),
        },
    });
    for to in &buyer.notification_emails {
        vouch_store::emails::queue(
            conn,
            Kind::LeadSold,
            to,
            &vars,
            vouch_store::emails::QueueOptions {
                program_id: None,
                unsubscribe_url: None,
                about: by_email.then_some(sale.id.as_str()),
                brand: None,
            },
        )
        .await?;
    }
    Ok(())
}

/// What the buyer's Post URL receives: the receiving party's source id, our unique id for the
/// sale (the buyer de-duplicates by it), the lead, and for a customer its contract.
pub fn post_body(sale: &SaleOut, source_id: &str) -> serde_json::Value {
    let mut body = serde_json::json!({
        "source_id": source_id,
        "sender_lead_id": sale.id,
        "kind": sale.kind,
        "first_name": sale.first_name,
        "last_name": sale.last_name,
        "company": sale.company,
        "email": sale.email,
        "phones": sale.phones,
        "address": {
            "street": sale.street,
            "city": sale.city,
            "region": sale.region,
            "postal_code": sale.postal_code,
            "country": sale.country,
        },
        "promo_code": sale.promo_code,
        "custom_fields": sale.custom_fields,
        "currency": sale.currency,
    });
    if let Some(months) = sale.contract_term_months {
        body["monthly_recurring_revenue"] = sale.monthly_recurring_revenue.into();
        body["activation_fee"] = sale.activation_fee.into();
        body["contract_term_months"] = months.into();
    }
    body
}

/// Where a post job sends the sale: the body and the buyer's Post URL, or why it cannot be
/// sent (the sale or its buyer's address is gone).
pub async fn post_target(store: &Store, sale_id: &str) -> AppResult<(String, serde_json::Value)> {
    let mut conn = store.conn().await?;
    let row = store::get(&mut conn, sale_id)
        .await?
        .ok_or_else(|| AppError::not_found("lead sale"))?;
    let buyer = partner(&mut conn, &row.partner_id).await?;
    if buyer.status == PartnerStatus::Suspended {
        return Err(AppError::conflict(
            "partner_suspended",
            format!("{} is suspended: nothing is sent to it", buyer.name),
        ));
    }
    let (Some(DeliveryMethod::ApiPost), Some(url), Some(source_id)) = (
        buyer.delivery_method,
        buyer.post_url.clone(),
        buyer.source_id.clone(),
    ) else {
        return Err(AppError::conflict(
            "no_post_url",
            format!(
                "{} no longer receives leads by API post (no Post URL and Source ID)",
                buyer.name
            ),
        ));
    };
    let sale = SaleOut::new(row, buyer.name);
    Ok((url, post_body(&sale, &source_id)))
}

/// How a delivery job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryEnd {
    Delivered,
    /// No attempts left; the last error.
    GaveUp(String),
}

/// One delivery job that ended, as the worker reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryEnded {
    pub sale_id: String,
    pub job_id: String,
    pub end: DeliveryEnd,
}

/// Moves each sale on when its delivery job ends, with its event, all in one transaction (the
/// worker reports a batch of finished jobs at once, so a busy queue pays one commit for many).
/// A sale is delivered by its first success (any address, for email) and stays so; it fails
/// only when nothing was delivered and no other job about it (another address) is still
/// queued or running. A job that runs again changes nothing the second time.
pub async fn deliveries_finished(store: &Store, ended: &[DeliveryEnded]) -> AppResult<()> {
    if ended.is_empty() {
        return Ok(());
    }
    let mut tx = store.begin().await?;
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    // Two addresses of one sale that give up in the same batch must not each wait for the other.
    let given_up: Vec<&str> = ended
        .iter()
        .filter(|e| matches!(e.end, DeliveryEnd::GaveUp(_)))
        .map(|e| e.job_id.as_str())
        .collect();
    for DeliveryEnded {
        sale_id,
        job_id: _,
        end,
    } in ended
    {
        if matches!(end, DeliveryEnd::GaveUp(_))
            && store::other_jobs_running(&mut tx, sale_id, &given_up).await?
        {
            continue;
        }
        let (from, to, error, event): (&[DeliveryStatus], _, _, _) = match end {
            DeliveryEnd::Delivered => (
                &[DeliveryStatus::Pending, DeliveryStatus::Failed],
                DeliveryStatus::Delivered,
                None,
                "lead.delivered",
            ),
            DeliveryEnd::GaveUp(e) => (
                &[DeliveryStatus::Pending],
                DeliveryStatus::Failed,
                Some(e.as_str()),
                "lead.delivery_failed",
            ),
        };
        let Some(row) = store::set_delivery(&mut tx, sale_id, from, to, error).await? else {
            continue;
        };
        let name = match names.get(&row.partner_id) {
            Some(n) => n.clone(),
            None => {
                let n = partner(&mut tx, &row.partner_id).await?.name;
                names.insert(row.partner_id.clone(), n.clone());
                n
            }
        };
        let sale = SaleOut::new(row, name);
        let data = serde_json::to_value(&sale).unwrap_or_default();
        record::entry(
            &mut tx,
            &Origin::system(),
            event,
            "lead_sale",
            &sale.id,
            None,
            Some(data.clone()),
        );
        record::announce(&mut tx, event, &data);
    }
    commit(tx).await?;
    Ok(())
}

/// Runs a failed delivery's dead jobs once more, now. Only a failed delivery can be retried
/// (409 `not_failed` otherwise), to an active buyer (409 `partner_suspended`), once the last
/// attempt is recorded (409 `delivery_in_progress` in the moment between the two).
pub async fn retry_delivery(ctx: &Ctx, origin: &Origin, id: &str) -> AppResult<SaleOut> {
    let mut tx = ctx.store.begin().await?;
    let before = store::get(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("lead sale"))?;
    let buyer = partner(&mut tx, &before.partner_id).await?;
    if before.delivery_status == DeliveryStatus::Failed {
        if buyer.status == PartnerStatus::Suspended {
            return Err(AppError::conflict(
                "partner_suspended",
                format!("{} is suspended: nothing is sent to it", buyer.name),
            ));
        }
        if store::dead_jobs(&mut tx, id).await?.is_empty() {
            return Err(AppError::conflict(
                "delivery_in_progress",
                "the last attempt is still being recorded; try again in a moment",
            ));
        }
    }
    let Some(row) = store::set_delivery(
        &mut tx,
        id,
        &[DeliveryStatus::Failed],
        DeliveryStatus::Pending,
        None,
    )
    .await?
    else {
        return Err(AppError::conflict(
            "not_failed",
            format!(
                "only a failed delivery can be retried; this one is {}",
                before.delivery_status.label().to_lowercase()
            ),
        ));
    };
    for job in store::dead_jobs(&mut tx, id).await? {
        vouch_store::jobs::retry_now(&mut tx, &job).await?;
    }
    let sale = SaleOut::new(row, buyer.name);
    record::entry(
        &mut tx,
        origin,
        "lead.delivery_retried",
        "lead_sale",
        &sale.id,
        None,
        Some(serde_json::to_value(&sale).unwrap_or_default()),
    );
    commit(tx).await?;
    Ok(sale)
}

/// A sale and its delivery log, oldest attempt first.
pub async fn get(ctx: &Ctx, id: &str) -> AppResult<(SaleOut, Vec<DeliveryAttempt>)> {
    let mut conn = ctx.store.conn().await?;
    let row = store::get(&mut conn, id)
        .await?
        .ok_or_else(|| AppError::not_found("lead sale"))?;
    let name = partner(&mut conn, &row.partner_id).await?.name;
    let log = store::delivery_log(&mut conn, id)
        .await?
        .into_iter()
        .map(DeliveryAttempt::from)
        .collect();
    Ok((SaleOut::new(row, name), log))
}

/// Sales newest first; `limit + 1` rows so the caller can tell whether more follow.
pub async fn list(
    ctx: &Ctx,
    filter: SaleFilter<'_>,
    starting_after: Option<&str>,
    limit: i64,
) -> AppResult<Vec<SaleOut>> {
    let mut conn = ctx.store.conn().await?;
    let rows = store::list(&mut conn, filter, starting_after, limit).await?;
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let name = match names.get(&row.partner_id) {
            Some(n) => n.clone(),
            None => {
                let n = partner(&mut conn, &row.partner_id).await?.name;
                names.insert(row.partner_id.clone(), n.clone());
                n
            }
        };
        out.push(SaleOut::new(row, name));
    }
    Ok(out)
}

/// A buyer's statement for `month` (`2026-11`): its sales that month and the totals owed per
/// currency. A partner that never bought gets an empty statement, not an error.
pub async fn statement(ctx: &Ctx, partner_id: &str, month: &str) -> AppResult<LeadStatement> {
    let month = Month::parse(month).map_err(|m| AppError::field("month", m))?;
    let mut conn = ctx.store.conn().await?;
    let buyer = partner(&mut conn, partner_id).await?;
    let (first, next) = month.bounds();
    let rows = store::of_month(&mut conn, partner_id, first, next).await?;
    let mut totals: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for r in &rows {
        let t = totals
            .entry(r.sale_price.currency().to_string())
            .or_default();
        t.0 += 1;
        t.1 = t.1.saturating_add(r.sale_price.minor());
    }
    Ok(LeadStatement {
        partner_id: buyer.id,
        partner_name: buyer.name.clone(),
        month: month.text(),
        sales: rows
            .into_iter()
            .map(|r| SaleOut::new(r, buyer.name.clone()))
            .collect(),
        totals: totals
            .into_iter()
            .map(|(currency, (count, amount))| StatementTotal {
                currency,
                count,
                amount,
            })
            .collect(),
    })
}

/// The statement as a table for CSV: one line per sale, then one total per currency. Amounts
/// in major units (`150.00`).
pub fn statement_table(s: &LeadStatement) -> crate::payouts::Table {
    let major = |minor: i64, currency: &str| {
        vouch_domain::money::Currency::parse(currency)
            .map(|c| vouch_domain::money::Money::new(minor, c).major_text())
            .unwrap_or_else(|_| minor.to_string())
    };
    let mut rows: Vec<Vec<String>> = s
        .sales
        .iter()
        .map(|sale| {
            vec![
                sale.sold_on.clone(),
                sale.id.clone(),
                sale.kind.as_str().to_string(),
                sale.name(),
                sale.company.clone().unwrap_or_default(),
                sale.email.clone().unwrap_or_default(),
                major(sale.sale_price, &sale.currency),
                sale.currency.clone(),
                sale.delivery_status.as_str().to_string(),
            ]
        })
        .collect();
    for t in &s.totals {
        rows.push(vec![
            String::new(),
            "total".into(),
            String::new(),
            format!("{} sold", t.count),
            String::new(),
            String::new(),
            major(t.amount, &t.currency),
            t.currency.clone(),
            String::new(),
        ]);
    }
    crate::payouts::Table {
        file_name: format!("lead-statement-{}-{}.csv", s.partner_id, s.month),
        header: vec![
            "sold_on",
            "sale_id",
            "kind",
            "name",
            "company",
            "email",
            "sale_price",
            "currency",
            "delivery_status",
        ],
        rows,
    }
}
