//! A program's day-to-day work in the console: participants (and enrolling one), referrals
//! with their review queue and stage decisions, rewards with delivery and revocation,
//! clawbacks, and reward rules with their coupon pools. Every action goes through the same
//! use cases in `vouch_app` as the API.

use super::{Console, FormBody, FormErrors, Layout, error_page, form_status, with_status};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use vouch_app::{participants as enrolment, rewards as reward_service};
use vouch_domain::money::{Currency, Money};
use vouch_domain::participant::ParticipantFields;
use vouch_domain::permission::Action;
use vouch_domain::referral::Stage;
use vouch_domain::reward::{RewardStatus, RuleFields};
use vouch_store::participants::{self, Participant};
use vouch_store::programs::Program;
use vouch_store::referrals::{self, Referral, StageChange};
use vouch_store::rewards::{self, Clawback, Reward, RewardRule};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/programs/{id}/participants",
            get(participants_page).post(enrol),
        )
        .route("/admin/programs/{id}/referrals", get(referrals_page))
        .route("/admin/referrals/{id}", get(referral_page))
        .route("/admin/referrals/{id}/review", post(review))
        .route("/admin/referrals/{id}/stage", post(set_stage))
        .route("/admin/programs/{id}/rewards", get(rewards_page))
        .route("/admin/rewards/{id}/deliver", post(deliver))
        .route("/admin/rewards/{id}/revoke", post(revoke))
        .route("/admin/clawbacks/{id}/decide", post(decide_clawback))
        .route(
            "/admin/programs/{id}/reward-rules",
            get(rules_page).post(create_rule),
        )
        .route("/admin/reward-rules/{id}/coupons", post(add_coupons))
        .route("/admin/reward-rules/{id}/active", post(set_rule_active))
        .route("/admin/programs/{id}/import", get(import_page).post(import))
        .route("/admin/programs/{id}/dashboard", get(dashboard_page))
}

const PAGE: i64 = 50;

async fn program(console: &Console, id: &str) -> Result<Program, Response> {
    vouch_app::programs::get(&console.state, id)
        .await
        .map_err(|e| error_page(&e.into()))
}

/// The cursor of the next page, when there is one; trims the extra row.
fn next_cursor<T>(rows: &mut Vec<T>, id: impl Fn(&T) -> String) -> Option<String> {
    let more = i64::try_from(rows.len()).unwrap_or(i64::MAX) > PAGE;
    rows.truncate(usize::try_from(PAGE).unwrap_or(50));
    if more { rows.last().map(id) } else { None }
}

fn nonempty(s: &str) -> Option<&str> {
    Some(s.trim()).filter(|s| !s.is_empty())
}

// ---- participants -------------------------------------------------------------------------

#[derive(Deserialize, Default)]
struct ListParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    starting_after: String,
    #[serde(default)]
    stage: String,
    #[serde(default)]
    review: String,
    #[serde(default)]
    status: String,
}

#[derive(Deserialize, Default, Clone)]
struct EnrolForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    referred_by: String,
    #[serde(default)]
    company: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "programs/participants.html")]
struct ParticipantsPage {
    l: Layout,
    p: Program,
    rows: Vec<Participant>,
    q: String,
    next_url: Option<String>,
    can_write: bool,
    base_url: String,
    f: EnrolForm,
    errors: FormErrors,
}

async fn participants_page(
    console: Console,
    Path(id): Path<String>,
    Query(params): Query<ListParams>,
) -> Response {
    show_participants(console, id, params, EnrolForm::default(), None).await
}

async fn show_participants(
    mut console: Console,
    id: String,
    params: ListParams,
    f: EnrolForm,
    err: Option<ApiError>,
) -> Response {
    if let Err(r) = console.require(Action::ProgramsRead).await {
        return r;
    }
    let p = match program(&console, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let rows = async {
        let mut conn = console.state.store.conn().await?;
        participants::list(
            &mut conn,
            &p.id,
            nonempty(&params.q),
            nonempty(&params.starting_after),
            PAGE,
        )
        .await
    }
    .await;
    let mut rows = match rows {
        Ok(r) => r,
        Err(e) => return error_page(&e.into()),
    };
    let next_url = next_cursor(&mut rows, |r| r.id.clone()).map(|c| {
        format!(
            "/admin/programs/{}/participants?q={}&starting_after={c}",
            p.id,
            form_urlencoded::byte_serialize(params.q.as_bytes()).collect::<String>()
        )
    });
    let status = err.as_ref().map_or(StatusCode::OK, form_status);
    let errors = err.map_or_else(FormErrors::default, |e| {
        FormErrors::from_api(
            &e,
            "",
            &["email", "first_name", "last_name", "referred_by", "company"],
        )
    });
    let page = ParticipantsPage {
        l: console.layout("programs"),
        can_write: console.may(Action::ProgramsWrite),
        base_url: console.state.settings.base_url.clone(),
        p,
        rows,
        q: params.q,
        next_url,
        f,
        errors,
    };
    with_status(status, page)
}

async fn enrol(
    console: Console,
    Path(id): Path<String>,
    FormBody(f): FormBody<EnrolForm>,
) -> Response {
    if let Err(r) = console.require(Action::ProgramsWrite).await {
        return r;
    }
    if let Err(r) = console.check_csrf(&f.csrf) {
        return r;
    }
    let p = match program(&console, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let fields = ParticipantFields {
        email: f.email.clone(),
        first_name: f.first_name.clone(),
        last_name: f.last_name.clone(),
        referred_by: f.referred_by.clone(),
        ip_address: String::new(),
        company: f.company.clone(),
    };
    let outcome = match fields.parse() {
        Ok(draft) => enrolment::enrol(
            &console.state,
            &console.origin,
            &p,
            &draft,
            &Default::default(),
        )
        .await
        .map_err(ApiError::from),
        Err(v) => Err(ApiError::from(v)),
    };
    match outcome {
        Ok((participant, referral)) => {
            let note = if referral.is_some() {
                ", referral recorded"
            } else {
                ""
            };
            console
                .redirect_with(
                    &format!("/admin/programs/{}/participants", p.id),
                    &format!(
                        "Enrolled {} with code {}{note}.",
                        participant.email, participant.code
                    ),
                )
                .await
        }
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            show_participants(console, id, ListParams::default(), f, Some(e)).await
        }
        Err(e) => error_page(&e),
    }
}

// ---- referrals ----------------------------------------------------------------------------

/// A referral row with the people's addresses, for reading.
pub struct ReferralRow {
    pub r: Referral,
    pub referrer: String,
    pub referred: String,
}

async fn with_people(console: &Console, rows: Vec<Referral>) -> Result<Vec<ReferralRow>, ApiError> {
    let mut conn = console.state.store.conn().await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let referrer = participants::get(&mut conn, &r.referrer_id)
            .await?
            .map_or_else(|| r.referrer_id.clone(), |p| p.email);
        let referred = participants::get(&mut conn, &r.referred_id)
            .await?
            .map_or_else(|| r.referred_id.clone(), |p| p.email);
        out.push(ReferralRow {
            r,
            referrer,
            referred,
        });
    }
    Ok(out)
}

#[derive(Template, WebTemplate)]
#[template(path = "programs/referrals.html")]
struct ReferralsPage {
    l: Layout,
    p: Program,
    rows: Vec<ReferralRow>,
    stage: String,
    review: String,
    next_url: Option<String>,
    tab: &'static str,
}

async fn referrals_page(
    mut console: Console,
    Path(id): Path<String>,
    Query(params): Query<ListParams>,
) -> Response {
    if let Err(r) = console.require(Action::ProgramsRead).await {
        return r;
    }
    let p = match program(&console, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let stage = nonempty(&params.stage).and_then(|s| s.parse::<Stage>().ok());
    let review = nonempty(&params.review)
        .filter(|r| matches!(*r, "none" | "pending" | "cleared" | "junk"))
        .map(str::to_string);
    let filter = referrals::Filter {
        stage,
        referrer_id: None,
        review: review.clone(),
    };
    let rows = async {
        let mut conn = console.state.store.conn().await?;
        referrals::list(
            &mut conn,
            &p.id,
            &filter,
            nonempty(&params.starting_after),
            PAGE,
        )
        .await
    }
    .await;
    let mut rows = match rows {
        Ok(r) => r,
        Err(e) => return error_page(&e.into()),
    };
    let stage_text = stage.map(|s| s.as_str().to_string()).unwrap_or_default();
    let review_text = review.unwrap_or_default();
    let next_url = next_cursor(&mut rows, |r| r.id.clone()).map(|c| {
        format!(
            "/admin/programs/{}/referrals?stage={stage_text}&review={review_text}&starting_after={c}",
            p.id
        )
    });
    let rows = match with_people(&console, rows).await {
        Ok(r) => r,
        Err(e) => return error_page(&e),
    };
    ReferralsPage {
        l: console.layout("programs"),
        tab: if review_text == "pending" {
            "review"
        } else {
            "referrals"
        },
        p,
        rows,
        stage: stage_text,
        review: review_text,
        next_url,
    }
    .into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "programs/referral.html")]
struct ReferralPage {
    l: Layout,
    p: Program,
    row: ReferralRow,
    history: Vec<StageChange>,
    rewards: Vec<Reward>,
    can_write: bool,
}

async fn referral_page(mut console: Console, Path(id): Path<String>) -> Response {
    if let Err(r) = console.require(Action::ProgramsRead).await {
        return r;
    }
    let loaded = async {
        let mut conn = console.state.store.conn().await?;
        let Some(r) = referrals::get(&mut conn, &id).await? else {
            return Err(ApiError::not_found("referral"));
        };
        let history = referrals::history(&mut conn, &r.id).await?;
        let filter = rewards::Filter::default();
        let rewards: Vec<Reward> = rewards::list(&mut conn, &r.program_id, &filter, None, 500)
            .await?
            .into_iter()
            .filter(|w| w.referral_id.as_deref() == Some(r.id.as_str()))
            .collect();
        Ok((r, history, rewards))
    }
    .await;
    let (r, history, rewards) = match loaded {
        Ok(found) => found,
        Err(e) => return error_page(&e),
    };
    let p = match program(&console, &r.program_id).await {
        Ok(p) => p,
        Err(resp) => return resp,
    };
    let row = match with_people(&console, vec![r]).await {
        Ok(mut rows) => match rows.pop() {
            Some(row) => row,
            None => return error_page(&ApiError::not_found("referral")),
        },
        Err(e) => return error_page(&e),
    };
    ReferralPage {
        l: console.layout("programs"),
        can_write: console.may(Action::ProgramsWrite),
        p,
        row,
        history,
        rewards,
    }
    .into_response()
}

#[derive(Deserialize, Default)]
struct DecisionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    stage: String,
}

async fn review(
    console: Console,
    Path(id): Path<String>,
    FormBody(f): FormBody<DecisionForm>,
) -> Response {
    if let Err(r) = console.require(Action::ProgramsWrite).await {
        return r;
    }
    if let Err(r) = console.check_csrf(&f.csrf) {
        return r;
    }
    let outcome = enrolment::review_referral(
        &console.state,
        &console.origin,
        &id,
        f.decision.trim(),
        f.reason.trim(),
    )
    .await
    .map_err(ApiError::from)
    .map(|r| match r.review.as_str() {
        "cleared" => "Referral cleared: it counts from now on.".to_string(),
        _ => "Referral marked junk.".to_string(),
    });
    console
        .finish(&format!("/admin/referrals/{id}"), outcome)
        .await
}

async fn set_stage(
    console: Console,
    Path(id): Path<String>,
    FormBody(f): FormBody<DecisionForm>,
) -> Response {
    if let Err(r) = console.require(Action::ProgramsWrite).await {
        return r;
    }
    if let Err(r) = console.check_csrf(&f.csrf) {
        return r;
    }
    let outcome = match f.stage.trim().parse::<Stage>() {
        Ok(stage) => enrolment::set_referral_stage(
            &console.state,
            &console.origin,
            &id,
            stage,
            nonempty(&f.reason),
        )
        .await
        .map_err(ApiError::from)
        .map(|r| format!("Referral moved to {}.", r.stage)),
        Err(m) => Err(ApiError::field("stage", m)),
    };
    console
        .finish(&format!("/admin/referrals/{id}"), outcome)
        .await
}

// ---- rewards ------------------------------------------------------------------------------

/// A reward with its recipient's address and how it reads.
pub struct RewardRow {
    pub w: Reward,
    pub who: String,
    pub title: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "programs/rewards.html")]
struct RewardsPage {
    l: Layout,
    p: Program,
    rows: Vec<RewardRow>,
    status: String,
    next_url: Option<String>,
    clawbacks: Vec<(Clawback, String)>,
    can_manage: bool,
}

async fn rewards_page(
    mut console: Console,
    Path(id): Path<String>,
    Query(params): Query<ListParams>,
) -> Response {
    if let Err(r) = console.require(Action::ProgramsRead).await {
        return r;
    }
    let p = match program(&console, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let status = nonempty(&params.status).and_then(|s| s.parse::<RewardStatus>().ok());
    let filter = rewards::Filter {
        status,
        participant_id: None,
    };
    let loaded = async {
        let mut conn = console.state.store.conn().await?;
        let mut rows = rewards::list(
            &mut conn,
            &p.id,
            &filter,
            nonempty(&params.starting_after),
            PAGE,
        )
        .await?;
        let next = next_cursor(&mut rows, |r| r.id.clone());
        let mut out = Vec::with_capacity(rows.len());
        for w in rows {
            let who = participants::get(&mut conn, &w.participant_id)
                .await?
                .map_or_else(|| w.participant_id.clone(), |p| p.email);
            out.push(RewardRow {
                title: reward_service::title(&w),
                w,
                who,
            });
        }
        let mut clawbacks = Vec::new();
        for c in rewards::clawbacks(&mut conn, &p.id, "open").await? {
            let title = rewards::get(&mut conn, &c.reward_id)
                .await?
                .map(|w| reward_service::title(&w))
                .unwrap_or_default();
            clawbacks.push((c, title));
        }
        Ok::<_, ApiError>((out, next, clawbacks))
    }
    .await;
    let (rows, next, clawbacks) = match loaded {
        Ok(found) => found,
        Err(e) => return error_page(&e),
    };
    let status_text = status.map(|s| s.as_str().to_string()).unwrap_or_default();
    RewardsPage {
        l: console.layout("programs"),
        can_manage: console.may(Action::RewardsManage),
        next_url: next.map(|c| {
            format!(
                "/admin/programs/{}/rewards?status={status_text}&starting_after={c}",
                p.id
            )
        }),
        p,
        rows,
        status: status_text,
        clawbacks,
    }
    .into_response()
}

/// Where a reward action returns to: the rewards page of its program.
async fn rewards_back(console: &Console, reward_id: &str) -> String {
    let reward = async {
        let mut conn = console.state.store.conn().await.ok()?;
        rewards::get(&mut conn, reward_id).await.ok().flatten()
    }
    .await;
    reward.map_or_else(
        || "/admin/programs".to_string(),
        |w| format!("/admin/programs/{}/rewards", w.program_id),
    )
}

async fn deliver(
    console: Console,
    Path(id): Path<String>,
    FormBody(f): FormBody<DecisionForm>,
) -> Response {
    if let Err(r) = console.require(Action::RewardsManage).await {
        return r;
    }
    if let Err(r) = console.check_csrf(&f.csrf) {
        return r;
    }
    let back = rewards_back(&console, &id).await;
    let outcome = reward_service::deliver(&console.state, &console.origin, &id)
        .await
        .map_err(ApiError::from)
        .map(|w| match w.coupon_code {
            Some(code) => format!("Reward delivered with code {code}."),
            None => "Reward delivered.".to_string(),
        });
    console.finish(&back, outcome).await
}

async fn revoke(
    console: Console,
    Path(id): Path<String>,
    FormBody(f): FormBody<DecisionForm>,
) -> Response {
    if let Err(r) = console.require(Action::RewardsManage).await {
        return r;
    }
    if let Err(r) = console.check_csrf(&f.csrf) {
        return r;
    }
    let back = rewards_back(&console, &id).await;
    let outcome = match nonempty(&f.reason) {
        Some(reason) => reward_service::revoke(&console.state, &console.origin, &id, reason)
            .await
            .map_err(ApiError::from)
            .map(|_| "Reward revoked.".to_string()),
        None => Err(ApiError::field("reason", "say why the reward is revoked")),
    };
    console.finish(&back, outcome).await
}

async fn decide_clawback(
    console: Console,
    Path(id): Path<String>,
    FormBody(f): FormBody<DecisionForm>,
) -> Response {
    if let Err(r) = console.require(Action::RewardsManage).await {
        return r;
    }
    if let Err(r) = console.check_csrf(&f.csrf) {
        return r;
    }
    let back = async {
        let mut conn = console.state.store.conn().await.ok()?;
        rewards::get_clawback(&mut conn, &id).await.ok().flatten()
    }
    .await
    .map_or_else(
        || "/admin/programs".to_string(),
        |c| format!("/admin/programs/{}/rewards", c.program_id),
    );
    let outcome =
        reward_service::decide_clawback(&console.state, &console.origin, &id, f.decision.trim())
            .await
            .map_err(ApiError::from)
            .map(|c| format!("Clawback {}.", c.status));
    console.finish(&back, outcome).await
}

// ---- reward rules -------------------------------------------------------------------------

#[derive(Deserialize, Default, Clone)]
struct RuleForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    trigger: String,
    #[serde(default)]
    threshold: String,
    #[serde(default)]
    sides: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    friend_amount: String,
    #[serde(default)]
    friend_description: String,
    #[serde(default)]
    max_per_participant: String,
    #[serde(default)]
    delivery: String,
}

impl RuleForm {
    /// The rule as the API takes it: people type amounts in major units of the program's
    /// currency (`10` or `10.00` is USD 10.00); the rule carries minor units. Every field that
    /// cannot be read is reported at once.
    fn fields(&self, currency: Currency) -> Result<RuleFields, ApiError> {
        let mut errors = Vec::new();
        let mut problem = |field: &str, message: String| {
            errors.push(vouch_domain::FieldError {
                field: field.into(),
                message,
            })
        };
        let mut number = |field: &str, raw: &str| match raw.trim() {
            "" => None,
            t => t.parse::<i64>().map(Some).unwrap_or_else(|_| {
                problem(field, "must be a whole number".into());
                None
            }),
        };
        let threshold = number("threshold", &self.threshold).unwrap_or(0);
        let max_per_participant = number("max_per_participant", &self.max_per_participant);
        let mut money = |field: &str, raw: &str| match raw.trim() {
            "" => None,
            t => match Money::parse_major(t, currency) {
                Ok(m) => Some(m.minor()),
                Err(e) => {
                    problem(field, e.to_string());
                    None
                }
            },
        };
        let amount = money("amount", &self.amount);
        let friend_amount = money("friend_amount", &self.friend_amount);
        if !errors.is_empty() {
            return Err(ApiError::invalid(errors));
        }
        Ok(RuleFields {
            name: self.name.clone(),
            trigger: self.trigger.clone(),
            threshold,
            sides: self.sides.clone(),
            kind: self.kind.clone(),
            amount,
            description: self.description.clone(),
            friend_amount,
            friend_description: self.friend_description.clone(),
            max_per_participant,
            delivery: self.delivery.clone(),
        })
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "programs/rules.html")]
struct RulesPage {
    l: Layout,
    p: Program,
    rules: Vec<(RewardRule, i64)>,
    can_manage: bool,
    f: RuleForm,
    errors: FormErrors,
}

impl RulesPage {
    /// `USD 25.00` for 2500 minor units of the program's currency.
    fn money(&self, minor: &i64) -> String {
        vouch_domain::money::format(*minor, &self.p.currency)
    }
}

async fn rules_page(console: Console, Path(id): Path<String>) -> Response {
    let f = RuleForm {
        threshold: "1".into(),
        ..RuleForm::default()
    };
    show_rules(console, id, f, None).await
}

async fn show_rules(
    mut console: Console,
    id: String,
    f: RuleForm,
    err: Option<ApiError>,
) -> Response {
    if let Err(r) = console.require(Action::ProgramsRead).await {
        return r;
    }
    let p = match program(&console, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let loaded = async {
        let mut conn = console.state.store.conn().await?;
        let mut out = Vec::new();
        for r in rewards::rules(&mut conn, &p.id, false).await? {
            let left = rewards::coupons_left(&mut conn, &r.id).await?;
            out.push((r, left));
        }
        Ok::<_, ApiError>(out)
    }
    .await;
    let rules = match loaded {
        Ok(r) => r,
        Err(e) => return error_page(&e),
    };
    let status = err.as_ref().map_or(StatusCode::OK, form_status);
    let errors = err.map_or_else(FormErrors::default, |e| {
        FormErrors::from_api(
            &e,
            "",
            &[
                "name",
                "trigger",
                "threshold",
                "sides",
                "kind",
                "amount",
                "description",
                "friend_amount",
                "friend_description",
                "max_per_participant",
                "delivery",
            ],
        )
    });
    let page = RulesPage {
        l: console.layout("programs"),
        can_manage: console.may(Action::RewardsManage),
        p,
        rules,
        f,
        errors,
    };
    with_status(status, page)
}

async fn create_rule(
    console: Console,
    Path(id): Path<String>,
    FormBody(f): FormBody<RuleForm>,
) -> Response {
    if let Err(r) = console.require(Action::RewardsManage).await {
        return r;
    }
    if let Err(r) = console.check_csrf(&f.csrf) {
        return r;
    }
    let p = match program(&console, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let fields = match reward_service::currency(&p)
        .map_err(ApiError::from)
        .and_then(|currency| f.fields(currency))
    {
        Ok(fields) => fields,
        Err(e) => return show_rules(console, id, f, Some(e)).await,
    };
    match reward_service::create_rule(&console.state, &console.origin, &p.id, &fields).await {
        Ok(rule) => {
            console
                .redirect_with(
                    &format!("/admin/programs/{}/reward-rules", p.id),
                    &format!(
                        "Rule “{}” added; referrals won from now on count toward it.",
                        rule.name
                    ),
                )
                .await
        }
        Err(e) if e.is_client_error() => show_rules(console, id, f, Some(e.into())).await,
        Err(e) => error_page(&e.into()),
    }
}

async fn rule_back(console: &Console, id: &str) -> Result<(RewardRule, String), Response> {
    let found = async {
        let mut conn = console.state.store.conn().await?;
        rewards::get_rule(&mut conn, id).await
    }
    .await;
    match found {
        Ok(Some(r)) => {
            let back = format!("/admin/programs/{}/reward-rules", r.program_id);
            Ok((r, back))
        }
        Ok(None) => Err(error_page(&ApiError::not_found("reward rule"))),
        Err(e) => Err(error_page(&e.into())),
    }
}

#[derive(Deserialize, Default)]
struct CouponForm {
    #[serde(default)]
    csrf: String,
    /// One code per line (or separated by commas).
    #[serde(default)]
    codes: String,
    #[serde(default)]
    active: String,
}

async fn add_coupons(
    console: Console,
    Path(id): Path<String>,
    FormBody(f): FormBody<CouponForm>,
) -> Response {
    if let Err(r) = console.require(Action::RewardsManage).await {
        return r;
    }
    if let Err(r) = console.check_csrf(&f.csrf) {
        return r;
    }
    let (rule, back) = match rule_back(&console, &id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    // One code per line (or comma separated); blank lines are not codes.
    let codes: Vec<String> = f
        .codes
        .split([',', '\n', '\r'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect();
    let outcome = reward_service::add_coupons(&console.state, &console.origin, &rule.id, &codes)
        .await
        .map(|done| {
            format!(
                "{} code{} added; {} already in the pool.",
                done.added,
                if done.added == 1 { "" } else { "s" },
                done.skipped
            )
        })
        .map_err(ApiError::from);
    console.finish(&back, outcome).await
}

async fn set_rule_active(
    console: Console,
    Path(id): Path<String>,
    FormBody(f): FormBody<CouponForm>,
) -> Response {
    if let Err(r) = console.require(Action::RewardsManage).await {
        return r;
    }
    if let Err(r) = console.check_csrf(&f.csrf) {
        return r;
    }
    let (rule, back) = match rule_back(&console, &id).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let active = f.active == "on";
    let outcome =
        reward_service::set_rule_active(&console.state, &console.origin, &rule.id, active)
            .await
            .map(|rule| {
                if active {
                    format!("Rule “{}” is active again.", rule.name)
                } else {
                    format!("Rule “{}” is off: it earns nothing new.", rule.name)
                }
            })
            .map_err(ApiError::from);
    console.finish(&back, outcome).await
}

// ---- import -------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
struct ImportForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    csv: String,
    /// `HEADER=FIELD`, one per line.
    #[serde(default)]
    mapping: String,
    /// `check` (a dry run) or `import`.
    #[serde(default)]
    action: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "programs/import.html")]
struct ImportPage {
    l: Layout,
    p: Program,
    csv: String,
    mapping: String,
    report: Option<vouch_app::import::ImportReport>,
    /// A problem with the whole file (no email column, a bad mapping).
    problem: Option<String>,
}

async fn import_page(mut console: Console, Path(id): Path<String>) -> Response {
    if let Err(r) = console.require(Action::ProgramsWrite).await {
        return r;
    }
    let p = match program(&console, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    ImportPage {
        l: console.layout("programs"),
        p,
        csv: String::new(),
        mapping: String::new(),
        report: None,
        problem: None,
    }
    .into_response()
}

async fn import(
    mut console: Console,
    Path(id): Path<String>,
    FormBody(f): FormBody<ImportForm>,
) -> Response {
    if let Err(r) = console.require(Action::ProgramsWrite).await {
        return r;
    }
    if let Err(r) = console.check_csrf(&f.csrf) {
        return r;
    }
    let p = match program(&console, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let mapping: Vec<String> = f
        .mapping
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    let dry_run = f.action != "import";
    let outcome = match vouch_app::import::parse_file(&f.csv, &mapping) {
        Ok(parsed) => vouch_app::import::import_participants(
            &console.state,
            &console.origin,
            &p,
            parsed,
            dry_run,
            |_| {},
        )
        .await
        .map_err(ApiError::from)
        .map(Some),
        Err(e) => Err(e.into()),
    };
    let (report, problem, status) = match outcome {
        Ok(report) => (report, None, StatusCode::OK),
        Err(e) if e.status.is_client_error() => {
            let message = e
                .errors
                .first()
                .map_or(e.detail.clone(), |f| f.message.clone());
            (None, Some(message), StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => return error_page(&e),
    };
    let page = ImportPage {
        l: console.layout("programs"),
        p,
        csv: f.csv,
        mapping: f.mapping,
        report,
        problem,
    };
    with_status(status, page)
}

// ---- dashboard ----------------------------------------------------------------------------

#[derive(Deserialize, Default)]
struct RangeParams {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "programs/dashboard.html")]
struct DashboardPage {
    l: Layout,
    p: Program,
    d: vouch_app::stats::Dashboard,
    chart: vouch_app::stats::Chart,
    from: String,
    to: String,
    problem: Option<String>,
}

impl DashboardPage {
    fn money(&self, amount: &i64, currency: &str) -> String {
        vouch_domain::money::format(*amount, currency)
    }
}

async fn dashboard_page(
    mut console: Console,
    Path(id): Path<String>,
    Query(q): Query<RangeParams>,
) -> Response {
    use vouch_app::stats;
    if let Err(r) = console.require(Action::ProgramsRead).await {
        return r;
    }
    let p = match program(&console, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (range, problem) = match stats::parse_range(&q.from, &q.to) {
        Ok(r) => (r, None),
        Err(e) => {
            let message = e
                .field_errors()
                .first()
                .map_or(e.detail(), |f| format!("{}: {}", f.field, f.message));
            match stats::parse_range("", "") {
                Ok(r) => (r, Some(message)),
                Err(e) => return error_page(&e.into()),
            }
        }
    };
    let d = match stats::dashboard(&console.state, &p, range)
        .await
        .map_err(ApiError::from)
    {
        Ok(d) => d,
        Err(e) => return error_page(&e),
    };
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = DashboardPage {
        l: console.layout("programs"),
        chart: stats::chart(&d),
        from: if problem.is_some() {
            q.from
        } else {
            d.from.clone()
        },
        to: if problem.is_some() {
            q.to
        } else {
            d.to.clone()
        },
        p,
        d,
        problem,
    };
    with_status(status, page)
}
