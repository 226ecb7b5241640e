//! The daily rollups on both stores: clicks, referred signups and wins land in `daily_counts`
//! as they are written (a revoked win is taken back), the dashboard reads them, and a rebuild
//! from the raw rows gives the same table.

mod common;

use common::{each_backend, enrol, live_program};
use reqwest::StatusCode;
use serde_json::json;
use vouch_domain::permission::Scope;
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
        // Clicks reach the database (and the rollups) when the buffer is written.
        app.stop_serving().await;

        let mut conn = app.state.store.conn().await.expect("conn");
        let kept = rollups::all(&mut conn).await.expect("rows");
        let today = vouch_domain::Timestamp::now().to_string()[..10].to_string();
        let program_day = kept
            .iter()
            .find(|(p, who, day, _)| *p == program && who == WHOLE_PROGRAM && *day == today)
            .map(|r| r.3);
        assert_eq!(program_day, Some(Counts { clicks: 2, signups: 2, won: 1 }), "{kept:?}");
        let ann_day = kept
            .iter()
            .find(|(p, who, _, _)| *p == program && *who == ann_id)
            .map(|r| r.3);
        assert_eq!(ann_day, Some(Counts { clicks: 2, signups: 2, won: 1 }), "{kept:?}");

        let written = vouch_app::stats::rebuild_rollups(&app.state).await.expect("rebuild");
        assert!(written >= 2);
        let rebuilt = rollups::all(&mut conn).await.expect("rows");
        assert_eq!(rebuilt, kept, "what was kept on the way equals a rebuild from the raw rows");

        let program_row = vouch_app::programs::get(&app.state, &program).await.expect("program");
        let range = vouch_app::stats::parse_range(&app.state, "", "").expect("range");
        let d = vouch_app::stats::dashboard(&app.state, &program_row, range).await.expect("dashboard");
        assert_eq!((d.totals.clicks, d.totals.signups, d.totals.won), (2, 2, 1));
        assert_eq!(d.top_referrers.len(), 1);
        assert_eq!((d.top_referrers[0].email.as_str(), d.top_referrers[0].won), ("ann@example.com", 1));
        drop(conn);
        app.stop().await;
    })
    .await;
}
