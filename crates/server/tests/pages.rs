//! Console forms and the public registration page, over plain HTTP.

mod common;

use common::{Api, TestApp, each_backend};
use reqwest::{Method, StatusCode};
use serde_json::json;
use vouch_domain::permission::{Role, Scope};

async fn form(api: &Api, path: &str, fields: &[(&str, &str)]) -> common::Reply {
    let csrf = api.csrf.clone().unwrap_or_default();
    let mut all: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    api.send(api.request(Method::POST, path).form(&all)).await
}

#[tokio::test]
async fn account_form_shows_errors_next_to_fields_and_saves_nothing() {
    each_backend(|app| async move {
        let staff = app.staff(Role::Staff).await;
        let bad = form(
            &staff,
            "/admin/accounts/new",
            &[
                ("name", "Acme"),
                ("email", "not-an-email"),
                ("owner_first_name", ""),
            ],
        )
        .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            bad.text.contains("id=\"e-email\""),
            "email error shown next to the field"
        );
        assert!(bad.text.contains("id=\"e-owner_first_name\""));
        assert!(
            bad.text.contains("value=\"Acme\""),
            "entered values are kept"
        );
        let admin = app.key_client(Scope::Admin).await;
        assert_eq!(
            admin.get("/api/v1/accounts").await.body["data"]
                .as_array()
                .map(Vec::len),
            Some(0)
        );

        let ok = form(
            &staff,
            "/admin/accounts/new",
            &[
                ("name", "Acme <b>Roofing</b>"),
                ("email", "ops@acme.example"),
                ("owner_first_name", "Ann"),
                ("owner_last_name", "Lee"),
                ("vendor_matrix", "on"),
            ],
        )
        .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER);
        let location = ok.headers["location"].to_str().expect("loc").to_string();
        let page = staff.get(&location).await;
        assert!(page.text.contains("created."), "flash message shown once");
        assert!(
            page.text.contains("Acme &#60;b&#62;Roofing&#60;/b&#62;")
                || page.text.contains("Acme &lt;b&gt;Roofing&lt;/b&gt;"),
            "names are escaped"
        );
        assert!(
            !staff.get(&location).await.text.contains("created."),
            "flash shown only once"
        );

        // A mangled pagination link shows a page, not an error.
        assert_eq!(
            staff
                .get("/admin/accounts?starting_after=abc&sort=name")
                .await
                .status,
            StatusCode::OK
        );
        assert_eq!(
            staff.get("/admin/setups/new?beneficiary_id=x").await.status,
            StatusCode::OK
        );
        let dup = form(
            &staff,
            "/admin/accounts/new",
            &[
                ("name", "Other"),
                ("email", "ops@acme.example"),
                ("owner_first_name", "A"),
                ("owner_last_name", "B"),
            ],
        )
        .await;
        assert_eq!(dup.status, StatusCode::CONFLICT);
        assert!(dup.text.contains("id=\"e-email\""));
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn clone_form_is_prefilled_by_the_convention() {
    each_backend(|app| async move {
        let staff = app.staff(Role::Staff).await;
        let id = staff
            .account("Vector Services - Contractor", "ops@vector.example")
            .await;
        let page = staff
            .get(&format!("/admin/accounts/{id}/clone?label=Vector"))
            .await;
        assert_eq!(page.status, StatusCode::OK);
        for expected in [
            "Vector Referral Super Customer",
            "VECTORREFERRALSUPERCUSTOMER",
            "vectorreferralsupercustomer@purchasingplatform.com",
            "Vector Referral",
            "Super Customer",
            "555.555.5555",
        ] {
            assert!(
                page.text.contains(&format!("value=\"{expected}\"")),
                "{expected} not pre-filled"
            );
        }
        // Saving keeps every field as edited on the form.
        let saved = form(
            &staff,
            &format!("/admin/accounts/{id}/clone"),
            &[
                ("beneficiary_label", "Vector"),
                ("name", "Vector Referral Super Customer"),
                ("code", "VECTORREFERRALSUPERCUSTOMER"),
                (
                    "email",
                    "vectorreferralsupercustomer@purchasingplatform.com",
                ),
                ("owner_first_name", "Vector Referral"),
                ("owner_last_name", "Super Customer"),
                ("owner_phone", "555.000.1234"),
                ("vendor_matrix", "on"),
                ("corporate_catalog", "on"),
            ],
        )
        .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
        let clone_id: i64 = saved.headers["location"]
            .to_str()
            .expect("loc")
            .rsplit('/')
            .next()
            .and_then(|s| s.parse().ok())
            .expect("id");
        let clone = staff.get(&format!("/api/v1/accounts/{clone_id}")).await;
        assert_eq!(clone.body["owner_phone"], "555.000.1234");
        assert_eq!(
            clone.body["whitelabeling"], false,
            "an unticked box is saved unticked"
        );
        let again = form(
            &staff,
            &format!("/admin/accounts/{id}/clone"),
            &[
                ("beneficiary_label", "Vector"),
                ("name", "Vector Referral Super Customer"),
                (
                    "email",
                    "vectorreferralsupercustomer@purchasingplatform.com",
                ),
                ("owner_first_name", "V"),
                ("owner_last_name", "S"),
            ],
        )
        .await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        app.stop().await;
    })
    .await;
}

async fn approved_super_customer(app: &TestApp, policy: serde_json::Value) -> i64 {
    let staff = app.staff(Role::Staff).await;
    let manager = app.staff(Role::Manager).await;
    let v = staff
        .account("Vector Services - Contractor", "ops@vector.example")
        .await;
    let mut overrides = json!({ "beneficiary_label": "Vector" });
    if let (Some(o), Some(p)) = (overrides.as_object_mut(), policy.as_object()) {
        o.extend(p.clone());
    }
    let s = staff
        .post(
            "/api/v1/referral-setups",
            json!({ "beneficiary_id": v, "super_customer": overrides }),
        )
        .await;
    assert_eq!(s.status, StatusCode::CREATED, "{}", s.text);
    let id = s.body["id"].as_str().expect("id");
    let done = manager
        .post(&format!("/api/v1/referral-setups/{id}/approve"), json!({}))
        .await;
    done.body["super_customer"]["id"].as_i64().expect("sc")
}

#[tokio::test]
async fn registration_link_creates_nested_accounts() {
    each_backend(|app| async move {
        let sc = approved_super_customer(&app, json!({})).await;
        let visitor = app.anonymous();
        let link = format!("/register?utm_source=login_page&utm_medium=register_button&utm_campaign=pp_login_page&utm_id=self_registration&utm_term=register&super_customer_id={sc}");
        let page = visitor.get(&link).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.text.contains("Register with Vector Services - Contractor"),
            "the page names the beneficiary, not the shell account: {}",
            page.text
        );
        assert!(!page.text.contains("Referral Super Customer"));

        let post = |fields: Vec<(&'static str, &'static str)>| {
            let visitor = visitor.clone();
            async move { visitor.send(visitor.request(Method::POST, &format!("/register?super_customer_id={sc}")).form(&fields)).await }
        };
        let bad = post(vec![("company", ""), ("email", "x")]).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        for f in ["company", "email", "first_name", "last_name"] {
            assert!(bad.text.contains(&format!("id=\"e-{f}\"")), "{f} error not shown");
        }
        let ok = post(vec![("company", "Northside Property Care"), ("email", "maya@northside.example"), ("first_name", "Maya"), ("last_name", "Ortiz")]).await;
        assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text);
        assert!(ok.text.contains("You are registered"));
        let dup = post(vec![("company", "Northside Again"), ("email", "maya@northside.example"), ("first_name", "Maya"), ("last_name", "Ortiz")]).await;
        assert_eq!(dup.status, StatusCode::CONFLICT);
        assert!(dup.text.contains("id=\"e-email\"") && dup.text.contains("already registered"));
        // Same company name again: the code gets a suffix instead of failing.
        let twin = post(vec![("company", "Northside Property Care"), ("email", "sam@northside.example"), ("first_name", "Sam"), ("last_name", "Reed")]).await;
        assert_eq!(twin.status, StatusCode::CREATED, "{}", twin.text);

        let admin = app.key_client(Scope::Admin).await;
        let subs = admin.get(&format!("/api/v1/accounts/{sc}/sub-customers")).await;
        let names: Vec<&str> = subs.body["data"].as_array().expect("data").iter().filter_map(|a| a["name"].as_str()).collect();
        assert_eq!(names, vec!["Northside Property Care", "Northside Property Care", "Vector Services - Contractor"]);
        let codes: Vec<&str> = subs.body["data"].as_array().expect("data").iter().filter_map(|a| a["code"].as_str()).collect();
        assert!(codes.contains(&"NORTHSIDEPROPERTYCARE-2"));
        let audit = admin.get("/api/v1/audit-events?action=account.registered").await;
        assert_eq!(audit.body["data"][0]["actor_kind"], "public");
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn registration_refusals_create_nothing() {
    each_backend(|app| async move {
        let admin = app.key_client(Scope::Admin).await;
        let visitor = app.anonymous();
        assert_eq!(visitor.get("/register").await.status, StatusCode::BAD_REQUEST);
        assert_eq!(visitor.get("/register?super_customer_id=abc").await.status, StatusCode::BAD_REQUEST);
        assert_eq!(visitor.get("/register?super_customer_id=424242").await.status, StatusCode::NOT_FOUND);
        // A super customer whose link the Management Team has not approved.
        let sc = admin.post("/api/v1/accounts", json!({ "name": "Pending Hub", "email": "hub@x.example", "owner_first_name": "H", "owner_last_name": "Q", "is_super_customer": true })).await;
        let sc = sc.body["id"].as_i64().expect("id");
        let page = visitor.get(&format!("/register?super_customer_id={sc}")).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);
        assert!(page.text.contains("not active"));
        let post = visitor
            .send(visitor.request(Method::POST, &format!("/register?super_customer_id={sc}")).form(&[("company", "Sneaky"), ("email", "s@x.example"), ("first_name", "S"), ("last_name", "N")]))
            .await;
        assert_eq!(post.status, StatusCode::NOT_FOUND);
        // Approving the link opens it; only managers may.
        let staff = app.staff(Role::Staff).await;
        assert_eq!(staff.post(&format!("/api/v1/accounts/{sc}/registration"), json!({ "approved": true })).await.status, StatusCode::FORBIDDEN);
        assert_eq!(admin.post(&format!("/api/v1/accounts/{sc}/registration"), json!({ "approved": true })).await.status, StatusCode::OK);
        assert_eq!(visitor.get(&format!("/register?super_customer_id={sc}")).await.status, StatusCode::OK);
        // A plain account's id is no registration link either.
        let plain = admin.account("Plain", "plain@x.example").await;
        assert_eq!(visitor.get(&format!("/register?super_customer_id={plain}")).await.status, StatusCode::NOT_FOUND);
        assert_eq!(admin.get(&format!("/api/v1/accounts/{sc}/sub-customers")).await.body["data"].as_array().map(Vec::len), Some(0));
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn channel_partner_links_send_people_to_the_partner() {
    each_backend(|app| async move {
        let sc = approved_super_customer(&app, json!({ "registration_policy": "channel_partner", "partner_site_url": "https://buildium.example/register", "name": "Buildium" })).await;
        let visitor = app.anonymous();
        let page = visitor.get(&format!("/register?super_customer_id={sc}")).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert!(page.text.contains("Register through Buildium"));
        assert!(page.text.contains("href=\"https://buildium.example/register\""));
        assert!(!page.text.contains("<form"));
        let post = visitor
            .send(visitor.request(Method::POST, &format!("/register?super_customer_id={sc}")).form(&[("company", "Sneaky"), ("email", "s@x.example"), ("first_name", "S"), ("last_name", "N")]))
            .await;
        assert_eq!(post.status, StatusCode::FORBIDDEN);
        let admin = app.key_client(Scope::Admin).await;
        assert_eq!(admin.get(&format!("/api/v1/accounts/{sc}/sub-customers")).await.body["data"].as_array().map(Vec::len), Some(1), "only the beneficiary");
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn generic_environments_register_without_referral_wording() {
    each_backend(|app| async move {
        let admin = app.key_client(Scope::Admin).await;
        let sc = admin
            .post("/api/v1/accounts", json!({ "name": "Self Registration", "email": "self@x.example", "owner_first_name": "S", "owner_last_name": "R", "is_super_customer": true, "registration_policy": "generic" }))
            .await;
        let sc = sc.body["id"].as_i64().expect("id");
        admin.post(&format!("/api/v1/accounts/{sc}/registration"), json!({ "approved": true })).await;
        let page = app.anonymous().get(&format!("/register?super_customer_id={sc}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.text.contains("Register for access"));
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn program_forms_show_errors_and_only_managers_see_go_live() {
    each_backend(|app| async move {
        let staff = app.staff(Role::Staff).await;
        let fields = |window: &'static str| {
            vec![
                ("name", "Spring"),
                ("landing_url", "https://example.com/join"),
                ("attribution_window_days", window),
                ("attribution_model", "last_click"),
                ("qualifying_event", "signup"),
                ("reward_hold_days", "0"),
                ("currency", "USD"),
            ]
        };
        let bad = form(&staff, "/admin/programs/new", &fields("thirty")).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.text.contains("id=\"e-attribution_window_days\""));
        let out_of_range = form(&staff, "/admin/programs/new", &fields("999")).await;
        assert!(out_of_range.text.contains("between 1 and 365"));
        let ok = form(&staff, "/admin/programs/new", &fields("30")).await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER);
        let location = ok.headers["location"].to_str().expect("loc").to_string();
        let page = staff.get(&location).await;
        assert!(
            page.text
                .contains("Putting the program live is for a manager")
                && !page.text.contains("id=\"go-live\"")
        );
        let sneaky = form(&staff, &format!("{location}/status"), &[("status", "live")]).await;
        assert_eq!(sneaky.status, StatusCode::FORBIDDEN);
        let manager = app.staff(Role::Manager).await;
        assert!(manager.get(&location).await.text.contains("id=\"go-live\""));
        let live = form(
            &manager,
            &format!("{location}/status"),
            &[("status", "live")],
        )
        .await;
        assert_eq!(live.status, StatusCode::SEE_OTHER);
        let page = manager.get(&location).await;
        assert!(page.text.contains("The program is now live.") && page.text.contains(">Live<"));
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn program_templates_are_edited_with_a_preview_in_the_console() {
    each_backend(|app| async move {
        let admin = app.staff(Role::Admin).await;
        let p = admin
            .post(
                "/api/v1/programs",
                json!({ "name": "Friends", "landing_url": "https://example.com" }),
            )
            .await;
        let id = p.body["id"].as_str().expect("id").to_string();
        let list = admin
            .get(&format!("/admin/programs/{id}/email-templates"))
            .await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(
            list.text.contains("participant_welcome")
                && !list.text.contains("webhook_endpoint_disabled")
        );
        let path = format!("/admin/programs/{id}/email-templates/participant_welcome");
        let fields = |subject: &'static str, html: &'static str, action: &'static str| {
            vec![
                ("subject", subject),
                ("text", "Share {{ referral_link }}"),
                ("html", html),
                ("action", action),
            ]
        };
        // A preview renders the sample participant and saves nothing.
        let preview = form(
            &admin,
            &path,
            &fields(
                "Hi {{ participant.first_name }}",
                "<p>{{ referral_link }}</p>",
                "preview",
            ),
        )
        .await;
        assert_eq!(preview.status, StatusCode::OK);
        assert!(preview.text.contains("id=\"preview\"") && preview.text.contains("Hi Ann"));
        assert!(
            admin
                .get(&format!(
                    "/api/v1/programs/{id}/email-templates/participant_welcome"
                ))
                .await
                .body["source"]
                == "default"
        );
        // An error names the part and line; nothing is saved.
        let bad = form(&admin, &path, &fields("Hi", "<p>\n{{ nope }}</p>", "save")).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            bad.text
                .contains("The html template cannot be used: line 2"),
            "{}",
            bad.text
        );
        let saved = form(
            &admin,
            &path,
            &fields(
                "Welcome to {{ program.name }}",
                "<p>{{ referral_link }}</p>",
                "save",
            ),
        )
        .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER);
        let page = admin.get(&path).await;
        assert!(
            page.text.contains("this program&#39;s") || page.text.contains("this program's"),
            "{}",
            page.text
        );
        let api = admin
            .get(&format!(
                "/api/v1/programs/{id}/email-templates/participant_welcome"
            ))
            .await;
        assert_eq!(api.body["source"], "program");
        // Staff notices are not per program.
        assert_eq!(
            admin
                .get(&format!(
                    "/admin/programs/{id}/email-templates/webhook_endpoint_disabled"
                ))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        app.stop().await;
    })
    .await;
}

/// A page's query holding a control character is refused whole (400), never a database error.
#[tokio::test]
async fn control_characters_in_page_queries_are_refused() {
    each_backend(|app| async move {
        let staff = app.staff(Role::Viewer).await;
        for path in ["/admin/accounts?search=%00", "/admin/audit?actor=%1B"] {
            let r = staff.get(path).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.text);
        }
        let fine = staff.get("/admin/accounts?search=caf%C3%A9").await;
        assert_eq!(fine.status, StatusCode::OK);
        app.stop().await;
    })
    .await;
}
