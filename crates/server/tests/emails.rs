//! Email end to end: templates, the outbox sink, a real SMTP listener, retries, both stores.

mod common;

use common::receiver::{Mode, Receiver};
use common::smtp::SmtpListener;
use common::{TestApp, each_backend};
use reqwest::{Method, StatusCode};
use serde_json::json;
use vouch_domain::permission::{Role, Scope};
use vouch_jobs::email::{EmailSettings, SmtpSecurity, SmtpSettings, Transport};

/// An endpoint that answers 410, an event, a drain: the endpoint is disabled and the owners and
/// admins get a notice.
async fn disable_an_endpoint(app: &TestApp, worker: &vouch_jobs::Worker) -> String {
    let rx = Receiver::start(Mode::Gone).await;
    let admin = app.key_client(Scope::Admin).await;
    let r = admin
        .post("/api/v1/webhook-endpoints", json!({ "url": rx.url }))
        .await;
    let n = vouch_domain::id::new_id("n").to_lowercase();
    admin
        .account(&format!("Acme {n}"), &format!("ops-{n}@acme.example"))
        .await;
    // Drains the delivery (410: the endpoint is disabled and the notices queued), then the notices.
    worker.drain().await.expect("drain");
    r.body["url"].as_str().expect("url").to_string()
}

#[tokio::test]
async fn a_disabled_endpoint_emails_owners_and_admins_into_the_outbox() {
    each_backend(|app| async move {
        app.create_user("owner@x.example", Role::Owner).await;
        app.create_user("admin@x.example", Role::Admin).await;
        app.create_user("staff@x.example", Role::Staff).await;
        let url = disable_an_endpoint(&app, &app.worker()).await;
        let admin = app.login("admin@x.example").await;
        let page = admin.get("/admin/emails").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.text.contains("owner@x.example") && page.text.contains("admin@x.example"));
        assert!(!page.text.contains("staff@x.example"), "staff are not told");
        assert!(
            page.text
                .contains(&format!("Webhook endpoint disabled: {url}"))
        );
        assert!(page.text.contains(">Stored<"), "the outbox sink keeps them");
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn smtp_delivers_text_and_html_and_retries_temporary_failures() {
    each_backend(|app| async move {
        let smtp = SmtpListener::start().await;
        smtp.refuse(true);
        app.create_user("owner@x.example", Role::Owner).await;
        let settings = EmailSettings {
            transport: Transport::Smtp(SmtpSettings { host: "127.0.0.1".into(), port: smtp.port, security: SmtpSecurity::None, username: None, password: None }),
            from: "Vouch <vouch@test.local>".into(),
        };
        let worker = app.worker_with(|s| {
            s.email = settings.clone();
            s.delivery.retry_schedule = vec![0];
        });
        disable_an_endpoint(&app, &worker).await;
        assert!(smtp.mails().is_empty(), "refused");
        let admin = app.key_client(Scope::Admin).await;
        let dead = admin.get("/api/v1/jobs?status=dead").await;
        let job = dead.body["data"].as_array().expect("data").iter().find(|j| j["kind"] == "email").expect("dead email job").clone();
        assert_eq!(job["attempts"], 2, "the first try and one retry");
        assert!(job["last_error"].as_str().expect("error").contains("451"), "{job}");
        let outbox = app.login_as_new_admin().await.get("/admin/emails").await;
        assert!(outbox.text.contains(">Dead<"));

        // SMTP is fixed; the operator retries the dead job.
        smtp.refuse(false);
        admin.post(&format!("/api/v1/jobs/{}/retry", job["id"].as_str().expect("id")), json!({})).await;
        worker.drain().await.expect("drain");
        let mails = smtp.mails();
        assert_eq!(mails.len(), 1, "{mails:?}");
        let mail = &mails[0];
        assert!(mail.from.contains("vouch@test.local"));
        assert_eq!(mail.to, vec!["<owner@x.example>".to_string()]);
        assert!(mail.data.contains("Subject: Webhook endpoint disabled"));
        assert!(mail.data.contains("text/plain") && mail.data.contains("text/html"));
        let attempts: Vec<(i64, String)> = sqlx::query_as("SELECT a.succeeded, COALESCE(a.response_body, a.error, '') FROM job_attempts a JOIN jobs j ON j.id = a.job_id WHERE j.kind = 'email' ORDER BY a.started_at")
            .fetch_all(app.state.store.pool())
            .await
            .expect("attempts");
        assert_eq!(attempts.len(), 3, "every attempt recorded: {attempts:?}");
        assert!(attempts[2].1.starts_with("250"), "{attempts:?}");
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn template_errors_show_their_line_and_overrides_apply() {
    each_backend(|app| async move {
        let admin = app.staff(Role::Admin).await;
        let csrf = admin.csrf.clone().expect("csrf");
        let page = admin
            .get("/admin/email-templates/webhook_endpoint_disabled")
            .await;
        assert!(page.text.contains("id=\"preview\""), "the default previews");
        let bad = admin
            .send(
                admin
                    .request(
                        Method::POST,
                        "/admin/email-templates/webhook_endpoint_disabled",
                    )
                    .form(&[
                        ("csrf", csrf.as_str()),
                        ("subject", "Disabled: {{ endpoint.url }}"),
                        ("text", "Hello"),
                        ("html", "<p>ok</p>\n<p>{{ endpont.url }}</p>"),
                        ("action", "save"),
                    ]),
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            bad.text.contains("id=\"template-error\"")
                && bad.text.contains("html")
                && bad.text.contains("line 2"),
            "{}",
            bad.text
        );
        let good = admin
            .send(
                admin
                    .request(
                        Method::POST,
                        "/admin/email-templates/webhook_endpoint_disabled",
                    )
                    .form(&[
                        ("csrf", csrf.as_str()),
                        ("subject", "Endpoint off: {{ endpoint.url }}"),
                        ("text", "Because {{ reason }}."),
                        ("html", "<p>Because {{ reason }}.</p>"),
                        ("action", "save"),
                    ]),
            )
            .await;
        assert_eq!(good.status, StatusCode::SEE_OTHER);
        app.create_user("owner@x.example", Role::Owner).await;
        let url = disable_an_endpoint(&app, &app.worker()).await;
        let outbox = admin.get("/admin/emails").await;
        assert!(
            outbox.text.contains(&format!("Endpoint off: {url}")),
            "the override is used"
        );

        // An override that breaks anyway (written around the checks) never stops mail.
        sqlx::query("UPDATE email_templates SET html_body = '{{ nonsense.value }}'")
            .execute(app.state.store.pool())
            .await
            .expect("break");
        disable_an_endpoint(&app, &app.worker()).await;
        let outbox = admin.get("/admin/emails").await;
        assert!(
            outbox.text.contains("Webhook endpoint disabled:"),
            "the shipped default stood in"
        );
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn templates_and_the_outbox_through_the_api() {
    each_backend(|app| async move {
        let admin = app.key_client(Scope::Admin).await;
        let list = admin.get("/api/v1/email-templates").await;
        assert_eq!(list.body["data"][0]["kind"], "webhook_endpoint_disabled");
        assert_eq!(list.body["data"][0]["customised"], false);
        let path = "/api/v1/email-templates/webhook_endpoint_disabled";
        let bad = admin.send(admin.request(Method::PUT, path).json(&json!({ "subject": "x", "text": "{{ oops }}", "html": "" }))).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.fields(), vec!["text".to_string()]);
        assert!(bad.text.contains("line 1"), "{}", bad.text);
        assert_eq!(admin.get(path).await.body["customised"], false, "nothing saved");
        let good = admin.send(admin.request(Method::PUT, path).json(&json!({ "subject": "Off: {{ endpoint.url }}", "text": "{{ reason }}", "html": "<b>{{ reason }}</b>" }))).await;
        assert_eq!(good.status, StatusCode::OK, "{}", good.text);
        assert_eq!(good.body["customised"], true);
        app.create_user("owner@x.example", Role::Owner).await;
        disable_an_endpoint(&app, &app.worker()).await;
        let emails = admin.get("/api/v1/emails").await;
        let first = &emails.body["data"][0];
        assert!(first["subject"].as_str().expect("subject").starts_with("Off: http://127.0.0.1"));
        assert_eq!(first["html_body"], "<b>the endpoint answered 410 Gone</b>");
        assert_eq!(first["status"], "stored");
        let one = admin.get(&format!("/api/v1/emails/{}", first["id"].as_str().expect("id"))).await;
        assert_eq!(one.body["to_address"], "owner@x.example");
        let reset = admin.send(admin.request(Method::DELETE, path)).await;
        assert_eq!(reset.body["customised"], false);
        assert_eq!(admin.get("/api/v1/email-templates/nope").await.status, StatusCode::NOT_FOUND);
        app.stop().await;
    })
    .await;
}
