//! The partner portal end to end on both stores: invitations accepted once, sign-in, a staff
//! cookie that never opens the portal (nor the reverse), submitting and editing referrals with
//! the history both sides see, admins managing colleagues, removal ending sessions, password
//! resets that reveal nothing, and one partner never seeing another's referrals.

mod common;

use common::{Api, TestApp, each_backend};
use reqwest::StatusCode;
use serde_json::{Value, json};
use vouch_domain::permission::{Role, Scope};

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

/// The newest email of `kind` to `to`.
async fn newest_mail(app: &TestApp, kind: &str, to: &str) -> Option<Value> {
    let admin = app.key_client(Scope::Admin).await;
    let mails = admin.get("/api/v1/emails?limit=100").await;
    mails.body["data"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|m| m["kind"] == kind && m["to_address"] == to)
        })
        .cloned()
}

/// The one-time link's token in the newest email of `kind` to `to`.
async fn token_in(app: &TestApp, kind: &str, to: &str) -> String {
    let mail = newest_mail(app, kind, to).await.expect("email");
    let text = mail["text_body"].as_str().expect("text");
    let at = text.find("token=").expect("a link with a token") + "token=".len();
    text[at..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect()
}

/// The CSRF token of a portal page's forms.
fn csrf_of(html: &str) -> String {
    let at = html.find(r#"name="csrf" value=""#).expect("a form") + r#"name="csrf" value=""#.len();
    html[at..].chars().take_while(|c| *c != '"').collect()
}

async fn form(api: &Api, path: &str, pairs: &[(&str, &str)]) -> common::Reply {
    let mut pairs = pairs.to_vec();
    let token;
    if path == "/portal/login" {
        // As a browser does: the sign-in form first, for its login-CSRF token and cookie.
        let page = api.get(path).await;
        token = page
            .text
            .split("name=\"login_csrf\" value=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .expect("token")
            .to_string();
        pairs.push(("login_csrf", &token));
    }
    let req = api.request(reqwest::Method::POST, path).form(&pairs);
    api.send(req).await
}

/// Accepts an invitation in a fresh browser-like client, which is then signed in.
async fn accept(app: &TestApp, to: &str, password: &str) -> Api {
    let token = token_in(app, "partner_invite", to).await;
    let client = app.anonymous();
    let page = client.get(&format!("/portal/welcome?token={token}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let done = form(
        &client,
        "/portal/welcome",
        &[
            ("token", &token),
            ("password", password),
            ("confirm", password),
        ],
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    let cookie = done
        .headers
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        cookie.starts_with("vouch_portal=") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    client
}

#[tokio::test]
async fn the_partner_portal_from_invitation_to_edited_referrals() {
    each_backend(|app| async move {
        let staff = app.staff(Role::Staff).await;
        let manager = app.staff(Role::Manager).await;
        let manager_id = manager.get("/api/v1/me").await.body["id"].as_str().expect("id").to_string();
        let a = staff.post("/api/v1/partners", json!({ "name": "Northwind Agency", "contact_email": "ops@northwind.example", "refers_clients": true, "receives_referrals": true, "manager_id": manager_id })).await;
        let a = id(&a.body);
        let b = staff.post("/api/v1/partners", json!({ "name": "Other Agency", "refers_clients": true })).await;
        let b = id(&b.body);
        for (partner, email, name, role) in [(&a, "alice@northwind.example", "Alice North", "admin"), (&a, "bob@northwind.example", "Bob North", "member"), (&b, "carol@other.example", "Carol Other", "admin")] {
            let invited = staff.post(&format!("/api/v1/partners/{partner}/users"), json!({ "email": email, "name": name, "role": role })).await;
            assert_eq!(invited.status, StatusCode::CREATED, "{}", invited.text);
            assert_eq!(invited.body["status"], "invited");
        }
        let taken = staff.post(&format!("/api/v1/partners/{b}/users"), json!({ "email": "ALICE@northwind.example", "name": "Again", "role": "member" })).await;
        assert_eq!(taken.status, StatusCode::CONFLICT, "one live user per address");

        // The invitation: the passwords must match and be long enough; the link works once.
        let token = token_in(&app, "partner_invite", "alice@northwind.example").await;
        let anon = app.anonymous();
        let page = anon.get(&format!("/portal/welcome?token={token}")).await;
        assert!(page.text.contains("Welcome, Alice North") && page.text.contains("Northwind Agency"), "{}", page.text);
        let differ = form(&anon, "/portal/welcome", &[("token", &token), ("password", "long enough 1"), ("confirm", "long enough 2")]).await;
        assert_eq!(differ.status, StatusCode::UNPROCESSABLE_ENTITY);
        let short = form(&anon, "/portal/welcome", &[("token", &token), ("password", "short"), ("confirm", "short")]).await;
        assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", short.text);
        let alice = accept(&app, "alice@northwind.example", "northwind-alice-1").await;
        let reused = form(&app.anonymous(), "/portal/welcome", &[("token", &token), ("password", "another pass 1"), ("confirm", "another pass 1")]).await;
        assert_eq!(reused.status, StatusCode::NOT_FOUND, "a link works once");
        let bob = accept(&app, "bob@northwind.example", "northwind-bob-12").await;
        let carol = accept(&app, "carol@other.example", "other-carol-123").await;

        // Sessions do not cross: a staff cookie is no portal session, a portal one no staff's.
        let staff_in_portal = staff.get("/portal/referrals").await;
        assert_eq!(staff_in_portal.status, StatusCode::SEE_OTHER);
        assert_eq!(staff_in_portal.headers["location"], "/portal/login");
        let portal_in_console = alice.get("/admin/partners").await;
        assert_eq!(portal_in_console.status, StatusCode::SEE_OTHER);
        assert!(portal_in_console.headers["location"].to_str().unwrap_or_default().starts_with("/admin/login"));
        assert_eq!(alice.get("/api/v1/partners").await.status, StatusCode::UNAUTHORIZED);

        // Submit a Referral: the page says when; the manager is emailed; the form needs its
        // CSRF token and names what is wrong next to the field.
        let page = alice.get("/portal/referrals/new").await;
        assert!(page.text.contains("before the client has agreed"), "{}", page.text);
        let csrf = csrf_of(&page.text);
        let forged = form(&alice, "/portal/referrals/new", &[("client_name", "Dana Home"), ("email", "dana@homegoods.example")]).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "no CSRF token, no referral");
        let bad = form(&alice, "/portal/referrals/new", &[("csrf", &csrf), ("client_name", ""), ("email", "not an email")]).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.text.contains(r#"id="e-client_name""#) && bad.text.contains(r#"id="e-email""#), "{}", bad.text);
        let sent = form(&alice, "/portal/referrals/new", &[("csrf", &csrf), ("client_name", "Dana Home"), ("company", "Home Goods Ltd"), ("email", "dana@homegoods.example"), ("plan_advice", "on"), ("value", "2500.00"), ("currency", "USD")]).await;
        assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.text);
        let mine = sent.headers["location"].to_str().expect("location").trim_start_matches("/portal/referrals/").to_string();
        let shown = alice.get(&format!("/portal/referrals/{mine}")).await;
        assert!(shown.text.contains("submitted: your partner manager will contact you"), "{}", shown.text);
        let me = manager.get("/api/v1/me").await;
        let manager_email = me.body["label"].as_str().unwrap_or_default();
        assert!(newest_mail(&app, "partner_referral_submitted", manager_email).await.is_some(), "the manager is emailed");
        let as_staff = staff.get(&format!("/api/v1/partner-referrals/{mine}")).await;
        assert_eq!((as_staff.body["direction"].as_str(), as_staff.body["partner_id"].as_str()), (Some("to_us"), Some(a.as_str())));

        // We send one to the partner: both show in View Referrals, sortable and searchable.
        let ours = staff.post("/api/v1/partner-referrals", json!({ "partner_id": a, "direction": "to_partner", "client_name": "Abe Client", "phone": "+1 555 0100" })).await;
        let ours = id(&ours.body);
        let list = bob.get("/portal/referrals?sort=client_name").await;
        assert!(list.text.contains("2 of 2 referral(s)"), "{}", list.text);
        let abe = list.text.find("Abe Client").expect("ours");
        let dana = list.text.find("Dana Home").expect("theirs");
        assert!(abe < dana, "sorted by client");
        assert!(list.text.contains("Us → you") && list.text.contains("You → us"));
        let found = bob.get("/portal/referrals?q=homegoods").await;
        assert!(found.text.contains("1 of 1 referral(s)") && found.text.contains("Dana Home"), "{}", found.text);

        // Edit: a member moves ours on; both sides see the change in its history.
        let page = bob.get(&format!("/portal/referrals/{ours}?edit=1")).await;
        let csrf = csrf_of(&page.text);
        assert!(page.text.contains("Not enough information to proceed"), "stages explain themselves");
        let saved = form(&bob, &format!("/portal/referrals/{ours}"), &[("csrf", &csrf), ("stage", "in_progress"), ("value", "1200.00"), ("currency", "USD"), ("notes", "Called Abe")]).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
        let history = staff.get(&format!("/api/v1/partner-referrals/{ours}")).await;
        let stage = history.body["history"].as_array().expect("history").iter().find(|c| c["field"] == "stage").cloned().expect("stage change");
        assert_eq!((stage["side"].as_str(), stage["to"].as_str()), (Some("partner"), Some("In Progress")));
        assert!(stage["actor"].as_str().unwrap_or_default().contains("bob@northwind.example"));
        let theirs = alice.get(&format!("/portal/referrals/{ours}")).await;
        assert!(theirs.text.contains("New → In Progress"), "{}", theirs.text);

        // A referral the partner brought us is closed by its manager, not by the partner.
        let page = alice.get(&format!("/portal/referrals/{mine}?edit=1")).await;
        let csrf = csrf_of(&page.text);
        let self_won = form(&alice, &format!("/portal/referrals/{mine}"), &[("csrf", &csrf), ("stage", "won"), ("value", "2500.00"), ("currency", "USD"), ("notes", "")]).await;
        assert_eq!(self_won.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", self_won.text);
        assert!(self_won.text.contains(r#"id="e-stage""#), "{}", self_won.text);
        // Once its manager marked it won, the partner cannot reopen it either (its commission
        // follows the stage).
        let won = staff.patch(&format!("/api/v1/partner-referrals/{mine}"), json!({ "stage": "won" })).await;
        assert_eq!(won.status, StatusCode::OK, "{}", won.text);
        let reopen = form(&alice, &format!("/portal/referrals/{mine}"), &[("csrf", &csrf), ("stage", "in_progress"), ("currency", "USD"), ("notes", "")]).await;
        assert_eq!(reopen.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reopen.text);
        assert!(reopen.text.contains(r#"id="e-stage""#), "{}", reopen.text);
        let still = staff.get(&format!("/api/v1/partner-referrals/{mine}")).await;
        assert_eq!(still.body["stage"], "won");

        // Another partner's user sees none of it.
        assert_eq!(carol.get(&format!("/portal/referrals/{ours}")).await.status, StatusCode::NOT_FOUND);
        let carol_csrf = csrf_of(&carol.get("/portal/referrals/new").await.text);
        let sneak = form(&carol, &format!("/portal/referrals/{ours}"), &[("csrf", &carol_csrf), ("stage", "junk"), ("currency", "USD")]).await;
        assert_eq!(sneak.status, StatusCode::NOT_FOUND);
        let carol_list = carol.get("/portal/referrals").await;
        assert!(carol_list.text.contains("No referrals") && !carol_list.text.contains("Abe Client"), "{}", carol_list.text);

        // My Account: everyone with access; a member cannot invite; an admin invites and
        // removes, and a removed user's session ends at once.
        let account = bob.get("/portal/account").await;
        assert!(account.text.contains("alice@northwind.example") && account.text.contains("bob@northwind.example"), "{}", account.text);
        assert!(!account.text.contains("carol@other.example"));
        let bob_csrf = csrf_of(&account.text);
        let refused = form(&bob, "/portal/account/users", &[("csrf", &bob_csrf), ("email", "eve@northwind.example"), ("name", "Eve"), ("role", "member")]).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let account = alice.get("/portal/account").await;
        let alice_csrf = csrf_of(&account.text);
        let invited = form(&alice, "/portal/account/users", &[("csrf", &alice_csrf), ("email", "dave@northwind.example"), ("name", "Dave North"), ("role", "member")]).await;
        assert_eq!(invited.status, StatusCode::SEE_OTHER, "{}", invited.text);
        assert!(newest_mail(&app, "partner_invite", "dave@northwind.example").await.is_some());
        let users = staff.get(&format!("/api/v1/partners/{a}/users")).await;
        let bob_id = users.body["data"].as_array().expect("users").iter().find(|u| u["email"] == "bob@northwind.example").map(id).expect("bob");
        let removed = form(&alice, &format!("/portal/account/users/{bob_id}/remove"), &[("csrf", &alice_csrf)]).await;
        assert_eq!(removed.status, StatusCode::SEE_OTHER);
        assert_eq!(bob.get("/portal/referrals").await.status, StatusCode::SEE_OTHER, "bob's session ended");
        let carol_cannot = form(&carol, &format!("/portal/account/users/{bob_id}/remove"), &[("csrf", &carol_csrf)]).await;
        assert_eq!(carol_cannot.status, StatusCode::NOT_FOUND, "another partner's user is not found");

        // Signing in again; a wrong password is refused; a reset reveals nothing.
        let fresh = app.anonymous();
        assert_eq!(form(&fresh, "/portal/login", &[("email", "alice@northwind.example"), ("password", "wrong password")]).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(form(&fresh, "/portal/login", &[("email", "bob@northwind.example"), ("password", "northwind-bob-12")]).await.status, StatusCode::UNAUTHORIZED, "removed");
        let signed = form(&fresh, "/portal/login", &[("email", "alice@northwind.example"), ("password", "northwind-alice-1")]).await;
        assert_eq!(signed.status, StatusCode::SEE_OTHER);
        assert_eq!(fresh.get("/portal/referrals").await.status, StatusCode::OK);
        for email in ["alice@northwind.example", "nobody@northwind.example"] {
            let asked = form(&app.anonymous(), "/portal/reset", &[("email", email)]).await;
            assert_eq!(asked.status, StatusCode::OK);
            assert!(asked.text.contains("If that address has access"), "{}", asked.text);
        }
        assert!(newest_mail(&app, "partner_password_reset", "alice@northwind.example").await.is_some());
        let again = form(&app.anonymous(), "/portal/reset", &[("email", "alice@northwind.example")]).await;
        assert_eq!(again.status, StatusCode::OK, "the same answer");
        let admin = app.key_client(Scope::Admin).await;
        let resets = admin.get("/api/v1/emails?limit=100").await.body["data"].as_array().expect("mails").iter().filter(|m| m["kind"] == "partner_password_reset").count();
        assert_eq!(resets, 1, "one link per user every few minutes");
        assert!(newest_mail(&app, "partner_password_reset", "nobody@northwind.example").await.is_none());

        // Staff remove Alice: every session of hers ends.
        let alice_id = users.body["data"].as_array().expect("users").iter().find(|u| u["email"] == "alice@northwind.example").map(id).expect("alice");
        let gone = staff.send(staff.request(reqwest::Method::DELETE, &format!("/api/v1/partners/{a}/users/{alice_id}"))).await;
        assert_eq!(gone.status, StatusCode::NO_CONTENT);
        assert_eq!(alice.get("/portal/referrals").await.status, StatusCode::SEE_OTHER);
        assert_eq!(fresh.get("/portal/referrals").await.status, StatusCode::SEE_OTHER);
    })
    .await;
}
