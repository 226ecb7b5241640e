//! The participant's referral page on both stores: magic links (single use, never burnt by a
//! GET), sessions, embed tokens, and what the page shows.

mod common;

use common::{TestApp, each_backend};
use reqwest::StatusCode;
use serde_json::{Value, json};
use vouch_domain::permission::{Role, Scope};

async fn live_program(app: &TestApp) -> (String, String) {
    let manager = app.staff(Role::Manager).await;
    let p = manager
        .post("/api/v1/programs", json!({ "name": format!("Page {}", vouch_domain::id::new_id("x")), "landing_url": "https://shop.example.com" }))
        .await;
    let id = p.body["id"].as_str().expect("id").to_string();
    manager
        .post(
            &format!("/api/v1/programs/{id}/status"),
            json!({ "status": "live" }),
        )
        .await;
    (id, p.body["slug"].as_str().expect("slug").to_string())
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("Mozilla/5.0 (X11; Linux x86_64) Chrome/120")
        .build()
        .expect("client")
}

async fn login_email(app: &TestApp, to: &str) -> Vec<Value> {
    let admin = app.key_client(Scope::Admin).await;
    let r = admin.get("/api/v1/emails?limit=100").await;
    r.body["data"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|m| m["to_address"] == to && m["kind"] == "participant_login")
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_magic_link_opens_the_page_once() {
    each_backend(|app| async move {
        let (program, slug) = live_program(&app).await;
        let (_, other_slug) = live_program(&app).await;
        let manager = app.staff(Role::Manager).await;
        manager
            .post(
                &format!("/api/v1/programs/{program}/reward-rules"),
                json!({ "name": "Three", "threshold": 3, "amount": 2500 }),
            )
            .await;
        let key = app.key_client(Scope::Write).await;
        let ann = key
            .post(
                &format!("/api/v1/programs/{program}/participants"),
                json!({ "email": "ann@example.com", "first_name": "Ann" }),
            )
            .await
            .body;
        let code = ann["code"].as_str().expect("code");
        key.post(
            &format!("/api/v1/programs/{program}/participants"),
            json!({ "email": "bo@example.com", "referred_by": code }),
        )
        .await;
        // Ann unsubscribed from marketing; a link she asks for still reaches her.
        let mut conn = app.state.store.conn().await.expect("conn");
        vouch_store::emails::suppress(&mut conn, "ann@example.com", "unsubscribed")
            .await
            .expect("suppress");
        drop(conn);

        let c = browser();
        c.get(app.url(&format!("/r/{code}")))
            .send()
            .await
            .expect("click");
        let ask = c
            .get(app.url(&format!("/p/{slug}/me")))
            .send()
            .await
            .expect("page");
        assert_eq!(ask.status(), StatusCode::OK);
        assert!(ask.text().await.expect("body").contains("Email me a link"));
        for email in ["nobody@example.com", "ANN@example.com"] {
            let sent = c
                .post(app.url(&format!("/p/{slug}/me/link")))
                .form(&[("email", email)])
                .send()
                .await
                .expect("send");
            assert_eq!(sent.status(), StatusCode::OK);
            assert!(
                sent.text()
                    .await
                    .expect("body")
                    .contains("Check your inbox"),
                "the same answer either way"
            );
        }
        assert!(login_email(&app, "nobody@example.com").await.is_empty());
        let mails = login_email(&app, "ann@example.com").await;
        assert_eq!(mails.len(), 1);
        assert_eq!(
            mails[0]["status"], "queued",
            "transactional: not suppressed"
        );
        assert!(mails[0]["unsubscribe_url"].is_null());
        let text = mails[0]["text_body"].as_str().expect("text");
        let url = text
            .split_whitespace()
            .find(|w| w.contains("/me/login?token="))
            .expect("login url")
            .to_string();

        // Following the link twice (a mail scanner, then the person) burns nothing.
        for _ in 0..2 {
            let page = c.get(&url).send().await.expect("login page");
            assert_eq!(page.status(), StatusCode::OK);
            assert!(
                page.text()
                    .await
                    .expect("body")
                    .contains("Open my referral page")
            );
        }
        // Another site making a browser post the link (login CSRF) signs no one in.
        let forged = browser()
            .post(&url)
            .form(&[("login_csrf", "f".repeat(64))])
            .send()
            .await
            .expect("forged");
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);
        assert!(forged.headers().get_all("set-cookie").iter().all(|v| {
            !v.to_str()
                .unwrap_or_default()
                .starts_with("vouch_participant=")
        }));
        let token = common::login_form_token(&c, &url).await;
        let opened = c
            .post(&url)
            .form(&[("login_csrf", token.as_str())])
            .send()
            .await
            .expect("login");
        assert_eq!(opened.status(), StatusCode::SEE_OTHER);
        let cookie = opened.headers()["set-cookie"]
            .to_str()
            .expect("cookie")
            .to_string();
        assert!(
            cookie.starts_with("vouch_participant=")
                && cookie.contains("HttpOnly")
                && cookie.contains("Path=/p/"),
            "{cookie}"
        );
        let again = c
            .post(&url)
            .form(&[("login_csrf", token.as_str())])
            .send()
            .await
            .expect("again");
        assert_eq!(again.status(), StatusCode::GONE, "single use");
        assert_eq!(
            browser().get(&url).send().await.expect("again").status(),
            StatusCode::GONE
        );

        let page = c
            .get(app.url(&format!("/p/{slug}/me")))
            .send()
            .await
            .expect("me");
        assert_eq!(page.status(), StatusCode::OK);
        let body = page.text().await.expect("body");
        assert!(body.contains(&format!("{}/r/{code}", app.base)));
        assert!(body.contains("id=\"stat-clicks\">1<"), "one click");
        assert!(body.contains("id=\"stat-referred\">1<") && body.contains("id=\"stat-won\">1<"));
        assert!(
            body.contains("1 of 3 successful referrals"),
            "progress to the milestone"
        );
        // Ann's session opens nothing in another program.
        assert_eq!(
            c.get(app.url(&format!("/p/{other_slug}/me")))
                .send()
                .await
                .expect("other")
                .status(),
            StatusCode::NOT_FOUND
        );
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn embed_tokens_show_the_page_for_an_hour_at_most() {
    each_backend(|app| async move {
        let (program, slug) = live_program(&app).await;
        let key = app.key_client(Scope::Write).await;
        let ann = key
            .post(
                &format!("/api/v1/programs/{program}/participants"),
                json!({ "email": "ann@example.com" }),
            )
            .await
            .body;
        let id = ann["id"].as_str().expect("id");
        let path = format!("/api/v1/participants/{id}/embed-tokens");
        assert_eq!(
            key.post(&path, json!({ "ttl_seconds": 5000 }))
                .await
                .fields(),
            vec!["ttl_seconds".to_string()]
        );
        assert_eq!(
            app.key_client(Scope::Read)
                .await
                .post(&path, json!({}))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            key.post("/api/v1/participants/par_missing/embed-tokens", json!({}))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        let minted = key.post(&path, json!({ "ttl_seconds": 600 })).await;
        assert_eq!(minted.status, StatusCode::CREATED, "{}", minted.text);
        let url = minted.body["url"].as_str().expect("url");
        assert!(url.starts_with(&format!("{}/p/{slug}/me?embed_token=", app.base)));
        let page = reqwest::get(url).await.expect("embedded");
        assert_eq!(page.status(), StatusCode::OK);
        assert!(
            page.text()
                .await
                .expect("body")
                .contains(ann["code"].as_str().expect("code"))
        );
        // Tampered or expired tokens open nothing.
        let tampered = url.replace("embed_token=", "embed_token=A");
        assert_eq!(
            reqwest::get(&tampered).await.expect("tampered").status(),
            StatusCode::UNAUTHORIZED
        );
        // A minute-long token, and the clock moved two minutes on.
        let (expired, _) =
            vouch_app::participant_access::embed_token(&app.state, id, Some(60)).expect("token");
        app.state.clock.advance(time::Duration::minutes(2));
        let r = reqwest::get(app.url(&format!("/p/{slug}/me?embed_token={expired}")))
            .await
            .expect("expired");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn the_leaderboard_shows_rank_when_the_program_wants_it() {
    each_backend(|app| async move {
        let (program, _) = live_program(&app).await;
        let key = app.key_client(Scope::Write).await;
        let enrol = |body: Value| {
            let key = key.clone();
            let program = program.clone();
            async move {
                key.post(&format!("/api/v1/programs/{program}/participants"), body)
                    .await
                    .body
            }
        };
        let ann =
            enrol(json!({ "email": "ann@example.com", "first_name": "Ann", "last_name": "Lee" }))
                .await;
        let zed =
            enrol(json!({ "email": "zed@example.com", "first_name": "Zed", "last_name": "Moss" }))
                .await;
        enrol(json!({ "email": "a1@example.com", "referred_by": ann["code"] })).await;
        for i in 0..2 {
            enrol(json!({ "email": format!("z{i}@example.com"), "referred_by": zed["code"] }))
                .await;
        }
        let page = |id: String| {
            let key = key.clone();
            async move {
                let url = key
                    .post(
                        &format!("/api/v1/participants/{id}/embed-tokens"),
                        json!({}),
                    )
                    .await
                    .body["url"]
                    .as_str()
                    .expect("url")
                    .to_string();
                reqwest::get(url)
                    .await
                    .expect("page")
                    .text()
                    .await
                    .expect("body")
            }
        };
        let before = page(ann["id"].as_str().expect("id").to_string()).await;
        assert!(!before.contains("id=\"leaderboard\""), "off by default");
        let on = app
            .staff(Role::Staff)
            .await
            .patch(
                &format!("/api/v1/programs/{program}"),
                json!({ "show_leaderboard": true }),
            )
            .await;
        assert_eq!(on.body["show_leaderboard"], true, "{}", on.text);
        let after = page(ann["id"].as_str().expect("id").to_string()).await;
        assert!(after.contains("id=\"my-rank\">#2<"), "{after}");
        let zed_first = after.find("Zed M.: 2").expect("Zed leads");
        assert!(
            after
                .find("Ann L.: 1")
                .is_some_and(|ann_at| ann_at > zed_first)
        );
        assert!(
            !after.contains("zed@example.com"),
            "others' addresses are never shown"
        );
        app.stop().await;
    })
    .await;
}
