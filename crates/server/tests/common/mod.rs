//! The test harness: the real application on port 0 against a fresh database, on SQLite and
//! (when `VOUCH_TEST_POSTGRES_URL` is set) on PostgreSQL.

#![allow(dead_code)]

pub mod browser;
pub mod examples;
pub mod receiver;
pub mod smtp;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::net::SocketAddr;
use vouch_domain::permission::{Role, Scope};
use vouch_server::{AppState, Settings};
use vouch_store::audit::Origin;
use vouch_store::testing::{backends, fresh_store};
use vouch_store::{Backend, Store};

pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub state: AppState,
    pub backend: Backend,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Settings)) -> Self {
        vouch_jobs::install_crypto_provider();
        let store: Store = fresh_store(backend)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", backend.name()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let base = format!("http://{addr}");
        // Tests deliver webhooks to receivers on this machine, as VOUCH_OUTBOUND_ALLOW_CIDRS would.
        let outbound = vouch_jobs::OutboundPolicy::parse("127.0.0.0/8,::1/128").expect("cidrs");
        let mut settings = Settings {
            base_url: base.clone(),
            clone_email_domain: "purchasingplatform.com".into(),
            outbound,
            // Tests sign many people up from 127.0.0.1; the limits have tests of their own.
            public_limits: vouch_app::PublicLimits {
                per_address_per_hour: 0,
                per_program_per_hour: 0,
                ..vouch_app::PublicLimits::default()
            },
            ..Settings::default()
        };
        tweak(&mut settings);
        let state = AppState::new(store, settings).await.expect("state");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(vouch_server::serve(listener, state.clone(), async move {
            let _ = rx.await;
        }));
        Self {
            addr,
            base,
            state,
            backend,
            shutdown: Some(tx),
            server: Some(server),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops the server gracefully (in-flight requests finish), then writes out the click
    /// buffer; the database stays open for inspection.
    pub async fn stop_serving(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        self.state.clicks.flush_and_stop().await;
    }

    /// Stops everything and closes the database.
    pub async fn stop(mut self) {
        self.stop_serving().await;
        self.state.store.close().await;
    }

    pub async fn create_user(&self, email: &str, role: Role) {
        vouch_app::staff::create_user(
            &self.state,
            &Origin::system(),
            None,
            email,
            "",
            role.as_str(),
            PASSWORD,
        )
        .await
        .unwrap_or_else(|e| panic!("create user: {}", e));
    }

    pub async fn api_key(&self, scope: Scope) -> String {
        let (_, secret) = vouch_app::staff::create_api_key(
            &self.state,
            &Origin::system(),
            &format!("test {scope}"),
            scope.as_str(),
        )
        .await
        .unwrap_or_else(|e| panic!("create key: {}", e));
        secret
    }

    /// A client with an API key of this scope.
    pub async fn key_client(&self, scope: Scope) -> Api {
        let secret = self.api_key(scope).await;
        Api {
            base: self.base.clone(),
            client: Client::new(),
            bearer: Some(secret),
            csrf: None,
        }
    }

    /// A client logged in (cookie session) as a new user with this role.
    pub async fn staff(&self, role: Role) -> Api {
        let email = format!(
            "{}-{}@vouch.test",
            role.as_str(),
            vouch_domain::id::new_id("u").to_lowercase()
        );
        self.create_user(&email, role).await;
        self.login(&email).await
    }

    pub async fn login_as_new_admin(&self) -> Api {
        self.staff(Role::Admin).await
    }

    pub async fn login(&self, email: &str) -> Api {
        let client = Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let token = login_form_token(&client, &self.url("/admin/login")).await;
        let res = client
            .post(self.url("/admin/login"))
            .form(&[
                ("email", email),
                ("password", PASSWORD),
                ("login_csrf", &token),
            ])
            .send()
            .await
            .expect("login");
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "login as {email}");
        let me: Value = client
            .get(self.url("/api/v1/me"))
            .send()
            .await
            .expect("me")
            .json()
            .await
            .expect("json");
        let csrf = me["csrf_token"].as_str().map(str::to_owned);
        Api {
            base: self.base.clone(),
            client,
            bearer: None,
            csrf,
        }
    }

    /// A worker on this app's database: immediate retries (so a drain runs every attempt), a
    /// short timeout, loopback allowed.
    pub fn worker(&self) -> vouch_jobs::Worker {
        self.worker_with(|_| {})
    }

    pub fn worker_with(
        &self,
        tweak: impl FnOnce(&mut vouch_jobs::WorkerSettings),
    ) -> vouch_jobs::Worker {
        let mut settings = vouch_jobs::WorkerSettings::default();
        settings.delivery.retry_schedule = vec![0; 9];
        settings.delivery.timeout = std::time::Duration::from_secs(2);
        settings.delivery.outbound = self.state.settings.outbound.clone();
        settings.delivery.base_url = self.base.clone();
        tweak(&mut settings);
        vouch_jobs::Worker::new(self.state.store.clone(), settings).expect("worker")
    }

    pub fn anonymous(&self) -> Api {
        let client = Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Api {
            base: self.base.clone(),
            client,
            bearer: None,
            csrf: None,
        }
    }
}

/// Runs `test` on every configured store, each on a fresh app.
pub async fn each_backend<F, Fut>(test: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for backend in backends() {
        eprintln!("--- on {}", backend.name());
        let app = TestApp::spawn(backend).await;
        test(app).await;
    }
}

/// An HTTP client bound to one credential.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub client: Client,
    pub bearer: Option<String>,
    pub csrf: Option<String>,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    /// The field paths of a problem's `errors`.
    pub fn fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Api {
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut req = self
            .client
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(b) = &self.bearer {
            req = req.bearer_auth(b);
        }
        if let Some(c) = &self.csrf
            && method != reqwest::Method::GET
        {
            req = req.header("x-csrf-token", c);
        }
        req
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        let (client, request) = req.build_split();
        let request = request.expect("request");
        let method = request.method().to_string();
        let path = request.url().path().to_string();
        let sent = request
            .body()
            .and_then(|b| b.as_bytes())
            .map(<[u8]>::to_vec);
        let res = client.execute(request).await.expect("request");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body");
        examples::record(&method, &path, sent.as_deref(), status.as_u16(), &text);
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.request(reqwest::Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(self.request(reqwest::Method::POST, path).json(&body))
            .await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.send(self.request(reqwest::Method::PATCH, path).json(&body))
            .await
    }

    /// Creates an account and returns its id.
    pub async fn account(&self, name: &str, email: &str) -> i64 {
        let r = self.post("/api/v1/accounts", json!({ "name": name, "email": email, "owner_first_name": "Ann", "owner_last_name": "Lee" })).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.body["id"].as_i64().expect("id")
    }
}

/// A signed-in partner portal user of `partner_id`: staff invite `email` through the API and
/// the invitation's one-time link sets a password, as a person would.
pub async fn partner_session(app: &TestApp, partner_id: &str, email: &str) -> Api {
    let staff = app.key_client(Scope::Admin).await;
    let invited = staff
        .post(
            &format!("/api/v1/partners/{partner_id}/users"),
            json!({ "email": email, "name": "Partner User", "role": "admin" }),
        )
        .await;
    assert_eq!(invited.status, StatusCode::CREATED, "{}", invited.text);
    let mails = staff.get("/api/v1/emails?limit=100").await;
    let text = mails.body["data"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|m| m["kind"] == "partner_invite" && m["to_address"] == email)
        })
        .and_then(|m| m["text_body"].as_str())
        .expect("invitation")
        .to_string();
    let at = text.find("token=").expect("a link with a token") + "token=".len();
    let token: String = text[at..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    let client = app.anonymous();
    let req = client
        .request(reqwest::Method::POST, "/portal/welcome")
        .form(&[
            ("token", token.as_str()),
            ("password", PASSWORD),
            ("confirm", PASSWORD),
        ]);
    let done = client.send(req).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    client
}

/// What a browser does before signing in: opens the form (which sets the login-CSRF cookie in
/// `client`'s jar) and reads the token it carries.
pub async fn login_form_token(client: &Client, page_url: &str) -> String {
    let page = client
        .get(page_url)
        .send()
        .await
        .expect("login page")
        .text()
        .await
        .expect("body");
    page.split("name=\"login_csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the form carries a login_csrf token")
        .to_string()
}

/// A live program with `settings` added to a default body: (id, slug).
pub async fn live_program(app: &TestApp, settings: Value) -> (String, String) {
    let manager = app.staff(Role::Manager).await;
    let mut body = json!({ "name": format!("Friends {}", vouch_domain::id::new_id("x")), "landing_url": "https://shop.example.com/join" });
    if let (Some(b), Value::Object(extra)) = (body.as_object_mut(), settings) {
        b.extend(extra);
    }
    let p = manager.post("/api/v1/programs", body).await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.text);
    let id = p.body["id"].as_str().expect("id").to_string();
    let live = manager
        .post(
            &format!("/api/v1/programs/{id}/status"),
            json!({ "status": "live" }),
        )
        .await;
    assert_eq!(live.status, StatusCode::OK, "{}", live.text);
    (id, p.body["slug"].as_str().expect("slug").to_string())
}

/// Enrols `email` (first name from the address) through the API, optionally referred by a
/// code; returns the participant.
pub async fn enrol(api: &Api, program: &str, email: &str, referred_by: Option<&Value>) -> Value {
    let mut body = json!({ "email": email, "first_name": email.split('@').next() });
    if let Some(code) = referred_by {
        body["referred_by"] = code.clone();
    }
    let r = api
        .post(&format!("/api/v1/programs/{program}/participants"), body)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body
}

/// A browser-like client: cookies kept, redirects not followed.
pub fn visitor() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("Mozilla/5.0 (X11; Linux x86_64) Chrome/120")
        .build()
        .expect("client")
}
