//! The console and the public pages as a new operator meets them: `vouch demo`, `vouch serve`,
//! then every page in headless Chromium at a laptop's width (1280 px) and a phone's (390 px).
//! On each page: one `h1`, nothing that makes the page scroll sideways on the phone, and no
//! serious or critical axe-core violation. Screenshots land in `target/screenshots/tour-*`.

#[path = "../../server/tests/common/browser.rs"]
#[allow(dead_code)]
mod browser;
mod support;

use browser::{actions_out_of_reach, axe, login, set_width, shot, sideways_scroll, start_browser};
use fantoccini::Client;
use support::{run, serve_until_ready, text, workdir};

/// Pages reached by their address; detail pages are found from the lists (below).
const PAGES: &[&str] = &[
    "/admin",
    "/admin/programs",
    "/admin/programs/new",
    "/admin/accounts",
    "/admin/accounts/new",
    "/admin/setups",
    "/admin/sales",
    "/admin/sales/new",
    "/admin/sales-referrals",
    "/admin/bonuses",
    "/admin/payments",
    "/admin/payout-batches",
    "/admin/people",
    "/admin/people/new",
    "/admin/partners",
    "/admin/partners/new",
    "/admin/partner-referrals",
    "/admin/lead-sales",
    "/admin/audit",
    "/admin/users",
    "/admin/api-keys",
    "/admin/privacy",
    "/admin/webhooks",
    "/admin/jobs",
    "/admin/emails",
    "/admin/password",
    "/admin/no-such-page",
];

/// Lists whose first item's page is toured too.
const LISTS: &[&str] = &[
    "/admin/programs",
    "/admin/accounts",
    "/admin/setups",
    "/admin/sales",
    "/admin/sales-referrals",
    "/admin/bonuses",
    "/admin/people",
    "/admin/partners",
    "/admin/partner-referrals",
    "/admin/lead-sales",
    "/admin/payout-batches",
    "/admin/emails",
    "/admin/webhooks",
];

/// Pages anyone may open.
const PUBLIC: &[&str] = &[
    "/api/docs",
    "/p/friends",
    "/find-a-partner",
    "/p/friends/me/login",
    "/portal/login",
    "/no-such-page",
];

/// The pages the current page links to under `prefix`, one segment deeper (no query), in order.
async fn links_under(c: &Client, prefix: &str) -> Vec<String> {
    let found = c
        .execute(
            r#"const prefix = arguments[0];
               const seen = [];
               for (const a of document.querySelectorAll('main a[href]')) {
                 const u = new URL(a.href);
                 if (u.origin !== location.origin || u.search) continue;
                 if (!u.pathname.startsWith(prefix)) continue;
                 const rest = u.pathname.slice(prefix.length).split('/')[0];
                 if (!rest || rest === 'new' || rest === 'import' || rest.endsWith('.csv')) continue;
                 if (!seen.includes(prefix + rest)) seen.push(prefix + rest);
               }
               return seen;"#,
            vec![serde_json::json!(format!("{prefix}/"))],
        )
        .await
        .expect("links");
    serde_json::from_value(found).unwrap_or_default()
}

/// A program page's tabs.
async fn tabs(c: &Client) -> Vec<String> {
    let found = c
        .execute(
            r#"return Array.from(document.querySelectorAll('.tabs a[href]'))
                 .map(a => new URL(a.href).pathname + new URL(a.href).search);"#,
            vec![],
        )
        .await
        .expect("tabs");
    serde_json::from_value(found).unwrap_or_default()
}

fn shot_name(path: &str, width: u32) -> String {
    // Ids change from run to run; their kind (`prg`, `par`, …) names the page well enough.
    let stable: Vec<String> = path
        .trim_matches('/')
        .split('/')
        .map(|segment| match segment.split_once('_') {
            Some((kind, rest)) if rest.len() == 26 => kind.to_string(),
            _ => segment.to_string(),
        })
        .collect();
    let slug: String = stable
        .join("/")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!(
        "tour-{}-{width}",
        if slug.is_empty() { "home" } else { &slug }
    )
}

/// Opens the page at both widths, takes a screenshot of each and returns what is wrong.
async fn check(c: &Client, base: &str, path: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for (width, height) in [(1280, 900), (390, 844)] {
        set_width(c, width, height).await;
        c.goto(&format!("{base}{path}")).await.expect("open page");
        shot(c, &shot_name(path, width)).await;
        let h1s = c
            .execute("return document.querySelectorAll('h1').length;", vec![])
            .await
            .expect("h1 count");
        if h1s.as_i64() != Some(1) {
            problems.push(format!(
                "{path} at {width}px: {h1s} h1 elements (one expected)"
            ));
        }
        if width == 390 {
            for p in sideways_scroll(c).await {
                problems.push(format!("{path} at 390px: {p}"));
            }
            for p in actions_out_of_reach(c).await {
                problems.push(format!("{path} at 390px: {p}"));
            }
        } else {
            for p in axe(c).await {
                problems.push(format!("{path}: {p}"));
            }
            // On a laptop nothing should hide in a box that scrolls sideways.
            let clipped = c
                .execute(
                    r#"return Array.from(document.querySelectorAll('main .scroll, main table'))
                         .filter(e => e.scrollWidth > e.clientWidth + 1)
                         .map(e => (e.id || e.className || e.tagName) + ' ' + e.scrollWidth + '>' + e.clientWidth);"#,
                    vec![],
                )
                .await
                .expect("clipped boxes");
            if clipped.as_array().is_some_and(|a| !a.is_empty()) {
                problems.push(format!(
                    "{path} at 1280px: clipped, scrolls sideways: {clipped}"
                ));
            }
        }
    }
    problems
}

#[tokio::test]
async fn every_page_reads_well_on_a_laptop_and_a_phone() {
    vouch_jobs::install_crypto_provider();
    let Some((_driver, c)) = start_browser().await else {
        return;
    };
    // Screenshots of an earlier run would mix with this one's.
    if let Ok(entries) = std::fs::read_dir(browser::shots_dir()) {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with("tour-") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    let dir = workdir();
    let db = format!("sqlite://{}/vouch.db?mode=rwc", dir.display());
    let demo = run(&dir, &db, &["demo"], None);
    assert!(demo.status.success(), "{}", text(&demo.stderr));
    let said = text(&demo.stdout);
    let password = said
        .split("owner@demo.vouch.local / ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the demo prints the owner's password")
        .to_string();
    let key = run(
        &dir,
        &db,
        &["api-keys", "create", "--name", "tour", "--scope", "admin"],
        None,
    );
    let key = text(&key.stdout).trim().to_string();
    let (mut server, base) = serve_until_ready(&dir, &db).await;
    // A webhook endpoint, so its page is toured too (nothing is delivered to it here).
    let endpoint = reqwest::Client::new()
        .post(format!("{base}/api/v1/webhook-endpoints"))
        .bearer_auth(&key)
        .json(
            &serde_json::json!({ "url": "https://hooks.example.com/vouch", "description": "CRM" }),
        )
        .send()
        .await
        .expect("create endpoint");
    assert!(
        endpoint.status().is_success(),
        "{:?}",
        endpoint.text().await
    );

    let mut problems = Vec::new();
    for path in PUBLIC {
        problems.extend(check(&c, &base, path).await);
    }
    // The API reference: every endpoint folded, and a search that narrows them.
    set_width(&c, 1280, 900).await;
    c.goto(&format!("{base}/api/docs"))
        .await
        .expect("reference");
    let count = |c: &Client| {
        let c = c.clone();
        async move {
            c.execute(
                "return document.querySelectorAll('details.op[data-search]:not([hidden])').length;",
                vec![],
            )
            .await
            .expect("count")
            .as_i64()
            .unwrap_or_default()
        }
    };
    let all = count(&c).await;
    let height = c
        .execute("return document.documentElement.scrollHeight;", vec![])
        .await
        .expect("height");
    assert!(
        height.as_i64().is_some_and(|h| h < 60_000),
        "the reference folds: {height}px tall"
    );
    browser::find(&c, "#api-search")
        .await
        .send_keys("post rewards")
        .await
        .expect("type");
    let some = count(&c).await;
    assert!(
        some > 0 && some < all,
        "a search narrows {all} entries to {some}"
    );
    shot(&c, "tour-api-docs-search-1280").await;

    problems.extend(check(&c, &base, "/admin/login").await);
    set_width(&c, 1280, 900).await;
    login(&c, &base, "owner@demo.vouch.local", &password).await;
    for path in PAGES {
        problems.extend(check(&c, &base, path).await);
    }
    for list in LISTS {
        set_width(&c, 1280, 900).await;
        c.goto(&format!("{base}{list}")).await.expect("open list");
        let Some(first) = links_under(&c, list).await.into_iter().next() else {
            problems.push(format!("{list}: no item to open (the demo should fill it)"));
            continue;
        };
        problems.extend(check(&c, &base, &first).await);
        if *list == "/admin/programs" {
            for tab in tabs(&c).await {
                if tab != first {
                    problems.extend(check(&c, &base, &tab).await);
                }
            }
            // A participant's own page, from the Participants tab.
            c.goto(&format!("{base}{first}/participants"))
                .await
                .expect("participants");
            match links_under(&c, "/admin/participants")
                .await
                .into_iter()
                .next()
            {
                Some(person) => problems.extend(check(&c, &base, &person).await),
                None => problems.push("no participant page to open".into()),
            }
        }
    }
    // A staff user's time zone: every time on the page is shown in it, the exact moment on
    // hover.
    set_width(&c, 1280, 900).await;
    c.goto(&format!("{base}/admin/password"))
        .await
        .expect("account");
    browser::find(&c, "#f-time_zone")
        .await
        .select_by_value("Asia/Tokyo")
        .await
        .expect("pick a zone");
    browser::click(&c, "#time-zone-form button[type=submit]").await;
    browser::wait_text(&c, ".flash", "Asia/Tokyo").await;
    c.goto(&format!("{base}/admin/programs"))
        .await
        .expect("programs");
    let shown = c
        .execute(
            "const t = document.querySelector('time[data-when]'); return [t.title, t.textContent];",
            vec![],
        )
        .await
        .expect("a time");
    assert!(
        shown[0].as_str().is_some_and(|t| t.contains("GMT+9")),
        "times read in the chosen zone: {shown}"
    );
    assert!(
        shown[1]
            .as_str()
            .is_some_and(|t| t.contains("ago") || t == "just now"),
        "recent times read as relative: {shown}"
    );

    // An irreversible action asks first, and Cancel leaves everything as it was.
    set_width(&c, 1280, 900).await;
    c.goto(&format!("{base}/admin/programs"))
        .await
        .expect("programs");
    browser::click(&c, "a[href$='/dashboard']").await;
    browser::wait_text(&c, "h1", "Friends of Vouch").await;
    let settings = c
        .current_url()
        .await
        .expect("url")
        .as_str()
        .replace("/dashboard", "");
    c.goto(&settings).await.expect("settings");
    browser::click(&c, "#end-program").await;
    let question =
        browser::wait_text(&c, "#vouch-confirm-text", "can never be put live again").await;
    assert!(question.contains("Friends of Vouch"), "{question}");
    shot(&c, "tour-confirm-end-program-1280").await;
    browser::click(&c, "#vouch-confirm-cancel").await;
    c.goto(&settings).await.expect("settings again");
    browser::wait_text(&c, "#program-status", "Live").await;

    c.close().await.expect("close");
    let _ = server.kill();
    let _ = server.wait();
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
