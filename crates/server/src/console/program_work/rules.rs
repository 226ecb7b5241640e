//! Reward rules: a tab of a program in the console.

use super::super::{
    Console, CsrfForm, FormErrors, Layout, StaffCan, error_page, form_status, with_status,
};
use crate::auth::perm;
use crate::error::ApiError;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use vouch_app::rewards as reward_service;
use vouch_domain::money::{Currency, Money};
use vouch_domain::permission::Action;
use vouch_domain::reward::RuleFields;
use vouch_store::programs::Program;
use vouch_store::rewards::RewardRule;

use super::program;

#[derive(Deserialize, Default, Clone)]
pub(super) struct RuleForm {
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
pub(super) struct RulesPage {
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
        crate::view::money(*minor, &self.p.currency)
    }
}

pub(super) async fn rules_page(console: Console, Path(id): Path<String>) -> Response {
    let f = RuleForm {
        threshold: "1".into(),
        ..RuleForm::default()
    };
    show_rules(console, id, f, None).await
}

pub(super) async fn show_rules(
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
    let rules = match vouch_app::rewards::rules_with_coupons_left(&console.state, &p.id).await {
        Ok(r) => r,
        Err(e) => return error_page(&e.into()),
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

pub(super) async fn create_rule(
    StaffCan(console, _): StaffCan<perm::RewardsManage>,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<RuleForm>,
) -> Response {
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

pub(super) async fn rule_back(
    console: &Console,
    id: &str,
) -> Result<(RewardRule, String), Response> {
    let r = reward_service::rule(&console.state, id)
        .await
        .map_err(|e| error_page(&e.into()))?;
    let back = format!("/admin/programs/{}/reward-rules", r.program_id);
    Ok((r, back))
}

#[derive(Deserialize, Default)]
pub(super) struct CouponForm {
    /// One code per line (or separated by commas).
    #[serde(default)]
    codes: String,
    #[serde(default)]
    active: String,
}

pub(super) async fn add_coupons(
    StaffCan(console, _): StaffCan<perm::RewardsManage>,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<CouponForm>,
) -> Response {
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

pub(super) async fn set_rule_active(
    StaffCan(console, _): StaffCan<perm::RewardsManage>,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<CouponForm>,
) -> Response {
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
