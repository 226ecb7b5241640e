//! What a new bonus starts with: its payee, the terms in force for them (copied in, so a later
//! change of terms never rewrites it), the amount those give on the sale, and payroll for
//! employees. Shared by a sale's approval and by "Add referral bonus".

use crate::AppResult;
use vouch_domain::bonus::{BonusKind, PaymentMethod};
use vouch_domain::money::{BasisPoints, Money};
use vouch_domain::person::{PersonKind, TermsFields};
use vouch_store::Conn;
use vouch_store::bonuses::BonusFields;
use vouch_store::people;
use vouch_store::sales::{BonusPolicy, Sale};

/// `fields` with the amount its terms give on a sale of `sale` (none while they give none).
pub(crate) fn with_amount(mut fields: BonusFields, sale: Money) -> BonusFields {
    fields.amount = match (fields.terms.percentage_bps, fields.terms.fixed_amount) {
        (Some(bps), None) => u32::try_from(bps)
            .ok()
            .filter(|b| (1..=10_000).contains(b))
            .map(|b| sale.share(BasisPoints(b)).minor()),
        (None, Some(fixed)) => Some(fixed),
        _ => None,
    };
    fields
}

/// Who a bonus of this kind pays on this sale.
pub(crate) fn payee_of(sale: &Sale, kind: BonusKind) -> Option<String> {
    match kind {
        BonusKind::NewCustomer | BonusKind::AddOnSale => Some(sale.customer_id.clone()),
        BonusKind::EmployeeGenerated => sale.generated_by.clone(),
        BonusKind::ReferralContact | BonusKind::ReferralEmployee | BonusKind::ReferralVendor => {
            sale.referred_by.clone()
        }
    }
}

/// What is known of a new bonus: its payee, the terms in force for them (an employee's or
/// vendor's own, the program's for contacts and the optional bonuses), the amount those give
/// on the sale, and payroll for employees. Completion confirms or changes each.
pub(crate) async fn prefill(
    conn: &mut Conn,
    sale: &Sale,
    policy: &BonusPolicy,
    kind: BonusKind,
) -> AppResult<BonusFields> {
    let payee_id = payee_of(sale, kind);
    let payee = match &payee_id {
        Some(id) => people::get(conn, id).await?,
        None => None,
    };
    let terms = match kind {
        BonusKind::NewCustomer => policy.new_customer_terms.clone(),
        BonusKind::AddOnSale => policy.add_on_terms.clone(),
        BonusKind::ReferralContact => policy.contact_terms.clone(),
        BonusKind::EmployeeGenerated | BonusKind::ReferralEmployee | BonusKind::ReferralVendor => {
            match &payee_id {
                Some(id) => people::current_terms(conn, id)
                    .await?
                    .map(|t| TermsFields::from(t.terms)),
                None => None,
            }
        }
    }
    .unwrap_or_default();
    // Fixed terms in another currency than the sale's cannot be copied as they are: leave the
    // basis for whoever completes the bonus.
    let terms = match terms.currency.as_deref() {
        Some(c) if c != sale.amount.currency().as_str() => TermsFields {
            fixed_amount: None,
            currency: None,
            ..terms
        },
        _ => terms,
    };
    let payment_method = payee
        .as_ref()
        .filter(|p| p.kind == PersonKind::Employee)
        .map(|_| PaymentMethod::Payroll);
    Ok(with_amount(
        BonusFields {
            payee_id,
            terms,
            amount: None,
            payment_method,
        },
        sale.amount,
    ))
}
