//! `vouch demo`: the three tables of the super-customer playbook (seed 000) as data, and a
//! sales bonus program (seed 002, in `demo_sales`), so that a newcomer sees a populated
//! console after one command.

use anyhow::Context;
use vouch_app::Ctx;
use vouch_domain::account::{
    AccountFields, RegistrationPolicy, SUPER_CUSTOMER_PHONE, code_from_name,
};
use vouch_domain::permission::Role;
use vouch_store::accounts::{self, Placement};
use vouch_store::audit::Origin;

/// Confirmed referral programs: (beneficiary, super customer id, short name used by the link).
const REFERRAL_PROGRAMS: &[(&str, i64, &str)] = &[
    ("Vector Services - Contractor", 3192, "Vector Services"),
    ("Savage Renovation", 3337, "Savage Renovation"),
    ("Regency Integrated Health Services", 3338, "Regency Health"),
    ("Adam Salon", 3419, "Adam Salon"),
    (
        "Service Crucible Marketplace",
        3399,
        "Service Crucible Marketplace",
    ),
    ("HVAC Contractor", 3504, "Contractor"),
    ("Camp Digital", 4416, "Camp Digital"),
    ("HomeVestors", 1811, "HomeVestors"),
    ("Accuserve Employee", 4746, "Accuserve Employee"),
    ("Grand Slam Heating & Cooling", 4771, "Grand Slam"),
    ("RMUC 2025 Conference", 4808, "RMUC"),
    ("Service Titan Hacks Marketplace", 7982, "Service Titan"),
    ("Lula", 8006, "Lula"),
    ("Rocket Bookings Marketplace", 8178, "Rocket Bookings"),
    ("Blue Collar Advisors Marketplace", 8179, "Blue Collar"),
    ("Avoca Marketplace", 8180, "Avoca"),
    ("Hired Helpr Marketplace", 8182, "Hired Helpr"),
];

/// Marketplace channel partners: they register accounts themselves.
const CHANNEL_PARTNERS: &[(&str, i64, &str)] = &[
    ("Altisource Marketplace", 1746, "altisource"),
    ("Cardone Marketplace", 1747, "cardone"),
    ("HappyCo", 3138, "happyco"),
    ("Buildium", 3093, "buildium"),
    ("Lessen Marketplace", 1048, "lessen"),
];

/// Non-aligned self-registration environments.
const GENERIC: &[(&str, i64)] = &[
    ("MANUFACTURED HOUSING SUPER CUSTOMER", 2650),
    ("NON MH SUPER CUSTOMER", 2651),
    ("Self Registration", 3322),
    ("MHI Super Customer", 3333),
];

const DEMO_OWNER: &str = "owner@demo.vouch.local";

fn slug(name: &str) -> String {
    code_from_name(name).to_lowercase()
}

fn fields(
    name: &str,
    code: Option<String>,
    email: String,
    first: &str,
    last: &str,
) -> AccountFields {
    AccountFields {
        name: name.into(),
        code: code.unwrap_or_default(),
        email,
        owner_first_name: first.into(),
        owner_last_name: last.into(),
        ..Default::default()
    }
}

pub async fn load(ctx: &Ctx) -> anyhow::Result<()> {
    let origin = Origin::system();
    let domain = ctx.settings.clone_email_domain.clone();
    let mut tx = ctx.store.begin().await?;
    if accounts::get(&mut tx, 3192).await?.is_some() {
        println!(
            "the demo data is already loaded (account 3192 exists); to sign in as {DEMO_OWNER} again, set a new password: vouch users set-password --email {DEMO_OWNER}"
        );
        return Ok(());
    }
    let placed = |id: i64| Placement {
        id: Some(id),
        is_super_customer: true,
        registration_approved: true,
        ..Default::default()
    };
    for (_, id, short) in REFERRAL_PROGRAMS {
        let name = format!("{short} Referral Super Customer");
        let code = code_from_name(&name);
        let mut f = fields(
            &name,
            Some(code.clone()),
            format!("{}@{domain}", code.to_lowercase()),
            &format!("{short} Referral"),
            "Super Customer",
        );
        f.owner_phone = SUPER_CUSTOMER_PHONE.into();
        (f.vendor_matrix, f.corporate_catalog, f.whitelabeling) = (true, true, true);
        let draft = f
            .parse()
            .map_err(|v| anyhow::anyhow!("{name}: {:?}", v.errors()))?;
        vouch_app::accounts::insert(&mut tx, &origin, "account.created", &draft, &placed(*id))
            .await
            .with_context(|| name.clone())?;
    }
    for (name, id, site) in CHANNEL_PARTNERS {
        let mut f = fields(
            name,
            None,
            format!("partners@{site}.example"),
            "Partner",
            "Desk",
        );
        f.registration_policy = RegistrationPolicy::ChannelPartner.as_str().into();
        f.partner_site_url = format!("https://{site}.example/register");
        let draft = f
            .parse()
            .map_err(|v| anyhow::anyhow!("{name}: {:?}", v.errors()))?;
        vouch_app::accounts::insert(&mut tx, &origin, "account.created", &draft, &placed(*id))
            .await
            .with_context(|| name.to_string())?;
    }
    for (name, id) in GENERIC {
        let mut f = fields(
            name,
            None,
            format!("{}@{domain}", slug(name)),
            "Self",
            "Registration",
        );
        f.registration_policy = RegistrationPolicy::Generic.as_str().into();
        let draft = f
            .parse()
            .map_err(|v| anyhow::anyhow!("{name}: {:?}", v.errors()))?;
        vouch_app::accounts::insert(&mut tx, &origin, "account.created", &draft, &placed(*id))
            .await
            .with_context(|| name.to_string())?;
    }
    // Explicit customer ids first, then the sequence moves past them, then the rest.
    accounts::sync_id_sequence(&mut tx, ctx.store.backend()).await?;
    for (beneficiary, id, _) in REFERRAL_PROGRAMS {
        let mut b = fields(
            beneficiary,
            None,
            format!("owner@{}.example", slug(beneficiary)),
            "Pat",
            "Owner",
        );
        b.exempt_from_membership_fees = true;
        b.vendor_matrix = true;
        let draft = b
            .parse()
            .map_err(|v| anyhow::anyhow!("{beneficiary}: {:?}", v.errors()))?;
        let parent = Placement {
            parent_id: Some(*id),
            ..Default::default()
        };
        vouch_app::accounts::insert(&mut tx, &origin, "account.created", &draft, &parent)
            .await
            .with_context(|| beneficiary.to_string())?;
    }
    // A few registrations under Vector, so its page shows sub-customers.
    for (company, first, last) in [
        ("Northside Property Care", "Maya", "Ortiz"),
        ("Lakeview Apartments", "Sam", "Reed"),
        ("Pinecrest HOA", "Lee", "Chen"),
    ] {
        let f = fields(
            company,
            None,
            format!("{}@{}.example", first.to_lowercase(), slug(company)),
            first,
            last,
        );
        let draft = f
            .parse()
            .map_err(|v| anyhow::anyhow!("{company}: {:?}", v.errors()))?;
        let parent = Placement {
            parent_id: Some(3192),
            ..Default::default()
        };
        vouch_app::accounts::insert(&mut tx, &origin, "account.registered", &draft, &parent)
            .await
            .with_context(|| company.to_string())?;
    }
    tx.commit().await?;
    let sales_program = crate::demo_sales::load(ctx, &origin)
        .await
        .context("the sales bonus demo")?;
    crate::demo_partners::load(ctx, &origin, &sales_program)
        .await
        .context("the partner demo")?;
    crate::demo_programs::load(ctx, &origin)
        .await
        .context("the customer referral program demo")?;
    // A new customer asks to become a super customer: the request waits for the Management
    // Team's approval (Referral setups).
    let plan = vouch_domain::setup::SetupPlan {
        beneficiary: vouch_domain::setup::Beneficiary::New {
            account: Box::new(fields(
                "Harbor Dental Group",
                None,
                "office@harbordental.example".into(),
                "Rosa",
                "Marin",
            )),
        },
        super_customer: Default::default(),
    };
    vouch_app::setups::request_setup(ctx, &origin, plan)
        .await
        .map_err(crate::describe)
        .context("the super customer setup request")?;
    let password = format!("demo-{}", &vouch_app::auth::random_hex(8));
    vouch_app::staff::create_user(
        ctx,
        &origin,
        None,
        DEMO_OWNER,
        "Demo Owner",
        Role::Owner.as_str(),
        &password,
    )
    .await
    .map_err(crate::describe)?;
    println!(
        "loaded a customer referral program, Friends of Vouch (Programs): two referrers, four friends, two purchases and their rewards waiting to be delivered; its signup page is {}/p/{}",
        ctx.settings.base_url,
        crate::demo_programs::SLUG
    );
    println!(
        "loaded {} super customers (Accounts), {} channel partners and {} self-registration environments",
        REFERRAL_PROGRAMS.len(),
        CHANNEL_PARTNERS.len(),
        GENERIC.len()
    );
    println!(
        "loaded a 1Stop-style sales bonus program ({sales_program}): employees and vendors on agreed terms, referrals at each stage, sales, bonuses in each state and a paid payroll batch"
    );
    println!(
        "loaded partner companies: an agency with referrals both ways and a commission waiting for review, two buyers with a lead sale each (Partners → Lead sales); its portal admin's invitation ({}) is in the outbox (Emails), its link opens {}/portal",
        crate::demo_partners::PORTAL_ADMIN,
        ctx.settings.base_url
    );
    println!(
        "log in at {}/admin with {DEMO_OWNER} / {password}",
        ctx.settings.base_url
    );
    Ok(())
}
