//! Use cases read the time from `Ctx::clock`: moving it ends a reward hold without editing rows
//! or waiting. Run on SQLite and (when `VOUCH_TEST_POSTGRES_URL` is set) on PostgreSQL.

use vouch_app::{Ctx, Settings, participants, programs, rewards};
use vouch_domain::participant::ParticipantFields;
use vouch_domain::program::{ProgramFields, ProgramStatus};
use vouch_domain::reward::{RewardStatus, RuleFields};
use vouch_store::audit::Origin;
use vouch_store::testing::{backends, fresh_store};

fn person(email: &str, referred_by: &str) -> ParticipantFields {
    ParticipantFields {
        email: email.into(),
        first_name: "Ann".into(),
        referred_by: referred_by.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_hold_ends_when_the_clock_passes_it() {
    for backend in backends() {
        let store = fresh_store(backend).await.expect("store");
        let ctx = Ctx::new(store.clone(), Settings::default())
            .await
            .expect("ctx");
        let origin = Origin::system();
        let program = programs::create(
            &ctx,
            &origin,
            &ProgramFields {
                name: "Held".into(),
                landing_url: "https://shop.example.com".into(),
                reward_hold_days: 7,
                attribution_window_days: 30,
                attribution_model: "last_click".into(),
                qualifying_event: "signup".into(),
                currency: "USD".into(),
                ..Default::default()
            },
        )
        .await
        .expect("program");
        programs::set_status(&ctx, &origin, &program.id, ProgramStatus::Live, true)
            .await
            .expect("live");
        rewards::create_rule(
            &ctx,
            &origin,
            &program.id,
            &RuleFields {
                name: "Each friend".into(),
                trigger: "every".into(),
                threshold: 1,
                amount: Some(1000),
                ..Default::default()
            },
        )
        .await
        .expect("rule");
        let program = programs::get(&ctx, &program.id).await.expect("program");
        let draft = person("ann@example.com", "").parse().expect("ann");
        let (ann, _) = participants::enrol(&ctx, &origin, &program, &draft, &Default::default())
            .await
            .expect("ann");
        let draft = person("bo@example.com", &ann.code).parse().expect("bo");
        let (_, referral) =
            participants::enrol(&ctx, &origin, &program, &draft, &Default::default())
                .await
                .expect("bo");
        assert!(referral.is_some(), "bo was referred");

        let program_id = program.id.clone();
        let pending = |ctx: Ctx| {
            let program_id = program_id.clone();
            async move {
                let mut conn = ctx.store.conn().await.expect("conn");
                vouch_store::rewards::list(&mut conn, &program_id, &Default::default(), None, 10)
                    .await
                    .expect("rewards")
            }
        };
        let before = pending(ctx.clone()).await;
        assert_eq!(before.len(), 1);
        assert_eq!(before[0].status, RewardStatus::Pending);

        // Six days on, the hold still runs; eight days on, it has ended.
        ctx.clock.advance(time::Duration::days(6));
        assert_eq!(rewards::release_holds(&ctx).await.expect("release"), 0);
        ctx.clock.advance(time::Duration::days(2));
        assert_eq!(rewards::release_holds(&ctx).await.expect("release"), 1);
        let after = pending(ctx.clone()).await;
        assert_eq!(after[0].status, RewardStatus::Earned);
        store.close().await;
    }
}
