//! What an attacker, a proxy and a careless client do to Vouch (issue 11): security headers,
//! one parsing rule for bodies and cursors, addresses that cannot be a `Location`, limits on
//! public writes, the client address behind a trusted proxy, login CSRF, templates that would
//! grow without bound, and who may clear a flagged referral.

mod common;

use common::{TestApp, each_backend, live_program, visitor};
use reqwest::{Method, StatusCode};
use serde_json::json;
use vouch_domain::permission::{Role, Scope};

async fn join_as(
    app: &TestApp,
    slug: &str,
    email: &str,
    first_name: &str,
    forwarded_for: Option<&str>,
) -> reqwest::Response {
    let mut req = visitor()
        .post(app.url(&format!("/p/{slug}/join")))
        .form(&[("email", email), ("first_name", first_name)]);
    if let Some(address) = forwarded_for {
        req = req.header("x-forwarded-for", address);
    }
    req.send().await.expect("join")
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    each_backend(|app| async move {
        let (_, slug) = live_program(&app, json!({})).await;
        let c = visitor();
        let api = c.get(app.url("/api/v1/me")).send().await.expect("api");
        assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(header(&api, "x-content-type-options"), "nosniff");
        assert_eq!(
            header(&api, "referrer-policy"),
            "strict-origin-when-cross-origin"
        );
        assert_eq!(header(&api, "cache-control"), "no-store");
        assert!(
            header(&api, "strict-transport-security").is_empty(),
            "no HSTS over http"
        );

        let console = c
            .get(app.url("/admin/login"))
            .send()
            .await
            .expect("console");
        let csp = header(&console, "content-security-policy");
        assert!(
            csp.contains("default-src 'none'")
                && csp.contains("frame-ancestors 'none'")
                && csp.contains("script-src 'self';"),
            "{csp}"
        );
        assert_eq!(header(&console, "x-frame-options"), "DENY");
        assert_eq!(header(&console, "cache-control"), "no-store");

        // The join page is embedded on the program's own site: any site may frame it.
        let join = c
            .get(app.url(&format!("/p/{slug}/join")))
            .send()
            .await
            .expect("join");
        let csp = header(&join, "content-security-policy");
        assert!(
            csp.contains("frame-ancestors *") && csp.contains("form-action 'self'"),
            "{csp}"
        );
        assert!(header(&join, "x-frame-options").is_empty());
        // The embed script says how long it may be cached, and is never sniffed as HTML.
        let script = c
            .get(app.url(&format!("/p/{slug}/embed.js")))
            .send()
            .await
            .expect("script");
        assert_eq!(header(&script, "cache-control"), "public, max-age=300");
        assert_eq!(header(&script, "x-content-type-options"), "nosniff");
        assert!(header(&script, "content-security-policy").is_empty());
        // The portal's pages carry links with tokens: no referrer at all.
        let portal = c
            .get(app.url("/portal/login"))
            .send()
            .await
            .expect("portal");
        assert_eq!(header(&portal, "referrer-policy"), "no-referrer");
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn https_installations_send_hsts() {
    let app = TestApp::spawn_with(vouch_store::testing::backends()[0], |s| {
        s.base_url = "https://refer.example.com".into()
    })
    .await;
    let r = visitor()
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("health");
    assert_eq!(
        header(&r, "strict-transport-security"),
        "max-age=31536000; includeSubDomains"
    );
    app.stop().await;
}

#[tokio::test]
async fn bodies_and_cursors_follow_one_rule() {
    each_backend(|app| async move {
        let (program, _) = live_program(&app, json!({})).await;
        let key = app.key_client(Scope::Write).await;
        let path = format!("/api/v1/programs/{program}/participants");
        // Trailing data after the JSON value.
        let trailing = key
            .send(
                key.request(Method::POST, &path)
                    .header("content-type", "application/json")
                    .body(r#"{"email":"a@example.com"} garbage"#),
            )
            .await;
        assert_eq!(
            trailing.status,
            StatusCode::BAD_REQUEST,
            "{}",
            trailing.text
        );
        // Over the limit, with or without an Idempotency-Key: 413.
        let big = format!(
            r#"{{"email":"a@example.com","first_name":"{}"}}"#,
            "x".repeat(1024 * 1024 + 10)
        );
        for idempotency in [None, Some("big-1")] {
            let mut req = key
                .request(Method::POST, &path)
                .header("content-type", "application/json")
                .body(big.clone());
            if let Some(k) = idempotency {
                req = req.header("idempotency-key", k);
            }
            let r = key.send(req).await;
            assert_eq!(
                r.status,
                StatusCode::PAYLOAD_TOO_LARGE,
                "{idempotency:?}: {}",
                r.text
            );
            assert_eq!(r.body["code"], "payload_too_large");
        }
        assert_eq!(
            key.get(&path).await.body["data"],
            json!([]),
            "nothing saved"
        );
        // A cursor that is not an id: 422 naming it, on every list.
        for list in [
            path.clone(),
            "/api/v1/programs".into(),
            "/api/v1/partners".into(),
            "/api/v1/accounts".into(),
        ] {
            let r = key.get(&format!("{list}?starting_after=garbage")).await;
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{list}: {}",
                r.text
            );
            assert_eq!(r.fields(), vec!["starting_after".to_string()], "{list}");
        }
        // An id-shaped cursor pages from where it would sort; empty is the first page.
        key.post(&path, json!({ "email": "ann@example.com" })).await;
        let well_formed = vouch_domain::id::new_id("par");
        assert_eq!(
            key.get(&format!("{path}?starting_after={well_formed}"))
                .await
                .body["data"]
                .as_array()
                .map(Vec::len),
            Some(1)
        );
        let first = key.get(&format!("{path}?starting_after=&limit=5")).await;
        assert_eq!(
            first.body["data"].as_array().map(Vec::len),
            Some(1),
            "{}",
            first.text
        );
        // Even the answer to an address no route can hold carries the headers.
        let odd = visitor()
            .get(app.url("/api/v1/people/per%00x"))
            .send()
            .await
            .expect("odd");
        assert_eq!(odd.status(), StatusCode::NOT_FOUND);
        assert_eq!(header(&odd, "x-content-type-options"), "nosniff");
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn addresses_that_cannot_be_a_location_are_refused() {
    each_backend(|app| async move {
        let manager = app.staff(Role::Manager).await;
        for bad in ["https://shop.example.com/\u{7}", "https://shop.example.com/\u{85}x", "https://shop.example.com:99999/", "https://exa%mple.com/"] {
            let r = manager.post("/api/v1/programs", json!({ "name": "Bad", "landing_url": "https://shop.example.com/", "fallback_url": bad })).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}: {}", r.text);
            assert_eq!(r.fields(), vec!["fallback_url".to_string()], "{bad:?}");
        }
        // A landing page with non-ASCII characters: the redirect's Location is plain ASCII.
        let (program, _) = live_program(&app, json!({ "landing_url": "https://bücher.example/willkommen?für=dich" })).await;
        let key = app.key_client(Scope::Write).await;
        let ann = key.post(&format!("/api/v1/programs/{program}/participants"), json!({ "email": "ann@example.com" })).await;
        let code = ann.body["code"].as_str().expect("code");
        let r = visitor().get(app.url(&format!("/r/{code}"))).send().await.expect("redirect");
        assert_eq!(r.status(), StatusCode::FOUND);
        let location = header(&r, "location");
        assert!(location.starts_with("https://xn--bcher-kva.example/willkommen?f%C3%BCr=dich"), "{location}");
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn public_writes_are_limited_per_address_and_per_program() {
    for backend in vouch_store::testing::backends() {
        let app = TestApp::spawn_with(backend, |s| {
            s.public_limits.per_address_per_hour = 3;
            s.public_limits.per_program_per_hour = 5;
        })
        .await;
        let (_, slug) = live_program(&app, json!({})).await;
        for i in 0..3 {
            assert_eq!(
                join_as(&app, &slug, &format!("p{i}@example.com"), "Pat", None)
                    .await
                    .status(),
                StatusCode::CREATED
            );
        }
        let refused = join_as(&app, &slug, "p3@example.com", "Pat", None).await;
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        // 3 an hour refill one every 20 minutes.
        assert_eq!(header(&refused, "retry-after"), "1200");
        assert!(
            refused
                .text()
                .await
                .expect("body")
                .contains("try again in 20 minutes")
        );
        let admin = app.key_client(Scope::Admin).await;
        let emails = admin.get("/api/v1/emails").await;
        assert!(
            emails.body["data"]
                .as_array()
                .expect("data")
                .iter()
                .all(|m| m["to_address"] != "p3@example.com"),
            "nothing sent"
        );

        // Each other public form has its own buckets, with the same answer.
        let c = visitor();
        for (path, form) in [
            (
                format!("/p/{slug}/me/link"),
                vec![("email", "p0@example.com")],
            ),
            (
                "/portal/reset".to_string(),
                vec![("email", "nobody@example.com")],
            ),
            ("/unsubscribe?token=forged".to_string(), vec![]),
        ] {
            let mut last = StatusCode::OK;
            for _ in 0..4 {
                last = c
                    .post(app.url(&path))
                    .form(&form)
                    .send()
                    .await
                    .expect("post")
                    .status();
            }
            assert_eq!(last, StatusCode::TOO_MANY_REQUESTS, "{path}");
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_limit() {
    for backend in vouch_store::testing::backends() {
        let trusted = TestApp::spawn_with(backend, |s| {
            s.public_limits.per_address_per_hour = 1;
            s.trusted_proxies = vec!["127.0.0.0/8".parse().expect("cidr")];
        })
        .await;
        let (program, slug) = live_program(&trusted, json!({})).await;
        for (i, client) in ["203.0.113.1", "203.0.113.2", "2001:db8:1::1"]
            .into_iter()
            .enumerate()
        {
            let r = join_as(
                &trusted,
                &slug,
                &format!("c{i}@example.com"),
                "Cy",
                Some(client),
            )
            .await;
            assert_eq!(r.status(), StatusCode::CREATED, "{client}");
        }
        let again = join_as(&trusted, &slug, "c9@example.com", "Cy", Some("203.0.113.1")).await;
        assert_eq!(again.status(), StatusCode::TOO_MANY_REQUESTS);
        // `Forwarded` passes through proxies untouched: a client naming itself there is not
        // believed.
        let spoofed = visitor()
            .post(trusted.url(&format!("/p/{slug}/join")))
            .header("x-forwarded-for", "203.0.113.1")
            .header("forwarded", "for=198.51.100.99")
            .form(&[("email", "c10@example.com"), ("first_name", "Cy")])
            .send()
            .await
            .expect("join");
        assert_eq!(spoofed.status(), StatusCode::TOO_MANY_REQUESTS);
        // The audit log records the client, not the proxy.
        let admin = trusted.key_client(Scope::Admin).await;
        let audit = admin
            .get("/api/v1/audit-events?action=participant.created")
            .await;
        let addresses: Vec<&str> = audit.body["data"]
            .as_array()
            .expect("data")
            .iter()
            .filter_map(|e| e["client_ip"].as_str())
            .collect();
        assert!(
            addresses.contains(&"203.0.113.2"),
            "{addresses:?} ({program})"
        );
        trusted.stop().await;

        // Without trust the header is the client's own say-so: one address, one bucket.
        let direct =
            TestApp::spawn_with(backend, |s| s.public_limits.per_address_per_hour = 1).await;
        let (_, slug) = live_program(&direct, json!({})).await;
        assert_eq!(
            join_as(&direct, &slug, "d1@example.com", "Di", Some("203.0.113.1"))
                .await
                .status(),
            StatusCode::CREATED
        );
        assert_eq!(
            join_as(&direct, &slug, "d2@example.com", "Di", Some("203.0.113.2"))
                .await
                .status(),
            StatusCode::TOO_MANY_REQUESTS
        );
        direct.stop().await;
    }
}

#[tokio::test]
async fn welcome_emails_are_limited_per_address_and_names_are_not_links() {
    for backend in vouch_store::testing::backends() {
        let app = TestApp::spawn_with(backend, |s| {
            s.public_limits.welcome_emails_per_address_per_day = 2
        })
        .await;
        let admin = app.key_client(Scope::Admin).await;
        for _ in 0..3 {
            let (_, slug) = live_program(&app, json!({})).await;
            assert_eq!(
                join_as(&app, &slug, "victim@example.com", "Vic", None)
                    .await
                    .status(),
                StatusCode::CREATED
            );
        }
        let emails = admin.get("/api/v1/emails").await;
        let welcomes = emails.body["data"]
            .as_array()
            .expect("data")
            .iter()
            .filter(|m| {
                m["to_address"] == "victim@example.com" && m["kind"] == "participant_welcome"
            })
            .count();
        assert_eq!(welcomes, 2, "three signups, two welcome emails");

        // A "name" that is an advertisement is refused next to the field, and nothing is sent.
        let (_, slug) = live_program(&app, json!({})).await;
        let r = join_as(
            &app,
            &slug,
            "target@example.com",
            "WIN a prize at https://evil.example/claim",
            None,
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = r.text().await.expect("body");
        assert!(
            page.contains("id=\"e-first_name\"")
                && page.contains("Must be a name, not a web address"),
            "{page}"
        );
        let emails = admin.get("/api/v1/emails").await;
        assert!(
            emails.body["data"]
                .as_array()
                .expect("data")
                .iter()
                .all(|m| m["to_address"] != "target@example.com")
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn sign_in_forms_refuse_posts_from_other_sites() {
    each_backend(|app| async move {
        app.create_user("ann@x.example", Role::Admin).await;
        for (path, fields) in [
            (
                "/admin/login",
                vec![("email", "ann@x.example"), ("password", common::PASSWORD)],
            ),
            (
                "/portal/login",
                vec![("email", "ann@x.example"), ("password", common::PASSWORD)],
            ),
        ] {
            // Another site's form: no token, or a token this browser never got.
            for token in [None, Some("0".repeat(64))] {
                let mut fields = fields.clone();
                if let Some(t) = &token {
                    fields.push(("login_csrf", t));
                }
                let r = visitor()
                    .post(app.url(path))
                    .form(&fields)
                    .send()
                    .await
                    .expect("post");
                assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path} {token:?}");
                assert!(
                    r.headers()
                        .get_all("set-cookie")
                        .iter()
                        .all(|v| !v.to_str().unwrap_or_default().contains("session=")),
                    "{path}: no session"
                );
                assert!(
                    r.text()
                        .await
                        .expect("body")
                        .contains("Please sign in again")
                );
            }
        }
        // The console's own form works (common::TestApp::login goes through it).
        let staff = app.login("ann@x.example").await;
        assert_eq!(staff.get("/api/v1/me").await.status, StatusCode::OK);
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn templates_that_would_grow_without_bound_are_refused_at_save() {
    each_backend(|app| async move {
        let admin = app.key_client(Scope::Admin).await;
        let path = "/api/v1/email-templates/participant_welcome";
        for text in [
            "{{ \"x\" * 100000000 }}",
            "{% for i in range(100000) %}{% for j in range(100000) %}.{% endfor %}{% endfor %}",
        ] {
            let r = admin
                .send(
                    admin
                        .request(Method::PUT, path)
                        .json(&json!({ "subject": "Hi", "text": text, "html": "" })),
                )
                .await;
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{text}: {}",
                r.text
            );
            assert_eq!(r.fields(), vec!["text".to_string()]);
            assert!(r.text.contains("too much work"), "{}", r.text);
        }
        assert_eq!(
            admin.get(path).await.body["customised"],
            false,
            "nothing saved"
        );
        app.stop().await;
    })
    .await;
}
