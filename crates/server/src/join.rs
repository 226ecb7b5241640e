//! The hosted signup page of a program: `/p/{slug}/join`. A visitor who arrived through a
//! referral link carries the program's attribution cookie; a visitor who arrived on the
//! operator's landing page carries `?ref=CODE`, which the form keeps in a hidden field. The
//! program's model picks between them (see `vouch_domain::referral`).

use crate::AppState;
use crate::auth::cookie_value;
use crate::console::{FormBody, FormErrors};
use crate::error::ApiError;
use crate::public::{notice, visible_program};
use crate::request::Meta;
use crate::throttle::{self, PublicWrite};
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use vouch_app::participant_access as enrolment_access;
use vouch_app::participants::{self as enrolment, SignupContext};
use vouch_domain::participant::{ParticipantFields, parse_code};
use vouch_domain::program::ProgramStatus;
use vouch_domain::referral::{RefCookie, Source, Touch};
use vouch_store::audit::{Actor, ActorKind, Origin};
use vouch_store::programs::Program;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/p/{slug}", get(to_join))
        .route("/p/{slug}/join", get(page).post(submit))
        .route("/p/{slug}/embed.js", get(embed_script))
}

/// `/p/{slug}` is what people type or shorten: the signup page, with the query kept (`ref`).
async fn to_join(Path(slug): Path<String>, uri: axum::http::Uri) -> Response {
    let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    // The slug came through the router as one path segment; encode it again for the header.
    let slug: String = url::form_urlencoded::byte_serialize(slug.as_bytes()).collect();
    match axum::http::HeaderValue::from_str(&format!("/p/{slug}/join{query}")) {
        Ok(to) => (StatusCode::SEE_OTHER, [(axum::http::header::LOCATION, to)]).into_response(),
        Err(_) => notice(
            StatusCode::NOT_FOUND,
            "Page not found",
            "There is nothing at this address.",
        ),
    }
}

/// The script an operator pastes into its own page: it puts the signup form there in an
/// iframe and hands it the `ref` code of the page's own address, so attribution works without
/// third-party cookies. See docs/EMBEDDING.md.
async fn embed_script(State(state): State<AppState>, Path(slug): Path<String>) -> Response {
    let program = match open_program(&state, &slug).await {
        Ok(p) => p,
        Err(_) => {
            return (
                StatusCode::NOT_FOUND,
                [(axum::http::header::CONTENT_TYPE, "application/javascript")],
                "/* Vouch: this program does not take signups */\n",
            )
                .into_response();
        }
    };
    let src = serde_json::to_string(&format!(
        "{}/p/{}/join?embed=1",
        state.settings.base_url, program.slug
    ))
    .unwrap_or_else(|_| "\"\"".into());
    let title =
        serde_json::to_string(&format!("Join {}", program.name)).unwrap_or_else(|_| "\"\"".into());
    let script = format!(
        "(function () {{\n\
  var me = document.currentScript;\n\
  var ref = new URLSearchParams(window.location.search).get('ref') || (me && me.getAttribute('data-ref')) || '';\n\
  var frame = document.createElement('iframe');\n\
  frame.src = {src} + (ref ? '&ref=' + encodeURIComponent(ref) : '');\n\
  frame.title = {title};\n\
  frame.style.cssText = 'width:100%;max-width:40rem;height:' + ((me && me.getAttribute('data-height')) || '520') + 'px;border:0';\n\
  frame.loading = 'lazy';\n\
  if (me && me.parentNode) {{ me.parentNode.insertBefore(frame, me.nextSibling); }} else {{ document.body.appendChild(frame); }}\n\
}})();\n"
    );
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/javascript; charset=utf-8",
            ),
            (axum::http::header::CACHE_CONTROL, "public, max-age=300"),
        ],
        script,
    )
        .into_response()
}

#[derive(Deserialize, Default, Clone)]
struct JoinForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    /// The referral code from `?ref=` on the landing page, carried along.
    #[serde(default, rename = "ref")]
    referral_code: String,
    /// `1` inside the operator's page (the embedded form): no outer margins.
    #[serde(default)]
    embed: String,
    /// Asked by programs tied to a super customer: their account is nested under it.
    #[serde(default)]
    company: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "join.html")]
struct JoinPage {
    program: Program,
    f: JoinForm,
    errors: FormErrors,
    /// The first name of whoever's link or code brought the visitor.
    referrer: Option<String>,
}

/// Who brought the visitor, by the code in the form (or `?ref=`) and then the program's
/// attribution cookie; `None` when neither names someone of this program with a first name.
async fn referrer_of(
    state: &AppState,
    program: &Program,
    headers: &HeaderMap,
    form: &JoinForm,
) -> Option<String> {
    for touch in touches(program, headers, form) {
        if let Ok(Some(name)) =
            vouch_app::participants::referrer_first_name(state, program, &touch.code).await
        {
            return Some(name);
        }
    }
    None
}

#[derive(Template, WebTemplate)]
#[template(path = "joined.html")]
struct JoinedPage {
    embed: bool,
    program: Program,
    /// As the visitor typed them: the page is the same whether the address was new or
    /// already in the program, so it tells no one who is a participant.
    first_name: String,
    email: String,
    /// The visitor came through a referral link or code.
    referred: bool,
}

/// The program behind the slug, if it takes signups; otherwise the page that says why.
async fn open_program(state: &AppState, slug: &str) -> Result<Program, Response> {
    let program = visible_program(state, slug).await?;
    match program.status {
        ProgramStatus::Live => channel_partner_check(state, program).await,
        ProgramStatus::Paused | ProgramStatus::Draft => Err(notice(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("{} is paused", program.name),
            "The program is not taking signups right now. Please try again later.",
        )),
        ProgramStatus::Ended => Err(notice(
            StatusCode::GONE,
            &format!("{} has ended", program.name),
            "The program is closed and no longer takes signups.",
        )),
    }
}

/// A program tied to a channel partner's super customer takes no self-signups: the partner
/// registers its accounts itself (seed 000), so the page names who to contact instead.
async fn channel_partner_check(state: &AppState, program: Program) -> Result<Program, Response> {
    let Some(sc_id) = program.super_customer_id else {
        return Ok(program);
    };
    match vouch_app::accounts::find_account(state, sc_id).await {
        Ok(Some(sc))
            if sc.registration_policy
                == vouch_domain::account::RegistrationPolicy::ChannelPartner =>
        {
            let where_to = sc
                .partner_site_url
                .as_deref()
                .map(|u| format!(" at {u}"))
                .unwrap_or_default();
            Err(notice(
                StatusCode::FORBIDDEN,
                &format!("Join through {}", sc.name),
                &format!(
                    "{} signs up its own customers for {}. Please join through {}{where_to}, or contact {} for access.",
                    sc.name, program.name, sc.name, sc.name
                ),
            ))
        }
        Ok(_) => Ok(program),
        Err(e) => Err(crate::console::error_page(&e.into())),
    }
}

#[derive(Deserialize, Default)]
struct RefParam {
    #[serde(default, rename = "ref")]
    referral_code: String,
    #[serde(default)]
    embed: String,
}

/// A random id for this browser, so a referrer signing up friends from their own browser is
/// noticed. Only a keyed hash of it is stored.
const DEVICE_COOKIE: &str = "vouch_device";

/// This browser's device id: the cookie's, or a new one (then `true`: it must be set).
fn device_id(headers: &HeaderMap) -> (String, bool) {
    match cookie_value(headers, DEVICE_COOKIE)
        .filter(|d| d.len() == 32 && d.chars().all(|c| c.is_ascii_hexdigit()))
    {
        Some(id) => (id.to_string(), false),
        None => {
            let mut id = [0u8; 16];
            rand::RngCore::fill_bytes(&mut rand::rng(), &mut id);
            (hex::encode(id), true)
        }
    }
}

fn with_device_cookie(
    state: &AppState,
    (id, new): (String, bool),
    mut response: Response,
) -> Response {
    if new {
        crate::cookies::append(
            response.headers_mut(),
            crate::cookies::set(
                &state.settings,
                DEVICE_COOKIE,
                &id,
                crate::cookies::Options::lax("/", Some(365 * 86_400)),
            ),
        );
    }
    response
}

async fn page(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<RefParam>,
    headers: HeaderMap,
) -> Response {
    let response = join_page(&state, &slug, q, &headers).await;
    with_device_cookie(&state, device_id(&headers), response)
}

async fn join_page(state: &AppState, slug: &str, q: RefParam, headers: &HeaderMap) -> Response {
    match open_program(state, slug).await {
        Ok(program) => {
            let f = JoinForm {
                referral_code: parse_code(&q.referral_code)
                    .ok()
                    .flatten()
                    .unwrap_or_default(),
                embed: if q.embed == "1" {
                    "1".into()
                } else {
                    String::new()
                },
                ..JoinForm::default()
            };
            let referrer = referrer_of(state, &program, headers, &f).await;
            JoinPage {
                program,
                f,
                errors: FormErrors::default(),
                referrer,
            }
            .into_response()
        }
        Err(r) => r,
    }
}

/// What the request says about who referred it: the hidden field, then the cookie's clicks.
fn touches(program: &Program, headers: &HeaderMap, form: &JoinForm) -> Vec<Touch> {
    let mut out = Vec::new();
    if let Ok(Some(code)) = parse_code(&form.referral_code) {
        out.push(Touch {
            code,
            source: Source::Form,
            at: None,
        });
    }
    if let Some(c) = cookie_value(headers, &RefCookie::name(&program.id)).and_then(RefCookie::parse)
    {
        out.extend(c.touches());
    }
    out
}

async fn submit(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    headers: HeaderMap,
    FormBody(f): FormBody<JoinForm>,
) -> Response {
    let device = device_id(&headers);
    let response = join(state.clone(), slug, meta, &headers, &device.0, f).await;
    with_device_cookie(&state, device, response)
}

async fn join(
    state: AppState,
    slug: String,
    meta: Meta,
    headers: &HeaderMap,
    device: &str,
    f: JoinForm,
) -> Response {
    let program = match open_program(&state, &slug).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if let Some(refused) = throttle::refusal(
        &state,
        PublicWrite::Signup,
        &meta.client_ip,
        Some(&program.id),
    ) {
        return refused;
    }
    let referrer = referrer_of(&state, &program, headers, &f).await;
    let again = |program: Program, f: JoinForm, err: &ApiError| {
        let errors =
            FormErrors::from_api(err, "", &["email", "first_name", "last_name", "company"]);
        (
            crate::console::form_status(err),
            JoinPage {
                program,
                f,
                errors,
                referrer,
            },
        )
            .into_response()
    };
    // The hidden field is checked through the touches, never as `referred_by`: a stale code
    // must not stop a signup.
    let fields = ParticipantFields {
        email: f.email.clone(),
        first_name: f.first_name.clone(),
        last_name: f.last_name.clone(),
        referred_by: String::new(),
        ip_address: String::new(),
        company: f.company.clone(),
    };
    let draft = match fields.parse() {
        Ok(d) => d,
        Err(v) => return again(program, f, &ApiError::from(v)),
    };
    let origin = Origin {
        actor: Actor {
            kind: ActorKind::Public,
            id: None,
            label: "signup page".into(),
        },
        request_id: meta.request_id,
        client_ip: Some(meta.client_ip.clone()),
    };
    let context = SignupContext {
        touches: touches(&program, headers, &f),
        signed_up_at: None,
        ip: Some(meta.client_ip.clone()),
        device: Some(device.to_string()),
        import: None,
    };
    let referred = !context.touches.is_empty();
    let joined = |program: Program, f: &JoinForm| {
        (
            StatusCode::CREATED,
            JoinedPage {
                embed: f.embed == "1",
                first_name: f.first_name.trim().to_string(),
                email: draft.email.clone(),
                referred,
                program,
            },
        )
            .into_response()
    };
    match enrolment::enrol(&state, &origin, &program, &draft, &context)
        .await
        .map_err(ApiError::from)
    {
        // The welcome email carries the new participant's link.
        Ok(_) => joined(program, &f),
        // Already in: the same answer, and the person (not the visitor) gets a sign-in link to
        // their page by email. Answering 409 here would tell anyone who is in the program.
        Err(err)
            if err.status == StatusCode::CONFLICT
                && err.errors.first().is_some_and(|e| e.field == "email") =>
        {
            if let Err(e) = enrolment_access::send_login_link(&state, &program, &draft.email).await
            {
                return crate::console::error_page(&e.into());
            }
            joined(program, &f)
        }
        Err(err) if err.status.is_client_error() => again(program, f, &err),
        Err(err) => crate::console::error_page(&err),
    }
}
