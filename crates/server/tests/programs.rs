//! Referral programs through the API, on both stores.

mod common;

use common::each_backend;
use common::receiver::{Mode, Receiver};
use reqwest::StatusCode;
use serde_json::json;
use vouch_domain::permission::{Role, Scope};

#[tokio::test]
async fn programs_are_created_validated_and_listed() {
    each_backend(|app| async move {
        let staff = app.staff(Role::Staff).await;
        let created = staff.post("/api/v1/programs", json!({ "name": "Spring Referrals", "landing_url": "https://example.com/join" })).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        assert!(created.body["id"].as_str().expect("id").starts_with("prg_"));
        assert_eq!(created.body["slug"], "spring-referrals");
        assert_eq!(created.body["status"], "draft");
        assert_eq!(created.body["attribution_window_days"], 30);
        assert_eq!(created.body["attribution_model"], "last_click");
        assert_eq!(created.body["qualifying_event"], "signup");
        assert_eq!(created.body["currency"], "USD");
        let dup = staff.post("/api/v1/programs", json!({ "name": "Spring Referrals", "landing_url": "https://example.com/x" })).await;
        assert_eq!(dup.status, StatusCode::CONFLICT);
        assert_eq!(dup.fields(), vec!["slug".to_string()]);
        let bad = staff
            .post("/api/v1/programs", json!({ "name": "", "landing_url": "example.com", "attribution_model": "random", "currency": "dollars", "reward_hold_days": -1 }))
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        for f in ["name", "landing_url", "attribution_model", "reward_hold_days", "currency"] {
            assert!(bad.fields().contains(&f.to_string()), "{f}: {}", bad.text);
        }
        let plain = staff.account("Plain", "plain@x.example").await;
        let tied = staff.post("/api/v1/programs", json!({ "name": "Tied", "landing_url": "https://example.com", "super_customer_id": plain })).await;
        assert_eq!(tied.fields(), vec!["super_customer_id".to_string()]);
        let id = created.body["id"].as_str().expect("id");
        let patched = staff.patch(&format!("/api/v1/programs/{id}"), json!({ "attribution_model": "first_click", "reward_hold_days": 14 })).await;
        assert_eq!(patched.body["attribution_model"], "first_click");
        assert_eq!(patched.body["name"], "Spring Referrals");
        let list = app.anonymous().get("/api/v1/programs").await;
        assert_eq!(list.status, StatusCode::UNAUTHORIZED);
        let viewer = app.staff(Role::Viewer).await;
        let list = viewer.get("/api/v1/programs?status=draft").await;
        assert_eq!(list.body["data"].as_array().map(Vec::len), Some(1));
        assert_eq!(viewer.get("/api/v1/programs?status=open").await.fields(), vec!["status".to_string()]);
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn only_managers_put_programs_live_and_ended_is_final() {
    each_backend(|app| async move {
        let rx = Receiver::start(Mode::Ok).await;
        let admin_key = app.key_client(Scope::Admin).await;
        admin_key
            .post(
                "/api/v1/webhook-endpoints",
                json!({ "url": rx.url, "event_types": ["program.*"] }),
            )
            .await;
        let staff = app.staff(Role::Staff).await;
        let manager = app.staff(Role::Manager).await;
        let id = staff
            .post(
                "/api/v1/programs",
                json!({ "name": "Launch", "landing_url": "https://example.com" }),
            )
            .await
            .body["id"]
            .as_str()
            .expect("id")
            .to_string();
        let status = |s: &str| json!({ "status": s });
        let path = format!("/api/v1/programs/{id}/status");
        let refused = staff.post(&path, status("live")).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let write_key = app.key_client(Scope::Write).await;
        assert_eq!(
            write_key.post(&path, status("live")).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            staff.get(&format!("/api/v1/programs/{id}")).await.body["status"],
            "draft"
        );
        assert_eq!(
            manager.post(&path, status("live")).await.body["status"],
            "live"
        );
        assert_eq!(
            staff.post(&path, status("paused")).await.body["status"],
            "paused"
        );
        assert_eq!(
            staff.post(&path, status("live")).await.status,
            StatusCode::FORBIDDEN,
            "back to live is going live again"
        );
        assert_eq!(
            admin_key.post(&path, status("live")).await.body["status"],
            "live"
        );
        let back = staff.post(&path, status("draft")).await;
        assert_eq!(back.status, StatusCode::CONFLICT);
        assert_eq!(back.body["code"], "invalid_transition");
        assert_eq!(
            staff.post(&path, status("ended")).await.body["status"],
            "ended"
        );
        assert_eq!(
            manager.post(&path, status("live")).await.status,
            StatusCode::CONFLICT
        );
        assert_eq!(
            staff
                .patch(
                    &format!("/api/v1/programs/{id}"),
                    json!({ "name": "Again" })
                )
                .await
                .status,
            StatusCode::CONFLICT
        );
        assert_eq!(
            staff.post(&path, status("sideways")).await.fields(),
            vec!["status".to_string()]
        );

        let audit = admin_key
            .get(&format!(
                "/api/v1/audit-events?entity=program&entity_id={id}"
            ))
            .await;
        let actions: Vec<&str> = audit.body["data"]
            .as_array()
            .expect("data")
            .iter()
            .filter_map(|e| e["action"].as_str())
            .collect();
        assert_eq!(
            actions,
            vec![
                "program.ended",
                "program.went_live",
                "program.paused",
                "program.went_live",
                "program.created"
            ]
        );
        let refusals = admin_key
            .get("/api/v1/audit-events?action=access.denied&entity_id=programs.publish")
            .await;
        assert!(
            refusals.body["data"]
                .as_array()
                .is_some_and(|d| d.len() >= 2),
            "{}",
            refusals.text
        );
        app.worker().drain().await.expect("drain");
        let types: Vec<String> = rx
            .delivered()
            .iter()
            .map(|r| r.json()["type"].as_str().unwrap_or_default().to_string())
            .collect();
        assert_eq!(
            types
                .iter()
                .filter(|t| *t == "program.status_changed")
                .count(),
            4
        );
        assert!(types.contains(&"program.created".to_string()));
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn participants_get_unique_codes_and_links() {
    each_backend(|app| async move {
        let staff = app.staff(Role::Staff).await;
        let id = staff
            .post(
                "/api/v1/programs",
                json!({ "name": "Friends", "landing_url": "https://example.com" }),
            )
            .await
            .body["id"]
            .as_str()
            .expect("id")
            .to_string();
        let path = format!("/api/v1/programs/{id}/participants");
        let ann = staff
            .post(
                &path,
                json!({ "email": "Ann.Lee@Example.com", "first_name": "Annabelle" }),
            )
            .await;
        assert_eq!(ann.status, StatusCode::CREATED, "{}", ann.text);
        let code = ann.body["code"].as_str().expect("code").to_string();
        assert!(code.starts_with("ANNABE") && code.len() == 10, "{code}");
        assert_eq!(ann.body["email"], "ann.lee@example.com");
        assert_eq!(ann.body["referral_link"], format!("{}/r/{code}", app.base));
        let dup = staff
            .post(&path, json!({ "email": "ann.lee@example.com" }))
            .await;
        assert_eq!(dup.status, StatusCode::CONFLICT);
        assert_eq!(dup.fields(), vec!["email".to_string()]);
        let bad = staff
            .post(&path, json!({ "email": "nope", "nickname": "x" }))
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        // Many enrolments: every code distinct.
        let mut codes = vec![code.clone()];
        for i in 0..30 {
            let r = staff
                .post(
                    &path,
                    json!({ "email": format!("p{i}@x.example"), "first_name": "Sam" }),
                )
                .await;
            codes.push(r.body["code"].as_str().expect("code").to_string());
        }
        let n = codes.len();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), n);
        let found = staff.get(&format!("{path}?q={code}")).await;
        assert_eq!(found.body["data"].as_array().map(Vec::len), Some(1));

        let pid = ann.body["id"].as_str().expect("id");
        let vanity = staff
            .send(
                staff
                    .request(
                        reqwest::Method::PUT,
                        &format!("/api/v1/participants/{pid}/code"),
                    )
                    .json(&json!({ "code": "annie" })),
            )
            .await;
        assert_eq!(vanity.body["code"], "ANNIE");
        let other = staff.post(&path, json!({ "email": "bob@x.example" })).await;
        let bob = other.body["id"].as_str().expect("id");
        let taken = staff
            .send(
                staff
                    .request(
                        reqwest::Method::PUT,
                        &format!("/api/v1/participants/{bob}/code"),
                    )
                    .json(&json!({ "code": "ANNIE" })),
            )
            .await;
        assert_eq!(taken.status, StatusCode::CONFLICT);
        let invalid = staff
            .send(
                staff
                    .request(
                        reqwest::Method::PUT,
                        &format!("/api/v1/participants/{bob}/code"),
                    )
                    .json(&json!({ "code": "a b" })),
            )
            .await;
        assert_eq!(invalid.fields(), vec!["code".to_string()]);

        let manager = app.staff(Role::Manager).await;
        manager
            .post(
                &format!("/api/v1/programs/{id}/status"),
                json!({ "status": "ended" }),
            )
            .await;
        let late = staff
            .post(&path, json!({ "email": "late@x.example" }))
            .await;
        assert_eq!(late.status, StatusCode::CONFLICT);
        assert_eq!(late.body["code"], "program_ended");
        let viewer = app.staff(Role::Viewer).await;
        assert_eq!(
            viewer
                .post(&path, json!({ "email": "v@x.example" }))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            viewer
                .get(&format!("/api/v1/participants/{pid}"))
                .await
                .body["code"],
            "ANNIE"
        );
        app.stop().await;
    })
    .await;
}

/// The console's "Share and embed" tab: the hosted page, both snippets, the program id with
/// API examples, and instant links made there (errors next to their fields, nothing made).
#[tokio::test]
async fn the_share_tab_hands_out_links_snippets_and_instant_links() {
    each_backend(|app| async move {
        let (program, slug) = common::live_program(&app, json!({})).await;
        let viewer = app.staff(Role::Viewer).await;
        let page = viewer
            .get(&format!("/admin/programs/{program}/share"))
            .await;
        assert_eq!(page.status, StatusCode::OK);
        let base = &app.base;
        assert!(
            page.text
                .contains(&format!("value=\"{base}/p/{slug}/join\"")),
            "{}",
            page.text
        );
        assert!(
            page.text.contains(&format!(
                "&#60;script src=&#34;{base}/p/{slug}/embed.js&#34; async&#62;&#60;/script&#62;"
            )),
            "{}",
            page.text
        );
        assert!(page.text.contains(&format!("{base}/p/{slug}/join?embed=1")));
        assert!(
            page.text.contains(&format!("value=\"{program}\"")),
            "the program id to copy"
        );
        assert!(
            page.text
                .contains(&format!("/api/v1/programs/{program}/events"))
        );
        assert!(
            !page.text.contains("id=\"instant-form\""),
            "a viewer makes no links"
        );

        let staff = app.staff(Role::Staff).await;
        let csrf = staff.csrf.clone().expect("csrf");
        let path = format!("/admin/programs/{program}/share/instant-link");
        let bad = staff
            .send(staff.request(reqwest::Method::POST, &path).form(&[
                ("csrf", csrf.as_str()),
                ("email", "nope"),
                ("ttl_days", "400"),
            ]))
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
        assert!(
            bad.text.contains("id=\"e-email\"") || bad.text.contains("id=\"e-ttl_days\""),
            "{}",
            bad.text
        );
        assert!(bad.text.contains("value=\"nope\""), "what was typed stays");
        let made = staff
            .send(staff.request(reqwest::Method::POST, &path).form(&[
                ("csrf", csrf.as_str()),
                ("email", "cy@example.com"),
                ("first_name", "Cy"),
                ("ttl_days", "7"),
            ]))
            .await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
        let url = made
            .text
            .split("id=\"instant-url\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the link is shown")
            .replace("&amp;", "&");
        assert!(
            url.starts_with(&format!("{base}/p/{slug}/instant")),
            "{url}"
        );
        let opened = reqwest::get(&url).await.expect("open link");
        assert_eq!(opened.status(), StatusCode::OK, "the link works");
        assert!(
            !made.text.contains("the invitation email is in the outbox"),
            "no email unless asked"
        );
        app.stop().await;
    })
    .await;
}

/// A participant's own console page: who referred them, whom they referred, clicks and
/// rewards, the referral link as text (not a live link), and a code change with its error
/// next to the field.
#[tokio::test]
async fn a_participant_has_a_page_with_referrals_both_ways() {
    each_backend(|app| async move {
        let (program, _) = common::live_program(&app, json!({})).await;
        let key = app.key_client(Scope::Admin).await;
        let ann = key
            .post(
                &format!("/api/v1/programs/{program}/participants"),
                json!({ "email": "ann@example.com", "first_name": "Ann", "last_name": "Lee" }),
            )
            .await;
        let ann_id = ann.body["id"].as_str().expect("id").to_string();
        let bo = key
            .post(
                &format!("/api/v1/programs/{program}/participants"),
                json!({ "email": "bo@example.com", "referred_by": ann.body["code"] }),
            )
            .await;
        let bo_id = bo.body["id"].as_str().expect("id").to_string();

        let viewer = app.staff(Role::Viewer).await;
        let page = viewer.get(&format!("/admin/participants/{ann_id}")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        assert!(page.text.contains("<h1>Ann Lee"), "{}", page.text);
        assert!(
            page.text.contains(&format!(
                "href=\"/admin/participants/{bo_id}\">bo@example.com</a>"
            )),
            "whom she referred"
        );
        assert!(page.text.contains("Nobody: they joined on their own"));
        let code = ann.body["code"].as_str().expect("code");
        assert!(
            page.text
                .contains(&format!("value=\"{}/r/{code}\"", app.base)),
            "the link as text"
        );
        assert!(
            !page
                .text
                .contains(&format!("href=\"{}/r/{code}\"", app.base)),
            "not a live link"
        );
        assert!(
            !page.text.contains("id=\"code-form\""),
            "a viewer changes no code"
        );
        let friend = viewer.get(&format!("/admin/participants/{bo_id}")).await;
        assert!(
            friend.text.contains(&format!(
                "href=\"/admin/participants/{ann_id}\">ann@example.com</a>"
            )),
            "who referred him"
        );
        let participants = viewer
            .get(&format!("/admin/programs/{program}/participants"))
            .await;
        assert!(
            participants
                .text
                .contains(&format!("href=\"/admin/participants/{ann_id}\"")),
            "the list links each one"
        );
        assert!(
            participants
                .text
                .contains("id=\"participants-total\">2 participants."),
            "{}",
            participants.text
        );
        let found = viewer
            .get(&format!("/admin/programs/{program}/participants?q=bo%40"))
            .await;
        assert!(
            found
                .text
                .contains("id=\"participants-total\">1 participant matches “bo@”."),
            "{}",
            found.text
        );
        assert_eq!(
            viewer.get("/admin/participants/par_missing").await.status,
            StatusCode::NOT_FOUND
        );

        let staff = app.staff(Role::Staff).await;
        let csrf = staff.csrf.clone().expect("csrf");
        let path = format!("/admin/participants/{ann_id}/code");
        let bad = staff
            .send(
                staff
                    .request(reqwest::Method::POST, &path)
                    .form(&[("csrf", csrf.as_str()), ("code", "a!")]),
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
        assert!(
            bad.text.contains("id=\"e-code\"") && bad.text.contains("value=\"a!\""),
            "{}",
            bad.text
        );
        let good = staff
            .send(
                staff
                    .request(reqwest::Method::POST, &path)
                    .form(&[("csrf", csrf.as_str()), ("code", "annie")]),
            )
            .await;
        assert_eq!(good.status, StatusCode::SEE_OTHER, "{}", good.text);
        let after = key.get(&format!("/api/v1/participants/{ann_id}")).await;
        assert_eq!(after.body["code"], "ANNIE");
        app.stop().await;
    })
    .await;
}

/// A program's branding: checked at the API, shown on the signup page (headline, offer, colour,
/// and the name of whoever's link brought the visitor) and on the referral page.
#[tokio::test]
async fn branding_reaches_the_signup_page_and_names_the_referrer() {
    each_backend(|app| async move {
        let key = app.key_client(Scope::Admin).await;
        let bad = key
            .post("/api/v1/programs", json!({ "name": "Brand", "landing_url": "https://shop.example.com", "brand_color": "teal", "logo_url": "http://shop.example.com/logo.png" }))
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.fields(), vec!["logo_url".to_string(), "brand_color".to_string()]);
        let (program, slug) = common::live_program(
            &app,
            json!({ "headline": "Bring a friend to Acme", "offer": "Give $10, get $10", "brand_color": "#0f766e", "logo_url": "https://shop.example.com/logo.png" }),
        )
        .await;
        let got = key.get(&format!("/api/v1/programs/{program}")).await;
        assert_eq!(got.body["brand_color"], "#0F766E");
        assert_eq!(got.body["offer"], "Give $10, get $10");
        let ann = key
            .post(&format!("/api/v1/programs/{program}/participants"), json!({ "email": "ann@example.com", "first_name": "Ann" }))
            .await;
        let code = ann.body["code"].as_str().expect("code");
        // Her welcome email is headed by the program's logo over its colour.
        let mails = key.get("/api/v1/emails?limit=100").await;
        let welcome = mails.body["data"]
            .as_array()
            .and_then(|all| all.iter().find(|m| m["kind"] == "participant_welcome" && m["to_address"] == "ann@example.com"))
            .expect("welcome email");
        let html = welcome["html_body"].as_str().unwrap_or_default();
        assert!(html.contains("border-top:4px solid #0F766E"), "{html}");
        assert!(html.contains("<img src=\"https://shop.example.com/logo.png\""), "{html}");
        assert!(!welcome["text_body"].as_str().unwrap_or_default().contains("<img"), "text stays text");

        let page = reqwest::get(app.url(&format!("/p/{slug}/join?ref={code}"))).await.expect("page").text().await.expect("text");
        assert!(page.contains("<p class=\"invited\" id=\"invited-by\">Ann invited you.</p>"), "{page}");
        assert!(page.contains("<h1>Bring a friend to Acme</h1>") && page.contains("Give $10, get $10"), "{page}");
        assert!(page.contains("--brand:#0F766E;--on-brand:#FFFFFF"), "{page}");
        assert!(page.contains("src=\"https://shop.example.com/logo.png\""));
        let short = common::visitor().get(app.url(&format!("/p/{slug}?ref={code}"))).send().await.expect("short");
        assert_eq!(short.status(), StatusCode::SEE_OTHER);
        assert_eq!(short.headers()["location"], format!("/p/{slug}/join?ref={code}").as_str());
        let stranger = reqwest::get(app.url(&format!("/p/{slug}/join?ref=NOBODY1"))).await.expect("page").text().await.expect("text");
        assert!(!stranger.contains("invited-by"), "an unknown code names no one");
        app.stop().await;
    })
    .await;
}
