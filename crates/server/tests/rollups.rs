//! The daily rollups on both stores: clicks, referred signups and wins land in `daily_counts`
//! as they are written (a revoked win is taken back), the dashboard reads them, and a rebuild
//! from the raw rows gives the same table. On PostgreSQL a row is split into shards, one per
//! transaction in turn, and every reader sums them.

mod common;

use common::{each_backend, enrol, live_program};
use reqwest::StatusCode;
use serde_json::json;
use vouch_domain::permission::Scope;
use vouch_store::Backend;
use vouch_store::rollups::{self, Counts, WHOLE_PROGRAM};

#[tokio::test]
async fn counts_follow_every_write_and_a_rebuild_agrees() {
    each_backend(|mut app| async move {
        let (program, _) = live_program(&app, json!({ "qualifying_event": "purchase" })).await;
        let key = app.key_client(Scope::Admin).await;
        let ann = enrol(&key, &program, "ann@example.com", None).await;
        let ann_id = ann["id"].as_str().expect("id").to_string();
        let bo = enrol(&key, &program, "bo@example.com", Some(&ann["code"])).await;
        let cy = enrol(&key, &program, "cy@example.com", Some(&ann["code"])).await;
        // Two visitors follow Ann's link (the second visit of the first is not counted).
        for agent in ["Mozilla/5.0 (X11) Chrome/120", "Mozilla/5.0 (Mac) Safari/17", "Mozilla/5.0 (X11) Chrome/120"] {
            let hop = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(agent)
                .build()
                .expect("client")
                .get(app.url(&format!("/r/{}", ann["code"].as_str().expect("code"))))
                .send()
                .await
                .expect("redirect");
            assert_eq!(hop.status(), StatusCode::FOUND);
        }
        // Both friends buy; Bo's purchase is refunded.
        for (friend, event) in [(&bo, "buy-bo"), (&cy, "buy-cy")] {
            let won = key
                .post(&format!("/api/v1/programs/{program}/events"), json!({ "event_id": event, "name": "purchase", "participant_id": friend["id"] }))
                .await;
            assert_eq!(won.body["outcome"], "referral_won", "{}", won.text);
        }
        let bo_referral = key
            .get(&format!("/api/v1/programs/{program}/referrals?referrer_id={ann_id}"))
            .await;
        let refunded = bo_referral.body["data"]
            .as_array()
            .and_then(|all| all.iter().find(|r| r["referred_id"] == bo["id"]))
            .and_then(|r| r["id"].as_str())
            .expect("Bo's referral")
            .to_string();
        let lost = key
            .post(&format!("/api/v1/referrals/{refunded}/stage"), json!({ "stage": "lost", "reason": "refunded" }))
            .await;
        assert_eq!(lost.status, StatusCode::OK, "{}", lost.text);
        // Dee's only friend wins and the win is taken back: Dee has no win to rank.
        let dee = enrol(&key, &program, "dee@example.com", None).await;
        let eve = enrol(&key, &program, "eve@example.com", Some(&dee["code"])).await;
        let won = key
            .post(&format!("/api/v1/programs/{program}/events"), json!({ "event_id": "buy-eve", "name": "purchase", "participant_id": eve["id"] }))
            .await;
        assert_eq!(won.body["outcome"], "referral_won", "{}", won.text);
        let eve_referral = key
            .get(&format!("/api/v1/programs/{program}/referrals?referrer_id={}", dee["id"].as_str().expect("id")))
            .await;
        let taken_back = eve_referral.body["data"][0]["id"].as_str().expect("Eve's referral").to_string();
        let lost = key
            .post(&format!("/api/v1/referrals/{taken_back}/stage"), json!({ "stage": "lost", "reason": "refunded" }))
            .await;
        assert_eq!(lost.status, StatusCode::OK, "{}", lost.text);
        // Clicks reach the database (and the rollups) when the buffer is written.
        app.stop_serving().await;

        let mut conn = app.state.store.conn().await.expect("conn");
        // Each write above was its own transaction. On PostgreSQL they took shards in turn, so
        // the program's day is held in several rows (the readers below sum them); SQLite, one
        // writer at a time, keeps one row in shard 0.
        let shards: Vec<i64> = sqlx::query_scalar(
            "SELECT DISTINCT CAST(shard AS BIGINT) FROM daily_counts WHERE program_id = $1 AND participant_id = '' ORDER BY 1",
        )
        .bind(&program)
        .fetch_all(&mut *conn)
        .await
        .expect("shards");
        // Dee's win and its taking back: on PostgreSQL in two shards (one holding -1, which the
        // ranking must not read alone); on SQLite one row back at zero.
        let dee_won: Vec<i64> = sqlx::query_scalar(
            "SELECT CAST(won AS BIGINT) FROM daily_counts WHERE participant_id = $1 AND won <> 0 ORDER BY won",
        )
        .bind(dee["id"].as_str().expect("id"))
        .fetch_all(&mut *conn)
        .await
        .expect("Dee's rows");
        match app.state.store.backend() {
            Backend::Sqlite => {
                assert_eq!(shards, vec![0]);
                assert_eq!(dee_won, Vec::<i64>::new());
            }
            Backend::Postgres => {
                assert!(shards.len() > 1, "one transaction after another took the same shard: {shards:?}");
                assert_eq!(dee_won, vec![-1, 1], "the win and its taking back in two shards");
            }
        }
        let kept = rollups::all(&mut conn).await.expect("rows");
        let today = vouch_domain::Timestamp::now().to_string()[..10].to_string();
        let program_day = kept
            .iter()
            .find(|(p, who, day, _)| *p == program && who == WHOLE_PROGRAM && *day == today)
            .map(|r| r.3);
        assert_eq!(program_day, Some(Counts { clicks: 2, signups: 3, won: 1 }), "{kept:?}");
        let ann_day = kept
            .iter()
            .find(|(p, who, _, _)| *p == program && *who == ann_id)
            .map(|r| r.3);
        assert_eq!(ann_day, Some(Counts { clicks: 2, signups: 2, won: 1 }), "{kept:?}");

        let program_row = vouch_app::programs::get(&app.state, &program).await.expect("program");
        // The dashboard as kept on the way (several shards on PostgreSQL), then after a rebuild
        // (one shard).
        for when in ["kept", "rebuilt"] {
            if when == "rebuilt" {
                let written = vouch_app::stats::rebuild_rollups(&app.state).await.expect("rebuild");
                assert!(written >= 2);
                let rebuilt = rollups::all(&mut conn).await.expect("rows");
                assert_eq!(rebuilt, kept, "what was kept on the way equals a rebuild from the raw rows");
            }
            let range = vouch_app::stats::parse_range(&app.state, "", "").expect("range");
            let d = vouch_app::stats::dashboard(&app.state, &program_row, range).await.expect("dashboard");
            assert_eq!((d.totals.clicks, d.totals.signups, d.totals.won), (2, 3, 1), "{when}");
            assert_eq!(d.top_referrers.len(), 1, "{when}: Dee's win was taken back: {:?}", d.top_referrers);
            assert_eq!((d.top_referrers[0].email.as_str(), d.top_referrers[0].won), ("ann@example.com", 1), "{when}");
        }
        drop(conn);
        app.stop().await;
    })
    .await;
}
