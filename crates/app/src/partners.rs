//! Partner companies (seeds 003 and 004) and their commission terms per program. A partner's
//! manager must be an active staff user; a buyer's Post URL passes the same outbound guard as a
//! webhook endpoint, so a lead can never be posted to an internal address.

use crate::resources::CommissionTerms as TermsOut;
use crate::{AppError, AppResult, Ctx, commit, record};
use vouch_domain::partner::{Commission, PartnerDraft, PartnerFields};
use vouch_store::Conn;
use vouch_store::audit::Origin;
use vouch_store::partners::{self, Partner, PartnerFilter};

/// Checks what the fields alone cannot: the manager is an active staff user, and the Post URL
/// may be reached.
async fn check_links(
    ctx: &Ctx,
    conn: &mut Conn,
    draft: &PartnerDraft,
    manager_id: Option<&str>,
) -> AppResult<()> {
    if let Some(id) = manager_id {
        let user = vouch_store::users::get(conn, id).await?;
        if user.is_none_or(|u| u.disabled_at.is_some()) {
            return Err(AppError::field(
                "manager_id",
                "no active staff user has this id",
            ));
        }
    }
    if let Some(url) = &draft.post_url {
        crate::outbound::check_url(url, &ctx.settings.outbound)
            .map_err(|m| AppError::field("post_url", m))?;
    }
    Ok(())
}

/// An empty manager id is none.
fn manager(id: Option<&str>) -> Option<&str> {
    id.map(str::trim).filter(|m| !m.is_empty())
}

pub async fn create_partner(
    ctx: &Ctx,
    origin: &Origin,
    fields: &PartnerFields,
    manager_id: Option<&str>,
) -> AppResult<Partner> {
    let draft = fields.parse()?;
    let manager_id = manager(manager_id);
    let mut tx = ctx.store.begin().await?;
    check_links(ctx, &mut tx, &draft, manager_id).await?;
    let partner = partners::create(&mut tx, &draft, manager_id).await?;
    record::change(
        &mut tx,
        origin,
        "partner.created",
        None,
        &partner,
        &["partner.created"],
    );
    commit(tx).await?;
    Ok(partner)
}

pub async fn get_partner(ctx: &Ctx, id: &str) -> AppResult<Partner> {
    let mut conn = ctx.store.conn().await?;
    partners::get(&mut conn, id)
        .await?
        .ok_or_else(|| AppError::not_found("partner"))
}

/// A partner's fields, e.g. to pre-fill a form or to apply a patch to.
pub fn fields_of(p: &Partner) -> PartnerFields {
    PartnerFields {
        name: p.name.clone(),
        website: p.website.clone().unwrap_or_default(),
        contact_name: p.contact_name.clone().unwrap_or_default(),
        contact_email: p.contact_email.clone().unwrap_or_default(),
        contact_phone: p.contact_phone.clone().unwrap_or_default(),
        notes: p.notes.clone().unwrap_or_default(),
        status: p.status.as_str().to_string(),
        refers_clients: p.refers_clients,
        receives_referrals: p.receives_referrals,
        buys_customers: p.buys_customers,
        listed_in_directory: p.listed_in_directory,
        delivery_method: p
            .delivery_method
            .map(|d| d.as_str().to_string())
            .unwrap_or_default(),
        post_url: p.post_url.clone().unwrap_or_default(),
        source_id: p.source_id.clone().unwrap_or_default(),
        notification_emails: p.notification_emails.clone(),
    }
}

/// Changes what `apply` sets on the partner's current fields and manager, checked whole.
pub async fn update_partner(
    ctx: &Ctx,
    origin: &Origin,
    id: &str,
    apply: impl FnOnce(&mut PartnerFields, &mut Option<String>),
) -> AppResult<Partner> {
    let mut tx = ctx.store.begin().await?;
    let before = partners::get(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("partner"))?;
    let mut fields = fields_of(&before);
    let mut manager_id = before.manager_id.clone();
    apply(&mut fields, &mut manager_id);
    let draft = fields.parse()?;
    let manager_id = manager(manager_id.as_deref());
    // An unchanged manager is kept even if they have left since: the partner is not at fault.
    let new_manager = manager_id.filter(|m| Some(*m) != before.manager_id.as_deref());
    check_links(ctx, &mut tx, &draft, new_manager).await?;
    let after = partners::update(&mut tx, id, &draft, manager_id).await?;
    if after != before {
        record::change(
            &mut tx,
            origin,
            "partner.updated",
            Some(&before),
            &after,
            &["partner.updated"],
        );
    }
    commit(tx).await?;
    Ok(after)
}

/// Partners newest first (`limit + 1` rows).
pub async fn list_partners(
    ctx: &Ctx,
    filter: &PartnerFilter<'_>,
    starting_after: Option<&str>,
    limit: i64,
) -> AppResult<Vec<Partner>> {
    let mut conn = ctx.store.conn().await?;
    Ok(partners::list(&mut conn, filter, starting_after, limit).await?)
}

/// What a partner import did (or, on a dry run, would do).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PartnerImportReport {
    pub dry_run: bool,
    /// Rows added as new partners.
    pub created: u64,
    /// Rows skipped because a partner of that name is there already (whatever its case):
    /// importing a file twice changes nothing.
    pub already_present: u64,
    /// Problems by line; those lines were skipped.
    pub errors: Vec<vouch_domain::import::LineError>,
}

/// Imports partners from CSV (see `vouch_domain::partner::parse_partners_csv` for the
/// columns), each row in its own transaction and audited and announced like one added by hand.
pub async fn import_partners(
    ctx: &Ctx,
    origin: &Origin,
    text: &str,
    dry_run: bool,
) -> AppResult<PartnerImportReport> {
    let (rows, errors) =
        vouch_domain::partner::parse_partners_csv(text).map_err(|m| AppError::field("csv", m))?;
    let mut report = PartnerImportReport {
        dry_run,
        created: 0,
        already_present: 0,
        errors,
    };
    for row in rows {
        let mut tx = ctx.store.begin().await?;
        if partners::find_by_name(&mut tx, &row.draft.name)
            .await?
            .is_some()
        {
            report.already_present += 1;
            continue;
        }
        if let Err(e) = check_links(ctx, &mut tx, &row.draft, None).await {
            report.errors.extend(e.field_errors().iter().map(|f| {
                vouch_domain::import::LineError {
                    line: row.line,
                    field: f.field.clone(),
                    message: f.message.clone(),
                }
            }));
            continue;
        }
        if dry_run {
            report.created += 1;
            continue;
        }
        let partner = partners::create(&mut tx, &row.draft, None).await?;
        record::change(
            &mut tx,
            origin,
            "partner.created",
            None,
            &partner,
            &["partner.created"],
        );
        commit(tx).await?;
        report.created += 1;
    }
    report.errors.sort_by_key(|e| e.line);
    Ok(report)
}

/// A partner's commission terms, by program (404 for an unknown partner).
pub async fn commission_terms(ctx: &Ctx, partner_id: &str) -> AppResult<Vec<TermsOut>> {
    let mut conn = ctx.store.conn().await?;
    if partners::get(&mut conn, partner_id).await?.is_none() {
        return Err(AppError::not_found("partner"));
    }
    Ok(partners::terms_of(&mut conn, partner_id)
        .await?
        .into_iter()
        .map(TermsOut::from)
        .collect())
}

async fn partner_and_program(conn: &mut Conn, partner_id: &str, program_id: &str) -> AppResult<()> {
    if partners::get(conn, partner_id).await?.is_none() {
        return Err(AppError::not_found("partner"));
    }
    if vouch_store::programs::get(conn, program_id)
        .await?
        .is_none()
    {
        return Err(AppError::not_found("program"));
    }
    Ok(())
}

/// Sets what a partner earns per won referral in a program (replacing earlier terms there;
/// the audit log keeps them).
pub async fn set_commission(
    ctx: &Ctx,
    origin: &Origin,
    partner_id: &str,
    program_id: &str,
    commission: Commission,
) -> AppResult<TermsOut> {
    let mut tx = ctx.store.begin().await?;
    partner_and_program(&mut tx, partner_id, program_id).await?;
    let before = partners::terms_in(&mut tx, partner_id, program_id)
        .await?
        .map(TermsOut::from);
    let after = TermsOut::from(
        partners::set_terms(
            &mut tx,
            partner_id,
            program_id,
            commission,
            &origin.actor.label,
        )
        .await?,
    );
    record::entry(
        &mut tx,
        origin,
        "partner.commission_set",
        "partner",
        partner_id,
        before.and_then(|b| serde_json::to_value(b).ok()),
        serde_json::to_value(&after).ok(),
    );
    commit(tx).await?;
    Ok(after)
}

/// Removes a partner's terms in a program: its referrals there earn no commission. 404 when
/// there were none.
pub async fn remove_commission(
    ctx: &Ctx,
    origin: &Origin,
    partner_id: &str,
    program_id: &str,
) -> AppResult<()> {
    let mut tx = ctx.store.begin().await?;
    partner_and_program(&mut tx, partner_id, program_id).await?;
    let before = partners::terms_in(&mut tx, partner_id, program_id)
        .await?
        .map(TermsOut::from)
        .ok_or_else(|| AppError::not_found("commission terms"))?;
    partners::remove_terms(&mut tx, partner_id, program_id).await?;
    record::entry(
        &mut tx,
        origin,
        "partner.commission_removed",
        "partner",
        partner_id,
        serde_json::to_value(before).ok(),
        None,
    );
    commit(tx).await?;
    Ok(())
}
