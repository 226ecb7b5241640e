//! `GET /metrics` on both stores: off (404) unless a token is set, 401 without it, and then the
//! Prometheus text format with requests per route template, clicks, the job queue and the
//! database pool.

mod common;

use common::{TestApp, live_program};
use reqwest::StatusCode;
use serde_json::json;
use vouch_domain::permission::Scope;
use vouch_store::testing::backends;

const TOKEN: &str = "scrape-me-0123456789";

#[tokio::test]
async fn metrics_are_off_by_default() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let r = reqwest::get(app.url("/metrics")).await.expect("get");
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        app.stop().await;
    }
}

#[tokio::test]
async fn a_scrape_with_the_token_reads_requests_clicks_jobs_and_the_pool() {
    for backend in backends() {
        let app = TestApp::spawn_with(backend, |s| s.metrics_token = Some(TOKEN.into())).await;
        let (program, _) = live_program(&app, json!({})).await;
        let key = app.key_client(Scope::Write).await;
        let ann = key
            .post(
                &format!("/api/v1/programs/{program}/participants"),
                json!({ "email": "ann@example.com" }),
            )
            .await;
        let code = ann.body["code"].as_str().expect("code").to_string();
        let hop = common::visitor()
            .get(app.url(&format!("/r/{code}")))
            .send()
            .await
            .expect("redirect");
        assert_eq!(hop.status(), StatusCode::FOUND);

        let client = reqwest::Client::new();
        let anonymous = client.get(app.url("/metrics")).send().await.expect("get");
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
        assert!(anonymous.headers().contains_key("www-authenticate"));
        let wrong = client
            .get(app.url("/metrics"))
            .bearer_auth("scrape-me-0123456788")
            .send()
            .await
            .expect("get");
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

        let scrape = client
            .get(app.url("/metrics"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("get");
        assert_eq!(scrape.status(), StatusCode::OK);
        assert!(
            scrape.headers()["content-type"]
                .to_str()
                .unwrap_or_default()
                .starts_with("text/plain; version=0.0.4")
        );
        let text = scrape.text().await.expect("text");
        // The route template, never the code itself.
        assert!(
            text.contains("vouch_http_request_duration_seconds_count{route=\"/r/{code}\",method=\"GET\",status=\"302\"} 1"),
            "{text}"
        );
        assert!(!text.contains(&code), "no code in a label");
        assert!(text.contains("vouch_http_request_duration_seconds_bucket{route=\"/api/v1/programs/{id}/participants\",method=\"POST\",status=\"201\",le=\"+Inf\"} 1"), "{text}");
        assert!(
            text.contains("route=\"/metrics\",method=\"GET\",status=\"401\""),
            "{text}"
        );
        assert!(text.contains("vouch_clicks_counted_total 1"), "{text}");
        // Ann's welcome email waits in the queue.
        assert!(
            text.contains("vouch_jobs{kind=\"email\",status=\"queued\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("vouch_jobs_oldest_age_seconds{kind=\"email\",status=\"queued\"}"),
            "{text}"
        );
        assert!(text.contains("vouch_metrics_database_up 1"), "{text}");
        // The signup above went through group commit: one group, one write.
        assert!(text.contains("vouch_group_commits_total 1\n"), "{text}");
        assert!(
            text.contains("vouch_group_commit_writes_total 1\n"),
            "{text}"
        );
        assert!(
            text.contains("vouch_group_commit_reruns_total 0\n"),
            "{text}"
        );
        assert!(text.contains("vouch_db_pool_max_connections "), "{text}");
        app.stop().await;
    }
}
