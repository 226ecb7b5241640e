//! A person's rights over their data (issue 11): everything held about an email address as
//! JSON, and erasure of a participant or a person, by the API and the console, audited.

mod common;

use common::{TestApp, each_backend, live_program, visitor};
use reqwest::StatusCode;
use serde_json::{Value, json};
use vouch_domain::permission::{Role, Scope};

/// The before/after of every audit entry about participants and people.
async fn all_audit_text(app: &TestApp) -> String {
    let rows: Vec<(Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT before_json, after_json FROM audit_log WHERE entity IN ('participant', 'person')",
    )
    .fetch_all(app.state.store.pool())
    .await
    .expect("audit");
    rows.into_iter()
        .map(|(b, a)| format!("{} {}", b.unwrap_or_default(), a.unwrap_or_default()))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn a_person_sees_and_erases_what_is_held_about_them() {
    each_backend(|app| async move {
        let (program, slug) = live_program(&app, json!({})).await;
        let joined = visitor()
            .post(app.url(&format!("/p/{slug}/join")))
            .form(&[("email", "Ann.Lee@example.com"), ("first_name", "Ann"), ("last_name", "Lee")])
            .send()
            .await
            .expect("join");
        assert_eq!(joined.status(), StatusCode::CREATED);
        let admin = app.key_client(Scope::Admin).await;
        let person = admin
            .post("/api/v1/people", json!({ "kind": "contact", "name": "Ann Lee", "email": "ann.lee@example.com", "phone": "+1 555 0100" }))
            .await;
        assert_eq!(person.status, StatusCode::CREATED, "{}", person.text);
        let person_id = person.body["id"].as_str().expect("id").to_string();
        let partner = admin
            .post("/api/v1/partners", json!({ "name": "Northwind Agency", "contact_email": "ops@northwind.example", "receives_referrals": true }))
            .await;
        let partner = partner.body["id"].as_str().expect("partner").to_string();
        let account = admin
            .post("/api/v1/accounts", json!({ "name": "Lee Bakery", "email": "ann.lee@example.com", "owner_first_name": "Ann", "owner_last_name": "Lee" }))
            .await;
        assert_eq!(account.status, StatusCode::CREATED, "{}", account.text);
        let contact = admin
            .post("/api/v1/partners", json!({ "name": "Lee Consulting", "contact_name": "Ann Lee", "contact_email": "Ann.Lee@example.com", "refers_clients": true }))
            .await;
        assert_eq!(contact.status, StatusCode::CREATED, "{}", contact.text);
        let sent = admin
            .post("/api/v1/partner-referrals", json!({ "partner_id": partner, "direction": "to_partner", "client_name": "Ann Lee", "email": "ANN.LEE@example.com" }))
            .await;
        assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.text);

        // Who may: administrators and admin keys only.
        let path = "/api/v1/personal-data?email=ann.lee@example.com";
        assert_eq!(app.key_client(Scope::Write).await.get(path).await.status, StatusCode::FORBIDDEN);
        assert_eq!(app.staff(Role::Manager).await.get(path).await.status, StatusCode::FORBIDDEN);
        let bad = admin.get("/api/v1/personal-data?email=not-an-email").await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.fields(), vec!["email".to_string()]);

        let held = admin.get(path).await;
        assert_eq!(held.status, StatusCode::OK, "{}", held.text);
        assert_eq!(held.body["email"], "ann.lee@example.com");
        assert_eq!(held.body["participants"].as_array().map(Vec::len), Some(1));
        assert_eq!(held.body["participants"][0]["first_name"], "Ann");
        assert_eq!(held.body["people"].as_array().map(Vec::len), Some(1));
        assert!(held.body["emails"].as_array().is_some_and(|e| !e.is_empty()), "the welcome email");
        assert_eq!(held.body["suppressed"], false);
        assert_eq!(held.body["partner_referrals"][0]["client_name"], "Ann Lee", "a partner's client too");
        assert_eq!(held.body["lead_sales"], json!([]));
        assert_eq!(held.body["partner_users"], json!([]));
        assert_eq!(held.body["accounts"][0]["name"], "Lee Bakery", "the account she owns");
        assert_eq!(held.body["partner_contacts"][0]["partner_name"], "Lee Consulting");
        assert_eq!(held.body["partner_contacts"][0]["contact_name"], "Ann Lee");
        let participant_id = held.body["participants"][0]["id"].as_str().expect("id").to_string();
        let exported = admin.get("/api/v1/audit-events?action=personal_data.exported").await;
        assert_eq!(exported.body["data"].as_array().map(Vec::len), Some(1), "the lookup is audited");

        // Erasing the participant: personal fields gone everywhere, money and audit kept.
        let erase = format!("/api/v1/participants/{participant_id}/erase");
        assert_eq!(app.staff(Role::Manager).await.post(&erase, json!({})).await.status, StatusCode::FORBIDDEN);
        let erased = admin.post(&erase, json!({})).await;
        assert_eq!(erased.status, StatusCode::OK, "{}", erased.text);
        assert_eq!(erased.body["email"], format!("erased+{participant_id}@erased.invalid"));
        assert_eq!(erased.body["first_name"], Value::Null);
        assert_eq!(erased.body["last_name"], Value::Null);
        assert_ne!(erased.body["code"], held.body["participants"][0]["code"], "the code made from her name is replaced");
        let again = admin.post(&erase, json!({})).await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert_eq!(again.body["code"], "already_erased");
        let listed = admin.get(&format!("/api/v1/programs/{program}/participants")).await;
        assert_eq!(listed.body["data"][0]["id"], participant_id.as_str(), "the record stays, by id");
        let events: Vec<String> = sqlx::query_scalar("SELECT type FROM events WHERE type = 'participant.erased'")
            .fetch_all(app.state.store.pool())
            .await
            .expect("events");
        assert_eq!(events.len(), 1, "integrations are told");

        let erase_person = format!("/api/v1/people/{person_id}/erase");
        let gone = admin.post(&erase_person, json!({})).await;
        assert_eq!(gone.status, StatusCode::OK, "{}", gone.text);
        assert_eq!(gone.body["name"], "Erased person");
        assert_eq!(gone.body["email"], Value::Null);
        assert_eq!(gone.body["phone"], Value::Null);

        let after = admin.get(path).await;
        assert_eq!(after.body["participants"], json!([]));
        assert_eq!(after.body["people"], json!([]));
        assert_eq!(after.body["emails"], json!([]), "the outbox copies are redacted");
        let audit = all_audit_text(&app).await;
        assert!(!audit.to_lowercase().contains("ann.lee@example.com"), "no audit entry names her any more");
        assert!(!audit.contains("555 0100"));
        let actions = admin.get("/api/v1/audit-events?action=participant.erased").await;
        assert_eq!(actions.body["data"].as_array().map(Vec::len), Some(1));
        assert_eq!(admin.post("/api/v1/participants/par_missing/erase", json!({})).await.status, StatusCode::NOT_FOUND);
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn the_console_looks_up_and_erases_behind_a_confirmation() {
    each_backend(|app| async move {
        let (_, slug) = live_program(&app, json!({})).await;
        visitor()
            .post(app.url(&format!("/p/{slug}/join")))
            .form(&[("email", "bo@example.com"), ("first_name", "Bo")])
            .send()
            .await
            .expect("join");
        let admin = app.staff(Role::Admin).await;
        let account = admin
            .post("/api/v1/accounts", json!({ "name": "Bo's Bikes", "email": "bo@example.com", "owner_first_name": "Bo", "owner_last_name": "Ek" }))
            .await;
        let account_id = account.body["id"].as_i64().expect("account");
        let page = admin.get("/admin/privacy?email=bo@example.com").await;
        assert!(
            page.text.contains(&format!("/admin/accounts/{account_id}\">Bo&#x27;s Bikes</a>"))
                || page.text.contains(&format!("/admin/accounts/{account_id}\">Bo&#39;s Bikes</a>")),
            "the account the person owns is linked: {}",
            page.text
        );
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.text.contains("id=\"found\"")
                && page.text.contains("data-confirm=\"Erase participant"),
            "{}",
            page.text
        );
        assert!(
            page.text
                .contains("/api/v1/personal-data?email=bo%40example.com")
        );
        let bad = admin.get("/admin/privacy?email=bo@").await;
        assert!(
            bad.text.contains("id=\"e-email\""),
            "the error sits next to the field"
        );
        let id = page
            .text
            .split("/admin/privacy/participants/")
            .nth(1)
            .and_then(|s| s.split('/').next())
            .expect("id")
            .to_string();
        let csrf = admin.csrf.clone().expect("csrf");
        let req = admin
            .request(
                reqwest::Method::POST,
                &format!("/admin/privacy/participants/{id}/erase"),
            )
            .form(&[("csrf", csrf.as_str()), ("email", "bo@example.com")]);
        let done = admin.send(req).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER);
        let back = admin.get("/admin/privacy?email=bo@example.com").await;
        assert!(
            back.text.contains(&format!("Participant {id} erased."))
                && back.text.contains("id=\"nothing\""),
            "{}",
            back.text
        );
        // Staff below administrator see no such page.
        assert_eq!(
            app.staff(Role::Manager)
                .await
                .get("/admin/privacy")
                .await
                .status,
            StatusCode::FORBIDDEN
        );
        app.stop().await;
    })
    .await;
}
