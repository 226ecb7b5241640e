//! The console's home (`/admin`, issue 12): per program and in total, the last 30 days and
//! what is owed, and every queue where something waits, each shown to the roles that may read
//! it and linked into its queue.

mod common;

use common::{TestApp, each_backend, live_program};
use reqwest::StatusCode;
use serde_json::json;
use vouch_domain::permission::{Role, Scope};

/// The text of the element with this id (its first line of text content).
fn number(page: &str, id: &str) -> String {
    page.split(&format!("id=\"{id}\">"))
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or_default()
        .to_string()
}

async fn referred_and_won(app: &TestApp, program: &str) {
    let key = app.key_client(Scope::Admin).await;
    let rule = key
        .post(
            &format!("/api/v1/programs/{program}/reward-rules"),
            json!({ "name": "Give 10, get 10", "threshold": 1, "sides": "double", "kind": "cash", "amount": 1000, "friend_amount": 1000 }),
        )
        .await;
    assert_eq!(rule.status, StatusCode::CREATED, "{}", rule.text);
    let ann = key
        .post(
            &format!("/api/v1/programs/{program}/participants"),
            json!({ "email": "ann@example.com", "first_name": "Ann" }),
        )
        .await;
    let friend = key
        .post(
            &format!("/api/v1/programs/{program}/participants"),
            json!({ "email": "bo@example.com", "first_name": "Bo", "referred_by": ann.body["code"] }),
        )
        .await;
    assert_eq!(friend.status, StatusCode::CREATED, "{}", friend.text);
}

#[tokio::test]
async fn the_home_page_sums_the_programs_and_links_every_queue() {
    each_backend(|app| async move {
        let admin = app.staff(Role::Admin).await;
        let empty = admin.get("/admin").await;
        assert_eq!(empty.status, StatusCode::OK);
        assert!(empty.text.contains("<h1>Overview</h1>"), "{}", empty.text);
        assert!(empty.text.contains("id=\"all-clear\""), "nothing waits yet");
        assert!(empty.text.contains("Create your first program"));

        let (program, _) = live_program(&app, json!({})).await;
        referred_and_won(&app, &program).await;
        let key = app.key_client(Scope::Admin).await;
        let setup = key
            .post(
                "/api/v1/referral-setups",
                json!({ "beneficiary": { "name": "New Co", "email": "n@new.example", "owner_first_name": "N", "owner_last_name": "C" } }),
            )
            .await;
        assert_eq!(setup.status, StatusCode::CREATED, "{}", setup.text);

        let page = admin.get("/admin").await;
        assert_eq!(number(&page.text, "total-signups"), "1", "{}", page.text);
        assert_eq!(number(&page.text, "total-won"), "1");
        assert_eq!(number(&page.text, "total-owed"), "$20.00", "both sides' rewards");
        assert_eq!(number(&page.text, "total-paid"), "—");
        assert!(
            page.text.contains(&format!("href=\"/admin/programs/{program}/dashboard\"")),
            "each program links to its dashboard"
        );
        assert!(page.text.contains(&format!("href=\"/admin/programs/{program}/rewards?status=earned\">$20.00</a>")));
        assert!(
            page.text.contains("id=\"q-setups\" href=\"/admin/setups?status=requested\"><span class=\"big\">1</span>"),
            "the setup waiting for approval, linked: {}",
            page.text
        );
        assert!(!page.text.contains("id=\"all-clear\""));

        // A viewer reads programs but decides no setup: that queue is not theirs.
        let viewer = app.staff(Role::Viewer).await.get("/admin").await;
        assert_eq!(viewer.status, StatusCode::OK);
        assert_eq!(number(&viewer.text, "total-won"), "1");
        assert!(!viewer.text.contains("id=\"q-setups\""), "{}", viewer.text);

        // Addresses nothing answers: the console's frame under /admin, a plain page elsewhere,
        // and a front door at /.
        let lost = admin.get("/admin/no-such-page").await;
        assert_eq!(lost.status, StatusCode::NOT_FOUND);
        assert!(lost.text.contains("Page not found") && lost.text.contains("aria-label=\"Main\""), "{}", lost.text);
        let anonymous_page = reqwest::get(app.url("/no-such-page")).await.expect("get");
        assert_eq!(anonymous_page.status(), StatusCode::NOT_FOUND);
        assert!(anonymous_page.text().await.expect("text").contains("<h1 id=\"notice-title\">Page not found</h1>"));
        let home = reqwest::get(app.url("/")).await.expect("get");
        assert_eq!(home.status(), StatusCode::OK);
        let api = reqwest::get(app.url("/api/nope")).await.expect("get");
        assert_eq!(api.status(), StatusCode::NOT_FOUND);
        assert_eq!(api.headers()["content-type"], "application/problem+json");

        // Signed out: the login page, not the numbers.
        let anonymous = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let out = anonymous.get(app.url("/admin")).send().await.expect("get");
        assert_eq!(out.status(), StatusCode::SEE_OTHER);
        app.stop().await;
    })
    .await;
}

/// Each staff user picks the time zone the console shows times in; a name the tz database does
/// not know is refused next to the field, and nothing changes.
#[tokio::test]
async fn staff_choose_the_time_zone_their_console_shows() {
    each_backend(|app| async move {
        let staff = app.staff(Role::Staff).await;
        let page = staff.get("/admin/password").await;
        assert!(
            page.text.contains("data-tz=\"UTC\""),
            "the installation's zone by default"
        );
        assert!(page.text.contains("<option value=\"Europe/Paris\">"));
        let csrf = staff.csrf.clone().expect("csrf");
        let set = |zone: &'static str| {
            staff.send(
                staff
                    .request(reqwest::Method::POST, "/admin/account/time-zone")
                    .form(&[("csrf", csrf.as_str()), ("time_zone", zone)]),
            )
        };
        let bad = set("Mars/Olympus_Mons").await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.text.contains("id=\"e-time_zone\""), "{}", bad.text);
        assert!(
            staff.get("/admin").await.text.contains("data-tz=\"UTC\""),
            "nothing changed"
        );
        assert_eq!(set("Asia/Tokyo").await.status, StatusCode::SEE_OTHER);
        let home = staff.get("/admin").await;
        assert!(
            home.text.contains("data-tz=\"Asia/Tokyo\""),
            "{}",
            home.text
        );
        assert!(
            staff
                .get("/admin/password")
                .await
                .text
                .contains("<option value=\"Asia/Tokyo\" selected>")
        );
        assert_eq!(set("").await.status, StatusCode::SEE_OTHER);
        assert!(
            staff.get("/admin").await.text.contains("data-tz=\"UTC\""),
            "back to the installation's"
        );
        app.stop().await;
    })
    .await;
}
