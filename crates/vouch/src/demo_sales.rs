//! `vouch demo`, sales bonuses (seed 002): a 1Stop-style company with employees and vendors on
//! agreed terms, contacts, referrals at each stage, sales in draft and approved, bonuses in
//! each state, payments due and awaiting a milestone, and a paid payroll batch. Everything
//! goes through the application layer, so it is audited as it would be from the console.

use anyhow::{Context, anyhow};
use vouch_app::Ctx;
use vouch_app::bonuses::{self, BonusPatch};
use vouch_app::payouts::{self, BatchFields};
use vouch_app::sales::{self, PolicyFields};
use vouch_domain::bonus::{Milestone, PaymentMethod};
use vouch_domain::payout::PayeeGroup;
use vouch_domain::person::{PersonFields, PersonKind, TermsFields};
use vouch_domain::program::ProgramFields;
use vouch_domain::sale::{SaleFields, parse_date};
use vouch_domain::sales_referral::{ReferralFields, Stage};
use vouch_store::audit::Origin;

fn describe(e: vouch_app::AppError) -> anyhow::Error {
    anyhow!("{}: {:?}", e.detail(), e.field_errors())
}

async fn person(
    ctx: &Ctx,
    o: &Origin,
    kind: PersonKind,
    name: &str,
    number: &str,
) -> anyhow::Result<String> {
    let fields = PersonFields {
        name: name.into(),
        email: format!("{}@1stop.example", name.to_lowercase().replace(' ', ".")),
        employee_number: number.into(),
        ..Default::default()
    };
    Ok(vouch_app::people::create_person(ctx, o, kind, &fields)
        .await
        .map_err(describe)
        .with_context(|| name.to_string())?
        .id)
}

fn terms(
    bps: Option<i64>,
    fixed: Option<i64>,
    front: Milestone,
    back: Option<Milestone>,
    share: i64,
) -> TermsFields {
    TermsFields {
        percentage_bps: bps,
        fixed_amount: fixed,
        currency: fixed.map(|_| "USD".into()),
        front_term: Some(front),
        back_term: back,
        front_share_bps: Some(share),
    }
}

#[allow(clippy::too_many_arguments)]
async fn sale(
    ctx: &Ctx,
    o: &Origin,
    program: &str,
    referral: Option<&str>,
    customer: &str,
    amount: i64,
    description: &str,
    dates: &[(Milestone, &str)],
) -> anyhow::Result<String> {
    let fields = SaleFields {
        program_id: program.into(),
        customer_id: if referral.is_some() {
            String::new()
        } else {
            customer.into()
        },
        amount: Some(amount),
        lead_source: referral
            .is_none()
            .then_some(vouch_domain::bonus::LeadSource::Other),
        description: description.into(),
        dates: dates.iter().map(|(m, d)| (*m, d.to_string())).collect(),
        referral_id: referral.unwrap_or_default().into(),
        ..Default::default()
    };
    Ok(sales::create_sale(ctx, o, &fields)
        .await
        .map_err(describe)?
        .id)
}

async fn referral(
    ctx: &Ctx,
    o: &Origin,
    program: &str,
    referred: &str,
    referrer: &str,
    generated_by: &str,
    meeting: &str,
) -> anyhow::Result<String> {
    let fields = ReferralFields {
        program_id: program.into(),
        referred_id: referred.into(),
        referrer_id: referrer.into(),
        generated_by: generated_by.into(),
        meeting_at: meeting.into(),
        notes: String::new(),
    };
    Ok(vouch_app::sales_referrals::create(ctx, o, &fields)
        .await
        .map_err(describe)?
        .id)
}

/// Completes (with what the prefill lacks), submits and, unless `stop_at_review`, approves a
/// bonus.
async fn complete(
    ctx: &Ctx,
    o: &Origin,
    bonus: &str,
    patch: BonusPatch,
    approve: bool,
) -> anyhow::Result<()> {
    bonuses::update_bonus(ctx, o, bonus, patch)
        .await
        .map_err(describe)?;
    bonuses::submit_bonus(ctx, o, bonus)
        .await
        .map_err(describe)?;
    if approve {
        bonuses::approve_bonus(ctx, o, bonus)
            .await
            .map_err(describe)?;
    }
    Ok(())
}

pub async fn load(ctx: &Ctx, origin: &Origin) -> anyhow::Result<String> {
    let o = origin;
    let mut program = ProgramFields::new_defaults();
    program.name = "1Stop Home Services referrals".into();
    program.slug = "1stop".into();
    program.landing_url = "https://1stop.example/referrals".into();
    let program = vouch_app::programs::create(ctx, o, &program)
        .await
        .map_err(describe)?
        .id;
    sales::set_policy(
        ctx,
        o,
        &program,
        PolicyFields {
            contact_terms: Some(terms(
                None,
                Some(25_000),
                Milestone::PaidInFullDate,
                None,
                10_000,
            )),
            new_customer_bonus: true,
            new_customer_terms: Some(terms(None, Some(10_000), Milestone::SignDate, None, 10_000)),
            ..Default::default()
        },
    )
    .await
    .map_err(describe)?;

    let erin = person(ctx, o, PersonKind::Employee, "Erin Diaz", "E-104").await?;
    let gil = person(ctx, o, PersonKind::Employee, "Gil Moss", "E-117").await?;
    let vera = person(ctx, o, PersonKind::Vendor, "Vera Supply", "").await?;
    for (who, t) in [
        (
            &erin,
            terms(
                Some(1_000),
                None,
                Milestone::SignDate,
                Some(Milestone::InstallDate),
                5_000,
            ),
        ),
        (
            &gil,
            terms(None, Some(10_000), Milestone::JobApprovedDate, None, 10_000),
        ),
        (
            &vera,
            terms(Some(500), None, Milestone::SignDate, None, 10_000),
        ),
    ] {
        vouch_app::people::set_terms(ctx, o, who, &t)
            .await
            .map_err(describe)?;
    }
    let carla = person(ctx, o, PersonKind::Contact, "Carla Ruiz", "").await?;
    let mut customers = Vec::new();
    for name in [
        "Cora Buyer",
        "Dana Home",
        "Eli Owner",
        "Flo Grant",
        "Hal Park",
        "Ida Lane",
        "Jon Vale",
    ] {
        customers.push(person(ctx, o, PersonKind::Contact, name, "").await?);
    }
    let [cora, dana, eli, flo, hal, ida, jon] = customers.as_slice() else {
        return Err(anyhow!("seven demo customers"));
    };

    // Referrals at each stage.
    referral(ctx, o, &program, hal, &carla, "", "").await?;
    referral(ctx, o, &program, flo, &vera, "", "2026-12-03T15:00").await?;
    let proposal = referral(ctx, o, &program, ida, &gil, "", "2026-11-20T10:00").await?;
    vouch_app::sales_referrals::move_stage(
        ctx,
        o,
        &proposal,
        Stage::ProposalSent,
        "Quote for a new roof sent",
    )
    .await
    .map_err(describe)?;
    let lost = referral(ctx, o, &program, jon, &carla, "", "").await?;
    vouch_app::sales_referrals::move_stage(ctx, o, &lost, Stage::Lost, "Chose a competitor")
        .await
        .map_err(describe)?;

    // Worked example 1: Erin's referral of Cora, approved; payment 1 due, payment 2 awaiting
    // the install date.
    let r1 = referral(ctx, o, &program, cora, &erin, "", "2026-02-20T15:00").await?;
    let s1 = sale(
        ctx,
        o,
        &program,
        Some(&r1),
        "",
        1_000_000,
        "Solar panels",
        &[(Milestone::SignDate, "2026-03-02")],
    )
    .await?;
    let v1 = sales::approve_sale(ctx, o, &s1).await.map_err(describe)?;
    let b1 = &v1.bonuses.first().context("Erin's bonus")?.id;
    complete(ctx, o, b1, BonusPatch::default(), true).await?;

    // Worked example 2: Carla's referral of Dana, generated by Gil. Carla's bonus waits for a
    // payment method; Gil's is ready for review; the New Customer bonus is rejected.
    let r2 = referral(ctx, o, &program, dana, &carla, &gil, "").await?;
    let s2 = sale(
        ctx,
        o,
        &program,
        Some(&r2),
        "",
        2_000_000,
        "Kitchen remodel",
        &[
            (Milestone::SignDate, "2026-04-01"),
            (Milestone::JobApprovedDate, "2026-04-10"),
        ],
    )
    .await?;
    let v2 = sales::approve_sale(ctx, o, &s2).await.map_err(describe)?;
    for b in &v2.bonuses {
        match b.kind {
            vouch_domain::bonus::BonusKind::EmployeeGenerated => {
                complete(ctx, o, &b.id, BonusPatch::default(), false).await?;
            }
            vouch_domain::bonus::BonusKind::NewCustomer => {
                let patch = BonusPatch {
                    payment_method: Some(PaymentMethod::Check),
                    ..Default::default()
                };
                complete(ctx, o, &b.id, patch, false).await?;
                bonuses::reject_bonus(ctx, o, &b.id, "Dana was already a customer last year")
                    .await
                    .map_err(describe)?;
            }
            _ => {}
        }
    }

    // A vendor referral, approved and due, paid by check.
    let r3 = referral(ctx, o, &program, eli, &vera, "", "").await?;
    let s3 = sale(
        ctx,
        o,
        &program,
        Some(&r3),
        "",
        600_000,
        "HVAC replacement",
        &[(Milestone::SignDate, "2026-05-12")],
    )
    .await?;
    let v3 = sales::approve_sale(ctx, o, &s3).await.map_err(describe)?;
    for b in &v3.bonuses {
        let patch = BonusPatch {
            payment_method: Some(PaymentMethod::Check),
            ..Default::default()
        };
        complete(
            ctx,
            o,
            &b.id,
            patch,
            b.kind == vouch_domain::bonus::BonusKind::ReferralVendor,
        )
        .await?;
    }

    // A second sale of Erin's, installed: both payments paid in a payroll batch.
    let s4 = sale(
        ctx,
        o,
        &program,
        Some(&referral(ctx, o, &program, flo, &erin, "", "").await?),
        "",
        400_000,
        "Water heater",
        &[
            (Milestone::SignDate, "2026-01-15"),
            (Milestone::InstallDate, "2026-01-29"),
        ],
    )
    .await?;
    let v4 = sales::approve_sale(ctx, o, &s4).await.map_err(describe)?;
    for b in &v4.bonuses {
        if b.kind == vouch_domain::bonus::BonusKind::ReferralEmployee {
            complete(ctx, o, &b.id, BonusPatch::default(), true).await?;
        }
    }
    let batch = payouts::create_batch(
        ctx,
        o,
        &BatchFields {
            payee_group: PayeeGroup::Payroll,
            program_id: Some(program.clone()),
            due_from: None,
            due_to: parse_date("2026-02-28").map_err(|e| anyhow!(e))?,
        },
    )
    .await
    .map_err(describe)?;
    payouts::approve_batch(ctx, o, &batch.id)
        .await
        .map_err(describe)?;
    payouts::mark_batch_paid(
        ctx,
        o,
        &batch.id,
        "PAYROLL-2026-02",
        parse_date("2026-02-27").map_err(|e| anyhow!(e))?,
    )
    .await
    .map_err(describe)?;

    // And a draft waiting for a manager.
    sale(
        ctx,
        o,
        &program,
        None,
        hal,
        250_000,
        "Gutter cleaning (walk-in)",
        &[],
    )
    .await?;
    Ok(program)
}
