//! People who refer sales and their agreed terms (issue 9), through the API on both stores.

mod common;

use common::each_backend;
use reqwest::StatusCode;
use serde_json::json;
use vouch_domain::permission::{Role, Scope};

#[tokio::test]
async fn people_and_their_terms_with_history() {
    each_backend(|app| async move {
        let staff = app.staff(Role::Staff).await;
        let erin = staff
            .post(
                "/api/v1/people",
                json!({ "kind": "employee", "name": "Erin Diaz", "email": "erin@example.com", "employee_number": "E-104" }),
            )
            .await;
        assert_eq!(erin.status, StatusCode::CREATED, "{}", erin.text);
        assert_eq!(erin.body["kind"], "employee");
        assert!(erin.body["terms"].is_null(), "no terms agreed yet");
        let erin_id = erin.body["id"].as_str().expect("id").to_string();
        let carla = staff
            .post(
                "/api/v1/people",
                json!({ "kind": "contact", "name": "Carla Ruiz", "company": "Ruiz Roofing" }),
            )
            .await;
        assert_eq!(carla.status, StatusCode::CREATED, "{}", carla.text);
        let carla_id = carla.body["id"].as_str().expect("id").to_string();

        // Bad input names every field, and nothing is stored.
        let bad = staff
            .post(
                "/api/v1/people",
                json!({ "kind": "vendor", "name": " ", "email": "nope", "employee_number": "V-1" }),
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.fields(), vec!["name", "email", "employee_number"]);
        let kinds = staff.post("/api/v1/people", json!({ "kind": "customer", "name": "X" })).await;
        assert_eq!(kinds.fields(), vec!["kind"]);

        // Terms: staff may not agree them; a manager may.
        let terms = json!({ "percentage_bps": 1000, "front_term": "sign_date", "back_term": "install_date", "front_share_bps": 5000 });
        let path = format!("/api/v1/people/{erin_id}/terms");
        assert_eq!(staff.post(&path, terms.clone()).await.status, StatusCode::FORBIDDEN);
        let manager = app.staff(Role::Manager).await;
        let first = manager.post(&path, terms).await;
        assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
        assert_eq!(first.body["percentage_bps"], 1000);
        assert_eq!(first.body["back_term"], "install_date");
        let second = manager
            .post(&path, json!({ "fixed_amount": 10000, "currency": "USD", "front_term": "job_approved_date" }))
            .await;
        assert_eq!(second.status, StatusCode::CREATED, "{}", second.text);
        assert_eq!(second.body["front_share_bps"], 10000);
        let refused = manager
            .post(&path, json!({ "percentage_bps": 500, "front_term": "sign_date", "front_share_bps": 5000 }))
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(refused.fields(), vec!["front_share_bps"]);
        let contact = manager
            .post(
                &format!("/api/v1/people/{carla_id}/terms"),
                json!({ "percentage_bps": 500, "front_term": "sign_date" }),
            )
            .await;
        assert_eq!(contact.status, StatusCode::CONFLICT);
        assert_eq!(contact.body["code"], "contacts_have_no_terms");

        // The history keeps both versions; the person shows the one in force.
        let viewer = app.key_client(Scope::Read).await;
        let history = viewer.get(&path).await;
        let versions = history.body["data"].as_array().expect("versions");
        assert_eq!(versions.len(), 2);
        assert_eq!(versions[0]["percentage_bps"], 1000);
        assert_eq!(versions[0]["version"], 1);
        assert_eq!(versions[1]["fixed_amount"], 10000);
        assert_eq!(versions[1]["version"], 2);
        let shown = viewer.get(&format!("/api/v1/people/{erin_id}")).await;
        assert_eq!(shown.body["terms"]["fixed_amount"], 10000);

        // Lists filter by kind and search; patches change only what they name.
        let employees = viewer.get("/api/v1/people?kind=employee").await;
        assert_eq!(employees.body["data"].as_array().expect("data").len(), 1);
        let found = viewer.get("/api/v1/people?search=ROOFING").await;
        assert_eq!(found.body["data"][0]["id"], carla_id.as_str());
        let patched = staff
            .patch(&format!("/api/v1/people/{carla_id}"), json!({ "phone": "555.555.5555" }))
            .await;
        assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
        assert_eq!(patched.body["phone"], "555.555.5555");
        assert_eq!(patched.body["company"], "Ruiz Roofing");
        assert_eq!(viewer.get("/api/v1/people/per_nobody").await.status, StatusCode::NOT_FOUND);

        // Every change is audited, terms with their before and after.
        let admin = app.key_client(Scope::Admin).await;
        let log = admin.get("/api/v1/audit-events?action=person.&limit=100").await;
        let actions: Vec<&str> = log.body["data"]
            .as_array()
            .expect("log")
            .iter()
            .filter_map(|e| e["action"].as_str())
            .collect();
        assert_eq!(
            actions,
            vec!["person.updated", "person.terms_set", "person.terms_set", "person.created", "person.created"]
        );
        let latest_terms = &log.body["data"][1];
        assert_eq!(latest_terms["before"]["percentage_bps"], 1000);
        assert_eq!(latest_terms["after"]["fixed_amount"], 10000);
        app.stop().await;
    })
    .await;
}

/// People from CSV: good lines added, bad ones reported by line, a second run changes
/// nothing; a dry run saves nothing; the console page does the same.
#[tokio::test]
async fn people_import_from_csv() {
    each_backend(|app| async move {
        let staff = app.staff(Role::Staff).await;
        let csv = "name,kind,email,employee_number\nErin Diaz,employee,erin@example.com,E-104\nNo Kind,,nokind@example.com,\n,vendor,v@example.com,\nVera Supply,vendor,vera@example.com,V-9\nCarla Ruiz,contact,carla@example.com,\n";
        let dry = staff
            .post("/api/v1/people/imports", json!({ "csv": csv, "dry_run": true }))
            .await;
        assert_eq!(dry.status, StatusCode::OK, "{}", dry.text);
        assert_eq!(dry.body["created"], 2);
        let listed = staff.get("/api/v1/people").await;
        assert_eq!(listed.body["data"].as_array().map(Vec::len), Some(0), "a dry run saves nothing");
        let first = staff.post("/api/v1/people/imports", json!({ "csv": csv })).await;
        assert_eq!(first.body["created"], 2, "{}", first.text);
        let problems: Vec<(i64, String)> = first.body["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| (e["line"].as_i64().unwrap_or(0), e["field"].as_str().unwrap_or_default().to_string()))
            .collect();
        assert_eq!(
            problems,
            vec![(3, "kind".into()), (4, "name".into()), (5, "employee_number".into())]
        );
        let again = staff
            .post("/api/v1/people/imports", json!({ "csv": csv, "kind": "contact" }))
            .await;
        assert_eq!(again.body["created"], 1, "only the row that now has a kind: {}", again.text);
        assert_eq!(again.body["already_present"], 2);
        let no_name = staff.post("/api/v1/people/imports", json!({ "csv": "email\nx@y.z\n" })).await;
        assert_eq!(no_name.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(no_name.fields(), vec!["csv"]);
        let viewer = app.key_client(Scope::Read).await;
        assert_eq!(
            viewer.post("/api/v1/people/imports", json!({ "csv": csv })).await.status,
            StatusCode::FORBIDDEN
        );

        // The console page.
        let csrf = staff.csrf.clone().expect("csrf");
        let req = staff.request(reqwest::Method::POST, "/admin/people/import").form(&[
            ("csrf", csrf.as_str()),
            ("kind", "contact"),
            ("csv", "name,email\nDana Home,dana@example.com\n"),
            ("action", "import"),
        ]);
        let page = staff.send(req).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        assert!(page.text.contains("Added <strong>1</strong>"), "{}", page.text);
        let contacts = staff.get("/api/v1/people?kind=contact").await;
        assert_eq!(contacts.body["data"].as_array().map(Vec::len), Some(3));
    })
    .await;
}
