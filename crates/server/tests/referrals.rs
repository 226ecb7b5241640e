//! Referrals end to end on both stores: attribution (API code, hidden field, cookie; first and
//! last click), qualification events, revocation, participant emails with their unsubscribe
//! links, and per-program templates.

mod common;

use common::smtp::SmtpListener;
use common::{Api, TestApp, each_backend, live_program, visitor};
use reqwest::StatusCode;
use serde_json::{Value, json};
use vouch_domain::permission::{Role, Scope};
use vouch_jobs::email::{EmailSettings, SmtpSecurity, SmtpSettings, Transport};

/// A live program with these settings; returns its id and slug.
async fn enrol(api: &Api, program: &str, body: Value) -> Value {
    let r = api
        .post(&format!("/api/v1/programs/{program}/participants"), body)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body
}

async fn referrals(api: &Api, program: &str, query: &str) -> Vec<Value> {
    let r = api
        .get(&format!("/api/v1/programs/{program}/referrals{query}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["data"].as_array().cloned().unwrap_or_default()
}

async fn emails_to(api: &Api, to: &str) -> Vec<Value> {
    let r = api.get("/api/v1/emails?limit=100").await;
    r.body["data"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|m| m["to_address"] == to)
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

async fn event_types(app: &TestApp) -> Vec<String> {
    let mut conn = app.state.store.conn().await.expect("conn");
    vouch_store::events::since(
        &mut conn,
        vouch_domain::Timestamp::parse("2000-01-01T00:00:00.000Z").expect("time"),
        1000,
    )
    .await
    .expect("events")
    .into_iter()
    .map(|e| e.event_type)
    .collect()
}

#[tokio::test]
async fn a_referred_signup_is_won_at_signup_and_both_people_are_emailed() {
    each_backend(|app| async move {
        let (program, _) = live_program(&app, json!({})).await;
        let key = app.key_client(Scope::Write).await;
        let ann = enrol(&key, &program, json!({ "email": "ann@example.com", "first_name": "Ann" })).await;
        let code = ann["code"].as_str().expect("code");

        // A code that names nobody in the program is refused by field, and nothing is saved.
        let bad = key.post(&format!("/api/v1/programs/{program}/participants"), json!({ "email": "bo@example.com", "referred_by": "NOPE1234" })).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.fields(), vec!["referred_by".to_string()]);
        let bad = key.post(&format!("/api/v1/programs/{program}/participants"), json!({ "email": "bo@example.com", "referred_by": "no spaces" })).await;
        assert_eq!(bad.fields(), vec!["referred_by".to_string()]);

        let bo = enrol(&key, &program, json!({ "email": "bo@example.com", "first_name": "Bo", "referred_by": code.to_lowercase() })).await;
        assert_eq!(bo["referred_by"], ann["id"]);
        let list = referrals(&key, &program, "").await;
        assert_eq!(list.len(), 1);
        assert_eq!(list[0]["referrer_id"], ann["id"]);
        assert_eq!(list[0]["referred_id"], bo["id"]);
        assert_eq!(list[0]["source"], "code");
        assert_eq!(list[0]["stage"], "won", "the program qualifies at signup");
        assert!(list[0]["won_at"].is_string());
        let types = event_types(&app).await;
        for t in ["participant.created", "referral.created", "referral.won"] {
            assert!(types.contains(&t.to_string()), "{t} in {types:?}");
        }

        let admin = app.key_client(Scope::Admin).await;
        let to_bo = emails_to(&admin, "bo@example.com").await;
        assert_eq!(to_bo.len(), 1);
        assert_eq!(to_bo[0]["kind"], "participant_welcome");
        assert!(to_bo[0]["text_body"].as_str().expect("text").contains(&format!("/r/{}", bo["code"].as_str().expect("code"))));
        let to_ann: Vec<String> = emails_to(&admin, "ann@example.com").await.iter().map(|m| m["kind"].as_str().unwrap_or_default().to_string()).collect();
        assert!(to_ann.contains(&"referral_won".to_string()), "{to_ann:?}");
        let won_mail = emails_to(&admin, "ann@example.com").await.into_iter().find(|m| m["kind"] == "referral_won").expect("won mail");
        assert!(won_mail["subject"].as_str().expect("subject").starts_with("Bo joined"));
        assert!(won_mail["text_body"].as_str().expect("text").contains("1 successful referral."));
        for m in [&to_bo[0], &won_mail] {
            let url = m["unsubscribe_url"].as_str().expect("unsubscribe url");
            assert!(url.starts_with(&format!("{}/unsubscribe?token=", app.base)));
            assert!(m["text_body"].as_str().expect("text").contains(url));
            assert_eq!(m["marketing"], true);
        }

        // Each person is referred once; a second enrolment of Bo is a conflict.
        let again = key.post(&format!("/api/v1/programs/{program}/participants"), json!({ "email": "bo@example.com", "referred_by": code })).await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn a_custom_qualifying_event_wins_the_referral_once() {
    each_backend(|app| async move {
        let (program, _) = live_program(&app, json!({ "qualifying_event": "purchase" })).await;
        let key = app.key_client(Scope::Write).await;
        let ann = enrol(&key, &program, json!({ "email": "ann@example.com" })).await;
        let bo = enrol(
            &key,
            &program,
            json!({ "email": "bo@example.com", "referred_by": ann["code"] }),
        )
        .await;
        let r = &referrals(&key, &program, "").await[0];
        assert_eq!(r["stage"], "new");
        let events = format!("/api/v1/programs/{program}/events");

        // Bad input names its fields; an unknown participant is named too.
        let bad = key.post(&events, json!({})).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.fields(), vec!["event_id", "name", "participant_id"]);
        let bad = key
            .post(
                &events,
                json!({ "event_id": "e0", "name": "purchase", "email": "nobody@example.com" }),
            )
            .await;
        assert_eq!(bad.fields(), vec!["email".to_string()]);
        let bad = key
            .post(
                &events,
                json!({ "event_id": "e0", "name": "purchase", "participant_id": "par_other" }),
            )
            .await;
        assert_eq!(bad.fields(), vec!["participant_id".to_string()]);

        let other = key
            .post(
                &events,
                json!({ "event_id": "e1", "name": "page_view", "email": "BO@example.com" }),
            )
            .await;
        assert_eq!(other.status, StatusCode::CREATED, "{}", other.text);
        assert_eq!(other.body["outcome"], "not_qualifying");
        let not_referred = key
            .post(
                &events,
                json!({ "event_id": "e2", "name": "purchase", "participant_id": ann["id"] }),
            )
            .await;
        assert_eq!(not_referred.body["outcome"], "not_referred");

        let won = key
            .post(
                &events,
                json!({ "event_id": "order-77", "name": "purchase", "participant_id": bo["id"] }),
            )
            .await;
        assert_eq!(won.status, StatusCode::CREATED, "{}", won.text);
        assert_eq!(won.body["outcome"], "referral_won");
        assert_eq!(won.body["referral_id"], r["id"]);
        // The same report again: the first answer, nothing new.
        let replay = key
            .post(
                &events,
                json!({ "event_id": "order-77", "name": "purchase", "participant_id": bo["id"] }),
            )
            .await;
        assert_eq!(replay.status, StatusCode::OK);
        assert_eq!(replay.body, won.body);
        let reused = key
            .post(
                &events,
                json!({ "event_id": "order-77", "name": "purchase", "participant_id": ann["id"] }),
            )
            .await;
        assert_eq!(reused.status, StatusCode::CONFLICT);
        assert_eq!(reused.body["code"], "event_id_reused");
        let second = key
            .post(
                &events,
                json!({ "event_id": "order-78", "name": "purchase", "participant_id": bo["id"] }),
            )
            .await;
        assert_eq!(second.body["outcome"], "already_won");
        let admin = app.key_client(Scope::Admin).await;
        let won_mails = emails_to(&admin, "ann@example.com")
            .await
            .into_iter()
            .filter(|m| m["kind"] == "referral_won")
            .count();
        assert_eq!(won_mails, 1, "the referrer hears of the win once");

        let detail = key
            .get(&format!(
                "/api/v1/referrals/{}",
                r["id"].as_str().expect("id")
            ))
            .await;
        assert_eq!(detail.body["stage"], "won");
        let history = detail.body["history"].as_array().expect("history");
        assert_eq!(history.len(), 2);
        assert_eq!(history[1]["from_stage"], "new");
        assert_eq!(history[1]["to_stage"], "won");
        assert_eq!(history[1]["reason"], "purchase event order-77");

        // A refund revokes it; a revoked referral cannot be won again.
        let stage = format!("/api/v1/referrals/{}/stage", r["id"].as_str().expect("id"));
        let bad = key.post(&stage, json!({ "stage": "gone" })).await;
        assert_eq!(bad.fields(), vec!["stage".to_string()]);
        let revoked = key
            .post(&stage, json!({ "stage": "lost", "reason": "refunded" }))
            .await;
        assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
        assert_eq!(revoked.body["stage"], "lost");
        assert!(
            event_types(&app)
                .await
                .contains(&"referral.revoked".to_string())
        );
        let again = key.post(&stage, json!({ "stage": "won" })).await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert_eq!(again.body["code"], "invalid_transition");
        let closed = key
            .post(
                &events,
                json!({ "event_id": "order-79", "name": "purchase", "participant_id": bo["id"] }),
            )
            .await;
        assert_eq!(closed.body["outcome"], "referral_closed");
        assert_eq!(referrals(&key, &program, "?stage=lost").await.len(), 1);
        assert_eq!(referrals(&key, &program, "?stage=won").await.len(), 0);
        assert_eq!(
            key.get(&format!("/api/v1/programs/{program}/referrals?stage=maybe"))
                .await
                .fields(),
            vec!["stage".to_string()]
        );

        // Reading is not writing: a read key and a viewer cannot report events.
        let read = app.key_client(Scope::Read).await;
        assert_eq!(
            read.post(
                &events,
                json!({ "event_id": "x", "name": "purchase", "participant_id": bo["id"] })
            )
            .await
            .status,
            StatusCode::FORBIDDEN
        );
        let viewer = app.staff(Role::Viewer).await;
        assert_eq!(
            viewer.post(&stage, json!({ "stage": "junk" })).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            viewer
                .get(&format!("/api/v1/programs/{program}/referrals"))
                .await
                .status,
            StatusCode::OK
        );
        app.stop().await;
    })
    .await;
}

async fn join(
    app: &TestApp,
    c: &reqwest::Client,
    slug: &str,
    email: &str,
    hidden_ref: &str,
) -> (StatusCode, String) {
    let r = c
        .post(app.url(&format!("/p/{slug}/join")))
        .form(&[
            ("email", email),
            ("first_name", "Cy"),
            ("last_name", ""),
            ("ref", hidden_ref),
        ])
        .send()
        .await
        .expect("join");
    let status = r.status();
    (status, r.text().await.expect("body"))
}

#[tokio::test]
async fn the_join_page_credits_the_link_the_model_picks() {
    each_backend(|app| async move {
        let key = app.key_client(Scope::Write).await;
        for (model, expected) in [("last_click", "second"), ("first_click", "first")] {
            let (program, slug) = live_program(&app, json!({ "attribution_model": model })).await;
            let first = enrol(
                &key,
                &program,
                json!({ "email": format!("first-{model}@example.com") }),
            )
            .await;
            let second = enrol(
                &key,
                &program,
                json!({ "email": format!("second-{model}@example.com") }),
            )
            .await;
            let c = visitor();
            for who in [&first, &second] {
                let r = c
                    .get(app.url(&format!("/r/{}", who["code"].as_str().expect("code"))))
                    .send()
                    .await
                    .expect("click");
                assert_eq!(r.status(), StatusCode::FOUND);
            }
            let page = c
                .get(app.url(&format!("/p/{slug}/join")))
                .send()
                .await
                .expect("page");
            assert_eq!(page.status(), StatusCode::OK);
            let (status, body) =
                join(&app, &c, &slug, &format!("cy-{model}@example.com"), "").await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            assert!(
                body.contains("Check your inbox") && body.contains("referred-note"),
                "the page points to the emailed link and thanks for the friend's: {body}"
            );
            let list = referrals(&key, &program, "").await;
            let credited = if expected == "first" { &first } else { &second };
            assert_eq!(list.len(), 1, "{model}");
            assert_eq!(list[0]["referrer_id"], credited["id"], "{model}");
            assert_eq!(list[0]["source"], "link");
        }

        // The hidden field from the landing page's ?ref= works without a cookie; a stale or
        // unknown code never blocks the signup.
        let (program, slug) = live_program(&app, json!({})).await;
        let dee = enrol(&key, &program, json!({ "email": "dee@example.com" })).await;
        let page = visitor()
            .get(app.url(&format!(
                "/p/{slug}/join?ref={}",
                dee["code"].as_str().expect("code")
            )))
            .send()
            .await
            .expect("page");
        assert!(page.text().await.expect("body").contains(&format!(
            "name=\"ref\" value=\"{}\"",
            dee["code"].as_str().expect("code")
        )));
        let (status, _) = join(
            &app,
            &visitor(),
            &slug,
            "eve@example.com",
            dee["code"].as_str().expect("code"),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
        let (status, _) = join(&app, &visitor(), &slug, "fay@example.com", "UNKNOWN99").await;
        assert_eq!(status, StatusCode::CREATED);
        let list = referrals(&key, &program, "").await;
        assert_eq!(list.len(), 1);
        assert_eq!(list[0]["referrer_id"], dee["id"]);
        assert_eq!(list[0]["source"], "form");

        // Errors come back next to their fields.
        let (status, body) = join(&app, &visitor(), &slug, "not-an-email", "").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("id=\"e-email\""), "{body}");
        // A second signup with one email gets the page a new one gets (the form tells no one
        // who is in the program), and the person, not the visitor, gets a sign-in link.
        let (_, new_page) = join(&app, &visitor(), &slug, "gus@example.com", "").await;
        let (status, body) = join(&app, &visitor(), &slug, "EVE@example.com", "").await;
        assert_eq!(status, StatusCode::CREATED);
        let strip = |page: &str, email: &str| page.replace(email, "EMAIL");
        assert_eq!(
            strip(&body, "eve@example.com"),
            strip(&new_page, "gus@example.com"),
            "the same page either way"
        );
        assert!(!body.contains("/r/") && !body.contains("already"), "{body}");
        let admin = app.key_client(Scope::Admin).await;
        let to_eve = emails_to(&admin, "eve@example.com").await;
        assert!(
            to_eve.iter().any(|m| m["kind"] == "participant_login"),
            "{to_eve:?}"
        );
        assert_eq!(
            referrals(&key, &program, "").await.len(),
            1,
            "nothing else recorded"
        );

        // Programs that do not take signups say why.
        let draft = app
            .staff(Role::Staff)
            .await
            .post(
                "/api/v1/programs",
                json!({ "name": "Not yet", "landing_url": "https://x.example" }),
            )
            .await;
        let r = visitor()
            .get(app.url(&format!(
                "/p/{}/join",
                draft.body["slug"].as_str().expect("slug")
            )))
            .send()
            .await
            .expect("draft");
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            visitor()
                .get(app.url("/p/no-such-program/join"))
                .send()
                .await
                .expect("none")
                .status(),
            StatusCode::NOT_FOUND
        );
        app.staff(Role::Manager)
            .await
            .post(
                &format!("/api/v1/programs/{program}/status"),
                json!({ "status": "paused" }),
            )
            .await;
        let r = visitor()
            .get(app.url(&format!("/p/{slug}/join")))
            .send()
            .await
            .expect("paused");
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        let (status, _) = join(&app, &visitor(), &slug, "gus@example.com", "").await;
        assert_eq!(
            status,
            StatusCode::SERVICE_UNAVAILABLE,
            "nothing is saved while paused"
        );
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn unsubscribe_links_stop_marketing_email_and_only_on_post() {
    each_backend(|app| async move {
        let (program, _) = live_program(&app, json!({})).await;
        let key = app.key_client(Scope::Write).await;
        let admin = app.key_client(Scope::Admin).await;
        let ann = enrol(&key, &program, json!({ "email": "ann@example.com" })).await;
        let url = emails_to(&admin, "ann@example.com").await[0]["unsubscribe_url"]
            .as_str()
            .expect("url")
            .to_string();

        // Following the link (as a mail scanner would) changes nothing.
        let c = visitor();
        let page = c.get(&url).send().await.expect("page");
        assert_eq!(page.status(), StatusCode::OK);
        let body = page.text().await.expect("body");
        assert!(
            body.contains("a•••@example.com") && !body.contains("ann@example.com"),
            "{body}"
        );
        let mut conn = app.state.store.conn().await.expect("conn");
        assert!(
            !vouch_store::emails::is_suppressed(&mut conn, "ann@example.com")
                .await
                .expect("check")
        );
        // A forged or cut token is a 404 page.
        let forged = url.replace("token=", "token=x");
        assert_eq!(
            c.get(&forged).send().await.expect("forged").status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            c.post(&url[..url.len() - 3])
                .send()
                .await
                .expect("cut")
                .status(),
            StatusCode::NOT_FOUND
        );

        // The one-click POST of RFC 8058, with no cookies and no CSRF token.
        let r = reqwest::Client::new()
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .expect("one-click");
        assert_eq!(r.status(), StatusCode::OK);
        assert!(
            r.text()
                .await
                .expect("body")
                .contains("You are unsubscribed")
        );
        assert!(
            vouch_store::emails::is_suppressed(&mut conn, "ann@example.com")
                .await
                .expect("check")
        );
        drop(conn);
        assert!(
            event_types(&app)
                .await
                .contains(&"email.unsubscribed".to_string())
        );
        // Twice is harmless.
        assert_eq!(
            c.post(&url).send().await.expect("again").status(),
            StatusCode::OK
        );

        // Ann's next marketing email is recorded as suppressed and never queued.
        enrol(
            &key,
            &program,
            json!({ "email": "bo@example.com", "referred_by": ann["code"] }),
        )
        .await;
        let won = emails_to(&admin, "ann@example.com")
            .await
            .into_iter()
            .find(|m| m["kind"] == "referral_won")
            .expect("won mail");
        assert_eq!(won["status"], "suppressed");
        assert!(won["job_id"].is_null());
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn programs_have_their_own_templates_and_smtp_sends_list_unsubscribe() {
    each_backend(|app| async move {
        let (program, _) = live_program(&app, json!({})).await;
        let (other, _) = live_program(&app, json!({})).await;
        let admin = app.key_client(Scope::Admin).await;
        let path = format!("/api/v1/programs/{program}/email-templates/participant_welcome");
        let t = admin.get(&path).await;
        assert_eq!(t.body["source"], "default");
        assert_eq!(t.body["customised"], false);
        // A template that cannot render names the part and line; nothing is saved.
        let bad = admin.send(admin.request(reqwest::Method::PUT, &path).json(&json!({ "subject": "Hi", "text": "ok", "html": "<p>\n{{ nope }}</p>" }))).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.fields(), vec!["html".to_string()]);
        // The installation's override applies everywhere; the program's own wins in it.
        let put = |path: String, subject: &'static str| {
            let admin = admin.clone();
            async move {
                let r = admin.send(admin.request(reqwest::Method::PUT, &path).json(&json!({ "subject": subject, "text": "Share {{ referral_link }}", "html": "<p>{{ referral_link }}</p>" }))).await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.text);
                r
            }
        };
        put("/api/v1/email-templates/participant_welcome".into(), "Installation welcome").await;
        let saved = put(path.clone(), "Welcome to {{ program.name }}").await;
        assert_eq!(saved.body["source"], "program");
        // Staff notices have no per-program version.
        assert_eq!(admin.get(&format!("/api/v1/programs/{program}/email-templates/webhook_endpoint_disabled")).await.status, StatusCode::NOT_FOUND);
        assert_eq!(admin.get(&format!("/api/v1/programs/{program}/email-templates")).await.body["data"].as_array().map(Vec::len), Some(vouch_domain::email_template::Kind::ALL.iter().filter(|k| k.per_program()).count()), "every kind but those without a program");

        let key = app.key_client(Scope::Write).await;
        enrol(&key, &program, json!({ "email": "ann@example.com" })).await;
        enrol(&key, &other, json!({ "email": "ann@example.com" })).await;
        let mails = emails_to(&admin, "ann@example.com").await;
        let subjects: Vec<&str> = mails.iter().map(|m| m["subject"].as_str().unwrap_or_default()).collect();
        assert!(subjects.iter().any(|s| s.starts_with("Welcome to Friends")), "{subjects:?}");
        assert!(subjects.contains(&"Installation welcome"), "{subjects:?}");
        // The override left the unsubscribe link out; it is added anyway.
        for m in &mails {
            let url = m["unsubscribe_url"].as_str().expect("url");
            assert!(m["text_body"].as_str().expect("text").contains(url));
            assert!(m["html_body"].as_str().expect("html").contains("Unsubscribe</a>"));
        }
        // Removing the program's version brings the installation's back.
        let reset = admin.send(admin.request(reqwest::Method::DELETE, &path)).await;
        assert_eq!(reset.body["source"], "installation");
        // At once, for the next signup: the program's version is not kept after its removal.
        enrol(&key, &program, json!({ "email": "bea@example.com" })).await;
        let bea = emails_to(&admin, "bea@example.com").await;
        assert!(bea.iter().any(|m| m["subject"] == "Installation welcome"), "{bea:?}");

        // Through SMTP the message carries the one-click unsubscribe headers.
        let smtp = SmtpListener::start().await;
        let worker = app.worker_with(|s| {
            s.email = EmailSettings {
                transport: Transport::Smtp(SmtpSettings { host: "127.0.0.1".into(), port: smtp.port, security: SmtpSecurity::None, username: None, password: None }),
                from: "Vouch <vouch@test.local>".into(),
            };
        });
        worker.drain().await.expect("drain");
        let sent = smtp.mails();
        assert_eq!(sent.len(), 3, "Ann's two welcomes and Bea's");
        for m in &sent {
            let unfolded = m.data.replace("\r\n ", " ");
            assert!(unfolded.contains("List-Unsubscribe: <http://127.0.0.1:"), "{}", m.data);
            assert!(unfolded.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        }
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn the_visitor_secret_survives_a_restart() {
    each_backend(|app| async move {
        let first = app.state.secrets.visitor.clone();
        let again =
            vouch_server::AppState::new(app.state.store.clone(), vouch_server::Settings::default())
                .await
                .expect("state");
        assert_eq!(first, again.secrets.visitor);
        assert_ne!(app.state.secrets.visitor, app.state.secrets.unsubscribe);
        again.clicks.flush_and_stop().await;
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn flagged_referrals_wait_for_review_and_count_once_cleared() {
    each_backend(|app| async move {
        let (program, slug) = live_program(&app, json!({})).await;
        let manager = app.staff(Role::Manager).await;
        let r = manager.post(&format!("/api/v1/programs/{program}/reward-rules"), json!({ "name": "Each friend", "trigger": "every", "threshold": 1, "amount": 500 })).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let key = app.key_client(Scope::Write).await;
        let admin = app.key_client(Scope::Admin).await;
        let ann = enrol(&key, &program, json!({ "email": "ann.lee@gmail.com", "first_name": "Ann", "ip_address": "203.0.113.5" })).await;
        let bad = key.post(&format!("/api/v1/programs/{program}/participants"), json!({ "email": "x@example.com", "ip_address": "not-an-ip" })).await;
        assert_eq!(bad.fields(), vec!["ip_address".to_string()]);

        // Same network address as the referrer: self-referral.
        let bo = enrol(&key, &program, json!({ "email": "bo@example.com", "referred_by": ann["code"], "ip_address": "203.0.113.5" })).await;
        // A throwaway address, and Ann's own mailbox under another spelling.
        enrol(&key, &program, json!({ "email": "cy@yopmail.com", "referred_by": ann["code"], "ip_address": "198.51.100.1" })).await;
        enrol(&key, &program, json!({ "email": "a.n.n.lee+2@googlemail.com", "referred_by": ann["code"], "ip_address": "198.51.100.2" })).await;
        let queue = referrals(&key, &program, "?review=pending").await;
        assert_eq!(queue.len(), 3);
        let flags_of = |email_id: &Value| -> Vec<String> {
            queue.iter().find(|r| r["referred_id"] == *email_id).map(|r| r["flags"].as_array().expect("flags").iter().map(|f| f["flag"].as_str().unwrap_or_default().to_string()).collect()).unwrap_or_default()
        };
        assert_eq!(flags_of(&bo["id"]), vec!["self_referral"]);
        let all_flags: Vec<String> = queue.iter().flat_map(|r| r["flags"].as_array().cloned().unwrap_or_default()).map(|f| f["flag"].as_str().unwrap_or_default().to_string()).collect();
        for f in ["self_referral", "disposable_email", "existing_participant"] {
            assert!(all_flags.contains(&f.to_string()), "{f} in {all_flags:?}");
        }
        // Won at signup, but counting toward nothing yet: no reward, no news for Ann.
        assert!(queue.iter().all(|r| r["stage"] == "won"));
        assert!(key.get(&format!("/api/v1/programs/{program}/rewards")).await.body["data"].as_array().expect("data").is_empty());
        assert!(emails_to(&admin, "ann.lee@gmail.com").await.iter().all(|m| m["kind"] != "referral_won"));

        // The review: bad input by field, the wrong role refused, then decisions.
        let bo_ref = queue.iter().find(|r| r["referred_id"] == bo["id"]).expect("bo")["id"].as_str().expect("id").to_string();
        let path = format!("/api/v1/referrals/{bo_ref}/review");
        let staff = app.staff(Role::Manager).await;
        let bad = staff.post(&path, json!({ "decision": "maybe", "reason": "" })).await;
        assert_eq!(bad.fields(), vec!["decision".to_string()]);
        let bad = staff.post(&path, json!({ "decision": "clear", "reason": " " })).await;
        assert_eq!(bad.fields(), vec!["reason".to_string()]);
        // Clearing pays the referrer: a manager's decision or an admin key's, not staff's or a
        // write key's.
        assert_eq!(app.staff(Role::Viewer).await.post(&path, json!({ "decision": "clear", "reason": "x" })).await.status, StatusCode::FORBIDDEN);
        assert_eq!(app.staff(Role::Staff).await.post(&path, json!({ "decision": "clear", "reason": "x" })).await.status, StatusCode::FORBIDDEN);
        assert_eq!(key.post(&path, json!({ "decision": "clear", "reason": "x" })).await.status, StatusCode::FORBIDDEN);
        let cleared = staff.post(&path, json!({ "decision": "clear", "reason": "Bo is Ann's flatmate; checked by phone" })).await;
        assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.text);
        assert_eq!(cleared.body["review"], "cleared");
        assert!(cleared.body["reviewed_by"].as_str().expect("by").starts_with("manager-"));
        assert_eq!(staff.post(&path, json!({ "decision": "junk", "reason": "changed my mind" })).await.status, StatusCode::CONFLICT);
        let rewards = key.get(&format!("/api/v1/programs/{program}/rewards")).await;
        assert_eq!(rewards.body["data"].as_array().map(Vec::len), Some(1), "cleared: it counts now: {}", rewards.text);
        assert!(emails_to(&admin, "ann.lee@gmail.com").await.iter().any(|m| m["kind"] == "referral_won"));
        for r in referrals(&key, &program, "?review=pending").await {
            let junk = staff.post(&format!("/api/v1/referrals/{}/review", r["id"].as_str().expect("id")), json!({ "decision": "junk", "reason": "throwaway or own address" })).await;
            assert_eq!(junk.status, StatusCode::OK);
            assert_eq!(junk.body["stage"], "junk");
            assert_eq!(junk.body["review"], "junk");
        }
        assert_eq!(key.get(&format!("/api/v1/programs/{program}/rewards")).await.body["data"].as_array().map(Vec::len), Some(1));
        let mut conn = app.state.store.conn().await.expect("conn");
        let filter = vouch_store::audit::Filter { action: Some("referral.review_".into()), limit: 10, ..Default::default() };
        let decisions = vouch_store::audit::list(&mut conn, &filter).await.expect("audit");
        assert_eq!(decisions.len(), 3, "each decision is audited");
        drop(conn);

        // Velocity: the sixth referred signup from one address within the hour is flagged.
        let dee = enrol(&key, &program, json!({ "email": "dee@example.com" })).await;
        for i in 0..6 {
            enrol(&key, &program, json!({ "email": format!("v{i}@example.com"), "referred_by": dee["code"], "ip_address": "192.0.2.77" })).await;
        }
        let flagged = referrals(&key, &program, &format!("?review=pending&referrer_id={}", dee["id"].as_str().expect("id"))).await;
        assert_eq!(flagged.len(), 1);
        assert_eq!(flagged[0]["flags"][0]["flag"], "velocity");

        // The join page notices a referrer signing a friend up from the referrer's own browser.
        let c = visitor();
        let (status, body) = join(&app, &c, &slug, "eve@example.com", "").await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let found = key.get(&format!("/api/v1/programs/{program}/participants?q=eve@example.com")).await;
        let eve_code = found.body["data"][0]["code"].as_str().expect("code").to_string();
        c.get(app.url(&format!("/r/{eve_code}"))).send().await.expect("own link");
        let (status, _) = join(&app, &c, &slug, "eves-friend@example.com", "").await;
        assert_eq!(status, StatusCode::CREATED);
        let own = referrals(&key, &program, "?review=pending").await;
        assert_eq!(own.len(), 2);
        let browser = own.iter().find(|r| r["source"] == "link").expect("eve's");
        assert!(browser["flags"][0]["detail"].as_str().expect("detail").contains("the same browser"), "{browser}");
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn imports_and_exports_through_the_api() {
    each_backend(|app| async move {
        let (program, _) = live_program(&app, json!({})).await;
        let key = app.key_client(Scope::Write).await;
        let path = format!("/api/v1/programs/{program}/imports");
        let no_email = key.post(&path, json!({ "csv": "name\nAnn\n" })).await;
        assert_eq!(no_email.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(no_email.fields(), vec!["file".to_string()]);
        let bad_map = key.post(&path, json!({ "csv": "x\n", "mapping": ["x"] })).await;
        assert_eq!(bad_map.fields(), vec!["mapping".to_string()]);
        let csv = "email,first_name,referred_by,code\nann@example.com,Ann,,ANN100\nbo@example.com,Bo,ANN100,\ncy@example.com,Cy,NOPE99,\n";
        let dry = key.post(&path, json!({ "csv": csv, "dry_run": true })).await;
        assert_eq!(dry.status, StatusCode::OK, "{}", dry.text);
        assert_eq!((dry.body["enrolled"].as_u64(), dry.body["referrals"].as_u64()), (Some(2), Some(1)));
        assert_eq!(dry.body["errors"][0]["line"], 4);
        assert_eq!(dry.body["errors"][0]["field"], "referred_by");
        let done = key.post(&path, json!({ "csv": csv })).await;
        assert_eq!(done.body["enrolled"], 2);
        let again = key.post(&path, json!({ "csv": csv })).await;
        assert_eq!((again.body["enrolled"].as_u64(), again.body["already_enrolled"].as_u64()), (Some(0), Some(2)));
        // Imports send nothing.
        let admin = app.key_client(Scope::Admin).await;
        assert!(emails_to(&admin, "ann@example.com").await.is_empty());
        assert!(emails_to(&admin, "bo@example.com").await.is_empty());

        let export = app.key_client(Scope::Read).await.get(&format!("/api/v1/programs/{program}/exports/participants")).await;
        assert_eq!(export.status, StatusCode::OK);
        assert!(export.headers["content-type"].to_str().expect("type").starts_with("text/csv"));
        let lines: Vec<&str> = export.text.lines().collect();
        assert_eq!(lines[0], "id,email,first_name,last_name,code,referral_link,referred_by,signed_up_at");
        assert!(lines.iter().any(|l| l.contains("bo@example.com,Bo,,") && l.contains(",ANN100,")), "{}", export.text);
        // A participants export imports back as it is: everything is already there.
        let back = key.post(&path, json!({ "csv": export.text })).await;
        assert_eq!((back.body["enrolled"].as_u64(), back.body["already_enrolled"].as_u64()), (Some(0), Some(2)), "{}", back.text);
        let refs = key.get(&format!("/api/v1/programs/{program}/exports/referrals")).await;
        assert_eq!(refs.text.lines().count(), 2);
        assert!(refs.text.contains(",import,won,"), "{}", refs.text);
        assert_eq!(key.get(&format!("/api/v1/programs/{program}/exports/payouts")).await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.anonymous().get(&format!("/api/v1/programs/{program}/exports/participants")).await.status, StatusCode::UNAUTHORIZED);
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn exports_hand_no_formula_to_a_spreadsheet() {
    each_backend(|app| async move {
        let (program, slug) = live_program(&app, json!({})).await;
        // What an anonymous visitor types into the join form reaches staff's spreadsheet as text.
        let formula = "=CONCAT(\"a\",A1)";
        let joined = visitor()
            .post(app.url(&format!("/p/{slug}/join")))
            .form(&[
                ("email", "mallory@example.com"),
                ("first_name", formula),
                ("last_name", "@SUM(A1)"),
            ])
            .send()
            .await
            .expect("join");
        assert_eq!(joined.status(), StatusCode::CREATED);
        let key = app.key_client(Scope::Write).await;
        let export = key
            .get(&format!("/api/v1/programs/{program}/exports/participants"))
            .await;
        let line = export
            .text
            .lines()
            .find(|l| l.contains("mallory@example.com"))
            .expect("mallory's line")
            .to_string();
        assert!(
            line.contains(",\"'=CONCAT(") && line.contains(",'@SUM(A1),"),
            "{line}"
        );
        assert!(
            !line.contains(",=") && !line.contains(",\"=") && !line.contains(",@"),
            "{line}"
        );
        // The file imports back with the names as they were typed (into another program, so
        // without the codes, which are unique across the installation).
        let (other, _) = live_program(&app, json!({})).await;
        let file = export.text.replacen(",code,", ",old_code,", 1);
        let back = key
            .post(
                &format!("/api/v1/programs/{other}/imports"),
                json!({ "csv": file }),
            )
            .await;
        assert_eq!(back.body["enrolled"], 1, "{}", back.text);
        let listed = key
            .get(&format!("/api/v1/programs/{other}/participants"))
            .await;
        assert_eq!(
            listed.body["data"][0]["first_name"], formula,
            "{}",
            listed.text
        );
        assert_eq!(listed.body["data"][0]["last_name"], "@SUM(A1)");
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn the_dashboard_counts_the_funnel_by_day() {
    each_backend(|mut app| async move {
        let (program, _) = live_program(&app, json!({ "qualifying_event": "purchase" })).await;
        let manager = app.staff(Role::Manager).await;
        manager
            .post(
                &format!("/api/v1/programs/{program}/reward-rules"),
                json!({ "name": "Each", "trigger": "every", "threshold": 1, "amount": 250 }),
            )
            .await;
        let key = app.key_client(Scope::Write).await;
        let ann = enrol(&key, &program, json!({ "email": "ann@example.com" })).await;
        let code = ann["code"].as_str().expect("code");
        for ua in ["A/1", "B/1", "C/1"] {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(format!("Mozilla/5.0 {ua}"))
                .build()
                .expect("client")
                .get(app.url(&format!("/r/{code}")))
                .send()
                .await
                .expect("click");
        }
        for (i, email) in ["bo@example.com", "cy@example.com"].iter().enumerate() {
            let f = enrol(
                &key,
                &program,
                json!({ "email": email, "referred_by": code }),
            )
            .await;
            if i == 0 {
                key.post(
                    &format!("/api/v1/programs/{program}/events"),
                    json!({ "event_id": "o1", "name": "purchase", "participant_id": f["id"] }),
                )
                .await;
            }
        }
        // Clicks reach the database through the buffer; a graceful stop writes them out.
        app.stop_serving().await;
        let program_row = vouch_app::programs::get(&app.state, &program)
            .await
            .expect("program");
        let range = vouch_app::stats::parse_range(&app.state, "", "").expect("range");
        let d = vouch_app::stats::dashboard(&app.state, &program_row, range)
            .await
            .expect("dashboard");
        assert_eq!(d.days.len(), 30);
        assert_eq!((d.totals.clicks, d.totals.signups, d.totals.won), (3, 2, 1));
        let today = d.days.last().expect("today");
        assert_eq!((today.clicks, today.signups, today.won), (3, 2, 1));
        assert_eq!(d.top_referrers[0].email, "ann@example.com");
        assert_eq!(d.top_referrers[0].won, 1);
        assert_eq!(d.rewards.len(), 1);
        assert_eq!(
            (
                d.rewards[0].status.as_str(),
                d.rewards[0].count,
                d.rewards[0].amount
            ),
            ("earned", 1, 250)
        );
        assert!(vouch_app::stats::parse_range(&app.state, "2026-13-01", "").is_err());
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn the_dashboard_api_and_page_check_their_range() {
    each_backend(|app| async move {
        let (program, _) = live_program(&app, json!({})).await;
        let viewer = app.staff(Role::Viewer).await;
        let ok = viewer
            .get(&format!(
                "/api/v1/programs/{program}/stats?from=2026-01-01&to=2026-01-31"
            ))
            .await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
        assert_eq!(ok.body["days"].as_array().map(Vec::len), Some(31));
        let bad = viewer
            .get(&format!(
                "/api/v1/programs/{program}/stats?from=2026-02-01&to=2026-01-01"
            ))
            .await;
        assert_eq!(bad.fields(), vec!["from".to_string()]);
        let bad = viewer
            .get(&format!("/api/v1/programs/{program}/stats?to=soon"))
            .await;
        assert_eq!(bad.fields(), vec!["to".to_string()]);
        let page = viewer
            .get(&format!("/admin/programs/{program}/dashboard"))
            .await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.text.contains("<svg id=\"funnel-chart\"") && page.text.contains("<polyline"));
        assert!(
            page.text.contains("id=\"funnel\"") && page.text.contains("id=\"clicks-note\""),
            "the funnel with its rates and why clicks may be fewer"
        );
        let week = (time::OffsetDateTime::now_utc().date() - time::Duration::days(6)).to_string();
        assert!(
            page.text
                .contains(&format!("dashboard?from={week}&amp;to=")),
            "one-click ranges: {}",
            page.text
        );
        let page = viewer
            .get(&format!(
                "/admin/programs/{program}/dashboard?from=2020-01-01&to=2026-01-01"
            ))
            .await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.text.contains("id=\"range-error\""));
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn the_embedded_form_and_instant_signup_links() {
    each_backend(|app| async move {
        let (program, slug) = live_program(&app, json!({})).await;
        let key = app.key_client(Scope::Write).await;
        let ann = enrol(
            &key,
            &program,
            json!({ "email": "ann@example.com", "first_name": "Ann" }),
        )
        .await;
        let code = ann["code"].as_str().expect("code");

        // The script snippet builds an iframe of the embedded form and passes `ref` along.
        let js = reqwest::get(app.url(&format!("/p/{slug}/embed.js")))
            .await
            .expect("js");
        assert_eq!(js.status(), StatusCode::OK);
        assert!(
            js.headers()["content-type"]
                .to_str()
                .expect("type")
                .starts_with("application/javascript")
        );
        let js = js.text().await.expect("body");
        assert!(
            js.contains(&format!("\"{}/p/{slug}/join?embed=1\"", app.base))
                && js.contains("encodeURIComponent(ref)"),
            "{js}"
        );
        assert_eq!(
            reqwest::get(app.url("/p/nope/embed.js"))
                .await
                .expect("js")
                .status(),
            StatusCode::NOT_FOUND
        );
        let form = reqwest::get(app.url(&format!("/p/{slug}/join?embed=1&ref={code}")))
            .await
            .expect("form")
            .text()
            .await
            .expect("body");
        assert!(
            form.contains("name=\"embed\" value=\"1\"")
                && form.contains(&format!("name=\"ref\" value=\"{code}\""))
        );
        let joined = visitor()
            .post(app.url(&format!("/p/{slug}/join?embed=1")))
            .form(&[("email", "bo@example.com"), ("ref", code), ("embed", "1")])
            .send()
            .await
            .expect("join");
        assert_eq!(joined.status(), StatusCode::CREATED);
        assert_eq!(referrals(&key, &program, "").await[0]["source"], "form");

        // Instant signup links: minted (and emailed), opened (nothing happens), joined once.
        let path = format!("/api/v1/programs/{program}/instant-signups");
        let bad = key
            .post(
                &path,
                json!({ "email": "x", "referred_by": "NOPE1", "ttl_days": 365 }),
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        let bad = key
            .post(
                &path,
                json!({ "email": "cy@example.com", "referred_by": "NOPE1" }),
            )
            .await;
        assert_eq!(bad.fields(), vec!["referred_by".to_string()]);
        let minted = key
            .post(
                &path,
                json!({ "email": "Cy@Example.com", "first_name": "Cy", "referred_by": code }),
            )
            .await;
        assert_eq!(minted.status, StatusCode::CREATED, "{}", minted.text);
        let url = minted.body["url"].as_str().expect("url").to_string();
        let admin = app.key_client(Scope::Admin).await;
        let invite = emails_to(&admin, "cy@example.com").await;
        assert_eq!(invite.len(), 1);
        assert_eq!(invite[0]["kind"], "instant_signup");
        assert!(
            invite[0]["text_body"]
                .as_str()
                .expect("text")
                .contains(&url)
        );
        let c = visitor();
        let page = c.get(&url).send().await.expect("page");
        assert_eq!(page.status(), StatusCode::OK);
        assert!(
            page.text()
                .await
                .expect("body")
                .contains("joining as <strong>cy@example.com</strong>")
        );
        let mut conn = app.state.store.conn().await.expect("conn");
        assert!(
            vouch_store::participants::by_email(&mut conn, &program, "cy@example.com")
                .await
                .expect("q")
                .is_none(),
            "a GET joins nobody"
        );
        drop(conn);
        let done = c.post(&url).send().await.expect("join");
        assert_eq!(done.status(), StatusCode::CREATED);
        assert!(done.text().await.expect("body").contains("/r/CY"));
        let again = c.post(&url).send().await.expect("again");
        assert_eq!(
            again.status(),
            StatusCode::OK,
            "a second click shows the same participant"
        );
        let list = referrals(&key, &program, "").await;
        assert!(
            list.iter().any(|r| r["source"] == "code"),
            "Ann referred Cy"
        );
        // Tampered links, and links for another program, open nothing.
        assert_eq!(
            c.get(url.replace("token=", "token=x"))
                .send()
                .await
                .expect("t")
                .status(),
            StatusCode::GONE
        );
        let (_, other) = live_program(&app, json!({})).await;
        assert_eq!(
            c.get(url.replace(&format!("/p/{slug}/"), &format!("/p/{other}/")))
                .send()
                .await
                .expect("o")
                .status(),
            StatusCode::GONE
        );
        let quiet = key
            .post(
                &path,
                json!({ "email": "dee@example.com", "send_email": false }),
            )
            .await;
        assert!(quiet.body["email_id"].is_null());
        assert!(emails_to(&admin, "dee@example.com").await.is_empty());
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn participants_of_a_program_tied_to_a_super_customer_are_nested_under_it() {
    each_backend(|app| async move {
        let staff = app.staff(Role::Staff).await;
        let sc = staff.account("Vector Referral Super Customer", "vector@purchasingplatform.com").await;
        staff.post(&format!("/api/v1/accounts/{sc}/designate"), json!({ "is_super_customer": true })).await;
        let (program, slug) = live_program(&app, json!({ "super_customer_id": sc })).await;
        let key = app.key_client(Scope::Write).await;
        let path = format!("/api/v1/programs/{program}/participants");
        let missing = key.post(&path, json!({ "email": "ann@northside.example", "first_name": "Ann" })).await;
        assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(missing.fields(), vec!["company".to_string()]);
        let no_last = key.post(&path, json!({ "email": "ann@northside.example", "first_name": "Ann", "company": "Northside Property Care" })).await;
        assert_eq!(no_last.fields(), vec!["last_name".to_string()], "an account needs its owner's names");
        let ann = enrol(&key, &program, json!({ "email": "ann@northside.example", "first_name": "Ann", "last_name": "Lee", "company": "Northside Property Care" })).await;
        let account = ann["account_id"].as_i64().expect("account");
        let a = staff.get(&format!("/api/v1/accounts/{account}")).await;
        assert_eq!(a.body["parent_id"], sc);
        assert_eq!(a.body["name"], "Northside Property Care");
        // The hosted page asks for the company, and a friend's account nests there too.
        let page = visitor().get(app.url(&format!("/p/{slug}/join"))).send().await.expect("page").text().await.expect("body");
        assert!(page.contains("name=\"company\""));
        let r = visitor()
            .post(app.url(&format!("/p/{slug}/join")))
            .form(&[("email", "bo@eastside.example"), ("first_name", "Bo"), ("last_name", "Ray"), ("company", ""), ("ref", ann["code"].as_str().expect("code"))])
            .send()
            .await
            .expect("join");
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.expect("body").contains("id=\"e-company\""));
        let r = visitor()
            .post(app.url(&format!("/p/{slug}/join")))
            .form(&[("email", "bo@eastside.example"), ("first_name", "Bo"), ("last_name", "Ray"), ("company", "Eastside Builders"), ("ref", ann["code"].as_str().expect("code"))])
            .send()
            .await
            .expect("join");
        assert_eq!(r.status(), StatusCode::CREATED);
        let subs = staff.get(&format!("/api/v1/accounts/{sc}/sub-customers")).await;
        let names: Vec<&str> = subs.body["data"].as_array().expect("data").iter().filter_map(|a| a["name"].as_str()).collect();
        assert!(names.contains(&"Northside Property Care") && names.contains(&"Eastside Builders"), "{names:?}");
        assert_eq!(referrals(&key, &program, "").await.len(), 1);
        // A channel partner's programs take no self-signups; the page says where to go. The
        // partner's own systems still enrol through the API.
        let policy = staff.patch(&format!("/api/v1/accounts/{sc}"), json!({ "registration_policy": "channel_partner", "partner_site_url": "https://vector.example/join" })).await;
        assert_eq!(policy.status, StatusCode::OK, "{}", policy.text);
        let refused = visitor().get(app.url(&format!("/p/{slug}/join"))).send().await.expect("page");
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert!(refused.text().await.expect("body").contains("https://vector.example/join"));
        let refused = visitor().post(app.url(&format!("/p/{slug}/join"))).form(&[("email", "cy@x.example"), ("first_name", "Cy"), ("last_name", "Ng"), ("company", "Cy Co")]).send().await.expect("post");
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        enrol(&key, &program, json!({ "email": "cy@x.example", "first_name": "Cy", "last_name": "Ng", "company": "Cy Co" })).await;
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn clicks_older_than_the_window_credit_nobody() {
    each_backend(|app| async move {
        let (program, slug) = live_program(
            &app,
            json!({ "attribution_window_days": 7, "attribution_model": "first_click" }),
        )
        .await;
        let key = app.key_client(Scope::Write).await;
        let old = enrol(&key, &program, json!({ "email": "old@example.com" })).await;
        let recent = enrol(&key, &program, json!({ "email": "recent@example.com" })).await;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let join_with = |cookie: String, email: &'static str| {
            let url = app.url(&format!("/p/{slug}/join"));
            async move {
                reqwest::Client::new()
                    .post(url)
                    .header("cookie", cookie)
                    .form(&[("email", email)])
                    .send()
                    .await
                    .expect("join")
                    .status()
            }
        };
        let (o, r) = (
            old["code"].as_str().expect("code"),
            recent["code"].as_str().expect("code"),
        );
        // First click 8 days ago (outside the window), last click yesterday: first-click falls
        // back to the click still inside it.
        let cookie = format!(
            "vouch_ref_{program}={o}.{}.{r}.{}",
            now - 8 * 86_400,
            now - 86_400
        );
        assert_eq!(
            join_with(cookie, "a@example.com").await,
            StatusCode::CREATED
        );
        // Both clicks outside the window: nobody is credited.
        let cookie = format!(
            "vouch_ref_{program}={o}.{}.{r}.{}",
            now - 9 * 86_400,
            now - 8 * 86_400
        );
        assert_eq!(
            join_with(cookie, "b@example.com").await,
            StatusCode::CREATED
        );
        // A forged, malformed cookie is ignored, never an error.
        assert_eq!(
            join_with(format!("vouch_ref_{program}=<script>"), "c@example.com").await,
            StatusCode::CREATED
        );
        let list = referrals(&key, &program, "").await;
        assert_eq!(list.len(), 1);
        assert_eq!(list[0]["referrer_id"], recent["id"]);
        app.stop().await;
    })
    .await;
}

/// The console's queues act in bulk: flagged referrals are cleared or junked together with one
/// reason, earned rewards delivered together; each item as one action would be, the ones
/// refused named, nothing done without a reason or a pick.
#[tokio::test]
async fn queues_act_in_bulk() {
    each_backend(|app| async move {
        let (program, _) = live_program(&app, json!({})).await;
        let manager = app.staff(Role::Manager).await;
        let rule = manager.post(&format!("/api/v1/programs/{program}/reward-rules"), json!({ "name": "Each friend", "trigger": "every", "threshold": 1, "amount": 500 })).await;
        assert_eq!(rule.status, StatusCode::CREATED, "{}", rule.text);
        let key = app.key_client(Scope::Write).await;
        let ann = enrol(&key, &program, json!({ "email": "ann@example.com", "first_name": "Ann", "ip_address": "203.0.113.5" })).await;
        enrol(&key, &program, json!({ "email": "cy@yopmail.com", "referred_by": ann["code"], "ip_address": "198.51.100.1" })).await;
        enrol(&key, &program, json!({ "email": "dee@yopmail.com", "referred_by": ann["code"], "ip_address": "198.51.100.2" })).await;
        let queue = referrals(&key, &program, "?review=pending").await;
        assert_eq!(queue.len(), 2);

        let page = manager.get(&format!("/admin/programs/{program}/referrals?review=pending")).await;
        assert!(page.text.contains("id=\"bulk-review\""), "{}", page.text);
        assert!(page.text.contains("id=\"referrals-total\">2 referrals waiting for review."), "{}", page.text);
        let csrf = manager.csrf.clone().expect("csrf");
        let review = format!("/admin/programs/{program}/referrals/review");
        let mut form: Vec<(String, String)> = vec![("csrf".into(), csrf.clone()), ("decision".into(), "clear".into()), ("reason".into(), String::new())];
        for r in &queue {
            form.push((format!("pick_{}", r["id"].as_str().expect("id")), "on".into()));
        }
        let no_reason = manager.send(manager.request(reqwest::Method::POST, &review).form(&form)).await;
        assert_eq!(no_reason.status, StatusCode::SEE_OTHER);
        assert_eq!(referrals(&key, &program, "?review=pending").await.len(), 2, "nothing decided without a reason");
        form[2].1 = "called both, real customers".into();
        let staff = app.staff(Role::Staff).await;
        let refused = staff.send(staff.request(reqwest::Method::POST, &review).form(&[("csrf", staff.csrf.clone().expect("csrf").as_str())])).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "reviewing is a manager's");
        let done = manager.send(manager.request(reqwest::Method::POST, &review).form(&form)).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER);
        assert!(referrals(&key, &program, "?review=pending").await.is_empty());
        let flash = manager.get(&format!("/admin/programs/{program}/referrals?review=pending")).await;
        assert!(flash.text.contains("2 referral(s) cleared."), "{}", flash.text);

        // Both clears earned Ann a reward each: deliver them together.
        let earned = key.get(&format!("/api/v1/programs/{program}/rewards?status=earned")).await;
        let ids: Vec<String> = earned.body["data"].as_array().expect("rewards").iter().map(|r| r["id"].as_str().expect("id").to_string()).collect();
        assert_eq!(ids.len(), 2, "{}", earned.text);
        let page = manager.get(&format!("/admin/programs/{program}/rewards?status=earned")).await;
        assert!(page.text.contains("id=\"deliver-ticked\""));
        assert!(page.text.contains("id=\"rewards-total\">2 rewards earned."), "{}", page.text);
        let deliver = format!("/admin/programs/{program}/rewards/deliver");
        let mut form: Vec<(String, String)> = vec![("csrf".into(), csrf.clone())];
        for id in &ids {
            form.push((format!("pick_{id}"), "on".into()));
        }
        form.push(("pick_rwd_00000000000000000000000000".into(), "on".into()));
        let done = manager.send(manager.request(reqwest::Method::POST, &deliver).form(&form)).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER);
        let after = key.get(&format!("/api/v1/programs/{program}/rewards?status=delivered")).await;
        assert_eq!(after.body["data"].as_array().map(Vec::len), Some(2));
        let flash = manager.get(&format!("/admin/programs/{program}/rewards")).await;
        assert!(flash.text.contains("2 reward(s) delivered; 1 not:"), "the unknown one is named: {}", flash.text);
        app.stop().await;
    })
    .await;
}
