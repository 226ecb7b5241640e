//! Partner companies end to end on both stores: what each kind must say, names unique whatever
//! their case, filters, patches checked whole, the outbound guard on a buyer's Post URL,
//! commission terms per program, CSV import, events, and the console pages.

mod common;

use common::{TestApp, each_backend};
use reqwest::StatusCode;
use serde_json::{Value, json};
use vouch_domain::permission::{Role, Scope};

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

async fn program(app: &TestApp) -> String {
    let manager = app.staff(Role::Manager).await;
    let p = manager
        .post("/api/v1/programs", json!({ "name": format!("Partners {}", vouch_domain::id::new_id("x")), "landing_url": "https://shop.example.com" }))
        .await;
    id(&p.body)
}

async fn put(api: &common::Api, path: &str, body: Value) -> common::Reply {
    let req = api.request(reqwest::Method::PUT, path).json(&body);
    api.send(req).await
}

#[tokio::test]
async fn partners_of_every_kind_through_the_api() {
    each_backend(|app| async move {
        let staff = app.staff(Role::Staff).await;
        let manager = app.staff(Role::Manager).await;
        let viewer = app.key_client(Scope::Read).await;

        // An agency that refers and receives, looked after by a staff user.
        let me = staff.get("/api/v1/me").await;
        let manager_id = me.body["id"].as_str().expect("my id").to_string();
        let agency = json!({ "name": "Northwind Agency", "website": "https://northwind.example", "contact_name": "Nora West", "contact_email": "nora@northwind.example", "refers_clients": true, "receives_referrals": true, "listed_in_directory": true, "manager_id": manager_id });
        let created = staff.post("/api/v1/partners", agency).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        assert_eq!(created.body["status"], "active");
        assert_eq!(created.body["notification_emails"], json!([]));
        assert!(created.body["delivery_method"].is_null());
        let agency = id(&created.body);

        // Names are unique whatever their case.
        let again = staff.post("/api/v1/partners", json!({ "name": "NORTHWIND agency", "refers_clients": true })).await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);

        // A buyer names how it receives customers; every missing field at once.
        let bare = staff.post("/api/v1/partners", json!({ "name": "Test Customer BUYER", "buys_customers": true })).await;
        assert_eq!(bare.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bare.text);
        assert_eq!(bare.fields(), vec!["delivery_method", "notification_emails"]);
        let post = json!({ "name": "Test Customer BUYER", "buys_customers": true, "delivery_method": "api_post", "notification_emails": ["sales@buyer.example"] });
        let no_url = staff.post("/api/v1/partners", post.clone()).await;
        assert_eq!(no_url.fields(), vec!["post_url", "source_id"]);
        let mut internal = post.clone();
        internal["post_url"] = json!("http://10.1.2.3/leads");
        internal["source_id"] = json!("4471");
        let refused = staff.post("/api/v1/partners", internal).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.text);
        assert_eq!(refused.fields(), vec!["post_url"]);
        let mut good = post.clone();
        good["post_url"] = json!("https://crm.buyer.example/leads");
        good["source_id"] = json!("4471");
        let buyer = staff.post("/api/v1/partners", good).await;
        assert_eq!(buyer.status, StatusCode::CREATED, "{}", buyer.text);
        assert_eq!(buyer.body["delivery_method"], "api_post");
        let buyer = id(&buyer.body);
        let by_email = staff.post("/api/v1/partners", json!({ "name": "Mail Buyer", "buys_customers": true, "delivery_method": "email", "notification_emails": ["leads@mail.example", "ops@mail.example"] })).await;
        assert_eq!(by_email.status, StatusCode::CREATED, "{}", by_email.text);

        // Nothing that does nothing; a manager must be an active staff user.
        let idle = staff.post("/api/v1/partners", json!({ "name": "Idle" })).await;
        assert_eq!(idle.fields(), vec!["refers_clients"]);
        let ghost = staff.post("/api/v1/partners", json!({ "name": "Ghost", "refers_clients": true, "manager_id": "usr_missing" })).await;
        assert_eq!(ghost.fields(), vec!["manager_id"]);

        // Lists filter by capability, status and manager, and search.
        let names = |v: &Value| -> Vec<String> {
            v["data"].as_array().expect("data").iter().map(|p| p["name"].as_str().unwrap_or_default().to_string()).collect()
        };
        let buyers = viewer.get("/api/v1/partners?does=buys_customers").await;
        assert_eq!(names(&buyers.body), vec!["Mail Buyer", "Test Customer BUYER"]);
        let found = viewer.get("/api/v1/partners?search=NORA").await;
        assert_eq!(names(&found.body), vec!["Northwind Agency"]);
        let mine = viewer.get(&format!("/api/v1/partners?manager_id={manager_id}")).await;
        assert_eq!(names(&mine.body), vec!["Northwind Agency"]);
        let bad = viewer.get("/api/v1/partners?does=sells_hats").await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

        // A patch is checked whole: a buyer that stops buying drops its buyer fields with it.
        let half = staff.patch(&format!("/api/v1/partners/{buyer}"), json!({ "buys_customers": false, "refers_clients": true })).await;
        assert_eq!(half.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", half.text);
        let whole = staff.patch(&format!("/api/v1/partners/{buyer}"), json!({ "buys_customers": false, "refers_clients": true, "delivery_method": null, "post_url": "", "source_id": "", "notification_emails": [], "status": "suspended" })).await;
        assert_eq!(whole.status, StatusCode::OK, "{}", whole.text);
        assert_eq!(whole.body["status"], "suspended");
        assert!(whole.body["post_url"].is_null());
        let suspended = viewer.get("/api/v1/partners?status=suspended").await;
        assert_eq!(names(&suspended.body), vec!["Test Customer BUYER"]);

        // Commission terms per program: managers set them; staff may not.
        let program = program(&app).await;
        let path = format!("/api/v1/partners/{agency}/commission-terms/{program}");
        assert_eq!(put(&staff, &path, json!({ "percentage_bps": 1000 })).await.status, StatusCode::FORBIDDEN);
        let both = put(&manager, &path, json!({ "percentage_bps": 1000, "fixed_amount": 500 })).await;
        assert_eq!(both.fields(), vec!["fixed_amount"]);
        let set = put(&manager, &path, json!({ "percentage_bps": 1000 })).await;
        assert_eq!(set.status, StatusCode::OK, "{}", set.text);
        assert_eq!(set.body["description"], "10 % of the referral's value");
        let set = put(&manager, &path, json!({ "fixed_amount": 50_000, "currency": "usd" })).await;
        assert_eq!(set.body["currency"], "USD", "{}", set.text);
        let terms = viewer.get(&format!("/api/v1/partners/{agency}/commission-terms")).await;
        assert_eq!(terms.body["data"].as_array().map(Vec::len), Some(1), "{}", terms.text);
        assert_eq!(terms.body["data"][0]["description"], "USD 500.00 per won referral");
        let nowhere = manager.send(manager.request(reqwest::Method::PUT, &format!("/api/v1/partners/{agency}/commission-terms/prg_missing")).json(&json!({ "percentage_bps": 5 }))).await;
        assert_eq!(nowhere.status, StatusCode::NOT_FOUND);
        let removed = manager.send(manager.request(reqwest::Method::DELETE, &path)).await;
        assert_eq!(removed.status, StatusCode::NO_CONTENT);
        let twice = manager.send(manager.request(reqwest::Method::DELETE, &path)).await;
        assert_eq!(twice.status, StatusCode::NOT_FOUND);

        // Every change is announced and audited.
        let admin = app.key_client(Scope::Admin).await;
        let audit = admin.get("/api/v1/audit-events?limit=100").await;
        let actions: Vec<&str> = audit.body["data"].as_array().expect("audit").iter().filter_map(|e| e["action"].as_str()).collect();
        for action in ["partner.created", "partner.updated", "partner.commission_set", "partner.commission_removed"] {
            assert!(actions.contains(&action), "{action} in {actions:?}");
        }
    })
    .await;
}

#[tokio::test]
async fn partners_import_from_csv_and_the_console_pages() {
    each_backend(|app| async move {
        let staff = app.staff(Role::Staff).await;
        let csv = "Name,Does,Website,Delivery_Method,Notification_Emails\n\
            Northwind,refers_clients;receives_referrals,https://northwind.example,,\n\
            Buyer One,buys_customers,,email,a@b.example;c@d.example\n\
            ,refers_clients,,,\n\
            Odd,sells_hats,,,\n";
        let dry = staff
            .post(
                "/api/v1/partners/imports",
                json!({ "csv": csv, "dry_run": true }),
            )
            .await;
        assert_eq!(dry.status, StatusCode::OK, "{}", dry.text);
        assert_eq!(
            (
                dry.body["created"].as_u64(),
                dry.body["errors"].as_array().map(Vec::len)
            ),
            (Some(2), Some(2))
        );
        assert_eq!(
            staff.get("/api/v1/partners").await.body["data"],
            json!([]),
            "a dry run saves nothing"
        );
        let done = staff
            .post("/api/v1/partners/imports", json!({ "csv": csv }))
            .await;
        assert_eq!(done.body["created"], 2, "{}", done.text);
        let again = staff
            .post("/api/v1/partners/imports", json!({ "csv": csv }))
            .await;
        assert_eq!(
            (
                again.body["created"].as_u64(),
                again.body["already_present"].as_u64()
            ),
            (Some(0), Some(2))
        );
        let no_name = staff
            .post("/api/v1/partners/imports", json!({ "csv": "website\nx\n" }))
            .await;
        assert_eq!(no_name.fields(), vec!["csv"]);

        // The console: the list, a refused form with errors by field, a saved edit.
        let list = staff.get("/admin/partners?does=buys_customers").await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(
            list.text.contains("Buyer One") && !list.text.contains(">Northwind<"),
            "{}",
            list.text
        );
        let csrf = staff.csrf.clone().expect("csrf");
        let form = |pairs: &[(&str, &str)]| {
            let mut v: Vec<(String, String)> = vec![("csrf".into(), csrf.clone())];
            v.extend(pairs.iter().map(|(k, x)| (k.to_string(), x.to_string())));
            v
        };
        let req = staff
            .request(reqwest::Method::POST, "/admin/partners/new")
            .form(&form(&[
                ("name", "Console Buyer"),
                ("buys_customers", "on"),
                ("delivery_method", "api_post"),
                ("status", "active"),
            ]));
        let page = staff.send(req).await;
        assert_eq!(
            page.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            page.text
        );
        for field in ["post_url", "source_id", "notification_emails"] {
            assert!(
                page.text.contains(&format!(r#"id="e-{field}""#)),
                "{field}: {}",
                page.text
            );
        }
        assert!(page.text.contains("Nothing was saved"));
        let req = staff
            .request(reqwest::Method::POST, "/admin/partners/new")
            .form(&form(&[
                ("name", "Console Buyer"),
                ("buys_customers", "on"),
                ("delivery_method", "email"),
                (
                    "notification_emails",
                    "one@buyer.example\r\ntwo@buyer.example",
                ),
                ("status", "active"),
            ]));
        let saved = staff.send(req).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
        let at = saved
            .headers
            .get("location")
            .and_then(|l| l.to_str().ok())
            .expect("location")
            .to_string();
        let shown = staff.get(&at).await;
        assert!(
            shown.text.contains("one@buyer.example, two@buyer.example"),
            "{}",
            shown.text
        );
        assert!(
            shown.text.contains("A manager sets commissions."),
            "staff see the terms but do not set them"
        );
    })
    .await;
}
