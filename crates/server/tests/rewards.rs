//! Rewards end to end on both stores: milestone arithmetic, double-sided rules, holds,
//! revocation and clawbacks, coupon pools, delivery by managers only and never twice.

mod common;

use common::{Api, TestApp, each_backend, enrol};
use reqwest::StatusCode;
use serde_json::{Value, json};
use vouch_domain::permission::{Role, Scope};

async fn program(app: &TestApp, hold_days: i64) -> String {
    let manager = app.staff(Role::Manager).await;
    let p = manager
        .post("/api/v1/programs", json!({ "name": format!("Rewards {}", vouch_domain::id::new_id("x")), "landing_url": "https://shop.example.com", "reward_hold_days": hold_days, "qualifying_event": "purchase" }))
        .await;
    let id = p.body["id"].as_str().expect("id").to_string();
    manager
        .post(
            &format!("/api/v1/programs/{id}/status"),
            json!({ "status": "live" }),
        )
        .await;
    id
}

async fn rule(api: &Api, program: &str, body: Value) -> Value {
    let r = api
        .post(&format!("/api/v1/programs/{program}/reward-rules"), body)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body
}

/// Refers `n` friends of `referrer` and wins each through a purchase event; returns the friends.
async fn win_friends(api: &Api, program: &str, referrer: &Value, n: usize) -> Vec<Value> {
    let mut friends = Vec::new();
    for _ in 0..n {
        let email = format!(
            "f-{}@example.com",
            vouch_domain::id::new_id("f").to_lowercase()
        );
        let friend = enrol(api, program, &email, Some(&referrer["code"])).await;
        let e = api
            .post(&format!("/api/v1/programs/{program}/events"), json!({ "event_id": format!("buy-{}", friend["id"].as_str().expect("id")), "name": "purchase", "participant_id": friend["id"] }))
            .await;
        assert_eq!(e.body["outcome"], "referral_won", "{}", e.text);
        friends.push(friend);
    }
    friends
}

async fn rewards_of(api: &Api, program: &str, query: &str) -> Vec<Value> {
    let r = api
        .get(&format!("/api/v1/programs/{program}/rewards{query}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let mut v = r.body["data"].as_array().cloned().unwrap_or_default();
    v.reverse();
    v
}

async fn referral_of(api: &Api, program: &str, friend: &Value) -> String {
    let r = api
        .get(&format!("/api/v1/programs/{program}/referrals?limit=100"))
        .await;
    r.body["data"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["referred_id"] == friend["id"]))
        .and_then(|x| x["id"].as_str())
        .expect("referral")
        .to_string()
}

/// A live program paying 5.00 for each friend won, a write key, and Ann, its first participant.
async fn ann_paid_for_each_friend(app: &TestApp) -> (String, Api, Value) {
    let program = program(app, 0).await;
    let manager = app.staff(Role::Manager).await;
    rule(
        &manager,
        &program,
        json!({ "name": "Each friend", "trigger": "every", "threshold": 1, "amount": 500 }),
    )
    .await;
    let key = app.key_client(Scope::Write).await;
    let ann = enrol(&key, &program, "ann@example.com", None).await;
    (program, key, ann)
}

#[tokio::test]
async fn milestones_pay_each_step_once_and_managers_deliver() {
    each_backend(|app| async move {
        let program = program(&app, 0).await;
        let manager = app.staff(Role::Manager).await;
        let staff = app.staff(Role::Staff).await;
        let bad = staff.post(&format!("/api/v1/programs/{program}/reward-rules"), json!({ "name": "x", "threshold": 1, "amount": 5 })).await;
        assert_eq!(bad.status, StatusCode::FORBIDDEN, "rules move money: managers only");
        let bad = manager.post(&format!("/api/v1/programs/{program}/reward-rules"), json!({ "threshold": 0, "kind": "cash" })).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.fields(), vec!["name", "threshold", "amount"]);
        let every2 = rule(&manager, &program, json!({ "name": "Every 2 friends", "trigger": "every", "threshold": 2, "amount": 1000, "max_per_participant": 2 })).await;
        assert_eq!(every2["active"], true);

        let key = app.key_client(Scope::Write).await;
        let ann = enrol(&key, &program, "ann@example.com", None).await;
        win_friends(&key, &program, &ann, 1).await;
        assert!(rewards_of(&key, &program, "").await.is_empty(), "one win is not two");
        win_friends(&key, &program, &ann, 5).await;
        let all = rewards_of(&key, &program, "").await;
        let steps: Vec<i64> = all.iter().map(|r| r["step"].as_i64().expect("step")).collect();
        assert_eq!(steps, vec![2, 4], "every 2, at most 2 per participant");
        for r in &all {
            assert_eq!(r["participant_id"], ann["id"]);
            assert_eq!(r["status"], "earned");
            assert_eq!(r["amount"], 1000);
            assert_eq!(r["currency"], "USD");
            assert_eq!(r["recipient"], "referrer");
        }
        let admin = app.key_client(Scope::Admin).await;
        let mails = admin.get("/api/v1/emails?limit=100").await;
        let earned: Vec<&Value> = mails.body["data"].as_array().expect("mails").iter().filter(|m| m["kind"] == "reward_earned").collect();
        assert_eq!(earned.len(), 2);
        assert!(earned[0]["text_body"].as_str().expect("text").contains("$10.00"));

        // Delivery: staff may not, a manager may, once.
        let id = all[0]["id"].as_str().expect("id");
        let path = format!("/api/v1/rewards/{id}/deliver");
        assert_eq!(staff.post(&path, json!({})).await.status, StatusCode::FORBIDDEN);
        assert_eq!(app.key_client(Scope::Write).await.post(&path, json!({})).await.status, StatusCode::FORBIDDEN);
        let done = manager.post(&path, json!({})).await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.text);
        assert_eq!(done.body["status"], "delivered");
        assert!(done.body["delivered_at"].is_string());
        let again = manager.post(&path, json!({})).await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert_eq!(again.body["code"], "invalid_transition");
        let one = key.get(&format!("/api/v1/rewards/{id}")).await;
        assert_eq!(one.status, StatusCode::OK, "{}", one.text);
        assert_eq!(one.body["status"], "delivered");
        assert_eq!(rewards_of(&key, &program, "?status=earned").await.len(), 1, "the queue");
        assert_eq!(key.get(&format!("/api/v1/programs/{program}/rewards?status=paid")).await.fields(), vec!["status".to_string()]);
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn two_deliveries_at_once_pay_once() {
    each_backend(|app| async move {
        let (program, key, ann) = ann_paid_for_each_friend(&app).await;
        win_friends(&key, &program, &ann, 1).await;
        let id = rewards_of(&key, &program, "").await[0]["id"]
            .as_str()
            .expect("id")
            .to_string();
        let admin = app.key_client(Scope::Admin).await;
        let path = format!("/api/v1/rewards/{id}/deliver");
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..6 {
            let (admin, path) = (admin.clone(), path.clone());
            set.spawn(async move { admin.post(&path, json!({})).await.status });
        }
        let mut statuses = Vec::new();
        while let Some(s) = set.join_next().await {
            statuses.push(s.expect("join"));
        }
        assert_eq!(
            statuses.iter().filter(|s| **s == StatusCode::OK).count(),
            1,
            "{statuses:?}"
        );
        assert!(
            statuses
                .iter()
                .all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT),
            "{statuses:?}"
        );
        let mut conn = app.state.store.conn().await.expect("conn");
        let filter = vouch_store::audit::Filter {
            action: Some("reward.delivered".into()),
            limit: 100,
            ..Default::default()
        };
        let delivered = vouch_store::audit::list(&mut conn, &filter)
            .await
            .expect("audit");
        assert_eq!(
            delivered
                .iter()
                .filter(|e| e.action == "reward.delivered")
                .count(),
            1
        );
        drop(conn);
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn double_sided_rules_reward_the_friend_and_holds_delay_earning() {
    each_backend(|app| async move {
        let program = program(&app, 14).await;
        let manager = app.staff(Role::Manager).await;
        rule(&manager, &program, json!({ "name": "Give 10, get 10", "trigger": "every", "threshold": 1, "sides": "double", "kind": "credit", "amount": 1000, "friend_amount": 1000 })).await;
        let key = app.key_client(Scope::Write).await;
        let ann = enrol(&key, &program, "ann@example.com", None).await;
        let friends = win_friends(&key, &program, &ann, 1).await;
        let all = rewards_of(&key, &program, "").await;
        assert_eq!(all.len(), 2);
        let friend_reward = all.iter().find(|r| r["recipient"] == "friend").expect("friend reward");
        assert_eq!(friend_reward["participant_id"], friends[0]["id"]);
        for r in &all {
            assert_eq!(r["status"], "pending", "held 14 days");
            assert!(r["hold_until"].as_str().expect("hold") > vouch_domain::Timestamp::now().to_string().as_str());
        }
        // A pending reward cannot be delivered yet.
        let early = manager.post(&format!("/api/v1/rewards/{}/deliver", all[0]["id"].as_str().expect("id")), json!({})).await;
        assert_eq!(early.status, StatusCode::CONFLICT);
        assert_eq!(vouch_app::rewards::release_holds(&app.state).await.expect("release"), 0);
        // Fifteen days later.
        let mut conn = app.state.store.conn().await.expect("conn");
        sqlx::query("UPDATE rewards SET hold_until = $1").bind(vouch_domain::Timestamp::ago(time::Duration::minutes(1)).to_string()).execute(&mut *conn).await.expect("age");
        drop(conn);
        assert_eq!(vouch_app::rewards::release_holds(&app.state).await.expect("release"), 2);
        assert_eq!(rewards_of(&key, &program, "?status=earned").await.len(), 2);
        let admin = app.key_client(Scope::Admin).await;
        let mails = admin.get("/api/v1/emails?limit=100").await;
        let earned: Vec<&Value> = mails.body["data"].as_array().expect("mails").iter().filter(|m| m["kind"] == "reward_earned").collect();
        assert_eq!(earned.len(), 2);
        assert!(earned.iter().any(|m| m["text_body"].as_str().unwrap_or_default().contains("$10.00 account credit after the program's 14-day hold")), "{earned:?}");
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn revoking_a_referral_revokes_unearned_rewards_and_claws_back_delivered_ones() {
    each_backend(|app| async move {
        let program = program(&app, 0).await;
        let manager = app.staff(Role::Manager).await;
        rule(&manager, &program, json!({ "name": "Each friend", "trigger": "every", "threshold": 1, "amount": 500 })).await;
        rule(&manager, &program, json!({ "name": "Three friends", "trigger": "milestone", "threshold": 3, "kind": "custom", "description": "A year without membership fees" })).await;
        let key = app.key_client(Scope::Write).await;
        let ann = enrol(&key, &program, "ann@example.com", None).await;
        let friends = win_friends(&key, &program, &ann, 3).await;
        let all = rewards_of(&key, &program, "").await;
        assert_eq!(all.len(), 4);
        let milestone = all.iter().find(|r| r["kind"] == "custom").expect("milestone reward").clone();
        assert_eq!(milestone["description"], "A year without membership fees");
        let each: Vec<&Value> = all.iter().filter(|r| r["kind"] == "cash").collect();
        // The third "each friend" reward is delivered before the refund.
        let third = each.iter().find(|r| r["step"] == 3).expect("step 3");
        assert_eq!(manager.post(&format!("/api/v1/rewards/{}/deliver", third["id"].as_str().expect("id")), json!({})).await.status, StatusCode::OK);

        // The first friend is refunded: Ann is down to two won referrals.
        let referral = referral_of(&key, &program, &friends[0]).await;
        let r = key.post(&format!("/api/v1/referrals/{referral}/stage"), json!({ "stage": "lost", "reason": "refunded" })).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let after = rewards_of(&key, &program, "").await;
        let status_of = |id: &Value| after.iter().find(|r| r["id"] == *id).expect("reward")["status"].as_str().expect("status").to_string();
        assert_eq!(status_of(&milestone["id"]), "revoked", "the milestone at 3 is no longer reached");
        assert_eq!(status_of(&third["id"]), "delivered", "a delivered reward is not silently taken back");
        let revoked = after.iter().find(|r| r["id"] == milestone["id"]).expect("milestone");
        assert_eq!(revoked["revoke_reason"], "refunded");
        let clawbacks = key.get(&format!("/api/v1/programs/{program}/clawbacks")).await;
        let open = clawbacks.body["data"].as_array().expect("data");
        assert_eq!(open.len(), 1);
        assert_eq!(open[0]["reward_id"], third["id"]);
        assert_eq!(open[0]["reason"], "refunded");
        let clawback = open[0]["id"].as_str().expect("id");
        let decide = format!("/api/v1/clawbacks/{clawback}/decide");
        assert_eq!(app.staff(Role::Staff).await.post(&decide, json!({ "decision": "waived" })).await.status, StatusCode::FORBIDDEN);
        assert_eq!(manager.post(&decide, json!({ "decision": "maybe" })).await.fields(), vec!["decision".to_string()]);
        let decided = manager.post(&decide, json!({ "decision": "recovered" })).await;
        assert_eq!(decided.status, StatusCode::OK, "{}", decided.text);
        assert!(decided.body["decided_by"].as_str().expect("by").starts_with("manager-"));
        assert_eq!(manager.post(&decide, json!({ "decision": "waived" })).await.status, StatusCode::CONFLICT);

        // A fourth friend brings Ann back to three: the milestone is earned again (the revoked
        // one stays as history); "each friend" step 3 stays paid once, by the delivered reward.
        win_friends(&key, &program, &ann, 1).await;
        let again = rewards_of(&key, &program, "").await;
        let custom: Vec<&str> = again.iter().filter(|r| r["kind"] == "custom").map(|r| r["status"].as_str().unwrap_or_default()).collect();
        assert_eq!(custom, vec!["revoked", "earned"]);
        let step3: Vec<&Value> = again.iter().filter(|r| r["kind"] == "cash" && r["step"] == 3).collect();
        assert_eq!(step3.len(), 1);

        // Manual revocation of an earned reward needs a reason.
        let earned = again.iter().find(|r| r["status"] == "earned").expect("an earned reward");
        let path = format!("/api/v1/rewards/{}/revoke", earned["id"].as_str().expect("id"));
        assert_eq!(manager.post(&path, json!({ "reason": " " })).await.fields(), vec!["reason".to_string()]);
        assert_eq!(manager.post(&path, json!({ "reason": "duplicate account" })).await.body["status"], "revoked");
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn a_win_creates_the_steps_missing_and_no_step_twice() {
    each_backend(|app| async move {
        let (program, key, ann) = ann_paid_for_each_friend(&app).await;
        let friends = win_friends(&key, &program, &ann, 4).await;
        let live = |all: &[Value]| {
            let mut steps: Vec<i64> = all
                .iter()
                .filter(|r| r["status"] != "revoked")
                .filter_map(|r| r["step"].as_i64())
                .collect();
            steps.sort_unstable();
            steps
        };
        assert_eq!(
            live(&rewards_of(&key, &program, "").await),
            vec![1, 2, 3, 4]
        );

        // Two refunds: Ann is down to two wins, so steps 3 and 4 (earned, not delivered) are revoked.
        for friend in &friends[..2] {
            let referral = referral_of(&key, &program, friend).await;
            let r = key
                .post(
                    &format!("/api/v1/referrals/{referral}/stage"),
                    json!({ "stage": "lost", "reason": "refunded" }),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        }
        assert_eq!(live(&rewards_of(&key, &program, "").await), vec![1, 2]);

        // The next win reaches three steps: 1 and 2 exist, only 3 is created; the one after, 4.
        win_friends(&key, &program, &ann, 1).await;
        assert_eq!(live(&rewards_of(&key, &program, "").await), vec![1, 2, 3]);
        win_friends(&key, &program, &ann, 1).await;
        let all = rewards_of(&key, &program, "").await;
        assert_eq!(live(&all), vec![1, 2, 3, 4]);
        assert_eq!(all.len(), 6, "four live steps and the two revoked ones");
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn coupon_rules_hand_out_codes_from_their_pool() {
    each_backend(|app| async move {
        let program = program(&app, 0).await;
        let manager = app.staff(Role::Manager).await;
        let coupons = rule(&manager, &program, json!({ "name": "Coupon per friend", "trigger": "every", "threshold": 1, "kind": "coupon", "description": "20% off your next order", "delivery": "automatic" })).await;
        let cash = rule(&manager, &program, json!({ "name": "Cash", "threshold": 50, "amount": 100 })).await;
        let path = format!("/api/v1/reward-rules/{}/coupons", coupons["id"].as_str().expect("id"));
        assert_eq!(manager.post(&format!("/api/v1/reward-rules/{}/coupons", cash["id"].as_str().expect("id")), json!({ "codes": ["A"] })).await.status, StatusCode::CONFLICT);
        assert_eq!(manager.post(&path, json!({ "codes": ["OK-1", "has space"] })).await.fields(), vec!["codes[1]".to_string()]);
        let added = manager.post(&path, json!({ "codes": ["SPRING-1", "SPRING-1"] })).await;
        assert_eq!(added.body["added"], 1);
        assert_eq!(added.body["coupons_left"], 1);

        let key = app.key_client(Scope::Write).await;
        let ann = enrol(&key, &program, "ann@example.com", None).await;
        win_friends(&key, &program, &ann, 2).await;
        let all = rewards_of(&key, &program, "").await;
        assert_eq!(all[0]["status"], "delivered", "automatic delivery");
        assert_eq!(all[0]["coupon_code"], "SPRING-1");
        assert_eq!(all[1]["status"], "earned", "the pool ran dry: it waits for staff");
        let deliver = format!("/api/v1/rewards/{}/deliver", all[1]["id"].as_str().expect("id"));
        let empty = manager.post(&deliver, json!({})).await;
        assert_eq!(empty.status, StatusCode::CONFLICT);
        assert_eq!(empty.body["code"], "coupon_pool_empty");
        manager.post(&path, json!({ "codes": ["SPRING-1", "SPRING-2"] })).await;
        let done = manager.post(&deliver, json!({})).await;
        assert_eq!(done.body["coupon_code"], "SPRING-2");
        let admin = app.key_client(Scope::Admin).await;
        let mails = admin.get("/api/v1/emails?limit=100").await;
        let delivered: Vec<&Value> = mails.body["data"].as_array().expect("mails").iter().filter(|m| m["kind"] == "reward_delivered").collect();
        assert_eq!(delivered.len(), 2);
        assert!(delivered.iter().any(|m| m["text_body"].as_str().unwrap_or_default().contains("Your code: SPRING-2")));
        let rule_now = key.get(&format!("/api/v1/reward-rules/{}", coupons["id"].as_str().expect("id"))).await;
        assert_eq!(rule_now.body["coupons_left"], 0);

        // An inactive rule earns nothing new.
        let off = manager.patch(&format!("/api/v1/reward-rules/{}", coupons["id"].as_str().expect("id")), json!({ "active": false })).await;
        assert_eq!(off.body["active"], false);
        win_friends(&key, &program, &ann, 1).await;
        assert_eq!(rewards_of(&key, &program, "").await.len(), 2);
        app.stop().await;
    })
    .await;
}

/// Cash rewards of a `payout` rule join the payables ledger: each earned reward owes a due
/// payment to a contact who stands for its participant; a payables batch pays it, which
/// delivers the reward; revoking an unpaid one voids its payment; staff cannot deliver it
/// by hand.
#[tokio::test]
async fn cash_rewards_delivered_by_payout_are_paid_through_the_ledger() {
    each_backend(|app| async move {
        let program = program(&app, 0).await;
        let manager = app.staff(Role::Manager).await;
        let staff = app.staff(Role::Staff).await;
        let coupon = manager
            .post(&format!("/api/v1/programs/{program}/reward-rules"), json!({ "name": "Codes", "threshold": 1, "kind": "coupon", "description": "10% off", "delivery": "payout" }))
            .await;
        assert_eq!(coupon.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", coupon.text);
        assert_eq!(coupon.fields(), vec!["delivery"]);
        let rule = rule(&manager, &program, json!({ "name": "Cash for friends", "trigger": "every", "threshold": 1, "max_per_participant": 2, "sides": "double", "amount": 2500, "friend_amount": 1000, "delivery": "payout" })).await;
        assert_eq!(rule["delivery"], "payout");

        let key = app.key_client(Scope::Write).await;
        let ann = enrol(&key, &program, "ann@example.com", None).await;
        let friends = win_friends(&key, &program, &ann, 2).await;
        let all = rewards_of(&key, &program, "").await;
        assert_eq!(all.len(), 4, "two for Ann, one for each friend");
        assert!(all.iter().all(|r| r["status"] == "earned"), "{all:?}");

        // Each earned reward owes one due payment; Ann's two are owed to one contact.
        let payment_of = |reward: &Value| {
            let reward = reward["id"].as_str().expect("id").to_string();
            let staff = &staff;
            async move {
                let r = staff.get(&format!("/api/v1/payments?reward_id={reward}")).await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.text);
                let data = r.body["data"].as_array().cloned().unwrap_or_default();
                assert_eq!(data.len(), 1, "{}", r.text);
                data[0].clone()
            }
        };
        let anns: Vec<&Value> = all.iter().filter(|r| r["participant_id"] == ann["id"]).collect();
        let first = payment_of(anns[0]).await;
        let second = payment_of(anns[1]).await;
        assert_eq!(first["status"], "due");
        assert_eq!(first["amount"], 2500);
        assert_eq!(first["currency"], "USD");
        assert_eq!(first["payee_kind"], "contact");
        assert_eq!(first["payment_method"], "bank_transfer");
        assert!(first["bonus_id"].is_null() && first["sale_id"].is_null() && first["term"].is_null());
        assert!(first["due_on"].is_string());
        assert_eq!(first["payee_id"], second["payee_id"], "one contact per participant");
        let payee = first["payee_id"].as_str().expect("payee").to_string();
        let person = staff.get(&format!("/api/v1/people/{payee}")).await;
        assert_eq!(person.body["kind"], "contact", "{}", person.text);
        assert_eq!(person.body["name"], "ann");
        assert_eq!(person.body["email"], "ann@example.com");
        assert_eq!(person.body["participant_id"], ann["id"]);

        // Not delivered by hand: it is delivered when paid.
        let by_hand = manager.post(&format!("/api/v1/rewards/{}/deliver", anns[0]["id"].as_str().expect("id")), json!({})).await;
        assert_eq!(by_hand.status, StatusCode::CONFLICT);
        assert_eq!(by_hand.body["code"], "paid_by_payout");

        // Revoking an unpaid one voids its payment.
        let friend_reward = all.iter().find(|r| r["participant_id"] == friends[0]["id"]).expect("friend's reward");
        let friend_payment = payment_of(friend_reward).await;
        let revoked = manager
            .post(&format!("/api/v1/rewards/{}/revoke", friend_reward["id"].as_str().expect("id")), json!({ "reason": "duplicate account" }))
            .await;
        assert_eq!(revoked.body["status"], "revoked", "{}", revoked.text);
        let voided = staff.get(&format!("/api/v1/payments/{}", friend_payment["id"].as_str().expect("id"))).await;
        assert_eq!(voided.body["status"], "voided", "{}", voided.text);
        assert_eq!(voided.body["void_reason"], "reward revoked");

        // The console's rewards tab says where each one is, instead of offering "Deliver".
        let page = manager.get(&format!("/admin/programs/{program}/rewards")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(page.text.matches("Owed in the payables ledger (Due)").count(), 3, "{}", page.text);
        assert!(!page.text.contains(">Deliver<"), "{}", page.text);

        // A payables batch of the program pays the three still owed.
        let batch = staff
            .post("/api/v1/payout-batches", json!({ "payee_group": "payables", "program_id": program }))
            .await;
        assert_eq!(batch.status, StatusCode::CREATED, "{}", batch.text);
        assert_eq!(batch.body["payment_count"], 3, "{}", batch.text);
        let batch_id = batch.body["id"].as_str().expect("id").to_string();
        manager.post(&format!("/api/v1/payout-batches/{batch_id}/approve"), json!({})).await;
        let file = manager.get(&format!("/api/v1/payout-batches/{batch_id}/export")).await;
        assert_eq!(file.status, StatusCode::OK, "{}", file.text);
        let header = file.text.lines().next().unwrap_or_default();
        assert!(header.ends_with("bonus_id,sale_id,reward_id"), "{header}");
        assert!(file.text.contains(anns[0]["id"].as_str().expect("id")), "{}", file.text);
        assert!(file.text.contains(",25.00,USD,"), "{}", file.text);
        let paid = manager
            .post(&format!("/api/v1/payout-batches/{batch_id}/mark-paid"), json!({ "reference": "ACH-2026-11" }))
            .await;
        assert_eq!(paid.body["status"], "paid", "{}", paid.text);

        // Paying delivered the rewards (the revoked one stays revoked), and told each
        // participant once, with the reward's own email rather than a bonus payment's.
        let after = rewards_of(&key, &program, "").await;
        for r in &after {
            let expected = if r["id"] == friend_reward["id"] { "revoked" } else { "delivered" };
            assert_eq!(r["status"], expected, "{r}");
        }
        let admin = app.key_client(Scope::Admin).await;
        let mails = admin.get("/api/v1/emails?limit=100").await;
        let to_ann = |kind: &str| {
            mails.body["data"].as_array().expect("mails").iter()
                .filter(|m| m["kind"] == kind && m["to_address"] == "ann@example.com")
                .count()
        };
        assert_eq!(to_ann("reward_delivered"), 2);
        assert_eq!(to_ann("payment_paid"), 0);

        // Ann's statement: earned and paid USD 50.00.
        let statement = staff.get(&format!("/api/v1/people/{payee}/statement")).await;
        assert_eq!(statement.status, StatusCode::OK, "{}", statement.text);
        assert_eq!(statement.body["earned"], json!([{ "amount": 5000, "currency": "USD" }]));
        assert_eq!(statement.body["paid"], json!([{ "amount": 5000, "currency": "USD" }]));
        assert_eq!(statement.body["due"], json!([]));
    })
    .await;
}

/// The other ways a payout reward leaves the ledger: its referral is lost (the payment is
/// voided), it is paid on its own (the reward is delivered), and it is revoked after its batch
/// was approved (a clawback opens, shown and decided on the program's rewards tab).
#[tokio::test]
async fn payout_rewards_follow_their_referral_and_their_batch() {
    each_backend(|app| async move {
        let program = program(&app, 0).await;
        let manager = app.staff(Role::Manager).await;
        let staff = app.staff(Role::Staff).await;
        rule(&manager, &program, json!({ "name": "Each friend", "trigger": "every", "threshold": 1, "amount": 1500, "delivery": "payout" })).await;
        let key = app.key_client(Scope::Write).await;
        let ann = enrol(&key, &program, "ann@example.com", None).await;
        let friends = win_friends(&key, &program, &ann, 3).await;
        let rewards = rewards_of(&key, &program, "").await;
        assert_eq!(rewards.len(), 3);
        let payment_of = |reward: &Value| {
            let reward = reward["id"].as_str().expect("id").to_string();
            let staff = &staff;
            async move {
                let r = staff.get(&format!("/api/v1/payments?reward_id={reward}")).await;
                r.body["data"][0].clone()
            }
        };
        let step = |n: i64| rewards.iter().find(|r| r["step"] == n).expect("step").clone();

        // The third friend is refunded: Ann is down to two wins, step 3's payment is voided.
        let referral = referral_of(&key, &program, &friends[2]).await;
        let lost = key.post(&format!("/api/v1/referrals/{referral}/stage"), json!({ "stage": "lost", "reason": "refunded" })).await;
        assert_eq!(lost.status, StatusCode::OK, "{}", lost.text);
        let third = payment_of(&step(3)).await;
        assert_eq!(third["status"], "voided", "{third}");
        assert_eq!(third["void_reason"], "reward revoked");

        // Step 1 is paid on its own: the reward is delivered.
        let first = payment_of(&step(1)).await;
        let paid = manager
            .post(&format!("/api/v1/payments/{}/mark-paid", first["id"].as_str().expect("id")), json!({ "reference": "WIRE-1" }))
            .await;
        assert_eq!(paid.body["status"], "paid", "{}", paid.text);
        let reward = key.get(&format!("/api/v1/rewards/{}", step(1)["id"].as_str().expect("id"))).await;
        assert_eq!(reward.body["status"], "delivered", "{}", reward.text);

        // Step 2 goes into a batch a manager approves; then it is revoked: a clawback opens,
        // the payment stays with its batch, and the rewards tab asks for a decision.
        let batch = staff.post("/api/v1/payout-batches", json!({ "payee_group": "payables" })).await;
        assert_eq!(batch.body["payment_count"], 1, "{}", batch.text);
        let batch_id = batch.body["id"].as_str().expect("id").to_string();
        manager.post(&format!("/api/v1/payout-batches/{batch_id}/approve"), json!({})).await;
        let second = step(2);
        let revoked = manager
            .post(&format!("/api/v1/rewards/{}/revoke", second["id"].as_str().expect("id")), json!({ "reason": "fraud" }))
            .await;
        assert_eq!(revoked.body["status"], "revoked", "{}", revoked.text);
        let held = payment_of(&second).await;
        assert_eq!(held["status"], "in_batch", "{held}");
        let open = staff.get("/api/v1/payment-clawbacks?status=open").await;
        assert_eq!(open.body["data"][0]["payment_id"], held["id"], "{}", open.text);
        assert_eq!(open.body["data"][0]["reason"], "reward revoked: fraud");
        let page = manager.get(&format!("/admin/programs/{program}/rewards")).await;
        assert!(page.text.contains("Revoked after its payout batch was approved: recover $15.00"), "{}", page.text);
        assert!(page.text.contains("Paid by payout"), "{}", page.text);

        // Paying the batch leaves the revoked reward revoked.
        let paid = manager
            .post(&format!("/api/v1/payout-batches/{batch_id}/mark-paid"), json!({ "reference": "ACH-9" }))
            .await;
        assert_eq!(paid.body["status"], "paid", "{}", paid.text);
        let reward = key.get(&format!("/api/v1/rewards/{}", second["id"].as_str().expect("id"))).await;
        assert_eq!(reward.body["status"], "revoked", "{}", reward.text);
    })
    .await;
}

/// Payments are marked paid in bulk from the ledger: one reference for the ticked ones, each
/// paid once as alone (its reward delivered), nothing paid without a reference, refusals named.
#[tokio::test]
async fn ticked_payments_are_marked_paid_together() {
    each_backend(|app| async move {
        let program = program(&app, 0).await;
        let manager = app.staff(Role::Manager).await;
        rule(&manager, &program, json!({ "name": "Each friend", "trigger": "every", "threshold": 1, "amount": 1500, "delivery": "payout" })).await;
        let key = app.key_client(Scope::Write).await;
        let ann = enrol(&key, &program, "ann@example.com", None).await;
        win_friends(&key, &program, &ann, 2).await;
        let due = manager.get("/api/v1/payments?status=due").await;
        let ids: Vec<String> = due.body["data"].as_array().expect("payments").iter().map(|p| p["id"].as_str().expect("id").to_string()).collect();
        assert_eq!(ids.len(), 2, "{}", due.text);

        let owner = app.staff(Role::Admin).await;
        let page = owner.get("/admin/payments?status=due").await;
        assert!(page.text.contains("id=\"mark-ticked-paid\""), "{}", page.text);
        let csrf = owner.csrf.clone().expect("csrf");
        let mut form: Vec<(String, String)> = vec![("csrf".into(), csrf), ("reference".into(), String::new())];
        for id in &ids {
            form.push((format!("pick_{id}"), "on".into()));
        }
        let none = owner.send(owner.request(reqwest::Method::POST, "/admin/payments/mark-paid").form(&form)).await;
        assert_eq!(none.status, StatusCode::SEE_OTHER);
        assert_eq!(manager.get("/api/v1/payments?status=due").await.body["data"].as_array().map(Vec::len), Some(2), "nothing paid without a reference");
        form[1].1 = "ACH-2026-12".into();
        form.push(("pick_pay_00000000000000000000000000".into(), "on".into()));
        let done = owner.send(owner.request(reqwest::Method::POST, "/admin/payments/mark-paid").form(&form)).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER);
        let paid = manager.get("/api/v1/payments?status=paid").await;
        assert_eq!(paid.body["data"].as_array().map(Vec::len), Some(2), "{}", paid.text);
        assert_eq!(paid.body["data"][0]["paid_reference"], "ACH-2026-12");
        assert_eq!(rewards_of(&key, &program, "?status=delivered").await.len(), 2, "their rewards are delivered");
        let flash = owner.get("/admin/payments?status=paid").await;
        assert!(flash.text.contains("2 payment(s) marked paid; 1 not: pay_00000000000000000000000000"), "{}", flash.text);
        let staff = app.staff(Role::Staff).await;
        let refused = staff.send(staff.request(reqwest::Method::POST, "/admin/payments/mark-paid").form(&[("csrf", staff.csrf.clone().expect("csrf").as_str())])).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        app.stop().await;
    })
    .await;
}
