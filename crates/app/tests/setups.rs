//! The setup approval procedure (seed 000), run on SQLite and (when `VOUCH_TEST_POSTGRES_URL`
//! is set) on PostgreSQL.

use vouch_app::{AppError, Ctx, Settings, setups};
use vouch_domain::account::{AccountFields, CloneOverrides};
use vouch_domain::setup::{Beneficiary, SetupPlan, SetupStatus};
use vouch_store::accounts::{self, ListQuery};
use vouch_store::audit::{self, Origin};
use vouch_store::testing::{backends, fresh_store};

fn fields(name: &str, email: &str) -> AccountFields {
    AccountFields {
        name: name.into(),
        email: email.into(),
        owner_first_name: "Ann".into(),
        owner_last_name: "Lee".into(),
        ..Default::default()
    }
}

async fn each_backend<F, Fut>(email_domain: &str, test: F)
where
    F: Fn(Ctx) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for backend in backends() {
        let store = fresh_store(backend).await.expect("store");
        let settings = Settings {
            clone_email_domain: email_domain.into(),
            ..Settings::default()
        };
        let ctx = Ctx::new(store.clone(), settings).await.expect("ctx");
        test(ctx).await;
        store.close().await;
    }
}

fn plan_for(account_id: i64, label: Option<&str>) -> SetupPlan {
    SetupPlan {
        beneficiary: Beneficiary::Existing { account_id },
        super_customer: CloneOverrides {
            beneficiary_label: label.map(str::to_string),
            ..Default::default()
        },
    }
}

#[tokio::test]
async fn approving_a_setup_runs_the_whole_procedure_once() {
    each_backend("purchasingplatform.com", |ctx| async move {
        let origin = Origin::system();
        let vector = vouch_app::accounts::create_account(
            &ctx,
            &origin,
            &fields("Vector Services - Contractor", "ops@vector.example"),
            None,
            false,
        )
        .await
        .expect("vector");
        let setup = setups::request_setup(&ctx, &origin, plan_for(vector.id, Some("Vector")))
            .await
            .expect("request");
        let done = setups::approve_setup(&ctx, &origin, &setup.id, Some("ok"))
            .await
            .expect("approve");
        assert_eq!(done.setup.status, SetupStatus::Approved);
        let sc = &done.super_customer;
        assert_eq!(sc.name, "Vector Referral Super Customer");
        assert_eq!(
            sc.email,
            "vectorreferralsupercustomer@purchasingplatform.com"
        );
        assert!(sc.is_super_customer && sc.registration_approved);
        assert_eq!(done.beneficiary.parent_id, Some(sc.id));
        assert!(done.beneficiary.exempt_from_membership_fees);
        // A second decision is refused and changes nothing.
        let err = setups::reject_setup(&ctx, &origin, &setup.id, None)
            .await
            .expect_err("already decided");
        assert_eq!(err.code(), "already_decided", "{err:?}");
        let mut conn = ctx.store.conn().await.expect("conn");
        let log = audit::list(
            &mut conn,
            &audit::Filter {
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .expect("audit");
        let actions: Vec<_> = log.iter().map(|e| e.action.as_str()).collect();
        for a in [
            "referral_setup.requested",
            "account.cloned",
            "account.designated_super_customer",
            "account.registration_opened",
            "account.nested",
            "referral_setup.approved",
        ] {
            assert!(actions.contains(&a), "{a} not audited: {actions:?}");
        }
        // The audit entry and the event carry the public representation, not the row.
        let approved = log
            .iter()
            .find(|e| e.action == "referral_setup.approved")
            .and_then(|e| e.after.clone())
            .expect("after");
        assert_eq!(approved["status"], "approved");
        let events = vouch_store::events::since(
            &mut conn,
            vouch_domain::Timestamp::parse("2000-01-01T00:00:00Z").expect("time"),
            100,
        )
        .await
        .expect("events");
        let event = events
            .iter()
            .find(|e| e.event_type == "referral_setup.approved")
            .expect("event");
        assert_eq!(event.data, approved);
    })
    .await;
}

#[tokio::test]
async fn failed_approval_leaves_nothing_behind() {
    each_backend("pp.example", |ctx| async move {
        let origin = Origin::system();
        let create = |name: &'static str, email: &'static str| {
            let ctx = ctx.clone();
            let origin = origin.clone();
            async move {
                vouch_app::accounts::create_account(
                    &ctx,
                    &origin,
                    &fields(name, email),
                    None,
                    false,
                )
                .await
                .expect(name)
            }
        };
        let vector = create("Vector", "ops@vector.example").await;
        let setup = setups::request_setup(&ctx, &origin, plan_for(vector.id, None))
            .await
            .expect("request");
        // The clone's conventional email is taken after the request: approval must fail as a
        // whole, naming the field.
        create("Squatter", "vectorreferralsupercustomer@pp.example").await;
        let err = setups::approve_setup(&ctx, &origin, &setup.id, None)
            .await
            .expect_err("conflict");
        assert!(
            matches!(&err, AppError::Conflict { errors, .. } if errors.iter().any(|e| e.field == "super_customer.email")),
            "{err:?}"
        );
        let again = setups::get_setup(&ctx, &setup.id).await.expect("get");
        assert_eq!(again.status, SetupStatus::Requested);
        let mut conn = ctx.store.conn().await.expect("conn");
        let all = accounts::list(
            &mut conn,
            &ListQuery {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .expect("list");
        assert_eq!(all.len(), 2);
    })
    .await;
}
