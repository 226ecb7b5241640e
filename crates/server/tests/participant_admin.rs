//! Staff work on one participant, on both stores: blocking (what it stops, what it leaves
//! alone, and the Undo on the page that follows), correcting details, notes (and their erasure
//! with the participant), and the console lists sorting by column header.

mod common;

use common::{Api, Reply, each_backend, enrol, live_program};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vouch_domain::permission::{Role, Scope};

/// Posts a console form as the signed-in staff user.
async fn form(staff: &Api, path: &str, fields: &[(&str, &str)]) -> Reply {
    let csrf = staff.csrf.clone().expect("csrf");
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    staff
        .send(staff.request(Method::POST, path).form(&all))
        .await
}

/// The hidden fields and target of the Undo form on a page.
fn undo_form(page: &str) -> Option<(String, Vec<(String, String)>)> {
    let start = page.find("id=\"undo-form\"")?;
    let tag_start = page[..start].rfind("<form")?;
    let form = &page[tag_start..tag_start + page[tag_start..].find("</form>")?];
    let action = form
        .split("action=\"")
        .nth(1)?
        .split('"')
        .next()?
        .to_string();
    let fields = form
        .split("<input type=\"hidden\" name=\"")
        .skip(1)
        .filter_map(|rest| {
            let name = rest.split('"').next()?.to_string();
            let value = rest
                .split("value=\"")
                .nth(1)?
                .split('"')
                .next()?
                .to_string();
            Some((name, value))
        })
        .filter(|(name, _)| name != "csrf")
        .collect();
    Some((action, fields))
}

#[tokio::test]
async fn a_blocked_participant_is_credited_nothing_until_undone() {
    each_backend(|app| async move {
        let (program, _) = live_program(&app, json!({ "qualifying_event": "purchase" })).await;
        let key = app.key_client(Scope::Admin).await;
        let rule = key
            .post(
                &format!("/api/v1/programs/{program}/reward-rules"),
                json!({ "name": "Ten", "threshold": 1, "amount": 1000, "sides": "double", "friend_amount": 500 }),
            )
            .await;
        assert_eq!(rule.status, StatusCode::CREATED, "{}", rule.text);
        let ann = enrol(&key, &program, "ann@example.com", None).await;
        let ann_id = ann["id"].as_str().expect("id").to_string();
        let code = ann["code"].as_str().expect("code").to_string();
        let bo = enrol(&key, &program, "bo@example.com", Some(&ann["code"])).await;

        let manager = app.staff(Role::Manager).await;
        let page = format!("/admin/participants/{ann_id}");
        let no_reason = form(&manager, &format!("{page}/block"), &[("reason", " ")]).await;
        assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(no_reason.text.contains("id=\"e-reason\""), "{}", no_reason.text);
        let still = key.get(&format!("/api/v1/participants/{ann_id}")).await;
        assert_eq!(still.body["status"], "active", "bad input changes nothing");

        let blocked = form(&manager, &format!("{page}/block"), &[("reason", "Self-referrals")]).await;
        assert_eq!(blocked.status, StatusCode::SEE_OTHER, "{}", blocked.text);
        let shown = manager.get(&page).await;
        assert!(shown.text.contains("id=\"blocked-notice\""), "{}", shown.text);
        assert!(shown.text.contains("Blocked: Self-referrals"), "the reason is a note");
        let (undo_action, undo_fields) = undo_form(&shown.text).expect("an Undo form");
        assert_eq!(undo_action, format!("{page}/unblock"));
        let api_view = key.get(&format!("/api/v1/participants/{ann_id}")).await;
        assert_eq!(api_view.body["status"], "blocked");
        let again = form(&manager, &format!("{page}/block"), &[("reason", "twice")]).await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);

        // Their link still leads to the program, but carries no ref, sets no cookie and counts
        // no click.
        let visitor = common::visitor();
        let hop = visitor
            .get(app.url(&format!("/r/{code}?utm_source=mail")))
            .send()
            .await
            .expect("redirect");
        assert_eq!(hop.status(), StatusCode::FOUND);
        let to = hop
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(to.starts_with("https://shop.example.com/join"), "{to}");
        assert!(to.contains("utm_source=mail") && !to.contains("ref="), "{to}");
        assert!(hop.headers().get("set-cookie").is_none());
        // With nothing to pass on, the landing URL as it is: no bare `?`.
        let bare = visitor
            .get(app.url(&format!("/r/{code}?ref=SOMEONE")))
            .send()
            .await
            .expect("redirect");
        let to = bare
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(!to.contains('?') && !to.contains("ref="), "{to}");
        app.state.clicks.flush_and_stop().await;
        let clicks: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM clicks")
            .fetch_one(app.state.store.pool())
            .await
            .expect("count");
        assert_eq!(clicks, 0);

        // A signup naming their code joins without a referrer.
        let cy = enrol(&key, &program, "cy@example.com", Some(&ann["code"])).await;
        assert_eq!(cy["referred_by"], Value::Null, "{cy}");

        // A referral made before the block wins: the friend is rewarded, the referrer is not.
        let won = key
            .post(&format!("/api/v1/programs/{program}/events"), json!({ "event_id": "buy-bo", "name": "purchase", "participant_id": bo["id"] }))
            .await;
        assert_eq!(won.body["outcome"], "referral_won", "{}", won.text);
        let ann_rewards = key
            .get(&format!("/api/v1/programs/{program}/rewards?participant_id={ann_id}"))
            .await;
        assert_eq!(ann_rewards.body["data"].as_array().map(Vec::len), Some(0), "{}", ann_rewards.text);
        let bo_rewards = key
            .get(&format!("/api/v1/programs/{program}/rewards?participant_id={}", bo["id"].as_str().expect("id")))
            .await;
        assert_eq!(bo_rewards.body["data"].as_array().map(Vec::len), Some(1), "{}", bo_rewards.text);

        // A staff user may not undo a manager's block; the manager's Undo lifts it.
        let staff = app.staff(Role::Staff).await;
        assert_eq!(form(&staff, &undo_action, &[]).await.status, StatusCode::FORBIDDEN);
        let fields: Vec<(&str, &str)> = undo_fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let undone = form(&manager, &undo_action, &fields).await;
        assert_eq!(undone.status, StatusCode::SEE_OTHER, "{}", undone.text);
        let api_view = key.get(&format!("/api/v1/participants/{ann_id}")).await;
        assert_eq!(api_view.body["status"], "active");
        let after = manager.get(&page).await;
        assert!(after.text.contains("Unblocked."), "the log shows it");
        let dan = enrol(&key, &program, "dan@example.com", Some(&ann["code"])).await;
        assert_eq!(dan["referred_by"], ann["id"], "credited again");

        // Pausing a program offers the same kind of Undo, which resumes it.
        let paused = form(&manager, &format!("/admin/programs/{program}/status"), &[("status", "paused")]).await;
        assert_eq!(paused.status, StatusCode::SEE_OTHER);
        let program_page = manager.get(&format!("/admin/programs/{program}")).await;
        let (action, fields) = undo_form(&program_page.text).expect("an Undo after pausing");
        assert_eq!(fields, vec![("status".to_string(), "live".to_string())]);
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        form(&manager, &action, &fields).await;
        let now = key.get(&format!("/api/v1/programs/{program}")).await;
        assert_eq!(now.body["status"], "live");
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn staff_correct_details_and_keep_notes_that_erasure_removes() {
    each_backend(|app| async move {
        let (program, _) = live_program(&app, json!({})).await;
        let key = app.key_client(Scope::Admin).await;
        let ann = enrol(&key, &program, "ann@example.com", None).await;
        let ann_id = ann["id"].as_str().expect("id").to_string();
        enrol(&key, &program, "bo@example.com", None).await;
        let staff = app.staff(Role::Staff).await;
        let page = format!("/admin/participants/{ann_id}");

        let bad = form(
            &staff,
            &format!("{page}/details"),
            &[
                ("email", "not-an-address"),
                ("first_name", "Ann"),
                ("last_name", ""),
            ],
        )
        .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            bad.text.contains("id=\"e-email\"") && bad.text.contains("value=\"not-an-address\""),
            "{}",
            bad.text
        );
        let taken = form(
            &staff,
            &format!("{page}/details"),
            &[
                ("email", "BO@example.com"),
                ("first_name", "Ann"),
                ("last_name", ""),
            ],
        )
        .await;
        assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.text);
        assert!(taken.text.contains("id=\"e-email\""), "{}", taken.text);
        let unchanged = key.get(&format!("/api/v1/participants/{ann_id}")).await;
        assert_eq!(unchanged.body["email"], "ann@example.com");
        let saved = form(
            &staff,
            &format!("{page}/details"),
            &[
                ("email", "Ann.Lee@example.com"),
                ("first_name", "Ann"),
                ("last_name", "Lee"),
            ],
        )
        .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
        let now = key.get(&format!("/api/v1/participants/{ann_id}")).await;
        assert_eq!(now.body["email"], "ann.lee@example.com");
        assert_eq!(now.body["last_name"], "Lee");
        assert_eq!(now.body["code"], ann["code"], "the code stays");

        let empty = form(&staff, &format!("{page}/notes"), &[("body", "")]).await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(empty.text.contains("id=\"e-body\""));
        let noted = form(
            &staff,
            &format!("{page}/notes"),
            &[("body", "Called about <the> missing reward")],
        )
        .await;
        assert_eq!(noted.status, StatusCode::SEE_OTHER);
        let shown = staff.get(&page).await;
        assert!(
            shown.text.contains("missing reward") && !shown.text.contains("<the>"),
            "escaped"
        );
        let viewer = app.staff(Role::Viewer).await;
        let read_only = viewer.get(&page).await;
        assert!(
            read_only.text.contains("missing reward"),
            "viewers read notes"
        );
        assert!(
            !read_only.text.contains("id=\"note-form\"")
                && !read_only.text.contains("id=\"details-form\"")
        );
        assert!(
            !shown.text.contains("id=\"block-form\""),
            "staff do not block"
        );

        let held = key
            .get("/api/v1/personal-data?email=ann.lee@example.com")
            .await;
        assert_eq!(
            held.body["participant_notes"][0]["body"], "Called about <the> missing reward",
            "{}",
            held.text
        );
        let erased = key
            .post(&format!("/api/v1/participants/{ann_id}/erase"), json!({}))
            .await;
        assert_eq!(erased.status, StatusCode::OK, "{}", erased.text);
        let notes: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM participant_notes")
            .fetch_one(app.state.store.pool())
            .await
            .expect("count");
        assert_eq!(notes, 0, "notes go with the participant's personal fields");
        let refused = form(&staff, &format!("{page}/notes"), &[("body", "after")]).await;
        assert_eq!(refused.status, StatusCode::CONFLICT);
        app.stop().await;
    })
    .await;
}

/// Rows of the participants table, in order, by their email links.
fn emails_in(page: &str) -> Vec<String> {
    let table = page
        .split("<table id=\"participants\">")
        .nth(1)
        .unwrap_or_default();
    table
        .split("href=\"/admin/participants/")
        .skip(1)
        .filter_map(|rest| {
            rest.split('>')
                .nth(1)?
                .split('<')
                .next()
                .map(str::to_string)
        })
        .filter(|t| t.contains('@'))
        .collect()
}

fn next_link(page: &str) -> Option<String> {
    let at = page.find(">Next page →</a>")?;
    let href = page[..at].rsplit("href=\"").next()?;
    Some(
        href.split('"')
            .next()?
            .replace("&#38;", "&")
            .replace("&amp;", "&"),
    )
}

#[tokio::test]
async fn console_lists_sort_by_column_header_across_pages() {
    each_backend(|app| async move {
        let (program, _) = live_program(&app, json!({})).await;
        let key = app.key_client(Scope::Admin).await;
        let mut emails = Vec::new();
        // More than one page (50), with addresses that do not sort in signup order.
        for i in 0..56 {
            let email = format!("p{:02}@example.com", (i * 37) % 56);
            enrol(&key, &program, &email, None).await;
            emails.push(email);
        }
        emails.sort();
        let viewer = app.staff(Role::Viewer).await;
        let list = format!("/admin/programs/{program}/participants");
        for (sort, expected) in [
            ("email", emails.clone()),
            ("-email", emails.iter().rev().cloned().collect()),
        ] {
            let first = viewer.get(&format!("{list}?sort={sort}")).await;
            assert_eq!(first.status, StatusCode::OK);
            let aria = if sort.starts_with('-') {
                "descending"
            } else {
                "ascending"
            };
            assert!(
                first
                    .text
                    .contains(&format!("<th aria-sort=\"{aria}\"><a href=")),
                "{}",
                first.text
            );
            let mut seen = emails_in(&first.text);
            assert_eq!(seen.len(), 50);
            let next = next_link(&first.text).expect("a next page");
            assert!(next.contains(&format!("sort={sort}")), "{next}");
            let second = viewer.get(&next).await;
            seen.extend(emails_in(&second.text));
            assert_eq!(
                seen, expected,
                "sorted {sort} across both pages, none twice"
            );
            assert!(next_link(&second.text).is_none());
        }
        // The email header of an ascending list reverses it; an unknown sort is newest first.
        let asc = viewer.get(&format!("{list}?sort=email")).await;
        assert!(
            asc.text
                .contains(&format!("href=\"{list}?sort=-email\">Email")),
            "{}",
            asc.text
        );
        let unknown = viewer.get(&format!("{list}?sort=colour")).await;
        assert_eq!(unknown.status, StatusCode::OK);
        assert_eq!(
            emails_in(&unknown.text).first().map(String::as_str),
            Some("p19@example.com"),
            "newest first"
        );

        // Accounts sort by their headers too, with the list's total.
        key.account("Zeta Bakery", "zeta@example.com").await;
        key.account("Alpha Florist", "alpha@example.com").await;
        let accounts = viewer.get("/admin/accounts?sort=-name").await;
        let zeta = accounts.text.find("Zeta Bakery").expect("zeta");
        let alpha = accounts.text.find("Alpha Florist").expect("alpha");
        assert!(zeta < alpha, "Z to A");
        assert!(
            accounts
                .text
                .contains("href=\"/admin/accounts?sort=name\">Name"),
            "{}",
            accounts.text
        );
        assert!(
            accounts.text.contains("id=\"accounts-total\">2 accounts."),
            "{}",
            accounts.text
        );
        app.stop().await;
    })
    .await;
}
