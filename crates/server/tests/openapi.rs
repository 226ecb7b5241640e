//! The OpenAPI document is generated from the code; this snapshot makes every change to it a
//! reviewed change. After an intended change run
//! `VOUCH_UPDATE_OPENAPI=1 cargo test -p vouch-server --test openapi` and commit
//! `docs/openapi.json`.

mod common;

use common::TestApp;
use reqwest::StatusCode;
use vouch_store::Backend;

#[tokio::test]
async fn spec_matches_the_reviewed_snapshot() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let anon = app.anonymous();
    let spec = anon.get("/api/v1/openapi.json").await;
    assert_eq!(spec.status, StatusCode::OK);
    assert_eq!(spec.body["openapi"], "3.1.0");
    let snapshot = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    let current = format!(
        "{}\n",
        serde_json::to_string_pretty(&spec.body).expect("json")
    );
    if std::env::var("VOUCH_UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(&snapshot, &current).expect("write snapshot");
    }
    let reviewed = std::fs::read_to_string(&snapshot).unwrap_or_default();
    assert!(
        reviewed == current,
        "the OpenAPI document changed; review it and run `VOUCH_UPDATE_OPENAPI=1 cargo test -p vouch-server --test openapi`, then commit docs/openapi.json"
    );

    // Every documented operation exists: none answers 404 for a missing route or 405.
    let admin = app.key_client(vouch_domain::permission::Scope::Admin).await;
    let paths = spec.body["paths"].as_object().expect("paths");
    let mut operations = 0;
    for (path, item) in paths {
        let concrete = path.replace("{id}", "1");
        for method in item.as_object().expect("item").keys() {
            operations += 1;
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let req = admin.request(m.clone(), &concrete);
            let req = if m == reqwest::Method::GET {
                req
            } else {
                req.json(&serde_json::json!({}))
            };
            let r = admin.send(req).await;
            assert_ne!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert!(
                r.status != StatusCode::NOT_FOUND || r.body["detail"] != "no such endpoint",
                "{method} {path} is not routed"
            );
            // Every status is stated: no `4XX` catch-all; credentials and access everywhere.
            let responses = &item[method]["responses"];
            assert!(item[method]["operationId"].is_string(), "{method} {path}");
            assert!(responses["4XX"].is_null(), "{method} {path}");
            assert!(
                responses["401"].is_object() && responses["403"].is_object(),
                "{method} {path}"
            );
        }
    }
    assert!(operations >= 23, "{operations}");

    let docs = anon.get("/api/docs").await;
    assert_eq!(docs.status, StatusCode::OK);
    assert!(
        docs.text.contains("GET /api/v1/accounts")
            && docs.text.contains("id=\"error-validation_failed\"")
    );
    assert!(
        // Before the schemas (printed as JSON, where a pattern may hold a backtick).
        !docs
            .text
            .split("<pre")
            .next()
            .unwrap_or_default()
            .contains('`'),
        "descriptions are rendered: code as <code>, never a raw backtick"
    );
    assert!(
        !docs.text.contains("src=\"http") && !docs.text.contains("href=\"http"),
        "the reference loads nothing from elsewhere"
    );
    app.stop().await;
}

/// Every `$ref` in the document names a schema it defines, webhooks included.
#[tokio::test]
async fn every_reference_resolves() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let spec = app.anonymous().get("/api/v1/openapi.json").await;
    fn refs(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                if let Some(r) = m.get("$ref").and_then(|r| r.as_str()) {
                    out.push(r.to_string());
                }
                m.values().for_each(|v| refs(v, out));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&spec.body, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected reference {r}"));
        assert!(
            spec.body["components"]["schemas"][name].is_object(),
            "{r} is not defined"
        );
    }
    let hooks = spec.body["webhooks"].as_object().expect("webhooks");
    assert_eq!(hooks.len(), vouch_app::resources::EVENT_TYPES.len());
    // The reference page lists every event type.
    let page = app.anonymous().get("/api/docs").await;
    for e in vouch_app::resources::EVENT_TYPES {
        assert!(
            page.text.contains(&format!("id=\"event-{}\"", e.name)),
            "{}",
            e.name
        );
    }
    app.stop().await;
}

/// Every operation shows a real example: its JSON request body and its JSON success answer
/// (recorded from the test suite by `.ci/examples.py`).
#[tokio::test]
async fn every_operation_has_examples() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let spec = app.anonymous().get("/api/v1/openapi.json").await;
    let mut missing = Vec::new();
    for (path, item) in spec.body["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            let name = format!("{method} {path}");
            let request = &op["requestBody"]["content"]["application/json"];
            if request.is_object() && request["example"].is_null() {
                missing.push(format!("{name} (request)"));
            }
            // At least one JSON success answer carries an example.
            let successes: Vec<&serde_json::Value> = op["responses"]
                .as_object()
                .expect("responses")
                .iter()
                .filter(|(status, _)| status.starts_with('2'))
                .map(|(_, r)| &r["content"]["application/json"])
                .filter(|media| media.is_object())
                .collect();
            if !successes.is_empty() && successes.iter().all(|m| m["example"].is_null()) {
                missing.push(format!("{name} (response)"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "no example for {missing:?}: run the server's tests with VOUCH_RECORD_EXAMPLES=DIR, then `python3 .ci/examples.py DIR`"
    );
    app.stop().await;
}
