//! The JSON API end to end, on both stores.

mod common;

use common::{Api, each_backend};
use reqwest::StatusCode;
use serde_json::json;
use vouch_domain::permission::{Role, Scope};

#[tokio::test]
async fn health_and_readiness() {
    each_backend(|app| async move {
        let anon = app.anonymous();
        assert_eq!(anon.get("/healthz").await.status, StatusCode::OK);
        let ready = anon.get("/readyz").await;
        assert_eq!(ready.status, StatusCode::OK);
        assert_eq!(ready.body["database"], app.backend.name());
        let r = anon.get("/healthz").await;
        assert!(r.headers.get("x-request-id").is_some());
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn request_ids_are_echoed_or_made() {
    each_backend(|app| async move {
        let anon = app.anonymous();
        let r = anon
            .send(
                anon.request(reqwest::Method::GET, "/healthz")
                    .header("x-request-id", "trace-123"),
            )
            .await;
        assert_eq!(r.headers["x-request-id"], "trace-123");
        let r = anon
            .send(
                anon.request(reqwest::Method::GET, "/healthz")
                    .header("x-request-id", "bad id with spaces"),
            )
            .await;
        assert!(
            r.headers["x-request-id"]
                .to_str()
                .expect("ascii")
                .starts_with("req_")
        );
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn accounts_crud_validation_and_conflicts() {
    each_backend(|app| async move {
        let api = app.key_client(Scope::Write).await;
        let created = api
            .post("/api/v1/accounts", json!({ "name": "Acme Roofing", "email": "Ops@Acme.example", "owner_first_name": "Ann", "owner_last_name": "Lee", "owner_phone": "555.123.4567", "vendor_matrix": true }))
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        assert_eq!(created.body["code"], "ACMEROOFING");
        assert_eq!(created.body["email"], "ops@acme.example");
        assert_eq!(created.body["vendor_matrix"], true);
        assert_eq!(created.body["registration_link"], serde_json::Value::Null);
        let id = created.body["id"].as_i64().expect("id");

        // Every invalid field is reported, with a problem+json body, and nothing is created.
        let bad = api.post("/api/v1/accounts", json!({ "email": "nope", "code": "lower", "owner_phone": "call me" })).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.headers["content-type"], "application/problem+json");
        assert_eq!(bad.body["code"], "validation_failed");
        for f in ["name", "email", "code", "owner_first_name", "owner_last_name", "owner_phone"] {
            assert!(bad.fields().contains(&f.to_string()), "{f} missing in {}", bad.text);
        }
        let typed = api.post("/api/v1/accounts", json!({ "name": 5 })).await;
        assert_eq!(typed.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(typed.fields(), vec!["name".to_string()]);
        let unknown = api.post("/api/v1/accounts", json!({ "name": "X", "colour": "red" })).await;
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(unknown.fields(), vec!["colour".to_string()]);
        let syntax = api.send(api.request(reqwest::Method::POST, "/api/v1/accounts").header("content-type", "application/json").body("{oops")).await;
        assert_eq!(syntax.status, StatusCode::BAD_REQUEST);
        let media = api.send(api.request(reqwest::Method::POST, "/api/v1/accounts").body("name=x")).await;
        assert_eq!(media.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

        let dup = api.post("/api/v1/accounts", json!({ "name": "Other", "email": "ops@acme.example", "owner_first_name": "A", "owner_last_name": "B" })).await;
        assert_eq!(dup.status, StatusCode::CONFLICT);
        assert_eq!(dup.fields(), vec!["email".to_string()]);

        let patched = api.patch(&format!("/api/v1/accounts/{id}"), json!({ "notes": "VIP", "whitelabeling": true })).await;
        assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
        assert_eq!(patched.body["notes"], "VIP");
        assert_eq!(patched.body["name"], "Acme Roofing");
        let bad_patch = api.patch(&format!("/api/v1/accounts/{id}"), json!({ "email": "" })).await;
        assert_eq!(bad_patch.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(api.get(&format!("/api/v1/accounts/{id}")).await.body["email"], "ops@acme.example");

        assert_eq!(api.get("/api/v1/accounts/999999").await.status, StatusCode::NOT_FOUND);
        assert_eq!(api.get("/api/v1/accounts/abc").await.status, StatusCode::NOT_FOUND);
        assert_eq!(api.get("/api/v1/nothing-here").await.status, StatusCode::NOT_FOUND);
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn account_lists_paginate_search_and_filter() {
    each_backend(|app| async move {
        let api = app.key_client(Scope::Write).await;
        for i in 0..5 {
            api.account(&format!("Company {i}"), &format!("c{i}@x.example")).await;
        }
        let sc = api.post("/api/v1/accounts", json!({ "name": "Hub", "email": "hub@x.example", "owner_first_name": "H", "owner_last_name": "Q", "is_super_customer": true })).await;
        let sc = sc.body["id"].as_i64().expect("id");
        let child = api
            .post("/api/v1/accounts", json!({ "name": "Child", "email": "child@x.example", "owner_first_name": "C", "owner_last_name": "D", "parent_id": sc }))
            .await;
        assert_eq!(child.status, StatusCode::CREATED, "{}", child.text);

        let first = api.get("/api/v1/accounts?limit=3&sort=name").await;
        assert_eq!(first.body["data"].as_array().map(Vec::len), Some(3));
        assert_eq!(first.body["has_more"], true);
        let cursor = first.body["next_cursor"].as_str().expect("cursor").to_string();
        let second = api.get(&format!("/api/v1/accounts?limit=3&sort=name&starting_after={cursor}")).await;
        assert_eq!(second.body["data"].as_array().map(Vec::len), Some(3));
        let third = api.get(&format!("/api/v1/accounts?limit=3&sort=name&starting_after={}", second.body["next_cursor"].as_str().expect("c"))).await;
        assert_eq!(third.body["has_more"], false);
        assert_eq!(third.body["next_cursor"], serde_json::Value::Null);
        assert_eq!(third.body["data"].as_array().map(Vec::len), Some(1));

        let search = api.get("/api/v1/accounts?q=company%203").await;
        assert_eq!(search.body["data"][0]["name"], "Company 3");
        let by_id = api.get(&format!("/api/v1/accounts?q={sc}")).await;
        assert_eq!(by_id.body["data"][0]["id"], sc);
        let supers = api.get("/api/v1/accounts?super_customers=true").await;
        assert_eq!(supers.body["data"].as_array().map(Vec::len), Some(1));
        let subs = api.get(&format!("/api/v1/accounts/{sc}/sub-customers")).await;
        assert_eq!(subs.body["data"][0]["name"], "Child");

        assert_eq!(api.get("/api/v1/accounts?limit=101").await.fields(), vec!["limit".to_string()]);
        assert_eq!(api.get("/api/v1/accounts?limit=0").await.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(api.get("/api/v1/accounts?sort=colour").await.fields(), vec!["sort".to_string()]);
        assert_eq!(api.get("/api/v1/accounts?limit=abc").await.fields(), vec!["limit".to_string()]);
        assert_eq!(api.get("/api/v1/accounts?starting_after=999999").await.fields(), vec!["starting_after".to_string()]);
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn hierarchy_rules() {
    each_backend(|app| async move {
        let api = app.key_client(Scope::Write).await;
        let a = api.account("Alpha", "a@x.example").await;
        let b = api.account("Beta", "b@x.example").await;
        // Not a super customer yet.
        let r = api
            .post(
                &format!("/api/v1/accounts/{b}/nest"),
                json!({ "parent_id": a }),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.fields(), vec!["parent_id".to_string()]);
        assert_eq!(
            api.post(
                &format!("/api/v1/accounts/{a}/designate"),
                json!({ "is_super_customer": true })
            )
            .await
            .status,
            StatusCode::OK
        );
        assert_eq!(
            api.post(
                &format!("/api/v1/accounts/{b}/designate"),
                json!({ "is_super_customer": true })
            )
            .await
            .status,
            StatusCode::OK
        );
        let r = api
            .post(
                &format!("/api/v1/accounts/{b}/nest"),
                json!({ "parent_id": a }),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["parent_id"], a);
        // Cycle and self-nesting.
        assert_eq!(
            api.post(
                &format!("/api/v1/accounts/{a}/nest"),
                json!({ "parent_id": b })
            )
            .await
            .status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(
            api.post(
                &format!("/api/v1/accounts/{a}/nest"),
                json!({ "parent_id": a })
            )
            .await
            .status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(
            api.post(
                &format!("/api/v1/accounts/{a}/nest"),
                json!({ "parent_id": 424242 })
            )
            .await
            .status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        // Cannot stop being a super customer while accounts are nested under it: the
        // account's state refuses it (409), the input is fine.
        let refused = api
            .post(
                &format!("/api/v1/accounts/{a}/designate"),
                json!({ "is_super_customer": false }),
            )
            .await;
        assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
        assert_eq!(refused.body["code"], "has_sub_customers");
        let r = api
            .post(
                &format!("/api/v1/accounts/{b}/nest"),
                json!({ "parent_id": null }),
            )
            .await;
        assert_eq!(r.body["parent_id"], serde_json::Value::Null);
        // Nesting belongs to its own endpoint.
        assert_eq!(
            api.patch(&format!("/api/v1/accounts/{b}"), json!({ "parent_id": a }))
                .await
                .fields(),
            vec!["parent_id".to_string()]
        );
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn clone_follows_the_naming_convention_with_overrides() {
    each_backend(|app| async move {
        let api = app.key_client(Scope::Write).await;
        let v = api
            .account("Vector Services - Contractor", "ops@vector.example")
            .await;
        let preview = api
            .post(
                &format!("/api/v1/accounts/{v}/clone-preview"),
                json!({ "beneficiary_label": "Vector" }),
            )
            .await;
        assert_eq!(preview.body["name"], "Vector Referral Super Customer");
        assert_eq!(preview.body["code"], "VECTORREFERRALSUPERCUSTOMER");
        assert_eq!(
            preview.body["email"],
            "vectorreferralsupercustomer@purchasingplatform.com"
        );
        let clone = api
            .post(
                &format!("/api/v1/accounts/{v}/clone"),
                json!({ "beneficiary_label": "Vector", "owner_phone": "555.000.1111" }),
            )
            .await;
        assert_eq!(clone.status, StatusCode::CREATED, "{}", clone.text);
        assert_eq!(clone.body["owner_first_name"], "Vector Referral");
        assert_eq!(clone.body["owner_last_name"], "Super Customer");
        assert_eq!(clone.body["owner_phone"], "555.000.1111");
        assert_eq!(clone.body["vendor_matrix"], true);
        assert_eq!(clone.body["corporate_catalog"], true);
        assert_eq!(clone.body["whitelabeling"], true);
        // Cloning twice collides on the conventional code and email.
        let again = api
            .post(
                &format!("/api/v1/accounts/{v}/clone"),
                json!({ "beneficiary_label": "Vector" }),
            )
            .await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        // Overrides the document refuses are refused, by the clone and by its preview.
        for path in ["clone", "clone-preview"] {
            for (body, field) in [
                (json!({ "email": "not an email" }), "email"),
                (json!({ "code": "lower" }), "code"),
                (json!({ "partner_site_url": "ftp://x" }), "partner_site_url"),
                (json!({ "colour": "red" }), "colour"),
                (json!({ "vendor_matrix": "yes" }), "vendor_matrix"),
            ] {
                let r = api
                    .post(&format!("/api/v1/accounts/{v}/{path}"), body)
                    .await;
                assert_eq!(
                    r.status,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "{path}: {}",
                    r.text
                );
                assert_eq!(r.fields(), vec![field.to_string()], "{path}");
            }
        }
        app.stop().await;
    })
    .await;
}

async fn request_setup(api: &Api, beneficiary: i64) -> String {
    let r = api.post("/api/v1/referral-setups", json!({ "beneficiary_id": beneficiary, "super_customer": { "beneficiary_label": "Vector" } })).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["status"], "requested");
    assert_eq!(
        r.body["super_customer_preview"]["name"],
        "Vector Referral Super Customer"
    );
    r.body["id"].as_str().expect("id").to_string()
}

#[tokio::test]
async fn setup_needs_management_approval_and_runs_the_procedure() {
    each_backend(|app| async move {
        let staff = app.staff(Role::Staff).await;
        let manager = app.staff(Role::Manager).await;
        let v = staff.account("Vector Services - Contractor", "ops@vector.example").await;
        let id = request_setup(&staff, v).await;

        let refused = staff.post(&format!("/api/v1/referral-setups/{id}/approve"), json!({})).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert_eq!(staff.get(&format!("/api/v1/referral-setups/{id}")).await.body["status"], "requested");
        let write_key = app.key_client(Scope::Write).await;
        assert_eq!(write_key.post(&format!("/api/v1/referral-setups/{id}/approve"), json!({})).await.status, StatusCode::FORBIDDEN);

        let approved = manager.post(&format!("/api/v1/referral-setups/{id}/approve"), json!({ "note": "agreed with sponsor" })).await;
        assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
        assert_eq!(approved.body["status"], "approved");
        let sc = approved.body["super_customer"]["id"].as_i64().expect("sc");
        assert_eq!(approved.body["super_customer"]["is_super_customer"], true);
        assert_eq!(approved.body["super_customer"]["registration_approved"], true);
        assert_eq!(approved.body["beneficiary"]["parent_id"], sc);
        assert_eq!(approved.body["beneficiary"]["exempt_from_membership_fees"], true);
        let link = approved.body["registration_link"].as_str().expect("link");
        assert_eq!(
            link,
            format!("{}/register?utm_source=login_page&utm_medium=register_button&utm_campaign=pp_login_page&utm_id=self_registration&utm_term=register&super_customer_id={sc}", app.base)
        );
        let again = manager.post(&format!("/api/v1/referral-setups/{id}/reject"), json!({})).await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert_eq!(again.body["code"], "already_decided");

        let subs = staff.get(&format!("/api/v1/accounts/{sc}/sub-customers")).await;
        assert_eq!(subs.body["data"][0]["id"], v);
        let audit = manager.get(&format!("/api/v1/audit-events?entity=referral_setup&entity_id={id}")).await;
        let actions: Vec<&str> = audit.body["data"].as_array().expect("data").iter().filter_map(|e| e["action"].as_str()).collect();
        assert_eq!(actions, vec!["referral_setup.approved", "referral_setup.requested"]);
        let entry = &audit.body["data"][0];
        assert!(entry["actor_label"].as_str().expect("label").starts_with("manager-"));
        assert!(entry["request_id"].as_str().expect("rid").starts_with("req_"));
        assert_eq!(entry["client_ip"], "127.0.0.1");
        // Action prefixes match literally: `_` and `%` are not wildcards.
        let by_prefix = manager.get("/api/v1/audit-events?action=referral_setup.").await;
        assert_eq!(by_prefix.body["data"].as_array().map(Vec::len), Some(2), "{}", by_prefix.text);
        let wildcard = manager.get("/api/v1/audit-events?action=%25setup").await;
        assert_eq!(wildcard.body["data"].as_array().map(Vec::len), Some(0));
        let none = manager.get("/api/v1/audit-events?action=referralXsetup").await;
        assert_eq!(none.body["data"].as_array().map(Vec::len), Some(0));
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn setup_requests_are_validated_whole_and_rejection_creates_nothing() {
    each_backend(|app| async move {
        let staff = app.staff(Role::Staff).await;
        let manager = app.staff(Role::Manager).await;
        let none = staff.post("/api/v1/referral-setups", json!({})).await;
        assert_eq!(none.fields(), vec!["beneficiary_id".to_string()]);
        let missing = staff.post("/api/v1/referral-setups", json!({ "beneficiary_id": 777 })).await;
        assert_eq!(missing.fields(), vec!["beneficiary_id".to_string()]);
        let bad_new = staff.post("/api/v1/referral-setups", json!({ "beneficiary": { "name": "New Co", "email": "bad" } })).await;
        assert_eq!(bad_new.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad_new.fields().contains(&"beneficiary.email".to_string()), "{}", bad_new.text);
        let bad_policy = staff
            .post("/api/v1/referral-setups", json!({ "beneficiary": { "name": "New Co", "email": "n@new.example", "owner_first_name": "N", "owner_last_name": "C" }, "super_customer": { "registration_policy": "channel_partner" } }))
            .await;
        assert_eq!(bad_policy.fields(), vec!["super_customer.partner_site_url".to_string()]);

        let ok = staff
            .post("/api/v1/referral-setups", json!({ "beneficiary": { "name": "New Co", "email": "n@new.example", "owner_first_name": "N", "owner_last_name": "C" } }))
            .await;
        assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text);
        let id = ok.body["id"].as_str().expect("id");
        let rejected = manager.post(&format!("/api/v1/referral-setups/{id}/reject"), json!({ "note": "not now" })).await;
        assert_eq!(rejected.body["status"], "rejected");
        assert_eq!(rejected.body["decision_note"], "not now");
        assert_eq!(staff.get("/api/v1/accounts").await.body["data"].as_array().map(Vec::len), Some(0));
        let list = staff.get("/api/v1/referral-setups?status=rejected").await;
        assert_eq!(list.body["data"].as_array().map(Vec::len), Some(1));
        assert_eq!(staff.get("/api/v1/referral-setups?status=maybe").await.fields(), vec!["status".to_string()]);
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn idempotency_keys_replay_refuse_and_scope() {
    each_backend(|app| async move {
        let api = app.key_client(Scope::Write).await;
        let body = json!({ "name": "Once", "email": "once@x.example", "owner_first_name": "O", "owner_last_name": "N" });
        let send = |api: &Api, body: serde_json::Value, key: &str| {
            let req = api.request(reqwest::Method::POST, "/api/v1/accounts").header("idempotency-key", key).json(&body);
            let api = api.clone();
            async move { api.send(req).await }
        };
        let first = send(&api, body.clone(), "k-1").await;
        assert_eq!(first.status, StatusCode::CREATED);
        let replay = send(&api, body.clone(), "k-1").await;
        assert_eq!(replay.status, StatusCode::CREATED);
        assert_eq!(replay.body["id"], first.body["id"]);
        assert_eq!(replay.headers["idempotent-replayed"], "true");
        let other = send(&api, json!({ "name": "Twice" }), "k-1").await;
        assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(other.body["code"], "idempotency_key_reused");
        assert_eq!(api.get("/api/v1/accounts").await.body["data"].as_array().map(Vec::len), Some(1));
        // A failed request stores nothing: the same key may be retried with a fixed body.
        let bad = send(&api, json!({ "name": "Later" }), "k-2").await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        let fixed = send(&api, json!({ "name": "Later", "email": "later@x.example", "owner_first_name": "L", "owner_last_name": "R" }), "k-2").await;
        assert_eq!(fixed.status, StatusCode::CREATED, "{}", fixed.text);
        // Keys belong to their caller.
        let other_key = app.key_client(Scope::Write).await;
        let theirs = send(&other_key, json!({ "name": "Theirs", "email": "theirs@x.example", "owner_first_name": "T", "owner_last_name": "S" }), "k-1").await;
        assert_eq!(theirs.status, StatusCode::CREATED);
        // A duplicate that arrives while the first is still running is told to retry.
        let me = api.get("/api/v1/me").await;
        vouch_store::idempotency::claim(app.state.store.pool(), &format!("key:{}", me.body["id"].as_str().expect("id")), "k-3", "h")
            .await
            .expect("claim");
        let busy = send(&api, body.clone(), "k-3").await;
        assert_eq!(busy.status, StatusCode::UNPROCESSABLE_ENTITY, "another body under a running key");
        let path_hash = {
            use sha2::Digest;
            let mut h = sha2::Sha256::new();
            h.update(b"/api/v1/accounts");
            h.update([0]);
            h.update(serde_json::to_vec(&body).expect("json"));
            hex::encode(h.finalize())
        };
        vouch_store::idempotency::claim(app.state.store.pool(), &format!("key:{}", me.body["id"].as_str().expect("id")), "k-4", &path_hash)
            .await
            .expect("claim");
        let in_flight = send(&api, body.clone(), "k-4").await;
        assert_eq!(in_flight.status, StatusCode::CONFLICT);
        assert_eq!(in_flight.body["code"], "idempotency_key_in_use");
        // A revoked key gets its 401, not a stored answer.
        let admin = app.key_client(Scope::Admin).await;
        admin.post(&format!("/api/v1/api-keys/{}/revoke", me.body["id"].as_str().expect("id")), json!({})).await;
        assert_eq!(send(&api, body.clone(), "k-1").await.status, StatusCode::UNAUTHORIZED);
        app.stop().await;
    })
    .await;
}

/// A body is one JSON object and nothing after it; integral numbers written with a fraction
/// (`2.0`) are integers, as JSON Schema says; names without letters still get a slug and a
/// code.
#[tokio::test]
async fn bodies_are_one_json_object() {
    each_backend(|app| async move {
        let api = app.key_client(Scope::Write).await;
        let raw = |body: &'static str| {
            api.request(reqwest::Method::POST, "/api/v1/accounts")
                .header("content-type", "application/json")
                .body(body)
        };
        let trailing = api.send(raw(r#"{"name":"A"} garbage"#)).await;
        assert_eq!(trailing.status, StatusCode::BAD_REQUEST, "{}", trailing.text);
        let array = api.send(raw("[null, null]")).await;
        assert_eq!(array.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", array.text);
        let missing = api.post("/api/v1/accounts", json!({ "code": "X" })).await;
        assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
        for f in ["name", "email", "owner_first_name", "owner_last_name"] {
            assert!(missing.fields().contains(&f.to_string()), "{f} in {}", missing.text);
        }
        let symbols = api
            .post("/api/v1/accounts", json!({ "name": "★★★", "email": "stars@example.com", "owner_first_name": "A", "owner_last_name": "B" }))
            .await;
        assert_eq!(symbols.status, StatusCode::CREATED, "{}", symbols.text);
        assert_eq!(symbols.body["code"], "ACCOUNT");
        let manager = app.staff(Role::Manager).await;
        let program = manager
            .post("/api/v1/programs", json!({ "name": "★", "landing_url": "https://shop.example.com", "reward_hold_days": 2.0 }))
            .await;
        assert_eq!(program.status, StatusCode::CREATED, "{}", program.text);
        assert_eq!(program.body["slug"], "program");
        assert_eq!(program.body["reward_hold_days"], 2);
        let fraction = manager
            .post("/api/v1/programs", json!({ "name": "Half", "landing_url": "https://shop.example.com", "reward_hold_days": 2.5 }))
            .await;
        assert_eq!(fraction.fields(), vec!["reward_hold_days".to_string()]);
        app.stop().await;
    })
    .await;
}

/// A closed set takes one of its names, or null (or nothing) for the default; an empty string
/// is refused naming the field, as the document's enum says.
#[tokio::test]
async fn closed_sets_refuse_the_empty_string() {
    each_backend(|app| async move {
        let manager = app.staff(Role::Manager).await;
        let p = manager
            .post(
                "/api/v1/programs",
                json!({ "name": "Sets", "landing_url": "https://shop.example.com" }),
            )
            .await;
        let program = p.body["id"].as_str().expect("program").to_string();
        let rules = format!("/api/v1/programs/{program}/reward-rules");
        for field in ["trigger", "sides", "kind", "delivery"] {
            let r = manager
                .post(
                    &rules,
                    json!({ "name": "Each", "threshold": 1, "amount": 500, field: "" }),
                )
                .await;
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{field}: {}",
                r.text
            );
            assert_eq!(r.fields(), vec![field.to_string()], "{}", r.text);
        }
        let r = manager
            .post(
                &rules,
                json!({ "name": "Each", "threshold": 1, "amount": 500, "trigger": null }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        assert_eq!(r.body["trigger"], "milestone");

        let api = app.key_client(Scope::Write).await;
        let a = api.account("Sets Inc", "sets@example.com").await;
        let r = api
            .patch(
                &format!("/api/v1/accounts/{a}"),
                json!({ "registration_policy": "" }),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
        assert_eq!(r.fields(), vec!["registration_policy".to_string()]);
        app.stop().await;
    })
    .await;
}

/// A query parameter with a control character is refused naming it, on both stores
/// (PostgreSQL cannot even compare text that holds NUL).
#[tokio::test]
async fn control_characters_in_query_parameters_are_refused() {
    each_backend(|app| async move {
        let api = app.key_client(Scope::Admin).await;
        for (path, field) in [
            ("/api/v1/emails?starting_after=a%00b", "starting_after"),
            (
                "/api/v1/jobs?status=running&starting_after=%00",
                "starting_after",
            ),
            ("/api/v1/audit-events?entity_id=x%00&limit=2", "entity_id"),
            ("/api/v1/accounts?search=%1B", "search"),
        ] {
            let r = api.get(path).await;
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{path}: {}",
                r.text
            );
            assert_eq!(r.fields(), vec![field.to_string()], "{path}");
        }
        app.stop().await;
    })
    .await;
}

/// A path holding a control character names nothing: 404, never a database error.
#[tokio::test]
async fn control_characters_in_paths_name_nothing() {
    each_backend(|app| async move {
        let api = app.key_client(Scope::Admin).await;
        for path in [
            "/api/v1/people/per%00x",
            "/api/v1/programs/prg%00x",
            "/api/v1/referral-setups/%1B",
        ] {
            let r = api.get(path).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.text);
        }
        let r = app.anonymous().get("/r/AB%00CD").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        app.stop().await;
    })
    .await;
}

/// A JSON string holding NUL is refused naming its field, on both stores (PostgreSQL cannot
/// store it; other control characters are each field's own business).
#[tokio::test]
async fn nul_in_json_bodies_is_refused_naming_the_field() {
    each_backend(|app| async move {
        let api = app.key_client(Scope::Admin).await;
        let r = api
            .send(
                api.request(reqwest::Method::PUT, "/api/v1/email-templates/referral_won")
                    .json(&json!({ "subject": "Hi", "text": "a\u{0}b", "html": "" })),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
        assert_eq!(r.fields(), vec!["text".to_string()]);
        let r = api
            .post(
                "/api/v1/people",
                json!({ "kind": "contact", "name": "N", "notes": ["x"], "tags": { "a": "\u{0}" } }),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
        assert_eq!(r.fields(), vec!["tags.a".to_string()]);
        app.stop().await;
    })
    .await;
}
