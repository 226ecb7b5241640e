//! Lost races answer 409: every state machine guards its update on the state the caller read,
//! so a change made from a stale read — another request got there first — is refused as
//! `StoreError::WrongState`, which every caller answers with 409 and a stable code. One test per
//! state machine (programs, setups, referrals, rewards, clawbacks), on each store.

mod common;

use common::{Api, TestApp, each_backend};
use reqwest::StatusCode;
use serde_json::{Value, json};
use vouch_domain::permission::{Role, Scope};
use vouch_domain::program::ProgramStatus;
use vouch_domain::referral::Stage;
use vouch_domain::reward::RewardStatus;
use vouch_domain::setup::Decision;
use vouch_store::audit::Origin;
use vouch_store::{StoreError, programs, referrals, rewards, setups};

/// The second of two changes made from the same read loses: 409 with this code.
fn lost(result: Result<impl std::fmt::Debug, StoreError>, code: &str) {
    match result {
        Err(e @ StoreError::WrongState { .. }) => {
            let answer = vouch_server::error::ApiError::from(vouch_app::AppError::from(e));
            assert_eq!(answer.status, StatusCode::CONFLICT);
            assert_eq!(answer.code, code);
        }
        other => panic!("expected a lost race, got {other:?}"),
    }
}

async fn live_program(app: &TestApp, body: Value) -> (Api, String) {
    let manager = app.staff(Role::Manager).await;
    let p = manager.post("/api/v1/programs", body).await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.text);
    let id = p.body["id"].as_str().expect("id").to_string();
    manager
        .post(
            &format!("/api/v1/programs/{id}/status"),
            json!({ "status": "live" }),
        )
        .await;
    (manager, id)
}

/// Ann refers Bo, whose signup wins the referral (the program qualifies on signup).
async fn won_referral(app: &TestApp, program: &str) -> (Api, String) {
    let key = app.key_client(Scope::Write).await;
    let ann = key
        .post(
            &format!("/api/v1/programs/{program}/participants"),
            json!({ "email": "ann@example.com" }),
        )
        .await;
    key.post(
        &format!("/api/v1/programs/{program}/participants"),
        json!({ "email": "bo@example.com", "referred_by": ann.body["code"] }),
    )
    .await;
    let list = key
        .get(&format!("/api/v1/programs/{program}/referrals"))
        .await;
    let id = list.body["data"][0]["id"]
        .as_str()
        .expect("referral")
        .to_string();
    (key, id)
}

#[tokio::test]
async fn programs() {
    each_backend(|app| async move {
        let manager = app.staff(Role::Manager).await;
        let p = manager
            .post(
                "/api/v1/programs",
                json!({ "name": "Race", "landing_url": "https://shop.example.com" }),
            )
            .await;
        let id = p.body["id"].as_str().expect("id");
        let mut conn = app.state.store.conn().await.expect("conn");
        let read = programs::get(&mut conn, id)
            .await
            .expect("get")
            .expect("program");
        programs::set_status(&mut conn, &read, ProgramStatus::Live, true)
            .await
            .expect("first");
        lost(
            programs::set_status(&mut conn, &read, ProgramStatus::Ended, true).await,
            "invalid_transition",
        );
        drop(conn);
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn setups() {
    each_backend(|app| async move {
        let api = app.key_client(Scope::Write).await;
        let a = api
            .post("/api/v1/accounts", json!({ "name": "Vector Services", "email": "ops@vector.example", "owner_first_name": "Ann", "owner_last_name": "Lee" }))
            .await;
        let s = api
            .post("/api/v1/referral-setups", json!({ "beneficiary_id": a.body["id"], "super_customer": { "beneficiary_label": "Vector" } }))
            .await;
        assert_eq!(s.status, StatusCode::CREATED, "{}", s.text);
        let id = s.body["id"].as_str().expect("id");
        let mut conn = app.state.store.conn().await.expect("conn");
        let read = setups::get(&mut conn, id).await.expect("get").expect("setup");
        setups::mark_decided(&mut conn, "first", &read, Decision::Reject, None)
            .await
            .expect("first");
        lost(
            setups::mark_decided(&mut conn, "second", &read, Decision::Approve, None).await,
            "already_decided",
        );
        drop(conn);
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn referral_stages() {
    each_backend(|app| async move {
        let (_, program) = live_program(
            &app,
            json!({ "name": "Race", "landing_url": "https://shop.example.com" }),
        )
        .await;
        let (_, id) = won_referral(&app, &program).await;
        let mut conn = app.state.store.begin().await.expect("tx");
        let read = referrals::get(&mut conn, &id)
            .await
            .expect("get")
            .expect("referral");
        assert_eq!(read.stage, Stage::Won);
        let origin = Origin::system();
        referrals::set_stage(&mut conn, &origin, &read, Stage::Lost, Some("refunded"))
            .await
            .expect("first");
        lost(
            referrals::set_stage(
                &mut conn,
                &origin,
                &read,
                Stage::Lost,
                Some("refunded twice"),
            )
            .await,
            "invalid_transition",
        );
        drop(conn);
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn rewards_and_clawbacks() {
    each_backend(|app| async move {
        let (manager, program) = live_program(
            &app,
            json!({ "name": "Race", "landing_url": "https://shop.example.com" }),
        )
        .await;
        let r = manager
            .post(
                &format!("/api/v1/programs/{program}/reward-rules"),
                json!({ "name": "Each friend", "trigger": "every", "threshold": 1, "amount": 500 }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let (key, referral) = won_referral(&app, &program).await;
        let listed = key
            .get(&format!("/api/v1/programs/{program}/rewards"))
            .await;
        let reward = listed.body["data"][0]["id"]
            .as_str()
            .expect("reward")
            .to_string();

        let mut conn = app.state.store.conn().await.expect("conn");
        let read = rewards::get(&mut conn, &reward)
            .await
            .expect("get")
            .expect("reward");
        assert_eq!(read.status, RewardStatus::Earned);
        let change = rewards::Change::default();
        rewards::set_status(&mut conn, &read, RewardStatus::Delivered, change.clone())
            .await
            .expect("first");
        lost(
            rewards::set_status(&mut conn, &read, RewardStatus::Revoked, change).await,
            "invalid_transition",
        );
        drop(conn);

        // Revoking the delivered reward's referral opens a clawback; two decisions from one
        // read: the second loses.
        let r = manager
            .post(
                &format!("/api/v1/referrals/{referral}/stage"),
                json!({ "stage": "lost", "reason": "refunded" }),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let mut conn = app.state.store.conn().await.expect("conn");
        let open = rewards::clawbacks(&mut conn, &program, "open")
            .await
            .expect("clawbacks");
        let read = open.into_iter().next().expect("an open clawback");
        rewards::decide_clawback(&mut conn, "first", &read, "recovered")
            .await
            .expect("first");
        lost(
            rewards::decide_clawback(&mut conn, "second", &read, "waived").await,
            "already_decided",
        );
        drop(conn);
        app.stop().await;
    })
    .await;
}
