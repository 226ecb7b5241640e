//! Referral links: redirects, the attribution cookie, and clicks counted once per visitor and
//! hour, through the buffer, without loss across a graceful shutdown.

mod common;

use common::{TestApp, each_backend};
use reqwest::StatusCode;
use serde_json::json;
use vouch_domain::permission::{Role, Scope};

const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120 Safari/537.36";

/// A live program with one participant; returns (program id, participant id, code).
async fn live_program(app: &TestApp) -> (String, String, String) {
    let manager = app.staff(Role::Manager).await;
    let p = manager
        .post("/api/v1/programs", json!({ "name": "Links", "landing_url": "https://shop.example.com/welcome?lang=en", "fallback_url": "https://shop.example.com/", "attribution_window_days": 45 }))
        .await;
    let id = p.body["id"].as_str().expect("id").to_string();
    manager
        .post(
            &format!("/api/v1/programs/{id}/status"),
            json!({ "status": "live" }),
        )
        .await;
    let part = manager
        .post(
            &format!("/api/v1/programs/{id}/participants"),
            json!({ "email": "ann@x.example", "first_name": "Ann" }),
        )
        .await;
    (
        id,
        part.body["id"].as_str().expect("pid").to_string(),
        part.body["code"].as_str().expect("code").to_string(),
    )
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn clicks(app: &TestApp) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM clicks")
        .fetch_one(app.state.store.pool())
        .await
        .expect("count")
}

#[tokio::test]
async fn links_redirect_set_the_cookie_and_count_once_per_visitor() {
    each_backend(|app| async move {
        let (program, _, code) = live_program(&app).await;
        let c = client();
        let r = c
            .get(app.url(&format!("/r/{}?utm_source=newsletter&gclid=abc", code.to_lowercase())))
            .header("user-agent", BROWSER)
            .header("referer", "https://mail.example.com/")
            .send()
            .await
            .expect("redirect");
        assert_eq!(r.status(), StatusCode::FOUND);
        let location = r.headers()["location"].to_str().expect("loc").to_string();
        assert_eq!(location, format!("https://shop.example.com/welcome?lang=en&utm_source=newsletter&gclid=abc&ref={code}"));
        let cookie = r.headers()["set-cookie"].to_str().expect("cookie").to_string();
        assert!(cookie.starts_with(&format!("vouch_ref_{program}={code}.")) && cookie.contains(&format!(".{code}.")) && cookie.contains(&format!("Max-Age={}", 45 * 86_400)), "{cookie}");
        // The same visitor again within the hour, a HEAD request and a crawler are not clicks.
        c.get(app.url(&format!("/r/{code}"))).header("user-agent", BROWSER).send().await.expect("again");
        c.head(app.url(&format!("/r/{code}"))).header("user-agent", "Other browser").send().await.expect("head");
        c.get(app.url(&format!("/r/{code}"))).header("user-agent", "Googlebot/2.1").send().await.expect("bot");
        // Another visitor is.
        c.get(app.url(&format!("/r/{code}"))).header("user-agent", "Mozilla/5.0 (iPhone) Mobile").send().await.expect("phone");
        app.state.clicks.flush_and_stop().await;
        assert_eq!(clicks(&app).await, 2);
        let (utm, device): (Option<String>, String) = sqlx::query_as("SELECT utm, device_class FROM clicks ORDER BY id LIMIT 1")
            .fetch_one(app.state.store.pool())
            .await
            .expect("click");
        assert_eq!(device, "desktop");
        assert!(utm.is_some_and(|u| u.contains("newsletter") && u.contains("gclid")));

        // Unknown codes and paused programs go to a fallback, never to an error.
        let unknown = c.get(app.url("/r/NOSUCHCODE")).header("user-agent", BROWSER).send().await.expect("unknown");
        assert_eq!(unknown.status(), StatusCode::FOUND);
        assert_eq!(unknown.headers()["location"].to_str().expect("loc"), app.base);
        let odd = c.get(app.url("/r/%E2%9C%93%3Cscript%3E")).send().await.expect("odd");
        assert_eq!(odd.status(), StatusCode::FOUND);
        let admin = app.key_client(Scope::Admin).await;
        admin.post(&format!("/api/v1/programs/{program}/status"), json!({ "status": "paused" })).await;
        let paused = c.get(app.url(&format!("/r/{code}"))).send().await.expect("paused");
        assert_eq!(paused.headers()["location"].to_str().expect("loc"), "https://shop.example.com/");
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn every_counted_click_is_stored_across_a_graceful_shutdown() {
    each_backend(|app| async move {
        let (_, participant, code) = live_program(&app).await;
        let n: i64 = 300;
        let c = client();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..n {
            let (c, url) = (c.clone(), app.url(&format!("/r/{code}")));
            tasks.spawn(async move {
                // A distinct visitor each time.
                c.get(url)
                    .header("user-agent", format!("{BROWSER} visitor/{i}"))
                    .send()
                    .await
                    .map(|r| r.status())
            });
        }
        while let Some(r) = tasks.join_next().await {
            assert_eq!(r.expect("task").expect("request"), StatusCode::FOUND);
        }
        // Stop: the server finishes, then the buffer is written out; nothing is lost.
        let mut app = app;
        app.stop_serving().await;
        assert_eq!(clicks(&app).await, n);
        let mut conn = app.state.store.conn().await.expect("conn");
        assert_eq!(
            vouch_store::clicks::count_for_participant(&mut conn, &participant)
                .await
                .expect("count"),
            n
        );
        drop(conn);
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn changes_reach_links_at_once() {
    each_backend(|app| async move {
        let (program, participant, code) = live_program(&app).await;
        let c = client();
        let go = |path: String| {
            let c = c.clone();
            let url = app.url(&path);
            async move {
                c.get(url).send().await.expect("get").headers()["location"]
                    .to_str()
                    .expect("loc")
                    .to_string()
            }
        };
        assert!(
            go(format!("/r/{code}"))
                .await
                .contains(&format!("ref={code}"))
        );
        // A vanity code replaces the old one at once, though both were just looked up.
        assert_eq!(go("/r/ANNIE".into()).await, app.base);
        let admin = app.key_client(Scope::Admin).await;
        admin
            .send(
                admin
                    .request(
                        reqwest::Method::PUT,
                        &format!("/api/v1/participants/{participant}/code"),
                    )
                    .json(&json!({ "code": "annie" })),
            )
            .await;
        assert!(go("/r/ANNIE".into()).await.contains("ref=ANNIE"));
        assert_eq!(go(format!("/r/{code}")).await, app.base);
        // Ending the program sends its links to the fallback at once.
        admin
            .post(
                &format!("/api/v1/programs/{program}/status"),
                json!({ "status": "ended" }),
            )
            .await;
        assert_eq!(go("/r/ANNIE".into()).await, "https://shop.example.com/");
        app.stop().await;
    })
    .await;
}
