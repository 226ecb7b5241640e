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

/// Referrals both ways: sent to a partner (the partner is emailed), submitted by one (its
/// manager is emailed), a possible duplicate flagged and decided once, edits kept as history
/// with a stage change announced, and the list filtered, searched on every field but the
/// date, sorted by any column and counted.
#[tokio::test]
async fn partner_referrals_both_ways_with_history_and_duplicates() {
    each_backend(|app| async move {
        let staff = app.staff(Role::Staff).await;
        let manager = app.staff(Role::Manager).await;
        let me = manager.get("/api/v1/me").await;
        let manager_id = me.body["id"].as_str().expect("id").to_string();
        let manager_email = me.body["label"].as_str().unwrap_or_default().to_string();
        let agency = staff
            .post("/api/v1/partners", json!({ "name": "Northwind Agency", "contact_email": "ops@northwind.example", "refers_clients": true, "receives_referrals": true, "manager_id": manager_id }))
            .await;
        let agency = id(&agency.body);
        let buyer = staff
            .post("/api/v1/partners", json!({ "name": "Buyer Only", "buys_customers": true, "delivery_method": "email", "notification_emails": ["b@buyer.example"] }))
            .await;
        let buyer = id(&buyer.body);

        // Sent to the partner: New, emailed to its contact.
        let sent = staff
            .post("/api/v1/partner-referrals", json!({ "partner_id": agency, "direction": "to_partner", "client_name": "Dana Home", "company": "Home Goods Ltd", "email": "dana@homegoods.example", "needs": ["plan_advice", "joint_demo"], "value": 250_000, "currency": "USD" }))
            .await;
        assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.text);
        assert_eq!(sent.body["stage"], "new");
        assert_eq!(sent.body["duplicate_status"], "unique");
        assert_eq!(sent.body["partner_name"], "Northwind Agency");
        let first_ref = sent.body["reference"].as_str().expect("reference").to_string();
        assert!(first_ref.starts_with("R-"), "{first_ref}");
        let sent = id(&sent.body);

        // A partner that does not receive referrals cannot be sent one; nor one without a way
        // to reach the client.
        let refused = staff.post("/api/v1/partner-referrals", json!({ "partner_id": buyer, "direction": "to_partner", "client_name": "X", "email": "x@x.example" })).await;
        assert_eq!((refused.status, refused.body["code"].as_str()), (StatusCode::CONFLICT, Some("partner_cannot")));
        let unreachable = staff.post("/api/v1/partner-referrals", json!({ "partner_id": agency, "direction": "to_us", "client_name": "Nobody" })).await;
        assert_eq!(unreachable.fields(), vec!["email"]);

        // The partner introduces a client at the same company: a possible duplicate, allocated
        // to the partner manager, who is emailed.
        let submitted = staff
            .post("/api/v1/partner-referrals", json!({ "partner_id": agency, "direction": "to_us", "client_name": "Eli Home", "email": "eli@homegoods.example", "notes": "Wants a demo in March" }))
            .await;
        assert_eq!(submitted.status, StatusCode::CREATED, "{}", submitted.text);
        assert_eq!(submitted.body["duplicate_status"], "suspected");
        assert_eq!(submitted.body["duplicate_of"], json!(sent));
        assert_eq!(submitted.body["manager_id"], json!(manager_id));
        let submitted = id(&submitted.body);
        let admin = app.key_client(Scope::Admin).await;
        let mails = admin.get("/api/v1/emails?limit=100").await;
        let kinds: Vec<(String, String)> = mails.body["data"].as_array().expect("mails").iter()
            .map(|m| (m["kind"].as_str().unwrap_or_default().to_string(), m["to_address"].as_str().unwrap_or_default().to_string()))
            .collect();
        assert!(kinds.contains(&("partner_referral_received".into(), "ops@northwind.example".into())), "{kinds:?}");
        assert!(kinds.contains(&("partner_referral_submitted".into(), manager_email.clone())), "{kinds:?}");

        // Decided once.
        let path = format!("/api/v1/partner-referrals/{submitted}/duplicate");
        let decided = staff.post(&path, json!({ "decision": "cleared" })).await;
        assert_eq!(decided.body["duplicate_status"], "cleared", "{}", decided.text);
        let again = staff.post(&path, json!({ "decision": "confirmed" })).await;
        assert_eq!((again.status, again.body["code"].as_str()), (StatusCode::CONFLICT, Some("already_decided")));

        // Edits: each change a line of history; the stage change is announced.
        let edited = staff.patch(&format!("/api/v1/partner-referrals/{sent}"), json!({ "stage": "in_progress", "value": 300_000, "notes": "Called on Monday" })).await;
        assert_eq!(edited.status, StatusCode::OK, "{}", edited.text);
        assert_eq!(edited.body["stage"], "in_progress");
        let bad = staff.patch(&format!("/api/v1/partner-referrals/{sent}"), json!({ "value": 5, "currency": "US" })).await;
        assert_eq!(bad.fields(), vec!["currency"]);
        let shown = staff.get(&format!("/api/v1/partner-referrals/{sent}")).await;
        let history: Vec<(String, Option<String>, Option<String>)> = shown.body["history"].as_array().expect("history").iter()
            .map(|c| (c["field"].as_str().unwrap_or_default().to_string(), c["from"].as_str().map(str::to_string), c["to"].as_str().map(str::to_string)))
            .collect();
        assert_eq!(history, vec![
            ("created".into(), None, Some("Us → partner".into())),
            ("stage".into(), Some("New".into()), Some("In Progress".into())),
            ("value".into(), Some("USD 2500.00".into()), Some("USD 3000.00".into())),
            ("notes".into(), None, Some("Called on Monday".into())),
        ]);
        let audit = admin.get("/api/v1/audit-events?limit=100").await;
        assert!(audit.text.contains("partner_referral.updated"), "{}", audit.text);

        // The list: both directions, search every field but the date, sort, totals.
        let list = |q: &str| {
            let staff = &staff;
            let q = q.to_string();
            async move { staff.get(&format!("/api/v1/partner-referrals?{q}")).await }
        };
        let clients = |v: &Value| -> Vec<String> {
            v["data"].as_array().expect("data").iter().map(|r| r["client_name"].as_str().unwrap_or_default().to_string()).collect()
        };
        let all = list("").await;
        assert_eq!(all.body["total"], 2, "{}", all.text);
        assert_eq!(clients(&all.body), vec!["Eli Home", "Dana Home"], "newest number first");
        assert_eq!(clients(&list("sort=client_name").await.body), vec!["Dana Home", "Eli Home"]);
        assert_eq!(clients(&list("sort=-value").await.body), vec!["Dana Home", "Eli Home"]);
        assert_eq!(clients(&list("direction=to_us").await.body), vec!["Eli Home"]);
        assert_eq!(clients(&list("search=march").await.body), vec!["Eli Home"], "notes are searched");
        assert_eq!(clients(&list(&format!("search={first_ref}")).await.body), vec!["Dana Home"], "the reference finds it");
        assert_eq!(clients(&list("search=in%20progress").await.body), vec!["Dana Home"], "the stage as it reads");
        assert_eq!(clients(&list("search=northwind").await.body).len(), 2, "the partner's name");
        assert_eq!(list("sort=colour").await.fields(), vec!["sort"]);
        let page = list("sort=client_name&limit=1").await;
        assert_eq!((clients(&page.body), page.body["total"].as_i64()), (vec!["Dana Home".to_string()], Some(2)));
        let cursor = page.body["next_cursor"].as_str().expect("cursor").to_string();
        let next = list(&format!("sort=client_name&limit=1&starting_after={cursor}")).await;
        assert_eq!(clients(&next.body), vec!["Eli Home"]);
        assert_eq!(next.body["has_more"], false);

        // The console: sortable headers, the referral page with its history.
        let page = staff.get("/admin/partner-referrals?sort=-value").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.text.contains(r#"aria-sort="descending""#), "{}", page.text);
        assert!(page.text.contains("2 of 2 referral(s)"), "{}", page.text);
        let shown = staff.get(&format!("/admin/partner-referrals/{sent}")).await;
        assert!(shown.text.contains("New → In Progress"), "{}", shown.text);
        let csrf = staff.csrf.clone().expect("csrf");
        let req = staff.request(reqwest::Method::POST, &format!("/admin/partner-referrals/{sent}")).form(&[("csrf", csrf.as_str()), ("stage", "won"), ("value", "abc"), ("currency", "USD"), ("notes", "")]);
        let refused = staff.send(req).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.text.contains(r#"id="e-value""#), "{}", refused.text);
        let req = staff.request(reqwest::Method::POST, &format!("/admin/partner-referrals/{sent}")).form(&[("csrf", csrf.as_str()), ("stage", "won"), ("value", "3100.00"), ("currency", "USD"), ("notes", "Signed")]);
        let saved = staff.send(req).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
        let won = staff.get(&format!("/api/v1/partner-referrals/{sent}")).await;
        assert_eq!((won.body["stage"].as_str(), won.body["value"].as_i64()), (Some("won"), Some(310_000)));
        // The search reads what the edit wrote: the new notes and the stage as it reads.
        for term in ["signed", "Won", "310000"] {
            let found = staff.get(&format!("/api/v1/partner-referrals?search={term}")).await;
            let ids: Vec<&str> = found.body["data"].as_array().expect("data").iter().filter_map(|r| r["id"].as_str()).collect();
            assert!(ids.contains(&sent.as_str()), "{term}: {}", found.text);
        }
    })
    .await;
}

#[tokio::test]
async fn the_public_directory_takes_enquiries_for_listed_partners() {
    each_backend(|app| async move {
        let staff = app.staff(Role::Staff).await;
        let listed = staff
            .post("/api/v1/partners", json!({ "name": "Northwind Agency", "website": "https://northwind.example", "contact_email": "ops@northwind.example", "receives_referrals": true, "listed_in_directory": true }))
            .await;
        let listed = id(&listed.body);
        let hidden = staff
            .post("/api/v1/partners", json!({ "name": "Quiet Agency", "contact_email": "q@quiet.example", "receives_referrals": true }))
            .await;
        let hidden = id(&hidden.body);
        let public = app.anonymous();

        // Only listed, active partners that receive referrals are shown, and reachable.
        let page = public.get("/find-a-partner").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.text.contains("Northwind Agency") && !page.text.contains("Quiet Agency"), "{}", page.text);
        assert_eq!(public.get(&format!("/find-a-partner/{hidden}")).await.status, StatusCode::NOT_FOUND);
        let form = public.get(&format!("/find-a-partner/{listed}")).await;
        assert!(form.text.contains("Ask Northwind Agency for help"), "{}", form.text);

        // Refused next to each field; nothing recorded.
        let req = public
            .request(reqwest::Method::POST, &format!("/find-a-partner/{listed}"))
            .form(&[("client_name", ""), ("email", "dana@"), ("plan_advice", "on")]);
        let refused = public.send(req).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.text);
        for field in ["client_name", "email"] {
            assert!(refused.text.contains(&format!(r#"id="e-{field}""#)), "{field}: {}", refused.text);
        }
        assert!(refused.text.contains("checked"), "the ticked need stays ticked");
        let none = staff.get("/api/v1/partner-referrals").await;
        assert_eq!(none.body["total"], 0);

        // An enquiry is a referral to the partner, New, and the partner is emailed.
        let req = public
            .request(reqwest::Method::POST, &format!("/find-a-partner/{listed}"))
            .form(&[("client_name", "Dana Home"), ("company", "Home Goods"), ("email", "dana@homegoods.example"), ("joint_demo", "on"), ("notes", "Moving shops in spring")]);
        let sent = public.send(req).await;
        assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.text);
        assert!(sent.text.contains("Northwind Agency will be in touch"), "{}", sent.text);
        let list = staff.get(&format!("/api/v1/partner-referrals?partner_id={listed}")).await;
        let r = &list.body["data"][0];
        assert_eq!(r["direction"], "to_partner");
        assert_eq!(r["stage"], "new");
        assert_eq!(r["needs"], json!(["joint_demo"]));
        assert_eq!(r["submitted_by"], "directory enquiry");
        let admin = app.key_client(Scope::Admin).await;
        let mails = admin.get("/api/v1/emails?limit=100").await;
        assert!(
            mails.body["data"].as_array().expect("mails").iter().any(|m| m["kind"] == "partner_referral_received" && m["to_address"] == "ops@northwind.example"),
            "{}",
            mails.text
        );

        // Unlisting (or suspending) takes the partner off at once.
        staff.patch(&format!("/api/v1/partners/{listed}"), json!({ "listed_in_directory": false })).await;
        let req = public
            .request(reqwest::Method::POST, &format!("/find-a-partner/{listed}"))
            .form(&[("client_name", "Eli"), ("email", "eli@ward.example")]);
        assert_eq!(public.send(req).await.status, StatusCode::NOT_FOUND);
        assert!(!public.get("/find-a-partner").await.text.contains("Northwind"));
    })
    .await;
}

#[tokio::test]
async fn a_won_referral_earns_its_partner_a_commission_for_review() {
    each_backend(|app| async move {
        let staff = app.staff(Role::Staff).await;
        let manager = app.staff(Role::Manager).await;
        let program = program(&app).await;
        let agency = staff
            .post("/api/v1/partners", json!({ "name": "Northwind Agency", "contact_email": "ops@northwind.example", "refers_clients": true }))
            .await;
        let agency = id(&agency.body);
        let set = put(&manager, &format!("/api/v1/partners/{agency}/commission-terms/{program}"), json!({ "percentage_bps": 1000 })).await;
        assert_eq!(set.status, StatusCode::OK, "{}", set.text);
        let referral = staff
            .post("/api/v1/partner-referrals", json!({ "partner_id": agency, "direction": "to_us", "client_name": "Dana Home", "email": "dana@homegoods.example", "value": 310_000, "currency": "USD" }))
            .await;
        let referral = id(&referral.body);
        let path = format!("/api/v1/partner-referrals/{referral}");

        // In progress earns nothing; won with a value earns 10 % of it, ready for review.
        staff.patch(&path, json!({ "stage": "in_progress" })).await;
        assert_eq!(staff.get("/api/v1/commissions").await.body["data"], json!([]));
        let won = staff.patch(&path, json!({ "stage": "won" })).await;
        assert_eq!(won.status, StatusCode::OK, "{}", won.text);
        let list = staff.get(&format!("/api/v1/commissions?partner_id={agency}&status=ready_for_review")).await;
        let c = &list.body["data"][0];
        assert_eq!((c["amount"].as_i64(), c["currency"].as_str()), (Some(31_000), Some("USD")), "{}", list.text);
        assert_eq!(c["referral_value"], 310_000);
        assert_eq!(c["percentage_bps"], 1000);
        assert_eq!(c["program_id"], json!(program));
        let commission = id(c);
        assert_eq!(staff.get(&format!("/api/v1/commissions/{commission}")).await.body["referral_id"], json!(referral));
        let page = staff.get(&format!("/admin/partner-referrals/{referral}")).await;
        assert!(page.text.contains("$310.00 (10 % of $3,100.00)") && page.text.contains("Ready for review"), "{}", page.text);
        assert!(!page.text.contains("approve-commission"), "staff do not decide");
        let page = manager.get(&format!("/admin/partner-referrals/{referral}")).await;
        assert!(page.text.contains("approve-commission"), "{}", page.text);

        // Owed to a contact standing for the partner, created once.
        let payee = staff.get(&format!("/api/v1/people/{}", c["payee_id"].as_str().expect("payee"))).await;
        assert_eq!(payee.body["name"], "Northwind Agency", "{}", payee.text);
        assert_eq!(payee.body["kind"], "contact");

        // A corrected value while Won replaces the commission waiting for review.
        let corrected = staff.patch(&path, json!({ "value": 320_000 })).await;
        assert_eq!(corrected.status, StatusCode::OK, "{}", corrected.text);
        let replaced = staff.get(&format!("/api/v1/commissions/{commission}")).await;
        assert_eq!(replaced.body["status"], "cancelled", "{}", replaced.text);
        let now = staff.get("/api/v1/commissions?status=ready_for_review").await;
        assert_eq!(now.body["data"][0]["amount"], 32_000, "{}", now.text);
        assert_eq!(now.body["data"][0]["referral_currency"], "USD");
        let commission = id(&now.body["data"][0]);

        // Leaving Won before review cancels it; won again, a new one.
        staff.patch(&path, json!({ "stage": "lost" })).await;
        let gone = staff.get(&format!("/api/v1/commissions/{commission}")).await;
        assert_eq!(gone.body["status"], "cancelled", "{}", gone.text);
        staff.patch(&path, json!({ "stage": "won" })).await;
        let again = staff.get("/api/v1/commissions?status=ready_for_review").await;
        let again = &again.body["data"][0];
        assert_ne!(id(again), commission);
        assert_eq!(again["payee_id"], c["payee_id"], "the same contact");

        // Referrals we sent, and partners without terms, earn nothing.
        let other = staff.post("/api/v1/partners", json!({ "name": "Plain Agency", "refers_clients": true, "receives_referrals": true })).await;
        let other = id(&other.body);
        for (partner, direction) in [(&other, "to_us"), (&agency, "to_partner")] {
            if partner == &agency {
                staff.patch(&format!("/api/v1/partners/{agency}"), json!({ "receives_referrals": true })).await;
            }
            let r = staff
                .post("/api/v1/partner-referrals", json!({ "partner_id": partner, "direction": direction, "client_name": "Eli", "phone": "555 0101", "value": 1000, "currency": "USD" }))
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
            staff.patch(&format!("/api/v1/partner-referrals/{}", id(&r.body)), json!({ "stage": "won" })).await;
        }
        let all = staff.get("/api/v1/commissions").await;
        assert_eq!(all.body["data"].as_array().map(Vec::len), Some(3), "two cancelled, one in review: {}", all.text);

        // Announced and audited.
        let admin = app.key_client(Scope::Admin).await;
        let audit = admin.get("/api/v1/audit-events?limit=100").await;
        let actions: Vec<&str> = audit.body["data"].as_array().expect("audit").iter().filter_map(|e| e["action"].as_str()).collect();
        for action in ["commission.created", "commission.cancelled"] {
            assert!(actions.contains(&action), "{action} in {actions:?}");
        }
        assert_eq!(staff.get("/api/v1/commissions/com_missing").await.status, StatusCode::NOT_FOUND);
    })
    .await;
}

#[tokio::test]
async fn an_approved_commission_is_paid_through_the_ledger_and_clawed_back_when_lost() {
    each_backend(|app| async move {
        let staff = app.staff(Role::Staff).await;
        let manager = app.staff(Role::Manager).await;
        let program = program(&app).await;
        let agency = staff
            .post("/api/v1/partners", json!({ "name": "Northwind Agency", "contact_email": "ops@northwind.example", "refers_clients": true }))
            .await;
        let agency = id(&agency.body);
        put(&manager, &format!("/api/v1/partners/{agency}/commission-terms/{program}"), json!({ "fixed_amount": 50_000, "currency": "USD" })).await;
        let won = |client: &'static str| {
            let staff = staff.clone();
            let agency = agency.clone();
            async move {
                let r = staff
                    .post("/api/v1/partner-referrals", json!({ "partner_id": agency, "direction": "to_us", "client_name": client, "phone": "555 0100", "value": 900_000, "currency": "USD" }))
                    .await;
                let r = id(&r.body);
                staff.patch(&format!("/api/v1/partner-referrals/{r}"), json!({ "stage": "won" })).await;
                let c = staff.get(&format!("/api/v1/commissions?status=ready_for_review&partner_id={agency}")).await;
                let c = c.body["data"].as_array().expect("data").iter().find(|c| c["referral_id"] == json!(r)).cloned().expect("commission");
                (r, id(&c), c)
            }
        };
        let (first_referral, first, c) = won("Dana Home").await;
        assert_eq!(c["amount"], 50_000, "fixed terms: the fixed amount");
        assert!(c["percentage_bps"].is_null());

        // Review is a manager's; once only.
        let refused = staff.post(&format!("/api/v1/commissions/{first}/approve"), json!({})).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
        let approved = manager.post(&format!("/api/v1/commissions/{first}/approve"), json!({})).await;
        assert_eq!(approved.body["status"], "approved", "{}", approved.text);
        let twice = manager.post(&format!("/api/v1/commissions/{first}/approve"), json!({})).await;
        assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.text);
        assert_eq!(twice.body["code"], "invalid_transition");
        // Rejected from the referral's console page.
        let (second_referral, second, _) = won("Eli Ward").await;
        let csrf = manager.csrf.clone().expect("csrf");
        let req = manager
            .request(reqwest::Method::POST, &format!("/admin/partner-referrals/{second_referral}/commission"))
            .form(&[("csrf", csrf.as_str()), ("decision", "reject"), ("commission_id", second.as_str())]);
        assert_eq!(manager.send(req).await.status, StatusCode::SEE_OTHER);
        let rejected = manager.get(&format!("/api/v1/commissions/{second}")).await;
        assert_eq!(rejected.body["status"], "rejected", "{}", rejected.text);

        // The approved one is a due payment owed to the partner's contact, paid in a batch.
        let payee = approved.body["payee_id"].as_str().expect("payee").to_string();
        let due = staff.get(&format!("/api/v1/payments?payee_id={payee}")).await;
        let payment = &due.body["data"][0];
        assert_eq!((payment["status"].as_str(), payment["amount"].as_i64()), (Some("due"), Some(50_000)), "{}", due.text);
        assert_eq!(payment["commission_id"], json!(first));
        assert_eq!(due.body["data"].as_array().map(Vec::len), Some(1), "the rejected one owes nothing");
        let batch = staff.post("/api/v1/payout-batches", json!({ "payee_group": "payables", "program_id": program })).await;
        assert_eq!(batch.body["payment_count"], 1, "{}", batch.text);
        let batch_id = id(&batch.body);
        manager.post(&format!("/api/v1/payout-batches/{batch_id}/approve"), json!({})).await;
        let paid = manager.post(&format!("/api/v1/payout-batches/{batch_id}/mark-paid"), json!({ "reference": "ACH-77" })).await;
        assert_eq!(paid.body["status"], "paid", "{}", paid.text);
        let admin = app.key_client(Scope::Admin).await;
        let mails = admin.get("/api/v1/emails?limit=100").await;
        let told = mails.body["data"].as_array().expect("mails").iter().find(|m| m["kind"] == "payment_paid" && m["to_address"] == "ops@northwind.example").cloned().expect("the partner is told");
        assert!(told["text_body"].as_str().unwrap_or_default().contains("USD 500.00 of your partner commission was paid"), "{told}");

        // Lost after it was paid: the commission is cancelled and a clawback opens.
        staff.patch(&format!("/api/v1/partner-referrals/{first_referral}"), json!({ "stage": "lost" })).await;
        let cancelled = staff.get(&format!("/api/v1/commissions/{first}")).await;
        assert_eq!(cancelled.body["status"], "cancelled", "{}", cancelled.text);
        let open = staff.get("/api/v1/payment-clawbacks?status=open").await;
        assert_eq!(open.body["data"][0]["payment_id"], payment["id"], "{}", open.text);
        assert_eq!(open.body["data"][0]["amount"], 50_000);

        // Approved but not yet paid, then Junk: the payment is voided, nothing to claw back.
        let (third_referral, third, _) = won("Fay Lo").await;
        manager.post(&format!("/api/v1/commissions/{third}/approve"), json!({})).await;
        staff.patch(&format!("/api/v1/partner-referrals/{third_referral}"), json!({ "stage": "junk" })).await;
        let voided = staff.get(&format!("/api/v1/payments?payee_id={payee}&status=voided")).await;
        assert_eq!(voided.body["data"][0]["commission_id"], json!(third), "{}", voided.text);
        let open = staff.get("/api/v1/payment-clawbacks?status=open").await;
        assert_eq!(open.body["data"].as_array().map(Vec::len), Some(1));

        // Rejected through the API too; a decided one is not decided again.
        let (_, fourth, _) = won("Gus Ray").await;
        let rejected = manager.post(&format!("/api/v1/commissions/{fourth}/reject"), json!({})).await;
        assert_eq!(rejected.body["status"], "rejected", "{}", rejected.text);
        let again = manager.post(&format!("/api/v1/commissions/{fourth}/approve"), json!({})).await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    })
    .await;
}
