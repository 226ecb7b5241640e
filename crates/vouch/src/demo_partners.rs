//! The partner side of the demo (seeds 003 and 004): an agency that refers clients to us and
//! receives referrals from us, with referrals both ways (one a possible duplicate, one won
//! with its commission waiting for review) and commission terms in the sales program, its
//! portal admin's invitation waiting in the outbox, and two partners that buy customers (by
//! API post and by email), each with a sale.

use anyhow::anyhow;
use vouch_app::Ctx;
use vouch_app::partner_referrals::{self, EditFields, Side};
use vouch_domain::lead_sale::LeadFields;
use vouch_domain::money::BasisPoints;
use vouch_domain::partner::{Commission, PartnerFields};
use vouch_domain::partner_referral::{Direction, ReferralFields, Stage};
use vouch_domain::partner_user::PartnerRole;
use vouch_store::audit::Origin;

fn describe(e: vouch_app::AppError) -> anyhow::Error {
    anyhow!("{}: {:?}", e.detail(), e.field_errors())
}

/// The agency's portal admin: the invitation to set a password is in the outbox.
pub const PORTAL_ADMIN: &str = "nora@northwind.demo.vouch.local";

fn client(name: &str, company: &str, email: &str, value: Option<i64>) -> ReferralFields {
    ReferralFields {
        client_name: name.into(),
        company: company.into(),
        email: email.into(),
        needs: vec!["plan_advice".into(), "joint_demo".into()],
        value,
        currency: if value.is_some() {
            "USD".into()
        } else {
            String::new()
        },
        ..Default::default()
    }
}

/// A sale to each buyer: a customer to the email buyer (delivered when a worker runs), a lead
/// to the API-post buyer (its example Post URL does not answer, so its delivery log shows the
/// retries).
async fn sell_to(
    ctx: &Ctx,
    origin: &Origin,
    buyer: &vouch_store::partners::Partner,
) -> anyhow::Result<()> {
    let by_email = buyer.delivery_method == Some(vouch_domain::partner::DeliveryMethod::Email);
    let mut fields = LeadFields {
        first_name: "Dana".into(),
        last_name: "Home".into(),
        email: "dana@home.example".into(),
        phones: vec!["+1 555 0100".into()],
        street: "1 Main St".into(),
        city: "Springfield".into(),
        region: "IL".into(),
        postal_code: "62701".into(),
        country: "US".into(),
        promo_code: "SPRING".into(),
        sale_price: Some(2_500),
        currency: "USD".into(),
        ..Default::default()
    };
    if by_email {
        fields.kind = "customer".into();
        fields.first_name = "Eli".into();
        fields.last_name = "Ward".into();
        fields.email = "eli@ward.example".into();
        fields.sale_price = Some(15_000);
        fields.monthly_recurring_revenue = Some(4_999);
        fields.activation_fee = Some(9_900);
        fields.contract_term_months = Some(36);
    }
    vouch_app::lead_sales::sell(ctx, origin, &buyer.id, &fields)
        .await
        .map_err(describe)?;
    Ok(())
}

pub async fn load(ctx: &Ctx, origin: &Origin, sales_program: &str) -> anyhow::Result<()> {
    let o = origin;
    let agency = vouch_app::partners::create_partner(
        ctx,
        o,
        &PartnerFields {
            name: "Northwind Agency".into(),
            website: "https://northwind.example".into(),
            contact_name: "Nora West".into(),
            contact_email: "ops@northwind.example".into(),
            refers_clients: true,
            receives_referrals: true,
            listed_in_directory: true,
            notes: "Shopify and commerce agency; joint demos on Thursdays.".into(),
            ..Default::default()
        },
        None,
    )
    .await
    .map_err(describe)?;
    for buyer in [
        PartnerFields {
            name: "Test Customer BUYER".into(),
            buys_customers: true,
            delivery_method: "api_post".into(),
            post_url: "https://crm.buyer.example/leads".into(),
            source_id: "4471".into(),
            notification_emails: vec!["sales@buyer.example".into()],
            ..Default::default()
        },
        PartnerFields {
            name: "Mail Leads Co".into(),
            buys_customers: true,
            delivery_method: "email".into(),
            notification_emails: vec!["leads@mailleads.example".into()],
            ..Default::default()
        },
    ] {
        let buyer = vouch_app::partners::create_partner(ctx, o, &buyer, None)
            .await
            .map_err(describe)?;
        sell_to(ctx, o, &buyer).await?;
    }
    vouch_app::partners::set_commission(
        ctx,
        o,
        &agency.id,
        sales_program,
        Commission::Percentage(BasisPoints(1_000)),
    )
    .await
    .map_err(describe)?;

    let staff = Side::Staff(o);
    let create = |direction, fields: ReferralFields| {
        let staff = staff.clone();
        let agency = agency.id.clone();
        async move {
            partner_referrals::create(ctx, &staff, &agency, direction, &fields)
                .await
                .map_err(describe)
        }
    };
    create(
        Direction::ToPartner,
        client("Abe Client", "Abe's Bikes", "abe@abesbikes.example", None),
    )
    .await?;
    let dana = create(
        Direction::ToUs,
        client(
            "Dana Home",
            "Home Goods Ltd",
            "dana@homegoods.example",
            Some(250_000),
        ),
    )
    .await?;
    partner_referrals::edit(
        ctx,
        &staff,
        &dana.id,
        &EditFields {
            stage: Some(Stage::InProgress),
            notes: Some("Demo booked for Thursday.".into()),
            ..Default::default()
        },
    )
    .await
    .map_err(describe)?;
    // A client the agency brought us, won: its 10 % commission waits for a manager's review.
    let signed = create(
        Direction::ToUs,
        client(
            "Gil Store",
            "Gil's Outdoor",
            "gil@gilsoutdoor.example",
            Some(400_000),
        ),
    )
    .await?;
    partner_referrals::edit(
        ctx,
        &staff,
        &signed.id,
        &EditFields {
            stage: Some(Stage::Won),
            ..Default::default()
        },
    )
    .await
    .map_err(describe)?;
    // Another contact at the same company: flagged as a possible duplicate for staff.
    create(
        Direction::ToUs,
        client("Eli Home", "Home Goods Ltd", "eli@homegoods.example", None),
    )
    .await?;
    let won = create(
        Direction::ToPartner,
        client(
            "Fay Garden",
            "Garden & Co",
            "fay@gardenco.example",
            Some(120_000),
        ),
    )
    .await?;
    partner_referrals::edit(
        ctx,
        &staff,
        &won.id,
        &EditFields {
            stage: Some(Stage::Won),
            ..Default::default()
        },
    )
    .await
    .map_err(describe)?;
    vouch_app::partner_users::invite(
        ctx,
        o,
        &agency.id,
        PORTAL_ADMIN,
        "Nora West",
        PartnerRole::Admin,
    )
    .await
    .map_err(describe)?;
    Ok(())
}
