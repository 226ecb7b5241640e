//! Referrals: a tab of a program in the console.

use super::super::{Console, CsrfForm, Layout, StaffCan, error_page};
use crate::auth::perm;
use crate::console::table::{Column, list_url, sort_headers};
use crate::error::ApiError;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Response};
use vouch_app::participants as enrolment;
use vouch_domain::permission::Action;
use vouch_domain::referral::Stage;
use vouch_store::programs::Program;
use vouch_store::referrals::{self, Referral, StageChange};
use vouch_store::rewards::Reward;

use super::{DecisionForm, ListParams, PAGE, next_cursor, nonempty, program};

/// A referral row with the people's addresses, for reading.
pub struct ReferralRow {
    pub r: Referral,
    pub referrer: String,
    pub referred: String,
}

pub(super) async fn with_people(
    console: &Console,
    rows: Vec<Referral>,
) -> Result<Vec<ReferralRow>, ApiError> {
    let ids: Vec<&str> = rows
        .iter()
        .flat_map(|r| [r.referrer_id.as_str(), r.referred_id.as_str()])
        .collect();
    let mut people = enrolment::find_each(&console.state, &ids)
        .await?
        .into_iter();
    let mut email_or = |id: &str| {
        people
            .next()
            .flatten()
            .map_or_else(|| id.to_string(), |p| p.email)
    };
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let referrer = email_or(&r.referrer_id);
        let referred = email_or(&r.referred_id);
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
pub(super) struct ReferralsPage {
    l: Layout,
    p: Program,
    rows: Vec<ReferralRow>,
    stage: String,
    review: String,
    next_url: Option<String>,
    tab: &'static str,
    /// The review queue offers ticking referrals and deciding them together.
    can_review: bool,
    /// How many referrals the filter finds in all.
    total: i64,
    columns: Vec<Column>,
    sort: String,
}

pub(super) async fn referrals_page(
    StaffCan(mut console, _): StaffCan<perm::ProgramsRead>,
    Path(id): Path<String>,
    Query(params): Query<ListParams>,
) -> Response {
    let p = match program(&console, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let stage = nonempty(&params.stage).and_then(|s| s.parse::<Stage>().ok());
    let review = nonempty(&params.review)
        .filter(|r| matches!(*r, "none" | "pending" | "cleared" | "junk"))
        .map(str::to_string);
    let (order, sort) = params.order(referrals::SORTS);
    let filter = referrals::Filter {
        stage,
        referrer_id: None,
        review: review.clone(),
        order,
    };
    let rows = enrolment::list_referrals(
        &console.state,
        &p.id,
        &filter,
        nonempty(&params.starting_after),
        PAGE,
    )
    .await;
    let mut rows = match rows {
        Ok(r) => r,
        Err(e) => return error_page(&e.into()),
    };
    let total = match enrolment::count_referrals(&console.state, &p.id, &filter).await {
        Ok(n) => n,
        Err(e) => return error_page(&e.into()),
    };
    let stage_text = stage.map(|s| s.as_str().to_string()).unwrap_or_default();
    let review_text = review.unwrap_or_default();
    let path = format!("/admin/programs/{}/referrals", p.id);
    let next_url = next_cursor(&mut rows, |r| r.id.clone()).map(|c| {
        list_url(
            &path,
            &[
                ("stage", &stage_text),
                ("review", &review_text),
                ("sort", &sort),
                ("starting_after", &c),
            ],
        )
    });
    let columns = sort_headers(
        &[
            ("", "Referrer"),
            ("", "Referred"),
            ("source", "Source"),
            ("stage", "Stage"),
            ("", "Flags"),
            ("created_at", "Created"),
        ],
        &sort,
        |s| {
            list_url(
                &path,
                &[
                    ("stage", &stage_text),
                    ("review", &review_text),
                    ("sort", s),
                ],
            )
        },
    );
    let rows = match with_people(&console, rows).await {
        Ok(r) => r,
        Err(e) => return error_page(&e),
    };
    let can_review = console.may(Action::ReferralsReview);
    ReferralsPage {
        columns,
        sort,
        total,
        can_review,
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
pub(super) struct ReferralPage {
    l: Layout,
    p: Program,
    row: ReferralRow,
    history: Vec<StageChange>,
    rewards: Vec<Reward>,
    can_write: bool,
    can_review: bool,
}

pub(super) async fn referral_page(
    StaffCan(mut console, _): StaffCan<perm::ProgramsRead>,
    Path(id): Path<String>,
) -> Response {
    let loaded = async {
        let r = enrolment::get_referral(&console.state, &id).await?;
        let history = enrolment::referral_history(&console.state, &r.id).await?;
        let rewards = vouch_app::rewards::rewards_of_referral(&console.state, &r).await?;
        Ok::<_, ApiError>((r, history, rewards))
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
        can_review: console.may(Action::ReferralsReview),
        p,
        row,
        history,
        rewards,
    }
    .into_response()
}

pub(super) async fn review(
    StaffCan(console, _): StaffCan<perm::ReferralsReview>,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<DecisionForm>,
) -> Response {
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

/// Clears or junks every ticked referral of the review queue, with one reason.
pub(super) async fn review_ticked(
    StaffCan(console, _): StaffCan<perm::ReferralsReview>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<std::collections::HashMap<String, String>>,
) -> Response {
    let back = format!("/admin/programs/{id}/referrals?review=pending");
    let ids = super::super::picked_ids(&form);
    let decision = form.get("decision").map(|d| d.trim()).unwrap_or_default();
    let reason = form.get("reason").map(|r| r.trim()).unwrap_or_default();
    let verb = if decision == "junk" {
        "marked junk"
    } else {
        "cleared"
    };
    let outcome =
        enrolment::review_many(&console.state, &console.origin, &id, &ids, decision, reason)
            .await
            .map_err(ApiError::from)
            .map(|outcomes| super::super::bulk_message("referral(s)", verb, &outcomes));
    console.finish(&back, outcome).await
}

pub(super) async fn set_stage(
    StaffCan(console, _): StaffCan<perm::ProgramsWrite>,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<DecisionForm>,
) -> Response {
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
