//! Leads sold to partners that buy them, end to end on both stores: an API post to a real
//! receiver on this machine (retried, every attempt in the delivery log, idempotent per lead),
//! email delivery, sale notifications, the events, retrying a failed delivery, the monthly
//! statement (JSON and CSV), and who may do what.

mod common;

use common::receiver::{Mode, Receiver};
use common::{Api, TestApp, each_backend};
use reqwest::StatusCode;
use serde_json::{Value, json};
use vouch_domain::permission::{Role, Scope};

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

async fn buyer(staff: &Api, name: &str, extra: Value) -> String {
    let mut body = json!({ "name": name, "buys_customers": true });
    for (k, v) in extra.as_object().expect("object") {
        body[k] = v.clone();
    }
    let created = staff.post("/api/v1/partners", body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    id(&created.body)
}

fn month_now() -> String {
    let d = time::OffsetDateTime::now_utc().date();
    format!("{:04}-{:02}", d.year(), u8::from(d.month()))
}

async fn drain(app: &TestApp) {
    app.worker().drain().await.expect("drain");
}

#[tokio::test]
async fn leads_sold_by_api_post_and_by_email() {
    each_backend(|app| async move {
        let staff = app.staff(Role::Staff).await;
        let admin = app.key_client(Scope::Admin).await;
        let leads = Receiver::start(Mode::FailTimes(1)).await;
        let hooks = Receiver::start(Mode::Ok).await;
        let endpoint = admin
            .post("/api/v1/webhook-endpoints", json!({ "url": hooks.url, "event_types": ["lead.*"] }))
            .await;
        assert_eq!(endpoint.status, StatusCode::CREATED, "{}", endpoint.text);

        let poster = buyer(&staff, "Harbor Security", json!({ "delivery_method": "api_post", "post_url": leads.url, "source_id": "4471", "notification_emails": ["sales@harbor.example"] })).await;
        let mailer = buyer(&staff, "Mail Buyer", json!({ "delivery_method": "email", "notification_emails": ["leads@mail.example", "ops@mail.example"] })).await;
        let agency = staff
            .post("/api/v1/partners", json!({ "name": "Agency", "refers_clients": true }))
            .await;
        let agency = id(&agency.body);

        // Every problem named at once; the wrong partner refused.
        let bad = staff
            .post("/api/v1/lead-sales", json!({ "partner_id": poster, "kind": "customer", "first_name": "Dana", "last_name": "Home", "sale_price": 15000, "currency": "USD", "phones": ["555 0100", "call me"] }))
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
        assert_eq!(bad.fields(), vec!["phones[1]", "monthly_recurring_revenue", "activation_fee", "contract_term_months"]);
        let unknown = staff
            .post("/api/v1/lead-sales", json!({ "partner_id": "ptn_missing", "first_name": "Dana", "last_name": "Home", "email": "dana@home.example", "sale_price": 100, "currency": "USD" }))
            .await;
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", unknown.text);
        assert_eq!(unknown.fields(), vec!["partner_id"]);
        let not_buyer = staff
            .post("/api/v1/lead-sales", json!({ "partner_id": agency, "first_name": "Dana", "last_name": "Home", "email": "dana@home.example", "sale_price": 100, "currency": "USD" }))
            .await;
        assert_eq!(not_buyer.status, StatusCode::CONFLICT, "{}", not_buyer.text);
        assert_eq!(not_buyer.body["code"], "partner_cannot");

        // A customer by API post: the first attempt fails, the retry is accepted.
        let customer = json!({
            "partner_id": poster, "kind": "customer", "first_name": "Dana", "last_name": "Home",
            "company": "Home Goods", "email": "dana@home.example", "phones": ["+1 555 0100"],
            "street": "1 Main St", "city": "Springfield", "region": "IL", "postal_code": "62701", "country": "US",
            "promo_code": "SPRING", "custom_fields": { "panel": "touchscreen" },
            "sale_price": 15000, "currency": "USD", "monthly_recurring_revenue": 4999, "activation_fee": 9900, "contract_term_months": 36,
            "notes": "Never sent to the buyer"
        });
        let sold = staff.post("/api/v1/lead-sales", customer).await;
        assert_eq!(sold.status, StatusCode::CREATED, "{}", sold.text);
        assert_eq!(sold.body["delivery_status"], "pending");
        assert_eq!(sold.body["delivery_method"], "api_post");
        assert_eq!(sold.body["partner_name"], "Harbor Security");
        let sale = id(&sold.body);
        drain(&app).await;
        let posts = leads.received();
        assert_eq!(posts.len(), 2, "one failure, one success");
        assert!(posts.iter().all(|p| p.id == sale), "the sale's id is the idempotency key");
        let body = posts[1].json();
        assert_eq!(body["source_id"], "4471");
        assert_eq!(body["sender_lead_id"], json!(sale));
        assert_eq!(body["kind"], "customer");
        assert_eq!(body["address"]["city"], "Springfield");
        assert_eq!(body["custom_fields"]["panel"], "touchscreen");
        assert_eq!(body["monthly_recurring_revenue"], 4999);
        assert_eq!(body["contract_term_months"], 36);
        assert!(body.get("notes").is_none(), "our notes stay ours");
        let shown = staff.get(&format!("/api/v1/lead-sales/{sale}")).await;
        assert_eq!(shown.body["delivery_status"], "delivered", "{}", shown.text);
        assert!(shown.body["delivered_at"].is_string());
        let log = shown.body["delivery_log"].as_array().expect("log");
        assert_eq!(log.len(), 2);
        assert_eq!(log[0]["succeeded"], false);
        assert_eq!(log[0]["response_status"], 500);
        assert_eq!(log[1]["succeeded"], true);
        assert_eq!(log[1]["channel"], "lead_post");

        // A lead by email: the notification carries it; delivered once sent.
        let lead = staff
            .post("/api/v1/lead-sales", json!({ "partner_id": mailer, "first_name": "Eli", "last_name": "Ward", "phones": ["555 0101"], "sale_price": 2500, "currency": "USD" }))
            .await;
        assert_eq!(lead.status, StatusCode::CREATED, "{}", lead.text);
        let lead = id(&lead.body);
        drain(&app).await;
        let shown = staff.get(&format!("/api/v1/lead-sales/{lead}")).await;
        assert_eq!(shown.body["delivery_status"], "delivered", "{}", shown.text);
        let log = shown.body["delivery_log"].as_array().expect("log");
        let mut to: Vec<&str> = log.iter().filter_map(|a| a["to"].as_str()).collect();
        to.sort_unstable();
        assert_eq!(to, ["leads@mail.example", "ops@mail.example"]);
        let mails = admin.get("/api/v1/emails?limit=100").await;
        let sold_mails: Vec<&Value> = mails.body["data"].as_array().expect("mails").iter().filter(|m| m["kind"] == "lead_sold").collect();
        assert_eq!(sold_mails.len(), 3, "the post's notification and two deliveries");
        let to_mailer = sold_mails.iter().find(|m| m["to_address"] == "leads@mail.example").expect("mail");
        let text = to_mailer["text_body"].as_str().unwrap_or_default();
        assert!(text.contains("Eli Ward") && text.contains("555 0101") && text.contains("USD 25.00"), "{text}");
        let to_poster = sold_mails.iter().find(|m| m["to_address"] == "sales@harbor.example").expect("mail");
        let text = to_poster["text_body"].as_str().unwrap_or_default();
        assert!(text.contains("posted to your system") && !text.contains("555 0100"), "{text}");

        // A receiver that keeps failing: the delivery fails, then a retry after the fix works.
        leads.set_mode(Mode::Always(503));
        let third = staff
            .post("/api/v1/lead-sales", json!({ "partner_id": poster, "first_name": "Fay", "last_name": "Lo", "email": "fay@lo.example", "sale_price": 1000, "currency": "USD" }))
            .await;
        let third = id(&third.body);
        drain(&app).await;
        let failed = staff.get(&format!("/api/v1/lead-sales/{third}")).await;
        assert_eq!(failed.body["delivery_status"], "failed", "{}", failed.text);
        assert_eq!(failed.body["delivery_error"], "answered 503");
        let listed = staff.get("/api/v1/lead-sales?delivery_status=failed").await;
        assert_eq!(listed.body["data"].as_array().map(Vec::len), Some(1), "{}", listed.text);
        let early = staff.post(&format!("/api/v1/lead-sales/{sale}/retry"), json!({})).await;
        assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.text);
        assert_eq!(early.body["code"], "not_failed");
        // Nothing is sent to a suspended buyer, retries included.
        staff.patch(&format!("/api/v1/partners/{poster}"), json!({ "status": "suspended" })).await;
        let suspended = staff.post(&format!("/api/v1/lead-sales/{third}/retry"), json!({})).await;
        assert_eq!(suspended.status, StatusCode::CONFLICT, "{}", suspended.text);
        assert_eq!(suspended.body["code"], "partner_suspended");
        staff.patch(&format!("/api/v1/partners/{poster}"), json!({ "status": "active" })).await;
        leads.set_mode(Mode::Ok);
        let retried = staff.post(&format!("/api/v1/lead-sales/{third}/retry"), json!({})).await;
        assert_eq!(retried.status, StatusCode::OK, "{}", retried.text);
        assert_eq!(retried.body["delivery_status"], "pending");
        drain(&app).await;
        let done = staff.get(&format!("/api/v1/lead-sales/{third}")).await;
        assert_eq!(done.body["delivery_status"], "delivered", "{}", done.text);

        // Every step announced once.
        drain(&app).await;
        let mut types: Vec<String> = hooks.delivered().iter().map(|r| r.json()["type"].as_str().unwrap_or_default().to_string()).collect();
        types.sort();
        assert_eq!(types, ["lead.delivered", "lead.delivered", "lead.delivered", "lead.delivery_failed", "lead.sold", "lead.sold", "lead.sold"]);

        // The statement: this month's sales per buyer, JSON and CSV.
        let month = month_now();
        let st = staff.get(&format!("/api/v1/partners/{poster}/lead-statement?month={month}")).await;
        assert_eq!(st.status, StatusCode::OK, "{}", st.text);
        assert_eq!(st.body["sales"].as_array().map(Vec::len), Some(2));
        assert_eq!(st.body["totals"], json!([{ "currency": "USD", "count": 2, "amount": 16000 }]));
        let empty = staff.get(&format!("/api/v1/partners/{poster}/lead-statement?month=2001-01")).await;
        assert_eq!(empty.body["sales"], json!([]), "{}", empty.text);
        let bad_month = staff.get(&format!("/api/v1/partners/{poster}/lead-statement?month=2026-13")).await;
        assert_eq!(bad_month.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad_month.text);
        assert_eq!(bad_month.fields(), vec!["month"]);
        let csv = staff.get(&format!("/api/v1/partners/{poster}/lead-statement.csv?month={month}")).await;
        assert_eq!(csv.status, StatusCode::OK, "{}", csv.text);
        let lines: Vec<&str> = csv.text.lines().collect();
        assert_eq!(lines[0], "sold_on,sale_id,kind,name,company,email,sale_price,currency,delivery_status");
        assert_eq!(lines.len(), 4, "{}", csv.text);
        assert!(lines[3].contains("total") && lines[3].contains("160.00"), "{}", csv.text);

        // Who may: a viewer reads, cannot sell or retry.
        let viewer = app.key_client(Scope::Read).await;
        assert_eq!(viewer.get("/api/v1/lead-sales").await.status, StatusCode::OK);
        let refused = viewer
            .post("/api/v1/lead-sales", json!({ "partner_id": mailer, "first_name": "A", "last_name": "B", "email": "a@b.example", "sale_price": 1, "currency": "USD" }))
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
        assert_eq!(viewer.post(&format!("/api/v1/lead-sales/{third}/retry"), json!({})).await.status, StatusCode::FORBIDDEN);
        assert_eq!(staff.get("/api/v1/lead-sales/lds_missing").await.status, StatusCode::NOT_FOUND);
        assert_eq!(staff.get("/api/v1/partners/ptn_missing/lead-statement").await.status, StatusCode::NOT_FOUND);
    })
    .await;
}

#[tokio::test]
async fn a_lead_post_never_reaches_an_address_the_guard_refuses() {
    each_backend(|app| async move {
        let staff = app.staff(Role::Staff).await;
        // Allowed when the partner was saved, refused when the worker runs: the guard is
        // checked again at each attempt.
        let receiver = Receiver::start(Mode::Ok).await;
        let poster = buyer(&staff, "Harbor", json!({ "delivery_method": "api_post", "post_url": receiver.url, "source_id": "1", "notification_emails": ["s@harbor.example"] })).await;
        let sale = staff
            .post("/api/v1/lead-sales", json!({ "partner_id": poster, "first_name": "Dana", "last_name": "Home", "email": "dana@home.example", "sale_price": 100, "currency": "USD" }))
            .await;
        let sale = id(&sale.body);
        app.worker_with(|s| s.delivery.outbound = vouch_jobs::OutboundPolicy::default())
            .drain()
            .await
            .expect("drain");
        assert!(receiver.received().is_empty());
        let shown = staff.get(&format!("/api/v1/lead-sales/{sale}")).await;
        assert_eq!(shown.body["delivery_status"], "failed", "{}", shown.text);
        let error = shown.body["delivery_error"].as_str().unwrap_or_default();
        assert!(error.starts_with("the Post URL"), "{error}");
        assert_eq!(shown.body["delivery_log"].as_array().map(Vec::len), Some(1), "no retry can help");
    })
    .await;
}

#[tokio::test]
async fn the_console_sells_in_major_units_and_shows_the_log_and_the_statement() {
    each_backend(|app| async move {
        let staff = app.staff(Role::Staff).await;
        let receiver = Receiver::start(Mode::Always(500)).await;
        let poster = buyer(&staff, "Harbor Security", json!({ "delivery_method": "api_post", "post_url": receiver.url, "source_id": "4471", "notification_emails": ["sales@harbor.example"] })).await;
        let partner_page = staff.get(&format!("/admin/partners/{poster}")).await;
        assert!(partner_page.text.contains(r#"id="sell-to-partner""#), "{}", partner_page.text);

        let csrf = staff.csrf.clone().expect("csrf");
        let form = |pairs: &[(&str, &str)]| {
            let mut v: Vec<(String, String)> = vec![("csrf".into(), csrf.clone())];
            v.extend(pairs.iter().map(|(k, x)| (k.to_string(), x.to_string())));
            v
        };
        let new = staff.get(&format!("/admin/lead-sales/new?partner_id={poster}")).await;
        assert_eq!(new.status, StatusCode::OK);
        assert!(new.text.contains("Harbor Security"), "{}", new.text);

        // Refused next to each field, nothing sold.
        let req = staff.request(reqwest::Method::POST, "/admin/lead-sales/new").form(&form(&[
            ("partner_id", &poster), ("kind", "customer"), ("first_name", "Dana"), ("last_name", ""),
            ("currency", "USD"), ("sale_price", "150.005"), ("phone1", "555 0100"),
            ("custom_fields", "panel touchscreen"),
        ]));
        let refused = staff.send(req).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.text);
        for field in ["sale_price", "custom_fields"] {
            assert!(refused.text.contains(&format!(r#"id="e-{field}""#)), "{field}: {}", refused.text);
        }
        assert!(refused.text.contains("Nothing was sold"));
        let req = staff.request(reqwest::Method::POST, "/admin/lead-sales/new").form(&form(&[
            ("partner_id", &poster), ("kind", "customer"), ("first_name", "Dana"), ("last_name", ""),
            ("currency", "USD"), ("sale_price", "150"), ("phone1", "555 0100"), ("phone2", "call me"),
        ]));
        let refused = staff.send(req).await;
        for field in ["last_name", "phone2", "monthly_recurring_revenue", "activation_fee", "contract_term_months"] {
            assert!(refused.text.contains(&format!(r#"id="e-{field}""#)), "{field}: {}", refused.text);
        }
        let none = staff.get("/api/v1/lead-sales").await;
        assert_eq!(none.body["data"], json!([]), "nothing sold on a refusal");

        // Sold as typed: 150 is USD 150.00.
        let req = staff.request(reqwest::Method::POST, "/admin/lead-sales/new").form(&form(&[
            ("partner_id", &poster), ("kind", "customer"), ("first_name", "Dana"), ("last_name", "Home"),
            ("currency", "USD"), ("sale_price", "150"), ("phone1", "555 0100"),
            ("monthly_recurring_revenue", "49.99"), ("activation_fee", "0"), ("contract_term_months", "36"),
            ("custom_fields", "panel: touchscreen\r\nzone: north"),
        ]));
        let sold = staff.send(req).await;
        assert_eq!(sold.status, StatusCode::SEE_OTHER, "{}", sold.text);
        let at = sold.headers.get("location").and_then(|l| l.to_str().ok()).expect("location").to_string();
        let sale = at.rsplit('/').next().expect("id").to_string();
        let api = staff.get(&format!("/api/v1/lead-sales/{sale}")).await;
        assert_eq!(api.body["sale_price"], 15000);
        assert_eq!(api.body["monthly_recurring_revenue"], 4999);
        assert_eq!(api.body["custom_fields"], json!({ "panel": "touchscreen", "zone": "north" }));

        // The receiver refuses everything: the page shows the failure, the log and a retry.
        app.worker().drain().await.expect("drain");
        let page = staff.get(&at).await;
        assert!(page.text.contains("Delivery failed") && page.text.contains(r#"id="retry-delivery""#), "{}", page.text);
        assert!(page.text.contains("HTTP 500"), "{}", page.text);
        assert!(page.text.contains("$150.00") && page.text.contains("$49.99"), "{}", page.text);
        let req = staff.request(reqwest::Method::POST, &format!("/admin/lead-sales/{sale}/retry")).form(&form(&[]));
        let retried = staff.send(req).await;
        assert_eq!(retried.status, StatusCode::SEE_OTHER, "{}", retried.text);
        let page = staff.get(&at).await;
        assert!(page.text.contains("Delivering"), "{}", page.text);

        // The list, the statement and its CSV.
        let list = staff.get("/admin/lead-sales?status=pending").await;
        assert!(list.text.contains("Dana Home") && list.text.contains("$150.00"), "{}", list.text);
        let empty = staff.get("/admin/lead-sales?status=delivered").await;
        assert!(empty.text.contains("No sales match"), "{}", empty.text);
        let st = staff.get(&format!("/admin/partners/{poster}/lead-statement")).await;
        assert_eq!(st.status, StatusCode::OK, "{}", st.text);
        assert!(st.text.contains("$150.00</strong> for 1 sold"), "{}", st.text);
        let old = staff.get(&format!("/admin/partners/{poster}/lead-statement?month=2001-01")).await;
        assert!(old.text.contains("Nothing was sold"), "{}", old.text);
        assert!(old.text.contains("month=2000-12") && old.text.contains("month=2001-02"), "{}", old.text);
        let csv = staff.get(&format!("/admin/partners/{poster}/lead-statement.csv")).await;
        assert_eq!(csv.headers.get("content-type").and_then(|v| v.to_str().ok()), Some("text/csv; charset=utf-8"));
        assert!(csv.text.contains("Dana Home") && csv.text.contains("150.00"), "{}", csv.text);

        // A viewer reads but has no sell or retry buttons; its POST is refused.
        let viewer = app.staff(Role::Viewer).await;
        let page = viewer.get(&at).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.text.contains(r#"id="sell""#));
        assert_eq!(viewer.get("/admin/lead-sales/new").await.status, StatusCode::FORBIDDEN);
    })
    .await;
}

/// Both addresses of a sale delivered by email give up, and the worker reports them in one
/// batch: each would still read the other as running, yet the sale fails (once), rather than
/// staying "pending" for good.
#[tokio::test]
async fn a_sale_whose_addresses_all_give_up_in_one_batch_fails() {
    use vouch_app::lead_sales::{DeliveryEnd, DeliveryEnded, deliveries_finished};
    each_backend(|app| async move {
        let staff = app.staff(Role::Staff).await;
        let mailer = buyer(&staff, "Mail Buyer", json!({ "delivery_method": "email", "notification_emails": ["leads@mail.example", "ops@mail.example"] })).await;
        let sold = staff
            .post("/api/v1/lead-sales", json!({ "partner_id": mailer, "first_name": "A", "last_name": "B", "email": "a@b.example", "sale_price": 1, "currency": "USD" }))
            .await;
        assert_eq!(sold.status, StatusCode::CREATED, "{}", sold.text);
        let sale = id(&sold.body);
        // Both delivery jobs claimed and running, as when the worker reports their end.
        let store = app.state.store.clone();
        sqlx::query("UPDATE jobs SET status = 'running', locked_by = 'w' WHERE subject = $1")
            .bind(&sale)
            .execute(store.pool())
            .await
            .expect("claim");
        let jobs: Vec<String> = sqlx::query_scalar("SELECT id FROM jobs WHERE subject = $1 ORDER BY id")
            .bind(&sale)
            .fetch_all(store.pool())
            .await
            .expect("jobs");
        assert_eq!(jobs.len(), 2, "one job per address");
        let ended: Vec<DeliveryEnded> = jobs
            .iter()
            .map(|job_id| DeliveryEnded {
                sale_id: sale.clone(),
                job_id: job_id.clone(),
                end: DeliveryEnd::GaveUp("refused".into()),
            })
            .collect();
        deliveries_finished(&store, &ended).await.expect("recorded");
        let after = staff.get(&format!("/api/v1/lead-sales/{sale}")).await;
        assert_eq!(after.body["delivery_status"], "failed", "{}", after.text);
        let failed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE type = 'lead.delivery_failed'")
            .fetch_one(store.pool())
            .await
            .expect("events");
        assert_eq!(failed, 1, "failed once");
    })
    .await;
}
