//! Sales referral bonuses from sale to payment (issue 9, seed 002) through the API on both
//! stores, with the worked examples of shared/examples/bonuses.md: approval creates bonuses
//! once (also under concurrency), completion and review, due dates from milestones, splits,
//! payout batches with their payroll file, paying once, cancellation and clawbacks.

mod common;

use common::{Api, TestApp, each_backend};
use reqwest::StatusCode;
use serde_json::{Value, json};
use vouch_domain::permission::{Role, Scope};

async fn program(app: &TestApp) -> String {
    let manager = app.staff(Role::Manager).await;
    let p = manager
        .post(
            "/api/v1/programs",
            json!({ "name": format!("1Stop {}", vouch_domain::id::new_id("x")), "landing_url": "https://1stop.example.com" }),
        )
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.text);
    p.body["id"].as_str().expect("id").to_string()
}

async fn person(api: &Api, kind: &str, name: &str) -> String {
    let r = api
        .post(
            "/api/v1/people",
            json!({ "kind": kind, "name": name, "email": format!("{}@example.com", name.to_lowercase().replace(' ', ".")), "employee_number": if kind == "employee" { json!(format!("E-{}", name.len())) } else { Value::Null } }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["id"].as_str().expect("id").to_string()
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

fn amounts(payments: &Value) -> Vec<(i64, String, Option<String>)> {
    payments
        .as_array()
        .expect("payments")
        .iter()
        .filter(|p| p["status"] != "voided")
        .map(|p| {
            (
                p["amount"].as_i64().expect("amount"),
                p["status"].as_str().expect("status").to_string(),
                p["due_on"].as_str().map(str::to_string),
            )
        })
        .collect()
}

/// Worked example 1: Erin (10 %, Sign Date / Install Date, 50 % front) refers a USD 10,000.00
/// sale signed 2026-03-02; payment 1 is due on the sign date, payment 2 waits for the install
/// date and falls due when it is recorded. Then a payroll batch pays payment 1, once.
#[tokio::test]
async fn employee_referral_from_sale_to_payroll() {
    each_backend(|app| async move {
        let program = program(&app).await;
        let staff = app.staff(Role::Staff).await;
        let manager = app.staff(Role::Manager).await;
        let other_manager = app.staff(Role::Manager).await;
        let erin = person(&staff, "employee", "Erin Diaz").await;
        let customer = person(&staff, "contact", "Cora Buyer").await;
        let terms = manager
            .post(
                &format!("/api/v1/people/{erin}/terms"),
                json!({ "percentage_bps": 1000, "front_term": "sign_date", "back_term": "install_date", "front_share_bps": 5000 }),
            )
            .await;
        assert_eq!(terms.status, StatusCode::CREATED, "{}", terms.text);

        // Staff record the sale; bad input names each field and saves nothing.
        let bad = staff
            .post(
                "/api/v1/sales",
                json!({ "program_id": program, "customer_id": erin, "amount": 1_000_000, "lead_source": "referral_employee", "signed_on": "2026-02-30" }),
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
        assert_eq!(bad.fields(), vec!["referred_by", "signed_on"]);
        let wrong_kind = staff
            .post(
                "/api/v1/sales",
                json!({ "program_id": program, "customer_id": erin, "amount": 1_000_000, "lead_source": "referral_employee", "referred_by": customer }),
            )
            .await;
        assert_eq!(wrong_kind.fields(), vec!["customer_id", "referred_by"]);
        let sale = staff
            .post(
                "/api/v1/sales",
                json!({ "program_id": program, "customer_id": customer, "amount": 1_000_000, "lead_source": "referral_employee", "referred_by": erin, "signed_on": "2026-03-02" }),
            )
            .await;
        assert_eq!(sale.status, StatusCode::CREATED, "{}", sale.text);
        assert_eq!(sale.body["status"], "draft");
        assert_eq!(sale.body["currency"], "USD", "the program's currency");
        let sale_id = id(&sale.body);
        let described = staff
            .patch(&format!("/api/v1/sales/{sale_id}"), json!({ "description": "Roof and gutters" }))
            .await;
        assert_eq!(described.status, StatusCode::OK, "{}", described.text);
        assert_eq!(described.body["description"], "Roof and gutters");
        assert_eq!(described.body["signed_on"], "2026-03-02", "a patch keeps what it does not name");

        // Staff may not approve; two managers at once create one set of bonuses.
        let path = format!("/api/v1/sales/{sale_id}/approve");
        assert_eq!(staff.post(&path, json!({})).await.status, StatusCode::FORBIDDEN);
        let (a, b) = tokio::join!(manager.post(&path, json!({})), other_manager.post(&path, json!({})));
        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT], "{} / {}", a.text, b.text);
        let again = manager.post(&path, json!({})).await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert_eq!(again.body["code"], "invalid_transition");
        let view = staff.get(&format!("/api/v1/sales/{sale_id}")).await;
        let bonuses = view.body["bonuses"].as_array().expect("bonuses").clone();
        assert_eq!(bonuses.len(), 1, "{}", view.text);
        let bonus = &bonuses[0];
        assert_eq!(bonus["kind"], "referral_employee");
        assert_eq!(bonus["status"], "incomplete");
        assert_eq!(bonus["payee_id"], erin.as_str());
        assert_eq!(bonus["amount"], 100_000, "10 % of USD 10,000.00");
        assert_eq!(bonus["payment_method"], "payroll");
        let bonus_id = id(bonus);

        // Terms changed later never rewrite the bonus (it copied them).
        manager
            .post(
                &format!("/api/v1/people/{erin}/terms"),
                json!({ "percentage_bps": 200, "front_term": "sign_date" }),
            )
            .await;
        let shown = staff.get(&format!("/api/v1/bonuses/{bonus_id}")).await;
        assert_eq!(shown.body["percentage_bps"], 1000);
        assert_eq!(shown.body["missing"], json!([]), "prefilled completely");

        // Completion: a wrong value names its field; then staff submit it.
        let wrong = staff
            .patch(&format!("/api/v1/bonuses/{bonus_id}"), json!({ "front_share_bps": 0 }))
            .await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(wrong.fields(), vec!["front_share_bps"]);
        let submitted = staff
            .post(&format!("/api/v1/bonuses/{bonus_id}/submit"), json!({}))
            .await;
        assert_eq!(submitted.status, StatusCode::OK, "{}", submitted.text);
        assert_eq!(submitted.body["status"], "ready_for_review");

        // A manager approves; payment 1 is due on the sign date, payment 2 waits.
        let approved = manager
            .post(&format!("/api/v1/bonuses/{bonus_id}/approve"), json!({}))
            .await;
        assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
        assert_eq!(
            amounts(&approved.body["payments"]),
            vec![
                (50_000, "due".into(), Some("2026-03-02".into())),
                (50_000, "awaiting_milestone".into(), None)
            ]
        );
        let milestones = staff
            .post(
                &format!("/api/v1/sales/{sale_id}/milestones"),
                json!({ "installed_on": "2026-04-15" }),
            )
            .await;
        assert_eq!(milestones.status, StatusCode::OK, "{}", milestones.text);
        assert_eq!(
            amounts(&milestones.body["payments"]),
            vec![
                (50_000, "due".into(), Some("2026-03-02".into())),
                (50_000, "due".into(), Some("2026-04-15".into()))
            ]
        );

        // A payroll batch gathers both; staff build it, a manager approves and exports it.
        let batch = staff
            .post("/api/v1/payout-batches", json!({ "payee_group": "payroll", "due_to": "2026-03-31" }))
            .await;
        assert_eq!(batch.status, StatusCode::CREATED, "{}", batch.text);
        assert_eq!(batch.body["payment_count"], 1, "only payment 1 is due by March 31");
        assert_eq!(batch.body["totals"], json!([{ "amount": 50_000, "currency": "USD" }]));
        let batch_id = id(&batch.body);
        let export = format!("/api/v1/payout-batches/{batch_id}/export?pay_date=2026-04-30");
        let draft_export = manager.get(&export).await;
        assert_eq!(draft_export.status, StatusCode::CONFLICT, "a draft is not exported");
        assert_eq!(
            staff.post(&format!("/api/v1/payout-batches/{batch_id}/approve"), json!({})).await.status,
            StatusCode::FORBIDDEN
        );
        let ok = manager
            .post(&format!("/api/v1/payout-batches/{batch_id}/approve"), json!({}))
            .await;
        assert_eq!(ok.body["status"], "approved", "{}", ok.text);
        let shown = staff.get(&format!("/api/v1/payout-batches/{batch_id}")).await;
        assert_eq!(shown.body["approved_by"], ok.body["approved_by"]);
        let held = staff.get(&format!("/api/v1/payments?batch_id={batch_id}")).await;
        let held_id = id(&held.body["data"][0]);
        let one = staff.get(&format!("/api/v1/payments/{held_id}")).await;
        assert_eq!(one.body["status"], "in_batch", "{}", one.text);
        assert_eq!(one.body["batch_id"], batch_id.as_str());
        let file = manager.get(&export).await;
        assert_eq!(file.status, StatusCode::OK, "{}", file.text);
        let mut lines = file.text.lines();
        assert_eq!(
            lines.next(),
            Some("employee_id,name,amount,currency,pay_date,bonus_references")
        );
        let line = lines.next().expect("one employee");
        assert!(line.starts_with("E-9,Erin Diaz,500.00,USD,2026-04-30,"), "{line}");
        assert!(line.contains(&bonus_id), "{line}");

        // A batched payment is paid with its batch, never on its own.
        let alone = manager
            .post(&format!("/api/v1/payments/{held_id}/mark-paid"), json!({ "reference": "X" }))
            .await;
        assert_eq!(alone.status, StatusCode::CONFLICT, "{}", alone.text);
        assert_eq!(alone.body["code"], "invalid_transition");

        // Paying: the batch's payment once; then payment 2 alone, two calls at once.
        let paid = manager
            .post(
                &format!("/api/v1/payout-batches/{batch_id}/mark-paid"),
                json!({ "reference": "PAYROLL-2026-04", "paid_on": "2026-04-30" }),
            )
            .await;
        assert_eq!(paid.status, StatusCode::OK, "{}", paid.text);
        assert_eq!(paid.body["status"], "paid");
        let twice = manager
            .post(
                &format!("/api/v1/payout-batches/{batch_id}/mark-paid"),
                json!({ "reference": "PAYROLL-2026-04" }),
            )
            .await;
        assert_eq!(twice.status, StatusCode::CONFLICT);
        let second = approved.body["payments"][1]["id"].as_str().expect("payment 2").to_string();
        let pay = format!("/api/v1/payments/{second}/mark-paid");
        let body = json!({ "reference": "CHK-1001" });
        let (a, b) = tokio::join!(manager.post(&pay, body.clone()), other_manager.post(&pay, body.clone()));
        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT], "{} / {}", a.text, b.text);
        let loser = if a.status == StatusCode::CONFLICT { &a } else { &b };
        assert_eq!(loser.body["code"], "already_paid");

        // The statement adds up; the viewer may read it.
        let viewer = app.key_client(Scope::Read).await;
        let statement = viewer.get(&format!("/api/v1/people/{erin}/statement")).await;
        assert_eq!(statement.status, StatusCode::OK, "{}", statement.text);
        assert_eq!(statement.body["earned"], json!([{ "amount": 100_000, "currency": "USD" }]));
        assert_eq!(statement.body["paid"], json!([{ "amount": 100_000, "currency": "USD" }]));
        assert_eq!(statement.body["due"], json!([]));

        // Events went out for each step.
        let mut conn = app.state.store.conn().await.expect("conn");
        let types: Vec<String> = sqlx::query_scalar("SELECT type FROM events ORDER BY id")
            .fetch_all(&mut *conn)
            .await
            .expect("events");
        for t in ["sale.approved", "bonus.created", "bonus.ready_for_review", "bonus.approved", "payment.due", "payout_batch.approved", "payment.paid"] {
            assert!(types.iter().any(|x| x == t), "{t} missing from {types:?}");
        }
        assert_eq!(types.iter().filter(|t| *t == "payment.paid").count(), 2);
        assert_eq!(types.iter().filter(|t| *t == "sale.approved").count(), 1);

        // Erin heard about the approval (with both payments) and about each payment.
        let mails: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT kind, subject, text_body FROM email_messages WHERE to_address = 'erin.diaz@example.com' ORDER BY id",
        )
        .fetch_all(&mut *conn)
        .await
        .expect("emails");
        let kinds: Vec<&str> = mails.iter().map(|m| m.0.as_str()).collect();
        assert_eq!(kinds, vec!["bonus_approved", "payment_paid", "payment_paid"]);
        assert_eq!(mails[0].1, "Your Referral-Employee bonus of USD 1000.00 was approved");
        assert!(mails[0].2.contains("- USD 500.00: due 2026-03-02"), "{}", mails[0].2);
        assert!(mails[0].2.contains("- USD 500.00: when the Install Date is known"), "{}", mails[0].2);
        assert!(mails[1].2.contains("paid on 2026-04-30 (Payroll, reference PAYROLL-2026-04)"), "{}", mails[1].2);

        // The console's lists give their totals, and the reports read amounts as people do
        // (the CSV keeps them plain for spreadsheets).
        let sales_page = staff.get("/admin/sales?status=").await;
        assert!(sales_page.text.contains("id=\"sales-total\">1 sale, $10,000.00 in all."), "{}", sales_page.text);
        let paid_page = staff.get("/admin/payments?status=paid").await;
        assert!(paid_page.text.contains("id=\"payments-total\">2 payments, $1,000.00 in all."), "{}", paid_page.text);
        let bonus_page = staff.get("/admin/bonuses?status=").await;
        assert!(bonus_page.text.contains("id=\"bonuses-total\">1 bonus, $1,000.00 in all."), "{}", bonus_page.text);
        let reports = staff.get("/admin/sales/reports?from=2026-01-01&to=2026-12-31").await;
        assert!(reports.text.contains("$1,000.00") && !reports.text.contains("USD 1000.00"), "{}", reports.text);
        let csv = staff.get("/admin/sales/reports.csv?from=2026-01-01&to=2026-12-31&report=bonuses").await;
        assert!(csv.text.contains("USD 1000.00"), "{}", csv.text);
    })
    .await;
}

/// Worked example 2: a contact referral generated by an employee gives two bonuses, on the
/// program's contact terms and on the employee's own.
#[tokio::test]
async fn contact_referral_generated_by_an_employee() {
    each_backend(|app| async move {
        let program = program(&app).await;
        let staff = app.staff(Role::Staff).await;
        let manager = app.staff(Role::Manager).await;
        let carla = person(&staff, "contact", "Carla Ruiz").await;
        let gil = person(&staff, "employee", "Gil Moss").await;
        let customer = person(&staff, "contact", "Dana Home").await;
        let policy = manager
            .request(reqwest::Method::PUT, &format!("/api/v1/programs/{program}/bonus-policy"))
            .json(&json!({ "contact_terms": { "fixed_amount": 25_000, "currency": "USD", "front_term": "paid_in_full_date" } }));
        let policy = manager.send(policy).await;
        assert_eq!(policy.status, StatusCode::OK, "{}", policy.text);
        manager
            .post(
                &format!("/api/v1/people/{gil}/terms"),
                json!({ "fixed_amount": 10_000, "currency": "USD", "front_term": "job_approved_date" }),
            )
            .await;
        let sale = staff
            .post(
                "/api/v1/sales",
                json!({ "program_id": program, "customer_id": customer, "amount": 2_000_000, "lead_source": "referral_contact", "referred_by": carla, "generated_by": gil, "job_approved_on": "2026-05-01" }),
            )
            .await;
        assert_eq!(sale.status, StatusCode::CREATED, "{}", sale.text);
        let approved = manager
            .post(&format!("/api/v1/sales/{}/approve", id(&sale.body)), json!({}))
            .await;
        assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
        let bonuses = approved.body["bonuses"].as_array().expect("bonuses");
        let kinds: Vec<_> = bonuses.iter().map(|b| (b["kind"].clone(), b["amount"].clone(), b["payee_id"].clone())).collect();
        assert_eq!(
            kinds,
            vec![
                (json!("referral_contact"), json!(25_000), json!(carla)),
                (json!("employee_generated"), json!(10_000), json!(gil)),
            ]
        );

        // Carla's bonus needs a payment method (payroll is for employees): review is refused
        // naming it, and the view lists it as missing.
        let carla_bonus = id(&bonuses[0]);
        let submit = staff.post(&format!("/api/v1/bonuses/{carla_bonus}/submit"), json!({})).await;
        assert_eq!(submit.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", submit.text);
        assert_eq!(submit.fields(), vec!["payment_method"]);
        let payroll = staff
            .patch(&format!("/api/v1/bonuses/{carla_bonus}"), json!({ "payment_method": "payroll" }))
            .await;
        assert_eq!(payroll.status, StatusCode::OK);
        assert_eq!(payroll.body["missing"][0]["field"], "payment_method");
        staff
            .patch(&format!("/api/v1/bonuses/{carla_bonus}"), json!({ "payment_method": "check" }))
            .await;
        assert_eq!(
            staff.post(&format!("/api/v1/bonuses/{carla_bonus}/submit"), json!({})).await.status,
            StatusCode::OK
        );
        let gil_bonus = id(&bonuses[1]);
        let mine = manager.post(&format!("/api/v1/bonuses/{gil_bonus}/submit"), json!({})).await;
        assert_eq!(mine.status, StatusCode::OK, "{}", mine.text);

        // Bulk approval: the manager who completed Gil's bonus may not approve it.
        let decided = manager
            .post(
                "/api/v1/bonuses/decisions",
                json!({ "ids": [carla_bonus, gil_bonus, "bon_missing"], "decision": "approve" }),
            )
            .await;
        assert_eq!(decided.status, StatusCode::OK, "{}", decided.text);
        let outcomes: Vec<_> = decided.body["data"]
            .as_array()
            .expect("outcomes")
            .iter()
            .map(|o| (o["ok"].clone(), o["error_code"].clone()))
            .collect();
        assert_eq!(
            outcomes,
            vec![
                (json!(true), Value::Null),
                (json!(false), json!("forbidden")),
                (json!(false), json!("not_found")),
            ]
        );
        let carla_view = staff.get(&format!("/api/v1/bonuses/{carla_bonus}")).await;
        assert_eq!(
            amounts(&carla_view.body["payments"]),
            vec![(25_000, "awaiting_milestone".into(), None)],
            "waits for paid in full"
        );
        let other = app.staff(Role::Manager).await;
        let gil_view = other.post(&format!("/api/v1/bonuses/{gil_bonus}/approve"), json!({})).await;
        assert_eq!(
            amounts(&gil_view.body["payments"]),
            vec![(10_000, "due".into(), Some("2026-05-01".into()))],
            "due on the job-approved date"
        );
    })
    .await;
}

/// Splits (worked example 3), the daily due job, cancellation with a clawback (example 4),
/// rejection and "Add referral bonus".
#[tokio::test]
async fn splits_due_dates_cancellation_and_clawbacks() {
    each_backend(|app| async move {
        let program = program(&app).await;
        let staff = app.staff(Role::Staff).await;
        let manager = app.staff(Role::Manager).await;
        let vendor = person(&staff, "vendor", "Vera Supply").await;
        let customer = person(&staff, "contact", "Eli Owner").await;
        manager
            .post(
                &format!("/api/v1/people/{vendor}/terms"),
                json!({ "fixed_amount": 100_001, "currency": "USD", "front_term": "sign_date" }),
            )
            .await;
        let today = vouch_domain::sale::date_text(app.state.clock.now().datetime().date());
        let in_ten_days = vouch_domain::sale::date_text(
            app.state.clock.from_now(time::Duration::days(10)).datetime().date(),
        );
        let sale = staff
            .post(
                "/api/v1/sales",
                json!({ "program_id": program, "customer_id": customer, "amount": 5_000_000, "lead_source": "referral_vendor", "referred_by": vendor, "signed_on": today }),
            )
            .await;
        let sale_id = id(&sale.body);
        let approved = manager.post(&format!("/api/v1/sales/{sale_id}/approve"), json!({})).await;
        let bonus_id = id(&approved.body["bonuses"][0]);
        staff
            .patch(&format!("/api/v1/bonuses/{bonus_id}"), json!({ "payment_method": "bank_transfer" }))
            .await;
        staff.post(&format!("/api/v1/bonuses/{bonus_id}/submit"), json!({})).await;
        let ok = manager.post(&format!("/api/v1/bonuses/{bonus_id}/approve"), json!({})).await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);

        // 100_001 by 33.33 % / 33.33 % / 33.34 %, the last part on the install date.
        let bad = manager
            .post(&format!("/api/v1/bonuses/{bonus_id}/split"), json!({ "by": "amount", "parts": [{ "amount": 1 }, { "amount": 2 }] }))
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.fields(), vec!["parts"]);
        let split = manager
            .post(
                &format!("/api/v1/bonuses/{bonus_id}/split"),
                json!({ "by": "percentage", "parts": [{ "percentage_bps": 3333 }, { "percentage_bps": 3333 }, { "percentage_bps": 3334, "term": "install_date" }] }),
            )
            .await;
        assert_eq!(split.status, StatusCode::OK, "{}", split.text);
        assert_eq!(
            amounts(&split.body["data"]),
            vec![
                (33_330, "due".into(), Some(today.clone())),
                (33_330, "due".into(), Some(today.clone())),
                (33_341, "awaiting_milestone".into(), None),
            ],
            "exact shares 33_330.3333, 33_330.3333, 33_340.3334: the cent left goes to the largest remainder"
        );
        let sum: i64 = amounts(&split.body["data"]).iter().map(|(a, _, _)| a).sum();
        assert_eq!(sum, 100_001);

        // Two splits at once: they run one after the other, and the live payments still sum
        // to the bonus, numbered without a repeat.
        let again = json!({ "by": "equal", "count": 2, "term": "sign_date" });
        let path = format!("/api/v1/bonuses/{bonus_id}/split");
        let other = app.staff(Role::Manager).await;
        let (a, b) = tokio::join!(manager.post(&path, again.clone()), other.post(&path, json!({ "by": "equal", "count": 3 })));
        assert!(a.status == StatusCode::OK || b.status == StatusCode::OK, "{} / {}", a.text, b.text);
        let now = staff.get(&format!("/api/v1/bonuses/{bonus_id}")).await;
        let live: i64 = amounts(&now.body["payments"]).iter().map(|(a, _, _)| a).sum();
        assert_eq!(live, 100_001, "{}", now.text);
        let mut seqs: Vec<i64> = now.body["payments"].as_array().expect("payments").iter().map(|p| p["sequence"].as_i64().expect("seq")).collect();
        let n = seqs.len();
        seqs.dedup();
        assert_eq!(seqs.len(), n, "sequence numbers repeat: {}", now.text);
        // Back to the three parts the rest of this test expects.
        let split = manager
            .post(
                &format!("/api/v1/bonuses/{bonus_id}/split"),
                json!({ "by": "percentage", "parts": [{ "percentage_bps": 3333 }, { "percentage_bps": 3333 }, { "percentage_bps": 3334, "term": "install_date" }] }),
            )
            .await;
        assert_eq!(split.status, StatusCode::OK, "{}", split.text);

        // An install date ten days out: the payment has its date and waits; the daily job
        // makes it due once the day comes.
        staff
            .post(&format!("/api/v1/sales/{sale_id}/milestones"), json!({ "installed_on": in_ten_days }))
            .await;
        assert_eq!(vouch_app::payouts::mark_payments_due(&app.state).await.expect("job"), 0);
        app.state.clock.advance(time::Duration::days(11));
        assert_eq!(vouch_app::payouts::mark_payments_due(&app.state).await.expect("job"), 1);
        // Eleven days on, the console sessions have lapsed: go on with API keys.
        let staff = app.key_client(Scope::Write).await;
        let manager = app.key_client(Scope::Admin).await;

        // One payment paid, then the sale is cancelled: the rest are voided and the paid one
        // opens a clawback.
        let payments = staff.get(&format!("/api/v1/payments?bonus_id={bonus_id}&status=due")).await;
        let first = payments.body["data"].as_array().unwrap_or_else(|| panic!("{}", payments.text)).last().expect("one").clone();
        let paid = manager
            .post(&format!("/api/v1/payments/{}/mark-paid", id(&first)), json!({ "reference": "WIRE-77" }))
            .await;
        assert_eq!(paid.status, StatusCode::OK, "{}", paid.text);
        let no_reason = manager.post(&format!("/api/v1/sales/{sale_id}/cancel"), json!({ "reason": " " })).await;
        assert_eq!(no_reason.fields(), vec!["reason"]);
        let cancelled = manager
            .post(&format!("/api/v1/sales/{sale_id}/cancel"), json!({ "reason": "Customer withdrew" }))
            .await;
        assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.text);
        assert_eq!(cancelled.body["bonuses"][0]["status"], "cancelled");
        let statuses: Vec<_> = cancelled.body["payments"]
            .as_array()
            .expect("payments")
            .iter()
            .map(|p| p["status"].as_str().expect("status").to_string())
            .collect();
        assert_eq!(statuses.iter().filter(|s| *s == "paid").count(), 1);
        assert_eq!(statuses.iter().filter(|s| *s == "voided").count(), statuses.len() - 1);
        assert_eq!(cancelled.body["clawbacks"][0]["amount"], first["amount"]);
        assert_eq!(cancelled.body["clawbacks"][0]["status"], "open");
        // The vendor's paid payment was recorded as an expenditure.
        let mut conn = app.state.store.conn().await.expect("conn");
        let spent: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM expenditures")
            .fetch_one(&mut *conn)
            .await
            .expect("count");
        assert_eq!(spent, 1);

        // Rejection needs a reason; "Add referral bonus" works on approved sales only.
        let sale2 = staff
            .post(
                "/api/v1/sales",
                json!({ "program_id": program, "customer_id": customer, "amount": 100_000, "lead_source": "other" }),
            )
            .await;
        let sale2_id = id(&sale2.body);
        let early = manager
            .post(&format!("/api/v1/sales/{sale2_id}/bonuses"), json!({ "kind": "new_customer" }))
            .await;
        assert_eq!(early.status, StatusCode::CONFLICT);
        let approved2 = manager.post(&format!("/api/v1/sales/{sale2_id}/approve"), json!({})).await;
        assert_eq!(approved2.body["bonuses"], json!([]), "a non-referral sale earns no bonus");
        assert_eq!(
            staff.post(&format!("/api/v1/sales/{sale2_id}/bonuses"), json!({ "kind": "new_customer" })).await.status,
            StatusCode::FORBIDDEN
        );
        let added = manager
            .post(&format!("/api/v1/sales/{sale2_id}/bonuses"), json!({ "kind": "new_customer" }))
            .await;
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
        assert_eq!(added.body["payee_id"], customer.as_str());
        assert_eq!(added.body["automatic"], false);
        let added_id = id(&added.body);
        staff
            .patch(&format!("/api/v1/bonuses/{added_id}"), json!({ "fixed_amount": 5_000, "front_term": "sign_date", "payment_method": "check" }))
            .await;
        staff.post(&format!("/api/v1/bonuses/{added_id}/submit"), json!({})).await;
        let reject = manager.post(&format!("/api/v1/bonuses/{added_id}/reject"), json!({ "reason": "" })).await;
        assert_eq!(reject.fields(), vec!["reason"]);
        let rejected = manager
            .post(&format!("/api/v1/bonuses/{added_id}/reject"), json!({ "reason": "Not in the agreement" }))
            .await;
        assert_eq!(rejected.body["status"], "rejected", "{}", rejected.text);
        let late = manager.post(&format!("/api/v1/bonuses/{added_id}/approve"), json!({})).await;
        assert_eq!(late.status, StatusCode::CONFLICT);
        assert_eq!(late.body["code"], "already_decided");
    })
    .await;
}

/// Cancelling a sale whose payment sits in a batch a manager approved: the payment may be paid
/// outside Vouch already, so it stays with its batch and a clawback opens; one in a draft
/// batch is voided and leaves it. Console forms refuse control characters.
#[tokio::test]
async fn cancelling_with_batched_payments() {
    each_backend(|app| async move {
        let program = program(&app).await;
        let staff = app.staff(Role::Staff).await;
        let manager = app.staff(Role::Manager).await;
        let reviewer = app.staff(Role::Manager).await;
        let vendor = person(&staff, "vendor", "Vic Parts").await;
        let customer = person(&staff, "contact", "Flo Home").await;
        manager
            .post(
                &format!("/api/v1/people/{vendor}/terms"),
                json!({ "percentage_bps": 500, "front_term": "sign_date" }),
            )
            .await;
        let mut bonus_ids = Vec::new();
        for _ in 0..2 {
            let sale = staff
                .post(
                    "/api/v1/sales",
                    json!({ "program_id": program, "customer_id": customer, "amount": 200_000, "lead_source": "referral_vendor", "referred_by": vendor, "signed_on": "2026-01-10" }),
                )
                .await;
            let v = manager.post(&format!("/api/v1/sales/{}/approve", id(&sale.body)), json!({})).await;
            let b = id(&v.body["bonuses"][0]);
            staff.patch(&format!("/api/v1/bonuses/{b}"), json!({ "payment_method": "check" })).await;
            staff.post(&format!("/api/v1/bonuses/{b}/submit"), json!({})).await;
            let ok = reviewer.post(&format!("/api/v1/bonuses/{b}/approve"), json!({})).await;
            assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
            bonus_ids.push((id(&sale.body), b));
        }
        let batch = staff.post("/api/v1/payout-batches", json!({ "payee_group": "payables" })).await;
        assert_eq!(batch.body["payment_count"], 2, "{}", batch.text);
        let batch_id = id(&batch.body);
        let payroll = staff.post("/api/v1/payout-batches", json!({ "payee_group": "payroll" })).await;
        assert_eq!(payroll.status, StatusCode::CONFLICT);
        assert_eq!(payroll.body["code"], "nothing_to_pay");

        // In the draft batch: voided, out of the batch.
        let first = manager
            .post(&format!("/api/v1/sales/{}/cancel", bonus_ids[0].0), json!({ "reason": "Withdrew" }))
            .await;
        assert_eq!(first.body["payments"][0]["status"], "voided", "{}", first.text);
        assert!(first.body["payments"][0]["batch_id"].is_null());
        assert_eq!(first.body["clawbacks"], json!([]));
        let shown = staff.get(&format!("/api/v1/payout-batches/{batch_id}")).await;
        assert_eq!(shown.body["payment_count"], 1);

        // In the approved batch: it stays and a clawback opens; paying the batch pays it.
        manager.post(&format!("/api/v1/payout-batches/{batch_id}/approve"), json!({})).await;
        let second = manager
            .post(&format!("/api/v1/sales/{}/cancel", bonus_ids[1].0), json!({ "reason": "Withdrew too" }))
            .await;
        assert_eq!(second.body["payments"][0]["status"], "in_batch", "{}", second.text);
        assert_eq!(second.body["clawbacks"][0]["amount"], 10_000);
        let paid = manager
            .post(&format!("/api/v1/payout-batches/{batch_id}/mark-paid"), json!({ "reference": "CHK-9" }))
            .await;
        assert_eq!(paid.body["status"], "paid", "{}", paid.text);
        let file = manager.get(&format!("/api/v1/payout-batches/{batch_id}/export")).await;
        assert_eq!(file.text.lines().count(), 2, "one payment: {}", file.text);

        // The clawback is decided once; staff may not decide it.
        let open = staff.get("/api/v1/payment-clawbacks?status=open").await;
        let claw = id(&open.body["data"][0]);
        let path = format!("/api/v1/payment-clawbacks/{claw}/decide");
        assert_eq!(staff.post(&path, json!({ "decision": "waived" })).await.status, StatusCode::FORBIDDEN);
        let decided = manager.post(&path, json!({ "decision": "recovered" })).await;
        assert_eq!(decided.body["status"], "recovered", "{}", decided.text);
        let again = manager.post(&path, json!({ "decision": "waived" })).await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert_eq!(again.body["code"], "already_decided");
        let open = staff.get("/api/v1/payment-clawbacks?status=open").await;
        assert_eq!(open.body["data"], json!([]));

        // A NUL in a console form is refused before anything is read from it.
        let csrf = staff.csrf.clone().expect("csrf");
        let req = staff
            .request(reqwest::Method::POST, "/admin/sales/new")
            .form(&[("csrf", csrf.as_str()), ("customer_id", "per_\u{0}x")]);
        let r = staff.send(req).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    })
    .await;
}

/// The referrals module: a referral entered, its meeting booked, moved with notes and its
/// history kept; a sale made from it takes its people and lead source, and approving the sale
/// wins the referral. Conversion shows in the reports.
#[tokio::test]
async fn referral_from_entry_to_won_sale() {
    each_backend(|app| async move {
        let program = program(&app).await;
        let staff = app.staff(Role::Staff).await;
        let manager = app.staff(Role::Manager).await;
        let carla = person(&staff, "contact", "Carla Ruiz").await;
        let gil = person(&staff, "employee", "Gil Moss").await;
        let dana = person(&staff, "contact", "Dana Home").await;
        let vendor = person(&staff, "vendor", "Vic Parts").await;

        let bad = staff
            .post(
                "/api/v1/sales-referrals",
                json!({ "program_id": program, "referred_id": gil, "referrer_id": vendor, "generated_by": gil, "meeting_at": "next week" }),
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
        assert_eq!(bad.fields(), vec!["meeting_at"]);
        let bad = staff
            .post(
                "/api/v1/sales-referrals",
                json!({ "program_id": program, "referred_id": gil, "referrer_id": vendor, "generated_by": gil }),
            )
            .await;
        assert_eq!(bad.fields(), vec!["referred_id", "generated_by"]);

        let r = staff
            .post(
                "/api/v1/sales-referrals",
                json!({ "program_id": program, "referred_id": dana, "referrer_id": carla, "generated_by": gil, "notes": "Wants solar" }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        assert_eq!(r.body["stage"], "new");
        let rid = id(&r.body);
        let early = staff
            .post(&format!("/api/v1/sales-referrals/{rid}/stage"), json!({ "stage": "meeting_scheduled" }))
            .await;
        assert_eq!(early.fields(), vec!["meeting_at"], "book the meeting first");
        let booked = staff
            .patch(&format!("/api/v1/sales-referrals/{rid}"), json!({ "meeting_at": "2026-12-03T15:00:00Z" }))
            .await;
        assert_eq!(booked.body["meeting_at"], "2026-12-03T15:00:00.000Z", "{}", booked.text);
        staff
            .post(&format!("/api/v1/sales-referrals/{rid}/stage"), json!({ "stage": "meeting_scheduled" }))
            .await;
        let noted = staff
            .post(&format!("/api/v1/sales-referrals/{rid}/notes"), json!({ "text": "Met; quote sent" }))
            .await;
        assert_eq!(noted.status, StatusCode::CREATED);
        let won = staff
            .post(&format!("/api/v1/sales-referrals/{rid}/stage"), json!({ "stage": "won" }))
            .await;
        assert_eq!(won.fields(), vec!["stage"], "won comes from a sale");

        // The sale made from it: people and lead source come from the referral.
        let clash = staff
            .post("/api/v1/sales", json!({ "referral_id": rid, "amount": 500_000, "customer_id": carla }))
            .await;
        assert_eq!(clash.fields(), vec!["customer_id"]);
        let sale = staff
            .post("/api/v1/sales", json!({ "referral_id": rid, "amount": 500_000, "signed_on": "2026-12-05" }))
            .await;
        assert_eq!(sale.status, StatusCode::CREATED, "{}", sale.text);
        assert_eq!(sale.body["lead_source"], "referral_contact");
        assert_eq!(sale.body["customer_id"], dana.as_str());
        assert_eq!(sale.body["generated_by"], gil.as_str());
        let approved = manager.post(&format!("/api/v1/sales/{}/approve", id(&sale.body)), json!({})).await;
        let kinds: Vec<_> = approved.body["bonuses"].as_array().expect("bonuses").iter().map(|b| b["kind"].clone()).collect();
        assert_eq!(kinds, vec![json!("referral_contact"), json!("employee_generated")]);

        let shown = staff.get(&format!("/api/v1/sales-referrals/{rid}")).await;
        assert_eq!(shown.body["stage"], "won");
        assert_eq!(shown.body["sale_id"], sale.body["id"]);
        let history: Vec<(String, Option<String>)> = shown.body["history"]
            .as_array()
            .expect("history")
            .iter()
            .map(|h| (h["kind"].as_str().unwrap_or_default().to_string(), h["to_stage"].as_str().map(str::to_string)))
            .collect();
        assert_eq!(
            history,
            vec![
                ("created".into(), Some("new".into())),
                ("stage".into(), Some("meeting_scheduled".into())),
                ("note".into(), None),
                ("stage".into(), Some("won".into())),
            ]
        );
        let after = staff.patch(&format!("/api/v1/sales-referrals/{rid}"), json!({ "notes": "late" })).await;
        assert_eq!(after.status, StatusCode::CONFLICT);

        // A second referral, lost with a reason: conversion is one in two.
        let r2 = staff
            .post("/api/v1/sales-referrals", json!({ "program_id": program, "referred_id": carla, "referrer_id": vendor }))
            .await;
        let no_reason = staff
            .post(&format!("/api/v1/sales-referrals/{}/stage", id(&r2.body)), json!({ "stage": "lost" }))
            .await;
        assert_eq!(no_reason.fields(), vec!["note"]);
        let lost = staff
            .post(&format!("/api/v1/sales-referrals/{}/stage", id(&r2.body)), json!({ "stage": "lost", "note": "Chose a competitor" }))
            .await;
        assert_eq!(lost.body["lost_reason"], "Chose a competitor", "{}", lost.text);
        let report = staff.get("/admin/sales/reports.csv?report=conversion").await;
        assert_eq!(report.text, "referrals entered,won with a sale,conversion\n2,1,50.0 %\n");
        let api_report = staff.get("/api/v1/sales-reports").await;
        assert_eq!(api_report.status, StatusCode::OK, "{}", api_report.text);
        assert_eq!(api_report.body["conversion"], json!({ "entered": 2, "won": 1 }));
        let kinds: Vec<_> = api_report.body["bonuses_by_kind_and_status"]
            .as_array()
            .expect("groups")
            .iter()
            .map(|g| (g["kind"].clone(), g["status"].clone(), g["count"].clone()))
            .collect();
        assert!(kinds.contains(&(json!("employee_generated"), json!("incomplete"), json!(1))), "{kinds:?}");
        assert_eq!(api_report.body["top_by_sales"][0]["name"], "Carla Ruiz");
        let backwards = staff.get("/api/v1/sales-reports?from=2026-05-01&to=2026-04-01").await;
        assert_eq!(backwards.fields(), vec!["to"]);
        let empty = staff.get("/api/v1/sales-reports?to=").await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY, "an empty date is not a date");
        assert_eq!(empty.fields(), vec!["to"]);
        let listed = staff.get(&format!("/api/v1/sales-referrals?person_id={carla}")).await;
        assert_eq!(listed.body["data"].as_array().map(Vec::len), Some(2));
    })
    .await;
}

/// The console's bonus policy page sets all three sets of terms: contacts', New Customer
/// bonuses' and Add-On Sale bonuses', each with its errors next to its own fields.
#[tokio::test]
async fn the_console_sets_every_set_of_policy_terms() {
    each_backend(|app| async move {
        let program = program(&app).await;
        let manager = app.staff(Role::Manager).await;
        let csrf = manager.csrf.clone().expect("csrf");
        let path = format!("/admin/programs/{program}/bonus-policy");
        let send = |fields: Vec<(String, String)>| {
            let mut form = vec![("csrf".to_string(), csrf.clone())];
            form.extend(fields);
            let req = manager.request(reqwest::Method::POST, &path).form(&form);
            manager.send(req)
        };
        let ticks = |names: &[&str]| -> Vec<(String, String)> {
            names.iter().map(|n| (n.to_string(), "on".to_string())).collect()
        };
        let terms = |px: &str, percentage: &str| -> Vec<(String, String)> {
            [
                ("basis", "percentage"),
                ("percentage", percentage),
                ("currency", "USD"),
                ("front_term", "sign_date"),
                ("back_term", "not_applicable"),
                ("front_share", "100"),
            ]
            .into_iter()
            .map(|(f, v)| (format!("{px}{f}"), v.to_string()))
            .collect()
        };

        // A bad New Customer percentage is shown next to its own field; nothing is saved.
        let mut bad = ticks(&["new_customer_bonus", "new_customer_terms_on"]);
        bad.extend(terms("", "5"));
        bad.extend(terms("nc_", "250"));
        bad.extend(terms("ao_", "3"));
        let page = send(bad).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", page.text);
        assert!(page.text.contains(r#"id="e-nc_percentage""#), "{}", page.text);
        assert!(!page.text.contains(r#"id="e-percentage""#), "the contacts' terms are fine");
        assert!(page.text.contains(r#"<details id="nc-terms" open>"#), "{}", page.text);
        assert!(page.text.contains(r#"name="new_customer_bonus" value="on" checked"#), "what was sent stays ticked");
        let saved = manager.get(&format!("/api/v1/programs/{program}/bonus-policy")).await;
        assert_eq!(saved.body["new_customer_bonus"], false, "{}", saved.text);

        // All three at once; an unticked set is not saved even when its fields are filled.
        let mut good = ticks(&["contact_on", "new_customer_bonus", "new_customer_terms_on", "add_on_bonus"]);
        good.extend(terms("", "5"));
        good.extend(terms("nc_", "2.5"));
        good.extend(terms("ao_", "3"));
        let page = send(good).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text);
        let saved = manager.get(&format!("/api/v1/programs/{program}/bonus-policy")).await;
        assert_eq!(saved.body["contact_terms"]["percentage_bps"], 500, "{}", saved.text);
        assert_eq!(saved.body["new_customer_terms"]["percentage_bps"], 250, "{}", saved.text);
        assert!(saved.body["add_on_terms"].is_null(), "{}", saved.text);
        assert_eq!(saved.body["add_on_bonus"], true);
        let shown = manager.get(&path).await;
        assert!(shown.text.contains(r#"id="f-nc_percentage" type="text" inputmode="decimal" name="nc_percentage" value="2.5""#), "{}", shown.text);
    })
    .await;
}
