//! The customer referral side of the demo (seed 001): a live program, "Friends of Vouch", with
//! a double-sided reward rule, two referrers and the friends they brought, two of whom bought
//! (so their referrals are won and the rewards are waiting to be delivered).

use anyhow::anyhow;
use vouch_app::Ctx;
use vouch_app::participants::{EventIn, SignupContext};
use vouch_domain::participant::ParticipantDraft;
use vouch_domain::program::{ProgramFields, ProgramStatus};
use vouch_domain::reward::RuleFields;
use vouch_store::audit::Origin;

fn describe(e: vouch_app::AppError) -> anyhow::Error {
    anyhow!("{}: {:?}", e.detail(), e.field_errors())
}

/// The program's hosted signup page is `/p/{SLUG}`.
pub const SLUG: &str = "friends";

/// Loads the program; returns its id.
pub async fn load(ctx: &Ctx, origin: &Origin) -> anyhow::Result<String> {
    let fields = ProgramFields {
        name: "Friends of Vouch".into(),
        slug: SLUG.into(),
        landing_url: "https://shop.example.com/welcome".into(),
        qualifying_event: "purchase".into(),
        sender_name: "The Vouch Shop".into(),
        headline: "Share the Vouch Shop with a friend".into(),
        offer: "Give $10, get $10: you and each friend who makes a first purchase get $10.".into(),
        brand_color: "#0F766E".into(),
        ..ProgramFields::new_defaults()
    };
    let program = vouch_app::programs::create(ctx, origin, &fields)
        .await
        .map_err(describe)?;
    let rule = RuleFields {
        name: "Give $10, get $10".into(),
        threshold: 1,
        trigger: "every".into(),
        sides: "double".into(),
        kind: "cash".into(),
        amount: Some(1_000),
        friend_amount: Some(1_000),
        ..Default::default()
    };
    vouch_app::rewards::create_rule(ctx, origin, &program.id, &rule)
        .await
        .map_err(describe)?;
    let program =
        vouch_app::programs::set_status(ctx, origin, &program.id, ProgramStatus::Live, true)
            .await
            .map_err(describe)?;
    let join =
        |email: &str, first: &str, last: &str, referred_by: Option<String>| ParticipantDraft {
            email: email.into(),
            first_name: Some(first.into()),
            last_name: Some(last.into()),
            referred_by,
            ip_address: None,
            company: None,
        };
    let mut codes = Vec::new();
    for (email, first, last) in [
        ("ann@friends.demo.vouch.local", "Ann", "Lee"),
        ("ben@friends.demo.vouch.local", "Ben", "Okafor"),
    ] {
        let (p, _) = vouch_app::participants::enrol(
            ctx,
            origin,
            &program,
            &join(email, first, last, None),
            &SignupContext::default(),
        )
        .await
        .map_err(describe)?;
        codes.push(p.code);
    }
    let friends = [
        ("cleo@friends.demo.vouch.local", "Cleo", "Park", 0, true),
        ("dev@friends.demo.vouch.local", "Dev", "Shah", 0, true),
        ("eli@friends.demo.vouch.local", "Eli", "Moreau", 0, false),
        ("fay@friends.demo.vouch.local", "Fay", "Ito", 1, false),
    ];
    for (n, (email, first, last, referrer, bought)) in friends.into_iter().enumerate() {
        let (friend, _) = vouch_app::participants::enrol(
            ctx,
            origin,
            &program,
            &join(email, first, last, Some(codes[referrer].clone())),
            &SignupContext::default(),
        )
        .await
        .map_err(describe)?;
        if bought {
            let event = EventIn {
                event_id: format!("demo-order-{}", 1001 + n),
                name: "purchase".into(),
                participant_id: friend.id,
                ..Default::default()
            };
            vouch_app::participants::record_event(ctx, origin, &program, &event)
                .await
                .map_err(describe)?;
        }
    }
    Ok(program.id)
}
