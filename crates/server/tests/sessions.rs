//! Staff login, sessions, throttling and password changes.

mod common;

use common::{PASSWORD, TestApp, each_backend};
use reqwest::StatusCode;
use serde_json::json;
use vouch_domain::permission::{Role, Scope};
use vouch_store::testing::backends;

async fn try_login(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let token = common::login_form_token(&client, &app.url("/admin/login")).await;
    client
        .post(app.url("/admin/login"))
        .form(&[
            ("email", email),
            ("password", password),
            ("login_csrf", &token),
        ])
        .send()
        .await
        .expect("login")
}

fn session_cookie(res: &reqwest::Response) -> String {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.contains("vouch_session="))
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn login_sets_a_fresh_hardened_cookie_and_logout_ends_it() {
    each_backend(|app| async move {
        app.create_user("ann@x.example", Role::Staff).await;
        let first = try_login(&app, "ann@x.example", PASSWORD).await;
        assert_eq!(first.status(), StatusCode::SEE_OTHER);
        let cookie = session_cookie(&first);
        assert!(
            cookie.contains("HttpOnly")
                && cookie.contains("SameSite=Lax")
                && !cookie.contains("Secure"),
            "{cookie}"
        );
        let second = session_cookie(&try_login(&app, "ann@x.example", PASSWORD).await);
        assert_ne!(
            cookie.split(';').next(),
            second.split(';').next(),
            "each login gets a new session id"
        );
        // Emails match case-insensitively.
        assert_eq!(
            try_login(&app, "ANN@x.example", PASSWORD).await.status(),
            StatusCode::SEE_OTHER
        );

        let api = app.login("ann@x.example").await;
        assert_eq!(api.get("/api/v1/me").await.status, StatusCode::OK);
        let csrf = api.csrf.clone().expect("csrf");
        let out = api
            .send(
                api.request(reqwest::Method::POST, "/admin/logout")
                    .form(&[("csrf", csrf.as_str())]),
            )
            .await;
        assert_eq!(out.status, StatusCode::SEE_OTHER);
        // The cookie jar was cleared by the response, so replay the old cookie by hand.
        let raw = cookie.split(';').next().expect("pair").to_string();
        let replay = reqwest::Client::new()
            .get(app.url("/api/v1/me"))
            .header("cookie", raw)
            .send()
            .await
            .expect("me");
        assert_eq!(
            replay.status(),
            StatusCode::OK,
            "a different session of the same user is unaffected"
        );
        let mine = api.get("/api/v1/me").await;
        assert_eq!(mine.status, StatusCode::UNAUTHORIZED);
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn https_base_url_makes_cookies_secure_and_host_prefixed() {
    let app = TestApp::spawn_with(backends()[0], |s| {
        s.base_url = "https://refer.example.com".into()
    })
    .await;
    app.create_user("ann@x.example", Role::Staff).await;
    let cookie = session_cookie(&try_login(&app, "ann@x.example", PASSWORD).await);
    assert!(
        cookie.starts_with("__Host-vouch_session=") && cookie.contains("; Secure"),
        "{cookie}"
    );
    app.stop().await;
}

#[tokio::test]
async fn idle_and_absolute_timeouts_end_sessions() {
    for backend in backends() {
        let app = TestApp::spawn_with(backend, |s| s.session_idle_minutes = 0).await;
        app.create_user("ann@x.example", Role::Staff).await;
        let res = try_login(&app, "ann@x.example", PASSWORD).await;
        let pair = session_cookie(&res)
            .split(';')
            .next()
            .unwrap_or_default()
            .to_string();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let me = reqwest::Client::new()
            .get(app.url("/api/v1/me"))
            .header("cookie", pair)
            .send()
            .await
            .expect("me");
        assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
        app.stop().await;

        let app = TestApp::spawn_with(backend, |s| s.session_absolute_hours = 0).await;
        app.create_user("ann@x.example", Role::Staff).await;
        let res = try_login(&app, "ann@x.example", PASSWORD).await;
        let pair = session_cookie(&res)
            .split(';')
            .next()
            .unwrap_or_default()
            .to_string();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let me = reqwest::Client::new()
            .get(app.url("/api/v1/me"))
            .header("cookie", pair)
            .send()
            .await
            .expect("me");
        assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
        app.stop().await;
    }
}

#[tokio::test]
async fn disabling_a_user_ends_their_sessions() {
    each_backend(|app| async move {
        app.create_user("bob@x.example", Role::Staff).await;
        let bob = app.login("bob@x.example").await;
        let admin = app.staff(Role::Admin).await;
        let users = admin.get("/api/v1/staff-users").await;
        let id = users.body["data"]
            .as_array()
            .expect("users")
            .iter()
            .find(|u| u["email"] == "bob@x.example")
            .expect("bob")["id"]
            .as_str()
            .expect("id")
            .to_string();
        let r = admin
            .patch(
                &format!("/api/v1/staff-users/{id}"),
                json!({ "disabled": true }),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert!(r.body["disabled_at"].is_string());
        assert_eq!(bob.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            try_login(&app, "bob@x.example", PASSWORD).await.status(),
            StatusCode::UNAUTHORIZED
        );
        // Nobody disables or demotes themselves.
        let me = admin.get("/api/v1/me").await;
        let my_id = me.body["id"].as_str().expect("id");
        assert_eq!(
            admin
                .patch(
                    &format!("/api/v1/staff-users/{my_id}"),
                    json!({ "disabled": true })
                )
                .await
                .status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn failed_logins_are_throttled_per_account_and_per_address() {
    each_backend(|app| async move {
        app.create_user("carol@x.example", Role::Staff).await;
        for _ in 0..10 {
            assert_eq!(
                try_login(&app, "carol@x.example", "wrong password")
                    .await
                    .status(),
                StatusCode::UNAUTHORIZED
            );
        }
        let blocked = try_login(&app, "carol@x.example", PASSWORD).await;
        assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS);
        let retry: u64 = blocked.headers()["retry-after"]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("seconds");
        assert!(retry > 0 && retry <= 15 * 60, "{retry}");
        // The same address is blocked for other accounts too.
        app.create_user("dave@x.example", Role::Staff).await;
        assert_eq!(
            try_login(&app, "dave@x.example", PASSWORD).await.status(),
            StatusCode::TOO_MANY_REQUESTS
        );
        let admin = app.key_client(Scope::Admin).await;
        let failed = admin
            .get("/api/v1/audit-events?action=login.failed&limit=100")
            .await;
        assert_eq!(failed.body["data"].as_array().map(Vec::len), Some(10));
        let throttled = admin
            .get("/api/v1/audit-events?action=login.throttled")
            .await;
        assert_eq!(throttled.body["data"].as_array().map(Vec::len), Some(2));
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn password_change_checks_the_current_password_and_ends_other_sessions() {
    each_backend(|app| async move {
        app.create_user("erin@x.example", Role::Viewer).await;
        let phone = app.login("erin@x.example").await;
        let laptop = app.login("erin@x.example").await;
        let csrf = laptop.csrf.clone().expect("csrf");
        let new = "a much longer passphrase";
        let wrong = laptop
            .send(
                laptop
                    .request(reqwest::Method::POST, "/admin/password")
                    .form(&[
                        ("csrf", csrf.as_str()),
                        ("current_password", "nope"),
                        ("new_password", new),
                        ("confirm_password", new),
                    ]),
            )
            .await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(wrong.text.contains("id=\"e-current_password\""));
        let ok = laptop
            .send(
                laptop
                    .request(reqwest::Method::POST, "/admin/password")
                    .form(&[
                        ("csrf", csrf.as_str()),
                        ("current_password", PASSWORD),
                        ("new_password", new),
                        ("confirm_password", new),
                    ]),
            )
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER);
        assert_eq!(laptop.get("/api/v1/me").await.status, StatusCode::OK);
        assert_eq!(
            phone.get("/api/v1/me").await.status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            try_login(&app, "erin@x.example", PASSWORD).await.status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            try_login(&app, "erin@x.example", new).await.status(),
            StatusCode::SEE_OTHER
        );
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn api_keys_are_shown_once_and_revocable() {
    each_backend(|app| async move {
        let admin = app.key_client(Scope::Admin).await;
        let created = admin
            .post(
                "/api/v1/api-keys",
                json!({ "name": "crm sync", "scope": "read" }),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED);
        let secret = created.body["secret"].as_str().expect("secret").to_string();
        assert!(secret.starts_with("vouch_sk_"));
        let id = created.body["id"].as_str().expect("id").to_string();
        let listed = admin.get("/api/v1/api-keys").await;
        assert!(!listed.text.contains(&secret), "the secret is never listed");
        let mut crm = app.anonymous();
        crm.bearer = Some(secret);
        assert_eq!(crm.get("/api/v1/accounts").await.status, StatusCode::OK);
        assert_eq!(
            admin
                .post(&format!("/api/v1/api-keys/{id}/revoke"), json!({}))
                .await
                .status,
            StatusCode::OK
        );
        assert_eq!(
            crm.get("/api/v1/accounts").await.status,
            StatusCode::UNAUTHORIZED
        );
        let bad = admin
            .post("/api/v1/api-keys", json!({ "name": "", "scope": "root" }))
            .await;
        assert_eq!(bad.fields(), vec!["name".to_string(), "scope".to_string()]);
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn housekeeping_removes_expired_sessions() {
    for backend in backends() {
        let app = TestApp::spawn_with(backend, |s| s.session_idle_minutes = 0).await;
        app.create_user("ann@x.example", Role::Staff).await;
        assert_eq!(
            try_login(&app, "ann@x.example", PASSWORD).await.status(),
            StatusCode::SEE_OTHER
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let removed = vouch_app::housekeeping::purge_expired(&app.state)
            .await
            .expect("sweep");
        assert!(removed >= 1, "{removed}");
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
            .fetch_one(app.state.store.pool())
            .await
            .expect("count");
        assert_eq!(left, 0);
        app.stop().await;
    }
}
