//! The console and the registration page in headless Chromium, driven through chromedriver:
//! log in, create an account, request a super customer through approval, register through
//! the link and find the new sub-customer on the super customer's page. Screenshots land in
//! `target/screenshots/` (kept as CI artifacts).
//!
//! Needs `chromium` and `chromium-driver` (`.ci/run` installs them). Set
//! `VOUCH_SKIP_BROWSER_TESTS=1` to skip on a machine without them.

mod common;

use common::browser::{click, confirm, fill, find, logout, shot, start_browser, text, wait_text};
use common::{PASSWORD, TestApp};
use fantoccini::{Client, Locator};
use vouch_domain::permission::Role;
use vouch_store::testing::backends;

async fn login(c: &Client, app: &TestApp, email: &str) {
    common::browser::login(c, &app.base, email, PASSWORD).await;
}

#[tokio::test]
async fn referral_program_from_setup_to_registration() {
    let Some((_driver, c)) = start_browser().await else {
        return;
    };
    for backend in backends() {
        let tag = backend.name();
        let app = TestApp::spawn(backend).await;
        app.create_user("staff@vouch.test", Role::Staff).await;
        app.create_user("manager@vouch.test", Role::Manager).await;

        // A wrong password is refused with a message.
        c.goto(&app.url("/admin/login")).await.expect("login");
        fill(&c, "email", "staff@vouch.test").await;
        fill(&c, "password", "not the password").await;
        click(&c, "button[type=submit]").await;
        wait_text(&c, "#login-error", "do not match").await;
        shot(&c, &format!("{tag}-01-login-refused")).await;

        // Staff logs in and creates the beneficiary; a bad email is shown next to its field.
        login(&c, &app, "staff@vouch.test").await;
        c.goto(&app.url("/admin/accounts/new")).await.expect("new");
        fill(&c, "name", "Vector Services - Contractor").await;
        fill(&c, "email", "not-an-email").await;
        fill(&c, "owner_first_name", "Ann").await;
        fill(&c, "owner_last_name", "Lee").await;
        click(&c, "form[action='/admin/accounts/new'] button[type=submit]").await;
        wait_text(&c, "#e-email", "email address").await;
        shot(&c, &format!("{tag}-02-account-form-error")).await;
        fill(&c, "email", "ops@vector.example").await;
        click(&c, "form[action='/admin/accounts/new'] button[type=submit]").await;
        wait_text(&c, "h1", "Vector Services - Contractor").await;
        shot(&c, &format!("{tag}-03-account-created")).await;

        // Staff requests a super customer for the account from its page.
        click(&c, "a[href^='/admin/setups/new']").await;
        fill(&c, "label", "Vector").await;
        click(&c, "form[action='/admin/setups/new'] button[type=submit]").await;
        wait_text(&c, "#setup-status", "Requested").await;
        assert!(
            c.source()
                .await
                .expect("src")
                .contains("Awaiting approval by a manager")
        );
        shot(&c, &format!("{tag}-04-setup-requested")).await;
        let setup_url = c.current_url().await.expect("url").to_string();
        logout(&c).await;

        // The manager approves; the registration link appears.
        login(&c, &app, "manager@vouch.test").await;
        c.goto(&setup_url).await.expect("setup");
        click(&c, "button[value=approve]").await;
        confirm(&c).await;
        wait_text(&c, "#setup-status", "Approved").await;
        let link = text(&c, "#registration-link").await;
        assert!(
            link.contains("utm_source=login_page") && link.contains("super_customer_id="),
            "{link}"
        );
        shot(&c, &format!("{tag}-05-setup-approved")).await;
        let super_customer_page = c
            .find(Locator::Css("#super-customer-link"))
            .await
            .expect("sc")
            .attr("href")
            .await
            .expect("href")
            .expect("href");
        logout(&c).await;

        // A visitor registers through the link; a missing name is shown next to its field.
        c.goto(&link).await.expect("register");
        shot(&c, &format!("{tag}-06-register-form")).await;
        fill(&c, "email", "maya@northside.example").await;
        fill(&c, "first_name", "Maya").await;
        fill(&c, "last_name", "Ortiz").await;
        click(&c, "button[type=submit]").await;
        wait_text(&c, "#e-company", "required").await;
        fill(&c, "company", "Northside Property Care").await;
        click(&c, "button[type=submit]").await;
        wait_text(&c, "#notice-title", "You are registered").await;
        shot(&c, &format!("{tag}-07-registered")).await;

        // The new sub-customer is on the super customer's page.
        login(&c, &app, "manager@vouch.test").await;
        c.goto(&app.url(&super_customer_page))
            .await
            .expect("sc page");
        let subs = wait_text(&c, "#sub-customers", "Northside Property Care").await;
        assert!(
            subs.contains("Northside Property Care")
                && subs.contains("Vector Services - Contractor"),
            "{subs}"
        );
        shot(&c, &format!("{tag}-08-sub-customers")).await;

        // Readable at phone width.
        c.set_window_size(390, 844).await.expect("resize");
        c.goto(&app.url("/admin/accounts")).await.expect("list");
        shot(&c, &format!("{tag}-09-accounts-phone")).await;
        c.goto(&app.url(&super_customer_page))
            .await
            .expect("sc page");
        shot(&c, &format!("{tag}-10-super-customer-phone")).await;
        c.set_window_size(1280, 900).await.expect("resize");
        logout(&c).await;

        // The owner's pages: staff users, API keys (a new key is shown once), the audit log.
        app.create_user("owner@vouch.test", Role::Owner).await;
        login(&c, &app, "owner@vouch.test").await;
        c.goto(&app.url("/admin/users")).await.expect("users");
        shot(&c, &format!("{tag}-11-users")).await;
        c.goto(&app.url("/admin/api-keys")).await.expect("keys");
        fill(&c, "name", "CRM sync").await;
        click(&c, "form[action='/admin/api-keys'] button[type=submit]").await;
        let secret = wait_text(&c, "#new-api-key", "vouch_sk_").await;
        assert_eq!(secret.trim().len(), "vouch_sk_".len() + 64);
        shot(&c, &format!("{tag}-12-api-key-created")).await;
        c.goto(&app.url("/admin/audit?action=referral_setup."))
            .await
            .expect("audit");
        wait_text(&c, "table", "referral_setup.approved").await;
        shot(&c, &format!("{tag}-13-audit")).await;
        logout(&c).await;
        app.stop().await;
    }
    c.close().await.expect("close");
}

#[tokio::test]
async fn webhook_endpoint_from_the_console() {
    let Some((_driver, c)) = start_browser().await else {
        return;
    };
    let app = TestApp::spawn(backends()[0]).await;
    let rx = common::receiver::Receiver::start(common::receiver::Mode::FailTimes(1)).await;
    app.create_user("admin@vouch.test", Role::Admin).await;
    login(&c, &app, "admin@vouch.test").await;
    c.goto(&app.url("/admin/webhooks")).await.expect("webhooks");
    fill(&c, "url", "ftp://nowhere").await;
    click(&c, "form[action='/admin/webhooks'] button[type=submit]").await;
    wait_text(&c, "#e-url", "https://").await;
    shot(&c, "webhooks-01-url-error").await;
    fill(&c, "url", &rx.url).await;
    fill(&c, "event_types", "account.*").await;
    click(&c, "form[action='/admin/webhooks'] button[type=submit]").await;
    wait_text(&c, "#endpoint-status", "Enabled").await;
    click(&c, "#send-test").await;
    wait_text(&c, "#messages", "webhook.test").await;
    // Deliver: the first attempt fails, the immediate retry succeeds.
    app.worker().drain().await.expect("drain");
    c.refresh().await.expect("reload");
    wait_text(&c, "#messages", "Succeeded").await;
    shot(&c, "webhooks-02-endpoint").await;
    click(&c, "#messages a.mono").await;
    let attempts = wait_text(&c, "#attempts", "200").await;
    assert!(
        attempts.contains("500") && attempts.contains("failure 1"),
        "{attempts}"
    );
    shot(&c, "webhooks-03-attempts").await;
    logout(&c).await;
    app.stop().await;
    c.close().await.expect("close");
}

#[tokio::test]
async fn email_templates_and_outbox_from_the_console() {
    let Some((_driver, c)) = start_browser().await else {
        return;
    };
    let app = TestApp::spawn(backends()[0]).await;
    app.create_user("owner@vouch.test", Role::Owner).await;
    login(&c, &app, "owner@vouch.test").await;
    c.goto(&app.url("/admin/email-templates/webhook_endpoint_disabled"))
        .await
        .expect("template");
    wait_text(&c, "#preview", "https://hooks.example.com/vouch").await;
    fill(
        &c,
        "html",
        "<p>Stopped: {{ endpoint.url }}</p>\n<p>{{ reson }}</p>",
    )
    .await;
    click(&c, "button[value=save]").await;
    wait_text(&c, "#template-error", "line 2").await;
    shot(&c, "emails-01-template-error").await;
    fill(
        &c,
        "html",
        "<p>Stopped: {{ endpoint.url }}</p>\n<p>{{ reason }}</p>",
    )
    .await;
    click(&c, "button[value=preview]").await;
    wait_text(&c, "#preview", "every delivery failed").await;
    click(&c, "button[value=save]").await;
    wait_text(&c, "h1", "customised").await;
    shot(&c, "emails-02-template-saved").await;

    // An endpoint answering 410 is disabled and the owner is told.
    let rx = common::receiver::Receiver::start(common::receiver::Mode::Gone).await;
    let admin = app.key_client(vouch_domain::permission::Scope::Admin).await;
    admin
        .post(
            "/api/v1/webhook-endpoints",
            serde_json::json!({ "url": rx.url }),
        )
        .await;
    admin.account("Acme", "ops@acme.example").await;
    app.worker().drain().await.expect("drain");
    c.goto(&app.url("/admin/emails")).await.expect("outbox");
    wait_text(&c, "#emails", "owner@vouch.test").await;
    shot(&c, "emails-03-outbox").await;
    click(&c, "#emails a").await;
    wait_text(&c, "#email-subject", "Webhook endpoint disabled").await;
    shot(&c, "emails-04-message").await;
    logout(&c).await;
    app.stop().await;
    c.close().await.expect("close");
}

/// The newest outbox email of `kind` to `to`, through the API.
async fn newest_email(app: &TestApp, kind: &str, to: &str) -> serde_json::Value {
    let admin = app.key_client(vouch_domain::permission::Scope::Admin).await;
    let r = admin.get("/api/v1/emails?limit=100").await;
    r.body["data"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|m| m["kind"] == kind && m["to_address"] == to)
        })
        .cloned()
        .unwrap_or_else(|| panic!("no {kind} email to {to}"))
}

#[tokio::test]
async fn participant_referrals_from_link_to_delivered_reward() {
    let Some((_driver, c)) = start_browser().await else {
        return;
    };
    for backend in backends() {
        let tag = format!("referrals-{}", backend.name());
        let app = TestApp::spawn(backend).await;
        // A live program whose landing page is Vouch's own signup page, and a reward per friend.
        let manager_api = app.staff(Role::Manager).await;
        let p = manager_api
            .post("/api/v1/programs", serde_json::json!({ "name": "Friends of Acme", "slug": "friends", "landing_url": app.url("/p/friends/join") }))
            .await;
        let program = p.body["id"].as_str().expect("program").to_string();
        manager_api
            .post(
                &format!("/api/v1/programs/{program}/status"),
                serde_json::json!({ "status": "live" }),
            )
            .await;
        manager_api
            .post(&format!("/api/v1/programs/{program}/reward-rules"), serde_json::json!({ "name": "USD 10 per friend", "trigger": "every", "threshold": 1, "amount": 1000 }))
            .await;
        let ann = manager_api
            .post(
                &format!("/api/v1/programs/{program}/participants"),
                serde_json::json!({ "email": "ann@example.com", "first_name": "Ann" }),
            )
            .await;
        let code = ann.body["code"].as_str().expect("code").to_string();

        // A friend follows Ann's link, lands on the signup page with the code, and joins with a
        // throwaway address: the referral is flagged.
        c.goto(&app.url(&format!("/r/{code}"))).await.expect("link");
        wait_text(&c, "h1", "Join Friends of Acme").await;
        let hidden = find(&c, "input[name=ref]")
            .await
            .attr("value")
            .await
            .expect("attr");
        assert_eq!(hidden.as_deref(), Some(code.as_str()));
        fill(&c, "email", "bo@").await;
        click(&c, "#join").await;
        wait_text(&c, "#e-email", "email").await;
        shot(&c, &format!("{tag}-01-join-error")).await;
        fill(&c, "email", "bo@mailinator.com").await;
        fill(&c, "first_name", "Bo").await;
        click(&c, "#join").await;
        wait_text(&c, "#joined", "You're in, Bo").await;
        assert!(text(&c, "#referred-note").await.contains("friend's link"));
        shot(&c, &format!("{tag}-02-joined")).await;

        // Bo opens the referral page from the emailed magic link.
        c.goto(&app.url("/p/friends/me")).await.expect("me");
        fill(&c, "email", "bo@mailinator.com").await;
        click(&c, "#send-link").await;
        wait_text(&c, "#link-sent", "Check your inbox").await;
        let mail = newest_email(&app, "participant_login", "bo@mailinator.com").await;
        let login_url = mail["text_body"]
            .as_str()
            .and_then(|t| {
                t.split_whitespace()
                    .find(|w| w.contains("/me/login?token="))
            })
            .expect("login url")
            .to_string();
        c.goto(&login_url).await.expect("login link");
        click(&c, "#open-page").await;
        wait_text(&c, "h1", "Share your link, Bo").await;
        let link = find(&c, "#referral-link")
            .await
            .prop("value")
            .await
            .expect("prop")
            .unwrap_or_default();
        assert!(link.contains("/r/BO"), "{link}");
        // The page's one script runs under the content policy: a click on the link field
        // selects all of it (`data-select`), which no inline handler could do any more.
        click(&c, "#referral-link").await;
        let selected = c
            .execute(
                "const f = document.getElementById('referral-link'); return f.selectionEnd - f.selectionStart;",
                vec![],
            )
            .await
            .expect("selection");
        assert_eq!(
            selected.as_u64(),
            Some(link.len() as u64),
            "vouch.js selected the link"
        );
        shot(&c, &format!("{tag}-03-referral-page")).await;

        // A manager clears the flagged referral from the review queue and delivers the reward.
        app.create_user("admin@vouch.test", Role::Admin).await;
        login(&c, &app, "admin@vouch.test").await;
        c.goto(&app.url(&format!(
            "/admin/programs/{program}/referrals?review=pending"
        )))
        .await
        .expect("queue");
        wait_text(&c, "#referrals", "throwaway").await;
        shot(&c, &format!("{tag}-04-review-queue")).await;
        click(&c, "#referrals a[href^='/admin/referrals/']").await;
        wait_text(&c, "#flags", "mailinator.com").await;
        fill(
            &c,
            "reason",
            "Bo called us; a real customer using a throwaway address",
        )
        .await;
        shot(&c, &format!("{tag}-05-referral-review")).await;
        click(&c, "#clear").await;
        wait_text(&c, "#review-status", "Cleared").await;
        c.goto(&app.url(&format!("/admin/programs/{program}/rewards?status=earned")))
            .await
            .expect("rewards");
        wait_text(&c, "#rewards", "$10.00").await;
        shot(&c, &format!("{tag}-06-rewards-queue")).await;
        click(&c, "#rewards button.deliver").await;
        find(&c, "#vouch-confirm[open]").await;
        shot(&c, "participants-confirm-deliver").await;
        confirm(&c).await;
        wait_text(&c, ".flash", "Reward delivered").await;
        c.goto(&app.url(&format!("/admin/programs/{program}/rewards")))
            .await
            .expect("rewards");
        wait_text(&c, "#rewards", "Delivered").await;
        shot(&c, &format!("{tag}-07-reward-delivered")).await;
        c.goto(&app.url(&format!("/admin/programs/{program}/dashboard")))
            .await
            .expect("dashboard");
        assert_eq!(text(&c, "#total-won").await.trim(), "1");
        wait_text(&c, "#top-referrers", "ann@example.com").await;
        shot(&c, &format!("{tag}-07b-dashboard")).await;

        // The emails are in the outbox.
        c.goto(&app.url("/admin/emails")).await.expect("outbox");
        let outbox = wait_text(&c, "table", "Your Friends of Acme reward is here").await;
        for subject in [
            "You're in: your Friends of Acme referral link",
            "Bo joined Friends of Acme through you",
            "You earned a reward from Friends of Acme",
            "Your Friends of Acme referral page",
        ] {
            assert!(outbox.contains(subject), "{subject} in {outbox}");
        }
        shot(&c, &format!("{tag}-08-outbox")).await;

        // The same pages at phone width.
        c.set_window_size(390, 844).await.expect("phone");
        c.goto(&app.url(&format!("/admin/programs/{program}/rewards")))
            .await
            .expect("rewards");
        wait_text(&c, "#rewards", "Delivered").await;
        shot(&c, &format!("{tag}-09-rewards-phone")).await;
        c.set_window_size(1280, 900).await.expect("desktop");
        logout(&c).await;
        app.stop().await;
    }
    c.close().await.expect("close");
}

/// A manager adds a double-sided rule in the console, typing amounts as people do: `10` is
/// USD 10.00 (1000 minor units through the API), `10.005` is refused next to its field and
/// nothing is saved.
async fn reward_amounts_are_typed_in_major_units(backend: vouch_store::Backend) {
    let Some((_driver, c)) = start_browser().await else {
        return;
    };
    let tag = format!("money-{}", backend.name());
    let app = TestApp::spawn(backend).await;
    let manager_api = app.staff(Role::Manager).await;
    let p = manager_api
        .post(
            "/api/v1/programs",
            serde_json::json!({ "name": "Give ten", "landing_url": "https://shop.example.com" }),
        )
        .await;
    let program = p.body["id"].as_str().expect("program").to_string();
    app.create_user("manager@vouch.test", Role::Manager).await;
    login(&c, &app, "manager@vouch.test").await;
    let page = format!("/admin/programs/{program}/reward-rules");
    c.goto(&app.url(&page)).await.expect("rules");
    fill(&c, "name", "Give 10, get 10").await;
    find(&c, "#f-sides")
        .await
        .select_by_value("double")
        .await
        .expect("double");
    fill(&c, "amount", "10").await;
    fill(&c, "friend_amount", "10.005").await;
    click(&c, "#add-rule").await;
    wait_text(&c, "#e-friend_amount", "USD has 2 decimals at most").await;
    let kept = find(&c, "#f-friend_amount")
        .await
        .prop("value")
        .await
        .expect("value");
    assert_eq!(kept.as_deref(), Some("10.005"), "what was typed stays");
    shot(&c, &format!("{tag}-01-refused")).await;
    let rules = manager_api
        .get(&format!("/api/v1/programs/{program}/reward-rules"))
        .await;
    assert_eq!(rules.body["data"].as_array().map(Vec::len), Some(0));

    fill(&c, "friend_amount", "10").await;
    click(&c, "#add-rule").await;
    wait_text(&c, ".flash", "Rule “Give 10, get 10” added").await;
    let row = wait_text(&c, "#rules", "$10.00 cash").await;
    assert!(row.contains("friend: $10.00 cash"), "{row}");
    assert!(!row.contains("minor units"), "{row}");
    shot(&c, &format!("{tag}-02-saved")).await;
    let rules = manager_api
        .get(&format!("/api/v1/programs/{program}/reward-rules"))
        .await;
    let rule = &rules.body["data"][0];
    assert_eq!(
        (rule["amount"].as_i64(), rule["friend_amount"].as_i64()),
        (Some(1000), Some(1000)),
        "{rule}"
    );

    // Cash may be paid by payout (through the payables ledger); nothing else may.
    fill(&c, "name", "Paid out").await;
    choose(&c, "#f-kind", "coupon").await;
    choose(&c, "#f-delivery", "payout").await;
    fill(&c, "description", "A gift card").await;
    click(&c, "#add-rule").await;
    wait_text(&c, "#e-delivery", "Payout is for cash rewards only").await;
    shot(&c, &format!("{tag}-03-payout-refused")).await;
    choose(&c, "#f-kind", "cash").await;
    fill(&c, "amount", "25").await;
    fill(&c, "description", "").await;
    click(&c, "#add-rule").await;
    wait_text(&c, ".flash", "Rule “Paid out” added").await;
    let rows = wait_text(&c, "#rules", "$25.00 cash").await;
    assert!(rows.contains("By payout"), "{rows}");
    shot(&c, &format!("{tag}-04-payout-rule")).await;
    logout(&c).await;
    app.stop().await;
    c.close().await.expect("close");
}

#[tokio::test]
async fn reward_amounts_are_typed_in_major_units_on_sqlite() {
    reward_amounts_are_typed_in_major_units(vouch_store::Backend::Sqlite).await;
}

#[tokio::test]
async fn reward_amounts_are_typed_in_major_units_on_postgres() {
    if backends().contains(&vouch_store::Backend::Postgres) {
        reward_amounts_are_typed_in_major_units(vouch_store::Backend::Postgres).await;
    }
}

/// Picks an option of a select by its value.
async fn choose(c: &Client, css: &str, value: &str) {
    find(c, css)
        .await
        .select_by_value(value)
        .await
        .unwrap_or_else(|e| panic!("{css} = {value}: {e}"));
}

/// Sets a date input's value (typing into one depends on the browser's locale).
async fn set_date(c: &Client, id: &str, value: &str) {
    c.execute(
        "document.getElementById(arguments[0]).value = arguments[1];",
        vec![serde_json::json!(id), serde_json::json!(value)],
    )
    .await
    .expect("set date");
}

/// Issue 9's path in the console: a sale recorded by staff, approved by a manager (its bonus
/// appears), completed step by step in the wizard (a wrong value named next to its field),
/// approved by another manager (payments due on the sign date and waiting for the install
/// date), the install date recorded, the bonus split, a payroll batch built, approved,
/// exported and marked paid. Screenshots at 1280 and 390 px.
#[tokio::test]
async fn sales_bonus_from_sale_to_paid_payroll() {
    let Some((_driver, c)) = start_browser().await else {
        return;
    };
    let app = TestApp::spawn(vouch_store::Backend::Sqlite).await;
    let tag = "sales";
    let api = app.staff(Role::Manager).await;
    let program = api
        .post(
            "/api/v1/programs",
            serde_json::json!({ "name": "1Stop referrals", "landing_url": "https://1stop.example.com" }),
        )
        .await;
    let program = program.body["id"].as_str().expect("program").to_string();
    let erin = api
        .post(
            "/api/v1/people",
            serde_json::json!({ "kind": "employee", "name": "Erin Diaz", "email": "erin@example.com", "employee_number": "E-104" }),
        )
        .await;
    let erin = erin.body["id"].as_str().expect("erin").to_string();
    api.post(
        &format!("/api/v1/people/{erin}/terms"),
        serde_json::json!({ "percentage_bps": 1000, "front_term": "sign_date", "back_term": "install_date", "front_share_bps": 5000 }),
    )
    .await;
    let cora = api
        .post(
            "/api/v1/people",
            serde_json::json!({ "kind": "contact", "name": "Cora Buyer", "email": "cora@example.com" }),
        )
        .await;
    let cora = cora.body["id"].as_str().expect("cora").to_string();
    app.create_user("sales-staff@vouch.test", Role::Staff).await;
    app.create_user("sales-manager@vouch.test", Role::Manager)
        .await;
    app.create_user("sales-reviewer@vouch.test", Role::Manager)
        .await;

    // Staff enter Erin's referral of Cora, book the meeting and move it on.
    login(&c, &app, "sales-staff@vouch.test").await;
    c.goto(&app.url("/admin/sales-referrals/new"))
        .await
        .expect("new referral");
    choose(&c, "#f-program_id", &program).await;
    choose(&c, "#f-referred_id", &cora).await;
    choose(&c, "#f-referrer_id", &erin).await;
    click(&c, "#referral-form button[type=submit]").await;
    wait_text(&c, "#referral-stage", "New").await;
    set_date(&c, "f-meeting_at", "2026-02-20T15:00").await;
    click(&c, "#meeting-form button[type=submit]").await;
    wait_text(&c, ".flash", "Meeting booked").await;
    choose(&c, "#f-stage", "meeting_scheduled").await;
    click(&c, "#stage-form button[type=submit]").await;
    wait_text(&c, "#referral-stage", "Meeting scheduled").await;
    shot(&c, &format!("{tag}-00-referral")).await;

    // The sale recorded from it: a bad amount is named next to its field, then it is a draft.
    click(&c, "#record-sale").await;
    wait_text(&c, "#from-referral", "Recorded from").await;
    fill(&c, "amount", "10000.001").await;
    set_date(&c, "f-signed_on", "2026-03-02").await;
    click(&c, "#sale-form button[type=submit]").await;
    wait_text(&c, "#e-amount", "2 decimals").await;
    shot(&c, &format!("{tag}-01-sale-refused")).await;
    fill(&c, "amount", "10000").await;
    set_date(&c, "f-signed_on", "2026-03-02").await;
    click(&c, "#sale-form button[type=submit]").await;
    wait_text(&c, "#sale-status", "Draft").await;
    assert_eq!(text(&c, "#sale-amount").await, "$10,000.00");
    let sale_url = c.current_url().await.expect("url");
    let sale_path = sale_url.path().to_string();
    assert!(
        c.find(Locator::Css("#approve-sale")).await.is_err(),
        "staff cannot approve"
    );
    logout(&c).await;

    // A manager approves: the bonus appears, incomplete, prefilled from Erin's terms.
    login(&c, &app, "sales-manager@vouch.test").await;
    c.goto(&app.url(&sale_path)).await.expect("sale");
    click(&c, "#approve-sale").await;
    confirm(&c).await;
    wait_text(&c, ".flash", "1 bonus created").await;
    let bonuses = wait_text(&c, "#bonuses", "Referral-Employee").await;
    assert!(
        bonuses.contains("$1,000.00") && bonuses.contains("Incomplete"),
        "{bonuses}"
    );
    shot(&c, &format!("{tag}-02-sale-approved")).await;
    logout(&c).await;

    // Staff complete it step by step.
    login(&c, &app, "sales-staff@vouch.test").await;
    c.goto(&app.url(&sale_path)).await.expect("sale");
    click(&c, "#bonuses a").await;
    wait_text(&c, "#progress", "Step 4 of 4").await;
    let bonus_path = c.current_url().await.expect("url").path().to_string();
    c.goto(&app.url(&format!("{bonus_path}?step=payee")))
        .await
        .expect("step 1");
    wait_text(&c, "#progress", "Step 1 of 4").await;
    shot(&c, &format!("{tag}-03-wizard-payee")).await;
    click(&c, "#save-step").await;
    wait_text(&c, "#progress", "Step 2 of 4").await;
    fill(&c, "percentage", "ten").await;
    click(&c, "#save-step").await;
    wait_text(&c, "#e-percentage", "percentage").await;
    shot(&c, &format!("{tag}-04-wizard-basis-refused")).await;
    fill(&c, "percentage", "10").await;
    click(&c, "#save-step").await;
    wait_text(&c, "#progress", "Step 3 of 4").await;
    click(&c, "#save-step").await;
    wait_text(&c, "#progress", "Step 4 of 4").await;
    assert_eq!(text(&c, "#bonus-amount").await, "$1,000.00");
    let review = text(&c, "#review").await;
    assert!(
        review.contains("10 % of the sale; 50 % on Sign Date, the rest on Install Date"),
        "{review}"
    );
    shot(&c, &format!("{tag}-05-wizard-review")).await;
    c.set_window_size(390, 844).await.expect("phone");
    shot(&c, &format!("{tag}-06-wizard-review-phone")).await;
    c.set_window_size(1280, 900).await.expect("desktop");
    click(&c, "#submit-bonus").await;
    wait_text(&c, "#bonus-status", "Ready for review").await;
    logout(&c).await;

    // Another manager approves it from the review queue, in bulk.
    login(&c, &app, "sales-reviewer@vouch.test").await;
    c.goto(&app.url("/admin/bonuses")).await.expect("queue");
    let queue = wait_text(&c, "#bonus-queue", "Erin Diaz").await;
    assert!(queue.contains("sales-staff@vouch.test"), "{queue}");
    shot(&c, &format!("{tag}-07-review-queue")).await;
    click(&c, "#bonus-queue input[type=checkbox]").await;
    click(&c, "#bulk-approve").await;
    confirm(&c).await;
    wait_text(&c, ".flash", "1 bonus(es) approved").await;
    c.goto(&app.url(&sale_path)).await.expect("sale");
    let payments = wait_text(&c, "#payments", "2026-03-02").await;
    assert!(payments.contains("awaiting Install Date"), "{payments}");

    // The install date arrives; then the bonus is split in four.
    set_date(&c, "f-installed_on", "2026-04-15").await;
    click(&c, "#milestones-form button[type=submit]").await;
    wait_text(&c, ".flash", "Dates recorded").await;
    let payments = wait_text(&c, "#payments", "2026-04-15").await;
    assert!(!payments.contains("awaiting"), "{payments}");
    shot(&c, &format!("{tag}-08-sale-with-payments")).await;
    c.set_window_size(390, 844).await.expect("phone");
    shot(&c, &format!("{tag}-09-sale-phone")).await;
    c.set_window_size(1280, 900).await.expect("desktop");
    c.goto(&app.url(&bonus_path)).await.expect("bonus");
    fill(&c, "count", "4").await;
    click(&c, "#split-bonus").await;
    wait_text(&c, ".flash", "Split into 4 payment(s)").await;
    let split = text(&c, "#bonus-payments").await;
    assert_eq!(split.matches("$250.00").count(), 4, "{split}");

    // A payroll batch: built, approved, exported, paid.
    c.goto(&app.url("/admin/payout-batches"))
        .await
        .expect("batches");
    click(&c, "#build-batch").await;
    wait_text(&c, ".flash", "Batch built with 4 payment(s)").await;
    assert_eq!(text(&c, "#batch-total").await, "$1,000.00");
    click(&c, "#approve-batch").await;
    confirm(&c).await;
    wait_text(&c, "#batch-status", "Approved").await;
    let export = find(&c, "#export-batch")
        .await
        .attr("href")
        .await
        .expect("href")
        .expect("link");
    let csv = api.get(&format!("{export}?pay_date=2026-04-30")).await;
    assert_eq!(
        csv.text,
        format!(
            "employee_id,name,amount,currency,pay_date,bonus_references\nE-104,Erin Diaz,1000.00,USD,2026-04-30,{}\n",
            csv.text
                .lines()
                .nth(1)
                .and_then(|l| l.rsplit(',').next())
                .unwrap_or_default()
        ),
        "one payroll line for Erin"
    );
    fill(&c, "reference", "PAYROLL-2026-04").await;
    click(&c, "#mark-batch-paid").await;
    confirm(&c).await;
    wait_text(&c, ".flash", "Batch paid: 4 payment(s)").await;
    wait_text(&c, "#batch-status", "Paid").await;
    shot(&c, &format!("{tag}-10-batch-paid")).await;
    c.set_window_size(390, 844).await.expect("phone");
    shot(&c, &format!("{tag}-11-batch-phone")).await;
    c.set_window_size(1280, 900).await.expect("desktop");

    // The referral was won by the sale's approval.
    c.goto(&app.url("/admin/sales-referrals"))
        .await
        .expect("referrals");
    let list = wait_text(&c, "#referrals", "Cora Buyer").await;
    assert!(list.contains("Won"), "{list}");

    // Erin's page: terms and statement.
    c.goto(&app.url(&format!("/admin/people/{erin}")))
        .await
        .expect("erin");
    let statement = wait_text(&c, "#statement", "Paid").await;
    assert!(statement.contains("$1,000.00"), "{statement}");
    shot(&c, &format!("{tag}-12-payee")).await;

    // The reports show it, each as a chart and a table, and each downloads as CSV.
    c.goto(&app.url("/admin/sales/reports"))
        .await
        .expect("reports");
    let top = wait_text(&c, "#report-top_bonus", "Erin Diaz").await;
    assert!(top.contains("$1,000.00"), "{top}");
    let paid = text(&c, "#report-paid").await;
    assert!(
        paid.contains("employee") && paid.contains("$1,000.00"),
        "{paid}"
    );
    find(&c, "#report-bonuses svg").await;
    shot(&c, &format!("{tag}-13-reports")).await;
    c.set_window_size(390, 844).await.expect("phone");
    shot(&c, &format!("{tag}-14-reports-phone")).await;
    c.set_window_size(1280, 900).await.expect("desktop");
    let csv = api.get("/admin/sales/reports.csv?report=top_sales").await;
    assert_eq!(csv.text, "person,sales,amount\nErin Diaz,1,USD 10000.00\n");

    // The program's bonus policy: the New Customer bonus's own terms, folded until wanted.
    c.goto(&app.url(&format!("/admin/programs/{program}/bonus-policy")))
        .await
        .expect("policy");
    find(&c, "#policy-form").await;
    shot(&c, &format!("{tag}-15-policy")).await;
    click(&c, "input[name=new_customer_bonus]").await;
    click(&c, "#nc-terms summary").await;
    click(&c, "input[name=new_customer_terms_on]").await;
    fill(&c, "nc_percentage", "2.5").await;
    click(&c, "#policy-form button[type=submit]").await;
    wait_text(&c, "#e-nc_front_term", "front payment").await;
    wait_text(&c, ".problem", "Nothing was saved").await;
    c.execute(
        "document.getElementById('e-nc_front_term').scrollIntoView({block: 'center'});",
        vec![],
    )
    .await
    .expect("scroll");
    shot(&c, &format!("{tag}-16-policy-refused")).await;
    choose(&c, "#f-nc_front_term", "sign_date").await;
    click(&c, "#policy-form button[type=submit]").await;
    wait_text(&c, ".flash", "Bonus policy saved").await;
    let saved = api
        .get(&format!("/api/v1/programs/{program}/bonus-policy"))
        .await;
    assert_eq!(saved.body["new_customer_bonus"], true, "{}", saved.text);
    assert_eq!(saved.body["new_customer_terms"]["percentage_bps"], 250);
    c.set_window_size(390, 844).await.expect("phone");
    shot(&c, &format!("{tag}-17-policy-phone")).await;
    c.set_window_size(1280, 900).await.expect("desktop");
    logout(&c).await;
    app.stop().await;
    c.close().await.expect("close");
}

/// Issue 10's portal path in a browser: staff invite a partner user from the console; the
/// invitation link sets a password; the user submits a referral (a wrong field named next to
/// it), sees both directions in View Referrals, sorts by clicking a header, searches, edits the
/// stage and value, and reads the history. Screenshots at 1280 and 390 px.
#[tokio::test]
async fn partner_portal_from_invitation_to_edited_referral() {
    let Some((_driver, c)) = start_browser().await else {
        return;
    };
    let app = TestApp::spawn(vouch_store::Backend::Sqlite).await;
    let tag = "portal";
    let api = app.staff(Role::Manager).await;
    let partner = api
        .post(
            "/api/v1/partners",
            serde_json::json!({ "name": "Northwind Agency", "contact_email": "ops@northwind.example", "refers_clients": true, "receives_referrals": true }),
        )
        .await;
    let partner = partner.body["id"].as_str().expect("partner").to_string();
    let program = api
        .post(
            "/api/v1/programs",
            serde_json::json!({ "name": "Partner deals", "landing_url": "https://shop.example.com" }),
        )
        .await;
    let program = program.body["id"].as_str().expect("program").to_string();
    let terms = api
        .request(
            reqwest::Method::PUT,
            &format!("/api/v1/partners/{partner}/commission-terms/{program}"),
        )
        .json(&serde_json::json!({ "percentage_bps": 1000 }));
    api.send(terms).await;
    api.post(
        "/api/v1/partner-referrals",
        serde_json::json!({ "partner_id": partner, "direction": "to_partner", "client_name": "Abe Client", "phone": "+1 555 0100", "value": 90_000, "currency": "USD" }),
    )
    .await;

    // Staff invite Nora from the partner's page.
    app.create_user("partners@vouch.test", Role::Staff).await;
    login(&c, &app, "partners@vouch.test").await;
    c.goto(&app.url(&format!("/admin/partners/{partner}")))
        .await
        .expect("partner");
    fill(&c, "invite_email", "nora@northwind.example").await;
    fill(&c, "invite_name", "Nora West").await;
    choose(&c, "#f-invite_role", "admin").await;
    click(&c, "#invite-user").await;
    wait_text(&c, ".flash", "nora@northwind.example is invited").await;
    wait_text(&c, "#portal-users", "Invited").await;
    shot(&c, &format!("{tag}-01-invited")).await;
    logout(&c).await;

    // The link from the email sets her password and signs her in.
    let mail = newest_email(&app, "partner_invite", "nora@northwind.example").await;
    let body = mail["text_body"].as_str().expect("text");
    let link = body
        .split_whitespace()
        .find(|w| w.contains("/portal/welcome?token="))
        .expect("link");
    let path = &link[link.find("/portal/").expect("path")..];
    c.goto(&app.url(path)).await.expect("welcome");
    wait_text(&c, "h1", "Welcome, Nora West").await;
    fill(&c, "password", "northwind-nora-1").await;
    fill(&c, "confirm", "northwind-nora-1").await;
    click(&c, "#set-password").await;
    wait_text(&c, "h1", "Referrals").await;

    // Submit a Referral: a bad email is named next to its field, then it goes through.
    click(&c, "nav a[href='/portal/referrals/new']").await;
    wait_text(&c, "#when-to-submit", "before the client has agreed").await;
    fill(&c, "client_name", "Dana Home").await;
    fill(&c, "company", "Home Goods Ltd").await;
    fill(&c, "email", "dana@").await;
    click(&c, "input[name=plan_advice]").await;
    click(&c, "#submit").await;
    wait_text(&c, "#e-email", "").await;
    shot(&c, &format!("{tag}-02-submit-refused")).await;
    fill(&c, "email", "dana@homegoods.example").await;
    fill(&c, "value", "2500.00").await;
    click(&c, "#submit").await;
    wait_text(&c, ".flash", "your partner manager will contact you").await;
    shot(&c, &format!("{tag}-03-submitted")).await;

    // View Referrals: both directions; sort by clicking Client; search.
    click(&c, "nav a[href='/portal/referrals']").await;
    let table = wait_text(&c, "#portal-referrals", "Dana Home").await;
    assert!(table.contains("Abe Client"), "{table}");
    assert!(text(&c, "#referral-total").await.contains("2 of 2"));
    click(&c, "#portal-referrals th:nth-child(2) a").await;
    wait_text(&c, "#portal-referrals th[aria-sort=ascending]", "Client").await;
    let rows = text(&c, "#portal-referrals tbody").await;
    assert!(
        rows.find("Abe Client") < rows.find("Dana Home"),
        "sorted by client: {rows}"
    );
    shot(&c, &format!("{tag}-04-referrals")).await;
    c.set_window_size(390, 844).await.expect("phone");
    shot(&c, &format!("{tag}-05-referrals-phone")).await;
    c.set_window_size(1280, 900).await.expect("desktop");
    fill(&c, "q", "homegoods").await;
    click(&c, "form[role=search] button").await;
    wait_text(&c, "#referral-total", "1 of 1").await;

    // Edit ours: stage and value; the history shows it.
    c.goto(&app.url("/portal/referrals?q=abe"))
        .await
        .expect("search");
    click(&c, "#portal-referrals tbody a").await;
    click(&c, "#edit-button").await;
    click(&c, "input[name=stage][value=in_progress]").await;
    fill(&c, "value", "1200.00").await;
    click(&c, "#save-referral").await;
    wait_text(&c, ".flash", "saved").await;
    let history = wait_text(&c, "#referral-history", "New → In Progress").await;
    assert!(history.contains("USD 900.00 → USD 1200.00"), "{history}");
    shot(&c, &format!("{tag}-06-history")).await;
    c.set_window_size(390, 844).await.expect("phone");
    shot(&c, &format!("{tag}-07-history-phone")).await;
    c.set_window_size(1280, 900).await.expect("desktop");

    // My Account lists who has access.
    click(&c, "nav a[href='/portal/account']").await;
    wait_text(&c, "#portal-users", "nora@northwind.example").await;
    shot(&c, &format!("{tag}-08-account")).await;
    click(&c, "form[action='/portal/logout'] button").await;

    // The partner manager marks Nora's referral won: its commission waits for review, and a
    // manager approves it from the referral's page.
    app.create_user("manager@vouch.test", Role::Manager).await;
    login(&c, &app, "manager@vouch.test").await;
    c.goto(&app.url("/admin/partner-referrals?q=homegoods"))
        .await
        .expect("referrals");
    click(&c, "#partner-referrals tbody a").await;
    click(&c, "input[name=stage][value=won]").await;
    click(&c, "#save-referral").await;
    wait_text(&c, ".flash", "saved").await;
    let commission = wait_text(&c, "#referral-commission", "Ready for review").await;
    assert!(
        commission.contains("$250.00 (10 % of $2,500.00)"),
        "{commission}"
    );
    shot(&c, &format!("{tag}-09-commission-in-review")).await;
    click(&c, "#approve-commission").await;
    wait_text(&c, ".flash", "Commission approved").await;
    wait_text(&c, "#referral-commission", "Approved").await;
    shot(&c, &format!("{tag}-10-commission-approved")).await;
    app.stop().await;
    c.close().await.expect("close");
}

#[tokio::test]
async fn leads_sold_by_api_post_and_by_email_from_the_console() {
    let Some((_driver, c)) = start_browser().await else {
        return;
    };
    let app = TestApp::spawn(vouch_store::Backend::Sqlite).await;
    let tag = "leads";
    let receiver = common::receiver::Receiver::start(common::receiver::Mode::Ok).await;
    let api = app.staff(Role::Manager).await;
    let mut buyers = Vec::new();
    for body in [
        serde_json::json!({ "name": "Harbor Security", "buys_customers": true, "delivery_method": "api_post", "post_url": receiver.url, "source_id": "4471", "notification_emails": ["sales@harbor.example"] }),
        serde_json::json!({ "name": "Mail Leads Co", "buys_customers": true, "delivery_method": "email", "notification_emails": ["leads@mailleads.example"] }),
    ] {
        let created = api.post("/api/v1/partners", body).await;
        buyers.push(created.body["id"].as_str().expect("buyer").to_string());
    }
    app.create_user("sales@vouch.test", Role::Staff).await;
    login(&c, &app, "sales@vouch.test").await;

    // A customer by API post, from the buyer's page: a bad price is named next to its field.
    c.goto(&app.url(&format!("/admin/partners/{}", buyers[0])))
        .await
        .expect("buyer");
    click(&c, "#sell-to-partner").await;
    wait_text(&c, "h1", "Sell a lead or customer").await;
    choose(&c, "#f-kind", "customer").await;
    fill(&c, "first_name", "Dana").await;
    fill(&c, "last_name", "Home").await;
    fill(&c, "email", "dana@home.example").await;
    fill(&c, "phone1", "+1 555 0100").await;
    fill(&c, "city", "Springfield").await;
    fill(&c, "sale_price", "150.005").await;
    fill(&c, "monthly_recurring_revenue", "49.99").await;
    fill(&c, "activation_fee", "99").await;
    fill(&c, "contract_term_months", "36").await;
    fill(&c, "custom_fields", "panel: touchscreen").await;
    click(&c, "#sell").await;
    wait_text(&c, "#e-sale_price", "decimals").await;
    shot(&c, &format!("{tag}-01-refused")).await;
    fill(&c, "sale_price", "150").await;
    click(&c, "#sell").await;
    wait_text(
        &c,
        ".flash",
        "Dana Home sold to Harbor Security for $150.00",
    )
    .await;
    wait_text(&c, "#delivery-status", "Delivering").await;
    app.worker().drain().await.expect("drain");
    c.refresh().await.expect("reload");
    wait_text(&c, "#delivery-status", "Delivered").await;
    let log = text(&c, "#delivery-log").await;
    assert!(
        log.contains("API post") && log.contains("HTTP 200"),
        "{log}"
    );
    let posted = receiver.delivered();
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].json()["source_id"], "4471");
    assert_eq!(posted[0].json()["monthly_recurring_revenue"], 4999);
    shot(&c, &format!("{tag}-02-delivered-by-post")).await;
    c.set_window_size(390, 844).await.expect("phone");
    shot(&c, &format!("{tag}-03-delivered-phone")).await;
    c.set_window_size(1280, 900).await.expect("desktop");

    // A lead by email, from the lead sales list.
    c.goto(&app.url("/admin/lead-sales")).await.expect("list");
    click(&c, "#new-sale").await;
    choose(&c, "#f-partner_id", &buyers[1]).await;
    fill(&c, "first_name", "Eli").await;
    fill(&c, "last_name", "Ward").await;
    fill(&c, "phone1", "555 0101").await;
    fill(&c, "sale_price", "25").await;
    click(&c, "#sell").await;
    wait_text(&c, ".flash", "Eli Ward sold to Mail Leads Co for $25.00").await;
    app.worker().drain().await.expect("drain");
    c.refresh().await.expect("reload");
    wait_text(&c, "#delivery-status", "Delivered").await;
    let log = text(&c, "#delivery-log").await;
    assert!(log.contains("Email to leads@mailleads.example"), "{log}");
    let mail = newest_email(&app, "lead_sold", "leads@mailleads.example").await;
    let body = mail["text_body"].as_str().unwrap_or_default();
    assert!(
        body.contains("Eli Ward") && body.contains("555 0101"),
        "{body}"
    );

    // The list and the buyer's statement.
    c.goto(&app.url("/admin/lead-sales")).await.expect("list");
    let table = wait_text(&c, "#lead-sales", "Eli Ward").await;
    assert!(
        table.contains("Dana Home") && table.contains("$150.00"),
        "{table}"
    );
    shot(&c, &format!("{tag}-04-list")).await;
    c.set_window_size(390, 844).await.expect("phone");
    shot(&c, &format!("{tag}-05-list-phone")).await;
    c.set_window_size(1280, 900).await.expect("desktop");
    c.goto(&app.url(&format!("/admin/partners/{}", buyers[0])))
        .await
        .expect("buyer");
    click(&c, "#lead-statement").await;
    wait_text(&c, "#statement-totals", "$150.00 for 1 sold").await;
    shot(&c, &format!("{tag}-06-statement")).await;
    app.stop().await;
    c.close().await.expect("close");
}

#[tokio::test]
async fn an_enquiry_from_the_partner_directory() {
    let Some((_driver, c)) = start_browser().await else {
        return;
    };
    let app = TestApp::spawn(vouch_store::Backend::Sqlite).await;
    let tag = "directory";
    let api = app.staff(Role::Manager).await;
    for name in ["Northwind Agency", "Harbor Studio"] {
        api.post(
            "/api/v1/partners",
            serde_json::json!({ "name": name, "website": "https://agency.example", "contact_email": "ops@agency.example", "receives_referrals": true, "listed_in_directory": true }),
        )
        .await;
    }
    c.goto(&app.url("/find-a-partner"))
        .await
        .expect("directory");
    wait_text(&c, "#directory", "Harbor Studio").await;
    shot(&c, &format!("{tag}-01-list")).await;
    c.set_window_size(390, 844).await.expect("phone");
    shot(&c, &format!("{tag}-02-list-phone")).await;
    click(&c, "#directory li:last-child a[href^='/find-a-partner/']").await;
    wait_text(&c, "h1", "Ask Northwind Agency for help").await;
    fill(&c, "client_name", "Dana Home").await;
    fill(&c, "email", "dana@").await;
    click(&c, "input[name=joint_demo]").await;
    click(&c, "#send-enquiry").await;
    wait_text(&c, "#e-email", "").await;
    shot(&c, &format!("{tag}-03-refused-phone")).await;
    c.set_window_size(1280, 900).await.expect("desktop");
    fill(&c, "email", "dana@homegoods.example").await;
    click(&c, "#send-enquiry").await;
    wait_text(&c, "#notice-title", "Northwind Agency will be in touch").await;
    shot(&c, &format!("{tag}-04-sent")).await;
    let mail = newest_email(&app, "partner_referral_received", "ops@agency.example").await;
    assert!(
        mail["text_body"]
            .as_str()
            .unwrap_or_default()
            .contains("Dana Home")
    );
    app.stop().await;
    c.close().await.expect("close");
}

/// A manager's work on one participant on a phone-sized screen (390 px): the participants
/// list sorted by a header tap, a note, a block with its dialog, and the Undo in the flash
/// that follows. No step scrolls the page sideways; axe finds nothing serious.
#[tokio::test]
async fn participant_work_on_a_phone_with_sorting_block_and_undo() {
    let Some((_driver, c)) = start_browser().await else {
        return;
    };
    for backend in backends() {
        let tag = format!("participant-390-{}", backend.name());
        let app = TestApp::spawn(backend).await;
        app.create_user("manager@vouch.test", Role::Manager).await;
        let api = app.staff(Role::Manager).await;
        let (program, _) = common::live_program(&app, serde_json::json!({})).await;
        for (email, name) in [
            ("zoe@example.com", "Zoe"),
            ("amy@example.com", "Amy"),
            ("max@example.com", "Max"),
        ] {
            api.post(
                &format!("/api/v1/programs/{program}/participants"),
                serde_json::json!({ "email": email, "first_name": name }),
            )
            .await;
        }
        common::browser::set_width(&c, 390, 844).await;
        login(&c, &app, "manager@vouch.test").await;
        c.goto(&app.url(&format!("/admin/programs/{program}/participants")))
            .await
            .expect("participants");
        // Newest first, then A to Z by a tap on the Email header.
        let first = text(&c, "#participants tbody tr:first-child").await;
        assert!(first.contains("max@example.com"), "{first}");
        c.find(Locator::LinkText("Email"))
            .await
            .expect("header")
            .click()
            .await
            .expect("tap");
        wait_text(&c, "#participants th[aria-sort=ascending]", "Email").await;
        let first = text(&c, "#participants tbody tr:first-child").await;
        assert!(first.contains("amy@example.com"), "{first}");
        assert!(
            c.current_url()
                .await
                .expect("url")
                .as_str()
                .contains("sort=email")
        );
        assert_eq!(
            common::browser::sideways_scroll(&c).await,
            Vec::<String>::new()
        );
        shot(&c, &format!("{tag}-01-sorted")).await;

        c.find(Locator::LinkText("zoe@example.com"))
            .await
            .expect("zoe")
            .click()
            .await
            .expect("open");
        wait_text(&c, "h1", "Zoe").await;
        c.find(Locator::Css("#f-body"))
            .await
            .expect("note")
            .send_keys("Asked about her reward by phone")
            .await
            .expect("type");
        click(&c, "#add-note").await;
        wait_text(&c, ".flash", "Note added").await;
        wait_text(&c, "#notes", "Asked about her reward").await;

        // Block: the reason is required, the dialog says what happens, the flash offers Undo.
        click(&c, "#block").await;
        wait_text(&c, "#vouch-confirm-text", "stops crediting").await;
        click(&c, "#vouch-confirm-ok").await;
        wait_text(&c, "#e-reason", "required").await;
        fill(&c, "reason", "Signing up her own addresses").await;
        click(&c, "#block").await;
        wait_text(&c, "#vouch-confirm-text", "stops crediting").await;
        click(&c, "#vouch-confirm-ok").await;
        wait_text(&c, ".flash", "Blocked").await;
        wait_text(&c, "#blocked-notice", "counts no click").await;
        assert_eq!(
            common::browser::sideways_scroll(&c).await,
            Vec::<String>::new()
        );
        assert_eq!(
            common::browser::actions_out_of_reach(&c).await,
            Vec::<String>::new()
        );
        assert_eq!(common::browser::axe(&c).await, Vec::<String>::new());
        shot(&c, &format!("{tag}-02-blocked-with-undo")).await;
        click(&c, "#undo").await;
        wait_text(&c, ".flash", "Unblocked").await;
        assert!(
            c.find(Locator::Css("#blocked-notice")).await.is_err(),
            "the block is lifted"
        );
        wait_text(&c, "#notes", "Unblocked.").await;
        shot(&c, &format!("{tag}-03-undone")).await;
        common::browser::set_width(&c, 1280, 900).await;
        logout(&c).await;
        app.stop().await;
    }
}
