//! Headless Chromium through chromedriver for the browser tests: start it, find, fill and
//! click, take screenshots (into `target/screenshots/`), and check a page the way a user on
//! a phone or with a screen reader would meet it (no sideways scrolling, axe-core).
//!
//! Needs `chromium` and `chromium-driver`, and axe-core (`scripts/test` installs all three).
//! Set `VOUCH_SKIP_BROWSER_TESTS=1` to skip on a machine without them.
//!
//! Standalone (no other harness module), so the binary's own tests include it too.

use fantoccini::{Client, ClientBuilder, Locator};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Driver {
    process: Child,
    port: u16,
    _profile: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
        // A failed test skips `close()`; Chromium would outlive chromedriver and keep a core busy.
        let _ = Command::new("pkill")
            .arg("-f")
            .arg(self._profile.as_os_str())
            .status();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

pub async fn start_browser() -> Option<(Driver, Client)> {
    if std::env::var("VOUCH_SKIP_BROWSER_TESTS").is_ok_and(|v| v == "1") {
        eprintln!("VOUCH_SKIP_BROWSER_TESTS=1: skipping the browser test");
        return None;
    }
    let driver_bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let port = free_port();
    let process = Command::new(&driver_bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {driver_bin} ({e}); install chromium and chromium-driver or set VOUCH_SKIP_BROWSER_TESTS=1"));
    let profile =
        std::env::temp_dir().join(format!("vouch-chrome-{}", vouch_domain::id::new_id("p")));
    let driver = Driver {
        process,
        port,
        _profile: profile.clone(),
    };
    let chrome = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": chrome,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                format!("--user-data-dir={}", profile.display()), "--window-size=1280,900"
            ]
        }
    });
    let caps = match caps {
        serde_json::Value::Object(map) => map,
        _ => unreachable!("literal object"),
    };
    let url = format!("http://127.0.0.1:{}", driver.port);
    let mut last = None;
    for _ in 0..50 {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(client) => return Some((driver, client)),
            Err(e) => {
                last = Some(e);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    panic!("chromedriver did not accept a session: {last:?}");
}

pub fn shots_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

pub async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(shots_dir().join(format!("{name}.png")), png).expect("write screenshot");
}

/// Finds an element, waiting up to 10 s for the page that holds it to load.
pub async fn find(c: &Client, css: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
}

pub async fn fill(c: &Client, name: &str, value: &str) {
    let field = find(c, &format!("[name='{name}']")).await;
    field.clear().await.expect("clear");
    field.send_keys(value).await.expect("type");
}

pub async fn click(c: &Client, css: &str) {
    find(c, css).await.click().await.expect("click");
}

/// Answers the confirmation dialog an irreversible action opens (vouch.js) with its confirm
/// button, after checking that it says what cannot be undone.
pub async fn confirm(c: &Client) {
    let text = wait_text(c, "#vouch-confirm-text", "").await;
    assert!(
        text.contains("cannot") || text.contains("can never") || text.contains("no longer"),
        "the dialog says what cannot be undone: {text}"
    );
    click(c, "#vouch-confirm-ok").await;
}

/// Waits until the browser has left `path` (a form post has been answered).
pub async fn left(c: &Client, path: &str) {
    for _ in 0..100 {
        if c.current_url().await.is_ok_and(|u| u.path() != path) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("still on {path}");
}

/// Waits (up to 10 s) until the element exists and its text contains `needle`: a click that
/// submits a form returns before the next page has loaded.
pub async fn wait_text(c: &Client, css: &str, needle: &str) -> String {
    let mut last = String::new();
    for _ in 0..100 {
        if let Ok(el) = c.find(Locator::Css(css)).await
            && let Ok(t) = el.text().await
        {
            if t.contains(needle) {
                return t;
            }
            last = t;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css} never contained {needle:?}; last text: {last:?}");
}

/// The element's text, retrying while the page is still being replaced (a stale element).
pub async fn text(c: &Client, css: &str) -> String {
    wait_text(c, css, "").await
}

/// Signs in to the console at `base` (`http://127.0.0.1:port`).
pub async fn login(c: &Client, base: &str, email: &str, password: &str) {
    c.goto(&format!("{base}/admin/login"))
        .await
        .expect("login page");
    fill(c, "email", email).await;
    fill(c, "password", password).await;
    click(c, "button[type=submit]").await;
    left(c, "/admin/login").await;
}

pub async fn logout(c: &Client) {
    click(c, "form[action='/admin/logout'] button").await;
    wait_text(c, "h1", "Log in").await;
}

/// Sets the window's size: 1280 × 900 is a laptop, 390 × 844 a phone.
pub async fn set_width(c: &Client, width: u32, height: u32) {
    c.set_window_size(width, height).await.expect("window size");
}

/// What makes the page wider than the window (the reader would have to scroll sideways):
/// empty when nothing does, else the page's width and the elements that stick out.
pub async fn sideways_scroll(c: &Client) -> Vec<String> {
    let found = c
        .execute(
            r#"const w = window.innerWidth;
               const out = [];
               if (document.documentElement.scrollWidth > w) {
                 for (const el of document.querySelectorAll('body *')) {
                   const r = el.getBoundingClientRect();
                   if (r.right > w + 1 && getComputedStyle(el).position !== 'fixed') {
                     let inScroller = false;
                     for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
                       const o = getComputedStyle(p).overflowX;
                       if (o === 'auto' || o === 'scroll' || o === 'hidden') { inScroller = true; break; }
                     }
                     if (!inScroller) out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : '') + ' right=' + Math.round(r.right));
                   }
                 }
               }
               return [document.documentElement.scrollWidth, w, out.slice(0, 8)];"#,
            vec![],
        )
        .await
        .expect("measure");
    let scroll = found[0].as_i64().unwrap_or_default();
    let inner = found[1].as_i64().unwrap_or_default();
    if scroll <= inner {
        return Vec::new();
    }
    vec![format!(
        "the page is {scroll}px wide in a {inner}px window; sticking out: {}",
        found[2]
    )]
}

/// Buttons and button-like links of the page's main part that a reader cannot see without
/// scrolling sideways (outside the window, or inside a box that scrolls).
pub async fn actions_out_of_reach(c: &Client) -> Vec<String> {
    let found = c
        .execute(
            r#"const w = window.innerWidth;
               const out = [];
               for (const el of document.querySelectorAll('main button, main a.button, main input[type=submit]')) {
                 const r = el.getBoundingClientRect();
                 if (r.width === 0 && r.height === 0) continue;
                 let box = null;
                 for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
                   const o = getComputedStyle(p).overflowX;
                   if (o === 'auto' || o === 'scroll') { box = p.getBoundingClientRect(); break; }
                 }
                 const right = box ? Math.min(w, box.right) : w;
                 if (r.left < -1 || r.right > right + 1) {
                   out.push((el.textContent || el.value || '').trim().slice(0, 40) + ' right=' + Math.round(r.right));
                 }
               }
               return out.slice(0, 8);"#,
            vec![],
        )
        .await
        .expect("measure actions");
    serde_json::from_value::<Vec<String>>(found)
        .unwrap_or_default()
        .into_iter()
        .map(|a| format!("action out of reach: {a}"))
        .collect()
}

/// Runs axe-core on the page and returns its serious and critical violations, each naming the
/// rule and the elements. axe-core comes from `VOUCH_AXE_JS` (set by `scripts/test`) or
/// `.ci/axe/node_modules/axe-core/axe.min.js`.
pub async fn axe(c: &Client) -> Vec<String> {
    let source = axe_source();
    c.execute(&source, vec![]).await.expect("inject axe-core");
    // VOUCH_AXE_ALL=1 reports the minor and moderate findings too (while improving a page).
    let all = std::env::var("VOUCH_AXE_ALL").is_ok_and(|v| v == "1");
    let found = c
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               const all = arguments[0];
               axe.run(document, { resultTypes: ['violations'] }).then(function (r) {
                 done(r.violations
                   .filter(function (v) { return all || v.impact === 'serious' || v.impact === 'critical'; })
                   .map(function (v) {
                     return v.id + ' (' + v.impact + '): ' + v.help + ' at ' +
                       v.nodes.slice(0, 4).map(function (n) { return n.target.join(' '); }).join(' | ');
                   }));
               }, function (e) { done(['axe failed: ' + e]); });"#,
            vec![serde_json::json!(all)],
        )
        .await
        .expect("axe run");
    serde_json::from_value(found).unwrap_or_else(|e| vec![format!("axe answered oddly: {e}")])
}

fn axe_source() -> String {
    let path = std::env::var("VOUCH_AXE_JS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../.ci/axe/node_modules/axe-core/axe.min.js")
        });
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read axe-core at {} ({e}): run scripts/test (it installs it), or `npm ci --prefix .ci/axe`",
            path.display()
        )
    })
}
